// SPDX-License-Identifier: GPL-2.0
/*
 * paths.c - the rarer paths of the KSM core and of the machine paths it
 * stands on, each driven on purpose: a page reused on write after its
 * sharer exits, a fork of swapped-out and migrating pages, a page pinned
 * by get_user_pages() that ksmd must not merge, a forked page met in the
 * unstable tree, an mm that exits with its rmap_items still in the trees,
 * a fault that meets a migration, the knobs, and the library's refusals.
 * Where two actors must meet at one point, a script of race windows and
 * lock points puts them there, so that every run is the same run.
 *
 * Each test prints "ok NAME" or "FAIL NAME: why"; the auditor runs after
 * each; the exit status is the number of failures, 2 for bad arguments.
 * make coverage and make mutants-all find the paths that need a test here
 * (walkthrough.md, chapter 9).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ksm_ref.h"

static int failures;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		printf("FAIL %s: ", __func__);				\
		printf(__VA_ARGS__);					\
		printf(" (%s:%d: %s)\n", __FILE__, __LINE__, #cond);	\
		failures++;						\
		sim_exit();						\
		return;							\
	}								\
} while (0)

/** A machine of 4 sections of 256 pages on 2 nodes, in \a era. */
static void start(enum ksm_era era)
{
	struct sim_config cfg = { .nr_sections = 4, .era = era };

	if (sim_init(&cfg)) {
		printf("FAIL: sim_init\n");
		exit(1);
	}
	sim_set_quiet(true);
}

/** The audit, then the machine torn down; "ok NAME" if all was well. */
static void finish(const char *name)
{
	unsigned long bad = audit_machine(NULL, true);

	sim_exit();
	if (bad) {
		printf("FAIL %s: the auditor found %lu violations\n", name,
		       bad);
		failures++;
		return;
	}
	printf("ok %s\n", name);
}

/** Fill page \a vpn of \a mm with \a byte, and its first bytes with \a tag. */
static void fill(struct mm_struct *mm, unsigned long vpn, int byte)
{
	sim_process_fill(mm, vpn, byte);
}

/** The counters now. */
static struct ksm_counters counters(void)
{
	struct ksm_counters c;

	ksm_get_counters(&c);
	return c;
}

/*
 * A write fault on a page no one else maps any more reuses it, as
 * do_wp_page() does when reuse_swap_page() says the page is ours alone:
 * the child that shared it has exited.
 */
static void test_wp_reuse(void)
{
	struct mm_struct *p, *c;
	long pfn;

	start(ERA_KEYHOLE);
	p = sim_process_create("P", 4);
	fill(p, 1, 'a');
	c = sim_process_fork(p, "C");
	CHECK(c, "fork");
	pfn = sim_process_pfn(p, 1);
	CHECK(sim_process_exit(c) == 0, "exit");
	fill(p, 1, 'b');
	CHECK(sim_process_pfn(p, 1) == pfn,
	      "the write copied (pfn %ld, was %ld): the page was not reused",
	      sim_process_pfn(p, 1), pfn);
	CHECK(sim_page_count(pfn) == 1, "count %ld", sim_page_count(pfn));
	CHECK(!sim_process_verify(p, true), "bytes");
	finish(__func__);
}

/*
 * Fork copies a swap entry (swap_duplicate()); both processes then read
 * their page back from the one slot, and each write copies.
 */
static void test_fork_swapped(void)
{
	struct mm_struct *p, *c;
	struct sim_mem_stats st;
	char b = 0;

	start(ERA_KEYHOLE);
	p = sim_process_create("P", 4);
	fill(p, 0, 'a');
	fill(p, 1, 'b');
	CHECK(sim_reclaim_process_page(p, 0) == 0, "swap-out");
	c = sim_process_fork(p, "C");
	CHECK(c && sim_process_pfn(c, 0) == -1, "the child's pte is a swap "
	      "entry");
	sim_mem_stats(-1, &st);
	CHECK(st.swap_used == 1, "%lu slots used", st.swap_used);
	CHECK(!sim_process_read(c, 0, 0, &b, 1) && b == 'a', "the child "
	      "reads %c", b);
	fill(p, 0, 'z');
	CHECK(!sim_process_verify(p, true) && !sim_process_verify(c, true),
	      "bytes");
	CHECK(sim_process_exit(c) == 0 && sim_process_exit(p) == 0, "exits");
	sim_mem_stats(-1, &st);
	CHECK(st.swap_used == 0 && st.nr_used == 0, "%lu slots, %lu frames "
	      "left", st.swap_used, st.nr_used);
	finish(__func__);
}

/*
 * A page of a shared file mapping is mapped read-only by a read fault
 * (or by migration); a write then makes the same pte writable: the file's
 * page itself is written, no copy.
 */
static void test_file_write_after_read(void)
{
	struct address_space *f;
	struct mm_struct *m;
	long pfn;
	char b = 0;

	start(ERA_EXCHANGE);
	f = sim_file_create("F", 2, 'f', true);
	m = sim_process_map_file("M", f);
	CHECK(f && m, "file");
	CHECK(!sim_process_read(m, 1, 0, &b, 1) && b == 'f', "read %c", b);
	pfn = sim_process_pfn(m, 1);
	CHECK(!sim_process_write(m, 1, 0, "w", 1), "write");
	CHECK(sim_process_pfn(m, 1) == pfn, "a shared mapping must write the "
	      "file's own page");
	CHECK(!sim_process_verify(m, true) && !sim_file_verify(f, true),
	      "bytes");
	CHECK(sim_process_exit(m) == 0 && sim_file_destroy(f) == 0, "exit");
	finish(__func__);
}

/* The sysfs knobs: pages_to_scan, sleep_millisecs, and the counters. */
static void test_knobs(void)
{
	struct mm_struct *a;
	struct ksm_counters c;
	int i;

	start(ERA_MIGRATION);
	CHECK(ksm_set_pages_to_scan(0) == -EINVAL, "pages_to_scan 0");
	CHECK(ksm_set_pages_to_scan(3) == 0, "pages_to_scan 3");
	CHECK(ksm_set_sleep_millisecs(7) == 0, "sleep_millisecs");
	a = sim_process_create("A", 10);
	for (i = 0; i < 10; i++)
		fill(a, (unsigned long)i, 'k');
	sim_process_madvise(a, true);
	/* ksm_scan_full() scans in batches of pages_to_scan: 4 of them
	 * visit the 10 pages, the 5th ends the scan. */
	ksm_scan_full(2);
	c = counters();
	CHECK(c.full_scans == 2 && c.pages_shared == 1 &&
	      c.pages_sharing == 9, "scans %lu, shared %lu, sharing %lu",
	      c.full_scans, c.pages_shared, c.pages_sharing);
	printf("  ");
	ksm_print_counters("");
	CHECK(ksm_start_thread() == 0, "ksmd");
	CHECK(ksm_start_thread() == -EBUSY, "a second ksmd");
	ksm_stop_thread();
	finish(__func__);
}

/*
 * Hugh's test method, migrate-on-fault: one fault in 1 moves every page
 * of the faulting process to the other node, and the next back again.
 */
static void test_migrate_on_fault(void)
{
	struct mm_struct *a;
	int i;

	start(ERA_MIGRATION);
	a = sim_process_create("A", 8);
	for (i = 0; i < 4; i++)
		fill(a, (unsigned long)i, 'm' + i);
	CHECK(sim_page_node(a, 0) == 0, "node %d", sim_page_node(a, 0));
	sim_set_migrate_on_fault(1);
	fill(a, 5, 'x');		/* a fault: everything to node 1 */
	sim_set_migrate_on_fault(0);
	for (i = 0; i < 4; i++)
		CHECK(sim_page_node(a, (unsigned long)i) == 1, "page %d on "
		      "node %d", i, sim_page_node(a, (unsigned long)i));
	CHECK(!sim_process_verify(a, true), "bytes");
	finish(__func__);
}

/* kswapd's scan of the LRU: what it frees comes back from swap. */
static void test_shrink_lru(void)
{
	struct mm_struct *a;
	struct sim_mem_stats st;
	unsigned long freed;
	long pinned;
	int i;

	start(ERA_KEYHOLE);
	a = sim_process_create("A", 16);
	for (i = 0; i < 16; i++)
		fill(a, (unsigned long)i, 'l' + i);
	pinned = sim_pin_page(a, 3);
	CHECK(pinned >= 0, "pin");
	freed = sim_shrink_lru(32);
	CHECK(freed == 15, "%lu pages freed of 16 (one pinned)", freed);
	/* The pinned page went into the swap cache before its count was
	 * looked at, as the kernel's: it keeps its slot. */
	sim_mem_stats(-1, &st);
	CHECK(st.swap_used == 16 && st.nr_used == 1, "%lu slots, %lu frames",
	      st.swap_used, st.nr_used);
	CHECK(!sim_unpin_page((unsigned long)pinned), "unpin");
	CHECK(!sim_process_verify(a, true), "bytes");
	finish(__func__);
}

/* The library's refusals: each a clear error, nothing changed. */
static void test_refusals(void)
{
	struct mm_struct *a;
	int i;

	start(ERA_MIGRATION);
	a = sim_process_create("A", 80);
	fill(a, 0, 'r');
	CHECK(sim_page_node(a, 80) == -EINVAL, "vpn out of range");
	CHECK(sim_page_node(a, 1) == -ENOENT, "a page never touched");
	CHECK(sim_page_node(NULL, 0) == -EINVAL, "no process");
	CHECK(sim_compact_section(99) == -EINVAL, "no such section");
	CHECK(sim_pin_page(a, 1) == -ENOENT, "pin of a page never touched");
	for (i = 0; i < 64; i++) {
		fill(a, (unsigned long)i + 1, 'p');
		CHECK(sim_pin_page(a, (unsigned long)i + 1) >= 0, "pin %d", i);
	}
	fill(a, 70, 'p');
	CHECK(sim_pin_page(a, 70) == -ENOSPC, "a 65th pin");
	for (i = 0; i < 64; i++)
		sim_unpin_page((unsigned long)sim_process_pfn(a,
					(unsigned long)i + 1));
	CHECK(sim_unpin_page((unsigned long)sim_process_pfn(a, 70)) ==
	      -EINVAL, "unpin of a page not pinned");
	CHECK(sim_offline_section(3) == 0, "offline");
	CHECK(sim_compact_section(3) == -EINVAL, "compaction of an offline "
	      "section");
	CHECK(sim_online_section(3) == 0, "online");
	finish(__func__);
}

/*
 * A page pinned by get_user_pages() may be written behind KSM's back: its
 * count is more than its mappers, and write_protect_page() refuses it.
 * Pinned on one side of a pair, nothing merges; pinned in the unstable
 * tree, the other page is made a KSM page first and then broken again
 * (break_cow() in try_to_merge_two_pages()).
 */
static void test_pinned_not_merged(void)
{
	struct mm_struct *a, *b;
	struct ksm_counters c;
	long pfn;
	int pinned;

	for (pinned = 0; pinned < 2; pinned++) {
		start(ERA_MIGRATION);
		a = sim_process_create("A", 1);
		b = sim_process_create("B", 1);
		fill(a, 0, 'g');
		fill(b, 0, 'g');
		pfn = sim_pin_page(pinned ? b : a, 0);
		CHECK(pfn >= 0, "pin");
		sim_process_madvise(a, true);
		sim_process_madvise(b, true);
		ksm_scan_full(3);
		c = counters();
		CHECK(c.pages_shared == 0 && c.pages_sharing == 0, "pinned %s: "
		      "shared %lu, sharing %lu", pinned ? "B" : "A",
		      c.pages_shared, c.pages_sharing);
		CHECK(!sim_unpin_page((unsigned long)pfn), "unpin");
		ksm_scan_full(1);
		c = counters();
		CHECK(c.pages_shared == 1 && c.pages_sharing == 1, "unpinned: "
		      "shared %lu, sharing %lu", c.pages_shared,
		      c.pages_sharing);
		CHECK(!sim_process_verify(a, true) && !sim_process_verify(b, true),
		      "bytes");
		finish(pinned ? "test_pinned_not_merged_tree_page" :
		       "test_pinned_not_merged");
	}
}

/*
 * A child shares its parent's page until either writes: met in the
 * unstable tree, the parent's rmap_item has the very page the child's
 * has, which is not merged with itself ("Don't substitute a ksm page for
 * a forked page").
 */
static void test_forked_page_in_tree(void)
{
	struct mm_struct *p, *c;
	struct ksm_counters k;

	start(ERA_MIGRATION);
	p = sim_process_create("P", 2);
	fill(p, 0, 'f');
	fill(p, 1, 'q');
	sim_process_madvise(p, true);
	c = sim_process_fork(p, "C");
	CHECK(c, "fork");
	ksm_scan_full(3);
	k = counters();
	CHECK(k.pages_shared == 0 && k.pages_sharing == 0, "shared %lu, "
	      "sharing %lu", k.pages_shared, k.pages_sharing);
	CHECK(sim_process_pfn(p, 0) == sim_process_pfn(c, 0), "still the one "
	      "page");
	CHECK(!sim_process_verify(p, true) && !sim_process_verify(c, true),
	      "bytes");
	finish(__func__);
}

/*
 * An mm with rmap_items that exits is not freed by __ksm_exit(): its slot
 * goes just after ksmd's cursor, its rmap_items stay in the trees until
 * ksmd comes.  Meanwhile another page meets one of them in the unstable
 * tree (get_mergeable_page() sees the mm exiting), and run=2 meets the
 * slot itself.
 */
static void test_exited_mm_in_trees(void)
{
	struct mm_struct *a, *b;
	struct ksm_counters c;
	int i;

	start(ERA_MIGRATION);
	a = sim_process_create("A", 4);
	b = sim_process_create("B", 4);
	for (i = 0; i < 4; i++) {
		fill(a, (unsigned long)i, 'a' + i);
		fill(b, (unsigned long)i, i ? 'a' + i : 'z');
	}
	sim_process_madvise(a, true);
	sim_process_madvise(b, true);
	ksm_scan_full(1);		/* checksums */
	ksm_scan_pages(5);		/* A's 4 pages into the tree, B's 1st */
	CHECK(counters().pages_unshared == 5, "%lu unshared",
	      counters().pages_unshared);
	CHECK(sim_process_exit(a) == 0, "exit");
	ksm_scan_pages(3);		/* B's pages meet A's rmap_items */
	c = counters();
	CHECK(c.pages_shared == 0, "merged with an exiting mm: shared %lu",
	      c.pages_shared);
	CHECK(ksm_set_run(2) == 0, "run=2");
	CHECK(counters().pages_unshared == 0, "%lu unshared after run=2",
	      counters().pages_unshared);
	CHECK(!sim_process_verify(b, true), "bytes");
	finish(__func__);
}

/*
 * A mergeable area that was never touched has no anon_vma: ksmd passes
 * over it; and MADV_UNMERGEABLE after a page went into the unstable tree
 * leaves its rmap_item there, which get_mergeable_page() then refuses.
 */
static void test_unmergeable_in_tree(void)
{
	struct mm_struct *a, *b, *idle;
	struct ksm_counters c;

	start(ERA_MIGRATION);
	idle = sim_process_create("idle", 8);
	a = sim_process_create("A", 1);
	b = sim_process_create("B", 1);
	fill(a, 0, 'u');
	fill(b, 0, 'u');
	sim_process_madvise(idle, true);
	sim_process_madvise(a, true);
	sim_process_madvise(b, true);
	ksm_scan_full(1);
	ksm_scan_pages(1);		/* A's page into the unstable tree */
	CHECK(counters().pages_unshared == 1, "unshared %lu",
	      counters().pages_unshared);
	CHECK(sim_process_madvise(a, false) == 0, "MADV_UNMERGEABLE");
	ksm_scan_full(1);
	c = counters();
	CHECK(c.pages_shared == 0, "merged with an unmergeable area");
	CHECK(!sim_process_verify(a, true) && !sim_process_verify(b, true) &&
	      !sim_process_verify(idle, true), "bytes");
	finish(__func__);
}

/* ------------------------------------------------------------------ */
/* Two actors at one point: scripts of race windows. */

/** An actor's one call, and what it returned. */
struct job {
	int (*fn)(struct job *j);	/**< the call */
	struct mm_struct *mm;		/**< its process */
	unsigned long vpn;		/**< its page */
	long pfn;			/**< its frame */
	int node;			/**< a node to move to */
	long ret;			/**< what the call returned */
	struct mm_struct *child;	/**< a fork's child */
	char byte;			/**< a byte read or written */
};

static void run_job(void *arg)
{
	struct job *j = arg;

	j->ret = j->fn(j);
}

static int job_migrate(struct job *j)
{
	return sim_migrate_pfn((unsigned long)j->pfn, j->node, false);
}

static int job_read(struct job *j)
{
	return sim_process_read(j->mm, j->vpn, 0, &j->byte, 1);
}

static int job_fork(struct job *j)
{
	j->child = sim_process_fork(j->mm, "C");
	return j->child ? 0 : -ENOMEM;
}

static int job_verify(struct job *j)
{
	return (int)sim_process_verify(j->mm, false);
}

/** Run the two jobs \a a (called \a na) and \b under \a steps. */
static int script2(const char *na, struct job *a, const char *nb,
		   struct job *b, const struct sim_step *steps, int nr)
{
	struct sim_actor_spec actors[2] = {
		{ na, run_job, a }, { nb, run_job, b },
	};

	return sim_run_script(actors, 2, steps, nr);
}

/*
 * A fault on a page under migration finds a migration entry and waits
 * for the page lock (migration_entry_wait()), holding a reference: in
 * this schedule the waiter does not run again until migration has tried
 * every pass, each of which sees the waiter's reference and gives up
 * (-EAGAIN), as the kernel's would; the page stays, and the reader reads
 * it once it runs.
 */
static void test_fault_waits_for_migration(void)
{
	static const struct sim_step steps[] = {
		{ "migrate", "unmap_and_move:unmapped" },
		{ "A", "blocked" },
		{ "migrate", "done" },
		{ "A", "done" },
	};
	struct job m = { .fn = job_migrate, .node = 1 };
	struct job r = { .fn = job_read, .vpn = 0 };

	start(ERA_MIGRATION);
	r.mm = sim_process_create("A", 1);
	fill(r.mm, 0, 'w');
	m.pfn = sim_process_pfn(r.mm, 0);
	CHECK(!script2("migrate", &m, "A", &r, steps, 4), "script: %s",
	      sim_run_error());
	CHECK(m.ret == -EAGAIN && r.ret == 0 && r.byte == 'w', "migrate "
	      "%ld, read %ld '%c'", m.ret, r.ret, r.byte);
	CHECK(sim_page_node(r.mm, 0) == 0, "node %d", sim_page_node(r.mm, 0));
	CHECK(!sim_process_verify(r.mm, true), "bytes");
	finish(__func__);
}

/*
 * Fork while a page is under migration: the parent's pte is a migration
 * entry, which the child copies; a writable one becomes read-only in
 * both (is_write_migration_entry() in copy_one_pte()), so that a later
 * write by either copies the page.  And a verify meanwhile says that it
 * could not read the page, rather than pass it.
 */
static void test_fork_migrating(void)
{
	static const struct sim_step steps[] = {
		{ "migrate", "unmap_and_move:unmapped" },
		{ "fork", "done" },
		{ "migrate", "done" },
	};
	struct job m = { .fn = job_migrate, .node = 1 };
	struct job f = { .fn = job_fork };
	struct job v = { .fn = job_verify };
	struct mm_struct *p;

	start(ERA_MIGRATION);
	p = f.mm = v.mm = sim_process_create("P", 1);
	fill(p, 0, 'p');
	m.pfn = sim_process_pfn(p, 0);
	CHECK(!script2("migrate", &m, "fork", &f, steps, 3), "script: %s",
	      sim_run_error());
	CHECK(m.ret == 0 && f.child, "migrate %ld, fork %ld", m.ret, f.ret);
	CHECK(sim_process_pfn(p, 0) == sim_process_pfn(f.child, 0),
	      "parent and child share the new page");
	fill(f.child, 0, 'c');
	CHECK(sim_process_pfn(p, 0) != sim_process_pfn(f.child, 0),
	      "the child's write copied");
	CHECK(!sim_process_verify(p, true) &&
	      !sim_process_verify(f.child, true), "bytes");

	/* The verify that meets a migration entry. */
	m.pfn = sim_process_pfn(p, 0);
	m.node = 0;
	{
		static const struct sim_step vs[] = {
			{ "migrate", "unmap_and_move:unmapped" },
			{ "verify", "done" },
			{ "migrate", "done" },
		};

		CHECK(!script2("migrate", &m, "verify", &v, vs, 3),
		      "script: %s", sim_run_error());
	}
	CHECK(v.ret == 1, "a verify during migration reported %ld pages",
	      v.ret);
	finish(__func__);
}

static int job_write(struct job *j)
{
	return sim_process_write(j->mm, j->vpn, 0, &j->byte, 1);
}

/*
 * Two threads of a process touch the same new page: the one that gets
 * there second finds the pte made meanwhile, drops the page it allocated
 * ("somebody else faulted it in") and writes on the other's page.
 */
static void test_two_first_touches(void)
{
	static const struct sim_step steps[] = {
		{ "A", "do_anonymous_page:allocated" },
		{ "B", "done" },
		{ "A", "done" },
	};
	struct job a = { .fn = job_write, .vpn = 1, .byte = 'a' };
	struct job b = { .fn = job_write, .vpn = 1, .byte = 'b' };
	struct sim_mem_stats st;
	char c = 0;

	start(ERA_KEYHOLE);
	a.mm = b.mm = sim_process_create("P", 2);
	fill(a.mm, 0, 'x');			/* the anon_vma exists */
	CHECK(!script2("A", &a, "B", &b, steps, 3), "script: %s",
	      sim_run_error());
	CHECK(!a.ret && !b.ret, "writes %ld %ld", a.ret, b.ret);
	sim_process_read(a.mm, 1, 0, &c, 1);
	CHECK(c == 'a', "the page holds '%c', A wrote last", c);
	sim_mem_stats(-1, &st);
	CHECK(st.nr_used == 2, "%lu frames used: A's spare not freed",
	      st.nr_used);
	CHECK(!sim_process_verify(a.mm, true), "bytes");
	finish(__func__);
}

/*
 * Two threads of a process write a page it shares with its child: both
 * copy; the second to take the page table lock finds the first's copy
 * mapped, frees its own, and writes on the first's.
 */
static void test_two_write_faults(void)
{
	static const struct sim_step steps[] = {
		{ "A", "do_wp_page:copied" },
		{ "B", "done" },
		{ "A", "done" },
	};
	struct job a = { .fn = job_write, .vpn = 0, .byte = 'a' };
	struct job b = { .fn = job_write, .vpn = 0, .byte = 'b' };
	struct mm_struct *c;
	struct sim_mem_stats st;

	start(ERA_KEYHOLE);
	a.mm = b.mm = sim_process_create("P", 1);
	fill(a.mm, 0, 'x');
	c = sim_process_fork(a.mm, "C");
	CHECK(c, "fork");
	CHECK(!script2("A", &a, "B", &b, steps, 3), "script: %s",
	      sim_run_error());
	CHECK(!a.ret && !b.ret, "writes %ld %ld", a.ret, b.ret);
	sim_mem_stats(-1, &st);
	CHECK(st.nr_used == 2, "%lu frames: the parent's copy and the "
	      "child's page", st.nr_used);
	CHECK(!sim_process_verify(a.mm, true) && !sim_process_verify(c, true),
	      "bytes");
	finish(__func__);
}

/*
 * Two threads of a process fault the same swapped-out page: the first
 * reads it into the swap cache and maps it; the second found it in the
 * cache and waited for its lock, and then finds the pte no longer the
 * swap entry it faulted on: nothing to do.
 */
static void test_two_swapins(void)
{
	static const struct sim_step steps[] = {
		{ "A", "do_swap_page:locked" },
		{ "B", "blocked" },
		{ "A", "done" },
		{ "B", "done" },
	};
	struct job a = { .fn = job_read, .vpn = 0 };
	struct job b = { .fn = job_read, .vpn = 0 };
	struct sim_mem_stats st;

	start(ERA_KEYHOLE);
	a.mm = b.mm = sim_process_create("P", 1);
	fill(a.mm, 0, 's');
	CHECK(sim_reclaim_process_page(a.mm, 0) == 0, "swap-out");
	CHECK(!script2("A", &a, "B", &b, steps, 4), "script: %s",
	      sim_run_error());
	CHECK(!a.ret && !b.ret && a.byte == 's' && b.byte == 's', "reads %ld "
	      "'%c', %ld '%c'", a.ret, a.byte, b.ret, b.byte);
	sim_mem_stats(-1, &st);
	CHECK(st.nr_used == 1, "%lu frames", st.nr_used);
	CHECK(!sim_process_verify(a.mm, true), "bytes");
	finish(__func__);
}

/*
 * A swap-in meets its page frozen by a migration that is moving its swap
 * cache slot (the state of R9).  The swap cache's lookup takes its lock,
 * under which the migration froze the page and will have moved the slot
 * to the new page before it lets go: the fault waits for the lock, and
 * reads the new page.
 */
static void test_swapin_meets_migration(void)
{
	static const struct sim_step steps[] = {
		{ "migrate", "migrate_page_move_mapping:frozen" },
		{ "A", "blocked" },
		{ "migrate", "done" },
		{ "A", "done" },
	};
	struct job m = { .fn = job_migrate, .node = 1 };
	struct job r = { .fn = job_read, .vpn = 0 };

	start(ERA_MIGRATION);
	r.mm = sim_process_create("A", 1);
	fill(r.mm, 0, 'z');
	m.pfn = sim_process_pfn(r.mm, 0);
	/* Into the swap cache, unmapped, not freed: a pin keeps it. */
	CHECK(sim_pin_page(r.mm, 0) == m.pfn, "pin");
	CHECK(sim_reclaim_pfn((unsigned long)m.pfn) == -EBUSY, "reclaim");
	CHECK(!sim_unpin_page((unsigned long)m.pfn), "unpin");
	CHECK(sim_process_pfn(r.mm, 0) == -1, "unmapped");
	CHECK(!script2("migrate", &m, "A", &r, steps, 4), "script: %s",
	      sim_run_error());
	CHECK(m.ret == 0 && r.ret == 0 && r.byte == 'z', "migrate %ld, read "
	      "%ld '%c'", m.ret, r.ret, r.byte);
	CHECK(sim_page_node(r.mm, 0) == 1, "node %d", sim_page_node(r.mm, 0));
	CHECK(!sim_process_verify(r.mm, true), "bytes");
	finish(__func__);
}

static int job_scan(struct job *j)
{
	ksm_scan_pages((unsigned int)j->vpn);
	return 0;
}

static int job_unmergeable(struct job *j)
{
	return sim_process_madvise(j->mm, false);
}

static int job_reclaim(struct job *j)
{
	return sim_reclaim_pfn((unsigned long)j->pfn);
}

/**
 * A and B share a KSM page; D has its bytes and is mergeable, not yet
 * scanned.  Returns D; a ksmd batch of 3 pages reaches D's page.
 */
static struct mm_struct *ksm_pair_and_d(void)
{
	struct mm_struct *a = sim_process_create("A", 1);
	struct mm_struct *b = sim_process_create("B", 1);
	struct mm_struct *d = sim_process_create("D", 1);

	fill(a, 0, 'K');
	fill(b, 0, 'K');
	sim_process_madvise(a, true);
	sim_process_madvise(b, true);
	ksm_scan_full(2);
	fill(d, 0, 'K');
	sim_process_madvise(d, true);
	return d;
}

/*
 * ksmd has found D's twin in the stable tree when D says
 * MADV_UNMERGEABLE: try_to_merge_one_page() sees the area no longer
 * mergeable, and leaves D's page alone.
 */
static void test_unmergeable_while_merging(void)
{
	static const struct sim_step steps[] = {
		{ "ksmd", "stable_tree_search:found" },
		{ "D", "done" },
		{ "ksmd", "done" },
	};
	struct job k = { .fn = job_scan, .vpn = 3 };
	struct job d = { .fn = job_unmergeable };
	struct ksm_counters c;
	long pfn;

	start(ERA_MIGRATION);
	d.mm = ksm_pair_and_d();
	pfn = sim_process_pfn(d.mm, 0);
	CHECK(!script2("ksmd", &k, "D", &d, steps, 3), "script: %s",
	      sim_run_error());
	c = counters();
	CHECK(c.pages_shared == 1 && c.pages_sharing == 1 &&
	      sim_process_pfn(d.mm, 0) == pfn, "D merged: shared %lu, sharing "
	      "%lu", c.pages_shared, c.pages_sharing);
	CHECK(!sim_process_verify(d.mm, true), "bytes");
	finish(__func__);
}

/*
 * Migration holds D's page locked when ksmd would merge it: the trylock
 * in try_to_merge_one_page() fails, ksmd moves on ("we prefer to continue
 * scanning and merging other pages"), and the migration completes.
 */
static void test_merge_meets_locked_page(void)
{
	static const struct sim_step steps[] = {
		{ "migrate", "unmap_and_move:locked" },
		{ "ksmd", "done" },
		{ "migrate", "done" },
	};
	struct job k = { .fn = job_scan, .vpn = 3 };
	struct job m = { .fn = job_migrate, .node = 1 };
	struct ksm_counters c;
	struct mm_struct *d;

	start(ERA_MIGRATION);
	d = ksm_pair_and_d();
	m.pfn = sim_process_pfn(d, 0);
	CHECK(!script2("migrate", &m, "ksmd", &k, steps, 3), "script: %s",
	      sim_run_error());
	c = counters();
	CHECK(m.ret == 0 && c.pages_shared == 1 && c.pages_sharing == 1,
	      "migrate %ld; shared %lu, sharing %lu", m.ret, c.pages_shared,
	      c.pages_sharing);
	CHECK(sim_page_node(d, 0) == 1, "node %d", sim_page_node(d, 0));
	ksm_scan_full(2);			/* and next time it merges */
	c = counters();
	CHECK(c.pages_sharing == 2, "sharing %lu", c.pages_sharing);
	CHECK(!sim_process_verify(d, true), "bytes");
	finish(__func__);
}

/*
 * Reclaim unmaps D's page while ksmd holds a reference to it (and so
 * cannot free it: it stays in the swap cache); ksmd then finds no pte to
 * write-protect (write_protect_page()) and merges nothing.
 */
static void test_merge_meets_unmapped_page(void)
{
	static const struct sim_step steps[] = {
		{ "ksmd", "stable_tree_search:found" },
		{ "reclaim", "done" },
		{ "ksmd", "done" },
	};
	struct job k = { .fn = job_scan, .vpn = 3 };
	struct job r = { .fn = job_reclaim };
	struct ksm_counters c;
	struct mm_struct *d;

	start(ERA_MIGRATION);
	d = ksm_pair_and_d();
	r.pfn = sim_process_pfn(d, 0);
	CHECK(!script2("ksmd", &k, "reclaim", &r, steps, 3), "script: %s",
	      sim_run_error());
	c = counters();
	CHECK(r.ret == -EBUSY && c.pages_shared == 1 && c.pages_sharing == 1,
	      "reclaim %ld; shared %lu, sharing %lu", r.ret, c.pages_shared,
	      c.pages_sharing);
	CHECK(sim_process_pfn(d, 0) == -1, "D's pte is a swap entry");
	CHECK(!sim_process_verify(d, true), "bytes");
	finish(__func__);
}

/* ------------------------------------------------------------------ */
/* Reclaim and the swap device: what it keeps, and why. */

/*
 * A swap device of 4 slots: swapping out fills it, a fifth page is kept
 * (add_to_swap() finds no slot), and slots freed by swap-in are found
 * again by the allocator's cursor, which wraps round.
 */
static void test_swap_device_full(void)
{
	struct sim_config cfg = { .nr_sections = 4, .swap_slots = 4,
				  .era = ERA_KEYHOLE };
	struct sim_mem_stats st;
	struct mm_struct *a;
	int i, round;

	CHECK(!sim_init(&cfg), "sim_init");
	sim_set_quiet(true);
	a = sim_process_create("A", 5);
	for (i = 0; i < 5; i++)
		fill(a, (unsigned long)i, 'd' + i);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 4; i++)
			CHECK(!sim_reclaim_process_page(a, (unsigned long)i),
			      "round %d: swap-out %d", round, i);
		CHECK(sim_reclaim_process_page(a, 4) == -EBUSY, "a fifth "
		      "page with the device full");
		sim_mem_stats(-1, &st);
		CHECK(st.swap_used == 4, "%lu slots", st.swap_used);
		CHECK(!sim_process_verify(a, true), "bytes");
		for (i = 0; i < 4; i++)	/* writes: out of the swap cache */
			fill(a, (unsigned long)i, 'D' + i);
		sim_mem_stats(-1, &st);
		CHECK(st.swap_used == 0, "round %d: %lu slots after swap-in",
		      round, st.swap_used);
	}
	finish(__func__);
}

/*
 * Reclaim keeps what it may not take: a page locked by someone else (a
 * migration, here), a page that is not anonymous (a file's, which this
 * reclaim does not write back), and a frame that is not on the LRU (a
 * free one); and sim_shrink_lru() before the machine exists frees none.
 */
static void test_reclaim_keeps(void)
{
	static const struct sim_step steps[] = {
		{ "migrate", "unmap_and_move:locked" },
		{ "reclaim", "done" },
		{ "migrate", "done" },
	};
	struct job m = { .fn = job_migrate, .node = 1 };
	struct job r = { .fn = job_reclaim };
	struct address_space *f;
	struct mm_struct *a, *fm;
	char b;

	CHECK(sim_shrink_lru(8) == 0, "no machine, nothing to shrink");
	start(ERA_MIGRATION);
	a = sim_process_create("A", 1);
	fill(a, 0, 'L');
	m.pfn = r.pfn = sim_process_pfn(a, 0);
	CHECK(!script2("migrate", &m, "reclaim", &r, steps, 3), "script: %s",
	      sim_run_error());
	CHECK(r.ret == -EBUSY && m.ret == 0, "reclaim %ld, migrate %ld",
	      r.ret, m.ret);
	f = sim_file_create("F", 1, 'f', false);
	fm = sim_process_map_file("M", f);
	CHECK(f && fm && !sim_process_read(fm, 0, 0, &b, 1), "file");
	CHECK(sim_reclaim_pfn((unsigned long)sim_file_pfn(f, 0)) == -EBUSY,
	      "a file page reclaimed");
	CHECK(sim_reclaim_pfn(sim_nr_pages() - 1) == -EBUSY, "a free frame "
	      "reclaimed");
	CHECK(!sim_process_verify(a, true) && !sim_process_verify(fm, true),
	      "bytes");
	CHECK(!sim_process_exit(fm) && !sim_file_destroy(f), "file gone");
	finish(__func__);
}

/*
 * A page shared by a parent and its child, both swapped out: the parent
 * swaps it in to write, but the child's swap pte still needs the slot, so
 * the write copies (reuse_swap_page() says no); the child reads the old
 * bytes from the swap cache page.
 */
static void test_swap_shared_write(void)
{
	struct mm_struct *p, *c;
	char b = 0;

	start(ERA_KEYHOLE);
	p = sim_process_create("P", 1);
	fill(p, 0, 'o');
	c = sim_process_fork(p, "C");
	CHECK(c, "fork");
	CHECK(!sim_reclaim_process_page(p, 0), "swap-out of the shared page");
	CHECK(sim_process_pfn(p, 0) == -1 && sim_process_pfn(c, 0) == -1,
	      "both ptes are swap entries");
	fill(p, 0, 'n');
	CHECK(!sim_process_read(c, 0, 0, &b, 1) && b == 'o', "the child reads "
	      "'%c'", b);
	CHECK(sim_process_pfn(p, 0) != sim_process_pfn(c, 0), "one page each");
	CHECK(!sim_process_verify(p, true) && !sim_process_verify(c, true),
	      "bytes");
	finish(__func__);
}

/*
 * Two threads fault the same swapped-out page, one to write and one to
 * read: the writer, first, takes the page out of the swap cache (it is
 * the only user: reuse_swap_page()); the reader, which found the page in
 * the cache and waited for its lock, finds it no longer there.
 */
static void test_swapin_after_reuse(void)
{
	static const struct sim_step steps[] = {
		{ "W", "do_swap_page:locked" },
		{ "R", "blocked" },
		{ "W", "done" },
		{ "R", "done" },
	};
	struct job w = { .fn = job_write, .vpn = 0, .byte = 'W' };
	struct job r = { .fn = job_read, .vpn = 0 };
	struct sim_mem_stats st;

	start(ERA_KEYHOLE);
	w.mm = r.mm = sim_process_create("P", 1);
	fill(w.mm, 0, 's');
	CHECK(!sim_reclaim_process_page(w.mm, 0), "swap-out");
	CHECK(!script2("W", &w, "R", &r, steps, 4), "script: %s",
	      sim_run_error());
	CHECK(!w.ret && !r.ret && r.byte == 'W', "write %ld, read %ld '%c'",
	      w.ret, r.ret, r.byte);
	sim_mem_stats(-1, &st);
	CHECK(st.swap_used == 0 && st.nr_used == 1, "%lu slots, %lu frames",
	      st.swap_used, st.nr_used);
	CHECK(!sim_process_verify(w.mm, true), "bytes");
	finish(__func__);
}

/* A fork of a process that never touched a page: no anon_vma to share. */
static void test_fork_untouched(void)
{
	struct mm_struct *p, *c;

	start(ERA_KEYHOLE);
	p = sim_process_create("P", 2);
	c = sim_process_fork(p, "C");
	CHECK(c, "fork");
	fill(c, 1, 'c');
	fill(p, 1, 'p');
	CHECK(sim_process_pfn(p, 1) != sim_process_pfn(c, 1), "own pages");
	CHECK(!sim_process_verify(p, true) && !sim_process_verify(c, true),
	      "bytes");
	finish(__func__);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--help")) {
		printf("Usage: %s\n\nRuns the tests of the rarer paths; prints \"ok NAME\" or "
		       "\"FAIL NAME: why\" for each,\nand exits with the number "
		       "of failures.\n", argv[0]);
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "%s: takes no arguments\nusage: %s [--help]\n",
			argv[0], argv[0]);
		return 2;
	}
	test_wp_reuse();
	test_fork_swapped();
	test_file_write_after_read();
	test_knobs();
	test_migrate_on_fault();
	test_shrink_lru();
	test_refusals();
	test_pinned_not_merged();
	test_forked_page_in_tree();
	test_exited_mm_in_trees();
	test_unmergeable_in_tree();
	test_fault_waits_for_migration();
	test_fork_migrating();
	test_two_first_touches();
	test_two_write_faults();
	test_two_swapins();
	test_swapin_meets_migration();
	test_unmergeable_while_merging();
	test_merge_meets_locked_page();
	test_merge_meets_unmapped_page();
	test_swap_device_full();
	test_reclaim_keeps();
	test_swap_shared_write();
	test_swapin_after_reuse();
	test_fork_untouched();
	printf("%d failure%s\n", failures, failures == 1 ? "" : "s");
	return failures > 100 ? 100 : failures;
}

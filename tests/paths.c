// SPDX-License-Identifier: GPL-2.0
/*
 * paths.c - the rarer paths of the KSM core and of the machine paths it
 * stands on, each driven on purpose: a page reused on write after its
 * sharer exits, a fork of swapped-out and migrating pages, a page pinned
 * by get_user_pages() that ksmd must not merge, a forked page met in the
 * unstable tree, an mm that exits with its rmap_items still in the trees,
 * a fault that meets a migration, the knobs, and the library's refusals;
 * ksmd's own thread, run=2 that runs out of memory or meets an exit;
 * migration and hot-remove that meet writeback, a swap-in's lock, a page
 * not yet on the LRU, a page cache lookup in flight; exchange's refusals
 * and waits, and R14's orders with nobody racing them; and what the
 * checks of CONFIG_DEBUG_VM print when the design (a line of it switched
 * off) goes wrong, caught with sim_guarded().  Where two actors must meet
 * at one point, a script of race windows and lock points puts them
 * there, so that every run is the same run.
 *
 * Each test prints "ok NAME", "FAIL NAME: why", or "skip NAME: why" where
 * this build cannot make it (a snapshot, in a sanitizer's); the auditor
 * runs after each; the exit status is the number of failures, 2 for bad
 * arguments.
 * make coverage and make mutants-all find the paths that need a test here
 * (walkthrough.md, chapter 9).
 */
#define _POSIX_C_SOURCE 200809L	/* dup2(), fileno(), nanosleep() */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../ksm_ref.h"
#include "check.h"
#include "jobs.h"

/** Fill page \a vpn of \a mm with \a byte, and its first bytes with \a tag. */
static void fill(struct mm_struct *mm, unsigned long vpn, int byte)
{
	sim_process_fill(mm, vpn, byte);
}

/** What is written on a file descriptor meanwhile. */
static struct {
	int fd, saved;
	FILE *f;
	char text[16384];
} cap;

/** Catch what is written on \a fd (1 or 2) from now, in a file. */
static int capture_start(int fd)
{
	fflush(stdout);
	fflush(stderr);
	cap.fd = fd;
	cap.f = tmpfile();
	if (!cap.f)
		return -1;
	cap.saved = dup(fd);
	if (cap.saved >= 0 && dup2(fileno(cap.f), fd) >= 0)
		return 0;
	if (cap.saved >= 0)
		close(cap.saved);
	fclose(cap.f);
	return -1;
}

/** Stop catching; what was written (truncated to fit). */
static const char *capture_end(void)
{
	size_t n;

	fflush(stdout);
	fflush(stderr);
	dup2(cap.saved, cap.fd);
	close(cap.saved);
	rewind(cap.f);
	n = fread(cap.text, 1, sizeof(cap.text) - 1, cap.f);
	cap.text[n] = '\0';
	fclose(cap.f);
	return cap.text;
}

/*
 * Does the mscgen \a chart (sim_timeline_print_msc()) draw an arrow
 * labelled \a label from actor \a from to actor \a to?
 */
static bool msc_arrow(const char *chart, const char *from, const char *to,
		      const char *label)
{
	int i, f = -1, t = -1;
	char want[160];

	for (i = 0; i < 16; i++) {
		snprintf(want, sizeof(want), "a%d [label=\"%s\"]", i, from);
		if (strstr(chart, want))
			f = i;
		snprintf(want, sizeof(want), "a%d [label=\"%s\"]", i, to);
		if (strstr(chart, want))
			t = i;
	}
	snprintf(want, sizeof(want), "\na%d -> a%d [label=\"%s\"];\n", f, t,
		 label);
	return f >= 0 && t >= 0 && strstr(chart, want);
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
	CHECK(sim_shrink_lru(8) == 0, "an empty LRU, nothing to shrink");
	a = sim_process_create("A", 16);
	for (i = 0; i < 16; i++)
		fill(a, (unsigned long)i, 'l' + i);
	/* A scan of 2 takes the 2 oldest, no more. */
	CHECK(sim_shrink_lru(2) == 2, "a scan of 2");
	sim_mem_stats(-1, &st);
	CHECK(st.nr_used == 14 && sim_process_pfn(a, 0) < 0 &&
	      sim_process_pfn(a, 1) < 0 && sim_process_pfn(a, 2) >= 0,
	      "%lu frames; pages 0 and 1 should have gone", st.nr_used);
	CHECK(!sim_process_verify(a, true), "bytes after a scan of 2");
	for (i = 0; i < 2; i++)		/* back in, at the LRU's tail */
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
	CHECK(sim_process_verify(NULL, false) == -EINVAL, "verify of no "
	      "process");
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
 * write_protect_page() checks the count against the mappers only when the
 * pte is writable: a pin taken for reading on a page already mapped
 * read-only (a parent's page shared with its child after fork) cannot be
 * writing behind KSM's back through that pte, and the page merges.
 */
static void test_pinned_read_only_merged(void)
{
	struct mm_struct *p, *c, *b;
	long pfn;

	start(ERA_MIGRATION);
	p = sim_process_create("P", 1);
	fill(p, 0, 'r');
	sim_process_madvise(p, true);
	c = sim_process_fork(p, "C");
	b = sim_process_create("B", 1);
	fill(b, 0, 'r');
	sim_process_madvise(b, true);
	CHECK(c && sim_process_pfn(c, 0) == sim_process_pfn(p, 0), "fork");
	pfn = sim_pin_page(p, 0);
	CHECK(pfn >= 0, "pin");
	ksm_scan_full(3);
	CHECK(counters().pages_shared == 1 && counters().pages_sharing == 2,
	      "shared %lu, sharing %lu: the read-only pinned page did not "
	      "merge", counters().pages_shared, counters().pages_sharing);
	CHECK(sim_process_pfn(b, 0) == sim_process_pfn(p, 0) &&
	      sim_process_pfn(c, 0) == sim_process_pfn(p, 0), "P, C and B "
	      "map different frames");
	CHECK(!sim_unpin_page((unsigned long)pfn), "unpin");
	CHECK(!sim_process_verify(p, true) && !sim_process_verify(c, true) &&
	      !sim_process_verify(b, true), "bytes");
	finish(__func__);
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
	return (int)sim_process_verify(j->mm, true);
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
 * could not read the page, rather than pass it, and says why.
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

		const char *out;
		int err;

		sim_set_quiet(false);
		CHECK(!capture_start(1), "capture");
		err = script2("migrate", &m, "verify", &v, vs, 3);
		out = capture_end();
		sim_set_quiet(true);
		CHECK(!err, "script: %s", sim_run_error());
		CHECK(strstr(out, "P page 0: cannot be read at a quiescent point "
			     "(migration entry left in its pte)"), "the "
		      "verify said:\n%s", out);
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

/* ------------------------------------------------------------------ */
/* KSM's own refusals and cleanups, met on purpose. */

/**
 * A and B, of \a pages pages each, every page filled with \a byte, merged:
 * one KSM page for all of them.
 */
static void merged_pair(struct mm_struct **a, struct mm_struct **b,
			unsigned long pages, int byte)
{
	unsigned long i;

	*a = sim_process_create("A", pages);
	*b = sim_process_create("B", pages);
	for (i = 0; i < pages; i++) {
		fill(*a, i, byte);
		fill(*b, i, byte);
	}
	sim_process_madvise(*a, true);
	sim_process_madvise(*b, true);
	ksm_scan_full(2);
}

/*
 * MADV_UNMERGEABLE breaks the KSM pages of the area, and passes over a
 * page never touched (break_ksm(): follow_page() finds no page there).
 */
static void test_unmerge_passes_absent_page(void)
{
	struct mm_struct *a, *b, *c;
	struct ksm_counters k;

	start(ERA_MIGRATION);
	merged_pair(&a, &b, 1, 'U');
	c = sim_process_create("C", 3);
	fill(c, 0, 'U');
	fill(c, 2, 'U');
	sim_process_madvise(c, true);
	ksm_scan_full(2);
	k = counters();
	CHECK(k.pages_shared == 1 && k.pages_sharing == 3, "shared %lu, "
	      "sharing %lu", k.pages_shared, k.pages_sharing);
	CHECK(sim_process_madvise(c, false) == 0, "MADV_UNMERGEABLE");
	CHECK(activity().unmerges == 2, "%lu unmerged", activity().unmerges);
	ksm_scan_full(1);		/* ksmd forgets C's rmap_items */
	k = counters();
	CHECK(k.pages_shared == 1 && k.pages_sharing == 1, "shared %lu, "
	      "sharing %lu", k.pages_shared, k.pages_sharing);
	CHECK(sim_page_node(c, 1) == -ENOENT, "page 1 was touched");
	CHECK(!sim_process_verify(a, true) && !sim_process_verify(b, true) &&
	      !sim_process_verify(c, true), "bytes");
	finish(__func__);
}

/*
 * run=2 whose copy-on-write finds no memory: unmerge_and_remove_all_
 * rmap_items() gives up, puts the cursor back, and the run knob says
 * stop, so that writing 2 again tries again (and now succeeds).  Three
 * processes share one KSM page; the failure falls in A's area (the first
 * copy), then in B's (the third, A's two pages copied): either way the
 * next scan starts afresh from the first mm, not from where the unmerge
 * stopped, with a cursor into the list of the last mm scanned (C's).
 */
static void test_run2_out_of_memory(void)
{
	struct mm_struct *a, *b, *c3;
	struct ksm_counters c;
	unsigned int nth;
	char name[64];

	for (nth = 1; nth <= 3; nth += 2) {
		start(ERA_MIGRATION);
		a = sim_process_create("A", 2);
		b = sim_process_create("B", 2);
		c3 = sim_process_create("C", 2);
		fill(a, 0, 'O');
		fill(a, 1, 'O');
		fill(b, 0, 'O');
		fill(b, 1, 'O');
		fill(c3, 0, 'O');
		fill(c3, 1, 'O');
		sim_process_madvise(a, true);
		sim_process_madvise(b, true);
		sim_process_madvise(c3, true);
		ksm_scan_full(2);
		sim_fail_nth(FAIL_PAGE, nth);
		CHECK(ksm_set_run(2) == -ENOMEM, "run=2 with no memory for a "
		      "copy");
		c = counters();
		CHECK(c.pages_shared == 1 && c.pages_sharing == (nth == 1 ? 5 : 3),
		      "shared %lu, sharing %lu after the failed unmerge",
		      c.pages_shared, c.pages_sharing);
		/* A fresh scan, from the first mm: A's pages find the KSM
		 * page in the stable tree, and merge at once. */
		ksm_scan_full(1);
		CHECK(!audit_machine(NULL, true), "audit after the failed "
		      "unmerge");
		c = counters();
		CHECK(c.pages_shared == 1 && c.pages_sharing == 5, "shared %lu, "
		      "sharing %lu after a full scan", c.pages_shared,
		      c.pages_sharing);
		CHECK(ksm_set_run(2) == 0, "run=2 again");
		c = counters();
		CHECK(c.pages_shared == 0 && c.pages_sharing == 0 &&
		      c.pages_unshared == 0, "shared %lu, sharing %lu, unshared "
		      "%lu after run=2", c.pages_shared, c.pages_sharing,
		      c.pages_unshared);
		CHECK(!sim_process_verify(a, true) &&
		      !sim_process_verify(b, true) &&
		      !sim_process_verify(c3, true), "bytes");
		snprintf(name, sizeof(name), "%s(copy %u fails)", __func__, nth);
		finish(name);
	}
}

static int job_run2(struct job *j)
{
	(void)j;
	return ksm_set_run(2);
}

/*
 * run=2 is breaking A's KSM pages when A exits: the exit waits for the
 * unmerge to let go of A's mmap_sem (__ksm_exit(): ksmd's cursor is on
 * A), and the unmerge, seeing A exit, breaks no more of A's pages: only
 * the one it was at, and then B's.
 */
static void test_run2_meets_exit(void)
{
	static const struct sim_step steps[] = {
		{ "run", "do_wp_page:copied" },
		{ "exit", "blocked" },
		{ "run", "done" },
		{ "exit", "done" },
	};
	struct job r = { .fn = job_run2 };
	struct job e = { .fn = job_exit };
	struct sim_mem_stats st;
	struct mm_struct *b;

	start(ERA_MIGRATION);
	e.mm = sim_process_create("A", 2);
	b = sim_process_create("B", 1);
	fill(e.mm, 0, 'E');
	fill(e.mm, 1, 'E');
	fill(b, 0, 'E');
	sim_process_madvise(e.mm, true);
	sim_process_madvise(b, true);
	ksm_scan_full(2);
	CHECK(counters().pages_sharing == 2, "sharing %lu",
	      counters().pages_sharing);
	CHECK(!script2("run", &r, "exit", &e, steps, 4), "script: %s",
	      sim_run_error());
	CHECK(!r.ret && !e.ret, "run=2 %ld, exit %ld", r.ret, e.ret);
	CHECK(activity().unmerges == 2, "%lu pages unmerged: A's second "
	      "page was broken after A exited", activity().unmerges);
	sim_mem_stats(-1, &st);
	CHECK(st.nr_used == 1, "%lu frames: B's copy alone", st.nr_used);
	CHECK(!sim_process_verify(b, true), "bytes");
	finish(__func__);
}

/* ksmd with nothing registered: a batch scans nothing, and no scan ends. */
static void test_scan_nothing(void)
{
	struct mm_struct *a;

	start(ERA_MIGRATION);
	ksm_scan_pages(8);
	ksm_scan_full(1);
	a = sim_process_create("A", 1);
	fill(a, 0, 'n');
	sim_process_madvise(a, true);
	CHECK(!sim_process_exit(a), "exit");
	ksm_scan_pages(8);		/* forgets A's slot, then nothing */
	ksm_scan_pages(8);
	CHECK(counters().full_scans == 0, "%lu full scans of nothing",
	      counters().full_scans);
	finish(__func__);
}

/* ksmd's own thread: it scans while run=1, and sleeps, woken, while 0. */
static void test_ksmd_thread(void)
{
	struct mm_struct *a, *b, *c;

	start(ERA_MIGRATION);
	CHECK(!ksm_set_sleep_millisecs(1), "sleep_millisecs");
	a = sim_process_create("A", 1);
	b = sim_process_create("B", 1);
	fill(a, 0, 't');
	fill(b, 0, 't');
	sim_process_madvise(a, true);
	sim_process_madvise(b, true);
	CHECK(!ksm_set_run(1), "run=1");
	CHECK(!ksm_start_thread(), "ksmd");
	CHECK(!wait_for_sharing(1), "ksmd never merged A and B");
	CHECK(!ksm_set_run(0), "run=0");
	/* Time for ksmd to find nothing to do and wait (if it does not,
	 * it merges C all the same: the verdict is the same either way). */
	nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	c = sim_process_create("C", 1);
	fill(c, 0, 't');
	sim_process_madvise(c, true);
	CHECK(!ksm_set_run(1), "run=1 again");	/* wakes ksmd */
	CHECK(!wait_for_sharing(2), "ksmd, woken, never merged C");
	ksm_stop_thread();
	CHECK(!sim_process_verify(a, true) && !sim_process_verify(c, true),
	      "bytes");
	finish(__func__);
}

/*
 * ksmd has found D's twin in the stable tree when D writes its page (a
 * writable pte: no fault); ksmd write-protects it, compares again, finds
 * it changed, and does not merge it.
 */
static void test_merge_meets_write(void)
{
	static const struct sim_step steps[] = {
		{ "ksmd", "stable_tree_search:found" },
		{ "D", "done" },
		{ "ksmd", "done" },
	};
	struct job k = { .fn = job_scan, .vpn = 3 };
	struct job d = { .fn = job_write, .byte = 'w' };
	struct ksm_counters c;
	const char *tl;

	start(ERA_MIGRATION);
	d.mm = ksm_pair_and_d();
	sim_trace_enable(true);
	CHECK(!script2("ksmd", &k, "D", &d, steps, 3), "script: %s",
	      sim_run_error());
	sim_trace_stop();
	c = counters();
	CHECK(!d.ret && c.pages_shared == 1 && c.pages_sharing == 1,
	      "write %ld; shared %lu, sharing %lu", d.ret, c.pages_shared,
	      c.pages_sharing);
	CHECK(!capture_start(1), "capture");
	sim_timeline_print(stdout);
	tl = capture_end();
	sim_trace_enable(false);
	CHECK(strstr(tl, "changed since it matched"), "the timeline does not "
	      "say why D was not merged:\n%s", tl);
	CHECK(!sim_process_verify(d.mm, true), "bytes");
	finish(__func__);
}

/*
 * ksmd has found D's twin in the stable tree when D exits: the merge
 * sees the mm exiting (try_to_merge_with_ksm_page()), and D's page goes
 * when ksmd lets go of it.
 */
static void test_merge_meets_exit(void)
{
	static const struct sim_step steps[] = {
		{ "ksmd", "stable_tree_search:found" },
		{ "D", "done" },
		{ "ksmd", "done" },
	};
	struct job k = { .fn = job_scan, .vpn = 3 };
	struct job d = { .fn = job_exit };
	struct sim_mem_stats st;
	struct ksm_counters c;

	start(ERA_MIGRATION);
	d.mm = ksm_pair_and_d();
	CHECK(!script2("ksmd", &k, "D", &d, steps, 3), "script: %s",
	      sim_run_error());
	c = counters();
	CHECK(!d.ret && c.pages_shared == 1 && c.pages_sharing == 1,
	      "exit %ld; shared %lu, sharing %lu", d.ret, c.pages_shared,
	      c.pages_sharing);
	sim_mem_stats(-1, &st);
	CHECK(st.nr_used == 1 && activity().merges == 1, "%lu frames, %lu "
	      "merges", st.nr_used, activity().merges);
	finish(__func__);
}

/* ------------------------------------------------------------------ */
/* Migration and memory hotplug: the pages they must wait for, or leave. */

static int job_writeback(struct job *j)
{
	return (int)sim_file_writeback(j->file);
}

static int job_file_read(struct job *j)
{
	static unsigned char page[65536];

	if (sim_get_config()->page_size > sizeof(page))
		return -EINVAL;
	j->ret = sim_file_read(j->file, j->vpn, page);
	j->byte = (char)page[0];
	return (int)j->ret;
}

static int job_offline(struct job *j)
{
	return sim_offline_section((unsigned long)j->node);
}

/** The section of frame \a pfn. */
static int section_of(long pfn)
{
	return (int)(pfn / (long)sim_get_config()->pages_per_section);
}

/*
 * A dirty file page migrated to the other node takes its place in the
 * node's counts of file pages and of dirty ones; and a file page someone
 * holds (a pin) is not migrated: migrate_file_page_move_mapping() finds
 * its count not the expected one, pass after pass (-EAGAIN).
 */
static void test_migrate_file_pages(void)
{
	struct address_space *f;
	struct mm_struct *m;
	unsigned long pages[2], dirty[2];
	long pfn;
	char b;

	start(ERA_MIGRATION);
	f = sim_file_create("F", 2, 'f', true);
	m = sim_process_map_file("M", f);
	CHECK(f && m, "file");
	CHECK(!sim_process_write(m, 0, 0, "d", 1), "write");
	CHECK(!sim_process_read(m, 1, 0, &b, 1) && b == 'f', "read");
	pfn = sim_file_pfn(f, 0);
	CHECK(!sim_migrate_pfn((unsigned long)pfn, 1, false), "migrate");
	CHECK(sim_page_node(m, 0) == 1, "node %d", sim_page_node(m, 0));
	sim_node_file_stats(0, &pages[0], &dirty[0]);
	sim_node_file_stats(1, &pages[1], &dirty[1]);
	CHECK(pages[0] == 1 && dirty[0] == 0 && pages[1] == 1 && dirty[1] == 1,
	      "node 0: %lu pages, %lu dirty; node 1: %lu pages, %lu dirty",
	      pages[0], dirty[0], pages[1], dirty[1]);
	pfn = sim_pin_page(m, 1);
	CHECK(pfn == sim_file_pfn(f, 1), "pin");
	CHECK(sim_migrate_pfn((unsigned long)pfn, 1, false) == -EAGAIN,
	      "a pinned file page migrated");
	CHECK(sim_file_pfn(f, 1) == pfn && sim_page_node(m, 1) == 0,
	      "the pinned page moved");
	CHECK(!sim_unpin_page((unsigned long)pfn), "unpin");
	CHECK(!sim_process_verify(m, true) && !sim_file_verify(f, true),
	      "bytes");
	CHECK(!sim_process_exit(m) && !sim_file_destroy(f), "file gone");
	finish(__func__);
}

/*
 * A swap cache page that nothing maps, whose process exits while a
 * migration holds its lock: the exit cannot take the lock to free the
 * slot (free_swap_and_cache()'s trylock), and its anon_vma goes with its
 * last vma.  The migration then finds no anon_vma to hold, and the page
 * in the swap cache: it migrates the page, and remaps nothing
 * (remap_swapcache false), walking no freed anon_vma.  The new page stays
 * in the swap cache, for reclaim to free.
 */
static void test_migrate_swapcache_after_exit(void)
{
	static const struct sim_step steps[] = {
		{ "migrate", "unmap_and_move:locked" },
		{ "exit", "done" },
		{ "migrate", "done" },
	};
	struct job m = { .fn = job_migrate, .node = 1 };
	struct job e = { .fn = job_exit };
	struct sim_activity act;
	struct sim_mem_stats st;
	long pfn;

	start(ERA_MIGRATION);
	e.mm = sim_process_create("A", 1);
	fill(e.mm, 0, 'x');
	pfn = sim_pin_page(e.mm, 0);	/* keeps reclaim from freeing it */
	CHECK(pfn >= 0, "pin");
	sim_reclaim_pfn((unsigned long)pfn);	/* unmapped, not freed */
	CHECK(!sim_unpin_page((unsigned long)pfn), "unpin");
	CHECK(sim_process_pfn(e.mm, 0) < 0, "A still maps its page");
	m.pfn = pfn;
	CHECK(!script2("migrate", &m, "exit", &e, steps, 3), "script: %s",
	      sim_run_error());
	CHECK(m.ret == 0 && e.ret == 0, "migrate %ld, exit %ld", m.ret,
	      e.ret);
	sim_get_activity(&act);
	CHECK(act.migrations == 1, "%lu migrations", act.migrations);
	sim_mem_stats(-1, &st);
	CHECK(st.nr_used == 1 && st.swap_used == 1, "%lu frames, %lu slots: "
	      "the new page should hold the slot", st.nr_used, st.swap_used);
	CHECK(sim_shrink_lru(4) == 1, "reclaim frees the orphan");
	sim_mem_stats(-1, &st);
	CHECK(st.nr_used == 0 && st.swap_used == 0, "%lu frames, %lu slots",
	      st.nr_used, st.swap_used);
	finish(__func__);
}

/*
 * Migration meets a file page under writeback: its first passes leave it
 * (not forced), the later ones wait for the I/O to end
 * (wait_on_page_writeback() in unmap_and_move()); then it moves.
 */
static void test_migrate_waits_for_writeback(void)
{
	static const struct sim_step steps[] = {
		{ "flush", "writeback:io" },
		{ "migrate", "blocked" },
		{ "flush", "done" },
		{ "migrate", "done" },
	};
	struct job w = { .fn = job_writeback };
	struct job m = { .fn = job_migrate, .node = 1 };
	struct mm_struct *p;

	start(ERA_MIGRATION);
	w.file = sim_file_create("F", 1, 'f', false);
	p = sim_process_map_file("M", w.file);
	CHECK(w.file && p && !sim_process_write(p, 0, 0, "w", 1), "file");
	m.pfn = sim_file_pfn(w.file, 0);
	CHECK(!script2("flush", &w, "migrate", &m, steps, 4), "script: %s",
	      sim_run_error());
	CHECK(w.ret == 1 && m.ret == 0, "writeback %ld, migrate %ld", w.ret,
	      m.ret);
	CHECK(sim_page_node(p, 0) == 1, "node %d", sim_page_node(p, 0));
	CHECK(!sim_process_verify(p, true) && !sim_file_verify(w.file, true),
	      "bytes");
	CHECK(!sim_process_exit(p) && !sim_file_destroy(w.file), "file gone");
	finish(__func__);
}

/*
 * Migration meets a page that a swap-in holds locked: the first passes
 * leave it (trylock), the later ones sleep on the lock; once the fault
 * has mapped the page, it moves.
 */
static void test_migrate_waits_for_swapin(void)
{
	static const struct sim_step steps[] = {
		{ "A", "do_swap_page:locked" },
		{ "migrate", "blocked" },
		{ "A", "done" },
		{ "migrate", "done" },
	};
	struct job r = { .fn = job_read, .vpn = 0 };
	struct job m = { .fn = job_migrate, .node = 1 };

	start(ERA_MIGRATION);
	r.mm = sim_process_create("A", 1);
	fill(r.mm, 0, 's');
	/* The swap-in will have the frame swap-out frees (prompt reuse). */
	m.pfn = sim_process_pfn(r.mm, 0);
	CHECK(!sim_reclaim_process_page(r.mm, 0), "swap-out");
	CHECK(!script2("A", &r, "migrate", &m, steps, 4), "script: %s",
	      sim_run_error());
	CHECK(r.ret == 0 && r.byte == 's' && m.ret == 0, "read %ld '%c', "
	      "migrate %ld", r.ret, r.byte, m.ret);
	/* A swap cache page migrates with swap entries for ptes: read
	 * again, to map it. */
	CHECK(!sim_process_read(r.mm, 0, 0, &r.byte, 1) && r.byte == 's' &&
	      sim_page_node(r.mm, 0) == 1, "node %d", sim_page_node(r.mm, 0));
	CHECK(!sim_process_verify(r.mm, true), "bytes");
	finish(__func__);
}

/*
 * A pfn walker takes its reference on a page just after migration counted
 * the references (it has moved the mapping): the old page, left to the
 * walker, goes back to the LRU with no mapping, an orphan.  A migration
 * of the orphan finds nothing to unmap, nowhere to put it back, and its
 * count (the walker's) never the expected one: -EAGAIN.  The walker's put
 * frees it.
 */
static void test_migrate_orphan(void)
{
	static const struct sim_step steps[] = {
		{ "migrate", "migrate_page_move_mapping:moved" },
		{ "walker", "pfn_walk:got" },
		{ "migrate", "done" },
		{ "again", "done" },
		{ "walker", "done" },
	};
	struct job m = { .fn = job_migrate, .node = 1 };
	struct job w = { .fn = job_pfn_walk };
	struct job again = { .fn = job_migrate, .node = 1 };
	struct sim_actor_spec actors[3] = {
		{ "migrate", run_job, &m }, { "walker", run_job, &w },
		{ "again", run_job, &again },
	};
	struct sim_mem_stats st;
	struct mm_struct *a;

	start(ERA_MIGRATION);
	a = sim_process_create("A", 1);
	fill(a, 0, 'o');
	m.pfn = w.pfn = again.pfn = sim_process_pfn(a, 0);
	CHECK(!sim_run_script(actors, 3, steps, 5), "script: %s",
	      sim_run_error());
	CHECK(m.ret == 0 && w.ret == 1 && again.ret == -EAGAIN, "migrate %ld, "
	      "walk %ld, migrate again %ld", m.ret, w.ret, again.ret);
	sim_mem_stats(-1, &st);
	CHECK(st.nr_used == 1, "%lu frames: the orphan was not freed",
	      st.nr_used);
	CHECK(sim_page_node(a, 0) == 1, "node %d", sim_page_node(a, 0));
	CHECK(!sim_process_verify(a, true), "bytes");
	finish(__func__);
}

static int job_audit_all(struct job *j)
{
	return (int)audit_machine(&j->audit, false);
}

/*
 * The same for a file page with buffer heads, and for an anonymous page
 * swapped in and still in the swap cache: migration moves the buffers
 * (PG_private) or the swap entry (PG_swapcache) to the new page, with
 * page->private, so the orphan the walker holds carries none of them.
 * The auditor, run while the walker still holds it, finds no page with
 * buffers outside a file, nor a private word that is neither buffers nor
 * a swap entry.  (Its count of the walker's reference, which it cannot
 * see, is the walker's business.)
 */
static void test_migrate_orphan_private(void)
{
	static const struct sim_step steps[] = {
		{ "migrate", "migrate_page_move_mapping:moved" },
		{ "walker", "pfn_walk:got" },
		{ "migrate", "done" },
		{ "audit", "done" },
		{ "walker", "done" },
	};
	struct job m = { .fn = job_migrate, .node = 1 };
	struct job w = { .fn = job_pfn_walk };
	struct job au = { .fn = job_audit_all };
	struct sim_actor_spec actors[3] = {
		{ "migrate", run_job, &m }, { "walker", run_job, &w },
		{ "audit", run_job, &au },
	};
	struct address_space *f = NULL;
	struct mm_struct *a = NULL;
	char name[64], c;
	int swapped;

	for (swapped = 0; swapped < 2; swapped++) {
		start(ERA_MIGRATION);
		if (swapped) {
			a = sim_process_create("A", 1);
			fill(a, 0, 's');
			CHECK(!sim_reclaim_process_page(a, 0) &&
			      !sim_process_read(a, 0, 0, &c, 1),
			      "swap-out and swap-in");
			m.pfn = w.pfn = sim_process_pfn(a, 0);
		} else {
			f = sim_file_create("F", 1, 'f', true);
			CHECK(f && !sim_file_cache_page(f, 0, 0), "file");
			m.pfn = w.pfn = sim_file_pfn(f, 0);
		}
		CHECK(!sim_run_script(actors, 3, steps, 5), "script: %s",
		      sim_run_error());
		CHECK(m.ret == 0 && w.ret == 1, "migrate %ld, walk %ld", m.ret,
		      w.ret);
		CHECK(!au.audit.count[AUDIT_FILE] &&
		      !au.audit.count[AUDIT_ALLOCATOR], "the audit with the "
		      "orphan held: %lu file, %lu allocator violations",
		      (unsigned long)au.audit.count[AUDIT_FILE],
		      (unsigned long)au.audit.count[AUDIT_ALLOCATOR]);
		if (swapped) {
			CHECK(sim_process_pfn(a, 0) != m.pfn &&
			      !sim_process_verify(a, true), "A's page");
		} else {
			CHECK(sim_file_pfn(f, 0) != m.pfn &&
			      !sim_file_verify(f, true), "the file's page");
			CHECK(!sim_file_destroy(f), "file gone");
		}
		snprintf(name, sizeof(name), "%s(%s)", __func__,
			 swapped ? "swap cache" : "file");
		finish(name);
	}
}

/*
 * mbind() of pages already on the node asked for leaves them where they
 * are (check_pte_range() passes over them): a second mbind() to the same
 * node moves nothing.
 */
static void test_mbind_twice(void)
{
	struct mm_struct *a;
	long pfn0, pfn1;

	start(ERA_MIGRATION);
	a = sim_process_create("A", 2);
	fill(a, 0, 'b');
	fill(a, 1, 'B');
	CHECK(!sim_mbind(a, 1, true), "mbind");
	pfn0 = sim_process_pfn(a, 0);
	pfn1 = sim_process_pfn(a, 1);
	CHECK(sim_page_node(a, 0) == 1 && sim_page_node(a, 1) == 1, "nodes "
	      "%d and %d", sim_page_node(a, 0), sim_page_node(a, 1));
	CHECK(!sim_mbind(a, 1, true), "mbind again");
	CHECK(sim_process_pfn(a, 0) == pfn0 && sim_process_pfn(a, 1) == pfn1,
	      "pages moved within node 1");
	CHECK(activity().migrations == 2, "%lu migrations",
	      activity().migrations);
	CHECK(!sim_process_verify(a, true), "bytes");
	finish(__func__);
}

/*
 * A first touch has its new page, not yet on the LRU nor mapped, when its
 * section is taken offline.  That page cannot be migrated, and must not
 * be freed: do_migrate_range() finds it in use and not movable (when an
 * LRU page precedes it), check_pages_isolated() finds it not free (when
 * none does); either way the offline is cancelled, and A's page lives.
 */
static void test_offline_meets_new_page(void)
{
	static const struct sim_step steps[] = {
		{ "A", "do_anonymous_page:allocated" },
		{ "offline", "done" },
		{ "A", "done" },
	};
	struct job w = { .fn = job_write, .vpn = 1, .byte = 'n' };
	struct job o = { .fn = job_offline };
	struct sim_mem_stats st;
	int alone;

	for (alone = 0; alone < 2; alone++) {
		start(ERA_MIGRATION);
		w.mm = sim_process_create("A", 2);
		fill(w.mm, 0, 'a');
		o.node = section_of(sim_process_pfn(w.mm, 0));
		/* Alone: page 0 goes, and page 1 will have its frame. */
		if (alone)
			CHECK(!sim_migrate_pfn((unsigned long)
					       sim_process_pfn(w.mm, 0), 1,
					       false), "migrate");
		CHECK(!script2("A", &w, "offline", &o, steps, 3), "script: %s",
		      sim_run_error());
		CHECK(w.ret == 0 && o.ret == -EBUSY, "write %ld, offline %ld",
		      w.ret, o.ret);
		CHECK(section_of(sim_process_pfn(w.mm, 1)) == o.node, "the new "
		      "page is not in section %d", o.node);
		sim_mem_stats(o.node, &st);
		CHECK(!st.nr_offline, "section %d offline", o.node);
		CHECK(!sim_process_verify(w.mm, true), "bytes");
		/* Now it can go: every page of it migrates. */
		CHECK(!sim_offline_section((unsigned long)o.node), "offline");
		CHECK(!sim_process_verify(w.mm, true), "bytes");
		CHECK(!sim_online_section((unsigned long)o.node), "online");
		finish(alone ? "test_offline_meets_new_page_alone" :
		       "test_offline_meets_new_page");
	}
}

/*
 * read(2) has read a file page's slot, and not yet taken a reference,
 * when the section goes offline: the page migrates, and the offline waits
 * for the lookup to end (synchronize_rcu()) before the memmap goes; the
 * lookup, finding its page gone, looks again and reads the new one.
 */
static void test_offline_waits_for_lookup(void)
{
	static const struct sim_step steps[] = {
		{ "read", "find_get_page:slot" },
		{ "offline", "blocked" },
	};
	struct job r = { .fn = job_file_read, .vpn = 0 };
	struct job o = { .fn = job_offline };

	start(ERA_MIGRATION);
	r.file = sim_file_create("F", 1, 'f', false);
	CHECK(r.file && !sim_file_cache_page(r.file, 0, 0), "file");
	o.node = section_of(sim_file_pfn(r.file, 0));
	CHECK(!script2("read", &r, "offline", &o, steps, 2), "script: %s",
	      sim_run_error());
	CHECK(r.ret == 0 && r.byte == 'f' && o.ret == 0, "read %ld '%c', "
	      "offline %ld", r.ret, r.byte, o.ret);
	CHECK(section_of(sim_file_pfn(r.file, 0)) != o.node, "the page is "
	      "still in section %d", o.node);
	CHECK(!sim_file_verify(r.file, true), "bytes");
	CHECK(!sim_online_section((unsigned long)o.node), "online");
	CHECK(!sim_file_destroy(r.file), "file gone");
	finish(__func__);
}

/*
 * A KSM page still in the swap cache is swapped in by a write of its one
 * remaining mapper: it is mapped again, but read-only even so
 * (reuse_swap_page() never reuses a KSM page), and the write copies it.
 */
static void test_swapin_ksm_page_to_write(void)
{
	struct mm_struct *a, *b;
	long kpfn;

	start(ERA_MIGRATION);
	merged_pair(&a, &b, 1, 'K');
	CHECK(!sim_process_exit(b), "exit");
	kpfn = sim_process_pfn(a, 0);
	/* Into the swap cache, unmapped, not freed: a pin keeps it. */
	CHECK(sim_pin_page(a, 0) == kpfn, "pin");
	CHECK(sim_reclaim_pfn((unsigned long)kpfn) == -EBUSY, "reclaim");
	CHECK(!sim_unpin_page((unsigned long)kpfn), "unpin");
	CHECK(sim_process_pfn(a, 0) == -1, "unmapped");
	fill(a, 0, 'w');
	CHECK(sim_process_pfn(a, 0) != kpfn, "the write went to the KSM page");
	CHECK(activity().unmerges == 1, "%lu unmerges", activity().unmerges);
	CHECK(!sim_process_verify(a, true), "bytes");
	finish(__func__);
}

/*
 * Reclaim meets a page that a swap-in holds locked: the trylock in
 * shrink_page() fails, and the page is kept.
 */
static void test_reclaim_meets_locked_page(void)
{
	static const struct sim_step steps[] = {
		{ "A", "do_swap_page:locked" },
		{ "reclaim", "done" },
		{ "A", "done" },
	};
	struct job r = { .fn = job_read, .vpn = 0 };
	struct job k = { .fn = job_reclaim };

	start(ERA_KEYHOLE);
	r.mm = sim_process_create("A", 1);
	fill(r.mm, 0, 'l');
	/* The swap-in will have the frame swap-out frees (prompt reuse). */
	k.pfn = sim_process_pfn(r.mm, 0);
	CHECK(!sim_reclaim_process_page(r.mm, 0), "swap-out");
	CHECK(!script2("A", &r, "reclaim", &k, steps, 3), "script: %s",
	      sim_run_error());
	CHECK(r.ret == 0 && r.byte == 'l' && k.ret == -EBUSY, "read %ld '%c', "
	      "reclaim %ld", r.ret, r.byte, k.ret);
	CHECK(sim_process_pfn(r.mm, 0) == k.pfn, "A's page is not the one "
	      "reclaim met");
	CHECK(!sim_process_verify(r.mm, true), "bytes");
	finish(__func__);
}

/*
 * A, B and C shared a KSM page, swapped out: their three ptes hold one
 * swap entry.  A swaps it in first, so the swap cache page is A's; then
 * two threads of B fault it at once, and each must have a copy of its
 * own (ksm_might_need_to_copy()).  The first maps its copy; the second,
 * which waited for the page lock, finds the pte changed, and frees the
 * copy it made.  C's pte keeps the page in the swap cache meanwhile.
 */
static void test_two_swapins_of_a_copy(void)
{
	static const struct sim_step steps[] = {
		{ "B1", "do_swap_page:locked" },
		{ "B2", "blocked" },
		{ "B1", "done" },
		{ "B2", "done" },
	};
	struct job b1 = { .fn = job_read, .vpn = 0 };
	struct job b2 = { .fn = job_read, .vpn = 0 };
	struct mm_struct *a, *c;
	struct sim_mem_stats st;
	char x = 0;

	start(ERA_MIGRATION);
	merged_pair(&a, &b1.mm, 1, 'S');
	c = sim_process_create("C", 1);
	fill(c, 0, 'S');
	sim_process_madvise(c, true);
	ksm_scan_full(2);
	b2.mm = b1.mm;
	CHECK(counters().pages_sharing == 2, "sharing %lu",
	      counters().pages_sharing);
	CHECK(!sim_reclaim_process_page(a, 0), "swap-out");
	CHECK(!sim_process_read(a, 0, 0, &x, 1) && x == 'S', "A's swap-in");
	CHECK(!script2("B1", &b1, "B2", &b2, steps, 4), "script: %s",
	      sim_run_error());
	CHECK(!b1.ret && !b2.ret && b1.byte == 'S' && b2.byte == 'S',
	      "reads %ld '%c', %ld '%c'", b1.ret, b1.byte, b2.ret, b2.byte);
	sim_mem_stats(-1, &st);
	CHECK(st.nr_used == 2 && st.swap_used == 1, "%lu frames (A's page "
	      "and B's copy), %lu slots (C's)", st.nr_used, st.swap_used);
	CHECK(sim_process_pfn(b1.mm, 0) != sim_process_pfn(a, 0), "B maps "
	      "A's page");
	CHECK(!sim_process_verify(a, true) && !sim_process_verify(b1.mm, true)
	      && !sim_process_verify(c, true), "bytes");
	finish(__func__);
}

/* ------------------------------------------------------------------ */
/* Exchange (seed 003): what it refuses, waits for, and moves. */

static int job_exchange(struct job *j)
{
	return sim_exchange_pfns((unsigned long)j->pfn,
				 (unsigned long)j->node);
}

/*
 * Exchange refuses a pair it cannot take: a page someone else holds (a
 * pin: the count is not the one expected, -EAGAIN), and a frame that is
 * not on the LRU (a free one, -EBUSY).
 */
static void test_exchange_refusals(void)
{
	struct sim_mem_stats s0, s1;
	struct mm_struct *a, *c;
	long pa, pc;

	start(ERA_EXCHANGE);
	a = sim_process_create("A", 1);
	c = sim_process_create("C", 1);
	fill(a, 0, 'a');
	fill(c, 0, 'c');
	pa = sim_process_pfn(a, 0);
	pc = sim_pin_page(c, 0);
	CHECK(pc >= 0, "pin");
	sim_mem_stats(-1, &s0);
	CHECK(sim_exchange_pfns((unsigned long)pa, (unsigned long)pc) ==
	      -EAGAIN, "exchange with a pinned page");
	CHECK(!sim_unpin_page((unsigned long)pc), "unpin");
	CHECK(sim_exchange_pfns((unsigned long)pa, sim_nr_pages() - 1) ==
	      -EBUSY, "exchange with a free frame");
	CHECK(sim_process_pfn(a, 0) == pa && sim_process_pfn(c, 0) == pc,
	      "a page moved");
	sim_mem_stats(-1, &s1);
	CHECK(s1.bytes_copied == s0.bytes_copied &&
	      s1.nr_exchanged == s0.nr_exchanged, "a refusal copied %lu "
	      "bytes", s1.bytes_copied - s0.bytes_copied);
	CHECK(!sim_exchange_pfns((unsigned long)pa, (unsigned long)pc),
	      "exchange");
	CHECK(sim_process_pfn(a, 0) == pc && sim_process_pfn(c, 0) == pa,
	      "the pages were not exchanged");
	/* An exchange writes both frames; a migration one.  Refusals none. */
	sim_mem_stats(-1, &s1);
	CHECK(s1.bytes_copied - s0.bytes_copied == 2 * 4096 &&
	      s1.nr_exchanged == s0.nr_exchanged + 1, "%lu bytes copied, "
	      "%lu exchanges", s1.bytes_copied - s0.bytes_copied,
	      s1.nr_exchanged - s0.nr_exchanged);
	CHECK(!sim_migrate_pfn((unsigned long)sim_process_pfn(a, 0), 1,
			       false), "migrate");
	sim_mem_stats(-1, &s0);
	CHECK(s0.bytes_copied - s1.bytes_copied == 4096, "%lu bytes copied "
	      "by a migration", s0.bytes_copied - s1.bytes_copied);
	CHECK(!sim_process_verify(a, true) && !sim_process_verify(c, true),
	      "bytes");
	finish(__func__);
}

/*
 * A dirty page of a file with buffer heads, exchanged with an anonymous
 * page on the other node: the node's counts of file pages and of dirty
 * ones go with it (seed 003, R13.counters).
 */
static void test_exchange_dirty_file_page(void)
{
	char b[4096];
	struct address_space *f;
	struct mm_struct *m, *a;
	unsigned long pages[2], dirty[2];

	start(ERA_EXCHANGE);
	f = sim_file_create("F", 1, 'f', true);
	m = sim_process_map_file("M", f);
	a = sim_process_create("A", 1);
	CHECK(f && m && a, "file");
	CHECK(!sim_process_write(m, 0, 0, "d", 1), "write");
	sim_process_set_node(a, 1);
	fill(a, 0, 'a');
	CHECK(!sim_exchange_pages(a, 0, m, 0), "exchange");
	CHECK(sim_page_node(m, 0) == 1 && sim_page_node(a, 0) == 0, "nodes "
	      "%d and %d", sim_page_node(m, 0), sim_page_node(a, 0));
	sim_node_file_stats(0, &pages[0], &dirty[0]);
	sim_node_file_stats(1, &pages[1], &dirty[1]);
	CHECK(pages[0] == 0 && dirty[0] == 0 && pages[1] == 1 && dirty[1] == 1,
	      "node 0: %lu pages, %lu dirty; node 1: %lu pages, %lu dirty",
	      pages[0], dirty[0], pages[1], dirty[1]);
	CHECK(!sim_process_verify(m, true) && !sim_process_verify(a, true) &&
	      !sim_file_verify(f, true), "bytes");
	/* The flags went with the bytes (exchange_page_flags()): the file's
	 * page is uptodate, read(2) copies it as it is, and dirty, written
	 * back once; the anonymous page is neither's. */
	CHECK(!sim_file_read(f, 0, b) && b[0] == 'd', "read(2): '%c'", b[0]);
	CHECK(sim_file_writeback(f) == 1 && sim_file_writeback(f) == 0,
	      "writeback of the one dirty page, once");
	CHECK(!audit_machine(NULL, true), "audit, the file still there");
	CHECK(!sim_process_exit(m) && !sim_file_destroy(f), "file gone");
	finish(__func__);
}

/*
 * Exchange meets one of its pages locked by a swap-in, the second (to_page)
 * or, with \a first, the first (from_page): it sleeps on the lock
 * (unmap_and_exchange(), synchronous), and then finds the page in the swap
 * cache, which it refuses.
 */
static void test_exchange_waits_for_lock(bool first, const char *name)
{
	static const struct sim_step steps[] = {
		{ "A", "do_swap_page:locked" },
		{ "exchange", "blocked" },
		{ "A", "done" },
		{ "exchange", "done" },
	};
	struct job r = { .fn = job_read, .vpn = 0 };
	struct job x = { .fn = job_exchange };
	struct mm_struct *c;

	start(ERA_EXCHANGE);
	r.mm = sim_process_create("A", 1);
	c = sim_process_create("C", 1);
	fill(r.mm, 0, 's');
	fill(c, 0, 'c');
	x.pfn = sim_process_pfn(c, 0);
	/* The swap-in will have the frame swap-out frees (prompt reuse). */
	x.node = (int)sim_process_pfn(r.mm, 0);
	if (first) {
		x.node = (int)x.pfn;
		x.pfn = sim_process_pfn(r.mm, 0);
	}
	CHECK(!sim_reclaim_process_page(r.mm, 0), "swap-out");
	CHECK(!script2("A", &r, "exchange", &x, steps, 4), "script: %s",
	      sim_run_error());
	CHECK(r.ret == 0 && r.byte == 's' && x.ret == -EBUSY, "read %ld '%c', "
	      "exchange %ld", r.ret, r.byte, x.ret);
	CHECK(sim_process_pfn(r.mm, 0) == (first ? x.pfn : x.node), "A's page "
	      "is not the one the exchange met");
	CHECK(!sim_process_verify(r.mm, true) && !sim_process_verify(c, true),
	      "bytes");
	finish(name);
}

static struct mm_struct *aba_a, *aba_e;

static int job_ksmd_batch(struct job *j)
{
	(void)j;
	ksm_scan_pages(4);
	return 0;
}

/** Exchange A's page with E's, wherever each is now (E's first if
 * j->node). */
static int job_exchange_a_e(struct job *j)
{
	unsigned long a = (unsigned long)sim_process_pfn(aba_a, 0);
	unsigned long e = (unsigned long)sim_process_pfn(aba_e, 0);

	return j->node ? sim_exchange_pfns(e, a) : sim_exchange_pfns(a, e);
}

/*
 * R8.aba by exchange: ksmd's get_ksm_page() reads kpfn K; an exchange
 * takes the KSM page to E's frame and E's page to K; ksmd finds K not
 * keyed (stale:); a second exchange brings each back, and kpfn is K
 * again.  The count of moves (kpfn_seq) must tell ksmd the page moved:
 * each order of the exchange's stores counts the move with its new kpfn
 * (stable_node_moved()).  With the refusal off, in each order, the KSM
 * page first or second, the node survives, D joins the KSM page, and
 * every byte holds.  And the chart says where ksmd's second look got K:
 * an arrow "kpfn K" from the exchange that stored it back, to ksmd (each
 * order's store of kpfn gives it, get_ksm_page()'s load takes it).
 */
static void test_exchange_aba(void)
{
	static const struct sim_step steps[] = {
		{ "ksmd", "get_ksm_page:look" },	/* has read kpfn: K */
		{ "exchange", "done" },			/* K to E's frame */
		{ "ksmd", "get_ksm_page:stale" },	/* K is not the key */
		{ "back", "done" },			/* and back to K */
		{ "ksmd", "done" },
	};
	static const enum xchg_ksm_order orders[] = {
		XCHG_KSM_RFC, XCHG_KSM_KPFN_FIRST, XCHG_KSM_ADVANCE,
	};
	struct job k = { .fn = job_ksmd_batch };
	struct job x = { .fn = job_exchange_a_e };
	struct job y = { .fn = job_exchange_a_e };
	struct sim_actor_spec actors[3] = {
		{ "ksmd", run_job, &k }, { "exchange", run_job, &x },
		{ "back", run_job, &y },
	};
	struct mm_struct *b, *d;
	const char *chart;
	char name[64];
	long kpfn;
	size_t o;

	for (o = 0; o < 2 * sizeof(orders) / sizeof(orders[0]); o++) {
		x.node = y.node = (int)(o & 1);	/* the KSM page first, second */
		start(ERA_EXCHANGE);
		ksm_fix_set(FIX_XCHG_REFUSE_KSM, false);
		ksm_set_exchange_order(orders[o / 2]);
		merged_pair(&aba_a, &b, 1, 'X');
		d = sim_process_create("D", 1);
		sim_process_set_node(d, 1);
		fill(d, 0, 'X');
		sim_process_madvise(d, true);
		aba_e = sim_process_create("E", 1);
		fill(aba_e, 0, 'e');
		kpfn = sim_process_pfn(aba_a, 0);
		sim_trace_enable(true);
		CHECK(!sim_run_script(actors, 3, steps, 5), "order %zu: %s", o,
		      sim_run_error());
		sim_trace_stop();
		snprintf(name, sizeof(name), "kpfn %ld", kpfn);
		CHECK(!capture_start(1), "capture");
		sim_timeline_print_msc(stdout);
		chart = capture_end();
		sim_trace_enable(false);
		CHECK(msc_arrow(chart, "back", "ksmd", name), "order %zu: no "
		      "arrow \"%s\" from back to ksmd in the chart:\n%s", o,
		      name, chart);
		CHECK(x.ret == 0 && y.ret == 0, "order %zu: exchanges %ld, %ld",
		      o, x.ret, y.ret);
		CHECK(sim_process_pfn(aba_a, 0) == kpfn, "order %zu: the page "
		      "did not come back to its frame", o);
		ksm_scan_full(1);
		CHECK(counters().stable_nodes == 1 &&
		      counters().pages_sharing == 2, "order %zu: %lu nodes, "
		      "%lu sharing", o, counters().stable_nodes,
		      counters().pages_sharing);
		CHECK(!sim_process_verify(aba_a, true) &&
		      !sim_process_verify(b, true) &&
		      !sim_process_verify(d, true) &&
		      !sim_process_verify(aba_e, true), "order %zu: bytes", o);
		snprintf(name, sizeof(name), "%s(order %zu)", __func__, o);
		finish(name);
	}
}

/*
 * The write barriers of the two ordered exchanges of a KSM page, on a
 * weakly ordered CPU (the exchange's stores held in its store buffer by
 * the script's "delay" steps; kpfn_seq off, as in the kernel's
 * get_ksm_page()).  ksmd's get_ksm_page() looks while the exchange's
 * first stores are still held:
 *  - kpfn first: ksm_exchange_kpfn_first()'s smp_wmb() keeps the mapping
 *    exchange behind kpfn, so ksmd sees neither, and K still keyed;
 *  - migration's order: the new kpfn waits behind the other page's key,
 *    set in advance, so ksmd sees the old kpfn, and K still keyed (the
 *    smp_wmb() in the SetPageUptodate() of exchange_page_flags() orders
 *    them already, before ksm_exchange_page()'s own: Appendix B).
 * Either way the node lives, and a full scan then merges D with A and B.
 * Without the barrier ksmd would see the later stores without the earlier
 * (kpfn naming a frame not yet keyed, or the mappings exchanged under an
 * old kpfn), judge the node stale, and remove it while its page lives.
 */
static void test_exchange_ksm_barriers(void)
{
	static const struct sim_step kpfn_first[] = {
		{ "exchange", "delay to_node->kpfn" },
		{ "exchange", "delay from_node->kpfn" },
		{ "exchange", "exchange_page_move_mapping:swapped" },
		{ "ksmd", "blocked|done" },
		{ "exchange", "done" },
		{ "ksmd", "done" },
	};
	static const struct sim_step advance[] = {
		{ "exchange", "delay page->mapping" },
		{ "exchange", "ksm_exchange_page:kpfn" },
		{ "ksmd", "blocked|done" },
		{ "exchange", "done" },
		{ "ksmd", "done" },
	};
	static const struct {
		enum xchg_ksm_order order;
		const struct sim_step *steps;
		int nr_steps;
		const char *name;
	} runs[] = {
		{ XCHG_KSM_KPFN_FIRST, kpfn_first, 6,
		  "test_exchange_ksm_barriers(kpfn first)" },
		{ XCHG_KSM_ADVANCE, advance, 5,
		  "test_exchange_ksm_barriers(migration's order)" },
	};
	struct sim_config cfg = { .nr_sections = 4, .era = ERA_EXCHANGE,
				  .model = SIM_MODEL_WEAK };
	struct job k = { .fn = job_ksmd_batch };
	struct job x = { .fn = job_exchange_a_e };
	struct sim_actor_spec actors[2] = {
		{ "ksmd", run_job, &k }, { "exchange", run_job, &x },
	};
	struct mm_struct *b, *d;
	size_t i;

	for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		CHECK(!sim_init(&cfg), "sim_init");
		sim_set_quiet(true);
		ksm_fix_set(FIX_XCHG_REFUSE_KSM, false);
		ksm_fix_set(FIX_KPFN_SEQ, false);
		ksm_set_exchange_order(runs[i].order);
		merged_pair(&aba_a, &b, 1, 'X');
		aba_e = sim_process_create("E", 1);
		fill(aba_e, 0, 'e');
		d = sim_process_create("D", 1);
		fill(d, 0, 'X');
		sim_process_madvise(d, true);
		ksm_scan_pages(2);		/* past A and B: D comes next */
		CHECK(!sim_run_script(actors, 2, runs[i].steps,
				      runs[i].nr_steps), "%s: %s", runs[i].name,
		      sim_run_error());
		CHECK(x.ret == 0, "%s: the exchange returned %ld", runs[i].name,
		      x.ret);
		CHECK(counters().stable_nodes == 1, "%s: %lu stable nodes after "
		      "the exchange", runs[i].name, counters().stable_nodes);
		ksm_scan_full(1);
		CHECK(counters().stable_nodes == 1 &&
		      counters().pages_sharing == 2, "%s: %lu nodes, %lu "
		      "sharing", runs[i].name, counters().stable_nodes,
		      counters().pages_sharing);
		CHECK(!sim_process_verify(aba_a, true) &&
		      !sim_process_verify(b, true) &&
		      !sim_process_verify(d, true) &&
		      !sim_process_verify(aba_e, true), "%s: bytes",
		      runs[i].name);
		finish(runs[i].name);
	}
}

/*
 * A new machine exchanges a KSM page in the RFC's order, whatever the
 * last machine was set to, as it has every fix on: sim_init() sets the
 * order back as ksm_set_era() does.  The exchange's own line says which
 * order it took ("kpfn not yet updated": the RFC's).
 */
static void test_exchange_order_reset(void)
{
	struct mm_struct *a, *b, *e;
	const char *tl;
	long ka, pe;

	start(ERA_EXCHANGE);
	ksm_set_exchange_order(XCHG_KSM_ADVANCE);
	sim_exit();
	start(ERA_EXCHANGE);
	ksm_fix_set(FIX_XCHG_REFUSE_KSM, false);
	merged_pair(&a, &b, 1, 'K');
	e = sim_process_create("E", 1);
	fill(e, 0, 'e');
	ka = sim_process_pfn(a, 0);
	pe = sim_process_pfn(e, 0);
	sim_trace_enable(true);
	CHECK(!sim_exchange_pfns((unsigned long)ka, (unsigned long)pe),
	      "exchange");
	sim_trace_stop();
	CHECK(!capture_start(1), "capture");
	sim_timeline_set_width(200);	/* each line unwrapped */
	sim_timeline_print(stdout);
	sim_timeline_set_width(96);
	tl = capture_end();
	sim_trace_enable(false);
	CHECK(strstr(tl, "kpfn not yet updated") && !strstr(tl, "in advance"),
	      "the new machine did not exchange in the RFC's order:\n%s", tl);
	CHECK(!sim_process_verify(a, true) && !sim_process_verify(b, true) &&
	      !sim_process_verify(e, true), "bytes");
	finish(__func__);
}

/*
 * R14's three orders of the stores of a KSM page's exchange, with the
 * refusal switched off, each in a run with no one else about: each keeps
 * the stable node naming the frame its bytes went to.  (Chapter 7: in a
 * race with get_ksm_page() or stable_tree_search(), each goes wrong.)
 * Migration's order refuses two KSM pages, and passes over a pair of
 * plain ones.
 */
static void test_exchange_ksm_orders(void)
{
	struct mm_struct *a, *b, *c, *d, *e, *g, *h;
	long ka, kc, pe;
	int o;

	start(ERA_EXCHANGE);
	ksm_fix_set(FIX_XCHG_REFUSE_KSM, false);
	merged_pair(&a, &b, 1, 'K');
	c = sim_process_create("C", 1);
	d = sim_process_create("D", 1);
	e = sim_process_create("E", 1);
	g = sim_process_create("G", 1);
	fill(c, 0, 'L');
	fill(d, 0, 'L');
	fill(e, 0, 'e');
	fill(g, 0, 'g');
	sim_process_madvise(c, true);
	sim_process_madvise(d, true);
	ksm_scan_full(2);
	CHECK(counters().pages_shared == 2, "%lu KSM pages",
	      counters().pages_shared);
	ka = sim_process_pfn(a, 0);
	kc = sim_process_pfn(c, 0);
	pe = sim_process_pfn(e, 0);

	/* The RFC's, with the KSM page second: its node is found on the
	 * first page, once the mappings are exchanged. */
	CHECK(!sim_exchange_pfns((unsigned long)pe, (unsigned long)ka),
	      "exchange, RFC order");
	CHECK(sim_process_pfn(a, 0) == pe && sim_process_pfn(b, 0) == pe,
	      "A and B do not map the frame K went to");
	CHECK(!audit_machine(NULL, true), "audit, RFC order");
	/* The issue's alternative, with the KSM page second (to_page):
	 * its node names the first before the mappings are exchanged. */
	ksm_set_exchange_order(XCHG_KSM_KPFN_FIRST);
	CHECK(!sim_exchange_pfns((unsigned long)ka, (unsigned long)pe),
	      "exchange, kpfn first");
	CHECK(sim_process_pfn(a, 0) == ka, "K did not come back");
	CHECK(!audit_machine(NULL, true), "audit, kpfn first");
	/* Both orders again with the KSM page on the other side, then two
	 * KSM pages: each node must follow its own bytes. */
	for (o = 0; o < 2; o++) {
		ksm_set_exchange_order(o ? XCHG_KSM_KPFN_FIRST : XCHG_KSM_RFC);
		ka = sim_process_pfn(a, 0);
		pe = sim_process_pfn(e, 0);
		CHECK(!sim_exchange_pfns((unsigned long)(o ? pe : ka),
					 (unsigned long)(o ? ka : pe)),
		      "exchange %d, the KSM page on the other side", o);
		CHECK(sim_process_pfn(b, 0) == pe && sim_process_pfn(e, 0) == ka,
		      "order %d: not exchanged", o);
		CHECK(!audit_machine(NULL, true), "audit, order %d", o);
		ka = sim_process_pfn(a, 0);
		kc = sim_process_pfn(c, 0);
		CHECK(!sim_exchange_pfns((unsigned long)ka, (unsigned long)kc),
		      "order %d: two KSM pages", o);
		CHECK(sim_process_pfn(b, 0) == kc && sim_process_pfn(d, 0) == ka,
		      "order %d: two KSM pages not exchanged", o);
		CHECK(!audit_machine(NULL, true), "audit, order %d, two KSM "
		      "pages", o);
	}
	/* And ksmd still finds each node's bytes where kpfn says. */
	h = sim_process_create("H", 2);
	fill(h, 0, 'K');
	fill(h, 1, 'L');
	sim_process_madvise(h, true);
	ksm_scan_full(2);
	CHECK(counters().pages_shared == 2 && counters().pages_sharing == 4,
	      "%lu shared, %lu sharing: H did not join both KSM pages",
	      counters().pages_shared, counters().pages_sharing);
	CHECK(sim_process_pfn(h, 0) == sim_process_pfn(a, 0) &&
	      sim_process_pfn(h, 1) == sim_process_pfn(c, 0), "H maps "
	      "other frames");
	ka = sim_process_pfn(a, 0);
	kc = sim_process_pfn(c, 0);
	pe = sim_process_pfn(e, 0);
	/* Migration's. */
	ksm_set_exchange_order(XCHG_KSM_ADVANCE);
	CHECK(sim_exchange_pfns((unsigned long)ka, (unsigned long)kc) ==
	      -EBUSY, "two KSM pages exchanged in migration's order");
	CHECK(!sim_exchange_pfns((unsigned long)ka, (unsigned long)pe),
	      "exchange, migration's order");
	CHECK(sim_process_pfn(a, 0) == pe && sim_process_pfn(e, 0) == ka,
	      "not exchanged");
	pe = sim_process_pfn(e, 0);
	CHECK(!sim_exchange_pages(e, 0, g, 0), "a plain pair, migration's "
	      "order");
	CHECK(sim_process_pfn(g, 0) == pe, "not exchanged");
	CHECK(!sim_process_verify(a, true) && !sim_process_verify(b, true) &&
	      !sim_process_verify(c, true) && !sim_process_verify(d, true) &&
	      !sim_process_verify(e, true) && !sim_process_verify(g, true) &&
	      !sim_process_verify(h, true), "bytes");
	finish(__func__);
}

/* ------------------------------------------------------------------ */
/* CONFIG_DEBUG_VM: the design's own checks, and what they print. */

/** A scenario that kills the simulated kernel, and what it said. */
struct death {
	void (*fn)(void *arg);		/**< the scenario */
	void *arg;			/**< ...its argument */
	int died;			/**< sim_guarded()'s verdict */
	char what[256];			/**< the oops */
	const char *err;		/**< what was printed on stderr */
};

/**
 * Run \a d's scenario under sim_guarded() from a snapshot of the machine
 * (as the explorer does), catching stderr; then put the machine back as
 * it was.  -1 if this build cannot take snapshots (a sanitizer's).
 */
static int run_to_death(struct death *d)
{
	if (sim_snapshot_take())
		return -1;
	if (capture_start(2)) {
		sim_snapshot_drop();
		return -1;
	}
	d->died = sim_guarded(d->fn, d->arg, d->what, sizeof(d->what));
	d->err = capture_end();
	sim_snapshot_restore();
	sim_snapshot_drop();
	return 0;
}

static struct mm_struct *life_a, *life_b;

/** A and B exit, and ksmd comes by (R3.life's scenario). */
static void exits_then_scan(void *arg)
{
	(void)arg;
	sim_process_exit(life_a);
	sim_process_exit(life_b);
	ksm_scan_full(3);
}

/*
 * With the keyhole's node life switched off (R3.life), the stable node
 * goes with the last rmap_item while A's child still maps its page; when
 * ksmd appends the child's rmap_item to it, stable_node_check() oopses,
 * and prints what it knows first: the node, found in quarantine, was made
 * before CONFIG_DEBUG_VM was switched on and has no history.
 */
static void test_debug_vm_node_not_in_tree(void)
{
	struct death d = { .fn = exits_then_scan };

	start(ERA_KEYHOLE);
	sim_set_debug_vm(false);
	merged_pair(&life_a, &life_b, 1, 'X');
	CHECK(sim_process_fork(life_a, "A2"), "fork");
	ksm_fix_set(FIX_KEYHOLE_NODE_LIFE, false);
	sim_set_debug_vm(true);
	if (run_to_death(&d)) {
		sim_exit();
		printf("skip %s: no snapshots in this build (a sanitizer's)\n",
		       __func__);
		return;
	}
	CHECK(d.died == 1 && strstr(d.what, "Oops in stable_tree_append: a "
				    "stable node that is not in the stable "
				    "tree"), "died %d: %s", d.died, d.what);
	CHECK(strstr(d.err, "stable node 1, page at pfn ") &&
	      strstr(d.err, ": allocated without CONFIG_DEBUG_VM, no "
		     "history\n") && strstr(d.err, "\nmemory hotplug:\n"),
	      "the history printed was:\n%s", d.err);
	finish(__func__);
}

/*
 * R8 with its recheck of kpfn switched off: ksmd read kpfn just before
 * migration moved the page, finds the old frame no longer keyed, and
 * removes the node whose page lives on.  stable_node_check_dead() looks
 * at the frames the node has named, finds the page in one, and oopses,
 * after printing the node's history: where it was inserted, and where
 * migration moved it; and the machine's hotplug events (none).
 */
static void run_r8(void *arg)
{
	static const struct sim_step steps[] = {
		{ "ksmd", "get_ksm_page:look" },
		{ "migrate", "done" },
		{ "ksmd", "done" },
	};
	struct job *j = arg;

	script2("ksmd", &j[0], "migrate", &j[1], steps, 3);
}

static void test_debug_vm_node_removed_alive(void)
{
	struct job j[2] = { { .fn = job_scan, .vpn = 4 },
			    { .fn = job_migrate, .node = 1 } };
	struct death d = { .fn = run_r8, .arg = j };
	struct mm_struct *a, *b, *dd;
	char want[64];

	start(ERA_MIGRATION);
	merged_pair(&a, &b, 1, 'X');
	dd = sim_process_create("D", 1);
	sim_process_set_node(dd, 1);
	fill(dd, 0, 'X');
	sim_process_madvise(dd, true);
	j[1].pfn = sim_process_pfn(a, 0);
	ksm_fix_set(FIX_KPFN_RECHECK, false);
	if (run_to_death(&d)) {
		sim_exit();
		printf("skip %s: no snapshots in this build (a sanitizer's)\n",
		       __func__);
		return;
	}
	CHECK(d.died == 1 && strstr(d.what, "Oops in get_ksm_page: stable "
				    "node 1 removed while its KSM page at "
				    "pfn "), "died %d: %s", d.died, d.what);
	snprintf(want, sizeof(want), "inserted for, pfn %ld\n", j[1].pfn);
	CHECK(strstr(d.err, "stable node 1, page at pfn ") &&
	      strstr(d.err, want) &&
	      strstr(d.err, "migrate: ksm_migrate_page: kpfn to, pfn ") &&
	      strstr(d.err, "\nmemory hotplug:\n"),
	      "the history printed was:\n%s", d.err);
	/* This machine never went offline (test_refusals()' did). */
	CHECK(!strstr(d.err, "OFFLINE"), "another machine's hotplug events:\n"
	      "%s", d.err);
	finish(__func__);
}

/*
 * A stable node whose page was migrated out of a section that then went
 * offline, and was freed since: when ksmd removes the stale node,
 * stable_node_check_dead() looks at the frames its history names, and
 * must not touch the struct page of the one in the removed section.
 */
static void test_debug_vm_history_in_removed_section(void)
{
	struct mm_struct *a, *b;
	long kpfn;
	int s;

	start(ERA_MIGRATION);
	sim_set_debug_vm(true);
	merged_pair(&a, &b, 1, 'H');
	kpfn = sim_process_pfn(a, 0);
	s = (int)(kpfn / (long)sim_get_config()->pages_per_section);
	CHECK(!sim_migrate_pfn((unsigned long)kpfn, 1, false), "migrate");
	CHECK(sim_process_pfn(a, 0) / (long)sim_get_config()->pages_per_section
	      != s, "the page is still in section %d", s);
	fill(a, 0, 'a');
	fill(b, 0, 'b');		/* the KSM page is freed */
	CHECK(sim_mem_stats(s, &(struct sim_mem_stats){ 0 }) == 0, "stats");
	CHECK(!sim_offline_section((unsigned long)s), "offline %d", s);
	ksm_scan_full(2);
	CHECK(counters().stable_nodes == 0, "%lu stable nodes",
	      counters().stable_nodes);
	CHECK(!sim_process_verify(a, true) && !sim_process_verify(b, true),
	      "bytes");
	CHECK(!sim_online_section((unsigned long)s), "online");
	finish(__func__);
}

/*
 * ksmd's rmap_list of an mm is in address order, and get_next_rmap_item()
 * walks it with the scan: an item whose page is no longer there is freed
 * when the scan passes its address, and a page that comes back gets a new
 * item in its place, before the items that follow, which keep their
 * checksums.  A's page 1 is swapped out for a scan and read back in: in
 * the scan after, pages 0, 2 and 3, whose checksums held, all go into the
 * unstable tree, and page 1, its checksum new, does not.
 */
static void test_rmap_list_page_comes_back(void)
{
	struct mm_struct *a;
	char c;

	start(ERA_MIGRATION);
	a = sim_process_create("A", 4);
	CHECK(a, "A");
	fill(a, 0, 'a');
	fill(a, 1, 'b');
	fill(a, 2, 'c');
	fill(a, 3, 'd');
	sim_process_madvise(a, true);
	ksm_scan_full(1);		/* checksums */
	CHECK(!sim_reclaim_process_page(a, 1), "swap-out");
	ksm_scan_full(1);		/* 0, 2, 3 unstable; 1's item freed */
	CHECK(counters().pages_unshared == 3, "%lu unshared after the "
	      "swap-out", counters().pages_unshared);
	CHECK(!sim_process_read(a, 1, 0, &c, 1) && c == 'b', "swap-in");
	ksm_scan_full(1);
	CHECK(counters().pages_unshared == 3, "%lu unshared after the "
	      "swap-in: the items after page 1 lost their checksums",
	      counters().pages_unshared);
	ksm_scan_full(1);
	CHECK(counters().pages_unshared == 4, "%lu unshared a scan later",
	      counters().pages_unshared);
	CHECK(!sim_process_verify(a, true), "bytes");
	finish(__func__);
}

/*
 * offline_pages() moves a section's pages in batches of 256 (do_migrate_range())
 * and gives up only after five batches that failed; a section of 2048
 * frames, 1800 of them one process's, takes eight batches that all
 * succeed, and goes offline, every byte moved with its page.
 */
static void test_offline_many_batches(void)
{
	struct sim_config cfg = { .nr_sections = 4, .pages_per_section = 2048,
				  .nr_nodes = 1, .era = ERA_MIGRATION };
	struct sim_mem_stats st;
	struct mm_struct *a;
	unsigned long i;
	long s;

	CHECK(!sim_init(&cfg), "sim_init");
	sim_set_quiet(true);
	a = sim_process_create("A", 1800);
	CHECK(a, "A");
	for (i = 0; i < 1800; i++)
		fill(a, i, (int)('a' + i % 26));
	s = sim_process_pfn(a, 0) / 2048;
	CHECK(sim_process_pfn(a, 1799) / 2048 == s, "A spans two sections");
	CHECK(sim_offline_section((unsigned long)s) == 0, "offline %ld", s);
	CHECK(sim_mem_stats((int)s, &st) == -EINVAL || st.nr_used == 0,
	      "section %ld still has %lu pages", s, st.nr_used);
	for (i = 0; i < 1800; i++)
		CHECK(sim_process_pfn(a, i) / 2048 != s, "page %lu left "
		      "behind", i);
	CHECK(!sim_process_verify(a, true), "bytes");
	CHECK(!sim_online_section((unsigned long)s), "online");
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
	test_offline_many_batches();
	test_exchange_aba();
	test_exchange_ksm_barriers();
	test_exchange_order_reset();
	test_migrate_swapcache_after_exit();
	test_pinned_read_only_merged();
	test_migrate_orphan_private();
	test_rmap_list_page_comes_back();
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
	test_unmerge_passes_absent_page();
	test_run2_out_of_memory();
	test_run2_meets_exit();
	test_scan_nothing();
	test_ksmd_thread();
	test_merge_meets_write();
	test_merge_meets_exit();
	test_migrate_file_pages();
	test_migrate_waits_for_writeback();
	test_migrate_waits_for_swapin();
	test_migrate_orphan();
	test_mbind_twice();
	test_offline_meets_new_page();
	test_offline_waits_for_lookup();
	test_swapin_ksm_page_to_write();
	test_reclaim_meets_locked_page();
	test_two_swapins_of_a_copy();
	test_exchange_refusals();
	test_exchange_dirty_file_page();
	test_exchange_waits_for_lock(false, "test_exchange_waits_for_lock");
	test_exchange_waits_for_lock(true, "test_exchange_waits_for_lock_first");
	test_exchange_ksm_orders();
	test_debug_vm_node_not_in_tree();
	test_debug_vm_node_removed_alive();
	test_debug_vm_history_in_removed_section();
	return check_status();
}

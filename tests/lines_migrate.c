// SPDX-License-Identifier: GPL-2.0
/*
 * lines_migrate.c - what single lines of page migration and of memory
 * hot-remove do, pinned down one by one (walkthrough.md, chapter 9): the
 * lines of migrate_pages(), unmap_and_move(), ksm_migrate_page(),
 * migrate_page_copy(), the NUMA and compaction callers, the pins, and
 * offline_pages() with do_migrate_range(), that mutants-all's mutants
 * found doing something no other test looked at.  Each test says, in its
 * comment, which lines it holds and what would tell a change to them
 * apart: an error a call returns, the node or frame a page is on, how
 * often a migration asked for a target page, the bytes a process reads
 * back.  Where a line runs only when two actors meet, a script of race
 * windows puts them there, or, where no window stands, a run preempted at
 * a decision found by the timeline it printed.
 *
 * Each test prints "ok NAME", "FAIL NAME: why", or "skip NAME: why" where
 * this build cannot make it (a snapshot, in a sanitizer's); the auditor
 * runs after each; the exit status is the number of failures (at most
 * 100), 2 for bad arguments.
 */
#define _POSIX_C_SOURCE 200809L		/* fmemopen(), dup2() */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../ksm_ref.h"
#include "check.h"
#include "jobs.h"

static int job_mbind(struct job *j)
{
	return sim_mbind(j->mm, j->node, false);
}

static int job_offline(struct job *j)
{
	return sim_offline_section((unsigned long)j->node);
}

static int job_read(struct job *j)
{
	return sim_process_read(j->mm, j->vpn, 0, &j->byte, 1);
}

static int job_writeback(struct job *j)
{
	return (int)sim_file_writeback(j->file);
}

/* ---------------------------------------------------------------- */
/* NUMA placement: mbind() and migrate-on-fault. */

/*
 * mbind() passes over a pte that maps nothing (sim_mbind()'s
 * "!pte_present(pte)" continue): process A has touched one page of two;
 * an empty pte must not be read as frame 0, which B's page holds.  B's
 * page stays on node 0, and A's one page moves to node 1.
 */
static void test_mbind_skips_empty_pte(void)
{
	struct mm_struct *a, *b;

	start(ERA_MIGRATION);
	b = process("B", 1, 'b');
	CHECK(b && sim_process_pfn(b, 0) == 0, "B's page in frame %ld",
	      b ? sim_process_pfn(b, 0) : -1L);
	a = sim_process_create("A", 2);
	CHECK(a && !sim_process_fill(a, 0, 'a'), "A");
	CHECK(sim_mbind(a, 1, true) == 0, "mbind");
	CHECK(sim_page_node(a, 0) == 1, "A's page on node %d",
	      sim_page_node(a, 0));
	CHECK(sim_page_node(a, 1) == -ENOENT, "A's empty pte");
	CHECK(sim_process_pfn(b, 0) == 0 && sim_page_node(b, 0) == 0,
	      "mbind of A moved B's page at frame 0 to node %d",
	      sim_page_node(b, 0));
	CHECK(!sim_process_verify(a, true) && !sim_process_verify(b, true),
	      "bytes");
	finish(__func__);
}

/*
 * mbind() with no target page to be had fails with -ENOMEM, strict or
 * not (sim_mbind()'s "nr_failed < 0" return of migrate_pages()'s
 * -ENOMEM): not 0, as if every page had moved, nor -EIO.  The page stays
 * where it was, and reads back.
 */
static void test_mbind_enomem(void)
{
	struct mm_struct *a;
	long pfn;

	start(ERA_MIGRATION);
	a = process("A", 1, 'a');
	CHECK(a, "A");
	pfn = sim_process_pfn(a, 0);
	CHECK(!sim_fail_nth(FAIL_MIGRATE_TARGET, 1), "inject");
	CHECK(sim_mbind(a, 1, false) == -ENOMEM, "mbind without a target "
	      "page did not say -ENOMEM");
	CHECK(!sim_fail_nth(FAIL_MIGRATE_TARGET, 1), "inject");
	CHECK(sim_mbind(a, 1, true) == -ENOMEM, "strict mbind without a "
	      "target page did not say -ENOMEM");
	CHECK(sim_process_pfn(a, 0) == pfn && sim_page_node(a, 0) == 0,
	      "the page moved");
	CHECK(!sim_process_verify(a, true), "bytes");
	finish(__func__);
}

/*
 * Migrate-on-fault moves every page of the faulting process to the other
 * node, and the process's faults follow it there (migrate_on_fault()'s
 * "mm->sim_nid ^= 1"): A's first fault puts its page 0 on node 0 and moves
 * it to node 1; its second allocates page 1 on node 1, and moves both back
 * to node 0.  Without the flip, both would end on node 1.
 */
static void test_migrate_on_fault_flips_node(void)
{
	struct mm_struct *a;

	start(ERA_MIGRATION);
	a = sim_process_create("A", 2);
	CHECK(a, "A");
	sim_set_migrate_on_fault(1);
	CHECK(!sim_process_fill(a, 0, 'x'), "first fault");
	CHECK(sim_page_node(a, 0) == 1, "after the first fault, node %d",
	      sim_page_node(a, 0));
	CHECK(!sim_process_fill(a, 1, 'y'), "second fault");
	sim_set_migrate_on_fault(0);
	CHECK(sim_page_node(a, 0) == 0 && sim_page_node(a, 1) == 0,
	      "after the second fault, nodes %d and %d", sim_page_node(a, 0),
	      sim_page_node(a, 1));
	CHECK(activity().migrations == 3, "%lu migrations",
	      activity().migrations);
	CHECK(!sim_process_verify(a, true), "bytes");
	finish(__func__);
}

/*
 * Migrate-on-fault isolates only the pages the process maps: a pte that
 * maps nothing is passed over (migrate_on_fault()'s
 * "pte_present(mm->pgd[vpn])"), not read as frame 0, which B's page
 * holds.  (Nor is the word past A's last pte read, its
 * "vpn < mm->sim_nr_pages": an out-of-bounds read, which only a
 * sanitizer's build sees.)
 */
static void test_migrate_on_fault_own_pages(void)
{
	struct mm_struct *a, *b;

	start(ERA_MIGRATION);
	b = process("B", 1, 'b');
	CHECK(b && sim_process_pfn(b, 0) == 0, "B's page in frame %ld",
	      b ? sim_process_pfn(b, 0) : -1L);
	a = sim_process_create("A", 2);
	CHECK(a, "A");
	sim_set_migrate_on_fault(1);
	CHECK(!sim_process_fill(a, 0, 'a'), "A's fault");
	sim_set_migrate_on_fault(0);
	CHECK(sim_page_node(a, 0) == 1, "A's page on node %d",
	      sim_page_node(a, 0));
	CHECK(sim_process_pfn(b, 0) == 0, "A's fault moved B's page at frame "
	      "0 to frame %ld", sim_process_pfn(b, 0));
	CHECK(!sim_process_verify(a, true) && !sim_process_verify(b, true),
	      "bytes");
	finish(__func__);
}

/* ---------------------------------------------------------------- */
/* migrate_pages() and unmap_and_move(): passes, force, retries. */

/** Two actors by name, run by a script. */
static int script2(const char *na, struct job *a, const char *nb,
		   struct job *b, const struct sim_step *steps, int nr)
{
	struct sim_actor_spec actors[2] = {
		{ na, run_job, a }, { nb, run_job, b },
	};

	return sim_run_script(actors, 2, steps, nr);
}

/*
 * Migration meets a page under writeback, then one locked: the first
 * three passes leave it (not forced: unmap_and_move()'s "!force" before
 * wait_on_page_writeback(), and before lock_page()), the fourth sleeps
 * (migrate_pages()' "pass > 2"), and the page moves then.  A pass that
 * gives up on the page has asked for its target page all the same
 * (get_new_page() comes first), so the target pages asked for count the
 * passes: four.  In the first case the page is one of two of a shared
 * file mapping that mbind() moves: the other one moves in the first
 * pass, and goes back (unmap_and_move()'s "rc != -EAGAIN" putback), so
 * that no later pass asks a target page for it: five in all.
 */
static void test_migrate_forces_from_fourth_pass(void)
{
	static const struct sim_step wb_steps[] = {
		{ "flush", "writeback:io" },
		{ "mbind", "blocked" },
		{ "flush", "done" },
		{ "mbind", "done" },
	};
	static const struct sim_step lock_steps[] = {
		{ "A", "do_swap_page:locked" },
		{ "migrate", "blocked" },
		{ "A", "done" },
		{ "migrate", "done" },
	};
	struct job w = { .fn = job_writeback };
	struct job mb = { .fn = job_mbind, .node = 1 };
	struct job r = { .fn = job_read, .vpn = 0 };
	struct job m = { .fn = job_migrate, .node = 1 };
	unsigned long calls;
	char b;

	start(ERA_MIGRATION);
	w.file = sim_file_create("F", 2, 'f', true);
	mb.mm = w.file ? sim_process_map_file("M", w.file) : NULL;
	CHECK(mb.mm && !sim_process_write(mb.mm, 0, 0, "w", 1) &&
	      !sim_process_read(mb.mm, 1, 0, &b, 1) && b == 'f',
	      "M writes page 0, reads page 1");
	calls = sim_fail_calls(FAIL_MIGRATE_TARGET);
	CHECK(!script2("flush", &w, "mbind", &mb, wb_steps, 4), "script: %s",
	      sim_run_error());
	CHECK(w.ret == 1 && mb.ret == 0, "writeback %ld, mbind %ld", w.ret,
	      mb.ret);
	CHECK(sim_page_node(mb.mm, 0) == 1 && sim_page_node(mb.mm, 1) == 1,
	      "nodes %d and %d", sim_page_node(mb.mm, 0),
	      sim_page_node(mb.mm, 1));
	calls = sim_fail_calls(FAIL_MIGRATE_TARGET) - calls;
	CHECK(calls == 5, "%lu target pages asked for: 4 for the page under "
	      "writeback, 1 for the other", calls);
	CHECK(!sim_process_verify(mb.mm, true) &&
	      !sim_file_verify(w.file, true), "bytes");
	CHECK(!sim_process_exit(mb.mm) && !sim_file_destroy(w.file),
	      "file gone");
	finish("test_migrate_forces_from_fourth_pass(writeback)");

	start(ERA_MIGRATION);
	r.mm = sim_process_create("A", 1);
	CHECK(r.mm && !sim_process_fill(r.mm, 0, 's'), "A");
	/* The swap-in will have the frame swap-out frees (prompt reuse). */
	m.pfn = sim_process_pfn(r.mm, 0);
	CHECK(!sim_reclaim_process_page(r.mm, 0), "swap-out");
	calls = sim_fail_calls(FAIL_MIGRATE_TARGET);
	CHECK(!script2("A", &r, "migrate", &m, lock_steps, 4), "script: %s",
	      sim_run_error());
	CHECK(r.ret == 0 && r.byte == 's' && m.ret == 0, "read %ld '%c', "
	      "migrate %ld", r.ret, r.byte, m.ret);
	calls = sim_fail_calls(FAIL_MIGRATE_TARGET) - calls;
	CHECK(calls == 4, "%lu target pages asked for, not 4", calls);
	CHECK(!sim_process_read(r.mm, 0, 0, &b, 1) && b == 's' &&
	      sim_page_node(r.mm, 0) == 1, "node %d", sim_page_node(r.mm, 0));
	CHECK(!sim_process_verify(r.mm, true), "bytes");
	finish("test_migrate_forces_from_fourth_pass(locked)");
}

/*
 * A page whose process exits while migration holds it is "freed under
 * us" on the next pass: only the isolation's reference is left
 * (unmap_and_move()'s "page_count(page) == 1"), and the page goes back
 * to be freed, a success (0), as the kernel counts it; not a page
 * migration retries until it gives up (-EAGAIN).  Migration stops at
 * unmap_and_move:locked, and A exits whole: the first pass finds the
 * page unmapped with no anon_vma and gives up (-EAGAIN), the second sees
 * the count.  Both frames are freed, and nothing was migrated.
 */
static void test_migrate_freed_under_us(void)
{
	static const struct sim_step steps[] = {
		{ "migrate", "unmap_and_move:locked" },
		{ "exit", "done" },
		{ "migrate", "done" },
	};
	struct job m = { .fn = job_migrate, .node = 1 };
	struct job e = { .fn = job_exit };
	struct sim_mem_stats st;

	start(ERA_MIGRATION);
	e.mm = sim_process_create("A", 1);
	CHECK(e.mm && !sim_process_fill(e.mm, 0, 'a'), "A");
	m.pfn = sim_process_pfn(e.mm, 0);
	CHECK(!script2("migrate", &m, "exit", &e, steps, 3), "script: %s",
	      sim_run_error());
	CHECK(e.ret == 0 && m.ret == 0, "exit %ld, migrate %ld (a page freed "
	      "under migration is not a failure)", e.ret, m.ret);
	sim_mem_stats(-1, &st);
	CHECK(st.nr_used == 0, "%lu frames in use", st.nr_used);
	CHECK(activity().migrations == 0, "%lu migrations",
	      activity().migrations);
	finish(__func__);
}

/* ---------------------------------------------------------------- */
/* ksm_migrate_page() and migrate_page_copy(). */

/*
 * Before seed 004 a KSM page migrates like any other, and its stable node
 * follows it through its struct page pointer (ksm_migrate_page()'s
 * "stable_node->page = newpage" under "!era_since(ERA_HOTREMOVE)"; from
 * seed 004 the same word holds a pfn).  A and B share a KSM page; it
 * moves to node 1; C, with the same bytes, merges into it there, and A's
 * and C's ptes map the one frame.
 */
static void test_ksm_migrate_keyhole(void)
{
	struct mm_struct *a, *b, *c;
	struct ksm_counters k;
	long pfn;

	start(ERA_KEYHOLE);
	a = process("A", 1, 'k');
	b = process("B", 1, 'k');
	CHECK(a && b, "processes");
	ksm_scan_full(2);
	pfn = sim_process_pfn(a, 0);
	CHECK(pfn >= 0 && sim_process_pfn(b, 0) == pfn &&
	      counters().pages_shared == 1, "A and B do not share a KSM page");
	CHECK(!sim_migrate_pfn((unsigned long)pfn, 1, false), "migrate");
	CHECK(sim_process_pfn(a, 0) != pfn && sim_page_node(a, 0) == 1 &&
	      sim_process_pfn(b, 0) == sim_process_pfn(a, 0), "the KSM page "
	      "did not move to node 1");
	c = process("C", 1, 'k');
	CHECK(c, "C");
	ksm_scan_full(2);
	k = counters();
	CHECK(k.pages_shared == 1 && k.pages_sharing == 2 &&
	      k.stable_nodes == 1, "%lu shared, %lu sharing, %lu nodes",
	      k.pages_shared, k.pages_sharing, k.stable_nodes);
	CHECK(sim_process_pfn(c, 0) == sim_process_pfn(a, 0), "C did not "
	      "merge into the migrated KSM page");
	CHECK(!sim_process_verify(a, true) && !sim_process_verify(b, true) &&
	      !sim_process_verify(c, true), "bytes");
	finish(__func__);
}

static int job_scan(struct job *j)
{
	ksm_scan_pages((unsigned int)j->vpn);
	return 0;
}

static int job_count(struct job *j)
{
	return (int)sim_page_count((unsigned long)j->pfn);
}

/*
 * Seed 000's ksm_migrate_page() makes the old page stop naming the node
 * at once (its "fix_on(FIX_CLEAR_OLD_MAPPING)" store), and, from 2012,
 * migrate_page_copy() leaves the old page's mapping alone (its
 * "!era_since(ERA_MIGRATION)"): move_to_new_page() resets it once the
 * ptes point at the new page.  ksmd's stable_tree_search() for D has
 * read kpfn, the KSM page's frame K, when migration of the KSM page
 * copies it and stops (migrate_page_copy:copied); ksmd then looks at K.
 * With the store, K's mapping is no longer the key: get_ksm_page() finds
 * kpfn moved and takes the new page.  With clear_old_mapping off, K still
 * carries the key, and the unlocked lookup takes K (harmless: the search
 * then locks the node's page, the new one, before it merges; chapter 8).
 * So while ksmd stops at stable_tree_search:found and the migration
 * ends, K is freed, or is held by ksmd alone: its count says which.
 */
static void test_ksm_migrate_old_page_key(void)
{
	static const struct sim_step steps[] = {
		{ "ksmd", "get_ksm_page:look" },
		{ "migrate", "migrate_page_copy:copied" },
		{ "ksmd", "stable_tree_search:found" },
		{ "migrate", "done" },
		{ "probe", "done" },
		{ "ksmd", "done" },
	};
	struct job k = { .fn = job_scan, .vpn = 3 };
	struct job m = { .fn = job_migrate, .node = 1 };
	struct job c = { .fn = job_count };
	struct sim_actor_spec actors[3] = {
		{ "ksmd", run_job, &k }, { "migrate", run_job, &m },
		{ "probe", run_job, &c },
	};
	struct mm_struct *a, *b, *d;
	int clear;

	for (clear = 1; clear >= 0; clear--) {
		start(ERA_MIGRATION);
		ksm_fix_set(FIX_CLEAR_OLD_MAPPING, clear);
		a = process("A", 1, 'K');
		b = process("B", 1, 'K');
		CHECK(a && b, "A, B");
		ksm_scan_full(2);
		d = process("D", 1, 'K');
		CHECK(d, "D");
		m.pfn = c.pfn = sim_process_pfn(a, 0);
		CHECK(sim_process_pfn(b, 0) == m.pfn, "A and B not merged");
		CHECK(!sim_run_script(actors, 3, steps, 6), "script: %s",
		      sim_run_error());
		CHECK(m.ret == 0 && c.ret == !clear, "clear_old_mapping %s: "
		      "the old KSM page's count %ld, while ksmd holds what it "
		      "found", clear ? "on" : "off", c.ret);
		CHECK(sim_process_pfn(d, 0) == sim_process_pfn(a, 0) &&
		      sim_page_node(d, 0) == 1 && counters().pages_sharing == 2,
		      "D not merged into the migrated KSM page");
		CHECK(!sim_process_verify(a, true) &&
		      !sim_process_verify(b, true) &&
		      !sim_process_verify(d, true), "bytes");
		finish(clear ? "test_ksm_migrate_old_page_key(cleared)" :
		       "test_ksm_migrate_old_page_key(clear_old_mapping off)");
	}
}

/** ksmd and a migration of the KSM page, for r7_scenario(). */
static struct sim_actor_spec r7_actors[2];

/*
 * ksmd has read kpfn (get_ksm_page:look); the migration runs up to its
 * first window after it has stored the new kpfn; ksmd runs on.
 */
static void r7_scenario(void *arg)
{
	static const struct sim_step steps[] = {
		{ "ksmd", "get_ksm_page:look" },
		{ "migrate", "ksm_migrate_page:kpfn|migrate_page_copy:copied" },
		{ "ksmd", "done" },
		{ "migrate", "done" },
	};

	*(int *)arg = sim_run_script(r7_actors, 2, steps, 4);
}

/*
 * In seed 004's design ksm_migrate_page() stores the new kpfn and
 * returns (its "2009: no more than that" under
 * "!era_since(ERA_MIGRATION)"), and migrate_page_copy() resets the old
 * page's mapping before the next window: nobody sees the new kpfn while
 * the old page still carries the key.  Hence R7, with the refusal of KSM
 * pages switched off: ksmd, having read the old kpfn, finds the old page
 * no longer keyed and removes the node whose page lives on, and the
 * kernel dies of it (stable_node_check_dead(): "removed while its KSM
 * page lives").  Were seed 000's window and its store to the old page
 * there too, ksmd would find the key at that window and sleep on the
 * old page's lock instead.  The run is made from a snapshot, under
 * sim_guarded(); a build without snapshots (a sanitizer's) skips it.
 */
static void test_ksm_migrate_hotremove_no_window(void)
{
	struct job k = { .fn = job_scan, .vpn = 3 };
	struct job m = { .fn = job_migrate, .node = 1 };
	struct mm_struct *a;
	char what[256] = "";
	int died, err = 0, fd, null;

	start(ERA_HOTREMOVE);
	ksm_fix_set(FIX_MIGRATE_REFUSE_KSM, false);
	r7_actors[0] = (struct sim_actor_spec){ "ksmd", run_job, &k };
	r7_actors[1] = (struct sim_actor_spec){ "migrate", run_job, &m };
	a = process("A", 1, 'K');
	CHECK(a && process("B", 1, 'K'), "A, B");
	ksm_scan_full(2);
	CHECK(process("D", 1, 'K'), "D");
	m.pfn = sim_process_pfn(a, 0);
	if (sim_snapshot_take()) {
		sim_exit();
		printf("skip %s: no snapshots in this build (a sanitizer's)\n",
		       __func__);
		return;
	}
	/* The oops prints the node's history on stderr: not ours to show. */
	fflush(stderr);
	fd = dup(2);
	null = open("/dev/null", O_WRONLY);
	if (fd >= 0 && null >= 0)
		dup2(null, 2);
	died = sim_guarded(r7_scenario, &err, what, sizeof(what));
	fflush(stderr);
	if (fd >= 0 && null >= 0)
		dup2(fd, 2);
	if (fd >= 0)
		close(fd);
	if (null >= 0)
		close(null);
	sim_snapshot_restore();
	sim_snapshot_drop();
	CHECK(died == 1 && strstr(what, "removed while its KSM page"),
	      "R7 did not happen: died %d (%s), script %d: %s", died, what,
	      err, sim_run_error());
	finish(__func__);
}

/* ---------------------------------------------------------------- */
/* Memory hot-remove: offline_pages() and do_migrate_range(). */

/*
 * Offline section 0 while mbind() of Y, preempted at
 * unmap_and_move:locked, holds Y's page isolated and locked: a page in
 * use that is not on the LRU.  Z's \a nz pages come first in the
 * section, Y's page right after them.  The offline runs on while it can;
 * at a cond_resched() the others run first, and mbind, left alone, runs
 * to its end, moving Y's page out of the section.  Returns 0 with the
 * results in \a o and \a mb, or -1 after a CHECK failed.
 */
static int offline_meets_mbind(unsigned long nz, struct job *o,
			       struct job *mb, struct mm_struct **zp)
{
	static char out[1 << 18];
	struct sim_config cfg = { .nr_sections = 4, .pages_per_section = 512,
				  .era = ERA_MIGRATION };
	struct sim_actor_spec actors[2] = {
		{ "mbind", run_job, mb }, { "offline", run_job, o },
	};
	static const char *const at_mbind =
		"(preempted at unmap_and_move:locked: offline runs)";
	struct mm_struct *z;
	unsigned int at;
	bool found = false;
	int err = 0;

	for (at = 1; at < PREEMPT_MAX && !found; at++) {
		if (sim_init(&cfg))
			return -1;
		sim_set_quiet(true);
		z = sim_process_create("Z", nz);
		mb->mm = sim_process_create("Y", 1);
		if (!z || !mb->mm)
			return -1;
		for (unsigned long i = 0; i < nz; i++)
			sim_process_fill(z, i, 'z');
		sim_process_fill(mb->mm, 0, 'y');
		if (sim_process_pfn(z, 0) != 0 ||
		    sim_process_pfn(mb->mm, 0) != (long)nz) {
			printf("FAIL offline_meets_mbind: Z at %ld, Y at %ld\n",
			       sim_process_pfn(z, 0),
			       sim_process_pfn(mb->mm, 0));
			failures++;
			sim_exit();
			return -1;
		}
		err = run_preempted(actors, 2, &at, 1, out, sizeof(out));
		found = !err && strstr(out, at_mbind);
		if (!found)
			sim_exit();
		*zp = z;
	}
	if (!found) {
		printf("FAIL offline_meets_mbind: no preemption of mbind fell "
		       "at unmap_and_move:locked (%d: %s)\n", err,
		       sim_run_error());
		failures++;
		return -1;
	}
	return 0;
}

/*
 * A page in use that offline_pages() cannot isolate makes the round give
 * up at once, migrating nothing (do_migrate_range()'s "not_managed++",
 * "if (not_managed)" and its -EBUSY); the offline yields (its
 * "if (ret) cond_resched()") and tries again, up to five rounds of
 * -EBUSY.  Here mbind holds Y's page isolated; Z's page comes before it:
 * the first round gives up on both, yields, mbind moves Y's page away,
 * and the second round moves Z's page: the offline succeeds.  Without
 * the -EBUSY, the first round moves Z's page, and the offline, finding
 * no page on the LRU, checks the section and finds Y's page in use; with
 * 0 instead of -EBUSY, or without the yield, mbind never runs in
 * between: -EBUSY either way.
 *
 * A round isolates at most 256 pages (do_migrate_range()'s
 * "move_pages > 0" and "move_pages--"): with 256 of Z's pages before
 * Y's, the first round moves them all and never comes to Y's page; it
 * succeeded, so the offline does not yield (cond_resched() only after a
 * failed round), finds no page left on the LRU, and fails its check with
 * Y's page in use: -EBUSY, Z's pages moved out.  A round of 257 would
 * meet Y's page and give up; one that yielded after success would let
 * mbind move Y's page away: the offline would succeed either way.
 */
static void test_offline_rounds(void)
{
	struct job o = { .fn = job_offline, .node = 0 };
	struct job mb = { .fn = job_mbind, .node = 1 };
	struct sim_mem_stats st;
	struct mm_struct *z = NULL;
	unsigned long i;
	long pfn;

	if (offline_meets_mbind(1, &o, &mb, &z))
		return;
	CHECK(o.ret == 0 && mb.ret == 0, "offline %ld, mbind %ld: the "
	      "offline did not yield to mbind after a round of -EBUSY",
	      o.ret, mb.ret);
	CHECK(sim_page_node(mb.mm, 0) == 1, "Y's page on node %d",
	      sim_page_node(mb.mm, 0));
	pfn = sim_process_pfn(z, 0);
	CHECK(pfn >= 512 && pfn < 1024, "Z's page in frame %ld", pfn);
	CHECK(sim_mem_stats(0, &st) == -EINVAL || st.nr_offline == 512,
	      "section 0 online");
	CHECK(!sim_process_verify(z, true) && !sim_process_verify(mb.mm, true),
	      "bytes");
	finish("test_offline_rounds(unmanaged page first)");

	if (offline_meets_mbind(256, &o, &mb, &z))
		return;
	CHECK(o.ret == -EBUSY && mb.ret == 0, "offline %ld, mbind %ld: a round "
	      "of 256 met Y's page, or the offline yielded after a round "
	      "that succeeded", o.ret, mb.ret);
	for (i = 0; i < 256; i++) {
		pfn = sim_process_pfn(z, i);
		CHECK(pfn >= 512, "Z's page %lu left in frame %ld", i, pfn);
	}
	CHECK(sim_page_node(mb.mm, 0) == 1, "Y's page on node %d",
	      sim_page_node(mb.mm, 0));
	CHECK(!sim_process_verify(z, true) && !sim_process_verify(mb.mm, true),
	      "bytes");
	finish("test_offline_rounds(a round of 256)");
}

/*
 * A fault that found a migration entry waits only if the pte still holds
 * one when it looks again under the page table lock
 * (migration_entry_wait()'s "!is_swap_pte(pte) ||
 * !is_migration_entry(entry)"): if the migration ended in between, the
 * pte maps the new page, and its bits name no page to wait on; the fault
 * just retries.  Section 0 is offline, its memmap gone; A's page, in
 * section 1, moves to node 1 (frames 512 to 1023, whose pte, read as a
 * migration entry, would name a frame below 32: in section 0).  The
 * migration stops with A's pte a migration entry, A's read faults and is
 * preempted at each of its decisions in turn, the migration ends, and A
 * reads its byte.
 */
static void test_migration_entry_gone(void)
{
	static char out[1 << 16];
	static const char *const at_migrate =
		"(preempted at unmap_and_move:unmapped: A runs)";
	struct job m = { .fn = job_migrate, .node = 1 };
	struct job r = { .fn = job_read, .vpn = 0 };
	struct sim_actor_spec actors[2] = {
		{ "migrate", run_job, &m }, { "A", run_job, &r },
	};
	unsigned int at[2], runs = 0;
	bool found = false;
	char name[64];
	int err;

	for (at[0] = 1; at[0] < PREEMPT_MAX / 2 && !found; at[0]++) {
		start(ERA_MIGRATION);
		CHECK(!sim_offline_section(0), "offline section 0");
		r.mm = sim_process_create("A", 1);
		CHECK(r.mm && !sim_process_fill(r.mm, 0, 'a'), "A");
		m.pfn = sim_process_pfn(r.mm, 0);
		err = run_preempted(actors, 2, at, 1, out, sizeof(out));
		found = !err && strstr(out, at_migrate);
		sim_exit();
	}
	at[0]--;
	CHECK(found, "no preemption of the migration fell at "
	      "unmap_and_move:unmapped");
	for (at[1] = at[0] + 1; at[1] < PREEMPT_MAX; at[1]++) {
		start(ERA_MIGRATION);
		CHECK(!sim_offline_section(0), "offline section 0");
		r.mm = sim_process_create("A", 1);
		CHECK(r.mm && !sim_process_fill(r.mm, 0, 'a'), "A");
		m.pfn = sim_process_pfn(r.mm, 0);
		err = run_preempted(actors, 2, at, 2, out, sizeof(out));
		if (err && preempt_misfit) {	/* no choice at decision at[1] */
			sim_exit();
			continue;
		}
		if (preempt_decisions <= at[1]) {	/* the run ended first */
			sim_exit();
			break;
		}
		CHECK(!err, "preempted at %u: %s\n%s", at[1], sim_run_error(),
		      out);
		CHECK(r.ret == 0 && r.byte == 'a' && m.ret == 0, "read %ld "
		      "'%c', migrate %ld, preempted at %u:\n%s", r.ret, r.byte,
		      m.ret, at[1], out);
		CHECK(sim_page_node(r.mm, 0) == 1 &&
		      !sim_process_verify(r.mm, true), "A's page");
		snprintf(name, sizeof(name), "%s(%u)", __func__, at[1]);
		finish(name);
		runs++;
	}
	CHECK(runs > 2, "%u runs", runs);
}

/*
 * offline_pages() looks for pages on the LRU in its own section only
 * (scan_lru_pages()'s "pfn < end"): section 2 goes offline after
 * section 3, whose memmap, just past section 2's last frame, is gone.
 */
static void test_offline_scan_bounds(void)
{
	struct mm_struct *a;

	start(ERA_MIGRATION);
	CHECK(!sim_offline_section(3), "offline section 3");
	a = sim_process_create("A", 1);
	CHECK(a && !sim_process_set_node(a, 1), "A");
	CHECK(!sim_process_fill(a, 0, 'a') &&
	      sim_process_pfn(a, 0) / 256 == 2, "A's page in section 2");
	CHECK(!sim_offline_section(2), "offline section 2");
	CHECK(sim_page_node(a, 0) == 0, "A's page on node %d",
	      sim_page_node(a, 0));
	CHECK(!sim_process_verify(a, true), "bytes");
	finish(__func__);
}

static int job_pfn_reclaim(struct job *j)
{
	return sim_reclaim_pfn((unsigned long)j->pfn);
}

/*
 * migrate_page_copy() moves PG_dirty to the new page: the old one is left
 * clean (its "ClearPageDirty(page)").  A's page is dirty and out of the
 * swap cache (written after a swap-in: reuse_swap_page()); a pfn walker
 * takes a reference on it just after migration counted them, so that the
 * old page outlives the migration, an orphan on the LRU.  Reclaim of the
 * orphan keeps it (-EBUSY: nothing maps it, it has no swap slot), and
 * must not write it out: a dirty orphan would go to the swap device, at
 * the slot its cleared page->private names (pageout()), and count as a
 * swap-out.
 */
static void test_migrate_leaves_old_page_clean(void)
{
	static const struct sim_step steps[] = {
		{ "migrate", "migrate_page_move_mapping:moved" },
		{ "walker", "pfn_walk:got" },
		{ "migrate", "done" },
		{ "reclaim", "done" },
		{ "walker", "done" },
	};
	struct job m = { .fn = job_migrate, .node = 1 };
	struct job w = { .fn = job_pfn_walk };
	struct job rc = { .fn = job_pfn_reclaim };
	struct sim_actor_spec actors[3] = {
		{ "migrate", run_job, &m }, { "walker", run_job, &w },
		{ "reclaim", run_job, &rc },
	};
	struct sim_mem_stats st;
	unsigned long outs;
	struct mm_struct *a;

	start(ERA_MIGRATION);
	a = sim_process_create("A", 1);
	CHECK(a && !sim_process_fill(a, 0, 'a'), "A");
	CHECK(!sim_reclaim_process_page(a, 0), "swap-out");
	CHECK(!sim_process_fill(a, 0, 'd'), "swap-in by a write");
	sim_mem_stats(-1, &st);
	CHECK(st.swap_used == 0, "the written page kept its slot");
	m.pfn = w.pfn = rc.pfn = sim_process_pfn(a, 0);
	outs = activity().swap_outs;
	CHECK(!sim_run_script(actors, 3, steps, 5), "script: %s",
	      sim_run_error());
	CHECK(m.ret == 0 && w.ret == 1 && rc.ret == -EBUSY, "migrate %ld, "
	      "walk %ld, reclaim of the orphan %ld", m.ret, w.ret, rc.ret);
	CHECK(activity().swap_outs == outs, "the orphan was written to swap: "
	      "it was left dirty");
	sim_mem_stats(-1, &st);
	CHECK(st.nr_used == 1 && st.swap_used == 0, "%lu frames, %lu slots",
	      st.nr_used, st.swap_used);
	CHECK(sim_page_node(a, 0) == 1 && !sim_process_verify(a, true),
	      "A's page");
	finish(__func__);
}

/* ---------------------------------------------------------------- */
/* Pins. */

/*
 * A page pinned twice takes one slot of the 64, the slot it has
 * (sim_pin_page()'s "slot < 0": a free slot is taken only while none has
 * been chosen).  64 pages pinned at once fill the table; one unpinned,
 * a page already pinned pinned again, and the unpinned one pinned again:
 * the second pin of a page must not take the slot that was freed.
 */
static void test_pin_slots(void)
{
	struct mm_struct *a;
	long pfn[65];
	unsigned long i;

	start(ERA_MIGRATION);
	a = process("A", 65, 'p');
	CHECK(a, "A");
	for (i = 0; i < 65; i++)
		sim_process_fill(a, i, (int)i);
	for (i = 0; i < 64; i++) {
		pfn[i] = sim_pin_page(a, i);
		CHECK(pfn[i] == sim_process_pfn(a, i), "pin %lu: %ld", i,
		      pfn[i]);
	}
	CHECK(sim_pin_page(a, 64) == -ENOSPC, "a 65th page pinned");
	CHECK(!sim_unpin_page((unsigned long)pfn[5]), "unpin page 5");
	CHECK(sim_pin_page(a, 63) == pfn[63], "page 63 pinned again");
	CHECK(sim_pin_page(a, 5) == pfn[5], "page 5 could not be pinned "
	      "again: its slot went to page 63's second pin");
	CHECK(sim_page_count((unsigned long)pfn[63]) == 3, "page 63's count "
	      "%ld", sim_page_count((unsigned long)pfn[63]));
	CHECK(!sim_unpin_page((unsigned long)pfn[63]), "unpin 63");
	for (i = 0; i < 64; i++)
		CHECK(!sim_unpin_page((unsigned long)pfn[i]), "unpin %lu", i);
	CHECK(sim_unpin_page((unsigned long)pfn[0]) == -EINVAL, "unpinned "
	      "twice");
	CHECK(!sim_process_verify(a, true), "bytes");
	finish(__func__);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--help")) {
		printf("usage: %s\n\nRuns the tests of what single lines of "
		       "page migration and memory\nhot-remove do; prints \"ok "
		       "NAME\" or \"FAIL NAME: why\" for each, and exits\nwith "
		       "the number of failures.\n", argv[0]);
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "%s: takes no arguments\nusage: %s [--help]\n",
			argv[0], argv[0]);
		return 2;
	}
	test_mbind_skips_empty_pte();
	test_mbind_enomem();
	test_migrate_on_fault_flips_node();
	test_migrate_on_fault_own_pages();
	test_pin_slots();
	test_migrate_forces_from_fourth_pass();
	test_migrate_freed_under_us();
	test_ksm_migrate_keyhole();
	test_ksm_migrate_old_page_key();
	test_ksm_migrate_hotremove_no_window();
	test_offline_rounds();
	test_migration_entry_gone();
	test_offline_scan_bounds();
	test_migrate_leaves_old_page_clean();
	return check_status();
}

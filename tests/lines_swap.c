// SPDX-License-Identifier: GPL-2.0
/*
 * lines_swap.c - what single lines of swap and reclaim do, pinned down one
 * by one: the swap cache and its slots (swapcache_prepare(),
 * read_swap_cache_async(), reuse_swap_page(), free_swap_and_cache(),
 * do_swap_page(), ksm_might_need_to_copy(), swap_peek()), and reclaim's
 * reverse-map walks (rmap_walk_ksm(), try_to_unmap()) and its writes
 * (shrink_page()): the lines that make mutants-all's mutants (walkthrough.md,
 * chapter 9) found doing something that no other test looked at.  Each test
 * says, in its comment, which lines it holds and what would tell a change
 * to them apart: a count the kernel would show (frames in use, swap slots
 * in use, pages written to swap), a page kept or reclaimed, a pte present
 * or a swap entry, the bytes a process or a file reads back.  Where a line
 * runs only when two actors meet at one point, a script of race windows
 * puts them there, or, where no window stands (a lock point), a run
 * preempted at each decision in turn, with the timeline to say where the
 * preemption fell.
 *
 * Each test prints "ok NAME" or "FAIL NAME: why"; the auditor runs after
 * each; the exit status is the number of failures (at most 100), 2 for bad
 * arguments.
 */
#define _POSIX_C_SOURCE 200809L		/* fmemopen() */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ksm_ref.h"
#include "check.h"
#include "jobs.h"

/** Frames and swap slots in use, machine-wide. */
static struct sim_mem_stats mem(void)
{
	struct sim_mem_stats st;

	sim_mem_stats(-1, &st);
	return st;
}

/** A machine as start() makes it, with a swap device of \a slots slots. */
static void start_swap(enum ksm_era era, unsigned int slots)
{
	struct sim_config cfg = { .nr_sections = 4, .era = era,
				  .swap_slots = slots };

	if (sim_init(&cfg)) {
		printf("FAIL: sim_init\n");
		exit(1);
	}
	sim_set_quiet(true);
}

static int job_read(struct job *j)
{
	char b;

	return sim_process_read(j->mm, j->vpn, 0, &b, 1);
}

static int job_write(struct job *j)
{
	return sim_process_write(j->mm, j->vpn, 0, &j->byte, 1);
}

static int job_reclaim(struct job *j)
{
	return sim_reclaim_process_page(j->mm, j->vpn);
}

static int job_reclaim_pfn(struct job *j)
{
	return sim_reclaim_pfn((unsigned long)j->pfn);
}

/*
 * A swap cache page still mapped is kept in the swap cache when the last
 * swap pte of its slot goes (free_swap_and_cache()'s test: PageSwapCache,
 * not under writeback, not mapped, the same entry): the slot stays in use,
 * and its copy there still good, so that reclaim of the page later writes
 * nothing.  P and its child C share a page, swapped out; P reads it back
 * (mapped, in the swap cache, C's pte still the swap entry); C exits.  A
 * change that took the page out of the swap cache anyway would free the
 * slot at once, and the next reclaim would write the page again.
 */
static void test_exit_keeps_mapped_swapcache(void)
{
	struct mm_struct *p, *c;
	unsigned long outs;
	char b;

	start(ERA_KEYHOLE);
	p = sim_process_create("P", 1);
	CHECK(p && !sim_process_fill(p, 0, 'p'), "P");
	c = sim_process_fork(p, "C");
	CHECK(c && !sim_reclaim_process_page(p, 0), "fork, swap-out");
	CHECK(!sim_process_read(p, 0, 0, &b, 1) && b == 'p', "P's read");
	CHECK(!sim_process_exit(c), "C exits");
	CHECK(mem().swap_used == 1, "%lu swap slots in use after C's exit: "
	      "the page P maps left the swap cache", mem().swap_used);
	outs = activity().swap_outs;
	CHECK(sim_reclaim_process_page(p, 0) == 0, "reclaim of P's page");
	CHECK(activity().swap_outs == outs, "reclaim wrote the page again "
	      "(%lu writes, %lu before)", activity().swap_outs, outs);
	CHECK(!sim_process_verify(p, true), "P's bytes");
	finish(__func__);
}

/*
 * reuse_swap_page() lets a write reuse a swap cache page, and takes it
 * out of the swap cache, only when its one mapping is its only user
 * (count == 1: the pte, and no swap pte of the slot elsewhere).  P and C
 * share a page, swapped out; P reads it back, then writes it: C's swap pte
 * still holds the slot, so P copies, and the swap cache keeps the page,
 * unmapped, for C, whose read then maps it without reading the slot (no
 * new frame).  A change that took it out of the swap cache anyway would
 * free it with P's copy: one frame fewer, and C's read a new one.
 */
static void test_reuse_needs_only_user(void)
{
	struct sim_mem_stats st;
	struct mm_struct *p, *c;
	char b = 'w';

	start(ERA_KEYHOLE);
	p = sim_process_create("P", 1);
	CHECK(p && !sim_process_fill(p, 0, 'p'), "P");
	c = sim_process_fork(p, "C");
	CHECK(c && !sim_reclaim_process_page(p, 0), "fork, swap-out");
	CHECK(!sim_process_read(p, 0, 0, &b, 1), "P's read");
	b = 'w';
	CHECK(!sim_process_write(p, 0, 0, &b, 1), "P's write");
	st = mem();
	CHECK(st.nr_used == 2 && st.swap_used == 1, "after P's write: %lu "
	      "frames, %lu swap slots (2 and 1: P's copy, and the swap cache "
	      "page C's slot keeps)", st.nr_used, st.swap_used);
	CHECK(!sim_process_read(c, 0, 0, &b, 1) && b == 'p', "C's read");
	st = mem();
	CHECK(st.nr_used == 2, "C's read took a frame of its own (%lu in "
	      "use)", st.nr_used);
	CHECK(!sim_process_verify(p, true) && !sim_process_verify(c, true),
	      "bytes");
	finish(__func__);
}

/*
 * A KSM page swapped out comes back as a private copy in each sharer but
 * the first (ksm_might_need_to_copy(): the swap cache page is the first
 * one's, of another anon_vma); once the last swap pte is gone, the copy's
 * swap-in frees the slot and the swap cache's page, which nobody maps now
 * (do_swap_page()'s try_to_free_swap(swapcache)).  A and B share a KSM
 * page, reclaimed; A reads (the swap cache page, mapped), B reads (a copy):
 * no slot is left in use, and the two frames are A's and B's.
 */
static void test_ksm_swapin_copy_frees_slot(void)
{
	struct sim_mem_stats st;
	struct mm_struct *a, *b;
	char c;

	start(ERA_KEYHOLE);
	a = process("A", 1, 'k');
	b = process("B", 1, 'k');
	CHECK(a && b, "processes");
	ksm_scan_full(2);
	CHECK(sim_process_pfn(a, 0) == sim_process_pfn(b, 0), "not merged");
	CHECK(!sim_reclaim_process_page(a, 0), "reclaim of the KSM page");
	CHECK(!sim_process_read(a, 0, 0, &c, 1), "A's read");
	CHECK(!sim_process_read(b, 0, 0, &c, 1), "B's read");
	CHECK(sim_process_pfn(a, 0) != sim_process_pfn(b, 0),
	      "B maps A's page: no copy");
	st = mem();
	CHECK(st.swap_used == 0 && st.nr_used == 2, "%lu swap slots and %lu "
	      "frames in use (0 and 2): the slot nobody needs was kept",
	      st.swap_used, st.nr_used);
	CHECK(!sim_process_verify(a, true) && !sim_process_verify(b, true),
	      "bytes");
	finish(__func__);
}

/*
 * Reclaim writes a page to swap only if it is dirty (shrink_page()'s
 * PageDirty() test before pageout()): a page read back from swap and not
 * written since is clean, its slot still holds its bytes, and reclaiming
 * it again writes nothing (pswpout stays).  Its process reads it back
 * right.
 */
static void test_clean_swapcache_not_written(void)
{
	struct mm_struct *a;
	unsigned long outs;
	char b;

	start(ERA_KEYHOLE);
	a = sim_process_create("A", 1);
	CHECK(a && !sim_process_fill(a, 0, 'a'), "A");
	CHECK(!sim_reclaim_process_page(a, 0), "swap-out");
	outs = activity().swap_outs;
	CHECK(outs == 1, "%lu pages written by the first swap-out", outs);
	CHECK(!sim_process_read(a, 0, 0, &b, 1) && b == 'a', "A's read");
	CHECK(!sim_reclaim_process_page(a, 0), "the second swap-out");
	CHECK(activity().swap_outs == 1, "a clean page was written to swap "
	      "again (%lu writes)", activity().swap_outs);
	CHECK(sim_process_pfn(a, 0) < 0 && mem().nr_used == 0,
	      "the page was not freed");
	CHECK(!sim_process_verify(a, true), "bytes");
	finish(__func__);
}

/*
 * Reclaim of a KSM page unmaps it from children forked since ksmd last
 * looked, which have no rmap_item of their own yet: rmap_walk_ksm()'s
 * second pass (search_new_forks), over the other mms of each rmap_item's
 * anon_vma.  P and Q share a KSM page; P forks C: reclaim frees the page,
 * and C's pte, too, is a swap entry, which C reads back.  Without the
 * second pass C's pte would hold the page, and reclaim would keep it.
 */
static void test_ksm_reclaim_finds_new_forks(void)
{
	struct mm_struct *p, *q, *c;
	int rc;

	start(ERA_KEYHOLE);
	p = process("P", 1, 'k');
	q = process("Q", 1, 'k');
	CHECK(p && q, "processes");
	ksm_scan_full(2);
	CHECK(sim_process_pfn(p, 0) == sim_process_pfn(q, 0), "not merged");
	c = sim_process_fork(p, "C");
	CHECK(c && sim_process_pfn(c, 0) == sim_process_pfn(p, 0), "fork");
	rc = sim_reclaim_process_page(p, 0);
	CHECK(rc == 0 && sim_process_pfn(c, 0) < 0, "reclaim %d; C's pte %s",
	      rc, sim_process_pfn(c, 0) < 0 ? "swapped" : "still maps it");
	CHECK(mem().nr_used == 0, "%lu frames in use", mem().nr_used);
	CHECK(!sim_process_verify(c, true) && !sim_process_verify(p, true) &&
	      !sim_process_verify(q, true), "bytes");
	finish(__func__);
}

/*
 * A swap-in that finds its slot freed meanwhile gives up
 * (swapcache_prepare()'s -ENOENT when no pte holds the entry any more,
 * and read_swap_cache_async()'s return on it): it must not bring a freed
 * slot into the swap cache.  Two threads of A write A's page, swapped
 * out; the first is preempted at each point in turn, the second runs
 * whole: its write fault reuses the page, which leaves the swap cache and
 * frees the slot (reuse_swap_page()).  When the first was stopped after
 * its swap cache lookup and before swapcache_prepare(), it finds the
 * slot free, and its fault is simply retried.  Every run ends with one
 * frame in use and no swap slot: a swap cache page read in for the freed
 * slot would be a second frame, nobody's.
 */
static void test_swapin_meets_freed_slot(void)
{
	static char out[1 << 16];
	struct job t1 = { .fn = job_write, .vpn = 0, .byte = 'w' };
	struct job t2 = { .fn = job_write, .vpn = 0, .byte = 'w' };
	struct sim_actor_spec actors[2] = {
		{ "T1", run_job, &t1 }, { "T2", run_job, &t2 },
	};
	struct sim_mem_stats st;
	unsigned int at, runs = 0;
	char name[64];
	int err;

	for (at = 1; at < PREEMPT_MAX; at++) {
		start(ERA_KEYHOLE);
		t1.mm = t2.mm = sim_process_create("A", 1);
		CHECK(t1.mm && !sim_process_fill(t1.mm, 0, 'a') &&
		      !sim_reclaim_process_page(t1.mm, 0), "A, swap-out");
		err = run_preempted(actors, 2, &at, 1, out, sizeof(out));
		if (err && preempt_misfit) {	/* no choice at decision at */
			sim_exit();
			continue;
		}
		if (preempt_decisions <= at) {	/* the run ended before it */
			sim_exit();
			break;
		}
		CHECK(!err && t1.ret == 0 && t2.ret == 0, "preempted at %u: "
		      "%s, writes %ld %ld", at, sim_run_error(), t1.ret,
		      t2.ret);
		st = mem();
		CHECK(st.nr_used == 1 && st.swap_used == 0, "preempted at %u: "
		      "%lu frames, %lu swap slots in use (1 and 0):\n%s", at,
		      st.nr_used, st.swap_used, out);
		CHECK(!sim_process_verify(t1.mm, true), "bytes");
		snprintf(name, sizeof(name), "%s(%u)", __func__, at);
		finish(name);
		runs++;
	}
	CHECK(runs > 2, "the write was preempted at %u points only", runs);
}

/** The child a job's exit takes: C. */
static struct mm_struct *child_c;

/**
 * P's other thread reads P's page and writes it (a copy: C's swap pte
 * holds the slot), C exits (its slot, and the swap cache page, freed),
 * and P's copy is reclaimed, into the same slot: the one-slot device has
 * no other.
 */
static int job_slot_reuse(struct job *j)
{
	char b;

	if (sim_process_read(j->mm, 0, 0, &b, 1))
		return -1;
	if (sim_process_write(j->mm, 0, 0, &j->byte, 1))
		return -2;
	if (sim_process_exit(child_c))
		return -3;
	return sim_reclaim_process_page(j->mm, 0) ? -4 : 0;
}

/*
 * The swap-in race fixed in 2010 ("mm: fix swapin race condition"): once
 * do_swap_page() has its page locked, it checks that the page is still
 * the swap cache page of the entry it faulted on (PageSwapCache, the same
 * private), because pte_same() alone is fooled when the slot was freed
 * and used again meanwhile.  P and C share a page, swapped out to the one
 * slot of the device.  A thread of P reads it, preempted at each point in
 * turn; P's other thread reads and writes it (a copy), C exits (slot and
 * swap cache page freed), and P's copy is reclaimed into the same slot:
 * P's pte is again that slot's entry.  The first thread, stopped while it
 * held the old swap cache page unlocked, finds it out of the swap cache,
 * and retries: P reads its write.  Had it mapped the old page, P would
 * read the bytes from before its write.
 */
static void test_swapin_meets_slot_reuse(void)
{
	static char out[1 << 16];
	struct job t1 = { .fn = job_read, .vpn = 0 };
	struct job t2 = { .fn = job_slot_reuse, .vpn = 0, .byte = 'w' };
	struct sim_actor_spec actors[2] = {
		{ "T1", run_job, &t1 }, { "T2", run_job, &t2 },
	};
	unsigned int at, runs = 0;
	char name[64];
	int err;

	for (at = 1; at < PREEMPT_MAX; at++) {
		start_swap(ERA_KEYHOLE, 1);
		t1.mm = t2.mm = sim_process_create("P", 1);
		CHECK(t1.mm && !sim_process_fill(t1.mm, 0, 'p'), "P");
		child_c = sim_process_fork(t1.mm, "C");
		CHECK(child_c && !sim_reclaim_process_page(t1.mm, 0),
		      "fork, swap-out");
		err = run_preempted(actors, 2, &at, 1, out, sizeof(out));
		if (err && preempt_misfit) {	/* no choice at decision at */
			sim_exit();
			continue;
		}
		if (preempt_decisions <= at) {	/* the run ended before it */
			sim_exit();
			break;
		}
		CHECK(!err && t1.ret == 0 && t2.ret == 0, "preempted at %u: "
		      "%s, read %ld, the other thread %ld", at,
		      sim_run_error(), t1.ret, t2.ret);
		CHECK(!sim_process_verify(t1.mm, true), "preempted at %u, P "
		      "reads bytes from before its write:\n%s", at, out);
		snprintf(name, sizeof(name), "%s(%u)", __func__, at);
		finish(name);
		runs++;
	}
	CHECK(runs > 2, "the read was preempted at %u points only", runs);
}

/*
 * free_swap_and_cache() finds the slot's last pte gone and the slot held
 * only by the swap cache, but the swap cache page gone too: reclaim has
 * taken it out (__remove_mapping()) and has not yet given the slot's
 * SWAP_HAS_CACHE back (swapcache_free()).  lookup_swap_cache() says NULL,
 * and there is nothing to do (its "!page" return).  A's page is kept in
 * the swap cache, unmapped (a pin held it as reclaim let go); A exits,
 * preempted at each point in turn, while reclaim frees the page.  Every
 * run ends with no frame and no slot in use.
 */
static void test_exit_meets_swapcache_reclaim(void)
{
	static char out[1 << 16];
	struct job e = { .fn = job_exit };
	struct job r = { .fn = job_reclaim_pfn };
	struct sim_actor_spec actors[2] = {
		{ "exit", run_job, &e }, { "reclaim", run_job, &r },
	};
	struct sim_mem_stats st;
	unsigned int at, runs = 0;
	char name[64];
	int err;

	for (at = 1; at < PREEMPT_MAX; at++) {
		start(ERA_KEYHOLE);
		e.mm = sim_process_create("A", 1);
		CHECK(e.mm && !sim_process_fill(e.mm, 0, 'a'), "A");
		r.pfn = sim_pin_page(e.mm, 0);
		CHECK(r.pfn >= 0, "pin");
		CHECK(sim_reclaim_process_page(e.mm, 0) == -EBUSY &&
		      sim_process_pfn(e.mm, 0) < 0, "the pinned swap-out");
		CHECK(!sim_unpin_page((unsigned long)r.pfn), "unpin");
		err = run_preempted(actors, 2, &at, 1, out, sizeof(out));
		if (err && preempt_misfit) {	/* no choice at decision at */
			sim_exit();
			continue;
		}
		if (preempt_decisions <= at) {	/* the run ended before it */
			sim_exit();
			break;
		}
		CHECK(!err && e.ret == 0, "preempted at %u: %s, exit %ld", at,
		      sim_run_error(), e.ret);
		st = mem();
		CHECK(st.nr_used == 0 && st.swap_used == 0, "preempted at %u: "
		      "%lu frames, %lu swap slots in use (reclaim %ld):\n%s",
		      at, st.nr_used, st.swap_used, r.ret, out);
		snprintf(name, sizeof(name), "%s(%u)", __func__, at);
		finish(name);
		runs++;
	}
	CHECK(runs > 2, "the exit was preempted at %u points only", runs);
}

/** The four mappers of a KSM page: two with rmap_items, their forks. */
static struct mm_struct *walk_mm[4];
/** What the observer saw, in order: C, D, P, Q mapped (pte present)? */
static bool walk_seen[4];

/** Look at the forks' ptes first, then their parents'. */
static int job_observe(struct job *j)
{
	static const int order[4] = { 2, 3, 0, 1 };
	int i;

	(void)j;
	for (i = 0; i < 4; i++)
		walk_seen[order[i]] = sim_process_pfn(walk_mm[order[i]], 0)
				      >= 0;
	return 0;
}

/*
 * rmap_walk_ksm() visits, first, the vma of each rmap_item's own mm, and
 * only then, in a second pass, the other vmas of its anon_vma: children
 * forked since ksmd last looked, which have no rmap_item yet.  P and Q
 * share a KSM page; P forks C, Q forks D.  Reclaim of the page, preempted
 * at each point in turn, lets an observer look at the ptes: a fork's pte
 * is never a swap entry while P's or Q's still maps the page (the fork is
 * looked at after its parent, and the ptes, once unmapped, stay so; the
 * observer looks at the forks first).  Every run frees the page.
 */
static void test_ksm_walk_order(void)
{
	static char out[1 << 16];
	struct job r = { .fn = job_reclaim, .vpn = 0 };
	struct job o = { .fn = job_observe };
	struct sim_actor_spec actors[2] = {
		{ "reclaim", run_job, &r }, { "observe", run_job, &o },
	};
	unsigned int at, runs = 0;
	char name[64];
	int err, i;

	for (at = 1; at < PREEMPT_MAX; at++) {
		start(ERA_KEYHOLE);
		walk_mm[0] = process("P", 1, 'k');
		walk_mm[1] = process("Q", 1, 'k');
		CHECK(walk_mm[0] && walk_mm[1], "processes");
		ksm_scan_full(2);
		CHECK(sim_process_pfn(walk_mm[0], 0) ==
		      sim_process_pfn(walk_mm[1], 0), "not merged");
		walk_mm[2] = sim_process_fork(walk_mm[0], "C");
		walk_mm[3] = sim_process_fork(walk_mm[1], "D");
		CHECK(walk_mm[2] && walk_mm[3], "forks");
		r.mm = walk_mm[0];
		err = run_preempted(actors, 2, &at, 1, out, sizeof(out));
		if (err && preempt_misfit) {	/* no choice at decision at */
			sim_exit();
			continue;
		}
		if (preempt_decisions <= at) {	/* the run ended before it */
			sim_exit();
			break;
		}
		CHECK(!err && r.ret == 0, "preempted at %u: %s, reclaim %ld",
		      at, sim_run_error(), r.ret);
		CHECK(!((!walk_seen[2] || !walk_seen[3]) &&
			(walk_seen[0] || walk_seen[1])), "preempted at %u: "
		      "a fork's pte swapped while a parent's maps the page "
		      "(P %d Q %d C %d D %d mapped):\n%s", at, walk_seen[0],
		      walk_seen[1], walk_seen[2], walk_seen[3], out);
		for (i = 0; i < 4; i++)
			CHECK(sim_process_pfn(walk_mm[i], 0) < 0 &&
			      !sim_process_verify(walk_mm[i], true),
			      "preempted at %u: %s", at,
			      sim_process_name(walk_mm[i]));
		snprintf(name, sizeof(name), "%s(%u)", __func__, at);
		finish(name);
		runs++;
	}
	CHECK(runs > 2, "reclaim was preempted at %u points only", runs);
}

static int job_ksmd(struct job *j)
{
	ksm_scan_pages((unsigned int)j->vpn);
	return 0;
}

/** The three mappers of test_ksm_merge_meets_reclaim(): P, Q, then R. */
static struct mm_struct *merge_mm[3];

/*
 * ksmd maps a KSM page into a new pte without the page's lock
 * (replace_page()), and names that pte (stable_tree_append()) only once
 * it has the lock.  Reclaim of the KSM page P and Q share, preempted at
 * each point in turn, meets ksmd merging R's page into it: when R's pte
 * comes while reclaim holds the page lock and before its walk has found
 * the page unmapped, the walk cannot find it, the page stays mapped, and
 * try_to_unmap() says so (SWAP_AGAIN, not SWAP_SUCCESS): reclaim keeps
 * the page, in the swap cache, dirty, and writes nothing.  P's and Q's
 * ptes are swap entries meanwhile, their slot not yet written: their bytes
 * are read from the swap cache page (swap_peek()), and are right.  Some run
 * is that one; every run leaves bytes right and a machine whole.
 */
static void test_ksm_merge_meets_reclaim(void)
{
	static char out[1 << 16];
	struct job r = { .fn = job_reclaim, .vpn = 0 };
	struct job k = { .fn = job_ksmd, .vpn = 4 };
	struct sim_actor_spec actors[2] = {
		{ "reclaim", run_job, &r }, { "ksmd", run_job, &k },
	};
	unsigned int at, runs = 0, kept = 0;
	char name[64];
	long pfn;
	int err, i;

	for (at = 1; at < PREEMPT_MAX; at++) {
		start(ERA_KEYHOLE);
		merge_mm[0] = process("P", 1, 'k');
		merge_mm[1] = process("Q", 1, 'k');
		CHECK(merge_mm[0] && merge_mm[1], "processes");
		ksm_scan_full(2);
		pfn = sim_process_pfn(merge_mm[0], 0);
		CHECK(pfn == sim_process_pfn(merge_mm[1], 0), "not merged");
		merge_mm[2] = process("R", 1, 'k');
		CHECK(merge_mm[2], "R");
		r.mm = merge_mm[0];
		err = run_preempted(actors, 2, &at, 1, out, sizeof(out));
		if (err && preempt_misfit) {	/* no choice at decision at */
			sim_exit();
			continue;
		}
		if (preempt_decisions <= at) {	/* the run ended before it */
			sim_exit();
			break;
		}
		CHECK(!err, "preempted at %u: %s", at, sim_run_error());
		for (i = 0; i < 3; i++)
			CHECK(!sim_process_verify(merge_mm[i], true),
			      "preempted at %u, %s reads bytes it never "
			      "wrote:\n%s", at, sim_process_name(merge_mm[i]),
			      out);
		if (r.ret == -EBUSY && sim_process_pfn(merge_mm[0], 0) < 0 &&
		    sim_process_pfn(merge_mm[1], 0) < 0 &&
		    sim_process_pfn(merge_mm[2], 0) == pfn &&
		    activity().swap_outs == 0)
			kept++;
		snprintf(name, sizeof(name), "%s(%u)", __func__, at);
		finish(name);
		runs++;
	}
	CHECK(runs > 2, "reclaim was preempted at %u points only", runs);
	CHECK(kept > 0, "no run had reclaim keep the KSM page unwritten, "
	      "with R's new pte left mapping it");
}

/*
 * rmap_walk_ksm() stops as soon as its callback says the page is
 * unmapped (try_to_unmap_walk_one()'s SWAP_SUCCESS: "ret != SWAP_AGAIN"):
 * a pte that ksmd gives the page after that is not looked for.  P and Q
 * share a KSM page; P forks C, which writes its page back to the same
 * bytes (a private copy, which ksmd will merge, the fork's pte found only
 * by the walk's second pass).  Reclaim of the page is preempted at its
 * first decision after it has unmapped P's and Q's ptes, and ksmd merges
 * C's page: the walk is over, C's pte maps the KSM page, and reclaim keeps
 * it (ksmd's reference and C's pte).  A walk that went on after
 * SWAP_SUCCESS would reach C's vma in its second pass and unmap it.
 */
static void test_ksm_walk_stops_when_unmapped(void)
{
	static char out[1 << 16];
	struct job r = { .fn = job_reclaim, .vpn = 0 };
	struct job k = { .fn = job_ksmd, .vpn = 1 };
	struct sim_actor_spec actors[2] = {
		{ "reclaim", run_job, &r }, { "ksmd", run_job, &k },
	};
	struct mm_struct *p, *q, *c = NULL;
	unsigned int at;
	bool found = false;
	char *pp, *qp, *preempt;
	long pfn = -1;
	char b;
	int err = 0;

	for (at = 1; at < PREEMPT_MAX && !found; at++) {
		start(ERA_KEYHOLE);
		p = process("P", 1, 'k');
		q = process("Q", 1, 'k');
		CHECK(p && q, "processes");
		ksm_scan_full(2);
		pfn = sim_process_pfn(p, 0);
		CHECK(pfn == sim_process_pfn(q, 0), "not merged");
		c = sim_process_fork(p, "C");
		b = 'c';
		CHECK(c && !sim_process_write(c, 0, 0, &b, 1), "C's copy");
		b = 'k';
		CHECK(!sim_process_write(c, 0, 0, &b, 1), "C's bytes back");
		ksm_scan_pages(2);	/* P's and Q's: ksmd's next is C's */
		r.mm = p;
		err = run_preempted(actors, 2, &at, 1, out, sizeof(out));
		pp = strstr(out, "P page 0: pfn");
		qp = strstr(out, "Q page 0: pfn");
		preempt = strstr(out, "(preempted");
		found = !err && pp && qp && preempt && preempt > pp &&
			preempt > qp;
		if (!found)
			sim_exit();
	}
	CHECK(found, "no preemption of reclaim fell after P's and Q's ptes "
	      "were unmapped");
	CHECK(r.ret == -EBUSY && sim_process_pfn(c, 0) == pfn, "preempted "
	      "at %u: reclaim %ld, C's pte %ld (the KSM page %ld):\n%s",
	      at - 1, r.ret, sim_process_pfn(c, 0), pfn, out);
	CHECK(!sim_process_verify(c, true), "C's bytes");
	finish(__func__);
}

static int job_exchange(struct job *j)
{
	return sim_exchange_pfns((unsigned long)j->pfn,
				 (unsigned long)j->node);
}

/** read(2) of page 0 of job->file: its first byte in job->byte. */
static int job_file_read(struct job *j)
{
	static unsigned char page[65536];	/* the largest page size */
	int err = sim_file_read(j->file, 0, page);

	j->byte = (char)page[0];
	return err;
}

/**
 * Exchange the anonymous page in frame \a from with page 0 of \a f, a
 * read(2) of that page stopped while the file's slot names \a from and
 * its bytes are still the anonymous ones (R13.uptodate's script); the
 * first byte read(2) returned, or 0 if something failed.
 */
static char exchange_meets_read(long from, struct address_space *f)
{
	static const struct sim_step steps[] = {
		{ "exchange", "exchange_page_move_mapping:unfrozen" },
		{ "reader", "blocked|done" },	/* on the lock, if not uptodate */
		{ "exchange", "done" },
		{ "reader", "done" },
	};
	struct job x = { .fn = job_exchange, .pfn = from };
	struct job rd = { .fn = job_file_read, .file = f };
	struct sim_actor_spec actors[2] = {
		{ "exchange", run_job, &x }, { "reader", run_job, &rd },
	};

	x.node = (int)sim_file_pfn(f, 0);
	if (from < 0 || x.node < 0 ||
	    sim_run_script(actors, 2, steps, 4) || x.ret || rd.ret)
		return 0;
	return rd.byte;
}

/** The file of test_swapin_page_uptodate(), mapped and cached. */
static struct address_space *uptodate_file(void)
{
	struct address_space *f = sim_file_create("F", 1, 'F', true);
	struct mm_struct *m = f ? sim_process_map_file("M", f) : NULL;
	char b;

	if (!m || sim_process_read(m, 0, 0, &b, 1))
		return NULL;
	return f;
}

/*
 * A page read in from swap is uptodate (swap_readpage()'s end of I/O:
 * read_swap_cache_async()'s SetPageUptodate()), and so is the private copy
 * a KSM page swapped in becomes (ksm_might_need_to_copy()'s
 * SetPageUptodate(new)), as every anonymous page.  The flag travels with
 * an anonymous page into the page cache when it is exchanged with a file's
 * page (seed 003), and, with our R13.uptodate line off, read(2) copies it
 * there without its lock, before its bytes are the file's: the race shows
 * with these pages as with any, and read(2) returns the anonymous bytes.
 * With the line on, read(2) waits on the lock and returns the file's.
 * The pages: A's, swapped out and written back in (reused: out of the
 * swap cache), and B's copy of a KSM page it shared with C.
 */
static void test_swapin_page_uptodate(void)
{
	struct address_space *f;
	struct mm_struct *a, *b, *c;
	int fixed;
	char x = 'b', got;

	for (fixed = 0; fixed < 2; fixed++) {
		start(ERA_EXCHANGE);
		CHECK(!ksm_fix_set(FIX_XCHG_CLEAR_UPTODATE, fixed), "fix");
		f = uptodate_file();
		a = sim_process_create("A", 1);
		CHECK(f && a && !sim_process_fill(a, 0, 'a'), "F, A");
		CHECK(!sim_reclaim_process_page(a, 0) &&
		      !sim_process_write(a, 0, 0, &x, 1),
		      "A's swap-out, and its write");
		got = exchange_meets_read(sim_process_pfn(a, 0), f);
		CHECK(got == (fixed ? 'F' : 'b'), "%s, read(2) returned '%c' "
		      "(a swapped-in page %s uptodate)", fixed ? "fixed" :
		      "R13.uptodate", got, fixed ? "was" : "was not");
		CHECK(!sim_process_verify(a, true), "A's bytes");
		finish(fixed ? "test_swapin_page_uptodate(swap-in, fixed)" :
		       "test_swapin_page_uptodate(swap-in)");

		start(ERA_EXCHANGE);
		CHECK(!ksm_fix_set(FIX_XCHG_CLEAR_UPTODATE, fixed), "fix");
		f = uptodate_file();
		b = process("B", 1, 'k');
		c = process("C", 1, 'k');
		CHECK(f && b && c, "F, B, C");
		ksm_scan_full(2);
		CHECK(sim_process_pfn(b, 0) == sim_process_pfn(c, 0),
		      "not merged");
		CHECK(!sim_reclaim_process_page(b, 0) &&
		      !sim_process_read(c, 0, 0, &x, 1) &&
		      !sim_process_read(b, 0, 0, &x, 1) &&
		      sim_process_pfn(b, 0) != sim_process_pfn(c, 0),
		      "the KSM page swapped out, C's read, B's copy");
		got = exchange_meets_read(sim_process_pfn(b, 0), f);
		CHECK(got == (fixed ? 'F' : 'k'), "%s, read(2) returned '%c' "
		      "(a copy at swap-in %s uptodate)", fixed ? "fixed" :
		      "R13.uptodate", got, fixed ? "was" : "was not");
		CHECK(!sim_process_verify(b, true), "B's bytes");
		finish(fixed ? "test_swapin_page_uptodate(copy, fixed)" :
		       "test_swapin_page_uptodate(copy)");
	}
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--help")) {
		printf("usage: %s\n\nRuns the tests of what single lines of "
		       "swap and reclaim do; prints\n\"ok NAME\" or \"FAIL "
		       "NAME: why\" for each, and exits with the number of\n"
		       "failures.\n", argv[0]);
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "%s: takes no arguments\nusage: %s [--help]\n",
			argv[0], argv[0]);
		return 2;
	}
	test_exit_keeps_mapped_swapcache();
	test_reuse_needs_only_user();
	test_ksm_swapin_copy_frees_slot();
	test_clean_swapcache_not_written();
	test_ksm_reclaim_finds_new_forks();
	test_swapin_meets_freed_slot();
	test_swapin_meets_slot_reuse();
	test_exit_meets_swapcache_reclaim();
	test_ksm_walk_order();
	test_ksm_merge_meets_reclaim();
	test_ksm_walk_stops_when_unmapped();
	test_swapin_page_uptodate();
	return check_status();
}

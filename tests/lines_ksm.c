// SPDX-License-Identifier: GPL-2.0
/*
 * lines_ksm.c - what single lines of the KSM core do, pinned down one by
 * one, as lines.c does for the rest: the lines of ksmd's own thread and
 * of the run and pages_to_scan knobs, of the stable tree's insert when
 * it meets a node as the page it inserts, of the pinned design's last
 * rmap_item, and of what CONFIG_DEBUG_VM prints about a freed stable
 * node (its quarantine, its history) when the kernel dies.  Each test
 * says, in its comment, which lines it holds and what would tell a change
 * to them apart: a count the kernel would show, a page kept or merged, an
 * oops and what it printed, ksmd's column in a timeline.  Where a line
 * runs only when two actors meet at one point, a script of race windows
 * puts them there; where ksmd's own thread must run, the test waits for a
 * count it reaches, and no verdict depends on how long that took.
 *
 * Each test prints "ok NAME", "FAIL NAME: why", or "skip NAME: why" where
 * this build cannot make it (a snapshot, in a sanitizer's); the auditor
 * runs after each; the exit status is the number of failures (at most
 * 100), 2 for bad arguments.
 */
#define _POSIX_C_SOURCE 200809L		/* fmemopen(), dup2(), nanosleep() */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../ksm_ref.h"
#include "check.h"
#include "jobs.h"

static int job_scan(struct job *j)
{
	ksm_scan_pages((unsigned int)j->vpn);
	return 0;
}

static int job_fill(struct job *j)
{
	return sim_process_fill(j->mm, j->vpn, j->byte);
}

static int job_offline(struct job *j)
{
	return sim_offline_section((unsigned long)j->pfn);
}

static int job_set_run(struct job *j)
{
	return ksm_set_run((unsigned int)j->node);
}

/*
 * ksmd's thread scans pages_to_scan pages a batch (ksm_scan_thread()'s
 * ksm_do_scan(ksm_thread_pages_to_scan), the value
 * ksm_set_pages_to_scan() stores), then sleeps sleep_millisecs, which
 * only a stop cuts short: with a sleep of a day, ksmd started does one
 * batch, and ksm_stop_thread() ends it.  A's six pages alike, their
 * checksums taken: a batch of 3 merges the first three (one KSM page,
 * two sharing it) and ends the full scan no sooner; the default 100
 * would merge all six and end it.  And ksmd acts as "ksmd" (its thread's
 * `current`): the timeline has a column of that name for what it did.
 */
static void test_ksmd_one_batch(void)
{
	static char out[1 << 16];
	struct ksm_counters c;
	struct mm_struct *a;
	FILE *f;

	start(ERA_KEYHOLE);
	a = process("A", 6, 'k');
	CHECK(a, "A");
	ksm_scan_full(1);			/* the checksums */
	CHECK(!ksm_set_pages_to_scan(3), "pages_to_scan");
	CHECK(!ksm_set_sleep_millisecs(86400000), "sleep_millisecs");
	CHECK(!ksm_set_run(1), "run=1");
	sim_trace_enable(true);
	sim_timeline_set_width(200);
	CHECK(!ksm_start_thread(), "ksmd");
	CHECK(!wait_for_sharing(2), "ksmd never merged three pages");
	ksm_stop_thread();			/* after its one batch */
	sim_trace_stop();
	f = fmemopen(out, sizeof(out), "w");
	CHECK(f, "fmemopen");
	sim_timeline_print(f);
	fclose(f);
	sim_trace_enable(false);
	sim_timeline_set_width(96);
	c = counters();
	CHECK(c.pages_shared == 1 && c.pages_sharing == 2 &&
	      c.full_scans == 1, "one batch of 3: shared %lu, sharing %lu, "
	      "full scans %lu (want 1, 2, 1)", c.pages_shared,
	      c.pages_sharing, c.full_scans);
	CHECK(strstr(out, "\tksmd ") && strstr(out, "merged"),
	      "no column \"ksmd\" for ksmd's merges:\n%s", out);
	CHECK(!sim_process_verify(a, true), "bytes");
	finish(__func__);
}

/*
 * ksmd's thread, with nothing to scan, waits until there is something;
 * the first process registered (__ksm_enter()'s needs_wakeup, when there
 * were no mm_slots, and its wake_up) wakes it.  ksmd is given time to
 * start waiting first (if it has not, it finds the work all the same:
 * the verdict is the same either way); it then merges A's two pages.
 * Only one mm registers: a wakeup by a later one would not count.
 */
static void test_ksmd_woken_by_first_mm(void)
{
	struct mm_struct *a;

	start(ERA_KEYHOLE);
	CHECK(!ksm_set_sleep_millisecs(1), "sleep_millisecs");
	CHECK(!ksm_set_run(1), "run=1");
	CHECK(!ksm_start_thread(), "ksmd");
	nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
	a = process("A", 2, 'w');	/* the one mm: its two pages merge */
	CHECK(a, "A");
	CHECK(!wait_for_sharing(1), "ksmd, waiting, was not woken by the "
	      "first mm registered");
	ksm_stop_thread();
	CHECK(!sim_process_verify(a, true), "bytes");
	finish(__func__);
}

/*
 * run=2 written twice unmerges once: the second write finds ksm_run
 * already 2 and does nothing (ksm_set_run()'s "ksm_run != run"), so it
 * must have stayed 2 after the first (its "if (err) ksm_run =
 * KSM_RUN_STOP" only on failure).  The pages merged in between, by
 * synchronous scans, stay merged.
 */
static void test_run_unmerge_twice(void)
{
	struct mm_struct *a, *b;

	start(ERA_KEYHOLE);
	a = process("A", 2, 'u');
	b = process("B", 2, 'u');
	CHECK(a && b, "processes");
	ksm_scan_full(2);
	CHECK(counters().pages_sharing == 3, "merged: sharing %lu",
	      counters().pages_sharing);
	CHECK(!ksm_set_run(2), "run=2");
	CHECK(counters().pages_shared == 0, "run=2 left %lu KSM pages",
	      counters().pages_shared);
	ksm_scan_full(2);
	CHECK(counters().pages_sharing == 3, "merged again: sharing %lu",
	      counters().pages_sharing);
	CHECK(!ksm_set_run(2), "run=2 again");
	CHECK(counters().pages_shared == 1 && counters().pages_sharing == 3,
	      "run=2 written again unmerged: shared %lu, sharing %lu",
	      counters().pages_shared, counters().pages_sharing);
	CHECK(!sim_process_verify(a, true) && !sim_process_verify(b, true),
	      "bytes");
	finish(__func__);
}

/*
 * Before seed 001, the stable node pins its page and dies with its last
 * rmap_item (remove_rmap_item_from_tree()'s ERA_PINNED branch); the page
 * lives on while A's child maps it, and must stop naming the freed node
 * (its set_page_stable_node(page, NULL)): the child's rmap_item, scanned
 * next, finds a KSM page with no node, not a freed node it would append
 * to (CONFIG_DEBUG_VM's stable_node_check() oopses on that), and the
 * auditor finds no page naming a node not in the tree.
 */
static void test_pinned_last_item_forgets_node(void)
{
	struct mm_struct *a, *b, *c;
	long kpfn;

	start(ERA_PINNED);
	sim_set_debug_vm(true);
	a = process("A", 1, 'p');
	b = process("B", 1, 'p');
	CHECK(a && b, "processes");
	ksm_scan_full(2);
	kpfn = sim_process_pfn(a, 0);
	CHECK(counters().pages_shared == 1 && kpfn == sim_process_pfn(b, 0),
	      "A and B not merged");
	c = sim_process_fork(a, "C");
	CHECK(c, "fork");
	CHECK(!sim_process_fill(a, 0, 'a') && !sim_process_fill(b, 0, 'b'),
	      "writes");
	ksm_scan_full(2);
	CHECK(counters().stable_nodes == 0 && counters().pages_shared == 0,
	      "%lu stable nodes", counters().stable_nodes);
	CHECK(sim_process_pfn(c, 0) == kpfn, "C no longer maps the page");
	CHECK(!sim_process_verify(a, true) && !sim_process_verify(b, true) &&
	      !sim_process_verify(c, true), "bytes");
	finish(__func__);
}

/**
 * One page of S scanned by ksmd (a script's actor), S writing \a byte
 * into it while ksmd looks at the stable tree's second node (its second
 * get_ksm_page()), after comparing the page with the first.
 */
static int scan_meeting_write(struct mm_struct *s, unsigned long vpn,
			      int byte)
{
	static const struct sim_step steps[] = {
		{ "ksmd", "get_ksm_page:look#2" },
		{ "S", "done" },
		{ "ksmd", "done" },
	};
	struct job k = { .fn = job_scan, .vpn = 1 };
	struct job w = { .fn = job_fill, .mm = s, .vpn = vpn,
			 .byte = (char)byte };
	struct sim_actor_spec actors[2] = {
		{ "ksmd", run_job, &k }, { "S", run_job, &w },
	};

	return sim_run_script(actors, 2, steps, 3) || w.ret ? -1 : 0;
}

/*
 * stable_tree_insert() can meet a node with the very contents of the page
 * it inserts (the page was not write-protected when stable_tree_search()
 * compared it), and then inserts nothing (its "ret < 0", "ret > 0", else
 * return NULL): the two pages just merged are broken apart again, and the
 * tree keeps one node per contents.
 *
 * The tree: node 'a' at the root, node 'c' its right child.  S's pages Q
 * and P hold 'b' when ksmd compares them with 'a' (so it goes right), and
 * 'a' by the time it has looked at 'c' (so it goes left, to nothing):
 * written in that window, in two full scans, so that their checksums
 * hold.  In the second, Q goes into the unstable tree, and P, found equal
 * to Q there, is merged with it into a KSM page that stable_tree_insert()
 * finds equal to node 'a'.
 */
static void test_insert_meets_equal_node(void)
{
	struct mm_struct *n, *m, *s;
	struct ksm_counters c;
	int round;

	start(ERA_KEYHOLE);
	n = process("N", 2, 'a');
	CHECK(n, "N");
	m = process("M", 2, 'c');
	CHECK(m, "M");
	ksm_scan_full(2);
	c = counters();
	CHECK(c.stable_nodes == 2 && c.pages_shared == 2, "%lu nodes",
	      c.stable_nodes);
	s = sim_process_create("S", 2);
	CHECK(s && !sim_process_madvise(s, true), "S");
	for (round = 0; round < 2; round++) {
		/* Q and P say 'b' to the first node, 'a' after the second. */
		CHECK(!sim_process_fill(s, 0, 'b') &&
		      !sim_process_fill(s, 1, 'b'), "S writes 'b'");
		ksm_scan_pages(4);		/* N's and M's pages */
		CHECK(!scan_meeting_write(s, 0, 'a'), "Q: %s",
		      sim_run_error());
		CHECK(!scan_meeting_write(s, 1, 'a'), "P: %s",
		      sim_run_error());
		c = counters();
		ksm_scan_pages(1);		/* the end of the full scan */
		CHECK(counters().full_scans == c.full_scans + 1,
		      "round %d did not end", round);
	}
	c = counters();
	CHECK(c.stable_nodes == 2 && c.pages_shared == 2 &&
	      c.pages_sharing == 2, "stable nodes %lu, shared %lu, sharing "
	      "%lu: a second node for 'a'?", c.stable_nodes, c.pages_shared,
	      c.pages_sharing);
	CHECK(sim_process_pfn(s, 0) != sim_process_pfn(s, 1),
	      "Q and P still share a page");
	CHECK(!sim_process_verify(s, true) && !sim_process_verify(n, true) &&
	      !sim_process_verify(m, true), "bytes");
	/* The next scan finds them in the tree, as node 'a's. */
	ksm_scan_full(1);
	CHECK(counters().stable_nodes == 2 && counters().pages_sharing == 4,
	      "after: %lu nodes, sharing %lu", counters().stable_nodes,
	      counters().pages_sharing);
	finish(__func__);
}

/*
 * While memory goes offline (2013: KSM_RUN_OFFLINE, set at
 * MEM_GOING_OFFLINE), writing the run knob waits (ksm_set_run()'s
 * wait_while_offlining()), its ksm_thread_mutex dropped meanwhile and
 * taken again after (wait_while_offlining()'s mutex_lock(), which
 * ksm_set_run()'s own unlock needs): the setter blocks until the offline
 * has finished, then sets run=2 and unmerges.
 */
static void test_set_run_waits_offlining(void)
{
	static const struct sim_step steps[] = {
		{ "offline", "offline_pages:going" },
		{ "setter", "blocked" },
		{ "offline", "done" },
		{ "setter", "done" },
	};
	struct job o = { .fn = job_offline, .pfn = 3 };
	struct job r = { .fn = job_set_run, .node = 2 };
	struct sim_actor_spec actors[2] = {
		{ "offline", run_job, &o }, { "setter", run_job, &r },
	};
	struct mm_struct *a, *b;

	start(ERA_MIGRATION);
	a = process("A", 1, 'o');
	b = process("B", 1, 'o');
	CHECK(a && b, "processes");
	ksm_scan_full(2);
	CHECK(counters().pages_shared == 1, "merged");
	CHECK(!sim_run_script(actors, 2, steps, 4), "script: %s",
	      sim_run_error());
	CHECK(o.ret == 0 && r.ret == 0, "offline %ld, run=2 %ld", o.ret,
	      r.ret);
	CHECK(counters().pages_shared == 0, "run=2 did not unmerge");
	CHECK(!sim_process_verify(a, true) && !sim_process_verify(b, true),
	      "bytes");
	CHECK(!sim_online_section(3), "online");
	finish(__func__);
}

/*
 * At MEM_OFFLINE, KSM prunes the stable nodes whose kpfn lies in the
 * range gone (ksm_check_stable_tree(): kpfn >= start_pfn and < end_pfn),
 * the first frame included: a stale node whose KSM page was at pfn 0,
 * section 0's first frame, freed since (A and B wrote their pages), is
 * gone with the section, and no node is left naming a struct page that
 * is no more.
 */
static void test_offline_prunes_first_frame(void)
{
	struct mm_struct *a, *b;

	start(ERA_HOTREMOVE);
	b = sim_process_create("B", 1);
	CHECK(b && !sim_process_fill(b, 0, 'z'), "B");
	a = sim_process_create("A", 1);
	CHECK(a && !sim_process_fill(a, 0, 'z'), "A");
	CHECK(!sim_process_madvise(a, true) && !sim_process_madvise(b, true),
	      "madvise");
	ksm_scan_full(2);		/* B's page, scanned last, is kept */
	CHECK(counters().pages_shared == 1 && sim_process_pfn(a, 0) == 0,
	      "the KSM page is at pfn %ld, not 0", sim_process_pfn(a, 0));
	CHECK(!sim_process_fill(a, 0, 'a') && !sim_process_fill(b, 0, 'b'),
	      "writes");
	CHECK(counters().stable_nodes == 1, "the stale node");
	CHECK(!sim_offline_section(0), "offline section 0");
	CHECK(counters().stable_nodes == 0, "a node naming pfn 0 survived "
	      "its section's offline");
	CHECK(!sim_online_section(0), "online");
	ksm_scan_full(2);
	CHECK(!sim_process_verify(a, true) && !sim_process_verify(b, true),
	      "bytes");
	finish(__func__);
}

/*
 * With the count of kpfn's moves switched off (R8.aba's fix), get_ksm_page()
 * does not read the count, and at stale: compares kpfn alone
 * (stable_node_moved_since()'s early NODE_NOT_MOVED): a count left at 1
 * by a migration made while the fix was on is not compared with the 0 it
 * never read.  The node is stale (A and B wrote their pages): ksmd prunes
 * it at once (a watchdog of 20 s stands, so that ksmd going round
 * get_ksm_page()'s "goto again" for good fails the test, not hangs it).
 */
static void test_kpfn_seq_off_prunes(void)
{
	struct job k = { .fn = job_scan, .vpn = 4 };
	struct sim_actor_spec actors[1] = { { "ksmd", run_job, &k } };
	struct mm_struct *a, *b;
	long pfn;
	int err;

	start(ERA_MIGRATION);
	a = process("A", 1, 's');
	b = process("B", 1, 's');
	CHECK(a && b, "processes");
	ksm_scan_full(2);
	pfn = sim_process_pfn(a, 0);
	CHECK(counters().pages_shared == 1 && pfn >= 0, "merged");
	CHECK(!sim_migrate_pfn((unsigned long)pfn, 1, false), "migrate");
	ksm_fix_set(FIX_KPFN_SEQ, false);
	CHECK(!sim_process_fill(a, 0, 'a') && !sim_process_fill(b, 0, 'b'),
	      "writes");
	CHECK(counters().stable_nodes == 1, "the stale node");
	err = sim_run_free(actors, 1, 20000);
	if (err == -ETIMEDOUT) {
		/* ksmd still runs, in get_ksm_page(): no teardown is safe */
		printf("FAIL %s: ksmd goes round get_ksm_page() for good\n",
		       __func__);
		fflush(stdout);
		_exit(1);
	}
	CHECK(!err, "ksmd: %d", err);
	CHECK(counters().stable_nodes == 0, "the stale node was not pruned");
	CHECK(!sim_process_verify(a, true) && !sim_process_verify(b, true),
	      "bytes");
	finish(__func__);
}

/* ------------------------------------------------------------------ */
/* CONFIG_DEBUG_VM: what the oops prints about a freed stable node. */

/** What is written on stderr meanwhile. */
static struct {
	int saved;
	FILE *f;
	char text[1 << 15];
} cap;

/** Catch what is written on stderr from now, in a file. */
static int capture_start(void)
{
	fflush(stdout);
	fflush(stderr);
	cap.f = tmpfile();
	if (!cap.f)
		return -1;
	cap.saved = dup(2);
	if (cap.saved >= 0 && dup2(fileno(cap.f), 2) >= 0)
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

	fflush(stderr);
	dup2(cap.saved, 2);
	close(cap.saved);
	rewind(cap.f);
	n = fread(cap.text, 1, sizeof(cap.text) - 1, cap.f);
	cap.text[n] = '\0';
	fclose(cap.f);
	return cap.text;
}

/** A scenario that kills the simulated kernel, and what it said. */
struct death {
	void (*fn)(void *arg);		/**< the scenario */
	void *arg;			/**< ...its argument */
	int died;			/**< sim_guarded()'s verdict */
	char what[256];			/**< the oops */
	const char *err;		/**< what was printed on stderr */
};

/**
 * Run \a d's scenario under sim_guarded() from a snapshot of the machine,
 * catching stderr; then put the machine back as it was.  -1 if this build
 * cannot take snapshots (a sanitizer's).
 */
static int run_to_death(struct death *d)
{
	if (sim_snapshot_take())
		return -1;
	if (capture_start()) {
		sim_snapshot_drop();
		return -1;
	}
	d->died = sim_guarded(d->fn, d->arg, d->what, sizeof(d->what));
	d->err = capture_end();
	sim_snapshot_restore();
	sim_snapshot_drop();
	return 0;
}

/** A full scan by ksmd: it reaches A's child's KSM page. */
static void scan_once(void *arg)
{
	(void)arg;
	ksm_scan_full(1);
}

/** Count the lines of \a text that begin with \a prefix. */
static int count_lines(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);
	int c = 0;

	for (; text && *text; text = strchr(text, '\n'), text = text ?
	     text + 1 : NULL)
		if (!strncmp(text, prefix, n))
			c++;
	return c;
}

/*
 * R3.life (the node dies with its last rmap_item while A's child A2 still
 * maps its page): when ksmd appends A2's rmap_item to the freed node,
 * stable_node_check() oopses, first printing what node_history() knows.
 * The node is the only object freed since (A and B wrote their pages:
 * their rmap_items live on), so the quarantine holds it alone, and
 * sim_quarantined() must find it there; its history (CONFIG_DEBUG_VM
 * from the start) holds two events, printed oldest first, and no more
 * (events_print()'s "i < n"), and the machine's hotplug events none: a
 * section went offline and back, but before seed 004 KSM had no memory
 * callback (ksm_memory_callback()'s era check) to record it.
 */
static void test_history_of_node_in_quarantine(void)
{
	struct death d = { .fn = scan_once };
	struct mm_struct *a, *b;
	const char *hot;

	start(ERA_KEYHOLE);
	sim_set_debug_vm(true);
	a = process("A", 1, 'X');
	b = process("B", 1, 'X');
	CHECK(a && b, "processes");
	ksm_scan_full(2);
	CHECK(counters().pages_shared == 1, "merged");
	CHECK(sim_process_fork(a, "A2"), "fork");
	ksm_fix_set(FIX_KEYHOLE_NODE_LIFE, false);
	CHECK(!sim_process_fill(a, 0, 'a') && !sim_process_fill(b, 0, 'b'),
	      "writes");
	/* Before seed 004, KSM hears nothing of memory going offline. */
	CHECK(!sim_offline_section(3) && !sim_online_section(3), "offline");
	if (run_to_death(&d)) {
		sim_exit();
		printf("skip %s: no snapshots in this build (a sanitizer's)\n",
		       __func__);
		return;
	}
	CHECK(d.died == 1 && strstr(d.what, "Oops in stable_tree_append: a "
				    "stable node that is not in the stable "
				    "tree"), "died %d: %s", d.died, d.what);
	CHECK(!strstr(d.err, "freed long ago") &&
	      strstr(d.err, "stable node 1, page at pfn "),
	      "the node in quarantine was not found there:\n%s", d.err);
	hot = strstr(d.err, "\nmemory hotplug:\n");
	CHECK(hot, "no hotplug events:\n%s", d.err);
	CHECK(count_lines(d.err, "  #") == 2 && !strstr(d.err, "(null)") &&
	      strstr(d.err, ": inserted for, pfn ") &&
	      strstr(d.err, ": freed with its last rmap_item, pfn ") &&
	      count_lines(hot + 1, "  #") == 0,
	      "the history printed was:\n%s", d.err);
	finish(__func__);
}

/*
 * The quarantine holds the last SIM_QUARANTINE freed KSM objects and
 * really frees the oldest when a new one comes (sim_quarantine(): the
 * oldest out, the ring's head moved on): here more rmap_items are freed
 * than it holds (18 processes' 4000 pages, forgotten when their areas are
 * made unmergeable), and every object the allocator hands out afterwards
 * is its own: A's and B's pages merge, and the auditor finds the trees,
 * lists and counters whole.
 */
static void test_quarantine_overflows(void)
{
	struct sim_config cfg = { .page_size = 1024, .nr_sections = 16,
				  .era = ERA_KEYHOLE };
	struct mm_struct *a, *b, *z[18];
	struct ksm_counters c;
	unsigned long i;
	int k;

	CHECK(!sim_init(&cfg), "sim_init");
	sim_set_quiet(true);
	z[0] = sim_process_create("Z", 4000);
	CHECK(z[0], "Z");
	for (i = 0; i < 4000; i++) {
		char tag[8];

		snprintf(tag, sizeof(tag), "%lu", i);
		CHECK(!sim_process_write(z[0], i, 0, tag, strlen(tag)),
		      "Z writes");
	}
	CHECK(!sim_process_madvise(z[0], true), "Z mergeable");
	for (k = 1; k < 18; k++) {
		z[k] = sim_process_fork(z[0], "Zk");
		CHECK(z[k], "fork %d", k);
	}
	ksm_scan_full(1);
	CHECK(counters().pages_volatile == 72000, "%lu rmap_items",
	      counters().pages_volatile);
	for (k = 0; k < 18; k++)
		CHECK(!sim_process_madvise(z[k], false), "unmergeable");
	ksm_scan_full(1);		/* 72000 rmap_items freed */
	CHECK(counters().pages_volatile == 0, "%lu rmap_items left",
	      counters().pages_volatile);
	a = process("A", 8, 'q');
	b = process("B", 8, 'q');
	CHECK(a && b, "processes");
	ksm_scan_full(2);
	c = counters();
	CHECK(c.pages_shared == 1 && c.pages_sharing == 15 &&
	      c.stable_nodes == 1, "shared %lu, sharing %lu, nodes %lu",
	      c.pages_shared, c.pages_sharing, c.stable_nodes);
	CHECK(!sim_process_verify(a, true) && !sim_process_verify(b, true),
	      "bytes");
	finish(__func__);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--help")) {
		printf("usage: %s\n\nRuns the tests of what single lines of "
		       "the KSM core do; prints \"ok NAME\"\nor \"FAIL NAME: "
		       "why\" for each, and exits with the number of "
		       "failures.\n", argv[0]);
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "%s: takes no arguments\nusage: %s [--help]\n",
			argv[0], argv[0]);
		return 2;
	}
	test_ksmd_one_batch();
	test_ksmd_woken_by_first_mm();
	test_run_unmerge_twice();
	test_pinned_last_item_forgets_node();
	test_insert_meets_equal_node();
	test_set_run_waits_offlining();
	test_offline_prunes_first_frame();
	test_kpfn_seq_off_prunes();
	test_history_of_node_in_quarantine();
	test_quarantine_overflows();
	return check_status();
}

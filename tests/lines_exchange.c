// SPDX-License-Identifier: GPL-2.0
/*
 * lines_exchange.c - what single lines of the exchange of two pages
 * (seed 003, the 2019 RFC: exchange_two_pages(), unmap_and_exchange(),
 * exchange_from_to_pages(), writeout(), exchange_page_mappings(), and KSM
 * pages in an exchange, R14) do, pinned down one by one, as lines.c does
 * for the rest: the lines whose mutants (walkthrough.md, chapter 9) no
 * other test told apart.  Each test says, in its comment, which lines it
 * holds and what would tell a change to them apart: an error the exchange
 * returns, a page reclaim takes or keeps, a pte a process has or has not
 * (/proc/PID/pagemap), a dirty page written or not, the bytes a process
 * or a file reads back, an oops.  Where a line runs only when two actors
 * meet at one point, a run preempted at the decision whose timeline says
 * it fell there puts them there.
 *
 * Each test prints "ok NAME", "FAIL NAME: why", or "skip NAME: why" where
 * this build cannot make it (a snapshot, in a sanitizer's); the auditor
 * runs after each; the exit status is the number of failures (at most 100), 2 for bad
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

/** A process of \a n pages, each filled with \a byte, not mergeable. */
static struct mm_struct *private_process(const char *name, unsigned long n,
					 int byte)
{
	struct mm_struct *mm = sim_process_create(name, n);
	unsigned long i;

	for (i = 0; mm && i < n; i++)
		sim_process_fill(mm, i, byte);
	return mm;
}

static int job_exchange(struct job *j)
{
	return sim_exchange_pfns((unsigned long)j->pfn, (unsigned long)j->node);
}

/** /proc/PID/pagemap of j->mm's page j->vpn: its frame, or -1. */
static int job_pagemap(struct job *j)
{
	j->pfn = sim_process_pfn(j->mm, j->vpn);
	return 0;
}

/*
 * exchange_two_pages() refuses a pair with a page off the LRU before it
 * isolates either: `if (!(PageLRU(page1) && PageLRU(page2)))`.  Without
 * the test, page1 would be isolated, page2's isolation would fail, and
 * page1 put back (putback_lru_page()) - at the young end of the LRU.  The
 * refusal must leave the LRU as it was: A's first page, faulted first, is
 * still the oldest, the one reclaim's next scan takes (sim_shrink_lru(1)
 * swaps it out, and not A's second page).
 */
static void test_refusal_keeps_lru_order(void)
{
	struct mm_struct *a;
	long p0;

	start(ERA_EXCHANGE);
	a = private_process("A", 2, 'a');
	CHECK(a, "A");
	p0 = sim_process_pfn(a, 0);
	CHECK(sim_page_count(sim_nr_pages() - 1) == 0, "the last frame is "
	      "not free");
	CHECK(sim_exchange_pfns((unsigned long)p0, sim_nr_pages() - 1) ==
	      -EBUSY, "exchange with a free frame");
	CHECK(sim_shrink_lru(1) == 1, "reclaim freed nothing");
	CHECK(sim_process_pfn(a, 0) < 0 && sim_process_pfn(a, 1) >= 0,
	      "reclaim took A's page %s: the refused exchange moved page 0 "
	      "to the young end of the LRU",
	      sim_process_pfn(a, 0) < 0 ? "0 and 1" : "1");
	CHECK(!sim_process_verify(a, true), "bytes");
	finish(__func__);
}

/*
 * After a failed exchange, unmap_and_exchange() puts back the ptes of a
 * page only if it unmapped them: `if (from_page_was_mapped)`, `if
 * (to_page_was_mapped)`.  remove_migration_ptes() walks the page's
 * anon_vma, which the exchange holds only for a page that was mapped
 * (page_get_anon_vma()).  A's page, pinned, outlives A: unmapped, its
 * anon_vma freed with A, its count one more than an exchange expects.
 * Exchanged with E's page, either side, it fails with -EAGAIN; a walk of
 * its anon_vma would be a walk of freed memory (by SLAB_DESTROY_BY_RCU
 * perhaps another process's anon_vma by now: rmap_walk_anon() BUGs on
 * one).  E's page gets its pte back, and the pinned page is freed with
 * the pin.
 */
static void test_failed_exchange_orphan(void)
{
	struct mm_struct *a, *e;
	struct sim_mem_stats st;
	long pa, pe;
	int side;

	for (side = 0; side < 2; side++) {
		start(ERA_EXCHANGE);
		a = private_process("A", 1, 'a');
		e = private_process("E", 1, 'e');
		CHECK(a && e, "processes");
		pa = sim_pin_page(a, 0);
		pe = sim_process_pfn(e, 0);
		CHECK(pa >= 0 && pe >= 0, "pin");
		CHECK(!sim_process_exit(a), "A exits");
		CHECK(sim_page_count((unsigned long)pa) == 1, "the pinned page: "
		      "count %ld", sim_page_count((unsigned long)pa));
		CHECK(sim_exchange_pfns(side ? (unsigned long)pe :
					(unsigned long)pa,
					side ? (unsigned long)pa :
					(unsigned long)pe) == -EAGAIN,
		      "exchange with the pinned orphan, %s",
		      side ? "second" : "first");
		CHECK(sim_process_pfn(e, 0) == pe, "E's pte was not put back");
		CHECK(!sim_process_verify(e, true), "E's bytes");
		CHECK(!sim_unpin_page((unsigned long)pa), "unpin");
		sim_mem_stats(-1, &st);
		CHECK(st.nr_used == 1, "%lu frames in use", st.nr_used);
		finish(side ? "test_failed_exchange_orphan(second)" :
		       "test_failed_exchange_orphan(first)");
	}
}

/*
 * In migration's order (XCHG_KSM_ADVANCE, the refusal of KSM pages off),
 * exchange_page_mappings() gives the KSM page the other page's index with
 * its anonymous mapping to come: `ksm->index = ksm == to_page ?
 * from_page_index : to_page_index`.  An anonymous page's index is where
 * its vma maps it, and the reverse map looks for its pte there: the
 * exchange's remove_migration_ptes() to give E its pte back, reclaim to
 * unmap it.  A and B share a KSM page at their page 0; E's page 2 is
 * exchanged with it, either side: the KSM page's frame becomes E's page 2
 * (pagemap says so; with the KSM page's index 0 left, the walk would look
 * at E's page 0, and page 2 stay a migration entry).  Reclaim of E's page
 * 2 unmaps it and frees the frame, E reads its bytes back from swap, and
 * A and B still share the KSM page, now in E's old frame.
 */
static void test_advance_index(void)
{
	struct mm_struct *a, *b, *e;
	long ka, pe;
	char name[64];
	int side;

	for (side = 0; side < 2; side++) {
		start(ERA_EXCHANGE);
		ksm_fix_set(FIX_XCHG_REFUSE_KSM, false);
		ksm_set_exchange_order(XCHG_KSM_ADVANCE);
		a = process("A", 1, 'K');
		b = process("B", 1, 'K');
		e = sim_process_create("E", 3);
		CHECK(a && b && e && !sim_process_fill(e, 2, 'e'), "processes");
		ksm_scan_full(2);
		CHECK(counters().pages_shared == 1 &&
		      counters().pages_sharing == 1, "A and B not merged");
		ka = sim_process_pfn(a, 0);
		pe = sim_process_pfn(e, 2);
		CHECK(!sim_exchange_pfns(side ? (unsigned long)pe :
					 (unsigned long)ka,
					 side ? (unsigned long)ka :
					 (unsigned long)pe),
		      "exchange, the KSM page %s", side ? "second" : "first");
		CHECK(sim_process_pfn(e, 2) == ka && sim_process_pfn(a, 0) == pe &&
		      sim_process_pfn(b, 0) == pe, "not exchanged");
		CHECK(!sim_reclaim_process_page(e, 2), "reclaim of E's page 2, "
		      "the KSM page's old frame, kept it");
		CHECK(sim_process_pfn(e, 2) < 0, "E's page 2 still mapped");
		CHECK(!sim_process_verify(e, true) && !sim_process_verify(a, true)
		      && !sim_process_verify(b, true), "bytes");
		ksm_scan_full(1);
		CHECK(counters().pages_shared == 1 &&
		      counters().pages_sharing == 1, "A and B no longer share");
		snprintf(name, sizeof(name), "%s(the KSM page %s)", __func__,
			 side ? "second" : "first");
		ksm_set_exchange_order(XCHG_KSM_RFC);	/* the default again */
		finish(name);
	}
}

/*
 * writeout() (a dirty page of a file without migratepage, in a
 * synchronous exchange) puts the page's ptes back before it unlocks the
 * page for the I/O: `remove_migration_ptes(page, page)`.  A migration
 * entry stands only while its page is locked (migration_entry_wait()
 * sleeps on the lock and retries): left in place over the unlocked I/O, a
 * process touching the page would fault again and again until the
 * exchange relocked it.  The exchange of A's page with M's dirty file
 * page is preempted as writeout() is about to take the page lock again,
 * the I/O done, and M's pagemap is read: the page is mapped, in its own
 * frame.  Then the exchange gives up (-EAGAIN: try again), the page
 * clean, its bytes on disk.
 */
static void test_writeout_puts_ptes_back(void)
{
	static char out[1 << 16];
	static const char *const at_relock =
		"(preempted before taking lock_page: pagemap runs)";
	struct job x = { .fn = job_exchange };
	struct job p = { .fn = job_pagemap, .vpn = 0 };
	struct sim_actor_spec actors[2] = {
		{ "exchange", run_job, &x }, { "pagemap", run_job, &p },
	};
	struct address_space *f = NULL;
	struct mm_struct *a = NULL;
	long pf = -1;
	unsigned int at;
	bool found = false;
	int err = 0;

	for (at = 1; at < PREEMPT_MAX && !found; at++) {
		start(ERA_EXCHANGE);
		f = sim_file_create("F", 1, 'f', false);
		p.mm = f ? sim_process_map_file("M", f) : NULL;
		a = private_process("A", 1, 'a');
		CHECK(f && p.mm && a && !sim_process_write(p.mm, 0, 0, "d", 1),
		      "setup");
		pf = sim_file_pfn(f, 0);
		x.pfn = sim_process_pfn(a, 0);
		x.node = (int)pf;
		err = run_preempted(actors, 2, &at, 1, out, sizeof(out));
		found = !err && strstr(out, at_relock);
		if (!found)
			sim_exit();
		if (!found && preempt_decisions <= at)
			break;			/* the run ended before it */
	}
	CHECK(found, "no preemption fell at writeout()'s relock (%d: %s)",
	      err, sim_run_error());
	CHECK(p.pfn == pf, "M's page reads %ld in pagemap, not pfn %ld: its "
	      "pte is still a migration entry over the I/O:\n%s", p.pfn, pf,
	      out);
	CHECK(x.ret == -EAGAIN, "exchange %ld", x.ret);
	CHECK(sim_file_pfn(f, 0) == pf && sim_process_pfn(p.mm, 0) == pf &&
	      sim_process_pfn(a, 0) == x.pfn, "a page moved");
	CHECK(sim_file_writeback(f) == 0, "the page is still dirty");
	CHECK(!sim_file_verify(f, true) && !sim_process_verify(p.mm, true) &&
	      !sim_process_verify(a, true), "bytes");
	CHECK(!sim_process_exit(p.mm) && !sim_file_destroy(f), "file gone");
	finish(__func__);
}

/*
 * exchange_from_to_pages(), for a file whose pages may carry buffer heads
 * (a_ops->migratepage is buffer_migrate_page()), moves them only if the
 * page has some: `if (!PagePrivate(to_page)) goto exchange_mappings`, the
 * plain exchange (buffer_migrate_page() falls back to migrate_page() for
 * a page without buffers).  In the kernel such a page is common (read by
 * mpage_readpages(), or its buffers released); here one is left by an
 * exchange with R13.private's fix switched off: F's page is now A's old
 * frame, without buffer heads (the auditor says so, and that the
 * anonymous page has them and their reference).  With the fix on again,
 * E's page is exchanged with that page: the plain way, it goes through,
 * adds no violation to the first exchange's, and both read back their
 * bytes.  (Taking the buffer-head way, it would move the NULL
 * page->private, drop a buffer reference the page does not hold, and
 * write through a NULL buffer head.)  The machine is then put back as it
 * was before the fix-off exchange (a snapshot, which a sanitizer's build
 * cannot take: skipped there), and audited whole.
 */
static void test_exchange_page_without_buffers(void)
{
	struct audit_report r0, r1;
	struct address_space *f;
	struct mm_struct *a, *e;
	long pf, pa, pe;
	int k;

	start(ERA_EXCHANGE);
	f = sim_file_create("F", 1, 'f', true);
	a = private_process("A", 1, 'a');
	e = private_process("E", 1, 'e');
	CHECK(f && a && e && !sim_file_cache_page(f, 0, 0), "setup");
	pf = sim_file_pfn(f, 0);
	pa = sim_process_pfn(a, 0);
	pe = sim_process_pfn(e, 0);
	if (sim_snapshot_take()) {	/* a sanitizer's build: no snapshots */
		sim_exit();
		printf("skip %s: no snapshots in this build (a sanitizer's)\n",
		       __func__);
		return;
	}
	ksm_fix_set(FIX_XCHG_MOVE_PRIVATE, false);
	CHECK(!sim_exchange_pfns((unsigned long)pa, (unsigned long)pf),
	      "exchange with the fix off");
	ksm_fix_set(FIX_XCHG_MOVE_PRIVATE, true);
	CHECK(sim_file_pfn(f, 0) == pa, "not exchanged");
	audit_machine(&r0, false);
	CHECK(r0.count[AUDIT_FILE] > 0, "F's page has buffer heads");
	CHECK(!sim_exchange_pfns((unsigned long)pe, (unsigned long)pa),
	      "exchange of a page without buffer heads");
	CHECK(sim_file_pfn(f, 0) == pe && sim_process_pfn(e, 0) == pa,
	      "not exchanged");
	audit_machine(&r1, false);
	for (k = 0; k < NR_AUDIT_KINDS; k++)
		CHECK(r1.count[k] == r0.count[k], "%s: %lu violations after "
		      "the second exchange, %lu before", audit_kind_name(k),
		      r1.count[k], r0.count[k]);
	CHECK(!sim_file_verify(f, true) && !sim_process_verify(a, true) &&
	      !sim_process_verify(e, true), "bytes");
	/* Back to before the fix-off exchange: its stranded buffer heads
	 * go with it. */
	sim_snapshot_restore();
	sim_snapshot_drop();
	CHECK(sim_file_pfn(f, 0) == pf, "not restored");
	finish(__func__);
}

static int job_ksmd_batch(struct job *j)
{
	(void)j;
	ksm_scan_pages(2);
	return 0;
}

/*
 * unmap_and_exchange() exchanges only pages that try_to_unmap() left
 * unmapped: `if (!page_mapped(from_page) && !page_mapped(to_page))`.
 * try_to_unmap() can fail: a KSM page without its stable node yet, which
 * ksmd's merge of two unstable pages makes (try_to_merge_two_pages(), the
 * first page made PageKsm under its lock, then unlocked while the second
 * is merged into it, then stable_tree_insert()), has no reverse map to
 * walk (rmap_walk_ksm()).  With the refusal of KSM pages switched off (R14,
 * the RFC's order), Q's page, ksmd's merge preempted at each of its points
 * in turn, is exchanged with M's dirty page of a file without
 * migratepage.  Where the exchange meets Q's page made KSM but not yet
 * in the tree, still mapped (no "unmapped" line for it), it must give up
 * at once (-EAGAIN) and leave the file's page alone: dirty still, for the
 * flusher to write (sim_file_writeback() writes it).  Going on, it would
 * write the page out (writeout(), before it looks at the counts) for an
 * exchange that cannot be.  Elsewhere it writes the page out and gives
 * up all the same (-EAGAIN).  Every run ends with every byte right and
 * the auditor content.
 */
static void test_exchange_meets_merge(void)
{
	static char out[1 << 16];
	struct job k = { .fn = job_ksmd_batch };
	struct job x = { .fn = job_exchange };
	struct sim_actor_spec actors[2] = {
		{ "ksmd", run_job, &k }, { "exchange", run_job, &x },
	};
	struct address_space *f;
	struct mm_struct *m, *p, *q;
	unsigned int at, runs = 0, met = 0;
	char locked[64], unmapped[64], name[64];
	long wb;
	int err;

	for (at = 1; at < PREEMPT_MAX; at++) {
		start(ERA_EXCHANGE);
		ksm_fix_set(FIX_XCHG_REFUSE_KSM, false);
		ksm_set_exchange_order(XCHG_KSM_RFC);	/* not reset by sim_init() */
		f = sim_file_create("F", 1, 'f', false);
		m = f ? sim_process_map_file("M", f) : NULL;
		p = process("P", 1, 'Y');
		q = process("Q", 1, 'Y');
		CHECK(f && m && p && q && !sim_process_write(m, 0, 0, "d", 1),
		      "setup");
		ksm_scan_full(1);	/* checksums: the next visits merge */
		x.pfn = sim_process_pfn(q, 0);
		x.node = (int)sim_file_pfn(f, 0);
		err = run_preempted(actors, 2, &at, 1, out, sizeof(out));
		if (err && preempt_misfit) {	/* no choice at decision at */
			sim_exit();
			continue;
		}
		if (preempt_decisions <= at) {	/* the run ended before it */
			sim_exit();
			break;
		}
		CHECK(!err, "preempted at %u: %s\n%s", at, sim_run_error(), out);
		CHECK(x.ret == -EAGAIN, "preempted at %u: exchange %ld\n%s", at,
		      x.ret, out);
		snprintf(locked, sizeof(locked), "exchange: locked pfn %ld",
			 x.pfn);
		snprintf(unmapped, sizeof(unmapped), "Q page 0: pfn %ld unmapped",
			 x.pfn);
		wb = sim_file_writeback(f);
		if (strstr(out, locked) && !strstr(out, unmapped)) {
			met++;
			CHECK(wb == 1, "preempted at %u: the exchange gave up on "
			      "Q's page, still mapped, but wrote out F's page "
			      "first:\n%s", at, out);
		}
		CHECK(!sim_file_verify(f, true) && !sim_process_verify(m, true) &&
		      !sim_process_verify(p, true) && !sim_process_verify(q, true),
		      "bytes, preempted at %u:\n%s", at, out);
		CHECK(!sim_process_exit(m) && !sim_file_destroy(f), "file gone");
		snprintf(name, sizeof(name), "%s(%u)", __func__, at);
		finish(name);
		runs++;
	}
	CHECK(runs > 8 && met > 0, "%u runs; the exchange met Q's page mapped "
	      "in %u", runs, met);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--help")) {
		printf("usage: %s\n\nRuns the tests of what single lines of the "
		       "exchange of two pages do;\nprints \"ok NAME\" or "
		       "\"FAIL NAME: why\" for each, and exits with the\n"
		       "number of failures.\n", argv[0]);
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "%s: takes no arguments\nusage: %s [--help]\n",
			argv[0], argv[0]);
		return 2;
	}
	test_refusal_keeps_lru_order();
	test_failed_exchange_orphan();
	test_advance_index();
	test_writeout_puts_ptes_back();
	test_exchange_page_without_buffers();
	test_exchange_meets_merge();
	return check_status();
}

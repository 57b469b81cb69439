// SPDX-License-Identifier: GPL-2.0
/*
 * lines.c - what single lines of the KSM core and of the machine paths it
 * stands on do, pinned down one by one: the lines that make mutants-all's
 * mutants (walkthrough.md, chapter 9) found doing something that no other
 * test looked at.  Each test says, in its comment, which lines it holds
 * and what would tell a change to them apart: an error a call returns, a
 * count the kernel would show, a page kept or reclaimed, the bytes a
 * process or a file reads back.  Where a line runs only when two actors
 * meet at one point, a script of race windows puts them there, or, where
 * no window stands (a lock point), a run preempted at the decision whose
 * timeline says it fell there.
 *
 * Each test prints "ok NAME" or "FAIL NAME: why"; the auditor runs after
 * each; the exit status is the number of failures (at most 100), 2 for bad
 * arguments.
 */
#define _POSIX_C_SOURCE 200809L		/* fmemopen(), dup2(), fileno() */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../ksm_ref.h"
#include "check.h"
#include "jobs.h"

/*
 * A first touch that cannot get its anon_vma, or its page, fails the
 * access with -ENOMEM (do_anonymous_page()'s two returns), leaves the pte
 * empty, and a later access succeeds: nothing was half done.
 */
static void test_first_touch_enomem(void)
{
	enum sim_fail_site sites[] = { FAIL_ANON_VMA, FAIL_PAGE };
	unsigned int i;

	for (i = 0; i < 2; i++) {
		struct mm_struct *a;
		char b = 'x';

		start(ERA_KEYHOLE);
		a = sim_process_create("A", 2);
		CHECK(a, "create");
		CHECK(!sim_fail_nth(sites[i], 1), "inject");
		CHECK(sim_process_write(a, 0, 0, &b, 1) == -ENOMEM,
		      "%s failed, but the write did not say -ENOMEM",
		      sim_fail_site_name(sites[i]));
		CHECK(sim_process_pfn(a, 0) < 0, "a pte after a failed fault");
		CHECK(sim_process_write(a, 0, 0, &b, 1) == 0, "the retry");
		CHECK(!sim_process_verify(a, true), "bytes");
		finish(i ? "test_first_touch_enomem(page)" :
		       "test_first_touch_enomem(anon_vma)");
	}
}

/*
 * A process has one anon_vma, made at its first anonymous fault: later
 * faults use it and allocate none (anon_vma_prepare() returns at once),
 * so that an anon_vma allocation failing then cannot fail them.
 */
static void test_one_anon_vma(void)
{
	struct mm_struct *a;

	start(ERA_KEYHOLE);
	a = sim_process_create("A", 2);
	CHECK(a && !sim_process_fill(a, 0, 'a'), "the first fault");
	CHECK(!sim_fail_nth(FAIL_ANON_VMA, 1), "inject");
	CHECK(!sim_process_fill(a, 1, 'b'), "the second fault needed an "
	      "anon_vma of its own");
	CHECK(sim_fail_injected() == 0, "an anon_vma was allocated");
	sim_fail_nth(FAIL_ANON_VMA, 0);
	CHECK(!sim_process_verify(a, true), "bytes");
	finish(__func__);
}

/*
 * A write to a page shared after fork that cannot get its copy fails
 * with -ENOMEM (do_wp_page()'s return): parent and child still share
 * the page, and neither sees the write.
 */
static void test_cow_enomem(void)
{
	struct mm_struct *p, *c;
	long pfn;
	char b = 'y';

	start(ERA_KEYHOLE);
	p = sim_process_create("P", 1);
	CHECK(p && !sim_process_fill(p, 0, 'a'), "P");
	c = sim_process_fork(p, "C");
	CHECK(c, "fork");
	pfn = sim_process_pfn(p, 0);
	CHECK(!sim_fail_nth(FAIL_PAGE, 1), "inject");
	CHECK(sim_process_write(p, 0, 0, &b, 1) == -ENOMEM,
	      "the copy failed, but the write did not say -ENOMEM");
	CHECK(sim_process_pfn(p, 0) == pfn && sim_process_pfn(c, 0) == pfn,
	      "no longer shared after a failed copy");
	CHECK(sim_page_count(pfn) == 2, "count %ld", sim_page_count(pfn));
	CHECK(!sim_process_verify(p, true) && !sim_process_verify(c, true),
	      "bytes");
	finish(__func__);
}

/*
 * The machine's counts of what it did, which the soak reports: a merge,
 * an unmerge by a write to a KSM page (do_wp_page() counts it only for a
 * KSM page, not for a copy after fork), a migration, a swap-out.
 */
static void test_activity(void)
{
	struct mm_struct *a, *b, *c, *d;
	struct sim_activity before;
	long pfn;

	start(ERA_MIGRATION);
	a = process("A", 1, 'k');
	b = process("B", 1, 'k');
	CHECK(a && b, "processes");
	ksm_scan_full(2);
	/* One pte pointed at a KSM page: the other page became it in place. */
	CHECK(activity().merges == 1, "%lu merges, for two pages alike",
	      activity().merges);
	before = activity();
	CHECK(!sim_process_fill(a, 0, 'w'), "A writes");
	CHECK(activity().unmerges == before.unmerges + 1,
	      "a write to a KSM page: %lu unmerges, was %lu",
	      activity().unmerges, before.unmerges);
	c = sim_process_fork(b, "C");
	d = sim_process_fork(a, "D");
	CHECK(c && d, "fork");
	before = activity();
	CHECK(!sim_process_fill(d, 0, 'd'), "D copies A's page on write");
	CHECK(!sim_process_fill(c, 0, 'c'), "C writes the KSM page");
	CHECK(activity().unmerges == before.unmerges + 1,
	      "one unmerge expected (C's; D's copy is no unmerge), %lu",
	      activity().unmerges - before.unmerges);
	pfn = sim_process_pfn(a, 0);
	before = activity();
	/* No page to migrate to: -ENOMEM, the page where it was, not counted
	 * (unmap_and_move() gives up before it locks anything). */
	sim_fail_nth(FAIL_MIGRATE_TARGET, 1);
	CHECK(sim_migrate_pfn((unsigned long)pfn, 1, false) == -ENOMEM &&
	      sim_process_pfn(a, 0) == pfn && activity().migrations ==
	      before.migrations, "a migration with no target page");
	CHECK(!sim_migrate_pfn((unsigned long)pfn, 1, false), "migrate");
	CHECK(activity().migrations == before.migrations + 1, "migrations");
	CHECK(!sim_reclaim_process_page(a, 0), "reclaim");
	CHECK(activity().swap_outs == before.swap_outs + 1, "swap-outs");
	CHECK(!sim_offline_section(3) && activity().offlines ==
	      before.offlines + 1, "%lu offlines", activity().offlines);
	CHECK(!sim_process_verify(a, true) && !sim_process_verify(b, true) &&
	      !sim_process_verify(c, true) && !sim_process_verify(d, true),
	      "bytes");
	finish(__func__);
}

/*
 * A page copied on write is swap-backed, as every anonymous page, so that
 * reclaim may swap it out (do_wp_page()'s SetPageSwapBacked(new); reclaim
 * keeps a page that is not).
 */
static void test_cow_page_swappable(void)
{
	struct mm_struct *p, *c;

	start(ERA_KEYHOLE);
	p = sim_process_create("P", 1);
	CHECK(p && !sim_process_fill(p, 0, 'a'), "P");
	c = sim_process_fork(p, "C");
	CHECK(c && !sim_process_fill(c, 0, 'b'), "C copies on write");
	CHECK(sim_reclaim_process_page(c, 0) == 0,
	      "the copy could not be swapped out");
	CHECK(!sim_process_verify(c, true) && !sim_process_verify(p, true),
	      "bytes");
	finish(__func__);
}

/*
 * The public calls check what they are given, to the byte: a range may
 * end at the end of the page and no further (sim_check_range()), a node
 * is one of the machine's, a process is one that lives.
 */
static void test_api_bounds(void)
{
	static char buf[4096];
	struct mm_struct *a, *gone, *u;
	const unsigned long ps = 4096;

	CHECK(sim_offline_section(0) == -EINVAL &&
	      sim_compact_section(0) == -EINVAL, "a section, with no machine");
	start(ERA_KEYHOLE);
	a = sim_process_create("A", 2);
	gone = sim_process_create("G", 1);
	CHECK(a && gone && !sim_process_exit(gone), "processes");
	CHECK(sim_process_write(a, 0, ps, buf, 0) == 0,
	      "an empty write at the page's end");
	CHECK(sim_process_write(a, 0, ps + 1, buf, 0) == -EINVAL,
	      "a write past the page's end");
	CHECK(sim_process_write(a, 0, ps - 1, buf, 1) == 0,
	      "the page's last byte");
	CHECK(sim_process_write(a, 0, ps - 1, buf, 2) == -EINVAL,
	      "a byte past the page's end");
	CHECK(sim_process_read(a, 1, 0, buf, ps) == 0, "a whole page");
	CHECK(sim_process_read(a, 2, 0, buf, 1) == -EINVAL, "past the mapping");
	CHECK(sim_process_set_node(a, 0) == 0 && sim_process_set_node(a, 1) == 0,
	      "nodes 0 and 1");
	CHECK(sim_process_set_node(a, 2) == -EINVAL &&
	      sim_process_set_node(a, -1) == -EINVAL, "nodes -1 and 2");
	CHECK(sim_process_verify(gone, false) == -EINVAL &&
	      sim_process_verify(NULL, false) == -EINVAL,
	      "verify of a process that has exited, or of none");
	CHECK(sim_process_madvise(gone, true) == -EINVAL &&
	      sim_process_madvise(NULL, false) == -EINVAL,
	      "madvise of a process that has exited, or of none");
	CHECK(sim_reclaim_process_page(a, 2) == -EINVAL &&
	      sim_reclaim_process_page(NULL, 0) == -EINVAL,
	      "reclaim of a page past the mapping, or of no process");
	CHECK(sim_reclaim_process_page(gone, 0) == -EINVAL, "reclaim of a "
	      "page of a process that has exited");
	u = sim_process_create("U", 1);
	CHECK(u && sim_reclaim_process_page(u, 0) == -ENOENT, "reclaim of a "
	      "page never touched");
	CHECK(sim_offline_section(4) == -EINVAL &&
	      sim_online_section(4) == -EINVAL &&
	      sim_compact_section(4) == -EINVAL, "section 4 of 0..3");
	CHECK(sim_compact_section(3) >= 0, "section 3 of 0..3");
	CHECK(!sim_process_verify(a, true), "bytes");
	finish(__func__);
}

/*
 * On a machine of one node, migrate-on-fault has no other node to move a
 * process to: its faults move nothing (process_access() asks for two).
 */
static void test_migrate_on_fault_one_node(void)
{
	struct sim_config cfg = { .nr_sections = 2, .nr_nodes = 1,
				  .era = ERA_MIGRATION };
	struct mm_struct *a;
	unsigned long i;

	CHECK(!sim_init(&cfg), "sim_init");
	sim_set_quiet(true);
	sim_set_migrate_on_fault(1);
	a = sim_process_create("A", 4);
	for (i = 0; a && i < 4; i++)
		sim_process_fill(a, i, 'a' + (int)i);
	sim_set_migrate_on_fault(0);
	CHECK(a && activity().migrations == 0, "%lu pages migrated on a "
	      "machine of one node", activity().migrations);
	CHECK(!sim_process_verify(a, true), "bytes");
	finish(__func__);
}

/*
 * The timeline prints a byte as itself from ' ' to '~', and any other as
 * '.' (printable()): a space and a tilde as they are, DEL not.
 */
static void test_printable(void)
{
	static const int bytes[] = { ' ', '~', 0x7f, 0x1f };
	static const char *const want[] = { "' '", "'~'", "'.'", "'.'" };
	struct mm_struct *a;
	char out[4096];
	unsigned int i;
	FILE *f;

	for (i = 0; i < 4; i++) {
		start(ERA_KEYHOLE);
		a = sim_process_create("A", 1);
		CHECK(a && !sim_process_fill(a, 0, 'z'), "A");
		sim_trace_enable(true);
		CHECK(!sim_process_fill(a, 0, bytes[i]), "the write");
		f = fmemopen(out, sizeof(out), "w");
		CHECK(f, "fmemopen");
		sim_timeline_print(f);
		fclose(f);
		sim_trace_enable(false);
		CHECK(strstr(out, want[i]), "byte 0x%02x: no %s in the "
		      "timeline:\n%s", bytes[i], want[i], out);
		sim_exit();
	}
	printf("ok %s\n", __func__);
}

/*
 * A process may map up to 1 << 24 pages and no more (sim_process_create()'s
 * limit): the largest is made, one page more is refused.  Nothing is
 * touched, so the tables are all that is allocated.
 */
static void test_process_size_limit(void)
{
	struct mm_struct *big;

	start(ERA_KEYHOLE);
	CHECK(!sim_process_create("TooBig", (1UL << 24) + 1),
	      "a process of 2^24 + 1 pages");
	big = sim_process_create("Big", 1UL << 24);
	CHECK(big, "a process of 2^24 pages refused");
	CHECK(!sim_process_exit(big), "exit");
	finish(__func__);
}

/*
 * sim_process_verify() counts every byte it checks (the soak's
 * bytes_verified): two pages of a process, two pages' bytes.
 */
static void test_verify_counts_bytes(void)
{
	struct mm_struct *a;
	unsigned long before;

	start(ERA_KEYHOLE);
	a = process("A", 2, 'a');
	CHECK(a, "A");
	before = activity().bytes_verified;
	CHECK(!sim_process_verify(a, false), "bytes");
	CHECK(activity().bytes_verified == before + 2 * 4096,
	      "%lu bytes verified for two pages",
	      activity().bytes_verified - before);
	finish(__func__);
}

/*
 * MADV_MERGEABLE that cannot register the process (no mm_slot) fails with
 * -ENOMEM and leaves the area as it was, not mergeable: asked again, it
 * registers the process, and ksmd merges its page.  MADV_UNMERGEABLE that
 * cannot break a merge (no page for the copy) fails with -ENOMEM and
 * leaves the area mergeable: asked again, it breaks the merge (ksm_madvise()
 * changes vm_flags only on success).
 */
static void test_madvise_enomem(void)
{
	struct mm_struct *a, *b;
	struct ksm_counters kc;
	long kpfn;

	start(ERA_KEYHOLE);
	b = process("B", 1, 'k');
	a = sim_process_create("A", 1);
	CHECK(a && b && !sim_process_fill(a, 0, 'k'), "processes");
	CHECK(!sim_fail_nth(FAIL_MM_SLOT, 1), "inject");
	CHECK(sim_process_madvise(a, true) == -ENOMEM,
	      "MADV_MERGEABLE without an mm_slot");
	sim_fail_nth(FAIL_MM_SLOT, 0);
	CHECK(sim_process_madvise(a, true) == 0, "MADV_MERGEABLE again");
	ksm_scan_full(2);
	kpfn = sim_process_pfn(b, 0);
	CHECK(activity().merges == 1 && sim_process_pfn(a, 0) == kpfn,
	      "%lu merges: the second MADV_MERGEABLE did not register A",
	      activity().merges);
	CHECK(!sim_fail_nth(FAIL_PAGE, 1), "inject");
	CHECK(sim_process_madvise(a, false) == -ENOMEM,
	      "MADV_UNMERGEABLE without a page for the copy");
	sim_fail_nth(FAIL_PAGE, 0);
	CHECK(sim_process_pfn(a, 0) == kpfn, "the merge broken after all");
	CHECK(sim_process_madvise(a, false) == 0, "MADV_UNMERGEABLE again");
	CHECK(sim_process_pfn(a, 0) != kpfn, "the second MADV_UNMERGEABLE "
	      "left A on the KSM page");
	/*
	 * Still registered (MADV_UNMERGEABLE keeps the mm_slot):
	 * MADV_MERGEABLE again registers it no second time, and ksmd,
	 * scanning it once a pass, merges its page once more: one KSM page,
	 * one further site sharing it.
	 */
	CHECK(sim_process_madvise(a, true) == 0, "MADV_MERGEABLE a third time");
	ksm_scan_full(2);
	ksm_get_counters(&kc);
	CHECK(sim_process_pfn(a, 0) == kpfn && kc.pages_shared == 1 &&
	      kc.pages_sharing == 1, "merged again: pages_shared %lu, "
	      "pages_sharing %lu (1 and 1)", kc.pages_shared,
	      kc.pages_sharing);
	CHECK(!sim_process_verify(a, true) && !sim_process_verify(b, true),
	      "bytes");
	finish(__func__);
}

/*
 * A write to a page its process alone maps, but read-only since a fork
 * whose child has exited, reuses the page (do_wp_page()'s
 * reuse_swap_page()) and unlocks it: reclaim can then lock it and swap
 * it out.
 */
static void test_cow_reuse_unlocks(void)
{
	struct mm_struct *p, *c;
	long pfn;

	start(ERA_KEYHOLE);
	p = sim_process_create("P", 1);
	CHECK(p && !sim_process_fill(p, 0, 'a'), "P");
	pfn = sim_process_pfn(p, 0);
	c = sim_process_fork(p, "C");
	CHECK(c && !sim_process_exit(c), "C forked and exited");
	CHECK(!sim_process_fill(p, 0, 'b') && sim_process_pfn(p, 0) == pfn,
	      "the page was not reused");
	CHECK(sim_reclaim_process_page(p, 0) == 0,
	      "the reused page could not be swapped out");
	CHECK(!sim_process_verify(p, true), "bytes");
	finish(__func__);
}

/*
 * A child's faults allocate on its parent's node (fork copies the memory
 * policy): the copy on write of the child of a process on node 1 is on
 * node 1 (sections 2 and 3 of start()'s machine).
 */
static void test_fork_keeps_node(void)
{
	struct mm_struct *p, *c;
	struct sim_mem_stats st0, st1;

	start(ERA_KEYHOLE);
	p = sim_process_create("P", 1);
	CHECK(p && !sim_process_set_node(p, 1) && !sim_process_fill(p, 0, 'a'),
	      "P");
	c = sim_process_fork(p, "C");
	CHECK(c && !sim_process_fill(c, 0, 'c'), "C copies on write");
	sim_mem_stats(0, &st0);
	sim_mem_stats(1, &st1);
	CHECK(st0.nr_used + st1.nr_used == 0, "%lu frames on node 0",
	      st0.nr_used + st1.nr_used);
	finish(__func__);
}

/*
 * A process that maps a file leaves the file's reverse map when it exits
 * (unlink_file_vma()): a migration of the file's page then walks the
 * mappers that live, and puts back their ptes alone; the page it moves
 * to is a file's page, as the old one was.  The file can be destroyed
 * once its last mapper has gone.
 */
static void test_file_mapper_exit(void)
{
	struct address_space *f;
	struct mm_struct *x, *y;
	long pfn;
	char b;

	start(ERA_MIGRATION);
	f = sim_file_create("F", 1, 'F', false);
	x = f ? sim_process_map_file("X", f) : NULL;
	y = f ? sim_process_map_file("Y", f) : NULL;
	CHECK(x && y && !sim_process_read(x, 0, 0, &b, 1) &&
	      !sim_process_read(y, 0, 0, &b, 1), "F, X and Y");
	CHECK(!sim_process_exit(x), "X exits");
	pfn = sim_file_pfn(f, 0);
	CHECK(pfn >= 0 && !sim_migrate_pfn((unsigned long)pfn, 1, false),
	      "migration of F's page");
	CHECK(sim_process_pfn(y, 0) == sim_file_pfn(f, 0) &&
	      sim_process_pfn(y, 0) != pfn, "Y does not map F's page, moved");
	CHECK(!sim_process_read(y, 0, 0, &b, 1) && b == 'F', "Y reads");
	/* The new page is a file's, not swap-backed (move_to_new_page()
	 * copies the flag only from an anonymous page): reclaim, which
	 * here takes only swap-backed pages, keeps it. */
	CHECK(sim_reclaim_pfn((unsigned long)sim_file_pfn(f, 0)) == -EBUSY,
	      "F's page, moved, was reclaimed as if anonymous");
	CHECK(!sim_process_exit(y) && !sim_file_destroy(f), "the file's end");
	finish(__func__);
}

/*
 * exchange_page_move_mapping() refuses a page someone else holds (a pin:
 * get_user_pages()), on either side of the exchange: its holder would go
 * on reading what is now the other process's page.  Two anonymous pages:
 * each count is checked apart, so the pin is tried on the first page
 * (from_page) as well as the second.  An anonymous page and a file's: the
 * file's count is checked under its tree_lock, and the lock is let go on
 * the way out, so that, unpinned, the same exchange then goes through,
 * the file page's count and flags right while the file stays (the
 * auditor, at the end).
 */
static void test_exchange_pinned_either_side(void)
{
	struct sim_mem_stats st;
	struct address_space *f;
	struct mm_struct *a, *c, *m;
	long pa, pc, pf;
	char b = 0;

	start(ERA_EXCHANGE);
	a = process("A", 1, 'a');
	c = process("C", 1, 'c');
	CHECK(a && c, "A and C");
	pa = sim_pin_page(a, 0);
	pc = sim_process_pfn(c, 0);
	CHECK(pa >= 0 && pc >= 0, "pin");
	CHECK(sim_exchange_pfns((unsigned long)pa, (unsigned long)pc) ==
	      -EAGAIN, "the first page, pinned, was exchanged");
	CHECK(sim_process_pfn(a, 0) == pa && sim_process_pfn(c, 0) == pc,
	      "a page moved");
	CHECK(!sim_unpin_page((unsigned long)pa), "unpin");

	f = sim_file_create("F", 1, 'f', false);
	m = f ? sim_process_map_file("M", f) : NULL;
	CHECK(m && !sim_process_read(m, 0, 0, &b, 1) && b == 'f', "F and M");
	pf = sim_pin_page(m, 0);
	CHECK(pf >= 0 && pf == sim_file_pfn(f, 0), "pin F's page");
	CHECK(sim_exchange_pfns((unsigned long)pa, (unsigned long)pf) ==
	      -EAGAIN, "the file's page, pinned, was exchanged");
	CHECK(sim_file_pfn(f, 0) == pf && sim_process_pfn(a, 0) == pa,
	      "a page moved");
	CHECK(!sim_unpin_page((unsigned long)pf), "unpin");
	CHECK(!sim_exchange_pfns((unsigned long)pa, (unsigned long)pf),
	      "the exchange, unpinned");
	CHECK(sim_file_pfn(f, 0) == pa && sim_process_pfn(a, 0) == pf,
	      "the pages were not exchanged");
	sim_mem_stats(-1, &st);
	CHECK(st.nr_exchanged == 1, "%lu exchanges counted, of one done and "
	      "two refused", st.nr_exchanged);
	CHECK(!sim_process_read(m, 0, 0, &b, 1) && b == 'f', "M reads %c", b);
	CHECK(!sim_process_verify(a, true) && !sim_process_verify(c, true) &&
	      !sim_process_verify(m, true) && !sim_file_verify(f, true),
	      "bytes");
	finish(__func__);
}

/*
 * A process that asks MADV_UNMERGEABLE keeps its mm_slot until ksmd's
 * next pass over it finds no mergeable area (scan_get_next_rmap_item(),
 * ksm_scan.address still 0): then ksmd forgets it as __ksm_exit() would
 * (the slot leaves the list and the hash and is freed, MMF_VM_MERGEABLE
 * is cleared, the slot's reference on the mm is dropped, and mmap_sem
 * let go).  With no mm left to scan, ksmd has nothing to run for, and
 * counts no more full scans (ksmd_should_run()).  MADV_MERGEABLE again
 * registers the mm anew (it finds the flag clear), and its pages merge
 * again.
 */
static void test_ksmd_forgets_unmergeable(void)
{
	struct ksm_counters c;
	struct mm_struct *a;
	unsigned long scans;

	start(ERA_MIGRATION);
	a = process("A", 4, 'u');
	CHECK(a, "A");
	ksm_scan_full(2);
	c = counters();
	CHECK(c.pages_shared == 1 && c.pages_sharing == 3, "merged: %lu "
	      "shared, %lu sharing", c.pages_shared, c.pages_sharing);
	CHECK(!ksm_set_run(0) && counters().pages_sharing == 3 &&
	      !ksm_set_run(1) && counters().pages_sharing == 3, "run=0 stops "
	      "ksmd, and keeps what it merged, and so does run=1: only run=2 "
	      "unmerges");
	CHECK(!sim_process_madvise(a, false), "MADV_UNMERGEABLE");
	ksm_scan_full(1);		/* the pass that forgets A */
	scans = counters().full_scans;
	ksm_scan_full(3);
	c = counters();
	CHECK(c.full_scans == scans && !c.pages_shared && !c.pages_sharing,
	      "ksmd went on scanning a machine with nothing mergeable: %lu "
	      "full scans, then %lu", scans, c.full_scans);
	CHECK(!sim_process_madvise(a, true), "MADV_MERGEABLE again");
	ksm_scan_full(2);
	c = counters();
	CHECK(c.pages_shared == 1 && c.pages_sharing == 3 &&
	      c.full_scans == scans + 2, "merged again: %lu shared, %lu "
	      "sharing, %lu full scans", c.pages_shared, c.pages_sharing,
	      c.full_scans);
	CHECK(!sim_process_verify(a, true), "bytes");
	finish(__func__);
}

/*
 * A process that exits while ksmd's cursor is in it cannot leave at once
 * (__ksm_exit(): its mm_slot is ksm_scan.mm_slot): its exit unmaps its
 * pages and leaves the mm_slot to ksmd.  ksmd's next visit finds the mm
 * exiting (ksm_test_exit()) and starts the mm again from address 0, so
 * that remove_trailing_rmap_items() takes every rmap_item, and the
 * mm_slot goes in the same pass: that full scan ends with nothing merged
 * and no mm left, and ksmd then has nothing to scan.
 */
static void test_ksmd_cleans_exited_cursor_mm(void)
{
	struct ksm_counters c;
	struct mm_struct *a;
	unsigned long scans;

	start(ERA_MIGRATION);
	a = process("A", 4, 'x');
	CHECK(a, "A");
	ksm_scan_full(2);
	c = counters();
	CHECK(c.pages_shared == 1 && c.pages_sharing == 3, "merged: %lu "
	      "shared, %lu sharing", c.pages_shared, c.pages_sharing);
	ksm_scan_pages(2);		/* the cursor is in A, at its 3rd page */
	CHECK(!sim_process_exit(a), "A exits");
	ksm_scan_full(1);
	c = counters();
	CHECK(!c.pages_shared && !c.pages_sharing && !c.stable_nodes,
	      "a full scan after A's exit: %lu shared, %lu sharing, %lu "
	      "stable nodes", c.pages_shared, c.pages_sharing,
	      c.stable_nodes);
	scans = c.full_scans;
	ksm_scan_full(1);
	CHECK(counters().full_scans == scans, "ksmd scanned on, with A gone");
	finish(__func__);
}

/*
 * run=2 (unmerge_and_remove_all_rmap_items()) unmerges every mm and drops
 * every rmap_item, and the full scans count from 0 again.  The mm_slot of
 * an mm that has exited, left for ksmd because the cursor was in it, goes
 * too: with no mm left, ksmd then has nothing to scan.  A live mm keeps
 * its mm_slot: B's pages merge again once ksmd runs again.  And each
 * mm's mmap_sem is let go on the way: B can be made unmergeable and
 * mergeable again.
 */
static void test_run_unmerge_forgets_exited(void)
{
	struct ksm_counters c;
	struct mm_struct *a, *b;

	start(ERA_MIGRATION);
	a = process("A", 4, 'm');
	CHECK(a, "A");
	ksm_scan_full(2);
	ksm_scan_pages(2);		/* the cursor is in A */
	CHECK(!sim_process_exit(a), "A exits");
	CHECK(!ksm_set_run(2), "run=2");
	c = counters();
	CHECK(!c.pages_shared && !c.pages_sharing && !c.stable_nodes &&
	      !c.full_scans, "after run=2: %lu shared, %lu sharing, %lu "
	      "nodes, %lu full scans", c.pages_shared, c.pages_sharing,
	      c.stable_nodes, c.full_scans);
	CHECK(!ksm_set_run(1), "run=1");
	ksm_scan_full(1);
	CHECK(!counters().full_scans, "ksmd scanned, with A's mm_slot gone");

	b = process("B", 2, 'm');
	CHECK(b, "B");
	ksm_scan_full(2);
	CHECK(!ksm_set_run(2), "run=2, B merged");
	c = counters();
	CHECK(!c.pages_shared && !c.pages_sharing && !c.full_scans &&
	      sim_process_pfn(b, 0) != sim_process_pfn(b, 1), "after run=2: "
	      "%lu shared, %lu sharing, %lu full scans, B's pages in frames "
	      "%ld and %ld", c.pages_shared, c.pages_sharing, c.full_scans,
	      sim_process_pfn(b, 0), sim_process_pfn(b, 1));
	CHECK(!ksm_set_run(1), "run=1");
	ksm_scan_full(2);
	c = counters();
	CHECK(c.pages_shared == 1 && c.pages_sharing == 1 &&
	      c.full_scans == 2, "B, still registered, merged again: %lu "
	      "shared, %lu sharing, %lu full scans", c.pages_shared,
	      c.pages_sharing, c.full_scans);
	CHECK(!sim_process_madvise(b, false) && !sim_process_madvise(b, true),
	      "B unmergeable, then mergeable");
	CHECK(!sim_process_verify(b, true), "bytes");
	finish(__func__);
}

/*
 * A page swapped out while a pin held it stays in the swap cache after
 * reclaim lets go of it.  Its process exits: the swap pte's slot is freed
 * (free_swap_and_cache()), and with it the swap cache page, which nothing
 * maps: once the pin goes, the frame is free and the slot too, with no
 * reclaim needed to find them.
 */
static void test_exit_frees_swap_cache(void)
{
	struct sim_mem_stats st;
	struct mm_struct *a;
	long pfn;
	int rc;

	start(ERA_MIGRATION);
	a = process("A", 1, 'p');
	CHECK(a, "A");
	pfn = sim_pin_page(a, 0);
	CHECK(pfn >= 0, "pin");
	rc = sim_reclaim_process_page(a, 0);
	sim_mem_stats(-1, &st);
	CHECK(sim_process_pfn(a, 0) < 0 && st.swap_used == 1, "reclaim %d: "
	      "A's page in frame %ld, %lu swap slots used", rc,
	      sim_process_pfn(a, 0), st.swap_used);
	CHECK(!sim_process_exit(a), "A exits");
	CHECK(!sim_unpin_page((unsigned long)pfn), "unpin");
	sim_mem_stats(-1, &st);
	CHECK(!st.nr_used && !st.swap_used, "%lu frames and %lu swap slots "
	      "still used", st.nr_used, st.swap_used);
	finish(__func__);
}

/*
 * Compaction of a section (sim_compact_section()) moves every page in use
 * out of it, to frames of the same node elsewhere (the section is
 * isolated meanwhile, so no target comes from it), and returns what is
 * left in use there: nothing, then one page a pin holds.  A page at the
 * next section's first frame stays where it is; a section can be
 * compacted again at once (its isolation ends with the call); an offline
 * section cannot be.
 */
static void test_compact_section(void)
{
	struct sim_mem_stats st;
	struct mm_struct *a;
	long pfn, first, next, per;
	unsigned long vpn;

	start(ERA_MIGRATION);
	sim_mem_stats(0, &st);
	per = (long)(st.nr_free + st.nr_used);	/* frames of a section */
	a = process("A", 4, 'c');
	CHECK(a, "A");
	for (vpn = 0; vpn < 4; vpn++)
		sim_process_fill(a, vpn, 'c' + (int)vpn);
	first = sim_process_pfn(a, 0);
	CHECK(first >= 0 && first < per, "A's first page in frame %ld", first);
	CHECK(sim_compact_section(0) == 0, "section 0 still has pages in use");
	sim_mem_stats(0, &st);
	CHECK(!st.nr_used, "%lu frames of section 0 in use", st.nr_used);
	for (vpn = 0; vpn < 4; vpn++) {
		pfn = sim_process_pfn(a, vpn);
		CHECK(pfn >= per && sim_page_node(a, vpn) == 0, "A's page %lu "
		      "in frame %ld, node %d", vpn, pfn, sim_page_node(a, vpn));
	}
	/* Again: nothing to move, and nothing beyond the section moves
	 * (A's first page is now at section 1's first frame). */
	next = sim_process_pfn(a, 0);
	CHECK(sim_compact_section(0) == 0 && sim_process_pfn(a, 0) == next,
	      "compaction of section 0 moved A's page at frame %ld", next);
	pfn = sim_process_pfn(a, 0);
	CHECK(sim_compact_section(1) == 0 && sim_process_pfn(a, 0) != pfn,
	      "section 1, compacted next, kept A's page at %ld", pfn);
	CHECK(sim_pin_page(a, 0) >= 0, "pin");
	pfn = sim_process_pfn(a, 0);
	CHECK(sim_compact_section((unsigned long)(pfn / per)) == 1 &&
	      sim_process_pfn(a, 0) == pfn, "a pinned page moved, or was "
	      "not counted");
	CHECK(!sim_unpin_page((unsigned long)pfn), "unpin");
	CHECK(!sim_offline_section(3) && sim_compact_section(3) == -EINVAL,
	      "an offline section compacted");
	CHECK(!sim_process_verify(a, true), "bytes");
	finish(__func__);
}

/*
 * A dirty page of a file, migrated (migrate_page_copy()): the new page is
 * uptodate, so read(2) copies its bytes without reading the file in
 * again, and dirty, so writeback writes it, once; the old page goes back
 * to the allocator clean, with no buffer heads and no swap cache state;
 * the node counters follow the page (NR_FILE_PAGES and NR_FILE_DIRTY).
 */
static void test_migrate_dirty_file_page(void)
{
	unsigned long pages[2], dirty[2];
	struct address_space *f;
	struct mm_struct *m;
	char b[4096];
	long pfn;

	start(ERA_MIGRATION);
	f = sim_file_create("F", 1, 'f', true);
	m = f ? sim_process_map_file("M", f) : NULL;
	CHECK(m && !sim_process_write(m, 0, 0, "dirty", 5), "F, M writes");
	pfn = sim_file_pfn(f, 0);
	CHECK(pfn >= 0 && sim_page_node(m, 0) == 0, "F's page on node 0");
	CHECK(!sim_migrate_pfn((unsigned long)pfn, 1, false) &&
	      sim_file_pfn(f, 0) != pfn && sim_page_node(m, 0) == 1,
	      "migration of F's page to node 1");
	CHECK(!sim_file_read(f, 0, b) && !memcmp(b, "dirty", 5), "read(2) "
	      "of F: '%.5s'", b);
	sim_node_file_stats(0, &pages[0], &dirty[0]);
	sim_node_file_stats(1, &pages[1], &dirty[1]);
	CHECK(!pages[0] && !dirty[0] && pages[1] == 1 && dirty[1] == 1,
	      "node 0: %lu pages, %lu dirty; node 1: %lu, %lu", pages[0],
	      dirty[0], pages[1], dirty[1]);
	CHECK(sim_file_writeback(f) == 1 && sim_file_writeback(f) == 0,
	      "writeback of the one dirty page, once");
	CHECK(!sim_process_verify(m, true) && !sim_file_verify(f, true),
	      "bytes");
	finish(__func__);
}

/*
 * ksmd finds an mm's mm_slot by hashing the mm (get_mm_slot()): with more
 * mms than the hash has buckets (1024), buckets are shared, and each
 * lookup must pick its own mm's slot out of its bucket.  1100 mergeable
 * processes, half of them exiting (each exit looks its slot up), then
 * the rest: the auditor finds the slots listed, hashed and counted alike
 * at each step.
 */
static void test_mm_slots_share_buckets(void)
{
	static struct mm_struct *mm[1100];
	char name[16];
	int i;

	start(ERA_MIGRATION);
	for (i = 0; i < 1100; i++) {
		snprintf(name, sizeof(name), "P%d", i);
		mm[i] = sim_process_create(name, 1);
		CHECK(mm[i] && !sim_process_madvise(mm[i], true), "%s", name);
	}
	for (i = 0; i < 1100; i += 2)
		CHECK(!sim_process_exit(mm[i]), "P%d exits", i);
	CHECK(!audit_machine(NULL, true), "audit, half of them gone");
	ksm_scan_full(1);
	for (i = 1; i < 1100; i += 2)
		CHECK(!sim_process_exit(mm[i]), "P%d exits", i);
	finish(__func__);
}

/*
 * An area made MADV_UNMERGEABLE keeps its rmap_items until ksmd's next
 * visit, so one may still sit in the unstable tree; ksmd, meeting it
 * there, must not merge with its page (get_mergeable_page() checks the
 * vma is still VM_MERGEABLE): B's page, alike, goes into the tree
 * instead, and A's page stays A's own.
 */
static void test_unstable_item_of_unmergeable_area(void)
{
	struct sim_activity before;
	struct ksm_counters c;
	long pb;
	struct mm_struct *a, *b;

	start(ERA_MIGRATION);
	a = process("A", 1, 'v');
	b = process("B", 1, 'v');
	CHECK(a && b, "A and B");
	ksm_scan_full(1);		/* the checksums, seen once */
	ksm_scan_pages(1);		/* A's page into the unstable tree */
	CHECK(!sim_process_madvise(a, false), "A: MADV_UNMERGEABLE");
	pb = sim_process_pfn(b, 0);
	before = activity();
	ksm_scan_pages(1);		/* B's page meets A's rmap_item */
	c = counters();
	CHECK(!c.pages_shared && !c.pages_sharing &&
	      sim_process_pfn(a, 0) != sim_process_pfn(b, 0), "B merged with "
	      "the page of an area that is no longer mergeable: %lu shared, "
	      "%lu sharing", c.pages_shared, c.pages_sharing);
	/* Nor made B's page KSM only to break it again (try_to_merge_
	 * one_page() would have refused A's page, too late). */
	CHECK(sim_process_pfn(b, 0) == pb && activity().merges ==
	      before.merges && activity().unmerges == before.unmerges,
	      "B's page was merged and broken: frame %ld, was %ld",
	      sim_process_pfn(b, 0), pb);
	CHECK(!sim_process_verify(a, true) && !sim_process_verify(b, true),
	      "bytes");
	finish(__func__);
}

static int job_fill(struct job *j)
{
	return sim_process_fill(j->mm, j->vpn, j->byte);
}

/** The auditor's anon_vma check, made while the others stand still. */
static int job_audit(struct job *j)
{
	audit_machine(&j->audit, false);
	return (int)j->audit.count[AUDIT_ANON_VMA];
}

/*
 * The anon_vma outlives its last vma while a migration holds it: the
 * process exits while its page's ptes are migration entries, and its
 * exit (anon_vma_unlink()) leaves the anon_vma to the reference that
 * page_get_anon_vma() took; the migration's put_anon_vma() frees it
 * (put_anon_vma()'s anon_vma_free()).  The auditor says the anon_vma is
 * neither freed while held, in between, nor leaked, after.
 */
static void test_anon_vma_outlives_exit(void)
{
	static const struct sim_step steps[] = {
		{ "migrate", "unmap_and_move:unmapped" },
		{ "exit", "done" },
		{ "audit", "done" },
		{ "migrate", "done" },
	};
	struct job m = { .fn = job_migrate, .node = 1 };
	struct job e = { .fn = job_exit };
	struct job a = { .fn = job_audit };
	struct sim_actor_spec actors[3] = {
		{ "migrate", run_job, &m }, { "exit", run_job, &e },
		{ "audit", run_job, &a },
	};
	struct sim_mem_stats st;

	start(ERA_MIGRATION);
	e.mm = sim_process_create("A", 1);
	CHECK(e.mm && !sim_process_fill(e.mm, 0, 'a'), "A");
	m.pfn = sim_process_pfn(e.mm, 0);
	CHECK(!sim_run_script(actors, 3, steps, 4), "script: %s",
	      sim_run_error());
	CHECK(e.ret == 0 && a.ret == 0, "exit %ld; with the migration's "
	      "reference held, the auditor found %ld anon_vma violations "
	      "(freed while held?)", e.ret, a.ret);
	/* Nothing maps the old page when it is moved: both frames go. */
	sim_mem_stats(-1, &st);
	CHECK(st.nr_used == 0, "%lu frames left after the exit and the "
	      "migration (migrate returned %ld)", st.nr_used, m.ret);
	finish(__func__);	/* a leak, had put_anon_vma() not freed it */
}

/** The child job_fork() made. */
static struct mm_struct *forked;

static int job_fork(struct job *j)
{
	forked = sim_process_fork(j->mm, "C2");
	return forked ? 0 : -ENOMEM;
}

/*
 * A fork while migration holds a page shared read-only copies the
 * migration entry into the child as it is (copy_one_pte(): a migration
 * entry holds no swap count to duplicate); the migration then restores
 * the child's pte too, and the child reads the page.
 */
static void test_fork_meets_migration(void)
{
	static const struct sim_step steps[] = {
		{ "migrate", "unmap_and_move:unmapped" },
		{ "fork", "done" },
		{ "migrate", "done" },
	};
	struct job m = { .fn = job_migrate, .node = 1 };
	struct job f = { .fn = job_fork };
	struct sim_actor_spec actors[2] = {
		{ "migrate", run_job, &m }, { "fork", run_job, &f },
	};
	struct mm_struct *c2;

	start(ERA_MIGRATION);
	f.mm = sim_process_create("P", 1);
	CHECK(f.mm && !sim_process_fill(f.mm, 0, 'a'), "P");
	/* A first child: P's pte read-only, its migration entry too. */
	CHECK(sim_process_fork(f.mm, "C1"), "fork");
	m.pfn = sim_process_pfn(f.mm, 0);
	CHECK(!sim_run_script(actors, 2, steps, 3), "script: %s",
	      sim_run_error());
	CHECK(m.ret == 0 && f.ret == 0, "migrate %ld, fork %ld", m.ret, f.ret);
	c2 = forked;
	CHECK(sim_process_pfn(c2, 0) >= 0 &&
	      sim_process_pfn(c2, 0) == sim_process_pfn(f.mm, 0) &&
	      sim_process_pfn(c2, 0) != m.pfn,
	      "C2 does not map P's page, migrated");
	CHECK(!sim_process_verify(c2, true), "C2's bytes");
	finish(__func__);
}

/*
 * A fork of a mergeable process that cannot register its child with KSM
 * (no mm_slot) fails, and gives back what it took: the parent's mmap_sem
 * too, so that the parent's next fault (which takes it for reading, here
 * in a scripted run, where a lock held for good is a deadlock) goes on.
 */
static void test_fork_ksm_enomem(void)
{
	static const struct sim_step steps[] = { { "P", "done" } };
	struct job f = { .fn = job_fill, .byte = 'b' };
	struct sim_actor_spec actors[1] = { { "P", run_job, &f } };

	start(ERA_KEYHOLE);
	f.mm = process("P", 1, 'a');
	CHECK(f.mm, "P");
	CHECK(!sim_fail_nth(FAIL_MM_SLOT, 1), "inject");
	CHECK(!sim_process_fork(f.mm, "C"), "a fork without an mm_slot");
	sim_fail_nth(FAIL_MM_SLOT, 0);
	CHECK(!sim_run_script(actors, 1, steps, 1), "P's write after the "
	      "failed fork: %s", sim_run_error());
	CHECK(f.ret == 0, "P's write: %ld", f.ret);
	CHECK(!sim_process_verify(f.mm, true), "bytes");
	finish(__func__);
}

/**
 * sim_process_verify() of \a mm, with what it prints (not quiet) put in
 * \a text.
 */
static long verify_captured(struct mm_struct *mm, bool report, char *text,
			    size_t len)
{
	long bad;
	FILE *f = tmpfile();
	int saved;

	if (!f)
		return -1;
	fflush(stdout);
	saved = dup(1);
	dup2(fileno(f), 1);
	sim_set_quiet(false);
	bad = sim_process_verify(mm, report);
	sim_set_quiet(true);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	rewind(f);
	text[fread(text, 1, len - 1, f)] = '\0';
	fclose(f);
	return bad;
}

/**
 * Verify job->mm while the others stand still, quiet (its count in pfn),
 * then reporting (its count returned); byte says what they printed was
 * right.
 */
static int job_verify(struct job *j)
{
	static char text[2][4096];

	long bad;

	j->pfn = verify_captured(j->mm, false, text[0], sizeof(text[0]));
	bad = verify_captured(j->mm, true, text[1], sizeof(text[1]));
	/* Said only when reporting, and said right: */
	j->byte = !text[0][0] &&
		  strstr(text[1], "A page 0: cannot be read at a quiescent "
			 "point (migration entry left in its pte)");
	return (int)bad;
}

/*
 * A page that cannot be read (its pte a migration entry: here, because a
 * migration is stopped halfway) is counted by sim_process_verify() and
 * named, by page and cause, only when it is asked to report.
 */
static void test_verify_unreadable(void)
{
	static const struct sim_step steps[] = {
		{ "migrate", "unmap_and_move:unmapped" },
		{ "verify", "done" },
		{ "migrate", "done" },
	};
	struct job m = { .fn = job_migrate, .node = 1 };
	struct job v = { .fn = job_verify };
	struct sim_actor_spec actors[2] = {
		{ "migrate", run_job, &m }, { "verify", run_job, &v },
	};

	start(ERA_MIGRATION);
	v.mm = sim_process_create("A", 1);
	CHECK(v.mm && !sim_process_fill(v.mm, 0, 'a'), "A");
	m.pfn = sim_process_pfn(v.mm, 0);
	CHECK(!sim_run_script(actors, 2, steps, 3), "script: %s",
	      sim_run_error());
	CHECK(v.pfn == 1 && v.ret == 1, "verify found %ld, then %ld, pages "
	      "it could not read (1 each)", v.pfn, v.ret);
	CHECK(v.byte, "the quiet verify printed, or the reporting one did "
	      "not say which page and why");
	finish(__func__);
}

/** A machine with process A's one page, for a migration to meet its exit. */
static void setup_migrate_exit(struct job *m, struct job *e)
{
	start(ERA_MIGRATION);
	e->mm = sim_process_create("A", 1);
	if (e->mm)
		sim_process_fill(e->mm, 0, 'a');
	m->pfn = e->mm ? sim_process_pfn(e->mm, 0) : -1;
}

/*
 * page_get_anon_vma() looks at page_mapped() without a lock, then takes
 * anon_vma->lock to take its reference: the page's process may exit in
 * between.  Migration is preempted just before it takes the lock (the
 * first anon_vma->lock it takes), and the exit runs:
 *
 * - to its end: the anon_vma has no vma and no reference left, and was
 *   freed with its last user; its memory stays an anon_vma (the kernel's
 *   SLAB_DESTROY_BY_RCU), but it is not live, and no reference is taken
 *   on it (the "!live" return: the kernel's atomic_inc_not_zero());
 * - up to its anon_vma_unlink() (preempted before taking the same lock):
 *   its ptes are gone, its vma not yet; the anon_vma is live, the
 *   reference is taken, and the page is found unmapped after all (the
 *   "unmapped meanwhile" return): the reference is put back at once, so
 *   that the exit's anon_vma_unlink() then frees the anon_vma.
 *
 * Either way migration has no anon_vma, and the page is neither swap
 * cache nor mapped: it gives up on the page (-EAGAIN: a remap would walk
 * an anon_vma that may be freed, and rmap_walk_anon() BUGs on one), the
 * next pass finds it freed under it, both frames are freed, and the
 * auditor finds the anon_vma freed (no leak), not while held.  Which
 * decision is which lock is found by trying each in turn, with the
 * timeline to say where the preemption fell.
 */
static void test_anon_vma_exit_meets_migration(void)
{
	static char out[1 << 16];
	struct job m = { .fn = job_migrate, .node = 1 };
	struct job e = { .fn = job_exit };
	struct sim_actor_spec actors[2] = {
		{ "migrate", run_job, &m }, { "exit", run_job, &e },
	};
	static const char *const at_migrate =
		"(preempted before taking anon_vma->lock: exit runs)";
	static const char *const at_exit =
		"(preempted before taking anon_vma->lock: migrate runs)";
	struct sim_activity act;
	struct sim_mem_stats st;
	unsigned int at[2];
	bool found = false;
	int err;

	/* The migration's first anon_vma->lock: page_get_anon_vma()'s. */
	for (at[0] = 1; at[0] < PREEMPT_MAX / 2 && !found; at[0]++) {
		setup_migrate_exit(&m, &e);
		CHECK(m.pfn >= 0, "A");
		err = run_preempted(actors, 2, at, 1, out, sizeof(out));
		found = !err && strstr(out, at_migrate);
		if (!found)
			sim_exit();
	}
	at[0]--;
	CHECK(found, "no preemption of the migration fell before "
	      "anon_vma->lock");
	/* The exit ran whole in between: nothing was live to take. */
	CHECK(e.ret == 0 && strstr(out, "A exits"), "exit %ld", e.ret);
	sim_mem_stats(-1, &st);
	CHECK(st.nr_used == 0, "%lu frames left (migrate returned %ld)",
	      st.nr_used, m.ret);
	sim_get_activity(&act);
	CHECK(act.migrations == 0, "a page with no anon_vma was migrated");
	finish("test_anon_vma_exit_meets_migration(not live)");

	/* Now the exit stops at its own anon_vma->lock, its ptes gone. */
	found = false;
	for (at[1] = at[0] + 1; at[1] < PREEMPT_MAX && !found; at[1]++) {
		setup_migrate_exit(&m, &e);
		CHECK(m.pfn >= 0, "A");
		err = run_preempted(actors, 2, at, 2, out, sizeof(out));
		found = !err && strstr(out, at_migrate) &&
			strstr(out, at_exit);
		if (!found)
			sim_exit();
	}
	CHECK(found, "no preemption of the exit fell before anon_vma->lock");
	CHECK(e.ret == 0, "exit %ld", e.ret);
	sim_mem_stats(-1, &st);
	CHECK(st.nr_used == 0, "%lu frames left (migrate returned %ld)",
	      st.nr_used, m.ret);
	sim_get_activity(&act);
	CHECK(act.migrations == 0, "a page with no anon_vma was migrated");
	finish("test_anon_vma_exit_meets_migration(unmapped meanwhile)");
}

static int job_reclaim(struct job *j)
{
	return sim_reclaim_process_page(j->mm, j->vpn);
}

static int job_exchange(struct job *j)
{
	return sim_exchange_pfns((unsigned long)j->pfn, (unsigned long)j->node);
}

/*
 * exchange_page_move_mapping() checks an anonymous page's count at once,
 * and a file page's only under the file's tree_lock, where nothing can
 * take a new reference from the page cache meanwhile (the RFC's order).
 * A pfn walker holds a reference on the file page while the exchange
 * starts, and lets it go while the exchange waits for the tree_lock: the
 * count is right by then, and the exchange goes through.
 */
static void test_walker_meets_exchange(void)
{
	static char out[1 << 16];
	static const char *const at_walker =
		"(preempted at pfn_walk:got: exchange runs)";
	static const char *const at_exchange =
		"(preempted before taking tree_lock: walker runs)";
	struct job w = { .fn = job_pfn_walk };
	struct job x = { .fn = job_exchange };
	struct sim_actor_spec actors[2] = {
		{ "walker", run_job, &w }, { "exchange", run_job, &x },
	};
	struct address_space *f = NULL;
	struct mm_struct *a = NULL;
	unsigned int at[2];
	bool found = false;
	int err;

	for (at[0] = 1; at[0] < PREEMPT_MAX / 2 && !found; at[0]++)
		for (at[1] = at[0] + 1; at[1] < PREEMPT_MAX && !found;
		     at[1]++) {
			start(ERA_EXCHANGE);
			a = process("A", 1, 'a');
			f = sim_file_create("F", 1, 'f', false);
			CHECK(a && f && !sim_file_cache_page(f, 0, 0), "setup");
			w.pfn = sim_file_pfn(f, 0);
			x.pfn = sim_process_pfn(a, 0);
			x.node = (int)w.pfn;
			err = run_preempted(actors, 2, at, 2, out, sizeof(out));
			found = !err && strstr(out, at_walker) &&
				strstr(out, at_exchange);
			if (!found)
				sim_exit();
		}
	CHECK(found, "no run had the walker's reference span the exchange's "
	      "start and end before its tree_lock");
	CHECK(w.ret == 1 && x.ret == 0, "walk %ld, exchange %ld:\n%s", w.ret,
	      x.ret, out);
	CHECK(sim_file_pfn(f, 0) == x.pfn && !sim_file_verify(f, true) &&
	      !sim_process_verify(a, true), "not exchanged, or bytes");
	CHECK(!sim_file_destroy(f), "file gone");
	finish(__func__);
}

static int job_ksmd_batch(struct job *j)
{
	(void)j;
	ksm_scan_pages(4);
	return 0;
}

/*
 * Migration's order of a KSM page's exchange (R14.advance's, its refusal
 * off) on a weakly ordered CPU, kpfn_seq off as in the kernel's
 * get_ksm_page(): ksm_exchange_page() stores the new kpfn, smp_wmb(), and
 * only then takes the key from the old page.  The exchange's store of kpfn
 * is held in its store buffer, and the exchange is preempted at each of
 * its points in turn while it is held: ksmd then looks node 1 up for D
 * (get_ksm_page() without a lock, from stable_tree_search()).  The barrier
 * holds the old page's loss of the key behind the new kpfn, so ksmd finds
 * the old kpfn still keyed, every time, and the node lives; a full scan
 * then merges D.  Without it, ksmd would find the old kpfn no longer
 * keyed, and kpfn unchanged: a live node removed (CONFIG_DEBUG_VM's oops).
 */
static void test_exchange_advance_kpfn_held(void)
{
	static char out[1 << 16];
	static const char *const held =
		"(model: node->kpfn waits in the store buffer)";
	static const char *const seen =
		"(model: node->kpfn becomes visible)";
	struct sim_config cfg = { .nr_sections = 4, .era = ERA_EXCHANGE,
				  .model = SIM_MODEL_WEAK };
	struct job x = { .fn = job_exchange };
	struct job k = { .fn = job_ksmd_batch };
	struct sim_actor_spec actors[2] = {
		{ "exchange", run_job, &x }, { "ksmd", run_job, &k },
	};
	struct mm_struct *a = NULL, *b = NULL, *d = NULL, *e = NULL;
	unsigned int at[2], runs = 0;
	const char *p, *v;
	bool found = false;
	int err;

#define SETUP_ADVANCE() do {						\
		CHECK(!sim_init(&cfg), "sim_init");			\
		sim_set_quiet(true);					\
		ksm_fix_set(FIX_XCHG_REFUSE_KSM, false);		\
		ksm_fix_set(FIX_KPFN_SEQ, false);			\
		ksm_set_exchange_order(XCHG_KSM_ADVANCE);		\
		a = process("A", 1, 'X');				\
		b = process("B", 1, 'X');				\
		ksm_scan_full(2);					\
		e = sim_process_create("E", 1);				\
		CHECK(e && !sim_process_fill(e, 0, 'e'), "E");		\
		d = process("D", 1, 'X');				\
		ksm_scan_pages(2);	/* past A and B: D comes next */ \
		x.pfn = sim_process_pfn(a, 0);				\
		x.node = (int)sim_process_pfn(e, 0);			\
	} while (0)

	/* The decision that holds the new kpfn back. */
	for (at[0] = 0; at[0] < PREEMPT_MAX / 2 && !found; at[0]++) {
		SETUP_ADVANCE();
		err = run_preempted(actors, 2, at, 1, out, sizeof(out));
		found = !err && strstr(out, held);
		sim_exit();
	}
	at[0]--;
	CHECK(found, "no decision held the exchange's store of kpfn back");
	/* ksmd runs at each of the exchange's points while it is held. */
	for (at[1] = at[0] + 1; at[1] < PREEMPT_MAX; at[1]++) {
		SETUP_ADVANCE();
		err = run_preempted(actors, 2, at, 2, out, sizeof(out));
		p = strstr(out, "(preempted ");
		v = strstr(out, seen);
		if (!err && p && v && v < p) {
			sim_exit();	/* kpfn was visible by then */
			break;
		}
		if (!err && !p) {	/* a store's decision, or past the end */
			sim_exit();
			if (at[1] >= preempt_decisions)
				break;
			continue;
		}
		runs++;
		CHECK(!err, "decision %u: %s\n%s", at[1], sim_run_error(), out);
		CHECK(x.ret == 0, "decision %u: the exchange returned %ld",
		      at[1], x.ret);
		CHECK(counters().stable_nodes == 1, "decision %u: %lu stable "
		      "nodes:\n%s", at[1], counters().stable_nodes, out);
		ksm_scan_full(1);
		CHECK(counters().stable_nodes == 1 &&
		      counters().pages_sharing == 2, "decision %u: %lu nodes, "
		      "%lu sharing", at[1], counters().stable_nodes,
		      counters().pages_sharing);
		CHECK(!sim_process_verify(a, true) &&
		      !sim_process_verify(b, true) &&
		      !sim_process_verify(d, true) &&
		      !sim_process_verify(e, true), "decision %u: bytes", at[1]);
		if (audit_machine(NULL, true)) {
			finish(__func__);	/* says what was wrong */
			return;
		}
		sim_exit();
	}
#undef SETUP_ADVANCE
	CHECK(runs > 0, "the exchange was never preempted with kpfn held");
	start(ERA_EXCHANGE);
	finish(__func__);
}

/*
 * An exchange isolates both pages from the LRU, and gives up (-EBUSY) if
 * either is isolated already: a migration of the second page, preempted
 * at each of its points in turn, lets the exchange run whole.  Whoever
 * loses puts back what it took, so that after every run each page is on
 * the LRU (the auditor), and both processes read back their bytes.
 */
static void test_migration_meets_exchange(void)
{
	static char out[1 << 16];
	struct job m = { .fn = job_migrate, .node = 1 };
	struct job x = { .fn = job_exchange };
	struct sim_actor_spec actors[2] = {
		{ "migrate", run_job, &m }, { "exchange", run_job, &x },
	};
	struct mm_struct *a, *e;
	unsigned int at, runs = 0, busy = 0;
	char name[64];
	int err;

	for (at = 1; at < PREEMPT_MAX; at++) {
		start(ERA_EXCHANGE);
		a = process("A", 1, 'a');
		e = process("E", 1, 'e');
		CHECK(a && e, "processes");
		x.pfn = sim_process_pfn(a, 0);
		x.node = (int)sim_process_pfn(e, 0);
		m.pfn = x.node;
		err = run_preempted(actors, 2, &at, 1, out, sizeof(out));
		if (err && preempt_misfit) {	/* no choice at decision at */
			sim_exit();
			continue;
		}
		if (preempt_decisions <= at) {	/* the run ended before it */
			sim_exit();
			break;
		}
		CHECK(!err, "preempted at %u: %s\n%s", at, sim_run_error(),
		      out);
		busy += x.ret == -EBUSY;
		CHECK(!sim_process_verify(a, true) &&
		      !sim_process_verify(e, true), "bytes, preempted at "
		      "%u:\n%s", at, out);
		snprintf(name, sizeof(name), "%s(%u)", __func__, at);
		finish(name);
		runs++;
	}
	CHECK(runs > 4 && busy > 0, "%u runs, the exchange refused in %u",
	      runs, busy);
}

/*
 * An exchange holds each anonymous page's anon_vma from before it unmaps
 * the page until it has put the ptes back (unmap_and_exchange(), as
 * unmap_and_move()): with both pages unmapped, nothing else keeps the
 * anon_vma of an exiting process alive, and remove_migration_ptes()
 * walks it.  The exchange of A's page with E's, preempted at each of its
 * points in turn while A exits whole, then while E does: no point may
 * find a freed anon_vma (rmap_walk_anon() BUGs on one) or lose a frame.
 * The other keeps its bytes (in its own frame or the other's), the
 * exiting one's frame is freed, and the auditor finds each machine whole,
 * its anon_vmas freed with their last user.
 */
static void test_exit_meets_exchange(void)
{
	static char out[1 << 16];
	struct job x = { .fn = job_exchange };
	struct job e = { .fn = job_exit };
	struct sim_actor_spec actors[2] = {
		{ "exchange", run_job, &x }, { "exit", run_job, &e },
	};
	struct sim_mem_stats st;
	struct mm_struct *a, *keep;
	unsigned int at, runs;
	char name[64];
	int err, side;

	for (side = 0, runs = 0; side < 2; side++)	/* A exits, then E */
		for (at = 1; at < PREEMPT_MAX; at++) {
			start(ERA_EXCHANGE);
			a = process("A", 1, 'a');
			keep = process("E", 1, 'e');
			CHECK(a && keep, "processes");
			x.pfn = sim_process_pfn(a, 0);
			x.node = (int)sim_process_pfn(keep, 0);
			if (side) {
				e.mm = keep;
				keep = a;
			} else {
				e.mm = a;
			}
			err = run_preempted(actors, 2, &at, 1, out,
					    sizeof(out));
			if (err && preempt_misfit) {	/* no choice at at */
				sim_exit();
				continue;
			}
			if (preempt_decisions <= at) {	/* ended before it */
				sim_exit();
				break;
			}
			CHECK(!err, "preempted at %u: %s\n%s", at,
			      sim_run_error(), out);
			CHECK(e.ret == 0, "exit %ld", e.ret);
			CHECK(x.ret == 0 || x.ret == -EAGAIN ||
			      x.ret == -EBUSY || x.ret == -EINVAL,
			      "exchange %ld", x.ret);
			CHECK(!sim_process_verify(keep, true), "%s's bytes, "
			      "preempted at %u:\n%s", side ? "A" : "E", at,
			      out);
			sim_mem_stats(-1, &st);
			CHECK(st.nr_used == 1, "%lu frames in use, preempted "
			      "at %u (exchange %ld):\n%s", st.nr_used, at,
			      x.ret, out);
			snprintf(name, sizeof(name), "%s(%s, %u)", __func__,
				 side ? "E exits" : "A exits", at);
			finish(name);
			runs++;
		}
	CHECK(runs > 8, "the exchange was preempted at %u points only", runs);
}

/*
 * An exiting child unmaps its pages (exit_mmap()) before it leaves the
 * anon_vma (anon_vma_unlink()), so that, all that while, an rmap walk
 * finds its vma.  Reclaim of the page a parent shares with two children,
 * run at each point of the first child's exit in turn, walks the parent,
 * the exiting child and the other child (the order they joined the
 * anon_vma), and must find no pte of the exiting child: each pte is
 * cleared as it is unmapped (zap_pte_range()), and its page table, once
 * freed, is looked at no more (page_check_address()).  A stale pte there
 * would count the page unmapped before the other child's pte is, and the
 * page would go from under it.  The bytes survive every run, and the
 * auditor finds each machine whole.
 */
static void test_exit_meets_reclaim(void)
{
	static char out[1 << 16];
	struct job e = { .fn = job_exit };
	struct job r = { .fn = job_reclaim, .vpn = 0 };
	struct sim_actor_spec actors[2] = {
		{ "exit", run_job, &e }, { "reclaim", run_job, &r },
	};
	struct mm_struct *c2;
	unsigned int at, runs = 0;
	char name[64];
	int err;

	for (at = 1; at < PREEMPT_MAX; at++) {
		start(ERA_KEYHOLE);
		r.mm = sim_process_create("P", 1);
		CHECK(r.mm && !sim_process_fill(r.mm, 0, 'p'), "P");
		e.mm = sim_process_fork(r.mm, "C1");
		c2 = sim_process_fork(r.mm, "C2");
		CHECK(e.mm && c2, "fork");
		err = run_preempted(actors, 2, &at, 1, out, sizeof(out));
		if (err && preempt_misfit) {	/* no choice at decision at */
			sim_exit();
			continue;
		}
		if (preempt_decisions <= at) {	/* the run ended before it */
			sim_exit();
			break;
		}
		CHECK(!err, "preempted at %u: %s\n%s", at, sim_run_error(),
		      out);
		CHECK(e.ret == 0, "exit %ld", e.ret);
		CHECK(!sim_process_verify(r.mm, true) &&
		      !sim_process_verify(c2, true), "bytes, preempted at "
		      "%u:\n%s", at, out);
		snprintf(name, sizeof(name), "%s(%u)", __func__, at);
		finish(name);
		runs++;
	}
	CHECK(runs > 2, "the exit was preempted at %u points only", runs);
}

/*
 * A write to a KSM page copies it without taking its page lock: only a
 * page that may be reused is locked (do_wp_page() locks an anonymous page
 * that is not KSM, to ask reuse_swap_page()).  Reclaim of the KSM page,
 * run at each point of a writer's fault in turn, finds it unlocked, and
 * unmaps the other mapper's pte every time.
 */
static void test_ksm_write_meets_reclaim(void)
{
	static char out[1 << 16];
	struct job w = { .fn = job_fill, .vpn = 0, .byte = 'w' };
	struct job r = { .fn = job_reclaim, .vpn = 0 };
	struct sim_actor_spec actors[2] = {
		{ "write", run_job, &w }, { "reclaim", run_job, &r },
	};
	unsigned int at, runs = 0;
	char name[64];
	int err;

	for (at = 1; at < PREEMPT_MAX; at++) {
		start(ERA_KEYHOLE);
		w.mm = process("A", 1, 'k');
		r.mm = process("B", 1, 'k');
		CHECK(w.mm && r.mm, "processes");
		ksm_scan_full(2);
		CHECK(sim_process_pfn(w.mm, 0) == sim_process_pfn(r.mm, 0),
		      "not merged");
		err = run_preempted(actors, 2, &at, 1, out, sizeof(out));
		if (err && preempt_misfit) {	/* no choice at decision at */
			sim_exit();
			continue;
		}
		if (preempt_decisions <= at) {	/* the run ended before it */
			sim_exit();
			break;
		}
		CHECK(!err, "preempted at %u: %s\n%s", at, sim_run_error(),
		      out);
		CHECK(w.ret == 0, "the write: %ld", w.ret);
		CHECK(sim_process_pfn(r.mm, 0) < 0, "preempted at %u, the "
		      "KSM page stayed mapped in B (reclaim %ld):\n%s", at,
		      r.ret, out);
		CHECK(!sim_process_verify(w.mm, true) &&
		      !sim_process_verify(r.mm, true), "bytes");
		snprintf(name, sizeof(name), "%s(%u)", __func__, at);
		finish(name);
		runs++;
	}
	CHECK(runs > 2, "the write was preempted at %u points only", runs);
}

static int job_read(struct job *j)
{
	char b;

	return sim_process_read(j->mm, j->vpn, 0, &b, 1);
}

/*
 * A read fault that finds the pte present after all (another thread of
 * the process swapped the page in meanwhile) does nothing: the access is
 * retried (handle_mm_fault() goes to do_wp_page() only for a write to a
 * read-only pte).  Two threads of a child read a page it shares, swapped
 * out, with its parent, the first preempted at each point in turn: no
 * copy is ever made, and the parent's read then maps the very page the
 * child does.
 */
static void test_read_fault_meets_swapin(void)
{
	static char out[1 << 16];
	struct job t1 = { .fn = job_read, .vpn = 0 };
	struct job t2 = { .fn = job_read, .vpn = 0 };
	struct sim_actor_spec actors[2] = {
		{ "T1", run_job, &t1 }, { "T2", run_job, &t2 },
	};
	struct mm_struct *p;
	struct sim_mem_stats st;
	unsigned int at, runs = 0;
	char name[64], b;
	int err;

	for (at = 1; at < PREEMPT_MAX; at++) {
		start(ERA_KEYHOLE);
		p = sim_process_create("P", 1);
		CHECK(p && !sim_process_fill(p, 0, 'p'), "P");
		t1.mm = t2.mm = sim_process_fork(p, "C");
		CHECK(t1.mm && !sim_reclaim_process_page(p, 0), "fork, swap-out");
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
		      "%s, reads %ld %ld", at, sim_run_error(), t1.ret, t2.ret);
		CHECK(!sim_process_read(p, 0, 0, &b, 1), "P's read");
		sim_mem_stats(-1, &st);
		CHECK(st.nr_used == 1 &&
		      sim_process_pfn(p, 0) == sim_process_pfn(t1.mm, 0),
		      "preempted at %u, reads made a copy (%lu frames):\n%s",
		      at, st.nr_used, out);
		CHECK(!sim_process_verify(p, true) &&
		      !sim_process_verify(t1.mm, true), "bytes");
		snprintf(name, sizeof(name), "%s(%u)", __func__, at);
		finish(name);
		runs++;
	}
	CHECK(runs > 2, "the read was preempted at %u points only", runs);
}

/*
 * MADV_UNMERGEABLE breaks the KSM pages its area maps, not the ones it
 * has swapped out (break_ksm() follows present ptes only); a KSM page
 * swapped out but kept in the swap cache (a pfn walker held it as reclaim
 * let go) is mapped again as it is at swap-in.  The area, no longer
 * mergeable, then maps a KSM page, and MADV_UNMERGEABLE once more is a
 * no-op (ksm_madvise() unmerges only an area still VM_MERGEABLE).
 */
static void test_unmergeable_again_is_noop(void)
{
	static const struct sim_step steps[] = {
		{ "walker", "pfn_walk:got" },
		{ "reclaim", "done" },
		{ "walker", "done" },
	};
	struct job w = { .fn = job_pfn_walk };
	struct job r = { .fn = job_reclaim, .vpn = 0 };
	struct sim_actor_spec actors[2] = {
		{ "walker", run_job, &w }, { "reclaim", run_job, &r },
	};
	struct mm_struct *a, *b;
	unsigned long unmerges;
	char c;

	start(ERA_KEYHOLE);
	a = process("A", 1, 'k');
	b = process("B", 1, 'k');
	CHECK(a && b, "processes");
	ksm_scan_full(2);
	w.pfn = sim_process_pfn(a, 0);
	r.mm = a;
	CHECK(w.pfn >= 0 && sim_process_pfn(b, 0) == w.pfn, "not merged");
	CHECK(!sim_run_script(actors, 2, steps, 3), "script: %s",
	      sim_run_error());
	CHECK(sim_process_pfn(a, 0) < 0 && sim_process_pfn(b, 0) < 0,
	      "the KSM page still mapped (reclaim %ld)", r.ret);
	CHECK(!sim_process_madvise(a, false), "MADV_UNMERGEABLE");
	CHECK(!sim_process_read(a, 0, 0, &c, 1) &&
	      sim_process_pfn(a, 0) == w.pfn, "A's swap-in did not find the "
	      "KSM page in the swap cache (pfn %ld, was %ld)",
	      sim_process_pfn(a, 0), w.pfn);
	unmerges = activity().unmerges;
	CHECK(!sim_process_madvise(a, false), "MADV_UNMERGEABLE again");
	CHECK(sim_process_pfn(a, 0) == w.pfn &&
	      activity().unmerges == unmerges, "the second MADV_UNMERGEABLE "
	      "broke a merge");
	CHECK(!sim_process_verify(a, true) && !sim_process_verify(b, true),
	      "bytes");
	finish(__func__);
}

/** The counts of frames job->pfn and job->pfn + job->vpn, in ret and node. */
static int job_counts(struct job *j)
{
	j->node = (int)sim_page_count((unsigned long)j->pfn + j->vpn);
	return (int)sim_page_count((unsigned long)j->pfn);
}

/*
 * An exit lets its pages go only once the ptes of their batch are all
 * cleared (the kernel's mmu_gather: the TLB is flushed before any page
 * of the batch is freed, so that no CPU can still reach a page freed).
 * The counts of two pages a parent shares with its child, read at each
 * point of the parent's exit in turn, are both the two references or
 * both the child's one: never one page let go while the other is still
 * mapped.
 */
static void test_exit_frees_batch_together(void)
{
	static char out[1 << 16];
	struct job e = { .fn = job_exit };
	struct job o = { .fn = job_counts };
	struct sim_actor_spec actors[2] = {
		{ "exit", run_job, &e }, { "observe", run_job, &o },
	};
	struct mm_struct *c;
	unsigned int at, runs = 0;
	char name[64];
	int err;

	for (at = 1; at < PREEMPT_MAX; at++) {
		start(ERA_KEYHOLE);
		e.mm = sim_process_create("P", 2);
		CHECK(e.mm && !sim_process_fill(e.mm, 0, 'a') &&
		      !sim_process_fill(e.mm, 1, 'b'), "P");
		c = sim_process_fork(e.mm, "C");
		CHECK(c, "fork");
		o.pfn = sim_process_pfn(c, 0);
		o.vpn = (unsigned long)(sim_process_pfn(c, 1) - o.pfn);
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
		CHECK(o.ret == o.node && (o.ret == 1 || o.ret == 2),
		      "preempted at %u, counts %ld and %d:\n%s", at, o.ret,
		      o.node, out);
		CHECK(!sim_process_verify(c, true), "C's bytes");
		snprintf(name, sizeof(name), "%s(%u)", __func__, at);
		finish(name);
		runs++;
	}
	CHECK(runs > 1, "the exit was preempted at %u points only", runs);
}

/*
 * Two threads of one process touch its memory for the first time at
 * once: each finds no anon_vma and allocates one; the first to take the
 * page table lock installs its own, and the other, losing the race,
 * frees its own and uses the winner's (anon_vma_prepare()'s lost race).
 * Two anon_vma allocations for one vma say both faults came to it; the
 * auditor says the loser was freed (not leaked), and that no mapped page
 * names it (both pages name the winner); the bytes are each thread's; and
 * when the process exits, the winner goes too (the vma was on its list
 * alone).
 */
static void test_anon_vma_prepare_race(void)
{
	static char out[1 << 16];
	struct job f0 = { .fn = job_fill, .vpn = 0, .byte = 'x' };
	struct job f1 = { .fn = job_fill, .vpn = 1, .byte = 'y' };
	struct sim_actor_spec actors[2] = {
		{ "T0", run_job, &f0 }, { "T1", run_job, &f1 },
	};
	unsigned long calls = 0;
	unsigned int at;
	bool found = false;
	int err;

	/* T0 preempted where it has its anon_vma, and vma has none yet. */
	for (at = 1; at < PREEMPT_MAX && !found; at++) {
		start(ERA_MIGRATION);
		f0.mm = f1.mm = sim_process_create("A", 2);
		CHECK(f0.mm, "A");
		err = run_preempted(actors, 2, &at, 1, out, sizeof(out));
		calls = sim_fail_calls(FAIL_ANON_VMA);
		found = !err && calls == 2;
		if (!found)
			sim_exit();
	}
	CHECK(found, "no preemption of the first fault made two anon_vmas "
	      "(%lu)", calls);
	CHECK(f0.ret == 0 && f1.ret == 0, "faults %ld %ld", f0.ret, f1.ret);
	CHECK(sim_process_pfn(f0.mm, 0) >= 0 && sim_process_pfn(f0.mm, 1) >= 0,
	      "a page not mapped");
	CHECK(!sim_process_verify(f0.mm, true), "bytes");
	/*
	 * Migration finds both pages' ptes through the anon_vma they name,
	 * and puts them back (remove_migration_ptes() walks the whole list:
	 * the vma must be on the winner's list alone, and whole).
	 */
	CHECK(!sim_migrate_pfn((unsigned long)sim_process_pfn(f0.mm, 0), 1,
			       false) &&
	      !sim_migrate_pfn((unsigned long)sim_process_pfn(f0.mm, 1), 1,
			       false), "migration");
	CHECK(!sim_process_verify(f0.mm, true), "bytes after migration");
	/* Reclaim finds both pages' ptes through the anon_vma they name. */
	CHECK(!sim_reclaim_process_page(f0.mm, 0) &&
	      !sim_reclaim_process_page(f0.mm, 1), "reclaim");
	CHECK(!sim_process_verify(f0.mm, true), "bytes after swap-out");
	/*
	 * The vma is on the winner's list alone: its exit empties that, and
	 * the auditor finds no anon_vma left live without a vma (a leak).
	 */
	CHECK(!sim_process_exit(f0.mm), "exit");
	finish(__func__);
}

/** R2's ksmd: it looks at D's page, searching the stable tree. */
static void r2_ksmd(void *arg)
{
	(void)arg;
	ksm_scan_pages(4);
}

/** R2: the KSM page's last two mappers exit. */
static void r2_exit(void *arg)
{
	struct mm_struct **ab = arg;

	sim_process_exit(ab[0]);
	sim_process_exit(ab[1]);
}

/** R2's stranger: it faults in a page of its own, then writes it again. */
static void r2_stranger(void *arg)
{
	sim_process_fill(arg, 0, 'X');
	sim_pause_point("C:wrote");
	sim_process_fill(arg, 0, 'Y');
}

/*
 * sim_process_verify() can fail: a page whose bytes are not the ones its
 * process wrote is counted, and reported by page and byte.  Here the
 * bytes are changed behind D's back by R2 with seed 001's recheck
 * switched off (examples/r2_reuse.c), on a production kernel (no
 * CONFIG_DEBUG_VM): ksmd merges D's page with a frame reused by a
 * stranger, C, whose later write D then reads.
 */
static void test_verify_finds_bad_bytes(void)
{
	static const struct sim_step steps[] = {
		{ "ksmd", "get_ksm_page:peeked" },
		{ "A & B", "done" },
		{ "C", "C:wrote" },
		{ "ksmd", "done" },
		{ "C", "done" },
	};
	struct sim_actor_spec actors[3];
	struct mm_struct *a, *b, *c, *d, *ab[2];
	struct audit_report r;
	char text[4096];
	long bad;
	int err;

	start(ERA_KEYHOLE);
	a = process("A", 1, 'X');
	b = process("B", 1, 'X');
	ksm_scan_full(2);
	d = process("D", 1, 'X');
	c = sim_process_create("C", 1);
	CHECK(a && b && c && d, "processes");
	/* A production kernel: CONFIG_DEBUG_VM would BUG at the merge. */
	sim_set_debug_vm(false);
	ksm_fix_set(FIX_KEYHOLE_RECHECK, false);
	ab[0] = a;
	ab[1] = b;
	actors[0] = (struct sim_actor_spec){ "ksmd", r2_ksmd, NULL };
	actors[1] = (struct sim_actor_spec){ "A & B", r2_exit, ab };
	actors[2] = (struct sim_actor_spec){ "C", r2_stranger, c };
	err = sim_run_script(actors, 3, steps, 5);
	ksm_fix_set(FIX_KEYHOLE_RECHECK, true);
	sim_set_debug_vm(true);
	CHECK(!err, "script: %s", sim_run_error());
	CHECK(!sim_process_verify(c, true), "C's bytes");
	/* D's page: what C wrote, not D's 'X': counted, said nothing of... */
	bad = verify_captured(d, false, text, sizeof(text));
	CHECK(bad == 1 && !text[0], "a quiet verify of D: %ld pages, and "
	      "it said:\n%s", bad, text);
	/* ...unless asked to report it, by page and byte. */
	bad = verify_captured(d, true, text, sizeof(text));
	CHECK(bad == 1, "verify of D: %ld pages", bad);
	CHECK(strstr(text, "D page 0: byte 0 reads 0x59 'Y' but D wrote 0x58 "
		     "'X': bytes it never wrote"), "the verify said:\n%s", text);
	/* The auditor's data check is the same verify. */
	audit_machine(&r, false);
	CHECK(r.count[AUDIT_DATA] == 1, "%lu data violations",
	      r.count[AUDIT_DATA]);
	sim_exit();
	printf("ok %s\n", __func__);
}

/** One of test_concurrent_processes()'s threads. */
static void *processes_thread(void *arg)
{
	long id = (long)arg, ok = 1;
	int i;

	for (i = 0; i < 20; i++) {
		char name[16];
		struct mm_struct *mm;

		snprintf(name, sizeof(name), "T%ld.%d", id, i);
		mm = sim_process_create(name, 2);
		if (!mm || sim_process_fill(mm, 0, 'a' + (int)id) ||
		    sim_process_fill(mm, 1, 'b') || sim_process_verify(mm, false) ||
		    sim_process_exit(mm))
			ok = 0;
	}
	return (void *)ok;
}

/*
 * Processes made, faulted and exited on two threads at once: the lists
 * every process and every anon_vma join are the simulator's own, and
 * their lock is what keeps them whole (ThreadSanitizer, in test.sh,
 * names a race on them, and the auditor a list that lost one).
 */
static void test_concurrent_processes(void)
{
	pthread_t t[2];
	void *ok[2];
	long i;

	start(ERA_KEYHOLE);
	for (i = 0; i < 2; i++)
		CHECK(!pthread_create(&t[i], NULL, processes_thread, (void *)i),
		      "pthread_create");
	for (i = 0; i < 2; i++)
		pthread_join(t[i], &ok[i]);
	CHECK(ok[0] && ok[1], "a process went wrong on a thread");
	finish(__func__);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--help")) {
		printf("Usage: %s\n\nRuns the tests of what single lines do; "
		       "prints \"ok NAME\" or\n\"FAIL NAME: why\" for each, and "
		       "exits with the number of failures.\n", argv[0]);
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "%s: takes no arguments\nusage: %s [--help]\n",
			argv[0], argv[0]);
		return 2;
	}
	test_first_touch_enomem();
	test_cow_enomem();
	test_one_anon_vma();
	test_activity();
	test_cow_page_swappable();
	test_api_bounds();
	test_process_size_limit();
	test_verify_counts_bytes();
	test_madvise_enomem();
	test_cow_reuse_unlocks();
	test_fork_keeps_node();
	test_file_mapper_exit();
	test_exchange_pinned_either_side();
	test_ksmd_forgets_unmergeable();
	test_ksmd_cleans_exited_cursor_mm();
	test_run_unmerge_forgets_exited();
	test_exit_frees_swap_cache();
	test_compact_section();
	test_migrate_dirty_file_page();
	test_mm_slots_share_buckets();
	test_unstable_item_of_unmergeable_area();
	test_migrate_on_fault_one_node();
	test_printable();
	test_concurrent_processes();
	test_anon_vma_outlives_exit();
	test_fork_meets_migration();
	test_fork_ksm_enomem();
	test_verify_unreadable();
	test_anon_vma_exit_meets_migration();
	test_anon_vma_prepare_race();
	test_exit_meets_reclaim();
	test_exit_meets_exchange();
	test_migration_meets_exchange();
	test_walker_meets_exchange();
	test_exchange_advance_kpfn_held();
	test_ksm_write_meets_reclaim();
	test_read_fault_meets_swapin();
	test_unmergeable_again_is_noop();
	test_exit_frees_batch_together();
	test_verify_finds_bad_bytes();
	return check_status();
}

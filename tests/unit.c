// SPDX-License-Identifier: GPL-2.0
/*
 * unit.c - tests of the simulated machine's parts, through the public
 * interface: the red-black tree, prompt frame reuse, faults and
 * copy-on-write, fork and exit, swap-out and swap-in, the reclaim of KSM
 * pages, bad arguments to library calls, and that the auditor notices a
 * wrong state.  Each test prints "ok NAME" or "FAIL NAME: why"; the exit
 * status is the number of failures (capped), 2 for bad arguments.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ksm_ref.h"
#include "check.h"

static void test_rbtree(void)
{
	int err = sim_selftest_rbtree(12345, 2000);

	CHECK(!err, "red-black tree self-test failed at step %d", err);
	printf("ok %s\n", __func__);
}

/* A freed frame is the next one handed out: the keyhole races need it. */
static void test_prompt_reuse(void)
{
	struct mm_struct *a, *b;
	long pa, pb;

	start(ERA_KEYHOLE);
	a = sim_process_create("A", 4);
	sim_process_fill(a, 2, 'a');
	pa = sim_process_pfn(a, 2);
	sim_process_exit(a);
	b = sim_process_create("B", 1);
	sim_process_fill(b, 0, 'b');
	pb = sim_process_pfn(b, 0);
	CHECK(pa >= 0 && pa == pb, "freed pfn %ld came back as %ld", pa, pb);
	finish(__func__);
}

static void test_cow_fork_exit(void)
{
	struct sim_mem_stats st;
	struct mm_struct *p, *c;
	char buf[4];

	start(ERA_KEYHOLE);
	p = sim_process_create("parent", 8);
	sim_process_write(p, 3, 0, "abc", 3);
	c = sim_process_fork(p, "child");
	CHECK(c, "fork failed");
	CHECK(sim_process_pfn(p, 3) == sim_process_pfn(c, 3),
	      "a fork must share the page");
	sim_process_write(c, 3, 0, "xyz", 3);
	CHECK(sim_process_pfn(p, 3) != sim_process_pfn(c, 3),
	      "a write after fork must copy");
	sim_process_read(p, 3, 0, buf, 3);
	CHECK(!memcmp(buf, "abc", 3), "the parent sees its own bytes");
	sim_process_read(c, 3, 0, buf, 3);
	CHECK(!memcmp(buf, "xyz", 3), "the child sees its own bytes");
	CHECK(sim_process_verify(p, false) == 0 &&
	      sim_process_verify(c, false) == 0, "verify");
	sim_process_exit(c);
	sim_process_exit(p);
	sim_mem_stats(-1, &st);
	CHECK(st.nr_used == 0, "%lu frames still used after both exit",
	      st.nr_used);
	finish(__func__);
}

static void test_swap_roundtrip(void)
{
	struct mm_struct *a;
	struct sim_mem_stats st;
	char buf[8];
	long pfn;

	start(ERA_KEYHOLE);
	a = sim_process_create("A", 2);
	sim_process_write(a, 1, 100, "swapme!", 8);
	pfn = sim_process_pfn(a, 1);
	CHECK(sim_reclaim_pfn(pfn) == 0, "reclaim of pfn %ld failed", pfn);
	CHECK(sim_process_pfn(a, 1) == -1, "the pte must be a swap entry");
	sim_mem_stats(-1, &st);
	CHECK(st.nr_used == 0, "%lu frames used after swap-out", st.nr_used);
	CHECK(sim_process_verify(a, true) == 0, "bytes while swapped out");
	CHECK(st.swap_used == 1, "%lu swap slots used", st.swap_used);
	sim_process_read(a, 1, 100, buf, 8);
	CHECK(!memcmp(buf, "swapme!", 8), "bytes after swap-in");
	/* The slot is kept, the page in the swap cache: reclaimed again
	 * before it is written, it need not be written out again. */
	sim_mem_stats(-1, &st);
	CHECK(st.swap_used == 1 && st.nr_used == 1, "%lu swap slots and %lu "
	      "frames used after swap-in", st.swap_used, st.nr_used);
	CHECK(sim_reclaim_pfn(sim_process_pfn(a, 1)) == 0, "reclaim again");
	sim_mem_stats(-1, &st);
	CHECK(st.swap_used == 1 && st.nr_used == 0, "%lu swap slots and %lu "
	      "frames used after the second swap-out", st.swap_used,
	      st.nr_used);
	CHECK(sim_process_verify(a, true) == 0, "bytes swapped out again");
	/* Back in, still in the swap cache, then the exit: the slot goes
	 * with the page (free_swap_cache()). */
	sim_process_read(a, 1, 100, buf, 8);
	CHECK(!sim_process_exit(a), "exit");
	sim_mem_stats(-1, &st);
	CHECK(st.swap_used == 0 && st.nr_used == 0, "%lu swap slots and %lu "
	      "frames used after the exit", st.swap_used, st.nr_used);
	finish(__func__);
}

/*
 * A write to a page swapped in and still in the swap cache reuses it
 * (do_wp_page(): reuse_swap_page()) when no one else can see it: its one
 * pte, and no other pte holding its swap entry.  The slot goes then, the
 * page is dirty, and the frame stays.  A page whose entry a forked child
 * still holds is copied instead, and the child reads its own bytes.
 */
static void test_swap_reuse_on_write(void)
{
	struct sim_mem_stats st;
	struct mm_struct *a, *c;
	long pfn;
	char x;

	start(ERA_KEYHOLE);
	a = sim_process_create("A", 1);
	sim_process_fill(a, 0, 'r');
	CHECK(!sim_reclaim_process_page(a, 0), "swap-out");
	CHECK(!sim_process_read(a, 0, 0, &x, 1) && x == 'r', "swap-in");
	pfn = sim_process_pfn(a, 0);
	sim_process_fill(a, 0, 'w');
	sim_mem_stats(-1, &st);
	CHECK(sim_process_pfn(a, 0) == pfn && st.swap_used == 0, "the write "
	      "copied (pfn %ld, was %ld) or kept the slot (%lu used)",
	      sim_process_pfn(a, 0), pfn, st.swap_used);
	/* Swapped out again, it must be written: its bytes are new. */
	CHECK(!sim_reclaim_process_page(a, 0), "swap-out again");
	CHECK(!sim_process_verify(a, true), "bytes after the second swap-out");

	c = sim_process_fork(a, "C");
	CHECK(c && !sim_process_read(a, 0, 0, &x, 1) && x == 'w', "fork, and "
	      "the parent's swap-in");
	pfn = sim_process_pfn(a, 0);
	sim_process_fill(a, 0, 'p');
	CHECK(sim_process_pfn(a, 0) != pfn, "the parent wrote into the page "
	      "whose swap entry the child holds");
	CHECK(!sim_process_verify(a, true) && !sim_process_verify(c, true),
	      "bytes");
	finish(__func__);
}

/*
 * Once more than half the swap device is in use, a page swapped in gives
 * up its slot (do_swap_page(): vm_swap_full(), then try_to_free_swap()):
 * swapped out again, it is written to a new slot.  At half, or less, it
 * keeps the slot, and goes out again without a write.
 */
static void test_swap_full_frees_slot(void)
{
	struct sim_config cfg = { .nr_sections = 4, .swap_slots = 4 };
	struct sim_mem_stats st;
	struct mm_struct *a;
	char c;
	int i;

	CHECK(!sim_init(&cfg), "sim_init");
	sim_set_quiet(true);
	a = sim_process_create("A", 3);
	for (i = 0; i < 3; i++)
		sim_process_fill(a, (unsigned long)i, 'x' + i);
	CHECK(!sim_reclaim_process_page(a, 0) &&
	      !sim_reclaim_process_page(a, 1), "swap-out of 0 and 1");
	CHECK(!sim_process_read(a, 0, 0, &c, 1) && c == 'x', "swap-in of 0");
	sim_mem_stats(-1, &st);
	CHECK(st.swap_used == 2, "%lu slots used after a swap-in with swap "
	      "half full", st.swap_used);
	CHECK(!sim_reclaim_process_page(a, 0) &&
	      !sim_reclaim_process_page(a, 2), "swap-out of 0 again, and 2");
	sim_mem_stats(-1, &st);
	CHECK(st.swap_used == 3 && st.nr_used == 0, "%lu slots, %lu frames",
	      st.swap_used, st.nr_used);
	CHECK(!sim_process_read(a, 1, 0, &c, 1) && c == 'y', "swap-in of 1");
	sim_mem_stats(-1, &st);
	CHECK(st.swap_used == 2, "%lu slots used after a swap-in with swap "
	      "3/4 full", st.swap_used);
	CHECK(!sim_reclaim_process_page(a, 1), "swap-out of 1 again");
	sim_mem_stats(-1, &st);
	CHECK(st.swap_used == 3 && st.nr_used == 0, "%lu slots, %lu frames",
	      st.swap_used, st.nr_used);
	CHECK(sim_process_verify(a, true) == 0, "bytes");
	finish(__func__);
}

/* A KSM page is reclaimed through the stable node's reverse map. */
static void test_ksm_page_reclaim(enum ksm_era era, const char *name)
{
	struct mm_struct *a, *b;
	struct ksm_counters c;
	long pfn;
	int err;

	start(era);
	a = sim_process_create("A", 1);
	b = sim_process_create("B", 1);
	sim_process_fill(a, 0, 'k');
	sim_process_fill(b, 0, 'k');
	sim_process_madvise(a, true);
	sim_process_madvise(b, true);
	ksm_scan_full(2);
	ksm_get_counters(&c);
	CHECK(c.pages_shared == 1 && c.pages_sharing == 1, "%s: not merged",
	      name);
	pfn = sim_process_pfn(a, 0);
	CHECK(pfn == sim_process_pfn(b, 0), "%s: not one frame", name);
	err = sim_reclaim_pfn(pfn);
	if (era == ERA_PINNED) {
		/* The node's pin keeps the page: R1's flaw. */
		CHECK(err == -EBUSY, "%s: pinned page freed (%d)", name, err);
	} else {
		CHECK(err == 0, "%s: keyhole page kept (%d)", name, err);
	}
	CHECK(sim_process_pfn(a, 0) == -1 && sim_process_pfn(b, 0) == -1,
	      "%s: both ptes must be swap entries", name);
	CHECK(sim_process_verify(a, true) == 0 &&
	      sim_process_verify(b, true) == 0, "%s: bytes", name);
	finish(name);
}

static void test_bad_arguments(void)
{
	struct sim_config bad = { .page_size = 3000 };
	struct mm_struct *a;
	char buf[4];

	CHECK(sim_init(&bad) == -EINVAL, "page size 3000 accepted");
	bad.page_size = 4096;
	bad.pages_per_section = 100;
	CHECK(sim_init(&bad) == -EINVAL, "100 pages per section accepted");
	start(ERA_KEYHOLE);
	a = sim_process_create("A", 2);
	CHECK(sim_process_write(a, 2, 0, "x", 1) == -EINVAL, "vpn 2 of 2");
	CHECK(sim_process_write(a, 0, 4095, "xy", 2) == -EINVAL,
	      "a write across the page end");
	CHECK(sim_process_read(NULL, 0, 0, buf, 1) == -EINVAL, "NULL mm");
	CHECK(sim_process_read((struct mm_struct *)buf, 0, 0, buf, 1) ==
	      -EINVAL, "a pointer that is no process");
	CHECK(sim_reclaim_pfn(1UL << 40) == -EINVAL, "a pfn beyond memory");
	CHECK(ksm_set_run(3) == -EINVAL, "run=3");
	CHECK(ksm_fix_set(NR_FIXES, false) == -EINVAL, "fix out of range");
	CHECK(ksm_set_era(NR_ERAS) == -EINVAL, "era out of range");
	CHECK(sim_process_exit(a) == 0 && sim_process_exit(a) == -EINVAL,
	      "a second exit");
	CHECK(sim_process_create("big", 1UL << 30) == NULL, "a huge process");
	finish(__func__);
}

/* The auditor must see a wrong state: here, a lost merge is simulated by
 * a corruption hook, and an unmergeable era change is refused. */
static void test_auditor_notices(void)
{
	struct audit_report r;

	start(ERA_KEYHOLE);
	sim_process_fill(sim_process_create("A", 1), 0, 'z');
	CHECK(sim_selftest_corrupt(0) == 0, "corrupt hook");
	CHECK(audit_machine(&r, false) > 0 && r.count[AUDIT_REFCOUNT],
	      "a raised refcount went unnoticed");
	CHECK(sim_selftest_corrupt(1) == 0, "repair hook");
	finish(__func__);
}

/* Offline moves every page out and removes the section; bytes survive. */
static void test_offline_online(void)
{
	struct sim_mem_stats st;
	struct mm_struct *a;
	unsigned long i;
	long pfn;

	start(ERA_HOTREMOVE);
	a = sim_process_create("A", 8);
	for (i = 0; i < 8; i++)
		sim_process_fill(a, i, 'a' + (int)i);
	pfn = sim_process_pfn(a, 3);
	CHECK(pfn >= 0 && pfn < 256, "A's pages start in section 0");
	CHECK(sim_offline_section(0) == 0, "offline of section 0");
	sim_mem_stats(0, &st);
	CHECK(st.nr_offline == 256 && !st.nr_used, "section 0 is gone");
	CHECK(sim_process_pfn(a, 3) >= 256, "A's page moved out");
	CHECK(sim_process_verify(a, true) == 0, "bytes after offline");
	CHECK(sim_page_count((unsigned long)pfn) == -EINVAL,
	      "a removed frame is not valid");
	CHECK(sim_offline_section(0) == -EINVAL, "offline twice");
	CHECK(sim_online_section(0) == 0, "online again");
	sim_mem_stats(0, &st);
	CHECK(st.nr_free == 256, "every frame of it free");
	finish(__func__);
}

/* A cancelled offline leaves the machine as it was. */
static void test_offline_cancelled(void)
{
	struct ksm_counters before, after;
	struct sim_mem_stats st;
	struct mm_struct *a, *b;
	long pfn[4], pin;
	int i;

	start(ERA_HOTREMOVE);
	a = sim_process_create("A", 4);
	b = sim_process_create("B", 4);
	for (i = 0; i < 4; i++) {
		sim_process_fill(a, (unsigned long)i, 'k');
		sim_process_fill(b, (unsigned long)i, 'k' + i);
	}
	sim_process_madvise(a, true);
	sim_process_madvise(b, true);
	ksm_scan_full(2);
	ksm_get_counters(&before);
	for (i = 0; i < 4; i++)
		pfn[i] = sim_process_pfn(b, (unsigned long)i);
	pin = sim_pin_page(b, 2);
	CHECK(pin >= 0, "pin");
	CHECK(sim_offline_section(0) == -EBUSY, "the pinned page stops it");
	sim_mem_stats(0, &st);
	CHECK(!st.nr_offline, "section 0 stays online");
	ksm_get_counters(&after);
	CHECK(before.pages_shared == after.pages_shared &&
	      before.pages_sharing == after.pages_sharing,
	      "KSM counters unchanged");
	CHECK(sim_process_pfn(b, 2) == pfn[2], "the pinned page did not move");
	CHECK(sim_unpin_page((unsigned long)pin) == 0, "unpin");
	ksm_scan_full(1);		/* ksmd runs again */
	CHECK(sim_offline_section(0) == 0, "offline once unpinned");
	CHECK(sim_process_verify(a, true) == 0 &&
	      sim_process_verify(b, true) == 0, "bytes");
	finish(__func__);
}

/* mbind moves pages to a node; seed 004 leaves KSM pages where they are. */
static void test_numa(enum ksm_era era, const char *name)
{
	struct mm_struct *a, *b;

	start(era);
	a = sim_process_create("A", 2);
	b = sim_process_create("B", 1);
	sim_process_fill(a, 0, 's');
	sim_process_fill(a, 1, 'o');
	sim_process_fill(b, 0, 's');
	sim_process_madvise(a, true);
	sim_process_madvise(b, true);
	ksm_scan_full(2);
	CHECK(sim_process_pfn(a, 0) == sim_process_pfn(b, 0), "%s: merged",
	      name);
	CHECK(sim_mbind(a, 1, true) == 0, "%s: mbind", name);
	CHECK(sim_page_node(a, 1) == 1, "%s: A's own page moved", name);
	if (era == ERA_HOTREMOVE) {
		CHECK(sim_page_node(a, 0) == -ENOENT,
		      "%s: move_pages reports a KSM page as absent", name);
	} else {
		CHECK(sim_page_node(a, 0) == 1,
		      "%s: the KSM page moves too (2013)", name);
		CHECK(sim_page_node(b, 0) == 1, "%s: for B as well", name);
	}
	CHECK(sim_process_verify(a, true) == 0 &&
	      sim_process_verify(b, true) == 0, "%s: bytes", name);
	finish(name);
}

/*
 * A snapshot puts everything back - processes, KSM's trees, the swap
 * device, a section taken away - and the machine runs on from it.
 */
static void test_snapshot(void)
{
	struct ksm_counters c0, c1;
	struct sim_mem_stats m0, m1;
	struct audit_report r;
	struct mm_struct *a, *b, *c;
	unsigned long i;
	uint64_t digest;
	int err, round;

	start(ERA_MIGRATION);
	a = sim_process_create("A", 8);
	b = sim_process_create("B", 8);
	for (i = 0; i < 8; i++) {
		sim_process_fill(a, i, i < 4 ? 'k' : 'a' + (int)i);
		sim_process_fill(b, i, i < 4 ? 'k' : 'A' + (int)i);
	}
	sim_process_madvise(a, true);
	sim_process_madvise(b, true);
	ksm_scan_full(2);
	sim_reclaim_process_page(a, 6);		/* one page out on swap */
	err = sim_snapshot_take();
	if (err == -EOPNOTSUPP) {
		sim_exit();
		printf("ok %s (no snapshots under a sanitizer)\n", __func__);
		return;
	}
	CHECK(!err, "sim_snapshot_take: %d", err);
	ksm_get_counters(&c0);
	sim_mem_stats(-1, &m0);
	digest = sim_selftest_state_digest();
	for (round = 0; round < 3; round++) {
		sim_process_fill(a, 0, 'x');		/* breaks COW */
		sim_process_fill(a, 6, 'y');		/* swaps in */
		sim_reclaim_process_page(b, 7);		/* swaps out */
		sim_process_exit(b);
		c = sim_process_create("C", 16);	/* reuses B's frames */
		for (i = 0; i < 16; i++)
			sim_process_fill(c, i, 'c');
		ksm_scan_full(1);
		CHECK(sim_offline_section(0) == 0, "offline, round %d", round);
		CHECK(sim_selftest_state_digest() != digest,
		      "the round changed nothing, round %d", round);
		sim_snapshot_restore();
		CHECK(sim_selftest_state_digest() == digest,
		      "the state after restore differs, round %d", round);
		ksm_get_counters(&c1);
		sim_mem_stats(-1, &m1);
		CHECK(!memcmp(&c0, &c1, sizeof(c0)), "KSM counters, round %d",
		      round);
		CHECK(m0.nr_free == m1.nr_free && m0.nr_used == m1.nr_used &&
		      m0.nr_offline == m1.nr_offline, "frames, round %d",
		      round);
		CHECK(sim_process_verify(a, true) == 0 &&
		      sim_process_verify(b, true) == 0, "bytes, round %d",
		      round);
		CHECK(!audit_machine(&r, false), "audit, round %d", round);
	}
	CHECK(sim_process_pfn(a, 0) == sim_process_pfn(b, 0),
	      "A and B still share page 0");
	sim_process_fill(b, 1, 'z');			/* and it runs on */
	ksm_scan_full(2);
	sim_snapshot_drop();
	CHECK(sim_process_verify(b, true) == 0, "bytes after");
	finish(__func__);
}

/*
 * Files: a shared mapping faults the page cache in, writes dirty it, the
 * flusher writes it back, a fork shares it, migration moves it with its
 * buffer heads and the node counters; and bad arguments are refused.
 */
static void test_file_pages(void)
{
	struct address_space *f;
	struct mm_struct *m, *c;
	unsigned long pages, dirty, pages1;
	unsigned char buf[4096];
	long pfn;

	start(ERA_MIGRATION);
	CHECK(!sim_file_create(NULL, 1, 0, true) &&
	      !sim_file_create("f", 0, 0, true), "bad files accepted");
	f = sim_file_create("f", 4, 'F', true);
	m = sim_process_map_file("m", f);
	CHECK(f && m, "file or mapping failed");
	CHECK(sim_process_madvise(m, true) == -EINVAL,
	      "a file mapping made mergeable");
	CHECK(sim_file_pfn(f, 1) == -ENOENT && sim_file_pfn(f, 4) == -EINVAL,
	      "an uncached or out-of-range page has a pfn");
	CHECK(sim_process_write(m, 1, 0, "hello", 5) == 0, "write failed");
	pfn = sim_file_pfn(f, 1);
	CHECK(pfn >= 0 && pfn == sim_process_pfn(m, 1),
	      "the mapping does not map the cached page");
	sim_node_file_stats(0, &pages, &dirty);
	CHECK(pages == 1 && dirty == 1, "counters %lu %lu after one write",
	      pages, dirty);
	CHECK(sim_file_read(f, 1, buf) == 0 && !memcmp(buf, "helloF", 6),
	      "read(2) does not see the write");
	c = sim_process_fork(m, "c");
	CHECK(c && sim_process_pfn(c, 1) == pfn, "the fork does not share");
	CHECK(sim_process_write(c, 1, 0, "J", 1) == 0 &&
	      sim_process_pfn(c, 1) == pfn, "a shared write copied the page");
	CHECK(sim_file_writeback(f) == 1, "writeback wrote no page");
	sim_node_file_stats(0, &pages, &dirty);
	CHECK(dirty == 0, "still %lu dirty after writeback", dirty);
	CHECK(sim_migrate_pfn((unsigned long)pfn, 1, false) == 0,
	      "migration of a file page failed");
	CHECK(sim_file_pfn(f, 1) != pfn && sim_process_pfn(m, 1) ==
	      sim_file_pfn(f, 1), "the cache or the pte still names the old "
	      "page");
	sim_node_file_stats(1, &pages1, NULL);
	CHECK(pages1 == 1, "NR_FILE_PAGES did not move to node 1");
	CHECK(sim_file_verify(f, true) == 0, "the file lost bytes");
	CHECK(sim_file_destroy(f) == -EBUSY, "destroyed while mapped");
	sim_process_exit(c);
	sim_process_exit(m);
	CHECK(sim_file_destroy(f) == 0, "destroy failed");
	CHECK(sim_file_destroy(f) == -EINVAL, "destroyed twice");
	finish(__func__);
}

/*
 * Exchange: anon<->file both ways, with and without buffer heads,
 * anon<->anon, a dirty page without migratepage written out first
 * (-EAGAIN, then done), two file pages refused, other eras refused; the
 * bytes follow the identities.
 */
static void test_exchange(void)
{
	struct address_space *f, *g;
	struct mm_struct *m, *n, *a;
	unsigned char buf[4096];
	long pa, pf;
	int i;

	start(ERA_MIGRATION);
	a = sim_process_create("a", 1);
	sim_process_fill(a, 0, 'a');
	CHECK(sim_exchange_pages(a, 0, a, 0) == -EINVAL, "a page with itself");
	CHECK(sim_exchange_pfns(0, 1) == -EOPNOTSUPP,
	      "exchange outside its era");
	sim_exit();

	start(ERA_EXCHANGE);
	f = sim_file_create("f", 4, 'F', true);
	g = sim_file_create("g", 4, 'G', false);
	m = sim_process_map_file("m", f);
	n = sim_process_map_file("n", g);
	a = sim_process_create("a", 4);
	CHECK(f && g && m && n && a, "setup failed");
	for (i = 0; i < 4; i++) {
		sim_process_fill(a, i, 'a' + i);
		sim_process_read(m, i, 0, buf, 1);
		sim_process_read(n, i, 0, buf, 1);
	}
	pa = sim_process_pfn(a, 0);
	pf = sim_file_pfn(f, 0);
	CHECK(sim_exchange_pages(a, 0, m, 0) == 0, "anon<->file failed");
	CHECK(sim_process_pfn(a, 0) == pf && sim_file_pfn(f, 0) == pa &&
	      sim_process_pfn(m, 0) == pa, "the identities did not move");
	CHECK(sim_exchange_pages(m, 1, a, 1) == 0, "file<->anon failed");
	CHECK(sim_exchange_pages(a, 2, a, 3) == 0, "anon<->anon failed");
	CHECK(sim_exchange_pages(a, 0, n, 0) == 0, "anon<->file (no "
	      "buffers) failed");
	sim_process_fill(n, 1, 'z');
	CHECK(sim_exchange_pages(a, 1, n, 1) == -EAGAIN, "a dirty page with "
	      "no migratepage was not written out first");
	CHECK(sim_exchange_pages(a, 1, n, 1) == 0, "the clean page failed");
	CHECK(sim_exchange_pages(m, 2, n, 2) == -EINVAL, "file<->file done");
	CHECK(sim_file_read(f, 0, buf) == 0 && buf[0] == 'F' &&
	      sim_file_read(g, 1, buf) == 0 && buf[0] == 'z',
	      "read(2) after the exchanges");
	CHECK(sim_process_read(a, 3, 0, buf, 1) == 0 && buf[0] == 'd',
	      "the process's bytes after the exchanges");
	CHECK(sim_process_verify(a, true) == 0 && sim_file_verify(f, true) == 0
	      && sim_file_verify(g, true) == 0, "bytes lost");
	finish(__func__);
}

/*
 * Library calls given an invalid pfn, range, process, file, site or node
 * return an error code and never crash.
 */
static void test_bad_library_calls(void)
{
	struct sim_activity act;
	struct sim_mem_stats st;
	struct address_space *f;
	struct mm_struct *a;
	unsigned char buf[4096];
	unsigned long huge = 1UL << 40, sections;
	long pfn;
	int nodes;

	start(ERA_EXCHANGE);
	a = sim_process_create("A", 1);
	f = sim_file_create("F", 1, 'F', true);
	CHECK(a && f, "setup failed");
	CHECK(sim_exchange_pfns(huge, 0) == -EINVAL &&
	      sim_exchange_pfns(0, huge) == -EINVAL, "exchange of a bad pfn");
	CHECK(sim_exchange_pages(NULL, 0, a, 0) == -EINVAL &&
	      sim_exchange_pages(a, 7, a, 0) == -EINVAL,
	      "exchange of a bad process or page");
	CHECK(sim_exchange_pages(a, 0, a, 0) == -ENOENT, "exchange of a page "
	      "never touched");
	CHECK(sim_pfn_walk(huge) == -EINVAL, "pfn walk beyond memory");
	CHECK(sim_migrate_pfn(huge, 0, false) == -EINVAL &&
	      sim_migrate_pfn(0, 99, false) == -EINVAL, "migration of a bad "
	      "pfn or to a bad node");
	/* Each range at its first value out, and its last value in. */
	nodes = (int)sim_get_config()->nr_nodes;
	sections = sim_get_config()->nr_sections;
	sim_process_fill(a, 0, 'a');
	pfn = sim_process_pfn(a, 0);
	CHECK(sim_migrate_pfn((unsigned long)pfn, nodes, false) == -EINVAL &&
	      sim_mbind(a, nodes, false) == -EINVAL, "node %d", nodes);
	CHECK(sim_offline_section(sections) == -EINVAL &&
	      sim_online_section(sections) == -EINVAL &&
	      sim_compact_section(sections) == -EINVAL, "section %lu",
	      sections);
	CHECK(sim_page_node(a, 0) == 0 &&
	      !sim_migrate_pfn((unsigned long)pfn, 0, false) &&
	      sim_process_pfn(a, 0) != pfn && sim_page_node(a, 0) == 0,
	      "a page of node 0 migrated to node 0 is on node %d",
	      sim_page_node(a, 0));
	CHECK(!sim_migrate_pfn((unsigned long)sim_process_pfn(a, 0),
			       nodes - 1, false) &&
	      sim_page_node(a, 0) == nodes - 1, "to node %d", nodes - 1);
	CHECK(!sim_mbind(a, 0, true) && sim_page_node(a, 0) == 0, "mbind to "
	      "node 0: the page is on node %d", sim_page_node(a, 0));
	CHECK(sim_migrate_pfn((unsigned long)pfn, 0, false) == -EBUSY,
	      "migration of a free frame (not on the LRU)");
	CHECK(sim_offline_section(9999) == -EINVAL &&
	      sim_online_section(9999) == -EINVAL && sim_online_section(0) ==
	      -EINVAL, "offline or online of a bad section");
	CHECK(sim_compact_section(9999) == -EINVAL, "compaction of a bad "
	      "section");
	CHECK(sim_pin_page(NULL, 0) < 0 && sim_pin_page(a, 5) < 0 &&
	      sim_unpin_page(huge) == -EINVAL, "pins of bad pages");
	CHECK(sim_mbind(NULL, 0, false) < 0 && sim_mbind(a, 99, false) < 0,
	      "mbind of a bad process or to a bad node");
	CHECK(sim_process_set_node(a, -1) == -EINVAL, "node -1");
	CHECK(sim_process_fork(NULL, "x") == NULL && sim_process_fork(a, NULL)
	      == NULL, "a bad fork");
	CHECK(sim_process_map_file("m", NULL) == NULL &&
	      sim_process_map_file(NULL, f) == NULL, "a bad file mapping");
	CHECK(sim_file_read(NULL, 0, buf) == -EINVAL &&
	      sim_file_read(f, 1, buf) == -EINVAL && sim_file_read(f, 0, NULL)
	      == -EINVAL, "read(2) with bad arguments");
	CHECK(sim_file_writeback(NULL) == -EINVAL && sim_file_verify(NULL,
	      false) == -EINVAL && sim_file_pfn(NULL, 0) == -EINVAL &&
	      sim_file_cache_page(f, 0, 99) == -EINVAL &&
	      sim_file_cache_page(f, 9, 0) == -EINVAL, "bad file calls");
	CHECK(sim_file_destroy((struct address_space *)buf) == -EINVAL,
	      "destroy of a pointer that is no file");
	CHECK(sim_node_file_stats(99, NULL, NULL) == -EINVAL, "node 99");
	CHECK(sim_fail_nth(NR_FAIL_SITES, 1) == -EINVAL &&
	      sim_fail_random(101, 0) == -EINVAL &&
	      sim_fail_site_name(NR_FAIL_SITES) == NULL &&
	      sim_fail_site_by_name("nothing") == -1, "bad failure sites");
	CHECK(sim_get_activity(NULL) == -EINVAL && sim_mem_stats(9999, &st) ==
	      -EINVAL && sim_mem_stats(0, NULL) == -EINVAL, "bad stats calls");
	CHECK(sim_get_activity(&act) == 0, "activity");
	finish(__func__);
}

/*
 * ksmd's checksum (calc_checksum(), jhash2 in the kernel) tells a page
 * that changed since the last scan from one that did not: a change it
 * missed would let a page still being written into the unstable tree.
 * Every single-bit change of a page, at any of its bits, changes it; and
 * it is a fixed function of the bytes alone, the same on every run and
 * every host: the value of one page is pinned here, so that a change to
 * the function is a change a reviewer sees.
 */
static void test_checksum(void)
{
	static unsigned char page[4096];
	struct mm_struct *a;
	unsigned int base, sum;
	unsigned long bit, missed = 0;
	long pfn;
	size_t i;

	start(ERA_MIGRATION);
	a = sim_process_create("A", 1);
	for (i = 0; i < sizeof(page); i++)
		page[i] = (unsigned char)(i * 7 + 3);
	CHECK(a && !sim_process_write(a, 0, 0, page, sizeof(page)), "A");
	pfn = sim_process_pfn(a, 0);
	CHECK(pfn >= 0, "A's page");
	base = sim_frame_checksum((unsigned long)pfn);
	CHECK(base == 0x76c748c2u, "the checksum of the pinned page is %#x", base);
	for (bit = 0; bit < 8 * sizeof(page); bit++) {
		unsigned char b = page[bit / 8] ^ (unsigned char)(1u << bit % 8);

		sim_process_write(a, 0, bit / 8, &b, 1);
		sum = sim_frame_checksum((unsigned long)pfn);
		missed += sum == base;
		sim_process_write(a, 0, bit / 8, &page[bit / 8], 1);
	}
	CHECK(!missed, "%lu single-bit changes leave the checksum as it was",
	      missed);
	CHECK(sim_frame_checksum((unsigned long)pfn) == base, "restored");
	finish(__func__);
}

/*
 * Freed stable nodes and rmap_items wait in a quarantine of 65536 (as
 * KASAN's) before they are really freed, so that a use after free finds
 * poison, not a new object.  More frees than that, and the oldest leave
 * it, really freed: 130 rounds of merging 512 pages and unmerging them
 * all (run=2) free some 66,000 rmap_items, and every one must be freed
 * in the end, exactly once (the teardown's count of what was never
 * freed, and the allocator's free lists, intact, for the next round).
 */
static void test_quarantine_wraps(void)
{
	struct ksm_counters c;
	struct mm_struct *a;
	unsigned long i;
	int round;

	start(ERA_MIGRATION);
	a = sim_process_create("A", 512);
	CHECK(a, "A");
	for (i = 0; i < 512; i++)
		sim_process_fill(a, i, 'q');
	CHECK(!sim_process_madvise(a, true), "madvise");
	for (round = 0; round < 130; round++) {
		CHECK(!ksm_set_run(1), "run=1");
		ksm_scan_full(2);
		ksm_get_counters(&c);
		CHECK(c.pages_shared == 1 && c.pages_sharing == 511, "round %d: "
		      "%lu shared, %lu sharing", round, c.pages_shared,
		      c.pages_sharing);
		CHECK(!ksm_set_run(2), "run=2, round %d", round);
	}
	CHECK(!sim_process_verify(a, true), "bytes");
	finish(__func__);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--help")) {
		printf("Usage: %s\n\nRuns the unit tests of the machine's parts; prints \"ok NAME\" or "
		       "\"FAIL NAME: why\" for each,\nand exits with the number "
		       "of failures.\n", argv[0]);
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "%s: takes no arguments\nusage: %s [--help]\n",
			argv[0], argv[0]);
		return 2;
	}
	test_rbtree();
	test_checksum();
	test_quarantine_wraps();
	test_prompt_reuse();
	test_cow_fork_exit();
	test_swap_roundtrip();
	test_swap_full_frees_slot();
	test_swap_reuse_on_write();
	test_ksm_page_reclaim(ERA_KEYHOLE, "ksm_page_reclaim_keyhole");
	test_ksm_page_reclaim(ERA_PINNED, "ksm_page_reclaim_pinned");
	test_bad_arguments();
	test_auditor_notices();
	test_offline_online();
	test_offline_cancelled();
	test_numa(ERA_HOTREMOVE, "numa_hotremove");
	test_numa(ERA_MIGRATION, "numa_migration");
	test_snapshot();
	test_file_pages();
	test_exchange();
	test_bad_library_calls();
	return check_status();
}

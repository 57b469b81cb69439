// SPDX-License-Identifier: GPL-2.0
/*
 * lines.c - what single lines of the KSM core and of the machine paths it
 * stands on do, pinned down one by one: the lines that make mutants-all's
 * mutants (walkthrough.md, chapter 9) found doing something that no other
 * test looked at.  Each test says, in its comment, which lines it holds
 * and what would tell a change to them apart: an error a call returns, a
 * count the kernel would show, a page kept or reclaimed, the bytes a
 * process or a file reads back.
 *
 * Each test prints "ok NAME" or "FAIL NAME: why"; the auditor runs after
 * each; the exit status is the number of failures (at most 100), 2 for bad
 * arguments.
 */
#define _POSIX_C_SOURCE 200809L		/* fmemopen() */
#include <errno.h>
#include <pthread.h>
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
		sim_fail_nth(FAIL_PAGE, 0);				\
		sim_exit();						\
		return;							\
	}								\
} while (0)

/** A machine of 4 sections on 2 nodes, in \a era. */
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

/** A mergeable process of \a n pages, each filled with \a byte. */
static struct mm_struct *process(const char *name, unsigned long n, int byte)
{
	struct mm_struct *mm = sim_process_create(name, n);
	unsigned long i;

	for (i = 0; mm && i < n; i++)
		sim_process_fill(mm, i, byte);
	if (mm)
		sim_process_madvise(mm, true);
	return mm;
}

/** What the machine has done so far. */
static struct sim_activity activity(void)
{
	struct sim_activity a;

	sim_get_activity(&a);
	return a;
}

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
	CHECK(!sim_migrate_pfn((unsigned long)pfn, 1, false), "migrate");
	CHECK(activity().migrations == before.migrations + 1, "migrations");
	CHECK(!sim_reclaim_process_page(a, 0), "reclaim");
	CHECK(activity().swap_outs == before.swap_outs + 1, "swap-outs");
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
	struct mm_struct *a, *gone;
	const unsigned long ps = 4096;

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
	test_migrate_on_fault_one_node();
	test_printable();
	test_concurrent_processes();
	printf("%d failure%s\n", failures, failures == 1 ? "" : "s");
	return failures > 100 ? 100 : failures;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * merge_tour.c - the scenarios of the kernel's KSM selftests
 * (tools/testing/selftests/vm/ksm_tests.c and friends), replayed on the
 * simulated machine, with the counters printed as /sys/kernel/mm/ksm
 * shows them and checked against what the selftests expect.
 *
 *   merge        N identical pages: pages_shared 1, pages_sharing N-1
 *   unmerge      a write to each merged page unshares it: 0 and 0
 *   cow          a write to one of N merged pages: 1 and N-2
 *   zero         zero-filled pages merge too (use_zero_pages off): 1, N-1
 *   across       identical pages in two processes merge: 1 and 1
 *   fork         a forked child shares the KSM page, then breaks it by
 *                writing: 1 and 2N-1, then 1 and 2N-2
 *   unmergeable  MADV_UNMERGEABLE undoes merging: 0 and 0
 *   run2         echo 2 > run unmerges everything: 0 and 0
 *
 * Each scenario starts on a fresh machine, ends with every process
 * checking its bytes and the auditor checking every invariant.  Exit 0
 * if every scenario matched, 1 if any did not, 2 for bad arguments.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/** The command line, and the tally of the scenarios. */
struct tour {
	struct ex_opts o;		/**< the common options */
	unsigned long pages;		/**< --pages: N of the scenarios */
	const char *only;		/**< --only: the one to run, or NULL */
	unsigned int failed,		/**< scenarios that did not match */
		run;			/**< scenarios run */
};

/** Expected counters after a step. */
struct expect {
	unsigned long shared,		/**< pages_shared */
		sharing;		/**< pages_sharing */
};

/** Print the counters as sysfs would; return whether they match. */
static bool check_counters(struct tour *t, const char *when,
			   struct expect want)
{
	struct ksm_counters c;
	bool ok;

	ksm_get_counters(&c);
	ok = c.pages_shared == want.shared && c.pages_sharing == want.sharing;
	if (!t->o.quiet) {
		printf("  %s:\n", when);
		printf("    /sys/kernel/mm/ksm/pages_shared   %lu%s\n",
		       c.pages_shared, c.pages_shared == want.shared ? "" :
		       "   <- expected differently");
		printf("    /sys/kernel/mm/ksm/pages_sharing  %lu%s\n",
		       c.pages_sharing, c.pages_sharing == want.sharing ? "" :
		       "   <- expected differently");
		printf("    /sys/kernel/mm/ksm/pages_unshared %lu\n",
		       c.pages_unshared);
		printf("    /sys/kernel/mm/ksm/pages_volatile %lu\n",
		       c.pages_volatile);
		printf("    /sys/kernel/mm/ksm/full_scans     %lu\n",
		       c.full_scans);
	}
	if (!ok)
		printf("  FAIL: %s: expected pages_shared %lu, pages_sharing "
		       "%lu; got %lu and %lu\n", when, want.shared,
		       want.sharing, c.pages_shared, c.pages_sharing);
	return ok;
}

/** A process with \a n pages, each filled with \a byte, made mergeable. */
static struct mm_struct *filled(const char *name, unsigned long n, int byte)
{
	struct mm_struct *mm = sim_process_create(name, n);
	unsigned long i;

	if (!mm) {
		fprintf(stderr, "cannot create a process of %lu pages\n", n);
		exit(EX_FAIL);
	}
	for (i = 0; i < n; i++)
		if (sim_process_fill(mm, i, byte)) {
			fprintf(stderr, "out of simulated memory\n");
			exit(EX_FAIL);
		}
	sim_process_madvise(mm, true);
	return mm;
}

/** Scan as the selftests wait: two more full scans. */
static void wait_two_full_scans(void)
{
	ksm_scan_full(2);
}

typedef bool (*scenario_fn)(struct tour *t);

static bool sc_merge(struct tour *t)
{
	filled("A", t->pages, '*');
	wait_two_full_scans();
	return check_counters(t, "after two full scans",
			      (struct expect){ 1, t->pages - 1 });
}

static bool sc_unmerge(struct tour *t)
{
	struct mm_struct *a = filled("A", 2, '*');
	bool ok;

	wait_two_full_scans();
	ok = check_counters(t, "merged", (struct expect){ 1, 1 });
	/* Change one byte in each: KSM must unmerge them by itself. */
	sim_process_write(a, 0, 0, "-", 1);
	sim_process_write(a, 1, 0, "+", 1);
	wait_two_full_scans();
	return check_counters(t, "after a write to each",
			      (struct expect){ 0, 0 }) && ok;
}

static bool sc_cow(struct tour *t)
{
	struct mm_struct *a = filled("A", t->pages, '*');
	bool ok;

	wait_two_full_scans();
	ok = check_counters(t, "merged",
			    (struct expect){ 1, t->pages - 1 });
	sim_process_write(a, 0, 0, "x", 1);
	wait_two_full_scans();
	return check_counters(t, "after a write to page 0",
			      (struct expect){ 1, t->pages - 2 }) && ok;
}

static bool sc_zero(struct tour *t)
{
	filled("A", t->pages, 0);
	wait_two_full_scans();
	return check_counters(t, "zero-filled pages, two full scans",
			      (struct expect){ 1, t->pages - 1 });
}

static bool sc_across(struct tour *t)
{
	filled("A", 1, 'q');
	filled("B", 1, 'q');
	wait_two_full_scans();
	return check_counters(t, "one identical page in each of A and B",
			      (struct expect){ 1, 1 });
}

static bool sc_fork(struct tour *t)
{
	struct mm_struct *a = filled("parent", t->pages, '*'), *b;
	bool ok;

	wait_two_full_scans();
	ok = check_counters(t, "parent merged",
			    (struct expect){ 1, t->pages - 1 });
	b = sim_process_fork(a, "child");
	if (!b)
		return false;
	wait_two_full_scans();
	ok &= check_counters(t, "child forked, its ptes found by ksmd",
			     (struct expect){ 1, 2 * t->pages - 1 });
	sim_process_write(b, 0, 0, "c", 1);
	wait_two_full_scans();
	return check_counters(t, "child wrote page 0 (copy-on-write)",
			      (struct expect){ 1, 2 * t->pages - 2 }) && ok;
}

static bool sc_unmergeable(struct tour *t)
{
	struct mm_struct *a = filled("A", t->pages, '*');
	bool ok;

	wait_two_full_scans();
	ok = check_counters(t, "merged",
			    (struct expect){ 1, t->pages - 1 });
	sim_process_madvise(a, false);
	wait_two_full_scans();
	return check_counters(t, "after MADV_UNMERGEABLE",
			      (struct expect){ 0, 0 }) && ok;
}

static bool sc_run2(struct tour *t)
{
	bool ok;

	filled("A", t->pages, '*');
	filled("B", t->pages, '*');
	wait_two_full_scans();
	ok = check_counters(t, "merged",
			    (struct expect){ 1, 2 * t->pages - 1 });
	ksm_set_run(2);
	return check_counters(t, "after echo 2 > /sys/kernel/mm/ksm/run",
			      (struct expect){ 0, 0 }) && ok;
}

static const struct {
	const char *name;
	scenario_fn fn;
	const char *what;
} scenarios[] = {
	{ "merge", sc_merge, "N identical pages merge into one KSM page" },
	{ "unmerge", sc_unmerge, "writes to merged pages unshare them" },
	{ "cow", sc_cow, "a write to one merged page copies it" },
	{ "zero", sc_zero, "zero-filled pages merge too" },
	{ "across", sc_across, "identical pages of two processes merge" },
	{ "fork", sc_fork, "fork shares the KSM page, then copy-on-write" },
	{ "unmergeable", sc_unmergeable, "MADV_UNMERGEABLE undoes merging" },
	{ "run2", sc_run2, "run=2 unmerges everything" },
};
#define NR_SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

static void run_one(struct tour *t, unsigned int i)
{
	bool ok;
	unsigned long bad;

	ex_start(&t->o);
	if (!t->o.quiet)
		printf("\n== %s: %s (era %s)\n", scenarios[i].name,
		       scenarios[i].what, ksm_era_name(ksm_get_era()));
	ok = scenarios[i].fn(t);
	bad = ex_audit("after the scenario", NULL);
	if (bad)
		ok = false;
	if (!t->o.quiet || !ok)		/* --quiet: the verdict, and failures */
		printf("%s: %s\n", scenarios[i].name, ok ? "ok" : "FAILED");
	t->failed += !ok;
	t->run++;
	sim_exit();
}

static bool tour_takes_value(const char *name)
{
	return ex_common_takes_value(name) || !strcmp(name, "pages") ||
	       !strcmp(name, "only");
}

static void usage(const char *prog)
{
	unsigned int i;

	printf("Usage: %s [options]\n\n"
	       "Replays the kernel KSM selftests' scenarios on the simulated "
	       "machine.\n\n"
	       "  --pages N          identical pages per scenario (2..4096, "
	       "default 10)\n"
	       "  --only NAME        run one scenario:", prog);
	for (i = 0; i < NR_SCENARIOS; i++)
		printf(" %s", scenarios[i].name);
	printf("\n\n%s", ex_common_help);
	exit(EX_PASS);
}

static void tour_option(void *ctx, const char *name, const char *val)
{
	struct tour *t = ctx;
	unsigned int i;

	if (!strcmp(name, "help"))
		usage(t->o.prog);
	if (ex_common_option(&t->o, name, val))
		return;
	if (!strcmp(name, "pages")) {
		t->pages = ex_parse_ulong(t->o.prog, name, val, 2, 4096);
	} else if (!strcmp(name, "only")) {
		for (i = 0; i < NR_SCENARIOS; i++)
			if (!strcmp(val, scenarios[i].name))
				break;
		if (i == NR_SCENARIOS)
			ex_usage_error(t->o.prog, "unknown scenario '%s'",
				       val);
		t->only = val;
	} else {
		ex_usage_error(t->o.prog, "unknown option '--%s'", name);
	}
}

int main(int argc, char **argv)
{
	struct tour t = { .o.prog = argv[0], .pages = 10 };
	unsigned int i;

	ex_parse_args(argc, argv, &t, tour_takes_value, tour_option, NULL);
	t.o.cfg.nr_sections = 4;
	if (!t.o.era_set)
		t.o.cfg.era = ERA_KEYHOLE;
	for (i = 0; i < NR_SCENARIOS; i++)
		if (!t.only || !strcmp(t.only, scenarios[i].name))
			run_one(&t, i);
	printf("merge tour: %u of %u scenarios as the selftests expect\n",
	       t.run - t.failed, t.run);
	return t.failed ? EX_FAIL : EX_PASS;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * check.h - the harness the test programs share (unit.c, paths.c,
 * lines*.c): a machine started in an era, CHECK() to give up on a test
 * with its reason, finish() to audit what the test left and say
 * "ok NAME", and the few calls every test makes (a process, the
 * counters, the activity).  A program counts its failures in `failures` and exits with
 * their number, at most 100.
 *
 * Each program includes this once, after ../ksm_ref.h; it is not a
 * library, so its functions are static.
 */
#ifndef KSM_REF_TESTS_CHECK_H
#define KSM_REF_TESTS_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#include "../ksm_ref.h"

static int failures;

/*
 * If \a cond does not hold: "FAIL test: why (where)", a failure counted,
 * and the test given up, its machine torn down (whatever it was doing)
 * and any failure it had armed disarmed, so the next test starts clean.
 */
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

/** A machine of 4 sections on 2 nodes, in \a era, quiet. */
static inline void start(enum ksm_era era)
{
	struct sim_config cfg = { .nr_sections = 4, .era = era };

	if (sim_init(&cfg)) {
		printf("FAIL: sim_init\n");
		exit(1);
	}
	sim_set_quiet(true);
}

/**
 * The audit, then the machine torn down; "ok NAME" if all was well: no
 * violation, and nothing the teardown could not reach (a leak).
 */
static inline void finish(const char *name)
{
	unsigned long bad = audit_machine(NULL, true), lost;

	sim_exit();
	lost = sim_leaked_objects();
	if (bad) {
		printf("FAIL %s: the auditor found %lu violations\n", name,
		       bad);
		failures++;
		return;
	}
	if (lost) {
		printf("FAIL %s: %lu objects were never freed\n", name, lost);
		failures++;
		return;
	}
	printf("ok %s\n", name);
}

/** A mergeable process of \a n pages, each filled with \a byte. */
static inline struct mm_struct *process(const char *name, unsigned long n,
					int byte)
{
	struct mm_struct *mm = sim_process_create(name, n);
	unsigned long i;

	for (i = 0; mm && i < n; i++)
		sim_process_fill(mm, i, byte);
	if (mm)
		sim_process_madvise(mm, true);
	return mm;
}

/** KSM's counters now. */
static inline struct ksm_counters counters(void)
{
	struct ksm_counters c;

	ksm_get_counters(&c);
	return c;
}

/** What the machine has done so far. */
static inline struct sim_activity activity(void)
{
	struct sim_activity a;

	sim_get_activity(&a);
	return a;
}

/** The exit status for \a failures failures: their number, at most 100. */
static inline int check_status(void)
{
	printf("%d failure%s\n", failures, failures == 1 ? "" : "s");
	return failures > 100 ? 100 : failures;
}

#endif /* KSM_REF_TESTS_CHECK_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * race_template.c - the start of a new race (walkthrough.md, chapter 12,
 * "Writing your own race").  Copy it to examples/rN_NAME.c (the Makefile
 * builds every file so named into race; this one it leaves alone), then
 * fill in each part: the state, the actors, the script, the check, and
 * the race's entry, RACE(), which registers it.  Nothing else needs to
 * know of it: `race --list` lists it, the tour runs it, `make docs` has
 * it.  As it stands it is a race that cannot go wrong: ksmd merges two
 * pages while nobody else runs.
 */
#include "race.h"

static struct mm_struct *A, *B;

/* 1. The state the race starts from, built before the actors run. */
static void setup(void)
{
	A = race_process("A", 1, 'X', true);	/* one page of 'X' bytes */
	B = race_process("B", 1, 'X', true);	/* ...and its twin */
	ksm_scan_full(1);			/* checksums: nothing merged */
}

/* 2. The actors: each a function, run on a thread of its own. */
static void ksmd(void *arg)
{
	(void)arg;
	ksm_scan_full(1);			/* merges A's and B's pages */
}

static const struct sim_actor_spec actors[] = {
	{ "ksmd", ksmd, NULL },
};

/*
 * 3. The script: who runs until which race window (race --list-windows),
 * in turn; after the last step, everyone runs to the end.
 */
static const struct sim_step script[] = {
	{ "ksmd", "done" },
};

/*
 * 4. The check: what the state must be after the run.  Each thing wrong
 * is a HARM line (race_harm()); the auditor runs after it anyway.
 */
static int check(int err, const struct audit_report *r, bool scripted)
{
	struct ksm_counters c;
	int harm = 0;

	(void)err;
	(void)r;
	ksm_get_counters(&c);
	if (scripted && c.pages_sharing != 1)
		harm += race_harm(HARM_MISSED_MERGE,
				  "A and B were not merged");
	harm += race_check_bytes(A);
	harm += race_check_bytes(B);
	return harm;
}

/* 5. The race itself. */
RACE(race_template) = {
	.id = "R99",
	.title = "the template: ksmd merges two pages, alone",
	.seed = "001",
	.era = ERA_KEYHOLE,
	.eras = ERAS_FROM(ERA_PINNED),
	.chapter = 12,
	.harm = "none: nothing races",
	.fix = -1,
	.story = "two twins, and ksmd merging them while nobody else runs.",
	.setup = setup,
	.actors = actors,
	.nr_actors = 1,
	.script = script,
	.nr_steps = 1,
	.check = check,
};

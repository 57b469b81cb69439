// SPDX-License-Identifier: GPL-2.0
/*
 * r2_reuse.c - R2, and the first check of the keyhole.
 *
 * R2: ksmd peeps through the keyhole of stable node 1 and sees its key:
 * page->mapping names the node.  Before it can take a reference, the KSM
 * page's last mappers exit, the page is freed, and the stranger C faults
 * and gets the very same frame, with a count of 1 again.  ksmd's
 * get_page_unless_zero() now succeeds - on C's page.  Seed 001's answer
 * is to look through the keyhole again once the reference is held: the
 * key is gone, so the node is stale (and nothing is harmed).  Without that
 * recheck, ksmd takes C's private page for the KSM page, finds its bytes
 * equal to D's, and maps D onto it.  When C next writes its own page, D
 * reads bytes it never wrote.
 *
 *	ksmd				A & B			C
 *	================================================================
 *	get_ksm_page(node 1):
 *	  page->mapping == key
 *					exit: KSM page freed,
 *					mapping reset to NULL
 *								fault: gets the
 *								same frame, fills 'X'
 *	  get_page_unless_zero() ok
 *	  [seed 001: recheck mapping:
 *	   stale, remove node 1]
 *	  [without it: merge D into
 *	   C's page]
 *								write 'Y' in place
 *								(D sees 'Y')
 *
 * R2.check: the check before the reference.  If the frame was already
 * C's when ksmd looked, seed 001 never touches its count at all.  Without
 * that first look, ksmd takes a speculative reference on C's page; if
 * reclaim tries to free C's page at that moment, its freeze of the count
 * fails, and the page stays in memory: ksmd, once more, keeps a page from
 * being freed (R1's cost, in miniature).
 */
#include "race.h"

static struct mm_struct *A, *B, *C, *D;

/** A and B share KSM page K (stable node 1); D has the same bytes and is
 * next in ksmd's way; C is a stranger with nothing yet. */
static void setup(void)
{
	A = race_process("A", 1, 'X', true);
	B = race_process("B", 1, 'X', true);
	ksm_scan_full(2);
	D = race_process("D", 1, 'X', true);
	C = race_process("C", 1, -1, false);
}

/** ksmd looks at D's page: it searches the stable tree. */
static void ksmd(void *arg)
{
	(void)arg;
	ksm_scan_pages(4);
}

/** The KSM page's last two mappers exit. */
static void exit_ab(void *arg)
{
	(void)arg;
	sim_process_exit(A);
	sim_process_exit(B);
}

/** The stranger faults in a page of its own, then writes it again. */
static void stranger(void *arg)
{
	(void)arg;
	sim_process_fill(C, 0, 'X');
	sim_pause_point("C:wrote");
	sim_process_fill(C, 0, 'Y');
}

static const struct sim_actor_spec actors[] = {
	{ "ksmd", ksmd, NULL },
	{ "A & B", exit_ab, NULL },
	{ "C", stranger, NULL },
};

/** The scenario's own pause point: C has written its bytes. */
static const char *const r2_pauses[] = { "C:wrote", NULL };

static const struct sim_step script[] = {
	{ "ksmd", "get_ksm_page:peeked" },	/* key seen, no reference */
	{ "A & B", "done" },			/* the KSM page is freed */
	{ "C", "C:wrote" },			/* ...and its frame reused */
	{ "ksmd", "done" },
	{ "C", "done" },			/* C writes its own page */
};

static int check(int err, const struct audit_report *r,
			 bool scripted)
{
	int harm = 0;

	(void)err;
	(void)scripted;
	harm += race_check_bytes(D);
	harm += race_check_bytes(C);
	if (r && r->count[AUDIT_RMAP_PTE])
		harm += race_harm(HARM_WRONG_MAPPING,
				  "D's pte maps the stranger's page, where "
				  "no reverse map can find it");
	return harm;
}

RACE(race_r2) = {
	.id = "R2",
	.title = "a freed KSM page's frame reused between the keyhole check "
		 "and the reference",
	.seed = "001",
	.era = ERA_KEYHOLE,
	.eras = ERAS_FROM(ERA_KEYHOLE),
	.chapter = 3,
	.harm = "D reads bytes it never wrote: a stranger's page merged as "
		 "a KSM page",
	.fix = FIX_KEYHOLE_RECHECK,
	.story = "ksmd sees the key, the page is freed and its frame reused "
		 "by a stranger;\nthe recheck after get_page_unless_zero() "
		 "finds the key gone.",
	.setup = setup,
	.actors = actors,
	.nr_actors = 3,
	.script = script,
	.nr_steps = 5,
	.pauses = r2_pauses,
	.check = check,
};

/* ------------------------------------------------------------------ */
/* R2.check */

static int reclaim_result;

/** The stranger already has the frame when ksmd looks. */
static void stranger_early(void *arg)
{
	(void)arg;
	sim_process_fill(C, 0, 'X');
}

/** Reclaim tries to free C's page. */
static void reclaim(void *arg)
{
	(void)arg;
	reclaim_result = sim_reclaim_process_page(C, 0);
}

static const struct sim_actor_spec actors_check[] = {
	{ "ksmd", ksmd, NULL },
	{ "A & B", exit_ab, NULL },
	{ "C", stranger_early, NULL },
	{ "reclaim", reclaim, NULL },
};

static const struct sim_step script_check[] = {
	{ "ksmd", "get_ksm_page:look" },	/* has the page pointer */
	{ "A & B", "done" },			/* the KSM page is freed */
	{ "C", "done" },			/* ...and its frame is C's */
	/* ksmd either judges the node stale, or holds C's page: */
	{ "ksmd", "get_ksm_page:got|get_ksm_page:stale" },
	{ "reclaim", "done" },
};

static int check_check(int err, const struct audit_report *r,
			 bool scripted)
{
	(void)err;
	(void)r;
	/* Only the scripted order says whose reference reclaim met. */
	if (scripted && reclaim_result)
		return race_harm(HARM_WRONG_RESULT,
				 "reclaim could not free C's page: ksmd held "
				 "a reference on a page that was never KSM's");
	return 0;
}

RACE(race_r2_check) = {
	.id = "R2.check",
	.title = "ksmd must not touch the count of a page that is not its "
		 "KSM page",
	.seed = "001",
	.era = ERA_KEYHOLE,
	.eras = ERAS_FROM(ERA_KEYHOLE),
	.chapter = 3,
	.harm = "ksmd holds a reference on a stranger's page: reclaim "
		 "cannot free it",
	.fix = FIX_KEYHOLE_CHECK,
	.story = "the frame is already a stranger's when ksmd looks; the "
		 "keyhole check keeps\nksmd's hands off its count, so reclaim "
		 "can free it.",
	.setup = setup,
	.actors = actors_check,
	.nr_actors = 4,
	.script = script_check,
	.nr_steps = 5,
	.check = check_check,
	.no_explore = "its harm is a reference ksmd holds at the moment "
		      "reclaim tries C's page, which only the scripted order "
		      "pins down; every invariant holds either way",
};

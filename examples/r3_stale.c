// SPDX-License-Identifier: GPL-2.0
/*
 * r3_stale.c - R3: the KSM page is freed while its stable
 * node stays in the tree.  Three lines of seed 001 keep that safe.
 *
 * R3 (keyhole_prune): when get_ksm_page() finds the key gone, it removes
 * the stale node, with its rmap_items, there and then.  Without that, the
 * node stays in the tree for ever: every walk down the stable tree that
 * reaches it gives up, so E and F, with identical pages, can never merge
 * (stable_tree_insert() gives up at the stale node too); and the node
 * keeps listing rmap_items that ksmd frees from under it.
 *
 *	A & B			ksmd				E & F
 *	================================================================
 *	exit: KSM page freed
 *				full scans: A's and B's
 *				rmap_items go; node 1
 *				found stale [seed 001:
 *				removed]
 *								pages 'X', mergeable
 *				full scans: E and F merge
 *				[without it: every walk
 *				stops at node 1: no merge]
 *
 * R3.life (keyhole_node_life): the node must outlive its page.  The
 * pinned design freed a node with its last rmap_item; with no reference
 * held, the page may still be alive then - here mapped by A2, a child of
 * A that ksmd has not yet seen - and still names the node.  When ksmd
 * reaches A2's pte, it follows page->mapping into the freed node.
 *
 * R3.gpuz (keyhole_gpuz): the reference is get_page_unless_zero(), which
 * fails on a free page.  If the KSM page is freed between the keyhole
 * check and the reference, and nobody reuses the frame, a plain get_page()
 * raises the count of a free page, and the put that follows frees it a
 * second time: the allocator reports a bad page state.
 */
#include "race.h"

static struct mm_struct *A, *B, *A2, *D, *E, *F;

/** A and B share KSM page K, on stable node 1. */
static void setup_merged(void)
{
	A = race_process("A", 1, 'X', true);
	B = race_process("B", 1, 'X', true);
	ksm_scan_full(2);
}

static void exit_ab(void *arg)
{
	(void)arg;
	sim_process_exit(A);
	sim_process_exit(B);
}

static void ksmd_scans(void *arg)
{
	(void)arg;
	ksm_scan_full(3);
}

/* ------------------------------------------------------------------ */
/* R3: prune the stale node */

static void arrive_ef(void *arg)
{
	(void)arg;
	E = race_process("E", 1, 'X', true);
	F = race_process("F", 1, 'X', true);
}

static const struct sim_actor_spec actors_prune[] = {
	{ "A & B", exit_ab, NULL },
	{ "E & F", arrive_ef, NULL },
	{ "ksmd", ksmd_scans, NULL },
};

static const struct sim_step script_prune[] = {
	{ "A & B", "done" },
	{ "E & F", "done" },
	{ "ksmd", "done" },
};

static int check_prune(int err, const struct audit_report *r,
			 bool scripted)
{
	struct ksm_counters c;
	int harm = 0;

	(void)err;
	ksm_get_counters(&c);
	/* Only after the scripted order were E and F sure to meet. */
	if (scripted && sim_process_pfn(E, 0) != sim_process_pfn(F, 0))
		harm += race_harm(HARM_MISSED_MERGE,
				  "E and F hold identical pages but were "
				  "never merged (pages_shared %lu): a stale "
				  "node blocks the stable tree", c.pages_shared);
	if (r && r->count[AUDIT_STALE])
		harm += race_harm(HARM_STALE_NODE,
				  "a stale node survived full scans, still "
				  "listing rmap_items");
	if (r && r->count[AUDIT_RMAP_LIST])
		harm += race_harm(HARM_USE_AFTER_FREE,
				  "a stale node lists rmap_items that ksmd "
				  "has freed (use after free)");
	return harm;
}

RACE(race_r3) = {
	.id = "R3",
	.title = "a stale stable node, whose page was freed, stays in the "
		 "tree",
	.seed = "001",
	.era = ERA_KEYHOLE,
	.eras = ERAS_FROM(ERA_PINNED),
	.chapter = 3,
	.harm = "E and F hold identical pages but are never merged: a stale "
		 "node blocks the tree",
	.fix = FIX_KEYHOLE_PRUNE,
	.story = "the KSM page is freed under its node; get_ksm_page() "
		 "removes the stale node\nwhen it finds the key gone.",
	.setup = setup_merged,
	.actors = actors_prune,
	.nr_actors = 3,
	.script = script_prune,
	.nr_steps = 3,
	.check = check_prune,
};

/* ------------------------------------------------------------------ */
/* R3.life: never free a node before its page */

/** K is shared by A and B; A forks A2, which maps K too. */
static void setup_forked(void)
{
	setup_merged();
	A2 = sim_process_fork(A, "A2");
}

static const struct sim_actor_spec actors_life[] = {
	{ "A & B", exit_ab, NULL },
	{ "ksmd", ksmd_scans, NULL },
};

static const struct sim_step script_life[] = {
	{ "A & B", "done" },
	{ "ksmd", "done" },
};

static int check_life(int err, const struct audit_report *r,
			 bool scripted)
{
	int harm = 0;

	(void)err;
	(void)scripted;
	if (r && r->count[AUDIT_PAGE_NODE])
		harm += race_harm(HARM_USE_AFTER_FREE,
				  "A2's KSM page names a stable node that was "
				  "freed: ksmd used freed memory");
	if (r && r->count[AUDIT_RMAP_LIST])
		harm += race_harm(HARM_STALE_NODE,
				  "A2's rmap_item was added to a node that is "
				  "not in the tree");
	harm += race_check_bytes(A2);
	return harm;
}

RACE(race_r3_life) = {
	.id = "R3.life",
	.title = "a stable node freed with its last rmap_item, while its "
		 "page lives on",
	.seed = "001",
	.era = ERA_KEYHOLE,
	.eras = ERAS_FROM(ERA_PINNED),
	.chapter = 3,
	.harm = "a KSM page names a stable node that was freed",
	.fix = FIX_KEYHOLE_NODE_LIFE,
	.story = "A and B exit, but A's child still maps the KSM page; the "
		 "node must stay\nuntil the page itself has gone.",
	.setup = setup_forked,
	.actors = actors_life,
	.nr_actors = 2,
	.script = script_life,
	.nr_steps = 2,
	.check = check_life,
};

/* ------------------------------------------------------------------ */
/* R3.gpuz: a speculative reference, never a plain one */

static void setup_gpuz(void)
{
	setup_merged();
	D = race_process("D", 1, 'X', true);
}

static void ksmd_batch(void *arg)
{
	(void)arg;
	ksm_scan_pages(4);
}

static const struct sim_actor_spec actors_gpuz[] = {
	{ "ksmd", ksmd_batch, NULL },
	{ "A & B", exit_ab, NULL },
};

static const struct sim_step script_gpuz[] = {
	{ "ksmd", "get_ksm_page:peeked" },	/* key seen, no reference */
	{ "A & B", "done" },			/* the page is freed */
	{ "ksmd", "done" },
};

static int check_gpuz(int err, const struct audit_report *r,
			 bool scripted)
{
	int harm = 0;

	(void)err;
	(void)scripted;
	if (r && r->count[AUDIT_ALLOCATOR])
		harm += race_harm(HARM_BAD_PAGE_COUNT,
				  "ksmd raised the count of a free page: the "
				  "allocator saw a bad page state");
	harm += race_check_bytes(D);
	return harm;
}

RACE(race_r3_gpuz) = {
	.id = "R3.gpuz",
	.title = "the KSM page freed between the keyhole check and the "
		 "reference",
	.seed = "001",
	.era = ERA_KEYHOLE,
	.eras = ERAS_FROM(ERA_KEYHOLE),
	.chapter = 3,
	.harm = "ksmd raises the count of a free page: the allocator sees a "
		 "bad page",
	.fix = FIX_KEYHOLE_GPUZ,
	.story = "the page is freed just after ksmd saw its key; "
		 "get_page_unless_zero() fails\non the free page instead of "
		 "raising its count.",
	.setup = setup_gpuz,
	.actors = actors_gpuz,
	.nr_actors = 2,
	.script = script_gpuz,
	.nr_steps = 3,
	.check = check_gpuz,
};

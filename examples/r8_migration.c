// SPDX-License-Identifier: GPL-2.0
/*
 * r8_migration.c - R4, R8, R9 and R12: KSM page migration
 * everywhere (seeds 000 and 002, "ksm: make KSM page migration possible").
 *
 * From 2013 a KSM page may be migrated at any time, by compaction, NUMA
 * placement or hot-remove alike, with no lock held against ksmd; so
 * get_ksm_page() must keep its footing while the page moves:
 *
 * R8 (kpfn_recheck): get_ksm_page() read the old kpfn; migration then
 * completes - the new kpfn published, the old page no longer naming the
 * node - and the reader finds the key gone.  It is not stale, it has moved:
 * at stale:, reread kpfn, and try again if it changed.
 *
 *	ksmd				migrate
 *	==============================================================
 *	get_ksm_page(node 1):
 *	  kpfn = K
 *					migrate K to K': lock K; ptes to
 *					migration entries; copy; kpfn = K';
 *					smp_wmb(); K stops naming node 1;
 *					ptes to K'; unlock
 *	  K->mapping is not the key
 *	stale: smp_rmb();
 *	  [kpfn changed: again, with K']
 *	  [without it: remove node 1,
 *	   whose page lives on as K']
 *
 * R8.aba (kpfn_seq, ours): the recheck compares kpfn, but a page can move
 * away and come back to the same frame while ksmd looks: migration frees
 * K, and the next migration of the page is given K again (freed frames
 * are reused promptly, by the kernel as here).  kpfn reads K again, and a
 * live node is removed.  Counting the moves tells the two apart.
 *
 *	ksmd			migrate			return
 *	==============================================================
 *	get_ksm_page(node 1):
 *	  kpfn = K
 *				K to K'; K freed
 *	  K->mapping is not
 *	  the key: stale:
 *						K' to K (reused)
 *	  kpfn is K again: [the count of moves says
 *	  it moved: again]  [without it: remove node 1,
 *	  whose page lives on in K]
 *
 * R9 (swapcache_spin): a KSM page in the swap cache is frozen (count 0)
 * while migration moves its cache slot.  get_page_unless_zero() fails on
 * a page that is still ours: spin while PageSwapCache, do not judge stale.
 *
 * R4 (keyhole_lock_recheck): get_ksm_page(locked) sleeps in lock_page()
 * while migration holds the page; when it gets the lock the page has been
 * migrated and no longer names the node: look again after the lock.
 *
 * R12 (search_lock): stable_tree_search() found a match while the page is
 * being migrated, after migration had checked its count: lock and unlock
 * the page, so that either migration sees the raised count, or the search
 * sees the new page.
 *
 * Without R4's or R12's line, ksmd merges D into the old frame, and then
 * finds that frame has no stable node any more: the kernel oopses in
 * stable_tree_append(), where one might expect a quieter corruption.
 */
#include "race.h"

static struct mm_struct *A, *B, *D;

/** A and B share KSM page K (node 1); D, on node 1, has K's bytes too. */
static void setup(void)
{
	A = race_process("A", 1, 'X', true);
	B = race_process("B", 1, 'X', true);
	ksm_scan_full(2);
	D = race_process("D", 1, -1, false);
	sim_process_set_node(D, 1);
	sim_process_fill(D, 0, 'X');
	sim_process_madvise(D, true);
}

/** ...and K is in the swap cache, unmapped (swapped out, not yet freed). */
static unsigned long kpfn;

static void setup_swapcache(void)
{
	setup();
	kpfn = (unsigned long)sim_process_pfn(A, 0);
	sim_pin_page(A, 0);		/* keeps reclaim from freeing it */
	sim_reclaim_pfn(kpfn);
	sim_unpin_page(kpfn);
}

static void ksmd_batch(void *arg)
{
	(void)arg;
	ksm_scan_pages(4);
}

/** Compaction (say) moves K to node 1. */
static void migrate_k(void *arg)
{
	(void)arg;
	sim_migrate_pfn(kpfn, 1, false);
}

/** ...and, once it has gone to node 1, back to node 0: into K again. */
static void migrate_back(void *arg)
{
	long pfn = sim_process_pfn(A, 0);

	(void)arg;
	if (pfn >= 0 && (unsigned long)pfn != kpfn)
		sim_migrate_pfn((unsigned long)pfn, 0, false);
}

static void remember_k(void)
{
	kpfn = (unsigned long)sim_process_pfn(A, 0);
}

static const struct sim_actor_spec actors[] = {
	{ "ksmd", ksmd_batch, NULL },
	{ "migrate", migrate_k, NULL },
};

/** Harms common to the four: a live node lost, or the wrong bytes. */
static int check(int err, const struct audit_report *r, bool scripted)
{
	int harm = 0;

	(void)err;
	(void)scripted;
	if (r && r->count[AUDIT_PAGE_NODE])
		harm += race_harm(HARM_LIVE_NODE_REMOVED,
				  "a live stable node was removed: its "
				  "migrated KSM page names freed memory");
	if (r && r->count[AUDIT_DUPLICATE])
		harm += race_harm(HARM_MISSED_MERGE,
				  "the same contents now sit in two KSM pages");
	harm += race_check_bytes(A);
	harm += race_check_bytes(B);
	harm += race_check_bytes(D);
	return harm;
}

/* ------------------------------------------------------------------ */

static void setup_r8(void)
{
	setup();
	remember_k();
}

static const struct sim_step script_r8[] = {
	{ "ksmd", "get_ksm_page:look" },	/* has read kpfn: K */
	{ "migrate", "done" },			/* K moves to K' */
	{ "ksmd", "done" },
};

RACE(race_r8) = {
	.id = "R8",
	.title = "get_ksm_page() meets a page that migration has just moved",
	.seed = "000",
	.era = ERA_MIGRATION,
	.eras = ERAS_FROM(ERA_KEYHOLE),
	.chapter = 5,
	.harm = "a live stable node is removed",
	.fix = FIX_KPFN_RECHECK,
	.story = "ksmd read the old kpfn just before migration moved the page; "
		 "the old page\nno longer names the node, but the node is not "
		 "stale: reread kpfn and go again.",
	.setup = setup_r8,
	.actors = actors,
	.nr_actors = 2,
	.script = script_r8,
	.nr_steps = 3,
	.check = check,
};

/* ------------------------------------------------------------------ */

static const struct sim_actor_spec actors_aba[] = {
	{ "ksmd", ksmd_batch, NULL },
	{ "migrate", migrate_k, NULL },
	{ "return", migrate_back, NULL },
};

static const struct sim_step script_aba[] = {
	{ "ksmd", "get_ksm_page:look" },	/* has read kpfn: K */
	{ "migrate", "done" },			/* K to K'; K freed */
	{ "ksmd", "get_ksm_page:stale" },	/* K is not the key */
	{ "return", "done" },			/* K' back to K */
	{ "ksmd", "done" },
};

/** As check(), and say whether the page came back to the same frame. */
static int check_aba(int err, const struct audit_report *r, bool scripted)
{
	if (scripted && (unsigned long)sim_process_pfn(A, 0) != kpfn)
		printf("  (the page did not come back to frame %lu)\n", kpfn);
	return check(err, r, scripted);
}

RACE(race_r8_aba) = {
	.id = "R8.aba",
	.title = "the page moves away and back to the same frame while "
		 "get_ksm_page() looks",
	.seed = "000 (beyond)",
	.era = ERA_MIGRATION,
	.eras = ERA_BIT(ERA_KEYHOLE) | ERAS_FROM(ERA_MIGRATION),
	.chapter = 5,
	.harm = "a live stable node is removed",
	.fix = FIX_KPFN_SEQ,
	.story = "ksmd read kpfn K; the page moved to K' and, K being freed "
		 "and reused, back to K:\nthe recheck at stale: finds kpfn "
		 "unchanged and removes a live node.  Ours:\ncount the moves.",
	.setup = setup_r8,
	.actors = actors_aba,
	.nr_actors = 3,
	.script = script_aba,
	.nr_steps = 5,
	.check = check_aba,
};

/* ------------------------------------------------------------------ */

static const struct sim_actor_spec actors_r9[] = {
	{ "ksmd", ksmd_batch, NULL },
	{ "migrate", migrate_k, NULL },
};

static const struct sim_step script_r9[] = {
	{ "ksmd", "get_ksm_page:peeked" },	/* key seen, no reference */
	{ "migrate", "migrate_page_move_mapping:frozen" },
	{ "ksmd", "blocked|done" },		/* spins, or gives up */
	{ "migrate", "done" },
	{ "ksmd", "done" },
};

RACE(race_r9) = {
	.id = "R9",
	.title = "a swap cache KSM page frozen by migration: count 0, but "
		 "still ours",
	.seed = "000, 002",
	.era = ERA_MIGRATION,
	.eras = ERA_BIT(ERA_KEYHOLE) | ERAS_FROM(ERA_MIGRATION),
	.chapter = 5,
	.harm = "a live stable node is removed",
	.fix = FIX_SWAPCACHE_SPIN,
	.story = "migration freezes a swap cache page's count while it moves "
		 "the cache slot;\nget_page_unless_zero() fails on a page that "
		 "is still ours: spin while PageSwapCache.",
	.setup = setup_swapcache,
	.actors = actors_r9,
	.nr_actors = 2,
	.script = script_r9,
	.nr_steps = 5,
	.check = check,
};

/* ------------------------------------------------------------------ */

/** As setup_r8(), with ksmd's cursor moved past A and B: D comes next. */
static void setup_r4(void)
{
	setup_r8();
	ksm_scan_pages(2);
}

static const struct sim_step script_r4[] = {
	/* Migration holds K's lock and has checked its count: */
	{ "migrate", "migrate_page_move_mapping:moved" },
	/* ksmd, finding D's twin, takes a reference and waits for K's lock: */
	{ "ksmd", "blocked" },
	{ "migrate", "done" },
	{ "ksmd", "done" },
};

RACE(race_r4) = {
	.id = "R4",
	.title = "get_ksm_page(locked) sleeps in lock_page() while the page "
		 "is migrated",
	.seed = "001, 000",
	.era = ERA_MIGRATION,
	.eras = ERA_BIT(ERA_KEYHOLE) | ERAS_FROM(ERA_MIGRATION),
	.chapter = 5,
	.harm = "the kernel dies: an oops in stable_tree_append()",
	.fix = FIX_KEYHOLE_LOCK_RECHECK,
	.story = "ksmd waits for the KSM page's lock while migration moves it; "
		 "once it has the\nlock the old page no longer names the node: "
		 "look again, then follow kpfn.",
	.setup = setup_r4,
	.actors = actors,
	.nr_actors = 2,
	.script = script_r4,
	.nr_steps = 4,
	.check = check,
};

/* ------------------------------------------------------------------ */

RACE(race_r12) = {
	.id = "R12",
	.title = "stable_tree_search() matches a page that migration is "
		 "moving",
	.seed = "000",
	.era = ERA_MIGRATION,
	.eras = ERA_BIT(ERA_KEYHOLE) | ERAS_FROM(ERA_MIGRATION),
	.chapter = 5,
	.harm = "the kernel dies: an oops in stable_tree_append()",
	.fix = FIX_SEARCH_LOCK,
	.story = "the search's reference came after migration checked the "
		 "count; locking and\nunlocking the page waits for migration, "
		 "then finds the new page.",
	.setup = setup_r4,
	.actors = actors,
	.nr_actors = 2,
	.script = script_r4,
	.nr_steps = 4,
	.check = check,
};

/* ------------------------------------------------------------------ */
/*
 * R10 and R11: the barriers.  x86 never reorders these accesses, so the
 * runs follow the model of a weakly ordered CPU (ksm_ref.c, group model),
 * and the scripts say which reordering to make: "delay X" holds an
 * actor's store X in its store buffer, "old X" satisfies its load X from
 * the oldest state of memory the barriers still allow.  With the barrier
 * on, the model does not allow it, and the run is clean.
 *
 * The three run get_ksm_page() as the kernel has it, without our kpfn_seq
 * (R8.aba): its count of moves, read with a seqcount's barriers, covers
 * for smp_read_barrier_depends() and, in the scripted run, for smp_rmb()
 * (a misjudgment those let through sees the count changed), which would
 * hide the seed's lines these races are about.
 *
 * R10, smp_wmb() (in ksm_migrate_page()):
 *
 *	ksmd				migrate
 *	==============================================================
 *	get_ksm_page(node 1):
 *	  kpfn = K
 *					kpfn = K'     (waits in the buffer)
 *					[smp_wmb()]
 *					K stops naming node 1 (visible)
 *	  K->mapping is not the key
 *	stale: smp_rmb();
 *	  kpfn is still K: remove node 1
 *					...kpfn = K' becomes visible
 *
 * R10.rmb, smp_rmb() (at stale:): the stores are in order, but without
 * the smp_rmb() the reread of kpfn may be satisfied before the read of
 * K->mapping was: it returns K, though K->mapping was read after K' was
 * stored.
 */

static const struct sim_step script_r10[] = {
	{ "ksmd", "get_ksm_page:look" },	/* has read kpfn: K */
	{ "migrate", "delay stable_node->kpfn" },
	{ "migrate", "migrate_page_copy:copied" },
	{ "ksmd", "blocked|done" },		/* with smp_wmb(): on K's lock */
	{ "migrate", "done" },
	{ "ksmd", "done" },
};

RACE(race_r10) = {
	.id = "R10",
	.title = "without smp_wmb(), the new kpfn is seen after the old page's "
		 "mapping has gone",
	.seed = "000, 002",
	.era = ERA_MIGRATION,
	.eras = ERA_BIT(ERA_KEYHOLE) | ERAS_FROM(ERA_MIGRATION),
	.chapter = 8,
	.harm = "a live stable node is removed",
	.model = SIM_MODEL_WEAK,
	.fix = FIX_WMB,
	.fixes_off = 1UL << FIX_KPFN_SEQ,	/* the kernel's get_ksm_page() */
	.story = "ksm_migrate_page() stores the new kpfn, then stops the old "
		 "page naming the node;\na weakly ordered CPU may make the "
		 "second store visible first: ksmd sees the\nmapping gone and "
		 "the old kpfn, and removes a live node.",
	.setup = setup_r8,
	.actors = actors,
	.nr_actors = 2,
	.script = script_r10,
	.nr_steps = 6,
	.check = check,
};

static const struct sim_step script_r10_rmb[] = {
	{ "ksmd", "get_ksm_page:look" },	/* has read kpfn: K */
	{ "migrate", "done" },			/* K moves to K' */
	{ "ksmd", "old stable_node->kpfn" },
	{ "ksmd", "done" },
};

RACE(race_r10_rmb) = {
	.id = "R10.rmb",
	.title = "without smp_rmb(), the reread of kpfn is satisfied before "
		 "the read of the mapping",
	.seed = "000, 002",
	.era = ERA_MIGRATION,
	.eras = ERAS_FROM(ERA_KEYHOLE),
	.chapter = 8,
	.harm = "a live stable node is removed",
	.model = SIM_MODEL_WEAK,
	.fix = FIX_RMB,
	.fixes_off = 1UL << FIX_KPFN_SEQ,	/* the kernel's get_ksm_page() */
	.story = "at stale:, ksmd rereads kpfn to see whether the page moved; "
		 "without smp_rmb()\na weakly ordered CPU may satisfy that read "
		 "before the read that found the\nmapping gone: it returns the "
		 "old kpfn, and a live node is removed.",
	.setup = setup_r8,
	.actors = actors,
	.nr_actors = 2,
	.script = script_r10_rmb,
	.nr_steps = 4,
	.check = check,
};

/*
 * R11, smp_read_barrier_depends(): the reviewer's question in seed 002.
 * ksmd reads the new kpfn K', and then K'->mapping through it.  On Alpha
 * that dependent load may return what K'->mapping held before migration
 * set it "in advance" (and SetPageUptodate()'s smp_wmb() published it):
 * no key, so stale:, where kpfn is still K' - and a live node is removed.
 */
static const struct sim_step script_r11[] = {
	{ "ksmd", "get_ksm_page:again" },	/* about to read kpfn */
	{ "migrate", "done" },			/* K moves to K' */
	{ "ksmd", "old page->mapping" },
	{ "ksmd", "done" },
};

RACE(race_r11) = {
	.id = "R11",
	.title = "on Alpha, the new page's mapping read through the new kpfn "
		 "is stale",
	.seed = "002",
	.era = ERA_MIGRATION,
	.eras = ERAS_FROM(ERA_MIGRATION),
	.chapter = 8,
	.harm = "a live stable node is removed",
	.model = SIM_MODEL_ALPHA,
	.fix = FIX_DEP_BARRIER,
	.fixes_off = 1UL << FIX_KPFN_SEQ,	/* the kernel's get_ksm_page() */
	.story = "ksmd reads the new kpfn, then the new page's mapping through "
		 "it; on Alpha,\nwithout smp_read_barrier_depends(), that load "
		 "may see the mapping from before\nmigration set it: the node "
		 "looks stale, kpfn has not changed, a live node goes.",
	.setup = setup_r8,
	.actors = actors,
	.nr_actors = 2,
	.script = script_r11,
	.nr_steps = 4,
	.check = check,
};

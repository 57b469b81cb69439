// SPDX-License-Identifier: GPL-2.0
/*
 * r5_hotremove.c - R5, R6 and R7: memory hot-remove and the
 * migration of KSM pages (seed 004, "ksm: memory hotremove migration
 * only").
 *
 * R5 (offline_prune): the KSM page is freed before migration reaches it,
 * so nothing moves it, and its section goes away with the stable node
 * still naming the vanished struct page.  Seed 004 names pages by pfn and
 * prunes, at MEM_OFFLINE, every node whose kpfn lies in the removed range.
 * In the keyhole era (no callback) or without the prune, ksmd later touches
 * the removed memmap and faults.
 *
 *	A & B			hotplug				ksmd
 *	================================================================
 *	exit: KSM page freed,
 *	node 1 now stale
 *				offline section 0: nothing
 *				in use there; MEM_OFFLINE:
 *				[prune node 1]; memmap gone
 *								scan E: walk the
 *								stable tree: node 1
 *								[without the prune:
 *								read page->mapping
 *								of a removed struct
 *								page: FAULT]
 *
 * R6 (offline_lockout): while memory goes offline, ksmd must be locked
 * out: it may be holding a struct page of the very section being removed.
 * R6.cancel (offline_cancel_unlock): a cancelled offline must let ksmd go.
 *
 * R7 (migrate_refuse_ksm): KSM uses the KSM page's lock to guard its stable
 * node, and page migration switches which page that lock is on.  Until
 * 2013, only hot-remove (which locks ksmd out) may migrate a KSM page;
 * unmap_and_move() refuses the others - and only once it holds the page
 * lock can it be sure the page will not become KSM beneath it.
 * R7.skip (numa_skip_ksm): the NUMA paths skip KSM pages early, as they
 * skip PageReserved, so that mbind() does not fail over them.
 */
#include "race.h"

static struct mm_struct *A, *B, *D, *E, *P;
static int migrate_result, mbind_result;

/** A and B share KSM page K (stable node 1), in section 0. */
static void setup_shared(void)
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

static void offline_section0(void *arg)
{
	(void)arg;
	sim_offline_section(0);
}

static void ksmd_batch(void *arg)
{
	(void)arg;
	ksm_scan_pages(4);
}

/* ------------------------------------------------------------------ */
/* R5 */

static void setup_r5(void)
{
	setup_shared();
	E = race_process("E", 1, 'X', true);	/* ksmd will search for E */
}

static const struct sim_actor_spec actors_r5[] = {
	{ "A & B", exit_ab, NULL },
	{ "hotplug", offline_section0, NULL },
	{ "ksmd", ksmd_batch, NULL },
};

static const struct sim_step script_r5[] = {
	{ "A & B", "done" },
	{ "hotplug", "done" },
	{ "ksmd", "done" },
};

static int check_r5(int err, const struct audit_report *r, bool scripted)
{
	(void)err;
	(void)scripted;
	if (r && r->count[AUDIT_NODE_PAGE])
		return race_harm(HARM_STALE_NODE,
				 "a stable node still names a frame of the "
				 "removed section");
	return race_check_bytes(E);
}

RACE(race_r5) = {
	.id = "R5",
	.title = "a stale node left pointing into a section that memory "
		 "hot-remove took away",
	.seed = "004",
	.era = ERA_HOTREMOVE,
	.eras = ERAS_FROM(ERA_PINNED),
	.chapter = 4,
	.harm = "the kernel dies: ksmd touches a struct page of a removed "
		 "section",
	.fix = FIX_OFFLINE_PRUNE,
	.story = "the KSM page is freed before migration reaches it; its "
		 "section is removed;\nMEM_OFFLINE prunes nodes by kpfn before "
		 "ksmd can touch the vanished struct page.",
	.setup = setup_r5,
	.actors = actors_r5,
	.nr_actors = 3,
	.script = script_r5,
	.nr_steps = 3,
	.check = check_r5,
};

/* ------------------------------------------------------------------ */
/* R6: lock ksmd out while memory goes offline */

/** D's page, ksmd's next, lives on node 1: only K is in section 0. */
static void setup_r6(void)
{
	setup_shared();
	D = race_process("D", 1, -1, false);
	sim_process_set_node(D, 1);
	sim_process_fill(D, 0, 'X');
	sim_process_madvise(D, true);
}

static const struct sim_actor_spec actors_r6[] = {
	{ "ksmd", ksmd_batch, NULL },
	{ "hotplug", offline_section0, NULL },
};

static const struct sim_step script_r6[] = {
	{ "ksmd", "get_ksm_page:look" },	/* holds K's struct page */
	{ "hotplug", "blocked|done" },		/* locked out, or not */
	{ "ksmd", "done" },
	{ "hotplug", "done" },
};

static int check_r6(int err, const struct audit_report *r, bool scripted)
{
	int harm = 0;

	(void)err;
	(void)r;
	(void)scripted;
	if (r && r->count[AUDIT_PAGE_NODE])
		harm += race_harm(HARM_LIVE_NODE_REMOVED,
				  "a live stable node was removed while its "
				  "KSM page was being migrated");
	harm += race_check_bytes(A);
	harm += race_check_bytes(B);
	harm += race_check_bytes(D);
	return harm;
}

RACE(race_r6) = {
	.id = "R6",
	.title = "ksmd holding a struct page of a section that is going "
		 "offline",
	.seed = "004",
	.era = ERA_HOTREMOVE,
	.eras = ERAS_FROM(ERA_KEYHOLE),
	.chapter = 4,
	.harm = "the kernel dies: ksmd touches a struct page of a removed "
		 "section",
	.fix = FIX_OFFLINE_LOCKOUT,
	.story = "ksmd has a struct page in hand when memory hot-remove "
		 "starts; MEM_GOING_OFFLINE\ntakes ksm_thread_mutex, so the "
		 "section cannot vanish under ksmd.",
	.setup = setup_r6,
	.actors = actors_r6,
	.nr_actors = 2,
	.script = script_r6,
	.nr_steps = 4,
	.check = check_r6,
};

/* ------------------------------------------------------------------ */
/* R6.cancel: a cancelled offline lets ksmd go */

static void setup_r6_cancel(void)
{
	setup_shared();
	D = race_process("D", 1, 'X', true);
	P = race_process("P", 1, 'p', false);
	sim_pin_page(P, 0);	/* a page of section 0 that cannot move */
}

static const struct sim_actor_spec actors_r6_cancel[] = {
	{ "hotplug", offline_section0, NULL },
	{ "ksmd", ksmd_batch, NULL },
};

static const struct sim_step script_r6_cancel[] = {
	{ "hotplug", "offline_pages:going" },	/* ksmd locked out */
	{ "ksmd", "blocked" },			/* ksmd waits */
	{ "hotplug", "done" },			/* the offline is cancelled */
	{ "ksmd", "done" },
};

static int check_r6_cancel(int err, const struct audit_report *r,
			   bool scripted)
{
	struct sim_mem_stats st;

	(void)r;
	(void)scripted;
	if (err)
		return race_harm(HARM_STUCK,
				 "ksmd can never run again: the cancelled "
				 "offline kept it locked out (%s)",
				 sim_run_error());
	sim_mem_stats(0, &st);
	if (st.nr_offline)
		return race_harm(HARM_WRONG_RESULT,
				 "section 0 went offline despite the pinned "
				 "page");
	return race_check_bytes(P);
}

RACE(race_r6_cancel) = {
	.id = "R6.cancel",
	.title = "a cancelled offline must let ksmd run again",
	.seed = "004",
	.era = ERA_HOTREMOVE,
	.eras = ERAS_FROM(ERA_HOTREMOVE),
	.chapter = 4,
	.harm = "ksmd can never run again",
	.fix = FIX_OFFLINE_CANCEL_UNLOCK,
	.story = "a pinned page cannot be moved, so the offline is "
		 "cancelled; MEM_CANCEL_OFFLINE\nreleases ksm_thread_mutex "
		 "as MEM_OFFLINE would.",
	.setup = setup_r6_cancel,
	.actors = actors_r6_cancel,
	.nr_actors = 2,
	.script = script_r6_cancel,
	.nr_steps = 4,
	.check = check_r6_cancel,
};

/* ------------------------------------------------------------------ */
/* R7: only hot-remove may migrate a KSM page (before 2013) */

static void setup_r7(void)
{
	setup_shared();
	D = race_process("D", 1, -1, false);
	sim_process_set_node(D, 1);
	sim_process_fill(D, 0, 'X');
	sim_process_madvise(D, true);
}

/** Compaction, or move_pages(), migrates K to node 1: not offlining. */
static void migrate_k(void *arg)
{
	(void)arg;
	migrate_result = sim_migrate_pfn((unsigned long)sim_process_pfn(A, 0),
					 1, false);
}

static const struct sim_actor_spec actors_r7[] = {
	{ "migrate", migrate_k, NULL },
	{ "ksmd", ksmd_batch, NULL },
};

static const struct sim_step script_r7[] = {
	/* Migration holds K's lock and has checked its count: */
	{ "migrate", "migrate_page_move_mapping:moved|done" },
	/* ksmd, tidying A's rmap_item away, waits for K's lock: */
	{ "ksmd", "blocked|done" },
	{ "migrate", "done" },
	{ "ksmd", "done" },
};

static int check_r7(int err, const struct audit_report *r, bool scripted)
{
	int harm = 0;

	(void)err;
	(void)scripted;
	if (r && r->count[AUDIT_PAGE_NODE])
		harm += race_harm(HARM_LIVE_NODE_REMOVED,
				  "the migrated KSM page names a stable node "
				  "that ksmd removed: ksmd locked the old "
				  "page, which migration had taken from the "
				  "node");
	if (r && r->count[AUDIT_RMAP_PTE])
		harm += race_harm(HARM_WRONG_MAPPING,
				  "a pte is left on a frame that is no longer "
				  "the node's KSM page");
	harm += race_check_bytes(A);
	harm += race_check_bytes(D);
	return harm;
}

RACE(race_r7) = {
	.id = "R7",
	.title = "a KSM page migrated, not for hot-remove, while ksmd works "
		 "on its node",
	.seed = "004",
	.era = ERA_HOTREMOVE,
	.eras = ERAS_FROM(ERA_PINNED),
	.chapter = 4,
	.harm = "the migrated KSM page names a stable node that ksmd "
		 "removed",
	.fix = FIX_MIGRATE_REFUSE_KSM,
	.story = "migration switches which page's lock guards the stable "
		 "node; until 2013,\nunmap_and_move() refuses a KSM page "
		 "unless hot-remove has locked ksmd out.",
	.setup = setup_r7,
	.actors = actors_r7,
	.nr_actors = 2,
	.script = script_r7,
	.nr_steps = 4,
	.check = check_r7,
};

/* ------------------------------------------------------------------ */
/* R7.skip: the NUMA paths skip KSM pages early */

/** A has KSM page K (shared with B) and a page of its own. */
static void setup_r7_skip(void)
{
	A = race_process("A", 2, 'X', true);
	sim_process_write(A, 1, 0, "A's own", 8);
	B = race_process("B", 1, 'X', true);
	ksm_scan_full(2);
}

static void mbind_a(void *arg)
{
	(void)arg;
	mbind_result = sim_mbind(A, 1, true);
}

static const struct sim_actor_spec actors_r7_skip[] = {
	{ "mbind", mbind_a, NULL },
};

static const struct sim_step script_r7_skip[] = {
	{ "mbind", "done" },
};

static int check_r7_skip(int err, const struct audit_report *r, bool scripted)
{
	(void)err;
	(void)r;
	(void)scripted;
	if (mbind_result)
		return race_harm(HARM_WRONG_RESULT,
				 "mbind(MPOL_MF_MOVE_ALL|MPOL_MF_STRICT) of A "
				 "failed with %d: the KSM page it could not "
				 "move was not skipped", mbind_result);
	if (sim_page_node(A, 1) != 1)
		return race_harm(HARM_WRONG_RESULT,
				 "A's own page was not moved to node 1");
	return race_check_bytes(A);
}

RACE(race_r7_skip) = {
	.id = "R7.skip",
	.title = "mbind() of a process sharing KSM pages",
	.seed = "004",
	.era = ERA_HOTREMOVE,
	.eras = ERAS_FROM(ERA_PINNED),
	.chapter = 4,
	.harm = "mbind(MPOL_MF_MOVE_ALL|MPOL_MF_STRICT) fails with -EIO",
	.fix = FIX_NUMA_SKIP_KSM,
	.story = "NUMA placement skips KSM pages as it skips PageReserved, "
		 "so that a strict\nmbind() does not fail over pages it cannot "
		 "move.",
	.setup = setup_r7_skip,
	.actors = actors_r7_skip,
	.nr_actors = 1,
	.script = script_r7_skip,
	.nr_steps = 1,
	.check = check_r7_skip,
};

/* ------------------------------------------------------------------ */
/*
 * R5.twice (prune_kpfn_once, ours): from 2013 a KSM page may be migrated
 * while memory goes offline, and the prune at MEM_OFFLINE runs without
 * ksm_thread_mutex.  "kpfn >= start_pfn && kpfn < end_pfn" written with
 * two reads of kpfn can straddle a migration: K moves from above the
 * removed range to below it, and a node whose page never was in the range
 * is pruned.  A stress run found it; read kpfn once.
 *
 *	hotplug				mbind
 *	==============================================================
 *	offline section 1; MEM_OFFLINE:
 *	ksm_check_stable_tree():
 *	  kpfn (K, section 2) >= start
 *					A to node 0: K to K' in
 *					section 0, below the range
 *	  [once: K is not < end: next]
 *	  [twice: K' < end: prune node
 *	   1, whose page lives at K']
 */

/** A and B share K, moved to node 1: above section 1, which will go. */
static void setup_r5_twice(void)
{
	setup_shared();
	sim_mbind(A, 1, false);
}

static void offline_section1(void *arg)
{
	(void)arg;
	sim_offline_section(1);
}

static void mbind_a_home(void *arg)
{
	(void)arg;
	mbind_result = sim_mbind(A, 0, false);
}

static const struct sim_actor_spec actors_r5_twice[] = {
	{ "hotplug", offline_section1, NULL },
	{ "mbind", mbind_a_home, NULL },
};

static const struct sim_step script_r5_twice[] = {
	{ "hotplug", "ksm_check_stable_tree:read" },	/* K, above the range */
	{ "mbind", "done" },				/* K to K', below it */
	{ "hotplug", "done" },
};

static int check_r5_twice(int err, const struct audit_report *r,
			  bool scripted)
{
	int harm = 0;

	(void)err;
	if (scripted && sim_page_node(A, 0) != 0)
		printf("  (mbind did not bring the page back to node 0)\n");
	if (r && r->count[AUDIT_PAGE_NODE])
		harm += race_harm(HARM_LIVE_NODE_REMOVED,
				  "a live stable node was pruned: its KSM page, "
				  "never in the removed section, names freed "
				  "memory");
	harm += race_check_bytes(A);
	harm += race_check_bytes(B);
	return harm;
}

RACE(race_r5_twice) = {
	.id = "R5.twice",
	.title = "the MEM_OFFLINE prune reads kpfn twice while migration "
		 "moves the page",
	.seed = "004 (beyond)",
	.era = ERA_MIGRATION,
	.eras = ERAS_FROM(ERA_HOTREMOVE),
	.chapter = 4,
	.harm = "a live stable node is pruned",
	.fix = FIX_PRUNE_KPFN_ONCE,
	.story = "kpfn >= start_pfn && kpfn < end_pfn, read twice, straddles "
		 "a migration from\nabove the removed range to below it: a "
		 "live node is pruned.  Ours: read it once.",
	.setup = setup_r5_twice,
	.actors = actors_r5_twice,
	.nr_actors = 2,
	.script = script_r5_twice,
	.nr_steps = 3,
	.check = check_r5_twice,
};

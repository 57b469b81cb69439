// SPDX-License-Identifier: GPL-2.0
/*
 * r13_exchange.c - R13 and R14: exchanging pages (seed 003,
 * "exchange pages: exchange anonymous page and file-backed page").
 *
 * An exchange makes an anonymous page (from) and a file's page (to) swap
 * contents and identities: the file's slot in the page cache is switched
 * to the anonymous page, which takes the file's bytes; the file's old page
 * takes the anonymous bytes and becomes the process's.  Anyone who finds a
 * page without its lock - a speculative page cache lookup, a pfn walker -
 * must either see the old state whole or the new one whole.
 *
 * R13: the slot switched only after the counts were unfrozen.
 *
 *	exchange			read(2) of file page 0
 *	==============================================================
 *	freeze T (file) and F (anon)
 *	T, F exchange mappings
 *	unfreeze T, F
 *					find_get_page(): slot says T;
 *					count not 0: reference; slot still T
 *	slot := F  [with the fix: before the unfreeze]
 *	exchange bytes: T holds the anonymous bytes
 *					T is uptodate: copy, no lock
 *					-> the anonymous page's bytes
 *
 * R13.uptodate (ours): even with every line of the seed, F sits in the
 * slot, uptodate (it was an anonymous page), before its bytes are the
 * file's: a read(2) then copies the anonymous bytes.  The fix: clear
 * PG_uptodate while F is frozen; read(2) then locks F, and waits.
 *
 * R13.freeze: F's count only checked, not frozen: a pfn walker's
 * get_page_unless_zero() succeeds after the check, and the unfreeze, an
 * atomic_set(), erases its reference.  R13.eagain: F cannot be frozen (the
 * walker holds it); without unfreezing T, the file's page stays at count 0.
 *
 * R13.private, R13.counters, R13.writeback: the buffer heads with their
 * reference, the per-node counters, and writeback in flight.
 *
 * R14 (beyond the seed): exchanging a KSM page K with an anonymous page E.
 * The RFC exchanges the mapping words, and only afterwards points the
 * stable node's kpfn at E; a lockless get_ksm_page() in between finds K
 * without the key and kpfn unchanged, and removes a live node.  The
 * issue's alternative, kpfn first, fails the other way round: kpfn names
 * E before E has the key.  Migration's order (E keyed in advance, then
 * kpfn, then K loses the key) keeps the key findable, but not the bytes:
 * they are exchanged in place while kpfn still names K, and a lockless
 * stable_tree_insert() places a new node by comparing against them
 * (R14.advance).  A KSM page's bytes must not change while its node can
 * find it: the fix is to refuse KSM pages, as seed 004 had migration do.
 */
#include <stdlib.h>
#include <string.h>

#include "race.h"

static struct address_space *F;		/* the file */
static struct mm_struct *M;		/* maps F shared */
static struct mm_struct *A;		/* an anonymous page */
static unsigned long from_pfn, to_pfn;	/* A's page, F's page 0 */
static unsigned char read_buf[64];	/* what read(2) returned */
static int read_err = -1;
static int exchange_rc;

/**
 * F, one page of 'F' (with buffer heads when \a buffers), mapped by M on
 * node 0; A, one anonymous page of 'a' on node \a nid.
 */
static void setup_file(bool buffers, int nid)
{
	unsigned char c;

	F = sim_file_create("F", 1, 'F', buffers);
	M = sim_process_map_file("M", F);
	A = sim_process_create("A", 1);
	if (!F || !M || !A) {
		fprintf(stderr, "cannot set the scene up\n");
		exit(EX_FAIL);
	}
	sim_process_read(M, 0, 0, &c, 1);
	sim_process_set_node(A, nid);
	sim_process_fill(A, 0, 'a');
	from_pfn = (unsigned long)sim_process_pfn(A, 0);
	to_pfn = (unsigned long)sim_file_pfn(F, 0);
	memset(read_buf, 0, sizeof(read_buf));
	read_err = -1;
	exchange_rc = 0;
}

static void setup(void)
{
	setup_file(true, 0);
}

static void setup_node1(void)
{
	setup_file(true, 1);
}

/** ...and M has written to its page: dirty, for writeback. */
static void setup_dirty(void)
{
	setup_file(true, 0);
	sim_process_fill(M, 0, 'm');
}

static void exchange(void *arg)
{
	(void)arg;
	exchange_rc = sim_exchange_pfns(from_pfn, to_pfn);
}

static void reader(void *arg)
{
	unsigned char *page = malloc(65536);	/* the largest page size */

	(void)arg;
	if (!page)
		return;
	read_err = sim_file_read(F, 0, page);
	memcpy(read_buf, page, sizeof(read_buf));
	free(page);
}

static void walker(void *arg)
{
	(void)arg;
	sim_pfn_walk(from_pfn);
}

static void flusher(void *arg)
{
	(void)arg;
	sim_file_writeback(F);
}

/** Harms common to R13: a wrong read, and the auditor's findings. */
static int check(int err, const struct audit_report *r, bool scripted)
{
	int harm = 0;

	(void)err;
	(void)scripted;
	if (read_err == 0 && read_buf[0] != 'F')
		harm += race_harm(HARM_CORRUPT_DATA,
				  "read(2) of the file returned '%c'..., bytes "
				  "the file never held: those of the anonymous "
				  "page it was exchanged with", read_buf[0]);
	if (r && r->count[AUDIT_REFCOUNT])
		harm += race_harm(HARM_BAD_PAGE_COUNT,
				  "a page's count is not its references: one "
				  "was %s", r->count[AUDIT_FILE] ? "moved wrong" :
				  "lost, or never given back");
	if (r && r->count[AUDIT_ALLOCATOR])
		harm += race_harm(HARM_USE_AFTER_FREE,
				  "a page was freed while in use (the audit "
				  "shows which)");
	if (r && r->count[AUDIT_FILE])
		harm += race_harm(HARM_CORRUPT_STRUCTURE,
				  "the page cache disagrees with its pages "
				  "or counters (the audit shows how)");
	harm += race_check_bytes(A);
	harm += race_check_bytes(M);
	if (sim_file_verify(F, false) > 0)
		harm += race_harm(HARM_CORRUPT_DATA,
				  "the file lost bytes written to it");
	return harm;
}

static const struct sim_actor_spec actors_read[] = {
	{ "exchange", exchange, NULL },
	{ "reader", reader, NULL },
};

static const struct sim_step script_r13[] = {
	{ "exchange", "exchange_page_move_mapping:unfrozen" },
	{ "reader", "file_read:got" },		/* has a page from the slot */
	{ "exchange", "done" },
	{ "reader", "done" },
};

RACE(race_r13) = {
	.id = "R13",
	.title = "exchange against read(2): the file's slot switched after "
		 "the counts were unfrozen",
	.seed = "003",
	.era = ERA_EXCHANGE,
	.eras = ERA_BIT(ERA_EXCHANGE),
	.chapter = 7,
	.harm = "read(2) of the file returns the bytes of the anonymous "
		 "page",
	.fix = FIX_XCHG_SLOT_BEFORE_UNFREEZE,
	.story = "exchange unfreezes the two pages; a lockless page cache "
		 "lookup still finds the\nfile's old page in the slot, takes "
		 "it, and copies it once it holds the\nanonymous bytes: "
		 "switch the slot while both counts are frozen.",
	.setup = setup,
	.actors = actors_read,
	.nr_actors = 2,
	.script = script_r13,
	.nr_steps = 4,
	.check = check,
};

static const struct sim_step script_r13_uptodate[] = {
	{ "exchange", "exchange_page_move_mapping:unfrozen" },
	{ "reader", "blocked|done" },		/* with the fix: on F's lock */
	{ "exchange", "done" },
	{ "reader", "done" },
};

RACE(race_r13_uptodate) = {
	.id = "R13.uptodate",
	.title = "exchange against read(2): the anonymous page enters the "
		 "cache uptodate",
	.seed = "003 (beyond)",
	.era = ERA_EXCHANGE,
	.eras = ERA_BIT(ERA_EXCHANGE),
	.chapter = 7,
	.harm = "read(2) of the file returns the bytes of the anonymous "
		 "page",
	.fix = FIX_XCHG_CLEAR_UPTODATE,
	.story = "with every line of the seed, the slot names the anonymous "
		 "page before its bytes\nare the file's, and it is uptodate: "
		 "read(2) copies it without the lock.  Ours:\nclear "
		 "PG_uptodate while it is frozen, so read(2) waits for the "
		 "page lock.",
	.setup = setup,
	.actors = actors_read,
	.nr_actors = 2,
	.script = script_r13_uptodate,
	.nr_steps = 4,
	.check = check,
};

static const struct sim_actor_spec actors_walk[] = {
	{ "exchange", exchange, NULL },
	{ "walker", walker, NULL },
};

static const struct sim_step script_r13_freeze[] = {
	{ "exchange", "exchange_page_move_mapping:frozen" },
	{ "walker", "pfn_walk:got|done" },	/* with the fix: fails */
	{ "exchange", "done" },
	{ "walker", "done" },
};

RACE(race_r13_freeze) = {
	.id = "R13.freeze",
	.title = "exchange freezes only the file page: a reference on the "
		 "anonymous one is erased",
	.seed = "003",
	.era = ERA_EXCHANGE,
	.eras = ERA_BIT(ERA_EXCHANGE),
	.chapter = 7,
	.harm = "a page's count is not its references: one is lost",
	.fix = FIX_XCHG_FREEZE_FROM,
	.story = "the anonymous page's count is checked, not frozen; a pfn "
		 "walker takes a\nreference after the check, and the unfreeze "
		 "(an atomic_set) erases it: when the\nwalker lets go, the "
		 "count is one short.",
	.setup = setup,
	.actors = actors_walk,
	.nr_actors = 2,
	.script = script_r13_freeze,
	.nr_steps = 4,
	.check = check,
};

static const struct sim_step script_r13_eagain[] = {
	{ "exchange", "exchange_page_move_mapping:to_frozen" },
	{ "walker", "pfn_walk:got" },		/* holds the anonymous page */
	{ "exchange", "done" },			/* -EAGAIN */
	{ "walker", "done" },
};

RACE(race_r13_eagain) = {
	.id = "R13.eagain",
	.title = "the second freeze fails: the first page must be unfrozen",
	.seed = "003",
	.era = ERA_EXCHANGE,
	.eras = ERA_BIT(ERA_EXCHANGE),
	.chapter = 7,
	.harm = "a page is freed while in use",
	.fix = FIX_XCHG_UNFREEZE_ON_EAGAIN,
	.story = "a pfn walker takes the anonymous page once its count was "
		 "checked, so its\nfreeze fails and the exchange returns "
		 "-EAGAIN; without unfreezing the "
		 "file's page first, it stays at count 0\nin the cache, and "
		 "its next put frees a page still mapped and cached.",
	.setup = setup,
	.actors = actors_walk,
	.nr_actors = 2,
	.script = script_r13_eagain,
	.nr_steps = 4,
	.check = check,
};

static const struct sim_actor_spec actors_one[] = {
	{ "exchange", exchange, NULL },
};

static const struct sim_step script_one[] = {
	{ "exchange", "done" },
};

RACE(race_r13_private) = {
	.id = "R13.private",
	.title = "the buffer heads and their reference move to the page now "
		 "in the cache",
	.seed = "003",
	.era = ERA_EXCHANGE,
	.eras = ERA_BIT(ERA_EXCHANGE),
	.chapter = 7,
	.harm = "the anonymous page carries the file page's buffer heads",
	.fix = FIX_XCHG_MOVE_PRIVATE,
	.story = "a file page with buffer heads holds a reference for them; "
		 "after the exchange\nthey describe the other page: PG_private, "
		 "page->private, b_page and the\nreference must all move.",
	.setup = setup,
	.actors = actors_one,
	.nr_actors = 1,
	.script = script_one,
	.nr_steps = 1,
	.check = check,
};

RACE(race_r13_counters) = {
	.id = "R13.counters",
	.title = "exchange across nodes moves NR_FILE_PAGES (and "
		 "NR_FILE_DIRTY)",
	.seed = "003",
	.era = ERA_EXCHANGE,
	.eras = ERA_BIT(ERA_EXCHANGE),
	.chapter = 7,
	.harm = "the nodes' NR_FILE_PAGES and NR_FILE_DIRTY are wrong",
	.fix = FIX_XCHG_MOVE_COUNTERS,
	.story = "the file's page was on node 0, the anonymous page on node "
		 "1: after the\nexchange the file's page is on node 1, and the "
		 "per-node counters must say so.",
	.setup = setup_node1,
	.actors = actors_one,
	.nr_actors = 1,
	.script = script_one,
	.nr_steps = 1,
	.check = check,
};

static const struct sim_actor_spec actors_wb[] = {
	{ "exchange", exchange, NULL },
	{ "flusher", flusher, NULL },
};

static const struct sim_step script_r13_writeback[] = {
	{ "flusher", "writeback:io" },		/* I/O in flight */
	{ "exchange", "blocked|done" },		/* with the fix: waits */
	{ "flusher", "done" },
	{ "exchange", "done" },
};

RACE(race_r13_writeback) = {
	.id = "R13.writeback",
	.title = "exchange of a file page under writeback",
	.seed = "003",
	.era = ERA_EXCHANGE,
	.eras = ERA_BIT(ERA_EXCHANGE),
	.chapter = 7,
	.harm = "the kernel dies: BUG on PageWriteback(to_page)",
	.fix = FIX_XCHG_WAIT_WRITEBACK,
	.story = "the flusher has unlocked the page with its I/O in flight; "
		 "the I/O still reads\nthat frame.  In synchronous mode the "
		 "exchange waits for the writeback to end;\nwithout the wait "
		 "it meets the seed's BUG_ON(PageWriteback(to_page)).",
	.setup = setup_dirty,
	.actors = actors_wb,
	.nr_actors = 2,
	.script = script_r13_writeback,
	.nr_steps = 4,
	.check = check,
};

/* ------------------------------------------------------------------ */
/* R14: a KSM page in an exchange. */

static struct mm_struct *B, *D, *E;
static unsigned long kpfn, epfn;

/**
 * A and B share KSM page K (node 1); D has K's bytes and comes next in
 * ksmd's scan, so that stable_tree_search() looks node 1 up without a
 * lock; E has an anonymous page of its own.
 */
static void setup_ksm(void)
{
	A = race_process("A", 1, 'X', true);
	B = race_process("B", 1, 'X', true);
	ksm_scan_full(2);
	E = race_process("E", 1, 'e', false);
	D = race_process("D", 1, 'X', true);
	ksm_scan_pages(2);
	kpfn = (unsigned long)sim_process_pfn(A, 0);
	epfn = (unsigned long)sim_process_pfn(E, 0);
}

static void setup_kpfn_first(void)
{
	ksm_set_exchange_order(XCHG_KSM_KPFN_FIRST);
	setup_ksm();
}

static struct mm_struct *P, *Q;

/**
 * A and B share K ('X', node 1); E has 'e'; P and Q have 'Y', seen once
 * by ksmd, so that its next visits - the next two pages it scans - merge
 * them into a new stable node.
 */
static void setup_advance(void)
{
	ksm_set_exchange_order(XCHG_KSM_ADVANCE);
	A = race_process("A", 1, 'X', true);
	B = race_process("B", 1, 'X', true);
	ksm_scan_full(2);
	E = race_process("E", 1, 'e', false);
	P = race_process("P", 1, 'Y', true);
	Q = race_process("Q", 1, 'Y', true);
	D = NULL;
	ksm_scan_full(1);
	ksm_scan_pages(2);		/* past A and B: P and Q come next */
	kpfn = (unsigned long)sim_process_pfn(A, 0);
	epfn = (unsigned long)sim_process_pfn(E, 0);
}

static void ksmd_batch(void *arg)
{
	(void)arg;
	ksm_scan_pages(4);
}

static void exchange_ksm(void *arg)
{
	(void)arg;
	exchange_rc = sim_exchange_pfns(kpfn, epfn);
}

static const struct sim_actor_spec actors_ksm[] = {
	{ "ksmd", ksmd_batch, NULL },
	{ "exchange", exchange_ksm, NULL },
};

/** A live node lost, a merge lost, or the wrong bytes. */
static int check_ksm(int err, const struct audit_report *r, bool scripted)
{
	int harm = 0;

	(void)err;
	(void)scripted;
	if (r && (r->count[AUDIT_PAGE_NODE] || r->count[AUDIT_NODE_PAGE]))
		harm += race_harm(HARM_LIVE_NODE_REMOVED,
				  "a live stable node was removed: the KSM "
				  "page now names freed memory");
	if (r && r->count[AUDIT_DUPLICATE])
		harm += race_harm(HARM_MISSED_MERGE,
				  "the same contents now sit in two KSM pages");
	if (r && r->count[AUDIT_ORDER])
		harm += race_harm(HARM_CORRUPT_STRUCTURE,
				  "the stable tree is out of order: a node was "
				  "placed by bytes that were not its neighbour's");
	harm += race_check_bytes(A);
	harm += race_check_bytes(B);
	if (D)
		harm += race_check_bytes(D);
	harm += race_check_bytes(E);
	return harm;
}

static const struct sim_step script_r14[] = {
	{ "exchange", "exchange_page_move_mapping:swapped|done" },
	{ "ksmd", "blocked|done" },
	{ "exchange", "done" },
	{ "ksmd", "done" },
};

RACE(race_r14) = {
	.id = "R14",
	.title = "exchange of a KSM page: the RFC swaps the mappings before "
		 "it updates kpfn",
	.seed = "003 (beyond)",
	.era = ERA_EXCHANGE,
	.eras = ERA_BIT(ERA_EXCHANGE),
	.chapter = 7,
	.harm = "a live stable node is removed",
	.fix = FIX_XCHG_REFUSE_KSM,
	.story = "the RFC gives the KSM page's key to the other page and "
		 "takes it from the KSM\npage at once, then points kpfn at the "
		 "other page; get_ksm_page() in between sees\nthe key gone and "
		 "kpfn unchanged, and removes a live node.  Ours: no order\n"
		 "of the stores is safe (R14.kpfn, R14.advance): refuse KSM "
		 "pages.",
	.setup = setup_ksm,
	.actors = actors_ksm,
	.nr_actors = 2,
	.script = script_r14,
	.nr_steps = 4,
	.check = check_ksm,
};

static const struct sim_step script_r14_kpfn[] = {
	{ "exchange", "ksm_exchange_page:kpfn|done" },
	{ "ksmd", "blocked|done" },
	{ "exchange", "done" },
	{ "ksmd", "done" },
};

RACE(race_r14_kpfn) = {
	.id = "R14.kpfn",
	.title = "exchange of a KSM page, kpfn first: kpfn names a page "
		 "without the key",
	.seed = "003 (beyond)",
	.era = ERA_EXCHANGE,
	.eras = ERA_BIT(ERA_EXCHANGE),
	.chapter = 7,
	.harm = "a live stable node is removed",
	.fix = FIX_XCHG_REFUSE_KSM,
	.story = "the ordered alternative: point kpfn at the other page, "
		 "smp_wmb(), then swap\nthe mappings.  get_ksm_page() in "
		 "between follows kpfn to a page that does not\nyet hold the "
		 "key, and kpfn has not changed: a live node is removed all "
		 "the same.",
	.setup = setup_kpfn_first,
	.actors = actors_ksm,
	.nr_actors = 2,
	.script = script_r14_kpfn,
	.nr_steps = 4,
	.check = check_ksm,
};

static const struct sim_step script_r14_advance[] = {
	{ "exchange", "exchange_page:exchanged|done" },	/* bytes swapped */
	{ "ksmd", "blocked|done" },		/* merges P and Q */
	{ "exchange", "done" },
	{ "ksmd", "done" },
};

RACE(race_r14_advance) = {
	.id = "R14.advance",
	.title = "exchange of a KSM page in migration's order: the key stays, "
		 "the bytes do not",
	.seed = "003 (beyond)",
	.era = ERA_EXCHANGE,
	.eras = ERA_BIT(ERA_EXCHANGE),
	.chapter = 7,
	.harm = "the stable tree is out of order",
	.fix = FIX_XCHG_REFUSE_KSM,
	.story = "the other page keyed in advance, then kpfn, then the old "
		 "page loses the key:\nget_ksm_page() always finds the node; "
		 "but the bytes were swapped in place\nbefore kpfn moved, and "
		 "stable_tree_insert() compares a new page against them\n"
		 "without a lock: the new node goes on the wrong side.",
	.setup = setup_advance,
	.actors = actors_ksm,
	.nr_actors = 2,
	.script = script_r14_advance,
	.nr_steps = 4,
	.check = check_ksm,
};

// SPDX-License-Identifier: GPL-2.0
/**
 * \file ksm_ref.c
 * \brief KSM's keyhole reference, kpfn and page migration, runnable.
 *
 * ksm_ref.c reimplements, on a small machine simulated in user space, the
 * way the kernel's KSM finds a KSM page from its stable node without
 * pinning it, and what that cost in care from 2009 to 2019: the keyhole
 * reference (seed 001), kpfn and memory hot-remove (seed 004), KSM page
 * migration with its barriers (seeds 000 and 002), and the exchange of two
 * pages (seed 003).  Names are the kernel's, so that the file can be held
 * against mm/ksm.c; simulation-only code carries the sim_ prefix.
 *
 * DOC: Overview
 *
 * KSM merges identical anonymous pages into one write-protected KSM page.
 * It keeps a stable tree of stable_nodes, one per KSM page, ordered by the
 * page's contents, and an unstable tree of candidate pages rebuilt on
 * every scan (group ksm).  The question this file is about is how a
 * stable node refers to its page.  The techniques, in the order history
 * added them:
 *
 *  1. The keyhole (2009, seed 001).  The node keeps a pointer to its page
 *     but no reference on it; get_ksm_page() peeps through the keyhole -
 *     page->mapping must still point back at the node - takes a speculative
 *     reference with get_page_unless_zero(), and checks again.  A stale
 *     node, whose page has been freed, is removed there and then.  Reclaim
 *     no longer waits for ksmd to let go of a page (R1-R3).
 *  2. kpfn (2009, seed 004).  The node names its page by frame number, so
 *     that nodes whose page lay in memory being hot-removed can be pruned
 *     without touching the vanished struct page; ksmd is locked out while
 *     memory goes offline, and other migration of KSM pages is refused
 *     (R5-R7).
 *  3. Migration everywhere (2013, seeds 000 and 002).  get_ksm_page()
 *     rereads kpfn and retries when migration moved the page; it spins
 *     while a swap cache page is frozen by migration; ksm_migrate_page()
 *     publishes the new kpfn before the old page stops naming the node,
 *     with a pair of barriers; stable_tree_search() takes and drops the
 *     page lock so that migration sees its reference (R4, R8-R12).
 *  4. Exchange (2019, seed 003).  Two pages swap contents and identities,
 *     both counts frozen at once; for KSM pages the order of the mapping
 *     swap and the kpfn update decides whether get_ksm_page() can misjudge
 *     a live node (R13, R14).
 *
 * Every line those seeds add is behind a fix switch (group fixes), each
 * year's design is an era, and each race has named race windows where a
 * script, or the explorer, decides which actor runs (group sim).  Two of
 * the races (R10, R11) need a CPU that reorders memory accesses, which
 * x86 never does to these: runs under the scheduler can follow a model of
 * a weakly ordered CPU instead (group model).  So that the explorer can
 * run a scenario thousands of times from one state, that state can be
 * saved and put back (group arena).
 *
 * Contents (each a Doxygen group and a chapter of walkthrough.md):
 *   basics     lists, bits, assertions
 *   sim        actors, fibers, scheduling points, race windows, scripts,
 *              the explorer's decisions, timelines
 *   locks      mutexes, spinlocks, rw_semaphores, wait_event()
 *   fixes      eras and fix switches
 *   model      the memory model of a weakly ordered CPU (and of Alpha)
 *   barriers   once-accesses and barriers: their C11 and model meaning
 *   arena      the machine's state: kzalloc(), snapshots
 *   memmap     sections, struct page, references, the page lock, the LRU
 *   alloc      the page allocator, bad pages, injected failures
 *   anon       processes: anon_vma, page tables, faults, fork, exit
 *   rbtree     red-black trees
 *   ksm        KSM: the scanner, the two trees, the keyhole
 *   swap       the swap device, the swap cache, swap-in, reclaim
 *   migrate    page migration
 *   hotplug    memory hotplug: offlining and onlining sections
 *   audit      the auditor
 *   selftest   self-tests of the machinery
 *   setup      building and tearing down the machine
 *
 * Lock ordering (outermost first; as mm/rmap.c's list, for what exists
 * here):
 *
 *   ksm_thread_mutex
 *     mm->mmap_sem
 *       page lock (PG_locked)
 *         swapper_space.tree_lock
 *         anon_vma->lock
 *           mm->page_table_lock
 *   ksm_mmlist_lock                 (alone: taken with nothing held)
 *   zone_lock, lru_lock, swap_lock, sim_mm_lock
 *                                   (innermost; atomic steps, never held
 *                                    across a scheduling point)
 *
 * Invariants, each checked by the auditor (group audit):
 *   - both trees are red-black trees; the stable tree's live nodes are in
 *     strictly increasing order of their pages' contents;
 *   - a KSM page names a stable node in the tree, and that node names it;
 *   - a stable node is never freed while its page still names it;
 *   - an rmap_item is on the list its flags say, and on no other;
 *   - a page's count is the sum of its ptes, caches and pins; its mapcount
 *     is the number of ptes mapping it;
 *   - a page in use is on the LRU when no one runs; its private word is
 *     its swap entry or its buffers;
 *   - every pte can be found from its page by the reverse map;
 *   - the KSM counters equal a recount of the trees;
 *   - every process reads back exactly the bytes it last wrote.
 */

/** Ask glibc for pthread and mmap extras. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "ksm_ref.h"

/* ================================================================ */
/** \defgroup basics Basics: lists, bits, assertions
 * The kernel's small vocabulary, so that the code below reads like mm/.
 * @{ */

/** Round \a x up to a multiple of the power of two \a a. */
#define ALIGN(x, a)	(((x) + (a) - 1) & ~((unsigned long)(a) - 1))
/** The structure that contains \a ptr as its member \a member. */
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
/** Hint for the compiler: this condition is rarely true. */
#define unlikely(x)	__builtin_expect(!!(x), 0)
/** Hint for the compiler: this condition is usually true. */
#define likely(x)	__builtin_expect(!!(x), 1)
/**
 * A mutable global of the simulated kernel: part of every snapshot (see
 * the group arena).
 */
#define __sim_state	__attribute__((section("ksm_ref_state")))
/** Number of elements of the array \a a. */
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
/** A function generated in a family, which some builds do not call. */
#define __maybe_unused	__attribute__((unused))

static void sim_bug(const char *file, int line, const char *rule);

/**
 * BUG_ON(cond): we have a proof that \a cond never holds; if it does,
 * stop at once and name the rule.  Used for the kernel's BUG_ON()s and for
 * the simulation's own invariants: a reference implementation that hides
 * its own contradictions teaches nothing.
 */
#define BUG_ON(cond) do {						\
	if (unlikely(cond))						\
		sim_bug(__FILE__, __LINE__, #cond);			\
} while (0)

/**
 * CONFIG_DEBUG_VM, as a run-time setting (sim_set_debug_vm(); on by
 * default).  The distributions of 2009 shipped without it; the race
 * examples run that way by default, so that a race shows what it does to
 * a production kernel rather than where a debug check would have stopped
 * it first (--debug-vm shows that too).
 */
static bool sim_debug_vm = true;

/** VM_BUG_ON(cond): the kernel's debug-only check, when CONFIG_DEBUG_VM. */
#define VM_BUG_ON(cond) do {						\
	if (sim_debug_vm && unlikely(cond))				\
		sim_bug(__FILE__, __LINE__, #cond);			\
} while (0)

/** Doubly linked list, as include/linux/list.h. */
struct list_head {
	struct list_head *next;		/**< following entry, or the head */
	struct list_head *prev;		/**< preceding entry, or the head */
};

/** Make \a list an empty list. */
static inline void INIT_LIST_HEAD(struct list_head *list)
{
	list->next = list;
	list->prev = list;
}

/** Is \a head empty? */
static inline bool list_empty(const struct list_head *head)
{
	return head->next == head;
}

/** Insert \a new between two known consecutive entries. */
static inline void __list_add(struct list_head *new, struct list_head *prev,
			      struct list_head *next)
{
	next->prev = new;
	new->next = next;
	new->prev = prev;
	prev->next = new;
}

/** Add \a new after \a head (stack order). */
static inline void list_add(struct list_head *new, struct list_head *head)
{
	__list_add(new, head, head->next);
}

/** Add \a new before \a head (queue order). */
static inline void list_add_tail(struct list_head *new, struct list_head *head)
{
	__list_add(new, head->prev, head);
}

/** Unlink \a entry and leave it pointing at itself. */
static inline void list_del_init(struct list_head *entry)
{
	entry->next->prev = entry->prev;
	entry->prev->next = entry->next;
	INIT_LIST_HEAD(entry);
}

/** The structure containing list entry \a ptr. */
#define list_entry(ptr, type, member) container_of(ptr, type, member)
/** The first entry of a non-empty list. */
#define list_first_entry(head, type, member) \
	list_entry((head)->next, type, member)

/** Singly-headed doubly linked list, as the kernel's hlist. */
struct hlist_head {
	struct hlist_node *first;	/**< first member, or NULL */
};

/** A member of an hlist. */
struct hlist_node {
	struct hlist_node *next;	/**< following member, or NULL */
	struct hlist_node **pprev;	/**< the pointer that points here */
};

/** Is \a h empty? */
static inline bool hlist_empty(const struct hlist_head *h)
{
	return !h->first;
}

/** Add \a n at the front of \a h. */
static inline void hlist_add_head(struct hlist_node *n, struct hlist_head *h)
{
	struct hlist_node *first = h->first;

	n->next = first;
	if (first)
		first->pprev = &n->next;
	h->first = n;
	n->pprev = &h->first;
}

/** Unlink \a n from whatever hlist it is on. */
static inline void hlist_del(struct hlist_node *n)
{
	struct hlist_node *next = n->next;
	struct hlist_node **pprev = n->pprev;

	*pprev = next;
	if (next)
		next->pprev = pprev;
	n->next = NULL;
	n->pprev = NULL;
}

/** The structure containing hlist member \a ptr. */
#define hlist_entry(ptr, type, member) container_of(ptr, type, member)

/** @} */

/* ================================================================ */
/** \defgroup sim Simulation: actors, scheduling points, race windows
 *
 * Every thread that stands in for a kernel actor (ksmd, a migrator,
 * reclaim, memory hotplug, a process) is a struct sim_actor.  The machine
 * runs in one of two modes:
 *
 *  - SIM_FREE: actors are ordinary pthreads running in parallel; locks
 *    are pthread locks; race windows cost one predictable branch, or a
 *    short random delay when jitter is on (stress runs use it to widen
 *    the windows).
 *
 *  - SIM_SCHED: exactly one actor runs at a time, each a fiber (a stack
 *    and a ucontext) on the thread that started the run.  At every
 *    scheduling point - a race window, a lock operation, a tracked
 *    access - the running actor asks a policy who runs next and switches
 *    to it.  A script policy replays one named interleaving (the
 *    examples); the explorer enumerates them.  Because nothing runs in
 *    parallel, a critical section with no scheduling point inside is
 *    atomic; and an abandoned run (a deadlock, a death) leaves nothing
 *    behind but its state, which a snapshot can put back (group arena).
 *
 * Simulation-only code carries the sim_ prefix; everything else keeps
 * the kernel's names.
 * @{ */

/** Most actors a scenario may run at once. */
#define SIM_MAX_ACTORS	16

/** How actors are run: see the group description. */
enum sim_mode {
	SIM_FREE,
	SIM_SCHED,
};

/** What kind of scheduling point an actor has reached. */
enum sim_point_kind {
	SP_START,	/**< actor about to run its function */
	SP_WINDOW,	/**< a named race window */
	SP_LOCK,	/**< about to take a lock */
	SP_UNLOCK,	/**< about to release a lock */
	SP_ACCESS,	/**< about to make a tracked access */
	SP_BLOCK,	/**< cannot proceed until woken */
	SP_YIELD,	/**< spinning: let the others make progress */
	SP_RESCHED,	/**< a retry loop's cond_resched(): others first */
	SP_EXIT,	/**< actor function returned */
};

/** An actor's scheduling state (SIM_SCHED). */
enum sim_actor_state {
	ACTOR_RUNNABLE,
	ACTOR_BLOCKED,	/**< waiting on wait_key */
	ACTOR_YIELDED,	/**< spinning; runnable once another actor moves */
	ACTOR_DONE,
};

/** Stores a CPU of the memory model may hold back (group model). */
#define MODEL_BUFFER	16
/** Loads of a CPU whose views a later address dependency may name. */
#define MODEL_DEPS	16
/** Commits a CPU remembers having joined into racc (a cache). */
#define MODEL_MEMO	32

/** What a store of the model does to its word when it commits. */
enum model_op {
	MODEL_SET,		/**< word = val */
	MODEL_OR,		/**< word |= val (set_bit) */
	MODEL_ANDNOT,		/**< word &= ~val (clear_bit) */
};

/**
 * A view (group model): for every tracked word, the oldest state of it
 * that may still be read.  \a floor covers every word at once (its state
 * at that time); the entries, in the run's pool and sorted by address,
 * raise single words above it.  A view is a value: joining two makes a
 * third (model_join()).
 */
struct model_view {
	unsigned long floor;	/**< every word: its state at this time */
	unsigned int off;	/**< first entry in mdl.ents */
	unsigned int n;		/**< entries */
};

/** A store waiting in a CPU's store buffer (group model). */
struct model_store {
	_Atomic unsigned long *addr;	/**< the word */
	unsigned long val;		/**< operand of op */
	enum model_op op;		/**< what it does */
	unsigned int epoch;		/**< smp_wmb()s before it */
	unsigned int seq;		/**< its number among the CPU's stores */
	bool rel;			/**< a release: after every earlier
					     store of its CPU */
	struct model_view v;		/**< what becomes visible before it */
	const char *what;		/**< its name, for traces */
};

/**
 * One CPU's state in the memory model (group model).  Only the actor
 * that is the CPU changes it, or the scheduler while no actor runs.
 */
struct model_cpu {
	struct model_store buf[MODEL_BUFFER];	/**< the store buffer, in
						     program order */
	int nr;					/**< stores in it */
	unsigned int epoch;			/**< smp_wmb()s so far */
	unsigned int seq;			/**< stores so far */
	struct model_view cur;	/**< no load reads a word from before this */
	struct model_view racc;	/**< joined views of every load's store */
	struct model_view last;	/**< the view of the last load's store */
	struct model_view wview;/**< carried by every later store */
	struct model_view wmbv;	/**< own stores before the last smp_wmb() */
	struct model_view ownv;	/**< own stores that became visible */
	struct model_view ulv;	/**< ownv at the last unlock */
	struct model_view dep;	/**< the next load's address dependency */
	/** The views of its first MODEL_DEPS loads (sim_depend_on()). */
	struct model_view loads[MODEL_DEPS];
	unsigned int nr_loads;			/**< loads so far */
	/**
	 * Commits whose views racc is known to hold (index in the history
	 * + 1, by index modulo MODEL_MEMO): racc only grows, so a word read
	 * again and again costs one lookup, not a join.
	 */
	unsigned int racc_memo[MODEL_MEMO];
};

/**
 * A fiber: a context with its own stack, which the one-at-a-time
 * scheduler switches to and from (fiber_switch()).
 */
struct fiber {
	ucontext_t ctx;			/**< its registers while switched out */
	const void *stack;		/**< its stack: the bottom (lowest) */
	size_t stack_size;		/**< ...and size; for a thread's own
					     stack, learned under ASan */
	void *tsan;			/**< ThreadSanitizer's handle, if any */
};

/** A thread standing in for a kernel actor. */
struct sim_actor {
	char name[24];			/**< "ksmd", "migrate", ... */
	int id;				/**< index in sched.actors[] */
	void (*fn)(void *arg);		/**< what it does */
	void *arg;			/**< ...with this argument */
	pthread_t thread;		/**< SIM_FREE: the thread it runs on */
	struct fiber fib;		/**< SIM_SCHED: the fiber it is */
	/* The scheduler's; in SIM_FREE the watchdog reads them: */
	_Atomic int state;		/**< enum sim_actor_state */
	const void *_Atomic wait_key;	/**< ACTOR_BLOCKED: waiting for */
	const char *_Atomic wait_what;	/**< ...described for reports */
	/* Written only by the actor itself: */
	const char *_Atomic at;		/**< last scheduling point passed */
	unsigned long points;		/**< scheduling points passed */
	struct model_cpu cpu;		/**< its CPU in the memory model */
};

/**
 * A scheduling policy (SIM_SCHED): who runs after \a cur reaches a point.
 * pick() returns the index of a runnable actor, or -1 to abandon the run.
 */
struct sim_policy {
	/**
	 * Choose who runs after \a cur reached \a kind at \a label; or,
	 * with \a commits, SCHED_COMMIT + i: the i-th waiting store of
	 * model_commits() becomes visible first.
	 */
	int (*pick)(void *ctx, struct sim_actor *cur, enum sim_point_kind kind,
		    const char *label);
	void *ctx;			/**< the policy's own state */
	/**
	 * It places the commits of waiting stores (group model), even after
	 * their CPU's thread has ended; without it, a CPU's waiting stores
	 * become visible at its releases and when its thread ends.
	 */
	bool commits;
};

/** pick() returns SCHED_COMMIT + i to make waiting store i visible. */
#define SCHED_COMMIT	SIM_MAX_ACTORS

/** The decisions of the run in progress under sim_run_choices(), or NULL. */
static struct sim_choices *choices;

/**
 * Partial-order reduction (sim_choices.por_done): the transition in
 * progress - an actor's step, a commit - and what it has touched so far.
 */
static struct {
	bool active;			/**< a transition is being recorded */
	struct sim_tid tid;		/**< which */
	struct sim_footprint fp;	/**< ...and what it touched */
} por;

void sim_fp_note(const void *obj, bool write)
{
	struct sim_footprint *fp = &por.fp;
	int i;

	if (likely(!por.active))
		return;
	if (!obj) {			/* memory as a whole */
		fp->all = true;
		return;
	}
	for (i = 0; i < fp->n; i++)
		if (fp->e[i].obj == obj) {
			fp->e[i].write |= write;
			return;
		}
	if (fp->n == SIM_FP_MAX) {
		fp->all = true;
		return;
	}
	fp->e[fp->n].obj = obj;
	fp->e[fp->n++].write = write;
}

/** A transition begins: record what it touches, if anyone asks. */
static void por_begin(struct sim_tid t, bool opaque)
{
	if (!choices || !choices->por_done)
		return;
	por.active = true;
	por.tid = t;
	memset(&por.fp, 0, sizeof(por.fp));
	por.fp.opaque = opaque;
}

/** The transition in progress is over: say what it touched. */
static void por_end(void)
{
	if (!por.active)
		return;
	por.active = false;
	if (choices && choices->por_done)
		choices->por_done(choices->por_ctx, &por.tid, &por.fp);
}

/** An actor's step, as partial-order reduction names it. */
static struct sim_tid por_step(int actor)
{
	return (struct sim_tid){ 0, (unsigned char)actor, 0 };
}

/** The actor running on this thread (the kernel's `current`). */
static _Thread_local struct sim_actor *current;

/** The main thread, when it acts outside any scenario. */
static struct sim_actor sim_main_actor = { .name = "main", .id = -1 };

/**
 * Scheduler state.  In SIM_SCHED only the running fiber touches it; in
 * SIM_FREE the actors' states are atomics the watchdog reads.
 */
static struct {
	_Atomic int mode;		/**< enum sim_mode */
	struct sim_actor *actors[SIM_MAX_ACTORS];
	int nr_actors;
	struct sim_actor *running;	/**< the one actor allowed to run */
	struct fiber main;		/**< SIM_SCHED: who started the run */
	const struct sim_policy *policy;
	bool aborted;			/**< run abandoned (deadlock, script) */
	char why[256];			/**< ...and why */
	bool jitter;			/**< SIM_FREE: random delay at windows */
} sched;

/** The current actor, or the main pseudo-actor outside any run. */
static struct sim_actor *sim_current(void)
{
	return current ? current : &sim_main_actor;
}

/** Name of the current actor, for reports. */
static const char *sim_actor_name(void)
{
	return sim_current()->name;
}

/** Is the calling thread under the one-at-a-time scheduler? */
static inline bool sim_scheduled(void)
{
	return sched.mode == SIM_SCHED && current;
}

static void sim_point(enum sim_point_kind kind, const char *label);
static void sim_jitter(void);
static void sim_trace_record(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/** Is a timeline being recorded?  Set only while no actor runs. */
static bool sim_tracing;
/**
 * Record what the current actor just did, for the timeline (a kernel
 * tracepoint, in effect): when no timeline is recorded it costs one test,
 * not a call nor the evaluation of its arguments.
 */
#define sim_trace(...) do {						\
	if (unlikely(sim_tracing))					\
		sim_trace_record(__VA_ARGS__);				\
} while (0)
static void model_start(enum sim_mode mode);
static void model_stop(void);
static void model_release(void);
static void model_lock(const void *lock);
static void model_unlock(const void *lock);
static void model_full(void);
static bool model_catch_up(void);
/** A waiting store the scheduler may make visible (group model). */
struct sched_commit {
	int actor;			/**< whose CPU's */
	int idx;			/**< its index in the store buffer */
	unsigned int seq;		/**< its number among the CPU's stores */
};
static int model_commits(struct sched_commit *out);
static void model_commit_by(const struct sched_commit *c);
static void sim_litmus_locks_free(void);

/** @} */

/* ---------------------------------------------------------------- */
/* Sanitizer annotations. */

#ifndef __has_feature
/** gcc has no __has_feature(): say no to every feature. */
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
void __asan_poison_memory_region(void const volatile *addr, size_t size);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
void *__asan_region_is_poisoned(void *beg, size_t size);
/**
 * Is any of [p, p + len) poison to ASan: freed, into our quarantine or
 * back to the allocator?  Then a debug check must not read it.
 */
static bool sim_asan_poisoned(const void *p, size_t len)
{
	return __asan_region_is_poisoned((void *)p, len) != NULL;
}
/** Mark freed memory that we keep (quarantine) as poison for ASan. */
static void sim_asan_poison(void *p, size_t len)
{
	__asan_poison_memory_region(p, len);
}
size_t __sanitizer_get_allocated_size(const volatile void *p);
/**
 * Undo sim_asan_poison() of a whole block from kzalloc() (under ASan, a
 * calloc()ed one, whose size the allocator knows) before freeing it.
 */
static void sim_asan_unpoison_block(void *p)
{
	__asan_unpoison_memory_region(p, __sanitizer_get_allocated_size(p));
}
#else
/** Without ASan, freed memory we keep can be read: never poison. */
static bool sim_asan_poisoned(const void *p, size_t len)
{
	(void)p;
	(void)len;
	return false;
}
/** Without ASan, quarantined memory is simply left alone. */
static void sim_asan_poison(void *p, size_t len) { (void)p; (void)len; }
/** Without ASan, nothing to undo. */
static void sim_asan_unpoison_block(void *p) { (void)p; }
#endif

/**
 * SIM_RACY_READS marks the functions that read page contents racily by
 * design (ksmd's checksum and compares run while processes write: that is
 * what the checksum and the write-protect-and-compare are for), so that
 * ThreadSanitizer does not report the race the kernel accepts.
 */
#if defined(__SANITIZE_THREAD__) || __has_feature(thread_sanitizer)
#define SIM_RACY_READS	__attribute__((no_sanitize("thread")))
#else
#define SIM_RACY_READS
#endif

/* ---------------------------------------------------------------- */
/** \addtogroup sim
 * @{ */

/** Print a report line and stop: the simulation contradicted itself. */
/**
 * Called with a one-line description when the simulated kernel dies (a
 * BUG, or a fault on removed memory) just before the process exits: the
 * race driver prints its timeline and verdict from here.  It may exit.
 */
static void (*sim_death_hook)(const char *what);

/** Install (or, with NULL, remove) the death hook. */
void sim_set_death_hook(void (*hook)(const char *what))
{
	sim_death_hook = hook;
}

static void sim_guard_escape(const char *msg);

/**
 * Stop with \a msg: the simulated kernel has died (a BUG, an oops).  Under
 * sim_guarded() its caller carries on; otherwise the process exits.
 */
static void sim_die(const char *msg)
{
	sim_guard_escape(msg);		/* returns only if not guarded */
	fflush(stdout);
	fprintf(stderr, "%s\n", msg);
	fflush(stderr);
	if (sim_death_hook)
		sim_death_hook(msg);
	_exit(3);
}

/**
 * The kernel would dereference a bad pointer at this point and oops:
 * say where, and what the pointer should have been.
 */
static void sim_oops(const char *where, const char *what)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "Oops in %s: %s (actor %s)", where, what,
		 sim_actor_name());
	sim_die(msg);
}

/** Print a report line and stop: a BUG_ON() fired. */
static void sim_bug(const char *file, int line, const char *rule)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "kernel BUG at %s:%d: %s (actor %s)",
		 file, line, rule, sim_actor_name());
	sim_die(msg);
}

/** Silence sim_report() (--quiet). */
static bool sim_quiet;

/** Silence or restore sim_report(). */
void sim_set_quiet(bool quiet)
{
	sim_quiet = quiet;
}

/** CONFIG_DEBUG_VM on or off (see VM_BUG_ON()). */
void sim_set_debug_vm(bool on)
{
	sim_debug_vm = on;
}

/** Print one report line on stdout. */
void sim_report(const char *fmt, ...)
{
	va_list ap;

	if (sim_quiet)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/** Can the actor at index \a i be given the CPU? */
static bool sched_runnable(int i)
{
	return atomic_load(&sched.actors[i]->state) == ACTOR_RUNNABLE;
}

/**
 * The default policy: keep running the current actor while it can run;
 * otherwise the runnable actor with the lowest index.
 */
static int sched_pick_default(struct sim_actor *cur)
{
	int i;

	if (cur && sched_runnable(cur->id))
		return cur->id;
	for (i = 0; i < sched.nr_actors; i++)
		if (sched_runnable(i))
			return i;
	return -1;
}

/** Abandon the run: every actor stops where it stands. */
static void sched_abort(const char *why)
{
	if (!sched.aborted) {
		sched.aborted = true;
		snprintf(sched.why, sizeof(sched.why), "%s", why);
	}
	sched.running = NULL;
}

static void fiber_switch(struct fiber *from, struct fiber *to);

/**
 * Abandon the run from inside an actor (a decision that cannot be taken):
 * like sched_abort(), and the actor stops here for good.
 */
static void sched_abandon(const char *why)
{
	struct sim_actor *me = current;

	sched_abort(why);
	current = NULL;
	fiber_switch(&me->fib, &sched.main);
	BUG_ON(1);			/* an abandoned actor never runs again */
}

/** Describe who is stuck on what, for a deadlock report. */
static void sched_describe_stuck(char *buf, size_t len)
{
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < sched.nr_actors && off < len; i++) {
		struct sim_actor *a = sched.actors[i];
		int st = atomic_load(&a->state);

		if (st == ACTOR_DONE)
			continue;
		if (a->wait_what)	/* blocked, in either mode */
			off += snprintf(buf + off, len - off, "%s%s blocked in "
					"%s", off ? "; " : "", a->name,
					a->wait_what);
		else if (st == ACTOR_YIELDED)
			off += snprintf(buf + off, len - off, "%s%s spinning "
					"at %s", off ? "; " : "", a->name,
					a->at ? a->at : "?");
		else
			off += snprintf(buf + off, len - off, "%s%s running",
					off ? "; " : "", a->name);
	}
}

/** Spinners other than actor \a except may try again: something moved. */
static void sched_wake_spinners(int except)
{
	int i;

	for (i = 0; i < sched.nr_actors; i++)
		if (i != except &&
		    atomic_load(&sched.actors[i]->state) == ACTOR_YIELDED)
			atomic_store(&sched.actors[i]->state, ACTOR_RUNNABLE);
}

/**
 * Choose the next actor after \a me reached a point of \a kind, and switch
 * to it; return when \a me runs again.  \a me is &sim_main_actor when the
 * run starts; when it is over (or abandoned), back to whoever started it.
 * Under a policy that places commits, waiting stores may become visible
 * here first, one decision each; the run is over when every actor has
 * finished and no store is waiting.
 */
static void sched_next(struct sim_actor *me, enum sim_point_kind kind,
		       const char *label)
{
	struct fiber *self = me->id < 0 ? &sched.main : &me->fib;
	struct sched_commit cm[SIM_MAX_ACTORS * MODEL_BUFFER];
	struct sim_actor *next_actor;
	int next, i, stuck, alive, ncm;
	char who[200];

	por_end();			/* me's step is over */
	/* Any move by another actor lets the spinners try again. */
	if (kind != SP_YIELD && kind != SP_BLOCK)
		sched_wake_spinners(me->id);
again:
	stuck = alive = 0;
	for (i = 0; i < sched.nr_actors; i++) {
		int st = atomic_load(&sched.actors[i]->state);

		alive += st != ACTOR_DONE;
		stuck += st == ACTOR_BLOCKED || st == ACTOR_YIELDED;
	}
	ncm = sched.policy && sched.policy->commits ? model_commits(cm) : 0;
	if (!alive && !ncm) {
		sched.running = NULL;		/* the run is over */
		goto over;
	}
	if (alive && stuck == alive && !ncm && kind == SP_YIELD &&
	    model_catch_up()) {
		/*
		 * Nobody can move, but under a weak model the spinners' view
		 * of memory lags: let time pass, and them look again.  For
		 * partial-order reduction, an event that touched everything.
		 */
		por_begin(por_step(me->id), true);
		sim_fp_note(NULL, true);
		por_end();
		sched_wake_spinners(-1);
		stuck = 0;
	}
	if (alive && stuck == alive && !ncm) {
		/* Nobody can move.  A spinner alone spins forever. */
		sched_describe_stuck(who, sizeof(who));
		sched_abort(who);
		snprintf(sched.why, sizeof(sched.why), "%s: %s",
			 kind == SP_YIELD ? "livelock" : "deadlock", who);
		goto over;
	}
	if (sched.policy)
		next = sched.policy->pick(sched.policy->ctx,
					  me->id < 0 ? NULL : me, kind, label);
	else
		next = sched_pick_default(me->id < 0 ? NULL : me);
	if (next >= SCHED_COMMIT && next - SCHED_COMMIT < ncm) {
		const struct sched_commit *c = &cm[next - SCHED_COMMIT];

		por_begin((struct sim_tid){ 1, (unsigned char)c->actor,
					    (unsigned short)c->seq }, false);
		model_commit_by(c);
		por_end();
		sched_wake_spinners(-1);	/* memory moved */
		goto again;
	}
	if (next < 0 || next >= sched.nr_actors || !sched_runnable(next)) {
		if (!sched.aborted)
			sched_abort("the schedule chose an actor that cannot run");
		goto over;
	}
	next_actor = sched.actors[next];
	sched.running = next_actor;
	por_begin(por_step(next), !(choices && choices->transparent));
	if (next_actor == me)
		return;
	current = next_actor;
	fiber_switch(self, &next_actor->fib);
	current = me->id < 0 ? NULL : me;
	return;
over:
	/* Back to whoever started the run; an actor never comes back. */
	por.active = false;
	if (me->id < 0)
		return;
	current = NULL;
	fiber_switch(self, &sched.main);
	BUG_ON(1);
}

/**
 * A scheduling point: in SIM_SCHED, let the policy decide who runs next.
 * \a label names the point ("lock ksm_thread_mutex", a window's name).
 */
static void sim_point(enum sim_point_kind kind, const char *label)
{
	struct sim_actor *me = current;

	if (!sim_scheduled())
		return;
	me->at = label;
	me->points++;
	sched_next(me, kind, label);
}

/**
 * Block the current actor until sim_wake(\a key) (SIM_SCHED only).  The
 * caller re-checks its condition on return: wakeups may be spurious.
 */
static void sim_block(const void *key, const char *what)
{
	struct sim_actor *me = current;

	model_full();			/* schedule() is a full barrier */
	me->wait_key = key;
	me->wait_what = what;
	atomic_store(&me->state, ACTOR_BLOCKED);
	sched_next(me, SP_BLOCK, what);
	me->wait_key = NULL;
	me->wait_what = NULL;
}

/** Make every actor blocked on \a key runnable (SIM_SCHED only). */
static void sim_wake(const void *key)
{
	int i;

	for (i = 0; i < sched.nr_actors; i++) {
		struct sim_actor *a = sched.actors[i];

		if (atomic_load(&a->state) == ACTOR_BLOCKED &&
		    a->wait_key == key)
			atomic_store(&a->state, ACTOR_RUNNABLE);
	}
}

/**
 * cpu_relax(): the current actor is spinning, waiting for another to
 * change something.  In SIM_SCHED it stays off the CPU until some other
 * actor has passed a scheduling point (if none can, that is a livelock).
 */
static void cpu_relax(void)
{
	struct sim_actor *me = current;

	if (!sim_scheduled()) {
		sched_yield();
		return;
	}
	atomic_store(&me->state, ACTOR_YIELDED);
	me->at = "cpu_relax";
	sched_next(me, SP_YIELD, "cpu_relax");
	atomic_store(&me->state, ACTOR_RUNNABLE);
}

/**
 * cond_resched(): a bounded retry loop lets others run.  Unlike
 * cpu_relax() the actor stays runnable: it is not waiting for anybody,
 * and if nobody else can run it goes on.  The explorer runs someone else
 * here if it can (a free switch, not a preemption): a retry that follows
 * a retry with nothing changed in between would only repeat it.
 */
static void cond_resched(void)
{
	if (sim_scheduled())
		sim_point(SP_RESCHED, "cond_resched");
	else
		sched_yield();
}

/** Thread body of every actor of a free run. */
static void *sim_actor_main(void *arg)
{
	struct sim_actor *me = arg;

	current = me;
	me->at = "start";
	sim_jitter();		/* free runs: start in any order */
	me->fn(me->arg);
	me->at = "done";
	atomic_store(&me->state, ACTOR_DONE);
	return NULL;
}

static void fiber_started(void);

/** Body of every actor's fiber (SIM_SCHED): it never returns. */
static void sim_actor_fiber(void)
{
	struct sim_actor *me = current;

	fiber_started();
	me->at = "start";
	me->fn(me->arg);
	if (!sched.policy || !sched.policy->commits)
		model_release();	/* its stores are all visible */
	me->at = "done";
	atomic_store(&me->state, ACTOR_DONE);
	sched_next(me, SP_EXIT, "done");
}

/** @} */

/* ---------------------------------------------------------------- */
/** \addtogroup sim
 * @{ */

/** A reordering a script asks for (a "delay X" or "old X" step). */
struct script_rule {
	int actor;			/**< whose CPU makes it */
	const char *rule;		/**< the step's text */
};

/** The script being replayed by sim_run_script(), if any. */
static struct {
	const struct sim_step *steps;	/**< its steps */
	int nr_steps;			/**< ...how many */
	int step;			/**< index of the step in progress */
	int hits;			/**< window hits so far in this step */
	char error[200];		/**< why it was abandoned */
	struct script_rule rules[8];	/**< the reorderings it asked for */
	int nr_rules;			/**< entries in rules[] */
} script;

/** Is step \a s a reordering ("delay X", "old X") rather than a run? */
static bool script_is_rule(int s)
{
	const char *u = script.steps[s].until;

	return !strncmp(u, "delay ", 6) || !strncmp(u, "old ", 4);
}

/** Split "window#n" into its name length and occurrence n (default 1). */
static size_t script_target(const char *until, int *nth)
{
	const char *hash = strchr(until, '#');

	*nth = hash ? atoi(hash + 1) : 1;
	return hash ? (size_t)(hash - until) : strlen(until);
}

/**
 * Does reaching a point of \a kind at \a label end the current step,
 * whose target \a until is "window", "window#n" (its n-th hit), "blocked"
 * (the actor sleeps or spins), "done" (it finished), or several of these
 * separated by '|' (whichever comes first: with a fix off, the code path
 * may differ)?
 */
static bool script_matches(const char *until, enum sim_point_kind kind,
			   const char *label)
{
	size_t len = strlen(label);

	while (*until) {
		const char *bar = strchr(until, '|');
		size_t alt = bar ? (size_t)(bar - until) : strlen(until);
		char one[80];
		size_t n;
		int nth;

		if (alt < sizeof(one)) {
			memcpy(one, until, alt);
			one[alt] = '\0';
			if (!strcmp(one, "blocked")) {
				if (kind == SP_BLOCK || kind == SP_YIELD)
					return true;
			} else if (!strcmp(one, "done")) {
				if (kind == SP_EXIT)
					return true;
			} else if (kind == SP_WINDOW) {
				n = script_target(one, &nth);
				if (n == len && !strncmp(label, one, n))
					return ++script.hits == nth;
			}
		}
		until += alt + (bar ? 1 : 0);
	}
	return false;
}

/** Index of the actor called \a name in the current run, or -1. */
static int sched_actor_index(const char *name)
{
	int i;

	for (i = 0; i < sched.nr_actors; i++)
		if (!strcmp(sched.actors[i]->name, name))
			return i;
	return -1;
}

/**
 * Begin step \a s of the script: return its actor, or -1 on error.  A step
 * for an actor that has already finished is vacuous, and skipped: with a
 * fix on, an actor may finish early (a migration refused, say).
 */
static int script_begin_step(int s)
{
	int a;

	script.hits = 0;
	for (; s < script.nr_steps; s++) {
		a = sched_actor_index(script.steps[s].actor);
		if (a >= 0 && script_is_rule(s) &&
		    script.nr_rules < (int)ARRAY_SIZE(script.rules)) {
			script.rules[script.nr_rules].actor = a;
			script.rules[script.nr_rules++].rule =
				script.steps[s].until;
			continue;
		}
		if (a < 0 || atomic_load(&sched.actors[a]->state) !=
		    ACTOR_DONE)
			break;
	}
	script.step = s;
	if (s >= script.nr_steps)
		return sched_pick_default(NULL);
	a = sched_actor_index(script.steps[s].actor);
	if (a < 0 || !sched_runnable(a)) {
		snprintf(script.error, sizeof(script.error),
			 "step %d: actor %s cannot run%s%s", s + 1,
			 script.steps[s].actor, a < 0 ? " (no such actor)" :
			 " (it is blocked in ",
			 a < 0 ? "" : (sched.actors[a]->wait_what ?
				       sched.actors[a]->wait_what : "?"));
		if (a >= 0)
			strncat(script.error, ")",
				sizeof(script.error) - strlen(script.error) - 1);
		return -1;
	}
	return a;
}

/**
 * The script policy: run each step's actor until it reaches the step's
 * window (or blocks, or finishes, as the step says), then the next step's.
 * After the last step, run whatever is left to completion.
 */
static int script_pick(void *ctx, struct sim_actor *cur,
		       enum sim_point_kind kind, const char *label)
{
	const struct sim_step *st;

	(void)ctx;
	if (!cur)
		return script_begin_step(0);
	if (script.step >= script.nr_steps)
		return sched_pick_default(cur);
	st = &script.steps[script.step];
	if (strcmp(cur->name, st->actor))
		return sched_pick_default(cur);	/* cannot happen */
	if (script_matches(st->until, kind, label))
		return script_begin_step(script.step + 1);
	if (kind == SP_BLOCK || kind == SP_YIELD || kind == SP_EXIT) {
		snprintf(script.error, sizeof(script.error),
			 "step %d: %s %s before reaching %s", script.step + 1,
			 cur->name, kind == SP_EXIT ? "finished" :
			 kind == SP_YIELD ? "span" : "blocked", st->until);
		return -1;
	}
	return cur->id;
}

/** The policy of sim_run_script(). */
static const struct sim_policy script_policy = { .pick = script_pick };


/**
 * Take the next decision of an explored run: option \a choice of \a nopts
 * of \a kind, from the prefix while there is one, else option 0; write it
 * down.  \a costly says the options but 0 count against a bound.  Returns
 * the option, or -1 (with \a why filled in) when the prefix asks for an
 * option this run does not have.
 */
static int sim_decide(enum sim_choice_kind kind, int nopts, bool costly,
		      char *why, size_t len)
{
	struct sim_decision d = { 0, (unsigned char)nopts, (unsigned char)kind,
				  costly };
	unsigned int i = choices->nr++;

	if (i < choices->nr_prefix) {
		const struct sim_decision *p = &choices->prefix[i];

		if (p->choice >= nopts ||
		    (p->nopts && (p->nopts != nopts || p->kind != kind))) {
			snprintf(why, len, "decision %u asks for option %d "
				 "(of %d%s), but this run has %d of %s: the "
				 "schedule does not fit it", i, p->choice,
				 p->nopts ? p->nopts : p->choice + 1,
				 p->nopts ? "" : " or more", nopts,
				 kind == SIM_CHOICE_SCHED ? "who runs" :
				 kind == SIM_CHOICE_STORE ? "a store" :
				 "a load");
			choices->misfit = true;
			return -1;
		}
		d.choice = p->choice;
	}
	if (i < choices->max)
		choices->log[i] = d;
	return d.choice;
}

/**
 * A decision of who runs next (or which waiting store becomes visible),
 * among \a nopts transitions named \a tid, with partial-order reduction
 * if the run has it.  Returns the option; -1 (with \a why) when the
 * prefix does not fit; -2 when every option is asleep (the run is
 * redundant).  With one option there is no decision, but the reduction
 * is still told.
 */
static int sim_decide_sched(int nopts, bool costly, const struct sim_tid *tid,
			    char *why, size_t len)
{
	unsigned int i = choices->nr;
	bool in_prefix = i < choices->nr_prefix;
	int c, p;

	if (nopts < 2)
		return choices->por_pick &&
		       choices->por_pick(choices->por_ctx, -1, tid, nopts,
					 -1) < 0 ? -2 : 0;
	c = sim_decide(SIM_CHOICE_SCHED, nopts, costly, why, len);
	if (c < 0 || !choices->por_pick)
		return c;
	p = choices->por_pick(choices->por_ctx, (int)i, tid, nopts,
			      in_prefix ? c : -1);
	if (p < 0 || p >= nopts)
		return -2;
	if (!in_prefix && i < choices->max)
		choices->log[i].choice = (unsigned char)p;
	return p;
}

/** How a preemption at a point of \a kind reads in a timeline. */
static const char *const preempt_where[] = {
	[SP_WINDOW] = "at", [SP_LOCK] = "before taking",
	[SP_UNLOCK] = "before releasing", [SP_ACCESS] = "before",
};

/** Most options of one decision (sim_decision.nopts is a byte). */
#define SCHED_MAX_OPTIONS	200

/**
 * The explorer's policy: the options are the running actor, if it can go
 * on, then every other runnable actor in order, then every waiting store
 * that may become visible now (group model); taking any but the first
 * while the running actor could go on is a preemption, which costs.  When
 * the running actor blocked, spun, or finished, every option is free.
 */
static int explore_pick(void *ctx, struct sim_actor *cur,
			enum sim_point_kind kind, const char *label)
{
	struct sched_commit cm[SIM_MAX_ACTORS * MODEL_BUFFER];
	struct sim_tid tid[SCHED_MAX_OPTIONS];
	int opt[SCHED_MAX_OPTIONS], n = 0, ncm, i, c;
	bool por = choices->por_pick != NULL;
	bool preemptive = cur && sched_runnable(cur->id) &&
			  kind != SP_EXIT && kind != SP_START &&
			  kind != SP_RESCHED;
	char why[160];

	(void)ctx;
	/*
	 * No preemption just before a release: one just after it, or just
	 * before whoever else wants the lock takes it, reaches every state
	 * that one would (at the cost of one more preemption at most).  Not
	 * under partial-order reduction, whose argument assumes every
	 * enabled transition is an option.
	 */
	if (preemptive && kind == SP_UNLOCK && !por)
		return cur->id;
	if (preemptive)
		opt[n++] = cur->id;
	for (i = 0; i < sched.nr_actors; i++)
		if (sched_runnable(i) && !(preemptive && i == cur->id) &&
		    !(kind == SP_RESCHED && i == cur->id))
			opt[n++] = i;
	if (!n && kind == SP_RESCHED)
		opt[n++] = cur->id;	/* nobody else: go on */
	ncm = model_commits(cm);
	for (i = 0; i < ncm && n < SCHED_MAX_OPTIONS; i++)
		opt[n++] = SCHED_COMMIT + i;
	if (!n)
		return -1;
	for (i = 0; i < n; i++)
		tid[i] = opt[i] < SCHED_COMMIT ? por_step(opt[i]) :
			 (struct sim_tid){ 1, (unsigned char)
					   cm[opt[i] - SCHED_COMMIT].actor,
					   (unsigned short)
					   cm[opt[i] - SCHED_COMMIT].seq };
	c = sim_decide_sched(n, preemptive, tid, why, sizeof(why));
	if (c == -2) {
		choices->asleep = true;
		sched_abort("every option is asleep (partial-order reduction)");
		return -1;
	}
	if (c < 0) {
		sched_abort(why);
		return -1;
	}
	if (c && preemptive && opt[c] < SCHED_COMMIT)
		sim_trace("(preempted %s %s: %s runs)",
			  kind < (int)ARRAY_SIZE(preempt_where) &&
			  preempt_where[kind] ? preempt_where[kind] : "at",
			  label, sched.actors[opt[c]]->name);
	return opt[c];
}

/** The policy of sim_run_choices(). */
static const struct sim_policy explore_policy = { .pick = explore_pick,
						  .commits = true };

/* ---------------------------------------------------------------- */
/* Fibers. */

#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
void __sanitizer_start_switch_fiber(void **fake_stack_save,
				    const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save,
				     const void **bottom_old,
				     size_t *size_old);
/** ASan: a fiber switch is about to happen (to \a to; \a save: NULL if
 * the one leaving never comes back). */
#define FIBER_LEAVE(save, to) \
	__sanitizer_start_switch_fiber(save, (to)->stack, (to)->stack_size)
/** ASan: a fiber switch has happened, from \a from. */
#define FIBER_ARRIVE(fake, from) __sanitizer_finish_switch_fiber(fake, \
	(from) ? &(from)->stack : NULL, (from) ? &(from)->stack_size : NULL)
#else
/** Without ASan a fiber switch needs no telling. */
#define FIBER_LEAVE(save, to)	((void)(save), (void)(to))
/** Without ASan a fiber switch needs no telling. */
#define FIBER_ARRIVE(fake, from) ((void)(fake), (void)(from))
#endif
#if defined(__SANITIZE_THREAD__) || __has_feature(thread_sanitizer)
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned int flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned int flags);
/** TSan: a new fiber's handle. */
#define FIBER_TSAN_CREATE()	__tsan_create_fiber(0)
/** TSan: the calling thread's own handle. */
#define FIBER_TSAN_SELF()	__tsan_get_current_fiber()
/** TSan: forget a fiber. */
#define FIBER_TSAN_DESTROY(f)	__tsan_destroy_fiber(f)
/** TSan: about to switch to \a to (a switch synchronizes, as a hand-over
 * of the CPU does). */
#define FIBER_TSAN_SWITCH(to)	__tsan_switch_to_fiber((to)->tsan, 0)
#else
/** Without TSan, no handles. */
#define FIBER_TSAN_CREATE()	NULL
/** Without TSan, no handles. */
#define FIBER_TSAN_SELF()	NULL
/** Without TSan, nothing to forget. */
#define FIBER_TSAN_DESTROY(f)	((void)(f))
/** Without TSan, nothing to tell. */
#define FIBER_TSAN_SWITCH(to)	((void)(to))
#endif

/** Stack of each fiber (sanitizers need room for their redzones). */
#define FIBER_STACK	(4UL << 20)

/** The fiber stacks: one per actor, and one for sim_guarded(). */
static void *fiber_stacks[SIM_MAX_ACTORS + 1];

/** The fiber that last switched away (to tell ASan whose stack it was). */
static struct fiber *fiber_from;

/**
 * Switch from \a from (saving its context) to \a to; return when someone
 * switches back to \a from.
 */
static void fiber_switch(struct fiber *from, struct fiber *to)
{
	void *fake = NULL;

	FIBER_LEAVE(&fake, to);
	FIBER_TSAN_SWITCH(to);
	fiber_from = from;
	swapcontext(&from->ctx, &to->ctx);
	FIBER_ARRIVE(fake, fiber_from);
}

/** Switch to \a to for good: the context we leave is dropped. */
static void fiber_jump(struct fiber *to)
{
	FIBER_LEAVE(NULL, to);
	FIBER_TSAN_SWITCH(to);
	fiber_from = NULL;
	setcontext(&to->ctx);
	abort();
}

/** First thing a new fiber does: tell ASan it has arrived. */
static void fiber_started(void)
{
	FIBER_ARRIVE(NULL, fiber_from);
}

/**
 * Make \a f a fiber that will run \a fn on stack number \a slot.
 * Returns 0, or -ENOMEM.
 */
static int fiber_make(struct fiber *f, int slot, void (*fn)(void))
{
	if (!fiber_stacks[slot]) {
		void *m = mmap(NULL, FIBER_STACK, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
			       MAP_STACK, -1, 0);

		if (m == MAP_FAILED)
			return -ENOMEM;
		fiber_stacks[slot] = m;
	}
	getcontext(&f->ctx);
	f->ctx.uc_stack.ss_sp = fiber_stacks[slot];
	f->ctx.uc_stack.ss_size = FIBER_STACK;
	f->ctx.uc_link = NULL;
	makecontext(&f->ctx, fn, 0);
	f->stack = fiber_stacks[slot];
	f->stack_size = FIBER_STACK;
	f->tsan = FIBER_TSAN_CREATE();
	return 0;
}

/** Forget a run's actors, whatever state they are in. */
static void sched_reset(void)
{
	int i;

	for (i = 0; i < sched.nr_actors; i++) {
		if (sched.mode == SIM_SCHED)
			FIBER_TSAN_DESTROY(sched.actors[i]->fib.tsan);
		free(sched.actors[i]);
		sched.actors[i] = NULL;
	}
	sched.nr_actors = 0;
	sched.running = NULL;
	sched.mode = SIM_FREE;
	sched.policy = NULL;
	if (por.active)		/* only ever set under SIM_SCHED: free runs'
				   threads read it, unwritten */
		por.active = false;
	model_stop();
}

/** A run under sim_guarded(): where to go back to if the kernel dies. */
static struct {
	bool armed;			/**< a death returns to caller */
	bool died;			/**< ...and one did */
	char what[256];			/**< what killed it */
	struct fiber caller;		/**< who called sim_guarded() */
	struct fiber self;		/**< the fiber fn runs on */
	void (*fn)(void *arg);		/**< what to run */
	void *arg;			/**< ...with this */
} guard;

/** The guarded fiber's body. */
static void guard_fiber(void)
{
	fiber_started();
	guard.fn(guard.arg);
	guard.armed = false;
	fiber_jump(&guard.caller);
}

int sim_guarded(void (*fn)(void *arg), void *arg, char *what, size_t len)
{
	if (guard.armed || fiber_make(&guard.self, SIM_MAX_ACTORS,
				      guard_fiber))
		return -EBUSY;
	guard.fn = fn;
	guard.arg = arg;
	guard.died = false;
	guard.armed = true;
	guard.caller.tsan = FIBER_TSAN_SELF();
	fiber_switch(&guard.caller, &guard.self);
	FIBER_TSAN_DESTROY(guard.self.tsan);
	guard.armed = false;
	current = NULL;
	if (!guard.died)
		return 0;
	sched_reset();
	if (what)
		snprintf(what, len, "%s", guard.what);
	return 1;
}

/** sim_die() under sim_guarded(): back to its caller, for good. */
static void sim_guard_escape(const char *msg)
{
	if (!guard.armed)
		return;
	guard.armed = false;
	guard.died = true;
	snprintf(guard.what, sizeof(guard.what), "%s", msg);
	fiber_jump(&guard.caller);
}

/**
 * Reset the scheduler and create the actors: fibers for SIM_SCHED,
 * threads for SIM_FREE.
 */
static int sched_start(const struct sim_actor_spec *specs, int n,
		       enum sim_mode mode, const struct sim_policy *policy)
{
	int i;

	if (n <= 0 || n > SIM_MAX_ACTORS)
		return -EINVAL;
	sched_reset();
	model_start(mode);
	sim_litmus_locks_free();
	sched.mode = mode;
	sched.policy = policy;
	sched.aborted = false;
	sched.why[0] = '\0';
	for (i = 0; i < n; i++) {
		struct sim_actor *a = calloc(1, sizeof(*a));

		if (!a)
			return -ENOMEM;
		sched.actors[i] = a;
		sched.nr_actors = i + 1;
		snprintf(a->name, sizeof(a->name), "%s", specs[i].name);
		a->id = i;
		a->fn = specs[i].fn;
		a->arg = specs[i].arg;
		atomic_store(&a->state, ACTOR_RUNNABLE);
		if (mode == SIM_SCHED &&
		    fiber_make(&a->fib, i, sim_actor_fiber))
			return -ENOMEM;
	}
	if (mode == SIM_SCHED) {
		sched.main.tsan = FIBER_TSAN_SELF();
		return 0;
	}
	for (i = 0; i < n; i++)
		if (pthread_create(&sched.actors[i]->thread, NULL,
				   sim_actor_main, sched.actors[i]))
			return -EAGAIN;
	return 0;
}

/** Has every actor finished? */
static bool sched_all_done(void)
{
	int i;

	for (i = 0; i < sched.nr_actors; i++)
		if (atomic_load(&sched.actors[i]->state) != ACTOR_DONE)
			return false;
	return true;
}

/** Why the last run was abandoned, for sim_run_error(). */
static char sim_run_why[320];

/** Why the last run failed ("" if it did not). */
const char *sim_run_error(void)
{
	return sim_run_why;
}

/**
 * Run actors one at a time under \a policy (NULL: each runs until it
 * blocks).  Returns 0 when all finished, -EDEADLK when the run was
 * abandoned (deadlock, livelock, a policy error); sim_run_error() says why.
 * An abandoned run leaves the machine mid-operation: nothing more may run
 * on it until a snapshot is restored.
 */
static int sim_run_sched(const struct sim_actor_spec *specs, int n,
			 const struct sim_policy *policy)
{
	int err;

	sim_run_why[0] = '\0';
	err = sched_start(specs, n, SIM_SCHED, policy);
	if (err) {
		sched_reset();
		return err;
	}
	sched_next(&sim_main_actor, SP_START, "start");
	BUG_ON(!sched.aborted && !sched_all_done());
	if (sched.aborted)
		snprintf(sim_run_why, sizeof(sim_run_why), "%s",
			 script.error[0] ? script.error : sched.why);
	err = sched.aborted ? -EDEADLK : 0;
	sched_reset();
	return err;
}

/** Replay \a steps (see struct sim_step).  Returns as sim_run_sched(). */
int sim_run_script(const struct sim_actor_spec *specs, int n,
		   const struct sim_step *steps, int nr_steps)
{
	memset(&script, 0, sizeof(script));
	choices = NULL;
	script.steps = steps;
	script.nr_steps = nr_steps;
	return sim_run_sched(specs, n, &script_policy);
}

int sim_run_choices(const struct sim_actor_spec *specs, int n,
		    struct sim_choices *c)
{
	int err;

	memset(&script, 0, sizeof(script));
	choices = c;
	c->nr = 0;
	c->misfit = false;
	c->asleep = false;
	err = sim_run_sched(specs, n, &explore_policy);
	if (!err)
		choices = NULL;
	return err;
}

/**
 * Run actors as free pthreads.  If they have not all finished within
 * \a timeout_ms, the watchdog names each stuck actor and what it waits
 * for, and -ETIMEDOUT is returned (the stuck threads are left behind).
 */
int sim_run_free(const struct sim_actor_spec *specs, int n,
		 unsigned int timeout_ms)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	unsigned int waited = 0;
	int i, err;

	sim_run_why[0] = '\0';
	err = sched_start(specs, n, SIM_FREE, NULL);
	if (err)
		return err;
	while (!sched_all_done()) {
		if (timeout_ms && waited >= timeout_ms) {
			size_t off;

			off = snprintf(sim_run_why, sizeof(sim_run_why),
				       "watchdog: no progress for %u ms: ",
				       timeout_ms);
			sched_describe_stuck(sim_run_why + off,
					     sizeof(sim_run_why) - off);
			sched.nr_actors = 0;	/* left behind, with their
						   threads */
			sched.mode = SIM_FREE;
			return -ETIMEDOUT;
		}
		nanosleep(&ts, NULL);
		waited += 5;
	}
	for (i = 0; i < n; i++)
		pthread_join(sched.actors[i]->thread, NULL);
	sched_reset();
	return 0;
}

/** SIM_FREE: delay at race windows to make races likelier (stress). */
void sim_set_jitter(bool on)
{
	sched.jitter = on;
}

/** A tiny per-thread random number generator (xorshift). */
static unsigned int sim_rand(void)
{
	static _Thread_local unsigned int x;

	if (!x)
		x = (unsigned int)(uintptr_t)&x ^ (unsigned int)time(NULL) ^
		    (unsigned int)(uintptr_t)pthread_self();
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

/** @} */

/* ---------------------------------------------------------------- */
/** \addtogroup sim
 * @{ */

/**
 * Named race windows: the places where races happen (race_windows[] says
 * where each is and what holds there).  In SIM_SCHED each is a scheduling
 * point that a script can stop at; in SIM_FREE it costs a branch, or a
 * short random delay under jitter.
 */
enum race_window {
	RW_GET_KSM_PAGE_AGAIN,	/**< get_ksm_page:again */
	RW_GET_KSM_PAGE_LOOK,	/**< get_ksm_page:look */
	RW_GET_KSM_PAGE_PEEKED,	/**< get_ksm_page:peeked */
	RW_GET_KSM_PAGE_GOT,	/**< get_ksm_page:got */
	RW_GET_KSM_PAGE_LOCKED,	/**< get_ksm_page:locked */
	RW_GET_KSM_PAGE_STALE,	/**< get_ksm_page:stale */
	RW_KSM_SEARCH_FOUND,	/**< stable_tree_search:found */
	RW_KSM_MERGE_DONE,	/**< cmp_and_merge_page:merged */
	RW_MIGRATE_LOCKED,	/**< unmap_and_move:locked */
	RW_MIGRATE_UNMAPPED,	/**< unmap_and_move:unmapped */
	RW_MIGRATE_FROZEN,	/**< migrate_page_move_mapping:frozen */
	RW_MIGRATE_MOVED,	/**< migrate_page_move_mapping:moved */
	RW_KSM_MIGRATE_KPFN,	/**< ksm_migrate_page:kpfn */
	RW_MIGRATE_COPIED,	/**< migrate_page_copy:copied */
	RW_NUMA_CHECKED,	/**< check_pte_range:checked */
	RW_OFFLINE_GOING,	/**< offline_pages:going */
	RW_OFFLINE_ISOLATED,	/**< offline_pages:isolated */
	RW_OFFLINE_PRUNE_READ,	/**< ksm_check_stable_tree:read */
	RW_FIND_GET_PAGE_SLOT,	/**< find_get_page:slot */
	RW_FIND_GET_PAGE_GOT,	/**< find_get_page:got */
	RW_FILE_READ_GOT,	/**< file_read:got */
	RW_WRITEBACK_IO,	/**< writeback:io */
	RW_PFN_WALK_GOT,	/**< pfn_walk:got */
	RW_FAULT_ALLOCATED,	/**< do_anonymous_page:allocated */
	RW_WP_COPIED,	/**< do_wp_page:copied */
	RW_SWAPIN_LOCKED,	/**< do_swap_page:locked */
	RW_XCHG_LOCKED,	/**< unmap_and_exchange:locked */
	RW_XCHG_UNMAPPED,	/**< unmap_and_exchange:unmapped */
	RW_XCHG_TO_FROZEN,	/**< exchange_page_move_mapping:to_frozen */
	RW_XCHG_FROZEN,	/**< exchange_page_move_mapping:frozen */
	RW_XCHG_SWAPPED,	/**< exchange_page_move_mapping:swapped */
	RW_XCHG_KPFN,	/**< ksm_exchange_page:kpfn */
	RW_XCHG_UNFROZEN,	/**< exchange_page_move_mapping:unfrozen */
	RW_XCHG_EXCHANGED,	/**< exchange_page:exchanged */
	NR_RACE_WINDOWS
};

/** A race window: its name, where it is, and what holds there. */
struct race_window_info {
	const char *name;	/**< as scripts and replays spell it */
	const char *where;	/**< the function(s) of this file it is in */
	const char *holds;	/**< the state an actor stopped there is in */
};

/** The race windows (race --list-windows prints this table). */
static const struct race_window_info race_windows[NR_RACE_WINDOWS] = {
	[RW_GET_KSM_PAGE_AGAIN] = { "get_ksm_page:again", "get_ksm_page",
		"about to read kpfn (again)" },
	[RW_GET_KSM_PAGE_LOOK] = { "get_ksm_page:look", "get_ksm_page",
		"has the page kpfn names, before the first check" },
	[RW_GET_KSM_PAGE_PEEKED] = { "get_ksm_page:peeked", "get_ksm_page",
		"the mapping matched the key, no reference yet" },
	[RW_GET_KSM_PAGE_GOT] = { "get_ksm_page:got", "get_ksm_page",
		"a reference taken, before the recheck" },
	[RW_GET_KSM_PAGE_LOCKED] = { "get_ksm_page:locked", "get_ksm_page",
		"the page locked, before the check after the lock" },
	[RW_GET_KSM_PAGE_STALE] = { "get_ksm_page:stale", "get_ksm_page",
		"about to judge the node stale" },
	[RW_KSM_SEARCH_FOUND] = { "stable_tree_search:found", "stable_tree_search",
		"a stable node's page matches; not yet locked" },
	[RW_KSM_MERGE_DONE] = { "cmp_and_merge_page:merged", "cmp_and_merge_page",
		"merged into a KSM page, the rmap_item appended" },
	[RW_MIGRATE_LOCKED] = { "unmap_and_move:locked", "unmap_and_move",
		"migration holds the old page's lock; ptes still map it" },
	[RW_MIGRATE_UNMAPPED] = { "unmap_and_move:unmapped", "unmap_and_move",
		"the page's ptes are migration (or swap) entries" },
	[RW_MIGRATE_FROZEN] = { "migrate_page_move_mapping:frozen", "migrate_page_move_mapping",
		"a swap cache page's count is frozen at 0" },
	[RW_MIGRATE_MOVED] = { "migrate_page_move_mapping:moved", "move_to_new_page",
		"the mapping moved to the new page, the bytes not yet" },
	[RW_KSM_MIGRATE_KPFN] = { "ksm_migrate_page:kpfn", "ksm_migrate_page",
		"the new kpfn stored; the old page still carries the key" },
	[RW_MIGRATE_COPIED] = { "migrate_page_copy:copied", "migrate_page_copy",
		"ksm_migrate_page() done; the ptes not yet the new page's" },
	[RW_NUMA_CHECKED] = { "check_pte_range:checked", "sim_mbind",
		"a NUMA path checked PageKsm, and has not isolated the page" },
	[RW_OFFLINE_GOING] = { "offline_pages:going", "__sim_offline_section",
		"MEM_GOING_OFFLINE has been sent" },
	[RW_OFFLINE_ISOLATED] = { "offline_pages:isolated", "__sim_offline_section",
		"every frame of the section free; MEM_OFFLINE not yet sent" },
	[RW_OFFLINE_PRUNE_READ] = { "ksm_check_stable_tree:read", "ksm_check_stable_tree",
		"the prune has read a node's kpfn" },
	[RW_FIND_GET_PAGE_SLOT] = { "find_get_page:slot", "find_get_page",
		"the page cache slot read, no reference yet" },
	[RW_FIND_GET_PAGE_GOT] = { "find_get_page:got", "find_get_page",
		"a reference taken, the slot not looked at again" },
	[RW_FILE_READ_GOT] = { "file_read:got", "sim_file_read",
		"read(2) has the page, and has not copied from it" },
	[RW_WRITEBACK_IO] = { "writeback:io", "sim_file_writeback",
		"the page under writeback, its I/O not yet done" },
	[RW_PFN_WALK_GOT] = { "pfn_walk:got", "__sim_pfn_walk",
		"a pfn walker holds a speculative reference" },
	[RW_FAULT_ALLOCATED] = { "do_anonymous_page:allocated", "do_anonymous_page",
		"a first touch has its new page, no pte yet" },
	[RW_WP_COPIED] = { "do_wp_page:copied", "do_wp_page",
		"a write fault has copied the page, no pte yet" },
	[RW_SWAPIN_LOCKED] = { "do_swap_page:locked", "do_swap_page",
		"a swap-in holds the swap cache page's lock" },
	[RW_XCHG_LOCKED] = { "unmap_and_exchange:locked", "unmap_and_exchange",
		"the exchange holds from_page's lock" },
	[RW_XCHG_UNMAPPED] = { "unmap_and_exchange:unmapped", "unmap_and_exchange",
		"both pages' ptes are migration entries" },
	[RW_XCHG_TO_FROZEN] = { "exchange_page_move_mapping:to_frozen", "exchange_page_move_mapping",
		"the file page's count is frozen" },
	[RW_XCHG_FROZEN] = { "exchange_page_move_mapping:frozen", "exchange_page_move_mapping",
		"both counts frozen (or checked)" },
	[RW_XCHG_SWAPPED] = { "exchange_page_move_mapping:swapped", "exchange_page_mappings",
		"the mappings exchanged (or keyed in advance)" },
	[RW_XCHG_KPFN] = { "ksm_exchange_page:kpfn", "ksm_exchange_page, ksm_exchange_kpfn_first",
		"a stable node's kpfn names the other page" },
	[RW_XCHG_UNFROZEN] = { "exchange_page_move_mapping:unfrozen", "exchange_page_move_mapping",
		"both counts unfrozen" },
	[RW_XCHG_EXCHANGED] = { "exchange_page:exchanged", "exchange_from_to_pages",
		"the bytes exchanged, the flags not yet" },
};

/** Is \a name (optionally with "#n") a race window?  For scripts. */
bool sim_window_exists(const char *name)
{
	int i, nth;
	size_t n = script_target(name, &nth);

	for (i = 0; i < NR_RACE_WINDOWS; i++)
		if (strlen(race_windows[i].name) == n &&
		    !strncmp(race_windows[i].name, name, n))
			return nth > 0;
	return false;
}

/** Name of race window \a i, or NULL past the last. */
const char *sim_window_name(int i)
{
	return i >= 0 && i < NR_RACE_WINDOWS ? race_windows[i].name : NULL;
}

/** Where race window \a i is (function names), or NULL past the last. */
const char *sim_window_where(int i)
{
	return i >= 0 && i < NR_RACE_WINDOWS ? race_windows[i].where : NULL;
}

/** What holds at race window \a i, or NULL past the last. */
const char *sim_window_holds(int i)
{
	return i >= 0 && i < NR_RACE_WINDOWS ? race_windows[i].holds : NULL;
}

/**
 * SIM_FREE with jitter on: hold a window open for a random while (up to
 * ~50 microseconds), or not at all, so that free-running actors meet in
 * it far more often than they would by chance.
 */
static void sim_jitter(void)
{
	struct timespec ts;

	if (likely(!sched.jitter) || !current || (sim_rand() & 1))
		return;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)(sim_rand() % 50000);
	if (sim_rand() & 1)
		nanosleep(&ts, NULL);
	else
		sched_yield();
}

/** A race window: see enum race_window. */
static void race_window(enum race_window w)
{
	if (sim_scheduled())
		sim_point(SP_WINDOW, race_windows[w].name);
	else
		sim_jitter();
}

/**
 * A scenario's own pause point: a scheduling point that a script can stop
 * at, named by the scenario (say "C:wrote"), for the user-space side of
 * an interleaving.  The kernel side's windows are race_window()s.
 */
void sim_pause_point(const char *name)
{
	if (sim_scheduled())
		sim_point(SP_WINDOW, name);
	else
		sim_jitter();
}

/* ---------------------------------------------------------------- */

/** What a line of the trace is. */
enum trace_kind {
	TRACE_STEP,	/**< something an actor did: a box on its line */
	TRACE_PASS,	/**< something one actor passed to another: an arrow */
	TRACE_NOTE,	/**< the run's outcome, across every line */
};

/** One line of an actor's part in a timeline. */
struct sim_trace_entry {
	unsigned char kind;	/**< enum trace_kind */
	signed char actor;	/**< column: the actor (a PASS: the taker) */
	signed char from;	/**< a PASS: the giver's column */
	/**
	 * A STEP: the fix whose line, switched off, would have acted here,
	 * or -1; a NOTE: 1 if it tells of harm.
	 */
	signed char fix;
	char text[160];		/**< what it did */
};

/** Most things given and not yet taken, remembered for arrows. */
#define TRACE_GIVES	32

/** Something an actor gave up, which another may take (an arrow). */
struct trace_give {
	const void *obj;		/**< a page, a lock, a kpfn */
	unsigned long value;		/**< what was given: a kpfn's value */
	char from[24];			/**< the giver's name */
	char label[40];			/**< "pfn 1", "kpfn 513", a lock */
};

/** The trace of the current scenario: what each actor did, in order. */
static struct {
	pthread_mutex_t lock;
	struct sim_trace_entry *ent;
	size_t nr, cap;
	char names[SIM_MAX_ACTORS][24];
	int nr_names;
	/** Per column: a fix skipped, to mark that actor's next step. */
	signed char skipped[SIM_MAX_ACTORS];
	/** The fixes whose skipped lines are marked (a bit each). */
	unsigned long highlight;
	/** What actors gave (sim_trace_give()), for the takers' arrows. */
	struct trace_give gives[TRACE_GIVES];
	unsigned int nr_gives;		/**< gives made (a ring of them) */
} trace = { .lock = PTHREAD_MUTEX_INITIALIZER, .highlight = ~0UL };

/** The width a timeline fills, in columns (sim_timeline_set_width()). */
static unsigned int timeline_width = 96;

void sim_timeline_set_width(unsigned int columns)
{
	timeline_width = columns < 40 ? 40 : columns;
}

/** Start (or stop and forget) recording a trace. */
void sim_trace_enable(bool on)
{
	pthread_mutex_lock(&trace.lock);
	sim_tracing = on;
	trace.nr = 0;
	trace.nr_names = 0;
	trace.nr_gives = 0;
	memset(trace.skipped, -1, sizeof(trace.skipped));
	pthread_mutex_unlock(&trace.lock);
}

void sim_trace_stop(void)
{
	pthread_mutex_lock(&trace.lock);
	sim_tracing = false;
	pthread_mutex_unlock(&trace.lock);
}

void sim_trace_highlight(unsigned long fixes)
{
	trace.highlight = fixes;
}

/** Index of actor \a name's column in the trace.  Holds trace.lock. */
static int trace_column_of(const char *name)
{
	int i;

	for (i = 0; i < trace.nr_names; i++)
		if (!strcmp(trace.names[i], name))
			return i;
	if (trace.nr_names == SIM_MAX_ACTORS)
		return SIM_MAX_ACTORS - 1;
	snprintf(trace.names[trace.nr_names], sizeof(trace.names[0]), "%s",
		 name);
	return trace.nr_names++;
}

/** Index of the current actor's column in the trace.  Holds trace.lock. */
static int trace_column(void)
{
	return trace_column_of(sim_actor_name());
}

/** A new line of the trace, or NULL.  Holds trace.lock. */
static struct sim_trace_entry *trace_append(enum trace_kind kind)
{
	struct sim_trace_entry *e;

	if (trace.nr == trace.cap) {
		size_t cap = trace.cap ? 2 * trace.cap : 256;
		void *p = realloc(trace.ent, cap * sizeof(*trace.ent));

		if (!p)
			return NULL;
		trace.ent = p;
		trace.cap = cap;
	}
	e = &trace.ent[trace.nr++];
	e->kind = kind;
	e->from = e->fix = -1;
	return e;
}

/** Record a line of the timeline: see sim_trace(). */
static void sim_trace_record(const char *fmt, ...)
{
	struct sim_trace_entry *e;
	va_list ap;

	pthread_mutex_lock(&trace.lock);
	e = trace_append(TRACE_STEP);
	if (e) {
		e->actor = (signed char)trace_column();
		e->fix = trace.skipped[e->actor];
		trace.skipped[e->actor] = -1;
		va_start(ap, fmt);
		vsnprintf(e->text, sizeof(e->text), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&trace.lock);
}

/**
 * fix_on() found \a fix off: the current actor's next step is where its
 * line would have acted (if the fix is one sim_trace_highlight() marks).
 */
static void sim_trace_skipped(int fix)
{
	pthread_mutex_lock(&trace.lock);
	if (trace.highlight & (1UL << fix))
		trace.skipped[trace_column()] = (signed char)fix;
	pthread_mutex_unlock(&trace.lock);
}

/** See sim_trace_give(). */
static void sim_trace_give_record(const void *obj, unsigned long value,
				  const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void sim_trace_give_record(const void *obj, unsigned long value,
				  const char *fmt, ...)
{
	unsigned int i, n;
	va_list ap;

	pthread_mutex_lock(&trace.lock);
	n = trace.nr_gives < TRACE_GIVES ? trace.nr_gives : TRACE_GIVES;
	for (i = 0; i < n && trace.gives[i].obj != obj; i++)
		;
	if (i == n)
		i = trace.nr_gives++ % TRACE_GIVES;
	trace.gives[i].obj = obj;
	trace.gives[i].value = value;
	snprintf(trace.gives[i].from, sizeof(trace.gives[i].from), "%s",
		 sim_actor_name());
	va_start(ap, fmt);
	vsnprintf(trace.gives[i].label, sizeof(trace.gives[i].label), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&trace.lock);
}

/** See sim_trace_take(). */
static void sim_trace_take_record(const void *obj, unsigned long value,
				  bool consume)
{
	struct sim_trace_entry *e;
	unsigned int i, n;

	pthread_mutex_lock(&trace.lock);
	n = trace.nr_gives < TRACE_GIVES ? trace.nr_gives : TRACE_GIVES;
	for (i = 0; i < n && trace.gives[i].obj != obj; i++)
		;
	if (i < n && trace.gives[i].value == value &&
	    strcmp(trace.gives[i].from, sim_actor_name()) &&
	    (e = trace_append(TRACE_PASS))) {
		e->from = (signed char)trace_column_of(trace.gives[i].from);
		e->actor = (signed char)trace_column();
		snprintf(e->text, sizeof(e->text), "%s", trace.gives[i].label);
	}
	if (i < n && consume)
		trace.gives[i].obj = NULL;
	pthread_mutex_unlock(&trace.lock);
}

/**
 * For the charts' arrows: the current actor gives up \a obj (frees a
 * page, releases a lock, stores a kpfn) with \a value, described by the
 * printf-style rest.  The next actor to sim_trace_take() it with the
 * same value gets an arrow from this one.  Costs one test untraced.
 */
#define sim_trace_give(obj, value, ...) do {				\
	if (unlikely(sim_tracing))					\
		sim_trace_give_record(obj, value, __VA_ARGS__);		\
} while (0)

/**
 * The current actor takes \a obj with \a value (allocates the page,
 * gets the lock it waited for, loads the kpfn): an arrow from its giver,
 * if another actor gave it.  \a consume: nobody else can take it now.
 */
#define sim_trace_take(obj, value, consume) do {			\
	if (unlikely(sim_tracing))					\
		sim_trace_take_record(obj, value, consume);		\
} while (0)

/** Add a note of the outcome (see ksm_ref.h). */
void sim_trace_note(bool harm, const char *fmt, ...)
{
	struct sim_trace_entry *e;
	va_list ap;

	pthread_mutex_lock(&trace.lock);
	e = trace_append(TRACE_NOTE);
	if (e) {
		e->actor = 0;
		e->fix = harm;
		va_start(ap, fmt);
		vsnprintf(e->text, sizeof(e->text), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&trace.lock);
}

/** Print \a text in column \a col of \a ncol, wrapping within it. */
static void timeline_row(FILE *f, const char *text, int col, int ncol,
			 int width)
{
	size_t len = strlen(text), off = 0;

	do {
		size_t n = len - off;

		if (n > (size_t)width)
			n = width;
		/* Break at a space when the line must wrap. */
		if (off + n < len) {
			size_t k = n;

			while (k > (size_t)width / 2 && text[off + k] != ' ')
				k--;
			if (text[off + k] == ' ')
				n = k;
		}
		fprintf(f, "\t%*s%.*s\n", col * (width + 2), "", (int)n,
			text + off);
		off += n;
		while (off < len && text[off] == ' ')
			off++;
	} while (off < len);
	(void)ncol;
}

/**
 * Print the trace as a timeline in the convention of memory-barriers.txt:
 * one column per actor, time flowing down.
 */
void sim_timeline_print(FILE *f)
{
	int width, i;
	size_t k;

	pthread_mutex_lock(&trace.lock);
	if (!trace.nr_names) {
		pthread_mutex_unlock(&trace.lock);
		return;
	}
	width = ((int)timeline_width - 2 * trace.nr_names) / trace.nr_names;
	if (width > (timeline_width >= 120 ? 80 : 40))
		width = timeline_width >= 120 ? 80 : 40;
	fputc('\t', f);
	for (i = 0; i < trace.nr_names; i++)
		fprintf(f, "%-*s  ", width, trace.names[i]);
	fputs("\n\t", f);
	for (i = 0; i < trace.nr_names; i++)
		fprintf(f, "%.*s  ", width,
			"================================================");
	fputc('\n', f);
	for (k = 0; k < trace.nr; k++)
		if (trace.ent[k].kind == TRACE_STEP)
			timeline_row(f, trace.ent[k].text, trace.ent[k].actor,
				     trace.nr_names, width);
	pthread_mutex_unlock(&trace.lock);
}

/** Width, in characters, of a label's line in a chart's box. */
#define MSC_LABEL_WIDTH	28

/**
 * The next line of \a *text, wrapped at \a width characters (at a space,
 * unless one word is longer): its start in \a *line, its length returned,
 * and \a *text moved past it.  0 at the end.
 */
static size_t wrap_line(const char **text, size_t width, const char **line)
{
	const char *t = *text + strspn(*text, " ");
	size_t n = 0, next;

	*line = t;
	while (t[n]) {
		/* the end of the next word, and the space before it */
		next = n + (n > 0) + strcspn(t + n + (n > 0), " ");
		if (n && next > width)
			break;
		n = next;
	}
	*text = t + n;
	return n;
}

/**
 * Print \a text as an mscgen label attribute, label="...": words wrapped
 * at \a width with "\n", which mscgen draws as a line break, and quotes and
 * backslashes escaped, so that no text can end the string early.
 */
static void msc_label(FILE *f, const char *text, size_t width)
{
	const char *line;
	size_t n, i;
	bool first = true;

	fputs("label=\"", f);
	while ((n = wrap_line(&text, width, &line))) {
		if (!first)
			fputs("\\n", f);
		first = false;
		for (i = 0; i < n; i++) {
			if (line[i] == '"' || line[i] == '\\')
				fputc('\\', f);
			fputc(line[i], f);
		}
	}
	fputc('"', f);
}

/** Are trace lines \a a and \a b alike (for a loop's repeats)? */
static bool trace_alike(const struct sim_trace_entry *a,
			const struct sim_trace_entry *b)
{
	return a->kind == b->kind && a->actor == b->actor &&
	       a->from == b->from && a->fix == b->fix &&
	       !strcmp(a->text, b->text);
}

/** How many entries, from the \a k th on, each repeat the one \a p before. */
static size_t trace_repeats(size_t k, size_t p)
{
	size_t n = 0;

	while (k + n < trace.nr &&
	       trace_alike(&trace.ent[k + n], &trace.ent[k + n - p]))
		n++;
	return n;
}

/**
 * A loop (migration retrying a page it cannot move) would draw the same
 * boxes hundreds of times: past a few rounds, a chart draws them once,
 * and says how many more there were.  If the lines from \a k + 1 on repeat
 * a loop of up to four lines ending at \a k, eight times or more: the
 * loop's length in \a *p, and the rounds; else 0.
 */
static size_t trace_loop(size_t k, size_t *p)
{
	size_t n;

	for (*p = 1; *p <= 4 && *p <= k + 1; (*p)++) {
		n = trace_repeats(k + 1, *p) / *p;
		if (n >= 8)
			return n;
	}
	return 0;
}

/** A chart's colour for a step where a switched-off line would have acted. */
#define CHART_FIX_OFF	"#ffd6d6"
/** ...for a note of harm. */
#define CHART_HARM	"#ffd6d6"
/** ...for a note of a clean outcome. */
#define CHART_CLEAN	"#d8f0d8"

/**
 * Print the trace as the body of a message sequence chart, for mscgen or
 * Doxygen's \\msc: an entity per actor; each thing an actor did as a box
 * on its line, in the order recorded (what sim_timeline_print() prints),
 * red where a switched-off line would have acted; an arrow where one
 * actor passed another a page, a lock or a kpfn; the notes of the outcome
 * across every line.  A long loop is drawn once, with a count.  Nothing
 * if there is no trace.
 */
void sim_timeline_print_msc(FILE *f)
{
	const struct sim_trace_entry *e;
	size_t k, p, n;
	int i, last;

	pthread_mutex_lock(&trace.lock);
	if (!trace.nr_names) {
		pthread_mutex_unlock(&trace.lock);
		return;
	}
	last = trace.nr_names - 1;
	/*
	 * mscgen shares 600 pixels among the entities, and wraps what does
	 * not fit again: give each the 200 a label needs.
	 */
	fprintf(f, "width=\"%d\";\n",
		trace.nr_names > 3 ? 200 * trace.nr_names : 600);
	for (i = 0; i < trace.nr_names; i++) {
		fprintf(f, "%sa%d [", i ? ", " : "", i);
		msc_label(f, trace.names[i], sizeof(trace.names[0]));
		fputc(']', f);
	}
	fputs(";\n", f);
	for (k = 0; k < trace.nr; k++) {
		e = &trace.ent[k];
		switch (e->kind) {
		case TRACE_STEP:
			fprintf(f, "a%d box a%d [", e->actor, e->actor);
			msc_label(f, e->text, MSC_LABEL_WIDTH);
			if (e->fix >= 0)
				fprintf(f, ", textbgcolour=\"%s\"",
					CHART_FIX_OFF);
			break;
		case TRACE_PASS:
			fprintf(f, "a%d -> a%d [", e->from, e->actor);
			msc_label(f, e->text, MSC_LABEL_WIDTH);
			break;
		default:
			fprintf(f, "a0 rbox a%d [", last);
			msc_label(f, e->text, MSC_LABEL_WIDTH * (last + 1));
			fprintf(f, ", textbgcolour=\"%s\"",
				e->fix ? CHART_HARM : CHART_CLEAN);
			break;
		}
		fputs("];\n", f);
		if ((n = trace_loop(k, &p))) {
			fprintf(f, "... [label=\"the last %zu box%s, "
				"%zu more times\"];\n", p,
				p == 1 ? "" : "es", n);
			k += n * p;
		}
	}
	pthread_mutex_unlock(&trace.lock);
}

/** Print \a n bytes of \a s for XML: &, <, > and " escaped. */
static void svg_text(FILE *f, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		switch (s[i]) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(s[i], f);
		}
}

/** The geometry of an SVG chart, in pixels. */
enum {
	SVG_COL = 230,		/* an actor's column */
	SVG_BOX = 200,		/* a box in it */
	SVG_LINE = 15,		/* a line of text */
	SVG_GAP = 8,		/* between rows */
	SVG_TOP = 60,		/* the actors' names, and a margin */
	SVG_CHARS = 30,		/* characters a box's line holds */
};

/** Lines \a text takes, wrapped at \a width. */
static int svg_lines(const char *text, size_t width)
{
	const char *line;
	int n = 0;

	while (wrap_line(&text, width, &line))
		n++;
	return n ? n : 1;
}

/** Print \a text in lines of \a width, centred on \a x, from \a y down. */
static void svg_label(FILE *f, const char *text, size_t width, int x, int y)
{
	const char *line;
	size_t n;

	while ((n = wrap_line(&text, width, &line))) {
		fprintf(f, "<text x=\"%d\" y=\"%d\">", x, y);
		svg_text(f, line, n);
		fputs("</text>\n", f);
		y += SVG_LINE;
	}
}

/**
 * Print the trace as an SVG image (no tool needed): what
 * sim_timeline_print_msc() draws, drawn here, with \a title as its title
 * and, for a reader who cannot see it, the whole sequence in words as its
 * description (the image's alternative text).  Nothing if no trace.
 */
void sim_timeline_print_svg(FILE *f, const char *title)
{
	const struct sim_trace_entry *e;
	size_t k, p, n, width;
	int i, h, y, x0, x1, ncol, w;

	pthread_mutex_lock(&trace.lock);
	if (!trace.nr_names) {
		pthread_mutex_unlock(&trace.lock);
		return;
	}
	ncol = trace.nr_names;
	w = ncol * SVG_COL;
	/* The height: a pass over the rows, as they will be drawn. */
	for (h = SVG_TOP, k = 0; k < trace.nr; k++) {
		e = &trace.ent[k];
		width = e->kind == TRACE_NOTE ? (size_t)SVG_CHARS * ncol :
			SVG_CHARS;
		h += (e->kind == TRACE_PASS ? 1 :
		      svg_lines(e->text, width)) * SVG_LINE + 2 * SVG_GAP;
		if ((n = trace_loop(k, &p))) {
			h += SVG_LINE + 2 * SVG_GAP;
			k += n * p;
		}
	}
	h += SVG_GAP;
	/* No ids: a page may hold many charts.  <title> names the image,
	 * <desc> describes it, for whoever cannot see it. */
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n",
		w, h, w, h);
	fputs("<title>", f);
	svg_text(f, title, strlen(title));
	fputs("</title>\n<desc>Actors: ", f);
	for (i = 0; i < ncol; i++) {
		fputs(i ? ", " : "", f);
		svg_text(f, trace.names[i], strlen(trace.names[i]));
	}
	fputs(".  In order:", f);
	for (k = 0; k < trace.nr; k++) {
		e = &trace.ent[k];
		fputc(' ', f);
		if (e->kind == TRACE_PASS) {
			svg_text(f, trace.names[(int)e->from],
				 strlen(trace.names[(int)e->from]));
			fputs(" passes ", f);
			svg_text(f, e->text, strlen(e->text));
			fputs(" to ", f);
			svg_text(f, trace.names[(int)e->actor],
				 strlen(trace.names[(int)e->actor]));
		} else {
			if (e->kind == TRACE_STEP) {
				svg_text(f, trace.names[(int)e->actor],
					 strlen(trace.names[(int)e->actor]));
				fputs(": ", f);
			}
			svg_text(f, e->text, strlen(e->text));
			if (e->kind == TRACE_STEP && e->fix >= 0)
				fprintf(f, " [in red: the line of %s, "
					"switched off, would have acted here]",
					ksm_fix_name(e->fix));
		}
		if (!e->text[0] ||
		    !strchr(".?!", e->text[strlen(e->text) - 1]) ||
		    (e->kind == TRACE_STEP && e->fix >= 0))
			fputc('.', f);
		if ((n = trace_loop(k, &p))) {
			fprintf(f, " The last %zu step%s, %zu more times.", p,
				p == 1 ? "" : "s", n);
			k += n * p;
		}
	}
	fputs("</desc>\n", f);
	fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n<g "
		"font-family=\"sans-serif\" font-size=\"12\" "
		"text-anchor=\"middle\">\n", w, h);
	for (i = 0; i < ncol; i++) {
		int x = i * SVG_COL + SVG_COL / 2;

		fprintf(f, "<line x1=\"%d\" y1=\"40\" x2=\"%d\" y2=\"%d\" "
			"stroke=\"#999\"/>\n", x, x, h - SVG_GAP);
		fprintf(f, "<text x=\"%d\" y=\"30\" font-weight=\"bold\">",
			x);
		svg_text(f, trace.names[i], strlen(trace.names[i]));
		fputs("</text>\n", f);
	}
	for (y = SVG_TOP, k = 0; k < trace.nr; k++) {
		int lines;

		e = &trace.ent[k];
		width = e->kind == TRACE_NOTE ? (size_t)SVG_CHARS * ncol :
			SVG_CHARS;
		lines = e->kind == TRACE_PASS ? 1 : svg_lines(e->text, width);
		x0 = e->actor * SVG_COL + (SVG_COL - SVG_BOX) / 2;
		switch (e->kind) {
		case TRACE_STEP:
			fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" "
				"height=\"%d\" fill=\"%s\" stroke=\"%s\"/>\n",
				x0, y, SVG_BOX, lines * SVG_LINE + SVG_GAP,
				e->fix >= 0 ? CHART_FIX_OFF : "white",
				e->fix >= 0 ? "#b00000" : "#555");
			svg_label(f, e->text, width,
				  e->actor * SVG_COL + SVG_COL / 2,
				  y + SVG_LINE - 2);
			break;
		case TRACE_PASS:
			x0 = e->from * SVG_COL + SVG_COL / 2;
			x1 = e->actor * SVG_COL + SVG_COL / 2;
			fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" "
				"y2=\"%d\" stroke=\"#0050a0\" "
				"stroke-width=\"2\"/>\n", x0, y + SVG_LINE,
				x1 - (x1 > x0 ? 8 : -8), y + SVG_LINE);
			fprintf(f, "<polygon points=\"%d,%d %d,%d %d,%d\" "
				"fill=\"#0050a0\"/>\n", x1, y + SVG_LINE,
				x1 - (x1 > x0 ? 10 : -10), y + SVG_LINE - 5,
				x1 - (x1 > x0 ? 10 : -10), y + SVG_LINE + 5);
			fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"#0050a0\">",
				(x0 + x1) / 2, y + SVG_LINE - 4);
			svg_text(f, e->text, strlen(e->text));
			fputs("</text>\n", f);
			break;
		default:
			fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" "
				"height=\"%d\" rx=\"6\" fill=\"%s\" "
				"stroke=\"#555\"/>\n", 4, y, w - 8,
				lines * SVG_LINE + SVG_GAP,
				e->fix ? CHART_HARM : CHART_CLEAN);
			svg_label(f, e->text, width, w / 2, y + SVG_LINE - 2);
			break;
		}
		y += lines * SVG_LINE + 2 * SVG_GAP;
		if ((n = trace_loop(k, &p))) {
			fprintf(f, "<text x=\"%d\" y=\"%d\" "
				"font-style=\"italic\">the last %zu step%s, "
				"%zu more times</text>\n", w / 2,
				y + SVG_LINE - 2, p, p == 1 ? "" : "s", n);
			y += SVG_LINE + 2 * SVG_GAP;
			k += n * p;
		}
	}
	fputs("</g>\n</svg>\n", f);
	pthread_mutex_unlock(&trace.lock);
}

/** @} */

/* ================================================================ */
/** \defgroup locks Locks and waits
 *
 * The kernel's sleeping and spinning locks, and wait_event(), as thin
 * wrappers.  Every operation is a scheduling point, so that under
 * SIM_SCHED the policy decides who gets a contended lock and who runs
 * after a release.  Each lock remembers its owner, so that contracts
 * ("Caller must hold ...") can be asserted and a watchdog can say who
 * holds what.
 *
 * In SIM_FREE a lock is a pthread lock.  In SIM_SCHED only one actor runs
 * at a time, so the lock is just its owner field: taking a held lock
 * blocks the actor in the scheduler until the release wakes it.
 * @{ */

/** A sleeping lock, as struct mutex. */
struct mutex {
	pthread_mutex_t m;			/**< SIM_FREE */
	struct sim_actor *_Atomic owner;	/**< holder, or NULL */
	const char *name;			/**< for reports */
};

/** Static initializer of a mutex called \a n. */
#define MUTEX_INIT(n)	{ PTHREAD_MUTEX_INITIALIZER, NULL, n }

/**
 * spinlock_t: in user space nothing distinguishes spinning from sleeping
 * that the design depends on, so a spinlock is a mutex under the name the
 * kernel uses.
 */
typedef struct mutex spinlock_t;

/** Initialize a lock at run time. */
static void mutex_init(struct mutex *lock, const char *name)
{
	pthread_mutex_init(&lock->m, NULL);
	lock->owner = NULL;
	lock->name = name;
}

/**
 * "mutex_lock(name), held by actor": what a blocked actor waits for, for
 * deadlock reports.  Returns a per-thread buffer.
 */
static const char *sim_lock_holder(struct mutex *lock)
{
	static _Thread_local char buf[96];
	struct sim_actor *owner = atomic_load(&lock->owner);

	snprintf(buf, sizeof(buf), "mutex_lock(%s), held by %s%s", lock->name,
		 owner ? owner->name : "nobody",
		 owner && atomic_load(&owner->state) == ACTOR_DONE ?
		 " (which has finished)" : "");
	return buf;
}

/**
 * Say what \a me waits for (NULL: nothing), for the watchdog's report.
 * Relaxed, as the owner below: bookkeeping for reports and assertions,
 * which the pthread lock itself orders.  Sequentially consistent, these
 * stores cost ksmd's steady-state scan a tenth of its time (walkthrough,
 * chapter 10).
 */
static inline void sim_waiting(struct sim_actor *me, const char *what)
{
	atomic_store_explicit(&me->wait_what, what, memory_order_relaxed);
}

/** Record \a owner as \a lock's holder (see sim_waiting()). */
static inline void sim_set_owner(struct mutex *lock, struct sim_actor *owner)
{
	atomic_store_explicit(&lock->owner, owner, memory_order_relaxed);
}

/** Take \a lock, sleeping while another actor holds it. */
static void mutex_lock(struct mutex *lock)
{
	struct sim_actor *me = sim_current();

	sim_point(SP_LOCK, lock->name);
	sim_fp_note(lock, true);	/* taken, or waited for */
	/* self-deadlock */
	BUG_ON(atomic_load_explicit(&lock->owner, memory_order_relaxed) == me);
	if (sim_scheduled()) {
		if (atomic_load(&lock->owner)) {
			while (atomic_load(&lock->owner))
				sim_block(lock, sim_lock_holder(lock));
			sim_trace_take(lock, 0, true);
		}
	} else {
		sim_waiting(me, lock->name);
		pthread_mutex_lock(&lock->m);
		sim_waiting(me, NULL);
	}
	sim_set_owner(lock, me);
	model_lock(lock);
}

/** Release \a lock.  Caller must hold it. */
static void mutex_unlock(struct mutex *lock)
{
	BUG_ON(atomic_load_explicit(&lock->owner, memory_order_relaxed) !=
	       sim_current());
	sim_point(SP_UNLOCK, lock->name);
	model_unlock(lock);
	sim_trace_give(lock, 0, "%s", lock->name);
	sim_set_owner(lock, NULL);
	if (sim_scheduled())
		sim_wake(lock);
	else
		pthread_mutex_unlock(&lock->m);
}

/** Does the current actor hold \a lock?  For assertions. */
static bool mutex_is_mine(struct mutex *lock)
{
	return atomic_load_explicit(&lock->owner, memory_order_relaxed) ==
	       sim_current();
}

/** spin_lock(): see spinlock_t. */
static inline void spin_lock(spinlock_t *lock)
{
	mutex_lock(lock);
}

/** spin_unlock(): see spinlock_t. */
static inline void spin_unlock(spinlock_t *lock)
{
	mutex_unlock(lock);
}

/** A reader-writer semaphore, as mmap_sem. */
struct rw_semaphore {
	pthread_rwlock_t rw;			/**< SIM_FREE */
	_Atomic int readers;			/**< readers holding it */
	struct sim_actor *_Atomic writer;	/**< writer holding it */
	const char *name;			/**< for reports */
};

/** Initialize an rw_semaphore. */
static void init_rwsem(struct rw_semaphore *sem, const char *name)
{
	pthread_rwlock_init(&sem->rw, NULL);
	sem->readers = 0;
	sem->writer = NULL;
	sem->name = name;
}

/** Take \a sem for reading. */
static void down_read(struct rw_semaphore *sem)
{
	sim_point(SP_LOCK, sem->name);
	if (sim_scheduled()) {
		if (atomic_load(&sem->writer)) {
			while (atomic_load(&sem->writer))
				sim_block(sem, sem->name);
			sim_trace_take(sem, 0, true);
		}
	} else {
		sim_waiting(sim_current(), sem->name);
		pthread_rwlock_rdlock(&sem->rw);
		sim_waiting(sim_current(), NULL);
	}
	atomic_fetch_add(&sem->readers, 1);
	model_lock(sem);
}

/** Release \a sem held for reading. */
static void up_read(struct rw_semaphore *sem)
{
	sim_point(SP_UNLOCK, sem->name);
	model_unlock(sem);
	sim_trace_give(sem, 0, "%s", sem->name);
	BUG_ON(atomic_fetch_sub(&sem->readers, 1) <= 0);
	if (sim_scheduled())
		sim_wake(sem);
	else
		pthread_rwlock_unlock(&sem->rw);
}

/** Take \a sem for writing. */
static void down_write(struct rw_semaphore *sem)
{
	sim_point(SP_LOCK, sem->name);
	if (sim_scheduled()) {
		if (atomic_load(&sem->writer) || atomic_load(&sem->readers)) {
			while (atomic_load(&sem->writer) ||
			       atomic_load(&sem->readers))
				sim_block(sem, sem->name);
			sim_trace_take(sem, 0, true);
		}
	} else {
		sim_waiting(sim_current(), sem->name);
		pthread_rwlock_wrlock(&sem->rw);
		sim_waiting(sim_current(), NULL);
	}
	atomic_store(&sem->writer, sim_current());
	model_lock(sem);
}

/** Release \a sem held for writing. */
static void up_write(struct rw_semaphore *sem)
{
	BUG_ON(atomic_load(&sem->writer) != sim_current());
	sim_point(SP_UNLOCK, sem->name);
	model_unlock(sem);
	sim_trace_give(sem, 0, "%s", sem->name);
	atomic_store(&sem->writer, NULL);
	if (sim_scheduled())
		sim_wake(sem);
	else
		pthread_rwlock_unlock(&sem->rw);
}

/**
 * mem_hotplug_lock: memory offline and online take it for writing; the
 * public calls that take a pfn from their caller - as a pfn walker does -
 * take it for reading around their use of the struct page
 * (get_online_mems()), so that the section cannot go away between their
 * pfn_valid() and their last look at the page.
 */
static struct rw_semaphore mem_hotplug_lock __sim_state;

/**
 * Hashed wait queues (SIM_FREE), as the kernel hashes page waitqueues:
 * a sleeper checks its condition under the bucket's lock, and a waker
 * changes the condition before taking that lock to broadcast, so no
 * wakeup can fall between the check and the sleep.
 */
struct wait_bucket {
	pthread_mutex_t lock;		/**< held while checking a condition */
	pthread_cond_t cond;		/**< sleepers of every key hashed here */
};

/** Buckets in the hashed wait table. */
#define WAIT_TABLE_SIZE	64
/** The hashed wait table (SIM_FREE). */
static struct wait_bucket wait_table[WAIT_TABLE_SIZE];

/** The bucket that \a key hashes to. */
static struct wait_bucket *wait_bucket_of(const void *key)
{
	uintptr_t h = (uintptr_t)key;

	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15ull;
	return &wait_table[(h >> 32) % WAIT_TABLE_SIZE];
}

/** Begin a wait on \a key (see wait_event()). */
static struct wait_bucket *sim_wait_prepare(const void *key)
{
	struct wait_bucket *b;

	if (sim_scheduled())
		return NULL;
	b = wait_bucket_of(key);
	pthread_mutex_lock(&b->lock);
	return b;
}

/** Sleep once on \a key; the caller re-checks its condition. */
static void sim_wait_sleep(struct wait_bucket *b, const void *key,
			   const char *what)
{
	if (!b) {
		sim_block(key, what);
		return;
	}
	sim_current()->wait_what = what;
	pthread_cond_wait(&b->cond, &b->lock);
	sim_current()->wait_what = NULL;
}

/**
 * Sleep for \a ms milliseconds, or until *\a stop becomes true and \a key
 * is woken (schedule_timeout_interruptible() in a kthread that may be
 * stopped).  Other wakeups hashed to the same bucket do not cut it short.
 */
static void sim_sleep_ms(const void *key, _Atomic bool *stop,
			 unsigned int ms)
{
	struct wait_bucket *b;
	struct timespec ts;

	if (sim_scheduled()) {
		cpu_relax();
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	b = wait_bucket_of(key);
	pthread_mutex_lock(&b->lock);
	sim_current()->wait_what = "sleep";
	while (!atomic_load(stop))
		if (pthread_cond_timedwait(&b->cond, &b->lock, &ts) ==
		    ETIMEDOUT)
			break;
	sim_current()->wait_what = NULL;
	pthread_mutex_unlock(&b->lock);
}

/** End a wait begun by sim_wait_prepare(). */
static void sim_wait_finish(struct wait_bucket *b)
{
	if (b)
		pthread_mutex_unlock(&b->lock);
}

/** Wake every actor waiting on \a key. */
static void wake_up_key(const void *key)
{
	struct wait_bucket *b;

	if (sim_scheduled()) {
		sim_wake(key);
		return;
	}
	b = wait_bucket_of(key);
	pthread_mutex_lock(&b->lock);
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

/**
 * wait_event(key, condition): sleep until \a condition holds, woken by
 * wake_up_key(key) from whoever changes it.  A macro, as in the kernel,
 * because the condition must be re-evaluated on every wakeup.
 */
#define wait_event(key, condition) do {					\
	struct wait_bucket *__wb = sim_wait_prepare(key);		\
	while (!(condition))						\
		sim_wait_sleep(__wb, (key), #condition);		\
	sim_wait_finish(__wb);						\
} while (0)

/** Initialize the wait table; called once from sim_init(). */
static void wait_table_init(void)
{
	static bool done;
	int i;

	if (done)
		return;
	for (i = 0; i < WAIT_TABLE_SIZE; i++) {
		pthread_mutex_init(&wait_table[i].lock, NULL);
		pthread_cond_init(&wait_table[i].cond, NULL);
	}
	done = true;
}

/** @} */

/* ================================================================ */
/**
 * \defgroup seeds The seed patches
 *
 * The code of each seed, by the seed: where its lines live in this file,
 * their switches, and the races that show them.  Each group is a map, not
 * a home: the functions are documented in the group of the subsystem they
 * belong to (ksm, migrate, hotplug, exchange), and linked from here.  The
 * hunk-by-hunk account is walkthrough.md's Appendix A (\ref appendix_hunks).
 */

/**
 * \defgroup seed_001 Seed 001: ksm: take keyhole reference to page (2009)
 * \ingroup seeds
 *
 * The stable node keeps a pointer to its KSM page but no reference:
 * get_ksm_page() checks the key (page->mapping is the node with
 * PAGE_MAPPING_ANON | PAGE_MAPPING_KSM), takes a speculative reference
 * with get_page_unless_zero(), checks again, and removes a stale node
 * (remove_node_from_stable_tree()).  set_page_stable_node() writes the key;
 * remove_rmap_item_from_tree() no longer frees a node with its last
 * rmap_item; stable_tree_search() and stable_tree_insert() go through the
 * keyhole.  Switches keyhole_check, keyhole_gpuz, keyhole_recheck,
 * keyhole_lock_recheck, keyhole_prune, keyhole_node_life.  Races R1, R2,
 * R2.check, R3, R3.life, R3.gpuz.  Chapter 3 (\ref ch_keyhole).
 */

/**
 * \defgroup seed_004 Seed 004: ksm: memory hotremove migration only (2009)
 * \ingroup seeds
 *
 * The node names its page by pfn (kpfn: set_stable_node_page(),
 * stable_node_page()), so that a node pointing into removed memory can be
 * found without touching the struct page; ksm_memory_callback() locks
 * ksmd out from MEM_GOING_OFFLINE and prunes those nodes at MEM_OFFLINE
 * (ksm_check_stable_tree()); migrate_pages() gains offlining, and
 * unmap_and_move() refuses a KSM page unless offlining; sim_mbind() skips
 * KSM pages.  Switches offline_lockout, offline_prune,
 * offline_cancel_unlock, migrate_refuse_ksm, numa_skip_ksm, and ours,
 * prune_kpfn_once.  Races R5, R5.twice, R6, R6.cancel, R7, R7.skip.
 * Chapter 4 (\ref ch_hotremove).
 */

/**
 * \defgroup seed_000 Seed 000: ksm: make KSM page migration possible (2013)
 * \ingroup seeds
 *
 * get_ksm_page() rereads kpfn on every try, orders the mapping read after
 * it (smp_read_barrier_depends()), spins on a frozen swap cache page, and
 * at stale: rechecks kpfn after smp_rmb(); ksm_migrate_page() stores the
 * new kpfn, smp_wmb(), then unkeys the old page; stable_tree_search()
 * locks and unlocks the page it found.  Switches dep_barrier,
 * swapcache_spin, rmb, kpfn_recheck, wmb, clear_old_mapping, search_lock,
 * and ours, kpfn_seq (stable_node_moved()).  Races R4, R8, R8.aba, R9,
 * R10, R10.rmb, R11, R12.  Chapters 5 and 8 (\ref ch_migration,
 * \ref ch_explorer).
 */

/**
 * \defgroup seed_002 Seed 002: the review of seed 000 (2013)
 * \ingroup seeds
 *
 * No code of its own: Mel Gorman's questions and Hugh Dickins's answers,
 * each answered here by a run: smp_read_barrier_depends() on Alpha (R11,
 * the model in group model), the PageSwapCache spin (R9), and Hugh's test
 * of migrating every page on fault (sim_set_migrate_on_fault()).
 * Chapter 6 (\ref ch_review).
 */

/**
 * \defgroup seed_003 Seed 003: exchange pages, anonymous with file (2019)
 * \ingroup seeds
 *
 * The RFC's exchange of an anonymous page with a page-cache page:
 * exchange_two_pages(), unmap_and_exchange(), exchange_from_to_pages(),
 * exchange_page_move_mapping() (both counts frozen at expected_page_refs(),
 * the cache slot switched), exchange_page_flags(), and KSM told in
 * ksm_exchange_page().  Switches xchg_wait_writeback, xchg_freeze_from,
 * xchg_unfreeze_on_eagain, xchg_slot_before_unfreeze, xchg_move_private,
 * xchg_move_counters, and ours, xchg_clear_uptodate and xchg_refuse_ksm.
 * Races R13 and its variants, R14, R14.kpfn, R14.advance.  Chapter 7
 * (\ref ch_exchange).
 */

/**
 * \defgroup eras The eras
 *
 * The design of each year, selected at run time with ksm_set_era() (or
 * --era NAME), so that one scenario runs under the code of different
 * years.  What each era changes is gated in the code by era_since().
 */

/**
 * \defgroup era_pinned Era pinned: before seed 001 (2009)
 * \ingroup eras
 *
 * The stable node holds a reference on its KSM page (stable_tree_insert()
 * takes it, remove_rmap_item_from_tree() drops it with the last
 * rmap_item): reclaim cannot free a KSM page until ksmd comes round (R1).
 */

/**
 * \defgroup era_keyhole Era keyhole: seed 001 (2009)
 * \ingroup eras
 *
 * A pointer to the page and no reference: get_ksm_page()'s keyhole.  KSM
 * pages are not migrated; memory hot-remove is not safe yet (R5 faults).
 */

/**
 * \defgroup era_hotremove Era hotremove: seed 004 (2009)
 * \ingroup eras
 *
 * kpfn in place of the pointer, ksm_memory_callback() holding
 * ksm_thread_mutex across an offline, and KSM pages migrated only by
 * hot-remove (the offlining argument).
 */

/**
 * \defgroup era_migration Era migration: seeds 000 and 002 (2013)
 * \ingroup eras
 *
 * KSM pages migrate everywhere: compaction, NUMA placement, hot-remove.
 * get_ksm_page() follows kpfn through migration; ksm_memory_callback()
 * sets KSM_RUN_OFFLINE instead of holding the mutex, and ksmd waits in
 * wait_while_offlining().
 */

/**
 * \defgroup era_exchange Era exchange: seed 003 (2019)
 * \ingroup eras
 *
 * The migration era with the page cache's exchange of an anonymous page
 * and a file page (exchange_two_pages()); KSM pages are refused, or, with
 * xchg_refuse_ksm off, exchanged in one of three orders (R14).
 */

/** \defgroup fixes Eras and fix switches
 *
 * Every line a seed patch adds is behind a switch, on by default, so that
 * turning it off shows the race it closes; and the design of each year is
 * an era (walkthrough.md, chapter 1) selectable at run time, so that one
 * scenario runs under the code of different years.  Switches and era are
 * read without locks: they may only change while no actor runs.
 * @{ */

/** What each fix switch is: name, seed, race, meaning. */
struct ksm_fix_info {
	const char *name;		/**< as --without spells it */
	const char *doc;		/**< seed, race, what the line does */
};

/** The table of fix switches; the index is enum ksm_fix. */
static const struct ksm_fix_info ksm_fixes[NR_FIXES] = {
	[FIX_KEYHOLE_CHECK] = { "keyhole_check",
		"001: get_ksm_page() checks page->mapping before taking a "
		"reference, so ksmd never touches a stranger's refcount" },
	[FIX_KEYHOLE_GPUZ] = { "keyhole_gpuz",
		"001, R3: the reference is get_page_unless_zero(), which "
		"fails on a free page instead of raising its count" },
	[FIX_KEYHOLE_RECHECK] = { "keyhole_recheck",
		"001, R2: page->mapping is checked again once the reference "
		"is held, in case the frame was freed and reused" },
	[FIX_KEYHOLE_LOCK_RECHECK] = { "keyhole_lock_recheck",
		"001/000, R4: with locked, page->mapping is checked again "
		"after lock_page()" },
	[FIX_KEYHOLE_PRUNE] = { "keyhole_prune",
		"001, R3: a node found stale is removed from the stable tree "
		"with its rmap_items" },
	[FIX_KEYHOLE_NODE_LIFE] = { "keyhole_node_life",
		"001, R3: a stable node is freed only when its page has gone, "
		"not when its last rmap_item goes" },
	[FIX_DEP_BARRIER] = { "dep_barrier",
		"000/002, R11: smp_read_barrier_depends() between reading "
		"kpfn and reading the page's mapping (Alpha)" },
	[FIX_SWAPCACHE_SPIN] = { "swapcache_spin",
		"000, R9: a zero count on a swap cache page may be migration's "
		"freeze: spin, do not judge the node stale" },
	[FIX_RMB] = { "rmb",
		"000, R10.rmb: smp_rmb() at stale:, pairing with ksm_migrate_page()'s "
		"smp_wmb(), before rereading kpfn" },
	[FIX_KPFN_RECHECK] = { "kpfn_recheck",
		"000, R8: at stale:, reread kpfn and try again if migration "
		"moved the page" },
	[FIX_WMB] = { "wmb",
		"000, R10: smp_wmb() in ksm_migrate_page() between storing the "
		"new kpfn and the old page ceasing to name the node" },
	[FIX_CLEAR_OLD_MAPPING] = { "clear_old_mapping",
		"000, no race (walkthrough, ch. 8): ksm_migrate_page() makes the old page stop naming "
		"the node (set_page_stable_node(oldpage, NULL))" },
	[FIX_SEARCH_LOCK] = { "search_lock",
		"000, R12: stable_tree_search() locks and unlocks the page it "
		"found, so that migration sees its reference" },
	[FIX_OFFLINE_LOCKOUT] = { "offline_lockout",
		"004, R6: ksm_memory_callback() locks ksmd out at "
		"MEM_GOING_OFFLINE (ksm_thread_mutex; KSM_RUN_OFFLINE from "
		"2013)" },
	[FIX_OFFLINE_PRUNE] = { "offline_prune",
		"004, R5: at MEM_OFFLINE, nodes whose kpfn lies in the removed "
		"range are pruned (ksm_check_stable_tree())" },
	[FIX_OFFLINE_CANCEL_UNLOCK] = { "offline_cancel_unlock",
		"004, R6: MEM_CANCEL_OFFLINE lets ksmd go again" },
	[FIX_MIGRATE_REFUSE_KSM] = { "migrate_refuse_ksm",
		"004, R7: unmap_and_move() refuses a KSM page unless "
		"offlining, tested once the page lock is held" },
	[FIX_NUMA_SKIP_KSM] = { "numa_skip_ksm",
		"004, R7.skip: mbind and move_pages skip PageKsm early, as they "
		"skip PageReserved" },
	[FIX_XCHG_WAIT_WRITEBACK] = { "xchg_wait_writeback",
		"003, R13.writeback: unmap_and_exchange() waits for the file "
		"page's writeback to end (synchronous mode)" },
	[FIX_XCHG_FREEZE_FROM] = { "xchg_freeze_from",
		"003, R13.freeze: the anonymous page's count is frozen too, "
		"not only checked, before page_ref_unfreeze() sets it" },
	[FIX_XCHG_UNFREEZE_ON_EAGAIN] = { "xchg_unfreeze_on_eagain",
		"003, R13.eagain: when the second freeze fails, the first "
		"page is unfrozen before -EAGAIN" },
	[FIX_XCHG_SLOT_BEFORE_UNFREEZE] = { "xchg_slot_before_unfreeze",
		"003, R13: the page cache slot is switched before either "
		"count is unfrozen" },
	[FIX_XCHG_MOVE_PRIVATE] = { "xchg_move_private",
		"003, R13.private: buffer heads, PG_private and their "
		"reference move to the page now in the cache" },
	[FIX_XCHG_MOVE_COUNTERS] = { "xchg_move_counters",
		"003, R13.counters: NR_FILE_PAGES and NR_FILE_DIRTY move to "
		"the node of the page now in the cache" },
	[FIX_XCHG_CLEAR_UPTODATE] = { "xchg_clear_uptodate",
		"ours, R13.uptodate: the anonymous page enters the cache not "
		"uptodate, until its bytes are the file's" },
	[FIX_XCHG_REFUSE_KSM] = { "xchg_refuse_ksm",
		"ours, R14: unmap_and_exchange() refuses a KSM page, as seed "
		"004 had migration refuse one: no order of the RFC's stores "
		"is safe" },
	[FIX_PRUNE_KPFN_ONCE] = { "prune_kpfn_once",
		"ours, R5.twice: ksm_check_stable_tree() reads kpfn once: "
		"two reads may straddle a migration and pair two frames "
		"outside the range into one inside it" },
	[FIX_KPFN_SEQ] = { "kpfn_seq",
		"ours, R8.aba: ksm_migrate_page() counts each move of kpfn, "
		"and the recheck at stale: compares the count too: the page "
		"may have moved away and back to the same frame" },
};

/** Names of the eras; the index is enum ksm_era. */
static const char *const ksm_era_names[NR_ERAS] = {
	[ERA_PINNED] = "pinned",
	[ERA_KEYHOLE] = "keyhole",
	[ERA_HOTREMOVE] = "hotremove",
	[ERA_MIGRATION] = "migration",
	[ERA_EXCHANGE] = "exchange",
};

/** The era in force. */
static enum ksm_era ksm_era = ERA_KEYHOLE;
/** Fixes switched off: a bit per enum ksm_fix. */
static unsigned long ksm_fixes_off;
/** With FIX_XCHG_REFUSE_KSM off: which order (R14). */
static enum xchg_ksm_order xchg_ksm_order;

/**
 * Is \a fix on?  Cheap enough for every fast path.  When it is off and a
 * timeline is recorded, the actor's next step is marked as the place
 * where its line would have acted (the charts draw it red).
 */
static inline bool fix_on(enum ksm_fix fix)
{
	if (likely(!(ksm_fixes_off & (1UL << fix))))
		return true;
	if (unlikely(sim_tracing))
		sim_trace_skipped(fix);
	return false;
}

/** Does the current era include the design of \a era? */
static inline bool era_since(enum ksm_era era)
{
	return ksm_era >= era;
}

/** \cond */
static _Atomic unsigned long ksm_stable_nodes __sim_state;
/** \endcond */

int ksm_set_era(enum ksm_era era)
{
	if (era < ERA_PINNED || era >= NR_ERAS)
		return -EINVAL;
	/* The stable node's union is tagged by the era: no changing it
	 * under nodes made in another. */
	if (ksm_stable_nodes)
		return -EBUSY;
	ksm_era = era;
	ksm_fixes_off = 0;
	xchg_ksm_order = XCHG_KSM_RFC;
	return 0;
}

void ksm_set_exchange_order(enum xchg_ksm_order order)
{
	xchg_ksm_order = order == XCHG_KSM_KPFN_FIRST ||
			 order == XCHG_KSM_ADVANCE ? order : XCHG_KSM_RFC;
}

enum ksm_era ksm_get_era(void)
{
	return ksm_era;
}

int ksm_fix_set(enum ksm_fix fix, bool on)
{
	if ((unsigned int)fix >= NR_FIXES)
		return -EINVAL;
	if (on)
		ksm_fixes_off &= ~(1UL << fix);
	else
		ksm_fixes_off |= 1UL << fix;
	return 0;
}

bool ksm_fix_on(enum ksm_fix fix)
{
	return (unsigned int)fix < NR_FIXES && fix_on(fix);
}

int ksm_era_by_name(const char *name)
{
	int i;

	for (i = ERA_PINNED; name && i < NR_ERAS; i++)
		if (!strcmp(ksm_era_names[i], name))
			return i;
	return -1;
}

int ksm_fix_by_name(const char *name)
{
	int i;

	for (i = 0; name && i < NR_FIXES; i++)
		if (!strcmp(ksm_fixes[i].name, name))
			return i;
	return -1;
}

const char *ksm_era_name(enum ksm_era era)
{
	return (unsigned int)era < NR_ERAS ? ksm_era_names[era] : NULL;
}

const char *ksm_fix_name(enum ksm_fix fix)
{
	return (unsigned int)fix < NR_FIXES ? ksm_fixes[fix].name : NULL;
}

const char *ksm_fix_doc(enum ksm_fix fix)
{
	return (unsigned int)fix < NR_FIXES ? ksm_fixes[fix].doc : NULL;
}

/** @} */

/* ================================================================ */
/** \defgroup model The memory model of a weakly ordered CPU
 *
 * Two races of the seeds (R10, R11) need a CPU that reorders memory
 * accesses, which x86, where this runs, never does to these accesses.
 * So runs under the one-at-a-time scheduler (SIM_SCHED: the scripts and
 * the explorer) may follow an operational model of a weakly ordered CPU
 * instead (sim_config.model, --model):
 *
 *  - SIM_MODEL_SC: every access takes effect when it is made.
 *  - SIM_MODEL_WEAK: stores wait in a store buffer and become visible
 *    later, loads may be satisfied from a past state of memory, and a
 *    store becomes visible to different CPUs in different orders, as far
 *    as the barriers let them: the Linux kernel memory model (LKMM,
 *    tools/memory-model) in the fragment the litmus tests use, which is
 *    weaker than ARM and allows what Power does.
 *  - SIM_MODEL_ALPHA: as WEAK, and a load through a freshly loaded pointer
 *    is not ordered after the load of the pointer (the split cache banks
 *    of the Alpha 21264) unless smp_read_barrier_depends() says so.
 *
 * The model is one of views, in the manner of the "promising" and
 * view-based models of ARM and C11, kept operational so that the
 * simulated kernel runs on it.  Its state:
 *
 *  - memory: a clock, bumped whenever a store becomes visible ("commits"),
 *    and the history of the run: every commit to a tracked word
 *    (page->mapping, page->flags, stable_node->kpfn and kpfn_seq, a litmus
 *    variable), with the word's value before and after, the time, and the
 *    store's *view*: what became visible before it, to whoever reads it.
 *    A word's commits in time order are its coherence order.
 *  - a view, for every tracked word, is the oldest state of it that may
 *    still be read (struct model_view: one time for every word, and
 *    single words above it).  Views join by taking the newer state of
 *    each word.
 *  - per CPU (actor): a store buffer of stores not yet committed, in
 *    program order, each tagged with the smp_wmb()s before it (its epoch)
 *    and carrying its view; and views: cur (no load of the CPU reads
 *    older), racc (the joined views of the stores its loads read), last
 *    (the view of the store the last load read), wview (what later
 *    stores carry: what full barriers and locks made cumulative), wmbv
 *    (its own stores before the last smp_wmb()), ownv (its own stores
 *    that became visible) and ulv (ownv at its last unlock).
 *  - G: what full barriers have published, in the one order they run in.
 *
 * What each operation does:
 *  - A modelled store (WRITE_ONCE(); the new page's mapping "set in
 *    advance"; ClearPageSwapCache()) enters the buffer with the view
 *    wview + wmbv.  Its commit is an event of its own: under the explorer
 *    the scheduler may place it at any scheduling point from then on,
 *    even after the CPU's thread has ended, provided no store before it
 *    is to the same word, of an earlier epoch, or (for a release) at all
 *    still waiting.  (Kernel code decides at the store whether it waits
 *    at all, so that a step's later plain writes may come after it;
 *    a litmus program's stores always wait.)  A commit appends to the
 *    history; the store's view then also reaches the stores after it
 *    that a barrier orders behind it.  Releases (unlocking, smp_mb(),
 *    a value-returning atomic, sleeping) commit the whole buffer first.
 *  - Every other write (set_bit(), a plain store of a tracked word)
 *    commits at once, after the CPU's waiting stores when one of them is
 *    to the same word or before an smp_wmb() it comes after.
 *  - A load of a word with a store of its own CPU waiting returns that
 *    store's value (store forwarding).  Otherwise a modelled load
 *    (READ_ONCE(); PageSwapCache()) may return any state of the word from
 *    the one cur allows to now: a choice among the distinct values,
 *    newest first.  cur rises to it (coherence), and the store's view
 *    joins racc and becomes last.  Other reads see memory as it is now.
 *  - smp_wmb(): a new epoch; wmbv takes every own store before it.
 *    smp_rmb(): cur joins racc.  An acquire (smp_load_acquire()): cur
 *    joins the view of the store it read.  A release store
 *    (smp_store_release()) carries wview + wmbv + ownv + racc: what its
 *    CPU wrote and read before it (LKMM's A-cumulativity).
 *  - smp_mb(), a value-returning atomic, sleeping: commit the buffer;
 *    what the CPU has seen (cur, racc, ownv, wview) joins G, and G joins
 *    cur and wview.  Full barriers are cumulative and ordered among
 *    themselves, but a CPU whose store merely comes after another's in
 *    coherence learns nothing from it (Z6.0: LKMM says Sometimes).
 *  - unlock: commit the buffer; the lock keeps the release view, and the
 *    unlocker's own stores.  lock: cur and racc join the lock's release
 *    view; wview joins the stores of its unlockers and this CPU's own
 *    before its last unlock (LKMM's po-unlock-lock-po, which is
 *    cumulative across CPUs and locks).
 *  - An address dependency (sim_addr_dep(), written where the kernel
 *    computes a pointer from a loaded value): cur joins last under WEAK;
 *    nothing under ALPHA, where smp_read_barrier_depends() (an mb on
 *    Alpha) is a full barrier.  A litmus program names the very load it
 *    depends on (sim_depend_on()), and only the dependent load is
 *    ordered.
 *  - When every actor is spinning (cpu_relax()) and no store is waiting,
 *    their views catch up with memory (model_catch_up()).  A store
 *    becomes visible in the end; only a spin that sees nothing new after
 *    that is a livelock.
 *
 * Load buffering - a store performed before an earlier load of its CPU
 * when nothing orders them - is the CPU executing out of order, not the
 * memory system: a litmus program's interpreter does it
 * (sim_choose_early(), examples/litmus.c), as it holds the instruction
 * stream.  Kernel code here runs its loads and stores in program order,
 * so the executions missing for it are exactly those in which a load
 * reads a store that depends, through no dependency, fence or acquire,
 * on a later store of the loading CPU (LB's shape); no race of the seeds
 * has that shape.
 *
 * examples/litmus.c holds the model against LKMM's verdicts, on the
 * kernel's own litmus tests rewritten (tests/litmus).  It is a model of
 * these orderings, not of a whole CPU: accesses to other words (the
 * refcount, the locks' own words, plain fields) are sequentially
 * consistent; a kernel load by address dependency is ordered after the
 * pointer's load as a whole (every later load, not only the dependent
 * ones: in get_ksm_page() the one other load, of kpfn again, is ordered
 * anyway by coherence); and a load chooses among at most MODEL_CHOICES
 * values.
 * @{ */

/** Most distinct values one load may choose between. */
#define MODEL_CHOICES	8
/** Most locks whose views one run keeps. */
#define MODEL_LOCKS	128

/** A commit in the history of the run. */
struct model_write {
	const void *addr;		/**< the word */
	unsigned long old;		/**< its value before */
	unsigned long val;		/**< and after */
	unsigned long t;		/**< when (the clock after it) */
	struct model_view v;		/**< what became visible before it */
	struct model_view self;		/**< ...and it: what its readers see */
};

/** One word's entry in a view: its oldest state still readable. */
struct model_ent {
	const void *addr;		/**< the word */
	unsigned long t;		/**< the time of that state */
};

/** What a lock's releases published (model_lock(), model_unlock()). */
struct model_lock {
	const void *lock;		/**< the lock */
	struct model_view v;		/**< the joined views of its unlocks */
	struct model_view po;		/**< ...of its unlockers' own stores */
};

/** The model's state outside the CPUs (struct model_cpu). */
static struct {
	enum sim_model model;		/**< what SIM_SCHED runs follow */
	_Atomic bool on;		/**< this run follows WEAK or ALPHA
					     (read, relaxed, by every actor) */
	unsigned long clock;		/**< commits so far in this run */
	struct model_write *hist;	/**< every commit of this run */
	size_t nr, cap;			/**< entries used and allocated */
	struct model_ent *ents;		/**< the entries of the run's views */
	size_t nents, cents;		/**< entries used and allocated */
	struct model_view G;		/**< what full barriers published */
	struct model_lock locks[MODEL_LOCKS];	/**< the run's locks */
	int nr_locks;			/**< entries used in locks[] */
} mdl;

/** Names of the models; the index is enum sim_model. */
static const char *const sim_model_names[NR_SIM_MODELS] = {
	[SIM_MODEL_SC] = "sc",
	[SIM_MODEL_WEAK] = "weak",
	[SIM_MODEL_ALPHA] = "alpha",
};

const char *sim_model_name(enum sim_model model)
{
	return (unsigned int)model < NR_SIM_MODELS ? sim_model_names[model]
						    : NULL;
}

int sim_model_by_name(const char *name)
{
	int i;

	for (i = 0; name && i < NR_SIM_MODELS; i++)
		if (!strcmp(sim_model_names[i], name))
			return i;
	return -1;
}

/** Begin a run: the model is on for SIM_SCHED runs under WEAK or ALPHA. */
static void model_start(enum sim_mode mode)
{
	atomic_store_explicit(&mdl.on, mode == SIM_SCHED &&
			      mdl.model != SIM_MODEL_SC, memory_order_relaxed);
	mdl.clock = 0;
	mdl.nr = 0;
	mdl.nents = 0;
	mdl.G = (struct model_view){ 0, 0, 0 };
	mdl.nr_locks = 0;
}

/** End a run: from here the model is off. */
static void model_stop(void)
{
	atomic_store_explicit(&mdl.on, false, memory_order_relaxed);
}

/** The current actor's CPU, when the run follows a weak model. */
static inline struct model_cpu *model_cpu(void)
{
	return unlikely(atomic_load_explicit(&mdl.on, memory_order_relaxed)) &&
	       current ? &current->cpu : NULL;
}

/* ---------------------------------------------------------------- */
/* Views. */

/** The empty view: every state of every word may be read. */
static const struct model_view model_none;

/** Make room for \a n more entries in the pool; returns the first's index. */
static unsigned int model_ents_room(size_t n)
{
	if (mdl.nents + n > mdl.cents) {
		size_t cap = mdl.cents ? mdl.cents : 4096;
		void *p;

		while (cap < mdl.nents + n)
			cap *= 2;
		p = realloc(mdl.ents, cap * sizeof(*mdl.ents));
		if (!p)
			sim_die("the memory model's views: out of memory");
		mdl.ents = p;
		mdl.cents = cap;
	}
	return (unsigned int)mdl.nents;
}

/** The state of \a addr that \a v names above its floor (0: none). */
static unsigned long model_view_at(const struct model_view *v,
				   const void *addr)
{
	const struct model_ent *e;
	unsigned int lo = 0, hi = v->n;

	if (!hi)
		return 0;
	e = mdl.ents + v->off;
	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (e[mid].addr == addr)
			return e[mid].t;
		if ((uintptr_t)e[mid].addr < (uintptr_t)addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/** Does \a a allow no state that \a b rules out (is a at least b)? */
static bool model_covers(const struct model_view *a, const struct model_view *b)
{
	const struct model_ent *pa, *pb;
	unsigned int i = 0, j;

	if (b->floor > a->floor)
		return false;
	if (!b->n)
		return true;
	pa = mdl.ents + a->off;
	pb = mdl.ents + b->off;
	for (j = 0; j < b->n; j++) {
		if (pb[j].t <= a->floor)
			continue;
		while (i < a->n && (uintptr_t)pa[i].addr < (uintptr_t)pb[j].addr)
			i++;
		if (i == a->n || pa[i].addr != pb[j].addr || pa[i].t < pb[j].t)
			return false;
	}
	return true;
}

/**
 * \a a joined with \a b: of each word, the newer of the two states.  A
 * new view only when neither already covers the other (most joins change
 * nothing: the pool grows by nothing then).
 */
static struct model_view model_join(struct model_view a, struct model_view b)
{
	struct model_view r = { a.floor > b.floor ? a.floor : b.floor, 0, 0 };
	const struct model_ent *pa, *pb;
	struct model_ent *o;
	unsigned int i = 0, j = 0, n = 0;

	if (a.off == b.off && a.n == b.n)	/* the same entries */
		return a.floor >= b.floor ? a : b;
	if (model_covers(&a, &b))
		return a;
	if (model_covers(&b, &a))
		return b;
	r.off = model_ents_room(a.n + b.n);
	pa = mdl.ents + a.off;
	pb = mdl.ents + b.off;
	o = mdl.ents + r.off;
	while (i < a.n || j < b.n) {
		struct model_ent e;

		if (j == b.n || (i < a.n && (uintptr_t)pa[i].addr <
					    (uintptr_t)pb[j].addr)) {
			e = pa[i++];
		} else if (i == a.n || (uintptr_t)pb[j].addr <
				       (uintptr_t)pa[i].addr) {
			e = pb[j++];
		} else {
			e = pa[i++];
			if (pb[j].t > e.t)
				e.t = pb[j].t;
			j++;
		}
		if (e.t > r.floor)	/* else the floor covers it */
			o[n++] = e;
	}
	r.n = n;
	mdl.nents += n;
	return r;
}

/** \a v, with \a addr at least at its state of time \a t. */
static struct model_view model_join_ent(struct model_view v, const void *addr,
					unsigned long t)
{
	struct model_view one;

	if (t <= v.floor || model_view_at(&v, addr) >= t)
		return v;
	one.floor = 0;
	one.off = model_ents_room(1);
	one.n = 1;
	mdl.ents[one.off] = (struct model_ent){ addr, t };
	mdl.nents++;
	return model_join(v, one);
}

/** The view of "now": every word as it is. */
static struct model_view model_now(void)
{
	return (struct model_view){ mdl.clock, 0, 0 };
}

/** The view a reader of commit \a w gets: its view and w itself. */
static struct model_view model_seen_by(const struct model_write *w)
{
	return w->self;
}

/** What a release by \a cpu publishes: all it wrote and read before. */
static struct model_view model_release_view(const struct model_cpu *cpu)
{
	return model_join(model_join(cpu->wview, cpu->wmbv),
			  model_join(cpu->ownv, cpu->racc));
}

/* ---------------------------------------------------------------- */
/* Memory: commits and the history. */

/** What \a op does to \a word with operand \a val. */
static unsigned long model_apply(enum model_op op, unsigned long word,
				 unsigned long val)
{
	return op == MODEL_SET ? val : op == MODEL_OR ? word | val
						      : word & ~val;
}

/** Index in mdl.hist of the last commit to \a addr, or -1. */
static long model_last_write(const void *addr)
{
	size_t i = mdl.nr;

	while (i-- > 0)
		if (mdl.hist[i].addr == addr)
			return (long)i;
	return -1;
}

/**
 * Write down that \a cpu changed \a addr from \a old to \a val, now, with
 * \a v visible before it.  Its own later loads read no older state.
 */
static void model_log(struct model_cpu *cpu, const void *addr,
		      unsigned long old, unsigned long val,
		      struct model_view v)
{
	struct model_write *w;

	if (mdl.nr == mdl.cap) {
		size_t cap = mdl.cap ? 2 * mdl.cap : 1024;
		void *p = realloc(mdl.hist, cap * sizeof(*mdl.hist));

		if (!p)
			sim_die("the memory model's history: out of memory");
		mdl.hist = p;
		mdl.cap = cap;
	}
	w = &mdl.hist[mdl.nr++];
	*w = (struct model_write){ addr, old, val, ++mdl.clock, v, v };
	w->self = model_join_ent(v, addr, w->t);
	cpu->cur = model_join_ent(cpu->cur, addr, w->t);
	cpu->ownv = model_join(cpu->ownv, model_seen_by(w));
	sim_fp_note(addr, true);
}

/**
 * Make \a s visible now, as \a cpu: it takes effect on memory.  Returns
 * the word's value before.
 */
static unsigned long model_commit_store(struct model_cpu *cpu,
					const struct model_store *s)
{
	unsigned long old;

	if (s->op == MODEL_SET)
		old = atomic_exchange_explicit(s->addr, s->val,
					       memory_order_relaxed);
	else if (s->op == MODEL_OR)
		old = atomic_fetch_or_explicit(s->addr, s->val,
					       memory_order_relaxed);
	else
		old = atomic_fetch_and_explicit(s->addr, ~s->val,
						memory_order_relaxed);
	model_log(cpu, s->addr, old, model_apply(s->op, old, s->val), s->v);
	return old;
}

/**
 * May \a cpu's waiting store \a i become visible now?  Not while a store
 * before it is waiting that is to the same word (coherence), of an
 * earlier epoch (smp_wmb()), or, for a release, any at all.
 */
static bool model_committable(const struct model_cpu *cpu, int i)
{
	const struct model_store *s = &cpu->buf[i];
	int j;

	for (j = 0; j < i; j++)
		if (cpu->buf[j].addr == s->addr ||
		    cpu->buf[j].epoch < s->epoch || s->rel)
			return false;
	return true;
}

/**
 * \a cpu's waiting store \a i becomes visible.  The stores after it that
 * a barrier orders behind it (a later epoch, a release) carry its view
 * from now on, as do the stores after the CPU's last smp_wmb().
 */
static void model_commit_at(struct model_cpu *cpu, int i)
{
	struct model_store s = cpu->buf[i];
	struct model_view self;
	int j;

	model_commit_store(cpu, &s);
	self = model_seen_by(&mdl.hist[mdl.nr - 1]);
	memmove(&cpu->buf[i], &cpu->buf[i + 1],
		(cpu->nr - i - 1) * sizeof(cpu->buf[0]));
	cpu->nr--;
	for (j = i; j < cpu->nr; j++)
		if (cpu->buf[j].epoch > s.epoch || cpu->buf[j].rel)
			cpu->buf[j].v = model_join(cpu->buf[j].v, self);
	if (s.epoch < cpu->epoch)
		cpu->wmbv = model_join(cpu->wmbv, self);
	sim_trace("(model: %s becomes visible)", s.what);
}

/** Commit \a cpu's waiting stores, in program order (a release). */
static void model_drain(struct model_cpu *cpu)
{
	while (cpu->nr)
		model_commit_at(cpu, 0);
}

/** Does \a cpu have a store to \a addr waiting? */
static bool model_pending(const struct model_cpu *cpu, const void *addr)
{
	int i;

	for (i = 0; i < cpu->nr; i++)
		if (cpu->buf[i].addr == addr)
			return true;
	return false;
}

/** \a val, as \a cpu's own waiting stores to \a addr would make it. */
static unsigned long model_forward(const struct model_cpu *cpu,
				   const void *addr, unsigned long val)
{
	int i;

	for (i = 0; i < cpu->nr; i++)
		if (cpu->buf[i].addr == addr)
			val = model_apply(cpu->buf[i].op, val, cpu->buf[i].val);
	return val;
}

static int model_commits(struct sched_commit *out);
static void model_commit_by(const struct sched_commit *c);

/**
 * The stores of the run that may become visible now, every CPU's (for
 * the scheduler, group sim): up to SIM_MAX_ACTORS * MODEL_BUFFER of them,
 * by actor and then in program order.
 */
static int model_commits(struct sched_commit *out)
{
	int i, j, n = 0;

	if (!atomic_load_explicit(&mdl.on, memory_order_relaxed))
		return 0;
	for (i = 0; i < sched.nr_actors; i++) {
		struct model_cpu *cpu = &sched.actors[i]->cpu;

		for (j = 0; j < cpu->nr; j++)
			if (model_committable(cpu, j))
				out[n++] = (struct sched_commit){
					i, j, cpu->buf[j].seq };
	}
	return n;
}

/** The scheduler makes waiting store \a c visible (between steps). */
static void model_commit_by(const struct sched_commit *c)
{
	struct sim_actor *owner = sched.actors[c->actor], *was = current;

	current = owner;		/* its column in the timeline */
	model_commit_at(&owner->cpu, c->idx);
	current = was;
}

static void sim_describe_word(unsigned long v, char *buf, size_t len);

/** Decide a reordering: see model_store() and model_load(). */
static int model_choose(enum sim_choice_kind kind, int nopts,
			const char *what);

/**
 * A write the model does not hold back (any write to a tracked word but
 * the modelled stores): it commits now, after the waiting stores an
 * smp_wmb() or coherence orders before it, with the view \a v.
 */
static void model_write_view(struct model_cpu *cpu,
			     _Atomic unsigned long *addr, enum model_op op,
			     unsigned long val, struct model_view v)
{
	struct model_store s = { addr, val, op, 0, 0, false, v, NULL };
	int i;

	for (i = 0; i < cpu->nr; i++)
		if (cpu->buf[i].addr == addr || cpu->buf[i].epoch < cpu->epoch) {
			model_drain(cpu);
			break;
		}
	model_commit_store(cpu, &s);
}

/** A plain write: see model_write_view(). */
static void model_write(struct model_cpu *cpu, _Atomic unsigned long *addr,
			enum model_op op, unsigned long val)
{
	model_write_view(cpu, addr, op, val,
			 model_join(cpu->wview, cpu->wmbv));
}

/** Are stores of this run's CPUs always held back (a litmus program)? */
static bool model_transparent(void)
{
	return choices && choices->transparent;
}

/**
 * A modelled store of \a val to \a addr, called \a what, a release if
 * \a rel: it waits in the store buffer, or (kernel code, a decision)
 * commits now.  See the group description.
 */
static void model_store_as(_Atomic unsigned long *addr, enum model_op op,
			   unsigned long val, const char *what, bool rel)
{
	struct model_cpu *cpu = model_cpu();
	struct model_store s = { addr, val, op, 0, 0, rel, model_none, what };
	bool wait = false;
	int i;

	sim_fp_note(addr, true);
	if (!cpu) {
		if (op == MODEL_SET)
			atomic_store_explicit(addr, val, memory_order_release);
		else if (op == MODEL_OR)
			atomic_fetch_or(addr, val);
		else
			atomic_fetch_and(addr, ~val);
		return;
	}
	if (cpu->nr == MODEL_BUFFER)
		model_drain(cpu);	/* a full buffer stalls the CPU */
	s.epoch = cpu->epoch;
	s.seq = cpu->seq++;
	s.v = rel ? model_release_view(cpu)
		  : model_join(cpu->wview, cpu->wmbv);
	for (i = 0; i < cpu->nr; i++)
		if (cpu->buf[i].epoch < cpu->epoch ||
		    cpu->buf[i].addr == addr || rel)
			wait = true;	/* ordered behind one still waiting */
	if (!wait)
		wait = model_transparent() ||
		       model_choose(SIM_CHOICE_STORE, 2, what) == 1;
	if (!wait) {
		model_commit_store(cpu, &s);
		return;
	}
	cpu->buf[cpu->nr++] = s;
	sim_trace("(model: %s waits in the store buffer)", what);
}

/** A modelled store: see model_store_as(). */
static void model_store(_Atomic unsigned long *addr, enum model_op op,
			unsigned long val, const char *what)
{
	model_store_as(addr, op, val, what, false);
}

/**
 * \a cpu read commit \a w of \a addr (NULL: the word's first state, or
 * its own waiting store); \a load: by a modelled load, which a litmus
 * program's dependency may name.
 */
static void model_read_from(struct model_cpu *cpu, const void *addr,
			    const struct model_write *w, bool load)
{
	struct model_view self = w ? model_seen_by(w) : model_none;
	unsigned int i = w ? (unsigned int)(w - mdl.hist) : 0;

	if (w)
		cpu->cur = model_join_ent(cpu->cur, addr, w->t);
	if (w && cpu->racc_memo[i % MODEL_MEMO] != i + 1) {
		cpu->racc = model_join(cpu->racc, self);
		cpu->racc_memo[i % MODEL_MEMO] = i + 1;
	}
	cpu->last = self;
	if (!load)
		return;
	if (cpu->nr_loads < MODEL_DEPS)
		cpu->loads[cpu->nr_loads] = self;
	cpu->nr_loads++;
}

/** model_load() under the model: see there. */
static unsigned long model_load_cpu(struct model_cpu *cpu,
				    _Atomic unsigned long *addr,
				    unsigned long mask, const char *what)
{
	unsigned long now = atomic_load_explicit(addr, memory_order_acquire);
	unsigned long lo, floor, first = now, val[MODEL_CHOICES];
	long from[MODEL_CHOICES];	/* each value's commit; -1: the first */
	size_t i = mdl.nr;
	bool newest = true;
	int n = 0, c;

	sim_fp_note(addr, false);
	if (model_pending(cpu, addr)) {
		cpu->dep = model_none;
		model_read_from(cpu, addr, NULL, true);
		return model_forward(cpu, addr, now);
	}
	lo = model_view_at(&cpu->cur, addr);
	if (lo < model_view_at(&cpu->dep, addr))
		lo = model_view_at(&cpu->dep, addr);
	floor = cpu->cur.floor > cpu->dep.floor ? cpu->cur.floor
						: cpu->dep.floor;
	cpu->dep = model_none;
	/*
	 * The states the load may read, newest first: back to the one cur
	 * names, or to the newest at or before the floor, or to the word's
	 * first state; distinct values only (of a run of equal ones, the
	 * oldest: it constrains least).
	 */
	while (i-- > 0) {
		const struct model_write *w = &mdl.hist[i];
		unsigned long v = newest ? now : w->val;

		if (w->addr != addr)
			continue;
		if (w->t < lo)
			goto choose;		/* older is out of reach */
		newest = false;
		first = w->old;
		if (n && !((v ^ val[n - 1]) & mask))
			from[n - 1] = (long)i;	/* the same value, older */
		else if (n == MODEL_CHOICES)
			goto choose;	/* older values are out of reach */
		else {
			val[n] = v;
			from[n++] = (long)i;
		}
		if (w->t <= floor)
			goto choose;		/* the floor's own state */
	}
	if (lo)
		goto choose;
	/* The word's first state, before any commit of this run. */
	if (n && !((first ^ val[n - 1]) & mask))
		from[n - 1] = -1;
	else if (n < MODEL_CHOICES) {
		val[n] = first;
		from[n++] = -1;
	}
choose:
	if (!n) {		/* cannot be: lo names a commit of addr */
		val[0] = now;
		from[n++] = model_last_write(addr);
	}
	c = n > 1 ? model_choose(SIM_CHOICE_LOAD, n, what) : 0;
	if (c && mask == ~0UL) {
		char was[48], is[48];

		sim_describe_word(val[c], was, sizeof(was));
		sim_describe_word(val[0], is, sizeof(is));
		sim_trace("(model: %s is read from an older state: %s, not "
			  "%s)", what, was, is);
	} else if (c)
		sim_trace("(model: %s is read from an older state: %d, not %d)",
			  what, !!(val[c] & mask), !!(val[0] & mask));
	model_read_from(cpu, addr, from[c] < 0 ? NULL : &mdl.hist[from[c]],
			true);
	return val[c];
}

/**
 * A modelled load of \a addr, called \a what, of which only the bits of
 * \a mask matter: it returns a value the word had at a state of memory
 * the model allows (see the group description).  Off the model (free
 * runs, and runs under sc), a plain load, inline.
 */
static inline unsigned long model_load(_Atomic unsigned long *addr,
				       unsigned long mask, const char *what)
{
	struct model_cpu *cpu = model_cpu();

	if (likely(!cpu))
		return atomic_load_explicit(addr, memory_order_acquire);
	return model_load_cpu(cpu, addr, mask, what);
}

/**
 * \a cpu read \a addr as memory holds it now (a read the model does not
 * reorder): it read the last commit to that word; or, for a word the
 * model keeps no history of (\a addr NULL: a refcount), memory as a
 * whole, now.  Later smp_rmb()s and dependencies order loads after it.
 */
static void model_read_now(struct model_cpu *cpu, const void *addr)
{
	long i;

	if (!addr) {
		sim_fp_note(NULL, false);
		cpu->last = model_now();
		cpu->racc = model_join(cpu->racc, cpu->last);
		return;
	}
	sim_fp_note(addr, false);
	i = model_last_write(addr);
	model_read_from(cpu, addr, i < 0 ? NULL : &mdl.hist[i], false);
}

/**
 * A value-returning atomic on \a addr, fully ordered: a full barrier,
 * then it reads the last commit to the word and writes \a op of \a val
 * over it (publishing what it read), then a full barrier.  Returns the
 * old value.
 */
static unsigned long model_rmw(struct model_cpu *cpu,
			       _Atomic unsigned long *addr, enum model_op op,
			       unsigned long val)
{
	struct model_store s = { addr, val, op, 0, 0, false, model_none,
				 NULL };
	unsigned long old;
	long i;

	model_full();
	i = model_last_write(addr);
	model_read_from(cpu, addr, i < 0 ? NULL : &mdl.hist[i], false);
	s.v = model_release_view(cpu);
	old = model_commit_store(cpu, &s);
	model_full();
	return old;
}

/* ---------------------------------------------------------------- */
/* Barriers, locks, and catching up. */

/** A release: the CPU's waiting stores become visible first. */
static void model_release(void)
{
	struct model_cpu *cpu = model_cpu();

	if (cpu)
		model_drain(cpu);
}

/** The views lock \a lock keeps, found or made. */
static struct model_lock *model_lock_of(const void *lock)
{
	int i;

	for (i = 0; i < mdl.nr_locks; i++)
		if (mdl.locks[i].lock == lock)
			return &mdl.locks[i];
	BUG_ON(mdl.nr_locks == MODEL_LOCKS);	/* a scenario too big */
	mdl.locks[mdl.nr_locks] = (struct model_lock){ lock, model_none,
						       model_none };
	return &mdl.locks[mdl.nr_locks++];
}

/** \a lock was taken: an acquire of what its unlocks published. */
static void model_lock(const void *lock)
{
	struct model_cpu *cpu = model_cpu();
	struct model_lock *l;

	sim_fp_note(lock, true);
	if (!cpu)
		return;
	l = model_lock_of(lock);
	cpu->cur = model_join(cpu->cur, l->v);
	cpu->racc = model_join(cpu->racc, l->v);
	cpu->wview = model_join(cpu->wview, model_join(l->po, cpu->ulv));
}

/** \a lock is about to be released: a release, published in the lock. */
static void model_unlock(const void *lock)
{
	struct model_cpu *cpu = model_cpu();
	struct model_lock *l;

	sim_fp_note(lock, true);
	if (!cpu)
		return;
	model_drain(cpu);
	l = model_lock_of(lock);
	l->v = model_join(l->v, model_release_view(cpu));
	l->po = model_join(l->po, cpu->ownv);
	cpu->ulv = cpu->ownv;
}

/** A full barrier (see the group description). */
static void model_full(void)
{
	struct model_cpu *cpu = model_cpu();

	if (!cpu)
		return;
	sim_fp_note(&mdl.G, true);
	model_drain(cpu);
	/*
	 * G takes all the CPU has seen; since that includes cur, racc and
	 * wview, the CPU's new view, and what its later stores carry, is G.
	 */
	mdl.G = model_join(model_join(mdl.G, cpu->cur),
			   model_join(model_join(cpu->racc, cpu->ownv),
				      cpu->wview));
	cpu->cur = mdl.G;
	cpu->wview = mdl.G;
}

/**
 * Every actor is spinning, waiting for memory to change, and no store is
 * waiting that the scheduler could make visible: on a real CPU what the
 * others stored becomes visible in the end.  Let it: every store buffer
 * is committed and every spinner's view rises to now.  Returns whether
 * that changed anything (if not, the spin is forever).
 */
static bool model_catch_up(void)
{
	bool changed = false;
	int i;

	if (!atomic_load_explicit(&mdl.on, memory_order_relaxed))
		return false;
	for (i = 0; i < sched.nr_actors; i++) {
		struct sim_actor *a = sched.actors[i];
		struct sim_actor *was = current;

		if (a->cpu.nr) {
			current = a;
			model_drain(&a->cpu);
			current = was;
			changed = true;
		}
	}
	for (i = 0; i < sched.nr_actors; i++) {
		struct sim_actor *a = sched.actors[i];

		if (atomic_load(&a->state) != ACTOR_YIELDED ||
		    a->cpu.cur.floor == mdl.clock)
			continue;
		a->cpu.cur = model_join(a->cpu.cur, model_now());
		changed = true;
	}
	return changed;
}

/**
 * Under the script policy: has the script asked the current actor's CPU
 * for \a verb ("delay", "old") of the access called \a what?
 */
static bool script_directive(const char *verb, const char *what)
{
	size_t vlen = strlen(verb);
	int i;

	for (i = 0; i < script.nr_rules; i++) {
		const char *r = script.rules[i].rule;

		if (script.rules[i].actor == current->id &&
		    !strncmp(r, verb, vlen) && r[vlen] == ' ' &&
		    !strcmp(r + vlen + 1, what))
			return true;
	}
	return false;
}

static int model_choose(enum sim_choice_kind kind, int nopts,
			const char *what)
{
	char why[160];
	int c;

	if (choices) {
		c = sim_decide(kind, nopts, true, why, sizeof(why));
		if (c < 0)
			sched_abandon(why);
		return c;
	}
	if (kind == SIM_CHOICE_STORE)
		return script_directive("delay", what);
	if (kind == SIM_CHOICE_EARLY)
		return 0;
	return script_directive("old", what) ? nopts - 1 : 0;
}

/** @} */

/* ================================================================ */
/** \defgroup barriers Once-accesses and barriers
 *
 * The seeds order a few accesses with barriers: the stable node's kpfn,
 * a page's mapping, its PG_swapcache bit.  Those words are C11 atomics
 * (so that a sanitizer sees no data race where the kernel has none), and
 * the kernel's primitives map onto C11, and onto the model, as follows:
 *
 *  kernel				here
 *  ACCESS_ONCE(x) / READ_ONCE(x)	READ_ONCE(x): a scheduling point, and
 *					a modelled load; on the host an
 *					atomic load with memory_order_acquire,
 *					standing for C11's consume (dependency
 *					ordering, as READ_ONCE() gives from
 *					4.15)
 *  ACCESS_ONCE(x) = v / WRITE_ONCE	WRITE_ONCE(x, v): a scheduling point,
 *					and a modelled store; on the host an
 *					atomic store with memory_order_release
 *  smp_wmb()				release fence; a new epoch
 *  smp_rmb()				acquire fence; cur joins racc
 *  smp_mb()				seq_cst fence; drain, join G
 *  smp_read_barrier_depends()		nothing on the host (only Alpha needs
 *					it); under ALPHA, as smp_mb()
 *
 * Acquire and release cost nothing on x86, and they keep the simulation
 * itself free of data races in C11's sense (a struct page reached through
 * a freshly read kpfn is then really published to the reader).  They also
 * mean that the reorderings these barriers guard against never happen
 * when the simulation simply runs: x86 cannot show them anyway.  Under a
 * weak model (group model) the barriers, and their fix switches, take
 * effect.  Plain reads of these words elsewhere use tracked_read(): the
 * newest value, no scheduling point.
 * @{ */

/** A plain read of a tracked word: the newest value (or our own). */
static inline unsigned long tracked_read(_Atomic unsigned long *p)
{
	struct model_cpu *cpu = model_cpu();
	unsigned long v = atomic_load_explicit(p, memory_order_relaxed);

	if (cpu && model_pending(cpu, p))
		v = model_forward(cpu, p, v);
	else if (cpu)
		model_read_now(cpu, p);
	return v;
}

/** A plain write of a tracked word: no scheduling point. */
static inline void tracked_write(_Atomic unsigned long *p, unsigned long v)
{
	struct model_cpu *cpu = model_cpu();

	if (cpu)
		model_write(cpu, p, MODEL_SET, v);
	else
		atomic_store_explicit(p, v, memory_order_relaxed);
}

/** READ_ONCE(): see the group description.  \a what names the access. */
static unsigned long load_once(_Atomic unsigned long *p, const char *what)
{
	sim_point(SP_ACCESS, what);
	sim_fp_note(p, false);		/* under sc too */
	return model_load(p, ~0UL, what);
}

/** WRITE_ONCE(): see the group description. */
static void store_once(_Atomic unsigned long *p, unsigned long v,
		       const char *what)
{
	sim_point(SP_ACCESS, what);
	model_store(p, MODEL_SET, v, what);
}

/** READ_ONCE(x) for a tracked word \a x. */
#define READ_ONCE(x)		load_once(&(x), #x)
/** WRITE_ONCE(x, v) for a tracked word \a x. */
#define WRITE_ONCE(x, v)	store_once(&(x), (v), #x)

/**
 * smp_wmb(): order earlier stores before later stores.  Those already
 * visible join wmbv now; those waiting, when they commit (a later epoch
 * waits for them, model_commit_at()).
 */
static inline void smp_wmb(void)
{
	struct model_cpu *cpu = model_cpu();

	atomic_thread_fence(memory_order_release);
	if (cpu) {
		cpu->epoch++;
		cpu->wmbv = model_join(cpu->wmbv, cpu->ownv);
	}
}

/**
 * smp_rmb(): order earlier loads before later loads: what the stores
 * they read carried is visible to the loads after it.
 */
static inline void smp_rmb(void)
{
	struct model_cpu *cpu = model_cpu();

	atomic_thread_fence(memory_order_acquire);
	if (cpu)
		cpu->cur = model_join(cpu->cur, cpu->racc);
}

/** smp_mb(): order everything. */
static inline void smp_mb(void)
{
	atomic_thread_fence(memory_order_seq_cst);
	model_full();
}

/** smp_read_barrier_depends(): a no-op except on Alpha (see above). */
static inline void smp_read_barrier_depends(void)
{
	atomic_signal_fence(memory_order_acq_rel);
	if (mdl.model == SIM_MODEL_ALPHA)
		model_full();
}

/**
 * sim_addr_dep(): the loads that follow use an address computed from the
 * value of the last load (page = pfn_to_page(kpfn)).  Every CPU but Alpha
 * orders them after it; the kernel writes nothing here, so neither does
 * the host.
 */
static inline void sim_addr_dep(void)
{
	struct model_cpu *cpu = model_cpu();

	if (cpu && mdl.model != SIM_MODEL_ALPHA)
		cpu->cur = model_join(cpu->cur, cpu->last);
}

unsigned long sim_read_once(_Atomic unsigned long *x, const char *name)
{
	return load_once(x, name);
}

void sim_write_once(_Atomic unsigned long *x, unsigned long v,
		    const char *name)
{
	store_once(x, v, name);
}

unsigned long sim_load_acquire(_Atomic unsigned long *x, const char *name)
{
	struct model_cpu *cpu = model_cpu();
	unsigned long v = load_once(x, name);

	if (cpu)			/* later loads see what it carried */
		cpu->cur = model_join(cpu->cur, cpu->last);
	return v;
}

void sim_store_release(_Atomic unsigned long *x, unsigned long v,
		       const char *name)
{
	sim_point(SP_ACCESS, name);
	model_store_as(x, MODEL_SET, v, name, true);
}

void sim_depend_on(unsigned int load)
{
	struct model_cpu *cpu = model_cpu();

	if (cpu && mdl.model != SIM_MODEL_ALPHA && load < cpu->nr_loads &&
	    load < MODEL_DEPS)
		cpu->dep = model_join(cpu->dep, cpu->loads[load]);
}

unsigned int sim_loads_made(void)
{
	struct model_cpu *cpu = model_cpu();

	return cpu ? cpu->nr_loads : 0;
}

/** The locks of litmus programs (sim_spin_lock()). */
static spinlock_t sim_litmus_locks[SIM_LITMUS_LOCKS];

/**
 * A run starts with every litmus lock free: a run abandoned inside a
 * critical section (an explored schedule cut short) leaves it held.
 */
static void sim_litmus_locks_free(void)
{
	int i;

	for (i = 0; i < SIM_LITMUS_LOCKS; i++)
		sim_set_owner(&sim_litmus_locks[i], NULL);
}

void sim_spin_lock(unsigned int n, const char *name)
{
	BUG_ON(n >= SIM_LITMUS_LOCKS);
	sim_litmus_locks[n].name = name;
	spin_lock(&sim_litmus_locks[n]);
}

void sim_spin_unlock(unsigned int n)
{
	BUG_ON(n >= SIM_LITMUS_LOCKS);
	spin_unlock(&sim_litmus_locks[n]);
}

int sim_choose_early(int nopts, const char *what)
{
	return nopts > 1 && model_cpu() ?
	       model_choose(SIM_CHOICE_EARLY, nopts, what) : 0;
}

void sim_barrier(enum sim_barrier b)
{
	switch (b) {
	case SIM_SMP_WMB:
		smp_wmb();
		break;
	case SIM_SMP_RMB:
		smp_rmb();
		break;
	case SIM_SMP_MB:
		smp_mb();
		break;
	case SIM_READ_BARRIER_DEPENDS:
		smp_read_barrier_depends();
		break;
	case SIM_ADDR_DEP:
		sim_addr_dep();
		break;
	}
}

/** @} */

/* ================================================================ */
/** \defgroup arena The state of the machine: kzalloc(), and snapshots
 *
 * Everything the simulated kernel keeps - its global variables, the
 * objects it allocates, the memmap, the frames, the swap device - lives
 * where it can be saved and put back in one piece, so that the explorer
 * can run a scenario thousands of times from the state its setup built,
 * in one process, at the cost of a few memcpy()s per run:
 *
 *  - global variables of the simulated kernel are marked \__sim_state,
 *    which gathers them into one ELF section, ksm_ref_state;
 *  - objects come from kzalloc() and go back with kfree(), as in the
 *    kernel; here they come from an arena, one reserved range of address
 *    space cut into slabs of one size class each, as the kernel's slab
 *    allocator cuts pages: objects packed without headers (a 64-byte
 *    rmap_item fills one cache line), with a free list per size;
 *  - the memmap of every online section is copied whole (64 bytes a
 *    frame); frames and swap slots are copied back only where
 *    page_address() or swap_slot_data() was asked for them since.
 *
 * The scheduler, the trace, the memory model's history and the settings
 * (era, fixes) are not state: each run starts them afresh.
 * @{ */

#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer) || \
    defined(__SANITIZE_THREAD__) || __has_feature(thread_sanitizer)
/*
 * Under a sanitizer, objects come from calloc(), so that it sees every
 * allocation and free (an arena's reuse looks like use after free to
 * ASan, and like one mutex taking two places in the lock order to TSan):
 * no snapshots, then; the explorer forks a child per schedule instead.
 */
/** Whether objects come from the arena (and snapshots work). */
#define SIM_ARENA	0
#else
/** Whether objects come from the arena (and snapshots work). */
#define SIM_ARENA	1
#endif

/**
 * Address space reserved for the arena (only what is used is memory), or
 * less where the host allows less (a ulimit -v, valgrind): halved until
 * a reservation succeeds, down to ARENA_RESERVE_MIN.
 */
#define ARENA_RESERVE	(1UL << 36)
/** The least reservation tried. */
#define ARENA_RESERVE_MIN	(1UL << 30)
/** Size classes: 16-byte steps to 1 KiB, then powers of two. */
#define ARENA_CLASSES	(64 + 40)
/** log2 of a slab: the arena is cut into slabs of this size. */
#define ARENA_SLAB_SHIFT	12
/** A slab: objects of one class, packed; larger objects take several. */
#define ARENA_SLAB	(1UL << ARENA_SLAB_SHIFT)

/** The arena (kzalloc()).  Its lock makes each call an atomic step. */
static struct {
	pthread_mutex_t lock;		/**< guards the rest */
	char *base;			/**< start of the reservation */
	char *brk;			/**< first byte of no slab yet */
	void *free[ARENA_CLASSES];	/**< free blocks, per class */
	char *bump[ARENA_CLASSES];	/**< next never used block, per class */
	char *bump_end[ARENA_CLASSES];	/**< ...end of its slab */
} arena __sim_state = { .lock = PTHREAD_MUTEX_INITIALIZER };

/**
 * The size class of each slab, for kfree() (the kernel finds it in the
 * slab's struct page).  Not state: an entry is written when its slab is
 * cut at brk, and brk only grows between snapshots, so every entry below
 * a snapshot's brk is the same at its restore; those above are written
 * again when their slabs are cut again.
 */
static unsigned char *arena_slab_class;
/** Bytes reserved at arena.base (not state: fixed once reserved). */
static size_t arena_size;

/** The size class for \a size bytes, and the class's block size. */
static unsigned long arena_class(size_t size, size_t *bytes)
{
	unsigned long cls = 64;
	size_t b = 2048;

	if (size <= 1024) {
		cls = size ? (size + 15) / 16 - 1 : 0;
		*bytes = (cls + 1) * 16;
		return cls;
	}
	while (b < size) {
		b <<= 1;
		cls++;
	}
	*bytes = b;
	return cls;
}

/** Reserve the arena and its slab classes, once.  Holds arena.lock. */
static bool arena_reserve(void)
{
	size_t size;
	void *m, *c;

	if (arena.base)
		return true;
	for (size = ARENA_RESERVE; size >= ARENA_RESERVE_MIN; size >>= 1) {
		m = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		c = mmap(NULL, size >> ARENA_SLAB_SHIFT, PROT_READ |
			 PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
			 MAP_NORESERVE, -1, 0);
		if (m != MAP_FAILED && c != MAP_FAILED) {
			arena.base = arena.brk = m;
			arena_slab_class = c;
			arena_size = size;
			return true;
		}
		if (m != MAP_FAILED)
			munmap(m, size);
		if (c != MAP_FAILED)
			munmap(c, size >> ARENA_SLAB_SHIFT);
	}
	return false;
}

/**
 * From now on, the arena is backed by huge pages where the host allows
 * (see SIM_HUGE_MACHINE): a hint, which may be ignored.
 */
static void arena_hugepages(void)
{
	pthread_mutex_lock(&arena.lock);
	if (SIM_ARENA && arena_reserve())
		madvise(arena.base, arena_size, MADV_HUGEPAGE);
	pthread_mutex_unlock(&arena.lock);
}

/**
 * Objects kzalloc() gave that kfree() has not had back: state, so that a
 * snapshot's restore counts what it restores.  sim_exit() frees every
 * object the machine still knows of; what is left then was lost.
 */
static _Atomic long sim_objects_live __sim_state;
/** What the last sim_exit() found never freed (not state). */
static unsigned long sim_objects_leaked;

/**
 * kzalloc(): \a size zeroed bytes, or NULL.  A free block of the size
 * class if there is one, else the next block of the class's slab, else a
 * new slab (several, for a block larger than a slab) cut at brk.
 */
static void *kzalloc(size_t size)
{
	unsigned long cls;
	size_t bytes, len;
	void *p = NULL;

	if (!SIM_ARENA) {
		p = calloc(1, size);
		if (p)
			atomic_fetch_add(&sim_objects_live, 1);
		return p;
	}
	if (size > (ARENA_RESERVE >> 4))
		return NULL;
	cls = arena_class(size, &bytes);
	pthread_mutex_lock(&arena.lock);
	if (!arena_reserve()) {
		pthread_mutex_unlock(&arena.lock);
		return NULL;
	}
	if (arena.free[cls]) {
		p = arena.free[cls];
		arena.free[cls] = *(void **)p;
	} else if (arena.bump[cls] &&
		   arena.bump[cls] + bytes <= arena.bump_end[cls]) {
		p = arena.bump[cls];
		arena.bump[cls] += bytes;
	} else {
		len = ALIGN(bytes, ARENA_SLAB);
		if (arena.brk + len <= arena.base + arena_size) {
			p = arena.brk;
			arena_slab_class[(arena.brk - arena.base) >>
					 ARENA_SLAB_SHIFT] = (unsigned char)cls;
			arena.brk += len;
			arena.bump[cls] = (char *)p + bytes;
			arena.bump_end[cls] = (char *)p + len;
		}
	}
	pthread_mutex_unlock(&arena.lock);
	if (p) {
		memset(p, 0, size);
		atomic_fetch_add(&sim_objects_live, 1);
	}
	return p;
}

/** kfree(): give back what kzalloc() gave (NULL is fine). */
static void kfree(const void *p)
{
	unsigned long cls;

	if (p)
		atomic_fetch_sub(&sim_objects_live, 1);
	if (!SIM_ARENA || !p) {
		free((void *)p);
		return;
	}
	pthread_mutex_lock(&arena.lock);
	cls = arena_slab_class[((const char *)p - arena.base) >>
			       ARENA_SLAB_SHIFT];
	*(void **)p = arena.free[cls];
	arena.free[cls] = (void *)p;
	pthread_mutex_unlock(&arena.lock);
}

/** Bits in a word of a bitmap. */
#define BITS_PER_LONG	(8 * sizeof(long))

/**
 * A big ring buffer of state, kept out of the section ksm_ref_state so
 * that a snapshot need not copy it whole: a restore puts back only the
 * entries written since (snap_ring_touch()).
 */
struct snap_ring {
	void *base;			/**< the array */
	size_t elem;			/**< bytes per entry */
	size_t nr;			/**< entries */
	char *copy;			/**< the array at the snapshot */
	size_t lo;			/**< entries [lo, hi) were written */
	size_t hi;			/**< ...since the snapshot */
};

/** The rings of state (see struct snap_ring). */
enum {
	SNAP_RING_QUARANTINE,		/**< quarantine_ring[] */
	SNAP_RING_KSM_FREES,		/**< sim_ksm_frees[] */
	NR_SNAP_RINGS
};

/**
 * The snapshot sim_snapshot_take() saved (not itself state), and what
 * has been touched since.
 */
static struct {
	bool taken;			/**< there is one */
	char *globals;			/**< the section ksm_ref_state */
	char *arena;			/**< the arena, up to its brk */
	size_t arena_len;		/**< ...that many bytes */
	char *memmap;			/**< the memmap, mapped sections' part */
	unsigned char *frames;		/**< their frames */
	unsigned char *swap;		/**< the swap device's bytes */
	bool *mapped;			/**< which sections were mapped */
	_Atomic unsigned long *dirty;	/**< bit per frame touched since */
	_Atomic unsigned long *dirty_swap; /**< bit per swap slot touched */
	struct snap_ring rings[NR_SNAP_RINGS];	/**< big rings of state */
} snap;

/** Entry \a i of ring \a r is about to be written. */
static inline void snap_ring_touch(int r, size_t i)
{
	struct snap_ring *ring = &snap.rings[r];

	if (likely(!snap.taken))
		return;
	if (i < ring->lo)
		ring->lo = i;
	if (i + 1 > ring->hi)
		ring->hi = i + 1;
}

/** Is each section's memmap mapped now?  (section_map(); not state.) */
static bool *section_mapped;

/** Note that bit \a nr of the bitmap \a map has been touched. */
static inline void snap_touch(_Atomic unsigned long *map, unsigned long nr)
{
	atomic_fetch_or_explicit(&map[nr / BITS_PER_LONG],
				 1UL << (nr % BITS_PER_LONG),
				 memory_order_relaxed);
}

/** Forget every object at once (sim_exit(), after the last kfree()). */
static void arena_reset(void)
{
	if (arena.base) {
		madvise(arena.base, arena.brk - arena.base, MADV_DONTNEED);
		arena.brk = arena.base;
	}
	memset(arena.free, 0, sizeof(arena.free));
	memset(arena.bump, 0, sizeof(arena.bump));
	memset(arena.bump_end, 0, sizeof(arena.bump_end));
}

/** @} */

/* ================================================================ */
/** \defgroup memmap Physical memory: sections, struct page, refcounts
 *
 * Physical memory is an array of page frames, split into sections of
 * pages_per_section frames, each section on one NUMA node.  As with the
 * kernel's SPARSEMEM_VMEMMAP, one virtually contiguous array of struct
 * page (the memmap) describes every frame, so pfn_to_page() is a single
 * addition; and a second reservation holds the frames' bytes.
 *
 * Both reservations are mapped with no access.  Onlining a section maps
 * its part of each read-write; offlining maps it back to no access, so
 * that whoever touches the struct page of a removed section really
 * faults.  The SIGSEGV handler tells such a fault from a bug and names
 * the pfn, the section and the actor (see sim_fault_handler()).
 * @{ */

/** Tag bits in page->mapping, as include/linux/mm.h and ksm.h. */
#define PAGE_MAPPING_ANON	1UL	/**< mapping is an anon_vma */
#define PAGE_MAPPING_KSM	2UL	/**< ...with ANON: a stable_node */
#define PAGE_MAPPING_FLAGS	(PAGE_MAPPING_ANON | PAGE_MAPPING_KSM) /**< both */

/** Page flags used by the seeds (a subset of include/linux/page-flags.h). */
enum pageflags {
	PG_locked,	/**< page lock held (lock_page) */
	PG_uptodate,	/**< contents valid */
	PG_dirty,	/**< must be written before it is freed */
	PG_lru,		/**< on the LRU list (not isolated) */
	PG_swapcache,	/**< in the swap cache: private is its swap entry */
	PG_swapbacked,	/**< anonymous or shmem: backed by swap */
	PG_writeback,	/**< being written out */
	PG_private,	/**< private holds filesystem data */
	PG_reserved,	/**< not for the allocator */
	PG_buddy,	/**< free, on the allocator's lists */
	NR_PAGEFLAGS
};

/**
 * struct page: one per frame, as in the kernel of 2009-2013 (fields the
 * seeds do not use are left out).
 *
 * _count is the number of references: every pte mapping the page, the
 * swap or page cache, an isolation for reclaim or migration, and any
 * transient get_page().  It falls to zero only when the page is freed,
 * or while someone has it frozen (page_freeze_refs()).
 *
 * mapping, tagged by its low bits, says whose the page is:
 *   NULL						free, or not yet anon
 *   anon_vma | PAGE_MAPPING_ANON			an anonymous page
 *   stable_node | PAGE_MAPPING_ANON | PAGE_MAPPING_KSM	a KSM page
 *   address_space					a file page
 * Freeing an anonymous page resets mapping to NULL: the keyhole relies
 * on that (seed 001).
 */
struct page {
	_Atomic unsigned long flags;	/**< PG_* bits, atomic bitops */
	atomic_int _count;		/**< references, see above */
	atomic_int _mapcount;		/**< ptes mapping it, minus one */
	_Atomic unsigned long mapping;	/**< owner, see above */
	unsigned long index;		/**< page offset in its mapping */
	unsigned long private;		/**< swap entry if PG_swapcache */
	struct list_head lru;		/**< free list, LRU or private list */
	unsigned long sim_pad;		/**< pads to 64 bytes: see memmap */
};

/** \cond */
_Static_assert(sizeof(struct page) <= 64,
	       "struct page stays within 64 bytes on x86_64, as in the kernel");
/** \endcond */

/** Per-section state. */
struct mem_section {
	bool online;			/**< memmap and frames mapped */
	bool isolated;			/**< going offline: allocator skips it */
	int nid;			/**< NUMA node */
	/* zone_lock guards these: */
	struct list_head free_list;	/**< free frames, last freed first */
	unsigned long nr_free;		/**< frames on free_list */
	unsigned long nr_used;		/**< frames handed out */
};

/** The machine. */
static struct {
	struct sim_config cfg;
	unsigned int page_shift;
	unsigned long max_pfn;		/**< number of frames */
	struct page *vmemmap;		/**< the memmap reservation */
	size_t vmemmap_size;
	unsigned char *frames;		/**< the frames' bytes */
	size_t frames_size;
	struct mem_section *sections;
	bool huge;			/**< big: mapped with huge pages */
	bool initialized;
} machine __sim_state;

/**
 * A machine of this many bytes of frames or more is mapped with huge
 * pages (MADV_HUGEPAGE) - its memmap, its frames and the arena - as the
 * kernel maps its memmap, its slabs and the direct map through which it
 * reads page contents: without them, each random access ksmd makes in a
 * big stable or unstable tree would cost the simulation a TLB miss that
 * the kernel does not pay.  Small machines (the races') do without: a
 * forked explorer child would copy a huge page where it writes a word.
 */
#define SIM_HUGE_MACHINE	(512UL << 20)

/** PAGE_SIZE: bytes per frame (a run-time setting here). */
#define PAGE_SIZE	((unsigned long)machine.cfg.page_size)
/** The largest page size a machine may have (sim_config.page_size). */
#define SIM_MAX_PAGE_SIZE	65536
/** PAGE_SHIFT: log2(PAGE_SIZE). */
#define PAGE_SHIFT	(machine.page_shift)
/** Frames per section. */
#define PAGES_PER_SECTION ((unsigned long)machine.cfg.pages_per_section)

/**
 * The locks of the atomic steps (zone_lock, lru_lock, swap_lock,
 * sim_mm_lock, sim_files_lock: innermost, no scheduling point inside)
 * are pthread mutexes that know their owner (PTHREAD_MUTEX_ERRORCHECK,
 * set by sim_init()).  Releasing one the caller does not hold is a BUG,
 * as lockdep reports a bad unlock balance; so is taking one twice.
 */
static void step_lock(pthread_mutex_t *lock)
{
	int err = pthread_mutex_lock(lock);

	BUG_ON(err);
}

/** Release an atomic step's lock, which the caller must hold. */
static void step_unlock(pthread_mutex_t *lock)
{
	int err = pthread_mutex_unlock(lock);

	BUG_ON(err);
}

/** Make \a lock an atomic step's lock, one that knows its owner. */
static void step_lock_init(pthread_mutex_t *lock)
{
	pthread_mutexattr_t attr;

	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(lock, &attr);
	pthread_mutexattr_destroy(&attr);
}

/** The allocator's lock: an atomic step (no scheduling point inside). */
static pthread_mutex_t zone_lock __sim_state = PTHREAD_MUTEX_INITIALIZER;

/** The struct page of frame \a pfn (SPARSEMEM_VMEMMAP style). */
static inline struct page *pfn_to_page(unsigned long pfn)
{
	return machine.vmemmap + pfn;
}

/** The frame number of \a page. */
static inline unsigned long page_to_pfn(const struct page *page)
{
	return (unsigned long)(page - machine.vmemmap);
}

/** Section of frame \a pfn. */
static inline unsigned long pfn_to_section_nr(unsigned long pfn)
{
	return pfn / PAGES_PER_SECTION;
}

/** Does \a pfn name a frame whose section is online? */
static inline bool pfn_valid(unsigned long pfn)
{
	return pfn < machine.max_pfn &&
	       machine.sections[pfn_to_section_nr(pfn)].online;
}

/** NUMA node of \a page. */
static inline int page_to_nid(const struct page *page)
{
	return machine.sections[pfn_to_section_nr(page_to_pfn(page))].nid;
}

/** The bytes of \a page (there is no highmem: always mapped). */
static inline unsigned char *page_address(const struct page *page)
{
	unsigned long pfn = page_to_pfn(page);

	if (unlikely(snap.taken))
		snap_touch(snap.dirty, pfn);
	return machine.frames + (pfn << PAGE_SHIFT);
}

/* Atomic bit operations on a word, as asm/bitops.h. */

/** Is bit \a nr of \a *addr set? */
static inline bool test_bit(int nr, const _Atomic unsigned long *addr)
{
	return (tracked_read((_Atomic unsigned long *)addr) >> nr) & 1;
}

/** Set bit \a nr of \a *addr. */
static inline void set_bit(int nr, _Atomic unsigned long *addr)
{
	struct model_cpu *cpu = model_cpu();

	if (cpu)
		model_write(cpu, addr, MODEL_OR, 1UL << nr);
	else
		atomic_fetch_or(addr, 1UL << nr);
}

/** Clear bit \a nr of \a *addr. */
static inline void clear_bit(int nr, _Atomic unsigned long *addr)
{
	struct model_cpu *cpu = model_cpu();

	if (cpu)
		model_write(cpu, addr, MODEL_ANDNOT, 1UL << nr);
	else
		atomic_fetch_and(addr, ~(1UL << nr));
}

/**
 * Clear bit \a nr with release semantics: every store before it is
 * visible to whoever sees the bit clear (the page lock's unlock).
 */
static inline void clear_bit_unlock(int nr, _Atomic unsigned long *addr)
{
	struct model_cpu *cpu = model_cpu();

	if (!cpu) {
		atomic_fetch_and(addr, ~(1UL << nr));
		return;
	}
	model_drain(cpu);
	model_write_view(cpu, addr, MODEL_ANDNOT, 1UL << nr,
			 model_release_view(cpu));
}

/** Set bit \a nr; return whether it was already set (a full barrier). */
static inline bool test_and_set_bit(int nr, _Atomic unsigned long *addr)
{
	struct model_cpu *cpu = model_cpu();
	unsigned long old;

	if (!cpu)
		return (atomic_fetch_or(addr, 1UL << nr) >> nr) & 1;
	old = model_rmw(cpu, addr, MODEL_OR, 1UL << nr);
	return (old >> nr) & 1;
}

/** Generate PageName(), SetPageName() and ClearPageName() for \a bit. */
#define PAGEFLAG(Name, bit)						\
static inline __maybe_unused bool Page##Name(const struct page *page)	\
{ return test_bit(bit, &page->flags); }					\
static inline __maybe_unused void SetPage##Name(struct page *page)	\
{ set_bit(bit, &page->flags); }						\
static inline __maybe_unused void ClearPage##Name(struct page *page)	\
{ clear_bit(bit, &page->flags); }

/*
 * PageLocked(), SetPageDirty(), ClearPageLRU() and the rest, generated as
 * page-flags.h generates them.  (The one macro of its kind here: writing
 * out thirty identical three-line functions would hide nothing.)
 */
PAGEFLAG(Locked, PG_locked)
PAGEFLAG(Dirty, PG_dirty)
PAGEFLAG(LRU, PG_lru)
PAGEFLAG(SwapBacked, PG_swapbacked)
PAGEFLAG(Writeback, PG_writeback)
PAGEFLAG(Private, PG_private)
PAGEFLAG(Reserved, PG_reserved)
PAGEFLAG(Buddy, PG_buddy)

/**
 * PG_swapcache is one of the accesses the seeds order with barriers:
 * migrate_page_copy() clears it on the old page after ksm_migrate_page()'s
 * smp_wmb(), and get_ksm_page() tests it when a count of zero suggests the
 * node is stale (R9, R10).  So its test is a modelled load, and its clear
 * a modelled store (group model); on the host both are plain bit ops.
 */
static inline bool PageSwapCache(const struct page *page)
{
	return model_load((_Atomic unsigned long *)&page->flags,
			  1UL << PG_swapcache, "PG_swapcache") &
	       1UL << PG_swapcache;
}

/** Set PG_swapcache (not ordered by the seeds: an ordinary bit op). */
static inline void SetPageSwapCache(struct page *page)
{
	set_bit(PG_swapcache, &page->flags);
}

/** Clear PG_swapcache: a modelled store, see PageSwapCache(). */
static inline void ClearPageSwapCache(struct page *page)
{
	model_store(&page->flags, MODEL_ANDNOT, 1UL << PG_swapcache,
		    "PG_swapcache");
}

/**
 * SetPageUptodate(): as include/linux/page-flags.h, with the smp_wmb()
 * that makes the stores which brought the page up to date visible before
 * the flag is.  Page migration calls it on the new page between setting
 * newpage->mapping "in advance" and ksm_migrate_page() storing the new
 * kpfn: it is this barrier that publishes the new page's mapping before
 * the new kpfn (see ksm_migrate_page(), R11).
 */
static inline void SetPageUptodate(struct page *page)
{
	smp_wmb();
	set_bit(PG_uptodate, &page->flags);
}

/** Are the page's contents valid?  (read(2) copies only such a page.) */
static inline bool PageUptodate(const struct page *page)
{
	return test_bit(PG_uptodate, &page->flags);
}

/** Clear PG_uptodate (exchange, while the bytes are not yet the file's). */
static inline void ClearPageUptodate(struct page *page)
{
	clear_bit(PG_uptodate, &page->flags);
}

/** The raw mapping word of \a page (tag bits included). */
static inline unsigned long page_mapping_word(const struct page *page)
{
	return tracked_read((_Atomic unsigned long *)&page->mapping);
}

/** Is \a page anonymous (KSM pages included)? */
static inline bool PageAnon(const struct page *page)
{
	return page_mapping_word(page) & PAGE_MAPPING_ANON;
}

/** Is \a page a KSM page? */
static inline bool PageKsm(const struct page *page)
{
	return (page_mapping_word(page) & PAGE_MAPPING_FLAGS) ==
	       (PAGE_MAPPING_ANON | PAGE_MAPPING_KSM);
}

/** page->mapping without its tag bits. */
static inline void *page_rmapping(const struct page *page)
{
	return (void *)(page_mapping_word(page) & ~PAGE_MAPPING_FLAGS);
}

/** References to \a page. */
static inline int page_count(const struct page *page)
{
	return atomic_load((atomic_int *)&page->_count);
}

/** Number of ptes mapping \a page. */
static inline int page_mapcount(const struct page *page)
{
	return atomic_load((atomic_int *)&page->_mapcount) + 1;
}

/** Is \a page mapped by any pte? */
static inline bool page_mapped(const struct page *page)
{
	return page_mapcount(page) > 0;
}

static void __free_page(struct page *page);

/** Take a reference on \a page, which must already have one. */
static inline void get_page(struct page *page)
{
	VM_BUG_ON(page_count(page) <= 0);
	atomic_fetch_add(&page->_count, 1);
}

/**
 * Drop a reference to \a page, freeing it when it was the last.
 * The free resets an anonymous page's mapping to NULL (free_hot_cold_page()).
 */
static void put_page(struct page *page)
{
	int old = atomic_fetch_sub(&page->_count, 1);

	model_full();			/* put_page_testzero(): an mb */
	if (old == 1)
		__free_page(page);
	else if (unlikely(old <= 0))
		__free_page(page);	/* reports the bad page state */
}

/**
 * Take a reference unless the count is zero (the page is free, or frozen).
 * The speculative-pagecache technique that the keyhole depends on.
 * Returns true with a reference held.  This form is no scheduling point,
 * for use inside atomic steps.
 */
static bool __get_page_unless_zero(struct page *page)
{
	int c = atomic_load(&page->_count);

	while (c != 0)
		if (atomic_compare_exchange_weak(&page->_count, &c, c + 1))
			return true;
	return false;
}

/** get_page_unless_zero() as a scheduling point: see above. */
static bool get_page_unless_zero(struct page *page)
{
	sim_point(SP_ACCESS, "get_page_unless_zero");
	if (!__get_page_unless_zero(page)) {
		/* Failing, it orders nothing; but it read a count of 0. */
		if (model_cpu())
			model_read_now(model_cpu(), NULL);
		return false;
	}
	model_full();
	return true;
}

/**
 * Freeze the count at zero if it is exactly \a count: nobody can take a
 * speculative reference until page_unfreeze_refs().  Returns success.
 */
static bool page_freeze_refs(struct page *page, int count)
{
	sim_point(SP_ACCESS, "page_freeze_refs");
	if (!atomic_compare_exchange_strong(&page->_count, &count, 0))
		return false;
	model_full();			/* a successful cmpxchg: an mb */
	return true;
}

/** Unfreeze a frozen count to \a count. */
static void page_unfreeze_refs(struct page *page, int count)
{
	VM_BUG_ON(page_count(page) != 0);
	sim_point(SP_ACCESS, "page_unfreeze_refs");
	atomic_store_explicit(&page->_count, count, memory_order_release);
}

/* ---------------------------------------------------------------- */
/* The page lock: PG_locked, with sleepers on a hashed wait queue. */

/** Try to take the page lock without sleeping.  Returns success. */
static bool trylock_page(struct page *page)
{
	sim_point(SP_LOCK, "trylock_page");
	return !test_and_set_bit(PG_locked, &page->flags);
}

/** Take the page lock, sleeping while another actor holds it. */
static void lock_page(struct page *page)
{
	sim_point(SP_LOCK, "lock_page");
	if (!test_and_set_bit(PG_locked, &page->flags))
		return;
	wait_event(page, !test_and_set_bit(PG_locked, &page->flags));
	sim_trace_take(&page->flags, 0, true);
}

/** Release the page lock.  Caller must hold it. */
static void unlock_page(struct page *page)
{
	VM_BUG_ON(!PageLocked(page));
	sim_point(SP_UNLOCK, "unlock_page");
	sim_trace_give(&page->flags, 0, "the lock of pfn %lu",
		       page_to_pfn(page));
	clear_bit_unlock(PG_locked, &page->flags);
	wake_up_key(page);
}

/** Sleep until nobody holds the page lock (migration_entry_wait()). */
static void wait_on_page_locked(struct page *page)
{
	wait_event(page, !PageLocked(page));
}

/* ---------------------------------------------------------------- */
/* The LRU: the pages reclaim and migration may isolate. */

/** lru_lock guards lru_list and PG_lru; each use is an atomic step. */
static pthread_mutex_t lru_lock __sim_state = PTHREAD_MUTEX_INITIALIZER;
/** Pages that reclaim and migration may isolate, oldest first. */
static struct list_head lru_list __sim_state = { &lru_list, &lru_list };
/** Pages on lru_list. */
static unsigned long nr_lru __sim_state;

/** Put a new page on the LRU (lru_cache_add()). */
static void lru_cache_add(struct page *page)
{
	step_lock(&lru_lock);
	VM_BUG_ON(PageLRU(page));
	SetPageLRU(page);
	list_add_tail(&page->lru, &lru_list);
	nr_lru++;
	step_unlock(&lru_lock);
}

/**
 * Take \a page off the LRU for reclaim or migration, with a reference.
 * Returns 0, or -EBUSY if it is not on the LRU (free, or isolated by
 * someone else).
 */
static int isolate_lru_page(struct page *page)
{
	int ret = -EBUSY;

	step_lock(&lru_lock);
	if (PageLRU(page) && __get_page_unless_zero(page)) {
		ClearPageLRU(page);
		list_del_init(&page->lru);
		nr_lru--;
		ret = 0;
	}
	step_unlock(&lru_lock);
	return ret;
}

/** Return an isolated page to the LRU and drop the isolation reference. */
static void putback_lru_page(struct page *page)
{
	lru_cache_add(page);
	put_page(page);
}

/** @} */

/* ================================================================ */
/** \defgroup alloc The page allocator, bad pages, injected failures
 *
 * Free frames sit on per-section lists, most recently freed first, and
 * each node remembers the section it last freed into: the next allocation
 * on that node takes the frame that was freed last.  That prompt reuse is
 * what the keyhole races need (a frame freed under ksmd's nose comes back
 * as somebody else's page), and it is what the kernel's per-cpu lists of
 * hot pages do.
 *
 * Allocation and freeing are atomic steps (no scheduling point inside).
 * A page freed in a bad state (still mapped, still locked, already free,
 * with a raised count) is reported and left alone, as bad_page() does;
 * the auditor counts these reports as violations.
 * @{ */

/** Where a run-time violation is recorded until the auditor reports it. */
struct sim_violation {
	enum audit_kind kind;		/**< the rule broken */
	char text[160];			/**< what was seen */
};

/** Violations kept in full; more are only counted. */
#define SIM_MAX_VIOLATIONS 64
/** Violations seen at run time, for the next audit. */
static struct {
	pthread_mutex_t lock;
	struct sim_violation v[SIM_MAX_VIOLATIONS];
	unsigned long nr;		/**< recorded, even past the array */
} violations __sim_state = { .lock = PTHREAD_MUTEX_INITIALIZER };

/** Record a violation seen at run time (a bad page, say) for the auditor. */
static void sim_violation(enum audit_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sim_violation(enum audit_kind kind, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&violations.lock);
	if (violations.nr < SIM_MAX_VIOLATIONS) {
		struct sim_violation *v = &violations.v[violations.nr];

		v->kind = kind;
		va_start(ap, fmt);
		vsnprintf(v->text, sizeof(v->text), fmt, ap);
		va_end(ap);
	}
	violations.nr++;
	pthread_mutex_unlock(&violations.lock);
}

/** Report a struct page in a state the allocator does not accept. */
static void bad_page(struct page *page, const char *reason)
{
	sim_violation(AUDIT_ALLOCATOR,
		      "Bad page state: pfn %lu %s (count %d, mapcount %d, "
		      "flags %#lx), seen by %s", page_to_pfn(page), reason,
		      page_count(page), page_mapcount(page),
		      (unsigned long)atomic_load(&page->flags),
		      sim_actor_name());
	sim_trace("BUG: bad page state: pfn %lu %s", page_to_pfn(page),
		  reason);
}

/** Names of the allocation sites, as sim_fail_site_by_name() takes them. */
static const char *const sim_fail_site_names[NR_FAIL_SITES] = {
	[FAIL_PAGE] = "page",
	[FAIL_STABLE_NODE] = "stable_node",
	[FAIL_RMAP_ITEM] = "rmap_item",
	[FAIL_MM_SLOT] = "mm_slot",
	[FAIL_ANON_VMA] = "anon_vma",
	[FAIL_MIGRATE_TARGET] = "migrate_target",
	[FAIL_PAGE_CACHE] = "page_cache",
	[FAIL_BUFFER_HEAD] = "buffer_head",
	[FAIL_SWAP_SLOT] = "swap_slot",
	[FAIL_MM_STRUCT] = "mm_struct",
	[FAIL_FILE] = "file",
};

/** Failure injection: fail the nth call at a site, or at random. */
static struct {
	_Atomic unsigned long calls[NR_FAIL_SITES];
	unsigned long nth[NR_FAIL_SITES];	/**< 0: never */
	unsigned int percent;			/**< at every site */
	unsigned long seed;			/**< of the random failures */
	_Atomic unsigned long draws;		/**< random draws so far */
	_Atomic unsigned long injected;
} failslab __sim_state;

/** A 64-bit mix of \a x (splitmix64's finalizer). */
static unsigned long mix64(unsigned long x)
{
	x += 0x9e3779b97f4a7c15UL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9UL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebUL;
	return x ^ (x >> 31);
}

/**
 * Should this allocation at \a site fail?  (should_failslab())  The
 * random failures are a function of the seed and of how many draws came
 * before: a single-threaded run fails the same calls every time.
 */
static bool sim_should_fail(enum sim_fail_site site)
{
	unsigned long n = atomic_fetch_add(&failslab.calls[site], 1) + 1;
	bool fail = failslab.nth[site] && n == failslab.nth[site];

	if (!fail && failslab.percent)
		fail = mix64(failslab.seed ^ mix64(atomic_fetch_add(
				&failslab.draws, 1))) % 100 < failslab.percent;
	if (fail) {
		atomic_fetch_add(&failslab.injected, 1);
		sim_trace("failslab: %s allocation fails",
			  sim_fail_site_names[site]);
	}
	return fail;
}

/**
 * kmem_cache_zalloc() at failure site \a site: \a size zeroed bytes, or
 * NULL when the site is made to fail (as failslab makes a slab fail) or
 * memory is exhausted.  Every allocation of the kernel's objects goes
 * through here, so that each one's failure can be had on demand.
 */
static void *kzalloc_at(enum sim_fail_site site, size_t size)
{
	return sim_should_fail(site) ? NULL : kzalloc(size);
}

int sim_fail_nth(enum sim_fail_site site, unsigned long nth)
{
	if ((unsigned int)site >= NR_FAIL_SITES)
		return -EINVAL;
	failslab.nth[site] = nth ? atomic_load(&failslab.calls[site]) + nth :
			     0;
	return 0;
}

int sim_fail_random(unsigned int percent, unsigned long seed)
{
	if (percent > 100)
		return -EINVAL;
	failslab.percent = percent;
	failslab.seed = seed;
	atomic_store(&failslab.draws, 0);
	return 0;
}

unsigned long sim_fail_calls(enum sim_fail_site site)
{
	return (unsigned int)site < NR_FAIL_SITES ?
	       atomic_load(&failslab.calls[site]) : 0;
}

unsigned long sim_fail_injected(void)
{
	return atomic_load(&failslab.injected);
}

const char *sim_fail_site_name(enum sim_fail_site site)
{
	return (unsigned int)site < NR_FAIL_SITES ?
	       sim_fail_site_names[site] : NULL;
}

int sim_fail_site_by_name(const char *name)
{
	int i;

	for (i = 0; name && i < NR_FAIL_SITES; i++)
		if (!strcmp(name, sim_fail_site_names[i]))
			return i;
	return -1;
}

/** Per-node hint: the section freed into last. */
static int node_hot_section[64] __sim_state;

/** Recent frees of KSM pages remembered for the auditor. */
#define SIM_KSM_FREES	4096

/**
 * When each recent KSM page was freed, in full scans: a stable node whose
 * page went two full scans ago, and which still lists rmap_items, is one
 * the keyhole should have pruned (AUDIT_STALE).  Written under zone_lock;
 * the node is only remembered, never touched (it may already be freed).
 */
static struct {
	const void *node;		/**< the node its mapping named */
	unsigned long pfn;		/**< the frame */
	unsigned long seqnr;		/**< ksm_scan.seqnr at the free */
} sim_ksm_frees[SIM_KSM_FREES];	/* state: a ring of the snapshot */
/** Entries written to sim_ksm_frees, ever. */
static unsigned long sim_ksm_frees_nr __sim_state;
/** Full scans completed, as __free_page() may read it (see ksm_scan). */
static _Atomic unsigned long *sim_full_scans;

/** Check a frame about to be handed out (prep_new_page()). */
static bool prep_new_page(struct page *page)
{
	if (page_count(page) != 0) {
		bad_page(page, "has a raised count while free");
		return false;
	}
	if (page_mapcount(page) != 0 || page_mapping_word(page)) {
		bad_page(page, "is mapped while free");
		return false;
	}
	tracked_write(&page->flags, 0);
	page->index = 0;
	page->private = 0;
	atomic_store(&page->_count, 1);
	return true;
}

/** Frames handed out since sim_init() (zone_lock), for the benchmark. */
static unsigned long sim_nr_allocated __sim_state;
/** Bytes written by migration's and exchange's copies, likewise. */
static _Atomic unsigned long sim_bytes_copied __sim_state;
/** Exchanges done (group exchange). */
static _Atomic unsigned long sim_exchanges __sim_state;

/** Take the first usable frame of section \a s.  Holds zone_lock. */
static struct page *rmqueue(struct mem_section *ms)
{
	while (!list_empty(&ms->free_list)) {
		struct page *page = list_first_entry(&ms->free_list,
						     struct page, lru);

		list_del_init(&page->lru);
		ms->nr_free--;
		if (!prep_new_page(page))
			continue;	/* leave it out, as the kernel does */
		ms->nr_used++;
		sim_nr_allocated++;
		return page;
	}
	return NULL;
}

/**
 * Allocate a page on node \a nid (\a nid < 0: any; otherwise any other
 * node too, if it has none free, unless \a exact), with one reference.
 * Returns NULL when memory is exhausted or an injected failure hits
 * \a site.
 */
static struct page *__alloc_page(int nid, enum sim_fail_site site, bool exact)
{
	struct mem_section *ms;
	struct page *page = NULL;
	unsigned long s, nr = machine.cfg.nr_sections;
	int pass;

	if (sim_should_fail(site))
		return NULL;
	step_lock(&zone_lock);
	if (nid >= 0) {
		ms = &machine.sections[node_hot_section[nid]];
		if (ms->online && !ms->isolated && ms->nid == nid)
			page = rmqueue(ms);
	}
	for (pass = 0; !page && pass < (exact ? 1 : 2); pass++) {
		for (s = 0; !page && s < nr; s++) {
			ms = &machine.sections[s];
			if (!ms->online || ms->isolated || !ms->nr_free)
				continue;
			if (pass == 0 && nid >= 0 && ms->nid != nid)
				continue;
			page = rmqueue(ms);
		}
	}
	step_unlock(&zone_lock);
	if (page)
		sim_trace_take(page, 0, true);
	return page;
}

/** A page on node \a nid, or elsewhere if it has none (alloc_pages_node()). */
static struct page *alloc_page_node(int nid, enum sim_fail_site site)
{
	return __alloc_page(nid, site, false);
}

/** A page on node \a nid only (alloc_pages_exact_node(), GFP_THISNODE). */
static struct page *alloc_page_node_exact(int nid, enum sim_fail_site site)
{
	return __alloc_page(nid, site, true);
}

/** Is \a page in a state in which it may be freed?  (free_pages_check()) */
static bool free_pages_check(struct page *page)
{
	const char *why = NULL;

	if (PageBuddy(page))
		why = "freed while already free";
	else if (page_count(page) != 0)
		why = "freed with a raised count";
	else if (page_mapcount(page) != 0)
		why = "freed while still mapped";
	else if (page_mapping_word(page))
		why = "freed with a mapping";
	else if (PageLocked(page))
		why = "freed while locked";
	else if (PageSwapCache(page) || PageWriteback(page))
		why = "freed while in the swap cache or under writeback";
	if (why)
		bad_page(page, why);
	return !why;
}

/**
 * Free a page whose count has reached zero (__put_single_page() and
 * free_hot_cold_page()): off the LRU, anonymous mapping reset to NULL -
 * the keyhole relies on this - and onto its section's free list.
 */
static void __free_page(struct page *page)
{
	struct mem_section *ms;

	if (PageLRU(page)) {
		step_lock(&lru_lock);
		if (PageLRU(page)) {
			ClearPageLRU(page);
			list_del_init(&page->lru);
			nr_lru--;
		}
		step_unlock(&lru_lock);
	}
	ms = &machine.sections[pfn_to_section_nr(page_to_pfn(page))];
	if ((page_mapping_word(page) & PAGE_MAPPING_FLAGS) ==
	    PAGE_MAPPING_FLAGS && page_rmapping(page)) {
		step_lock(&zone_lock);
		snap_ring_touch(SNAP_RING_KSM_FREES,
				sim_ksm_frees_nr % SIM_KSM_FREES);
		sim_ksm_frees[sim_ksm_frees_nr % SIM_KSM_FREES].node =
			page_rmapping(page);
		sim_ksm_frees[sim_ksm_frees_nr % SIM_KSM_FREES].pfn =
			page_to_pfn(page);
		sim_ksm_frees[sim_ksm_frees_nr % SIM_KSM_FREES].seqnr =
			atomic_load(sim_full_scans);
		sim_ksm_frees_nr++;
		step_unlock(&zone_lock);
	}
	if (PageAnon(page))
		tracked_write(&page->mapping, 0);
	if (!free_pages_check(page))
		return;
	page->private = 0;
	/* Buddy state and free list change together, under zone_lock:
	 * offline_pages() tests isolation under it. */
	step_lock(&zone_lock);
	tracked_write(&page->flags, 1UL << PG_buddy);
	list_add(&page->lru, &ms->free_list);
	ms->nr_free++;
	ms->nr_used--;
	node_hot_section[ms->nid] = (int)(ms - machine.sections);
	step_unlock(&zone_lock);
	sim_trace_give(page, 0, "pfn %lu", page_to_pfn(page));
}

/** What the machine has done since sim_init() (sim_get_activity()). */
static struct {
	_Atomic unsigned long merges, unmerges, migrations, swap_outs,
		offlines, bytes_verified;
} activity __sim_state;

int sim_get_activity(struct sim_activity *a)
{
	if (!machine.initialized || !a)
		return -EINVAL;
	a->merges = atomic_load(&activity.merges);
	a->unmerges = atomic_load(&activity.unmerges);
	a->migrations = atomic_load(&activity.migrations);
	a->exchanges = atomic_load(&sim_exchanges);
	a->swap_outs = atomic_load(&activity.swap_outs);
	a->offlines = atomic_load(&activity.offlines);
	a->bytes_verified = atomic_load(&activity.bytes_verified);
	return 0;
}

static unsigned long swap_slots_used(void);

int sim_mem_stats(int section, struct sim_mem_stats *st)
{
	unsigned long s;

	if (!machine.initialized || !st ||
	    section >= (int)machine.cfg.nr_sections)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	step_lock(&zone_lock);
	for (s = 0; s < machine.cfg.nr_sections; s++) {
		struct mem_section *ms = &machine.sections[s];

		if (section >= 0 && (unsigned long)section != s)
			continue;
		if (!ms->online) {
			st->nr_offline += PAGES_PER_SECTION;
			continue;
		}
		st->nr_free += ms->nr_free;
		st->nr_used += ms->nr_used;
	}
	st->nr_allocated = sim_nr_allocated;
	step_unlock(&zone_lock);
	st->bytes_copied = atomic_load(&sim_bytes_copied);
	st->swap_used = swap_slots_used();
	st->nr_exchanged = atomic_load(&sim_exchanges);
	return 0;
}

/* ---------------------------------------------------------------- */
/* Sections: mapping and unmapping the memmap and the frames. */

/** Let section \a s's memmap and frames be touched (\a prot) or not (0). */
static int section_protect(unsigned long s, int prot)
{
	size_t msz = PAGES_PER_SECTION * sizeof(struct page);
	size_t fsz = PAGES_PER_SECTION * PAGE_SIZE;

	if (mprotect((char *)machine.vmemmap + s * msz, msz, prot) ||
	    mprotect(machine.frames + s * fsz, fsz, prot))
		return -ENOMEM;
	section_mapped[s] = prot != 0;
	return 0;
}

/** Map (or, with \a prot 0, remove) the memmap and frames of section \a s. */
static int section_map(unsigned long s, int prot)
{
	size_t msz = PAGES_PER_SECTION * sizeof(struct page);
	size_t fsz = PAGES_PER_SECTION * PAGE_SIZE;
	char *memmap = (char *)machine.vmemmap + s * msz;
	unsigned char *frames = machine.frames + s * fsz;
	int flags = MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS |
		    (prot ? 0 : MAP_NORESERVE);
	unsigned long pfn;

	if (snap.taken) {
		/*
		 * Under a snapshot the memory stays, only out of reach, so
		 * that putting it back costs an mprotect(); a section brought
		 * online gets zeroes, as if new.
		 */
		if (section_protect(s, prot))
			return -ENOMEM;
		if (prot) {
			memset(memmap, 0, msz);
			memset(frames, 0, fsz);
			for (pfn = s * PAGES_PER_SECTION;
			     pfn < (s + 1) * PAGES_PER_SECTION; pfn++)
				snap_touch(snap.dirty, pfn);
		}
		return 0;
	}
	if (mmap(memmap, msz, prot, flags, -1, 0) == MAP_FAILED ||
	    mmap(frames, fsz, prot, flags, -1, 0) == MAP_FAILED)
		return -ENOMEM;
	if (prot && machine.huge) {		/* a hint: no matter if not */
		madvise(memmap, msz, MADV_HUGEPAGE);
		madvise(frames, fsz, MADV_HUGEPAGE);
	}
	section_mapped[s] = prot != 0;
	return 0;
}

/**
 * Bring section \a s online: map its memmap and frames, every frame free.
 * Caller makes sure nobody can be using the section.
 */
static int sim_section_online(unsigned long s)
{
	struct mem_section *ms = &machine.sections[s];
	unsigned long pfn, start = s * PAGES_PER_SECTION;
	int err;

	err = section_map(s, PROT_READ | PROT_WRITE);
	if (err)
		return err;
	step_lock(&zone_lock);
	INIT_LIST_HEAD(&ms->free_list);
	/* Push in reverse, so that the lowest frame is handed out first. */
	for (pfn = start + PAGES_PER_SECTION; pfn-- > start; ) {
		struct page *page = pfn_to_page(pfn);

		tracked_write(&page->flags, 1UL << PG_buddy);
		atomic_store(&page->_count, 0);
		atomic_store(&page->_mapcount, -1);
		atomic_store(&page->mapping, 0);
		list_add(&page->lru, &ms->free_list);
	}
	ms->nr_free = PAGES_PER_SECTION;
	ms->nr_used = 0;
	ms->isolated = false;
	ms->online = true;
	step_unlock(&zone_lock);
	return 0;
}

/* ---------------------------------------------------------------- */
/* The memory notifier chain, told of sections going offline. */

/** Memory notifier actions (include/linux/memory.h). */
enum {
	MEM_GOING_OFFLINE,	/**< about to offline: lock out users */
	MEM_OFFLINE,		/**< done: the range is gone */
	MEM_CANCEL_OFFLINE,	/**< given up: the range stays */
};

/** NOTIFY_OK: the callback has done its part. */
#define NOTIFY_OK	0

/** What the memory notifier chain is told about. */
struct memory_notify {
	unsigned long start_pfn;	/**< first frame of the range */
	unsigned long nr_pages;		/**< frames in the range */
};

/** A callback on the memory notifier chain. */
struct notifier_block {
	/** Called with the action and a struct memory_notify. */
	int (*notifier_call)(struct notifier_block *nb, unsigned long action,
			     void *arg);
	int priority;			/**< higher is called first */
	struct notifier_block *next;	/**< next on the chain */
};

/** The memory notifier chain, highest priority first. */
static struct notifier_block *memory_chain __sim_state;

/** Add \a nb to the chain in priority order (register_memory_notifier()). */
static void register_memory_notifier(struct notifier_block *nb)
{
	struct notifier_block **p = &memory_chain;

	while (*p && (*p)->priority >= nb->priority)
		p = &(*p)->next;
	nb->next = *p;
	*p = nb;
}

/** Call every callback with \a action (memory_notify()). */
static int memory_notify(unsigned long action, struct memory_notify *arg)
{
	struct notifier_block *nb;
	int ret = NOTIFY_OK;

	for (nb = memory_chain; nb && ret == NOTIFY_OK; nb = nb->next)
		ret = nb->notifier_call(nb, action, arg);
	return ret;
}

/* ---------------------------------------------------------------- */
/* Diagnosing a touch of a removed struct page or frame. */

/** Append decimal \a v to \a p (async-signal-safe formatting). */
static char *fmt_ulong(char *p, unsigned long v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/** Append string \a s to \a p. */
static char *fmt_str(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}


/**
 * SIGSEGV handler.  A fault inside the memmap or frames reservation, in a
 * section that is offline, is the symptom R5 and R6 are about: name the
 * pfn, the section and the actor, and exit 1.  Anything else is a bug:
 * re-raise it with the default action.
 */
static void sim_fault_handler(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;
	uintptr_t mm0 = (uintptr_t)machine.vmemmap;
	uintptr_t fr0 = (uintptr_t)machine.frames;
	unsigned long pfn;
	const char *what;
	char msg[200], *p = msg;

	(void)uc;
	if (a >= mm0 && a < mm0 + machine.vmemmap_size) {
		pfn = (a - mm0) / sizeof(struct page);
		what = "struct page of pfn ";
	} else if (a >= fr0 && a < fr0 + machine.frames_size) {
		pfn = (a - fr0) >> PAGE_SHIFT;
		what = "frame of pfn ";
	} else {
		signal(sig, SIG_DFL);
		return;
	}
	p = fmt_str(p, "FAULT: ");
	p = fmt_str(p, what);
	p = fmt_ulong(p, pfn);
	p = fmt_str(p, machine.sections[pfn_to_section_nr(pfn)].online ?
		     " in online section " : " in removed section ");
	p = fmt_ulong(p, pfn_to_section_nr(pfn));
	p = fmt_str(p, " was touched by ");
	p = fmt_str(p, sim_actor_name());
	*p = '\0';
	sim_guard_escape(msg);		/* under sim_guarded(): no return */
	p = fmt_str(p, "\n");
	*p = '\0';
	if (write(STDOUT_FILENO, msg, (size_t)(p - msg)) < 0)
		_exit(1);
	if (sim_death_hook) {
		p[-1] = '\0';	/* no newline for the hook */
		sim_death_hook(msg);
	}
	_exit(1);
}

/** @} */

/* ================================================================ */
/** \defgroup anon Processes: anon_vma, page tables, faults, fork, exit
 *
 * A simulated process is an mm_struct with one anonymous mapping (one
 * vm_area_struct) of nr_pages pages, a page table of one pte per page, and
 * a shadow copy of every byte it has written, so that it can always prove
 * that it sees its own data.  The shadow is kept as the pages are: a page
 * of it is shared by a parent and the children it forks until one of
 * them writes (struct shadow_page), so that fork costs a pointer per page,
 * as the kernel's copies a pte, and not a copy of every byte.  Reverse mapping is the anon_vma of 2009
 * (before anon_vma_chain): a process and its forked children share one
 * anon_vma, a list of their vmas, and an anonymous page records that
 * anon_vma in page->mapping and its page offset in page->index.
 *
 * Lock order within a process: mmap_sem, then the page lock, then the
 * page table lock; anon_vma->lock nests outside the page table lock.
 * @{ */

/** Start of every process's mapping (any page-aligned address will do). */
#define SIM_VM_START	0x10000000UL

/**
 * What processes last wrote to one page of theirs (simulation only): the
 * bytes, shared copy-on-write by a process and its forked children, as
 * the page is.  The page table locks of the processes naming it guard
 * their pointers; users changes atomically, and a page of shadow with
 * users > 1 is never written: a writer copies it first.
 */
struct shadow_page {
	atomic_int users;		/**< processes whose sim_shadow names it */
	unsigned char *bytes;		/**< PAGE_SIZE of them */
};


/** vm_flags bits. */
#define VM_MERGEABLE	0x1UL	/**< madvise(MADV_MERGEABLE) */

/** mm->flags bits. */
#define MMF_VM_MERGEABLE 0	/**< registered with KSM (has an mm_slot) */

/** A pte: none (0), present (a pfn), or a swap or migration entry. */
typedef unsigned long pte_t;

#define _PAGE_PRESENT	0x1UL	/**< maps pte_pfn() */
#define _PAGE_RW	0x2UL	/**< writable */
#define _PAGE_SWP	0x4UL	/**< not present: a swap entry */
#define PTE_SHIFT	12	/**< pfn or swap entry above this */

/** A swap entry: type in the low 5 bits, offset above. */
typedef struct {
	unsigned long val;		/**< type | offset << SWP_TYPE_BITS */
} swp_entry_t;

/** Bits of a swap entry holding its type. */
#define SWP_TYPE_BITS		5
#define SWP_MIGRATION_READ	30	/**< migration entry, read-only */
#define SWP_MIGRATION_WRITE	31	/**< migration entry, writable */

/** Is the pte empty (never faulted, or zapped)? */
static inline bool pte_none(pte_t pte) { return !pte; }
/** Does the pte map a page? */
static inline bool pte_present(pte_t pte) { return pte & _PAGE_PRESENT; }
/** May the page be written through this pte? */
static inline bool pte_write(pte_t pte) { return pte & _PAGE_RW; }
/** Is the pte a swap or migration entry? */
static inline bool is_swap_pte(pte_t pte) { return pte & _PAGE_SWP; }
/** The frame a present pte maps. */
static inline unsigned long pte_pfn(pte_t pte) { return pte >> PTE_SHIFT; }
/** The same pte, read-only. */
static inline pte_t pte_wrprotect(pte_t pte) { return pte & ~_PAGE_RW; }
/** Has the pte not changed since it was read? */
static inline bool pte_same(pte_t a, pte_t b) { return a == b; }

/** A pte mapping \a page, writable or not. */
static inline pte_t mk_pte(struct page *page, bool write)
{
	return (page_to_pfn(page) << PTE_SHIFT) | _PAGE_PRESENT |
	       (write ? _PAGE_RW : 0);
}

/** The swap entry of slot \a offset of swap type \a type. */
static inline swp_entry_t swp_entry(unsigned int type, unsigned long offset)
{
	return (swp_entry_t){ (offset << SWP_TYPE_BITS) | type };
}
/** The type (device, or migration) of a swap entry. */
static inline unsigned int swp_type(swp_entry_t e)
{
	return e.val & ((1U << SWP_TYPE_BITS) - 1);
}
/** The slot (or, for migration, the pfn) of a swap entry. */
static inline unsigned long swp_offset(swp_entry_t e)
{
	return e.val >> SWP_TYPE_BITS;
}
/** The non-present pte holding swap entry \a e. */
static inline pte_t swp_entry_to_pte(swp_entry_t e)
{
	return (e.val << PTE_SHIFT) | _PAGE_SWP;
}
/** The swap entry held in a non-present pte. */
static inline swp_entry_t pte_to_swp_entry(pte_t pte)
{
	return (swp_entry_t){ pte >> PTE_SHIFT };
}
/** Is \a e a migration entry rather than a swap slot? */
static inline bool is_migration_entry(swp_entry_t e)
{
	return swp_type(e) == SWP_MIGRATION_READ ||
	       swp_type(e) == SWP_MIGRATION_WRITE;
}
/** A migration entry for \a page (mm/migrate.c). */
static inline swp_entry_t make_migration_entry(struct page *page, bool write)
{
	return swp_entry(write ? SWP_MIGRATION_WRITE : SWP_MIGRATION_READ,
			 page_to_pfn(page));
}
/** The page being migrated, named by a migration entry. */
static inline struct page *migration_entry_to_page(swp_entry_t e)
{
	return pfn_to_page(swp_offset(e));
}

/**
 * struct anon_vma: the reverse map of a family of processes.  A page
 * mapped by any of them is found by walking this list of vmas.
 */
struct anon_vma {
	spinlock_t lock;		/**< guards head */
	struct list_head head;		/**< vmas (vm_area_struct.anon_vma_node) */
	/**
	 * References from outside the list: each rmap_item on a stable node
	 * holds one (seed-era ksm_refcount), and so does a migration in
	 * flight.  The anon_vma is freed when both are gone.
	 */
	atomic_int ksm_refcount;
	struct list_head sim_all;	/**< sim_anon_vmas, for teardown */
	/**
	 * Simulation: how many of ksm_refcount's references migrations and
	 * exchanges hold now, counted where they take and drop them, apart
	 * from page_get_anon_vma() and put_anon_vma(): the auditor's count of
	 * what ksm_refcount must be (with the stable rmap_items).
	 */
	atomic_int sim_in_flight;
	int sim_audit_refs;	/**< Simulation: the auditor's recount */
	/**
	 * Simulation: anon_vma_free() was called.  Its memory stays an
	 * anon_vma until teardown, as the kernel's SLAB_DESTROY_BY_RCU keeps
	 * it one for a lockless reader, and the auditor holds every anon_vma
	 * to its lifetime: none freed while used, none used and not freed.
	 */
	bool sim_freed;
};

/**
 * struct address_space: a file, and its page cache.  The cache is an
 * index-to-page array under tree_lock (the kernel's i_pages xarray and its
 * lock): a page in it has the file as its mapping (no tag bits) and its
 * offset as its index, and the cache holds one reference on it, and one
 * more while the page carries private data (buffer heads).  Lookups need
 * no lock (find_get_page()).  Processes map a file shared; i_mmap lists
 * their vmas, the reverse map of every page of the file.
 */
struct address_space {
	spinlock_t tree_lock;		/**< guards the slots' contents */
	struct page *_Atomic *slots;	/**< index -> page, read without lock */
	unsigned long nrpages;		/**< pages in the cache */
	spinlock_t i_mmap_lock;		/**< guards i_mmap */
	struct list_head i_mmap;	/**< vmas mapping the file */
	/**
	 * Its pages carry buffer heads (PG_private and a reference): its
	 * a_ops->migratepage is buffer_migrate_page().  Otherwise it has
	 * none, and exchange falls back (fallback_migrate_page(): a dirty
	 * page is written out first).  Migration here moves either kind as
	 * it is, leaving out fallback_migrate_page()'s writeout.
	 */
	bool buffers;
	/* simulation only: */
	unsigned long sim_nr_pages;	/**< size in pages */
	unsigned char *sim_disk;	/**< its bytes on disk */
	unsigned char *sim_shadow;	/**< what was last written to it */
	pthread_mutex_t sim_write_lock;	/**< one write, page and shadow */
	atomic_int sim_users;		/**< processes mapping it */
	char sim_name[24];		/**< for reports */
	struct list_head sim_list;	/**< sim_files */
};

/** The one mapping of a process: anonymous, or a shared file mapping. */
struct vm_area_struct {
	struct mm_struct *vm_mm;	/**< the process */
	unsigned long vm_start;		/**< first byte address */
	unsigned long vm_end;		/**< first address past the end */
	unsigned long vm_flags;		/**< VM_MERGEABLE; mmap_sem guards */
	/** Set once, at the first fault, under page_table_lock; read
	 * without it (as the kernel does), hence atomic. */
	struct anon_vma *_Atomic anon_vma;
	/** On anon_vma->head: written when it joins, read only after. */
	struct list_head anon_vma_node;
	struct address_space *vm_file;	/**< the file it maps, or NULL */
	/** On vm_file->i_mmap: written when it joins, read only after. */
	struct list_head shared;
};

/** A simulated process. */
struct mm_struct {
	struct vm_area_struct vma;	/**< its one mapping */
	struct rw_semaphore mmap_sem;	/**< guards the mapping's layout */
	/** Guards pgd and sim_shadow. */
	spinlock_t page_table_lock;
	pte_t *pgd;			/**< one pte per page; NULL once exited */
	/** What it last wrote, per page (NULL: zeroes, never written). */
	struct shadow_page **sim_shadow;
	/* atomics: */
	atomic_int mm_users;		/**< 0 once it has exited */
	atomic_int mm_count;		/**< references to the struct itself */
	_Atomic unsigned long flags;	/**< MMF_VM_MERGEABLE */
	/* simulation only, sim_mm_lock guards: */
	unsigned long sim_nr_pages;	/**< size of the mapping in pages */
	_Atomic int sim_nid;		/**< node its faults allocate on */
	char sim_name[24];		/**< for reports */
	struct list_head sim_list;	/**< sim_mm_list */
};

/** Zeroes: what a page never written holds (the largest PAGE_SIZE). */
static const unsigned char shadow_zeroes[SIM_MAX_PAGE_SIZE];

/** What \a mm last wrote to page \a vpn.  Caller holds page_table_lock. */
static const unsigned char *shadow_bytes(struct mm_struct *mm,
					 unsigned long vpn)
{
	struct shadow_page *sp = mm->sim_shadow[vpn];

	return sp ? sp->bytes : shadow_zeroes;
}

/** Drop one user of \a sp (NULL is fine), freeing it with its last. */
static void shadow_put(struct shadow_page *sp)
{
	if (!sp || atomic_fetch_sub(&sp->users, 1) != 1)
		return;
	kfree(sp->bytes);
	kfree(sp);
}

/**
 * Make \a mm's shadow of page \a vpn its own, to be written: a new one,
 * or a copy of one it shares.  Caller holds page_table_lock.  The shadow
 * is the test's record, not the kernel's memory: a write to a mapped page
 * cannot fail in the kernel, so the host running out of memory here ends
 * the simulation rather than fail the write.
 */
static void shadow_prepare_write(struct mm_struct *mm, unsigned long vpn)
{
	struct shadow_page *old = mm->sim_shadow[vpn], *sp;

	if (old && atomic_load(&old->users) == 1)
		return;
	sp = kzalloc(sizeof(*sp));
	if (sp)
		sp->bytes = kzalloc(PAGE_SIZE);
	if (!sp || !sp->bytes) {
		fprintf(stderr, "ksm_ref: the host is out of memory for the "
			"record of %s's bytes\n", mm->sim_name);
		_exit(1);
	}
	atomic_store(&sp->users, 1);
	if (old)
		memcpy(sp->bytes, old->bytes, PAGE_SIZE);
	mm->sim_shadow[vpn] = sp;
	shadow_put(old);
}

/** Every live process; an atomic step guards it. */
static pthread_mutex_t sim_mm_lock __sim_state = PTHREAD_MUTEX_INITIALIZER;
/** Every live process. */
static struct list_head sim_mm_list __sim_state = {
	&sim_mm_list, &sim_mm_list
};
/** Every anon_vma ever made: freeing is deferred to teardown (see below). */
static struct list_head sim_anon_vmas __sim_state = {
	&sim_anon_vmas, &sim_anon_vmas
};

/** Does the mm's owner still run?  (ksm_test_exit()) */
static inline bool ksm_test_exit(struct mm_struct *mm)
{
	return atomic_load(&mm->mm_users) == 0;
}

/** Virtual address of page \a vpn of \a mm. */
static inline unsigned long vpn_to_address(unsigned long vpn)
{
	return SIM_VM_START + (vpn << PAGE_SHIFT);
}

/** Page index of \a address in \a vma (linear_page_index()). */
static inline unsigned long linear_page_index(struct vm_area_struct *vma,
					      unsigned long address)
{
	return (address - vma->vm_start) >> PAGE_SHIFT;
}

/** The pte of \a address in \a mm.  Caller holds page_table_lock. */
static inline pte_t *pte_offset(struct mm_struct *mm, unsigned long address)
{
	return &mm->pgd[linear_page_index(&mm->vma, address)];
}

/**
 * The first vma of \a mm ending above \a address, or NULL (find_vma()):
 * as in the kernel, it need not contain \a address; callers check
 * vm_start themselves.
 */
static struct vm_area_struct *find_vma(struct mm_struct *mm,
				       unsigned long address)
{
	struct vm_area_struct *vma = &mm->vma;

	return address < vma->vm_end ? vma : NULL;
}

/** The anon_vma of an anonymous, non-KSM page, or NULL. */
static inline struct anon_vma *page_anon_vma(const struct page *page)
{
	if ((page_mapping_word(page) & PAGE_MAPPING_FLAGS) != PAGE_MAPPING_ANON)
		return NULL;
	return page_rmapping(page);
}

/**
 * Free an anon_vma that nobody references any more.  The kernel frees
 * anon_vmas SLAB_DESTROY_BY_RCU, so that a racing page_lock_anon_vma()
 * still finds an anon_vma-shaped object; here the memory simply stays
 * until teardown, which gives the same guarantee.
 */
static void anon_vma_free(struct anon_vma *anon_vma)
{
	BUG_ON(anon_vma->sim_freed);		/* a double free */
	anon_vma->sim_freed = true;
}

/** Give \a vma an anon_vma before its first anonymous page. */
static int anon_vma_prepare(struct vm_area_struct *vma)
{
	struct mm_struct *mm = vma->vm_mm;
	struct anon_vma *anon_vma;

	if (vma->anon_vma)
		return 0;
	anon_vma = kzalloc_at(FAIL_ANON_VMA, sizeof(*anon_vma));
	if (!anon_vma)
		return -ENOMEM;
	mutex_init(&anon_vma->lock, "anon_vma->lock");
	INIT_LIST_HEAD(&anon_vma->head);
	step_lock(&sim_mm_lock);
	list_add(&anon_vma->sim_all, &sim_anon_vmas);
	step_unlock(&sim_mm_lock);
	spin_lock(&anon_vma->lock);
	spin_lock(&mm->page_table_lock);
	if (!vma->anon_vma) {	/* a racing fault may have set it */
		list_add(&vma->anon_vma_node, &anon_vma->head);
		vma->anon_vma = anon_vma;
		anon_vma = NULL;
	}
	spin_unlock(&mm->page_table_lock);
	if (anon_vma) {		/* the race lost: ours was never used */
		spin_unlock(&anon_vma->lock);
		anon_vma_free(anon_vma);
		return 0;
	}
	spin_unlock(&vma->anon_vma->lock);
	return 0;
}

/** Put a forked child's \a vma on its parent's anon_vma (anon_vma_link()). */
static void anon_vma_link(struct vm_area_struct *vma)
{
	struct anon_vma *anon_vma = vma->anon_vma;

	if (!anon_vma)
		return;
	spin_lock(&anon_vma->lock);
	list_add_tail(&vma->anon_vma_node, &anon_vma->head);
	spin_unlock(&anon_vma->lock);
}

/** Take \a vma off its anon_vma, freeing that if unused (anon_vma_unlink()). */
static void anon_vma_unlink(struct vm_area_struct *vma)
{
	struct anon_vma *anon_vma = vma->anon_vma;
	bool empty;

	if (!anon_vma)
		return;
	spin_lock(&anon_vma->lock);
	list_del_init(&vma->anon_vma_node);
	empty = list_empty(&anon_vma->head) &&
		!atomic_load(&anon_vma->ksm_refcount);
	spin_unlock(&anon_vma->lock);
	if (empty)
		anon_vma_free(anon_vma);
}

/**
 * Make a new page anonymous in \a vma at \a address (the first mapping of
 * a page just allocated; page_add_new_anon_rmap()).
 */
static void page_add_new_anon_rmap(struct page *page,
				   struct vm_area_struct *vma,
				   unsigned long address)
{
	atomic_store(&page->_mapcount, 0);
	page->index = linear_page_index(vma, address);
	tracked_write(&page->mapping,
		      (unsigned long)vma->anon_vma | PAGE_MAPPING_ANON);
}

/**
 * Add a pte mapping of an existing anonymous page (page_add_anon_rmap()).
 * For a KSM page only the mapcount changes: its mapping is its node.
 * Otherwise the caller holds the page lock.
 */
static void page_add_anon_rmap(struct page *page, struct vm_area_struct *vma,
			       unsigned long address)
{
	bool first = atomic_fetch_add(&page->_mapcount, 1) == -1;

	if (PageKsm(page))
		return;
	VM_BUG_ON(!PageLocked(page));
	if (first) {
		page->index = linear_page_index(vma, address);
		tracked_write(&page->mapping, (unsigned long)vma->anon_vma |
			      PAGE_MAPPING_ANON);
	}
}

/** One more pte maps \a page (fork: page_dup_rmap()). */
static inline void page_dup_rmap(struct page *page)
{
	atomic_fetch_add(&page->_mapcount, 1);
}

/**
 * One pte less maps \a page (page_remove_rmap()).  The mapping is left
 * alone: an unmapped page may still be in the swap cache, findable by its
 * old owner, and resetting it here could race with page_add_anon_rmap();
 * the reset is left to the free.
 */
static void page_remove_rmap(struct page *page)
{
	BUG_ON(atomic_fetch_sub(&page->_mapcount, 1) < 0);
}

/**
 * Find and lock the pte of \a mm mapping \a page at \a address
 * (page_check_address()).  Returns it with page_table_lock held, or NULL.
 * As in the kernel, \a address is the caller's to keep inside the vma:
 * every rmap walk skips a vma the page's index falls outside of, and
 * page_address_in_vma() returns 0 for one.
 */
static pte_t *page_check_address(struct page *page, struct mm_struct *mm,
				 unsigned long address)
{
	pte_t *ptep;

	spin_lock(&mm->page_table_lock);
	if (!mm->pgd)
		goto out;
	ptep = pte_offset(mm, address);
	if (pte_present(*ptep) && pte_pfn(*ptep) == page_to_pfn(page))
		return ptep;
out:
	spin_unlock(&mm->page_table_lock);
	return NULL;
}

/* Defined with swap and migration: */
/** \cond */
static void migrate_on_fault(struct mm_struct *mm);
static _Atomic unsigned int sim_migrate_on_fault __sim_state;
/** \endcond */
static int do_swap_page(struct mm_struct *mm, unsigned long address,
			pte_t orig_pte, bool write);
static void migration_entry_wait(struct mm_struct *mm, unsigned long address);
static bool reuse_swap_page(struct page *page);
static int swap_duplicate(swp_entry_t entry);
static void free_swap_and_cache(swp_entry_t entry);
static int swap_peek(swp_entry_t entry, unsigned char *buf);
/* Defined with files: */
static int filemap_fault(struct mm_struct *mm, unsigned long address);
static void file_write(struct page *page, unsigned long offset,
		       const void *buf, size_t len);
static void file_peek(struct address_space *mapping, unsigned long index,
		      unsigned char *buf);

/**
 * A fault on an empty pte: give the process a zeroed page of its own
 * (do_anonymous_page(); there is no zero page here, so read faults
 * allocate too).  Caller holds mmap_sem for read.
 */
static int do_anonymous_page(struct mm_struct *mm, unsigned long address)
{
	struct vm_area_struct *vma = &mm->vma;
	struct page *page;
	pte_t *ptep;

	if (anon_vma_prepare(vma))
		return -ENOMEM;
	page = alloc_page_node(mm->sim_nid, FAIL_PAGE);
	if (!page)
		return -ENOMEM;
	memset(page_address(page), 0, PAGE_SIZE);
	SetPageUptodate(page);
	SetPageSwapBacked(page);
	race_window(RW_FAULT_ALLOCATED);
	spin_lock(&mm->page_table_lock);
	ptep = pte_offset(mm, address);
	if (!pte_none(*ptep)) {
		spin_unlock(&mm->page_table_lock);
		put_page(page);		/* somebody else faulted it in */
		return 0;
	}
	page_add_new_anon_rmap(page, vma, address);
	lru_cache_add(page);
	*ptep = mk_pte(page, true);
	spin_unlock(&mm->page_table_lock);
	sim_trace("%s faults in pfn %lu at page %lu", mm->sim_name,
		  page_to_pfn(page), linear_page_index(vma, address));
	return 0;
}

/**
 * A write to a read-only pte (do_wp_page()): reuse the page if this is its
 * only mapping, else copy it.  A KSM page is always copied: that is how a
 * write "breaks" a merge.  Caller holds mmap_sem for read.
 */
static int do_wp_page(struct mm_struct *mm, unsigned long address,
		      pte_t orig_pte)
{
	struct vm_area_struct *vma = &mm->vma;
	struct page *old, *new;
	pte_t *ptep;

	/*
	 * The kernel comes here with the page table lock held, and takes
	 * its reference on the old page before dropping it: without the
	 * lock, the page could be unmapped, freed and reused in between.
	 */
	spin_lock(&mm->page_table_lock);
	ptep = pte_offset(mm, address);
	if (!pte_same(*ptep, orig_pte)) {
		spin_unlock(&mm->page_table_lock);
		return 0;		/* changed meanwhile: retry */
	}
	old = pfn_to_page(pte_pfn(orig_pte));
	get_page(old);
	spin_unlock(&mm->page_table_lock);

	if (PageAnon(old) && !PageKsm(old)) {
		lock_page(old);
		spin_lock(&mm->page_table_lock);
		ptep = pte_offset(mm, address);
		if (pte_same(*ptep, orig_pte) && reuse_swap_page(old)) {
			*ptep |= _PAGE_RW;
			spin_unlock(&mm->page_table_lock);
			unlock_page(old);
			put_page(old);
			return 0;
		}
		spin_unlock(&mm->page_table_lock);
		unlock_page(old);
	}
	new = alloc_page_node(mm->sim_nid, FAIL_PAGE);
	if (!new) {
		put_page(old);
		return -ENOMEM;
	}
	memcpy(page_address(new), page_address(old), PAGE_SIZE);
	SetPageUptodate(new);
	SetPageSwapBacked(new);
	race_window(RW_WP_COPIED);
	spin_lock(&mm->page_table_lock);
	ptep = pte_offset(mm, address);
	if (pte_same(*ptep, orig_pte)) {
		page_add_new_anon_rmap(new, vma, address);
		lru_cache_add(new);
		*ptep = mk_pte(new, true);
		sim_trace("%s copies pfn %lu%s to pfn %lu on write",
			  mm->sim_name, page_to_pfn(old),
			  PageKsm(old) ? " (KSM)" : "", page_to_pfn(new));
		if (PageKsm(old))
			atomic_fetch_add(&activity.unmerges, 1);
		page_remove_rmap(old);
		put_page(old);		/* the pte's reference */
		new = NULL;
	}
	spin_unlock(&mm->page_table_lock);
	if (new)
		put_page(new);
	put_page(old);
	return 0;
}

/**
 * Handle a fault at \a address (handle_mm_fault()).  Returns 0 when the
 * access should be retried, or -ENOMEM.  Caller holds mmap_sem for read.
 */
static int handle_mm_fault(struct mm_struct *mm, unsigned long address,
			   bool write)
{
	pte_t pte;

	spin_lock(&mm->page_table_lock);
	pte = *pte_offset(mm, address);
	spin_unlock(&mm->page_table_lock);
	if (pte_none(pte))
		return mm->vma.vm_file ? filemap_fault(mm, address) :
		       do_anonymous_page(mm, address);
	if (is_swap_pte(pte)) {
		if (is_migration_entry(pte_to_swp_entry(pte))) {
			migration_entry_wait(mm, address);
			return 0;
		}
		return do_swap_page(mm, address, pte, write);
	}
	/*
	 * A shared file mapping's ptes are always writable here: the kernel
	 * write-protects them for dirty accounting (page_mkclean() at
	 * writeback) and makes them writable again in this fault, but here
	 * file_write() dirties the page itself, so nothing write-protects
	 * them.  Only an anonymous page is ever read-only.
	 */
	if (write && !pte_write(pte)) {
		BUG_ON(mm->vma.vm_file);
		return do_wp_page(mm, address, pte);
	}
	return 0;
}

/** Look up a process's page without faulting, for verification. */
static int peek_page(struct mm_struct *mm, unsigned long vpn,
		     unsigned char *buf)
{
	pte_t pte;
	int ret = 0;

	spin_lock(&mm->page_table_lock);
	pte = mm->pgd[vpn];
	if (pte_none(pte) && mm->vma.vm_file)
		file_peek(mm->vma.vm_file, vpn, buf);
	else if (pte_none(pte))
		memset(buf, 0, PAGE_SIZE);
	else if (pte_present(pte))
		memcpy(buf, page_address(pfn_to_page(pte_pfn(pte))),
		       PAGE_SIZE);
	else if (is_migration_entry(pte_to_swp_entry(pte)))
		ret = -EBUSY;
	else
		ret = swap_peek(pte_to_swp_entry(pte), buf);
	spin_unlock(&mm->page_table_lock);
	return ret;
}

/* ---------------------------------------------------------------- */
/* The process interface of ksm_ref.h. */

static int __ksm_enter(struct mm_struct *mm);
static void __ksm_exit(struct mm_struct *mm);
static int unmerge_ksm_pages(struct vm_area_struct *vma, unsigned long start,
			     unsigned long end);

/** Allocate a process's structures (not yet on the list). */
static struct mm_struct *mm_alloc(const char *name, unsigned long nr_pages)
{
	struct mm_struct *mm;

	mm = kzalloc_at(FAIL_MM_STRUCT, sizeof(*mm));
	if (!mm)
		return NULL;
	mm->pgd = kzalloc_at(FAIL_MM_STRUCT, nr_pages * sizeof(pte_t));
	mm->sim_shadow = kzalloc_at(FAIL_MM_STRUCT,
				    nr_pages * sizeof(*mm->sim_shadow));
	if (!mm->pgd || !mm->sim_shadow) {
		kfree(mm->pgd);
		kfree(mm->sim_shadow);
		kfree(mm);
		return NULL;
	}
	snprintf(mm->sim_name, sizeof(mm->sim_name), "%s", name);
	mm->sim_nr_pages = nr_pages;
	mm->vma.vm_mm = mm;
	mm->vma.vm_start = SIM_VM_START;
	mm->vma.vm_end = SIM_VM_START + (nr_pages << PAGE_SHIFT);
	init_rwsem(&mm->mmap_sem, "mmap_sem");
	mutex_init(&mm->page_table_lock, "page_table_lock");
	atomic_store(&mm->mm_users, 1);
	atomic_store(&mm->mm_count, 1);
	return mm;
}

/** Drop a reference to the mm_struct itself (mmdrop()). */
static void mmdrop(struct mm_struct *mm)
{
	unsigned long vpn;

	if (atomic_fetch_sub(&mm->mm_count, 1) != 1)
		return;
	for (vpn = 0; vpn < mm->sim_nr_pages; vpn++)
		shadow_put(mm->sim_shadow[vpn]);
	kfree(mm->sim_shadow);
	kfree(mm);
}

/**
 * Put \a vma on \a f's reverse map (vma_link() for a file mapping).  The
 * caller has counted the new user in f->sim_users.
 */
static void file_vma_link(struct vm_area_struct *vma, struct address_space *f)
{
	vma->vm_file = f;
	spin_lock(&f->i_mmap_lock);
	list_add_tail(&vma->shared, &f->i_mmap);
	spin_unlock(&f->i_mmap_lock);
}

/** Take \a vma off its file's reverse map (unlink_file_vma()). */
static void file_vma_unlink(struct vm_area_struct *vma)
{
	struct address_space *f = vma->vm_file;

	spin_lock(&f->i_mmap_lock);
	list_del_init(&vma->shared);
	spin_unlock(&f->i_mmap_lock);
	atomic_fetch_sub(&f->sim_users, 1);
}

struct mm_struct *sim_process_create(const char *name, unsigned long nr_pages)
{
	struct mm_struct *mm;

	if (!machine.initialized || !name || !nr_pages ||
	    nr_pages > (1UL << 24))
		return NULL;
	mm = mm_alloc(name, nr_pages);
	if (!mm)
		return NULL;
	step_lock(&sim_mm_lock);
	list_add_tail(&mm->sim_list, &sim_mm_list);
	step_unlock(&sim_mm_lock);
	return mm;
}

const char *sim_process_name(const struct mm_struct *mm)
{
	return mm ? mm->sim_name : "(null)";
}

/** Is \a mm a live process?  Guards the public calls. */
static bool sim_mm_valid(struct mm_struct *mm)
{
	struct mm_struct *m;
	struct list_head *pos;
	bool found = false;

	step_lock(&sim_mm_lock);
	for (pos = sim_mm_list.next; pos != &sim_mm_list; pos = pos->next) {
		m = list_entry(pos, struct mm_struct, sim_list);
		if (m == mm) {
			found = true;
			break;
		}
	}
	step_unlock(&sim_mm_lock);
	return found;
}

/** Check a public call's process and byte range. */
static int sim_check_range(struct mm_struct *mm, unsigned long vpn,
			   unsigned long offset, size_t len)
{
	if (!sim_mm_valid(mm) || ksm_test_exit(mm))
		return -EINVAL;
	if (vpn >= mm->sim_nr_pages || offset > PAGE_SIZE ||
	    len > PAGE_SIZE - offset)
		return -EINVAL;
	return 0;
}

/** A printable form of byte \a c for reports. */
static int printable(int c)
{
	return c >= 0x20 && c < 0x7f ? c : '.';
}

/**
 * The CPU's access to one page: retry the access, faulting, until the pte
 * allows it; then copy under the page table lock, which stands in for the
 * TLB shootdown that makes an access either land before an unmap or fault.
 */
static int process_access(struct mm_struct *mm, unsigned long vpn,
			  unsigned long offset, void *buf, size_t len,
			  bool write)
{
	unsigned long address = vpn_to_address(vpn);
	int err = 0, tries;

	down_read(&mm->mmap_sem);
	for (tries = 0; ; tries++) {
		pte_t *ptep;

		spin_lock(&mm->page_table_lock);
		ptep = pte_offset(mm, address);
		if (pte_present(*ptep) && (!write || pte_write(*ptep))) {
			unsigned char *p = page_address(pfn_to_page(
							pte_pfn(*ptep)));

			if (write) {
				sim_trace("%s writes '%c'... to page %lu (pfn "
					  "%lu)", mm->sim_name,
					  printable(*(unsigned char *)buf), vpn,
					  pte_pfn(*ptep));
				if (mm->vma.vm_file) {
					file_write(pfn_to_page(pte_pfn(*ptep)),
						   offset, buf, len);
				} else {
					shadow_prepare_write(mm, vpn);
					memcpy(p + offset, buf, len);
					memcpy(mm->sim_shadow[vpn]->bytes +
					       offset, buf, len);
				}
			} else {
				memcpy(buf, p + offset, len);
			}
			spin_unlock(&mm->page_table_lock);
			break;
		}
		spin_unlock(&mm->page_table_lock);
		err = handle_mm_fault(mm, address, write);
		if (err)
			break;
		if (sim_migrate_on_fault &&
		    sim_rand() % sim_migrate_on_fault == 0 &&
		    machine.cfg.nr_nodes > 1)
			migrate_on_fault(mm);
		BUG_ON(tries > 1000000);	/* a fault that never resolves */
	}
	up_read(&mm->mmap_sem);
	return err;
}

int sim_process_write(struct mm_struct *mm, unsigned long vpn,
		      unsigned long offset, const void *buf, size_t len)
{
	int err = sim_check_range(mm, vpn, offset, len);

	if (err || !buf)
		return err ? err : -EINVAL;
	return process_access(mm, vpn, offset, (void *)buf, len, true);
}

int sim_process_fill(struct mm_struct *mm, unsigned long vpn, int byte)
{
	unsigned char buf[SIM_MAX_PAGE_SIZE];	/* a fiber's stack holds it */
	int err = sim_check_range(mm, vpn, 0, 0);

	if (err)
		return err;
	memset(buf, byte, PAGE_SIZE);
	return process_access(mm, vpn, 0, buf, PAGE_SIZE, true);
}

int sim_process_read(struct mm_struct *mm, unsigned long vpn,
		     unsigned long offset, void *buf, size_t len)
{
	int err = sim_check_range(mm, vpn, offset, len);

	if (err || !buf)
		return err ? err : -EINVAL;
	return process_access(mm, vpn, offset, buf, len, false);
}

int sim_process_set_node(struct mm_struct *mm, int nid)
{
	if (!sim_mm_valid(mm) || nid < 0 || nid >= (int)machine.cfg.nr_nodes)
		return -EINVAL;
	mm->sim_nid = nid;
	return 0;
}

long sim_process_pfn(struct mm_struct *mm, unsigned long vpn)
{
	long pfn = -1;

	if (sim_check_range(mm, vpn, 0, 0))
		return -EINVAL;
	spin_lock(&mm->page_table_lock);
	if (pte_present(mm->pgd[vpn]))
		pfn = (long)pte_pfn(mm->pgd[vpn]);
	spin_unlock(&mm->page_table_lock);
	return pfn;
}

long sim_process_verify(struct mm_struct *mm, bool report)
{
	unsigned char buf[SIM_MAX_PAGE_SIZE];	/* a fiber's stack holds it */
	unsigned long vpn;
	long bad = 0;

	if (!sim_mm_valid(mm))
		return -EINVAL;
	for (vpn = 0; vpn < mm->sim_nr_pages && mm->pgd; vpn++) {
		const unsigned char *want = mm->vma.vm_file ?
			mm->vma.vm_file->sim_shadow + (vpn << PAGE_SHIFT) :
			shadow_bytes(mm, vpn);
		unsigned long i;
		int err = peek_page(mm, vpn, buf);

		if (err) {
			bad++;
			if (report)
				sim_report("    %s page %lu: cannot be read at a "
					   "quiescent point (%s)", mm->sim_name,
					   vpn, err == -EBUSY ?
					   "migration entry left in its pte" :
					   "swap slot lost");
			continue;
		}
		atomic_fetch_add(&activity.bytes_verified, PAGE_SIZE);
		if (!memcmp(buf, want, PAGE_SIZE))
			continue;
		for (i = 0; buf[i] == want[i]; i++)
			;
		bad++;
		if (report)
			sim_report("    %s page %lu: byte %lu reads 0x%02x '%c' "
				   "but %s wrote 0x%02x '%c': bytes it never "
				   "wrote", mm->sim_name, vpn, i, buf[i],
				   printable(buf[i]), mm->sim_name, want[i],
				   printable(want[i]));
	}
	return bad;
}

/**
 * Fork: the child shares every page copy-on-write, joins the parent's
 * anon_vma, and is registered with KSM if the parent is (ksm_fork()).
 */
struct mm_struct *sim_process_fork(struct mm_struct *parent, const char *name)
{
	struct mm_struct *child;
	unsigned long vpn;

	if (!sim_mm_valid(parent) || ksm_test_exit(parent) || !name)
		return NULL;
	child = mm_alloc(name, parent->sim_nr_pages);
	if (!child)
		return NULL;
	child->sim_nid = parent->sim_nid;
	down_write(&parent->mmap_sem);
	child->vma.vm_flags = parent->vma.vm_flags;
	child->vma.anon_vma = parent->vma.anon_vma;
	if (parent->vma.vm_file) {
		atomic_fetch_add(&parent->vma.vm_file->sim_users, 1);
		file_vma_link(&child->vma, parent->vma.vm_file);
	} else if (test_bit(MMF_VM_MERGEABLE, &parent->flags) &&
	    __ksm_enter(child)) {
		up_write(&parent->mmap_sem);
		kfree(child->pgd);
		mmdrop(child);
		return NULL;
	}
	anon_vma_link(&child->vma);	/* dup_mmap(): a file vma has none */
	/*
	 * Both page table locks, the child's first (copy_pte_range()): the
	 * child is on the anon_vma already, and an rmap walk (migration
	 * restoring its ptes) may look at its ptes at any moment.
	 */
	spin_lock(&child->page_table_lock);
	spin_lock(&parent->page_table_lock);
	for (vpn = 0; vpn < parent->sim_nr_pages; vpn++) {
		pte_t pte = parent->pgd[vpn];

		if (pte_none(pte))
			continue;
		if (is_swap_pte(pte)) {
			swp_entry_t entry = pte_to_swp_entry(pte);

			if (swp_type(entry) == SWP_MIGRATION_WRITE &&
			    !parent->vma.vm_file) {
				/* Both must copy on write once it is done. */
				entry = swp_entry(SWP_MIGRATION_READ,
						  swp_offset(entry));
				pte = parent->pgd[vpn] =
					swp_entry_to_pte(entry);
			} else if (!is_migration_entry(entry)) {
				swap_duplicate(entry);
			}
			child->pgd[vpn] = pte;
			continue;
		}
		/* A shared file mapping stays writable in both. */
		if (!parent->vma.vm_file)
			pte = parent->pgd[vpn] = pte_wrprotect(pte);
		get_page(pfn_to_page(pte_pfn(pte)));
		page_dup_rmap(pfn_to_page(pte_pfn(pte)));
		child->pgd[vpn] = pte;
	}
	/* The shadow too, copy-on-write: a pointer per page. */
	for (vpn = 0; vpn < parent->sim_nr_pages; vpn++) {
		struct shadow_page *sp = parent->sim_shadow[vpn];

		if (sp)
			atomic_fetch_add(&sp->users, 1);
		child->sim_shadow[vpn] = sp;
	}
	spin_unlock(&parent->page_table_lock);
	spin_unlock(&child->page_table_lock);
	up_write(&parent->mmap_sem);
	step_lock(&sim_mm_lock);
	list_add_tail(&child->sim_list, &sim_mm_list);
	step_unlock(&sim_mm_lock);
	sim_trace("%s forks %s", parent->sim_name, child->sim_name);
	return child;
}

/** Pages an exit unmaps before it lets them go (the kernel's mmu_gather). */
#define MMU_GATHER_PAGES	32

static void free_swap_cache(struct page *page);

/**
 * Drop the ptes' references of \a nr unmapped pages, after the page table
 * lock is dropped (free_pages_and_swap_cache()): a page in the swap cache
 * that nobody maps any more leaves it, slot and all.
 */
static void free_pages_and_swap_cache(struct page **pages, int nr)
{
	int i;

	for (i = 0; i < nr; i++) {
		free_swap_cache(pages[i]);
		put_page(pages[i]);
	}
}

/** Unmap every page of an exiting process (exit_mmap(), zap_pte_range()). */
static void exit_mmap(struct mm_struct *mm)
{
	struct page *batch[MMU_GATHER_PAGES];
	unsigned long vpn;
	int nr = 0;
	pte_t *pgd;

	spin_lock(&mm->page_table_lock);
	for (vpn = 0; vpn < mm->sim_nr_pages; vpn++) {
		pte_t pte = mm->pgd[vpn];

		mm->pgd[vpn] = 0;
		if (pte_present(pte)) {
			struct page *page = pfn_to_page(pte_pfn(pte));

			page_remove_rmap(page);
			batch[nr++] = page;	/* the pte's reference */
		} else if (is_swap_pte(pte) &&
			   !is_migration_entry(pte_to_swp_entry(pte))) {
			free_swap_and_cache(pte_to_swp_entry(pte));
		}
		if (nr == MMU_GATHER_PAGES || vpn + 1 == mm->sim_nr_pages) {
			spin_unlock(&mm->page_table_lock);
			free_pages_and_swap_cache(batch, nr);
			nr = 0;
			spin_lock(&mm->page_table_lock);
		}
	}
	pgd = mm->pgd;
	mm->pgd = NULL;
	spin_unlock(&mm->page_table_lock);
	if (mm->vma.vm_file)
		file_vma_unlink(&mm->vma);
	else
		anon_vma_unlink(&mm->vma);
	kfree(pgd);
}

int sim_process_exit(struct mm_struct *mm)
{
	if (!sim_mm_valid(mm) || ksm_test_exit(mm))
		return -EINVAL;
	step_lock(&sim_mm_lock);
	list_del_init(&mm->sim_list);
	step_unlock(&sim_mm_lock);
	sim_trace("%s exits", mm->sim_name);
	/* mmput(): the last user is gone. */
	atomic_store(&mm->mm_users, 0);
	if (test_bit(MMF_VM_MERGEABLE, &mm->flags))
		__ksm_exit(mm);
	exit_mmap(mm);
	mmdrop(mm);
	return 0;
}

int sim_process_madvise(struct mm_struct *mm, bool mergeable)
{
	struct vm_area_struct *vma;
	int err = 0;

	if (!sim_mm_valid(mm) || ksm_test_exit(mm))
		return -EINVAL;
	vma = &mm->vma;
	if (mergeable && vma->vm_file)
		return -EINVAL;		/* KSM merges anonymous memory only */
	down_write(&mm->mmap_sem);
	if (mergeable) {
		/* ksm_madvise(MADV_MERGEABLE) */
		if (!(vma->vm_flags & VM_MERGEABLE)) {
			if (!test_bit(MMF_VM_MERGEABLE, &mm->flags))
				err = __ksm_enter(mm);
			if (!err)
				vma->vm_flags |= VM_MERGEABLE;
		}
	} else if (vma->vm_flags & VM_MERGEABLE) {
		/* ksm_madvise(MADV_UNMERGEABLE) */
		if (vma->anon_vma)
			err = unmerge_ksm_pages(vma, vma->vm_start,
						vma->vm_end);
		if (!err)
			vma->vm_flags &= ~VM_MERGEABLE;
	}
	up_write(&mm->mmap_sem);
	return err;
}

/** @} */

/* ================================================================ */
/** \defgroup file Files: the page cache, writeback, shared mappings
 *
 * Just enough of the page cache for seed 003 to exchange an anonymous
 * page with a file's page: struct address_space (group anon) with its
 * slots, the page cache's reference and the one buffer heads add
 * (expected_page_refs()), the lockless lookup find_get_page(), faults
 * that map a file shared, dirty pages and the flusher's writeback, and
 * the per-node counters NR_FILE_PAGES and NR_FILE_DIRTY.
 *
 * What it leaves out: truncation (a file loses its cache only when it is
 * destroyed, at a quiescent point), reclaim of file pages (shrink_page()
 * keeps every page that is not swap-backed), read-ahead, and holes: every
 * page of a file exists on its disk.
 *
 * Invariants the auditor checks: a cached page names its file and index
 * and is in that slot; it holds the cache's reference, and one more with
 * its buffer heads, whose b_page is the page; no anonymous page carries
 * buffer heads; the node counters are a recount of the cache; every page
 * holds what was last written to it, and a clean page's bytes are on disk.
 * @{ */

/** A page's buffer heads (one per page here): the filesystem's data. */
struct buffer_head {
	struct page *b_page;		/**< the page whose bytes it maps */
	unsigned long b_blocknr;	/**< its block: the file page index */
};

/**
 * Lookups that hold a struct page of the page cache without a reference
 * (find_get_page() between reading a slot and its speculative reference)
 * are RCU readers: memory offline waits for them before the memmap goes
 * (synchronize_rcu() in the offline path).
 */
static atomic_int sim_rcu_readers __sim_state;

/** rcu_read_lock(), for the lookups above. */
static inline void rcu_read_lock(void)
{
	atomic_fetch_add(&sim_rcu_readers, 1);
}

/** rcu_read_unlock(). */
static inline void rcu_read_unlock(void)
{
	atomic_fetch_sub(&sim_rcu_readers, 1);
}

/** Every file; an atomic step guards the list. */
static struct list_head sim_files __sim_state = { &sim_files, &sim_files };
/** Guards sim_files. */
static pthread_mutex_t sim_files_lock __sim_state = PTHREAD_MUTEX_INITIALIZER;

/** NR_FILE_PAGES and NR_FILE_DIRTY, per node (mod_node_page_state()). */
static struct {
	atomic_long pages[64];		/**< pages in some page cache */
	atomic_long dirty[64];		/**< ...of which dirty */
} node_stat __sim_state;

/**
 * The file of a page cache page, or NULL for an anonymous page
 * (page_mapping()).  Of 2019's page_mapping() this leaves out the swap
 * cache: exchange refuses swap cache pages before it asks.
 */
static inline struct address_space *page_mapping(const struct page *page)
{
	unsigned long mapping = page_mapping_word(page);

	if (!mapping || (mapping & PAGE_MAPPING_ANON))
		return NULL;
	return (struct address_space *)mapping;
}

/** Clear bit \a nr; return whether it was set (a full barrier). */
static inline bool test_and_clear_bit(int nr, _Atomic unsigned long *addr)
{
	struct model_cpu *cpu = model_cpu();
	unsigned long old;

	if (!cpu)
		return (atomic_fetch_and(addr, ~(1UL << nr)) >> nr) & 1;
	old = model_rmw(cpu, addr, MODEL_ANDNOT, 1UL << nr);
	return (old >> nr) & 1;
}

/**
 * Mark a file page dirty, counting it once (set_page_dirty()).  Callers
 * hold the file's write lock, and the page is mapped: exchange and the
 * flusher, which clear or move PG_dirty, hold the page lock with the page
 * unmapped or not yet dirtied again, so the count follows the flag.
 */
static void set_page_dirty(struct page *page)
{
	if (!test_and_set_bit(PG_dirty, &page->flags))
		atomic_fetch_add(&node_stat.dirty[page_to_nid(page)], 1);
}

/**
 * Clear PG_dirty before writing the page out, uncounting it
 * (clear_page_dirty_for_io()).  Returns whether it was dirty.  Caller
 * holds the page lock.
 */
static bool clear_page_dirty_for_io(struct page *page)
{
	VM_BUG_ON(!PageLocked(page));
	if (!test_and_clear_bit(PG_dirty, &page->flags))
		return false;
	atomic_fetch_sub(&node_stat.dirty[page_to_nid(page)], 1);
	return true;
}

/** The wait queue key of a page's writeback (not its lock's). */
static inline const void *page_writeback_key(struct page *page)
{
	return &page->index;
}

/**
 * The I/O of writepage(): \a page's bytes to its place on \a mapping's
 * disk, atomic with respect to a process's write (file_write()).
 */
static void file_page_io(struct address_space *mapping, struct page *page)
{
	pthread_mutex_lock(&mapping->sim_write_lock);
	memcpy(mapping->sim_disk + (page->index << PAGE_SHIFT),
	       page_address(page), PAGE_SIZE);
	pthread_mutex_unlock(&mapping->sim_write_lock);
}

/** The I/O of a page is over (end_page_writeback()). */
static void end_page_writeback(struct page *page)
{
	if (!test_and_clear_bit(PG_writeback, &page->flags))
		sim_oops("end_page_writeback", "a page not under writeback");
	wake_up_key(page_writeback_key(page));
}

/** Sleep until \a page is not under writeback (wait_on_page_writeback()). */
static void wait_on_page_writeback(struct page *page)
{
	if (PageWriteback(page))
		sim_trace("waits for the writeback of pfn %lu",
			  page_to_pfn(page));
	wait_event(page_writeback_key(page), !PageWriteback(page));
}

/**
 * Give a page cache page its buffer heads: PG_private, page->private, and
 * a reference of their own (attach_page_buffers()).
 */
static void attach_page_buffers(struct page *page, struct buffer_head *bh)
{
	bh->b_page = page;
	bh->b_blocknr = page->index;
	get_page(page);
	page->private = (unsigned long)bh;
	SetPagePrivate(page);
}

/**
 * Insert \a page at \a index of \a mapping, with the cache's reference,
 * and put it on the LRU (add_to_page_cache_lru()).  -EEXIST if another
 * page got there first, -ENOMEM.
 */
static int add_to_page_cache_lru(struct page *page,
				 struct address_space *mapping,
				 unsigned long index)
{
	struct buffer_head *bh = NULL;

	if (mapping->buffers) {
		bh = kzalloc_at(FAIL_BUFFER_HEAD, sizeof(*bh));
		if (!bh)
			return -ENOMEM;
	}
	spin_lock(&mapping->tree_lock);
	if (atomic_load(&mapping->slots[index])) {
		spin_unlock(&mapping->tree_lock);
		kfree(bh);
		return -EEXIST;
	}
	get_page(page);			/* the page cache's reference */
	page->index = index;
	tracked_write(&page->mapping, (unsigned long)mapping);
	if (bh)
		attach_page_buffers(page, bh);
	atomic_store(&mapping->slots[index], page);
	mapping->nrpages++;
	atomic_fetch_add(&node_stat.pages[page_to_nid(page)], 1);
	spin_unlock(&mapping->tree_lock);
	lru_cache_add(page);
	return 0;
}

/**
 * Look page \a index of \a mapping up without a lock (find_get_page(),
 * the speculative page cache of 2008).  A page in the slot may be freed,
 * reused, migrated or exchanged at any moment: take a reference only if
 * its count is not zero, then check that it is still in the slot.  A
 * frozen count means somebody is moving it: try again.  Returns the page
 * with a reference, or NULL if the file has no page cached there.
 */
static struct page *find_get_page(struct address_space *mapping,
				  unsigned long index)
{
	struct page *page;

repeat:
	rcu_read_lock();
	page = atomic_load(&mapping->slots[index]);
	if (!page) {
		rcu_read_unlock();
		return NULL;
	}
	race_window(RW_FIND_GET_PAGE_SLOT);
	if (!get_page_unless_zero(page)) {
		rcu_read_unlock();
		cpu_relax();		/* frozen: wait for the mover */
		goto repeat;
	}
	rcu_read_unlock();		/* the reference holds it now */
	race_window(RW_FIND_GET_PAGE_GOT);
	/* Has the page moved out of the slot meanwhile? */
	if (page != atomic_load(&mapping->slots[index])) {
		put_page(page);
		goto repeat;
	}
	return page;
}

/**
 * Read page \a index of \a mapping from disk into a new page cache page on
 * node \a nid (page_cache_read()).  0 (or -EEXIST: someone else did),
 * -ENOMEM.
 */
static int page_cache_read(struct address_space *mapping, unsigned long index,
			   int nid)
{
	struct page *page = alloc_page_node(nid, FAIL_PAGE_CACHE);
	int err;

	if (!page)
		return -ENOMEM;
	memcpy(page_address(page), mapping->sim_disk + (index << PAGE_SHIFT),
	       PAGE_SIZE);
	SetPageUptodate(page);
	err = add_to_page_cache_lru(page, mapping, index);
	put_page(page);			/* the cache has it, or not */
	return err;
}

/** Add a pte mapping of a file page (page_add_file_rmap()). */
static inline void page_add_file_rmap(struct page *page)
{
	atomic_fetch_add(&page->_mapcount, 1);
}

/**
 * A fault on an empty pte of a file mapping (filemap_fault() with
 * do_shared_fault()): find the page in the cache or read it, lock it,
 * check that it is still the file's page at that index (it may have been
 * exchanged while we waited for the lock), and map it, writable: writes
 * dirty it as they happen.  Caller holds mmap_sem for read.
 */
static int filemap_fault(struct mm_struct *mm, unsigned long address)
{
	struct vm_area_struct *vma = &mm->vma;
	struct address_space *mapping = vma->vm_file;
	unsigned long index = linear_page_index(vma, address);
	struct page *page;
	pte_t *ptep;
	int err;

retry:
	page = find_get_page(mapping, index);
	if (!page) {
		err = page_cache_read(mapping, index, mm->sim_nid);
		if (err && err != -EEXIST)
			return err;
		goto retry;
	}
	lock_page(page);
	if (page_mapping(page) != mapping || page->index != index) {
		unlock_page(page);
		put_page(page);
		goto retry;
	}
	spin_lock(&mm->page_table_lock);
	ptep = pte_offset(mm, address);
	if (!pte_none(*ptep)) {
		spin_unlock(&mm->page_table_lock);
		unlock_page(page);
		put_page(page);		/* somebody else mapped it */
		return 0;
	}
	page_add_file_rmap(page);
	*ptep = mk_pte(page, true);	/* our reference becomes the pte's */
	spin_unlock(&mm->page_table_lock);
	unlock_page(page);
	sim_trace("%s maps pfn %lu, page %lu of file %s", mm->sim_name,
		  page_to_pfn(page), index, mapping->sim_name);
	return 0;
}

/**
 * A process writes \a len bytes at \a offset of the file page \a page,
 * which its pte maps.  Page bytes, the file's record of what was written
 * and PG_dirty change together, under the file's write lock.  Caller
 * holds the page table lock.
 */
static void file_write(struct page *page, unsigned long offset,
		       const void *buf, size_t len)
{
	struct address_space *mapping = page_mapping(page);

	pthread_mutex_lock(&mapping->sim_write_lock);
	memcpy(page_address(page) + offset, buf, len);
	memcpy(mapping->sim_shadow + (page->index << PAGE_SHIFT) + offset,
	       buf, len);
	set_page_dirty(page);
	pthread_mutex_unlock(&mapping->sim_write_lock);
}

/**
 * The bytes of page \a index of \a mapping as a reader would see them now:
 * the cached page's, or the disk's.  For verification at quiescent points.
 */
static void file_peek(struct address_space *mapping, unsigned long index,
		      unsigned char *buf)
{
	struct page *page;

	spin_lock(&mapping->tree_lock);
	page = atomic_load(&mapping->slots[index]);
	memcpy(buf, page ? page_address(page) :
	       mapping->sim_disk + (index << PAGE_SHIFT), PAGE_SIZE);
	spin_unlock(&mapping->tree_lock);
}

/** Is \a f on sim_files?  Caller holds sim_files_lock.  No dereference. */
static bool file_listed(const struct address_space *f)
{
	struct list_head *pos;

	for (pos = sim_files.next; pos != &sim_files; pos = pos->next)
		if (list_entry(pos, struct address_space, sim_list) == f)
			return true;
	return false;
}

/**
 * Is \a f a live file?  Guards the public calls.  A file may be destroyed
 * only while nothing else uses it (ksm_ref.h): those that map it are
 * counted in sim_users, under sim_files_lock, and keep it alive.
 */
static bool sim_file_valid(struct address_space *f)
{
	bool found;

	if (!f || !machine.initialized)
		return false;
	step_lock(&sim_files_lock);
	found = file_listed(f);
	step_unlock(&sim_files_lock);
	return found;
}

struct address_space *sim_file_create(const char *name, unsigned long nr_pages,
				      int byte, bool buffers)
{
	struct address_space *f;

	if (!machine.initialized || !name || !nr_pages || nr_pages > (1UL << 20))
		return NULL;
	f = kzalloc_at(FAIL_FILE, sizeof(*f));
	if (!f)
		return NULL;
	f->slots = kzalloc_at(FAIL_FILE, nr_pages * sizeof(*f->slots));
	f->sim_disk = kzalloc_at(FAIL_FILE, nr_pages << PAGE_SHIFT);
	f->sim_shadow = kzalloc_at(FAIL_FILE, nr_pages << PAGE_SHIFT);
	if (!f->slots || !f->sim_disk || !f->sim_shadow) {
		kfree(f->slots);
		kfree(f->sim_disk);
		kfree(f->sim_shadow);
		kfree(f);
		return NULL;
	}
	memset(f->sim_disk, byte, nr_pages << PAGE_SHIFT);
	memset(f->sim_shadow, byte, nr_pages << PAGE_SHIFT);
	mutex_init(&f->tree_lock, "tree_lock");
	mutex_init(&f->i_mmap_lock, "i_mmap_lock");
	INIT_LIST_HEAD(&f->i_mmap);
	pthread_mutex_init(&f->sim_write_lock, NULL);
	f->buffers = buffers;
	f->sim_nr_pages = nr_pages;
	snprintf(f->sim_name, sizeof(f->sim_name), "%s", name);
	step_lock(&sim_files_lock);
	list_add_tail(&f->sim_list, &sim_files);
	step_unlock(&sim_files_lock);
	return f;
}

/**
 * Take page \a index out of \a mapping's cache and drop the cache's
 * references (delete_from_page_cache() and try_to_release_page(), at a
 * quiescent point: nobody else holds it).
 */
static void file_drop_page(struct address_space *mapping, unsigned long index)
{
	struct page *page = atomic_load(&mapping->slots[index]);
	int nid;

	if (!page)
		return;
	nid = page_to_nid(page);
	spin_lock(&mapping->tree_lock);
	atomic_store(&mapping->slots[index], NULL);
	mapping->nrpages--;
	atomic_fetch_sub(&node_stat.pages[nid], 1);
	if (test_and_clear_bit(PG_dirty, &page->flags))
		atomic_fetch_sub(&node_stat.dirty[nid], 1);
	if (PagePrivate(page)) {
		kfree((void *)page->private);
		page->private = 0;
		ClearPagePrivate(page);
		put_page(page);
	}
	tracked_write(&page->mapping, 0);
	spin_unlock(&mapping->tree_lock);
	put_page(page);
}

/**
 * May \a f's cache be dropped now?  Nobody maps it, and nobody else holds
 * one of its pages: not locked, not under writeback, not isolated, no
 * reference but the cache's and the buffers'.  Caller holds
 * sim_files_lock, which sim_process_map_file() takes too.
 */
static bool file_idle(struct address_space *f)
{
	unsigned long i;

	if (atomic_load(&f->sim_users))
		return false;
	for (i = 0; i < f->sim_nr_pages; i++) {
		struct page *page = atomic_load(&f->slots[i]);

		if (page && (PageLocked(page) || PageWriteback(page) ||
			     !PageLRU(page) ||
			     page_count(page) != 1 + PagePrivate(page)))
			return false;
	}
	return true;
}

int sim_file_destroy(struct address_space *f)
{
	unsigned long i;

	if (!f || !machine.initialized)
		return -EINVAL;
	step_lock(&sim_files_lock);
	if (!file_listed(f)) {
		step_unlock(&sim_files_lock);
		return -EINVAL;
	}
	if (!file_idle(f)) {
		step_unlock(&sim_files_lock);
		return -EBUSY;
	}
	list_del_init(&f->sim_list);
	step_unlock(&sim_files_lock);
	for (i = 0; i < f->sim_nr_pages; i++)
		file_drop_page(f, i);
	pthread_mutex_destroy(&f->sim_write_lock);
	kfree(f->slots);
	kfree(f->sim_disk);
	kfree(f->sim_shadow);
	kfree(f);
	return 0;
}

int sim_file_cache_page(struct address_space *f, unsigned long index, int nid)
{
	int err;

	if (!sim_file_valid(f) || index >= f->sim_nr_pages || nid < 0 ||
	    nid >= (int)machine.cfg.nr_nodes)
		return -EINVAL;
	err = page_cache_read(f, index, nid);
	return err == -EEXIST ? 0 : err;
}

long sim_file_pfn(struct address_space *f, unsigned long index)
{
	struct page *page;

	if (!sim_file_valid(f) || index >= f->sim_nr_pages)
		return -EINVAL;
	page = atomic_load(&f->slots[index]);
	return page ? (long)page_to_pfn(page) : -ENOENT;
}

int sim_file_read(struct address_space *f, unsigned long index, void *buf)
{
	struct page *page;
	int err;

	if (!sim_file_valid(f) || index >= f->sim_nr_pages || !buf)
		return -EINVAL;
retry:
	page = find_get_page(f, index);
	if (!page) {
		err = page_cache_read(f, index, 0);
		if (err && err != -EEXIST)
			return err;
		goto retry;
	}
	race_window(RW_FILE_READ_GOT);
	/*
	 * generic_file_buffered_read(): an uptodate page is copied with no
	 * lock and no look at page->mapping; only a page not yet uptodate is
	 * locked (and waited for), then checked.
	 */
	if (!PageUptodate(page)) {
		lock_page(page);
		if (page_mapping(page) != f || page->index != index) {
			unlock_page(page);
			put_page(page);
			goto retry;
		}
		unlock_page(page);
	}
	memcpy(buf, page_address(page), PAGE_SIZE);
	sim_trace("read(%s, page %lu) copies pfn %lu: '%c'...", f->sim_name,
		  index, page_to_pfn(page), printable(*(unsigned char *)buf));
	put_page(page);
	return 0;
}

long sim_file_writeback(struct address_space *f)
{
	unsigned long index;
	long written = 0;

	if (!sim_file_valid(f))
		return -EINVAL;
	for (index = 0; index < f->sim_nr_pages; index++) {
		struct page *page = find_get_page(f, index);

		if (!page)
			continue;
		lock_page(page);
		if (page_mapping(page) != f || !clear_page_dirty_for_io(page)) {
			unlock_page(page);
			put_page(page);
			continue;
		}
		/*
		 * write_cache_pages(), writepage(): PG_writeback, then the
		 * page is unlocked and the I/O runs on its own.  The bio
		 * names the page but holds no reference: nothing may free
		 * or reuse a page under writeback, which is why migration
		 * and exchange wait for it.
		 */
		SetPageWriteback(page);
		unlock_page(page);
		put_page(page);
		sim_trace("writeback of %s page %lu from pfn %lu starts",
			  f->sim_name, index, page_to_pfn(page));
		race_window(RW_WRITEBACK_IO);
		file_page_io(f, page);
		end_page_writeback(page);
		written++;
	}
	return written;
}

long sim_file_verify(struct address_space *f, bool report)
{
	unsigned char *buf;
	unsigned long index;
	long bad = 0;

	if (!sim_file_valid(f))
		return -EINVAL;
	buf = malloc(PAGE_SIZE);
	if (!buf)
		return -ENOMEM;
	for (index = 0; index < f->sim_nr_pages; index++) {
		const unsigned char *want = f->sim_shadow + (index << PAGE_SHIFT);
		const unsigned char *disk = f->sim_disk + (index << PAGE_SHIFT);
		struct page *page = atomic_load(&f->slots[index]);
		const char *what = NULL;
		unsigned long i;

		file_peek(f, index, buf);
		atomic_fetch_add(&activity.bytes_verified, PAGE_SIZE);
		if (memcmp(buf, want, PAGE_SIZE)) {
			what = page ? "its cached page" : "the disk";
		} else if ((!page || (!PageDirty(page) &&
				      !PageWriteback(page))) &&
			   memcmp(disk, want, PAGE_SIZE)) {
			what = "the disk, under a clean page,";
			memcpy(buf, disk, PAGE_SIZE);
		}
		if (!what)
			continue;
		bad++;
		for (i = 0; buf[i] == want[i]; i++)
			;
		if (report)
			sim_report("    file %s page %lu: byte %lu of %s reads "
				   "0x%02x '%c' but 0x%02x '%c' was written",
				   f->sim_name, index, i, what, buf[i],
				   printable(buf[i]), want[i],
				   printable(want[i]));
	}
	free(buf);
	return bad;
}

int sim_node_file_stats(int nid, unsigned long *file_pages,
			unsigned long *file_dirty)
{
	if (!machine.initialized || nid < 0 ||
	    nid >= (int)machine.cfg.nr_nodes)
		return -EINVAL;
	if (file_pages)
		*file_pages = (unsigned long)atomic_load(&node_stat.pages[nid]);
	if (file_dirty)
		*file_dirty = (unsigned long)atomic_load(&node_stat.dirty[nid]);
	return 0;
}

struct mm_struct *sim_process_map_file(const char *name,
				       struct address_space *f)
{
	struct mm_struct *mm;

	if (!name || !machine.initialized)
		return NULL;
	/*
	 * Find the file and count the new user in one step under
	 * sim_files_lock, which sim_file_destroy() decides under: from here
	 * the file cannot go.
	 */
	step_lock(&sim_files_lock);
	if (!f || !file_listed(f)) {
		step_unlock(&sim_files_lock);
		return NULL;
	}
	atomic_fetch_add(&f->sim_users, 1);
	step_unlock(&sim_files_lock);
	mm = mm_alloc(name, f->sim_nr_pages);
	if (!mm) {
		atomic_fetch_sub(&f->sim_users, 1);
		return NULL;
	}
	file_vma_link(&mm->vma, f);
	step_lock(&sim_mm_lock);
	list_add_tail(&mm->sim_list, &sim_mm_list);
	step_unlock(&sim_mm_lock);
	return mm;
}

/** Destroy every file (sim_exit()). */
static void sim_files_teardown(void)
{
	while (!list_empty(&sim_files)) {
		struct address_space *f = list_first_entry(&sim_files,
				struct address_space, sim_list);

		atomic_store(&f->sim_users, 0);
		if (sim_file_destroy(f)) {	/* a page still in use */
			step_lock(&sim_files_lock);
			list_del_init(&f->sim_list);
			step_unlock(&sim_files_lock);
		}
	}
	memset(&node_stat, 0, sizeof(node_stat));
}

/** @} */

/* ================================================================ */
/** \defgroup rbtree Red-black trees
 *
 * An intrusive red-black tree with the vocabulary of lib/rbtree.c
 * (rb_link_node, rb_insert_color, rb_erase, rb_first, rb_next).  KSM needs
 * an intrusive tree with an open-coded descent: it compares page contents
 * while walking down, may give up half way (a stale node), and links the
 * new node where the walk stopped.  Written from the textbook algorithm;
 * the colour is kept in the low bit of the parent pointer, as the kernel
 * does, so that an rb_node costs three words.
 * @{ */

#define RB_RED		0	/**< colour of a new node */
#define RB_BLACK	1	/**< colour of the root and of NULL leaves */

/** A node of a red-black tree, embedded in its owner. */
struct rb_node {
	unsigned long __rb_parent_color;	/**< parent | colour */
	struct rb_node *rb_right;		/**< greater subtree */
	struct rb_node *rb_left;		/**< lesser subtree */
};

/** A tree. */
struct rb_root {
	struct rb_node *rb_node;	/**< the root node, or NULL */
};

/** An empty tree. */
#define RB_ROOT		((struct rb_root){ NULL })
/**
 * Mark \a node as in no tree, by making it its own parent: after
 * rb_erase(), so that RB_EMPTY_NODE() can tell in O(1) (no walk of the
 * tree) whether a node is still in one.
 */
#define RB_CLEAR_NODE(node)	\
	((node)->__rb_parent_color = (unsigned long)(node))
/** Is \a node in no tree (cleared by RB_CLEAR_NODE())? */
#define RB_EMPTY_NODE(node)	\
	((node)->__rb_parent_color == (unsigned long)(node))
/** The structure containing tree node \a ptr. */
#define rb_entry(ptr, type, member) container_of(ptr, type, member)

/** Parent of \a n (NULL for the root). */
static inline struct rb_node *rb_parent(const struct rb_node *n)
{
	return (struct rb_node *)(n->__rb_parent_color & ~3UL);
}
/** Colour of \a n. */
static inline int rb_color(const struct rb_node *n)
{
	return n->__rb_parent_color & 1;
}
/** Is \a n a red node (NULL is not)? */
static inline bool rb_is_red(const struct rb_node *n)
{
	return n && rb_color(n) == RB_RED;
}
/** Is \a n black (NULL leaves are)? */
static inline bool rb_is_black(const struct rb_node *n)
{
	return !n || rb_color(n) == RB_BLACK;	/* NULL leaves are black */
}
/** Make \a p the parent of \a n, keeping its colour. */
static inline void rb_set_parent(struct rb_node *n, struct rb_node *p)
{
	n->__rb_parent_color = (n->__rb_parent_color & 3UL) | (unsigned long)p;
}
/** Colour \a n. */
static inline void rb_set_color(struct rb_node *n, int color)
{
	n->__rb_parent_color = (n->__rb_parent_color & ~1UL) | color;
}

/** Link \a node, red, at \a *link below \a parent; then rb_insert_color(). */
static inline void rb_link_node(struct rb_node *node, struct rb_node *parent,
				struct rb_node **link)
{
	node->__rb_parent_color = (unsigned long)parent;	/* red */
	node->rb_left = node->rb_right = NULL;
	*link = node;
}

/** Replace \a old by \a new as a child of \a parent (or as the root). */
static void rb_change_child(struct rb_node *old, struct rb_node *new,
			    struct rb_node *parent, struct rb_root *root)
{
	if (!parent)
		root->rb_node = new;
	else if (parent->rb_left == old)
		parent->rb_left = new;
	else
		parent->rb_right = new;
}

/** Rotate left around \a node: its right child takes its place. */
static void rb_rotate_left(struct rb_node *node, struct rb_root *root)
{
	struct rb_node *right = node->rb_right;
	struct rb_node *parent = rb_parent(node);

	node->rb_right = right->rb_left;
	if (right->rb_left)
		rb_set_parent(right->rb_left, node);
	right->rb_left = node;
	rb_set_parent(right, parent);
	rb_change_child(node, right, parent, root);
	rb_set_parent(node, right);
}

/** Rotate right around \a node: its left child takes its place. */
static void rb_rotate_right(struct rb_node *node, struct rb_root *root)
{
	struct rb_node *left = node->rb_left;
	struct rb_node *parent = rb_parent(node);

	node->rb_left = left->rb_right;
	if (left->rb_right)
		rb_set_parent(left->rb_right, node);
	left->rb_right = node;
	rb_set_parent(left, parent);
	rb_change_child(node, left, parent, root);
	rb_set_parent(node, left);
}

/**
 * Restore the red-black rules after linking the red \a node: while its
 * parent is red, either recolour (red uncle) or rotate (black uncle).
 */
static void rb_insert_color(struct rb_node *node, struct rb_root *root)
{
	struct rb_node *parent, *gparent, *uncle;

	while ((parent = rb_parent(node)) && rb_is_red(parent)) {
		gparent = rb_parent(parent);
		if (parent == gparent->rb_left) {
			uncle = gparent->rb_right;
			if (rb_is_red(uncle)) {
				rb_set_color(uncle, RB_BLACK);
				rb_set_color(parent, RB_BLACK);
				rb_set_color(gparent, RB_RED);
				node = gparent;
				continue;
			}
			if (parent->rb_right == node) {
				rb_rotate_left(parent, root);
				node = parent;
				parent = rb_parent(node);
			}
			rb_set_color(parent, RB_BLACK);
			rb_set_color(gparent, RB_RED);
			rb_rotate_right(gparent, root);
		} else {
			uncle = gparent->rb_left;
			if (rb_is_red(uncle)) {
				rb_set_color(uncle, RB_BLACK);
				rb_set_color(parent, RB_BLACK);
				rb_set_color(gparent, RB_RED);
				node = gparent;
				continue;
			}
			if (parent->rb_left == node) {
				rb_rotate_right(parent, root);
				node = parent;
				parent = rb_parent(node);
			}
			rb_set_color(parent, RB_BLACK);
			rb_set_color(gparent, RB_RED);
			rb_rotate_left(gparent, root);
		}
	}
	rb_set_color(root->rb_node, RB_BLACK);
}

/**
 * After removing a black node, \a node (possibly NULL) below \a parent is
 * one black short: push the deficit up, or fix it by rotation.
 */
static void rb_erase_color(struct rb_node *node, struct rb_node *parent,
			   struct rb_root *root)
{
	struct rb_node *sib;

	while (rb_is_black(node) && node != root->rb_node) {
		if (parent->rb_left == node) {
			sib = parent->rb_right;
			if (rb_is_red(sib)) {
				rb_set_color(sib, RB_BLACK);
				rb_set_color(parent, RB_RED);
				rb_rotate_left(parent, root);
				sib = parent->rb_right;
			}
			if (rb_is_black(sib->rb_left) &&
			    rb_is_black(sib->rb_right)) {
				rb_set_color(sib, RB_RED);
				node = parent;
				parent = rb_parent(node);
				continue;
			}
			if (rb_is_black(sib->rb_right)) {
				rb_set_color(sib->rb_left, RB_BLACK);
				rb_set_color(sib, RB_RED);
				rb_rotate_right(sib, root);
				sib = parent->rb_right;
			}
			rb_set_color(sib, rb_color(parent));
			rb_set_color(parent, RB_BLACK);
			rb_set_color(sib->rb_right, RB_BLACK);
			rb_rotate_left(parent, root);
		} else {
			sib = parent->rb_left;
			if (rb_is_red(sib)) {
				rb_set_color(sib, RB_BLACK);
				rb_set_color(parent, RB_RED);
				rb_rotate_right(parent, root);
				sib = parent->rb_left;
			}
			if (rb_is_black(sib->rb_left) &&
			    rb_is_black(sib->rb_right)) {
				rb_set_color(sib, RB_RED);
				node = parent;
				parent = rb_parent(node);
				continue;
			}
			if (rb_is_black(sib->rb_left)) {
				rb_set_color(sib->rb_right, RB_BLACK);
				rb_set_color(sib, RB_RED);
				rb_rotate_left(sib, root);
				sib = parent->rb_left;
			}
			rb_set_color(sib, rb_color(parent));
			rb_set_color(parent, RB_BLACK);
			rb_set_color(sib->rb_left, RB_BLACK);
			rb_rotate_right(parent, root);
		}
		node = root->rb_node;
		break;
	}
	if (node)
		rb_set_color(node, RB_BLACK);
}

/** Remove \a node from \a root. */
static void rb_erase(struct rb_node *node, struct rb_root *root)
{
	struct rb_node *child, *parent, *succ;
	int color;

	if (node->rb_left && node->rb_right) {
		/* Two children: the in-order successor takes node's place. */
		succ = node->rb_right;
		while (succ->rb_left)
			succ = succ->rb_left;
		child = succ->rb_right;
		parent = rb_parent(succ);
		color = rb_color(succ);
		if (parent == node) {
			parent = succ;
		} else {
			if (child)
				rb_set_parent(child, parent);
			parent->rb_left = child;
			succ->rb_right = node->rb_right;
			rb_set_parent(node->rb_right, succ);
		}
		rb_change_child(node, succ, rb_parent(node), root);
		succ->__rb_parent_color = node->__rb_parent_color;
		succ->rb_left = node->rb_left;
		rb_set_parent(node->rb_left, succ);
	} else {
		child = node->rb_left ? node->rb_left : node->rb_right;
		parent = rb_parent(node);
		color = rb_color(node);
		if (child)
			rb_set_parent(child, parent);
		rb_change_child(node, child, parent, root);
	}
	if (color == RB_BLACK)
		rb_erase_color(child, parent, root);
}

/** The first (leftmost) node of \a root, or NULL. */
static struct rb_node *rb_first(const struct rb_root *root)
{
	struct rb_node *n = root->rb_node;

	if (!n)
		return NULL;
	while (n->rb_left)
		n = n->rb_left;
	return n;
}

/** The in-order successor of \a node, or NULL. */
static struct rb_node *rb_next(const struct rb_node *node)
{
	struct rb_node *parent;

	if (node->rb_right) {
		node = node->rb_right;
		while (node->rb_left)
			node = node->rb_left;
		return (struct rb_node *)node;
	}
	while ((parent = rb_parent(node)) && node == parent->rb_right)
		node = parent;
	return parent;
}

/** @} */

/* ================================================================ */
/** \defgroup ksm KSM: the scanner, the two trees, the keyhole
 *
 * KSM in one page.  Processes mark areas MADV_MERGEABLE; ksmd walks them a
 * few pages at a time, and for each anonymous page asks: is there already
 * a KSM page with these contents?  KSM keeps two red-black trees, both
 * ordered by page contents (memcmp):
 *
 *  - the stable tree holds one stable_node per KSM page: a write-protected
 *    page that several ptes share.  Its contents cannot change, so the
 *    tree stays ordered.  The node lists, on its hlist, one rmap_item for
 *    each (mm, address) mapping the KSM page.
 *
 *  - the unstable tree holds rmap_items of pages that have not changed
 *    since ksmd's previous look at them (their checksum is the same) but
 *    are not yet merged.  Their contents may still change, so the tree is
 *    only approximately ordered; it is thrown away and rebuilt on every
 *    full scan, and a page is only merged after a byte compare under the
 *    page lock with its pte write-protected.
 *
 * For each page, cmp_and_merge_page(): search the stable tree; on a
 * match, map this pte to the KSM page (try_to_merge_with_ksm_page()).
 * Otherwise, if the page is volatile (checksum changed), just remember
 * the new checksum.  Otherwise search the unstable tree, inserting the
 * page if there is no match; on a match, turn this page into a KSM page,
 * map the other pte to it, and move both into a new stable node.  A write
 * to a KSM page faults and copies (do_wp_page()): that breaks the merge.
 *
 * The techniques, as seed 001's successors list them:
 *  1. checksum before insertion: volatile pages stay out of the trees;
 *  2. the unstable tree is rebuilt each full scan, so it need not be kept
 *     exact;
 *  3. the stable node finds its KSM page through a keyhole (get_ksm_page()):
 *     no reference, only a check that the page still names the node;
 *  4. the page lock of the KSM page protects the node's hlist;
 *  5. ksm_thread_mutex serializes everything that changes the trees.
 *
 * Counters, as Documentation/vm/ksm.txt defines them: pages_shared, KSM
 * pages in use; pages_sharing, how many more sites share them (how much
 * is saved); pages_unshared, pages unique but repeatedly checked (in the
 * unstable tree); pages_volatile, pages changing too fast to be placed in
 * a tree; full_scans, completed passes over all mergeable areas.
 * @{ */

/** rmap_item->address low bits, below PAGE_SIZE (PAGE_SIZE >= 1024). */
#define SEQNR_MASK	0x0ffUL	/**< low bits of unstable tree seqnr */
#define UNSTABLE_FLAG	0x100UL	/**< is a node of the unstable tree */
#define STABLE_FLAG	0x200UL	/**< is listed from the stable tree */
/** The page-aligned part of an address. */
#define PAGE_MASK	(~(PAGE_SIZE - 1))

/** ksm_run values. */
#define KSM_RUN_STOP	0	/**< ksmd does nothing */
#define KSM_RUN_MERGE	1	/**< ksmd scans and merges */
#define KSM_RUN_UNMERGE	2	/**< unmerge everything, then stop */
#define KSM_RUN_OFFLINE	4	/**< 2013: memory going offline, wait */

/** Events a stable node keeps, with CONFIG_DEBUG_VM, for its oops. */
#define NODE_EVENTS 8

/**
 * One thing that happened to a stable node (simulation only): a ring of
 * them is printed when a debug check fires on the node, so that the
 * report names the path, not only the place.  Relaxed atomics: actors
 * record without a common lock, and the ring is only a witness.
 */
struct node_event {
	_Atomic unsigned long seq;	/**< order among all events */
	_Atomic(const char *) what;	/**< what was done */
	_Atomic(const char *) actor;	/**< by whom */
	_Atomic unsigned long pfn;	/**< the frame it concerned */
};

/**
 * A stable node's history (simulation only, CONFIG_DEBUG_VM): its last
 * NODE_EVENTS events.  It lives just after the node, in the same
 * allocation, and only in nodes allocated while CONFIG_DEBUG_VM was on:
 * 260 bytes that a production build does not carry.
 */
struct node_history {
	struct node_event ring[NODE_EVENTS];	/**< the last events */
	_Atomic unsigned int nr;		/**< events ever recorded */
};

/**
 * struct stable_node - node of the stable rbtree.
 *
 * ksm_thread_mutex guards node; the KSM page's page lock guards hlist.
 * How the node names its page depends on the era (the union is tagged by
 * it; ksm_set_era() refuses to change era while nodes exist):
 *
 *   ERA_PINNED:   page, and the node holds a reference on it;
 *   ERA_KEYHOLE:  page, without a reference (seed 001);
 *   later eras:   kpfn, the page frame number (seed 004), which migration
 *                 rewrites (seed 000).
 *
 * 56 bytes on a 64-bit host: the kernel's 40 of 2013 (node, hlist, kpfn),
 * then the count of kpfn's moves that R8.aba needs, then 8 bytes of
 * simulation.  A node is in the stable tree exactly when it is not
 * RB_EMPTY_NODE(): it is RB_CLEAR_NODE()d from allocation to insertion
 * and again after rb_erase().
 */
struct stable_node {
	struct rb_node node;		/**< in root_stable_tree */
	struct hlist_head hlist;	/**< rmap_items using this KSM page */
	union {
		struct page *page;	/**< ERA_PINNED, ERA_KEYHOLE */
		_Atomic unsigned long kpfn; /**< ERA_HOTREMOVE and later */
	};
	_Atomic unsigned long kpfn_seq;	/**< moves of kpfn (ours, R8.aba) */
	/* simulation only: */
	unsigned int sim_id;		/**< for reports and timelines */
	bool sim_history;		/**< a struct node_history follows */
};

/**
 * struct rmap_item - reverse mapping item for one virtual address that
 * ksmd has seen as an anonymous page.  ksm_thread_mutex guards it; on a
 * stable node's hlist, the KSM page's lock guards the hlist linkage.
 * The union is tagged by the flags in address: UNSTABLE_FLAG, node is in
 * root_unstable_tree; STABLE_FLAG, head and hlist; neither, no tree.
 */
struct rmap_item {
	struct rmap_item *rmap_list;	/**< next in mm_slot's list, by address */
	struct anon_vma *anon_vma;	/**< held while STABLE_FLAG */
	struct mm_struct *mm;		/**< whose address this is */
	unsigned long address;		/**< + low bits used for flags above */
	unsigned int oldchecksum;	/**< the checksum at the previous look */
	union {
		struct rb_node node;	/**< UNSTABLE_FLAG */
		struct {		/**< STABLE_FLAG */
			struct stable_node *head;	/**< its node */
			struct hlist_node hlist;	/**< on head->hlist */
		};
	};
};

/**
 * struct mm_slot - KSM's record of a registered mm.  ksm_mmlist_lock
 * guards link and mm_list; ksmd alone walks rmap_list.
 */
struct mm_slot {
	struct hlist_node link;		/**< in mm_slots_hash */
	struct list_head mm_list;	/**< in ksm_mm_head's list */
	struct rmap_item *rmap_list;	/**< rmap_items, sorted by address */
	struct mm_struct *mm;		/**< the registered mm */
};

/**
 * struct ksm_scan - cursor for scanning: which mm_slot, which address,
 * where the next rmap_item goes, and seqnr, the number of completed full
 * scans (also stamped on unstable nodes).  Only ksmd uses it, under
 * ksm_thread_mutex; ksm_mmlist_lock guards moving mm_slot.
 */
struct ksm_scan {
	struct mm_slot *mm_slot;	/**< the mm being scanned */
	unsigned long address;		/**< next address to look at */
	struct rmap_item **rmap_list;	/**< link where the next item goes */
	_Atomic unsigned long seqnr;	/**< full scans completed */
};

/** The stable tree: one stable_node per KSM page, ordered by contents. */
static struct rb_root root_stable_tree __sim_state = RB_ROOT;
/** The unstable tree: rmap_items of unchanging pages; rebuilt per scan. */
static struct rb_root root_unstable_tree __sim_state = RB_ROOT;

/** Buckets of the mm -> mm_slot hash. */
#define MM_SLOTS_HASH_HEADS 1024
/** The mm -> mm_slot hash. */
static struct hlist_head mm_slots_hash[MM_SLOTS_HASH_HEADS] __sim_state;

/**
 * Registered mms.  The kernel asks list_empty(&ksm_mm_head.mm_list)
 * without ksm_mmlist_lock, accepting a stale answer; a count kept under
 * the lock and read atomically gives the same answer without a data race
 * that a sanitizer would rightly report.
 */
static _Atomic unsigned long ksm_nr_mm_slots __sim_state;

/** Head of the list of mm_slots; the scan starts and ends here. */
static struct mm_slot ksm_mm_head __sim_state = {
	.mm_list = { &ksm_mm_head.mm_list, &ksm_mm_head.mm_list },
};
/** The scan cursor. */
static struct ksm_scan ksm_scan __sim_state = { .mm_slot = &ksm_mm_head };
/** \cond */
static _Atomic unsigned long *sim_full_scans = &ksm_scan.seqnr;
/** \endcond */

/* The counters: ksm_thread_mutex serializes writers; sysfs reads racily. */
/** Nodes with rmap_items (pages_shared). */
static _Atomic unsigned long ksm_pages_shared __sim_state;
/** Further rmap_items on those nodes (pages_sharing). */
static _Atomic unsigned long ksm_pages_sharing __sim_state;
/** rmap_items in the unstable tree (pages_unshared). */
static _Atomic unsigned long ksm_pages_unshared __sim_state;
/** All rmap_items. */
static _Atomic unsigned long ksm_rmap_items __sim_state;
/** Nodes in the stable tree (declared with ksm_set_era()). */
static _Atomic unsigned long ksm_stable_nodes __sim_state;

/** pages_to_scan: pages per ksmd batch.  Default 100; cost ~linear. */
static _Atomic unsigned int ksm_thread_pages_to_scan __sim_state = 100;
/** sleep_millisecs: ksmd's sleep between batches.  Default 20. */
static _Atomic unsigned int ksm_thread_sleep_millisecs __sim_state = 20;
/** run: KSM_RUN_STOP (default), KSM_RUN_MERGE or KSM_RUN_UNMERGE. */
static _Atomic unsigned int ksm_run __sim_state = KSM_RUN_STOP;

/** Serializes every change to the trees, the scan and the counters. */
static struct mutex ksm_thread_mutex __sim_state =
	MUTEX_INIT("ksm_thread_mutex");
/** Guards the mm_slot list and hash. */
static spinlock_t ksm_mmlist_lock __sim_state = MUTEX_INIT("ksm_mmlist_lock");
/** ksmd sleeps on this key while it has nothing to do. */
static int ksm_thread_wait __sim_state;

/** Stable node numbering, for reports. */
static unsigned int sim_next_node_id __sim_state = 1;

/** Freed objects kept in quarantine before they are really freed. */
#define SIM_QUARANTINE	(1 << 16)

/**
 * A KASAN-style quarantine for freed stable nodes and rmap_items: freed
 * memory is kept (poisoned for AddressSanitizer) for the next
 * SIM_QUARANTINE frees, so that a use after free of a KSM object is a
 * report naming it (by the auditor, or by ASan) rather than a read of
 * reused memory.  Only ksmd frees these, under ksm_thread_mutex.
 */
static struct {
	unsigned long head;		/**< index of the oldest */
	unsigned long nr;		/**< how many are held */
} quarantine __sim_state;
/** Freed objects in quarantine, oldest at quarantine.head (state: a ring
 * of the snapshot). */
static void *quarantine_ring[SIM_QUARANTINE];


/**
 * Put a freed KSM object into quarantine (see quarantine), really freeing
 * the oldest one when it is full.
 */
static void sim_quarantine(void *p, size_t len)
{
	unsigned long slot;

	if (quarantine.nr == SIM_QUARANTINE) {
		void *old = quarantine_ring[quarantine.head];

		sim_asan_unpoison_block(old);
		kfree(old);
		quarantine.head = (quarantine.head + 1) % SIM_QUARANTINE;
		quarantine.nr--;
	}
	slot = (quarantine.head + quarantine.nr++) % SIM_QUARANTINE;
	snap_ring_touch(SNAP_RING_QUARANTINE, slot);
	quarantine_ring[slot] = p;
	sim_asan_poison(p, len);
}

/**
 * Was \a p freed, and is it still held in quarantine?  Never dereferences
 * it: the auditor and the debug checks ask this of pointers they distrust.
 */
static bool sim_quarantined(const void *p)
{
	unsigned long i;

	for (i = 0; i < quarantine.nr; i++)
		if (quarantine_ring[(quarantine.head + i) % SIM_QUARANTINE] == p)
			return true;
	return false;
}

/** A zeroed rmap_item (kmem_cache_zalloc), or NULL. */
static struct rmap_item *alloc_rmap_item(void)
{
	struct rmap_item *rmap_item;

	rmap_item = kzalloc_at(FAIL_RMAP_ITEM, sizeof(*rmap_item));
	if (rmap_item)
		ksm_rmap_items++;
	return rmap_item;
}

/** Free an rmap_item that is in no tree. */
static void free_rmap_item(struct rmap_item *rmap_item)
{
	ksm_rmap_items--;
	rmap_item->mm = NULL;	/* debug safety */
	sim_quarantine(rmap_item, sizeof(*rmap_item));
}

/** The history that follows \a stable_node, or NULL (see node_history). */
static inline struct node_history *
stable_node_history(struct stable_node *stable_node)
{
	return stable_node->sim_history ?
	       (struct node_history *)(stable_node + 1) : NULL;
}

/** Bytes of \a stable_node's allocation: the node, and its history. */
static inline size_t stable_node_bytes(const struct stable_node *stable_node)
{
	return sizeof(*stable_node) +
	       (stable_node->sim_history ? sizeof(struct node_history) : 0);
}

/**
 * A tracked word's value \a v as a timeline prints it: a stable node's
 * key in page->mapping by the node's id ("node 1's key"), an anonymous
 * mapping as such, and anything else in hex; never a host address, which
 * differs from run to run.  The node's id is read only if its memory is
 * not poison (freed, under ASan).
 */
static void sim_describe_word(unsigned long v, char *buf, size_t len)
{
	struct stable_node *node = (struct stable_node *)(v &
						~PAGE_MAPPING_FLAGS);

	if ((v & PAGE_MAPPING_FLAGS) == PAGE_MAPPING_FLAGS && node &&
	    !sim_asan_poisoned(node, sizeof(*node)))
		snprintf(buf, len, "node %u's key", node->sim_id);
	else if ((v & PAGE_MAPPING_FLAGS) == PAGE_MAPPING_FLAGS)
		snprintf(buf, len, "%s", node ? "a freed node's key" :
			 "KSM, no node");
	else if ((v & PAGE_MAPPING_FLAGS) == PAGE_MAPPING_ANON && node)
		snprintf(buf, len, "an anon_vma");
	else
		snprintf(buf, len, "%#lx", v);
}

/**
 * A new stable node with the next id, in no tree (RB_CLEAR_NODE()), or
 * NULL.  With CONFIG_DEBUG_VM its history comes with it.
 */
static struct stable_node *alloc_stable_node(void)
{
	struct stable_node *stable_node;
	bool history = sim_debug_vm;

	stable_node = kzalloc_at(FAIL_STABLE_NODE, sizeof(*stable_node) +
				 (history ? sizeof(struct node_history) : 0));
	if (!stable_node)
		return NULL;
	RB_CLEAR_NODE(&stable_node->node);
	stable_node->sim_id = sim_next_node_id++;
	stable_node->sim_history = history;
	return stable_node;
}

/**
 * Free a stable node that is in no tree: into quarantine, so that a page
 * still naming it is a use after free the auditor (or ASan) can name.
 */
static void free_stable_node(struct stable_node *stable_node)
{
	BUG_ON(!RB_EMPTY_NODE(&stable_node->node));
	sim_quarantine(stable_node, stable_node_bytes(stable_node));
}

/** A zeroed mm_slot, or NULL. */
static struct mm_slot *alloc_mm_slot(void)
{
	return kzalloc_at(FAIL_MM_SLOT, sizeof(struct mm_slot));
}

/** Free an unlinked mm_slot. */
static void free_mm_slot(struct mm_slot *mm_slot)
{
	kfree(mm_slot);
}

/** The mm_slots_hash bucket of \a mm. */
static struct hlist_head *mm_slot_bucket(struct mm_struct *mm)
{
	uintptr_t h = (uintptr_t)mm / sizeof(struct mm_struct);

	return &mm_slots_hash[h % MM_SLOTS_HASH_HEADS];
}

/** The mm_slot of \a mm, or NULL.  Caller holds ksm_mmlist_lock. */
static struct mm_slot *get_mm_slot(struct mm_struct *mm)
{
	struct hlist_node *node;

	for (node = mm_slot_bucket(mm)->first; node; node = node->next) {
		struct mm_slot *mm_slot = hlist_entry(node, struct mm_slot,
						      link);

		if (mm_slot->mm == mm)
			return mm_slot;
	}
	return NULL;
}

/** Hash \a mm_slot as \a mm's.  Caller holds ksm_mmlist_lock. */
static void insert_to_mm_slots_hash(struct mm_struct *mm,
				    struct mm_slot *mm_slot)
{
	mm_slot->mm = mm;
	hlist_add_head(&mm_slot->link, mm_slot_bucket(mm));
}

/** Is the rmap_item listed from a stable node? */
static inline bool in_stable_tree(struct rmap_item *rmap_item)
{
	return rmap_item->address & STABLE_FLAG;
}

/** The stable node of a KSM page, or NULL (also for a KSM page not yet in
 * the tree, whose mapping is just the two tag bits). */
static inline struct stable_node *page_stable_node(const struct page *page)
{
	return PageKsm(page) ? page_rmapping(page) : NULL;
}

/** Make \a page a KSM page of \a stable_node (NULL: not yet in a tree). */
static inline void set_page_stable_node(struct page *page,
					struct stable_node *stable_node)
{
	tracked_write(&page->mapping, (unsigned long)stable_node |
		      PAGE_MAPPING_ANON | PAGE_MAPPING_KSM);
}

/** The page a stable node names, in the eras that store a pointer or a
 * pfn without migration racing (everything before ERA_MIGRATION). */
static struct page *stable_node_page(struct stable_node *stable_node)
{
	if (era_since(ERA_HOTREMOVE))
		return pfn_to_page(tracked_read(&stable_node->kpfn));
	return stable_node->page;
}

/** Point \a stable_node at \a page, in the era's representation. */
static void set_stable_node_page(struct stable_node *stable_node,
				 struct page *page)
{
	if (era_since(ERA_HOTREMOVE))
		tracked_write(&stable_node->kpfn, page_to_pfn(page));
	else
		stable_node->page = page;
}

/**
 * Ours (R8.aba): count a move of \a stable_node's page, just before the
 * new kpfn is stored, under the page locks of both frames.  Comparing kpfn
 * alone, get_ksm_page() cannot tell "not moved" from "moved away and
 * back": with prompt reuse of freed frames, the second migration of a
 * page may well land in the frame the first one freed.  A seqcount's
 * writer side: the count, smp_wmb(), then kpfn; the reader's side is in
 * get_ksm_page() and stable_node_moved_since().
 */
static void stable_node_moved(struct stable_node *stable_node)
{
	if (!fix_on(FIX_KPFN_SEQ))
		return;
	WRITE_ONCE(stable_node->kpfn_seq,
		   tracked_read(&stable_node->kpfn_seq) + 1);
	smp_wmb();		/* the count before the new kpfn */
}

/** How stable_node_moved_since() found the page moved. */
enum node_moved {
	NODE_NOT_MOVED,		/**< kpfn and the count as they were */
	NODE_MOVED,		/**< kpfn names another frame (seed 000) */
	NODE_MOVED_BACK,	/**< kpfn the same, the count not (ours) */
};

/**
 * At stale: in get_ksm_page(), has \a stable_node's page moved since kpfn
 * read \a kpfn (and, ours, the count of moves read \a seq)?  Seed 000
 * compares kpfn (R8); ours compares the count as well (R8.aba), reading it
 * after kpfn, as a seqcount's reader does: the writer stored the count
 * before kpfn.  The kpfn read goes to *\a now.
 */
static enum node_moved stable_node_moved_since(struct stable_node *stable_node,
					       unsigned long kpfn,
					       unsigned long seq,
					       unsigned long *now)
{
	*now = READ_ONCE(stable_node->kpfn);
	if (*now != kpfn)
		return NODE_MOVED;
	if (!fix_on(FIX_KPFN_SEQ))
		return NODE_NOT_MOVED;
	smp_rmb();		/* kpfn before the count */
	return READ_ONCE(stable_node->kpfn_seq) != seq ? NODE_MOVED_BACK :
	       NODE_NOT_MOVED;
}

/** The pfn a stable node names (for reports and the auditor). */
static unsigned long stable_node_pfn(struct stable_node *stable_node)
{
	return page_to_pfn(stable_node_page(stable_node));
}

/** An rmap_item on a stable node takes a reference on its anon_vma. */
static void hold_anon_vma(struct rmap_item *rmap_item,
			  struct anon_vma *anon_vma)
{
	rmap_item->anon_vma = anon_vma;
	atomic_fetch_add(&anon_vma->ksm_refcount, 1);
}

/** ...and drops it, freeing the anon_vma if it was the last user. */
static void drop_anon_vma(struct rmap_item *rmap_item)
{
	struct anon_vma *anon_vma = rmap_item->anon_vma;
	bool empty;

	spin_lock(&anon_vma->lock);
	empty = atomic_fetch_sub(&anon_vma->ksm_refcount, 1) == 1 &&
		list_empty(&anon_vma->head);
	spin_unlock(&anon_vma->lock);
	if (empty)
		anon_vma_free(anon_vma);
}

/** Order of node_event()s, machine-wide. */
static _Atomic unsigned long sim_event_seq __sim_state;

/** The last memory hotplug events (any node's history is read with them). */
static struct {
	struct node_event ring[NODE_EVENTS];
	_Atomic unsigned int nr;
} hotplug_events __sim_state;

/** Record \a what, concerning \a pfn, in the ring \a ev of \a nr. */
static void event_record(struct node_event *ev, _Atomic unsigned int *nr,
			 const char *what, unsigned long pfn)
{
	const memory_order r = memory_order_relaxed;
	struct node_event *e = &ev[atomic_fetch_add_explicit(nr, 1, r) %
				   NODE_EVENTS];

	atomic_store_explicit(&e->seq, atomic_fetch_add_explicit(
				&sim_event_seq, 1, r) + 1, r);
	atomic_store_explicit(&e->what, what, r);
	atomic_store_explicit(&e->actor, sim_actor_name(), r);
	atomic_store_explicit(&e->pfn, pfn, r);
}

/**
 * With CONFIG_DEBUG_VM, note in \a stable_node's ring that \a what was
 * done to it, concerning frame \a pfn (simulation only).
 */
static void node_event(struct stable_node *stable_node, const char *what,
		       unsigned long pfn)
{
	struct node_history *h = stable_node_history(stable_node);

	if (h)
		event_record(h->ring, &h->nr, what, pfn);
}

/** Print a ring of events, oldest first, before an oops. */
static void events_print(const char *title, struct node_event *ev,
			 _Atomic unsigned int *nr)
{
	const memory_order r = memory_order_relaxed;
	unsigned int n = atomic_load_explicit(nr, r), i;

	fprintf(stderr, "%s:\n", title);
	for (i = n > NODE_EVENTS ? n - NODE_EVENTS : 0; i < n; i++) {
		struct node_event *e = &ev[i % NODE_EVENTS];

		fprintf(stderr, "  #%lu %s: %s, pfn %lu\n",
			atomic_load_explicit(&e->seq, r),
			atomic_load_explicit(&e->actor, r),
			atomic_load_explicit(&e->what, r),
			atomic_load_explicit(&e->pfn, r));
	}
}

/**
 * Print \a stable_node's history and the last hotplug events.  A node
 * that is not in the tree may have been freed: its memory is read only
 * while the quarantine still holds it (made readable again for ASan: the
 * caller is about to oops anyway).
 */
static void node_history(struct stable_node *stable_node, bool in_tree)
{
	char title[64];

	if (!in_tree) {
		if (!sim_quarantined(stable_node)) {
			fprintf(stderr, "a stable node not in the tree, nor in "
				"quarantine (freed long ago): no history to "
				"read\n");
			return;
		}
		sim_asan_unpoison_block(stable_node);
	}

	snprintf(title, sizeof(title), "stable node %u, page at pfn %lu",
		 stable_node->sim_id, stable_node_pfn(stable_node));
	if (stable_node_history(stable_node))
		events_print(title, stable_node_history(stable_node)->ring,
			     &stable_node_history(stable_node)->nr);
	else
		fprintf(stderr, "%s: allocated without CONFIG_DEBUG_VM, no "
			"history\n", title);
	events_print("memory hotplug", hotplug_events.ring, &hotplug_events.nr);
}

/**
 * The reference count of frame \a pfn if it is online and carries \a key
 * in page->mapping, else 0.  Caller holds zone_lock.
 */
static int keyed_page_count(unsigned long pfn, unsigned long key)
{
	struct page *page;

	if (pfn >= machine.max_pfn ||
	    !machine.sections[pfn_to_section_nr(pfn)].online)
		return 0;
	page = pfn_to_page(pfn);
	return atomic_load(&page->mapping) == key ? page_count(page) : 0;
}

/**
 * With CONFIG_DEBUG_VM, oops if a referenced page still carries \a
 * stable_node's key: the node is being removed (\a where) while its KSM
 * page lives, so the next look at that page would find a node that is
 * not in the tree.  Where can such a page be?  Only in a frame the node
 * has named: the one kpfn names now, or one its history names (where it
 * was inserted, where migration or exchange moved it).  So those frames
 * are looked at, O(NODE_EVENTS), not the whole memmap: the two bugs this
 * check found (R8.aba, R5.twice) left the page in the frame kpfn names.
 * zone_lock holds the sections still: no section goes offline (or comes
 * online) while it is held, so every memmap read is mapped.  Plain loads,
 * not tracked ones: the check must not be a scheduling point.
 */
static void stable_node_check_dead(struct stable_node *stable_node,
				   const char *where)
{
	unsigned long key = (unsigned long)stable_node | PAGE_MAPPING_ANON |
			    PAGE_MAPPING_KSM;
	struct node_history *h = stable_node_history(stable_node);
	unsigned long found;
	char what[128];
	int count, i;

	if (!sim_debug_vm || !era_since(ERA_HOTREMOVE))
		return;
	step_lock(&zone_lock);
	found = atomic_load(&stable_node->kpfn);
	count = keyed_page_count(found, key);
	for (i = 0; h && i < NODE_EVENTS && !count; i++) {
		found = atomic_load_explicit(&h->ring[i].pfn,
					     memory_order_relaxed);
		count = keyed_page_count(found, key);
	}
	step_unlock(&zone_lock);
	if (!count)
		return;
	node_history(stable_node, true);
	snprintf(what, sizeof(what), "stable node %u removed while its KSM "
		 "page at pfn %lu lives (count %d)", stable_node->sim_id,
		 found, count);
	sim_oops(where, what);
}

/**
 * With CONFIG_DEBUG_VM (sim_set_debug_vm()), oops if \a stable_node is not
 * in the stable tree.  Removing a node twice, or appending to a removed
 * one, would leave the counters and the tree disagreeing with nobody the
 * wiser: the soak and a ThreadSanitizer stress saw such disagreements,
 * which this check and stable_node_check_dead() traced to R8.aba and
 * R5.twice.  O(1), the kernel's idiom: a node out of the tree is
 * RB_CLEAR_NODE()d.  A freed node is too, until it is reused; under ASan
 * its memory is poison, which says "freed" without reading it.  Off in
 * the race examples unless --debug-vm, like the kernel's check: the races
 * with a fix off show their harm, not this oops.
 */
static void stable_node_check(struct stable_node *stable_node,
			      const char *where)
{
	if (!sim_debug_vm)
		return;
	if (!sim_asan_poisoned(stable_node, sizeof(*stable_node)) &&
	    !RB_EMPTY_NODE(&stable_node->node))
		return;
	node_history(stable_node, false);
	sim_oops(where, "a stable node that is not in the stable tree");
}

/**
 * Remove a stable node from the tree, with the rmap_items on it: they
 * lose STABLE_FLAG, and the counters their share.  The rmap_items stay
 * on their mm_slot lists, to be looked at afresh on the next scan.
 * Caller holds ksm_thread_mutex (or has locked ksmd out).
 */
static void remove_node_from_stable_tree(struct stable_node *stable_node)
{
	struct hlist_node *pos;

	stable_node_check(stable_node, "remove_node_from_stable_tree");
	for (pos = stable_node->hlist.first; pos; pos = pos->next) {
		struct rmap_item *rmap_item = hlist_entry(pos,
						struct rmap_item, hlist);

		if (rmap_item->hlist.next)
			ksm_pages_sharing--;
		else
			ksm_pages_shared--;
		drop_anon_vma(rmap_item);
		rmap_item->address &= PAGE_MASK;
	}
	sim_trace("remove stable node %u (pfn %lu) from the tree",
		  stable_node->sim_id, stable_node_pfn(stable_node));
	node_event(stable_node, "removed from the tree",
		   stable_node_pfn(stable_node));
	rb_erase(&stable_node->node, &root_stable_tree);
	RB_CLEAR_NODE(&stable_node->node);
	ksm_stable_nodes--;
	free_stable_node(stable_node);
}

/**
 * get_ksm_page: checks if the page indicated by the stable node is still
 * its KSM page, despite having held no reference to it.  If so, returns
 * the page with a reference (and locked, if \a locked); if the page has
 * gone, removes the stale node from the tree and returns NULL.  But
 * beware, the stable node's page might be being migrated.
 *
 * You would expect the stable node to hold a reference to the KSM page.
 * But if it did, swapping out would have to wait for ksmd to come round
 * to the page's last rmap_item before the page could be freed: seconds or
 * minutes later (R1, the "lamentable flaw" of seed 001).  So instead the
 * node keeps a keyhole reference: it remembers which struct page (or pfn)
 * the KSM page is, without holding it, and peeps through to check that
 * page->mapping still holds the key, a pointer back to this node with
 * PAGE_MAPPING_ANON|PAGE_MAPPING_KSM.  That relies on freeing an
 * anonymous page to reset its mapping to NULL (__free_page()), on nothing
 * else ever storing something that looks like our key in page->mapping,
 * and on struct pages being "more stable" than kmalloc'ed objects: they
 * are never freed, only reused by particular rules - except by memory
 * hot-remove, hence kpfn and pruning (seed 004, R5).
 *
 * Caller holds ksm_thread_mutex.  The lines of each seed are marked; each
 * has its fix switch (enum ksm_fix).
 */
static struct page *get_ksm_page(struct stable_node *stable_node, bool locked)
{
	unsigned long expected_mapping = (unsigned long)stable_node |
		PAGE_MAPPING_ANON | PAGE_MAPPING_KSM;
	unsigned long kpfn = 0, seq = 0, now;
	enum node_moved moved;
	struct page *page;

again:
	if (era_since(ERA_MIGRATION)) {
		/* Seed 000: reread kpfn, once, on every try. */
		race_window(RW_GET_KSM_PAGE_AGAIN);
		/* Ours (R8.aba): and how often it has moved, before it. */
		if (fix_on(FIX_KPFN_SEQ)) {
			seq = READ_ONCE(stable_node->kpfn_seq);
			smp_rmb();	/* the count before kpfn */
		}
		kpfn = READ_ONCE(stable_node->kpfn);
		sim_trace_take(&stable_node->kpfn, kpfn, false);
		page = pfn_to_page(kpfn);
		sim_addr_dep();
		/*
		 * page is computed from kpfn, so on most architectures
		 * reading page->mapping is naturally ordered after reading
		 * node->kpfn, but on Alpha we need to be more careful (R11).
		 */
		if (fix_on(FIX_DEP_BARRIER))
			smp_read_barrier_depends();
	} else {
		/* Seed 001: stable_node->page; seed 004: pfn_to_page(kpfn). */
		page = stable_node_page(stable_node);
	}
	sim_trace("get_ksm_page(node %u): looks at pfn %lu",
		  stable_node->sim_id, page_to_pfn(page));
	race_window(RW_GET_KSM_PAGE_LOOK);

	/* [keyhole] */
	/* Seed 001: peep through the keyhole before touching the count. */
	if (!fix_on(FIX_KEYHOLE_CHECK))
		sim_trace("get_ksm_page(node %u): does not look at pfn %lu's "
			  "mapping (keyhole_check off)", stable_node->sim_id,
			  page_to_pfn(page));
	else if (READ_ONCE(page->mapping) != expected_mapping)
		goto stale;
	else
		sim_trace("get_ksm_page(node %u): pfn %lu's mapping is the key",
			  stable_node->sim_id, page_to_pfn(page));
	race_window(RW_GET_KSM_PAGE_PEEKED);

	/*
	 * Seed 001: a speculative reference, which fails on a free page.
	 * Without it (FIX_KEYHOLE_GPUZ off) the count of a page that was
	 * freed meanwhile would be raised from zero, as get_page() does when
	 * CONFIG_DEBUG_VM is off: the allocator's checks see the wreck.
	 */
	if (!fix_on(FIX_KEYHOLE_GPUZ)) {
		atomic_fetch_add(&page->_count, 1);
		sim_trace("get_ksm_page(node %u): get_page() on pfn %lu, its "
			  "count not looked at (keyhole_gpuz off)",
			  stable_node->sim_id, page_to_pfn(page));
	} else while (!get_page_unless_zero(page)) {
		/*
		 * Seed 000 (R9): a count of zero usually means the page is
		 * free, or frozen by __remove_mapping() on its way to being
		 * freed: the node is stale.  But a swap cache page is also
		 * frozen by migrate_page_move_mapping(), and then it is
		 * still ours: spin until it is unfrozen.  (Testing mapping
		 * again would work too; !PageSwapCache is cheaper for the
		 * common case, as __remove_mapping() clears PG_swapcache
		 * inside its frozen section, long before the free resets
		 * mapping.)
		 */
		if (!era_since(ERA_MIGRATION) || !fix_on(FIX_SWAPCACHE_SPIN) ||
		    !PageSwapCache(page))
			goto stale;
		cpu_relax();
	}
	if (fix_on(FIX_KEYHOLE_GPUZ))
		sim_trace("get_ksm_page(node %u): holds a reference on pfn "
			  "%lu (count %d)", stable_node->sim_id,
			  page_to_pfn(page), page_count(page));
	race_window(RW_GET_KSM_PAGE_GOT);

	/* Seed 001: the frame may have been freed and reused meanwhile. */
	if (!fix_on(FIX_KEYHOLE_RECHECK))
		sim_trace("get_ksm_page(node %u): does not look at pfn %lu's "
			  "mapping again (keyhole_recheck off)",
			  stable_node->sim_id, page_to_pfn(page));
	else if (READ_ONCE(page->mapping) != expected_mapping) {
		sim_trace("get_ksm_page(node %u): recheck: pfn %lu's mapping "
			  "is no longer the key", stable_node->sim_id,
			  page_to_pfn(page));
		put_page(page);
		goto stale;
	}
	/* [keyhole] */

	if (locked) {
		sim_trace("get_ksm_page(node %u): lock_page(pfn %lu)",
			  stable_node->sim_id, page_to_pfn(page));
		lock_page(page);
		race_window(RW_GET_KSM_PAGE_LOCKED);
		/* Seeds 001/000: the page may have gone while we slept. */
		if (fix_on(FIX_KEYHOLE_LOCK_RECHECK) &&
		    READ_ONCE(page->mapping) != expected_mapping) {
			unlock_page(page);
			put_page(page);
			goto stale;
		}
	}
	sim_trace("get_ksm_page(node %u): returns pfn %lu as its KSM page%s",
		  stable_node->sim_id, page_to_pfn(page),
		  locked ? ", locked" : "");
	return page;

	/* [stale] */
stale:
	sim_trace("get_ksm_page(node %u): pfn %lu no longer names it: stale?",
		  stable_node->sim_id, page_to_pfn(page));
	race_window(RW_GET_KSM_PAGE_STALE);
	if (era_since(ERA_MIGRATION)) {
		/*
		 * Seed 000: we come here when page->mapping or !PageSwapCache
		 * suggests that the node is stale; but it might be under
		 * migration.  We need smp_rmb(), matching the smp_wmb() in
		 * ksm_migrate_page(), before checking whether node->kpfn has
		 * been changed (R10); and if it has, try the new page (R8).
		 * Ours (R8.aba): kpfn may be back where it was after two
		 * moves, so compare the count of moves as well.
		 */
		if (fix_on(FIX_RMB))
			smp_rmb();
		if (fix_on(FIX_KPFN_RECHECK) &&
		    (moved = stable_node_moved_since(stable_node, kpfn, seq,
						     &now))) {
			if (moved == NODE_MOVED)
				sim_trace("get_ksm_page(node %u): kpfn moved "
					  "(%lu to %lu): again",
					  stable_node->sim_id, kpfn, now);
			else
				sim_trace("get_ksm_page(node %u): kpfn is %lu "
					  "again, but the count of its moves "
					  "changed: again", stable_node->sim_id,
					  kpfn);
			goto again;
		}
	}
	/* Seed 001: the page has gone, so the node must go too (R3). */
	if (fix_on(FIX_KEYHOLE_PRUNE)) {
		stable_node_check_dead(stable_node, "get_ksm_page");
		remove_node_from_stable_tree(stable_node);
	}
	return NULL;
	/* [stale] */
}

/**
 * Remove an rmap_item from whichever tree it is in, fixing the counters.
 * Caller holds ksm_thread_mutex.
 */
static void remove_rmap_item_from_tree(struct rmap_item *rmap_item)
{
	if (rmap_item->address & STABLE_FLAG) {
		struct stable_node *stable_node = rmap_item->head;
		struct page *page;

		if (ksm_era == ERA_PINNED) {
			/*
			 * Before seed 001: the node pins its page, so no
			 * keyhole is needed; and the node dies with its last
			 * rmap_item, which is the only thing that lets its
			 * page go (R1).
			 */
			page = stable_node->page;
			lock_page(page);
			hlist_del(&rmap_item->hlist);
			if (!hlist_empty(&stable_node->hlist)) {
				ksm_pages_sharing--;
				unlock_page(page);
			} else {
				ksm_pages_shared--;
				set_page_stable_node(page, NULL);
				rb_erase(&stable_node->node, &root_stable_tree);
				RB_CLEAR_NODE(&stable_node->node);
				ksm_stable_nodes--;
				free_stable_node(stable_node);
				unlock_page(page);
				sim_trace("last rmap_item gone: unpin pfn %lu",
					  page_to_pfn(page));
				put_page(page);		/* the pin */
			}
			goto done;
		}

		page = get_ksm_page(stable_node, true);
		if (!page)
			goto out;
		hlist_del(&rmap_item->hlist);
		if (stable_node->hlist.first) {
			ksm_pages_sharing--;
		} else {
			ksm_pages_shared--;
			/*
			 * Seed 001: the node must outlive its page, which may
			 * still be mapped by a forked child or sit in the swap
			 * cache, naming the node.  Freeing the node here, as
			 * the pinned design did, leaves the page naming freed
			 * memory (R3).
			 */
			if (!fix_on(FIX_KEYHOLE_NODE_LIFE)) {
				sim_trace("remove_rmap_item_from_tree: node %u "
					  "freed with its last rmap_item, pfn "
					  "%lu still its page (keyhole_node_life "
					  "off)", stable_node->sim_id,
					  page_to_pfn(page));
				node_event(stable_node, "freed with its last "
					   "rmap_item", page_to_pfn(page));
				rb_erase(&stable_node->node, &root_stable_tree);
				RB_CLEAR_NODE(&stable_node->node);
				ksm_stable_nodes--;
				free_stable_node(stable_node);
			}
		}
		unlock_page(page);
		put_page(page);
done:
		drop_anon_vma(rmap_item);
		rmap_item->address &= PAGE_MASK;

	} else if (rmap_item->address & UNSTABLE_FLAG) {
		unsigned char age;
		/*
		 * Usually ksmd can and must skip the rb_erase, because
		 * root_unstable_tree was already reset to RB_ROOT.  But be
		 * careful when an mm is exiting: do the rb_erase if this
		 * rmap_item was inserted by this scan, rather than left over
		 * from before.
		 */
		age = (unsigned char)(ksm_scan.seqnr - rmap_item->address);
		BUG_ON(age > 1);
		if (!age)
			rb_erase(&rmap_item->node, &root_unstable_tree);
		ksm_pages_unshared--;
		rmap_item->address &= PAGE_MASK;
	}
out:
	;
}

/** Remove and free the rmap_items from \a *rmap_list on. */
static void remove_trailing_rmap_items(struct mm_slot *mm_slot,
				       struct rmap_item **rmap_list)
{
	(void)mm_slot;
	while (*rmap_list) {
		struct rmap_item *rmap_item = *rmap_list;

		*rmap_list = rmap_item->rmap_list;
		remove_rmap_item_from_tree(rmap_item);
		free_rmap_item(rmap_item);
	}
}

/**
 * The page mapped at \a address, with a reference, or NULL
 * (follow_page(vma, address, FOLL_GET)).  Caller holds mmap_sem.
 */
static struct page *follow_page(struct vm_area_struct *vma,
				unsigned long address)
{
	struct mm_struct *mm = vma->vm_mm;
	struct page *page = NULL;
	pte_t pte;

	spin_lock(&mm->page_table_lock);
	if (mm->pgd) {
		pte = *pte_offset(mm, address);
		if (pte_present(pte)) {
			page = pfn_to_page(pte_pfn(pte));
			get_page(page);
		}
	}
	spin_unlock(&mm->page_table_lock);
	return page;
}

/**
 * Break copy-on-write on a KSM page mapped at \a addr, by faulting as a
 * write would (break_ksm()).  Caller holds mmap_sem.
 */
static int break_ksm(struct vm_area_struct *vma, unsigned long addr)
{
	struct page *page;
	bool ksm;
	int err;

	do {
		page = follow_page(vma, addr);
		if (!page)
			return 0;
		ksm = PageKsm(page);
		put_page(page);
		if (!ksm)
			return 0;
		err = handle_mm_fault(vma->vm_mm, addr, true);
		if (err)
			return err;
	} while (1);
}

/** Undo a merge: the rmap_item's pte gets a private copy (break_cow()). */
static void break_cow(struct rmap_item *rmap_item)
{
	struct mm_struct *mm = rmap_item->mm;
	unsigned long addr = rmap_item->address & PAGE_MASK;
	struct vm_area_struct *vma;

	/*
	 * It is not an accident that whenever we want to break COW to undo,
	 * we also need to drop a reference to the anon_vma.
	 */
	drop_anon_vma(rmap_item);
	down_read(&mm->mmap_sem);
	if (ksm_test_exit(mm))
		goto out;
	vma = find_vma(mm, addr);
	if (!vma || vma->vm_start > addr)
		goto out;
	if (!(vma->vm_flags & VM_MERGEABLE) || !vma->anon_vma)
		goto out;
	break_ksm(vma, addr);
out:
	up_read(&mm->mmap_sem);
}

/** The anonymous page at an unstable rmap_item's address, referenced. */
static struct page *get_mergeable_page(struct rmap_item *rmap_item)
{
	struct mm_struct *mm = rmap_item->mm;
	unsigned long addr = rmap_item->address & PAGE_MASK;
	struct vm_area_struct *vma;
	struct page *page = NULL;

	down_read(&mm->mmap_sem);
	if (ksm_test_exit(mm))
		goto out;
	vma = find_vma(mm, addr);
	if (!vma || vma->vm_start > addr)
		goto out;
	if (!(vma->vm_flags & VM_MERGEABLE) || !vma->anon_vma)
		goto out;
	page = follow_page(vma, addr);
	if (page && !PageAnon(page)) {
		put_page(page);
		page = NULL;
	}
out:
	up_read(&mm->mmap_sem);
	return page;
}

/**
 * MADV_UNMERGEABLE: break every KSM page in [start, end).  The rmap_items
 * are left for ksmd to clean up.  Caller holds mmap_sem.
 */
static int unmerge_ksm_pages(struct vm_area_struct *vma, unsigned long start,
			     unsigned long end)
{
	unsigned long addr;
	int err = 0;

	for (addr = start; addr < end && !err; addr += PAGE_SIZE) {
		if (ksm_test_exit(vma->vm_mm))
			break;
		err = break_ksm(vma, addr);
	}
	return err;
}

/**
 * run=2: unmerge every KSM page and forget every rmap_item, leaving the
 * mms registered.  Caller holds ksm_thread_mutex.
 */
static int unmerge_and_remove_all_rmap_items(void)
{
	struct mm_slot *mm_slot;
	struct mm_struct *mm;
	int err = 0;

	spin_lock(&ksm_mmlist_lock);
	ksm_scan.mm_slot = list_entry(ksm_mm_head.mm_list.next,
				      struct mm_slot, mm_list);
	spin_unlock(&ksm_mmlist_lock);

	for (mm_slot = ksm_scan.mm_slot; mm_slot != &ksm_mm_head;
	     mm_slot = ksm_scan.mm_slot) {
		mm = mm_slot->mm;
		down_read(&mm->mmap_sem);
		if (!ksm_test_exit(mm) && (mm->vma.vm_flags & VM_MERGEABLE) &&
		    mm->vma.anon_vma)
			err = unmerge_ksm_pages(&mm->vma, mm->vma.vm_start,
						mm->vma.vm_end);
		if (err) {
			up_read(&mm->mmap_sem);
			spin_lock(&ksm_mmlist_lock);
			ksm_scan.mm_slot = &ksm_mm_head;
			spin_unlock(&ksm_mmlist_lock);
			return err;
		}
		remove_trailing_rmap_items(mm_slot, &mm_slot->rmap_list);
		/* up_read() early: see scan_get_next_rmap_item() (2016). */
		up_read(&mm->mmap_sem);

		spin_lock(&ksm_mmlist_lock);
		ksm_scan.mm_slot = list_entry(mm_slot->mm_list.next,
					      struct mm_slot, mm_list);
		if (ksm_test_exit(mm)) {
			hlist_del(&mm_slot->link);
			ksm_nr_mm_slots--;
			list_del_init(&mm_slot->mm_list);
			spin_unlock(&ksm_mmlist_lock);
			free_mm_slot(mm_slot);
			atomic_fetch_and(&mm->flags, ~(1UL << MMF_VM_MERGEABLE));
			mmdrop(mm);
		} else {
			spin_unlock(&ksm_mmlist_lock);
		}
	}
	ksm_scan.seqnr = 0;
	return 0;
}

/**
 * A checksum of the page's bytes (jhash2 in the kernel): any good hash
 * will do.  Four independent lanes keep the CPU busy; the result folds
 * to 32 bits, as the kernel's u32.  Reads the page racily, as the kernel
 * does: a process may be writing it, which is what the checksum is for.
 */
SIM_RACY_READS
static unsigned int calc_checksum(struct page *page)
{
	const uint64_t *p = (const uint64_t *)page_address(page);
	uint64_t a = 17, b = 0x9e3779b97f4a7c15ull, c = 0, d = 0;
	size_t i, n = PAGE_SIZE / sizeof(uint64_t);

	for (i = 0; i < n; i += 4) {
		a = (a ^ p[i]) * 0xff51afd7ed558ccdull;
		b = (b ^ p[i + 1]) * 0xc4ceb9fe1a85ec53ull;
		c = (c ^ p[i + 2]) * 0xff51afd7ed558ccdull;
		d = (d ^ p[i + 3]) * 0xc4ceb9fe1a85ec53ull;
		a ^= a >> 29;
		b ^= b >> 31;
		c ^= c >> 29;
		d ^= d >> 31;
	}
	a ^= b * 31 + c * 7 + d;
	a ^= a >> 32;
	return (unsigned int)a;
}

/** Compare two pages' bytes, as memcmp() would (racily, see above). */
SIM_RACY_READS
static int memcmp_pages(struct page *page1, struct page *page2)
{
	const uint64_t *a = (const uint64_t *)page_address(page1);
	const uint64_t *b = (const uint64_t *)page_address(page2);
	size_t i, n = PAGE_SIZE / sizeof(uint64_t);

	for (i = 0; i < n; i++) {
		if (a[i] != b[i]) {
			uint64_t x = __builtin_bswap64(a[i]);
			uint64_t y = __builtin_bswap64(b[i]);

			return x < y ? -1 : 1;
		}
	}
	return 0;
}

/** Do two pages hold the same bytes? */
static inline bool pages_identical(struct page *page1, struct page *page2)
{
	return !memcmp_pages(page1, page2);
}

/** Address of anonymous \a page in \a vma, or 0 if it cannot be there. */
static unsigned long page_address_in_vma(struct page *page,
					 struct vm_area_struct *vma)
{
	if (page_anon_vma(page) != vma->anon_vma || !vma->anon_vma)
		return 0;
	if (page->index >= (vma->vm_end - vma->vm_start) >> PAGE_SHIFT)
		return 0;
	return vma->vm_start + (page->index << PAGE_SHIFT);
}

/**
 * Write-protect \a page's pte in \a vma, and check that nobody but its
 * mappers (and the swap cache) holds a reference: an extra reference may
 * be a get_user_pages() about to write it behind our back.  The pte is
 * cleared while checking, so that no new such reference can be taken.
 * Caller holds the page lock and mmap_sem.  Returns 0 with *orig_pte set.
 */
static int write_protect_page(struct vm_area_struct *vma, struct page *page,
			      pte_t *orig_pte)
{
	struct mm_struct *mm = vma->vm_mm;
	unsigned long addr = page_address_in_vma(page, vma);
	pte_t *ptep, entry;
	int swapped, err = -EFAULT;

	if (!addr)
		return -EFAULT;
	ptep = page_check_address(page, mm, addr);
	if (!ptep)
		return -EFAULT;
	if (pte_write(*ptep)) {
		swapped = PageSwapCache(page);
		entry = *ptep;
		*ptep = 0;				/* ptep_clear_flush() */
		if (page_mapcount(page) + 1 + swapped != page_count(page)) {
			*ptep = entry;
			goto out_unlock;
		}
		*ptep = pte_wrprotect(entry);
	}
	*orig_pte = *ptep;
	err = 0;
out_unlock:
	spin_unlock(&mm->page_table_lock);
	return err;
}

/**
 * Replace \a page, mapped by the pte \a orig_pte in \a vma, with the KSM
 * page \a kpage, read-only.  Caller holds mmap_sem and the page lock.
 */
static int replace_page(struct vm_area_struct *vma, struct page *page,
			struct page *kpage, pte_t orig_pte)
{
	struct mm_struct *mm = vma->vm_mm;
	unsigned long addr = page_address_in_vma(page, vma);
	pte_t *ptep;

	if (!addr)
		return -EFAULT;
	spin_lock(&mm->page_table_lock);
	ptep = pte_offset(mm, addr);
	if (!pte_same(*ptep, orig_pte)) {
		spin_unlock(&mm->page_table_lock);
		return -EFAULT;
	}
	get_page(kpage);
	page_add_anon_rmap(kpage, vma, addr);
	*ptep = mk_pte(kpage, false);
	page_remove_rmap(page);
	put_page(page);
	spin_unlock(&mm->page_table_lock);
	sim_trace("%s page %lu: merged: pte maps pfn %lu, not pfn %lu",
		  mm->sim_name, linear_page_index(vma, addr),
		  page_to_pfn(kpage), page_to_pfn(page));
	return 0;
}

/**
 * Merge \a page into \a kpage (or, with kpage NULL, turn \a page itself
 * into a KSM page not yet in a tree).  Caller holds mmap_sem.
 */
static int try_to_merge_one_page(struct vm_area_struct *vma,
				 struct page *page, struct page *kpage)
{
	pte_t orig_pte = 0;
	int err = -EFAULT;

	if (page == kpage)			/* ksm page forked */
		return 0;
	if (!(vma->vm_flags & VM_MERGEABLE))
		return err;
	if (!PageAnon(page))
		return err;
	/*
	 * We need the page lock to read a stable PageSwapCache in
	 * write_protect_page().  trylock, not lock: we prefer to continue
	 * scanning and merging other pages, and come back to this one.
	 */
	if (!trylock_page(page))
		return err;
	if (write_protect_page(vma, page, &orig_pte) == 0) {
		if (!kpage) {
			/*
			 * While we hold the page lock, upgrade the page from
			 * PageAnon+anon_vma to PageKsm+NULL stable_node:
			 * stable_tree_insert() will update stable_node.
			 */
			set_page_stable_node(page, NULL);
			err = 0;
		} else if (pages_identical(page, kpage)) {
			err = replace_page(vma, page, kpage, orig_pte);
			if (!err)
				atomic_fetch_add(&activity.merges, 1);
		} else {
			sim_trace("pfn %lu changed since it matched pfn %lu: "
				  "not merged", page_to_pfn(page),
				  page_to_pfn(kpage));
		}
	}
	unlock_page(page);
	return err;
}

/**
 * Merge the page of \a rmap_item into \a kpage; on success the rmap_item
 * holds its vma's anon_vma.
 */
static int try_to_merge_with_ksm_page(struct rmap_item *rmap_item,
				      struct page *page, struct page *kpage)
{
	struct mm_struct *mm = rmap_item->mm;
	struct vm_area_struct *vma;
	int err = -EFAULT;

	down_read(&mm->mmap_sem);
	if (ksm_test_exit(mm))
		goto out;
	vma = find_vma(mm, rmap_item->address & PAGE_MASK);
	if (!vma || vma->vm_start > (rmap_item->address & PAGE_MASK))
		goto out;
	err = try_to_merge_one_page(vma, page, kpage);
	if (err)
		goto out;
	/* Must get reference to anon_vma while still holding mmap_sem */
	hold_anon_vma(rmap_item, vma->anon_vma);
out:
	up_read(&mm->mmap_sem);
	return err;
}

/**
 * Two identical unstable pages: make \a page a KSM page and map the
 * other's pte to it.  Returns the KSM page (\a page), or NULL.
 */
static struct page *try_to_merge_two_pages(struct rmap_item *rmap_item,
					   struct page *page,
					   struct rmap_item *tree_rmap_item,
					   struct page *tree_page)
{
	int err;

	err = try_to_merge_with_ksm_page(rmap_item, page, NULL);
	if (!err) {
		err = try_to_merge_with_ksm_page(tree_rmap_item,
						 tree_page, page);
		/*
		 * If that fails, we have a KSM page with only one pte
		 * pointing to it: so break it.
		 */
		if (err)
			break_cow(rmap_item);
	}
	return err ? NULL : page;
}

/**
 * Search the stable tree for a KSM page with \a page's contents.  Returns
 * it with a reference, or NULL.  Caller holds ksm_thread_mutex.
 *
 * Seed 004 changed this to return the page instead of the node, and
 * cmp_and_merge_page() to find the node again from the page, under its
 * lock.  The eras before 004 append to the node the search found, so the
 * node is also returned through \a nodep.
 */
static struct page *stable_tree_search(struct page *page,
				       struct stable_node **nodep)
{
	struct rb_node *node = root_stable_tree.rb_node;
	struct stable_node *stable_node;
	struct page *tree_page;
	int ret;

	stable_node = page_stable_node(page);
	if (stable_node) {			/* ksm page forked */
		get_page(page);
		*nodep = stable_node;
		return page;
	}

	while (node) {
		stable_node = rb_entry(node, struct stable_node, node);
		if (ksm_era == ERA_PINNED) {
			/* The pin makes the page "sure to be present and
			 * correct": no keyhole needed. */
			tree_page = stable_node->page;
			get_page(tree_page);
		} else {
			tree_page = get_ksm_page(stable_node, false);
			if (!tree_page)
				return NULL;
		}
		ret = memcmp_pages(page, tree_page);
		if (ret) {
			put_page(tree_page);
			node = ret < 0 ? node->rb_left : node->rb_right;
			continue;
		}
		sim_trace("stable_tree_search: node %u (pfn %lu) matches",
			  stable_node->sim_id, page_to_pfn(tree_page));
		race_window(RW_KSM_SEARCH_FOUND);
		*nodep = stable_node;
		if (!era_since(ERA_MIGRATION) || !fix_on(FIX_SEARCH_LOCK))
			return tree_page;
		/*
		 * Seed 000 (R12): lock and unlock the stable_node's page (which
		 * might already have been migrated) so that page migration is
		 * sure to notice its raised count.  It would be more elegant to
		 * return stable_node than kpage, but that involves more changes.
		 */
		put_page(tree_page);
		tree_page = get_ksm_page(stable_node, true);
		if (tree_page)
			unlock_page(tree_page);
		return tree_page;
	}
	return NULL;
}

/**
 * Insert a stable node for the new KSM page \a kpage.  Returns the node,
 * or NULL if an equal node is already there (not a bug: \a kpage was not
 * write-protected when stable_tree_search() looked) or memory ran out.
 * Caller holds ksm_thread_mutex and the page lock of \a kpage.
 */
static struct stable_node *stable_tree_insert(struct page *kpage)
{
	struct rb_node **new = &root_stable_tree.rb_node;
	struct rb_node *parent = NULL;
	struct stable_node *stable_node;
	struct page *tree_page;
	int ret;

	while (*new) {
		stable_node = rb_entry(*new, struct stable_node, node);
		if (ksm_era == ERA_PINNED) {
			tree_page = stable_node->page;
			get_page(tree_page);
		} else {
			tree_page = get_ksm_page(stable_node, false);
			if (!tree_page)
				return NULL;
		}
		ret = memcmp_pages(kpage, tree_page);
		put_page(tree_page);
		parent = *new;
		if (ret < 0)
			new = &parent->rb_left;
		else if (ret > 0)
			new = &parent->rb_right;
		else
			return NULL;
	}

	stable_node = alloc_stable_node();
	if (!stable_node)
		return NULL;
	rb_link_node(&stable_node->node, parent, new);
	rb_insert_color(&stable_node->node, &root_stable_tree);
	ksm_stable_nodes++;
	stable_node->hlist.first = NULL;
	if (ksm_era == ERA_PINNED)
		get_page(kpage);		/* the pin */
	set_stable_node_page(stable_node, kpage);
	set_page_stable_node(kpage, stable_node);
	node_event(stable_node, "inserted for", page_to_pfn(kpage));
	sim_trace("stable node %u created for KSM pfn %lu",
		  stable_node->sim_id, page_to_pfn(kpage));
	return stable_node;
}

/**
 * Search the unstable tree for a page like \a page; insert \a rmap_item if
 * there is none.  Returns the matching rmap_item, with its page in
 * *tree_pagep (referenced), or NULL.  Caller holds ksm_thread_mutex.
 */
static struct rmap_item *unstable_tree_search_insert(
	struct rmap_item *rmap_item, struct page *page,
	struct page **tree_pagep)
{
	struct rb_node **new = &root_unstable_tree.rb_node;
	struct rb_node *parent = NULL;

	while (*new) {
		struct rmap_item *tree_rmap_item;
		struct page *tree_page;
		int ret;

		tree_rmap_item = rb_entry(*new, struct rmap_item, node);
		tree_page = get_mergeable_page(tree_rmap_item);
		if (!tree_page)
			return NULL;
		/* Don't substitute a ksm page for a forked page. */
		if (page == tree_page) {
			put_page(tree_page);
			return NULL;
		}
		ret = memcmp_pages(page, tree_page);
		parent = *new;
		if (ret < 0) {
			put_page(tree_page);
			new = &parent->rb_left;
		} else if (ret > 0) {
			put_page(tree_page);
			new = &parent->rb_right;
		} else {
			*tree_pagep = tree_page;
			return tree_rmap_item;
		}
	}
	rmap_item->address |= UNSTABLE_FLAG;
	rmap_item->address |= (ksm_scan.seqnr & SEQNR_MASK);
	rb_link_node(&rmap_item->node, parent, new);
	rb_insert_color(&rmap_item->node, &root_unstable_tree);
	ksm_pages_unshared++;
	return NULL;
}

/**
 * Add \a rmap_item to \a stable_node's list.  Caller holds the KSM page's
 * lock and ksm_thread_mutex.
 */
static void stable_tree_append(struct rmap_item *rmap_item,
			       struct stable_node *stable_node)
{
	stable_node_check(stable_node, "stable_tree_append");
	rmap_item->head = stable_node;
	rmap_item->address |= STABLE_FLAG;
	hlist_add_head(&rmap_item->hlist, &stable_node->hlist);
	if (rmap_item->hlist.next)
		ksm_pages_sharing++;
	else
		ksm_pages_shared++;
}

/**
 * The heart of ksmd: find a page to merge \a page with, in the stable
 * tree or else the unstable tree.  Caller holds ksm_thread_mutex and a
 * reference on \a page.
 */
static void cmp_and_merge_page(struct page *page, struct rmap_item *rmap_item)
{
	struct rmap_item *tree_rmap_item;
	struct page *tree_page = NULL;
	struct stable_node *stable_node;
	struct page *kpage;
	unsigned int checksum;
	int err;

	remove_rmap_item_from_tree(rmap_item);

	/* We first start with searching the page inside the stable tree */
	kpage = stable_tree_search(page, &stable_node);
	if (kpage) {
		err = try_to_merge_with_ksm_page(rmap_item, page, kpage);
		if (!err) {
			/*
			 * The page was successfully merged: add its rmap_item
			 * to the stable tree.
			 */
			lock_page(kpage);
			if (era_since(ERA_HOTREMOVE)) {
				stable_node = page_stable_node(kpage);
				if (!stable_node)	/* NULL: the kernel oopses */
					sim_oops("stable_tree_append()",
						 "the page ksmd merged into is no "
						 "longer a KSM page: NULL "
						 "stable_node");
			}
			stable_tree_append(rmap_item, stable_node);
			unlock_page(kpage);
			race_window(RW_KSM_MERGE_DONE);
		}
		put_page(kpage);
		return;
	}

	/*
	 * If the hash value of the page has changed from the last time we
	 * calculated it, this page is changing frequently: therefore we
	 * don't want to insert it in the unstable tree, and we don't want
	 * to waste our time searching for something identical to it there.
	 */
	checksum = calc_checksum(page);
	if (rmap_item->oldchecksum != checksum) {
		rmap_item->oldchecksum = checksum;
		return;
	}

	tree_rmap_item = unstable_tree_search_insert(rmap_item, page,
						     &tree_page);
	if (tree_rmap_item) {
		kpage = try_to_merge_two_pages(rmap_item, page,
					       tree_rmap_item, tree_page);
		put_page(tree_page);
		/*
		 * As soon as we merge this page, we want to remove the
		 * rmap_item of the page we have merged with from the unstable
		 * tree, and insert it instead as new node in the stable tree.
		 */
		if (kpage) {
			remove_rmap_item_from_tree(tree_rmap_item);
			lock_page(kpage);
			stable_node = stable_tree_insert(kpage);
			if (stable_node) {
				stable_tree_append(tree_rmap_item, stable_node);
				stable_tree_append(rmap_item, stable_node);
			}
			unlock_page(kpage);
			/*
			 * If we fail to insert the page into the stable tree,
			 * we will have 2 virtual addresses that are pointing
			 * to a ksm page left outside the stable tree, in
			 * which case we need to break_cow on both.
			 */
			if (!stable_node) {
				break_cow(tree_rmap_item);
				break_cow(rmap_item);
			}
		}
	}
}

/**
 * The rmap_item for \a addr in \a mm_slot's sorted list, allocating one if
 * needed; items for addresses passed over are freed on the way.
 */
static struct rmap_item *get_next_rmap_item(struct mm_slot *mm_slot,
					    struct rmap_item **rmap_list,
					    unsigned long addr)
{
	struct rmap_item *rmap_item;

	while (*rmap_list) {
		rmap_item = *rmap_list;
		if ((rmap_item->address & PAGE_MASK) == addr)
			return rmap_item;
		if (rmap_item->address > addr)
			break;
		*rmap_list = rmap_item->rmap_list;
		remove_rmap_item_from_tree(rmap_item);
		free_rmap_item(rmap_item);
	}

	rmap_item = alloc_rmap_item();
	if (rmap_item) {
		/* It has already been zeroed */
		rmap_item->mm = mm_slot->mm;
		rmap_item->address = addr;
		rmap_item->rmap_list = *rmap_list;
		*rmap_list = rmap_item;
	}
	return rmap_item;
}

/**
 * Advance the scan cursor to the next present anonymous page of a
 * mergeable area.  Returns its rmap_item with the page in *page
 * (referenced), or NULL at the end of a full scan.
 */
static struct rmap_item *scan_get_next_rmap_item(struct page **page)
{
	struct mm_struct *mm;
	struct mm_slot *slot;
	struct vm_area_struct *vma;
	struct rmap_item *rmap_item;

	if (!ksm_nr_mm_slots)
		return NULL;

	slot = ksm_scan.mm_slot;
	if (slot == &ksm_mm_head) {
		/* A new full scan: the unstable tree starts afresh. */
		root_unstable_tree = RB_ROOT;

		spin_lock(&ksm_mmlist_lock);
		slot = list_entry(slot->mm_list.next, struct mm_slot, mm_list);
		ksm_scan.mm_slot = slot;
		spin_unlock(&ksm_mmlist_lock);
next_mm:
		ksm_scan.address = 0;
		ksm_scan.rmap_list = &slot->rmap_list;
	}

	mm = slot->mm;
	down_read(&mm->mmap_sem);
	if (ksm_test_exit(mm))
		vma = NULL;
	else
		vma = find_vma(mm, ksm_scan.address);
	if (vma && (vma->vm_flags & VM_MERGEABLE)) {
		if (ksm_scan.address < vma->vm_start)
			ksm_scan.address = vma->vm_start;
		if (!vma->anon_vma)
			ksm_scan.address = vma->vm_end;

		while (ksm_scan.address < vma->vm_end) {
			if (ksm_test_exit(mm))
				break;
			*page = follow_page(vma, ksm_scan.address);
			if (*page && PageAnon(*page)) {
				rmap_item = get_next_rmap_item(slot,
						ksm_scan.rmap_list,
						ksm_scan.address);
				if (rmap_item) {
					ksm_scan.rmap_list =
						&rmap_item->rmap_list;
					ksm_scan.address += PAGE_SIZE;
				} else {
					put_page(*page);
				}
				up_read(&mm->mmap_sem);
				return rmap_item;
			}
			if (*page)
				put_page(*page);
			ksm_scan.address += PAGE_SIZE;
		}
	}

	if (ksm_test_exit(mm)) {
		ksm_scan.address = 0;
		ksm_scan.rmap_list = &slot->rmap_list;
	}
	/*
	 * Nuke all the rmap_items that are above this current rmap:
	 * because there were no VM_MERGEABLE vmas with such addresses.
	 */
	remove_trailing_rmap_items(slot, ksm_scan.rmap_list);

	spin_lock(&ksm_mmlist_lock);
	ksm_scan.mm_slot = list_entry(slot->mm_list.next,
				      struct mm_slot, mm_list);
	if (ksm_scan.address == 0) {
		/*
		 * We've completed a full scan of all vmas, holding mmap_sem
		 * throughout, and found no VM_MERGEABLE: so do the same as
		 * __ksm_exit does to remove this mm from all our lists now.
		 */
		hlist_del(&slot->link);
		ksm_nr_mm_slots--;
		list_del_init(&slot->mm_list);
		spin_unlock(&ksm_mmlist_lock);
		free_mm_slot(slot);
		atomic_fetch_and(&mm->flags, ~(1UL << MMF_VM_MERGEABLE));
		up_read(&mm->mmap_sem);
		mmdrop(mm);
	} else {
		/*
		 * up_read() first: once ksm_mmlist_lock is dropped, an
		 * exiting mm whose mm_slot is still hashed, but is no longer
		 * ksm_scan.mm_slot, may be freed under us by __ksm_exit().
		 * The 2009 code unlocked the other way round; ThreadSanitizer
		 * finds the use after free here, as Zhou Chengming did in
		 * 2016 ("ksm: fix conflict between mmput and
		 * scan_get_next_rmap_item"), whose order this is.
		 */
		up_read(&mm->mmap_sem);
		spin_unlock(&ksm_mmlist_lock);
	}

	/* Repeat until we've completed scanning the whole list */
	slot = ksm_scan.mm_slot;
	if (slot != &ksm_mm_head)
		goto next_mm;

	ksm_scan.seqnr++;
	return NULL;
}

/**
 * Scan \a scan_npages pages (one ksmd batch).  Caller holds
 * ksm_thread_mutex.
 */
static void ksm_do_scan(unsigned int scan_npages)
{
	struct rmap_item *rmap_item;
	struct page *page;

	BUG_ON(!mutex_is_mine(&ksm_thread_mutex));

	while (scan_npages--) {
		rmap_item = scan_get_next_rmap_item(&page);
		if (!rmap_item)
			return;
		if (!PageKsm(page) || !in_stable_tree(rmap_item))
			cmp_and_merge_page(page, rmap_item);
		put_page(page);
	}
}

/* ---------------------------------------------------------------- */
/* Memory hot-remove (seed 004, reworked by the 2013 series). */

/**
 * The first stable node whose kpfn lies in [\a start_pfn, \a end_pfn),
 * or NULL (ksm_check_stable_tree(), 2009 form).  Only kpfn is read: the
 * struct page there may be gone.
 */
static struct stable_node *ksm_check_stable_tree(unsigned long start_pfn,
						 unsigned long end_pfn)
{
	struct rb_node *node;

	for (node = rb_first(&root_stable_tree); node; node = rb_next(node)) {
		struct stable_node *stable_node;
		unsigned long kpfn;

		stable_node = rb_entry(node, struct stable_node, node);
		/*
		 * Ours (R5.twice): once.  From 2013 the page may be migrated
		 * meanwhile, between frames outside the range, and two reads
		 * could pair one frame's kpfn >= start_pfn with another's
		 * < end_pfn, and prune a live node.  (The kernel's plain
		 * reads leave that to the compiler; a stress run here found
		 * it.)
		 */
		kpfn = READ_ONCE(stable_node->kpfn);
		sim_trace("ksm_check_stable_tree: node %u kpfn %lu",
			  stable_node->sim_id, kpfn);
		race_window(RW_OFFLINE_PRUNE_READ);
		if (kpfn < start_pfn)
			continue;
		if (!fix_on(FIX_PRUNE_KPFN_ONCE)) {	/* kpfn < end_pfn, */
			kpfn = READ_ONCE(stable_node->kpfn);	/* read again */
			sim_trace("ksm_check_stable_tree: node %u kpfn %lu, "
				  "read again", stable_node->sim_id, kpfn);
		}
		if (kpfn < end_pfn)
			return stable_node;
	}
	return NULL;
}

/**
 * KSM's memory notifier (seed 004).  Keep it very simple for now: just
 * lock out ksmd and MADV_UNMERGEABLE while any memory is going offline;
 * and when it has gone, prune the stable nodes left pointing into it.
 *
 * 2009: ksm_thread_mutex is held from MEM_GOING_OFFLINE to MEM_OFFLINE or
 * MEM_CANCEL_OFFLINE.  2013 (ERA_MIGRATION): the mutex only guards setting
 * KSM_RUN_OFFLINE, which ksmd waits out (wait_while_offlining()), because
 * lockdep objected to a mutex held across notifier calls.
 */
static int ksm_memory_callback(struct notifier_block *self,
			       unsigned long action, void *arg)
{
	struct memory_notify *mn = arg;
	struct stable_node *stable_node;

	(void)self;
	if (!era_since(ERA_HOTREMOVE))
		return NOTIFY_OK;	/* before seed 004: no callback */
	event_record(hotplug_events.ring, &hotplug_events.nr,
		     action == MEM_GOING_OFFLINE ? "MEM_GOING_OFFLINE from" :
		     action == MEM_OFFLINE ? "MEM_OFFLINE from" :
		     "MEM_CANCEL_OFFLINE from", mn->start_pfn);
	switch (action) {
	case MEM_GOING_OFFLINE:
		if (!fix_on(FIX_OFFLINE_LOCKOUT))
			break;
		mutex_lock(&ksm_thread_mutex);
		if (era_since(ERA_MIGRATION)) {
			/*
			 * Prevent ksm_do_scan() and unmerging everything while
			 * memory is going offline: it is unsafe for them to
			 * touch the stable tree at this time.
			 */
			ksm_run |= KSM_RUN_OFFLINE;
			mutex_unlock(&ksm_thread_mutex);
		}
		sim_trace("ksm_memory_callback: ksmd locked out");
		break;

	case MEM_OFFLINE:
		/*
		 * Most of the work is done by page migration; but there might
		 * be a few stable_nodes left over, still pointing to struct
		 * pages which have been offlined: prune those from the tree,
		 * otherwise get_ksm_page() might later try to access a
		 * non-existent struct page (R5).
		 */
		if (fix_on(FIX_OFFLINE_PRUNE))
			while ((stable_node = ksm_check_stable_tree(
					mn->start_pfn,
					mn->start_pfn + mn->nr_pages))) {
				stable_node_check_dead(stable_node,
						       "ksm_memory_callback");
				remove_node_from_stable_tree(stable_node);
			}
		goto release;

	case MEM_CANCEL_OFFLINE:
		/* Seed 004: a cancelled offline must let ksmd go too (R6). */
		if (!fix_on(FIX_OFFLINE_CANCEL_UNLOCK)) {
			sim_trace("ksm_memory_callback: offline cancelled, "
				  "ksmd not let go (offline_cancel_unlock "
				  "off)");
			break;
		}
release:
		if (!fix_on(FIX_OFFLINE_LOCKOUT))
			break;
		if (era_since(ERA_MIGRATION)) {
			mutex_lock(&ksm_thread_mutex);
			ksm_run &= ~KSM_RUN_OFFLINE;
			mutex_unlock(&ksm_thread_mutex);
			smp_mb();	/* wake_up_bit advises this */
			wake_up_key(&ksm_run);
		} else {
			mutex_unlock(&ksm_thread_mutex);
		}
		sim_trace("ksm_memory_callback: ksmd let go");
		break;
	}
	return NOTIFY_OK;
}

/**
 * Registered at high priority: the callback takes ksm_thread_mutex, and
 * later callbacks could only be taking locks which nest within that.
 */
static struct notifier_block ksm_memory_nb __sim_state = {
	.notifier_call = ksm_memory_callback,
	.priority = 100,
};

/**
 * ksmd, or someone else who takes ksm_thread_mutex to change the trees,
 * waits while memory is going offline (2013; wait_while_offlining()).
 * Caller holds ksm_thread_mutex, which is dropped while waiting.
 */
static void wait_while_offlining(void)
{
	while (ksm_run & KSM_RUN_OFFLINE) {
		mutex_unlock(&ksm_thread_mutex);
		wait_event(&ksm_run, !(ksm_run & KSM_RUN_OFFLINE));
		mutex_lock(&ksm_thread_mutex);
	}
}

/** Is there work for ksmd: run=1 and some mm registered? */
static bool ksmd_should_run(void)
{
	return (ksm_run & KSM_RUN_MERGE) && ksm_nr_mm_slots;
}

/** ksmd, as a pthread (ksm_start_thread()). */
static struct {
	pthread_t thread;
	bool running;
	_Atomic bool should_stop;
	struct sim_actor actor;
} ksmd = { .actor = { .name = "ksmd" } };

/** ksmd's loop (ksm_scan_thread()). */
static void *ksm_scan_thread(void *arg)
{
	(void)arg;
	current = &ksmd.actor;
	while (!atomic_load(&ksmd.should_stop)) {
		mutex_lock(&ksm_thread_mutex);
		wait_while_offlining();
		if (ksmd_should_run())
			ksm_do_scan(ksm_thread_pages_to_scan);
		mutex_unlock(&ksm_thread_mutex);

		if (ksmd_should_run()) {
			sim_sleep_ms(&ksm_thread_wait, &ksmd.should_stop,
				     ksm_thread_sleep_millisecs);
		} else {
			wait_event(&ksm_thread_wait, ksmd_should_run() ||
				   atomic_load(&ksmd.should_stop));
		}
	}
	return NULL;
}

int ksm_start_thread(void)
{
	if (ksmd.running || !machine.initialized)
		return -EBUSY;
	atomic_store(&ksmd.should_stop, false);
	if (pthread_create(&ksmd.thread, NULL, ksm_scan_thread, NULL))
		return -EAGAIN;
	ksmd.running = true;
	return 0;
}

void ksm_stop_thread(void)
{
	if (!ksmd.running)
		return;
	atomic_store(&ksmd.should_stop, true);
	wake_up_key(&ksm_thread_wait);
	pthread_join(ksmd.thread, NULL);
	ksmd.running = false;
}

void ksm_scan_pages(unsigned int nr_pages)
{
	mutex_lock(&ksm_thread_mutex);
	wait_while_offlining();
	ksm_do_scan(nr_pages);
	mutex_unlock(&ksm_thread_mutex);
}

void ksm_scan_full(unsigned int n)
{
	unsigned long target = ksm_scan.seqnr + n;

	while (ksm_nr_mm_slots && ksm_scan.seqnr < target)
		ksm_scan_pages(ksm_thread_pages_to_scan);
}

/**
 * Register \a mm with KSM: called by MADV_MERGEABLE, and by fork of a
 * registered parent.  The new mm_slot goes just behind the scan cursor,
 * so that ksmd gets to it last (a forked child may exec first).
 */
static int __ksm_enter(struct mm_struct *mm)
{
	struct mm_slot *mm_slot;
	bool needs_wakeup;

	mm_slot = alloc_mm_slot();
	if (!mm_slot)
		return -ENOMEM;

	/* Check ksm_run too?  Would need tighter locking */
	needs_wakeup = !ksm_nr_mm_slots;

	spin_lock(&ksm_mmlist_lock);
	ksm_nr_mm_slots++;
	insert_to_mm_slots_hash(mm, mm_slot);
	list_add_tail(&mm_slot->mm_list, &ksm_scan.mm_slot->mm_list);
	spin_unlock(&ksm_mmlist_lock);

	atomic_fetch_or(&mm->flags, 1UL << MMF_VM_MERGEABLE);
	atomic_fetch_add(&mm->mm_count, 1);

	if (needs_wakeup)
		wake_up_key(&ksm_thread_wait);
	return 0;
}

/**
 * An exiting mm: unregister at once if ksmd has nothing of it, else leave
 * its mm_slot just after the cursor for ksmd to clean up, and wait until
 * ksmd is not looking at its page tables.
 */
static void __ksm_exit(struct mm_struct *mm)
{
	struct mm_slot *mm_slot;
	bool easy_to_free = false;

	spin_lock(&ksm_mmlist_lock);
	mm_slot = get_mm_slot(mm);
	if (mm_slot && ksm_scan.mm_slot != mm_slot) {
		if (!mm_slot->rmap_list) {
			hlist_del(&mm_slot->link);
			ksm_nr_mm_slots--;
			list_del_init(&mm_slot->mm_list);
			easy_to_free = true;
		} else {
			list_del_init(&mm_slot->mm_list);
			list_add(&mm_slot->mm_list,
				 &ksm_scan.mm_slot->mm_list);
		}
	}
	spin_unlock(&ksm_mmlist_lock);

	if (easy_to_free) {
		free_mm_slot(mm_slot);
		atomic_fetch_and(&mm->flags, ~(1UL << MMF_VM_MERGEABLE));
		mmdrop(mm);
	} else if (mm_slot) {
		down_write(&mm->mmap_sem);
		up_write(&mm->mmap_sem);
	}
}

/* ---------------------------------------------------------------- */
/* The knobs and counters of /sys/kernel/mm/ksm. */

int ksm_set_run(unsigned int run)
{
	int err = 0;

	if (run > KSM_RUN_UNMERGE)
		return -EINVAL;
	mutex_lock(&ksm_thread_mutex);
	wait_while_offlining();
	if (ksm_run != run) {
		ksm_run = run;
		if (run & KSM_RUN_UNMERGE) {
			err = unmerge_and_remove_all_rmap_items();
			if (err)
				ksm_run = KSM_RUN_STOP;
		}
	}
	mutex_unlock(&ksm_thread_mutex);
	if (run & KSM_RUN_MERGE)
		wake_up_key(&ksm_thread_wait);
	return err;
}

int ksm_set_pages_to_scan(unsigned int n)
{
	if (!n)
		return -EINVAL;
	ksm_thread_pages_to_scan = n;
	return 0;
}

int ksm_set_sleep_millisecs(unsigned int ms)
{
	ksm_thread_sleep_millisecs = ms;
	return 0;
}

void ksm_get_counters(struct ksm_counters *c)
{
	long vol;

	c->pages_shared = ksm_pages_shared;
	c->pages_sharing = ksm_pages_sharing;
	c->pages_unshared = ksm_pages_unshared;
	vol = (long)ksm_rmap_items - (long)c->pages_shared -
	      (long)c->pages_sharing - (long)c->pages_unshared;
	/* It was not worth any locking to calculate that statistic,
	 * but it might therefore sometimes be negative: conceal that. */
	c->pages_volatile = vol < 0 ? 0 : (unsigned long)vol;
	c->full_scans = ksm_scan.seqnr;
	c->stable_nodes = ksm_stable_nodes;
}

void ksm_print_counters(const char *indent)
{
	struct ksm_counters c;

	ksm_get_counters(&c);
	printf("%sfull_scans:%lu pages_shared:%lu pages_sharing:%lu "
	       "pages_unshared:%lu pages_volatile:%lu\n", indent ? indent : "",
	       c.full_scans, c.pages_shared, c.pages_sharing,
	       c.pages_unshared, c.pages_volatile);
}

/** @} */

/* ================================================================ */
/** \defgroup swap Swap: the device, the swap cache, swap-in
 *
 * One swap device of swap_slots pages, as swapfile.c keeps it: swap_map
 * counts, per slot, the ptes that hold its entry, plus SWAP_HAS_CACHE
 * while a page for it is in the swap cache.  The swap cache
 * (swapper_space) maps a slot to its page; a page in it has PG_swapcache,
 * its entry in page->private, and a reference held by the cache.
 *
 * swap_lock guards swap_map (an atomic step); swapper_space.tree_lock
 * guards the cache, and is a scheduling-point lock because reclaim and
 * migration freeze a page's count while holding it.
 * @{ */

#define SWAP_HAS_CACHE	0x80	/**< swap_map: a swap cache page exists */
#define SWAP_COUNT_MASK	0x7f	/**< swap_map: ptes holding the entry */

/** The swap device. */
static struct {
	unsigned long nr_slots;		/**< slot 0 is the header, never used */
	unsigned char *swap_map;
	unsigned char *data;		/**< the device's bytes */
	struct page **cache;		/**< swapper_space: slot -> page */
	unsigned long nr_used;
	unsigned long cursor;		/**< where to look for a free slot */
} swap __sim_state;

/** Guards swap_map and the slot cursor (an atomic step). */
static pthread_mutex_t swap_lock __sim_state = PTHREAD_MUTEX_INITIALIZER;

/** The swap cache, as an address_space with its tree_lock. */
static struct {
	spinlock_t tree_lock;
} swapper_space __sim_state = {
	.tree_lock = MUTEX_INIT("swapper_space.tree_lock")
};

/** Allocate the swap device. */
static int swap_init(void)
{
	swap.nr_slots = machine.cfg.swap_slots + 1;
	swap.swap_map = kzalloc(swap.nr_slots);
	swap.cache = kzalloc(swap.nr_slots * sizeof(struct page *));
	swap.data = mmap(NULL, swap.nr_slots * PAGE_SIZE,
			 PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!swap.swap_map || !swap.cache || swap.data == MAP_FAILED)
		return -ENOMEM;
	swap.cursor = 1;	/* slot 0 is the header (nr_used is 0) */
	return 0;
}

/** Free the swap device. */
static void swap_exit(void)
{
	kfree(swap.swap_map);
	kfree(swap.cache);
	if (swap.data && swap.data != MAP_FAILED)
		munmap(swap.data, swap.nr_slots * PAGE_SIZE);
	memset(&swap, 0, sizeof(swap));
}

/** Is \a entry a valid slot of the swap device? */
static bool swap_entry_valid(swp_entry_t entry)
{
	return swp_type(entry) == 0 && swp_offset(entry) > 0 &&
	       swp_offset(entry) < swap.nr_slots;
}

/** The bytes of slot \a offset on the device. */
static unsigned char *swap_slot_data(unsigned long offset)
{
	if (unlikely(snap.taken))
		snap_touch(snap.dirty_swap, offset);
	return swap.data + offset * PAGE_SIZE;
}

/** Swap slots in use (sim_mem_stats()). */
static unsigned long swap_slots_used(void)
{
	unsigned long n;

	step_lock(&swap_lock);
	n = swap.nr_used;
	step_unlock(&swap_lock);
	return n;
}

/**
 * Allocate a free slot for a page entering the swap cache; it starts with
 * SWAP_HAS_CACHE.  Returns the entry, or val 0 when swap is full (or an
 * injected failure says so).
 */
static swp_entry_t get_swap_page(void)
{
	unsigned long i, off;
	swp_entry_t entry = { 0 };

	if (sim_should_fail(FAIL_SWAP_SLOT))
		return entry;		/* as if the device were full */
	step_lock(&swap_lock);
	for (i = 1; i < swap.nr_slots; i++) {
		off = swap.cursor++;
		if (swap.cursor >= swap.nr_slots)
			swap.cursor = 1;
		if (off && !swap.swap_map[off]) {
			swap.swap_map[off] = SWAP_HAS_CACHE;
			swap.nr_used++;
			entry = swp_entry(0, off);
			break;
		}
	}
	step_unlock(&swap_lock);
	return entry;
}

/** Drop \a usage from a slot, freeing it when nothing is left.  swap_lock. */
static unsigned char swap_entry_free(unsigned long off, unsigned char usage)
{
	unsigned char *map = &swap.swap_map[off];

	if (usage == SWAP_HAS_CACHE) {
		BUG_ON(!(*map & SWAP_HAS_CACHE));
		*map &= ~SWAP_HAS_CACHE;
	} else {
		BUG_ON(!(*map & SWAP_COUNT_MASK));
		(*map)--;
	}
	if (!*map)
		swap.nr_used--;
	return *map;
}

/** One more pte holds \a entry (fork, try_to_unmap()).  Returns 0. */
static int swap_duplicate(swp_entry_t entry)
{
	unsigned long off = swp_offset(entry);

	BUG_ON(!swap_entry_valid(entry));
	step_lock(&swap_lock);
	BUG_ON(!swap.swap_map[off]);
	BUG_ON((swap.swap_map[off] & SWAP_COUNT_MASK) == SWAP_COUNT_MASK);
	swap.swap_map[off]++;
	step_unlock(&swap_lock);
	return 0;
}

/** A pte no longer holds \a entry (swap_free()). */
static void swap_free(swp_entry_t entry)
{
	step_lock(&swap_lock);
	swap_entry_free(swp_offset(entry), 1);
	step_unlock(&swap_lock);
}

/** The swap cache lets go of \a entry (swapcache_free()). */
static void swapcache_free(swp_entry_t entry)
{
	step_lock(&swap_lock);
	swap_entry_free(swp_offset(entry), SWAP_HAS_CACHE);
	step_unlock(&swap_lock);
}

/** Claim SWAP_HAS_CACHE for a swap-in; -EEXIST if someone else has it,
 * -ENOENT if the slot was freed meanwhile (swapcache_prepare()). */
static int swapcache_prepare(swp_entry_t entry)
{
	unsigned long off = swp_offset(entry);
	int err = 0;

	step_lock(&swap_lock);
	if (!(swap.swap_map[off] & SWAP_COUNT_MASK))
		err = -ENOENT;
	else if (swap.swap_map[off] & SWAP_HAS_CACHE)
		err = -EEXIST;
	else
		swap.swap_map[off] |= SWAP_HAS_CACHE;
	step_unlock(&swap_lock);
	return err;
}

/** How many ptes hold \a page's swap entry. */
static int page_swapcount(struct page *page)
{
	int count;

	step_lock(&swap_lock);
	count = swap.swap_map[swp_offset((swp_entry_t){ page->private })] &
		SWAP_COUNT_MASK;
	step_unlock(&swap_lock);
	return count;
}

/**
 * Put \a page into the swap cache at \a entry: the cache takes a
 * reference.  Caller holds the page lock.
 */
static void add_to_swap_cache(struct page *page, swp_entry_t entry)
{
	VM_BUG_ON(!PageLocked(page));
	spin_lock(&swapper_space.tree_lock);
	get_page(page);
	page->private = entry.val;
	SetPageSwapCache(page);
	swap.cache[swp_offset(entry)] = page;
	spin_unlock(&swapper_space.tree_lock);
}

/** Take \a page out of the swap cache.  Caller holds tree_lock. */
static void __delete_from_swap_cache(struct page *page)
{
	swp_entry_t entry = { page->private };

	BUG_ON(swap.cache[swp_offset(entry)] != page);
	swap.cache[swp_offset(entry)] = NULL;
	ClearPageSwapCache(page);
	page->private = 0;
}

/**
 * Take \a page out of the swap cache and drop the cache's reference.
 * Caller holds the page lock.
 */
static void delete_from_swap_cache(struct page *page)
{
	swp_entry_t entry = { page->private };

	spin_lock(&swapper_space.tree_lock);
	__delete_from_swap_cache(page);
	spin_unlock(&swapper_space.tree_lock);
	swapcache_free(entry);
	put_page(page);
}

/** The swap cache page of \a entry, referenced, or NULL. */
static struct page *lookup_swap_cache(swp_entry_t entry)
{
	struct page *page;

	spin_lock(&swapper_space.tree_lock);
	page = swap.cache[swp_offset(entry)];
	if (page && !__get_page_unless_zero(page))
		page = NULL;	/* frozen, on its way out: retry later */
	spin_unlock(&swapper_space.tree_lock);
	return page;
}

/**
 * Bring \a entry into the swap cache, reading the device: returns the
 * page, referenced, or NULL if the slot is gone or memory is short.
 */
static struct page *read_swap_cache_async(swp_entry_t entry, int nid)
{
	struct page *page;
	int err;

	for (;;) {
		page = lookup_swap_cache(entry);
		if (page)
			return page;
		err = swapcache_prepare(entry);
		if (err == -ENOENT)
			return NULL;
		if (err == -EEXIST) {
			cpu_relax();	/* someone else is reading it in */
			continue;
		}
		page = alloc_page_node(nid, FAIL_PAGE);
		if (!page) {
			swapcache_free(entry);
			return NULL;
		}
		SetPageSwapBacked(page);
		set_bit(PG_locked, &page->flags);	/* __set_page_locked() */
		add_to_swap_cache(page, entry);
		memcpy(page_address(page), swap_slot_data(swp_offset(entry)),
		       PAGE_SIZE);			/* swap_readpage() */
		SetPageUptodate(page);
		lru_cache_add(page);
		unlock_page(page);
		return page;
	}
}

/**
 * Can this swap cache page be written in place by its only user?  If so,
 * it also leaves the swap cache (reuse_swap_page()).  Never for a KSM
 * page: a write must copy it.  Caller holds the page lock.
 */
static bool reuse_swap_page(struct page *page)
{
	int count;

	VM_BUG_ON(!PageLocked(page));
	if (PageKsm(page))
		return false;
	count = page_mapcount(page);
	if (count <= 1 && PageSwapCache(page)) {
		count += page_swapcount(page);
		if (count == 1 && !PageWriteback(page)) {
			delete_from_swap_cache(page);
			SetPageDirty(page);
		}
	}
	return count <= 1;
}

/**
 * Free \a page's swap slot if no pte still holds its entry
 * (try_to_free_swap()): the page, mapped or not, is then its only copy.
 * The kernel marks it dirty here; this machine's add_to_swap() does that
 * whenever the page goes to swap again, and nothing else reads the flag
 * of an anonymous page outside the swap cache.  Caller holds the page
 * lock.
 */
static void try_to_free_swap(struct page *page)
{
	if (PageSwapCache(page) && !PageWriteback(page) &&
	    !page_swapcount(page))
		delete_from_swap_cache(page);
}

/** Is more than half the swap device in use (vm_swap_full())? */
static bool vm_swap_full(void)
{
	bool full;

	step_lock(&swap_lock);
	full = swap.nr_used * 2 > swap.nr_slots - 1;
	step_unlock(&swap_lock);
	return full;
}

/**
 * An exit let go of \a page, which it still holds a reference on: if it
 * is in the swap cache and nobody else needs it, free the slot and the
 * cache's reference (free_swap_cache()).  A trylock: a locked page is
 * someone else's business, and reclaim will find it.
 */
static void free_swap_cache(struct page *page)
{
	if (PageSwapCache(page) && !page_mapped(page) && trylock_page(page)) {
		try_to_free_swap(page);
		unlock_page(page);
	}
}

/**
 * A pte holding \a entry goes away (exit, zap): free the slot, and the
 * swap cache page too if nobody maps it (free_swap_and_cache()).
 */
static void free_swap_and_cache(swp_entry_t entry)
{
	struct page *page = NULL;
	unsigned char left;

	if (!swap_entry_valid(entry))
		return;
	step_lock(&swap_lock);
	left = swap_entry_free(swp_offset(entry), 1);
	step_unlock(&swap_lock);
	if (left != SWAP_HAS_CACHE)
		return;
	page = lookup_swap_cache(entry);
	if (!page)
		return;
	if (trylock_page(page)) {
		if (PageSwapCache(page) && !PageWriteback(page) &&
		    !page_mapped(page) && page->private == entry.val)
			delete_from_swap_cache(page);
		unlock_page(page);
	}
	put_page(page);
}

/**
 * A swapped-in page that was KSM, or is mapped elsewhere at another
 * address, must be copied rather than mapped here (include/linux/ksm.h's
 * ksm_might_need_to_copy(), mm/ksm.c's ksm_does_need_to_copy()): a KSM
 * page swapped back in comes back as a private copy, and ksmd must find
 * and merge it again.  A KSM page still in the swap cache (not yet freed)
 * has no anon_vma and is simply mapped again.  Returns the page to map,
 * locked (the copy, or \a page itself), or NULL if memory is short.
 * This is the form after the 2010 swap-in race fix: the swap cache page
 * stays locked until the pte has been checked.
 */
static struct page *ksm_might_need_to_copy(struct page *page,
					   struct vm_area_struct *vma,
					   unsigned long address)
{
	struct anon_vma *anon_vma = page_anon_vma(page);
	struct page *new;

	if (!anon_vma || (anon_vma == vma->anon_vma &&
			  page->index == linear_page_index(vma, address)))
		return page;
	new = alloc_page_node(vma->vm_mm->sim_nid, FAIL_PAGE);
	if (!new)
		return NULL;
	memcpy(page_address(new), page_address(page), PAGE_SIZE);
	SetPageDirty(new);
	SetPageUptodate(new);
	SetPageSwapBacked(new);
	set_bit(PG_locked, &new->flags);
	lru_cache_add(new);
	return new;
}

/**
 * A fault on a swap pte (do_swap_page()).  Returns 0 to retry the access,
 * or -ENOMEM.  Caller holds mmap_sem for read.
 */
static int do_swap_page(struct mm_struct *mm, unsigned long address,
			pte_t orig_pte, bool write)
{
	struct vm_area_struct *vma = &mm->vma;
	swp_entry_t entry = pte_to_swp_entry(orig_pte);
	struct page *page, *swapcache, *copy;
	pte_t *ptep;
	bool reuse;

	BUG_ON(!swap_entry_valid(entry));
	page = lookup_swap_cache(entry);
	if (!page) {
		page = read_swap_cache_async(entry, mm->sim_nid);
		if (!page) {
			/* Somebody else may have faulted it in meanwhile. */
			spin_lock(&mm->page_table_lock);
			ptep = pte_offset(mm, address);
			reuse = pte_same(*ptep, orig_pte);
			spin_unlock(&mm->page_table_lock);
			return reuse ? -ENOMEM : 0;
		}
	}
	lock_page(page);
	race_window(RW_SWAPIN_LOCKED);
	/* The swap cache may have let go of it while we were not looking. */
	if (!PageSwapCache(page) || page->private != entry.val)
		goto out_page;
	if (anon_vma_prepare(vma))
		goto out_page;
	swapcache = page;
	copy = ksm_might_need_to_copy(page, vma, address);
	if (!copy)
		goto out_page;

	spin_lock(&mm->page_table_lock);
	ptep = pte_offset(mm, address);
	if (!pte_same(*ptep, orig_pte)) {
		spin_unlock(&mm->page_table_lock);
		if (copy != swapcache) {
			unlock_page(copy);
			put_page(copy);
		}
		goto out_page;
	}
	if (copy != swapcache) {
		page_add_new_anon_rmap(copy, vma, address);
		*ptep = mk_pte(copy, write);
		sim_trace("%s swaps in a private copy pfn %lu of slot %lu",
			  mm->sim_name, page_to_pfn(copy), swp_offset(entry));
		spin_unlock(&mm->page_table_lock);
		swap_free(entry);
		unlock_page(copy);
		try_to_free_swap(swapcache);
		unlock_page(swapcache);
		put_page(swapcache);
		return 0;
	}
	get_page(page);				/* the pte's reference */
	page_add_anon_rmap(page, vma, address);
	swap_free(entry);
	reuse = write && reuse_swap_page(page);
	*ptep = mk_pte(page, reuse);
	sim_trace("%s swaps in pfn %lu%s from slot %lu", mm->sim_name,
		  page_to_pfn(page), PageKsm(page) ? " (still KSM)" : "",
		  swp_offset(entry));
	spin_unlock(&mm->page_table_lock);
	/*
	 * Keep the slot: if the page is reclaimed again before it is
	 * written, its copy there is still good.  Unless swap is filling.
	 */
	if (vm_swap_full())
		try_to_free_swap(page);
out_page:
	unlock_page(page);
	put_page(page);
	return 0;
}

/** Read a swapped-out page's bytes without faulting (for verification). */
static int swap_peek(swp_entry_t entry, unsigned char *buf)
{
	unsigned long off = swp_offset(entry);
	struct page *page;

	if (!swap_entry_valid(entry) || !swap.swap_map[off])
		return -ENOENT;
	page = swap.cache[off];
	if (page)
		memcpy(buf, page_address(page), PAGE_SIZE);
	else
		memcpy(buf, swap_slot_data(off), PAGE_SIZE);
	return 0;
}

/** @} */

/* ---------------------------------------------------------------- */
/** \addtogroup swap
 * @{ */

/** try_to_unmap() results. */
enum {
	SWAP_SUCCESS,	/**< no pte maps the page any more */
	SWAP_AGAIN,	/**< some pte could not be reached: try later */
	SWAP_FAIL,	/**< the page cannot be unmapped */
};

/** try_to_unmap() flags. */
#define TTU_UNMAP	0	/**< for reclaim: ptes become swap entries */
#define TTU_MIGRATION	1	/**< for migration: migration entries */

/**
 * Unmap \a page from \a vma at \a address (try_to_unmap_one()).  The pte
 * becomes the page's swap entry if it is in the swap cache, or else (for
 * migration) a migration entry; either way the pte's reference goes.
 */
static int try_to_unmap_one(struct page *page, struct vm_area_struct *vma,
			    unsigned long address, int flags)
{
	struct mm_struct *mm = vma->vm_mm;
	pte_t *ptep, pteval;

	ptep = page_check_address(page, mm, address);
	if (!ptep)
		return SWAP_AGAIN;
	pteval = *ptep;
	if (PageSwapCache(page)) {
		swp_entry_t entry = { page->private };

		swap_duplicate(entry);
		*ptep = swp_entry_to_pte(entry);
	} else {
		/* Reclaim unmaps only swap cache pages. */
		BUG_ON(flags != TTU_MIGRATION);
		*ptep = swp_entry_to_pte(make_migration_entry(page,
							pte_write(pteval)));
	}
	page_remove_rmap(page);
	put_page(page);
	spin_unlock(&mm->page_table_lock);
	sim_trace("%s page %lu: pfn %lu unmapped (%s)", mm->sim_name,
		  linear_page_index(vma, address), page_to_pfn(page),
		  PageSwapCache(page) ? "swap entry" : "migration entry");
	return SWAP_AGAIN;
}

/**
 * Lock and return the anon_vma of a mapped anonymous page, or NULL
 * (page_lock_anon_vma()).  An unmapped page's anon_vma may be gone.
 */
static struct anon_vma *page_lock_anon_vma(struct page *page)
{
	struct anon_vma *anon_vma = page_anon_vma(page);

	if (!anon_vma || !page_mapped(page))
		return NULL;
	spin_lock(&anon_vma->lock);
	return anon_vma;
}

/** Unmap an anonymous page from every vma of its anon_vma. */
static int try_to_unmap_anon(struct page *page, int flags)
{
	struct anon_vma *anon_vma = page_lock_anon_vma(page);
	struct list_head *pos;
	int ret = SWAP_AGAIN;

	if (!anon_vma)
		return ret;
	for (pos = anon_vma->head.next; pos != &anon_vma->head;
	     pos = pos->next) {
		struct vm_area_struct *vma = list_entry(pos,
				struct vm_area_struct, anon_vma_node);
		unsigned long address = vma->vm_start +
					(page->index << PAGE_SHIFT);

		if (address >= vma->vm_end)
			continue;
		ret = try_to_unmap_one(page, vma, address, flags);
		if (ret != SWAP_AGAIN || !page_mapped(page))
			break;
	}
	spin_unlock(&anon_vma->lock);
	return ret;
}

/**
 * Walk the reverse map of a KSM page (rmap_walk_ksm()): every rmap_item on
 * its stable node names an (anon_vma, address); each vma of that anon_vma
 * covering the address may map the page.  First the rmap_item's own mm,
 * then, in a second pass, others sharing the anon_vma: children forked
 * since ksmd last looked, which have no rmap_items of their own yet.
 * Calls \a rmap_one until it returns other than SWAP_AGAIN.  Caller holds
 * the page lock (which guards the node's hlist).
 */
static int rmap_walk_ksm(struct page *page,
			 int (*rmap_one)(struct page *, struct vm_area_struct *,
					 unsigned long, void *), void *arg)
{
	struct stable_node *stable_node = page_stable_node(page);
	struct hlist_node *h;
	int search_new_forks = 0;
	int ret = SWAP_AGAIN;

	VM_BUG_ON(!PageLocked(page));
	if (!stable_node)
		return SWAP_FAIL;
again:
	for (h = stable_node->hlist.first; h; h = h->next) {
		struct rmap_item *rmap_item = hlist_entry(h, struct rmap_item,
							  hlist);
		struct anon_vma *anon_vma = rmap_item->anon_vma;
		unsigned long address = rmap_item->address & PAGE_MASK;
		struct list_head *pos;

		spin_lock(&anon_vma->lock);
		for (pos = anon_vma->head.next; pos != &anon_vma->head;
		     pos = pos->next) {
			struct vm_area_struct *vma = list_entry(pos,
					struct vm_area_struct, anon_vma_node);

			if (address < vma->vm_start || address >= vma->vm_end)
				continue;
			/*
			 * Initially we examine only the vma which covers this
			 * rmap_item; but later, if there is still work to do,
			 * we examine covering vmas in other mms: in case they
			 * were forked from the original since ksmd passed.
			 */
			if ((rmap_item->mm == vma->vm_mm) == search_new_forks)
				continue;
			ret = rmap_one(page, vma, address, arg);
			if (ret != SWAP_AGAIN) {
				spin_unlock(&anon_vma->lock);
				return ret;
			}
		}
		spin_unlock(&anon_vma->lock);
	}
	if (!search_new_forks++)
		goto again;
	return ret;
}

/**
 * Walk the reverse map of a file page (rmap_walk_file()): every vma on its
 * file's i_mmap maps it at the same offset.  The page lock keeps it in
 * its file meanwhile.
 */
static int rmap_walk_file(struct page *page,
			  int (*rmap_one)(struct page *, struct vm_area_struct *,
					  unsigned long, void *), void *arg)
{
	struct address_space *mapping = page_mapping(page);
	struct list_head *pos;
	int ret = SWAP_AGAIN;

	if (!mapping)
		return ret;
	spin_lock(&mapping->i_mmap_lock);
	for (pos = mapping->i_mmap.next; pos != &mapping->i_mmap;
	     pos = pos->next) {
		struct vm_area_struct *vma = list_entry(pos,
				struct vm_area_struct, shared);
		unsigned long address = vma->vm_start +
					(page->index << PAGE_SHIFT);

		if (address >= vma->vm_end)
			continue;
		ret = rmap_one(page, vma, address, arg);
		if (ret != SWAP_AGAIN)
			break;
	}
	spin_unlock(&mapping->i_mmap_lock);
	return ret;
}

/**
 * rmap_walk_ksm() and rmap_walk_file() callback for try_to_unmap(): once
 * nothing maps the page, the walk can stop (SWAP_SUCCESS ends it).
 */
static int try_to_unmap_walk_one(struct page *page, struct vm_area_struct *vma,
				 unsigned long address, void *arg)
{
	int ret = try_to_unmap_one(page, vma, address, *(int *)arg);

	return ret == SWAP_AGAIN && !page_mapped(page) ? SWAP_SUCCESS : ret;
}

/**
 * Unmap \a page from every pte (try_to_unmap()).  Returns SWAP_SUCCESS if
 * it is no longer mapped.  Caller holds the page lock.
 */
static int try_to_unmap(struct page *page, int flags)
{
	int ret;

	VM_BUG_ON(!PageLocked(page));
	if (PageKsm(page))
		ret = rmap_walk_ksm(page, try_to_unmap_walk_one, &flags);
	else if (PageAnon(page))
		ret = try_to_unmap_anon(page, flags);
	else
		ret = rmap_walk_file(page, try_to_unmap_walk_one, &flags);
	if (ret != SWAP_FAIL && !page_mapped(page))
		ret = SWAP_SUCCESS;
	return ret;
}

/**
 * Give a dirty anonymous page a swap slot in the swap cache (add_to_swap()).
 * Returns false when swap is full.  Caller holds the page lock.
 */
static bool add_to_swap(struct page *page)
{
	swp_entry_t entry = get_swap_page();

	if (!entry.val)
		return false;
	add_to_swap_cache(page, entry);
	SetPageDirty(page);
	return true;
}

/**
 * Write a swap cache page to its slot (pageout(), swap_writepage()).  The
 * write is synchronous here: no writeback state lingers.
 */
static void pageout(struct page *page)
{
	swp_entry_t entry = { page->private };

	memcpy(swap_slot_data(swp_offset(entry)), page_address(page),
	       PAGE_SIZE);
	ClearPageDirty(page);
	atomic_fetch_add(&activity.swap_outs, 1);
}

/**
 * Detach a clean, unmapped swap cache page from the cache, provided that
 * only the cache and the caller hold it (__remove_mapping()).  The count
 * is frozen at the expected 2 while the page is taken out, so that no
 * speculative reference can be taken meanwhile; on success the count
 * stays 0 and the caller frees the page.  Caller holds the page lock.
 */
static bool __remove_mapping(struct page *page)
{
	swp_entry_t entry = { page->private };

	spin_lock(&swapper_space.tree_lock);
	/*
	 * The non racy check for a busy page: 2 is the isolation reference
	 * plus the swap cache's.  Anyone else (a pte, a pin, a speculative
	 * get_page_unless_zero()) makes the freeze fail.
	 */
	if (!page_freeze_refs(page, 2))
		goto cannot_free;
	/* Note: a racing fault may have dirtied it meanwhile. */
	if (PageDirty(page)) {
		page_unfreeze_refs(page, 2);
		goto cannot_free;
	}
	__delete_from_swap_cache(page);
	spin_unlock(&swapper_space.tree_lock);
	swapcache_free(entry);
	return true;

cannot_free:
	spin_unlock(&swapper_space.tree_lock);
	return false;
}

/**
 * Reclaim one isolated anonymous page (shrink_page_list() for a list of
 * one): swap cache, unmap, write, free.  The isolation reference is
 * consumed.  Returns 0 if the page was freed, -EBUSY if it was kept.
 */
static int shrink_page(struct page *page)
{
	bool ksm = PageKsm(page);

	if (!trylock_page(page))
		goto keep;
	if (PageWriteback(page) || !PageSwapBacked(page))
		goto keep_locked;
	if (PageAnon(page) && !PageSwapCache(page) && !add_to_swap(page))
		goto keep_locked;
	if (page_mapped(page) && try_to_unmap(page, TTU_UNMAP) != SWAP_SUCCESS)
		goto keep_locked;
	if (PageDirty(page))
		pageout(page);
	/*
	 * No mapping (page_mapping() is the swap cache for an anonymous
	 * page): an orphan, say an old page that migration left to whoever
	 * still held a reference.  Its last put frees it; nothing to do.
	 */
	if (!PageSwapCache(page) || !__remove_mapping(page))
		goto keep_locked;
	/* The count is frozen at zero: nobody else can lock it now. */
	clear_bit(PG_locked, &page->flags);
	sim_trace("reclaim frees pfn %lu%s", page_to_pfn(page),
		  ksm ? " (was KSM)" : "");
	__free_page(page);
	return 0;

keep_locked:
	unlock_page(page);
keep:
	sim_trace("reclaim keeps pfn %lu%s (count %d)", page_to_pfn(page),
		  ksm ? " (KSM)" : "", page_count(page) - 1);
	putback_lru_page(page);
	return -EBUSY;
}

/**
 * Reclaim the page in frame \a pfn, if it is an anonymous page on the LRU.
 * Returns 0 if freed, -EBUSY if kept or not reclaimable, -EINVAL.
 */
static int __sim_reclaim_pfn(unsigned long pfn)
{
	struct page *page;

	if (!machine.initialized || !pfn_valid(pfn))
		return -EINVAL;
	page = pfn_to_page(pfn);
	if (isolate_lru_page(page))
		return -EBUSY;
	return shrink_page(page);
}

int sim_reclaim_pfn(unsigned long pfn)
{
	int err;

	down_read(&mem_hotplug_lock);
	err = __sim_reclaim_pfn(pfn);
	up_read(&mem_hotplug_lock);
	return err;
}

int sim_reclaim_process_page(struct mm_struct *mm, unsigned long vpn)
{
	long pfn = sim_process_pfn(mm, vpn);

	if (pfn == -EINVAL)
		return -EINVAL;
	if (pfn < 0)
		return -ENOENT;
	return sim_reclaim_pfn((unsigned long)pfn);
}

unsigned long sim_shrink_lru(unsigned long nr_to_scan)
{
	unsigned long freed = 0, scanned = 0;

	if (!machine.initialized)
		return 0;
	while (scanned++ < nr_to_scan) {
		struct page *page = NULL;

		step_lock(&lru_lock);
		if (!list_empty(&lru_list)) {
			page = list_first_entry(&lru_list, struct page, lru);
			/* Rotate, so that the next scan sees the next page. */
			list_del_init(&page->lru);
			list_add_tail(&page->lru, &lru_list);
			if (!__get_page_unless_zero(page)) {
				page = NULL;
			} else {
				ClearPageLRU(page);
				list_del_init(&page->lru);
				nr_lru--;
			}
		}
		step_unlock(&lru_lock);
		if (!page)
			break;
		if (!shrink_page(page))
			freed++;
	}
	return freed;
}

/** @} */

/* ================================================================ */
/** \defgroup migrate Page migration
 *
 * migrate_pages() as in 2009 and 2013, one code with the era deciding the
 * differences: a page is locked, its ptes become migration entries (or,
 * for a swap cache page, swap entries), its swap cache slot moves to the
 * new page with the count frozen, its bytes are copied, KSM is told
 * (ksm_migrate_page()), and the ptes are pointed at the new page.  A
 * process touching a migration entry waits for the old page's lock.
 *
 * For KSM pages: before seed 004 they migrate like any other page; seed
 * 004 refuses them except to memory hot-remove, which locks ksmd out; the
 * 2013 series (seed 000) lets them migrate everywhere, and makes
 * get_ksm_page() follow them.
 * @{ */

/**
 * A fault on a migration entry: wait until the migration of that page is
 * over (it holds the page lock throughout), then retry the access
 * (migration_entry_wait()).
 */
static void migration_entry_wait(struct mm_struct *mm, unsigned long address)
{
	struct page *page;
	swp_entry_t entry;
	pte_t pte;

	spin_lock(&mm->page_table_lock);
	pte = *pte_offset(mm, address);
	entry = pte_to_swp_entry(pte);
	if (!is_swap_pte(pte) || !is_migration_entry(entry))
		goto out;
	page = migration_entry_to_page(entry);
	/*
	 * Once the migration entry is here, the page is locked and its
	 * refcount is raised; but it may have been frozen and freed by now,
	 * in which case the pte has changed too: just retry.
	 */
	if (!__get_page_unless_zero(page))
		goto out;
	spin_unlock(&mm->page_table_lock);
	sim_trace("%s waits on the migration of pfn %lu", mm->sim_name,
		  page_to_pfn(page));
	wait_on_page_locked(page);
	put_page(page);
	return;
out:
	spin_unlock(&mm->page_table_lock);
}

/**
 * Simulation: a migration or an exchange took (\a d 1) or is about to
 * drop (-1) its reference on \a anon_vma, if it has one: the auditor
 * counts ksm_refcount's references by who holds them.
 */
static void sim_anon_vma_in_flight(struct anon_vma *anon_vma, int d)
{
	if (anon_vma)
		atomic_fetch_add(&anon_vma->sim_in_flight, d);
}

/**
 * Drop page_get_anon_vma()'s reference, freeing the anon_vma if it was the
 * last user (the processes that mapped the page may have exited while
 * migration held it).
 */
static void put_anon_vma(struct anon_vma *anon_vma)
{
	bool empty;

	spin_lock(&anon_vma->lock);
	empty = atomic_fetch_sub(&anon_vma->ksm_refcount, 1) == 1 &&
		list_empty(&anon_vma->head);
	spin_unlock(&anon_vma->lock);
	if (empty)
		anon_vma_free(anon_vma);
}

/**
 * An anonymous page's anon_vma, with a reference that keeps it while the
 * page's ptes are migration entries (page_get_anon_vma()); NULL if the
 * page is not mapped.  An unmapped page's mapping may name an anon_vma
 * freed with its last user (a swap cache page whose processes exited):
 * as the kernel, take a reference only on one still in use (its
 * atomic_inc_not_zero()), and only while the page is mapped.
 */
static struct anon_vma *page_get_anon_vma(struct page *page)
{
	struct anon_vma *anon_vma = page_anon_vma(page);
	bool live;

	if (!anon_vma || !page_mapped(page))
		return NULL;
	spin_lock(&anon_vma->lock);	/* its memory stays an anon_vma */
	live = !list_empty(&anon_vma->head) ||
	       atomic_load(&anon_vma->ksm_refcount);
	if (live)
		atomic_fetch_add(&anon_vma->ksm_refcount, 1);
	spin_unlock(&anon_vma->lock);
	if (!live)
		return NULL;
	if (!page_mapped(page)) {	/* unmapped meanwhile */
		put_anon_vma(anon_vma);
		return NULL;
	}
	return anon_vma;
}


/**
 * Walk the reverse map of an anonymous page: every vma of its anon_vma
 * whose range covers the page's index (rmap_walk_anon()).  Migration holds
 * the anon_vma, so it may be walked even while nothing maps the page.
 */
static int rmap_walk_anon(struct page *page,
			  int (*rmap_one)(struct page *, struct vm_area_struct *,
					  unsigned long, void *), void *arg)
{
	struct anon_vma *anon_vma = page_anon_vma(page);
	struct list_head *pos;
	int ret = SWAP_AGAIN;

	if (!anon_vma)
		return ret;
	/*
	 * Held by a mapping, or by the walker's reference: a freed one
	 * could be another process's by now (SLAB_DESTROY_BY_RCU reuses
	 * it), and the walk would put ptes into the wrong mm.
	 */
	VM_BUG_ON(anon_vma->sim_freed);
	spin_lock(&anon_vma->lock);
	for (pos = anon_vma->head.next; pos != &anon_vma->head;
	     pos = pos->next) {
		struct vm_area_struct *vma = list_entry(pos,
				struct vm_area_struct, anon_vma_node);
		unsigned long address = vma->vm_start +
					(page->index << PAGE_SHIFT);

		if (address >= vma->vm_end)
			continue;
		ret = rmap_one(page, vma, address, arg);
		if (ret != SWAP_AGAIN)
			break;
	}
	spin_unlock(&anon_vma->lock);
	return ret;
}

/** Walk \a page's reverse map: KSM, anonymous or file (rmap_walk()). */
static int rmap_walk(struct page *page,
		     int (*rmap_one)(struct page *, struct vm_area_struct *,
				     unsigned long, void *), void *arg)
{
	VM_BUG_ON(!PageLocked(page));
	if (PageKsm(page))
		return rmap_walk_ksm(page, rmap_one, arg);
	if (PageAnon(page))
		return rmap_walk_anon(page, rmap_one, arg);
	return rmap_walk_file(page, rmap_one, arg);
}

/**
 * Point a migration entry for \a arg (the old page) at \a new, in \a vma
 * at \a addr (remove_migration_pte()).
 */
static int remove_migration_pte(struct page *new, struct vm_area_struct *vma,
				unsigned long addr, void *arg)
{
	struct mm_struct *mm = vma->vm_mm;
	struct page *old = arg;
	swp_entry_t entry;
	pte_t *ptep;

	spin_lock(&mm->page_table_lock);
	if (!mm->pgd)
		goto out;
	ptep = pte_offset(mm, addr);
	entry = pte_to_swp_entry(*ptep);
	if (!is_swap_pte(*ptep) || !is_migration_entry(entry) ||
	    migration_entry_to_page(entry) != old)
		goto out;
	get_page(new);
	*ptep = mk_pte(new, swp_type(entry) == SWP_MIGRATION_WRITE);
	if (PageAnon(new))
		page_add_anon_rmap(new, vma, addr);
	else
		page_add_file_rmap(new);
out:
	spin_unlock(&mm->page_table_lock);
	return SWAP_AGAIN;
}

/**
 * Replace every migration entry for \a old by a pte mapping \a new: \a new
 * is the migrated copy, or \a old itself when migration failed.
 */
static void remove_migration_ptes(struct page *old, struct page *new)
{
	rmap_walk(new, remove_migration_pte, old);
}

/**
 * References a page holds besides its ptes when isolated: the isolation's,
 * and for a page cache page the cache's and its buffer heads'
 * (expected_page_refs() of mm/migrate.c, which seed 003 exports).
 */
static int expected_page_refs(struct address_space *mapping,
			      struct page *page)
{
	int expected_count = 1;

	if (mapping)
		expected_count += 1 + PagePrivate(page);
	return expected_count;
}

/**
 * Move the page cache slot of the file page \a page to \a newpage, with
 * the cache's reference, the buffer heads and their reference, and the
 * node counters (migrate_page_move_mapping() and buffer_migrate_page()
 * in one).  The count is frozen at its expected value, isolation + cache
 * + buffers, under tree_lock: a speculative find_get_page() either got
 * its reference before (and the freeze fails) or retries after.
 */
static int migrate_file_page_move_mapping(struct page *newpage,
					  struct page *page)
{
	struct address_space *mapping = page_mapping(page);
	int expected_count = expected_page_refs(mapping, page);
	struct page *_Atomic *slot = &mapping->slots[page->index];
	int nid = page_to_nid(page), newnid = page_to_nid(newpage);

	spin_lock(&mapping->tree_lock);
	if (page_count(page) != expected_count || atomic_load(slot) != page ||
	    !page_freeze_refs(page, expected_count)) {
		spin_unlock(&mapping->tree_lock);
		return -EAGAIN;
	}
	get_page(newpage);		/* the cache's reference */
	if (PagePrivate(page)) {
		struct buffer_head *bh = (struct buffer_head *)page->private;

		get_page(newpage);	/* the buffers' reference */
		newpage->private = page->private;
		page->private = 0;
		ClearPagePrivate(page);
		bh->b_page = newpage;	/* set_bh_page() */
		SetPagePrivate(newpage);
	}
	atomic_store(slot, newpage);
	page_unfreeze_refs(page, 1);	/* only the isolation's is left */
	if (nid != newnid) {
		atomic_fetch_sub(&node_stat.pages[nid], 1);
		atomic_fetch_add(&node_stat.pages[newnid], 1);
		if (PageDirty(page)) {
			atomic_fetch_sub(&node_stat.dirty[nid], 1);
			atomic_fetch_add(&node_stat.dirty[newnid], 1);
		}
	}
	spin_unlock(&mapping->tree_lock);
	return 0;
}

/**
 * Move the swap cache's reference from \a page to \a newpage
 * (migrate_page_move_mapping()); a file page's slot moves as above.  An anonymous page outside the swap cache
 * has nothing to move: only the count, 1 (the isolation reference) once
 * every pte is a migration entry, is checked.  A swap cache page's count
 * is frozen at its expected value while the cache slot is switched: this
 * is the state in which get_ksm_page() meets a zero count on a page that
 * is still its KSM page (R9).
 */
static int migrate_page_move_mapping(struct page *newpage, struct page *page)
{
	int expected_count = 2;		/* isolation + swap cache */
	struct page **slot;

	if (page_mapping(page))
		return migrate_file_page_move_mapping(newpage, page);
	if (!PageSwapCache(page)) {
		if (page_count(page) != 1)
			return -EAGAIN;
		return 0;
	}
	spin_lock(&swapper_space.tree_lock);
	slot = &swap.cache[swp_offset((swp_entry_t){ page->private })];
	if (page_count(page) != expected_count || *slot != page) {
		spin_unlock(&swapper_space.tree_lock);
		return -EAGAIN;
	}
	if (!page_freeze_refs(page, expected_count)) {
		spin_unlock(&swapper_space.tree_lock);
		return -EAGAIN;
	}
	sim_trace("migrate: pfn %lu's count frozen to move its swap cache slot",
		  page_to_pfn(page));
	race_window(RW_MIGRATE_FROZEN);
	get_page(newpage);		/* add cache reference */
	newpage->private = page->private;
	SetPageSwapCache(newpage);
	*slot = newpage;
	/* Drop the cache reference from the old page by unfreezing to one
	 * less: we know this is not the last reference. */
	page_unfreeze_refs(page, expected_count - 1);
	spin_unlock(&swapper_space.tree_lock);
	return 0;
}

/**
 * Tell KSM that \a oldpage's contents now live in \a newpage: point the
 * stable node at the new frame (ksm_migrate_page()).  Both pages are
 * locked, and newpage->mapping was set in advance to oldpage's, so a
 * get_ksm_page() that rereads kpfn finds the new page ready.
 */
static void ksm_migrate_page(struct page *newpage, struct page *oldpage)
{
	struct stable_node *stable_node;

	VM_BUG_ON(!PageLocked(oldpage));
	VM_BUG_ON(!PageLocked(newpage));
	VM_BUG_ON(page_mapping_word(newpage) != page_mapping_word(oldpage));

	stable_node = page_stable_node(newpage);
	if (!stable_node)
		return;
	VM_BUG_ON(stable_node_page(stable_node) != oldpage);
	if (!era_since(ERA_HOTREMOVE)) {
		stable_node->page = newpage;	/* before seed 004 */
		return;
	}
	if (era_since(ERA_MIGRATION))
		stable_node_moved(stable_node);
	WRITE_ONCE(stable_node->kpfn, page_to_pfn(newpage));
	sim_trace_give(&stable_node->kpfn, page_to_pfn(newpage), "kpfn %lu",
		       page_to_pfn(newpage));
	node_event(stable_node, "ksm_migrate_page: kpfn to",
		   page_to_pfn(newpage));
	sim_trace("ksm_migrate_page: node %u kpfn %lu -> %lu",
		  stable_node->sim_id, page_to_pfn(oldpage),
		  page_to_pfn(newpage));
	if (!era_since(ERA_MIGRATION))
		return;			/* 2009: no more than that */
	race_window(RW_KSM_MIGRATE_KPFN);
	/*
	 * Seed 000: newpage->mapping was set in advance; now we need
	 * smp_wmb() to make sure that the new stable_node->kpfn is visible
	 * to get_ksm_page() before it can see that oldpage->mapping has gone
	 * stale (or that PageSwapCache has been cleared): pairs with the
	 * smp_rmb() at stale: in get_ksm_page() (R10).
	 */
	if (fix_on(FIX_WMB))
		smp_wmb();
	if (fix_on(FIX_CLEAR_OLD_MAPPING))
		WRITE_ONCE(oldpage->mapping, PAGE_MAPPING_ANON |
			   PAGE_MAPPING_KSM);	/* set_page_stable_node(NULL) */
}

/**
 * Copy \a page's bytes and state to \a newpage, and tell KSM
 * (migrate_page_copy()).
 */
static void migrate_page_copy(struct page *newpage, struct page *page)
{
	memcpy(page_address(newpage), page_address(page), PAGE_SIZE);
	atomic_fetch_add(&sim_bytes_copied, PAGE_SIZE);
	/* Its smp_wmb() publishes newpage->mapping before the new kpfn. */
	SetPageUptodate(newpage);
	if (PageDirty(page)) {
		ClearPageDirty(page);
		SetPageDirty(newpage);
	}
	ksm_migrate_page(newpage, page);
	/*
	 * Please do not reorder this without considering how mm/ksm.c's
	 * get_ksm_page() depends upon ksm_migrate_page() and PageSwapCache().
	 */
	if (PageSwapCache(page))
		ClearPageSwapCache(page);
	ClearPagePrivate(page);
	page->private = 0;
	/* Until 2012 the old page lost its mapping here, before its ptes. */
	if (!era_since(ERA_MIGRATION))
		tracked_write(&page->mapping, 0);
	sim_trace("migrate: pfn %lu copied to pfn %lu", page_to_pfn(page),
		  page_to_pfn(newpage));
	race_window(RW_MIGRATE_COPIED);
}

/**
 * Give \a newpage the identity of \a page, move its bytes, and point its
 * ptes at it (move_to_new_page()); not its ptes when \a remap_swapcache
 * is false (see unmap_and_move()).  Both pages stay locked.
 */
static int move_to_new_page(struct page *newpage, struct page *page,
			    bool remap_swapcache)
{
	int rc;

	BUG_ON(!trylock_page(newpage));	/* nobody else can know newpage */
	newpage->index = page->index;
	/*
	 * Set in advance: from here the new page, too, holds KSM's key.  A
	 * plain store, ordered before the new kpfn only by the smp_wmb() in
	 * SetPageUptodate(): a modelled store (group model, R11).
	 */
	model_store(&newpage->mapping, MODEL_SET, page_mapping_word(page),
		    "newpage->mapping");
	if (PageSwapBacked(page))
		SetPageSwapBacked(newpage);

	rc = migrate_page_move_mapping(newpage, page);
	if (!rc) {
		race_window(RW_MIGRATE_MOVED);
		migrate_page_copy(newpage, page);
		if (remap_swapcache)
			remove_migration_ptes(page, newpage);
		/* From 2012: only once the ptes point at the new page. */
		if (era_since(ERA_MIGRATION))
			tracked_write(&page->mapping, 0);
	} else {
		tracked_write(&newpage->mapping, 0);
	}
	unlock_page(newpage);
	return rc;
}

/** Where a migration's target pages come from (new_page_t). */
typedef struct page *(*new_page_t)(struct page *page, unsigned long private,
				   int **result);

/**
 * Migrate one isolated \a page to a page from \a get_new_page
 * (unmap_and_move()).  \a force allows sleeping on the page lock;
 * \a offlining says memory hot-remove has locked KSM out (seed 004).
 * Returns 0, -EAGAIN (try again), -EBUSY, -ENOMEM.
 */
static int unmap_and_move(new_page_t get_new_page, unsigned long private,
			  struct page *page, int force, bool offlining)
{
	struct anon_vma *anon_vma = NULL;
	bool remap_swapcache = true;
	struct page *newpage;
	int *result = NULL;
	int rc = 0;

	newpage = get_new_page(page, private, &result);
	if (!newpage)
		return -ENOMEM;
	if (page_count(page) == 1)
		goto move_newpage;	/* freed under us: nothing to move */

	rc = -EAGAIN;
	if (!trylock_page(page)) {
		if (!force)
			goto move_newpage;
		lock_page(page);
	}
	sim_trace("migrate: locked pfn %lu%s", page_to_pfn(page),
		  PageKsm(page) ? " (KSM)" : "");
	race_window(RW_MIGRATE_LOCKED);

	/*
	 * Seed 004: only memory hotplug's offline_pages() caller has locked
	 * out KSM, and can safely migrate a KSM page.  The other cases have
	 * skipped PageKsm along with PageReserved - but it is only now when
	 * we have the page lock that we can be certain it will not go KSM
	 * beneath us (KSM will not upgrade a page from PageAnon to PageKsm
	 * when it sees its pagecount raised, but only here do we take the
	 * page lock which serializes that).  (R7; 2013 removed it, R8-R12.)
	 */
	if (ksm_era == ERA_HOTREMOVE && fix_on(FIX_MIGRATE_REFUSE_KSM) &&
	    PageKsm(page) && !offlining) {
		sim_trace("migrate: refuses KSM pfn %lu: not offlining",
			  page_to_pfn(page));
		rc = -EBUSY;
		goto unlock;
	}
	/* A file page under writeback: its I/O still reads this frame. */
	if (PageWriteback(page)) {
		if (!force)
			goto unlock;
		wait_on_page_writeback(page);
	}
	if (PageAnon(page) && !PageKsm(page)) {
		anon_vma = page_get_anon_vma(page);
		if (anon_vma) {
			/* held until the ptes point at the new page */
		} else if (PageSwapCache(page)) {
			/*
			 * Unmapped, and its anon_vma may be gone with its
			 * last vma: migrate the swap cache page, but walk
			 * nothing to remap it (nothing maps it).
			 */
			remap_swapcache = false;
		} else {
			goto unlock;	/* unmapped meanwhile: -EAGAIN */
		}
	}
	sim_anon_vma_in_flight(anon_vma, 1);
	/*
	 * No mapping: nothing maps the page.  In the kernel, a swap cache page
	 * just read in, of which try_to_unmap() would BUG; here, where a
	 * swap-in maps its page before it unlocks it, an orphan: an old page
	 * that someone held past its migration (paths.c: test_migrate_orphan).
	 */
	if (!page_mapping_word(page))
		goto skip_unmap;
	try_to_unmap(page, TTU_MIGRATION);
	race_window(RW_MIGRATE_UNMAPPED);
skip_unmap:
	if (!page_mapped(page))
		rc = move_to_new_page(newpage, page, remap_swapcache);
	if (rc && remap_swapcache)
		remove_migration_ptes(page, page);
	else
		atomic_fetch_add(&activity.migrations, 1);
	if (anon_vma) {
		sim_anon_vma_in_flight(anon_vma, -1);
		put_anon_vma(anon_vma);
	}
unlock:
	unlock_page(page);
move_newpage:
	if (rc != -EAGAIN) {
		/* Migrated (or refused): the old page goes back, and so is
		 * freed if migration has taken all but the isolation. */
		list_del_init(&page->lru);
		putback_lru_page(page);
	}
	if (result)
		*result = rc ? rc : page_to_nid(newpage);
	putback_lru_page(newpage);
	return rc;
}

/** Give every page left on \a l back to the LRU (putback_lru_pages()). */
static void putback_lru_pages(struct list_head *l)
{
	while (!list_empty(l)) {
		struct page *page = list_first_entry(l, struct page, lru);

		list_del_init(&page->lru);
		putback_lru_page(page);
	}
}

/**
 * Migrate the isolated pages on \a from to pages from \a get_new_page,
 * trying up to ten passes, sleeping on locks from the fourth
 * (migrate_pages()).  Pages left over go back to the LRU.  \a offlining
 * is seed 004's argument (the 2013 series removed it: from the migration
 * era it is ignored).  Returns the number not migrated, or -ENOMEM.
 */
static int migrate_pages(struct list_head *from, new_page_t get_new_page,
			 unsigned long private, bool offlining)
{
	int retry = 1, nr_failed = 0, pass, rc = 0;

	for (pass = 0; pass < 10 && retry; pass++) {
		struct list_head *pos, *next;

		retry = 0;
		for (pos = from->next; pos != from; pos = next) {
			struct page *page = list_entry(pos, struct page, lru);

			next = pos->next;
			if (pass)
				cond_resched();	/* a retry: others first */
			rc = unmap_and_move(get_new_page, private, page,
					    pass > 2, offlining);
			switch (rc) {
			case -ENOMEM:
				goto out;
			case -EAGAIN:
				retry++;
				break;
			case 0:
				break;
			default:
				nr_failed++;	/* permanent failure */
				break;
			}
		}
	}
	rc = 0;
out:
	putback_lru_pages(from);
	return rc ? rc : nr_failed + retry;
}

/* ---------------------------------------------------------------- */
/* Callers: NUMA placement, and direct migration for the examples. */

/** A target page on exactly node \a node (new_node_page()). */
static struct page *new_node_page(struct page *page, unsigned long node,
				  int **result)
{
	(void)page;
	(void)result;
	return alloc_page_node_exact((int)node, FAIL_MIGRATE_TARGET);
}

/** The status slot of a single-page migration (see sim_migrate_pfn()). */
struct sim_migrate_one {
	int node;			/**< where to */
	int status;			/**< rc, or the node on success */
};

/** new_page_t for sim_migrate_pfn(): reports the result. */
static struct page *new_page_one(struct page *page, unsigned long private,
				 int **result)
{
	struct sim_migrate_one *m = (struct sim_migrate_one *)private;

	(void)page;
	*result = &m->status;
	return m->node >= 0 ? alloc_page_node_exact(m->node,
						    FAIL_MIGRATE_TARGET) :
			      alloc_page_node(page_to_nid(page) ^ 1,
					      FAIL_MIGRATE_TARGET);
}

/**
 * Migrate the page in frame \a pfn to node \a node (or anywhere else if
 * \a node < 0), as a caller without the hot-remove lock-out would
 * (compaction, mbind: \a offlining false).  Returns 0 when migrated,
 * -EBUSY (refused), -EAGAIN (still busy after every pass), -ENOMEM,
 * -EINVAL (bad pfn or node).
 */
static int __sim_migrate_pfn(unsigned long pfn, int node, bool offlining)
{
	struct sim_migrate_one m = { .node = node, .status = -EAGAIN };
	struct list_head list;
	struct page *page;
	int rc;

	if (!machine.initialized || !pfn_valid(pfn) ||
	    node >= (int)machine.cfg.nr_nodes)
		return -EINVAL;
	page = pfn_to_page(pfn);
	if (isolate_lru_page(page))
		return -EBUSY;
	INIT_LIST_HEAD(&list);
	list_add_tail(&page->lru, &list);
	rc = migrate_pages(&list, new_page_one, (unsigned long)&m, offlining);
	if (rc < 0)		/* no page to move it to */
		return rc;
	return m.status >= 0 ? 0 : m.status;
}

int sim_migrate_pfn(unsigned long pfn, int node, bool offlining)
{
	int err;

	down_read(&mem_hotplug_lock);
	err = __sim_migrate_pfn(pfn, node, offlining);
	up_read(&mem_hotplug_lock);
	return err;
}

/**
 * Move every page of \a mm that is not on node \a node there, as
 * mbind(MPOL_MF_MOVE_ALL) does (check_pte_range(), migrate_to_node()).
 * With \a strict (MPOL_MF_STRICT), a page that cannot be moved makes it
 * fail with -EIO.  Seed 004 skips KSM pages here, "as we cannot move
 * PageKsm pages sensibly or safely yet"; the 2013 series moves them too.
 */
int sim_mbind(struct mm_struct *mm, int node, bool strict)
{
	struct list_head pagelist;
	unsigned long vpn;
	int nr_failed;

	if (!sim_mm_valid(mm) || ksm_test_exit(mm) || node < 0 ||
	    node >= (int)machine.cfg.nr_nodes)
		return -EINVAL;
	INIT_LIST_HEAD(&pagelist);
	down_read(&mm->mmap_sem);
	for (vpn = 0; vpn < mm->sim_nr_pages; vpn++) {
		struct page *page;
		pte_t pte;

		spin_lock(&mm->page_table_lock);
		pte = mm->pgd[vpn];
		if (!pte_present(pte)) {
			spin_unlock(&mm->page_table_lock);
			continue;
		}
		page = pfn_to_page(pte_pfn(pte));
		/*
		 * Seed 004: vm_normal_page() filters out zero pages, but there
		 * might still be PageReserved pages to skip, perhaps in a
		 * VDSO.  And we cannot move PageKsm pages sensibly or safely
		 * yet.
		 */
		if (PageReserved(page) || (ksm_era == ERA_HOTREMOVE &&
		    fix_on(FIX_NUMA_SKIP_KSM) && PageKsm(page))) {
			spin_unlock(&mm->page_table_lock);
			continue;
		}
		if (page_to_nid(page) == node) {
			spin_unlock(&mm->page_table_lock);
			continue;
		}
		sim_trace("mbind: %s page %lu, pfn %lu, to node %d",
			  mm->sim_name, vpn, page_to_pfn(page), node);
		race_window(RW_NUMA_CHECKED);
		if (!isolate_lru_page(page))	/* migrate_page_add() */
			list_add_tail(&page->lru, &pagelist);
		spin_unlock(&mm->page_table_lock);
	}
	nr_failed = list_empty(&pagelist) ? 0 :
		    migrate_pages(&pagelist, new_node_page, node, false);
	up_read(&mm->mmap_sem);
	if (nr_failed < 0)
		return nr_failed;
	return strict && nr_failed ? -EIO : 0;
}

/**
 * move_pages(2) without nodes: the node of each page, or -ENOENT for none
 * (do_pages_stat()).  Seed 004 answers -ENOENT for a KSM page too.
 */
int sim_page_node(struct mm_struct *mm, unsigned long vpn)
{
	struct page *page;
	int nid;

	if (sim_check_range(mm, vpn, 0, 0))
		return -EINVAL;
	spin_lock(&mm->page_table_lock);
	if (!pte_present(mm->pgd[vpn])) {
		spin_unlock(&mm->page_table_lock);
		return -ENOENT;
	}
	page = pfn_to_page(pte_pfn(mm->pgd[vpn]));
	nid = page_to_nid(page);
	/* Use PageReserved to check for zero page */
	if (PageReserved(page) || (ksm_era == ERA_HOTREMOVE &&
	    fix_on(FIX_NUMA_SKIP_KSM) && PageKsm(page)))
		nid = -ENOENT;
	spin_unlock(&mm->page_table_lock);
	return nid;
}

/* ---------------------------------------------------------------- */
/* Compaction, and Hugh's migrate-on-fault hack (seed 002). */

/** compaction's new_page_t: any frame outside the block being emptied. */
static struct page *compaction_alloc(struct page *page, unsigned long private,
				     int **result)
{
	(void)private;
	(void)result;
	return alloc_page_node(page_to_nid(page), FAIL_MIGRATE_TARGET);
}

/**
 * Compact section \a s: migrate every page in use out of it, as
 * compaction does for a page block (isolate_migratepages(),
 * migrate_pages() without offlining).  Returns how many frames of the
 * block are still in use afterwards, or -EINVAL.
 */
long sim_compact_section(unsigned long s)
{
	struct mem_section *ms;
	struct list_head list;
	unsigned long pfn, start;
	long used = 0;

	if (!machine.initialized || s >= machine.cfg.nr_sections)
		return -EINVAL;
	ms = &machine.sections[s];
	start = s * PAGES_PER_SECTION;
	INIT_LIST_HEAD(&list);
	step_lock(&zone_lock);
	if (!ms->online || ms->isolated) {	/* offline, or busy */
		used = ms->online ? -EBUSY : -EINVAL;
		step_unlock(&zone_lock);
		return used;
	}
	ms->isolated = true;		/* targets come from elsewhere */
	step_unlock(&zone_lock);
	for (pfn = start; pfn < start + PAGES_PER_SECTION; pfn++)
		if (!isolate_lru_page(pfn_to_page(pfn)))
			list_add_tail(&pfn_to_page(pfn)->lru, &list);
	if (!list_empty(&list))
		migrate_pages(&list, compaction_alloc, 0, false);
	step_lock(&zone_lock);
	ms->isolated = false;
	used = (long)ms->nr_used;
	step_unlock(&zone_lock);
	return used;
}

/** One fault in how many migrates the whole mm (0: never). */
static _Atomic unsigned int sim_migrate_on_fault __sim_state;

/**
 * Hugh's test method (seed 002): "occasionally on fault, just migrate
 * every possible page in that mm for no reason other than to test page
 * migration".  Every page of \a mm goes to the other node.  Caller holds
 * mmap_sem for read, as a fault does.
 */
static void migrate_on_fault(struct mm_struct *mm)
{
	struct list_head list;
	unsigned long vpn;

	INIT_LIST_HEAD(&list);
	for (vpn = 0; vpn < mm->sim_nr_pages; vpn++) {
		struct page *page;

		spin_lock(&mm->page_table_lock);
		if (pte_present(mm->pgd[vpn])) {
			page = pfn_to_page(pte_pfn(mm->pgd[vpn]));
			if (!isolate_lru_page(page))
				list_add_tail(&page->lru, &list);
		}
		spin_unlock(&mm->page_table_lock);
	}
	if (!list_empty(&list))
		migrate_pages(&list, new_node_page, mm->sim_nid ^ 1, false);
	mm->sim_nid ^= 1;		/* and next time back again */
}

/** Migrate every page of the faulting mm on one fault in \a n (0: off). */
void sim_set_migrate_on_fault(unsigned int n)
{
	sim_migrate_on_fault = n;
}

/* ---------------------------------------------------------------- */
/* Pins: get_user_pages() references held by a device, say. */

/** Frames pinned, with how often (guarded by zone_lock). */
static struct {
	unsigned long pfn[64];
	int count[64];
} sim_pins __sim_state;

/**
 * Pin the page \a mm maps at \a vpn, as get_user_pages() would: a
 * reference nobody else accounts for, which keeps migration from moving
 * the page.  Returns its pfn, or -EINVAL, -ENOENT (not present), -ENOSPC.
 */
long sim_pin_page(struct mm_struct *mm, unsigned long vpn)
{
	struct page *page;
	int i, slot = -1;

	if (sim_check_range(mm, vpn, 0, 0))
		return -EINVAL;
	down_read(&mm->mmap_sem);
	page = follow_page(&mm->vma, vpn_to_address(vpn));
	up_read(&mm->mmap_sem);
	if (!page)
		return -ENOENT;
	step_lock(&zone_lock);
	for (i = 0; i < 64; i++)
		if ((sim_pins.count[i] && sim_pins.pfn[i] == page_to_pfn(page))
		    || (slot < 0 && !sim_pins.count[i]))
			slot = i;
	if (slot >= 0) {
		sim_pins.pfn[slot] = page_to_pfn(page);
		sim_pins.count[slot]++;
	}
	step_unlock(&zone_lock);
	if (slot < 0) {
		put_page(page);
		return -ENOSPC;
	}
	return (long)page_to_pfn(page);
}

/** Drop a pin of sim_pin_page().  Returns 0, or -EINVAL if none. */
int sim_unpin_page(unsigned long pfn)
{
	int i, found = -1;

	step_lock(&zone_lock);
	for (i = 0; i < 64 && found < 0; i++)
		if (sim_pins.count[i] && sim_pins.pfn[i] == pfn) {
			sim_pins.count[i]--;
			found = i;
		}
	step_unlock(&zone_lock);
	if (found < 0)
		return -EINVAL;
	put_page(pfn_to_page(pfn));
	return 0;
}

/** @} */

/* ================================================================ */
/** \defgroup exchange Exchanging pages (seed 003, the 2019 RFC)
 *
 * Two in-use pages swap contents and identities in place of two
 * migrations: no new page to allocate, none to free, the same bytes
 * moved.  exchange_two_pages()
 * isolates both; unmap_and_exchange() locks both, turns the ptes of both
 * into migration entries, and calls exchange_from_to_pages(), which
 * exchanges the mappings (exchange_page_move_mapping()), the bytes
 * (exchange_page()) and the flags (exchange_page_flags(), which tells
 * KSM); then each page's old ptes are pointed at the other page.
 *
 * Seed 003 adds the anonymous-with-file case.  "from" is always the
 * anonymous page ("to" may be either); the two counts are frozen under
 * the file's tree_lock, the slot is switched to the anonymous page, and
 * the cache's reference moves with it, as do the buffer heads.
 *
 * Lines here that the RFC does not have, each a fix switch: the anonymous
 * page enters the cache not uptodate (FIX_XCHG_CLEAR_UPTODATE,
 * R13.uptodate), and KSM pages are refused (FIX_XCHG_REFUSE_KSM, R14):
 * with it off, the RFC's order of stores, the issue's alternative and
 * migration's order can be chosen (ksm_set_exchange_order()), and each goes
 * wrong.  Pages in the swap cache are refused: the RFC's anonymous case
 * exchanges no swap cache slot.
 * @{ */

/** How hard an exchange may try (enum migrate_mode). */
enum migrate_mode {
	MIGRATE_ASYNC,		/**< never sleep on a lock */
	MIGRATE_SYNC_LIGHT,	/**< sleep on locks, not on writeback */
	MIGRATE_SYNC,		/**< sleep on both: exchange_two_pages() */
};

/**
 * What an exchange of a KSM page in XCHG_KSM_ADVANCE order leaves for
 * ksm_exchange_page(): the page that still holds the key, and the mapping
 * it is to take once kpfn names the other.
 */
struct exchange_state {
	struct page *ksm_page;		/**< old KSM page, still keyed */
	struct page *other;		/**< new KSM page, keyed in advance */
	unsigned long ksm_mapping;	/**< ksm_page's mapping to come */
	bool from_uptodate;		/**< PG_uptodate of from, before */
};

/**
 * The mapping word \a page is to take in the exchange, with its index.
 * Through WRITE_ONCE(): a lockless get_ksm_page() may be reading it (R14).
 */
static void exchange_set_mapping(struct page *page, unsigned long mapping,
				 unsigned long index)
{
	page->index = index;
	WRITE_ONCE(page->mapping, mapping);
}

/**
 * The issue's ordered alternative (R14, XCHG_KSM_KPFN_FIRST): each stable
 * node names the other page before the mappings are exchanged.
 */
static void ksm_exchange_kpfn_first(struct page *to_page,
				    struct page *from_page)
{
	struct stable_node *to_node = page_stable_node(to_page);
	struct stable_node *from_node = page_stable_node(from_page);

	if (to_node) {
		stable_node_moved(to_node);
		WRITE_ONCE(to_node->kpfn, page_to_pfn(from_page));
		sim_trace_give(&to_node->kpfn, page_to_pfn(from_page), "kpfn %lu",
			       page_to_pfn(from_page));
		node_event(to_node, "exchange: kpfn to",
			   page_to_pfn(from_page));
	}
	if (from_node) {
		stable_node_moved(from_node);
		WRITE_ONCE(from_node->kpfn, page_to_pfn(to_page));
		sim_trace_give(&from_node->kpfn, page_to_pfn(to_page), "kpfn %lu",
			       page_to_pfn(to_page));
		node_event(from_node, "exchange: kpfn to",
			   page_to_pfn(to_page));
	}
	smp_wmb();
	if (to_node || from_node) {
		sim_trace("exchange: kpfn names the other page, mappings not "
			  "yet exchanged");
		race_window(RW_XCHG_KPFN);
	}
}

/**
 * Exchange mapping and index of the two pages, in the order the KSM
 * setting asks (R14).  The RFC writes from's, then to's; kpfn follows in
 * ksm_exchange_page().  In XCHG_KSM_ADVANCE order the page that is to
 * become the KSM page takes the key now, while the old KSM page keeps it
 * until ksm_exchange_page() has pointed kpfn at the new one: as migration
 * sets newpage->mapping in advance.
 */
static void exchange_page_mappings(struct page *to_page, struct page *from_page,
				   struct exchange_state *st)
{
	unsigned long to_mapping_value = page_mapping_word(to_page);
	unsigned long from_mapping_value = page_mapping_word(from_page);
	unsigned long to_page_index = to_page->index;
	unsigned long from_page_index = from_page->index;

	if (xchg_ksm_order == XCHG_KSM_ADVANCE &&
	    (PageKsm(to_page) || PageKsm(from_page))) {
		struct page *ksm = PageKsm(to_page) ? to_page : from_page;
		struct page *other = ksm == to_page ? from_page : to_page;

		st->ksm_page = ksm;
		st->other = other;
		st->ksm_mapping = page_mapping_word(other);
		exchange_set_mapping(other, page_mapping_word(ksm), ksm->index);
		ksm->index = ksm == to_page ? from_page_index : to_page_index;
		sim_trace("exchange: pfn %lu keyed in advance",
			  page_to_pfn(other));
		race_window(RW_XCHG_SWAPPED);
		return;
	}
	if (xchg_ksm_order == XCHG_KSM_KPFN_FIRST)
		ksm_exchange_kpfn_first(to_page, from_page);
	exchange_set_mapping(from_page, to_mapping_value, to_page_index);
	exchange_set_mapping(to_page, from_mapping_value, from_page_index);
	if (PageKsm(to_page) || PageKsm(from_page))
		sim_trace("exchange: mappings exchanged; kpfn %s",
			  xchg_ksm_order == XCHG_KSM_KPFN_FIRST ?
			  "was updated first" : "not yet updated");
	race_window(RW_XCHG_SWAPPED);
}

/**
 * Exchange the mappings of the two locked, unmapped pages
 * (exchange_page_move_mapping()).  Both anonymous: their counts must be
 * the expected ones (no freeze: an anonymous page outside the swap cache
 * has no slot, and nothing sets its count).  Anonymous \a from_page with
 * file \a to_page: under the file's tree_lock freeze to_page, then
 * from_page (-EAGAIN, to_page unfrozen, if that fails), exchange, switch
 * the slot to from_page, and unfreeze with the cache's reference moved.
 * Returns 0 or -EAGAIN.
 */
static int exchange_page_move_mapping(struct address_space *to_mapping,
				      struct address_space *from_mapping,
				      struct page *to_page,
				      struct page *from_page,
				      struct exchange_state *st)
{
	int to_expected_count = expected_page_refs(to_mapping, to_page);
	int from_expected_count = expected_page_refs(from_mapping, from_page);
	bool to_swapbacked = PageSwapBacked(to_page);
	bool from_swapbacked = PageSwapBacked(from_page);
	struct page *_Atomic *slot;
	int to_nid, from_nid;
	bool dirty;

	VM_BUG_ON(to_mapping != page_mapping(to_page));
	VM_BUG_ON(from_mapping != page_mapping(from_page));

	if (!to_mapping) {
		/* Anonymous page without mapping */
		if (page_count(to_page) != to_expected_count)
			return -EAGAIN;
	}
	if (!from_mapping) {
		/* Anonymous page without mapping */
		if (page_count(from_page) != from_expected_count)
			return -EAGAIN;
	}

	if (!from_mapping && !to_mapping) {
		/* both are anonymous pages */
		exchange_page_mappings(to_page, from_page, st);
		ClearPageSwapBacked(from_page);
		if (to_swapbacked)
			SetPageSwapBacked(from_page);
		ClearPageSwapBacked(to_page);
		if (from_swapbacked)
			SetPageSwapBacked(to_page);
		return 0;
	}
	BUG_ON(from_mapping);	/* file<->anon is folded by the caller */

	/* from is anonymous, to is file-backed */
	to_nid = page_to_nid(to_page);
	from_nid = page_to_nid(from_page);
	slot = &to_mapping->slots[to_page->index];
	spin_lock(&to_mapping->tree_lock);
	if (page_count(to_page) != to_expected_count ||
	    atomic_load(slot) != to_page) {
		spin_unlock(&to_mapping->tree_lock);
		return -EAGAIN;
	}
	if (!page_freeze_refs(to_page, to_expected_count)) {
		spin_unlock(&to_mapping->tree_lock);
		return -EAGAIN;
	}
	sim_trace("exchange: file pfn %lu frozen at %d", page_to_pfn(to_page),
		  to_expected_count);
	race_window(RW_XCHG_TO_FROZEN);
	/*
	 * Seed 003 (R13.freeze): freeze from_page too.  A count that is only
	 * checked can be raised a moment later by any get_page_unless_zero()
	 * - and the unfreeze below sets the count, erasing that reference.
	 */
	if (fix_on(FIX_XCHG_FREEZE_FROM) ?
	    !page_freeze_refs(from_page, from_expected_count) :
	    page_count(from_page) != from_expected_count) {
		/* Seed 003 (R13.eagain): do not leave to_page frozen. */
		if (fix_on(FIX_XCHG_UNFREEZE_ON_EAGAIN))
			page_unfreeze_refs(to_page, to_expected_count);
		spin_unlock(&to_mapping->tree_lock);
		sim_trace("exchange: anon pfn %lu is busy: -EAGAIN",
			  page_to_pfn(from_page));
		return -EAGAIN;
	}
	race_window(RW_XCHG_FROZEN);
	/*
	 * Now we know that no one else is looking at the page:
	 * no turning back from here.
	 *
	 * Ours (R13.uptodate): from_page is about to be the file's page,
	 * findable by find_get_page(), but its bytes are the anonymous ones
	 * until exchange_page().  read(2) copies an uptodate page without
	 * taking its lock: so clear PG_uptodate until the bytes are right
	 * (a page new to the cache is never uptodate before its read).
	 * exchange_page_flags() gives to_page the flag from_page had.
	 */
	if (fix_on(FIX_XCHG_CLEAR_UPTODATE))
		ClearPageUptodate(from_page);
	ClearPageSwapBacked(from_page);
	ClearPageSwapBacked(to_page);
	exchange_page_mappings(to_page, from_page, st);
	if (to_swapbacked)
		SetPageSwapBacked(from_page);
	if (from_swapbacked)
		SetPageSwapBacked(to_page);
	dirty = PageDirty(to_page);

	/* Seed 003 (R13): the slot names from_page before anyone can look. */
	if (fix_on(FIX_XCHG_SLOT_BEFORE_UNFREEZE))
		atomic_store(slot, from_page);
	/* move cache reference */
	page_unfreeze_refs(to_page, to_expected_count - 1);
	/*
	 * Frozen or only checked (R13.freeze), from_page's count is set, not
	 * raised: page_ref_unfreeze() is an atomic_set().  (Only checked, its
	 * count is not 0 here, and --debug-vm's VM_BUG_ON says so.)
	 */
	page_unfreeze_refs(from_page, from_expected_count + 1);
	sim_trace("exchange: counts unfrozen: file pfn %lu now %d, anon pfn "
		  "%lu now %d", page_to_pfn(to_page), page_count(to_page),
		  page_to_pfn(from_page), page_count(from_page));
	race_window(RW_XCHG_UNFROZEN);
	if (!fix_on(FIX_XCHG_SLOT_BEFORE_UNFREEZE))
		atomic_store(slot, from_page);
	spin_unlock(&to_mapping->tree_lock);

	/*
	 * Seed 003 (R13.counters): if moved to a different node then also
	 * account the page for that node.
	 */
	if (to_nid != from_nid && fix_on(FIX_XCHG_MOVE_COUNTERS)) {
		atomic_fetch_sub(&node_stat.pages[to_nid], 1);
		atomic_fetch_add(&node_stat.pages[from_nid], 1);
		if (dirty) {
			atomic_fetch_sub(&node_stat.dirty[to_nid], 1);
			atomic_fetch_add(&node_stat.dirty[from_nid], 1);
		}
	}
	return 0;
}

/**
 * Exchange the bytes of the two pages (exchange_page()): word by word,
 * as the RFC does, with no third page.
 */
static void exchange_page(struct page *to, struct page *from)
{
	unsigned long *a = (unsigned long *)page_address(to);
	unsigned long *b = (unsigned long *)page_address(from);
	size_t i;

	for (i = 0; i < PAGE_SIZE / sizeof(*a); i++) {
		unsigned long t = a[i];

		a[i] = b[i];
		b[i] = t;
	}
	atomic_fetch_add(&sim_bytes_copied, 2 * PAGE_SIZE);
}

/**
 * Tell KSM that a KSM page and its partner have exchanged
 * (ksm_exchange_page()).  Both pages are locked and unmapped.
 *
 * The RFC: the mapping words were exchanged already; now each stable
 * node's kpfn is pointed at the page that holds its key, with smp_wmb().
 * Between the two, get_ksm_page() finds the old page without the key and
 * kpfn unchanged: a live node is judged stale (R14).
 *
 * Migration's order (XCHG_KSM_ADVANCE): the other page has held the key
 * since exchange_page_mappings(); publish that before the new kpfn, and
 * the new kpfn before the old page loses the key.  That keeps the key
 * findable throughout; but the bytes were exchanged in place before it,
 * while kpfn still named the old page: a lockless stable_tree_search()
 * compared against bytes that are not the node's (R14.advance).
 */
static void ksm_exchange_page(struct page *to_page, struct page *from_page,
			      struct exchange_state *st)
{
	struct stable_node *to_stable_node, *from_stable_node;

	VM_BUG_ON(!PageLocked(to_page));
	VM_BUG_ON(!PageLocked(from_page));

	if (xchg_ksm_order == XCHG_KSM_ADVANCE) {
		struct stable_node *node;

		if (!st->ksm_page)
			return;
		node = page_stable_node(st->other);
		smp_wmb();
		stable_node_moved(node);
		WRITE_ONCE(node->kpfn, page_to_pfn(st->other));
		sim_trace_give(&node->kpfn, page_to_pfn(st->other), "kpfn %lu",
			       page_to_pfn(st->other));
		node_event(node, "exchange: kpfn to", page_to_pfn(st->other));
		sim_trace("ksm_exchange_page: node %u kpfn %lu -> %lu",
			  node->sim_id, page_to_pfn(st->ksm_page),
			  page_to_pfn(st->other));
		race_window(RW_XCHG_KPFN);
		smp_wmb();
		WRITE_ONCE(st->ksm_page->mapping, st->ksm_mapping);
		return;
	}
	if (xchg_ksm_order == XCHG_KSM_KPFN_FIRST)
		return;			/* done before the exchange */

	to_stable_node = page_stable_node(to_page);
	from_stable_node = page_stable_node(from_page);
	if (to_stable_node) {
		VM_BUG_ON(to_stable_node->kpfn != page_to_pfn(from_page));
		stable_node_moved(to_stable_node);
		WRITE_ONCE(to_stable_node->kpfn, page_to_pfn(to_page));
		sim_trace_give(&to_stable_node->kpfn, page_to_pfn(to_page), "kpfn %lu",
			       page_to_pfn(to_page));
		node_event(to_stable_node, "exchange: kpfn to",
			   page_to_pfn(to_page));
		smp_wmb();
	}
	if (from_stable_node) {
		VM_BUG_ON(from_stable_node->kpfn != page_to_pfn(to_page));
		stable_node_moved(from_stable_node);
		WRITE_ONCE(from_stable_node->kpfn, page_to_pfn(from_page));
		sim_trace_give(&from_stable_node->kpfn, page_to_pfn(from_page), "kpfn %lu",
			       page_to_pfn(from_page));
		node_event(from_stable_node, "exchange: kpfn to",
			   page_to_pfn(from_page));
		smp_wmb();
	}
	if (to_stable_node || from_stable_node)
		race_window(RW_XCHG_KPFN);
}

/**
 * Exchange the flags that travel with the contents (exchange_page_flags()):
 * uptodate and dirty here (PG_swapcache and PG_writeback are clear on both:
 * refused, waited for), then tell KSM.
 */
static void exchange_page_flags(struct page *to_page, struct page *from_page,
				struct exchange_state *st)
{
	bool to_uptodate = PageUptodate(to_page);
	bool from_uptodate = st->from_uptodate;
	bool to_dirty = PageDirty(to_page), from_dirty = PageDirty(from_page);

	ClearPageUptodate(to_page);
	ClearPageUptodate(from_page);
	ClearPageDirty(to_page);
	ClearPageDirty(from_page);
	if (from_uptodate)
		SetPageUptodate(to_page);
	if (to_uptodate)
		SetPageUptodate(from_page);
	if (from_dirty)
		SetPageDirty(to_page);
	if (to_dirty)
		SetPageDirty(from_page);
	ksm_exchange_page(to_page, from_page, st);
}

/**
 * Write a dirty file page out before trying again (writeout(), which seed
 * 003 exports): its ptes come back, the page is unlocked for the I/O and
 * locked again.  The exchange cannot succeed this time: -EAGAIN.
 */
static int writeout(struct address_space *mapping, struct page *page)
{
	if (!clear_page_dirty_for_io(page))
		return -EAGAIN;		/* someone else started a write */
	remove_migration_ptes(page, page);
	SetPageWriteback(page);
	unlock_page(page);
	file_page_io(mapping, page);
	end_page_writeback(page);
	lock_page(page);
	return -EAGAIN;
}

/**
 * Exchange everything of the two locked, unmapped pages
 * (exchange_from_to_pages()): mappings first, then bytes and flags.
 * \a from_page is anonymous; \a to_page anonymous or a file's.
 */
static int exchange_from_to_pages(struct page *to_page, struct page *from_page,
				  enum migrate_mode mode)
{
	struct address_space *to_page_mapping = page_mapping(to_page);
	struct address_space *from_page_mapping = page_mapping(from_page);
	struct exchange_state st = { 0 };
	struct buffer_head *to_head = NULL;
	int rc;

	VM_BUG_ON(!PageLocked(from_page));
	VM_BUG_ON(!PageLocked(to_page));

	/* from_page has to be anonymous page */
	BUG_ON(from_page_mapping);
	BUG_ON(PageWriteback(from_page));
	/* writeback has to finish */
	BUG_ON(PageWriteback(to_page));

	st.from_uptodate = PageUptodate(from_page);
	if (!to_page_mapping) {
		/* to_page is anonymous */
exchange_mappings:
		rc = exchange_page_move_mapping(to_page_mapping,
						from_page_mapping, to_page,
						from_page, &st);
	} else if (to_page_mapping->buffers) {
		/* a_ops->migratepage == buffer_migrate_page */
		if (!PagePrivate(to_page))
			goto exchange_mappings;
		to_head = (struct buffer_head *)to_page->private;
		rc = exchange_page_move_mapping(to_page_mapping,
						from_page_mapping, to_page,
						from_page, &st);
		if (rc)
			return rc;
		/*
		 * Seed 003 (R13.private): the buffer heads, PG_private and
		 * their reference go to the page now in the cache.  (The
		 * buffers' own locks are left out: only the page lock, held,
		 * guards them here.)
		 */
		if (fix_on(FIX_XCHG_MOVE_PRIVATE)) {
			ClearPagePrivate(to_page);
			from_page->private = to_page->private;
			to_page->private = 0;
			/* transfer private page count */
			put_page(to_page);
			get_page(from_page);
			to_head->b_page = from_page;	/* set_bh_page() */
			SetPagePrivate(from_page);
		}
	} else {
		/* no migratepage: fallback_migrate_page() */
		if (PageDirty(to_page)) {
			if (mode != MIGRATE_SYNC)
				return -EBUSY;
			return writeout(to_page_mapping, to_page);
		}
		goto exchange_mappings;
	}
	if (rc)
		return rc;

	/* actual page data exchange */
	exchange_page(to_page, from_page);
	sim_trace("exchange: bytes of pfn %lu and pfn %lu exchanged",
		  page_to_pfn(to_page), page_to_pfn(from_page));
	race_window(RW_XCHG_EXCHANGED);
	exchange_page_flags(to_page, from_page, &st);
	return 0;
}

/**
 * Exchange two isolated pages (unmap_and_exchange()): lock both, wait for
 * the file page's writeback, replace every pte of both by migration
 * entries, exchange, and point the ptes at the page that now holds their
 * contents - or back at their own page if the exchange failed.
 *
 * The locks are taken as the RFC takes them, from_page then to_page, with
 * no order between the two pages; that cannot deadlock, because both are
 * isolated first: no other exchange (nor migration) can be holding either
 * as one of its pair, and every other path that sleeps on a page lock
 * holds no other page lock meanwhile (KSM trylocks its second page,
 * migration its new one).  The one exception, writeout(), relocks to_page
 * while holding from_page, which nobody else can hold.
 */
static int unmap_and_exchange(struct page *from_page, struct page *to_page,
			      enum migrate_mode mode)
{
	struct anon_vma *from_anon_vma = NULL, *to_anon_vma = NULL;
	bool from_page_was_mapped = false, to_page_was_mapped = false;
	int rc = -EAGAIN;

	if (!trylock_page(from_page)) {
		if (mode == MIGRATE_ASYNC)
			goto out;
		lock_page(from_page);
	}
	sim_trace("exchange: locked pfn %lu", page_to_pfn(from_page));
	race_window(RW_XCHG_LOCKED);
	if (!trylock_page(to_page)) {
		if (mode == MIGRATE_ASYNC)
			goto out_unlock_from;
		lock_page(to_page);
	}

	/* from_page is supposed to be an anonymous page */
	VM_BUG_ON(PageWriteback(from_page));
	if (PageWriteback(to_page)) {
		/*
		 * Only in the case of a full synchronous migration is it
		 * necessary to wait for PageWriteback.  (Seed 003,
		 * R13.writeback.)
		 */
		if (mode != MIGRATE_SYNC) {
			rc = -EBUSY;
			goto out_unlock;
		}
		if (fix_on(FIX_XCHG_WAIT_WRITEBACK))
			wait_on_page_writeback(to_page);
	}
	/*
	 * Not in the RFC's path: a swap cache page has a slot the anonymous
	 * case does not move: refused.
	 *
	 * Ours (R14): a KSM page is refused, as seed 004 had migration refuse
	 * one.  Its bytes must never change while its stable node can find
	 * it: stable_tree_search() and stable_tree_insert() compare against
	 * them without the page lock.  Migration copies, so the page kpfn
	 * names always holds the node's bytes; an exchange swaps them in
	 * place, so in no order of its stores does it (walkthrough, ch. 7).
	 * Checked under both page locks: a page becomes PageKsm only under
	 * its lock.
	 */
	if (PageSwapCache(from_page) || PageSwapCache(to_page) ||
	    (fix_on(FIX_XCHG_REFUSE_KSM) &&
	     (PageKsm(from_page) || PageKsm(to_page)))) {
		rc = -EBUSY;
		goto out_unlock;
	}
	/*
	 * Migration's order cannot cover two KSM pages (both keys cannot be
	 * on both pages), nor a KSM page with a file page (its count is
	 * frozen, and get_ksm_page() takes a frozen page that is not in the
	 * swap cache for a freed one).
	 */
	if (xchg_ksm_order == XCHG_KSM_ADVANCE &&
	    ((PageKsm(from_page) && PageKsm(to_page)) ||
	     ((PageKsm(from_page) || PageKsm(to_page)) &&
	      page_mapping(to_page)))) {
		rc = -EBUSY;
		goto out_unlock;
	}

	/*
	 * By try_to_unmap(), page->mapcount goes down to 0 here: hold the
	 * anon_vmas meanwhile (see unmap_and_move()).
	 */
	if (PageAnon(from_page) && !PageKsm(from_page))
		from_anon_vma = page_get_anon_vma(from_page);
	if (PageAnon(to_page) && !PageKsm(to_page))
		to_anon_vma = page_get_anon_vma(to_page);
	sim_anon_vma_in_flight(from_anon_vma, 1);
	sim_anon_vma_in_flight(to_anon_vma, 1);

	/* Establish migration ptes */
	if (page_mapped(from_page)) {
		try_to_unmap(from_page, TTU_MIGRATION);
		from_page_was_mapped = true;
	}
	if (page_mapped(to_page)) {
		try_to_unmap(to_page, TTU_MIGRATION);
		to_page_was_mapped = true;
	}
	race_window(RW_XCHG_UNMAPPED);
	if (!page_mapped(from_page) && !page_mapped(to_page))
		rc = exchange_from_to_pages(to_page, from_page, mode);

	if (rc) {
		if (from_page_was_mapped)
			remove_migration_ptes(from_page, from_page);
		if (to_page_was_mapped)
			remove_migration_ptes(to_page, to_page);
	} else {
		if (from_page_was_mapped)
			remove_migration_ptes(from_page, to_page);
		if (to_page_was_mapped)
			remove_migration_ptes(to_page, from_page);
		atomic_fetch_add(&sim_exchanges, 1);
	}
	sim_anon_vma_in_flight(from_anon_vma, -1);
	sim_anon_vma_in_flight(to_anon_vma, -1);
	if (from_anon_vma)
		put_anon_vma(from_anon_vma);
	if (to_anon_vma)
		put_anon_vma(to_anon_vma);
out_unlock:
	unlock_page(to_page);
out_unlock_from:
	unlock_page(from_page);
out:
	return rc;
}

/**
 * Exchange two pages on the LRU (exchange_two_pages()): isolate both,
 * fold file<->anon into anon<->file, refuse two file pages, exchange
 * synchronously, and put both back.
 */
static int exchange_two_pages(struct page *page1, struct page *page2)
{
	struct page *from_page = page1, *to_page = page2;
	int rc;

	if (!(PageLRU(page1) && PageLRU(page2)))
		return -EBUSY;
	if (isolate_lru_page(page1))
		return -EBUSY;
	if (isolate_lru_page(page2)) {
		putback_lru_page(page1);
		return -EBUSY;
	}
	if (page_mapping(page1) && page_mapping(page2)) {
		rc = -EINVAL;	/* both file-backed: not exchanged */
	} else {
		if (page_mapping(from_page)) {
			/* file<->anon: fold this to the anon<->file case */
			from_page = page2;
			to_page = page1;
		}
		rc = unmap_and_exchange(from_page, to_page, MIGRATE_SYNC);
	}
	putback_lru_page(page1);
	putback_lru_page(page2);
	return rc;
}

/** sim_exchange_pfns(), with mem_hotplug_lock held for reading. */
static int __sim_exchange_pfns(unsigned long pfn1, unsigned long pfn2)
{
	if (!machine.initialized || !pfn_valid(pfn1) || !pfn_valid(pfn2) ||
	    pfn1 == pfn2)
		return -EINVAL;
	if (ksm_era != ERA_EXCHANGE)
		return -EOPNOTSUPP;
	return exchange_two_pages(pfn_to_page(pfn1), pfn_to_page(pfn2));
}

int sim_exchange_pfns(unsigned long pfn1, unsigned long pfn2)
{
	int err;

	down_read(&mem_hotplug_lock);
	err = __sim_exchange_pfns(pfn1, pfn2);
	up_read(&mem_hotplug_lock);
	return err;
}

int sim_exchange_pages(struct mm_struct *mm1, unsigned long vpn1,
		       struct mm_struct *mm2, unsigned long vpn2)
{
	long pfn1 = sim_process_pfn(mm1, vpn1);
	long pfn2 = sim_process_pfn(mm2, vpn2);

	if (pfn1 == -EINVAL || pfn2 == -EINVAL)
		return -EINVAL;
	if (pfn1 < 0 || pfn2 < 0)
		return -ENOENT;
	return sim_exchange_pfns((unsigned long)pfn1, (unsigned long)pfn2);
}

/** sim_pfn_walk(), with mem_hotplug_lock held for reading. */
static int __sim_pfn_walk(unsigned long pfn)
{
	struct page *page;

	if (!machine.initialized || !pfn_valid(pfn))
		return -EINVAL;
	page = pfn_to_page(pfn);
	if (!get_page_unless_zero(page))
		return 0;
	sim_trace("a pfn walker holds pfn %lu (count %d)", pfn,
		  page_count(page));
	race_window(RW_PFN_WALK_GOT);
	put_page(page);
	return 1;
}

int sim_pfn_walk(unsigned long pfn)
{
	int ret;

	down_read(&mem_hotplug_lock);
	ret = __sim_pfn_walk(pfn);
	up_read(&mem_hotplug_lock);
	return ret;
}

/** @} */

/* ================================================================ */
/** \defgroup hotplug Memory hotplug: offlining and onlining sections
 *
 * offline_pages() as in 2009: isolate the section from the allocator,
 * tell the memory notifier chain MEM_GOING_OFFLINE, migrate every page in
 * use out of it (with offlining set), and when every frame is free, tell
 * MEM_OFFLINE and remove the section: its memmap and frames really go
 * away.  If a page cannot be moved within the retry budget (the kernel's
 * 120 s timeout), MEM_CANCEL_OFFLINE undoes it all.
 *
 * KSM's part is ksm_memory_callback(): lock ksmd out while the struct
 * pages may vanish, and prune the stable nodes whose pages were freed in
 * the range before migration reached them (R5, R6).
 * @{ */

/** Offline gives up after this many rounds (the kernel's 120 s). */
#define OFFLINE_REPEATS	40

/**
 * The first frame in [\a start, \a end) on the LRU, or \a end if none
 * (scan_lru_pages(); the kernel returns 0, a frame it never offlines).
 */
static unsigned long scan_lru_pages(unsigned long start, unsigned long end)
{
	unsigned long pfn;

	for (pfn = start; pfn < end; pfn++)
		if (PageLRU(pfn_to_page(pfn)))
			return pfn;
	return end;
}

/** hot-remove's new_page_t: anywhere not isolated, same node if it can. */
static struct page *hotremove_migrate_alloc(struct page *page,
					    unsigned long private, int **x)
{
	(void)private;
	(void)x;
	return alloc_page_node(page_to_nid(page), FAIL_MIGRATE_TARGET);
}

/**
 * Migrate the pages in use in [\a start, \a end) out (do_migrate_range()),
 * with offlining set.  Returns 0, -EBUSY (a page in use but not on the
 * LRU), or how many pages could not be moved.
 */
static int do_migrate_range(unsigned long start, unsigned long end)
{
	struct list_head source;
	unsigned long pfn;
	int not_managed = 0, move_pages = 256;

	INIT_LIST_HEAD(&source);
	for (pfn = start; pfn < end && move_pages > 0; pfn++) {
		struct page *page = pfn_to_page(pfn);

		if (!page_count(page))
			continue;
		if (!isolate_lru_page(page)) {
			list_add_tail(&page->lru, &source);
			move_pages--;
		} else {
			not_managed++;	/* in use, but not movable now */
		}
	}
	if (not_managed) {
		putback_lru_pages(&source);
		return -EBUSY;
	}
	if (list_empty(&source))
		return 0;
	return migrate_pages(&source, hotremove_migrate_alloc, 0, true);
}

/**
 * Are all the frames of [\a start, \a end) free?  (check_pages_isolated(),
 * test_pages_isolated()).  Caller holds zone_lock, so that no free is
 * half done.
 */
static bool check_pages_isolated(unsigned long start, unsigned long end)
{
	unsigned long pfn;

	for (pfn = start; pfn < end; pfn++)
		if (!PageBuddy(pfn_to_page(pfn)))
			return false;
	return true;
}

/**
 * Take section \a s offline and remove its memmap and frames
 * (offline_pages()).  Returns 0, -EINVAL (not online), -EBUSY (a page
 * could not be moved: the offline was cancelled).
 */
static int __sim_offline_section(unsigned long s)
{
	struct memory_notify arg;
	struct mem_section *ms;
	unsigned long start, end, pfn;
	int repeats = 0, retry_max = 5, ret;

	if (!machine.initialized || s >= machine.cfg.nr_sections)
		return -EINVAL;
	ms = &machine.sections[s];
	start = s * PAGES_PER_SECTION;
	end = start + PAGES_PER_SECTION;
	arg.start_pfn = start;
	arg.nr_pages = PAGES_PER_SECTION;

	step_lock(&zone_lock);
	if (!ms->online || ms->isolated) {
		ret = ms->online ? -EBUSY : -EINVAL;
		step_unlock(&zone_lock);
		return ret;
	}
	ms->isolated = true;		/* start_isolate_page_range() */
	step_unlock(&zone_lock);
	sim_trace("offline section %lu: isolated; MEM_GOING_OFFLINE", s);
	memory_notify(MEM_GOING_OFFLINE, &arg);
	race_window(RW_OFFLINE_GOING);

	for (;;) {
		ret = -EBUSY;
		if (++repeats > OFFLINE_REPEATS)
			goto failed_removal;	/* the kernel's timeout */
		pfn = scan_lru_pages(start, end);
		if (pfn == end)
			break;
		ret = do_migrate_range(pfn, end);
		if (ret < 0 && --retry_max == 0)
			goto failed_removal;
		if (ret)
			cond_resched();		/* yield(), and try again */
	}
	race_window(RW_OFFLINE_ISOLATED);
	/*
	 * If every frame is free, take them all off the allocator: an
	 * offline section is one it passes over, whose free list nothing
	 * reads until sim_section_online() builds it anew.
	 */
	step_lock(&zone_lock);
	if (!check_pages_isolated(start, end)) {
		step_unlock(&zone_lock);
		ret = -EBUSY;
		goto failed_removal;
	}
	ms->online = false;
	step_unlock(&zone_lock);
	sim_trace("offline section %lu: MEM_OFFLINE", s);
	memory_notify(MEM_OFFLINE, &arg);
	/* synchronize_rcu(): no lookup still holds a struct page of it. */
	while (atomic_load(&sim_rcu_readers))
		cpu_relax();
	section_map(s, 0);		/* the memmap really goes away */
	sim_trace("offline section %lu: memmap and frames removed", s);
	atomic_fetch_add(&activity.offlines, 1);
	return 0;

failed_removal:
	sim_trace("offline section %lu: failed, MEM_CANCEL_OFFLINE", s);
	memory_notify(MEM_CANCEL_OFFLINE, &arg);
	step_lock(&zone_lock);
	ms->isolated = false;		/* undo_isolate_page_range() */
	step_unlock(&zone_lock);
	return ret;
}

int sim_offline_section(unsigned long s)
{
	int err;

	down_write(&mem_hotplug_lock);		/* mem_hotplug_begin() */
	err = __sim_offline_section(s);
	up_write(&mem_hotplug_lock);
	return err;
}

/** Bring an offline section back, all of it free.  -EINVAL if online. */
static int __sim_online_section(unsigned long s)
{
	bool online;

	if (!machine.initialized || s >= machine.cfg.nr_sections)
		return -EINVAL;
	step_lock(&zone_lock);
	online = machine.sections[s].online;
	step_unlock(&zone_lock);
	return online ? -EINVAL : sim_section_online(s);
}

int sim_online_section(unsigned long s)
{
	int err;

	down_write(&mem_hotplug_lock);
	err = __sim_online_section(s);
	up_write(&mem_hotplug_lock);
	return err;
}

/** @} */


/* ================================================================ */
/** \defgroup audit The auditor
 *
 * audit_machine() checks, at a quiescent point, every invariant the
 * design promises, and names the rule each violation breaks:
 *
 *  - both trees are valid red-black trees, and the stable tree is ordered
 *    by the contents of the KSM pages its live nodes name;
 *  - every KSM page names a stable node that is in the tree, and that
 *    node names the page back; a node whose page has gone (stale) is
 *    allowed, as the keyhole removes it lazily, but not with rmap_items
 *    still listed two full scans after its page went;
 *  - every rmap_item is on exactly one list, the one its flags say, and
 *    every pte mapping a page can be found by the page's reverse map;
 *  - every page's count equals the references that exist (ptes, swap
 *    cache, pins), and its mapcount the ptes mapping it;
 *  - the allocator's lists and counts agree with the struct pages;
 *  - the KSM counters equal a recount;
 *  - no two KSM pages have the same contents;
 *  - every anon_vma is freed with its last user and not before, and its
 *    ksm_refcount is the references held on it;
 *  - every process reads back exactly the bytes it wrote.
 *
 * It never touches the struct page of an offline section: a stable node
 * naming one is itself the violation.
 * @{ */

/** Names of the audit kinds, as reports print them. */
static const char *const audit_kind_names[NR_AUDIT_KINDS] = {
	[AUDIT_RBTREE] = "rbtree",
	[AUDIT_ORDER] = "stable-order",
	[AUDIT_NODE_PAGE] = "node-page",
	[AUDIT_PAGE_NODE] = "page-node",
	[AUDIT_RMAP_LIST] = "rmap-list",
	[AUDIT_RMAP_PTE] = "rmap-pte",
	[AUDIT_ANON_VMA] = "anon-vma",
	[AUDIT_REFCOUNT] = "refcount",
	[AUDIT_MAPCOUNT] = "mapcount",
	[AUDIT_COUNTER] = "counter",
	[AUDIT_ALLOCATOR] = "allocator",
	[AUDIT_SWAP] = "swap",
	[AUDIT_DATA] = "data",
	[AUDIT_STALE] = "stale-node",
	[AUDIT_DUPLICATE] = "duplicate",
	[AUDIT_FILE] = "file",
	[AUDIT_LOCK] = "lock",
};

const char *audit_kind_name(enum audit_kind kind)
{
	return (unsigned int)kind < NR_AUDIT_KINDS ? audit_kind_names[kind] :
	       NULL;
}

/**
 * A map from nonzero words (pointers, mostly) to words, for the auditor's
 * questions of membership: "is this node in the tree?", "is this
 * rmap_item on its node's list?".  Open addressing with linear probing,
 * at most half full, so that each question costs O(1) and an audit O(n),
 * never a walk per question.  Built and freed within one audit: not state.
 */
struct audit_map {
	uintptr_t *key;			/**< 0: an empty slot */
	unsigned long *val;		/**< the value of key[i] */
	size_t mask;			/**< slots - 1 (a power of two) */
	size_t nr;			/**< keys in it */
	size_t max;			/**< keys it was sized for */
};

/** A map for up to \a n keys.  Returns false if memory ran out. */
static bool audit_map_init(struct audit_map *m, size_t n)
{
	size_t slots = 16;

	while (slots < 2 * n)
		slots <<= 1;
	m->key = calloc(slots, sizeof(*m->key));
	m->val = calloc(slots, sizeof(*m->val));
	m->mask = slots - 1;
	m->nr = 0;
	m->max = n;
	return m->key && m->val;
}

/** Free a map (a zeroed one too). */
static void audit_map_free(struct audit_map *m)
{
	free(m->key);
	free(m->val);
	memset(m, 0, sizeof(*m));
}

/** The slot of \a key in \a m: where it is, or where it would go. */
static size_t audit_map_slot(const struct audit_map *m, uintptr_t key)
{
	size_t i = (size_t)(mix64(key) & m->mask);

	while (m->key[i] && m->key[i] != key)
		i = (i + 1) & m->mask;
	return i;
}

/**
 * Map \a key to \a val (replacing an old value).  A new key beyond the
 * number the map was sized for is refused (false): a corrupted list can
 * be longer than any count says, and the map must stay half empty.
 */
static bool audit_map_put(struct audit_map *m, uintptr_t key,
			  unsigned long val)
{
	size_t i;

	if (!m->key || !key)
		return false;
	i = audit_map_slot(m, key);
	if (!m->key[i]) {
		if (m->nr == m->max)
			return false;
		m->nr++;
	}
	m->key[i] = key;
	m->val[i] = val;
	return true;
}

/** Is \a key in \a m?  Its value goes to *\a val, if \a val. */
static bool audit_map_get(const struct audit_map *m, uintptr_t key,
			  unsigned long *val)
{
	size_t i;

	if (!m->key || !key)
		return false;
	i = audit_map_slot(m, key);
	if (!m->key[i])
		return false;
	if (val)
		*val = m->val[i];
	return true;
}

/** The auditor's working state for one run. */
static struct {
	struct audit_report *r;
	bool verbose;
	unsigned int limit;		/**< lines printed per kind */
	unsigned int printed[NR_AUDIT_KINDS];
	struct audit_map live_nodes;	/**< the stable tree's nodes */
	struct audit_map listed;	/**< rmap_items on their node's list */
	struct audit_map quarantine;	/**< freed objects (built on demand) */
	struct audit_map frees;		/**< node -> its newest KSM page free */
	unsigned long *frees_older;	/**< ...and the same node's one before */
} audit;

/** Record one violation of \a kind and print it (while under the limit). */
static void audit_fail(enum audit_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void audit_fail(enum audit_kind kind, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	audit.r->count[kind]++;
	audit.r->total++;
	if (!audit.verbose || audit.printed[kind]++ >= audit.limit)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sim_report("  audit: %s: %s", audit_kind_names[kind], buf);
}

/**
 * Check the subtree at \a n: parent links, no red node with a red child;
 * return its black height, or -1 if the two sides differ.
 */
static int audit_rb_subtree(const struct rb_node *n,
			    const struct rb_node *parent, const char *tree,
			    unsigned long *count)
{
	int lh, rh;

	if (!n)
		return 1;
	(*count)++;
	if (rb_parent(n) != parent)
		audit_fail(AUDIT_RBTREE, "%s tree: a node's parent link is "
			   "wrong", tree);
	if (rb_is_red(n) && (rb_is_red(n->rb_left) || rb_is_red(n->rb_right)))
		audit_fail(AUDIT_RBTREE, "%s tree: red node with a red child",
			   tree);
	lh = audit_rb_subtree(n->rb_left, n, tree, count);
	rh = audit_rb_subtree(n->rb_right, n, tree, count);
	if (lh < 0 || rh < 0)
		return -1;
	if (lh != rh) {
		audit_fail(AUDIT_RBTREE, "%s tree: black heights %d and %d "
			   "differ", tree, lh, rh);
		return -1;
	}
	return lh + rb_is_black(n);
}

/** Check a whole tree; returns its node count. */
static unsigned long audit_rbtree(const struct rb_root *root, const char *tree)
{
	unsigned long count = 0;

	if (root->rb_node && !rb_is_black(root->rb_node))
		audit_fail(AUDIT_RBTREE, "%s tree: red root", tree);
	audit_rb_subtree(root->rb_node, NULL, tree, &count);
	return count;
}

/**
 * The most entries an honest rmap list can have: a walk past this is a
 * walk round a cycle that corruption made.
 */
static unsigned long audit_list_limit(void)
{
	return ksm_rmap_items + quarantine.nr + 16;
}

/**
 * Is \a node one of the stable tree's nodes?  Never dereferences it: a
 * lookup in the set audit_stable_tree() gathered from the tree's walk.
 */
static bool audit_node_live(const struct stable_node *node)
{
	return audit_map_get(&audit.live_nodes, (uintptr_t)node, NULL);
}

/**
 * Was \a p freed, and is it still in quarantine?  The same answer as
 * sim_quarantined(), from a set of the quarantine built on the first
 * question (a healthy machine asks none), so that a broken one with many
 * freed objects still costs O(1) a question.
 */
static bool audit_quarantined(const void *p)
{
	unsigned long i;

	if (!audit.quarantine.key) {
		if (!audit_map_init(&audit.quarantine, quarantine.nr))
			return sim_quarantined(p);
		for (i = 0; i < quarantine.nr; i++)
			audit_map_put(&audit.quarantine, (uintptr_t)
				      quarantine_ring[(quarantine.head + i) %
						      SIM_QUARANTINE], 1);
	}
	return audit_map_get(&audit.quarantine, (uintptr_t)p, NULL);
}

/**
 * Index the recent frees of KSM pages by node (sim_ksm_frees): for each
 * node its newest entry in audit.frees, and from each entry the same
 * node's entry before it in audit.frees_older (~0UL: none).  O(ring).
 */
static bool audit_index_frees(void)
{
	unsigned long i, n = sim_ksm_frees_nr, first;

	first = n > SIM_KSM_FREES ? n - SIM_KSM_FREES : 0;
	audit.frees_older = malloc(SIM_KSM_FREES * sizeof(unsigned long));
	if (!audit.frees_older ||
	    !audit_map_init(&audit.frees, SIM_KSM_FREES))
		return false;
	for (i = first; i < n; i++) {	/* oldest first: the newest wins */
		unsigned long k = i % SIM_KSM_FREES, prev;
		uintptr_t key = (uintptr_t)sim_ksm_frees[k].node;

		audit.frees_older[k] = audit_map_get(&audit.frees, key, &prev) ?
				       prev : ~0UL;
		audit_map_put(&audit.frees, key, k);
	}
	return true;
}

/**
 * The full scan at which \a node's page \a pfn was freed, or ~0UL if that
 * is not remembered (see sim_ksm_frees).
 */
static unsigned long audit_stale_since(const struct stable_node *node,
				       unsigned long pfn)
{
	unsigned long k;

	if (!audit_map_get(&audit.frees, (uintptr_t)node, &k))
		return ~0UL;
	for (; k != ~0UL; k = audit.frees_older[k])	/* newest first */
		if (sim_ksm_frees[k].pfn == pfn)
			return sim_ksm_frees[k].seqnr;
	return ~0UL;
}

/**
 * The page a live node names, or NULL if that is in an offline section
 * (reported).  Never touches an offline struct page.
 */
static struct page *audit_node_page(struct stable_node *node)
{
	unsigned long pfn;

	if (era_since(ERA_HOTREMOVE))
		pfn = tracked_read(&node->kpfn);
	else
		pfn = node->page ? page_to_pfn(node->page) : ~0UL;
	if (!pfn_valid(pfn)) {
		audit_fail(AUDIT_NODE_PAGE, "stable node %u names pfn %lu, "
			   "which is not online memory (removed section?)",
			   node->sim_id, pfn);
		return NULL;
	}
	return pfn_to_page(pfn);
}

/** Does \a node currently name \a page as its KSM page? */
static bool audit_node_owns(struct stable_node *node, struct page *page)
{
	return page_mapping_word(page) == ((unsigned long)node |
					   PAGE_MAPPING_ANON |
					   PAGE_MAPPING_KSM);
}

/** Per-frame expectations gathered from the page tables and KSM. */
struct audit_frame {
	int ptes;		/**< ptes mapping it */
	int extra;		/**< other references expected (pins, caches) */
};

/** The stable tree: structure, order, nodes and pages agreeing, lists. */
static void audit_stable_tree(struct audit_frame *fr)
{
	struct page *prev = NULL;
	struct rb_node *n;
	unsigned long shared = 0, sharing = 0, count;

	count = audit_rbtree(&root_stable_tree, "stable");
	if (count != ksm_stable_nodes)
		audit_fail(AUDIT_COUNTER, "%lu stable nodes in the tree, but "
			   "the count says %lu", count,
			   (unsigned long)ksm_stable_nodes);
	for (n = rb_first(&root_stable_tree); n; n = rb_next(n))
		audit_map_put(&audit.live_nodes, (uintptr_t)rb_entry(n,
			      struct stable_node, node), 1);
	for (n = rb_first(&root_stable_tree); n; n = rb_next(n)) {
		struct stable_node *node = rb_entry(n, struct stable_node,
						    node);
		struct hlist_node *h;
		unsigned long len = 0;
		struct page *page = audit_node_page(node);
		bool owns = page && audit_node_owns(node, page);

		for (h = node->hlist.first; h; h = h->next) {
			struct rmap_item *ri = hlist_entry(h, struct rmap_item,
							   hlist);

			if (++len > audit_list_limit()) {
				audit_fail(AUDIT_RMAP_LIST, "node %u's rmap "
					   "list runs in a cycle (corrupted)",
					   node->sim_id);
				break;
			}
			if (audit_quarantined(ri)) {
				audit_fail(AUDIT_RMAP_LIST, "node %u lists an "
					   "rmap_item that was freed (use "
					   "after free)", node->sim_id);
				continue;
			}
			if (ri->head != node || !(ri->address & STABLE_FLAG))
				audit_fail(AUDIT_RMAP_LIST, "rmap_item of %s "
					   "on node %u's list says it is %s",
					   ri->mm ? ri->mm->sim_name : "?",
					   node->sim_id,
					   ri->address & STABLE_FLAG ?
					   "on another node's" : "not stable");
			else
				audit_map_put(&audit.listed, (uintptr_t)ri, 1);
		}
		shared += len > 0;
		sharing += len ? len - 1 : 0;
		if (ksm_era == ERA_PINNED && page)
			fr[page_to_pfn(page)].extra++;	/* the pin */
		if (!owns) {
			/*
			 * Stale: allowed until ksmd stumbles on it; but two
			 * full scans visit every rmap_item, so by then its
			 * rmap_items must have gone with it.
			 */
			unsigned long since = page ? audit_stale_since(node,
						page_to_pfn(page)) : ~0UL;

			if (len && since != ~0UL && ksm_scan.seqnr >= since + 2)
				audit_fail(AUDIT_STALE, "stable node %u lost "
					   "its page %lu full scans ago but "
					   "still lists %lu rmap_items",
					   node->sim_id, (unsigned long)
					   ksm_scan.seqnr - since, len);
			continue;
		}
		if (prev && memcmp_pages(prev, page) >= 0)
			audit_fail(AUDIT_ORDER, "stable node %u (pfn %lu) is "
				   "not above its predecessor (pfn %lu) in "
				   "content", node->sim_id, page_to_pfn(page),
				   page_to_pfn(prev));
		prev = page;
	}
	if (shared != ksm_pages_shared || sharing != ksm_pages_sharing)
		audit_fail(AUDIT_COUNTER, "pages_shared %lu, pages_sharing %lu;"
			   " a recount of the stable tree gives %lu and %lu",
			   (unsigned long)ksm_pages_shared,
			   (unsigned long)ksm_pages_sharing, shared, sharing);
}

/**
 * ksmd's mm_slots: each listed one is hashed, nothing else is, and the
 * count is theirs; and every mm_slot's rmap_items: flags agree with the
 * lists they are on.
 */
static void audit_rmap_items(void)
{
	unsigned long total = 0, unstable = 0, count, slots = 0, hashed = 0;
	unsigned long i, n;
	struct hlist_node *node;
	struct list_head *pos;

	for (pos = ksm_mm_head.mm_list.next; pos != &ksm_mm_head.mm_list;
	     pos = pos->next) {
		struct mm_slot *slot = list_entry(pos, struct mm_slot, mm_list);
		struct rmap_item *ri;
		unsigned long last = 0;

		slots++;
		node = mm_slot_bucket(slot->mm)->first;
		for (n = 0; node && node != &slot->link &&
		     n <= (unsigned long)ksm_nr_mm_slots; n++)
			node = node->next;
		if (node != &slot->link)
			audit_fail(AUDIT_RMAP_LIST, "%s's mm_slot is on ksmd's "
				   "list but not found in mm_slots_hash",
				   slot->mm->sim_name);

		for (ri = slot->rmap_list; ri; ri = ri->rmap_list) {
			total++;
			if (ri->mm != slot->mm)
				audit_fail(AUDIT_RMAP_LIST, "rmap_item on %s's "
					   "list belongs to another mm",
					   slot->mm->sim_name);
			if ((ri->address & PAGE_MASK) < last)
				audit_fail(AUDIT_RMAP_LIST, "%s's rmap_list is "
					   "not sorted", slot->mm->sim_name);
			last = (ri->address & PAGE_MASK) + 1;
			if (ri->address & UNSTABLE_FLAG)
				unstable++;
			if ((ri->address & STABLE_FLAG) &&
			    (ri->address & UNSTABLE_FLAG))
				audit_fail(AUDIT_RMAP_LIST, "rmap_item of %s "
					   "is in both trees", ri->mm->sim_name);
			if (ri->address & STABLE_FLAG) {
				if (!audit_node_live(ri->head)) {
					audit_fail(AUDIT_RMAP_LIST, "rmap_item "
						   "of %s at page %lu is on "
						   "a node no longer in the "
						   "tree", ri->mm->sim_name,
						   linear_page_index(
						   &ri->mm->vma, ri->address &
						   PAGE_MASK));
					continue;
				}
				/* audit_stable_tree() saw it on its node's
				 * list, or it is not there. */
				if (!audit_map_get(&audit.listed, (uintptr_t)ri,
						   NULL))
					audit_fail(AUDIT_RMAP_LIST, "rmap_item "
						   "of %s says node %u but is "
						   "not on its list",
						   ri->mm->sim_name,
						   ri->head->sim_id);
			}
		}
	}
	/*
	 * The hash holds the listed slots and no other (a slot freed but
	 * left hashed would be found by the next get_mm_slot() of its
	 * bucket); ksm_nr_mm_slots counts them.
	 */
	for (i = 0; i < MM_SLOTS_HASH_HEADS; i++)
		for (node = mm_slots_hash[i].first; node && hashed <= slots;
		     node = node->next)
			hashed++;
	if (hashed != slots || slots != ksm_nr_mm_slots)
		audit_fail(AUDIT_COUNTER, "ksmd lists %lu mm_slots, hashes %s%lu"
			   ", counts %lu", slots, hashed > slots ? "at least "
			   : "", hashed, (unsigned long)ksm_nr_mm_slots);
	if (total != ksm_rmap_items)
		audit_fail(AUDIT_COUNTER, "%lu rmap_items exist, the count says "
			   "%lu", total, (unsigned long)ksm_rmap_items);
	if (unstable != ksm_pages_unshared)
		audit_fail(AUDIT_COUNTER, "pages_unshared %lu, but %lu "
			   "rmap_items are marked unstable",
			   (unsigned long)ksm_pages_unshared, unstable);
	count = audit_rbtree(&root_unstable_tree, "unstable");
	if (count > unstable)
		audit_fail(AUDIT_RMAP_LIST, "the unstable tree has %lu nodes "
			   "but only %lu rmap_items are marked unstable",
			   count, unstable);
}

/**
 * A pte of \a mm at page \a vpn maps the KSM \a page; \a items is mm's
 * rmap_items by page (or NULL).  If mm's own rmap_item for that address
 * is in the stable tree, it must be on this page's node, holding mm's
 * anon_vma: that is how rmap_walk_ksm() finds the pte.  (Without one, the
 * pte is findable only through a forked relative's rmap_item, or not until
 * ksmd's next visit: the kernel accepts that, and so does the auditor.)
 */
static void audit_ksm_pte(struct mm_struct *mm, unsigned long vpn,
			  struct page *page, struct rmap_item **items)
{
	struct stable_node *node = page_stable_node(page);
	struct rmap_item *ri = items ? items[vpn] : NULL;

	if (!node || !ri || !(ri->address & STABLE_FLAG))
		return;
	if (ri->head != node)
		audit_fail(AUDIT_RMAP_PTE, "%s page %lu maps the KSM page of "
			   "node %u (pfn %lu), but its rmap_item is on node %u",
			   mm->sim_name, vpn, audit_node_live(node) ?
			   node->sim_id : 0, page_to_pfn(page),
			   audit_node_live(ri->head) ? ri->head->sim_id : 0);
	else if (ri->anon_vma != mm->vma.anon_vma)
		audit_fail(AUDIT_RMAP_PTE, "%s page %lu: its rmap_item holds "
			   "another process's anon_vma", mm->sim_name, vpn);
}

/**
 * mm's rmap_items indexed by page, or NULL if mm has no mm_slot.  The
 * mm_slot is found through mm_slots_hash, as ksmd finds it: one lookup
 * per process, not a walk of every mm_slot.  Caller holds sim_mm_lock,
 * which is innermost: so, at this quiescent point, no ksm_mmlist_lock.
 */
static struct rmap_item **audit_mm_items(struct mm_struct *mm)
{
	struct rmap_item **items, *ri;
	struct mm_slot *slot;

	/* Quiescent: no ksm_mmlist_lock, as audit_rmap_items() takes none. */
	slot = get_mm_slot(mm);
	if (!slot)
		return NULL;
	items = calloc(mm->sim_nr_pages, sizeof(*items));
	if (!items)
		return NULL;
	for (ri = slot->rmap_list; ri; ri = ri->rmap_list) {
		unsigned long vpn = linear_page_index(&mm->vma,
					ri->address & PAGE_MASK);

		if (vpn < mm->sim_nr_pages)
			items[vpn] = ri;
	}
	return items;
}

/** Walk every process's page table: count ptes per frame, check rmap. */
static void audit_page_tables(struct audit_frame *fr)
{
	struct list_head *pos;

	step_lock(&sim_mm_lock);
	for (pos = sim_mm_list.next; pos != &sim_mm_list; pos = pos->next) {
		struct mm_struct *mm = list_entry(pos, struct mm_struct,
						  sim_list);
		struct rmap_item **items = audit_mm_items(mm);
		unsigned long vpn;

		for (vpn = 0; mm->pgd && vpn < mm->sim_nr_pages; vpn++) {
			pte_t pte = mm->pgd[vpn];
			struct page *page;

			if (!pte_present(pte))
				continue;
			if (!pfn_valid(pte_pfn(pte))) {
				audit_fail(AUDIT_RMAP_PTE, "%s page %lu maps "
					   "pfn %lu, which is not online "
					   "memory", mm->sim_name, vpn,
					   pte_pfn(pte));
				continue;
			}
			page = pfn_to_page(pte_pfn(pte));
			fr[pte_pfn(pte)].ptes++;
			if (PageBuddy(page)) {
				audit_fail(AUDIT_RMAP_PTE, "%s page %lu maps "
					   "pfn %lu, which is free",
					   mm->sim_name, vpn, pte_pfn(pte));
				continue;
			}
			if (PageKsm(page)) {
				audit_ksm_pte(mm, vpn, page, items);
				continue;
			}
			if (mm->vma.vm_file) {
				if (page_mapping(page) != mm->vma.vm_file ||
				    page->index != vpn)
					audit_fail(AUDIT_RMAP_PTE, "%s page %lu "
						   "maps pfn %lu, which is not "
						   "page %lu of file %s",
						   mm->sim_name, vpn,
						   pte_pfn(pte), vpn,
						   mm->vma.vm_file->sim_name);
				continue;
			}
			if (!PageAnon(page)) {
				audit_fail(AUDIT_RMAP_PTE, "%s page %lu maps "
					   "pfn %lu, which no reverse map leads "
					   "back from (its mapping is NULL)",
					   mm->sim_name, vpn, pte_pfn(pte));
				continue;
			}
			if (page_anon_vma(page) != mm->vma.anon_vma ||
			    page->index != vpn)
				audit_fail(AUDIT_RMAP_PTE, "%s page %lu maps "
					   "pfn %lu, but that page's reverse "
					   "map (anon_vma, index %lu) cannot "
					   "find it", mm->sim_name, vpn,
					   pte_pfn(pte), page->index);
		}
		free(items);
	}
	step_unlock(&sim_mm_lock);
}

/** Auditor: swap_map against the ptes and the cache; cache references. */
static void audit_swap(struct audit_frame *fr)
{
	unsigned int *refs = calloc(swap.nr_slots, sizeof(*refs));
	struct list_head *pos;
	unsigned long off;

	if (!refs)
		return;
	step_lock(&sim_mm_lock);
	for (pos = sim_mm_list.next; pos != &sim_mm_list; pos = pos->next) {
		struct mm_struct *mm = list_entry(pos, struct mm_struct,
						  sim_list);
		unsigned long vpn;

		for (vpn = 0; mm->pgd && vpn < mm->sim_nr_pages; vpn++) {
			pte_t pte = mm->pgd[vpn];
			swp_entry_t e = pte_to_swp_entry(pte);

			if (!is_swap_pte(pte))
				continue;
			if (is_migration_entry(e)) {
				audit_fail(AUDIT_RMAP_PTE, "%s page %lu still "
					   "holds a migration entry",
					   mm->sim_name, vpn);
				continue;
			}
			if (!swap_entry_valid(e))
				audit_fail(AUDIT_SWAP, "%s page %lu holds a "
					   "bad swap entry", mm->sim_name, vpn);
			else
				refs[swp_offset(e)]++;
		}
	}
	step_unlock(&sim_mm_lock);
	for (off = 1; off < swap.nr_slots; off++) {
		unsigned char map = swap.swap_map[off];
		struct page *page = swap.cache[off];

		if ((map & SWAP_COUNT_MASK) != refs[off])
			audit_fail(AUDIT_SWAP, "slot %lu: swap count %d but %u "
				   "ptes hold it", off, map & SWAP_COUNT_MASK,
				   refs[off]);
		if (!!(map & SWAP_HAS_CACHE) != !!page)
			audit_fail(AUDIT_SWAP, "slot %lu: SWAP_HAS_CACHE is "
				   "%s but the cache %s a page", off,
				   map & SWAP_HAS_CACHE ? "set" : "clear",
				   page ? "has" : "has no");
		if (!page)
			continue;
		if (!PageSwapCache(page) || page->private !=
		    swp_entry(0, off).val)
			audit_fail(AUDIT_SWAP, "pfn %lu is in the swap cache at "
				   "slot %lu but does not say so",
				   page_to_pfn(page), off);
		fr[page_to_pfn(page)].extra++;
	}
	free(refs);
}

/**
 * Files: each slot's page names its file and index; its references (the
 * cache's, the buffers') go into \a fr; buffer heads point back at their
 * page; nrpages and the node counters are recounts.
 */
static void audit_files(struct audit_frame *fr)
{
	unsigned long pages[64] = { 0 }, dirty[64] = { 0 };
	struct list_head *pos;
	unsigned int nid;

	step_lock(&sim_files_lock);
	for (pos = sim_files.next; pos != &sim_files; pos = pos->next) {
		struct address_space *f = list_entry(pos, struct address_space,
						     sim_list);
		unsigned long index, n = 0;

		for (index = 0; index < f->sim_nr_pages; index++) {
			struct page *page = atomic_load(&f->slots[index]);
			struct buffer_head *bh;

			if (!page)
				continue;
			n++;
			if (PageBuddy(page)) {
				audit_fail(AUDIT_FILE, "file %s page %lu is pfn "
					   "%lu, which is free", f->sim_name,
					   index, page_to_pfn(page));
				continue;
			}
			if (page_mapping(page) != f || page->index != index)
				audit_fail(AUDIT_FILE, "file %s page %lu is pfn "
					   "%lu, which says it is %s page %lu",
					   f->sim_name, index, page_to_pfn(page),
					   page_mapping(page) ? "a file's" :
					   "an anonymous", page->index);
			fr[page_to_pfn(page)].extra += 1 + PagePrivate(page);
			pages[page_to_nid(page)]++;
			dirty[page_to_nid(page)] += PageDirty(page);
			if (f->buffers != PagePrivate(page))
				audit_fail(AUDIT_FILE, "file %s page %lu (pfn "
					   "%lu) %s buffer heads", f->sim_name,
					   index, page_to_pfn(page),
					   f->buffers ? "has lost its" :
					   "has");
			bh = PagePrivate(page) ?
			     (struct buffer_head *)page->private : NULL;
			if (bh && (bh->b_page != page ||
				   bh->b_blocknr != index))
				audit_fail(AUDIT_FILE, "file %s page %lu (pfn "
					   "%lu): its buffer heads name pfn %lu",
					   f->sim_name, index, page_to_pfn(page),
					   page_to_pfn(bh->b_page));
		}
		if (n != f->nrpages)
			audit_fail(AUDIT_FILE, "file %s caches %lu pages, "
				   "nrpages says %lu", f->sim_name, n,
				   f->nrpages);
	}
	step_unlock(&sim_files_lock);
	for (nid = 0; nid < machine.cfg.nr_nodes; nid++)
		if ((long)pages[nid] != atomic_load(&node_stat.pages[nid]) ||
		    (long)dirty[nid] != atomic_load(&node_stat.dirty[nid]))
			audit_fail(AUDIT_FILE, "node %u: NR_FILE_PAGES %ld and "
				   "NR_FILE_DIRTY %ld, but a recount of the "
				   "page cache gives %lu and %lu", nid,
				   atomic_load(&node_stat.pages[nid]),
				   atomic_load(&node_stat.dirty[nid]),
				   pages[nid], dirty[nid]);
}

/** A KSM page and its checksum, for audit_duplicates(). */
struct audit_ksm_page {
	unsigned int checksum;		/**< calc_checksum() */
	unsigned long pfn;		/**< where it is */
};

/** Order by checksum, then by pfn (for qsort()). */
static int audit_ksm_page_cmp(const void *a, const void *b)
{
	const struct audit_ksm_page *x = a, *y = b;

	if (x->checksum != y->checksum)
		return x->checksum < y->checksum ? -1 : 1;
	return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

/**
 * Mapped KSM pages with equal contents: a merge that was lost.  Each page
 * is checksummed once and the pages sorted by checksum, so that only
 * pages with equal checksums are compared, each with the first of its
 * run that it equals: O(n log n), every pair covered.
 */
static void audit_duplicates(struct page **ksm, size_t nr)
{
	struct audit_ksm_page *a = malloc(nr * sizeof(*a) + 1);
	size_t i, j, run;

	if (!a)
		return;
	for (i = 0; i < nr; i++) {
		a[i].checksum = calc_checksum(ksm[i]);
		a[i].pfn = page_to_pfn(ksm[i]);
	}
	qsort(a, nr, sizeof(*a), audit_ksm_page_cmp);
	for (run = 0; run < nr; run = i) {
		for (i = run + 1; i < nr && a[i].checksum == a[run].checksum;
		     i++) {
			/* The first earlier page of the run it equals. */
			for (j = run; j < i; j++)
				if (pages_identical(pfn_to_page(a[j].pfn),
						    pfn_to_page(a[i].pfn)))
					break;
			if (j < i)
				audit_fail(AUDIT_DUPLICATE, "KSM pfns %lu and "
					   "%lu have the same contents",
					   a[j].pfn, a[i].pfn);
		}
	}
	free(a);
}

/** Pages: counts and mapcounts, KSM pages naming live nodes, duplicates. */
static void audit_pages(struct audit_frame *fr)
{
	unsigned long pfn, s, nr_lru_pages = 0, listed = 0;
	struct page **ksm = NULL;
	size_t nr_ksm = 0, cap = 0;
	struct list_head *lru;

	for (s = 0; s < machine.cfg.nr_sections; s++) {
		struct mem_section *ms = &machine.sections[s];
		unsigned long start = s * PAGES_PER_SECTION, nfree = 0;
		struct list_head *pos;

		if (!ms->online)
			continue;
		for (pos = ms->free_list.next; pos != &ms->free_list;
		     pos = pos->next) {
			struct page *page = list_entry(pos, struct page, lru);

			nfree++;
			if (!PageBuddy(page) || page_count(page))
				audit_fail(AUDIT_ALLOCATOR, "pfn %lu is on a "
					   "free list but not free",
					   page_to_pfn(page));
		}
		if (nfree != ms->nr_free)
			audit_fail(AUDIT_ALLOCATOR, "section %lu lists %lu "
				   "free frames, counts %lu", s, nfree,
				   ms->nr_free);
		for (pfn = start; pfn < start + PAGES_PER_SECTION; pfn++) {
			struct page *page = pfn_to_page(pfn);
			int want = fr[pfn].ptes + fr[pfn].extra;

			if (PageBuddy(page))
				continue;
			if (page_mapcount(page) != fr[pfn].ptes)
				audit_fail(AUDIT_MAPCOUNT, "pfn %lu: mapcount "
					   "%d but %d ptes map it", pfn,
					   page_mapcount(page), fr[pfn].ptes);
			if (page_count(page) != want)
				audit_fail(AUDIT_REFCOUNT, "pfn %lu: count %d "
					   "but %d references exist%s", pfn,
					   page_count(page), want,
					   page_count(page) > want && !want ?
					   " (leaked)" : "");
			if (PagePrivate(page) && !page_mapping(page))
				audit_fail(AUDIT_FILE, "pfn %lu is not a file's "
					   "page but carries buffer heads", pfn);
			/* page->private belongs to PG_swapcache (the entry)
			 * or PG_private (the buffers); no one else's.  (Not
			 * while locked: both change under the page lock.) */
			if (page->private && !PageSwapCache(page) &&
			    !PagePrivate(page) && !PageLocked(page))
				audit_fail(AUDIT_ALLOCATOR, "pfn %lu: private is "
					   "%#lx, neither a swap entry nor "
					   "buffers", pfn, page->private);
			/*
			 * A page of a process, a file or swap is on the LRU,
			 * where reclaim and compaction find it, unless someone
			 * has it isolated: not when no one runs.
			 */
			if (PageLRU(page))
				nr_lru_pages++;
			else if (page_mapping_word(page) && !sim_scheduled())
				audit_fail(AUDIT_ALLOCATOR, "pfn %lu is in use "
					   "but not on the LRU, with no one "
					   "running", pfn);
			/*
			 * No shmem here, and no MADV_FREE: a page in use is
			 * swap-backed exactly when it is anonymous.  (Not
			 * while locked: migration and exchange move the flag
			 * under the page lock.)
			 */
			if (page_mapping_word(page) && !PageLocked(page) &&
			    PageSwapBacked(page) != PageAnon(page))
				audit_fail(AUDIT_FILE, "pfn %lu: %s page %s "
					   "swap-backed", pfn, PageAnon(page) ?
					   "an anonymous" : "a file's",
					   PageAnon(page) ? "not" : "but");
			if (!PageKsm(page))
				continue;
			if (page_stable_node(page)) {
				struct stable_node *node =
					page_stable_node(page);

				if (!audit_node_live(node)) {
					audit_fail(AUDIT_PAGE_NODE, "KSM pfn "
						   "%lu names a stable node %s",
						   pfn, audit_quarantined(node) ?
						   "that was freed (use after "
						   "free)" :
						   "that is not in the tree");
				} else if (audit_node_page(node) != page) {
					audit_fail(AUDIT_PAGE_NODE, "KSM pfn "
						   "%lu names node %u, which "
						   "names pfn %lu", pfn,
						   node->sim_id,
						   stable_node_pfn(node));
				}
			}
			/* A KSM page with no node (a failed break_cow()
			 * leaves one) is not in the tree: not a duplicate. */
			if (!page_mapped(page) || !page_stable_node(page))
				continue;
			if (nr_ksm == cap) {
				void *p;

				cap = cap ? 2 * cap : 64;
				p = realloc(ksm, cap * sizeof(*ksm));
				if (!p)
					break;
				ksm = p;
			}
			ksm[nr_ksm++] = page;
		}
	}
	audit_duplicates(ksm, nr_ksm);
	free(ksm);
	/* The LRU list, its count and the pages' PG_lru agree. */
	step_lock(&lru_lock);
	for (lru = lru_list.next; lru != &lru_list; lru = lru->next) {
		if (!PageLRU(list_entry(lru, struct page, lru)))
			audit_fail(AUDIT_ALLOCATOR, "pfn %lu is on the LRU "
				   "list without PG_lru", page_to_pfn(
				   list_entry(lru, struct page, lru)));
		listed++;
	}
	if (listed != nr_lru || listed != nr_lru_pages)
		audit_fail(AUDIT_ALLOCATOR, "the LRU lists %lu pages, counts "
			   "%lu, and %lu pages have PG_lru", listed, nr_lru,
			   nr_lru_pages);
	step_unlock(&lru_lock);
}

/**
 * Violations recorded at run time (bad page states).  They stay recorded
 * until the machine is torn down: a machine that was once wrong stays so.
 */
static void audit_runtime_violations(void)
{
	unsigned long i;

	pthread_mutex_lock(&violations.lock);
	for (i = 0; i < violations.nr && i < SIM_MAX_VIOLATIONS; i++)
		audit_fail(violations.v[i].kind, "%s", violations.v[i].text);
	for (; i < violations.nr; i++)
		audit_fail(AUDIT_ALLOCATOR, "(further bad page reports)");
	pthread_mutex_unlock(&violations.lock);
}

/** Every process's bytes. */
static void audit_data(void)
{
	struct list_head *pos;
	struct mm_struct *mms[256];
	struct address_space *files[256];
	int n = 0, i;

	step_lock(&sim_mm_lock);
	for (pos = sim_mm_list.next; pos != &sim_mm_list && n < 256;
	     pos = pos->next)
		mms[n++] = list_entry(pos, struct mm_struct, sim_list);
	step_unlock(&sim_mm_lock);
	for (i = 0; i < n; i++) {
		long bad = sim_process_verify(mms[i], audit.verbose);

		while (bad-- > 0) {
			audit.r->count[AUDIT_DATA]++;
			audit.r->total++;
		}
	}
	n = 0;
	step_lock(&sim_files_lock);
	for (pos = sim_files.next; pos != &sim_files && n < 256;
	     pos = pos->next)
		files[n++] = list_entry(pos, struct address_space, sim_list);
	step_unlock(&sim_files_lock);
	for (i = 0; i < n; i++) {
		long bad = sim_file_verify(files[i], audit.verbose);

		while (bad-- > 0) {
			audit.r->count[AUDIT_DATA]++;
			audit.r->total++;
		}
	}
}

/* ---------------------------------------------------------------- */
/*
 * ksm_state_print_svg(): KSM's structures as they are, drawn for the
 * book - the stable tree, each node with its page and the two words that
 * tie them (kpfn one way, page->mapping the other), its rmap_items; and
 * the unstable tree.  Read at rest: no actor may run.
 */

/** The geometry of a state diagram, in pixels. */
enum {
	ST_ROW = 64,		/* a row: a node, its page, its rmap_items */
	ST_INDENT = 22,		/* a level of a tree */
	ST_NODE_W = 150,	/* a node's box */
	ST_PAGE_X = 300,	/* where the pages stand */
	ST_PAGE_W = 230,	/* a page's box */
	ST_ITEM_X = 600,	/* where the rmap_items start */
	ST_ITEM_W = 96,		/* an rmap_item's box */
	ST_ITEM_GAP = 24,	/* between two of them */
};

/** The depth of \a n in its tree (the root: 0). */
static int rb_depth(const struct rb_node *n)
{
	int d = 0;

	while ((n = rb_parent(n)))
		d++;
	return d;
}

/** "A page 3": whose address \a ri is, and which of its pages. */
static void st_item_name(const struct rmap_item *ri, char *buf, size_t len)
{
	snprintf(buf, len, "%s page %lu", ri->mm ? ri->mm->sim_name : "?",
		 ((ri->address & PAGE_MASK) - SIM_VM_START) >> PAGE_SHIFT);
}

/** A box at \a x, \a y, \a w wide, of \a n lines, the lines centred. */
static void st_box(FILE *f, int x, int y, int w, const char *fill,
		   const char *const *lines, int n)
{
	int i;

	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
		"fill=\"%s\" stroke=\"#555\"/>\n", x, y, w, 15 * n + 8, fill);
	for (i = 0; i < n; i++) {
		fprintf(f, "<text x=\"%d\" y=\"%d\">", x + w / 2,
			y + 15 * i + 16);
		svg_text(f, lines[i], strlen(lines[i]));
		fputs("</text>\n", f);
	}
}

/** An arrow from \a x0 to \a x1 at height \a y, labelled. */
static void st_arrow(FILE *f, int x0, int x1, int y, const char *label)
{
	int d = x1 > x0 ? 8 : -8;

	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
		"stroke=\"#0050a0\" stroke-width=\"1.5\"/>\n<polygon "
		"points=\"%d,%d %d,%d %d,%d\" fill=\"#0050a0\"/>\n",
		x0, y, x1 - d, y, x1, y, x1 - d, y - 4, x1 - d, y + 4);
	if (label && *label) {
		fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"#0050a0\" "
			"font-size=\"11\">", (x0 + x1) / 2, y - 4);
		svg_text(f, label, strlen(label));
		fputs("</text>\n", f);
	}
}

/**
 * The line from \a n's parent to \a n, whose box is at \a x, \a y: the
 * rows of \a root's nodes, in order, are \a row apart from \a y0.
 */
static void st_edge(FILE *f, const struct rb_root *root,
		    const struct rb_node *n, int x, int y, int y0, int row)
{
	const struct rb_node *p = rb_parent(n), *m;
	int px, py = y0;

	if (!p)
		return;
	px = 10 + rb_depth(p) * ST_INDENT + 8;
	for (m = rb_first(root); m && m != p; m = rb_next(m))
		py += row;
	fprintf(f, "<polyline points=\"%d,%d %d,%d %d,%d\" fill=\"none\" "
		"stroke=\"#999\"/>\n", px, py < y ? py + 23 : py, px, y + 12,
		x, y + 12);
}

/** The first byte of \a page, as the book writes contents: 'X'. */
static void st_bytes(const struct page *page, char *buf, size_t len)
{
	int c = page_address(page)[0];

	snprintf(buf, len, "'%c'...", printable(c));
}

void ksm_state_print_svg(FILE *f, const char *title)
{
	struct rb_node *n;
	int rows = 0, urows = 0, h, y, w = ST_ITEM_X, i;
	char a[128], b[64], c[16], d[64];

	for (n = rb_first(&root_stable_tree); n; n = rb_next(n)) {
		struct stable_node *node = rb_entry(n, struct stable_node,
						    node);
		struct hlist_node *pos;
		int k = 0;

		rows++;
		for (pos = node->hlist.first; pos; pos = pos->next)
			k++;
		if (ST_ITEM_X + k * (ST_ITEM_W + ST_ITEM_GAP) > w)
			w = ST_ITEM_X + k * (ST_ITEM_W + ST_ITEM_GAP);
	}
	for (n = rb_first(&root_unstable_tree); n; n = rb_next(n))
		urows++;
	h = 50 + rows * ST_ROW + 34 + (urows ? urows * 34 : 30) + 6;
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n<title>",
		w, h, w, h);
	svg_text(f, title, strlen(title));
	fputs("</title>\n<desc>", f);
	/* The same, in words. */
	fprintf(f, "The stable tree holds %d node%s, in the order of their "
		"pages' contents.", rows, rows == 1 ? "" : "s");
	for (n = rb_first(&root_stable_tree); n; n = rb_next(n)) {
		struct stable_node *node = rb_entry(n, struct stable_node,
						    node);
		struct page *page = stable_node_page(node);
		struct hlist_node *pos;
		struct rmap_item *ri;
		bool first = true;

		st_bytes(page, a, sizeof(a));
		fprintf(f, " Stable node %u, at depth %d, %s %lu, whose "
			"page holds %s, has count %d and mapcount %d, and whose "
			"mapping %s; its rmap_items:", node->sim_id,
			rb_depth(n), era_since(ERA_HOTREMOVE) ? "has kpfn" :
			"points to the page at pfn", page_to_pfn(page), a,
			page_count(page), page_mapcount(page),
			page_rmapping(page) == node ?
			"names the node back, with ANON and KSM set" :
			"does not name the node");
		for (pos = node->hlist.first; pos; pos = pos->next) {
			ri = hlist_entry(pos, struct rmap_item, hlist);
			st_item_name(ri, b, sizeof(b));
			fprintf(f, "%s %s", first ? "" : ",", b);
			first = false;
		}
		fputs(first ? " none." : ".", f);
	}
	fprintf(f, " The unstable tree holds %d rmap_item%s", urows,
		urows == 1 ? "" : "s");
	for (i = 0, n = rb_first(&root_unstable_tree); n; n = rb_next(n)) {
		st_item_name(rb_entry(n, struct rmap_item, node), b, sizeof(b));
		fprintf(f, "%s %s", i++ ? "," : ":", b);
	}
	fputs(".</desc>\n", f);
	fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n<g "
		"font-family=\"sans-serif\" font-size=\"12\" "
		"text-anchor=\"middle\">\n", w, h);
	fprintf(f, "<text x=\"10\" y=\"26\" text-anchor=\"start\" "
		"font-weight=\"bold\">the stable tree: struct stable_node</text>"
		"\n<text x=\"%d\" y=\"26\" text-anchor=\"start\" "
		"font-weight=\"bold\">its KSM page: struct page</text>\n<text "
		"x=\"%d\" y=\"26\" text-anchor=\"start\" font-weight=\"bold\">"
		"its rmap_items (node->hlist)</text>\n", ST_PAGE_X, ST_ITEM_X);
	y = 50;
	for (n = rb_first(&root_stable_tree); n; n = rb_next(n), y += ST_ROW) {
		struct stable_node *node = rb_entry(n, struct stable_node,
						    node);
		struct page *page = stable_node_page(node);
		const char *lines[3];
		struct hlist_node *pos;
		struct rmap_item *ri;
		int x = 10 + rb_depth(n) * ST_INDENT, ix = ST_ITEM_X;

		st_edge(f, &root_stable_tree, n, x, y, 50, ST_ROW);
		snprintf(a, sizeof(a), "stable node %u", node->sim_id);
		snprintf(b, sizeof(b), "%s %lu", era_since(ERA_HOTREMOVE) ?
			 "kpfn" : "page: pfn", page_to_pfn(page));
		lines[0] = a;
		lines[1] = b;
		st_box(f, x, y, ST_NODE_W, "#eef4ff", lines, 2);
		st_bytes(page, c, sizeof(c));
		snprintf(a, sizeof(a), "pfn %lu: %s", page_to_pfn(page), c);
		snprintf(b, sizeof(b), "count %d, mapcount %d%s",
			 page_count(page), page_mapcount(page),
			 PageLocked(page) ? ", locked" : "");
		snprintf(d, sizeof(d), "mapping: %s",
			 page_rmapping(page) == node ? "node, ANON|KSM" :
			 "not this node");
		lines[0] = a;
		lines[1] = b;
		lines[2] = d;
		st_box(f, ST_PAGE_X, y, ST_PAGE_W,
		       page_rmapping(page) == node ? "#fff8e0" : "#ffd6d6",
		       lines, 3);
		st_arrow(f, x + ST_NODE_W, ST_PAGE_X, y + 14,
			 era_since(ERA_HOTREMOVE) ? "kpfn" : "page");
		if (page_rmapping(page) == node)
			st_arrow(f, ST_PAGE_X, x + ST_NODE_W, y + 36,
				 "mapping");
		for (pos = node->hlist.first; pos; pos = pos->next) {
			ri = hlist_entry(pos, struct rmap_item, hlist);
			st_item_name(ri, a, sizeof(a));
			lines[0] = a;
			st_arrow(f, ix == ST_ITEM_X ? ST_PAGE_X + ST_PAGE_W :
				 ix - ST_ITEM_GAP, ix, y + 14,
				 ix == ST_ITEM_X ? "hlist" : "");
			st_box(f, ix, y + 2, ST_ITEM_W, "white", lines, 1);
			ix += ST_ITEM_W + ST_ITEM_GAP;
		}
	}
	y += 20;
	fprintf(f, "<text x=\"10\" y=\"%d\" text-anchor=\"start\" "
		"font-weight=\"bold\">the unstable tree: struct rmap_item, "
		"rebuilt every full scan</text>\n", y);
	y += 14;
	if (!urows)
		fprintf(f, "<text x=\"30\" y=\"%d\" text-anchor=\"start\" "
			"font-style=\"italic\">empty</text>\n", y + 16);
	for (i = y, n = rb_first(&root_unstable_tree); n;
	     n = rb_next(n), y += 34) {
		struct rmap_item *ri = rb_entry(n, struct rmap_item, node);
		int x = 10 + rb_depth(n) * ST_INDENT;
		const char *lines[1];
		long pfn;

		st_edge(f, &root_unstable_tree, n, x, y, i, 34);
		st_item_name(ri, b, sizeof(b));
		pfn = ri->mm ? sim_process_pfn(ri->mm,
			((ri->address & PAGE_MASK) - SIM_VM_START) >>
			PAGE_SHIFT) : -1;
		if (pfn >= 0) {
			st_bytes(pfn_to_page((unsigned long)pfn), c,
				 sizeof(c));
			snprintf(a, sizeof(a), "%s: pfn %ld, %s", b, pfn, c);
		} else {
			snprintf(a, sizeof(a), "%s", b);
		}
		lines[0] = a;
		st_box(f, x, y, ST_NODE_W + 40, "white", lines, 1);
	}
	fputs("</g>\n</svg>\n", f);
}

/**
 * Every anon_vma held to its lifetime: one freed while a vma or a
 * reference still uses it, or while a mapped page names it, is a use
 * after free; one that nothing uses any more and that was never freed is a leak,
 * since anon_vma_unlink(), drop_anon_vma() and put_anon_vma() free an
 * anon_vma with its last user; and its ksm_refcount is the references
 * held, recounted, neither one lost nor one left over, and none held for
 * a migration when no one runs.  O(anon_vmas + rmap_items + frames).
 */
static void audit_anon_vmas(void)
{
	struct list_head *pos;
	unsigned long pfn;

	/*
	 * ksm_refcount, recounted: a reference for each rmap_item on a
	 * stable node, and one for each migration or exchange in flight.
	 */
	step_lock(&sim_mm_lock);
	for (pos = sim_anon_vmas.next; pos != &sim_anon_vmas; pos = pos->next) {
		struct anon_vma *av = list_entry(pos, struct anon_vma, sim_all);

		av->sim_audit_refs = atomic_load(&av->sim_in_flight);
	}
	step_unlock(&sim_mm_lock);
	for (pos = ksm_mm_head.mm_list.next; pos != &ksm_mm_head.mm_list;
	     pos = pos->next) {
		struct mm_slot *slot = list_entry(pos, struct mm_slot, mm_list);
		struct rmap_item *ri;

		for (ri = slot->rmap_list; ri; ri = ri->rmap_list)
			if ((ri->address & STABLE_FLAG) && ri->anon_vma)
				ri->anon_vma->sim_audit_refs++;
	}

	step_lock(&sim_mm_lock);
	for (pos = sim_anon_vmas.next; pos != &sim_anon_vmas; pos = pos->next) {
		struct anon_vma *av = list_entry(pos, struct anon_vma, sim_all);
		bool mapped = !list_empty(&av->head);
		int refs = atomic_load(&av->ksm_refcount);
		bool held = refs > 0;

		if (refs != av->sim_audit_refs)
			audit_fail(AUDIT_ANON_VMA, "an anon_vma's ksm_refcount "
				   "is %d, but %d references are held (rmap_items "
				   "on stable nodes, migrations in flight)", refs,
				   av->sim_audit_refs);
		/* A migration in flight when no one runs was left so. */
		if (!sim_scheduled() && atomic_load(&av->sim_in_flight))
			audit_fail(AUDIT_ANON_VMA, "an anon_vma is held by %d "
				   "migrations or exchanges, with no one "
				   "running", atomic_load(&av->sim_in_flight));

		if (av->sim_freed && (mapped || held))
			audit_fail(AUDIT_ANON_VMA, "an anon_vma was freed while "
				   "%s", mapped ? "a process maps through it" :
				   "a reference is held on it");
		else if (!av->sim_freed && !mapped && !held)
			audit_fail(AUDIT_ANON_VMA, "an anon_vma that no process "
				   "and no reference uses was never freed (a "
				   "leak)");
	}
	step_unlock(&sim_mm_lock);
	for (pfn = 0; pfn < machine.max_pfn; pfn++) {
		struct page *page = pfn_to_page(pfn);
		struct anon_vma *av;

		if (!machine.sections[pfn_to_section_nr(pfn)].online ||
		    PageBuddy(page))
			continue;
		/* An unmapped page may name one freed with its last user
		 * (page_get_anon_vma() will not take it); a mapped one not. */
		av = page_anon_vma(page);
		if (av && av->sim_freed && page_mapped(page))
			audit_fail(AUDIT_ANON_VMA, "pfn %lu is mapped, and names "
				   "an anon_vma that was freed", pfn);
	}
}

/** Free what one audit built to answer its questions. */
static void audit_free_maps(void)
{
	audit_map_free(&audit.live_nodes);
	audit_map_free(&audit.listed);
	audit_map_free(&audit.quarantine);
	audit_map_free(&audit.frees);
	free(audit.frees_older);
	audit.frees_older = NULL;
}

/**
 * No lock is held when no one runs: ksm_thread_mutex, ksm_mmlist_lock,
 * mem_hotplug_lock, a process's mmap_sem, a file's tree_lock, a page's
 * PG_locked.  (Not when an actor audits in the middle of a run: the
 * others may hold theirs.)  A lock left held is a hang waiting for its
 * next taker.
 */
static void audit_locks(void)
{
	struct mutex *const global[] = { &ksm_thread_mutex, &ksm_mmlist_lock };
	struct list_head *pos;
	unsigned long pfn;
	size_t i;

	if (sim_scheduled())
		return;
	for (i = 0; i < ARRAY_SIZE(global); i++)	/* but the auditor's own */
		if (atomic_load(&global[i]->owner) &&
		    !mutex_is_mine(global[i]))
			audit_fail(AUDIT_LOCK, "%s is held, with no one "
				   "running", global[i]->name);
	if (atomic_load(&mem_hotplug_lock.readers) ||
	    atomic_load(&mem_hotplug_lock.writer))
		audit_fail(AUDIT_LOCK, "mem_hotplug_lock is held, with no one "
			   "running");
	for (pos = sim_mm_list.next; pos != &sim_mm_list; pos = pos->next) {
		struct mm_struct *mm = list_entry(pos, struct mm_struct,
						  sim_list);

		if (atomic_load(&mm->mmap_sem.readers) ||
		    atomic_load(&mm->mmap_sem.writer))
			audit_fail(AUDIT_LOCK, "%s's mmap_sem is held, with "
				   "no one running", mm->sim_name);
	}
	step_lock(&sim_files_lock);
	for (pos = sim_files.next; pos != &sim_files; pos = pos->next) {
		struct address_space *f = list_entry(pos, struct address_space,
						     sim_list);

		if (atomic_load(&f->tree_lock.owner))
			audit_fail(AUDIT_LOCK, "file %s's tree_lock is held, "
				   "with no one running", f->sim_name);
	}
	step_unlock(&sim_files_lock);
	for (pfn = 0; pfn < machine.max_pfn; pfn++)
		if (pfn_valid(pfn) && PageLocked(pfn_to_page(pfn)))
			audit_fail(AUDIT_LOCK, "pfn %lu is locked, with no one "
				   "running", pfn);
}

unsigned long audit_machine(struct audit_report *r, bool verbose)
{
	struct audit_report local;
	struct audit_frame *fr;
	int s;

	if (!machine.initialized)
		return 0;
	if (!r)
		r = &local;
	memset(r, 0, sizeof(*r));
	memset(&audit, 0, sizeof(audit));
	audit.r = r;
	audit.verbose = verbose;
	audit.limit = 8;
	fr = calloc(machine.max_pfn, sizeof(*fr));
	if (!fr)
		return 0;

	mutex_lock(&ksm_thread_mutex);
	if (!audit_map_init(&audit.live_nodes, ksm_stable_nodes +
			    audit_list_limit()) ||
	    !audit_map_init(&audit.listed, audit_list_limit()) ||
	    !audit_index_frees()) {
		mutex_unlock(&ksm_thread_mutex);
		audit_free_maps();
		free(fr);
		return 0;
	}
	step_lock(&zone_lock);
	for (s = 0; s < 64; s++)
		if (sim_pins.count[s])
			fr[sim_pins.pfn[s]].extra += sim_pins.count[s];
	step_unlock(&zone_lock);
	audit_runtime_violations();
	if (quarantine.nr > SIM_QUARANTINE)
		audit_fail(AUDIT_ALLOCATOR, "the quarantine holds %lu freed "
			   "objects, more than its %d: some were lost",
			   (unsigned long)quarantine.nr, SIM_QUARANTINE);
	audit_stable_tree(fr);
	audit_rmap_items();
	audit_page_tables(fr);
	audit_swap(fr);
	audit_files(fr);
	audit_pages(fr);
	audit_anon_vmas();
	audit_locks();
	mutex_unlock(&ksm_thread_mutex);
	audit_data();
	audit_free_maps();
	free(fr);
	return r->total;
}

/** @} */

/* ================================================================ */
/** \defgroup selftest Self-tests of the machinery
 *
 * Hooks for tests/unit.c: a red-black tree exercise (as the kernel's
 * lib/rbtree_test.c), and a deliberate corruption to prove that the
 * auditor notices one.
 * @{ */

/** A keyed node for the tree self-test. */
struct rb_test_node {
	struct rb_node rb;		/**< in the test tree */
	unsigned int key;		/**< what orders it */
	bool in;			/**< is it in the tree now? */
};

/** Black height of a valid subtree, or -1 (parent links, colours, keys). */
static int rb_test_check(const struct rb_node *n, const struct rb_node *parent,
			 unsigned int lo, unsigned int hi)
{
	const struct rb_test_node *t;
	int l, r;

	if (!n)
		return 1;
	t = rb_entry(n, struct rb_test_node, rb);
	if (rb_parent(n) != parent || t->key < lo || t->key > hi)
		return -1;
	if (rb_is_red(n) && (rb_is_red(n->rb_left) || rb_is_red(n->rb_right)))
		return -1;
	l = rb_test_check(n->rb_left, n, lo, t->key);
	r = rb_test_check(n->rb_right, n, t->key, hi);
	if (l < 0 || r < 0 || l != r)
		return -1;
	return l + rb_is_black(n);
}

/**
 * Insert and erase \a n random keys in random order, checking the whole
 * tree and an in-order walk after every operation.  Returns 0, or the
 * 1-based step at which the tree went wrong.
 */
int sim_selftest_rbtree(unsigned int seed, int n)
{
	struct rb_test_node *nodes = calloc(n, sizeof(*nodes));
	struct rb_root root = RB_ROOT;
	unsigned int x = seed ? seed : 1;
	int step, count = 0, fail = 0;

	if (!nodes || n <= 0)
		return -1;
	for (step = 1; step <= 4 * n && !fail; step++) {
		struct rb_test_node *t;
		struct rb_node *p;
		unsigned int prev = 0;
		int seen = 0;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		t = &nodes[x % n];
		if (!t->in) {
			struct rb_node **link = &root.rb_node, *parent = NULL;

			t->key = x >> 8;
			while (*link) {
				parent = *link;
				link = t->key < rb_entry(parent,
					struct rb_test_node, rb)->key ?
					&parent->rb_left : &parent->rb_right;
			}
			rb_link_node(&t->rb, parent, link);
			rb_insert_color(&t->rb, &root);
			t->in = true;
			count++;
		} else {
			rb_erase(&t->rb, &root);
			t->in = false;
			count--;
		}
		if ((root.rb_node && !rb_is_black(root.rb_node)) ||
		    rb_test_check(root.rb_node, NULL, 0, ~0U) < 0)
			fail = step;
		for (p = rb_first(&root); p; p = rb_next(p)) {
			unsigned int k = rb_entry(p, struct rb_test_node,
						  rb)->key;

			if (k < prev)
				fail = step;
			prev = k;
			seen++;
		}
		if (seen != count)
			fail = step;
	}
	free(nodes);
	return fail;
}

/**
 * Corrupt (\a what 0) or repair (1) the machine: take, or drop, a
 * reference on the first used page that nobody accounts for.
 */
int sim_selftest_corrupt(int what)
{
	static struct page *victim;
	unsigned long pfn;

	if (what == 1) {
		if (!victim)
			return -EINVAL;
		put_page(victim);
		victim = NULL;
		return 0;
	}
	for (pfn = 0; pfn < machine.max_pfn; pfn++) {
		if (!pfn_valid(pfn) || PageBuddy(pfn_to_page(pfn)))
			continue;
		victim = pfn_to_page(pfn);
		get_page(victim);
		return 0;
	}
	return -ENOENT;
}

/** References to the page in frame \a pfn: 0 if free, -EINVAL if none. */
long sim_page_count(unsigned long pfn)
{
	long count = -EINVAL;

	if (!machine.initialized)
		return -EINVAL;
	down_read(&mem_hotplug_lock);
	if (pfn_valid(pfn))
		count = page_count(pfn_to_page(pfn));
	up_read(&mem_hotplug_lock);
	return count;
}

/** The checksum ksmd would compute for frame \a pfn (for the bench). */
unsigned int sim_frame_checksum(unsigned long pfn)
{
	unsigned int sum = 0;

	if (!machine.initialized)
		return 0;
	down_read(&mem_hotplug_lock);
	if (pfn_valid(pfn))
		sum = calc_checksum(pfn_to_page(pfn));
	up_read(&mem_hotplug_lock);
	return sum;
}

/**
 * Call get_ksm_page() on the first stable node \a n times, the fast path
 * (the page is there and names the node), for the bench.  Returns the
 * number of calls that found the page, or -ENOENT if there is no node.
 */
long sim_bench_get_ksm_page(unsigned long n)
{
	struct rb_node *rb;
	long found = 0;

	mutex_lock(&ksm_thread_mutex);
	wait_while_offlining();
	rb = rb_first(&root_stable_tree);
	if (!rb) {
		mutex_unlock(&ksm_thread_mutex);
		return -ENOENT;
	}
	while (n--) {
		struct page *page = get_ksm_page(rb_entry(rb, struct stable_node,
							  node), false);

		if (!page)
			break;
		put_page(page);
		found++;
	}
	mutex_unlock(&ksm_thread_mutex);
	return found;
}

/** Sizes of the kernel structures as this build lays them out. */
void sim_struct_sizes(size_t *page, size_t *rmap_item, size_t *stable_node)
{
	*page = sizeof(struct page);
	*rmap_item = sizeof(struct rmap_item);
	*stable_node = sizeof(struct stable_node);
}

size_t sim_node_history_size(void)
{
	return sizeof(struct node_history);
}

/** @} */

/* ================================================================ */
/** \defgroup setup Building and tearing down the machine
 * @{ */

/** The geometry when none is given. */
static struct sim_config sim_defaults = {
	.page_size = 4096,
	.pages_per_section = 256,
	.nr_sections = 8,
	.nr_nodes = 2,
	.era = ERA_KEYHOLE,
};

/** Is \a x a power of two? */
static bool is_power_of_2(unsigned long x)
{
	return x && !(x & (x - 1));
}

/** Fill in defaults and check a configuration.  Returns 0 or -EINVAL. */
static int sim_check_config(struct sim_config *c)
{
	if (!c->page_size)
		c->page_size = sim_defaults.page_size;
	if (!c->pages_per_section)
		c->pages_per_section = sim_defaults.pages_per_section;
	if (!c->nr_sections)
		c->nr_sections = sim_defaults.nr_sections;
	if (!c->nr_nodes)
		c->nr_nodes = c->nr_sections < 2 ? 1 : sim_defaults.nr_nodes;
	if (!c->swap_slots)
		c->swap_slots = c->nr_sections * c->pages_per_section;
	if (!c->era)
		c->era = sim_defaults.era;
	if (!is_power_of_2(c->page_size) || c->page_size < 1024 ||
	    c->page_size > SIM_MAX_PAGE_SIZE)
		return -EINVAL;
	if (c->pages_per_section % 64 || c->pages_per_section > (1U << 20))
		return -EINVAL;
	if (c->nr_sections > 4096 || c->nr_nodes > c->nr_sections ||
	    c->nr_nodes > 64)
		return -EINVAL;
	if ((unsigned long)c->nr_sections * c->pages_per_section > (1UL << 24)
	    || c->swap_slots > (1U << 24))
		return -EINVAL;
	if ((unsigned int)c->era >= NR_ERAS ||
	    (unsigned int)c->model >= NR_SIM_MODELS)
		return -EINVAL;
	return 0;
}

int sim_init(const struct sim_config *cfg)
{
	struct sigaction sa;
	unsigned long s;
	int err;

	if (machine.initialized)
		return -EBUSY;
	machine.cfg = cfg ? *cfg : sim_defaults;
	err = sim_check_config(&machine.cfg);
	if (err)
		return err;
	machine.page_shift = (unsigned int)__builtin_ctz(machine.cfg.page_size);
	mdl.model = machine.cfg.model;
	machine.max_pfn = (unsigned long)machine.cfg.nr_sections *
			  machine.cfg.pages_per_section;
	machine.vmemmap_size = machine.max_pfn * sizeof(struct page);
	machine.frames_size = machine.max_pfn * machine.cfg.page_size;
	machine.huge = machine.frames_size >= SIM_HUGE_MACHINE;
	if (machine.huge)
		arena_hugepages();
	machine.vmemmap = mmap(NULL, machine.vmemmap_size, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			       -1, 0);
	machine.frames = mmap(NULL, machine.frames_size, PROT_NONE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			      -1, 0);
	machine.sections = kzalloc(machine.cfg.nr_sections *
				  sizeof(*machine.sections));
	section_mapped = calloc(machine.cfg.nr_sections,
				sizeof(*section_mapped));
	if (machine.vmemmap == MAP_FAILED || machine.frames == MAP_FAILED ||
	    !machine.sections || !section_mapped)
		return -ENOMEM;
	wait_table_init();
	step_lock_init(&zone_lock);
	step_lock_init(&lru_lock);
	step_lock_init(&swap_lock);
	step_lock_init(&sim_mm_lock);
	step_lock_init(&sim_files_lock);
	init_rwsem(&mem_hotplug_lock, "mem_hotplug_lock");
	for (s = 0; s < machine.cfg.nr_sections; s++) {
		machine.sections[s].nid = (int)(s * machine.cfg.nr_nodes /
						machine.cfg.nr_sections);
		INIT_LIST_HEAD(&machine.sections[s].free_list);
		err = sim_section_online(s);
		if (err)
			return err;
	}
	for (s = 0; s < machine.cfg.nr_nodes && s < 64; s++)
		node_hot_section[s] = (int)(s * machine.cfg.nr_sections /
					    machine.cfg.nr_nodes);
	err = swap_init();
	if (err)
		return err;
	ksm_era = machine.cfg.era;
	ksm_fixes_off = 0;		/* a new machine: the design as shipped */
	xchg_ksm_order = XCHG_KSM_RFC;
	memory_chain = NULL;
	/* ksm_init(): hotplug_memory_notifier(ksm_memory_callback, 100) */
	register_memory_notifier(&ksm_memory_nb);

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sim_fault_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	machine.initialized = true;
	return 0;
}

const struct sim_config *sim_get_config(void)
{
	return &machine.cfg;
}

unsigned long sim_nr_pages(void)
{
	return machine.max_pfn;
}

/** Forget all of KSM's state (after every process is gone). */
static void ksm_teardown(void)
{
	size_t i;
	struct rb_node *n;

	ksm_nr_mm_slots = 0;
	while ((n = rb_first(&root_stable_tree))) {
		rb_erase(n, &root_stable_tree);
		kfree(rb_entry(n, struct stable_node, node));
	}
	root_unstable_tree = RB_ROOT;
	for (i = 0; i < MM_SLOTS_HASH_HEADS; i++)
		mm_slots_hash[i].first = NULL;
	INIT_LIST_HEAD(&ksm_mm_head.mm_list);
	ksm_scan.mm_slot = &ksm_mm_head;
	ksm_scan.address = 0;
	ksm_scan.rmap_list = NULL;
	ksm_scan.seqnr = 0;
	ksm_pages_shared = ksm_pages_sharing = ksm_pages_unshared = 0;
	ksm_rmap_items = ksm_stable_nodes = 0;
	ksm_run = KSM_RUN_STOP;
	ksm_thread_pages_to_scan = 100;
	ksm_thread_sleep_millisecs = 20;
	while (quarantine.nr) {
		void *p = quarantine_ring[quarantine.head];

		sim_asan_unpoison_block(p);
		kfree(p);
		quarantine.head = (quarantine.head + 1) % SIM_QUARANTINE;
		quarantine.nr--;
	}
	quarantine.head = 0;
	sim_ksm_frees_nr = 0;
	sim_next_node_id = 1;
	/* A node's history is read with the machine's hotplug events: not
	 * those of a machine before this one. */
	memset(&hotplug_events, 0, sizeof(hotplug_events));
	sim_event_seq = 0;
}

/* ---------------------------------------------------------------- */
/* Snapshots (see the group arena). */

/* The section of mutable globals: the linker names its bounds. */
/** \cond */
extern char __start_ksm_ref_state[], __stop_ksm_ref_state[];
/** \endcond */

void sim_snapshot_drop(void)
{
	int r;

	free(snap.globals);
	free(snap.arena);
	free(snap.memmap);
	free(snap.frames);
	free(snap.swap);
	free(snap.mapped);
	free((void *)snap.dirty);
	free((void *)snap.dirty_swap);
	for (r = 0; r < NR_SNAP_RINGS; r++)
		free(snap.rings[r].copy);
	memset(&snap, 0, sizeof(snap));
}

/** Bytes of memmap, and of frames, per section. */
static void section_sizes(size_t *msz, size_t *fsz)
{
	*msz = PAGES_PER_SECTION * sizeof(struct page);
	*fsz = PAGES_PER_SECTION * PAGE_SIZE;
}

int sim_snapshot_take(void)
{
	size_t glen = __stop_ksm_ref_state - __start_ksm_ref_state;
	size_t msz, fsz, words = machine.max_pfn / BITS_PER_LONG + 1;
	size_t slots = swap.nr_slots / BITS_PER_LONG + 1;
	unsigned long s;
	int r;

	if (!SIM_ARENA)
		return -EOPNOTSUPP;
	if (!machine.initialized || sched.nr_actors || ksmd.running)
		return -EBUSY;
	sim_snapshot_drop();
	section_sizes(&msz, &fsz);
	snap.globals = malloc(glen);
	snap.arena_len = arena.brk - arena.base;
	snap.arena = malloc(snap.arena_len + 1);
	snap.memmap = malloc(machine.vmemmap_size);
	snap.frames = malloc(machine.frames_size);
	snap.swap = malloc(swap.nr_slots * PAGE_SIZE);
	snap.mapped = malloc(machine.cfg.nr_sections);
	snap.dirty = calloc(words, sizeof(long));
	snap.dirty_swap = calloc(slots, sizeof(long));
	if (!snap.globals || !snap.arena || !snap.memmap || !snap.frames ||
	    !snap.swap || !snap.mapped || !snap.dirty || !snap.dirty_swap) {
		sim_snapshot_drop();
		return -ENOMEM;
	}
	memcpy(snap.globals, __start_ksm_ref_state, glen);
	memcpy(snap.arena, arena.base, snap.arena_len);
	for (s = 0; s < machine.cfg.nr_sections; s++) {
		snap.mapped[s] = section_mapped[s];
		if (!section_mapped[s])
			continue;
		memcpy(snap.memmap + s * msz, (char *)machine.vmemmap + s * msz,
		       msz);
		memcpy(snap.frames + s * fsz, machine.frames + s * fsz, fsz);
	}
	memcpy(snap.swap, swap.data, swap.nr_slots * PAGE_SIZE);
	snap.rings[SNAP_RING_QUARANTINE] = (struct snap_ring){
		.base = quarantine_ring, .elem = sizeof(quarantine_ring[0]),
		.nr = SIM_QUARANTINE };
	snap.rings[SNAP_RING_KSM_FREES] = (struct snap_ring){
		.base = sim_ksm_frees, .elem = sizeof(sim_ksm_frees[0]),
		.nr = SIM_KSM_FREES };
	for (r = 0; r < NR_SNAP_RINGS; r++) {
		struct snap_ring *ring = &snap.rings[r];

		ring->copy = malloc(ring->elem * ring->nr);
		if (!ring->copy) {
			sim_snapshot_drop();
			return -ENOMEM;
		}
		memcpy(ring->copy, ring->base, ring->elem * ring->nr);
		ring->lo = ring->nr;
		ring->hi = 0;
	}
	snap.taken = true;
	return 0;
}

void sim_snapshot_restore(void)
{
	size_t glen = __stop_ksm_ref_state - __start_ksm_ref_state;
	unsigned long s, pfn, slot;
	size_t msz, fsz;
	int r;

	BUG_ON(!snap.taken || guard.armed);
	sched_reset();
	section_sizes(&msz, &fsz);
	memcpy(__start_ksm_ref_state, snap.globals, glen);
	memcpy(arena.base, snap.arena, snap.arena_len);
	for (s = 0; s < machine.cfg.nr_sections; s++) {
		unsigned long first = s * PAGES_PER_SECTION;

		if (section_mapped[s] != snap.mapped[s])
			BUG_ON(section_protect(s, snap.mapped[s] ?
					       PROT_READ | PROT_WRITE : 0));
		if (!snap.mapped[s])
			continue;
		memcpy((char *)machine.vmemmap + s * msz, snap.memmap + s * msz,
		       msz);
		for (pfn = first; pfn < first + PAGES_PER_SECTION; pfn++)
			if (snap.dirty[pfn / BITS_PER_LONG] &
			    1UL << (pfn % BITS_PER_LONG))
				memcpy(machine.frames + pfn * PAGE_SIZE,
				       snap.frames + pfn * PAGE_SIZE,
				       PAGE_SIZE);
	}
	for (slot = 0; slot < swap.nr_slots; slot++)
		if (snap.dirty_swap[slot / BITS_PER_LONG] &
		    1UL << (slot % BITS_PER_LONG))
			memcpy(swap.data + slot * PAGE_SIZE,
			       snap.swap + slot * PAGE_SIZE, PAGE_SIZE);
	memset((void *)snap.dirty, 0,
	       (machine.max_pfn / BITS_PER_LONG + 1) * sizeof(long));
	memset((void *)snap.dirty_swap, 0,
	       (swap.nr_slots / BITS_PER_LONG + 1) * sizeof(long));
	for (r = 0; r < NR_SNAP_RINGS; r++) {
		struct snap_ring *ring = &snap.rings[r];

		if (ring->lo < ring->hi)
			memcpy((char *)ring->base + ring->lo * ring->elem,
			       ring->copy + ring->lo * ring->elem,
			       (ring->hi - ring->lo) * ring->elem);
		ring->lo = ring->nr;
		ring->hi = 0;
	}
}

/** Fold \a len bytes at \a p into the FNV-1a hash \a h. */
static uint64_t fnv1a(uint64_t h, const void *p, size_t len)
{
	const unsigned char *c = p;

	while (len--)
		h = (h ^ *c++) * 0x100000001b3ull;
	return h;
}

uint64_t sim_selftest_state_digest(void)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t msz, fsz;
	unsigned long s;
	int r;

	h = fnv1a(h, __start_ksm_ref_state,
		  __stop_ksm_ref_state - __start_ksm_ref_state);
	if (arena.base)
		h = fnv1a(h, arena.base, arena.brk - arena.base);
	section_sizes(&msz, &fsz);
	for (s = 0; s < machine.cfg.nr_sections; s++)
		if (section_mapped[s]) {
			h = fnv1a(h, (char *)machine.vmemmap + s * msz, msz);
			h = fnv1a(h, machine.frames + s * fsz, fsz);
		}
	h = fnv1a(h, swap.data, swap.nr_slots * PAGE_SIZE);
	for (r = 0; r < NR_SNAP_RINGS; r++)
		if (snap.rings[r].base)
			h = fnv1a(h, snap.rings[r].base,
				  snap.rings[r].elem * snap.rings[r].nr);
	return h;
}

void sim_exit_processes(void)
{
	if (!machine.initialized)
		return;
	while (!list_empty(&sim_mm_list))
		sim_process_exit(list_first_entry(&sim_mm_list,
						  struct mm_struct, sim_list));
	sim_files_teardown();
}

void sim_exit(void)
{
	if (!machine.initialized)
		return;
	sim_snapshot_drop();
	ksm_stop_thread();
	/* Every process exits; then ksmd's leftovers are forgotten. */
	sim_exit_processes();
	while (!list_empty(&ksm_mm_head.mm_list)) {
		struct mm_slot *slot = list_first_entry(&ksm_mm_head.mm_list,
							struct mm_slot,
							mm_list);
		struct rmap_item *ri = slot->rmap_list, *next;

		for (; ri; ri = next) {
			next = ri->rmap_list;
			kfree(ri);
		}
		list_del_init(&slot->mm_list);
		mmdrop(slot->mm);
		kfree(slot);
	}
	sim_files_teardown();
	ksm_teardown();
	swap_exit();
	while (!list_empty(&sim_anon_vmas)) {
		struct anon_vma *av = list_first_entry(&sim_anon_vmas,
						       struct anon_vma,
						       sim_all);

		list_del_init(&av->sim_all);
		kfree(av);
	}
	pthread_mutex_lock(&violations.lock);
	violations.nr = 0;
	pthread_mutex_unlock(&violations.lock);
	INIT_LIST_HEAD(&lru_list);
	nr_lru = 0;
	munmap(machine.vmemmap, machine.vmemmap_size);
	munmap(machine.frames, machine.frames_size);
	kfree(machine.sections);
	free(section_mapped);
	section_mapped = NULL;
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	memset(&machine, 0, sizeof(machine));
	memset(&failslab, 0, sizeof(failslab));
	memset(&activity, 0, sizeof(activity));
	sim_nr_allocated = 0;
	atomic_store(&sim_bytes_copied, 0);
	atomic_store(&sim_exchanges, 0);
	memset(&sim_pins, 0, sizeof(sim_pins));
	sim_migrate_on_fault = 0;
	sim_objects_leaked = (unsigned long)atomic_exchange(&sim_objects_live,
							    0);
	arena_reset();
}

unsigned long sim_leaked_objects(void)
{
	return sim_objects_leaked;
}

/** @} */

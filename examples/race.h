/* SPDX-License-Identifier: GPL-2.0 */
/*
 * race.h - a race scenario, as the driver (race.c) runs it.
 *
 * A scenario builds a small state (setup), names the actors that race
 * (each a function run on its own thread), and gives the interleaving that
 * shows the race as a script of steps (run this actor until that race
 * window).  After the run, check() looks at the state the run left and
 * says what went wrong, if anything, in the scenario's own terms; the
 * auditor then checks every invariant.  The same actors also run free, as
 * a stress test, with jitter at every race window.
 *
 * A scenario is one file, examples/rN_NAME.c (the Makefile builds every
 * file so named), which defines its races with RACE(): nothing else needs
 * to know of it (walkthrough.md, "Writing your own race").
 */
#ifndef KSM_REF_EXAMPLES_RACE_H
#define KSM_REF_EXAMPLES_RACE_H

#include "common.h"
#include "explore.h"

/** The options a run was given (see race.c). */
struct race_opts {
	struct ex_opts o;		/**< the common options */
	bool broken;			/**< --broken: the race's fix off */
	bool stress;			/**< --stress: free-running rounds */
	unsigned long seconds;		/**< --seconds for --stress */
	bool debug_vm;			/**< --debug-vm */
	bool msc;			/**< --msc: the run as a chart alone */
	bool svg;			/**< --svg: ...as an SVG image */
	bool time;			/**< --time: R1's free-running times */
	bool explore;			/**< --explore: every schedule */
	struct explore_opts xo;		/**< --bound, --reorder, ... */
	const char *replay;		/**< --replay SCHEDULE */
	int argc;			/**< the command line, to print */
	char **argv;			/**< ...a replay command */
};

/** The era \a e, as a set of eras (struct race's eras). */
#define ERA_BIT(e)	(1u << (e))
/** Every era from \a e on, as a set. */
#define ERAS_FROM(e)	(((1u << NR_ERAS) - 1) & ~(ERA_BIT(e) - 1))

/** One race scenario. */
struct race {
	const char *id;			/**< "R2", "R3.life", ... */
	const char *title;		/**< one line */
	const char *seed;		/**< the seed it reads with: 001, ... */
	enum ksm_era era;		/**< the era it is shown in */
	/**
	 * The eras whose design it can run in (--era): a set of ERA_BIT()s.
	 * In another, its script cannot happen (the windows are not reached,
	 * the calls are refused): a usage error, before anything runs.
	 */
	unsigned int eras;
	int chapter;			/**< the book's chapter: the order */
	const char *harm;		/**< with the fix off, what goes wrong */
	enum sim_model model;		/**< ...and the memory model */
	int fix;			/**< what --broken turns off, or -1 */
	/**
	 * Fixes off in every run, fixed or broken (a bit per enum ksm_fix):
	 * a line of ours that would cover for the seed's line this race is
	 * about, so that the race shows the kernel's code.
	 */
	unsigned long fixes_off;
	const char *story;		/**< a few lines for the tour */
	void (*setup)(void);		/**< build the state, single-threaded */
	const struct sim_actor_spec *actors;	/**< the threads that race */
	int nr_actors;			/**< ...how many */
	const struct sim_step *script;	/**< the interleaving of the race */
	int nr_steps;			/**< ...how many */
	/** The scenario's own pause points (sim_pause_point()) that the
	 * script names, NULL-terminated; NULL if none. */
	const char *const *pauses;
	/**
	 * Look at the state after the run (\a run_err is sim_run_*()'s
	 * result, \a r the auditor's findings) and print a "HARM:" line for
	 * each thing that went wrong; return how many.  \a scripted says
	 * whether the run followed the script: some harms (a merge that did
	 * not happen) only mean something after the scripted interleaving,
	 * while a free run only counts broken invariants.
	 */
	int (*check)(int run_err, const struct audit_report *r, bool scripted);
	/**
	 * Why the explorer cannot judge this scenario (its harm is a
	 * moment in the scripted order, not a broken invariant), or NULL.
	 */
	const char *no_explore;
	/** A scenario that is a measurement, not a race (R1): runs itself. */
	int (*custom)(struct race_opts *ro);
};

/**
 * What kind of harm a HARM line reports: the words a student's prediction
 * uses (race --verdict, race --grade), so they are few and stable.
 */
enum harm_kind {
	HARM_CORRUPT_DATA,	/**< a process or file sees bytes it never wrote */
	HARM_WRONG_MAPPING,	/**< a pte maps a page that is not its page */
	HARM_LIVE_NODE_REMOVED,	/**< a stable node removed while its page lives */
	HARM_USE_AFTER_FREE,	/**< freed memory used: a node, a page, an item */
	HARM_STALE_NODE,	/**< a stale node kept, or used as if in the tree */
	HARM_MISSED_MERGE,	/**< identical pages left unmerged, or two KSM pages */
	HARM_BAD_PAGE_COUNT,	/**< a page's count is not its references */
	HARM_WRONG_RESULT,	/**< reclaim, offline or mbind: the wrong result */
	HARM_STUCK,		/**< an actor can never go on */
	HARM_CORRUPT_STRUCTURE,	/**< a tree or the page cache out of order */
	HARM_KERNEL_DIED,	/**< an oops or a BUG: the simulated kernel died */
	NR_HARM_KINDS
};

/** The name of harm kind \a k: "corrupt-data", ... */
const char *harm_kind_name(enum harm_kind k);

/** A process of one page (or \a n) filled with \a byte. */
struct mm_struct *race_process(const char *name, unsigned long n, int byte,
			       bool mergeable);
/** Print a HARM line of kind \a kind; returns 1 (to be summed). */
int race_harm(enum harm_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/** Verify \a mm's bytes; a HARM line if it reads bytes it never wrote. */
int race_check_bytes(struct mm_struct *mm);

int race_r1_run(struct race_opts *ro);

/** Add \a rc to the races the driver knows (RACE() calls it). */
void race_register(const struct race *rc);

/**
 * Define the race \a name, registered with the driver at start-up, so
 * that a scenario's file is all there is to it:
 *
 *	RACE(race_r2) = {
 *		.id = "R2",
 *		...
 *	};
 */
#define RACE(name)							\
	static const struct race name;					\
	__attribute__((constructor)) static void name##_register(void)	\
	{								\
		race_register(&name);					\
	}								\
	static const struct race name

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * explore.h - the explorer: run a scenario under every schedule up to a
 * bound, one forked child per schedule (see explore.c).
 */
#ifndef KSM_REF_EXAMPLES_EXPLORE_H
#define KSM_REF_EXAMPLES_EXPLORE_H

#include "common.h"

/** How far to search. */
struct explore_opts {
	int bound;			/**< preemptions per schedule; -1: any */
	int reorder;			/**< reorderings per schedule; -1: any */
	unsigned long max_schedules;	/**< stop after this many (0: no cap) */
	double max_seconds;		/**< stop after this long (0: no cap) */
	bool keep_going;		/**< do not stop at the first failure */
	bool fork;			/**< a child per schedule (--fork) */
	/**
	 * The scenario puts its own state back before each run (a litmus
	 * program): every schedule runs here, without a snapshot.
	 */
	bool stateless;
	/**
	 * No partial-order reduction.  (There is none anyway when the
	 * preemptions are bounded, or in forked children.)
	 */
	bool no_reduction;
};

/** How one schedule ended. */
enum explore_verdict {
	EXPLORE_CLEAN,			/**< nothing went wrong */
	EXPLORE_HARM,			/**< a harm, or the auditor objected */
	EXPLORE_DIED,			/**< the simulated kernel died */
	EXPLORE_STUCK,			/**< deadlock or livelock */
	EXPLORE_MISFIT,			/**< the schedule did not fit the run */
	EXPLORE_CRASH,			/**< the child itself crashed */
};

/** What a search found. */
struct explore_result {
	unsigned long schedules;	/**< schedules run */
	unsigned long failures;		/**< ...that went wrong */
	bool exhausted;			/**< every schedule in bounds was run */
	unsigned int longest;		/**< most decisions in one schedule */
	double seconds;			/**< wall time of the search */
	enum explore_verdict verdict;	/**< of the first failure */
	char why[576];			/**< ...what went wrong */
	char replay[4096];		/**< ...its schedule, for --replay */
	unsigned long outcomes;		/**< bit k: some schedule reported k */
	bool in_process;		/**< ran here (else: forked children) */
	bool reduced;			/**< with partial-order reduction */
	unsigned long asleep;		/**< of the schedules, those cut short
					     by it: every option was asleep */
};

/**
 * What one schedule runs, in a child process: the scenario's actors under
 * sim_run_choices(\a c), then its checks.  Returns an enum explore_verdict;
 * it may also die (the death hook records that).
 */
typedef int (*explore_fn)(void *ctx, struct sim_choices *c);

/**
 * Run \a fn under every schedule within \a o's bounds (depth first, each
 * in a child forked from the caller, which has built the scenario's
 * state).  Returns 0 when the search completed or hit a cap, -1 when a
 * schedule failed to repeat itself (the simulation is nondeterministic:
 * a bug in it); \a r says what was found.
 */
int explore(explore_fn fn, void *ctx, const struct explore_opts *o,
	    struct explore_result *r);

/** Is a schedule of a search running (and its output to be kept quiet)? */
bool explore_running(void);
/** In a child: record what went wrong (the first note counts). */
void explore_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** In a child: report outcome \a k (0..63) of this schedule (litmus). */
void explore_outcome(int k);

/**
 * Parse a schedule as --replay takes it ("-" or "i:c,j:d,...": decision i
 * takes option c, the rest option 0) into a newly allocated prefix.
 * Returns 0, or -1 with a message in \a err.
 */
int explore_parse(const char *s, struct sim_decision **prefix, unsigned int *n,
		  char *err, size_t len);

#endif

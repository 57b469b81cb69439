/* SPDX-License-Identifier: GPL-2.0 */
/*
 * jobs.h - the actors of the test programs' scripted and preempted runs
 * (paths.c, lines*.c): a job is a call with its arguments, run by an
 * actor (run_job()), and what the call returned.  The calls every program
 * needs are here; a program adds its own job_*() beside them.  And
 * run_preempted(): a run whose actors switch at the decisions asked for;
 * wait_for_sharing(): for ksmd's own thread, which is not scheduled.
 *
 * Included once, after check.h, by a program that asks for POSIX 2008
 * (fmemopen(), nanosleep()); its functions are static.
 */
#ifndef KSM_REF_TESTS_JOBS_H
#define KSM_REF_TESTS_JOBS_H

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../ksm_ref.h"

/** What an actor of a scripted or explored run does, and what it got. */
struct job {
	int (*fn)(struct job *j);	/**< the call */
	struct mm_struct *mm;		/**< its process */
	unsigned long vpn;		/**< its page */
	long pfn;			/**< its frame */
	int node;			/**< a node to move to */
	long ret;			/**< what the call returned */
	struct mm_struct *child;	/**< a fork's child */
	char byte;			/**< a byte read or written */
	struct address_space *file;	/**< its file */
	struct audit_report audit;	/**< an audit it made */
};

/** An actor's body: run the job, keep what it returned. */
static inline void run_job(void *arg)
{
	struct job *j = arg;

	j->ret = j->fn(j);
}

static inline int job_migrate(struct job *j)
{
	return sim_migrate_pfn((unsigned long)j->pfn, j->node, false);
}

static inline int job_exit(struct job *j)
{
	return sim_process_exit(j->mm);
}

static inline int job_pfn_walk(struct job *j)
{
	return sim_pfn_walk((unsigned long)j->pfn);
}

/** Room for the decisions of a run preempted twice. */
#define PREEMPT_MAX	400

/** Decisions run_preempted()'s last run made; whether its prefix fit. */
static unsigned int preempt_decisions;
static bool preempt_misfit;

/**
 * Run \a n actors one at a time: the first from the start; the one running
 * is preempted at its \a at[0]-th decision, counted from the first, and the
 * one then running at the \a at[1]-th (if \a nr is 2); otherwise each runs
 * on while it can (and at a cond_resched(), the others first).  Under a
 * weak model a store's decision counts too: its option 1 holds the store
 * back.  The timeline of the run goes to \a out.
 */
static inline int run_preempted(const struct sim_actor_spec *actors, int n,
				const unsigned int *at, int nr, char *out,
				size_t len)
{
	struct sim_decision prefix[PREEMPT_MAX];
	struct sim_choices c = { .prefix = prefix };
	FILE *f;
	int err, i;

	memset(prefix, 0, sizeof(prefix));	/* option 0: run on */
	for (i = 0; i < nr; i++)
		prefix[at[i]].choice = 1;	/* the other actor */
	c.nr_prefix = at[nr - 1] + 1;
	sim_trace_enable(true);
	sim_timeline_set_width(200);	/* a preemption's line unwrapped */
	err = sim_run_choices(actors, n, &c);
	preempt_decisions = c.nr;
	preempt_misfit = c.misfit;
	f = fmemopen(out, len, "w");
	if (f) {
		sim_timeline_print(f);
		fclose(f);
	} else {
		out[0] = '\0';
	}
	sim_trace_enable(false);
	sim_timeline_set_width(96);
	return err;
}

/**
 * Wait until ksmd's thread has made pages_sharing at least \a n: 0, or -1
 * after 20000 naps of 1 ms, 20 s at least (ksmd is not scheduled: the
 * test fails, whatever the host's speed, only if ksmd would never have
 * got there).
 */
static inline int wait_for_sharing(unsigned long n)
{
	struct timespec ms = { 0, 1000000 };
	struct ksm_counters c;
	int i;

	for (i = 0; i < 20000; i++) {
		ksm_get_counters(&c);
		if (c.pages_sharing >= n)
			return 0;
		nanosleep(&ms, NULL);
	}
	return -1;
}

#endif /* KSM_REF_TESTS_JOBS_H */

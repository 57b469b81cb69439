/* SPDX-License-Identifier: GPL-2.0 */
/*
 * jobs.h - the actors of the test programs' scripted and preempted runs
 * (paths.c, lines.c): a job is a call with its arguments, run by an actor
 * (run_job()), and what the call returned.  The calls every program needs
 * are here; a program adds its own job_*() beside them.
 *
 * Included once, after check.h; its functions are static.
 */
#ifndef KSM_REF_TESTS_JOBS_H
#define KSM_REF_TESTS_JOBS_H

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

#endif /* KSM_REF_TESTS_JOBS_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * explore.c - the explorer, in the manner of CHESS and loom: run a
 * scenario under every schedule up to a preemption bound.
 *
 * A schedule is the list of decisions a run takes: at each scheduling
 * point (a race window, a lock operation, a tracked access) which actor
 * runs next; and, under a weak memory model, whether each modelled store
 * commits now or waits, and which visible value each modelled load
 * returns (ksm_ref.c, group model).  Option 0 is always the "natural" one:
 * the running actor runs on, the store commits, the load sees the newest
 * value.  Any other option of a scheduling decision, taken while the
 * running actor could have gone on, is a preemption; any other option of
 * a memory decision is a reordering.  The search counts both, and skips
 * schedules with more than the bounds allow (2 and 2 by default): most
 * concurrency bugs need very few of either (Musuvathi and Qadeer, "Iterative
 * context bounding for systematic testing of multithreaded programs",
 * PLDI 2007), and every race here needs at most two of each.
 *
 * The search is depth first.  The caller has built the scenario's state;
 * every schedule starts from it.  A run follows a prefix of decisions,
 * takes option 0 after it, and writes down every decision it took, with
 * how many options there were; then the search backtracks: the next
 * schedule is the one that takes the next option at the deepest decision
 * where one remains within the bounds.
 *
 * Each schedule runs in this process: the machine's state is saved once
 * (sim_snapshot_take()) and put back before every run, and a run that
 * kills the simulated kernel is caught by sim_guarded().  Where snapshots
 * are not available (a sanitizer's build), or with --fork, each schedule
 * runs in a child forked from the built state instead: slower (a fork is
 * most of a millisecond), and a crash of the simulator itself is caught.
 *
 * What it does not do: partial-order reduction.  Two schedules that
 * differ only in the order of independent steps are both run.  (The
 * scheduling points are few - only where the machine touches what another
 * actor may touch - which keeps the count within reach.)  And it sees
 * only the interleavings of scheduling points: a step between two points
 * is atomic, which is sound for this machine because every shared access
 * of the design is at or behind a point (see ksm_ref.c, group sim).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "explore.h"

/** Most decisions one schedule may take (the log is truncated beyond). */
#define MAX_DECISIONS	(1u << 18)

/** What parent and child share: the schedule, and how it went. */
struct shared {
	struct sim_choices c;		/**< the child's decisions */
	int verdict;			/**< enum explore_verdict */
	bool noted;			/**< why[] is filled in */
	char why[512];			/**< what went wrong */
	unsigned long outcomes;		/**< explore_outcome()s */
	/** The decisions the next run follows (c.prefix). */
	struct sim_decision prefix[MAX_DECISIONS];
	/** The decisions the last run took (c.log). */
	struct sim_decision log[MAX_DECISIONS];
};

static struct shared *sh;
/** Is a schedule running (in a child, or here)?  Then notes are kept. */
static bool in_child;
/** Is a schedule running here, with output to be kept quiet? */
static bool in_here;
/** Decisions' costs before each decision: preemptions, reorderings. */
static unsigned short pre_cost[MAX_DECISIONS], reo_cost[MAX_DECISIONS];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void explore_note(const char *fmt, ...)
{
	va_list ap;

	if (!explore_running() || sh->noted)
		return;
	va_start(ap, fmt);
	vsnprintf(sh->why, sizeof(sh->why), fmt, ap);
	va_end(ap);
	sh->noted = true;
}

void explore_outcome(int k)
{
	if (explore_running() && k >= 0 && k < 64)
		sh->outcomes |= 1UL << k;
}

/** The simulated kernel died in a child: that is the schedule's verdict. */
static void child_death(const char *what)
{
	explore_note("the kernel died: %s", what);
	sh->verdict = EXPLORE_DIED;
	_exit(0);
}

bool explore_running(void)
{
	return in_child || in_here;
}

/** One schedule, run here: what sim_guarded() runs. */
struct here {
	explore_fn fn;			/**< the scenario */
	void *ctx;			/**< ...its argument */
	int verdict;			/**< what fn said */
};

static void run_guarded(void *arg)
{
	struct here *h = arg;

	h->verdict = h->fn(h->ctx, &sh->c);
}

/** Run one schedule here, from the snapshot, following \a nprefix. */
static int run_here(explore_fn fn, void *ctx, unsigned int nprefix)
{
	struct here h = { fn, ctx, EXPLORE_CRASH };
	char what[256];

	sh->c = (struct sim_choices){ .prefix = sh->prefix,
				      .nr_prefix = nprefix, .log = sh->log,
				      .max = MAX_DECISIONS };
	sh->noted = false;
	sh->why[0] = '\0';
	sh->outcomes = 0;
	sim_snapshot_restore();
	in_here = true;
	if (sim_guarded(run_guarded, &h, what, sizeof(what)) == 1) {
		explore_note("the kernel died: %s", what);
		h.verdict = EXPLORE_DIED;
	}
	in_here = false;
	return h.verdict;
}

/** Run one schedule, following the first \a nprefix decisions of sh. */
static int run_child(explore_fn fn, void *ctx, unsigned int nprefix)
{
	int status, fd;
	pid_t pid;

	sh->c = (struct sim_choices){ .prefix = sh->prefix,
				      .nr_prefix = nprefix, .log = sh->log,
				      .max = MAX_DECISIONS };
	sh->verdict = EXPLORE_CRASH;
	sh->noted = false;
	sh->why[0] = '\0';
	sh->outcomes = 0;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("explore: fork");
		exit(EX_FAIL);
	}
	if (!pid) {
		cpu_set_t one;

		/*
		 * One actor runs at a time: keep them all on one CPU, where
		 * handing over is a cheap local wakeup and copy-on-write
		 * faults need no TLB shootdown on the other.
		 */
		CPU_ZERO(&one);
		CPU_SET(sched_getcpu() >= 0 ? sched_getcpu() : 0, &one);
		sched_setaffinity(0, sizeof(one), &one);
		in_child = true;
		fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		sim_set_death_hook(child_death);
		sim_set_quiet(true);
		sh->verdict = fn(ctx, &sh->c);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			perror("explore: waitpid");
			exit(EX_FAIL);
		}
	if (WIFSIGNALED(status)) {
		snprintf(sh->why, sizeof(sh->why), "the child was killed by "
			 "signal %d", WTERMSIG(status));
		return EXPLORE_CRASH;
	}
	if (WEXITSTATUS(status) || sh->verdict == EXPLORE_CRASH) {
		snprintf(sh->why, sizeof(sh->why), "the child exited with "
			 "status %d (a sanitizer's report?)",
			 WEXITSTATUS(status));
		return EXPLORE_CRASH;
	}
	return sh->verdict;
}

/**
 * The deepest decision of the last schedule (its first \a n) with a next
 * option that stays within the bounds, or -1: the search is over.
 */
static int next_branch(unsigned int n, const struct explore_opts *o)
{
	unsigned int i, p = 0, q = 0;

	for (i = 0; i < n; i++) {
		const struct sim_decision *d = &sh->log[i];

		pre_cost[i] = p;
		reo_cost[i] = q;
		if (d->choice && d->costly) {
			if (d->kind == SIM_CHOICE_SCHED)
				p++;
			else
				q++;
		}
	}
	for (i = n; i-- > 0; ) {
		const struct sim_decision *d = &sh->log[i];
		int cost = d->costly ? 1 : 0;

		if (d->choice + 1 >= d->nopts)
			continue;
		if (d->kind == SIM_CHOICE_SCHED ?
		    o->bound >= 0 && pre_cost[i] + cost > o->bound :
		    o->reorder >= 0 && reo_cost[i] + cost > o->reorder)
			continue;
		return (int)i;
	}
	return -1;
}

/** Write the first \a n decisions of the log as --replay takes them. */
static void format_schedule(unsigned int n, char *buf, size_t len)
{
	size_t off = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < n && off + 24 < len; i++)
		if (sh->log[i].choice)
			off += snprintf(buf + off, len - off, "%s%u:%u",
					off ? "," : "", i, sh->log[i].choice);
	if (!off)
		snprintf(buf, len, "-");
}

int explore(explore_fn fn, void *ctx, const struct explore_opts *o,
	    struct explore_result *r)
{
	double t0 = now();
	unsigned int nprefix = 0, n;
	bool here = !o->fork && !sim_snapshot_take();
	int v, i, ret = 0;

	memset(r, 0, sizeof(*r));
	if (!sh) {
		sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (sh == MAP_FAILED) {
			perror("explore: mmap");
			exit(EX_FAIL);
		}
	}
	r->in_process = here;
	for (;;) {
		v = here ? run_here(fn, ctx, nprefix)
			 : run_child(fn, ctx, nprefix);
		r->schedules++;
		n = sh->c.nr < MAX_DECISIONS ? sh->c.nr : MAX_DECISIONS;
		if (n > r->longest)
			r->longest = n;
		r->outcomes |= sh->outcomes;
		if (v == EXPLORE_MISFIT) {
			r->verdict = v;
			snprintf(r->why, sizeof(r->why), "schedule %lu did not "
				 "repeat its prefix: %s", r->schedules, sh->why);
			ret = -1;
			break;
		}
		if (v != EXPLORE_CLEAN && !r->failures++) {
			r->verdict = v;
			snprintf(r->why, sizeof(r->why), "%s", sh->why);
			format_schedule(n, r->replay, sizeof(r->replay));
		}
		r->seconds = now() - t0;
		if (r->failures && !o->keep_going)
			break;
		if ((o->max_schedules && r->schedules >= o->max_schedules) ||
		    (o->max_seconds && r->seconds >= o->max_seconds))
			break;
		i = next_branch(n, o);
		if (i < 0) {
			r->exhausted = true;
			break;
		}
		memmove(sh->prefix, sh->log, (i + 1) * sizeof(sh->log[0]));
		sh->prefix[i].choice++;
		nprefix = i + 1;
	}
	r->seconds = now() - t0;
	if (here) {
		sim_snapshot_restore();		/* as the caller built it */
		sim_snapshot_drop();
	}
	return ret;
}

int explore_parse(const char *s, struct sim_decision **prefix, unsigned int *n,
		  char *err, size_t len)
{
	struct sim_decision *p;
	unsigned long idx, c, last = 0;
	const char *q = s;
	bool first = true;
	char *end;

	*prefix = NULL;
	*n = 0;
	if (!strcmp(s, "-"))
		return 0;
	p = calloc(MAX_DECISIONS, sizeof(*p));
	if (!p) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	for (;;) {
		if (*q < '0' || *q > '9')
			goto bad;
		errno = 0;
		idx = strtoul(q, &end, 10);
		if (errno || *end != ':' || idx >= MAX_DECISIONS ||
		    (!first && idx <= last))
			goto bad;
		q = end + 1;
		if (*q < '1' || *q > '9')
			goto bad;
		c = strtoul(q, &end, 10);
		if (errno || c > 254 || (*end && *end != ','))
			goto bad;
		p[idx].choice = (unsigned char)c;
		last = idx;
		first = false;
		if (!*end)
			break;
		q = end + 1;
	}
	*prefix = p;
	*n = (unsigned int)last + 1;
	return 0;
bad:
	free(p);
	snprintf(err, len, "'%s' is not a schedule: write \"-\" or "
		 "DECISION:OPTION pairs with increasing decisions, options "
		 "1..254, separated by commas (as the explorer prints them)",
		 s);
	return -1;
}

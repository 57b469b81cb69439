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
 * Partial-order reduction, when the preemptions are not bounded (a
 * bound counts preemptions, which equivalent schedules do not share) and
 * the schedules run here: sleep sets (Godefroid, "Partial-Order Methods
 * for the Verification of Concurrent Systems", 1996).  A transition is an
 * actor's step from one scheduling point to its next, or a waiting
 * store's commit (ksm_ref.c, group model).  Two transitions of different
 * actors are independent when neither writes what the other touches -
 * words of the model and locks, as the run records them (struct
 * sim_footprint) - and neither is a step of kernel code, which may touch
 * what the model does not see: such a step commutes only with commits of
 * words it did not touch.  After every option of a decision has been
 * explored from it, that option sleeps in the schedules that take a
 * later option there, until a transition dependent on it runs; a
 * schedule that reaches a point where every option is asleep is cut
 * short (it can only reach what an earlier one did).  Each complete
 * execution up to the order of independent transitions is then run once.
 * A transition's footprint is the union over every way it ran from that
 * decision (its loads' values differ, and with them what it touches).
 *
 * It sees only the interleavings of scheduling points: a step between two
 * points is atomic, which is sound for this machine because every shared
 * access of the design is at or behind a point (see ksm_ref.c, group sim).
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

/* ---------------------------------------------------------------- */
/* Partial-order reduction: sleep sets. */

/** Most entries of a sleep set, and most options whose names a node keeps. */
#define POR_SET		32
#define POR_OPTS	64

/** A transition and what it touched: an entry of a sleep set. */
struct por_ent {
	struct sim_tid t;		/**< the transition */
	struct sim_footprint fp;	/**< what it touched */
};

/** A decision of who runs (or what commits), on the current path. */
struct por_node {
	unsigned int decision;		/**< its index in the schedule */
	int nopts;			/**< its options */
	struct sim_tid opt[POR_OPTS];	/**< the first POR_OPTS, named */
	struct por_ent sleep[POR_SET];	/**< asleep when it was reached */
	int nsleep;			/**< entries in sleep[] */
	struct por_ent done[POR_SET];	/**< options explored from it, the
					     last one in progress */
	int ndone;			/**< entries in done[] */
	bool tracking;			/**< done[ndone - 1] is in progress */
};

/** The reduction's state: the path's nodes, and the current run's. */
static struct {
	bool on;			/**< this search reduces */
	unsigned int nprefix;		/**< decisions the run replays */
	struct por_node *nodes;		/**< the path, by decision */
	int nnodes, cap;		/**< nodes kept, and room */
	int node;			/**< node whose option is in progress */
	struct por_ent cur[POR_SET];	/**< the sleep set now */
	int ncur;			/**< entries in cur[] */
	struct por_ent pend[2 * POR_SET];	/**< the sleep set for when
						     the transition in
						     progress is over */
	int npend;			/**< entries in pend[] */
} por;

/** The node of each decision of the last run, or -1. */
static int node_of[MAX_DECISIONS];

static bool tid_eq(const struct sim_tid *a, const struct sim_tid *b)
{
	return a->commit == b->commit && a->actor == b->actor &&
	       a->seq == b->seq;
}

/** Is \a t among the \a n entries of \a set? */
static bool por_in(const struct por_ent *set, int n, const struct sim_tid *t)
{
	int i;

	for (i = 0; i < n; i++)
		if (tid_eq(&set[i].t, t))
			return true;
	return false;
}

/** Add what \a src touched to \a dst. */
static void fp_union(struct sim_footprint *dst, const struct sim_footprint *src)
{
	int i, j;

	dst->opaque |= src->opaque;
	dst->all |= src->all;
	for (i = 0; i < src->n && !dst->all; i++) {
		for (j = 0; j < dst->n; j++)
			if (dst->e[j].obj == src->e[i].obj)
				break;
		if (j < dst->n) {
			dst->e[j].write |= src->e[i].write;
		} else if (dst->n == SIM_FP_MAX) {
			dst->all = true;
		} else {
			dst->e[dst->n].obj = src->e[i].obj;
			dst->e[dst->n++].write = src->e[i].write;
		}
	}
}

/**
 * Might \a a and \a b not commute?  The same actor's (its steps, its
 * CPU's commits); either touched everything; two steps of which one is
 * kernel code; or one writes an object the other touches.
 */
static bool por_dependent(const struct por_ent *a, const struct por_ent *b)
{
	int i, j;

	if (a->t.actor == b->t.actor || a->fp.all || b->fp.all)
		return true;
	if (!a->t.commit && !b->t.commit && (a->fp.opaque || b->fp.opaque))
		return true;
	for (i = 0; i < a->fp.n; i++)
		for (j = 0; j < b->fp.n; j++)
			if (a->fp.e[i].obj == b->fp.e[j].obj &&
			    (a->fp.e[i].write || b->fp.e[j].write))
				return true;
	return false;
}

/** Append \a e to the \a *n entries of \a set (of room \a max), if room. */
static void por_add(struct por_ent *set, int *n, int max,
		    const struct por_ent *e)
{
	if (*n < max && !por_in(set, *n, &e->t))
		set[(*n)++] = *e;
}

/** The pending sleep set: node \a nd's, and its options explored before. */
static void por_pend_node(const struct por_node *nd)
{
	int i;

	por.npend = 0;
	for (i = 0; i < nd->nsleep; i++)
		por_add(por.pend, &por.npend, 2 * POR_SET, &nd->sleep[i]);
	for (i = 0; i < nd->ndone - (nd->tracking ? 1 : 0); i++)
		por_add(por.pend, &por.npend, 2 * POR_SET, &nd->done[i]);
}

/** A new node for decision \a decision, with the sleep set now. */
static struct por_node *por_new_node(int decision, const struct sim_tid *opt,
				     int nopts)
{
	struct por_node *nd;
	int i;

	if (por.nnodes == por.cap) {
		int cap = por.cap ? 2 * por.cap : 64;
		void *p = realloc(por.nodes, cap * sizeof(*por.nodes));

		if (!p) {
			perror("explore: partial-order reduction");
			exit(EX_FAIL);
		}
		por.nodes = p;
		por.cap = cap;
	}
	node_of[decision] = por.nnodes;
	nd = &por.nodes[por.nnodes++];
	nd->decision = (unsigned int)decision;
	nd->nopts = nopts;
	for (i = 0; i < nopts && i < POR_OPTS; i++)
		nd->opt[i] = opt[i];
	memcpy(nd->sleep, por.cur, por.ncur * sizeof(por.cur[0]));
	nd->nsleep = por.ncur;
	nd->ndone = 0;
	nd->tracking = false;
	return nd;
}

/** Option \a c of node \a nd is now in progress. */
static void por_start_option(struct por_node *nd, int c)
{
	nd->tracking = nd->ndone < POR_SET;
	if (nd->tracking)
		nd->done[nd->ndone++] = (struct por_ent){ .t = nd->opt[c] };
}

/** Is option \a c of \a nd asleep (as far as the node knows its name)? */
static bool por_asleep(const struct por_node *nd, int c)
{
	return c < POR_OPTS && por_in(nd->sleep, nd->nsleep, &nd->opt[c]);
}

/** sim_choices.por_pick: see there, and the file's description. */
static int por_pick(void *ctx, int decision, const struct sim_tid *opt,
		    int nopts, int prefix)
{
	struct por_node *nd;
	int c;

	(void)ctx;
	if (decision < 0) {			/* one option, no decision */
		if (por_in(por.cur, por.ncur, &opt[0]))
			return -1;
		memcpy(por.pend, por.cur, por.ncur * sizeof(por.cur[0]));
		por.npend = por.ncur;
		por.node = -1;
		return 0;
	}
	if ((unsigned int)decision < por.nprefix &&
	    node_of[decision] >= 0 && node_of[decision] < por.nnodes &&
	    por.nodes[node_of[decision]].decision ==
	    (unsigned int)decision) {
		nd = &por.nodes[node_of[decision]];
		if ((unsigned int)decision + 1 == por.nprefix &&
		    prefix < POR_OPTS)
			por_start_option(nd, prefix);	/* the new option */
		por_pend_node(nd);
		por.node = (int)(nd - por.nodes);
		return prefix;
	}
	nd = por_new_node(decision, opt, nopts);
	for (c = 0; c < nopts && por_asleep(nd, c); c++)
		;
	if (c == nopts)
		return -1;			/* all asleep: redundant */
	if (c < POR_OPTS)
		por_start_option(nd, c);
	por_pend_node(nd);
	por.node = (int)(nd - por.nodes);
	return c;
}

/** sim_choices.por_done: see there, and the file's description. */
static void por_done(void *ctx, const struct sim_tid *t,
		     const struct sim_footprint *fp)
{
	struct por_ent e = { *t, *fp };
	int i;

	(void)ctx;
	if (por.node >= 0) {
		struct por_node *nd = &por.nodes[por.node];

		if (nd->tracking && tid_eq(&nd->done[nd->ndone - 1].t, t))
			fp_union(&nd->done[nd->ndone - 1].fp, fp);
		por.node = -1;
	}
	por.ncur = 0;
	for (i = 0; i < por.npend; i++)
		if (!por_dependent(&por.pend[i], &e))
			por_add(por.cur, &por.ncur, POR_SET, &por.pend[i]);
	memcpy(por.pend, por.cur, por.ncur * sizeof(por.cur[0]));
	por.npend = por.ncur;
}

/** A run begins, replaying \a nprefix decisions. */
static void por_run_start(unsigned int nprefix)
{
	por.nprefix = nprefix;
	por.node = -1;
	por.ncur = por.npend = 0;
	/* Nodes past the decision it backtracks to belong to another path. */
	while (por.nnodes > 0 &&
	       por.nodes[por.nnodes - 1].decision + 1 > nprefix)
		por.nnodes--;
}

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
static int run_here(explore_fn fn, void *ctx, unsigned int nprefix,
		    bool stateless)
{
	struct here h = { fn, ctx, EXPLORE_CRASH };
	char what[256];

	sh->c = (struct sim_choices){ .prefix = sh->prefix,
				      .nr_prefix = nprefix, .log = sh->log,
				      .max = MAX_DECISIONS };
	if (por.on) {
		por_run_start(nprefix);
		sh->c.por_pick = por_pick;
		sh->c.por_done = por_done;
	}
	sh->noted = false;
	sh->why[0] = '\0';
	sh->outcomes = 0;
	if (!stateless)
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
 * The next option of decision \a i of the last schedule: the next one
 * not asleep there, under partial-order reduction; or -1.
 */
static int next_option(unsigned int i)
{
	const struct sim_decision *d = &sh->log[i];
	const struct por_node *nd;
	int c;

	if (!por.on || d->kind != SIM_CHOICE_SCHED)
		return d->choice + 1 < d->nopts ? d->choice + 1 : -1;
	if (node_of[i] < 0 || node_of[i] >= por.nnodes ||
	    por.nodes[node_of[i]].decision != i)
		return d->choice + 1 < d->nopts ? d->choice + 1 : -1;
	nd = &por.nodes[node_of[i]];
	for (c = d->choice + 1; c < d->nopts; c++)
		if (!por_asleep(nd, c))
			return c;
	return -1;
}

/**
 * The deepest decision of the last schedule (its first \a n) with a next
 * option that stays within the bounds, or -1: the search is over.  The
 * option is \a *next.
 */
static int next_branch(unsigned int n, const struct explore_opts *o,
		       int *next)
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
		*next = next_option(i);
		if (*next < 0)
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
	bool here = o->stateless || (!o->fork && !sim_snapshot_take());
	int v, i, c, ret = 0;

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
	por.on = here && o->bound < 0 && !o->no_reduction;
	por.nnodes = 0;
	r->reduced = por.on;
	for (;;) {
		v = here ? run_here(fn, ctx, nprefix, o->stateless)
			 : run_child(fn, ctx, nprefix);
		r->schedules++;
		n = sh->c.nr < MAX_DECISIONS ? sh->c.nr : MAX_DECISIONS;
		if (n > r->longest)
			r->longest = n;
		if (here && sh->c.asleep) {
			r->asleep++;		/* reaches nothing new */
			v = EXPLORE_CLEAN;
		}
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
		i = next_branch(n, o, &c);
		if (i < 0) {
			r->exhausted = true;
			break;
		}
		memmove(sh->prefix, sh->log, (i + 1) * sizeof(sh->log[0]));
		sh->prefix[i].choice = (unsigned char)c;
		nprefix = i + 1;
	}
	r->seconds = now() - t0;
	por.on = false;
	if (here && !o->stateless) {
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

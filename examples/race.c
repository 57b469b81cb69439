// SPDX-License-Identifier: GPL-2.0
/*
 * race.c - run a race of RACES.md: deterministically, with its fix on or
 * off, printing the timeline of what each actor did and the verdict; or
 * free-running, as a stress test.
 *
 *   race --list                 the races
 *   race R2                     the race, fix on: it must end clean
 *   race R2 --broken            the race's fix off: it must go wrong
 *   race R2 --without FIX       any fix off
 *   race R2 --stress --seconds 5
 *   race R2 --explore           every schedule up to 2 preemptions
 *   race R2 --broken --replay S a schedule the explorer printed
 *   race R2 --broken --msc      the timeline, then as an mscgen chart
 *
 * Exit status: 0 when the run ended as the design promises (no harm,
 * auditor clean), 1 when it went wrong (and the output says how), 2 for
 * bad arguments.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "race.h"

static const struct race *const races[] = {
	&race_r1, &race_r2, &race_r2_check, &race_r3, &race_r3_life,
	&race_r3_gpuz, &race_r4, &race_r5, &race_r5_twice, &race_r6,
	&race_r6_cancel, &race_r7, &race_r7_skip, &race_r8, &race_r8_aba,
	&race_r9, &race_r10, &race_r10_rmb, &race_r11, &race_r12, &race_r13,
	&race_r13_uptodate, &race_r13_freeze, &race_r13_eagain,
	&race_r13_private, &race_r13_counters, &race_r13_writeback, &race_r14,
	&race_r14_kpfn, &race_r14_advance,
};
#define NR_RACES (sizeof(races) / sizeof(races[0]))

struct mm_struct *race_process(const char *name, unsigned long n, int byte,
			       bool mergeable)
{
	struct mm_struct *mm = sim_process_create(name, n);
	unsigned long i;

	if (!mm) {
		fprintf(stderr, "cannot create process %s\n", name);
		exit(EX_FAIL);
	}
	for (i = 0; byte >= 0 && i < n; i++)
		sim_process_fill(mm, i, byte);
	if (mergeable)
		sim_process_madvise(mm, true);
	return mm;
}

int race_harm(const char *fmt, ...)
{
	va_list ap;

	char buf[200];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!explore_running())
		printf("  HARM: %s\n", buf);
	explore_note("%s", buf);
	return 1;
}

int race_check_bytes(struct mm_struct *mm)
{
	long bad = sim_process_verify(mm, false);

	if (bad > 0)
		return race_harm("%s reads bytes it never wrote (%ld page%s; "
				 "the audit shows which)", sim_process_name(mm),
				 bad, bad == 1 ? "" : "s");
	return 0;
}

static const struct race *find_race(const char *id)
{
	unsigned int i;

	for (i = 0; i < NR_RACES; i++)
		if (!strcasecmp(races[i]->id, id))
			return races[i];
	return NULL;
}

static void list_races(void)
{
	unsigned int i;

	for (i = 0; i < NR_RACES; i++)
		printf("%-13s seed %-12s era %-9s fix %-25s %s\n", races[i]->id,
		       races[i]->seed, ksm_era_name(races[i]->era),
		       races[i]->fix >= 0 ? ksm_fix_name(races[i]->fix) : "-",
		       races[i]->title);
	exit(EX_PASS);
}

/** Describe which of the race's fixes are on. */
static void print_header(const struct race *rc, struct race_opts *ro)
{
	int i, off = 0;

	printf("%s: %s\n", rc->id, rc->title);
	printf("  seed %s, era %s", rc->seed, ksm_era_name(ksm_get_era()));
	if (ro->o.cfg.model != SIM_MODEL_SC)
		printf(", memory model %s", sim_model_name(ro->o.cfg.model));
	for (i = 0; i < NR_FIXES; i++)
		if (!ksm_fix_on(i))
			printf("%s%s", off++ ? ", " : "; OFF: ", ksm_fix_name(i));
	if (!off)
		printf("; every fix on");
	printf("%s\n", ro->debug_vm ? "; CONFIG_DEBUG_VM" : "");
}

static const struct race *dying;
static bool dying_quiet, dying_msc;

/**
 * Print what the actors did: the two-column timeline and, with --msc, the
 * same trace as a complete mscgen chart, "msc {" to "}" on lines of their
 * own, so that a script can cut it out (tests/races_page.sh) and know the
 * picture is of the run the timeline shows.
 */
static void print_trace(bool msc)
{
	printf("\n");
	sim_timeline_print(stdout);
	printf("\n");
	if (msc) {
		printf("msc {\n");
		sim_timeline_print_msc(stdout);
		printf("}\n\n");
	}
}

/**
 * The simulated kernel died (a fault on removed memory, a BUG): that is
 * the race's harm.  Print what the actors did up to it, and the verdict.
 */
static void race_death(const char *what)
{
	if (!dying_quiet)
		print_trace(dying_msc);
	printf("  HARM: the kernel died: %s\n", what);
	printf("%s: WENT WRONG (the simulated kernel died; no audit)\n",
	       dying ? dying->id : "?");
	fflush(stdout);
	_exit(EX_FAIL);
}

/** Start a fresh machine for one run of \a rc. */
static void start(const struct race *rc, struct race_opts *ro)
{
	if (!ro->o.era_set)
		ro->o.cfg.era = rc->era;
	if (!ro->o.model_set)
		ro->o.cfg.model = rc->model;
	if (ro->broken && rc->fix >= 0)
		ro->o.fixes_off |= 1UL << rc->fix;
	ro->o.fixes_off |= rc->fixes_off;
	ro->o.cfg.nr_sections = ro->o.cfg.nr_sections ? ro->o.cfg.nr_sections
						       : 4;
	ex_start(&ro->o);
	sim_set_debug_vm(ro->debug_vm);
	dying = rc;
	dying_quiet = ro->o.quiet;
	dying_msc = ro->msc;
	sim_set_death_hook(race_death);
}

/**
 * One deterministic run: the scripted interleaving, or, with a schedule
 * \a c (the explorer's), that schedule.  The state is built already.
 */
static int run_once(const struct race *rc, struct race_opts *ro,
		    struct sim_choices *c)
{
	struct audit_report r;
	int err, harms;
	unsigned long bad;

	sim_trace_enable(true);
	if (c)
		err = sim_run_choices(rc->actors, rc->nr_actors, c);
	else
		err = sim_run_script(rc->actors, rc->nr_actors, rc->script,
				     rc->nr_steps);
	if (c && c->misfit)
		ex_usage_error(ro->o.prog, "%s", sim_run_error());
	if (!ro->o.quiet)
		print_trace(ro->msc);
	if (err) {
		printf("  the run was abandoned: %s\n", sim_run_error());
		harms = rc->check(err, NULL, !c);
		printf("%s: WENT WRONG (%d harm%s; the machine is stuck, so "
		       "no audit)\n", rc->id, harms, harms == 1 ? "" : "s");
		fflush(stdout);
		_exit(EX_FAIL);		/* stuck threads: no orderly exit */
	}
	bad = audit_machine(&r, false);
	harms = rc->check(0, &r, !c);
	ex_audit("after the run", NULL);
	sim_trace_enable(false);
	sim_exit();
	if (!harms && !bad) {
		printf("%s: clean\n", rc->id);
		return EX_PASS;
	}
	printf("%s: WENT WRONG (%d harm%s, %lu audit violation%s)\n", rc->id,
	       harms, harms == 1 ? "" : "s", bad, bad == 1 ? "" : "s");
	return EX_FAIL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/** One schedule of the search, in the explorer's child. */
static int explore_one(void *ctx, struct sim_choices *c)
{
	const struct race *rc = ctx;
	struct audit_report r;
	unsigned long bad;
	int err, harms, k;

	err = sim_run_choices(rc->actors, rc->nr_actors, c);
	if (c->misfit)
		return EXPLORE_MISFIT;
	if (err) {
		explore_note("the run was abandoned: %s", sim_run_error());
		return EXPLORE_STUCK;
	}
	bad = audit_machine(&r, false);
	harms = rc->check(0, &r, false);
	for (k = 0; bad && k < NR_AUDIT_KINDS; k++)
		if (r.count[k])
			explore_note("the auditor found %lu %s violation%s",
				     r.count[k], audit_kind_name(k),
				     r.count[k] == 1 ? "" : "s");
	return harms || bad ? EXPLORE_HARM : EXPLORE_CLEAN;
}

/** Print the command that replays \a schedule: ours, minus the search. */
static void print_replay_command(struct race_opts *ro, const char *schedule)
{
	int i;

	printf("  replay it: %s", ro->argv[0]);
	for (i = 1; i < ro->argc; i++) {
		const char *a = ro->argv[i];

		if (!strcmp(a, "--explore") || !strcmp(a, "--unbounded") ||
		    !strcmp(a, "--fork"))
			continue;
		if (!strcmp(a, "--bound") || !strcmp(a, "--reorder") ||
		    !strcmp(a, "--max-schedules")) {
			i++;
			continue;
		}
		if (!strncmp(a, "--bound=", 8) || !strncmp(a, "--reorder=", 10)
		    || !strncmp(a, "--max-schedules=", 16))
			continue;
		printf(" %s", a);
	}
	printf(" --replay %s\n", schedule);
}

/** Describe the bounds of a search. */
static void print_bounds(const struct explore_opts *xo)
{
	if (xo->bound < 0)
		printf("any number of preemptions");
	else
		printf("at most %d preemption%s", xo->bound,
		       xo->bound == 1 ? "" : "s");
	if (xo->reorder < 0)
		printf(", any number of reorderings");
	else
		printf(", %d reordering%s", xo->reorder,
		       xo->reorder == 1 ? "" : "s");
}

/**
 * Every schedule within the bounds, each in a child forked from here.
 * On a failure, print its schedule and replay it here, in full.
 */
static int run_explore(const struct race *rc, struct race_opts *ro)
{
	struct explore_result res;
	struct sim_decision *prefix;
	struct sim_choices c = { 0 };
	unsigned int n;
	char err[300];
	int ret;

	print_header(rc, ro);
	if (explore(explore_one, (void *)rc, &ro->xo, &res) < 0) {
		printf("%s: the explorer stopped: %s\n", rc->id, res.why);
		return EX_FAIL;
	}
	printf("  explored %lu schedule%s (", res.schedules,
	       res.schedules == 1 ? "" : "s");
	print_bounds(&ro->xo);
	printf("; the longest took %u decisions) in %.2f s%s\n", res.longest,
	       res.seconds, res.exhausted || res.failures ? "" :
	       ": STOPPED AT A CAP, NOT EXHAUSTED");
	if (!res.failures) {
		printf("%s: every schedule clean%s\n", rc->id,
		       res.exhausted ? "" : " (so far)");
		return EX_PASS;
	}
	printf("  schedule %lu went wrong: %s\n", res.schedules, res.why);
	print_replay_command(ro, res.replay);
	if (explore_parse(res.replay, &prefix, &n, err, sizeof(err))) {
		printf("%s\n", err);
		return EX_FAIL;
	}
	printf("\nThe replay:\n");
	c.prefix = prefix;
	c.nr_prefix = n;
	ret = run_once(rc, ro, &c);
	free(prefix);
	return ret;
}

/** One search of --explore-all: \a rc with its fix on or off. */
static void explore_one_way(const struct race *rc, struct race_opts *ro,
			    bool broken, struct explore_result *res)
{
	struct race_opts r = *ro;

	r.broken = broken;
	r.o.quiet = true;
	start(rc, &r);
	rc->setup();
	if (explore(explore_one, (void *)rc, &r.xo, res) < 0) {
		printf("%s: the explorer stopped: %s\n", rc->id, res->why);
		exit(EX_FAIL);
	}
	sim_exit();
}

/**
 * Every race that has a fix, under the explorer, both ways: with the fix
 * on every schedule within the bounds must be clean, and with it off one
 * must go wrong.  A table of what it took; the sanity test of a change.
 */
static int explore_all(struct race_opts *ro)
{
	unsigned long total = 0;
	double t0 = now(), t;
	unsigned int i;
	int bad = 0, n = 0;
	bool forked = false;

	printf("Every race under the explorer (");
	print_bounds(&ro->xo);
	printf("), each way:\n\n");
	printf("%-13s %-9s %-5s  %-34s  %s\n", "race", "era", "model",
	       "fix on: schedules, time, rate", "fix off: went wrong at");
	for (i = 0; i < NR_RACES; i++) {
		const struct race *rc = races[i];
		struct explore_result on, off;
		char buf[64];
		bool ok;

		if (rc->custom || rc->no_explore || rc->fix < 0)
			continue;
		explore_one_way(rc, ro, false, &on);
		explore_one_way(rc, ro, true, &off);
		ok = on.exhausted && !on.failures && off.failures;
		bad += !ok;
		n++;
		total += on.schedules + off.schedules;
		forked |= !on.in_process;
		snprintf(buf, sizeof(buf), "%lu %s, %.2f s, %.0f/s", on.schedules,
			 on.failures ? "WENT WRONG" : on.exhausted ? "clean" :
			 "NOT EXHAUSTED", on.seconds,
			 on.seconds > 0 ? on.schedules / on.seconds : 0.0);
		printf("%-13s %-9s %-5s  %-34s  ", rc->id, ksm_era_name(rc->era),
		       sim_model_name(rc->model), buf);
		if (off.failures)
			printf("schedule %lu, %.2f s%s\n", off.schedules,
			       off.seconds, ok ? "" : "   <- NOT AS EXPECTED");
		else
			printf("NOTHING FOUND in %lu   <- NOT AS EXPECTED\n",
			       off.schedules);
	}
	t = now() - t0;
	printf("\n%d races, %lu schedules in %.1f s (%.0f a second, %s): ", n,
	       total, t, t > 0 ? total / t : 0.0,
	       forked ? "a child each" : "in this process");
	if (bad) {
		printf("%d NOT AS EXPECTED\n", bad);
		return EX_FAIL;
	}
	printf("every fix holds in every schedule, and each is needed\n");
	return EX_PASS;
}

/** Free-running rounds until time is up; stop at the first harm. */
static int run_stress(const struct race *rc, struct race_opts *ro)
{
	double t0 = now(), first = -1;
	unsigned long rounds = 0, bad_rounds = 0;
	bool quiet = ro->o.quiet;

	if (rc->model != SIM_MODEL_SC)
		printf("note: free runs cannot reorder these accesses (the "
		       "simulation's own atomics keep\nthem in order, as x86 "
		       "does): %s needs the %s model, under a script or\n"
		       "--explore\n", rc->id, sim_model_name(rc->model));
	ro->o.quiet = true;
	while (now() - t0 < ro->seconds) {
		struct audit_report r;
		unsigned long bad;
		int err, harms;

		start(rc, ro);
		rc->setup();
		sim_set_jitter(true);
		err = sim_run_free(rc->actors, rc->nr_actors, 10000);
		sim_set_jitter(false);
		rounds++;
		if (err) {
			printf("round %lu: %s\n", rounds, sim_run_error());
			rc->check(err, NULL, false);
			printf("%s stress: WENT WRONG after %.3f s\n", rc->id,
			       now() - t0);
			fflush(stdout);
			_exit(EX_FAIL);
		}
		bad = audit_machine(&r, false);
		sim_set_quiet(true);
		harms = rc->check(0, &r, false);
		if (harms || bad) {
			bad_rounds++;
			if (first < 0) {
				first = now() - t0;
				sim_set_quiet(quiet);
				printf("round %lu went wrong:\n", rounds);
				ex_audit("of that round", NULL);
			}
			sim_exit();
			break;
		}
		sim_exit();
	}
	ro->o.quiet = quiet;
	if (bad_rounds) {
		printf("%s stress: WENT WRONG in round %lu, after %.3f s\n",
		       rc->id, rounds, first);
		return EX_FAIL;
	}
	printf("%s stress: %lu free-running rounds in %.1f s, all clean\n",
	       rc->id, rounds, now() - t0);
	return EX_PASS;
}

static bool race_takes_value(const char *name)
{
	return ex_common_takes_value(name) || !strcmp(name, "seconds") ||
	       !strcmp(name, "bound") || !strcmp(name, "reorder") ||
	       !strcmp(name, "max-schedules") || !strcmp(name, "replay");
}

static void usage(const char *prog)
{
	printf("Usage: %s RACE [options]\n       %s --list\n"
	       "       %s --explore-all [--bound N] [--reorder N] [--fork]\n\n"
	       "Runs a race of RACES.md on the simulated machine: by default "
	       "its scripted\ninterleaving, with every fix on.\n\n"
	       "  --broken           turn off the fix this race is about\n"
	       "  --stress           free-running rounds with jitter at every "
	       "race window\n"
	       "  --seconds N        how long to stress (1..3600, default 5)\n"
	       "  --debug-vm         CONFIG_DEBUG_VM: the kernel's debug checks "
	       "on\n"
	       "  --explore          run every schedule within the bounds (a "
	       "child process\n"
	       "                     each); on a failure, print it and replay "
	       "it\n"
	       "  --bound N          preemptions per schedule (0..20, default "
	       "2)\n"
	       "  --reorder N        reorderings per schedule under a weak model "
	       "(0..20,\n"
	       "                     default 2)\n"
	       "  --unbounded        no bound on either (small scenarios only)\n"
	       "  --max-schedules N  stop the search after N schedules\n"
	       "  --fork             run each schedule in a child process "
	       "(slower; also\n"
	       "                     what a sanitizer's build does)\n"
	       "  --replay S         run schedule S, as --explore printed it\n"
	       "  --explore-all      every race with a fix, explored with it on "
	       "and off: a\n"
	       "                     table, and exit 0 if each fix holds and is "
	       "needed\n"
	       "  --msc              after the timeline, print it as an mscgen "
	       "chart, \"msc {\"\n"
	       "                     to \"}\" (for Doxygen's \\msc)\n"
	       "  --list             list the races\n"
	       "  --story            what the race is about, in three lines\n\n%s",
	       prog, prog, prog, ex_common_help);
	exit(EX_PASS);
}

/** The command line of race: the run's options, and what else it asks. */
struct race_args {
	struct race_opts ro;		/**< what the run is given */
	const struct race *rc;		/**< the race named, or NULL */
	bool story;			/**< --story: print it, and stop */
	bool explore_all;		/**< --explore-all: every race */
};

static void race_option(void *ctx, const char *name, const char *val)
{
	struct race_args *a = ctx;

	if (!strcmp(name, "help"))
		usage(a->ro.o.prog);
	if (ex_common_option(&a->ro.o, name, val))
		return;
	if (!strcmp(name, "list"))
		list_races();
	else if (!strcmp(name, "broken"))
		a->ro.broken = true;
	else if (!strcmp(name, "stress"))
		a->ro.stress = true;
	else if (!strcmp(name, "debug-vm"))
		a->ro.debug_vm = true;
	else if (!strcmp(name, "msc"))
		a->ro.msc = true;
	else if (!strcmp(name, "story"))
		a->story = true;
	else if (!strcmp(name, "explore"))
		a->ro.explore = true;
	else if (!strcmp(name, "explore-all"))
		a->explore_all = true;
	else if (!strcmp(name, "bound"))
		a->ro.xo.bound = (int)ex_parse_ulong(a->ro.o.prog, name, val,
						     0, 20);
	else if (!strcmp(name, "reorder"))
		a->ro.xo.reorder = (int)ex_parse_ulong(a->ro.o.prog, name,
						       val, 0, 20);
	else if (!strcmp(name, "unbounded"))
		a->ro.xo.bound = a->ro.xo.reorder = -1;
	else if (!strcmp(name, "max-schedules"))
		a->ro.xo.max_schedules = ex_parse_ulong(a->ro.o.prog, name,
							val, 1, 100000000);
	else if (!strcmp(name, "replay"))
		a->ro.replay = val;
	else if (!strcmp(name, "fork"))
		a->ro.xo.fork = true;
	else if (!strcmp(name, "seconds"))
		a->ro.seconds = ex_parse_ulong(a->ro.o.prog, name, val, 1,
					       3600);
	else
		ex_usage_error(a->ro.o.prog, "unknown option '--%s'", name);
}

static void race_positional(void *ctx, const char *arg)
{
	struct race_args *a = ctx;

	if (a->rc)
		ex_usage_error(a->ro.o.prog, "one race at a time ('%s' and "
			       "'%s')", a->rc->id, arg);
	a->rc = find_race(arg);
	if (!a->rc)
		ex_usage_error(a->ro.o.prog, "unknown race '%s' (see --list)",
			       arg);
}

int main(int argc, char **argv)
{
	struct race_args a = { .ro.o.prog = argv[0], .ro.seconds = 5,
			  .ro.xo = { .bound = 2, .reorder = 2 },
			  .ro.argc = argc, .ro.argv = argv };
	struct sim_decision *prefix;
	struct sim_choices c = { 0 };
	char err[300];
	int modes;

	ex_parse_args(argc, argv, &a, race_takes_value, race_option,
		      race_positional);
	if (a.explore_all) {
		if (a.rc || a.ro.o.era_set || a.ro.o.model_set ||
		    a.ro.o.fixes_off || a.ro.broken || a.ro.stress ||
		    a.ro.explore || a.ro.replay || a.story || a.ro.msc)
			ex_usage_error(a.ro.o.prog, "--explore-all runs every "
				       "race its own way: it takes only the "
				       "search's options (--bound, --reorder, "
				       "--unbounded, --max-schedules, --fork)");
		return explore_all(&a.ro);
	}
	if (!a.rc)
		ex_usage_error(a.ro.o.prog, "which race? (see --list)");
	if (a.ro.broken && a.rc->fix < 0)
		ex_usage_error(a.ro.o.prog, "%s has no single fix to break",
			       a.rc->id);
	if (a.story) {
		printf("%s: %s\n%s\n", a.rc->id, a.rc->title, a.rc->story);
		return EX_PASS;
	}
	modes = a.ro.stress + a.ro.explore + !!a.ro.replay;
	if (modes > 1)
		ex_usage_error(a.ro.o.prog, "--stress, --explore and --replay "
			       "are different ways to run: choose one");
	if (a.ro.msc && (a.ro.stress || a.ro.o.quiet))
		ex_usage_error(a.ro.o.prog, "--msc draws the timeline of a "
			       "scripted, explored or replayed run, which "
			       "--stress and --quiet do not print");
	if (a.rc->custom) {
		if (modes || a.ro.msc)
			ex_usage_error(a.ro.o.prog, "%s is a measurement: it "
				       "runs only its own way", a.rc->id);
		return a.rc->custom(&a.ro);
	}
	if ((a.ro.explore || a.ro.replay) && a.rc->no_explore)
		ex_usage_error(a.ro.o.prog, "%s cannot be explored: %s",
			       a.rc->id, a.rc->no_explore);
	if (a.ro.replay && explore_parse(a.ro.replay, &prefix, &c.nr_prefix,
					 err, sizeof(err)))
		ex_usage_error(a.ro.o.prog, "%s", err);
	if (a.ro.stress)
		return run_stress(a.rc, &a.ro);
	start(a.rc, &a.ro);
	a.rc->setup();
	if (a.ro.explore)
		return run_explore(a.rc, &a.ro);
	print_header(a.rc, &a.ro);
	if (a.ro.replay) {
		int ret;

		c.prefix = prefix;
		ret = run_once(a.rc, &a.ro, &c);
		free(prefix);
		return ret;
	}
	return run_once(a.rc, &a.ro, NULL);
}

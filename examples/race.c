// SPDX-License-Identifier: GPL-2.0
/*
 * race.c - run a race: deterministically, with its fix on or off, printing
 * the timeline of what each actor did and the verdict; or free-running, as
 * a stress test; or every schedule of it, under the explorer.
 *
 *   race --list                 the races
 *   race --list --long          ...with their eras, actors, windows, harms
 *   race --list-windows         the race windows scripts can stop at
 *   race R2                     the race, fix on: it must end clean
 *   race R2 --broken            the race's fix off: it must go wrong
 *   race R2 --without FIX       any fix off
 *   race R2 --stress --seconds 5
 *   race R2 --explore           every schedule up to 2 preemptions
 *   race R2 --broken --replay S a schedule the explorer printed
 *   race R2 --broken --msc      the run as an mscgen chart, and only that
 *   race R2 --broken --svg      ...as an SVG image
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
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "race.h"

/** Most races the driver can hold. */
#define MAX_RACES	128

/** The races, in the book's order: registered by RACE() at start-up. */
static const struct race *races[MAX_RACES];
/** How many. */
static unsigned int nr_races;
/** The number of races, as the loops below say it. */
#define NR_RACES	nr_races

/**
 * The book's order: by chapter, then by number and name (R2, R2.check,
 * R3, ..., R10).
 */
static int race_cmp(const struct race *a, const struct race *b)
{
	char *sa, *sb;
	long na, nb;

	if (a->chapter != b->chapter)
		return a->chapter < b->chapter ? -1 : 1;
	na = strtol(a->id + 1, &sa, 10);
	nb = strtol(b->id + 1, &sb, 10);
	if (na != nb)
		return na < nb ? -1 : 1;
	return strcmp(sa, sb);
}

void race_register(const struct race *rc)
{
	unsigned int i;

	if (nr_races == MAX_RACES) {
		fprintf(stderr, "race: more than %d races\n", MAX_RACES);
		exit(EX_FAIL);
	}
	for (i = nr_races; i > 0 && race_cmp(races[i - 1], rc) > 0; i--)
		races[i] = races[i - 1];
	races[i] = rc;
	nr_races++;
}

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

static const char *const harm_kind_names[NR_HARM_KINDS] = {
	[HARM_CORRUPT_DATA]		= "corrupt-data",
	[HARM_WRONG_MAPPING]		= "wrong-mapping",
	[HARM_LIVE_NODE_REMOVED]	= "live-node-removed",
	[HARM_USE_AFTER_FREE]		= "use-after-free",
	[HARM_STALE_NODE]		= "stale-node",
	[HARM_MISSED_MERGE]		= "missed-merge",
	[HARM_BAD_PAGE_COUNT]		= "bad-page-count",
	[HARM_WRONG_RESULT]		= "wrong-result",
	[HARM_STUCK]			= "stuck",
	[HARM_CORRUPT_STRUCTURE]	= "corrupt-structure",
	[HARM_KERNEL_DIED]		= "kernel-died",
};

const char *harm_kind_name(enum harm_kind k)
{
	return (unsigned int)k < NR_HARM_KINDS ? harm_kind_names[k] : "?";
}

/** The kinds of harm this run has reported, a bit each (--verdict). */
static unsigned int harms_seen;
/** With --verdict, --msc or --svg: the real standard output (see
 * verdict_begin()). */
static int verdict_fd = -1;
/** ...and the run's race and options. */
static const struct race *verdict_rc;
static const struct race_opts *verdict_ro;

int race_harm(enum harm_kind kind, const char *fmt, ...)
{
	va_list ap;
	char *buf;
	int n;

	/* Sized to fit: a HARM line is never cut short. */
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	buf = malloc(n > 0 ? (size_t)n + 1 : 1);
	if (!buf)
		exit(EX_FAIL);
	va_start(ap, fmt);
	vsnprintf(buf, (size_t)n + 1, fmt, ap);
	va_end(ap);
	harms_seen |= 1u << kind;
	if (!explore_running())
		printf("  HARM: %s\n", buf);
	if (verdict_fd >= 0 && (verdict_ro->msc || verdict_ro->svg))
		sim_trace_note(true, "HARM: %s", buf);
	explore_note("%s", buf);
	free(buf);
	return 1;
}

int race_check_bytes(struct mm_struct *mm)
{
	long bad = sim_process_verify(mm, false);

	if (bad > 0)
		return race_harm(HARM_CORRUPT_DATA,
				 "%s reads bytes it never wrote (%ld page%s; "
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

/**
 * The eras \a rc can run in, as text: "keyhole, migration" (or, with \a
 * prose, "keyhole or migration").
 */
static void era_list(const struct race *rc, char *buf, size_t len, bool prose)
{
	unsigned int e, set = rc->eras ? rc->eras : ERA_BIT(rc->era), left;
	size_t n = 0;

	buf[0] = '\0';
	for (e = 0; e < NR_ERAS; e++) {
		if (!(set & ERA_BIT(e)) || !ksm_era_name(e) || n >= len)
			continue;
		left = set & ~(ERA_BIT(e + 1) - 1);
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? (prose &&
				      !left ? " or " : ", ") : "",
				      ksm_era_name(e));
	}
}

/** Can \a rc run in era \a e? */
static bool race_runs_in(const struct race *rc, enum ksm_era e)
{
	return ((rc->eras ? rc->eras : ERA_BIT(rc->era)) & ERA_BIT(e)) != 0;
}

/**
 * The race windows and pause points \a rc's script stops at, in order,
 * each once, into \a buf.
 */
static void script_windows(const struct race *rc, char *buf, size_t len)
{
	size_t n = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < rc->nr_steps; i++) {
		const char *u = rc->script[i].until;
		char one[80];

		while (*u) {
			size_t k = strcspn(u, "|#");

			snprintf(one, sizeof(one), "%.*s", (int)k, u);
			u += strcspn(u, "|");
			u += *u == '|';
			if (!strcmp(one, "blocked") || !strcmp(one, "done") ||
			    !strncmp(one, "delay ", 6) ||
			    !strncmp(one, "old ", 4) || strstr(buf, one))
				continue;
			if (n < len)
				n += (size_t)snprintf(buf + n, len - n, "%s%s",
						      n ? ", " : "", one);
		}
	}
}

/**
 * --list: the races, one a line; --list --long: the catalogue, a Markdown
 * table of each race's chapter, seed, eras, actors, windows, fix and what
 * goes wrong without it (walkthrough.md's Appendix C is this output).
 */
static void list_races(bool longer)
{
	char eras[80], windows[400];
	unsigned int i;
	int k;

	if (longer)
		printf("| race | chapter | seed | eras | actors | stops at "
		       "| fix | with the fix off |\n"
		       "|---|---|---|---|---|---|---|---|\n");
	for (i = 0; i < NR_RACES; i++) {
		const struct race *rc = races[i];

		if (!longer) {
			printf("%-13s seed %-12s era %-9s fix %-25s %s\n",
			       rc->id, rc->seed, ksm_era_name(rc->era),
			       rc->fix >= 0 ? ksm_fix_name(rc->fix) : "-",
			       rc->title);
			continue;
		}
		era_list(rc, eras, sizeof(eras), false);
		script_windows(rc, windows, sizeof(windows));
		printf("| %s | %d | %s | %s | ", rc->id, rc->chapter, rc->seed,
		       eras);
		for (k = 0; k < rc->nr_actors; k++)
			printf("%s%s", k ? ", " : "", rc->actors[k].name);
		printf("%s | %s | %s | %s |\n", rc->custom ? "(a measurement)" :
		       "", rc->custom ? "-" : windows,
		       rc->fix >= 0 ? ksm_fix_name(rc->fix) : "-",
		       rc->harm ? rc->harm : "-");
	}
	exit(EX_PASS);
}

/** --list-windows: every race window, where it is, what holds there. */
static void list_windows(void)
{
	unsigned int i;
	int w;

	printf("| window | in | what holds there |\n|---|---|---|\n");
	for (w = 0; sim_window_name(w); w++)
		printf("| %s | %s() | %s |\n", sim_window_name(w),
		       sim_window_where(w), sim_window_holds(w));
	printf("\nPause points of the scenarios themselves:\n");
	for (i = 0; i < NR_RACES; i++) {
		const char *const *p = races[i]->pauses;

		for (; p && *p; p++)
			printf("  %s: %s\n", races[i]->id, *p);
	}
	exit(EX_PASS);
}

/**
 * Check, before anything runs, that the run can happen: the era is one
 * \a rc runs in, and every window its script names exists (a race
 * window, or a pause point the scenario declares).  Exits 2 if not.
 */
static void validate(const struct race *rc, const struct race_opts *ro)
{
	char eras[80], one[80];
	int i;

	if (ro->o.era_set && !race_runs_in(rc, ro->o.cfg.era)) {
		era_list(rc, eras, sizeof(eras), true);
		ex_usage_error(ro->o.prog, "%s needs era %s, not %s: its "
			       "script cannot happen there", rc->id, eras,
			       ksm_era_name(ro->o.cfg.era));
	}
	for (i = 0; i < rc->nr_steps; i++) {
		const char *u = rc->script[i].until;
		const char *const *p;

		if (!strncmp(u, "delay ", 6) || !strncmp(u, "old ", 4))
			continue;
		while (*u) {
			size_t k = strcspn(u, "|");
			bool ok;

			snprintf(one, sizeof(one), "%.*s", (int)k, u);
			u += k + (u[k] == '|');
			ok = !strcmp(one, "blocked") || !strcmp(one, "done") ||
			     sim_window_exists(one);
			one[strcspn(one, "#")] = '\0';
			for (p = rc->pauses; !ok && p && *p; p++)
				ok = !strcmp(one, *p);
			if (!ok)
				ex_usage_error(ro->o.prog, "%s: step %d of its "
					       "script stops at '%s': no race "
					       "window or pause point is called "
					       "that (see --list-windows)",
					       rc->id, i + 1, one);
		}
	}
}

/**
 * Describe which of the race's fixes are on: those off for this run, and
 * those the race turns off in every run (a line of ours that would cover
 * for the seed's line it shows), said apart.
 */
static void print_header(const struct race *rc, struct race_opts *ro)
{
	int i, off = 0, always = 0;

	printf("%s: %s\n", rc->id, rc->title);
	printf("  seed %s, era %s", rc->seed, ksm_era_name(ksm_get_era()));
	if (ro->o.cfg.model != SIM_MODEL_SC)
		printf(", memory model %s", sim_model_name(ro->o.cfg.model));
	for (i = 0; i < NR_FIXES; i++)
		if (!ksm_fix_on(i) && !(rc->fixes_off & (1UL << i)))
			printf("%s%s", off++ ? ", " : "; OFF: ", ksm_fix_name(i));
	if (!off)
		printf("; every %sfix on", rc->fixes_off ? "other " : "");
	for (i = 0; i < NR_FIXES; i++)
		if (rc->fixes_off & (1UL << i))
			printf("%s%s", always++ ? ", " : ";\n  off in every run "
			       "of this race: ", ksm_fix_name(i));
	if (always)
		printf(" (ours: it would cover for the kernel's line this "
		       "race shows)");
	printf("%s\n", ro->debug_vm ? "; CONFIG_DEBUG_VM" : "");
}

/*
 * --verdict: a run prints one line, a JSON object, and nothing else on its
 * standard output, for a script to read (race --grade):
 *
 *	{"race":"R2","era":"keyhole","model":"sc","off":["keyhole_recheck"],
 *	 "debug_vm":false,"outcome":"went-wrong","harm":["wrong-mapping"],
 *	 "audit":0}
 *
 * "off" is every fix off in the run (--broken's, --without's, and any the
 * race turns off in every run); "outcome" is "clean" or "went-wrong", as
 * the exit status says; "harm" the kinds of its HARM lines (enum
 * harm_kind), in that order; "audit" the auditor's violations, or null
 * when it could not look (the kernel died, or the machine is stuck).  The
 * rest of what the run prints goes to /dev/null.
 */

/**
 * Start a run that prints one thing alone (--verdict, --msc, --svg): what
 * else it prints, until verdict_end(), is lost.
 */
static void verdict_begin(const struct race *rc, const struct race_opts *ro)
{
	int null = open("/dev/null", O_WRONLY);

	fflush(stdout);
	verdict_fd = dup(STDOUT_FILENO);
	if (null < 0 || verdict_fd < 0 || dup2(null, STDOUT_FILENO) < 0) {
		perror("race: --verdict");
		exit(EX_FAIL);
	}
	close(null);
	verdict_rc = rc;
	verdict_ro = ro;
}

/**
 * End a --verdict run (if this is one) with its line: it went wrong, or
 * not; \a audit violations, or -1 if the auditor could not look.
 */
static void verdict_end(bool wrong, long audit)
{
	const struct race_opts *ro = verdict_ro;
	int i, n = 0;

	if (verdict_fd < 0)
		return;
	fflush(stdout);
	dup2(verdict_fd, STDOUT_FILENO);
	close(verdict_fd);
	verdict_fd = -1;
	if (ro->msc) {
		printf("msc {\n");
		sim_timeline_print_msc(stdout);
		printf("}\n");
		fflush(stdout);
		return;
	}
	if (ro->svg) {
		char off[160] = "", title[400];
		size_t len = 0;

		for (i = 0; i < NR_FIXES; i++)
			if (!ksm_fix_on(i) &&
			    !(verdict_rc->fixes_off & (1UL << i)) &&
			    len < sizeof(off))
				len += (size_t)snprintf(off + len,
							sizeof(off) - len,
							"%s%s", len ? ", " : "",
							ksm_fix_name(i));
		snprintf(title, sizeof(title), "%s (%s%s): %s", verdict_rc->id,
			 len ? off : "every fix on", len ? " off" : "",
			 verdict_rc->title);
		sim_timeline_print_svg(stdout, title);
		fflush(stdout);
		return;
	}
	printf("{\"race\":\"%s\",\"era\":\"%s\",\"model\":\"%s\",\"off\":[",
	       verdict_rc->id, ksm_era_name(ksm_get_era()),
	       sim_model_name(verdict_ro->o.cfg.model));
	for (i = 0; i < NR_FIXES; i++)
		if (!ksm_fix_on(i))
			printf("%s\"%s\"", n++ ? "," : "", ksm_fix_name(i));
	printf("],\"debug_vm\":%s,\"outcome\":\"%s\",\"harm\":[",
	       verdict_ro->debug_vm ? "true" : "false",
	       wrong ? "went-wrong" : "clean");
	for (i = 0, n = 0; i < NR_HARM_KINDS; i++)
		if (harms_seen & (1u << i))
			printf("%s\"%s\"", n++ ? "," : "", harm_kind_name(i));
	if (audit < 0)
		printf("],\"audit\":null}\n");
	else
		printf("],\"audit\":%ld}\n", audit);
	fflush(stdout);
}

static const struct race *dying;
static bool dying_quiet, dying_chart;

/** Print what the actors did: the timeline. */
static void print_trace(void)
{
	printf("\n");
	sim_timeline_print(stdout);
	printf("\n");
}

/** Does this run print a chart alone (--msc, --svg)? */
static bool charting(const struct race_opts *ro)
{
	return ro->msc || ro->svg;
}

/**
 * The simulated kernel died (a fault on removed memory, a BUG): that is
 * the race's harm.  Print what the actors did up to it, and the verdict.
 */
static void race_death(const char *what)
{
	if (!dying_quiet && !dying_chart)
		print_trace();
	harms_seen |= 1u << HARM_KERNEL_DIED;
	printf("  HARM: the kernel died: %s\n", what);
	printf("%s: WENT WRONG (the simulated kernel died; no audit)\n",
	       dying ? dying->id : "?");
	if (dying_chart) {
		sim_trace_stop();
		sim_trace_note(true, "HARM: the kernel died: %s", what);
		sim_trace_note(true, "%s: WENT WRONG (the simulated kernel "
			       "died; no audit)", dying ? dying->id : "?");
	}
	verdict_end(true, -1);
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
	/* A chart marks the lines switched off for this run, not the race's
	 * own always-off ones. */
	sim_trace_highlight(ro->o.fixes_off & ~rc->fixes_off);
	ro->o.fixes_off |= rc->fixes_off;
	ro->o.cfg.nr_sections = ro->o.cfg.nr_sections ? ro->o.cfg.nr_sections
						       : 4;
	ex_start(&ro->o);
	sim_set_debug_vm(ro->debug_vm);
	dying = rc;
	dying_quiet = ro->o.quiet;
	dying_chart = charting(ro);
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
	if (charting(ro))
		sim_trace_stop();	/* the actors' steps, not the check's */
	else if (!ro->o.quiet)
		print_trace();
	if (err) {
		printf("  the run was abandoned: %s\n", sim_run_error());
		if (charting(ro))
			sim_trace_note(true, "the run was abandoned: %s",
				       sim_run_error());
		harms = rc->check(err, NULL, !c);
		harms_seen |= 1u << HARM_STUCK;
		printf("%s: WENT WRONG (%d harm%s; the machine is stuck, so "
		       "no audit)\n", rc->id, harms, harms == 1 ? "" : "s");
		if (charting(ro))
			sim_trace_note(true, "%s: WENT WRONG (%d harm%s; the "
				       "machine is stuck, so no audit)",
				       rc->id, harms, harms == 1 ? "" : "s");
		verdict_end(true, -1);
		fflush(stdout);
		_exit(EX_FAIL);		/* stuck threads: no orderly exit */
	}
	bad = audit_machine(&r, false);
	harms = rc->check(0, &r, !c);
	ex_audit("after the run", NULL);
	sim_exit();
	if (!harms && !bad) {
		printf("%s: clean\n", rc->id);
		if (charting(ro))
			sim_trace_note(false, "%s: clean", rc->id);
		verdict_end(false, 0);
		sim_trace_enable(false);
		return EX_PASS;
	}
	printf("%s: WENT WRONG (%d harm%s, %lu audit violation%s)\n", rc->id,
	       harms, harms == 1 ? "" : "s", bad, bad == 1 ? "" : "s");
	if (charting(ro))
		sim_trace_note(true, "%s: WENT WRONG (%d harm%s, %lu audit "
			       "violation%s)", rc->id, harms,
			       harms == 1 ? "" : "s", bad, bad == 1 ? "" : "s");
	verdict_end(true, (long)bad);
	sim_trace_enable(false);
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

/**
 * The width of a timeline: --width, else $COLUMNS, else the terminal's
 * (when the output is one), else 96: a pipe gets the same bytes each run.
 */
static unsigned int timeline_width(unsigned long given)
{
	const char *cols = getenv("COLUMNS");
	struct winsize ws;
	char *end;
	long c;

	if (given)
		return (unsigned int)given;
	if (cols) {
		c = strtol(cols, &end, 10);
		if (!*end && c >= 40 && c <= 1000)
			return (unsigned int)c;
	}
	if (isatty(STDOUT_FILENO) && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) &&
	    ws.ws_col >= 40)
		return ws.ws_col;
	return 96;
}

static bool race_takes_value(const char *name)
{
	return ex_common_takes_value(name) || !strcmp(name, "seconds") ||
	       !strcmp(name, "width") ||
	       !strcmp(name, "bound") || !strcmp(name, "reorder") ||
	       !strcmp(name, "max-schedules") || !strcmp(name, "replay") ||
	       !strcmp(name, "grade");
}

static void usage(const char *prog)
{
	int k;

	printf("Usage: %s RACE [options]\n       %s --list [--long]\n"
	       "       %s --list-windows\n       %s --grade FILE\n"
	       "       %s --explore-all [--bound N] [--reorder N] [--fork]\n\n"
	       "Runs a race on the simulated machine: by default its scripted "
	       "interleaving,\nwith every fix on, and prints its timeline (a "
	       "column per actor) and verdict.\nA race may turn off a line of "
	       "ours in every run, which would cover for the\nkernel's line it "
	       "shows (R10, R10.rmb and R11: kpfn_seq); its header says so.\n\n"
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
	       "  --msc              print only the run's chart, in mscgen's "
	       "language, \"msc {\"\n                     to \"}\": a box "
	       "for each step, red where a line switched\n"
	       "                     off would have acted, an arrow for a page, "
	       "lock or kpfn\n                     passed on, the outcome "
	       "across the foot (| mscgen -T png -i -)\n"
	       "  --svg              the same chart as an SVG image, its steps "
	       "in words as its\n                     description (no tool "
	       "needed)\n"
	       "  --list             list the races, in the book's order\n"
	       "  --list --long      the catalogue: each race's eras, actors, "
	       "windows, fix,\n                     and what goes wrong without "
	       "it (a Markdown table)\n"
	       "  --list-windows     the race windows a script can stop at: "
	       "where each is,\n                     and what holds there\n"
	       "  --width N          the timeline's width (40..1000; default "
	       "$COLUMNS, or the\n                     terminal's, or 96)\n"
	       "  --time             R1: also run ksmd free and time it (the "
	       "figures vary)\n"
	       "  --story            what the race is about, in three lines\n"
	       "  --verdict          print only the verdict, as one line of "
	       "JSON: race, era,\n                     model, fixes off, "
	       "outcome (clean, went-wrong), the kinds\n                     "
	       "of harm, audit violations (null: no audit)\n"
	       "  --dry-run          check the arguments, and run nothing\n"
	       "  --grade FILE       grade predictions against real runs: "
	       "each line of FILE\n                     is a run, \"=>\", "
	       "then \"clean\" or \"went-wrong\" and the kinds of\n"
	       "                     harm, as in \"R2 --broken => went-wrong "
	       "wrong-mapping\"\n\n"
	       "The kinds of harm: ",
	       prog, prog, prog, prog, prog);
	for (k = 0; k < NR_HARM_KINDS; k++)
		printf("%s%s", k ? (k % 5 ? ", " : ",\n  ") : "\n  ",
		       harm_kind_names[k]);
	printf(".\n\n%s", ex_common_help);
	exit(EX_PASS);
}

/** The command line of race: the run's options, and what else it asks. */
struct race_args {
	struct race_opts ro;		/**< what the run is given */
	const struct race *rc;		/**< the race named, or NULL */
	bool story;			/**< --story: print it, and stop */
	bool explore_all;		/**< --explore-all: every race */
	bool list;			/**< --list */
	bool longer;			/**< --long, with --list */
	bool list_windows;		/**< --list-windows */
	unsigned long width;		/**< --width, or 0 */
	bool verdict;			/**< --verdict: one JSON line */
	bool dry_run;			/**< --dry-run: check, run nothing */
	const char *grade;		/**< --grade FILE */
	int nr_opts;			/**< how many options were given */
};

static void race_option(void *ctx, const char *name, const char *val)
{
	struct race_args *a = ctx;

	if (!strcmp(name, "help"))
		usage(a->ro.o.prog);
	a->nr_opts++;
	if (ex_common_option(&a->ro.o, name, val))
		return;
	if (!strcmp(name, "verdict"))
		a->verdict = true;
	else if (!strcmp(name, "dry-run"))
		a->dry_run = true;
	else if (!strcmp(name, "grade"))
		a->grade = val;
	else if (!strcmp(name, "list"))
		a->list = true;
	else if (!strcmp(name, "long"))
		a->longer = true;
	else if (!strcmp(name, "time"))
		a->ro.time = true;
	else if (!strcmp(name, "list-windows"))
		a->list_windows = true;
	else if (!strcmp(name, "width"))
		a->width = ex_parse_ulong(a->ro.o.prog, name, val, 40, 1000);
	else if (!strcmp(name, "broken"))
		a->ro.broken = true;
	else if (!strcmp(name, "stress"))
		a->ro.stress = true;
	else if (!strcmp(name, "debug-vm"))
		a->ro.debug_vm = true;
	else if (!strcmp(name, "msc"))
		a->ro.msc = true;
	else if (!strcmp(name, "svg"))
		a->ro.svg = true;
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


/*
 * race --grade FILE: a student's predictions, graded against real runs.
 * A line of FILE names a run, then "=>", then how the student predicts
 * it ends: "clean", or "went-wrong" and the kinds of harm (the names
 * --verdict uses, in any order); '#' starts a comment.
 *
 *	R2 --broken => went-wrong wrong-mapping
 *	R2 => clean
 *
 * Every line is checked before anything runs, its options too (a run of
 * each with --dry-run), so a bad file is a usage error.  Then each run is
 * made in a process of its own, with --verdict; a prediction is right when
 * both the outcome and the set of harm kinds are the run's, half right
 * when only the outcome is.  Exit 0 when every one is right, else 1.
 */

/** Most words in a prediction's run. */
#define GRADE_MAX_ARGS	24

/** One line of a predictions file. */
struct prediction {
	int line;			/**< its line in the file */
	char *buf;			/**< the words of argv, in a copy */
	char *argv[GRADE_MAX_ARGS + 4];	/**< race, options, and ours */
	int argc;			/**< ...how many of the student's */
	bool wrong;			/**< "went-wrong" predicted */
	bool unanswered;		/**< "?": not predicted yet */
	unsigned int kinds;		/**< the harm kinds predicted */
};

/** The harm kind named \a name, or -1. */
static int harm_kind_by_name(const char *name)
{
	int k;

	for (k = 0; k < NR_HARM_KINDS; k++)
		if (!strcmp(harm_kind_names[k], name))
			return k;
	return -1;
}

/**
 * Run this program with \a argv in a child; its standard output and error,
 * together, into \a out.  Returns its exit status, or -1.
 */
static int grade_run(const char *prog, char **argv, char *out, size_t len)
{
	int fd[2], status;
	size_t n = 0;
	ssize_t r;
	pid_t pid;

	fflush(stdout);
	if (pipe(fd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dup2(fd[1], STDOUT_FILENO);
		dup2(fd[1], STDERR_FILENO);
		close(fd[0]);
		close(fd[1]);
		execv("/proc/self/exe", argv);
		execvp(prog, argv);
		_exit(127);
	}
	close(fd[1]);
	while ((r = read(fd[0], out + n, len - 1 - n)) > 0)
		if ((n += (size_t)r) == len - 1)
			break;
	out[n] = 0;
	while (read(fd[0], &status, sizeof(status)) > 0)
		;			/* the rest, unread */
	close(fd[0]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/** Print the harm kinds in \a kinds, comma-separated, or "no harm". */
static void print_kinds(unsigned int kinds)
{
	int k, n = 0;

	for (k = 0; k < NR_HARM_KINDS; k++)
		if (kinds & (1u << k))
			printf("%s%s", n++ ? ", " : "", harm_kind_names[k]);
	if (!n)
		printf("no harm line");
}

/** Parse line \a nr of a predictions file, \a buf, into \a p. */
static const char *grade_parse(char *buf, int nr, struct prediction *p)
{
	char *arrow = strstr(buf, "=>"), *w, *save;
	int k;

	*p = (struct prediction){ .line = nr, .buf = buf };
	if (!arrow)
		return "no \"=>\" between the run and the prediction";
	*arrow = 0;
	for (w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (p->argc == GRADE_MAX_ARGS)
			return "too many words in the run";
		p->argv[1 + p->argc++] = w;
	}
	if (!p->argc)
		return "no race before \"=>\"";
	if (!find_race(p->argv[1]))
		return "no such race (see race --list)";
	w = strtok_r(arrow + 2, " \t", &save);
	if (!w)
		return "no prediction after \"=>\": \"clean\" or \"went-wrong\"";
	if (!strcmp(w, "?")) {
		p->unanswered = true;
		return strtok_r(NULL, " \t", &save) ?
		       "a '?' stands alone: the prediction is still to make" :
		       NULL;
	}
	if (!strcmp(w, "went-wrong"))
		p->wrong = true;
	else if (strcmp(w, "clean"))
		return "the prediction starts \"clean\" or \"went-wrong\"";
	while ((w = strtok_r(NULL, " \t,", &save))) {
		k = harm_kind_by_name(w);
		if (k < 0)
			return "an unknown kind of harm (race --help lists them)";
		if (!p->wrong)
			return "a clean run has no harm";
		p->kinds |= 1u << k;
	}
	return NULL;
}

static int grade(const char *prog, const char *path)
{
	struct prediction *preds = NULL;
	char line[1024], out[65536], *c;
	int n = 0, cap = 0, nr = 0, bad = 0, i, right = 0, half = 0, open = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		ex_usage_error(prog, "cannot read '%s'", path);
	while (fgets(line, sizeof(line), f)) {
		const char *why;

		nr++;
		if (!strchr(line, '\n') && !feof(f))
			ex_usage_error(prog, "%s:%d: line too long", path, nr);
		if ((c = strchr(line, '#')))
			*c = 0;
		if (strspn(line, " \t\n") == strlen(line))
			continue;
		line[strcspn(line, "\n")] = 0;
		if (n == cap) {
			cap = cap ? 2 * cap : 32;
			preds = realloc(preds, (size_t)cap * sizeof(*preds));
			if (!preds)
				exit(EX_FAIL);
		}
		c = strdup(line);
		if (!c)
			exit(EX_FAIL);
		why = grade_parse(c, nr, &preds[n]);
		if (why) {
			fprintf(stderr, "%s:%d: %s: %s\n", path, nr, why, line);
			bad++;
			free(c);
			continue;
		}
		preds[n].argv[0] = (char *)prog;
		n++;
	}
	fclose(f);
	if (!bad && !n)
		ex_usage_error(prog, "%s: no predictions", path);
	/* Every run's options, checked before anything runs. */
	for (i = 0; i < n; i++) {
		struct prediction *p = &preds[i];

		p->argv[p->argc + 1] = "--dry-run";
		p->argv[p->argc + 2] = NULL;
		if (grade_run(prog, p->argv, out, sizeof(out)) != EX_PASS) {
			out[strcspn(out, "\n")] = 0;	/* not "Try --help" */
			fprintf(stderr, "%s:%d: the run is refused: %s\n", path,
				p->line, out[0] ? out : "(no reason given)");
			bad++;
		}
	}
	if (bad)
		ex_usage_error(prog, "%s: %d bad line%s", path, bad,
			       bad == 1 ? "" : "s");
	for (i = 0; i < n; i++) {
		struct prediction *p = &preds[i];
		char names[256], *w, *save;
		unsigned int kinds = 0;
		const char *v, *h;
		bool wrong;
		int a, k;

		for (a = 1; a <= p->argc; a++)
			printf("%s%s", a > 1 ? " " : "", p->argv[a]);
		printf(": ");
		if (p->unanswered) {
			open++;
			printf("not predicted yet ('?')\n");
			continue;
		}
		p->argv[p->argc + 1] = "--verdict";
		grade_run(prog, p->argv, out, sizeof(out));
		v = strstr(out, "{\"race\":");
		if (!v || !(h = strstr(v, "\"harm\":["))) {
			printf("the run printed no verdict\n");
			continue;
		}
		wrong = strstr(v, "\"outcome\":\"went-wrong\"") != NULL;
		snprintf(names, sizeof(names), "%.*s", (int)strcspn(h + 8, "]"),
			 h + 8);
		for (w = strtok_r(names, "\",", &save); w;
		     w = strtok_r(NULL, "\",", &save))
			if ((k = harm_kind_by_name(w)) >= 0)
				kinds |= 1u << k;
		if (wrong == p->wrong && (!wrong || kinds == p->kinds)) {
			right++;
			printf("right: %s", wrong ? "it went wrong: " : "clean");
			if (wrong)
				print_kinds(kinds);
		} else if (wrong == p->wrong) {
			half++;
			printf("half right: it went wrong, but with ");
			print_kinds(kinds);
			printf(" (you said ");
			print_kinds(p->kinds);
			printf(")");
		} else if (wrong) {
			printf("wrong: it went wrong: ");
			print_kinds(kinds);
		} else {
			printf("wrong: it ended clean");
		}
		printf("\n");
	}
	printf("\n%d prediction%s: %d right, %d half right (the outcome "
	       "only), %d wrong", n, n == 1 ? "" : "s", right, half,
	       n - right - half - open);
	if (open)
		printf(", %d not made", open);
	printf("\n");
	for (i = 0; i < n; i++)
		free(preds[i].buf);
	free(preds);
	return right == n ? EX_PASS : EX_FAIL;
}

int main(int argc, char **argv)
{
	struct race_args a = { .ro.o.prog = argv[0], .ro.seconds = 5,
			  .ro.xo = { .bound = 2, .reorder = 2 },
			  .ro.argc = argc, .ro.argv = argv };
	struct sim_decision *prefix = NULL;
	struct sim_choices c = { 0 };
	char err[300];
	int modes;

	ex_parse_args(argc, argv, &a, race_takes_value, race_option,
		      race_positional);
	if (a.longer && !a.list)
		ex_usage_error(a.ro.o.prog, "--long goes with --list");
	if (a.list || a.list_windows) {
		if (a.rc || argc > 2 + a.longer)
			ex_usage_error(a.ro.o.prog, "--list and --list-windows "
				       "take no race and no other option");
		if (a.list)
			list_races(a.longer);
		list_windows();
	}
	if (a.grade) {
		if (a.rc || a.nr_opts > 1)
			ex_usage_error(a.ro.o.prog, "--grade FILE takes no race "
				       "and no other option: the file names "
				       "the runs");
		return grade(a.ro.o.prog, a.grade);
	}
	sim_timeline_set_width(timeline_width(a.width));
	if (a.explore_all) {
		if (a.rc || a.ro.o.era_set || a.ro.o.model_set ||
		    a.ro.o.fixes_off || a.ro.broken || a.ro.stress ||
		    a.ro.explore || a.ro.replay || a.story || a.ro.msc ||
		    a.ro.svg || a.verdict)
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
	if (a.ro.msc && a.ro.svg)
		ex_usage_error(a.ro.o.prog, "--msc or --svg: one chart at a "
			       "time");
	if ((a.ro.msc || a.ro.svg) &&
	    (a.ro.stress || a.ro.explore || a.ro.o.quiet || a.story))
		ex_usage_error(a.ro.o.prog, "--%s draws one run, scripted or "
			       "replayed (--replay the schedule --explore "
			       "prints): not --stress, --explore, --quiet or "
			       "--story", a.ro.msc ? "msc" : "svg");
	if (a.verdict && (a.ro.stress || a.ro.explore || a.ro.msc ||
			  a.ro.svg || a.story))
		ex_usage_error(a.ro.o.prog, "--verdict is the verdict of one "
			       "run, scripted or replayed: not of --stress, "
			       "--explore, --msc, --svg or --story");
	if (a.verdict)
		a.ro.o.quiet = true;
	if (a.ro.time && !a.rc->custom)
		ex_usage_error(a.ro.o.prog, "--time is R1's: a measurement "
			       "that runs ksmd free");
	if (a.rc->custom) {
		if (modes || a.ro.msc || a.ro.svg || a.verdict)
			ex_usage_error(a.ro.o.prog, "%s is a measurement: it "
				       "runs only its own way", a.rc->id);
		if (a.dry_run)
			return EX_PASS;
		return a.rc->custom(&a.ro);
	}
	validate(a.rc, &a.ro);
	if ((a.ro.explore || a.ro.replay) && a.rc->no_explore) {
		/* A question the explorer cannot answer: not a usage error. */
		printf("%s: not explored: %s\n", a.rc->id, a.rc->no_explore);
		return EX_PASS;
	}
	if (a.ro.replay && explore_parse(a.ro.replay, &prefix, &c.nr_prefix,
					 err, sizeof(err)))
		ex_usage_error(a.ro.o.prog, "%s", err);
	if (a.dry_run) {
		free(prefix);
		return EX_PASS;
	}
	if (a.verdict || a.ro.msc || a.ro.svg)
		verdict_begin(a.rc, &a.ro);
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

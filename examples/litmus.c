// SPDX-License-Identifier: GPL-2.0
/*
 * litmus.c - litmus tests of the memory model (ksm_ref.c, group model),
 * each checked against the verdict of the Linux kernel memory model
 * (tools/memory-model/litmus-tests, and herd7 on the rest).
 *
 *   litmus              every test; exit 0 if each verdict is as expected
 *   litmus --list       the tests
 *   litmus MP+wmb+rmb   one test, with the outcomes it saw
 *
 * A litmus test is two tiny threads on a few shared words and a question:
 * can this outcome happen?  The explorer runs every schedule of the two,
 * with every reordering the model allows (no bound: they are small), and
 * collects the outcomes; "Sometimes" if the one asked about is among them,
 * "Never" if not.  Message passing (MP) is the pattern of the seeds: the
 * writer stores the data, then the flag; the reader loads the flag, then
 * the data.  ksm_migrate_page() stores kpfn and then clears the old
 * page's mapping; get_ksm_page() loads the mapping and then kpfn (R10).
 * Through an address dependency (R11): the writer stores the data, then a
 * pointer to it; the reader loads the pointer, then the data through it.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "explore.h"

/* The shared words, and the reader's registers. */
static _Atomic unsigned long x, y, p;
static unsigned long r0, r1;

/** One litmus test. */
struct litmus {
	const char *name;		/**< in LKMM's spirit */
	const char *lkmm;		/**< LKMM's file, or how we know */
	enum sim_model model;		/**< the CPU it asks about */
	const char *code[2];		/**< the two threads, for the reader */
	const char *exists;		/**< the outcome asked about */
	void (*thread[2])(void *arg);	/**< the two threads */
	int (*outcome)(void);		/**< the registers, as a number */
	bool (*asked)(int outcome);	/**< is it the outcome asked about? */
	const char *expected;		/**< "Sometimes" or "Never" */
	const char *lkmm_verdict;	/**< what LKMM says (if it differs) */
	const char *note;		/**< ...and why */
};

/* ---------------------------------------------------------------- */
/* Message passing: MP, with and without the two barriers. */

static void mp_writer(bool wmb)
{
	sim_write_once(&x, 1, "x");
	if (wmb)
		sim_barrier(SIM_SMP_WMB);
	sim_write_once(&y, 1, "y");
}

static void mp_reader(bool rmb)
{
	r0 = sim_read_once(&y, "y");
	if (rmb)
		sim_barrier(SIM_SMP_RMB);
	r1 = sim_read_once(&x, "x");
}

static void mp_p0(void *arg) { (void)arg; mp_writer(false); }
static void mp_p0_wmb(void *arg) { (void)arg; mp_writer(true); }
static void mp_p1(void *arg) { (void)arg; mp_reader(false); }
static void mp_p1_rmb(void *arg) { (void)arg; mp_reader(true); }

/** r0 and r1 (each 0 or 1) as a number 0..3. */
static int outcome_r0r1(void)
{
	return (int)(r0 * 2 + r1);
}

/** "exists (1:r0=1 /\ 1:r1=0)": the flag seen, the data not. */
static bool mp_asked(int k)
{
	return k == 2;
}

/* ---------------------------------------------------------------- */
/* Through an address dependency: p points at y, then at x. */

static void dep_p0(void *arg)
{
	(void)arg;
	sim_write_once(&x, 1, "x");
	sim_barrier(SIM_SMP_WMB);
	sim_write_once(&p, (unsigned long)&x, "p");
}

static void dep_reader(bool rbd)
{
	r0 = sim_read_once(&p, "p");
	sim_barrier(SIM_ADDR_DEP);		/* the next load goes through r0 */
	if (rbd)
		sim_barrier(SIM_READ_BARRIER_DEPENDS);
	r1 = sim_read_once((_Atomic unsigned long *)r0, "*p");
}

static void dep_p1(void *arg) { (void)arg; dep_reader(false); }
static void dep_p1_rbd(void *arg) { (void)arg; dep_reader(true); }

/** r0 (1 if it points at x) and r1 as a number 0..3. */
static int outcome_dep(void)
{
	return (int)((r0 == (unsigned long)&x) * 2 + r1);
}

/* ---------------------------------------------------------------- */
/* Store buffering (SB) and load buffering (LB), to see the model's edges. */

static void sb_p0(void *arg) { (void)arg; sim_write_once(&x, 1, "x");
			       r0 = sim_read_once(&y, "y"); }
static void sb_p1(void *arg) { (void)arg; sim_write_once(&y, 1, "y");
			       r1 = sim_read_once(&x, "x"); }
static void sb_p0_mb(void *arg) { (void)arg; sim_write_once(&x, 1, "x");
				  sim_barrier(SIM_SMP_MB);
				  r0 = sim_read_once(&y, "y"); }
static void sb_p1_mb(void *arg) { (void)arg; sim_write_once(&y, 1, "y");
				  sim_barrier(SIM_SMP_MB);
				  r1 = sim_read_once(&x, "x"); }

/** "exists (0:r0=0 /\ 1:r1=0)": each missed the other's store. */
static bool sb_asked(int k)
{
	return k == 0;
}

static void lb_p0(void *arg) { (void)arg; r0 = sim_read_once(&x, "x");
			       sim_write_once(&y, 1, "y"); }
static void lb_p1(void *arg) { (void)arg; r1 = sim_read_once(&y, "y");
			       sim_write_once(&x, 1, "x"); }

/** "exists (0:r0=1 /\ 1:r1=1)": each read the other's later store. */
static bool lb_asked(int k)
{
	return k == 3;
}

/* ---------------------------------------------------------------- */

static const char mp_code_p0[] = "WRITE_ONCE(x, 1); WRITE_ONCE(y, 1);";
static const char mp_code_p0_wmb[] =
	"WRITE_ONCE(x, 1); smp_wmb(); WRITE_ONCE(y, 1);";
static const char mp_code_p1[] = "r0 = READ_ONCE(y); r1 = READ_ONCE(x);";
static const char mp_code_p1_rmb[] =
	"r0 = READ_ONCE(y); smp_rmb(); r1 = READ_ONCE(x);";
static const char dep_code_p0[] =
	"WRITE_ONCE(x, 1); smp_wmb(); WRITE_ONCE(p, &x);";
static const char dep_code_p1[] = "r0 = READ_ONCE(p); r1 = READ_ONCE(*r0);";
static const char dep_code_p1_rbd[] =
	"r0 = READ_ONCE(p); smp_read_barrier_depends(); r1 = READ_ONCE(*r0);";
static const char mp_exists[] = "1:r0=1 /\\ 1:r1=0";

static const struct litmus tests[] = {
	{ "MP", "MP+poonceonces.litmus", SIM_MODEL_WEAK,
	  { mp_code_p0, mp_code_p1 }, mp_exists, { mp_p0, mp_p1 },
	  outcome_r0r1, mp_asked, "Sometimes", NULL, NULL },
	{ "MP+wmb", "MP+fencewmbonceonce+poonceonces (herd7)",
	  SIM_MODEL_WEAK, { mp_code_p0_wmb, mp_code_p1 }, mp_exists,
	  { mp_p0_wmb, mp_p1 }, outcome_r0r1, mp_asked, "Sometimes", NULL, NULL },
	{ "MP+rmb", "MP+poonceonces+fencermbonceonce (herd7)",
	  SIM_MODEL_WEAK, { mp_code_p0, mp_code_p1_rmb }, mp_exists,
	  { mp_p0, mp_p1_rmb }, outcome_r0r1, mp_asked, "Sometimes", NULL, NULL },
	{ "MP+wmb+rmb", "MP+fencewmbonceonce+fencermbonceonce.litmus",
	  SIM_MODEL_WEAK, { mp_code_p0_wmb, mp_code_p1_rmb }, mp_exists,
	  { mp_p0_wmb, mp_p1_rmb }, outcome_r0r1, mp_asked, "Never", NULL, NULL },
	{ "MP+wmb+addr", "MP+onceassign+derefonce.litmus (READ_ONCE() of "
	  "4.15 on)", SIM_MODEL_WEAK, { dep_code_p0, dep_code_p1 },
	  "1:r0=&x /\\ 1:r1=0", { dep_p0, dep_p1 }, outcome_dep, mp_asked,
	  "Never", NULL, NULL },
	{ "MP+wmb+addr.alpha", "Alpha 21264 (memory-barriers.txt, \"DATA "
	  "DEPENDENCY BARRIERS\")", SIM_MODEL_ALPHA,
	  { dep_code_p0, dep_code_p1 }, "1:r0=&x /\\ 1:r1=0",
	  { dep_p0, dep_p1 }, outcome_dep, mp_asked, "Sometimes", NULL, NULL },
	{ "MP+wmb+addr+rbd.alpha", "Alpha, with the barrier "
	  "(memory-barriers.txt)", SIM_MODEL_ALPHA,
	  { dep_code_p0, dep_code_p1_rbd }, "1:r0=&x /\\ 1:r1=0",
	  { dep_p0, dep_p1_rbd }, outcome_dep, mp_asked, "Never", NULL, NULL },
	{ "MP.sc", "sequential consistency", SIM_MODEL_SC,
	  { mp_code_p0, mp_code_p1 }, mp_exists, { mp_p0, mp_p1 },
	  outcome_r0r1, mp_asked, "Never", NULL, NULL },
	{ "SB", "SB+poonceonces.litmus", SIM_MODEL_WEAK,
	  { "WRITE_ONCE(x, 1); r0 = READ_ONCE(y);",
	    "WRITE_ONCE(y, 1); r1 = READ_ONCE(x);" }, "0:r0=0 /\\ 1:r1=0",
	  { sb_p0, sb_p1 }, outcome_r0r1, sb_asked, "Sometimes", NULL, NULL },
	{ "SB+mb", "SB+fencembonceonces.litmus", SIM_MODEL_WEAK,
	  { "WRITE_ONCE(x, 1); smp_mb(); r0 = READ_ONCE(y);",
	    "WRITE_ONCE(y, 1); smp_mb(); r1 = READ_ONCE(x);" },
	  "0:r0=0 /\\ 1:r1=0", { sb_p0_mb, sb_p1_mb }, outcome_r0r1,
	  sb_asked, "Never", NULL, NULL },
	{ "LB", "LB+poonceonces.litmus: Sometimes", SIM_MODEL_WEAK,
	  { "r0 = READ_ONCE(x); WRITE_ONCE(y, 1);",
	    "r1 = READ_ONCE(y); WRITE_ONCE(x, 1);" }, "0:r0=1 /\\ 1:r1=1",
	  { lb_p0, lb_p1 }, outcome_r0r1, lb_asked, "Never", "Sometimes",
	  "LKMM allows it; this model satisfies a load only from a store "
	  "already\n  executed, so two loads cannot each read the other "
	  "CPU's later store;\n  nothing in the seeds needs that" },
};
#define NR_TESTS (sizeof(tests) / sizeof(tests[0]))

/** One schedule of a test. */
static int run_test(void *ctx, struct sim_choices *c)
{
	const struct litmus *t = ctx;
	const struct sim_actor_spec actors[2] = {
		{ "P0", t->thread[0], NULL },
		{ "P1", t->thread[1], NULL },
	};

	atomic_store(&x, 0);
	atomic_store(&y, 0);
	atomic_store(&p, (unsigned long)&y);
	r0 = r1 = 0;
	if (sim_run_choices(actors, 2, c))
		return c->misfit ? EXPLORE_MISFIT : EXPLORE_STUCK;
	explore_outcome(t->outcome());
	return EXPLORE_CLEAN;
}

/** Tests whose verdict differs from LKMM's, by design (see the note). */
static unsigned int differ;

/** Run test \a t; returns whether its verdict is the expected one. */
static bool litmus(const struct litmus *t, bool verbose)
{
	struct explore_opts o = { .bound = -1, .reorder = -1,
				  .keep_going = true };
	struct sim_config cfg = { .nr_sections = 1, .pages_per_section = 64,
				  .page_size = 1024, .model = t->model };
	struct explore_result res;
	const char *verdict;
	bool ok;
	int k;

	if (sim_init(&cfg)) {
		fprintf(stderr, "litmus: cannot build the machine\n");
		exit(EX_FAIL);
	}
	if (explore(run_test, (void *)t, &o, &res) < 0 ||
	    res.failures || !res.exhausted) {
		printf("%s: the explorer stopped: %s\n", t->name,
		       res.failures ? res.why : "not exhausted");
		exit(EX_FAIL);
	}
	sim_exit();
	verdict = "Never";
	for (k = 0; k < 64; k++)
		if (res.outcomes & (1UL << k) && t->asked(k))
			verdict = "Sometimes";
	ok = !strcmp(verdict, t->expected);
	printf("%-22s %-5s %-9s (expected %-9s) %s   %lu schedules\n",
	       t->name, sim_model_name(t->model), verdict, t->expected,
	       ok ? "ok  " : "FAIL", res.schedules);
	if (verbose) {
		printf("  P0: %s\n  P1: %s\n  exists (%s)\n  outcomes seen:",
		       t->code[0], t->code[1], t->exists);
		for (k = 0; k < 4; k++)
			if (res.outcomes & (1UL << k))
				printf("  r0=%s r1=%d", t->outcome ==
				       outcome_dep ? (k & 2 ? "&x" : "&y") :
				       (k & 2 ? "1" : "0"), k & 1);
		printf("\n  LKMM: %s\n", t->lkmm);
	}
	if (t->lkmm_verdict) {
		printf("  (LKMM: %s.  %s)\n", t->lkmm_verdict, t->note);
		differ++;
	}
	return ok;
}

static void usage(const char *prog)
{
	printf("Usage: %s [TEST] [--list] [--verbose]\n\n"
	       "Runs the litmus tests of the memory model under the explorer "
	       "(every\nschedule, every reordering) and compares each verdict "
	       "with the Linux\nkernel memory model's.  Exit status 0 if every "
	       "one matches.\n\n"
	       "  --list             list the tests\n"
	       "  --verbose          show each test's code and outcomes\n"
	       "  --help             this help\n", prog);
	exit(EX_PASS);
}

/** The command line of litmus: which tests, and how much to show. */
struct litmus_args {
	const char *prog;		/**< argv[0], to name in messages */
	const struct litmus *one;	/**< the test named, or NULL: all */
	bool verbose;			/**< --verbose */
};

static bool takes_value(const char *name)
{
	(void)name;
	return false;
}

static void option(void *ctx, const char *name, const char *val)
{
	struct litmus_args *a = ctx;
	unsigned int i;

	(void)val;
	if (!strcmp(name, "help")) {
		usage(a->prog);
	} else if (!strcmp(name, "list")) {
		for (i = 0; i < NR_TESTS; i++)
			printf("%-22s %-5s %s\n", tests[i].name,
			       sim_model_name(tests[i].model), tests[i].lkmm);
		exit(EX_PASS);
	} else if (!strcmp(name, "verbose")) {
		a->verbose = true;
	} else {
		ex_usage_error(a->prog, "unknown option '--%s'", name);
	}
}

static void positional(void *ctx, const char *arg)
{
	struct litmus_args *a = ctx;
	unsigned int i;

	if (a->one)
		ex_usage_error(a->prog, "one test at a time");
	for (i = 0; i < NR_TESTS; i++)
		if (!strcasecmp(tests[i].name, arg))
			a->one = &tests[i];
	if (!a->one)
		ex_usage_error(a->prog, "unknown test '%s' (see --list)", arg);
}

int main(int argc, char **argv)
{
	struct litmus_args a = { .prog = argv[0] };
	unsigned int i, bad = 0;

	ex_parse_args(argc, argv, &a, takes_value, option, positional);
	if (a.one)
		return litmus(a.one, true) ? EX_PASS : EX_FAIL;
	for (i = 0; i < NR_TESTS; i++)
		bad += !litmus(&tests[i], a.verbose);
	printf("%u tests: %u verdicts as expected%s; %u the Linux kernel "
	       "memory model's, %u differing by design (see the note)\n",
	       (unsigned int)NR_TESTS, (unsigned int)NR_TESTS - bad,
	       bad ? " - SOME ARE NOT" : "", (unsigned int)NR_TESTS - differ,
	       differ);
	return bad ? EX_FAIL : EX_PASS;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * common.c - argument parsing, machine start and audit for the examples.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

noreturn void ex_usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", prog);
	exit(EX_USAGE);
}

unsigned long ex_parse_ulong(const char *prog, const char *opt, const char *s,
			     unsigned long min, unsigned long max)
{
	unsigned long v;
	char *end;

	if (!s || !*s)
		ex_usage_error(prog, "option --%s needs a number", opt);
	if (*s < '0' || *s > '9')
		ex_usage_error(prog, "option --%s: '%s' is not a non-negative "
			       "decimal number", opt, s);
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end)
		ex_usage_error(prog, "option --%s: '%s' is not a number", opt,
			       s);
	if (errno == ERANGE || v > max || v < min)
		ex_usage_error(prog, "option --%s: %s is out of range "
			       "[%lu, %lu]", opt, s, min, max);
	return v;
}

const char ex_common_help[] =
"Common options:\n"
"  --era NAME         design of the year: pinned, keyhole, hotremove,\n"
"                     migration, exchange (default depends on the program)\n"
"  --model NAME       memory model of scheduled runs: sc (default), weak\n"
"                     (ARM, Power: barriers matter) or alpha (and address\n"
"                     dependencies do not order loads)\n"
"  --without FIX      turn off one fix switch (repeatable); see --list-fixes\n"
"  --list-fixes       list the fix switches and exit\n"
"  --page-size N      bytes per simulated page frame (1024..65536, 4096)\n"
"  --timeline         print the timeline of the actors\n"
"  --quiet            print only the verdict\n"
"  --help             this help\n";

bool ex_common_takes_value(const char *name)
{
	return !strcmp(name, "era") || !strcmp(name, "without") ||
	       !strcmp(name, "model") ||
	       !strcmp(name, "page-size");
}

static void list_fixes(void)
{
	int i;

	for (i = 0; i < NR_FIXES; i++)
		printf("%-22s %s\n", ksm_fix_name(i), ksm_fix_doc(i));
	exit(EX_PASS);
}

bool ex_common_option(struct ex_opts *o, const char *opt, const char *val)
{
	int n;

	if (!strcmp(opt, "era")) {
		n = ksm_era_by_name(val);
		if (n < 0)
			ex_usage_error(o->prog, "unknown era '%s' (pinned, "
				       "keyhole, hotremove, migration, "
				       "exchange)", val);
		if (o->era_set && o->cfg.era != (enum ksm_era)n)
			ex_usage_error(o->prog, "--era given twice, "
				       "differently");
		o->cfg.era = n;
		o->era_set = true;
	} else if (!strcmp(opt, "model")) {
		n = sim_model_by_name(val);
		if (n < 0)
			ex_usage_error(o->prog, "unknown memory model '%s' "
				       "(sc, weak, alpha)", val);
		o->cfg.model = n;
		o->model_set = true;
	} else if (!strcmp(opt, "without")) {
		n = ksm_fix_by_name(val);
		if (n < 0)
			ex_usage_error(o->prog, "unknown fix '%s' (see "
				       "--list-fixes)", val);
		o->fixes_off |= 1UL << n;
	} else if (!strcmp(opt, "list-fixes")) {
		list_fixes();
	} else if (!strcmp(opt, "page-size")) {
		o->cfg.page_size = ex_parse_ulong(o->prog, opt, val, 1024,
						  65536);
		if (o->cfg.page_size & (o->cfg.page_size - 1))
			ex_usage_error(o->prog, "option --page-size: %s is "
				       "not a power of two", val);
	} else if (!strcmp(opt, "timeline")) {
		o->timeline = true;
	} else if (!strcmp(opt, "quiet")) {
		o->quiet = true;
	} else {
		return false;
	}
	return true;
}

void ex_parse_args(int argc, char **argv, void *ctx,
		   bool (*takes_value)(const char *name),
		   void (*handle)(void *ctx, const char *name,
				  const char *value),
		   void (*positional)(void *ctx, const char *arg))
{
	const char *prog = argv[0];
	int i;

	for (i = 1; i < argc; i++) {
		char name[64];
		const char *arg = argv[i], *eq, *val = NULL;
		size_t len;

		if (strncmp(arg, "--", 2) || !arg[2]) {
			if (!positional)
				ex_usage_error(prog, "unexpected argument '%s'",
					       arg);
			positional(ctx, arg);
			continue;
		}
		arg += 2;
		eq = strchr(arg, '=');
		len = eq ? (size_t)(eq - arg) : strlen(arg);
		if (len >= sizeof(name))
			ex_usage_error(prog, "unknown option '--%.20s...'",
				       arg);
		memcpy(name, arg, len);
		name[len] = '\0';
		if (takes_value(name)) {
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				ex_usage_error(prog, "option --%s needs a "
					       "value", name);
		} else if (eq) {
			ex_usage_error(prog, "option --%s takes no value",
				       name);
		}
		handle(ctx, name, val);
	}
}

void ex_start(struct ex_opts *o)
{
	int i, err;

	err = sim_init(&o->cfg);
	if (err)
		ex_usage_error(o->prog, "the machine geometry was refused "
			       "(%s)", strerror(-err));
	for (i = 0; i < NR_FIXES; i++)
		if (o->fixes_off & (1UL << i))
			ksm_fix_set(i, false);
	sim_set_quiet(o->quiet);
}

unsigned long ex_audit(const char *when, struct audit_report *r)
{
	struct audit_report local;
	unsigned long n;
	int k;

	if (!r)
		r = &local;
	n = audit_machine(r, true);
	if (!n) {
		sim_report("  audit %s: clean", when);
		return 0;
	}
	sim_report("  audit %s: %lu violation%s:", when, n, n == 1 ? "" : "s");
	for (k = 0; k < NR_AUDIT_KINDS; k++)
		if (r->count[k])
			sim_report("    %-14s %lu", audit_kind_name(k),
				   r->count[k]);
	return n;
}

void ex_heading(const char *fmt, ...)
{
	char buf[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sim_report("\n== %s", buf);
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * common.h - what every example program shares: strict argument parsing
 * (bad input gets a message and exit status 2), the options common to
 * all (--era, --without, --page-size, ...), and the audit at the end.
 */
#ifndef KSM_REF_EXAMPLES_COMMON_H
#define KSM_REF_EXAMPLES_COMMON_H

#include <stdbool.h>
#include <stdnoreturn.h>

#include "../ksm_ref.h"

/** Exit statuses of every program. */
enum {
	EX_PASS = 0,		/**< the scenario ended as it should */
	EX_FAIL = 1,		/**< it went wrong (and the run says how) */
	EX_USAGE = 2,		/**< bad command line */
};

/** Options every example accepts. */
struct ex_opts {
	const char *prog;		/**< argv[0], to name in messages */
	struct sim_config cfg;		/**< the machine ex_start() builds */
	bool era_set;			/**< --era given */
	bool model_set;			/**< --model given */
	unsigned long fixes_off;	/**< bit per enum ksm_fix */
	bool quiet;			/**< --quiet: only the verdict */
	bool timeline;			/**< print the timeline */
};

/**
 * Print "prog: message" and a hint on stderr, and exit 2.
 */
noreturn void ex_usage_error(const char *prog, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/**
 * Parse \a s, the value of option \a opt, as a decimal number in
 * [min, max]; on anything else (no digits, a sign, trailing junk,
 * overflow) exit 2 with a message naming the option.
 */
unsigned long ex_parse_ulong(const char *prog, const char *opt, const char *s,
			     unsigned long min, unsigned long max);

/**
 * Handle one of the common options.  \a opt is the option's name without
 * dashes ("era"), \a val its value (or NULL).  Returns true if it was one
 * of them; exits 2 on a bad value.
 */
bool ex_common_option(struct ex_opts *o, const char *opt, const char *val);

/** The common options' help text. */
extern const char ex_common_help[];

/**
 * Build the machine with the options' geometry, era and fixes.  Exits 2
 * if the geometry is refused.
 */
void ex_start(struct ex_opts *o);

/**
 * Run the auditor and print its verdict; returns the number of
 * violations.  \a r may be NULL.
 */
unsigned long ex_audit(const char *when, struct audit_report *r);

/** Print a heading for a part of an example's run. */
void ex_heading(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * A tiny option parser: split argv into "--name[=value]" or
 * "--name value" pairs.  Calls \a handle(ctx, name, value) for each, where
 * value is the next argument if the option \a takes_value(name) says so;
 * exits 2 on a stray argument or a missing value.  Positional arguments
 * go to \a positional (may be NULL: then they are errors).
 */
void ex_parse_args(int argc, char **argv, void *ctx,
		   bool (*takes_value)(const char *name),
		   void (*handle)(void *ctx, const char *name,
				  const char *value),
		   void (*positional)(void *ctx, const char *arg));

/** Is \a name one of the common options that take a value? */
bool ex_common_takes_value(const char *name);

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * diagram.c - pictures of KSM's structures, drawn from the machine's own
 * state (ksm_state_print_svg()), for the book and for slides:
 *
 *   diagram keyhole    A and B merged: a stable node, its KSM page, the
 *                      two words that tie them (kpfn, page->mapping), the
 *                      rmap_items of A and B on the node's list
 *   diagram trees      eight processes, some alike: the stable tree and
 *                      the unstable tree, after one scan and after two
 *   diagram migrated   the keyhole's page migrated: kpfn has followed it
 *   diagram --list     these
 *
 * Each prints one SVG image on its standard output; with its structures
 * in words as its description.  The era is migration unless --era says
 * otherwise (kpfn is from hotremove on; before it, the node points to its
 * page).  The auditor runs after, as everywhere: exit 0 when it is clean.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/** One picture. */
struct diagram {
	const char *name;		/**< on the command line */
	const char *title;		/**< the image's title */
	void (*build)(void);		/**< the state it draws */
};

/** A mergeable process of \a n pages, each filled with \a byte. */
static struct mm_struct *process(const char *name, unsigned long n,
				 const char *bytes)
{
	struct mm_struct *mm = sim_process_create(name, n);
	unsigned long i;

	if (!mm) {
		fprintf(stderr, "diagram: cannot create process %s\n", name);
		exit(EX_FAIL);
	}
	for (i = 0; i < n; i++)
		sim_process_fill(mm, i, bytes[i % strlen(bytes)]);
	sim_process_madvise(mm, true);
	return mm;
}

static void build_keyhole(void)
{
	process("A", 1, "X");
	process("B", 1, "X");
	ksm_scan_full(2);
}

static void build_trees(void)
{
	/*
	 * Pages alike across processes merge into stable nodes; pages with
	 * no twin wait in the unstable tree (a page must stay unchanged for
	 * a scan before it goes there: the second scan puts them in).
	 */
	process("A", 2, "XM");
	process("B", 2, "XQ");
	process("C", 1, "Z");
	process("D", 2, "ZP");
	process("E", 1, "F");
	process("F", 1, "F");
	process("G", 1, "K");
	process("H", 1, "B");
	ksm_scan_full(3);
}

static void build_migrated(void)
{
	struct mm_struct *a = process("A", 1, "X");
	long pfn;

	process("B", 1, "X");
	ksm_scan_full(2);
	pfn = sim_process_pfn(a, 0);
	if (pfn < 0 || sim_migrate_pfn((unsigned long)pfn, -1, false)) {
		fprintf(stderr, "diagram: the KSM page did not migrate\n");
		exit(EX_FAIL);
	}
}

static const struct diagram diagrams[] = {
	{ "keyhole", "A stable node and its KSM page: kpfn one way, "
	  "page->mapping the other, the rmap_items of A and B on its list",
	  build_keyhole },
	{ "trees", "The stable tree and the unstable tree: pages alike "
	  "merged, pages without a twin waiting", build_trees },
	{ "migrated", "The KSM page migrated to another frame: kpfn has "
	  "followed it, and the new page's mapping names the node",
	  build_migrated },
};

#define NR_DIAGRAMS	(sizeof(diagrams) / sizeof(diagrams[0]))

/** The command line. */
struct args {
	struct ex_opts o;		/**< the common options */
	const struct diagram *d;	/**< the one named */
	bool list;			/**< --list */
};

static bool takes_value(const char *name)
{
	return ex_common_takes_value(name);
}

static void usage(const char *prog)
{
	unsigned int i;

	printf("Usage: %s NAME [options]\n       %s --list\n\n"
	       "Prints an SVG image of KSM's structures, drawn from the "
	       "simulated machine's\nown state after a small scenario:\n\n",
	       prog, prog);
	for (i = 0; i < NR_DIAGRAMS; i++)
		printf("  %-10s %s\n", diagrams[i].name, diagrams[i].title);
	printf("\n  --list     list them\n\n%s", ex_common_help);
	exit(EX_PASS);
}

static void option(void *ctx, const char *name, const char *val)
{
	struct args *a = ctx;

	if (!strcmp(name, "help"))
		usage(a->o.prog);
	if (ex_common_option(&a->o, name, val))
		return;
	if (!strcmp(name, "list"))
		a->list = true;
	else
		ex_usage_error(a->o.prog, "unknown option '--%s'", name);
}

static void positional(void *ctx, const char *arg)
{
	struct args *a = ctx;
	unsigned int i;

	if (a->d)
		ex_usage_error(a->o.prog, "one diagram at a time");
	for (i = 0; i < NR_DIAGRAMS; i++)
		if (!strcmp(diagrams[i].name, arg))
			a->d = &diagrams[i];
	if (!a->d)
		ex_usage_error(a->o.prog, "no diagram '%s' (see --list)", arg);
}

int main(int argc, char **argv)
{
	struct args a = { .o.prog = argv[0] };
	struct audit_report r;
	unsigned int i;

	ex_parse_args(argc, argv, &a, takes_value, option, positional);
	if (a.list) {
		if (a.d)
			ex_usage_error(a.o.prog, "--list takes no diagram");
		for (i = 0; i < NR_DIAGRAMS; i++)
			printf("%-10s %s\n", diagrams[i].name,
			       diagrams[i].title);
		return EX_PASS;
	}
	if (!a.d)
		ex_usage_error(a.o.prog, "which diagram? (see --list)");
	if (!a.o.era_set)
		a.o.cfg.era = ERA_MIGRATION;
	if (a.o.cfg.era == ERA_PINNED && !strcmp(a.d->name, "migrated"))
		ex_usage_error(a.o.prog, "KSM pages do not migrate in the era "
			       "pinned");
	a.o.cfg.nr_sections = 4;
	a.o.quiet = true;
	ex_start(&a.o);
	a.d->build();
	ksm_state_print_svg(stdout, a.d->title);
	fflush(stdout);
	if (audit_machine(&r, false)) {
		fprintf(stderr, "diagram: the auditor found %lu violations\n",
			audit_machine(&r, true));
		return EX_FAIL;
	}
	return EX_PASS;
}

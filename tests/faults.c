// SPDX-License-Identifier: GPL-2.0
/*
 * faults.c - the fault sweep: every allocation site of the simulation made
 * to fail, once at each of its calls in turn, then at random from seeds,
 * while one workload touches every site (processes, fork, copy-on-write,
 * KSM merging, reclaim and swap-in, NUMA migration, compaction, files,
 * writeback, exchange).  After each run the auditor must be clean, every
 * process and file byte as written; and once everything has exited, no
 * frame and no swap slot may be left in use.  Under AddressSanitizer,
 * LeakSanitizer adds the kernel objects (nodes, rmap_items, ...).
 *
 *   faults [--max-nth N] [--seeds N] [--percent P] [--verbose]
 *
 * Exit 0 when every run was clean, 1 otherwise, 2 for bad arguments.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ksm_ref.h"

static bool verbose;

/** The workload: every allocation site, with errors expected anywhere. */
static void workload(void)
{
	struct mm_struct *p[4], *c, *m, *n;
	struct address_space *spare;
	struct address_space *f, *g;
	unsigned char buf[4096];
	unsigned long i;
	int k;

	for (k = 0; k < 4; k++) {
		char name[8];

		snprintf(name, sizeof(name), "P%d", k);
		p[k] = sim_process_create(name, 8);
		sim_process_set_node(p[k], k & 1);
		for (i = 0; i < 8; i++)
			sim_process_fill(p[k], i, 'a' + (int)((i + k) % 4));
		sim_process_madvise(p[k], true);
	}
	c = sim_process_fork(p[0], "C");
	sim_process_write(c, 1, 0, "child", 5);
	ksm_scan_full(2);
	for (i = 0; i < 4; i++) {
		sim_reclaim_process_page(p[1], i);
		sim_reclaim_process_page(p[3], i);
	}
	sim_process_read(p[1], 0, 0, buf, 8);
	sim_process_write(p[3], 2, 0, "swapped in", 10);
	for (i = 0; i < 8; i++) {
		char text[16];

		snprintf(text, sizeof(text), "unique %lu", i);
		sim_process_write(p[2], i, 0, text, strlen(text));
	}
	sim_mbind(p[2], 1, false);
	for (i = 0; i < 8; i++)
		sim_compact_section(i);

	f = sim_file_create("F", 4, 'F', true);
	g = sim_file_create("G", 4, 'G', false);
	spare = sim_file_create("S", 1, 'S', false);
	sim_file_destroy(spare);
	m = sim_process_map_file("M", f);
	n = sim_process_map_file("N", g);
	for (i = 0; i < 4; i++) {
		sim_process_read(m, i, 0, buf, 1);
		sim_process_read(n, i, 0, buf, 1);
	}
	sim_process_write(m, 1, 0, "file", 4);
	sim_process_write(n, 2, 0, "file", 4);
	sim_file_read(f, 1, buf);
	sim_file_writeback(f);
	for (i = 0; i < 4; i++) {
		sim_exchange_pages(p[2], i, m, i);
		sim_exchange_pages(p[2], i + 4, n, i);
	}
	sim_exchange_pages(p[0], 5, p[1], 6);
	sim_file_writeback(g);
	ksm_scan_full(2);
}

/** Everything exits; what is left in use then has leaked. */
static int teardown(char *why, size_t len)
{
	struct sim_mem_stats st;
	struct ksm_counters c;
	unsigned long bad;

	bad = audit_machine(NULL, verbose);
	if (bad) {
		snprintf(why, len, "%lu audit violations", bad);
		return 1;
	}
	sim_exit_processes();
	ksm_scan_full(2);		/* ksmd forgets the exited */
	sim_shrink_lru(1UL << 20);	/* and reclaim finds no orphan */
	bad = audit_machine(NULL, verbose);
	sim_mem_stats(-1, &st);
	ksm_get_counters(&c);
	if (bad || st.nr_used || st.swap_used || c.pages_shared ||
	    c.pages_sharing || c.pages_unshared || c.stable_nodes) {
		snprintf(why, len, "after every exit: %lu audit violations, "
			 "%lu frames and %lu swap slots still in use, KSM "
			 "counters %lu/%lu/%lu, %lu stable nodes", bad,
			 st.nr_used, st.swap_used, c.pages_shared,
			 c.pages_sharing, c.pages_unshared, c.stable_nodes);
		return 1;
	}
	return 0;
}

/** One run, with failures set by \a arm; 0 if clean. */
static int run(void (*arm)(unsigned long a, unsigned long b), unsigned long a,
	       unsigned long b, const char *what, unsigned long *calls,
	       unsigned long *injected)
{
	struct sim_config cfg = { .nr_sections = 8, .era = ERA_EXCHANGE,
				  .swap_slots = 64 };
	char why[200];
	int err, i;

	if (sim_init(&cfg)) {
		printf("FAIL %s: sim_init\n", what);
		return 1;
	}
	sim_set_quiet(!verbose);
	if (arm)
		arm(a, b);
	workload();
	if (calls)
		for (i = 0; i < NR_FAIL_SITES; i++)
			calls[i] = sim_fail_calls((enum sim_fail_site)i);
	*injected = sim_fail_injected();
	sim_fail_random(0, 0);
	err = teardown(why, sizeof(why));
	sim_exit();
	if (!err && sim_leaked_objects()) {
		snprintf(why, sizeof(why), "%lu objects were never freed",
			 sim_leaked_objects());
		err = 1;
	}
	if (err)
		printf("FAIL %s: %s\n", what, why);
	return err;
}

static void arm_nth(unsigned long site, unsigned long nth)
{
	sim_fail_nth((enum sim_fail_site)site, nth);
}

static void arm_random(unsigned long percent, unsigned long seed)
{
	sim_fail_random((unsigned int)percent, seed);
}

static unsigned long arg(const char *prog, const char *opt, const char *s,
			 unsigned long max)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9') {
		fprintf(stderr, "%s: %s needs a number\n"
			"Try '%s --help' for more information.\n", prog, opt,
			prog);
		exit(2);
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max) {
		fprintf(stderr, "%s: %s: '%s' is not a number in 0..%lu\n"
			"Try '%s --help' for more information.\n", prog, opt,
			s, max, prog);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	unsigned long calls[NR_FAIL_SITES], injected, max_nth = 1000;
	unsigned long seeds = 20, percent = 5, runs = 0, bad = 0, nth, s;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--max-nth") && i + 1 < argc)
			max_nth = arg(argv[0], argv[i], argv[i + 1], 100000), i++;
		else if (!strcmp(argv[i], "--seeds") && i + 1 < argc)
			seeds = arg(argv[0], argv[i], argv[i + 1], 100000), i++;
		else if (!strcmp(argv[i], "--percent") && i + 1 < argc)
			percent = arg(argv[0], argv[i], argv[i + 1], 100), i++;
		else if (!strcmp(argv[i], "--verbose"))
			verbose = true;
		else if (!strcmp(argv[i], "--help")) {
			printf("Usage: %s [--max-nth N] [--seeds N] "
			       "[--percent P] [--verbose]\n", argv[0]);
			return 0;
		} else {
			fprintf(stderr, "%s: bad argument '%s'\nTry '%s "
				"--help' for more information.\n", argv[0],
				argv[i], argv[0]);
			return 2;
		}
	}
	/* A clean run counts the calls at each site. */
	bad += run(NULL, 0, 0, "no failures", calls, &injected);
	runs++;
	for (i = 0; i < NR_FAIL_SITES; i++) {
		unsigned long site_bad = 0, n = calls[i] < max_nth ?
						calls[i] : max_nth;

		if (!calls[i]) {
			printf("%-15s never called: the workload misses it\n",
			       sim_fail_site_name((enum sim_fail_site)i));
			bad++;
			continue;
		}
		for (nth = 1; nth <= n; nth++) {
			char what[64];

			snprintf(what, sizeof(what), "%s call %lu",
				 sim_fail_site_name((enum sim_fail_site)i),
				 nth);
			site_bad += run(arm_nth, (unsigned long)i, nth, what,
					NULL, &injected);
			if (!injected) {
				printf("FAIL %s: no failure was injected\n",
				       what);
				site_bad++;
			}
			runs++;
		}
		bad += site_bad;
		printf("%-15s %4lu of %lu calls failed in turn: %s\n",
		       sim_fail_site_name((enum sim_fail_site)i), n, calls[i],
		       site_bad ? "FAILED" : "clean, nothing leaked");
	}
	for (s = 1; s <= seeds; s++) {
		char what[64];
		unsigned long before = bad;

		snprintf(what, sizeof(what), "random %lu%% seed %lu", percent,
			 s);
		bad += run(arm_random, percent, s, what, NULL, &injected);
		runs++;
		if (verbose || bad != before)
			printf("%s: %lu failures injected\n", what, injected);
	}
	printf("%lu runs (each site's every call, and %lu seeds at %lu%%): "
	       "%lu bad\n", runs, seeds, percent, bad);
	return bad ? 1 : 0;
}

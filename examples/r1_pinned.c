// SPDX-License-Identifier: GPL-2.0
/*
 * r1_pinned.c - R1: the cost that seed 001 removes.
 *
 * "There's a lamentable flaw in KSM swapping: the stable_node holds a
 * reference to the ksm page, so the page to be freed cannot actually be
 * freed until ksmd works its way around to removing the last rmap_item
 * from its stable_node."  This is not a crash but a cost, and this program
 * measures it: eight processes share 64 KSM pages, then every KSM page is
 * swapped out (or every process exits).  With the pinned design the frames
 * stay allocated until ksmd's next full scan has removed the rmap_items
 * (and, when swapping, until reclaim comes back for them); with the
 * keyhole they are freed at once, without any ksmd pass.  A bystander
 * process with other mergeable pages gives ksmd the work it would have on
 * a real machine, so that "works its way around" takes time.
 *
 * What it prints is the same every run: frames left, and ksmd's full
 * scans until they are free.  With --time it also runs ksmd free, and
 * prints the milliseconds until the frames were free, which vary from run
 * to run (make bench prints them).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "race.h"

#define NR_SHARERS	8
#define NR_SHARED	64

static struct mm_struct *sharer[NR_SHARERS], *bystander;
static unsigned long bystander_pages = 1600;
static unsigned long kpfn[NR_SHARED];	/* the KSM pages' frames */

/** How many of the KSM pages' frames are still allocated. */
static unsigned long ksm_frames_left(void)
{
	unsigned long i, left = 0;

	for (i = 0; i < NR_SHARED; i++)
		left += sim_page_count(kpfn[i]) > 0;
	return left;
}

/** kswapd comes back for the pages it could not free before. */
static void reclaim_again(void)
{
	unsigned long i;

	for (i = 0; i < NR_SHARED; i++)
		if (sim_page_count(kpfn[i]) > 0)
			sim_reclaim_pfn(kpfn[i]);
}

/** Build the machine: sharers with NR_SHARED common pages, merged. */
static unsigned long build(enum ksm_era era)
{
	struct sim_config cfg = { .nr_sections = 16, .era = era };
	unsigned long i, p;
	char buf[64];

	if (sim_init(&cfg)) {
		fprintf(stderr, "R1: cannot build the machine\n");
		exit(EX_FAIL);
	}
	sim_set_quiet(true);
	bystander = sim_process_create("bystander", bystander_pages);
	for (i = 0; i < bystander_pages; i++) {
		snprintf(buf, sizeof(buf), "bystander page %lu", i);
		sim_process_write(bystander, i, 0, buf, strlen(buf));
	}
	sim_process_madvise(bystander, true);
	for (p = 0; p < NR_SHARERS; p++) {
		snprintf(buf, sizeof(buf), "P%lu", p);
		sharer[p] = sim_process_create(buf, NR_SHARED);
		for (i = 0; i < NR_SHARED; i++) {
			snprintf(buf, sizeof(buf), "shared page %lu", i);
			sim_process_write(sharer[p], i, 0, buf, strlen(buf));
		}
		sim_process_madvise(sharer[p], true);
	}
	ksm_scan_full(2);
	for (i = 0; i < NR_SHARED; i++)
		kpfn[i] = (unsigned long)sim_process_pfn(sharer[0], i);
	return ksm_frames_left();
}

/** Swap out every KSM page, as reclaim would. */
static void swap_out_all(void)
{
	unsigned long i;

	for (i = 0; i < NR_SHARED; i++)
		sim_reclaim_pfn(kpfn[i]);
}

static void exit_all(void)
{
	unsigned long p;

	for (p = 0; p < NR_SHARERS; p++)
		sim_process_exit(sharer[p]);
}

/** One era's figures, after swapping out or after every sharer's exit. */
struct r1_row {
	unsigned long merged;	/**< KSM frames after merging */
	unsigned long left;	/**< ...still allocated right after */
	int passes;		/**< ksmd full scans until all were freed */
	double ms;		/**< free-running: time until all were freed */
	unsigned long audit;	/**< violations at the end */
};

/** The deterministic count: ksmd full scans until the frames are free. */
static void measure_passes(enum ksm_era era, bool swap, struct r1_row *row)
{
	unsigned long p;

	row->merged = build(era);
	if (swap)
		swap_out_all();
	else
		exit_all();
	row->left = ksm_frames_left();
	for (row->passes = 0; ksm_frames_left() && row->passes < 10;
	     row->passes++) {
		ksm_scan_full(1);
		if (swap)
			reclaim_again();
	}
	if (ksm_frames_left())
		row->passes = -1;
	for (p = 0; swap && p < NR_SHARERS; p++)
		if (sim_process_verify(sharer[p], true))
			row->audit++;
	row->audit += audit_machine(NULL, true);
	sim_exit();
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/** The free-running time: ksmd at its default knobs, kswapd every ms. */
static void measure_time(enum ksm_era era, bool swap, struct r1_row *row)
{
	struct timespec ms = { 0, 1000000 };
	double t0, limit = 10;

	build(era);
	ksm_set_run(1);
	ksm_start_thread();
	t0 = now();
	if (swap)
		swap_out_all();
	else
		exit_all();
	while (ksm_frames_left() && now() - t0 < limit) {
		nanosleep(&ms, NULL);
		if (swap)
			reclaim_again();
	}
	row->ms = ksm_frames_left() ? -1 : (now() - t0) * 1000;
	ksm_stop_thread();
	row->audit += audit_machine(NULL, true);
	sim_exit();
}

static void print_row(const char *what, struct r1_row *pin, struct r1_row *key,
		      bool time)
{
	printf("  %-38s %10lu %10lu\n", what, pin->left, key->left);
	printf("  %-38s %10d %10d\n", "  ksmd full scans until all freed",
	       pin->passes, key->passes);
	if (time)
		printf("  %-38s %10.0f %10.0f\n",
		       "  free-running: ms until all freed", pin->ms, key->ms);
}

int race_r1_run(struct race_opts *ro)
{
	struct r1_row row[2][2];	/* [swap?][keyhole?] */
	int s, k, bad = 0;

	memset(row, 0, sizeof(row));
	for (s = 0; s < 2; s++)
		for (k = 0; k < 2; k++) {
			enum ksm_era era = k ? ERA_KEYHOLE : ERA_PINNED;

			measure_passes(era, s == 0, &row[s][k]);
			if (ro->time)
				measure_time(era, s == 0, &row[s][k]);
		}
	printf("R1: the pinned stable node keeps freed KSM pages until ksmd "
	       "comes round\n");
	printf("  %d processes share %lu KSM pages; a bystander has %lu more "
	       "mergeable pages;\n  ksmd at pages_to_scan 100, sleep_millisecs "
	       "20.\n\n", NR_SHARERS, row[0][0].merged, bystander_pages);
	printf("  %-38s %10s %10s\n", "KSM frames still allocated after...",
	       "pinned", "keyhole");
	print_row("swapping out every KSM page", &row[0][0], &row[0][1],
		  ro->time);
	print_row("every sharer exiting", &row[1][0], &row[1][1], ro->time);
	printf("  (an exiting mm's slot is moved just after ksmd's cursor, so "
	       "ksmd reaches it\n   at once; swapped-out pages wait for ksmd "
	       "to come round the bystander)\n");
	for (s = 0; s < 2; s++) {
		/* The keyhole frees at once; the pin holds until ksmd. */
		if (row[s][1].left || row[s][1].passes || row[s][1].ms < 0)
			bad++;
		if (!row[s][0].left || row[s][0].passes < 1)
			bad++;
		bad += row[s][0].audit || row[s][1].audit;
	}
	printf("\nR1: %s\n", bad ? "NOT AS EXPECTED" :
	       "the keyhole frees every page without a ksmd pass; the pin "
	       "needs ksmd");
	return bad ? EX_FAIL : EX_PASS;
}

RACE(race_r1) = {
	.id = "R1",
	.title = "the pinned stable node: freed KSM pages wait for ksmd",
	.seed = "001",
	.era = ERA_PINNED,
	.eras = ERA_BIT(ERA_PINNED),
	.chapter = 3,
	.fix = -1,
	.story = "with the node pinning its page, swapped-out or unmapped KSM "
		 "pages stay\nallocated until ksmd comes round; with the "
		 "keyhole they are freed at once.",
	.custom = race_r1_run,
};

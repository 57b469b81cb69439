// SPDX-License-Identifier: GPL-2.0
/*
 * bench.c - `make bench`: measured figures, printed, never asserted.
 *
 * Scan throughput: ksmd's full scans over 1 GiB of simulated memory
 * (262144 pages of 4 KiB, each with distinct contents, in 16 processes),
 * beside the bandwidth of a plain checksum pass over the same frames in
 * the same run.  The target (issue: the machine and the KSM core) is a
 * full scan within 2x of that pass.  Pass 1 only records checksums (every
 * page is new); pass 2 builds the unstable tree (a page must keep its
 * checksum for one pass); pass 3 is the steady state of unique pages.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../ksm_ref.h"

#define NR_PROCS	16

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long mib(void)
{
	unsigned long m = 1024;
	const char *e = getenv("KSM_BENCH_MIB");

	if (e && atol(e) >= 64 && atol(e) <= 8192)
		m = (unsigned long)atol(e);
	return m;
}

static void scan_throughput(void)
{
	unsigned long total = mib() * 256, per = total / NR_PROCS, i, p;
	struct sim_config cfg = {
		.page_size = 4096, .pages_per_section = 4096,
		.nr_sections = (unsigned int)(total / 4096 + 8), .nr_nodes = 2,
	};
	struct mm_struct *mm[NR_PROCS];
	double t0, plain, pass[3];
	unsigned int sum = 0, x = 2463534242u;
	unsigned long *buf;
	size_t sp, sr, sn;

	if (sim_init(&cfg)) {
		printf("bench: cannot build a machine of %lu MiB\n", mib());
		exit(1);
	}
	sim_struct_sizes(&sp, &sr, &sn);
	printf("structure sizes: struct page %zu bytes, struct rmap_item %zu, "
	       "struct stable_node %zu\n", sp, sr, sn);
	printf("  (kernel x86_64 of 2009-2013: 56-64, 64, 40; here struct "
	       "page is padded to 64 and stable_node carries an id)\n");

	buf = malloc(4096);
	for (p = 0; p < NR_PROCS; p++) {
		char name[16];

		snprintf(name, sizeof(name), "P%lu", p);
		mm[p] = sim_process_create(name, per);
		for (i = 0; i < per; i++) {
			int k;

			for (k = 0; k < 512; k++) {
				x ^= x << 13;
				x ^= x >> 17;
				x ^= x << 5;
				buf[k] = ((unsigned long)x << 32) ^ (i * 131 + p);
			}
			sim_process_write(mm[p], i, 0, buf, 4096);
		}
		sim_process_madvise(mm[p], true);
	}
	free(buf);

	t0 = now();
	for (p = 0; p < NR_PROCS; p++)
		for (i = 0; i < per; i++)
			sum += sim_frame_checksum(
				(unsigned long)sim_process_pfn(mm[p], i));
	plain = now() - t0;

	ksm_set_pages_to_scan(1000);
	for (i = 0; i < 3; i++) {
		t0 = now();
		ksm_scan_full(1);
		pass[i] = now() - t0;
	}
	printf("\nscan throughput over %lu MiB (%lu pages, distinct contents)"
	       "\n", mib(), total);
	printf("  %-34s %8.3f s %9.0f pages/s %6.2f GiB/s\n",
	       "plain checksum pass (reference)", plain, total / plain,
	       total * 4096.0 / plain / (1 << 30));
	for (i = 0; i < 3; i++) {
		static const char *const what[] = {
			"ksmd full scan 1 (checksums)",
			"ksmd full scan 2 (unstable tree)",
			"ksmd full scan 3 (steady state)",
		};
		printf("  %-34s %8.3f s %9.0f pages/s %6.2f GiB/s  %.2fx\n",
		       what[i], pass[i], total / pass[i],
		       total * 4096.0 / pass[i] / (1 << 30), pass[i] / plain);
	}
	printf("  target: a full scan within 2x of the plain pass "
	       "(checksum %08x)\n", sum);
	sim_exit();
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "scan")) {
		fprintf(stderr, "usage: %s [scan]\n", argv[0]);
		return 2;
	}
	scan_throughput();
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * bench.c - `make bench`: measured figures, printed, never asserted
 * (what is checked is behaviour: counters, the audit, the bytes).
 *
 * Migration (issue: KSM page migration everywhere): blocks holding KSM
 * pages compacted, per era; the cost of get_ksm_page()'s fast path; and
 * how soon the free-running stress fails with each 2013 fix off (median
 * of three runs).
 *
 * Offline (issue: memory hot-remove): sections holding KSM pages are
 * offlined and onlined again while ksmd runs, per era: how many offlines
 * succeed, how many KSM pages they moved, and whether ksmd survives.
 *
 * Scan throughput: ksmd's full scans over 1 GiB of simulated memory
 * (262144 pages of 4 KiB, each with distinct contents, in 16 processes),
 * beside the bandwidth of a plain checksum pass over the same frames in
 * the same run, and beside a floor: that checksum, then each page put in
 * a red-black tree ordered by its bytes, the unstable tree without KSM
 * around it.  The target (issue: the machine and the KSM core) was a full
 * scan within 2x of the plain pass; the floor alone is about 4x (the book,
 * chapter 10).  Pass 1 only records checksums (every page is new); pass 2
 * builds the unstable tree (a page must keep its checksum for one pass);
 * passes 3 to 7 are the steady state of unique pages.  Every figure is a
 * median, and the counters the scans leave are checked (exit 1 if wrong).
 */
#define _GNU_SOURCE		/* tdestroy() */
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../ksm_ref.h"
#include "scale.h"

#define NR_PROCS	16

#include <fcntl.h>
#include <signal.h>

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

/** Median of \a n timings (sorts them). */
static double median(double *t, int n)
{
	int i, j;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && t[j - 1] > t[j]; j--) {
			double x = t[j];

			t[j] = t[j - 1];
			t[j - 1] = x;
		}
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static int page_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 4096);
}

static void no_free(void *p)
{
	(void)p;
}

#define NR_PLAIN	5	/* plain passes, for their median */
#define NR_FLOOR	3	/* tree passes, for theirs */
#define NR_STEADY	5	/* steady-state full scans (3 to 7) */

static void scan_throughput(void)
{
	unsigned long total = mib() * 256, per = total / NR_PROCS, i, p;
	struct sim_config cfg = {
		.page_size = 4096, .pages_per_section = 4096,
		.nr_sections = (unsigned int)(total / 4096 + 8), .nr_nodes = 2,
	};
	struct mm_struct *mm[NR_PROCS];
	double t0, plain[NR_PLAIN], floor[NR_FLOOR], pass[2 + NR_STEADY];
	double steady[NR_STEADY], mp, mf, ms;
	struct ksm_counters c;
	bool bad;
	unsigned int sum = 0, x = 2463534242u;
	unsigned long *copy;
	size_t sp, sr, sn;
	int r;

	if (sim_init(&cfg)) {
		printf("bench: cannot build a machine of %lu MiB\n", mib());
		exit(1);
	}
	sim_struct_sizes(&sp, &sr, &sn);
	printf("structure sizes: struct page %zu bytes, struct rmap_item %zu, "
	       "struct stable_node %zu\n", sp, sr, sn);
	printf("  (kernel x86_64 of 2009-2013: 56-64, 64, 40; here struct "
	       "page is padded to 64, and stable_node carries the count of "
	       "kpfn's moves and an id: `bench scale` says more)\n");

	/* The same bytes, kept in the bench's own memory for the floor. */
	copy = malloc(total * 4096);
	if (!copy) {
		printf("bench: no room for a copy of %lu MiB\n", mib());
		exit(1);
	}
	for (p = 0; p < NR_PROCS; p++) {
		char name[16];

		snprintf(name, sizeof(name), "P%lu", p);
		mm[p] = sim_process_create(name, per);
		for (i = 0; i < per; i++) {
			unsigned long *buf = copy + (p * per + i) * 512;
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

	/* The reference: ksmd's checksum over every frame, nothing else. */
	for (r = 0; r < NR_PLAIN; r++) {
		t0 = now();
		for (p = 0; p < NR_PROCS; p++)
			for (i = 0; i < per; i++)
				sum += sim_frame_checksum(
				     (unsigned long)sim_process_pfn(mm[p], i));
		plain[r] = now() - t0;
	}
	/*
	 * The floor of the unstable tree: the checksum, then every page put
	 * in a red-black tree ordered by its bytes (glibc's tsearch()), as
	 * the steady state does, without ptes, rmap_items or locks.
	 */
	for (r = 0; r < NR_FLOOR; r++) {
		void *root = NULL;

		t0 = now();
		for (p = 0; p < NR_PROCS; p++)
			for (i = 0; i < per; i++) {
				sum += sim_frame_checksum(
				     (unsigned long)sim_process_pfn(mm[p], i));
				if (!tsearch(copy + (p * per + i) * 512, &root,
					     page_cmp)) {
					printf("bench: out of memory\n");
					exit(1);
				}
			}
		floor[r] = now() - t0;
		tdestroy(root, no_free);
	}
	free(copy);

	ksm_set_pages_to_scan(1000);
	for (r = 0; r < 2 + NR_STEADY; r++) {
		t0 = now();
		ksm_scan_full(1);
		pass[r] = now() - t0;
	}
	memcpy(steady, pass + 2, sizeof(steady));
	mp = median(plain, NR_PLAIN);
	mf = median(floor, NR_FLOOR);
	ms = median(steady, NR_STEADY);
	printf("\nscan throughput over %lu MiB (%lu pages, distinct contents;"
	       " medians)\n", mib(), total);
	printf("  %-36s %8.3f s %9.0f pages/s %6.2f GiB/s\n",
	       "plain checksum pass (reference)", mp, total / mp,
	       total * 4096.0 / mp / (1 << 30));
	printf("  %-36s %8.3f s %9.0f pages/s %6.2f GiB/s  %.2fx\n",
	       "checksum + tree of bytes (floor)", mf, total / mf,
	       total * 4096.0 / mf / (1 << 30), mf / mp);
	for (r = 0; r < 3; r++) {
		static const char *const what[] = {
			"ksmd full scan 1 (checksums)",
			"ksmd full scan 2 (unstable tree)",
			"ksmd full scans 3-7 (steady state)",
		};
		double t = r < 2 ? pass[r] : ms;

		printf("  %-36s %8.3f s %9.0f pages/s %6.2f GiB/s  %.2fx\n",
		       what[r], t, total / t, total * 4096.0 / t / (1 << 30),
		       t / mp);
	}
	/* median() sorted steady[]: its ends are the fastest and slowest. */
	printf("  steady state: %.2fx the plain pass (its %d scans %.2fx to "
	       "%.2fx), %.2fx the floor\n", ms / mp, NR_STEADY,
	       steady[0] / mp, steady[NR_STEADY - 1] / mp, ms / mf);
	printf("  target: a full scan within 2x of the plain pass "
	       "(checksum %08x)\n", sum);

	/* What the scans must have left: every page unshared, none lost. */
	ksm_get_counters(&c);
	bad = c.pages_shared || c.pages_sharing || c.pages_unshared != total ||
	      c.full_scans != 2 + NR_STEADY || audit_machine(NULL, false);
	for (p = 0; p < NR_PROCS; p++)
		bad |= sim_process_verify(mm[p], false) != 0;
	printf("  counters: pages_unshared %lu, pages_shared %lu, full_scans "
	       "%lu: %s\n", c.pages_unshared, c.pages_shared, c.full_scans,
	       bad ? "NOT as expected, or the audit or a process failed" :
	       "as expected, audit clean, every byte as written");
	sim_exit();
	if (bad)
		exit(1);
}

/** Results of one era's offline run, passed up from the child. */
struct offline_result {
	int offlines, succeeded, cancelled;
	long ksm_moved;
	double seconds;
};

/** In a child: offline/online sections with KSM pages while ksmd runs. */
static void offline_child(enum ksm_era era, int fd)
{
	struct sim_config cfg = { .nr_sections = 8, .era = era };
	struct offline_result res = { 0 };
	struct mm_struct *p[6];
	double t0;
	int i, k;

	alarm(20);			/* a corrupted rmap list loops */
	sim_init(&cfg);
	sim_set_quiet(true);
	for (k = 0; k < 6; k++) {
		char name[8];

		snprintf(name, sizeof(name), "P%d", k);
		p[k] = sim_process_create(name, 64);
		for (i = 0; i < 64; i++)
			sim_process_fill(p[k], (unsigned long)i, 'a' + i % 16);
		sim_process_madvise(p[k], true);
	}
	ksm_scan_full(2);
	ksm_set_sleep_millisecs(1);
	ksm_set_run(1);
	ksm_start_thread();
	t0 = now();
	for (i = 0; i < 100; i++) {
		unsigned long s = (unsigned long)i % 4;
		long before = sim_process_pfn(p[0], 0);
		int err = sim_offline_section(s);

		res.offlines++;
		if (!err) {
			res.succeeded++;
			if (sim_process_pfn(p[0], 0) != before)
				res.ksm_moved++;
			sim_online_section(s);
		} else {
			res.cancelled++;
		}
		/* Exits and re-forks leave stale nodes for later offlines. */
		if (i % 10 == 9) {
			sim_process_exit(p[5]);
			p[5] = sim_process_fork(p[4], "P5");
		}
	}
	res.seconds = now() - t0;
	ksm_stop_thread();
	if (write(fd, &res, sizeof(res)) != sizeof(res))
		_exit(2);
	_exit(audit_machine(NULL, false) ? 3 : 0);
}

static void offline_table(void)
{
	static const enum ksm_era eras[] = { ERA_KEYHOLE, ERA_HOTREMOVE,
					     ERA_MIGRATION };
	unsigned int e;

	printf("offlining sections that hold KSM pages, ksmd running "
	       "(100 offlines per era)\n");
	printf("  %-10s %9s %9s %10s %8s  %s\n", "era", "succeeded",
	       "cancelled", "KSM moves", "seconds", "outcome");
	for (e = 0; e < 3; e++) {
		struct offline_result res = { 0 };
		int fds[2], status;
		pid_t pid;
		ssize_t n;

		fflush(stdout);
		if (pipe(fds))
			return;
		pid = fork();
		if (!pid) {
			int devnull = open("/dev/null", 1);

			close(fds[0]);
			dup2(devnull, 1);	/* the fault report: below */
			offline_child(eras[e], fds[1]);
		}
		close(fds[1]);
		n = read(fds[0], &res, sizeof(res));
		close(fds[0]);
		waitpid(pid, &status, 0);
		if (n != sizeof(res) && WIFSIGNALED(status))
			printf("  %-10s %9s %9s %10s %8s  hung: a stable node's "
			       "rmap list corrupted (R6/R7)\n",
			       ksm_era_name(eras[e]), "-", "-", "-", "-");
		else if (n != sizeof(res))
			printf("  %-10s %9s %9s %10s %8s  ksmd died: it touched "
			       "a struct page of a removed section (R5/R6)\n",
			       ksm_era_name(eras[e]), "-", "-", "-", "-");
		else
			printf("  %-10s %9d %9d %10ld %8.2f  %s\n",
			       ksm_era_name(eras[e]), res.succeeded,
			       res.cancelled, res.ksm_moved, res.seconds,
			       WEXITSTATUS(status) ? "audit found violations" :
			       "clean");
	}
}

/** Compact every block holding KSM pages, per era. */
static void compaction_table(void)
{
	static const enum ksm_era eras[] = { ERA_KEYHOLE, ERA_HOTREMOVE,
					     ERA_MIGRATION };
	unsigned int e;

	printf("compacting the blocks (sections) that hold KSM pages, ksmd "
	       "idle\n");
	printf("  %-10s %8s %8s  %s\n", "era", "blocks", "emptied", "note");
	for (e = 0; e < 3; e++) {
		struct sim_config cfg = { .nr_sections = 8, .era = eras[e] };
		int holding[8] = { 0 }, blocks = 0, emptied = 0, k, i;
		struct mm_struct *p[4];

		sim_init(&cfg);
		sim_set_quiet(true);
		for (k = 0; k < 4; k++) {
			char name[8];

			snprintf(name, sizeof(name), "P%d", k);
			p[k] = sim_process_create(name, 300);
			sim_process_set_node(p[k], k & 1);
			for (i = 0; i < 300; i++) {
				char buf[32];

				snprintf(buf, sizeof(buf), "content %d", i);
				sim_process_write(p[k], (unsigned long)i, 0,
						  buf, strlen(buf));
			}
			sim_process_madvise(p[k], true);
		}
		ksm_scan_full(2);
		for (k = 0; k < 4; k++)
			for (i = 0; i < 300; i++)
				holding[sim_process_pfn(p[k], (unsigned long)i) /
					256] = 1;
		for (k = 0; k < 8; k++) {
			if (!holding[k])
				continue;
			blocks++;
			emptied += sim_compact_section((unsigned long)k) == 0;
		}
		printf("  %-10s %8d %8d  %s\n", ksm_era_name(eras[e]), blocks,
		       emptied, eras[e] == ERA_KEYHOLE ?
		       "KSM pages migrate, but unsafely (R7)" :
		       eras[e] == ERA_HOTREMOVE ?
		       "KSM pages refused outside hot-remove (-EBUSY)" :
		       "KSM pages migrate everywhere");
		sim_exit();
	}
}

/** get_ksm_page()'s fast path, per call. */
static void get_ksm_page_cost(void)
{
	struct sim_config cfg = { .nr_sections = 4, .era = ERA_MIGRATION };
	struct mm_struct *a, *b;
	unsigned long n = 5 * 1000 * 1000;
	double t0, t;

	sim_init(&cfg);
	a = sim_process_create("A", 1);
	b = sim_process_create("B", 1);
	sim_process_fill(a, 0, 'g');
	sim_process_fill(b, 0, 'g');
	sim_process_madvise(a, true);
	sim_process_madvise(b, true);
	ksm_scan_full(2);
	t0 = now();
	sim_bench_get_ksm_page(n);
	t = now() - t0;
	printf("get_ksm_page() fast path (era migration): %.1f ns per call, "
	       "with get_page_unless_zero() and put_page()\n", t * 1e9 / n);
	sim_exit();
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/** Time to first failure of the free-running stress with \a fix off. */
static void time_to_failure(const char *stress, const char *fix)
{
	double t[3];
	char cmd[512];
	int i, failed = 0;

	for (i = 0; i < 3; i++) {
		double t0 = now();
		int rc;

		snprintf(cmd, sizeof(cmd), "%s --seconds 20 --era migration "
			 "--migrate --hotplug --workers 3 --jitter --audit-ms "
			 "50 --seed %d --without %s >/dev/null 2>&1", stress,
			 i + 1, fix);
		rc = system(cmd);
		t[i] = now() - t0;
		failed += rc != 0;
		if (!rc)
			t[i] = 1e9;		/* never failed */
	}
	qsort(t, 3, sizeof(t[0]), cmp_double);
	if (failed >= 2)
		printf("  %-22s %7.2f s  (%d of 3 runs failed within 20 s)\n",
		       fix, t[1], failed);
	else
		printf("  %-22s %9s  (%d of 3 runs failed within 20 s)\n",
		       fix, "-", failed);
}

/*
 * Issue 7: exchanging N pairs of pages across nodes, against the two
 * back-to-back migrations that would otherwise move each pair (first
 * page to the second's node, second page to the first's).  The same
 * pairs each way: anonymous with anonymous, and anonymous with a file's.
 */
static void exchange_table(void)
{
	static const char *const kinds[] = { "anon<->anon", "anon<->file" };
	const unsigned long n = 512;
	int kind, how;

	printf("moving %lu pairs of pages across nodes (4 KiB pages)\n", n);
	printf("  %-12s %-22s %8s %10s %12s %10s\n", "pairs", "how",
	       "moved", "frames", "bytes", "us/pair");
	for (kind = 0; kind < 2; kind++)
		for (how = 0; how < 2; how++) {
			struct sim_config cfg = { .nr_sections = 16,
						  .era = ERA_EXCHANGE };
			struct sim_mem_stats s0, s1;
			struct address_space *f = NULL;
			struct mm_struct *a, *b;
			unsigned long i, moved = 0;
			double t0, t;

			sim_init(&cfg);
			sim_set_quiet(true);
			a = sim_process_create("A", n);
			sim_process_set_node(a, 0);
			if (kind) {
				f = sim_file_create("F", n, 'F', true);
				b = sim_process_map_file("B", f);
				for (i = 0; i < n; i++)
					sim_file_cache_page(f, i, 1);
			} else {
				b = sim_process_create("B", n);
				sim_process_set_node(b, 1);
			}
			for (i = 0; i < n; i++) {
				char buf[4];

				sim_process_fill(a, i, 'a');
				if (kind)
					sim_process_read(b, i, 0, buf, 1);
				else
					sim_process_fill(b, i, 'b');
			}
			sim_mem_stats(-1, &s0);
			t0 = now();
			for (i = 0; i < n; i++) {
				if (how) {
					moved += !sim_exchange_pages(a, i, b, i);
					continue;
				}
				moved += !sim_migrate_pfn((unsigned long)
					sim_process_pfn(a, i), 1, false) &&
					 !sim_migrate_pfn((unsigned long)
					sim_process_pfn(b, i), 0, false);
			}
			t = now() - t0;
			sim_mem_stats(-1, &s1);
			printf("  %-12s %-22s %8lu %10lu %12lu %10.2f\n",
			       kinds[kind], how ? "one exchange" :
			       "two migrations", moved,
			       s1.nr_allocated - s0.nr_allocated,
			       s1.bytes_copied - s0.bytes_copied,
			       t * 1e6 / (double)n);
			if (audit_machine(NULL, true) ||
			    sim_process_verify(a, true) ||
			    sim_process_verify(b, true))
				printf("  (the audit found violations)\n");
			sim_exit();
		}
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "all";
	char stress[400];
	const char *slash = strrchr(argv[0], '/');

	if (!strcmp(what, "--help")) {
		printf("usage: %s [all|scan|offline|migrate|exchange]\n"
		       "       %s scale [--max-mib N] [--at N] [--no-kernel] "
		       "[--quick]\n\nThe measured figures of make bench: "
		       "printed, never asserted (all, the\ndefault, is every "
		       "table but scale, which takes minutes).\n", argv[0],
		       argv[0]);
		return 0;
	}
	if (!strcmp(what, "scale"))
		return bench_scale(argc - 2, argv + 2);
	if (argc > 2 || (strcmp(what, "all") && strcmp(what, "scan") &&
			 strcmp(what, "offline") && strcmp(what, "migrate") &&
			 strcmp(what, "exchange"))) {
		fprintf(stderr, "usage: %s [all|scan|offline|migrate|exchange]"
			"\n       %s scale [--max-mib N] [--at N] [--no-kernel] "
			"[--quick]\n", argv[0], argv[0]);
		return 2;
	}
	snprintf(stress, sizeof(stress), "%.*sstress",
		 slash ? (int)(slash - argv[0] + 1) : 0, argv[0]);
	if (!strcmp(what, "all") || !strcmp(what, "offline")) {
		offline_table();
		printf("\n");
	}
	if (!strcmp(what, "all") || !strcmp(what, "migrate")) {
		compaction_table();
		printf("\n");
		get_ksm_page_cost();
		printf("\nfree-running stress (ksmd, reclaim, compaction, "
		       "migrate-on-fault, hotplug,\nchurn), era migration: "
		       "median time to the first failure with a fix off\n");
		time_to_failure(stress, "kpfn_recheck");
		time_to_failure(stress, "swapcache_spin");
		time_to_failure(stress, "search_lock");
		time_to_failure(stress, "keyhole_lock_recheck");
		printf("\n");
	}
	if (!strcmp(what, "all") || !strcmp(what, "exchange")) {
		exchange_table();
		printf("\n");
	}
	if (!strcmp(what, "all") || !strcmp(what, "scan"))
		scan_throughput();
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * scale.c - `bench scale`: ksmd at scale, beside the running kernel's.
 *
 * Five workloads a user of KSM runs, each at sizes from 64 MiB to 4 GiB
 * of memory, on ksm_ref in its default configuration (CONFIG_DEBUG_VM on,
 * as ksm_ref.h builds it) and, where /sys/kernel/mm/ksm is writable, on
 * the running kernel's ksmd in the same run:
 *
 *   pairs     one process in which every page has exactly one twin (page
 *             i and page i + n/2): full scan 1 (checksums), then full
 *             scan 2, which merges n/2 pairs;
 *   groups    groups of 64 identical pages, spread through the process:
 *             two full scans, the second leaving n/64 KSM pages with 64
 *             sharers each;
 *   fork      the merged pairs process forks 4 children, which share every
 *             KSM page; then one full scan finds their ptes (the stable
 *             nodes' lists grow to 10 rmap_items);
 *   unmerge   run=2 on the merged pairs: every KSM page copied back;
 *   swapout   reclaim every KSM page of the groups: each one is unmapped
 *             from its 64 ptes through the stable node's rmap_items (the
 *             rmap walk), written to swap and freed;
 *   distinct  every page different: full scan 3, the steady state of a
 *             process with nothing to merge (each page searched in the
 *             stable tree, checksummed, and put in the unstable tree).
 *
 * For each: seconds, pages per second and nanoseconds per page (pages of
 * the workload's mapping, n), and the exponent k of a fit time ~ n^k over
 * the sizes run: about 1 is linear (cost per page flat; the trees' log n
 * and the caches add a little), and above 1.3 the line says SUPERLINEAR.
 * After each workload the KSM counters must be what the workload implies
 * (pages_shared, pages_sharing), the auditor must find nothing, and every
 * process must read back its bytes: a benchmark of a wrong answer
 * measures nothing.  The kernel's counters are printed beside ours.
 *
 * The kernel is driven as a user would: mmap(), madvise(MADV_MERGEABLE),
 * the sysfs knobs, and its full_scans counter watched every half
 * millisecond.  Its knobs are set to match ksm_ref: pages_to_scan large
 * and sleep_millisecs 0, so that ksmd scans flat out, as ksm_scan_full()
 * does; use_zero_pages 0 and smart_scan 0, as ksm_ref has neither;
 * merge_across_nodes 1, as ksm_ref merges across its nodes.  Every knob
 * touched is put back at the end, also on SIGINT and SIGTERM.  A kernel
 * whose KSM is already in use (run not 0, or pages shared) is left alone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../ksm_ref.h"
#include "scale.h"

/** Bytes per page, here and (checked) in the kernel. */
#define PAGE		4096UL
/** Pages of each group in the groups workload. */
#define GROUP		64
/** Children of the fork workload. */
#define CHILDREN	4
/** Sizes run, in MiB; --at replaces the first and runs only it. */
static unsigned long sizes_mib[] = { 64, 128, 256, 512, 1024, 2048, 4096 };
/**
 * Exponents k of time ~ n^k: up to FLAT, the cost per page is flat; up
 * to SUPERLINEAR, it grows as the trees' log n and the caches make it
 * grow (the kernel's own ksmd shows up to 1.13 here); beyond, the cost
 * is superlinear: an O(n^2) somewhere.  tests/growth.sh counts
 * instructions instead, which no cache changes.
 */
#define FLAT		1.15
/** See FLAT. */
#define SUPERLINEAR	1.5

/** The workloads, in the order they are printed. */
enum workload { W_PAIRS_SCAN1, W_PAIRS_SCAN2, W_GROUPS, W_FORK, W_UNMERGE,
		W_SWAPOUT, W_DISTINCT, NR_WORKLOADS };

static const char *const workload_name[NR_WORKLOADS] = {
	[W_PAIRS_SCAN1] = "pairs: full scan 1 (checksums)",
	[W_PAIRS_SCAN2] = "pairs: full scan 2 (merge n/2 pairs)",
	[W_GROUPS] = "groups of 64: full scans 1 and 2",
	[W_FORK] = "fork: 4 children, then a full scan",
	[W_UNMERGE] = "unmerge: run=2 on the pairs",
	[W_SWAPOUT] = "swapout: every KSM page of the groups",
	[W_DISTINCT] = "distinct: full scan 3 (steady state, no merge)",
};

/** One workload at one size, on one side. */
struct result {
	double seconds;			/**< <= 0: not run */
	bool counted;			/**< shared and sharing were read */
	unsigned long shared, sharing;	/**< the KSM counters after it */
	bool wrong;			/**< counters, audit or bytes wrong */
	char why[120];			/**< what was wrong, or why not run */
};

/** Everything measured, ours [0] and the kernel's [1]. */
static struct result results[2][NR_WORKLOADS][ARRAY_LEN(sizes_mib)];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/** 64-bit finaliser (splitmix64): contents that order at random. */
static unsigned long mix(unsigned long x)
{
	x += 0x9e3779b97f4a7c15ul;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ul;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebul;
	return x ^ (x >> 31);
}

/**
 * The contents of a page with key \a key: distinct keys differ in the
 * first word already (as most real pages do), equal keys in no word.
 */
static void fill_page(unsigned long *buf, unsigned long key)
{
	unsigned long j, x = mix(key);

	for (j = 0; j < PAGE / sizeof(long); j++)
		buf[j] = x + j * 0x9e3779b97f4a7c15ul;
}

/** Key of page \a i of \a n in the pairs layout: i and i + n/2 equal. */
static unsigned long pairs_key(unsigned long i, unsigned long n)
{
	return i % (n / 2);
}

/** Key of page \a i of \a n in the groups layout: one in n/GROUP. */
static unsigned long groups_key(unsigned long i, unsigned long n)
{
	return (1UL << 40) + i % (n / GROUP);
}

/** Key of page \a i in the distinct layout: every page different. */
static unsigned long distinct_key(unsigned long i, unsigned long n)
{
	(void)n;
	return (2UL << 40) + i;
}

/** Note that \a r is wrong, and why (the first reason is kept). */
static void wrong(struct result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void wrong(struct result *r, const char *fmt, ...)
{
	va_list ap;

	if (r->wrong)
		return;
	r->wrong = true;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

/** Check the counters against what the workload implies. */
static void expect_counters(struct result *r, unsigned long shared,
			    unsigned long sharing)
{
	if (r->shared != shared || r->sharing != sharing)
		wrong(r, "pages_shared %lu, pages_sharing %lu; expected %lu "
		      "and %lu", r->shared, r->sharing, shared, sharing);
}

/* ------------------------------------------------------------------ */
/* ksm_ref */

/** A machine for \a n pages (and spare sections), default otherwise. */
static int ours_machine(unsigned long n)
{
	struct sim_config cfg = {
		.pages_per_section = 4096,
		.nr_sections = (unsigned int)(n / 4096 + 8),
	};

	if (sim_init(&cfg))
		return -1;
	sim_set_quiet(true);
	return 0;
}

/** A mergeable process of \a n pages, page i holding key(i, n). */
static struct mm_struct *ours_process(unsigned long n,
				      unsigned long (*key)(unsigned long,
							   unsigned long))
{
	static unsigned long buf[PAGE / sizeof(long)];
	struct mm_struct *mm = sim_process_create("P", n);
	unsigned long i;

	for (i = 0; mm && i < n; i++) {
		fill_page(buf, key(i, n));
		sim_process_write(mm, i, 0, buf, PAGE);
	}
	if (mm)
		sim_process_madvise(mm, true);
	return mm;
}

/** Counters into \a r; then the audit and every process's bytes. */
static void ours_check(struct result *r, struct mm_struct **mm, int nr)
{
	struct ksm_counters c;
	unsigned long bad;
	int i;

	ksm_get_counters(&c);
	r->counted = true;
	r->shared = c.pages_shared;
	r->sharing = c.pages_sharing;
	bad = audit_machine(NULL, false);
	if (bad)
		wrong(r, "the auditor found %lu violations", bad);
	for (i = 0; i < nr; i++)
		if (mm[i] && sim_process_verify(mm[i], false))
			wrong(r, "a process read bytes it never wrote");
}

/** pairs (scans 1 and 2), then unmerge, on ksm_ref. */
static void ours_pairs(unsigned long n, int size)
{
	struct result *s1 = &results[0][W_PAIRS_SCAN1][size];
	struct result *s2 = &results[0][W_PAIRS_SCAN2][size];
	struct result *un = &results[0][W_UNMERGE][size];
	struct mm_struct *mm;
	double t0, t1;

	if (ours_machine(n) || !(mm = ours_process(n, pairs_key))) {
		wrong(s1, "cannot build a machine of %lu pages", n);
		return;
	}
	/* Scan 1 only checksums (its counters are scan 2's business). */
	t0 = now();
	ksm_scan_full(1);
	t1 = now();
	s1->seconds = t1 - t0;
	ksm_scan_full(1);
	s2->seconds = now() - t1;
	ours_check(s2, &mm, 1);
	expect_counters(s2, n / 2, n / 2);

	t0 = now();
	if (ksm_set_run(2))
		wrong(un, "run=2 failed");
	un->seconds = now() - t0;
	ours_check(un, &mm, 1);
	expect_counters(un, 0, 0);
	sim_exit();
}

/** The merged pairs process forks; then a full scan, on ksm_ref. */
static void ours_fork(unsigned long n, int size)
{
	struct result *r = &results[0][W_FORK][size];
	struct mm_struct *mm[1 + CHILDREN] = { NULL };
	double t0;
	int i;

	if (ours_machine(n) || !(mm[0] = ours_process(n, pairs_key))) {
		wrong(r, "cannot build a machine of %lu pages", n);
		return;
	}
	ksm_scan_full(2);
	t0 = now();
	for (i = 1; i <= CHILDREN; i++)
		mm[i] = sim_process_fork(mm[0], "C");
	ksm_scan_full(1);
	r->seconds = now() - t0;
	ours_check(r, mm, 1 + CHILDREN);
	expect_counters(r, n / 2, n / 2 + CHILDREN * n);
	sim_exit();
}

/** groups (scans 1 and 2), then swap out every KSM page, on ksm_ref. */
static void ours_groups(unsigned long n, int size)
{
	struct result *g = &results[0][W_GROUPS][size];
	struct result *sw = &results[0][W_SWAPOUT][size];
	unsigned long i, freed = 0;
	struct mm_struct *mm;
	double t0;

	if (ours_machine(n) || !(mm = ours_process(n, groups_key))) {
		wrong(g, "cannot build a machine of %lu pages", n);
		return;
	}
	t0 = now();
	ksm_scan_full(2);
	g->seconds = now() - t0;
	ours_check(g, &mm, 0);		/* bytes: after the swap-out */
	expect_counters(g, n / GROUP, n - n / GROUP);

	/* Page i < n/GROUP maps its group's KSM page. */
	t0 = now();
	for (i = 0; i < n / GROUP; i++)
		freed += !sim_reclaim_pfn((unsigned long)sim_process_pfn(mm, i));
	sw->seconds = now() - t0;
	if (freed != n / GROUP)
		wrong(sw, "%lu of %lu KSM pages freed", freed, n / GROUP);
	/* The nodes are stale until ksmd comes round: the counters stay. */
	ours_check(sw, &mm, 1);		/* swaps every page back in */
	expect_counters(sw, n / GROUP, n - n / GROUP);
	sim_exit();
}

/** Every page distinct: full scan 3, on ksm_ref. */
static void ours_distinct(unsigned long n, int size)
{
	struct result *r = &results[0][W_DISTINCT][size];
	struct mm_struct *mm;
	double t0;

	if (ours_machine(n) || !(mm = ours_process(n, distinct_key))) {
		wrong(r, "cannot build a machine of %lu pages", n);
		return;
	}
	ksm_scan_full(2);
	t0 = now();
	ksm_scan_full(1);
	r->seconds = now() - t0;
	ours_check(r, &mm, 1);
	expect_counters(r, 0, 0);
	sim_exit();
}

/* ------------------------------------------------------------------ */
/* The running kernel's ksmd */

/** A knob of /sys/kernel/mm/ksm, its value at the start, and ours. */
struct knob {
	const char *name;
	long ours;			/**< what the bench sets */
	long saved;			/**< the value found (restored) */
	bool present;			/**< the kernel has it */
	bool touched;			/**< we wrote it */
};

static struct knob knobs[] = {
	{ .name = "run", .ours = 0 },
	{ .name = "pages_to_scan", .ours = 1000000 },
	{ .name = "sleep_millisecs", .ours = 0 },
	{ .name = "use_zero_pages", .ours = 0 },
	{ .name = "merge_across_nodes", .ours = 1 },
	{ .name = "smart_scan", .ours = 0 },
};

/** Read a number from /sys/kernel/mm/ksm/\a name; -1 if unreadable. */
static long sysfs_read(const char *name)
{
	char path[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/mm/ksm/%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/** Write \a v to /sys/kernel/mm/ksm/\a name; 0 or -errno. */
static int sysfs_write(const char *name, long v)
{
	char path[128];
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), "/sys/kernel/mm/ksm/%s", name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	if (fprintf(f, "%ld", v) < 0)
		err = -EIO;
	if (fclose(f))
		err = -errno;
	return err;
}

/**
 * Put back every knob we touched: first run=2, so that nothing of ours
 * stays merged, then the others, run last.  Once: a second call (atexit)
 * finds nothing touched and writes nothing.
 */
static void knobs_restore(void)
{
	size_t i;

	if (!knobs[0].touched)
		return;
	sysfs_write("run", 2);
	for (i = ARRAY_LEN(knobs); i-- > 0;)
		if (knobs[i].touched) {
			sysfs_write(knobs[i].name, knobs[i].saved);
			knobs[i].touched = false;
		}
}

static void knobs_restore_on_signal(int sig)
{
	knobs_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

/**
 * Can the kernel's ksmd be measured here?  NULL if so (and the knobs are
 * saved), else why not.
 */
static const char *kernel_usable(void)
{
	static char why[160];
	size_t i;

	if (access("/sys/kernel/mm/ksm/run", F_OK))
		return "/sys/kernel/mm/ksm does not exist (a kernel without "
		       "CONFIG_KSM)";
	if (access("/sys/kernel/mm/ksm/run", W_OK))
		return "/sys/kernel/mm/ksm/run is not writable (not root, or "
		       "sysfs read-only)";
	if (sysconf(_SC_PAGESIZE) != (long)PAGE)
		return "the kernel's pages are not 4 KiB";
	if (sysfs_read("run") == 1 || sysfs_read("pages_shared") > 0) {
		snprintf(why, sizeof(why), "the kernel's KSM is in use here "
			 "(run %ld, pages_shared %ld): left alone",
			 sysfs_read("run"), sysfs_read("pages_shared"));
		return why;
	}
	for (i = 0; i < ARRAY_LEN(knobs); i++) {
		knobs[i].saved = sysfs_read(knobs[i].name);
		knobs[i].present = knobs[i].saved >= 0;
	}
	return NULL;
}

/** Set the knobs to match ksm_ref; ksmd starts, idle until a madvise. */
static int knobs_set(void)
{
	size_t i;

	signal(SIGINT, knobs_restore_on_signal);
	signal(SIGTERM, knobs_restore_on_signal);
	atexit(knobs_restore);
	knobs[0].touched = true;	/* run: what knobs_restore() looks at */
	for (i = 1; i < ARRAY_LEN(knobs); i++) {
		if (!knobs[i].present)
			continue;
		knobs[i].touched = true;
		/* merge_across_nodes may be refused (no NUMA): no matter. */
		if (sysfs_write(knobs[i].name, knobs[i].ours) &&
		    strcmp(knobs[i].name, "merge_across_nodes"))
			return -1;
	}
	return sysfs_write("run", 1);
}

/** Wait until ksmd has nothing left to clean up (full_scans settles). */
static void kernel_settle(void)
{
	long last = -1, cur;
	int stable = 0;

	while (stable < 20) {
		cur = sysfs_read("full_scans");
		stable = cur == last ? stable + 1 : 0;
		last = cur;
		usleep(5000);
	}
}

/**
 * Wait until full_scans reaches \a target; its time, or a negative
 * number after 600 s.
 */
static double kernel_wait_scans(long target)
{
	double t0 = now();

	while (sysfs_read("full_scans") < target) {
		if (now() - t0 > 600)
			return -1;
		usleep(500);
	}
	return now();
}

/** An anonymous mapping of \a n pages, page i holding key(i, n). */
static unsigned long *kernel_area(unsigned long n,
				  unsigned long (*key)(unsigned long,
						       unsigned long))
{
	unsigned long *m, i;

	m = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	madvise(m, n * PAGE, MADV_NOHUGEPAGE);
	for (i = 0; i < n; i++)
		fill_page(m + i * (PAGE / sizeof(long)), key(i, n));
	return m;
}

/** Do the \a n pages at \a m hold what kernel_area() wrote? */
static bool kernel_area_intact(const unsigned long *m, unsigned long n,
			       unsigned long (*key)(unsigned long,
						    unsigned long))
{
	static unsigned long buf[PAGE / sizeof(long)];
	unsigned long i;

	for (i = 0; i < n; i++) {
		fill_page(buf, key(i, n));
		if (memcmp(buf, m + i * (PAGE / sizeof(long)), PAGE))
			return false;
	}
	return true;
}

/** The counters into \a r. */
static void kernel_counters(struct result *r)
{
	r->counted = true;
	r->shared = (unsigned long)sysfs_read("pages_shared");
	r->sharing = (unsigned long)sysfs_read("pages_sharing");
}

/**
 * In a child, on the kernel: workload set \a which (see kernel_run()),
 * its results in results[1][w][0], sent up the pipe \a fd.
 */
static void kernel_child(unsigned long n, int which, int fd)
{
	struct result *r = results[1][0];
	unsigned long (*key)(unsigned long, unsigned long) =
		which == 2 ? groups_key : which == 3 ? distinct_key :
		pairs_key;
	unsigned long *m = kernel_area(n, key);
	long f0 = sysfs_read("full_scans");
	double t0, t1, t2, t3;
	pid_t kids[CHILDREN];
	int i;

	memset(results[1], 0, sizeof(results[1]));
	if (!m)
		_exit(3);
	t0 = now();
	madvise(m, n * PAGE, MADV_MERGEABLE);
	t1 = kernel_wait_scans(f0 + 1);
	t2 = kernel_wait_scans(f0 + 2);
	if (which == 0) {
		r = &results[1][W_PAIRS_SCAN1][0];
		r->seconds = t1 - t0;
		r = &results[1][W_PAIRS_SCAN2][0];
		r->seconds = t2 - t1;
		kernel_counters(r);
		expect_counters(r, n / 2, n / 2);
		r = &results[1][W_UNMERGE][0];
		t0 = now();
		if (sysfs_write("run", 2))
			wrong(r, "run=2 failed");
		r->seconds = now() - t0;
		kernel_counters(r);
		expect_counters(r, 0, 0);
		if (!kernel_area_intact(m, n, key))
			wrong(r, "the process's bytes changed");
		sysfs_write("run", 1);
	} else if (which == 1) {
		/*
		 * ksmd is in scan 3 already, of the parent alone: the
		 * children go in behind its cursor.  The forks, then the
		 * whole scan after scan 3 (children, then the parent), as
		 * ksm_ref's fork and full scan.
		 */
		r = &results[1][W_FORK][0];
		t0 = now();
		for (i = 0; i < CHILDREN; i++) {
			kids[i] = fork();
			if (!kids[i]) {
				pause();
				_exit(0);
			}
		}
		t1 = now();
		f0 = sysfs_read("full_scans");
		t2 = kernel_wait_scans(f0 + 1);
		t3 = kernel_wait_scans(f0 + 2);
		r->seconds = (t1 - t0) + (t3 - t2);
		if (t3 < 0)
			t2 = -1;
		kernel_counters(r);
		expect_counters(r, n / 2, n / 2 + CHILDREN * n);
		for (i = 0; i < CHILDREN; i++) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
		}
	} else if (which == 2) {
		r = &results[1][W_GROUPS][0];
		r->seconds = t2 - t0;
		kernel_counters(r);
		expect_counters(r, n / GROUP, n - n / GROUP);
	} else {
		r = &results[1][W_DISTINCT][0];
		t3 = kernel_wait_scans(f0 + 3);
		r->seconds = t3 - t2;
		if (t3 < 0)
			t2 = -1;
		kernel_counters(r);
		expect_counters(r, 0, 0);
	}
	if (t1 < 0 || t2 < 0)
		wrong(r, "ksmd did not finish a full scan in 600 s");
	if (!kernel_area_intact(m, n, key))
		wrong(r, "the process's bytes changed");
	if (write(fd, results[1], sizeof(results[1])) < 0)
		_exit(2);
	_exit(0);
}

/**
 * Run kernel_child() for workload set \a which (0 pairs and unmerge, 1
 * fork, 2 groups, 3 distinct); gather its results.
 */
static void kernel_run(unsigned long n, int size, int which)
{
	static struct result got[NR_WORKLOADS][ARRAY_LEN(sizes_mib)];
	int fds[2], w;
	ssize_t len;
	pid_t pid;

	kernel_settle();
	fflush(stdout);
	if (pipe(fds))
		return;
	pid = fork();
	if (!pid) {
		close(fds[0]);
		kernel_child(n, which, fds[1]);
	}
	close(fds[1]);
	len = read(fds[0], got, sizeof(got));
	close(fds[0]);
	waitpid(pid, NULL, 0);
	for (w = 0; w < NR_WORKLOADS; w++) {
		if (len != (ssize_t)sizeof(got)) {
			if ((which == 0 && (w == W_PAIRS_SCAN1 ||
					    w == W_PAIRS_SCAN2 ||
					    w == W_UNMERGE)) ||
			    (which == 1 && w == W_FORK) ||
			    (which == 2 && w == W_GROUPS) ||
			    (which == 3 && w == W_DISTINCT))
				wrong(&results[1][w][size], "the measuring "
				      "process died");
			continue;
		}
		if (got[w][0].seconds > 0 || got[w][0].wrong)
			results[1][w][size] = got[w][0];
	}
}

/* ------------------------------------------------------------------ */
/* The table */

/** Exponent k of the least-squares fit seconds ~ n^k over \a nr sizes. */
static double growth(int side, int w, int nr, bool *ok)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0;
	int i, m = 0;

	for (i = 0; i < nr; i++) {
		double x, y;

		if (results[side][w][i].seconds <= 0)
			continue;
		x = log((double)sizes_mib[i]);
		y = log(results[side][w][i].seconds);
		sx += x;
		sy += y;
		sxx += x * x;
		sxy += x * y;
		m++;
	}
	*ok = m >= 3;
	if (!*ok)
		return 0;
	return (m * sxy - sx * sy) / (m * sxx - sx * sx);
}

/** Print one side's cells of one row. */
static void cell(const struct result *r, unsigned long n)
{
	if (r->seconds > 0)
		printf(" %8.3f %9.0f %6.0f", r->seconds, n / r->seconds,
		       r->seconds * 1e9 / n);
	else
		printf(" %8s %9s %6s", "-", "-", "-");
}

/** Print a counter pair, "-" if none. */
static void counters(const struct result *r)
{
	if (r->counted)
		printf(" %7lu/%-8lu", r->shared, r->sharing);
	else
		printf(" %16s", "-");
}

static int print_table(int nr, bool kernel)
{
	int w, i, side, bad = 0;

	printf("  %5s %8s | %-26s | %-26s | %s\n", "", "",
	       "ksm_ref", kernel ? "kernel" : "", kernel ? "ours/kernel" : "");
	printf("  %5s %8s | %8s %9s %6s | %8s %9s %6s | %-6s %s\n", "MiB",
	       "pages", "seconds", "pages/s", "ns/pg", kernel ? "seconds" : "",
	       kernel ? "pages/s" : "", kernel ? "ns/pg" : "",
	       kernel ? "time" : "", "shared/sharing: ours, kernel");
	for (w = 0; w < NR_WORKLOADS; w++) {
		printf("%s\n", workload_name[w]);
		for (i = 0; i < nr; i++) {
			unsigned long n = sizes_mib[i] * 256;
			const struct result *o = &results[0][w][i];
			const struct result *k = &results[1][w][i];

			printf("  %5lu %8lu |", sizes_mib[i], n);
			cell(o, n);
			printf(" |");
			if (kernel)
				cell(k, n);
			else
				printf(" %26s", "");
			if (kernel && o->seconds > 0 && k->seconds > 0)
				printf(" | %5.2fx", o->seconds / k->seconds);
			else
				printf(" | %6s", "");
			counters(o);
			if (kernel)
				counters(k);
			printf("\n");
			for (side = 0; side < 2; side++) {
				const struct result *r = &results[side][w][i];

				if (r->wrong) {
					printf("        WRONG (%s): %s\n",
					       side ? "kernel" : "ksm_ref",
					       r->why);
					bad += !side;
				}
			}
		}
		for (side = 0; side < 1 + kernel; side++) {
			bool ok;
			double k = growth(side, w, nr, &ok);

			if (!ok)
				continue;
			printf("  %s: time ~ size^%.2f: %s\n",
			       side ? "kernel " : "ksm_ref", k,
			       k > SUPERLINEAR ? "SUPERLINEAR: cost per page "
			       "grows with size" : k > FLAT ? "cost per page "
			       "grows slowly (log n, caches)" :
			       "cost per page flat");
		}
	}
	return bad;
}

/** Bytes per KSM page and per mergeable page, with their parts. */
static void print_footprint(void)
{
	size_t page, rmap_item, node, history;

	sim_struct_sizes(&page, &rmap_item, &node);
	history = sim_node_history_size();
	printf("metadata per page (bytes; the kernel's x86_64 of 2013 in "
	       "brackets)\n");
	printf("  struct page, every frame          %4zu  [64]\n", page);
	printf("  per mergeable page: rmap_item     %4zu  [64]\n", rmap_item);
	printf("  per KSM page: stable_node         %4zu  [40]: the kernel's "
	       "40, kpfn_seq (8, R8.aba), sim_id and a flag (8)\n", node);
	printf("    ...with CONFIG_DEBUG_VM (the default): its history "
	       "%zu more, %zu in all\n", history, node + history);
	printf("  (objects are packed in slabs of their size, as the "
	       "kernel's slab allocator packs them)\n");
}

/** A number of MiB from \a s, in [\a min, 4096]; 0 if it is not one. */
static unsigned long parse_mib(const char *s, unsigned long min)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || s[0] < '0' || s[0] > '9' || v < min || v > 4096)
		return 0;
	return v;
}

/** Say what was wrong with the arguments, if \a why, and how to call. */
static int usage(const char *why)
{
	if (why)
		fprintf(stderr, "bench: %s\n", why);
	fprintf(stderr, "usage: bench scale [--max-mib N] [--at N] "
		"[--no-kernel] [--quick]\n");
	return 2;
}

int bench_scale(int argc, char **argv)
{
	unsigned long max_mib = 4096, at = 0;
	bool kernel = true, quick = false;
	const char *why = NULL;
	int i, nr = 0, bad;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--no-kernel")) {
			kernel = false;
		} else if (!strcmp(argv[i], "--quick")) {
			quick = true;
			kernel = false;
			max_mib = 256;
		} else if (!strcmp(argv[i], "--max-mib") && i + 1 < argc) {
			max_mib = parse_mib(argv[++i], 64);
			if (!max_mib)
				return usage("--max-mib takes 64 to 4096");
		} else if (!strcmp(argv[i], "--at") && i + 1 < argc) {
			at = parse_mib(argv[++i], 8);
			if (!at || at % 8)
				return usage("--at takes a multiple of 8 from "
					     "8 to 4096");
		} else {
			return usage(NULL);
		}
	}
	if (at) {
		sizes_mib[0] = max_mib = at;
		nr = 1;
	}
	while (!at && nr < (int)ARRAY_LEN(sizes_mib) &&
	       sizes_mib[nr] <= max_mib)
		nr++;
	if (kernel) {
		why = kernel_usable();
		if (!why && knobs_set()) {
			knobs_restore();
			why = "the kernel refused a knob";
		}
	}
	printf("ksmd at scale: ksm_ref in its default configuration "
	       "(CONFIG_DEBUG_VM on)%s\n", kernel && !why ?
	       ", and the running kernel's ksmd" : "");
	if (kernel && why)
		printf("the kernel's ksmd is not measured: %s\n", why);
	if (quick)
		printf("(quick: counters, audits and bytes checked; the "
		       "figures are not the point)\n");
	fflush(stdout);
	for (i = 0; i < nr; i++) {
		unsigned long n = sizes_mib[i] * 256;

		ours_pairs(n, i);
		ours_fork(n, i);
		ours_groups(n, i);
		ours_distinct(n, i);
		if (kernel && !why) {
			kernel_run(n, i, 0);
			kernel_run(n, i, 1);
			kernel_run(n, i, 2);
			kernel_run(n, i, 3);
			results[1][W_SWAPOUT][i].seconds = -1;
		}
	}
	if (kernel && !why)
		knobs_restore();
	bad = print_table(nr, kernel && !why);
	if (kernel && !why)
		printf("the kernel's swapout is not measured: MADV_PAGEOUT "
		       "passes over pages mapped more than once, as every KSM "
		       "page is, so only memory pressure (and a swap device) "
		       "would swap them out\n");
	printf("\n");
	print_footprint();
	printf("\n%s\n", bad ? "ksm_ref: SOME WORKLOADS ENDED WRONG" :
	       "ksm_ref: every workload's counters as expected, every audit "
	       "clean, every byte as written");
	return bad ? 1 : 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * stress.c - every actor at once, free-running, for a bounded time: ksmd
 * (the real ksm_scan_thread()), reclaim with the swap cache, and process
 * churn (create, write pages drawn from a small set of contents so that
 * much is mergeable, fork, copy-on-write, read back, exit); on request
 * memory hotplug, two migrators, and an exchanger with files of its own
 * (exchanges, file writes, read(2), writeback).  At regular
 * quiescent points, and at the end, the auditor checks every invariant
 * and every process its bytes.  Exit 0 if nothing was ever wrong.
 */
#define _GNU_SOURCE		/* a writer-preferring rwlock */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

#define MAX_WORKERS	8
#define SLOTS		8	/* processes per churn worker */

/** The command line: which actors run, and for how long. */
struct stress {
	struct ex_opts o;		/**< the common options */
	unsigned long seconds,		/**< --seconds: how long to run */
		workers,		/**< --workers: churn threads */
		pages,			/**< --pages: pages per process */
		seed,			/**< --seed: of the xorshifts */
		audit_ms;		/**< --audit-ms: between audits */
	bool jitter,			/**< --jitter: delays at race windows */
		hotplug,		/**< --hotplug: the hotplug actor */
		migrate,		/**< --migrate: the migrators */
		exchange;		/**< --exchange: the exchanger */
};

/* The auditor takes this for writing to stop the world; actors hold it
 * for reading around each operation.  It must prefer writers, or busy
 * actors would starve the auditor. */
static pthread_rwlock_t quiesce;
static _Atomic bool stop;
static struct stress st;

static _Atomic unsigned long n_creates, n_forks, n_exits, n_writes, n_reads,
	n_reclaimed, n_reclaim_scans, n_offlined, n_cancelled, n_onlined,
	n_compactions, n_compacted, n_exchanges, n_exchange_tries,
	n_file_writes, n_writebacks;

static unsigned int xorshift(unsigned int *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/** One churn worker's processes. */
struct worker {
	unsigned int id,		/**< its number, in process names */
		rnd;			/**< its xorshift state */
	struct mm_struct *mm[SLOTS];	/**< its processes (NULL: free slot) */
};

static struct worker workers[MAX_WORKERS];

/** Write a page with one of 8 contents (mergeable) or a unique one. */
static void write_page(struct worker *w, struct mm_struct *mm)
{
	unsigned long vpn = xorshift(&w->rnd) % st.pages;
	unsigned int r = xorshift(&w->rnd);

	if (r % 4) {
		sim_process_fill(mm, vpn, 'a' + (int)(r % 8));
	} else {
		char buf[32];

		snprintf(buf, sizeof(buf), "unique %u %u", w->id, r);
		sim_process_write(mm, vpn, 0, buf, strlen(buf));
	}
	n_writes++;
}

static void churn_once(struct worker *w)
{
	unsigned int slot = xorshift(&w->rnd) % SLOTS;
	unsigned int what = xorshift(&w->rnd) % 100;
	struct mm_struct *mm = w->mm[slot];
	char name[24];

	if (!mm) {
		snprintf(name, sizeof(name), "w%u.%u", w->id, slot);
		mm = sim_process_create(name, st.pages);
		if (!mm)
			return;
		w->mm[slot] = mm;
		sim_process_madvise(mm, true);
		n_creates++;
		return;
	}
	if (what < 70) {
		write_page(w, mm);
	} else if (what < 85) {
		char buf[8];

		sim_process_read(mm, xorshift(&w->rnd) % st.pages, 0, buf, 8);
		n_reads++;
	} else if (what < 92) {
		unsigned int other = xorshift(&w->rnd) % SLOTS;

		if (w->mm[other])
			return;
		snprintf(name, sizeof(name), "w%u.%uf", w->id, other);
		w->mm[other] = sim_process_fork(mm, name);
		n_forks += w->mm[other] != NULL;
	} else if (what < 94) {
		sim_process_exit(mm);
		w->mm[slot] = NULL;
		n_exits++;
	} else {
		sim_process_madvise(mm, what & 1);
	}
}

static void churn(void *arg)
{
	struct worker *w = arg;

	while (!atomic_load(&stop)) {
		pthread_rwlock_rdlock(&quiesce);
		churn_once(w);
		pthread_rwlock_unlock(&quiesce);
	}
}

static void reclaim(void *arg)
{
	struct timespec ts = { 0, 200 * 1000 };

	(void)arg;
	while (!atomic_load(&stop)) {
		pthread_rwlock_rdlock(&quiesce);
		n_reclaimed += sim_shrink_lru(8);
		n_reclaim_scans++;
		pthread_rwlock_unlock(&quiesce);
		nanosleep(&ts, NULL);
	}
}

/**
 * Memory hotplug: offline a section (now and then with a page pinned in
 * it, so that the offline must be cancelled), then online it again.
 */
static void hotplug(void *arg)
{
	struct timespec ts = { 0, 2 * 1000 * 1000 };
	unsigned int rnd = (unsigned int)st.seed * 31 + 7;
	const struct sim_config *cfg = sim_get_config();
	struct mm_struct *own;
	unsigned long i;

	(void)arg;
	/* A process of the hotplug actor's own, whose pages it pins. */
	pthread_rwlock_rdlock(&quiesce);
	own = sim_process_create("hotplug", 16);
	for (i = 0; own && i < 16; i++)
		sim_process_fill(own, i, 'h');
	pthread_rwlock_unlock(&quiesce);
	while (!atomic_load(&stop)) {
		unsigned long s = xorshift(&rnd) % cfg->nr_sections;
		long pinned = -1;
		int err;

		pthread_rwlock_rdlock(&quiesce);
		if (own && xorshift(&rnd) % 4 == 0)
			pinned = sim_pin_page(own, xorshift(&rnd) % 16);
		err = sim_offline_section(s);
		if (pinned >= 0)
			sim_unpin_page((unsigned long)pinned);
		if (!err)
			n_offlined++;
		else if (err == -EBUSY)
			n_cancelled++;
		pthread_rwlock_unlock(&quiesce);
		nanosleep(&ts, NULL);
		if (!err) {
			pthread_rwlock_rdlock(&quiesce);
			if (!sim_online_section(s))
				n_onlined++;
			pthread_rwlock_unlock(&quiesce);
		}
	}
}

/** Compaction: empty a random section (block) by migrating its pages. */
static void migrator(void *arg)
{
	struct timespec ts = { 0, 300 * 1000 };
	unsigned int rnd = (unsigned int)st.seed * 17 + 3;
	const struct sim_config *cfg = sim_get_config();

	(void)arg;
	while (!atomic_load(&stop)) {
		long left;

		pthread_rwlock_rdlock(&quiesce);
		left = sim_compact_section(xorshift(&rnd) % cfg->nr_sections);
		pthread_rwlock_unlock(&quiesce);
		n_compactions++;
		n_compacted += left == 0;
		nanosleep(&ts, NULL);
	}
}

/**
 * Exchange (seed 003): two files, one with buffer heads and one without,
 * each mapped by a process of the actor's own, written to and written
 * back now and then, and an anonymous process of its own, mergeable,
 * whose pages take the churn's contents (so some are KSM pages).  Each
 * exchange pairs two of: its anonymous pages, the file pages, any frame
 * (many are refused: free, isolated, busy, swap cache, two file pages).
 * Every byte is checked by the audits.
 */
static void exchanger(void *arg)
{
	struct timespec ts = { 0, 200 * 1000 };
	unsigned int rnd = (unsigned int)st.seed * 13 + 5;
	const struct sim_config *cfg = sim_get_config();
	unsigned long frames = cfg->nr_sections * cfg->pages_per_section;
	unsigned long index;
	struct address_space *f[2];
	struct mm_struct *m[2], *anon;
	int i;

	(void)arg;
	pthread_rwlock_rdlock(&quiesce);
	f[0] = sim_file_create("fb", 8, 'B', true);
	f[1] = sim_file_create("fn", 8, 'N', false);
	m[0] = f[0] ? sim_process_map_file("xb", f[0]) : NULL;
	m[1] = f[1] ? sim_process_map_file("xn", f[1]) : NULL;
	anon = sim_process_create("xa", 16);
	for (index = 0; anon && index < 16; index++)
		sim_process_fill(anon, index, 'a' + (int)(index % 8));
	if (anon)
		sim_process_madvise(anon, true);
	pthread_rwlock_unlock(&quiesce);
	if (!m[0] || !m[1] || !anon)
		return;
	while (!atomic_load(&stop)) {
		unsigned int r = xorshift(&rnd);
		long pfn1 = (long)(xorshift(&rnd) % frames), pfn2;

		index = r % 8;

		i = (r >> 4) & 1;
		pthread_rwlock_rdlock(&quiesce);
		if (r % 16 < 3) {
			char buf[24];

			snprintf(buf, sizeof(buf), "file %u", r);
			sim_process_write(m[i], index, 0, buf, strlen(buf));
			n_file_writes++;
		} else if (r % 16 == 3) {
			n_writebacks += sim_file_writeback(f[i]) > 0;
		} else if (r % 16 == 4) {
			char buf[8];

			sim_process_read(m[i], index, 0, buf, sizeof(buf));
		} else if (r % 16 == 5) {
			sim_process_fill(anon, xorshift(&rnd) % 16,
					 'a' + (int)(xorshift(&rnd) % 8));
		} else {
			if (r % 3)
				pfn1 = sim_process_pfn(anon, (r >> 8) % 16);
			pfn2 = r % 3 == 1 ? (long)(xorshift(&rnd) % frames) :
			       sim_file_pfn(f[i], index);
			if (pfn1 >= 0 && pfn2 >= 0 && pfn2 != pfn1) {
				n_exchanges += !sim_exchange_pfns(
					(unsigned long)pfn1,
					(unsigned long)pfn2);
				n_exchange_tries++;
			}
		}
		pthread_rwlock_unlock(&quiesce);
		nanosleep(&ts, NULL);
	}
}

/**
 * Stop the world for an audit.  If no quiescent point comes within 10 s,
 * an actor loops or waits for ever (a corrupted list, a lock never
 * released): report the soft lockup and stop.  Returns 0 with the world
 * stopped.
 */
static int quiesce_or_lockup(void)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 10;
	if (!pthread_rwlock_timedwrlock(&quiesce, &deadline))
		return 0;
	printf("stress: soft lockup: no quiescent point for 10 s (an actor "
	       "loops or waits for ever)\nstress: VIOLATIONS FOUND\n");
	fflush(stdout);
	_Exit(EX_FAIL);
}

/** The simulated kernel died (a fault on removed memory, an oops). */
static void stress_death(const char *what)
{
	printf("stress: the simulated kernel died: %s\n"
	       "stress: VIOLATIONS FOUND\n", what);
	fflush(stdout);
	_Exit(EX_FAIL);
}

/** The main thread: audit at quiescent points until the time is up. */
static void auditor(void *arg)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	struct timespec t0, t;
	unsigned long *violations = arg, last = 0, audits = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		double el;

		nanosleep(&ts, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t);
		el = (t.tv_sec - t0.tv_sec) * 1000.0 +
		     (t.tv_nsec - t0.tv_nsec) / 1e6;
		if (el >= st.seconds * 1000.0)
			break;
		if (el - last < st.audit_ms)
			continue;
		last = (unsigned long)el;
		if (quiesce_or_lockup())
			break;
		*violations += audit_machine(NULL, true);
		audits++;
		pthread_rwlock_unlock(&quiesce);
		if (*violations)
			break;
	}
	atomic_store(&stop, true);
	violations[1] = audits;
}

static bool stress_takes_value(const char *name)
{
	return ex_common_takes_value(name) || !strcmp(name, "seconds") ||
	       !strcmp(name, "workers") || !strcmp(name, "pages") ||
	       !strcmp(name, "seed") || !strcmp(name, "audit-ms");
}

static void usage(const char *prog)
{
	printf("Usage: %s [options]\n\n"
	       "ksmd, reclaim and process churn, free-running, with the auditor "
	       "at quiescent points.\n\n"
	       "  --seconds N        how long (1..86400, default 10)\n"
	       "  --workers N        process churn threads (1..%d, default 2)\n"
	       "  --pages N          pages per process (1..1024, default 32)\n"
	       "  --seed N           random seed (default 1)\n"
	       "  --audit-ms N       audit every N ms (10..600000, default 500)\n"
	       "  --jitter           random delays at race windows\n"
	       "  --hotplug          offline and online sections meanwhile\n"
	       "  --migrate          two migrators: compaction, and a process\n"
	       "                     moving all its pages on one fault in 16\n"
	       "  --exchange         an exchanger with files of its own (era\n"
	       "                     exchange: implies --era exchange)\n"
	       "  --soak             every actor: --exchange --migrate --hotplug\n"
	       "                     --jitter (make soak DURATION=seconds)\n"
	       "  --debug-vm         CONFIG_DEBUG_VM: the kernel's debug checks\n\n%s",
	       prog, MAX_WORKERS, ex_common_help);
	exit(EX_PASS);
}

static void stress_option(void *ctx, const char *name, const char *val)
{
	struct stress *s = ctx;

	if (!strcmp(name, "help"))
		usage(s->o.prog);
	if (ex_common_option(&s->o, name, val))
		return;
	if (!strcmp(name, "seconds"))
		s->seconds = ex_parse_ulong(s->o.prog, name, val, 1, 86400);
	else if (!strcmp(name, "workers"))
		s->workers = ex_parse_ulong(s->o.prog, name, val, 1,
					    MAX_WORKERS);
	else if (!strcmp(name, "pages"))
		s->pages = ex_parse_ulong(s->o.prog, name, val, 1, 1024);
	else if (!strcmp(name, "seed"))
		s->seed = ex_parse_ulong(s->o.prog, name, val, 0, 1UL << 31);
	else if (!strcmp(name, "audit-ms"))
		s->audit_ms = ex_parse_ulong(s->o.prog, name, val, 10, 600000);
	else if (!strcmp(name, "jitter"))
		s->jitter = true;
	else if (!strcmp(name, "hotplug"))
		s->hotplug = true;
	else if (!strcmp(name, "migrate"))
		s->migrate = true;
	else if (!strcmp(name, "exchange"))
		s->exchange = true;
	else if (!strcmp(name, "debug-vm"))
		sim_set_debug_vm(true);
	else if (!strcmp(name, "soak"))
		s->exchange = s->migrate = s->hotplug = s->jitter = true;
	else
		ex_usage_error(s->o.prog, "unknown option '--%s'", name);
}

int main(int argc, char **argv)
{
	struct sim_actor_spec actors[MAX_WORKERS + 5];
	unsigned long result[2] = { 0, 0 }, bad;
	struct sim_activity act;
	struct ksm_counters c;
	unsigned int i, n = 0;
	int err;

	st.o.prog = argv[0];
	st.seconds = 10;
	st.workers = 2;
	st.pages = 32;
	st.seed = 1;
	st.audit_ms = 500;
	ex_parse_args(argc, argv, &st, stress_takes_value, stress_option,
		      NULL);
	{
		pthread_rwlockattr_t attr;

		pthread_rwlockattr_init(&attr);
		pthread_rwlockattr_setkind_np(&attr,
			PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&quiesce, &attr);
	}
	st.o.cfg.nr_sections = 16;
	st.o.cfg.swap_slots = 1 << 16;
	if (st.exchange && st.o.era_set && st.o.cfg.era != ERA_EXCHANGE)
		ex_usage_error(st.o.prog, "--exchange needs the exchange era");
	if (!st.o.era_set)
		st.o.cfg.era = st.exchange ? ERA_EXCHANGE : ERA_KEYHOLE;
	ex_start(&st.o);
	sim_set_death_hook(stress_death);
	sim_set_jitter(st.jitter);
	ksm_set_sleep_millisecs(1);
	ksm_set_run(1);
	ksm_start_thread();

	for (i = 0; i < st.workers; i++) {
		workers[i].id = i;
		workers[i].rnd = (unsigned int)(st.seed * 7919 + i * 104729 + 1);
		actors[n++] = (struct sim_actor_spec){ "churn", churn,
						       &workers[i] };
	}
	actors[n++] = (struct sim_actor_spec){ "reclaim", reclaim, NULL };
	if (st.hotplug)
		actors[n++] = (struct sim_actor_spec){ "hotplug", hotplug,
						       NULL };
	if (st.migrate) {
		actors[n++] = (struct sim_actor_spec){ "migrate", migrator,
						       NULL };
		sim_set_migrate_on_fault(16);
	}
	if (st.exchange)
		actors[n++] = (struct sim_actor_spec){ "exchange", exchanger,
						       NULL };
	actors[n++] = (struct sim_actor_spec){ "auditor", auditor, result };
	err = sim_run_free(actors, (int)n, (unsigned int)(st.seconds + 30) *
			   1000);
	if (err) {
		printf("stress: %s\n", sim_run_error());
		fflush(stdout);
		_Exit(EX_FAIL);
	}
	ksm_stop_thread();
	bad = result[0] + audit_machine(NULL, true);
	ksm_get_counters(&c);
	sim_get_activity(&act);
	printf("stress: %lu s, era %s: %lu processes created, %lu forks, %lu "
	       "exits,\n  %lu page writes, %lu reads, %lu pages reclaimed in "
	       "%lu reclaim scans,\n  %lu full scans, pages_shared %lu, "
	       "pages_sharing %lu; %lu quiescent audits\n",
	       st.seconds, ksm_era_name(ksm_get_era()),
	       (unsigned long)n_creates, (unsigned long)n_forks,
	       (unsigned long)n_exits, (unsigned long)n_writes,
	       (unsigned long)n_reads, (unsigned long)n_reclaimed,
	       (unsigned long)n_reclaim_scans, c.full_scans, c.pages_shared,
	       c.pages_sharing, result[1] + 1);
	if (st.hotplug)
		printf("  %lu sections offlined and onlined again, %lu "
		       "offlines cancelled\n", (unsigned long)n_onlined,
		       (unsigned long)n_cancelled);
	if (st.migrate)
		printf("  %lu compactions, %lu of them emptied their block\n",
		       (unsigned long)n_compactions,
		       (unsigned long)n_compacted);
	if (st.exchange)
		printf("  %lu exchanges done of %lu tried, %lu file writes, "
		       "%lu writebacks\n", (unsigned long)n_exchanges,
		       (unsigned long)n_exchange_tries,
		       (unsigned long)n_file_writes,
		       (unsigned long)n_writebacks);
	printf("  done: %lu merges, %lu unmerges, %lu migrations, %lu "
	       "exchanges, %lu offlines,\n  %lu swap-outs; %lu MiB of process "
	       "and file bytes verified\n", act.merges, act.unmerges,
	       act.migrations, act.exchanges, act.offlines, act.swap_outs,
	       act.bytes_verified >> 20);
	printf("stress: %s\n", bad ? "VIOLATIONS FOUND" :
	       "every audit clean, every byte as written");
	sim_exit();
	return bad ? EX_FAIL : EX_PASS;
}

/* SPDX-License-Identifier: GPL-2.0 */
/**
 * \file ksm_ref.h
 * \brief ksm_ref: the interface of the simulated machine and of KSM on it.
 *
 * ksm_ref.c reimplements, in user space, the kernel's KSM design for
 * finding a KSM page from its stable node without pinning it.  This header
 * is what examples and tests see: how to build a machine, run processes on
 * it, drive ksmd and the other actors, switch fixes and eras, and audit the
 * result.  The kernel's own structures (struct page, stable_node,
 * rmap_item, ...) stay private to ksm_ref.c, as they are private to
 * mm/ksm.c; callers name pages by pfn and processes by handle.
 *
 * Thread safety: after sim_init(), every call may be made from any actor
 * thread unless its comment says otherwise.  sim_init(), sim_exit() and the
 * setters of eras and fixes must be called while no actor is running.
 */
#ifndef KSM_REF_H
#define KSM_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- */
/** \name Eras and fix switches (walkthrough.md, chapter 1) */
/** @{ */

/**
 * The design of a given year; every scenario can run under each.  0 is no
 * era: in a zeroed struct sim_config it means the default, ERA_KEYHOLE.
 */
enum ksm_era {
	ERA_PINNED = 1,	/**< 2009, before seed 001: stable node pins its page */
	ERA_KEYHOLE,	/**< seed 001: keyhole reference, node->page pointer */
	ERA_HOTREMOVE,	/**< seed 004: node->kpfn, MEM_* callback, offlining */
	ERA_MIGRATION,	/**< seeds 000/002: KSM pages migrate everywhere */
	ERA_EXCHANGE,	/**< seed 003: two-way page exchange */
	NR_ERAS
};

/**
 * One switch per line (or inseparable group of lines) that a seed patch
 * adds.  All are on by default; ksm_fix_set() turns one off to show the
 * race it closes.  The table in ksm_ref.c (ksm_fixes[]) gives each one's
 * seed, race and meaning.
 */
enum ksm_fix {
	FIX_KEYHOLE_CHECK,	/**< 001: mapping check before the reference */
	FIX_KEYHOLE_GPUZ,	/**< 001: get_page_unless_zero(), not get_page() */
	FIX_KEYHOLE_RECHECK,	/**< 001: mapping recheck after the reference */
	FIX_KEYHOLE_LOCK_RECHECK, /**< 001: mapping recheck after lock_page() */
	FIX_KEYHOLE_PRUNE,	/**< 001: remove the stale node at stale: */
	FIX_KEYHOLE_NODE_LIFE,	/**< 001: node outlives its page */
	FIX_DEP_BARRIER,	/**< 000: smp_read_barrier_depends() (Alpha) */
	FIX_SWAPCACHE_SPIN,	/**< 000: spin while a swap cache page is frozen */
	FIX_RMB,		/**< 000: smp_rmb() before the kpfn recheck */
	FIX_KPFN_RECHECK,	/**< 000: reread kpfn at stale:, goto again */
	FIX_WMB,		/**< 000: smp_wmb() in ksm_migrate_page() */
	FIX_CLEAR_OLD_MAPPING,	/**< 000: old page stops naming the node */
	FIX_SEARCH_LOCK,	/**< 000: lock/unlock in stable_tree_search() */
	FIX_OFFLINE_LOCKOUT,	/**< 004: lock ksmd out at MEM_GOING_OFFLINE */
	FIX_OFFLINE_PRUNE,	/**< 004: prune nodes in range at MEM_OFFLINE */
	FIX_OFFLINE_CANCEL_UNLOCK, /**< 004: let ksmd go at MEM_CANCEL_OFFLINE */
	FIX_MIGRATE_REFUSE_KSM,	/**< 004: unmap_and_move() refuses KSM pages */
	FIX_NUMA_SKIP_KSM,	/**< 004: NUMA paths skip PageKsm early */
	FIX_XCHG_WAIT_WRITEBACK, /**< 003, R13.writeback: wait for writeback */
	FIX_XCHG_FREEZE_FROM,	/**< 003, R13.freeze: freeze the anon page too */
	FIX_XCHG_UNFREEZE_ON_EAGAIN, /**< 003, R13.eagain: unfreeze the first */
	FIX_XCHG_SLOT_BEFORE_UNFREEZE, /**< 003, R13: switch the slot first */
	FIX_XCHG_MOVE_PRIVATE,	/**< 003, R13.private: move buffers and ref */
	FIX_XCHG_MOVE_COUNTERS,	/**< 003, R13.counters: per-node file counts */
	FIX_XCHG_CLEAR_UPTODATE, /**< ours, R13.uptodate: not uptodate in slot */
	FIX_XCHG_REFUSE_KSM,	/**< ours, R14: KSM pages are not exchanged */
	FIX_KPFN_SEQ,		/**< ours, R8.aba: count kpfn's moves */
	FIX_PRUNE_KPFN_ONCE,	/**< ours, R5.twice: the prune reads kpfn once */
	NR_FIXES
};

/** Select the era; resets every fix to on.  No actor may be running. */
int ksm_set_era(enum ksm_era era);
/** The current era. */
enum ksm_era ksm_get_era(void);
/** Turn one fix on or off.  Returns 0, or -EINVAL for a bad fix. */
int ksm_fix_set(enum ksm_fix fix, bool on);
/** Is this fix on? */
bool ksm_fix_on(enum ksm_fix fix);
/** Era by name ("pinned", "keyhole", ...); -1 if unknown. */
int ksm_era_by_name(const char *name);
/** Fix by name ("keyhole_recheck", ...); -1 if unknown. */
int ksm_fix_by_name(const char *name);
/**
 * How an exchange of a KSM page orders its stores when FIX_XCHG_REFUSE_KSM
 * is off (R14): the RFC's order, the alternative, or migration's.
 * Each loses a live node or corrupts the stable tree (walkthrough, ch. 7).
 */
enum xchg_ksm_order {
	XCHG_KSM_RFC,		/**< swap the mappings, later update kpfn */
	XCHG_KSM_KPFN_FIRST,	/**< kpfn first, smp_wmb(), then the swap */
	XCHG_KSM_ADVANCE,	/**< key the other page in advance, then
				     kpfn, then the old page loses the key */
};
/**
 * Choose the order R14 shows (default XCHG_KSM_RFC, which sim_init() and
 * ksm_set_era() set again, as they switch every fix back on).
 */
void ksm_set_exchange_order(enum xchg_ksm_order order);
/** Name of an era, or NULL. */
const char *ksm_era_name(enum ksm_era era);
/** Name of a fix, or NULL. */
const char *ksm_fix_name(enum ksm_fix fix);
/** One-line description of a fix: seed, race, what it does. */
const char *ksm_fix_doc(enum ksm_fix fix);

/** @} */

/* ---------------------------------------------------------------- */
/** \name The machine */
/** @{ */

/**
 * The memory model that runs under the one-at-a-time scheduler follow
 * (scripts and the explorer).  Free runs are whatever the host CPU does.
 */
enum sim_model {
	SIM_MODEL_SC,		/**< sequential consistency (the host, x86) */
	SIM_MODEL_WEAK,		/**< a weakly ordered CPU: ARM, Power */
	SIM_MODEL_ALPHA,	/**< WEAK, and address dependencies do not
				     order loads (DEC Alpha) */
	NR_SIM_MODELS
};

/** Name of a memory model ("sc", "weak", "alpha"), or NULL. */
const char *sim_model_name(enum sim_model model);
/** The memory model called \a name, or -1. */
int sim_model_by_name(const char *name);

/** Geometry of the simulated machine; zero fields take the defaults. */
struct sim_config {
	unsigned int page_size;		/**< bytes per frame: 4096 */
	unsigned int pages_per_section;	/**< multiple of 64: 256 */
	unsigned int nr_sections;	/**< memory sections: 8 */
	unsigned int nr_nodes;		/**< NUMA nodes, sections split: 2 */
	unsigned int swap_slots;	/**< swap device size in pages */
	enum ksm_era era;		/**< starting era (0: ERA_KEYHOLE) */
	enum sim_model model;		/**< memory model: SIM_MODEL_SC */
};

/**
 * Build the machine: reserve the memmap and the frames, bring every
 * section online, set up KSM.  Returns 0, or -EINVAL for a bad geometry,
 * -ENOMEM when the address space cannot be reserved.  Not thread safe.
 */
int sim_init(const struct sim_config *cfg);
/**
 * Every process exits and every file is destroyed, as at the end of a
 * scenario; the machine stays up.  No actor may be running.
 */
void sim_exit_processes(void);
/** Tear everything down (processes, KSM, memory).  Not thread safe. */
void sim_exit(void);
/**
 * Objects (kzalloc()) the last sim_exit() found that nothing had freed
 * and nothing it tears down could reach: 0 unless something leaked.
 */
unsigned long sim_leaked_objects(void);
/**
 * Save the whole state of the machine (between runs, ksmd stopped), for
 * sim_snapshot_restore().  Returns 0, -EBUSY, -ENOMEM, or -EOPNOTSUPP in
 * builds with a sanitizer (whose allocator must see every object).
 */
int sim_snapshot_take(void);
/** Put the machine back as it was at sim_snapshot_take(). */
void sim_snapshot_restore(void);
/** Forget the snapshot (sim_exit() does too). */
void sim_snapshot_drop(void);
/** The geometry in force (defaults filled in). */
const struct sim_config *sim_get_config(void);
/** Total number of page frames. */
unsigned long sim_nr_pages(void);

/** Per-section (or whole-machine) counts of frames. */
struct sim_mem_stats {
	unsigned long nr_free;		/**< on the allocator's free lists */
	unsigned long nr_used;		/**< allocated */
	unsigned long nr_offline;	/**< in sections that are offline */
	unsigned long nr_allocated;	/**< machine-wide: frames handed out
					     since sim_init() */
	unsigned long bytes_copied;	/**< machine-wide: bytes written by
					     migration and exchange copies */
	unsigned long nr_exchanged;	/**< machine-wide: exchanges done */
	unsigned long swap_used;	/**< machine-wide: swap slots in use */
};
/** Counts for one section, or for all when \a section < 0. */
int sim_mem_stats(int section, struct sim_mem_stats *st);
/** What the machine has done since sim_init(), for the soak's report. */
struct sim_activity {
	unsigned long merges;		/**< ptes pointed at a KSM page */
	unsigned long unmerges;		/**< KSM pages copied on write */
	unsigned long migrations;	/**< pages migrated */
	unsigned long exchanges;	/**< pairs of pages exchanged */
	unsigned long swap_outs;	/**< pages written to swap */
	unsigned long offlines;		/**< sections offlined */
	unsigned long bytes_verified;	/**< process and file bytes checked
					     against what was written */
};
/** Fill \a a.  0, or -EINVAL. */
int sim_get_activity(struct sim_activity *a);

/**
 * Places where an allocation can be made to fail, as the kernel's
 * failslab and fail_page_alloc make them fail.
 */
enum sim_fail_site {
	FAIL_PAGE,		/**< a page for a fault or a copy-on-write */
	FAIL_STABLE_NODE,	/**< alloc_stable_node() */
	FAIL_RMAP_ITEM,		/**< alloc_rmap_item() */
	FAIL_MM_SLOT,		/**< alloc_mm_slot() */
	FAIL_ANON_VMA,		/**< anon_vma_alloc() */
	FAIL_MIGRATE_TARGET,	/**< a migration's new page */
	FAIL_PAGE_CACHE,	/**< a page cache page read from disk */
	FAIL_BUFFER_HEAD,	/**< a page's buffer heads */
	FAIL_SWAP_SLOT,		/**< get_swap_page(): as if swap were full */
	FAIL_MM_STRUCT,		/**< a process's mm_struct (create, fork) */
	FAIL_FILE,		/**< a file and its page cache (create) */
	NR_FAIL_SITES
};
/**
 * Make the \a nth call from now at \a site fail (0: none).  0, or
 * -EINVAL for a bad site.
 */
int sim_fail_nth(enum sim_fail_site site, unsigned long nth);
/**
 * Make \a percent of all calls at every site fail, drawn from \a seed (0:
 * none).  A run on one thread fails the same calls for the same seed.
 */
int sim_fail_random(unsigned int percent, unsigned long seed);
/** Calls made at \a site since sim_init(). */
unsigned long sim_fail_calls(enum sim_fail_site site);
/** Failures injected since sim_init(). */
unsigned long sim_fail_injected(void);
/** Name of a site ("stable_node", ...), or NULL. */
const char *sim_fail_site_name(enum sim_fail_site site);
/** The site called \a name, or -1. */
int sim_fail_site_by_name(const char *name);

/** @} */

/* ---------------------------------------------------------------- */
/** \name Simulated processes */
/** @{ */

/** A simulated process: one anonymous mapping of nr_pages pages. */
struct mm_struct;

/** Create a process with a mapping of \a nr_pages pages, all unpopulated. */
struct mm_struct *sim_process_create(const char *name, unsigned long nr_pages);
/** Fork: a child sharing every page copy-on-write.  NULL on failure. */
struct mm_struct *sim_process_fork(struct mm_struct *mm, const char *name);
/** Exit: unmap everything and drop the process. */
int sim_process_exit(struct mm_struct *mm);
/** The process's name. */
const char *sim_process_name(const struct mm_struct *mm);

/**
 * Write \a len bytes at \a offset of page \a vpn, faulting as the CPU
 * would (copy-on-write, swap-in, waiting on migration).  The process
 * remembers what it wrote; sim_process_verify() checks it later.
 * Returns 0, or -EINVAL for a range outside the mapping, -ENOMEM.
 */
int sim_process_write(struct mm_struct *mm, unsigned long vpn,
		      unsigned long offset, const void *buf, size_t len);
/** Fill the whole of page \a vpn with \a byte. */
int sim_process_fill(struct mm_struct *mm, unsigned long vpn, int byte);
/** Read \a len bytes at \a offset of page \a vpn (read fault if needed). */
int sim_process_read(struct mm_struct *mm, unsigned long vpn,
		     unsigned long offset, void *buf, size_t len);
/**
 * Check that every page holds the bytes the process last wrote (a page
 * never written must read as zeroes).  Returns the number of pages that
 * differ; each is reported through sim_report() when \a report is true.
 */
long sim_process_verify(struct mm_struct *mm, bool report);
/** madvise(MADV_MERGEABLE) or (MADV_UNMERGEABLE) on the whole mapping. */
int sim_process_madvise(struct mm_struct *mm, bool mergeable);
/** References to the page in frame \a pfn: 0 if free, -EINVAL if none. */
long sim_page_count(unsigned long pfn);
/** The node a process's faults allocate on (0 by default). */
int sim_process_set_node(struct mm_struct *mm, int nid);
/** pfn mapped at \a vpn, or -1 if the pte is not present. */
long sim_process_pfn(struct mm_struct *mm, unsigned long vpn);

/** @} */

/* ---------------------------------------------------------------- */
/** \name Reclaim */
/** @{ */

/**
 * Reclaim the anonymous page in frame \a pfn as kswapd would: into the swap
 * cache, unmapped from every pte (through KSM's reverse map for a KSM
 * page), written out, freed.  Returns 0 if freed, -EBUSY if the page had
 * to be kept (a reference it cannot account for, locked, not on the LRU),
 * -EINVAL for a bad pfn.
 */
int sim_reclaim_pfn(unsigned long pfn);
/** Reclaim the page a process maps at \a vpn.  -ENOENT if none. */
int sim_reclaim_process_page(struct mm_struct *mm, unsigned long vpn);
/** Scan up to \a nr pages of the LRU, reclaiming what can be. */
unsigned long sim_shrink_lru(unsigned long nr);

/** @} */

/* ---------------------------------------------------------------- */
/** \name Page migration, NUMA placement, memory hotplug */
/** @{ */

/**
 * Migrate the page in frame \a pfn to node \a node (any other node when
 * \a node < 0), as compaction or mbind would; \a offlining is seed 004's
 * argument (true only for memory hot-remove).  Returns 0 when migrated,
 * -EBUSY (refused, or not on the LRU), -EAGAIN (still in use after every
 * pass), -ENOMEM, -EINVAL.
 */
int sim_migrate_pfn(unsigned long pfn, int node, bool offlining);
/**
 * mbind(MPOL_MF_MOVE_ALL) of the whole mapping to \a node; with \a strict
 * (MPOL_MF_STRICT), -EIO if some page could not be moved.
 */
int sim_mbind(struct mm_struct *mm, int node, bool strict);
/** move_pages(2) query: the node of the page at \a vpn, or -ENOENT. */
int sim_page_node(struct mm_struct *mm, unsigned long vpn);
/**
 * Compact section \a s: migrate every page in use out of it, as compaction
 * would (no offlining).  Returns the frames still in use there, -EBUSY,
 * -EINVAL.
 */
long sim_compact_section(unsigned long s);
/**
 * Hugh's test method: on one fault in \a n, migrate every page of the
 * faulting process to the other node (0: off).
 */
void sim_set_migrate_on_fault(unsigned int n);
/** Pin the page at \a vpn (get_user_pages()); its pfn, or -errno. */
long sim_pin_page(struct mm_struct *mm, unsigned long vpn);
/** Drop a pin.  0, or -EINVAL. */
int sim_unpin_page(unsigned long pfn);
/**
 * Offline section \a s: migrate its pages out, tell the memory notifier
 * chain, and really remove its memmap and frames.  0, -EBUSY (cancelled:
 * a page could not be moved), -EINVAL.
 */
int sim_offline_section(unsigned long s);
/** Bring section \a s back online, every frame free.  0, -EINVAL. */
int sim_online_section(unsigned long s);

/** @} */

/* ---------------------------------------------------------------- */
/** \name Files: the page cache, writeback, shared file mappings */
/** @{ */

/** A simulated file and its page cache (struct address_space). */
struct address_space;

/**
 * Create a file of \a nr_pages pages, every byte \a byte on disk.  With
 * \a buffers its cached pages carry buffer heads (PagePrivate and one more
 * reference; a_ops->migratepage is buffer_migrate_page()); without, it has
 * no migratepage and exchange falls back (fallback_migrate_page(): a dirty
 * page is written out first).  Migration moves either kind as it is.
 * NULL on bad arguments.
 */
struct address_space *sim_file_create(const char *name, unsigned long nr_pages,
				      int byte, bool buffers);
/**
 * Drop the page cache and the file, at a quiescent point.  -EBUSY while a
 * process maps it or one of its pages is in use (locked, under writeback,
 * isolated, referenced), -EINVAL.
 */
int sim_file_destroy(struct address_space *f);
/**
 * A process whose one mapping is all of \a f, mapped shared: its faults
 * read the file through the page cache, its writes dirty the cached pages.
 * Such a process cannot be made MADV_MERGEABLE (-EINVAL).
 */
struct mm_struct *sim_process_map_file(const char *name,
				       struct address_space *f);
/** Put page \a index of \a f in the page cache on node \a nid.  0, -errno. */
int sim_file_cache_page(struct address_space *f, unsigned long index, int nid);
/** The frame caching page \a index of \a f, or -ENOENT, -EINVAL. */
long sim_file_pfn(struct address_space *f, unsigned long index);
/**
 * Write back every dirty page of \a f, as the flusher does: lock, clear
 * dirty, mark writeback, unlock, then the I/O (race window writeback:io),
 * then end writeback.  Returns the pages written, or -EINVAL.
 */
long sim_file_writeback(struct address_space *f);
/**
 * read(2) of page \a index of \a f into \a buf (generic_file_read()):
 * find_get_page() without a lock; the page lock only if not uptodate.
 * A page not cached is read in on node 0.  0, -EINVAL, -ENOMEM.
 */
int sim_file_read(struct address_space *f, unsigned long index, void *buf);
/**
 * Check that every cached page of \a f holds what was last written there,
 * and that every clean page not cached or not under writeback is on disk.
 * Returns the pages wrong (reported when \a report), or -EINVAL.
 */
long sim_file_verify(struct address_space *f, bool report);
/** Counters of node \a nid, as NR_FILE_PAGES and NR_FILE_DIRTY. */
int sim_node_file_stats(int nid, unsigned long *file_pages,
			unsigned long *file_dirty);

/** @} */

/* ---------------------------------------------------------------- */
/** \name Exchanging pages (seed 003, the 2019 RFC) */
/** @{ */

/**
 * Exchange the pages in frames \a pfn1 and \a pfn2 (exchange_two_pages()):
 * each takes the other's contents, mapping, index and ptes.  Anonymous
 * with anonymous, or anonymous with file-backed; never two file pages.
 * Synchronous (it waits for writeback).  Exchange era only.  Returns 0,
 * -EBUSY (not on the LRU, in the swap cache, a KSM page), -EAGAIN (a count
 * was not the expected one, or a dirty page of a file without buffer heads
 * was written out first: try again), -EINVAL (two file pages, bad pfns),
 * -EOPNOTSUPP (another era).
 */
int sim_exchange_pfns(unsigned long pfn1, unsigned long pfn2);
/** Exchange the pages mapped at \a vpn1 of \a mm1 and \a vpn2 of \a mm2. */
int sim_exchange_pages(struct mm_struct *mm1, unsigned long vpn1,
		       struct mm_struct *mm2, unsigned long vpn2);
/**
 * Another reference taker (a pfn walker: compaction's scanner, page_idle,
 * memory-failure): get_page_unless_zero() on frame \a pfn, race window
 * pfn_walk:got, put_page().  1 if it held a reference, 0 if not, -EINVAL.
 */
int sim_pfn_walk(unsigned long pfn);

/** @} */

/* ---------------------------------------------------------------- */
/** \name KSM: knobs, counters, ksmd */
/** @{ */

/** The counters of /sys/kernel/mm/ksm, with Documentation/vm/ksm.txt's
 * meaning. */
struct ksm_counters {
	unsigned long pages_shared;	/**< KSM pages in use */
	unsigned long pages_sharing;	/**< further sites sharing them */
	unsigned long pages_unshared;	/**< unique pages checked repeatedly */
	unsigned long pages_volatile;	/**< pages changing too fast */
	unsigned long full_scans;	/**< full passes over mergeable areas */
	unsigned long stable_nodes;	/**< nodes in the stable tree */
};
/** Snapshot the counters. */
void ksm_get_counters(struct ksm_counters *c);
/** Print the counters as the files of /sys/kernel/mm/ksm show them. */
void ksm_print_counters(const char *indent);

/** The run knob: 0 stop, 1 run, 2 unmerge everything.  -EINVAL else. */
int ksm_set_run(unsigned int run);
/** pages_to_scan knob (default 100). */
int ksm_set_pages_to_scan(unsigned int n);
/** sleep_millisecs knob (default 20). */
int ksm_set_sleep_millisecs(unsigned int ms);

/**
 * Scan \a nr_pages pages synchronously, as one ksmd batch (under
 * ksm_thread_mutex), regardless of the run knob.  Tests use this instead
 * of waiting for ksmd.
 */
void ksm_scan_pages(unsigned int nr_pages);
/** Run synchronous batches until \a n more full scans have completed. */
void ksm_scan_full(unsigned int n);
/** Start the ksmd pthread (run knob must be 1 for it to scan). */
int ksm_start_thread(void);
/** Stop and join the ksmd pthread. */
void ksm_stop_thread(void);

/** @} */

/* ---------------------------------------------------------------- */
/** \name The auditor */
/** @{ */

/** What the auditor found wrong; each kind names the rule it guards. */
enum audit_kind {
	AUDIT_RBTREE,		/**< a tree is not a valid red-black tree */
	AUDIT_ORDER,		/**< stable tree not ordered by content */
	AUDIT_NODE_PAGE,	/**< a stable node's page does not name it */
	AUDIT_PAGE_NODE,	/**< a KSM page names a node not in the tree */
	AUDIT_RMAP_LIST,	/**< an rmap_item on the wrong list, or twice */
	AUDIT_RMAP_PTE,		/**< a pte the reverse map cannot find */
	AUDIT_REFCOUNT,		/**< a page's count is not its references */
	AUDIT_MAPCOUNT,		/**< a page's mapcount is not its ptes */
	AUDIT_COUNTER,		/**< a KSM counter differs from a recount */
	AUDIT_ALLOCATOR,	/**< free lists and struct pages disagree */
	AUDIT_SWAP,		/**< swap counts differ from their users */
	AUDIT_DATA,		/**< a process sees bytes it never wrote */
	AUDIT_STALE,		/**< a stale node survived a full scan */
	AUDIT_DUPLICATE,	/**< two KSM pages with the same content */
	AUDIT_FILE,		/**< page cache, buffers or file counters */
	AUDIT_ANON_VMA,		/**< an anon_vma freed while used, or leaked */
	AUDIT_LOCK,		/**< a lock held when no one runs */
	NR_AUDIT_KINDS
};

/** The auditor's findings. */
struct audit_report {
	unsigned long count[NR_AUDIT_KINDS];	/**< violations per kind */
	unsigned long total;			/**< all violations */
};

/**
 * Check every invariant at a quiescent point (no actor running).  Each
 * violation is printed through sim_report() when \a verbose.  Returns the
 * number of violations.  \a r may be NULL.
 */
unsigned long audit_machine(struct audit_report *r, bool verbose);
/** Name of an audit kind. */
const char *audit_kind_name(enum audit_kind kind);

/** @} */

/* ---------------------------------------------------------------- */
/** \name Actors and scenarios */
/** @{ */

#include <stdio.h>

/** An actor of a scenario: a thread standing in for a kernel actor. */
struct sim_actor_spec {
	const char *name;		/**< "ksmd", "reclaim", ... */
	void (*fn)(void *arg);		/**< what it does, start to end */
	void *arg;			/**< ...with this argument */
};

/**
 * One step of a scripted interleaving: run \a actor until it reaches the
 * race window (or pause point) \a until ("name", "name#n" for its n-th
 * hit, or "a|b" for whichever comes first), or until it "blocked" (sleeps
 * on a lock or spins) or is "done".
 *
 * Under a weak memory model a step may instead give the actor's CPU a
 * reordering to make from then on: "delay X" holds its stores named X in
 * its store buffer as long as the model allows, "old X" satisfies its
 * loads named X from the oldest state of memory the model allows.
 */
struct sim_step {
	const char *actor;		/**< who runs */
	const char *until;		/**< until where */
};

/**
 * Run \a n actors one at a time, in the interleaving \a steps describes
 * (after the last step, each runs until it blocks or ends).  Returns 0 if
 * every actor finished, -EDEADLK if the run was abandoned (deadlock,
 * livelock, or a step that could not be taken: sim_run_error() says
 * which).  An abandoned run leaves its threads stopped for good.
 */
int sim_run_script(const struct sim_actor_spec *actors, int n,
		   const struct sim_step *steps, int nr_steps);
/**
 * Run \a n actors as free pthreads.  If they have not finished within
 * \a timeout_ms (0: no limit), a watchdog names the stuck actors and what
 * each waits for, and -ETIMEDOUT is returned.
 */
int sim_run_free(const struct sim_actor_spec *actors, int n,
		 unsigned int timeout_ms);
/**
 * Run \a fn(\a arg) so that if the simulated kernel dies inside it (a BUG,
 * an oops, a fault on a removed struct page), sim_guarded() returns 1 with
 * the one-line description in \a what, instead of the process exiting; 0
 * when \a fn returned.  After a death the machine is mid-operation: only a
 * snapshot restored makes it usable again.  -EBUSY if already guarded.
 */
int sim_guarded(void (*fn)(void *arg), void *arg, char *what, size_t len);
/** Why the last run failed, or "". */
const char *sim_run_error(void);
/** Free runs: a short random delay at every race window (stress). */
void sim_set_jitter(bool on);
/** A scenario's own pause point, that scripts can stop at. */
void sim_pause_point(const char *name);
/**
 * Called, with one line saying what, when the simulated kernel dies (a
 * BUG, an oops, a fault on a removed struct page) just before the process
 * exits; it may print and exit itself.
 */
void sim_set_death_hook(void (*hook)(const char *what));
/** Is \a name a race window (optionally "name#n")? */
bool sim_window_exists(const char *name);
/** Name of race window \a i, or NULL past the last. */
const char *sim_window_name(int i);
/** The function(s) race window \a i is in, or NULL past the last. */
const char *sim_window_where(int i);
/** What holds at race window \a i (one line), or NULL past the last. */
const char *sim_window_holds(int i);

/** What a decision of the explorer chose between. */
enum sim_choice_kind {
	SIM_CHOICE_SCHED,	/**< which actor runs next, or which waiting
				     store becomes visible (group model) */
	SIM_CHOICE_STORE,	/**< a store commits now (0) or waits (1) */
	SIM_CHOICE_LOAD,	/**< which visible value a load returns
				     (0: the newest) */
	SIM_CHOICE_EARLY,	/**< a later store of a litmus program is
				     performed before earlier loads (n) or
				     not (0): load buffering */
};

/** One decision of an explored run: option \a choice of \a nopts. */
struct sim_decision {
	unsigned char choice;		/**< the option taken */
	unsigned char nopts;		/**< options there were (0: unknown) */
	unsigned char kind;		/**< enum sim_choice_kind */
	unsigned char costly;		/**< options but 0 count against a
					     bound (a preemption; a
					     reordering) */
};

/**
 * A transition of an explored run, as partial-order reduction names it:
 * an actor's step (from one scheduling point to its next), or a waiting
 * store becoming visible.
 */
struct sim_tid {
	unsigned char commit;		/**< a store's commit (else a step) */
	unsigned char actor;		/**< whose step, or whose CPU's store */
	unsigned short seq;		/**< a commit: the store's number among
					     its CPU's stores of the run */
};

/** Most objects a footprint lists; beyond, it touched "everything". */
#define SIM_FP_MAX	12

/**
 * What a transition touched, as far as the model sees: tracked words and
 * locks, read or written.  Two transitions of different actors commute
 * unless one writes what the other touches; a step of the simulated
 * kernel (\a opaque) may also touch what the model does not see, so it
 * commutes only with commits of words it did not touch.
 */
struct sim_footprint {
	bool opaque;			/**< a step of kernel code */
	bool all;			/**< read every word (a view of "now"),
					     or touched more than SIM_FP_MAX */
	unsigned char n;		/**< objects listed */
	/** The objects: a word, a lock, the order of full barriers. */
	struct {
		const void *obj;	/**< its address */
		bool write;		/**< written (else only read) */
	} e[SIM_FP_MAX];
};

/**
 * The decisions of one explored run: which to follow, and where to write
 * down the ones made.  Decision i is taken from \a prefix while
 * i < nr_prefix, else it is option 0 (run on; commit now; the newest
 * value), or what \a por_pick says.
 */
struct sim_choices {
	const struct sim_decision *prefix;	/**< decisions to follow */
	unsigned int nr_prefix;			/**< ...how many */
	struct sim_decision *log;		/**< decisions made */
	unsigned int max;			/**< room in log */
	unsigned int nr;			/**< decisions made (the log
						     holds the first max) */
	bool misfit;				/**< the prefix did not fit */
	/**
	 * Every actor of the run makes each access to shared state through
	 * the model (a litmus program): its stores always wait in the
	 * buffer (their commits are events of their own), and its steps are
	 * not opaque to partial-order reduction.
	 */
	bool transparent;
	bool asleep;				/**< abandoned by por_pick */
	/**
	 * Partial-order reduction (NULL: none).  Called at every scheduling
	 * point with the transitions enabled there (\a decision: its index,
	 * or -1 when there is one option and no decision; \a prefix: the
	 * option the prefix takes, or -1 beyond it).  Returns the option to
	 * take, or -1 to abandon the run (every option is asleep).
	 */
	int (*por_pick)(void *ctx, int decision, const struct sim_tid *opt,
			int nopts, int prefix);
	/** After every transition: what it was and what it touched. */
	void (*por_done)(void *ctx, const struct sim_tid *t,
			 const struct sim_footprint *fp);
	void *por_ctx;				/**< their argument */
};

/**
 * Run \a n actors one at a time, taking every decision (who runs at each
 * scheduling point; under a weak memory model, when each store becomes
 * visible and which value each load returns) from \a c.  Returns as
 * sim_run_script(); a prefix decision that does not fit the run (more
 * options asked for than there are) abandons it.
 */
int sim_run_choices(const struct sim_actor_spec *actors, int n,
		    struct sim_choices *c);

/** Barriers and dependencies, for litmus tests of the model. */
enum sim_barrier {
	SIM_SMP_WMB,			/**< smp_wmb() */
	SIM_SMP_RMB,			/**< smp_rmb() */
	SIM_SMP_MB,			/**< smp_mb() */
	SIM_READ_BARRIER_DEPENDS,	/**< smp_read_barrier_depends() */
	SIM_ADDR_DEP,			/**< the next loads' addresses depend
					     on the last load's value */
};
/** READ_ONCE(*x) as the model sees it; \a name names it for scripts. */
unsigned long sim_read_once(_Atomic unsigned long *x, const char *name);
/** WRITE_ONCE(*x, v) as the model sees it. */
void sim_write_once(_Atomic unsigned long *x, unsigned long v,
		    const char *name);
/** smp_load_acquire(x) as the model sees it. */
unsigned long sim_load_acquire(_Atomic unsigned long *x, const char *name);
/** smp_store_release(x, v) (and rcu_assign_pointer()) as the model sees it. */
void sim_store_release(_Atomic unsigned long *x, unsigned long v,
		       const char *name);
/** A barrier (or a dependency) as the model sees it. */
void sim_barrier(enum sim_barrier b);
/**
 * The current CPU's next load takes its address from the value of its
 * load number \a load (its loads counted from 0 in this run): an address
 * dependency on that load alone (rcu_dereference(), then a load through
 * the pointer).  Nothing under ALPHA.
 */
void sim_depend_on(unsigned int load);
/** Loads the current CPU has made in this run (the next one's number). */
unsigned int sim_loads_made(void);
/** spin_lock() of litmus lock \a n (0..SIM_LITMUS_LOCKS-1), called \a name. */
void sim_spin_lock(unsigned int n, const char *name);
/** spin_unlock() of litmus lock \a n.  The caller must hold it. */
void sim_spin_unlock(unsigned int n);
/** Locks a litmus program may use. */
#define SIM_LITMUS_LOCKS	8
/**
 * A reordering decision of a litmus program's CPU, out of \a nopts
 * options (option 0: none), called \a what in traces: under the explorer
 * a decision of kind SIM_CHOICE_EARLY; under a script always 0.
 */
int sim_choose_early(int nopts, const char *what);
/**
 * Note that the current transition touched \a obj (partial-order
 * reduction): for accesses made outside the model's own calls.
 */
void sim_fp_note(const void *obj, bool write);

/**
 * Draw KSM's structures as they are now, as an SVG image titled \a title:
 * the stable tree, each node with its KSM page (kpfn from the node,
 * page->mapping back to it) and its rmap_items; the unstable tree; and
 * all of it in words as the image's description.  Only at rest: no actor
 * may run.
 */
void ksm_state_print_svg(FILE *f, const char *title);

/** Start recording a timeline (or stop, and forget it). */
void sim_trace_enable(bool on);
/** Print the recorded timeline, one column per actor. */
void sim_timeline_print(FILE *f);
/**
 * The width, in columns, a timeline fills (default 96; at least 40): each
 * actor's column is an equal share of it, up to 40 columns (80 from a
 * width of 120 on), and a line wraps within its column at a space.
 */
void sim_timeline_set_width(unsigned int columns);
/**
 * Stop recording the timeline, and keep it for printing (what the
 * actors did, and not what a check of the state does after them).
 */
void sim_trace_stop(void);
/**
 * Which switched-off fixes the charts mark (a bit per enum ksm_fix;
 * default all): a step where such a fix's line would have acted is drawn
 * red.
 */
void sim_trace_highlight(unsigned long fixes);
/**
 * Add a note of the outcome to the trace, drawn across every actor's
 * line at its end (\a harm: as harm, in red); recorded even when the
 * timeline is stopped.
 */
void sim_trace_note(bool harm, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/**
 * Print the recorded timeline as the body of an mscgen chart (what goes
 * between "msc {" and "}", or Doxygen's \\msc and \\endmsc): an entity per
 * actor, a box on its line for each thing it did (red where a
 * switched-off line would have acted), an arrow for a page, a lock or a
 * kpfn one actor passed another, the notes across every line; a long loop
 * drawn once.
 */
void sim_timeline_print_msc(FILE *f);
/**
 * Print the recorded timeline as an SVG image of the same chart, titled
 * \a title, with the whole sequence in words as its description (the
 * alternative text a screen reader reads).
 */
void sim_timeline_print_svg(FILE *f, const char *title);

/** @} */

/* ---------------------------------------------------------------- */
/** \name Self-tests of the machinery (tests/unit.c) */
/** @{ */

/** Random inserts and erases, checked after each; 0 or the failing step. */
int sim_selftest_rbtree(unsigned int seed, int n);
/** Take (\a what 0) or drop (1) a reference nobody accounts for. */
int sim_selftest_corrupt(int what);
/** The checksum ksmd computes, of frame \a pfn (0 if not online). */
unsigned int sim_frame_checksum(unsigned long pfn);
/** get_ksm_page()'s fast path \a n times on the first node (bench). */
long sim_bench_get_ksm_page(unsigned long n);
/**
 * A hash of everything a snapshot saves (the state's globals, objects,
 * memmap, frames, swap device): equal after a restore, if it is exact.
 */
uint64_t sim_selftest_state_digest(void);
/** sizeof struct page, struct rmap_item and struct stable_node. */
void sim_struct_sizes(size_t *page, size_t *rmap_item, size_t *stable_node);
/**
 * Bytes of a stable node's history, which a node allocated while
 * CONFIG_DEBUG_VM is on carries after it (0 on nodes allocated without).
 */
size_t sim_node_history_size(void);

/** @} */

/* ---------------------------------------------------------------- */
/** \name Reports */
/** @{ */

/** Print a line of a report (to stdout, prefixed by the current actor). */
void sim_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** Silence or restore sim_report() output. */
void sim_set_quiet(bool quiet);
/**
 * CONFIG_DEBUG_VM: the kernel's debug-only checks (VM_BUG_ON), on by
 * default.  With it off the machine behaves as a production kernel.
 */
void sim_set_debug_vm(bool on);

/** @} */

#endif /* KSM_REF_H */

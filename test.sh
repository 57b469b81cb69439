#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# test.sh - every check ksm_ref promises, in one run.  Ends with the line
# "N passed, M failed" and exits non-zero if anything failed.
#
#   ./test.sh            everything
#   ./test.sh PATTERN    only the checks whose names match PATTERN (grep -E)
#
# Each check's output is kept in build/test-logs/NAME.log; a failure
# prints the last lines of it.
#
# Three settings in the environment make it the kill suite of `make
# mutants` and `make mutants-all`, and the run of `make coverage`:
#
#   KSM_TEST_BUILD=DIR   test the programs already built in DIR: no builds,
#                        and none of the checks of other builds (clang,
#                        the sanitizers), the docs or the book
#   KSM_TEST_CORE=1      only the deterministic checks of behaviour: not
#                        the free-running stresses and soaks, whose verdict
#                        a schedule of the host decides, nor the growth
#                        count under valgrind
#   KSM_TEST_FIRST=1     stop at the first failure (its name is the last
#                        line: "killed by NAME")
#
# and, for the same programs, KSM_TEST_ASAN=DIR and KSM_TEST_TSAN=DIR (the
# sanitizer builds to check, else none), KSM_TEST_LOGS=DIR (where the logs
# go), KSM_TEST_TIMES=FILE (append "NAME MILLISECONDS" for each check) and
# KSM_TEST_TIMEOUTS=FILE ("NAME SECONDS": a check's own time limit; 300 s
# for a check not named).  Each check's programs see its name in
# KSM_TEST_CHECK (make mutants-all asks which lines each check reaches).
set -u
cd "$(dirname "$0")" || exit 2
only=${1:-}
given=${KSM_TEST_BUILD:-}
core=${KSM_TEST_CORE:-}
first=${KSM_TEST_FIRST:-}
times=${KSM_TEST_TIMES:-}
timeouts=${KSM_TEST_TIMEOUTS:-}
logs=${KSM_TEST_LOGS:-build/test-logs}
mkdir -p "$logs"
pass=0
fail=0
failed=

selected() {
	[ -z "$only" ] || printf '%s\n' "$1" | grep -Eq -- "$only"
}

record() {	# record NAME OK [WHY]
	if [ "$2" = 1 ]; then
		pass=$((pass + 1))
		printf 'ok   %s\n' "$1"
	else
		fail=$((fail + 1))
		failed="$failed $1"
		printf 'FAIL %s: %s\n' "$1" "$3"
		tail -n 15 "$logs/$1.log" | sed 's/^/     | /'
		# A log whose last line has no newline must not run into ours.
		[ -z "$(tail -c 1 "$logs/$1.log")" ] || echo
		if [ -n "$first" ]; then
			echo "killed by $1"
			exit 1
		fi
	fi
}

# free: is this a check the core leaves out (a free run, a timing)?
free() {
	[ -n "$core" ]
}

# run NAME CMD...: run CMD within NAME's time limit, its output into
# NAME's log; rc is its exit status (124 if it ran out of time).
run() {
	run_name=$1 limit=
	shift
	[ -z "$timeouts" ] ||
		limit=$(awk -v n="$run_name" '$1 == n { print $2 }' "$timeouts")
	[ -z "$times" ] || t0=$(date +%s%N)
	KSM_TEST_CHECK=${KSM_TEST_CHECK:-$run_name} \
		timeout "${limit:-300}" "$@" >"$logs/$run_name.log" 2>&1
	rc=$?
	[ -z "$times" ] ||
		echo "$run_name $((($(date +%s%N) - t0) / 1000000))" >>"$times"
}

# expect RC NAME CMD...: CMD must exit with status RC.
expect() {
	rc_want=$1 name=$2
	shift 2
	selected "$name" || return 0
	run "$name" "$@"
	if [ "$rc" = "$rc_want" ]; then
		record "$name" 1
	else
		record "$name" 0 "exit status $rc, expected $rc_want"
	fi
}

# expect_grep RC PATTERN NAME CMD...: and its output must match PATTERN.
expect_grep() {
	rc_want=$1 pat=$2 name=$3
	shift 3
	selected "$name" || return 0
	run "$name" "$@"
	if [ "$rc" != "$rc_want" ]; then
		record "$name" 0 "exit status $rc, expected $rc_want"
	elif ! grep -Eq -- "$pat" "$logs/$name.log"; then
		record "$name" 0 "output lacks /$pat/"
	else
		record "$name" 1
	fi
}

# later CHECK...: a check (expect or expect_grep, and its arguments) that
# takes time but little of the machine - a free run of a fixed length -
# or that would hold the rest up - the longest search - runs, in a full
# run, on a second lane beside the others: the checks given to later run
# one at a time, in the order given, while the rest go on.  Their
# verdicts are recorded at the end (collect), in that order, so that the
# output is the same whatever finishes first.  A kill suite's run
# (KSM_TEST_BUILD) or one that stops at its first failure runs each in
# its place.
later_names=
later() {
	case $1 in
	expect) later_name=$3 ;;
	*) later_name=$4 ;;
	esac
	if [ -n "$given" ] || [ -n "$first" ]; then
		"$@"
		return
	fi
	selected "$later_name" || return 0
	rm -f "$logs/$later_name.verdict"
	(
		flock 9
		record() {
			printf '%s\t%s\n' "$2" "${3:-}" >"$logs/$1.verdict"
		}
		"$@"
	) 9>"$logs/.later.lock" &
	later_names="$later_names $later_name"
}

# collect: wait for the checks given to later, and record their verdicts.
collect() {
	wait
	for later_name in $later_names; do
		if [ -s "$logs/$later_name.verdict" ]; then
			IFS='	' read -r ok why <"$logs/$later_name.verdict"
		else
			ok=0 why="it ended without a verdict"
		fi
		rm -f "$logs/$later_name.verdict"
		record "$later_name" "$ok" "$why"
	done
	later_names=
}

# ---------------------------------------------------------------------
# Builds: warning-free under gcc and clang, -Wall -Wextra -Werror.
SAN_ASAN="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
SAN_TSAN="-O1 -g -fsanitize=thread"
if [ -n "$given" ]; then
	G=$given
elif [ -n "$only" ]; then	# a partial run still needs fresh binaries
	make -s -j2 B=build/gcc CC=gcc >/dev/null 2>&1
	make -s -j2 B=build/asan CC=clang CFLAGS="$SAN_ASAN" >/dev/null 2>&1
	make -s -j2 B=build/tsan CC=clang CFLAGS="$SAN_TSAN" >/dev/null 2>&1
fi
if [ -z "$given" ]; then
	expect 0 build-gcc make -s -j2 B=build/gcc CC=gcc
	expect 0 build-clang make -s -j2 B=build/clang CC=clang
	G=build/gcc
fi

# ---------------------------------------------------------------------
# The machine's parts.
expect_grep 0 '^0 failures' unit $G/unit
# The rarer paths, each driven on purpose (tests/paths.c), and what single
# lines do (tests/lines*.c, a program each).
expect_grep 0 '^0 failures' paths $G/paths
for t in tests/lines*.c; do
	t=${t#tests/}
	t=${t%.c}
	expect_grep 0 '^0 failures' "$t" "$G/$t"
done
[ -n "$given" ] ||
	expect_grep 0 '^0 failures' unit-clang build/clang/unit

# The merge tour: the kernel selftests' expectations, in every era.
for era in pinned keyhole hotremove migration exchange; do
	expect_grep 0 '8 of 8 scenarios' "merge-tour-$era" \
		$G/merge_tour --era $era
done
expect_grep 0 '8 of 8 scenarios' merge-tour-1k-pages \
	$G/merge_tour --page-size 1024 --pages 64

# ---------------------------------------------------------------------
# The keyhole (seed 001): R1's cost, and each race of R2-R3 with its fix
# on (clean) and off (the specific harm it shows, not any failure).
race_both() {	# race_both ID PATTERN
	expect_grep 0 "^$1: clean" "race-$1-fixed" $G/race "$1"
	expect_grep 1 "$2" "race-$1-broken" $G/race "$1" --broken
}
expect_grep 0 'keyhole frees every page without a ksmd pass' race-R1 \
	$G/race R1
race_both R2 'HARM: D reads bytes it never wrote'
race_both R2.check "HARM: reclaim could not free C's page"
race_both R3 'HARM: E and F hold identical pages but were never merged'
race_both R3.life 'HARM: .*names a stable node that was freed'
race_both R3.gpuz 'HARM: ksmd raised the count of a free page'
# With CONFIG_DEBUG_VM, R2 is stopped by the kernel's own check instead.
expect_grep 1 'kernel died: kernel BUG at .*PageLocked' race-R2-broken-debug-vm \
	$G/race R2 --broken --debug-vm
# ...and the design's own debug checks, with the node's history: a node
# appended to after its removal (R3.life), or removed while its page
# lives, found where kpfn points (R8.aba, R5.twice) or where the history
# says the page went (R8).
expect_grep 1 'Oops in stable_tree_append: a stable node that is not in' \
	race-R3.life-broken-debug-vm $G/race R3.life --broken --debug-vm
for r in R2 R2.check R3 R3.life R3.gpuz; do
	free || later expect_grep 0 'all clean' "race-$r-stress" $G/race "$r" --stress \
		--seconds 2
done
# Memory hot-remove (seed 004): R5-R7, and the keyhole era before it.
race_both R5 'HARM: the kernel died: FAULT: struct page of pfn [0-9]+ in removed section 0 was touched by ksmd'
expect_grep 1 'FAULT: struct page of pfn [0-9]+ in removed section 0' \
	race-R5-keyhole-era $G/race R5 --era keyhole
# R5.twice (ours): the prune's two reads of kpfn straddle a migration.
race_both R5.twice 'HARM: a live stable node was pruned'
expect_grep 1 'Oops in ksm_memory_callback: stable node [0-9]+ removed while its KSM page' \
	race-R5.twice-broken-debug-vm $G/race R5.twice --broken --debug-vm
race_both R6 'HARM: the kernel died: FAULT: struct page .* removed section 0 was touched by ksmd'
race_both R6.cancel 'HARM: ksmd can never run again'
race_both R7 'HARM: the migrated KSM page names a stable node that ksmd removed'
expect_grep 1 'HARM: the migrated KSM page names a stable node' \
	race-R7-keyhole-era $G/race R7 --era keyhole
race_both R7.skip 'HARM: mbind.*failed with -5'
for r in R5 R5.twice R6 R6.cancel R7 R7.skip; do
	free || later expect_grep 0 'all clean' "race-$r-stress" $G/race "$r" --stress \
		--seconds 2
done

# KSM page migration everywhere (seeds 000 and 002): R4, R8, R9, R12.
race_both R4 'HARM: the kernel died: Oops in stable_tree_append'
race_both R8 'HARM: a live stable node was removed'
# R8.aba (ours): the page back in the same frame; the kernel's recheck
# compares kpfn only.
race_both R8.aba 'HARM: a live stable node was removed'
for r in R8 R8.aba; do
	expect_grep 1 'Oops in get_ksm_page: stable node [0-9]+ removed while its KSM page' \
		"race-$r-broken-debug-vm" $G/race "$r" --broken --debug-vm
done
race_both R9 'HARM: a live stable node was removed'
race_both R12 'HARM: the kernel died: Oops in stable_tree_append'
for r in R4 R8 R8.aba R9 R12; do
	free || later expect_grep 0 'all clean' "race-$r-stress" $G/race "$r" --stress \
		--seconds 2
done

# The barriers (seeds 000 and 002): R10 and R11, under the model of a
# weakly ordered CPU; on x86 (sc) and, for R11, on ARM (weak, which keeps
# address dependencies in order) they cannot happen even with the fix off.
race_both R10 'HARM: a live stable node was removed'
race_both R10.rmb 'HARM: a live stable node was removed'
race_both R11 'HARM: a live stable node was removed'
expect_grep 0 '^R10: clean' race-R10-broken-sc $G/race R10 --broken \
	--model sc
expect_grep 0 '^R11: clean' race-R11-broken-weak $G/race R11 --broken \
	--model weak
later expect_grep 0 'free runs cannot reorder' race-R10-stress-broken $G/race R10 --stress \
	--broken --seconds 1

# Exchange (seed 003): R13 against a lockless page cache lookup and
# another reference taker, each line of the seed on and off; R13.uptodate
# (ours) even with all of them; R14, a KSM page in an exchange, in three
# orders of its stores, each of which goes wrong: KSM pages are refused.
race_both R13 "HARM: read\\(2\\) of the file returned 'a'"
race_both R13.uptodate "HARM: read\\(2\\) of the file returned 'a'"
race_both R13.freeze "HARM: a page's count is not its references: one was lost"
race_both R13.eagain 'HARM: a page was freed while in use'
race_both R13.private "audit: file: pfn [0-9]+ is not a file's page but carries buffer heads"
race_both R13.counters 'audit: file: node 0: NR_FILE_PAGES 1'
race_both R13.writeback 'kernel BUG at .*PageWriteback\(to_page\)'
race_both R14 'HARM: a live stable node was removed'
race_both R14.kpfn 'HARM: a live stable node was removed'
race_both R14.advance 'HARM: the stable tree is out of order'
for r in R13 R13.uptodate R13.freeze R13.eagain R13.writeback R14 R14.kpfn \
	 R14.advance; do
	free || later expect_grep 0 'all clean' "race-$r-stress" $G/race "$r" --stress \
		--seconds 1
done

# ---------------------------------------------------------------------
# The memory model against the Linux kernel memory model (LKMM): litmus
# tests of ours of the shapes of the kernel's own (tests/litmus/lkmm, each
# naming the file of tools/memory-model/litmus-tests it mirrors), the
# shapes the seeds rely on, and Alpha's and sequential consistency's
# verdicts; every verdict as the file's Result: line says, every schedule
# run (with partial-order reduction).  Without the reduction, the same
# verdicts for the two-thread tests (the rest take many seconds without
# it: make bench shows them).
expect_grep 0 '^32 tests on the weak model: 32 of 32 verdicts as their Result: lines say$' \
	litmus-lkmm $G/litmus tests/litmus/lkmm/*.litmus
expect_grep 0 '^7 tests on the weak model: 7 of 7 verdicts as their Result: lines say$' \
	litmus-seeds $G/litmus tests/litmus/seeds/*.litmus
expect_grep 0 '^4 tests on the alpha model: 4 of 4 verdicts as their Result: lines say$' \
	litmus-alpha $G/litmus --model alpha tests/litmus/alpha/*.litmus
expect_grep 0 '^2 tests on the sc model: 2 of 2 verdicts as their Result: lines say$' \
	litmus-sc $G/litmus --model sc tests/litmus/sc/*.litmus
expect_grep 0 '^22 tests on the weak model: 22 of 22 verdicts as their Result: lines say$' \
	litmus-lkmm-unreduced $G/litmus --no-reduction \
	$(ls tests/litmus/lkmm/*.litmus | grep -Ev 'IRIW|ISA2|WRC|Z6')
# What the reader does not read it refuses, naming the construct, and
# nothing runs (exit 2), never a verdict.  The first three mirror the
# three tests of the kernel's directory outside the fragment.
litmus_refuses() {	# litmus_refuses FILE PATTERN
	expect_grep 2 "$2" "litmus-refuses-$1" $G/litmus \
		tests/litmus/lkmm/SB+poonceonces.litmus "tests/litmus/bad/$1.litmus"
}
litmus_refuses MP+polockonce+poacquiresilsil ':31: spin_is_locked\(\) is outside the fragment'
litmus_refuses MP+polockmbonce+poacquiresilsil ':31: spin_is_locked\(\) is outside the fragment'
litmus_refuses dep+plain ':20: a plain C access .* is outside the fragment'
litmus_refuses atomic ":8: the type 'atomic_t' is outside the fragment"
litmus_refuses xchg ':12: xchg\(\) is outside the fragment'
litmus_refuses synchronize_rcu ':11: synchronize_rcu\(\) is outside the fragment'
litmus_refuses loop ":13: 'while' is outside the fragment"
litmus_refuses filter ':23: a filter clause is outside the fragment'
litmus_refuses no-C-line ":1: the first line must be 'C NAME'"
litmus_refuses undeclared ":10: 'r5' is not a declared register"
litmus_refuses not-given ":10: 'y' is not a word this thread was given"
litmus_refuses null-pointer ':17: P0 dereferences r0, which holds 0, not a shared word'

# ---------------------------------------------------------------------
# The explorer: every race under every schedule within the bounds (2
# preemptions, 2 reorderings): clean with its fix on; with it off, a
# counterexample, replayed in full.
for r in R2 R3 R3.life R3.gpuz R4 R5 R5.twice R6 R6.cancel R7 R7.skip R8 \
	 R8.aba R9 R10 R10.rmb R11 R12 R13 R13.uptodate R13.freeze \
	 R13.eagain R13.private R13.counters R13.writeback R14 R14.kpfn \
	 R14.advance; do
	expect_grep 0 "^$r: every schedule clean" "explore-$r-fixed" \
		$G/race "$r" --explore
	expect_grep 1 "^$r: WENT WRONG" "explore-$r-broken" \
		$G/race "$r" --explore --broken
done
# R8.aba's fix is a seqcount: on a weakly ordered CPU its barriers are
# what make the count mean anything (each is a mutant killed here).
later expect_grep 0 '^R8.aba: every schedule clean' explore-R8.aba-weak \
	$G/race R8.aba --explore --model weak
# A counterexample replays from its schedule string in a new process.
explore_replay() {	# explore_replay ID
	selected "explore-$1-replay" || return 0
	export KSM_TEST_CHECK="explore-$1-replay"
	sched=$(timeout 300 $G/race "$1" --broken --explore --quiet \
		2>/dev/null | sed -n 's/.*--replay //p' | head -n 1)
	expect_grep 1 "^$1: WENT WRONG" "explore-$1-replay" \
		$G/race "$1" --broken --replay "${sched:-none}"
	unset KSM_TEST_CHECK
}
for r in R2 R8 R10 R11 R13 R14; do
	explore_replay "$r"
done
# Forked children and in-process snapshots run the very same schedules.
explore_same() {	# explore_same ID ARGS...
	name="explore-$1-fork-same"
	selected "$name" || return 0
	export KSM_TEST_CHECK="$name"
	run "$name-fork" $G/race "$@" --explore --quiet --fork
	run "$name" $G/race "$@" --explore --quiet
	unset KSM_TEST_CHECK
	cat "$logs/$name-fork.log" >>"$logs/$name.log"
	n=$(grep -o 'explored [0-9]* schedules' "$logs/$name.log" | sort -u |
	    wc -l)
	if [ "$n" = 1 ]; then
		record "$name" 1
	else
		record "$name" 0 "the two engines ran different schedules"
	fi
}
explore_same R8
explore_same R10 --broken
# R9's spin under the weak model: a spinner's view catches up in the end.
expect_grep 0 '^R9: every schedule clean' explore-R9-weak $G/race R9 \
	--explore --model weak
expect_grep 1 '^R9: WENT WRONG' explore-R9-weak-without-wmb $G/race R9 \
	--explore --model weak --without wmb
expect_grep 0 'every fix holds in every schedule, and each is needed' \
	explore-all $G/race --explore-all
# The one line of the seeds no schedule needs (see walkthrough.md).
expect_grep 0 '^R10: every schedule clean' explore-R10-without-clear_old_mapping \
	$G/race R10 --explore --without clear_old_mapping --bound 3 --reorder 3

# Every actor at once, free-running, audited at quiescent points.  A free
# run is promised only to stay clean: how soon one goes wrong with a fix
# off is a matter of time, which `make bench` measures (bench migrate).
if ! free; then
	later expect_grep 0 'every audit clean' stress-keyhole $G/stress --seconds 8
	later expect_grep 0 'every audit clean' stress-pinned $G/stress \
		--seconds 3 --era pinned --workers 4
	# ...with sections going offline and online meanwhile.
	later expect_grep 0 'every audit clean' stress-hotplug-hotremove $G/stress \
		--seconds 8 --era hotremove --hotplug --workers 3
	later expect_grep 0 'every audit clean' stress-hotplug-migration $G/stress \
		--seconds 5 --era migration --hotplug --workers 3
	# ...with two migrators (compaction, and migrate-on-fault) as well.
	later expect_grep 0 'every audit clean' stress-migrate $G/stress \
		--seconds 8 --era migration --migrate --hotplug --workers 3 \
		--jitter
	# The short soak: all of them and an exchanger with files of its
	# own (make soak runs it for 10 minutes); no process or file byte
	# lost.
	later expect_grep 0 'every audit clean, every byte as written' soak-short \
		$G/stress --soak --seconds 10 --workers 3 --audit-ms 100
fi

# ksmd at scale (tests/scale.c): every workload of `make bench` at 64 to
# 256 MiB ends with the counters it implies, a clean audit and every byte
# as written (the figures are make bench's); and its cost, counted in
# instructions under callgrind at two sizes, grows no faster than n log n.
later expect_grep 0 "every workload's counters as expected, every audit clean" \
	bench-scale-quick $G/bench scale --quick
# The steady-state table at 64 MiB: seven full scans of distinct pages
# leave every page unshared, the audit clean, every byte as written.
later expect_grep 0 'as expected, audit clean, every byte as written' \
	bench-scan-small env KSM_BENCH_MIB=64 $G/bench scan
if free || [ -n "$given" ]; then
	:	# valgrind, and a build of its own
elif command -v valgrind >/dev/null 2>&1; then
	expect_grep 0 'grows no faster than n log n' growth env B=$G \
		tests/growth.sh
elif selected growth; then
	echo "valgrind is not installed: run 'make test' or .ci/run" \
		>"$logs/growth.log"
	record growth 0 "valgrind missing"
fi

# Fault injection: every allocation site failed at each of its calls in
# turn, then at random from 20 seeds; the auditor stays clean, every byte
# stays as written, and after every exit no frame or swap slot is in use.
expect_grep 0 ' 0 bad$' faults $G/faults

# ---------------------------------------------------------------------
# Bad input: every program, a clear message and exit status 2, never a
# crash.  One line per case: NAME | PROGRAM | ARGUMENTS.
bad_input() {
	while IFS='|' read -r name prog args; do
		case "$name" in ''|'#'*) continue ;; esac
		name=$(echo $name) prog=$(echo $prog)
		eval "set -- $args"
		expect_grep 2 "Try '.*--help' for more information|^usage: " \
			"bad-input-$name" "$prog" "$@"
	done
}
bad_input <<EOF
# the common options, through the merge tour
non-number        | $G/merge_tour | --pages ten
negative          | $G/merge_tour | --pages -3
overflow          | $G/merge_tour | --pages 99999999999999999999999
out-of-range      | $G/merge_tour | --pages 1
unknown-option    | $G/merge_tour | --frobnicate
missing-value     | $G/merge_tour | --pages
unknown-era       | $G/merge_tour | --era jurassic
unknown-fix       | $G/merge_tour | --without nothing
flag-with-value   | $G/merge_tour | --quiet=yes
stray-argument    | $G/merge_tour | extra
page-size         | $G/merge_tour | --page-size 5000
conflicting-eras  | $G/merge_tour | --era pinned --era keyhole
# race
race-no-race                | $G/race |
race-unknown-race           | $G/race | R99
race-two-races              | $G/race | R2 R3
race-seconds-zero           | $G/race | R2 --stress --seconds 0
race-seconds-negative       | $G/race | R2 --stress --seconds -1
race-seconds-overflow       | $G/race | R2 --stress --seconds 99999999999999999999999
race-seconds-missing        | $G/race | R2 --stress --seconds
race-unknown-fix            | $G/race | R2 --without nothing
race-unknown-era            | $G/race | R2 --era jurassic
race-broken-R1              | $G/race | R1 --broken
race-unknown-option         | $G/race | R2 --fast
race-unknown-model          | $G/race | R10 --model arm
race-explore-and-stress     | $G/race | R8 --explore --stress
race-explore-and-replay     | $G/race | R8 --explore --replay 3:1
race-bound-non-number       | $G/race | R8 --explore --bound x
race-bound-too-big          | $G/race | R8 --explore --bound 99
race-replay-junk            | $G/race | R8 --replay twelve
race-replay-not-increasing  | $G/race | R8 --replay 9:1,3:1
race-replay-option-zero     | $G/race | R8 --replay 3:0
race-replay-misfit          | $G/race | R8 --replay 5:200
race-explore-all-with-race  | $G/race | --explore-all R8
race-explore-measurement    | $G/race | R1 --explore
# litmus
litmus-no-test          | $G/litmus |
litmus-no-such-file     | $G/litmus | tests/litmus/none.litmus
litmus-unknown-option   | $G/litmus | --fast tests/litmus/sc/LB+poonceonces.litmus
litmus-unknown-model    | $G/litmus | --model arm tests/litmus/sc/LB+poonceonces.litmus
litmus-max-zero         | $G/litmus | --max-schedules 0 tests/litmus/sc/LB+poonceonces.litmus
litmus-a-directory      | $G/litmus | tests/litmus
# stress
stress-non-number       | $G/stress | --seconds ten
stress-negative         | $G/stress | --pages -1
stress-overflow         | $G/stress | --seconds 99999999999999999999999
stress-workers-too-many | $G/stress | --workers 99
stress-missing-value    | $G/stress | --seconds
stress-unknown-option   | $G/stress | --frob
stress-unknown-era      | $G/stress | --era jurassic
stress-unknown-fix      | $G/stress | --without nothing
stress-audit-ms-junk    | $G/stress | --audit-ms 10x
stress-conflicting-eras | $G/stress | --era pinned --era keyhole
stress-exchange-wrong-era | $G/stress | --exchange --era keyhole
# faults, bench, unit, the tour
faults-non-number       | $G/faults | --seeds many
faults-negative         | $G/faults | --seeds -1
faults-overflow         | $G/faults | --max-nth 99999999999999999999
faults-out-of-range     | $G/faults | --percent 101
faults-missing-value    | $G/faults | --seeds
faults-unknown-option   | $G/faults | --frob
bench-unknown-table     | $G/bench  | nothing
bench-two-tables        | $G/bench  | scan offline
bench-scale-bad-size    | $G/bench  | scale --at 7
bench-scale-bad-max     | $G/bench  | scale --max-mib 99999999999999999999
bench-scale-unknown     | $G/bench  | scale --fast
unit-argument           | $G/unit   | x
tour-unknown-option     | ./examples/tour.sh | --frob
# diagram, and the charts
diagram-none            | $G/diagram |
diagram-unknown         | $G/diagram | nothing
diagram-two             | $G/diagram | trees keyhole
diagram-pinned-migrated | $G/diagram | migrated --era pinned
race-msc-and-svg        | $G/race   | R2 --msc --svg
race-msc-explore        | $G/race   | R2 --explore --msc
race-svg-quiet          | $G/race   | R2 --svg --quiet
race-verdict-stress     | $G/race   | R2 --verdict --stress
race-verdict-R1         | $G/race   | R1 --verdict
race-grade-missing      | $G/race   | --grade /nonexistent/predictions
race-grade-with-race    | $G/race   | R2 --grade /dev/null
EOF
# The book's pictures, drawn from the machine's state: an SVG image each,
# with its structures in words, and the auditor clean after.
for d in keyhole trees migrated; do
	expect_grep 0 '^<desc>The stable tree holds [1-9]' "diagram-$d" \
		$G/diagram "$d"
done
expect_grep 0 'Usage:' help $G/merge_tour --help
# README.md and the programs agree: every program takes --help; those it
# calls the scenario programs take the common options (--era, --quiet),
# and the others refuse them; --quiet prints only the verdict.
readme_options() {
	selected readme-options || return 0
	: >"$logs/readme-options.log"
	ok=1
	scen=$(tr '\n' ' ' <README.md |
	       sed -n 's/.*The scenario programs, \(.*\), also take the common.*/\1/p' |
	       tr -d '`,' | sed 's/ and / /')
	[ -n "$scen" ] || { echo "README.md names no scenario programs" \
		>>"$logs/readme-options.log"; ok=0; }
	for p in race merge_tour stress diagram litmus bench faults unit paths \
		 $(cd tests && ls lines*.c | sed 's/[.]c$//'); do
		if ! $G/$p --help >"$logs/help.out" 2>&1 ||
		   ! grep -qi '^usage:' "$logs/help.out"; then
			echo "$p --help: no usage" >>"$logs/readme-options.log"
			ok=0
		fi
		case " $scen " in
		*" $p "*)
			grep -q -- '--era' "$logs/help.out" || {
				echo "$p: README says it takes --era; its" \
				     "--help does not" >>"$logs/readme-options.log"
				ok=0; } ;;
		*)
			$G/$p --era keyhole >/dev/null 2>&1
			[ $? = 2 ] || {
				echo "$p: README says it does not take --era," \
				     "but it does" >>"$logs/readme-options.log"
				ok=0; } ;;
		esac
	done
	n=$($G/merge_tour --quiet 2>&1 | wc -l)
	[ "$n" = 1 ] || { echo "merge_tour --quiet printed $n lines" \
		>>"$logs/readme-options.log"; ok=0; }
	rm -f "$logs/help.out"
	record readme-options "$ok" "README.md and the programs disagree"
}
readme_options
expect_grep 0 'R3.gpuz' race-list $G/race --list
# Output that tells the truth: a check skipped says so; a race whose own
# line is off in every run says so in its header; a HARM line is whole;
# a move seen by its count, not by kpfn, is named as such (a chart's
# description has each step whole, however wide the timeline).
expect_grep 1 "does not look at pfn 1's mapping \(keyhole_check off\)" \
	race-R2.check-says-skipped $G/race R2.check --broken --svg
expect_grep 1 'off in every run of this race: kpfn_seq' race-R10-header \
	$G/race R10 --broken
expect_grep 1 "HARM: read\(2\) of the file returned .* those of the anonymous page it was exchanged with\$" \
	race-R13-harm-whole $G/race R13 --broken
expect_grep 0 'kpfn is [0-9]+ again, but the count of its moves changed' \
	race-R8.aba-names-count $G/race R8.aba --svg
# A question the explorer cannot answer is not a usage error.
expect_grep 0 '^R2.check: not explored: ' race-explore-not-judged \
	$G/race R2.check --explore

# ---------------------------------------------------------------------
# Output is an interface.  Every race prints the same bytes every run,
# fixed and broken; a run its era cannot hold is a usage error before
# anything runs, and a run it can hold is not (race --list --long says
# which eras each race runs in).
race_stable() {
	selected race-output-stable || return 0
	export KSM_TEST_CHECK=race-output-stable
	: >"$logs/race-output-stable.log"
	ok=1
	for r in $($G/race --list | awk '{ print $1 }'); do
		for b in "" --broken; do
			[ "$r" = R1 ] && [ -n "$b" ] && continue
			# shellcheck disable=SC2086
			timeout 60 $G/race "$r" $b >"$logs/stable.1" 2>&1
			# shellcheck disable=SC2086
			timeout 60 $G/race "$r" $b >"$logs/stable.2" 2>&1
			cmp -s "$logs/stable.1" "$logs/stable.2" && continue
			ok=0
			echo "race $r $b: two runs printed different bytes:" \
				>>"$logs/race-output-stable.log"
			diff "$logs/stable.1" "$logs/stable.2" | head -n 6 \
				>>"$logs/race-output-stable.log"
		done
	done
	rm -f "$logs/stable.1" "$logs/stable.2"
	unset KSM_TEST_CHECK
	record race-output-stable "$ok" "a race's output differs between runs"
}
race_stable
# ...and those bytes are the ones recorded: a change that changes what a
# race prints, fixed or broken, shows in tests/golden/races.txt's diff.
expect_grep 0 'runs print what' race-golden tests/golden.sh $G/race
race_eras() {
	selected race-eras || return 0
	export KSM_TEST_CHECK=race-eras
	: >"$logs/race-eras.log"
	ok=1
	$G/race --list --long | awk -F' [|] ' '/^[|] R/ {
		id = $1; sub(/^[|] /, "", id); print id, $4 }' |
	while read -r r eras; do
		for e in pinned keyhole hotremove migration exchange; do
			if [ "$r" = R1 ]; then
				continue
			fi
			timeout 60 $G/race "$r" --era "$e" --quiet \
				>"$logs/era.out" 2>&1
			rc=$?
			case ", $eras," in
			*", $e,"*) want=not2 ;;
			*) want=2 ;;
			esac
			if [ "$want" = 2 ] && { [ "$rc" != 2 ] ||
			   ! grep -q "needs era" "$logs/era.out"; }; then
				echo "race $r --era $e: exit $rc, not a usage error" \
					>>"$logs/race-eras.log"
			elif [ "$want" = not2 ] && { [ "$rc" = 2 ] ||
			     grep -q 'machine is stuck' "$logs/era.out"; }; then
				echo "race $r --era $e: exit $rc: it should run" \
					>>"$logs/race-eras.log"
			fi
		done
	done
	rm -f "$logs/era.out"
	unset KSM_TEST_CHECK
	[ -s "$logs/race-eras.log" ] && ok=0
	record race-eras "$ok" "a race runs where it cannot, or not where it can"
}
race_eras

# ---------------------------------------------------------------------
# Nothing a user reads sends them outside the repository: no path to the
# project's source documents, no name of a seed's file (the seeds are
# cited by commit id or Message-Id).
expect 1 self-contained grep -rlE --exclude-dir=build --exclude-dir=.git \
	'[.][.][/]shared|[0-9]{3}_[0-9a-f]{16}[.]txt' .

# ---------------------------------------------------------------------
# The course kit.  A run's verdict is one line of JSON; the grader refuses
# a bad file before it runs anything, and grades right, half right and
# wrong as they are; the instructor's key (examples/course/key.txt) is
# what the code does; make course writes the students' edition without
# the answers, and every exercise in the module exactly once.
verdict_r2='{"race":"R2","era":"keyhole","model":"sc","off":["keyhole_recheck"],"debug_vm":false,"outcome":"went-wrong","harm":["corrupt-data","wrong-mapping"],"audit":2}'
race_verdict() {
	selected race-verdict || return 0
	run race-verdict $G/race R2 --broken --verdict
	if [ "$rc" = 1 ] && [ "$(cat "$logs/race-verdict.log")" = "$verdict_r2" ]
	then
		record race-verdict 1
	else
		record race-verdict 0 "not the one line expected (exit $rc)"
	fi
}
race_verdict
expect_grep 0 '^([0-9]+) predictions: \1 right' grade-key \
	$G/race --grade examples/course/key.txt
printf '%s\n' '# one of each' 'R2 --broken => went-wrong wrong-mapping corrupt-data' \
	'R3 --broken => went-wrong stale-node' 'R2.check --broken => clean' \
	'R2 => ?' >"$logs/predictions.txt"
expect_grep 1 '^4 predictions: 1 right, 1 half right \(the outcome only\), 1 wrong, 1 not made$' \
	grade-mixed $G/race --grade "$logs/predictions.txt"
printf '%s\n' 'R2 => clean' 'R2 --brokn => clean' 'R2 => went-wrong frob' \
	>"$logs/predictions-bad.txt"
expect_grep 2 "predictions-bad.txt: 2 bad lines" grade-bad-file \
	$G/race --grade "$logs/predictions-bad.txt"
course_kit() {
	selected course || return 0
	run course env RACE=$G/race examples/course/course.sh \
		"$logs/course"
	c=$logs/course
	why=
	if [ "$rc" != 0 ]; then
		why="course.sh failed (exit $rc)"
	elif grep -q '^### Answer' "$c/exercises.md"; then
		why="the students' edition has answers"
	elif [ "$(grep -c '^### Exercise [0-9]*: ' "$c/exercises.md")" != \
	       "$(grep -c '^### Answer [0-9]*: ' "$c/answers.md")" ]; then
		why="not one answer per exercise"
	elif [ "$(grep -c ' => ?$' "$c/predictions.txt")" != \
	       "$(grep -c ' => ' examples/course/key.txt)" ]; then
		why="the predictions file is not the key's runs"
	else
		for f in exercises answers module card; do
			[ -s "$c/$f.html" ] && grep -q '</html>' "$c/$f.html" ||
				why="no $f.html"
		done
	fi
	if [ -z "$why" ]; then
		record course 1
	else
		record course 0 "$why"
	fi
}
course_kit

# Every race's chart is mscgen's language: each --msc, piped into mscgen.
race_msc() {
	selected race-msc || return 0
	export KSM_TEST_CHECK=race-msc
	: >"$logs/race-msc.log"
	ok=1
	if ! command -v mscgen >/dev/null 2>&1; then
		echo "mscgen is not installed: run 'make test' or .ci/run" \
			>>"$logs/race-msc.log"
		ok=0
	else
		for r in $($G/race --list | awk '{ print $1 }'); do
			$G/race "$r" --broken --msc >"$logs/msc.out" 2>/dev/null
			[ $? = 2 ] && continue		# a measurement: no chart
			if ! mscgen -T svg -i - -o /dev/null <"$logs/msc.out" \
				>>"$logs/race-msc.log" 2>&1 ||
			   ! grep -Eq '^a[0-9]+ box a[0-9]+ .*textbgcolour' \
				"$logs/msc.out"; then
				echo "race $r --broken --msc: not a chart" \
					"mscgen draws, with the step in red" \
					>>"$logs/race-msc.log"
				ok=0
			fi
		done
		rm -f "$logs/msc.out"
	fi
	unset KSM_TEST_CHECK
	record race-msc "$ok" "a chart mscgen cannot draw"
}
race_msc

# ---------------------------------------------------------------------
# Sanitizers: AddressSanitizer with UndefinedBehaviorSanitizer, and
# ThreadSanitizer; zero reports for the fixed design.  Built here, or
# given (KSM_TEST_ASAN, KSM_TEST_TSAN: the kill suite gives its own).
if [ -z "$given" ]; then
	A=build/asan T=build/tsan
	expect 0 build-asan make -s -j2 B=$A CC=clang CFLAGS="$SAN_ASAN"
	expect 0 build-tsan make -s -j2 B=$T CC=clang CFLAGS="$SAN_TSAN"
else
	A=${KSM_TEST_ASAN:-} T=${KSM_TEST_TSAN:-}
fi
if [ -n "$A" ]; then
	expect_grep 0 '^0 failures' asan-unit $A/unit
	for t in tests/lines*.c; do
		t=${t#tests/}
		t=${t%.c}
		expect_grep 0 '^0 failures' "asan-$t" "$A/$t"
	done
	expect_grep 0 '8 of 8 scenarios' asan-merge-tour $A/merge_tour
	expect_grep 0 ' 0 bad$' asan-faults $A/faults
	for r in R2 R2.check R3 R3.life R3.gpuz R4 R5 R5.twice R6 R6.cancel \
		 R7 R7.skip R8 R8.aba R9 R12 R13 R13.uptodate R13.freeze \
		 R13.eagain R13.private R13.counters R13.writeback R14 R14.kpfn \
		 R14.advance; do
		expect_grep 0 "^$r: clean" "asan-race-$r" $A/race "$r"
	done
	# CONFIG_DEBUG_VM's checks on a freed node: the oops, with the
	# node's history read from the quarantine, not a use after free.
	expect_grep 1 'Oops in stable_tree_append: a stable node that is not in' \
		asan-race-R3.life-broken-debug-vm $A/race R3.life --broken \
		--debug-vm
	expect_grep 0 'keyhole frees every page' asan-race-R1 $A/race R1
	# With a barrier off, migration then walks the node ksmd freed:
	# ASan names the use after free that the auditor names elsewhere.
	for r in R10 R10.rmb R11 R14; do
		expect_grep 1 "WENT WRONG|AddressSanitizer: use-after-poison" \
			"asan-race-$r-broken" $A/race "$r" --broken
	done
	# The explorer under ASan: a child per schedule (no snapshots).
	expect_grep 0 '^R8: every schedule clean' asan-explore-R8 \
		$A/race R8 --explore --bound 1
	expect_grep 1 'schedule [0-9]+ went wrong' asan-explore-R10-broken \
		$A/race R10 --explore --broken
	expect_grep 0 '32 of 32 verdicts as their Result: lines say' \
		asan-litmus $A/litmus tests/litmus/lkmm/*.litmus
fi
if [ -n "$T" ]; then
	expect_grep 0 '^0 failures' tsan-unit $T/unit
	for t in tests/lines*.c; do
		t=${t#tests/}
		t=${t%.c}
		expect_grep 0 '^0 failures' "tsan-$t" "$T/$t"
	done
	expect_grep 0 '8 of 8 scenarios' tsan-merge-tour $T/merge_tour
	# Fibers under TSan: the scripted races, one at a time.
	for r in R2 R5 R8 R10; do
		expect_grep 0 "^$r: clean" "tsan-race-$r" $T/race "$r"
	done
fi
if [ -n "$A" ] && [ -n "$T" ] && ! free; then
	later expect_grep 0 'every audit clean' asan-stress $A/stress --seconds 4
	later expect_grep 0 'all clean' tsan-race-R2-stress $T/race R2 --stress \
		--seconds 2
	later expect_grep 0 'every audit clean' tsan-stress $T/stress --seconds 5 \
		--era hotremove --hotplug --workers 3
	later expect_grep 0 'every audit clean' tsan-stress-migrate $T/stress \
		--seconds 5 --era migration --migrate --hotplug --workers 2
	later expect_grep 0 'every audit clean' tsan-stress-exchange $T/stress \
		--seconds 5 --exchange --migrate --workers 2
	later expect_grep 0 'every audit clean' asan-stress-exchange $A/stress \
		--seconds 4 --exchange --migrate --hotplug --workers 2
fi

# ---------------------------------------------------------------------
# The docs, the tour and the book: not when the programs were given (the
# kill suite and the coverage run give them).
if [ -z "$given" ]; then
	# Documentation: Doxygen, every static function, zero warnings.
	if command -v doxygen >/dev/null 2>&1; then
		expect 0 docs make -s docs
		# ...and as a reader finds them: one title, no empty pages,
		# no link that does not land, a chart for every race.
		expect 0 docs-pages tests/docs_check.sh build/docs/html $G/race
	elif selected docs; then
		echo "doxygen is not installed: run 'make test' or .ci/run" \
			>"$logs/docs.log"
		record docs 0 "doxygen missing"
	fi

	# The guided tour, on a terminal (script(1) lends it one), waits for
	# a key between stops with --step: q stops it at the first.
	if command -v script >/dev/null 2>&1; then
		expect_grep 0 'Stopped at stop 1\.' tour-step env B=$G sh -c \
			"printf q | script -qc './examples/tour.sh --step' /dev/null"
	fi

	# Chapter 12's tutorial, done as a reader would: its race built from
	# the template and run (tests/tutorial.sh).
	expect_grep 0 'ok   a misspelt window is a usage error' tutorial \
		tests/tutorial.sh

	# The book still true: its races, snippets, commands, hunks, figures
	# and quotes of the code (tests/book.sh).
	for c in races snippets commands hunks figures quotes; do
		expect 0 "book-$c" env B=$G tests/book.sh "$c"
	done
fi

collect
echo
[ -z "$failed" ] || echo "failed:$failed"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]

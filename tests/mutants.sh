#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# mutants.sh - `make mutants`: every mutant of tests/mutants.txt (one per
# line the seeds add, deleted or its condition made constant, with every
# fix switch on) built and run against the kill suite; the report says
# which check killed each, and lists the survivors.
#
#   tests/mutants.sh [ID...]      all mutants, or only those named
#
# The kill suite is test.sh's behavioural core, fast enough to run once
# per mutant: the unit tests, the fault sweep, the merge tour in every era,
# every race scripted, every race under the explorer (and R9 and R8.aba on
# a weakly ordered CPU), and a short soak.  Exit 0 when no mutant survives.
set -u
cd "$(dirname "$0")/.." || exit 2
M=build/mutants
T=$M/tree
mkdir -p "$T" || exit 2
cc -std=c11 -Wall -Wextra -Werror -O2 tests/mutate.c -o "$M/mutate" || exit 2
for f in ksm_ref.h Makefile examples tests Doxyfile; do
	[ -e "$T/$f" ] || ln -s "../../../$f" "$T/$f"
done

# check NAME STATUS CMD...: prints NAME and how it ended, and fails, if
# CMD does not exit STATUS.  A timeout (status 124) is run once more: on a
# loaded machine it may be slowness, not the mutant.
check() {
	name=$1 want=$2
	shift 2
	timeout 120 "$@" >/dev/null 2>&1
	rc=$?
	if [ "$rc" = 124 ]; then
		timeout 240 "$@" >/dev/null 2>&1
		rc=$?
	fi
	[ "$rc" = "$want" ] && return 0
	case $rc in
	124) echo "$name (timed out twice)" ;;
	*) echo "$name (exit $rc)" ;;
	esac
	return 1
}

# suite BUILD: the name of the first check that fails, or nothing
suite() {
	B=$1
	check unit 0 "$B/unit" || return
	check faults 0 "$B/faults" --seeds 5 || return
	for era in pinned keyhole hotremove migration exchange; do
		check "merge-tour-$era" 0 "$B/merge_tour" --era "$era" --quiet ||
			return
	done
	# Every race but R1, a measurement whose free-running half is timing.
	for r in $("$B/race" --list | awk '$1 != "R1" { print $1 }'); do
		check "race-$r" 0 "$B/race" "$r" --quiet || return
	done
	check explore-all 0 "$B/race" --explore-all || return
	check explore-R9-weak 0 "$B/race" R9 --explore --model weak || return
	check explore-R8.aba-weak 0 "$B/race" R8.aba --explore --model weak ||
		return
	check soak 0 "$B/stress" --soak --seconds 3 --workers 2 || return
}

build() {	# build SOURCE: the tree's binaries from SOURCE as ksm_ref.c
	cp "$1" "$T/ksm_ref.c" && make -s -C "$T" B=build all >/dev/null 2>&1
}

ids=${*:-$("$M/mutate" tests/mutants.txt --ids)}
echo "The unmutated design first: the kill suite must pass."
build ksm_ref.c || { echo "the design does not build"; exit 2; }
first=$(suite "$T/build")
if [ -n "$first" ]; then
	echo "the unmutated design fails $first: fix that first"
	exit 2
fi
total=0 killed=0 survivors=
for id in $ids; do
	total=$((total + 1))
	what=$(sed -n "s/^@ $id //p" tests/mutants.txt)
	if ! "$M/mutate" tests/mutants.txt "$id" ksm_ref.c "$M/$id.c"; then
		echo "$id $what: cannot be applied"
		exit 2
	fi
	if ! build "$M/$id.c"; then
		echo "$id $what: does not build (-Werror): fix the mutant"
		exit 2
	fi
	killer=$(suite "$T/build")
	if [ -n "$killer" ]; then
		killed=$((killed + 1))
		echo "$id $what: killed by $killer"
	else
		survivors="$survivors $id"
		echo "$id $what: SURVIVED"
	fi
done
rm -f "$T/ksm_ref.c"
echo
echo "$total mutants: $killed killed, $((total - killed)) survived${survivors:+:$survivors}"
[ "$killed" = "$total" ]

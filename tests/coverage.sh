#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# coverage.sh - `make coverage`: which lines and branches of ksm_ref.c
# test.sh's deterministic core executes, per Doxygen group.
#
#   tests/coverage.sh            build, run the core, print the table
#   tests/coverage.sh --unrun    ...and every line of the groups of the
#                                mutants (ksm, migrate, hotplug, exchange,
#                                swap, anon, rbtree) never executed
#   tests/coverage.sh --again [--unrun]   the table of the last run again
#
# Builds everything with gcc --coverage at -O0 (so that a line is a line)
# into build/coverage, runs test.sh with KSM_TEST_BUILD and KSM_TEST_CORE
# (the checks whose verdict no schedule of the host decides: the kill
# suite of make mutants-all), and reads gcov's counts.  A line is one gcov
# calls executable; a branch is one of gcov's.  The groups are the
# functions' groups, as tests/mutate.c --groups finds them.  Exits 1 if the
# core fails.
set -u
cd "$(dirname "$0")/.." || exit 2
B=build/coverage
targets="ksm migrate hotplug exchange swap anon rbtree"
for tool in gcc gcov; do
	command -v $tool >/dev/null 2>&1 ||
		{ echo "coverage: $tool is not installed"; exit 2; }
done
again=
if [ "${1:-}" = --again ]; then
	again=1
	shift
fi
unrun=${1:-}
[ -n "$again" ] || make -s B="$B" CC=gcc CFLAGS="-O0 -g --coverage" all ||
	exit 2
cc -std=c11 -Wall -Wextra -Werror -O2 tests/mutate.c -o "$B/mutate" ||
	exit 2
if [ -z "$again" ]; then
	rm -f "$B"/*.gcda
	if ! env KSM_TEST_BUILD="$B" KSM_TEST_CORE=1 KSM_TEST_LOGS="$B/logs" \
		./test.sh >"$B/test.txt" 2>&1; then
		tail -n 5 "$B/test.txt"
		echo "coverage: the core fails: fix that first"
		exit 1
	fi
	gcov -b -o "$B" ksm_ref.c >"$B/gcov.txt" 2>&1 &&
		[ -s ksm_ref.c.gcov ] && mv ksm_ref.c.gcov "$B/" ||
		{ echo "coverage: gcov failed"; exit 2; }
	rm -f ./*.gcov
fi
echo "coverage of test.sh's core: $(tail -n 1 "$B/test.txt")"
"$B/mutate" --groups ksm_ref.c >"$B/functions.txt"

# Per group: lines executed of executable ones, branches taken of all.
awk -v targets="$targets" -v unrun="$unrun" '
FILENAME == ARGV[1] {
	for (l = $2; l <= $3; l++) { grp[l] = $1; fn[l] = $4 }
	next
}
/^ *(-|#####|=====|[0-9]+\*?):/ {
	split($0, f, ":")
	c = f[1]; gsub(/ /, "", c); line = f[2] + 0
	text = $0; sub(/^[^:]*:[^:]*:/, "", text)
	g = (line in grp) ? grp[line] : ""
	cur = line
	if (c == "-" || g == "" || g == "-")
		next
	lines[g]++
	if (c ~ /^[0-9]/)
		ran[g]++
	else
		miss[g] = miss[g] sprintf("    %5d %-28s %s\n", line, fn[line], text)
	next
}
/^branch/ {
	g = (cur in grp) ? grp[cur] : ""
	if (g == "" || g == "-")
		next
	br[g]++
	if ($0 ~ /taken [1-9]/)
		taken[g]++
}
END {
	n = split(targets, t, " ")
	for (i = 1; i <= n; i++)
		target[t[i]] = 1
	printf "  %-10s %14s %8s %16s %8s\n", "group", "lines", "", "branches", ""
	for (g in lines) {
		printf "  %-10s %6d of %5d %7.1f%% %7d of %5d %7.1f%%%s\n", g,
		       ran[g], lines[g], 100 * ran[g] / lines[g], taken[g],
		       br[g], br[g] ? 100 * taken[g] / br[g] : 100,
		       (g in target) ? "  *" : ""
	}
	if (unrun == "--unrun")
		for (i = 1; i <= n; i++)
			if (miss[t[i]] != "")
				printf "\nnever executed, group %s:\n%s", t[i],
				       miss[t[i]] > "/dev/stderr"
}' "$B/functions.txt" "$B/ksm_ref.c.gcov" 2>"$B/unrun.txt" |
	{ read -r head; echo "$head"; sort; }
echo "  (* the groups of make mutants-all)"
if [ "$unrun" = --unrun ]; then
	cat "$B/unrun.txt"
fi

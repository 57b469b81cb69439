#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# growth.sh - ksmd's workloads must cost O(n) (or n log n), never O(n^2):
# counted, not timed, so that a loaded machine cannot change the verdict.
#
#   tests/growth.sh [SMALL [LARGE]]     sizes in MiB, default 8 and 32
#
# Runs `bench scale --at SIZE --no-kernel` (the workloads of tests/scale.c:
# pairs, groups, fork, unmerge, swapout, each followed by the auditor)
# under valgrind's callgrind at two sizes, counting the instructions
# executed inside each entry point the workloads time - ksm_scan_full(),
# ksm_set_run(), sim_process_fork(), sim_reclaim_pfn() - and inside
# audit_machine(), which may walk everything once per audit but never
# once per object.  For each, the ratio of the two counts is printed; with
# 4 times the pages, a linear cost gives about 4, n log n about 4.6, a
# quadratic one 16.  Any ratio above 6 fails: that is the cliff issue 17
# found, where a debug check walked the stable tree on every append.
# Instruction counts are the same whatever else the machine is doing.
set -u
cd "$(dirname "$0")/.." || exit 2
B=${B:-build}
small=${1:-8}
large=${2:-32}
limit=6
funcs="ksm_scan_full ksm_set_run sim_process_fork sim_reclaim_pfn audit_machine"

for tool in valgrind callgrind_annotate; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "growth: $tool is not installed (tests/setup.sh installs it)"
		exit 2
	fi
done
make -s B="$B" "$B/bench" || exit 2
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

toggles=
for f in $funcs; do
	toggles="$toggles --toggle-collect=$f"
done

# count MIB: the inclusive instructions of each function, "NAME COUNT".
count() {
	# shellcheck disable=SC2086
	if ! valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$1" \
		--collect-atstart=no $toggles \
		"$B/bench" scale --at "$1" --no-kernel >"$tmp/out.$1" \
		2>"$tmp/err.$1"; then
		echo "growth: bench scale --at $1 failed under valgrind:"
		tail -n 5 "$tmp/out.$1" "$tmp/err.$1"
		exit 1
	fi
	callgrind_annotate --inclusive=yes --threshold=100 "$tmp/cg.$1" \
		2>/dev/null |
	awk -v funcs="$funcs" '
	BEGIN { n = split(funcs, f, " "); for (i = 1; i <= n; i++) want[f[i]] = 1 }
	/^ *[0-9,]+ .*:[a-z_]+( \[|$)/ {
		name = $0; sub(/ \[.*/, "", name); sub(/.*:/, "", name)
		c = $1; gsub(/,/, "", c)
		if (name in want && !(name in seen)) { seen[name] = 1; print name, c }
	}'
}

count "$small" >"$tmp/small"
count "$large" >"$tmp/large"
echo "instructions executed in each entry point, at $small and $large MiB" \
     "($((large / small))x the pages)"
fail=0
for f in $funcs; do
	a=$(awk -v f="$f" '$1 == f { print $2 }' "$tmp/small")
	b=$(awk -v f="$f" '$1 == f { print $2 }' "$tmp/large")
	if [ -z "$a" ] || [ -z "$b" ] || [ "$a" = 0 ]; then
		printf '  %-18s not counted (never called?)\n' "$f"
		fail=1
		continue
	fi
	verdict=$(awk -v a="$a" -v b="$b" -v l="$limit" -v k="$((large / small))" \
		'BEGIN { r = b / a
			 printf "%6.2f %s", r, (r > l * k / 4) ? "SUPERLINEAR" : "ok" }')
	printf '  %-18s %14s %14s  %s\n' "$f" "$a" "$b" "$verdict"
	case $verdict in *SUPERLINEAR*) fail=1 ;; esac
done
if [ "$fail" = 0 ]; then
	echo "growth: every entry point grows no faster than n log n"
else
	echo "growth: SUPERLINEAR growth (or an entry point not counted)"
fi
exit "$fail"

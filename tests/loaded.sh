#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# loaded.sh - test.sh on a loaded machine: a busy loop pinned to each CPU
# (twice as many runnable threads as CPUs, and more while test.sh runs its
# own), and test.sh run N times back to back (default 5).  Every check of
# test.sh must pass every time: no verdict may depend on how fast the
# machine is.
#
#   tests/loaded.sh [N]
#
# Prints each run's last line and time, and exits 1 if any run failed
# (its whole output is kept in build/loaded/run-K.txt).
set -u
cd "$(dirname "$0")/.." || exit 2
n=${1:-5}
case $n in
''|*[!0-9]*) echo "usage: $0 [RUNS]" >&2; exit 2 ;;
esac
mkdir -p build/loaded
cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
pids=
trap 'kill $pids 2>/dev/null' EXIT INT TERM
c=0
while [ "$c" -lt "$cpus" ]; do
	if command -v taskset >/dev/null 2>&1; then
		taskset -c "$c" sh -c 'while :; do :; done' &
	else
		sh -c 'while :; do :; done' &
	fi
	pids="$pids $!"
	c=$((c + 1))
done
echo "$cpus busy loops, one pinned to each CPU; test.sh $n times"
bad=0
k=1
while [ "$k" -le "$n" ]; do
	t0=$(date +%s)
	./test.sh >"build/loaded/run-$k.txt" 2>&1
	rc=$?
	printf 'run %d: %s (%d s)\n' "$k" "$(tail -n 1 "build/loaded/run-$k.txt")" \
		$(($(date +%s) - t0))
	[ "$rc" = 0 ] || bad=1
	k=$((k + 1))
done
exit $bad

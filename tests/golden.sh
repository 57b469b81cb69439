#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# golden.sh - every race's output, fixed, broken, and broken under
# CONFIG_DEBUG_VM (whose oops prints the node's history), as it is today:
# the story, the timeline and the verdict of each run, at a width of 100
# columns, with its exit status, and the arrows of its chart (--msc).
# Output is an interface: a change to the design that changes what a
# race prints shows here, line by line, for its author to read and then
# record.  (Line numbers of ksm_ref.c in a BUG's message are left out:
# they move with every edit.)
#
#   tests/golden.sh [RACE]            compare with tests/golden/races.txt
#   tests/golden.sh --update [RACE]   record the output as it is now
#
# RACE is the race program (default build/race).  Exits 0 if the output
# is the one recorded, 1 (with the first differences) if not, 2 on bad
# arguments.
set -u
cd "$(dirname "$0")/.." || exit 2
update=
if [ "${1:-}" = --update ]; then
	update=1
	shift
fi
case ${1:-} in
-*) echo "usage: $0 [--update] [RACE]" >&2; exit 2 ;;
esac
race=${1:-build/race}
[ -x "$race" ] || { echo "$0: $race: no such program" >&2; exit 2; }
want=tests/golden/races.txt

outputs() {
	for r in $("$race" --list | awk '{ print $1 }'); do
		for b in "" --broken "--broken --debug-vm"; do
			# R1 is a measurement, with no fix to turn off.
			[ "$r" = R1 ] && [ -n "$b" ] && continue
			echo "=== race $r${b:+ $b}"
			# A BUG's line number says where ksm_ref.c is now,
			# not what the race did: it is left out.
			# shellcheck disable=SC2086
			{ "$race" "$r" $b --width 100 2>&1; echo "=== exit $?"; } |
				sed 's/ksm_ref[.]c:[0-9][0-9]*/ksm_ref.c:LINE/g'
			# The chart's arrows, which the timeline does not
			# draw: what one actor passed to another (a page
			# freed and reused, a lock, a kpfn stored and loaded).
			echo "=== arrows"
			# shellcheck disable=SC2086
			"$race" "$r" $b --msc 2>/dev/null | grep -E '^a[0-9]+ -> a[0-9]+ '
		done
	done
}

if [ -n "$update" ]; then
	outputs >"$want" || exit 2
	echo "recorded $(grep -c '^=== race' "$want") runs in $want"
	exit 0
fi
got=$(mktemp) || exit 2
trap 'rm -f "$got"' EXIT
outputs >"$got"
if cmp -s "$want" "$got"; then
	echo "$(grep -c '^=== race' "$got") runs print what $want records"
	exit 0
fi
echo "the races print what $want does not record (first differences;" \
     "tests/golden.sh --update records them):"
diff "$want" "$got" | head -n 40
exit 1

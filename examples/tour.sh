#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tour.sh - the guided tour (`make tour`): the machine, then every race in
# the order of history, each run with its fix on and then off.
#
#   ./examples/tour.sh [--step]     --step waits for a key between stops
set -u
cd "$(dirname "$0")/.." || exit 2
B=${B:-build}
step=0
case "${1:-}" in
--step) step=1 ;;
"") ;;
*) echo "usage: $0 [--step]" >&2; exit 2 ;;
esac
stop=0
failed=0

say() { printf '%s\n' "$@"; }
# pause: with --step on a terminal, wait for a key (any key: the terminal
# is put out of line mode for the one read, and back as it was).
pause() {
	[ "$step" = 1 ] && [ -t 0 ] || return 0
	printf '    [a key for the next stop, q to stop here] '
	saved=$(stty -g)
	stty -icanon -echo min 1 time 0
	key=$(dd bs=1 count=1 2>/dev/null)
	stty "$saved"
	echo
	if [ "$key" = q ]; then
		say "" "Stopped at stop $stop.  './examples/tour.sh' runs it all."
		exit 0
	fi
}
indent() { sed 's/^/      /'; }

# race ID: narrate a race, run it fixed, then broken; check both verdicts.
race() {
	stop=$((stop + 1))
	say "" "Stop $stop. $("$B/race" "$1" --story | head -1)"
	"$B/race" "$1" --story | tail -n +2 | sed 's/^/    /'
	say "    With the fix on:"
	"$B/race" "$1" --quiet | grep -E '^(  HARM|R[0-9.a-z]+: (clean|WENT))' | indent
	[ "$?" = 0 ] || true
	"$B/race" "$1" --quiet >/dev/null 2>&1 || failed=$((failed + 1))
	say "    With it off ($("$B/race" --list | awk -v r="$1" '$1==r{for (i = 2; i < NF; i++) if ($i == "fix") print $(i + 1)}')):"
	"$B/race" "$1" --broken --quiet 2>&1 |
		grep -E '^(  HARM|R[0-9.a-z]+: (clean|WENT)|kernel BUG)' | indent
	"$B/race" "$1" --broken --quiet >/dev/null 2>&1 && failed=$((failed + 1))
	pause
}

say "ksm_ref: a guided tour of the races of KSM's keyhole reference" \
    "(each stop: the story, the run with the fix on, the run with it off)"

stop=1
say "" "Stop 1. KSM merges identical pages (the kernel selftests' scenarios)."
"$B/merge_tour" --quiet | tail -1 | sed 's/^/    /'
pause

stop=2
say "" "Stop 2. $("$B/race" R1 --story | head -1)"
"$B/race" R1 | sed -n '/KSM frames/,/exiting/p' | sed 's/^/  /'
pause

# Every race with a fix, as race --list gives them: the book's order,
# keyhole (ch. 3), hot-remove (4), migration (5), exchange (7), then the
# barriers that need a weakly ordered CPU (8).  A new race is in the tour
# as soon as it is built.
for r in $("$B/race" --list | awk '$0 !~ / fix - / { print $1 }'); do
	race "$r"
done

stop=$((stop + 1))
say "" "Stop $stop. Every schedule: each race under the explorer, its fix" \
    "on (every schedule up to 2 preemptions must be clean) and off (one" \
    "must go wrong)."
"$B/race" --explore-all | sed -n '/^race /,$p' | indent
"$B/race" --explore-all >/dev/null 2>&1 || failed=$((failed + 1))
pause

say "" "End of the tour: $stop stops, $failed not as the book says." \
    "Read walkthrough.md (or 'make docs') for the why of each line."
[ "$failed" = 0 ]

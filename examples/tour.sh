#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tour.sh - the guided tour (`make tour`): the machine, then every race in
# the order of history, each run with its fix on and then off.
#
#   ./examples/tour.sh [--step]     --step waits for Enter between stops
set -u
cd "$(dirname "$0")/.." || exit 2
B=${B:-build}
step=0
case "${1:-}" in
--step) step=1 ;;
"") ;;
*) echo "usage: $0 [--step]" >&2; exit 2 ;;
esac

say() { printf '%s\n' "$@"; }
pause() {
	[ "$step" = 1 ] && [ -t 0 ] || return 0
	printf '    [Enter for the next stop] '
	read -r _
}

say "ksm_ref: a guided tour" \
    "" \
    "Stop 1. KSM merges identical pages (the kernel selftests' scenarios)."
"$B/merge_tour" --quiet | sed 's/^/    /'
pause
say "" "End of the tour.  Read walkthrough.md (or 'make docs') for the why."

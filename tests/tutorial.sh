#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tutorial.sh - walkthrough.md's chapter 12, "Writing your own race", done
# as a reader would do it, so that the tutorial cannot rot: the race the
# chapter builds (its listing, after the marker "<!-- tutorial: FILE -->")
# and the template it starts from (examples/race_template.c, as a race of
# its own) are put beside the real examples in a tree of their own,
# build/tutorial, and race is built there.  Then:
#
#   - race --list lists both;
#   - the tutorial's race runs clean, and clean under the explorer;
#   - the template's race runs clean;
#   - the tutorial's race with a window misspelt in its script is refused
#     before anything runs (exit 2, naming the step and the window).
#
# Prints "ok" lines, or what failed; exits 1 if anything did.
set -u
cd "$(dirname "$0")/.." || exit 2
T=build/tutorial
rm -rf "$T" && mkdir -p "$T/examples" || exit 2
for f in ksm_ref.c ksm_ref.h Makefile Doxyfile tests; do
	ln -s "../../$f" "$T/$f"
done
for f in examples/*; do
	ln -s "../../../$f" "$T/$f"
done
file=$(sed -n 's/^<!-- tutorial: \(examples\/r[0-9]*_[a-z0-9_]*\.c\) -->$/\1/p' \
	walkthrough.md | head -n 1)
[ -n "$file" ] || { echo "walkthrough.md has no tutorial listing"; exit 1; }
awk -v marker="<!-- tutorial: $file -->" '
	$0 == marker { on = 1; next }
	on && /^```c$/ { body = 1; next }
	on && body && /^```$/ { exit }
	body { print }' walkthrough.md >"$T/$file"
[ -s "$T/$file" ] || { echo "the tutorial listing of $file is empty"; exit 1; }
cp examples/race_template.c "$T/examples/r99_template.c"
id=$(sed -n 's/^[[:space:]]*\.id = "\(R[0-9.a-z]*\)",$/\1/p' "$T/$file")
fail=0
check() {	# check WHAT STATUS PATTERN CMD...
	what=$1 want=$2 pat=$3
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" = "$want" ] && printf '%s\n' "$out" | grep -Eq -- "$pat"
	then
		echo "ok   $what"
	else
		echo "FAIL $what: exit $rc, expected $want and /$pat/"
		printf '%s\n' "$out" | tail -n 8 | sed 's/^/     | /'
		fail=1
	fi
}
if ! make -s -C "$T" B=build build/race >"$T/make.log" 2>&1; then
	echo "FAIL the tutorial's race does not build:"
	tail -n 10 "$T/make.log" | sed 's/^/     | /'
	exit 1
fi
R=$T/build/race
check "race --list lists $id" 0 "^$id " "$R" --list
check "race --list lists the template's R99" 0 "^R99 " "$R" --list
check "$id runs clean" 0 "^$id: clean" "$R" "$id"
check "$id is clean in every schedule" 0 "^$id: every schedule clean" \
	"$R" "$id" --explore
check "the template's R99 runs clean" 0 "^R99: clean" "$R" R99
# A script's window misspelt: refused before anything runs.
sed 's/"stable_tree_search:found"/"stable_tree_search:fonud"/' "$T/$file" \
	>"$T/$file.tmp" && mv "$T/$file.tmp" "$T/$file"
if make -s -C "$T" B=build build/race >"$T/make.log" 2>&1; then
	check "a misspelt window is a usage error" 2 \
		"no race window or pause point is called that" "$R" "$id"
else
	echo "FAIL the misspelt copy does not build"
	fail=1
fi
exit "$fail"

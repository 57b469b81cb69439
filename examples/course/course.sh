#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# course.sh - `make course`: the course kit, in build/course/, each page
# in Markdown and in HTML (examples/course/md2html.awk):
#
#   exercises   the students' edition of examples/exercises.md: every
#               exercise with its level, time and what it teaches, and no
#               answers
#   answers     the instructor's: the answers alone
#   module      a two-week module, a day at a time (module.txt): what to
#               read, the exercises of the lab and of the homework, with
#               their times
#   card        the one-page command card (card.md)
#   charts/     each race's chart with its fix off, an SVG image, which
#               the exercises link to
#   predictions.txt   the students' predictions file: every run of the
#               exercises that race --grade can grade, each predicted '?'
#               (key.txt, the instructor's, is the same with the answers)
#
# The exercises keep what only the instructor's copy says between the
# lines "<!-- instructor -->" and "<!-- /instructor -->", and what only
# the students' says in a comment "<!-- student" ... "-->".
#
#   examples/course/course.sh [OUT]     (default build/course)
set -eu
cd "$(dirname "$0")/../.." || exit 2
out=${1:-build/course}
here=examples/course
ex=examples/exercises.md
race=${RACE:-build/race}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "course: $*" >&2
	exit 1
}

# The book's chapters, for the exercises' @ref: "ch_keyhole chapter 3
# of the book, *The pinned reference and the keyhole (seed 001)*".
sed -n 's/^## \([0-9][0-9]*\)\. \(.*[^ ]\) *{#\([a-z_]*\)}$/\3 chapter \1 of the book, *\2*/p' \
	walkthrough.md >"$tmp/chapters"
[ -s "$tmp/chapters" ] || fail "no chapters in walkthrough.md"

# refs: the @refs of a page resolved, for a reader without Doxygen.
refs() {
	awk -v chapters="$tmp/chapters" -v answers="$1" '
	BEGIN {
		while ((getline l < chapters) > 0) {
			k = l; sub(/ .*/, "", k); sub(/^[^ ]* /, "", l)
			sub(/^chapter [0-9]+ of the book, /, "", l)
			ref[k] = l
		}
		ref["mainpage"] = "walkthrough.md"
		ref["exercises_answers"] = answers
	}
	{
		# A race'"'"'s chart: drawn into charts/, by the caller.
		while (match($0, /@ref race_[A-Za-z0-9_]+ "[^"]*"/)) {
			t = substr($0, RSTART, RLENGTH)
			id = t; sub(/^@ref race_/, "", id); sub(/ .*/, "", id)
			sub(/_/, ".", id)
			txt = t; sub(/^[^"]*"/, "", txt); sub(/"$/, "", txt)
			$0 = substr($0, 1, RSTART - 1) "[" txt "](charts/" id \
			     ".svg)" substr($0, RSTART + RLENGTH)
		}
		while (match($0, /@ref [a-z_0-9]+/)) {
			k = substr($0, RSTART + 5, RLENGTH - 5)
			if (!(k in ref)) {
				print "course: unknown @ref " k > "/dev/stderr"
				exit 1
			}
			$0 = substr($0, 1, RSTART - 1) ref[k] \
			     substr($0, RSTART + RLENGTH)
		}
		print
	}'
}

# plain: headings without their {#anchor}, for a Markdown reader.
plain() {
	sed 's/^\(#.*[^ ]\) *{#[A-Za-z0-9_-]*}$/\1/'
}

# html PAGE TITLE: PAGE.md as PAGE.html.
html() {
	awk -v title="$2" -f "$here/md2html.awk" "$out/$1.md" "$out/$1.md" \
		>"$out/$1.html"
}

# --- The students' edition: no answers, no instructor's notes. --------
grep -q '^## Answers {#exercises_answers}$' "$ex" || fail "no answers section"
awk '
	/^## Answers \{#exercises_answers\}$/ { exit }
	/^<!-- instructor -->$/ { skip = 1; next }
	/^<!-- \/instructor -->$/ { skip = 0; next }
	/^<!-- student$/ { student = 1; next }
	student && /^-->$/ { student = 0; next }
	!skip { print }
' "$ex" | refs "your instructor's answers" >"$tmp/student"
# Every exercise has its tag line, right under its heading.
awk '/^### Exercise [0-9]+: / { h = $0; n++; getline; getline
	if ($0 !~ /^\*Level [123] of 3 · [0-9]+ minutes · Teaches: .+\.\*$/) {
		print "course: no tag line under \"" h "\"" > "/dev/stderr"
		bad = 1
	} }
	END { if (!n) print "course: no exercises" > "/dev/stderr"
	      exit bad || !n }' "$tmp/student"
plain <"$tmp/student" >"$out/exercises.md"
# The [TOC] line stays in the HTML (md2html makes it a list); a Markdown
# reader shows its own outline.
grep -v '^\[TOC\]$' "$out/exercises.md" >"$tmp/md"
html exercises "Exercises"
mv "$tmp/md" "$out/exercises.md"

# Each race's chart the students' edition links to, with its fix off.
mkdir -p "$out/charts"
grep -o '](charts/[^)]*\.svg)' "$out/exercises.md" | sort -u |
	sed 's|^](charts/||; s|\.svg)$||' |
while read -r id; do
	st=0
	"$race" "$id" --broken --svg >"$out/charts/$id.svg" 2>/dev/null || st=$?
	[ "$st" = 1 ] || fail "./build/race $id --broken --svg exited $st"
done

# --- The instructor's answers. ------------------------------------------
{
	echo "# Answers to the exercises"
	echo
	echo "<!-- SPDX-License-Identifier: GPL-2.0 -->"
	echo
	echo "For the instructor: the answers to build/course/exercises.md,"
	echo "numbered as the exercises.  They quote what the programs print."
	echo "examples/course/key.txt gives the predictions in the form"
	echo "\`./build/race --grade\` reads."
	echo
	awk '/^## Answers \{#exercises_answers\}$/ { on = 1; next } on' "$ex"
} | refs "the answers below" | plain >"$out/answers.md"
[ "$(grep -c '^### Answer [0-9]*: ' "$out/answers.md")" = \
  "$(grep -c '^### Exercise [0-9]*: ' "$out/exercises.md")" ] ||
	fail "not an answer for every exercise"
html answers "Answers to the exercises"

# --- The module, from module.txt. ---------------------------------------
# "N|title|level|minutes" for every exercise.
awk '/^### Exercise [0-9]+: / { t = $0; sub(/^### Exercise /, "", t)
	n = t; sub(/:.*/, "", n); sub(/^[0-9]+: /, "", t); getline; getline
	lv = $0; sub(/^\*Level /, "", lv); sub(/ .*/, "", lv)
	m = $0; sub(/^[^·]*· /, "", m); sub(/ .*/, "", m)
	print n "|" t "|" lv "|" m }' "$out/exercises.md" >"$tmp/ex"
awk -F'|' -v exf="$tmp/ex" -v chapters="$tmp/chapters" '
function list(s, what,    a, n, i, k, total) {
	n = split(s, a, " ")
	if (!n)
		return 0
	total = 0
	for (i = 1; i <= n; i++)
		total += mins[a[i]]
	printf "%s, about %d minutes:\n\n", what, total
	for (i = 1; i <= n; i++) {
		k = a[i]
		if (!(k in title)) {
			printf "course: day %s: no exercise %s\n", day, k > "/dev/stderr"
			bad = 1
			continue
		}
		if (seen[k]++) {
			printf "course: exercise %s is given twice\n", k > "/dev/stderr"
			bad = 1
		}
		printf "- Exercise %s: %s (level %s, %s minutes)\n", k,
		       title[k], level[k], mins[k]
	}
	printf "\n"
	return total
}
BEGIN {
	while ((getline l < exf) > 0) {
		split(l, f, "|")
		title[f[1]] = f[2]; level[f[1]] = f[3]; mins[f[1]] = f[4]
		nex++
	}
	while ((getline l < chapters) > 0) {
		k = l; sub(/ .*/, "", k); sub(/^[^ ]* chapter /, "", l)
		n = l; sub(/ .*/, "", n); sub(/^[0-9]+ of the book, /, "", l)
		ch[n] = l
	}
	print "# A two-week module"
	print ""
	print "<!-- SPDX-License-Identifier: GPL-2.0 -->"
	print "<!-- Generated by examples/course/course.sh from module.txt. -->"
	print ""
	print "Ten days of a course on the Linux kernel'"'"'s memory management:"
	print "each day a lecture on a chapter of the book and a lab of about"
	print "an hour and a half, then homework.  Every exercise of"
	print "exercises.md is given once, with the time its tag gives it.  On"
	print "days 5 and 10 the students hand in their predictions file, and"
	print "`./build/race --grade` grades it against real runs."
	print ""
}
/^#/ || NF == 0 { next }
{
	day = $1
	if (day == 1 || day == 6)
		printf "## Week %d\n\n", (day == 1 ? 1 : 2)
	printf "### Day %s: %s\n\n", day, $2
	n = split($3, c, " ")
	printf "Read: "
	for (i = 1; i <= n; i++)
		printf "%schapter %s, %s", (i > 1 ? "; " : ""), c[i], ch[c[i]]
	printf ".\n\n"
	if ($6 != "")
		printf "In class: %s.\n\n", $6
	lab += list($4, "Lab")
	home += list($5, "Homework")
}
END {
	for (k in title)
		if (!seen[k]) {
			printf "course: exercise %s is on no day\n", k > "/dev/stderr"
			bad = 1
		}
	printf "In all: %d exercises, about %d minutes of labs and %d of homework.\n", nex, lab, home
	exit bad
}' "$here/module.txt" >"$out/module.md"
html module "A two-week module"
# The in-class commands of race are real: each must be accepted.
grep -v '^#' "$here/module.txt" | grep -o '`\./build/race [^`]*`' |
	sed 's/^`\.\/build\/race //; s/`$//' | grep '^R' |
while read -r args; do
	# shellcheck disable=SC2086
	"$race" $args --dry-run >/dev/null 2>&1 ||
		fail "module.txt: ./build/race $args is refused"
done

# --- The card, and the predictions file. --------------------------------
# Every run of the exercises that --grade can grade (a scripted run: not
# --explore, --stress or --msc, and not R1, a measurement) is in key.txt.
awk '/^## Answers/ { exit } /^    \.\/build\/race R/' "$ex" |
	sed 's/^    \.\/build\/race //; s/ *#.*//; s/ --quiet//' |
	grep -v -e '--explore' -e '--stress' -e '--msc' -e '^R1$' |
while read -r run; do
	grep -q "^$run => " "$here/key.txt" ||
		fail "key.txt has no prediction for ./build/race $run"
done
plain <"$here/card.md" >"$out/card.md"
html card "ksm_ref: the command card"
sed 's/ => .*/ => ?/' "$here/key.txt" |
	sed '1,/^$/d' >"$tmp/pred"
{
	echo "# Your predictions: replace each '?' by \"clean\", or by"
	echo "# \"went-wrong\" and the kinds of harm you expect (./build/race"
	echo "# --help lists them).  Then: ./build/race --grade predictions.txt"
	echo
	cat "$tmp/pred"
} >"$out/predictions.txt"

echo "make course: $(ls "$out" | wc -l) files in $out:"
(cd "$out" && ls)

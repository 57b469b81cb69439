#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# book.sh - checks that keep the book true: what README.md and
# walkthrough.md say about the code must still be so.
#
#   tests/book.sh               all six checks
#   tests/book.sh CHECK...      only these (races, snippets, commands, hunks,
#                               figures, quotes)
#   tests/book.sh --hunk-list   print tests/seed_hunks.txt, from the seeds
#
# Each check prints one line as test.sh does, "ok   book-CHECK" or
# "FAIL book-CHECK: why", then its notes and every failing item, each on a
# line of its own under it ("     | ...", failures last).  Exits 1 if a
# check failed.  test.sh runs each check as a check of its own, so that
# "./test.sh book" selects them; it passes B=build/gcc, which it has just
# built, and the commands then run ./build/gcc/race for ./build/race.
#
# The checks, and why each:
#
# races     Every race of `race --list` (sub-races such as R2.check
#           included) has a place in the book (walkthrough.md names it in
#           prose, not only in a command) and a test (test.sh runs `race
#           ID`, or else test.sh's explore-all check covers it, which is
#           said); and the book's catalogue, Appendix C, is exactly what
#           `race --list --long` prints, so that it cannot drift from the
#           code.  A race added to the code but not to the book is caught
#           here.  Each race with a chart is linked to it (@ref race_ID)
#           from its chapter and from examples/exercises.md.  (With
#           KSM_REF_RACES=FILE, a Markdown table whose rows start
#           "| R<n> |", its races too must have an example.)
# snippets  Every Doxygen \snippet (or @snippet) in walkthrough.md,
#           ksm_ref.[ch] and examples/*.md names a file found on Doxyfile's
#           EXAMPLE_PATH that holds the block marker [TAG] in a comment
#           exactly twice.  A snippet that lost its marker shows the wrong
#           code, or none, with no warning from Doxygen.
# commands  Every command shown in README.md, walkthrough.md,
#           examples/exercises.md and the course kit's README.md and
#           card.md runs and exits as the text says.  A
#           command is a line of an indented (or fenced) code block that
#           starts with ./build/, ./examples/ or "make ".  It must exit N
#           if its trailing comment says "exit N", else 1 if it has
#           --broken or --without, else 0; and every command in the run
#           column of Appendix A, as "(exits N)" or "(clean)" says.  Long
#           runs are shortened (and
#           the output says so) or not run, each with its reason: see
#           why_not_run() and shorten().
# hunks     walkthrough.md's "Appendix A" has, under a heading naming each
#           of seeds 000, 003 and 004, a table row `-a,b +c,d` | file |
#           ... for every hunk of that seed, and no row for a hunk it does
#           not have: the appendix claims to account for every line.  The
#           seeds lie outside the repository too: tests/seed_hunks.txt
#           keeps their hunks, and is checked against them when they are
#           there.
# figures   Chapter 8's table of `race --explore-all`, and its table of the
#           litmus corpus, quote the counts the programs print now (see
#           book_figures()).
# quotes    Every quote of this program's code in examples/exercises.md
#           (the code span after "In `ksm_ref.c`") is in ksm_ref.c, white
#           space aside, "..." standing for any code between: the
#           exercises show the very line a student switches off.
set -u
cd "$(dirname "$0")/.." || exit 2
B=${B:-build}
# The project's source documents, outside the repository: an extra
# cross-check where the environment names them, nothing else.
RACES=${KSM_REF_RACES:-}
SEEDS=${KSM_REF_SEEDS:-}
HUNKS=tests/seed_hunks.txt
BOOK=walkthrough.md
TIMEOUT=240
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' HUP INT TERM

note() { printf '%s\n' "$*" >>"$tmp/notes"; }
bad() { printf '%s\n' "$*" >>"$tmp/bad"; }

# build: the programs of $B up to date (as `make` builds them), or a bad.
build() {
	make -s B="$B" >"$tmp/make" 2>&1 && return
	bad "make B=$B failed: $(tail -n 1 "$tmp/make")"
	return 1
}

# ---------------------------------------------------------------------
# Markdown, as the book writes it.

# lines FILE: every line as "KIND<TAB>LINE<TAB>text", KIND "code" for a
# line of an indented code block (4 spaces or a tab, after a blank line,
# running on over blank lines) or of a ``` fence, else "prose".
lines() {
	awk '
	/^[ \t]*```/ { fence = !fence; print "code\t" NR "\t" $0; next }
	fence { print "code\t" NR "\t" $0; next }
	/^[ \t]*$/ { blank = 1; print (block ? "code" : "prose") "\t" NR "\t"; next }
	{
		indented = ($0 ~ /^(    |\t)/)
		if (!indented) block = 0
		else if (blank) block = 1
		blank = 0
		print (block ? "code" : "prose") "\t" NR "\t" $0
	}' "$1"
}

# commands FILE: its commands, as "LINE<TAB>command # comment".  Also the
# last column of Appendix A's rows (`| \`-a,b +c,d\` | ... | run |`): each
# backquoted command there, its status from a following "(exits N)", or 0
# for "(clean)", as the appendix writes them.
commands() {
	lines "$1" | awk -F'\t' '$1 == "code" {
		s = $0; sub(/^[^\t]*\t[^\t]*\t[ \t]*/, "", s)
		if (s ~ /^(\.\/build\/|\.\/examples\/|make )/) print $2 "\t" s
	}'
	awk '/^\| `-[0-9]/ {
		n = split($0, col, "|"); run = col[n - 1]
		while (match(run, /`[^`]*`[^`,]*/)) {
			c = substr(run, RSTART, RLENGTH); run = substr(run, RSTART + RLENGTH)
			cmd = c; sub(/^`/, "", cmd); sub(/`.*/, "", cmd)
			if (cmd !~ /^\.\/build\//) continue
			st = ""
			if (c ~ /\(exits [0-9]+\)/) { st = c; sub(/.*\(exits /, "", st); sub(/\).*/, "", st) }
			else if (c ~ /\(clean\)/) st = 0
			print NR "\t" cmd (st != "" ? " # exit " st : "")
		}
	}' "$1"
}

# ---------------------------------------------------------------------
# races

# race_ids: every race id, RACES.md's table first, then race --list's.
race_ids() {
	if [ -f "$RACES" ]; then
		awk -F'|' '/^\| *R[0-9]+ *\|/ { gsub(/ /, "", $2); print $2 }' \
			"$RACES"
	fi
	cat "$tmp/listed"
}

# tested: the race ids test.sh runs, one a line.  A runner is race itself
# or a function of test.sh that runs race "$1" (race_both, ...); a loop
# "for r in ID...; do" counts when its body runs "$r" through a runner.
tested() {
	awk '
	function runs(l, arg,   r) {
		for (r in runner)
			if (l ~ ("(^|[ \t/])" r "[ \t]+" arg))
				return 1
		return 0
	}
	function literal(l,   r, s, m) {
		for (r in runner) {
			s = l
			while (match(s, "(^|[ \t/])" r "[ \t]+\"?R[0-9]+(\\.[a-z]+)?")) {
				m = substr(s, RSTART, RLENGTH)
				s = substr(s, RSTART + RLENGTH)
				match(m, /R[0-9]+(\.[a-z]+)?$/)
				print substr(m, RSTART, RLENGTH)
			}
		}
	}
	BEGIN { runner["race"] = 1 }
	sub(/\\$/, "") { acc = acc $0 " "; next }
	{ l = acc $0; acc = "" }
	l ~ /^[ \t]*#/ { next }
	l ~ /^[a-z_]+\(\)[ \t]*\{/ { fn = l; sub(/\(.*/, "", fn); next }
	fn != "" && l ~ /^\}/ { fn = ""; next }
	fn != "" { if (runs(l, "\"\\$[1@]\"")) runner[fn] = 1; next }
	l ~ /^[ \t]*for [A-Za-z_]+ in .*; *do/ {
		var = l; sub(/^[ \t]*for /, "", var); sub(/ .*/, "", var)
		list = l; sub(/^[ \t]*for [A-Za-z_]+ in /, "", list)
		sub(/;.*/, "", list)
		loop = 1; hit = 0
		next
	}
	loop && l ~ /^[ \t]*done/ {
		n = hit ? split(list, id, /[ \t]+/) : 0
		for (i = 1; i <= n; i++)
			if (id[i] != "")
				print id[i]
		loop = 0
		next
	}
	loop && runs(l, "\"?\\$\\{?" var "\\}?\"?([ \t]|$)") { hit = 1 }
	{ literal(l) }
	' test.sh | sort -u
}

# names IDS: of IDS (one a line), those walkthrough.md never names in
# prose ("ID code" when it does in code blocks only).
names() {
	lines "$BOOK" | awk -F'\t' -v ids="$1" '
	function has(s, id,   re) {
		re = id; gsub(/\./, "\\.", re)
		return s ~ ("(^|[^A-Za-z0-9_.])" re "([^A-Za-z0-9_.]|\\.([^a-z]|$)|$)")
	}
	BEGIN { n = split(ids, id, "\n") }
	{
		s = $0; sub(/^[^\t]*\t[^\t]*\t/, "", s)
		for (i = 1; i <= n; i++) if (has(s, id[i])) seen[id[i], $1] = 1
	}
	END {
		for (i = 1; i <= n; i++)
			if (!((id[i], "prose") in seen))
				print id[i] (((id[i], "code") in seen) ? " code" : "")
	}'
}

# explore_all_ids: the races test.sh's explore-all check runs, if it has
# one (run only when some race has no check of its own).
explore_all_ids() {
	grep -v '^[[:space:]]*#' test.sh | grep -q 'race[[:space:]]*--explore-all' ||
		return 0
	timeout "$TIMEOUT" "$B/race" --explore-all 2>/dev/null |
		awk '/^R[0-9]/ { print $1 }'
}

book_races() {
	build || return
	if ! "$B/race" --list >"$tmp/list" 2>&1; then
		bad "$B/race --list failed: $(tail -n 1 "$tmp/list")"
		return
	fi
	awk '{ print $1 }' "$tmp/list" >"$tmp/listed"
	if [ -f "$RACES" ]; then
		note "$(race_ids | sort -u | wc -l) races: $RACES's table and race --list"
	else
		note "the races of race --list"
	fi
	if ! "$B/race" --list --long >"$tmp/long" 2>&1; then
		bad "$B/race --list --long failed: $(tail -n 1 "$tmp/long")"
	elif ! awk '/^## Appendix C/ { on = 1; next } /^## / { on = 0 }
		    on && /^\|/' "$BOOK" | cmp -s - "$tmp/long"; then
		bad "Appendix C is not what race --list --long prints: paste it again"
	fi
	# Each race with a chart: linked from its chapter and its exercise.
	awk -F' [|] ' '/^[|] R/ { id = $1; sub(/^[|] /, "", id)
		if ($5 != "(a measurement)") print id, $2 }' "$tmp/long" |
	while read -r id ch; do
		ref="@ref race_$(printf %s "$id" | tr . _) "
		awk -v ch="$ch" '/^## [0-9]+\./ { on = ($2 == ch ".") }
			/^## [A-Z]/ { on = 0 } on' "$BOOK" | grep -qF -- "$ref" ||
			bad "$id: chapter $ch does not link to its chart ($ref)"
		grep -qF -- "$ref" examples/exercises.md ||
			bad "$id: no exercise links to its chart ($ref)"
	done
	ids=$(race_ids | awk '!seen[$0]++')
	tested >"$tmp/tested"
	unnamed=$(names "$ids")
	covered=
	for id in $ids; do
		grep -qx -- "$id" "$tmp/listed" ||
			bad "$id: in $RACES, but race --list has no example of it"
		if printf '%s\n' "$unnamed" | grep -qxF -- "$id code"; then
			bad "$id: walkthrough.md names it in code blocks only, in no prose"
		elif printf '%s\n' "$unnamed" | grep -qxF -- "$id"; then
			bad "$id: walkthrough.md never names it"
		fi
		grep -qx -- "$id" "$tmp/tested" && continue
		[ -n "$covered" ] || covered=$(explore_all_ids; echo .)
		if printf '%s\n' "$covered" | grep -qx -- "$id"; then
			note "$id: no check of its own; test.sh's explore-all runs it"
		else
			bad "$id: no check of test.sh runs it"
		fi
	done
}

# ---------------------------------------------------------------------
# snippets

# snippets FILE: its Doxygen snippets, as "LINE<TAB>FILE<TAB>TAG".  One in
# a code span (`\snippet ...`) is prose about the command, not the command.
snippets() {
	awk '{
		s = $0
		while (match(s, /[\\@]snippet(lineno|doc)?(\{[^}]*\})?[ \t]+[^ \t]+[ \t]+[^ \t].*/)) {
			if (RSTART > 1 && substr(s, RSTART - 1, 1) == "`") {
				s = substr(s, RSTART + 1)
				continue
			}
			m = substr(s, RSTART, RLENGTH)
			sub(/^[^ \t]+[ \t]+/, "", m)
			file = m; sub(/[ \t].*/, "", file)
			tag = m; sub(/^[^ \t]+[ \t]+/, "", tag)
			sub(/[ \t]*(\*\/.*)?$/, "", tag)
			print NR "\t" file "\t" tag
			break
		}
	}' "$1"
}

# example_path FILE: FILE as Doxygen finds it on EXAMPLE_PATH, or nothing.
example_path() {
	# shellcheck disable=SC2013 # EXAMPLE_PATH is a list of words
	for d in $(sed -n 's/^EXAMPLE_PATH *= *//p' Doxyfile); do
		[ "$d" = . ] && p=$1 || p=$d/$1
		[ -f "$p" ] && { printf '%s\n' "$p"; return; }
	done
}

# markers FILE TAG: how many lines of FILE carry [TAG] in a comment.
markers() {
	awk -v tag="[$2]" '
	{
		i = index($0, tag)
		if (i == 0) next
		pre = substr($0, 1, i - 1)
		if (pre ~ /(\/\/|\/\*|<!--|#)/ || pre ~ /^[ \t]*\*/) n++
	}
	END { print n + 0 }' "$1"
}

book_snippets() {
	n=0
	for f in "$BOOK" ksm_ref.c ksm_ref.h examples/*.md; do
		[ -f "$f" ] || continue
		snippets "$f" >"$tmp/snips"
		while IFS='	' read -r line file tag; do
			n=$((n + 1))
			where="$f:$line: \\snippet $file $tag"
			path=$(example_path "$file")
			if [ -z "$path" ]; then
				bad "$where: no $file on EXAMPLE_PATH"
				continue
			fi
			tag=${tag#\[} tag=${tag%\]}
			m=$(markers "$path" "$tag")
			[ "$m" = 2 ] ||
				bad "$where: $path has $m comment lines with [$tag], not 2"
		done <"$tmp/snips"
	done
	note "$n snippets"
}

# ---------------------------------------------------------------------
# commands

# why_not_run CMD: why a command of the book is not run here, or nothing.
# "make tour" is run (~10 s, beside the others): no other check runs it.
why_not_run() {
	case "$1" in
	"make test"*|./test.sh*)
		echo "test.sh itself, of which this check is a part" ;;
	"make soak"*) echo "ten minutes; test.sh runs soak-short" ;;
	"make mutants"*) echo "minutes: a build and the kill suite per mutant" ;;
	"make clean"*) echo "would delete the programs the other checks run" ;;
	"make bench"*) echo "every bench table, race R1, explore-all and the" \
			    "litmus corpus with and without its reduction," \
			    "timed: minutes" ;;
	"./build/bench"|"./build/bench -"*)
		echo "every bench table, timed: ~20 s (one table is run)" ;;
	"./build/race R15"*)
		echo "chapter 12's race, which the reader writes: tests/tutorial.sh" \
		     "builds and runs it" ;;
	"./build/bench migrate"*)
		echo "timed: free-running stresses with a fix off, until each" \
		     "goes wrong (up to minutes under load)" ;;
	"./build/race R8.aba --explore --model weak"|"./build/bench scale --quick")
		# A minute's search, and ksmd at scale: test.sh runs each, to
		# the letter, as a check of its own that expects exit 0.
		check=explore-R8.aba-weak
		[ "$1" = "./build/race R8.aba --explore --model weak" ] ||
			check=bench-scale-quick
		grep -Eq "[[:space:]]$check( |\$)" test.sh &&
			echo "test.sh's check $check runs it, to the letter" ;;
	"./build/bench scale"*)
		echo "minutes, up to 4 GiB, and it drives the running kernel's" \
		     "ksmd where it may (test.sh runs --quick)" ;;
	esac
}

# shorten CMD: CMD as run here; a free-running stress of more than 3 s
# (or of its default length) runs 2 s.
shorten() {
	printf '%s\n' "$1" | awk '{
		for (i = 1; i < NF; i++)
			if ($i == "--seconds" && $(i + 1) + 0 > 3) $(i + 1) = 2
		if ($0 !~ /--seconds/ && ($1 ~ /\/stress$/ || / --stress/))
			$0 = $0 " --seconds 2"
		print
	}'
}

# expected CMD COMMENT: the exit status the text promises.
expected() {
	n=$(printf '%s\n' "$2" | sed -n 's/.*exit \([0-9][0-9]*\).*/\1/p')
	if [ -n "$n" ]; then
		echo "$n"
	else
		case "$1" in
		*--broken*|*--without*) echo 1 ;;
		*) echo 0 ;;
		esac
	fi
}

# on_build CMD: CMD with the programs of $B in place of ./build/ ones.
on_build() {
	[ "$B" = build ] && { printf '%s\n' "$1"; return; }
	printf '%s\n' "$1" | sed "s|^\./build/|./$B/|; s|^make |make B=$B |"
}

# key CMD: a file name for CMD's results.
key() { printf '%s' "$1" | cksum | tr ' ' _; }

# plan: every command of the book, "FILE<TAB>LINE<TAB>CMD<TAB>RUN<TAB>WANT"
# in $tmp/plan, RUN what is run for CMD, "-" for nothing (a note says why
# when RUN is not CMD).
plan() {
	: >"$tmp/plan"
	for f in README.md "$BOOK" examples/exercises.md \
		 examples/course/README.md examples/course/card.md; do
		if [ ! -f "$f" ]; then
			note "$f is missing: skipped"
			continue
		fi
		commands "$f" >"$tmp/cmds"
		while IFS='	' read -r line text; do
			cmd=$(printf '%s\n' "$text" | sed 's/[[:space:]]*#.*//')
			comment=$(printf '%s\n' "$text" | sed -n 's/^[^#]*#//p')
			why=$(why_not_run "$cmd")
			run=-
			if [ -n "$why" ]; then
				note "$f:$line: $cmd: not run: $why"
			else
				run=$(shorten "$cmd")
				[ "$run" = "$cmd" ] ||
					note "$f:$line: $cmd: run as $run"
				run=$(on_build "$run")
			fi
			printf '%s\t%s\t%s\t%s\t%s\n' "$f" "$line" "$cmd" "$run" \
				"$(expected "$cmd" "$comment")" >>"$tmp/plan"
		done <"$tmp/cmds"
	done
}

# run_all: each distinct command of the plan run once (README.md and
# walkthrough.md show some alike), three at a time and the long ones
# first, as most of the time goes to stress runs that last their seconds
# whatever the load; its exit status in $tmp/rc.KEY, its output's last
# line in $tmp/last.KEY.
run_all() {
	# shellcheck disable=SC2016 # expanded by the inner sh
	cut -f4 "$tmp/plan" | grep -vx -- - | sort -u |
		awk '{ print (/--seconds|--explore|bench/ ? 0 : 1) "\t" $0 }' |
		sort | cut -f2- | tr '\n' '\0' |
		T=$tmp TIMEOUT=$TIMEOUT xargs -0 -n 1 -P 3 sh -c '
		k=$(printf "%s" "$1" | cksum | tr " " _)
		timeout "$TIMEOUT" sh -c "$1" </dev/null >"$T/out.$k" 2>&1
		echo $? >"$T/rc.$k"
		grep -v "^[[:space:]]*\$" "$T/out.$k" | tail -n 1 >"$T/last.$k"
		' sh
}

book_commands() {
	build || return
	plan
	run_all
	n=0 ran=0
	while IFS='	' read -r f line cmd run want; do
		n=$((n + 1))
		[ "$run" != - ] || continue
		ran=$((ran + 1))
		k=$(key "$run")
		rc=$(cat "$tmp/rc.$k")
		[ "$rc" = "$want" ] && continue
		[ "$rc" = 124 ] && rc="a timeout after $TIMEOUT s"
		bad "$f:$line: $cmd: exit $rc, the text says $want ($(cat "$tmp/last.$k"))"
	done <"$tmp/plan"
	where=
	[ "$B" = build ] || where=", ./$B/ for ./build/"
	note "$n commands, $ran run$where"
}

# ---------------------------------------------------------------------
# hunks

# hunk_list: every hunk of seeds 000, 003 and 004, "SEED FILE -a,b +c,d".
hunk_list() {
	for s in 000 003 004; do
		awk -v seed="$s" '
		/^\+\+\+ / { file = $2; sub(/^b\//, "", file) }
		/^@@ -[0-9,]+ \+[0-9,]+ @@/ { print seed, file, $2, $3 }
		' "$SEEDS/${s}_"*.txt
	done
}

# appendix: Appendix A's table rows, "SEED<TAB>RANGE<TAB>row", SEED the
# seed that the nearest heading above names.
appendix() {
	awk '
	function level(s) { match(s, /^#+/); return RLENGTH }
	/^#+ / && in_a && level($0) <= top { in_a = 0 }
	/^#+ .*Appendix A/ { in_a = 1; top = level($0); seed = ""; next }
	!in_a { next }
	/^#+ / {
		seed = ""
		if (match($0, /(^|[^0-9])00[034]([^0-9]|$)/)) {
			seed = substr($0, RSTART, RLENGTH); gsub(/[^0-9]/, "", seed)
		}
		next
	}
	/^\|/ && seed != "" {
		n = split($0, cell, "|")
		range = cell[2]; gsub(/[` \t]/, "", range)
		sub(/\+/, " +", range)
		if (range ~ /^-[0-9,]+ \+[0-9,]+$/) print seed "\t" range "\t" $0
	}' "$BOOK"
}

book_hunks() {
	if [ -n "$SEEDS" ] && [ -d "$SEEDS" ]; then
		hunk_list >"$tmp/hunks"
		grep -v '^#' "$HUNKS" 2>/dev/null | cmp -s - "$tmp/hunks" ||
			bad "$HUNKS is not the seeds' hunks: tests/book.sh --hunk-list >$HUNKS"
	elif [ -f "$HUNKS" ]; then
		note "the hunks of $HUNKS"
		grep -v '^#' "$HUNKS" >"$tmp/hunks"
	else
		bad "neither $SEEDS nor $HUNKS: no hunks to look for"
		return
	fi
	total=$(wc -l <"$tmp/hunks")
	note "$total hunks in seeds 000, 003 and 004"
	if ! grep -q '^#* .*Appendix A' "$BOOK"; then
		bad "$BOOK has no \"Appendix A\" heading: none of the $total hunks is accounted for"
		return
	fi
	appendix >"$tmp/rows"
	while read -r seed file old new; do
		row=$(awk -F'\t' -v s="$seed" -v r="$old $new" \
			'$1 == s && $2 == r { print $3; exit }' "$tmp/rows")
		if [ -z "$row" ]; then
			bad "seed $seed: $file $old $new has no row"
		else
			case "$row" in
			*"${file##*/}"*) ;;
			*) bad "seed $seed: the row of $old $new does not name ${file##*/}" ;;
			esac
		fi
	done <"$tmp/hunks"
	# ...and no row for a hunk that is not there.
	while IFS='	' read -r seed range row; do
		grep -q "^$seed [^ ]* $range\$" "$tmp/hunks" ||
			bad "seed $seed: row $range is no hunk of the seed"
	done <"$tmp/rows"
}

# ---------------------------------------------------------------------
# figures

# book_figures: chapter 8's table of `race --explore-all` - each row's
# race, era, model, schedules explored clean and the schedule that went
# wrong, and the line of totals - is what the program prints now.  Times
# and rates vary and are not compared; the counts do not, since the
# explorer is deterministic, so a change that moves them shows here.
book_figures() {
	build || return
	if ! timeout "$TIMEOUT" "$B/race" --explore-all >"$tmp/ea" 2>&1; then
		bad "$B/race --explore-all failed: $(tail -n 1 "$tmp/ea")"
		return
	fi
	awk '/^    race +era +model/ { t = 1; next }
	     t && /^    \.\.\./ { t = 2; next }
	     t { sub(/^    /, ""); print; if (t == 2) exit }' "$BOOK" >"$tmp/rows"
	if [ ! -s "$tmp/rows" ]; then
		bad "$BOOK has no table of race --explore-all"
		return
	fi
	n=0
	while read -r id era model count clean rest; do
		case $id in
		R*)
			n=$((n + 1))
			want="$id $era $model $count $clean $(printf '%s\n' "$rest" |
				grep -o 'schedule [0-9]*')"
			got=$(awk -v r="$id" '$1 == r' "$tmp/ea" | { read -r i e m c k x
				echo "$i $e $m $c $k $(printf '%s\n' "$x" |
					grep -o 'schedule [0-9]*')"; })
			[ "$want" = "$got" ] ||
				bad "$BOOK: row '$want', but explore-all prints '$got'"
			;;
		*)
			want="$id $era $model $count"	# "N races, M schedules"
			got=$(grep ' races, ' "$tmp/ea" | awk '{ print $1, $2, $3, $4 }')
			[ "$want" = "$got" ] ||
				bad "$BOOK: totals '$want', but explore-all prints '$got'"
			;;
		esac
	done <"$tmp/rows"
	note "$n rows of race --explore-all and its totals compared"
	book_litmus_figures
}

# book_litmus_figures: chapter 8's table of the litmus corpus - each row's
# test, LKMM's verdict, ours, and the schedules with partial-order
# reduction - is what `litmus --compare` prints now; so are the schedules
# without it, where they are few enough to count here (10000: the rest,
# minutes of searching, are make bench's).  Times are not compared.
book_litmus_figures() {
	timeout "$TIMEOUT" "$B/litmus" --compare --max-schedules 10000 \
		tests/litmus/lkmm/*.litmus >"$tmp/lit" 2>&1 ||
		bad "$B/litmus --compare failed: $(tail -n 1 "$tmp/lit")"
	grep -E '^\| [A-Z][A-Za-z0-9.]*\+[^ ]* \| ' "$BOOK" |
		awk -F'|' '{ gsub(/ /, ""); print $2, $3, $4, $5, $7 }' \
		>"$tmp/litrows"
	if [ ! -s "$tmp/litrows" ]; then
		bad "$BOOK has no table of the litmus corpus"
		return
	fi
	n=0
	while read -r t lkmm ours red unred; do
		n=$((n + 1))
		got=$(awk -v t="$t" '$1 == t { print $1, $2, $3, $4,
			($6 == "(capped)" ? "-" : $5) }' "$tmp/lit")
		[ "${got##* }" = - ] && unred=-
		want="$t $lkmm $ours $red $unred"
		[ "$want" = "$got" ] ||
			bad "$BOOK: litmus row '$want', but litmus prints '$got'"
	done <"$tmp/litrows"
	note "$n rows of the litmus table compared"
}

# ---------------------------------------------------------------------

# check NAME: run book_NAME; print its verdict, its notes, then its failures.
# ---------------------------------------------------------------------
# quotes

book_quotes() {
	awk -v code=ksm_ref.c '
	BEGIN {
		while ((getline l < code) > 0)
			src = src l
		gsub(/[ \t]/, "", src)
	}
	{ t = t $0 " " }
	END {
		key = "In `ksm_ref.c`"
		while ((i = index(t, key)) > 0) {
			t = substr(t, i + length(key))
			a = index(t, "`")
			if (!a)
				break
			t = substr(t, a + 1)
			b = index(t, "`")
			q = substr(t, 1, b - 1)
			t = substr(t, b + 1)
			n++
			rest = src
			s = q
			gsub(/[ \t]/, "", s)
			m = split(s, part, /\.\.\./)
			ok = 1
			for (k = 1; k <= m; k++) {
				if (part[k] == "")
					continue
				j = index(rest, part[k])
				if (!j) {
					ok = 0
					break
				}
				rest = substr(rest, j + length(part[k]))
			}
			if (!ok)
				print "bad\texamples/exercises.md quotes code " \
				      "that ksm_ref.c does not hold: `" q "`"
		}
		print "note\t" n " quotes of ksm_ref.c in examples/exercises.md"
	}' examples/exercises.md | while IFS='	' read -r kind text; do
		if [ "$kind" = bad ]; then
			bad "$text"
		else
			note "$text"
		fi
	done
}

check() {
	: >"$tmp/notes"
	: >"$tmp/bad"
	"book_$1"
	if [ -s "$tmp/bad" ]; then
		failed=$((failed + 1))
		printf 'FAIL book-%s: %s\n' "$1" \
			"not as the book says: $(wc -l <"$tmp/bad" | tr -d ' ')"
	else
		printf 'ok   book-%s\n' "$1"
	fi
	cat "$tmp/notes" "$tmp/bad" | sed 's/^/     | /'
}

case "${1:-}" in
--hunk-list)
	[ -n "$SEEDS" ] && [ -d "$SEEDS" ] ||
		{ echo "$0: set KSM_REF_SEEDS to the seeds' directory" >&2; exit 2; }
	echo "# SPDX-License-Identifier: GPL-2.0"
	echo "# The hunks of seeds 000, 003 and 004 (walkthrough.md: 'The seeds'):"
	echo "# SEED FILE -a,b +c,d, as 'tests/book.sh --hunk-list' reads them."
	hunk_list
	exit
	;;
esac
[ $# -gt 0 ] || set -- races snippets commands hunks figures quotes
for c in "$@"; do
	case $c in
	races|snippets|commands|hunks|figures|quotes) ;;
	*) echo "usage: $0 [races|snippets|commands|hunks|figures|quotes|--hunk-list]..." >&2
	   exit 2 ;;
	esac
done
failed=0
for c in "$@"; do
	check "$c"
done
[ "$failed" = 0 ]

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# mutants_all.sh - `make mutants-all`: every mutant the generator finds in
# the groups ksm, migrate, hotplug, exchange, swap, anon and rbtree of
# ksm_ref.c (tests/mutate.c --generate: each if and while condition
# negated and made constant, each call or assignment deleted, each
# relational boundary shifted, each ++ and -- turned round, each return of
# an error made a success), run against the kill suite.
#
#   tests/mutants_all.sh [-j JOBS] [ID...]   all mutants, or only these
#   tests/mutants_all.sh --quick [-j JOBS] [ID...]   the quick and cheap checks
#   tests/mutants_all.sh --report            the report of what has run
#
# A mutant meets the checks in three passes: the quick ones (the unit
# tests, the rarer paths, the fault sweep, the merge tour, each race
# scripted, and every race's output against its record), which kill most
# mutants within seconds; then every other
# check that took under two seconds in the unmutated run; then the rest
# (the long searches, the sanitizers' runs).  --quick is a first pass
# with the first two: a mutant they do not kill is "unresolved" until a
# full run gives it every check.  A full run after it costs only the
# survivors of the first.
#
# The kill suite is test.sh itself, with KSM_TEST_CORE (its deterministic
# checks of behaviour, the sanitizer builds' among them) and KSM_TEST_FIRST
# (the first failure names the killer): so it is as strong as test.sh, but
# for the free runs, whose verdict the host's schedule decides.  All the
# mutants are compiled into one source, a mutant schema, built once with
# gcc and under ASan and TSan; KSM_REF_MUTANT=ID switches one on.  Each
# mutant is also applied alone and built under -Werror (-Og where deleting
# a line or fixing a condition could leave a variable unset or a function
# without a return, -fsyntax-only otherwise): one that does not build is
# counted apart.  Each check gets five times its time in the unmutated run,
# plus ten seconds: a mutant that loops forever is killed by the limit.
# The unmutated run also records which mutants' lines each check reaches
# (KSM_REF_MUTANT_REACH): a mutant meets only the checks that reach its
# line, since no other can tell it apart, and a mutant no check reaches
# survives, "never executed".
#
# The suite runs in the tree, on its own copy of test.sh, so that the
# working copy may change while the mutants run.  Resumable: results are
# kept in build/mutants-all/results, one file per mutant, named by the
# mutant's name (function, kind, the text it changes), which does not
# change when other code moves; a run skips those it has,
# but runs a survivor again when the suite (test.sh, tests/, examples/)
# has changed since: a new test may kill it.  `make mutants-all-clean`
# forgets every result, for a run from scratch.  Equivalent mutants
# are the rows of walkthrough.md's Appendix B, by name (the first column,
# "function kind `code`"), each with the argument why no behaviour can
# tell it apart.  The report, in
# build/mutants-all/report.txt, gives each mutant's fate.
set -u
cd "$(dirname "$0")/.." || exit 2
M=build/mutants-all
R=$M/results
A=$(pwd)/$M		# absolute: the suite runs in the tree
SAN_ASAN="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
SAN_TSAN="-O1 -g -fsanitize=thread"
WARN="-std=c11 -Wall -Wextra -Werror"

# key ID: the file of mutant ID's result (named by its name).
key() {
	awk -F'\t' -v id="$1" '$1 == id { print $6 }' "$M/list.txt" | cksum |
		awk -v r="$R" '{ print r "/" $1 "-" $2 }'
}

# suite: a digest of the kill suite (everything that tests, not ksm_ref.c).
suite() {
	cat test.sh tests/*.c tests/*.h examples/*.c examples/*.h \
		examples/*.sh 2>/dev/null | cksum | cut -d' ' -f1
}

# done ID: has mutant ID a result that still holds?  (After --quick, an
# unresolved one is done only for another --quick run.)
done_already() {
	f=$(key "$1")
	[ -e "$f" ] || return 1
	case $(cut -f2 "$f") in
	survived) [ "$(cut -f4 "$f")" = "$digest" ] ;;
	unresolved) [ -n "$quick_only" ] && [ "$(cut -f4 "$f")" = "$digest" ] ;;
	*) return 0 ;;
	esac
}

# quick: the checks that kill most mutants within seconds, run first.
quick='^(unit|paths|lines.*|faults|merge-tour-.*|race-golden|race-R[0-9.a-z]*-(fixed|broken)(-debug-vm)?)$'

# reaching ID: the checks that reach mutant ID's line, in the suite's
# order, one a line.
reaching() {
	awk -v id="$1" '$1 == id { print $2 }' "$M/reach.txt"
}

# alternation NAME...: a grep -E pattern matching exactly these checks.
alternation() {
	printf '%s\n' "$@" | sed 's/[.+]/\\&/g' | paste -sd'|' |
		sed 's/^/^(/; s/$/)$/'
}

# one ID: build mutant ID alone, then run the suite on the schema.
one() {
	id=$1
	f=$(key "$id")
	line=$(awk -F'\t' -v id="$id" '$1 == id' "$M/list.txt")
	kind=$(printf '%s\n' "$line" | cut -f2)
	src=$M/one/$id.c
	mkdir -p "$M/one" "$M/logs"
	"$M/mutate" --one "$M/source.c" "$id" "$src" || return 2
	case $kind in
	delete|cond-true|cond-false) how="-Og -c -o /dev/null" ;;
	*) how="-fsyntax-only" ;;
	esac
	# shellcheck disable=SC2086
	if ! gcc $WARN $how -I. "$src" >"$M/one/$id.err" 2>&1; then
		why=$(grep -m1 -E 'error' "$M/one/$id.err" | sed 's/^[^:]*:[0-9]*:[0-9]*: //')
		printf '%s\tunbuildable\t%s\t%s\n' "$id" "$why" "$digest" >"$f"
		rm -f "$src"
		return 0
	fi
	rm -f "$src" "$M/one/$id.err"
	checks=$(reaching "$id")
	if [ -z "$checks" ]; then
		printf '%s\tsurvived\tnever executed\t%s\n' "$id" "$digest" >"$f"
		return 0
	fi
	# The quick checks first, then the others that took under two
	# seconds unmutated, then the rest of those that reach it: most
	# mutants die in the first, and a survivor pays for the long
	# searches and the sanitizers' runs only once nothing quicker
	# killed it.
	out="0 passed, 0 failed"
	passes="quick cheap dear"
	[ -z "$quick_only" ] || passes="quick cheap"
	dear=$(awk '$2 >= 2000 { print $1 }' "$M/times")
	# shellcheck disable=SC2086
	dear=$(alternation $dear)
	for pass in $passes; do
		case $pass in
		quick)
			# shellcheck disable=SC2046,SC2086
			set -- $(printf '%s\n' $checks | grep -E "$quick") ;;
		cheap)
			# shellcheck disable=SC2046,SC2086
			set -- $(printf '%s\n' $checks | grep -Ev "$quick" |
				grep -Ev "$dear") ;;
		dear)
			# shellcheck disable=SC2046,SC2086
			set -- $(printf '%s\n' $checks | grep -Ev "$quick" |
				grep -E "$dear") ;;
		esac
		[ $# = 0 ] && continue
		pat=$(alternation "$@")
		out=$(cd "$M/tree" && env KSM_REF_MUTANT="$id" \
			KSM_TEST_BUILD="$A/tree/gcc" \
			KSM_TEST_ASAN="$A/tree/asan" \
			KSM_TEST_TSAN="$A/tree/tsan" \
			KSM_TEST_CORE=1 KSM_TEST_FIRST=1 \
			KSM_TEST_LOGS="$A/logs/$id" \
			KSM_TEST_TIMEOUTS="$A/timeouts" ./test.sh "$pat" 2>&1 |
			tail -n 1)
		case $out in
		*"killed by "*) break ;;
		esac
	done
	case $out in
	*"killed by "*)		# (after a log's last line, if it had no newline)
		printf '%s\tkilled\t%s\t%s\n' "$id" "${out##*killed by }" \
			"$digest" >"$f"
		rm -rf "$M/logs/$id" ;;
	*" 0 failed")
		if [ -n "$quick_only" ]; then
			printf '%s\tunresolved\tthe quick and the cheap checks\t%s\n' "$id" \
				"$digest" >"$f"
		else
			printf '%s\tsurvived\t\t%s\n' "$id" "$digest" >"$f"
		fi ;;
	*)
		printf '%s\terror\t%s\t%s\n' "$id" "$out" "$digest" >"$f" ;;
	esac
}

# equivalents: the names of Appendix B's rows, one a line.
equivalents() {
	awk '/^## Appendix B/ { on = 1; next } /^## / { on = 0 }
	     on && /^\| [a-z_][a-z_0-9]* (cond-|delete|boundary|incdec|return-ok)/ {
		s = $0; sub(/^\| /, "", s); sub(/ \| .*/, "", s)
		gsub(/\\\|/, "|", s)		# a table cell writes | as \|
		print s }' walkthrough.md
}

report() {
	equivalents >"$M/equivalent.txt"
	for id in $(cut -f1 "$M/list.txt"); do
		f=$(key "$id")
		if [ -e "$f" ]; then
			printf '%s\t' "$id"
			cut -f2,3 "$f"
		fi
	done >"$M/results.txt"
	awk -F'\t' -v eqf="$M/equivalent.txt" '
	BEGIN { while ((getline l < eqf) > 0) eq[l] = 1 }
	FILENAME == ARGV[1] { st[$1] = $2; why[$1] = $3; next }
	{
		id = $1; name[id] = $6; grp[id] = $3; kind[id] = $2; n++
	}
	END {
		for (id = 0; id < n; id++) {
			s = st[id]
			if (s == "") s = "not run"
			if (s == "survived" && (name[id] in eq)) s = "equivalent"
			if (s == "unresolved" && (name[id] in eq)) s = "unresolved, listed as equivalent"
			if (s == "killed" && (name[id] in eq)) s = "killed (but listed as equivalent)"
			count[s]++
			g = grp[id]; total[g]++
			if (s == "killed") { killed[g]++; by[why[id]]++ }
			if (s == "survived" || s == "equivalent" || s ~ /listed/ || s == "error" || s == "not run" || s ~ /^unresolved/)
				printf "%-10s %5d %-8s %-12s %s%s\n", s, id, g, kind[id], name[id], why[id] != "" ? " (" why[id] ")" : "" > "/dev/stderr"
		}
		for (s in count) printf "%s %d\n", s, count[s]
		for (g in total) printf "group %s %d %d\n", g, total[g], killed[g]
		for (k in by) printf "by %d %s\n", by[k], k
	}' "$M/results.txt" "$M/list.txt" 2>"$M/report.list" >"$M/report.counts"
	gen=$(wc -l <"$M/list.txt")
	get() { awk -v k="$1" '$1 == k && NF == 2 { print $2 }' "$M/report.counts"; }
	unb=$(get unbuildable) kil=$(get killed) sur=$(get survived) eqv=$(get equivalent)
	unb=${unb:-0} kil=${kil:-0} sur=${sur:-0} eqv=${eqv:-0}
	rest=$((gen - unb - eqv))
	{
		echo "make mutants-all: $gen mutants generated"
		echo "  $unb do not build under -Werror (counted apart)"
		echo "  $eqv equivalent (walkthrough.md, Appendix B)"
		echo "  $kil killed, $sur survived, of the $rest others" \
		     "($(awk -v k="$kil" -v r="$rest" 'BEGIN { if (r) printf "%.1f", 100 * k / r; else print 0 }')% killed)"
		awk '$1 != "group" && $1 != "by" &&
		     !(NF == 2 && $1 ~ /^(unbuildable|killed|survived|equivalent)$/) {
			n = $NF; $NF = ""; sub(/ $/, "")
			print "  and: " n " " $0 }' "$M/report.counts" | sort
		echo
		echo "per group (generated, killed):"
		awk '$1 == "group" { printf "  %-9s %5d %5d\n", $2, $3, $4 }' "$M/report.counts" | sort
		echo
		echo "killed by (the first check that failed):"
		awk '$1 == "by" { $1 = ""; print }' "$M/report.counts" | sort -rn | sed 's/^ */  /'
		echo
		echo "survivors, and the rest:"
		sort "$M/report.list" | sed 's/^/  /'
	} >"$M/report.txt"
	sed -n '1,/^$/p' "$M/report.txt"
	echo "(the whole report: $M/report.txt)"
	[ "$sur" = 0 ]
}

# The rest is one compound command, read whole before it runs: the
# script may be edited while a run of hours goes on.
{
# The suite's digest when the run began, which its programs were built
# from: a mutant's result is recorded with it, not with the working
# copy's as it is when that mutant ends.
digest=${KSM_MUTANTS_DIGEST:-$(suite)}
export KSM_MUTANTS_DIGEST="$digest"
quick_only=${KSM_MUTANTS_QUICK:-}
case ${1:-} in
--quick)
	export KSM_MUTANTS_QUICK=1
	quick_only=1
	shift ;;
--one)
	one "$2"
	exit ;;
--report)
	report
	exit ;;
esac

jobs=2
if [ "${1:-}" = -j ]; then
	jobs=$2
	shift 2
fi
mkdir -p "$R" "$M/tree" || exit 2
cc $WARN -O2 tests/mutate.c -o "$M/mutate" || exit 2
# The source as it is now: the mutants' numbers are this source's.
cp ksm_ref.c "$M/source.c" || exit 2

"$M/mutate" --generate "$M/source.c" "$M/schema.c" "$M/list.txt" || exit 2

# The schema builds: gcc, and the two sanitizers (warnings off: a schema
# is not a mutant; each mutant's build is checked on its own).
for f in ksm_ref.h Makefile examples tests Doxyfile README.md walkthrough.md; do
	[ -e "$M/tree/$f" ] || ln -s "../../../$f" "$M/tree/$f"
done
cmp -s "$M/schema.c" "$M/tree/ksm_ref.c" ||
	cp "$M/schema.c" "$M/tree/ksm_ref.c"
# test.sh as it is now, beside the programs it is built with: the tree's
# test.sh does not change while the mutants run, whatever else does.
cp test.sh "$M/tree/test.sh" || exit 2
echo "building the schema (gcc, ASan, TSan)"
make -s -C "$M/tree" B=gcc CC=gcc WARN="-std=c11 -w" all >/dev/null &&
make -s -C "$M/tree" B=asan CC=clang CFLAGS="$SAN_ASAN" \
	WARN="-std=c11 -w" all >/dev/null &&
make -s -C "$M/tree" B=tsan CC=clang CFLAGS="$SAN_TSAN" \
	WARN="-std=c11 -w" all >/dev/null || { echo "the schema does not build"; exit 2; }

# The unmutated run: the suite must pass, its times set the limits, and
# it says which checks reach which mutants' lines (measured again when
# the schema or the suite changes).
stamp="$(cksum <"$M/schema.c") $digest"
if [ ! -s "$M/timeouts" ] || [ "$(cat "$M/stamp" 2>/dev/null)" != "$stamp" ]
then
	echo "the suite on the unmutated schema"
	rm -rf "$M/times" "$M/reach"
	mkdir -p "$M/reach"
	if ! (cd "$M/tree" && env KSM_TEST_BUILD="$A/tree/gcc" \
		KSM_REF_MUTANT_REACH="$A/reach" \
		KSM_TEST_ASAN="$A/tree/asan" KSM_TEST_TSAN="$A/tree/tsan" \
		KSM_TEST_CORE=1 KSM_TEST_LOGS="$A/logs/none" \
		KSM_TEST_TIMES="$A/times" ./test.sh) >"$M/baseline.txt" 2>&1
	then
		tail -n 5 "$M/baseline.txt"
		echo "the unmutated schema fails the suite: fix that first"
		exit 2
	fi
	awk '{ printf "%s %d\n", $1, $2 * 5 / 1000 + 10 }' "$M/times" \
		>"$M/timeouts"
	# "ID CHECK" for each check that reaches mutant ID's line, the
	# checks in the suite's order.
	awk '$1 == "ok" { print $2 }' "$M/baseline.txt" | while read -r c; do
		[ -e "$M/reach/$c" ] && sort -un "$M/reach/$c" | sed "s/\$/ $c/"
	done >"$M/reach.txt"
	echo "$stamp" >"$M/stamp"
fi

ids=${*:-$(cut -f1 "$M/list.txt")}
todo=$(for id in $ids; do done_already "$id" || echo "$id"; done)
echo "$(echo "$ids" | wc -w) mutants, $(echo "$todo" | grep -c .) to run," \
     "$jobs at a time"
[ -z "$todo" ] || echo "$todo" | xargs -P "$jobs" -n 1 "$0" --one
report
exit
}

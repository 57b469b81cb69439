#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# docs_check.sh - what `make docs` built, looked at as a reader would:
#
#   - the main page's title says ksm_ref once ("ksm_ref: The book ...");
#   - no page for a directory of ours that holds no source (build, docs);
#   - every link between the pages lands: the file exists, and so does
#     the anchor it names;
#   - the page of the races has a chart for every race with a timeline,
#     each an SVG image with a title and its steps in words (<desc>);
#   - the book shows every picture it includes, with its description.
#
#   tests/docs_check.sh [HTML-DIR] [RACE]   (default build/docs/html,
#                                            build/race)
set -u
html=${1:-build/docs/html}
race=${2:-build/race}
bad=0
fail() {
	echo "docs: $*"
	bad=1
}

[ -f "$html/index.html" ] || { echo "docs: no $html/index.html"; exit 1; }
title=$(grep -o '<title>[^<]*</title>' "$html/index.html")
case $title in
*"ksm_ref: ksm_ref"*) fail "the main page's title says ksm_ref twice: $title" ;;
esac
for f in "$html"/dir_*.html; do
	[ -e "$f" ] || continue
	t=$(grep -o '<title>[^<]*</title>' "$f")
	case $t in
	*": build "*|*": build/"*|*": docs "*)
		fail "a page for a directory without source: $t" ;;
	esac
done

# Links: "FILE ANCHOR" for every href to a page of ours, against "FILE
# ID" for every id and name the pages define.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in "$html"/*.html; do
	b=${f##*/}
	grep -o ' \(id\|name\)="[^"]*"' "$f" |
		sed "s/^ [a-z]*=\"\\(.*\\)\"\$/$b \\1/"
done | sort -u >"$tmp/ids"
for f in "$html"/*.html; do
	b=${f##*/}
	grep -o 'href="[^":]*"' "$f" | sed 's/^href="//; s/"$//' |
		awk -v b="$b" '{
			file = $0; anchor = ""
			if (index($0, "#")) {
				file = substr($0, 1, index($0, "#") - 1)
				anchor = substr($0, index($0, "#") + 1)
			}
			if (file == "") file = b
			print b, file, anchor
		}'
done | sort -u >"$tmp/links"
awk -v dir="$html" -v ids="$tmp/ids" '
	BEGIN { while ((getline l < ids) > 0) have[l] = 1 }
	$2 !~ /\.html$/ { next }	# images, scripts, style sheets
	{
		if (!(($2) in seen)) {
			seen[$2] = 1
			exists[$2] = ((getline l < (dir "/" $2)) > 0)
			close(dir "/" $2)
		}
		if (!exists[$2])
			print "docs: " $1 " links to " $2 ", which is not there"
		else if ($3 != "" && !(($2 " " $3) in have))
			print "docs: " $1 " links to " $2 "#" $3 \
			      ", an anchor that is not there"
	}' "$tmp/links" >"$tmp/broken"
if [ -s "$tmp/broken" ]; then
	cat "$tmp/broken"
	bad=1
fi

# The book's pictures (examples/diagram.c): each \htmlinclude of
# walkthrough.md drawn in its page, with a description.
want=$(grep -c '^\\htmlinclude' walkthrough.md)
got=$(grep -c '^<desc>' "$html/index.html")
[ "$want" = "$got" ] ||
	fail "the book includes $want pictures, but its page shows $got"

# The charts.
charts=$(grep -c '<svg ' "$html/races_run.html")
want=0
for id in $("$race" --list | awk '{ print $1 }'); do
	"$race" "$id" --svg >/dev/null 2>&1
	[ $? = 2 ] || want=$((want + 1))
done
[ "$charts" = "$want" ] ||
	fail "races_run.html has $charts charts, not one for each of $want races"
[ "$(grep -c '^<title>' "$html/races_run.html")" -ge "$charts" ] &&
[ "$(grep -c '^<desc>' "$html/races_run.html")" = "$charts" ] ||
	fail "a chart without its title or description"
exit $bad

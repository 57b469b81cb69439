# SPDX-License-Identifier: GPL-2.0
#
# md2html.awk - the Markdown of our own pages as one HTML page, for the
# course kit (make course): no tool beyond awk.  It knows what our pages
# use and no more: headings (#, ##, ###, with an {#anchor}), paragraphs,
# indented and fenced code blocks, lists (-, *, 1.), tables, `code`,
# **bold**, *emphasis*, [links](url), a [TOC] line (the ## and ###
# headings), and HTML comments (dropped).  Anything else is text.
#
#   awk -v title="Exercises" -f md2html.awk page.md page.md >page.html
#
# The page is read twice: the first pass collects the headings for [TOC].

function esc(s) {
	gsub(/&/, "\\&amp;", s)
	gsub(/</, "\\&lt;", s)
	gsub(/>/, "\\&gt;", s)
	return s
}

# Inline markup: code spans first (their text is literal), then the rest.
function inline(s,    out, i, j, code, t) {
	out = ""
	while ((i = index(s, "`")) > 0) {
		j = index(substr(s, i + 1), "`")
		if (j == 0)
			break
		out = out markup(substr(s, 1, i - 1))
		code = substr(s, i + 1, j - 1)
		out = out "<code>" esc(code) "</code>"
		s = substr(s, i + j + 1)
	}
	return out markup(s)
}

function markup(s,    t, pre, txt, url) {
	s = esc(s)
	while (match(s, /\*\*[^*]+\*\*/))
		s = substr(s, 1, RSTART - 1) "<strong>" \
		    substr(s, RSTART + 2, RLENGTH - 4) "</strong>" \
		    substr(s, RSTART + RLENGTH)
	while (match(s, /\*[^* ][^*]*\*/))
		s = substr(s, 1, RSTART - 1) "<em>" \
		    substr(s, RSTART + 1, RLENGTH - 2) "</em>" \
		    substr(s, RSTART + RLENGTH)
	while (match(s, /\[[^]]+\]\([^) ]+\)/)) {
		t = substr(s, RSTART, RLENGTH)
		txt = substr(t, 2, index(t, "](") - 2)
		url = substr(t, index(t, "](") + 2)
		url = substr(url, 1, length(url) - 1)
		s = substr(s, 1, RSTART - 1) "<a href=\"" url "\">" txt "</a>" \
		    substr(s, RSTART + RLENGTH)
	}
	return s
}

# A heading's anchor: its {#id}, or its words.
function anchor(text,    a) {
	if (match(text, /\{#[A-Za-z0-9_-]+\}[ \t]*$/)) {
		a = substr(text, RSTART + 2, RLENGTH - 3)
		sub(/\}[ \t]*$/, "", a)
		return a
	}
	a = tolower(text)
	gsub(/[^a-z0-9]+/, "-", a)
	gsub(/^-|-$/, "", a)
	return a
}

function heading_text(text) {
	sub(/[ \t]*\{#[A-Za-z0-9_-]+\}[ \t]*$/, "", text)
	return text
}

function close_para() {
	if (para != "") {
		print "<p>" inline(para) "</p>"
		para = ""
	}
}

function close_list() {
	if (item != "") {
		print "<li>" inline(item) "</li>"
		item = ""
	}
	if (list != "") {
		print "</" list ">"
		list = ""
	}
}

function close_table() {
	if (intable) {
		print "</tbody></table>"
		intable = 0
	}
}

function close_code() {
	if (incode) {
		# trailing blank lines belong to no block
		while (ncode > 0 && codebuf[ncode] == "")
			ncode--
		printf "<pre><code>"
		for (k = 1; k <= ncode; k++)
			printf "%s%s", esc(codebuf[k]), (k < ncode ? "\n" : "")
		print "</code></pre>"
		incode = 0
		ncode = 0
	}
}

function close_all() {
	close_para()
	close_list()
	close_table()
	close_code()
}

function cells(line, tag,    n, c, i, out) {
	sub(/^[ \t]*\|/, "", line)
	sub(/\|[ \t]*$/, "", line)
	n = split(line, c, /\|/)
	out = "<tr>"
	for (i = 1; i <= n; i++) {
		gsub(/^[ \t]+|[ \t]+$/, "", c[i])
		out = out "<" tag ">" inline(c[i]) "</" tag ">"
	}
	return out "</tr>"
}

# The first pass: the headings, for [TOC].
FNR == NR {
	if ($0 ~ /^```/)
		fence1 = !fence1
	if (!fence1 && $0 ~ /^###? /) {
		level = ($0 ~ /^### /) ? 3 : 2
		t = $0
		sub(/^#+ /, "", t)
		ntoc++
		toclevel[ntoc] = level
		toctext[ntoc] = heading_text(t)
		tocanchor[ntoc] = anchor(t)
	}
	next
}

FNR == 1 {
	print "<!DOCTYPE html>"
	print "<html lang=\"en\"><head><meta charset=\"utf-8\">"
	print "<title>" esc(title) "</title>"
	print "<style>"
	print "body { max-width: 46em; margin: 2em auto; padding: 0 1em;"
	print "       font: 16px/1.5 Georgia, serif; color: #222; }"
	print "pre { background: #f4f4f4; padding: .6em; overflow-x: auto;"
	print "      font-size: 13px; line-height: 1.3; }"
	print "code { font-size: 90%; }"
	print "table { border-collapse: collapse; }"
	print "td, th { border: 1px solid #bbb; padding: .2em .5em;"
	print "         vertical-align: top; }"
	print "h1, h2, h3 { font-family: sans-serif; }"
	print "@media print { pre { white-space: pre-wrap; } }"
	print "</style></head><body>"
}

# An HTML comment, on lines of its own: dropped.
incomment || /^[ \t]*<!--/ {
	close_para()
	incomment = ($0 !~ /-->/)
	next
}

/^```/ {
	if (infence) {
		close_code()
		infence = 0
	} else {
		close_all()
		infence = incode = 1
		ncode = 0
	}
	next
}

infence {
	codebuf[++ncode] = $0
	next
}

# An indented code block: four spaces or a tab, after a blank line or
# another code line (not a list item's continuation).
(/^(    |\t)/ && (incode || (para == "" && item == ""))) {
	if (!incode) {
		close_all()
		incode = 1
		ncode = 0
	}
	line = $0
	sub(/^(    |\t)/, "", line)
	codebuf[++ncode] = line
	next
}

/^[ \t]*$/ {
	if (incode) {
		codebuf[++ncode] = ""
		next
	}
	close_para()
	close_table()
	if (item != "") {
		print "<li>" inline(item) "</li>"
		item = ""
	}
	blank = 1
	next
}

{
	if (incode)
		close_code()
}

/^#+ / {
	close_all()
	level = index($0, " ") - 1
	t = $0
	sub(/^#+ /, "", t)
	printf "<h%d id=\"%s\">%s</h%d>\n", level, anchor(t),
	       inline(heading_text(t)), level
	next
}

/^\[TOC\]$/ {
	close_all()
	print "<ul class=\"toc\">"
	for (k = 1; k <= ntoc; k++)
		printf "<li%s><a href=\"#%s\">%s</a></li>\n",
		       toclevel[k] == 3 ? " style=\"margin-left:1.5em\"" : "",
		       tocanchor[k], inline(toctext[k])
	print "</ul>"
	next
}

/^[ \t]*\|/ {
	close_para()
	close_list()
	if ($0 ~ /^[ \t]*\|[ \t:|-]+\|[ \t]*$/)
		next			# the header's rule
	if (!intable) {
		print "<table><tbody>"
		intable = 1
		print cells($0, "th")
	} else {
		print cells($0, "td")
	}
	next
}

/^([-*]|[0-9]+\.) / {
	close_para()
	close_table()
	kind = ($0 ~ /^[0-9]/) ? "ol" : "ul"
	if (list != kind) {
		close_list()
		print "<" kind ">"
		list = kind
	}
	if (item != "")
		print "<li>" inline(item) "</li>"
	item = $0
	sub(/^([-*]|[0-9]+\.) /, "", item)
	next
}

{
	line = $0
	sub(/^[ \t]+/, "", line)
	if (item != "" || (list != "" && $0 ~ /^[ \t]/)) {
		item = item (item != "" ? " " : "") line
		next
	}
	close_list()
	close_table()
	para = para (para != "" ? "\n" : "") line
}

END {
	close_all()
	print "</body></html>"
}

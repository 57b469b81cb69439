// SPDX-License-Identifier: GPL-2.0
/*
 * mutate.c - apply one mutant of tests/mutants.txt to a source file.
 *
 *   mutate LIST ID SOURCE OUTPUT    write SOURCE with mutant ID applied
 *   mutate LIST --ids               print every mutant's ID, one a line
 *
 * A mutant is a block of LIST:
 *
 *   @ ID SEED what the line does
 *   -<a line of the original, exactly, tabs and all>
 *   +<what replaces it: none for a deletion>
 *   =                      (optional: another hunk of the same mutant)
 *   -...
 *
 * Each hunk's "-" lines must occur exactly once in SOURCE, starting at the
 * start of a line: a list that has gone stale (the code moved on) is an
 * error, exit 1, not a silent no-op.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "mutate: cannot read %s\n", path);
		exit(2);
	}
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "mutate: cannot read %s\n", path);
		exit(2);
	}
	buf[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/** Append line \a l (without its newline, \a n bytes) and a newline. */
static void add(char **s, size_t *len, const char *l, size_t n)
{
	*s = realloc(*s, *len + n + 2);
	if (!*s)
		exit(2);
	memcpy(*s + *len, l, n);
	*len += n;
	(*s)[(*len)++] = '\n';
	(*s)[*len] = 0;
}

/** Find \a from in \a src once, at the start of a line; NULL otherwise. */
static char *find_once(char *src, const char *from)
{
	char *hit = NULL, *p;

	for (p = strstr(src, from); p; p = strstr(p + 1, from)) {
		if (p != src && p[-1] != '\n')
			continue;
		if (hit)
			return NULL;	/* more than once */
		hit = p;
	}
	return hit;
}

/** Replace the one occurrence of \a from in \a src by \a to. */
static char *apply(char *src, const char *from, const char *to,
		   const char *id, const char *path)
{
	char *hit = find_once(src, from), *out;
	size_t flen = strlen(from), tlen = to ? strlen(to) : 0;
	size_t pre, slen = strlen(src);

	if (!hit) {
		fprintf(stderr, "mutate: a hunk of mutant %s does not occur "
			"exactly once, at a line start, in %s: the list is "
			"stale\n", id, path);
		exit(1);
	}
	pre = (size_t)(hit - src);
	out = malloc(slen - flen + tlen + 1);
	if (!out)
		exit(2);
	memcpy(out, src, pre);
	if (tlen)
		memcpy(out + pre, to, tlen);
	strcpy(out + pre + tlen, hit + flen);
	free(src);
	return out;
}

/** mutate LIST ID SOURCE OUTPUT, and mutate LIST --ids: see the top. */
static int list_main(int argc, char **argv)
{
	char *list, *line, *next, *from = NULL, *to = NULL, *src = NULL;
	size_t len, flen = 0, tlen = 0, slen;
	int found = 0, ids;
	FILE *out;

	if (argc != 3 && argc != 5) {
		fprintf(stderr, "usage: mutate LIST ID SOURCE OUTPUT | "
			"mutate LIST --ids\n");
		return 2;
	}
	ids = argc == 3 && !strcmp(argv[2], "--ids");
	if (argc == 3 && !ids) {
		fprintf(stderr, "usage: mutate LIST ID SOURCE OUTPUT | "
			"mutate LIST --ids\n");
		return 2;
	}
	list = slurp(argv[1], &len);
	if (!ids)
		src = slurp(argv[3], &slen);
	for (line = list; line && *line; line = next) {
		size_t n;

		next = strchr(line, '\n');
		n = next ? (size_t)(next - line) : strlen(line);
		if (next)
			next++;
		if (line[0] == '@') {
			char id[64];

			if (found == 1)
				break;		/* the mutant wanted has ended */
			if (sscanf(line, "@ %63s", id) != 1) {
				fprintf(stderr, "mutate: bad line: %.*s\n",
					(int)n, line);
				return 2;
			}
			if (ids)
				printf("%s\n", id);
			else if (!strcmp(id, argv[2]))
				found = 1;
		} else if (found == 1 && line[0] == '-') {
			add(&from, &flen, line + 1, n - 1);
		} else if (found == 1 && line[0] == '+') {
			add(&to, &tlen, line + 1, n - 1);
		} else if (found == 1 && line[0] == '=' && from) {
			src = apply(src, from, to, argv[2], argv[3]);
			free(from);
			free(to);
			from = to = NULL;
			flen = tlen = 0;
		}
	}
	if (ids)
		return 0;
	if (!found || !from) {
		fprintf(stderr, "mutate: no mutant %s in %s\n", argv[2],
			argv[1]);
		return 2;
	}
	src = apply(src, from, to, argv[2], argv[3]);
	out = fopen(argv[4], "wb");
	if (!out) {
		fprintf(stderr, "mutate: cannot write %s\n", argv[4]);
		return 2;
	}
	fputs(src, out);
	return fclose(out) ? 2 : 0;
}

/* ================================================================== */
/*
 * The generator (make mutants-all): the mutants of the code itself, found
 * mechanically, not kept by hand.  For every function of the groups named
 * in target_groups[], it finds:
 *
 *   cond-negate, cond-true, cond-false   each if and while condition
 *                                        negated, and made constant
 *   delete        each statement that is a call or an assignment, deleted
 *   boundary      each relational operator with its boundary shifted
 *                 (< and <=, > and >=, each to the other)
 *   incdec        each ++ or -- of a statement of its own, the other way
 *   return-ok     each "return -EXXX;" turned into "return 0;"
 *
 * It writes them all into one source (a mutant schema: each mutant is
 * chosen at run time by the environment variable KSM_REF_MUTANT, so that
 * one build serves every mutant), lists them, and applies any one of them
 * alone, as a plain edit of the source, so that it can be built on its own
 * under -Werror and shown to a reader.  A few calls are not mutated, with
 * the reason: assertions (BUG_ON, VM_BUG_ON: they state what holds, and
 * change nothing while it does), and what only reports or traces
 * (sim_trace, sim_report, node_event, event_record), or is a race window
 * of the simulation (race_window, sim_pause_point), not the design.
 *
 * The parser is a small one, for the C of ksm_ref.c (kernel style): a
 * tokenizer that skips comments and preprocessor lines, and a statement
 * walker; it is not a C compiler, and the build of each mutant under
 * -Werror is what decides whether it is C.
 */

/** The groups whose functions are mutated (walkthrough.md, chapter 9). */
static const char *const target_groups[] = {
	"ksm", "migrate", "hotplug", "exchange", "swap", "anon", "rbtree",
};

/** Calls left alone: see above. */
static const char *const untouched_calls[] = {
	"BUG_ON", "VM_BUG_ON", "sim_trace", "sim_report", "node_event",
	"event_record", "race_window", "sim_pause_point",
};

/** Kinds of token. */
enum { T_ID, T_NUM, T_STR, T_CHR, T_PUNCT };

/** A token of the source. */
struct tok {
	int kind;		/**< T_ID ... */
	size_t off, len;	/**< where in the source */
	int line;		/**< 1-based line */
	int match;		/**< index of the matching bracket, or -1 */
	int group;		/**< index in group_names[], or -1 */
};

/** Kinds of mutant. */
enum mkind { M_NEG, M_TRUE, M_FALSE, M_DELETE, M_BOUNDARY, M_INCDEC,
	     M_RETURN };

static const char *const mkind_names[] = {
	[M_NEG] = "cond-negate", [M_TRUE] = "cond-true",
	[M_FALSE] = "cond-false", [M_DELETE] = "delete",
	[M_BOUNDARY] = "boundary", [M_INCDEC] = "incdec",
	[M_RETURN] = "return-ok",
};

/** One mutant: what it changes, in token indices. */
struct mutant {
	enum mkind kind;
	int a, b;		/**< tokens [a, b] it spans (the expression,
				     the statement, the operator's operands) */
	int op;			/**< the operator or ++/-- token, or -1 */
	int func;		/**< token of the function's name */
};

static const char *src;
static struct tok *toks;
static int nr_toks;
static struct mutant *muts;
static int nr_muts;

/** Text of token \a i. */
static int tok_is(int i, const char *s)
{
	return i >= 0 && i < nr_toks && toks[i].len == strlen(s) &&
	       !memcmp(src + toks[i].off, s, toks[i].len);
}

static void add_tok(int kind, size_t off, size_t len, int line, int group)
{
	static int cap;

	if (nr_toks == cap) {
		cap = cap ? 2 * cap : 4096;
		toks = realloc(toks, (size_t)cap * sizeof(*toks));
		if (!toks)
			exit(2);
	}
	toks[nr_toks++] = (struct tok){ kind, off, len, line, -1, group };
}

/** Is \a c a decimal digit? */
static int digit(char c)
{
	return c >= '0' && c <= '9';
}

/** Can \a c be part of an identifier (or a number)? */
static int ident_char(char c)
{
	return c == '_' || digit(c) || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

/** Every Doxygen group met, by name; tokens name theirs by index. */
static char group_names[64][32];
static int nr_groups;

/** Is group \a g one of target_groups[]? */
static int is_target(int g)
{
	size_t k;

	for (k = 0; g >= 0 && k < sizeof(target_groups) /
	     sizeof(target_groups[0]); k++)
		if (!strcmp(group_names[g], target_groups[k]))
			return 1;
	return 0;
}

/**
 * The group a comment opens (\defgroup or \addtogroup, with @{): its
 * index in group_names[], or -1 for an unnamed @{; -2 if it opens none.
 * *\a depth_delta is 1 if it opens one, -1 if it closes one (@}).
 */
static int comment_group(const char *c, size_t n, int *depth_delta)
{
	static const char *const verbs[] = { "\\defgroup ", "\\addtogroup " };
	const char *open = NULL, *name = NULL;
	size_t i, k;

	*depth_delta = 0;
	for (i = 0; i + 1 < n; i++) {
		if (c[i] == '@' && c[i + 1] == '{')
			open = c + i;
		if (c[i] == '@' && c[i + 1] == '}')
			*depth_delta = -1;
		for (k = 0; k < 2; k++)
			if (i + strlen(verbs[k]) < n &&
			    !strncmp(c + i, verbs[k], strlen(verbs[k])))
				name = c + i + strlen(verbs[k]);
	}
	if (!open)
		return -2;		/* opens nothing */
	*depth_delta = 1;
	if (!name)
		return -1;
	for (k = 0; ident_char(name[k]) && k < sizeof(group_names[0]) - 1;
	     k++)
		;
	for (i = 0; i < (size_t)nr_groups; i++)
		if (strlen(group_names[i]) == k &&
		    !strncmp(group_names[i], name, k))
			return (int)i;
	if (nr_groups == 64)
		return -1;
	memcpy(group_names[nr_groups], name, k);
	return nr_groups++;
}

/** Cut the source into tokens, noting each one's group. */
static void tokenize(void)
{
	static const char *const puncts[] = {
		"<<=", ">>=", "...", "->", "++", "--", "<<", ">>", "<=", ">=",
		"==", "!=", "&&", "||", "+=", "-=", "*=", "/=", "%=", "&=",
		"^=", "|=", "##",
	};
	int stack[32], depth = 0, line = 1, bol = 1;
	size_t i = 0, n = strlen(src), k;

	while (i < n) {
		char c = src[i];

		if (c == '\n') {
			line++;
			bol = 1;
			i++;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
			i++;
			continue;
		}
		if (bol && c == '#') {		/* a preprocessor line */
			while (i < n && (src[i] != '\n' || src[i - 1] == '\\')) {
				if (src[i] == '\n')
					line++;
				i++;
			}
			continue;
		}
		bol = 0;
		if (c == '/' && src[i + 1] == '*') {
			size_t e = i + 2;
			int g, delta;

			while (e + 1 < n && !(src[e] == '*' && src[e + 1] == '/'))
				e++;
			g = comment_group(src + i, e - i, &delta);
			if (delta > 0 && depth < 32)
				stack[depth++] = g;
			else if (delta < 0 && depth > 0)
				depth--;
			for (; i < e + 2 && i < n; i++)
				line += src[i] == '\n';
			continue;
		}
		if (c == '/' && src[i + 1] == '/') {
			while (i < n && src[i] != '\n')
				i++;
			continue;
		}
		{
			int g = depth ? stack[depth - 1] : -1;

			if (c == '"' || c == '\'') {
				size_t e = i + 1;

				while (e < n && src[e] != c)
					e += src[e] == '\\' ? 2 : 1;
				add_tok(c == '"' ? T_STR : T_CHR, i, e + 1 - i,
					line, g);
				i = e + 1;
				continue;
			}
			if (ident_char(c) && !digit(c)) {
				size_t e = i;

				while (e < n && ident_char(src[e]))
					e++;
				add_tok(T_ID, i, e - i, line, g);
				i = e;
				continue;
			}
			if (digit(c)) {
				size_t e = i;

				while (e < n && (src[e] == '.' || ident_char(src[e])))
					e++;
				add_tok(T_NUM, i, e - i, line, g);
				i = e;
				continue;
			}
			for (k = 0; k < sizeof(puncts) / sizeof(puncts[0]); k++)
				if (!strncmp(src + i, puncts[k],
					     strlen(puncts[k])))
					break;
			add_tok(T_PUNCT, i, k < sizeof(puncts) / sizeof(puncts[0])
				? strlen(puncts[k]) : 1, line, g);
			i += toks[nr_toks - 1].len;
		}
	}
}

/** Pair every bracket with its match. */
static void match_brackets(void)
{
	int *stack = malloc(((size_t)nr_toks + 1) * sizeof(int)), sp = 0, i;

	if (!stack)
		exit(2);
	for (i = 0; i < nr_toks; i++) {
		if (tok_is(i, "(") || tok_is(i, "[") || tok_is(i, "{")) {
			stack[sp++] = i;
		} else if ((tok_is(i, ")") || tok_is(i, "]") ||
			    tok_is(i, "}")) && sp > 0) {
			toks[i].match = stack[--sp];
			toks[stack[sp]].match = i;
		}
	}
	free(stack);
}

static void add_mut(enum mkind kind, int a, int b, int op, int func)
{
	static int cap;

	if (nr_muts == cap) {
		cap = cap ? 2 * cap : 1024;
		muts = realloc(muts, (size_t)cap * sizeof(*muts));
		if (!muts)
			exit(2);
	}
	muts[nr_muts++] = (struct mutant){ kind, a, b, op, func };
}

/** Is token \a i the name of a call left alone? */
static int untouched(int i)
{
	size_t k;

	for (k = 0; k < sizeof(untouched_calls) / sizeof(untouched_calls[0]);
	     k++)
		if (tok_is(i, untouched_calls[k]))
			return 1;
	return 0;
}

/** Does token \a i end an operand (so that a following & is binary)? */
static int ends_operand(int i)
{
	return toks[i].kind != T_PUNCT || tok_is(i, ")") || tok_is(i, "]") ||
	       tok_is(i, "++") || tok_is(i, "--");
}

/** Operators that bind less tightly than a relational one (and ;). */
static int looser(int i)
{
	static const char *const ops[] = {
		"&&", "||", "?", ":", "=", "+=", "-=", "*=", "/=", "%=", "&=",
		"|=", "^=", "<<=", ">>=", ",", "==", "!=", "|", "^", ";", "{",
		"}", "<", "<=", ">", ">=",
	};
	size_t k;

	if (tok_is(i, "return"))
		return 1;
	for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
		if (tok_is(i, ops[k]))
			return 1;
	return 0;
}

/** Relational operators in tokens [a, b], each a boundary mutant. */
static void scan_relational(int a, int b, int func)
{
	int i;

	for (i = a; i <= b; i++) {
		int l, r;

		if (toks[i].kind == T_ID && untouched(i) && tok_is(i + 1, "(")) {
			i = toks[i + 1].match;	/* its arguments: left alone */
			continue;
		}
		if (!tok_is(i, "<") && !tok_is(i, "<=") && !tok_is(i, ">") &&
		    !tok_is(i, ">="))
			continue;
		for (l = i - 1; l >= a; l--) {
			if ((tok_is(l, ")") || tok_is(l, "]")) &&
			    toks[l].match >= a) {
				l = toks[l].match;
				continue;
			}
			if (tok_is(l, "(") || tok_is(l, "[") || looser(l))
				break;
			if (tok_is(l, "&") && l > a && ends_operand(l - 1))
				break;
		}
		for (r = i + 1; r <= b; r++) {
			if ((tok_is(r, "(") || tok_is(r, "[")) &&
			    toks[r].match >= 0 && toks[r].match <= b) {
				r = toks[r].match;
				continue;
			}
			if (tok_is(r, ")") || tok_is(r, "]") || looser(r))
				break;
			if (tok_is(r, "&") && r > i + 1 && ends_operand(r - 1))
				break;
		}
		if (l + 1 <= i - 1 && i + 1 <= r - 1)
			add_mut(M_BOUNDARY, l + 1, r - 1, i, func);
	}
}

static int statement(int i, int func);

/** Is the statement at \a i a declaration (a heuristic for kernel C)? */
static int declaration(int i)
{
	static const char *const types[] = {
		"struct", "union", "enum", "const", "volatile", "static",
		"unsigned", "signed", "int", "long", "short", "char", "bool",
		"void", "float", "double", "_Atomic", "size_t", "ssize_t",
		"uintptr_t", "uint64_t", "uint32_t", "atomic_int",
	};
	size_t k;

	for (k = 0; k < sizeof(types) / sizeof(types[0]); k++)
		if (tok_is(i, types[k]))
			return 1;
	if (toks[i].kind != T_ID)
		return 0;
	if (toks[i + 1].kind == T_ID)
		return 1;			/* T x */
	return tok_is(i + 1, "*") && (toks[i + 2].kind == T_ID ||
				       tok_is(i + 2, "*"));	/* T *x */
}

/** The end (its ';') of the expression statement at \a i. */
static int statement_end(int i)
{
	while (i < nr_toks && !tok_is(i, ";")) {
		if ((tok_is(i, "(") || tok_is(i, "[") || tok_is(i, "{")) &&
		    toks[i].match > i)
			i = toks[i].match;
		i++;
	}
	return i;
}

/** Do the tokens [a, b] hold an assignment, or a comma, outside brackets? */
static int assigns(int a, int b)
{
	static const char *const ops[] = { "=", "+=", "-=", "*=", "/=", "%=",
		"&=", "|=", "^=", "<<=", ">>=", "," };
	unsigned int k;
	int i;

	for (i = a; i <= b; i++) {
		if ((tok_is(i, "(") || tok_is(i, "[")) && toks[i].match > i) {
			i = toks[i].match;
			continue;
		}
		for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
			if (tok_is(i, ops[k]))
				return 1;
	}
	return 0;
}

/** A condition in parentheses at \a open: three mutants, and its
 * relational operators. */
static void condition(int open, int func)
{
	int close = toks[open].match;

	if (close <= open + 1)
		return;
	add_mut(M_NEG, open + 1, close - 1, -1, func);
	add_mut(M_TRUE, open + 1, close - 1, -1, func);
	add_mut(M_FALSE, open + 1, close - 1, -1, func);
	scan_relational(open + 1, close - 1, func);
}

/** Walk the statement at \a i; returns the index after it. */
static int statement(int i, int func)
{
	int e, j;

	if (tok_is(i, "{")) {
		e = toks[i].match;
		for (j = i + 1; j < e;)
			j = statement(j, func);
		return e + 1;
	}
	if (tok_is(i, "if") || tok_is(i, "while")) {
		condition(i + 1, func);
		j = statement(toks[i + 1].match + 1, func);
		if (tok_is(i, "if") && tok_is(j, "else"))
			j = statement(j + 1, func);
		return j;
	}
	if (tok_is(i, "do")) {
		j = statement(i + 1, func);		/* j: "while" */
		condition(j + 1, func);
		return toks[j + 1].match + 2;
	}
	if (tok_is(i, "for") || tok_is(i, "switch")) {
		scan_relational(i + 2, toks[i + 1].match - 1, func);
		return statement(toks[i + 1].match + 1, func);
	}
	if (tok_is(i, "case")) {
		while (!tok_is(i, ":"))
			i++;
		return i + 1;
	}
	if ((tok_is(i, "default") || toks[i].kind == T_ID) &&
	    tok_is(i + 1, ":"))
		return i + 2;			/* a label */
	if (tok_is(i, "break") || tok_is(i, "continue") || tok_is(i, "goto"))
		return statement_end(i) + 1;
	if (tok_is(i, ";"))
		return i + 1;
	e = statement_end(i);
	if (tok_is(i, "return")) {
		if (e == i + 3 && tok_is(i + 1, "-") && toks[i + 2].kind == T_ID &&
		    src[toks[i + 2].off] == 'E')
			add_mut(M_RETURN, i + 1, i + 2, -1, func);
		scan_relational(i + 1, e - 1, func);
		return e + 1;
	}
	if (declaration(i)) {
		scan_relational(i, e - 1, func);
		return e + 1;
	}
	/* An expression statement. */
	if (!(toks[i].kind == T_ID && untouched(i))) {
		int effect = 0;

		for (j = i; j < e; j++) {
			if ((tok_is(j, "(") || tok_is(j, "[")) &&
			    toks[j].match > j) {
				effect |= tok_is(j, "(") && j > i &&
					  toks[j - 1].kind == T_ID;
				j = toks[j].match;
				continue;
			}
			if (tok_is(j, "=") || tok_is(j, "+=") ||
			    tok_is(j, "-=") || tok_is(j, "|=") ||
			    tok_is(j, "&=") || tok_is(j, "^=") ||
			    tok_is(j, "++") || tok_is(j, "--") ||
			    tok_is(j, "*=") || tok_is(j, "/=") ||
			    tok_is(j, "<<=") || tok_is(j, ">>="))
				effect = 1;
		}
		if (effect)
			add_mut(M_DELETE, i, e, -1, func);
		/*
		 * x++ or ++x as the whole statement, whose value nobody
		 * uses: "off = cursor++" is an assignment, and cursor += 1
		 * in its place would change what off gets.
		 */
		if (!assigns(i, e - 1)) {
			if (tok_is(e - 1, "++") || tok_is(e - 1, "--"))
				add_mut(M_INCDEC, i, e - 2, e - 1, func);
			else if (tok_is(i, "++") || tok_is(i, "--"))
				add_mut(M_INCDEC, i + 1, e - 1, i, func);
		}
		scan_relational(i, e - 1, func);
	}
	return e + 1;
}

/** Find every function of the target groups, and walk its body. */
static void find_mutants(void)
{
	int i;

	for (i = 0; i < nr_toks; i++) {
		int open, name;

		if (!tok_is(i, "{") || !tok_is(i - 1, ")"))
			continue;
		open = toks[i - 1].match;
		name = open - 1;
		/* Only at file scope: nothing encloses the body. */
		if (name < 0 || toks[name].kind != T_ID || toks[i].match < 0)
			continue;
		if (is_target(toks[i].group))
			statement(i, name);
		i = toks[i].match;
	}
}

/** Print the tokens [a, b] as source, spaces folded, into \a out. */
static void span_text(int a, int b, char *out, size_t len)
{
	size_t n = 0, k;
	int i;

	for (i = a; i <= b && n + 1 < len; i++) {
		if (i > a && toks[i].off > toks[i - 1].off + toks[i - 1].len &&
		    n + 1 < len)
			out[n++] = ' ';
		for (k = 0; k < toks[i].len && n + 1 < len; k++)
			out[n++] = src[toks[i].off + k];
	}
	out[n] = 0;
}

/** The boundary-shifted form of relational operator token \a op. */
static const char *shifted(int op)
{
	return tok_is(op, "<") ? "<=" : tok_is(op, "<=") ? "<" :
	       tok_is(op, ">") ? ">=" : ">";
}

/**
 * Write \a m applied alone to the source into \a f, as a plain edit:
 * what a reader would write by hand.
 */
static void write_one(FILE *f, const struct mutant *m)
{
	size_t start = toks[m->a].off, end = toks[m->b].off + toks[m->b].len;
	char text[65536];

	fwrite(src, 1, start, f);
	span_text(m->a, m->b, text, sizeof(text));
	switch (m->kind) {
	case M_NEG:
		fprintf(f, "!(%.*s)", (int)(end - start), src + start);
		break;
	case M_TRUE:
		fputs("1", f);
		break;
	case M_FALSE:
		fputs("0", f);
		break;
	case M_DELETE:
		fputs("{ }", f);	/* an empty statement, as the schema's */
		break;
	case M_RETURN:
		fputs("0", f);
		break;
	case M_BOUNDARY:
	case M_INCDEC: {
		size_t o = toks[m->op].off;

		fwrite(src + start, 1, o - start, f);
		fputs(m->kind == M_INCDEC ? (tok_is(m->op, "++") ? "--" : "++")
		      : shifted(m->op), f);
		fwrite(src + o + toks[m->op].len, 1,
		       end - o - toks[m->op].len, f);
		break;
	}
	}
	fputs(src + end, f);
}

/** An insertion into the schema: text at a source offset. */
struct ins {
	size_t off;		/**< where */
	size_t span;		/**< length of the mutant's span: nesting */
	int suffix;		/**< closes a span (else opens one) */
	int skip;		/**< bytes of the source it replaces */
	char text[96];
};

/** Suffixes first at an offset, innermost first; then prefixes, outer
 * first. */
static int ins_cmp(const void *x, const void *y)
{
	const struct ins *a = x, *b = y;

	if (a->off != b->off)
		return a->off < b->off ? -1 : 1;
	if (a->suffix != b->suffix)
		return a->suffix ? -1 : 1;
	if (a->span != b->span)
		return (a->span < b->span) == !!a->suffix ? -1 : 1;
	return 0;
}

/** Write the schema: every mutant in the source, chosen at run time. */
static void write_schema(FILE *f)
{
	struct ins *ins = calloc((size_t)nr_muts * 3 + 1, sizeof(*ins));
	const char *hook = strstr(src, "#include \"ksm_ref.h\"\n");
	size_t nr = 0, pos = 0, k;
	int i, id;

	if (!ins || !hook) {
		fprintf(stderr, "mutate: no #include \"ksm_ref.h\" line\n");
		exit(2);
	}
	for (i = 0; i < nr_muts; i++) {
		const struct mutant *m = &muts[i];
		size_t a = toks[m->a].off, b = toks[m->b].off + toks[m->b].len;
		struct ins *p = &ins[nr], *s = &ins[nr + 1];

		if (m->kind == M_TRUE || m->kind == M_FALSE)
			continue;		/* with their M_NEG */
		id = i;
		*p = (struct ins){ a, b - a, 0, 0, "" };
		*s = (struct ins){ b, b - a, 1, 0, "" };
		switch (m->kind) {
		case M_NEG:
			snprintf(p->text, sizeof(p->text), "MUT_COND(%d, ", id);
			strcpy(s->text, ")");
			break;
		case M_DELETE:
			snprintf(p->text, sizeof(p->text),
				 "do { MUT_SEEN(%d, 1); if (sim_mutant != %d) { ",
				 id, id);
			strcpy(s->text, " } } while (0);");
			/* The ';' is the statement's: it stays inside. */
			break;
		case M_RETURN:
			snprintf(p->text, sizeof(p->text),
				 "(MUT_SEEN(%d, 1), sim_mutant == %d ? 0 : ", id,
				 id);
			strcpy(s->text, ")");
			break;
		case M_BOUNDARY:
			snprintf(p->text, sizeof(p->text), "MUT_REL(%d, ", id);
			strcpy(s->text, ")");
			nr += 2;
			ins[nr] = (struct ins){ toks[m->op].off, 0, 0,
						(int)toks[m->op].len, "" };
			snprintf(ins[nr].text, sizeof(ins[nr].text),
				 ", %.*s, %s, ", (int)toks[m->op].len,
				 src + toks[m->op].off, shifted(m->op));
			nr++;
			continue;
		case M_INCDEC:
			nr += 2;
			p->text[0] = s->text[0] = 0;
			ins[nr] = (struct ins){ toks[m->op].off, 0, 0,
						(int)toks[m->op].len, "" };
			/* x++ and ++x as statements: x += +1 or -1. */
			if (m->op > m->b)
				snprintf(ins[nr].text, sizeof(ins[nr].text),
					 " += (MUT_SEEN(%d, 1), sim_mutant == %d ?"
					 " %s1 : %s1)", id,
					 id, tok_is(m->op, "++") ? "-" : "",
					 tok_is(m->op, "++") ? "" : "-");
			else
				snprintf(ins[nr].text, sizeof(ins[nr].text),
					 "(void)0, ");
			nr++;
			if (m->op < m->a) {	/* ++x: the add after x */
				ins[nr] = (struct ins){ b, 0, 1, 0, "" };
				snprintf(ins[nr].text, sizeof(ins[nr].text),
					 " += (MUT_SEEN(%d, 1), sim_mutant == %d ?"
					 " %s1 : %s1)", id,
					 id, tok_is(m->op, "++") ? "-" : "",
					 tok_is(m->op, "++") ? "" : "-");
				nr++;
			}
			continue;
		default:
			break;
		}
		nr += 2;
	}
	qsort(ins, nr, sizeof(*ins), ins_cmp);
	/* The prelude, after ksm_ref.h is included. */
	hook += strlen("#include \"ksm_ref.h\"\n");
	fwrite(src, 1, (size_t)(hook - src), f);
	fputs("#include <fcntl.h>\n"
	      "\n/* make mutants-all: every mutant below, the one named by "
	      "KSM_REF_MUTANT on. */\n"
	      "static int sim_mutant = -1;\n"
	      "__attribute__((constructor)) static void sim_mutant_init(void)\n"
	      "{\n\tconst char *e = getenv(\"KSM_REF_MUTANT\");\n\n"
	      "\tif (e)\n\t\tsim_mutant = atoi(e);\n}\n"
	      "#define MUT_COND(n, c) (MUT_SEEN(n, 3), "
	      "(sim_mutant == (n) + 1) || "
	      "(sim_mutant != (n) + 2 && ((sim_mutant == (n)) ^ !!(c))))\n"
	      "#define MUT_REL(n, a, op, mop, b) (MUT_SEEN(n, 1), "
	      "sim_mutant == (n) ? ((a) mop (b)) : ((a) op (b)))\n", f);
	/*
	 * KSM_REF_MUTANT_REACH=DIR: which mutants' lines each check reaches,
	 * appended to DIR/$KSM_TEST_CHECK once each, as they are first
	 * reached (so a crash loses nothing).  A check that never reaches a
	 * mutant's line cannot kill it: make mutants-all runs only the
	 * checks that do.
	 */
	fprintf(f, "static int sim_reach_fd = -1;\n"
		"static unsigned char sim_reached[%d];\n", nr_muts + 3);
	fputs("static void sim_reach(int n, int k)\n{\n"
	      "\tchar b[16];\n\n"
	      "\tfor (; k > 0; k--, n++)\n"
	      "\t\tif (!__atomic_exchange_n(&sim_reached[n], 1, "
	      "__ATOMIC_RELAXED))\n"
	      "\t\t\tif (write(sim_reach_fd, b, (size_t)snprintf(b, "
	      "sizeof(b), \"%d\\n\", n))) {}\n}\n"
	      "__attribute__((constructor)) static void sim_reach_init(void)\n"
	      "{\n\tconst char *d = getenv(\"KSM_REF_MUTANT_REACH\");\n"
	      "\tconst char *c = getenv(\"KSM_TEST_CHECK\");\n"
	      "\tchar p[4096];\n\n"
	      "\tif (!d || !c)\n\t\treturn;\n"
	      "\tsnprintf(p, sizeof(p), \"%s/%s\", d, c);\n"
	      "\tsim_reach_fd = open(p, O_WRONLY | O_CREAT | O_APPEND, 0644);\n"
	      "}\n"
	      "#define MUT_SEEN(n, k) (sim_reach_fd >= 0 ? sim_reach(n, k) : "
	      "(void)0)\n\n", f);
	pos = (size_t)(hook - src);
	for (k = 0; k < nr; k++) {
		if (ins[k].off < pos)
			continue;		/* inside a skipped token */
		fwrite(src + pos, 1, ins[k].off - pos, f);
		fputs(ins[k].text, f);
		pos = ins[k].off + (size_t)ins[k].skip;
	}
	fputs(src + pos, f);
	free(ins);
}

/** The group of a mutant's function. */
static const char *mut_group(const struct mutant *m)
{
	return group_names[toks[m->func].group];
}

/**
 * The mutant's stable name: function, kind, the text it changes, and an
 * occurrence number among the function's mutants of that kind and text.
 * The numbers (IDs) change as the code does; the names do not, unless
 * the line itself does.
 */
static void mut_signature(int i, char *out, size_t len)
{
	const struct mutant *m = &muts[i];
	char text[200], other[200];
	int j, occ = 0;

	span_text(m->op >= 0 && m->kind == M_BOUNDARY ? m->a : m->a, m->b,
		  text, sizeof(text));
	for (j = 0; j < i; j++) {
		if (muts[j].kind != m->kind || muts[j].func != m->func)
			continue;
		span_text(muts[j].a, muts[j].b, other, sizeof(other));
		occ += !strcmp(text, other);
	}
	snprintf(out, len, "%.*s %s `%s`%s%.0d", (int)toks[m->func].len,
		 src + toks[m->func].off, mkind_names[m->kind], text,
		 occ ? " #" : "", occ ? occ + 1 : 0);
}

/**
 * Print the list: ID, kind, group, function, first line, name, last line.
 */
static void write_list(FILE *f)
{
	char sig[400];
	int i;

	for (i = 0; i < nr_muts; i++) {
		mut_signature(i, sig, sizeof(sig));
		fprintf(f, "%d\t%s\t%s\t%.*s\t%d\t%s\t%d\n", i,
			mkind_names[muts[i].kind], mut_group(&muts[i]),
			(int)toks[muts[i].func].len, src + toks[muts[i].func].off,
			toks[muts[i].a].line, sig, toks[muts[i].b].line);
	}
}

/**
 * Print every function of the source, a line each: its group (or "-"),
 * its first and last lines, its name.  For make coverage.
 */
static void print_functions(void)
{
	int i, open, name;

	for (i = 0; i < nr_toks; i++) {
		if (!tok_is(i, "{") || !tok_is(i - 1, ")") || toks[i].match < 0)
			continue;
		open = toks[i - 1].match;
		name = open - 1;
		if (name >= 0 && toks[name].kind == T_ID)
			printf("%s %d %d %.*s\n", toks[i].group >= 0 ?
			       group_names[toks[i].group] : "-",
			       toks[name].line, toks[toks[i].match].line,
			       (int)toks[name].len, src + toks[name].off);
		i = toks[i].match;
	}
}

/** Load and parse \a path. */
static void parse(const char *path)
{
	size_t len;

	src = slurp(path, &len);
	tokenize();
	match_brackets();
	find_mutants();
}

/** mutate --generate SOURCE SCHEMA LIST | --one SOURCE ID OUT | --groups */
static int generator_main(int argc, char **argv)
{
	FILE *f;

	if (argc == 5 && !strcmp(argv[1], "--generate")) {
		parse(argv[2]);
		f = fopen(argv[3], "wb");
		if (!f)
			return 2;
		write_schema(f);
		if (fclose(f))
			return 2;
		f = fopen(argv[4], "wb");
		if (!f)
			return 2;
		write_list(f);
		return fclose(f) ? 2 : 0;
	}
	if (argc == 5 && !strcmp(argv[1], "--one")) {
		int id = atoi(argv[3]);

		parse(argv[2]);
		if (id < 0 || id >= nr_muts) {
			fprintf(stderr, "mutate: no mutant %s\n", argv[3]);
			return 2;
		}
		f = fopen(argv[4], "wb");
		if (!f)
			return 2;
		write_one(f, &muts[id]);
		return fclose(f) ? 2 : 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--groups")) {
		parse(argv[2]);
		print_functions();
		return 0;
	}
	fprintf(stderr, "usage: mutate --generate SOURCE SCHEMA LIST | "
		"mutate --one SOURCE ID OUTPUT | mutate --groups SOURCE\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strncmp(argv[1], "--", 2))
		return generator_main(argc, argv);
	return list_main(argc, argv);
}

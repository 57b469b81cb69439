// SPDX-License-Identifier: GPL-2.0
/*
 * litmus.c - a reader of the Linux kernel memory model's C litmus tests
 * (tools/memory-model/litmus-tests), which runs each under the explorer
 * on the model of a weakly ordered CPU (ksm_ref.c, group model) and holds
 * the verdict against the file's "Result:" line.
 *
 *   litmus FILE.litmus ...            a line per test, and a summary
 *   litmus --verbose FILE.litmus      ...with the code, the states seen
 *   litmus --model alpha FILE ...     on another model (weak, alpha, sc)
 *   litmus --time FILE ...            ...with the time each took
 *   litmus --no-reduction FILE ...    without partial-order reduction
 *   litmus --compare --time FILE ...  both ways, a table (make bench)
 *
 * A litmus test is a few tiny threads on a few shared words and a
 * question: can this outcome happen?  The explorer runs every schedule of
 * the threads with every reordering the model allows (no bound: they are
 * small), and collects the final states.  "Never" if none satisfies the
 * condition, "Always" if all do, "Sometimes" otherwise - herd7's words.
 *
 * The fragment read (anything else is refused, by name, with exit 2,
 * before anything runs):
 *
 *   C NAME                      the first line
 *   (* ... *)  // ...  / * * /  comments; "Result: Never" in one is the
 *                               expected verdict
 *   { x=1; p=y; 0:r0=2; int x; spinlock_t s; }   the initial state:
 *                               words (0 unless set; a location's name is
 *                               its address), registers, typed or not
 *   P0(int *x, int **p, spinlock_t *s) { ... }   a thread per P<n>
 *   int r0; int *r1 = ...;      registers
 *   WRITE_ONCE(*x, e)  r = READ_ONCE(*x)  r = READ_ONCE(*r0)
 *   smp_store_release(x, e)  r = smp_load_acquire(x)
 *   rcu_assign_pointer(*p, e)  r = rcu_dereference(*p)  (with
 *                               smp_read_barrier_depends(), on Alpha)
 *   rcu_read_lock()  rcu_read_unlock()   (no grace period to order
 *                               against: nothing)
 *   smp_mb()  smp_wmb()  smp_rmb()  smp_mb__after_spinlock()
 *   smp_read_barrier_depends()  (gone from the kernel: for Alpha's sake)
 *   spin_lock(s)  spin_unlock(s)
 *   r = e;  if (e) S [else S]  { S... }   e: registers, numbers,
 *                               locations, ! - ~ + - & | ^ == != < > <=
 *                               >= && || and parentheses
 *   exists P, ~exists P, forall P   P over "n:r=v" and "x=v" (final
 *                               memory) with /\, \/, ~, true, false
 *   locations [x; 0:r1]         more of the final state to show
 *
 * Dependencies are tracked through the registers: a load through a
 * pointer register is ordered after the load that produced the pointer
 * (not on Alpha); a store may be performed before earlier loads of its
 * CPU - load buffering - when it is a WRITE_ONCE() that nothing orders
 * after them: only READ_ONCE()s of other fixed locations lie between,
 * and its value uses none of their registers (no fence, acquire, lock,
 * branch - a control dependency - or address dependency in between).
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "explore.h"

/** Limits of a test (beyond: refused, with the limit named). */
enum {
	MAX_PROCS = 8,		/**< threads */
	MAX_REGS = 16,		/**< registers of one thread */
	MAX_LOCS = 16,		/**< shared words */
	MAX_INSNS = 128,	/**< instructions of one thread */
	MAX_EXPRS = 512,	/**< expression nodes of a test */
	MAX_PROPS = 128,	/**< nodes of the condition */
	MAX_COLS = 32,		/**< values in a final state */
	MAX_STATES = 4096,	/**< distinct final states */
	NAME_LEN = 32,		/**< a name's length */
};

/* ---------------------------------------------------------------- */
/* Tokens. */

/** What a token is. */
enum tok_kind {
	T_EOF,			/**< the end of the file */
	T_ID,			/**< a name */
	T_NUM,			/**< a number */
	T_PUNCT,		/**< punctuation, up to three characters */
};

/** One token, with its line. */
struct tok {
	enum tok_kind kind;	/**< what it is */
	char s[NAME_LEN];	/**< its text */
	long v;			/**< a number's value */
	int line;		/**< where */
};

/* ---------------------------------------------------------------- */
/* A test, as read. */

/** An expression node. */
struct expr {
	char op;		/**< 'n' number, 'r' register, 'l' location's
				     address, '!' '~' 'u' (minus) unary,
				     else binary: + - & | ^ = (==) # (!=)
				     < > [ (<=) ] (>=) a (&&) o (||) */
	long v;			/**< a number */
	int a;			/**< the first operand (a register, a location) */
	int b;			/**< the second operand */
};

/** What an instruction does. */
enum insn_kind {
	I_LOAD,			/**< reg = a load of a word */
	I_STORE,		/**< a store of expr to a word */
	I_FENCE,		/**< a barrier */
	I_LOCK,			/**< spin_lock() */
	I_UNLOCK,		/**< spin_unlock() */
	I_SET,			/**< reg = expr */
	I_BRANCH,		/**< if expr is 0, go to target */
	I_JUMP,			/**< go to target */
	I_NOP,			/**< rcu_read_lock(), rcu_read_unlock() */
};

/** How a load or store is ordered. */
enum access {
	A_ONCE,			/**< READ_ONCE(), WRITE_ONCE() */
	A_ACQUIRE,		/**< smp_load_acquire() */
	A_RELEASE,		/**< smp_store_release(), rcu_assign_pointer() */
	A_DEREF,		/**< rcu_dereference(): READ_ONCE() */
};

/** One instruction of a thread. */
struct insn {
	enum insn_kind kind;	/**< what it does */
	int line;		/**< where in the file */
	int reg;		/**< I_LOAD, I_SET: the register written */
	int loc;		/**< the word (or lock), or -1: through areg */
	int areg;		/**< the register holding the word's address */
	int expr;		/**< I_STORE, I_SET, I_BRANCH: the value */
	enum access acc;	/**< I_LOAD, I_STORE */
	enum sim_barrier fence;	/**< I_FENCE */
	int target;		/**< I_BRANCH, I_JUMP */
};

/** One thread. */
struct proc {
	int nregs;			/**< registers */
	char reg[MAX_REGS][NAME_LEN];	/**< their names */
	long init[MAX_REGS];		/**< their initial values */
	int init_loc[MAX_REGS];		/**< ...or a location's address */
	int nparams;			/**< the words and locks it names */
	int param[MAX_LOCS + SIM_LITMUS_LOCKS];	/**< location or lock */
	bool param_lock[MAX_LOCS + SIM_LITMUS_LOCKS];	/**< ...a lock */
	int ninsn;			/**< instructions */
	struct insn insn[MAX_INSNS];	/**< the code */
	char code[512];			/**< the source, one line, for --verbose */
};

/** A node of the final condition. */
struct prop {
	char op;		/**< 'r' register atom, 'm' memory atom, '&'
				     '|' '~', 't' true, 'f' false */
	int proc;		/**< a register atom's thread */
	int idx;		/**< an atom's register or location */
	long v;			/**< ...its value */
	int vloc;		/**< ...or a location's address, or -1 */
	int a;			/**< the first operand */
	int b;			/**< the second operand */
};

/** What the condition quantifies. */
enum quant { Q_EXISTS, Q_NOT_EXISTS, Q_FORALL };

/** A column of the final state: a register or a word. */
struct col {
	int proc;		/**< the thread, or -1: a word */
	int idx;		/**< the register or the word */
};

/** A test, as read from its file. */
struct test {
	const char *file;			/**< its path */
	char name[128];				/**< the C line's name */
	char result[16];			/**< its "Result:" or "" */
	int nlocs;				/**< shared words */
	char loc[MAX_LOCS][NAME_LEN];		/**< their names */
	long init[MAX_LOCS];			/**< initial values */
	int init_loc[MAX_LOCS];			/**< ...or an address */
	int nlocks;				/**< locks */
	char lock[SIM_LITMUS_LOCKS][NAME_LEN];	/**< their names */
	int nprocs;				/**< threads */
	struct proc p[MAX_PROCS];		/**< the threads */
	int nexprs;				/**< expression nodes */
	struct expr ex[MAX_EXPRS];		/**< ...all of them */
	int nprops;				/**< condition nodes */
	struct prop pr[MAX_PROPS];		/**< ...all of them */
	enum quant quant;			/**< exists, ~exists, forall */
	int cond;				/**< the condition's root */
	char cond_text[256];			/**< as written */
	int ncols;				/**< columns of a state */
	struct col col[MAX_COLS];		/**< ...shown and judged */
};

/* ---------------------------------------------------------------- */
/* Reading. */

/** The reader's state: the file's text, and where it is. */
struct reader {
	struct test *t;		/**< the test being read */
	const char *text;	/**< the whole file */
	const char *pos;	/**< the next character */
	int line;		/**< ...its line */
	struct tok tok;		/**< the current token */
	struct tok peek;	/**< the one after it, if peeked */
	bool peeked;		/**< peek holds a token */
	struct proc *proc;	/**< the thread being read */
	bool in_code;		/**< inside a thread: "(*" is not a comment */
};

/** The program's name, for messages. */
static const char *prog = "litmus";

/** Refuse the file: FILE:LINE: message, and exit 2. */
static noreturn void __attribute__((format(printf, 2, 3)))
bad(const struct reader *r, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s:%d: ", prog, r->t->file, r->tok.line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", prog);
	exit(EX_USAGE);
}

/** Refuse a construct outside the fragment, by name. */
static noreturn void outside(const struct reader *r, const char *what)
{
	bad(r, "%s is outside the fragment this reader supports: no "
	    "verdict", what);
}

/**
 * Skip spaces and comments: (* *) nested (not inside a thread, where
 * "(*x" is C), / * * /, //.
 */
static void skip_space(struct reader *r)
{
	for (;;) {
		const char *p = r->pos;

		if (*p == '\n') {
			r->line++;
			r->pos++;
		} else if (isspace((unsigned char)*p)) {
			r->pos++;
		} else if (p[0] == '(' && p[1] == '*' && !r->in_code) {
			int depth = 0;

			do {
				if (!*p)
					break;
				if (p[0] == '(' && p[1] == '*') {
					depth++;
					p += 2;
				} else if (p[0] == '*' && p[1] == ')') {
					depth--;
					p += 2;
				} else {
					r->line += *p == '\n';
					p++;
				}
			} while (depth > 0);
			r->pos = p;
		} else if (p[0] == '/' && p[1] == '*') {
			p += 2;
			while (*p && !(p[0] == '*' && p[1] == '/'))
				r->line += *p++ == '\n';
			r->pos = *p ? p + 2 : p;
		} else if (p[0] == '/' && p[1] == '/') {
			while (*p && *p != '\n')
				p++;
			r->pos = p;
		} else {
			return;
		}
	}
}

/** Read the next token from the text. */
static struct tok lex(struct reader *r)
{
	static const char *const punct[] = {
		"/\\", "\\/", "==", "!=", "<=", ">=", "&&", "||",
	};
	struct tok t = { T_EOF, "", 0, 0 };
	const char *p;
	size_t i, n;

	skip_space(r);
	p = r->pos;
	t.line = r->line;
	if (!*p)
		return t;
	if (isalpha((unsigned char)*p) || *p == '_') {
		for (n = 0; isalnum((unsigned char)p[n]) || p[n] == '_'; n++)
			;
		if (n >= NAME_LEN) {
			r->tok = t;
			bad(r, "a name longer than %d characters", NAME_LEN - 1);
		}
		t.kind = T_ID;
		memcpy(t.s, p, n);
		t.s[n] = '\0';
		r->pos += n;
		return t;
	}
	if (isdigit((unsigned char)*p)) {
		char *end;

		errno = 0;
		t.v = strtol(p, &end, 0);
		if (errno || isalnum((unsigned char)*end) || end - p >= NAME_LEN) {
			r->tok = t;
			bad(r, "'%.20s' is not a number this reader takes", p);
		}
		t.kind = T_NUM;
		memcpy(t.s, p, end - p);
		t.s[end - p] = '\0';
		r->pos = end;
		return t;
	}
	t.kind = T_PUNCT;
	for (i = 0; i < sizeof(punct) / sizeof(punct[0]); i++)
		if (!strncmp(p, punct[i], 2)) {
			memcpy(t.s, p, 2);
			r->pos += 2;
			return t;
		}
	t.s[0] = *p;
	r->pos++;
	return t;
}

/** Advance to the next token. */
static void next(struct reader *r)
{
	if (r->peeked) {
		r->tok = r->peek;
		r->peeked = false;
	} else {
		r->tok = lex(r);
	}
}

/** The token after the current one. */
static const struct tok *peek(struct reader *r)
{
	if (!r->peeked) {
		r->peek = lex(r);
		r->peeked = true;
	}
	return &r->peek;
}

/** Is the current token \a s? */
static bool is(const struct reader *r, const char *s)
{
	return r->tok.kind != T_EOF && !strcmp(r->tok.s, s);
}

/** The current token must be \a s: skip it. */
static void expect(struct reader *r, const char *s)
{
	if (!is(r, s))
		bad(r, "expected '%s', found '%s'", s,
		    r->tok.kind == T_EOF ? "the end of the file" : r->tok.s);
	next(r);
}

/** A name, which the reader skips. */
static void name(struct reader *r, char *out)
{
	if (r->tok.kind != T_ID)
		bad(r, "expected a name, found '%s'",
		    r->tok.kind == T_EOF ? "the end of the file" : r->tok.s);
	snprintf(out, NAME_LEN, "%s", r->tok.s);
	next(r);
}

/** Index of location \a s, or -1. */
static int loc_index(const struct test *t, const char *s)
{
	int i;

	for (i = 0; i < t->nlocs; i++)
		if (!strcmp(t->loc[i], s))
			return i;
	return -1;
}

/** Index of lock \a s, or -1. */
static int lock_index(const struct test *t, const char *s)
{
	int i;

	for (i = 0; i < t->nlocks; i++)
		if (!strcmp(t->lock[i], s))
			return i;
	return -1;
}

/** Location \a s, made if new. */
static int loc_add(struct reader *r, const char *s)
{
	struct test *t = r->t;
	int i = loc_index(t, s);

	if (i >= 0)
		return i;
	if (lock_index(t, s) >= 0)
		bad(r, "'%s' is a lock, not a word", s);
	if (t->nlocs == MAX_LOCS)
		bad(r, "more than %d shared words", MAX_LOCS);
	snprintf(t->loc[t->nlocs], NAME_LEN, "%s", s);
	t->init_loc[t->nlocs] = -1;
	return t->nlocs++;
}

/** Lock \a s, made if new. */
static int lock_add(struct reader *r, const char *s)
{
	struct test *t = r->t;
	int i = lock_index(t, s);

	if (i >= 0)
		return i;
	if (loc_index(t, s) >= 0)
		bad(r, "'%s' is a word, not a lock", s);
	if (t->nlocks == SIM_LITMUS_LOCKS)
		bad(r, "more than %d locks", SIM_LITMUS_LOCKS);
	snprintf(t->lock[t->nlocks], NAME_LEN, "%s", s);
	return t->nlocks++;
}

/** Register \a s of \a p, or -1. */
static int reg_index(const struct proc *p, const char *s)
{
	int i;

	for (i = 0; i < p->nregs; i++)
		if (!strcmp(p->reg[i], s))
			return i;
	return -1;
}

/** Register \a s of \a p, made if new. */
static int reg_add(struct reader *r, struct proc *p, const char *s)
{
	int i = reg_index(p, s);

	if (i >= 0)
		return i;
	if (p->nregs == MAX_REGS)
		bad(r, "more than %d registers in a thread", MAX_REGS);
	snprintf(p->reg[p->nregs], NAME_LEN, "%s", s);
	p->init_loc[p->nregs] = -1;
	return p->nregs++;
}

/**
 * Does a type begin here?  A type this reader takes; any other that a
 * litmus test might use (atomic_t and the rest) is refused by name.
 */
static bool type_here(const struct reader *r)
{
	static const char *const refused[] = {
		"atomic_t", "atomic_long_t", "struct", "char", "bool",
		"u8", "u16", "u32", "u64", "short",
	};
	size_t i;

	if (r->tok.kind != T_ID)
		return false;
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (!strcmp(r->tok.s, refused[i])) {
			char what[64];

			snprintf(what, sizeof(what), "the type '%s'", r->tok.s);
			outside(r, what);
		}
	return is(r, "int") || is(r, "intptr_t") || is(r, "long") ||
	       is(r, "unsigned") || is(r, "spinlock_t");
}

/**
 * A type this reader takes, which it skips; whether it was a lock's.
 * Refuses any other: atomic_t and the rest are outside the fragment.
 */
static bool type(struct reader *r, bool *is_lock)
{
	*is_lock = false;
	if (!type_here(r))
		return false;
	if (is(r, "int") || is(r, "intptr_t") || is(r, "long") ||
	    is(r, "unsigned")) {
		next(r);
		if (is(r, "int") || is(r, "long"))
			next(r);
		*is_lock = false;
		return true;
	}
	if (is(r, "spinlock_t")) {
		next(r);
		*is_lock = true;
		return true;
	}
	return false;
}

/** A value of the initial state or the condition: a number or an address. */
static void value(struct reader *r, long *v, int *vloc)
{
	bool neg = false;

	*v = 0;
	*vloc = -1;
	if (is(r, "&"))
		next(r);
	if (is(r, "-")) {
		neg = true;
		next(r);
	}
	if (r->tok.kind == T_NUM) {
		*v = neg ? -r->tok.v : r->tok.v;
		next(r);
		return;
	}
	if (r->tok.kind == T_ID && !neg) {
		*vloc = loc_add(r, r->tok.s);
		next(r);
		return;
	}
	bad(r, "expected a value, found '%s'", r->tok.s);
}

/** The initial state: { ... }. */
static void read_init(struct reader *r)
{
	struct test *t = r->t;

	expect(r, "{");
	while (!is(r, "}")) {
		char n[NAME_LEN];
		bool lock = false, typed = type(r, &lock);
		long v;
		int vloc;

		while (is(r, "*"))
			next(r);
		if (r->tok.kind == T_NUM) {	/* a register: P:reg=v */
			long pn = r->tok.v;
			struct proc *p;
			int reg;

			next(r);
			expect(r, ":");
			name(r, n);
			if (pn < 0 || pn >= MAX_PROCS)
				bad(r, "no thread P%ld", pn);
			p = &t->p[pn];
			reg = reg_add(r, p, n);
			expect(r, "=");
			value(r, &p->init[reg], &p->init_loc[reg]);
			expect(r, ";");
			continue;
		}
		name(r, n);
		if (lock) {
			lock_add(r, n);
		} else {
			int l = loc_add(r, n);

			if (is(r, "=")) {
				next(r);
				value(r, &v, &vloc);
				t->init[l] = v;
				t->init_loc[l] = vloc;
			}
		}
		(void)typed;
		if (!is(r, "}"))
			expect(r, ";");
	}
	next(r);
}

static int read_expr(struct reader *r);

/** A new expression node. */
static int expr_node(struct reader *r, char op, long v, int a, int b)
{
	struct test *t = r->t;

	if (t->nexprs == MAX_EXPRS)
		bad(r, "more than %d expression nodes", MAX_EXPRS);
	t->ex[t->nexprs] = (struct expr){ op, v, a, b };
	return t->nexprs++;
}

/** A function this reader knows as a statement, or an error. */
static noreturn void unknown_call(const struct reader *r, const char *fn)
{
	char what[80];

	snprintf(what, sizeof(what), "%s()", fn);
	outside(r, what);
}

/** A primary expression: number, register, location, ( e ), unary. */
static int read_primary(struct reader *r)
{
	struct proc *p = r->proc;
	int i;

	if (is(r, "(")) {
		next(r);
		i = read_expr(r);
		expect(r, ")");
		return i;
	}
	if (is(r, "!") || is(r, "~") || is(r, "-")) {
		char op = is(r, "-") ? 'u' : r->tok.s[0];

		next(r);
		i = read_primary(r);
		return expr_node(r, op, 0, i, -1);
	}
	if (is(r, "*"))
		outside(r, "a plain C access (*x outside READ_ONCE())");
	if (is(r, "&"))
		next(r);
	if (r->tok.kind == T_NUM) {
		long v = r->tok.v;

		next(r);
		return expr_node(r, 'n', v, -1, -1);
	}
	if (r->tok.kind == T_ID) {
		char n[NAME_LEN];

		if (peek(r)->kind == T_PUNCT && !strcmp(peek(r)->s, "("))
			unknown_call(r, r->tok.s);	/* in an expression */
		name(r, n);
		if ((i = reg_index(p, n)) >= 0)
			return expr_node(r, 'r', 0, i, -1);
		if ((i = loc_index(r->t, n)) >= 0)
			return expr_node(r, 'l', 0, i, -1);
		bad(r, "'%s' is neither a register of this thread nor a "
		    "shared word", n);
	}
	bad(r, "expected an expression, found '%s'",
	    r->tok.kind == T_EOF ? "the end of the file" : r->tok.s);
}

/** Binary operators by precedence, loosest first, and their codes. */
static const struct {
	const char *tok;	/**< as written */
	char op;		/**< struct expr's code */
	int prec;		/**< higher binds tighter */
} binops[] = {
	{ "||", 'o', 1 }, { "&&", 'a', 2 }, { "|", '|', 3 }, { "^", '^', 4 },
	{ "&", '&', 5 }, { "==", '=', 6 }, { "!=", '#', 6 }, { "<", '<', 7 },
	{ ">", '>', 7 }, { "<=", '[', 7 }, { ">=", ']', 7 }, { "+", '+', 8 },
	{ "-", '-', 8 },
};

/** An expression whose operators bind at least as tightly as \a prec. */
static int read_binary(struct reader *r, int prec)
{
	int lhs = read_primary(r);

	for (;;) {
		size_t i;
		int rhs;

		for (i = 0; i < sizeof(binops) / sizeof(binops[0]); i++)
			if (r->tok.kind == T_PUNCT && is(r, binops[i].tok) &&
			    binops[i].prec >= prec)
				break;
		if (i == sizeof(binops) / sizeof(binops[0]))
			return lhs;
		next(r);
		rhs = read_binary(r, binops[i].prec + 1);
		lhs = expr_node(r, binops[i].op, 0, lhs, rhs);
	}
}

static int read_expr(struct reader *r)
{
	if (is(r, "*") || (r->tok.kind == T_ID && is(r, "READ_ONCE")))
		outside(r, "a load inside an expression");
	return read_binary(r, 1);
}

/** Append an instruction to the thread being read. */
static struct insn *emit(struct reader *r, enum insn_kind kind)
{
	struct proc *p = r->proc;
	struct insn *in;

	if (p->ninsn == MAX_INSNS)
		bad(r, "more than %d instructions in a thread", MAX_INSNS);
	in = &p->insn[p->ninsn++];
	*in = (struct insn){ .kind = kind, .line = r->tok.line, .reg = -1,
			     .loc = -1, .areg = -1, .expr = -1,
			     .target = -1 };
	return in;
}

/** Is \a n among the words and locks the current thread was given? */
static bool is_param(const struct reader *r, int n, bool lock)
{
	int i;

	for (i = 0; i < r->proc->nparams; i++)
		if (r->proc->param[i] == n && r->proc->param_lock[i] == lock)
			return true;
	return false;
}

/**
 * The word a load or store names: "*x" (\a star) or "x", where x is a
 * word the thread was given or a register holding a word's address.
 */
static void read_place(struct reader *r, struct insn *in, bool star)
{
	char n[NAME_LEN];
	int i;

	if (star)
		expect(r, "*");
	else if (is(r, "*"))
		bad(r, "'%s' takes a pointer, not '*%s'", "this call",
		    peek(r)->s);
	name(r, n);
	if ((i = reg_index(r->proc, n)) >= 0) {
		in->areg = i;
		return;
	}
	i = loc_index(r->t, n);
	if (i < 0 || !is_param(r, i, false))
		bad(r, "'%s' is not a word this thread was given", n);
	in->loc = i;
}

/** The lock spin_lock() or spin_unlock() names. */
static int read_lock(struct reader *r)
{
	char n[NAME_LEN];
	int i;

	if (is(r, "&"))
		next(r);
	name(r, n);
	i = lock_index(r->t, n);
	if (i < 0 || !is_param(r, i, true))
		bad(r, "'%s' is not a lock this thread was given", n);
	return i;
}

/** reg = a load: READ_ONCE(), smp_load_acquire(), rcu_dereference(). */
static bool read_load(struct reader *r, int reg)
{
	struct insn *in;
	enum access acc;

	if (r->tok.kind != T_ID || peek(r)->kind != T_PUNCT ||
	    strcmp(peek(r)->s, "("))
		return false;
	if (is(r, "READ_ONCE"))
		acc = A_ONCE;
	else if (is(r, "smp_load_acquire"))
		acc = A_ACQUIRE;
	else if (is(r, "rcu_dereference"))
		acc = A_DEREF;
	else
		unknown_call(r, r->tok.s);
	next(r);
	expect(r, "(");
	in = emit(r, I_LOAD);
	in->reg = reg;
	in->acc = acc;
	read_place(r, in, acc != A_ACQUIRE);
	expect(r, ")");
	return true;
}

/** The barriers the reader knows, by name. */
static const struct {
	const char *name;	/**< as called */
	enum sim_barrier b;	/**< as the model has it */
} fences[] = {
	{ "smp_mb", SIM_SMP_MB },
	{ "smp_wmb", SIM_SMP_WMB },
	{ "smp_rmb", SIM_SMP_RMB },
	/* A full barrier after the lock it follows (LKMM: a strong fence). */
	{ "smp_mb__after_spinlock", SIM_SMP_MB },
	/* Before 4.15: a full barrier on Alpha, nothing elsewhere. */
	{ "smp_read_barrier_depends", SIM_READ_BARRIER_DEPENDS },
};

/** A call as a statement: a store, a barrier, a lock, RCU. */
static void read_call(struct reader *r)
{
	char fn[NAME_LEN];
	struct insn *in;
	size_t i;

	name(r, fn);
	expect(r, "(");
	for (i = 0; i < sizeof(fences) / sizeof(fences[0]); i++)
		if (!strcmp(fn, fences[i].name)) {
			in = emit(r, I_FENCE);
			in->fence = fences[i].b;
			expect(r, ")");
			return;
		}
	if (!strcmp(fn, "rcu_read_lock") || !strcmp(fn, "rcu_read_unlock")) {
		emit(r, I_NOP);
	} else if (!strcmp(fn, "spin_lock") || !strcmp(fn, "spin_unlock")) {
		in = emit(r, fn[5] == 'l' ? I_LOCK : I_UNLOCK);
		in->loc = read_lock(r);
	} else if (!strcmp(fn, "WRITE_ONCE") ||
		   !strcmp(fn, "smp_store_release") ||
		   !strcmp(fn, "rcu_assign_pointer")) {
		in = emit(r, I_STORE);
		in->acc = fn[0] == 'W' ? A_ONCE : A_RELEASE;
		read_place(r, in, fn[0] != 's');
		expect(r, ",");
		in->expr = read_expr(r);
	} else {
		unknown_call(r, fn);
	}
	expect(r, ")");
}

static void read_stmt(struct reader *r);

/** int r0; int *r1 = e; int a, b; */
static void read_decl(struct reader *r)
{
	bool lock;

	type(r, &lock);
	if (lock)
		outside(r, "a lock declared inside a thread");
	for (;;) {
		char n[NAME_LEN];
		int reg;

		while (is(r, "*"))
			next(r);
		name(r, n);
		if (loc_index(r->t, n) >= 0 || lock_index(r->t, n) >= 0)
			bad(r, "'%s' is already a shared word or lock", n);
		reg = reg_add(r, r->proc, n);
		if (is(r, "=")) {
			next(r);
			if (!read_load(r, reg)) {
				struct insn *in = emit(r, I_SET);

				in->reg = reg;
				in->expr = read_expr(r);
			}
		}
		if (!is(r, ","))
			break;
		next(r);
	}
	expect(r, ";");
}

/** if (e) S [else S] */
static void read_if(struct reader *r)
{
	struct insn *br, *jmp;

	next(r);
	expect(r, "(");
	br = emit(r, I_BRANCH);
	br->expr = read_expr(r);
	expect(r, ")");
	read_stmt(r);
	if (!is(r, "else")) {
		br->target = r->proc->ninsn;
		return;
	}
	next(r);
	jmp = emit(r, I_JUMP);
	br->target = r->proc->ninsn;
	read_stmt(r);
	jmp->target = r->proc->ninsn;
}

/** One statement of a thread. */
static void read_stmt(struct reader *r)
{
	if (is(r, ";")) {
		next(r);
	} else if (is(r, "{")) {
		next(r);
		while (!is(r, "}")) {
			if (r->tok.kind == T_EOF)
				bad(r, "a block without its '}'");
			read_stmt(r);
		}
		next(r);
	} else if (is(r, "if")) {
		read_if(r);
	} else if (is(r, "while") || is(r, "for") || is(r, "do") ||
		   is(r, "goto") || is(r, "switch") || is(r, "return")) {
		char what[64];

		snprintf(what, sizeof(what), "'%s'", r->tok.s);
		outside(r, what);
	} else if (is(r, "*")) {
		outside(r, "a plain C access (*x = ...)");
	} else if (type_here(r)) {
		read_decl(r);
	} else if (r->tok.kind == T_ID && peek(r)->kind == T_PUNCT &&
		   !strcmp(peek(r)->s, "(")) {
		read_call(r);
		expect(r, ";");
	} else if (r->tok.kind == T_ID) {
		char n[NAME_LEN];
		int reg;

		name(r, n);
		reg = reg_index(r->proc, n);
		if (reg < 0) {
			if (loc_index(r->t, n) >= 0)
				outside(r, "a plain C access (a shared word "
					   "assigned without WRITE_ONCE())");
			bad(r, "'%s' is not a declared register", n);
		}
		expect(r, "=");
		if (!read_load(r, reg)) {
			struct insn *in = emit(r, I_SET);

			in->reg = reg;
			in->expr = read_expr(r);
		}
		expect(r, ";");
	} else {
		bad(r, "expected a statement, found '%s'",
		    r->tok.kind == T_EOF ? "the end of the file" : r->tok.s);
	}
}

/** The source of a thread's body, squeezed onto one line. */
static void squeeze(char *out, size_t len, const char *from, const char *to)
{
	size_t n = 0;
	bool space = false;

	while (from < to && n + 1 < len) {
		char c = *from++;

		if (c == '/' && *from == '/') {		/* a // comment */
			while (from < to && *from != '\n')
				from++;
			continue;
		}
		if (isspace((unsigned char)c)) {
			space = n > 0;
			continue;
		}
		if (space && n + 2 < len)
			out[n++] = ' ';
		space = false;
		out[n++] = c;
	}
	out[n] = '\0';
}

/** P<n>(params) { body } */
static void read_proc(struct reader *r)
{
	struct test *t = r->t;
	const char *body;
	struct proc *p;
	char *end;
	long n;

	if (r->tok.kind != T_ID || r->tok.s[0] != 'P' ||
	    !isdigit((unsigned char)r->tok.s[1]))
		bad(r, "expected a thread P0, P1, ..., found '%s'", r->tok.s);
	n = strtol(r->tok.s + 1, &end, 10);
	if (*end || n != t->nprocs)
		bad(r, "threads must be P0, P1, ... in order: found '%s'",
		    r->tok.s);
	if (n >= MAX_PROCS)
		bad(r, "more than %d threads", MAX_PROCS);
	p = &t->p[t->nprocs++];
	r->proc = p;
	next(r);
	expect(r, "(");
	while (!is(r, ")")) {
		char pn[NAME_LEN];
		bool lock = false;
		int i;

		if (!type(r, &lock))
			bad(r, "expected a parameter's type, found '%s'",
			    r->tok.s);
		while (is(r, "*"))
			next(r);
		name(r, pn);
		i = lock ? lock_add(r, pn) : loc_add(r, pn);
		p->param_lock[p->nparams] = lock;
		p->param[p->nparams++] = i;
		if (!is(r, ")"))
			expect(r, ",");
	}
	next(r);
	if (!is(r, "{"))
		bad(r, "expected the thread's '{', found '%s'", r->tok.s);
	body = r->pos;
	r->in_code = true;
	next(r);
	while (!is(r, "}")) {
		if (r->tok.kind == T_EOF)
			bad(r, "thread P%ld has no closing '}'", n);
		read_stmt(r);
	}
	squeeze(p->code, sizeof(p->code), body, r->pos - 1);
	r->in_code = false;
	next(r);
}

static int read_prop(struct reader *r);

/** A new node of the condition. */
static int prop_node(struct reader *r, struct prop pn)
{
	struct test *t = r->t;

	if (t->nprops == MAX_PROPS)
		bad(r, "a condition of more than %d nodes", MAX_PROPS);
	t->pr[t->nprops] = pn;
	return t->nprops++;
}

/** Add a column to the final state, once. */
static void add_col(struct reader *r, int proc, int idx)
{
	struct test *t = r->t;
	int i;

	for (i = 0; i < t->ncols; i++)
		if (t->col[i].proc == proc && t->col[i].idx == idx)
			return;
	if (t->ncols == MAX_COLS)
		bad(r, "a final state of more than %d values", MAX_COLS);
	t->col[t->ncols++] = (struct col){ proc, idx };
}

/** "n:r" or "x": a register of a thread, or a word.  Adds its column. */
static void read_atom_place(struct reader *r, struct prop *pn)
{
	char n[NAME_LEN];

	if (r->tok.kind == T_NUM) {
		long pnum = r->tok.v;

		next(r);
		expect(r, ":");
		name(r, n);
		if (pnum < 0 || pnum >= r->t->nprocs)
			bad(r, "no thread P%ld", pnum);
		pn->op = 'r';
		pn->proc = (int)pnum;
		pn->idx = reg_index(&r->t->p[pnum], n);
		if (pn->idx < 0)
			bad(r, "P%ld has no register '%s'", pnum, n);
		add_col(r, pn->proc, pn->idx);
		return;
	}
	if (is(r, "[")) {		/* [x]: herd7's other way to say x */
		next(r);
		name(r, n);
		expect(r, "]");
	} else {
		name(r, n);
	}
	pn->op = 'm';
	pn->proc = -1;
	pn->idx = loc_index(r->t, n);
	if (pn->idx < 0)
		bad(r, "'%s' is not a shared word", n);
	add_col(r, -1, pn->idx);
}

/** An atom, ~P, (P), true or false. */
static int read_unary_prop(struct reader *r)
{
	struct prop pn = { .vloc = -1, .a = -1, .b = -1 };

	if (is(r, "~") || is(r, "not")) {
		next(r);
		pn.op = '~';
		pn.a = read_unary_prop(r);
		return prop_node(r, pn);
	}
	if (is(r, "(")) {
		int i;

		next(r);
		i = read_prop(r);
		expect(r, ")");
		return i;
	}
	if (is(r, "true") || is(r, "false")) {
		pn.op = r->tok.s[0];
		next(r);
		return prop_node(r, pn);
	}
	read_atom_place(r, &pn);
	expect(r, "=");
	value(r, &pn.v, &pn.vloc);
	return prop_node(r, pn);
}

/** P /\ P ... */
static int read_and(struct reader *r)
{
	int a = read_unary_prop(r);

	while (is(r, "/\\")) {
		struct prop pn = { .op = '&', .vloc = -1, .a = a };

		next(r);
		pn.b = read_unary_prop(r);
		a = prop_node(r, pn);
	}
	return a;
}

static int read_prop(struct reader *r)
{
	int a = read_and(r);

	while (is(r, "\\/")) {
		struct prop pn = { .op = '|', .vloc = -1, .a = a };

		next(r);
		pn.b = read_and(r);
		a = prop_node(r, pn);
	}
	return a;
}

/** locations [x; 0:r1; ...] */
static void read_locations(struct reader *r)
{
	next(r);
	expect(r, "[");
	while (!is(r, "]")) {
		struct prop pn;

		read_atom_place(r, &pn);
		if (!is(r, "]"))
			expect(r, ";");
	}
	next(r);
}

/**
 * Write condition node \a i to \a out (of \a len), as herd7 would: a
 * conjunction or disjunction inside another of a different kind in
 * parentheses (\a outer: the enclosing node's operator, or 0).
 */
static void prop_text(const struct test *t, int i, char outer, char *out,
		      size_t len)
{
	const struct prop *pn = &t->pr[i];
	size_t n = strlen(out);
	bool paren;

	if (n + 1 >= len)
		return;
	out += n;
	len -= n;
	switch (pn->op) {
	case 't':
	case 'f':
		snprintf(out, len, "%s", pn->op == 't' ? "true" : "false");
		return;
	case '~':
		snprintf(out, len, "~");
		prop_text(t, pn->a, '~', out, len);
		return;
	case '&':
	case '|':
		paren = outer && outer != pn->op;
		snprintf(out, len, "%s", paren ? "(" : "");
		prop_text(t, pn->a, pn->op, out, len);
		n = strlen(out);
		snprintf(out + n, len - n, " %s ", pn->op == '&' ? "/\\" :
			 "\\/");
		prop_text(t, pn->b, pn->op, out, len);
		n = strlen(out);
		snprintf(out + n, len - n, "%s", paren ? ")" : "");
		return;
	}
	if (pn->op == 'r')
		n = snprintf(out, len, "%d:%s=", pn->proc,
			     t->p[pn->proc].reg[pn->idx]);
	else
		n = snprintf(out, len, "%s=", t->loc[pn->idx]);
	if (n < len && pn->vloc >= 0)
		snprintf(out + n, len - n, "%s", t->loc[pn->vloc]);
	else if (n < len)
		snprintf(out + n, len - n, "%ld", pn->v);
}

/** The condition: exists, ~exists or forall, and its proposition. */
static void read_cond(struct reader *r)
{

	if (is(r, "locations"))
		read_locations(r);
	if (is(r, "filter"))
		outside(r, "a filter clause");
	if (is(r, "~")) {
		next(r);
		if (!is(r, "exists"))
			bad(r, "expected 'exists' after '~'");
		r->t->quant = Q_NOT_EXISTS;
	} else if (is(r, "exists")) {
		r->t->quant = Q_EXISTS;
	} else if (is(r, "forall")) {
		r->t->quant = Q_FORALL;
	} else {
		bad(r, "expected the condition (exists, ~exists, forall), "
		    "found '%s'", r->tok.kind == T_EOF ? "the end of the file"
						       : r->tok.s);
	}
	next(r);
	r->t->cond = read_prop(r);
	prop_text(r->t, r->t->cond, 0, r->t->cond_text,
		  sizeof(r->t->cond_text));
	if (r->tok.kind != T_EOF)
		bad(r, "'%s' after the condition", r->tok.s);
}

/** The expected verdict: "Result: X" in a comment (the kernel's form). */
static void read_result(struct test *t, const char *text)
{
	const char *p = strstr(text, "Result:");

	if (!p)
		return;
	p += 7;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!strncmp(p, "Never", 5) || !strncmp(p, "Sometimes", 9) ||
	    !strncmp(p, "Always", 6))
		sscanf(p, "%15[A-Za-z]", t->result);
}

/** Read \a file into \a t; exits 2 with a message on anything it refuses. */
static void read_test(struct test *t, const char *file)
{
	struct reader r = { .t = t, .line = 1 };
	size_t len = 0, cap = 0;
	char *text = NULL, *nl;
	FILE *f;
	int c;

	memset(t, 0, sizeof(*t));
	t->file = file;
	r.tok.line = 1;
	f = fopen(file, "r");
	if (!f) {
		ex_usage_error(prog, "%s: %s", file, strerror(errno));
	}
	while ((c = fgetc(f)) != EOF) {
		if (len + 2 > cap) {
			cap = cap ? 2 * cap : 4096;
			text = realloc(text, cap);
			if (!text || cap > (1u << 20)) {
				ex_usage_error(prog, "%s: too big for a litmus "
					       "test", file);
			}
		}
		if (!c)
			bad(&r, "a NUL byte: not a litmus test");
		text[len++] = (char)c;
	}
	if (ferror(f))
		ex_usage_error(prog, "%s: %s", file, strerror(errno));
	fclose(f);
	if (!text)
		bad(&r, "an empty file: not a litmus test");
	text[len] = '\0';
	r.text = text;
	/* The first line: C NAME. */
	if (text[0] != 'C' || (text[1] != ' ' && text[1] != '\t'))
		bad(&r, "the first line must be 'C NAME' (a C litmus test)");
	nl = strchr(text, '\n');
	snprintf(t->name, sizeof(t->name), "%.*s",
		 (int)((nl ? nl : text + len) - text - 2), text + 2);
	for (len = strlen(t->name); len && isspace((unsigned char)
						   t->name[len - 1]); )
		t->name[--len] = '\0';
	if (!t->name[0])
		bad(&r, "the test has no name");
	read_result(t, text);
	r.pos = nl ? nl : text + len;
	next(&r);
	if (is(&r, "{"))
		read_init(&r);
	else
		bad(&r, "expected the initial state '{ ... }', found '%s'",
		    r.tok.s);
	while (r.tok.kind == T_ID && r.tok.s[0] == 'P' &&
	       isdigit((unsigned char)r.tok.s[1]))
		read_proc(&r);
	if (!t->nprocs)
		bad(&r, "no threads P0, P1, ...");
	read_cond(&r);
	free(text);
}

/* ---------------------------------------------------------------- */
/* Running. */

/** The shared words of the test being run. */
static _Atomic unsigned long words[MAX_LOCS];

/** One thread's state in a run. */
struct thread {
	const struct test *t;		/**< its test */
	const struct proc *p;		/**< its code */
	int id;				/**< its number */
	long reg[MAX_REGS];		/**< its registers */
	unsigned long dep[MAX_REGS];	/**< loads each register's value
					     came from (a bit per load) */
	bool done[MAX_INSNS];		/**< stores performed early */
};

static struct thread threads[MAX_PROCS];

/** A value as a word holds it: a location's name is its address. */
static long loc_addr(int l)
{
	return (long)(uintptr_t)&words[l];
}

/** Evaluate expression \a i; \a dep collects the loads it uses. */
static long eval(const struct thread *th, int i, unsigned long *dep)
{
	const struct expr *e = &th->t->ex[i];
	long a, b;

	switch (e->op) {
	case 'n':
		return e->v;
	case 'r':
		*dep |= th->dep[e->a];
		return th->reg[e->a];
	case 'l':
		return loc_addr(e->a);
	case '!':
		return !eval(th, e->a, dep);
	case '~':
		return ~eval(th, e->a, dep);
	case 'u':
		return -eval(th, e->a, dep);
	}
	a = eval(th, e->a, dep);
	b = eval(th, e->b, dep);
	switch (e->op) {
	case '+': return (long)((unsigned long)a + (unsigned long)b);
	case '-': return (long)((unsigned long)a - (unsigned long)b);
	case '&': return a & b;
	case '|': return a | b;
	case '^': return a ^ b;
	case '=': return a == b;
	case '#': return a != b;
	case '<': return a < b;
	case '>': return a > b;
	case '[': return a <= b;
	case ']': return a >= b;
	case 'a': return a && b;
	default: return a || b;		/* 'o' */
	}
}

/** Does expression \a i read register \a reg? */
static bool uses_reg(const struct test *t, int i, int reg)
{
	const struct expr *e = &t->ex[i];

	if (e->op == 'r')
		return e->a == reg;
	if (e->op == 'n' || e->op == 'l')
		return false;
	return uses_reg(t, e->a, reg) ||
	       (e->b >= 0 && strchr("!~u", e->op) == NULL &&
		uses_reg(t, e->b, reg));
}

/** A run found a thread dereferencing what is not a word: bad input. */
static noreturn void bad_pointer(const struct thread *th, const struct insn *in,
				 long v)
{
	ex_usage_error(prog, "%s:%d: P%d dereferences %s, which holds %ld, "
		       "not a shared word's address", th->t->file, in->line,
		       th->id, th->p->reg[in->areg], v);
}

/** The word instruction \a in names, now. */
static _Atomic unsigned long *place(const struct thread *th,
				    const struct insn *in, unsigned long *dep)
{
	long v;
	int l;

	if (in->areg < 0)
		return &words[in->loc];
	v = th->reg[in->areg];
	*dep |= th->dep[in->areg];
	for (l = 0; l < th->t->nlocs; l++)
		if (v == loc_addr(l))
			return &words[l];
	bad_pointer(th, in, v);
}

/** The name of the word at \a w, for traces. */
static const char *word_name(const struct thread *th,
			     const _Atomic unsigned long *w)
{
	return th->t->loc[w - words];
}

/**
 * Load buffering: the store a CPU about to run instruction \a pc may
 * perform first, or -1.  Only READ_ONCE()s (and rcu_read_lock()s) of
 * fixed words lie between, none of them of its word nor feeding its
 * value; it is a WRITE_ONCE() to a fixed word.  Stores already performed
 * early are passed over.
 */
static int early_store(const struct thread *th, int pc)
{
	const struct proc *p = th->p;
	int j, k, loads = 0;

	for (j = pc; j < p->ninsn; j++) {
		const struct insn *in = &p->insn[j];

		if (th->done[j] || in->kind == I_NOP)
			continue;
		if (in->kind == I_LOAD && in->areg < 0 &&
		    (in->acc == A_ONCE || in->acc == A_DEREF)) {
			loads++;
			continue;
		}
		if (in->kind != I_STORE || in->acc != A_ONCE || in->areg >= 0 ||
		    !loads)
			return -1;
		for (k = pc; k < j; k++) {
			const struct insn *l = &p->insn[k];

			if (th->done[k] || l->kind != I_LOAD)
				continue;
			if (l->loc == in->loc || uses_reg(th->t, in->expr, l->reg))
				return -1;
		}
		return j;
	}
	return -1;
}

/** Perform store instruction \a in. */
static void do_store(struct thread *th, const struct insn *in)
{
	unsigned long dep = 0;
	_Atomic unsigned long *w = place(th, in, &dep);
	long v = eval(th, in->expr, &dep);

	if (in->acc == A_RELEASE)
		sim_store_release(w, (unsigned long)v, word_name(th, w));
	else
		sim_write_once(w, (unsigned long)v, word_name(th, w));
}

/** A thread of a litmus test: its instructions, in order, as the model runs them. */
static void thread_fn(void *arg)
{
	struct thread *th = arg;
	const struct proc *p = th->p;
	int pc = 0, j;

	while (pc < p->ninsn) {
		const struct insn *in = &p->insn[pc];
		unsigned long dep = 0;
		_Atomic unsigned long *w;
		unsigned int n;
		char what[64];

		if (th->done[pc]) {
			pc++;
			continue;
		}
		/* Load buffering: a later store first, if nothing orders it. */
		while ((j = early_store(th, pc)) >= 0) {
			snprintf(what, sizeof(what), "store to %s before loads",
				 th->t->loc[p->insn[j].loc]);
			if (!sim_choose_early(2, what))
				break;
			do_store(th, &p->insn[j]);
			th->done[j] = true;
		}
		switch (in->kind) {
		case I_LOAD:
			w = place(th, in, &dep);
			for (n = 0; n < 8 * sizeof(dep); n++)
				if (dep >> n & 1)
					sim_depend_on(n);
			n = sim_loads_made();
			th->reg[in->reg] = (long)(in->acc == A_ACQUIRE ?
				sim_load_acquire(w, word_name(th, w)) :
				sim_read_once(w, word_name(th, w)));
			th->dep[in->reg] = n < 8 * sizeof(dep) ? 1UL << n : 0;
			/* rcu_dereference() has always ordered on Alpha. */
			if (in->acc == A_DEREF)
				sim_barrier(SIM_READ_BARRIER_DEPENDS);
			break;
		case I_STORE:
			do_store(th, in);
			break;
		case I_FENCE:
			sim_barrier(in->fence);
			break;
		case I_LOCK:
			sim_spin_lock((unsigned int)in->loc,
				      th->t->lock[in->loc]);
			break;
		case I_UNLOCK:
			sim_spin_unlock((unsigned int)in->loc);
			break;
		case I_SET:
			th->reg[in->reg] = eval(th, in->expr, &dep);
			th->dep[in->reg] = dep;
			break;
		case I_BRANCH:
			if (!eval(th, in->expr, &dep)) {
				pc = in->target;
				continue;
			}
			break;
		case I_JUMP:
			pc = in->target;
			continue;
		case I_NOP:
			break;
		}
		pc++;
	}
}

/** The final states seen, and how many schedules ended in each. */
static struct {
	int n;					/**< distinct states */
	long v[MAX_STATES][MAX_COLS];		/**< their values */
	bool overflow;				/**< more than MAX_STATES */
} states;

/** Is the condition's node \a i true of state \a v? */
static bool holds(const struct test *t, int i, const long *v)
{
	const struct prop *pn = &t->pr[i];
	long want;
	int c;

	switch (pn->op) {
	case 't':
		return true;
	case 'f':
		return false;
	case '~':
		return !holds(t, pn->a, v);
	case '&':
		return holds(t, pn->a, v) && holds(t, pn->b, v);
	case '|':
		return holds(t, pn->a, v) || holds(t, pn->b, v);
	}
	want = pn->vloc >= 0 ? loc_addr(pn->vloc) : pn->v;
	for (c = 0; c < t->ncols; c++)
		if (t->col[c].proc == (pn->op == 'r' ? pn->proc : -1) &&
		    t->col[c].idx == pn->idx)
			return v[c] == want;
	return false;
}

/** Write down the final state of the run just ended. */
static void record_state(const struct test *t)
{
	long v[MAX_COLS];
	int c, i;

	for (c = 0; c < t->ncols; c++)
		v[c] = t->col[c].proc < 0 ?
		       (long)atomic_load(&words[t->col[c].idx]) :
		       threads[t->col[c].proc].reg[t->col[c].idx];
	for (i = 0; i < states.n; i++)
		if (!memcmp(states.v[i], v, t->ncols * sizeof(v[0])))
			return;
	if (states.n == MAX_STATES) {
		states.overflow = true;
		return;
	}
	memcpy(states.v[states.n++], v, t->ncols * sizeof(v[0]));
}

/** One schedule of a test (explore_fn). */
static int run_test(void *ctx, struct sim_choices *c)
{
	const struct test *t = ctx;
	struct sim_actor_spec actors[MAX_PROCS];
	static char names[MAX_PROCS][8];
	int i, r;

	for (i = 0; i < t->nlocs; i++)
		atomic_store(&words[i], t->init_loc[i] >= 0 ?
			     (unsigned long)loc_addr(t->init_loc[i]) :
			     (unsigned long)t->init[i]);
	for (i = 0; i < t->nprocs; i++) {
		struct thread *th = &threads[i];

		memset(th, 0, sizeof(*th));
		th->t = t;
		th->p = &t->p[i];
		th->id = i;
		for (r = 0; r < th->p->nregs; r++)
			th->reg[r] = th->p->init_loc[r] >= 0 ?
				     loc_addr(th->p->init_loc[r]) :
				     th->p->init[r];
		snprintf(names[i], sizeof(names[i]), "P%d", i);
		actors[i] = (struct sim_actor_spec){ names[i], thread_fn, th };
	}
	c->transparent = true;
	if (sim_run_choices(actors, t->nprocs, c)) {
		if (!c->asleep)
			explore_note("%s", sim_run_error());
		return c->misfit ? EXPLORE_MISFIT : EXPLORE_STUCK;
	}
	record_state(t);
	return EXPLORE_CLEAN;
}

/* ---------------------------------------------------------------- */
/* The command line. */

/** The command line of litmus. */
struct litmus_args {
	enum sim_model model;		/**< --model (default weak) */
	bool verbose;			/**< --verbose */
	bool time;			/**< --time */
	bool no_reduction;		/**< --no-reduction */
	bool compare;			/**< --compare: with and without it */
	unsigned long max_schedules;	/**< --max-schedules (0: none) */
	int nfiles;			/**< files given */
	char **files;			/**< ...them */
};

static void usage(void)
{
	printf("Usage: %s [--model weak|alpha|sc] [--verbose] [--time] "
	       "[--no-reduction]\n       [--compare] "
	       "[--max-schedules N] FILE.litmus...\n\n"
	       "Reads litmus tests in the C format of the Linux kernel memory "
	       "model\n(tools/memory-model/litmus-tests), runs each under the "
	       "explorer on the\nmodel of a weakly ordered CPU (every schedule, "
	       "every reordering), and\ncompares each verdict with the "
	       "test's \"Result:\" line.  Exit status 0 if\nevery verdict "
	       "matches, 1 if one does not, 2 if a file is outside the\n"
	       "fragment it reads (the message names the construct; nothing "
	       "runs).\n\n"
	       "  --model NAME       the CPU: weak (LKMM; default), alpha "
	       "(no address\n                     dependencies), sc\n"
	       "  --verbose          each test's code and final states\n"
	       "  --time             the time each test took\n"
	       "  --no-reduction     explore without partial-order reduction\n"
	       "  --compare          both ways: a table of schedules (and "
	       "times) with\n                     the reduction and without "
	       "(make bench)\n"
	       "  --max-schedules N  stop each test after N schedules "
	       "(then no verdict);\n                     with --compare, "
	       "each unreduced run\n"
	       "  --help             this help\n\n"
	       "The fragment: the C line, the initial state, P0..P7 with "
	       "int and pointer\nregisters, READ_ONCE, WRITE_ONCE, "
	       "smp_load_acquire, smp_store_release,\nrcu_dereference, "
	       "rcu_assign_pointer, rcu_read_lock/unlock, smp_mb, "
	       "smp_wmb,\nsmp_rmb, smp_mb__after_spinlock, "
	       "smp_read_barrier_depends, spin_lock,\nspin_unlock, if/else, and "
	       "exists, ~exists, forall over registers and final\nmemory "
	       "with /\\ \\/ ~.\n", prog);
	exit(EX_PASS);
}

static bool takes_value(const char *n)
{
	return !strcmp(n, "model") || !strcmp(n, "max-schedules");
}

static void option(void *ctx, const char *n, const char *val)
{
	struct litmus_args *a = ctx;

	if (!strcmp(n, "help")) {
		usage();
	} else if (!strcmp(n, "model")) {
		int m = sim_model_by_name(val);

		if (m < 0)
			ex_usage_error(prog, "unknown model '%s' (weak, alpha "
				       "or sc)", val);
		a->model = (enum sim_model)m;
	} else if (!strcmp(n, "verbose")) {
		a->verbose = true;
	} else if (!strcmp(n, "time")) {
		a->time = true;
	} else if (!strcmp(n, "no-reduction")) {
		a->no_reduction = true;
	} else if (!strcmp(n, "compare")) {
		a->compare = true;
	} else if (!strcmp(n, "max-schedules")) {
		a->max_schedules = ex_parse_ulong(prog, n, val, 1,
						  100000000UL);
	} else {
		ex_usage_error(prog, "unknown option '--%s'", n);
	}
}

static void positional(void *ctx, const char *arg)
{
	struct litmus_args *a = ctx;

	a->files[a->nfiles++] = (char *)arg;
}

/* ---------------------------------------------------------------- */
/* Printing. */

/** Print value \a v of a state: a location's name for its address. */
static void print_value(const struct test *t, long v)
{
	int l;

	for (l = 0; l < t->nlocs; l++)
		if (v == loc_addr(l)) {
			printf("%s", t->loc[l]);
			return;
		}
	printf("%ld", v);
}

/** Print state \a v as herd7 does: "0:r0=1; x=2;". */
static void print_state(const struct test *t, const long *v)
{
	int c;

	for (c = 0; c < t->ncols; c++) {
		const struct col *cl = &t->col[c];

		if (cl->proc >= 0)
			printf("%s%d:%s=", c ? " " : "", cl->proc,
			       t->p[cl->proc].reg[cl->idx]);
		else
			printf("%s%s=", c ? " " : "", t->loc[cl->idx]);
		print_value(t, v[c]);
		putchar(';');
	}
}

/** Order of states: by their values, column by column. */
static int state_cmp(const void *a, const void *b)
{
	const long *x = a, *y = b;
	int c;

	for (c = 0; c < MAX_COLS; c++)
		if (x[c] != y[c])
			return x[c] < y[c] ? -1 : 1;
	return 0;
}

static const char *const quant_name[] = {
	[Q_EXISTS] = "exists", [Q_NOT_EXISTS] = "~exists",
	[Q_FORALL] = "forall",
};

/**
 * Explore test \a t (with partial-order reduction unless \a unreduced);
 * its verdict is *\a verdict.  Returns 0, or -1 if the search stopped
 * short (it says why).
 */
static int explore_test(const struct test *t, const struct litmus_args *a,
			bool unreduced, struct explore_result *res,
			const char **verdict)
{
	struct explore_opts o = { .bound = -1, .reorder = -1,
				  .keep_going = false, .stateless = true,
				  .no_reduction = unreduced,
				  .max_schedules = unreduced || !a->compare ?
						   a->max_schedules : 0 };
	int i, yes = 0;

	memset(&states, 0, sizeof(states));
	if (explore(run_test, (void *)t, &o, res) < 0 || res->failures) {
		printf("%s: the explorer stopped: %s\n", t->name,
		       res->failures ? res->why : "a schedule did not repeat");
		return -1;
	}
	if (states.overflow) {
		printf("%s: more than %d final states\n", t->name, MAX_STATES);
		return -1;
	}
	qsort(states.v, states.n, sizeof(states.v[0]), state_cmp);
	for (i = 0; i < states.n; i++)
		yes += holds(t, t->cond, states.v[i]);
	*verdict = !res->exhausted ? "Unknown" : !yes ? "Never" :
		   yes == states.n ? "Always" : "Sometimes";
	return res->exhausted ? 0 : -1;
}

/**
 * Run test \a t; print its line (and more with --verbose; with
 * --compare, run it without the reduction too).  Returns 1 if its verdict
 * is its Result:, 0 if not, -1 if the search stopped short.
 */
static int litmus(const struct test *t, const struct litmus_args *a)
{
	struct explore_result res, un;
	const char *verdict = "Unknown", *unv = "Unknown";
	int i, r;

	r = explore_test(t, a, a->no_reduction && !a->compare, &res, &verdict);
	if (a->verbose) {
		printf("Test %s (%s), model %s\n", t->name, t->file,
		       sim_model_name(a->model));
		for (i = 0; i < t->nprocs; i++)
			printf("  P%d: %s\n", i, t->p[i].code);
		printf("  %s (%s)\n  States %d\n", quant_name[t->quant],
		       t->cond_text, states.n);
		for (i = 0; i < states.n; i++) {
			printf("    %s", holds(t, t->cond, states.v[i]) ?
			       "* " : "  ");
			print_state(t, states.v[i]);
			putchar('\n');
		}
	}
	if (a->compare) {
		int ur = explore_test(t, a, true, &un, &unv);

		printf("%-54s %-9s %-9s %9lu", t->name,
		       t->result[0] ? t->result : "-", verdict, res.schedules);
		if (a->time)
			printf(" %7.3f s", res.seconds);
		printf(" %9lu%s", un.schedules, ur ? " (capped)" : "");
		if (a->time)
			printf(" %7.3f s", un.seconds);
		if (!ur && strcmp(verdict, unv))
			printf("  UNREDUCED: %s", unv);
		putchar('\n');
		if (!r && !ur && strcmp(verdict, unv))
			return 0;
		return r ? -1 : t->result[0] ? !strcmp(verdict, t->result) : 1;
	}
	printf("%-54s %-9s", t->name, verdict);
	if (t->result[0])
		printf(" (Result: %-9s) %s", t->result,
		       strcmp(verdict, t->result) ? "DIFFERS" : "ok     ");
	else
		printf(" %-27s", "");
	printf(" %8lu schedules", res.schedules);
	if (res.asleep)
		printf(" (%lu cut short)", res.asleep);
	if (a->time)
		printf(", %.3f s", res.seconds);
	putchar('\n');
	if (a->verbose)
		printf("  %s\n\n", res.reduced ? "with partial-order reduction"
					       : "without partial-order "
						 "reduction");
	if (r)
		return -1;
	return t->result[0] ? !strcmp(verdict, t->result) : 1;
}

/** The tests given, read: static, so that an exit mid-run leaks nothing. */
static struct test *tests;

int main(int argc, char **argv)
{
	static struct litmus_args a = { .model = SIM_MODEL_WEAK };
	struct sim_config cfg = { .nr_sections = 1, .pages_per_section = 64,
				  .page_size = 1024 };
	int i, ok = 0, differ = 0, judged = 0, stopped = 0;
	double t0;
	struct timespec ts;

	prog = argv[0];
	a.files = calloc(argc, sizeof(*a.files));
	if (!a.files)
		return EX_FAIL;
	ex_parse_args(argc, argv, &a, takes_value, option, positional);
	if (!a.nfiles)
		ex_usage_error(prog, "no litmus test given (for instance: "
			       "%s tests/litmus/lkmm/*.litmus)", prog);
	tests = calloc(a.nfiles, sizeof(*tests));
	if (!tests)
		return EX_FAIL;
	/* Every file is read before anything runs. */
	for (i = 0; i < a.nfiles; i++)
		read_test(&tests[i], a.files[i]);
	cfg.model = a.model;
	if (sim_init(&cfg)) {
		fprintf(stderr, "%s: cannot build the machine\n", prog);
		return EX_FAIL;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec + ts.tv_nsec / 1e9;
	if (a.compare)
		printf("%-54s %-9s %-9s %9s%s %9s%s\n", "test", "LKMM", "ours",
		       "reduced", a.time ? "     time" : "", "unreduced",
		       a.time ? "     time" : "");
	for (i = 0; i < a.nfiles; i++) {
		int r = litmus(&tests[i], &a);

		if (r < 0)
			stopped++;
		else if (tests[i].result[0]) {
			judged++;
			ok += r;
			differ += !r;
		}
	}
	sim_exit();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("%d test%s on the %s model: %d of %d verdicts as their Result: "
	       "lines say", a.nfiles, a.nfiles == 1 ? "" : "s",
	       sim_model_name(a.model), ok, judged);
	if (differ)
		printf(", %d DIFFER", differ);
	if (stopped)
		printf(", %d not exhausted", stopped);
	if (a.time)
		printf(" (%.2f s)", ts.tv_sec + ts.tv_nsec / 1e9 - t0);
	printf("\n");
	free(tests);
	free(a.files);
	return differ || stopped ? EX_FAIL : EX_PASS;
}

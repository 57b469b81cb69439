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

int main(int argc, char **argv)
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

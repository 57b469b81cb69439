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
 *
 * The "-" lines must occur exactly once in SOURCE: a list that has gone
 * stale (the code moved on) is an error, exit 1, not a silent no-op.
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

int main(int argc, char **argv)
{
	char *list, *line, *next, *from = NULL, *to = NULL, *src, *hit;
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
		}
	}
	if (ids)
		return 0;
	if (!found || !from) {
		fprintf(stderr, "mutate: no mutant %s in %s\n", argv[2],
			argv[1]);
		return 2;
	}
	src = slurp(argv[3], &slen);
	hit = strstr(src, from);
	if (!hit || strstr(hit + 1, from)) {
		fprintf(stderr, "mutate: mutant %s's lines occur %s in %s: the "
			"list is stale\n", argv[2], hit ? "more than once" :
			"nowhere", argv[3]);
		return 1;
	}
	out = fopen(argv[4], "wb");
	if (!out) {
		fprintf(stderr, "mutate: cannot write %s\n", argv[4]);
		return 2;
	}
	fwrite(src, 1, (size_t)(hit - src), out);
	if (to)
		fwrite(to, 1, tlen, out);
	fputs(hit + flen, out);
	return fclose(out) ? 2 : 0;
}

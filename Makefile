# SPDX-License-Identifier: GPL-2.0
#
# ksm_ref - build the library object, the examples and the tests.
#
#   make            build everything into build/
#   make test       install what is missing (Doxygen), then ./test.sh
#   make tour       the guided tour of the races
#   make bench      the measured figures (ksmd at scale, the explorer
#                   with and without partial-order reduction: minutes)
#   make docs       the Doxygen HTML, warnings as errors, in build/docs
#   make clean
#
# B names the build directory and CC the compiler, so that test.sh can
# build gcc, clang and sanitizer variants side by side:
#   make B=build/asan CC=clang CFLAGS="-O1 -g -fsanitize=address,undefined"

CC ?= cc
CFLAGS ?= -O2 -g
WARN := -std=c11 -Wall -Wextra -Werror
LDLIBS := -lpthread
B ?= build

EXAMPLES := merge_tour stress diagram
# Every scenario file examples/rN_NAME.c is built in: a new race is a
# new file, which registers itself (examples/race.h, RACE()).
RACES := explore $(notdir $(basename $(wildcard examples/r[0-9]*_*.c)))
# tests/lines*.c: what single lines do, pinned down for make mutants-all
# (a file per part of the machine; each is a program of its own).
LINES := $(notdir $(basename $(wildcard tests/lines*.c)))
TESTS := unit faults paths $(LINES)
PROGS := $(addprefix $(B)/,$(EXAMPLES) race litmus $(TESTS) bench)

all: $(PROGS)

$(B):
	mkdir -p $(B)

$(B)/ksm_ref.o: ksm_ref.c ksm_ref.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -c ksm_ref.c -o $@

$(B)/common.o: examples/common.c examples/common.h ksm_ref.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -c examples/common.c -o $@

$(addprefix $(B)/,$(EXAMPLES)): $(B)/%: examples/%.c $(B)/common.o \
		$(B)/ksm_ref.o examples/common.h ksm_ref.h
	$(CC) $(WARN) $(CFLAGS) $< $(B)/common.o $(B)/ksm_ref.o -o $@ $(LDLIBS)

RACE_OBJS := $(addprefix $(B)/,$(addsuffix .o,race $(RACES)))

$(RACE_OBJS): $(B)/%.o: examples/%.c examples/race.h examples/explore.h examples/common.h \
		ksm_ref.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -c $< -o $@

$(B)/race: $(RACE_OBJS) $(B)/common.o $(B)/ksm_ref.o
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(B)/litmus.o: examples/litmus.c examples/explore.h examples/common.h \
		ksm_ref.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -c $< -o $@

$(B)/litmus: $(B)/litmus.o $(B)/explore.o $(B)/common.o $(B)/ksm_ref.o
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(addprefix $(B)/,$(TESTS)): $(B)/%: tests/%.c $(B)/ksm_ref.o ksm_ref.h tests/check.h tests/jobs.h
	$(CC) $(WARN) $(CFLAGS) $< $(B)/ksm_ref.o -o $@ $(LDLIBS)

# bench takes ksmd at scale (tests/scale.c) as well.
$(B)/bench: tests/bench.c tests/scale.c tests/scale.h $(B)/ksm_ref.o ksm_ref.h
	$(CC) $(WARN) $(CFLAGS) tests/bench.c tests/scale.c $(B)/ksm_ref.o \
		-o $@ $(LDLIBS) -lm

test: all
	./tests/setup.sh
	./test.sh

tour: all
	./examples/tour.sh

bench: $(B)/bench $(B)/race $(B)/litmus
	./$(B)/bench
	@echo
	./$(B)/bench scale
	@echo
	./$(B)/race R1 --time
	@echo
	./$(B)/race --explore-all
	@echo
	./$(B)/litmus --compare --time tests/litmus/lkmm/*.litmus

# Every actor at once for DURATION seconds (default 10 minutes), audited.
DURATION ?= 600
soak: $(B)/stress
	./$(B)/stress --soak --seconds $(DURATION) --workers 3

# One mutant per line the seeds add, each run against the kill suite.
mutants:
	./tests/mutants.sh

# Every mutant the generator finds in the KSM core and the paths it stands
# on, against the kill suite (test.sh's deterministic core); resumable:
# JOBS at a time (default 2).  mutants-all-clean forgets what has run.
JOBS ?= 2
mutants-all:
	./tests/mutants_all.sh -j $(JOBS)

mutants-all-clean:
	rm -rf build/mutants-all

# Line and branch coverage per Doxygen group, of test.sh's core.
coverage:
	./tests/coverage.sh

# The page of the races, run, is generated first (tests/races_page.sh),
# and added to the Doxyfile's INPUT; so are the book's pictures of KSM's
# structures (examples/diagram.c), which the book \htmlincludes.
docs: $(B)/race $(B)/diagram
	rm -rf build/docs/html
	./tests/races_page.sh $(B)/race build/docs/races.md
	./$(B)/diagram keyhole --era keyhole >build/docs/diagram_keyhole.svg
	./$(B)/diagram trees >build/docs/diagram_trees.svg
	./$(B)/diagram migrated >build/docs/diagram_migrated.svg
	( cat Doxyfile; echo "INPUT += build/docs/races.md" ) | doxygen -

# The course kit, in build/course: the students' edition of the
# exercises, the answers apart, a two-week module, the command card and a
# predictions file, each page in Markdown and HTML (examples/course).
course: $(B)/race
	RACE=$(B)/race ./examples/course/course.sh build/course

clean:
	rm -rf build

.PHONY: all test tour bench soak mutants mutants-all mutants-all-clean \
	coverage course docs clean

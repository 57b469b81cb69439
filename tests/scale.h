/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scale.h - `bench scale` (tests/scale.c), called from tests/bench.c.
 */
#ifndef KSM_REF_TESTS_SCALE_H
#define KSM_REF_TESTS_SCALE_H

/** Number of elements of the array \a a. */
#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/**
 * Run the workloads of ksmd at scale (see scale.c), with the arguments
 * that follow "scale" on bench's command line.  Returns 0 if every
 * workload of ksm_ref ended right, 1 if one did not, 2 for bad arguments.
 */
int bench_scale(int argc, char **argv);

#endif /* KSM_REF_TESTS_SCALE_H */

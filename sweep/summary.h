/* sweep/summary.h: rank 0's end-of-sweep table: one row per combination of the parameters
 * that vary in the plan, seeds pooled (for the usual grids: space x metric x alpha scale x
 * dataset), with jobs, ok, failed, mean +- std (sample std, n - 1, as the paper) of the
 * ground-truth accuracies of the found architectures, and the mean search time; then the
 * jobs that gave up after max_attempts, by id and parameters. */
#ifndef FN_SWEEP_SUMMARY_H
#define FN_SWEEP_SUMMARY_H

#include <stdio.h>

#include "sweep/plan.h"
#include "sweep/records.h"

void sweep_summary_print(FILE *f, const sweep_config *c, const sweep_plan *p,
                         const sweep_job_state *st);
/* 1 if the job gave up: its records are c->max_attempts (> 0) failed attempts or more, so no
 * run tries it again. sweep_summary_print lists these jobs after the table. */
int sweep_summary_gave_up(const sweep_config *c, const sweep_job_state *s);

#endif

/* sweep/hnas_darts.h: kind hnas on space darts in the sweep (sweep/job_hnas_darts.c): where a
 * search keeps its state, reading it back, and the job that turns a finished search into the
 * sweep record. The search over the ranks is sweep/sweep_hnas_darts.h (freenas_sweep). */
#ifndef FN_SWEEP_HNAS_DARTS_H
#define FN_SWEEP_HNAS_DARTS_H

#include <stddef.h>
#include <stdint.h>

#include "hnas/darts_bo.h"
#include "sweep/plan.h"

struct json_t;

/* OUTPUT/darts_hnas (the pool and metric caches), OUTPUT/darts_hnas/<job id> and its
 * steps.jsonl; each buffer len bytes. */
void sweep_hnas_darts_paths(const char *output, uint64_t job_id, char *dir, char *jobdir,
                            char *steps, size_t len);
/* One line of steps.jsonl into e. 0, or -1 with a message. */
int sweep_hnas_darts_parse_step(const char *line, hnas_dbo_eval *e, char *err, size_t errlen);
/* Every step of steps.jsonl (a missing file: none) into ev[0..*n), at most max; a torn last
 * line is cut off the file. 0, or -1 with "FILE:LINE: why". */
int sweep_hnas_darts_load_steps(const char *path, hnas_dbo_eval *ev, int max, int *n, char *err,
                                size_t errlen);
/* The job: the record fields of a finished search into rec, its time into t. 0, or -1 with a
 * message (the search is incomplete: rerun). */
int sweep_job_run_hnas_darts(const sweep_config *c, const sweep_params *p, uint64_t job_id,
                             struct json_t *rec, struct json_t *t, char *err, size_t errlen);

#endif

/* hnas/record.h: one HNAS search as a JSON object, the same text for `freenas hnas --json` and
 * the fields of a sweep record of kind hnas (sweep/job_hnas.c), so that analysis/ reads
 * everything it reports from the record: every step (nu, log10 mu, queried architecture, its
 * M, kappa, score and signal, cumulative cost, and the best-so-far pick with its 200-epoch test
 * accuracies, for the convergence figure) and the final pick.
 *
 *   {"mode":"bo","metric":"hnas_ntk_trace","kappa":"hnas_ntk_cond","signal":"cifar10_valid_12ep",
 *    "T":20,"acq":"ei","xi":0,"ucb_kappa":2.576,"s":5000,"draws":2000,"candidates":15625,
 *    "steps":[{"t":0,"cached":false,"nu":0,"log10_mu":-2,"arch":123,"M":..,"kappa":..,
 *              "score":..,"signal":..,"cost_s":..,"pool":..,"best":{"index":..,"signal":..,
 *              "cifar10_test":..,"cifar100_test":..,"imagenet16_test":..}}, ...],
 *    "pick":{"index":..,"arch":"|...|","signal":..},"cost_s":..,"evaluations":..,
 *    "warning":""}
 * Non-finite numbers are written null. */
#ifndef FN_HNAS_RECORD_H
#define FN_HNAS_RECORD_H

#include "hnas/search.h"
#include "nasbench/nb201_benchmark.h"

typedef struct {
    const char *metric, *kappa, *signal; /* column names */
} hnas_names;

/* malloc'ed JSON object text (no newline). bench (may be NULL) adds test accuracies. */
char *hnas_result_json(const hnas_config *c, const hnas_names *n, const hnas_result *r,
                       const nb201_benchmark *bench);

/* the 200-epoch test accuracies of an index (NaN without the table or the index) */
void hnas_test_accuracy(const nb201_benchmark *b, int index, double acc[4]);

#endif

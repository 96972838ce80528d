/* sweep/score_table.h: proxy values of NB201 architectures read from score records, so that a
 * zc_search job (`scores: FILE`, configs/README.md) looks its candidates up instead of
 * building and scoring each network: the way NAS-Bench-Suite-Zero style studies sweep the
 * sample size and the seed over one precomputed table.
 *
 * FILE is JSON lines of score records: the results.jsonl of a kind score sweep (one proxy per
 * record) or the output of `freenas score --json` (several per record). A record gives
 * params.dataset, nb201_index and proxies{name: value}; a value is a number, "inf" / "-inf"
 * (NASWOT's singular kernel) or null (the proxy failed: NaN, as a computed NaN score). Records
 * that are not ok count as NaN unless an ok record of the same (dataset, proxy, index) exists.
 *
 *   sweep_score_table *t;
 *   if (sweep_score_table_load("results/nb201_proxies_gpu/results.jsonl", &t, err, len)) ...
 *   double v;
 *   if (sweep_score_table_get(t, "cifar10", "snip", 1462, &v)) ... (not in the table)
 *   sweep_score_table_free(t); */
#ifndef FN_SWEEP_SCORE_TABLE_H
#define FN_SWEEP_SCORE_TABLE_H

#include <stddef.h>

typedef struct sweep_score_table sweep_score_table;

/* 0, or -1 with "FILE:LINE: message" in err (unreadable file, a line that is not a JSON
 * object, an index outside 0..15624, an unknown dataset or proxy); *out is NULL then. */
int sweep_score_table_load(const char *path, sweep_score_table **out, char *err, size_t errlen);
/* 0 and *v (NaN for a failed score), or -1 when the table has no such score. */
int sweep_score_table_get(const sweep_score_table *t, const char *dataset, const char *proxy,
                          int index, double *v);
/* scores held, for messages */
long sweep_score_table_count(const sweep_score_table *t);
void sweep_score_table_free(sweep_score_table *t);

#endif

/* search/search_impl.h: the steps of a search that search_run (search/search.c) and the
 * stacked search (search/search_stacked.c) share. Private to search/. */
#ifndef FN_SEARCH_IMPL_H
#define FN_SEARCH_IMPL_H

#include "datasets/dataset.h"
#include "search/search.h"
#include "search/space.h"

/* A search's resolved config: space, metric, dataset, final metric options, batch, and its
 * labelled batch (label metrics). */
typedef struct {
    fn_search_config cfg;
    const fn_space *sp;
    const fn_metric *m;
    const fn_dataset_info *ds;
    fn_metric_opts mo;
    int batch;
    fn_batch b;
} search_prep;

/* r->status = s and r->msg = msg; returns s */
fn_status search_fail(fn_search_result *r, fn_status s, const char *msg);
/* Resolves cfg_in and loads its batch; FN_OK, or res->status with res->msg (nothing to free). */
fn_status search_prepare(const fn_search_config *cfg_in, search_prep *p, fn_search_result *res);
void search_prep_free(search_prep *p);
/* keep[] of the executor (search_run's): SynFlow keeps the head's input. free() it. */
unsigned char *search_exec_keep(const fn_graph *g, const fn_metric *m);
/* params, macs, bytes (per model of a stacked graph), batch, input size, classes, S shape */
void search_result_shape(const fn_graph *g, const search_prep *p, const fn_exec *e,
                         fn_search_result *res);
/* SynFlow path form's exact rescaling of the cut group of the model whose alpha starts at
 * `base`; returns s_log2_scale (0 when the form does not apply). */
int search_synflow_rescale(fn_exec *e, const search_prep *p, size_t base);
/* s_max, flow and the degeneracy flag from res->S and res->value; amax = max |alpha| before
 * scoring, flow = the head flow (SynFlow) */
void search_degeneracy(const search_prep *p, double amax, double flow, fn_search_result *res);
/* prunes res->S to the architecture; FN_OK or res->status */
fn_status search_decode(const search_prep *p, fn_search_result *res);

#endif

/* analysis/paper_ref.h: the published numbers freenas_report prints beside its own, copied
 * from docs/METHOD.md (FreeDARTS, arXiv 2106.11542 v2, and the zero-cost-proxy notebooks):
 *   - §9 Table 2 (NB201 metric ablation: test accuracy on C10 / C100 / IN16-120), the
 *     FreeDARTS row of §9 Table 1 (valid and test accuracy, SynFlow) and Table 1's baselines
 *   - §7.1 |Spearman rho| of each zero-cost proxy against NB201 accuracy, all 15,625 archs
 *   - §7.4 operation counts of FD's DARTS genotypes (5 seeds x 8 ops per cell type)
 * A value the source does not give is NAN. */
#ifndef FN_PAPER_REF_H
#define FN_PAPER_REF_H

/* datasets in the order of the paper's columns: C10, C100, IN16-120 */
enum { PAPER_C10, PAPER_C100, PAPER_IN16, PAPER_NUM_DATASETS };

typedef struct {
    const char *method; /* as printed in the paper, e.g. "FreeDARTS SynFlow" */
    const char *kind;   /* the freenas_sweep job kind that reproduces the row: "search"
                         * (FreeDARTS), "zc_search", "random"; NULL: not in freenas */
    const char *metric; /* freenas metric name ("synflow", "snip", "grasp", "naswot");
                         * NULL: any (random search) or none */
    double test_mean[PAPER_NUM_DATASETS], test_std[PAPER_NUM_DATASETS];
    double valid_mean[PAPER_NUM_DATASETS], valid_std[PAPER_NUM_DATASETS]; /* Table 1 only */
    const char *source;
} paper_nb201_row;

extern const paper_nb201_row paper_nb201_rows[];
extern const int paper_nb201_num_rows;
/* the row a freenas_sweep job kind and metric reproduce, or NULL */
const paper_nb201_row *paper_nb201_find(const char *kind, const char *metric);

/* §7.1: |rho| of proxy vs accuracy on a dataset (PAPER_C10 ...); NAN when not listed. Proxy
 * names as freenas writes them: grad_norm, snip, grasp, fisher, synflow, jacob_cov (also
 * "jacov"), vote. */
double paper_corr_abs_rho(const char *proxy, int dataset);

/* §7.4: DARTS op counts (of 40 = 5 seeds x 8 ops per cell type). */
#define PAPER_DARTS_NUM_OPS 7
extern const char *const paper_darts_ops[PAPER_DARTS_NUM_OPS]; /* DARTS primitive names */
typedef struct {
    const char *label;   /* "SynFlow, 8 cells" */
    const char *metric;  /* synflow, snip, grasp */
    int cells;           /* 8, 20 or 14 (ImageNet-resolution search) */
    const char *dataset; /* dataset of the search: cifar10 or imagenet224 */
    int normal[PAPER_DARTS_NUM_OPS], reduce[PAPER_DARTS_NUM_OPS]; /* in paper_darts_ops order */
    int total;           /* 40 per cell type */
} paper_darts_row;
extern const paper_darts_row paper_darts_rows[];
extern const int paper_darts_num_rows;
/* the §7.4 row for a DARTS search (metric, cells, dataset), or NULL */
const paper_darts_row *paper_darts_find(const char *metric, int cells, const char *dataset);
/* index of op in paper_darts_ops, or -1 */
int paper_darts_op_index(const char *op);

/* the paper's display name of a metric: SynFlow, SNIP, GraSP, NASWOT; else the name itself */
const char *paper_metric_name(const char *metric);

/* docs/METHOD.md §4.3 / §7.2: HNAS and the baselines of the same table (the authors' RoBoT paper,
 * ICLR 2024, Table 2), NB201 test accuracy mean +- std and search cost in GPU-seconds (NAN:
 * not given). kind / strategy: the freenas_sweep job (kind hnas, strategy ei) that reproduces
 * the row; NULL: not in freenas. */
typedef struct {
    const char *method;
    const char *strategy; /* kind hnas strategy ("ei"), or NULL */
    double test_mean[PAPER_NUM_DATASETS], test_std[PAPER_NUM_DATASETS];
    double cost_s;
    const char *source;
} paper_hnas_row;
extern const paper_hnas_row paper_hnas_rows[];
extern const int paper_hnas_num_rows;

#endif

/* proxies/proxy_naswot.c: `naswot`, NASWOT's "hook_logdet" score (NW score_networks.py; docs/METHOD.md
 * §3.7). One forward pass of the batch (128 images, no augmentation, train-mode BN); for every
 * ReLU module the input of each sample is binarised, c = [x > 0], and
 *   K += c c^T + (1 - c)(1 - c)^T,  i.e. K[i,j] += units - Hamming(c_i, c_j);
 * score = log|det K| (the sign is ignored), by LU as numpy's slogdet.
 * NW counts a ReLU only after it has seen a backward pass (its Jacobian pass marks them). In
 * NB201 networks every ReLU module is upstream of the logits (PyTorch's `none` op is x.mul(0),
 * which keeps the graph connected), so every ReLU counts, including those whose input is an
 * all-`none` node (all codes 0: they add `units` to every entry of K). ReLU modules reading
 * the same tensor (conv edges leaving one node) each count once, as NW's per-module hooks.
 * Codes are packed 64 to a word and compared with popcount: exact integer counts. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proxies/linalg.h"
#include "proxies/proxy_impl.h"
#include "base/common.h"

/* b[W] <- the codes x[u] > 0 of one sample, 64 to a word (bit u & 63 of word u >> 6); whole
 * words as an OR reduction the compiler vectorises (a bit at a time, read-modify-write, this
 * was 8 % of a CPU naswot pass) */
#define PACK_CODES(T)                                                                    \
    static void pack_codes_##T(const T *x, size_t U, uint64_t *b) {                      \
        size_t u = 0;                                                                    \
        for (; u + 64 <= U; u += 64) {                                                   \
            uint64_t w = 0;                                                              \
            for (int k = 0; k < 64; k++) w |= (uint64_t)(x[u + k] > 0) << k;             \
            b[u >> 6] = w;                                                               \
        }                                                                                \
        for (; u < U; u++) b[u >> 6] |= (uint64_t)(x[u] > 0) << (u & 63);                \
    }
PACK_CODES(float)
PACK_CODES(double)
#undef PACK_CODES

void proxy_naswot_kernel(const fn_proxy_job *j, double *K) {
    const fn_exec *e = j->e;
    const fn_graph *g = j->g;
    const int N = j->batch;
    int *mult = callocCheck((size_t)g->nt, sizeof(int));
    for (int i = 0; i < g->nn; i++)
        if (g->nodes[i].kind == FN_NODE_RELU) mult[g->nodes[i].in[0]]++;
    int64_t *A = callocCheck((size_t)N * N, sizeof(int64_t));
    for (int t = 0; t < g->nt; t++) {
        if (!mult[t]) continue;
        const size_t U = graph_tensor_numel(g, t) / (size_t)N, W = (U + 63) / 64;
        uint64_t *bits = callocCheck((size_t)N * W, sizeof(uint64_t));
        const void *x = exec_tensor(e, t);
        const int par = (double)N * U > 65536; /* fork/join costs more on tiny tensors */
#pragma omp parallel for schedule(static) if (par)
        for (int n = 0; n < N; n++) {
            if (e->dtype == FN_F64) pack_codes_double((const double *)x + (size_t)n * U, U,
                                                      bits + (size_t)n * W);
            else pack_codes_float((const float *)x + (size_t)n * U, U, bits + (size_t)n * W);
        }
#pragma omp parallel for schedule(dynamic, 4) if (par)
        for (int a = 0; a < N; a++)
            for (int b = a; b < N; b++) {
                const uint64_t *pa = bits + (size_t)a * W, *pb = bits + (size_t)b * W;
                int64_t ham = 0;
                for (size_t w = 0; w < W; w++) ham += __builtin_popcountll(pa[w] ^ pb[w]);
                A[(size_t)a * N + b] += (int64_t)mult[t] * ((int64_t)U - ham);
            }
        free(bits);
    }
    for (int a = 0; a < N; a++)
        for (int b = a; b < N; b++)
            K[(size_t)a * N + b] = K[(size_t)b * N + a] = (double)A[(size_t)a * N + b];
    free(A);
    free(mult);
}

int proxy_naswot(fn_proxy_job *j, double *out, char *err, size_t errlen) {
    const int N = j->batch;
    proxy_set_input(j);
    exec_forward(j->e);
    j->ce_valid = 0;
    double *K = proxy_scratch(j, FN_PX_SLOT_TMP, (size_t)N * N);
    proxy_naswot_kernel(j, K);
    int sign;
    linalg_slogdet(N, K, out, &sign);
    /* singular K (e.g. two samples with identical codes): -inf, as NW's np.linalg.slogdet
     * gives; the architecture ranks below every finite score. Only NaN is an error. */
    if (isnan(*out)) {
        snprintf(err, errlen, "naswot: log|det K| is NaN (non-finite activations)");
        return -1;
    }
    return 0;
}

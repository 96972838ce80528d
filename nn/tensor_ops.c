/* nn/tensor_ops.c: mixed op / sum, concat, subsample forward and backward
 * (see nn/tensor_ops.h). */
#include "nn/tensor_ops.h"

#include <string.h>

#include "nn/real.h"

#define PAR_MIN 8192

/* Ops of one mix are summed block by block (MIX_BLOCK elements, one parallel region per
 * mix): the block of `out` stays in L1 while every op adds into it, instead of a pass over
 * the whole output per op. Each element gets c0 x0 + c1 x1 + ... in op order, as before. */
#define MIX_BLOCK 4096
void FN(mix_forward)(real *out, real *const *in, const int *aidx, const real *alpha, int k,
                     size_t numel) {
    if (k == 0) {
        memset(out, 0, sizeof(real) * numel);
        return;
    }
    const size_t nb = (numel + MIX_BLOCK - 1) / MIX_BLOCK;
#pragma omp parallel for schedule(static) if (numel > PAR_MIN)
    for (size_t b = 0; b < nb; b++) {
        const size_t j0 = b * MIX_BLOCK, j1 = j0 + MIX_BLOCK < numel ? j0 + MIX_BLOCK : numel;
        for (int i = 0; i < k; i++) {
            const real c = aidx[i] >= 0 ? alpha[aidx[i]] : (real)1;
            const real *restrict x = in[i];
            if (i == 0)
                for (size_t j = j0; j < j1; j++) out[j] = c * x[j];
            else
                for (size_t j = j0; j < j1; j++) out[j] += c * x[j];
        }
    }
}

/* <dout, x> over numel elements in FN_SUM_BLOCKS fixed blocks whose bounds depend on numel
 * alone; within a block, 8 running sums (element j goes to sum j % 8 of its block, in index
 * order), added pairwise in a fixed tree; the block sums are added in block order. Any thread
 * count (and the serial path) and any vector width add the same numbers in the same order,
 * so d alpha is bit-identical for 1 or N threads and on every x86 CPU; an OpenMP reduction
 * clause would add the per-thread partials of a thread-count-dependent split. The 8 sums are
 * what lets the compiler use vector adds (one running sum is a chain of dependent adds, 4
 * cycles an element). When dx is given, the same pass also writes dx = c * dout (a first
 * write) or accumulates dx += c * dout. */
#define FN_SUM_BLOCKS 64
#define FN_SUM_LANES 8
/* The 8 sums are one vector (GCC vector extensions, C11 mode: no FMA contraction), the
 * element pairs converted to double and multiplied 8 at a time: the same per-lane adds in the
 * same order as 8 scalar sums, which the compiler had left half scalar (a third of the
 * passes' memory bandwidth). */
typedef real vreal8 __attribute__((vector_size(FN_SUM_LANES * sizeof(real))));
typedef double vdouble8 __attribute__((vector_size(FN_SUM_LANES * sizeof(double))));

/* The dot products of up to MIX_GROUP ops over one block in one loop, with their dx updates
 * (dx[i] NULL: none; set[i] 1: dx = c dout, the first write; 0: dx += c dout): each op has
 * its own vector of 8 running sums (the lanes and order stated above), and dout is loaded and
 * converted once for all of them. One op's sums are a chain of dependent vector adds (4
 * cycles each), which had held a one-op loop to about one product a cycle; g chains run side
 * by side. g is a constant where it is inlined (block_dots), so acc stays in registers; the
 * per-op branches are the same for a whole block. */
#define MIX_GROUP 4
static inline __attribute__((always_inline)) void
block_dots_g(double *part, int g, real *const *dx, const unsigned char *set, const real *c,
             const real *restrict dout, const real *const *x, size_t j0, size_t j1) {
    vdouble8 acc[MIX_GROUP] = {{0}};
    size_t j = j0;
    for (; j + FN_SUM_LANES <= j1; j += FN_SUM_LANES) {
        vreal8 a;
        memcpy(&a, dout + j, sizeof a);
        const vdouble8 da = __builtin_convertvector(a, vdouble8);
        for (int i = 0; i < g; i++) {
            vreal8 b;
            memcpy(&b, x[i] + j, sizeof b);
            acc[i] += da * __builtin_convertvector(b, vdouble8);
            if (!dx[i]) continue;
            vreal8 u = c[i] * a;
            if (!set[i]) {
                vreal8 v;
                memcpy(&v, dx[i] + j, sizeof v);
                u = v + u;
            }
            memcpy(dx[i] + j, &u, sizeof u);
        }
    }
    for (int i = 0; i < g; i++) {
        double l[FN_SUM_LANES];
        memcpy(l, &acc[i], sizeof l);
        for (size_t jj = j; jj < j1; jj++) {
            l[jj - j] += (double)dout[jj] * x[i][jj];
            if (dx[i]) dx[i][jj] = set[i] ? c[i] * dout[jj] : dx[i][jj] + c[i] * dout[jj];
        }
        part[i] = ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
    }
}

static void block_dots(double *part, int g, real *const *dx, const unsigned char *set,
                       const real *c, const real *dout, const real *const *x, size_t j0,
                       size_t j1) {
    switch (g) {
    case 4: block_dots_g(part, 4, dx, set, c, dout, x, j0, j1); break;
    case 3: block_dots_g(part, 3, dx, set, c, dout, x, j0, j1); break;
    case 2: block_dots_g(part, 2, dx, set, c, dout, x, j0, j1); break;
    default: block_dots_g(part, 1, dx, set, c, dout, x, j0, j1); break;
    }
}

/* <dout, x> of one op (block_dots with one op; dx += c dout where dx is given) */
static double blocked_dot(real *dx, real c, const real *dout, const real *x, size_t numel) {
    double part[FN_SUM_BLOCKS];
    const size_t bs = (numel + FN_SUM_BLOCKS - 1) / FN_SUM_BLOCKS;
#pragma omp parallel for schedule(static) if (numel > PAR_MIN)
    for (int b = 0; b < FN_SUM_BLOCKS; b++) {
        const size_t j0 = (size_t)b * bs < numel ? (size_t)b * bs : numel;
        const size_t j1 = j0 + bs < numel ? j0 + bs : numel;
        const unsigned char add = 0;
        block_dots(&part[b], 1, &dx, &add, &c, dout, &x, j0, j1);
    }
    double s = 0;
    for (int b = 0; b < FN_SUM_BLOCKS; b++) s += part[b];
    return s;
}

/* The ops of one mix in one parallel region over the FN_SUM_BLOCKS blocks (MIX_MAX_OPS ops at a
 * time, in op order): within a block the ops with a d alpha run MIX_GROUP at a time
 * (block_dots), the others' dx = c dout or dx += c dout after them, reading the block of dout
 * from cache. Each op's d alpha adds the same numbers in the same order as blocked_dot (block
 * sums in block order, then into dalpha in op order), and each dx element is c dout, or its
 * own value plus c dout, so the results are those of op-by-op passes, bit for bit. */
#define MIX_MAX_OPS 16
void FN(mix_backward)(real *const *din, real *dalpha, const real *dout, real *const *in,
                      const int *aidx, const real *alpha, int k, size_t numel,
                      const unsigned char *acc) {
    const size_t bs = (numel + FN_SUM_BLOCKS - 1) / FN_SUM_BLOCKS;
    for (int i0 = 0; i0 < k; i0 += MIX_MAX_OPS) {
        const int i1 = i0 + MIX_MAX_OPS < k ? i0 + MIX_MAX_OPS : k;
        double part[MIX_MAX_OPS][FN_SUM_BLOCKS];
        /* the ops whose d alpha is wanted, in op order, with their dx, mode and coefficient */
        int ndot = 0, dot_op[MIX_MAX_OPS];
        real *dot_dx[MIX_MAX_OPS], dot_c[MIX_MAX_OPS];
        const real *dot_x[MIX_MAX_OPS];
        unsigned char dot_set[MIX_MAX_OPS];
        for (int i = i0; i < i1; i++) {
            if (aidx[i] < 0 || !dalpha) continue;
            dot_op[ndot] = i;
            dot_dx[ndot] = din[i];
            dot_set[ndot] = acc && !acc[i];
            dot_c[ndot] = alpha[aidx[i]];
            dot_x[ndot] = in[i];
            ndot++;
        }
#pragma omp parallel for schedule(static) if (numel > PAR_MIN)
        for (int b = 0; b < FN_SUM_BLOCKS; b++) {
            const size_t j0 = (size_t)b * bs < numel ? (size_t)b * bs : numel;
            const size_t j1 = j0 + bs < numel ? j0 + bs : numel;
            for (int q0 = 0; q0 < ndot; q0 += MIX_GROUP) {
                const int g = ndot - q0 < MIX_GROUP ? ndot - q0 : MIX_GROUP;
                double p[MIX_GROUP];
                block_dots(p, g, dot_dx + q0, dot_set + q0, dot_c + q0, dout, dot_x + q0, j0, j1);
                for (int q = 0; q < g; q++) part[dot_op[q0 + q] - i0][b] = p[q];
            }
            for (int i = i0; i < i1; i++) {
                real *restrict dx = din[i];
                if (!dx || (aidx[i] >= 0 && dalpha)) continue; /* none, or done above */
                const real c = aidx[i] >= 0 ? alpha[aidx[i]] : (real)1;
                if (acc && !acc[i])
                    for (size_t j = j0; j < j1; j++) dx[j] = c * dout[j];
                else
                    for (size_t j = j0; j < j1; j++) dx[j] += c * dout[j];
            }
        }
        for (int i = i0; i < i1; i++) {
            if (aidx[i] < 0 || !dalpha) continue;
            double s = 0;
            for (int b = 0; b < FN_SUM_BLOCKS; b++) s += part[i - i0][b];
            dalpha[aidx[i]] += (real)s;
        }
    }
}

void FN(concat_forward)(real *out, real *const *in, const int *cin, int k, int n, int hw) {
    int ctot = 0;
    for (int i = 0; i < k; i++) ctot += cin[i];
    /* images in parallel: each element is one copy (or one add), so any split is exact */
#pragma omp parallel for schedule(static) if ((size_t)n * ctot * hw > PAR_MIN)
    for (int b = 0; b < n; b++) {
        int c0 = 0;
        for (int i = 0; i < k; i++) {
            memcpy(out + ((size_t)b * ctot + c0) * hw, in[i] + (size_t)b * cin[i] * hw,
                   sizeof(real) * cin[i] * hw);
            c0 += cin[i];
        }
    }
}

void FN(concat_backward)(real *const *din, const real *dout, const int *cin, int k, int n,
                         int hw) {
    int ctot = 0;
    for (int i = 0; i < k; i++) ctot += cin[i];
#pragma omp parallel for schedule(static) if ((size_t)n * ctot * hw > PAR_MIN)
    for (int b = 0; b < n; b++) {
        int c0 = 0;
        for (int i = 0; i < k; i++) {
            if (din[i]) {
                real *dx = din[i] + (size_t)b * cin[i] * hw;
                const real *dy = dout + ((size_t)b * ctot + c0) * hw;
                for (size_t j = 0; j < (size_t)cin[i] * hw; j++) dx[j] += dy[j];
            }
            c0 += cin[i];
        }
    }
}

void FN(subsample_forward)(real *out, const real *in, int n, int c, int h, int w, int off, int s,
                           int ho, int wo) {
#pragma omp parallel for schedule(static) if ((size_t)n * c * ho * wo > PAR_MIN)
    for (int p = 0; p < n * c; p++)
        for (int y = 0; y < ho; y++)
            for (int x = 0; x < wo; x++) {
                int iy = off + y * s, ix = off + x * s;
                out[((size_t)p * ho + y) * wo + x] =
                    (iy < h && ix < w) ? in[((size_t)p * h + iy) * w + ix] : (real)0;
            }
}

void FN(subsample_backward)(real *din, const real *dout, int n, int c, int h, int w, int off,
                            int s, int ho, int wo) {
#pragma omp parallel for schedule(static) if ((size_t)n * c * h * w > PAR_MIN)
    for (int p = 0; p < n * c; p++)
        for (int y = 0; y < ho; y++)
            for (int x = 0; x < wo; x++) {
                int iy = off + y * s, ix = off + x * s;
                if (iy < h && ix < w)
                    din[((size_t)p * h + iy) * w + ix] += dout[((size_t)p * ho + y) * wo + x];
            }
}

void FN(scale_n_forward)(real *out, const real *in, const real *s, int n, size_t per) {
#pragma omp parallel for schedule(static) if ((size_t)n * per > PAR_MIN)
    for (int i = 0; i < n; i++) {
        const real c = s[i];
        const real *x = in + (size_t)i * per;
        real *y = out + (size_t)i * per;
        for (size_t j = 0; j < per; j++) y[j] = x[j] * c;
    }
}

void FN(scale_n_backward)(real *din, const real *dout, const real *s, int n, size_t per) {
#pragma omp parallel for schedule(static) if ((size_t)n * per > PAR_MIN)
    for (int i = 0; i < n; i++) {
        const real c = s[i];
        const real *dy = dout + (size_t)i * per;
        real *dx = din + (size_t)i * per;
        for (size_t j = 0; j < per; j++) dx[j] += dy[j] * c;
    }
}

/* Tangents (forward-over-reverse Hessian-vector products, engine/graph_hvp.c), with
 * c_i = alpha[aidx_i] and its tangent t_i = talpha[aidx_i] (0 for aidx_i < 0). */
void FN(mix_forward_tangent)(real *tout, real *const *tin, real *const *in, const int *aidx,
                             const real *alpha, const real *talpha, int k, size_t numel) {
    FN(mix_forward)(tout, tin, aidx, alpha, k, numel);
    for (int i = 0; i < k; i++) {
        const real t = aidx[i] >= 0 && talpha ? talpha[aidx[i]] : (real)0;
        if (t == 0) continue;
        const real *x = in[i];
#pragma omp parallel for schedule(static) if (numel > PAR_MIN)
        for (size_t j = 0; j < numel; j++) tout[j] += t * x[j];
    }
}

void FN(mix_backward_tangent)(real *const *tdin, real *tdalpha, const real *dout,
                              const real *tdout, real *const *in, real *const *tin,
                              const int *aidx, const real *alpha, const real *talpha, int k,
                              size_t numel) {
    /* c_i * tdout into tdin_i and <tdout, in_i> into tdalpha: the first-order rule */
    FN(mix_backward)(tdin, tdalpha, tdout, in, aidx, alpha, k, numel, NULL);
    for (int i = 0; i < k; i++) {
        if (aidx[i] < 0) continue;
        const real t = talpha ? talpha[aidx[i]] : (real)0;
        /* t_i * dout into tdin_i, <dout, tin_i> into tdalpha */
        if (tdalpha) tdalpha[aidx[i]] += (real)blocked_dot(tdin[i], t, dout, tin[i], numel);
        else if (tdin[i] && t != 0)
            for (size_t j = 0; j < numel; j++) tdin[i][j] += t * dout[j];
    }
}

/* nn/real.h: precision templating for the layer engine.
 *
 * Every file that includes this header is compiled twice by CMake: once with
 * FN_REAL_DOUBLE=0 (float32, the production precision) and once with FN_REAL_DOUBLE=1
 * (float64, for finite-difference gradient checks and the float64 metrics).
 * FN(name) appends the precision suffix: FN(conv2d_forward) -> conv2d_forward_f32. */
#ifndef FN_REAL_H
#define FN_REAL_H

#include <cblas.h>

#if FN_REAL_DOUBLE
typedef double real;
#define FN(name) name##_f64
#define cblas_gemm cblas_dgemm
#define REAL_EPS_SQRT 1e-8
#else
typedef float real;
#define FN(name) name##_f32
#define cblas_gemm cblas_sgemm
#endif

#endif

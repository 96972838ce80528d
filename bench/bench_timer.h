/* bench/bench_timer.h: the per-call timer of the kernel benchmarks (bench_conv,
 * bench_conv_dense): f(ctx) once to warm up, the number of calls per sample calibrated until a
 * sample lasts ~2 ms (the clock's resolution and jitter average out), then the median of
 * `reps` samples, in seconds per call. */
#ifndef FN_BENCH_TIMER_H
#define FN_BENCH_TIMER_H

double bench_median_per_call(void (*f)(void *ctx), void *ctx, int reps);

#endif

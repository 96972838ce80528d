/* tests/train_ref_case.h: one replay of ../shared/ref/darts_train_tiny.bin (README there) by
 * the trainer (train/core.h) on a device: a DARTS evaluation net (C=4, 5 layers, auxiliary
 * head, the README's genotype), three PyTorch SGD steps with the stored drop-path masks
 * (p = 0.2), auxiliary weight 0.4, clipping to 1.0, weight decay 3e-4, momentum 0.9, then
 * eval-mode logits. Checked per step: loss (total, main, aux), pre-clip gradient norm; step
 * 0: logits, aux logits and every parameter gradient; after three steps every parameter and
 * BN running statistic; the eval logits. Tolerances (README): float64 |a-b| <= 1e-9 + 1e-7
 * |b|; float32 1e-4 + 1e-3 |b| at step 0, 1e-3 + 1e-2 |b| after three steps. Counts failures
 * with CHECKF (tests/test_util.h) and prints the max error of each tensor group. */
#ifndef FN_TESTS_TRAIN_REF_CASE_H
#define FN_TESTS_TRAIN_REF_CASE_H

#include "datasets/refbin.h"
#include "engine/exec.h"

/* the README's genotype: every primitive, in both cell kinds (also test_train's network) */
extern const char *const train_ref_genotype;

/* control != 0: drop-path scale 1/0.75 instead of 1/0.8, which must miss the reference (the
 * comparison can fail; nothing is checked or printed). Returns the loss group's largest
 * error / tolerance (INFINITY when the executor could not be made). */
double train_ref_case(const fn_ref_file *ref, fn_dtype dt, fn_device dev, int control);

#endif

/* datasets/data_dirs.h: where freenas looks for data when a flag or config key names none.
 *
 * Roots, in this order (docs/DATA.md):
 *   1. $XDG_DATA_HOME/freenas/data, else ~/.local/share/freenas/data  (scripts/fetch_data.sh)
 *   2. <program>/../share/freenas/data: an installed prefix (`cmake --install`), or the build
 *      tree, where CMake unpacks the NB201 tables that ship with the sources (data/nb201/)
 *   3. ../shared/data beside the source checkout the program was built from (the test data)
 * $FREENAS_DATA (one directory, or several separated by ':') replaces 1 and 3: its folders
 * come first, then 2, which holds the tables freenas ships.
 * A flag (--data, --benchmark) or a config key always wins; these roots are only the default.
 * Each item is looked up on its own, so images fetched into (1) and the tables installed in
 * (2) work together. */
#ifndef FN_DATA_DIRS_H
#define FN_DATA_DIRS_H

#include <stddef.h>

/* The roots in search order, existing or not; returns how many were written (at most max).
 * Strings point into a static buffer rebuilt on each call. */
int data_roots(const char **roots, int max);

/* First root that holds `rel` (a file or directory below the root, e.g.
 * "nb201/nb201_accuracy.tsv"); the full path goes to out. 0, or -1 with a message in err that
 * lists every root tried and says how to get the data. */
int data_find(const char *rel, char *out, size_t outlen, char *err, size_t errlen);

/* First root where dataset_resolve (datasets/dataset.h) finds the images of dataset `name`;
 * the root goes to out. 0, or -1 with a message as data_find's. */
int data_find_images(const char *name, char *out, size_t outlen, char *err, size_t errlen);

/* The NB201 ground-truth table, found under the roots: a path, or NULL when there is none
 * (callers that can run without accuracies say so). */
const char *data_nb201_table(void);

/* HNAS's metric tables that ship with freenas (hnas/README.md), found under the roots, as the
 * comma-separated list `freenas hnas --table` and the sweep key `table` take: the whole-space
 * M and kappa table (hnas/nb201_cifar10_whole_seed0.tsv) first, then the slice with the other M
 * variants (hnas/nb201_cifar10_seed0.tsv); whichever exist. NULL when neither is found. */
const char *data_hnas_tables(void);

#endif

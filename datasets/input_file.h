/* datasets/input_file.h: opening an input file (data, benchmark table, config, records) for
 * reading, refusing what is not a regular file. A FIFO would block the open or the read
 * forever, a device (/dev/zero, /dev/urandom) never ends, a directory fails late with a
 * confusing message: each is an error that names the path and what it is instead.
 *
 *   FILE *f = input_file_open("../shared/data/nb201/nb201_accuracy.tsv", "r", err, sizeof err);
 *   if (!f) fprintf(stderr, "%s\n", err);  // "cannot read X: not a regular file (a FIFO)" */
#ifndef FN_INPUT_FILE_H
#define FN_INPUT_FILE_H

#include <stddef.h>
#include <stdio.h>

/* Opens path for reading (mode "r" or "rb"): a regular file, or NULL with "cannot open PATH:
 * reason" / "cannot read PATH: not a regular file (a directory)" in err. The open never
 * blocks (a FIFO without a writer is refused, not waited for). errno is set on failure
 * (EISDIR for a directory, EINVAL for a FIFO, device or socket). */
FILE *input_file_open(const char *path, const char *mode, char *err, size_t errlen);

/* What path is when it is not a regular file: "a directory", "a FIFO", "a character device",
 * "a block device", "a socket"; NULL for a regular file or one stat() cannot see. */
const char *input_file_kind(const char *path);

#endif

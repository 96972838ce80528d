/* datasets/refbin.h: reader for the reference-tensor container of ../shared/ref/README.md
 * ("FNREF001", uint32 count, then records: char name[64], uint32 dtype (0 f32, 1 f64,
 * 2 i32), uint32 ndim, uint32 dims[4], row-major data). Values are returned as double. */
#ifndef FN_REFBIN_H
#define FN_REFBIN_H

#include <stddef.h>

typedef struct {
    char name[64];
    int dtype, ndim, dims[4];
    size_t numel;
    double *data;
} fn_ref_tensor;

typedef struct {
    fn_ref_tensor *t;
    int count;
} fn_ref_file;

/* Returns 0, or -1 with a message (bad magic, truncated record, ...) in err. */
int refbin_load(const char *path, fn_ref_file *out, char *err, size_t errlen);
void refbin_free(fn_ref_file *f);
/* NULL if absent. */
const fn_ref_tensor *refbin_get(const fn_ref_file *f, const char *name);

#endif

/* fuzz/fuzz_dataset.c: libFuzzer harness for the labelled-image readers (datasets/dataset.c:
 * dataset_count and dataset_load_batch on CIFAR-10 / CIFAR-100 binary batches, ImageNet16-120
 * records, and the ImageNet-224 "IMGU8CHW" file with its uint16 labels file).
 *
 * Input: byte 0 picks the dataset (mod 4), byte 1 the batch size (1 + mod 8), byte 2 the
 * options (bit 0 augment, bit 1 the first n records instead of a seeded sample, bit 2 pass
 * the directory instead of the file, bit 3 one byte more than the ImageNet-224 header asks
 * for, bits 4..7 the seed); the rest is the data file. For imagenet224 the rest is the
 * 32-byte header, then the labels file: the images (224x224x3 bytes each, too big to mutate
 * usefully) are zeros to the size the header gives, when that is at most 4 images.
 *
 *   bash scripts/fuzz.sh dataset 600
 *   build/bin/replay_fuzz_dataset fuzz/corpus/dataset */
#include <stdlib.h>

#include "datasets/dataset.h"
#include "fuzz/fuzz_util.h"

#define FUZZ_IMG224_HEADER 32
#define FUZZ_IMG224_BYTES (3L * 224 * 224)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const names[4] = {"cifar10", "cifar100", "imagenet16-120", "imagenet224"};
    static const char *const files[4] = {"ds/data_batch_1.bin", "ds/train.bin",
                                         "ds/imagenet16_120.bin", "ds/images_u8_nchw.bin"};
    if (size < 3) return 0;
    const int which = data[0] % 4, n = 1 + data[1] % 8, opt = data[2];
    data += 3;
    size -= 3;
    char file[1024], dir[1024], lp[1024], err[4096];
    fuzz_path("ds", dir, sizeof dir);
    unlink(fuzz_path("ds/labels_u16.bin", lp, sizeof lp));
    for (int k = 0; k < 4; k++) unlink(fuzz_path(files[k], file, sizeof file));
    if (which == 3) {
        size_t h = size < FUZZ_IMG224_HEADER ? size : FUZZ_IMG224_HEADER;
        fuzz_write(files[3], data, h, file, sizeof file);
        if (h == FUZZ_IMG224_HEADER) {
            uint32_t nimg = (uint32_t)data[8] | (uint32_t)data[9] << 8 |
                            (uint32_t)data[10] << 16 | (uint32_t)data[11] << 24;
            if (nimg <= 4 &&
                truncate(file, FUZZ_IMG224_HEADER + (off_t)nimg * FUZZ_IMG224_BYTES +
                                   ((opt & 8) ? 1 : 0))) {
                perror("fuzz_dataset: truncate");
                exit(2);
            }
            fuzz_write("ds/labels_u16.bin", data + h, size - h, lp, sizeof lp);
        }
    } else {
        fuzz_write(files[which], data, size, file, sizeof file);
    }
    const char *path = (opt & 4) ? dir : file;
    char resolved[4096];
    if (!dataset_resolve(names[which], path, resolved, sizeof resolved, err, sizeof err))
        dataset_count(names[which], resolved, err, sizeof err);
    fn_batch b;
    uint64_t seed = (opt & 2) ? UINT64_MAX : (uint64_t)(opt >> 4);
    if (!dataset_load_batch(names[which], path, n, seed, opt & 1, &b, err, sizeof err)) {
        for (int i = 0; i < b.n; i++)
            if (b.y[i] < 0 || b.y[i] >= b.classes) abort();
        batch_free(&b);
    }
    return 0;
}

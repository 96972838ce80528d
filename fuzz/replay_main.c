/* fuzz/replay_main.c: runs a libFuzzer harness without libFuzzer: every file named on the
 * command line, and every file of every directory named (in name order), is passed once to
 * the harness's LLVMFuzzerTestOneInput. Linked with each fuzz/fuzz_*.c in the normal build
 * (any compiler) as replay_fuzz_NAME; CTest replays fuzz/corpus/NAME with it, so the corpora
 * (seeds and the reproducers of fixed bugs) run on every test run in seconds.
 *
 *   build/bin/replay_fuzz_records fuzz/corpus/records
 *   build/bin/replay_fuzz_records crash-0123abcd          # one input
 *
 * A crash of the harness ends the program (exit status from the signal); exit 1 when a
 * named path cannot be read or no input was found. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0, got;
    do {
        if (n == cap) {
            cap = cap ? 2 * cap : 4096;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) abort();
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: read error\n", path);
        free(buf);
        return -1;
    }
    /* libFuzzer hands over exactly size bytes: a copy of that size lets ASan see overreads */
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact) abort();
    if (n) memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

static int replay_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
    long count = 0;
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st)) {
            perror(argv[i]);
            bad = 1;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            bad |= replay_file(argv[i]) != 0;
            count++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        if (!d) {
            perror(argv[i]);
            bad = 1;
            continue;
        }
        char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 64;
                char **nn = realloc(names, cap * sizeof *names);
                if (!nn) abort();
                names = nn;
            }
            names[n] = malloc(strlen(argv[i]) + strlen(e->d_name) + 2);
            if (!names[n]) abort();
            sprintf(names[n], "%s/%s", argv[i], e->d_name);
            n++;
        }
        closedir(d);
        qsort(names, n, sizeof *names, replay_cmp);
        for (size_t k = 0; k < n; k++) {
            struct stat fs;
            if (!stat(names[k], &fs) && S_ISREG(fs.st_mode)) {
                bad |= replay_file(names[k]) != 0;
                count++;
            }
            free(names[k]);
        }
        free(names);
    }
    printf("replayed %ld input%s\n", count, count == 1 ? "" : "s");
    if (!count) fprintf(stderr, "no inputs found\n");
    return bad || !count ? 1 : 0;
}

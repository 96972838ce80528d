/* datasets/input_file.c: opening input files, regular files only (see input_file.h). */
#define _GNU_SOURCE
#include "datasets/input_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *kind_of(mode_t m) {
    if (S_ISREG(m)) return NULL;
    if (S_ISDIR(m)) return "a directory";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    return "not a file";
}

const char *input_file_kind(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? kind_of(st.st_mode) : NULL;
}

FILE *input_file_open(const char *path, const char *mode, char *err, size_t errlen) {
    /* O_NONBLOCK: opening a FIFO without a writer returns at once instead of waiting */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
        errno = e;
        return NULL;
    }
    struct stat st;
    const char *kind = fstat(fd, &st) ? "unreadable" : kind_of(st.st_mode);
    if (kind) {
        snprintf(err, errlen, "cannot read %s: not a regular file (%s)", path, kind);
        close(fd);
        errno = strcmp(kind, "a directory") ? EINVAL : EISDIR;
        return NULL;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    FILE *f = fdopen(fd, mode);
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
        close(fd);
        errno = e;
    }
    return f;
}

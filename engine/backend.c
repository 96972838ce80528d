/* engine/backend.c: the backend registry (engine/backend.h): one table or loader per device.
 * A loader runs once, under a lock, the first time an executor asks for its device; its
 * answer (a table, or the message why there is none) is kept for the process. Also the
 * process's CUDA device ordinal (backend_set_cuda_device). */
#include "engine/backend.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/common.h"

#define FN_NDEV 2
static const char *const dev_name[FN_NDEV] = {"cpu", "cuda"};

static struct {
    const fn_backend *table;
    fn_backend_loader load;
    int tried;
    char msg[FN_ERRLEN];
} reg[FN_NDEV] = {{&fn_backend_cpu, NULL, 1, ""}};
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;

static int dev_ok(fn_device dev) { return (int)dev >= 0 && (int)dev < FN_NDEV; }

static void set_entry(fn_device dev, const fn_backend *b, fn_backend_loader load) {
    FN_ASSERT(dev_ok(dev));
    pthread_mutex_lock(&reg_lock);
    reg[dev].table = b;
    reg[dev].load = load;
    reg[dev].tried = load == NULL;
    reg[dev].msg[0] = '\0';
    pthread_mutex_unlock(&reg_lock);
}

void backend_register(fn_device dev, const fn_backend *b) { set_entry(dev, b, NULL); }

void backend_register_loader(fn_device dev, fn_backend_loader load) { set_entry(dev, NULL, load); }

const fn_backend *backend_get(fn_device dev, char *err, size_t errlen) {
    if (!dev_ok(dev)) {
        snprintf(err, errlen, "device %d: no such device", (int)dev);
        return NULL;
    }
    pthread_mutex_lock(&reg_lock);
    if (!reg[dev].tried) {
        reg[dev].tried = 1;
        if (reg[dev].load) reg[dev].table = reg[dev].load(reg[dev].msg, sizeof reg[dev].msg);
    }
    const fn_backend *b = reg[dev].table;
    if (!b) {
        if (reg[dev].msg[0]) snprintf(err, errlen, "%s", reg[dev].msg);
        else snprintf(err, errlen, "device %s: no backend registered for it in this program",
                      dev_name[dev]);
    }
    pthread_mutex_unlock(&reg_lock);
    return b;
}

size_t backend_mem_free(fn_device dev) {
    char err[FN_ERRLEN];
    const fn_backend *b = backend_get(dev, err, sizeof err);
    return b && b->mem_free ? b->mem_free() : 0;
}

static _Atomic int cuda_device = -1;

void backend_set_cuda_device(int ordinal) { cuda_device = ordinal; }

int backend_cuda_device(void) { return cuda_device; }

int backend_loaded(fn_device dev) {
    pthread_mutex_lock(&reg_lock);
    const int r = dev_ok(dev) && reg[dev].table != NULL;
    pthread_mutex_unlock(&reg_lock);
    return r;
}

/* gpu/backend_cuda.c: the CUDA backend's loader (see gpu/backend_cuda.h). The module is looked
 * for next to the program (/proc/self/exe), in ../lib beside it, then by the dynamic
 * linker's search path; it is loaded once, on the first CUDA executor of the process. */
#include "gpu/backend_cuda.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine/backend.h"

#define FN_CUDA_MODULE "libfreenas_cuda.so"

static void *module;

static void *open_module(char *err, size_t errlen) {
    char exe[4096];
    const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
        const char *rel[2] = {"", "/../lib"};
        for (int i = 0; i < 2; i++) {
            char path[4096 + 64];
            snprintf(path, sizeof path, "%s%s/%s", exe, rel[i], FN_CUDA_MODULE);
            if (access(path, R_OK) != 0) continue;
            void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
            if (h) return h;
            snprintf(err, errlen, "device cuda: cannot load the CUDA backend %s: %s", path,
                     dlerror());
            return NULL;
        }
    }
    void *h = dlopen(FN_CUDA_MODULE, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        snprintf(err, errlen, "device cuda: cannot load the CUDA backend (%s): %s",
                 FN_CUDA_MODULE, dlerror());
    return h;
}

static const fn_backend *cuda_load(char *err, size_t errlen) {
    module = open_module(err, errlen);
    if (!module) return NULL;
    const fn_backend *b = (const fn_backend *)dlsym(module, "fn_backend_cuda");
    if (!b) snprintf(err, errlen, "device cuda: %s has no fn_backend_cuda", FN_CUDA_MODULE);
    return b;
}

void gpu_backend_register(void) { backend_register_loader(FN_DEV_CUDA, cuda_load); }

int gpu_exec_compiled(void) { return 1; }

void gpu_set_graphs(int on) {
    char err[512];
    if (!backend_get(FN_DEV_CUDA, err, sizeof err) || !module) return;
    void (*set)(int) = (void (*)(int))dlsym(module, "gpu_cuda_set_graphs");
    if (set) set(on);
}

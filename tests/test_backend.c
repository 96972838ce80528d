/* tests/test_backend.c: the executor backend registry (engine/backend.h). A test backend for
 * FN_DEV_CUDA that forwards to the CPU backend and counts its calls must give bit-identical
 * results to the CPU executor and see every call that depends on the device (alloc, init,
 * forward, backward, tensor access, ReLU mask, free): exec_* reach a backend only through the
 * table. A loader runs once and its failure message is what exec_error reports; a loader's
 * table is used after it succeeds. backend_mem_free asks the table (0 for the CPU's NULL
 * entry); backend_cuda_device keeps the ordinal set.
 *   ./build/bin/test_backend */
#include <string.h>

#include "engine/backend.h"
#include "tests/test_util.h"

static int n_alloc, n_init, n_free, n_fwd, n_bwd, n_tensor, n_mask, n_load;

static int t_alloc(fn_exec *e) { n_alloc++; return fn_backend_cpu.alloc(e); }
static int t_init(fn_exec *e, char *err, size_t len) { (void)e; (void)err; (void)len; n_init++; return 0; }
static void t_free(fn_exec *e) { n_free++; fn_backend_cpu.free(e); }
static void t_forward(fn_exec *e) { n_fwd++; fn_backend_cpu.forward(e); }
static void t_backward(fn_exec *e, const void *d) { n_bwd++; fn_backend_cpu.backward(e, d); }
static void *t_tensor(const fn_exec *e, int t, int grad) { n_tensor++; return fn_backend_cpu.tensor(e, t, grad); }
static void t_mask(fn_exec *e, size_t bytes) { n_mask++; fn_backend_cpu.relu_mask(e, bytes); }

static size_t t_mem_free(void) { return (size_t)12345 << 20; }

static const fn_backend test_backend = {"test", 1, t_alloc, t_init, t_free, t_forward,
                                        t_backward, t_tensor, t_mask, NULL, NULL, NULL, NULL,
                                        t_mem_free};

static const fn_backend *load_fails(char *err, size_t len) {
    n_load++;
    snprintf(err, len, "device cuda: test loader refuses");
    return NULL;
}
static const fn_backend *load_ok(char *err, size_t len) {
    (void)err; (void)len;
    n_load++;
    return &test_backend;
}

/* conv -> BN -> ReLU -> GAP -> linear on 2x3x6x6; logits and d alpha-free d params */
static void build(fn_graph *g) {
    graph_init(g);
    int x = graph_input(g, 2, 3, 6, 6);
    x = graph_conv(g, "c", x, 4, 3, 1, 1, 1, 1);
    x = graph_bn(g, "bn", x, 1);
    x = graph_relu(g, x);
    x = graph_gap(g, x);
    g->output = graph_linear(g, "fc", x, 5);
}

/* forward + backward with d logits = 1 on device dev; logits and d params into out */
static int run(const fn_graph *g, fn_device dev, double *out, size_t *n) {
    fn_exec e;
    fn_exec_opts o = {1, 0, NULL, NULL, dev, 0, 0};
    if (exec_init_opts(&e, g, FN_F64, &o)) return -1;
    exec_init_params(&e, 11);
    double *in = exec_tensor(&e, g->input);
    for (size_t i = 0; i < graph_tensor_numel(g, g->input); i++) in[i] = 0.01 * (double)(i % 17) - 0.05;
    exec_set_relu_mode(&e, FN_RELU_RECORD);
    exec_forward(&e);
    const size_t no = graph_tensor_numel(g, g->output);
    double d[64];
    for (size_t i = 0; i < no; i++) d[i] = 1.0;
    exec_backward(&e, d);
    const double *z = exec_tensor(&e, g->output);
    *n = 0;
    for (size_t i = 0; i < no; i++) out[(*n)++] = z[i];
    for (size_t i = 0; i < g->param_numel; i++) out[(*n)++] = ((double *)e.dparams)[i];
    exec_free(&e);
    return 0;
}

int main(void) {
    fn_graph g;
    build(&g);
    static double ref[4096], got[4096];
    size_t nref = 0, ngot = 0;
    CHECK(g.param_numel + 10 < 4096);
    CHECK(run(&g, FN_DEV_CPU, ref, &nref) == 0);

    /* a failing loader: tried once, its message kept */
    backend_register_loader(FN_DEV_CUDA, load_fails);
    CHECK(run(&g, FN_DEV_CUDA, got, &ngot) == -1);
    CHECKF(strstr(exec_error(), "test loader refuses") != NULL, "exec_error: %s", exec_error());
    CHECK(run(&g, FN_DEV_CUDA, got, &ngot) == -1);
    CHECKF(n_load == 1, "loader ran %d times", n_load);
    CHECK(!backend_loaded(FN_DEV_CUDA));

    /* a loader that succeeds: its table runs every device-dependent step */
    backend_register_loader(FN_DEV_CUDA, load_ok);
    CHECK(run(&g, FN_DEV_CUDA, got, &ngot) == 0);
    CHECK(backend_loaded(FN_DEV_CUDA));
    CHECKF(n_load == 2, "loader ran %d times", n_load);
    CHECKF(n_alloc == 1 && n_init == 1 && n_free == 1 && n_fwd == 1 && n_bwd == 1 &&
               n_tensor >= 2 && n_mask == 1,
           "calls: alloc %d init %d free %d forward %d backward %d tensor %d mask %d", n_alloc,
           n_init, n_free, n_fwd, n_bwd, n_tensor, n_mask);
    CHECK(ngot == nref);
    CHECK(check_close("test backend vs cpu (logits, d params)", got, ref, nref, 0, 0) == 0);

    /* registered as a table: no loader involved */
    backend_register(FN_DEV_CUDA, &test_backend);
    CHECK(run(&g, FN_DEV_CUDA, got, &ngot) == 0);
    CHECKF(n_load == 2 && n_fwd == 2, "loader %d forward %d", n_load, n_fwd);
    /* free device memory through the table; none for the CPU (NULL entry) */
    CHECK(backend_mem_free(FN_DEV_CUDA) == (size_t)12345 << 20);
    CHECK(backend_mem_free(FN_DEV_CPU) == 0);
    /* the process's CUDA device ordinal: unset (-1) until set */
    CHECK(backend_cuda_device() == -1);
    backend_set_cuda_device(3);
    CHECK(backend_cuda_device() == 3);
    backend_set_cuda_device(-1);
    graph_free(&g);
    return test_summary("test_backend");
}

/* train/core.h: one training step of a train_net with PyTorch semantics (issue 25): forward in
 * train mode, cross-entropy plus the auxiliary loss, backward, running BN statistics, global
 * gradient-norm clipping, SGD with momentum / Nesterov and weight decay; and eval-mode
 * forwards with the running statistics.
 *
 * The trainer keeps the master state in double on the host, whatever the executor precision
 * and device: weights w, momentum buffers and running statistics. Each step copies w into
 * the executor's parameters (float32 or float64), and reads its parameter gradients back as
 * double. So a checkpoint is the same bytes for either precision or device, and the float64
 * pipeline is PyTorch's float64 run.
 *
 * On the CUDA backend (train_core_init_on, FN_DEV_CUDA) the same steps run with the host
 * arenas of engine/exec.h as the mirrors they are there: the forward uploads the
 * parameters (after each SGD step), the drop-path scales (alpha) and the input, and in eval
 * mode the running statistics (e->saved); a train-mode forward downloads the logits and
 * the batch statistics (e->saved, for the running update); backward downloads d params.
 * Clipping, SGD and the running update stay on the host in double: per step a few
 * parameter-sized copies, next to the network's passes on the device.
 *
 * Semantics (PyTorch): loss = CE(logits) + aux_weight * CE(aux logits), means over the batch;
 * clip: norm = ||g||_2 over all parameters, g *= max_norm / (norm + 1e-6) when that is < 1;
 * SGD: d = g + wd * w; buf = d at the first step, else buf = momentum * buf + d; step with
 * d + momentum * buf (Nesterov) or buf; w -= lr * step. Weight decay applies to every
 * parameter (BN included, as DARTS and HNAS). BN running statistics: mean and unbiased batch
 * variance, running = 0.9 running + 0.1 batch (momentum 0.1), starting at 0 and 1; eval mode
 * uses them (eps 1e-5). Drop-path: scale = mask / (1 - p) per sample (DARTS drop_path). */
#ifndef FN_TRAIN_CORE_H
#define FN_TRAIN_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/exec.h"
#include "train/train_net.h"

typedef struct {
    double momentum, weight_decay;
    int nesterov;
    double clip;        /* max global gradient norm; <= 0: no clipping */
    double aux_weight;  /* weight of the auxiliary loss (used when the net has the head) */
} train_opt;

typedef struct {
    fn_dtype dt;
    size_t np;          /* parameters */
    double *w;          /* [np] master weights */
    double *g;          /* [np] gradient of the last step (after clipping) */
    double *mom;        /* [np] momentum buffers */
    int mom_ready;      /* 0 until the first SGD step */
    size_t ns;          /* saved-arena size of the graphs (2 c per BN) */
    double *run;        /* [ns] running mean at a BN's saved offset, running var after it */
    int nexec;
    train_net *net[2];  /* borrowed: the full-batch net and an optional tail-batch net with
                           the same parameter layout */
    fn_exec e[2];
    double *dlog;       /* scratch: d output in double */
    void *dlog_dt;      /* scratch: d output in the executor dtype */
} train_core;

typedef struct {
    double loss, loss_main, loss_aux;
    int correct;        /* argmax of the main logits == label */
    double grad_norm;   /* before clipping */
} train_step_stats;

/* Executors for net (and tail, or NULL, a net of the same architecture at another batch
 * size) in dtype dt on the CPU. Weights are initialised by exec_init_params(seed) (PyTorch
 * default init rules), running statistics 0 / 1. Returns 0, or -1 with a message. */
int train_core_init(train_core *c, train_net *net, train_net *tail, fn_dtype dt, uint64_t seed,
                    char *err, size_t errlen);
/* The same on device dev (FN_DEV_CPU or FN_DEV_CUDA: the CUDA backend must be registered,
 * gpu/backend_cuda.h; no usable GPU is an error with exec_error's message). */
int train_core_init_on(train_core *c, train_net *net, train_net *tail, fn_dtype dt,
                       fn_device dev, uint64_t seed, char *err, size_t errlen);
void train_core_free(train_core *c);

/* The executor for a batch of n samples (n = net or tail batch), or NULL. */
fn_exec *train_core_exec(train_core *c, int n);
/* Drop-path scales for the next training forward of executor k: per slot (cell * 8 + entry)
 * and sample, keep[slot * batch + i] in {0, 1} (NULL: all kept), probability p. */
void train_core_set_drop(train_core *c, int k, const unsigned char *keep, double p);
/* Forward in train mode of the input already written into executor k's input tensor, loss,
 * backward, running statistics; leaves the gradient in c->g (not yet clipped). */
void train_core_forward_backward(train_core *c, int k, const int *labels, const train_opt *o,
                                 train_step_stats *st);
/* Clips c->g to o->clip (if > 0); returns the norm before clipping. */
double train_core_clip(train_core *c, const train_opt *o);
/* One SGD step with learning rate lr on c->g. */
void train_core_sgd(train_core *c, double lr, const train_opt *o);
/* Eval-mode forward (running statistics, no drop-path) of executor k's input; the main logits
 * are copied to logits [n, classes] (double). */
void train_core_eval(train_core *c, int k, double *logits);
/* Copies named reference values into w / run (PyTorch names: "<bn>.running_mean", ...):
 * for tests and imports. get(name, numel) returns the values or NULL when absent. Returns the
 * number of tensors missing. */
int train_core_load(train_core *c, const double *(*get)(void *u, const char *name, size_t n),
                    void *u);
/* The running-stat values of parameter-free lookups: mean / var of the BN whose weight is
 * parameter p (a "<bn>.weight"), or NULL. */
const double *train_core_running(const train_core *c, int p, int var);

#endif

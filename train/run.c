/* train/run.c: recipes, the epoch loop, models and the search-facing train_darts (see
 * train/train.h). */
#include "train/train.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/common.h"
#include "nn/rng.h"
#include "train/checkpoint.h"

train_recipe train_recipe_hnas(void) {
    train_recipe r = {10,  576, 0.1, 5e-3, 0, 0.9, 3e-4, 0, 5.0, 0, 0.4, 0.2, 0, 0, 1, 0,
                      FN_F32, FN_DEV_CPU};
    return r;
}

train_recipe train_recipe_darts(void) {
    train_recipe r = {600, 96, 0.025, 0.0, 0, 0.9, 3e-4, 0, 5.0, 1, 0.4, 0.2, 1, 16, 1, 0,
                      FN_F32, FN_DEV_CPU};
    return r;
}

void train_result_free(train_result *r) {
    free(r->rec);
    memset(r, 0, sizeof(*r));
}

static double cosine(double lr, double lr_min, double t, double T) {
    return lr_min + (lr - lr_min) * (1 + cos(3.14159265358979323846 * t / T)) / 2;
}

/* what a checkpoint must agree on: the recipe (but not the precision-free epoch count only:
 * the schedule depends on it, so it is part of the key too) and the parameter layout */
static uint64_t run_key(const train_recipe *r, const train_core *c, const train_split *sp) {
    uint64_t h = 1469598103934665603ull;
    double v[] = {r->epochs, r->batch, r->lr, r->lr_min, r->lr_per_step, r->momentum,
                  r->weight_decay, r->nesterov, r->clip, r->auxiliary, r->aux_weight,
                  r->drop_path, r->augment, r->cutout, r->shuffle, (double)r->seed, r->dtype,
                  (double)c->np, (double)c->ns, sp->train0, sp->n_train, sp->valid0,
                  sp->n_valid};
    const unsigned char *b = (const unsigned char *)v;
    for (size_t i = 0; i < sizeof v; i++) { h ^= b[i]; h *= 1099511628211ull; }
    return h;
}

static void fmt_time(double s, char *buf, size_t len) {
    if (s < 0 || !isfinite(s)) s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, len, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
}

/* validation accuracy / loss in eval mode, batches of the full executor (zero padded) */
static void evaluate(train_core *c, const train_data *d, const train_split *sp, double *acc,
                     double *loss) {
    const train_net *net = c->net[0];
    fn_exec *e = &c->e[0];
    const int B = net->batch, K = net->classes;
    const size_t chw = (size_t)d->c * d->h * d->w;
    double *z = mallocCheck(sizeof(double) * (size_t)B * K);
    long correct = 0;
    double tot = 0;
    void *x = exec_tensor(e, net->g.input);
    for (int s0 = 0; s0 < sp->n_valid; s0 += B) {
        const int nb = sp->n_valid - s0 < B ? sp->n_valid - s0 : B;
        for (int i = 0; i < B; i++)
            for (size_t j = 0; j < chw; j++)
                exec_set(x, c->dt, i * chw + j,
                         i < nb ? d->x[(size_t)(sp->valid0 + s0 + i) * chw + j] : 0.0);
        train_core_eval(c, 0, z);
        for (int i = 0; i < nb; i++) {
            const double *r = z + (size_t)i * K;
            const int y = d->y[sp->valid0 + s0 + i];
            double mx = r[0];
            int am = 0;
            for (int j = 1; j < K; j++)
                if (r[j] > mx) { mx = r[j]; am = j; }
            double s = 0;
            for (int j = 0; j < K; j++) s += exp(r[j] - mx);
            tot += mx + log(s) - r[y];
            correct += am == y;
        }
    }
    free(z);
    *acc = (double)correct / sp->n_valid;
    *loss = tot / sp->n_valid;
}

int train_run(train_core *c, const train_recipe *r, const train_data *d, const train_split *sp,
              const train_opts *o, train_result *res, char *err, size_t errlen) {
    memset(res, 0, sizeof(*res));
    const train_net *net = c->net[0];
    const int B = net->batch;
    if (B != r->batch || sp->n_train < 1 || sp->n_valid < 1 ||
        sp->train0 + sp->n_train > d->n || sp->valid0 + sp->n_valid > d->n) {
        snprintf(err, errlen, "train: inconsistent batch or split (batch %d, train %d+%d, valid "
                 "%d+%d of %d records)", r->batch, sp->train0, sp->n_train, sp->valid0,
                 sp->n_valid, d->n);
        return -1;
    }
    if (sp->n_train % B && !train_core_exec(c, sp->n_train % B)) {
        snprintf(err, errlen, "train: no executor for the last batch of %d", sp->n_train % B);
        return -1;
    }
    const double t_start = fn_now();
    res->rec = callocCheck((size_t)r->epochs + 1, sizeof(train_record));
    const uint64_t key = run_key(r, c, sp);
    int start = 0;
    if (o->out_dir) {
        if (mkdir(o->out_dir, 0777) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create output directory '%s': %s", o->out_dir,
                     strerror(errno));
            return -1;
        }
        int rc = train_ckpt_read(o->out_dir, c, key, r->epochs, &start, res->rec, err, errlen);
        if (rc < 0) return -1;
        /* a kill between the checkpoint and the records file: rewrite it */
        if (rc > 0 && train_records_write(o->out_dir, res->rec, start, err, errlen)) return -1;
        res->resumed_from = start;
        if (rc > 0 && o->progress)
            fprintf(stderr, "%s resumed from %s/checkpoint.bin after epoch %d\n",
                    o->label ? o->label : "train", o->out_dir, start);
    }
    train_opt opt = {r->momentum, r->weight_decay, r->nesterov, r->clip,
                     net->aux ? r->aux_weight : 0};
    const int steps = (sp->n_train + B - 1) / B;
    const size_t chw = (size_t)d->c * d->h * d->w;
    int *perm = mallocCheck(sizeof(int) * (size_t)sp->n_train);
    int *labels = mallocCheck(sizeof(int) * (size_t)B);
    const int slots = net->cells * TRAIN_DROP_SLOTS;
    unsigned char *keep = mallocCheck((size_t)slots * B + 1);
    double t_prog = fn_now(), img_done = 0, t_work = 0;
    const double img_total = (double)(r->epochs - start) * (sp->n_train + sp->n_valid);
    for (int ep = start; ep < r->epochs; ep++) {
        const double t0 = fn_now();
        train_data_order(perm, sp->n_train, r->seed, ep, r->shuffle);
        const double p = r->drop_path * ep / r->epochs;
        double loss_sum = 0, lr = 0;
        long correct = 0;
        for (int s = 0; s < steps; s++) {
            const int nb = sp->n_train - s * B < B ? sp->n_train - s * B : B;
            const int k = nb == B ? 0 : 1;
            fn_exec *e = &c->e[k];
            void *x = exec_tensor(e, e->g->input);
            const int crop = r->augment ? 4 : 0;
#pragma omp parallel for schedule(static)
            for (int i = 0; i < nb; i++) {
                const int rec = sp->train0 + perm[s * B + i];
                char *dst = (char *)x + i * chw * (c->dt == FN_F64 ? 8 : 4);
                train_data_sample(d, rec, dst, c->dt == FN_F64, r->seed, ep, (long)s * B + i,
                                  crop, r->augment, r->cutout);
            }
            for (int i = 0; i < nb; i++) labels[i] = d->y[sp->train0 + perm[s * B + i]];
            if (c->net[k]->drop_off) {
                if (p > 0) {
                    const uint64_t gs = (uint64_t)ep * steps + s;
                    for (int q = 0; q < slots; q++)
                        for (int i = 0; i < nb; i++)
                            keep[(size_t)q * nb + i] =
                                fn_rng_uniform(r->seed, TRAIN_STREAM_DROP,
                                               (gs * slots + q) * (uint64_t)B + i) >= p;
                    train_core_set_drop(c, k, keep, p);
                } else {
                    train_core_set_drop(c, k, NULL, 0);
                }
            }
            train_step_stats st;
            train_core_forward_backward(c, k, labels, &opt, &st);
            train_core_clip(c, &opt);
            lr = r->lr_per_step ? cosine(r->lr, r->lr_min, (double)ep * steps + s,
                                         (double)r->epochs * steps)
                                : cosine(r->lr, r->lr_min, ep, r->epochs);
            train_core_sgd(c, lr, &opt);
            loss_sum += st.loss * nb;
            correct += st.correct;
            img_done += nb;
            if (o->progress && fn_now() - t_prog > 10) {
                t_prog = fn_now();
                const double rate = img_done / (t_work + fn_now() - t0);
                char eta[32];
                fmt_time((img_total - img_done) / rate, eta, sizeof eta);
                fprintf(stderr, "%s epoch %d/%d step %d/%d loss %.4f acc %.2f%% %.1f img/s "
                        "ETA %s\n", o->label ? o->label : "train", ep + 1, r->epochs, s + 1,
                        steps, loss_sum / ((double)s * B + nb), 100.0 * correct /
                        ((double)s * B + nb), rate, eta);
            }
        }
        const double t_train = fn_now() - t0;
        train_record *rc = &res->rec[ep];
        rc->epoch = ep;
        rc->lr = lr;
        rc->drop_prob = net->drop_off ? p : 0; /* NB201 nets have no drop-path */
        rc->train_loss = loss_sum / sp->n_train;
        rc->train_acc = (double)correct / sp->n_train;
        evaluate(c, d, sp, &rc->valid_acc, &rc->valid_loss);
        img_done += sp->n_valid;
        rc->images_per_s = sp->n_train / t_train;
        rc->seconds = fn_now() - t0;
        t_work += rc->seconds;
        if (o->out_dir && (train_ckpt_write(o->out_dir, c, key, ep + 1, res->rec, err, errlen) ||
                           train_records_write(o->out_dir, res->rec, ep + 1, err, errlen))) {
            free(perm); free(labels); free(keep);
            return -1;
        }
        res->epochs_done = ep + 1;
        res->valid_acc = rc->valid_acc;
        res->valid_loss = rc->valid_loss;
        if (o->progress) {
            char eta[32];
            fmt_time((img_total - img_done) / (img_done / t_work), eta, sizeof eta);
            fprintf(stderr, "%s epoch %d/%d lr %.5f train loss %.4f acc %.2f%% valid loss "
                    "%.4f acc %.2f%% %.1f img/s %.1f s ETA %s\n",
                    o->label ? o->label : "train", ep + 1, r->epochs, lr, rc->train_loss,
                    100 * rc->train_acc, rc->valid_loss, 100 * rc->valid_acc, rc->images_per_s,
                    rc->seconds, eta);
        }
        if (o->stop_after > 0 && ep + 1 >= o->stop_after) break;
    }
    if (res->epochs_done == 0 && start > 0) { /* nothing left to run */
        res->epochs_done = start;
        res->valid_acc = res->rec[start - 1].valid_acc;
        res->valid_loss = res->rec[start - 1].valid_loss;
    } else if (res->epochs_done == 0) {
        res->epochs_done = start;
    }
    res->seconds = fn_now() - t_start;
    free(perm); free(labels); free(keep);
    return 0;
}

static int model_finish(train_model *m, const train_recipe *r, char *err, size_t errlen) {
    if (train_core_init_on(&m->core, &m->net, m->has_tail ? &m->tail : NULL, r->dtype,
                           r->device, r->seed, err, errlen)) {
        train_net_free(&m->net);
        if (m->has_tail) train_net_free(&m->tail);
        return -1;
    }
    return 0;
}

int train_model_darts(train_model *m, const darts_genotype *gt, int C, int layers,
                      const train_recipe *r, const train_data *d, const train_split *sp,
                      char *err, size_t errlen) {
    memset(m, 0, sizeof(*m));
    train_darts_config dc = {C, layers, d->classes, d->h, d->w, r->batch, r->auxiliary,
                             r->drop_path > 0};
    if (r->batch < 1) {
        snprintf(err, errlen, "train: batch %d", r->batch);
        return -1;
    }
    if (train_darts_net_build(&m->net, gt, &dc, err, errlen)) return -1;
    const int tail = sp->n_train % r->batch;
    if (tail) {
        dc.batch = tail;
        if (train_darts_net_build(&m->tail, gt, &dc, err, errlen)) {
            train_net_free(&m->net);
            return -1;
        }
        m->has_tail = 1;
    }
    return model_finish(m, r, err, errlen);
}

int train_model_nb201(train_model *m, const int ops[6], int C, int N, const train_recipe *r,
                      const train_data *d, const train_split *sp, char *err, size_t errlen) {
    memset(m, 0, sizeof(*m));
    if (d->h != d->w) {
        snprintf(err, errlen, "nb201 network: square inputs only (%dx%d)", d->h, d->w);
        return -1;
    }
    if (train_nb201_net_build(&m->net, ops, C, N, d->classes, d->h, r->batch, err, errlen))
        return -1;
    const int tail = sp->n_train % r->batch;
    if (tail) {
        if (train_nb201_net_build(&m->tail, ops, C, N, d->classes, d->h, tail, err, errlen)) {
            train_net_free(&m->net);
            return -1;
        }
        m->has_tail = 1;
    }
    return model_finish(m, r, err, errlen);
}

void train_model_free(train_model *m) {
    train_core_free(&m->core);
    train_net_free(&m->net);
    if (m->has_tail) train_net_free(&m->tail);
    memset(m, 0, sizeof(*m));
}

int train_darts(const darts_genotype *gt, int C, int layers, const train_recipe *r,
                const train_data *d, const train_split *sp, const train_opts *o,
                train_result *res, char *err, size_t errlen) {
    train_model m;
    memset(res, 0, sizeof(*res));
    if (train_model_darts(&m, gt, C, layers, r, d, sp, err, errlen)) return -1;
    int rc = train_run(&m.core, r, d, sp, o, res, err, errlen);
    train_model_free(&m);
    return rc;
}

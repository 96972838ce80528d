/* bo/bo_rng.h: the Philox streams (nn/rng.h) of the BO library, one per purpose. A draw is
 * fn_rng_uniform(key, stream, i): the GP's restarts use the key given to bo_gp_fit and
 * i = restart x n_length_scales + p; the optimiser's draws for suggestion k use the search
 * seed and i = k << 32 | index, so suggestion k depends only on (seed, k, registered points). */
#ifndef BO_RNG_H
#define BO_RNG_H

#include "nn/rng.h"

enum {
    BO_STREAM_GP = FN_STREAM_BO + 0,      /* length-scale restarts (key: the GP's seed) */
    BO_STREAM_GP_KEY = FN_STREAM_BO + 1,  /* the GP seed of suggestion k */
    BO_STREAM_WARMUP = FN_STREAM_BO + 2,  /* the random samples of the acquisition */
    BO_STREAM_STARTS = FN_STREAM_BO + 3,  /* the quasi-Newton starts */
    BO_STREAM_INIT = FN_STREAM_BO + 4,    /* a suggestion with nothing registered: uniform */
};

#endif

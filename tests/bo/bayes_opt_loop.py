#!/usr/bin/env python3
"""tests/bo/bayes_opt_loop.py: bayes_opt 1.2 itself on the loop bench/bench_bo.c runs (HNAS's
shape: 5 probes nu = linspace(0, 1, 5) at c = -2, then 15 EI steps, xi = 0, over
(nu, c) in [0, 1] x [-4, 0]) on the same smooth surface, seeds 0-19: the statistics to set beside
bench_bo's (its suggestions are not numerically bayes_opt's: other random streams).

Not run by CI. Needs bayes_opt 1.2.0 (`pip install --no-deps bayesian-optimization==1.2.0` in a
throwaway virtual environment over Debian's python3-sklearn). Two shims for today's numpy and
scipy, which bayes_opt 1.2 predates: np.float, and L-BFGS-B's scalar `fun`.
    python3 tests/bo/bayes_opt_loop.py
"""
import warnings

import numpy as np

warnings.filterwarnings("ignore")
if not hasattr(np, "float"):
    np.float = float
import bayes_opt.util as bo_util  # noqa: E402
from bayes_opt import BayesianOptimization  # noqa: E402

_minimize = bo_util.minimize


def _minimize_1d(*a, **k):  # bayes_opt 1.2 reads res.fun[0]
    r = _minimize(*a, **k)
    r.fun = np.atleast_1d(r.fun)
    return r


bo_util.minimize = _minimize_1d


def surface(target_metric, target_coeff):  # bench_bo.c's objective(nu, c)
    nu, c = target_metric, target_coeff
    return 84 + 4 * np.sin(3 * nu) - 0.4 * (c + 2) ** 2 + 0.5 * nu * c


def main():
    bests, white = [], 0
    for seed in range(20):
        bo = BayesianOptimization(f=surface, random_state=seed, verbose=0,
                                  pbounds={"target_metric": (0, 1), "target_coeff": (-4, 0)})
        for nu in np.linspace(0, 1, 5):
            bo.probe(params={"target_metric": nu, "target_coeff": -2.0}, lazy=True)
        bo.maximize(init_points=0, n_iter=15, acq="ei", xi=0.0)
        bests.append(bo.max["target"])
        white += bo._gp.kernel_.length_scale < 1e-4
    print(f"bayes_opt 1.2, 20 loops: best mean {np.mean(bests):.4f} std {np.std(bests):.4f} "
          f"min {np.min(bests):.4f}; last GP fit white noise (l < 1e-4) in {white} of 20")


if __name__ == "__main__":
    main()

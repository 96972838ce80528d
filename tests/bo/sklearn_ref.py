#!/usr/bin/env python3
"""tests/bo/sklearn_ref.py: reference values for tests/test_bo.c from scikit-learn's
GaussianProcessRegressor (the surrogate of bayes_opt 1.2, as HNAS runs it; docs/METHOD.md §4.3) and
bayes_opt 1.2's UtilityFunction formulas for EI and UCB.

Not a project dependency and never run by CI: run once with Debian's python3-sklearn
(sklearn 1.2.1, scipy 1.10.1, numpy 1.24.2 here) and commit the output:
    python3 tests/bo/sklearn_ref.py > tests/bo/sklearn_ref.txt

Where bayes_opt 1.2 is importable (it is not in Debian; a throwaway virtual environment with
`pip install --no-deps bayesian-optimization==1.2.0` over the Debian packages will do), the
script also checks its EI / UCB formulas and the GP configuration against bayes_opt's own
UtilityFunction and BayesianOptimization and says so in a comment line; the numbers written
do not depend on it.

Each case prints its data (repr: exact doubles), then
  fixed   LS... lml                      GP at a fixed length scale (optimizer=None)
  fq      x... mean sd                   its predictions at the query points
  lml_at  THETA... lml grad...           log marginal likelihood and its gradient at
                                         log length scale(s) THETA
  default LS... lml                      sklearn's own fit (L-BFGS-B defaults, 5 restarts)
  tight0  LS... lml                      one L-BFGS-B run from ls_init, tight (gtol 1e-12)
  tight   LS... lml                      tight, from ls_init and 5 restarts (random_state 0)
  wn      K N                            isotropic cases: K of N sklearn fits (defaults, random
                                         states 0..N-1) end at l < 1e-3, the white-noise fit
                                         at the lower bound (the run from l = 1 goes there and
                                         only a restart finds the interior maximum)
  q       x... mean sd ei0 ei01 ucb      predictions of the tight fit at the query points;
                                         EI with xi = 0 and 0.01, UCB with kappa = 2.576,
                                         y_max = max(y) (raw, as bayes_opt passes it)
"""
import numpy as np
import scipy.optimize
from scipy.stats import norm
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import Matern


def tight(obj_func, initial_theta, bounds):
    res = scipy.optimize.minimize(obj_func, initial_theta, method="L-BFGS-B", jac=True,
                                  bounds=bounds,
                                  options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 15000})
    return res.x, res.fun


def gp(optimizer, ls, ard, d, seed=0):
    ls0 = np.full(d, ls) if ard else ls
    opt = "fmin_l_bfgs_b" if optimizer == "default" else (None if optimizer is None else tight)
    restarts = 5 if optimizer in ("default", "tight") else 0
    return GaussianProcessRegressor(kernel=Matern(length_scale=ls0, nu=2.5), alpha=1e-6,
                                    normalize_y=True, n_restarts_optimizer=restarts,
                                    optimizer=opt, random_state=seed)


def ei(mean, std, y_max, xi):  # bayes_opt 1.2 UtilityFunction._ei
    a = mean - y_max - xi
    z = a / std
    return a * norm.cdf(z) + std * norm.pdf(z)


def ucb(mean, std, kappa):  # bayes_opt 1.2 UtilityFunction._ucb
    return mean + kappa * std


CHECKS = []  # (what, max abs difference) against bayes_opt itself, where importable
if not hasattr(np, "float"):  # bayes_opt 1.2 still uses np.float, gone from numpy 1.24
    np.float = float


def check_bayes_opt(g, Q, y_max, m, s):
    try:
        from bayes_opt.util import UtilityFunction
    except ImportError:
        return
    for kind, kappa, xi, ours in (("ei", 2.576, 0.0, ei(m, s, y_max, 0.0)),
                                  ("ei", 2.576, 0.01, ei(m, s, y_max, 0.01)),
                                  ("ucb", 2.576, 0.0, ucb(m, s, 2.576))):
        theirs = UtilityFunction(kind=kind, kappa=kappa, xi=xi).utility(Q, gp=g, y_max=y_max)
        CHECKS.append((f"{kind} xi={xi}", float(np.max(np.abs(theirs - ours)))))


def bayes_opt_config():
    try:
        from bayes_opt import BayesianOptimization
    except ImportError:
        return "# bayes_opt not importable: formulas as in its 1.2 source (util.py)"
    try:
        from importlib.metadata import version
        ver = version("bayesian-optimization")
    except Exception:
        ver = "(version unknown)"
    g = BayesianOptimization(f=None, pbounds={"a": (0, 1)}, random_state=1)._gp
    k = g.kernel
    ok = (k.nu == 2.5 and k.length_scale == 1.0 and tuple(k.length_scale_bounds) == (1e-5, 1e5)
          and g.alpha == 1e-6 and g.normalize_y and g.n_restarts_optimizer == 5)
    return (f"# bayes_opt {ver}: GP Matern(nu={k.nu}, l={k.length_scale}, "
            f"bounds {tuple(k.length_scale_bounds)}), alpha {g.alpha}, normalize_y "
            f"{g.normalize_y}, restarts {g.n_restarts_optimizer}: "
            f"{'as bo_gp_defaults()' if ok else 'DIFFERENT from bo_gp_defaults()'}")


def r(v):
    return " ".join(repr(float(t)) for t in np.ravel(v))


def case(name, X, y, Q, ard=False, fixed_ls=0.7, ls_init=1.0):
    n, d = X.shape
    print(f"case {name} {n} {d} {int(ard)} {len(Q)} {ls_init!r}")
    for row in X:
        print("x", r(row))
    print("y", r(y))
    for row in Q:
        print("query", r(row))
    g = gp(None, fixed_ls, ard, d).fit(X, y)
    print("fixed", r(g.kernel_.length_scale), repr(float(g.log_marginal_likelihood_value_)))
    m, s = g.predict(Q, return_std=True)
    for i in range(len(Q)):
        print("fq", repr(float(m[i])), repr(float(s[i])))
    nt = d if ard else 1
    for theta in (np.full(nt, -1.0), np.linspace(-2.0, 0.5, nt), np.full(nt, 0.3)):
        v, grad = g.log_marginal_likelihood(theta, eval_gradient=True)
        print("lml_at", r(theta), repr(float(v)), r(grad))
    for kind in ("default", "tight0", "tight"):
        g = gp(kind, ls_init, ard, d).fit(X, y)
        print(kind, r(g.kernel_.length_scale), repr(float(g.log_marginal_likelihood_value_)))
    if not ard:
        wn = sum(gp("default", ls_init, ard, d, seed=rs).fit(X, y).kernel_.length_scale < 1e-3
                 for rs in range(200))
        print("wn", int(wn), 200)
    m, s = g.predict(Q, return_std=True)
    y_max = y.max()
    check_bayes_opt(g, Q, y_max, m, s)
    for i in range(len(Q)):
        print("q", repr(float(m[i])), repr(float(s[i])), repr(float(ei(m[i], s[i], y_max, 0.0))),
              repr(float(ei(m[i], s[i], y_max, 0.01))), repr(float(ucb(m[i], s[i], 2.576))))
    print("end")


def main():
    rs = np.random.RandomState(24)
    import sklearn
    print("# tests/bo/sklearn_ref.txt: written by tests/bo/sklearn_ref.py (read its header)")
    print(f"# scikit-learn {sklearn.__version__}, scipy {scipy.__version__}, numpy {np.__version__}")
    print(bayes_opt_config())
    # 1-D, 5 points: a smooth function
    X = np.linspace(0, 1, 5).reshape(-1, 1)
    y = np.sin(3 * X[:, 0]) + 0.3 * X[:, 0]
    case("1d_n5", X, y, np.array([[0.1], [0.33], [0.6], [0.9], [1.0]]))
    # 1-D, 12 points: noisy, wider range
    X = rs.uniform(-2, 3, size=(12, 1))
    y = np.cos(2 * X[:, 0]) * np.exp(-0.2 * X[:, 0]) + 0.05 * rs.normal(size=12)
    case("1d_n12", X, y, np.array([[-1.5], [0.0], [0.77], [2.2], [3.0]]))
    # HNAS-like (nu, c) in [0,1] x [-4,0], targets like 12-epoch validation accuracies (%)
    def hnas(n):
        nu = np.concatenate([np.linspace(0, 1, 5), rs.uniform(0, 1, n - 5)])
        c = np.concatenate([np.full(5, -2.0), rs.uniform(-4, 0, n - 5)])
        X = np.stack([nu, c], axis=1)
        acc = 84 + 4 * np.sin(3 * nu) - 0.4 * (c + 2) ** 2 + 0.3 * rs.normal(size=n)
        return X, np.round(acc, 2)
    Q = np.array([[0.05, -3.9], [0.3, -2.0], [0.5, -1.0], [0.8, -0.2], [1.0, 0.0], [0.45, -3.3]])
    X, y = hnas(8)
    case("hnas_n8", X, y, Q)
    X, y = hnas(20)
    case("hnas_n20", X, y, Q)
    X, y = hnas(15)
    case("hnas_n15", X, y, Q)
    # ARD: sklearn's L-BFGS-B from l = 1 jumps to the lower bound of l_0 here (a flat white-noise
    # fit, lml -17.03, while lml reaches -13.1 near l = (0.2, 0.8)); from 0.3 it finds that maximum
    X = rs.uniform(0, 1, size=(12, 2))
    y = np.sin(3 * X[:, 0]) + 0.5 * X[:, 1] + 0.02 * rs.normal(size=12)
    case("2d_n12_ard", X, y, np.array([[0.5, 0.5], [0.1, 0.9], [0.95, 0.05], [0.3, 0.2]]),
         ard=True, ls_init=0.3)
    # a 2-D case on a smaller scale with 10 points
    X = rs.uniform(0, 1, size=(10, 2))
    y = X[:, 0] ** 2 - X[:, 1] + 0.1 * rs.normal(size=10)
    case("2d_n10", X, y, np.array([[0.5, 0.5], [0.1, 0.9], [0.95, 0.05]]))
    if CHECKS:
        worst = max(d for _, d in CHECKS)
        print(f"# bayes_opt UtilityFunction vs the formulas here: {len(CHECKS)} checks, "
              f"max abs difference {worst:.3g}")


if __name__ == "__main__":
    main()

"""Piray & Daw (2020), PLoS Comput Biol 16:e1007963 — the volatile Kalman filter (VKF).

=============  ==============================================================================
part           what is run
=============  ==============================================================================
exactness      the spec's golden trace (exact fractions), the VKF -> Kalman filter limit
               (lambda = 0) and agreement with an independent NumPy loop of the other
               algebraic form of the volatility update, all in float64
tracking       Figs 2–3: linear and binary VKF on outcomes whose mean is stable, then switches
               every 20 (Fig 2) or 10 (Fig 3) trials; lambda = 0.1, v0 = 0.1, sigma^2 = omega = 0.1
ground-truth   Figs 4–5: VKF against particle filters of its own generative model (10,000
               particles): the volatility-only Rao-Blackwellised filter (linear), a bootstrap
               filter (binary)
parameters     Fig 7: effect of lambda, v0 and omega on the binary VKF
recovery       parameter recovery by MAP fitting (optax): continuous VKF fitted to simulated
               predictions, binary VKF fitted to simulated two-armed-bandit choices
comparison     model comparison by BIC between VKF, Kalman filter and Rescorla-Wagner on data
               simulated from VKF and from Rescorla-Wagner learners
=============  ==============================================================================

The paper's own human datasets are not public; recovery and comparison use simulated subjects.
Thresholds marked "proposed" are set here, before running, not taken from the paper.
"""

from __future__ import annotations

import numpy as np

DESCRIPTION = ("Piray & Daw 2020 (PLoS Comput Biol): volatile Kalman filter — exactness, tracking of volatility, "
               "agreement with particle filters, parameter recovery and model comparison")

PARTS = ("exactness", "tracking", "ground-truth", "parameters", "recovery", "comparison")
OPTIONS = {"figure": (list(PARTS), "run only this part")}

CLAIMS = [
    ("golden-trace", "The VKF reproduces the hand-computed golden trace to 1e-12 (float64)"),
    ("kalman-limit", "With lambda = 0 the VKF equals a Kalman filter (volatility v0, noise sigma^2) to 1e-12"),
    ("update-forms", "The VKF agrees with an independent NumPy loop of the vkf_lin.m update form to 1e-12"),
    ("tracking-volatility", "Estimated volatility is higher while the mean switches than in the stable periods (linear and binary, Figs 2–3)"),
    ("tracking-learning-rate", "The learning rate is higher while the mean switches than in the stable periods (linear and binary)"),
    ("ground-truth-linear", "Linear VKF vs 10,000-particle filter: predictions correlate > 0.95, volatility Spearman > 0.5 (proposed)"),
    ("ground-truth-binary", "Binary VKF vs 10,000-particle filter: predictions Spearman > 0.9, volatility Spearman > 0.5 (proposed)"),
    ("recovery-continuous", "Continuous VKF: recovered lambda and sigma^2 correlate with the truth at r > 0.7 (proposed in the spec)"),
    ("recovery-binary", "Binary VKF (bandit choices): recovered lambda and omega correlate with the truth at r > 0.7 (proposed in the spec)"),
    ("comparison-bic", "VKF vs Rescorla-Wagner: BIC picks the generating model for at least 80 % of simulated subjects of each (proposed)"),
]

GOLDEN = [("2/3", "2/3", "2/3", "11/9"), ("17/26", "3/13", "17/26", "2303/2028"),
          ("3629/5657", "7726/5657", "3629/5657", "210943396181/129798688344")]


def _sizes(quick: bool) -> dict:
    if quick:
        return dict(tracking=100, truth_linear=4, truth_binary=4, subjects=30, steps=300, comparison=16)
    return dict(tracking=1000, truth_linear=20, truth_binary=20, subjects=60, steps=500, comparison=40)


def run(rep) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import jax

    only = rep.options.get("figure")
    n = _sizes(rep.quick)
    rep.section("Protocol", (
        f"Mode {'quick' if rep.quick else 'full'}: tracking {n['tracking']} outcome sequences per panel; ground truth "
        f"{n['truth_linear']} (linear) / {n['truth_binary']} (binary) sequences with 10,000 particles; recovery "
        f"{n['subjects']} simulated subjects per model ({n['steps']} Adam steps x 4 starts, MAP); comparison "
        f"{n['comparison']} subjects per generating model."))
    keys = dict(zip(PARTS, jax.random.split(jax.random.key(2020), len(PARTS))))
    for part in ([only] if only else PARTS):
        PART_FUNCTIONS[part](rep, keys[part], n)


# ------------------------------------------------------------------------------------------
def _exactness(rep, key, n):
    from fractions import Fraction

    import jax

    from plastix.volatility import KalmanFilter, KalmanParams, VKFParams, VolatileKalmanFilter, reference

    with jax.enable_x64(True):
        traj = VolatileKalmanFilter().run(VKFParams(0.5, 1.0, 1.0), np.array([1.0, 0.0, 2.0]))
        got = np.stack([np.asarray(traj.learning_rate), np.asarray(traj.value), np.asarray(traj.uncertainty),
                        np.asarray(traj.filtered_volatility)], axis=1)
        exact = np.array([[float(Fraction(x)) for x in row] for row in GOLDEN])
        golden_err = float(np.max(np.abs(got - exact)))

        rng = np.random.default_rng(0)
        o = np.cumsum(rng.normal(0, 0.5, 300)) + rng.normal(0, 1, 300)
        vkf0 = VolatileKalmanFilter().run(VKFParams(0.0, 0.6, 1.7), o)
        kf = KalmanFilter().run(KalmanParams(0.6, 1.7, 1.7, 0.0), o)
        kalman_err = max(float(np.max(np.abs(np.asarray(getattr(vkf0, f)) - np.asarray(getattr(kf, f)))))
                         for f in ("prediction", "value", "learning_rate", "uncertainty"))
        vkf = VolatileKalmanFilter().run(VKFParams(0.2, 0.7, 1.3), o)
        ref = reference.volatile_kalman_filter(o, 0.2, 0.7, 1.3)
        forms_err = max(float(np.max(np.abs(np.asarray(getattr(vkf, f)) - ref[f]))) for f in ref)
    rep.section("Exactness (float64)", (
        "Golden trace: lambda = 1/2, v0 = 1, sigma^2 = 1, outcomes [1, 0, 2]; expected values are exact fractions."))
    rep.table(["trial", "k", "m after", "w after", "v for next trial", "max |error|"],
              [[t + 1, *GOLDEN[t], f"{np.max(np.abs(got[t] - exact[t])):.1e}"] for t in range(3)])
    rep.table(["check", "max |difference|"], [["golden trace", f"{golden_err:.2e}"], ["VKF(lambda=0) vs Kalman filter, 300 trials", f"{kalman_err:.2e}"],
                                              ["VKF vs NumPy loop of vkf_lin.m's form, 300 trials", f"{forms_err:.2e}"]])
    rep.record("exactness", {"golden": golden_err, "kalman_limit": kalman_err, "forms": forms_err})
    rep.claim("golden-trace", CLAIMS[0][1], golden_err, 1e-12, "<=")
    rep.claim("kalman-limit", CLAIMS[1][1], kalman_err, 1e-12, "<=")
    rep.claim("update-forms", CLAIMS[2][1], forms_err, 1e-12, "<=")


# ------------------------------------------------------------------------------------------
LINEAR_BLOCKS = (1, 1, -1, 1, -1, 1, -1, -1, -1, -1)
BINARY_BLOCKS = (0.8, 0.8, 0.2, 0.8, 0.2, 0.8, 0.2, 0.2, 0.2, 0.2)


def _series(key, n_runs, block_length, fast: bool):
    """Outcome sequences of Figs 2 (block length 20) and 3 (10, pattern repeated with sign flips)."""
    import jax

    from plastix.volatility.environments import binary_blocks, piecewise_constant

    lin, binp = np.array(LINEAR_BLOCKS, float), np.array(BINARY_BLOCKS)
    if fast:
        lin = np.concatenate([lin, -lin, lin, -lin])
        binp = np.concatenate([binp, 1 - binp, binp, 1 - binp])
    k1, k2 = jax.random.split(key)
    linear = jax.vmap(lambda k: piecewise_constant(k, lin, block_length, 0.01))(jax.random.split(k1, n_runs))
    binary = jax.vmap(lambda k: binary_blocks(k, binp, block_length))(jax.random.split(k2, n_runs))
    switching = np.repeat(np.r_[np.zeros(2), np.ones(4), np.zeros(4)], block_length)
    if fast:
        switching = np.tile(switching, 4)
        # in Fig 3 the sign flips between repetitions make every 10th-trial boundary a switch
        changes = np.r_[False, np.diff(lin) != 0]
        switching = np.repeat(np.convolve(changes, [1, 1, 1], "same")[: len(lin)] > 0, block_length).astype(float)
    return linear, binary, switching.astype(bool)


def _tracking(rep, key, n):
    import jax
    import matplotlib.pyplot as plt

    from plastix.volatility import BinaryVolatileKalmanFilter, VKFParams, VolatileKalmanFilter
    from plastix.volatility.batch import run_batch

    params = VKFParams(0.1, 0.1, 0.1)
    rows, diffs_v, diffs_lr = [], [], []
    fig, axes = plt.subplots(3, 4, figsize=(16, 8))
    for col, (label, block, fast) in enumerate((("Fig 2", 20, False), ("Fig 3", 10, True))):
        linear, binary, switching = _series(jax.random.fold_in(key, col), n["tracking"], block, fast)
        stable = ~switching
        for j, (kind, env, model) in enumerate((("linear", linear, VolatileKalmanFilter()),
                                                ("binary", binary, BinaryVolatileKalmanFilter()))):
            traj = run_batch(model, params, np.asarray(env.observations), key, pad_trials=False)
            v, lr = traj.predicted_volatility, traj.learning_rate
            dv = float(v[:, switching].mean() - v[:, stable].mean())
            dl = float(lr[:, switching].mean() - lr[:, stable].mean())
            diffs_v.append(dv)
            diffs_lr.append(dl)
            rows.append([label, kind, f"{v[:, stable].mean():.4f}", f"{v[:, switching].mean():.4f}",
                         f"{lr[:, stable].mean():.4f}", f"{lr[:, switching].mean():.4f}"])
            c = 2 * col + j
            axes[0, c].plot(np.asarray(env.latent_mean[0]), "k--", lw=1, label="true")
            axes[0, c].plot(traj.prediction[0], label="predicted")
            axes[0, c].set_title(f"{label}, {kind}")
            axes[1, c].plot(v.mean(0))
            axes[2, c].plot(lr.mean(0))
            for r in range(3):
                axes[r, c].fill_between(np.arange(len(switching)), *axes[r, c].get_ylim(), where=switching, color="#dd8452",
                                        alpha=0.15, lw=0)
    axes[0, 0].legend(fontsize=8)
    for r, name in enumerate(("outcome mean", "volatility (mean over runs)", "learning rate (mean)")):
        axes[r, 0].set_ylabel(name)
    fig.tight_layout()
    rep.section("Figs 2–3 — tracking volatility", (
        "Linear: block means +-1 observed in noise of variance 0.01; binary: reward probability 0.8/0.2 with exactly "
        "that fraction of rewards per block.  Switching trials (shaded) are the blocks where the mean alternates; "
        "in Fig 3 the whole pattern repeats with sign flips, so switching covers each change and its neighbouring blocks."))
    rep.table(["figure", "outcomes", "volatility stable", "volatility switching", "learning rate stable", "learning rate switching"], rows)
    rep.figure(fig, "fig2_3_tracking.png", "Top: one run's predictions; middle, bottom: volatility and learning rate, mean over runs.")
    rep.record("tracking", {"volatility_differences": diffs_v, "learning_rate_differences": diffs_lr})
    rep.claim("tracking-volatility", CLAIMS[3][1], min(diffs_v), 0.0, ">")
    rep.claim("tracking-learning-rate", CLAIMS[4][1], min(diffs_lr), 0.0, ">")


def _ground_truth(rep, key, n):
    import jax
    import matplotlib.pyplot as plt
    from scipy.stats import pearsonr, spearmanr

    from plastix.volatility import (
        BinaryVolatileKalmanFilter,
        BinaryVolatilityParticleFilter,
        StochasticityVolatilityFilter,
        StoVolParams,
        VKFParams,
        VolatileKalmanFilter,
    )

    lam, v0, noise = 0.1, 0.1, 0.1
    linear, binary, _ = _series(key, max(n["truth_linear"], n["truth_binary"]), 20, False)
    rbpf = StochasticityVolatilityFilter(10_000, learn_stochasticity=False)
    bpf = BinaryVolatilityParticleFilter(10_000)
    stats_lin, stats_bin = [], []
    fig, axes = plt.subplots(2, 2, figsize=(10, 6))
    for r in range(n["truth_linear"]):
        o = np.asarray(linear.observations[r])
        x = np.asarray(linear.latent_mean[r])
        vkf = VolatileKalmanFilter().run(VKFParams(lam, v0, noise), o)
        pf = rbpf.run(StoVolParams(lam, 0.5, v0, noise, 1.0), o, jax.random.fold_in(key, 100 + r))
        # VKF after trial t vs the particle filter's prediction for trial t + 1 (as the reference fig4.m)
        m1, v1 = np.asarray(vkf.value)[:-1], np.asarray(vkf.filtered_volatility)[:-1]
        m2, v2 = np.asarray(pf.prediction)[1:], np.asarray(pf.predicted_volatility)[1:]
        e1, e2 = np.mean(np.abs(x[1:] - m1)), np.mean(np.abs(x[1:] - m2))
        stats_lin.append((pearsonr(m1, m2)[0], spearmanr(v1, v2)[0], 100 * (e1 / e2 - 1)))
        if r == 0:
            axes[0, 0].plot(x[1:], "k--", lw=1, label="true")
            axes[0, 0].plot(m1, label="VKF")
            axes[0, 0].plot(m2, label="particle filter")
            axes[1, 0].plot(v1, label="VKF")
            axes[1, 0].plot(v2, label="particle filter")
            axes[0, 0].set_title("linear")
    for r in range(n["truth_binary"]):
        o = np.asarray(binary.observations[r])
        x = np.asarray(binary.latent_mean[r])
        vkf = BinaryVolatileKalmanFilter().run(VKFParams(lam, v0, noise), o)
        pf = bpf.run(VKFParams(lam, v0, noise), o, jax.random.fold_in(key, 200 + r))
        # both are predictions before trial t (as the reference fig5.m)
        p1, v1 = np.asarray(vkf.prediction)[1:], np.asarray(vkf.predicted_volatility)[1:]
        p2, v2 = np.asarray(pf.prediction)[1:], np.asarray(pf.predicted_volatility)[1:]
        e1, e2 = np.mean(np.abs(x[1:] - p1)), np.mean(np.abs(x[1:] - p2))
        stats_bin.append((spearmanr(p1, p2)[0], spearmanr(v1, v2)[0], 100 * (e1 / e2 - 1)))
        if r == 0:
            axes[0, 1].plot(x[1:], "k--", lw=1, label="true")
            axes[0, 1].plot(p1, label="VKF")
            axes[0, 1].plot(p2, label="particle filter")
            axes[1, 1].plot(v1, label="VKF")
            axes[1, 1].plot(v2, label="particle filter")
            axes[0, 1].set_title("binary")
    axes[0, 0].legend(fontsize=8)
    axes[0, 0].set_ylabel("estimate")
    axes[1, 0].set_ylabel("volatility")
    for ax in axes[1]:
        ax.set_xlabel("trial")
    fig.tight_layout()
    sl, sb = np.array(stats_lin), np.array(stats_bin)
    rep.section("Figs 4–5 — VKF against particle filters of its generative model", (
        "lambda = 0.1, v0 = 0.1, sigma^2 = omega = 0.1 on the Fig 2 outcomes.  Linear: Rao-Blackwellised particle "
        "filter with fixed stochasticity 0.1 (the model's exact generative process, as the reference rbpf_vkf_lin.m); "
        "binary: bootstrap particle filter over (volatility, logit mean).  10,000 particles.  Relative error = "
        "100 (mean |truth - VKF| / mean |truth - particle filter| - 1)."))
    rep.table(["model", "prediction correlation", "volatility Spearman", "relative error of VKF (%)"],
              [["linear (Pearson)", f"{sl[:, 0].mean():.4f}", f"{sl[:, 1].mean():.3f}", f"{sl[:, 2].mean():+.1f}"],
               ["binary (Spearman)", f"{sb[:, 0].mean():.4f}", f"{sb[:, 1].mean():.3f}", f"{sb[:, 2].mean():+.1f}"]])
    rep.figure(fig, "fig4_5_ground_truth.png", "One run: estimates of the VKF and of the 10,000-particle filters.")
    rep.record("ground_truth", {"linear": sl.mean(0).tolist(), "binary": sb.mean(0).tolist()})
    lin_ok = sl[:, 0].mean() > 0.95 and sl[:, 1].mean() > 0.5
    bin_ok = sb[:, 0].mean() > 0.9 and sb[:, 1].mean() > 0.5
    rep.claim("ground-truth-linear", CLAIMS[5][1], {"prediction_r": float(sl[:, 0].mean()), "volatility_spearman": float(sl[:, 1].mean())},
              {"prediction_r": "> 0.95", "volatility_spearman": "> 0.5"}, holds=bool(lin_ok),
              note="" if lin_ok else (
                  f"the VKF follows the particle filter less closely than the proposed thresholds (relative error "
                  f"{sl[:, 2].mean():+.1f} %)"))
    rep.claim("ground-truth-binary", CLAIMS[6][1], {"prediction_spearman": float(sb[:, 0].mean()), "volatility_spearman": float(sb[:, 1].mean())},
              {"prediction_spearman": "> 0.9", "volatility_spearman": "> 0.5"}, holds=bool(bin_ok),
              note="" if bin_ok else (
                  f"the binary VKF's estimates follow the bootstrap particle filter less closely than the proposed "
                  f"thresholds, while its predictions are {abs(sb[:, 2].mean()):.1f} % "
                  f"{'closer to' if sb[:, 2].mean() < 0 else 'further from'} the true probabilities than the filter's "
                  "(the Gaussian approximation and the particle filter's Monte Carlo error both contribute)"))


def _parameters(rep, key, n):
    import matplotlib.pyplot as plt

    from plastix.volatility import BinaryVolatileKalmanFilter, VKFParams
    from plastix.volatility.environments import binary_blocks

    env = binary_blocks(key, BINARY_BLOCKS[:4], 20)
    o = np.asarray(env.observations)
    settings = [(0.1, 0.5, 0.1), (0.5, 0.5, 0.1), (0.1, 0.2, 0.1), (0.1, 0.5, 0.2)]
    fig, axes = plt.subplots(2, 3, figsize=(12, 5))
    rows = []
    for c, (i, name) in enumerate(((1, "lambda"), (2, "v0"), (3, "omega"))):
        for s in (settings[0], settings[i]):
            traj = BinaryVolatileKalmanFilter().run(VKFParams(*s), o)
            label = f"lambda={s[0]}, v0={s[1]}, omega={s[2]}"
            axes[0, c].plot(traj.predicted_volatility, label=label)
            axes[1, c].plot(traj.prediction, label=label)
            rows.append([name, label, f"{np.mean(traj.predicted_volatility):.4f}", f"{np.ptp(np.asarray(traj.predicted_volatility)):.4f}"])
        axes[1, c].plot(np.asarray(env.latent_mean), "k--", lw=1)
        axes[0, c].set_title(f"effect of {name}")
        axes[0, c].legend(fontsize=7)
    axes[0, 0].set_ylabel("volatility")
    axes[1, 0].set_ylabel("prediction")
    fig.tight_layout()
    rep.section("Fig 7 — what the parameters do (binary VKF, first 80 trials of Fig 2)", (
        "lambda sets how fast volatility follows volatility prediction errors, v0 its starting level, omega the "
        "noise (larger omega: smaller updates of the mean and of the variance)."))
    rep.table(["parameter", "setting", "mean volatility", "range of volatility"], rows)
    rep.figure(fig, "fig7_parameters.png", "Each column changes one parameter from (0.1, 0.5, 0.1).")


# ------------------------------------------------------------------------------------------
def _continuous_subjects(key, n_subjects, rng):
    import jax
    import jax.numpy as jnp

    from plastix.volatility import fitting
    from plastix.volatility.environments import blocked_random_walk

    true = {"volatility_rate": 1 / (1 + np.exp(-rng.normal(np.log(0.2 / 0.8), 0.6, n_subjects))),
            "initial_volatility": np.exp(rng.normal(np.log(0.5), 0.5, n_subjects)),
            "noise_variance": np.exp(rng.normal(0.0, 0.4, n_subjects)),
            "response_sd": np.exp(rng.normal(np.log(0.2), 0.2, n_subjects))}
    k1, k2 = jax.random.split(key)
    envs = jax.vmap(lambda k: blocked_random_walk(k, [0.1, 3.0] * 3, [1.0] * 6, 50))(jax.random.split(k1, n_subjects))
    natural = {k: jnp.asarray(v, jnp.result_type(float)) for k, v in true.items()}
    sim = jax.vmap(lambda o, k, nat: fitting.simulate_responses("vkf", "gaussian", nat, o, k))(
        envs.observations[:, :, None], jax.random.split(k2, n_subjects), natural)
    return true, fitting.dataset_from_arrays(*sim, "gaussian")


BANDIT_PROBABILITY = np.r_[0.8 * np.ones(80), np.repeat([0.2, 0.8] * 4, 20)]


def _bandit_outcomes(key, n_subjects):
    import jax
    import jax.numpy as jnp

    p = jnp.asarray(BANDIT_PROBABILITY)

    def one(k):
        ka, kb = jax.random.split(k)
        a = jax.random.bernoulli(ka, p)
        b = jax.random.bernoulli(kb, 1 - p)
        return jnp.stack([a, b], axis=1).astype(jnp.result_type(float))

    return jax.vmap(one)(jax.random.split(key, n_subjects))


def _binary_subjects(key, n_subjects, rng):
    import jax
    import jax.numpy as jnp

    from plastix.volatility import fitting

    true = {"volatility_rate": 1 / (1 + np.exp(-rng.normal(np.log(0.2 / 0.8), 0.6, n_subjects))),
            "initial_volatility": np.exp(rng.normal(0.0, 0.5, n_subjects)),
            "noise_variance": np.exp(rng.normal(0.0, 0.5, n_subjects)),
            "inverse_temperature": np.exp(rng.normal(np.log(3.0), 0.3, n_subjects))}
    k1, k2 = jax.random.split(key)
    outcomes = _bandit_outcomes(k1, n_subjects)
    natural = {k: jnp.asarray(v, jnp.result_type(float)) for k, v in true.items()}
    sim = jax.vmap(lambda o, k, nat: fitting.simulate_responses("vkf-binary", "choice", nat, o, k))(
        outcomes, jax.random.split(k2, n_subjects), natural)
    return true, fitting.dataset_from_arrays(*sim, "choice")


def _recovery(rep, key, n):
    import jax
    import matplotlib.pyplot as plt

    from plastix.volatility import fitting

    rng = np.random.default_rng(20)
    results = {}
    for name, model, maker in (("continuous", "vkf", _continuous_subjects), ("binary", "vkf-binary", _binary_subjects)):
        true, data = maker(jax.random.fold_in(key, len(results)), n["subjects"], rng)
        fit = fitting.fit(model, data, method="map", starts=4, steps=n["steps"], seed=1)
        params = fitting.parameter_list(model, data.response_model)
        truth_theta = np.asarray(fitting.to_unconstrained({p.name: true[p.name] for p in params}, params))
        r = {p.name: float(np.corrcoef(truth_theta[:, j], fit.theta[:, j])[0, 1]) for j, p in enumerate(params)}
        results[name] = (model, params, truth_theta, fit, r)
    rep.section("Parameter recovery", (
        f"{n['subjects']} simulated subjects per model, each fitted by MAP (prior N(0, 6.25) on unconstrained "
        "parameters, 4 starts, Adam).  Continuous: a VKF learner predicts a random walk whose volatility alternates "
        "0.1 / 3 in six blocks of 50 trials (noise variance 1); responses = predictions + Gaussian noise (sd ~ 0.2).  Binary: a "
        "binary-VKF learner chooses between two options (softmax on the logit means) whose reward probabilities are "
        "0.8/0.2 for 80 trials, then reverse every 20 trials (240 trials); it sees only the chosen option's outcome.  "
        "True parameters are drawn per subject (logit lambda ~ N(logit 0.2, 0.6^2), log-normal others); r = Pearson "
        "correlation of true and recovered values on the unconstrained scale (logit / log)."))
    rep.table(["model", "parameter", "r (true vs recovered)"],
              [[name, p, f"{v:.3f}"] for name, (_, _, _, _, r) in results.items() for p, v in r.items()])
    n_cols = max(len(v[1]) for v in results.values())
    fig, axes = plt.subplots(2, n_cols, figsize=(3.4 * n_cols, 6.4))
    for row, (name, (model, params, truth_theta, fit, r)) in enumerate(results.items()):
        for j, p in enumerate(params):
            ax = axes[row, j]
            ax.scatter(truth_theta[:, j], fit.theta[:, j], s=12)
            lo, hi = np.min(truth_theta[:, j]), np.max(truth_theta[:, j])
            ax.plot([lo, hi], [lo, hi], "k--", lw=1)
            ax.set_title(f"{name}: {p.name}\nr = {r[p.name]:.2f}", fontsize=9)
            ax.set_xlabel("true (unconstrained)")
        axes[row, 0].set_ylabel("recovered (unconstrained)")
    fig.tight_layout()
    rep.figure(fig, "recovery.png", "Parameter recovery; dashed: identity.")
    rep.record("recovery", {name: v[4] for name, v in results.items()})
    rc, rb = results["continuous"][4], results["binary"][4]
    cont = {"volatility_rate": rc["volatility_rate"], "noise_variance": rc["noise_variance"]}
    binr = {"volatility_rate": rb["volatility_rate"], "noise_variance": rb["noise_variance"]}
    rep.claim("recovery-continuous", CLAIMS[7][1], cont, 0.7, holds=min(cont.values()) > 0.7,
              note="" if min(cont.values()) > 0.7 else "recovery weaker than proposed for this design and number of trials")
    rep.claim("recovery-binary", CLAIMS[8][1], binr, 0.7, holds=min(binr.values()) > 0.7,
              note="" if min(binr.values()) > 0.7 else (
                  "choices between two options, one outcome per trial, carry less information about lambda and omega "
                  "than the paper's design (4 cues x 120 trials, hierarchical fit)"))


def _comparison(rep, key, n):
    import jax
    import jax.numpy as jnp

    from plastix.volatility import fitting

    rng = np.random.default_rng(30)
    n_subjects = n["comparison"]
    true_vkf, data_vkf = _continuous_subjects(jax.random.fold_in(key, 0), n_subjects, rng)
    # Rescorla-Wagner learners on the same kind of environment
    from plastix.volatility.environments import blocked_random_walk

    envs = jax.vmap(lambda k: blocked_random_walk(k, [0.1, 3.0] * 3, [1.0] * 6, 50))(jax.random.split(jax.random.fold_in(key, 1), n_subjects))
    natural = {"learning_rate": jnp.asarray(rng.uniform(0.2, 0.8, n_subjects), jnp.result_type(float)),
               "response_sd": jnp.asarray(np.exp(rng.normal(np.log(0.2), 0.2, n_subjects)), jnp.result_type(float))}
    sim = jax.vmap(lambda o, k, nat: fitting.simulate_responses("rw", "gaussian", nat, o, k))(
        envs.observations[:, :, None], jax.random.split(jax.random.fold_in(key, 2), n_subjects), natural)
    data_rw = fitting.dataset_from_arrays(*sim, "gaussian")
    models = ("vkf", "kf", "rw")
    rows, correct = [], {}
    for gen, data in (("vkf", data_vkf), ("rw", data_rw)):
        fits = [fitting.fit(m, data, method="ml", starts=4, steps=n["steps"], seed=2) for m in models]
        bic = np.stack([f.bic for f in fits])
        counts = np.bincount(np.argmin(bic, axis=0), minlength=len(models))
        # the claim: VKF against Rescorla-Wagner (the Kalman filter with fixed noise is nearly a
        # Rescorla-Wagner learner at steady state, so the two are not told apart reliably)
        pair = bic[[models.index("vkf"), models.index("rw")]]
        picked = np.where(np.argmin(pair, axis=0) == 0, "vkf", "rw")
        correct[gen] = float(np.mean(picked == gen))
        rows.append([gen] + [int(c) for c in counts] + [f"{bic.sum(1)[i]:.1f}" for i in range(len(models))]
                    + [f"{correct[gen]:.2f}"])
    rep.section("Model comparison by BIC", (
        f"{n_subjects} subjects simulated from the VKF (as in the recovery study) and {n_subjects} from Rescorla-Wagner "
        "(learning rate ~ U(0.2, 0.8)) on the same environments; each dataset fitted by maximum likelihood with the "
        "VKF, the fixed-noise Kalman filter and Rescorla-Wagner; the model with the lowest BIC wins a subject.  The "
        "claim compares VKF with Rescorla-Wagner: a Kalman filter with fixed noise is a Rescorla-Wagner learner once "
        "its gain has converged, so those two trade places on Rescorla-Wagner data."))
    rep.table(["generated by", "best of 3: vkf", "best of 3: kf", "best of 3: rw", "sum BIC vkf", "sum BIC kf", "sum BIC rw",
               "vkf vs rw: fraction correct"], rows)
    rep.record("comparison", correct)
    worst = min(correct.values())
    rep.claim("comparison-bic", CLAIMS[9][1], correct, 0.8, holds=worst >= 0.8,
              note="" if worst >= 0.8 else "BIC's complexity penalty or weak identifiability lets the simpler/other model win")


PART_FUNCTIONS = {
    "exactness": _exactness,
    "tracking": _tracking,
    "ground-truth": _ground_truth,
    "parameters": _parameters,
    "recovery": _recovery,
    "comparison": _comparison,
}

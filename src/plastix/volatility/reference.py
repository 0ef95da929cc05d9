"""Plain NumPy loops of the same filters: independent references for tests and the benchmark.

Each function is a direct trial-by-trial loop, written from the equations independently of the
JAX code (different algebraic forms where the papers give two, linear-space particle weights
instead of log-space), in float64.  They return dicts of arrays named like the fields of
:class:`~plastix.volatility.Trajectory`.  Not for production use: they are slow by design
(a Python loop over trials), which is what ``benchmarks/volatility.py`` measures.
"""

from __future__ import annotations

import math

import numpy as np


def kalman_filter(outcomes, volatility, stochasticity, initial_variance=1.0, initial_mean=0.0):
    """Scalar Kalman filter, one cue, outcomes ``(T,)``."""
    o = np.asarray(outcomes, dtype=np.float64)
    m, w = float(initial_mean), float(initial_variance)
    out = {k: np.empty(len(o)) for k in ("prediction", "value", "learning_rate", "uncertainty", "log_evidence")}
    for t, ot in enumerate(o):
        out["prediction"][t] = m
        total = w + volatility + stochasticity
        out["log_evidence"][t] = -0.5 * (math.log(2 * math.pi * total) + (ot - m) ** 2 / total)
        k = (w + volatility) / total
        m = m + k * (ot - m)
        # Joseph-free form written as s (w + v) / (w + v + s), the MATLAB form.
        w = stochasticity * (w + volatility) / total
        out["learning_rate"][t], out["value"][t], out["uncertainty"][t] = k, m, w
    return out


def volatile_kalman_filter(outcomes, volatility_rate, initial_volatility, noise_variance, initial_mean=0.0):
    """Continuous VKF in the ``vkf_lin.m`` algebraic form: v += lambda (k^2 d^2 + k w - k v)."""
    o = np.asarray(outcomes, dtype=np.float64)
    m, w, v = float(initial_mean), float(noise_variance), float(initial_volatility)
    keys = ("prediction", "value", "learning_rate", "uncertainty", "predicted_volatility", "filtered_volatility")
    out = {k: np.empty(len(o)) for k in keys}
    for t, ot in enumerate(o):
        out["prediction"][t], out["predicted_volatility"][t] = m, v
        w_before = w
        delta = ot - m
        k = (w + v) / (w + v + noise_variance)
        m = m + k * delta
        w = (1 - k) * (w + v)
        v = v + volatility_rate * (k**2 * delta**2 + k * w_before - k * v)
        out["value"][t], out["learning_rate"][t], out["uncertainty"][t], out["filtered_volatility"][t] = m, k, w, v
    return out


def binary_volatile_kalman_filter(outcomes, volatility_rate, initial_volatility, noise_variance, initial_mean=0.0):
    """Binary VKF in the ``vkf_bin.m`` form (delta = sqrt(w + v)(o - sigmoid(m)))."""
    o = np.asarray(outcomes, dtype=np.float64)
    m, w, v = float(initial_mean), float(noise_variance), float(initial_volatility)
    keys = ("prediction_logit", "value_logit", "learning_rate", "uncertainty", "predicted_volatility", "filtered_volatility")
    out = {k: np.empty(len(o)) for k in keys}
    for t, ot in enumerate(o):
        out["prediction_logit"][t], out["predicted_volatility"][t], out["learning_rate"][t] = m, v, math.sqrt(w + v)
        w_before = w
        delta = math.sqrt(w + v) * (ot - 1.0 / (1.0 + math.exp(-m)))
        m = m + delta
        k = (w + v) / (w + v + noise_variance)
        w = (1 - k) * (w + v)
        v = v + volatility_rate * (delta**2 + k * w_before - k * v)
        out["value_logit"][t], out["uncertainty"][t], out["filtered_volatility"][t] = m, w, v
    return out


def particle_filter(
    outcomes,
    volatility_rate,
    stochasticity_rate,
    initial_volatility,
    initial_stochasticity,
    initial_variance=1.0,
    initial_mean=0.0,
    n_particles=100,
    learn_volatility=True,
    learn_stochasticity=True,
    diffusion="beta",
    resample_threshold=0.5,
    noise=None,
    rng=None,
):
    """The stochasticity–volatility particle filter as a NumPy loop over trials.

    Outcomes ``(T,)`` or ``(T, D)``.  Random draws come either from ``noise`` (a tuple of arrays
    ``(volatility shocks (T, N, D), stochasticity shocks (T, N, D), resampling uniforms (T,))``,
    e.g. the draws the JAX filter used) or from ``rng`` (a ``numpy.random.Generator``).
    """
    o = np.asarray(outcomes, dtype=np.float64)
    squeeze = o.ndim == 1
    if squeeze:
        o = o[:, None]
    n_trials, n_cues = o.shape
    shape = (n_particles, n_cues)
    z = np.full(shape, 1.0 / initial_volatility)
    y = np.full(shape, 1.0 / initial_stochasticity)
    m = np.full(shape, float(initial_mean))
    w = np.full(shape, float(initial_variance))
    weights = np.full(n_particles, 1.0 / n_particles)
    floor = 2.220446049250313e-16

    names = ("prediction", "value", "learning_rate", "uncertainty", "predicted_volatility",
             "filtered_volatility", "predicted_stochasticity", "filtered_stochasticity")
    out = {k: np.empty((n_trials, n_cues)) for k in names}
    out["log_evidence"] = np.empty(n_trials)
    out["effective_sample_size"] = np.empty(n_trials)
    out["resampled"] = np.zeros(n_trials)

    def draw(rate):
        if diffusion == "gaussian":
            return rng.standard_normal(shape)
        a = (1.0 - rate) / (2.0 * rate)
        return rng.beta(a, 0.5, size=shape)

    def diffuse(precision, shock, rate):
        if diffusion == "gaussian":
            return precision * np.exp(-rate * shock)
        return precision * (shock + floor) / (1.0 - rate)

    def estimate(precision, wts):
        if diffusion == "gaussian":
            return np.exp(-(wts @ np.log(precision)))
        return 1.0 / (wts @ precision)

    for t in range(n_trials):
        if noise is not None:
            shock_v, shock_s, uniform = noise[0][t], noise[1][t], float(noise[2][t])
        else:
            shock_v = draw(volatility_rate) if learn_volatility else None
            shock_s = draw(stochasticity_rate) if learn_stochasticity else None
            uniform = rng.random()
        if learn_volatility:
            z = diffuse(z, shock_v, volatility_rate)
        if learn_stochasticity:
            y = diffuse(y, shock_s, stochasticity_rate)
        out["predicted_volatility"][t] = estimate(z, weights)
        out["predicted_stochasticity"][t] = estimate(y, weights)
        out["prediction"][t] = weights @ m

        observed = np.isfinite(o[t])
        ot = np.where(observed, o[t], 0.0)
        v, s = 1.0 / z, 1.0 / y
        total = w + v + s
        density = np.exp(-0.5 * (ot - m) ** 2 / total) / np.sqrt(2 * np.pi * total)
        likelihood = np.prod(np.where(observed, density, 1.0), axis=1)
        unnormalised = weights * likelihood
        evidence = unnormalised.sum()
        weights = unnormalised / evidence
        out["log_evidence"][t] = math.log(evidence)
        ess = 1.0 / np.sum(weights**2)
        out["effective_sample_size"][t] = ess
        if ess < resample_threshold * n_particles:
            edges = np.cumsum(weights)
            edges[-1] = 1.0
            comb = (np.arange(n_particles) + uniform) / n_particles
            index = np.minimum(np.searchsorted(edges, comb, side="right"), n_particles - 1)
            z, y, m, w = z[index], y[index], m[index], w[index]
            v, s = v[index], s[index]
            weights = np.full(n_particles, 1.0 / n_particles)
            out["resampled"][t] = 1.0
        k = np.where(observed, (w + v) / (w + v + s), 0.0)
        m = m + k * (ot - m)
        w = (1 - k) * (w + v)
        out["value"][t] = weights @ m
        out["uncertainty"][t] = weights @ w
        out["learning_rate"][t] = weights @ k
        out["filtered_volatility"][t] = estimate(z, weights)
        out["filtered_stochasticity"][t] = estimate(y, weights)

    if squeeze:
        out = {k: (a[:, 0] if a.ndim == 2 else a) for k, a in out.items()}
    return out

r"""Analyses of spiking trials: latencies and jitter, spike counts, population variability, the
recurrence index, and a linear readout trained to produce timed outputs.

Maths
-----
For trials b = 1..B and units i, with spikes ``s[b, t, i]``:

* spike count ``A[b, i] = Σ_t s[b, t, i]``; population count ``C[b] = Σ_{i∈E} A[b, i]``; its
  across-trial coefficient of variation ``CV = std_b C / mean_b C``;
* first-spike latency ``L[b, i]`` = time of the first spike after the stimulus (NaN without one);
  a unit is *active* if it fires in at least ``min_reliability`` of the trials; its mean latency
  ``μ_i`` and jitter ``σ_i`` are the mean and SD of ``L[·, i]`` over the trials where it fired;
* sparse temporal code: ``median_i σ_i / std_i μ_i`` (jitter against the spread of latencies) and
  the largest gap between consecutive sorted ``μ_i`` relative to their span (tiling), over the
  whole range and over the central 90 % (5th–95th percentile; the last few units of a sequence
  are sparse, so the whole-range gap is set by one or two stragglers);
* jitter against latency: Spearman ρ(μ, σ) and the least-squares line σ = a + b μ (p-value of b);
* recurrence index (an *inference*: Liu & Buonomano 2009 define an index of this kind, but its
  exact formula could not be checked here).  With active excitatory units ordered by ``μ``::

      RI = Σ_{i,j: μ_j > μ_i} W_ij / Σ_{i,j} W_ij

  the fraction of E→E weight that runs backwards in time (from a later to an earlier unit).  A
  random network gives ≈ 0.5 whatever the order; a purely feed-forward chain gives 0;
* readout: spike trains filtered by ``τ_f dF/dt = −F + Σ δ(t − t_spike)``, then ridge regression
  (the batch counterpart of RLS, rls.py) from ``[F, 1]`` to the target outputs.

How it works
------------
Filtering is a ``lax.scan`` over time (vmapped over trials); everything else is array algebra on
whole trials (NumPy/SciPy for ranks and p-values, which are not in the hot path).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from scipy import stats

from ..models.ei_spiking import EINetwork
from .rls import ridge_regression


def spike_counts(spikes) -> np.ndarray:
    """(B, T, N) spikes → (B, N) counts."""
    return np.asarray(spikes).sum(axis=1)


def first_spike_latency(spikes, network: EINetwork) -> np.ndarray:
    """(B, T, N) spikes → (B, N) latency (ms after the stimulus) of the first spike; NaN if none."""
    s = np.asarray(spikes)
    times = np.asarray(network.times())
    after = times > 0
    s = s & after[None, :, None]
    has = s.any(axis=1)
    first = np.argmax(s, axis=1)
    return np.where(has, times[first], np.nan)


def latency_statistics(latencies, min_reliability: float = 0.8) -> dict:
    """Per unit: reliability (fraction of trials with a spike), mean latency, jitter (SD), active."""
    lat = np.asarray(latencies, float)
    reliability = np.isfinite(lat).mean(axis=0)
    active = reliability >= min_reliability
    with np.errstate(invalid="ignore"), np.testing.suppress_warnings() as sup:
        sup.filter(RuntimeWarning)
        mean = np.nanmean(lat, axis=0)
        sd = np.nanstd(lat, axis=0, ddof=1)
    return {"reliability": reliability, "mean": mean, "jitter": sd, "active": active}


def sparse_code_summary(mean_latency, jitter) -> dict:
    """Jitter against spread, and how evenly mean latencies tile their range."""
    m = np.sort(np.asarray(mean_latency, float))
    s = np.asarray(jitter, float)
    if m.size < 3:
        return {"jitter_over_spread": float("nan"), "max_gap_over_span": float("nan"), "span_ms": 0.0,
                "median_jitter_ms": float("nan"), "latency_spread_ms": float("nan")}
    span = m[-1] - m[0]
    lo, hi = np.percentile(m, [5, 95])
    central = m[(m >= lo) & (m <= hi)]
    central_gap = float(np.diff(central).max()) if central.size > 1 else float("nan")
    return {
        "median_jitter_ms": float(np.median(s)),
        "latency_spread_ms": float(np.std(m)),
        "jitter_over_spread": float(np.median(s) / np.std(m)),
        "span_ms": float(span),
        "first_ms": float(m[0]),
        "last_ms": float(m[-1]),
        "max_gap_ms": float(np.diff(m).max()),
        "max_gap_over_span": float(np.diff(m).max() / span) if span > 0 else float("nan"),
        "central_span_ms": float(hi - lo),
        "central_max_gap_ms": central_gap,
        "central_max_gap_over_span": central_gap / float(hi - lo) if hi > lo else float("nan"),
    }


def jitter_vs_latency(mean_latency, jitter) -> dict:
    """Spearman ρ and the linear fit σ = a + b μ with the p-value of the slope."""
    m = np.asarray(mean_latency, float)
    s = np.asarray(jitter, float)
    if m.size < 3:
        return {"spearman_rho": float("nan"), "spearman_p": float("nan"), "slope": float("nan"),
                "intercept": float("nan"), "slope_p": float("nan"), "r_squared": float("nan")}
    rho, p_rho = stats.spearmanr(m, s)
    fit = stats.linregress(m, s)
    return {
        "spearman_rho": float(rho), "spearman_p": float(p_rho),
        "slope": float(fit.slope), "intercept": float(fit.intercept),
        "slope_p": float(fit.pvalue), "r_squared": float(fit.rvalue ** 2),
    }


def population_variability(total_counts) -> dict:
    """CV of the population spike count across trials, and how bimodal it is."""
    c = np.asarray(total_counts, float)
    mean = c.mean()
    cv = float(c.std() / mean) if mean > 0 else float("inf")
    return {"mean": float(mean), "cv": cv, "min": float(c.min()), "max": float(c.max())}


def recurrence_index(weights, mean_latency, units=None) -> float:
    """Fraction of weight from later- to earlier-firing units (see module docstring)."""
    w = np.asarray(weights, float)
    m = np.asarray(mean_latency, float)
    if units is not None:
        idx = np.flatnonzero(units)
        w = w[np.ix_(idx, idx)]
        m = m[idx]
    later_pre = m[None, :] > m[:, None]  # [post i, pre j]: presynaptic j fires after i
    total = w.sum()
    return float((w * later_pre).sum() / total) if total > 0 else float("nan")


def filter_spikes(spikes, dt: float, tau: float):
    """Exponentially filtered spike trains, (B, T, N) → (B, T, N) float32."""
    decay = float(np.exp(-dt / tau))

    def one(s):
        def body(f, x):
            f = f * decay + x
            return f, f

        _, out = lax.scan(body, jnp.zeros(s.shape[-1], jnp.float32), s.astype(jnp.float32))
        return out

    return jax.jit(jax.vmap(one))(jnp.asarray(spikes))


def gaussian_targets(times, peaks_ms, width_ms: float) -> np.ndarray:
    """(T, n_out) Gaussian bumps of unit height at the given peak times."""
    t = np.asarray(times, float)[:, None]
    return np.exp(-0.5 * ((t - np.asarray(peaks_ms, float)[None, :]) / width_ms) ** 2).astype(np.float32)


def fit_readout(features, targets, delta: float = 1.0):
    """Ridge readout from (B, T, N) features (plus a bias) to targets (T, n_out) → (n_out, N + 1)."""
    B, T, N = features.shape
    X = jnp.concatenate([jnp.reshape(features, (B * T, N)), jnp.ones((B * T, 1))], axis=1)
    Y = jnp.tile(jnp.asarray(targets), (B, 1))
    return ridge_regression(X, Y, delta)


def apply_readout(weights, features):
    """(B, T, N) features → (B, T, n_out) outputs."""
    ones = jnp.ones((*features.shape[:-1], 1))
    return jnp.concatenate([features, ones], axis=-1) @ weights.T


def readout_timing(outputs, targets, times) -> dict:
    """Peak-time error (ms) of each output on each trial, and the variance explained."""
    out = np.asarray(outputs)
    tgt = np.asarray(targets)
    t = np.asarray(times)
    peak_err = t[out.argmax(axis=1)] - t[tgt.argmax(axis=0)][None, :]  # (B, n_out)
    sse = ((out - tgt[None]) ** 2).sum()
    sst = (((tgt - tgt.mean(0)) ** 2).sum()) * out.shape[0]
    return {
        "median_abs_peak_error_ms": float(np.median(np.abs(peak_err))),
        "max_abs_peak_error_ms": float(np.abs(peak_err).max()),
        "r_squared": float(1.0 - sse / sst),
    }

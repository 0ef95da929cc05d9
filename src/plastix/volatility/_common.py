"""Pieces shared by every filter in :mod:`plastix.volatility`.

* :class:`Trajectory` — the per-trial signals every model returns, with explicit names for what
  is *predicted* (before the outcome of trial t is seen) and what is *filtered* (after it).
* :func:`as_observations` — turns ``(T,)`` or ``(T, D)`` outcomes into a float ``(T, D)`` array.
* :func:`split_observed` — the missing-outcome convention used everywhere: a NaN outcome is a
  trial on which that cue was not observed.  Every filter treats it as a trial with gain 0, so
  the mean stays put, the posterior variance grows by the process noise and (for the VKF) the
  volatility is unchanged; it adds nothing to the log evidence.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array

LOG_2PI = float(np.log(2.0 * np.pi))


class Trajectory(NamedTuple):
    """Per-trial outputs of a learning model; each field has shape ``(T,)`` or ``(T, D)``.

    prediction               E[o_t | o_1..o_{t-1}]: the prediction made before outcome t.
    value                    E[x_t | o_1..o_t]: the estimate after outcome t (the filtered mean).
    learning_rate            the weight given to the prediction error of trial t (Kalman gain).
    uncertainty              Var[x_t | o_1..o_t]: posterior variance of the latent mean.
    predicted_volatility     the volatility (process-noise variance) the model used for trial t.
    filtered_volatility      the volatility estimate after outcome t.
    predicted_stochasticity  the stochasticity (observation-noise variance) used for trial t.
    filtered_stochasticity   the stochasticity estimate after outcome t.
    log_evidence             log p(o_t | o_1..o_{t-1}) under the model (0 for an unobserved
                             trial; NaN for models without a likelihood, e.g. Rescorla–Wagner).
    """

    prediction: Array
    value: Array
    learning_rate: Array
    uncertainty: Array
    predicted_volatility: Array
    filtered_volatility: Array
    predicted_stochasticity: Array
    filtered_stochasticity: Array
    log_evidence: Array


def float_dtype():
    """The default float dtype (float32 unless ``jax_enable_x64`` is on)."""
    return jnp.result_type(float)


def as_observations(observations) -> tuple[Array, bool]:
    """Return outcomes as a float array of shape ``(T, D)`` and whether the input was 1-D."""
    obs = jnp.asarray(observations, dtype=float_dtype())
    if obs.ndim == 1:
        return obs[:, None], True
    if obs.ndim != 2:
        raise ValueError(f"observations must have shape (T,) or (T, D); got {obs.shape}")
    return obs, False


def split_observed(observation: Array, fallback: Array) -> tuple[Array, Array]:
    """``(observed mask, outcome with NaNs replaced by fallback)``.

    Replacing the NaN *before* any arithmetic keeps NaN out of values and out of gradients.
    """
    observed = jnp.isfinite(observation)
    return observed, jnp.where(observed, observation, fallback)


def gaussian_logpdf(x: Array, mean: Array, variance: Array) -> Array:
    return -0.5 * (LOG_2PI + jnp.log(variance) + (x - mean) ** 2 / variance)


def squeeze_trajectory(traj, squeeze: bool):
    """Drop the cue axis of every field when the input outcomes were 1-D."""
    if not squeeze:
        return traj
    return type(traj)(*(f[:, 0] if f.ndim >= 2 else f for f in traj))

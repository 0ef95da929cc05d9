"""The volatile Kalman filter (VKF; Piray & Daw 2020, PLoS Comput Biol 16:e1007963).

Generative model (per cue)::

    z_t = z_{t-1} · eps_t / eta,   eps_t ~ Beta(eta nu, (1 - eta) nu),  eta = 1 - lambda, nu = 1/(2 lambda)
    x_t = x_{t-1} + N(0, 1/z_t)                        (volatility v_t = 1/z_t)
    o_t = x_t + N(0, sigma^2)                          (continuous; sigma^2 fixed and known)
    o_t ~ Bernoulli(sigmoid(x_t))                      (binary)

The VKF approximates the posterior over x_t by a Gaussian N(m, w) and carries a point estimate v
of the volatility.  One trial of the **continuous VKF** (state m, w, v; init m = m_0, w = sigma^2,
v = v_0)::

    prediction = m,  predicted volatility = v                       (before o_t)
    k    = (w + v) / (w + v + sigma^2)                              (Eq 9: learning rate)
    m'   = m + k (o_t - m)                                          (Eq 10)
    w'   = (1 - k)(w + v)                                           (Eq 11)
    wcov = (1 - k) w                                                (Eq 12: Cov[x_{t-1}, x_t])
    v'   = v + lambda ((m' - m)^2 + w + w' - 2 wcov - v)            (Eq 13)

The bracket in Eq 13 is the volatility prediction error: the expected squared change of x from
t-1 to t under the smoothed posterior, minus the current estimate.  Equivalently (derived)
``v' = v + lambda (k^2 delta^2 + k w - k v)`` with delta = o_t - m; and since 0 < lambda k < 1,
``v' = v (1 - lambda k) + lambda (k^2 delta^2 + k w) > 0``: the volatility stays positive.
With lambda = 0 the VKF is exactly a Kalman filter with volatility v_0, stochasticity sigma^2 and
prior variance sigma^2.

**Binary VKF** (noise parameter omega in place of sigma^2; init m = m_0, w = omega, v = v_0)::

    prediction = sigmoid(m)                                          (logit m before o_t)
    k     = (w + v) / (w + v + omega)                               (Eq 14)
    alpha = sqrt(w + v)                                             (Eq 15: reported learning rate)
    m'    = m + alpha (o_t - sigmoid(m))                            (Eq 16)
    w'    = (1 - k)(w + v)                                          (Eq 17)
    wcov  = (1 - k) w                                               (Eq 18)
    v'    = v + lambda ((m' - m)^2 + w + w' - 2 wcov - v)           (Eq 19)

Caveats.  The VKF is deterministic and exact as a recursion, but it is an *approximation* to
inference in the generative model above (it is compared against a particle filter in
``plastix reproduce vkf2020``).  Equation numbers follow the bioRxiv text.  A NaN outcome is an
unobserved trial: k = alpha = 0, so m stays, w grows by v and (it follows from Eq 13) v is
unchanged.  The binary log evidence is the Bernoulli probability of o_t under sigmoid(m).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from ._common import (
    Array,
    Trajectory,
    as_observations,
    float_dtype,
    gaussian_logpdf,
    split_observed,
    squeeze_trajectory,
)


class VKFParams(NamedTuple):
    """VKF parameters (scalars or per-cue arrays ``(D,)``).

    volatility_rate     lambda in (0, 1): the volatility learning rate (0 gives a Kalman filter).
    initial_volatility  v_0 > 0.
    noise_variance      sigma^2 > 0 (continuous VKF) or omega > 0 (binary VKF).
    initial_mean        m_0 (0 in the papers; logit scale for the binary VKF).
    """

    volatility_rate: Array
    initial_volatility: Array
    noise_variance: Array
    initial_mean: Array = 0.0


class VKFState(NamedTuple):
    mean: Array
    variance: Array
    volatility: Array


class BinaryTrajectory(NamedTuple):
    """:class:`Trajectory` fields, plus the logit-scale mean before and after each outcome.

    ``prediction`` and ``value`` are probabilities (sigmoid of the logit mean);
    ``learning_rate`` is alpha = sqrt(w + v) (Eq 15); the stochasticity fields carry omega.
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
    prediction_logit: Array
    value_logit: Array


def _broadcast(x, like):
    return jnp.broadcast_to(jnp.asarray(x, like.dtype), like.shape)


def _volatility_update(volatility_rate, v, w, new_w, gain, change):
    """Eq 13/19: v' = v + lambda ((m' - m)^2 + w + w' - 2 (1 - k) w - v)."""
    covariance = (1.0 - gain) * w
    return v + volatility_rate * (change**2 + w + new_w - 2.0 * covariance - v)


def _initial_state(params: VKFParams, n_cues: int) -> VKFState:
    dtype = float_dtype()
    shape = (n_cues,)
    return VKFState(
        mean=jnp.broadcast_to(jnp.asarray(params.initial_mean, dtype), shape),
        variance=jnp.broadcast_to(jnp.asarray(params.noise_variance, dtype), shape),
        volatility=jnp.broadcast_to(jnp.asarray(params.initial_volatility, dtype), shape),
    )


def _run(step, params, observations):
    obs, squeeze = as_observations(observations)

    def body(state, o):
        return step(params, state, o)

    traj = lax.scan(body, _initial_state(params, obs.shape[1]), obs)[1]
    return squeeze_trajectory(traj, squeeze)


@dataclass(frozen=True)
class VolatileKalmanFilter:
    """Continuous VKF (Eqs 9–13)."""

    def initial_state(self, params: VKFParams, n_cues: int = 1) -> VKFState:
        return _initial_state(params, n_cues)

    def step(self, params: VKFParams, state: VKFState, observation, key=None):
        m, w, v = state
        lam = _broadcast(params.volatility_rate, m)
        noise = _broadcast(params.noise_variance, m)
        observed, o = split_observed(observation, m)
        prior = w + v
        gain = jnp.where(observed, prior / (prior + noise), 0.0)
        new_m = m + gain * (o - m)
        new_w = (1.0 - gain) * prior
        new_v = _volatility_update(lam, v, w, new_w, gain, new_m - m)
        log_evidence = jnp.where(observed, gaussian_logpdf(o, m, prior + noise), 0.0)
        out = Trajectory(m, new_m, gain, new_w, v, new_v, noise, noise, log_evidence)
        return VKFState(new_m, new_w, new_v), out

    @functools.partial(jax.jit, static_argnums=0)
    def run(self, params: VKFParams, observations, key=None) -> Trajectory:
        """Filter outcomes ``(T,)`` or ``(T, D)``."""
        return _run(self.step, params, observations)


@dataclass(frozen=True)
class BinaryVolatileKalmanFilter:
    """Binary VKF (Eqs 14–19) for outcomes in {0, 1}."""

    def initial_state(self, params: VKFParams, n_cues: int = 1) -> VKFState:
        return _initial_state(params, n_cues)

    def step(self, params: VKFParams, state: VKFState, observation, key=None):
        m, w, v = state
        lam = _broadcast(params.volatility_rate, m)
        omega = _broadcast(params.noise_variance, m)
        p = jax.nn.sigmoid(m)
        observed, o = split_observed(observation, p)
        prior = w + v
        gain = jnp.where(observed, prior / (prior + omega), 0.0)
        alpha = jnp.where(observed, jnp.sqrt(prior), 0.0)
        new_m = m + alpha * (o - p)
        new_w = (1.0 - gain) * prior
        new_v = _volatility_update(lam, v, w, new_w, gain, new_m - m)
        # log p(o) = o log sigmoid(m) + (1 - o) log sigmoid(-m), written stably.
        log_evidence = jnp.where(observed, o * jax.nn.log_sigmoid(m) + (1 - o) * jax.nn.log_sigmoid(-m), 0.0)
        out = BinaryTrajectory(
            p, jax.nn.sigmoid(new_m), alpha, new_w, v, new_v, omega, omega, log_evidence, m, new_m
        )
        return VKFState(new_m, new_w, new_v), out

    @functools.partial(jax.jit, static_argnums=0)
    def run(self, params: VKFParams, observations, key=None) -> BinaryTrajectory:
        """Filter binary outcomes ``(T,)`` or ``(T, D)``."""
        return _run(self.step, params, observations)

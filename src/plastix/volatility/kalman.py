"""Baselines with fixed noise: the scalar Kalman filter and Rescorla–Wagner.

Kalman filter (known volatility v and stochasticity s)
------------------------------------------------------
Generative model, per cue::

    x_t = x_{t-1} + N(0, v)          (v: volatility, process-noise variance)
    o_t = x_t     + N(0, s)          (s: stochasticity, observation-noise variance)

With posterior x_{t-1} | o_<t ~ N(m, w), one trial is::

    prediction = m                                   (before o_t)
    k          = (w + v) / (w + v + s)               (Kalman gain = learning rate)
    m'         = m + k (o_t - m)
    w'         = (1 - k)(w + v)
    log p(o_t | o_<t) = log N(o_t; m, w + v + s)

The gain rises with v and falls with s.  It converges to the steady state (derived from the
fixed point of w' = s (w+v)/(w+v+s))::

    w* = (-v + sqrt(v^2 + 4 v s)) / 2,     k* = (w* + v) / (w* + v + s)

e.g. k* = 0.500, 0.686, 0.333, 0.500 for (v, s) = (0.5, 1), (1.5, 1), (0.5, 3), (1.5, 3).

Rescorla–Wagner
---------------
``m' = m + alpha (o_t - m)`` with a fixed learning rate alpha.  It has no noise model, so its
volatility, stochasticity and log evidence are NaN.  (A Kalman filter at steady state is a
Rescorla–Wagner learner with alpha = k*.)

Both accept outcomes of shape ``(T,)`` or ``(T, D)`` (D independent cues; parameters broadcast
per cue) and treat a NaN outcome as an unobserved trial (gain 0; see ``_common``).  Both are
exact, deterministic recursions; ``run`` is compiled with ``lax.scan`` and can be ``vmap``-ed.
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


class KalmanParams(NamedTuple):
    """Kalman-filter parameters (scalars or per-cue arrays of shape ``(D,)``)."""

    volatility: Array  # v, process-noise variance
    stochasticity: Array  # s, observation-noise variance
    initial_variance: Array = 1.0  # w_0, prior variance of x_0
    initial_mean: Array = 0.0  # m_0, prior mean of x_0


class KalmanState(NamedTuple):
    mean: Array  # (D,)
    variance: Array  # (D,)


def steady_state_variance(volatility, stochasticity):
    """Posterior variance w* at the Kalman filter's steady state."""
    v, s = jnp.asarray(volatility), jnp.asarray(stochasticity)
    return (-v + jnp.sqrt(v * v + 4.0 * v * s)) / 2.0


def steady_state_gain(volatility, stochasticity):
    """The Kalman gain k* at steady state: the optimal fixed learning rate for (v, s)."""
    prior = steady_state_variance(volatility, stochasticity) + jnp.asarray(volatility)
    return prior / (prior + jnp.asarray(stochasticity))


def _scan(step, params, state, observations):
    def body(carry, o):
        return step(params, carry, o)

    return lax.scan(body, state, observations)[1]


@dataclass(frozen=True)
class KalmanFilter:
    """Scalar Kalman filter with fixed, known volatility and stochasticity (per cue)."""

    def initial_state(self, params: KalmanParams, n_cues: int = 1) -> KalmanState:
        dtype = float_dtype()
        shape = (n_cues,)
        return KalmanState(
            mean=jnp.broadcast_to(jnp.asarray(params.initial_mean, dtype), shape),
            variance=jnp.broadcast_to(jnp.asarray(params.initial_variance, dtype), shape),
        )

    def step(self, params: KalmanParams, state: KalmanState, observation, key=None):
        m, w = state
        v = jnp.broadcast_to(jnp.asarray(params.volatility, m.dtype), m.shape)
        s = jnp.broadcast_to(jnp.asarray(params.stochasticity, m.dtype), m.shape)
        observed, o = split_observed(observation, m)
        prior = w + v
        gain = jnp.where(observed, prior / (prior + s), 0.0)
        new_mean = m + gain * (o - m)
        new_variance = (1.0 - gain) * prior
        log_evidence = jnp.where(observed, gaussian_logpdf(o, m, prior + s), 0.0)
        out = Trajectory(m, new_mean, gain, new_variance, v, v, s, s, log_evidence)
        return KalmanState(new_mean, new_variance), out

    @functools.partial(jax.jit, static_argnums=0)
    def run(self, params: KalmanParams, observations, key=None) -> Trajectory:
        """Filter outcomes ``(T,)`` or ``(T, D)``; returns a :class:`Trajectory` of that shape."""
        obs, squeeze = as_observations(observations)
        traj = _scan(self.step, params, self.initial_state(params, obs.shape[1]), obs)
        return squeeze_trajectory(traj, squeeze)


class RescorlaWagnerParams(NamedTuple):
    learning_rate: Array  # alpha in (0, 1]
    initial_mean: Array = 0.0


@dataclass(frozen=True)
class RescorlaWagner:
    """Delta rule with a fixed learning rate; no noise model (volatility etc. are NaN)."""

    def initial_state(self, params: RescorlaWagnerParams, n_cues: int = 1) -> Array:
        return jnp.broadcast_to(jnp.asarray(params.initial_mean, float_dtype()), (n_cues,))

    def step(self, params: RescorlaWagnerParams, state: Array, observation, key=None):
        m = state
        alpha = jnp.broadcast_to(jnp.asarray(params.learning_rate, m.dtype), m.shape)
        observed, o = split_observed(observation, m)
        gain = jnp.where(observed, alpha, 0.0)
        new_mean = m + gain * (o - m)
        nan = jnp.full_like(m, jnp.nan)
        return new_mean, Trajectory(m, new_mean, gain, nan, nan, nan, nan, nan, nan)

    @functools.partial(jax.jit, static_argnums=0)
    def run(self, params: RescorlaWagnerParams, observations, key=None) -> Trajectory:
        obs, squeeze = as_observations(observations)
        traj = _scan(self.step, params, self.initial_state(params, obs.shape[1]), obs)
        return squeeze_trajectory(traj, squeeze)

"""Joint estimation of stochasticity and volatility (Piray & Daw 2021, Nat Commun 12:6587).

Generative model
----------------
Both noise variances are latent and drift.  Per cue, with precisions z = 1/v (volatility) and
y = 1/s (stochasticity)::

    z_t = z_{t-1} · eps_t  / (1 - lambda_v),   eps_t  ~ Beta((1 - lambda_v)/(2 lambda_v), 1/2)
    y_t = y_{t-1} · eps'_t / (1 - lambda_s),   eps'_t ~ Beta((1 - lambda_s)/(2 lambda_s), 1/2)
    x_t = x_{t-1} + N(0, v_t)
    o_t = x_t + N(0, s_t)

E[eps/(1 - lambda)] = 1, so each precision is a martingale; the update rates lambda in (0, 1)
set how fast the noise levels can drift (Var = 2 lambda^2 / ((1 + 2 lambda)(1 - lambda)) per
trial).  The *Gaussian-diffusion* variant (Supplementary) instead lets the log variances
random-walk: log v_t = log v_{t-1} + sigma_v N(0, 1), log s_t likewise with sigma_s; here the
``*_rate`` parameters are sigma_v and sigma_s.

Inference: a Rao-Blackwellised particle filter
----------------------------------------------
Each of N particles carries one noise trajectory (z_i, y_i) and, because x is linear-Gaussian
given the noise, its own Kalman posterior N(m_i, w_i).  One trial, with weights W::

    1. propagate   z_i, y_i by one draw of the diffusion above (prior weights unchanged)
    2. record      predicted volatility 1 / sum_i W_i z_i, predicted stochasticity
                   1 / sum_i W_i y_i, prediction sum_i W_i m_i            (before o_t)
    3. weight      W_i <- W_i N(o_t; m_i, w_i + v_i + s_i), normalised; the normaliser is the
                   particle estimate of p(o_t | o_<t) (``log_evidence``)
    4. resample    if ESS = 1 / sum_i W_i^2 < 0.5 N: systematic resampling; the particles' noise
                   *and* their (m_i, w_i) are re-indexed; weights become 1/N
    5. Kalman      k_i = (w_i + v_i)/(w_i + v_i + s_i); m_i += k_i (o_t - m_i);
                   w_i = (1 - k_i)(w_i + v_i)
    6. record      value sum_i W_i m_i, uncertainty sum_i W_i w_i, learning rate sum_i W_i k_i,
                   filtered volatility / stochasticity (as in 2, with the new weights)

All particles start at z = 1/v_0, y = 1/s_0 (a point mass), m = m_0, w = x0_unc.

Lesions and variants.  ``learn_volatility=False`` fixes v = v_0 in every particle (the
*stochasticity-only* model, called a volatility lesion); ``learn_stochasticity=False`` fixes
s = s_0 (the *volatility-only* model, a stochasticity lesion — this is also exactly the
particle filter the VKF paper used as ground truth).  With both fixed the filter is N identical
Kalman filters (kept for testing).  With D cues (outcomes of shape (T, D)), each particle holds
one noise process and one Kalman filter per cue and the per-cue likelihoods multiply (the
multi-cue model of the serial-prediction simulation); a NaN outcome is an unobserved cue.

Randomness is explicit: ``run(params, outcomes, key)``; the random draws of one trial are a
:class:`StepNoise` so that the deterministic part (:meth:`step_with_noise`) can be checked
against an independent implementation fed the same draws.

Caveats and differences from the reference MATLAB/Python code.  Weights are updated in log space
(exact).  The MATLAB code adds ``eps`` to each likelihood, which matters only when every
likelihood underflows (outcomes with a tiny jitter, like the reversal and serial-prediction
tasks): there MATLAB keeps the old weights while exact weights follow the least surprised
particle; ``likelihood_floor=2.2e-16`` replicates MATLAB.  Its saved summaries also come from a
version that did not re-index (m, w) on resampling (``reindex_kalman=False`` replicates it).  Like MATLAB, ``2.2e-16`` is added to each Beta draw so no precision becomes 0.
For the Gaussian variant the reported noise estimates are exp(E_W[log v]) (as in the reference
``pf_core_norm.m``), for the Beta variant 1/E_W[z] (the reciprocal of the mean precision, not the
mean variance).  The filter's outputs are Monte Carlo estimates: they vary with the key, with
standard error shrinking like 1/sqrt(N).  Gradients through ``run`` (for fitting) follow the
reparameterised Beta/normal draws and ignore the discrete resampling choice.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from ..errors import ConfigError, check_choice, check_positive
from . import _sampling
from ._common import Array, as_observations, float_dtype, gaussian_logpdf, split_observed

#: Added to every Beta draw, as in the reference MATLAB code, so a precision never becomes 0.
BETA_FLOOR = 2.220446049250313e-16


class StoVolParams(NamedTuple):
    """Parameters of the joint model (scalars or per-cue arrays ``(D,)``).

    volatility_rate        lambda_v in (0, 1) (Beta diffusion) or sigma_v > 0 (Gaussian).
    stochasticity_rate     lambda_s in (0, 1) or sigma_s > 0.
    initial_volatility     v_0 > 0 (the fixed volatility when volatility is not learned).
    initial_stochasticity  s_0 > 0 (the fixed stochasticity when it is not learned).
    initial_variance       x0_unc > 0: prior variance of the latent mean.
    initial_mean           m_0.
    """

    volatility_rate: Array
    stochasticity_rate: Array
    initial_volatility: Array
    initial_stochasticity: Array
    initial_variance: Array = 1.0
    initial_mean: Array = 0.0


class ParticleState(NamedTuple):
    volatility_precision: Array  # z, (N, D)
    stochasticity_precision: Array  # y, (N, D)
    mean: Array  # m, (N, D)
    variance: Array  # w, (N, D)
    weights: Array  # W, (N,), sums to 1


class StepNoise(NamedTuple):
    """The random draws of one trial."""

    volatility_shock: Array  # (N, D): Beta(a_v, 1/2) draws, or N(0, 1) for Gaussian diffusion
    stochasticity_shock: Array  # (N, D)
    resample_uniform: Array  # scalar in [0, 1): offset of the systematic-resampling comb


class ParticleTrajectory(NamedTuple):
    """The fields of :class:`~plastix.volatility.Trajectory`, plus particle diagnostics.

    ``log_evidence`` has shape ``(T,)``: with several cues the likelihood is joint.
    ``effective_sample_size`` is 1/sum W^2 after weighting (before any resampling);
    ``resampled`` is 1.0 on trials where the particles were resampled.
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
    effective_sample_size: Array
    resampled: Array


def effective_sample_size(weights: Array) -> Array:
    """ESS = 1 / sum_i W_i^2 for normalised weights."""
    return 1.0 / jnp.sum(weights**2, axis=-1)


def systematic_resample(weights: Array, uniform: Array) -> Array:
    """Indices drawn by systematic resampling: one comb (i + u)/N, i = 0..N-1, u in [0, 1).

    Particle j is picked once for every tooth in [C_{j-1}, C_j), C the cumulative weights (the
    last forced to 1 against round-off), so it is picked floor(N W_j) or ceil(N W_j) times.
    """
    n = weights.shape[-1]
    cumulative = jnp.cumsum(weights).at[-1].set(1.0)
    positions = (jnp.arange(n, dtype=weights.dtype) + uniform) / n
    return jnp.minimum(jnp.searchsorted(cumulative, positions, side="right"), n - 1)


def _beta_shape(rate):
    # a = eta nu with eta = 1 - lambda, nu = 1 / (2 lambda); the second shape is 1/2.
    return (1.0 - rate) / (2.0 * rate)


@dataclass(frozen=True)
class StochasticityVolatilityFilter:
    """Rao-Blackwellised particle filter for joint stochasticity–volatility learning.

    n_particles           particles (100 in every 2021 simulation).
    learn_volatility      False: volatility lesion (v fixed at ``initial_volatility``).
    learn_stochasticity   False: stochasticity lesion (s fixed at ``initial_stochasticity``).
    diffusion             "beta" (multiplicative Beta shocks on precisions; the main model) or
                          "gaussian" (log-variance random walk; Supplementary).
    resample_threshold    resample when ESS < threshold * N (0.5 in the reference code).
    sampler               "fast" (counter-based draws, exact Beta by rejection; see
                          ``_sampling``) or "jax" (``jax.random.beta``/``normal``: ~20x slower
                          on CPU, kept as a cross-check).  Same distributions, different streams.
    reindex_kalman        True: resampling re-indexes each particle's Kalman (m, w) with its noise
                          (correct).  False replicates the reference code before 2021-11-17 (MATLAB
                          ``particleFilter`` object), which resampled the noise particles but left
                          (m, w) in place; the authors' saved summaries were produced that way.
    likelihood_floor      0 (exact Bayes, log-space weights).  The reference MATLAB code weights by
                          likelihood + eps (2.2e-16): set this to that value to replicate it.  It
                          matters only when every particle's likelihood underflows (a huge surprise
                          against a tiny predicted variance); exact weights then follow the least
                          surprised particle, floored ones ignore the outcome.
    """

    n_particles: int = 100
    learn_volatility: bool = True
    learn_stochasticity: bool = True
    diffusion: str = "beta"
    resample_threshold: float = 0.5
    sampler: str = "fast"
    reindex_kalman: bool = True
    likelihood_floor: float = 0.0

    def __post_init__(self):
        check_positive("n_particles", self.n_particles, integer=True)
        if not float(self.likelihood_floor) >= 0.0:
            raise ConfigError.bad_value("likelihood_floor", self.likelihood_floor, "a number >= 0")
        check_choice("diffusion", self.diffusion, ("beta", "gaussian"))
        check_choice("sampler", self.sampler, ("fast", "jax"))
        if not 0.0 <= float(self.resample_threshold) <= 1.0:
            raise ConfigError.bad_value("resample_threshold", self.resample_threshold, "a number in [0, 1]")

    # -- constructors ---------------------------------------------------------------------
    @classmethod
    def from_rates(cls, volatility_rate: float, stochasticity_rate: float, **settings):
        """The model implied by two update rates, as in the reference Python port.

        A rate of exactly 0 means that noise is not learned (the corresponding lesion); both 0
        is an error (that would be a plain Kalman filter: use :class:`KalmanFilter`).
        """
        lv, ls = float(volatility_rate), float(stochasticity_rate)
        if lv == 0.0 and ls == 0.0:
            raise ConfigError.bad_value(
                "volatility_rate, stochasticity_rate", (lv, ls), "at most one of them 0 (both 0 is a Kalman filter)"
            )
        return cls(learn_volatility=lv != 0.0, learn_stochasticity=ls != 0.0, **settings)

    # -- state ------------------------------------------------------------------------------
    def initial_state(self, params: StoVolParams, n_cues: int = 1) -> ParticleState:
        dtype = float_dtype()
        shape = (self.n_particles, n_cues)

        def full(x):
            return jnp.broadcast_to(jnp.asarray(x, dtype), shape)

        return ParticleState(
            volatility_precision=1.0 / full(params.initial_volatility),
            stochasticity_precision=1.0 / full(params.initial_stochasticity),
            mean=full(params.initial_mean),
            variance=full(params.initial_variance),
            weights=jnp.full((self.n_particles,), 1.0 / self.n_particles, dtype),
        )

    # -- randomness -------------------------------------------------------------------------
    def draw_noise(self, key: Array, params: StoVolParams, n_cues: int = 1) -> StepNoise:
        """All random numbers one trial needs (zeros for a noise that is not learned)."""
        dtype = float_dtype()
        shape = (self.n_particles, n_cues)

        if self.sampler == "jax":
            key_v, key_s, key_u = jax.random.split(key, 3)

            def shock(stream, rate, learned):
                k = (key_v, key_s)[stream]
                if not learned:
                    return jnp.zeros(shape, dtype)
                if self.diffusion == "gaussian":
                    return jax.random.normal(k, shape, dtype)
                a = jnp.broadcast_to(_beta_shape(jnp.asarray(rate, dtype)), shape)
                return jax.random.beta(k, a, jnp.asarray(0.5, dtype), shape, dtype)

            uniform = jax.random.uniform(key_u, (), dtype)
            return StepNoise(
                shock(0, params.volatility_rate, self.learn_volatility),
                shock(1, params.stochasticity_rate, self.learn_stochasticity),
                uniform,
            )

        # Fast path: both noises' draws come from one sampler call (one rejection loop), which
        # halves the size of the compiled program.
        seeds = _sampling.trial_seeds(key)
        rates = [r for r, learned in ((params.volatility_rate, self.learn_volatility),
                                      (params.stochasticity_rate, self.learn_stochasticity)) if learned]
        draws = []
        if rates:
            stacked_shape = (len(rates),) + shape
            if self.diffusion == "gaussian":
                stacked = _sampling.normal(seeds, 0, stacked_shape, dtype)
            else:
                a = jnp.stack([jnp.broadcast_to(_beta_shape(jnp.asarray(r, dtype)), shape) for r in rates])
                stacked = _sampling.beta_half(seeds, 0, a)
            draws = list(stacked)
        zeros = jnp.zeros(shape, dtype)
        volatility_shock = draws.pop(0) if self.learn_volatility else zeros
        stochasticity_shock = draws.pop(0) if self.learn_stochasticity else zeros
        return StepNoise(volatility_shock, stochasticity_shock, _sampling.uniform(seeds, 512, (), dtype))

    # -- one trial --------------------------------------------------------------------------
    def _diffuse(self, precision, shock, rate):
        rate = jnp.asarray(rate, precision.dtype)
        if self.diffusion == "gaussian":
            # log v' = log v + sigma * shock  <=>  z' = z * exp(-sigma * shock)
            return precision * jnp.exp(-rate * shock)
        return precision * (shock + BETA_FLOOR) / (1.0 - rate)

    def _estimate(self, precision, weights):
        """Point estimate of a noise variance from weighted particles (per cue)."""
        if self.diffusion == "gaussian":
            return jnp.exp(-(weights @ jnp.log(precision)))
        return 1.0 / (weights @ precision)

    def step_with_noise(self, params: StoVolParams, state: ParticleState, observation, noise: StepNoise):
        """One trial given its random draws; returns ``(new state, per-trial outputs)``."""
        z, y, m, w, weights = state
        if self.learn_volatility:
            z = self._diffuse(z, noise.volatility_shock, params.volatility_rate)
        if self.learn_stochasticity:
            y = self._diffuse(y, noise.stochasticity_shock, params.stochasticity_rate)
        predicted_volatility = self._estimate(z, weights)
        predicted_stochasticity = self._estimate(y, weights)
        prediction = weights @ m

        observation = jnp.asarray(observation, m.dtype)
        observed, o = split_observed(observation, prediction)
        volatility, stochasticity = 1.0 / z, 1.0 / y
        prior = w + volatility
        log_lik = jnp.sum(jnp.where(observed, gaussian_logpdf(o, m, prior + stochasticity), 0.0), axis=-1)
        log_evidence = jax.nn.logsumexp(jnp.log(weights) + log_lik)
        if self.likelihood_floor > 0:
            # The reference code weights by (likelihood + eps): when every likelihood underflows
            # the weights stay as they were instead of following the least surprised particle.
            log_lik = jnp.logaddexp(log_lik, jnp.log(jnp.asarray(self.likelihood_floor, log_lik.dtype)))
        log_joint = jnp.log(weights) + log_lik
        posterior = jnp.exp(log_joint - jax.nn.logsumexp(log_joint))

        ess = effective_sample_size(posterior)
        resample = ess < self.resample_threshold * self.n_particles
        index = jnp.where(resample, systematic_resample(posterior, noise.resample_uniform), jnp.arange(self.n_particles))
        z, y = z[index], y[index]
        if self.reindex_kalman:
            m, w = m[index], w[index]
        weights = jnp.where(resample, jnp.full_like(posterior, 1.0 / self.n_particles), posterior)
        prior, stochasticity = w + 1.0 / z, 1.0 / y

        gain = jnp.where(observed, prior / (prior + stochasticity), 0.0)
        m = m + gain * (o - m)
        w = (1.0 - gain) * prior

        out = ParticleTrajectory(
            prediction=prediction,
            value=weights @ m,
            learning_rate=weights @ gain,
            uncertainty=weights @ w,
            predicted_volatility=predicted_volatility,
            filtered_volatility=self._estimate(z, weights),
            predicted_stochasticity=predicted_stochasticity,
            filtered_stochasticity=self._estimate(y, weights),
            log_evidence=log_evidence,
            effective_sample_size=ess,
            resampled=resample.astype(m.dtype),
        )
        return ParticleState(z, y, m, w, weights), out

    def step(self, params: StoVolParams, state: ParticleState, observation, key: Array):
        """One trial: draw its noise from ``key``, then :meth:`step_with_noise`."""
        noise = self.draw_noise(key, params, state.mean.shape[-1])
        return self.step_with_noise(params, state, observation, noise)

    # -- whole runs ---------------------------------------------------------------------------
    @functools.partial(jax.jit, static_argnums=0)
    def run(self, params: StoVolParams, observations, key: Array) -> ParticleTrajectory:
        """Filter outcomes ``(T,)`` or ``(T, D)`` with randomness from ``key``."""
        obs, squeeze = as_observations(observations)
        keys = jax.random.split(key, obs.shape[0])

        def body(state, inputs):
            o, k = inputs
            return self.step(params, state, o, k)

        traj = lax.scan(body, self.initial_state(params, obs.shape[1]), (obs, keys))[1]
        if squeeze:
            traj = ParticleTrajectory(*(f[:, 0] if f.ndim == 2 else f for f in traj))
        return traj

    @functools.partial(jax.jit, static_argnums=0)
    def run_with_noise(self, params: StoVolParams, observations, noise: StepNoise) -> ParticleTrajectory:
        """Like :meth:`run` but with every trial's draws given (leading axis T) — for testing."""
        obs, _ = as_observations(observations)

        def body(state, inputs):
            o, n = inputs
            return self.step_with_noise(params, state, o, n)

        return lax.scan(body, self.initial_state(params, obs.shape[1]), (obs, noise))[1]

    def draw_run_noise(self, key: Array, params: StoVolParams, n_trials: int, n_cues: int = 1) -> StepNoise:
        """The draws :meth:`run` would use with this key, stacked over trials."""
        keys = jax.random.split(key, n_trials)
        return jax.vmap(lambda k: self.draw_noise(k, params, n_cues))(keys)


# ------------------------------------------------------------------------------------------
# Bootstrap particle filter for the binary VKF generative model (the VKF paper's ground truth)
# ------------------------------------------------------------------------------------------
class BinaryParticleTrajectory(NamedTuple):
    prediction: Array  # sigmoid(E_W[x_t]) before o_t (as in the reference pf_vkf_bin.m)
    prediction_logit: Array  # E_W[x_t] before o_t
    predicted_volatility: Array  # 1 / E_W[z_t] before o_t
    effective_sample_size: Array


@dataclass(frozen=True)
class BinaryVolatilityParticleFilter:
    """Bootstrap particle filter for z_t (Beta diffusion), x_t ~ N(x_{t-1}, 1/z_t),
    o_t ~ Bernoulli(sigmoid(x_t)); particles (z, x) start at (1/v_0, 0).

    Not Rao-Blackwellised (x is not Gaussian given z under a Bernoulli likelihood): each particle
    carries a sampled x.  Resamples systematically when ESS < threshold N.  Used as the
    reference for the binary VKF (PLoS Comput Biol 2020, Fig 5); takes ``VKFParams``
    (``noise_variance`` is unused).
    """

    n_particles: int = 10_000
    resample_threshold: float = 0.5

    @functools.partial(jax.jit, static_argnums=0)
    def run(self, params, observations, key: Array) -> BinaryParticleTrajectory:
        dtype = float_dtype()
        obs = jnp.asarray(observations, dtype)
        n = self.n_particles
        rate = jnp.asarray(params.volatility_rate, dtype)
        z0 = jnp.full((n,), 1.0 / jnp.asarray(params.initial_volatility, dtype))
        x0 = jnp.full((n,), jnp.asarray(params.initial_mean, dtype))
        w0 = jnp.full((n,), 1.0 / n, dtype)

        def body(state, inputs):
            z, x, weights = state
            o, k = inputs
            seeds = _sampling.trial_seeds(k)
            shape_a = jnp.full((n,), _beta_shape(rate), dtype)
            z = z * (_sampling.beta_half(seeds, 0, shape_a) + BETA_FLOOR) / (1.0 - rate)
            x = x + _sampling.normal(seeds, 256, (n,), dtype) / jnp.sqrt(z)
            out = (jax.nn.sigmoid(weights @ x), weights @ x, 1.0 / (weights @ z))
            log_lik = o * jax.nn.log_sigmoid(x) + (1.0 - o) * jax.nn.log_sigmoid(-x)
            log_joint = jnp.log(weights) + log_lik
            posterior = jnp.exp(log_joint - jax.nn.logsumexp(log_joint))
            ess = effective_sample_size(posterior)
            resample = ess < self.resample_threshold * n
            uniform = _sampling.uniform(seeds, 512, (), dtype)
            index = jnp.where(resample, systematic_resample(posterior, uniform), jnp.arange(n))
            weights = jnp.where(resample, jnp.full_like(posterior, 1.0 / n), posterior)
            return (z[index], x[index], weights), (*out, ess)

        keys = jax.random.split(key, obs.shape[0])
        outs = lax.scan(body, (z0, x0, w0), (obs, keys))[1]
        return BinaryParticleTrajectory(*outs)

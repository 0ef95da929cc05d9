"""Generative processes: environments with chosen true volatility and stochasticity.

Every function takes an explicit ``jax.random`` key and returns an :class:`Environment` (or a
task with masks); ``vmap`` over keys gives many independent runs.

Random walk with fixed noise (the 2x2 design of Piray & Daw 2021)::

    x_1 = m_0,  x_t = x_{t-1} + sqrt(v) N(0, 1)  (t >= 2),   o_t = x_t + sqrt(s) N(0, 1)

Blocked random walk: the same with (v, s) switching between blocks (as in the 2024 human
experiments: true volatility {4, 49} x true stochasticity {16, 64}).

Volatile process (the models' own generative model, §1.1 of the spec; VKF 2020 §2.1)::

    z_t = z_{t-1} eps_t / (1 - lambda_v),  eps_t ~ Beta((1 - lambda_v)/(2 lambda_v), 1/2),  v_t = 1/z_t
    y_t likewise with lambda_s (lambda_s = 0: fixed stochasticity s_0),                   s_t = 1/y_t
    x_t = x_{t-1} + N(0, v_t);   o_t = x_t + N(0, s_t)   or   o_t ~ Bernoulli(sigmoid(x_t))

Piecewise-constant means (blocks of ``block_length`` trials with given means, Gaussian noise):
the Behrens-style volatility task and the VKF 2020 demonstrations.  Binary blocks: each block
has exactly round(p n) ones in random order (as the reference code builds them) or independent
Bernoulli(p) outcomes.

Paradigms of the 2021 paper: :func:`volatility_task` (Supplementary Fig 1 and Fig 5),
:func:`reversal_task` (Costa et al. 2016, Fig 8), :func:`serial_prediction_task`
(Holland & Schiffino 2016, Fig 7), :func:`partial_reinforcement_task` (Fig 4).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ._common import float_dtype


class Environment(NamedTuple):
    """Outcomes and the truth behind them, each ``(T,)`` (or ``(T, D)`` for several cues)."""

    observations: jax.Array
    latent_mean: jax.Array  # x_t (for binary outcomes: the logit or the probability, see function)
    volatility: jax.Array  # true v_t (NaN where not defined)
    stochasticity: jax.Array  # true s_t (NaN where not defined)


class Task(NamedTuple):
    """A paradigm: an environment plus boolean masks naming its phases, ``{name: (T,)}``."""

    environment: Environment
    phases: dict


def random_walk(key, n_trials: int, volatility, stochasticity, initial_mean=0.0) -> Environment:
    """Gaussian random walk observed in Gaussian noise, fixed true v and s."""
    dtype = float_dtype()
    k_step, k_noise = jax.random.split(key)
    steps = jnp.sqrt(jnp.asarray(volatility, dtype)) * jax.random.normal(k_step, (n_trials,), dtype)
    latent = initial_mean + jnp.cumsum(steps.at[0].set(0.0))
    obs = latent + jnp.sqrt(jnp.asarray(stochasticity, dtype)) * jax.random.normal(k_noise, (n_trials,), dtype)
    return Environment(obs, latent, jnp.full((n_trials,), volatility, dtype), jnp.full((n_trials,), stochasticity, dtype))


def blocked_random_walk(key, block_volatility, block_stochasticity, block_length: int, initial_mean=0.0) -> Environment:
    """Random walk whose true (v, s) switch every ``block_length`` trials."""
    dtype = float_dtype()
    v = jnp.repeat(jnp.asarray(block_volatility, dtype), block_length)
    s = jnp.repeat(jnp.asarray(block_stochasticity, dtype), block_length)
    n = v.shape[0]
    k_step, k_noise = jax.random.split(key)
    steps = jnp.sqrt(v) * jax.random.normal(k_step, (n,), dtype)
    latent = initial_mean + jnp.cumsum(steps.at[0].set(0.0))
    obs = latent + jnp.sqrt(s) * jax.random.normal(k_noise, (n,), dtype)
    return Environment(obs, latent, v, s)


def volatile_process(
    key,
    n_trials: int,
    volatility_rate,
    initial_volatility,
    stochasticity_rate=0.0,
    initial_stochasticity=1.0,
    binary: bool = False,
    initial_mean=0.0,
) -> Environment:
    """The generative model of the VKF / joint model (Beta-diffusing precisions).

    ``stochasticity_rate=0`` keeps s fixed at ``initial_stochasticity`` (the VKF's model);
    ``binary=True`` draws o_t ~ Bernoulli(sigmoid(x_t)) (``latent_mean`` is then x_t, a logit).
    Rates are Python numbers or arrays; a rate given as the number 0 means "fixed".
    The first trial applies one diffusion step to (z, y, x) from their initial values.
    """
    dtype = float_dtype()
    k_z, k_y, k_x, k_o = jax.random.split(key, 4)

    def precision_path(k, rate, initial):
        if isinstance(rate, (int, float)) and rate == 0:
            return jnp.full((n_trials,), 1.0 / initial, dtype)
        rate = jnp.asarray(rate, dtype)
        a = (1.0 - rate) / (2.0 * rate)
        factors = jax.random.beta(k, a, 0.5, (n_trials,), dtype) / (1.0 - rate)
        return jnp.cumprod(factors) / initial

    z = precision_path(k_z, volatility_rate, initial_volatility)
    y = precision_path(k_y, stochasticity_rate, initial_stochasticity)
    latent = initial_mean + jnp.cumsum(jax.random.normal(k_x, (n_trials,), dtype) / jnp.sqrt(z))
    if binary:
        obs = jax.random.bernoulli(k_o, jax.nn.sigmoid(latent)).astype(dtype)
        return Environment(obs, latent, 1.0 / z, jnp.full((n_trials,), jnp.nan, dtype))
    obs = latent + jax.random.normal(k_o, (n_trials,), dtype) / jnp.sqrt(y)
    return Environment(obs, latent, 1.0 / z, 1.0 / y)


def piecewise_constant(key, block_means, block_length: int, noise_variance) -> Environment:
    """Blocks of constant mean observed in Gaussian noise of variance ``noise_variance``."""
    dtype = float_dtype()
    latent = jnp.repeat(jnp.asarray(block_means, dtype), block_length)
    obs = latent + jnp.sqrt(jnp.asarray(noise_variance, dtype)) * jax.random.normal(key, latent.shape, dtype)
    n = latent.shape[0]
    return Environment(obs, latent, jnp.full((n,), jnp.nan, dtype), jnp.full((n,), noise_variance, dtype))


def binary_blocks(key, block_probabilities, block_length: int, exact_counts: bool = True) -> Environment:
    """Binary outcomes with a reward probability per block (``latent_mean`` = the probability).

    ``exact_counts``: each block holds exactly round(p n) ones in random order (the reference
    code's construction); otherwise independent Bernoulli(p) draws.
    """
    dtype = float_dtype()
    probs = np.asarray(block_probabilities, dtype=float)
    latent = jnp.repeat(jnp.asarray(probs, dtype), block_length)
    n = latent.shape[0]
    if exact_counts:
        keys = jax.random.split(key, len(probs))
        blocks = []
        for k, p in zip(keys, probs):
            ones = int(round(p * block_length))
            pattern = jnp.concatenate([jnp.ones(ones, dtype), jnp.zeros(block_length - ones, dtype)])
            blocks.append(jax.random.permutation(k, pattern))
        obs = jnp.concatenate(blocks)
    else:
        obs = jax.random.bernoulli(key, latent).astype(dtype)
    nan = jnp.full((n,), jnp.nan, dtype)
    return Environment(obs, latent, nan, nan)


# ------------------------------------------------------------------------------------------
# Paradigms of Piray & Daw (2021)
# ------------------------------------------------------------------------------------------
VOLATILITY_TASK_MEANS = (0.75, 0.75, 0.75, 0.75, 0.75, 0.75, 0.2, 0.8, 0.2, 0.8, 0.2)


def volatility_task(key, noise_variance: float = 0.01, block_length: int = 20) -> Task:
    """Behrens-style task: 6 blocks at 0.75 (stable), then 0.2/0.8 alternating (volatile).

    Gaussian outcomes around the block means (variance 0.01), 220 trials.  Phases: ``stable`` =
    trials 21–120 (the first block is left out as burn-in), ``volatile`` = trials 121–220.
    """
    env = piecewise_constant(key, VOLATILITY_TASK_MEANS, block_length, noise_variance)
    n = env.observations.shape[0]
    t = np.arange(n)
    stable = (t >= block_length) & (t < 6 * block_length)
    volatile = t >= 6 * block_length
    return Task(env, {"stable": jnp.asarray(stable), "volatile": jnp.asarray(volatile)})


def reversal_task(key, probability: float, n_trials: int = 80, noise_variance: float = 1e-6) -> Task:
    """Two-choice reversal (Costa et al. 2016): outcome +1 if shape 1 is correct, else -1.

    Acquisition (first half): shape 1 is correct on exactly ``probability`` of the trials, in
    random order; reversal (second half): on exactly 1 - probability.  A tiny Gaussian jitter
    (variance 1e-6) is added, as in the reference code.  ``latent_mean`` is 2p - 1.
    """
    dtype = float_dtype()
    half = n_trials // 2
    correct = int(round(probability * half))
    k1, k2, k3 = jax.random.split(key, 3)
    pattern = jnp.concatenate([jnp.ones(correct, dtype), -jnp.ones(half - correct, dtype)])
    acquisition = jax.random.permutation(k1, pattern)
    reversal = -jax.random.permutation(k2, pattern)
    outcomes = jnp.concatenate([acquisition, reversal])
    obs = outcomes + jnp.sqrt(noise_variance) * jax.random.normal(k3, (n_trials,), dtype)
    latent = jnp.concatenate([jnp.full((half,), 2 * probability - 1, dtype), jnp.full((half,), 1 - 2 * probability, dtype)])
    nan = jnp.full((n_trials,), jnp.nan, dtype)
    t = np.arange(n_trials)
    return Task(Environment(obs, latent, nan, nan), {"acquisition": jnp.asarray(t < half), "reversal": jnp.asarray(t >= half)})


def serial_prediction_task(key, shift: bool, n_first: int = 200, n_second: int = 100, noise_variance: float = 1e-6) -> Task:
    """Serial prediction (Holland & Schiffino 2016): cue 1 (light) -> cue 2 (tone) -> food.

    Two outcome columns: [tone, food].  Phase 1 (``n_first`` trials): the tone always follows the
    light, food follows on exactly half the trials.  Phase 2 (``n_second``): *consistent* — the
    same; *shift* — the tone now follows the light on half the trials and food comes exactly
    when the tone does.  Tiny Gaussian jitter (variance 1e-6), as in the reference code.
    """
    dtype = float_dtype()
    k1, k2, k3 = jax.random.split(key, 3)
    half_pattern = lambda n: jnp.concatenate([jnp.ones(n // 2, dtype), jnp.zeros(n - n // 2, dtype)])  # noqa: E731
    food_first = jax.random.permutation(k1, half_pattern(n_first))
    coin = jax.random.permutation(k2, half_pattern(n_second))
    if shift:
        tone_second, food_second = coin, coin
    else:
        tone_second, food_second = jnp.ones(n_second, dtype), coin
    tone = jnp.concatenate([jnp.ones(n_first, dtype), tone_second])
    food = jnp.concatenate([food_first, food_second])
    n = n_first + n_second
    jitter = jnp.sqrt(noise_variance) * jax.random.normal(k3, (n, 2), dtype)
    obs = jnp.stack([tone, food], axis=1) + jitter
    latent = jnp.stack([tone, food], axis=1)
    nan = jnp.full((n, 2), jnp.nan, dtype)
    t = np.arange(n)
    return Task(Environment(obs, latent, nan, nan), {"first": jnp.asarray(t < n_first), "second": jnp.asarray(t >= n_first)})


def partial_reinforcement_task(key, partial: bool, n_acquisition: int = 100, n_extinction: int = 10, noise_variance: float = 1e-4) -> Task:
    """Partial-reinforcement extinction (Haselgrove et al. 2004).

    Acquisition: full reinforcement gives outcome 1 on every trial; partial gives 2 on a random
    half and 0 on the other half (same mean, more stochasticity).  Extinction: outcome 0.
    Gaussian jitter of variance 1e-4, as in the reference code.
    """
    dtype = float_dtype()
    k1, k2 = jax.random.split(key)
    if partial:
        pattern = jnp.concatenate([2 * jnp.ones(n_acquisition // 2, dtype), jnp.zeros(n_acquisition - n_acquisition // 2, dtype)])
        acquisition = jax.random.permutation(k1, pattern)
    else:
        acquisition = jnp.ones(n_acquisition, dtype)
    x = jnp.concatenate([acquisition, jnp.zeros(n_extinction, dtype)])
    n = x.shape[0]
    obs = x + jnp.sqrt(noise_variance) * jax.random.normal(k2, (n,), dtype)
    nan = jnp.full((n,), jnp.nan, dtype)
    t = np.arange(n)
    return Task(Environment(obs, jnp.where(jnp.asarray(t) < n_acquisition, 1.0, 0.0).astype(dtype), nan, nan),
                {"acquisition": jnp.asarray(t < n_acquisition), "extinction": jnp.asarray(t >= n_acquisition)})

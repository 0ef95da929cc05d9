"""The stochasticity-volatility particle filter: exactness against a NumPy loop, invariants, samplers."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from plastix.errors import ConfigError
from plastix.volatility import (
    KalmanFilter,
    KalmanParams,
    StepNoise,
    StochasticityVolatilityFilter,
    StoVolParams,
    effective_sample_size,
    reference,
    systematic_resample,
)
from plastix.volatility import _sampling


def _outcomes(n=80, cues=None, seed=0):
    rng = np.random.default_rng(seed)
    shape = (n,) if cues is None else (n, cues)
    return np.cumsum(rng.normal(0, 0.8, shape), axis=0) + rng.normal(0, 1.0, shape)


def _numpy_noise(filt, params, n_trials, n_cues, seed):
    """Random draws made with NumPy, independent of the JAX samplers."""
    rng = np.random.default_rng(seed)
    shape = (n_trials, filt.n_particles, n_cues)

    def shock(rate):
        if filt.diffusion == "gaussian":
            return rng.standard_normal(shape)
        a = (1 - np.asarray(rate)) / (2 * np.asarray(rate))
        return rng.beta(np.broadcast_to(a, shape), 0.5)

    return (shock(params.volatility_rate), shock(params.stochasticity_rate), rng.random(n_trials))


@pytest.mark.parametrize("settings, params, cues", [
    ({}, StoVolParams(0.1, 0.1, 1.0, 2.0, 100.0), None),
    ({"learn_stochasticity": False}, StoVolParams(0.2, 0.1, 0.5, 0.3, 1.0), None),
    ({"learn_volatility": False}, StoVolParams(0.1, 0.3, 0.2, 1.0, 1.0), None),
    ({"diffusion": "gaussian"}, StoVolParams(0.3, 0.3, 1.0, 1.0, 10.0), None),
    ({}, StoVolParams(np.array([0.2, 0.1]), 0.2, 0.5, np.array([0.5, 1.0]), 1.0), 2),
])
def test_particle_filter_matches_numpy_loop(settings, params, cues, x64):
    filt = StochasticityVolatilityFilter(n_particles=32, **settings)
    obs = _outcomes(50, cues)
    if cues:
        obs[5, 1] = np.nan  # an unobserved cue
    draws = _numpy_noise(filt, params, 50, cues or 1, seed=3)
    traj = filt.run_with_noise(params, obs, StepNoise(*(jnp.asarray(d) for d in draws)))
    ref = reference.particle_filter(
        obs, *params, n_particles=filt.n_particles, learn_volatility=filt.learn_volatility,
        learn_stochasticity=filt.learn_stochasticity, diffusion=filt.diffusion, noise=draws)
    for name in ref:
        got = np.asarray(getattr(traj, name))
        if cues is None and got.ndim == 2:
            got = got[:, 0]
        np.testing.assert_allclose(got, ref[name], rtol=1e-11, atol=1e-12, err_msg=name)
    assert float(np.sum(traj.resampled)) > 0  # the comparison covered resampling


def test_run_is_reproducible_and_uses_the_draws_of_its_key(x64):
    filt = StochasticityVolatilityFilter(16)
    params = StoVolParams(0.1, 0.1, 1.0, 2.0, 10.0)
    obs = _outcomes(30)
    key = jax.random.key(4)
    traj = filt.run(params, obs, key)
    again = filt.run(params, obs, key)
    other = filt.run(params, obs, jax.random.key(5))
    for x, y in zip(traj, again):
        np.testing.assert_array_equal(x, y)  # same key: bit-identical
    assert not np.array_equal(traj.learning_rate, other.learning_rate)
    replay = filt.run_with_noise(params, obs, filt.draw_run_noise(key, params, 30))
    np.testing.assert_allclose(traj.value, replay.value[:, 0], rtol=1e-12)
    np.testing.assert_allclose(traj.learning_rate, replay.learning_rate[:, 0], rtol=1e-12)


def test_one_particle_with_fixed_noise_is_a_kalman_filter(x64):
    obs = _outcomes(100)
    filt = StochasticityVolatilityFilter(1, learn_volatility=False, learn_stochasticity=False)
    traj = filt.run(StoVolParams(0.1, 0.1, 0.7, 1.3, 4.0, 0.5), obs, jax.random.key(0))
    kf = KalmanFilter().run(KalmanParams(0.7, 1.3, 4.0, 0.5), obs)
    for name in ("prediction", "value", "learning_rate", "uncertainty", "log_evidence"):
        np.testing.assert_allclose(getattr(traj, name), getattr(kf, name), rtol=1e-12, atol=1e-12)
    assert not np.any(np.asarray(traj.resampled))


def test_weights_stay_normalised_and_resampling_follows_ess(x64):
    filt = StochasticityVolatilityFilter(50)
    params = StoVolParams(0.2, 0.2, 0.5, 0.5, 1.0)
    obs = _outcomes(120, seed=4)
    state = filt.initial_state(params)
    keys = jax.random.split(jax.random.key(1), len(obs))
    step = jax.jit(filt.step)
    n_resampled = 0
    for t in range(len(obs)):
        state, out = step(params, state, obs[t:t + 1], keys[t])
        w = np.asarray(state.weights)
        assert np.all(w >= 0) and abs(w.sum() - 1.0) < 1e-12
        assert np.all(np.asarray(state.volatility_precision) > 0) and np.all(np.asarray(state.stochasticity_precision) > 0)
        resampled = bool(out.resampled)
        assert resampled == (float(out.effective_sample_size) < 25.0)
        if resampled:
            n_resampled += 1
            np.testing.assert_array_equal(w, np.full(50, 1 / 50))
    assert n_resampled > 0


def _two_pointer_resample(weights, u):
    """Textbook systematic resampling, written as the classic two-pointer loop."""
    n = len(weights)
    out, j, cumulative = [], 0, weights[0]
    for i in range(n):
        position = (i + u) / n
        while position >= cumulative and j < n - 1:
            j += 1
            cumulative += weights[j]
        out.append(j)
    return np.array(out)


def test_systematic_resampling_against_two_pointer_loop(x64):
    rng = np.random.default_rng(6)
    batched = jax.jit(jax.vmap(systematic_resample))
    for n in (1, 5, 11):
        w = rng.random((70, n)) ** 3
        w[rng.random((70, n)) < 0.3] = 0.0
        w[w.sum(1) == 0, 0] = 1.0
        w = w / w.sum(1, keepdims=True)
        u = rng.random(70)
        u[:3] = (0.0, 0.5, 1 - 1e-12)
        idx = np.asarray(batched(jnp.asarray(w), jnp.asarray(u)))
        for i in range(70):
            np.testing.assert_array_equal(idx[i], _two_pointer_resample(w[i], u[i]))
            counts = np.bincount(idx[i], minlength=n)
            assert np.all(counts >= np.floor(n * w[i] - 1e-9)) and np.all(counts <= np.ceil(n * w[i] + 1e-9))
            assert np.all(counts[w[i] == 0] == 0)
    assert float(effective_sample_size(jnp.full(8, 1 / 8))) == pytest.approx(8.0)


def test_lesions_from_rates():
    healthy = StochasticityVolatilityFilter.from_rates(0.1, 0.1)
    assert healthy.learn_volatility and healthy.learn_stochasticity
    lesion = StochasticityVolatilityFilter.from_rates(0.1, 0.0)
    assert lesion.learn_volatility and not lesion.learn_stochasticity
    params = StoVolParams(0.1, 0.0, 1.0, 2.0, 1.0)
    traj = lesion.run(params, _outcomes(30), jax.random.key(0))
    np.testing.assert_allclose(traj.predicted_stochasticity, 2.0, rtol=1e-6)
    with pytest.raises(ConfigError):
        StochasticityVolatilityFilter.from_rates(0.0, 0.0)
    with pytest.raises(ConfigError):
        StochasticityVolatilityFilter(0)
    with pytest.raises(ConfigError):
        StochasticityVolatilityFilter(10, diffusion="levy")


def test_reported_noise_is_reciprocal_of_mean_precision(x64):
    filt = StochasticityVolatilityFilter(20)
    params = StoVolParams(0.2, 0.2, 0.5, 0.5, 1.0)
    state = filt.initial_state(params)
    noise = filt.draw_noise(jax.random.key(2), params)
    new_state, out = jax.jit(filt.step_with_noise)(params, state, jnp.asarray([0.3]), noise)
    z = np.asarray(state.volatility_precision) * (np.asarray(noise.volatility_shock) + 2.220446049250313e-16) / 0.8
    assert float(out.predicted_volatility[0]) == pytest.approx(1 / np.mean(z), rel=1e-12)
    w = np.asarray(new_state.weights)
    assert float(out.filtered_volatility[0]) == pytest.approx(1 / (w @ np.asarray(new_state.volatility_precision)[:, 0]), rel=1e-12)


def test_legacy_flags(x64):
    params = StoVolParams(0.2, 0.2, 0.1, 0.1, 1.0)
    obs = _outcomes(40, seed=9)
    exact = StochasticityVolatilityFilter(12).run(params, obs, jax.random.key(1))
    legacy = StochasticityVolatilityFilter(12, reindex_kalman=False).run(params, obs, jax.random.key(1))
    first = int(np.argmax(np.asarray(exact.resampled) > 0))
    assert np.asarray(exact.resampled)[first] == 1
    # identical until the first resampling, different after it (Kalman states not re-indexed)
    np.testing.assert_array_equal(exact.prediction[:first + 1], legacy.prediction[:first + 1])
    assert not np.allclose(exact.value[first:], legacy.value[first:])

    # likelihood floor: when every likelihood underflows, floored weights do not move
    floored = StochasticityVolatilityFilter(4, learn_volatility=False, learn_stochasticity=False,
                                            likelihood_floor=2.220446049250313e-16, resample_threshold=0.0)
    p = StoVolParams(0.1, 0.1, 1e-6, np.array([[1e-6], [2e-6], [3e-6], [4e-6]]), 1e-6)
    state = floored.initial_state(p)._replace(weights=jnp.asarray([0.1, 0.2, 0.3, 0.4]))
    noise = floored.draw_noise(jax.random.key(0), p)
    new_state, out = jax.jit(floored.step_with_noise)(p, state, jnp.asarray([1.0]), noise)
    np.testing.assert_allclose(new_state.weights, [0.1, 0.2, 0.3, 0.4], rtol=1e-12)
    assert float(out.log_evidence) < -1e4  # the true evidence is still reported


@jax.jit
def _draws(a):
    seeds = _sampling.trial_seeds(jax.random.key(11))
    return (_sampling.beta_half(seeds, 0, a), _sampling.gamma(seeds, 300, a),
            _sampling.normal(seeds, 600, a.shape, a.dtype), _sampling.uniform(seeds, 700, a.shape, a.dtype))


@pytest.mark.parametrize("a", [0.6, 2.0, 4.5, 30.0])
def test_beta_sampler_distribution(a):
    beta, gamma, normal, uniform = (np.asarray(x) for x in _draws(jnp.full((40000,), a, jnp.float32)))
    assert stats.kstest(beta, stats.beta(a, 0.5).cdf).pvalue > 1e-3
    assert stats.kstest(gamma, stats.gamma(a).cdf).pvalue > 1e-3
    assert stats.kstest(normal, stats.norm.cdf).pvalue > 1e-3
    assert uniform.min() > 0 and uniform.max() < 1


def test_beta_sampler_gradient_matches_finite_difference(x64):
    # d E[Beta draw]/da at fixed seeds (implicit reparameterisation) ~ d/da a/(a + 1/2) on average
    seeds = _sampling.trial_seeds(jax.random.key(5))
    f = lambda a: jnp.mean(_sampling.beta_half(seeds, 0, jnp.full((100000,), a)))  # noqa: E731
    grad = float(jax.grad(f)(2.0))
    assert grad == pytest.approx(0.5 / 2.5**2, rel=0.05)


def test_healthy_2x2_signs():
    """Statistical check at small size: learning rate up with v, down with s (48 runs per cell)."""
    from plastix.volatility.batch import run_batch
    from plastix.volatility.environments import random_walk

    filt = StochasticityVolatilityFilter(100)
    means = {}
    for j, (v, s) in enumerate([(0.5, 1.0), (1.5, 1.0), (0.5, 3.0), (1.5, 3.0)]):
        obs = np.asarray(jax.vmap(lambda k: random_walk(k, 200, v, s).observations)(jax.random.split(jax.random.key(j), 48)))
        traj = run_batch(filt, StoVolParams(0.1, 0.1, 1.0, 2.0, 100.0), obs, jax.random.key(10 + j))
        means[(v, s)] = float(traj.learning_rate[:, 180:].mean())
        assert abs(float(traj.learning_rate[:, 0].mean()) - 0.98) < 0.01
    assert means[(1.5, 1.0)] > means[(0.5, 1.0)] and means[(1.5, 3.0)] > means[(0.5, 3.0)]
    assert means[(0.5, 3.0)] < means[(0.5, 1.0)] and means[(1.5, 3.0)] < means[(1.5, 1.0)]

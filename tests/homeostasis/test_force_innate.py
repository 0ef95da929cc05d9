"""FORCE and innate training on small networks (fast versions of the reproductions' pieces)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from plastix.errors import ConfigError
from plastix.homeostasis import RateNetwork, force, innate


def test_rate_network_step_is_euler_of_the_ode(x64):
    net = RateNetwork(n=6, n_in=1, n_out=2, p_connect=0.5, feedback=True, noise_amplitude=0.1)
    params = net.init(jax.random.key(0))
    params["w_out"] = jax.random.normal(jax.random.key(1), (2, 6))
    state = net.initial_state(params, jax.random.key(2))
    u, xi = jnp.array([0.7]), jax.random.normal(jax.random.key(3), (6,))
    new = net.step(params, state, u, xi)
    drive = params["w_rec"] @ state.r + params["w_in"] @ u + params["w_fb"] @ state.z + 0.1 * xi
    x = state.x + (net.dt / net.tau) * (drive - state.x)
    np.testing.assert_allclose(np.asarray(new.x), np.asarray(x), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(new.z), np.asarray(params["w_out"] @ jnp.tanh(x)), rtol=1e-14)
    w = np.asarray(params["w_rec"])
    assert np.all(np.diag(w) == 0)


def test_force_learns_a_sine_with_the_readout_only():
    period = 200
    target = jnp.sin(2 * jnp.pi * jnp.arange(1, period + 1) / period)[:, None]
    net = RateNetwork(n=200, n_in=0, n_out=1, feedback=True, noise_amplitude=0.0)
    params0 = net.init(jax.random.key(0))
    params, state, _, errors = force.train(net, params0, jnp.tile(target, (8, 1)), jax.random.key(1))
    _, test = force.free_run(net, params, state, 2 * period, jax.random.key(2))
    assert float(force.normalised_mse(test, jnp.tile(target, (2, 1)))) < 0.05
    np.testing.assert_array_equal(np.asarray(params["w_rec"]), np.asarray(params0["w_rec"]))
    assert errors.shape == (8 * period // 2, 1)
    with pytest.raises(ConfigError, match="feedback"):
        force.train(RateNetwork(n=10, n_in=0, feedback=False), params0, target, jax.random.key(1))


def test_handwriting_target_is_closed_and_normalised():
    trace = np.asarray(force.handwriting_target(500))
    assert trace.shape == (500, 2)
    assert np.abs(trace).max() == pytest.approx(1.0)
    np.testing.assert_allclose(trace[-1], force.handwriting_target(1000)[-1], atol=1e-6)  # ends where it starts


def test_plastic_structure_lists_presynaptic_partners():
    net = RateNetwork(n=30, p_connect=0.2)
    params = net.init(jax.random.key(0))
    units, presyn = innate.plastic_structure(params, 10)
    w = np.asarray(params["w_rec"])
    for i in range(10):
        listed = sorted(int(j) for j in np.asarray(presyn[i]) if j < 30)
        assert listed == list(np.flatnonzero(w[i]))
    assert units.tolist() == list(range(10))


def test_innate_training_pulls_noisy_trials_onto_the_innate_trajectory():
    net = RateNetwork(n=120, n_in=1, n_out=1, g=1.8, noise_amplitude=0.05, readout_init="normal")
    protocol = innate.TrialProtocol(offset=20, trigger=10, window=300, tail=10)
    training = innate.InnateRLS()
    params = net.init(jax.random.key(0))
    target = innate.innate_trajectory(net, protocol, params, jax.random.key(1))
    keys = jax.random.split(jax.random.key(2), 4)
    late = (protocol.window_start + 150, protocol.window_stop)
    before = np.asarray(innate.trajectory_correlation(innate.run_trials(net, protocol, params, keys)[0], target, *late))
    units, presyn = innate.plastic_structure(params, int(0.6 * net.n))
    P = innate.recurrent_init(training, presyn)
    non_plastic_before = np.asarray(params["w_rec"])[int(0.6 * net.n):]
    errors = []
    for n in range(6):
        params, P, err = innate.train_recurrent_trial(net, training, protocol, params, P, units, presyn, target,
                                                      jax.random.key(10 + n))
        errors.append(float(err))
    after = np.asarray(innate.trajectory_correlation(innate.run_trials(net, protocol, params, keys)[0], target, *late))
    assert after.mean() > max(before.mean(), 0.9)
    assert errors[-1] < errors[0]
    # only the plastic units' incoming weights, and only existing connections, changed
    np.testing.assert_array_equal(np.asarray(params["w_rec"])[int(0.6 * net.n):], non_plastic_before)
    w0 = np.asarray(net.init(jax.random.key(0))["w_rec"])
    assert np.all(np.asarray(params["w_rec"])[w0 == 0] == 0)


def test_readout_training_and_perturbation_shapes():
    net = RateNetwork(n=60, n_in=1, n_out=2, readout_init="normal")
    protocol = innate.TrialProtocol(offset=10, trigger=5, window=100, tail=5)
    params = net.init(jax.random.key(0))
    target = jnp.ones((protocol.window, 2))
    P = innate.readout_init(net)
    params2, P, err = innate.train_readout_trial(net, protocol, params, P, target, jax.random.key(1))
    np.testing.assert_array_equal(np.asarray(params2["w_rec"]), np.asarray(params["w_rec"]))
    assert not np.allclose(np.asarray(params2["w_out"]), np.asarray(params["w_out"]))
    pert = (protocol.window_start + 20, 10, 0.5, jnp.ones(net.n))
    rates, outputs = innate.run_trials(net, protocol, params2, jax.random.split(jax.random.key(2), 3), perturbation=pert)
    assert rates.shape == (3, protocol.n_steps, net.n) and outputs.shape == (3, protocol.n_steps, 2)
    clean, _ = innate.run_trials(net, protocol, params2, jax.random.split(jax.random.key(2), 3))
    start = protocol.window_start + 20
    np.testing.assert_array_equal(np.asarray(rates)[:, :start], np.asarray(clean)[:, :start])
    assert not np.allclose(np.asarray(rates)[:, start + 1], np.asarray(clean)[:, start + 1])

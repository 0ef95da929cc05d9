"""Spike-train analyses on hand-built spikes, and the trial-by-trial training protocol."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from plastix.errors import ConfigError
from plastix.homeostasis import EINetwork, PSDScaling, SynapticScaling, analysis as A, init_averages, make_trainer, trial_summary


def _tiny(**kw):
    cfg = dict(n_exc=30, n_inh=8, duration=40.0, dt=0.5, stim_time=5.0)
    cfg.update(kw)
    return EINetwork(**cfg)


def test_first_spike_latency_and_statistics_on_hand_built_spikes():
    net = _tiny(n_exc=3, n_inh=1)
    T = net.n_steps
    spikes = np.zeros((4, T, 4), bool)
    step_of = lambda ms: net.stim_step - 1 + int(round(ms / net.dt))  # noqa: E731 - step whose end is `ms` after the stimulus
    lat_unit0 = [10.0, 11.0, 12.0, 13.0]
    for b, ms in enumerate(lat_unit0):
        spikes[b, step_of(ms), 0] = True
        spikes[b, step_of(ms + 5), 0] = True  # a second spike does not change the latency
    spikes[:2, step_of(20.0), 1] = True  # unit 1 fires in half of the trials
    spikes[:, 0, 2] = True  # before the stimulus: ignored
    lat = A.first_spike_latency(spikes, net)
    np.testing.assert_allclose(lat[:, 0], lat_unit0)
    assert np.isnan(lat[2:, 1]).all() and np.isnan(lat[:, 2]).all()
    st = A.latency_statistics(lat, min_reliability=0.8)
    assert st["active"].tolist() == [True, False, False, False]
    assert st["mean"][0] == pytest.approx(11.5)
    assert st["jitter"][0] == pytest.approx(np.std(lat_unit0, ddof=1))
    np.testing.assert_array_equal(A.spike_counts(spikes)[:, 0], [2, 2, 2, 2])


def test_recurrence_index_of_chains_and_random_networks():
    n = 50
    latency = np.arange(n, dtype=float)
    forward = np.zeros((n, n))
    forward[np.arange(1, n), np.arange(n - 1)] = 1.0  # W[post=i+1, pre=i]: earlier drives later
    assert A.recurrence_index(forward, latency) == 0.0
    assert A.recurrence_index(forward.T, latency) == 1.0
    rng = np.random.default_rng(0)
    random = rng.uniform(size=(400, 400)) * (rng.uniform(size=(400, 400)) < 0.2)
    np.fill_diagonal(random, 0.0)
    assert abs(A.recurrence_index(random, rng.permutation(400).astype(float)) - 0.5) < 0.02
    # restricting to a subset of units uses only their block
    units = np.zeros(n, bool)
    units[:10] = True
    assert A.recurrence_index(forward + forward.T, latency, units) == pytest.approx(0.5)


def test_sparse_code_and_jitter_trend_on_synthetic_latencies():
    mean = np.linspace(10, 110, 101)
    jitter = 0.5 + 0.02 * mean
    code = A.sparse_code_summary(mean, jitter)
    assert code["span_ms"] == pytest.approx(100.0)
    assert code["max_gap_over_span"] == pytest.approx(0.01)
    assert code["central_max_gap_over_span"] == pytest.approx(1.0 / 90.0)
    straggler = A.sparse_code_summary(np.append(mean, 200.0), np.append(jitter, 1.0))
    assert straggler["max_gap_over_span"] > 0.4  # one late unit dominates the whole-range gap ...
    assert straggler["central_max_gap_over_span"] < 0.02  # ... but not the central 90 %
    assert code["jitter_over_spread"] == pytest.approx(np.median(jitter) / np.std(mean))
    trend = A.jitter_vs_latency(mean, jitter)
    assert trend["spearman_rho"] == pytest.approx(1.0)
    assert trend["slope"] == pytest.approx(0.02)


def test_filter_and_readout_recover_a_linear_map():
    dt, tau = 1.0, 5.0
    spikes = np.zeros((2, 30, 3), bool)
    spikes[:, 3, 0] = True
    f = np.asarray(A.filter_spikes(spikes, dt, tau))
    expected = np.where(np.arange(30) >= 3, np.exp(-(np.arange(30) - 3) * dt / tau), 0.0)
    np.testing.assert_allclose(f[0, :, 0], expected, rtol=1e-6)
    rng = np.random.default_rng(1)
    features = jnp.asarray(rng.normal(size=(3, 40, 5)).astype(np.float32))
    true_w = rng.normal(size=(2, 6)).astype(np.float32)
    targets = np.asarray(A.apply_readout(jnp.asarray(true_w), features))[0]
    # the same targets on every trial are only reachable if the features repeat: use one trial
    w = A.fit_readout(features[:1], targets, delta=1e-6)
    np.testing.assert_allclose(np.asarray(w), true_w, atol=1e-3)
    timing = A.readout_timing(np.asarray(A.apply_readout(w, features[:1])), targets, np.arange(40.0))
    assert timing["median_abs_peak_error_ms"] == 0.0 and timing["r_squared"] > 0.999


def test_trial_summary_counts_runaway_window():
    net = _tiny(n_exc=4, n_inh=1, dt=1.0)
    spikes = np.zeros((net.n_steps, 5), bool)
    spikes[10, 0] = spikes[12, 1] = spikes[25, 2] = True  # units 0 and 1 within 20 ms; unit 2 later
    s = trial_summary(net, jnp.asarray(spikes))
    assert float(s["exc_spikes"]) == 3 and float(s["frac_exc_active"]) == 0.75
    assert float(s["max_frac_exc_window"]) == pytest.approx(0.75)  # 10, 12 and 25 fit in one 20-step window


def test_trainer_runs_and_psd_does_nothing_without_presynaptic_activity():
    net = _tiny(stim_frac_exc=0.0, stim_frac_inh=0.0)  # no stimulus: the network stays silent
    params = net.init(jax.random.key(0))
    train = make_trainer(net, {"w_ee": PSDScaling(rate=0.5, target=1.0, w_max=1.0)})
    new, avg, hist = train(params, init_averages(net), jax.random.key(1), 5)
    np.testing.assert_array_equal(np.asarray(new["w_ee"]), np.asarray(params["w_ee"]))
    assert hist["exc_spikes"].shape == (5,) and float(hist["exc_spikes"].sum()) == 0.0
    # SS on the same silent network scales every input up
    train_ss = make_trainer(net, {"w_ee": SynapticScaling(rate=0.5, target=1.0, w_max=10.0)})
    new_ss, _, _ = train_ss(params, init_averages(net), jax.random.key(1), 5)
    w0, w1 = np.asarray(params["w_ee"]), np.asarray(new_ss["w_ee"])
    np.testing.assert_allclose(w1[w0 > 0] / w0[w0 > 0], 1.5 ** 5, rtol=1e-5)


def test_trainer_updates_averages_from_counts():
    net = _tiny()
    params = net.init(jax.random.key(0))
    train = make_trainer(net, {"w_ee": PSDScaling(rate=0.01, target=1.0, w_max=1.0)}, tau_avg=2.0)
    _, avg, hist = train(params, init_averages(net), jax.random.key(3), 1)
    spikes = net.simulate_batch(params, jax.random.split(jax.random.split(jax.random.key(3), 1)[0], 1))
    counts = np.asarray(spikes).sum(1)[0]
    np.testing.assert_allclose(np.asarray(avg.exc), counts[: net.n_exc] / 2.0)
    with pytest.raises(ConfigError, match="rules"):
        make_trainer(net, {"w_xx": PSDScaling()})

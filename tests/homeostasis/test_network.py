"""Conductance synapses, membrane, short-term plasticity and the trial simulation of EINetwork."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from plastix.errors import ConfigError
from plastix.homeostasis import EINetwork, dual_exponential, kernel_peak_normaliser, mg_block

SILENT = dict(v_thresh_exc=1e6, v_thresh_inh=1e6, noise_mv=0.0)  # no spikes, no noise


def _probe(**kw):
    """2 E + 1 I units, no recurrent connections, stimulus onto unit 0 only."""
    cfg = dict(n_exc=2, n_inh=1, p_ee=0.0, p_ie=0.0, p_ei=0.0, p_ii=0.0, stim_frac_exc=0.5, stim_frac_inh=0.0,
               duration=60.0, stim_time=5.0, dt=0.1, stim_weight=0.3)
    cfg.update(kw)
    net = EINetwork(**cfg)
    params = net.init(jax.random.key(0))
    params["stim"] = jnp.zeros(net.n).at[0].set(net.stim_weight)
    return net, params


def test_kernel_normaliser_gives_unit_peak(x64):
    for rise, decay in ((0.5, 5.0), (2.0, 100.0), (0.5, 10.0)):
        t = jnp.linspace(0, 5 * decay, 200001)
        assert float(dual_exponential(t, rise, decay).max()) == pytest.approx(1.0, abs=1e-8)
    assert kernel_peak_normaliser(0.0, 5.0) == 1.0


@pytest.mark.parametrize("receptor", ["ampa", "nmda"])
def test_conductance_matches_analytic_dual_exponential(x64, receptor):
    net, params = _probe(**SILENT, tau_ampa=(0.5, 5.0), tau_nmda=(2.0, 80.0), nmda_ratio=0.7)
    trace = net.simulate(params, jax.random.key(1), record=True)
    g = np.asarray(trace.g_ampa if receptor == "ampa" else trace.g_nmda)[:, 0]
    # the pulse enters at stim_step: n steps later the kernel has run for n·dt
    n = np.arange(net.n_steps) - net.stim_step
    rise, decay = net.tau_ampa if receptor == "ampa" else net.tau_nmda
    # stimulus drives AMPA only; NMDA is driven by recurrent excitation, absent here
    weight = net.stim_weight if receptor == "ampa" else 0.0
    expected = np.where(n >= 0, weight * np.asarray(dual_exponential(jnp.asarray(np.maximum(n, 0) * net.dt), rise, decay)), 0.0)
    np.testing.assert_allclose(g, expected, rtol=1e-10, atol=1e-13)


def test_recurrent_conductance_superposes_and_scales_nmda(x64):
    """A presynaptic spike at step k gives w·kernel from step k+1 (delay dt), AMPA and NMDA·ratio."""
    net = EINetwork(n_exc=2, n_inh=1, p_ee=0.0, p_ie=0.0, p_ei=0.0, p_ii=0.0, stim_frac_exc=0.5, stim_frac_inh=0.0,
                    duration=40.0, stim_time=2.0, dt=0.1, stim_weight=5.0, noise_mv=0.0, nmda_ratio=0.6,
                    stp_ee=(1.0, 0.0, 0.0), v_thresh_inh=1e6, t_ref_exc=100.0)
    params = net.init(jax.random.key(0))
    params["stim"] = jnp.zeros(net.n).at[0].set(net.stim_weight)
    params["w_ee"] = jnp.zeros((2, 2)).at[1, 0].set(0.05)
    # keep unit 1 silent so that only unit 0 spikes
    net = net.__class__(**{**net.__dict__, "v_thresh_exc": -50.0})
    trace = net.simulate(params, jax.random.key(0), record=True)
    spikes = np.asarray(trace.spikes)
    assert spikes[:, 0].sum() == 1 and spikes[:, 1].sum() == 0
    k = int(np.flatnonzero(spikes[:, 0])[0])
    n = np.arange(net.n_steps) - (k + 1)
    t = jnp.asarray(np.maximum(n, 0) * net.dt)
    ampa = np.where(n >= 0, 0.05 * np.asarray(dual_exponential(t, *net.tau_ampa)), 0.0)
    nmda = np.where(n >= 0, 0.6 * 0.05 * np.asarray(dual_exponential(t, *net.tau_nmda)), 0.0)
    np.testing.assert_allclose(np.asarray(trace.g_ampa)[:, 1], ampa, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(np.asarray(trace.g_nmda)[:, 1], nmda, rtol=1e-10, atol=1e-13)


def test_membrane_is_exact_for_constant_conductance(x64):
    """With a non-decaying conductance g, V(t) = V∞ + (V0 − V∞) exp(−t (1+g)/τ_m)."""
    net, params = _probe(**SILENT, tau_ampa=(0.0, 1e12), stim_weight=0.4)
    trace = net.simulate(params, jax.random.key(1), record=True)
    v = np.asarray(trace.v)[:, 0]
    g = net.stim_weight
    v_inf = (net.v_rest + g * net.e_exc) / (1 + g)
    # without a rise time the conductance is w already during the step it enters in
    n = np.arange(net.n_steps) - net.stim_step + 1
    expected = np.where(n <= 0, net.v_rest, v_inf + (net.v_rest - v_inf) * np.exp(-np.maximum(n, 0) * net.dt * (1 + g) / net.tau_m_exc))
    np.testing.assert_allclose(v, expected, rtol=0, atol=1e-9)


def _reference_epsp(net, weight, t_end):
    rise, decay = net.tau_ampa

    def rhs(t, v):
        g = weight * float(dual_exponential(jnp.asarray(t), rise, decay)) if t > 0 else 0.0
        return [(-(v[0] - net.v_rest) - g * (v[0] - net.e_exc)) / net.tau_m_exc]

    return solve_ivp(rhs, (0.0, t_end), [net.v_rest], rtol=1e-10, atol=1e-12, dense_output=True, max_step=0.05)


def test_membrane_response_converges_to_ode_solution(x64):
    """Exponential Euler with time-varying g is first order; it matches a fine ODE solution."""
    errors = []
    for dt in (0.04, 0.02):
        net, params = _probe(**SILENT, dt=dt, duration=40.0, stim_time=2.0, stim_weight=0.3)
        v = np.asarray(net.simulate(params, jax.random.key(1), record=True).v)[:, 0]
        # conductance starts at the end of step stim_step; V is reported at step ends
        t_since = (np.arange(net.n_steps) + 1 - (net.stim_step + 1)) * dt
        ref = _reference_epsp(net, net.stim_weight, 38.0)
        mask = (t_since >= 0) & (t_since <= 38.0)
        errors.append(np.abs(v[mask] - ref.sol(t_since[mask])[0]).max())
    assert errors[0] < 0.05  # mV, against an EPSP of several mV
    assert 1.6 < errors[0] / errors[1] < 2.4  # halving dt halves the error


def test_mg_block_values(x64):
    assert float(mg_block(jnp.asarray(0.0), 1.0)) == pytest.approx(1 / (1 + 1 / 3.57))
    assert float(mg_block(jnp.asarray(-60.0), 1.0)) == pytest.approx(1 / (1 + math.exp(3.72) / 3.57))


def test_short_term_plasticity_matches_tsodyks_markram_recursion(x64):
    net = EINetwork(n_exc=2, n_inh=1, dt=0.5, stp_ee=(0.3, 200.0, 150.0))
    U, tau_rec, tau_fac = net.stp_ee
    interval_steps = 20  # 10 ms
    n_steps = 200
    spikes = np.zeros((n_steps, 1))
    spikes[::interval_steps] = 1.0
    u, R = jnp.zeros(1), jnp.ones(1)
    efficacies = []
    for s in spikes:
        u, R, eff = net._stp_release(u, R, jnp.asarray(s), "ee")
        if s[0]:
            efficacies.append(float(eff[0]))
    # reference: event-based recursion with the inter-spike interval Δ
    delta = interval_steps * net.dt
    ref, u_ref, R_ref = [], 0.0, 1.0
    for n in range(len(efficacies)):
        if n > 0:
            u_ref *= math.exp(-delta / tau_fac)
            R_ref = 1 - (1 - R_ref) * math.exp(-delta / tau_rec)
        else:  # the first spike also sees one step of relaxation, from the rested state
            pass
        u_plus = u_ref + U * (1 - u_ref)
        release = u_plus * R_ref
        ref.append(release / U)
        u_ref, R_ref = u_plus, R_ref - release
    np.testing.assert_allclose(efficacies, ref, rtol=1e-12)
    assert efficacies[0] == pytest.approx(1.0)


def test_static_pathway_has_unit_efficacy(x64):
    net = EINetwork(n_exc=2, n_inh=1, stp_ii=(1.0, 0.0, 0.0))
    u, R = jnp.zeros(1), jnp.ones(1)
    for _ in range(10):
        u, R, eff = net._stp_release(u, R, jnp.ones(1), "ii")
        assert float(eff[0]) == 1.0


def test_regular_firing_interval_matches_theory(x64):
    """Constant conductance drive: ISI = t_ref + τ_eff ln((V∞ − V_reset)/(V∞ − V_th)), to one step."""
    net, params = _probe(noise_mv=0.0, tau_ampa=(0.0, 1e12), stim_weight=1.0, dt=0.01, duration=80.0, ahp_exc=0.0,
                         v_thresh_inh=1e6)
    spikes = np.asarray(net.simulate(params, jax.random.key(0)).spikes)[:, 0]
    isi = np.diff(np.flatnonzero(spikes)) * net.dt
    g = net.stim_weight
    v_inf = (net.v_rest + g * net.e_exc) / (1 + g)
    tau_eff = net.tau_m_exc / (1 + g)
    expected = net.t_ref_exc + tau_eff * math.log((v_inf - net.v_reset) / (v_inf - net.v_thresh_exc))
    assert len(isi) >= 5
    np.testing.assert_allclose(isi, expected, atol=2 * net.dt)


def test_simulate_batch_is_deterministic_and_independent():
    net = EINetwork(n_exc=40, n_inh=10, duration=60.0)
    params = net.init(jax.random.key(0))
    keys = jax.random.split(jax.random.key(1), 3)
    a = np.asarray(net.simulate_batch(params, keys))
    b = np.asarray(net.simulate_batch(params, keys))
    assert a.shape == (3, net.n_steps, net.n) and a.dtype == bool
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a[0], np.asarray(net.simulate(params, keys[0]).spikes))
    # every directly stimulated unit fires in every trial
    assert a[:, :, np.asarray(net.stimulated(params))].any(axis=1).all()


def test_init_has_requested_sparsity_and_no_autapses():
    net = EINetwork(n_exc=200, n_inh=50, p_ee=0.1, p_ie=0.3)
    params = net.init(jax.random.key(3))
    w = np.asarray(params["w_ee"])
    assert np.all(np.diag(w) == 0)
    assert abs((w > 0).mean() - 0.1 * (1 - 1 / 200)) < 0.01
    assert abs((np.asarray(params["w_ie"]) > 0).mean() - 0.3) < 0.02


def test_bad_configuration_is_a_config_error():
    with pytest.raises(ConfigError, match="p_ee"):
        EINetwork(p_ee=1.5)
    with pytest.raises(ConfigError, match="tau_nmda"):
        EINetwork(tau_nmda=(100.0, 2.0))
    with pytest.raises(ConfigError, match="stim_time"):
        EINetwork(stim_time=1000.0)


def test_compiled_trial_matches_plain_numpy_loop(x64):
    """JAX scan vs an independent NumPy step-by-step loop, with recurrent activity and STP."""
    from numpy_homeostasis import simulate_numpy  # benchmarks/references/ (tests/conftest.py)

    net = EINetwork(n_exc=40, n_inh=10, p_ee=0.2, duration=80.0, noise_mv=0.5, stim_frac_exc=0.2, stim_frac_inh=0.1,
                    stp_ee=(0.4, 100.0, 50.0))
    params = net.init(jax.random.key(4))
    params["w_ee"] = params["w_ee"] * 15.0  # strong enough that activity spreads
    noise = np.random.default_rng(0).normal(size=(net.n_steps, net.n))
    trace = net.simulate(params, None, record=True, noise=jnp.asarray(noise))
    spikes_np, v_np = simulate_numpy(net, params, noise)
    spikes = np.asarray(trace.spikes)
    assert spikes.sum() > spikes[:, np.asarray(net.stimulated(params))].sum()  # recurrent spikes happened
    np.testing.assert_array_equal(spikes, spikes_np)
    np.testing.assert_allclose(np.asarray(trace.v), v_np, rtol=0, atol=1e-9)

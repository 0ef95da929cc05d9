"""LIF/ALIF dynamics against an independent NumPy simulation; surrogates against their formulas;
ALIF with β = 0 equals LIF; refractoriness, no autapses, bad settings."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from plastix.errors import ConfigError
from plastix.models import get as get_model
from plastix.models.spiking import SpikingRNN, spike, surrogate_shape
from plastix.rules.eprop import EProp
from plastix.rules.surrogate import SurrogateAutodiff


def numpy_network(model, params, inputs):
    """Eqs. (1)–(6) of models/spiking.py written out step by step, independently of the model."""
    p = {k: np.asarray(v, np.float64) for k, v in params.items()}
    w_rec = p["w_rec"] * (1 - np.eye(model.n_rec))
    T, B, _ = inputs.shape
    alpha, rho, kappa = math.exp(-1 / model.tau_m), math.exp(-1 / model.tau_a), math.exp(-1 / model.tau_out)
    zeta = 1.0 if model.zeta == "1" else 1 - alpha
    zeta_out = 1.0 if model.readout_scale == "1" else 1 - kappa
    beta = np.asarray(model.betas)
    v, a, z = (np.zeros((B, model.n_rec)) for _ in range(3))
    y = np.zeros((B, model.n_out))
    last_spike = np.full((B, model.n_rec), -10**9)
    out = {"v": [], "z": [], "y": [], "psi": []}
    for t in range(T):
        v = alpha * v + zeta * (inputs[t] @ p["w_in"].T + z @ w_rec.T) - model.v_th * z
        a = rho * a + z  # a(t) = ρ a(t−1) + z(t−1)
        threshold = model.v_th + beta * a
        refractory = (t - last_spike) < model.n_ref
        x = (v - threshold) / model.v_th
        z = np.where(refractory, 0.0, (x > 0).astype(float))
        last_spike = np.where(z > 0, t, last_spike)
        psi = np.where(refractory, 0.0, model.gamma_pd / model.v_th * np.maximum(0.0, 1 - np.abs(x)))
        y = kappa * y + zeta_out * z @ p["w_out"].T + p.get("b_out", 0.0)
        for name, val in (("v", v), ("z", z), ("y", y), ("psi", psi)):
            out[name].append(val.copy())
    return {k: np.stack(v) for k, v in out.items()}


@pytest.mark.parametrize("zeta,readout_scale", [("1", "1-kappa"), ("1-alpha", "1")])
def test_dynamics_match_numpy_reference(x64, kit, zeta, readout_scale):
    model = kit.small_network(zeta=zeta, readout_scale=readout_scale, n_ref=4)
    params, trial = kit.params64(model), kit.small_trial(T=60)
    _, aux = jax.jit(model.run)(params, trial.inputs)
    ref = numpy_network(model, params, np.asarray(trial.inputs))
    assert ref["z"].sum() > 30  # the neurons do spike
    np.testing.assert_array_equal(np.asarray(aux.z), ref["z"])
    for name in ("v", "y", "psi"):
        np.testing.assert_allclose(np.asarray(getattr(aux, name)), ref[name], rtol=1e-12, atol=1e-12)


def test_refractory_period_and_pseudo_derivative(x64, kit):
    """After a spike: no spike and ψ = 0 for the next n_ref − 1 steps (minimum ISI n_ref)."""
    n_ref = 4
    model = kit.small_network(n_ref=n_ref)
    params, trial = kit.params64(model), kit.small_trial(T=80)
    _, aux = jax.jit(model.run)(params, trial.inputs)
    z, psi = np.asarray(aux.z), np.asarray(aux.psi)
    times, batch, neuron = np.nonzero(z)
    assert len(times) > 30
    for t, b, j in zip(times, batch, neuron):
        after = slice(t + 1, min(t + n_ref, z.shape[0]))
        assert z[after, b, j].sum() == 0
        assert np.all(psi[after, b, j] == 0)
    # Some neuron fires again exactly n_ref steps later (the period is not longer than stated).
    isi = [np.diff(np.nonzero(z[:, b, j])[0]) for b in range(z.shape[1]) for j in range(z.shape[2])]
    assert min(int(d.min()) for d in isi if d.size) == n_ref


SURROGATE_FORMULAS = {
    "triangle": lambda x, w: np.maximum(0.0, 1 - w * np.abs(x)),
    "fast_sigmoid": lambda x, w: (1 + w * np.abs(x)) ** -2.0,
    "exponential": lambda x, w: np.exp(-w * np.abs(x)),
    "arctan": lambda x, w: 1 / np.pi / (1 + (w * np.pi * x) ** 2),
}


@pytest.mark.parametrize("kind", list(SURROGATE_FORMULAS))
def test_surrogates_against_formulas(x64, kind):
    x = np.linspace(-3, 3, 61)
    for width in (1.0, 2.5):
        np.testing.assert_allclose(np.asarray(surrogate_shape(kind, jnp.asarray(x), width)),
                                   SURROGATE_FORMULAS[kind](x, width), rtol=1e-14, atol=1e-15)
        # The spike function: forward H(x), derivative γ·f(x) (reverse and forward mode).
        gamma = 0.3
        xs = jnp.asarray(x)
        np.testing.assert_array_equal(np.asarray(spike(xs, kind, gamma, width)), (x > 0).astype(float))
        grad = jax.vmap(jax.grad(lambda v: spike(v, kind, gamma, width)))(xs)
        np.testing.assert_allclose(np.asarray(grad), gamma * SURROGATE_FORMULAS[kind](x, width), rtol=1e-14)
        _, tangent = jax.jvp(lambda v: spike(v, kind, gamma, width), (xs,), (jnp.ones_like(xs),))
        np.testing.assert_allclose(np.asarray(tangent), np.asarray(grad), rtol=1e-15)


def test_model_pseudo_derivative_is_the_spike_derivative(x64, kit):
    """ψ reported in aux equals the derivative autodiff uses (dz/dv), for a non-default surrogate."""
    model = kit.small_network(surrogate="fast_sigmoid", surrogate_width=2.0)
    params, trial = kit.params64(model), kit.small_trial(T=30)
    state = model.initial_state(params, trial.batch_size)
    eff = model.effective(params)

    @jax.jit
    def step_with_tangent(state, x_t):
        # v(t) = α v(t−1) + …, so the tangent of z(t) along v(t−1) is α ψ(t)
        (new_state, aux), (_, tangent) = jax.jvp(
            lambda v: model.step(eff, state._replace(v=v), x_t), (state.v,), (jnp.ones_like(state.v),)
        )
        return new_state, aux.psi, tangent.z

    checked = 0
    for t in range(30):
        state, psi, dz = step_with_tangent(state, trial.inputs[t])
        np.testing.assert_allclose(np.asarray(dz), model.alpha * np.asarray(psi), rtol=1e-13, atol=1e-300)
        checked += int((np.asarray(psi) > 0).sum())
    assert checked > 50


def test_alif_with_zero_beta_equals_lif(x64, kit):
    kw = dict(n_in=5, n_rec=8, n_out=2, v_th=0.5, w_in_scale=3.0, w_rec_scale=2.0)
    lif = get_model("lif", **kw)
    alif_zero = get_model("alif", beta=0.0, **kw)
    alif_tuple = SpikingRNN(beta=(0.0,) * 8, n_adaptive=None, **kw)
    assert alif_zero.n_adaptive == 4 and not alif_zero.adaptive and not lif.adaptive
    params, trial = kit.params64(lif), kit.small_trial(T=40)
    runs = [jax.jit(m.run)(params, trial.inputs)[1] for m in (lif, alif_zero, alif_tuple)]
    assert float(runs[0].z.sum()) > 20
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    grads = [jax.jit(lambda p, m=m: EProp(m).trial_grads(p, trial, jax.random.key(0))[0])(params)
             for m in (lif, alif_zero)]
    for name in grads[0]:
        np.testing.assert_array_equal(np.asarray(grads[0][name]), np.asarray(grads[1][name]))
    # and an adapting network is different (the test can fail)
    alif = get_model("alif", beta=0.5, **kw)
    assert float(jnp.abs(jax.jit(alif.run)(params, trial.inputs)[1].z - runs[0].z).sum()) > 0


def test_no_autapses(x64, kit):
    model = kit.small_network()
    params = model.init(jax.random.key(0))
    assert float(jnp.abs(jnp.diag(params["w_rec"])).max()) == 0
    params = kit.params64(model)
    params["w_rec"] = params["w_rec"] + 1.0  # even if the stored diagonal is not zero
    assert float(jnp.abs(jnp.diag(model.effective(params)["w_rec"])).max()) == 0
    grads, _ = jax.jit(lambda p: SurrogateAutodiff(model, detach=False).trial_grads(
        p, kit.small_trial(T=20), jax.random.key(0)))(params)
    assert float(jnp.abs(jnp.diag(grads["w_rec"])).max()) == 0


@pytest.mark.parametrize(
    "settings,field",
    [({"zeta": "alpha"}, "zeta"), ({"readout_scale": "kappa"}, "readout_scale"), ({"surrogate": "relu"}, "surrogate"),
     ({"n_ref": -1}, "n_ref"), ({"beta": -0.1}, "beta"), ({"beta": (0.1, 0.2)}, "beta"), ({"tau_m": 0}, "tau_m"),
     ({"n_adaptive": 9}, "n_adaptive")],
)
def test_bad_settings_name_the_field(settings, field):
    with pytest.raises(ConfigError, match=f"^{field}: got"):
        SpikingRNN(n_in=2, n_rec=8, n_out=1, **settings)

"""e-prop against exact references (float64): the factorisation (paper Eq. 1) against BPTT, the
online rule against autodiff through the detached graph, reward-based e-prop against its
surrogate objective, and e-prop on a rate RNN against RFLO and its own detached autodiff."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import pytest

from plastix.models.rate import RateRNN
from plastix.rules.base import loss_value
from plastix.rules.eprop import EProp
from plastix.rules.eprop_blocks import eligibility_traces
from plastix.rules.eprop_reward import RewardEProp
from plastix.rules.surrogate import SurrogateAutodiff, rate_regulariser
from plastix.rules.rflo import RFLO
from plastix.tasks.base import Trial


def _grads(rule, params, trial, key=None):
    """One jitted ``trial_grads`` call (one compilation instead of many small ones)."""
    key = jax.random.key(0) if key is None else key
    return jax.jit(lambda p: rule.trial_grads(p, trial, key))(params)


def _factorised(model, params, trial, n_in):
    """Σ_t (dE/dz_t)·e_t with dE/dz_t the total derivative (autodiff w.r.t. a zero spike shift)."""
    return _factorised_with_traces(model, model, params, trial, n_in)


def _factorised_with_traces(model, trace_model, params, trial, n_in):
    """As ``_factorised``, with the eligibility traces computed as for ``trace_model``."""
    T, B = trial.inputs.shape[:2]

    def loss(p, shift):
        _, aux = model.run(p, trial.inputs, spike_shift=shift)
        return loss_value(aux.y, trial.targets, trial.mask, T)

    shift = jnp.zeros((T, B, model.n_rec), jnp.float64)
    bptt, d_e_d_z = jax.jit(jax.grad(loss, argnums=(0, 1)))(params, shift)
    _, aux = jax.jit(model.run)(params, trial.inputs)
    e = jax.jit(lambda a: eligibility_traces(trace_model, a))(aux)
    g = jnp.einsum("tbj,tbji->ji", d_e_d_z, e)
    return bptt, {"w_in": g[:, :n_in], "w_rec": model.mask_grads({"w_rec": g[:, n_in:]})["w_rec"]}, aux


def test_factorisation_equals_bptt(x64, kit):
    model = kit.small_network()
    params, trial = kit.params64(model), kit.small_trial(T=50)
    bptt, factorised, aux = _factorised(model, params, trial, kit.N_IN)
    # The test must exercise spikes, the adaptation and the refractory period.
    assert float(aux.z[:, :, 4:].sum()) > 20 and float(aux.z[:, :, :4].sum()) > 20
    assert float(((aux.psi == 0) & (jnp.abs(aux.v - aux.threshold) < model.v_th)).sum()) > 0  # refractory
    for name in ("w_in", "w_rec"):
        assert float(jnp.linalg.norm(bptt[name])) > 1e-3
        assert kit.rel_err(factorised[name], bptt[name]) < 1e-10, name
    # Negative control: dropping the adaptation component ε_a of the eligibility vector breaks it.
    no_adaptation = dataclasses.replace(model, beta=(0.0,) * model.n_rec)
    _, wrong, _ = _factorised_with_traces(model, no_adaptation, params, trial, kit.N_IN)
    assert kit.rel_err(wrong["w_in"], bptt["w_in"]) > 1e-3


@pytest.mark.parametrize("zeta", ["1", "1-alpha"])
@pytest.mark.parametrize("readout_scale", ["1-kappa", "1"])
def test_online_eprop_equals_detached_autodiff(x64, kit, zeta, readout_scale):
    """Symmetric e-prop (blocked, with rate regularisation) = BPTT on the detached graph."""
    model = kit.small_network(zeta=zeta, readout_scale=readout_scale)
    params, trial = kit.params64(model), kit.small_trial(T=50)
    reg = {"reg_rate": 0.7, "target_rate": 30.0}
    reference, _ = _grads(SurrogateAutodiff(model, detach=True, **reg), params, trial)
    online, metrics = _grads(EProp(model, block_steps=8, **reg), params, trial)
    for name in reference:
        assert float(jnp.linalg.norm(reference[name])) > 1e-4, name
        assert kit.rel_err(online[name], reference[name]) < 1e-10, name
    _, aux = model.run(params, trial.inputs)
    assert float(metrics["loss"]) == pytest.approx(float(loss_value(aux.y, trial.targets, trial.mask, 50)), rel=1e-12)


def test_per_step_recursion_and_xent_equal_detached_autodiff(x64, kit):
    """The literal per-step recursion (block_steps=1), with the cross-entropy loss."""
    model = kit.small_network()
    params, trial = kit.params64(model), kit.small_trial(T=40, loss="xent")
    reference, _ = _grads(SurrogateAutodiff(model, detach=True, loss="xent"), params, trial)
    online, _ = _grads(EProp(model, block_steps=1, loss="xent"), params, trial)
    for name in reference:
        assert kit.rel_err(online[name], reference[name]) < 1e-10, name


def test_detached_autodiff_is_not_bptt(x64, kit):
    """Guard: the approximation is a real one on this network (the tests above can fail)."""
    model = kit.small_network()
    params, trial = kit.params64(model), kit.small_trial(T=50)
    detached, _ = _grads(SurrogateAutodiff(model, detach=True), params, trial)
    exact, _ = _grads(SurrogateAutodiff(model, detach=False), params, trial)
    assert kit.rel_err(detached["w_rec"], exact["w_rec"]) > 1e-2
    assert kit.rel_err(detached["w_out"], exact["w_out"]) < 1e-12  # the readout gradient is exact in both


def test_reward_eprop_equals_autodiff_of_its_objective(x64, kit):
    model = kit.small_network(n_out=3)
    params = kit.params64(model)
    trial = kit.small_trial(T=40, B=4, loss="xent")
    gamma, value_cost, key = 0.95, 0.7, jax.random.key(5)
    rule = RewardEProp(model, gamma=gamma, value_cost=value_cost, block_steps=7, reg_rate=0.3, target_rate=30.0)
    grads, metrics = _grads(rule, params, trial, key)

    T, B = trial.inputs.shape[:2]
    gumbel = jax.random.gumbel(jax.random.split(key)[1], (B, 2), jnp.float64)
    window = trial.mask[..., 0] / trial.mask[..., 0].sum(0)
    _, aux = jax.jit(model.run)(params, trial.inputs)
    mean_logits = jnp.einsum("tb,tbo->bo", window, aux.y[..., :2])
    action = jnp.argmax(mean_logits + gumbel, -1)
    reward = trial.targets[-1, jnp.arange(B), action]
    advantage = (gamma ** jnp.arange(T - 1, -1, -1))[:, None] * reward[None] - aux.y[..., 2]

    def surrogate(p):
        _, a = model.run(p, trial.inputs, detach=True)
        log_pi = jax.nn.log_softmax(jnp.einsum("tb,tbo->bo", window, a.y[..., :2]))[jnp.arange(B), action]
        ascent = jnp.sum(advantage[-1] * log_pi) + value_cost * jnp.sum(advantage * a.y[..., 2])
        return -ascent / (T * B) + rate_regulariser(a.z, 0.3, 30.0)

    reference = jax.jit(jax.grad(surrogate))(params)
    assert float(metrics["reward"]) == pytest.approx(float(reward.mean()))
    for name in reference:
        assert kit.rel_err(grads[name], reference[name]) < 1e-10, name


def test_rate_network_eprop_is_rflo_and_detached_autodiff(x64, kit):
    """For leaky rate units e-prop's trace is RFLO's local trace; both equal BPTT with the
    recurrent input W h(t−1) detached (the leak path kept)."""
    model = RateRNN(n_in=3, n_rec=6, n_out=2, tau=5.0)
    params = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), model.init(jax.random.key(0)))
    x = jax.random.normal(jax.random.key(1), (30, 2, 3), jnp.float64)
    y = jax.random.normal(jax.random.key(2), (30, 2, 2), jnp.float64)
    trial = Trial(x, y, jnp.ones_like(y))
    eprop, _ = _grads(EProp(model), params, trial)
    rflo, _ = _grads(RFLO(model, feedback="symmetric"), params, trial)

    def detached_loss(p):
        def step(h, x_t):
            u = jax.lax.stop_gradient(h) @ p["w_rec"].T + x_t @ p["w_in"].T
            h = h + model.alpha * (jnp.tanh(u) - h)
            return h, h @ p["w_out"].T

        _, out = jax.lax.scan(step, model.initial_state(p, 2), x)
        return loss_value(out, y, trial.mask, 30)

    reference = jax.jit(jax.grad(detached_loss))(params)
    for name in reference:
        assert kit.rel_err(eprop[name], rflo[name]) < 1e-12, name
        assert kit.rel_err(eprop[name], reference[name]) < 1e-10, name

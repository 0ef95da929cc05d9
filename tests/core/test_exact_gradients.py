"""BPTT, RTRL and finite differences agree (float64), and RFLO's relations to RTRL."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import oracle
import plastix as px
from plastix.rules.base import FeedbackState, Stretch


def small_problem(noise_std=0.0, sparsity=0.0, dale=False, n_steps=25):
    model = px.models.RateRNN(n_in=2, n_rec=5, n_out=2, tau=3.0, bias=True, noise_std=noise_std,
                              sparsity=sparsity, dale=dale)
    params = jax.tree_util.tree_map(lambda a: a.astype(jnp.float64), model.init(jax.random.key(0)))
    params["b_rec"] = 0.1 * jnp.arange(5.0) - 0.2
    params["b_out"] = jnp.array([0.3, -0.1])
    k1, k2, k3 = jax.random.split(jax.random.key(7), 3)
    inputs = jax.random.normal(k1, (n_steps, 3, 2))
    targets = jax.random.normal(k2, (n_steps, 3, 2))
    mask = (jax.random.uniform(k3, (n_steps, 3, 2)) > 0.4) * 1.0  # partial loss mask
    return model, params, px.tasks.Trial(inputs, targets, mask)


@pytest.mark.parametrize("noise_std", [0.0, 0.05])
def test_bptt_equals_rtrl_equals_finite_differences(x64, noise_std):
    model, params, trial = small_problem(noise_std=noise_std)
    key = jax.random.key(3)
    bptt, m_b = px.rules.get("bptt", model).trial_grads(params, trial, key)
    rtrl, m_r = px.rules.get("rtrl", model).trial_grads(params, trial, key)
    fd = oracle.finite_differences(oracle.loss_function(model, trial, key), params)
    assert float(m_b["loss"]) == pytest.approx(float(m_r["loss"]), rel=1e-12)
    assert oracle.rel_error(bptt, fd) < 1e-6
    assert oracle.rel_error(rtrl, fd) < 1e-6
    assert oracle.rel_error(rtrl, bptt) < 1e-10
    for name in params:  # every parameter, not only the vector as a whole
        np.testing.assert_allclose(rtrl[name], fd[name], rtol=1e-5, atol=1e-9)


def test_exact_rules_respect_sparsity_and_dale(x64):
    model, params, trial = small_problem(sparsity=0.4, dale=True)
    key = jax.random.key(3)
    bptt, _ = px.rules.get("bptt", model).trial_grads(params, trial, key)
    rtrl, _ = px.rules.get("rtrl", model).trial_grads(params, trial, key)
    assert oracle.rel_error(rtrl, bptt) < 1e-10
    mask = np.asarray(model.rec_mask())
    assert (mask == 0).any()
    assert np.all(np.asarray(rtrl["w_rec"])[mask == 0] == 0)
    rflo, _ = px.rules.get("rflo", model).trial_grads(params, trial, key)
    assert np.all(np.asarray(rflo["w_rec"])[mask == 0] == 0)


def test_rflo_symmetric_equals_rtrl_for_one_step_only(x64):
    model, params, trial = small_problem(n_steps=6)
    key = jax.random.key(0)
    sym = px.rules.get("rflo_symmetric", model)
    rtrl = px.rules.get("rtrl", model)
    one = px.tasks.Trial(trial.inputs[:1], trial.targets[:1], jnp.ones_like(trial.mask[:1]))
    g_sym, _ = sym.trial_grads(params, one, key)
    g_rtrl, _ = rtrl.trial_grads(params, one, key)
    assert oracle.rel_error(g_sym, g_rtrl) < 1e-12
    g_sym, _ = sym.trial_grads(params, trial, key)
    g_rtrl, _ = rtrl.trial_grads(params, trial, key)
    assert np.linalg.norm(g_sym["w_rec"] - g_rtrl["w_rec"]) / np.linalg.norm(g_rtrl["w_rec"]) > 1e-3
    # the readout gradient is exact in every variant
    np.testing.assert_allclose(g_sym["w_out"], g_rtrl["w_out"], rtol=1e-12)


def test_nonlocal_symmetric_rflo_equals_rtrl_and_bptt(x64):
    model, params, trial = small_problem()
    key = jax.random.key(0)
    nonlocal_sym, _ = px.rules.get("rflo", model, feedback="symmetric", locality="nonlocal").trial_grads(
        params, trial, key
    )
    bptt, _ = px.rules.get("bptt", model).trial_grads(params, trial, key)
    assert oracle.rel_error(nonlocal_sym, bptt) < 1e-10


def test_random_feedback_uses_fixed_matrix(x64):
    model, params, trial = small_problem()
    rule = px.rules.get("rflo", model, feedback_scale=0.5)
    state = rule.init(params, jax.random.key(4))
    assert state.feedback.shape == (5, 2)
    g1, _ = rule.trial_grads(params, trial, jax.random.key(0), state)
    g2, _ = rule.trial_grads(params, trial, jax.random.key(0), FeedbackState(2 * state.feedback))
    # the learning signal is linear in B: doubling B doubles recurrent-side gradients only
    np.testing.assert_allclose(g2["w_rec"], 2 * g1["w_rec"], rtol=1e-12)
    np.testing.assert_allclose(g2["w_out"], g1["w_out"], rtol=1e-12)


@pytest.mark.parametrize("rule_name", ["rflo", "rtrl", "rflo_symmetric"])
def test_online_segments_with_frozen_weights_sum_to_trial_gradient(x64, rule_name):
    model, params, trial = small_problem(n_steps=24)
    rule = px.rules.get(rule_name, model)
    state = rule.init(params, jax.random.key(1))
    whole, metrics = rule.trial_grads(params, trial, jax.random.key(0), state)
    carry = rule.init_carry(params, trial.batch_size, jax.random.key(1))
    total = jax.tree_util.tree_map(jnp.zeros_like, params)
    loss = 0.0
    for start in range(0, 24, 6):
        sl = slice(start, start + 6)
        carry, g, m = rule.segment(params, state, carry, Stretch(trial.inputs[sl], trial.targets[sl], trial.mask[sl]), 24)
        total = jax.tree_util.tree_map(jnp.add, total, g)
        loss += float(m["loss"])
    assert oracle.rel_error(total, whole) < 1e-12
    assert loss == pytest.approx(float(metrics["loss"]), rel=1e-12)


def test_paper_input_lag_changes_only_input_weights(x64):
    model, params, trial = small_problem()
    exact, _ = px.rules.get("rflo", model).trial_grads(params, trial, jax.random.key(0))
    lagged, _ = px.rules.get("rflo", model, paper_input_lag=True).trial_grads(params, trial, jax.random.key(0))
    np.testing.assert_allclose(lagged["w_rec"], exact["w_rec"], rtol=1e-12)
    assert not np.allclose(lagged["w_in"], exact["w_in"])


def test_readout_rule_trains_only_readout(x64):
    model, params, trial = small_problem()
    g, _ = px.rules.get("readout", model).trial_grads(params, trial, jax.random.key(0))
    exact, _ = px.rules.get("bptt", model).trial_grads(params, trial, jax.random.key(0))
    assert np.all(np.asarray(g["w_rec"]) == 0) and np.all(np.asarray(g["w_in"]) == 0)
    np.testing.assert_allclose(g["w_out"], exact["w_out"], rtol=1e-10)
    np.testing.assert_allclose(g["b_out"], exact["b_out"], rtol=1e-10)


def test_cross_entropy_loss_exact(x64):
    model, params, trial = small_problem()
    onehot = jax.nn.one_hot(jnp.argmax(trial.targets, -1), 2)
    # cross-entropy masks whole time steps: the same mask value for every output
    trial = trial._replace(targets=onehot, mask=jnp.repeat(trial.mask[..., :1], 2, axis=-1))
    bptt, _ = px.rules.get("bptt", model, loss="xent").trial_grads(params, trial, jax.random.key(0))
    rtrl, _ = px.rules.get("rtrl", model, loss="xent").trial_grads(params, trial, jax.random.key(0))
    assert oracle.rel_error(rtrl, bptt) < 1e-10

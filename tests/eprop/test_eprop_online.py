"""Online e-prop equals its end-of-trial computation; stretches add up; memory is flat in T."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from plastix.rules.base import Stretch, output_error
from plastix.rules.bptt import BPTT
from plastix.rules.eprop import EProp
from plastix.rules.eprop_blocks import eligibility_traces
from plastix.tasks.base import Trial


def _end_of_trial(model, params, trial, feedback, reg_rate, target_rate):
    """Everything stored for the whole trial, then contracted (the TF reference's way, in NumPy)."""
    T, B = trial.inputs.shape[:2]
    _, aux = model.run(params, trial.inputs)
    e = np.asarray(eligibility_traces(model, aux))  # (T, B, N, M)
    kappa, c = model.kappa, model.output_scale
    ebar, z_out, s_out = np.zeros_like(e[0]), np.zeros_like(np.asarray(aux.z[0])), 0.0
    err = -np.asarray(output_error(aux.y, trial.targets, trial.mask)) / (T * B)  # ∂L/∂y
    g, g_out, g_b = 0.0, 0.0, 0.0
    for t in range(T):
        ebar = kappa * ebar + c * e[t]
        z_out = kappa * z_out + c * np.asarray(aux.z[t])
        s_out = kappa * s_out + 1.0
        signal = err[t] @ np.asarray(feedback).T  # (B, N)
        g = g + np.einsum("bj,bji->ji", signal, ebar)
        g_out = g_out + err[t].T @ z_out
        g_b = g_b + err[t].sum(0) * s_out
    rate = np.asarray(aux.z).mean((0, 1))
    g = g + reg_rate * (rate - target_rate / 1000.0)[:, None] * e.sum((0, 1)) / (T * B)
    n_in = model.n_in
    w_rec = g[:, n_in:] * (1 - np.eye(model.n_rec))
    return {"w_in": g[:, :n_in], "w_rec": w_rec, "w_out": g_out, "b_out": g_b}


def test_online_equals_end_of_trial(x64, kit):
    """Per-step streaming and the blocked computation equal the stored-trace computation."""
    model = kit.small_network()
    params, trial = kit.params64(model), kit.small_trial(T=48)
    reg = {"reg_rate": 0.5, "target_rate": 20.0}
    rule_step = EProp(model, feedback="random", block_steps=1, **reg)
    rule_state = rule_step.init(params, jax.random.key(3))
    reference = _end_of_trial(model, params, trial, rule_state.feedback, **reg)
    for block_steps in (1, 16):
        rule = EProp(model, feedback="random", block_steps=block_steps, **reg)
        grads, _ = jax.jit(lambda p: rule.trial_grads(p, trial, jax.random.key(0), rule_state))(params)
        for name, ref in reference.items():
            assert kit.rel_err(grads[name], jnp.asarray(ref)) < 1e-10, (block_steps, name)


def test_stretches_add_up_to_the_trial(x64, kit):
    """With weights frozen, the stretches of ``update_every`` (carry passed on) sum to the trial."""
    model = kit.small_network(zeta="1-alpha")
    params, trial = kit.params64(model), kit.small_trial(T=48)
    rule = EProp(model, feedback="random", block_steps=5)  # 5 does not divide 12: blocks of 4
    rule_state = rule.init(params, jax.random.key(3))
    whole, whole_metrics = rule.trial_grads(params, trial, jax.random.key(0), rule_state)
    carry = rule.init_carry(params, trial.batch_size, jax.random.key(1))
    total, loss = jax.tree_util.tree_map(jnp.zeros_like, whole), 0.0
    segment = jax.jit(lambda c, xs: rule.segment(params, rule_state, c, Stretch(*xs), 48))
    for k in range(4):
        part = slice(12 * k, 12 * (k + 1))
        carry, grads, metrics = segment(carry, (trial.inputs[part], trial.targets[part], trial.mask[part]))
        total = jax.tree_util.tree_map(jnp.add, total, grads)
        loss = loss + metrics["loss"]
    for name in whole:
        assert kit.rel_err(total[name], whole[name]) < 1e-10, name
    assert abs(float(loss) / float(whole_metrics["loss"]) - 1) < 1e-12


def _temp_bytes(rule, model, n_steps):
    params = model.init(jax.random.key(0))
    rule_state = rule.init(params, jax.random.key(1))
    x = jnp.zeros((n_steps, 1, model.n_in))
    y = jnp.zeros((n_steps, 1, model.n_out))
    f = jax.jit(lambda p, t: rule.trial_grads(p, t, jax.random.key(0), rule_state)[0])
    return f.lower(params, Trial(x, y, y)).compile().memory_analysis().temp_size_in_bytes


def test_memory_is_flat_in_trial_length(kit):
    """XLA's buffer plan: e-prop's working memory does not grow with T; BPTT's does."""
    model = kit.small_network()
    eprop = [_temp_bytes(EProp(model, block_steps=50), model, T) for T in (200, 4000)]
    bptt = [_temp_bytes(BPTT(model), model, T) for T in (200, 4000)]
    assert eprop[1] < 1.1 * eprop[0] + 1024
    assert bptt[1] > 10 * bptt[0]

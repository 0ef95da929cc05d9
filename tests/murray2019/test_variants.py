"""The Murray 2019 model/rule variants against independent references."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from plastix import rules
from plastix.experiments.murray2019_variants import GainScaledReadoutRNN, NonlocalFeedbackAdjoint
from plastix.models import RateRNN
from plastix.models.output_feedback import OutputFeedbackRNN
from plastix.tasks import Trial
from plastix.tasks.periodic import Periodic
from plastix.training import Trainer, make_optimizer


def _random_trial(n_in, n_out, T=25, B=3, seed=0):
    k1, k2, k3 = jax.random.split(jax.random.key(seed), 3)
    x = jax.random.normal(k1, (T, B, n_in))
    y = jax.random.normal(k2, (T, B, n_out))
    mask = (jax.random.uniform(k3, (T, B, n_out)) > 0.3) * 1.0
    return Trial(x, y, mask)


@pytest.mark.parametrize("feedback", ["random", "symmetric"])
@pytest.mark.parametrize("settings", [dict(), dict(bias=True), dict(sparsity=0.3, dale=True)])
def test_adjoint_equals_forward_mode_nonlocal_rule(x64, feedback, settings):
    """Reverse-mode estimate == the foundation's O(N⁴) forward-mode recursion, to float64 precision."""
    model = RateRNN(n_in=2, n_rec=6, n_out=2, noise_std=0.05, **settings)
    params = model.constrain(model.init(jax.random.key(1)))
    trial = _random_trial(2, 2)
    forward = rules.get("rflo_nonlocal", model, feedback=feedback)
    reverse = NonlocalFeedbackAdjoint(model, feedback=feedback)
    rs_f = forward.init(params, jax.random.key(9))
    rs_r = reverse.init(params, jax.random.key(9))
    if feedback == "random":
        np.testing.assert_array_equal(rs_f.feedback, rs_r.feedback)  # same B for the same key
    key = jax.random.key(3)
    g_f, m_f = forward.trial_grads(params, trial, key, rs_f)
    g_r, m_r = reverse.trial_grads(params, trial, key, rs_r)
    for name in params:
        scale = float(jnp.max(jnp.abs(g_f[name]))) + 1e-300
        assert float(jnp.max(jnp.abs(g_f[name] - g_r[name]))) <= 1e-12 * max(scale, 1.0), name
    assert abs(float(m_f["loss"]) - float(m_r["loss"])) < 1e-14


def test_adjoint_symmetric_is_exact_gradient(x64):
    """With W_outᵀ feedback the estimate is the exact gradient (central finite differences)."""
    model = RateRNN(n_in=1, n_rec=5, n_out=1)
    params = model.init(jax.random.key(2))
    trial = _random_trial(1, 1, T=20, B=2, seed=5)
    grads, _ = NonlocalFeedbackAdjoint(model, feedback="symmetric").trial_grads(params, trial, jax.random.key(0))

    def loss(p):
        _, aux = model.run(p, trial.inputs)
        return 0.5 * jnp.sum((trial.mask * (trial.targets - aux.y)) ** 2) / (trial.n_steps * trial.batch_size)

    eps = 1e-6
    for name, idx in (("w_rec", (1, 3)), ("w_in", (4, 0)), ("w_out", (0, 2))):
        plus = {**params, name: params[name].at[idx].add(eps)}
        minus = {**params, name: params[name].at[idx].add(-eps)}
        fd = (loss(plus) - loss(minus)) / (2 * eps)
        assert abs(float(grads[name][idx]) - float(fd)) < 1e-8


def test_adjoint_trains_like_forward_rule():
    """Same seeds, same trials: the training curves of the two implementations coincide."""
    model = RateRNN(n_in=1, n_rec=6, n_out=1)
    task = Periodic(period=30)
    runs = []
    for rule in (rules.get("rflo_nonlocal", model), NonlocalFeedbackAdjoint(model)):
        runs.append(Trainer(model, task, rule, make_optimizer("sgd", 0.05), chunk=4).fit(8, n_seeds=2).losses)
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-4)
    assert not np.allclose(runs[0][:, 0], runs[0][:, -1])  # the weights did move


def test_output_feedback_dynamics_match_numpy_reference():
    """u(t) = W h(t−1) + W_in x(t) + B y(t−1), written out step by step in NumPy."""
    model = OutputFeedbackRNN(n_in=2, n_rec=7, n_out=2, feedback_std=0.8)
    params = model.init(jax.random.key(4))
    x = np.asarray(jax.random.normal(jax.random.key(5), (15, 1, 2)))
    _, aux = model.run(params, jnp.asarray(x))
    W, W_in, W_out, B = (np.asarray(params[k], dtype=float) for k in ("w_rec", "w_in", "w_out", "w_fb"))
    h = np.full(7, model.h0)
    ys = []
    for t in range(15):
        y_prev = W_out @ h
        u = W @ h + W_in @ x[t, 0] + B @ y_prev
        h = h + (np.tanh(u) - h) / model.tau
        ys.append(W_out @ h)
    np.testing.assert_allclose(np.asarray(aux.y[:, 0]), np.array(ys), rtol=1e-5, atol=1e-6)


def test_output_feedback_shares_base_weights_and_readout_rule_freezes_feedback():
    key = jax.random.key(11)
    base = RateRNN(n_in=1, n_rec=8, n_out=1).init(key)
    model = OutputFeedbackRNN(n_in=1, n_rec=8, n_out=1)
    params = model.init(key)
    for name in base:
        np.testing.assert_array_equal(base[name], params[name])
    assert params["w_fb"].shape == (8, 1)
    res = Trainer(model, Periodic(period=20), rules.get("readout", model), make_optimizer("sgd", 0.05), chunk=5).fit(5)
    final = jax.tree_util.tree_map(lambda a: a[0], res.state.params)
    start = model.init(jax.random.split(jax.random.fold_in(jax.random.key(0), 0), 3)[0])
    np.testing.assert_array_equal(final["w_fb"], start["w_fb"])
    np.testing.assert_array_equal(final["w_rec"], start["w_rec"])
    assert not np.allclose(final["w_out"], start["w_out"])


def test_gain_scaled_readout():
    key = jax.random.key(3)
    base = RateRNN(n_in=1, n_rec=12, n_out=1, g=0.7).init(key)
    scaled = GainScaledReadoutRNN(n_in=1, n_rec=12, n_out=1, g=0.7).init(key)
    np.testing.assert_allclose(scaled["w_out"], 0.7 * base["w_out"], rtol=1e-6)
    np.testing.assert_array_equal(scaled["w_rec"], base["w_rec"])
    assert float(jnp.max(jnp.abs(scaled["w_out"]))) <= 0.7 / np.sqrt(12) + 1e-7


def test_output_feedback_rejects_negative_std():
    from plastix.errors import ConfigError

    with pytest.raises(ConfigError, match="feedback_std"):
        OutputFeedbackRNN(n_in=1, n_rec=3, n_out=1, feedback_std=-1.0)

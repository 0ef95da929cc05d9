"""Training loop, baselines and data: a backprop MLP checked by finite differences, per-layer SGD,
divergence reporting, XOR learned by contrastive learning, the bundled digits split."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plastix.energy as pe
from plastix.errors import ConfigError, DivergenceError


def test_mlp_gradient_matches_finite_differences(x64):
    mlp = pe.MLP((3, 4, 2), activation="logistic")
    p = mlp.init(jax.random.key(0), bias=0.1)
    x, t = jax.random.uniform(jax.random.key(1), (5, 3)), jax.random.uniform(jax.random.key(2), (5, 2))
    g, _ = mlp.grads(p, x, t)
    loss = lambda q: float(jnp.mean(0.5 * jnp.sum((mlp.forward(q, x) - t) ** 2, -1)))
    for k, idx in [(0, (1, 2)), (1, (3, 0))]:
        up = {"W": [w.at[idx].add(1e-6) if i == k else w for i, w in enumerate(p["W"])], "b": p["b"]}
        dn = {"W": [w.at[idx].add(-1e-6) if i == k else w for i, w in enumerate(p["W"])], "b": p["b"]}
        assert (loss(up) - loss(dn)) / 2e-6 == pytest.approx(float(g["W"][k][idx]), rel=1e-6)


def test_layerwise_sgd_scales_each_layer():
    opt = pe.layerwise_sgd([0.5, 0.1])
    g = {"W": [jnp.ones((2, 3)), jnp.ones((3, 1))], "b": [jnp.ones(3), jnp.ones(1)]}
    upd, _ = opt.update(g, opt.init(g))
    assert float(upd["W"][0][0, 0]) == -0.5 and float(upd["b"][1][0]) == pytest.approx(-0.1)
    with pytest.raises(ConfigError, match="learning_rates"):
        pe.layerwise_sgd([0.1]).update(g, None)


def test_contrastive_learning_solves_xor_and_fit_seeds_runs_networks_in_parallel():
    net = pe.FixedPointNet((2, 8, 1), activation="logistic", max_iter=100, tol=1e-4)
    rule = pe.baldi_pineda(net, "soft_clamp", 1.0)
    params, hist = pe.fit_seeds(rule, pe.xor(), [0, 1, 2], epochs=600, batch_size=4, lr=2.0, eval_every=600,
                                init_kw={"gain": 2.0})
    assert jax.tree_util.tree_leaves(params)[0].shape[0] == 3
    accs = [h[-1]["test_accuracy"] for h in hist]
    assert accs.count(1.0) >= 2, accs
    assert all(h[-1]["loss"] < h[0]["loss"] for h in hist)


def test_divergence_is_reported_with_rule_and_epoch():
    mlp = pe.MLP((2, 3, 1), activation="logistic")
    data = pe.Dataset("bad", np.array([[np.nan, 0.0]], np.float32), np.ones((1, 1), np.float32),
                      np.zeros((1, 2), np.float32), np.ones((1, 1), np.float32))
    with pytest.raises(DivergenceError, match="rule backprop: non-finite loss at epoch 1"):
        pe.fit(mlp, mlp.init(jax.random.key(0)), data, epochs=2, batch_size=1, lr=0.1)


def test_bundled_digits_and_rule_registry():
    d = pe.digits()
    assert d.x_train.shape == (1347, 64) and d.x_test.shape == (450, 64)
    assert d.x_train.min() >= 0 and d.x_train.max() <= 1 and np.allclose(d.y_train.sum(1), 1)
    b = pe.digits(coding="bipolar")
    assert b.x_train.min() == -1 and set(np.unique(b.y_train)) == {-1.0, 1.0}
    net = pe.FixedPointNet((64, 10, 10))
    assert pe.get("eqprop", net, beta=0.2).name == "eqprop" and isinstance(pe.get("rbp", net), pe.RecurrentBackprop)
    assert pe.get("backprop", net).layer_sizes == (64, 10, 10)
    with pytest.raises(ConfigError, match="rule"):
        pe.get("hebb", net)

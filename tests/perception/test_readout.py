"""Readouts: the delta rule reaches least squares, logistic regression the exact optimum."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from plastix.errors import ConfigError
from plastix.perception import readout as ro


def toy(n=120, f=6, c=3, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(c, f)) * 1.5
    labels = np.arange(n) % c
    features = centres[labels] + rng.normal(size=(n, f))
    return features, labels


def test_delta_rule_grads_are_the_normalised_squared_error_gradient(x64):
    rng = np.random.default_rng(1)
    params = {"weights": jnp.asarray(rng.normal(size=(5, 3))), "bias": jnp.asarray(rng.normal(size=3))}
    x, t = jnp.asarray(rng.normal(size=5)), jnp.asarray([0.0, 1.0, 0.0])

    def loss(p):
        y = x @ p["weights"] + p["bias"]
        return 0.5 * jnp.sum((t - y) ** 2) / (x @ x + 1.0)

    expected = jax.grad(loss)(params)
    got = ro.delta_rule_grads(params, x, t)
    for k in params:
        np.testing.assert_allclose(got[k], expected[k], rtol=1e-12)


def test_delta_rule_converges_to_least_squares(x64):
    """Its fixed point, E[(t − y) x̂ / (‖x̂‖² + 1)] = 0, is least squares weighted by 1/(‖x̂‖² + 1)."""
    features, labels = toy()
    mean, scale = ro.standardisation(jnp.asarray(features))
    z = np.asarray((features - mean) / scale)
    params = ro.delta_rule_trainer(epochs=300, learning_rate=0.3)(jnp.asarray(z), jnp.asarray(labels), jax.random.key(0))
    design = np.hstack([z, np.ones((len(z), 1))])
    root_weights = 1.0 / np.sqrt((z**2).sum(axis=1) + 1.0)
    solution = np.linalg.lstsq(design * root_weights[:, None], np.eye(3)[labels] * root_weights[:, None], rcond=None)[0]
    np.testing.assert_allclose(np.asarray(params["weights"]), solution[:-1], atol=2e-2)
    np.testing.assert_allclose(np.asarray(params["bias"]), solution[-1], atol=2e-2)


def test_logistic_regression_reaches_the_regularised_optimum(x64):
    """Compare with scikit-learn's L-BFGS on the same objective: mean CE + (λ/2)‖W‖² ⇔ C = 1/(λN)."""
    from sklearn.linear_model import LogisticRegression

    features, labels = toy(seed=2)
    l2 = 0.05
    model = ro.fit_readout(ro.logistic_regression_trainer(steps=3000, learning_rate=0.05, l2=l2), features, labels, jax.random.key(0))
    z = np.asarray((features - model.feature_mean) / model.feature_scale)
    sk = LogisticRegression(C=1.0 / (l2 * len(z)), tol=1e-10, max_iter=10000).fit(z, labels)
    ours = jax.nn.softmax(ro.scores(model, features))
    np.testing.assert_allclose(np.asarray(ours), sk.predict_proba(z), atol=2e-3)


def test_fit_and_accuracy_on_separable_data():
    features, labels = toy(seed=3)
    for method in ("delta", "logistic"):
        model = ro.fit_readout(method, features, labels, jax.random.key(1))
        assert ro.accuracy(model, features, labels) > 0.9


def test_registered_trainer_is_called_with_standardised_features():
    seen = {}

    def trainer(features, labels, key):
        seen["mean"] = float(jnp.abs(features.mean(axis=0)).max())
        seen["classes"] = int(labels.max()) + 1
        return {"weights": jnp.zeros((features.shape[1], 3)), "bias": jnp.asarray([0.0, 1.0, 0.0])}

    ro.register_trainer("test-constant", trainer, local=True)
    try:
        features, labels = toy()
        model = ro.fit_readout("test-constant", features + 100.0, labels, jax.random.key(0))
        assert seen["mean"] < 1e-4 and seen["classes"] == 3
        assert set(ro.predict(model, features)) == {1}
    finally:
        ro.TRAINERS.pop("test-constant")
        ro.LOCAL.pop("test-constant")


def test_readout_errors():
    features, labels = toy()
    with pytest.raises(ConfigError, match="readout: got 'nope'"):
        ro.fit_readout("nope", features, labels, jax.random.key(0))
    with pytest.raises(ConfigError, match="labels"):
        ro.fit_readout("delta", features, labels + 1, jax.random.key(0))
    with pytest.raises(ConfigError, match="learning_rate"):
        ro.delta_rule_trainer(learning_rate=2.5)


@pytest.mark.parametrize("name", ["node-perturbation", "weight-perturbation"])
def test_perturbation_readouts_are_registered_local_and_learn(name):
    rng = np.random.default_rng(0)
    centres = 2.0 * rng.standard_normal((3, 20))
    labels = np.repeat(np.arange(3), 100)
    features = centres[labels] + rng.standard_normal((300, 20))
    assert ro.LOCAL[name]
    model = ro.fit_readout(name, features[::2], labels[::2], jax.random.key(0))
    assert ro.accuracy(model, features[1::2], labels[1::2]) > 0.9

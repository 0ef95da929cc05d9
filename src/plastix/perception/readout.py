"""Linear readouts of features, trained by a local rule or by the exact gradient (both with optax).

A readout maps a feature vector ``x ∈ ℝ^F`` to class scores ``y = Wᵀ x̂ + b ∈ ℝ^C``, where
``x̂ = (x − μ) / s`` is standardised with the training set's mean and standard deviation (features
that never vary get ``s = 1``).  The predicted class is ``argmax y``.

**Delta rule** (Widrow & Hoff 1960, in their normalised "α-LMS" form; local).  Linear outputs,
one-hot targets ``t``, one training example at a time, in a fresh random order each epoch:

    ΔW_ij = η_k (t_j − y_j) x̂_i / (‖x̂‖² + 1),     Δb_j = η_k (t_j − y_j) / (‖x̂‖² + 1)

(the bias is a weight on a constant input 1, hence the ``+ 1``).  The change of weight ``W_ij``
uses only its input ``x̂_i``, its output unit's error and the unit's total input power — nothing
a synapse and its neuron could not have.  It is stochastic gradient descent on ``½‖t − y‖²``
with a per-example step: the rule supplies ``−(t − y) x̂ᵀ / (‖x̂‖² + 1)`` as the gradient
estimate and ``optax.sgd`` applies it.  Dividing by the input power makes each step stable for ``0 < η < 2`` whatever the feature scales (a rarely active
feature is large once standardised, and plain LMS with a fixed step diverges on it).  ``η_k``
decays linearly from ``η₀`` to zero over training so that the weights settle rather than hover.
The fixed point, ``E[(t − y) x̂ / (‖x̂‖² + 1)] = 0``, is the least-squares fit with each example
weighted by ``1/(‖x̂‖² + 1)`` (ordinary least squares when all inputs have the same power).

**Logistic regression** (exact gradient).  Softmax outputs, the mean cross-entropy over the whole
training set plus ``(λ/2)‖W‖²``, its exact gradient by ``jax.grad``, ``optax.adam`` steps.

Why the local readout has linear rather than softmax outputs: with softmax outputs the delta-rule
update ``(t − p) x̂ᵀ`` *is* the cross-entropy gradient, so "local vs exact" would compare the rule
with itself.  Linear outputs make the local readout a genuinely different learner (least
squares, online), which is the classic delta rule.

**Node and weight perturbation** (``"node-perturbation"``, ``"weight-perturbation"``; local):
:func:`perturbation_readout_trainer`, i.e. :func:`plastix.readout.train_readout` on the
standardised features.

**Adding another trainer**: write a function
``trainer(features, labels, key) -> {"weights": (F, C), "bias": (C,)}`` that receives
standardised features ``(N, F)`` and integer labels ``(N,)`` in ``0 … C−1`` (every class present,
``C = labels.max() + 1``), and call ``register_trainer("my-rule", trainer)``.
:func:`fit_readout` then standardises, calls it, and wraps the result; the HMAX reproduction
compares every registered trainer on the same splits.

Caveats: training is full-batch (logistic) or single-example (delta) on arrays held in memory;
for the feature counts of HMAX (hundreds to thousands) and thousands of images that is small.
"""

from __future__ import annotations

import functools
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..errors import ConfigError, check_positive

Trainer = Callable[[jax.Array, jax.Array, jax.Array], dict]


class FittedReadout(NamedTuple):
    """``scores = ((x − feature_mean) / feature_scale) @ weights + bias``."""

    weights: jax.Array
    bias: jax.Array
    feature_mean: jax.Array
    feature_scale: jax.Array


def standardisation(features: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Mean and scale per feature (scale = standard deviation, or 1 for a constant feature)."""
    mean = features.mean(axis=0)
    std = features.std(axis=0)
    return mean, jnp.where(std > 1e-12 * (1.0 + jnp.abs(mean)), std, 1.0)


def scores(readout: FittedReadout, features) -> jax.Array:
    x = (jnp.asarray(features) - readout.feature_mean) / readout.feature_scale
    return x @ readout.weights + readout.bias


def predict(readout: FittedReadout, features) -> np.ndarray:
    return np.asarray(jnp.argmax(scores(readout, features), axis=-1))


def accuracy(readout: FittedReadout, features, labels) -> float:
    return float(np.mean(predict(readout, features) == np.asarray(labels)))


# ------------------------------------------------------------------------------------------------
# the delta rule (local, online)
# ------------------------------------------------------------------------------------------------
def delta_rule_grads(params: dict, x: jax.Array, target: jax.Array) -> dict:
    """The delta rule as a gradient estimate for optax: ``−(t − y) x̂ᵀ / (‖x̂‖² + 1)`` and ``−(t − y) / (‖x̂‖² + 1)``."""
    error = (target - (x @ params["weights"] + params["bias"])) / (x @ x + 1.0)
    return {"weights": -jnp.outer(x, error), "bias": -error}


def delta_rule_trainer(epochs: int = 40, learning_rate: float = 0.5) -> Trainer:
    """A trainer running the delta rule for ``epochs`` passes with ``η₀ = learning_rate`` (see module)."""
    check_positive("epochs", epochs, integer=True)
    check_positive("learning_rate", learning_rate)
    if learning_rate >= 2:
        raise ConfigError.bad_value("learning_rate", learning_rate, "a number in (0, 2) (stable normalised delta rule)")

    def train(features, labels, key):
        targets = jax.nn.one_hot(labels, int(labels.max()) + 1, dtype=features.dtype)
        return _delta_rule_run(features, targets, key, learning_rate, epochs)

    return train


@functools.partial(jax.jit, static_argnames=("epochs",))
def _delta_rule_run(features, targets, key, learning_rate, epochs):
    n, n_features = features.shape
    params = {
        "weights": jnp.zeros((n_features, targets.shape[1]), features.dtype),
        "bias": jnp.zeros(targets.shape[1], features.dtype),
    }
    optimiser = optax.sgd(optax.linear_schedule(learning_rate, 0.0, epochs * n))
    orders = jax.vmap(lambda k: jax.random.permutation(k, n))(jax.random.split(key, epochs))

    def step(carry, index):
        params, opt_state = carry
        grads = delta_rule_grads(params, features[index], targets[index])
        updates, opt_state = optimiser.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), None

    (params, _), _ = jax.lax.scan(step, (params, optimiser.init(params)), orders.reshape(-1))
    return params


# ------------------------------------------------------------------------------------------------
# logistic regression (exact gradient)
# ------------------------------------------------------------------------------------------------
def logistic_loss(params: dict, features, labels, l2: float) -> jax.Array:
    """Mean softmax cross-entropy plus ``(l2/2)‖W‖²``."""
    logits = features @ params["weights"] + params["bias"]
    data = optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
    return data + 0.5 * l2 * jnp.sum(params["weights"] ** 2)


def logistic_regression_trainer(steps: int = 500, learning_rate: float = 0.05, l2: float = 1e-3) -> Trainer:
    """A trainer taking ``steps`` full-batch Adam steps on :func:`logistic_loss` (exact gradient)."""
    check_positive("steps", steps, integer=True)
    check_positive("learning_rate", learning_rate)
    if not l2 >= 0:
        raise ConfigError.bad_value("l2", l2, "a number >= 0")

    def train(features, labels, key):
        del key  # deterministic: zero start, full batch
        return _logistic_run(features, labels, learning_rate, l2, int(labels.max()) + 1, steps)

    return train


@functools.partial(jax.jit, static_argnames=("n_classes", "steps"))
def _logistic_run(features, labels, learning_rate, l2, n_classes, steps):
    params = {
        "weights": jnp.zeros((features.shape[1], n_classes), features.dtype),
        "bias": jnp.zeros(n_classes, features.dtype),
    }
    optimiser = optax.adam(learning_rate)

    def step(carry, _):
        params, opt_state = carry
        grads = jax.grad(logistic_loss)(params, features, labels, l2)
        updates, opt_state = optimiser.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), None

    (params, _), _ = jax.lax.scan(step, (params, optimiser.init(params)), None, length=steps)
    return params


# ------------------------------------------------------------------------------------------------
# registry and fitting
# ------------------------------------------------------------------------------------------------
def perturbation_readout_trainer(rule: str = "np", epochs: int = 200, batch_size: int = 10) -> Trainer:
    """Node (``"np"``) or weight (``"wp"``) perturbation readout (Züge et al. 2023; see
    :func:`plastix.readout.train_readout`): softmax outputs, cross-entropy, the theory's learning
    rate η*, minibatches of ``min(batch_size, N)`` examples.  Local: each weight changes by the
    product of its input, its output unit's perturbation and one global scalar (the loss change).
    Small batches and many epochs by default: the image sets here have 10²–10³ examples, and a
    perturbation rule needs thousands of updates (on 150 digits: 50 updates of 100 examples reach
    28 % test accuracy, 3000 updates of 10 examples 91 %, as many as the exact gradient)."""
    check_positive("epochs", epochs, integer=True)
    check_positive("batch_size", batch_size, integer=True)

    def train(features, labels, key):
        from ..readout import perturbation_trainer

        trainer = perturbation_trainer(rule, epochs=epochs, batch_size=min(batch_size, int(features.shape[0])))
        return trainer(features, np.asarray(labels), key)

    return train


#: Readout trainers by name.  "logistic" is the exact-gradient baseline; the others are local.
TRAINERS: dict[str, Trainer] = {
    "delta": delta_rule_trainer(),
    "node-perturbation": perturbation_readout_trainer("np"),
    "weight-perturbation": perturbation_readout_trainer("wp"),
    "logistic": logistic_regression_trainer(),
}

#: Which trainers use only local information (shown in reports).
LOCAL: dict[str, bool] = {"delta": True, "node-perturbation": True, "weight-perturbation": True, "logistic": False}


def register_trainer(name: str, trainer: Trainer, local: bool = True) -> None:
    """Add a readout trainer ``trainer(features, labels, key) -> {"weights", "bias"}`` (see module)."""
    if not callable(trainer):
        raise ConfigError.bad_value("trainer", type(trainer).__name__, "a function (features, labels, key) -> params")
    TRAINERS[name] = trainer
    LOCAL[name] = bool(local)


def fit_readout(method: str | Trainer, features, labels, key) -> FittedReadout:
    """Standardise ``features`` ``(N, F)``, train a linear readout by ``method``, return it."""
    trainer = TRAINERS.get(method) if isinstance(method, str) else method
    if trainer is None:
        raise ConfigError.bad_value("readout", method, ", ".join(TRAINERS))
    features = jnp.asarray(features, dtype=jnp.result_type(float))
    labels = jnp.asarray(labels, dtype=jnp.int32)
    if features.ndim != 2 or labels.shape != (features.shape[0],):
        raise ConfigError.bad_value("features", f"shape {features.shape} with labels {labels.shape}", "(N, F) and (N,)")
    present = np.unique(np.asarray(labels))
    if present[0] < 0 or not np.array_equal(present, np.arange(present[-1] + 1)):
        raise ConfigError.bad_value("labels", present.tolist(), "integers 0 … C−1 with every class present")
    mean, scale = standardisation(features)
    params = trainer((features - mean) / scale, labels, key)
    return FittedReadout(jnp.asarray(params["weights"]), jnp.asarray(params["bias"]), mean, scale)

r"""Linear readouts (perceptrons) and the loops that train them with perturbation rules.

**Model.**  :class:`~plastix.models.readout.LinearReadout` (defined in
:mod:`plastix.models.readout`, importable from here) is the paper's linear perceptron (Züge et
al. 2023, §II): y(t) = W x(t) + b for every step of a trial, trained by the loops below and by
every perturbation rule.

**Loops.**  :func:`fit_task` trains many independent readouts with plastix's training loop
(:class:`plastix.training.Trainer`: ``vmap`` over seeds, ``lax.scan`` over trials) with plain SGD
followed by optional multiplicative decay,

    W ← γ (W − η ĝ)                       (the paper's update order; γ = 1: no decay)

threading the rule state (the running-mean baseline) from trial to trial, and records
``record(task, params)`` after every trial (e.g. the task's expected error).  lr, γ and the rule's
σ are traced and the compiled loop is cached, so sweeps over them compile once.  Seed s uses keys
folded from ``key(seed)``; trial i uses ``fold_in(data_key, i)`` for its sample and its
perturbation, so rules compared with the same seed see the same trials.

:func:`train_readout` is the one-call entry point for classification: features (n, F) and integer
labels → weights (F, C), bias (C,) and the loss history, trained by ``"wp"``, ``"np"``, ``"wp0"``,
``"hp"`` or ``"sgd"`` (exact gradient) on minibatches; a minibatch is one trial of T = 1 step
and B examples, so NP's perturbation dimension is C·B and WP's is C·(F+1).  It has the signature
``plastix.perception.readout`` expects of a trainer (``features, labels, key``).

Caveats: ``lr=None`` picks the theory's optimal rate η* = 1/((C·PR + 2)·α²_eff) (participation
ratio PR of the features' second-moment matrix) — derived for the squared error; with
``loss="xent"`` the curvature is lower (softmax), and 4·η* is used (a heuristic checked on digits).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from .errors import ConfigError, check_choice, check_positive
from .models.readout import LinearReadout, ReadoutAux  # noqa: F401  (the model, defined in models/)


# --------------------------------------------------------------------------------------------
# Training loop for readouts (and any model) with a threaded rule state
# --------------------------------------------------------------------------------------------
def fit_task(
    model,
    task,
    rule,
    lr: float,
    trials: int,
    seed: int = 0,
    n_seeds: int = 1,
    batch_size: int = 1,
    decay: float = 1.0,
    record: Callable | None = None,
    init_params: dict | None = None,
) -> dict:
    """Train ``n_seeds`` copies of ``model`` on ``task`` with ``rule`` and SGD (+ decay γ).

    The loop is :class:`plastix.training.Trainer` with the update W ← γ (W − η ĝ)
    (:func:`plastix.training.scaled_sgd_with_decay`).  ``record(task, params) -> {name: array}``
    is evaluated after every update (define it at module level: the Trainer is cached per (model,
    task, rule, trials, batch, record), and lr, γ and the rule's σ are traced, so sweeps over them
    compile once).  ``init_params`` (one network, no seed axis) replaces ``model.init`` for every
    seed.  A diverging seed is not an error here: its losses become NaN.

    Returns ``{"params": final params (seeds, …), "losses": (seeds, trials) loss of each trial
    before its update, "records": {name: (seeds, trials, …)}}``.
    """
    check_positive("lr", lr)
    check_positive("trials", trials, integer=True)
    check_positive("n_seeds", n_seeds, integer=True)
    if not (isinstance(decay, (int, float)) and 0 < decay <= 1):
        raise ConfigError.bad_value("decay", decay, "a number in (0, 1]")
    from .training import set_hyperparams

    traced = {"sigma": rule.sigma} if hasattr(rule, "sigma") else {}
    template = dataclasses.replace(rule, sigma=1.0) if traced else rule
    trainer = _readout_trainer(model, task, template, int(trials), batch_size, record)
    state = trainer.init(seed, n_seeds, init_params=init_params, rule_hyperparams=traced)
    state = dataclasses.replace(state, opt_state=set_hyperparams(state.opt_state, n_seeds, learning_rate=lr, decay=decay))
    result = trainer.fit(int(trials), seed=seed, n_seeds=n_seeds, state=state)
    return {"params": result.state.params, "losses": result.losses, "records": result.trial_records}


@functools.lru_cache(maxsize=32)
def _readout_trainer(model, task, template, trials, batch_size, record):
    """One Trainer (one compilation) per configuration; lr, γ and σ are set per call."""
    from .training import Trainer, scaled_sgd_with_decay

    return Trainer(model, task, template, scaled_sgd_with_decay(1.0, 1.0), batch_size=batch_size, chunk=trials,
                   record=record, stop_on_divergence=False)


# --------------------------------------------------------------------------------------------
# Classification readouts
# --------------------------------------------------------------------------------------------
READOUT_RULES = ("wp", "np", "wp0", "hp", "sgd")
# η* is derived for the squared error; softmax cross-entropy has a few times less curvature, and 4·η*
# worked best of {1, 4}·η* for WP and NP on the digits (docs/reproductions/zuge2021.md).
XENT_LR_FACTOR = 4.0


def participation_ratio_of_features(features) -> tuple[float, float]:
    """(PR, α²_eff) of the second-moment matrix S = XᵀX/n of ``features`` (n, F) (bias included)."""
    x = np.asarray(features, dtype=np.float64)
    n, f = x.shape
    # PR = (tr S)² / tr S², and tr S² = ‖XᵀX‖²_F / n² = ‖XXᵀ‖²_F / n²: the smaller Gram matrix
    # gives it (no eigendecomposition; F may be 10⁴ image pixels).
    gram = x @ x.T if n < f else x.T @ x
    trace = np.trace(gram) / n
    pr = trace**2 / (np.sum(gram**2) / n**2)
    return float(pr), float(trace / pr)


def make_readout_rule(rule: str, model, sigma: float, loss: str):
    """A plastix rule by readout name; ``"sgd"`` is the exact gradient (BPTT on the readout)."""
    from .rules import BPTT
    from .rules.perturbation import HybridPerturbation, NodePerturbation, WeightPerturbation

    check_choice("rule", rule, READOUT_RULES)
    if rule == "sgd":
        return BPTT(model, loss=loss)
    if rule == "np":
        return NodePerturbation(model, sigma=sigma, loss=loss)
    if rule == "hp":
        return HybridPerturbation(model, sigma=sigma, loss=loss)
    return WeightPerturbation(model, sigma=sigma, loss=loss, mask_zero_input=(rule == "wp0"))


def train_readout(
    features,
    labels,
    key: jax.Array,
    rule: str = "np",
    sigma: float = 1e-3,
    lr: float | None = None,
    batch_size: int = 100,
    epochs: int = 50,
    loss: str = "xent",
    bias: bool = True,
) -> dict:
    """Train a linear classifier readout on ``features`` (n, F) and integer ``labels`` (n,).

    ``rule``: ``"wp"``, ``"np"``, ``"wp0"``, ``"hp"`` (perturbation, σ_eff = ``sigma`` per output
    and example) or ``"sgd"`` (exact gradient).  Each update uses one minibatch of
    ``batch_size`` examples (a fresh random order every epoch).  ``lr=None``: the theory's η*
    (see module docstring; for ``"hp"`` divided by α²_eff T), times ``XENT_LR_FACTOR`` = 4 for
    cross-entropy (a heuristic; give ``lr`` for ``"sgd"``, where η* means little).  Returns ``{"weights": (F, C),
    "bias": (C,), "losses": (updates,) minibatch loss before each update, "lr": float}``.
    Repeated calls with the same shapes and options reuse one compilation (lr, σ, key traced).
    """
    check_choice("loss", loss, ("xent", "mse"))
    check_positive("batch_size", batch_size, integer=True)
    check_positive("epochs", epochs, integer=True)
    check_positive("sigma", sigma)
    x = jnp.asarray(features, dtype=jnp.float32)
    y = np.asarray(labels)
    if x.ndim != 2 or y.ndim != 1 or x.shape[0] != y.shape[0]:
        raise ConfigError.bad_value("features/labels", f"{tuple(x.shape)}/{tuple(y.shape)}",
                                    "features (n, F) and labels (n,) with the same n")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
        raise ConfigError.bad_value("labels", str(y.dtype), "non-negative integer class labels")
    n, n_features = x.shape
    n_classes = int(y.max()) + 1
    if batch_size > n:
        raise ConfigError.bad_value("batch_size", batch_size, f"at most the number of examples ({n})")
    model = LinearReadout(n_in=n_features, n_out=n_classes, bias=bias)
    the_rule = make_readout_rule(rule, model, sigma, loss)
    if lr is None:
        from .theory.perturbation import optimal_lr

        with_bias = np.concatenate([np.asarray(x), np.ones((n, 1))], axis=1) if bias else np.asarray(x)
        pr, alpha2 = participation_ratio_of_features(with_bias)
        lr = optimal_lr(n_classes, pr, alpha2, rule="hp" if rule == "hp" else "wp", n_steps=batch_size)
        if loss == "xent":
            lr *= XENT_LR_FACTOR
    check_positive("lr", lr)
    onehot = jax.nn.one_hot(jnp.asarray(y), n_classes, dtype=jnp.float32)
    run = _compiled_readout_training(model, dataclasses.replace(the_rule, sigma=1.0) if rule != "sgd" else the_rule,
                                     n, batch_size, epochs)
    params, losses = run(model.init(jax.random.key(0)), x, onehot, key, lr, sigma)
    return {
        "weights": params["w_out"].T,
        "bias": params["b_out"] if bias else jnp.zeros((n_classes,), jnp.float32),
        "losses": np.asarray(losses).reshape(-1),
        "lr": float(lr),
    }


@functools.lru_cache(maxsize=16)
def _compiled_readout_training(model, template, n, batch_size, epochs):
    """Jitted minibatch training (epochs × batches) for one configuration; lr and σ are traced."""
    from .tasks.base import Trial

    per_epoch = n // batch_size

    def train(params, x, onehot, key, lr, sigma):
        rule = dataclasses.replace(template, sigma=sigma) if hasattr(template, "sigma") else template
        mask = jnp.ones((1, batch_size, onehot.shape[1]), x.dtype)

        def epoch(params, k_epoch):
            order = jax.random.permutation(jax.random.fold_in(k_epoch, 0), n)[: per_epoch * batch_size]

            def step(params, xs):
                idx, i = xs
                trial = Trial(x[idx][None], onehot[idx][None], mask)
                grads, metrics = rule.trial_grads(params, trial, jax.random.fold_in(k_epoch, i + 1))
                return jax.tree_util.tree_map(lambda w, g: w - lr * g, params, grads), metrics["loss"]

            return jax.lax.scan(step, params, (order.reshape(per_epoch, batch_size), jnp.arange(per_epoch)))

        return jax.lax.scan(epoch, params, jax.random.split(key, epochs))

    return jax.jit(train)


def perturbation_trainer(rule: str = "np", **options) -> Callable:
    """``train_readout`` with fixed options, as a ``trainer(features, labels, key)`` callable
    (the form ``plastix.perception.readout.register_trainer`` takes)."""
    check_choice("rule", rule, READOUT_RULES)

    def trainer(features, labels, key):
        out = train_readout(features, labels, key, rule=rule, **options)
        return {"weights": out["weights"], "bias": out["bias"]}

    return trainer


def load_digits_split(test_fraction: float = 0.25, seed: int = 0):
    """sklearn's bundled 8×8 digits (1797 images, no download): pixels / 16, a stratified split.

    Returns (x_train, y_train, x_test, y_test) as float32 (n, 64) and int32 (n,) arrays.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x = (data.data / 16.0).astype(np.float32)
    x_tr, x_te, y_tr, y_te = train_test_split(x, data.target.astype(np.int32), test_size=test_fraction,
                                              random_state=seed, stratify=data.target)
    return x_tr, y_tr, x_te, y_te


def accuracy(weights, bias, features, labels) -> float:
    """Fraction of ``features`` whose argmax score ``x W + b`` is the label."""
    scores = np.asarray(features) @ np.asarray(weights) + np.asarray(bias)
    return float(np.mean(np.argmax(scores, axis=1) == np.asarray(labels)))


__all__ = [
    "LinearReadout", "ReadoutAux", "fit_task", "train_readout", "perturbation_trainer", "load_digits_split",
    "accuracy", "participation_ratio_of_features", "make_readout_rule",
]

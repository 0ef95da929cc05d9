"""Training fixed-point networks: minibatch loop, per-layer learning rates, a backprop baseline.

A *rule* here is any object with ``net`` (or ``None``), ``name``, ``grads(params, x, target, key)
-> (grads, metrics)`` (grads shaped like params, the sign of dLoss/dtheta) and ``predict(params,
x)``: ``ContrastiveRule``, ``RecurrentBackprop`` and ``MLP`` all are.  ``fit`` runs a whole epoch
as one compiled ``lax.scan`` over minibatches; optax turns gradient estimates into updates.

``MLP`` is the feedforward network with the same layer sizes, activation and squared-error cost,
trained by ordinary backprop (``jax.grad``): the "backprop-trained network of the same size".
Its parameters have the same structure as a layered ``FixedPointNet``'s, so the same per-layer
learning rates apply.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..errors import ConfigError, DivergenceError, check_positive
from .contrastive import accuracy
from .data import Dataset
from .network import ACTIVATIONS, FixedPointNet, activation


@dataclass(frozen=True)
class MLP:
    """Feedforward network a_{k+1} = g(a_k W_k + b_k), cost 1/2 ||a_L - target||^2, exact gradients."""

    layer_sizes: tuple[int, ...]
    activation: str = "hard_sigmoid"
    name: str = "backprop"

    def __post_init__(self):
        object.__setattr__(self, "layer_sizes", tuple(self.layer_sizes))
        if self.activation not in ACTIVATIONS:
            raise ConfigError.bad_value("activation", self.activation, ", ".join(ACTIVATIONS))

    @property
    def net(self):
        # Only for accuracy's threshold: same unit range as the energy network of this activation.
        return FixedPointNet(self.layer_sizes, activation=self.activation)

    def init(self, key, gain: float = 1.0, bias: float = 0.0):
        return self.net.init(key, gain, bias)

    def forward(self, params, x):
        a = x
        for W, b in zip(params["W"], params["b"]):
            a = activation(self.activation, a @ W + b)
        return a

    def predict(self, params, x):
        return self.forward(params, x)

    def grads(self, params, x, target, key=None):
        def loss(p):
            return jnp.mean(0.5 * jnp.sum((self.forward(p, x) - target) ** 2, -1))

        value, g = jax.value_and_grad(loss)(params)
        out = self.forward(params, x)
        return g, {"loss": value, "accuracy": accuracy(self.net, out, target)}


def layerwise_sgd(learning_rates) -> optax.GradientTransformation:
    """Plain SGD with one learning rate per layer (alpha_k for W_k and b_{k+1}, as in EqProp)."""
    lrs = tuple(float(a) for a in learning_rates)

    def update(updates, state, params=None):
        if len(updates["W"]) != len(lrs):
            raise ConfigError.bad_value("learning_rates", lrs, f"{len(updates['W'])} values (one per weight layer)")
        new = {"W": [-a * g for a, g in zip(lrs, updates["W"])], "b": [-a * g for a, g in zip(lrs, updates["b"])]}
        return new, state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


def make_optimizer(lr) -> optax.GradientTransformation:
    """``lr``: a float (SGD), a sequence (per-layer SGD), or an optax transformation."""
    if isinstance(lr, optax.GradientTransformation):
        return lr
    if isinstance(lr, (list, tuple)):
        return layerwise_sgd(lr)
    check_positive("lr", lr)
    return optax.sgd(lr)


def evaluate(rule, params, x, y, batch_size: int = 1024) -> dict:
    """Loss and accuracy of the free-phase outputs on (x, y)."""
    outs = [rule.predict(params, jnp.asarray(x[i : i + batch_size])) for i in range(0, len(x), batch_size)]
    out = jnp.concatenate(outs, 0)
    y = jnp.asarray(y)
    return {"loss": float(jnp.mean(0.5 * jnp.sum((out - y) ** 2, -1))), "accuracy": float(accuracy(rule.net, out, y))}


def fit(rule, params, data: Dataset, *, epochs: int, batch_size: int, lr=0.1, key=None, eval_every: int = 1,
        callback=None):
    """Train one network; returns ``(params, history)`` (a list of per-epoch records).

    Each epoch shuffles the training set (dropping the last incomplete batch; with fewer examples
    than ``batch_size`` the batch is the whole set) and runs the minibatches as one ``lax.scan``;
    ``eval_every`` epochs run in one compiled call, after which train and test accuracy are
    evaluated.  A non-finite loss stops training
    with a :class:`DivergenceError` naming the rule, epoch and last finite loss.
    """
    key = jax.random.key(0) if key is None else key
    stacked = jax.tree_util.tree_map(lambda a: a[None], params)
    stacked, histories = _train(rule, stacked, data, key[None], epochs, batch_size, lr, eval_every, callback)
    return jax.tree_util.tree_map(lambda a: a[0], stacked), histories[0]


def fit_seeds(rule, data: Dataset, seeds, *, epochs: int, batch_size: int, lr=0.1, eval_every: int = 1,
              init_kw: dict | None = None, callback=None):
    """Train one network per seed, all at once (``vmap`` over seeds).

    Seed s initialises with ``jax.random.key(s)`` and shuffles with ``jax.random.key(10_000 + s)``.
    Returns ``(stacked params, [history per seed])``.
    """
    seeds = [int(s) for s in seeds]
    init = rule.init if isinstance(rule, MLP) else rule.net.init
    params = [init(jax.random.key(s), **(init_kw or {})) for s in seeds]
    stacked = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *params)
    keys = jnp.stack([jax.random.key(10_000 + s) for s in seeds])
    return _train(rule, stacked, data, keys, epochs, batch_size, lr, eval_every, callback)



def fit_seeds_or_error(rule, data: Dataset, seeds, **kw):
    """``(history, None)`` from :func:`fit_seeds`, or ``(None, message)`` when training diverges
    (reproductions then report the divergence in their table instead of stopping)."""
    from ..errors import DivergenceError

    try:
        return fit_seeds(rule, data, seeds, **kw)[1], None
    except DivergenceError as exc:
        return None, str(exc)

def _train(rule, params, data, keys, epochs, batch_size, lr, eval_every, callback):
    check_positive("epochs", epochs, integer=True)
    check_positive("batch_size", batch_size, integer=True)
    check_positive("eval_every", eval_every, integer=True)
    opt = make_optimizer(lr)
    opt_state = jax.vmap(opt.init)(params)
    n = len(data.x_train)
    bs = min(batch_size, n)
    n_batches = n // bs
    x_all, y_all = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
    n_seeds = keys.shape[0]

    def one_epoch(carry, key):
        params, opt_state = carry
        k_order, k_steps = jax.random.split(key)
        order = jax.random.permutation(k_order, n)[: n_batches * bs]
        xb = x_all[order].reshape(n_batches, bs, -1)
        yb = y_all[order].reshape(n_batches, bs, -1)

        def step(carry, batch):
            p, s = carry
            x, y, k = batch
            g, m = rule.grads(p, x, y, k)
            upd, s = opt.update(g, s, p)
            return (optax.apply_updates(p, upd), s), m

        (params, opt_state), metrics = jax.lax.scan(
            step, (params, opt_state), (xb, yb, jax.random.split(k_steps, n_batches)))
        return (params, opt_state), jax.tree_util.tree_map(jnp.mean, metrics)

    def epochs_chunk(params, opt_state, keys):
        # Several epochs in one compiled call (keys: (n_epochs,)): no Python work between them.
        (params, opt_state), metrics = jax.lax.scan(one_epoch, (params, opt_state), keys)
        return params, opt_state, metrics

    run_chunk = jax.jit(jax.vmap(epochs_chunk))
    predict = jax.jit(jax.vmap(rule.predict, in_axes=(0, None)))

    def accuracy_of(params, x, y):
        out = jnp.concatenate([predict(params, jnp.asarray(x[i : i + 1024])) for i in range(0, len(x), 1024)], 1)
        return [float(accuracy(rule.net, o, jnp.asarray(y))) for o in out]

    histories = [[] for _ in range(n_seeds)]
    last_finite = [None] * n_seeds
    epoch = 0
    while epoch < epochs:
        chunk = min(eval_every, epochs - epoch)
        t0 = time.perf_counter()
        chunk_keys = jax.vmap(lambda k: jax.vmap(lambda e: jax.random.fold_in(k, e))(jnp.arange(epoch, epoch + chunk)))(keys)
        params, opt_state, m = run_chunk(params, opt_state, chunk_keys)
        m = {k: np.asarray(v) for k, v in m.items()}  # (n_seeds, chunk)
        train_acc = accuracy_of(params, data.x_train, data.y_train)
        test_acc = accuracy_of(params, data.x_test, data.y_test)
        seconds = (time.perf_counter() - t0) / chunk
        for e in range(chunk):
            for s in range(n_seeds):
                record = {"epoch": epoch + e + 1, **{k: float(v[s, e]) for k, v in m.items()}}
                if not math.isfinite(record["loss"]):
                    raise DivergenceError(f"rule {rule.name}: non-finite loss at epoch {epoch + e + 1} (network {s}); "
                                          f"last finite loss {last_finite[s]}")
                last_finite[s] = record["loss"]
                if e == chunk - 1:
                    record["train_accuracy"], record["test_accuracy"] = train_acc[s], test_acc[s]
                record["seconds"] = seconds
                histories[s].append(record)
        epoch += chunk
        if callback is not None:
            callback(epoch, [h[-1] for h in histories])
    return params, histories


def final(history, field="test_accuracy"):
    """The last recorded value of ``field`` in a history."""
    vals = [r[field] for r in history if field in r]
    return vals[-1] if vals else float("nan")


def as_numpy_history(history):
    return {k: np.array([r.get(k, np.nan) for r in history]) for k in history[0]}

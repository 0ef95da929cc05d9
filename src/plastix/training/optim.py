"""Optimisers for the training loop: optax transformations whose float hyper-parameters are traced.

:func:`make_optimizer` wraps every optimiser in ``optax.inject_hyperparams``: the learning rate
(and the clipping norm) live in the optimiser state as arrays, so one compiled training function
serves every learning rate, and a learning-rate sweep can even run as one ``vmap`` (a different
rate per network; ``Trainer.init(..., learning_rate=[…])``).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import optax

from ..errors import ConfigError

OPTIMIZERS = ("sgd", "adam")
_BASES = {"sgd": optax.sgd, "adam": optax.adam}


def _positive_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 and math.isfinite(value)


def _with_clip(base):
    def build(learning_rate, max_norm):
        return optax.chain(optax.clip_by_global_norm(max_norm), base(learning_rate))

    return build


def make_optimizer(name: str = "sgd", lr: float = 1e-2, clip: float | None = None) -> optax.GradientTransformation:
    """An optax optimiser by name with a traced learning rate; ``clip`` adds global-norm clipping."""
    if name not in OPTIMIZERS:
        raise ConfigError.bad_value("optimizer", name, ", ".join(OPTIMIZERS))
    if not _positive_number(lr):
        raise ConfigError.bad_value("lr", lr, "a positive number")
    if clip is None:
        return optax.inject_hyperparams(_BASES[name])(learning_rate=lr)
    if not _positive_number(clip):
        raise ConfigError.bad_value("clip", clip, "a positive number or None")
    return optax.inject_hyperparams(_with_clip(_BASES[name]))(learning_rate=lr, max_norm=clip)


def scaled_sgd_with_decay(lr: float, decay: float = 1.0) -> optax.GradientTransformation:
    """W ← γ (W − η ĝ) (Züge et al.'s update order; γ = ``decay``), with η and γ traced."""

    def build(learning_rate, decay):
        def update(grads, state, params):
            return jax.tree_util.tree_map(lambda w, g: -decay * learning_rate * g - (1.0 - decay) * w, params, grads), state

        return optax.GradientTransformation(lambda params: optax.EmptyState(), update)

    return optax.inject_hyperparams(build)(learning_rate=lr, decay=decay)


def set_hyperparams(opt_state, n_seeds: int, **values):
    """``opt_state`` (stacked over seeds) with hyper-parameters replaced: each value a number or
    one per seed.  Only for optimisers made with ``optax.inject_hyperparams``."""
    hyper = getattr(opt_state, "hyperparams", None)
    if hyper is None:
        raise ConfigError.bad_value(
            "learning_rate", values, "None for an optimiser without injected hyper-parameters "
            "(build it with plastix.training.make_optimizer or optax.inject_hyperparams)"
        )
    new = dict(hyper)
    for name, value in values.items():
        if name not in hyper:
            raise ConfigError.bad_value("hyperparameter", name, ", ".join(hyper))
        arr = jnp.asarray(value, hyper[name].dtype)
        if arr.ndim == 0:
            arr = jnp.broadcast_to(arr, (n_seeds,))
        if arr.shape != (n_seeds,):
            raise ConfigError.bad_value(name, tuple(arr.shape), f"a number or {n_seeds} values (one per seed)")
        new[name] = arr
    return opt_state._replace(hyperparams=new)

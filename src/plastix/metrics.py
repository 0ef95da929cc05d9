"""Losses and alignment measures used while training and in reproductions."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def cosine(a, b, eps: float = 1e-30):
    """Cosine between two arrays (or pytrees of arrays) flattened into vectors."""
    va = jnp.concatenate([jnp.ravel(x) for x in jax.tree_util.tree_leaves(a)])
    vb = jnp.concatenate([jnp.ravel(x) for x in jax.tree_util.tree_leaves(b)])
    return jnp.dot(va, vb) / jnp.maximum(jnp.linalg.norm(va) * jnp.linalg.norm(vb), eps)


def feedback_alignment(params: dict, feedback):
    """cos(vec W_out, vec Bᵀ) (Murray 2019, Fig. 2c) for the feedback matrix B (N, n_out); NaN
    when there is none (``feedback=None``: the rule uses W_outᵀ or no feedback)."""
    if feedback is None:
        return jnp.nan
    return cosine(params["w_out"], feedback.T)


def gradient_alignment(estimate: dict, exact: dict, keys=("w_rec",)):
    """Cosine between a rule's gradient estimate and the exact gradient, over ``keys``."""
    keys = [k for k in keys if k in exact]
    return cosine([estimate[k] for k in keys], [exact[k] for k in keys])


def weight_norms(params: dict) -> dict:
    return {f"norm_{k}": jnp.linalg.norm(jnp.ravel(v)) for k, v in params.items()}


def normalised_mse(outputs, targets, mask):
    """Masked MSE divided by the masked variance of the target."""
    n = jnp.maximum(mask.sum(), 1.0)
    mean = (targets * mask).sum() / n
    var = (((targets - mean) * mask) ** 2).sum() / n
    return (((outputs - targets) * mask) ** 2).sum() / n / jnp.maximum(var, 1e-30)

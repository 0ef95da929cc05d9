"""Numerical checks used by the reproductions: finite differences of the contrast and of the loss,
EqProp's bias against recurrent backprop, float64 scopes.

Finite differences perturb one shared parameter at a time (both W_ij and W_ji for "full"
connectivity, which keeps W symmetric) with central differences; run them in float64
(``with float64(): ...``) and with tight relaxation tolerances, since the envelope-theorem identities
hold only at converged fixed points.
"""

from __future__ import annotations


import jax
import jax.numpy as jnp
import numpy as np

from .contrastive import ContrastiveRule, eqprop
from ..models.energy import FixedPointNet
from .rbp import RecurrentBackprop, loss_at_fixed_point


def float64():
    """Enable float64 inside the block (restoring the previous setting): ``jax.enable_x64(True)``."""
    return jax.enable_x64(True)


def flat(tree) -> jax.Array:
    return jnp.concatenate([jnp.ravel(a) for a in jax.tree_util.tree_leaves(tree)])


def relative_error(a, b) -> float:
    a, b = flat(a), flat(b)
    return float(jnp.linalg.norm(a - b) / jnp.linalg.norm(b))


def cosine(a, b) -> float:
    a, b = flat(a), flat(b)
    return float(a @ b / (jnp.linalg.norm(a) * jnp.linalg.norm(b)))


def random_entries(params, n: int, seed: int = 0, full: bool = False):
    """``n`` (leaf, index) pairs of non-structurally-zero parameters (upper triangle for "full")."""
    rng = np.random.default_rng(seed)
    leaves = jax.tree_util.tree_leaves(params)
    out = []
    while len(out) < n:
        li = int(rng.integers(len(leaves)))
        idx = tuple(int(rng.integers(s)) for s in leaves[li].shape)
        if float(leaves[li][idx]) == 0.0 and leaves[li].ndim == 2:
            continue  # masked entry (diagonal, input-input)
        if full and leaves[li].ndim == 2:
            idx = tuple(sorted(idx))
        out.append((li, idx))
    return out


def _shift(params, li, idx, s, full):
    leaves, treedef = jax.tree_util.tree_flatten(params)
    leaf = leaves[li].at[idx].add(s)
    if full and leaf.ndim == 2:
        leaf = leaf.at[idx[::-1]].add(s)
    leaves[li] = leaf
    return jax.tree_util.tree_unflatten(treedef, leaves)


def _pick(grads, li, idx, full):
    leaf = jax.tree_util.tree_leaves(grads)[li]
    return float(leaf[idx] + (leaf[idx[::-1]] if full and leaf.ndim == 2 else 0.0))


def contrast_gradient_error(rule: ContrastiveRule, params, x, target, n_entries: int = 6, h: float = 1e-5,
                            seed: int = 0) -> float:
    """max over entries of |local update - dC/dtheta (finite differences)| / max(|dC/dtheta|, floor),
    floor = 1e-3 max|update| (entries whose gradient is ~0, e.g. input biases, are judged absolutely).

    For the interpolated scheme the clamp values are held at their unperturbed values.
    """
    full = rule.net.connectivity == "full"
    g, _ = rule.grads(params, x, target, jax.random.key(0))
    net = rule.net
    clamp_values = None
    if rule.scheme == "interpolated":
        Vo = rule.free_phase(params, x).V[:, net.out_slice]
        clamp_values = Vo + rule.gamma * (target - Vo)

    def C(p):
        if clamp_values is None:
            return float(jnp.mean(rule.contrast(p, x, target)[0]))
        free = rule.free_phase(p, x)
        teach = net.relax(p, free.V.at[:, net.out_slice].set(clamp_values), net.input_mask() | net.output_mask())
        return float(jnp.mean(net.energy(p, teach.V) - net.energy(p, free.V)))

    floor = max(1e-3 * float(jnp.max(jnp.abs(flat(g)))), 1e-12)
    worst = 0.0
    for li, idx in random_entries(params, n_entries, seed, full):
        fd = (C(_shift(params, li, idx, h, full)) - C(_shift(params, li, idx, -h, full))) / (2 * h)
        worst = max(worst, abs(fd - _pick(g, li, idx, full)) / max(abs(fd), floor))
    return worst


def loss_gradient_error(net: FixedPointNet, params, x, target, grads, n_entries: int = 6, h: float = 1e-6,
                        seed: int = 0) -> float:
    """max relative error of ``grads`` against central differences of J(theta) at the free fixed point
    (denominator floored at 1e-3 max|grads|, as in ``contrast_gradient_error``)."""
    full = net.connectivity == "full"
    floor = max(1e-3 * float(jnp.max(jnp.abs(flat(grads)))), 1e-12)
    worst = 0.0
    for li, idx in random_entries(params, n_entries, seed, full):
        J = lambda s: float(loss_at_fixed_point(net, _shift(params, li, idx, s, full), x, target))
        fd = (J(h) - J(-h)) / (2 * h)
        worst = max(worst, abs(fd - _pick(grads, li, idx, full)) / max(abs(fd), floor))
    return worst


def eqprop_bias(net: FixedPointNet, params, x, target, betas, signs=("+", "-", "centered")) -> dict:
    """Relative error and cosine of EqProp's estimate against recurrent backprop for each beta and
    sign, plus the log-log slope of the error against beta per sign."""
    true, _ = RecurrentBackprop(net, adjoint_iter=100_000, tol=1e-14).grads(params, x, target)
    out = {"beta": [float(b) for b in betas]}
    for sign in signs:
        errs, coss = [], []
        for b in betas:
            g, _ = eqprop(net, beta=float(b), sign=sign).grads(params, x, target)
            errs.append(relative_error(g, true))
            coss.append(cosine(g, true))
        out[sign] = {"relerr": errs, "cosine": coss,
                     "slope": float(np.polyfit(np.log(betas), np.log(errs), 1)[0])}
    return out

"""Binary Hopfield memory: Hebbian storage, asynchronous and synchronous recall, capacity.

Maths (Hopfield 1982; Amit, Gutfreund & Sompolinsky 1985)
-----
P patterns xi^mu in {-1, +1}^N are stored by the outer-product (Hebbian) rule

    W_ij = (1/N) sum_mu xi^mu_i xi^mu_j   (i != j),   W_ii = 0,                             (1)

with energy E(S) = -1/2 S^T W S.  Recall from a cue S(0):

* asynchronous: units in a random order (a fresh permutation each sweep), S_i <- sgn(h_i),
  h_i = sum_j W_ij S_j, keeping S_i when h_i = 0.  Each update changes E by -(S_i' - S_i) h_i <= 0,
  so E never increases and recall stops (a sweep without a flip) at a local minimum.
* synchronous: all units at once, S <- sgn(W S).  E is not a Lyapunov function for this update:
  the state can end in a 2-cycle; ``recall`` then warns (``OscillationWarning``).

Capacity: for random patterns and large N, retrieval (final overlap m = S.xi/N near 1) breaks
down at the load alpha = P/N ~ 0.138 (AGS 1985).  ``capacity_curve`` measures the final overlap
and the fraction of retrieved patterns (m >= 0.95) against alpha, starting from each stored
pattern (or a corrupted copy).

Caveats: finite N smooths and shifts the transition; below alpha_c the retrieval state has a few
per cent of wrong bits (m ~ 0.97 near alpha_c), so "retrieved" means overlap >= 0.95, not an exact
copy.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import check_choice, check_positive
from .data import corrupt, random_patterns

MODES = ("async", "sync")


class OscillationWarning(UserWarning):
    """Synchronous updates ended in a 2-cycle instead of a fixed point."""


class Recall(NamedTuple):
    S: jax.Array           # (B, N) final states
    sweeps: jax.Array      # (B,) sweeps (async) or steps (sync) run
    converged: jax.Array   # (B,) reached a fixed point
    oscillating: jax.Array  # (B,) ended in a 2-cycle (sync only)


def hebbian_weights(patterns) -> jax.Array:
    """Equation (1): W = xi^T xi / N with zero diagonal."""
    patterns = jnp.asarray(patterns)
    N = patterns.shape[1]
    W = patterns.T @ patterns / N
    return W * (1.0 - jnp.eye(N, dtype=W.dtype))


def energy(W, S, bias=None):
    """E(S) = -1/2 S^T W S - b.S per state."""
    e = -0.5 * jnp.einsum("...i,ij,...j->...", S, W, S)
    return e if bias is None else e - S @ bias


def overlap(S, patterns):
    """m = S.xi / N for each state against its own pattern (row by row)."""
    return jnp.sum(S * patterns, -1) / S.shape[-1]


@jax.jit
def _recall_async(W, S0, keys, max_sweeps):
    N = S0.shape[-1]

    def one(S, key):
        def sweep(carry):
            S, k, n, _ = carry
            k, sub = jax.random.split(k)

            def update(S, i):
                h = W[i] @ S
                new = jnp.where(h > 0, 1.0, jnp.where(h < 0, -1.0, S[i]))
                return S.at[i].set(new), new != S[i]

            S, flipped = jax.lax.scan(update, S, jax.random.permutation(sub, N))
            return S, k, n + 1, jnp.any(flipped)

        S, _, n, changed = jax.lax.while_loop(lambda c: (c[2] < max_sweeps) & c[3], sweep,
                                              (S, key, jnp.asarray(0), jnp.asarray(True)))
        return S, n, ~changed

    S, n, conv = jax.vmap(one)(S0, keys)
    return Recall(S, n, conv, jnp.zeros_like(conv))


@jax.jit
def _recall_sync(W, S0, max_sweeps):
    # carry (S two steps back, S one step back, S now, steps): a 2-cycle is S == S_older != S_old.
    def body(c):
        _, S_old, S, n = c
        h = S @ W.T
        return S_old, S, jnp.where(h > 0, 1.0, jnp.where(h < 0, -1.0, S)), n + 1

    def status(c):
        S_older, S_old, S, _ = c
        changed = jnp.any(S != S_old, axis=-1)
        return changed, changed & jnp.all(S == S_older, axis=-1)

    def cond(c):
        changed, two_cycle = status(c)
        return (c[3] < max_sweeps) & jnp.any(changed & ~two_cycle)

    nan = jnp.full_like(S0, jnp.nan)
    c = jax.lax.while_loop(cond, body, body((nan, nan, S0, jnp.asarray(0))))
    changed, osc = status(c)
    return Recall(c[2], jnp.full(S0.shape[0], c[3]), ~changed, osc)


def recall(W, S0, key=None, mode: str = "async", max_sweeps: int = 100) -> Recall:
    """Relax cues S0 (B, N) to fixed points (or 2-cycles for ``mode="sync"``, with a warning)."""
    check_choice("mode", mode, MODES)
    check_positive("max_sweeps", max_sweeps, integer=True)
    S0 = jnp.asarray(S0, dtype=jnp.asarray(W).dtype)
    if mode == "async":
        key = jax.random.key(0) if key is None else key
        return _recall_async(W, S0, jax.random.split(key, S0.shape[0]), max_sweeps)
    out = _recall_sync(W, S0, max_sweeps)
    n_osc = int(jnp.sum(out.oscillating))
    if n_osc:
        warnings.warn(f"synchronous Hopfield updates: {n_osc} of {S0.shape[0]} states ended in a 2-cycle "
                      "(no fixed point); use mode='async' for guaranteed convergence", OscillationWarning,
                      stacklevel=2)
    return out


def capacity_curve(key, n_units: int, loads, n_networks: int = 4, cue_flip: float = 0.0, max_cues: int = 64,
                   retrieved_overlap: float = 0.95) -> dict:
    """Final overlap and retrieval fraction against the load alpha = P/N (asynchronous recall).

    For each load, ``n_networks`` independent pattern sets are stored; ``max_cues`` cues (the stored
    patterns in turn, cycling when P < max_cues, corrupted by flipping ``cue_flip`` of their bits)
    are recalled.  Returns numpy
    arrays: ``load``, ``n_patterns``, ``mean_overlap``, ``retrieved_fraction`` (m >= threshold),
    ``stable_fraction`` (patterns that are exact fixed points: xi_i h_i > 0 for all i).
    """
    check_positive("n_units", n_units, integer=True)
    rows = {"load": [], "n_patterns": [], "mean_overlap": [], "retrieved_fraction": [], "stable_fraction": []}
    for alpha in loads:
        P = max(1, int(round(alpha * n_units)))
        m_all, stable_all = [], []
        for r in range(n_networks):
            key, k_pat, k_cue, k_rec = jax.random.split(key, 4)
            xi = random_patterns(k_pat, P, n_units)
            W = hebbian_weights(xi)
            stable_all.append(np.asarray(jnp.all(xi * (xi @ W.T) > 0, axis=-1)))
            probe = xi[jnp.arange(max_cues) % P]  # always max_cues cues: one compiled shape for every load
            cue = corrupt(k_cue, probe, cue_flip) if cue_flip > 0 else probe
            out = recall(W, cue, k_rec, "async")
            m_all.append(np.asarray(overlap(out.S, probe)))
        m = np.concatenate(m_all)
        rows["load"].append(P / n_units)
        rows["n_patterns"].append(P)
        rows["mean_overlap"].append(float(m.mean()))
        rows["retrieved_fraction"].append(float((m >= retrieved_overlap).mean()))
        rows["stable_fraction"].append(float(np.concatenate(stable_all).mean()))
    return {k: np.asarray(v) for k, v in rows.items()}


def critical_load(curve: dict, threshold: float = 0.5) -> float:
    """The load at which ``retrieved_fraction`` first falls below ``threshold`` (linear interpolation)."""
    a, f = curve["load"], curve["retrieved_fraction"]
    for i in range(1, len(a)):
        if f[i - 1] >= threshold > f[i]:
            return float(a[i - 1] + (f[i - 1] - threshold) * (a[i] - a[i - 1]) / (f[i - 1] - f[i]))
    return float("nan")

"""Many independent networks at once: per-seed keys and the map over seeds (vmap, or groups)."""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp


def seed_keys(seed: int, n_seeds: int):
    """Per-seed (params, rule, data) keys, each of shape (n_seeds,)."""
    base = jax.random.key(seed)
    keys = jax.vmap(lambda s: jax.random.split(jax.random.fold_in(base, s), 3))(jnp.arange(n_seeds))
    return keys[:, 0], keys[:, 1], keys[:, 2]


def seed_group_size(n_seeds: int, seed_chunk: int | None) -> int:
    """The largest divisor of ``n_seeds`` not above ``seed_chunk`` (``n_seeds`` when None)."""
    if seed_chunk is None or seed_chunk >= n_seeds:
        return n_seeds
    return max(d for d in range(1, seed_chunk + 1) if n_seeds % d == 0)


def over_seeds(fn: Callable, n_mapped: int, seed_chunk: int | None) -> Callable:
    """``fn`` over a leading seed axis of its first ``n_mapped`` arguments (the rest shared).

    With ``seed_chunk=None`` all seeds are one ``vmap``.  Otherwise the seeds run in groups of
    :func:`seed_group_size` seeds, each group a ``vmap``, the groups one after another
    (``lax.map``).  On a CPU, many large networks vmapped at once stream every network's weights
    and traces through the cache at every time step; groups that fit in the cache are faster per
    network (docs/benchmarks.md: at N = 300, 64 networks in one vmap cost 2.6–2.8× a single
    network's time per network, in groups of 8 0.6–0.8×).  The results are the same either way.
    """

    def run(*args):
        mapped, shared = args[:n_mapped], args[n_mapped:]
        vmapped = jax.vmap(fn, in_axes=(0,) * n_mapped + (None,) * len(shared))
        n_seeds = jax.tree_util.tree_leaves(mapped)[0].shape[0]
        group = seed_group_size(n_seeds, seed_chunk)
        if group == n_seeds:
            return vmapped(*args)
        split = lambda a: a.reshape((n_seeds // group, group) + a.shape[1:])  # noqa: E731
        out = jax.lax.map(lambda m: vmapped(*m, *shared), jax.tree_util.tree_map(split, mapped))
        return jax.tree_util.tree_map(lambda a: a.reshape((n_seeds,) + a.shape[2:]), out)

    return run

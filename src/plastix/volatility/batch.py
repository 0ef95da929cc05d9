"""Many independent runs of a filter at once: ``vmap`` over runs, in fixed-size compiled chunks.

``run_batch(model, params, observations, key)`` runs ``model.run`` on each of R outcome
sequences (observations ``(R, T)`` or ``(R, T, D)``), with independent keys, and per-run or
shared parameters.  To keep the number of XLA compilations small (a compile costs seconds, a
particle-filter run milliseconds) runs are processed in chunks of a fixed size and trials are
padded at the end to a few fixed lengths with NaN outcomes (unobserved trials).  Padding at the
end cannot change earlier trials — every filter is causal — and is cut off again before
returning.  Results are the same as calling ``model.run`` run by run with the same keys.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

#: Trial counts are padded up to the first of these that fits (or a multiple of 64 beyond).
TRIAL_BUCKETS = (128, 224, 320, 512, 1024)


def _bucket(n_trials: int) -> int:
    for b in TRIAL_BUCKETS:
        if n_trials <= b:
            return b
    return -(-n_trials // 64) * 64


@functools.lru_cache(maxsize=None)
def _compiled(model):
    def one(params, obs, key):
        return model.run(params, obs, key)

    return jax.jit(jax.vmap(one, in_axes=(0, 0, 0)))


def run_batch(model, params, observations, key, chunk: int = 500, pad_trials: bool = True):
    """Run ``model`` on every row of ``observations``; returns its trajectory with a leading R axis.

    ``params``: a parameter NamedTuple whose fields are scalars (shared) or arrays with a
    leading axis of length R (per run).  Outputs are NumPy arrays.
    """
    obs = np.asarray(observations, dtype=np.float64)
    n_runs, n_trials = obs.shape[:2]
    dtype = jnp.result_type(float)
    keys = jax.random.split(key, n_runs)

    def per_run(x):
        x = np.asarray(x)
        return np.broadcast_to(x, (n_runs,) + x.shape[1:] if x.ndim and x.shape[0] == n_runs else (n_runs,) + x.shape)

    fields = [per_run(f) for f in params]
    target = _bucket(n_trials) if pad_trials else n_trials
    if target > n_trials:
        pad = np.full((n_runs, target - n_trials) + obs.shape[2:], np.nan)
        obs = np.concatenate([obs, pad], axis=1)
    size = min(chunk, n_runs)
    n_chunks = -(-n_runs // size)
    fn = _compiled(model)
    outputs = []
    for c in range(n_chunks):
        index = np.arange(c * size, (c + 1) * size) % n_runs  # the last chunk wraps around; cut below
        chunk_params = type(params)(*(jnp.asarray(f[index], dtype) for f in fields))
        traj = fn(chunk_params, jnp.asarray(obs[index], dtype), keys[index])
        outputs.append(jax.tree_util.tree_map(np.asarray, traj))
    stacked = jax.tree_util.tree_map(lambda *xs: np.concatenate(xs, axis=0)[:n_runs, :n_trials], *outputs)
    return stacked

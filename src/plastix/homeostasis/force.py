r"""FORCE learning (Sussillo & Abbott 2009, Neuron 63:544): recursive least squares on the readout
of a chaotic rate network whose output is fed back into it.

Maths
-----
The network is :class:`~plastix.models.chaotic_rate.RateNetwork` with ``feedback=True``::

    τ dx/dt = −x + W_rec r + W_fb z,   r = tanh x,   z = W_out r

Only ``W_out`` learns.  Every ``learn_every`` steps, with ``f(t)`` the target and
``e₋(t) = W_out r(t) − f(t)`` the error *before* the update (rls.py)::

    P ← P − P r rᵀ P / (1 + rᵀ P r),   W_out ← W_out − e₋ (P r)ᵀ,   P(0) = I/δ

Because RLS makes the error small from the first updates, the fed-back ``z`` is close to the
target throughout training — the "first-order reduced and controlled error" that lets the
feedback loop tame the chaos.  After training the loop runs on its own and keeps producing the
pattern.

How it works
------------
:func:`train` scans over blocks of ``learn_every`` Euler steps and applies one RLS update per
block (one ``P`` shared by all readouts, since they see the same ``r``); :func:`free_run`
continues from the final state with learning off.  ``W_rec`` is never touched.

Caveats
-------
FORCE needs strong feedback and a chaotic or near-chaotic network (g ≈ 1.5); with learning
switched off too early, or a period much longer than the network's intrinsic time scales, the
output can drift off the target.  Noise is off by default (Sussillo & Abbott's setting).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax import lax

from ..errors import ConfigError
from ..models.chaotic_rate import RateNetwork, RateState
from .rls import rls_init, rls_update


def train(network: RateNetwork, params: dict, targets, key: jax.Array, learn_every: int = 2, delta: float = 1.0,
          state: RateState | None = None, noise: bool = False):
    """Run ``targets.shape[0]`` steps (targets (T, n_out)) with RLS on ``w_out``.

    Returns ``(params, state, outputs (T, n_out), errors (T // learn_every, n_out))``.
    """
    if not network.feedback:
        raise ConfigError.bad_value("feedback", network.feedback, "True (FORCE feeds the output back)")
    if not (isinstance(learn_every, int) and learn_every >= 1):
        raise ConfigError.bad_value("learn_every", learn_every, "an integer >= 1")
    n_blocks = targets.shape[0] // learn_every
    targets = targets[: n_blocks * learn_every].reshape(n_blocks, learn_every, -1)
    k0, kn = jax.random.split(key)
    state = network.initial_state(params, k0) if state is None else state
    xi = jax.random.normal(kn, (n_blocks, learn_every, network.n)) * (1.0 if noise else 0.0)
    u = jnp.zeros(network.n_in)
    return _train_blocks(network, params, state, targets, xi, u, rls_init(network.n, delta))


def _train_blocks(network, params, state, targets, xi, u, P):
    def block(carry, inp):
        w_out, P, s = carry
        f_block, xi_block = inp
        p = {**params, "w_out": w_out}  # only the readout is carried and changed
        outs = []
        for k in range(f_block.shape[0]):  # learn_every is small and static: unrolled
            s = network.step(p, s, u, xi_block[k])
            outs.append(s.z)
        error = s.z - f_block[-1]
        P, w_out = rls_update(P, w_out, s.r, error)
        return (w_out, P, s), (jnp.stack(outs), error)

    (w_out, P, state), (outputs, errors) = lax.scan(block, (params["w_out"], P, state), (targets, xi))
    return {**params, "w_out": w_out}, state, outputs.reshape(-1, outputs.shape[-1]), errors


train = jax.jit(train, static_argnames=("network", "learn_every", "noise"))


def free_run(network: RateNetwork, params: dict, state: RateState, n_steps: int, key: jax.Array, noise: bool = False):
    """Continue from ``state`` with learning off: outputs (n_steps, n_out) and final state."""
    state, _, outputs = network.run(params, jnp.zeros((n_steps, network.n_in)), key, state=state, noise=noise)
    return state, outputs


free_run = jax.jit(free_run, static_argnames=("network", "n_steps", "noise"))


def normalised_mse(outputs, targets) -> jax.Array:
    """Σ (z − f)² / Σ (f − mean f)², over time and outputs."""
    return jnp.sum((outputs - targets) ** 2) / jnp.sum((targets - targets.mean(0)) ** 2)


def handwriting_target(n_steps: int, loops: int = 3, loop_size: float = 0.45, aspect: float = 0.6):
    """A smooth closed 2-D pen trace with ``loops`` cursive loops per period (a hypotrochoid).

    Laje & Buonomano's handwritten words are not freely licensed, so plastix uses this synthetic
    stand-in: x(φ) = cos φ + a cos((k+1)φ), y(φ) = c (sin φ − a sin((k+1)φ)), φ = 2πt/T, scaled to
    peak amplitude ≈ 1.  Returns (n_steps, 2).
    """
    phi = 2.0 * math.pi * jnp.arange(1, n_steps + 1) / n_steps
    k = loops + 1
    x = jnp.cos(phi) + loop_size * jnp.cos(k * phi)
    y = aspect * (jnp.sin(phi) - loop_size * jnp.sin(k * phi))
    trace = jnp.stack([x, y], axis=1)
    return trace / jnp.abs(trace).max()

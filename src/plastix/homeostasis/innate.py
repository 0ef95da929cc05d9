r"""Innate training (Laje & Buonomano 2013, Nat Neurosci 16:925): tame the chaos of a rate network
by training its recurrent weights towards one of its own ("innate") trajectories, then read a
timed output from the now-stable trajectory.

Maths
-----
Network: :class:`~plastix.models.chaotic_rate.RateNetwork` (no feedback)::

    τ dx/dt = −x + W_rec r + W_in u + I₀ ξ,   r = tanh x,   z = W_out r

1. *Innate trajectory.*  One trial with the trigger input and no noise gives ``R(t)``, the
   target for every unit inside the training window.
2. *Recurrent training.*  A fraction of units (``plastic_fraction``, the first ones) is plastic.
   Unit ``i`` has its own RLS problem over its own presynaptic partners ``𝒫(i)``: every
   ``update_every`` steps inside the window, with ``e_i = r_i(t) − R_i(t)``::

       P_i ← P_i − P_i r_𝒫 r_𝒫ᵀ P_i / (1 + r_𝒫ᵀ P_i r_𝒫),   W_rec[i, 𝒫(i)] ← W_rec[i, 𝒫(i)] − e_i P_i r_𝒫

   with ``P_i(0) = I/δ``.  Trials are noisy (I₀) and start from random x(0), so the trained
   weights pull noisy trajectories back onto the innate one: a "dynamic attractor".
3. *Readout.*  ``W_out`` is then trained by RLS (one shared ``P``) on the target output, on
   noisy trials with the recurrent weights fixed.

How it works
------------
The per-unit problems are padded to the largest in-degree ``K`` (padding inputs are always zero
and provably inert, see rls.py) and solved side by side with
:func:`~plastix.homeostasis.rls.rls_update_per_unit`.  Weights live in the dense ``W_rec``; each
update gathers the ``(U, K)`` block of plastic weights and scatters it back.  A trial is three
scans: before the window (no learning), the window in blocks of ``update_every`` steps (one RLS
update per block), after the window.

Caveats
-------
The per-unit ``P`` tensors take ``U·K²`` floats (480·≈110² for the paper's network, ≈23 MB in
float32).  As in the paper the trajectory is only stable inside the trained window; outside it
the network stays chaotic.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ..errors import ConfigError, check_positive
from ..models.chaotic_rate import RateNetwork
from .rls import rls_init, rls_update, rls_update_per_unit


@dataclass(frozen=True)
class InnateRLS:
    """Settings of innate training (Laje & Buonomano 2013 defaults)."""

    plastic_fraction: float = 0.6
    update_every: int = 2
    delta: float = 1.0

    def __post_init__(self):
        if not 0.0 < self.plastic_fraction <= 1.0:
            raise ConfigError.bad_value("plastic_fraction", self.plastic_fraction, "a fraction in (0, 1]")
        check_positive("update_every", self.update_every, integer=True)
        check_positive("delta", self.delta)


@dataclass(frozen=True)
class TrialProtocol:
    """Trial timing in steps: rest, trigger pulse, training window (Laje & Buonomano: 200, 50, ≈2000)."""

    offset: int = 200
    trigger: int = 50
    trigger_amplitude: float = 5.0
    window: int = 2000
    tail: int = 100

    @property
    def window_start(self) -> int:
        return self.offset + self.trigger

    @property
    def window_stop(self) -> int:
        return self.window_start + self.window

    @property
    def n_steps(self) -> int:
        return self.window_stop + self.tail

    def inputs(self, n_in: int = 1):
        """(T, n_in) input: the trigger pulse on channel 0."""
        u = np.zeros((self.n_steps, n_in), np.float32)
        u[self.offset: self.window_start, 0] = self.trigger_amplitude
        return jnp.asarray(u)


def plastic_structure(params: dict, n_plastic: int):
    """(units (U,), presynaptic indices (U, K)) from the sparsity of ``w_rec``; pads point at N."""
    w = np.asarray(params["w_rec"])
    n = w.shape[0]
    partners = [np.flatnonzero(w[i]) for i in range(n_plastic)]
    k = max(1, max(len(p) for p in partners))
    presyn = np.full((n_plastic, k), n, np.int32)
    for i, p in enumerate(partners):
        presyn[i, : len(p)] = p
    return jnp.arange(n_plastic, dtype=jnp.int32), jnp.asarray(presyn)


def _scan_plain(network, params, state, inputs, noise, w_rec):
    def body(s, inp):
        u, e = inp
        s = network.step(params, s, u, e, w_rec=w_rec)
        return s, (s.r, s.z)

    return lax.scan(body, state, (inputs, noise))


def _split(protocol: TrialProtocol, every: int, inputs, noise):
    a, b = protocol.window_start, protocol.window_start + (protocol.window // every) * every
    blocks = (b - a) // every
    pre = (inputs[:a], noise[:a])
    win = (inputs[a:b].reshape(blocks, every, -1), noise[a:b].reshape(blocks, every, -1))
    post = (inputs[b:], noise[b:])
    return a, b, pre, win, post


def train_recurrent_trial(network: RateNetwork, training: InnateRLS, protocol: TrialProtocol, params: dict, P,
                          units, presyn, innate_rates, key: jax.Array):
    """One noisy training trial: per-unit RLS on ``w_rec`` inside the window.

    Returns ``(params, P, mean squared error over the updates)``.
    """
    every = training.update_every
    k0, kn = jax.random.split(key)
    inputs = protocol.inputs(network.n_in)
    noise = jax.random.normal(kn, (protocol.n_steps, network.n))
    a, b, pre, win, _ = _split(protocol, every, inputs, noise)
    targets = innate_rates[a:b].reshape(-1, every, network.n)[:, -1]  # target at each block's last step
    state = network.initial_state(params, k0)
    state, _ = _scan_plain(network, params, state, *pre, params["w_rec"])

    def block(carry, inp):
        w_rec, P, s = carry
        (u_b, e_b), target = inp
        for k in range(every):
            s = network.step(params, s, u_b[k], e_b[k], w_rec=w_rec)
        r_ext = jnp.concatenate([s.r, jnp.zeros(1)])
        features = r_ext[presyn]  # (U, K); padding reads the appended 0
        w_units = w_rec.at[units[:, None], presyn].get(mode="fill", fill_value=0.0)
        error = s.r[units] - target[units]
        P, w_units = rls_update_per_unit(P, w_units, features, error)
        w_rec = w_rec.at[units[:, None], presyn].set(w_units, mode="drop")
        return (w_rec, P, s), jnp.mean(error ** 2)

    (w_rec, P, _), errors = lax.scan(block, (params["w_rec"], P, state), (win, targets))
    return {**params, "w_rec": w_rec}, P, errors.mean()


train_recurrent_trial = jax.jit(train_recurrent_trial, static_argnames=("network", "training", "protocol"))


def train_readout_trial(network: RateNetwork, protocol: TrialProtocol, params: dict, P, target, key: jax.Array,
                        every: int = 2):
    """One noisy trial with RLS on ``w_out`` (``target`` (window, n_out)) and fixed ``w_rec``."""
    k0, kn = jax.random.split(key)
    inputs = protocol.inputs(network.n_in)
    noise = jax.random.normal(kn, (protocol.n_steps, network.n))
    a, b, pre, win, _ = _split(protocol, every, inputs, noise)
    targets = target[: b - a].reshape(-1, every, target.shape[-1])[:, -1]
    state = network.initial_state(params, k0)
    state, _ = _scan_plain(network, params, state, *pre, params["w_rec"])

    def block(carry, inp):
        w_out, P, s = carry
        (u_b, e_b), f = inp
        p = {**params, "w_out": w_out}
        for k in range(every):
            s = network.step(p, s, u_b[k], e_b[k])
        error = w_out @ s.r - f
        P, w_out = rls_update(P, w_out, s.r, error)
        return (w_out, P, s), jnp.mean(error ** 2)

    (w_out, P, _), errors = lax.scan(block, (params["w_out"], P, state), (win, targets))
    return {**params, "w_out": w_out}, P, errors.mean()


train_readout_trial = jax.jit(train_readout_trial, static_argnames=("network", "protocol", "every"))


def run_trials(network: RateNetwork, protocol: TrialProtocol, params: dict, keys: jax.Array, noise: bool = True,
               perturbation=None):
    """Trials side by side (vmap over ``keys``): rates (B, T, N) and outputs (B, T, n_out).

    ``perturbation`` = (start step, duration, amplitude, vectors) adds a brief pulse
    ``amplitude · vector`` to the drive (Laje & Buonomano's perturbation test); ``vectors`` is
    (N,) for the same pulse in every trial or (B, N) for one pulse per trial.
    """
    inputs = protocol.inputs(network.n_in)
    t = jnp.arange(protocol.n_steps)[:, None]
    if perturbation is None:
        vectors, pulse = jnp.zeros((keys.shape[0], network.n)), jnp.zeros((protocol.n_steps, 1))
    else:
        start, duration, amplitude, vectors = perturbation
        vectors = jnp.broadcast_to(vectors, (keys.shape[0], network.n))
        pulse = jnp.where((t >= start) & (t < start + duration), amplitude, 0.0)

    def one(key, vector):
        k0, kn = jax.random.split(key)
        xi = jax.random.normal(kn, (protocol.n_steps, network.n)) * (1.0 if noise else 0.0)
        state = network.initial_state(params, k0)

        def body(s, inp):
            u, e, p_t = inp
            s = network.step(params, s, u, e, extra=p_t * vector)
            return s, (s.r, s.z)

        _, (rates, outputs) = lax.scan(body, state, (inputs, xi, pulse))
        return rates, outputs

    return jax.vmap(one)(keys, vectors)


run_trials = jax.jit(run_trials, static_argnames=("network", "protocol", "noise"))


def innate_trajectory(network: RateNetwork, protocol: TrialProtocol, params: dict, key: jax.Array):
    """The noise-free trajectory R(t) (T, N) from one random initial state."""
    rates, _ = run_trials(network, protocol, params, key[None], noise=False)
    return rates[0]


def trajectory_correlation(rates, reference, start: int, stop: int):
    """Pearson r between (T, N) activity in [start, stop) and the reference, per leading batch index."""
    a = rates[..., start:stop, :].reshape(*rates.shape[:-2], -1)
    b = reference[start:stop].reshape(-1)
    a = a - a.mean(-1, keepdims=True)
    b = b - b.mean()
    return (a @ b) / jnp.sqrt((a * a).sum(-1) * (b @ b))


def readout_init(network: RateNetwork, delta: float = 1.0):
    return rls_init(network.n, delta)


def recurrent_init(training: InnateRLS, presyn):
    return rls_init(presyn.shape[1], training.delta, batch_shape=(presyn.shape[0],))

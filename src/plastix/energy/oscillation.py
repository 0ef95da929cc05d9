"""Oscillatory phase schedule: contrastive learning as a continuously running analog circuit.

Maths (Baldi & Pineda 1991, "an approach suitable for collective analog implementations"; the
equations here are a reconstruction, see docs/energy.md)
-----
The units are never reset.  The teacher signal is a square wave of period P with duty cycle d:
off for (1 - d) P steps (free half), on for d P steps (teacher half).  The weights integrate

    d theta / dt = -eta s(t) dE/dtheta (V(t)),     s = +1 / (d P)  (teacher on),
                                                    s = -1 / ((1 - d) P)  (teacher off),       (1)

so that over one period theta changes by -eta (<dE/dtheta>_teacher - <dE/dtheta>_free): one
contrastive update (Hebbian while the teacher is on, anti-Hebbian while it is off) made of time
averages.  Optionally (``settle``) the first part of each half-cycle is not integrated (s = 0), so
the averages skip the transient after each switch.  One time step is one relaxation step of ``models/energy.py`` (step size eps).

Caveat: (1) equals the alternating rule only when relaxation is fast against the half-period
(tau_relax << P) and learning slow against it (eta small): the states lag behind each switch of
the teacher, and the transient is averaged in.  The mismatch shrinks like tau_relax / P (tested),
or exponentially in the settling time with ``settle > 0``.  In a multistable network the free half
can also stay in the basin the teacher chose (hysteresis); presenting a different example each
period, or ``reset``, avoids learning from that.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from ..errors import ConfigError, check_choice, check_positive
from ..models.energy import FixedPointNet, _step

OSC_SCHEMES = ("hard_clamp", "soft_clamp", "input_current")


def _steps(period: int, duty: float) -> tuple[int, int]:
    n_teacher = int(round(duty * period))
    return period - n_teacher, n_teacher


def oscillatory_learning(net: FixedPointNet, params, x, target, *, period: int, n_periods: int, eta: float,
                         gamma: float = 1.0, duty: float = 0.5, scheme: str = "soft_clamp", eps=None, V0=None,
                         reset: bool = False, settle: float = 0.0):
    """Run the analog circuit for ``n_periods`` periods on a batch presented in parallel.

    ``x``/``target``: (B, n_in)/(B, n_out) (the same batch every period) or (n_periods, B, .) (one
    batch per period).  ``reset=True`` returns the non-input units to rest at the start of every
    period (an input onset that resets the circuit); without it the free half starts where the
    teacher half left off, and in a multistable network the free state can stay in the basin the
    teacher put it in (hysteresis), which hides errors from the contrast.  Returns
    ``(params, V, metrics)`` with per-period ``loss`` (cost at the end of the free half) and
    ``contrast`` (<E^t> - <E> over the two halves).

    ``settle`` (0 <= settle < 1): the fraction at the start of each half-cycle during which the
    weights do not integrate (s = 0), so that the averages in (1) skip the transient after each
    switch; the remaining steps are weighted 1/(their number).  With ``settle = 0`` the transient
    biases every update by O(tau_relax / P), and that bias reinforces whatever the network currently
    does (the averages of the teacher half start at the free state).
    """
    check_choice("scheme", scheme, OSC_SCHEMES)
    check_positive("period", period, integer=True)
    check_positive("n_periods", n_periods, integer=True)
    check_positive("eta", eta)
    if not 0 < duty < 1:
        raise ConfigError.bad_value("duty", duty, "a number strictly between 0 and 1")
    if not 0 <= settle < 1:
        raise ConfigError.bad_value("settle", settle, "0 <= settle < 1")
    n_free, n_teacher = _steps(period, duty)
    if n_free < 1 or n_teacher < 1:
        raise ConfigError.bad_value("period", period, "long enough for both half-cycles to have a step")
    x, target = jnp.asarray(x), jnp.asarray(target)
    if x.ndim == 2:
        x = jnp.broadcast_to(x, (n_periods,) + x.shape)
        target = jnp.broadcast_to(target, (n_periods,) + target.shape)
    V0 = net.initial_state(x[0]) if V0 is None else V0
    return _oscillate(net, params, V0, x, target, n_free, n_teacher, scheme, net.eps if eps is None else eps,
                      eta, gamma, bool(reset), float(settle))


@partial(jax.jit, static_argnames=("net", "n_free", "n_teacher", "scheme", "reset", "settle"))
def _oscillate(net, params, V0, xs, targets, n_free, n_teacher, scheme, eps, eta, gamma, reset, settle):
    T = net.temperature
    inputs, outputs = net.input_mask(), net.output_mask()

    def half(carry, teacher_on: bool, n_steps: int, x, y):
        params, V = carry
        V = V.at[..., : net.n_in].set(x)
        if scheme == "hard_clamp" and teacher_on:
            V = V.at[..., net.out_slice].set(y)
            clamp, tgt, strength, nudge = inputs | outputs, None, 0.0, "squared"
        elif teacher_on:
            clamp, tgt, strength = inputs, y, gamma
            nudge = "squared" if scheme == "soft_clamp" else "current"
        else:
            clamp, tgt, strength, nudge = inputs, None, 0.0, "squared"
        n_skip = min(int(settle * n_steps), n_steps - 1)
        sign = (1.0 if teacher_on else -1.0) / (n_steps - n_skip)

        def step(c, i):
            p, V = c
            V, _ = _step(net, p, V, V, clamp, tgt, strength, nudge, eps, T)
            dE = net.dE_dtheta(p, V)
            s = jnp.where(i >= n_skip, sign, 0.0)
            p = jax.tree_util.tree_map(lambda a, g: a - eta * s * g, p, dE)
            e = net.energy(p, V, T) if tgt is None else net.total_energy(p, V, tgt, strength, nudge, T)
            return (p, V), jnp.mean(e)

        (params, V), energies = jax.lax.scan(step, (params, V), jnp.arange(n_steps))
        return (params, V), jnp.mean(energies)

    def period(carry, batch):
        x, y = batch
        if reset:
            carry = (carry[0], net.initial_state(x))
        carry, e_free = half(carry, False, n_free, x, y)
        loss = jnp.mean(net.cost(carry[1], y))
        carry, e_teacher = half(carry, True, n_teacher, x, y)
        return carry, {"loss": loss, "contrast": e_teacher - e_free}

    (params, V), metrics = jax.lax.scan(period, (params, V0), (xs, targets))
    return params, V, metrics

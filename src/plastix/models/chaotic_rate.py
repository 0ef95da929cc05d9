r"""The sparse chaotic rate network of Sussillo & Abbott 2009 and Laje & Buonomano 2013, shared by
:mod:`~plastix.homeostasis.force` and :mod:`~plastix.homeostasis.innate`.

Maths
-----
With ``N`` units, inputs ``u(t)``, readouts ``z(t)`` and (optionally) output feedback::

    τ dx/dt = −x + W_rec r + W_in u + W_fb z + I₀ ξ(t)                           (1)
    r = tanh(x),   z = W_out r

Discretised by forward Euler with step ``dt``: ``x ← x + (dt/τ)(−x + W_rec r + W_in u + W_fb z
+ I₀ ξ)``, where ``ξ`` is a fresh standard normal vector every step (so, as in Laje &
Buonomano's code, the noise amplitude is per step and depends on ``dt``).  ``r`` and ``z`` on the
right-hand side are those of the previous step.

Initialisation: ``W_rec[i, j] ~ N(0, g²/(p N))`` on a random sparse pattern with connection
probability ``p`` and no self-connections (so the spectral radius is ≈ g and the network is
chaotic for g > 1); ``W_in ~ N(0, 1)``; ``W_fb ~ U[−1, 1]``; ``W_out = 0`` (FORCE) or
``N(0, 1/N)`` (``readout_init="normal"``, as in the innate-training code).

How it works
------------
:meth:`RateNetwork.step` is a pure function of explicit state; :meth:`RateNetwork.run` scans it
over time and returns rates and outputs, time-major.  The trainers in ``force.py`` and
``innate.py`` scan the same step with RLS updates interleaved.

Caveats
-------
Euler with dt = τ/10 (the papers' 1 ms against τ = 10 ms) is what both papers use; it is not a
converged ODE solution, so "the same network" means the same discrete map.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from ..errors import ConfigError, check_choice, check_positive


class RateState(NamedTuple):
    x: jax.Array  # (N,) activations
    r: jax.Array  # (N,) rates tanh(x)
    z: jax.Array  # (n_out,) readout


@dataclass(frozen=True)
class RateNetwork:
    """Static settings (times in ms).  Defaults: Laje & Buonomano 2013 (N = 800, p = 0.1, g = 1.5)."""

    n: int = 800
    n_in: int = 1
    n_out: int = 1
    p_connect: float = 0.1
    g: float = 1.5
    tau: float = 10.0
    dt: float = 1.0
    noise_amplitude: float = 0.001
    feedback: bool = False
    readout_init: str = "zero"

    def __post_init__(self):
        check_positive("n", self.n, integer=True)
        for name in ("n_in", "n_out"):
            v = getattr(self, name)
            if not (isinstance(v, int) and not isinstance(v, bool) and v >= 0):
                raise ConfigError.bad_value(name, v, "a non-negative integer")
        if not 0.0 < self.p_connect <= 1.0:
            raise ConfigError.bad_value("p_connect", self.p_connect, "a probability in (0, 1]")
        check_positive("tau", self.tau)
        check_positive("dt", self.dt)
        if self.g < 0 or self.noise_amplitude < 0:
            raise ConfigError.bad_value("g/noise_amplitude", (self.g, self.noise_amplitude), "non-negative numbers")
        check_choice("readout_init", self.readout_init, ("zero", "normal"))

    def init(self, key: jax.Array) -> dict:
        k_mask, k_rec, k_in, k_out, k_fb = jax.random.split(key, 5)
        mask = (jax.random.uniform(k_mask, (self.n, self.n)) < self.p_connect) & ~jnp.eye(self.n, dtype=bool)
        scale = self.g / jnp.sqrt(self.p_connect * self.n)
        params = {
            "w_rec": jnp.where(mask, scale * jax.random.normal(k_rec, (self.n, self.n)), 0.0),
            "w_in": jax.random.normal(k_in, (self.n, self.n_in)),
        }
        if self.readout_init == "zero":
            params["w_out"] = jnp.zeros((self.n_out, self.n))
        else:
            params["w_out"] = jax.random.normal(k_out, (self.n_out, self.n)) / jnp.sqrt(self.n)
        if self.feedback:
            params["w_fb"] = jax.random.uniform(k_fb, (self.n, self.n_out), minval=-1.0, maxval=1.0)
        return params

    def initial_state(self, params, key: jax.Array | None = None, x0=None) -> RateState:
        """x(0) ~ U[−1, 1] from ``key`` (the papers' reset), or the given ``x0``."""
        if x0 is None:
            x0 = jax.random.uniform(key, (self.n,), minval=-1.0, maxval=1.0)
        r = jnp.tanh(x0)
        return RateState(x0, r, params["w_out"] @ r)

    def step(self, params, state: RateState, u, noise, w_rec=None, extra=0.0) -> RateState:
        """Eq. (1), one Euler step.

        ``w_rec`` overrides the recurrent weights (innate training); ``extra`` (N,) is an
        additional drive, e.g. a perturbation pulse.
        """
        w_rec = params["w_rec"] if w_rec is None else w_rec
        drive = w_rec @ state.r + params["w_in"] @ u + self.noise_amplitude * noise + extra
        if self.feedback:
            drive = drive + params["w_fb"] @ state.z
        x = state.x + (self.dt / self.tau) * (drive - state.x)
        r = jnp.tanh(x)
        return RateState(x, r, params["w_out"] @ r)

    def run(self, params, inputs, key: jax.Array, state: RateState | None = None, noise: bool = True):
        """Scan over ``inputs`` (T, n_in).  Returns (final state, rates (T, N), outputs (T, n_out))."""
        k0, kn = jax.random.split(key)
        state = self.initial_state(params, k0) if state is None else state
        xi = jax.random.normal(kn, (inputs.shape[0], self.n)) * (1.0 if noise else 0.0)

        def body(s, inp):
            u, e = inp
            s = self.step(params, s, u, e)
            return s, (s.r, s.z)

        state, (rates, outputs) = lax.scan(body, state, (inputs, xi))
        return state, rates, outputs

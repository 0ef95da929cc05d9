r"""Leaky rate RNN in Murray's discrete form (Murray 2019, eLife 8:e43299, Eq. 1).

Equations, with :math:`\alpha = 1/\tau` (τ in time steps), batched as (B, ·)::

    u(t) = W h(t-1) + W_in x(t) + b                      (total input current)
    h(t) = h(t-1) + α [ -h(t-1) + φ(u(t)) ] + σ ξ(t)     (leaky integration, optional process noise)
    y(t) = W_out h(t) + b_out                             (linear readout)

φ = tanh by default.  Initialisation follows the paper's Methods: W ~ N(0, g²/N) with g = 1.5
(chaotic), W_in ~ U[-1, 1], W_out ~ U[-1/√N, 1/√N]; biases start at zero and exist only when
``bias=True``.  h(0) = ``h0``·1 (the paper does not state h(0); its author notebook uses 0.1, and
an autonomous network started at exactly 0 stays at 0).

Structural constraints act through :meth:`RateRNN.effective`, the single place where the
sparsity mask and Dale's law enter the dynamics, and :meth:`RateRNN.constrain`, applied to the
parameters after every update:

* ``sparsity`` — fraction of recurrent connections fixed at zero (a mask drawn once from
  ``connectivity_seed``; no autapses are removed unless masked).
* ``dale=True`` — the first ``round(frac_exc·N)`` units are excitatory (their outgoing weights,
  columns of W, are ≥ 0), the rest inhibitory (≤ 0).  Initial weights are ξ_j|W_ij| and, as in
  the paper (Fig. 2—suppl. 1), a weight an update would push across zero is set to zero.

Every rule sees the same effective weights, so masked entries never receive gradient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp

from ..errors import ConfigError, check_choice, check_positive

_ACTIVATIONS = {
    "tanh": (jnp.tanh, lambda u: 1.0 - jnp.tanh(u) ** 2),
    "relu": (jax.nn.relu, lambda u: (u > 0).astype(u.dtype)),
    "linear": (lambda u: u, lambda u: jnp.ones_like(u)),
}


class StepAux(NamedTuple):
    """What local rules need from one time step (all batched, leading dim B)."""

    u: jax.Array  # pre-activation (B, N)
    dphi: jax.Array  # φ'(u) (B, N)
    h_prev: jax.Array  # presynaptic rate h(t-1) (B, N)
    x: jax.Array  # input x(t) (B, n_in)
    h: jax.Array  # new rate h(t) (B, N)
    y: jax.Array  # readout y(t) (B, n_out)


@dataclass(frozen=True)
class RateRNN:
    """Static settings of a leaky rate RNN; all functions are pure and jit/vmap-able."""

    n_in: int
    n_rec: int
    n_out: int
    tau: float = 10.0
    g: float = 1.5
    activation: str = "tanh"
    bias: bool = False
    noise_std: float = 0.0
    h0: float = 0.1
    dale: bool = False
    frac_exc: float = 0.5
    sparsity: float = 0.0
    connectivity_seed: int = 0
    w_in_scale: float = 1.0

    def __post_init__(self):
        for name in ("n_in", "n_out"):
            v = getattr(self, name)
            if not (isinstance(v, int) and v >= 0):
                raise ConfigError.bad_value(name, v, "a non-negative integer")
        check_positive("n_rec", self.n_rec, integer=True)
        check_positive("tau", self.tau)
        if self.tau < 1:
            raise ConfigError.bad_value("tau", self.tau, "a number >= 1 (time steps)")
        check_choice("activation", self.activation, tuple(_ACTIVATIONS))
        if not 0.0 <= self.sparsity < 1.0:
            raise ConfigError.bad_value("sparsity", self.sparsity, "a fraction in [0, 1)")
        if not 0.0 <= self.frac_exc <= 1.0:
            raise ConfigError.bad_value("frac_exc", self.frac_exc, "a fraction in [0, 1]")
        if self.noise_std < 0:
            raise ConfigError.bad_value("noise_std", self.noise_std, "a non-negative number")
        if self.g < 0:
            raise ConfigError.bad_value("g", self.g, "a non-negative number")

    # -- structure --------------------------------------------------------------------------
    @property
    def alpha(self) -> float:
        return 1.0 / self.tau

    def phi(self, u):
        return _ACTIVATIONS[self.activation][0](u)

    def dphi(self, u):
        return _ACTIVATIONS[self.activation][1](u)

    def rec_mask(self):
        """Fixed 0/1 mask of allowed recurrent connections (all ones without sparsity)."""
        if self.sparsity == 0.0:
            return None
        key = jax.random.key(self.connectivity_seed)
        return (jax.random.uniform(key, (self.n_rec, self.n_rec)) >= self.sparsity).astype(jnp.float32)

    def dale_signs(self):
        """+1 for excitatory, -1 for inhibitory presynaptic units (columns of W); None without Dale."""
        if not self.dale:
            return None
        n_exc = int(round(self.frac_exc * self.n_rec))
        return jnp.where(jnp.arange(self.n_rec) < n_exc, 1.0, -1.0)

    # -- parameters -------------------------------------------------------------------------
    def init(self, key: jax.Array) -> dict:
        """Murray's initialisation (Methods, 'Simulation details')."""
        k_rec, k_in, k_out = jax.random.split(key, 3)
        n = self.n_rec
        params = {
            "w_rec": self.g / jnp.sqrt(n) * jax.random.normal(k_rec, (n, n)),
            "w_in": self.w_in_scale * jax.random.uniform(k_in, (n, self.n_in), minval=-1.0, maxval=1.0),
            "w_out": jax.random.uniform(k_out, (self.n_out, n), minval=-1.0, maxval=1.0) / jnp.sqrt(n),
        }
        if self.bias:
            params["b_rec"] = jnp.zeros((n,))
            params["b_out"] = jnp.zeros((self.n_out,))
        signs = self.dale_signs()
        if signs is not None:
            params["w_rec"] = jnp.abs(params["w_rec"]) * signs[None, :]
        mask = self.rec_mask()
        if mask is not None:
            params["w_rec"] = params["w_rec"] * mask
        return params

    def effective(self, params: dict) -> dict:
        """The weights the dynamics use: sparsity mask applied (the one place it enters)."""
        mask = self.rec_mask()
        if mask is None:
            return params
        return {**params, "w_rec": params["w_rec"] * mask}

    def constrain(self, params: dict) -> dict:
        """Project parameters back onto the constraints after an update (mask; Dale sign clipping)."""
        w = params["w_rec"]
        mask = self.rec_mask()
        if mask is not None:
            w = w * mask
        signs = self.dale_signs()
        if signs is not None:
            w = jnp.where(w * signs[None, :] < 0, 0.0, w)
        return {**params, "w_rec": w}

    def mask_grads(self, grads: dict) -> dict:
        """Zero the gradient of structurally absent connections (explicit rules call this)."""
        mask = self.rec_mask()
        if mask is None or "w_rec" not in grads:
            return grads
        return {**grads, "w_rec": grads["w_rec"] * mask}

    # -- dynamics ---------------------------------------------------------------------------
    def initial_state(self, params: dict, batch_size: int) -> jax.Array:
        return jnp.full((batch_size, self.n_rec), self.h0, dtype=params["w_rec"].dtype)

    def sample_noise(self, key: jax.Array, n_steps: int, batch_size: int):
        """Process noise for a trial, (T, B, N); None when the model is noiseless."""
        if self.noise_std == 0.0:
            return None
        return self.noise_std * jax.random.normal(key, (n_steps, batch_size, self.n_rec))

    def step(self, params: dict, h_prev: jax.Array, x_t: jax.Array, noise_t=None):
        """One time step; ``params`` must already be effective weights.  Returns (h, aux)."""
        u = (params["w_rec"] @ h_prev.T).T + x_t @ params["w_in"].T
        if "b_rec" in params:
            u = u + params["b_rec"]
        h = h_prev + self.alpha * (self.phi(u) - h_prev)
        if noise_t is not None:
            h = h + noise_t
        y = h @ params["w_out"].T
        if "b_out" in params:
            y = y + params["b_out"]
        return h, StepAux(u=u, dphi=self.dphi(u), h_prev=h_prev, x=x_t, h=h, y=y)

    def run(self, params: dict, inputs: jax.Array, h_init=None, noise=None):
        """Run a whole trial: inputs (T, B, n_in) → (final state, StepAux stacked over time)."""
        eff = self.effective(params)
        if h_init is None:
            h_init = self.initial_state(params, inputs.shape[1])

        def body(h, xs):
            x_t, noise_t = xs
            return self.step(eff, h, x_t, noise_t)

        return jax.lax.scan(body, h_init, (inputs, noise))

"""Autonomous periodic output (Murray 2019, eLife 8:e43299, Fig. 2).

No input (a single all-zero channel, so that input weights exist but never matter).  One output
must trace, over one trial of ``period`` steps, the periodic target

    y*(t) = sin(2πt/T) + 0.5 sin(4πt/T) + 0.25 sin(8πt/T),   t = 1..T.

Timing: the paper uses T ∈ {200, 400, 800, 1600} = {20τ, 40τ, 80τ, 160τ} with τ = 10.  The loss
mask is 1 everywhere.  Every trial is identical (the task is deterministic); the network's
initial state h(0) is what starts the pattern.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from .base import Trial, check_int


@dataclass(frozen=True)
class Periodic:
    period: int = 200

    def __post_init__(self):
        check_int("period", self.period)

    n_in = 1
    n_out = 1

    @property
    def n_steps(self) -> int:
        return self.period

    def target(self):
        t = jnp.arange(1, self.period + 1) / self.period
        return jnp.sin(2 * jnp.pi * t) + 0.5 * jnp.sin(4 * jnp.pi * t) + 0.25 * jnp.sin(8 * jnp.pi * t)

    def sample(self, key: jax.Array, batch_size: int = 1) -> Trial:
        del key  # deterministic task
        T = self.period
        targets = jnp.broadcast_to(self.target()[:, None, None], (T, batch_size, 1))
        return Trial(jnp.zeros((T, batch_size, 1)), targets, jnp.ones((T, batch_size, 1)))

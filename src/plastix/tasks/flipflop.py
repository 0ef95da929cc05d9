"""Flip-flop memory (Sussillo & Barak 2013, Neural Comput 25:626).

``n_bits`` input channels carry brief pulses of +1 or −1, each arriving with probability
``p_pulse`` per step and channel.  Output channel k must hold the sign of the most recent pulse
on input k (0 before the first pulse).  The loss mask is 1 everywhere.  Defaults: 3 bits,
T = 100 steps, p = 0.05.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from ..errors import ConfigError
from .base import Trial, check_int


@dataclass(frozen=True)
class FlipFlop:
    n_bits: int = 3
    length: int = 100
    p_pulse: float = 0.05

    def __post_init__(self):
        check_int("n_bits", self.n_bits)
        check_int("length", self.length)
        if not 0.0 < self.p_pulse <= 1.0:
            raise ConfigError.bad_value("p_pulse", self.p_pulse, "a probability in (0, 1]")

    @property
    def n_in(self) -> int:
        return self.n_bits

    @property
    def n_out(self) -> int:
        return self.n_bits

    @property
    def n_steps(self) -> int:
        return self.length

    def sample(self, key: jax.Array, batch_size: int = 1) -> Trial:
        k_on, k_sign = jax.random.split(key)
        shape = (self.length, batch_size, self.n_bits)
        pulses = jax.random.bernoulli(k_on, self.p_pulse, shape) * jnp.where(
            jax.random.bernoulli(k_sign, 0.5, shape), 1.0, -1.0
        )

        def hold(state, p):
            state = jnp.where(p != 0, p, state)
            return state, state

        _, targets = jax.lax.scan(hold, jnp.zeros(shape[1:]), pulses)
        return Trial(pulses, targets, jnp.ones(shape))

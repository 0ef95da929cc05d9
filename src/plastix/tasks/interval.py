"""Interval matching / ready-set-go (Murray 2019, Fig. 3; after Jazayeri & Shadlen 2010).

One input channel carries two Gaussian pulses ("ready" and "set", s.d. ``pulse_sd`` steps,
amplitude 1) separated by a delay T_delay drawn uniformly from [``min_delay``, ``max_delay``]
steps for each trial.  One output must produce a Gaussian pulse of the same shape T_delay steps
after the second input pulse.

Timing (steps): first pulse centred at ``onset``; second at onset + T_delay; target peak at
onset + 2·T_delay; trial length onset + 2·max_delay + 4·pulse_sd.  The loss mask is 1 from the
second pulse onwards (the network cannot know the delay before it); the paper does not state its
mask, so this is our choice.  Defaults: delays 5τ–15τ (τ = 10), s.d. 15 steps as in the paper.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from ..errors import ConfigError
from .base import Trial, check_int


def gaussian_pulse(t, centre, sd):
    return jnp.exp(-0.5 * ((t - centre) / sd) ** 2)


@dataclass(frozen=True)
class Interval:
    min_delay: int = 50
    max_delay: int = 150
    pulse_sd: float = 15.0
    onset: int = 40

    def __post_init__(self):
        check_int("min_delay", self.min_delay)
        check_int("max_delay", self.max_delay)
        check_int("onset", self.onset, 0)
        if self.max_delay < self.min_delay:
            raise ConfigError.bad_value("max_delay", self.max_delay, f"an integer >= min_delay ({self.min_delay})")
        if not self.pulse_sd > 0:
            raise ConfigError.bad_value("pulse_sd", self.pulse_sd, "a positive number")

    n_in = 1
    n_out = 1

    @property
    def n_steps(self) -> int:
        return int(self.onset + 2 * self.max_delay + 4 * self.pulse_sd)

    def trial_for_delays(self, delays: jax.Array) -> Trial:
        """Deterministic trials for given delays (B,), e.g. for test curves of peak time vs delay."""
        t = jnp.arange(self.n_steps)[:, None] * 1.0
        delays = jnp.asarray(delays)[None, :] * 1.0
        set_time = self.onset + delays
        inputs = gaussian_pulse(t, self.onset, self.pulse_sd) + gaussian_pulse(t, set_time, self.pulse_sd)
        targets = gaussian_pulse(t, set_time + delays, self.pulse_sd)
        mask = (t >= set_time) * 1.0
        return Trial(inputs[..., None], targets[..., None], mask[..., None])

    def sample(self, key: jax.Array, batch_size: int = 1) -> Trial:
        delays = jax.random.randint(key, (batch_size,), self.min_delay, self.max_delay + 1)
        return self.trial_for_delays(delays)

"""Delayed non-match to sample (as in Marschall, Cho & Savin 2020's task collection).

Two stimuli, each one of two patterns shown on two input channels (one-hot) for ``stim`` steps,
are separated by a delay.  During the response window after the second stimulus the single
output must be 1 if the two differ (non-match) and 0 if they match.  Timing (steps): sample
[0, stim), delay [stim, stim + delay), test [stim + delay, 2·stim + delay), response
[2·stim + delay, 2·stim + delay + response).  Only the response window is in the loss mask.
Defaults: stim = 5, delay = 10, response = 10 (T = 30).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from .base import Trial, check_int


@dataclass(frozen=True)
class DelayedNonMatch:
    stim: int = 5
    delay: int = 10
    response: int = 10

    def __post_init__(self):
        check_int("stim", self.stim)
        check_int("delay", self.delay, 0)
        check_int("response", self.response)

    n_in = 2
    n_out = 1

    @property
    def n_steps(self) -> int:
        return 2 * self.stim + self.delay + self.response

    def sample(self, key: jax.Array, batch_size: int = 1) -> Trial:
        T = self.n_steps
        first, second = jax.random.bernoulli(key, 0.5, (2, batch_size)) * 1
        t = jnp.arange(T)[:, None]
        s2 = self.stim + self.delay
        in_first = (t < self.stim) * 1.0
        in_second = ((t >= s2) & (t < s2 + self.stim)) * 1.0
        onehot = lambda which: jnp.stack([1.0 - which, which * 1.0], axis=-1)  # (B, 2)
        inputs = in_first[..., None] * onehot(first)[None] + in_second[..., None] * onehot(second)[None]
        respond = (t >= s2 + self.stim) * 1.0
        targets = respond * (first != second)[None, :]
        return Trial(inputs, targets[..., None], jnp.broadcast_to(respond[..., None], (T, batch_size, 1)) * 1.0)

"""Add task (Marschall, Cho & Savin 2020, JMLR 21; after Pitis 2016).

A binary input x(t) ~ Bernoulli(0.5), presented one-hot on two channels (x, 1 − x) and held for
``tau_task`` steps per draw.  The target is

    y*(t) = 0.5 + 0.5 x(t − t1·tau_task) − 0.25 x(t − t2·tau_task),

so the network must remember the input t1 and t2 draws back.  The loss mask is 0 for the first
t2·tau_task steps, where the target depends on inputs before the trial.  Defaults t1 = 5, t2 = 9,
tau_task = 1, T = 100 steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from ..errors import ConfigError
from .base import Trial, check_int


@dataclass(frozen=True)
class Add:
    t1: int = 5
    t2: int = 9
    tau_task: int = 1
    length: int = 100

    def __post_init__(self):
        check_int("t1", self.t1)
        check_int("t2", self.t2)
        check_int("tau_task", self.tau_task)
        check_int("length", self.length)
        if self.t2 * self.tau_task >= self.length:
            raise ConfigError.bad_value("length", self.length, f"an integer > t2·tau_task = {self.t2 * self.tau_task}")

    n_in = 2
    n_out = 1

    @property
    def n_steps(self) -> int:
        return self.length

    def sample(self, key: jax.Array, batch_size: int = 1) -> Trial:
        T, k = self.length, self.tau_task
        n_draws = -(-T // k)
        draws = jax.random.bernoulli(key, 0.5, (n_draws, batch_size)) * 1.0
        x = jnp.repeat(draws, k, axis=0)[:T]
        lag1, lag2 = self.t1 * k, self.t2 * k
        shifted = lambda lag: jnp.concatenate([jnp.zeros((lag, batch_size)), x[: T - lag]], axis=0)
        y = 0.5 + 0.5 * shifted(lag1) - 0.25 * shifted(lag2)
        mask = (jnp.arange(T) >= lag2)[:, None, None] * jnp.ones((T, batch_size, 1))
        return Trial(jnp.stack([x, 1.0 - x], axis=-1), y[..., None], mask)

"""Mimic task (Marschall, Cho & Savin 2020): reproduce the outputs of a random teacher RNN.

A teacher :class:`~plastix.models.RateRNN` (``teacher_n_rec`` units, gain ``teacher_g``, drawn
from ``teacher_seed``) receives Bernoulli(0.5) inputs on ``n_in`` channels; its readout is the
target.  The student sees the same inputs.  The teacher starts each trial from its default
h(0); the mask is 0 for the first ``burn_in`` steps.  Defaults: 2 inputs, 1 output, 16 teacher
units, g = 1.2, T = 100, burn-in 10 steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from .base import Trial, check_int


@dataclass(frozen=True)
class Mimic:
    n_in: int = 2
    n_out: int = 1
    teacher_n_rec: int = 16
    teacher_g: float = 1.2
    teacher_tau: float = 5.0
    teacher_seed: int = 1234
    length: int = 100
    burn_in: int = 10

    def __post_init__(self):
        for f in ("n_in", "n_out", "teacher_n_rec", "length"):
            check_int(f, getattr(self, f))
        check_int("burn_in", self.burn_in, 0)

    @property
    def n_steps(self) -> int:
        return self.length

    def teacher(self):
        from ..models import RateRNN

        model = RateRNN(self.n_in, self.teacher_n_rec, self.n_out, tau=self.teacher_tau, g=self.teacher_g)
        return model, model.init(jax.random.key(self.teacher_seed))

    def sample(self, key: jax.Array, batch_size: int = 1) -> Trial:
        inputs = jax.random.bernoulli(key, 0.5, (self.length, batch_size, self.n_in)) * 1.0
        model, params = self.teacher()
        _, aux = model.run(params, inputs)
        mask = (jnp.arange(self.length) >= self.burn_in)[:, None, None] * jnp.ones_like(aux.y)
        return Trial(inputs, aux.y, mask)

"""Pattern generation from frozen Poisson input (Bellec et al. 2020, Nat. Commun., Fig. S7).

``n_in`` input neurons fire Poisson spikes at ``rate_hz`` (p = rate·δt per 1 ms step); the
spike pattern is drawn once from ``input_seed`` and is the same in every trial ("frozen
noise").  One output must trace, over ``duration`` steps (1 s by default), a sum of sines at
1, 2, 3 and 5 Hz (periods 1000, 500, 333, 200 ms)::

    y*(t) = Σ_k A_k sin(2π f_k t + φ_k) − (same at t = 0),   then scaled to max_t |y*(t)| = 1,

with A_k ~ U[0.5, 2] and φ_k ~ U[0, 2π] drawn once from ``target_seed`` (t in seconds,
t = 0..T−1 ms).  The loss mask is 1 everywhere.  Every trial is identical; the key is ignored.
Defaults as in the reference tutorial: 100 inputs at 50 Hz, T = 1000 steps.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ConfigError
from .base import Trial, check_int


@dataclass(frozen=True)
class PatternGeneration:
    n_in: int = 100
    rate_hz: float = 50.0
    duration: int = 1000
    frequencies: tuple = (1.0, 2.0, 3.0, 5.0)
    input_seed: int = 0
    target_seed: int = 1

    n_out = 1

    def __post_init__(self):
        check_int("n_in", self.n_in)
        check_int("duration", self.duration)
        check_int("input_seed", self.input_seed, 0)
        check_int("target_seed", self.target_seed, 0)
        if not (isinstance(self.rate_hz, (int, float)) and 0 < self.rate_hz < 1000):
            raise ConfigError.bad_value("rate_hz", self.rate_hz, "a rate in Hz in (0, 1000)")
        freqs = tuple(self.frequencies)
        if not freqs or any(not isinstance(f, (int, float)) or f <= 0 for f in freqs):
            raise ConfigError.bad_value("frequencies", self.frequencies, "a non-empty list of positive frequencies (Hz)")
        object.__setattr__(self, "frequencies", tuple(float(f) for f in freqs))

    @property
    def n_steps(self) -> int:
        return self.duration

    def frozen_inputs(self) -> np.ndarray:
        """The input spike pattern (T, n_in), the same in every trial."""
        return _frozen_inputs(self.input_seed, self.duration, self.n_in, self.rate_hz)

    def target(self) -> np.ndarray:
        """The target y*(t), (T,)."""
        return _target(self.target_seed, self.duration, self.frequencies)

    def sample(self, key: jax.Array, batch_size: int = 1) -> Trial:
        del key  # frozen input, fixed target: constants of the compiled training step
        T = self.duration
        inputs = jnp.broadcast_to(jnp.asarray(self.frozen_inputs())[:, None, :], (T, batch_size, self.n_in))
        targets = jnp.broadcast_to(jnp.asarray(self.target())[:, None, None], (T, batch_size, 1))
        return Trial(inputs, targets, jnp.ones((T, batch_size, 1)))


# Drawn once per setting, eagerly even when ``sample`` is traced, so that a training step does
# not redraw 10⁵ random numbers per trial.
@functools.lru_cache(maxsize=16)
def _frozen_inputs(seed: int, duration: int, n_in: int, rate_hz: float) -> np.ndarray:
    with jax.ensure_compile_time_eval():
        spikes = jax.random.bernoulli(jax.random.key(seed), rate_hz / 1000.0, (duration, n_in))
        return np.asarray(spikes, dtype=np.float32)


@functools.lru_cache(maxsize=16)
def _target(seed: int, duration: int, frequencies: tuple) -> np.ndarray:
    with jax.ensure_compile_time_eval():
        k_amp, k_phase = jax.random.split(jax.random.key(seed))
        n = len(frequencies)
        amps = np.asarray(jax.random.uniform(k_amp, (n,), minval=0.5, maxval=2.0), np.float64)
        phases = np.asarray(jax.random.uniform(k_phase, (n,), minval=0.0, maxval=2 * np.pi), np.float64)
    t = np.arange(duration) / 1000.0
    y = np.sum(amps * np.sin(2 * np.pi * np.asarray(frequencies) * t[:, None] + phases), axis=1)
    y = y - y[0]
    return (y / np.max(np.abs(y))).astype(np.float32)

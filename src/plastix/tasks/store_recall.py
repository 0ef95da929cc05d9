"""Store-recall memory (Bellec et al. 2018, LSNN; the 2019 e-prop tutorial ``tutorial_store_recall``).

``n_in`` = 100 input neurons in 4 equal groups: bit 0, bit 1, store, recall.  A trial is
``n_symbols`` = 12 periods of ``t_symbol`` = 200 ms.  In every period one bit group (chosen at
random) fires at ``f_in`` = 50 Hz.  In one period (the store period) the store group fires too;
``d`` periods later (the recall period) the recall group fires.  d is uniform on
{1, …, 2·mean_delay − 1} (mean ``mean_delay`` = 6 periods = 1.2 s), the store period uniform on
the periods that leave room for it.  During the recall period the network must report the bit
that was shown in the store period: one-hot over two outputs, in the loss mask only there.

Differences from the 2019 tutorial (which draws store/recall commands per period at random):
exactly one store and one recall per trial here, so every trial has a defined answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from ..errors import ConfigError
from .base import Trial, check_int


@dataclass(frozen=True)
class StoreRecall:
    n_in: int = 100
    n_symbols: int = 12
    t_symbol: int = 200
    mean_delay: int = 6
    f_in: float = 50.0

    n_out = 2
    loss = "xent"

    def __post_init__(self):
        check_int("n_in", self.n_in, 4)
        if self.n_in % 4:
            raise ConfigError.bad_value("n_in", self.n_in, "a multiple of 4 (bit 0, bit 1, store, recall groups)")
        check_int("t_symbol", self.t_symbol)
        check_int("mean_delay", self.mean_delay)
        check_int("n_symbols", self.n_symbols, 2)
        if self.n_symbols < 2 * self.mean_delay:
            raise ConfigError.bad_value("n_symbols", self.n_symbols, f"an integer >= 2·mean_delay = {2 * self.mean_delay}")
        if not (isinstance(self.f_in, (int, float)) and 0 < self.f_in < 1000):
            raise ConfigError.bad_value("f_in", self.f_in, "a rate in Hz in (0, 1000)")

    @property
    def n_steps(self) -> int:
        return self.n_symbols * self.t_symbol

    def sample(self, key: jax.Array, batch_size: int = 1) -> Trial:
        k_bits, k_delay, k_store, k_spikes = jax.random.split(key, 4)
        n, g, T = self.n_symbols, self.n_in // 4, self.n_steps
        bits = jax.random.bernoulli(k_bits, 0.5, (batch_size, n)).astype(jnp.int32)
        delay = jax.random.randint(k_delay, (batch_size,), 1, 2 * self.mean_delay)
        store = jnp.floor(jax.random.uniform(k_store, (batch_size,)) * (n - delay)).astype(jnp.int32)
        recall = store + delay
        period = jnp.arange(T) // self.t_symbol  # (T,)
        bit_now = bits[:, period].T  # (T, B)
        store_on = period[:, None] == store[None]
        recall_on = period[:, None] == recall[None]
        p = self.f_in / 1000.0
        group_prob = jnp.stack([(bit_now == 0) * p, (bit_now == 1) * p, store_on * p, recall_on * p], axis=-1)
        inputs = jax.random.bernoulli(k_spikes, jnp.repeat(group_prob, g, axis=-1)).astype(jnp.float32)
        stored = jnp.take_along_axis(bits, store[:, None], axis=1)[:, 0]
        targets = jnp.broadcast_to(jax.nn.one_hot(stored, 2)[None], (T, batch_size, 2))
        mask = jnp.broadcast_to(recall_on[..., None], (T, batch_size, 2)).astype(jnp.float32)
        return Trial(inputs, targets, mask)

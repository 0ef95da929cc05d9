"""The task interface: whole trials with a loss mask, batched as (T, B, ·)."""

from __future__ import annotations

from typing import NamedTuple

import jax


class Trial(NamedTuple):
    """A batch of trials.  ``mask`` is 1 where the output counts towards the loss."""

    inputs: jax.Array  # (T, B, n_in)
    targets: jax.Array  # (T, B, n_out)
    mask: jax.Array  # (T, B, n_out)

    @property
    def n_steps(self) -> int:
        return self.inputs.shape[0]

    @property
    def batch_size(self) -> int:
        return self.inputs.shape[1]


def check_int(field: str, value, minimum: int = 1) -> int:
    from ..errors import ConfigError

    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError.bad_value(field, value, f"an integer >= {minimum}")
    return value

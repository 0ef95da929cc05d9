r"""A rate RNN whose readout feeds back as an input current: the readout-only network of Murray
2019, Fig. 2—figure supplement 2.

The readout is fed back through a fixed random matrix B_fb (N × n_out, entries N(0, σ²),
σ = ``feedback_std``; the paper uses the feedback matrix B, N(0, 1)):

    u(t) = W h(t−1) + W_in x(t) + B_fb y(t−1),     y(t−1) = W_out h(t−1)

so that  u(t) = (W + B_fb W_out) h(t−1) + W_in x(t).  The feedback therefore enters through
:meth:`~OutputFeedbackRNN.effective` as a rank-n_out change of the recurrent matrix, and every
rule runs the network unchanged (a thin subclass of :class:`~plastix.models.rate.RateRNN`: no
copied dynamics).  B_fb is stored in ``params["w_fb"]``; the readout-only rule never changes it.
Caveat: the readout rule's gradient εhᵀ ignores the path W_out → B_fb y → h (as in echo-state /
FORCE training, and as in the paper); it is the exact gradient only of the direct readout term.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax

from ..errors import ConfigError
from .rate import RateRNN

_FEEDBACK_KEY_SALT = 7919  # B_fb is drawn from fold_in(key, salt): W, W_in, W_out stay the base model's


@dataclass(frozen=True)
class OutputFeedbackRNN(RateRNN):
    """Rate RNN whose readout feeds back as input current through fixed random weights."""

    feedback_std: float = 1.0

    def __post_init__(self):
        super().__post_init__()
        if not self.feedback_std >= 0:
            raise ConfigError.bad_value("feedback_std", self.feedback_std, "a non-negative number")

    def init(self, key: jax.Array) -> dict:
        # Same W, W_in, W_out as RateRNN for the same key, so comparisons are paired by seed.
        params = super().init(key)
        k_fb = jax.random.fold_in(key, _FEEDBACK_KEY_SALT)
        params["w_fb"] = self.feedback_std * jax.random.normal(k_fb, (self.n_rec, self.n_out))
        return params

    def effective(self, params: dict) -> dict:
        eff = super().effective(params)
        return {**eff, "w_rec": eff["w_rec"] + eff["w_fb"] @ eff["w_out"]}

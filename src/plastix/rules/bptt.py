"""Backpropagation through time: the exact gradient of the masked trial loss by JAX autodiff.

    ∂L/∂θ  with  L = 1/(2T) Σ_t Σ_k m_k(t) (y*_k(t) − y_k(t))²   (or the cross-entropy of ``base``),

differentiating through ``lax.scan`` over the model's own step function, so BPTT needs no
hand-written adjoint.  Memory grows as O(N·T) (the scan stores every state for the backward
pass).  Used online (update every k steps) it becomes truncated BPTT: each segment's gradient
treats the state entering the segment as a constant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, final

import jax

from .base import NetworkCarry, Rule, Stretch, loss_value


def trial_loss(model, params, h_init, inputs, targets, mask, noise, n_total, loss="mse"):
    """Masked loss of a stretch of trial (divided by the full length ``n_total``) and final state."""
    h_final, aux = model.run(params, inputs, h_init=h_init, noise=noise)
    return loss_value(aux.y, targets, mask, n_total, loss), h_final


@final
@dataclass(frozen=True)
class BPTT(Rule):
    """Exact gradient by autodiff through the trial (truncated BPTT when used online)."""

    name: ClassVar[str] = "bptt"

    def segment(self, params, rule_state, carry, stretch: Stretch, n_total):
        h_init = jax.lax.stop_gradient(carry.h)
        (loss, h_final), grads = jax.value_and_grad(
            lambda p: trial_loss(self.model, p, h_init, *stretch, n_total, self.loss), has_aux=True
        )(params)
        return NetworkCarry(h_final), self.restrict(grads), {"loss": loss}

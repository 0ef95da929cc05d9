r"""Model and rule variants that Murray 2019's supplementary figures need, built on the foundation.

Small pieces, each a thin subclass of a foundation class (no copied dynamics, no copied
rule):

``OutputFeedbackRNN`` — the readout-only network of Fig. 2—figure supplement 2, whose readout
feeds back as an input current — is a model: :mod:`plastix.models.output_feedback`.

``GainScaledReadoutRNN`` — Fig. 2—figure supplement 3 initialises the readout as
W_out ~ U(−1, 1)·g/√N (the readout scale follows the recurrent gain g); the base model uses
U(−1, 1)/√N.

``NonlocalFeedbackAdjoint`` — the "random feedback, nonlocal" variant of Fig. 2d computed in
reverse mode.  The foundation's ``rflo_nonlocal`` carries RTRL's influence tensor
M_jab(t) = ∂h_j(t)/∂W_ab forward, O(N⁴) time per step, and estimates

    ĝ_ab = −(1/T) Σ_t Σ_j [F ε(t)]_j M_jab(t)            (F = B random, or W_outᵀ)

This is a vector–Jacobian product of the trajectory h(1..T) with the cotangent
c(t) = −(1/T) F ε(t), holding ε fixed: ĝ = Σ_t c(t)ᵀ ∂h(t)/∂θ.  Reverse-mode autodiff of
``model.run`` computes exactly that in O(N²) per step (like BPTT, O(N·T) memory), so the same
estimate is ~N² times cheaper: at N = 30, T = 800, 9 networks, 10⁴ trials it takes minutes
instead of ~4 hours.  With F = W_outᵀ it is exact BPTT.  The readout gradient −(1/T) Σ ε hᵀ is
exact, as in every rule.  Exact when h does not depend on W_out (true for ``RateRNN``, not for
``OutputFeedbackRNN``); the tests check it against the foundation's forward-mode ``rflo_nonlocal``
to float64 precision.  It is an estimate for per-trial (or per-segment) updates only: it cannot
update online inside a segment, where the forward-mode rule can.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, final

import jax
import jax.numpy as jnp

from ..models.rate import RateRNN
from ..rules.base import FEEDBACK_KINDS, NetworkCarry, Rule, init_feedback, loss_value, output_error
from ..validation import choice, positive, setting


@dataclass(frozen=True)
class GainScaledReadoutRNN(RateRNN):
    """Rate RNN with W_out ~ U(−1, 1)·g/√N (Murray 2019, Fig. 2—figure supplement 3)."""

    def init(self, key: jax.Array) -> dict:
        params = super().init(key)
        return {**params, "w_out": self.g * params["w_out"]}


@final
@dataclass(frozen=True)
class NonlocalFeedbackAdjoint(Rule):
    """RTRL's estimate with feedback F (random B by default), computed in reverse mode."""

    feedback: str = setting("random", choice(*FEEDBACK_KINDS))
    feedback_scale: float = setting(1.0, positive())
    name: ClassVar[str] = "rflo_nonlocal"

    def init(self, params, key):
        return init_feedback(self.model, params, key, self.feedback, self.feedback_scale)

    def fixed_feedback(self, params, rule_state):
        return rule_state.feedback if self.feedback == "random" else None

    def segment(self, params, rule_state, carry, stretch, n_total):
        h_init = jax.lax.stop_gradient(carry.h)
        inputs, targets, mask, noise = stretch

        def trajectory(p):
            h_final, aux = self.model.run(p, inputs, h_init=h_init, noise=noise)
            return aux.h, (h_final, aux.y)

        hs, pullback, (h_final, ys) = jax.vjp(trajectory, params, has_aux=True)
        err = output_error(ys, targets, mask, self.loss)  # (T, B, n_out), held fixed
        eff = self.model.effective(params)
        fb = eff["w_out"].T if self.feedback == "symmetric" else rule_state.feedback  # (N, n_out)
        scale = -1.0 / (n_total * inputs.shape[1])
        (grads,) = pullback(scale * (err @ fb.T))
        grads = dict(grads)
        grads["w_out"] = scale * jnp.einsum("tbk,tbn->kn", err, hs)
        if "b_out" in params:
            grads["b_out"] = scale * err.sum((0, 1))
        loss = loss_value(ys, targets, mask, n_total, self.loss)
        return NetworkCarry(h_final), self.restrict(grads), {"loss": loss}

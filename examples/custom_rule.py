"""A complete learning rule outside plastix: RFLO with its own eligibility time constant.

Murray's RFLO filters each synapse's eligibility with the network's time constant τ.  This rule
gives the trace its own, τ_e (``trace_tau``, in steps; β = 1/τ_e, α = 1/τ as in the network):

    p_ab(t) = (1 − β) p_ab(t−1) + β φ'(u_a(t)) h_b(t−1)        (recurrent weights)   (1)
    q_ab(t) = (1 − β) q_ab(t−1) + β φ'(u_a(t)) x_b(t)          (input weights)       (2)
    ∂L/∂W_ab ≈ −(1/T) Σ_t [B ε(t)]_a p_ab(t) · α/β                                  (3)

(the factor α/β keeps the step size of RFLO's when τ_e = τ; then the rule *is* RFLO).  B is a
fixed random matrix (``feedback="random"``) or W_outᵀ (``"symmetric"``); the readout gradient is
exact (the base class adds it).

Use it from the command line:

    plastix compare --rules examples/custom_rule.py:CustomRule,rflo --set rule_options.'"examples/custom_rule.py:CustomRule"'.trace_tau=20

or from Python: ``plastix.rules.get("examples/custom_rule.py:CustomRule", model, trace_tau=20)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, final

import jax.numpy as jnp

from plastix.rules import TraceRule
from plastix.validation import choice, number, setting


@final
@dataclass(frozen=True)
class CustomRule(TraceRule):
    """RFLO whose eligibility traces decay with their own time constant τ_e."""

    feedback: str = setting("random", choice("random", "symmetric"))
    trace_tau: float = setting(10.0, number(1, accepted="a number of time steps ≥ 1"))  # τ_e

    name: ClassVar[str] = "rflo_tau_e"

    def init_traces(self, params, batch_size):
        n, dtype = params["w_rec"].shape[0], params["w_rec"].dtype
        return {
            "w_rec": jnp.zeros((batch_size, n, n), dtype),
            "w_in": jnp.zeros((batch_size, n, params["w_in"].shape[1]), dtype),
        }

    def update_traces(self, params, traces, aux, x_prev):
        beta = 1.0 / self.trace_tau
        return {  # Eqs. (1)–(2): aux holds φ'(u(t)), h(t−1) and x(t) of this step
            "w_rec": (1 - beta) * traces["w_rec"] + beta * aux.dphi[:, :, None] * aux.h_prev[:, None, :],
            "w_in": (1 - beta) * traces["w_in"] + beta * aux.dphi[:, :, None] * aux.x[:, None, :],
        }

    def trace_grads(self, params, traces, signal, n_total):
        # Eq. (3); ``signal`` is the learning signal B ε(t), (batch, N)
        scale = -(self.model.alpha * self.trace_tau) / (n_total * signal.shape[0])
        return {name: scale * jnp.einsum("ba,bac->ac", signal, p) for name, p in traces.items()}

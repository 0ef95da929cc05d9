"""Random-feedback local online learning (RFLO; Murray 2019, eLife 8:e43299, Eqs. 5–6).

RFLO makes two approximations to RTRL's influence tensor (see ``rtrl.py``):

1. Locality: the nonlocal term Σ_k W_jk M_kab is dropped, so only the diagonal j = a survives
   and each synapse keeps one eligibility trace (α = 1/τ):

       p_ab(t) = (1−α) p_ab(t−1) + α φ'(u_a(t)) h_b(t−1)      (recurrent)          (1)
       q_ab(t) = (1−α) q_ab(t−1) + α φ'(u_a(t)) x_b(t)        (input)              (2)
       r_a(t)  = (1−α) r_a(t−1)  + α φ'(u_a(t))               (bias, if present)   (3)

2. Random feedback: the error reaches unit a through a fixed random matrix B (N × n_out),
   B_ij ~ N(0, σ_B²), instead of W_outᵀ.  The gradient estimate is

       ∂L/∂W_ab ≈ −(1/T) Σ_t [B ε(t)]_a p_ab(t)                                        (4)

   (and the same with q, r); the readout gradient −(1/T) Σ_t ε(t) h(t)ᵀ is exact.

Options (the four variants of Murray's Fig. 2d):
* ``feedback``: ``"random"`` (B, scale ``feedback_scale`` = σ_B) or ``"symmetric"`` (W_outᵀ).
* ``locality``: ``"local"`` (traces 1–3) or ``"nonlocal"`` (RTRL's full influence tensor with
  the chosen feedback).
* ``paper_input_lag``: use x_b(t−1) in (2), as printed in the paper's Eq. 6 and in the author's
  notebook; the default x_b(t) is the exact immediate Jacobian (the spec's §1.5).

Caveats: with symmetric feedback and zero traces, the first step equals RTRL exactly; after that
the dropped term makes RFLO an approximation whose error grows with the task's time scale.  The
effective recurrent learning rate scales with ‖B‖/‖W_out‖, so σ_B is a hyperparameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, final

import jax.numpy as jnp

from ..errors import ConfigError
from . import rtrl
from ..validation import boolean, choice, setting
from .base import FEEDBACK_KINDS, TraceRule

LOCALITIES = ("local", "nonlocal")


@final
@dataclass(frozen=True)
class RFLO(TraceRule):
    feedback: str = setting("random", choice(*FEEDBACK_KINDS))
    locality: str = setting("local", choice(*LOCALITIES))
    paper_input_lag: bool = setting(False, boolean())
    name: ClassVar[str] = "rflo"

    def __post_init__(self):
        super().__post_init__()
        if self.paper_input_lag and self.locality == "nonlocal":
            raise ConfigError.bad_value("paper_input_lag", True, "False when locality='nonlocal'")

    def init_traces(self, params, batch_size):
        if self.locality == "nonlocal":
            return rtrl.init_influence(params, batch_size)
        n = params["w_rec"].shape[0]
        dtype = params["w_rec"].dtype
        traces = {
            "w_rec": jnp.zeros((batch_size, n, n), dtype),
            "w_in": jnp.zeros((batch_size, n, params["w_in"].shape[1]), dtype),
        }
        if "b_rec" in params:
            traces["b_rec"] = jnp.zeros((batch_size, n), dtype)
        return traces

    def update_traces(self, params, traces, aux, x_prev):
        alpha = self.model.alpha
        if self.locality == "nonlocal":
            return rtrl.update_influence(params, traces, aux, alpha)
        x = x_prev if self.paper_input_lag else aux.x
        decay = 1.0 - alpha
        new = {
            "w_rec": decay * traces["w_rec"] + alpha * aux.dphi[:, :, None] * aux.h_prev[:, None, :],
            "w_in": decay * traces["w_in"] + alpha * aux.dphi[:, :, None] * x[:, None, :],
        }
        if "b_rec" in traces:
            new["b_rec"] = decay * traces["b_rec"] + alpha * aux.dphi
        return new

    def trace_grads(self, params, traces, signal, n_total):
        if self.locality == "nonlocal":
            return rtrl.influence_grads(traces, signal, n_total)
        scale = -1.0 / (n_total * signal.shape[0])
        grads = {name: scale * jnp.einsum("ba,ba...->a...", signal, p) for name, p in traces.items()}
        return grads


@final
@dataclass(frozen=True)
class ReadoutOnly(TraceRule):
    """Only the readout learns (exact readout gradient); recurrent and input weights stay fixed."""

    name: ClassVar[str] = "readout"

    def init_traces(self, params, batch_size):
        return {}

    def update_traces(self, params, traces, aux, x_prev):
        return traces

    def trace_grads(self, params, traces, signal, n_total):
        return {}

    def restrict(self, grads):
        keep = ("w_out", "b_out")
        return {k: (g if k in keep else jnp.zeros_like(g)) for k, g in grads.items()}

"""Real-time recurrent learning: the exact gradient computed forward in time.

The influence tensor M_jab(t) = ∂h_j(t)/∂W_ab obeys (Murray 2019, Eqs. 3–4; α = 1/τ)

    M_jab(t) = (1−α) M_jab(t−1) + α φ'(u_j(t)) [ Σ_k W_jk M_kab(t−1) + δ_ja h_b(t−1) ]   (1)

and likewise for input weights (x_b(t) in place of h_b(t−1)) and the recurrent bias (1 in its
place), from M(0) = 0.  The gradient of the masked loss is

    ∂L/∂W_ab = −(1/T) Σ_t Σ_j [Fᵀ ε(t)]_j M_jab(t)                                       (2)

with F = W_out (exact RTRL).  Process noise is additive and does not enter (1).  The readout
gradient −(1/T) Σ_t ε(t) h(t)ᵀ is exact and needs no trace.

Cost per step: O(N⁴) time (the contraction W·M) and O(N³) memory, whatever the trial length, so
RTRL is usable online.  Applied at trial end it equals BPTT exactly.

``feedback="random"`` replaces W_out in (2) by a fixed random matrix B: the "random feedback,
nonlocal" variant of Murray's Fig. 2d (``rules.get("rflo", locality="nonlocal")`` is the same).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, final

import jax.numpy as jnp

from .base import TraceRule


def init_influence(params: dict, batch_size: int) -> dict:
    n = params["w_rec"].shape[0]
    dtype = params["w_rec"].dtype
    m = {
        "w_rec": jnp.zeros((batch_size, n, n, n), dtype),
        "w_in": jnp.zeros((batch_size, n, n, params["w_in"].shape[1]), dtype),
    }
    if "b_rec" in params:
        m["b_rec"] = jnp.zeros((batch_size, n, n), dtype)
    return m


def update_influence(params: dict, influence: dict, aux, alpha: float) -> dict:
    """Eq. (1) for every recurrent-side parameter."""
    eye = jnp.eye(params["w_rec"].shape[0], dtype=params["w_rec"].dtype)
    presynaptic = {"w_rec": aux.h_prev, "w_in": aux.x}
    new = {}
    for name, m in influence.items():
        # Σ_k W_jk M_k… + δ_ja·(presynaptic factor): a dense form (not a scatter), which XLA fuses
        # with the elementwise update; the contraction is one GEMM per step (O(N⁴)).
        batch, n = m.shape[:2]
        total = jnp.matmul(params["w_rec"], m.reshape(batch, n, -1)).reshape(m.shape)
        if name == "b_rec":
            total = total + eye[None]
        else:
            total = total + eye[None, :, :, None] * presynaptic[name][:, None, None, :]
        dphi = aux.dphi.reshape(aux.dphi.shape + (1,) * (m.ndim - 2))
        new[name] = (1 - alpha) * m + alpha * dphi * total
    return new


def influence_grads(influence: dict, signal, n_total: int) -> dict:
    """Eq. (2): contract the learning signal (B, N) with the influence tensor, mean over batch."""
    scale = -1.0 / (n_total * signal.shape[0])
    return {
        name: scale * jnp.tensordot(signal, m.reshape(m.shape[:2] + (-1,)), axes=([0, 1], [0, 1])).reshape(m.shape[2:])
        for name, m in influence.items()
    }


@final
@dataclass(frozen=True)
class RTRL(TraceRule):
    """Exact RTRL (Eqs. 1–2); ``feedback="random"`` is Murray's "random feedback, nonlocal"."""

    name: ClassVar[str] = "rtrl"

    def init_traces(self, params, batch_size):
        return init_influence(params, batch_size)

    def update_traces(self, params, traces, aux, x_prev):
        return update_influence(params, traces, aux, self.model.alpha)

    def trace_grads(self, params, traces, signal, n_total):
        return influence_grads(traces, signal, n_total)

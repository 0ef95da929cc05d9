r"""e-prop's block algebra: everything e-prop needs from a block of K steps, as matrix products.

The eligibility recursions of ``rules/eprop.py`` (Eqs. 2, 5, 6 there) are linear in e with
coefficients that depend on the postsynaptic neuron only, so a block of K steps is brought up to
date with GEMMs instead of an O(B·N·M) update per step:

* Σ_t L(t) ē(t) = κ Λ(1) ē_in + Σ_s c_κ Λ(s) e(s),  with Λ(s) = L(s) + κ Λ(s+1) (backward in
  the block);
* Σ_s w(s) e(s) = Σ_s ψ(s) [w(s) − μ(s+1)] p(s) − μ(1) ε^a_in for any per-neuron weights w,
  with the adjoint μ(s) = w(s) ψ(s) β + (ρ − β ψ(s)) μ(s+1), μ(K+1) = 0;
* ē and ε^a at the end of the block are two more such sums.

Arrays: psi (K, B, N), pre (K, B, M), per-neuron weights (K, B, N), eps_a (B, N, M).
:func:`stream_step` is the literal per-step recursion (the reference the blocks are tested
against); :func:`eligibility_traces` computes e(t) for a whole trial (tests and figures only).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..models.spiking import SCAN_UNROLL


class EPropTraces(NamedTuple):
    """What e-prop carries from step to step, O(synapses) per trial in the batch.

    ``x_bar`` (B, n_in) and ``z_bar`` (B, N): presynaptic traces (Eqs. 3–4); ``z_out`` (B, N) and
    ``s_out`` (): readout-filtered spikes and bias input; ``ebar`` (B, N, n_in + N): the filtered
    eligibility trace; ``eps_a``: its adaptation component (None without adapting neurons).
    """

    x_bar: jax.Array
    z_bar: jax.Array
    z_out: jax.Array
    s_out: jax.Array
    ebar: jax.Array
    eps_a: jax.Array | None


def zero_traces(model, batch_size: int, dtype) -> EPropTraces:
    n, n_pre = model.n_rec, model.n_in + model.n_rec
    eps_a = jnp.zeros((batch_size, n, n_pre), dtype) if model.adaptive else None
    return EPropTraces(
        x_bar=jnp.zeros((batch_size, model.n_in), dtype),
        z_bar=jnp.zeros((batch_size, n), dtype),
        z_out=jnp.zeros((batch_size, n), dtype),
        s_out=jnp.zeros((), dtype),
        ebar=jnp.zeros((batch_size, n, n_pre), dtype),
        eps_a=eps_a,
    )


def largest_divisor_at_most(n: int, k: int) -> int:
    """The largest divisor of ``n`` that is ≤ ``k`` (block length that tiles a stretch exactly)."""
    k = max(1, min(k, n))
    for d in range(k, 0, -1):
        if n % d == 0:
            return d
    return 1


def _decay_matrix(decay: float, k: int, dtype):
    """Lower-triangular Toeplitz D[s, r] = decay^(s−r) for r ≤ s (a constant of the block length)."""
    lag = np.arange(k)[:, None] - np.arange(k)[None, :]
    return jnp.asarray(np.where(lag >= 0, float(decay) ** np.maximum(lag, 0), 0.0), dtype)


def causal_filter(x, decay: float, scale: float, init):
    """f(s) = decay·f(s−1) + scale·x(s), s = 1..K, f(0) = ``init``; x (K, ...) → (K, ...)."""
    k = x.shape[0]
    flat = x.reshape(k, -1)
    powers = jnp.asarray(float(decay) ** np.arange(1, k + 1), x.dtype)
    out = scale * (_decay_matrix(decay, k, x.dtype) @ flat) + powers[:, None] * init.reshape(1, -1)
    return out.reshape(x.shape)


def anticausal_filter(x, decay: float):
    """Λ(s) = Σ_{t≥s} decay^(t−s) x(t) over a block (backward in time, zero after the block)."""
    k = x.shape[0]
    return (_decay_matrix(decay, k, x.dtype).T @ x.reshape(k, -1)).reshape(x.shape)


def _reverse_linear(signal, coeff):
    """μ(s) = signal(s) + coeff(s)·μ(s+1), μ(K+1) = 0, by a parallel (associative) scan."""

    def compose(later, earlier):
        c_l, w_l = later
        c_e, w_e = earlier
        return c_l * c_e, w_e + c_e * w_l

    return jax.lax.associative_scan(compose, (coeff, signal), reverse=True)[1]


def block_e_sum(w, psi, pre, beta, rho, eps_a_in, sum_batch: bool):
    """Σ_s w_bj(s) e_bji(s) over a block (Eqs. 5–6 eliminated by the adjoint μ)."""
    if eps_a_in is None:
        return jnp.einsum("kbj,kbi->ji" if sum_batch else "kbj,kbi->bji", psi * w, pre)
    mu = _reverse_linear(w * psi * beta, rho - beta * psi)
    mu_next = jnp.concatenate([mu[1:], jnp.zeros_like(mu[:1])], axis=0)
    q = psi * (w - mu_next)
    if sum_batch:
        return jnp.einsum("kbj,kbi->ji", q, pre) - jnp.einsum("bj,bji->ji", mu[0], eps_a_in)
    return jnp.einsum("kbj,kbi->bji", q, pre) - mu[0][:, :, None] * eps_a_in


def block_ebar_sum(lam, kappa, c_kappa, psi, pre, beta, rho, ebar_in, eps_a_in, sum_batch: bool):
    """Σ_s w_bj(s) ē_bji(s) over a block, given Λ = ``anticausal_filter(w, κ)``.

    ē(s) = κ ē(s−1) + c_κ e(s) from ē(0) = ``ebar_in``, so the sum is
    κ Λ(1) ē_in + Σ_s c_κ Λ(s) e(s)."""
    inner = block_e_sum(c_kappa * lam, psi, pre, beta, rho, eps_a_in, sum_batch)
    if sum_batch:
        return kappa * jnp.einsum("bj,bji->ji", lam[0], ebar_in) + inner
    return kappa * lam[0][:, :, None] * ebar_in + inner


def block_ebar_end(kappa, c_kappa, psi, pre, beta, rho, ebar_in, eps_a_in):
    """ē at the end of the block (Λ(s) = κ^(K−s) in closed form)."""
    k = psi.shape[0]
    lam = jnp.asarray(float(kappa) ** np.arange(k - 1, -1, -1), psi.dtype)[:, None, None]
    lam = jnp.broadcast_to(lam, psi.shape)
    return block_ebar_sum(lam, kappa, c_kappa, psi, pre, beta, rho, ebar_in, eps_a_in, sum_batch=False)


def block_eps_a_end(psi, pre, beta, rho, eps_a_in):
    """ε^a after the block (Eq. 6 iterated K times)."""
    coeff = rho - beta * psi  # (K, B, N): ε^a(s+1) = coeff(s) ε^a(s) + ψ(s) p(s)
    shifted = jnp.concatenate([coeff[1:], jnp.ones_like(coeff[:1])], axis=0)
    tail = jnp.flip(jnp.cumprod(jnp.flip(shifted, 0), axis=0), 0)  # Π_{r>s} coeff(r)
    carry_factor = coeff[0] * tail[0]
    return carry_factor[:, :, None] * eps_a_in + jnp.einsum("kbj,kbi->bji", tail * psi, pre)


def stream_step(ebar, eps_a, psi, pre, ell, beta, rho, kappa, c_kappa):
    """The literal per-step recursion (5), (6), (2): (ē, ε^a, Σ_b L·ē, Σ_b e) after one step."""
    if eps_a is None:
        e = psi[:, :, None] * pre[:, None, :]
    else:
        e = psi[:, :, None] * (pre[:, None, :] - beta[None, :, None] * eps_a)
    ebar = kappa * ebar + c_kappa * e
    eps_a = None if eps_a is None else rho * eps_a + e
    return ebar, eps_a, jnp.einsum("bj,bji->ji", ell, ebar), e.sum(0)


def eligibility_traces(model, aux):
    """End-of-trial computation of e(t) for every step (tests, small T): (T, B, N, n_in + N).

    Columns are [inputs, recurrent].  Memory O(T·B·N·M): only for checks and figures.
    """
    zeta, alpha, rho = model.input_scale, model.alpha, model.rho
    beta = model.beta_vector(aux.psi.dtype)

    def body(c, xs):
        x_bar, z_bar, eps_a = c
        psi, x, z_prev = xs
        x_bar = alpha * x_bar + zeta * x
        z_bar = alpha * z_bar + zeta * z_prev
        pre = jnp.concatenate([x_bar, z_bar], axis=-1)
        e = psi[:, :, None] * (pre[:, None, :] - beta[None, :, None] * eps_a)
        return (x_bar, z_bar, rho * eps_a + e), e

    batch, n_in, n = aux.psi.shape[1], aux.x.shape[-1], aux.psi.shape[-1]
    dtype = aux.psi.dtype
    init = (jnp.zeros((batch, n_in), dtype), jnp.zeros((batch, n), dtype), jnp.zeros((batch, n, n_in + n), dtype))
    _, e = jax.lax.scan(body, init, (aux.psi, aux.x, aux.z_prev))
    return e


def block_slice(arrays, index, k: int):
    """Steps [index·k, (index+1)·k) of each (T, ...) array (None stays None), without copying T."""
    return jax.tree_util.tree_map(lambda a: jax.lax.dynamic_slice_in_dim(a, index * k, k, axis=0), arrays)


def simulate_block(model, eff, state, inputs, noise):
    """Run the network over a block; returns the state and the stacked :class:`SpikeAux`."""

    def body(st, xs):
        x_t, noise_t = xs
        return model.step(eff, st, x_t, noise_t)

    return jax.lax.scan(body, state, (inputs, noise), unroll=min(SCAN_UNROLL, inputs.shape[0]))


def block_traces(model, traces: EPropTraces, aux):
    """Presynaptic traces p(s) (Eqs. 3–4) and the readout traces z̃, s̃ of a block, by filters;
    also the traces with their presynaptic and readout parts at the block's end."""
    alpha, zeta, kappa, c_kappa = model.alpha, model.input_scale, model.kappa, model.output_scale
    x_bar = causal_filter(aux.x, alpha, zeta, traces.x_bar)
    z_bar = causal_filter(aux.z_prev, alpha, zeta, traces.z_bar)
    z_out = causal_filter(aux.z, kappa, c_kappa, traces.z_out)
    ones = jnp.ones((aux.z.shape[0],), aux.z.dtype)
    s_out = causal_filter(ones, kappa, 1.0, traces.s_out)
    pre = jnp.concatenate([x_bar, z_bar], axis=-1)
    moved = traces._replace(x_bar=x_bar[-1], z_bar=z_bar[-1], z_out=z_out[-1], s_out=s_out[-1])
    return pre, z_out, s_out, moved


def eligibility_at_end(model, traces: EPropTraces, psi, pre, beta) -> EPropTraces:
    """ē and ε^a at the end of a block (the rest of ``traces`` already moved on)."""
    args = (model.kappa, model.output_scale, psi, pre, beta, model.rho, traces.ebar, traces.eps_a)
    eps_a = None if traces.eps_a is None else block_eps_a_end(psi, pre, beta, model.rho, traces.eps_a)
    return traces._replace(ebar=block_ebar_end(*args), eps_a=eps_a)

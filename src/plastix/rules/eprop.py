r"""e-prop: eligibility propagation (Bellec et al. 2020, Nat. Commun. 11:3625).

The gradient of a loss E factorises exactly (paper Eq. 1) into a total derivative at the
neuron's output times an *eligibility trace* that is local to the synapse::

    dE/dW_ji = Σ_t (dE/dz_j(t)) · e_ji(t)                                                   (1)

e-prop replaces the total derivative by the partial one through the readout, the *learning
signal* L_j(t) = Σ_k B_jk ∂E/∂y_k(t), and filters the trace with the readout kernel::

    dE/dW_ji ≈ Σ_t L_j(t) ē_ji(t),      ē(t) = κ ē(t−1) + c_κ e(t)                          (2)

where c_κ = ζ_out, the readout's input scaling (1−κ or 1; §2.5 of the spec): with it, (2) is
exact for the path through the leaky readout.  B is W_outᵀ (``symmetric``), a fixed random
matrix (``random``, B ~ N(0, s²), s = 1/√N by default) or ``adaptive``: B starts random, gets
W_out's update at every step and both decay by a factor (1−λ) (Kolen–Pollack; TIMIT
``--eprop=adaptive``), so B − W_outᵀ shrinks as (1−λ)ⁿ.

Eligibility traces for the network of ``models/spiking.py`` (α, ρ, ζ, β_j, ψ as there).  The
presynaptic trace of a synapse depends only on its presynaptic neuron::

    p_i(t) = x̄_i(t) = α x̄_i(t−1) + ζ x_i(t)             (input synapses)                    (3)
    p_i(t) = z̄_i(t−1) = α z̄_i(t−2) + ζ z_i(t−1)          (recurrent synapses)                (4)
    e_ji(t) = ψ_j(t) [p_i(t) − β_j ε^a_ji(t)]                                                 (5)
    ε^a_ji(t+1) = ρ ε^a_ji(t) + e_ji(t) = (ρ − β_j ψ_j(t)) ε^a_ji(t) + ψ_j(t) p_i(t)          (6)

(ε^a is the adaptation component of the eligibility vector, ε^a(1) = 0; for LIF neurons β = 0
and it is not stored.)  The readout gradient is exact: ∂E/∂W^out_kj = Σ_t ∂E/∂y_k(t) z̃_j(t)
with z̃ = κ z̃ + ζ_out z.

Firing-rate regularisation (``reg_rate`` = c_reg, ``target_rate`` in Hz at δt = 1 ms)::

    E_reg = (c_reg/2) Σ_j (f̄_j − f_target)²,   f̄_j = mean over (t, batch) of z_j(t)          (7)
    ∂E_reg/∂W_ji ≈ c_reg (f̄_j − f_target) · mean_{t,b} e_ji(t)                              (8)

(the unfiltered e, as in the TF pattern-generation code and NEST).  With online updates
(``update_every``) f̄ is the rate over the current stretch.  The task loss L of
``rules/base.py`` (MSE or softmax cross-entropy, 1/T inside, mean over the batch) gives
∂L/∂y(t) = −ε(t)/T; the *learning window* is the task's loss mask.

How it works (cost and memory).  The state that persists from one step to the next is
O(synapses) per trial in the batch — ē, ε^a (only when some neuron adapts), x̄, z̄, z̃ and the accumulated
gradient — whatever the trial length.  Updating ē and accumulating L·ē at every step costs
O(B·N·(N+n_in)) memory traffic per step, which is slow on a CPU; so the trial is cut into
blocks of ``block_steps`` steps.  Inside a block the network is simulated step by step and
ψ(t), p(t), L(t) are kept (O(K·B·(N+n_in)) memory); at the end of the block everything is
brought up to date with matrix products, using that (2), (5) and (6) are linear in e with
coefficients that depend on the postsynaptic neuron only:

* Σ_t L(t) ē(t) = κ Λ(1) ē_in + Σ_s c_κ Λ(s) e(s),  with Λ(s) = L(s) + κ Λ(s+1) (backward in
  the block);
* Σ_s w(s) e(s) = Σ_s ψ(s) [w(s) − μ(s+1)] p(s) − μ(1) ε^a_in for any per-neuron weights w,
  with the adjoint μ(s) = w(s) ψ(s) β + (ρ − β ψ(s)) μ(s+1), μ(K+1) = 0;
* ē and ε^a at the end of the block are two more such sums.

This is exact (it equals the step-by-step recursion to rounding error; ``block_steps=1`` runs
the literal per-step recursion) and turns the O(B·N·M) work per step into GEMMs.

e-prop for the rate RNN (``models/rate.py``).  For leaky rate units the hidden state is h and
the observable is h itself; the hidden-state Jacobian without the recurrent path is (1−α), so
the eligibility trace is exactly RFLO's local trace p = (1−α)p + α φ'(u) h(t−1) and, with a
non-leaky readout, ē = e.  So e-prop on a rate RNN *is* RFLO (local traces, non-lagged input)
with the chosen feedback; this rule delegates to ``rules/rflo.py`` for it (the tests check both
against autodiff through the detached graph).

Caveats.
* Symmetric e-prop equals BPTT on the graph with the recurrent spikes and the reset detached
  (``SurrogateAutodiff(detach=True)``, rule ``eprop_autodiff``), exactly.  It is *not* the
  gradient: the terms through other neurons (and through the own reset) are dropped.
* Online updates (``update_every``) change the weights inside a trial; ē and ε^a then mix
  contributions computed with older weights (as in every online e-prop implementation).
* ``adaptive`` feedback needs the training loop to call :meth:`EProp.after_update` after each
  update (``training.Trainer`` does); a bare ``trial_grads`` sees a fixed B.
* Reward-based e-prop (:class:`RewardEProp`) is documented below.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ConfigError
from ..models.spiking import SCAN_UNROLL
from .base import SequenceRule, loss_value, output_error, random_feedback

FEEDBACKS = ("symmetric", "random", "adaptive")


def _is_spiking(model) -> bool:
    from ..models.spiking import SpikingRNN

    return isinstance(model, SpikingRNN)


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


# ------------------------------------------------------------------------------------------
# Block algebra: everything e-prop needs from a block of K steps, as matrix products.
# Arrays: psi (K, B, N), pre (K, B, M), per-neuron weights (K, B, N), eps_a (B, N, M).
# ------------------------------------------------------------------------------------------
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


def stream_step(traces, psi, pre, ell, beta, rho, kappa, c_kappa):
    """The literal per-step recursion (5), (6), (2): returns (traces, Σ_b L·ē, Σ_b e) for one step."""
    eps_a = traces.get("eps_a")
    if eps_a is None:
        e = psi[:, :, None] * pre[:, None, :]
    else:
        e = psi[:, :, None] * (pre[:, None, :] - beta[None, :, None] * eps_a)
    ebar = kappa * traces["ebar"] + c_kappa * e
    new = {"ebar": ebar}
    if eps_a is not None:
        new["eps_a"] = rho * eps_a + e
    return new, jnp.einsum("bj,bji->ji", ell, ebar), e.sum(0)


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


def block_traces(model, traces, aux):
    """Presynaptic traces p(s) (Eqs. 3–4) and the readout traces z̃, s̃ of a block, by filters."""
    alpha, zeta, kappa, c_kappa = model.alpha, model.input_scale, model.kappa, model.output_scale
    x_bar = causal_filter(aux.x, alpha, zeta, traces["x_bar"])
    z_bar = causal_filter(aux.z_prev, alpha, zeta, traces["z_bar"])
    z_out = causal_filter(aux.z, kappa, c_kappa, traces["z_out"])
    ones = jnp.ones((aux.z.shape[0],), aux.z.dtype)
    s_out = causal_filter(ones, kappa, 1.0, traces["s_out"])
    pre = jnp.concatenate([x_bar, z_bar], axis=-1)
    new = {"x_bar": x_bar[-1], "z_bar": z_bar[-1], "z_out": z_out[-1], "s_out": s_out[-1]}
    return pre, z_out, s_out, new


# ------------------------------------------------------------------------------------------
# The supervised rule
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EProp(SequenceRule):
    """e-prop (Bellec et al. 2020): eligibility traces × learning signal, O(synapses) state."""

    feedback: str = "symmetric"
    feedback_scale: float | None = None  # random/adaptive B ~ N(0, s²); None: s = 1/√N
    feedback_decay: float = 1e-3  # adaptive: λ, the decay of B and W_out per update
    reg_rate: float = 0.0  # c_reg of Eq. (7)
    target_rate: float = 10.0  # f_target in Hz (δt = 1 ms)
    block_steps: int = 100  # steps per block of the exact blocked computation (1: per step)
    name: str = field(default="eprop", init=False)

    def __post_init__(self):
        super().__post_init__()
        if self.feedback not in FEEDBACKS:
            raise ConfigError.bad_value("feedback", self.feedback, ", ".join(FEEDBACKS))
        if self.feedback_scale is not None and not (
            isinstance(self.feedback_scale, (int, float)) and self.feedback_scale > 0
        ):
            raise ConfigError.bad_value("feedback_scale", self.feedback_scale, "a positive number or None")
        if not (isinstance(self.feedback_decay, (int, float)) and 0.0 <= self.feedback_decay < 1.0):
            raise ConfigError.bad_value("feedback_decay", self.feedback_decay, "a number in [0, 1)")
        if not (isinstance(self.reg_rate, (int, float)) and self.reg_rate >= 0):
            raise ConfigError.bad_value("reg_rate", self.reg_rate, "a non-negative number")
        if not (isinstance(self.target_rate, (int, float)) and 0 <= self.target_rate < 1000):
            raise ConfigError.bad_value("target_rate", self.target_rate, "a rate in Hz in [0, 1000)")
        if isinstance(self.block_steps, bool) or not (isinstance(self.block_steps, int) and self.block_steps >= 1):
            raise ConfigError.bad_value("block_steps", self.block_steps, "a positive integer")
        if not _is_spiking(self.model):
            if self.reg_rate:
                raise ConfigError.bad_value("reg_rate", self.reg_rate, "0 for a rate network (no spikes)")
            from .rflo import RFLO

            inner = RFLO(
                self.model,
                trainable=self.trainable,
                loss=self.loss,
                feedback="symmetric" if self.feedback == "symmetric" else "random",
                locality="local",
            )
            object.__setattr__(self, "_rate_rule", inner)

    # -- feedback ---------------------------------------------------------------------------
    def init(self, params, key):
        if self.feedback == "symmetric":
            return {}
        n_rec, n_out = params["w_out"].shape[1], params["w_out"].shape[0]
        scale = self.feedback_scale if self.feedback_scale is not None else 1.0 / math.sqrt(n_rec)
        return {"feedback": random_feedback(key, n_rec, n_out, scale, params["w_out"].dtype)}

    def feedback_matrix(self, eff, rule_state):
        if self.feedback == "symmetric":
            return eff["w_out"].T
        return rule_state["feedback"]

    def after_update(self, old_params, new_params, rule_state):
        """Adaptive feedback (Kolen–Pollack): B gets W_out's update; B and W_out decay by (1−λ)."""
        if self.feedback != "adaptive":
            return new_params, rule_state
        lam = self.feedback_decay
        delta = new_params["w_out"] - old_params["w_out"]
        w_out = new_params["w_out"] - lam * old_params["w_out"]
        fb = (1.0 - lam) * rule_state["feedback"] + delta.T
        return {**new_params, "w_out": w_out}, {**rule_state, "feedback": fb}

    # -- carry ------------------------------------------------------------------------------
    def init_carry(self, params, batch_size):
        if not _is_spiking(self.model):
            return self._rate_rule.init_carry(params, batch_size)
        m = self.model
        dtype = params["w_rec"].dtype
        n, n_pre = m.n_rec, m.n_in + m.n_rec
        traces = {
            "x_bar": jnp.zeros((batch_size, m.n_in), dtype),
            "z_bar": jnp.zeros((batch_size, n), dtype),
            "z_out": jnp.zeros((batch_size, n), dtype),  # z̃, readout-filtered spikes
            "s_out": jnp.zeros((), dtype),  # readout-filtered 1 (bias)
            "ebar": jnp.zeros((batch_size, n, n_pre), dtype),
        }
        if m.adaptive:
            traces["eps_a"] = jnp.zeros((batch_size, n, n_pre), dtype)
        return {"h": m.initial_state(params, batch_size), "traces": traces}

    # -- one stretch ------------------------------------------------------------------------
    def segment(self, params, rule_state, carry, inputs, targets, mask, noise, n_total):
        if not _is_spiking(self.model):
            return self._segment_rate(params, rule_state, carry, inputs, targets, mask, noise, n_total)
        m = self.model
        eff = m.effective(params)
        fb = self.feedback_matrix(eff, rule_state)
        n_steps, batch = inputs.shape[:2]
        dtype = eff["w_rec"].dtype
        rho, kappa, c_kappa = m.rho, m.kappa, m.output_scale
        beta = m.beta_vector(dtype)
        k = largest_divisor_at_most(n_steps, self.block_steps)

        def block(c, index):
            state, tr, acc = c
            x_k, target_k, mask_k, noise_k = block_slice((inputs, targets, mask, noise), index, k)
            state, aux = simulate_block(m, eff, state, x_k, noise_k)
            pre, z_out, s_out, new = block_traces(m, tr, aux)
            d_loss_d_y = -output_error(aux.y, target_k, mask_k, self.loss) / (n_total * batch)  # (K, B, n_out)
            ell = d_loss_d_y @ fb.T  # learning signal (K, B, N)
            eps_a = tr.get("eps_a")
            acc = {
                **acc,
                "w_out": acc["w_out"] + jnp.einsum("kbo,kbn->on", d_loss_d_y, z_out),
                "b_out": acc["b_out"] + jnp.einsum("kbo,k->o", d_loss_d_y, s_out),
                "spikes": acc["spikes"] + aux.z.sum((0, 1)),
                "loss": acc["loss"] + loss_value(aux.y, target_k, mask_k, n_total, self.loss),
            }
            if k == 1:  # the literal per-step recursion (reference path)
                traces, g, e_sum = stream_step(tr, aux.psi[0], pre[0], ell[0], beta, rho, kappa, c_kappa)
                new.update(traces)
                acc["w"] = acc["w"] + g
                acc["e_sum"] = acc["e_sum"] + e_sum
            else:
                args = (kappa, c_kappa, aux.psi, pre, beta, rho, tr["ebar"], eps_a)
                acc["w"] = acc["w"] + block_ebar_sum(anticausal_filter(ell, kappa), *args, sum_batch=True)
                new["ebar"] = block_ebar_end(*args)
                if eps_a is not None:
                    new["eps_a"] = block_eps_a_end(aux.psi, pre, beta, rho, eps_a)
                if self.reg_rate:
                    ones = jnp.ones_like(aux.psi)
                    acc["e_sum"] = acc["e_sum"] + block_e_sum(ones, aux.psi, pre, beta, rho, eps_a, True)
            return (state, {**tr, **new}, acc), None

        n_pre = m.n_in + m.n_rec
        acc = {
            "w": jnp.zeros((m.n_rec, n_pre), dtype),
            "e_sum": jnp.zeros((m.n_rec, n_pre), dtype),
            "w_out": jnp.zeros((m.n_out, m.n_rec), dtype),
            "b_out": jnp.zeros((m.n_out,), dtype),
            "spikes": jnp.zeros((m.n_rec,), dtype),
            "loss": jnp.zeros((), dtype),
        }
        (state, traces, acc), _ = jax.lax.scan(block, (carry["h"], carry["traces"], acc), jnp.arange(n_steps // k))
        rate = acc["spikes"] / (n_steps * batch)
        g = acc["w"] + self._regulariser_grad(rate, acc["e_sum"], n_steps * batch)
        grads = {"w_in": g[:, : m.n_in], "w_rec": g[:, m.n_in :], "w_out": acc["w_out"]}
        if "b_out" in eff:
            grads["b_out"] = acc["b_out"]
        grads = {name: grads[name] if name in grads else jnp.zeros_like(v) for name, v in params.items()}
        metrics = {"loss": acc["loss"], "rate_hz": 1000.0 * jnp.mean(rate)}
        return {"h": state, "traces": traces}, self.restrict(grads), metrics

    def _regulariser_grad(self, rate, e_sum, n_samples):
        """Eq. (8): c_reg (f̄_j − f_target) · mean e_ji (zero when c_reg = 0)."""
        if not self.reg_rate:
            return jnp.zeros_like(e_sum)
        return self.reg_rate * (rate - self.target_rate / 1000.0)[:, None] * e_sum / n_samples

    # -- rate networks: e-prop ≡ RFLO (local traces) with the chosen feedback ----------------
    def _segment_rate(self, params, rule_state, carry, inputs, targets, mask, noise, n_total):
        return self._rate_rule.segment(params, rule_state, carry, inputs, targets, mask, noise, n_total)


# ------------------------------------------------------------------------------------------
# Autodiff forms: BPTT with the surrogate, and symmetric e-prop as BPTT on a detached graph
# ------------------------------------------------------------------------------------------
def rate_regulariser(z, reg_rate: float, target_rate: float):
    """Eq. (7) from spikes z (T, B, N)."""
    rate = jnp.mean(z, axis=(0, 1))
    return 0.5 * reg_rate * jnp.sum((rate - target_rate / 1000.0) ** 2)


@dataclass(frozen=True)
class SurrogateAutodiff(SequenceRule):
    """Autodiff through the spiking network: BPTT (``detach=False``) or symmetric e-prop (True).

    With ``detach=True`` the recurrent spikes z(t−1) and the reset are stop-gradient'ed while the
    own-spike path into the adaptation is kept (paper Suppl. S1.1): the result equals
    :class:`EProp` with symmetric feedback exactly.  ``reg_rate`` adds Eq. (7).  Memory O(T).
    """

    detach: bool = True
    reg_rate: float = 0.0
    target_rate: float = 10.0
    name: str = field(default="eprop_autodiff", init=False)

    def __post_init__(self):
        super().__post_init__()
        if not _is_spiking(self.model):
            raise ConfigError.bad_value("model", type(self.model).__name__, "a spiking model (lif, alif)")

    def segment(self, params, rule_state, carry, inputs, targets, mask, noise, n_total):
        h_init = jax.lax.stop_gradient(carry["h"])

        def objective(p):
            h_final, aux = self.model.run(p, inputs, h_init=h_init, noise=noise, detach=self.detach)
            task = loss_value(aux.y, targets, mask, n_total, self.loss)
            reg = rate_regulariser(aux.z, self.reg_rate, self.target_rate) if self.reg_rate else 0.0
            return task + reg, (task, h_final)

        (_, (loss, h_final)), grads = jax.value_and_grad(objective, has_aux=True)(params)
        return {"h": h_final}, self.restrict(grads), {"loss": loss}


# ------------------------------------------------------------------------------------------
# Reward-based e-prop (actor–critic)
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RewardEProp(EProp):
    r"""Reward-based e-prop: actor–critic with policy and value readouts (paper Figs. 4–5).

    The model's last output is the value V(t); the others are policy logits y^π.  The agent
    decides once, at the end of the trial, from the logits averaged over the task's decision
    window (its loss mask, weights ω(t) = m(t)/Σm, as in the supervised decision rule):
    π̄ = softmax(Σ_t ω(t) y^π(t)), a ~ π̄ (Gumbel-max with the trial's key).  The reward
    r = y*_a (1 for the correct class of a one-hot target, else 0) arrives only then, at t = T.

    Actor–critic with TD errors δ(t) = r(t) + γ V(t+1) − V(t) (V(T+1) = 0) and eligibility
    filtered with the discount (the paper's ΔW = −η Σ_t δ(t) F_γ(L_j(t) ē_ji(t))).  Summing by
    parts, Σ_t δ(t) F_γ(h)(t) = Σ_s h(s) (G(s) − V(s)) with the return G(s) = γ^(T−s) r, so::

        ΔW_ji ∝ (r − V(T)) ℓ^π_j Ē_ji  +  c_V Σ_t (G(t) − V(t)) B^V_j ē_ji(t)               (9)
        ℓ^π_j = Σ_k B^π_jk (1[a = k] − π̄_k),     Ē_ji = Σ_t ω(t) ē_ji(t)

    (B = W_outᵀ for ``symmetric``, fixed random for ``random``).  The first term is the policy
    gradient (∇ log π̄(a) in e-prop's approximation) with the critic as baseline; the second
    regresses V(t) on the return (cost ``value_cost`` = c_V).  Online, the rule keeps Ē and the
    γ-filtered trace Σ_s γ^(T−s) B^V ē(s) (O(synapses) each) and pays them out when the reward
    arrives; the readouts use the exact z̃ in place of ē.  Gradients are divided by T·B.

    With symmetric feedback (9) equals autodiff of −[(r − V(T)) log π̄(a) + c_V Σ_t (G − V) V(t)]
    (advantages held constant) through the detached graph, exactly (``tests/eprop``).
    Caveats: one action per trial, per-trial updates only (the action noise is drawn in
    :meth:`trial_grads`).  The value term has T terms and the policy term one, so c_V ≪ 1
    keeps the critic from dominating the shared weights.  ``metrics['loss']`` is 1 − mean reward.
    """

    gamma: float = 0.999
    value_cost: float = 0.01
    name: str = field(default="eprop_reward", init=False)

    def __post_init__(self):
        super().__post_init__()
        if not _is_spiking(self.model):
            raise ConfigError.bad_value("model", type(self.model).__name__, "a spiking model (lif, alif)")
        if not (isinstance(self.gamma, (int, float)) and 0.0 < self.gamma <= 1.0):
            raise ConfigError.bad_value("gamma", self.gamma, "a discount in (0, 1]")
        if not (isinstance(self.value_cost, (int, float)) and self.value_cost >= 0):
            raise ConfigError.bad_value("value_cost", self.value_cost, "a non-negative number")
        if self.model.n_out < 3:
            raise ConfigError.bad_value("n_out", self.model.n_out, "≥ 3 (two or more policy logits + one value)")
        if self.feedback == "adaptive":
            raise ConfigError.bad_value("feedback", self.feedback, "symmetric, random")

    def init_carry(self, params, batch_size):
        carry = super().init_carry(params, batch_size)
        m = self.model
        dtype = params["w_rec"].dtype
        traces = carry["traces"]
        traces["value_trace"] = jnp.zeros_like(traces["ebar"])  # Σ_s γ^(t−s) ē(s)
        traces["window_trace"] = jnp.zeros_like(traces["ebar"])  # Ē = Σ_s ω(s) ē(s)
        traces["window_logits"] = jnp.zeros((batch_size, m.n_out - 1), dtype)
        traces["window_features"] = jnp.zeros((batch_size, m.n_rec + 1), dtype)  # Σ ω [z̃, s̃]
        traces["value_features"] = jnp.zeros((batch_size, m.n_rec + 1), dtype)  # Σ γ^(t−s) [z̃, s̃]
        return carry

    def trial_grads(self, params, trial, key, rule_state=None):
        if rule_state is None:
            rule_state = self.init(params, jax.random.key(0))
        k_noise, k_act = jax.random.split(key)
        n_act = self.model.n_out - 1
        if trial.targets.shape[-1] != n_act:
            raise ConfigError.bad_value(
                "n_out", self.model.n_out, f"{trial.targets.shape[-1] + 1} (the task's {trial.targets.shape[-1]} "
                "classes + one value output)"
            )
        gumbel = jax.random.gumbel(k_act, (trial.batch_size, n_act), params["w_out"].dtype)
        noise = {"model": self.model.sample_noise(k_noise, trial.n_steps, trial.batch_size), "gumbel": gumbel}
        carry = self.init_carry(params, trial.batch_size)
        _, grads, metrics = self.segment(
            params, rule_state, carry, trial.inputs, trial.targets, trial.mask, noise, trial.n_steps
        )
        return grads, metrics

    def segment(self, params, rule_state, carry, inputs, targets, mask, noise, n_total):
        if not isinstance(noise, dict) or "gumbel" not in noise:
            raise ConfigError.bad_value("update_every", "set", "None (eprop_reward learns from whole trials)")
        m = self.model
        eff = m.effective(params)
        fb = self.feedback_matrix(eff, rule_state)
        fb_policy, fb_value = fb[:, :-1], fb[:, -1]
        n_steps, batch = inputs.shape[:2]
        dtype = eff["w_rec"].dtype
        rho, kappa, c_kappa, gamma = m.rho, m.kappa, m.output_scale, self.gamma
        beta = m.beta_vector(dtype)
        k = largest_divisor_at_most(n_steps, self.block_steps)
        window = mask[..., 0]
        window = window / jnp.maximum(window.sum(0), 1.0)  # ω(t), (T, B)
        to_end = jnp.asarray(gamma ** np.arange(k - 1, -1, -1), dtype)  # γ^(K−s)
        ell_value = jnp.broadcast_to(self.value_cost * fb_value, (k, batch, m.n_rec))

        def block(c, index):
            state, tr, acc = c
            x_k, omega_k, noise_k = block_slice((inputs, window, noise["model"]), index, k)
            state, aux = simulate_block(m, eff, state, x_k, noise_k)
            pre, z_out, s_out, new = block_traces(m, tr, aux)
            value = aux.y[..., -1]  # (K, B)
            feats = jnp.concatenate([z_out, jnp.broadcast_to(s_out[:, None, None], z_out.shape[:2] + (1,))], -1)
            eps_a = tr.get("eps_a")
            args = (kappa, c_kappa, aux.psi, pre, beta, rho, tr["ebar"], eps_a)
            # value term, the part that is known now: −Σ_t V(t) c_V B^V ē(t)
            g_value = block_ebar_sum(anticausal_filter(-value[..., None] * ell_value, kappa), *args, sum_batch=True)
            # traces paid out when the reward arrives
            new["value_trace"] = gamma**k * tr["value_trace"] + block_ebar_sum(
                anticausal_filter(to_end[:, None, None] * ell_value, kappa), *args, sum_batch=False
            )
            omega_n = jnp.broadcast_to(omega_k[..., None], aux.psi.shape)
            new["window_trace"] = tr["window_trace"] + block_ebar_sum(
                anticausal_filter(omega_n, kappa), *args, sum_batch=False
            )
            new["window_logits"] = tr["window_logits"] + jnp.einsum("kb,kbo->bo", omega_k, aux.y[..., :-1])
            new["window_features"] = tr["window_features"] + jnp.einsum("kb,kbf->bf", omega_k, feats)
            new["value_features"] = gamma**k * tr["value_features"] + jnp.einsum("k,kbf->bf", to_end, feats)
            new["ebar"] = block_ebar_end(*args)
            if eps_a is not None:
                new["eps_a"] = block_eps_a_end(aux.psi, pre, beta, rho, eps_a)
            acc = {
                **acc,
                "w": acc["w"] + g_value,
                "value_out": acc["value_out"] - self.value_cost * jnp.einsum("kb,kbf->f", value, feats),
                "spikes": acc["spikes"] + aux.z.sum((0, 1)),
                "value_last": value[-1],
            }
            if self.reg_rate:
                ones = jnp.ones_like(aux.psi)
                acc["e_sum"] = acc["e_sum"] + block_e_sum(ones, aux.psi, pre, beta, rho, eps_a, True)
            return (state, {**tr, **new}, acc), None

        n_pre = m.n_in + m.n_rec
        acc = {
            "w": jnp.zeros((m.n_rec, n_pre), dtype),
            "e_sum": jnp.zeros((m.n_rec, n_pre), dtype),
            "value_out": jnp.zeros((m.n_rec + 1,), dtype),
            "spikes": jnp.zeros((m.n_rec,), dtype),
            "value_last": jnp.zeros((batch,), dtype),
        }
        (state, tr, acc), _ = jax.lax.scan(block, (carry["h"], carry["traces"], acc), jnp.arange(n_steps // k))

        # The decision and the reward, at the end of the trial.
        logits = tr["window_logits"]
        chosen = jax.nn.one_hot(jnp.argmax(logits + noise["gumbel"], axis=-1), logits.shape[-1], dtype=dtype)
        reward = jnp.sum(chosen * targets[-1], axis=-1)  # (B,)
        advantage = reward - acc["value_last"]
        surprise = chosen - jax.nn.softmax(logits, axis=-1)  # 1[a = k] − π̄_k
        ell_policy = surprise @ fb_policy.T  # (B, N)
        ascent = (
            acc["w"]
            + jnp.einsum("b,bj,bji->ji", advantage, ell_policy, tr["window_trace"])
            + jnp.einsum("b,bji->ji", reward, tr["value_trace"])
        )
        policy_out = jnp.einsum("b,bo,bf->of", advantage, surprise, tr["window_features"])
        value_out = acc["value_out"] + self.value_cost * jnp.einsum("b,bf->f", reward, tr["value_features"])
        out = jnp.concatenate([policy_out, value_out[None]], axis=0)  # (n_out, N + 1)
        # Σ δ F_γ(h) is an ascent direction; the rule returns the descent-sign estimate.
        scale = 1.0 / (n_steps * batch)
        rate = acc["spikes"] / (n_steps * batch)
        g = -scale * ascent + self._regulariser_grad(rate, acc["e_sum"], n_steps * batch)
        grads = {"w_in": g[:, : m.n_in], "w_rec": g[:, m.n_in :], "w_out": -scale * out[:, :-1]}
        if "b_out" in eff:
            grads["b_out"] = -scale * out[:, -1]
        grads = {name: grads[name] if name in grads else jnp.zeros_like(v) for name, v in params.items()}
        mean_reward = jnp.mean(reward)
        metrics = {"loss": 1.0 - mean_reward, "reward": mean_reward, "rate_hz": 1000.0 * jnp.mean(rate)}
        return {"h": state, "traces": tr}, self.restrict(grads), metrics

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
O(synapses) per trial in the batch — ē, ε^a (only when some neuron adapts), x̄, z̄, z̃ and the
accumulated gradient — whatever the trial length (:class:`~plastix.rules.eprop_blocks.EPropTraces`).
Updating ē and accumulating L·ē at every step costs O(B·N·(N+n_in)) memory traffic per step,
which is slow on a CPU; so ``segment`` (the fused path) cuts the stretch into blocks of
``block_steps`` steps: inside a block the network is simulated step by step and ψ(t), p(t), L(t)
are kept (O(K·B·(N+n_in)) memory); at the end of the block everything is brought up to date
with matrix products (``rules/eprop_blocks.py``).  This is exact: it equals the per-step update
``step`` (the literal recursion, also what ``block_steps=1`` runs) to rounding error.

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
* Reward-based e-prop is ``rules/eprop_reward.py``; autodiff through the detached graph
  (``eprop_autodiff``) is ``rules/surrogate.py``.
"""


from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, NamedTuple, final

import jax
import jax.numpy as jnp

from ..errors import ConfigError
from ..validation import choice, number, positive, setting
from ..models.spiking import SpikingRNN
from .base import FeedbackState, NoState, OnlineRule, Rule, Stretch, fill_grads, loss_value, output_error, random_feedback
from .eprop_blocks import (
    EPropTraces,
    anticausal_filter,
    block_e_sum,
    block_ebar_sum,
    block_slice,
    block_traces,
    eligibility_at_end,
    largest_divisor_at_most,
    simulate_block,
    stream_step,
    zero_traces,
)

FEEDBACKS = ("symmetric", "random", "adaptive")


class EPropCarry(NamedTuple):
    """The spiking network's state and e-prop's traces."""

    h: Any
    traces: EPropTraces


@dataclass(frozen=True)
class EPropFamily(Rule):
    """Abstract: what supervised and reward-based e-prop share — feedback matrices (symmetric,
    random, adaptive), the traces, the firing-rate regulariser."""

    feedback: str = setting("symmetric", choice(*FEEDBACKS))
    feedback_scale: float | None = setting(None, positive(optional=True))  # random/adaptive B ~ N(0, s²); None: 1/√N
    feedback_decay: float = setting(1e-3, number(0, 1, high_open=True))  # adaptive: λ, decay of B and W_out per update
    reg_rate: float = setting(0.0, number(0))  # c_reg of Eq. (7)
    target_rate: float = setting(10.0, number(0, 1000, high_open=True, accepted="a rate in Hz in [0, 1000)"))
    block_steps: int = setting(100, positive(integer=True))  # steps per block of the exact blocked computation

    @property
    def spiking(self) -> bool:
        return isinstance(self.model, SpikingRNN)

    # -- feedback ---------------------------------------------------------------------------
    def init(self, params, key):
        if self.feedback == "symmetric":
            return NoState()
        n_rec, n_out = params["w_out"].shape[1], params["w_out"].shape[0]
        scale = self.feedback_scale if self.feedback_scale is not None else 1.0 / math.sqrt(n_rec)
        return FeedbackState(random_feedback(key, n_rec, n_out, scale, params["w_out"].dtype))

    def fixed_feedback(self, params, rule_state):
        return None if self.feedback == "symmetric" else rule_state.feedback

    def feedback_matrix(self, eff, rule_state):
        return eff["w_out"].T if self.feedback == "symmetric" else rule_state.feedback

    def after_update(self, old_params, new_params, rule_state):
        """Adaptive feedback (Kolen–Pollack): B gets W_out's update; B and W_out decay by (1−λ)."""
        if self.feedback != "adaptive":
            return new_params, rule_state
        lam = self.feedback_decay
        delta = new_params["w_out"] - old_params["w_out"]
        w_out = new_params["w_out"] - lam * old_params["w_out"]
        fb = (1.0 - lam) * rule_state.feedback + delta.T
        return {**new_params, "w_out": w_out}, FeedbackState(fb)

    # -- carry ------------------------------------------------------------------------------
    def init_carry(self, params, batch_size, key):
        m = self.model
        return EPropCarry(m.initial_state(params, batch_size), zero_traces(m, batch_size, params["w_rec"].dtype))

    def regulariser_grad(self, rate, e_sum, n_samples):
        """Eq. (8): c_reg (f̄_j − f_target) · mean e_ji (zero when c_reg = 0)."""
        if not self.reg_rate:
            return jnp.zeros_like(e_sum)
        return self.reg_rate * (rate - self.target_rate / 1000.0)[:, None] * e_sum / n_samples


@final
@dataclass(frozen=True)
class EProp(EPropFamily, OnlineRule):
    """e-prop (Bellec et al. 2020): eligibility traces × learning signal, O(synapses) state."""

    name: ClassVar[str] = "eprop"

    def __post_init__(self):
        super().__post_init__()
        if not self.spiking and self.reg_rate:
            raise ConfigError.bad_value("reg_rate", self.reg_rate, "0 for a rate network (no spikes)")

    @cached_property
    def rate_rule(self):
        """On a rate network e-prop is RFLO with local traces and this feedback (module docstring)."""
        from .rflo import RFLO

        feedback = "symmetric" if self.feedback == "symmetric" else "random"
        return RFLO(self.model, trainable=self.trainable, loss=self.loss, feedback=feedback, locality="local")

    def init_carry(self, params, batch_size, key):
        if not self.spiking:
            return self.rate_rule.init_carry(params, batch_size, key)
        return super().init_carry(params, batch_size, key)

    # -- the per-step update and the fused block path ---------------------------------------
    def step(self, params, rule_state, carry, x_t, target_t, mask_t, noise_t, n_total):
        """The literal per-step recursion: a stretch of one step (``stream_step``)."""
        expand = lambda a: None if a is None else a[None]  # noqa: E731
        stretch = Stretch(*(expand(a) for a in (x_t, target_t, mask_t)), jax.tree_util.tree_map(expand, noise_t))
        return self.segment(params, rule_state, carry, stretch, n_total)

    def segment(self, params, rule_state, carry, stretch: Stretch, n_total):
        if not self.spiking:
            return self.rate_rule.segment(params, rule_state, carry, stretch, n_total)
        m = self.model
        eff = m.effective(params)
        fb = self.feedback_matrix(eff, rule_state)
        inputs, targets, mask, noise = stretch
        n_steps, batch = inputs.shape[:2]
        dtype = eff["w_rec"].dtype
        rho, kappa, c_kappa = m.rho, m.kappa, m.output_scale
        beta = m.beta_vector(dtype)
        k = largest_divisor_at_most(n_steps, self.block_steps)

        def block(c, index):
            state, tr, acc = c
            x_k, target_k, mask_k, noise_k = block_slice((inputs, targets, mask, noise), index, k)
            state, aux = simulate_block(m, eff, state, x_k, noise_k)
            pre, z_out, s_out, moved = block_traces(m, tr, aux)
            d_loss_d_y = -output_error(aux.y, target_k, mask_k, self.loss) / (n_total * batch)  # (K, B, n_out)
            ell = d_loss_d_y @ fb.T  # learning signal (K, B, N)
            acc = {
                **acc,
                "w_out": acc["w_out"] + jnp.einsum("kbo,kbn->on", d_loss_d_y, z_out),
                "b_out": acc["b_out"] + jnp.einsum("kbo,k->o", d_loss_d_y, s_out),
                "spikes": acc["spikes"] + aux.z.sum((0, 1)),
                "loss": acc["loss"] + loss_value(aux.y, target_k, mask_k, n_total, self.loss),
            }
            if k == 1:  # the literal per-step recursion (reference path)
                ebar, eps_a, g, e_sum = stream_step(tr.ebar, tr.eps_a, aux.psi[0], pre[0], ell[0], beta, rho,
                                                    kappa, c_kappa)
                new = moved._replace(ebar=ebar, eps_a=eps_a)
                acc["w"] = acc["w"] + g
                acc["e_sum"] = acc["e_sum"] + e_sum
            else:
                args = (kappa, c_kappa, aux.psi, pre, beta, rho, tr.ebar, tr.eps_a)
                acc["w"] = acc["w"] + block_ebar_sum(anticausal_filter(ell, kappa), *args, sum_batch=True)
                new = eligibility_at_end(m, moved, aux.psi, pre, beta)
                if self.reg_rate:
                    ones = jnp.ones_like(aux.psi)
                    acc["e_sum"] = acc["e_sum"] + block_e_sum(ones, aux.psi, pre, beta, rho, tr.eps_a, True)
            return (state, new, acc), None

        n_pre = m.n_in + m.n_rec
        acc = {
            "w": jnp.zeros((m.n_rec, n_pre), dtype),
            "e_sum": jnp.zeros((m.n_rec, n_pre), dtype),
            "w_out": jnp.zeros((m.n_out, m.n_rec), dtype),
            "b_out": jnp.zeros((m.n_out,), dtype),
            "spikes": jnp.zeros((m.n_rec,), dtype),
            "loss": jnp.zeros((), dtype),
        }
        (state, traces, acc), _ = jax.lax.scan(block, (carry.h, carry.traces, acc), jnp.arange(n_steps // k))
        rate = acc["spikes"] / (n_steps * batch)
        g = acc["w"] + self.regulariser_grad(rate, acc["e_sum"], n_steps * batch)
        grads = {"w_in": g[:, : m.n_in], "w_rec": g[:, m.n_in :], "w_out": acc["w_out"]}
        if "b_out" in eff:
            grads["b_out"] = acc["b_out"]
        metrics = {"loss": acc["loss"], "rate_hz": 1000.0 * jnp.mean(rate)}
        return EPropCarry(state, traces), self.restrict(fill_grads(params, grads)), metrics


__all__ = ["EProp", "EPropFamily", "EPropCarry", "FEEDBACKS"]

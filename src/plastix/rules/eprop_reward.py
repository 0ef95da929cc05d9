r"""Reward-based e-prop (Bellec et al. 2020, Figs. 4–5): actor–critic with e-prop's traces.

The equations are in :class:`RewardEProp`'s docstring; the traces and the block algebra are those
of supervised e-prop (``rules/eprop.py``, ``rules/eprop_blocks.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple, final

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ConfigError
from ..validation import number, setting
from .base import Stretch, fill_grads
from .eprop import EPropFamily
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
    zero_traces,
)


class RewardTraces(NamedTuple):
    """What the reward pays out at the trial's end (each O(synapses) or smaller).

    ``value_trace``: Σ_s γ^(t−s) c_V B^V ē(s); ``window_trace``: Ē = Σ_s ω(s) ē(s);
    ``window_logits``: Σ ω y^π; ``window_features`` and ``value_features``: Σ ω [z̃, s̃] and
    Σ γ^(t−s) [z̃, s̃] (the readouts' exact traces).
    """

    value_trace: jax.Array
    window_trace: jax.Array
    window_logits: jax.Array
    window_features: jax.Array
    value_features: jax.Array


class RewardCarry(NamedTuple):
    h: Any
    traces: EPropTraces
    reward: RewardTraces
    gumbel: jax.Array  # the action noise of this trial (B, n_actions)


@final
@dataclass(frozen=True)
class RewardEProp(EPropFamily):
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
    Caveats: one action per trial, per-trial updates only (``online = False``; the action
    noise is drawn in :meth:`init_carry` from the trial's key).  The value term has T terms and the policy term one, so c_V ≪ 1
    keeps the critic from dominating the shared weights.  ``metrics['loss']`` is 1 − mean reward.
    """

    gamma: float = setting(0.999, number(0, 1, low_open=True, accepted="a discount in (0, 1]"))
    value_cost: float = setting(0.01, number(0))

    name: ClassVar[str] = "eprop_reward"
    online: ClassVar[bool] = False

    def __post_init__(self):
        super().__post_init__()
        if not self.spiking:
            raise ConfigError.bad_value("model", type(self.model).__name__, "a spiking model (lif, alif)")
        if self.model.n_out < 3:
            raise ConfigError.bad_value("n_out", self.model.n_out, "≥ 3 (two or more policy logits + one value)")
        if self.feedback == "adaptive":
            raise ConfigError.bad_value("feedback", self.feedback, "symmetric, random")

    def init_carry(self, params, batch_size, key):
        m = self.model
        dtype = params["w_rec"].dtype
        traces = zero_traces(m, batch_size, dtype)
        n_act = m.n_out - 1
        reward = RewardTraces(
            value_trace=jnp.zeros_like(traces.ebar),
            window_trace=jnp.zeros_like(traces.ebar),
            window_logits=jnp.zeros((batch_size, n_act), dtype),
            window_features=jnp.zeros((batch_size, m.n_rec + 1), dtype),
            value_features=jnp.zeros((batch_size, m.n_rec + 1), dtype),
        )
        gumbel = jax.random.gumbel(key, (batch_size, n_act), dtype)
        return RewardCarry(m.initial_state(params, batch_size), traces, reward, gumbel)

    def segment(self, params, rule_state, carry, stretch: Stretch, n_total):
        m = self.model
        inputs, targets, mask, noise = stretch
        n_steps, batch = inputs.shape[:2]
        if n_steps != n_total:
            raise ConfigError.bad_value("update_every", n_steps, "None (eprop_reward learns from whole trials)")
        if targets.shape[-1] != m.n_out - 1:
            raise ConfigError.bad_value(
                "n_out", m.n_out, f"{targets.shape[-1] + 1} (the task's {targets.shape[-1]} classes + one value output)"
            )
        eff = m.effective(params)
        fb = self.feedback_matrix(eff, rule_state)
        fb_policy, fb_value = fb[:, :-1], fb[:, -1]
        dtype = eff["w_rec"].dtype
        rho, kappa, c_kappa, gamma = m.rho, m.kappa, m.output_scale, self.gamma
        beta = m.beta_vector(dtype)
        k = largest_divisor_at_most(n_steps, self.block_steps)
        window = mask[..., 0]
        window = window / jnp.maximum(window.sum(0), 1.0)  # ω(t), (T, B)
        to_end = jnp.asarray(gamma ** np.arange(k - 1, -1, -1), dtype)  # γ^(K−s)
        ell_value = jnp.broadcast_to(self.value_cost * fb_value, (k, batch, m.n_rec))

        def block(c, index):
            state, tr, rw, acc = c
            x_k, omega_k, noise_k = block_slice((inputs, window, noise), index, k)
            state, aux = simulate_block(m, eff, state, x_k, noise_k)
            pre, z_out, s_out, moved = block_traces(m, tr, aux)
            value = aux.y[..., -1]  # (K, B)
            feats = jnp.concatenate([z_out, jnp.broadcast_to(s_out[:, None, None], z_out.shape[:2] + (1,))], -1)
            args = (kappa, c_kappa, aux.psi, pre, beta, rho, tr.ebar, tr.eps_a)
            # value term, the part that is known now: −Σ_t V(t) c_V B^V ē(t)
            g_value = block_ebar_sum(anticausal_filter(-value[..., None] * ell_value, kappa), *args, sum_batch=True)
            omega_n = jnp.broadcast_to(omega_k[..., None], aux.psi.shape)
            # traces paid out when the reward arrives
            rw = RewardTraces(
                value_trace=gamma**k * rw.value_trace + block_ebar_sum(
                    anticausal_filter(to_end[:, None, None] * ell_value, kappa), *args, sum_batch=False
                ),
                window_trace=rw.window_trace + block_ebar_sum(anticausal_filter(omega_n, kappa), *args, sum_batch=False),
                window_logits=rw.window_logits + jnp.einsum("kb,kbo->bo", omega_k, aux.y[..., :-1]),
                window_features=rw.window_features + jnp.einsum("kb,kbf->bf", omega_k, feats),
                value_features=gamma**k * rw.value_features + jnp.einsum("k,kbf->bf", to_end, feats),
            )
            acc = {
                **acc,
                "w": acc["w"] + g_value,
                "value_out": acc["value_out"] - self.value_cost * jnp.einsum("kb,kbf->f", value, feats),
                "spikes": acc["spikes"] + aux.z.sum((0, 1)),
                "value_last": value[-1],
            }
            if self.reg_rate:
                ones = jnp.ones_like(aux.psi)
                acc["e_sum"] = acc["e_sum"] + block_e_sum(ones, aux.psi, pre, beta, rho, tr.eps_a, True)
            return (state, eligibility_at_end(m, moved, aux.psi, pre, beta), rw, acc), None

        n_pre = m.n_in + m.n_rec
        acc = {
            "w": jnp.zeros((m.n_rec, n_pre), dtype),
            "e_sum": jnp.zeros((m.n_rec, n_pre), dtype),
            "value_out": jnp.zeros((m.n_rec + 1,), dtype),
            "spikes": jnp.zeros((m.n_rec,), dtype),
            "value_last": jnp.zeros((batch,), dtype),
        }
        init = (carry.h, carry.traces, carry.reward, acc)
        (state, tr, rw, acc), _ = jax.lax.scan(block, init, jnp.arange(n_steps // k))

        # The decision and the reward, at the end of the trial.
        logits = rw.window_logits
        chosen = jax.nn.one_hot(jnp.argmax(logits + carry.gumbel, axis=-1), logits.shape[-1], dtype=dtype)
        reward = jnp.sum(chosen * targets[-1], axis=-1)  # (B,)
        advantage = reward - acc["value_last"]
        surprise = chosen - jax.nn.softmax(logits, axis=-1)  # 1[a = k] − π̄_k
        ell_policy = surprise @ fb_policy.T  # (B, N)
        ascent = (
            acc["w"]
            + jnp.einsum("b,bj,bji->ji", advantage, ell_policy, rw.window_trace)
            + jnp.einsum("b,bji->ji", reward, rw.value_trace)
        )
        policy_out = jnp.einsum("b,bo,bf->of", advantage, surprise, rw.window_features)
        value_out = acc["value_out"] + self.value_cost * jnp.einsum("b,bf->f", reward, rw.value_features)
        out = jnp.concatenate([policy_out, value_out[None]], axis=0)  # (n_out, N + 1)
        # Σ δ F_γ(h) is an ascent direction; the rule returns the descent-sign estimate.
        scale = 1.0 / (n_steps * batch)
        rate = acc["spikes"] / (n_steps * batch)
        g = -scale * ascent + self.regulariser_grad(rate, acc["e_sum"], n_steps * batch)
        grads = {"w_in": g[:, : m.n_in], "w_rec": g[:, m.n_in :], "w_out": -scale * out[:, :-1]}
        if "b_out" in eff:
            grads["b_out"] = -scale * out[:, -1]
        mean_reward = jnp.mean(reward)
        metrics = {"loss": 1.0 - mean_reward, "reward": mean_reward, "rate_hz": 1000.0 * jnp.mean(rate)}
        carry = RewardCarry(state, tr, rw, carry.gumbel)
        return carry, self.restrict(fill_grads(params, grads)), metrics

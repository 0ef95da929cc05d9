r"""Recurrent networks of LIF and ALIF spiking neurons with a leaky readout (Bellec et al. 2020).

Discrete time, δt = 1 ms, one population whose neurons differ only by their adaptation strength
β_j (β_j = 0: LIF; β_j > 0: ALIF).  Batched as (B, N); neuron j, presynaptic i, readout k::

    v_j(t) = α v_j(t−1) + ζ [Σ_{i≠j} W_ji z_i(t−1) + Σ_i W^in_ji x_i(t)] − v_th z_j(t−1)   (1)
    a_j(t) = ρ a_j(t−1) + z_j(t−1)                                                        (2)
    A_j(t) = v_th + β_j a_j(t)                                   (adaptive threshold)      (3)
    z_j(t) = H((v_j(t) − A_j(t)) / v_th)   unless refractory      (spike, 0 or 1)         (4)
    y_k(t) = κ y_k(t−1) + ζ_out Σ_j W^out_kj z_j(t) + b_k          (leaky readout)          (5)

with α = exp(−δt/τ_m), ρ = exp(−δt/τ_a), κ = exp(−δt/τ_out).  The reset subtracts the
*baseline* threshold v_th one step after the spike (reset by subtraction, as in the reference
TensorFlow code and NEST's ``_bsshslm_2020`` models).  After a spike a neuron cannot fire for
the next ``n_ref − 1`` steps (minimum inter-spike interval ``n_ref`` steps; the reference
code's counter r ← clip(r + n_ref z − 1, 0, n_ref)), while v keeps integrating.  Autapses do
not exist: the diagonal of W is held at zero by :meth:`SpikingRNN.effective` and its gradient
is masked by :meth:`SpikingRNN.mask_grads`.

Conventions the reference codes disagree on are explicit options:

* ``zeta`` — input scaling ζ in (1): ``"1"`` (TF ``EligALIF``, evidence accumulation; NEST
  ``regular_spike_arrival=True``) or ``"1-alpha"`` (TF ``LightLIF``, pattern generation);
* ``readout_scale`` — ζ_out in (5): ``"1-kappa"`` (TF ``exp_convolve``, NEST
  ``_bsshslm_2020``) or ``"1"`` (ChFrenkel, NEST ``eprop_iaf``).  e-prop's κ-filter of the
  eligibility traces must use the same factor (``rules/eprop.py``).

Pseudo-derivative.  H has no useful derivative; the spike function is a ``jax.custom_jvp``
whose tangent is the pseudo-derivative (so reverse mode, i.e. BPTT, uses it too)::

    ψ_j(t) = dz_j(t)/dv_j(t) = (γ_pd / v_th) · f((v_j − A_j)/v_th),   0 while refractory      (6)

with γ_pd = 0.3 (``gamma_pd``) and, for x = (v − A)/v_th and width factor w (``surrogate_width``):

* ``triangle`` (the paper's):  f = max(0, 1 − w|x|)
* ``fast_sigmoid``:            f = (1 + w|x|)^−2
* ``exponential``:             f = exp(−w|x|)
* ``arctan``:                  f = 1 / (π (1 + (wπx)²))

These are NEST's ``piecewise_linear``, ``fast_sigmoid_derivative``, ``exponential`` and
``arctan`` with NEST's height γ = γ_pd/v_th and NEST's β = w/v_th (NEST writes them in volts).
Since z depends on a through A, dz/da = −β ψ.

State.  :class:`SpikeState` holds v(t), the adaptation variable *for the next step*
a(t+1) = ρ a(t) + z(t) (so that the own-spike path into the adaptation stays inside the neuron
even when the emitted spikes are detached or shifted), the refractory counter r, the emitted
spikes z(t) and the readout y(t).  :class:`SpikeAux` carries what e-prop needs: ψ(t), the
presynaptic spikes z(t−1) and inputs x(t), the emitted spikes and the readout.

Two switches exist for gradient checks and for e-prop's autodiff form:

* ``detach=True`` stops the gradient of z(t−1) where it enters (1) — the recurrent input and the
  reset — while keeping the own-spike path into (2).  BPTT through this graph is exactly
  symmetric e-prop (paper Suppl. S1.1; ``rules/eprop.py``).
* ``spike_shift`` adds a (zero) array to the emitted spikes on their *observable* paths (the
  readout, the recurrent input and the reset), so that autodiff w.r.t. it gives the total
  derivative dE/dz(t) of the paper's exact factorisation (Eq. 1).

Caveats.  The surrogate gradient is not the gradient of anything (H is flat almost everywhere),
so "exact" here means exact for the surrogate: BPTT, the factorisation and e-prop's
autodiff form agree to rounding error with the surrogate in place.  Initial weights follow the
reference code: W^in ~ N(0, 1/n_in), W ~ N(0, 1/N) (diagonal zero), W^out ~ N(0, 1/N).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp

from ..errors import ConfigError, check_choice, check_positive

SURROGATES = ("triangle", "fast_sigmoid", "exponential", "arctan")
ZETAS = ("1", "1-alpha")
READOUT_SCALES = ("1-kappa", "1")
# Steps per loop iteration when a time scan is only run forward (e-prop): ~2× faster on CPU for
# small networks.  ``run`` (differentiated by BPTT) keeps 1, which is faster for the backward pass.
SCAN_UNROLL = 4


def surrogate_shape(kind: str, x, width: float = 1.0):
    """f(x) of Eq. (6): the pseudo-derivative's shape, peak 1 (1/π for arctan) at x = 0."""
    ax = jnp.abs(x)
    if kind == "triangle":
        return jnp.maximum(0.0, 1.0 - width * ax)
    if kind == "fast_sigmoid":
        return (1.0 + width * ax) ** -2
    if kind == "exponential":
        return jnp.exp(-width * ax)
    if kind == "arctan":
        return 1.0 / (jnp.pi * (1.0 + (width * jnp.pi * x) ** 2))
    raise ConfigError.bad_value("surrogate", kind, ", ".join(SURROGATES))


@functools.partial(jax.custom_jvp, nondiff_argnums=(1, 2, 3))
def spike(x, kind: str = "triangle", gamma: float = 0.3, width: float = 1.0):
    """H(x) (1 where x > 0) whose derivative is the pseudo-derivative γ·f(x)."""
    return (x > 0).astype(x.dtype)


@spike.defjvp
def _spike_jvp(kind, gamma, width, primals, tangents):
    (x,), (dx,) = primals, tangents
    return spike(x, kind, gamma, width), gamma * surrogate_shape(kind, x, width) * dx


class SpikeState(NamedTuple):
    """Network state after step t (each (B, N), readout (B, n_out))."""

    v: jax.Array  # membrane potential v(t)
    a: jax.Array  # adaptation for the next step, a(t+1) = ρ a(t) + z(t)
    r: jax.Array  # refractory counter (steps left, as a float)
    z: jax.Array  # emitted spikes z(t)
    y: jax.Array  # readout y(t)


class SpikeAux(NamedTuple):
    """What local rules need from one step (all batched, leading dim B)."""

    psi: jax.Array  # pseudo-derivative ψ(t) (B, N), 0 while refractory
    v: jax.Array  # membrane potential v(t) (B, N)
    threshold: jax.Array  # adaptive threshold A(t) (B, N)
    z_prev: jax.Array  # presynaptic recurrent spikes z(t−1) (B, N)
    x: jax.Array  # input x(t) (B, n_in)
    z: jax.Array  # emitted spikes z(t) (B, N)
    y: jax.Array  # readout y(t) (B, n_out)


@dataclass(frozen=True)
class SpikingRNN:
    """Static settings of a LIF/ALIF network with leaky readout; pure, jit/vmap-able functions.

    ``n_adaptive`` neurons (the last ones) are ALIF with adaptation strength ``beta``; ``beta`` may
    also be a tuple of N per-neuron values (then ``n_adaptive`` is ignored).
    """

    n_in: int
    n_rec: int
    n_out: int
    tau_m: float = 20.0
    tau_a: float = 2000.0
    tau_out: float = 20.0
    v_th: float = 0.6
    beta: float | tuple = 0.0174
    n_adaptive: int | None = 0
    n_ref: int = 5
    zeta: str = "1"
    readout_scale: str = "1-kappa"
    surrogate: str = "triangle"
    gamma_pd: float = 0.3
    surrogate_width: float = 1.0
    bias: bool = False
    noise_std: float = 0.0
    w_in_scale: float = 1.0
    w_rec_scale: float = 1.0
    w_out_scale: float = 1.0

    def __post_init__(self):
        for name in ("n_in", "n_out"):
            v = getattr(self, name)
            if isinstance(v, bool) or not (isinstance(v, int) and v >= 0):
                raise ConfigError.bad_value(name, v, "a non-negative integer")
        check_positive("n_rec", self.n_rec, integer=True)
        for name in ("tau_m", "tau_a", "tau_out", "v_th", "gamma_pd", "surrogate_width"):
            check_positive(name, getattr(self, name))
        for name in ("zeta", "readout_scale"):  # 1 from a TOML/--set value is the string "1"
            value = getattr(self, name)
            if not isinstance(value, bool) and isinstance(value, (int, float)) and value == 1:
                object.__setattr__(self, name, "1")
        check_choice("zeta", self.zeta, ZETAS)
        check_choice("readout_scale", self.readout_scale, READOUT_SCALES)
        check_choice("surrogate", self.surrogate, SURROGATES)
        if isinstance(self.n_ref, bool) or not (isinstance(self.n_ref, int) and self.n_ref >= 0):
            raise ConfigError.bad_value("n_ref", self.n_ref, "a non-negative integer (steps)")
        if self.n_adaptive is not None and (
            isinstance(self.n_adaptive, bool)
            or not isinstance(self.n_adaptive, int)
            or not 0 <= self.n_adaptive <= self.n_rec
        ):
            raise ConfigError.bad_value("n_adaptive", self.n_adaptive, f"an integer in [0, n_rec={self.n_rec}]")
        if isinstance(self.beta, (tuple, list)):
            if len(self.beta) != self.n_rec or any(not isinstance(b, (int, float)) or b < 0 for b in self.beta):
                raise ConfigError.bad_value("beta", self.beta, f"a non-negative number or {self.n_rec} of them")
        elif isinstance(self.beta, bool) or not isinstance(self.beta, (int, float)) or self.beta < 0:
            raise ConfigError.bad_value("beta", self.beta, "a non-negative number")
        if self.noise_std < 0:
            raise ConfigError.bad_value("noise_std", self.noise_std, "a non-negative number")

    # -- constants --------------------------------------------------------------------------
    @property
    def alpha(self) -> float:
        """Membrane decay per step, exp(−δt/τ_m)."""
        return math.exp(-1.0 / self.tau_m)

    @property
    def rho(self) -> float:
        """Adaptation decay per step, exp(−δt/τ_a)."""
        return math.exp(-1.0 / self.tau_a)

    @property
    def kappa(self) -> float:
        """Readout decay per step, exp(−δt/τ_out)."""
        return math.exp(-1.0 / self.tau_out)

    @property
    def input_scale(self) -> float:
        """ζ of Eq. (1)."""
        return 1.0 if self.zeta == "1" else 1.0 - self.alpha

    @property
    def output_scale(self) -> float:
        """ζ_out of Eq. (5)."""
        return 1.0 if self.readout_scale == "1" else 1.0 - self.kappa

    @property
    def betas(self) -> tuple[float, ...]:
        """Per-neuron adaptation strengths β_j (0 for LIF neurons)."""
        if isinstance(self.beta, (tuple, list)):
            return tuple(float(b) for b in self.beta)
        n_lif = self.n_rec - (self.n_adaptive or 0)
        return (0.0,) * n_lif + (float(self.beta),) * (self.n_rec - n_lif)

    @property
    def adaptive(self) -> bool:
        """True when any neuron adapts (e-prop then needs the per-synapse ε_a trace)."""
        return any(b != 0.0 for b in self.betas)

    def beta_vector(self, dtype) -> jax.Array:
        return jnp.asarray(self.betas, dtype=dtype)

    def psi(self, v, threshold, refractory):
        """Eq. (6)."""
        x = (v - threshold) / self.v_th
        shape = surrogate_shape(self.surrogate, x, self.surrogate_width)
        return jnp.where(refractory, 0.0, (self.gamma_pd / self.v_th) * shape)

    # -- parameters -------------------------------------------------------------------------
    def init(self, key: jax.Array) -> dict:
        """W^in ~ N(0, 1/n_in), W ~ N(0, 1/N) with zero diagonal, W^out ~ N(0, 1/N)."""
        k_in, k_rec, k_out = jax.random.split(key, 3)
        n = self.n_rec
        params = {
            "w_in": self.w_in_scale * jax.random.normal(k_in, (n, self.n_in)) / math.sqrt(max(self.n_in, 1)),
            "w_rec": self.w_rec_scale * jax.random.normal(k_rec, (n, n)) / math.sqrt(n) * (1.0 - jnp.eye(n)),
            "w_out": self.w_out_scale * jax.random.normal(k_out, (self.n_out, n)) / math.sqrt(n),
        }
        if self.bias:
            params["b_out"] = jnp.zeros((self.n_out,))
        return params

    def effective(self, params: dict) -> dict:
        """The weights the dynamics use: no autapses (the one place the diagonal mask enters)."""
        n = params["w_rec"].shape[-1]
        return {**params, "w_rec": params["w_rec"] * (1.0 - jnp.eye(n, dtype=params["w_rec"].dtype))}

    def constrain(self, params: dict) -> dict:
        return self.effective(params)

    def mask_grads(self, grads: dict) -> dict:
        if "w_rec" not in grads:
            return grads
        n = grads["w_rec"].shape[-1]
        return {**grads, "w_rec": grads["w_rec"] * (1.0 - jnp.eye(n, dtype=grads["w_rec"].dtype))}

    # -- dynamics ---------------------------------------------------------------------------
    def initial_state(self, params: dict, batch_size: int) -> SpikeState:
        dtype = params["w_rec"].dtype
        zeros = jnp.zeros((batch_size, self.n_rec), dtype)
        return SpikeState(zeros, zeros, zeros, zeros, jnp.zeros((batch_size, self.n_out), dtype))

    def sample_noise(self, key: jax.Array, n_steps: int, batch_size: int):
        """Membrane noise added to v(t), (T, B, N); None when the model is noiseless."""
        if self.noise_std == 0.0:
            return None
        return self.noise_std * jax.random.normal(key, (n_steps, batch_size, self.n_rec))

    def step(self, params: dict, state: SpikeState, x_t, noise_t=None, detach: bool = False, spike_shift=None):
        """One step of Eqs. (1)–(6); ``params`` must be effective weights.  Returns (state, aux)."""
        z_prev = jax.lax.stop_gradient(state.z) if detach else state.z
        current = x_t @ params["w_in"].T + (params["w_rec"] @ z_prev.T).T
        v = self.alpha * state.v + self.input_scale * current - self.v_th * z_prev
        if noise_t is not None:
            v = v + noise_t
        threshold = self.v_th + self.beta_vector(v.dtype) * state.a
        refractory = state.r > 0.5
        z = jnp.where(
            refractory, 0.0, spike((v - threshold) / self.v_th, self.surrogate, self.gamma_pd, self.surrogate_width)
        )
        r = jax.lax.stop_gradient(jnp.clip(state.r + self.n_ref * z - 1.0, 0.0, float(self.n_ref)))
        a_next = self.rho * state.a + z  # the own-spike path, never detached
        z_out = z if spike_shift is None else z + spike_shift
        y = self.kappa * state.y + self.output_scale * (z_out @ params["w_out"].T)
        if "b_out" in params:
            y = y + params["b_out"]
        aux = SpikeAux(
            psi=self.psi(v, threshold, refractory), v=v, threshold=threshold, z_prev=z_prev, x=x_t, z=z_out, y=y
        )
        return SpikeState(v, a_next, r, z_out, y), aux

    def run(self, params: dict, inputs, h_init=None, noise=None, detach: bool = False, spike_shift=None):
        """A whole trial: inputs (T, B, n_in) → (final state, SpikeAux stacked over time)."""
        eff = self.effective(params)
        if h_init is None:
            h_init = self.initial_state(params, inputs.shape[1])

        def body(state, xs):
            x_t, noise_t, shift_t = xs
            return self.step(eff, state, x_t, noise_t, detach=detach, spike_shift=shift_t)

        return jax.lax.scan(body, h_init, (inputs, noise, spike_shift))


@dataclass(frozen=True)
class LIF(SpikingRNN):
    """LIF-only network (β = 0), the evidence-accumulation settings of Bellec et al. 2020."""

    n_adaptive: int | None = 0


@dataclass(frozen=True)
class ALIF(SpikingRNN):
    """Half LIF, half ALIF (τ_a = 2 s, β = 1.7(1−ρ)/(1−α) ≈ 0.0174), as in the evidence task."""

    n_adaptive: int | None = None

    def __post_init__(self):
        if self.n_adaptive is None:
            object.__setattr__(self, "n_adaptive", self.n_rec // 2)
        super().__post_init__()

r"""Excitatory/inhibitory integrate-and-fire network with conductance synapses, after Buonomano
2005 (J Neurophysiol 94:2275): a model of a cortical organotypic slice that a brief stimulus
(a "shock" to a subset of units) activates once per trial.

Maths
-----
Every unit ``i`` (``n_exc`` excitatory, then ``n_inh`` inhibitory) has a membrane potential in mV::

    τ_m dV/dt = −(V − E_L) − g_A (V − E_E) − g_N B(V) (V − E_E) − g_G (V − E_I)
                − g_K (V − E_K) + noise                                                    (1)
    B(V) = 1 / (1 + [Mg²⁺]/3.57 · exp(−0.062 V))             NMDA magnesium block (Jahr & Stevens 1990)
    V ≥ V_th  →  spike, V ← V_reset, held there for t_ref, g_K ← g_K + a                   (2)

``g_K`` is a spike-triggered afterhyperpolarisation (decaying with τ_ahp), which makes firing
once per trial a stable state for the excitatory units.

Conductances are dimensionless (in units of the leak conductance).  Each receptor type
x ∈ {AMPA, NMDA, GABA_A} is a difference of exponentials driven by presynaptic spikes::

    g_x(t) = Σ_spikes w · e_stp · c_x (exp(−(t−t_s)/τ_decay) − exp(−(t−t_s)/τ_rise))         (3)

``c_x`` normalises the kernel to a peak of 1, so a weight is the peak conductance one rested
synapse produces.  AMPA and NMDA share the excitatory weight (NMDA scaled by ``nmda_ratio``).
Short-term plasticity follows Tsodyks–Pawelzik–Markram: between spikes ``u → 0`` with τ_fac and
``R → 1`` with τ_rec; at a spike ``u⁺ = u + U(1 − u)``, release ``u⁺R``, ``R ← R − u⁺R``; the
efficacy ``e_stp = u⁺R/U`` is 1 for a rested synapse.  τ_fac = 0 means u ≡ U, τ_rec = 0 means
R ≡ 1, both zero is a static synapse.  The membrane noise is an Ornstein–Uhlenbeck term whose
stationary SD, for a free membrane, is ``noise_mv``.

The trial: all units start at rest with closed synapses; at ``stim_time`` a fixed subset of
excitatory and inhibitory units (drawn once with the weights) receives an AMPA conductance
pulse of peak ``stim_weight``; the network then runs for ``duration`` ms.

How it works
------------
* Synapse states decay by the exact factor ``exp(−dt/τ)`` each step, so (3) is exact at the
  grid points (tests/homeostasis/test_network.py checks it).  Spikes act one step after they are
  emitted (a synaptic delay of ``dt``).
* (1) is integrated by exponential Euler with the conductances (and B(V)) frozen over the step:
  ``V ← V_∞ + (V − V_∞) exp(−dt g_tot/τ_m)``, exact for constant conductances and stable for any
  conductance size.
* One trial is a ``lax.scan`` over time; :meth:`EINetwork.simulate_batch` ``vmap``\ s it over
  trials (independent noise), so a batch of trials is one compiled call.
* Weights are blocks ``W[post, pre]``: ``w_ee`` (E←E), ``w_ie`` (I←E), ``w_ei`` (E←I), ``w_ii``
  (I←I).  Absent connections are zeros; the homeostatic rules are multiplicative and keep them
  zero, so no separate mask is needed.

Caveats
-------
The 2005 paper's Methods (sizes, probabilities, neuron and synapse constants) could not be read
in full here; every default below is marked *verify* in docs/reproductions/buonomano2005.md,
with the reason it was chosen.  The model is a single-compartment LIF, not the paper's exact
neuron; the membrane equation is exact only for piecewise-constant conductances (error O(dt)
for time-varying ones).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from ..errors import ConfigError, check_positive

#: Names of the weight blocks, as ``post`` ← ``pre`` populations.
BLOCKS = {"w_ee": ("exc", "exc"), "w_ie": ("inh", "exc"), "w_ei": ("exc", "inh"), "w_ii": ("inh", "inh")}


def kernel_peak_normaliser(tau_rise: float, tau_decay: float) -> float:
    """``c`` such that ``c (exp(−t/τ_d) − exp(−t/τ_r))`` peaks at exactly 1."""
    if tau_rise <= 0:
        return 1.0
    t_peak = tau_rise * tau_decay / (tau_decay - tau_rise) * math.log(tau_decay / tau_rise)
    return 1.0 / (math.exp(-t_peak / tau_decay) - math.exp(-t_peak / tau_rise))


def dual_exponential(t, tau_rise: float, tau_decay: float):
    """Analytic conductance of one unit-weight event at time 0 (Eq. 3), for ``t ≥ 0``."""
    c = kernel_peak_normaliser(tau_rise, tau_decay)
    rise = jnp.exp(-t / tau_rise) if tau_rise > 0 else jnp.zeros_like(t)
    return c * (jnp.exp(-t / tau_decay) - rise)


def mg_block(v, mg_mM: float = 1.0):
    """NMDA magnesium block B(V) (Jahr & Stevens 1990)."""
    return 1.0 / (1.0 + (mg_mM / 3.57) * jnp.exp(-0.062 * v))


def _decay(dt: float, tau: float) -> float:
    return math.exp(-dt / tau) if tau > 0 else 0.0


class SynapseState(NamedTuple):
    """Decay and rise components of Eq. (3) per receptor, each (N,); g = decay − rise."""

    ampa_decay: jax.Array
    ampa_rise: jax.Array
    nmda_decay: jax.Array
    nmda_rise: jax.Array
    gaba_decay: jax.Array
    gaba_rise: jax.Array


class STPState(NamedTuple):
    """Tsodyks–Markram variables per presynaptic unit, one pair per pathway."""

    u: dict
    R: dict


class NetworkState(NamedTuple):
    v: jax.Array  # (N,) membrane potential, mV
    refractory: jax.Array  # (N,) steps left in the refractory period
    g_ahp: jax.Array  # (N,) afterhyperpolarisation conductance
    syn: SynapseState
    stp: STPState
    spikes: jax.Array  # (N,) spikes emitted in the previous step (float 0/1)


class Trace(NamedTuple):
    """What a simulated trial returns (time-major)."""

    spikes: jax.Array  # (T, N) bool
    v: jax.Array | None = None  # (T, N) membrane potential if recorded
    g_ampa: jax.Array | None = None
    g_nmda: jax.Array | None = None
    g_gaba: jax.Array | None = None


@dataclass(frozen=True)
class EINetwork:
    """Static settings of the E/I network (times in ms, potentials in mV).

    Defaults: see docs/reproductions/buonomano2005.md, where each is marked *paper*,
    *verify* (recalled, not checked against the full text) or *choice*.
    """

    n_exc: int = 400
    n_inh: int = 100
    # connection probabilities, W[post, pre]
    p_ee: float = 0.015
    p_ie: float = 0.2
    p_ei: float = 0.2
    p_ii: float = 0.2
    # initial weights (peak conductances, × leak): uniform in w·[1 − spread, 1 + spread]
    w_ee: float = 0.02
    w_ie: float = 0.02
    w_ei: float = 0.05
    w_ii: float = 0.3
    weight_spread: float = 0.5
    # time
    dt: float = 0.5
    duration: float = 300.0
    # neurons
    tau_m_exc: float = 20.0
    tau_m_inh: float = 10.0
    v_rest: float = -60.0
    v_reset: float = -60.0
    v_thresh_exc: float = -50.0
    v_thresh_inh: float = -50.0
    t_ref_exc: float = 2.0
    t_ref_inh: float = 1.0
    e_exc: float = 0.0
    e_inh: float = -70.0
    e_k: float = -80.0
    noise_mv: float = 0.2
    # spike-triggered afterhyperpolarisation (K⁺ conductance): increment per spike, decay
    ahp_exc: float = 0.5
    ahp_inh: float = 0.0
    tau_ahp: float = 100.0
    # synapses: (rise, decay) time constants
    tau_ampa: tuple = (0.5, 5.0)
    tau_nmda: tuple = (2.0, 100.0)
    tau_gaba: tuple = (0.5, 10.0)
    nmda_ratio: float = 8.0
    nmda_ratio_inh: float = 0.5
    mg_mM: float = 1.0
    # short-term plasticity per pathway: (U, tau_rec, tau_fac); (1, 0, 0) is static
    stp_ee: tuple = (0.5, 300.0, 0.0)
    stp_ie: tuple = (0.2, 100.0, 300.0)
    stp_ei: tuple = (0.3, 300.0, 0.0)
    stp_ii: tuple = (1.0, 0.0, 0.0)
    # stimulus
    stim_time: float = 5.0
    stim_frac_exc: float = 0.06
    stim_frac_inh: float = 0.02
    stim_weight: float = 2.0

    def __post_init__(self):
        for name in ("n_exc", "n_inh"):
            check_positive(name, getattr(self, name), integer=True)
        for name in ("p_ee", "p_ie", "p_ei", "p_ii", "stim_frac_exc", "stim_frac_inh"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and 0.0 <= v <= 1.0):
                raise ConfigError.bad_value(name, v, "a probability in [0, 1]")
        for name in ("dt", "duration", "tau_m_exc", "tau_m_inh", "tau_ahp"):
            check_positive(name, getattr(self, name))
        for name in ("w_ee", "w_ie", "w_ei", "w_ii", "noise_mv", "stim_weight", "nmda_ratio",
                     "nmda_ratio_inh", "mg_mM", "t_ref_exc", "t_ref_inh", "ahp_exc", "ahp_inh"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and v >= 0):
                raise ConfigError.bad_value(name, v, "a non-negative number")
        if not 0.0 <= self.weight_spread <= 1.0:
            raise ConfigError.bad_value("weight_spread", self.weight_spread, "a fraction in [0, 1]")
        for name in ("tau_ampa", "tau_nmda", "tau_gaba"):
            rise, decay = getattr(self, name)
            if not (0 <= rise < decay):
                raise ConfigError.bad_value(name, getattr(self, name), "(rise, decay) with 0 <= rise < decay")
        for name in ("stp_ee", "stp_ie", "stp_ei", "stp_ii"):
            U, tau_rec, tau_fac = getattr(self, name)
            if not (0 < U <= 1 and tau_rec >= 0 and tau_fac >= 0):
                raise ConfigError.bad_value(name, getattr(self, name), "(U in (0, 1], tau_rec >= 0, tau_fac >= 0)")
        if self.v_thresh_exc <= self.v_reset or self.v_thresh_inh <= self.v_reset:
            raise ConfigError.bad_value("v_thresh_exc/v_thresh_inh", (self.v_thresh_exc, self.v_thresh_inh),
                                        "thresholds above v_reset")
        if not 0 <= self.stim_time < self.duration:
            raise ConfigError.bad_value("stim_time", self.stim_time, f"a time in [0, duration={self.duration})")

    # -- sizes ------------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return self.n_exc + self.n_inh

    @property
    def n_steps(self) -> int:
        return int(round(self.duration / self.dt))

    @property
    def stim_step(self) -> int:
        return int(round(self.stim_time / self.dt))

    @property
    def n_stim_exc(self) -> int:
        return int(round(self.stim_frac_exc * self.n_exc))

    @property
    def n_stim_inh(self) -> int:
        return int(round(self.stim_frac_inh * self.n_inh))

    def population_sizes(self) -> dict:
        return {"exc": self.n_exc, "inh": self.n_inh}

    # -- parameters -------------------------------------------------------------------------
    def init(self, key: jax.Array) -> dict:
        """Random sparse weights (zeros where there is no connection) and the stimulus vector."""
        sizes = self.population_sizes()
        probs = {"w_ee": self.p_ee, "w_ie": self.p_ie, "w_ei": self.p_ei, "w_ii": self.p_ii}
        scales = {"w_ee": self.w_ee, "w_ie": self.w_ie, "w_ei": self.w_ei, "w_ii": self.w_ii}
        keys = jax.random.split(key, len(BLOCKS) + 2)
        params = {}
        for k, (name, (post, pre)) in zip(keys, BLOCKS.items()):
            kc, kw = jax.random.split(k)
            shape = (sizes[post], sizes[pre])
            connected = jax.random.uniform(kc, shape) < probs[name]
            if post == pre:  # no autapses
                connected = connected & ~jnp.eye(shape[0], dtype=bool)
            spread = self.weight_spread * (2.0 * jax.random.uniform(kw, shape) - 1.0)
            params[name] = jnp.where(connected, scales[name] * (1.0 + spread), 0.0)
        stim_e = jnp.zeros(self.n_exc).at[jax.random.permutation(keys[-2], self.n_exc)[: self.n_stim_exc]].set(1.0)
        stim_i = jnp.zeros(self.n_inh).at[jax.random.permutation(keys[-1], self.n_inh)[: self.n_stim_inh]].set(1.0)
        params["stim"] = (self.stim_weight * jnp.concatenate([stim_e, stim_i]))
        return params

    def stimulated(self, params) -> jax.Array:
        """Boolean (N,) mask of the units the stimulus drives directly."""
        return params["stim"] > 0

    # -- per-unit constants -----------------------------------------------------------------
    def _per_unit(self, exc_value, inh_value):
        return jnp.concatenate([jnp.full(self.n_exc, exc_value), jnp.full(self.n_inh, inh_value)])

    def initial_state(self) -> NetworkState:
        n = self.n
        zeros = jnp.zeros(n)
        pre = {"ee": self.n_exc, "ie": self.n_exc, "ei": self.n_inh, "ii": self.n_inh}
        u = {k: jnp.zeros(m) for k, m in pre.items()}
        R = {k: jnp.ones(m) for k, m in pre.items()}
        return NetworkState(
            v=jnp.full(n, self.v_rest),
            refractory=jnp.zeros(n, jnp.int32),
            g_ahp=zeros,
            syn=SynapseState(*([zeros] * 6)),
            stp=STPState(u, R),
            spikes=zeros,
        )

    # -- dynamics ---------------------------------------------------------------------------
    def _stp_release(self, u, R, spikes, pathway: str):
        """Advance Tsodyks–Markram variables by one step; return (u, R, efficacy of this step's spikes)."""
        U, tau_rec, tau_fac = getattr(self, f"stp_{pathway}")
        if tau_fac > 0:
            u = u * _decay(self.dt, tau_fac)
            u_plus = u + U * (1.0 - u)
        else:
            u_plus = jnp.full_like(u, U)
        if tau_rec > 0:
            R = 1.0 - (1.0 - R) * _decay(self.dt, tau_rec)
        release = u_plus * R
        efficacy = release / U
        u_new = jnp.where(spikes > 0, u_plus, u) if tau_fac > 0 else u
        R_new = jnp.where(spikes > 0, R - release, R) if tau_rec > 0 else R
        return u_new, R_new, efficacy

    def step(self, params, state: NetworkState, t_index, noise):
        """One ``dt``: synapses, membrane (Eq. 1), threshold and reset (Eq. 2)."""
        ne = self.n_exc
        dt = self.dt
        s_e, s_i = state.spikes[:ne], state.spikes[ne:]
        u, R = dict(state.stp.u), dict(state.stp.R)
        eff = {}
        for pathway, s in (("ee", s_e), ("ie", s_e), ("ei", s_i), ("ii", s_i)):
            u[pathway], R[pathway], eff[pathway] = self._stp_release(u[pathway], R[pathway], s, pathway)

        exc_drive = jnp.concatenate([params["w_ee"] @ (s_e * eff["ee"]), params["w_ie"] @ (s_e * eff["ie"])])
        inh_drive = jnp.concatenate([params["w_ei"] @ (s_i * eff["ei"]), params["w_ii"] @ (s_i * eff["ii"])])
        stim = params["stim"] * (t_index == self.stim_step)
        nmda_scale = self._per_unit(self.nmda_ratio, self.nmda_ratio_inh)

        syn = state.syn
        (ar, ad), (nr, nd), (gr, gd) = self.tau_ampa, self.tau_nmda, self.tau_gaba
        ca, cn, cg = (kernel_peak_normaliser(*self.tau_ampa), kernel_peak_normaliser(*self.tau_nmda),
                      kernel_peak_normaliser(*self.tau_gaba))
        a_in = ca * (exc_drive + stim)
        n_in = cn * nmda_scale * exc_drive
        g_in = cg * inh_drive
        syn = SynapseState(
            ampa_decay=syn.ampa_decay * _decay(dt, ad) + a_in,
            ampa_rise=syn.ampa_rise * _decay(dt, ar) + (a_in if ar > 0 else 0.0),
            nmda_decay=syn.nmda_decay * _decay(dt, nd) + n_in,
            nmda_rise=syn.nmda_rise * _decay(dt, nr) + (n_in if nr > 0 else 0.0),
            gaba_decay=syn.gaba_decay * _decay(dt, gd) + g_in,
            gaba_rise=syn.gaba_rise * _decay(dt, gr) + (g_in if gr > 0 else 0.0),
        )
        g_ampa = syn.ampa_decay - syn.ampa_rise
        g_nmda = syn.nmda_decay - syn.nmda_rise
        g_gaba = syn.gaba_decay - syn.gaba_rise

        v = state.v
        g_ahp = state.g_ahp * _decay(dt, self.tau_ahp) + self._per_unit(self.ahp_exc, self.ahp_inh) * state.spikes
        g_exc = g_ampa + g_nmda * mg_block(v, self.mg_mM)
        g_total = 1.0 + g_exc + g_gaba + g_ahp
        v_inf = (self.v_rest + g_exc * self.e_exc + g_gaba * self.e_inh + g_ahp * self.e_k) / g_total
        tau_m = self._per_unit(self.tau_m_exc, self.tau_m_inh)
        v_new = v_inf + (v - v_inf) * jnp.exp(-dt * g_total / tau_m)
        v_new = v_new + self.noise_mv * jnp.sqrt(1.0 - jnp.exp(-2.0 * dt / tau_m)) * noise

        in_refractory = state.refractory > 0
        v_thresh = self._per_unit(self.v_thresh_exc, self.v_thresh_inh)
        spikes = (v_new >= v_thresh) & ~in_refractory
        ref_steps = jnp.concatenate([
            jnp.full(ne, int(round(self.t_ref_exc / dt)), jnp.int32),
            jnp.full(self.n_inh, int(round(self.t_ref_inh / dt)), jnp.int32),
        ])
        v_new = jnp.where(spikes | in_refractory, self.v_reset, v_new)
        refractory = jnp.where(spikes, ref_steps, jnp.maximum(state.refractory - 1, 0))
        new_state = NetworkState(v_new, refractory, g_ahp, syn, STPState(u, R), spikes.astype(v_new.dtype))
        return new_state, (spikes, v_new, g_ampa, g_nmda, g_gaba)

    def simulate(self, params, key: jax.Array, record: bool = False, noise=None) -> Trace:
        """One trial from rest: spikes (T, N) and, with ``record``, V and conductances.

        ``noise`` (T, N) standard normals replaces the draw from ``key`` (for reproducing a trial
        elsewhere, e.g. in the NumPy reference benchmarks/references/numpy_homeostasis.py).
        """
        if noise is None:
            noise = jax.random.normal(key, (self.n_steps, self.n))

        def body(state, inputs):
            t, xi = inputs
            state, (spikes, v, ga, gn, gg) = self.step(params, state, t, xi)
            out = (spikes, v, ga, gn, gg) if record else (spikes,)
            return state, out

        _, out = lax.scan(body, self.initial_state(), (jnp.arange(self.n_steps), noise))
        return Trace(*out) if record else Trace(out[0])

    def simulate_batch(self, params, keys: jax.Array) -> jax.Array:
        """Independent trials side by side: spikes (B, T, N) bool for keys (B,)."""
        return jax.vmap(lambda k: self.simulate(params, k).spikes)(keys)

    def times(self) -> jax.Array:
        """Time (ms) of each step's end, relative to the stimulus."""
        return (jnp.arange(self.n_steps) + 1 - self.stim_step) * self.dt

r"""A plain NumPy, one-trial, step-by-step version of :class:`~plastix.homeostasis.EINetwork`.

It implements the same equations (plastix/models/ei_spiking.py, Eqs. 1–3 and the Tsodyks–Markram
synapses) written out independently, as the obvious loop over time steps.  It exists for two reasons: the tests
check the compiled JAX simulation against it spike for spike, and benchmarks/homeostasis.py times
the two side by side.  It is not part of the package (a Python loop over time steps is
the slow path plastix avoids).

Caveat: it follows the same discretisation choices as the JAX version (exact synaptic decay,
exponential-Euler membrane, one-step synaptic delay), so agreement checks the implementation,
not the discretisation (tests/homeostasis/test_network.py checks that against analytic
solutions).
"""

from __future__ import annotations

import math

import numpy as np

from plastix.models.ei_spiking import EINetwork, kernel_peak_normaliser


def _mg_block(v, mg):
    return 1.0 / (1.0 + (mg / 3.57) * np.exp(-0.062 * v))


def simulate_numpy(network: EINetwork, params: dict, noise: np.ndarray):
    """One trial.  ``noise`` (T, N) standard normals.  Returns (spikes (T, N) bool, v (T, N))."""
    net = network
    ne, ni, n, dt = net.n_exc, net.n_inh, net.n, net.dt
    w = {k: np.asarray(params[k], float) for k in ("w_ee", "w_ie", "w_ei", "w_ii")}
    stim = np.asarray(params["stim"], float)
    exc = np.arange(n) < ne
    tau_m = np.where(exc, net.tau_m_exc, net.tau_m_inh)
    v_th = np.where(exc, net.v_thresh_exc, net.v_thresh_inh)
    ref_steps = np.where(exc, round(net.t_ref_exc / dt), round(net.t_ref_inh / dt))
    ahp = np.where(exc, net.ahp_exc, net.ahp_inh)
    nmda_scale = np.where(exc, net.nmda_ratio, net.nmda_ratio_inh)

    receptors = {"ampa": net.tau_ampa, "nmda": net.tau_nmda, "gaba": net.tau_gaba}
    decay_f = {k: math.exp(-dt / d) for k, (r, d) in receptors.items()}
    rise_f = {k: (math.exp(-dt / r) if r > 0 else 0.0) for k, (r, d) in receptors.items()}
    norm = {k: kernel_peak_normaliser(*tau) for k, tau in receptors.items()}
    s_decay = {k: np.zeros(n) for k in receptors}
    s_rise = {k: np.zeros(n) for k in receptors}

    pathways = {"ee": (net.stp_ee, ne), "ie": (net.stp_ie, ne), "ei": (net.stp_ei, ni), "ii": (net.stp_ii, ni)}
    u = {k: np.zeros(m) for k, (_, m) in pathways.items()}
    R = {k: np.ones(m) for k, (_, m) in pathways.items()}

    v = np.full(n, net.v_rest)
    refractory = np.zeros(n, int)
    g_ahp = np.zeros(n)
    prev = np.zeros(n)
    T = net.n_steps
    spikes_out = np.zeros((T, n), bool)
    v_out = np.zeros((T, n))
    for t in range(T):
        eff = {}
        for k, ((U, tau_rec, tau_fac), _) in pathways.items():
            pre = prev[:ne] if k in ("ee", "ie") else prev[ne:]
            if tau_fac > 0:
                u[k] = u[k] * math.exp(-dt / tau_fac)
                u_plus = u[k] + U * (1 - u[k])
            else:
                u_plus = np.full_like(u[k], U)
            if tau_rec > 0:
                R[k] = 1 - (1 - R[k]) * math.exp(-dt / tau_rec)
            release = u_plus * R[k]
            eff[k] = release / U
            fired = pre > 0
            if tau_fac > 0:
                u[k] = np.where(fired, u_plus, u[k])
            if tau_rec > 0:
                R[k] = np.where(fired, R[k] - release, R[k])
        s_e, s_i = prev[:ne], prev[ne:]
        exc_drive = np.concatenate([w["w_ee"] @ (s_e * eff["ee"]), w["w_ie"] @ (s_e * eff["ie"])])
        inh_drive = np.concatenate([w["w_ei"] @ (s_i * eff["ei"]), w["w_ii"] @ (s_i * eff["ii"])])
        stim_now = stim if t == net.stim_step else 0.0
        inputs = {"ampa": norm["ampa"] * (exc_drive + stim_now), "nmda": norm["nmda"] * nmda_scale * exc_drive,
                  "gaba": norm["gaba"] * inh_drive}
        g = {}
        for k in receptors:
            s_decay[k] = s_decay[k] * decay_f[k] + inputs[k]
            s_rise[k] = s_rise[k] * rise_f[k] + (inputs[k] if receptors[k][0] > 0 else 0.0)
            g[k] = s_decay[k] - s_rise[k]
        g_ahp = g_ahp * math.exp(-dt / net.tau_ahp) + ahp * prev
        g_e = g["ampa"] + g["nmda"] * _mg_block(v, net.mg_mM)
        g_tot = 1 + g_e + g["gaba"] + g_ahp
        v_inf = (net.v_rest + g_e * net.e_exc + g["gaba"] * net.e_inh + g_ahp * net.e_k) / g_tot
        v_new = v_inf + (v - v_inf) * np.exp(-dt * g_tot / tau_m)
        v_new = v_new + net.noise_mv * np.sqrt(1 - np.exp(-2 * dt / tau_m)) * noise[t]
        in_ref = refractory > 0
        fired = (v_new >= v_th) & ~in_ref
        v_new = np.where(fired | in_ref, net.v_reset, v_new)
        refractory = np.where(fired, ref_steps, np.maximum(refractory - 1, 0))
        v, prev = v_new, fired.astype(float)
        spikes_out[t], v_out[t] = fired, v
    return spikes_out, v_out

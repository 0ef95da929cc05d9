r"""Expected learning curves of WP, NP, WP0 and HP for a linear readout (Züge, Klos & Memmesheimer,
Phys. Rev. X 13, 021006, 2023; equations re-derived here, notation of ``specs/perturbation.md``).

**Setting.**  Linear readout z = W X, X ∈ ℝ^{N×T}, M outputs, error E = 1/(2T) Σ (z* − z)², paired
baseline, update W ← W − η δE e/σ² (``rules/perturbation.py``).  Write D = W* − W and
S = X Xᵀ/T; then E = E_opt + ½ tr(D S Dᵀ), where E_opt is the error of the part of the target no
readout can produce.

**Latent-input tasks** (the paper's analytic tasks).  A task has n_task orthonormal latent inputs;
each trial activates a random n_trial of them (fraction f = n_trial/n_task), each with strength α²
(S = α² on the active inputs).  With K_task = M n_task and K_s = M n_trial, and Q = |D|² over the
task's inputs, every rule obeys exactly (Gaussian moments, no approximation)

    E[Q'] = a E[Q] + c,          ε = E − E_opt = (α² f/2) Q  (error averaged over subtasks)

    a = 1 − 2ηα² f + η²α⁴ f (K + 2),     K = K_task (WP),  K = K_s (NP, WP0, HP)            (T1)
    c_WP  = η²α⁴ σ_W² K_s (K_s+2)(K_task+4) / 4
    c_WP0 = η²α⁴ σ_W² K_s (K_s+2)(K_s+4) / 4
    c_NP  = η²α² K_s [2 E_opt + σ² (MT+2)(MT+4) / (4T)]                                      (T2)

HP on these tasks equals WP0 with η → η T α² (its eligibility is T ξ S).  Hence

    ε(t) = ε_∞ + (ε_0 − ε_∞) aᵗ,   ε_∞ = (α² f/2) c / (1 − a)                                 (T3)
    η* = 1 / ((K + 2) α²)  ⇒  a* = 1 − f/(K + 2);   stable iff η < 2/((K + 2) α²)           (T4)

Special cases (tested against the paper's printed formulas): single task (f = 1) gives the
paper's b_WP, b_NP; at η* with matched σ_W² = σ_eff²/(α² n_trial) (σ_W = σ_eff/√tr S):

    E_∞^WP − E_opt = σ_eff² M (M N_eff + 4)/8
    E_∞^NP − E_opt = σ_eff² K (MT+2)(MT+4) / (8T (K+2)) + E_opt K/(K+2)                     (T5)

so the finite-σ residuals have ratio ≈ N_eff/T, and NP with an unrealizable part ends near
2 E_opt.  Multiple subtasks at σ → 0: a_WP = 1 − f/(M n_task + 2), a_NP = 1 − f/(M n_trial + 2);
one pattern per trial (n_trial = 1, T = 1, Werfel et al. 2005) gives the NP:WP speed ratio
(M N + 2)/(M + 2) ≈ N.

**Irrelevant weights** (inputs that are always zero).  WP moves them by −η δE ξ/σ_W², a zero-mean
random walk whose mean square grows per trial by

    Δ⟨w²⟩ = η² α² (2ε + α² σ_W² K_s (K_s + 2)/4)                                               (T6)

(constant in the stationary state ⇒ linear growth); NP's and WP0's eligibility is zero there.

**General fixed inputs** (reservoir).  With S = Σ λ_k f_k f_kᵀ and q_k = |D f_k|², the mean
dynamics close on q (again exact):

    WP: q_k' = q_k (1 − 2ηλ_k + 2η²λ_k²) + η² M Σ_j λ_j² q_j + η² σ_W² G_k / 4
    NP: q_k' = q_k (1 − 2ηλ_k + 2η²λ_k²) + η² λ_k M Σ_j λ_j q_j
               + η² λ_k M [2 E_opt + σ² (MT+2)(MT+4)/(4T)]                                     (T7)

with G_k = E[(Σ_j λ_j Y_j)² Y_k], Y_j ~ χ²_M independent, and E = E_opt + ½ Σ λ_k q_k.  For
isotropic S (λ = α² on N_eff directions) (T7) reduces to (T1–T2).  The paper's practical rule
η* = 1/((M·PR + 2) α²_eff) uses the participation ratio PR = (Σλ)²/Σλ² and α²_eff = Σλ/PR.

Caveats: all results are expectations over perturbations (and subtasks); single runs fluctuate
around them.  They assume Gaussian white perturbations, the paired baseline and a linear
readout with squared error; (T7) assumes the same X in every trial.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError, check_choice

RULES = ("wp", "np", "wp0", "hp")


# --------------------------------------------------------------------------------------------
# Learning rates and perturbation sizes
# --------------------------------------------------------------------------------------------
def optimal_lr(n_out: int, n_eff: float, alpha2: float, rule: str = "wp", n_steps: int | None = None) -> float:
    """η* = 1/((M n_eff + 2) α²) (T4); for HP divided by α² T (its updates scale as α⁴ T).

    Pass n_eff = min(N_eff^task, N, T) for WP and min(N_eff^trial, N, T) for NP and WP0 on
    unrotated inputs (the paper's choice), or the participation ratio for general inputs.
    """
    check_choice("rule", rule, RULES)
    lr = 1.0 / ((n_out * n_eff + 2.0) * alpha2)
    if rule == "hp":
        if n_steps is None:
            raise ConfigError.bad_value("n_steps", None, "the trial length T (needed for HP)")
        lr /= alpha2 * n_steps
    return lr


def stability_limit(n_out: int, n_eff: float, alpha2: float) -> float:
    """Largest stable learning rate 2/((M n_eff + 2) α²): a = 1 there (T4)."""
    return 2.0 / ((n_out * n_eff + 2.0) * alpha2)


def matched_weight_sigma(sigma_eff: float, trace_s: float) -> float:
    """σ_W = σ_eff / sqrt(tr S): WP's per-weight SD giving a per-step output perturbation σ_eff."""
    return sigma_eff / np.sqrt(trace_s)


def participation_ratio(eigvals) -> float:
    """PR = (Σλ)² / Σλ² of the eigenvalues of S (an effective input dimension)."""
    lam = np.clip(np.asarray(eigvals, dtype=np.float64), 0.0, None)
    return float(lam.sum() ** 2 / np.sum(lam**2))


def effective_strength(eigvals) -> float:
    """α²_eff = Σλ / PR: the strength of PR equal latent inputs with the same total power."""
    lam = np.clip(np.asarray(eigvals, dtype=np.float64), 0.0, None)
    return float(lam.sum() / participation_ratio(lam))


def optimal_lr_from_inputs(inputs, n_out: int, rule: str = "wp") -> float:
    """η* = 1/((M·PR + 2) α²_eff) from an input matrix X (N, T) (the reservoir rule)."""
    x = np.asarray(inputs, dtype=np.float64)
    lam = np.linalg.eigvalsh(x @ x.T / x.shape[1])
    return optimal_lr(n_out, participation_ratio(lam), effective_strength(lam), rule, n_steps=x.shape[1])


# --------------------------------------------------------------------------------------------
# Latent-input tasks: (T1)–(T6)
# --------------------------------------------------------------------------------------------
def _check(rule, n_task, n_trial, n_steps):
    check_choice("rule", rule, RULES)
    if not 1 <= n_trial <= n_task:
        raise ConfigError.bad_value("n_trial", n_trial, f"an integer in [1, n_task={n_task}]")
    if n_steps < n_trial:
        raise ConfigError.bad_value("n_steps", n_steps, f"at least n_trial={n_trial} (orthonormal latent inputs)")


def effective_lr(rule: str, lr: float, alpha2: float, n_steps: int) -> float:
    """HP behaves as WP0 with η → η T α² (its eligibility is T ξ S); other rules: η."""
    return lr * n_steps * alpha2 if rule == "hp" else lr


def contraction(rule: str, lr: float, alpha2: float, n_out: int, n_task: int, n_trial: int, n_steps: int = 10**9) -> float:
    """Per-trial contraction a of the expected error excess (T1)."""
    _check(rule, n_task, n_trial, n_steps)
    eta = effective_lr(rule, lr, alpha2, n_steps)
    f = n_trial / n_task
    k = n_out * (n_task if rule == "wp" else n_trial)
    return 1.0 - 2.0 * eta * alpha2 * f + eta**2 * alpha2**2 * f * (k + 2)


def noise_drive(rule: str, lr: float, alpha2: float, n_out: int, n_task: int, n_trial: int, n_steps: int,
                sigma: float, e_opt: float = 0.0, sigma_w: float | None = None) -> float:
    """Per-trial additive term of the expected error excess, (α² f/2)·c (T2).

    ``sigma`` is σ_eff; WP, WP0 and HP use σ_W = σ_eff/sqrt(α² n_trial) unless ``sigma_w``
    is given.
    """
    _check(rule, n_task, n_trial, n_steps)
    eta = effective_lr(rule, lr, alpha2, n_steps)
    f = n_trial / n_task
    k_task, k_s = n_out * n_task, n_out * n_trial
    mt = n_out * n_steps
    if rule == "np":
        c = eta**2 * alpha2 * k_s * (2.0 * e_opt + sigma**2 * (mt + 2) * (mt + 4) / (4.0 * n_steps))
    else:
        sw2 = (sigma**2 / (alpha2 * n_trial)) if sigma_w is None else sigma_w**2
        k_far = k_task if rule == "wp" else k_s
        c = eta**2 * alpha2**2 * sw2 * k_s * (k_s + 2) * (k_far + 4) / 4.0
    return 0.5 * alpha2 * f * c


def final_error(rule, lr, alpha2, n_out, n_task, n_trial, n_steps, sigma, e_opt=0.0, sigma_w=None) -> float:
    """E_∞ = E_opt + (α² f/2) c/(1 − a) (T3); inf when the rule is unstable (a ≥ 1)."""
    a = contraction(rule, lr, alpha2, n_out, n_task, n_trial, n_steps)
    if a >= 1.0:
        return float("inf")
    return e_opt + noise_drive(rule, lr, alpha2, n_out, n_task, n_trial, n_steps, sigma, e_opt, sigma_w) / (1.0 - a)


def error_curve(trials, e0, rule, lr, alpha2, n_out, n_task, n_trial, n_steps, sigma, e_opt=0.0, sigma_w=None):
    """Expected error after t = 0, 1, … updates (array of length ``trials`` + 1), (T3)."""
    a = contraction(rule, lr, alpha2, n_out, n_task, n_trial, n_steps)
    b = noise_drive(rule, lr, alpha2, n_out, n_task, n_trial, n_steps, sigma, e_opt, sigma_w)
    t = np.arange(trials + 1, dtype=np.float64)
    if a >= 1.0:  # no fixed point: iterate the recursion directly
        out = np.empty_like(t)
        eps = e0 - e_opt
        for i in range(trials + 1):
            out[i] = eps
            eps = a * eps + b
        return e_opt + out
    eps_inf = b / (1.0 - a)
    return e_opt + eps_inf + (e0 - e_opt - eps_inf) * a**t


def matched_residuals(n_out: int, n_eff: int, n_steps: int, sigma_eff: float, e_opt: float = 0.0) -> dict:
    """Single task at η*, matched σ: E_∞ − E_opt for WP and NP, their ratio and N_eff/T (T5)."""
    k = n_out * n_eff
    mt = n_out * n_steps
    wp = sigma_eff**2 * n_out * (k + 4) / 8.0
    np_sigma = sigma_eff**2 * k * (mt + 2) * (mt + 4) / (8.0 * n_steps * (k + 2))
    return {"wp": wp, "np": np_sigma + e_opt * k / (k + 2), "np_sigma_part": np_sigma,
            "ratio": wp / np_sigma, "approx_ratio": n_eff / n_steps}


def paper_b_coefficients(lr, sigma, n_eff, n_steps, n_out, alpha2, e_opt):
    """The paper's printed single-task coefficients (b_WP, b_NP), for checking (T1–T2) against."""
    m, t = n_out, n_steps
    b_wp = -(sigma**2 / 8.0) * lr**2 * alpha2**3 * (m**3 * n_eff**3 + 6 * m**2 * n_eff**2 + 8 * m * n_eff)
    b_np = (-(sigma**2 / 8.0) * lr**2 * alpha2**2 * (m**3 * n_eff * t + 6 * m**2 * n_eff + 8 * m * n_eff / t)
            - lr**2 * alpha2**2 * m * n_eff * e_opt)
    return b_wp, b_np


def werfel_speed_ratio(n_out: int, n_in: int) -> float:
    """NP:WP learning-speed ratio with one of N orthogonal patterns per trial: (MN + 2)/(M + 2)."""
    return (n_out * n_in + 2.0) / (n_out + 2.0)


def irrelevant_diffusion_rate(lr: float, alpha2: float, n_out: int, n_trial: int, sigma_w: float, excess: float) -> float:
    """Per-trial growth of the mean square of a zero-input weight under WP at error excess ε (T6)."""
    k_s = n_out * n_trial
    return lr**2 * alpha2 * (2.0 * excess + alpha2 * sigma_w**2 * k_s * (k_s + 2) / 4.0)


def irrelevant_weight_curve(excess_curve, lr: float, alpha2: float, n_out: int, n_trial: int, sigma_w: float,
                            decay: float = 1.0) -> np.ndarray:
    """Expected mean square of a zero-input weight under WP along an error-excess curve ε(t) (T6):
    m(t+1) = γ² (m(t) + Δ(ε(t))), m(0) = 0, with multiplicative decay γ after each update."""
    rates = irrelevant_diffusion_rate(lr, alpha2, n_out, n_trial, sigma_w, np.asarray(excess_curve, np.float64))
    out = np.zeros(len(rates) + 1)
    for t, r in enumerate(rates):
        out[t + 1] = decay**2 * (out[t] + r)
    return out


# --------------------------------------------------------------------------------------------
# General fixed inputs: (T7)
# --------------------------------------------------------------------------------------------
def _chi2_moment_term(lam: np.ndarray, m: int) -> np.ndarray:
    """G_k = E[(Σ_j λ_j Y_j)² Y_k] for independent Y_j ~ χ²_M."""
    l1, l2 = lam.sum(), np.sum(lam**2)
    rest1 = l1 - lam
    rest2 = l2 - lam**2
    return (lam**2 * m * (m + 2) * (m + 4) + rest2 * m**2 * (m + 2) + 2 * lam * rest1 * m**2 * (m + 2)
            + (rest1**2 - rest2) * m**3)


def spectral_error_curve(eigvals, q0, rule: str, lr: float, n_out: int, n_steps: int, sigma: float,
                         trials: int, e_opt: float = 0.0, sigma_w: float | None = None, every: int = 1):
    """Expected error for fixed inputs with S-eigenvalues ``eigvals`` and initial q_k = |D f_k|² (T7).

    Returns E at t = 0, every, 2·every, … ≤ trials.  ``sigma`` is σ_eff (NP) and gives σ_W =
    σ_eff/sqrt(Σλ) for WP unless ``sigma_w`` is given.  Only "wp" and "np" are covered.
    """
    check_choice("rule", rule, ("wp", "np"))
    lam = np.asarray(eigvals, dtype=np.float64)
    q = np.asarray(q0, dtype=np.float64).copy()
    m = n_out
    decay = 1.0 - 2.0 * lr * lam + 2.0 * lr**2 * lam**2
    if rule == "wp":
        sw2 = sigma**2 / lam.sum() if sigma_w is None else sigma_w**2
        drive = lr**2 * sw2 * _chi2_moment_term(lam, m) / 4.0
    else:
        mt = m * n_steps
        drive = lr**2 * lam * m * (2.0 * e_opt + sigma**2 * (mt + 2) * (mt + 4) / (4.0 * n_steps))
    out = [e_opt + 0.5 * np.dot(lam, q)]
    for t in range(1, trials + 1):
        if rule == "wp":
            coupled = lr**2 * m * np.dot(lam**2, q)
        else:
            coupled = lr**2 * lam * m * np.dot(lam, q)
        q = q * decay + coupled + drive
        if t % every == 0:
            out.append(e_opt + 0.5 * np.dot(lam, q))
    return np.asarray(out)


__all__ = [
    "optimal_lr", "stability_limit", "matched_weight_sigma", "participation_ratio", "effective_strength",
    "optimal_lr_from_inputs", "contraction", "noise_drive", "final_error", "error_curve", "matched_residuals",
    "paper_b_coefficients", "werfel_speed_ratio", "irrelevant_diffusion_rate", "irrelevant_weight_curve",
    "spectral_error_curve", "effective_lr",
]

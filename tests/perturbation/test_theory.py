"""The analytic theory: closed-form special cases, the paper's printed formulas, and Monte Carlo
checks of the one-trial expectations it is built from (NumPy, float64, independent of the rules)."""

import numpy as np
import pytest

from plastix.errors import ConfigError
from plastix.theory import perturbation as th

M, N_EFF, T, ALPHA2 = 10, 50, 100, 2.0


# -- closed forms ---------------------------------------------------------------------------
def test_single_task_matches_the_papers_printed_coefficients():
    for lr in (1e-4, 5e-4, 1e-3):
        for sigma, e_opt in ((0.04, 0.0), (0.01, 2.0), (1e-10, 2.0)):
            b_wp, b_np = th.paper_b_coefficients(lr, sigma / np.sqrt(ALPHA2 * N_EFF), N_EFF, T, M, ALPHA2, e_opt)
            args = (lr, ALPHA2, M, N_EFF, N_EFF, T)
            assert th.noise_drive("wp", *args, sigma) == pytest.approx(-b_wp, rel=1e-12)
            _, b_np = th.paper_b_coefficients(lr, sigma, N_EFF, T, M, ALPHA2, e_opt)
            assert th.noise_drive("np", *args, sigma, e_opt) == pytest.approx(-b_np, rel=1e-12)
            a_paper = 1 - 2 * lr * ALPHA2 + lr**2 * ALPHA2**2 * (M * N_EFF + 2)
            assert th.contraction("wp", *args) == pytest.approx(a_paper, rel=1e-14)
            assert th.contraction("np", *args) == pytest.approx(a_paper, rel=1e-14)


def test_matched_residuals_reproduce_the_spec_numbers():
    r = th.matched_residuals(M, N_EFF, T, 0.04)
    assert r["wp"] == pytest.approx(1.008, abs=5e-4)  # spec §4.5: 1.008 / 2.004
    assert r["np"] == pytest.approx(2.004, abs=5e-4)
    assert r["ratio"] == pytest.approx(N_EFF / T, rel=0.02)
    # … and equal the general fixed point at η* with matched σ_W = σ_eff/sqrt(α² N_eff).
    for rule in ("wp", "np"):
        lr = th.optimal_lr(M, N_EFF, ALPHA2)
        assert th.final_error(rule, lr, ALPHA2, M, N_EFF, N_EFF, T, 0.04) == pytest.approx(r[rule], rel=1e-12)
    # With an unrealizable part NP ends at E_opt (1 + K/(K+2)) ≈ 2 E_opt, WP at E_opt.
    lr = th.optimal_lr(M, N_EFF, ALPHA2)
    assert th.final_error("np", lr, ALPHA2, M, N_EFF, N_EFF, T, 0.0, e_opt=2.0) == pytest.approx(2 * (1 + 500 / 502))
    assert th.final_error("wp", lr, ALPHA2, M, N_EFF, N_EFF, T, 0.0, e_opt=2.0) == pytest.approx(2.0)


def test_spec_table_values_for_curves():
    lr_wp = th.optimal_lr(M, 50, ALPHA2)
    wp = th.error_curve(2000, 7.0, "wp", lr_wp, ALPHA2, M, 50, 50, T, 1e-10, 2.0)
    assert wp[500] == pytest.approx(3.85, abs=0.01) and wp[2000] == pytest.approx(2.09, abs=0.01)
    multi_wp = th.error_curve(5000, 7.0, "wp", th.optimal_lr(M, 50, 10.0), 10.0, M, 50, 10, T, 1e-10, 2.0)
    assert multi_wp[2000] == pytest.approx(4.25, abs=0.01) and multi_wp[5000] == pytest.approx(2.68, abs=0.01)


def test_optimal_lr_minimises_the_contraction_and_the_stability_limit():
    for rule, k_n in (("wp", 50), ("np", 10)):
        lr = th.optimal_lr(M, k_n, 10.0)
        a = th.contraction(rule, lr, 10.0, M, 50, 10, T)
        assert a == pytest.approx(1 - 0.2 / (M * k_n + 2), rel=1e-12)
        for factor in (0.9, 1.1):
            assert th.contraction(rule, lr * factor, 10.0, M, 50, 10, T) > a
    limit = th.stability_limit(M, N_EFF, ALPHA2)
    assert th.contraction("wp", limit, ALPHA2, M, N_EFF, N_EFF, T) == pytest.approx(1.0, rel=1e-12)
    assert th.final_error("wp", 1.01 * limit, ALPHA2, M, N_EFF, N_EFF, T, 0.01) == float("inf")
    curve = th.error_curve(50, 5.0, "wp", 1.5 * limit, ALPHA2, M, N_EFF, N_EFF, T, 0.0)
    assert np.all(np.diff(curve) > 0)  # diverges beyond the limit
    lr_hp = th.optimal_lr(M, 10, 10.0, rule="hp", n_steps=T)
    assert lr_hp == pytest.approx(th.optimal_lr(M, 10, 10.0) / (10.0 * T))
    with pytest.raises(ConfigError):
        th.optimal_lr(M, 10, 10.0, rule="hp")


def test_werfel_ratio_and_participation_ratio():
    for n in (20, 100):
        a_wp = th.contraction("wp", th.optimal_lr(M, n, n), n, M, n, 1, 1)
        a_np = th.contraction("np", th.optimal_lr(M, 1, n), n, M, n, 1, 1)
        assert (1 - a_np) / (1 - a_wp) == pytest.approx(th.werfel_speed_ratio(M, n), rel=1e-9)
    assert th.participation_ratio(np.ones(7)) == pytest.approx(7.0)
    assert th.participation_ratio([3.0, 0, 0]) == pytest.approx(1.0)
    assert th.effective_strength(2.0 * np.ones(5)) == pytest.approx(2.0)
    x = np.vstack([np.sqrt(3.0) * np.eye(4)[:2] * 2.0, np.zeros((3, 4))])  # 2 equal latent directions
    assert th.optimal_lr_from_inputs(x, 2) == pytest.approx(th.optimal_lr(2, 2, 3.0))


def test_spectral_recursion_reduces_to_the_closed_form_for_isotropic_inputs():
    n_in, n_eff, m, t = 12, 5, 3, 9
    lam = np.r_[np.full(n_eff, 1.7), np.zeros(n_in - n_eff)]
    q0 = np.r_[np.full(n_eff, 0.4), np.full(n_in - n_eff, 0.2)]
    e0 = 0.5 + 0.5 * 1.7 * 0.4 * n_eff
    for rule in ("wp", "np"):
        lr = 0.8 * th.optimal_lr(m, n_eff, 1.7)
        spectral = th.spectral_error_curve(lam, q0, rule, lr, m, t, 0.05, 200, e_opt=0.5)
        closed = th.error_curve(200, e0, rule, lr, 1.7, m, n_eff, n_eff, t, 0.05, e_opt=0.5,
                                sigma_w=0.05 / np.sqrt(1.7 * n_eff) if rule == "wp" else None)
        np.testing.assert_allclose(spectral, closed, rtol=1e-10)


# -- Monte Carlo checks of the one-trial expectations -------------------------------------------
def one_trial_mc(rule, d, basis, active, alpha2, m, sigma_w, sigma_n, z_perp, lr, draws, rng):
    """Mean over draws of |D'|² (task columns) and of the new irrelevant-weight square, one update.

    A direct NumPy simulation of the paper's linear perceptron update (two runs, δE, e/σ²).
    """
    n_task = d.shape[1]
    n_all = n_task + 2  # two always-zero inputs
    t_len = basis.shape[1]
    x = np.zeros((n_all, t_len))
    x[active] = np.sqrt(t_len * alpha2) * basis[: len(active)]
    w_star = np.zeros((m, n_all))
    w_star[:, :n_task] = 1.0
    w = w_star.copy()
    w[:, :n_task] -= d
    target = w_star @ x + z_perp
    err0 = 0.5 * np.sum((target - w @ x) ** 2) / t_len
    if rule == "np":
        xi = sigma_n * rng.standard_normal((draws, m, t_len))
        out = w @ x + xi
        elig = np.einsum("kmt,nt->kmn", xi, x) / sigma_n**2
    else:
        xi = sigma_w * rng.standard_normal((draws, m, n_all))
        out = np.einsum("kmn,nt->kmt", w[None] + xi, x)
        if rule == "wp":
            elig = xi / sigma_w**2
        elif rule == "wp0":
            elig = xi * np.any(x != 0, axis=1)[None, None, :] / sigma_w**2
        else:  # hp
            elig = np.einsum("kmt,nt->kmn", np.einsum("kmn,nt->kmt", xi, x), x) / sigma_w**2
    delta = 0.5 * np.sum((target[None] - out) ** 2, axis=(1, 2)) / t_len - err0
    w_new = w[None] - lr * delta[:, None, None] * elig
    d_new = w_star[None, :, :n_task] - w_new[:, :, :n_task]
    q = np.sum(d_new**2, axis=(1, 2))
    irr = np.mean(w_new[:, :, n_task:] ** 2, axis=(1, 2))
    return q, irr


@pytest.mark.parametrize("rule", ["wp", "np", "wp0", "hp"])
def test_one_trial_expectation_matches_the_recursion(rule):
    """E[Q'] = a Q + c for one update, averaged over perturbations *and* subtask draws (T1–T2)."""
    rng = np.random.default_rng(0)
    m, n_task, n_trial, t_len, alpha2 = 2, 4, 2, 6, 1.5
    sigma, e_opt = 0.3, 0.7
    basis = np.linalg.qr(rng.standard_normal((t_len, t_len)))[0].T  # orthonormal rows
    d = rng.standard_normal((m, n_task)) * 0.5
    z_perp = np.sqrt(2 * e_opt * t_len / m) * basis[n_trial][None, :].repeat(m, 0)
    sigma_w = sigma / np.sqrt(alpha2 * n_trial)
    k_eff = m * (n_task if rule == "wp" else n_trial)
    lr = 0.7 * th.optimal_lr(m, k_eff / m, alpha2, rule="hp" if rule == "hp" else "wp", n_steps=t_len)
    subsets = [(i, j) for i in range(n_task) for j in range(n_task) if i < j]
    q_all, irr_all = [], []
    for s in subsets:  # every subtask, equally often: exact average over subtask draws
        q, irr = one_trial_mc(rule, d, basis, list(s), alpha2, m, sigma_w, sigma, z_perp if rule == "np" else 0.0,
                              lr, 40_000, rng)
        q_all.append(q)
        irr_all.append(irr)
    q_all = np.concatenate(q_all)
    q0 = np.sum(d**2)
    a = th.contraction(rule, lr, alpha2, m, n_task, n_trial, t_len)
    f = n_trial / n_task
    drive = th.noise_drive(rule, lr, alpha2, m, n_task, n_trial, t_len, sigma, e_opt if rule == "np" else 0.0)
    predicted = a * q0 + drive / (0.5 * alpha2 * f)
    sem = q_all.std() / np.sqrt(q_all.size)
    assert abs(q_all.mean() - predicted) < 4 * sem, (q_all.mean(), predicted, sem)
    if rule == "wp":  # (T6): per-trial growth of a zero-input weight's square
        eps = 0.5 * alpha2 * f * q0
        rate = th.irrelevant_diffusion_rate(lr, alpha2, m, n_trial, sigma_w, eps)
        irr_all = np.concatenate(irr_all)
        assert abs(irr_all.mean() - rate) < 4 * irr_all.std() / np.sqrt(irr_all.size)


@pytest.mark.parametrize("rule", ["wp", "np"])
def test_one_trial_spectral_recursion_matches_monte_carlo(rule):
    """(T7) for a random, anisotropic, fixed input matrix X (N > T, so S is rank deficient)."""
    rng = np.random.default_rng(1)
    m, n, t_len, sigma, draws = 2, 6, 5, 0.2, 200_000
    x = rng.standard_normal((n, t_len)) * np.array([2.0, 1.0, 0.7, 0.3, 0.1, 0.05])[:, None]
    s_mat = x @ x.T / t_len
    lam, vec = np.linalg.eigh(s_mat)
    lam = np.clip(lam, 0, None)
    w_star = rng.standard_normal((m, n))
    w = w_star + 0.3 * rng.standard_normal((m, n))
    z_perp = rng.standard_normal((m, t_len))
    z_perp -= z_perp @ np.linalg.pinv(x) @ x  # orthogonal to the rows of X
    e_opt = 0.5 * np.sum(z_perp**2) / t_len
    target = w_star @ x + z_perp
    lr = 0.5 * th.optimal_lr(m, th.participation_ratio(lam), th.effective_strength(lam))
    sigma_w = sigma / np.sqrt(lam.sum())
    err = lambda out: 0.5 * np.sum((target - out) ** 2, axis=(-2, -1)) / t_len  # noqa: E731
    if rule == "np":
        xi = sigma * rng.standard_normal((draws, m, t_len))
        delta = err(w @ x + xi) - err(w @ x)
        w_new = w - lr * delta[:, None, None] * np.einsum("kmt,nt->kmn", xi, x) / sigma**2
    else:
        xi = sigma_w * rng.standard_normal((draws, m, n))
        delta = err(np.einsum("kmn,nt->kmt", w + xi, x)) - err(w @ x)
        w_new = w - lr * delta[:, None, None] * xi / sigma_w**2
    e_new = err(np.einsum("kmn,nt->kmt", w_new, x))
    q0 = np.sum(((w_star - w) @ vec) ** 2, axis=0)
    predicted = th.spectral_error_curve(lam, q0, rule, lr, m, t_len, sigma, 1, e_opt=e_opt)
    assert predicted[0] == pytest.approx(err(w @ x), rel=1e-10)
    assert abs(e_new.mean() - predicted[1]) < 4 * e_new.std() / np.sqrt(draws), (e_new.mean(), predicted[1])


def test_validation():
    with pytest.raises(ConfigError):
        th.contraction("xp", 1e-3, 1.0, 2, 5, 2)
    with pytest.raises(ConfigError):
        th.contraction("wp", 1e-3, 1.0, 2, 5, 6)
    with pytest.raises(ConfigError):
        th.noise_drive("np", 1e-3, 1.0, 2, 5, 4, 3, 0.1)  # T < n_trial

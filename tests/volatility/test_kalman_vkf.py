"""Deterministic filters: Kalman filter, Rescorla-Wagner, continuous and binary VKF."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from plastix.volatility import (
    BinaryVolatileKalmanFilter,
    KalmanFilter,
    KalmanParams,
    RescorlaWagner,
    RescorlaWagnerParams,
    VKFParams,
    VolatileKalmanFilter,
    reference,
    steady_state_gain,
    steady_state_variance,
)


def _golden_trace():
    """The spec's golden trace, recomputed here in exact rational arithmetic."""
    lam, v, noise = Fraction(1, 2), Fraction(1), Fraction(1)
    m, w = Fraction(0), noise
    rows = []
    for o in (1, 0, 2):
        k = (w + v) / (w + v + noise)
        new_m = m + k * (o - m)
        new_w = (1 - k) * (w + v)
        v = v + lam * ((new_m - m) ** 2 + new_w + w - 2 * (1 - k) * w - v)
        m, w = new_m, new_w
        rows.append((k, m, w, v))
    return rows


def test_golden_trace_matches_spec_fractions():
    rows = _golden_trace()
    assert rows[0] == (Fraction(2, 3), Fraction(2, 3), Fraction(2, 3), Fraction(11, 9))
    assert rows[1] == (Fraction(17, 26), Fraction(3, 13), Fraction(17, 26), Fraction(2303, 2028))
    assert rows[2][0] == Fraction(3629, 5657) and rows[2][1] == Fraction(7726, 5657)


def test_vkf_golden_trace(x64):
    traj = VolatileKalmanFilter().run(VKFParams(0.5, 1.0, 1.0), np.array([1.0, 0.0, 2.0]))
    for t, (k, m, w, v) in enumerate(_golden_trace()):
        assert abs(float(traj.learning_rate[t]) - float(k)) < 1e-12
        assert abs(float(traj.value[t]) - float(m)) < 1e-12
        assert abs(float(traj.uncertainty[t]) - float(w)) < 1e-12
        assert abs(float(traj.filtered_volatility[t]) - float(v)) < 1e-12
    # predicted volatility of trial t is the filtered volatility of trial t-1
    np.testing.assert_allclose(traj.predicted_volatility[1:], traj.filtered_volatility[:-1], rtol=0, atol=1e-15)


def test_vkf_agrees_with_the_other_algebraic_form(x64):
    rng = np.random.default_rng(0)
    o = np.cumsum(rng.normal(0, 0.5, 300)) + rng.normal(0, 1, 300)
    traj = VolatileKalmanFilter().run(VKFParams(0.2, 0.7, 1.3, 0.4), o)
    ref = reference.volatile_kalman_filter(o, 0.2, 0.7, 1.3, 0.4)
    for name in ("prediction", "value", "learning_rate", "uncertainty", "predicted_volatility", "filtered_volatility"):
        np.testing.assert_allclose(getattr(traj, name), ref[name], rtol=1e-12, atol=1e-12)


def test_vkf_without_volatility_learning_is_a_kalman_filter(x64):
    rng = np.random.default_rng(1)
    o = rng.normal(0, 2, 120)
    vkf = VolatileKalmanFilter().run(VKFParams(0.0, 0.6, 1.7), o)
    kf = KalmanFilter().run(KalmanParams(0.6, 1.7, 1.7, 0.0), o)
    for name in ("prediction", "value", "learning_rate", "uncertainty", "log_evidence"):
        np.testing.assert_allclose(getattr(vkf, name), getattr(kf, name), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(vkf.filtered_volatility, 0.6)


def test_vkf_volatility_positive_and_tracks_a_change():
    rng = np.random.default_rng(2)
    latent = np.r_[np.zeros(60), 5.0 * np.ones(60)]
    o = latent + rng.normal(0, 0.5, 120)
    traj = VolatileKalmanFilter().run(VKFParams(0.3, 0.05, 0.25), o)
    v = np.asarray(traj.filtered_volatility)
    assert np.all(v > 0)
    assert v[60:75].mean() > v[45:60].mean()


def test_kalman_steady_state(x64):
    expected = {(0.5, 1.0): 0.5, (1.5, 1.0): 0.6861406616345072, (0.5, 3.0): 1 / 3, (1.5, 3.0): 0.5}
    for (v, s), k in expected.items():
        assert abs(float(steady_state_gain(v, s)) - k) < 1e-12
        # fixed point of w' = s (w + v) / (w + v + s)
        w = float(steady_state_variance(v, s))
        assert abs(w - s * (w + v) / (w + v + s)) < 1e-12
        traj = KalmanFilter().run(KalmanParams(v, s, 100.0), np.zeros(200))
        assert abs(float(traj.learning_rate[-1]) - k) < 1e-12


def test_kalman_matches_reference_and_joint_gaussian_likelihood(x64):
    rng = np.random.default_rng(3)
    v, s, w0, m0 = 0.4, 1.1, 2.0, 0.3
    o = rng.normal(0, 1.5, 25)
    traj = KalmanFilter().run(KalmanParams(v, s, w0, m0), o)
    ref = reference.kalman_filter(o, v, s, w0, m0)
    for name in ("prediction", "value", "learning_rate", "uncertainty", "log_evidence"):
        np.testing.assert_allclose(getattr(traj, name), ref[name], rtol=1e-12, atol=1e-12)
    # Independent check: the outcomes are jointly Gaussian with Cov = w0 + v min(i, j) + s I.
    t = np.arange(1, 26)
    cov = w0 + v * np.minimum.outer(t, t) + s * np.eye(25)
    joint = multivariate_normal(np.full(25, m0), cov).logpdf(o)
    assert abs(float(np.sum(traj.log_evidence)) - joint) < 1e-9


def test_gain_rises_with_volatility_and_falls_with_stochasticity():
    ks = {(v, s): float(steady_state_gain(v, s)) for v in (0.5, 1.5) for s in (1.0, 3.0)}
    assert ks[(1.5, 1.0)] > ks[(0.5, 1.0)] and ks[(1.5, 3.0)] > ks[(0.5, 3.0)]
    assert ks[(0.5, 3.0)] < ks[(0.5, 1.0)] and ks[(1.5, 3.0)] < ks[(1.5, 1.0)]


def test_rescorla_wagner_closed_form(x64):
    traj = RescorlaWagner().run(RescorlaWagnerParams(0.3), np.ones(10))
    np.testing.assert_allclose(traj.value, 1 - 0.7 ** np.arange(1, 11), rtol=0, atol=1e-14)
    assert np.all(np.isnan(traj.predicted_volatility))


def test_binary_vkf(x64):
    rng = np.random.default_rng(4)
    o = (rng.random(150) < np.r_[0.8 * np.ones(75), 0.2 * np.ones(75)]).astype(float)
    traj = BinaryVolatileKalmanFilter().run(VKFParams(0.1, 0.5, 0.3), o)
    ref = reference.binary_volatile_kalman_filter(o, 0.1, 0.5, 0.3)
    for name in ("prediction_logit", "value_logit", "learning_rate", "uncertainty", "predicted_volatility", "filtered_volatility"):
        np.testing.assert_allclose(getattr(traj, name), ref[name], rtol=1e-12, atol=1e-12)
    # reported learning rate = sqrt(w + v) exactly, prediction = sigmoid(m)
    w_prev = np.r_[0.3, np.asarray(traj.uncertainty)[:-1]]
    np.testing.assert_allclose(traj.learning_rate, np.sqrt(w_prev + np.asarray(traj.predicted_volatility)), rtol=1e-14)
    np.testing.assert_allclose(traj.prediction, 1 / (1 + np.exp(-np.asarray(traj.prediction_logit))), rtol=1e-14)
    assert np.all(np.asarray(traj.filtered_volatility) > 0)


@pytest.mark.parametrize("model, params", [
    (VolatileKalmanFilter(), VKFParams(0.2, 0.5, 1.0)),
    (BinaryVolatileKalmanFilter(), VKFParams(0.2, 0.5, 1.0)),
    (KalmanFilter(), KalmanParams(0.5, 1.0)),
])
def test_unobserved_trials_have_zero_gain(model, params, x64):
    o = np.array([1.0, np.nan, 0.0])
    traj = model.run(params, o)
    assert float(traj.learning_rate[1]) == 0.0
    assert float(traj.value[1]) == float(traj.value[0])
    assert float(traj.log_evidence[1]) == 0.0
    np.testing.assert_allclose(traj.filtered_volatility[1], traj.predicted_volatility[1], rtol=1e-15)
    prior = float(traj.uncertainty[0]) + float(traj.predicted_volatility[1])
    np.testing.assert_allclose(traj.uncertainty[1], prior, rtol=1e-14)


def test_multiple_cues_are_independent(x64):
    rng = np.random.default_rng(5)
    o = rng.normal(0, 1, (40, 3))
    params = VKFParams(np.array([0.1, 0.2, 0.3]), 0.5, np.array([1.0, 2.0, 0.5]))
    joint = VolatileKalmanFilter().run(params, o)
    for d in range(3):
        single = VolatileKalmanFilter().run(VKFParams(params.volatility_rate[d], 0.5, params.noise_variance[d]), o[:, d])
        np.testing.assert_allclose(joint.value[:, d], single.value, rtol=1e-14)

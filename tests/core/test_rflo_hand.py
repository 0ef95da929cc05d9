"""RFLO on a 2-unit network, against a plain-Python computation of Murray's Eqs. 1 and 5–6."""

import math

import jax
import jax.numpy as jnp
import numpy as np

import plastix as px
from plastix.rules.base import FeedbackState, Stretch


def test_two_unit_traces_and_update_by_hand(x64):
    tau = 2.0
    alpha = 1 / tau
    W = [[0.5, -0.3], [0.2, 0.1]]
    W_in = [[1.0], [-0.5]]
    W_out = [[0.7, -0.4]]
    B = [[0.3], [-0.6]]
    xs = [0.5, -1.0, 0.25]
    ys = [0.2, -0.1, 0.4]
    h = [0.1, 0.1]
    p = [[0.0, 0.0], [0.0, 0.0]]
    q = [[0.0], [0.0]]
    gW = [[0.0, 0.0], [0.0, 0.0]]
    gWin = [[0.0], [0.0]]
    gWout = [[0.0, 0.0]]
    T = len(xs)
    for t in range(T):
        u = [W[a][0] * h[0] + W[a][1] * h[1] + W_in[a][0] * xs[t] for a in range(2)]
        dphi = [1 - math.tanh(v) ** 2 for v in u]
        h_new = [h[a] + alpha * (-h[a] + math.tanh(u[a])) for a in range(2)]
        for a in range(2):
            for b in range(2):
                p[a][b] = (1 - alpha) * p[a][b] + alpha * dphi[a] * h[b]
            q[a][0] = (1 - alpha) * q[a][0] + alpha * dphi[a] * xs[t]
        h = h_new
        y = W_out[0][0] * h[0] + W_out[0][1] * h[1]
        err = ys[t] - y
        for a in range(2):
            signal = B[a][0] * err
            for b in range(2):
                gW[a][b] -= signal * p[a][b] / T
            gWin[a][0] -= signal * q[a][0] / T
            gWout[0][a] -= err * h[a] / T

    model = px.models.RateRNN(n_in=1, n_rec=2, n_out=1, tau=tau, h0=0.1)
    params = {"w_rec": jnp.array(W), "w_in": jnp.array(W_in), "w_out": jnp.array(W_out)}
    trial = px.tasks.Trial(jnp.array(xs)[:, None, None], jnp.array(ys)[:, None, None], jnp.ones((T, 1, 1)))
    rule = px.rules.get("rflo", model)
    grads, _ = rule.trial_grads(params, trial, jax.random.key(0), FeedbackState(jnp.array(B)))
    np.testing.assert_allclose(grads["w_rec"], gW, rtol=1e-12)
    np.testing.assert_allclose(grads["w_in"], gWin, rtol=1e-12)
    np.testing.assert_allclose(grads["w_out"], gWout, rtol=1e-12)

    # the traces after the trial, read from the carry
    carry = rule.init_carry(params, 1, jax.random.key(1))
    carry, _, _ = rule.segment(params, FeedbackState(jnp.array(B)), carry, Stretch(trial.inputs, trial.targets, trial.mask), T)
    np.testing.assert_allclose(carry.traces["w_rec"][0], p, rtol=1e-12)
    np.testing.assert_allclose(carry.traces["w_in"][0], q, rtol=1e-12)
    np.testing.assert_allclose(carry.h[0], h, rtol=1e-12)


def test_first_step_trace_value():
    # One step from zero traces: p_ab = α φ'(u_a) h_b(0), with h(0) = 0.1.
    model = px.models.RateRNN(n_in=1, n_rec=2, n_out=1, tau=4.0, h0=0.1)
    params = {"w_rec": jnp.zeros((2, 2)), "w_in": jnp.zeros((2, 1)), "w_out": jnp.ones((1, 2))}
    rule = px.rules.get("rflo", model)
    trial = px.tasks.Trial(jnp.zeros((1, 1, 1)), jnp.zeros((1, 1, 1)), jnp.ones((1, 1, 1)))
    carry, _, _ = rule.segment(params, FeedbackState(jnp.ones((2, 1))), rule.init_carry(params, 1, jax.random.key(1)),
                               Stretch(trial.inputs, trial.targets, trial.mask), 1)
    np.testing.assert_allclose(carry.traces["w_rec"][0], np.full((2, 2), 0.25 * 0.1), rtol=1e-6)

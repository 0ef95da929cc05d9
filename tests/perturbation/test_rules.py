"""WP, NP, WP0, HP against hand computations (NumPy, float64) for fixed noise draws."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plastix as px
from plastix.errors import ConfigError
from plastix.models import LinearReadout
from plastix.rules.base import NoState, Stretch, loss_value
from plastix.rules.perturbation import (
    HybridPerturbation, NodePerturbation, WeightPerturbation, loss_difference,
)

T, B = 5, 2


def readout_problem(zero_column=None):
    model = LinearReadout(n_in=4, n_out=2, bias=True)
    k1, k2, k3, k4 = jax.random.split(jax.random.key(11), 4)
    params = {"w_out": jax.random.normal(k1, (2, 4)), "b_out": jnp.array([0.2, -0.3])}
    x = np.array(jax.random.normal(k2, (T, B, 4)))
    if zero_column is not None:
        x[:, :, zero_column] = 0.0
    targets = jax.random.normal(k3, (T, B, 2))
    mask = (jax.random.uniform(k4, (T, B, 2)) > 0.3) * 1.0
    return model, params, jnp.asarray(x), targets, mask


def np_loss(y, targets, mask):
    return 0.5 * np.sum((np.asarray(mask) * (np.asarray(targets) - y)) ** 2) / (T * B)


def readout_outputs(w, b, x):
    return np.einsum("tbn,mn->tbm", np.asarray(x), np.asarray(w)) + np.asarray(b)


def run_estimate(rule, params, x, targets, mask, z, base=None, h=None):
    if h is None:
        h = rule.model.initial_state(params, x.shape[1])
    return rule.estimate(params, h, x, targets, mask, None, z, x.shape[0], base)


@pytest.mark.parametrize("match", ["node", "none"])
def test_wp_readout_matches_hand_computation(x64, match):
    model, params, x, targets, mask = readout_problem()
    sigma = 0.05
    rule = WeightPerturbation(model, sigma=sigma, match=match)
    z = rule.draw(jax.random.key(3), params, T, B)
    _, grads, metrics = run_estimate(rule, params, x, targets, mask, z)

    xn = np.asarray(x)
    trace_s = np.mean(np.sum(xn**2, axis=-1) + 1.0)  # inputs plus the bias's constant 1
    sigma_w = sigma / np.sqrt(trace_s) if match == "node" else sigma
    xi_w, xi_b = sigma_w * np.asarray(z["w_out"]), sigma_w * np.asarray(z["b_out"])
    w, b = np.asarray(params["w_out"]), np.asarray(params["b_out"])
    l0 = np_loss(readout_outputs(w, b, xn), targets, mask)
    lp = np_loss(readout_outputs(w + xi_w, b + xi_b, xn), targets, mask)
    np.testing.assert_allclose(grads["w_out"], (lp - l0) * xi_w / sigma_w**2, rtol=1e-9)
    np.testing.assert_allclose(grads["b_out"], (lp - l0) * xi_b / sigma_w**2, rtol=1e-9)
    np.testing.assert_allclose(metrics["loss"], l0, rtol=1e-12)
    np.testing.assert_allclose(metrics["loss_perturbed"], lp, rtol=1e-12)


def test_np_readout_matches_hand_computation(x64):
    model, params, x, targets, mask = readout_problem()
    sigma = 0.05
    rule = NodePerturbation(model, sigma=sigma)
    z = rule.draw(jax.random.key(4), params, T, B)
    assert set(z) == {"out"} and z["out"].shape == (T, B, 2)
    _, grads, _ = run_estimate(rule, params, x, targets, mask, z)

    xn, xi = np.asarray(x), sigma * np.asarray(z["out"])
    y0 = readout_outputs(params["w_out"], params["b_out"], xn)
    delta = np_loss(y0 + xi, targets, mask) - np_loss(y0, targets, mask)
    np.testing.assert_allclose(grads["w_out"], delta * np.einsum("tbi,tbj->ij", xi, xn) / sigma**2, rtol=1e-9)
    np.testing.assert_allclose(grads["b_out"], delta * xi.sum((0, 1)) / sigma**2, rtol=1e-9)


def test_wp0_skips_weights_whose_input_is_zero(x64):
    model, params, x, targets, mask = readout_problem(zero_column=2)
    wp = WeightPerturbation(model, sigma=0.05)
    wp0 = WeightPerturbation(model, sigma=0.05, mask_zero_input=True)
    z = wp.draw(jax.random.key(5), params, T, B)
    _, g_wp, _ = run_estimate(wp, params, x, targets, mask, z)
    _, g_wp0, _ = run_estimate(wp0, params, x, targets, mask, z)
    assert np.all(np.asarray(g_wp["w_out"][:, 2]) != 0)  # WP moves the zero-input weights …
    np.testing.assert_array_equal(g_wp0["w_out"][:, 2], 0.0)  # … WP0 does not
    keep = [0, 1, 3]
    np.testing.assert_allclose(g_wp0["w_out"][:, keep], g_wp["w_out"][:, keep], rtol=1e-12)
    np.testing.assert_allclose(g_wp0["b_out"], g_wp["b_out"], rtol=1e-12)


def test_hp_uses_the_induced_node_perturbation(x64):
    model, params, x, targets, mask = readout_problem()
    sigma = 0.05
    rule = HybridPerturbation(model, sigma=sigma)
    z = rule.draw(jax.random.key(6), params, T, B)
    _, grads, _ = run_estimate(rule, params, x, targets, mask, z)

    xn = np.asarray(x)
    sigma_w = sigma / np.sqrt(np.mean(np.sum(xn**2, axis=-1) + 1.0))
    xi_w, xi_b = sigma_w * np.asarray(z["w_out"]), sigma_w * np.asarray(z["b_out"])
    w, b = np.asarray(params["w_out"]), np.asarray(params["b_out"])
    induced = np.einsum("tbn,mn->tbm", xn, xi_w) + xi_b  # ζ(t) = ξ^W x(t) + ξ^b
    l0 = np_loss(readout_outputs(w, b, xn), targets, mask)
    delta = np_loss(readout_outputs(w + xi_w, b + xi_b, xn), targets, mask) - l0
    np.testing.assert_allclose(grads["w_out"], delta * np.einsum("tbi,tbj->ij", induced, xn) / sigma_w**2, rtol=1e-9)
    np.testing.assert_allclose(grads["b_out"], delta * induced.sum((0, 1)) / sigma_w**2, rtol=1e-9)


# -- rate RNN: independent NumPy reference ----------------------------------------------------
def rnn_problem():
    model = px.models.RateRNN(n_in=2, n_rec=4, n_out=2, tau=3.0, bias=True)
    params = jax.tree_util.tree_map(lambda a: a.astype(jnp.float64), model.init(jax.random.key(0)))
    params["b_rec"] = jnp.array([0.1, -0.2, 0.05, 0.0])
    params["b_out"] = jnp.array([0.3, -0.1])
    k1, k2 = jax.random.split(jax.random.key(8))
    x = jax.random.normal(k1, (T, B, 2))
    targets = jax.random.normal(k2, (T, B, 2))
    return model, params, x, targets, jnp.ones((T, B, 2))


def numpy_rnn(p, x, xi_rec=None, xi_out=None, h0=0.1, alpha=1 / 3.0):
    """h(t) = h + α(tanh(W h + W_in x + b + ξ_rec) − h); y = W_out h + b_out + ξ_out."""
    p = {k: np.asarray(v) for k, v in p.items()}
    x = np.asarray(x)
    h = np.full((x.shape[1], p["w_rec"].shape[0]), h0)
    hs_prev, hs, ys = [], [], []
    for t in range(x.shape[0]):
        u = h @ p["w_rec"].T + x[t] @ p["w_in"].T + p["b_rec"]
        if xi_rec is not None:
            u = u + xi_rec[t]
        hs_prev.append(h)
        h = h + alpha * (np.tanh(u) - h)
        y = h @ p["w_out"].T + p["b_out"]
        if xi_out is not None:
            y = y + xi_out[t]
        hs.append(h)
        ys.append(y)
    return np.array(hs_prev), np.array(hs), np.array(ys)


def test_np_rate_rnn_matches_numpy_reference(x64):
    model, params, x, targets, mask = rnn_problem()
    sigma = 0.03
    rule = NodePerturbation(model, sigma=sigma)
    z = rule.draw(jax.random.key(9), params, T, B)
    assert z["rec"].shape == (T, B, 4) and z["out"].shape == (T, B, 2)
    h_next, grads, metrics = run_estimate(rule, params, x, targets, mask, z)

    xi_rec, xi_out = sigma * np.asarray(z["rec"]), sigma * np.asarray(z["out"])
    _, hs0, y0 = numpy_rnn(params, x)
    hp_prev, hp, yp = numpy_rnn(params, x, xi_rec, xi_out)
    delta = np_loss(yp, targets, mask) - np_loss(y0, targets, mask)
    xn = np.asarray(x)
    expected = {
        "w_rec": np.einsum("tbi,tbj->ij", xi_rec, hp_prev),  # presynaptic h(t−1) of the perturbed run
        "w_in": np.einsum("tbi,tbj->ij", xi_rec, xn),
        "b_rec": xi_rec.sum((0, 1)),
        "w_out": np.einsum("tbi,tbj->ij", xi_out, hp),
        "b_out": xi_out.sum((0, 1)),
    }
    for k, e in expected.items():
        np.testing.assert_allclose(grads[k], delta * e / sigma**2, rtol=1e-8, err_msg=k)
    np.testing.assert_allclose(metrics["loss"], np_loss(y0, targets, mask), rtol=1e-12)
    np.testing.assert_allclose(h_next, hs0[-1], rtol=1e-12)  # the state follows the unperturbed run


def test_wp_rate_rnn_matches_numpy_reference(x64):
    model, params, x, targets, mask = rnn_problem()
    sigma = 0.03
    rule = WeightPerturbation(model, sigma=sigma)
    z = rule.draw(jax.random.key(10), params, T, B)
    _, grads, _ = run_estimate(rule, params, x, targets, mask, z)

    hs_prev, hs, y0 = numpy_rnn(params, x)
    xn = np.asarray(x)
    power_rec = np.mean(np.sum(hs_prev**2, -1) + np.sum(xn**2, -1) + 1.0)
    power_out = np.mean(np.sum(hs**2, -1) + 1.0)
    sig = {"w_rec": sigma / np.sqrt(power_rec), "w_in": sigma / np.sqrt(power_rec), "b_rec": sigma / np.sqrt(power_rec),
           "w_out": sigma / np.sqrt(power_out), "b_out": sigma / np.sqrt(power_out)}
    xi = {k: sig[k] * np.asarray(z[k]) for k in sig}
    perturbed = {k: np.asarray(params[k]) + xi[k] for k in sig}
    _, _, yp = numpy_rnn(perturbed, x)
    delta = np_loss(yp, targets, mask) - np_loss(y0, targets, mask)
    for k in sig:
        np.testing.assert_allclose(grads[k], delta * xi[k] / sig[k] ** 2, rtol=1e-8, err_msg=k)


def test_only_trained_layers_are_perturbed(x64):
    model, params, x, targets, mask = rnn_problem()
    rule = NodePerturbation(model, sigma=0.03, trainable=("w_out",))
    z = rule.draw(jax.random.key(1), params, T, B)
    assert set(z) == {"out"}
    grads, _ = rule.trial_grads(params, px.tasks.Trial(x, targets, mask), jax.random.key(2))
    assert float(jnp.abs(grads["w_out"]).sum()) > 0
    for k in ("w_rec", "w_in", "b_rec", "b_out"):
        np.testing.assert_array_equal(grads[k], 0.0)


def test_running_mean_baseline(x64):
    model, params, x, targets, mask = readout_problem()
    rule = NodePerturbation(model, sigma=0.05, baseline="running_mean", baseline_rate=0.25)
    z = rule.draw(jax.random.key(4), params, T, B)
    _, grads, metrics = run_estimate(rule, params, x, targets, mask, z, base=jnp.asarray(0.7))
    xi = 0.05 * np.asarray(z["out"])
    yp = readout_outputs(params["w_out"], params["b_out"], x) + xi
    lp = np_loss(yp, targets, mask)
    np.testing.assert_allclose(grads["w_out"], (lp - 0.7) * np.einsum("tbi,tbj->ij", xi, np.asarray(x)) / 0.05**2, rtol=1e-9)
    # No baseline yet (NaN): no update; then L̄ is set to the first L_pert and moves by κ.
    _, grads0, _ = run_estimate(rule, params, x, targets, mask, z, base=jnp.asarray(jnp.nan))
    np.testing.assert_array_equal(grads0["w_out"], 0.0)
    state = rule.init(params, jax.random.key(0))
    state = rule.update_state(state, {"loss_perturbed": jnp.asarray(2.0)})
    np.testing.assert_allclose(state.baseline, 2.0)
    state = rule.update_state(state, {"loss_perturbed": jnp.asarray(1.0)})
    np.testing.assert_allclose(state.baseline, 2.0 + 0.25 * (1.0 - 2.0))


@pytest.mark.parametrize("loss", ["mse", "xent"])
def test_loss_difference_is_the_difference_of_losses(x64, loss):
    k1, k2, k3 = jax.random.split(jax.random.key(2), 3)
    y0 = jax.random.normal(k1, (T, B, 3))
    yp = y0 + 1e-3 * jax.random.normal(k2, (T, B, 3))
    targets = jax.nn.one_hot(jax.random.randint(k3, (T, B), 0, 3), 3)
    mask = jnp.ones_like(targets).at[0].set(0.0)
    direct = loss_value(yp, targets, mask, T, loss) - loss_value(y0, targets, mask, T, loss)
    np.testing.assert_allclose(loss_difference(yp, y0, targets, mask, T, loss), direct, rtol=1e-9)


def test_segments_advance_the_key_and_follow_the_unperturbed_state(x64):
    model, params, x, targets, mask = rnn_problem()
    rule = NodePerturbation(model, sigma=0.03)
    carry = rule.init_carry(params, B, jax.random.key(5))
    carry1, g1, _ = rule.segment(params, NoState(), carry, Stretch(x, targets, mask), 2 * T)
    carry2, g2, _ = rule.segment(params, NoState(), carry1, Stretch(x, targets, mask), 2 * T)
    assert not np.allclose(g1["w_rec"], g2["w_rec"])  # fresh perturbations per stretch
    _, hs, _ = numpy_rnn(params, x)
    np.testing.assert_allclose(carry1.h, hs[-1], rtol=1e-12)
    # the carry's key is the one given (never derived from the parameters), advanced per stretch
    again = rule.init_carry({**params, "w_out": params["w_out"] + 1e-3}, B, jax.random.key(5))
    assert np.array_equal(jax.random.key_data(again.key), jax.random.key_data(carry.key))
    assert not np.array_equal(jax.random.key_data(carry1.key), jax.random.key_data(carry.key))


def test_registry_and_validation():
    model = px.models.RateRNN(n_in=1, n_rec=3, n_out=1)
    assert isinstance(px.rules.get("np", model), NodePerturbation)
    assert isinstance(px.rules.get("wp", model), WeightPerturbation)
    assert px.rules.get("wp0", model).mask_zero_input
    assert isinstance(px.rules.get("hp", model), HybridPerturbation)
    for bad in ({"sigma": 0.0}, {"sigma": -1}, {"baseline": "mean"}, {"reward": "all"}, {"match": "x"},
                {"baseline_rate": 0.0}):
        with pytest.raises(ConfigError):
            px.rules.get("np", model, **bad)

    class Opaque:  # a model plastix knows nothing about, apart from `run`
        def init(self, key):
            return {"w": jnp.zeros(2)}

    with pytest.raises(ConfigError, match="model"):
        NodePerturbation(Opaque())
    with pytest.raises(ConfigError, match="model"):
        WeightPerturbation(Opaque())  # match='node' needs the layers …
    WeightPerturbation(Opaque(), match="none")  # … plain WP does not

"""Contrastive learning: the local update is the gradient of the contrast (finite differences),
the landscape bounds, the limits (EqProp, CHL) and EqProp's convergence to recurrent backprop."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from plastix.energy import (ContrastiveRule, FixedPointNet, RecurrentBackprop, baldi_pineda, chl, dbm, eqprop,
                            lyapunov_step_bound)
from plastix.errors import ConfigError


def flat(tree):
    return jnp.concatenate([jnp.ravel(a) for a in jax.tree_util.tree_leaves(tree)])


def relerr(a, b):
    return float(jnp.linalg.norm(flat(a) - flat(b)) / jnp.linalg.norm(flat(b)))


def toy(activation="logistic", gain=1.0, connectivity="layered", temperature=1.0):
    net = FixedPointNet((4, 6, 3), connectivity=connectivity, activation=activation, temperature=temperature,
                        tol=1e-13, max_iter=20000)
    p = net.init(jax.random.key(0), gain=gain, bias=0.1)
    x = jax.random.uniform(jax.random.key(1), (5, 4))
    if activation == "tanh":
        x = 2 * x - 1
    t = jax.random.uniform(jax.random.key(2), (5, 3), minval=0.1, maxval=0.9)
    if activation == "tanh":
        t = 2 * t - 1
    return net, p, x, t


def fd_grad_of_contrast(rule, p, x, t, entries, h=1e-5, clamp_values=None):
    """Central differences of mean C over a few (leaf, index) entries; symmetric pairs for "full"."""
    def C(params):
        if clamp_values is None:
            c, _, _ = rule.contrast(params, x, t)
        else:  # interpolated scheme: clamp values held fixed
            free = rule.free_phase(params, x)
            V0 = free.V.at[..., rule.net.out_slice].set(clamp_values)
            teach = rule.net.relax(params, V0, rule.net.input_mask() | rule.net.output_mask())
            c = rule.net.energy(params, teach.V) - rule.net.energy(params, free.V)
        return float(jnp.mean(c))

    leaves, treedef = jax.tree_util.tree_flatten(p)
    out = []
    for leaf_i, idx in entries:
        def shifted(s):
            ls = list(leaves)
            ls[leaf_i] = ls[leaf_i].at[idx].add(s)
            if rule.net.connectivity == "full" and ls[leaf_i].ndim == 2:
                ls[leaf_i] = ls[leaf_i].at[idx[::-1]].add(s)
            return jax.tree_util.tree_unflatten(treedef, ls)
        out.append((C(shifted(h)) - C(shifted(-h))) / (2 * h))
    return np.array(out)


def pick(grads, entries, full=False):
    leaves = jax.tree_util.tree_leaves(grads)
    vals = []
    for leaf_i, idx in entries:
        v = leaves[leaf_i][idx]
        if full and leaves[leaf_i].ndim == 2:
            v = v + leaves[leaf_i][idx[::-1]]
        vals.append(float(v))
    return np.array(vals)


ENTRIES_LAYERED = [(0, (0, 1)), (0, (2, 4)), (1, (5, 2)), (1, (1, 0)), (2, (3,)), (3, (1,))]


@pytest.mark.parametrize("scheme,gamma", [("hard_clamp", 1.0), ("soft_clamp", 0.7), ("input_current", 0.5)])
def test_contrastive_update_is_the_gradient_of_the_contrast(x64, scheme, gamma):
    net, p, x, t = toy(gain=2.0)
    rule = baldi_pineda(net, scheme, gamma)
    g, _ = rule.grads(p, x, t)
    np.testing.assert_allclose(pick(g, ENTRIES_LAYERED), fd_grad_of_contrast(rule, p, x, t, ENTRIES_LAYERED),
                               rtol=1e-5, atol=1e-9)


def test_interpolated_update_is_the_gradient_with_clamp_values_held(x64):
    net, p, x, t = toy(gain=2.0)
    rule = baldi_pineda(net, "interpolated", 0.3)
    g, _ = rule.grads(p, x, t)
    Vo = rule.free_phase(p, x).V[:, net.out_slice]
    clamp_values = Vo + 0.3 * (t - Vo)
    fd = fd_grad_of_contrast(rule, p, x, t, ENTRIES_LAYERED, clamp_values=clamp_values)
    np.testing.assert_allclose(pick(g, ENTRIES_LAYERED), fd, rtol=1e-5, atol=1e-9)


def test_full_connectivity_and_chl(x64):
    net, p, x, t = toy(gain=1.0, connectivity="full")
    rule = chl(net)
    g, _ = rule.grads(p, x, t)
    entries = [(0, (0, 5)), (0, (4, 8)), (0, (6, 11)), (0, (10, 12)), (1, (7,))]
    np.testing.assert_allclose(pick(g, entries, full=True), fd_grad_of_contrast(rule, p, x, t, entries),
                               rtol=1e-5, atol=1e-9)
    assert float(jnp.max(jnp.abs(g["W"] - g["W"].T))) == 0.0  # the update keeps W symmetric


def test_deterministic_boltzmann_machine(x64):
    net, p, x, t = toy(activation="tanh", gain=1.0, temperature=1.0)
    rule = dbm(net, temperatures=(4.0, 2.0, 1.0), anneal_iter=20)
    g, _ = rule.grads(p, x, t)
    # mean-field fixed point V = tanh((W V + b)/T) on the free units
    free = rule.free_phase(p, x)
    W, b = net.dense_weights(p), net.dense_bias(p)
    resid = jnp.abs(jnp.tanh((free.V @ W + b) / 1.0) - free.V)[:, net.n_in:]
    assert float(resid.max()) < 1e-8
    # the DBM update is the gradient of G = F+(V+) - F-(V-), F the mean-field free energy
    np.testing.assert_allclose(pick(g, ENTRIES_LAYERED), fd_grad_of_contrast(rule, p, x, t, ENTRIES_LAYERED),
                               rtol=1e-5, atol=1e-9)


def test_contrast_bounds_for_soft_clamp_at_global_minima(x64):
    # Small weights: E strictly convex (lambda_max(W) < mu = 4T), so both phases reach global minima.
    net, p, x, t = toy(gain=0.5)
    costs = []
    for gamma in (1e-3, 1e-2, 1e-1, 1.0, 10.0):
        rule = baldi_pineda(net, "soft_clamp", gamma)
        C, free, _ = rule.contrast(p, x, t)
        cost = net.cost(free.V, t)
        assert float(C.min()) >= 0
        assert bool(jnp.all(C <= gamma * cost + 1e-12))
        costs.append(float(jnp.max(jnp.abs(C / gamma - cost) / cost)))
    assert costs[0] < 1e-2 and costs == sorted(costs)  # C/gamma -> Cost as gamma -> 0


def test_soft_clamp_limits_eqprop_and_chl(x64):
    net, p, x, t = toy(gain=1.0)
    small = baldi_pineda(net, "soft_clamp", 1e-3)
    g_small, _ = small.grads(p, x, t)
    g_eq, _ = eqprop(net, beta=1e-3, sign="+").grads(p, x, t)
    assert relerr(jax.tree_util.tree_map(lambda a: a / 1e-3, g_small), g_eq) < 1e-12
    g_chl, _ = chl(net).grads(p, x, t)
    errs = []
    for gm in (3.0, 30.0, 300.0):
        # a strong nudge needs a small step (Lyapunov bound eps <= mu / (lambda + gamma))
        eps = min(0.5, lyapunov_step_bound(net, p, gm))
        errs.append(relerr(baldi_pineda(net, "soft_clamp", gm, eps=eps).grads(p, x, t)[0], g_chl))
    assert errs[-1] < 2e-2 and errs == sorted(errs, reverse=True)


def test_eqprop_approaches_recurrent_backprop_with_the_predicted_orders(x64):
    net, p, x, t = toy(gain=1.0)
    g_true, _ = RecurrentBackprop(net, adjoint_iter=20000, tol=1e-13).grads(p, x, t)
    betas = np.array([0.05, 0.02, 0.01, 0.005])
    one = np.array([relerr(eqprop(net, beta=b, sign="+").grads(p, x, t)[0], g_true) for b in betas])
    cen = np.array([relerr(eqprop(net, beta=b, sign="centered").grads(p, x, t)[0], g_true) for b in betas])
    assert np.all(one < 5 * betas) and np.all(cen < 5 * betas**2)
    slope_one = np.polyfit(np.log(betas), np.log(one), 1)[0]
    slope_cen = np.polyfit(np.log(betas), np.log(cen), 1)[0]
    assert 0.9 < slope_one < 1.1 and 1.9 < slope_cen < 2.1
    neg = relerr(eqprop(net, beta=0.01, sign="-").grads(p, x, t)[0], g_true)
    assert neg < 5 * 0.01


def test_nudging_lowers_the_cost_proposition_2(x64):
    # Smooth units (with the hard sigmoid a saturated output does not move: cost equal, not lower).
    net, p, x, t = toy(activation="logistic", gain=2.0)
    rule = eqprop(net, beta=0.01, sign="+")
    free = rule.free_phase(p, x)
    for beta in (0.001, 0.01, 0.1, 1.0):
        nudged = rule.teacher_phase(p, free.V, t, beta)
        assert bool(jnp.all(net.cost(nudged.V, t) < net.cost(free.V, t)))


def test_random_sign_uses_the_key_and_config_errors():
    net = FixedPointNet((2, 3, 1))
    p, x, t = net.init(jax.random.key(0), bias=0.5), jnp.ones((2, 2)), jnp.ones((2, 1))
    rule = eqprop(net, beta=0.5, sign="random")
    g_plus = flat(eqprop(net, beta=0.5, sign="+").grads(p, x, t)[0])
    g_minus = flat(eqprop(net, beta=0.5, sign="-").grads(p, x, t)[0])
    assert float(jnp.max(jnp.abs(g_plus - g_minus))) > 1e-4  # the two one-sided estimates differ
    seen = set()
    for k in range(8):
        g = flat(rule.grads(p, x, t, jax.random.key(k))[0])
        seen.add("+" if bool(jnp.all(g == g_plus)) else "-" if bool(jnp.all(g == g_minus)) else "?")
    assert seen == {"+", "-"}
    with pytest.raises(ConfigError, match="key"):
        rule.grads(p, x, t)
    with pytest.raises(ConfigError, match="scheme"):
        baldi_pineda(net, "magnetic")
    with pytest.raises(ConfigError, match="sign"):
        ContrastiveRule(net, sign="random")  # not normalised
    with pytest.raises(ConfigError, match="gamma"):
        baldi_pineda(net, "interpolated", 2.0)
    with pytest.raises(ConfigError, match="activation"):
        dbm(net)

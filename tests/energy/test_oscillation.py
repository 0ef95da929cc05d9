"""Analog (oscillatory) phase schedule and the time-dependent trajectory extension."""

import jax
import jax.numpy as jnp

from plastix.energy import FixedPointNet, baldi_pineda, oscillatory_learning, trajectory_grads
from plastix.energy.trajectory import phase_doubling, run_trajectories, time_averaged_contrast


def flat(tree):
    return jnp.concatenate([jnp.ravel(a) for a in jax.tree_util.tree_leaves(tree)])


def test_one_oscillation_period_approaches_one_alternating_update(x64):
    net = FixedPointNet((2, 4, 1), activation="logistic", tol=1e-12, max_iter=5000)
    p = net.init(jax.random.key(0), gain=1.5)
    x = jnp.array([[0.0, 1.0], [1.0, 1.0]])
    t = jnp.array([[0.9], [0.1]])
    rule = baldi_pineda(net, "soft_clamp", 1.0)
    g, _ = rule.grads(p, x, t)
    eta = 1e-6  # slow learning: the weights barely move within a period
    errs = []
    for period in (40, 400):
        p_new, _, _ = oscillatory_learning(net, p, x, t, period=period, n_periods=1, eta=eta, gamma=1.0)
        delta = (flat(p_new) - flat(p)) / -eta
        errs.append(float(jnp.linalg.norm(delta - flat(g)) / jnp.linalg.norm(flat(g))))
    # the mismatch is the averaged-in transient: it shrinks like tau_relax / period (measured: 0.75, 0.075)
    assert errs[1] < 0.1 and 8 < errs[0] / errs[1] < 12
    # skipping the first half of each half-cycle removes most of it (measured: 0.05 at period 40)
    p_new, _, _ = oscillatory_learning(net, p, x, t, period=40, n_periods=1, eta=eta, gamma=1.0, settle=0.5)
    delta = (flat(p_new) - flat(p)) / -eta
    assert float(jnp.linalg.norm(delta - flat(g)) / jnp.linalg.norm(flat(g))) < errs[0] / 10


def test_quasi_static_trajectory_rule_is_the_gradient_of_the_time_averaged_contrast(x64):
    net = FixedPointNet((2, 4, 1), activation="logistic", tol=1e-13, max_iter=20000)
    p = net.init(jax.random.key(1), gain=1.5)
    x_seq, y_seq = phase_doubling(n_samples=6, batch=2)
    rule = baldi_pineda(net, "soft_clamp", 0.5)
    g, _ = trajectory_grads(rule, p, x_seq, y_seq)

    def C(params):
        Vf, Vt = run_trajectories(rule, params, x_seq, y_seq)
        return float(time_averaged_contrast(rule, params, Vf, Vt, y_seq))

    for li, idx in [(0, (1, 2)), (1, (3, 0)), (2, (1,))]:
        leaves, treedef = jax.tree_util.tree_flatten(p)
        def shifted(s):
            ls = list(leaves)
            ls[li] = ls[li].at[idx].add(s)
            return jax.tree_util.tree_unflatten(treedef, ls)
        fd = (C(shifted(1e-5)) - C(shifted(-1e-5))) / 2e-5
        an = float(jax.tree_util.tree_leaves(g)[li][idx])
        assert abs(fd - an) <= 1e-6 * max(abs(an), 1e-4), (idx, fd, an)


def test_dynamic_trajectory_rule_tends_to_the_quasi_static_one(x64):
    net = FixedPointNet((2, 4, 1), activation="logistic", tol=1e-12, max_iter=20000)
    p = net.init(jax.random.key(2), gain=1.5)
    x_seq, y_seq = phase_doubling(n_samples=12, batch=1)
    exact, _ = trajectory_grads(baldi_pineda(net, "soft_clamp", 0.5), p, x_seq, y_seq)
    errs = []
    for k in (2, 32):
        rule = baldi_pineda(net, "soft_clamp", 0.5, free_iter=k, teacher_iter=k, tol=0.0)
        g, _ = trajectory_grads(rule, p, x_seq, y_seq)
        errs.append(float(jnp.linalg.norm(flat(g) - flat(exact)) / jnp.linalg.norm(flat(exact))))
    assert errs == sorted(errs, reverse=True) and errs[-1] < 1e-3

"""Almeida-Pineda recurrent backprop: adjoint relaxation against a dense implicit solve and
finite differences of the loss at the fixed point."""

import jax
import numpy as np

from plastix.energy import FixedPointNet, RecurrentBackprop, implicit_gradient
from plastix.energy.rbp import fixed_point_jacobian, loss_at_fixed_point


def _setup(activation, connectivity):
    net = FixedPointNet((3, 5, 2), connectivity=connectivity, activation=activation, tol=1e-13, max_iter=20000)
    p = net.init(jax.random.key(4), gain=1.5, bias=0.2)
    x = jax.random.uniform(jax.random.key(5), (4, 3))
    t = jax.random.uniform(jax.random.key(6), (4, 2), minval=0.1, maxval=0.9)
    return net, p, x, t


def test_rbp_matches_implicit_differentiation_and_finite_differences(x64):
    for activation, connectivity in (("logistic", "layered"), ("hard_sigmoid", "full")):
        net, p, x, t = _setup(activation, connectivity)
        g, m = RecurrentBackprop(net, adjoint_iter=20000, tol=1e-14).grads(p, x, t)
        assert float(m["free_residual"]) < 1e-12 and float(m["adjoint_residual"]) < 1e-13
        V = net.free_phase(p, x).V
        ref = implicit_gradient(net, p, V, net.input_mask(), t)
        for a, b in zip(jax.tree_util.tree_leaves(g), jax.tree_util.tree_leaves(ref)):
            np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-14)
        if activation != "logistic":
            continue
        # central finite differences of J(theta) on a few weights
        leaves, treedef = jax.tree_util.tree_flatten(p)
        entries = [(0, (0, 3)), (0, (2, 6)), (1, (4,))] if connectivity == "full" else [(0, (1, 2)), (1, (3, 1)), (2, (0,))]
        for li, idx in entries:
            def J(s):
                ls = list(leaves)
                ls[li] = ls[li].at[idx].add(s)
                if connectivity == "full" and ls[li].ndim == 2:
                    ls[li] = ls[li].at[idx[::-1]].add(s)
                return float(loss_at_fixed_point(net, jax.tree_util.tree_unflatten(treedef, ls), x, t))
            fd = (J(1e-6) - J(-1e-6)) / 2e-6
            an = float(g_leaf(g, li, idx, connectivity == "full"))
            assert abs(fd - an) <= 1e-6 * max(abs(fd), 1e-3), (activation, idx, fd, an)


def g_leaf(g, li, idx, full):
    leaf = jax.tree_util.tree_leaves(g)[li]
    return leaf[idx] + (leaf[idx[::-1]] if full and leaf.ndim == 2 else 0.0)


def test_forward_linearisation_is_stable_where_the_adjoint_converges(x64):
    net, p, x, t = _setup("logistic", "layered")
    V = net.free_phase(p, x).V
    J = np.asarray(fixed_point_jacobian(net, p, V[0], net.input_mask()))
    # the damped forward iteration V <- V + eps (M(V) - V) is contracting at V*: its Jacobian
    # (1 - eps) I + eps J has spectral radius < 1, and the adjoint iterates the transpose (same spectrum)
    A = (1 - net.eps) * np.eye(len(J)) + net.eps * J
    rho = np.abs(np.linalg.eigvals(A)).max()
    rho_adj = np.abs(np.linalg.eigvals(A.T)).max()
    assert rho < 1 and abs(rho - rho_adj) < 1e-10

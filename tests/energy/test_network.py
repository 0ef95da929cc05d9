"""Fixed-point networks: energy, field, relaxation (Lyapunov descent, convergence, clamping)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from plastix.energy import FixedPointNet, lyapunov_step_bound, relax_trajectory
from plastix.errors import ConfigError


def _net_params(activation, connectivity, gain, seed=0, sizes=(3, 5, 2)):
    net = FixedPointNet(sizes, connectivity=connectivity, activation=activation, tol=1e-12, max_iter=5000)
    return net, net.init(jax.random.key(seed), gain=gain, bias=0.1)


@pytest.mark.parametrize("connectivity", ["layered", "full"])
@pytest.mark.parametrize("activation", ["hard_sigmoid", "logistic", "tanh"])
def test_energy_field_and_hebbian_gradient_match_dense_formulas(x64, activation, connectivity):
    net, p = _net_params(activation, connectivity, gain=1.5)
    V = jax.random.uniform(jax.random.key(1), (4, net.n_units), minval=0.05, maxval=0.95)
    if activation == "tanh":
        V = 2 * V - 1
    W, b = np.asarray(net.dense_weights(p)), np.asarray(net.dense_bias(p))
    assert np.allclose(W, W.T) and np.all(np.diag(W) == 0)
    Vn = np.asarray(V)
    E_int = -0.5 * np.einsum("bi,ij,bj->b", Vn, W, Vn) - Vn @ b
    np.testing.assert_allclose(net.interaction(p, V), E_int, rtol=1e-12)
    np.testing.assert_allclose(net.field(p, V), Vn @ W + b, rtol=1e-12, atol=1e-14)
    # dE/dtheta is the (negative) Hebbian product per shared weight
    g = net.dE_dtheta(p, V)
    hebb = -np.einsum("bi,bj->ij", Vn, Vn) / len(Vn)
    if connectivity == "layered":
        o = net.offsets
        for k, gk in enumerate(g["W"]):
            np.testing.assert_allclose(gk, hebb[o[k]:o[k + 1], o[k + 1]:o[k + 2]], rtol=1e-12)
        np.testing.assert_allclose(g["b"][0], -Vn[:, o[1]:o[2]].mean(0), rtol=1e-12)
    else:
        mask = np.asarray(net.connection_mask())
        np.testing.assert_allclose(g["W"] + g["W"].T, hebb * mask, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("connectivity", ["layered", "full"])
@pytest.mark.parametrize("activation", ["hard_sigmoid", "logistic", "tanh"])
def test_relaxation_never_increases_energy_at_the_lyapunov_step(x64, activation, connectivity):
    # Large weights (multistable) so that the step bound is binding.
    net, p = _net_params(activation, connectivity, gain=3.0, seed=2)
    strength = 0.7
    eps = min(lyapunov_step_bound(net, p, strength), 1.0)
    x = jax.random.uniform(jax.random.key(3), (6, net.n_in))
    x = 2 * x - 1 if activation == "tanh" else x
    V0 = net.initial_state(x)
    V0 = V0.at[:, net.n_in:].set(jax.random.uniform(jax.random.key(4), (6, net.n_units - net.n_in), minval=0.01, maxval=0.99)
                                  * (2 if activation == "tanh" else 1) - (1 if activation == "tanh" else 0))
    target = jnp.full((6, net.n_out), 0.9 if activation != "tanh" else 0.8)
    _, F, res = relax_trajectory(net, p, V0, net.input_mask(), 300, target, strength, "squared", eps=eps)
    increases = np.diff(np.asarray(F), axis=0)
    assert increases.max() <= 1e-10, increases.max()
    assert float(res[-1].max()) < 1e-3  # and it does get somewhere


def test_larger_steps_can_increase_the_energy(x64):
    # The bound is not vacuous: twice the synchronous step (eps = 1) on a strongly coupled net oscillates.
    net = FixedPointNet((0, 4, 0 + 1), connectivity="full", activation="tanh", temperature=0.1)
    W = -3.0 * (jnp.ones((5, 5)) - jnp.eye(5))
    p = {"W": W, "b": jnp.zeros(5)}
    V0 = jnp.full((1, 5), 0.5)
    _, F, _ = relax_trajectory(net, p, V0, jnp.zeros(5, bool), 20, eps=1.0)
    assert np.diff(np.asarray(F), axis=0).max() > 0


def test_relax_reports_convergence_iterations_and_holds_clamped_units(x64):
    net, p = _net_params("logistic", "layered", gain=1.0)
    x = jnp.array([[0.2, 0.7, 0.1], [1.0, 0.0, 0.5]])
    out = net.free_phase(p, x)
    assert 0 < int(out.n_iter) < net.max_iter
    np.testing.assert_array_equal(out.V[:, :3], x)
    # the returned state is a fixed point: V = g(W V + b) on the free units
    assert float(net.residual(p, out.V, net.input_mask()).max()) < 1e-11
    # a cap on iterations is honoured and reported
    capped = net.relax(p, net.initial_state(x), net.input_mask(), max_iter=3)
    assert int(capped.n_iter) == 3 and float(capped.residual.max()) > 1e-6


def test_full_network_pattern_completion_with_per_example_clamps(x64):
    net = FixedPointNet((0, 6, 2), connectivity="full", activation="tanh", temperature=0.5, tol=1e-10, max_iter=2000)
    p = net.init(jax.random.key(0))
    clamp = jnp.array([[True] * 3 + [False] * 5, [False] * 5 + [True] * 3])
    V0 = jnp.zeros((2, 8)).at[0, :3].set(jnp.array([1.0, -1.0, 1.0])).at[1, 5:].set(jnp.array([-1.0, 1.0, 1.0]))
    out = net.relax(p, V0, clamp)
    np.testing.assert_array_equal(jnp.where(clamp, out.V, 0), jnp.where(clamp, V0, 0))
    assert float(net.residual(p, out.V, clamp).max()) < 1e-9


def test_configuration_errors_are_one_line_config_errors():
    with pytest.raises(ConfigError, match="activation"):
        FixedPointNet((2, 3, 1), activation="relu")
    with pytest.raises(ConfigError, match="connectivity"):
        FixedPointNet((2, 3, 1), connectivity="sparse")
    with pytest.raises(ConfigError, match=r"layer_sizes\[1\]"):
        FixedPointNet((2, 0, 1))
    with pytest.raises(ConfigError, match="nudge"):
        net = FixedPointNet((2, 3, 1))
        net.relax(net.init(jax.random.key(0)), jnp.zeros((1, 6)), net.input_mask(), nudge="cubic")

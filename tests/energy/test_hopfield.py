"""Binary Hopfield memory: Hebbian storage, Lyapunov recall, synchronous oscillation, capacity."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from plastix.energy import corrupt, hebbian_weights, random_patterns, recall
from plastix.energy.hopfield import OscillationWarning, capacity_curve, critical_load, energy, overlap
from plastix.errors import ConfigError


def test_hebbian_weights_are_the_outer_product_rule():
    xi = np.array([[1, -1, 1, 1], [-1, -1, 1, -1], [1, 1, 1, -1]], dtype=np.float32)
    W = np.asarray(hebbian_weights(xi))
    ref = sum(np.outer(p, p) for p in xi) / 4
    np.fill_diagonal(ref, 0)
    np.testing.assert_allclose(W, ref)


def test_asynchronous_recall_never_increases_energy_and_ends_at_a_fixed_point():
    N = 60
    xi = random_patterns(jax.random.key(0), 12, N)  # above capacity: spurious minima, long relaxations
    W = hebbian_weights(xi)
    cue = jnp.where(jax.random.bernoulli(jax.random.key(1), 0.5, (8, N)), 1.0, -1.0)
    # same key => the first k sweeps are the same, so energies after 1, 2, ... sweeps form one trajectory
    Es = [energy(W, cue)] + [energy(W, recall(W, cue, jax.random.key(2), max_sweeps=k).S) for k in range(1, 6)]
    assert float(jnp.max(jnp.diff(jnp.stack(Es), axis=0))) <= 1e-5
    out = recall(W, cue, jax.random.key(2))
    h = out.S @ W.T
    assert bool(jnp.all(out.converged)) and bool(jnp.all(out.S * h >= 0))  # every unit aligned with its field


def test_recall_from_corrupted_cues_below_capacity():
    N, P = 60, 3
    xi = random_patterns(jax.random.key(3), P, N)
    W = hebbian_weights(xi)
    probe = xi[jnp.arange(8) % P]  # same (8, 60) shape as above: no new compilation
    out = recall(W, corrupt(jax.random.key(4), probe, 0.15), jax.random.key(5))
    assert float(overlap(out.S, probe).min()) == 1.0


def test_synchronous_updates_warn_when_they_oscillate():
    W = -(jnp.ones((4, 4)) - jnp.eye(4))  # antiferromagnet: S -> -S -> S under synchronous updates
    with pytest.warns(OscillationWarning, match="2-cycle"):
        out = recall(W, jnp.ones((2, 4)), mode="sync")
    assert bool(jnp.all(out.oscillating)) and not bool(jnp.any(out.converged))
    xi = random_patterns(jax.random.key(6), 3, 50)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = recall(hebbian_weights(xi), xi, mode="sync")  # stored patterns are fixed points: no warning
    assert bool(jnp.all(out.converged))
    with pytest.raises(ConfigError, match="mode"):
        recall(W, jnp.ones((1, 4)), mode="random")


def test_capacity_curve_collapses_between_low_and_high_load():
    curve = capacity_curve(jax.random.key(7), 60, [0.05, 0.4], n_networks=2, max_cues=8)
    assert curve["retrieved_fraction"][0] == 1.0 and curve["retrieved_fraction"][1] < 0.3
    a_c = critical_load({"load": np.array([0.1, 0.2]), "retrieved_fraction": np.array([1.0, 0.0])})
    assert a_c == pytest.approx(0.15)

"""RLS against the closed-form (ridge) least-squares solution, float64."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from plastix.homeostasis import rls


def test_rls_reaches_ridge_solution_exactly(x64):
    rng = np.random.default_rng(0)
    n_samples, n, n_out, delta = 60, 8, 3, 0.7
    X = rng.normal(size=(n_samples, n))
    Y = rng.normal(size=(n_samples, n_out))
    P = rls.rls_init(n, delta, dtype=jnp.float64)
    w = jnp.zeros((n_out, n))
    for x, y in zip(X, Y):
        error = w @ x - y
        P, w = rls.rls_update(P, w, jnp.asarray(x), error)
    expected = np.linalg.solve(X.T @ X + delta * np.eye(n), X.T @ Y).T
    np.testing.assert_allclose(np.asarray(w), expected, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(np.asarray(P), np.linalg.inv(X.T @ X + delta * np.eye(n)), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.asarray(rls.ridge_regression(jnp.asarray(X), jnp.asarray(Y), delta)), expected, rtol=1e-9)


def test_rls_gain_is_updated_P_times_input(x64):
    rng = np.random.default_rng(1)
    A = rng.normal(size=(5, 5))
    P = jnp.asarray(A @ A.T + np.eye(5))
    r = jnp.asarray(rng.normal(size=5))
    P_new, k = rls.rls_gain(P, r)
    np.testing.assert_allclose(np.asarray(k), np.asarray(P_new @ r), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(P_new), np.asarray(P_new).T, rtol=0, atol=0)


def test_per_unit_rls_with_zero_padding_matches_separate_problems(x64):
    """Padded inputs are inert: each unit reaches the ridge fit of its own inputs."""
    rng = np.random.default_rng(2)
    n_samples, delta = 40, 1.0
    sizes = [3, 5, 2]
    K = max(sizes)
    X = [rng.normal(size=(n_samples, k)) for k in sizes]
    Y = rng.normal(size=(n_samples, len(sizes)))
    feats = np.zeros((n_samples, len(sizes), K))
    for u, x in enumerate(X):
        feats[:, u, : sizes[u]] = x
    P = rls.rls_init(K, delta, batch_shape=(len(sizes),), dtype=jnp.float64)
    w = jnp.zeros((len(sizes), K))
    step = jax.jit(rls.rls_update_per_unit)
    for t in range(n_samples):
        r = jnp.asarray(feats[t])
        error = jnp.sum(w * r, axis=1) - Y[t]
        P, w = step(P, w, r, error)
    for u, x in enumerate(X):
        expected = np.linalg.solve(x.T @ x + delta * np.eye(sizes[u]), x.T @ Y[:, u])
        np.testing.assert_allclose(np.asarray(w[u, : sizes[u]]), expected, rtol=1e-9, atol=1e-11)
        np.testing.assert_array_equal(np.asarray(w[u, sizes[u]:]), 0.0)

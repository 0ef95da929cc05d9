r"""Recursive least squares (RLS), the one implementation shared by FORCE learning (Sussillo &
Abbott 2009, Neuron 63:544) and innate training (Laje & Buonomano 2013, Nat Neurosci 16:925).

Maths
-----
A linear unit ``z = w·r`` is fitted online to targets ``f(t)``.  With ``P`` the running estimate
of the inverse correlation matrix of the inputs ``r`` (regularised by δ)::

    P(0) = I / δ,   w(0) = w₀
    k(t) = P(t−1) r(t) / (1 + r(t)ᵀ P(t−1) r(t))                 gain
    P(t) = P(t−1) − k(t) (P(t−1) r(t))ᵀ                           (1)
    e(t) = w(t−1)·r(t) − f(t)                                     error before the update
    w(t) = w(t−1) − e(t) k(t)                                     (2)

Note ``P(t) r(t) = k(t)``, so (2) is Sussillo & Abbott's ``w ← w − e₋ P r``.

Closed form (why it is exact): with ``w₀ = 0`` the weights after samples ``r(1..n)`` are the
ridge-regression solution ``w(n) = (δ I + Σ r rᵀ)⁻¹ Σ r f`` and ``P(n) = (δ I + Σ r rᵀ)⁻¹``
(Sherman–Morrison applied n times).  tests/homeostasis/test_rls.py checks exactly that.

How it works
------------
``rls_update(P, w, r, error)`` is one step for any number of outputs that *share* inputs
(``w`` shaped (..., n), ``error`` (...,)): FORCE trains every readout with one ``P``.  Innate
training gives every plastic unit its own ``P`` over its own presynaptic inputs:
:func:`rls_update_per_unit` is the same function under ``vmap``, with inputs gathered per unit
and padded with zeros.  A padded input is exactly inert: its row and column of ``P`` keep their
initial values and its weight never moves, because the gain there is zero.

Caveats
-------
Equation (1) is written as the outer product of one vector with itself, so ``P`` stays exactly
symmetric in floating point; in float32 over very many updates it can still lose positive
definiteness when δ is tiny.  δ = 1 (both papers' value for unit-scale rates) is safe.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def rls_init(n_inputs: int, delta: float = 1.0, batch_shape: tuple = (), dtype=None):
    """``P(0) = I/δ``, optionally one per leading batch index (e.g. one per plastic unit)."""
    eye = jnp.eye(n_inputs, dtype=dtype or jnp.float32) / delta
    return jnp.broadcast_to(eye, (*batch_shape, n_inputs, n_inputs))


def rls_gain(P, r):
    """Return ``(P_new, k)``: Eq. (1) and the gain ``k = P_new r``."""
    Pr = P @ r
    denominator = 1.0 + r @ Pr
    # outer(Pr, Pr) is symmetric bit for bit; outer(k, Pr) would not be
    return P - jnp.outer(Pr, Pr) / denominator, Pr / denominator


def rls_update(P, weights, r, error):
    """One RLS step: Eqs. (1)-(2).  ``weights`` (..., n) share input ``r`` (n,); ``error`` (...,)."""
    P_new, k = rls_gain(P, r)
    return P_new, weights - jnp.asarray(error)[..., None] * k


#: Independent RLS problems side by side: P (U, K, K), weights (U, K), r (U, K), error (U,).
rls_update_per_unit = jax.vmap(rls_update)


def ridge_regression(features, targets, delta: float = 1.0):
    """Batch counterpart of RLS: ``argmin_w Σ‖w·r − f‖² + δ‖w‖²``.

    ``features`` (n_samples, n), ``targets`` (n_samples, n_out) → weights (n_out, n).  RLS from
    ``w₀ = 0, P₀ = I/δ`` over the same samples reaches exactly this.
    """
    n = features.shape[1]
    gram = features.T @ features + delta * jnp.eye(n, dtype=features.dtype)
    return jnp.linalg.solve(gram, features.T @ targets).T

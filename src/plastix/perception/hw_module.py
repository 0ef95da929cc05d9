"""The Hubel–Wiesel (HW) module: template matching followed by pooling over a transformation group.

Leibo & Poggio's account of the ventral stream builds every stage from one module.  For an input
``x ∈ ℝ^D``, a template ``t`` and a set of transformations ``{g_1 … g_G}`` (its *orbit*
``g_k t``), the simple cells and the complex cell compute

    simple_k(x) = f(x, g_k t)                          (selectivity)
    complex(x)  = pool_k simple_k(x)                   (invariance)

with tuning ``f`` one of

    "dot"        ⟨x, g_k t⟩
    "abs_dot"    |⟨x, g_k t⟩| / ‖x‖                 (HMAX S1: normalised, sign-blind)
    "gaussian"   exp(−β ‖x − g_k t‖²)               (HMAX S2: radial-basis tuning)

and pooling ``max`` (HMAX C1/C2), ``mean``, or ``energy`` (the mean of squares, the classical
complex-cell energy model).

Why pooling gives invariance: if the orbit is a finite group ``𝒢`` of orthogonal transformations
and the input is transformed by ``h ∈ 𝒢``, then ``⟨h x, g t⟩ = ⟨x, h⁻¹ g t⟩`` and
``‖h x − g t‖ = ‖x − h⁻¹ g t‖``: the simple-cell responses are the same numbers in another
order, so any pooling that ignores order returns exactly the same value.  HMAX is a hierarchy
of such modules where the group is translation (and scale) restricted to a window: S1 → C1 pools
over local shifts and two adjacent sizes, S2 → C2 over all positions and sizes.  Restricted
windows make the invariance approximate rather than exact (see :mod:`plastix.perception.layers`).

This module computes the module explicitly from a given orbit (small inputs; a test bed and a
teaching aid); the layers of :mod:`plastix.perception.layers` are the same maths done by
convolution for the translation group.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ..errors import check_choice

TUNINGS = ("dot", "abs_dot", "gaussian")
POOLINGS = ("max", "mean", "energy")


def simple_cells(inputs: jax.Array, orbits: jax.Array, tuning: str = "dot", beta: float = 1.0) -> jax.Array:
    """Responses ``(B, K, G)`` of inputs ``(B, D)`` to ``K`` templates, each in ``G`` transformed copies ``(K, G, D)``."""
    check_choice("tuning", tuning, TUNINGS)
    dots = jnp.einsum("bd,kgd->bkg", inputs, orbits)
    if tuning == "dot":
        return dots
    if tuning == "abs_dot":
        norms = jnp.linalg.norm(inputs, axis=-1)[:, None, None]
        return jnp.abs(dots) / jnp.where(norms > 0, norms, 1.0)
    sq = jnp.sum(inputs**2, axis=-1)[:, None, None] - 2.0 * dots + jnp.sum(orbits**2, axis=-1)[None]
    return jnp.exp(-beta * jnp.maximum(sq, 0.0))


def complex_cells(simple: jax.Array, pooling: str = "max") -> jax.Array:
    """Pool simple-cell responses ``(B, K, G)`` over the orbit axis → ``(B, K)``."""
    check_choice("pooling", pooling, POOLINGS)
    if pooling == "max":
        return simple.max(axis=-1)
    if pooling == "mean":
        return simple.mean(axis=-1)
    return jnp.mean(simple**2, axis=-1)


def hw_module(inputs, orbits, tuning: str = "dot", pooling: str = "max", beta: float = 1.0) -> jax.Array:
    """Complex-cell outputs ``(B, K)``: ``pool_k f(x, g_k t)`` (see the module docstring)."""
    return complex_cells(simple_cells(jnp.asarray(inputs), jnp.asarray(orbits), tuning, beta), pooling)


def cyclic_shift_orbit(templates: jax.Array, shifts) -> jax.Array:
    """Orbits ``(K, G, D)`` of 1-D templates ``(K, D)`` under the cyclic shifts ``shifts`` (a group if
    ``shifts`` is all of ``0 … D−1``)."""
    templates = jnp.asarray(templates)
    return jnp.stack([jnp.roll(templates, s, axis=-1) for s in shifts], axis=1)


def translation_orbit_2d(templates: jax.Array, shifts) -> jax.Array:
    """Orbits ``(K, G, H·W)`` of 2-D templates ``(K, H, W)`` under cyclic 2-D shifts ``[(dy, dx), …]``."""
    templates = jnp.asarray(templates)
    copies = [jnp.roll(templates, (dy, dx), axis=(-2, -1)) for dy, dx in shifts]
    return jnp.stack(copies, axis=1).reshape(templates.shape[0], len(copies), -1)

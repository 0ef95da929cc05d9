"""Fast, exact samplers for the particle filters: Beta(a, 1/2), Gamma(a) and normal draws.

Why.  The particle filters need two Beta draws per particle per trial.  ``jax.random.beta``
draws two Gamma variates, each by rejection in a per-element loop with fresh threefry bits per
attempt; on a CPU that is ~2–4 µs per draw and dominated everything else by 50×.

How.  One threefry call per trial turns the trial's key into two 32-bit seeds; every uniform of
that trial is then a counter-based hash of (seed, stream, element index): the MurmurHash3
finaliser applied twice, keyed by the two seeds.  ``stream`` separates the different draws of a
trial (volatility shock, stochasticity shock, each rejection round, the resampling offset).
From these uniforms:

* normal:  z = sqrt(2) erfinv(2u - 1), u on a 2^-23 grid strictly inside (0, 1) (|z| < 5.5);
* Gamma(a), a >= 1: Marsaglia & Tsang (2000): d = a - 1/3, c = 1/sqrt(9d); propose
  x ~ N(0, 1), v = (1 + c x)^3; accept if v > 0 and log u < x^2/2 + d - d v + d log v; return d v.
  Rounds repeat (in a ``lax.while_loop``) until every element has accepted, so the draw is exact;
  acceptance is > 95 %, so a trial needs a few rounds even for 10^5 elements;
* Gamma(a), a < 1: Gamma(a + 1) · U^(1/a);
* Beta(a, 1/2) = G_a / (G_a + G_1/2), with G_1/2 = z^2 / 2 exactly (a chi-square with one
  degree of freedom, halved).

Gradients.  The Gamma draw is differentiable in a by implicit reparameterisation
(``lax.random_gamma_grad``, the derivative of the sample at a fixed CDF level, as
``jax.random.gamma`` does); the Beta and normal transforms are differentiated directly.

Caveats.  The hash stream is a statistically good but not cryptographic generator (distribution
checked against SciPy by a Kolmogorov–Smirnov test in the test suite); results are reproducible
for a given key but differ from ``jax.random``'s own samplers, which remain available
(``sampler="jax"`` in the filters) as a slower cross-check.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

_GOLDEN = 0x9E3779B9
_STREAM = 0x85EBCA6B
_MAX_ROUNDS = 64  # P(an element rejects 64 times) < 0.05**64: the cap only guarantees termination


def trial_seeds(key: jax.Array) -> jax.Array:
    """Two uint32 seeds for all the draws of one trial."""
    return jax.random.bits(key, (2,), jnp.uint32)


def _fmix32(h):
    h = h ^ (h >> 16)
    h = h * jnp.uint32(0x85EBCA6B)
    h = h ^ (h >> 13)
    h = h * jnp.uint32(0xC2B2AE35)
    return h ^ (h >> 16)


def uniform(seeds: jax.Array, stream: int | jax.Array, shape, dtype) -> jax.Array:
    """Uniforms strictly inside (0, 1) on a 2^-23 grid, one per element of ``shape``.

    23 bits (not 24): (k + 1/2) 2^-23 with k < 2^23 is exact in float32, so u is never 0 or 1.
    """
    size = 1
    for s in shape:
        size *= s
    counter = jnp.arange(size, dtype=jnp.uint32).reshape(shape)
    stream = jnp.asarray(stream, jnp.uint32) * jnp.uint32(_STREAM)
    h = _fmix32(counter * jnp.uint32(_GOLDEN) + seeds[0] + stream)
    h = _fmix32(h ^ seeds[1])
    return ((h >> 9).astype(dtype) + 0.5) * (2.0**-23)


def normal(seeds, stream, shape, dtype) -> jax.Array:
    u = uniform(seeds, stream, shape, dtype)
    return jnp.sqrt(jnp.asarray(2.0, dtype)) * jax.scipy.special.erfinv(2.0 * u - 1.0)


def _gamma_at_least_one(seeds, stream, a):
    """Marsaglia–Tsang for shape a >= 1 (elementwise); exact by repeated rounds."""
    d = a - 1.0 / 3.0
    c = 1.0 / jnp.sqrt(9.0 * d)

    def propose(round_index):
        x = normal(seeds, stream + 2 * round_index, a.shape, a.dtype)
        u = uniform(seeds, stream + 2 * round_index + 1, a.shape, a.dtype)
        v = (1.0 + c * x) ** 3
        safe_v = jnp.where(v > 0, v, 1.0)
        ok = (v > 0) & (jnp.log(u) < 0.5 * x * x + d - d * safe_v + d * jnp.log(safe_v))
        return ok, d * safe_v

    def cond(carry):
        round_index, accepted, _ = carry
        return jnp.logical_not(jnp.all(accepted)) & (round_index < _MAX_ROUNDS)

    def body(carry):
        round_index, accepted, value = carry
        ok, candidate = propose(round_index)
        value = jnp.where(accepted, value, candidate)
        return round_index + 1, accepted | ok, value

    ok, first = propose(jnp.uint32(0))
    return lax.while_loop(cond, body, (jnp.uint32(1), ok, first))[2]


@jax.custom_jvp
def _gamma_reparameterised(a, seeds, stream):
    return _gamma_at_least_one(seeds, stream, a)


@_gamma_reparameterised.defjvp
def _gamma_jvp(primals, tangents):
    # Implicit reparameterisation: d sample / d a at a fixed CDF level of the sample.
    a, seeds, stream = primals
    a_dot = tangents[0]
    sample = _gamma_reparameterised(a, seeds, stream)
    return sample, lax.random_gamma_grad(a, sample) * a_dot


def gamma(seeds, stream: int, a: jax.Array) -> jax.Array:
    """Gamma(a, 1) draws, elementwise in the array ``a`` (any positive shapes)."""
    a = jnp.asarray(a)
    boosted = a < 1.0
    a_used = jnp.where(boosted, a + 1.0, a)
    sample = _gamma_reparameterised(a_used, seeds, jnp.asarray(stream, jnp.uint32))
    # Shapes below 1: Gamma(a) = Gamma(a + 1) U^(1/a) (the stream after the rejection rounds).
    u = uniform(seeds, stream + 2 * _MAX_ROUNDS, a.shape, a.dtype)
    return jnp.where(boosted, sample * u ** (1.0 / a), sample)


def beta_half(seeds, stream: int, a: jax.Array) -> jax.Array:
    """Beta(a, 1/2) draws elementwise in ``a``: G_a / (G_a + z^2 / 2)."""
    a = jnp.asarray(a)
    g = gamma(seeds, stream, a)
    z = normal(seeds, stream + 2 * _MAX_ROUNDS + 1, a.shape, a.dtype)
    return g / (g + 0.5 * z * z)

"""Fixtures for the e-prop tests: a small LIF+ALIF network with refractoriness, and trials for it."""

from __future__ import annotations

from types import SimpleNamespace

import jax
import jax.numpy as jnp
import pytest

from plastix.models.spiking import SpikingRNN
from plastix.tasks.base import Trial

N_IN, N_REC, N_OUT = 5, 8, 2
BETAS = (0.0, 0.0, 0.0, 0.0, 0.3, 0.5, 0.8, 1.0)  # four LIF, four ALIF neurons


def small_network(zeta="1", readout_scale="1-kappa", n_ref=3, n_out=N_OUT, betas=BETAS, **kw):
    """Strong weights so that every neuron spikes and some are refractory within 50 steps."""
    return SpikingRNN(
        n_in=N_IN, n_rec=N_REC, n_out=n_out, tau_m=20.0, tau_a=200.0, v_th=0.5, beta=betas, n_ref=n_ref,
        zeta=zeta, readout_scale=readout_scale, bias=True, w_in_scale=3.0 if zeta == "1" else 60.0,
        w_rec_scale=2.0 if zeta == "1" else 40.0, **kw,
    )


def params64(model, seed=0):
    p = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), model.init(jax.random.key(seed)))
    p["b_out"] = jnp.linspace(-0.2, 0.1, model.n_out)
    return p


def small_trial(T=50, B=3, n_out=N_OUT, loss="mse", dtype=jnp.float64):
    x = jax.random.bernoulli(jax.random.key(1), 0.2, (T, B, N_IN)).astype(dtype)
    if loss == "xent":
        label = jax.random.randint(jax.random.key(2), (B,), 0, n_out)
        targets = jnp.broadcast_to(jax.nn.one_hot(label, n_out, dtype=dtype)[None], (T, B, n_out))
    else:
        targets = jax.random.normal(jax.random.key(2), (T, B, n_out), dtype)
    mask = jnp.broadcast_to((jnp.arange(T) >= T // 3)[:, None, None], (T, B, n_out)).astype(dtype)
    return Trial(x, targets, mask)


def rel_err(a, b):
    return float(jnp.linalg.norm(jnp.ravel(a - b)) / jnp.linalg.norm(jnp.ravel(b)))


@pytest.fixture
def kit():
    """The helpers above, as one object (tests import nothing from this folder)."""
    return SimpleNamespace(
        N_IN=N_IN, N_REC=N_REC, N_OUT=N_OUT, BETAS=BETAS, small_network=small_network, params64=params64,
        small_trial=small_trial, rel_err=rel_err,
    )

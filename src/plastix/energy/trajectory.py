"""Contrastive learning of time-dependent trajectories (the appendix of Baldi & Pineda 1991).

Maths (a reconstruction: the two extensions of the paper's appendix are not quoted, see
docs/energy.md)
-----
Inputs x_t and targets y_t, t = 1..T, vary in time.  Two copies of the network run side by side:
a *free* one (inputs clamped to x_t) and a *teacher-forced* one (inputs x_t and the teacher of the
rule's scheme with targets y_t).  Each copy starts every sample from its own state at the previous
sample (no reset).  The weights follow the contrast of time averages,

    grad = (1/T) sum_t [ dE/dtheta (V^t_t) - dE/dtheta (V^f_t) ]    (/ gamma if the rule normalises).   (1)

Two regimes, chosen by the rule's relaxation settings:

* **quasi-static** (each sample relaxed to convergence, ``tol > 0`` and enough iterations): V^f_t
  and V^t_t are fixed points, and (1) is exactly the gradient of the time-averaged contrast
  C_bar = (1/T) sum_t [E^t_t(V^t_t) - E_t(V^f_t)] by the envelope theorem at every t (tested by
  finite differences), provided no sample changes basin.
* **dynamic** (``tol = 0`` and a few iterations per sample, ``free_iter = teacher_iter = k``): the
  states lag behind the inputs; (1) contrasts averages along the two actual trajectories.  It is
  not the gradient of any function in general; it tends to the quasi-static rule as the inputs
  slow down relative to the relaxation (tested).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from ..errors import ConfigError
from .contrastive import ContrastiveRule


def run_trajectories(rule: ContrastiveRule, params, x_seq, y_seq):
    """Free and teacher-forced trajectories: (V_free (T, B, n), V_teacher (T, B, n))."""
    if rule.sign != "+":
        raise ConfigError.bad_value("sign", rule.sign, "'+' for trajectory learning")
    return _run_trajectories(rule, params, jnp.asarray(x_seq), jnp.asarray(y_seq))


@partial(jax.jit, static_argnums=0)
def _run_trajectories(rule: ContrastiveRule, params, x_seq, y_seq):
    net = rule.net
    inputs, outputs = net.input_mask(), net.output_mask()
    gamma = rule.gamma

    def sample(carry, xy):
        Vf, Vt = carry
        x, y = xy
        free = rule._relax(params, Vf.at[..., : net.n_in].set(x), inputs, max_iter=rule.free_iter)
        V0 = Vt.at[..., : net.n_in].set(x)
        if rule.scheme in ("hard_clamp", "interpolated"):
            Vo = free.V[..., net.out_slice]
            clamp_to = y if rule.scheme == "hard_clamp" else Vo + gamma * (y - Vo)
            teach = rule._relax(params, V0.at[..., net.out_slice].set(clamp_to), inputs | outputs,
                                max_iter=rule.teacher_iter)
        else:
            nudge = "squared" if rule.scheme == "soft_clamp" else "current"
            teach = rule._relax(params, V0, inputs, y, gamma, nudge, max_iter=rule.teacher_iter)
        return (free.V, teach.V), (free.V, teach.V)

    V_init = net.initial_state(x_seq[0])
    _, (Vf, Vt) = jax.lax.scan(sample, (V_init, V_init), (x_seq, y_seq))
    return Vf, Vt


def trajectory_grads(rule: ContrastiveRule, params, x_seq, y_seq, key=None):
    """Equation (1) and metrics (time-averaged loss of the free trajectory, contrast)."""
    if rule.sign != "+":
        raise ConfigError.bad_value("sign", rule.sign, "'+' for trajectory learning")
    return _trajectory_grads(rule, params, jnp.asarray(x_seq), jnp.asarray(y_seq))


@partial(jax.jit, static_argnums=0)
def _trajectory_grads(rule: ContrastiveRule, params, x_seq, y_seq):
    net = rule.net
    Vf, Vt = _run_trajectories(rule, params, x_seq, y_seq)
    flat = lambda V: V.reshape((-1, V.shape[-1]))
    g_t, g_f = net.dE_dtheta(params, flat(Vt)), net.dE_dtheta(params, flat(Vf))
    scale = 1.0 / rule.gamma if rule.normalize else 1.0
    grads = jax.tree_util.tree_map(lambda a, b: (a - b) * scale, g_t, g_f)
    metrics = {
        "loss": jnp.mean(net.cost(Vf, jnp.asarray(y_seq))),
        "contrast": time_averaged_contrast(rule, params, Vf, Vt, y_seq),
    }
    return grads, metrics


def time_averaged_contrast(rule: ContrastiveRule, params, Vf, Vt, y_seq):
    """C_bar = (1/T) sum_t [E^t_t(V^t_t) - E(V^f_t)], averaged over the batch."""
    Et = rule.teacher_energy(params, Vt, jnp.asarray(y_seq), rule.gamma)
    Ef = rule.net.energy(params, Vf, rule.final_temperature)
    return jnp.mean(Et - Ef)


def phase_doubling(n_samples: int = 64, n_cycles: float = 1.0, batch: int = 1):
    """A trajectory task: input (1 + sin wt, 1 + cos wt)/2, target (1 + sin 2wt)/2 * 0.8 + 0.1.

    The target is a product of the two inputs (sin 2a = 2 sin a cos a): hidden units are needed.
    Returns (x_seq (T, batch, 2), y_seq (T, batch, 1)); ``batch`` copies start at shifted phases.
    """
    t = jnp.arange(n_samples) / n_samples * 2 * jnp.pi * n_cycles
    shift = jnp.arange(batch) / batch * 2 * jnp.pi
    a = t[:, None] + shift[None, :]
    x = jnp.stack([(1 + jnp.sin(a)) / 2, (1 + jnp.cos(a)) / 2], -1)
    y = (0.1 + 0.8 * (1 + jnp.sin(2 * a)) / 2)[..., None]
    return x, y


def fit_trajectory(rule: ContrastiveRule, params, x_seq, y_seq, *, lr: float, n_updates: int):
    """Plain gradient descent with equation (1), one update per pass over the sequence.

    Returns ``(params, losses)``: the time-averaged loss of the free trajectory before each update.
    """
    from ..errors import check_positive

    check_positive("lr", lr)
    check_positive("n_updates", n_updates, integer=True)
    if rule.sign != "+":
        raise ConfigError.bad_value("sign", rule.sign, "'+' for trajectory learning")
    return _fit_trajectory(rule, params, jnp.asarray(x_seq), jnp.asarray(y_seq), lr, int(n_updates))


@partial(jax.jit, static_argnums=(0, 5))
def _fit_trajectory(rule, params, x_seq, y_seq, lr, n_updates):
    def step(p, _):
        g, m = _trajectory_grads(rule, p, x_seq, y_seq)
        return jax.tree_util.tree_map(lambda a, b: a - lr * b, p, g), m["loss"]

    return jax.lax.scan(step, params, None, length=n_updates)

"""The shared oracle of every rule's exactness test (float64).

* :func:`exact_grads` — the gradient of the masked trial loss by JAX autodiff through the model's
  own ``run`` (independent of ``plastix.rules``: it uses no rule code);
* :func:`finite_differences` — central differences, the arbiter of autodiff itself;
* :func:`rel_error` and :func:`assert_equals_exact` — agreement over a set of parameters;
* :func:`assert_differs_from_exact` — the guard that an *approximate* rule's estimate really
  differs from the exact gradient (so that a test comparing it with something else cannot pass
  because the problem is degenerate, e.g. a silent network with zero gradients).
"""

from __future__ import annotations

import jax
import numpy as np

from plastix.rules.base import loss_value


def loss_function(model, trial, key, loss: str = "mse"):
    """params ↦ the masked trial loss, with the model's process noise drawn from ``key``."""
    noise = model.sample_noise(key, trial.n_steps, trial.batch_size)

    def f(params):
        _, aux = model.run(params, trial.inputs, noise=noise)
        return loss_value(aux.y, trial.targets, trial.mask, trial.n_steps, loss)

    return jax.jit(f)


def exact_grads(model, params, trial, key, loss: str = "mse", trainable=None) -> dict:
    """∂L/∂θ by autodiff; parameters outside ``trainable`` (and masked connections) get zeros."""
    grads = model.mask_grads(jax.grad(loss_function(model, trial, key, loss))(params))
    if trainable is not None:
        grads = {k: (g if k in trainable else 0 * g) for k, g in grads.items()}
    return grads


def finite_differences(f, params: dict, eps: float = 1e-6) -> dict:
    """Central differences (f(θ + ε e_i) − f(θ − ε e_i)) / 2ε of a scalar function of a dict of arrays."""
    grads = {}
    for name, value in params.items():
        flat = np.asarray(value).ravel()
        g = np.zeros_like(flat)
        for i in range(flat.size):
            step = np.zeros_like(flat)
            step[i] = eps
            plus = {**params, name: (flat + step).reshape(value.shape)}
            minus = {**params, name: (flat - step).reshape(value.shape)}
            g[i] = (float(f(plus)) - float(f(minus))) / (2 * eps)
        grads[name] = g.reshape(value.shape)
    return grads


def rel_error(estimate: dict, exact: dict, keys=None) -> float:
    """‖estimate − exact‖ / ‖exact‖ over ``keys`` (default: every key of ``exact``)."""
    keys = sorted(exact) if keys is None else list(keys)
    a = np.concatenate([np.ravel(estimate[k]) for k in keys])
    b = np.concatenate([np.ravel(exact[k]) for k in keys])
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def assert_equals_exact(estimate: dict, exact: dict, tol: float = 1e-10, keys=None) -> None:
    keys = sorted(exact) if keys is None else list(keys)
    assert max(np.linalg.norm(np.ravel(exact[k])) for k in keys) > 0, "the exact gradient is zero: a degenerate problem"
    err = rel_error(estimate, exact, keys)
    assert err < tol, f"relative error {err:.3g} ≥ {tol:g}"


def assert_differs_from_exact(estimate: dict, exact: dict, at_least: float = 1e-3, keys=None) -> None:
    err = rel_error(estimate, exact, keys)
    assert err > at_least, f"the approximate estimate equals the exact gradient (relative error {err:.3g})"

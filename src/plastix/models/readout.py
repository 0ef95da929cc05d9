r"""The linear readout (perceptron) as a model: y(t) = W x(t) (+ b).

:class:`LinearReadout` is the paper's linear perceptron (Züge et al. 2023, §II) in
plastix's model interface: inputs x(t) ∈ ℝ^N (features, reservoir rates, latent inputs), outputs

    y(t) = W x(t) + b,     W ∈ ℝ^{M×N} (``w_out``),  b (``b_out``, only with ``bias=True``)

for every step t of a trial (T, B, N).  It has no hidden state (its state is an empty (B, 0)
array), so ``run`` is one matrix product rather than a scan.  It tells the perturbation rules
where node noise enters (``perturbation_layers``: the output units, presynaptic activity x) and
runs with node noise added to y (``run_node_perturbed``), so WP, NP, WP0, HP and BPTT (the exact
gradient) all train it.  W starts at ``init_scale``·N(0, 1/N) (0 by default, as in the paper).

It is trained by :func:`plastix.readout.fit_task` / :func:`plastix.readout.train_readout`, by
``plastix compare`` (model kind ``readout``) and by any rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp

from ..errors import ConfigError, check_positive
from .layers import PerturbationLayer


class ReadoutAux(NamedTuple):
    """Per-step quantities of a readout (stacked over time by ``run``)."""

    x: jax.Array  # presynaptic activity: the input (…, B, N)
    y: jax.Array  # output (…, B, M)


@dataclass(frozen=True)
class LinearReadout:
    """y(t) = W x(t) (+ b): the linear perceptron of the perturbation paper."""

    n_in: int
    n_out: int
    n_rec: int = 0  # accepted so that ``plastix compare`` can build it; a readout has no hidden units
    bias: bool = False
    init_scale: float = 0.0

    def __post_init__(self):
        check_positive("n_in", self.n_in, integer=True)
        check_positive("n_out", self.n_out, integer=True)
        if not (isinstance(self.init_scale, (int, float)) and self.init_scale >= 0):
            raise ConfigError.bad_value("init_scale", self.init_scale, "a non-negative number")

    def init(self, key: jax.Array) -> dict:
        w = self.init_scale / jnp.sqrt(self.n_in) * jax.random.normal(key, (self.n_out, self.n_in))
        params = {"w_out": w}
        if self.bias:
            params["b_out"] = jnp.zeros((self.n_out,))
        return params

    # Structural hooks of the model interface: a dense readout has no masks or constraints.
    def effective(self, params: dict) -> dict:
        return params

    def constrain(self, params: dict) -> dict:
        return params

    def mask_grads(self, grads: dict) -> dict:
        return grads

    def initial_state(self, params: dict, batch_size: int) -> jax.Array:
        return jnp.zeros((batch_size, 0), params["w_out"].dtype)

    def sample_noise(self, key, n_steps, batch_size):
        return None

    def step(self, params: dict, state, x_t, noise_t=None):
        y = x_t @ params["w_out"].T
        if "b_out" in params:
            y = y + params["b_out"]
        if noise_t is not None:
            y = y + noise_t
        return state, ReadoutAux(x=x_t, y=y)

    def run(self, params: dict, inputs: jax.Array, h_init=None, noise=None):
        """Whole trial (T, B, N) → (state, ReadoutAux stacked over time): one matrix product."""
        if h_init is None:
            h_init = self.initial_state(params, inputs.shape[1])
        _, aux = self.step(params, h_init, inputs, noise)
        return h_init, aux

    # -- what the perturbation rules need ------------------------------------------------------
    def perturbation_layers(self):
        return (PerturbationLayer("out", self.n_out, (("w_out", "x"), ("b_out", None))),)

    def run_node_perturbed(self, params, inputs, node_noise: dict, h_init=None, noise=None):
        extra = node_noise.get("out")
        total = extra if noise is None else (noise if extra is None else noise + extra)
        return self.run(params, inputs, h_init=h_init, noise=total)

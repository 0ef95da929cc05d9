"""What every sequence-learning rule shares.

A rule estimates the gradient of the masked trial loss (Murray 2019, Eq. 2)

    L = 1/(2T) Σ_t Σ_k m_k(t) (y*_k(t) − y_k(t))²          (mean over the batch)

(or, with ``loss="xent"``, the masked softmax cross-entropy
L = −1/T Σ_t m(t) Σ_k y*_k(t) log softmax(y(t))_k, for one-hot targets) with respect to the model parameters, with the sign of ∂L/∂θ, so that an optax optimiser turns
it into an update.  ε(t) = m(t)·(y*(t) − y(t)) is the masked output error (target minus output,
as in the paper); for cross-entropy ε(t) = m(t)·(y*(t) − softmax(y(t))).  In both cases
∂L/∂y(t) = −ε(t)/T, so every rule below works unchanged with either loss.

Like an optax transformation, a rule is a set of pure functions over explicit state:

* ``init(params, key) -> rule_state`` — fixed or slowly changing quantities (feedback matrices);
* ``init_carry(params, batch_size) -> carry`` — network state and eligibility traces at a trial
  start (traces restart at zero at every trial boundary);
* ``segment(params, rule_state, carry, inputs, targets, mask, noise, n_total)`` →
  ``(carry, grads, metrics)`` — runs a stretch of the trial with ``lax.scan`` and returns the
  gradient contribution of that stretch (already divided by the full trial length
  ``n_total``), so the segments of a trial add up to the whole-trial gradient.  Online learning
  ("update every k steps") applies each segment's gradient before the next;
* ``trial_grads(params, trial, key, rule_state=None) -> (grads, metrics)`` — one whole trial.

``metrics`` always holds ``loss`` (this stretch's share of L).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp

from ..errors import ConfigError
from ..tasks.base import Trial

DEFAULT_FEEDBACK_KEY = 0  # rule_state drawn from this key when trial_grads is called without one


LOSSES = ("mse", "xent")


def output_error(y, targets_t, mask_t, loss: str = "mse"):
    """ε(t) = m(t)·(y*(t) − y(t)), or m(t)·(y*(t) − softmax(y(t))) for cross-entropy.

    For cross-entropy the targets are one-hot (or probabilities) and the mask must take the same
    value for every output at a given step (it masks whole time steps).
    """
    if loss == "xent":
        return mask_t * (targets_t - jax.nn.softmax(y, axis=-1))
    return mask_t * (targets_t - y)


def loss_value(y, targets, mask, n_total: int, loss: str = "mse"):
    """This stretch's share of L (sum over time and outputs, / T, mean over the batch)."""
    batch = y.shape[-2]
    if loss == "xent":
        return -jnp.sum(mask * targets * jax.nn.log_softmax(y, axis=-1)) / (n_total * batch)
    return 0.5 * jnp.sum((mask * (targets - y)) ** 2) / (n_total * batch)


def readout_grads(params: dict, err, h, n_total: int) -> dict:
    """Exact ∂L/∂W_out (and ∂L/∂b_out) contribution of one step: −(1/T) ⟨ε hᵀ⟩_batch."""
    batch = err.shape[0]
    grads = {"w_out": -(err.T @ h) / (n_total * batch)}
    if "b_out" in params:
        grads["b_out"] = -err.sum(0) / (n_total * batch)
    return grads


def zeros_like_params(params: dict) -> dict:
    return jax.tree_util.tree_map(jnp.zeros_like, params)


@dataclass(frozen=True)
class SequenceRule:
    """Base class: ``trial_grads`` in terms of ``init``, ``init_carry`` and ``segment``."""

    model: object
    trainable: tuple[str, ...] | None = None  # None: every parameter
    loss: str = "mse"
    name: str = field(default="rule", init=False)

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise ConfigError.bad_value("loss", self.loss, ", ".join(LOSSES))
        if self.trainable is not None:
            probe = self.model.init(jax.random.key(0))
            for k in self.trainable:
                if k not in probe:
                    raise ConfigError.bad_value("trainable", k, ", ".join(probe))

    def init(self, params: dict, key: jax.Array) -> dict:
        return {}

    def init_carry(self, params: dict, batch_size: int) -> dict:
        return {"h": self.model.initial_state(params, batch_size)}

    def segment(self, params, rule_state, carry, inputs, targets, mask, noise, n_total):
        raise NotImplementedError

    def restrict(self, grads: dict) -> dict:
        """Zero the gradients of parameters that are not trained and of masked connections."""
        grads = self.model.mask_grads(grads)
        if self.trainable is None:
            return grads
        return {k: (g if k in self.trainable else jnp.zeros_like(g)) for k, g in grads.items()}

    def trial_grads(self, params: dict, trial: Trial, key: jax.Array, rule_state: dict | None = None):
        """Gradient estimate and metrics for one batch of whole trials."""
        if rule_state is None:
            rule_state = self.init(params, jax.random.key(DEFAULT_FEEDBACK_KEY))
        noise = self.model.sample_noise(key, trial.n_steps, trial.batch_size)
        carry = self.init_carry(params, trial.batch_size)
        _, grads, metrics = self.segment(
            params, rule_state, carry, trial.inputs, trial.targets, trial.mask, noise, trial.n_steps
        )
        return grads, metrics


FEEDBACK_KINDS = ("symmetric", "random")


def feedback_matrix(params: dict, rule_state: dict, feedback: str):
    """The matrix that carries the output error to the units, shape (N, n_out).

    ``symmetric``: W_outᵀ (the exact gradient's choice); ``random``: the fixed matrix B in
    ``rule_state["feedback"]`` (Murray's random feedback).
    """
    if feedback == "symmetric":
        return params["w_out"].T
    return rule_state["feedback"]


def random_feedback(key: jax.Array, n_rec: int, n_out: int, scale: float, dtype) -> jax.Array:
    """B_ij ~ N(0, scale²), fixed for the life of the network (Murray 2019, Methods)."""
    return scale * jax.random.normal(key, (n_rec, n_out), dtype=dtype)


@dataclass(frozen=True)
class TraceRule(SequenceRule):
    """A forward-mode rule: traces of ∂h/∂θ carried forward in time, read out by a learning signal.

    Subclasses give ``init_traces``, ``update_traces`` and ``trace_grads``; the scan over time,
    the learning signal ε(t)ᵀ·(feedback)ᵀ, the exact readout gradient and the accumulation of
    gradient contributions live here once.
    """

    feedback: str = "symmetric"
    feedback_scale: float = 1.0

    def __post_init__(self):
        super().__post_init__()
        if self.feedback not in FEEDBACK_KINDS:
            raise ConfigError.bad_value("feedback", self.feedback, ", ".join(FEEDBACK_KINDS))
        if not self.feedback_scale > 0:
            raise ConfigError.bad_value("feedback_scale", self.feedback_scale, "a positive number")

    def init(self, params, key):
        if self.feedback == "random":
            m = self.model
            return {"feedback": random_feedback(key, m.n_rec, m.n_out, self.feedback_scale, params["w_rec"].dtype)}
        return {}

    def init_carry(self, params, batch_size):
        return {
            "h": self.model.initial_state(params, batch_size),
            "x_prev": jnp.zeros((batch_size, self.model.n_in), params["w_rec"].dtype),
            "traces": self.init_traces(params, batch_size),
        }

    def init_traces(self, params, batch_size):
        return {}

    def update_traces(self, params, traces, aux, x_prev):
        return traces

    def trace_grads(self, params, traces, signal, n_total):
        return {}

    def segment(self, params, rule_state, carry, inputs, targets, mask, noise, n_total):
        eff = self.model.effective(params)
        fb = feedback_matrix(eff, rule_state, self.feedback)

        def body(c, xs):
            state, grads, loss = c
            x_t, target_t, mask_t, noise_t = xs
            h, aux = self.model.step(eff, state["h"], x_t, noise_t)
            traces = self.update_traces(eff, state["traces"], aux, state["x_prev"])
            err = output_error(aux.y, target_t, mask_t, self.loss)
            step_grads = {**self.trace_grads(eff, traces, err @ fb.T, n_total), **readout_grads(eff, err, h, n_total)}
            grads = jax.tree_util.tree_map(lambda a, b: a + b, grads, step_grads)
            return ({"h": h, "x_prev": x_t, "traces": traces}, grads, loss + loss_value(aux.y, target_t, mask_t, n_total, self.loss)), None

        # Accumulate only what this rule estimates; the rest of the gradient is zero.
        estimated = set(carry["traces"]) | {"w_out"} | ({"b_out"} & set(params))
        zero = {k: jnp.zeros_like(params[k]) for k in estimated}
        init = (carry, zero, jnp.zeros((), params["w_rec"].dtype))
        (carry, grads, loss), _ = jax.lax.scan(body, init, (inputs, targets, mask, noise))
        grads = {k: grads[k] if k in grads else jnp.zeros_like(v) for k, v in params.items()}
        return carry, self.restrict(grads), {"loss": loss}

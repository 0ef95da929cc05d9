"""The rule protocol: what every sequence-learning rule is and does.

A rule estimates the gradient of the masked trial loss (Murray 2019, Eq. 2)

    L = 1/(2T) Σ_t Σ_k m_k(t) (y*_k(t) − y_k(t))²          (mean over the batch)

(or, with ``loss="xent"``, the masked softmax cross-entropy
L = −1/T Σ_t m(t) Σ_k y*_k(t) log softmax(y(t))_k, for one-hot targets) with respect to the
model parameters, with the sign of ∂L/∂θ, so that an optax optimiser turns it into an update.
ε(t) = m(t)·(y*(t) − y(t)) is the masked output error (target minus output, as in the paper); for
cross-entropy ε(t) = m(t)·(y*(t) − softmax(y(t))).  In both cases ∂L/∂y(t) = −ε(t)/T, so every
rule works unchanged with either loss.

The protocol (``docs/rule-protocol.md`` is its record).  Like an optax ``GradientTransformation``,
a rule is a set of pure functions over explicit, typed state (NamedTuples):

* ``init(params, key) -> rule_state`` — quantities that live across trials (feedback matrices, a
  running baseline); :class:`NoState` when there are none;
* ``init_carry(params, batch_size, key) -> carry`` — network state and eligibility traces at a
  trial start (traces restart at every trial boundary); ``key`` is the trial's own key for rules
  that draw (perturbations, actions);
* ``segment(params, rule_state, carry, stretch, n_total) -> (carry, grads, metrics)`` — a
  stretch of the trial (:class:`Stretch`, arrays (K, B, ·)) and its gradient contribution,
  already divided by the full trial length ``n_total``, so the segments of a trial add up to the
  whole-trial gradient.  Online learning ("update every k steps") applies each segment's
  gradient before the next;
* hooks with no-op defaults, called by the training loop on every rule:
  ``after_update(old_params, new_params, rule_state) -> (new_params, rule_state)`` after each
  optimiser update (e-prop's adaptive feedback follows W_out) and
  ``update_state(rule_state, metrics) -> rule_state`` once per trial with that trial's metrics
  (a running-mean baseline);
* ``trial_grads(params, trial, key, rule_state=None) -> (grads, metrics)`` — one whole trial
  (final: :func:`begin_trial` then one ``segment``).

:class:`OnlineRule` adds the public per-step update ``step(params, rule_state, carry, x_t,
target_t, mask_t, noise_t, n_total) -> (carry, grads, metrics)``; its ``segment`` scans ``step``
and a rule may override ``segment`` with a fused fast path over the stretch (e-prop's blocks).
:class:`TraceRule` is the forward-mode family (RTRL, RFLO): traces of ∂h/∂θ carried forward and
read out by a learning signal.

Keys.  ``trial_grads`` and the training loop derive from a trial's key ``key``: the model's
process noise from ``key`` itself, the carry's key from ``fold_in(key, 1)`` and, when no rule
state is given, the rule state from ``fold_in(key, 2)``.  Nothing is inferred from argument
types or hashed from values.

``metrics`` always holds ``loss`` (this stretch's share of L).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import jax
import jax.numpy as jnp

from ..errors import ConfigError
from ..validation import choice, positive, setting, validate_fields
from ..tasks.base import Trial

LOSSES = ("mse", "xent")
FEEDBACK_KINDS = ("symmetric", "random")


# --------------------------------------------------------------------------------------------
# Typed state
# --------------------------------------------------------------------------------------------
class NoState(NamedTuple):
    """The rule state of a rule that keeps nothing across trials."""


class FeedbackState(NamedTuple):
    """A fixed (or slowly adapting) feedback matrix B, shape (N, n_out)."""

    feedback: jax.Array


class NetworkCarry(NamedTuple):
    """The carry of a rule that needs only the network's state."""

    h: Any


class TraceCarry(NamedTuple):
    """Network state, the previous input (for lagged input traces) and the eligibility traces."""

    h: Any
    x_prev: jax.Array
    traces: Any


class Stretch(NamedTuple):
    """A stretch of a trial: inputs (K, B, n_in), targets and mask (K, B, n_out), model noise or None."""

    inputs: jax.Array
    targets: jax.Array
    mask: jax.Array
    noise: Any = None


# --------------------------------------------------------------------------------------------
# Losses and the exact readout gradient
# --------------------------------------------------------------------------------------------
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


def fill_grads(params: dict, grads: dict) -> dict:
    """``grads`` for every parameter: zeros for those the rule does not estimate."""
    return {k: grads[k] if k in grads else jnp.zeros_like(v) for k, v in params.items()}


def add_trees(a, b):
    return jax.tree_util.tree_map(jnp.add, a, b)


# --------------------------------------------------------------------------------------------
# The protocol
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule(abc.ABC):
    """Abstract base of every rule: the protocol of the module docstring.

    ``trainable`` names the parameters that learn (None: all); ``loss`` is ``"mse"`` or
    ``"xent"``.  ``online`` says whether ``segment`` may run on stretches shorter than the trial
    (``update_every``); a rule that needs the whole trial sets it False and the training loop
    refuses online updates for it.
    """

    model: Any
    trainable: tuple[str, ...] | None = None
    loss: str = setting("mse", choice(*LOSSES))

    name: ClassVar[str] = "rule"
    online: ClassVar[bool] = True

    def __post_init__(self):
        validate_fields(self)  # every field declared with plastix.validation.setting
        if self.trainable is not None:
            object.__setattr__(self, "trainable", tuple(self.trainable))
            probe = self.model.init(jax.random.key(0))
            for k in self.trainable:
                if k not in probe:
                    raise ConfigError.bad_value("trainable", k, ", ".join(probe))

    # -- state --------------------------------------------------------------------------------
    def init(self, params: dict, key: jax.Array) -> NamedTuple:
        """Rule state that lives across trials (default: none)."""
        return NoState()

    def init_carry(self, params: dict, batch_size: int, key: jax.Array) -> NamedTuple:
        """State at a trial start (default: the network's initial state)."""
        return NetworkCarry(self.model.initial_state(params, batch_size))

    # -- the work -----------------------------------------------------------------------------
    @abc.abstractmethod
    def segment(self, params, rule_state, carry, stretch: Stretch, n_total: int):
        """(carry, grads, metrics) for one stretch of a trial; see the module docstring."""

    # -- hooks (no-op defaults) ---------------------------------------------------------------
    def after_update(self, old_params: dict, new_params: dict, rule_state):
        """Called after every optimiser update; may adjust both (default: unchanged)."""
        return new_params, rule_state

    def update_state(self, rule_state, metrics: dict):
        """Called once per trial with that trial's metrics (default: unchanged)."""
        return rule_state

    def fixed_feedback(self, params: dict, rule_state):
        """The feedback matrix B (N, n_out) the rule keeps in its state (random or adaptive), or
        None when it uses W_outᵀ or no feedback; the loop records cos(W_out, Bᵀ) from it."""
        return None

    # -- shared helpers -----------------------------------------------------------------------
    def restrict(self, grads: dict) -> dict:
        """Zero the gradients of parameters that are not trained and of masked connections."""
        grads = self.model.mask_grads(grads)
        if self.trainable is None:
            return grads
        return {k: (g if k in self.trainable else jnp.zeros_like(g)) for k, g in grads.items()}

    def trial_grads(self, params: dict, trial: Trial, key: jax.Array, rule_state=None):
        """Gradient estimate and metrics for one batch of whole trials."""
        if rule_state is None:
            rule_state = self.init(params, jax.random.fold_in(key, 2))
        carry, stretch = begin_trial(self, params, trial, key)
        _, grads, metrics = self.segment(params, rule_state, carry, stretch, trial.n_steps)
        return grads, metrics


def begin_trial(rule: Rule, params: dict, trial: Trial, key: jax.Array) -> tuple[Any, Stretch]:
    """The carry at the trial's start and the whole trial as a :class:`Stretch` (keys as above)."""
    noise = rule.model.sample_noise(key, trial.n_steps, trial.batch_size)
    carry = rule.init_carry(params, trial.batch_size, jax.random.fold_in(key, 1))
    return carry, Stretch(trial.inputs, trial.targets, trial.mask, noise)


@dataclass(frozen=True)
class OnlineRule(Rule):
    """A rule with a public per-step update; ``segment`` scans it (override for a fused path)."""

    @abc.abstractmethod
    def step(self, params, rule_state, carry, x_t, target_t, mask_t, noise_t, n_total: int):
        """(carry, grads, metrics) for one time step (arrays (B, ·))."""

    def segment(self, params, rule_state, carry, stretch: Stretch, n_total: int):
        def body(c, xs):
            carry, grads, metrics = c
            carry, g, m = self.step(params, rule_state, carry, *xs, n_total)
            return (carry, add_trees(grads, g), add_trees(metrics, m)), None

        first = jax.tree_util.tree_map(lambda a: a[0], stretch)
        _, g0, m0 = jax.eval_shape(lambda: self.step(params, rule_state, carry, *first, n_total))
        zeros = lambda tree: jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), tree)  # noqa: E731
        (carry, grads, metrics), _ = jax.lax.scan(body, (carry, zeros(g0), zeros(m0)), tuple(stretch))
        return carry, self.restrict(fill_grads(params, grads)), metrics


# --------------------------------------------------------------------------------------------
# Feedback matrices
# --------------------------------------------------------------------------------------------
def random_feedback(key: jax.Array, n_rec: int, n_out: int, scale: float, dtype) -> jax.Array:
    """B_ij ~ N(0, scale²), fixed for the life of the network (Murray 2019, Methods)."""
    return scale * jax.random.normal(key, (n_rec, n_out), dtype=dtype)


def init_feedback(model, params: dict, key: jax.Array, feedback: str, scale: float):
    """The rule state of a rule with ``feedback`` "symmetric" (none) or "random" (B, scale σ_B)."""
    if feedback == "random":
        return FeedbackState(random_feedback(key, model.n_rec, model.n_out, scale, params["w_rec"].dtype))
    return NoState()


@dataclass(frozen=True)
class TraceRule(OnlineRule):
    """Forward-mode rules: traces of ∂h/∂θ carried forward in time, read out by a learning signal.

    Subclasses give ``init_traces``, ``update_traces`` and ``trace_grads``; the scan over time,
    the learning signal ε(t)ᵀ·(feedback)ᵀ, the exact readout gradient and the accumulation of
    gradient contributions live here once.  Traces are any pytree; ``trace_grads`` returns a
    dict of gradient contributions for the parameters the traces estimate.
    """

    feedback: str = setting("symmetric", choice(*FEEDBACK_KINDS))
    feedback_scale: float = setting(1.0, positive())

    @abc.abstractmethod
    def init_traces(self, params: dict, batch_size: int):
        """Traces at a trial start."""

    @abc.abstractmethod
    def update_traces(self, params: dict, traces, aux, x_prev):
        """Traces after one step (``params`` are effective weights, ``aux`` the model's step aux)."""

    @abc.abstractmethod
    def trace_grads(self, params: dict, traces, signal, n_total: int) -> dict:
        """This step's gradient contributions from the traces and the learning signal (B, N)."""

    def init(self, params, key):
        return init_feedback(self.model, params, key, self.feedback, self.feedback_scale)

    def fixed_feedback(self, params, rule_state):
        return rule_state.feedback if self.feedback == "random" else None

    def feedback_matrix(self, eff: dict, rule_state):
        """The matrix that carries the output error to the units: W_outᵀ or the fixed B."""
        return eff["w_out"].T if self.feedback == "symmetric" else rule_state.feedback

    def init_carry(self, params, batch_size, key):
        x_prev = jnp.zeros((batch_size, self.model.n_in), params["w_rec"].dtype)
        return TraceCarry(self.model.initial_state(params, batch_size), x_prev, self.init_traces(params, batch_size))

    def _step(self, eff, fb, carry: TraceCarry, x_t, target_t, mask_t, noise_t, n_total):
        h, aux = self.model.step(eff, carry.h, x_t, noise_t)
        traces = self.update_traces(eff, carry.traces, aux, carry.x_prev)
        err = output_error(aux.y, target_t, mask_t, self.loss)
        grads = {**self.trace_grads(eff, traces, err @ fb.T, n_total), **readout_grads(eff, err, h, n_total)}
        metrics = {"loss": loss_value(aux.y, target_t, mask_t, n_total, self.loss)}
        return TraceCarry(h, x_t, traces), grads, metrics

    def step(self, params, rule_state, carry, x_t, target_t, mask_t, noise_t, n_total):
        eff = self.model.effective(params)
        carry, grads, metrics = self._step(eff, self.feedback_matrix(eff, rule_state), carry, x_t, target_t,
                                           mask_t, noise_t, n_total)
        return carry, self.restrict(fill_grads(params, grads)), metrics

    def segment(self, params, rule_state, carry, stretch: Stretch, n_total: int):
        # The effective weights and the feedback matrix once per stretch, not per step.
        eff = self.model.effective(params)
        fb = self.feedback_matrix(eff, rule_state)

        def body(c, xs):
            carry, grads, loss = c
            carry, g, m = self._step(eff, fb, carry, *xs, n_total)
            return (carry, add_trees(grads, g), loss + m["loss"]), None

        first = jax.tree_util.tree_map(lambda a: a[0], stretch)
        _, g0, _ = jax.eval_shape(lambda: self._step(eff, fb, carry, *first, n_total))
        zero = jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), g0)
        init = (carry, zero, jnp.zeros((), params["w_rec"].dtype))
        (carry, grads, loss), _ = jax.lax.scan(body, init, tuple(stretch))
        return carry, self.restrict(fill_grads(params, grads)), {"loss": loss}

r"""Reward-based perturbation learning: weight perturbation (WP), node perturbation (NP) and the
variants WP0 and HP (Züge, Klos & Memmesheimer, Phys. Rev. X 13, 021006, 2023).

Each update compares the loss of a trial run with a random perturbation with a baseline loss and
correlates the difference with the perturbation.  With the trial loss L (``rules/base.py``:
L = 1/(2T) Σ_t Σ_k m (y* − y)², batch mean; or cross-entropy) and R = −L, the paper's update is
ΔW = η (R_pert − R_base) e / σ²; a plastix rule returns the gradient estimate

    ĝ = (L_pert − L_base) e / σ²          (so that SGD, W ← W − η ĝ, is the paper's update)   (0)

**WP** (weight perturbation).  Every trainable weight gets ξ^W ~ N(0, σ_W²), drawn once per
trial and held for the whole trial; e = ξ^W:

    ĝ_WP = (L(W + ξ^W) − L(W)) ξ^W / σ_W²                                                   (1)

**NP** (node perturbation).  Every unit receives white noise ξ_i(t) ~ N(0, σ²) at every time step
in its *input current* (pre-activation); for the rate RNN that is u_i(t) of the recurrent units
and y_k(t) of the (linear) output units.  The eligibility of w_ij is the noise of the
postsynaptic unit times the presynaptic activity r_j(t) that multiplies w_ij:

    e_ij = Σ_{t,b} ξ_i(t,b) r_j(t,b),   e_bias_i = Σ_{t,b} ξ_i(t,b),   ĝ_NP = δL e / σ²          (2)

For the RNN: r = h(t−1) for W, x(t) for W_in, h(t) for W_out, read from the perturbed run (what
the synapse sees).  The perturbation dimension is (units × T × batch): it grows with trial
length and batch size, WP's does not — the paper's central point.

**WP0**: WP with the update of every weight whose presynaptic activity is identically zero in the
trial set to zero (``mask_zero_input=True``).  **HP** (hybrid): WP's perturbation with an NP-style
eligibility built from the node perturbation the weights induce, ζ_i(t) = Σ_j ξ^W_ij r_j(t):

    e^HP_ij = Σ_{t,b} ζ_i(t,b) r_j(t,b)  (= T ξ^W S for a linear readout, S = X Xᵀ/T)            (3)

HP's expected update is T·∇L·S, a gradient preconditioned by S: biased for inhomogeneous inputs,
and its learning rate must be ≈ 1/(T α²) times WP's (``theory.perturbation.optimal_lr``).

**Perturbation size** (``match``).  The paper compares rules at equal per-time-step output
perturbation σ_eff.  With ``match="node"`` (default) ``sigma`` is σ_eff: NP uses σ = σ_eff and WP,
WP0, HP use per layer

    σ_W = σ_eff / sqrt(tr S),   tr S = mean_{t,b} Σ_j r_j(t,b)²  (+1 for a trained bias)         (4)

so that the induced node perturbation ζ_i(t) has time-averaged variance σ_eff².  tr S is measured
on the unperturbed run (it must not depend on ξ), from the trained weights' presynaptic activity
only.  With ``match="none"`` ``sigma`` is the per-weight SD itself.

**Baseline** (``baseline``).  ``"paired"`` (the paper's reference mode): L_base is the loss of the
same trial run again without perturbation (two forward passes per update; the network's state
follows the unperturbed run).  ``"running_mean"``: one perturbed pass, L_base = L̄, an exponential
average of past perturbed losses, L̄ ← L̄ + κ (L_pert − L̄) with κ = ``baseline_rate``, kept in
``rule_state.baseline`` and updated once per trial by :meth:`PerturbationRule.update_state`
(the Trainer does this; see caveats).  Any baseline that does not depend on the current ξ leaves (0) unbiased to O(σ²); a poor
one only adds variance.

**Reward** (``reward``).  ``"batch"`` (as in the paper's minibatch experiments): one perturbation
of the weights per update, shared by the batch, one scalar δL = batch-mean difference.
``"per_example"``: every example gets its own perturbation and its own δL, and the B estimates
are averaged (B-fold lower variance, B independent weight copies for WP).

**Expectation.**  For a quadratic loss (linear readout, MSE) ĝ_WP and ĝ_NP are exactly unbiased:
E[δL ξ]/σ² = ∇L, because the second-order term ½ ξᵀHξ is even in ξ.  For nonlinear networks the
bias is O(σ²).  Their variance is O((perturbation dimension) · |∇L|²), which is what the theory in
``plastix.theory.perturbation`` quantifies.

**Models.**  WP with ``match="none"`` works on any model with ``run`` (like BPTT).  NP, WP0, HP and
``match="node"`` need to know which presynaptic activity drives which weight: supported are
:class:`plastix.models.RateRNN` (adapter below; NP perturbs the units' input current u(t), not the
rate) and any model with ``perturbation_layers()`` and ``run_node_perturbed(...)`` such as
:class:`plastix.readout.LinearReadout`.

Online use (``segment``): each stretch is perturbed and scored on its own, from the state the
unperturbed run reached (like truncated BPTT).

Caveats.  (i) The running mean starts empty (NaN): the first trial makes no update and only sets
L̄.  ``plastix.training.Trainer`` calls :meth:`update_state` once per trial (for an online trial,
with the perturbed losses of its stretches summed); in a loop of your own, use :meth:`update`.
(ii) The perturbations come from the key in the carry (``init_carry``'s key: the trial's own,
``fold_in(trial key, 1)``), split once per stretch.  (iii) Float32 resolves loss
differences down to ~1e-7 of the loss: keep σ_eff ≳ 1e-4 in float32 (the paper's "negligible"
σ_eff = 1e-10 needs float64).  (iv) Temporally correlated NP noise (the paper's §4.4) is not
implemented: its estimator is not specified publicly and Σ_t ξ(t) x(t) with coloured ξ is a
preconditioned, not an unbiased, gradient.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple, final

import jax
import jax.numpy as jnp

from ..errors import ConfigError
from ..validation import boolean, choice, number, positive, setting
from ..models.layers import PerturbationLayer
from ..models.rate import RateRNN
from ..tasks.base import Trial
from .base import NoState, Rule, Stretch, loss_value

BASELINES = ("paired", "running_mean")
MATCHES = ("node", "none")
REWARDS = ("batch", "per_example")


# --------------------------------------------------------------------------------------------
# Where perturbations enter a model
# --------------------------------------------------------------------------------------------
def _rate_rnn_layers(model: RateRNN) -> tuple[PerturbationLayer, ...]:
    return (
        PerturbationLayer("rec", model.n_rec, (("w_rec", "h_prev"), ("w_in", "x"), ("b_rec", None))),
        PerturbationLayer("out", model.n_out, (("w_out", "h"), ("b_out", None))),
    )


def _rate_rnn_run_node_perturbed(model: RateRNN, params, inputs, node_noise, h_init=None, noise=None):
    """RateRNN run with ξ_rec(t) added to u(t) and ξ_out(t) to y(t).

    Uses the model's own step: the per-step noise enters as a time-varying bias (``step`` adds
    ``b_rec`` to u and ``b_out`` to y), so the dynamics are written once, in ``models/rate.py``.
    """
    eff = model.effective(params)
    if h_init is None:
        h_init = model.initial_state(params, inputs.shape[1])
    b_rec = eff.get("b_rec", 0.0)
    b_out = eff.get("b_out", 0.0)
    xi_rec = node_noise.get("rec")
    xi_out = node_noise.get("out")

    def body(h, xs):
        x_t, noise_t, rec_t, out_t = xs
        p = dict(eff)
        if rec_t is not None:
            p["b_rec"] = b_rec + rec_t
        if out_t is not None:
            p["b_out"] = b_out + out_t
        return model.step(p, h, x_t, noise_t)

    return jax.lax.scan(body, h_init, (inputs, noise, xi_rec, xi_out))


def perturbation_layers(model) -> tuple[PerturbationLayer, ...] | None:
    """The model's perturbation layers, or None when plastix does not know them."""
    if hasattr(model, "perturbation_layers"):
        return tuple(model.perturbation_layers())
    if isinstance(model, RateRNN):
        return _rate_rnn_layers(model)
    return None


def run_node_perturbed(model, params, inputs, node_noise: dict, h_init=None, noise=None):
    """Run ``model`` with node noise ``{layer.nodes: (T, B, size)}`` added to its units' input."""
    if hasattr(model, "run_node_perturbed"):
        return model.run_node_perturbed(params, inputs, node_noise, h_init=h_init, noise=noise)
    if isinstance(model, RateRNN):
        return _rate_rnn_run_node_perturbed(model, params, inputs, node_noise, h_init, noise)
    raise ConfigError.bad_value("model", type(model).__name__, "RateRNN or a model with run_node_perturbed()")


def _presynaptic(aux, field_name: str | None, inputs):
    """Presynaptic activity (T, B, P) of a weight; None (bias) gives ones (T, B, 1)."""
    if field_name is None:
        return jnp.ones(inputs.shape[:2] + (1,), inputs.dtype)
    if field_name == "x":
        return inputs
    return getattr(aux, field_name)


# --------------------------------------------------------------------------------------------
# Loss differences without cancellation
# --------------------------------------------------------------------------------------------
def loss_difference(y_pert, y_base, targets, mask, n_total: int, loss: str = "mse"):
    """L(y_pert) − L(y_base), summed element by element (not as a difference of two totals).

    For MSE it uses ½(ε_p² − ε_b²) = −½ m Δy (ε_p + ε_b), so a small Δy is not lost against a
    large loss; for cross-entropy the per-element log-softmax differences are summed.
    """
    batch = y_pert.shape[-2]
    if loss == "xent":
        diff = jax.nn.log_softmax(y_pert, axis=-1) - jax.nn.log_softmax(y_base, axis=-1)
        return -jnp.sum(mask * targets * diff) / (n_total * batch)
    err_p = mask * (targets - y_pert)
    err_b = mask * (targets - y_base)
    return -0.5 * jnp.sum(mask * (y_pert - y_base) * (err_p + err_b)) / (n_total * batch)


# --------------------------------------------------------------------------------------------
# Shared machinery
# --------------------------------------------------------------------------------------------
class BaselineState(NamedTuple):
    """The running-mean baseline L̄ (NaN until the first trial)."""

    baseline: jax.Array


class PerturbationCarry(NamedTuple):
    """The network state and the key the next stretch draws its perturbation from."""

    h: Any
    key: jax.Array


@dataclass(frozen=True)
class PerturbationRule(Rule):
    """Abstract common part of WP, NP, WP0, HP: keys, baselines, per-example rewards, segments."""

    sigma: float = setting(1e-2, positive())  # a JAX scalar passes unchecked: a traced σ (one compilation per sweep)
    match: str = setting("node", choice(*MATCHES))
    baseline: str = setting("paired", choice(*BASELINES))
    baseline_rate: float = setting(0.05, number(0, 1, low_open=True))
    reward: str = setting("batch", choice(*REWARDS))

    needs_layers: ClassVar[bool] = True

    def __post_init__(self):
        super().__post_init__()
        if (self.needs_layers or self.match == "node") and perturbation_layers(self.model) is None:
            raise ConfigError.bad_value(
                "model", type(self.model).__name__,
                f"RateRNN or a model with perturbation_layers() for rule {self.name}"
                + (" (or match='none')" if not self.needs_layers else ""),
            )

    # -- state --------------------------------------------------------------------------------
    def init(self, params, key):
        if self.baseline == "running_mean":
            dtype = jax.tree_util.tree_leaves(params)[0].dtype
            return BaselineState(jnp.full((), jnp.nan, dtype))  # NaN: no baseline yet
        return NoState()

    def init_carry(self, params, batch_size, key):
        return PerturbationCarry(self.model.initial_state(params, batch_size), key)

    def update(self, params, trial: Trial, key, rule_state):
        """``trial_grads`` plus the new rule state (running-mean baseline): (grads, metrics, state)."""
        grads, metrics = self.trial_grads(params, trial, key, rule_state)
        return grads, metrics, self.update_state(rule_state, metrics)

    def update_state(self, rule_state, metrics):
        """L̄ ← L̄ + κ (L_pert − L̄); the first trial sets L̄ = L_pert."""
        if self.baseline != "running_mean":
            return rule_state
        old = rule_state.baseline
        new_value = metrics["loss_perturbed"]
        return BaselineState(jnp.where(jnp.isnan(old), new_value, old + self.baseline_rate * (new_value - old)))

    # -- one stretch --------------------------------------------------------------------------
    def segment(self, params, rule_state, carry, stretch: Stretch, n_total):
        key, draw_key = jax.random.split(carry.key)
        inputs, targets, mask, noise = stretch
        base = self._stretch_baseline(rule_state, inputs.shape[0], n_total)
        if self.reward == "batch":
            z = self.draw(draw_key, params, inputs.shape[0], inputs.shape[1])
            h, grads, metrics = self.estimate(params, carry.h, inputs, targets, mask, noise, z, n_total, base)
        else:
            h, grads, metrics = self._per_example(params, carry.h, inputs, targets, mask, noise, draw_key,
                                                  n_total, base)
        return PerturbationCarry(h, key), self.restrict(grads), metrics

    def _stretch_baseline(self, rule_state, n_steps, n_total):
        if self.baseline != "running_mean":
            return None
        # The stored L̄ is a whole-trial loss; a stretch of k steps gets the share k/T of it.
        return rule_state.baseline * (n_steps / n_total)

    def _per_example(self, params, h, inputs, targets, mask, noise, key, n_total, base):
        batch = inputs.shape[1]
        keys = jax.random.split(key, batch)
        add_batch = lambda a: a[None]  # noqa: E731  (B-less pytree leaf -> batch of one)

        def one(h_b, x_b, t_b, m_b, n_b, k_b):
            z = self.draw(k_b, params, x_b.shape[0], 1)
            h_b = jax.tree_util.tree_map(add_batch, h_b)
            ex = lambda a: None if a is None else a[:, None]  # noqa: E731
            h_new, grads, metrics = self.estimate(params, h_b, ex(x_b), ex(t_b), ex(m_b), ex(n_b), z, n_total, base)
            return jax.tree_util.tree_map(lambda a: a[0], h_new), grads, metrics

        n_axis = None if noise is None else 1
        h_new, grads, metrics = jax.vmap(one, in_axes=(0, 1, 1, 1, n_axis, 0))(h, inputs, targets, mask, noise, keys)
        mean = lambda a: jnp.mean(a, axis=0)  # noqa: E731
        return h_new, jax.tree_util.tree_map(mean, grads), jax.tree_util.tree_map(mean, metrics)

    def _delta(self, y_pert, y_base, targets, mask, n_total, base):
        """δL and the loss the network produced, for the chosen baseline."""
        loss_pert = loss_value(y_pert, targets, mask, n_total, self.loss)
        if self.baseline == "paired":
            delta = loss_difference(y_pert, y_base, targets, mask, n_total, self.loss)
            return delta, loss_value(y_base, targets, mask, n_total, self.loss), loss_pert
        delta = jnp.where(jnp.isnan(base), 0.0, loss_pert - base)
        return delta, loss_pert, loss_pert

    def _trained(self, params) -> list[str]:
        return [k for k in params if self.trainable is None or k in self.trainable]

    @abc.abstractmethod
    def draw(self, key, params, n_steps, batch_size):
        """Unit normals z of this stretch's perturbation."""

    @abc.abstractmethod
    def estimate(self, params, h_init, inputs, targets, mask, noise, z, n_total, base=None):
        """(state after the stretch, gradient estimate, metrics) for the perturbation σ·z."""


# --------------------------------------------------------------------------------------------
# Weight perturbation, WP0, HP
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WeightPerturbationFamily(PerturbationRule):
    """Abstract: a Gaussian perturbation of every trained weight, held for the trial; the
    eligibility is ξ itself (WP, Eq. 1) or the induced node perturbation's (HP, Eq. 3)."""

    mask_zero_input: bool = setting(False, boolean())

    needs_layers: ClassVar[bool] = False

    @property
    @abc.abstractmethod
    def eligibility(self) -> str:
        """"weight": e = ξ (WP, Eq. 1); "induced": the induced node perturbation's (HP, Eq. 3)."""

    def __post_init__(self):
        super().__post_init__()
        if (self.mask_zero_input or self.eligibility == "induced") and perturbation_layers(self.model) is None:
            raise ConfigError.bad_value("model", type(self.model).__name__,
                                        f"RateRNN or a model with perturbation_layers() for rule {self.name}")

    def draw(self, key, params, n_steps, batch_size):
        """Unit normals z shaped like every trained parameter (ξ = σ_W z)."""
        names = self._trained(params)
        keys = jax.random.split(key, len(names))
        return {k: jax.random.normal(kk, params[k].shape, params[k].dtype) for k, kk in zip(names, keys)}

    def weight_sigmas(self, params, aux_ref, inputs) -> dict:
        """σ_W per trained parameter: ``sigma`` (match='none') or Eq. 4 per layer (match='node')."""
        names = self._trained(params)
        if self.match == "none":
            return {k: jnp.asarray(self.sigma, params[k].dtype) for k in names}
        sigmas = {}
        for layer in perturbation_layers(self.model):
            members = [(p, f) for p, f in layer.weights if p in params and p in names]
            if not members:
                continue
            power = sum(jnp.mean(jnp.sum(_presynaptic(aux_ref, f, inputs) ** 2, axis=-1)) for _, f in members)
            sigma_w = self.sigma / jnp.sqrt(jnp.maximum(power, jnp.finfo(power.dtype).tiny))
            sigmas.update({p: sigma_w for p, _ in members})
        for k in names:  # trained parameters outside every layer keep the raw σ
            sigmas.setdefault(k, jnp.asarray(self.sigma, params[k].dtype))
        return sigmas

    def _needs_reference_run(self) -> bool:
        if self.baseline == "paired":
            return True
        if self.match == "none":
            return False
        # Presynaptic activity other than the input depends on the weights: it needs a run.
        return any(f not in (None, "x") for layer in perturbation_layers(self.model) for _, f in layer.weights)

    def estimate(self, params, h_init, inputs, targets, mask, noise, z, n_total, base=None):
        model = self.model
        aux_ref, y_ref, h_ref = None, None, None
        if self._needs_reference_run():
            h_ref, aux_ref = model.run(params, inputs, h_init=h_init, noise=noise)
            y_ref = aux_ref.y
        sigmas = self.weight_sigmas(params, aux_ref, inputs)
        xi = model.mask_grads({k: sigmas[k] * z[k] for k in z})
        perturbed = {k: (v + xi[k] if k in xi else v) for k, v in params.items()}
        h_pert, aux_pert = model.run(perturbed, inputs, h_init=h_init, noise=noise)
        delta, loss_ref, loss_pert = self._delta(aux_pert.y, y_ref, targets, mask, n_total, base)
        if self.eligibility == "induced":
            elig = self._induced_eligibility(params, xi, aux_pert, inputs)
        else:
            elig = xi
        grads = {k: delta * elig[k] / sigmas[k] ** 2 for k in xi}
        if self.mask_zero_input:
            grads = self._zero_input_mask(grads, aux_ref if aux_ref is not None else aux_pert, inputs)
        grads = {k: grads.get(k, jnp.zeros_like(v)) for k, v in params.items()}
        h_next = h_ref if self.baseline == "paired" else h_pert
        metrics = {"loss": loss_ref, "loss_perturbed": loss_pert, "delta_loss": delta}
        return h_next, grads, metrics

    def _zero_input_mask(self, grads, aux, inputs):
        """WP0: no update for weights whose presynaptic activity is zero throughout the trial."""
        out = dict(grads)
        for layer in perturbation_layers(self.model):
            for p, f in layer.weights:
                if p in out and f is not None:
                    active = jnp.any(_presynaptic(aux, f, inputs) != 0, axis=(0, 1))
                    out[p] = out[p] * active[None, :].astype(out[p].dtype)
        return out

    def _induced_eligibility(self, params, xi, aux, inputs):
        """HP (Eq. 3): e = Σ_{t,b} ζ(t) r(t)ᵀ with ζ the node perturbation the weights induce."""
        elig = {}
        for layer in perturbation_layers(self.model):
            members = [(p, f) for p, f in layer.weights if p in xi]
            if not members:
                continue
            pre = {p: _presynaptic(aux, f, inputs) for p, f in members}
            induced = sum(jnp.einsum("tbj,ij->tbi", pre[p], xi[p].reshape(layer.size, -1)) for p, _ in members)
            for p, f in members:
                e = jnp.einsum("tbi,tbj->ij", induced, pre[p])
                elig[p] = e.reshape(xi[p].shape)
        return elig


@final
@dataclass(frozen=True)
class WeightPerturbation(WeightPerturbationFamily):
    """WP: one Gaussian perturbation of every trained weight, held for the trial (Eq. 1)."""

    name: ClassVar[str] = "wp"
    eligibility: ClassVar[str] = "weight"


@final
@dataclass(frozen=True)
class HybridPerturbation(WeightPerturbationFamily):
    """HP: WP's weight perturbation, NP-style eligibility of the induced node perturbation (Eq. 3)."""

    name: ClassVar[str] = "hp"
    eligibility: ClassVar[str] = "induced"


# --------------------------------------------------------------------------------------------
# Node perturbation
# --------------------------------------------------------------------------------------------
@final
@dataclass(frozen=True)
class NodePerturbation(PerturbationRule):
    """NP: white noise on every unit's input current at every step; e = Σ_t ξ(t) r(t)ᵀ (Eq. 2)."""

    name: ClassVar[str] = "np"

    def _layers(self, params):
        """Layers with at least one trained weight (only their units are perturbed)."""
        names = set(self._trained(params))
        return [layer for layer in perturbation_layers(self.model)
                if any(p in params and p in names for p, _ in layer.weights)]

    def draw(self, key, params, n_steps, batch_size):
        """Unit normals z per perturbed layer, (T, B, size) (ξ = σ z)."""
        layers = self._layers(params)
        keys = jax.random.split(key, max(len(layers), 1))
        dtype = jax.tree_util.tree_leaves(params)[0].dtype
        return {layer.nodes: jax.random.normal(k, (n_steps, batch_size, layer.size), dtype)
                for layer, k in zip(layers, keys)}

    def estimate(self, params, h_init, inputs, targets, mask, noise, z, n_total, base=None):
        model = self.model
        y_ref, h_ref = None, None
        if self.baseline == "paired":
            h_ref, aux_ref = model.run(params, inputs, h_init=h_init, noise=noise)
            y_ref = aux_ref.y
        xi = {k: self.sigma * v for k, v in z.items()}
        h_pert, aux_pert = run_node_perturbed(model, params, inputs, xi, h_init=h_init, noise=noise)
        delta, loss_ref, loss_pert = self._delta(aux_pert.y, y_ref, targets, mask, n_total, base)
        names = set(self._trained(params))
        grads = {}
        for layer in self._layers(params):
            for p, f in layer.weights:
                if p not in params or p not in names:
                    continue
                elig = jnp.einsum("tbi,tbj->ij", xi[layer.nodes], _presynaptic(aux_pert, f, inputs))
                grads[p] = delta * elig.reshape(params[p].shape) / self.sigma**2
        grads = {k: grads.get(k, jnp.zeros_like(v)) for k, v in params.items()}
        h_next = h_ref if self.baseline == "paired" else h_pert
        metrics = {"loss": loss_ref, "loss_perturbed": loss_pert, "delta_loss": delta}
        return h_next, grads, metrics


__all__ = [
    "WeightPerturbation", "NodePerturbation", "HybridPerturbation", "PerturbationRule", "WeightPerturbationFamily",
    "PerturbationLayer", "BaselineState", "PerturbationCarry",
    "perturbation_layers", "run_node_perturbed", "loss_difference",
]

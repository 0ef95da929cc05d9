"""Contrastive learning (Baldi & Pineda 1991) and the rules that are special cases of it.

Maths
-----
Free phase: inputs clamped, relax to V^f, a minimum of E.  Teacher phase: relax (from V^f) to V^t,
a minimum of the teacher energy E^t = E + T_gamma.  The **contrast function** is

    C(theta) = E^t(V^t; theta) - E(V^f; theta).                                           (1)

Because dE/dV = 0 at both fixed points (on the free units) the envelope theorem gives

    dC/dtheta = dE/dtheta |_{V^t} - dE/dtheta |_{V^f}                                      (2)

(T_gamma does not depend on theta), with no dV/dtheta: for the energy of ``models/energy.py``

    dC/dW_ij = -(V^t_i V^t_j - V^f_i V^f_j),     dC/db_i = -(V^t_i - V^f_i)                 (3)

— Hebbian in the teacher phase, anti-Hebbian in the free phase.  The rule returns (2) (divided
by gamma when ``normalize``) as a *gradient estimate*: an optax optimiser turns it into
Delta theta = -eta dC/dtheta.

Teacher schemes (``scheme``):

* ``"hard_clamp"``: outputs clamped to the targets (DBM, CHL; the gamma -> infinity limit of the next).
* ``"soft_clamp"``: T_gamma = gamma/2 ||V_out - target||^2 (force gamma (target - V_out)).
  With ``normalize=True`` and gamma = beta -> 0 this is Equilibrium Propagation (Scellier & Bengio
  2017): (2)/beta -> dJ/dtheta, J = 1/2 ||V^f_out - target||^2.
* ``"input_current"``: T_gamma = -gamma (target - m) . V_out, a constant extra input current on the
  outputs (m: middle of the unit range).  C is not bounded below.
* ``"interpolated"``: outputs clamped to V^f_out + gamma (target - V^f_out) (0 < gamma <= 1; the
  "nudged target" of coupled learning).

Sign of the nudge (``sign``, only with ``normalize``): ``"+"``, ``"-"`` (gamma -> -gamma),
``"random"`` (a random sign per call, Scellier & Bengio's regulariser) and ``"centered"``
(two teacher phases at +-gamma, estimate (dE/dtheta|_{V^{+}} - dE/dtheta|_{V^{-}}) / (2 gamma);
its bias is O(gamma^2) instead of O(gamma), Laborieux et al. 2021).

Presets: ``chl`` (Movellan 1991: logistic units, hard clamp), ``dbm`` (Peterson & Anderson 1987,
Hinton 1989: tanh units, hard clamp, mean-field annealing in both phases; (2) is then the gradient
of G = F^+(V^+) - F^-(V^-), F the mean-field free energy), ``eqprop`` (hard sigmoid, soft clamp,
normalised) and ``baldi_pineda`` (any scheme, not normalised).

Caveats
-------
* (2) is the exact gradient of (1) only when both phases are converged and neither changes basin
  under a small change of theta (tests: finite differences in float64).  With local minima C can
  be negative and jump (the "CL curves" of Baldi & Pineda; Movellan's failure mode of CHL).
* For ``"interpolated"`` the clamp values depend on V^f and hence on theta; (2) is the gradient of
  (1) with those clamp values held fixed (as in coupled learning), not the total derivative.
* EqProp's estimate has a bias O(beta) (one-sided) or O(beta^2) (centered) against the true
  gradient; ``rbp.RecurrentBackprop`` gives the exact one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp

from ..errors import ConfigError, check_choice, check_positive
from ..models.energy import FixedPointNet, Relaxed, anneal, unit_range

SCHEMES = ("hard_clamp", "soft_clamp", "input_current", "interpolated")
SIGNS = ("+", "-", "random", "centered")


def accuracy(net: FixedPointNet, outputs, target):
    """Fraction of examples classified correctly: argmax for several outputs, else the side of
    the middle of the unit range."""
    if outputs.shape[-1] > 1:
        return jnp.mean(jnp.argmax(outputs, -1) == jnp.argmax(target, -1))
    mid = sum(unit_range(net.activation)) / 2
    return jnp.mean((outputs[..., 0] > mid) == (target[..., 0] > mid))


@dataclass(frozen=True)
class ContrastiveRule:
    """A contrastive rule: two relaxations, then the difference of Hebbian terms (eq. 2).

    ``free_iter``/``teacher_iter`` cap the iterations of each phase (EqProp runs a short,
    unconverged teacher phase); ``tol`` is the convergence criterion of both.  ``temperatures``
    switches on mean-field annealing (DBM) with ``anneal_iter`` steps per temperature.
    """

    net: FixedPointNet
    scheme: str = "soft_clamp"
    gamma: float = 1.0
    normalize: bool = False
    sign: str = "+"
    free_iter: int | None = None
    teacher_iter: int | None = None
    tol: float | None = None
    eps: float | None = None
    temperatures: tuple[float, ...] | None = None
    anneal_iter: int = 10
    name: str = dataclasses.field(default="cl", compare=False)  # a label: not part of the compiled identity

    def __post_init__(self):
        check_choice("scheme", self.scheme, SCHEMES)
        check_choice("sign", self.sign, SIGNS)
        if self.scheme != "hard_clamp":
            check_positive("gamma", self.gamma)
        if self.scheme == "interpolated" and not 0 < self.gamma <= 1:
            raise ConfigError.bad_value("gamma", self.gamma, "0 < gamma <= 1 for the interpolated scheme")
        if self.sign != "+" and not self.normalize:
            raise ConfigError.bad_value("sign", self.sign, "'+' unless normalize=True (EqProp-style rules)")
        if self.sign != "+" and self.scheme in ("hard_clamp", "interpolated"):
            raise ConfigError.bad_value("sign", self.sign, f"'+' for the {self.scheme} scheme")
        if self.normalize and self.scheme == "hard_clamp":
            raise ConfigError.bad_value("normalize", True, "False for the hard_clamp scheme (no gamma)")
        if self.temperatures is not None:
            temps = tuple(float(t) for t in self.temperatures)
            if not temps or any(t <= 0 for t in temps):
                raise ConfigError.bad_value("temperatures", self.temperatures, "a non-empty sequence of positive numbers")
            object.__setattr__(self, "temperatures", temps)
        for field in ("free_iter", "teacher_iter"):
            if getattr(self, field) is not None:
                check_positive(field, getattr(self, field), integer=True)

    # -- phases -------------------------------------------------------------------------------------
    def _relax(self, params, V0, clamp, target=None, strength=0.0, nudge="squared", max_iter=None):
        net = self.net
        kw = dict(eps=self.eps, tol=self.tol, max_iter=max_iter)
        if self.temperatures is None:
            return net.relax(params, V0, clamp, target, strength, nudge, **kw)
        return anneal(net, params, V0, clamp, jnp.asarray(self.temperatures), self.anneal_iter, target, strength,
                      nudge, self.eps, self.tol, None if max_iter is None else int(max_iter))

    @property
    def final_temperature(self):
        return self.net.temperature if self.temperatures is None else self.temperatures[-1]

    def free_phase(self, params, x, V_init=None) -> Relaxed:
        net = self.net
        V0 = net.initial_state(x) if V_init is None else jnp.asarray(V_init).at[..., : net.n_in].set(x)
        return self._relax(params, V0, net.input_mask(), max_iter=self.free_iter)

    def teacher_phase(self, params, V_free, target, gamma) -> Relaxed:
        """Relax from the free fixed point with the teacher on (strength ``gamma``, may be negative)."""
        net = self.net
        if self.scheme in ("hard_clamp", "interpolated"):
            Vo = V_free[..., net.out_slice]
            clamp_to = target if self.scheme == "hard_clamp" else Vo + gamma * (target - Vo)
            V0 = V_free.at[..., net.out_slice].set(clamp_to)
            V0 = V0 if self.temperatures is None else V0.at[..., net.n_in : net.out_slice.start].set(
                net.initial_state(V_free[..., : net.n_in])[..., net.n_in : net.out_slice.start])
            return self._relax(params, V0, net.input_mask() | net.output_mask(), max_iter=self.teacher_iter)
        nudge = "squared" if self.scheme == "soft_clamp" else "current"
        V0 = V_free if self.temperatures is None else self.net.initial_state(V_free[..., : net.n_in])
        return self._relax(params, V0, net.input_mask(), target, gamma, nudge, max_iter=self.teacher_iter)

    def teacher_energy(self, params, V, target, gamma):
        """E^t(V) = E(V) + T_gamma(V) (T_gamma = 0 for the clamping schemes)."""
        T = self.final_temperature
        if self.scheme in ("hard_clamp", "interpolated"):
            return self.net.energy(params, V, T)
        nudge = "squared" if self.scheme == "soft_clamp" else "current"
        return self.net.total_energy(params, V, target, gamma, nudge, T)

    def contrast(self, params, x, target, gamma=None):
        """C = E^t(V^t) - E(V^f) per example (eq. 1), with its two fixed points (free, teacher)."""
        gamma = self.gamma if gamma is None else gamma
        return _contrast(self._static(), params, x, target, jnp.asarray(gamma))

    def grads(self, params, x, target, key=None, V_init=None):
        """Gradient estimate (eq. 2, / gamma if ``normalize``) and metrics for one batch (compiled)."""
        if self.sign == "random" and key is None:
            raise ConfigError.bad_value("key", None, "a jax.random key (sign='random')")
        return _grads(self._static(), params, x, target, key, V_init, jnp.asarray(self.gamma))

    def _static(self):
        # gamma travels as a traced argument: one compilation serves every gamma.
        return self if self.gamma == 1.0 else dataclasses.replace(self, gamma=1.0)

    def predict(self, params, x):
        return self.free_phase(params, x).V[..., self.net.out_slice]


@partial(jax.jit, static_argnums=0)
def _contrast(rule: ContrastiveRule, params, x, target, gamma):
    free = rule.free_phase(params, x)
    teach = rule.teacher_phase(params, free.V, target, gamma)
    C = rule.teacher_energy(params, teach.V, target, gamma) - rule.net.energy(params, free.V, rule.final_temperature)
    return C, free, teach


@partial(jax.jit, static_argnums=0)
def _grads(rule: ContrastiveRule, params, x, target, key, V_init, gamma):
    net = rule.net
    free = rule.free_phase(params, x, V_init)
    gamma = gamma.astype(free.V.dtype)
    if rule.sign == "-":
        gamma = -gamma
    elif rule.sign == "random":
        gamma = jnp.where(jax.random.bernoulli(key), gamma, -gamma)
    teach = rule.teacher_phase(params, free.V, target, gamma)
    if rule.sign == "centered":
        other = rule.teacher_phase(params, free.V, target, -gamma)
        g_plus, g_minus = net.dE_dtheta(params, teach.V), net.dE_dtheta(params, other.V)
        grads = jax.tree_util.tree_map(lambda a, b: (a - b) / (2 * gamma), g_plus, g_minus)
    else:
        g_t, g_f = net.dE_dtheta(params, teach.V), net.dE_dtheta(params, free.V)
        scale = 1.0 / gamma if rule.normalize else 1.0
        grads = jax.tree_util.tree_map(lambda a, b: (a - b) * scale, g_t, g_f)
    out = free.V[..., net.out_slice]
    metrics = {
        "loss": jnp.mean(net.cost(free.V, target)),
        "accuracy": accuracy(net, out, target),
        "free_iter": free.n_iter,
        "teacher_iter": teach.n_iter,
        "free_residual": jnp.max(free.residual),
    }
    return grads, metrics


# -------------------------------------------------------------------------------------------------
# presets: public names are thin compositions of the generic rule
# -------------------------------------------------------------------------------------------------
def baldi_pineda(net: FixedPointNet, scheme: str = "soft_clamp", gamma: float = 1.0, **kw) -> ContrastiveRule:
    """Contrastive learning with any teacher scheme; descends C itself (not normalised)."""
    return ContrastiveRule(net, scheme=scheme, gamma=gamma, normalize=False, name=f"cl-{scheme}", **kw)


def chl(net: FixedPointNet, **kw) -> ContrastiveRule:
    """Contrastive Hebbian learning (Movellan 1991): outputs fully clamped in the '+' phase."""
    return ContrastiveRule(net, scheme="hard_clamp", name="chl", **kw)


def dbm(net: FixedPointNet, temperatures=(8.0, 4.0, 2.0, 1.0), **kw) -> ContrastiveRule:
    """Deterministic Boltzmann machine / mean-field learning: tanh (+-1) units, hard clamp,
    annealing in both phases.  dW = eta (<V_i V_j>^+ - <V_i V_j>^-)."""
    if net.activation != "tanh":
        raise ConfigError.bad_value("activation", net.activation, "tanh for the deterministic Boltzmann machine")
    return ContrastiveRule(net, scheme="hard_clamp", temperatures=tuple(temperatures), name="dbm", **kw)


def eqprop(net: FixedPointNet, beta: float = 0.5, sign: str = "random", **kw) -> ContrastiveRule:
    """Equilibrium propagation: soft clamp of strength beta, update divided by beta."""
    return ContrastiveRule(net, scheme="soft_clamp", gamma=beta, normalize=True, sign=sign, name="eqprop", **kw)

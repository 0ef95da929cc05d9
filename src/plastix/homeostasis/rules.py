r"""Homeostatic scaling rules applied once per trial: presynaptic-dependent scaling (PSD) and
standard synaptic scaling (SS), after Buonomano 2005 (J Neurophysiol 94:2275) and Liu &
Buonomano 2009 (J Neurosci 29:13172).

Maths
-----
``A_i`` is the activity of neuron ``i`` in one trial (its spike count), ``Ā_i`` a running
average of it over trials, ``A_goal`` the target activity.  Weights are ``W[post, pre]``.
After every trial::

    running average   Ā_i ← Ā_i + (A_i − Ā_i) / τ_avg                       (1)
    SS  (control)     ΔW_ij = s · α · W_ij · (A_goal,i − Ā_i)                  (2)
    PSD               ΔW_ij = s · α · (Ā_j / c) · W_ij · (A_goal,i − Ā_i)      (3)
    bounds            W_ij ← clip(W_ij + ΔW_ij, 0, W_max)                     (4)

``s`` is +1 for excitatory synapses and −1 for the optional sign-reversed scaling of inhibitory
synapses (a neuron below its goal then *weakens* its inhibition).  ``c`` is 1 for
``pre_term="mean_rate"`` and ``A_goal`` (of the presynaptic population) for
``pre_term="normalized"``, which makes α comparable between populations with different goals.

In matrix form SS is a row rescaling, ``W ← diag(1 + sα(A_goal − Ā)) W``; PSD is the
elementwise product ``ΔW = sα ((A_goal − Ā) Āᵀ / c) ∘ W`` — the post × pre outer product that
makes the transition between consecutive weight matrices non-diagonal (Liu 2011, Neural Comput
23:3145).

How it works
------------
Both rules are pure functions ``(weights, pre_avg, post_avg, target) -> weights`` so that they
apply to any block of any plastix spiking network (E←E, I←E, E←I …); :class:`PSDScaling` and
:class:`SynapticScaling` only bundle the rate, bound and switches.  The SS function takes
``pre_avg`` and ignores it, so the two are interchangeable.

Caveats
-------
* The rules are multiplicative: a zero weight stays zero, so the connectivity pattern of the
  initial network is kept (that is how sparsity survives training), and a positive weight never
  changes sign.  The clip in (4) only matters for the upper bound and for steps with
  ``α |A_goal − Ā| > 1``.
* Under PSD a neuron whose presynaptic partners are all silent (``Ā_j = 0``) keeps its input
  weights whatever its own activity; under SS it scales them anyway.  That difference is the
  whole point of Buonomano's comparison (see docs/homeostasis.md).
* The exact forms above are the ones stated in the spec and consistent with Liu 2011's
  abstract; the 2005 paper's full Methods (e.g. whether Ā_j is normalised) could not be checked
  here, hence the ``pre_term`` switch.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp

from ..errors import ConfigError, check_choice, check_positive

PRE_TERMS = ("mean_rate", "normalized")


def running_average(average, activity, tau_trials: float):
    """Eq. (1): exponential running average over trials, ``Ā ← Ā + (A − Ā)/τ_avg``."""
    return average + (activity - average) / tau_trials


def _apply(weights, delta, w_max):
    return jnp.clip(weights + delta, 0.0, w_max)


def ss_update(weights, pre_avg, post_avg, target, *, rate, w_max=jnp.inf, sign=1.0):
    """Eq. (2)+(4): synaptic scaling.  ``pre_avg`` is accepted and ignored (same signature as PSD).

    ``weights`` is (n_post, n_pre); ``post_avg`` (n_post,); ``target`` a scalar or (n_post,).
    """
    del pre_avg
    post_factor = sign * rate * (target - post_avg)  # (n_post,)
    return _apply(weights, post_factor[:, None] * weights, w_max)


def psd_update(weights, pre_avg, post_avg, target, *, rate, w_max=jnp.inf, sign=1.0, pre_scale=1.0):
    """Eq. (3)+(4): presynaptic-dependent scaling.

    ``weights`` (n_post, n_pre); ``pre_avg`` (n_pre,); ``post_avg`` (n_post,); ``target`` a
    scalar or (n_post,); ``pre_scale`` is ``c`` in Eq. (3).
    """
    post_factor = sign * rate * (target - post_avg)  # (n_post,)
    pre_factor = pre_avg / pre_scale  # (n_pre,)
    return _apply(weights, post_factor[:, None] * pre_factor[None, :] * weights, w_max)


@dataclass(frozen=True)
class SynapticScaling:
    """Standard (postsynaptic-only) synaptic scaling, Eq. (2): the control rule.

    ``target`` is A_goal of the *postsynaptic* population (spikes per trial).
    """

    rate: float = 0.01
    target: float = 1.0
    w_max: float = float("inf")
    sign: float = 1.0

    name = "ss"

    def __post_init__(self):
        check_positive("rate", self.rate)
        check_positive("target", self.target)
        check_positive("w_max", self.w_max)
        if self.sign not in (1.0, -1.0, 1, -1):
            raise ConfigError.bad_value("sign", self.sign, "+1 (excitatory) or -1 (sign-reversed, inhibitory)")

    def __call__(self, weights, pre_avg, post_avg, pre_target: float = 1.0):
        del pre_target
        return ss_update(weights, pre_avg, post_avg, self.target, rate=self.rate, w_max=self.w_max, sign=self.sign)


@dataclass(frozen=True)
class PSDScaling:
    """Presynaptic-dependent scaling, Eq. (3) (Buonomano 2005).

    ``target`` is A_goal of the postsynaptic population.  With ``pre_term="normalized"`` the
    presynaptic average is divided by the presynaptic population's goal (``pre_target``, passed
    at call time by whoever knows which population the block comes from).
    """

    rate: float = 0.01
    target: float = 1.0
    w_max: float = float("inf")
    sign: float = 1.0
    pre_term: str = "mean_rate"

    name = "psd"

    def __post_init__(self):
        check_positive("rate", self.rate)
        check_positive("target", self.target)
        check_positive("w_max", self.w_max)
        check_choice("pre_term", self.pre_term, PRE_TERMS)
        if self.sign not in (1.0, -1.0, 1, -1):
            raise ConfigError.bad_value("sign", self.sign, "+1 (excitatory) or -1 (sign-reversed, inhibitory)")

    def __call__(self, weights, pre_avg, post_avg, pre_target: float = 1.0):
        pre_scale = pre_target if self.pre_term == "normalized" else 1.0
        return psd_update(
            weights, pre_avg, post_avg, self.target,
            rate=self.rate, w_max=self.w_max, sign=self.sign, pre_scale=pre_scale,
        )


RULES = {"psd": PSDScaling, "ss": SynapticScaling}


def get_rule(name: str, **options):
    """``get_rule("psd", rate=0.02, target=1.0, w_max=0.3)`` — a rule by name."""
    if name not in RULES:
        raise ConfigError.bad_value("rule", name, ", ".join(RULES))
    return RULES[name](**options)

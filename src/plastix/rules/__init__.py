"""Gradient estimators for sequence networks, one rule per module.

``get(name, model, **options)`` builds a rule.  Every rule returns estimates of ∂L/∂θ (the sign
an optax optimiser expects) from ``trial_grads(params, trial, key)``.
"""

from __future__ import annotations

from ..errors import ConfigError
from .base import SequenceRule, TraceRule
from .bptt import BPTT
from .rflo import RFLO, ReadoutOnly
from .rtrl import RTRL
from .perturbation import HybridPerturbation, NodePerturbation, WeightPerturbation
from .eprop import EProp, RewardEProp, SurrogateAutodiff

# name -> (class, fixed options, one-line description)
RULES: dict[str, tuple[type, dict, str]] = {
    "bptt": (BPTT, {}, "Backpropagation through time: exact gradient by autodiff (O(N·T) memory)."),
    "rtrl": (RTRL, {}, "Real-time recurrent learning: exact online gradient via the O(N³) influence tensor."),
    "rflo": (RFLO, {}, "Murray's RFLO: local eligibility traces, random feedback B (Murray 2019)."),
    "rflo_symmetric": (
        RFLO,
        {"feedback": "symmetric"},
        "RFLO 'local only': local traces with symmetric feedback W_outᵀ (Murray Fig. 2d).",
    ),
    "rflo_nonlocal": (
        RFLO,
        {"locality": "nonlocal"},
        "RFLO 'random feedback, nonlocal': full RTRL recursion with random B (Murray Fig. 2d).",
    ),
    "readout": (ReadoutOnly, {}, "Readout-only baseline: only W_out (and b_out) learn, exact gradient."),
    "wp": (WeightPerturbation, {}, "Weight perturbation: trial-constant weight noise, paired baseline (Züge et al. 2023)."),
    "np": (NodePerturbation, {}, "Node perturbation: per-step noise on each unit's input current (Züge et al. 2023)."),
    "wp0": (WeightPerturbation, {"mask_zero_input": True}, "WP0: weight perturbation skipping weights whose input is zero."),
    "hp": (HybridPerturbation, {}, "HP: weight perturbation with an NP-style (induced node noise) eligibility."),
    "eprop": (EProp, {}, "e-prop, symmetric feedback W_outᵀ: eligibility traces × learning signal (Bellec 2020)."),
    "eprop_random": (EProp, {"feedback": "random"}, "e-prop with fixed random feedback B (Bellec 2020)."),
    "eprop_adaptive": (EProp, {"feedback": "adaptive"}, "e-prop with adaptive feedback B (Kolen-Pollack, Bellec 2020)."),
    "eprop_autodiff": (SurrogateAutodiff, {}, "Symmetric e-prop as BPTT with detached recurrent spikes (spiking)."),
    "eprop_reward": (RewardEProp, {}, "Reward-based e-prop: actor-critic, last output = value (spiking; Bellec 2020)."),
}


def register(name: str, cls: type, options: dict | None = None, description: str = "") -> None:
    """Add a rule (or a named variant of one) to the registry."""
    RULES[name] = (cls, dict(options or {}), description or (cls.__doc__ or "").strip().splitlines()[0])


def describe() -> dict[str, str]:
    return {name: desc for name, (_, _, desc) in RULES.items()}


def get(name: str, model, **options) -> SequenceRule:
    """A rule by name for ``model``; ``options`` override the variant's fixed options."""
    if name not in RULES:
        raise ConfigError.bad_value("rule", name, ", ".join(RULES))
    cls, fixed, _ = RULES[name]
    try:
        return cls(model, **{**fixed, **options})
    except TypeError as exc:
        raise ConfigError(f"rule {name}: {exc}") from None


__all__ = ["BPTT", "RTRL", "RFLO", "ReadoutOnly", "SequenceRule", "TraceRule", "RULES", "get", "register", "describe"]

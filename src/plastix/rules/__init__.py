"""Gradient estimators for sequence networks, one rule per module.

``get(name, model, **options)`` builds a rule: ``name`` is a registered name (``RULES``) or
``path/to/file.py:ClassName``, a :class:`Rule` subclass in the user's own file.  Every rule
returns estimates of ∂L/∂θ (the sign an optax optimiser expects) from
``trial_grads(params, trial, key)``; the protocol is ``rules/base.py`` (``docs/rule-protocol.md``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
from pathlib import Path

from ..errors import ConfigError
from .base import FeedbackState, NetworkCarry, NoState, OnlineRule, Rule, Stretch, TraceCarry, TraceRule
from .bptt import BPTT
from .rflo import RFLO, ReadoutOnly
from .rtrl import RTRL
from .perturbation import HybridPerturbation, NodePerturbation, WeightPerturbation
from .eprop import EProp
from .eprop_reward import RewardEProp
from .surrogate import SurrogateAutodiff

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


def is_file_reference(name: str) -> bool:
    """Whether ``name`` has the form ``path/to/file.py:ClassName``."""
    path, sep, attr = name.rpartition(":")
    return bool(sep) and path.endswith(".py") and bool(attr)


def load_rule_class(reference: str) -> type:
    """The :class:`Rule` subclass named by ``path/to/file.py:ClassName`` (one clear error otherwise)."""
    path_text, _, class_name = reference.rpartition(":")
    path = Path(path_text).expanduser()
    if not path.is_file():
        raise ConfigError.bad_value("rule", reference, "path/to/file.py:ClassName with an existing .py file")
    resolved = path.resolve()
    module_name = "plastix_user_rules._" + hashlib.sha1(str(resolved).encode()).hexdigest()[:12]
    module = sys.modules.get(module_name)
    if module is None or getattr(module, "__plastix_mtime__", None) != resolved.stat().st_mtime_ns:
        spec = importlib.util.spec_from_file_location(module_name, resolved)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # the user's file: report it in one line, never a traceback
            del sys.modules[module_name]
            raise ConfigError(f"rule {reference}: {path} failed to import: {type(exc).__name__}: {exc}") from None
        module.__plastix_mtime__ = resolved.stat().st_mtime_ns
    cls = getattr(module, class_name, None)
    if cls is None:
        found = [n for n, v in vars(module).items() if inspect.isclass(v) and issubclass(v, Rule) and v.__module__ == module_name]
        raise ConfigError.bad_value("rule", reference, f"a class defined in {path}: " + (", ".join(found) or "(no Rule subclasses)"))
    if not (inspect.isclass(cls) and issubclass(cls, Rule)):
        raise ConfigError.bad_value("rule", reference, "a subclass of plastix.rules.Rule")
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(cls.__abstractmethods__))
        raise ConfigError.bad_value("rule", reference, f"a concrete Rule (define {missing})")
    return cls


def get(name: str, model, **options) -> Rule:
    """A rule by name (or ``file.py:ClassName``) for ``model``; ``options`` override the variant's
    fixed options."""
    if is_file_reference(name):
        cls, fixed = load_rule_class(name), {}
    elif name in RULES:
        cls, fixed, _ = RULES[name]
    else:
        raise ConfigError.bad_value("rule", name, ", ".join(RULES) + ", or path/to/file.py:ClassName")
    try:
        return cls(model, **{**fixed, **options})
    except TypeError as exc:
        raise ConfigError(f"rule {name}: {exc}") from None


__all__ = [
    "BPTT", "RTRL", "RFLO", "ReadoutOnly", "Rule", "OnlineRule", "TraceRule", "NoState", "FeedbackState",
    "NetworkCarry", "TraceCarry", "Stretch", "RULES", "get", "register", "describe", "load_rule_class",
]

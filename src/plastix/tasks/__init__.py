"""Trial generators.  Each task is a frozen dataclass with ``n_in``, ``n_out``, ``n_steps`` and
``sample(key, batch_size) -> Trial`` (arrays shaped (T, B, ·), with a loss mask)."""

from __future__ import annotations

from ..errors import ConfigError
from .add import Add
from .base import Trial
from .delayed_nonmatch import DelayedNonMatch
from .flipflop import FlipFlop
from .interval import Interval
from .mimic import Mimic
from .periodic import Periodic
from .reservoir import ReservoirButterfly
from .teacher_student import TeacherStudent
from .cue_accumulation import CueAccumulation
from .pattern_generation import PatternGeneration
from .store_recall import StoreRecall

TASKS = {
    "periodic": Periodic,
    "interval": Interval,
    "add": Add,
    "mimic": Mimic,
    "delayed_nonmatch": DelayedNonMatch,
    "flipflop": FlipFlop,
    "teacher_student": TeacherStudent,
    "reservoir_butterfly": ReservoirButterfly,
    "pattern_generation": PatternGeneration,
    "cue_accumulation": CueAccumulation,
    "store_recall": StoreRecall,
}


def describe() -> dict[str, str]:
    """Task name -> first line of its module docstring."""
    import sys

    return {name: (sys.modules[cls.__module__].__doc__ or "").strip().splitlines()[0] for name, cls in TASKS.items()}


def get(name: str, **options):
    """A task by name with its options, e.g. ``get("periodic", period=400)``."""
    if name.startswith("neurogym:"):  # any neurogym environment (optional extra plastix[neurogym])
        from .neurogym_adapter import get as get_neurogym

        return get_neurogym(name, **options)
    if name not in TASKS:
        raise ConfigError.bad_value("task", name, ", ".join(TASKS) + ", neurogym:<EnvId>")
    cls = TASKS[name]
    import dataclasses

    fields = {f.name for f in dataclasses.fields(cls)}
    for key in options:
        if key not in fields:
            raise ConfigError.bad_value(f"task option for {name!r}", key, ", ".join(sorted(fields)) or "none")
    try:
        return cls(**options)
    except TypeError as exc:
        raise ConfigError(f"task {name}: {exc}") from None


__all__ = ["Trial", "TASKS", "get", "describe", *(c.__name__ for c in TASKS.values())]

"""Declarative validation of dataclass settings: a field states what it accepts, once.

    @dataclass(frozen=True)
    class MyRule(Rule):
        sigma: float = setting(1e-2, positive())
        mode: str = setting("paired", choice("paired", "running_mean"))

:func:`validate_fields` (called by ``Rule.__post_init__`` and by every class that uses
:func:`setting`) checks each such field and raises a :class:`~plastix.errors.ConfigError` with
one line naming the field, the value given and what is accepted.  Booleans are never numbers, and
numbers must be finite.  A JAX array passes unchecked: it is a traced value (a hyper-parameter
swept inside one compilation), checked where it was made.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable

from .errors import ConfigError

Check = Callable[[str, Any], None]


def setting(default: Any, check: Check) -> Any:
    """A dataclass field with a default and the check its values must pass."""
    return dataclasses.field(default=default, metadata={"check": check})


def validate_fields(obj) -> None:
    """Run the check of every field of the dataclass ``obj`` that has one."""
    for f in dataclasses.fields(obj):
        check = f.metadata.get("check")
        if check is not None:
            check(f.name, getattr(obj, f.name))


def _traced(value) -> bool:
    import jax

    return isinstance(value, jax.Array)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def number(low: float | None = None, high: float | None = None, *, low_open: bool = False, high_open: bool = False,
           integer: bool = False, optional: bool = False, accepted: str | None = None) -> Check:
    """A finite number (an integer if asked) in the interval given by ``low``/``high``."""
    if accepted is None:
        kind = "an integer" if integer else "a number"
        lo = "" if low is None else f"{'>' if low_open else '≥'} {low:g}"
        hi = "" if high is None else f"{'<' if high_open else '≤'} {high:g}"
        accepted = " ".join(p for p in (kind, lo, "and" if lo and hi else "", hi) if p) + (" or None" if optional else "")

    def check(name: str, value) -> None:
        if value is None and optional or _traced(value):
            return
        ok = _number(value) and (not integer or isinstance(value, int))
        ok = ok and (low is None or (value > low if low_open else value >= low))
        ok = ok and (high is None or (value < high if high_open else value <= high))
        if not ok:
            raise ConfigError.bad_value(name, value, accepted)

    return check


def positive(integer: bool = False, optional: bool = False) -> Check:
    kind = "integer" if integer else "number"
    return number(0, low_open=True, integer=integer, optional=optional,
                  accepted=f"a positive {kind}" + (" or None" if optional else ""))


def choice(*values) -> Check:
    def check(name: str, value) -> None:
        if value not in values:
            raise ConfigError.bad_value(name, value, ", ".join(map(str, values)))

    return check


def boolean() -> Check:
    def check(name: str, value) -> None:
        if not isinstance(value, bool):
            raise ConfigError.bad_value(name, value, "true or false")

    return check

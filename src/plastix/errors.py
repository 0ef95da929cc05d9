"""Errors that plastix reports to a person.

Every error a user can cause by what they pass in (a config value, a file, a command-line flag)
is a :class:`PlastixError`.  Its message is one line that names the field, the value given and
what is accepted.  The CLI prints that line and exits with code 2; it never shows a traceback.
"""

from __future__ import annotations


class PlastixError(Exception):
    """A user-facing error whose message is one self-contained line."""


class ConfigError(PlastixError, ValueError):
    """A configuration value (or file) that plastix cannot accept."""

    @classmethod
    def bad_value(cls, field: str, value, accepted: str) -> "ConfigError":
        return cls(f"{field}: got {value!r}; accepted: {accepted}")


class DivergenceError(PlastixError, FloatingPointError):
    """Training produced NaN or inf; the message names rule, seed, trial and last finite loss."""


def check_positive(field: str, value, integer: bool = False) -> None:
    """Raise ConfigError unless ``value`` is a positive number (an integer if asked)."""
    kind = "integer" if integer else "number"
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
    if integer:
        ok = ok and float(value).is_integer()
    if not ok:
        raise ConfigError.bad_value(field, value, f"a positive {kind}")


def check_choice(field: str, value, choices) -> None:
    """Raise ConfigError unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ConfigError.bad_value(field, value, ", ".join(map(str, choices)))

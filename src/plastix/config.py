"""Validated configuration: pydantic models, TOML files and ``--set key=value`` overrides.

Every validation failure becomes one :class:`~plastix.errors.ConfigError` line that names the
field, the value given and what is accepted.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pydantic

from .errors import ConfigError


def parse_value(text: str) -> Any:
    """A ``--set`` value: a TOML value (number, bool, string, array, inline table) or a bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def split_key(key: str) -> list[str]:
    """``a.b.c`` → [a, b, c]; a part in double quotes may hold dots, as in TOML:
    ``rule_options."examples/my_rule.py:MyRule".tau`` → [rule_options, examples/my_rule.py:MyRule, tau]."""
    parts, rest = [], key.strip()
    while True:
        if rest.startswith('"'):
            end = rest.find('"', 1)
            if end < 0:
                raise ConfigError.bad_value("--set key", key, 'dotted names with balanced double quotes, e.g. a."b.c".d')
            part, rest = rest[1:end], rest[end + 1 :].strip()
        else:
            part, _, tail = rest.partition(".")
            part, rest = part.strip(), ("." + tail if _ else "")
        parts.append(part)
        if not rest:
            return parts
        if not rest.startswith("."):
            raise ConfigError.bad_value("--set key", key, 'dotted names, e.g. lr or rule_options."file.py:Rule".option')
        rest = rest[1:].strip()


def apply_override(data: dict, assignment: str, model_cls: type[pydantic.BaseModel]) -> None:
    """Apply ``key.sub=value`` to the nested dict ``data`` (keys checked against ``model_cls``)."""
    if "=" not in assignment:
        raise ConfigError.bad_value("--set", assignment, "key=value, e.g. lr=0.01 or task_options.period=400")
    key, _, raw = assignment.partition("=")
    parts = split_key(key)
    if not parts[0] or parts[0] not in model_cls.model_fields:
        raise ConfigError.bad_value("--set key", key, ", ".join(model_cls.model_fields))
    target = data
    for p in parts[:-1]:
        nxt = target.setdefault(p, {})
        if not isinstance(nxt, dict):
            raise ConfigError.bad_value("--set key", key, f"{p} is not a table")
        target = nxt
    target[parts[-1]] = parse_value(raw.strip())


def read_toml(path: Path, field: str = "--config") -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError.bad_value(field, str(path), "an existing TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{field}: {path} is not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError.bad_value(field, str(path), f"a readable TOML file ({exc.strerror})") from None


def validate(model_cls: type[pydantic.BaseModel], data: dict):
    """Build ``model_cls`` from ``data``; the first validation error becomes one line."""
    try:
        return model_cls.model_validate(data)
    except pydantic.ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "config"
        value = err.get("input")
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key; accepted: " + ", ".join(model_cls.model_fields)
        raise ConfigError(f"{loc}: got {value!r}; {msg}") from None

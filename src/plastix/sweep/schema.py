"""The sweep file: the ``[sweep]`` table, its parameters (lists and random-search ranges) and
their validation against :class:`~plastix.compare.CompareConfig` (format: :mod:`plastix.sweep`)."""

from __future__ import annotations

import copy
import dataclasses
import math
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, PositiveInt

from .. import config as cfg
from ..errors import ConfigError

RANGE_KEYS = {"low", "high", "log", "integer"}


class SweepTable(BaseModel):
    """The ``[sweep]`` table."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["grid", "random"] = "grid"
    samples: PositiveInt | None = None
    seed: int = 0
    parameters: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Range:
    """A random-search range: U[low, high], log-uniform with ``log``, integers with ``integer``."""

    low: float
    high: float
    log: bool = False
    integer: bool = False

    def draw(self, rng: np.random.Generator):
        if self.integer:
            if self.log:
                return int(round(math.exp(rng.uniform(math.log(self.low), math.log(self.high)))))
            return int(rng.integers(int(self.low), int(self.high), endpoint=True))
        if self.log:
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return float(rng.uniform(self.low, self.high))



@dataclasses.dataclass
class Sweep:
    """A parsed, validated sweep file."""

    data: dict  # the whole file, as parsed (stored as sweep.toml; compared on --resume)
    base: dict  # the shared compare settings (the file without [sweep])
    method: str
    parameters: dict  # dotted key -> list of values, or Range
    samples: int | None
    seed: int

    def swept_keys(self) -> list[str]:
        """Swept keys in file order, with ``rule`` first when it is implied by ``rules``."""
        keys = list(self.parameters)
        return keys if "rule" in keys else ["rule", *keys]

    def describe(self, n_configs: int) -> str:
        parts = []
        if "rule" not in self.parameters:
            parts.append(f"{len(self._base_rules())} rule")
        if self.method == "grid":
            parts += [f"{len(v)} {k}" for k, v in self.parameters.items()]
            return " × ".join(parts) + f" = {n_configs} configurations"
        return f"{self.samples} random draws" + (f" × {parts[0]}" if parts else "") + f" = {n_configs} configurations"

    def _base_rules(self) -> list[str]:
        from ..compare import CompareConfig

        return list(self.base.get("rules", CompareConfig.model_fields["rules"].default))


def _dict_fields() -> set[str]:
    import typing

    from ..compare import CompareConfig

    return {n for n, f in CompareConfig.model_fields.items() if typing.get_origin(f.annotation) is dict}


def _is_range(value) -> bool:
    return isinstance(value, dict) and {"low", "high"} <= set(value) and set(value) <= RANGE_KEYS


def _flatten(table: dict, prefix: str = "") -> dict:
    """Nested TOML tables (``[sweep.parameters.task_options]``) become dotted keys."""
    flat = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and not _is_range(value):
            if not value:
                raise ConfigError.bad_value(f"sweep.parameters.{path}", value, "a list of values or a range {low, high}")
            flat.update(_flatten(value, path + "."))
        else:
            flat[path] = value
    return flat


def _check_key(path: str) -> None:
    from ..compare import CompareConfig

    field = f"sweep.parameters.{path}"
    parts = path.split(".")
    top = parts[0]
    if path == "rule":
        return
    if top == "rules":
        raise ConfigError.bad_value(field, path, "rule (a sweep runs one rule per configuration)")
    if top not in CompareConfig.model_fields:
        raise ConfigError.bad_value(field, path, "rule or a compare setting: " + ", ".join(CompareConfig.model_fields))
    depth = {"rule_options": 3, "lrs": 2}.get(top, 2 if top in _dict_fields() else 1)
    if top in _dict_fields() and len(parts) < depth:
        example = {"rule_options": "rule_options.rflo.feedback", "lrs": "lrs.rflo"}.get(top, f"{top}.NAME")
        raise ConfigError.bad_value(field, path, f"a dotted key inside {top}, e.g. {example}")
    if top not in _dict_fields() and len(parts) > 1:
        raise ConfigError.bad_value(field, path, f"{top} (it has no sub-keys)")


def _check_values(path: str, values, method: str):
    field = f"sweep.parameters.{path}"
    if _is_range(values):
        if method == "grid":
            raise ConfigError.bad_value(field, values, 'a list of values (ranges {low, high} need method = "random")')
        low, high = values["low"], values["high"]
        log, integer = values.get("log", False), values.get("integer", False)
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high))
        if not numbers or not low < high:
            raise ConfigError.bad_value(field, values, "a range with numbers low < high")
        if not isinstance(log, bool) or not isinstance(integer, bool):
            raise ConfigError.bad_value(field, values, "log and integer given as true or false")
        if log and low <= 0:
            raise ConfigError.bad_value(field, values, "a log range with low > 0")
        if integer and not (float(low).is_integer() and float(high).is_integer()):
            raise ConfigError.bad_value(field, values, "an integer range with whole-number low and high")
        return Range(low, high, log, integer)
    if not isinstance(values, list) or not values:
        accepted = "a non-empty list of values" + (" or a range {low, high}" if method == "random" else "")
        raise ConfigError.bad_value(field, values, accepted)
    if path == "rule" and not all(isinstance(v, str) for v in values):
        raise ConfigError.bad_value(field, values, "a list of rule names")
    return list(values)


def parse_sweep(data: dict) -> Sweep:
    """Validate a parsed sweep file: its ``[sweep]`` table and the shared compare settings."""
    from ..compare import CompareConfig

    data = copy.deepcopy(data)
    base = {k: v for k, v in data.items() if k != "sweep"}
    table = data.get("sweep")
    if not isinstance(table, dict):
        raise ConfigError.bad_value("sweep", table, "a [sweep] table with [sweep.parameters], e.g. lr = [0.01, 0.03]")
    try:
        spec = cfg.validate(SweepTable, table)
    except ConfigError as exc:
        raise ConfigError(f"sweep.{exc}") from None
    if spec.method == "random" and spec.samples is None:
        raise ConfigError.bad_value("sweep.samples", None, 'the number of random draws (method = "random")')
    if spec.method == "grid" and spec.samples is not None:
        raise ConfigError.bad_value("sweep.samples", spec.samples, 'nothing for a grid (samples is for method = "random")')
    parameters = _flatten(spec.parameters)
    if not parameters:
        raise ConfigError.bad_value("sweep.parameters", {}, "at least one swept setting, e.g. lr = [0.01, 0.03]")
    for path in parameters:
        _check_key(path)
        parameters[path] = _check_values(path, parameters[path], spec.method)
    cfg.validate(CompareConfig, base)  # shared settings: checked once, with their own field names
    return Sweep(data, base, spec.method, parameters, spec.samples, spec.seed)


def load_sweep(path: str | os.PathLike) -> Sweep:
    """Read and validate a sweep file."""
    return parse_sweep(cfg.read_toml(Path(path), field="SWEEP.toml"))

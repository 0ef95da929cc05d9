"""The configurations of a sweep: grid points or random draws, one rule each, as fully resolved
``plastix compare`` settings with the hash that names their run folder."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import itertools
import json
from typing import Any

import numpy as np

from .. import config as cfg
from ..errors import ConfigError
from .schema import Range, Sweep


@dataclasses.dataclass
class Configuration:
    """One point of the sweep: the swept settings and the full ``plastix compare`` settings."""

    index: int
    settings: dict  # swept key -> value; always has "rule"
    config: Any  # CompareConfig with exactly one rule
    key: str  # hash of the full settings: the run folder name
    lr: float  # the learning rate the rule will use

    @property
    def rule(self) -> str:
        return self.config.rules[0]



def _set_path(data: dict, parts: list[str], value) -> None:
    target = data
    for p in parts[:-1]:
        nxt = target.setdefault(p, {})
        if not isinstance(nxt, dict):
            raise ConfigError.bad_value(".".join(parts), value, f"{p} is not a table in the base settings")
        target = nxt
    target[parts[-1]] = copy.deepcopy(value)


def _config_data(base: dict, settings: dict) -> dict:
    """The compare settings of one configuration: base, then the swept values, then one rule."""
    data = copy.deepcopy(base)
    rule = settings["rule"]
    for path, value in settings.items():
        if path != "rule":
            _set_path(data, path.split("."), value)
    data["rules"] = [rule]
    if "lr" in settings:
        data.pop("lrs", None)
    for table in ("rule_options", "lrs"):
        if isinstance(data.get(table), dict):
            data[table] = {k: v for k, v in data[table].items() if k == rule}
    return data


def config_key(conf) -> str:
    """The run folder name: a hash of every setting of the configuration."""
    text = json.dumps(conf.model_dump(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _settings_list(sweep: Sweep) -> list[dict]:
    keys = list(sweep.parameters)
    rules = [] if "rule" in keys else sweep._base_rules()
    if sweep.method == "grid":
        points = [dict(zip(keys, combo)) for combo in itertools.product(*(sweep.parameters[k] for k in keys))]
    else:
        rng = np.random.default_rng(sweep.seed)
        points = []
        for _ in range(sweep.samples):
            point = {}
            for k in keys:
                spec = sweep.parameters[k]
                point[k] = spec.draw(rng) if isinstance(spec, Range) else _plain(spec[int(rng.integers(len(spec)))])
            points.append(point)
    if not rules:
        return points
    if sweep.method == "grid":  # rule varies slowest
        return [{"rule": r, **p} for r in rules for p in points]
    return [{"rule": r, **p} for p in points for r in rules]  # each draw for every rule, side by side


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def configurations(sweep: Sweep, check: bool = True) -> list[Configuration]:
    """Every configuration of the sweep, validated (and, with ``check``, built once) in order."""
    from ..compare import CompareConfig, build

    result = []
    built: dict[str, float] = {}
    for index, settings in enumerate(_settings_list(sweep)):
        where = f"configuration {index} ({_describe_settings(settings)})"
        try:
            conf = cfg.validate(CompareConfig, _config_data(sweep.base, settings))
            key = config_key(conf)
            if key not in built:
                setup = build(conf) if check else None
                built[key] = setup.lrs[conf.rules[0]] if setup is not None else float("nan")
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        result.append(Configuration(index, settings, conf, key, built[key]))
    return result


def _describe_settings(settings: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in settings.items())

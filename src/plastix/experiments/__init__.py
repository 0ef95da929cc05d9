"""Paper reproductions: ``plastix reproduce NAME``.

Each reproduction is a module in this package that defines

* ``DESCRIPTION`` — one line: the paper and what is reproduced;
* ``CLAIMS`` — a list of ``(id, claim text)`` pairs, shown by ``plastix reproduce --list``;
* ``OPTIONS`` — optional dict ``{option name: (accepted values, help)}`` (e.g. ``figure``);
* ``run(rep: Reproduction) -> None`` — runs the experiment (``rep.quick`` selects the reduced
  protocol), adds sections, tables and figures to ``rep`` and records every claim with
  :meth:`Reproduction.claim`.

The framework writes ``claims.json`` and ``report.md`` (figures inline) when ``run`` returns.
Claims are computed from the run: a claim's ``holds`` is decided by comparing the measured value
with its threshold, never asserted.
"""

from __future__ import annotations

import importlib
import operator
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import ConfigError
from ..runs import save_figure, to_jsonable, write_json, write_text

#: name -> module (relative to this package).  Names are what users type.
REGISTRY: dict[str, str] = {
    "murray2019": "murray2019",
    "bellec2020": "bellec2020",
    "zuge2021": "zuge2021",
    "baldi-pineda1991": "baldi_pineda1991",
    "eqprop": "eqprop",
    "sathasivam2009": "sathasivam2009",
    "buonomano2005": "buonomano2005",
    "laje2013": "laje2013",
    "force": "force",
    "piray-daw2021": "piray_daw2021",
    "vkf2020": "vkf2020",
    "hmax": "hmax",
}

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def available() -> dict[str, Any]:
    """Name -> module for every reproduction whose module is present."""
    found = {}
    for name, module in REGISTRY.items():
        try:
            found[name] = importlib.import_module(f"{__name__}.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{module}":
                raise
    return found


def get(name: str):
    """The reproduction module called ``name``; a ConfigError naming the choices otherwise."""
    mods = available()
    if name not in mods:
        raise ConfigError.bad_value("experiment", name, ", ".join(sorted(mods)) or "(none installed)")
    return mods[name]


@dataclass
class Claim:
    id: str
    claim: str
    measured: Any
    threshold: Any
    holds: bool
    comparison: str = ""
    note: str = ""


@dataclass
class Reproduction:
    """What a reproduction writes: sections of a report, figures, and computed claims."""

    name: str
    out: Path
    quick: bool = False
    options: dict = field(default_factory=dict)
    claims: list[Claim] = field(default_factory=list)
    _blocks: list[str] = field(default_factory=list)
    _numbers: dict = field(default_factory=dict)
    _started: float = field(default_factory=time.time)

    # -- report content -------------------------------------------------------------------
    def section(self, title: str, text: str = "") -> None:
        self._blocks.append(f"## {title}\n\n{text}".rstrip() + "\n")

    def text(self, text: str) -> None:
        self._blocks.append(text.rstrip() + "\n")

    def table(self, header: list[str], rows: list[list[Any]], caption: str = "") -> None:
        def fmt(v):
            if isinstance(v, float):
                return f"{v:.4g}"
            return str(v)

        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
        if caption:
            lines.insert(0, f"*{caption}*\n")
        self._blocks.append("\n".join(lines) + "\n")

    def figure(self, fig, filename: str, caption: str = "") -> Path:
        """Save a matplotlib figure as ``out/filename`` (PNG) and show it inline in the report."""
        path = save_figure(fig, self.out / filename)
        self._blocks.append(f"![{caption or filename}]({filename})\n\n{caption}".rstrip() + "\n")
        return path

    def record(self, key: str, value: Any) -> None:
        """Keep a number for ``results.json`` (raw measurements behind the claims)."""
        self._numbers[key] = value

    def run_parts(self, parts, run_part: Callable[[str], None]) -> None:
        """``run_part(part)`` for every part (only the one named by ``--figure``, if given), with
        matplotlib's file backend; each part's wall-clock seconds go to ``results.json``."""
        import matplotlib

        matplotlib.use("Agg")
        only = self.options.get("figure")
        for part in parts:
            if only in (None, part):
                started = time.time()
                run_part(part)
                self.record(f"seconds_{part}", round(time.time() - started, 1))

    # -- claims -----------------------------------------------------------------------------
    def claim(
        self,
        id: str,
        claim: str,
        measured: Any,
        threshold: Any,
        comparison: str | None = None,
        holds: bool | None = None,
        note: str = "",
    ) -> Claim:
        """Record a claim.  ``holds`` is ``measured <comparison> threshold`` unless given.

        Give ``holds`` explicitly only when the claim combines several measurements; then
        ``measured`` and ``threshold`` should still show the numbers it was decided from.
        """
        if holds is None:
            if comparison not in _OPS:
                raise ValueError(f"claim {id}: comparison must be one of {sorted(_OPS)}")
            holds = bool(_OPS[comparison](measured, threshold))
        c = Claim(id, claim, to_jsonable(measured), to_jsonable(threshold), bool(holds), comparison or "", note)
        self.claims.append(c)
        return c

    # -- output -----------------------------------------------------------------------------
    def write(self) -> None:
        seconds = time.time() - self._started
        claims = [c.__dict__ for c in self.claims]
        write_json(self.out / "claims.json", claims)
        if self._numbers:
            write_json(self.out / "results.json", self._numbers)
        mode = "quick" if self.quick else "full"
        lines = [
            f"# plastix reproduce {self.name}\n",
            f"Mode: **{mode}**; options: `{self.options}`; run time {seconds:.0f} s.\n",
            "## Claims\n",
            "| id | claim | measured | threshold | holds |",
            "|---|---|---|---|---|",
        ]
        for c in self.claims:
            thr = f"{c.comparison} {c.threshold}" if c.comparison else str(c.threshold)
            lines.append(f"| {c.id} | {c.claim} | {_short(c.measured)} | {thr} | {'yes' if c.holds else '**no**'} |")
        failing = [c for c in self.claims if not c.holds]
        if failing:
            lines.append("\nClaims that do not hold in this run:\n")
            lines += [f"- **{c.id}**: {c.note or 'no explanation recorded'}" for c in failing]
        lines.append("")
        write_text(self.out / "report.md", "\n".join(lines) + "\n" + "\n".join(self._blocks))


def _short(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_short(x)}" for k, x in v.items())
    if isinstance(v, list) and len(v) <= 6:
        return "[" + ", ".join(_short(x) for x in v) + "]"
    return str(v)


def check_options(name: str, options: dict | None) -> dict:
    """Validate a reproduction's options (e.g. ``figure``) against its ``OPTIONS``; a copy of them."""
    module = get(name)
    options = dict(options or {})
    for key, value in options.items():
        accepted = getattr(module, "OPTIONS", {}).get(key)
        if accepted is None:
            raise ConfigError.bad_value("option", key, ", ".join(getattr(module, "OPTIONS", {})) or "no options")
        if value is not None and accepted[0] and value not in accepted[0]:
            raise ConfigError.bad_value(key, value, ", ".join(map(str, accepted[0])))
    return options


def reproduce(name: str, out: Path, quick: bool = False, options: dict | None = None) -> Reproduction:
    """Run reproduction ``name`` into folder ``out`` and write its report and claims."""
    module = get(name)
    options = check_options(name, options)
    out.mkdir(parents=True, exist_ok=True)
    rep = Reproduction(name=name, out=out, quick=quick, options=options)
    module.run(rep)
    rep.write()
    return rep

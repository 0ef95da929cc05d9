"""Results of a sweep: its folder (checked before a resume), the rows of sweep.csv / sweep.jsonl
collected from each run's ``result.json``, the figure, the console table, and re-rendering a
finished folder."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from .. import config as cfg
from ..errors import ConfigError
from .configs import Configuration, configurations
from .schema import Sweep, load_sweep

STAT_COLUMNS = ("final_loss_median", "final_loss_q25", "final_loss_q75", "initial_loss", "seconds")


# ----------------------------------------------------------------------------------------------
# The sweep folder and its table
# ----------------------------------------------------------------------------------------------
def _sweep_toml(sweep: Sweep) -> str:
    import tomli_w

    return tomli_w.dumps(sweep.data)


def check_out_dir(out: Path, sweep: Sweep, resume: bool) -> None:
    """An existing sweep folder only with ``resume``, and then only for the same sweep."""
    from ..runs import check_writable

    check_writable(out)
    stored = Path(out) / "sweep.toml"
    if resume:
        if not stored.exists():
            raise ConfigError.bad_value("--out", str(out), "the folder of an interrupted sweep (it has no sweep.toml)")
        if cfg.read_toml(stored, field="--out") != sweep.data:
            raise ConfigError.bad_value("SWEEP.toml", "a different sweep", f"the sweep stored in {stored} (or omit the file)")
    elif stored.exists():
        raise ConfigError.bad_value("--out", str(out), "a folder without a sweep (use another folder, or --resume)")


def result_row(c: Configuration, outcome: dict | None, swept: list[str]) -> dict:
    """One row of sweep.csv for configuration ``c`` (``outcome`` None while it is pending)."""
    row: dict[str, Any] = {"config": c.index, "run": f"runs/{c.key}", "rule": c.rule}
    row.update({k: c.settings[k] for k in swept if k != "rule"})
    row.update({"lr": c.lr, "seeds": c.config.seeds, "status": "pending" if outcome is None else outcome["status"]})
    row.update({k: None for k in STAT_COLUMNS})
    row["error"] = None
    if outcome is None:
        return row
    if outcome["status"] == "ok":
        stats = outcome["summary"]["rules"][c.rule]
        final = stats["final_loss"]
        row.update(
            final_loss_median=final["median"], final_loss_q25=final["q25"], final_loss_q75=final["q75"],
            initial_loss=stats["initial_loss"], seconds=stats["seconds"],
        )
    else:
        row["error"] = outcome["error"]
    return row


def rows_to_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else repr(v) if isinstance(v, float) else v) for k, v in row.items()})
    return buffer.getvalue()


def read_outcome(run_dir: Path) -> dict | None:
    path = run_dir / "result.json"
    return json.loads(path.read_text()) if path.exists() else None


# ----------------------------------------------------------------------------------------------
# Figure and table
# ----------------------------------------------------------------------------------------------
def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def sweep_figure(rows: list[dict], swept: list[str]):
    """Median final loss (25–75 % bars) against each swept value, one line per rule.

    With several swept settings, each panel shows every configuration as a faint point and, per
    rule, a line through the best median at each value of that panel's setting.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    panels = [k for k in swept if k != "rule" and len({json.dumps(r[k], sort_keys=True) for r in rows}) > 1]
    if not panels:
        panels = ["rule"]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    ok = [r for r in rows if r["status"] == "ok" and r["final_loss_median"] is not None]
    failed = sum(r["status"] == "failed" for r in rows)
    rules = list(dict.fromkeys(r["rule"] for r in rows))
    colours = {rule: f"C{i % 10}" for i, rule in enumerate(rules)}
    for ax, key in zip(axes[0], panels):
        values = list(dict.fromkeys(json.dumps(r[key], sort_keys=True) for r in rows))
        numeric = all(_is_number(json.loads(v)) for v in values)
        position = (lambda v: float(v)) if numeric else (lambda v: values.index(json.dumps(v, sort_keys=True)))
        for rule in rules:
            mine = [r for r in ok if r["rule"] == rule]
            if not mine:
                continue
            x = np.array([position(r[key]) for r in mine])
            y = np.array([r["final_loss_median"] for r in mine])
            lo = y - np.array([r["final_loss_q25"] for r in mine])
            hi = np.array([r["final_loss_q75"] for r in mine]) - y
            ax.errorbar(x, y, yerr=[lo, hi], fmt="o", color=colours[rule], alpha=0.35, ms=4, capsize=2)
            best = {}
            for xi, yi in zip(x, y):
                best[xi] = min(best.get(xi, np.inf), yi)
            xs = sorted(best)
            ax.plot(xs, [best[v] for v in xs], "-o", color=colours[rule], label=rule, ms=5)
        if numeric:
            xs = sorted(float(json.loads(v)) for v in values)
            if xs[0] > 0 and xs[-1] / xs[0] >= 10:
                ax.set_xscale("log")
            if len(xs) <= 12:  # label the swept values themselves, not the scale's minor ticks
                ax.set_xticks(xs, [f"{v:g}" for v in xs])
                ax.xaxis.set_minor_formatter(NullFormatter())
        else:
            ax.set_xticks(range(len(values)), [str(json.loads(v)) for v in values], rotation=30)
        ax.set_yscale("log")
        if len(panels) > 1:
            ax.set_title("line: best over the other swept settings", fontsize=9)
        ax.set_xlabel(key)
        ax.set_ylabel("final loss (median over seeds)")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(title="rule")
    title = f"final loss per configuration: median and 25–75 % over seeds ({len(rows)} configurations"
    title += f", {failed} failed, not shown)" if failed else ")"
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def print_sweep_table(rows: list[dict], swept: list[str], out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"sweep: {len(rows)} configuration{'s' if len(rows) != 1 else ''}")
    settings = [k for k in swept if k not in ("rule", "lr", "seeds")]
    columns = ["config", "rule", *settings, "lr", "final loss (median)", "25–75 %", "seconds", "status"]
    for col in columns:
        table.add_column(col, justify="left" if col in ("rule", "status") else "right")
    for r in rows:
        if r["status"] == "ok":
            stats = [f"{r['final_loss_median']:.4g}", f"{r['final_loss_q25']:.3g}–{r['final_loss_q75']:.3g}", f"{r['seconds']:.1f}"]
        else:
            stats = ["", "", ""]
        status = r["status"] if r["status"] != "failed" else f"failed: {r['error']}"
        table.add_row(str(r["config"]), r["rule"], *[str(r[k]) for k in settings], f"{r['lr']:g}", *stats, status)
    console = Console()
    console.print(table)
    console.print(f"results in {out / 'sweep.csv'}")


def report_sweep(out: Path) -> list[dict]:
    """Re-render a sweep folder: sweep.csv, sweep.jsonl and sweep.png from its runs' result.json."""
    from ..runs import save_figure, write_jsonl, write_text

    sweep = load_sweep(out / "sweep.toml")
    configs = configurations(sweep)
    swept = sweep.swept_keys()
    rows = [result_row(c, read_outcome(out / "runs" / c.key), swept) for c in configs]
    write_text(out / "sweep.csv", rows_to_csv(rows))
    write_jsonl(out / "sweep.jsonl", rows)
    save_figure(sweep_figure(rows, swept), out / "sweep.png")
    return rows

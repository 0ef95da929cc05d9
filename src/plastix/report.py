"""``plastix report RUN_DIR``: a finished run's figure, table and ``report.md`` again, from its files.

From the folder of a ``plastix compare`` run it reads only what the run wrote — ``config.toml``,
``summary.json``, ``curves.npz`` (one array of seeds × trials losses per rule) and
``metrics.jsonl`` — then

* re-plots ``learning_curves.png`` from ``curves.npz`` with the same function as the run
  (median and 25–75 % band over seeds of the bin-averaged loss), so the figure is reproduced
  exactly from the saved numbers;
* prints the run's table again;
* writes ``report.md``: the settings, the results table, the figure, the last chunk's metrics
  (median over seeds of the loss, feedback alignment and, where recorded, the gradient cosine
  with BPTT) and how to read every file without plastix.

From the folder of a ``plastix sweep`` (it has ``sweep.toml``) it rebuilds ``sweep.csv``,
``sweep.jsonl`` and ``sweep.png`` from the configurations' ``result.json`` files, prints the
sweep's table and writes ``report.md``.

Nothing is recomputed by training: a report never changes a result, only renders it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .errors import ConfigError

COMPARE_FILES = ("config.toml", "summary.json", "curves.npz")

READING_WITHOUT_PLASTIX = """\
```python
import json, numpy as np
summary = json.load(open("summary.json"))
curves = np.load("curves.npz")                        # curves["rflo"]: (seeds, trials) loss of every trial
params = np.load("params_rflo.npz")                   # keys "['w_rec']", "['w_in']", "['w_out']": (seeds, …)
meta = json.loads(str(params["__meta__"]))            # {"rule": ..., "seeds": ...}
metrics = [json.loads(line) for line in open("metrics.jsonl")]
```
"""


def check_run_dir(run_dir: Path) -> str:
    """``"compare"`` or ``"sweep"``: what wrote ``run_dir``; a one-line error otherwise."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ConfigError.bad_value("RUN_DIR", str(run_dir), "an existing run folder")
    if (run_dir / "sweep.toml").exists():
        return "sweep"
    missing = [name for name in COMPARE_FILES if not (run_dir / name).exists()]
    if missing == ["summary.json"] and (run_dir / "checkpoints").is_dir():
        raise ConfigError.bad_value(
            "RUN_DIR", str(run_dir), f"a finished run (finish this one with plastix compare --resume --out {run_dir})"
        )
    if missing:
        raise ConfigError.bad_value(
            "RUN_DIR", str(run_dir),
            "a folder written by plastix compare (config.toml, summary.json, curves.npz) or plastix sweep (sweep.toml); "
            f"missing: {', '.join(missing)}",
        )
    return "compare"


def load_curves(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {name: np.asarray(data[name]) for name in data.files}


def final_metrics(rows: list[dict]) -> dict[str, dict[str, float]]:
    """Per rule: median over seeds of every metric recorded at the last chunk."""
    result: dict[str, dict[str, float]] = {}
    for rule in dict.fromkeys(r["rule"] for r in rows):
        mine = [r for r in rows if r["rule"] == rule]
        last = max(r["trial"] for r in mine)
        at_end = [r for r in mine if r["trial"] == last]
        names = [k for k in at_end[0] if k not in ("rule", "seed", "trial")]
        result[rule] = {"trial": last}
        for name in names:
            values = [r[name] for r in at_end if r.get(name) is not None]
            if values:
                result[rule][name] = float(np.median(values))
    return result


def _md_table(header: list[str], rows: list[list]) -> str:
    fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def compare_markdown(run_dir: Path, conf, summary: dict, metrics: dict) -> str:
    """The text of ``report.md`` for a ``plastix compare`` run."""
    settings = [
        ["task", conf.task + (f" {conf.task_options}" if conf.task_options else "")],
        ["model", conf.model + (f" {conf.model_options}" if conf.model_options else "")],
        ["recurrent units N", conf.n_rec],
        ["trials per network", conf.trials],
        ["networks (seeds) per rule", f"{conf.seeds} (base seed {conf.seed})"],
        ["batch size", conf.batch_size],
        ["optimiser", conf.optimizer + (f", clip {conf.clip}" if conf.clip else "")],
        ["updates", f"every {conf.update_every} steps (online)" if conf.update_every else "once per trial (batch)"],
    ]
    results = []
    for name, r in summary["rules"].items():
        f = r["final_loss"]
        results.append([name, r["lr"], r["initial_loss"], f["median"], f"{f['q25']:.3g}–{f['q75']:.3g}", round(r["seconds"], 1)])
    text = [f"# Run report: {summary['task']}, N = {summary['n_rec']}\n"]
    text.append(f"Folder `{run_dir}`; rendered by `plastix report` from the run's files.\n")
    text.append("## Settings\n")
    text.append(_md_table(["setting", "value"], settings))
    text.append("## Results\n")
    text.append(
        "Final loss: for each network, the mean loss over the last 1 % of trials; median and "
        "quartiles over networks.  Initial loss: median over networks of the first trial's loss.\n"
    )
    text.append(_md_table(["rule", "lr", "initial loss", "final loss (median)", "25–75 %", "seconds"], results))
    text.append("![learning curves](learning_curves.png)\n")
    text.append("*Loss per trial (bin-averaged): median and 25–75 % band over networks, log scale.*\n")
    if metrics:
        names = sorted({k for m in metrics.values() for k in m if k != "trial"})
        rows = [[rule, m["trial"], *[m.get(n, "") for n in names]] for rule, m in metrics.items()]
        text.append("## At the end of training\n")
        text.append("Median over networks of the metrics recorded after the last chunk of trials (`metrics.jsonl`).\n")
        text.append(_md_table(["rule", "trial", *names], rows))
    text.append("## Files\n")
    text.append(
        "`config.toml` (every setting; `plastix compare --config config.toml` runs it again), `summary.json`, "
        "`metrics.jsonl`, `curves.npz`, `params_<rule>.npz`, `learning_curves.png`.  Reading them without plastix:\n"
    )
    text.append(READING_WITHOUT_PLASTIX)
    return "\n".join(text)


def report_compare(run_dir: Path, show: bool = True) -> Path:
    """Re-render a ``plastix compare`` run folder; returns the path of ``report.md``."""
    from .compare import learning_curve_figure, print_table, resolve_config
    from .runs import read_jsonl, save_figure, write_text

    conf = resolve_config(config=run_dir / "config.toml")
    try:
        summary = json.loads((run_dir / "summary.json").read_text())
        curves = load_curves(run_dir / "curves.npz")
    except (ValueError, OSError, KeyError) as exc:
        raise ConfigError.bad_value("RUN_DIR", str(run_dir), f"a run folder with readable result files ({exc})") from None
    missing = [name for name in summary["rules"] if name not in curves]
    if missing:
        raise ConfigError.bad_value("RUN_DIR", str(run_dir), f"curves.npz with every rule of summary.json (missing {missing})")
    save_figure(learning_curve_figure(curves, conf), run_dir / "learning_curves.png")
    metrics_path = run_dir / "metrics.jsonl"
    metrics = final_metrics(read_jsonl(metrics_path)) if metrics_path.exists() else {}
    path = write_text(run_dir / "report.md", compare_markdown(run_dir, conf, summary, metrics))
    if show:
        print_table(summary, run_dir)
    return path


def sweep_markdown(run_dir: Path, rows: list[dict], swept: list[str]) -> str:
    settings = [k for k in swept if k not in ("rule", "lr", "seeds")]
    header = ["config", "rule", *settings, "lr", "final loss (median)", "25–75 %", "seconds", "status"]
    table = []
    for r in rows:
        ok = r["status"] == "ok"
        table.append([
            r["config"], r["rule"], *[r[k] for k in settings], r["lr"],
            r["final_loss_median"] if ok else "", f"{r['final_loss_q25']:.3g}–{r['final_loss_q75']:.3g}" if ok else "",
            round(r["seconds"], 1) if ok else "", r["status"] if r["status"] != "failed" else f"failed: {r['error']}",
        ])
    n_ok = sum(r["status"] == "ok" for r in rows)
    text = [
        f"# Sweep report: {len(rows)} configurations ({n_ok} finished)\n",
        f"Folder `{run_dir}`; rendered by `plastix report` from `sweep.toml` and `runs/*/result.json`.\n",
        "Final loss: per network, the mean loss over the last 1 % of trials; median and quartiles over the "
        "configuration's networks (seeds).  Each configuration's own run folder is `runs/<key>/` (column `run` "
        "of `sweep.csv`); `plastix report runs/<key>` renders one of them.\n",
        "![sweep](sweep.png)\n",
        _md_table(header, table),
    ]
    return "\n".join(text)


def report_sweep_dir(run_dir: Path, show: bool = True) -> Path:
    from .runs import write_text
    from .sweep import load_sweep, print_sweep_table, report_sweep

    rows = report_sweep(run_dir)
    swept = load_sweep(run_dir / "sweep.toml").swept_keys()
    path = write_text(run_dir / "report.md", sweep_markdown(run_dir, rows, swept))
    if show:
        print_sweep_table(rows, swept, run_dir)
    return path


def report_cli(run_dir: Path, show: bool = True) -> Path:
    """``plastix report RUN_DIR``: checks the folder, then renders it."""
    import os

    run_dir = Path(run_dir)
    kind = check_run_dir(run_dir)
    if not os.access(run_dir, os.W_OK | os.X_OK):
        raise ConfigError.bad_value("RUN_DIR", str(run_dir), "a folder plastix can write report.md into")
    path = report_sweep_dir(run_dir, show) if kind == "sweep" else report_compare(run_dir, show)
    if show:
        print(f"report: {path}")
    return path

"""The sweep driver: run every configuration not yet finished in the sweep folder (skipping
finished ones on resume), write each outcome as it arrives and the table and figure at the end."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError
from . import executors
from .configs import Configuration, _describe_settings, configurations
from .executors import EXECUTORS, NO_RAY_NOTE, Job, choose_backend, start_ray
from .results import _sweep_toml, check_out_dir, read_outcome, result_row, rows_to_csv, sweep_figure
from .schema import Sweep


def run_sweep(
    sweep: Sweep,
    out: str | os.PathLike,
    backend: str = "auto",
    workers: int | None = None,
    address: str | None = None,
    resume: bool = False,
    retry_failed: bool = False,
    progress: bool = True,
    configs: list[Configuration] | None = None,
) -> list[dict]:
    """Run every configuration not yet finished in ``out``; write and return the rows of sweep.csv."""
    from rich.console import Console

    console = Console(quiet=not progress, highlight=False)
    backend = choose_backend(backend, address)
    if workers is not None and not (isinstance(workers, int) and not isinstance(workers, bool) and workers > 0):
        raise ConfigError.bad_value("--workers", workers, "a positive integer")
    configs = configs if configs is not None else configurations(sweep)
    out = Path(out)
    check_out_dir(out, sweep, resume)
    n_workers = workers or max(1, os.cpu_count() or 1)
    started_ray = backend == "ray" and start_ray(n_workers, address)  # a bad --address fails before any write
    try:
        return _run_sweep(sweep, configs, out, backend, workers, address, retry_failed, console)
    finally:
        if started_ray:
            import ray

            ray.shutdown()


def _run_sweep(sweep, configs, out, backend, workers, address, retry_failed, console) -> list[dict]:
    from rich.markup import escape

    from ..runs import make_run_dir, write_json, write_jsonl, write_text

    out = make_run_dir(out, "sweep")
    write_text(out / "sweep.toml", _sweep_toml(sweep))

    swept = sweep.swept_keys()
    by_key: dict[str, list[Configuration]] = {}
    for c in configs:
        by_key.setdefault(c.key, []).append(c)
    outcomes: dict[str, dict] = {}
    for key in by_key:
        previous = read_outcome(out / "runs" / key)
        if previous is not None and (previous["status"] == "ok" or not retry_failed):
            outcomes[key] = previous
    jobs = [Job(key, group[0].config.model_dump(), str(out / "runs" / key)) for key, group in by_key.items() if key not in outcomes]

    n_workers = workers or max(1, min(os.cpu_count() or 1, len(jobs) or 1))
    where = {
        "ray": f"Ray cluster at {address}" if address else f"local Ray instance ({workers or os.cpu_count()} CPUs)",
        "processes": f"{n_workers} local processes",
        "serial": "this process",
    }[backend]
    console.print(f"sweep: {sweep.describe(len(configs))}, {len(by_key)} distinct runs; {where}; results in {out}")
    if backend == "processes" and not executors.ray_available():
        console.print(NO_RAY_NOTE)
    if outcomes:
        console.print(f"resume: {len(outcomes)} of {len(by_key)} runs already finished, {len(jobs)} to run")

    def write_rows() -> list[dict]:
        rows = [result_row(c, outcomes.get(c.key), swept) for c in configs]
        write_text(out / "sweep.csv", rows_to_csv(rows))
        write_jsonl(out / "sweep.jsonl", rows)
        return rows

    write_rows()
    done = [0]

    def on_result(job: Job, outcome: dict) -> None:
        run_dir = Path(job.run_dir)
        files = outcome.pop("files", None)
        if files and not (run_dir / "summary.json").exists():  # a worker on another machine
            from ..runs import write_bytes

            for name, data in files.items():
                write_bytes(run_dir / name, data)
        write_json(run_dir / "result.json", outcome)
        outcomes[job.key] = outcome
        done[0] += 1
        names = escape(", ".join(_describe_settings(c.settings) for c in by_key[job.key]))
        if outcome["status"] == "ok":
            rule = by_key[job.key][0].rule
            f = outcome["summary"]["rules"][rule]["final_loss"]
            text = f"final loss {f['median']:.4g} ({f['q25']:.3g}–{f['q75']:.3g}), {outcome['wall_seconds']:.1f} s"
        else:
            text = f"[red]FAILED[/red] {escape(outcome['error'])}"
        console.print(f"[{done[0]}/{len(jobs)}] {names}: {text}", markup=True)
        write_rows()

    try:
        if jobs:
            EXECUTORS[backend](jobs, on_result, workers=n_workers, address=address)
    except KeyboardInterrupt:
        write_rows()
        console.print(f"interrupted; finish with: plastix sweep --resume --out {out}")
        raise
    rows = write_rows()
    from ..runs import save_figure

    save_figure(sweep_figure(rows, swept), out / "sweep.png")
    return rows

"""``plastix fit MODEL data.csv``: fit learning models to a user's behavioural data.

Everything is validated (model names, numbers, the CSV, the output folder) before anything is
written.  Writes, atomically, into the run folder:

* ``parameters_<model>.csv`` — one row per subject: estimates, log-likelihood, BIC (and the
  Laplace log evidence for MAP fits), gradient norm at the end of the fit;
* ``comparison.csv`` — one row per model: summed log-likelihood and BIC, delta BIC, number of
  subjects best fitted by that model;
* ``summary.json`` — the same plus the settings used.

and prints the comparison table and the median estimates with rich.
"""

from __future__ import annotations

import io
import csv
from pathlib import Path

import numpy as np

from ..errors import ConfigError, check_positive
from ..runs import check_writable, make_run_dir, write_json, write_text
from . import datasets as data_module
from . import fitting


def parse_models(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise ConfigError.bad_value("MODEL", text, ", ".join(fitting.MODELS))
    for n in names:
        if n not in fitting.MODELS:
            raise ConfigError.bad_value("MODEL", n, ", ".join(fitting.MODELS) + " (comma-separated for a comparison)")
    if len(set(names)) != len(names):
        raise ConfigError.bad_value("MODEL", text, "each model at most once")
    return names


def rows_to_csv(rows: list[dict]) -> str:
    if not rows:
        return ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    return buffer.getvalue()


def run_fit_cli(model: str, data: Path, response: str = "gaussian", method: str = "map", out: Path | None = None,
                starts: int = 4, steps: int = 400, seed: int = 0, initial_mean: float = 0.0,
                particles: int = 100, prior_variance: float = 6.25, learning_rate: float = 0.1) -> Path:
    from rich.console import Console
    from rich.table import Table

    models = parse_models(model)
    if response not in data_module.RESPONSE_MODELS:
        raise ConfigError.bad_value("--response", response, ", ".join(data_module.RESPONSE_MODELS))
    if method not in ("ml", "map"):
        raise ConfigError.bad_value("--method", method, "ml, map")
    for field, value, integer in (("--starts", starts, True), ("--steps", steps, True), ("--particles", particles, True),
                                  ("--prior-variance", prior_variance, False), ("--learning-rate", learning_rate, False)):
        check_positive(field, value, integer=integer)
    if not np.isfinite(initial_mean):
        raise ConfigError.bad_value("--initial-mean", initial_mean, "a finite number")
    binary = any(fitting.MODELS[m].binary_outcomes for m in models)
    dataset = data_module.read_csv(data, response_model=response, binary_outcomes=binary)
    if out is not None:
        check_writable(out)
    settings = fitting.FitSettings(initial_mean=float(initial_mean), n_particles=int(particles))

    console = Console(stderr=False)
    console.print(f"[bold]{data}[/bold]: {dataset.n_subjects} subjects, {int(dataset.n_trials.sum())} trials, "
                  f"{int(dataset.n_responses.sum())} responses, {dataset.n_options} option(s); response model {response}")
    results = []
    for name in models:
        with console.status(f"fitting {name} ({method}) ..."):
            results.append(fitting.fit(name, dataset, method=method, starts=starts, steps=steps, seed=seed,
                                       prior_variance=prior_variance, learning_rate=learning_rate, settings=settings))

    run_dir = make_run_dir(out, "fit")
    for res in results:
        write_text(run_dir / f"parameters_{res.model}.csv", rows_to_csv(res.table()))
    comparison = fitting.compare(results)
    write_text(run_dir / "comparison.csv", rows_to_csv(comparison))
    write_json(run_dir / "summary.json", {
        "data": str(data), "response": response, "method": method, "starts": starts, "steps": steps, "seed": seed,
        "initial_mean": initial_mean, "particles": particles, "prior_variance": prior_variance,
        "comparison": comparison,
        "median_estimates": {r.model: dict(zip(r.parameter_names, np.median(r.estimates, axis=0).tolist())) for r in results},
    })

    table = Table(title=f"model comparison ({method}; lower BIC is better)", title_justify="left")
    for col in ("model", "params", "log-likelihood", "BIC", "ΔBIC", "subjects best") + (("log evidence",) if method == "map" else ()):
        table.add_column(col, justify="left" if col == "model" else "right")
    for row in comparison:
        cells = [row["model"], str(row["parameters"]), f"{row['log_likelihood']:.2f}", f"{row['bic']:.2f}",
                 f"{row['delta_bic']:.2f}", str(row["subjects_best"])]
        if method == "map":
            cells.append(f"{row['log_evidence']:.2f}")
        table.add_row(*cells)
    console.print(table)
    for res in results:
        est = Table(title=f"{res.model}: median over subjects (per subject in parameters_{res.model}.csv)", title_justify="left")
        for n in res.parameter_names:
            est.add_column(n, justify="right")
        est.add_row(*(f"{v:.4g}" for v in np.median(res.estimates, axis=0)))
        console.print(est)
    console.print(f"results: {run_dir}")
    return run_dir

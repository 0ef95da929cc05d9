"""``plastix compare``: several rules trained on the same networks and trials, side by side.

Defaults reproduce Murray 2019's Fig. 2 setting at T = 200 (20τ): the periodic task, N = 30,
9 networks, 10⁴ trials, per-trial SGD updates, each rule at its paper learning rate.  Every rule
starts from the same initial networks (seed by seed) and sees the same trials.

Writes into the run folder: ``config.toml`` (the full resolved configuration), ``metrics.jsonl``
(per rule, seed and chunk: mean loss, feedback alignment, weight norms, optionally the gradient
cosine with BPTT), ``curves.npz`` (every trial's loss, per rule and seed), ``params.npz`` (final
parameters, per rule), ``summary.json`` and ``learning_curves.png``.  Checkpoints in
``checkpoints/`` let ``--resume`` finish an interrupted run with exactly the same numbers.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pydantic
from pydantic import BaseModel, ConfigDict, PositiveFloat, PositiveInt

from . import config as cfg
from . import learning_rates
from .errors import ConfigError
from .runs import check_writable, file_stem, load_pytree, make_run_dir, save_arrays, save_figure, save_pytree
from .runs import write_json, write_jsonl, write_text



class CompareConfig(BaseModel):
    """Everything ``plastix compare`` needs; also the schema of ``--config`` files."""

    model_config = ConfigDict(extra="forbid")

    task: str = "periodic"
    task_options: dict[str, Any] = {}
    model: str = "rate"
    n_rec: PositiveInt = 30
    model_options: dict[str, Any] = {}
    rules: list[str] = ["rflo", "bptt"]
    rule_options: dict[str, dict[str, Any]] = {}
    trials: PositiveInt = 10_000
    seeds: PositiveInt = 9
    seed: int = 0
    batch_size: PositiveInt = 1
    optimizer: Literal["sgd", "adam"] = "sgd"
    lr: PositiveFloat | None = None
    lrs: dict[str, PositiveFloat] = {}
    clip: PositiveFloat | None = None
    update_every: PositiveInt | None = None
    chunk: PositiveInt = 500
    grad_cosine: bool = False
    seed_chunk: PositiveInt | None = None  # train the seeds in groups of at most this many (large N on a CPU)

    @pydantic.field_validator("rules")
    @classmethod
    def _nonempty(cls, v):
        if not v:
            raise ValueError("at least one rule")
        return v


@dataclasses.dataclass
class Setup:
    """A validated configuration, turned into objects."""

    config: CompareConfig
    task: Any
    model: Any
    rules: dict[str, Any]
    lrs: dict[str, float]


def build(config: CompareConfig) -> Setup:
    """Build task, model and rules, validating every option before anything runs."""
    from . import models, rules, tasks

    task = tasks.get(config.task, **config.task_options)
    model_kwargs = {"n_in": task.n_in, "n_rec": config.n_rec, "n_out": task.n_out, **config.model_options}
    try:
        model = models.get(config.model, **model_kwargs)
    except TypeError as exc:
        raise ConfigError(f"model_options: {exc}") from None
    for name in config.rule_options:
        if name not in config.rules:
            raise ConfigError.bad_value("rule_options", name, "options for a rule in rules: " + ", ".join(config.rules))
    for name in config.lrs:
        if name not in config.rules:
            raise ConfigError.bad_value("lrs", name, "a rule in rules: " + ", ".join(config.rules))
    if len(set(config.rules)) != len(config.rules):
        raise ConfigError.bad_value("rules", ",".join(config.rules), "distinct rule names")
    # A task that scores with cross-entropy (cue accumulation, store-recall, neurogym with
    # loss="xent") trains every rule on that loss unless the rule's options say otherwise.
    task_loss = {"loss": task.loss} if getattr(task, "loss", "mse") != "mse" else {}
    built = {name: rules.get(name, model, **{**task_loss, **config.rule_options.get(name, {})}) for name in config.rules}
    lrs = {}
    for name, rule in built.items():
        lrs[name] = config.lrs.get(name, config.lr if config.lr is not None else learning_rates.default_lr(name, config.task, task.n_steps))
    if config.update_every is not None and task.n_steps % config.update_every:
        raise ConfigError.bad_value("update_every", config.update_every, f"a divisor of the trial length {task.n_steps}")
    return Setup(config, task, model, built, lrs)


def resolve_config(
    task=None, rules=None, trials=None, seeds=None, n_rec=None, lr=None, model=None,
    config: Path | None = None, overrides: list[str] = (),
) -> CompareConfig:
    """Defaults < config file < flags < ``--set`` overrides."""
    data: dict = cfg.read_toml(config) if config is not None else {}
    flags = {"task": task, "trials": trials, "seeds": seeds, "n_rec": n_rec, "lr": lr, "model": model}
    if rules is not None:
        flags["rules"] = [r.strip() for r in rules.split(",") if r.strip()]
    data.update({k: v for k, v in flags.items() if v is not None})
    for assignment in overrides:
        cfg.apply_override(data, assignment, CompareConfig)
    return cfg.validate(CompareConfig, data)


def run_compare_cli(task, rules, trials, seeds, n_rec, lr, model, out, config, overrides, resume=False):
    if resume:
        if out is None:
            raise ConfigError.bad_value("--resume", True, "used together with --out DIR of the interrupted run")
        if not (Path(out) / "config.toml").exists():
            raise ConfigError.bad_value("--out", str(out), "the folder of an interrupted run (it has no config.toml)")
        conf = resolve_config(config=Path(out) / "config.toml")
    else:
        conf = resolve_config(task, rules, trials, seeds, n_rec, lr, model, config, overrides)
    setup = build(conf)
    if out is not None:
        check_writable(out)
        if not resume and (Path(out) / "summary.json").exists():
            raise ConfigError.bad_value("--out", str(out), "a folder without a finished run (use another folder)")
    run_dir = make_run_dir(out, conf.task)
    summary = run_compare(setup, run_dir, progress=True)
    print_table(summary, run_dir)
    return summary


def _config_toml(conf: CompareConfig) -> str:
    import tomli_w

    data = {k: v for k, v in conf.model_dump().items() if v is not None}
    return tomli_w.dumps(data)


def run_compare(setup: Setup, run_dir: Path, progress: bool = True, on_chunk=None) -> dict:
    """Train every rule (resuming from checkpoints in ``run_dir``) and write the run's files."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .training import Trainer, make_optimizer

    conf = setup.config
    ckpt_dir = run_dir / "checkpoints"
    ckpt_dir.mkdir(exist_ok=True)
    config_text = _config_toml(conf)
    previous = run_dir / "config.toml"
    if previous.exists() and previous.read_text() != config_text:
        raise ConfigError.bad_value("--out", str(run_dir), "a folder whose config.toml matches this run's settings")
    write_text(previous, config_text)

    results: dict[str, dict] = {}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, disable=not progress, transient=False) as bar:
        for name, rule in setup.rules.items():
            task_id = bar.add_task(f"{name:>16}", total=conf.trials)
            trainer = Trainer(
                setup.model, setup.task, rule, make_optimizer(conf.optimizer, setup.lrs[name], conf.clip),
                batch_size=conf.batch_size, update_every=conf.update_every, chunk=conf.chunk,
                grad_cosine=conf.grad_cosine,
                seed_chunk=conf.seed_chunk,
            )
            results[name] = _train_rule(trainer, name, conf, ckpt_dir, lambda n, t=task_id: bar.advance(t, n), on_chunk)

    summary = {
        "task": conf.task,
        "n_rec": conf.n_rec,
        "trials": conf.trials,
        "seeds": conf.seeds,
        "rules": {
            name: {
                "initial_loss": float(np.median(r["losses"][:, 0])),
                "final_loss": final_loss_stats(r["losses"]),
                "seconds": r["seconds"],
                "lr": setup.lrs[name],
            }
            for name, r in results.items()
        },
    }
    rows = [{"rule": name, **row} for name, r in results.items() for row in r["records"]]
    write_jsonl(run_dir / "metrics.jsonl", rows)
    save_arrays(run_dir / "curves.npz", {name: r["losses"] for name, r in results.items()})
    for name, r in results.items():
        save_pytree(run_dir / f"params_{file_stem(name)}.npz", r["params"], {"rule": name, "seeds": conf.seeds})
    save_figure(learning_curve_figure({n: r["losses"] for n, r in results.items()}, conf), run_dir / "learning_curves.png")
    write_json(run_dir / "summary.json", summary)
    return summary


def _train_rule(trainer, name, conf, ckpt_dir, advance, on_chunk=None) -> dict:
    """Train one rule, resuming from (and writing) ``checkpoints/<rule>.npz`` after every chunk."""
    import jax

    ckpt = ckpt_dir / f"{file_stem(name)}.npz"
    state = trainer.init(conf.seed, conf.seeds)
    losses, records, seconds_before = None, [], 0.0
    if ckpt.exists():
        like = {"params": state.params, "opt_state": state.opt_state, "rule_state": state.rule_state,
                "losses": np.zeros(0)}
        tree, meta = load_pytree(ckpt, like)
        losses = tree["losses"]
        from .training import TrainState

        state = TrainState(tree["params"], tree["opt_state"], tree["rule_state"], int(meta["trial"]))
        records, seconds_before = meta["records"], meta["seconds"]
        advance(state.trial)

    t0 = time.perf_counter()

    def checkpoint(st, losses_so_far, recs):
        meta = {"trial": st.trial, "records": recs, "seconds": seconds_before + time.perf_counter() - t0}
        tree = {"params": st.params, "opt_state": st.opt_state, "rule_state": st.rule_state, "losses": losses_so_far}
        save_pytree(ckpt, tree, meta)  # one atomic file: state and every loss so far
        if on_chunk is not None:
            on_chunk(name, st)

    if state.trial < conf.trials:
        result = trainer.fit(
            conf.trials, seed=conf.seed, n_seeds=conf.seeds, state=state, progress=advance,
            on_chunk=checkpoint, losses=losses, records=records,
        )
        state, losses, records = result.state, result.losses, result.records
    seconds = seconds_before + time.perf_counter() - t0
    return {"losses": losses, "records": records, "params": jax.device_get(state.params), "seconds": seconds}


def final_loss_stats(losses: np.ndarray) -> dict:
    """Per seed, the mean loss over the last 1 % of trials (at least 1); median and quartiles."""
    window = max(1, losses.shape[1] // 100)
    final = losses[:, -window:].mean(axis=1)
    q25, median, q75 = np.percentile(final, [25, 50, 75])
    return {"median": float(median), "q25": float(q25), "q75": float(q75)}


def learning_curve_figure(curves: dict[str, np.ndarray], conf: CompareConfig, n_points: int = 200):
    """Median and 25–75 % band over seeds of the (bin-averaged) loss, log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for name, losses in curves.items():
        n = losses.shape[1]
        edges = np.unique(np.linspace(0, n, min(n_points, n) + 1).astype(int))
        binned = np.stack([losses[:, a:b].mean(1) for a, b in zip(edges[:-1], edges[1:])], axis=1)
        x = edges[1:]
        q25, med, q75 = np.percentile(binned, [25, 50, 75], axis=0)
        (line,) = ax.plot(x, med, label=name)
        ax.fill_between(x, q25, q75, alpha=0.25, color=line.get_color())
    ax.set_yscale("log")
    ax.set_xlabel("trial")
    ax.set_ylabel("loss")
    ax.set_title(f"{conf.task}, N = {conf.n_rec}, {conf.seeds} seeds (median, 25–75 %)")
    ax.legend()
    return fig


def print_table(summary: dict, run_dir: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{summary['task']}: N = {summary['n_rec']}, {summary['trials']} trials, {summary['seeds']} seeds")
    for col in ("rule", "lr", "initial loss", "final loss (median)", "25–75 %", "seconds"):
        table.add_column(col, justify="right" if col != "rule" else "left")
    for name, r in summary["rules"].items():
        f = r["final_loss"]
        table.add_row(name, f"{r['lr']:g}", f"{r['initial_loss']:.3g}", f"{f['median']:.3g}",
                      f"{f['q25']:.3g}–{f['q75']:.3g}", f"{r['seconds']:.1f}")
    console = Console()
    console.print(table)
    console.print(f"results in {run_dir}")

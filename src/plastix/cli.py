"""The ``plastix`` command line.

Every command validates its input before it writes anything; a bad value gives one line on
stderr naming the field, the value and what is accepted, and exit code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from .errors import PlastixError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="plastix: local, online learning rules for recurrent networks, beside exact gradients.",
)


def _fail(message: str, code: int = 2) -> None:
    print(f"plastix: error: {message}", file=sys.stderr)
    raise SystemExit(code)


# --------------------------------------------------------------------------------------------
# plastix list
# --------------------------------------------------------------------------------------------
@app.command("list")
def list_command() -> None:
    """List the tasks, rules and reproductions, one line each."""
    from rich.console import Console
    from rich.table import Table

    from . import experiments, rules, tasks

    console = Console()
    for title, items in (
        ("tasks", tasks.describe()),
        ("rules", rules.describe()),
        ("reproductions", {n: m.DESCRIPTION for n, m in experiments.available().items()}),
    ):
        table = Table(title=title, show_header=False, box=None, title_justify="left")
        table.add_column("name", style="bold")
        table.add_column("description")
        for name, desc in items.items():
            table.add_row(name, desc)
        console.print(table)


# --------------------------------------------------------------------------------------------
# plastix compare
# --------------------------------------------------------------------------------------------
@app.command("compare")
def compare_command(
    task: Optional[str] = typer.Option(None, help="Task name (see `plastix list`). Default: periodic."),
    rules: Optional[str] = typer.Option(None, help="Comma-separated rules. Default: rflo,bptt."),
    trials: Optional[int] = typer.Option(None, help="Trials per seed. Default: 10000."),
    seeds: Optional[int] = typer.Option(None, help="Independent networks per rule. Default: 9."),
    n_rec: Optional[int] = typer.Option(None, "--n-rec", help="Recurrent units. Default: 30."),
    lr: Optional[float] = typer.Option(None, help="One learning rate for every rule (default: each rule's paper value)."),
    model: Optional[str] = typer.Option(None, help="Model kind (default: rate)."),
    out: Optional[Path] = typer.Option(None, help="Output folder. Default: runs/<timestamp>-<task>."),
    config: Optional[Path] = typer.Option(None, help="TOML file with settings (flags override it)."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Override a setting: key=value (repeatable)."),
    resume: bool = typer.Option(False, "--resume", help="Finish the interrupted run in --out from its checkpoints."),
) -> None:
    """Train several rules on the same trials and compare their learning curves."""
    from .compare import run_compare_cli

    if resume and any(v is not None for v in (task, rules, trials, seeds, n_rec, lr, model, config)) or (resume and set_):
        _fail("--resume: takes only --out (the settings come from the run's config.toml)")
    run_compare_cli(
        task=task, rules=rules, trials=trials, seeds=seeds, n_rec=n_rec, lr=lr, model=model,
        out=out, config=config, overrides=set_ or [], resume=resume,
    )


# --------------------------------------------------------------------------------------------
# plastix reproduce
# --------------------------------------------------------------------------------------------
@app.command("reproduce")
def reproduce_command(
    name: Optional[str] = typer.Argument(None, help="Reproduction name (see --list)."),
    quick: bool = typer.Option(False, "--quick", help="Reduced protocol (minutes, not hours)."),
    figure: Optional[str] = typer.Option(None, help="Only this figure / part (where the reproduction has parts)."),
    out: Optional[Path] = typer.Option(None, help="Output folder. Default: runs/<timestamp>-<name>."),
    list_: bool = typer.Option(False, "--list", help="List reproductions and their claims."),
) -> None:
    """Reproduce a paper's figures and compute its claims (report.md, figures, claims.json)."""
    from . import experiments
    from .runs import make_run_dir

    if list_:
        for n, module in experiments.available().items():
            print(f"{n}: {module.DESCRIPTION}")
            for cid, text in module.CLAIMS:
                print(f"    {cid}: {text}")
        return
    if name is None:
        _fail("experiment: missing; accepted: " + ", ".join(experiments.available()))
    # Validate before creating the run folder.
    options = experiments.check_options(name, {"figure": figure} if figure is not None else {})
    run_dir = make_run_dir(out, name)
    rep = experiments.reproduce(name, run_dir, quick=quick, options=options)
    held = sum(c.holds for c in rep.claims)
    print(f"{name}: {held}/{len(rep.claims)} claims hold; report: {run_dir / 'report.md'}")


# --------------------------------------------------------------------------------------------
# plastix bench
# --------------------------------------------------------------------------------------------
@app.command("bench")
def bench_command(
    suite: str = typer.Argument("rate", help="Benchmark suite: rate (default; RFLO, RTRL, BPTT) or eprop (e-prop vs BPTT, spiking)."),
    quick: bool = typer.Option(False, "--quick", help="Fewer repetitions and sizes."),
    out: Optional[Path] = typer.Option(None, help="Write results as JSON here."),
) -> None:
    """Measure speed and memory (µs per time step, per-network cost, memory vs trial length)."""
    from .bench import run_bench_cli

    run_bench_cli(suite=suite, quick=quick, out=out)


# --------------------------------------------------------------------------------------------
# plastix sweep
# --------------------------------------------------------------------------------------------
@app.command("sweep")
def sweep_command(
    sweep_file: Optional[Path] = typer.Argument(
        None, metavar="SWEEP.toml", help="Compare settings plus a [sweep] table (see docs/sweeps.md)."
    ),
    out: Optional[Path] = typer.Option(None, help="Sweep folder. Default: runs/<timestamp>-sweep-<file name>."),
    resume: bool = typer.Option(False, "--resume", help="Finish the interrupted sweep in --out, skipping finished configurations."),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="With --resume: run failed configurations again."),
    backend: str = typer.Option("auto", help="ray, processes, serial, or auto (Ray if installed, else local processes)."),
    address: Optional[str] = typer.Option(None, help="Ray cluster to join (auto, HOST:PORT, ray://HOST:10001). Default: local."),
    workers: Optional[int] = typer.Option(None, help="Local workers (Ray CPUs or processes). Default: number of CPUs."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List the configurations and stop."),
) -> None:
    """Run `plastix compare` over a grid or random sample of settings, on Ray or local processes."""
    from .sweep import sweep_cli

    if retry_failed and not resume:
        _fail("--retry-failed: got True; accepted: only together with --resume")
    sweep_cli(sweep_file, out, resume, retry_failed, backend, address, workers, dry_run)


# --------------------------------------------------------------------------------------------
# plastix report
# --------------------------------------------------------------------------------------------
@app.command("report")
def report_command(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="Folder of a plastix compare run (or of a sweep)."),
) -> None:
    """Render a finished run's figure, table and report.md again from its files."""
    from .report import report_cli

    report_cli(run_dir)


def _click_exceptions():
    """Click's exception classes, from typer's bundled copy and from click itself where present."""
    modules = []
    try:
        from typer._click import exceptions as bundled

        modules.append(bundled)
    except ImportError:
        pass
    try:
        import click.exceptions as upstream

        modules.append(upstream)
    except ImportError:
        pass
    pick = lambda name: tuple(getattr(m, name) for m in modules if hasattr(m, name))
    return pick("NoArgsIsHelpError"), pick("ClickException"), pick("Abort")


# --------------------------------------------------------------------------------------------
# plastix fit
# --------------------------------------------------------------------------------------------
@app.command("fit")
def fit_command(
    model: str = typer.Argument(..., help="rw, kf, vkf, vkf-binary, pf, pf-volatility-only, pf-stochasticity-only; comma-separated to compare by BIC."),
    data: Path = typer.Argument(..., help="CSV, one row per trial: subject, outcome, response[, cue] (see docs/volatility.md)."),
    response: str = typer.Option("gaussian", help="Response model: gaussian (predictions) or choice (chosen option index)."),
    method: str = typer.Option("map", help="map (Gaussian prior on unconstrained parameters) or ml."),
    out: Optional[Path] = typer.Option(None, help="Output folder. Default: runs/<timestamp>-fit."),
    starts: int = typer.Option(4, help="Optimiser starts per subject."),
    steps: int = typer.Option(400, help="Adam steps per start."),
    seed: int = typer.Option(0, help="Seed for starting points and particle filters."),
    initial_mean: float = typer.Option(0.0, "--initial-mean", help="Prior mean m0 of every model (logit scale for vkf-binary)."),
    particles: int = typer.Option(100, help="Particles for the pf models."),
    prior_variance: float = typer.Option(6.25, "--prior-variance", help="MAP prior variance on unconstrained parameters."),
) -> None:
    """Fit learning models to behavioural data (per-subject parameters, BIC comparison)."""
    from .volatility.command import run_fit_cli

    run_fit_cli(model=model, data=data, response=response, method=method, out=out, starts=starts, steps=steps,
                seed=seed, initial_mean=initial_mean, particles=particles, prior_variance=prior_variance)


# --------------------------------------------------------------------------------------------
# plastix features
# --------------------------------------------------------------------------------------------
@app.command("features")
def features_command(
    folder: Path = typer.Argument(..., help="Image folder: one sub-folder of PNG/JPEG images per class."),
    out: Path = typer.Option(Path("features.npz"), help="Output .npz file."),
    image_size: int = typer.Option(128, "--image-size", help="Resize images to this size (square); 0 keeps their size."),
    prototypes: Optional[Path] = typer.Option(None, help="S2 prototypes .npz (e.g. an earlier features file); default: sample from FOLDER."),
    orientation_order: Optional[str] = typer.Option(None, "--orientation-order", help="Angles of the prototype file's channels, e.g. 90,135,0,45 (files without a plastix header)."),
    n_prototypes: int = typer.Option(100, "--n-prototypes", help="Prototypes per patch size when sampling."),
    seed: int = typer.Option(0, help="Seed for sampling prototypes."),
    batch_size: int = typer.Option(16, "--batch-size", help="Images per compiled batch."),
) -> None:
    """Write the HMAX C2 features of a folder of images (one sub-folder per class) to a .npz file."""
    from rich.progress import Progress

    from .perception.folder_features import write_folder_features

    with Progress(transient=True) as bar:
        task = bar.add_task("C2 features", total=None)
        meta = write_folder_features(
            folder, out, image_size=image_size, prototypes_file=prototypes, orientation_order=orientation_order,
            prototypes_per_size=n_prototypes, seed=seed, batch_size=batch_size,
            progress=lambda n: bar.update(task, advance=n),
        )
    n_features = len(meta["prototype_sizes"]) * meta["prototypes_per_size"]
    skipped = f"; {len(meta['skipped'])} non-image files skipped" if meta["skipped"] else ""
    print(f"features: {len(meta['paths'])} images, {len(meta['class_names'])} classes, {n_features} C2 features -> {out}{skipped}")


# --------------------------------------------------------------------------------------------
# plastix logic
# --------------------------------------------------------------------------------------------
@app.command("logic")
def logic_command(
    program: Path = typer.Argument(..., help="Program file: Horn clauses 'C :- A, B.', facts 'A.', goals ':- C.'."),
    starts: int = typer.Option(100, help="Random initial states to relax from."),
    method: str = typer.Option("mcp", help="Relaxation: mcp (asynchronous McCulloch-Pitts), sync, boltzmann, tanh."),
    seed: int = typer.Option(0, help="Random seed."),
    weights: bool = typer.Option(False, "--weights", help="Also print the Wan Abdullah weights."),
) -> None:
    """Compile a logic program into a Hopfield network (Wan Abdullah), relax it, report the measures."""
    from .errors import ConfigError, check_choice, check_positive

    check_positive("--starts", starts, integer=True)
    try:
        text = Path(program).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError.bad_value("program", str(program), f"a readable UTF-8 text file ({exc.__class__.__name__})") from None
    import jax

    from .energy import horn, logic

    check_choice("--method", method, logic.METHODS)
    prog = horn.parse_program(text)
    net = logic.wan_abdullah(prog)
    m = logic.evaluate(net, jax.random.key(seed), n_starts=starts, method=method)
    print(f"{program}: {prog.n_atoms} atoms, {len(prog.clauses)} clauses, order {net.order}, "
          f"H_min = {net.h_min:g}, satisfiable: {prog.satisfiable}")
    if weights:
        for M, J in sorted(net.weights.items(), key=lambda kv: (len(kv[0]), kv[0])):
            print(f"  J[{','.join(prog.atoms[i] for i in M)}] = {J:g}")
    print(f"global-minima ratio {m['global_minima_ratio']:.3f} over {m['n_runs']} runs ({method}); "
          f"Hamming to nearest model {m['hamming_nearest_model']:.3f}"
          f"{'' if m['hamming_exact'] else ' (upper bound)'}; violated clauses {m['violations_mean']:.3f}; "
          f"CPU {1e3 * m['train_cpu_seconds']:.2f} ms (weights) + "
          f"{1e3 * m['retrieval_cpu_seconds']:.2f} ms (relaxation)")


def main() -> None:
    """Console entry point: run the app, turning user errors into one line and exit code 2."""
    no_args, click_error, abort = _click_exceptions()
    try:
        rv = app(standalone_mode=False)
    except PlastixError as exc:
        from .errors import DivergenceError

        _fail(str(exc), 1 if isinstance(exc, DivergenceError) else 2)
    except no_args as exc:
        print(exc.format_message() if hasattr(exc, "format_message") else exc, file=sys.stderr)
        raise SystemExit(2)
    except click_error as exc:
        _fail(exc.format_message().replace("\n", " "), getattr(exc, "exit_code", 2) or 2)
    except abort + (KeyboardInterrupt,):
        print("plastix: interrupted", file=sys.stderr)
        raise SystemExit(130)
    raise SystemExit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":
    main()

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
    experiments.get(name)  # validate before creating the run folder
    options = {"figure": figure} if figure is not None else {}
    run_dir = make_run_dir(out, name)
    rep = experiments.reproduce(name, run_dir, quick=quick, options=options)
    held = sum(c.holds for c in rep.claims)
    print(f"{name}: {held}/{len(rep.claims)} claims hold; report: {run_dir / 'report.md'}")


# --------------------------------------------------------------------------------------------
# plastix bench
# --------------------------------------------------------------------------------------------
@app.command("bench")
def bench_command(
    suite: str = typer.Argument("rate", help="Benchmark suite: rate (default)."),
    quick: bool = typer.Option(False, "--quick", help="Fewer repetitions and sizes."),
    out: Optional[Path] = typer.Option(None, help="Write results as JSON here."),
) -> None:
    """Measure speed and memory (µs per time step, per-network cost, memory vs trial length)."""
    from .bench import run_bench_cli

    run_bench_cli(suite=suite, quick=quick, out=out)


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

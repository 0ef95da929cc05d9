"""``plastix sweep`` on the command line: validate everything, then run or (``--dry-run``) list."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from . import executors
from .configs import configurations
from .driver import run_sweep
from .executors import NO_RAY_NOTE, choose_backend
from .results import check_out_dir, print_sweep_table, result_row, rows_to_csv
from .schema import load_sweep


def sweep_cli(sweep_file, out, resume, retry_failed, backend, address, workers, dry_run) -> list[dict] | None:
    """``plastix sweep``: validate everything, then run (or, with ``dry_run``, list) the configurations."""
    if resume and out is None:
        raise ConfigError.bad_value("--resume", True, "used together with --out DIR of the interrupted sweep")
    if sweep_file is None:
        if not resume:
            raise ConfigError.bad_value("SWEEP.toml", None, "a sweep file (or --resume --out DIR)")
        sweep_file = Path(out) / "sweep.toml"
        if not sweep_file.exists():
            raise ConfigError.bad_value("--out", str(out), "the folder of an interrupted sweep (it has no sweep.toml)")
    sweep = load_sweep(sweep_file)
    backend = choose_backend(backend, address)
    if workers is not None and workers <= 0:
        raise ConfigError.bad_value("--workers", workers, "a positive integer")
    configs = configurations(sweep)
    if dry_run:
        rows = [result_row(c, None, sweep.swept_keys()) for c in configs]
        if backend == "processes" and not executors.ray_available():
            print(NO_RAY_NOTE)
        print(f"{sweep.describe(len(configs))}; backend {backend}")
        print(rows_to_csv(rows), end="")
        return None
    if out is None:
        from ..runs import timestamp

        out = Path("runs") / f"{timestamp()}-sweep-{Path(sweep_file).stem}"
    check_out_dir(Path(out), sweep, resume)
    rows = run_sweep(sweep, out, backend, workers, address, resume, retry_failed, configs=configs)
    print_sweep_table(rows, sweep.swept_keys(), Path(out))
    return rows

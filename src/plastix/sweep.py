"""``plastix sweep``: the ``plastix compare`` job over a grid or a random sample of settings.

**The sweep file** is a ``plastix compare --config`` file (the settings every configuration
shares) plus a ``[sweep]`` table that says what varies::

    task = "periodic"
    trials = 2000
    seeds = 4                      # seeds of one configuration are trained together (vmap)
    rules = ["rflo", "bptt"]

    [sweep]
    method = "grid"                # or "random", with samples = K and seed = S
    [sweep.parameters]
    lr = [0.003, 0.01, 0.03]
    "task_options.period" = [200, 400]

A parameter is any :class:`~plastix.compare.CompareConfig` field; dotted keys reach inside the
option tables (``task_options.period``, ``model_options.dale``, ``rule_options.rflo.feedback``,
``lrs.bptt``), and ``rule`` is the rule of a configuration.

**Configurations.**  Every configuration trains exactly one rule.  A grid is the Cartesian
product of the parameter lists, in file order; when ``rule`` is not swept, each point of the
grid is run for every rule of ``rules`` (rule varies slowest).  A random search makes
``samples`` draws with ``numpy.random.default_rng(seed)``, parameter by parameter in file order:
a list is drawn uniformly, a range ``{low = a, high = b}`` as U[a, b], with ``log = true`` as
exp U[ln a, ln b], with ``integer = true`` as an integer in [a, b]; each draw is then run for
every rule of ``rules`` (unless ``rule`` is a parameter), so the rules are compared on the same
draws.  The list of configurations depends only on the file, so a resumed sweep finds the same
ones.  A swept ``lr`` replaces ``lrs``; options and learning rates for another rule
(``rule_options.rflo.*`` in a ``bptt`` configuration) do not apply and are dropped, and
configurations that become identical share one run.

**Each configuration is exactly the ``plastix compare`` job**: ``compare.build`` then
``compare.run_compare`` on its fully resolved settings, in ``runs/<key>/`` of the sweep folder
(``key`` = the first 12 hex digits of the SHA-256 of its settings), with its S seeds trained
together (``vmap``) in one worker.  The numbers of a configuration depend only on its settings,
never on the executor, the worker or the order, so Ray, local processes and the serial executor
give identical results (tested).

**Executors.**  ``ray`` (the ``plastix[ray]`` extra): ``ray.init()`` starts a local Ray instance
with ``--workers`` CPUs, or ``--address`` joins a running cluster (``auto``, ``HOST:PORT``,
``ray://HOST:10001``); every configuration is a Ray task asking for one CPU.  ``processes``:
``--workers`` new Python interpreters on this machine, each running configurations one after
another (the fallback when Ray is not installed).  ``serial``: one configuration after another
in this process (debugging, notebooks).  ``auto`` (the default) is Ray when it is installed.

**Results.**  ``sweep.csv`` and ``sweep.jsonl`` (one row per configuration: its index, run folder,
rule, swept settings, resolved learning rate, status, median and quartiles over seeds of the
final loss — each seed's mean loss over the last 1 % of trials — initial loss, training seconds,
error), rewritten after every finished configuration; ``sweep.png`` (median final loss with
25–75 % bars against each swept value, one line per rule: the best over the other swept
settings at each value); ``sweep.toml`` (the sweep, as resolved).  ``runs/<key>/result.json``
marks a finished configuration.

**Failures and resume.**  Bad settings in any configuration stop the sweep before anything is
written (one line naming the configuration).  A configuration that fails while running
(divergence, an exception, a crashed worker) is recorded with its error and the sweep goes on.
``--resume --out DIR`` skips finished configurations (``--retry-failed`` reruns the failed ones)
and resumes an interrupted configuration from its ``plastix compare`` checkpoints, so it ends
with the numbers of an uninterrupted sweep.

**Caveats.**  On a cluster, workers write a configuration's files at the same path on their
own machine and also send them back to the driver, which writes them into the sweep folder;
with a shared filesystem an interrupted configuration resumes from its checkpoints, without one
it restarts from its beginning (the numbers are the same either way).  Every worker needs
plastix (and the same JAX) installed.  Timings in ``seconds`` include compilation and depend on
how many configurations share a machine.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import hashlib
import io
import itertools
import json
import math
import os
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, PositiveInt

from . import config as cfg
from .errors import ConfigError

BACKENDS = ("auto", "ray", "processes", "serial")
NO_RAY_NOTE = "note: Ray is not installed (pip install 'plastix[ray]'), so the sweep runs in local processes"
RANGE_KEYS = {"low", "high", "log", "integer"}
STAT_COLUMNS = ("final_loss_median", "final_loss_q25", "final_loss_q75", "initial_loss", "seconds")


# ----------------------------------------------------------------------------------------------
# The sweep file
# ----------------------------------------------------------------------------------------------
class SweepTable(BaseModel):
    """The ``[sweep]`` table."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["grid", "random"] = "grid"
    samples: PositiveInt | None = None
    seed: int = 0
    parameters: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Range:
    """A random-search range: U[low, high], log-uniform with ``log``, integers with ``integer``."""

    low: float
    high: float
    log: bool = False
    integer: bool = False

    def draw(self, rng: np.random.Generator):
        if self.integer:
            if self.log:
                return int(round(math.exp(rng.uniform(math.log(self.low), math.log(self.high)))))
            return int(rng.integers(int(self.low), int(self.high), endpoint=True))
        if self.log:
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return float(rng.uniform(self.low, self.high))


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


@dataclasses.dataclass
class Sweep:
    """A parsed, validated sweep file."""

    data: dict  # the whole file, as parsed (stored as sweep.toml; compared on --resume)
    base: dict  # the shared compare settings (the file without [sweep])
    method: str
    parameters: dict  # dotted key -> list of values, or Range
    samples: int | None
    seed: int

    def swept_keys(self) -> list[str]:
        """Swept keys in file order, with ``rule`` first when it is implied by ``rules``."""
        keys = list(self.parameters)
        return keys if "rule" in keys else ["rule", *keys]

    def describe(self, n_configs: int) -> str:
        parts = []
        if "rule" not in self.parameters:
            parts.append(f"{len(self._base_rules())} rule")
        if self.method == "grid":
            parts += [f"{len(v)} {k}" for k, v in self.parameters.items()]
            return " × ".join(parts) + f" = {n_configs} configurations"
        return f"{self.samples} random draws" + (f" × {parts[0]}" if parts else "") + f" = {n_configs} configurations"

    def _base_rules(self) -> list[str]:
        from .compare import CompareConfig

        return list(self.base.get("rules", CompareConfig.model_fields["rules"].default))


def _dict_fields() -> set[str]:
    import typing

    from .compare import CompareConfig

    return {n for n, f in CompareConfig.model_fields.items() if typing.get_origin(f.annotation) is dict}


def _is_range(value) -> bool:
    return isinstance(value, dict) and {"low", "high"} <= set(value) and set(value) <= RANGE_KEYS


def _flatten(table: dict, prefix: str = "") -> dict:
    """Nested TOML tables (``[sweep.parameters.task_options]``) become dotted keys."""
    flat = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and not _is_range(value):
            if not value:
                raise ConfigError.bad_value(f"sweep.parameters.{path}", value, "a list of values or a range {low, high}")
            flat.update(_flatten(value, path + "."))
        else:
            flat[path] = value
    return flat


def _check_key(path: str) -> None:
    from .compare import CompareConfig

    field = f"sweep.parameters.{path}"
    parts = path.split(".")
    top = parts[0]
    if path == "rule":
        return
    if top == "rules":
        raise ConfigError.bad_value(field, path, "rule (a sweep runs one rule per configuration)")
    if top not in CompareConfig.model_fields:
        raise ConfigError.bad_value(field, path, "rule or a compare setting: " + ", ".join(CompareConfig.model_fields))
    depth = {"rule_options": 3, "lrs": 2}.get(top, 2 if top in _dict_fields() else 1)
    if top in _dict_fields() and len(parts) < depth:
        example = {"rule_options": "rule_options.rflo.feedback", "lrs": "lrs.rflo"}.get(top, f"{top}.NAME")
        raise ConfigError.bad_value(field, path, f"a dotted key inside {top}, e.g. {example}")
    if top not in _dict_fields() and len(parts) > 1:
        raise ConfigError.bad_value(field, path, f"{top} (it has no sub-keys)")


def _check_values(path: str, values, method: str):
    field = f"sweep.parameters.{path}"
    if _is_range(values):
        if method == "grid":
            raise ConfigError.bad_value(field, values, 'a list of values (ranges {low, high} need method = "random")')
        low, high = values["low"], values["high"]
        log, integer = values.get("log", False), values.get("integer", False)
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high))
        if not numbers or not low < high:
            raise ConfigError.bad_value(field, values, "a range with numbers low < high")
        if not isinstance(log, bool) or not isinstance(integer, bool):
            raise ConfigError.bad_value(field, values, "log and integer given as true or false")
        if log and low <= 0:
            raise ConfigError.bad_value(field, values, "a log range with low > 0")
        if integer and not (float(low).is_integer() and float(high).is_integer()):
            raise ConfigError.bad_value(field, values, "an integer range with whole-number low and high")
        return Range(low, high, log, integer)
    if not isinstance(values, list) or not values:
        accepted = "a non-empty list of values" + (" or a range {low, high}" if method == "random" else "")
        raise ConfigError.bad_value(field, values, accepted)
    if path == "rule" and not all(isinstance(v, str) for v in values):
        raise ConfigError.bad_value(field, values, "a list of rule names")
    return list(values)


def parse_sweep(data: dict) -> Sweep:
    """Validate a parsed sweep file: its ``[sweep]`` table and the shared compare settings."""
    from .compare import CompareConfig

    data = copy.deepcopy(data)
    base = {k: v for k, v in data.items() if k != "sweep"}
    table = data.get("sweep")
    if not isinstance(table, dict):
        raise ConfigError.bad_value("sweep", table, "a [sweep] table with [sweep.parameters], e.g. lr = [0.01, 0.03]")
    try:
        spec = cfg.validate(SweepTable, table)
    except ConfigError as exc:
        raise ConfigError(f"sweep.{exc}") from None
    if spec.method == "random" and spec.samples is None:
        raise ConfigError.bad_value("sweep.samples", None, 'the number of random draws (method = "random")')
    if spec.method == "grid" and spec.samples is not None:
        raise ConfigError.bad_value("sweep.samples", spec.samples, 'nothing for a grid (samples is for method = "random")')
    parameters = _flatten(spec.parameters)
    if not parameters:
        raise ConfigError.bad_value("sweep.parameters", {}, "at least one swept setting, e.g. lr = [0.01, 0.03]")
    for path in parameters:
        _check_key(path)
        parameters[path] = _check_values(path, parameters[path], spec.method)
    cfg.validate(CompareConfig, base)  # shared settings: checked once, with their own field names
    return Sweep(data, base, spec.method, parameters, spec.samples, spec.seed)


def load_sweep(path: str | os.PathLike) -> Sweep:
    """Read and validate a sweep file."""
    return parse_sweep(cfg.read_toml(Path(path), field="SWEEP.toml"))


# ----------------------------------------------------------------------------------------------
# Configurations
# ----------------------------------------------------------------------------------------------
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
    from .compare import CompareConfig, build

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


# ----------------------------------------------------------------------------------------------
# One configuration (runs in a worker)
# ----------------------------------------------------------------------------------------------
def _error_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:500]


def run_configuration(config_data: dict, run_dir: str, collect_files: bool = False) -> dict:
    """Run one configuration — the ``plastix compare`` job — and return its outcome.

    Never raises for a failure of the configuration: the outcome is ``{"status": "failed",
    "error": one line, "traceback": ...}``.  With ``collect_files`` the run's files (not the
    checkpoints) come back as bytes, for a driver on another machine.
    """
    from .compare import CompareConfig, build, run_compare

    t0 = time.perf_counter()
    outcome: dict = {"status": "ok", "error": None, "summary": None, "host": os.uname().nodename}
    path = Path(run_dir)
    try:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError:  # a cluster worker without the driver's filesystem
            import tempfile

            path = Path(tempfile.mkdtemp(prefix="plastix-sweep-"))
        conf = cfg.validate(CompareConfig, config_data)
        outcome["summary"] = run_compare(build(conf), path, progress=False)
    except Exception as exc:  # recorded, never fatal to the sweep
        outcome.update(status="failed", error=_error_line(exc), traceback=traceback.format_exc())
    outcome["wall_seconds"] = time.perf_counter() - t0
    if collect_files and outcome["status"] == "ok":
        outcome["files"] = {p.name: p.read_bytes() for p in path.iterdir() if p.is_file() and not p.name.startswith(".")}
    return outcome


_WORKER_CODE = "from plastix.sweep import worker_main; worker_main()"


def worker_main() -> None:
    """A worker process: one job per line of stdin (JSON), each outcome written to its own file.

    The outcome file is written atomically, so its existence tells the driver the job is done.
    """
    import sys

    from .runs import write_json

    for line in sys.stdin:
        if line.strip():
            job = json.loads(line)
            write_json(job["outcome_path"], run_configuration(job["config"], job["run_dir"]))


# ----------------------------------------------------------------------------------------------
# Executors: run jobs, call on_result(job, outcome) in this process as each one finishes
# ----------------------------------------------------------------------------------------------
@dataclasses.dataclass
class Job:
    key: str
    config_data: dict
    run_dir: str


def _failed(error: str) -> dict:
    return {"status": "failed", "error": error, "summary": None}


def run_serial(jobs: list[Job], on_result: Callable, **_) -> None:
    for job in jobs:
        on_result(job, run_configuration(job.config_data, job.run_dir))


class _Worker:
    """A long-lived ``python -c worker_code`` process fed jobs on its stdin."""

    def __init__(self, worker_code: str, scratch: Path):
        import subprocess
        import sys
        import tempfile

        self.stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-c", worker_code], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self.stderr,
        )
        self.scratch = scratch
        self.job: Job | None = None
        self.outcome_path: Path | None = None

    def start(self, job: Job, number: int) -> None:
        self.job, self.outcome_path = job, self.scratch / f"outcome-{number}.json"
        message = {"config": job.config_data, "run_dir": job.run_dir, "outcome_path": str(self.outcome_path)}
        self.process.stdin.write((json.dumps(message) + "\n").encode())
        self.process.stdin.flush()

    def poll(self) -> dict | None:
        """The outcome of the current job once it is there (or the process died), else None."""
        if self.outcome_path.exists():
            outcome = json.loads(self.outcome_path.read_text())
            self.outcome_path.unlink()
            return outcome
        if self.process.poll() is None:
            return None
        self.stderr.seek(0)
        lines = [l for l in self.stderr.read().decode(errors="replace").splitlines() if l.strip()]
        last = f": {lines[-1].strip()[:300]}" if lines else ""
        return _failed(f"worker process died (exit code {self.process.returncode}){last}")

    def close(self, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            self.process.stdin.close()
        self.process.wait()
        self.stderr.close()


def run_processes(jobs: list[Job], on_result: Callable, workers: int = 2, worker_code: str = _WORKER_CODE, **_) -> None:
    """``workers`` Python processes (``python -c worker_code``), each running jobs one after another.

    New interpreters rather than ``multiprocessing``: nothing of this process (JAX's threads, an
    unguarded ``__main__`` script, a notebook) is copied or re-imported.  A worker is reused
    from job to job (imports and JAX's start-up are paid once); one that dies is a failed job,
    reported with the last line it printed on stderr, and is replaced.
    """
    import tempfile

    pending = list(jobs)
    idle: list[_Worker] = []
    busy: list[_Worker] = []
    count = 0
    with tempfile.TemporaryDirectory(prefix="plastix-sweep-") as scratch:
        try:
            while pending or busy:
                while pending and len(busy) < workers:
                    worker = idle.pop() if idle else _Worker(worker_code, Path(scratch))
                    worker.start(pending.pop(0), count)
                    count += 1
                    busy.append(worker)
                progressed = False
                for worker in list(busy):
                    outcome = worker.poll()
                    if outcome is None:
                        continue
                    progressed = True
                    busy.remove(worker)
                    job = worker.job
                    if worker.process.poll() is None:
                        idle.append(worker)
                    else:
                        worker.close()
                    on_result(job, outcome)
                if not progressed:
                    time.sleep(0.05)
        finally:
            for worker in busy:
                worker.close(kill=True)
            for worker in idle:
                worker.close()


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast on a ``HOST:PORT`` nobody listens on (Ray itself retries for minutes)."""
    import socket

    if address == "auto" or "://" in address or ":" not in address:
        return
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except (OSError, ValueError) as exc:
        raise ConfigError.bad_value("--address", address, f"the HOST:PORT of a running Ray cluster's head ({exc})") from None


def start_ray(workers: int, address: str | None = None) -> bool:
    """Connect to Ray before anything is written: a new local instance, or the cluster at ``address``.

    Returns whether this call started (and so must shut down) Ray.  A cluster that cannot be
    reached is a one-line :class:`ConfigError` naming ``--address``.
    """
    import warnings

    import ray

    if ray.is_initialized():
        return False
    if address:
        _check_reachable(address)
    with warnings.catch_warnings():  # Ray starts its daemons with fork+exec, which JAX's fork hook warns about
        warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called", category=RuntimeWarning)
        if address:
            try:
                ray.init(address=address, log_to_driver=False, logging_level="ERROR")
            except Exception as exc:  # ConnectionError, ValueError, gRPC errors, …
                hint = ""
                if "RAY_AUTH_MODE" not in os.environ:
                    hint = "; a cluster with token authentication also needs RAY_AUTH_MODE=token"
                raise ConfigError.bad_value(
                    "--address", address, f"the address of a running Ray cluster ({_error_line(exc)}{hint})"
                ) from None
        else:  # "local": always a new instance, never a cluster that happens to run on this machine
            ray.init(address="local", num_cpus=workers, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    return True


def run_ray(jobs: list[Job], on_result: Callable, workers: int = 2, address: str | None = None, **_) -> None:
    """Every job a Ray task with one CPU; a local instance unless ``address`` names a cluster."""
    import ray

    started = start_ray(workers, address)
    remote = ray.remote(num_cpus=1, max_retries=1)(run_configuration)
    refs = {remote.remote(job.config_data, job.run_dir, True): job for job in jobs}
    try:
        while refs:
            done, _ = ray.wait(list(refs), num_returns=1)
            for ref in done:
                job = refs.pop(ref)
                try:
                    outcome = ray.get(ref)
                except ray.exceptions.RayError as exc:  # the worker died (memory, node lost, …)
                    outcome = _failed(_error_line(exc))
                on_result(job, outcome)
    finally:
        for ref in refs:
            ray.cancel(ref, force=True)
        if started:
            ray.shutdown()


EXECUTORS = {"serial": run_serial, "processes": run_processes, "ray": run_ray}


def ray_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("ray") is not None


def choose_backend(backend: str, address: str | None = None) -> str:
    """``auto`` is Ray when it is installed, else local processes."""
    from .errors import check_choice

    check_choice("--backend", backend, BACKENDS)
    if backend == "auto":
        backend = "ray" if (ray_available() or address) else "processes"
    if backend == "ray" and not ray_available():
        raise ConfigError.bad_value("--backend", "ray", "processes or serial (Ray is not installed: pip install 'plastix[ray]')")
    if address and backend != "ray":
        raise ConfigError.bad_value("--address", address, "an address only with the ray backend")
    return backend


# ----------------------------------------------------------------------------------------------
# The driver
# ----------------------------------------------------------------------------------------------
def _sweep_toml(sweep: Sweep) -> str:
    import tomli_w

    return tomli_w.dumps(sweep.data)


def check_out_dir(out: Path, sweep: Sweep, resume: bool) -> None:
    """An existing sweep folder only with ``resume``, and then only for the same sweep."""
    from .runs import check_writable

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

    from .runs import make_run_dir, write_json, write_jsonl, write_text

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
    if backend == "processes" and not ray_available():
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
            from .runs import write_bytes

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
    from .runs import save_figure

    save_figure(sweep_figure(rows, swept), out / "sweep.png")
    return rows


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
        if backend == "processes" and not ray_available():
            print(NO_RAY_NOTE)
        print(f"{sweep.describe(len(configs))}; backend {backend}")
        print(rows_to_csv(rows), end="")
        return None
    if out is None:
        from .runs import timestamp

        out = Path("runs") / f"{timestamp()}-sweep-{Path(sweep_file).stem}"
    check_out_dir(Path(out), sweep, resume)
    rows = run_sweep(sweep, out, backend, workers, address, resume, retry_failed, configs=configs)
    print_sweep_table(rows, sweep.swept_keys(), Path(out))
    return rows


def report_sweep(out: Path) -> list[dict]:
    """Re-render a sweep folder: sweep.csv, sweep.jsonl and sweep.png from its runs' result.json."""
    from .runs import save_figure, write_jsonl, write_text

    sweep = load_sweep(out / "sweep.toml")
    configs = configurations(sweep)
    swept = sweep.swept_keys()
    rows = [result_row(c, read_outcome(out / "runs" / c.key), swept) for c in configs]
    write_text(out / "sweep.csv", rows_to_csv(rows))
    write_jsonl(out / "sweep.jsonl", rows)
    save_figure(sweep_figure(rows, swept), out / "sweep.png")
    return rows

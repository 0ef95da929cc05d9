"""Executors: run one configuration (the ``plastix compare`` job) in a worker, and run many of them
serially, in local processes or on Ray, calling ``on_result(job, outcome)`` in this process as
each one finishes."""

from __future__ import annotations

import dataclasses
import json
import os
import time
import traceback
from pathlib import Path
from typing import Callable

from .. import config as cfg
from ..errors import ConfigError

BACKENDS = ("auto", "ray", "processes", "serial")
NO_RAY_NOTE = "note: Ray is not installed (pip install 'plastix[ray]'), so the sweep runs in local processes"


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
    from ..compare import CompareConfig, build, run_compare

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


_WORKER_CODE = "from plastix.sweep.executors import worker_main; worker_main()"


def worker_main() -> None:
    """A worker process: one job per line of stdin (JSON), each outcome written to its own file.

    The outcome file is written atomically, so its existence tells the driver the job is done.
    """
    import sys

    from ..runs import write_json

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
    from ..errors import check_choice

    check_choice("--backend", backend, BACKENDS)
    if backend == "auto":
        backend = "ray" if (ray_available() or address) else "processes"
    if backend == "ray" and not ray_available():
        raise ConfigError.bad_value("--backend", "ray", "processes or serial (Ray is not installed: pip install 'plastix[ray]')")
    if address and backend != "ray":
        raise ConfigError.bad_value("--address", address, "an address only with the ray backend")
    return backend

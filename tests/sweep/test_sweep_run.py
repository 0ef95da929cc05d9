"""Running sweeps: the same numbers on every executor, the compare job exactly, failures, resume.

A small sweep (2 rules × a good and a diverging learning rate × 2 seeds) runs in this process
(the reference), on a real local Ray instance with two workers and in two local worker
processes; all three must give identical numbers and failures, and the numbers must equal those
of the training loop run directly.  The issue's sweep (3 learning rates × 2 rules × 4 seeds on
the periodic task) does the same on all three executors in the slow suite.
"""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from plastix.sweep import Job, load_sweep, parse_sweep, run_processes, run_sweep

# The issue's sweep; slow, run in full by test_the_issue_sweep_on_every_executor.
ISSUE_SWEEP = """task = "periodic"
task_options = { period = 40 }
trials = 60
chunk = 30
seeds = 4
rules = ["rflo", "bptt"]

[sweep]
method = "grid"
[sweep.parameters]
lr = [0.003, 0.01, 0.03]
"""
# The default suite's sweep: 2 rules × (a good and a diverging learning rate) × 2 seeds, so that
# every executor also records failures the same way.
SMALL_SWEEP = """task = "periodic"
task_options = { period = 40 }
trials = 40
chunk = 20
seeds = 2
rules = ["rflo", "bptt"]

[sweep.parameters]
lr = [0.03, 1e6]
"""
NUMBERS = ("config", "run", "rule", "lr", "seeds", "status", "final_loss_median", "final_loss_q25", "final_loss_q75",
           "initial_loss", "error")


def numbers(rows):
    return [{k: r[k] for k in NUMBERS} for r in rows]


@pytest.fixture(scope="module")
def small_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("sweep") / "small.toml"
    path.write_text(SMALL_SWEEP)
    return path


@pytest.fixture(scope="module")
def serial(small_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("serial") / "out"
    rows = run_sweep(load_sweep(small_file), out, backend="serial", progress=False)
    return out, rows


def check_against_trainer(out, rows, period, trials, chunk, seeds):
    """Every finished row equals training that configuration directly with the Trainer."""
    from plastix import models, rules, tasks
    from plastix.training import Trainer, make_optimizer

    task = tasks.get("periodic", period=period)
    model = models.RateRNN(n_in=1, n_rec=30, n_out=1)
    for row in rows:
        if row["status"] != "ok":
            continue
        rule = rules.get(row["rule"], model)
        result = Trainer(model, task, rule, make_optimizer("sgd", row["lr"]), chunk=chunk).fit(trials, seed=0, n_seeds=seeds)
        window = max(1, trials // 100)
        final = result.losses[:, -window:].mean(1)
        q25, median, q75 = np.percentile(final, [25, 50, 75])
        assert (row["final_loss_median"], row["final_loss_q25"], row["final_loss_q75"]) == (median, q25, q75)
        assert row["initial_loss"] == np.median(result.losses[:, 0])
        curves = np.load(out / row["run"] / "curves.npz")
        np.testing.assert_array_equal(curves[row["rule"]], result.losses)


def test_serial_sweep_is_the_compare_job_and_records_failures(serial):
    out, rows = serial
    assert [(r["rule"], r["lr"], r["status"]) for r in rows] == [
        ("rflo", 0.03, "ok"), ("rflo", 1e6, "failed"), ("bptt", 0.03, "ok"), ("bptt", 1e6, "failed")
    ]
    for failed in (rows[1], rows[3]):
        assert failed["error"].startswith("DivergenceError:") and "diverged" in failed["error"]
        assert failed["final_loss_median"] is None
        stored = json.loads((out / failed["run"] / "result.json").read_text())
        assert stored["status"] == "failed" and "Traceback" in stored["traceback"]
    check_against_trainer(out, rows, period=40, trials=40, chunk=20, seeds=2)
    assert (out / "sweep.png").stat().st_size > 0 and (out / "sweep.toml").exists()
    csv_lines = (out / "sweep.csv").read_text().splitlines()
    assert csv_lines[0].startswith("config,run,rule,lr,seeds,status,final_loss_median") and len(csv_lines) == 5
    assert [json.loads(l)["final_loss_median"] for l in (out / "sweep.jsonl").read_text().splitlines()] == [
        r["final_loss_median"] for r in rows
    ]


def test_local_processes_give_the_same_numbers(serial, small_file, tmp_path):
    rows = run_sweep(load_sweep(small_file), tmp_path / "out", backend="processes", workers=2, progress=False)
    assert numbers(rows) == numbers(serial[1])


def test_local_ray_gives_the_same_numbers(serial, small_file, tmp_path):
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'plastix[ray]')")
    rows = run_sweep(load_sweep(small_file), tmp_path / "out", backend="ray", workers=2, progress=False)
    assert numbers(rows) == numbers(serial[1])
    assert all((tmp_path / "out" / r["run"] / "summary.json").exists() for r in rows if r["status"] == "ok")


@pytest.mark.slow
def test_the_issue_sweep_on_every_executor(tmp_path):
    """3 learning rates × 2 rules × 4 seeds: serial, local processes and local Ray agree exactly."""
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'plastix[ray]')")
    path = tmp_path / "issue.toml"
    path.write_text(ISSUE_SWEEP)
    results = {b: run_sweep(load_sweep(path), tmp_path / b, backend=b, workers=2, progress=False)
               for b in ("serial", "processes", "ray")}
    assert len(results["serial"]) == 6 and all(r["status"] == "ok" for r in results["serial"])
    assert numbers(results["processes"]) == numbers(results["serial"]) == numbers(results["ray"])
    check_against_trainer(tmp_path / "serial", results["serial"], period=40, trials=60, chunk=30, seeds=4)


def test_resume_leaves_failed_configurations_alone_unless_asked(serial, small_file, tmp_path):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(serial[0], out)
    stamps = {r["run"]: (out / r["run"] / "result.json").stat().st_mtime_ns for r in serial[1]}
    again = run_sweep(load_sweep(small_file), out, backend="serial", resume=True, progress=False)
    assert numbers(again) == numbers(serial[1])
    assert {r["run"]: (out / r["run"] / "result.json").stat().st_mtime_ns for r in again} == stamps
    retried = run_sweep(load_sweep(small_file), out, backend="serial", resume=True, retry_failed=True, progress=False)
    assert numbers(retried) == numbers(serial[1])
    changed = {r["run"] for r in retried if (out / r["run"] / "result.json").stat().st_mtime_ns != stamps[r["run"]]}
    assert changed == {r["run"] for r in serial[1] if r["status"] == "failed"}


def test_a_crashed_worker_process_is_a_failed_configuration(tmp_path):
    crash = "import os, sys\nsys.stdin.readline()\nsys.stderr.write('out of memory\\n')\nos._exit(3)"
    outcomes = []
    run_processes([Job("a", {}, str(tmp_path / "a")), Job("b", {}, str(tmp_path / "b"))],
                  lambda job, outcome: outcomes.append((job.key, outcome)), workers=2, worker_code=crash)
    assert sorted(k for k, _ in outcomes) == ["a", "b"]
    for _, outcome in outcomes:
        assert outcome["status"] == "failed"
        assert outcome["error"] == "worker process died (exit code 3): out of memory"


RESUME = """task = "periodic"
task_options = { period = 40 }
trials = 600
chunk = 20
seeds = 2
rules = ["rflo"]

[sweep.parameters]
lr = [0.01, 0.03]
"""


def test_an_interrupted_sweep_resumes_to_the_same_numbers(tmp_path):
    """Kill a running sweep (SIGKILL, mid-configuration), resume it, compare with an uninterrupted one."""
    path = tmp_path / "resume.toml"
    path.write_text(RESUME)
    reference = run_sweep(load_sweep(path), tmp_path / "reference", backend="serial", progress=False)
    out = tmp_path / "interrupted"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    process = subprocess.Popen(
        [sys.executable, "-m", "plastix.cli", "sweep", str(path), "--out", str(out), "--backend", "serial"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
    )
    second = out / reference[1]["run"]
    deadline = time.time() + 240
    try:
        while not (second / "checkpoints" / "rflo.npz").exists():  # the 2nd configuration has begun
            assert process.poll() is None, "the sweep ended before it could be interrupted"
            assert time.time() < deadline
            time.sleep(0.01)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    first = out / reference[0]["run"] / "result.json"
    assert first.exists()
    finished_before = first.stat().st_mtime_ns
    assert not (second / "result.json").exists()  # interrupted inside the second configuration
    resumed = run_sweep(load_sweep(path), out, backend="serial", resume=True, progress=False)
    assert numbers(resumed) == numbers(reference)
    assert first.stat().st_mtime_ns == finished_before  # the finished configuration was not rerun
    for r_ref, r_res in zip(reference, resumed):
        a = np.load(tmp_path / "reference" / r_ref["run"] / "curves.npz")["rflo"]
        b = np.load(out / r_res["run"] / "curves.npz")["rflo"]
        np.testing.assert_array_equal(a, b)


def test_resume_refuses_a_different_sweep(tmp_path, small_file):
    from plastix.errors import ConfigError

    data = {"task": "periodic", "task_options": {"period": 30}, "trials": 5, "seeds": 1, "rules": ["bptt"],
            "sweep": {"parameters": {"lr": [0.01]}}}
    run_sweep(parse_sweep(data), tmp_path / "out", backend="serial", progress=False)
    with pytest.raises(ConfigError, match="SWEEP.toml"):
        run_sweep(load_sweep(small_file), tmp_path / "out", backend="serial", resume=True, progress=False)
    with pytest.raises(ConfigError, match="--resume"):
        run_sweep(parse_sweep(data), tmp_path / "out", backend="serial", progress=False)


@pytest.mark.slow
def test_sweep_on_a_separately_started_ray_cluster(tmp_path):
    """--address: a Ray head started by `ray start` (as on a cluster) runs the issue's sweep with
    the serial executor's numbers."""
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'plastix[ray]')")
    import shutil
    import socket

    ray_cli = shutil.which("ray")
    if ray_cli is None:
        pytest.skip("the ray command is not on PATH")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}  # the head and this client agree on no token
    subprocess.run([ray_cli, "start", "--head", f"--port={port}", "--num-cpus=2", "--include-dashboard=false",
                    "--disable-usage-stats"], env=env, check=True, capture_output=True, timeout=120)
    try:
        path = tmp_path / "issue.toml"
        path.write_text(ISSUE_SWEEP)
        out = tmp_path / "cluster"
        done = subprocess.run([sys.executable, "-m", "plastix", "sweep", str(path), "--address", f"127.0.0.1:{port}",
                               "--out", str(out)], env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        serial = run_sweep(load_sweep(path), tmp_path / "serial", backend="serial", progress=False)
        import csv

        with open(out / "sweep.csv") as f:
            rows = list(csv.DictReader(f))
        assert [float(r["final_loss_median"]) for r in rows] == pytest.approx(
            [r["final_loss_median"] for r in serial], rel=1e-12)
    finally:
        subprocess.run([ray_cli, "stop", "--force"], env=env, capture_output=True, timeout=120)

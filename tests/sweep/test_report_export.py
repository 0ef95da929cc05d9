"""Run files read without plastix (numpy + json only), and ``plastix report`` re-rendering a run."""

import json
import subprocess
import sys

import numpy as np
import pytest

from plastix import cli

PLAIN_READER = r"""
import json, sys
import numpy as np
run = sys.argv[1]
summary = json.load(open(f"{run}/summary.json"))
curves = np.load(f"{run}/curves.npz", allow_pickle=False)
out = {"rules": sorted(curves.files), "shapes": {k: list(curves[k].shape) for k in curves.files}}
params = np.load(f"{run}/params_rflo.npz", allow_pickle=False)
out["param_keys"] = sorted(params.files)
out["w_rec_shape"] = list(params["['w_rec']"].shape)
out["meta"] = json.loads(str(params["__meta__"]))
out["metrics"] = [json.loads(line) for line in open(f"{run}/metrics.jsonl")]
out["summary_rules"] = sorted(summary["rules"])
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    from plastix.compare import build, resolve_config, run_compare

    out = tmp_path_factory.mktemp("compare")
    conf = resolve_config(task="periodic", rules="rflo,bptt", trials=40, seeds=3, n_rec=12,
                          overrides=["task_options.period=30", "chunk=20", "lr=0.03"])
    run_compare(build(conf), out, progress=False)
    return out


def test_run_files_load_with_plain_numpy_and_json(run_dir):
    """A separate interpreter that never imports plastix (nor JAX) reads every result file."""
    reader = [sys.executable, "-c", "import sys; sys.modules['plastix'] = None; sys.modules['jax'] = None\n" + PLAIN_READER]
    done = subprocess.run([*reader, str(run_dir)], capture_output=True, text=True, check=True)
    got = json.loads(done.stdout)
    assert got["rules"] == got["summary_rules"] == ["bptt", "rflo"]
    assert got["shapes"] == {"bptt": [3, 40], "rflo": [3, 40]}
    assert got["w_rec_shape"] == [3, 12, 12] and "['w_out']" in got["param_keys"]
    assert got["meta"] == {"rule": "rflo", "seeds": 3}
    # metrics.jsonl: per rule, seed and chunk; its loss is the chunk's mean of curves.npz
    curves = np.load(run_dir / "curves.npz")
    rows = [r for r in got["metrics"] if r["rule"] == "rflo"]
    assert sorted((r["seed"], r["trial"]) for r in rows) == [(s, t) for s in range(3) for t in (20, 40)]
    for r in rows:
        chunk = curves["rflo"][r["seed"], r["trial"] - 20 : r["trial"]]
        assert r["loss"] == pytest.approx(chunk.mean(), rel=1e-6)


def test_summary_matches_the_curves(run_dir):
    summary = json.loads((run_dir / "summary.json").read_text())
    curves = np.load(run_dir / "curves.npz")
    for rule, stats in summary["rules"].items():
        final = curves[rule][:, -1]  # last 1 % of 40 trials: the last one
        assert stats["final_loss"]["median"] == pytest.approx(np.median(final), rel=1e-12)
        assert stats["initial_loss"] == pytest.approx(np.median(curves[rule][:, 0]), rel=1e-12)


def run_cli(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["plastix", *args])
    with pytest.raises(SystemExit) as info:
        cli.main()
    out, err = capsys.readouterr()
    return info.value.code, out, err


def test_report_redraws_the_figure_and_writes_report_md(run_dir, monkeypatch, capsys, tmp_path):
    import shutil

    from matplotlib.image import imread

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    original = imread(run_dir / "learning_curves.png")
    (copy / "learning_curves.png").unlink()
    code, out, err = run_cli(monkeypatch, capsys, "report", str(copy))
    assert code == 0, err
    np.testing.assert_array_equal(imread(copy / "learning_curves.png"), original)  # same pixels as the run's own
    summary = json.loads((copy / "summary.json").read_text())
    report = (copy / "report.md").read_text()
    for rule, stats in summary["rules"].items():
        assert f"| {rule} | 0.03 | {stats['initial_loss']:.4g} | {stats['final_loss']['median']:.4g} |" in report
        assert rule in out
    assert "![learning curves](learning_curves.png)" in report and "alignment" in report
    assert "report.md" in out


@pytest.mark.parametrize("make, expected", [
    (lambda d: d / "absent", "an existing run folder"),
    (lambda d: (d / "empty").mkdir() or d / "empty", "missing: config.toml"),
    (lambda d: ((d / "unfinished" / "checkpoints").mkdir(parents=True), (d / "unfinished" / "config.toml").write_text(""),
                (d / "unfinished" / "curves.npz").write_text(""))[0] or d / "unfinished", "--resume"),
])
def test_report_bad_folder_one_line_exit_2(monkeypatch, capsys, tmp_path, make, expected):
    code, _, err = run_cli(monkeypatch, capsys, "report", str(make(tmp_path)))
    assert code == 2 and expected in err and len(err.strip().splitlines()) == 1, err


def test_report_of_a_sweep_rebuilds_its_table_and_figure(monkeypatch, capsys, tmp_path):
    from plastix.sweep import parse_sweep, run_sweep

    data = {"task": "periodic", "task_options": {"period": 20}, "trials": 10, "seeds": 2, "rules": ["bptt"],
            "sweep": {"parameters": {"lr": [0.01]}}}
    out = tmp_path / "sweep"
    run_sweep(parse_sweep(data), out, backend="serial", progress=False)
    before = (out / "sweep.csv").read_text()
    (out / "sweep.csv").unlink()
    (out / "sweep.png").unlink()
    code, stdout, err = run_cli(monkeypatch, capsys, "report", str(out))
    assert code == 0, err
    assert (out / "sweep.csv").read_text() == before and (out / "sweep.png").exists()
    assert "sweep: 1 configuration" in stdout and "![sweep](sweep.png)" in (out / "report.md").read_text()

"""The command line: bad input gives one line and exit code 2, and nothing is written."""

import json
import os
import subprocess
import sys

import pytest

from plastix import cli


def run_cli(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["plastix", *args])
    with pytest.raises(SystemExit) as info:
        cli.main()
    out, err = capsys.readouterr()
    return info.value.code, out, err


BAD_INPUTS = [
    (["--task", "nope"], "task"),
    (["--rules", "rflo,nope"], "rule"),
    (["--rules", ""], "rules"),
    (["--n-rec", "0"], "n_rec"),
    (["--n-rec", "-3"], "n_rec"),
    (["--trials", "0"], "trials"),
    (["--seeds", "0"], "seeds"),
    (["--lr", "0"], "lr"),
    (["--lr", "-0.1"], "lr"),
    (["--set", "colour=blue"], "colour"),
    (["--set", "trials=abc"], "trials"),
    (["--set", "trials"], "--set"),
    (["--set", "task_options.period=-5"], "period"),
    (["--set", "task_options.speed=2"], "speed"),
    (["--set", "rule_options.rflo.feedback=mirror"], "feedback"),
    (["--set", "model_options.tau=0.5"], "tau"),
    (["--set", "optimizer=rmsprop"], "optimizer"),
    (["--set", "update_every=7"], "update_every"),
    (["--n-rec", "abc"], "n-rec"),
]


@pytest.mark.parametrize("args, field", BAD_INPUTS)
def test_bad_input_one_line_exit_2_nothing_written(monkeypatch, capsys, tmp_path, args, field):
    out_dir = tmp_path / "run"
    code, out, err = run_cli(monkeypatch, capsys, "compare", "--out", str(out_dir), *args)
    assert code == 2
    lines = [l for l in err.strip().splitlines() if l.strip()]
    assert len(lines) == 1, err
    assert field in lines[0]
    assert "Traceback" not in err
    assert not out_dir.exists()


def test_malformed_toml(monkeypatch, capsys, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("trials = [1,\n")
    code, _, err = run_cli(monkeypatch, capsys, "compare", "--config", str(bad), "--out", str(tmp_path / "r"))
    assert code == 2 and "bad.toml" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()
    code, _, err = run_cli(monkeypatch, capsys, "compare", "--config", str(tmp_path / "missing.toml"))
    assert code == 2 and "missing.toml" in err


def test_unknown_key_in_toml(monkeypatch, capsys, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("trails = 10\n")
    code, _, err = run_cli(monkeypatch, capsys, "compare", "--config", str(bad), "--out", str(tmp_path / "r"))
    assert code == 2 and "trails" in err and "unknown key" in err


def test_unwritable_output_folder(monkeypatch, capsys, tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    code, _, err = run_cli(monkeypatch, capsys, "compare", "--out", str(a_file / "sub"))
    assert code == 2 and "--out" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli(monkeypatch, capsys, "compare", "--out", str(a_file))
    assert code == 2 and "--out" in err
    if os.geteuid() != 0:  # root can write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        code, _, err = run_cli(monkeypatch, capsys, "compare", "--out", str(locked / "run"))
        assert code == 2


def test_compare_small_run_and_config_file(monkeypatch, capsys, tmp_path):
    conf = tmp_path / "c.toml"
    conf.write_text('rules = ["rflo", "rtrl"]\ntrials = 40\nseeds = 2\nn_rec = 6\nchunk = 20\n[task_options]\nperiod = 30\n')
    out_dir = tmp_path / "run"
    code, out, err = run_cli(monkeypatch, capsys, "compare", "--config", str(conf), "--out", str(out_dir),
                             "--set", "lrs.rtrl=0.01")
    assert code == 0, err
    summary = json.loads((out_dir / "summary.json").read_text())
    assert set(summary["rules"]) == {"rflo", "rtrl"}
    assert summary["rules"]["rtrl"]["lr"] == 0.01
    assert "rflo" in out and "rtrl" in out


def test_list_command(monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, "list")
    assert code == 0
    for word in ("periodic", "interval", "rflo", "bptt", "rtrl"):
        assert word in out


def test_console_script_bad_input_no_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "plastix.cli", "compare", "--task", "nope", "--out", str(tmp_path / "r")],
        capture_output=True, text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    "args, field",
    [(["murray2019", "--figure", "7"], "figure"), (["nope"], "experiment"), (["hmax", "--figure", "2"], "figure"), (["force", "--figure", "2"], "option")],
)
def test_reproduce_bad_input_creates_no_run_folder(monkeypatch, capsys, tmp_path, args, field):
    out = tmp_path / "run"
    code, _, err = run_cli(monkeypatch, capsys, "reproduce", *args, "--out", str(out))
    assert code == 2 and field in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_compare_trains_on_the_tasks_loss_unless_a_rule_option_says_otherwise():
    from plastix.compare import CompareConfig, build

    setup = build(CompareConfig(task="cue_accumulation", rules=["rflo", "bptt"], rule_options={"bptt": {"loss": "mse"}}))
    assert setup.rules["rflo"].loss == "xent" and setup.rules["bptt"].loss == "mse"
    assert build(CompareConfig()).rules["rflo"].loss == "mse"


def test_run_folder_name_is_safe_for_every_task_name(tmp_path, monkeypatch):
    from plastix.runs import make_run_dir

    monkeypatch.chdir(tmp_path)
    path = make_run_dir(None, "neurogym:GoNogo-v0")
    assert path.is_dir() and ":" not in path.name and path.name.endswith("neurogym-GoNogo-v0")


def test_bench_unknown_suite(monkeypatch, capsys):
    code, _, err = run_cli(monkeypatch, capsys, "bench", "nope")
    assert code == 2 and "suite" in err and "eprop" in err and len(err.strip().splitlines()) == 1

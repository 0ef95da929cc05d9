"""Sweep files: which configurations a grid or a random search makes, and how bad input is stopped.

Nothing here trains a network (configurations are built, not run), so these tests are fast.
"""

import math
import sys

import numpy as np
import pytest

from plastix import cli
from plastix.errors import ConfigError
from plastix.sweep import Range, configurations, parse_sweep, rows_to_csv, result_row
from plastix.sweep.configs import _settings_list

BASE = {"task": "periodic", "task_options": {"period": 50}, "trials": 20, "seeds": 4, "rules": ["rflo", "bptt"]}


def sweep_of(parameters, **table):
    return parse_sweep({**BASE, "sweep": {"parameters": parameters, **table}})


def test_grid_three_lrs_two_rules():
    configs = configurations(sweep_of({"lr": [0.003, 0.01, 0.03]}))
    assert [(c.rule, c.settings["lr"]) for c in configs] == [
        (r, lr) for r in ("rflo", "bptt") for lr in (0.003, 0.01, 0.03)
    ]
    for c in configs:
        assert c.config.rules == [c.rule]
        assert c.config.lr == c.settings["lr"] == c.lr
        assert c.config.seeds == 4 and c.config.task_options == {"period": 50}
    assert len({c.key for c in configs}) == 6
    assert [c.index for c in configs] == list(range(6))


def test_grid_is_the_cartesian_product_in_file_order():
    configs = configurations(sweep_of({"rule": ["bptt"], "n_rec": [8, 16], "task_options": {"period": [30, 40, 50]}}))
    assert [(c.config.n_rec, c.config.task_options["period"]) for c in configs] == [
        (n, p) for n in (8, 16) for p in (30, 40, 50)
    ]
    assert all(c.rule == "bptt" for c in configs)


def test_dotted_and_nested_keys_are_the_same_setting():
    a = configurations(sweep_of({"task_options.period": [30, 40]}))
    b = configurations(sweep_of({"task_options": {"period": [30, 40]}}))
    assert [c.key for c in a] == [c.key for c in b]


def test_options_of_another_rule_are_dropped_and_identical_configurations_share_a_run():
    configs = configurations(sweep_of({"rule_options.rflo.feedback": ["random", "symmetric"]}))
    rflo = [c for c in configs if c.rule == "rflo"]
    bptt = [c for c in configs if c.rule == "bptt"]
    assert [c.config.rule_options for c in rflo] == [{"rflo": {"feedback": "random"}}, {"rflo": {"feedback": "symmetric"}}]
    assert all(c.config.rule_options == {} for c in bptt)
    assert len({c.key for c in rflo}) == 2 and len({c.key for c in bptt}) == 1


def test_swept_lr_replaces_lrs():
    data = {**BASE, "lrs": {"rflo": 0.5}, "sweep": {"parameters": {"lr": [0.01]}}}
    configs = configurations(parse_sweep(data))
    assert all(c.config.lrs == {} and c.lr == 0.01 for c in configs)


def test_random_search_matches_a_numpy_reference_and_is_reproducible():
    params = {
        "lr": {"low": 1e-4, "high": 1e-1, "log": True},
        "n_rec": {"low": 8, "high": 64, "integer": True},
        "model_options.tau": {"low": 2.0, "high": 20.0},
        "seed": [0, 1, 2],
    }
    sweep = sweep_of(params, method="random", samples=50, seed=7)
    settings = _settings_list(sweep)
    assert len(settings) == 100  # 50 draws × 2 rules, each draw for both rules side by side
    assert [s["rule"] for s in settings[:4]] == ["rflo", "bptt", "rflo", "bptt"]
    draws = settings[::2]
    assert all({k: v for k, v in s.items() if k != "rule"} == {k: v for k, v in t.items() if k != "rule"}
               for s, t in zip(settings[::2], settings[1::2]))
    # independent reference: the same generator, the same order of draws
    rng = np.random.default_rng(7)
    for s in draws:
        lr = math.exp(rng.uniform(math.log(1e-4), math.log(1e-1)))
        n_rec = int(rng.integers(8, 64, endpoint=True))
        tau = rng.uniform(2.0, 20.0)
        seed = [0, 1, 2][int(rng.integers(3))]
        assert s == {"rule": s["rule"], "lr": lr, "n_rec": n_rec, "model_options.tau": tau, "seed": seed}
    assert all(1e-4 <= s["lr"] <= 1e-1 and 8 <= s["n_rec"] <= 64 and isinstance(s["n_rec"], int) for s in draws)
    assert _settings_list(sweep_of(params, method="random", samples=50, seed=7)) == settings
    assert _settings_list(sweep_of(params, method="random", samples=50, seed=8)) != settings


def test_log_uniform_range_is_uniform_in_log():
    rng = np.random.default_rng(0)
    draws = np.log10([Range(1e-4, 1.0, log=True).draw(rng) for _ in range(4000)])
    counts, _ = np.histogram(draws, bins=4, range=(-4, 0))
    assert np.all(np.abs(counts - 1000) < 4 * math.sqrt(1000))


BAD = [
    ({**BASE}, "sweep"),
    ({**BASE, "sweep": {"parameters": {}}}, "sweep.parameters"),
    ({**BASE, "sweep": {"parameters": {"colour": [1]}}}, "colour"),
    ({**BASE, "sweep": {"parameters": {"rules": [["rflo"]]}}}, "rule"),
    ({**BASE, "sweep": {"parameters": {"lr": 0.1}}}, "sweep.parameters.lr"),
    ({**BASE, "sweep": {"parameters": {"lr": []}}}, "sweep.parameters.lr"),
    ({**BASE, "sweep": {"parameters": {"lr": {"low": 0.1, "high": 1}}}}, "random"),
    ({**BASE, "sweep": {"method": "random", "parameters": {"lr": [0.1]}}}, "sweep.samples"),
    ({**BASE, "sweep": {"method": "random", "samples": 3, "parameters": {"lr": {"low": 0, "high": 1, "log": True}}}}, "low > 0"),
    ({**BASE, "sweep": {"method": "random", "samples": 3, "parameters": {"lr": {"low": 1, "high": 0.1}}}}, "low < high"),
    ({**BASE, "sweep": {"method": "bayes", "parameters": {"lr": [0.1]}}}, "sweep.method"),
    ({**BASE, "sweep": {"parameters": {"lr": [0.1]}, "budget": 3}}, "sweep.budget"),
    ({**BASE, "sweep": {"parameters": {"task_options": [1]}}}, "task_options"),
    ({**BASE, "sweep": {"parameters": {"lr.x": [1]}}}, "lr.x"),
    ({**BASE, "trials": 0, "sweep": {"parameters": {"lr": [0.1]}}}, "trials"),
]


@pytest.mark.parametrize("data, field", BAD)
def test_bad_sweep_files_give_one_line_naming_the_field(data, field):
    with pytest.raises(ConfigError) as info:
        configurations(parse_sweep(data))
    message = str(info.value)
    assert "\n" not in message and field in message, message


@pytest.mark.parametrize(
    "parameters, expected",
    [({"n_rec": [8, 0]}, "configuration 1"), ({"rule": ["rflo", "nope"]}, "nope"), ({"task_options.speed": [1]}, "speed")],
)
def test_a_bad_configuration_is_named_before_anything_runs(parameters, expected):
    with pytest.raises(ConfigError) as info:
        configurations(sweep_of(parameters))
    assert expected in str(info.value) and "\n" not in str(info.value)


def run_cli(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["plastix", *args])
    with pytest.raises(SystemExit) as info:
        cli.main()
    out, err = capsys.readouterr()
    return info.value.code, out, err


def write_sweep(tmp_path, text):
    path = tmp_path / "s.toml"
    path.write_text(text)
    return path


GOOD = """task = "periodic"
task_options = { period = 30 }
trials = 10
seeds = 2
rules = ["rflo", "bptt"]
[sweep.parameters]
lr = [0.01, 0.03]
"""


@pytest.mark.parametrize(
    "args, field",
    [
        (["--backend", "gpu"], "--backend"),
        (["--workers", "0"], "--workers"),
        (["--address", "auto", "--backend", "serial"], "--address"),
        (["--retry-failed"], "--retry-failed"),
    ],
)
def test_cli_bad_flags_one_line_exit_2_nothing_written(monkeypatch, capsys, tmp_path, args, field):
    path = write_sweep(tmp_path, GOOD)
    out_dir = tmp_path / "out"
    code, _, err = run_cli(monkeypatch, capsys, "sweep", str(path), "--out", str(out_dir), *args)
    lines = [l for l in err.splitlines() if l.strip()]
    assert code == 2 and len(lines) == 1 and field in lines[0], err
    assert not out_dir.exists()


@pytest.mark.parametrize(
    "text, field",
    [
        ("trials = [1,\n", "s.toml"),
        (GOOD.replace("lr = [0.01, 0.03]", "lr = [0.01, -1]"), "configuration 1"),
        (GOOD.replace("[sweep.parameters]", "[sweep.parameter]"), "sweep.parameter"),
    ],
)
def test_cli_bad_files_one_line_exit_2_nothing_written(monkeypatch, capsys, tmp_path, text, field):
    path = write_sweep(tmp_path, text)
    out_dir = tmp_path / "out"
    code, _, err = run_cli(monkeypatch, capsys, "sweep", str(path), "--out", str(out_dir))
    lines = [l for l in err.splitlines() if l.strip()]
    assert code == 2 and len(lines) == 1 and field in lines[0], err
    assert not out_dir.exists()


def test_cli_resume_needs_an_existing_sweep_folder(monkeypatch, capsys, tmp_path):
    code, _, err = run_cli(monkeypatch, capsys, "sweep", "--resume", "--out", str(tmp_path / "none"))
    assert code == 2 and "sweep.toml" in err and len(err.strip().splitlines()) == 1


def test_dry_run_lists_configurations_and_says_when_ray_is_missing(monkeypatch, capsys, tmp_path):
    import plastix.sweep.executors as sweep_module

    monkeypatch.setattr(sweep_module, "ray_available", lambda: False)
    path = write_sweep(tmp_path, GOOD)
    code, out, err = run_cli(monkeypatch, capsys, "sweep", str(path), "--dry-run")
    assert code == 0, err
    assert "Ray is not installed" in out and "backend processes" in out
    rows = [l for l in out.splitlines() if ",runs/" in l]
    assert len(rows) == 4 and all(",pending," in r for r in rows)


def test_rows_are_csv_with_full_precision():
    configs = configurations(sweep_of({"lr": [0.1]}))
    outcome = {"status": "ok", "summary": {"rules": {"rflo": {"final_loss": {"median": 1 / 3, "q25": 0.25, "q75": 0.5},
                                                            "initial_loss": 1.0, "seconds": 2.0}}}}
    text = rows_to_csv([result_row(configs[0], outcome, ["rule", "lr"])])
    header, row = text.splitlines()
    values = dict(zip(header.split(","), row.split(",")))
    assert float(values["final_loss_median"]) == 1 / 3 and values["status"] == "ok" and values["rule"] == "rflo"


def test_cli_unreachable_ray_address_fails_fast_before_writing(monkeypatch, capsys, tmp_path):
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'plastix[ray]')")
    path = write_sweep(tmp_path, GOOD)
    out_dir = tmp_path / "out"
    code, _, err = run_cli(monkeypatch, capsys, "sweep", str(path), "--out", str(out_dir), "--address", "127.0.0.1:1")
    lines = [l for l in err.splitlines() if l.strip()]
    assert code == 2 and len(lines) == 1 and "--address" in lines[0], err
    assert not out_dir.exists()

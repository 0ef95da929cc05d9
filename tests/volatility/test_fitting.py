"""Fitting: the CSV format and its errors, likelihoods, recovery, BIC, the ``plastix fit`` command."""

from __future__ import annotations

import math
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from plastix.errors import ConfigError
from plastix.volatility import fitting, reference
from plastix.volatility.datasets import example_csv_path, read_csv


def _write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, response, binary, row, column", [
    ("subject,outcome\n1,0.5\n", "gaussian", False, 1, "response"),
    ("subject,outcome,response\na,0.5,0.1\na,abc,0.2\n", "gaussian", False, 3, "outcome"),
    ("subject,outcome,response\na,0.5,0.1\n ,0.4,0.2\n", "gaussian", False, 3, "subject"),
    ("subject,outcome,response\na,0.5,\na,0.4,\n", "gaussian", False, 2, "response"),
    ("subject,outcome,response\na,1,0\na,0,1.5\n", "choice", False, 3, "response"),
    ("subject,outcome,response\na,1,0\na,0.5,1\n", "choice", True, 3, "outcome"),
    ("subject,outcome,response\na,1,0\na,inf,1\n", "gaussian", False, 3, "outcome"),
    ("subject,outcome,response,cue\na,1,0,0\na,1,0\n", "gaussian", False, 3, "cue"),
    ("subject,outcome,response,cue\na,1,0,0\na,1,0,-1\n", "gaussian", False, 3, "cue"),
])
def test_malformed_csv_gives_one_line_naming_row_and_column(tmp_path, text, response, binary, row, column):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        read_csv(path, response_model=response, binary_outcomes=binary)
    message = str(info.value)
    assert "\n" not in message
    assert f"row {row}" in message and f"column '{column}'" in message, message


def test_empty_and_missing_files(tmp_path):
    with pytest.raises(ConfigError):
        read_csv(_write(tmp_path, ""))
    with pytest.raises(ConfigError):
        read_csv(_write(tmp_path, "subject,outcome,response\n"))
    with pytest.raises(ConfigError):
        read_csv(tmp_path / "absent.csv")


def test_reading_the_example_and_padding(tmp_path):
    data = read_csv(example_csv_path())
    assert data.n_subjects == 6 and data.n_options == 1
    assert np.all(data.n_trials == 160) and np.all(data.n_responses == 160)
    # subjects of different lengths are padded with NaN outcomes and missing responses
    text = "subject,outcome,response\na,1,0.5\nb,2,1\na,3,\n"
    d = read_csv(_write(tmp_path, text))
    assert d.subjects == ("a", "b") and list(d.n_trials) == [2, 1]
    assert np.isnan(d.outcomes[1, 1, 0]) and np.isnan(d.responses[0, 1]) and list(d.n_responses) == [1, 1]
    choice = read_csv(_write(tmp_path, "subject,outcome,response\na,1,0\na,0,1\na,1,1\n", "c.csv"), response_model="choice")
    assert choice.n_options == 2 and np.isnan(choice.outcomes[0, 0, 1]) and choice.outcomes[0, 1, 1] == 0


def test_gaussian_loglik_matches_numpy(x64):
    rng = np.random.default_rng(0)
    o = np.cumsum(rng.normal(0, 1, 60)) + rng.normal(0, 1, 60)
    r = o + rng.normal(0, 0.5, 60)
    r[7] = np.nan
    natural = {"volatility_rate": 0.2, "initial_volatility": 0.5, "noise_variance": 1.5, "response_sd": 0.4}
    params = fitting.parameter_list("vkf", "gaussian")
    theta = fitting.to_unconstrained(natural, params)
    got = float(fitting.log_likelihood(theta, o[:, None], r, np.zeros(60, np.int32), None, "vkf", "gaussian"))
    pred = reference.volatile_kalman_filter(o, 0.2, 0.5, 1.5)["prediction"]
    ok = np.isfinite(r)
    expected = np.sum(-0.5 * np.log(2 * np.pi * 0.16) - 0.5 * ((r[ok] - pred[ok]) / 0.4) ** 2)
    assert got == pytest.approx(expected, rel=1e-12)


def test_choice_loglik_matches_manual_softmax(x64):
    outcomes = np.array([[1.0, np.nan], [np.nan, 0.0], [1.0, np.nan], [np.nan, 1.0]])
    choices = np.array([0.0, 1.0, 0.0, 1.0])
    alpha, beta = 0.3, 2.0
    q, expected = np.zeros(2), 0.0
    for t in range(4):
        logits = beta * q
        expected += logits[int(choices[t])] - np.log(np.exp(logits).sum())
        c = int(choices[t])
        q[c] += alpha * (outcomes[t, c] - q[c])
    theta = fitting.to_unconstrained({"learning_rate": alpha, "inverse_temperature": beta}, fitting.parameter_list("rw", "choice"))
    got = float(fitting.log_likelihood(theta, outcomes, choices, choices.astype(np.int32), None, "rw", "choice"))
    assert got == pytest.approx(expected, rel=1e-12)


def test_fit_recovers_known_parameters_and_reports_bic():
    from plastix.volatility.environments import blocked_random_walk

    n_subjects = 6
    truth = {"volatility_rate": 0.25, "initial_volatility": 0.5, "noise_variance": 1.0, "response_sd": 0.2}
    envs = jax.vmap(lambda k: blocked_random_walk(k, [0.1, 3.0] * 3, [1.0] * 6, 50))(jax.random.split(jax.random.key(0), n_subjects))
    natural = {k: jnp.full(n_subjects, v) for k, v in truth.items()}
    sim = jax.vmap(lambda o, k, nat: fitting.simulate_responses("vkf", "gaussian", nat, o, k))(
        envs.observations[:, :, None], jax.random.split(jax.random.key(1), n_subjects), natural)
    data = fitting.dataset_from_arrays(*sim, "gaussian")
    res = fitting.fit("vkf", data, method="ml", starts=3, steps=300)
    est = dict(zip(res.parameter_names, np.median(res.estimates, axis=0)))
    assert est["noise_variance"] == pytest.approx(1.0, rel=0.2)
    assert est["response_sd"] == pytest.approx(0.2, rel=0.15)
    assert 0.25 / 1.6 < est["volatility_rate"] < 0.25 * 1.6
    # the truth cannot fit better than the estimate (the optimiser found at least as good a point)
    theta_true = fitting.to_unconstrained(truth, fitting.parameter_list("vkf", "gaussian"))
    for i in range(n_subjects):
        ll_true = float(fitting.log_likelihood(theta_true, data.outcomes[i], data.responses[i], data.cues[i], None, "vkf", "gaussian"))
        assert res.log_likelihood[i] >= ll_true - 1e-2
    assert np.allclose(res.bic, 4 * np.log(300) - 2 * res.log_likelihood)
    table = res.table()
    assert set(table[0]) >= {"subject", "volatility_rate", "log_likelihood", "bic"}
    rows = fitting.compare([res])
    assert rows[0]["subjects_best"] == n_subjects and rows[0]["delta_bic"] == 0.0


def test_bandit_simulation_hides_unchosen_outcomes():
    outcomes = jnp.asarray(np.random.default_rng(1).random((50, 2)) < 0.7, float)
    natural = {"learning_rate": 0.4, "inverse_temperature": 5.0}
    seen, choices, cues = fitting.simulate_responses("rw", "choice", natural, outcomes, jax.random.key(0))
    seen, choices = np.asarray(seen), np.asarray(choices).astype(int)
    assert set(np.unique(choices)) <= {0, 1}
    for t in range(50):
        assert seen[t, choices[t]] == float(outcomes[t, choices[t]])
        assert np.isnan(seen[t, 1 - choices[t]])
    np.testing.assert_array_equal(np.asarray(cues), choices)


def test_particle_model_loglik_is_finite_and_reproducible():
    rng = np.random.default_rng(3)
    o = np.cumsum(rng.normal(0, 1, 12))[:, None]
    r = o[:, 0] + rng.normal(0, 0.3, 12)
    settings = fitting.FitSettings(n_particles=8)
    theta = jnp.zeros(5)
    f = jax.jit(lambda th, k: fitting.log_likelihood(th, o, r, np.zeros(12, np.int32), k, "pf", "gaussian", settings))
    a, b = float(f(theta, jax.random.key(0))), float(f(theta, jax.random.key(0)))
    assert math.isfinite(a) and a == b  # common random numbers: a deterministic objective


@pytest.mark.slow
def test_particle_model_fit_smoke():
    rng = np.random.default_rng(2)
    o = np.cumsum(rng.normal(0, 1, (2, 30)), axis=1)
    data = fitting.dataset_from_arrays(o[:, :, None], o + rng.normal(0, 0.3, o.shape), np.zeros((2, 30)), "gaussian")
    res = fitting.fit("pf", data, method="map", starts=1, steps=4, settings=fitting.FitSettings(n_particles=16))
    assert np.all(np.isfinite(res.log_likelihood)) and res.estimates.shape == (2, 5)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "plastix.cli", *args], capture_output=True, text=True, timeout=600)


def test_cli_rejects_bad_input_with_one_line(tmp_path):
    bad = _write(tmp_path, "subject,outcome,response\na,0.5,0.1\nb,x,0.2\n")
    out = tmp_path / "out"
    proc = _cli("fit", "vkf", str(bad), "--out", str(out))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "row 3" in lines[0] and "column 'outcome'" in lines[0]
    assert not out.exists()
    proc = _cli("fit", "vkff", str(bad))
    assert proc.returncode == 2 and "MODEL" in proc.stderr


def test_cli_fit_writes_results(tmp_path):
    out = tmp_path / "run"
    proc = _cli("fit", "vkf,rw", str(example_csv_path()), "--out", str(out), "--steps", "60", "--starts", "1")
    assert proc.returncode == 0, proc.stderr
    for name in ("parameters_vkf.csv", "parameters_rw.csv", "comparison.csv", "summary.json"):
        assert (out / name).is_file()
    lines = (out / "parameters_vkf.csv").read_text().strip().splitlines()
    assert len(lines) == 7 and lines[0].startswith("subject,n_trials,n_responses,volatility_rate")
    assert "model comparison" in proc.stdout
    assert not math.isnan(float(lines[1].split(",")[3]))

"""The Murray 2019 reproduction: its pieces (fast) and the whole --quick run (slow)."""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import jax.numpy as jnp
import numpy as np
import pytest

from plastix import experiments, rules
from plastix.errors import ConfigError
from plastix.experiments import murray2019
from plastix.experiments.murray2019_common import curve, fit, log10_ratio, median_iqr, spearman
from plastix.experiments.murray2019_fig3 import peak_errors
from plastix.models import RateRNN
from plastix.tasks.interval import Interval
from plastix.tasks.periodic import Periodic


def test_module_declares_claims_options_and_figures():
    ids = [cid for cid, _ in murray2019.CLAIMS]
    assert len(ids) == len(set(ids)) == 16
    assert murray2019.OPTIONS["figure"][0] == ("2", "3", "4")
    assert experiments.get("murray2019") is murray2019


def test_figure_option_selects_figures(monkeypatch, tmp_path):
    called = []
    for key, mod in murray2019.FIGURES.items():
        monkeypatch.setattr(mod, "run", lambda rep, log=print, key=key: called.append(key))
    experiments.reproduce("murray2019", tmp_path / "a", quick=True, options={"figure": "3"})
    assert called == ["3"]
    experiments.reproduce("murray2019", tmp_path / "b", quick=True)
    assert called == ["3", "2", "3", "4"]
    with pytest.raises(ConfigError, match="figure"):
        experiments.reproduce("murray2019", tmp_path / "c", quick=True, options={"figure": "5"})


def test_fit_records_alignment_from_trial_zero_and_survives_divergence():
    model = RateRNN(n_in=1, n_rec=8, n_out=1)
    f = fit("rflo", model, Periodic(period=20), rules.get("rflo", model), 0.05, 6, 2, chunk=3, log=lambda *_: None)
    assert f.ok and f.losses.shape == (2, 6)
    assert f.alignment.shape == (2, 3) and f.alignment_trials.tolist() == [0, 3, 6]
    # the trial-0 alignment is cos(W_out, B) of the initial network and feedback matrix
    from plastix.training import seed_keys

    kp, kr, _ = seed_keys(0, 2)
    p0 = model.init(kp[0])
    b0 = rules.get("rflo", model).init(p0, kr[0]).feedback
    cos = float(jnp.vdot(p0["w_out"].ravel(), b0.T.ravel()) / (jnp.linalg.norm(p0["w_out"]) * jnp.linalg.norm(b0)))
    assert abs(f.alignment[0, 0] - cos) < 1e-5
    bad = fit("bptt", model, Periodic(period=20), rules.get("bptt", model), 1e12, 8, 1, log=lambda *_: None)
    assert not bad.ok and "diverged" in bad.error and np.isnan(bad.final()).all()


def test_fit_cache_reuses_finished_training(tmp_path, monkeypatch):
    from plastix.experiments import murray2019_common

    monkeypatch.setitem(murray2019_common.CACHE, "dir", tmp_path / "cache")
    model = RateRNN(n_in=1, n_rec=6, n_out=1)
    messages = []
    a = fit("rflo", model, Periodic(period=15), rules.get("rflo", model), 0.05, 4, 2, chunk=2, log=messages.append)
    b = fit("rflo", model, Periodic(period=15), rules.get("rflo", model), 0.05, 4, 2, chunk=2, log=messages.append)
    assert "cached" not in messages[0] and "cached" in messages[1]
    np.testing.assert_array_equal(a.losses, b.losses)
    np.testing.assert_array_equal(a.alignment, b.alignment)
    np.testing.assert_array_equal(a.params["w_rec"], b.params["w_rec"])
    c = fit("rflo", model, Periodic(period=15), rules.get("rflo", model), 0.04, 4, 2, chunk=2, log=messages.append)
    assert "cached" not in messages[2] and not np.array_equal(a.losses, c.losses)  # another lr: trained anew
    bad = [fit("bptt", model, Periodic(period=15), rules.get("bptt", model), 1e12, 8, 1, log=messages.append) for _ in range(2)]
    assert not bad[1].ok and "cached" in messages[-1] and bad[0].error == bad[1].error


def test_statistics_helpers():
    assert median_iqr([1, 2, 3, 4, 5]) == (3.0, 2.0, 4.0)
    assert abs(log10_ratio([10, 10], [1, 1]) - 1.0) < 1e-12
    assert np.isnan(log10_ratio([np.nan], [1.0]))
    assert spearman([1, 2, 3], [3.0, 2.0, 1.0]) == -1.0
    losses = np.vstack([np.arange(100.0), np.arange(100.0) + 2])
    x, m, lo, hi = curve(losses, points=10)
    assert len(x) == 10 and np.all(lo <= m) and np.all(m <= hi)
    np.testing.assert_allclose(m, np.arange(100.0).reshape(10, 10).mean(1) + 1)


class _EchoModel:
    """Stands in for a network whose output is given directly (params = output (T, B, 1))."""

    def run(self, params, inputs, h_init=None, noise=None):
        return None, SimpleNamespace(y=params)


def test_peak_error_measure():
    task = Interval(min_delay=50, max_delay=150)
    delays = np.array([50, 100, 150])
    perfect = task.trial_for_delays(jnp.asarray(delays)).targets
    produced, err = peak_errors(_EchoModel(), perfect, task, delays)
    np.testing.assert_array_equal(produced, delays)
    np.testing.assert_array_equal(err, 0)
    late = jnp.roll(perfect, 7, axis=0)
    produced, err = peak_errors(_EchoModel(), late, task, delays)
    np.testing.assert_array_equal(err, 7)
    # a peak before the set pulse does not count: only t ≥ set is searched
    early = perfect.at[5, :, 0].set(10.0)
    _, err = peak_errors(_EchoModel(), early, task, delays)
    np.testing.assert_array_equal(err, 0)


@pytest.mark.slow
def test_quick_reproduction_end_to_end(tmp_path):
    out = tmp_path / "murray"
    proc = subprocess.run(
        [sys.executable, "-m", "plastix.cli", "reproduce", "murray2019", "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    claims = json.loads((out / "claims.json").read_text())
    assert [c["id"] for c in claims] == [cid for cid, _ in murray2019.CLAIMS]
    for c in claims:
        assert isinstance(c["holds"], bool)
        if not c["holds"]:
            assert c["note"], c["id"]  # every claim that fails says why
    report = (out / "report.md").read_text()
    for png in ("fig2.png", "fig2_supp1_dale.png", "fig2_supp2_readout.png", "fig2_supp3_size_gain.png", "fig3.png", "fig4.png", "fig4_training.png"):
        assert (out / png).stat().st_size > 10_000
        assert f"({png})" in report
    results = json.loads((out / "results.json").read_text())
    assert {"fig2", "fig3", "fig4"} <= set(results)

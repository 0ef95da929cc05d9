"""The zuge2021 reproduction: its pieces (fast) and the whole --quick run (slow)."""

import json

import numpy as np
import pytest

from plastix.experiments import zuge2021 as z
from plastix.tasks.teacher_student import TeacherStudent


def test_rate_fits_recover_a_known_exponential():
    t = np.arange(3000)
    curve = 2.0 + 5.0 * np.exp(-t / 400.0)
    assert z.fitted_rate(curve, 2.0) == pytest.approx(1 / 400, rel=1e-6)
    rate, floor = z.fit_exponential(curve + 1e-3 * np.sin(t))
    assert rate == pytest.approx(1 / 400, rel=0.01) and floor == pytest.approx(2.0, abs=0.01)
    assert z.window_mean(np.arange(101.0), 50) == pytest.approx(50.0)
    assert z.final_mean(np.arange(10.0), 4) == pytest.approx(7.5)


def test_simulate_and_theory_on_a_small_task():
    task = TeacherStudent(n_in=8, n_out=2, length=10, n_task=4, n_trial=2, e_opt=0.5)
    for rule in ("wp", "np"):
        out = z.simulate(task, rule, 0.01, 200, 3)
        assert out["error"].shape == (3, 201) and out["irrelevant_ms"].shape == (3, 201)
        pred = z.theory(task, rule, 0.01, 200, out["lr"])
        assert pred.shape == (201,) and pred[0] == pytest.approx(out["error"][0, 0])
        # NP ends above its start here (E_opt (1 + K/(K+2)) > E_0): compare with the theory, not with E_0.
        assert out["error"][:, -100:].mean() == pytest.approx(pred[-100:].mean(), rel=0.25)
        if rule == "np":  # zero-input weights never move under NP
            assert out["final_irrelevant_max"] == 0.0
    assert z.paper_lr("np", task) > z.paper_lr("wp", task)  # NP's η* uses N_eff^trial < N_eff^task
    assert {c for c, _ in z.CLAIMS} >= {"C1", "C2", "C3", "C4", "C5", "C6"}


@pytest.mark.slow
def test_quick_reproduction_end_to_end(tmp_path):
    from plastix import experiments

    rep = experiments.reproduce("zuge2021", tmp_path, quick=True)
    claims = json.loads((tmp_path / "claims.json").read_text())
    assert {c["id"] for c in claims} == {c for c, _ in z.CLAIMS}
    for c in claims:
        assert isinstance(c["holds"], bool) and (c["holds"] or c["note"])
    for name in ("report.md", "zuge_single_task.png", "zuge_subtasks.png", "zuge_reservoir.png", "zuge_digits.png",
                 "zuge_rnn.png", "results.json"):
        assert (tmp_path / name).exists(), name
    assert len(rep.claims) == len(z.CLAIMS)

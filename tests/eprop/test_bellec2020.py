"""The bellec2020 reproduction: a fast check of its pieces, and the whole --quick run (slow)."""

from __future__ import annotations

import json

import pytest

from plastix import experiments
from plastix.errors import ConfigError


def test_reproduction_is_registered_with_its_claims():
    module = experiments.get("bellec2020")
    ids = [cid for cid, _ in module.CLAIMS]
    assert ids == ["factorisation", "autodiff_equivalence", "pattern_close_to_bptt", "pattern_random_adaptive",
                   "evidence_alif", "evidence_lif", "reward"]
    assert set(module.OPTIONS["figure"][0]) == set(module.PARTS)
    for quick in (True, False):
        settings = module._settings(quick)
        assert set(settings) == set(module.PARTS)


def test_bad_part_is_refused_before_anything_runs(tmp_path):
    with pytest.raises(ConfigError, match="^figure: got 'timit'"):
        experiments.reproduce("bellec2020", tmp_path / "out", quick=True, options={"figure": "timit"})
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_quick_reproduction_end_to_end(tmp_path):
    rep = experiments.reproduce("bellec2020", tmp_path, quick=True)
    claims = json.loads((tmp_path / "claims.json").read_text())
    assert [c["id"] for c in claims] == [cid for cid, _ in experiments.get("bellec2020").CLAIMS]
    for name in ("report.md", "pattern_outputs.png", "pattern_learning_curves.png", "evidence_trial.png",
                 "evidence_learning_curves.png", "reward_curve.png"):
        assert (tmp_path / name).exists(), name
    failing = [c for c in rep.claims if not c.holds]
    assert all(c.note for c in failing)
    assert not failing, [(c.id, c.measured) for c in failing]

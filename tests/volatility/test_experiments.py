"""Reproductions piray-daw2021 and vkf2020: fast smoke tests of the pieces, slow end-to-end runs."""

from __future__ import annotations

import json

import jax
import pytest

from plastix.experiments import Reproduction, reproduce
from plastix.experiments import piray_daw2021, vkf2020


def test_registered_with_claims_and_parts():
    for module in (piray_daw2021, vkf2020):
        assert module.DESCRIPTION and module.CLAIMS
        assert set(module.OPTIONS["figure"][0]) == set(module.PART_FUNCTIONS)
        assert len({cid for cid, _ in module.CLAIMS}) == len(module.CLAIMS)


def test_feasibility_piece(tmp_path):
    rep = Reproduction("piray-daw2021", tmp_path, quick=True)
    means = piray_daw2021._feasibility(rep, jax.random.key(0), {"feasibility": 300}, {})
    assert means[1] > means[0] and means[2] < means[0]  # volatility raises, stochasticity lowers autocorrelation
    assert (tmp_path / "fig1_feasibility.png").is_file()
    assert [c.id for c in rep.claims] == ["feasibility-autocorrelation"] and rep.claims[0].holds


def test_vkf_exactness_part(tmp_path):
    rep = reproduce("vkf2020", tmp_path, quick=True, options={"figure": "exactness"})
    assert [c.holds for c in rep.claims] == [True, True, True]
    claims = json.loads((tmp_path / "claims.json").read_text())
    assert {c["id"] for c in claims} == {"golden-trace", "kalman-limit", "update-forms"}
    assert (tmp_path / "report.md").read_text().startswith("# plastix reproduce vkf2020")


@pytest.mark.slow
@pytest.mark.parametrize("name, must_hold", [
    ("piray-daw2021", {"2x2-signs", "2x2-optimal", "lesion-stochasticity-sign", "lesion-volatility-sign",
                       "anxiety-high", "anxiety-insensitive", "volatility-task"}),
    ("vkf2020", {"golden-trace", "kalman-limit", "tracking-volatility", "recovery-continuous"}),
])
def test_quick_reproduction_end_to_end(tmp_path, name, must_hold):
    rep = reproduce(name, tmp_path, quick=True)
    held = {c.id for c in rep.claims if c.holds}
    assert must_hold <= held, must_hold - held
    for c in rep.claims:
        assert c.holds or c.note, c.id  # a failing claim explains itself
    assert (tmp_path / "claims.json").is_file() and (tmp_path / "report.md").is_file()

"""The three energy reproductions: fast smoke tests of their pieces; whole --quick runs are slow."""

import json

import pytest

from plastix import experiments

NAMES = ("baldi-pineda1991", "eqprop", "sathasivam2009")


def test_modules_declare_description_claims_and_parts():
    for name in NAMES:
        mod = experiments.get(name)
        assert mod.DESCRIPTION and len(mod.CLAIMS) >= 5
        assert len({cid for cid, _ in mod.CLAIMS}) == len(mod.CLAIMS)
        assert set(mod.OPTIONS["figure"][0]) == set(mod.PARTS)


@pytest.mark.parametrize("part", ["weights", "hebbian"])
def test_sathasivam_parts_run_and_hold(tmp_path, part):
    rep = experiments.reproduce("sathasivam2009", tmp_path, quick=True, options={"figure": part})
    claims = json.loads((tmp_path / "claims.json").read_text())
    assert claims and all(c["holds"] for c in claims), claims
    assert (tmp_path / "report.md").exists() and rep.claims


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_quick_reproduction_end_to_end(tmp_path, name):
    experiments.reproduce(name, tmp_path, quick=True)
    claims = json.loads((tmp_path / "claims.json").read_text())
    ids = {c["id"] for c in claims}
    assert ids == {cid for cid, _ in experiments.get(name).CLAIMS}
    assert all(c["holds"] or c["note"] for c in claims)  # a failing claim carries its explanation
    assert (tmp_path / "report.md").read_text().startswith(f"# plastix reproduce {name}")
    assert list(tmp_path.glob("*.png"))

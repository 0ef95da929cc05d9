"""The three reproductions: fast checks of their pieces; the whole --quick runs are slow tests."""

from __future__ import annotations

import json

import numpy as np
import pytest

from plastix import experiments

NAMES = ("buonomano2005", "laje2013", "force")


@pytest.mark.parametrize("name", NAMES)
def test_reproduction_modules_are_registered_and_well_formed(name):
    module = experiments.get(name)
    assert module.DESCRIPTION and isinstance(module.DESCRIPTION, str)
    ids = [cid for cid, _ in module.CLAIMS]
    assert len(ids) == len(set(ids)) >= 3
    assert callable(module.run)


def test_force_uses_the_periodic_task_target():
    from plastix.experiments.force import periodic_target

    y = np.asarray(periodic_target(200))[:, 0]
    t = np.arange(1, 201) / 200
    np.testing.assert_allclose(y, np.sin(2 * np.pi * t) + 0.5 * np.sin(4 * np.pi * t) + 0.25 * np.sin(8 * np.pi * t),
                               atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_quick_reproduction_end_to_end(name, tmp_path):
    rep = experiments.reproduce(name, tmp_path, quick=True)
    claims = json.loads((tmp_path / "claims.json").read_text())
    assert [c["id"] for c in claims] == [cid for cid, _ in experiments.get(name).CLAIMS]
    assert (tmp_path / "report.md").exists()
    assert all(c.holds for c in rep.claims), [c.id for c in rep.claims if not c.holds]

"""The HMAX reproduction: fast checks of its pieces; the whole --quick run is marked slow."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

from plastix import experiments
from plastix.experiments import hmax as reproduction
from plastix import perception as px


def test_registered_with_three_claims():
    assert experiments.get("hmax") is reproduction
    assert [cid for cid, _ in reproduction.CLAIMS] == ["invariance-depth", "selectivity-transfer", "local-readout"]


def test_mean_correlation():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 20))
    centre = a.mean(axis=0)
    assert reproduction._mean_correlation(a, a, centre) == pytest.approx(1.0)
    assert reproduction._mean_correlation(a, 2 * a - centre, centre) == pytest.approx(1.0)
    assert reproduction._mean_correlation(a, 2 * centre - a, centre) == pytest.approx(-1.0)


def test_layer_vectors_small():
    config = px.small_config()
    images = px.shape_images(1, 32, sizes=14.0, seed=0).images
    protos = px.prototypes_from_images(images, config, 2, jax.random.key(0))
    vectors = reproduction._layer_vectors(px, images, config, protos)
    assert set(vectors) == {"pixels", "S1", "C1", "C2"}
    assert vectors["S1"].shape == (3, 4 * 4 * 32 * 32) and vectors["C2"].shape == (3, 4)


@pytest.mark.slow
def test_quick_reproduction_end_to_end(tmp_path):
    rep = experiments.reproduce("hmax", tmp_path, quick=True)
    claims = json.loads((tmp_path / "claims.json").read_text())
    assert [c["id"] for c in claims] == [cid for cid, _ in reproduction.CLAIMS]
    assert all(c["holds"] or c["note"] for c in claims)
    for name in ("s1_filters.png", "layers_example.png", "invariance_curves.png", "accuracy.png", "report.md"):
        assert (tmp_path / name).exists()
    assert len(rep.claims) == 3

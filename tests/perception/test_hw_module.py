"""The Hubel–Wiesel module: pooling over a group orbit gives exact invariance."""

from __future__ import annotations

import numpy as np
import pytest

from plastix.perception import cyclic_shift_orbit, hw_module, translation_orbit_2d


@pytest.mark.parametrize("tuning", ["dot", "abs_dot", "gaussian"])
@pytest.mark.parametrize("pooling", ["max", "mean", "energy"])
def test_pooling_over_a_group_is_invariant(x64, tuning, pooling):
    rng = np.random.default_rng(0)
    d = 12
    templates = rng.normal(size=(3, d))
    orbit = cyclic_shift_orbit(templates, range(d))  # the whole cyclic group
    x = rng.normal(size=(4, d))
    base = np.asarray(hw_module(x, orbit, tuning, pooling, beta=0.1))
    for shift in (1, 5, 11):
        moved = np.asarray(hw_module(np.roll(x, shift, axis=1), orbit, tuning, pooling, beta=0.1))
        np.testing.assert_allclose(moved, base, rtol=1e-12, atol=1e-14)


def test_partial_orbit_is_not_invariant(x64):
    rng = np.random.default_rng(1)
    templates = rng.normal(size=(3, 12))
    orbit = cyclic_shift_orbit(templates, range(3))  # only three shifts: not a group
    x = rng.normal(size=(4, 12))
    base = np.asarray(hw_module(x, orbit))
    moved = np.asarray(hw_module(np.roll(x, 6, axis=1), orbit))
    assert np.abs(moved - base).max() > 1e-2


def test_simple_cells_by_hand(x64):
    templates = np.array([[[1.0, 0.0], [0.0, 2.0]]])
    orbit = translation_orbit_2d(templates, [(0, 0), (0, 1)])
    x = np.array([[3.0, 4.0, 0.0, 0.0]])
    # ⟨x, t⟩ = 3; the shifted template [[0, 1], [2, 0]] gives ⟨x, g t⟩ = 4
    assert float(hw_module(x, orbit, "dot", "max")[0, 0]) == pytest.approx(4.0)
    assert float(hw_module(x, orbit, "abs_dot", "mean")[0, 0]) == pytest.approx(3.5 / 5.0)
    expected = np.exp(-0.5 * np.array([(3 - 1) ** 2 + 4**2 + 2**2, 3**2 + (4 - 1) ** 2 + 2**2])).max()
    assert float(hw_module(x, orbit, "gaussian", "max", beta=0.5)[0, 0]) == pytest.approx(expected)

"""Shared test fixtures."""

from __future__ import annotations

import sys
from pathlib import Path

import jax
import pytest

# The NumPy reference implementations (test oracles, also the benchmarks' baselines) are not part
# of the package: they live in benchmarks/references/ (numpy_homeostasis, numpy_hmax).
REFERENCES = Path(__file__).resolve().parents[1] / "benchmarks" / "references"
if str(REFERENCES) not in sys.path:
    sys.path.append(str(REFERENCES))


@pytest.fixture
def x64():
    """Run one test in float64, restoring the default precision afterwards."""
    with jax.enable_x64(True):
        yield

"""Shared test fixtures."""

from __future__ import annotations

import jax
import pytest


@pytest.fixture
def x64():
    """Run one test in float64, restoring the default precision afterwards."""
    with jax.enable_x64(True):
        yield

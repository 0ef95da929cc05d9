"""Shared test fixtures."""

from __future__ import annotations

import jax
import pytest


@pytest.fixture
def x64():
    """Run one test in float64, restoring the default precision afterwards."""
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", previous)

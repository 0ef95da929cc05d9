"""The fixed-point (energy) network, re-exported from :mod:`plastix.models.energy`, where it is defined.

Kept so that ``plastix.energy.network`` (and the training loop in ``energy/train.py``) still
import it from here.
"""

from __future__ import annotations

from ..models.energy import (  # noqa: F401
    ACTIVATIONS, CONNECTIVITIES, NUDGES, EnergyModel, FixedPointNet, Relaxed, activation, anneal, lyapunov_step_bound,
    relax_trajectory, self_energy, strong_convexity, symmetrize, unit_range,
)

"""Where node perturbations enter a model: the one definition the models and the perturbation
rules share (models declare their layers; ``rules/perturbation.py`` reads them)."""

from __future__ import annotations

from typing import NamedTuple


class PerturbationLayer(NamedTuple):
    """A group of units and the weights that drive them.

    ``weights`` lists (parameter name, field of the model's step aux holding the presynaptic
    activity that multiplies it, shape (T, B, P)); ``None`` marks a bias (constant input 1).
    """

    nodes: str
    size: int
    weights: tuple[tuple[str, str | None], ...]

"""S1 filters: the Gabor bank of the standard model.

For a filter of odd size ``s = 2r + 1``, orientation θ, wavelength λ, width σ and aspect ratio γ,
on the grid ``x, y ∈ {−r, …, r}`` (``x`` to the right, ``y`` up, so θ is counter-clockwise as seen
on screen):

    x₀ = x cos θ + y sin θ,      y₀ = −x sin θ + y cos θ
    G(x, y) = exp(−(x₀² + γ² y₀²) / (2σ²)) · cos(2π x₀ / λ)

then ``G = 0`` outside the disc ``√(x² + y²) ≤ s/2``, and on the disc ``G ← G − mean(G)``,
``G ← G / ‖G‖₂``: zero mean, unit norm, zero outside the disc.  θ is the direction along which the
filter oscillates; its preferred bars and edges run at ``θ + 90°`` (θ = 0° responds to vertical
bars).  The cosine Gabor is even, ``G(−x, −y) = G(x, y)``, so correlation and convolution with it
agree.

Caveat: the mean is removed over the disc only (not over the whole ``s × s`` square), so that the
filter stays exactly zero outside it; normalised S1 responses then lie in [0, 1].
"""

from __future__ import annotations

import numpy as np

from ..errors import check_positive
from .config import HMAXConfig


def filter_coordinates(size: int) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of each filter pixel: ``x`` = column − r (rightward), ``y`` = r − row (upward)."""
    r = size // 2
    offsets = np.arange(size) - r
    x = np.broadcast_to(offsets[None, :], (size, size)).astype(np.float64)
    y = np.broadcast_to(-offsets[:, None], (size, size)).astype(np.float64)
    return x, y


def disc_mask(size: int) -> np.ndarray:
    """Boolean ``size × size`` mask of the pixels within ``size / 2`` of the centre."""
    x, y = filter_coordinates(size)
    return np.hypot(x, y) <= size / 2.0


def gabor_filter(size: int, wavelength: float, sigma: float, orientation_deg: float, aspect_ratio: float = 0.3) -> np.ndarray:
    """One S1 Gabor (float64, ``size × size``): masked to the disc, zero mean, unit L2 norm."""
    check_positive("size", size, integer=True)
    if size % 2 == 0:
        raise ValueError(f"size: got {size}; accepted: an odd integer")
    x, y = filter_coordinates(size)
    theta = np.deg2rad(orientation_deg)
    x0 = x * np.cos(theta) + y * np.sin(theta)
    y0 = -x * np.sin(theta) + y * np.cos(theta)
    g = np.exp(-(x0**2 + aspect_ratio**2 * y0**2) / (2.0 * sigma**2)) * np.cos(2.0 * np.pi * x0 / wavelength)
    mask = disc_mask(size)
    g = np.where(mask, g, 0.0)
    g[mask] -= g[mask].mean()
    return g / np.linalg.norm(g)


def s1_filter_bank(config: HMAXConfig) -> list[np.ndarray]:
    """The S1 filters: one float64 array ``(n_orientations, s, s)`` per size, in config order."""
    bank = []
    for size, lam, sig in zip(config.s1_sizes, config.wavelengths, config.sigmas):
        bank.append(
            np.stack([gabor_filter(size, lam, sig, th, config.s1_aspect_ratio) for th in config.s1_orientations_deg])
        )
    return bank


def parameter_table(config: HMAXConfig) -> list[dict]:
    """Rows (band, size, σ, λ, C1 pool, C1 stride) describing the S1/C1 parameters in use."""
    rows = []
    for band in range(config.n_bands):
        for size in config.band_sizes(band):
            i = config.s1_sizes.index(size)
            rows.append(
                dict(band=band + 1, size=size, sigma=config.sigmas[i], wavelength=config.wavelengths[i],
                     c1_pool=config.c1_pool_sizes[band], c1_stride=config.strides[band])
            )
    return rows

"""A plain NumPy/SciPy implementation of S1 → C1 → S2 → C2, one image at a time.

The same equations as :mod:`plastix.perception.layers`, written the straightforward way: one
``scipy.signal.correlate`` per filter (``method="auto"`` lets SciPy pick FFT or direct) and per
prototype, ``scipy.ndimage.maximum_filter`` for C1.  It serves as the independent reference in
the tests (with ``method="direct"`` in float64, tests/perception/test_layers.py) and as the
baseline in ``benchmarks/hmax.py``; it is not part of the package.  It shares only the filter bank (:func:`~plastix.perception.gabor.s1_filter_bank`), which the
tests check against its formula separately.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage, signal

from plastix.perception.config import HMAXConfig
from plastix.perception.gabor import disc_mask, s1_filter_bank
from plastix.perception.layers import s2_padding


def s1(image: np.ndarray, config: HMAXConfig, method: str = "auto") -> list[np.ndarray]:
    """S1 maps ``(O, H, W)`` per size for one image ``(H, W)``."""
    image = np.asarray(image, dtype=np.float64)
    out = []
    for size, filters in zip(config.s1_sizes, s1_filter_bank(config)):
        energy = signal.correlate(image**2, disc_mask(size).astype(np.float64), mode="same", method=method)
        # direct sums are exactly 0 on dark discs; an FFT leaves ~1e-16 of the peak there instead
        energy = np.where(energy > 1e-10 * max(energy.max(), 1e-300), energy, 0.0)
        norm = np.sqrt(energy)
        maps = []
        for g in filters:
            response = np.abs(signal.correlate(image, g, mode="same", method=method))
            maps.append(np.where(norm > 0, response / np.where(norm > 0, norm, 1.0), 0.0))
        out.append(np.minimum(np.stack(maps), 1.0))
    return out


def c1(s1_maps: list[np.ndarray], config: HMAXConfig) -> list[np.ndarray]:
    """C1 maps ``(O, H_b, W_b)`` per band from :func:`s1` output."""
    height, width = s1_maps[0].shape[-2:]
    out = []
    for band, (shape, pool, stride) in enumerate(zip(config.c1_shape(height, width), config.c1_pool_sizes, config.strides)):
        indices = [config.s1_sizes.index(s) for s in config.band_sizes(band)]
        over_scales = np.max(np.stack([s1_maps[i] for i in indices]), axis=0)
        # windows start at p·stride − pool//2; pad so that every window lies inside the array
        pad = pool // 2
        padded = np.pad(over_scales, ((0, 0), (pad, pool), (pad, pool)))
        # maximum_filter's window at index c spans [c − pool//2, c − pool//2 + pool)
        pooled = ndimage.maximum_filter(padded, size=(1, pool, pool), mode="constant", cval=0.0)
        rows = np.arange(shape[0]) * stride + pool // 2
        cols = np.arange(shape[1]) * stride + pool // 2
        out.append(pooled[:, rows][:, :, cols])
    return out


def s2(c1_maps: list[np.ndarray], patches, config: HMAXConfig, method: str = "auto") -> list[list[np.ndarray]]:
    """S2 maps ``s2[i][b]``: ``(P, h, w)`` for prototype size ``i`` and band ``b`` (empty if it does not fit)."""
    out = []
    for prototypes in patches:
        prototypes = np.asarray(prototypes, dtype=np.float64)
        n = prototypes.shape[-1]
        before, after = s2_padding(n, config.s2_padding)
        per_band = []
        for band_map in c1_maps:
            band_map = np.pad(band_map, ((0, 0), (before, after), (before, after)))
            h, w = band_map.shape[-2:]
            if h < n or w < n:
                per_band.append(np.zeros((prototypes.shape[0], 0, 0)))
                continue
            patch_sq = signal.correlate((band_map**2).sum(axis=0), np.ones((n, n)), mode="valid", method="direct")
            maps = []
            for p in prototypes:
                cross = signal.correlate(band_map, p, mode="valid", method=method)[0]
                dist_sq = np.maximum(patch_sq - 2.0 * cross + np.sum(p**2), 0.0)
                maps.append(np.exp(-config.s2_beta * dist_sq) if config.s2_tuning == "gaussian" else -np.sqrt(dist_sq))
            per_band.append(np.stack(maps))
        out.append(per_band)
    return out


def c2(s2_maps: list[list[np.ndarray]]) -> np.ndarray:
    """C2 ``(n_prototype_sizes, P)``: max over positions and bands."""
    rows = []
    for per_band in s2_maps:
        rows.append(np.max(np.stack([m.max(axis=(-2, -1)) for m in per_band if m.size]), axis=0))
    return np.stack(rows)


def c2_features(images: np.ndarray, config: HMAXConfig, patches, method: str = "auto") -> np.ndarray:
    """C2 of each image ``(N, n_prototype_sizes, P)``, computed one image at a time."""
    return np.stack([c2(s2(c1(s1(img, config, method), config), patches, config, method)) for img in images])

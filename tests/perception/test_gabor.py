"""S1 filters against their formula: masking, zero mean, unit norm, orientation of maximal response."""

from __future__ import annotations

import numpy as np
import pytest

from plastix.errors import ConfigError
from plastix.perception import HMAXConfig, disc_mask, gabor_filter, s1_filter_bank, small_config
from plastix.perception.layers import disc_half_widths


def formula(size, wavelength, sigma, theta_deg, gamma):
    """The Gabor written out independently: pixel (row i, col j) at x = j − r, y = r − i."""
    r = size // 2
    out = np.zeros((size, size))
    th = np.deg2rad(theta_deg)
    for i in range(size):
        for j in range(size):
            x, y = j - r, r - i
            if x * x + y * y > (size / 2) ** 2:
                continue
            x0 = x * np.cos(th) + y * np.sin(th)
            y0 = -x * np.sin(th) + y * np.cos(th)
            out[i, j] = np.exp(-(x0**2 + gamma**2 * y0**2) / (2 * sigma**2)) * np.cos(2 * np.pi * x0 / wavelength)
    inside = np.array([[(j - r) ** 2 + (r - i) ** 2 <= (size / 2) ** 2 for j in range(size)] for i in range(size)])
    out[inside] -= out[inside].mean()
    return out / np.linalg.norm(out), inside


@pytest.mark.parametrize("size,theta", [(7, 0.0), (11, 45.0), (23, 90.0), (37, 135.0), (15, 30.0)])
def test_filter_matches_formula(size, theta):
    config = HMAXConfig()
    k = config.s1_sizes.index(size) if size in config.s1_sizes else 0
    lam, sig = config.wavelengths[k], config.sigmas[k]
    expected, inside = formula(size, lam, sig, theta, 0.3)
    got = gabor_filter(size, lam, sig, theta, 0.3)
    np.testing.assert_allclose(got, expected, atol=1e-12)
    np.testing.assert_array_equal(disc_mask(size), inside)


def test_bank_normalisation_and_support():
    config = HMAXConfig()
    bank = s1_filter_bank(config)
    assert [b.shape for b in bank] == [(4, s, s) for s in config.s1_sizes]
    for size, filters in zip(config.s1_sizes, bank):
        mask = disc_mask(size)
        for g in filters:
            assert abs(g.mean()) < 1e-6 and abs(g[mask].mean()) < 1e-12
            assert abs(np.linalg.norm(g) - 1.0) < 1e-6
            assert np.all(g[~mask] == 0.0)
            np.testing.assert_allclose(g, g[::-1, ::-1], atol=1e-12)  # even: correlation = convolution


def test_standard_parameters_table():
    """σ and λ of the standard model against the values listed "according to Serre (2006)" (given to
    0.1 px, some truncated rather than rounded: 12.78 is listed as 12.7)."""
    config = HMAXConfig()
    lam = [3.5, 4.6, 5.6, 6.8, 7.9, 9.1, 10.3, 11.5, 12.7, 14.1, 15.4, 16.8, 18.2, 19.7, 21.2, 22.8]
    sig = [2.8, 3.6, 4.5, 5.4, 6.3, 7.3, 8.2, 9.2, 10.2, 11.3, 12.3, 13.4, 14.6, 15.8, 17.0, 18.2]
    np.testing.assert_allclose(config.wavelengths, lam, atol=0.1)
    np.testing.assert_allclose(config.sigmas, sig, atol=0.1)
    assert config.strides == (4, 5, 6, 7, 8, 9, 10, 11)


def test_orientation_of_maximal_response():
    """A grating along θ_k at the filter's wavelength drives channel k hardest, at every size."""
    config = HMAXConfig()
    for size, lam, filters in zip(config.s1_sizes, config.wavelengths, s1_filter_bank(config)):
        r = size // 2
        x = np.arange(size)[None, :] - r
        y = r - np.arange(size)[:, None]
        for k, theta in enumerate(config.s1_orientations_deg):
            th = np.deg2rad(theta)
            grating = np.cos(2 * np.pi * (x * np.cos(th) + y * np.sin(th)) / lam)
            responses = np.abs((filters * grating).sum(axis=(1, 2)))
            assert int(np.argmax(responses)) == k, (size, theta, responses)


def test_disc_half_widths_match_mask():
    for size in range(3, 40, 2):
        assert [2 * w + 1 for w in disc_half_widths(size)] == list(disc_mask(size).sum(axis=1))


def test_config_errors_are_one_line():
    with pytest.raises(ConfigError, match=r"hmax.s1_sizes: got \(8,\)"):
        HMAXConfig(s1_sizes=(8,))
    with pytest.raises(ConfigError, match="hmax.c1_pool_sizes"):
        HMAXConfig(c1_pool_sizes=(8, 10))
    with pytest.raises(ConfigError, match="hmax.s2_tuning"):
        HMAXConfig(s2_tuning="cosine")
    with pytest.raises(ConfigError, match="hmax.c1_strides"):
        small_config(c1_strides=(9, 4))
    with pytest.raises(ConfigError, match="hmax.unknown"):
        HMAXConfig(unknown=1)
    with pytest.raises(ConfigError, match="hmax.s1_orientations_deg"):
        HMAXConfig(s1_orientations_deg=(0.0, 180.0))
    assert hash(HMAXConfig()) == hash(HMAXConfig())  # usable as a static jit argument

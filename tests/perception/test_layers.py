"""S1 → C1 → S2 → C2 against independent references and the model's defining properties."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from scipy import signal

from plastix.errors import ConfigError
from plastix.perception import (
    HMAXConfig, Prototypes, c2_features, disc_mask, hmax_layers, s1_filter_bank, small_config,
)
from plastix.perception.layers import disc_energies

import numpy_hmax as ref  # the NumPy/SciPy reference: benchmarks/references/ (tests/conftest.py)


def blob_image(size=40, seed=0, margin=12):
    """Random strokes in the middle of a dark canvas, quantised like the built-in images."""
    rng = np.random.default_rng(seed)
    img = np.zeros((size, size))
    inner = rng.random((size - 2 * margin, size - 2 * margin))
    img[margin:-margin, margin:-margin] = np.where(inner > 0.6, inner, 0.0)
    return np.round(img * 255) / 255


def c1_by_loops(s1_maps, config):
    """C1 written as explicit loops over output cells (independent of the library and of SciPy)."""
    height, width = s1_maps[0].shape[-2:]
    out = []
    for band, (pool, stride) in enumerate(zip(config.c1_pool_sizes, config.strides)):
        idx = [config.s1_sizes.index(s) for s in config.band_sizes(band)]
        merged = np.max(np.stack([s1_maps[i] for i in idx]), axis=0)
        rows, cols = config.c1_shape(height, width)[band]
        cells = np.zeros((merged.shape[0], rows, cols))
        for p in range(rows):
            for q in range(cols):
                r0, c0 = p * stride - pool // 2, q * stride - pool // 2
                window = merged[:, max(r0, 0) : r0 + pool, max(c0, 0) : c0 + pool]
                cells[:, p, q] = window.max(axis=(1, 2))
        out.append(cells)
    return out


# ------------------------------------------------------------------------------------------------
# S1
# ------------------------------------------------------------------------------------------------
def test_disc_energies_match_direct_sums(x64):
    img = blob_image(30)
    sizes = (7, 13, 21)
    got = disc_energies(jax.numpy.asarray(img[None]), sizes)
    for size, energy in zip(sizes, got):
        expected = signal.correlate(img**2, disc_mask(size).astype(float), mode="same", method="direct")
        np.testing.assert_allclose(np.asarray(energy[0]), expected, atol=1e-12)
        # exactly zero where the disc sees only dark pixels (the model's S1 = 0 there)
        assert np.all(np.asarray(energy[0])[expected == 0] == 0)


def test_s1_c1_match_reference_standard_config(x64):
    config = HMAXConfig()
    img = blob_image(40, seed=1)
    layers = hmax_layers(img, config)
    s1_ref = ref.s1(img, config, method="direct")
    for got, expected in zip(layers.s1, s1_ref):
        np.testing.assert_allclose(np.asarray(got[0]), expected, atol=1e-10)
    for got, expected in zip(layers.c1, c1_by_loops(s1_ref, config)):
        np.testing.assert_allclose(np.asarray(got[0]), expected, atol=1e-10)


def test_s1_float32_close_to_float64_reference():
    config = small_config()
    img = blob_image(40, seed=2)
    layers = hmax_layers(img.astype(np.float32), config)
    for got, expected in zip(layers.s1, ref.s1(img, config, method="direct")):
        np.testing.assert_allclose(np.asarray(got[0]), expected, atol=2e-3)


def test_s1_range_and_contrast_invariance(x64):
    config = small_config()
    img = blob_image(32, seed=3) + 0.1  # lit everywhere
    base = hmax_layers(img, config).s1
    scaled = hmax_layers(7.5 * img, config).s1
    for a, b in zip(base, scaled):
        a, b = np.asarray(a), np.asarray(b)
        assert a.min() >= 0.0 and a.max() <= 1.0
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-12)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_s1_is_one_where_the_patch_is_the_filter(x64, sign):
    config = small_config()
    bank = s1_filter_bank(config)
    size_index, orientation = 2, 1
    g = bank[size_index][orientation]
    size = g.shape[0]
    img = np.zeros((31, 31))
    img[10 : 10 + size, 8 : 8 + size] = sign * g  # S1 only needs a non-zero norm, not positivity
    s1 = np.asarray(hmax_layers(img, config).s1[size_index][0, orientation])
    centre = (10 + size // 2, 8 + size // 2)
    assert s1[centre] == pytest.approx(1.0, abs=1e-9)
    assert s1.max() == pytest.approx(1.0, abs=1e-9)


def test_shapes_of_every_layer():
    config = HMAXConfig()
    rng = np.random.default_rng(0)
    protos = Prototypes(tuple(rng.random((3, 4, n, n)).astype(np.float32) for n in (4, 8)), config.s1_orientations_deg)
    layers = hmax_layers(np.zeros((2, 48, 56), np.float32) + blob_image(56)[:48].astype(np.float32), config, protos)
    assert len(layers.s1) == 16 and all(m.shape == (2, 4, 48, 56) for m in layers.s1)
    assert [m.shape[2:] for m in layers.c1] == config.c1_shape(48, 56)
    assert layers.c1[0].shape[2:] == (48 // 4 + 1, 56 // 4 + 1)
    assert layers.c2.shape == (2, 2, 3)
    # "same" padding: each S2 map has its C1 band's size
    assert all(s.shape[2:] == c.shape[2:] for s, c in zip(layers.s2[1], layers.c1))


# ------------------------------------------------------------------------------------------------
# S2 and C2
# ------------------------------------------------------------------------------------------------
def test_c2_is_the_max_of_s2():
    config = small_config()
    img = np.stack([blob_image(36, seed=s) for s in range(3)]).astype(np.float32)
    rng = np.random.default_rng(1)
    protos = Prototypes(tuple(rng.random((5, 4, n, n)).astype(np.float32) * 0.5 for n in (2, 4)), config.s1_orientations_deg)
    layers = hmax_layers(img, config, protos)
    for i in range(2):
        expected = np.max(np.stack([np.asarray(m).max(axis=(-2, -1)) for m in layers.s2[i] if m.size]), axis=0)
        np.testing.assert_array_equal(np.asarray(layers.c2[:, i]), expected)
    np.testing.assert_allclose(c2_features(img, config, protos, batch_size=2), np.asarray(layers.c2), atol=1e-6)


@pytest.mark.parametrize("padding", ["valid", "same", "full"])
@pytest.mark.parametrize("tuning", ["gaussian", "euclidean"])
def test_s2_c2_match_reference(x64, padding, tuning):
    config = small_config(s2_padding=padding, s2_tuning=tuning)
    img = blob_image(36, seed=4)
    rng = np.random.default_rng(2)
    patches = tuple(rng.random((3, 4, n, n)) * 0.5 for n in (2, 4))
    layers = hmax_layers(img, config, Prototypes(patches, config.s1_orientations_deg))
    s2_ref = ref.s2(ref.c1(ref.s1(img, config, "direct"), config), patches, config, "direct")
    for got_size, ref_size in zip(layers.s2, s2_ref):
        for got, expected in zip(got_size, ref_size):
            np.testing.assert_allclose(np.asarray(got[0]), expected, atol=1e-9)
    np.testing.assert_allclose(np.asarray(layers.c2[0]), ref.c2(s2_ref), atol=1e-9)


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_self_match(x64, padding):
    """A prototype cut from an image's own C1 gives S2 = 1 there and C2 = 1 (distance 0)."""
    config = small_config(s2_padding=padding)
    img = blob_image(40, seed=5)
    c1 = hmax_layers(img, config).c1
    n, band, (p, q) = 4, 1, (2, 3)
    patch = np.asarray(c1[band][0, :, p : p + n, q : q + n])
    protos = Prototypes((patch[None],), config.s1_orientations_deg)
    layers = hmax_layers(img, config, protos)
    offset = 0 if padding == "valid" else (n - 1) // 2
    assert float(layers.s2[0][band][0, 0, p + offset, q + offset]) == pytest.approx(1.0, abs=1e-9)
    assert float(layers.c2[0, 0, 0]) == pytest.approx(1.0, abs=1e-9)
    euclid = hmax_layers(img, small_config(s2_padding=padding, s2_tuning="euclidean"), protos)
    assert float(euclid.c2[0, 0, 0]) == pytest.approx(0.0, abs=1e-6)


def test_valid_padding_refuses_patches_that_never_fit():
    config = small_config(s2_padding="valid")
    protos = Prototypes((np.zeros((1, 4, 4, 4), np.float32),), config.s1_orientations_deg)
    with pytest.raises(ConfigError, match="S2 patch size: got 4"):
        hmax_layers(np.ones((8, 8), np.float32), config, protos)


def test_bad_images_are_refused():
    with pytest.raises(ConfigError, match="images"):
        hmax_layers(np.zeros((2, 3, 4, 5)), small_config())
    with pytest.raises(ConfigError, match="finite"):
        hmax_layers(np.full((8, 8), np.nan), small_config())


# ------------------------------------------------------------------------------------------------
# translation
# ------------------------------------------------------------------------------------------------
def _shifted_pair(shift, size=56):
    img = blob_image(size, seed=6, margin=20)
    return np.stack([img, np.roll(img, (shift, shift), axis=(0, 1))]).astype(np.float32)


def _per_band_c2(layers, band):
    return np.stack([np.asarray(per_band[band]).max(axis=(-2, -1)) for per_band in layers.s2], axis=1)


@pytest.mark.parametrize("padding", ["same", "full"])
def test_c2_shift_invariance_one_stride(padding):
    """Shifting by a band's C1 stride leaves that band's C2 unchanged; with equal strides, all of C2."""
    config = small_config(s2_padding=padding)  # strides 4 and 5
    rng = np.random.default_rng(3)
    protos = Prototypes(tuple(rng.random((6, 4, n, n)).astype(np.float32) * 0.6 for n in (2, 4)), config.s1_orientations_deg)
    for band, stride in enumerate(config.strides):
        layers = hmax_layers(_shifted_pair(stride), config, protos)
        per_band = _per_band_c2(layers, band)
        np.testing.assert_allclose(per_band[1], per_band[0], atol=2e-5)
    equal = small_config(s2_padding=padding, c1_pool_sizes=(8, 8))
    layers = hmax_layers(_shifted_pair(4), equal, protos)
    np.testing.assert_allclose(np.asarray(layers.c2[1]), np.asarray(layers.c2[0]), atol=2e-5)
    # control: a shift that is not a multiple of the stride does change C2 (the test can fail)
    layers = hmax_layers(_shifted_pair(2), equal, protos)
    assert np.abs(np.asarray(layers.c2[1]) - np.asarray(layers.c2[0])).max() > 1e-3

"""Prototype sampling, saving and loading with an explicit orientation channel order."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from plastix.errors import ConfigError
from plastix.perception import Prototypes, load_prototypes, reorder_orientations, sample_prototypes, save_prototypes

ORIENTATIONS = (0.0, 45.0, 90.0, 135.0)


def fake_c1(seed=0):
    rng = np.random.default_rng(seed)
    maps = [rng.random((3, 4, 9, 9)), rng.random((3, 4, 5, 5))]
    maps[0][:, :, :4, :] = 0.0  # a dark region: no prototype may come from it alone
    return [m.astype(np.float32) for m in maps]


def test_sampled_prototypes_are_patches_of_their_source_band():
    maps = fake_c1()
    protos = sample_prototypes(maps, (2, 6), 12, jax.random.key(0), ORIENTATIONS)
    assert protos.sizes == (2, 6) and protos.count == 12
    assert set(protos.source_bands[1]) == {0}  # a 6×6 patch fits only in the 9×9 band
    for patches, bands, n in zip(protos.patches, protos.source_bands, protos.sizes):
        for patch, band in zip(patches, bands):
            source = maps[band]
            windows = np.lib.stride_tricks.sliding_window_view(source, (n, n), axis=(2, 3))  # (N, O, h, w, n, n)
            match = np.all(windows == patch[None, :, None, None], axis=(1, 4, 5))
            assert match.any()
            assert patch.max() > 0  # never wholly dark


def test_sampling_is_reproducible_and_checks_sizes():
    maps = fake_c1()
    a = sample_prototypes(maps, (2,), 5, jax.random.key(1), ORIENTATIONS)
    b = sample_prototypes(maps, (2,), 5, jax.random.key(1), ORIENTATIONS)
    np.testing.assert_array_equal(a.patches[0], b.patches[0])
    with pytest.raises(ConfigError, match="S2 patch size: got 12"):
        sample_prototypes(maps, (12,), 5, jax.random.key(1), ORIENTATIONS)


def test_reorder_orientations_permutes_channels():
    patches = np.arange(4)[None, :, None, None] * np.ones((2, 4, 3, 3))
    # a file whose channels are 90°, 135° (= −45°), 0°, 45°
    out = reorder_orientations(patches, (90, -45, 0, 45), ORIENTATIONS)
    np.testing.assert_array_equal(out[0, :, 0, 0], [2, 3, 0, 1])
    with pytest.raises(ConfigError, match="orientation order"):
        reorder_orientations(patches, (0, 30, 90, 135), ORIENTATIONS)


def test_save_and_load_roundtrip(tmp_path):
    rng = np.random.default_rng(0)
    protos = Prototypes(tuple(rng.random((3, 4, n, n)).astype(np.float32) for n in (4, 8)), ORIENTATIONS)
    path = save_prototypes(tmp_path / "p.npz", protos)
    loaded = load_prototypes(path, ORIENTATIONS)
    for a, b in zip(protos.patches, loaded.patches):
        np.testing.assert_array_equal(a, b)


def test_external_patch_set_needs_its_channel_order(tmp_path):
    rng = np.random.default_rng(1)
    ours = rng.random((2, 4, 4, 4)).astype(np.float32)
    theirs = ours[:, [2, 3, 0, 1]]  # stored as 90°, 135°, 0°, 45°
    np.savez(tmp_path / "ext.npz", patches_4=theirs)
    with pytest.raises(ConfigError, match="orientation order: got None"):
        load_prototypes(tmp_path / "ext.npz", ORIENTATIONS)
    loaded = load_prototypes(tmp_path / "ext.npz", ORIENTATIONS, file_orientations_deg=(90, 135, 0, 45))
    np.testing.assert_array_equal(loaded.patches[0], ours)
    with pytest.raises(ConfigError, match="prototypes file"):
        load_prototypes(tmp_path / "missing.npz", ORIENTATIONS)


def test_prototypes_validate_shapes():
    with pytest.raises(ConfigError, match="prototypes"):
        Prototypes((np.zeros((2, 4, 3, 3)), np.zeros((3, 4, 5, 5))), ORIENTATIONS)
    with pytest.raises(ConfigError, match="orientation channels"):
        Prototypes((np.zeros((2, 3, 3, 3)),), ORIENTATIONS)

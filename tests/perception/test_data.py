"""Built-in image sets and the image-folder loader (including its error cases)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from plastix.errors import ConfigError, PlastixError
from plastix.perception import digit_images, draw_shape, load_image_folder, shape_images


def _png(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "images"
    grey = np.zeros((12, 10), np.uint8)
    grey[3:9, 4:6] = 255
    _png(root / "bars" / "a.png", grey)
    _png(root / "bars" / "b.PNG", grey[::-1])
    rgb = np.zeros((12, 10, 3), np.uint8)
    rgb[..., 1] = 200
    _png(root / "greens" / "c.jpg", rgb)
    (root / "greens" / "notes.txt").write_text("not an image")
    (root / "greens" / ".hidden.png").write_bytes(b"ignored")
    return root


def test_loader_reads_classes_in_order(folder):
    data = load_image_folder(folder)
    assert data.class_names == ("bars", "greens")
    assert list(data.labels) == [0, 0, 1]
    assert data.images.shape == (3, 12, 10) and data.images.dtype == np.float32
    assert data.images[0].max() == 1.0 and data.images[0, 0, 0] == 0.0
    # luminance of pure green 200: 0.587 · 200 / 255, to within JPEG and rounding error
    assert abs(float(data.images[2].mean()) - 0.587 * 200 / 255) < 0.02
    assert [p.endswith(n) for p, n in zip(data.paths, ("a.png", "b.PNG", "c.jpg"))] == [True] * 3
    assert len(data.skipped) == 1 and data.skipped[0].endswith("notes.txt")


def test_loader_resizes(folder):
    data = load_image_folder(folder, image_size=(20, 16))
    assert data.images.shape == (3, 20, 16)
    assert load_image_folder(folder, image_size=8).images.shape == (3, 8, 8)


def test_loader_error_cases(folder, tmp_path):
    with pytest.raises(ConfigError, match="image folder: got .*missing.*an existing folder"):
        load_image_folder(tmp_path / "missing")
    with pytest.raises(ConfigError, match="this is a file"):
        load_image_folder(folder / "bars" / "a.png")
    flat = tmp_path / "flat"
    _png(flat / "x.png", np.zeros((4, 4), np.uint8))
    with pytest.raises(ConfigError, match="one sub-folder .* per class"):
        load_image_folder(flat)
    (folder / "empty").mkdir()
    with pytest.raises(ConfigError, match="class folder: got .*empty"):
        load_image_folder(folder)
    (folder / "empty").rmdir()
    with pytest.raises(ConfigError, match="image size"):
        load_image_folder(folder, image_size=0)


def test_loader_names_unreadable_files(folder):
    (folder / "bars" / "corrupt.png").write_bytes(b"this is not a png")
    with pytest.raises(PlastixError, match=r"image file: got '.*corrupt\.png'; accepted: a readable PNG or JPEG"):
        load_image_folder(folder)
    (folder / "bars" / "corrupt.png").unlink()
    good = (folder / "bars" / "a.png").read_bytes()
    (folder / "bars" / "truncated.png").write_bytes(good[: len(good) // 2])
    with pytest.raises(PlastixError, match="truncated.png"):
        load_image_folder(folder)


def test_loader_refuses_mixed_sizes_without_resizing(folder):
    _png(folder / "bars" / "big.png", np.zeros((30, 30), np.uint8))
    with pytest.raises(ConfigError, match="image size: got '30x30 in .*big.png'"):
        load_image_folder(folder)
    assert load_image_folder(folder, image_size=16).images.shape == (4, 16, 16)


def test_digit_images_placement_and_split():
    centred = digit_images(2, 64, "train", heights=32.0)
    assert centred.images.shape == (20, 64, 64) and list(centred.labels[:4]) == [0, 0, 1, 1]
    assert centred.images.min() >= 0 and centred.images.max() <= 1
    np.testing.assert_allclose(np.round(centred.images * 255), centred.images * 255, atol=1e-4)  # 8-bit levels
    test = digit_images(2, 64, "test", heights=32.0)
    assert not set(centred.details["digit_index"]) & set(test.details["digit_index"])
    # an integer shift of the centre shifts the image exactly
    moved = digit_images(2, 64, "train", heights=32.0, positions=np.tile([31.5 + 5, 31.5 - 3], (20, 1)))
    np.testing.assert_array_equal(moved.images, np.roll(centred.images, (-3, 5), axis=(1, 2)))
    # a 32-px digit stays within its box (bilinear interpolation: one source pixel of spill at most)
    rows = np.flatnonzero(centred.images.max(axis=(0, 2)))
    assert rows.min() >= 31.5 - 16 - 4 and rows.max() <= 31.5 + 16 + 4
    with pytest.raises(ConfigError, match="split"):
        digit_images(1, 64, "validation")
    with pytest.raises(ConfigError, match="count_per_class"):
        digit_images(1000, 64)


def test_shapes_have_the_requested_orientation():
    for angle in (0.0, 30.0, 90.0, 135.0):
        bar = draw_shape("bar", 64, (31.5, 31.5), 40, angle)
        rows, cols = np.nonzero(bar > 0.5)
        x, y = cols - cols.mean(), -(rows - rows.mean())  # y up: angles counter-clockwise on screen
        cov = np.cov(np.stack([x, y]))
        major = np.linalg.eigh(cov)[1][:, -1]
        measured = np.rad2deg(np.arctan2(major[1], major[0])) % 180
        assert min(abs(measured - angle), 180 - abs(measured - angle)) < 2.0
    ring = draw_shape("circle", 64, (31.5, 31.5), 40)
    assert ring[31, 31] == 0 and ring[31, 31 + 20] > 0.5
    data = shape_images(3, 48, positions="random", sizes=(12, 20), seed=0)
    assert data.images.shape == (9, 48, 48) and data.class_names == ("bar", "cross", "circle")
    with pytest.raises(ConfigError, match="shape: got 'star'"):
        draw_shape("star", 32, (16, 16), 10)

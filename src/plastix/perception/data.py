"""Images for HMAX: transformed digits, drawn shapes, and a user's own folder of images.

Nothing is downloaded.

* :func:`digit_images` — the 8 × 8 handwritten digits of ``sklearn.datasets.load_digits``
  (1797 images, 10 classes), magnified to ``height`` pixels with bilinear interpolation and
  placed with their centre at a chosen position on a blank square canvas.  The digits of each
  class are split once, in file order, into a ``"train"`` half and a ``"test"`` half, so that
  test digits are never seen in training, whatever their placement.
* :func:`shape_images` — bars, crosses and circles (rings) drawn with anti-aliased edges at
  chosen orientations, positions and sizes.
* :func:`load_image_folder` — PNG/JPEG files, one sub-folder per class.

Every image is a float32 array of grey levels in [0, 1], quantised to 1/255 like an 8-bit file.
Why bilinear and quantised: S1 divides by the local image norm, so it responds as strongly to a
patch of faint light as to a bright one.  Cubic-spline magnification rings, leaving faint light
up to ~20 px around a digit, which S1 would turn into spurious texture; bilinear interpolation
stays inside the digit's box (plus one source pixel), and rounding to 1/255 removes any residue
below half a grey level.  Positions are ``(x, y)`` = (column, row) in pixels from the
top-left corner of the canvas; orientations are counter-clockwise on screen, in degrees.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConfigError, check_positive

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
SHAPE_CLASSES = ("bar", "cross", "circle")


@dataclass(frozen=True)
class LabelledImages:
    """Images ``(N, H, W)`` float32 in [0, 1], integer labels ``(N,)``, class names, and how each was made."""

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    paths: tuple[str, ...] = ()
    details: dict = field(default_factory=dict)
    skipped: tuple[str, ...] = ()

    def __len__(self) -> int:
        return int(self.images.shape[0])


def quantise(images: np.ndarray) -> np.ndarray:
    """Clip to [0, 1] and round to multiples of 1/255 (float32)."""
    return (np.round(np.clip(images, 0.0, 1.0) * 255.0) / 255.0).astype(np.float32)


# ------------------------------------------------------------------------------------------------
# digits
# ------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _digits_split():
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images.astype(np.float64) / 16.0
    split = {"train": [], "test": []}
    for label in range(10):
        idx = np.flatnonzero(digits.target == label)
        half = len(idx) // 2
        split["train"].append(idx[:half])
        split["test"].append(idx[half:])
    return images, digits.target, {k: [np.asarray(v) for v in vs] for k, vs in split.items()}


def render_glyph(glyph: np.ndarray, canvas_size: int, center_xy, height: float) -> np.ndarray:
    """Place a small grey image so that its centre lands at ``center_xy`` and it is ``height`` px tall."""
    from scipy.ndimage import affine_transform

    rows, cols = glyph.shape
    scale = float(height) / rows
    # output pixel (row, col) ↦ input coordinate (row − cy)/scale + centre of the glyph
    centre_in = np.array([(rows - 1) / 2.0, (cols - 1) / 2.0])
    centre_out = np.array([center_xy[1], center_xy[0]], dtype=np.float64)
    offset = centre_in - centre_out / scale
    out = affine_transform(
        glyph, np.array([1.0 / scale, 1.0 / scale]), offset=offset, output_shape=(canvas_size, canvas_size),
        order=1, mode="grid-constant", cval=0.0,
    )
    return out


def digit_images(
    count_per_class: int,
    canvas_size: int = 64,
    split: str = "train",
    positions=None,
    heights=None,
    seed: int = 0,
    start: int = 0,
) -> LabelledImages:
    """Digits ``start … start + count_per_class − 1`` of each class of ``split``, placed on a canvas.

    ``positions``: ``None`` (canvas centre), ``"random"`` (uniform where the digit box fits), or an
    array ``(N, 2)`` of ``(x, y)`` centres.  ``heights``: ``None`` (``canvas_size · 7/16``), a
    number, a pair ``(low, high)`` drawn log-uniformly, or an array ``(N,)``.  ``N`` = 10 ×
    ``count_per_class``, class-major order.
    """
    check_positive("count_per_class", count_per_class, integer=True)
    check_positive("canvas_size", canvas_size, integer=True)
    if split not in ("train", "test"):
        raise ConfigError.bad_value("split", split, "train, test")
    glyphs, targets, halves = _digits_split()
    available = min(len(ix) for ix in halves[split])
    if start < 0 or start + count_per_class > available:
        raise ConfigError.bad_value("count_per_class", count_per_class, f"at most {available - start} digits per class in the {split} half")
    chosen = np.concatenate([ix[start : start + count_per_class] for ix in halves[split]])
    n = chosen.size
    rng = np.random.default_rng(seed)
    heights_arr = _resolve_sizes(heights, n, canvas_size * 7.0 / 16.0, rng, "heights")
    centres = _resolve_positions(positions, n, canvas_size, heights_arr, rng)
    images = np.stack([render_glyph(glyphs[i], canvas_size, c, h) for i, c, h in zip(chosen, centres, heights_arr)])
    return LabelledImages(
        quantise(images), targets[chosen].astype(np.int32), tuple(str(d) for d in range(10)),
        details={"digit_index": chosen, "center_xy": centres, "height": heights_arr},
    )


def _resolve_sizes(sizes, n, default, rng, field_name):
    if sizes is None:
        return np.full(n, float(default))
    if np.isscalar(sizes):
        return np.full(n, float(sizes))
    arr = np.asarray(sizes, dtype=np.float64)
    if arr.shape == (2,) and n != 2:
        low, high = arr
        return np.exp(rng.uniform(np.log(low), np.log(high), size=n))
    if arr.shape != (n,):
        raise ConfigError.bad_value(field_name, f"shape {arr.shape}", f"a number, a (low, high) pair or one value per image ({n})")
    return arr


def _resolve_positions(positions, n, canvas_size, extents, rng):
    centre = (canvas_size - 1) / 2.0
    if positions is None:
        return np.full((n, 2), centre)
    if isinstance(positions, str):
        if positions != "random":
            raise ConfigError.bad_value("positions", positions, "None, 'random' or an array (N, 2)")
        half = extents / 2.0
        low = np.minimum(half - 0.5, centre)
        high = np.maximum(canvas_size - 0.5 - half, centre)
        return np.stack([rng.uniform(low, high), rng.uniform(low, high)], axis=1)
    arr = np.asarray(positions, dtype=np.float64)
    if arr.shape != (n, 2):
        raise ConfigError.bad_value("positions", f"shape {arr.shape}", f"an array ({n}, 2) of (x, y) centres")
    return arr


# ------------------------------------------------------------------------------------------------
# shapes
# ------------------------------------------------------------------------------------------------
def _segment_distance(px, py, ax, ay, bx, by):
    vx, vy = bx - ax, by - ay
    t = np.clip(((px - ax) * vx + (py - ay) * vy) / (vx * vx + vy * vy), 0.0, 1.0)
    return np.hypot(px - (ax + t * vx), py - (ay + t * vy))


def draw_shape(kind: str, canvas_size: int, center_xy, size: float, orientation_deg: float = 0.0, thickness: float | None = None) -> np.ndarray:
    """One anti-aliased shape: a ``bar`` (length ``size``), a ``cross`` (two perpendicular bars of
    length ``size``) or a ``circle`` (ring of diameter ``size``); stroke ``thickness`` (default
    ``max(2, size/7)``).  Grey level = the stroke's coverage of each pixel (linear ramp over 1 px).
    """
    if kind not in SHAPE_CLASSES:
        raise ConfigError.bad_value("shape", kind, ", ".join(SHAPE_CLASSES))
    thickness = max(2.0, size / 7.0) if thickness is None else float(thickness)
    rows, cols = np.mgrid[0:canvas_size, 0:canvas_size].astype(np.float64)
    cx, cy = float(center_xy[0]), float(center_xy[1])
    if kind == "circle":
        dist = np.abs(np.hypot(cols - cx, rows - cy) - size / 2.0)
    else:
        dist = np.inf
        angles = (orientation_deg,) if kind == "bar" else (orientation_deg, orientation_deg + 90.0)
        for angle in angles:
            # counter-clockwise on screen: rows grow downward, hence the minus sign on y
            dx, dy = np.cos(np.deg2rad(angle)) * size / 2.0, -np.sin(np.deg2rad(angle)) * size / 2.0
            dist = np.minimum(dist, _segment_distance(cols, rows, cx - dx, cy - dy, cx + dx, cy + dy))
    return np.clip(thickness / 2.0 + 0.5 - dist, 0.0, 1.0)


def shape_images(
    count_per_class: int,
    canvas_size: int = 64,
    positions=None,
    sizes=None,
    orientations_deg=None,
    seed: int = 0,
) -> LabelledImages:
    """``count_per_class`` bars, crosses and circles.  ``positions`` as in :func:`digit_images`;
    ``sizes`` likewise (default ``canvas_size · 7/16``); ``orientations_deg``: ``None`` (uniform
    in [0°, 180°)), a number, or an array ``(N,)``.
    """
    check_positive("count_per_class", count_per_class, integer=True)
    check_positive("canvas_size", canvas_size, integer=True)
    n = count_per_class * len(SHAPE_CLASSES)
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(SHAPE_CLASSES)), count_per_class).astype(np.int32)
    sizes_arr = _resolve_sizes(sizes, n, canvas_size * 7.0 / 16.0, rng, "sizes")
    if orientations_deg is None:
        angles = rng.uniform(0.0, 180.0, size=n)
    else:
        angles = _resolve_sizes(orientations_deg, n, 0.0, rng, "orientations_deg")
    centres = _resolve_positions(positions, n, canvas_size, sizes_arr, rng)
    images = np.stack(
        [draw_shape(SHAPE_CLASSES[k], canvas_size, c, s, a) for k, c, s, a in zip(labels, centres, sizes_arr, angles)]
    )
    return LabelledImages(
        quantise(images), labels, SHAPE_CLASSES,
        details={"center_xy": centres, "size": sizes_arr, "orientation_deg": angles},
    )


# ------------------------------------------------------------------------------------------------
# a folder of the user's images
# ------------------------------------------------------------------------------------------------
def _read_grey(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            if img.mode.startswith("I;16"):
                return np.asarray(img, dtype=np.float64) / 65535.0
            if img.mode in ("I", "F"):
                arr = np.asarray(img, dtype=np.float64)
                top = arr.max()
                return arr / top if top > 0 else arr
            return np.asarray(img.convert("L"), dtype=np.float64) / 255.0
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        reason = str(exc).split("\n")[0] or type(exc).__name__
        raise ConfigError.bad_value("image file", str(path), f"a readable PNG or JPEG image ({reason})") from None


def _resize(grey: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    if grey.shape == image_size:
        return grey
    img = Image.fromarray(grey.astype(np.float32), mode="F")
    return np.asarray(img.resize((image_size[1], image_size[0]), Image.BILINEAR), dtype=np.float64)


def load_image_folder(folder, image_size: int | tuple[int, int] | None = None) -> LabelledImages:
    """Read ``folder/<class>/<image>.png|.jpg|.jpeg`` as grey images in [0, 1], labelled by sub-folder.

    Classes are the sub-folders in sorted order; files are sorted within each.  Colour is
    converted to luminance (ITU-R 601, as PIL's ``"L"`` mode; transparency is dropped).
    ``image_size`` (an int for square, or ``(height, width)``) resizes every image bilinearly;
    without it all images must already have one size.  Hidden entries are ignored; other
    non-image files are skipped and listed in ``skipped``.  Raises ConfigError naming the first
    problem: missing folder, no class sub-folders, a class without images, an unreadable image,
    or mismatched sizes.
    """
    folder = Path(folder)
    if not folder.exists():
        raise ConfigError.bad_value("image folder", str(folder), "an existing folder")
    if not folder.is_dir():
        raise ConfigError.bad_value("image folder", str(folder), "a folder (this is a file)")
    if image_size is not None:
        if isinstance(image_size, int):
            image_size = (image_size, image_size)
        if len(image_size) != 2 or any(not isinstance(v, (int, np.integer)) or v < 1 for v in image_size):
            raise ConfigError.bad_value("image size", image_size, "a positive integer or (height, width)")
        image_size = (int(image_size[0]), int(image_size[1]))
    class_dirs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    skipped = [str(p) for p in sorted(folder.iterdir()) if not p.is_dir() and not p.name.startswith(".")]
    if not class_dirs:
        raise ConfigError.bad_value(
            "image folder", str(folder), "a folder with one sub-folder of PNG/JPEG images per class (found no sub-folders)"
        )
    images, labels, paths = [], [], []
    for label, class_dir in enumerate(class_dirs):
        files = sorted(p for p in class_dir.iterdir() if not p.name.startswith("."))
        image_files = [p for p in files if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
        skipped += [str(p) for p in files if p not in image_files]
        if not image_files:
            raise ConfigError.bad_value(
                "class folder", str(class_dir), f"a folder holding at least one image ({', '.join(IMAGE_SUFFIXES)})"
            )
        for path in image_files:
            grey = _read_grey(path)
            if image_size is not None:
                grey = _resize(grey, image_size)
            elif images and grey.shape != images[0].shape:
                raise ConfigError.bad_value(
                    "image size", f"{grey.shape[0]}x{grey.shape[1]} in {path}",
                    f"{images[0].shape[0]}x{images[0].shape[1]} like {paths[0]}, or pass an image size to resize",
                )
            images.append(grey)
            labels.append(label)
            paths.append(str(path))
    return LabelledImages(
        quantise(np.stack(images)), np.asarray(labels, np.int32), tuple(p.name for p in class_dirs),
        paths=tuple(paths), skipped=tuple(skipped),
    )

"""C2 features of a folder of images, written to ``.npz`` (``plastix features``).

The file (written atomically by :func:`plastix.runs.save_arrays`, readable with ``numpy.load``):

    c2                  (N, n_patch_sizes, P) float32 — C2 per image, patch size, prototype
    labels              (N,) int32 — class index (sub-folder, in sorted order)
    prototypes_n4, …    (P, O, n, n) float32 — the S2 prototypes used, one array per size
    source_bands_n4, …  (P,) int32 — C1 band each sampled prototype came from (−1: loaded)
    __meta__            JSON string: class names, image paths, the HMAX config, image shape,
                        seed, prototype orientation order, skipped files

:func:`load_features` returns the arrays and the parsed header.  The prototypes in the file can
be reused (``--prototypes FILE``) so that a training folder and a test folder are described by
the same features.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import ConfigError, check_positive
from .config import HMAXConfig
from .data import load_image_folder
from .layers import c2_features
from .prototypes import Prototypes, load_prototypes, prototypes_from_images


def parse_angles(text: str | None, field: str = "--orientation-order") -> list[float] | None:
    """``"90,135,0,45"`` → ``[90.0, 135.0, 0.0, 45.0]``; ConfigError if not numbers."""
    if text is None:
        return None
    try:
        return [float(a) for a in text.split(",") if a.strip()]
    except ValueError:
        raise ConfigError.bad_value(field, text, "comma-separated angles in degrees, e.g. 90,135,0,45") from None


def folder_features(
    folder,
    image_size: int | None = 128,
    prototypes: Prototypes | None = None,
    prototypes_per_size: int = 100,
    seed: int = 0,
    config: HMAXConfig | None = None,
    batch_size: int = 16,
    progress=None,
) -> tuple[dict, dict]:
    """Load ``folder``, sample prototypes (unless given), compute C2: returns (arrays, meta)."""
    import jax

    config = config or HMAXConfig()
    check_positive("batch size", batch_size, integer=True)
    data = load_image_folder(folder, image_size=image_size)
    if prototypes is None:
        check_positive("prototypes per size", prototypes_per_size, integer=True)
        prototypes = prototypes_from_images(data.images, config, prototypes_per_size, jax.random.key(seed), batch_size)
    c2 = c2_features(data.images, config, prototypes, batch_size=batch_size, progress=progress)
    if prototypes.source_bands is None:
        prototypes = Prototypes(
            prototypes.patches, prototypes.orientations_deg,
            tuple(np.full(prototypes.count, -1, np.int32) for _ in prototypes.sizes),
        )
    arrays = dict(c2=c2.astype(np.float32), labels=data.labels, **prototypes.as_arrays())
    meta = dict(
        class_names=list(data.class_names), paths=list(data.paths), skipped=list(data.skipped),
        image_shape=list(data.images.shape[1:]), config=config.model_dump(), seed=seed,
        orientations_deg=list(prototypes.orientations_deg), prototype_sizes=list(prototypes.sizes),
        prototypes_per_size=prototypes.count,
    )
    return arrays, meta


def write_folder_features(
    folder,
    out,
    image_size: int = 128,
    prototypes_file=None,
    orientation_order: str | None = None,
    prototypes_per_size: int = 100,
    seed: int = 0,
    batch_size: int = 16,
    progress=None,
) -> dict:
    """Validate everything, compute, then write ``out`` (atomically).  Returns the meta dict."""
    from ..runs import check_writable, save_arrays, to_jsonable

    out = Path(out)
    if out.suffix != ".npz":
        raise ConfigError.bad_value("--out", str(out), "a file name ending in .npz")
    if out.is_dir():
        raise ConfigError.bad_value("--out", str(out), "a file name (this is a folder)")
    check_writable(out.parent if str(out.parent) else Path("."), "--out")
    if not isinstance(image_size, int) or image_size < 0:
        raise ConfigError.bad_value("--image-size", image_size, "a positive integer, or 0 to keep the images' own size")
    check_positive("--n-prototypes", prototypes_per_size, integer=True)
    check_positive("--batch-size", batch_size, integer=True)
    config = HMAXConfig()
    prototypes = None
    if prototypes_file is not None:
        prototypes = load_prototypes(prototypes_file, config.s1_orientations_deg, parse_angles(orientation_order))
    elif orientation_order is not None:
        raise ConfigError.bad_value("--orientation-order", orientation_order, "only together with --prototypes")
    arrays, meta = folder_features(
        folder, image_size or None, prototypes, prototypes_per_size, seed, config, batch_size, progress
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    save_arrays(out, dict(arrays, __meta__=np.asarray(json.dumps(to_jsonable(meta)))))
    return meta


def load_features(path) -> tuple[dict, dict]:
    """Read a file written by :func:`write_folder_features`: (arrays by name, parsed header)."""
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["__meta__"]))
        arrays = {key: data[key] for key in data.files if key != "__meta__"}
    return arrays, meta

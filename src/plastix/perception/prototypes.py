"""S2 prototypes: sampling them from training C1 maps, saving and loading patch sets.

A prototype of size ``n`` is an ``O × n × n`` block of C1 values (``O`` orientation channels, in
the config's orientation order).  Following Serre et al. (2007), :func:`sample_prototypes` draws
each one from the C1 maps of training images: a band where an ``n × n`` patch fits (uniformly),
an image (uniformly) and a position (uniformly among the patches that contain any response).

Caveat: the position draw skips patches whose C1 values are all zero (for instance the blank
background around a digit on a canvas); Serre et al. sampled natural images, where every patch
has texture, so there the rule makes no difference.

External patch sets (e.g. the MATLAB ``universal_patch_set``, once converted to ``.npz``) store
their orientation channels in their own order; :func:`load_prototypes` takes that order
explicitly and reorders the channels to the config's.  Give the angles *in this library's
convention* (θ = the direction the filter oscillates along, counter-clockwise on screen; see
:mod:`plastix.perception.gabor`).  Other codes use other conventions (the PyTorch port
``pytorch_hmax`` lists its channels as 90°, −45°, 0°, 45° of bar orientation, with its own axis
directions), so check a third-party set's order before trusting it — for instance by matching
each of its channels against the C1 maps this library computes for the images it came from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ConfigError, check_positive


@dataclass(frozen=True)
class Prototypes:
    """S2 templates: ``patches[i]`` is ``(count, O, n_i, n_i)``; every size has the same count.

    ``source_bands[i]`` is the C1 band (0-based) each prototype was sampled from (−1 if loaded).
    """

    patches: tuple[np.ndarray, ...]
    orientations_deg: tuple[float, ...]
    source_bands: tuple[np.ndarray, ...] | None = None

    def __post_init__(self):
        counts = {p.shape[0] for p in self.patches}
        if not self.patches or len(counts) != 1 or any(p.ndim != 4 or p.shape[-1] != p.shape[-2] for p in self.patches):
            shapes = [tuple(p.shape) for p in self.patches]
            raise ConfigError.bad_value("prototypes", shapes, "arrays (count, orientations, n, n) with one count for all sizes")
        if any(p.shape[1] != len(self.orientations_deg) for p in self.patches):
            raise ConfigError.bad_value(
                "prototypes", [tuple(p.shape) for p in self.patches],
                f"{len(self.orientations_deg)} orientation channels (axis 1)",
            )

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(int(p.shape[-1]) for p in self.patches)

    @property
    def count(self) -> int:
        return int(self.patches[0].shape[0])

    @property
    def n_orientations(self) -> int:
        return len(self.orientations_deg)

    def as_jax(self) -> tuple:
        return tuple(jnp.asarray(p) for p in self.patches)

    def as_arrays(self) -> dict:
        """Plain-named arrays: ``prototypes_n4``, …, and ``source_bands_n4``, … (if sampled)."""
        arrays = {f"prototypes_n{n}": p for n, p in zip(self.sizes, self.patches)}
        if self.source_bands is not None:
            arrays.update({f"source_bands_n{n}": b for n, b in zip(self.sizes, self.source_bands)})
        return arrays


def _patch_sums(indicator: np.ndarray, n: int) -> np.ndarray:
    """Σ over every n × n window of an integer map ``(N, h, w)`` → ``(N, h−n+1, w−n+1)`` (exact)."""
    table = np.zeros((indicator.shape[0], indicator.shape[1] + 1, indicator.shape[2] + 1), np.int64)
    table[:, 1:, 1:] = indicator.cumsum(axis=1).cumsum(axis=2)
    return table[:, n:, n:] - table[:, :-n, n:] - table[:, n:, :-n] + table[:, :-n, :-n]


def sample_prototypes(c1_maps, patch_sizes, count_per_size: int, key, orientations_deg) -> Prototypes:
    """Draw ``count_per_size`` prototypes of each size from C1 maps (one ``(N, O, h, w)`` per band)."""
    check_positive("prototypes per size", count_per_size, integer=True)
    c1_maps = [np.asarray(m) for m in c1_maps]
    seed = int(jax.random.randint(key, (), 0, np.iinfo(np.int32).max))
    rng = np.random.default_rng(seed)
    n_images = c1_maps[0].shape[0]
    patches, bands_used = [], []
    for n in patch_sizes:
        eligible = [b for b, m in enumerate(c1_maps) if min(m.shape[-2:]) >= n]
        if not eligible:
            largest = max(min(m.shape[-2:]) for m in c1_maps)
            raise ConfigError.bad_value("S2 patch size", n, f"at most {largest} (the largest C1 band map)")
        # Which n × n windows hold any response, per band: exact integer window sums.
        lit = {b: _patch_sums((c1_maps[b] > 0).any(axis=1).astype(np.int64), n) > 0 for b in eligible}
        if not any(lit[b].any() for b in eligible):
            raise ConfigError.bad_value("images", "all blank at C1", "images with some contrast to sample prototypes from")
        chosen, sources = [], []
        while len(chosen) < count_per_size:
            band = eligible[rng.integers(len(eligible))]
            image = rng.integers(n_images)
            rows, cols = np.nonzero(lit[band][image])
            if rows.size == 0:
                continue
            k = rng.integers(rows.size)
            chosen.append(c1_maps[band][image, :, rows[k] : rows[k] + n, cols[k] : cols[k] + n])
            sources.append(band)
        patches.append(np.stack(chosen).astype(np.float32))
        bands_used.append(np.asarray(sources, np.int32))
    return Prototypes(tuple(patches), tuple(float(a) for a in orientations_deg), tuple(bands_used))


def prototypes_from_images(images, config, count_per_size: int, key, batch_size: int = 16) -> Prototypes:
    """Compute the C1 maps of ``images`` and sample ``count_per_size`` prototypes per S2 patch size."""
    from .layers import as_image_batch, c1_features, check_fits

    batch = as_image_batch(images)
    check_fits(config, *batch.shape[1:], config.s2_patch_sizes)
    height, width = batch.shape[1:]
    largest = max(min(shape) for shape in config.c1_shape(height, width))
    if max(config.s2_patch_sizes) > largest:  # prototypes are whole C1 patches, whatever the S2 padding
        raise ConfigError.bad_value(
            "S2 patch size", max(config.s2_patch_sizes),
            f"at most {largest} C1 units to sample from {height}x{width} images (use larger images or smaller patches)",
        )
    c1_maps = c1_features(batch, config, batch_size=batch_size)
    return sample_prototypes(c1_maps, config.s2_patch_sizes, count_per_size, key, config.s1_orientations_deg)


def reorder_orientations(patches: np.ndarray, file_order_deg, target_order_deg) -> np.ndarray:
    """Permute axis 1 of ``(count, O, n, n)`` from ``file_order_deg`` to ``target_order_deg`` (mod 180°)."""
    key = lambda a: round(float(a) % 180.0, 6)  # noqa: E731 — orientations are axes, not directions
    source = [key(a) for a in file_order_deg]
    target = [key(a) for a in target_order_deg]
    if sorted(source) != sorted(target) or len(set(source)) != len(source):
        raise ConfigError.bad_value(
            "orientation order", list(file_order_deg),
            f"the same {len(target)} orientations (mod 180) as the config: {list(target_order_deg)}",
        )
    return patches[:, [source.index(t) for t in target]]


def save_prototypes(path, prototypes: Prototypes, meta: dict | None = None) -> Path:
    """Write prototypes as ``.npz`` (``prototypes_n4`` … plus a JSON ``__meta__`` with the channel order)."""
    from ..runs import save_arrays, to_jsonable

    header = dict(meta or {}, orientations_deg=list(prototypes.orientations_deg))
    arrays = dict(prototypes.as_arrays(), __meta__=np.asarray(json.dumps(to_jsonable(header))))
    return save_arrays(path, arrays)


def load_prototypes(path, target_orientations_deg, file_orientations_deg=None) -> Prototypes:
    """Load prototypes from an ``.npz`` file and put their channels in ``target_orientations_deg`` order.

    Every 4-D array ``(count, O, n, n)`` in the file is a prototype set of size ``n`` (arrays of
    other shapes, such as features saved alongside, are ignored).  The channel order in the file
    is ``file_orientations_deg`` if given, else the ``orientations_deg`` of a plastix header; a
    file without either is refused rather than guessed.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError.bad_value("prototypes file", str(path), "an existing .npz file")
    try:
        data = np.load(path, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 — any reader failure is a bad file for the user
        raise ConfigError.bad_value("prototypes file", str(path), f"a readable .npz file ({exc})") from None
    with data:
        meta = json.loads(str(data["__meta__"])) if "__meta__" in data.files else {}
        order = file_orientations_deg if file_orientations_deg is not None else meta.get("orientations_deg")
        if order is None:
            raise ConfigError.bad_value(
                "orientation order", None,
                "the orientation (degrees) of each channel in the file, e.g. 90,135,0,45",
            )
        sets = []
        for name in data.files:
            arr = data[name]
            if name == "__meta__" or arr.ndim != 4 or arr.shape[-1] != arr.shape[-2]:
                continue
            sets.append(np.asarray(arr, np.float32))
    if not sets:
        raise ConfigError.bad_value("prototypes file", str(path), "an .npz holding arrays (count, orientations, n, n)")
    sets.sort(key=lambda a: a.shape[-1])
    if len({a.shape[-1] for a in sets}) != len(sets):
        raise ConfigError.bad_value("prototypes file", str(path), "one array per patch size")
    if any(a.shape[1] != len(order) for a in sets):
        raise ConfigError.bad_value("orientation order", list(order), f"one angle per channel ({sets[0].shape[1]} channels)")
    patches = tuple(reorder_orientations(a, order, target_orientations_deg) for a in sets)
    return Prototypes(patches, tuple(float(a) for a in target_orientations_deg))

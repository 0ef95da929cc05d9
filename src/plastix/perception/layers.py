"""The HMAX layers S1 → C1 → S2 → C2 in JAX (batched, compiled, CPU or GPU).

Images are grey levels, shape ``(batch, H, W)``.  With ``O`` orientations and the settings of
:class:`~plastix.perception.config.HMAXConfig`:

**S1** (simple cells), one map per size ``s = 2r + 1`` and orientation θ:

    S1_{s,θ}(i, j) = |Σ_{u,v} G_{s,θ}(u, v) · I(i+u, j+v)| / ‖I restricted to the disc D_s(i, j)‖₂

``G`` is a Gabor of :mod:`~plastix.perception.gabor` (zero mean and unit norm on the disc
``D_s`` of radius ``s/2``, zero outside it).  By Cauchy–Schwarz ``0 ≤ S1 ≤ 1``, ``S1 = 1`` where
the image patch is ``± G``, and S1 is unchanged when the image is multiplied by ``a > 0``.  The
image is zero-padded ("same" output size); where the disc holds no light at all, ``S1 = 0``.

**C1** (complex cells), band ``b`` pooling the sizes ``s ∈ band(b)`` with window ``N_b`` and
stride ``k_b``:

    C1_{b,θ}(p, q) = max_{s ∈ band(b)}  max_{(i, j) ∈ W_b(p, q)}  S1_{s,θ}(i, j),
    W_b(p, q) = [p k_b − ⌊N_b/2⌋, p k_b − ⌊N_b/2⌋ + N_b) × [q k_b − ⌊N_b/2⌋, q k_b − ⌊N_b/2⌋ + N_b)

(windows clipped to the image), giving ``⌊(H + 2⌊N_b/2⌋ − N_b)/k_b⌋ + 1`` rows per band.

**S2**, for every prototype ``P`` (``O × n × n`` C1 values), band ``b`` and every placement
``(p, q)`` of an ``n × n`` patch ``X`` on C1_b allowed by ``s2_padding``: wholly inside the map
("valid"); its unit ``((n−1)//2, (n−1)//2)`` on each C1 unit ("same", the map zero-padded by
``(n−1)//2`` before and ``n//2`` after, so the S2 map has C1's size); or any overlap with the map
("full", zero-padded by ``n − 1`` on each side):

    d² = ‖X − P‖² = ‖X‖² − 2⟨X, P⟩ + ‖P‖²,   S2 = exp(−β d²)  (gaussian)  or  S2 = −d  (euclidean)

**C2** = the max of S2 over all positions and all bands, one number per prototype.  In the
euclidean mode C2 is minus the smallest distance (the MATLAB code's C2 with the sign flipped, so
that C2 is always the maximum of S2).

How it works.  S1 multiplies the images' FFT by each filter's FFT on a grid of
``H + s_max − 1`` by ``W + s_max − 1`` points (no wrap-around), which is 20× faster on CPU than a
direct convolution with the 37-px filters.  The disc energies ``‖I|D_s‖²`` are summed directly,
from horizontal running sums of growing half-width shared by all sizes, so they are exact up to
the rounding of sums of non-negative numbers, and exactly zero where the disc is dark.  C1 is
``lax.reduce_window``; S2's cross term is a convolution at the highest precision (GPUs would
otherwise use TF32, whose rounding the expanded distance would amplify).

Caveats.  The FFT's rounding (about 1e-6 of the image norm in float32) is divided by the local
norm, so S1 of a window holding only very faint light is noisy; images from files and the
built-in sets are quantised to 1/255, where that error stays below 1e-3.  S1 is clipped to [0, 1]
to absorb rounding.  ``‖X‖² − 2⟨X,P⟩ + ‖P‖²`` loses relative precision when ``d ≪ ‖X‖``
(float32: d² is known to about 1e-6 ‖X‖²); it is clipped at 0.  A patch size with no valid
position in any band for the given image size is an error with ``s2_padding="valid"``; bands
where it does not fit are skipped (their S2 maps have zero size).  The zero padding of "same" and
"full" treats the world beyond the image as dark: exact for objects on a blank background (the
result is what a larger blank canvas would give, "full" exactly so), an assumption for natural
images.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ..errors import ConfigError
from .config import HMAXConfig
from .gabor import s1_filter_bank


class HMAXLayers(NamedTuple):
    """Every layer's output for a batch of images (all arrays ``(batch, …)``).

    ``s1[k]``: ``(B, O, H, W)`` for S1 size ``k``; ``c1[b]``: ``(B, O, H_b, W_b)`` for band ``b``;
    ``s2[i][b]``: ``(B, P, h, w)`` for prototype size ``i`` in band ``b`` (zero-size where the
    prototype does not fit); ``c2``: ``(B, n_prototype_sizes, P)``.
    """

    s1: tuple
    c1: tuple
    s2: tuple | None
    c2: jax.Array | None


# ------------------------------------------------------------------------------------------------
# S1
# ------------------------------------------------------------------------------------------------
def _fast_len(n: int) -> int:
    """Smallest 2·3·5-smooth integer ≥ n (FFT-friendly)."""
    best = 2 ** math.ceil(math.log2(n))
    p5 = 1
    while p5 < 2 * n:
        p35 = p5
        while p35 < 2 * n:
            m = p35
            while m < n:
                m *= 2
            best = min(best, m)
            p35 *= 3
        p5 *= 5
    return best


def disc_half_widths(size: int) -> list[int]:
    """For each row offset ``dy = −r … r`` of a size-``size`` disc, the largest ``|dx|`` inside it.

    ``dx² + dy² ≤ (size/2)²`` ⇔ ``4(dx² + dy²) ≤ size²`` (integers, so no rounding question).
    """
    r = size // 2
    widths = []
    for dy in range(-r, r + 1):
        w = 0
        while w + 1 <= r and 4 * ((w + 1) ** 2 + dy**2) <= size**2:
            w += 1
        widths.append(w)
    return widths


def disc_energies(images: jax.Array, sizes: tuple[int, ...]) -> list[jax.Array]:
    """``E_s(i, j) = Σ_{(u,v) ∈ disc_s} I(i+u, j+v)²`` for each size (zero padding), ``(B, H, W)`` each."""
    height, width = images.shape[-2:]
    rmax = max(sizes) // 2
    squares = jnp.pad(images * images, ((0, 0), (rmax, rmax), (rmax, rmax)))
    # horizontal[w][:, y, j] = Σ_{|dx| ≤ w} I²(y − rmax, j + dx): sums of growing half-width, built
    # outward from the centre so that a dark window sums exactly to zero.
    horizontal = [squares[:, :, rmax : rmax + width]]
    for w in range(1, rmax + 1):
        horizontal.append(
            horizontal[-1] + squares[:, :, rmax - w : rmax - w + width] + squares[:, :, rmax + w : rmax + w + width]
        )
    energies = []
    for size in sizes:
        r = size // 2
        total = None
        for dy, w in zip(range(-r, r + 1), disc_half_widths(size)):
            rows = horizontal[w][:, rmax + dy : rmax + dy + height, :]
            total = rows if total is None else total + rows
        energies.append(total)
    return energies


def _s1(images: jax.Array, config: HMAXConfig) -> tuple:
    dtype = images.dtype
    height, width = images.shape[-2:]
    smax = max(config.s1_sizes)
    grid = (_fast_len(height + smax - 1), _fast_len(width + smax - 1))
    image_spectrum = jnp.fft.rfft2(images, s=grid)
    energies = disc_energies(images, config.s1_sizes)
    maps = []
    for size, filters, energy in zip(config.s1_sizes, s1_filter_bank(config), energies):
        r = size // 2
        # correlation = convolution with the flipped filter; output pixel i sits at full-conv index i + r
        flipped = jnp.asarray(filters[:, ::-1, ::-1], dtype=dtype)
        filter_spectrum = jnp.fft.rfft2(flipped, s=grid)
        full = jnp.fft.irfft2(image_spectrum[:, None] * filter_spectrum[None], s=grid)
        response = jnp.abs(full[:, :, r : r + height, r : r + width])
        norm = jnp.sqrt(energy)[:, None]
        lit = norm > 0
        s1 = jnp.where(lit, response / jnp.where(lit, norm, 1.0), 0.0)
        maps.append(jnp.minimum(s1, 1.0).astype(dtype))
    return tuple(maps)


# ------------------------------------------------------------------------------------------------
# C1
# ------------------------------------------------------------------------------------------------
def _c1(s1: tuple, config: HMAXConfig) -> tuple:
    bands = []
    for band in range(config.n_bands):
        indices = [config.s1_sizes.index(s) for s in config.band_sizes(band)]
        over_scales = functools.reduce(jnp.maximum, [s1[i] for i in indices])
        pool, stride = config.c1_pool_sizes[band], config.strides[band]
        pad = pool // 2
        bands.append(
            lax.reduce_window(
                over_scales, -jnp.inf, lax.max, (1, 1, pool, pool), (1, 1, stride, stride),
                ((0, 0), (0, 0), (pad, pad), (pad, pad)),
            )
        )
    return tuple(bands)


# ------------------------------------------------------------------------------------------------
# S2 and C2
# ------------------------------------------------------------------------------------------------
def s2_padding(n: int, mode: str) -> tuple[int, int]:
    """Zeros added (before, after) each spatial side of a C1 map for patch size ``n``."""
    return {"valid": (0, 0), "same": ((n - 1) // 2, n // 2), "full": (n - 1, n - 1)}[mode]


def _s2(c1: tuple, patches: tuple, config: HMAXConfig) -> tuple:
    batch = c1[0].shape[0]
    out = []
    for prototypes in patches:
        prototypes = prototypes.astype(c1[0].dtype)
        count, n = prototypes.shape[0], prototypes.shape[-1]
        prototype_sq = jnp.sum(prototypes * prototypes, axis=(1, 2, 3))
        per_band = []
        pad = s2_padding(n, config.s2_padding)
        for band_map in c1:
            h, w = band_map.shape[-2:]
            if h + sum(pad) < n or w + sum(pad) < n:
                per_band.append(jnp.zeros((batch, count, 0, 0), band_map.dtype))
                continue
            cross = lax.conv_general_dilated(
                band_map, prototypes, (1, 1), (pad, pad), precision=lax.Precision.HIGHEST
            )
            patch_sq = lax.reduce_window(
                jnp.sum(band_map * band_map, axis=1, keepdims=True), 0.0, lax.add, (1, 1, n, n), (1, 1, 1, 1),
                ((0, 0), (0, 0), pad, pad),
            )
            dist_sq = jnp.maximum(patch_sq - 2.0 * cross + prototype_sq[None, :, None, None], 0.0)
            if config.s2_tuning == "gaussian":
                per_band.append(jnp.exp(-config.s2_beta * dist_sq))
            else:
                per_band.append(-jnp.sqrt(dist_sq))
        out.append(tuple(per_band))
    return tuple(out)


def _c2(s2: tuple) -> jax.Array:
    per_size = []
    for per_band in s2:
        maxima = [m.max(axis=(-2, -1)) for m in per_band if m.shape[-1] > 0 and m.shape[-2] > 0]
        per_size.append(functools.reduce(jnp.maximum, maxima))
    return jnp.stack(per_size, axis=1)


# ------------------------------------------------------------------------------------------------
# compiled entry points
# ------------------------------------------------------------------------------------------------
@functools.partial(jax.jit, static_argnames=("config",))
def s1_layer(images: jax.Array, config: HMAXConfig) -> tuple:
    """S1 maps, one ``(B, O, H, W)`` array per size (images ``(B, H, W)``)."""
    return _s1(images, config)


@functools.partial(jax.jit, static_argnames=("config",))
def c1_layer(s1: tuple, config: HMAXConfig) -> tuple:
    """C1 maps from S1 maps, one ``(B, O, H_b, W_b)`` array per band."""
    return _c1(s1, config)


@functools.partial(jax.jit, static_argnames=("config",))
def s2_layer(c1: tuple, patches: tuple, config: HMAXConfig) -> tuple:
    """S2 maps ``s2[i][b]``: ``(B, P, h, w)`` for prototype size ``i`` and band ``b``."""
    return _s2(c1, patches, config)


@jax.jit
def c2_layer(s2: tuple) -> jax.Array:
    """C2 = max of S2 over positions and bands: ``(B, n_prototype_sizes, P)``."""
    return _c2(s2)


@functools.partial(jax.jit, static_argnames=("config",))
def _c1_from_images(images, config):
    return _c1(_s1(images, config), config)


@functools.partial(jax.jit, static_argnames=("config",))
def _c2_from_images(images, patches, config):
    return _c2(_s2(_c1(_s1(images, config), config), patches, config))


@functools.partial(jax.jit, static_argnames=("config", "with_s2"))
def _all_layers(images, patches, config, with_s2):
    s1 = _s1(images, config)
    c1 = _c1(s1, config)
    if not with_s2:
        return HMAXLayers(s1, c1, None, None)
    s2 = _s2(c1, patches, config)
    return HMAXLayers(s1, c1, s2, _c2(s2))


# ------------------------------------------------------------------------------------------------
# user-facing functions: check inputs, batch, return NumPy
# ------------------------------------------------------------------------------------------------
def as_image_batch(images, field: str = "images") -> jax.Array:
    """``(B, H, W)`` floating array from an ``(H, W)`` or ``(B, H, W)`` array; ConfigError otherwise."""
    arr = np.asarray(images)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[0] == 0 or min(arr.shape[1:]) < 1:
        raise ConfigError.bad_value(field, f"array of shape {np.shape(images)}", "grey images (H, W) or (batch, H, W)")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float32)
    if not np.all(np.isfinite(arr)):
        raise ConfigError.bad_value(field, "an array with NaN or inf", "finite grey levels")
    return jnp.asarray(arr)


def _patches(prototypes, config: HMAXConfig) -> tuple:
    from .prototypes import Prototypes

    if not isinstance(prototypes, Prototypes):
        raise ConfigError.bad_value("prototypes", type(prototypes).__name__, "a plastix.perception.Prototypes")
    if prototypes.n_orientations != config.n_orientations:
        raise ConfigError.bad_value(
            "prototypes", f"{prototypes.n_orientations} orientation channels",
            f"{config.n_orientations} channels, as in the config",
        )
    return prototypes.as_jax()


def check_fits(config: HMAXConfig, height: int, width: int, patch_sizes) -> None:
    """With ``s2_padding="valid"``: ConfigError unless every patch size fits in some C1 band of an H × W image."""
    if config.s2_padding != "valid":
        return
    shapes = config.c1_shape(height, width)
    largest = max(min(h, w) for h, w in shapes)
    for n in patch_sizes:
        if n > largest:
            raise ConfigError.bad_value(
                "S2 patch size", n,
                f"at most {largest} for {height}x{width} images (the largest C1 band map is {largest} units across)",
            )


def hmax_layers(images, config: HMAXConfig, prototypes=None) -> HMAXLayers:
    """All layers for a few images (to look at them); S2/C2 only when prototypes are given."""
    batch = as_image_batch(images)
    if prototypes is None:
        return _all_layers(batch, (), config, False)
    patches = _patches(prototypes, config)
    check_fits(config, *batch.shape[1:], prototypes.sizes)
    return _all_layers(batch, patches, config, True)


def _chunked(fn, images: jax.Array, batch_size: int, progress=None):
    """Run ``fn`` on fixed-size chunks (the last one padded, so one compilation serves all)."""
    n = images.shape[0]
    outputs = []
    for start in range(0, n, batch_size):
        chunk = images[start : start + batch_size]
        real = chunk.shape[0]
        if real < batch_size and n > batch_size:
            chunk = jnp.concatenate([chunk, jnp.zeros((batch_size - real,) + chunk.shape[1:], chunk.dtype)])
        result = jax.tree_util.tree_map(lambda a: np.asarray(a)[:real], fn(chunk))
        outputs.append(result)
        if progress is not None:
            progress(real)
    return jax.tree_util.tree_map(lambda *xs: np.concatenate(xs), *outputs)


def c1_features(images, config: HMAXConfig, batch_size: int = 16, progress=None) -> list[np.ndarray]:
    """C1 maps of many images, one NumPy array ``(N, O, H_b, W_b)`` per band."""
    batch = as_image_batch(images)
    return list(_chunked(lambda x: _c1_from_images(x, config), batch, batch_size, progress))


def c2_features(images, config: HMAXConfig, prototypes, batch_size: int = 16, progress=None) -> np.ndarray:
    """C2 features of many images: NumPy ``(N, n_prototype_sizes, P)``."""
    batch = as_image_batch(images)
    patches = _patches(prototypes, config)
    check_fits(config, *batch.shape[1:], prototypes.sizes)
    return _chunked(lambda x: _c2_from_images(x, patches, config), batch, batch_size, progress)

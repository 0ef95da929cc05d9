"""Validated settings of the HMAX feature hierarchy (the "standard model" of Serre et al. 2007).

The defaults are the standard parameters (Serre, Wolf, Bileschi, Riesenhuber & Poggio 2007,
IEEE TPAMI 29:411; the values as tabulated in ``specs/hmax.md``):

* **S1** — 16 Gabor sizes ``s = 7, 9, …, 37`` px, 4 orientations ``θ = 0°, 45°, 90°, 135°``,
  aspect ratio ``γ = 0.3``, wavelength ``λ_s = 2 s / div_s`` with ``div_s = 4.00, 3.95, …, 3.25``
  and width ``σ_s = 0.8 λ_s`` (so ``σ = 2.8, λ = 3.5`` at 7 px and ``σ = 18.2, λ = 22.8`` at 37 px).
* **C1** — 8 bands, each the max over two adjacent S1 sizes, then a spatial max over an
  ``N × N`` window, ``N = 8, 10, …, 22``, moved by a stride ``N/2`` (50 % overlap).
* **S2** — Gaussian radial-basis tuning ``exp(-β‖X − P‖²)`` to ``n × n × 4`` C1 prototypes,
  ``n ∈ {4, 8, 12, 16}``; ``β = 1/(2σ²)`` with ``σ = 1`` (``β = 0.5``) as in the PyTorch port of
  the Georgetown MATLAB code, or the negative Euclidean distance (``s2_tuning="euclidean"``).
  Patches may overhang the C1 map's border (zero-padded, ``s2_padding="same"``): the MATLAB
  reference counts such partial patches unless told to ignore them (its ``IGNOREPARTIALS``
  option, here ``s2_padding="valid"``).
* **C2** — the max of each prototype's S2 response over all positions and all bands.

:class:`HMAXConfig` is a frozen pydantic v2 model, so it is hashable and can be a static argument
of ``jax.jit``.  Building it with a bad value raises :class:`plastix.errors.ConfigError` (one line
naming the field, the value and what is accepted), never a pydantic traceback.

Caveat: published tables give σ and λ to 0.1 px; the values here are computed from the ``div``
formula and agree with them within 0.1 px (e.g. λ = 12.78 at 23 px is listed as 12.7).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from ..errors import ConfigError

#: S1 sizes of the standard model (px), two per C1 band.
STANDARD_S1_SIZES: tuple[int, ...] = tuple(range(7, 38, 2))
#: ``div_s`` of the standard model: ``λ_s = 2 s / div_s``.
STANDARD_S1_DIVS: tuple[float, ...] = tuple(round(4.0 - 0.05 * k, 2) for k in range(16))
#: C1 pooling window ``N`` per band (px); the stride is ``N/2``.
STANDARD_C1_POOL_SIZES: tuple[int, ...] = tuple(range(8, 23, 2))
#: S2 prototype sizes ``n`` (C1 units per side).
STANDARD_S2_PATCH_SIZES: tuple[int, ...] = (4, 8, 12, 16)


def standard_wavelengths(sizes: tuple[int, ...]) -> tuple[float, ...]:
    """λ_s = 2 s / div_s, with div_s = 4.00 − 0.05 k for the k-th size (the standard model's rule)."""
    return tuple(2.0 * s / (4.0 - 0.05 * k) for k, s in enumerate(sizes))


def _as_config_error(exc: ValidationError) -> ConfigError:
    err = exc.errors()[0]
    original = err.get("ctx", {}).get("error")
    if isinstance(original, ConfigError):  # raised by a cross-field check with its own field name
        return original
    field = ".".join(str(p) for p in err["loc"]) or "config"
    message = err["msg"].removeprefix("Value error, ")
    return ConfigError.bad_value(f"hmax.{field}", err.get("input"), message)


class HMAXConfig(BaseModel):
    """Settings of S1 → C1 → S2 → C2.  Defaults: the standard model (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    s1_sizes: tuple[int, ...] = STANDARD_S1_SIZES
    s1_orientations_deg: tuple[float, ...] = (0.0, 45.0, 90.0, 135.0)
    s1_aspect_ratio: float = 0.3
    #: λ per size (px); ``None`` = the standard rule ``2 s / div_s``.
    s1_wavelengths: tuple[float, ...] | None = None
    #: σ per size as a multiple of λ (the standard model uses 0.8).
    s1_sigma_over_wavelength: float = 0.8
    #: Adjacent S1 sizes pooled into one C1 band.
    c1_scales_per_band: int = 2
    c1_pool_sizes: tuple[int, ...] = STANDARD_C1_POOL_SIZES
    #: C1 stride per band; ``None`` = ``pool_size // 2`` (50 % overlap).
    c1_strides: tuple[int, ...] | None = None
    s2_patch_sizes: tuple[int, ...] = STANDARD_S2_PATCH_SIZES
    s2_tuning: Literal["gaussian", "euclidean"] = "gaussian"
    s2_beta: float = 0.5
    #: Where S2 patches may sit on a C1 map: "valid" (wholly inside), "same" (centred on every
    #: C1 unit, zero-padded: partial patches at the borders count), "full" (any overlap).
    s2_padding: Literal["valid", "same", "full"] = "same"

    def __init__(self, **data):
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _as_config_error(exc) from None

    @classmethod
    def from_dict(cls, data: dict) -> "HMAXConfig":
        return cls(**data)

    # -- field checks ---------------------------------------------------------------------------
    @field_validator("s1_sizes")
    @classmethod
    def _odd_sizes(cls, v):
        if not v or any(s < 3 or s % 2 == 0 for s in v):
            raise ValueError("a non-empty list of odd integers >= 3")
        if list(v) != sorted(set(v)):
            raise ValueError("S1 sizes in increasing order, without repeats")
        return v

    @field_validator("s1_orientations_deg")
    @classmethod
    def _orientations(cls, v):
        if not v or len({round(a % 180.0, 9) for a in v}) != len(v):
            raise ValueError("a non-empty list of orientations distinct modulo 180 degrees")
        return v

    @field_validator("s1_aspect_ratio", "s1_sigma_over_wavelength", "s2_beta")
    @classmethod
    def _positive(cls, v):
        if not v > 0:
            raise ValueError("a positive number")
        return v

    @field_validator("c1_scales_per_band")
    @classmethod
    def _positive_int(cls, v):
        if v < 1:
            raise ValueError("a positive integer")
        return v

    @field_validator("c1_pool_sizes", "c1_strides", "s2_patch_sizes")
    @classmethod
    def _positive_ints(cls, v):
        if v is not None and (not v or any(x < 1 for x in v)):
            raise ValueError("a non-empty list of positive integers")
        return v

    @field_validator("s1_wavelengths")
    @classmethod
    def _positive_floats(cls, v):
        if v is not None and any(not x > 0 for x in v):
            raise ValueError("a list of positive numbers")
        return v

    @model_validator(mode="after")
    def _consistent(self):
        bad = ConfigError.bad_value
        n_sizes = len(self.s1_sizes)
        if n_sizes % self.c1_scales_per_band:
            raise bad("hmax.c1_scales_per_band", self.c1_scales_per_band,
                      f"a divisor of the number of S1 sizes ({n_sizes})")
        if len(self.c1_pool_sizes) != self.n_bands:
            raise bad("hmax.c1_pool_sizes", self.c1_pool_sizes, f"one pool size per C1 band ({self.n_bands} bands)")
        if self.c1_strides is not None:
            if len(self.c1_strides) != self.n_bands:
                raise bad("hmax.c1_strides", self.c1_strides, f"one stride per C1 band ({self.n_bands} bands)")
            if any(k > n for k, n in zip(self.c1_strides, self.c1_pool_sizes)):
                raise bad("hmax.c1_strides", self.c1_strides,
                          f"strides at most the pool sizes {self.c1_pool_sizes} (no gaps between windows)")
        if self.s1_wavelengths is not None and len(self.s1_wavelengths) != n_sizes:
            raise bad("hmax.s1_wavelengths", self.s1_wavelengths, f"one wavelength per S1 size ({n_sizes} sizes)")
        return self

    # -- derived quantities ---------------------------------------------------------------------
    @property
    def n_orientations(self) -> int:
        return len(self.s1_orientations_deg)

    @property
    def n_bands(self) -> int:
        return len(self.s1_sizes) // self.c1_scales_per_band

    @property
    def wavelengths(self) -> tuple[float, ...]:
        return self.s1_wavelengths if self.s1_wavelengths is not None else standard_wavelengths(self.s1_sizes)

    @property
    def sigmas(self) -> tuple[float, ...]:
        return tuple(self.s1_sigma_over_wavelength * lam for lam in self.wavelengths)

    @property
    def strides(self) -> tuple[int, ...]:
        if self.c1_strides is not None:
            return self.c1_strides
        return tuple(max(n // 2, 1) for n in self.c1_pool_sizes)

    def band_sizes(self, band: int) -> tuple[int, ...]:
        """The S1 sizes pooled by C1 band ``band`` (0-based)."""
        k = self.c1_scales_per_band
        return self.s1_sizes[band * k : (band + 1) * k]

    def c1_shape(self, height: int, width: int) -> list[tuple[int, int]]:
        """Spatial shape of each C1 band for an ``height × width`` image (padding N//2 each side)."""
        out = []
        for n, k in zip(self.c1_pool_sizes, self.strides):
            pad = n // 2
            out.append(((height + 2 * pad - n) // k + 1, (width + 2 * pad - n) // k + 1))
        return out


def small_config(**overrides) -> HMAXConfig:
    """A reduced hierarchy for tests and quick looks: 4 sizes (7–13 px), 2 bands, patches 2 and 4."""
    settings = dict(
        s1_sizes=(7, 9, 11, 13),
        s1_wavelengths=standard_wavelengths(STANDARD_S1_SIZES)[:4],
        c1_pool_sizes=(8, 10),
        s2_patch_sizes=(2, 4),
    )
    settings.update(overrides)
    return HMAXConfig(**settings)

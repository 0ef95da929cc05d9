"""Hierarchical perception: the HMAX feature hierarchy and learned linear readouts of it.

The standard model of object recognition in visual cortex (Riesenhuber & Poggio 1999; Serre et
al. 2007), as described in Leibo & Poggio's chapter on perception: alternating layers of
template matching (S: simple cells) and max pooling (C: complex cells) — the Hubel–Wiesel module
of :mod:`~plastix.perception.hw_module` stacked twice.

    import jax, plastix.perception as hmax
    config = hmax.HMAXConfig()                                   # the standard parameters
    train  = hmax.digit_images(20, canvas_size=64, positions="random")
    protos = hmax.prototypes_from_images(train.images[::4], config, 25, jax.random.key(0))
    feats  = hmax.c2_features(train.images, config, protos)      # (N, 4 sizes, 25)
    readout = hmax.fit_readout("delta", feats.reshape(len(train), -1), train.labels, jax.random.key(1))

Modules: ``config`` (validated settings), ``gabor`` (S1 filters), ``layers`` (S1, C1, S2, C2 in
JAX), ``prototypes`` (S2 templates: sampling, saving, loading), ``readout`` (delta rule and
logistic regression with optax; a registry for other trainers), ``data`` (built-in image sets and
the image-folder loader), ``hw_module`` (the generic Hubel–Wiesel module).  A plain NumPy/SciPy
implementation, the test oracle and benchmark baseline, is outside the package:
``benchmarks/references/numpy_hmax.py``.
"""

from __future__ import annotations

from .config import HMAXConfig, small_config, standard_wavelengths
from .data import LabelledImages, SHAPE_CLASSES, digit_images, draw_shape, load_image_folder, shape_images
from .gabor import disc_mask, gabor_filter, parameter_table, s1_filter_bank
from .hw_module import complex_cells, cyclic_shift_orbit, hw_module, simple_cells, translation_orbit_2d
from .layers import (
    HMAXLayers, c1_features, c1_layer, c2_features, c2_layer, hmax_layers, s1_layer, s2_layer,
)
from .prototypes import (
    Prototypes, load_prototypes, prototypes_from_images, reorder_orientations, sample_prototypes, save_prototypes,
)
from .readout import (
    TRAINERS, FittedReadout, accuracy, delta_rule_trainer, fit_readout, logistic_regression_trainer, predict,
    register_trainer, scores,
)

__all__ = [
    "HMAXConfig", "small_config", "standard_wavelengths",
    "LabelledImages", "SHAPE_CLASSES", "digit_images", "draw_shape", "load_image_folder", "shape_images",
    "disc_mask", "gabor_filter", "parameter_table", "s1_filter_bank",
    "complex_cells", "cyclic_shift_orbit", "hw_module", "simple_cells", "translation_orbit_2d",
    "HMAXLayers", "c1_features", "c1_layer", "c2_features", "c2_layer", "hmax_layers", "s1_layer", "s2_layer",
    "Prototypes", "load_prototypes", "prototypes_from_images", "reorder_orientations", "sample_prototypes",
    "save_prototypes",
    "TRAINERS", "FittedReadout", "accuracy", "delta_rule_trainer", "fit_readout", "logistic_regression_trainer",
    "predict", "register_trainer", "scores",
]

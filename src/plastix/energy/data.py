"""Small supervised problems for fixed-point networks (bundled: nothing is downloaded).

* ``xor``: the four XOR pairs (Rumelhart et al. 1986; the classic DBM/CHL benchmark).
* ``digits``: scikit-learn's bundled ``load_digits`` (1797 8x8 images, 10 classes, pixels 0..16),
  scaled to [0, 1], one-hot targets, stratified train/test split with a fixed seed.
* ``random_patterns``/``corrupt``: bipolar patterns and cues for Hopfield recall.

``coding="bipolar"`` maps inputs and targets to [-1, 1] (for tanh / +-1 units), ``"binary"`` keeps
[0, 1].
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import check_choice

CODINGS = ("binary", "bipolar")


class Dataset(NamedTuple):
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def n_in(self) -> int:
        return self.x_train.shape[1]

    @property
    def n_out(self) -> int:
        return self.y_train.shape[1]


def _code(a, coding):
    return 2.0 * a - 1.0 if coding == "bipolar" else a


def xor(coding: str = "binary", low: float = 0.0, high: float = 1.0) -> Dataset:
    """The four XOR pairs; train and test sets are the same four.  ``low``/``high`` set the
    binary target values (e.g. 0.1/0.9 for logistic units under a hard clamp)."""
    check_choice("coding", coding, CODINGS)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    y = low + (high - low) * y
    x, y = _code(x, coding), _code(y, coding)
    return Dataset("xor", x, y, x, y)


def digits(coding: str = "binary", test_fraction: float = 0.25, seed: int = 0) -> Dataset:
    """sklearn ``load_digits``, pixels / 16, one-hot targets; stratified split (``seed``)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    check_choice("coding", coding, CODINGS)
    data = load_digits()
    x = (data.data / 16.0).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[data.target]
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=data.target)
    return Dataset("digits", _code(x_tr, coding), _code(y_tr, coding), _code(x_te, coding), _code(y_te, coding))


def random_patterns(key, n_patterns: int, n_units: int):
    """(P, N) independent, unbiased +-1 patterns."""
    return jnp.where(jax.random.bernoulli(key, 0.5, (n_patterns, n_units)), 1.0, -1.0)


def corrupt(key, patterns, flip_fraction: float):
    """Flip exactly round(flip_fraction N) randomly chosen units of each pattern."""
    P, N = patterns.shape
    n_flip = int(round(flip_fraction * N))
    order = jax.vmap(lambda k: jax.random.permutation(k, N))(jax.random.split(key, P))
    flip = jnp.zeros((P, N), bool).at[jnp.arange(P)[:, None], order[:, :n_flip]].set(True)
    return jnp.where(flip, -patterns, patterns)

r"""Reservoir-computing task: a fixed random tanh reservoir driven by slow sines, read out into a 2-D
"butterfly" (Züge, Klos & Memmesheimer, PRX 2023, reservoir task; target curve credited there to
Kyle and Rosenbaum).

Reservoir (computed once, NumPy float64, deterministic given ``seed``), N_res units, τ steps:

    x(t) = γ x(t−1) + (1 − γ) (W_in u(t) + W_rec tanh x(t−1)),   γ = exp(−1/τ),   r(t) = tanh x(t)

W_in ~ N(0, 1/N_ext); W_rec ~ N(0, 1) divided by the largest real part of its eigenvalues.  The
N_ext inputs are the first N_ext of 1, sin t, cos t, sin 2t, … on t_k = 2πk/T, orthonormalised
and scaled to unit strength ((1/T) Σ_t u² = 1).  The reservoir runs ``warmup`` steps before the
recorded trial (the periodic input wraps around), x = 0 before that.

Target, M = 2 outputs, τ_t = 2πt/(T − 1):

    ρ = 0.1 (9 − sin τ_t + 2 sin 3τ_t + 2 sin 5τ_t − sin 7τ_t + 3 cos 2τ_t − 2 cos 4τ_t)
    y*(t) = (ρ cos τ_t, ρ sin τ_t)

A trial's inputs are the reservoir rates r(t) (T, B, N_res) — the same in every trial — so the
task trains a linear readout of the reservoir.  Timing: T = ``length`` steps (500), mask 1
everywhere.  :meth:`ReservoirButterfly.least_squares` gives the best readout and its error.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from .base import Trial, check_int
from .teacher_student import temporal_basis


@functools.lru_cache(maxsize=4)
def reservoir_rates(n_res: int, n_ext: int, tau: float, length: int, warmup: int, seed: int) -> np.ndarray:
    """Recorded reservoir rates r (N_res, T), float64."""
    rng = np.random.default_rng(seed)
    u = np.sqrt(length) * temporal_basis(length)[:n_ext]  # (N_ext, T), (1/T) Σ u² = 1
    w_in = rng.standard_normal((n_res, n_ext)) / np.sqrt(n_ext)
    w_rec = rng.standard_normal((n_res, n_res))
    w_rec /= np.max(np.real(np.linalg.eigvals(w_rec)))
    gamma = np.exp(-1.0 / tau)
    x = np.zeros(n_res)
    rates = np.zeros((n_res, length))
    for t in range(-warmup, length):
        x = gamma * x + (1 - gamma) * (w_in @ u[:, t % length] + w_rec @ np.tanh(x))
        if t >= 0:
            rates[:, t] = np.tanh(x)
    return rates


def butterfly(length: int) -> np.ndarray:
    """The 2-D butterfly target (2, T)."""
    tau = 2 * np.pi * np.arange(length) / (length - 1)
    rho = 0.1 * (9 - np.sin(tau) + 2 * np.sin(3 * tau) + 2 * np.sin(5 * tau) - np.sin(7 * tau)
                 + 3 * np.cos(2 * tau) - 2 * np.cos(4 * tau))
    return np.stack([rho * np.cos(tau), rho * np.sin(tau)])


@dataclass(frozen=True)
class ReservoirButterfly:
    n_res: int = 500
    n_ext: int = 5
    tau: float = 10.0
    length: int = 500
    warmup: int = 100
    seed: int = 0

    def __post_init__(self):
        for name in ("n_res", "n_ext", "length"):
            check_int(name, getattr(self, name))
        check_int("warmup", self.warmup, minimum=0)
        from ..errors import check_positive

        check_positive("tau", self.tau)

    n_out = 2

    @property
    def n_in(self) -> int:
        return self.n_res

    @property
    def n_steps(self) -> int:
        return self.length

    def rates(self) -> np.ndarray:
        # A copy: the cached array must not be shared (JAX may cache constants by identity).
        return reservoir_rates(self.n_res, self.n_ext, float(self.tau), self.length, self.warmup, self.seed).copy()

    def target(self) -> np.ndarray:
        return butterfly(self.length)

    def sample(self, key: jax.Array, batch_size: int = 1) -> Trial:
        del key  # deterministic: the same reservoir trajectory every trial
        x = jnp.asarray(self.rates().T)[:, None, :]
        y = jnp.asarray(self.target().T)[:, None, :]
        x = jnp.broadcast_to(x, (self.length, batch_size, self.n_res))
        y = jnp.broadcast_to(y, (self.length, batch_size, 2))
        return Trial(x, y, jnp.ones_like(y))

    def error(self, w) -> float:
        """E(W) = 1/(2T) Σ_t |y*(t) − W r(t)|² in float64."""
        r = self.rates()
        return float(0.5 * np.sum((self.target() - np.asarray(w, np.float64) @ r) ** 2) / self.length)

    def least_squares(self, rcond: float = 1e-10):
        """(W_opt, E_opt): the least-squares readout (pseudo-inverse, cut at ``rcond``) and its error."""
        r, y = self.rates(), self.target()
        w = y @ np.linalg.pinv(r, rcond=rcond)
        return w, self.error(w)

    def spectrum(self):
        """Eigenvalues λ_k (descending) and eigenvectors of S = R Rᵀ/T."""
        r = self.rates()
        lam, vec = np.linalg.eigh(r @ r.T / self.length)
        order = np.argsort(lam)[::-1]
        return np.clip(lam[order], 0.0, None), vec[:, order]

r"""Linear teacher–student task with temporally extended inputs (Züge, Klos & Memmesheimer, PRX 2023).

A readout with N inputs and M outputs must reproduce, over a trial of T steps, the output of a
teacher W* = ``teacher_weight`` on the first n_task inputs (0 elsewhere) plus, optionally, a part
no readout can produce.  Inputs are built from T orthonormal temporal basis functions b_k(t)
(constant, sin t, cos t, sin 2t, cos 2t, … on t_k = 2πk/T, orthonormal: Σ_t b_k b_l = δ_kl; for
even T the last one is cos(πk) because sin(πk) vanishes on the grid):

    x_j(t) = sqrt(T α²) b_{k(j)}(t)   for the n_trial inputs active in this trial, 0 otherwise
    y*(t)  = W* x(t) + sqrt(2 E_opt T / M) b_⊥(t)·1_M

Each trial activates a random n_trial of the n_task latent inputs, with strength α² = N/n_trial
by default (the total input power per trial stays N).  n_trial = n_task is one repeated task;
n_trial < n_task are subtasks.  ``basis="fixed"`` (the paper): latent input j always uses b_j and
b_⊥ = b_{n_task} (needs n_task ≤ T, and n_task < T when E_opt > 0); ``basis="per_trial"``: the
k-th active input of a trial uses b_k and b_⊥ = b_{n_trial} (needs only n_trial ≤ T; with T = 1,
n_trial = 1 it is the classic one-pattern-per-trial setting of Werfel et al. 2005).  Either way
S = X Xᵀ/T equals α² on the active inputs and b_⊥ is orthogonal to every input, so the error is
exactly

    E = E_opt + (α²/2) |(W* − W)_active|²,   averaged over subtasks:  E_opt + (α² f/2)|W* − W|²_task

with f = n_trial/n_task (:meth:`TeacherStudent.expected_error`).  Inputs n_task … N−1 are always
zero; their weights are "irrelevant" (:meth:`TeacherStudent.irrelevant_weights`).
``rotate=True`` mixes the inputs by a fixed random rotation R (x → R x, W* → W* Rᵀ) so every input
unit carries signal (this changes only WP0).

Timing: T = ``length`` steps, loss mask 1 everywhere.  Paper defaults: M = 10, N = 100, T = 100,
n_task = 50, n_trial = 50 or 10, E_opt = 2 or 0, initial weights 0 (E_0 = E_opt + N M w*²/2 = 5 + E_opt).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ConfigError, check_choice
from .base import Trial, check_int


def temporal_basis(length: int) -> np.ndarray:
    """T orthonormal basis functions (rows): 1, sin t, cos t, sin 2t, … on t_k = 2πk/T."""
    # A fresh copy each call: JAX may cache a constant by its array's identity, and a cached float32
    # conversion must not leak into float64 (x64) computations.
    return _temporal_basis(length).copy()


@functools.lru_cache(maxsize=16)
def _temporal_basis(length: int) -> np.ndarray:
    t = np.linspace(0.0, 2 * np.pi * (1 - 1 / length), length)
    rows = []
    for i in range(length):
        order = (i + 1) // 2
        use_sin = (i + 1) % 2 == 0
        if use_sin and 2 * order == length:  # sin(πk) ≡ 0 on the grid; its partner cos(πk) is not
            use_sin = False
        rows.append(np.sin(order * t) if use_sin else np.cos(order * t))
    basis = np.array(rows)
    q, r = np.linalg.qr(basis.T)  # Gram–Schmidt in matrix form; fix signs to keep each function's
    q = q * np.sign(np.diag(r))[None, :]  # orientation
    return q.T.copy()


def random_rotation(n: int, seed: int) -> np.ndarray:
    """A random orthogonal matrix (Haar measure; QR of a Gaussian matrix with the sign fix)."""
    return _random_rotation(n, seed).copy()


@functools.lru_cache(maxsize=16)
def _random_rotation(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))[None, :]


@dataclass(frozen=True)
class TeacherStudent:
    n_in: int = 100
    n_out: int = 10
    length: int = 100
    n_task: int = 50
    n_trial: int = 50
    e_opt: float = 0.0
    teacher_weight: float = 0.1
    input_strength: float | None = None  # α²; default n_in / n_trial
    basis: str = "fixed"
    rotate: bool = False
    rotation_seed: int = 0

    def __post_init__(self):
        for name in ("n_in", "n_out", "length", "n_task", "n_trial"):
            check_int(name, getattr(self, name))
        check_choice("basis", self.basis, ("fixed", "per_trial"))
        if self.n_task > self.n_in:
            raise ConfigError.bad_value("n_task", self.n_task, f"at most n_in={self.n_in}")
        if self.n_trial > self.n_task:
            raise ConfigError.bad_value("n_trial", self.n_trial, f"at most n_task={self.n_task}")
        used = self.n_task if self.basis == "fixed" else self.n_trial
        if used > self.length or (self.e_opt > 0 and used >= self.length):
            extra = ", plus one for E_opt" if self.e_opt > 0 else ""
            raise ConfigError.bad_value(
                "length", self.length, f">= {used + (self.e_opt > 0)} (basis={self.basis!r} uses {used} basis functions{extra})"
            )
        if not self.e_opt >= 0:
            raise ConfigError.bad_value("e_opt", self.e_opt, "a non-negative number")
        if self.input_strength is not None and not self.input_strength > 0:
            raise ConfigError.bad_value("input_strength", self.input_strength, "a positive number")

    @property
    def n_steps(self) -> int:
        return self.length

    @property
    def alpha2(self) -> float:
        return float(self.input_strength if self.input_strength is not None else self.n_in / self.n_trial)

    @property
    def fraction(self) -> float:
        return self.n_trial / self.n_task

    def teacher(self) -> jax.Array:
        """W* in latent coordinates (M, N): ``teacher_weight`` on the first n_task inputs."""
        return jnp.zeros((self.n_out, self.n_in)).at[:, : self.n_task].set(self.teacher_weight)

    def rotation(self):
        return jnp.asarray(random_rotation(self.n_in, self.rotation_seed)) if self.rotate else None

    def latent_weights(self, w):
        """W in latent coordinates, W R (W itself without rotation)."""
        rot = self.rotation()
        return w if rot is None else w @ rot

    def sample(self, key: jax.Array, batch_size: int = 1) -> Trial:
        T, N = self.length, self.n_in
        basis = jnp.asarray(temporal_basis(T))  # float64 under x64, float32 otherwise
        amp = jnp.sqrt(T * self.alpha2)

        def one(k, every=False):
            # A random n_trial-subset of the task's inputs, in random order.
            chosen = jnp.arange(self.n_task) if every else jax.random.permutation(k, self.n_task)[: self.n_trial]
            if self.basis == "fixed":
                rows = basis[chosen]
                perp = basis[self.n_task] if self.e_opt > 0 else jnp.zeros((T,))
            else:
                rows = basis[: self.n_trial]
                perp = basis[self.n_trial] if self.e_opt > 0 else jnp.zeros((T,))
            x = jnp.zeros((N, T)).at[chosen].set(amp * rows)
            y = self.teacher() @ x + jnp.sqrt(2.0 * self.e_opt * T / self.n_out) * perp[None, :]
            rot = self.rotation()
            if rot is not None:
                x = rot @ x
            return x.T, y.T

        if self.n_trial == self.n_task and self.basis == "fixed":
            x, y = one(None, every=True)  # a single repeated task: no draw needed
            x = jnp.broadcast_to(x, (batch_size,) + x.shape)
            y = jnp.broadcast_to(y, (batch_size,) + y.shape)
        else:
            x, y = jax.vmap(one)(jax.random.split(key, batch_size))  # (B, T, ·)
        x, y = jnp.swapaxes(x, 0, 1), jnp.swapaxes(y, 0, 1)
        return Trial(x, y, jnp.ones_like(y))

    def expected_error(self, w):
        """E averaged over subtasks: E_opt + (α² f/2) |W* − W R|² over the task's inputs."""
        d = (self.teacher() - self.latent_weights(w))[:, : self.n_task]
        return self.e_opt + 0.5 * self.alpha2 * self.fraction * jnp.sum(d**2)

    def irrelevant_weights(self, w):
        """Weights (in latent coordinates) from inputs that are never active, (M, N − n_task)."""
        return self.latent_weights(w)[:, self.n_task :]

    def initial_error(self) -> float:
        """E for W = 0."""
        return float(self.expected_error(jnp.zeros((self.n_out, self.n_in))))

"""Fixed-point (energy) networks: continuous Hopfield / additive networks with symmetric weights.

Maths
-----
Units i = 1..n carry activities V_i in a box (``[0, 1]`` for the hard sigmoid and the logistic,
``[-1, 1]`` for tanh).  The energy (Lyapunov function, Hopfield 1984) is

    E(V) = -1/2 sum_{i != j} W_ij V_i V_j - sum_i b_i V_i + sum_i Phi(V_i),      W symmetric,     (1)

with Phi the integral of the inverse activation, Phi'(V) = g^{-1}(V):

    hard_sigmoid  g(h) = clip(h, 0, 1)      Phi(V) = V^2 / 2                 (EqProp, Scellier & Bengio 2017)
    logistic      g(h) = sigma(h / T)       Phi(V) = T [V ln V + (1-V) ln(1-V)]   (additive model; CHL)
    tanh          g(h) = tanh(h / T)        Phi(V) = T [p ln p + (1-p) ln(1-p)], p = (1+V)/2
                                            (-T x entropy: E is the mean-field free energy of a
                                            deterministic Boltzmann machine, Hinton 1989)

The local field is h = -dE_int/dV = W V + b (E_int: the first two terms of (1)).  Stationary
points of E are the fixed points V = g(h(V)).  A teacher adds a *nudge* energy to E,
F = E + gamma * N(V_out; target):

    "squared"  N = 1/2 ||V_out - target||^2   force  gamma (target - V_out)   (soft clamp; EqProp's beta C)
    "current"  N = -(target - m) . V_out       force  gamma (target - m)      (teacher as an input current;
                                                m = middle of the unit range, so a low target pushes down)

Clamped units (inputs, hard-clamped outputs, cues) are held at given values; they are constants
of the energy for the free units.

Connectivity: ``"layered"`` (W_k between consecutive layers, one matrix used in both directions,
so the weights are symmetric by construction) or ``"full"`` (one symmetric n x n matrix, zero
diagonal; input-input entries masked out since inputs are always clamped).

Relaxation
----------
Compiled iterations (``lax.while_loop``) of

    hard_sigmoid:  V <- clip(V + eps (h - V), 0, 1)       projected gradient descent on F (EqProp)   (2a)
    smooth g:      V <- V + eps (g(h) - V)                 damped mean-field iteration                (2b)

with clamped units reset after each step, until the fixed-point residual
``r = max_free |g(h(V)) - V|`` is below ``tol`` for every example, or ``max_iter`` is reached.  The
iteration count and each example's last residual are reported (the residual of the state before
the last step; the returned state is one step further; ``FixedPointNet.residual`` recomputes it).  Both iterations have exactly the
fixed points of V = g(h(V)) (for (2a) the projected gradient vanishes iff V = clip(h)).

Why they never increase F (derived; see ``lyapunov_step_bound``): Phi is mu-strongly convex
(mu = 1 hard sigmoid, 4T logistic, T tanh) and g(h) minimises Phi(V') - h.V'.  With d = g(h) - V,
F(V + eps d) <= F(V) - eps/2 ||d||^2 (mu - eps lambda), lambda = max(0, lambda_max(-W + gamma P_out)),
so (2b) is monotone for eps <= mu / lambda.  (2a) is projected gradient descent on a function
with Hessian I - W + gamma P_out, monotone for eps <= 2 / lambda_max(I - W + gamma P_out).
``relax_trajectory`` records F along the way so this can be checked.

Caveats
-------
* Relaxation finds *a* local minimum; which one depends on the initial state.  Gradients derived
  from fixed points (contrastive rules, recurrent backprop) are exact only at converged fixed
  points and only while the phases stay in the same basin.
* "Layered" counts a single matrix per pair of adjacent layers; "full" stores W as a full matrix
  and uses W * mask: keep it symmetric (``symmetrize``); every update in this package is symmetric.
* ``temperature`` has no effect on the hard sigmoid.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import NamedTuple, Protocol

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ConfigError, check_choice, check_positive

ACTIVATIONS = ("hard_sigmoid", "logistic", "tanh")
CONNECTIVITIES = ("layered", "full")
NUDGES = ("squared", "current")


class EnergyModel(Protocol):
    """What the rules of this package use from a network (``FixedPointNet`` implements it).

    A new energy model (another connectivity, convolutional layers, ...) works with every rule if it
    provides these: the energy and its parameter gradient at fixed states, the cost on the outputs,
    and a relaxation with clamped units and an optional nudge that reports iterations and residuals.
    """

    n_in: int
    n_out: int
    out_slice: slice
    activation: str
    temperature: float

    def energy(self, params, V, temperature=None): ...
    def cost(self, V, target): ...
    def dE_dtheta(self, params, V): ...
    def field(self, params, V): ...
    def initial_state(self, x, batch=None): ...
    def input_mask(self): ...
    def output_mask(self): ...
    def relax(self, params, V0, clamp_mask, target=None, strength=0.0, nudge="squared", **kw) -> "Relaxed": ...
    def free_phase(self, params, x, V_init=None, **kw) -> "Relaxed": ...


class Relaxed(NamedTuple):
    """Result of a relaxation: final states (B, n), iterations run, last residual per example (B,)."""

    V: jax.Array
    n_iter: jax.Array
    residual: jax.Array


# ---------------------------------------------------------------------------------------------
# activation functions and their self-energies
# ---------------------------------------------------------------------------------------------
def activation(name: str, h, temperature=1.0):
    """g(h): the unit's activity for local field ``h``."""
    if name == "hard_sigmoid":
        return jnp.clip(h, 0.0, 1.0)
    if name == "logistic":
        return jax.nn.sigmoid(h / temperature)
    return jnp.tanh(h / temperature)


def self_energy(name: str, V, temperature=1.0):
    """Phi(V) elementwise: the integral of g^{-1} (so that dE/dV = g^{-1}(V) - h)."""
    if name == "hard_sigmoid":
        return 0.5 * V * V
    if name == "logistic":
        return temperature * (jax.scipy.special.xlogy(V, V) + jax.scipy.special.xlogy(1.0 - V, 1.0 - V))
    p = 0.5 * (1.0 + V)
    return temperature * (jax.scipy.special.xlogy(p, p) + jax.scipy.special.xlogy(1.0 - p, 1.0 - p))


def strong_convexity(name: str, temperature: float = 1.0) -> float:
    """mu: the smallest curvature Phi''(V) over the unit range (sets the Lyapunov step bound)."""
    return {"hard_sigmoid": 1.0, "logistic": 4.0 * temperature, "tanh": temperature}[name]


def unit_range(name: str) -> tuple[float, float]:
    return (-1.0, 1.0) if name == "tanh" else (0.0, 1.0)


# ---------------------------------------------------------------------------------------------
# the network
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FixedPointNet:
    """A symmetric fixed-point network: static settings only (hashable, usable as a jit static).

    ``layer_sizes = (n_in, hidden..., n_out)``; units are laid out in that order in a flat state
    vector V of length ``n_units``.  ``n_in`` may be 0 (a pure recurrent network whose clamped
    units are chosen per call, e.g. pattern completion).
    """

    layer_sizes: tuple[int, ...]
    connectivity: str = "layered"
    activation: str = "hard_sigmoid"
    temperature: float = 1.0
    eps: float = 0.5
    max_iter: int = 200
    tol: float = 1e-5

    def __post_init__(self):
        sizes = tuple(self.layer_sizes)
        object.__setattr__(self, "layer_sizes", sizes)
        if len(sizes) < 2:
            raise ConfigError.bad_value("layer_sizes", sizes, "at least (n_in, n_out)")
        for k, s in enumerate(sizes):
            if k == 0 and s == 0:
                continue
            check_positive(f"layer_sizes[{k}]", s, integer=True)
        check_choice("connectivity", self.connectivity, CONNECTIVITIES)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_positive("temperature", self.temperature)
        check_positive("eps", self.eps)
        check_positive("max_iter", self.max_iter, integer=True)
        if not (isinstance(self.tol, (int, float)) and self.tol >= 0):
            raise ConfigError.bad_value("tol", self.tol, "a number >= 0")
        if self.connectivity == "layered" and sizes[0] == 0:
            raise ConfigError.bad_value("layer_sizes[0]", 0, "n_in >= 1 for layered networks")

    # -- layout -------------------------------------------------------------------------------
    @property
    def n_units(self) -> int:
        return int(sum(self.layer_sizes))

    @property
    def n_in(self) -> int:
        return self.layer_sizes[0]

    @property
    def n_out(self) -> int:
        return self.layer_sizes[-1]

    @property
    def offsets(self) -> tuple[int, ...]:
        return tuple(int(x) for x in np.cumsum((0,) + self.layer_sizes))

    @property
    def out_slice(self) -> slice:
        return slice(self.n_units - self.n_out, self.n_units)

    def input_mask(self) -> jax.Array:
        return jnp.arange(self.n_units) < self.n_in

    def output_mask(self) -> jax.Array:
        return jnp.arange(self.n_units) >= self.n_units - self.n_out

    def layers(self, V) -> list[jax.Array]:
        o = self.offsets
        return [V[..., o[k] : o[k + 1]] for k in range(len(self.layer_sizes))]

    def connection_mask(self) -> jax.Array:
        """(n, n) 0/1 mask of the connections that exist (symmetric, zero diagonal)."""
        n = self.n_units
        if self.connectivity == "full":
            inp = np.arange(n) < self.n_in
            mask = 1.0 - np.eye(n)
            mask[np.ix_(inp, inp)] = 0.0
            return jnp.asarray(mask)
        mask = np.zeros((n, n))
        o = self.offsets
        for k in range(len(self.layer_sizes) - 1):
            mask[o[k] : o[k + 1], o[k + 1] : o[k + 2]] = 1.0
        return jnp.asarray(mask + mask.T)

    # -- parameters -----------------------------------------------------------------------------
    def init(self, key, gain: float = 1.0, bias: float = 0.0) -> dict:
        """Glorot-uniform weights (times ``gain``; symmetric for "full"), biases all ``bias``.

        (A positive bias keeps hard-sigmoid units out of the flat region at 0 at the start; a unit
        stuck at 0 there has zero gradient for every rule, exact ones included.)

        layered: ``{"W": [W_0 (n_0, n_1), ...], "b": [b_1, ..., b_L]}``; full: ``{"W": (n, n), "b": (n,)}``.
        """
        if self.connectivity == "layered":
            keys = jax.random.split(key, len(self.layer_sizes) - 1)
            Ws, bs = [], []
            for k, (a, b) in enumerate(zip(self.layer_sizes[:-1], self.layer_sizes[1:])):
                lim = gain * np.sqrt(6.0 / (a + b))
                Ws.append(jax.random.uniform(keys[k], (a, b), minval=-lim, maxval=lim))
                bs.append(jnp.full(b, bias))
            return {"W": Ws, "b": bs}
        n = self.n_units
        lim = gain * np.sqrt(3.0 / n)
        A = jax.random.uniform(key, (n, n), minval=-lim, maxval=lim)
        W = jnp.triu(A, 1)
        return {"W": (W + W.T) * self.connection_mask(), "b": jnp.full(n, bias)}

    def dense_weights(self, params) -> jax.Array:
        """The full symmetric (n, n) weight matrix (for spectra and checks on small networks)."""
        if self.connectivity == "full":
            return params["W"] * self.connection_mask()
        n, o = self.n_units, self.offsets
        W = jnp.zeros((n, n), dtype=params["W"][0].dtype)
        for k, Wk in enumerate(params["W"]):
            W = W.at[o[k] : o[k + 1], o[k + 1] : o[k + 2]].set(Wk)
        return W + W.T

    def dense_bias(self, params) -> jax.Array:
        if self.connectivity == "full":
            return params["b"]
        return jnp.concatenate([jnp.zeros(self.n_in, dtype=params["b"][0].dtype)] + list(params["b"]))

    # -- energy -----------------------------------------------------------------------------------
    def interaction(self, params, V):
        """E_int(V) = -1/2 sum_{i!=j} W_ij V_i V_j - sum_i b_i V_i, per example (shape V.shape[:-1])."""
        if self.connectivity == "full":
            Wm = params["W"] * self.connection_mask()
            return -0.5 * jnp.einsum("...i,ij,...j->...", V, Wm, V) - V @ params["b"]
        Vs = self.layers(V)
        e = 0.0
        for k, Wk in enumerate(params["W"]):
            e = e - jnp.einsum("...i,ij,...j->...", Vs[k], Wk, Vs[k + 1]) - Vs[k + 1] @ params["b"][k]
        return e

    def energy(self, params, V, temperature=None):
        """E(V) of equation (1); inputs' self-energy is left out (they are clamped constants)."""
        T = self.temperature if temperature is None else temperature
        phi = self_energy(self.activation, V[..., self.n_in :], T)
        return self.interaction(params, V) + jnp.sum(phi, axis=-1)

    def cost(self, V, target):
        """C = 1/2 ||V_out - target||^2 per example."""
        return 0.5 * jnp.sum((V[..., self.out_slice] - target) ** 2, axis=-1)

    def nudge_energy(self, V, target, strength, nudge: str = "squared"):
        """gamma * N(V_out; target) (see the module docstring)."""
        Vo = V[..., self.out_slice]
        if nudge == "squared":
            return strength * 0.5 * jnp.sum((Vo - target) ** 2, axis=-1)
        mid = sum(unit_range(self.activation)) / 2
        return -strength * jnp.sum((target - mid) * Vo, axis=-1)

    def total_energy(self, params, V, target=None, strength=0.0, nudge="squared", temperature=None):
        """F = E + gamma N: the function the (teacher-phase) relaxation descends."""
        E = self.energy(params, V, temperature)
        if target is None:
            return E
        return E + self.nudge_energy(V, target, strength, nudge)

    def field(self, params, V):
        """h = -dE_int/dV (per example), by automatic differentiation of the interaction."""
        return -jax.grad(lambda v: jnp.sum(self.interaction(params, v)))(V)

    def dE_dtheta(self, params, V):
        """dE/dtheta at fixed states V, averaged over the batch.

        For W this is -<V_i V_j> (per shared weight W_ij = W_ji, layered: -<V_k^T V_{k+1}>), for b
        it is -<V_i>: the Hebbian products of contrastive learning.  For "full" the gradient with
        respect to the (symmetric) matrix entry is -<V_i V_j>/2 per entry, i.e. -<V_i V_j> per pair.
        """
        B = V.shape[0] if V.ndim > 1 else 1
        g = jax.grad(lambda p: jnp.sum(self.interaction(p, V)) / B)(params)
        if self.connectivity == "full":
            # (G + G^T)/2 is exactly symmetric in floating point, so updates keep W exactly symmetric.
            g = {**g, "W": 0.5 * (g["W"] + g["W"].T)}
        return g

    # -- states -----------------------------------------------------------------------------------
    def initial_state(self, x, batch: int | None = None):
        """V0: inputs set to ``x`` (B, n_in), other units at rest (0, or 0.5 for the logistic)."""
        rest = 0.5 if self.activation == "logistic" else 0.0
        if self.n_in == 0:
            return jnp.full((batch, self.n_units), rest)
        x = jnp.asarray(x)
        rest_units = jnp.full(x.shape[:-1] + (self.n_units - self.n_in,), rest, dtype=x.dtype)
        return jnp.concatenate([x, rest_units], axis=-1)

    def residual(self, params, V, clamp_mask, target=None, strength=0.0, nudge="squared", temperature=None):
        """max over free units of |g(h(V)) - V| per example: zero exactly at fixed points."""
        T = self.temperature if temperature is None else temperature
        h = _total_field(self, params, V, target, strength, nudge)
        r = jnp.where(clamp_mask, 0.0, jnp.abs(activation(self.activation, h, T) - V))
        return jnp.max(r, axis=-1)

    def relax(self, params, V0, clamp_mask, target=None, strength=0.0, nudge="squared", *,
              eps=None, max_iter=None, tol=None, temperature=None) -> Relaxed:
        """Relax from V0 (clamped units keep their V0 values) to a fixed point of F; see module docstring."""
        check_choice("nudge", nudge, NUDGES)
        return _relax(
            self, params, V0, jnp.asarray(clamp_mask), target, strength, nudge,
            self.eps if eps is None else eps,
            self.tol if tol is None else tol,
            int(self.max_iter if max_iter is None else max_iter),
            self.temperature if temperature is None else temperature,
        )

    def free_phase(self, params, x, V_init=None, **kw) -> Relaxed:
        """Relax with the inputs clamped to ``x`` (from rest, or from ``V_init``)."""
        V0 = self.initial_state(x) if V_init is None else jnp.asarray(V_init).at[..., : self.n_in].set(x)
        return self.relax(params, V0, self.input_mask(), **kw)

    def predict(self, params, x, **kw):
        """Output activities at the free fixed point."""
        return self.free_phase(params, x, **kw).V[..., self.out_slice]


def symmetrize(W):
    """(W + W^T)/2: project a matrix onto the symmetric ones."""
    return 0.5 * (W + W.T)


def _total_field(net, params, V, target, strength, nudge):
    h = net.field(params, V)
    if target is None:
        return h
    Vo = V[..., net.out_slice]
    if nudge == "squared":
        force = strength * (target - Vo)
    else:
        mid = sum(unit_range(net.activation)) / 2
        force = strength * (target - mid) * jnp.ones_like(Vo)
    return h.at[..., net.out_slice].add(force)


def _step(net, params, V, V_clamp, clamp_mask, target, strength, nudge, eps, temperature):
    """One relaxation step (2a)/(2b); returns the new state and the residual of the old one."""
    h = _total_field(net, params, V, target, strength, nudge)
    gh = activation(net.activation, h, temperature)
    res = jnp.max(jnp.where(clamp_mask, 0.0, jnp.abs(gh - V)), axis=-1)
    if net.activation == "hard_sigmoid":
        Vn = jnp.clip(V + eps * (h - V), 0.0, 1.0)
    else:
        Vn = V + eps * (gh - V)
    return jnp.where(clamp_mask, V_clamp, Vn), res


@partial(jax.jit, static_argnames=("net", "nudge", "max_iter"))
def _relax(net, params, V0, clamp_mask, target, strength, nudge, eps, tol, max_iter, temperature):
    def cond(carry):
        _, i, res = carry
        return (i < max_iter) & (jnp.max(res) > tol)

    def body(carry):
        V, i, _ = carry
        Vn, res = _step(net, params, V, V0, clamp_mask, target, strength, nudge, eps, temperature)
        return Vn, i + 1, res

    init = (V0, jnp.asarray(0), jnp.full(V0.shape[:-1], jnp.inf, dtype=V0.dtype))
    V, n_iter, res = jax.lax.while_loop(cond, body, init)
    return Relaxed(V, n_iter, res)


@partial(jax.jit, static_argnames=("net", "nudge", "n_steps"))
def relax_trajectory(net, params, V0, clamp_mask, n_steps, target=None, strength=0.0, nudge="squared",
                     eps=None, temperature=None):
    """Run ``n_steps`` relaxation steps and record F and the residual along the way.

    Returns ``(V_final, F (n_steps + 1, B), residual (n_steps, B))``; used to check that the
    relaxation never increases the energy.
    """
    eps = net.eps if eps is None else eps
    T = net.temperature if temperature is None else temperature

    def body(V, _):
        Vn, res = _step(net, params, V, V0, clamp_mask, target, strength, nudge, eps, T)
        return Vn, (net.total_energy(params, Vn, target, strength, nudge, T), res)

    V, (F, res) = jax.lax.scan(body, V0, None, length=n_steps)
    F0 = net.total_energy(params, V0, target, strength, nudge, T)
    return V, jnp.concatenate([F0[None], F], axis=0), res


@partial(jax.jit, static_argnames=("net", "iters_per_temperature", "max_iter", "nudge"))
def anneal(net, params, V0, clamp_mask, temperatures, iters_per_temperature=10, target=None, strength=0.0,
           nudge="squared", eps=None, tol=None, max_iter=None) -> Relaxed:
    """Mean-field annealing (Peterson & Anderson 1987): relax a few steps at each temperature of the
    schedule (high to low), then to convergence at the last one.  Returns the final fixed point."""
    eps = net.eps if eps is None else eps
    temperatures = jnp.asarray(temperatures)

    def at_temperature(V, T):
        def inner(V, _):
            Vn, _ = _step(net, params, V, V0, clamp_mask, target, strength, nudge, eps, T)
            return Vn, None

        V, _ = jax.lax.scan(inner, V, None, length=iters_per_temperature)
        return V, None

    V, _ = jax.lax.scan(at_temperature, V0, temperatures[:-1])
    V = jnp.where(clamp_mask, V0, V)
    return _relax(net, params, V, clamp_mask, target, strength, nudge, eps,
                  net.tol if tol is None else tol, int(net.max_iter if max_iter is None else max_iter),
                  temperatures[-1])


def lyapunov_step_bound(net: FixedPointNet, params, strength: float = 0.0, temperature=None) -> float:
    """The largest step ``eps`` for which relaxation provably never increases F (module docstring).

    Uses the full weight matrix (its spectrum bounds that of any free-unit submatrix), so the bound
    is conservative.  Small networks only (dense eigendecomposition).
    """
    T = net.temperature if temperature is None else temperature
    W = np.asarray(net.dense_weights(params), dtype=np.float64)
    P = np.diag(np.asarray(net.output_mask(), dtype=np.float64)) * float(strength)
    if net.activation == "hard_sigmoid":
        lam = np.linalg.eigvalsh(np.eye(len(W)) - W + P).max()
        return float(2.0 / lam) if lam > 0 else float("inf")
    lam = max(0.0, float(np.linalg.eigvalsh(-W + P).max()))
    return float(strong_convexity(net.activation, T) / lam) if lam > 0 else float("inf")

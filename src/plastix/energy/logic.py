"""Logic programming in Hopfield networks (Wan Abdullah's method; Sathasivam et al.).

Programs (Horn clauses: the text, the parser, models and the least model) are in
:mod:`plastix.energy.horn`; this module builds their Hopfield weights, relaxes the network and
measures how often relaxation finds a model.

Maths (Wan Abdullah 1991/1992; Sathasivam & Wan Abdullah 2008)
-----
One bipolar neuron per atom, S_A = +1 (true) / -1 (false).  A literal is false with factor
(1 - S_A)/2 for A and (1 + S_A)/2 for not A; a clause is violated iff all its literals are false, so

    E_P(S) = sum_clauses prod_{literals} (false factor)  =  number of violated clauses.       (1)

Expanding (1) (with S_A^2 = 1) gives a polynomial sum_M c_M prod_{i in M} S_i + c_0.  The
higher-order Hopfield energy

    H = -sum_m (1/m) sum_{i1..im} J^(m)_{i1..im} S_i1 ... S_im                                 (2)

(ordered tuples, J fully symmetric, zero on every diagonal; for m <= 3 this is
H = -1/3 sum J_ijk S_i S_j S_k - 1/2 sum J_ij S_i S_j - sum J_i S_i) equals E_P - c_0 when

    J^(m)_M = -c_M / (m - 1)!       (J_ijk = -c/2, J_ij = -c, J_i = -c).                       (3)

So H(S) = E_P(S) + H_min with H_min = -c_0 (= -sum_c 2^{-k_c} for clauses of k_c distinct atoms):
a global minimum of H is exactly a model of the program when the program is satisfiable.
Coefficients are built with exact rational arithmetic (``fractions.Fraction``); they are dyadic,
so the float64 weights are exact.

Relaxation (``relax``): local field h_i = -dH/dS_i = sum_{M containing i} (m-1)! J_M prod_{j in M\\i} S_j.
H is affine in each S_i (H = -S_i h_i + terms without S_i), hence

* ``"mcp"`` (McCulloch-Pitts, asynchronous): S_i <- sgn(h_i) (sgn(0) = +1), units in a random order,
  a fresh permutation each sweep, until a sweep flips nothing.  H never increases.
* ``"sync"``: all units at once; may oscillate (2-cycles are detected and reported with a warning).
* ``"boltzmann"``: asynchronous stochastic updates P(S_i = +1) = 1/(1 + exp(-2 R h_i / T)) with T
  annealed geometrically from ``t_start`` to ``t_end``, then "mcp" to a fixed point.
* ``"tanh"``: asynchronous continuous (mean-field) updates S_i <- tanh(R h_i / T) on the same
  annealing schedule, then sign and "mcp" to a fixed point.  (With the sign taken at every update,
  "tanh" activation is exactly "mcp".)

R is the *relaxation rate* of the "Sathasivam relaxation method", read here (inference; the 2009
paper was not available) as dh^new/dt = R dh/dt, i.e. the field that drives the neuron is R h.
For "mcp"/"sync" R has no effect (sgn(R h) = sgn h); for "boltzmann"/"tanh" it acts as 1/T.

Performance measures (``evaluate``): the global-minima ratio Z_M (fraction of relaxations that end
with |H - H_min| <= tol, tol = 0.001), the Hamming distance from the final state to the nearest
model (exhaustive for <= 16 atoms, else an upper bound) and to the least model (forward chaining),
and CPU time for
"training" (building the weights) and "retrieval" (relaxation).

Caveats: H_min is analytic only for satisfiable programs (checked by forward chaining); for an
unsatisfiable program ``evaluate`` reports the ratio against the true minimum only when it can be
found exhaustively (<= 20 atoms).  Z_M depends strongly on program size and on the relaxation:
asynchronous McCulloch-Pitts descent stops in local minima of H that violate clauses.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ConfigError, check_choice, check_positive
from .hopfield import OscillationWarning
from .horn import Program, all_states
from .horn import Clause, ProgramError, parse_program, random_program  # noqa: F401  (also importable from here)

METHODS = ("mcp", "sync", "boltzmann", "tanh")
GLOBAL_TOL = 1e-3


# -------------------------------------------------------------------------------------------------
# Wan Abdullah weights
# -------------------------------------------------------------------------------------------------
def cost_polynomial(program: Program) -> dict[tuple[int, ...], Fraction]:
    """E_P as {sorted atom tuple: coefficient} (the empty tuple is the constant c_0), exactly."""
    poly: dict[frozenset, Fraction] = {}
    for clause in program.clauses:
        term = {frozenset(): Fraction(1)}
        for atom, positive in clause.literals():
            sign = -1 if positive else 1  # false factor (1 + sign S)/2
            new: dict[frozenset, Fraction] = {}
            for mono, c in term.items():
                new[mono] = new.get(mono, 0) + c / 2
                other = mono ^ {atom}  # S_a^2 = 1
                new[other] = new.get(other, 0) + sign * c / 2
            term = new
        for mono, c in term.items():
            poly[mono] = poly.get(mono, 0) + c
    return {tuple(sorted(m)): c for m, c in poly.items() if c != 0}


@dataclass(frozen=True)
class LogicNetwork:
    """The higher-order Hopfield network of a program (equations 2-3).

    ``weights`` maps each sorted index tuple M (|M| >= 1) to J_M; ``h_min`` is the analytic minimum
    -c_0.  Array forms for the compiled relaxation are built on first use.
    """

    program: Program
    weights: dict = field(hash=False, compare=False)
    h_min: float
    order: int
    build_seconds: float = 0.0

    @property
    def n(self) -> int:
        return self.program.n_atoms

    def energy(self, S):
        """H(S) by equation (2) in its monomial form, for states (..., N) (numpy, float64)."""
        S = np.asarray(S, dtype=np.float64)
        H = np.zeros(S.shape[:-1])
        for M, J in self.weights.items():
            H -= math.factorial(len(M) - 1) * J * np.prod(S[..., list(M)], axis=-1)
        return H

    def dense(self, order: int) -> np.ndarray:
        """The symmetric tensor J^(order) (N^order entries; small programs only)."""
        check_positive("order", order, integer=True)
        if self.n**order > 5e7:
            raise ConfigError.bad_value("order", order, f"a tensor of at most 5e7 entries (N = {self.n})")
        import itertools

        T = np.zeros((self.n,) * order)
        for M, J in self.weights.items():
            if len(M) == order:
                for perm in itertools.permutations(M):
                    T[perm] = J
        return T

    def arrays(self):
        """(inc_others (N, K, D-1), inc_coef (N, K), mono_idx (Km, D), mono_coef (Km,)) padded with
        index N (a constant +1 unit); used by the compiled relaxation."""
        return _arrays(self)


def wan_abdullah(program: Program) -> LogicNetwork:
    """Build the weights of ``program`` by Wan Abdullah's method (equation 3)."""
    t0 = time.process_time()
    poly = cost_polynomial(program)
    c0 = poly.pop((), Fraction(0))
    weights = {M: float(-c / math.factorial(len(M) - 1)) for M, c in poly.items()}
    order = max((len(M) for M in weights), default=1)
    return LogicNetwork(program, weights, float(-c0), order, time.process_time() - t0)


def energy_dense(tensors: dict, S):
    """H from dense tensors {m: J^(m)} by the ordered-tuple sums of equation (2) (reference)."""
    S = np.asarray(S, dtype=np.float64)
    H = np.zeros(S.shape[:-1])
    letters = "abcdefgh"
    for m, J in tensors.items():
        idx = letters[:m]
        spec = idx + "," + ",".join(f"z{c}" for c in idx) + "->z"
        H -= np.einsum(spec, J, *([S] * m)) / m
    return H


def hebbian_clause_weights(program: Program) -> dict:
    """Hebbian weights from a rule-governed environment (Sathasivam & Wan Abdullah 2008), per clause:
    J_M += <prod_{i in M} S_i>_{events consistent with the clause} / (m - 1)!, the average taken
    over the 2^k - 1 assignments of the clause's k atoms that satisfy it.

    Derivation: <prod_M S> over the consistent events = -v_M / (2^k - 1) (v: the violating
    assignment), while Wan Abdullah's J_M = -v_M 2^{-k} / (m-1)!; so per clause
    J^WA = (1 - 2^{-k}) J^Hebb: proportional for programs whose clauses all have the same length.
    """
    import itertools

    out: dict = {}
    for clause in program.clauses:
        atoms = [a for a, _ in clause.literals()]
        pos = dict(clause.literals())
        events = [s for s in itertools.product((-1, 1), repeat=len(atoms))
                  if any((s[i] > 0) == pos[a] for i, a in enumerate(atoms))]
        for r in range(1, len(atoms) + 1):
            for sub in itertools.combinations(range(len(atoms)), r):
                corr = Fraction(sum(math.prod(e[i] for i in sub) for e in events), len(events))
                M = tuple(sorted(atoms[i] for i in sub))
                out[M] = out.get(M, 0) + corr / math.factorial(r - 1)
    return {M: float(v) for M, v in out.items() if v != 0}


def _arrays(net: LogicNetwork):
    N = net.n
    D = max(net.order, 1)
    monos = list(net.weights.items())
    mono_idx = np.full((max(len(monos), 1), D), N, dtype=np.int32)
    mono_coef = np.zeros(max(len(monos), 1))
    incidence: list[list[tuple[list[int], float]]] = [[] for _ in range(N)]
    for k, (M, J) in enumerate(monos):
        mono_idx[k, : len(M)] = M
        scaled = math.factorial(len(M) - 1) * J
        mono_coef[k] = -scaled  # H = sum_M c_M prod S, c_M = -(m-1)! J_M
        for i in M:
            incidence[i].append(([j for j in M if j != i], scaled))
    K = max(1, max(len(x) for x in incidence))
    inc_others = np.full((N, K, max(D - 1, 1)), N, dtype=np.int32)
    inc_coef = np.zeros((N, K))
    for i, items in enumerate(incidence):
        for k, (others, c) in enumerate(items):
            inc_others[i, k, : len(others)] = others
            inc_coef[i, k] = c
    return inc_others, inc_coef, mono_idx, mono_coef


# -------------------------------------------------------------------------------------------------
# relaxation (compiled)
# -------------------------------------------------------------------------------------------------
class LogicArrays(NamedTuple):
    inc_others: jax.Array
    inc_coef: jax.Array
    mono_idx: jax.Array
    mono_coef: jax.Array


def stack_networks(nets: list[LogicNetwork]) -> LogicArrays:
    """Pad the arrays of several programs with the same number of atoms to common shapes and stack."""
    arrs = [n.arrays() for n in nets]
    N = nets[0].n
    if any(n.n != N for n in nets):
        raise ConfigError.bad_value("programs", [n.n for n in nets], "programs with the same number of atoms")
    K = max(a[0].shape[1] for a in arrs)
    D1 = max(a[0].shape[2] for a in arrs)
    Km = max(a[2].shape[0] for a in arrs)
    D = max(a[2].shape[1] for a in arrs)
    out = [[], [], [], []]
    for io, ic, mi, mc in arrs:
        o = np.full((N, K, D1), N, np.int32)
        o[:, : io.shape[1], : io.shape[2]] = io
        c = np.zeros((N, K))
        c[:, : ic.shape[1]] = ic
        m = np.full((Km, D), N, np.int32)
        m[: mi.shape[0], : mi.shape[1]] = mi
        mcoef = np.zeros(Km)
        mcoef[: mc.shape[0]] = mc
        for lst, a in zip(out, (o, c, m, mcoef)):
            lst.append(a)
    return LogicArrays(*(jnp.asarray(np.stack(x)) for x in out))


def _ext(S):
    return jnp.concatenate([S, jnp.ones(S.shape[:-1] + (1,), S.dtype)], -1)


def _field_i(arr: LogicArrays, S, i):
    Se = _ext(S)
    return jnp.sum(arr.inc_coef[i] * jnp.prod(Se[arr.inc_others[i]], axis=-1))


def _fields(arr: LogicArrays, S):
    Se = _ext(S)
    return jnp.sum(arr.inc_coef * jnp.prod(Se[arr.inc_others], axis=-1), axis=-1)


def _energy(arr: LogicArrays, S):
    return jnp.sum(arr.mono_coef * jnp.prod(_ext(S)[arr.mono_idx], axis=-1))


def _sweep(arr, S, key, update):
    N = S.shape[-1]
    k_perm, k_upd = jax.random.split(key)

    def body(S, ik):
        i, k = ik
        new = update(_field_i(arr, S, i), S[i], k)
        return S.at[i].set(new), jnp.sign(new) != jnp.sign(S[i])

    S, flips = jax.lax.scan(body, S, (jax.random.permutation(k_perm, N), jax.random.split(k_upd, N)))
    return S, jnp.any(flips)


def _mcp_update(h, s, k):
    return jnp.where(h >= 0, 1.0, -1.0)


def _mcp_to_fixed_point(arr, S, key, max_sweeps):
    def body(c):
        S, k, n, _ = c
        k, sub = jax.random.split(k)
        S, changed = _sweep(arr, S, sub, _mcp_update)
        return S, k, n + 1, changed

    S, _, n, changed = jax.lax.while_loop(lambda c: (c[2] < max_sweeps) & c[3], body,
                                          (S, key, jnp.asarray(0), jnp.asarray(True)))
    return S, n, ~changed


@partial(jax.jit, static_argnames=("method", "anneal_sweeps"))
def _relax_one(arr, S0, key, method, max_sweeps, anneal_sweeps, t_start, t_end, rate):
    """Relax one state of one program; returns (S, sweeps, converged, oscillating, H)."""
    k_anneal, k_mcp = jax.random.split(key)
    S = S0
    n_anneal = 0
    if method in ("boltzmann", "tanh"):
        temps = t_start * (t_end / t_start) ** (jnp.arange(anneal_sweeps) / max(anneal_sweeps - 1, 1))

        if method == "boltzmann":
            def upd(h, s, k, T):
                return jnp.where(jax.random.uniform(k) < jax.nn.sigmoid(2 * rate * h / T), 1.0, -1.0)
        else:
            def upd(h, s, k, T):
                return jnp.tanh(rate * h / T)

        def anneal_step(S, kT):
            k, T = kT
            S, _ = _sweep(arr, S, k, lambda h, s, kk: upd(h, s, kk, T))
            return S, None

        S, _ = jax.lax.scan(anneal_step, S, (jax.random.split(k_anneal, anneal_sweeps), temps))
        S = jnp.where(S >= 0, 1.0, -1.0)
        n_anneal = anneal_sweeps
    if method == "sync":
        def body(c):
            _, S_old, S, n = c
            return S_old, S, jnp.where(_fields(arr, S) >= 0, 1.0, -1.0), n + 1

        def cond(c):
            S_older, S_old, S, n = c
            changed = jnp.any(S != S_old)
            return (n < max_sweeps) & changed & ~jnp.all(S == S_older)

        nan = jnp.full_like(S, jnp.nan)
        S_older, S_old, S, n = jax.lax.while_loop(cond, body, body((nan, nan, S, jnp.asarray(0))))
        changed = jnp.any(S != S_old)
        return S, n, ~changed, changed & jnp.all(S == S_older), _energy(arr, S)
    S, n, conv = _mcp_to_fixed_point(arr, S, k_mcp, max_sweeps)
    return S, n + n_anneal, conv, jnp.asarray(False), _energy(arr, S)


@partial(jax.jit, static_argnames=("method", "anneal_sweeps"))
def _relax_batch(arr, S0, keys, method, max_sweeps, anneal_sweeps, t_start, t_end, rate):
    """arr stacked over programs (P, ...); S0 (P, B, N); keys (P, B)."""
    per_state = jax.vmap(_relax_one, in_axes=(None, 0, 0, None, None, None, None, None, None))
    per_program = jax.vmap(per_state, in_axes=(0, 0, 0, None, None, None, None, None, None))
    return per_program(arr, S0, keys, method, max_sweeps, anneal_sweeps, t_start, t_end, rate)


class LogicRelaxation(NamedTuple):
    S: np.ndarray            # (P, B, N) final states
    H: np.ndarray            # (P, B) final energies
    sweeps: np.ndarray       # (P, B)
    converged: np.ndarray    # (P, B)
    oscillating: np.ndarray  # (P, B)
    seconds: float           # wall time of the (already compiled) relaxation
    cpu_seconds: float       # process CPU time of the same


def relax(nets, S0=None, key=None, *, n_starts: int = 100, method: str = "mcp", max_sweeps: int = 100,
          anneal_sweeps: int = 20, t_start: float = 2.0, t_end: float = 0.05, rate: float = 1.0) -> LogicRelaxation:
    """Relax ``n_starts`` random states (or ``S0`` (P, B, N)) of one or several programs with the same
    number of atoms.  Compilation is done (and excluded from the times) before timing."""
    check_choice("method", method, METHODS)
    check_positive("max_sweeps", max_sweeps, integer=True)
    check_positive("anneal_sweeps", anneal_sweeps, integer=True)
    for name, v in (("t_start", t_start), ("t_end", t_end), ("rate", rate)):
        check_positive(name, v)
    nets = [nets] if isinstance(nets, LogicNetwork) else list(nets)
    arr = stack_networks(nets)
    P, N = len(nets), nets[0].n
    key = jax.random.key(0) if key is None else key
    k_init, k_run = jax.random.split(key)
    if S0 is None:
        check_positive("n_starts", n_starts, integer=True)
        S0 = jnp.where(jax.random.bernoulli(k_init, 0.5, (P, n_starts, N)), 1.0, -1.0)
    S0 = jnp.asarray(S0, dtype=arr.inc_coef.dtype)
    keys = jax.random.split(k_run, S0.shape[:2])
    args = (arr, S0, keys, method, int(max_sweeps), int(anneal_sweeps), t_start, t_end, rate)
    jax.block_until_ready(_relax_batch(*args))  # compile (or hit the cache) outside the timed region
    t0, c0 = time.perf_counter(), time.process_time()
    S, n, conv, osc, H = jax.block_until_ready(_relax_batch(*args))
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    osc = np.asarray(osc)
    if method == "sync" and osc.any():
        warnings.warn(f"synchronous updates: {int(osc.sum())} of {osc.size} relaxations ended in a 2-cycle "
                      "(H is not a Lyapunov function for synchronous updates); use method='mcp'",
                      OscillationWarning, stacklevel=2)
    return LogicRelaxation(np.asarray(S), np.asarray(H), np.asarray(n), np.asarray(conv), osc, seconds, cpu)


def trajectory_energies(nets, S0, key, n_sweeps: int = 5) -> np.ndarray:
    """H after every single asynchronous McCulloch-Pitts update (for the Lyapunov check).

    ``nets``: one network (``S0`` (N,); returns (n_sweeps N + 1,)) or a list of networks with the
    same number of atoms (``S0`` (P, N); returns (P, n_sweeps N + 1)), compiled once.
    """
    single = isinstance(nets, LogicNetwork)
    nets = [nets] if single else list(nets)
    arr = stack_networks(nets)
    S0 = jnp.asarray(S0, dtype=arr.inc_coef.dtype).reshape(len(nets), nets[0].n)
    H = np.asarray(_trajectory_energies(arr, S0, jax.random.split(key, len(nets)), int(n_sweeps)))
    return H[0] if single else H


@partial(jax.jit, static_argnames=("n_sweeps",))
def _trajectory_energies(arr, S0, keys, n_sweeps):
    def one(arr, S0, key):
        def sweep(S, k):
            def body(S, i):
                S = S.at[i].set(jnp.where(_field_i(arr, S, i) >= 0, 1.0, -1.0))
                return S, _energy(arr, S)

            return jax.lax.scan(body, S, jax.random.permutation(k, S.shape[-1]))

        _, H = jax.lax.scan(sweep, S0, jax.random.split(key, n_sweeps))
        return jnp.concatenate([_energy(arr, S0)[None], H.reshape(-1)])

    return jax.vmap(one)(arr, S0, keys)


# -------------------------------------------------------------------------------------------------
# performance measures
# -------------------------------------------------------------------------------------------------
def global_minimum(net: LogicNetwork) -> float:
    """The global minimum of H: the analytic H_min if the program is satisfiable, else exhaustive
    (<= 20 atoms) or a ConfigError."""
    if net.program.satisfiable:
        return net.h_min
    if net.n <= 20:
        return float(net.energy(all_states(net.n)).min())
    raise ConfigError.bad_value("program", f"unsatisfiable, {net.n} atoms",
                                "a satisfiable program (or at most 20 atoms, for an exhaustive minimum)")


def evaluate(nets, key=None, *, n_starts: int = 100, method: str = "mcp", tol: float = GLOBAL_TOL, **relax_kw) -> dict:
    """The measures of this line of work over ``len(nets)`` programs x ``n_starts`` random starts.

    Returns ``global_minima_ratio``, ``hamming_least_model`` (mean over runs), ``hamming_nearest_model``
    (mean distance to the nearest model: exact for <= 16 atoms, else an upper bound, the nearest
    among the least model and the models the runs found), ``hamming_exact`` (whether it is exact),
    ``violations_mean`` (clauses left violated), ``train_cpu_seconds`` (building the weights), ``retrieval_seconds`` and
    ``retrieval_cpu_seconds`` (relaxation, compiled), ``mean_sweeps`` and ``n_runs``.
    """
    nets = [nets] if isinstance(nets, LogicNetwork) else list(nets)
    out = relax(nets, key=key, n_starts=n_starts, method=method, **relax_kw)
    hit, ham_least, ham_near, viol = [], [], [], []
    for p, net in enumerate(nets):
        H_glob = global_minimum(net)
        hit.append(np.abs(out.H[p] - H_glob) <= tol)
        least = net.program.least_model()
        ham_least.append(np.sum(out.S[p] != least[None], -1))
        v = net.program.violations(out.S[p])
        viol.append(v)
        if net.n <= 16:
            models = net.program.models() if net.program.satisfiable else all_states(net.n)[
                np.isclose(net.energy(all_states(net.n)), H_glob)]
        else:  # an upper bound: the nearest among the models the runs found and the least model
            found = out.S[p][v == 0] if net.program.satisfiable else np.zeros((0, net.n))
            models = np.unique(np.concatenate([found, least[None]] if net.program.satisfiable else [found]), axis=0)
        if len(models):
            ham_near.append(np.sum(out.S[p][:, None, :] != models[None], -1).min(1))
    n_runs = out.H.size
    return {
        "global_minima_ratio": float(np.mean(np.concatenate(hit))),
        "hamming_least_model": float(np.mean(np.concatenate(ham_least))),
        "hamming_nearest_model": float(np.mean(np.concatenate(ham_near))) if len(ham_near) == len(nets) else float("nan"),
        "hamming_exact": all(n.n <= 16 for n in nets),
        "violations_mean": float(np.mean(np.concatenate(viol))),
        "train_cpu_seconds": float(sum(n.build_seconds for n in nets)),
        "retrieval_seconds": out.seconds,
        "retrieval_cpu_seconds": out.cpu_seconds,
        "mean_sweeps": float(out.sweeps.mean()),
        "n_runs": int(n_runs),
    }

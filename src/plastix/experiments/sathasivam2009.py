"""Logic programming in Hopfield networks (Wan Abdullah's method; Sathasivam et al. 2009), and the
Hopfield memory it builds on.

What is reproduced (docs/reproductions/sathasivam2009.md):

* **weights** — Wan Abdullah's weights for the worked example C :- A, B.  D :- B.  :- C.
* **exhaustive** — H(S) - H_min equals the number of violated clauses for every interpretation of
  random programs; weights symmetric with zero diagonals; global minima = models.
* **lyapunov** — asynchronous McCulloch-Pitts relaxation never increases H.
* **sizes** — the measures of this line of work (global-minima ratio Z_M, Hamming distance, CPU time)
  for random Horn programs of growing size; relaxation variants (Boltzmann, tanh annealing).
* **hebbian** — Hebbian learning of a rule-governed environment gives weights proportional to Wan
  Abdullah's (uniform clause length).
* **hopfield** — Hopfield memory: recall from corrupted cues, capacity near 0.14 N.

The 2009 paper itself was not available (spec: energy-based.md, B.1): its variant, relaxation
rate, program sizes and numbers are not known, so no number of the paper is compared; the curves
here are measured with the protocol described in the docs page.
"""

from __future__ import annotations


import numpy as np

DESCRIPTION = "Sathasivam et al. 2009: Horn-clause logic programs as higher-order Hopfield energies (Wan Abdullah); Hopfield capacity"

CLAIMS = [
    ("worked-example", "Wan Abdullah's weights for C:-A,B. D:-B. :-C. (J_ABC = 1/16, ...) and H_min = -7/8"),
    ("energy-cost", "H - H_min equals the number of violated clauses for every interpretation (exhaustive)"),
    ("symmetry", "Weight tensors are symmetric under index permutation with zero diagonals"),
    ("minima-models", "Global minima of H are exactly the models of the program"),
    ("lyapunov", "Asynchronous McCulloch-Pitts updates never increase H"),
    ("small-programs", "Global-minima ratio >= 0.9 for small programs (<= 10 atoms, <= 5 clauses), Hamming distance 0 for global runs"),
    ("size-curve", "The global-minima ratio falls as programs grow (measured curve)"),
    ("variants", "Annealed relaxation (Boltzmann / tanh) does not lower the global-minima ratio on small programs"),
    ("hebbian", "Hebbian weights from consistent events are proportional to Wan Abdullah's (uniform clause length)"),
    ("capacity", "Hopfield memory capacity is near 0.14 N for random patterns"),
]

PARTS = ("weights", "exhaustive", "lyapunov", "sizes", "hebbian", "hopfield")
OPTIONS = {"figure": (list(PARTS), "run only this part")}

EXAMPLE = "C :- A, B.\nD :- B.\n:- C.\n"


def run(rep) -> None:
    rep.run_parts(PARTS, lambda part: globals()[f"_{part}"](rep))


def _weights(rep):
    from plastix.energy import logic

    prog = logic.parse_program(EXAMPLE)
    net = logic.wan_abdullah(prog)
    i = {a: prog.index(a) for a in "ABCD"}
    expected = {"ABC": 1 / 16, "AB": -1 / 8, "AC": 1 / 8, "BC": 1 / 8, "BD": 1 / 4,
                "A": -1 / 8, "B": -3 / 8, "C": -3 / 8, "D": 1 / 4}
    rows, worst = [], 0.0
    for name, value in expected.items():
        got = net.weights.get(tuple(sorted(i[a] for a in name)), 0.0)
        worst = max(worst, abs(got - value))
        rows.append(["J_" + name, value, got])
    worst = max(worst, abs(net.h_min + 7 / 8))
    rep.section("Worked example", "Program `C :- A, B.  D :- B.  :- C.` (Sathasivam & Wan Abdullah 2008).  "
                f"H_min = {net.h_min} (expected -7/8); every other weight is 0.")
    rep.table(["weight", "expected", "computed"], rows)
    rep.claim("worked-example", "max |computed - expected| over the weights and H_min", worst, 0.0, "<=")


def _exhaustive(rep):
    import itertools

    from plastix.energy import logic

    rng = np.random.default_rng(0)
    n_programs = 100 if rep.quick else 300
    max_err, sym_bad, minima_bad, sizes = 0.0, 0, 0, []
    for k in range(n_programs):
        n = int(rng.integers(3, 13))
        prog = logic.random_program(rng, n, int(rng.integers(1, 2 * n + 1)))
        net = logic.wan_abdullah(prog)
        S = logic.all_states(n)
        H = net.energy(S)
        violated = prog.violations(S)
        max_err = max(max_err, float(np.abs(H - net.h_min - violated).max()))
        minima_bad += int(np.sum((np.abs(H - net.h_min) <= logic.GLOBAL_TOL) != (violated == 0)))
        sizes.append(n)
        if n <= 7:
            tensors = {m: net.dense(m) for m in range(1, net.order + 1)}
            for m, T in tensors.items():
                sym_bad += sum(int(not np.array_equal(T, np.transpose(T, perm)))
                               for perm in itertools.permutations(range(m)))
                for a, b in itertools.combinations(range(m), 2):
                    idx = np.arange(n)
                    sl = [slice(None)] * m
                    sl[a], sl[b] = idx, idx
                    sym_bad += int(np.any(T[tuple(sl)] != 0))
            max_err = max(max_err, float(np.abs(logic.energy_dense(tensors, S) - H).max()))
    rep.section("Energy = number of violated clauses",
                f"{n_programs} random satisfiable Horn programs, 3-12 atoms, 1 to 2N clauses of length 1-3 (80 % "
                f"definite); all 2^N interpretations each ({sum(2 ** s for s in sizes)} states).  Programs with <= 7 "
                "atoms are also checked through the dense tensors of equation (2).")
    rep.claim("energy-cost", "max |H - H_min - violated clauses| over all states (float64)", max_err, 0.0, "<=")
    rep.claim("symmetry", "tensors not invariant under a permutation, or with a non-zero diagonal (count)", sym_bad, 0, "<=")
    rep.claim("minima-models", "states where 'global minimum' and 'model' disagree (count)", minima_bad, 0, "<=")


def _lyapunov(rep):
    import jax

    from plastix.energy import logic

    rng = np.random.default_rng(1)
    n_programs = 10 if rep.quick else 40
    nets = [logic.wan_abdullah(logic.random_program(rng, 30, 30)) for _ in range(n_programs)]
    S0 = np.where(rng.random((n_programs, 30)) < 0.5, 1.0, -1.0)
    H = logic.trajectory_energies(nets, S0, jax.random.key(0), n_sweeps=5)
    worst, steps = float(np.diff(H, axis=1).max()), H.shape[0] * (H.shape[1] - 1)
    rep.section("Lyapunov", f"{steps} single-unit asynchronous McCulloch-Pitts updates on random 30-atom programs "
                f"(30 clauses): the largest change of H in one update is {worst:.3g}.")
    rep.claim("lyapunov", "largest increase of H in one asynchronous update", worst, 1e-12, "<=")


def _sizes(rep):
    import jax
    import matplotlib.pyplot as plt

    from plastix.energy import logic

    sizes = [10, 20, 40, 80] if rep.quick else [10, 20, 40, 80, 160, 320]
    n_programs = 5 if rep.quick else 20
    n_starts = 100
    rng = np.random.default_rng(2)
    rows, curve = [], {}
    for n in sizes:
        nets = [logic.wan_abdullah(logic.random_program(rng, n, n // 2)) for _ in range(n_programs)]
        m = logic.evaluate(nets, jax.random.key(n), n_starts=n_starts)
        curve[n] = m
        rows.append([n, n // 2, m["global_minima_ratio"], m["hamming_nearest_model"], m["hamming_least_model"],
                     m["violations_mean"], m["train_cpu_seconds"] / n_programs,
                     1e3 * m["retrieval_cpu_seconds"] / m["n_runs"], m["mean_sweeps"]])
    rep.section("Program size",
                f"Random satisfiable Horn programs with N atoms and N/2 clauses (length 1-3, 80 % definite), "
                f"{n_programs} programs x {n_starts} random initial states per size; asynchronous McCulloch-Pitts "
                "relaxation to a fixed point; global minimum: |H - H_min| <= 0.001.  Hamming distance to the nearest "
                "model is exact up to 16 atoms, above that an upper bound (nearest among the least model and the "
                "models the runs found).  CPU: process time to build the weights (per program) and to relax "
                "(compiled, per run).")
    rep.table(["atoms", "clauses", "global-minima ratio", "Hamming to nearest model", "Hamming to least model",
               "violated clauses (mean)", "weights CPU s / program", "relaxation CPU ms / run", "sweeps"], rows)

    # relaxation variants on the small sizes
    var_rows, var = [], {}
    for n in sizes[:2]:
        nets = [logic.wan_abdullah(logic.random_program(np.random.default_rng(100 + n), n, n // 2))
                for _ in range(n_programs)]
        for method in ("mcp", "boltzmann", "tanh"):
            m = logic.evaluate(nets, jax.random.key(7), n_starts=n_starts, method=method, anneal_sweeps=20)
            var[(n, method)] = m["global_minima_ratio"]
            var_rows.append([n, method, m["global_minima_ratio"], m["hamming_nearest_model"],
                             1e3 * m["retrieval_cpu_seconds"] / m["n_runs"]])
    rep.text("Relaxation variants (same programs and starts): `boltzmann` = stochastic asynchronous updates annealed "
             "from T = 2 to 0.05 over 20 sweeps, then McCulloch-Pitts; `tanh` = continuous tanh(h/T) updates on the same "
             "schedule, then sign and McCulloch-Pitts.")
    rep.table(["atoms", "method", "global-minima ratio", "Hamming to nearest model", "relaxation CPU ms / run"], var_rows)

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    ns = np.array(sizes)
    axes[0].plot(ns, [curve[n]["global_minima_ratio"] for n in sizes], "o-")
    axes[0].set(xscale="log", xlabel="atoms N (clauses N/2)", ylabel="global-minima ratio Z_M", ylim=(0, 1.05))
    axes[1].plot(ns, [curve[n]["hamming_nearest_model"] for n in sizes], "o-", label="nearest model")
    axes[1].plot(ns, [curve[n]["violations_mean"] for n in sizes], "s-", label="violated clauses")
    axes[1].set(xscale="log", xlabel="atoms N", ylabel="mean per run")
    axes[1].legend(fontsize=8)
    axes[2].loglog(ns, [1e3 * curve[n]["retrieval_cpu_seconds"] / curve[n]["n_runs"] for n in sizes], "o-",
                   label="relaxation / run")
    axes[2].loglog(ns, [1e3 * curve[n]["train_cpu_seconds"] / n_programs for n in sizes], "s-", label="weights / program")
    axes[2].set(xlabel="atoms N", ylabel="CPU ms")
    axes[2].legend(fontsize=8)
    rep.figure(fig, "logic_sizes.png", "Performance measures against program size (asynchronous McCulloch-Pitts).")
    rep.record("sizes", {str(n): curve[n] for n in sizes})
    rep.record("variants", {f"{n}/{m}": v for (n, m), v in var.items()})

    small = curve[sizes[0]]
    small_ok = small["global_minima_ratio"] >= 0.9
    rep.claim("small-programs", f"Z_M at {sizes[0]} atoms / {sizes[0] // 2} clauses; Hamming to nearest model of "
              "global-minimum runs is 0 by construction (they are models)", small["global_minima_ratio"], 0.9, ">=",
              note="" if small_ok else "local minima of H that violate clauses already at this size")
    z = [curve[n]["global_minima_ratio"] for n in sizes]
    falls = z[-1] < z[0]
    rep.claim("size-curve", f"Z_M at {sizes[0]} atoms vs {sizes[-1]} atoms", {"first": z[0], "last": z[-1]},
              "last < first", holds=falls, note="" if falls else "no decrease over this range of sizes")
    worst = min(var[(n, m)] - var[(n, "mcp")] for n in sizes[:2] for m in ("boltzmann", "tanh"))
    rep.claim("variants", "min over small sizes of Z_M(annealed) - Z_M(McCulloch-Pitts)", worst, -0.05, ">=",
              note="" if worst >= -0.05 else "annealing lost global minima in this run")


def _hebbian(rep):
    from plastix.energy import logic

    rng = np.random.default_rng(3)
    rows, worst = [], 0.0
    for k in (1, 2, 3):
        for _ in range(5):
            n = 8
            clauses = []
            while len(clauses) < 6:
                atoms = rng.choice(n, size=k, replace=False)
                head = int(atoms[0]) if rng.random() < 0.8 else None
                body = tuple(int(a) for a in (atoms[1:] if head is not None else atoms))
                clauses.append(logic.Clause(head, body))
            prog = logic.Program(tuple(f"x{i}" for i in range(n)), tuple(clauses))
            wa, hebb = logic.wan_abdullah(prog).weights, logic.hebbian_clause_weights(prog)
            factor = 1 - 2.0**-k
            dev = max(abs(wa.get(M, 0.0) - factor * hebb.get(M, 0.0)) for M in set(wa) | set(hebb))
            worst = max(worst, dev)
        rows.append([k, factor, worst])
    rep.section("Hebbian learning of a rule-governed environment",
                "Per clause, J_M = <prod_M S> over the 2^k - 1 events consistent with the clause, divided by (m - 1)!.  "
                "Derived: J_WanAbdullah = (1 - 2^-k) J_Hebb for a clause of k literals, so the two agree up to one "
                "factor when all clauses have the same length (checked on 5 random programs of 6 clauses per k).")
    rep.table(["clause length k", "factor 1 - 2^-k", "max |J_WA - factor J_Hebb|"], rows)
    rep.claim("hebbian", "max deviation from J_WA = (1 - 2^-k) J_Hebb (uniform clause length)", worst, 1e-12, "<=")


def _hopfield(rep):
    import warnings

    import jax
    import matplotlib.pyplot as plt

    import plastix.energy as pe
    from plastix.energy.hopfield import OscillationWarning, capacity_curve, critical_load, overlap

    sizes = [200, 400] if rep.quick else [200, 500, 1000]
    loads = [0.05, 0.08, 0.1, 0.12, 0.13, 0.14, 0.15, 0.16, 0.18, 0.2, 0.25]
    n_networks = 2 if rep.quick else 4
    curves = {N: capacity_curve(jax.random.key(N), N, loads, n_networks=n_networks, max_cues=32) for N in sizes}
    a_c = {N: critical_load(c, 0.5) for N, c in curves.items()}
    # finite-size scaling alpha_c(N) = alpha_inf + c / sqrt(N), least squares over the sizes
    slope, alpha_inf = np.polyfit(1 / np.sqrt(sizes), [a_c[n_] for n_ in sizes], 1)
    N = sizes[-1]
    curve = curves[N]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    ax = axes[0]
    ax.plot(curve["load"], curve["mean_overlap"], "o-", label="mean final overlap")
    ax.plot(curve["load"], curve["retrieved_fraction"], "s-", label="retrieved (m >= 0.95)")
    ax.plot(curve["load"], curve["stable_fraction"], "^-", label="stored pattern exactly stable")
    ax.axvline(0.138, color="k", ls=":", lw=0.8, label="0.138 (AGS)")
    ax.set(xlabel="load alpha = P / N", ylabel="fraction / overlap", title=f"Hebbian Hopfield net, N = {N}")
    ax.legend(fontsize=7)
    for n_, c in curves.items():
        axes[1].plot(c["load"], c["retrieved_fraction"], "o-", label=f"N = {n_} (alpha_c = {a_c[n_]:.3f})")
    axes[1].axvline(0.138, color="k", ls=":", lw=0.8)
    axes[1].axhline(0.5, color="k", lw=0.5)
    axes[1].set(xlabel="load alpha", ylabel="retrieved fraction", title="finite-size shift")
    axes[1].legend(fontsize=7)
    rep.section("Hopfield memory: capacity",
                f"Random unbiased patterns, Hebbian weights, asynchronous recall started at each stored pattern (32 "
                f"cues per network, {n_networks} networks per load), N in {sizes}.  Critical load (retrieved fraction "
                "crosses 0.5): " + ", ".join(f"N = {n_}: {a:.3f}" for n_, a in a_c.items()) + f".  A finite-size fit "
                f"alpha_c(N) = alpha_inf + c / sqrt(N) gives alpha_inf = {alpha_inf:.3f} (c = {slope:.2f}).  The table "
                f"is the largest N.")
    rep.table(["load", "patterns", "mean overlap", "retrieved fraction", "exactly stable fraction"],
              [[float(a), int(p), float(m), float(r), float(s)] for a, p, m, r, s in
               zip(curve["load"], curve["n_patterns"], curve["mean_overlap"], curve["retrieved_fraction"],
                   curve["stable_fraction"])])
    rep.figure(fig, "hopfield_capacity.png", "Retrieval against load; the classical large-N estimate is alpha_c ~ 0.138 "
               "(Amit, Gutfreund & Sompolinsky 1985); finite networks retrieve a little beyond it.")
    rows = []
    key = jax.random.key(1)
    for alpha in (0.05, 0.1):
        P = int(alpha * N)
        key, k1, k2, k3 = jax.random.split(key, 4)
        xi = pe.random_patterns(k1, P, N)
        W = pe.hebbian_weights(xi)
        for flip in (0.1, 0.2, 0.3):
            cue = pe.corrupt(k2, xi, flip)
            a = pe.recall(W, cue, k3, mode="async")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", OscillationWarning)  # counted in the table instead
                s = pe.recall(W, cue, mode="sync")
            rows.append([alpha, flip, float(overlap(a.S, xi).mean()), float(overlap(s.S, xi).mean()),
                         float(s.oscillating.mean())])
    rep.text("Recall from corrupted cues (mean final overlap with the stored pattern; synchronous updates may end in "
             "2-cycles, which the library reports with a warning):")
    rep.table(["load", "flipped fraction", "overlap (async)", "overlap (sync)", "sync 2-cycles"], rows)
    rep.record("capacity", {str(n_): {k: v.tolist() for k, v in c.items()} for n_, c in curves.items()}
               | {"critical_load": {str(n_): a for n_, a in a_c.items()}, "alpha_inf": float(alpha_inf)})
    vals = [a_c[n_] for n_ in sizes]
    ok = 0.11 <= alpha_inf <= 0.17 and all(b <= a + 0.01 for a, b in zip(vals, vals[1:]))
    rep.claim("capacity", f"critical load at N = {sizes} and its extrapolation alpha_inf (fit alpha_inf + c/sqrt(N))",
              {**{str(n_): a for n_, a in a_c.items()}, "alpha_inf": float(alpha_inf)},
              "alpha_inf in [0.11, 0.17] (0.138 theory); alpha_c(N) not growing with N", holds=ok,
              note="" if ok else "see the capacity table: the finite-size transition did not behave as expected")

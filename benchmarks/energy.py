"""Speed of the energy-based rules and relaxations, measured side by side in one run.

    python benchmarks/energy.py [--reps 20] [--out results.json]

* one minibatch gradient on digits (64-128-10, batch 20), jitted, compile excluded, median of
  ``reps`` calls: EqProp (paper recipe: 20 free / 4 nudged steps), EqProp relaxed to convergence,
  contrastive learning (soft clamp, logistic), CHL, recurrent backprop, and backprop through the
  feedforward network of the same size; cost relative to backprop;
* a free-phase relaxation (same network, 100 steps, batch 20 and the whole training set) compiled
  with JAX against the same iteration written as a NumPy loop;
* logic programs: asynchronous McCulloch-Pitts relaxation of 100 random starts x 5 programs of 40
  atoms (compiled, vmapped) against a Python/NumPy loop over units (same updates), per run;
* Hopfield recall (N = 500, 32 cues, asynchronous) compiled vs a NumPy loop, per cue.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from plastix.bench import median_seconds


def time_numpy(fn, reps: int) -> float:
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def bench_rules(reps):
    import plastix.energy as pe

    data = pe.digits()
    x, y = jnp.asarray(data.x_train[:20]), jnp.asarray(data.y_train[:20])
    hs = pe.FixedPointNet((64, 128, 10), activation="hard_sigmoid", max_iter=100, tol=1e-3)
    log = pe.FixedPointNet((64, 128, 10), activation="logistic", max_iter=100, tol=1e-3)
    rules = {
        "backprop MLP": pe.MLP((64, 128, 10), activation="hard_sigmoid"),
        "EqProp 20/4 steps": pe.eqprop(hs, beta=0.5, sign="+", free_iter=20, teacher_iter=4, tol=0.0),
        "EqProp converged": pe.eqprop(hs, beta=0.5, sign="+"),
        "CL soft clamp (logistic)": pe.baldi_pineda(log, "soft_clamp", 1.0),
        "CHL (logistic)": pe.chl(log),
        "recurrent backprop": pe.RecurrentBackprop(hs),
    }
    params = hs.init(jax.random.key(0))
    out = {}
    for name, rule in rules.items():
        fn = jax.jit(lambda p, rule=rule: rule.grads(p, x, y, jax.random.key(1)))
        _, m = fn(params)
        iters = {k: int(v) for k, v in m.items() if k.endswith("_iter")}
        out[name] = {"us": median_seconds(lambda p, fn=fn: fn(p)[0], params, reps=reps) * 1e6, "iterations": iters}
    base = out["backprop MLP"]["us"]
    for v in out.values():
        v["relative"] = v["us"] / base
    return out


def bench_relaxation(reps):
    import plastix.energy as pe

    net = pe.FixedPointNet((64, 128, 10), activation="hard_sigmoid", max_iter=100, tol=0.0)
    p = net.init(jax.random.key(0))
    data = pe.digits()
    W0, W1 = (np.asarray(w, np.float32) for w in p["W"])
    b0, b1 = (np.asarray(b, np.float32) for b in p["b"])
    free = jax.jit(lambda q, x: net.free_phase(q, x).V)
    out = {}
    for B in (20, 1347):
        x = jnp.asarray(data.x_train[:B])
        jax_us = median_seconds(free, p, x, reps=reps) * 1e6
        xn = np.asarray(x)

        def numpy_relax():
            h = np.zeros((B, 128), np.float32)
            o = np.zeros((B, 10), np.float32)
            for _ in range(100):
                fh = xn @ W0 + o @ W1.T + b0
                fo = h @ W1 + b1
                h = np.clip(h + 0.5 * (fh - h), 0, 1)
                o = np.clip(o + 0.5 * (fo - o), 0, 1)
            return h

        np_us = time_numpy(numpy_relax, max(3, reps // 3)) * 1e6
        out[f"batch {B}"] = {"jax_us": jax_us, "numpy_us": np_us, "speedup": np_us / jax_us}
    return out


def bench_logic(reps):
    from plastix.energy import horn, logic

    rng = np.random.default_rng(0)
    nets = [logic.wan_abdullah(horn.random_program(rng, 40, 20)) for _ in range(5)]
    out = logic.relax(nets, key=jax.random.key(0), n_starts=100)  # compiled, then timed inside
    jax_us = min(logic.relax(nets, key=jax.random.key(i), n_starts=100).seconds for i in range(max(3, reps // 5)))
    jax_us = jax_us * 1e6 / out.H.size

    net = nets[0]
    inc_others, inc_coef, _, _ = net.arrays()

    def numpy_run(S):
        S = np.append(S.copy(), 1.0)
        for _ in range(100):
            changed = False
            for i in rng.permutation(net.n):
                h = float(np.sum(inc_coef[i] * np.prod(S[inc_others[i]], axis=-1)))
                new = 1.0 if h >= 0 else -1.0
                changed |= new != S[i]
                S[i] = new
            if not changed:
                break
        return S

    starts = np.where(rng.random((20, net.n)) < 0.5, 1.0, -1.0)
    np_us = time_numpy(lambda: [numpy_run(s) for s in starts], max(1, reps // 5)) * 1e6 / len(starts)
    return {"jax_us_per_run": jax_us, "numpy_us_per_run": np_us, "speedup": np_us / jax_us}


def bench_hopfield(reps):
    from plastix.energy import hopfield
    from plastix.energy.data import random_patterns

    N, P = 500, 50
    xi = random_patterns(jax.random.key(0), P, N)
    W = hopfield.hebbian_weights(xi)
    cues = xi[:32]
    jax_us = median_seconds(lambda c: hopfield.recall(W, c, jax.random.key(1)).S, cues, reps=max(3, reps // 4)) * 1e6 / 32
    Wn, cn = np.asarray(W), np.asarray(cues)
    rng = np.random.default_rng(0)

    def numpy_recall():
        for S in cn.copy():
            for _ in range(100):
                changed = False
                for i in rng.permutation(N):
                    h = Wn[i] @ S
                    new = S[i] if h == 0 else np.sign(h)
                    changed |= new != S[i]
                    S[i] = new
                if not changed:
                    break

    np_us = time_numpy(numpy_recall, 1) * 1e6 / 32
    return {"jax_us_per_cue": jax_us, "numpy_us_per_cue": np_us, "speedup": np_us / jax_us}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--out", type=str, default=None)
    args = parser.parse_args()
    results = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "jax": jax.__version__,
                    "device": str(jax.devices()[0]), "load_average": os.getloadavg()},
        "date": time.strftime("%Y-%m-%d"),
        "rules_digits_batch20": bench_rules(args.reps),
        "free_relaxation_100_steps": bench_relaxation(args.reps),
        "logic_mcp_40_atoms": bench_logic(args.reps),
        "hopfield_recall_N500": bench_hopfield(args.reps),
    }
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        from plastix.runs import write_text

        write_text(args.out, text + "\n")


if __name__ == "__main__":
    main()

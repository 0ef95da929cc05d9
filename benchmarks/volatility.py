"""Speed of the stochasticity-volatility particle filter: JAX (compiled, vmapped) vs a NumPy loop.

Measures, side by side in one run:

* JAX: ``StochasticityVolatilityFilter(100).run`` compiled and ``vmap``-ed over R runs of T trials
  (default R = 1000, T = 1000): compile time, then the best of ``--repeats`` timed runs;
* the same with ``sampler="jax"`` (``jax.random.beta``) on fewer runs, to show what the
  counter-based sampler buys;
* NumPy: :func:`plastix.volatility.reference.particle_filter`, the same filter as a Python loop
  over trials (vectorised over particles, NumPy's Beta sampler), on ``--numpy-runs`` runs;
  per-run time, extrapolated to R runs.

Usage::

    python benchmarks/volatility.py                 # R = 1000 runs x T = 1000 trials
    python benchmarks/volatility.py --quick         # R = 100, T = 200
    python benchmarks/volatility.py --out results.json
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import time

import jax
import numpy as np

from plastix.volatility import StochasticityVolatilityFilter, StoVolParams, reference
from plastix.volatility.environments import random_walk

PARAMS = StoVolParams(0.1, 0.1, 1.0, 2.0, 100.0)


def outcomes(n_runs, n_trials, seed=0):
    keys = jax.random.split(jax.random.key(seed), n_runs)
    return jax.vmap(lambda k: random_walk(k, n_trials, 1.5, 3.0).observations)(keys)


def time_jax(filt, obs, repeats):
    fn = jax.jit(jax.vmap(lambda o, k: filt.run(PARAMS, o, k).learning_rate))
    keys = jax.random.split(jax.random.key(1), obs.shape[0])
    start = time.perf_counter()
    compiled = fn.lower(obs, keys).compile()
    compile_s = time.perf_counter() - start
    times = []
    for r in range(repeats):
        keys = jax.random.split(jax.random.key(2 + r), obs.shape[0])
        start = time.perf_counter()
        jax.block_until_ready(compiled(obs, keys))
        times.append(time.perf_counter() - start)
    return compile_s, min(times)


def time_numpy(obs, n_particles):
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for o in obs:
        reference.particle_filter(o, *PARAMS, n_particles=n_particles, rng=rng)
    return (time.perf_counter() - start) / len(obs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--particles", type=int, default=100)
    parser.add_argument("--numpy-runs", type=int, default=10)
    parser.add_argument("--jax-sampler-runs", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=str, default=None)
    args = parser.parse_args()
    if args.quick:
        args.runs, args.trials, args.numpy_runs, args.jax_sampler_runs = 100, 200, 5, 20

    obs = outcomes(args.runs, args.trials)
    filt = StochasticityVolatilityFilter(args.particles)
    compile_s, jax_s = time_jax(filt, obs, args.repeats)
    slow = StochasticityVolatilityFilter(args.particles, sampler="jax")
    slow_compile_s, slow_s = time_jax(slow, obs[: args.jax_sampler_runs], 1)
    numpy_per_run = time_numpy(np.asarray(obs[: args.numpy_runs], dtype=np.float64), args.particles)

    steps = args.runs * args.trials * args.particles
    result = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "load_average": os.getloadavg(),
        "jax": jax.__version__, "numpy": np.__version__, "backend": jax.default_backend(),
        "runs": args.runs, "trials": args.trials, "particles": args.particles,
        "jax_compile_s": compile_s,
        "jax_run_s": jax_s,
        "jax_per_run_ms": 1e3 * jax_s / args.runs,
        "jax_ns_per_particle_step": 1e9 * jax_s / steps,
        "jax_random_beta_sampler_per_run_ms": 1e3 * slow_s / args.jax_sampler_runs,
        "jax_random_beta_sampler_compile_s": slow_compile_s,
        "numpy_per_run_ms": 1e3 * numpy_per_run,
        "numpy_runs_timed": args.numpy_runs,
        "numpy_extrapolated_s": numpy_per_run * args.runs,
        "speedup_vs_numpy": numpy_per_run * args.runs / jax_s,
    }
    print(json.dumps(result, indent=2))
    print()
    print(f"| implementation | per run ({args.trials} trials, {args.particles} particles) | {args.runs} runs |")
    print("|---|---|---|")
    print(f"| JAX, compiled + vmap ({args.runs} runs at once) | {result['jax_per_run_ms']:.2f} ms | {jax_s:.1f} s (+ {compile_s:.1f} s compile) |")
    print(f"| JAX with jax.random.beta ({args.jax_sampler_runs} runs at once) | {result['jax_random_beta_sampler_per_run_ms']:.2f} ms | "
          f"~{result['jax_random_beta_sampler_per_run_ms'] * args.runs / 1e3:.0f} s (extrapolated) |")
    print(f"| NumPy loop over trials ({args.numpy_runs} runs timed) | {result['numpy_per_run_ms']:.1f} ms | "
          f"~{result['numpy_extrapolated_s']:.0f} s (extrapolated) |")
    print(f"\nspeed-up of compiled JAX over the NumPy loop: {result['speedup_vs_numpy']:.1f}x")
    if args.out:
        from plastix.runs import write_json

        write_json(args.out, result)


if __name__ == "__main__":
    main()

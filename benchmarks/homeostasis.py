"""Speed of plastix.homeostasis beside plain NumPy: spiking trials and per-unit RLS.

1. One trial of the default E/I network (400 E + 100 I, 300 ms at dt = 0.5 ms): the plain NumPy
   loop over time steps (``benchmarks/references/numpy_homeostasis.py``), the compiled JAX trial
   (``lax.scan``), and B trials side by side (``vmap``).  Reported as trials per second.
2. One innate-training RLS update of every plastic unit (Laje & Buonomano's network: 480 plastic
   units with their own P over ≈80–110 presynaptic inputs): a Python loop over units with NumPy
   (the way the published reimplementations do it) against the batched, padded ``vmap`` update.
3. One homeostatic training trial (simulate + PSD update), compiled, in trials per second.

Timings exclude compilation (reported separately) and are the best of several runs, wall-clock
and process CPU time.  On a shared machine wall-clock depends on the load (recorded).

    python benchmarks/homeostasis.py [--quick] [--out results.json]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from plastix.bench import best_seconds
from plastix.homeostasis import (EINetwork, PSDScaling, RateNetwork, init_averages, innate, make_trainer,
                                 rls_update_per_unit)

sys.path.insert(0, str(Path(__file__).resolve().parent / "references"))  # the NumPy baseline, from any working folder
from numpy_homeostasis import simulate_numpy  # noqa: E402


def compile_time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and smaller batches")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args()
    repeats = 2 if args.quick else 4
    batch = 16 if args.quick else 64

    results = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, {platform.system()}",
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "jax": jax.__version__, "backend": jax.default_backend(), "numpy": np.__version__,
    }

    # -- 1. spiking trials ---------------------------------------------------------------------
    net = EINetwork()
    params = net.init(jax.random.key(0))
    params["w_ee"] = params["w_ee"] * 20.0  # an active network (as after training), not a silent one
    noise = np.random.default_rng(0).normal(size=(net.n_steps, net.n))
    one = jax.jit(lambda p, k: net.simulate(p, k).spikes)
    many = jax.jit(net.simulate_batch)
    keys = jax.random.split(jax.random.key(1), batch)
    c_one = compile_time(lambda: one(params, keys[0]).block_until_ready())
    c_many = compile_time(lambda: many(params, keys).block_until_ready())
    np_wall, np_cpu = best_seconds(lambda: simulate_numpy(net, params, noise), max(1, repeats - 1))
    one_wall, one_cpu = best_seconds(lambda: one(params, keys[0]).block_until_ready(), repeats)
    many_wall, many_cpu = best_seconds(lambda: many(params, keys).block_until_ready(), repeats)
    results["spiking_trial"] = {
        "network": f"{net.n_exc} E + {net.n_inh} I, {net.n_steps} steps", "batch": batch,
        "numpy_trials_per_s": 1 / np_wall, "jax_trials_per_s": 1 / one_wall, "jax_vmap_trials_per_s": batch / many_wall,
        "numpy_cpu_s_per_trial": np_cpu, "jax_cpu_s_per_trial": one_cpu, "jax_vmap_cpu_s_per_trial": many_cpu / batch,
        "compile_s": {"single": c_one, "vmap": c_many},
    }

    # -- 2. per-unit RLS (innate training) ------------------------------------------------------
    rnet = RateNetwork()
    rparams = rnet.init(jax.random.key(2))
    units, presyn = innate.plastic_structure(rparams, int(0.6 * rnet.n))
    U, K = presyn.shape
    r = np.tanh(np.random.default_rng(1).normal(size=rnet.n)).astype(np.float32)
    features = jnp.asarray(np.concatenate([r, [0.0]])[np.asarray(presyn)])
    P = innate.recurrent_init(innate.InnateRLS(), presyn)
    w = jnp.zeros((U, K))
    err = jnp.asarray(np.random.default_rng(2).normal(size=U).astype(np.float32) * 0.01)
    step = jax.jit(rls_update_per_unit)
    c_rls = compile_time(lambda: jax.block_until_ready(step(P, w, features, err)))
    jax_wall, jax_cpu = best_seconds(lambda: jax.block_until_ready(step(P, w, features, err)), repeats * 3)

    partners = [np.flatnonzero(np.asarray(rparams["w_rec"])[i]) for i in range(U)]
    P_np = [np.eye(len(p), dtype=np.float32) for p in partners]
    W_np = np.zeros((U, rnet.n), np.float32)
    e_np = np.asarray(err)

    def numpy_rls():
        for i, p in enumerate(partners):
            rp = r[p]
            Pr = P_np[i] @ rp
            c = 1.0 + rp @ Pr
            P_np[i] -= np.outer(Pr, Pr) / c
            W_np[i, p] -= e_np[i] * Pr / c

    np_rls_wall, np_rls_cpu = best_seconds(numpy_rls, repeats)
    results["innate_rls_update"] = {
        "plastic_units": U, "padded_inputs": K,
        "numpy_loop_updates_per_s": 1 / np_rls_wall, "jax_vmap_updates_per_s": 1 / jax_wall,
        "numpy_cpu_ms": 1e3 * np_rls_cpu, "jax_cpu_ms": 1e3 * jax_cpu, "compile_s": c_rls,
    }

    # -- 3. homeostatic training throughput -----------------------------------------------------
    net = EINetwork()
    params = net.init(jax.random.key(0))
    train = make_trainer(net, {"w_ee": PSDScaling(rate=0.03, target=1.0, w_max=0.8),
                               "w_ie": PSDScaling(rate=0.03, target=2.0, w_max=1.0)})
    n_trials = 20 if args.quick else 100
    c_train = compile_time(lambda: jax.block_until_ready(train(params, init_averages(net), jax.random.key(3), n_trials)))
    tr_wall, tr_cpu = best_seconds(lambda: jax.block_until_ready(train(params, init_averages(net), jax.random.key(3), n_trials)),
                                max(1, repeats - 1))
    results["psd_training"] = {"trials": n_trials, "trials_per_s": n_trials / tr_wall,
                               "cpu_s_per_trial": tr_cpu / n_trials, "compile_s": c_train}

    s, i, t = results["spiking_trial"], results["innate_rls_update"], results["psd_training"]
    print(f"plastix.homeostasis benchmarks, {results['machine']}, load {results['load_average']}, {results['date']}")
    print("| measurement | NumPy loop | plastix (JAX) | wall speed-up | CPU s (NumPy / JAX) | CPU-time ratio | JAX compile (s) |")
    print("|---|---|---|---|---|---|---|")
    rows = [
        (f"E/I trial ({s['network']}), trials/s, one at a time", s["numpy_trials_per_s"], s["jax_trials_per_s"],
         s["numpy_cpu_s_per_trial"], s["jax_cpu_s_per_trial"], s["compile_s"]["single"]),
        (f"E/I trials, {batch} side by side (vmap), trials/s", s["numpy_trials_per_s"], s["jax_vmap_trials_per_s"],
         s["numpy_cpu_s_per_trial"], s["jax_vmap_cpu_s_per_trial"], s["compile_s"]["vmap"]),
        (f"innate RLS, all {U} plastic units (K = {K}), updates/s", i["numpy_loop_updates_per_s"],
         i["jax_vmap_updates_per_s"], i["numpy_cpu_ms"] / 1e3, i["jax_cpu_ms"] / 1e3, c_rls),
    ]
    for name, numpy_rate, jax_rate, numpy_cpu, jax_cpu, comp in rows:
        print(f"| {name} | {numpy_rate:.2f} | {jax_rate:.1f} | {jax_rate / numpy_rate:.1f}× | {numpy_cpu:.4f} / {jax_cpu:.4f} | "
              f"{numpy_cpu / jax_cpu:.1f}× | {comp:.1f} |")
    print(f"| PSD training (trial + PSD update), trials/s | – | {t['trials_per_s']:.1f} | – | – / {t['cpu_s_per_trial']:.4f} | – | "
          f"{c_train:.1f} |")
    if args.out:
        from plastix.runs import write_json

        write_json(args.out, results)


if __name__ == "__main__":
    main()

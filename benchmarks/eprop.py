"""e-prop speed and memory, side by side with BPTT on the same network (not a test).

    python benchmarks/eprop.py [--quick] [--out results.json]

1. One training iteration of the pattern-generation task of Bellec et al. 2020 (100 frozen
   Poisson inputs, 100 LIF neurons, 1 leaky readout, 1000 steps of 1 ms, batch 1, SGD): e-prop
   (random feedback, rate regularisation — the reference tutorial's setting) against BPTT with
   the same surrogate.  Timed (a) as one jitted iteration (gradient + optax update), min and
   median over repetitions, wall clock and process CPU time, and (b) per iteration inside a
   compiled chunk of training iterations (``lax.scan`` over trials, as in ``Trainer``).  Reference: NEST 3.10's
   ``eprop_iaf_bsshslm_2020`` takes about 0.11 s per iteration of this task on one thread.
2. Memory against trial length: XLA's buffer plan (``compiled.memory_analysis()``, temporary
   bytes, arguments excluded) for T = 10³ and 10⁵, e-prop and BPTT; e-prop is also run at
   T = 10⁵ once.
3. (not with --quick) One iteration of the evidence-accumulation network (40 inputs, 50 LIF +
   50 ALIF, batch 64, 2250 steps).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from plastix.models.spiking import SpikingRNN
from plastix.rules.bptt import BPTT
from plastix.rules.eprop import EProp
from plastix.tasks.base import Trial
from plastix.tasks.pattern_generation import PatternGeneration

NEST_SECONDS_PER_ITERATION = 0.11
PATTERN_MODEL = dict(tau_m=30.0, tau_out=30.0, v_th=0.03, n_ref=0, zeta="1-alpha", beta=0.0, n_adaptive=0)


def time_step(rule, model, trial, reps):
    """Wall and CPU seconds of one jitted iteration (gradient + SGD update), min and median."""
    params = model.init(jax.random.key(0))
    rule_state = rule.init(params, jax.random.key(1))
    opt = optax.sgd(0.1)
    opt_state = opt.init(params)

    @jax.jit
    def iteration(params, opt_state):
        grads, _ = rule.trial_grads(params, trial, jax.random.key(0), rule_state)
        updates, opt_state = opt.update(grads, opt_state, params)
        return model.constrain(optax.apply_updates(params, updates)), opt_state

    jax.block_until_ready(iteration(params, opt_state))
    wall, cpu = [], []
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        params, opt_state = jax.block_until_ready(iteration(params, opt_state))
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return {"wall_min": min(wall), "wall_median": float(np.median(wall)), "cpu_min": min(cpu),
            "cpu_median": float(np.median(cpu))}


def time_in_training_scan(rule, model, task, iterations):
    """Seconds per iteration when a chunk of iterations runs as one compiled scan over trials
    (sampling, gradient, optax update; one network on a vmapped seed axis, as ``Trainer`` does)."""
    params = model.init(jax.random.key(0))
    rule_state = rule.init(params, jax.random.key(1))
    opt = optax.sgd(0.1)

    def body(carry, i):
        params, opt_state = carry
        trial = task.sample(jax.random.fold_in(jax.random.key(2), i), 1)
        grads, _ = rule.trial_grads(params, trial, jax.random.key(0), rule_state)
        updates, opt_state = opt.update(grads, opt_state, params)
        return (model.constrain(optax.apply_updates(params, updates)), opt_state), None

    chunk = jax.jit(jax.vmap(lambda p, o: jax.lax.scan(body, (p, o), jnp.arange(iterations))[0]))
    seeds = jax.tree_util.tree_map(lambda a: a[None], (params, opt.init(params)))
    jax.block_until_ready(chunk(*seeds))  # compile
    t0, c0 = time.perf_counter(), time.process_time()
    jax.block_until_ready(chunk(*seeds))
    return {"wall": (time.perf_counter() - t0) / iterations, "cpu": (time.process_time() - c0) / iterations}


def temp_bytes(rule, model, n_steps):
    params = model.init(jax.random.key(0))
    rule_state = rule.init(params, jax.random.key(1))
    x = jnp.zeros((n_steps, 1, model.n_in))
    y = jnp.zeros((n_steps, 1, model.n_out))
    f = jax.jit(lambda p, t: rule.trial_grads(p, t, jax.random.key(0), rule_state)[0])
    return f.lower(params, Trial(x, y, y)).compile().memory_analysis().temp_size_in_bytes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, skip the evidence network")
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args(argv)
    reps = 10 if args.quick else 30

    machine = {
        "platform": platform.platform(), "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(), "jax": jax.__version__, "device": str(jax.devices()[0]),
        "load_average_at_start": os.getloadavg(), "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    results = {"machine": machine}

    task = PatternGeneration()
    model = SpikingRNN(n_in=100, n_rec=100, n_out=1, **PATTERN_MODEL)
    trial = task.sample(jax.random.key(0), 1)
    rules = {"e-prop": EProp(model, feedback="random", reg_rate=0.3), "BPTT": BPTT(model)}
    speed = {}
    for name, rule in rules.items():
        speed[name] = {"step": time_step(rule, model, trial, reps),
                       "trainer": time_in_training_scan(rule, model, task, 50 if args.quick else 200)}
    results["pattern_generation_iteration"] = speed

    memory = {name: {T: temp_bytes(rule, model, T) for T in (1_000, 100_000)} for name, rule in rules.items()}
    long_task = PatternGeneration(duration=100_000)
    long_trial = long_task.sample(jax.random.key(0), 1)
    long_rule = rules["e-prop"]
    f = jax.jit(lambda p: long_rule.trial_grads(p, long_trial, jax.random.key(0), long_rule.init(p, jax.random.key(1)))[0])
    params = model.init(jax.random.key(0))
    jax.block_until_ready(f(params))
    t0 = time.perf_counter()
    jax.block_until_ready(f(params))
    memory["e-prop T=1e5 run seconds"] = time.perf_counter() - t0
    results["memory_temp_bytes"] = memory

    if not args.quick:
        from plastix.models.spiking import ALIF
        from plastix.tasks.cue_accumulation import CueAccumulation

        cue = CueAccumulation()
        alif = ALIF(n_in=40, n_rec=100, n_out=2, readout_scale="1")
        cue_trial = cue.sample(jax.random.key(0), 64)
        results["evidence_iteration"] = {
            name: time_step(rule, alif, cue_trial, 3)
            for name, rule in {"e-prop": EProp(alif, loss="xent", reg_rate=0.1), "BPTT": BPTT(alif, loss="xent")}.items()
        }

    print(f"machine: {machine['processor']}, {machine['cpus']} CPUs, load average {machine['load_average_at_start']}")
    print("\npattern generation, one training iteration (100 in, 100 LIF, 1 out, T = 1000, batch 1):")
    print("| rule | jitted step, wall min | wall median | CPU min | in a training scan (wall / CPU) | NEST / plastix (CPU min) |")
    print("|---|---|---|---|---|---|")
    for name, s in speed.items():
        st, tr = s["step"], s["trainer"]
        print(f"| {name} | {st['wall_min'] * 1e3:.2f} ms | {st['wall_median'] * 1e3:.2f} ms | {st['cpu_min'] * 1e3:.2f} ms "
              f"| {tr['wall'] * 1e3:.2f} / {tr['cpu'] * 1e3:.2f} ms | {NEST_SECONDS_PER_ITERATION / st['cpu_min']:.0f}× |")
    print("\nworking memory (XLA temporary buffers), by trial length:")
    print("| rule | T = 10³ | T = 10⁵ |")
    print("|---|---|---|")
    for name in rules:
        m = memory[name]
        print(f"| {name} | {m[1_000] / 1e6:.2f} MB | {m[100_000] / 1e6:.2f} MB |")
    print(f"\ne-prop at T = 10⁵: {memory['e-prop T=1e5 run seconds']:.2f} s for one trial")
    if "evidence_iteration" in results:
        print("\nevidence accumulation, one iteration (batch 64, 2250 steps, 50 LIF + 50 ALIF):")
        for name, st in results["evidence_iteration"].items():
            print(f"  {name}: wall min {st['wall_min']:.2f} s, CPU min {st['cpu_min']:.2f} s")
    if args.out:
        from plastix.runs import write_json

        write_json(args.out, results)
    return results


if __name__ == "__main__":
    sys.exit(main() and 0)

"""``plastix bench eprop``: e-prop against BPTT on the same spiking network (speed, memory).

1. One training iteration of the pattern-generation task of Bellec et al. 2020 (100 frozen
   Poisson inputs, 100 LIF neurons, 1 leaky readout, 1000 steps of 1 ms, batch 1, SGD): e-prop
   (random feedback, rate regularisation — the reference tutorial's setting) against BPTT with
   the same surrogate.  Timed (a) as one jitted iteration (gradient + optax update), min and
   median over repetitions, wall clock and process CPU time, and (b) per iteration inside a
   compiled chunk of training iterations (``lax.scan`` over trials, as in ``Trainer``).
   Reference: NEST 3.10's ``eprop_iaf_bsshslm_2020`` takes about 0.11 s per iteration of this
   task on one thread.
2. Working memory against trial length: XLA's buffer plan (``compiled.memory_analysis()``,
   temporary bytes, arguments excluded) for T = 10³ and 10⁵, e-prop and BPTT; e-prop is also
   run once at T = 10⁵.
3. (not with ``quick``) One iteration of the evidence-accumulation network (40 inputs, 50 LIF +
   50 ALIF, batch 64, 2250 steps).
"""

from __future__ import annotations

import os
import platform
import time

import numpy as np

NEST_SECONDS_PER_ITERATION = 0.11
PATTERN_MODEL = dict(tau_m=30.0, tau_out=30.0, v_th=0.03, n_ref=0, zeta="1-alpha", beta=0.0, n_adaptive=0)


def time_step(rule, model, trial, reps: int) -> dict:
    """Wall and CPU seconds of one jitted iteration (gradient + SGD update), min and median."""
    import jax
    import optax

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


def time_in_training_scan(rule, model, task, iterations: int) -> dict:
    """Seconds per iteration when a chunk of iterations runs as one compiled scan over trials
    (sampling, gradient, optax update; one network on a vmapped seed axis, as ``Trainer`` does)."""
    import jax
    import jax.numpy as jnp
    import optax

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


def temp_bytes(rule, model, n_steps: int) -> int:
    """XLA temporary bytes of one compiled whole-trial gradient (batch 1)."""
    import jax
    import jax.numpy as jnp

    from .tasks.base import Trial

    params = model.init(jax.random.key(0))
    rule_state = rule.init(params, jax.random.key(1))
    x = jnp.zeros((n_steps, 1, model.n_in))
    y = jnp.zeros((n_steps, 1, model.n_out))
    f = jax.jit(lambda p, t: rule.trial_grads(p, t, jax.random.key(0), rule_state)[0])
    return int(f.lower(params, Trial(x, y, y)).compile().memory_analysis().temp_size_in_bytes)


def run_eprop_suite(quick: bool = False, log=print) -> dict:
    import jax

    from .models.spiking import ALIF, SpikingRNN
    from .rules.bptt import BPTT
    from .rules.eprop import EProp
    from .tasks.cue_accumulation import CueAccumulation
    from .tasks.pattern_generation import PatternGeneration

    reps = 10 if quick else 30
    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
        "load_average_at_start": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "jax": jax.__version__,
        "backend": jax.default_backend(),
    }
    task = PatternGeneration()
    model = SpikingRNN(n_in=100, n_rec=100, n_out=1, **PATTERN_MODEL)
    trial = task.sample(jax.random.key(0), 1)
    rules = {"e-prop": EProp(model, feedback="random", reg_rate=0.3), "BPTT": BPTT(model)}
    speed = {}
    for name, rule in rules.items():
        speed[name] = {"step": time_step(rule, model, trial, reps),
                       "trainer": time_in_training_scan(rule, model, task, 50 if quick else 200)}
        log({name: speed[name]})
    results["pattern_generation_iteration"] = speed

    memory = {name: {str(T): temp_bytes(rule, model, T) for T in (1_000, 100_000)} for name, rule in rules.items()}
    long_trial = PatternGeneration(duration=100_000).sample(jax.random.key(0), 1)
    long_rule = rules["e-prop"]
    f = jax.jit(lambda p: long_rule.trial_grads(p, long_trial, jax.random.key(0), long_rule.init(p, jax.random.key(1)))[0])
    params = model.init(jax.random.key(0))
    jax.block_until_ready(f(params))
    t0 = time.perf_counter()
    jax.block_until_ready(f(params))
    results["memory_temp_bytes"] = memory
    results["eprop_1e5_steps_seconds"] = time.perf_counter() - t0
    log(memory)

    if not quick:
        cue = CueAccumulation()
        alif = ALIF(n_in=40, n_rec=100, n_out=2, readout_scale="1")
        cue_trial = cue.sample(jax.random.key(0), 64)
        results["evidence_iteration"] = {
            name: time_step(rule, alif, cue_trial, 3)
            for name, rule in {"e-prop": EProp(alif, loss="xent", reg_rate=0.1), "BPTT": BPTT(alif, loss="xent")}.items()
        }
    return results


def markdown(results: dict) -> str:
    lines = [
        f"Machine: {results['machine']}; JAX {results['jax']} on {results['backend']}; {results['date']}; "
        f"load average at start {', '.join(f'{x:.1f}' for x in results['load_average_at_start'])}.",
        "",
        "Pattern generation, one training iteration (100 inputs, 100 LIF, 1 output, T = 1000, batch 1, SGD):",
        "",
        "| rule | jitted iteration: wall min | wall median | CPU min | in a training scan (wall / CPU per iteration) "
        "| NEST e-prop (0.11 s) ÷ plastix (wall min) |",
        "|---|---|---|---|---|---|",
    ]
    for name, s in results["pattern_generation_iteration"].items():
        st, tr = s["step"], s["trainer"]
        lines.append(
            f"| {name} | {st['wall_min'] * 1e3:.2f} ms | {st['wall_median'] * 1e3:.2f} ms | {st['cpu_min'] * 1e3:.2f} ms "
            f"| {tr['wall'] * 1e3:.2f} / {tr['cpu'] * 1e3:.2f} ms | {NEST_SECONDS_PER_ITERATION / st['wall_min']:.0f}× |"
        )
    lines += ["", "Working memory (XLA temporary buffers) by trial length:", "",
              "| rule | T = 10³ | T = 10⁵ |", "|---|---|---|"]
    for name, m in results["memory_temp_bytes"].items():
        lines.append(f"| {name} | {m['1000'] / 1e6:.2f} MB | {m['100000'] / 1e6:.2f} MB |")
    lines.append(f"\ne-prop, one trial of T = 10⁵ steps: {results['eprop_1e5_steps_seconds']:.2f} s.")
    if "evidence_iteration" in results:
        lines += ["", "Evidence accumulation, one iteration (batch 64, 2250 steps, 50 LIF + 50 ALIF):", ""]
        for name, st in results["evidence_iteration"].items():
            lines.append(f"- {name}: wall min {st['wall_min']:.2f} s, CPU min {st['cpu_min']:.2f} s")
    return "\n".join(lines) + "\n"

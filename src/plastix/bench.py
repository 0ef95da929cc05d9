"""``plastix bench``: speed and memory of the rate-network rules, measured side by side.

What is measured (suite ``rate``), on the periodic task with x ≡ 0 and one output:

* µs per time step of one whole-trial gradient (forward pass, traces or backward pass, and the
  gradient), for RFLO, RTRL (N ≤ 100) and BPTT, at N = 30, 100, 300, for one network and for 64
  networks at once (``vmap``); and the same RFLO written as a plain NumPy loop over time steps,
  the way the reference implementations run;
* the per-network cost of 64 vmapped networks relative to one network alone;
* working memory (XLA's temporary buffers of the compiled trial gradient, from
  ``memory_analysis``) at T = 10³ and T = 10⁵: flat for online rules, growing for BPTT.

Timings are the minimum over repeats of a compiled call, after a warm-up call that compiles.
"""

from __future__ import annotations

import platform
import time
from pathlib import Path

import numpy as np

from .errors import ConfigError

GROUP = 8  # the seed_chunk of the "in groups" column
SUITES = ("rate", "eprop")  # eprop: see plastix.bench_eprop


def numpy_rflo_trial(w_rec, w_in, w_out, B, inputs, targets, tau, h0=0.1):
    """Reference RFLO in plain NumPy, one Python iteration per time step (batch 1)."""
    n = w_rec.shape[0]
    alpha = 1.0 / tau
    h = np.full(n, h0)
    p = np.zeros((n, n))
    q = np.zeros((n, w_in.shape[1]))
    g_rec = np.zeros_like(w_rec)
    g_in = np.zeros_like(w_in)
    g_out = np.zeros_like(w_out)
    T = inputs.shape[0]
    for t in range(T):
        u = w_rec @ h + w_in @ inputs[t]
        dphi = 1.0 - np.tanh(u) ** 2
        p = (1 - alpha) * p + alpha * np.outer(dphi, h)
        q = (1 - alpha) * q + alpha * np.outer(dphi, inputs[t])
        h = h + alpha * (np.tanh(u) - h)
        err = targets[t] - w_out @ h
        signal = B @ err
        g_rec -= signal[:, None] * p / T
        g_in -= signal[:, None] * q / T
        g_out -= np.outer(err, h) / T
    return g_rec, g_in, g_out


def median_seconds(fn, *args, reps: int) -> float:
    """Median wall-clock seconds of ``fn(*args)`` (blocking on its result) over ``reps`` calls,
    after one call that compiles."""
    import statistics

    import jax

    jax.block_until_ready(fn(*args))
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def best_seconds(fn, repeats: int) -> tuple[float, float]:
    """(best wall-clock seconds, best process CPU seconds) of ``fn()`` over ``repeats`` calls."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), min(cpu)


def _time(fn, repeats: int) -> float:
    fn()  # compile / warm up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _setup(n_rec: int, n_steps: int, n_nets: int, rule_name: str, seed_chunk: int | None = None):
    import jax

    from . import models, rules, tasks

    task = tasks.get("periodic", period=n_steps)
    model = models.RateRNN(n_in=1, n_rec=n_rec, n_out=1)
    rule = rules.get(rule_name, model)
    keys = jax.random.split(jax.random.key(0), n_nets)
    params = jax.vmap(model.init)(keys)
    state = jax.vmap(rule.init)(params, keys)
    trial = task.sample(jax.random.key(1), 1)

    def grads(p, s):
        return rule.trial_grads(p, trial, jax.random.key(2), s)[0]

    from .training import over_seeds

    fn = jax.jit(over_seeds(grads, 2, seed_chunk)) if n_nets > 1 else jax.jit(grads)
    if n_nets == 1:
        params = jax.tree_util.tree_map(lambda a: a[0], params)
        state = jax.tree_util.tree_map(lambda a: a[0], state)
    return fn, params, state


def time_rule(rule_name: str, n_rec: int, n_steps: int, n_nets: int, repeats: int, seed_chunk: int | None = None) -> float:
    """µs per time step (per call, i.e. for all ``n_nets`` networks together)."""
    import jax

    fn, params, state = _setup(n_rec, n_steps, n_nets, rule_name, seed_chunk)
    seconds = _time(lambda: jax.block_until_ready(fn(params, state)), repeats)
    return seconds / n_steps * 1e6


def time_numpy_rflo(n_rec: int, n_steps: int, repeats: int) -> float:
    rng = np.random.default_rng(0)
    w_rec = 1.5 * rng.standard_normal((n_rec, n_rec)) / np.sqrt(n_rec)
    w_in = rng.uniform(-1, 1, (n_rec, 1))
    w_out = rng.uniform(-1, 1, (1, n_rec)) / np.sqrt(n_rec)
    B = rng.standard_normal((n_rec, 1))
    inputs = np.zeros((n_steps, 1))
    t = np.arange(1, n_steps + 1) / n_steps
    targets = (np.sin(2 * np.pi * t) + 0.5 * np.sin(4 * np.pi * t) + 0.25 * np.sin(8 * np.pi * t))[:, None]
    seconds = _time(lambda: numpy_rflo_trial(w_rec, w_in, w_out, B, inputs, targets, 10.0), repeats)
    return seconds / n_steps * 1e6


def working_memory(rule_name: str, n_rec: int, n_steps: int) -> int:
    """Bytes of XLA temporary buffers of the compiled whole-trial gradient (batch 1)."""
    fn, params, state = _setup(n_rec, n_steps, 1, rule_name)
    analysis = fn.lower(params, state).compile().memory_analysis()
    return int(analysis.temp_size_in_bytes)


def run_rate_suite(quick: bool = False, log=print) -> dict:
    sizes = (30, 100) if quick else (30, 100, 300)
    repeats = 2 if quick else 5
    n_steps = 200 if quick else 1000
    rows = []
    for n in sizes:
        row = {"n_rec": n, "numpy_rflo_us": time_numpy_rflo(n, n_steps, max(1, repeats // 2))}
        for rule in ("rflo", "rtrl", "bptt"):
            if rule == "rtrl" and n > 100:
                continue
            steps = n_steps if rule != "rtrl" else (50 if n >= 100 else 200)
            row[f"{rule}_us"] = time_rule(rule, n, steps, 1, repeats)
            many = not (rule == "rtrl" and n >= 100)
            row[f"{rule}_64_us"] = time_rule(rule, n, steps, 64, max(1, repeats // 2)) if many else None
            row[f"{rule}_64g_us"] = time_rule(rule, n, steps, 64, max(1, repeats // 2), GROUP) if many else None
        row["rflo_speedup_vs_numpy"] = row["numpy_rflo_us"] / row["rflo_us"]
        for rule in ("rflo", "rtrl", "bptt"):
            if row.get(f"{rule}_64_us"):
                row[f"{rule}_per_net_ratio_64"] = row[f"{rule}_64_us"] / 64 / row[f"{rule}_us"]
                row[f"{rule}_per_net_ratio_64g"] = row[f"{rule}_64g_us"] / 64 / row[f"{rule}_us"]
        log(row)
        rows.append(row)
    memory = []
    for rule in ("rflo", "bptt"):
        for T in (1_000, 100_000):
            memory.append({"rule": rule, "n_rec": 30, "n_steps": T, "temp_bytes": working_memory(rule, 30, T)})
            log(memory[-1])
    return {
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} CPUs, {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "jax": __import__("jax").__version__,
        "backend": __import__("jax").default_backend(),
        "n_steps": n_steps,
        "speed": rows,
        "memory": memory,
    }


def markdown(results: dict) -> str:
    fmt = lambda v: "—" if v is None else (f"{v:.3g}" if isinstance(v, float) else str(v))
    lines = [
        f"Machine: {results['machine']}; JAX {results['jax']} on {results['backend']}; {results['date']}; "
        f"T = {results['n_steps']} steps (RTRL: 50–200).",
        "",
        "| N | NumPy RFLO µs/step | RFLO µs/step | speed-up | RTRL µs/step | BPTT µs/step |",
        "|---|---|---|---|---|---|",
    ]
    for r in results["speed"]:
        lines.append(
            f"| {r['n_rec']} | {fmt(r['numpy_rflo_us'])} | {fmt(r['rflo_us'])} | {fmt(r['rflo_speedup_vs_numpy'])}× "
            f"| {fmt(r.get('rtrl_us'))} | {fmt(r['bptt_us'])} |"
        )
    lines += [
        "",
        f"64 networks at once: µs per time step for all 64, and (per network ÷ one network alone); one vmap, "
        f"or groups of {GROUP} (`seed_chunk={GROUP}`):",
        "",
        "| N | RFLO ×64 | RFLO ×64, groups | BPTT ×64 | BPTT ×64, groups | RTRL ×64 | RTRL ×64, groups |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results["speed"]:
        per = lambda key, ratio: (  # noqa: E731
            f"{fmt(r.get(key))} ({fmt(r.get(ratio))})" if r.get(key) else "—"
        )
        cells = []
        for rule in ("rflo", "bptt", "rtrl"):
            cells += [per(f"{rule}_64_us", f"{rule}_per_net_ratio_64"), per(f"{rule}_64g_us", f"{rule}_per_net_ratio_64g")]
        lines.append(f"| {r['n_rec']} | " + " | ".join(cells) + " |")
    lines += ["", "| rule | N | T | working memory (MiB) |", "|---|---|---|---|"]
    for m in results["memory"]:
        lines.append(f"| {m['rule']} | {m['n_rec']} | {m['n_steps']} | {m['temp_bytes'] / 2**20:.3f} |")
    return "\n".join(lines) + "\n"


def run_bench_cli(suite: str, quick: bool, out: Path | None) -> dict:
    from .runs import check_writable, write_json, write_text

    if suite not in SUITES:
        raise ConfigError.bad_value("suite", suite, ", ".join(SUITES))
    if out is not None:
        check_writable(Path(out).parent if Path(out).suffix else out)
    log = lambda row: print(row, flush=True)  # noqa: E731
    if suite == "eprop":
        from .bench_eprop import markdown as eprop_markdown, run_eprop_suite

        results = run_eprop_suite(quick=quick, log=log)
        text = eprop_markdown(results)
    else:
        results = run_rate_suite(quick=quick, log=log)
        text = markdown(results)
    print(text)
    if out is not None:
        out = Path(out)
        if out.suffix == ".json":
            write_json(out, results)
            write_text(out.with_suffix(".md"), text)
        else:
            out.mkdir(parents=True, exist_ok=True)
            write_json(out / "bench.json", results)
            write_text(out / "bench.md", text)
    return results

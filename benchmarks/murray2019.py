"""What the Murray 2019 reproduction costs, side by side in one run.

    python benchmarks/murray2019.py [--quick]

Measured (minimum over repeats of a compiled call, after a warm-up call that compiles):

* µs per time step of one whole-trial gradient for 9 networks at once (vmap), N = 30, T = 80τ:
  RFLO, RFLO with symmetric feedback, BPTT, and "random feedback, nonlocal" both as the
  foundation's forward-mode recursion (``rules.get("rflo_nonlocal")``, O(N⁴)/step) and as the
  reverse-mode estimate the reproduction uses (``NonlocalFeedbackAdjoint``, O(N²)/step);
* µs per time step of one stage-2 loop trial (the frozen RNN plus the striatal decisions), N = 100.

Writes docs/benchmarks/murray2019.md and .json.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

import jax


def best_time(fn, *args, repeats=3):
    jax.block_until_ready(fn(*args))  # compile
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        best = min(best, time.perf_counter() - t0)
    return best


def main(quick: bool = False) -> dict:
    from plastix import rules
    from plastix.circuits import CursorSyllables, LoopCircuit
    from plastix.experiments.murray2019_variants import NonlocalFeedbackAdjoint
    from plastix.models import RateRNN
    from plastix.tasks.periodic import Periodic

    seeds, T = 9, (200 if quick else 800)
    model = RateRNN(n_in=1, n_rec=30, n_out=1)
    keys = jax.random.split(jax.random.key(0), seeds)
    params = jax.vmap(model.init)(keys)
    trial = Periodic(period=T).sample(jax.random.key(0), 1)
    candidates = {
        "rflo": rules.get("rflo", model),
        "rflo_symmetric": rules.get("rflo_symmetric", model),
        "bptt": rules.get("bptt", model),
        "rflo_nonlocal (reverse mode, used here)": NonlocalFeedbackAdjoint(model),
        "rflo_nonlocal (foundation, forward mode)": rules.get("rflo_nonlocal", model),
    }
    rows = {}
    for name, rule in candidates.items():
        states = jax.vmap(rule.init)(params, keys)
        fn = jax.jit(jax.vmap(lambda p, s: rule.trial_grads(p, trial, jax.random.key(1), s)[0]))
        seconds = best_time(fn, params, states, repeats=1 if "forward" in name else 3)
        rows[name] = 1e6 * seconds / T
    cursor = CursorSyllables()
    syll = RateRNN(n_in=4, n_rec=100, n_out=2)
    loop = LoopCircuit(syll, cursor)
    p100 = syll.init(jax.random.key(0))
    w = loop.init(jax.random.key(1))
    one = jax.jit(lambda k: loop.run(p100, w, k)[0])
    loop_us = 1e6 * best_time(one, jax.random.key(2)) / loop.n_steps
    return {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, jax {jax.__version__}, {jax.devices()[0].platform}",
        "load_average_1min": os.getloadavg()[0],
        "networks": seeds,
        "N": 30,
        "T": T,
        "us_per_step": rows,
        "speedup_reverse_over_forward_nonlocal": rows["rflo_nonlocal (foundation, forward mode)"] / rows["rflo_nonlocal (reverse mode, used here)"],
        "loop_stage2_us_per_step_N100": loop_us,
    }


def markdown(r: dict) -> str:
    lines = [
        f"Machine: {r['machine']}; date {r['date']}; load average {r['load_average_1min']:.1f} while measuring "
        f"(a shared machine: absolute times are upper bounds).  Whole-trial gradient of {r['networks']} networks at once (vmap), "
        f"N = {r['N']}, T = {r['T']} steps, periodic task.\n",
        "| rule | µs per time step (all networks) |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v:.1f} |" for k, v in r["us_per_step"].items()]
    lines.append(
        f"\nReverse-mode 'random feedback, nonlocal' is {r['speedup_reverse_over_forward_nonlocal']:.0f}× faster than the "
        "forward-mode recursion, for the same estimate (tests/murray2019/test_variants.py).\n"
    )
    lines.append(f"Stage-2 loop (N = 100, one network, with decisions and Hebbian updates): {r['loop_stage2_us_per_step_N100']:.1f} µs per time step.\n")
    return "\n".join(lines)


if __name__ == "__main__":
    from plastix.runs import write_json, write_text

    results = main(quick="--quick" in sys.argv)
    out = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "murray2019.json", results)
    write_text(out / "murray2019.md", "# Murray 2019 reproduction: cost of the rules and the loop\n\n" + markdown(results))
    print(markdown(results))

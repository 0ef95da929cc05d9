"""Two versions of plastix side by side: µs per step of the rate rules and the training loop.

    python benchmarks/before_after.py OLD_SRC NEW_SRC [--rounds 2] [--out results.json]

OLD_SRC and NEW_SRC are ``src`` folders of two checkouts (e.g. a ``git worktree`` of the previous
commit).  Each round runs one measurement process per version, alternating old/new, so that the
load of a shared machine falls on both alike; the table gives each version's best time and the
ratio new/old.  Measured: one whole-trial gradient of RFLO, BPTT and RTRL (``plastix.bench.time_rule``,
µs per time step) and ``Trainer.fit`` of RFLO on Murray's periodic task (9 networks, 1000 trials,
T = 200, µs per network-step, compilation excluded).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

PROBE = r"""
import json, time, jax
import plastix as px
from plastix.bench import time_rule
from plastix.training import Trainer, make_optimizer
out = {}
for rule, n, steps in (("rflo", 30, 1000), ("rflo", 100, 1000), ("bptt", 30, 1000), ("bptt", 100, 1000), ("rtrl", 30, 200)):
    out[f"{rule} N={n} µs/step"] = time_rule(rule, n, steps, 1, 5)
task = px.tasks.get("periodic", period=200)
model = px.models.RateRNN(n_in=1, n_rec=30, n_out=1)
trainer = Trainer(model, task, px.rules.get("rflo", model), make_optimizer("sgd", 0.03), chunk=500)
trainer.fit(500, seed=0, n_seeds=9)  # compiles
best = min(trainer.fit(1000, seed=0, n_seeds=9).seconds for _ in range(2))
out["Trainer RFLO N=30, 9 nets: µs/network-step"] = best / (1000 * 200 * 9) * 1e6
print(json.dumps(out))
"""


def measure(src: str) -> dict:
    env = {**os.environ, "PYTHONPATH": src}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old_src")
    parser.add_argument("new_src")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out")
    args = parser.parse_args()
    runs = {"old": [], "new": []}
    for _ in range(args.rounds):
        for version, src in (("old", args.old_src), ("new", args.new_src)):
            runs[version].append(measure(src))
    best = {v: {k: min(r[k] for r in rs) for k in rs[0]} for v, rs in runs.items()}
    print("| measurement | old | new | new / old |\n|---|---|---|---|")
    for key in best["old"]:
        print(f"| {key} | {best['old'][key]:.3g} | {best['new'][key]:.3g} | {best['new'][key] / best['old'][key]:.2f} |")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump({"runs": runs, "best": best}, fh, indent=1)


if __name__ == "__main__":
    main()

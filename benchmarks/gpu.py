"""The rate-network and e-prop benchmark suites on the default JAX backend (a GPU, where one is
installed: ``pip install "jax[cuda13]"``), plus many networks at once, where a GPU pays off.

    python benchmarks/gpu.py OUT_DIR

Writes OUT_DIR/rate.json, rate.md, eprop.json, eprop.md, many.json.  The CPU numbers of the same
suites are in docs/benchmarks.md; docs/benchmarks/gpu.md holds a run on an NVIDIA H200.
"""

import sys
from pathlib import Path

import jax

from plastix.bench import markdown, run_rate_suite, time_rule
from plastix.bench_eprop import markdown as eprop_markdown
from plastix.bench_eprop import run_eprop_suite
from plastix.runs import write_json, write_text

if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "gpu-bench")
    out.mkdir(parents=True, exist_ok=True)
    print("devices:", jax.devices(), flush=True)
    rate = run_rate_suite(quick=False)
    write_json(out / "rate.json", rate)
    write_text(out / "rate.md", markdown(rate))
    many = []
    for rule in ("rflo", "bptt"):
        for n in (100, 300):
            for nets in (1, 64, 1024):
                us = time_rule(rule, n, 1000, nets, 2)
                many.append({"rule": rule, "n_rec": n, "networks": nets, "us_per_step": us, "us_per_network_step": us / nets})
                print(many[-1], flush=True)
    write_json(out / "many.json", many)
    eprop = run_eprop_suite(quick=False)
    write_json(out / "eprop.json", eprop)
    write_text(out / "eprop.md", eprop_markdown(eprop))
    print(markdown(rate))
    print(eprop_markdown(eprop))

"""e-prop speed and memory, side by side with BPTT on the same network (not a test).

    python benchmarks/eprop.py [--quick]        (the same as: plastix bench eprop)

Writes docs/benchmarks/eprop.json and prints the tables; what is measured and how:
plastix.bench_eprop.
"""

import sys
from pathlib import Path

from plastix.bench_eprop import markdown, run_eprop_suite
from plastix.runs import write_json

if __name__ == "__main__":
    results = run_eprop_suite(quick="--quick" in sys.argv)
    out = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"
    write_json(out / "eprop.json", results)
    print(markdown(results))

"""Speed and memory of the rate-network rules, side by side in one run.

    python benchmarks/rate.py [--quick]

Writes docs/benchmarks/rate.md and docs/benchmarks/rate.json.  Same measurements as
``plastix bench rate`` (see plastix.bench for what is timed and how).
"""

import sys
from pathlib import Path

from plastix.bench import markdown, run_rate_suite
from plastix.runs import write_json, write_text

if __name__ == "__main__":
    results = run_rate_suite(quick="--quick" in sys.argv)
    out = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "rate.json", results)
    write_text(out / "rate.md", "# Rate networks: RFLO, RTRL, BPTT\n\n" + markdown(results))
    print(markdown(results))

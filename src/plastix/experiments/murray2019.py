"""Reproduction of Murray 2019, "Local online learning in recurrent networks with random feedback"
(eLife 8:e43299): every figure's claim, computed from runs.

``plastix reproduce murray2019 [--figure 2|3|4] [--quick] [--out DIR]``

* Fig. 2 and supplements (:mod:`.murray2019_fig2`): periodic output with N = 30 — RFLO vs BPTT
  for T = 20τ…160τ, feedback alignment, the four variants of the two approximations at 80τ,
  Dale's law, readout-only (with output feedback) and recurrent-only training, N and g sweeps.
* Fig. 3 (:mod:`.murray2019_fig3`): interval matching with N = 100, peak time vs delay for
  training ranges up to 15τ, 20τ, 25τ.
* Fig. 4 (:mod:`.murray2019_fig4`): the augmented loop circuit (:mod:`plastix.circuits`) vs
  direct RFLO and BPTT on a 160τ sequence at equal trial counts.

The full protocol follows the paper's Methods (9 networks and the paper's learning rates for
Fig. 2; 5000 trials in batches of 10 for Fig. 3; 10⁴ + 10⁴ trials for Fig. 4); ``--quick``
runs fewer networks and trials (and smaller networks for Figs. 3–4) in a few minutes, so its
claims are indicative only.  Choices the paper leaves open and every difference from it are in
``docs/reproductions/murray2019-fig{2,3,4}.md``.
"""

from __future__ import annotations

import sys

from . import murray2019_fig2 as fig2
from . import murray2019_fig3 as fig3
from . import murray2019_fig4 as fig4

DESCRIPTION = "Murray 2019 (eLife): RFLO vs BPTT — periodic output (Fig. 2 + suppl.), interval matching (Fig. 3), loop circuit for sequences (Fig. 4)"
CLAIMS = fig2.CLAIMS + fig3.CLAIMS + fig4.CLAIMS
OPTIONS = {"figure": (("2", "3", "4"), "which figure")}
FIGURES = {"2": fig2, "3": fig3, "4": fig4}


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(rep) -> None:
    chosen = rep.options.get("figure")
    figures = [chosen] if chosen else list(FIGURES)
    rep.text(
        "Reproduction of J. M. Murray, *Local online learning in recurrent networks with random feedback*, "
        "eLife 8:e43299 (2019). Figures: " + ", ".join(figures) + ". "
        + ("**Quick mode**: fewer networks and trials (smaller networks for Figs. 3–4); claims are indicative only. " if rep.quick else "")
        + "What differs from the paper, and why: docs/reproductions/murray2019-fig{2,3,4}.md."
    )
    from . import murray2019_common

    # Finished trainings are cached under <out>/cache: rerunning the same command into the same
    # folder (after an interruption, or to re-render the report) does not train again.
    murray2019_common.CACHE["dir"] = rep.out / "cache"
    try:
        for key in figures:
            FIGURES[key].run(rep, log=_log)
    finally:
        murray2019_common.CACHE["dir"] = None

"""Learning rates taken from the papers (or tuned by plastix where a paper gives none), one table
per paper, in one place: ``plastix compare``'s defaults and the reproductions read them here.
"""

from __future__ import annotations

#: Murray 2019, Fig. 2 (spec rflo.md §2.1): best SGD learning rate per trial length T (steps, τ = 10)
#: on the periodic task, N = 30.
MURRAY2019_PERIODIC = {
    "rflo": {200: 0.03, 400: 0.01, 800: 0.001, 1600: 0.0003},
    "bptt": {200: 0.03, 400: 0.03, 800: 0.01, 1600: 0.03},
}

#: Züge et al. 2023 give no learning rates for the RNN comparison; plastix's: the best of
#: {3e-4, 1e-3, 3e-3} on Murray's periodic task (N = 30, 2000 trials).  HP ≈ WP / (T α²) for
#: T = 200 (theory.perturbation.optimal_lr).
ZUGE2021_PERIODIC = {"bptt": 0.03, "wp": 3e-3, "wp0": 3e-3, "np": 1e-3, "hp": 1e-5}

#: Bellec et al. 2020, pattern generation: SGD learning rate and firing-rate regulariser c_reg.
BELLEC2020_PATTERN = {"lr": 0.1, "reg_rate": 0.3}

#: Any rule on any task without a table entry.
FALLBACK = 0.01


def murray2019_periodic(family: str, n_steps: int) -> float:
    """The Fig. 2 learning rate of ``family`` ("rflo" or "bptt") at the tabulated T nearest ``n_steps``."""
    table = MURRAY2019_PERIODIC[family]
    return table[min(table, key=lambda t: abs(t - n_steps))]


def default_lr(rule_name: str, task_name: str, n_steps: int) -> float:
    """``plastix compare``'s default: Murray's rate for RFLO/BPTT/RTRL on the periodic task, the
    perturbation table for WP/NP/WP0/HP, else :data:`FALLBACK`."""
    family = "bptt" if rule_name in ("bptt", "rtrl") else "rflo" if rule_name.startswith("rflo") else None
    if task_name == "periodic" and family is not None:
        return murray2019_periodic(family, n_steps)
    if rule_name in ("wp", "np", "wp0", "hp"):
        return ZUGE2021_PERIODIC[rule_name]
    return FALLBACK

"""Murray 2019, Fig. 3: interval matching ("ready–set–go"), N = 100.

Training (paper's Methods): Gaussian input and target pulses with s.d. 15 steps; 5000 trials;
weight updates accumulated over batches of 10 trials; η = 0.003 (BPTT), 0.001 (RFLO).  The
Trainer averages a batch's gradient, while the paper accumulates (sums) 10 per-trial updates, so
the SGD learning rate here is 10 η (0.03 and 0.01): the same step per batch.  Delays are drawn
uniformly from [5τ, T_max] with T_max ∈ {15τ, 20τ, 25τ}; each rule is trained on each range
(task ``interval`` with ``min_delay``/``max_delay``).

Test: after training, each network is run on test trials (``Interval.trial_for_delays``) with
delays evenly spaced over its training range.  The produced interval is the time of the output's
peak after the "set" pulse minus the set time; the error measure is the mean absolute difference
between produced interval and delay, in steps, over the test delays (median over networks).
"Accurate" means a mean error of at most one pulse s.d. (15 steps = 1.5τ), fixed before running.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from .. import rules
from ..models.rate import RateRNN
from ..tasks.interval import Interval
from .murray2019_common import Fit, fit, fmt_miqr, plot_curve, pyplot

TAU = 10
ACCURATE_STEPS = 15.0  # one pulse s.d.

CLAIMS = [
    ("fig3_both_accurate_15tau", f"Trained and tested on delays ≤ 15τ, RFLO and BPTT are both accurate (mean peak-time error ≤ {ACCURATE_STEPS:g} steps) (Fig. 3b,c)"),
    ("fig3_rflo_degrades_20tau", f"Trained on delays ≤ 20τ, RFLO is no longer accurate (error > {ACCURATE_STEPS:g} steps) and is worse than BPTT (Fig. 3b)"),
    ("fig3_bptt_accurate_25tau", f"Trained on delays ≤ 25τ, BPTT is still accurate (error ≤ {ACCURATE_STEPS:g} steps) (Fig. 3c)"),
]


@dataclass(frozen=True)
class Protocol:
    seeds: int
    updates: int  # batches of `batch` trials
    batch: int = 10
    n_rec: int = 100
    min_delay: int = 50
    max_delays: tuple = (150, 200, 250)
    lr: tuple = (("rflo", 0.01), ("bptt", 0.03))  # 10 × the paper's per-trial η (summed batches)
    n_test: int = 11
    pulse_sd: float = 15.0
    chunk: int = 100
    skip: tuple = ()  # (rule, max_delay) pairs not run


FULL = Protocol(seeds=9, updates=500)
QUICK = Protocol(seeds=2, updates=150, n_rec=50, skip=(("rflo", 250),), n_test=6, chunk=150)


def peak_errors(model, params, task: Interval, delays) -> tuple[np.ndarray, np.ndarray]:
    """Produced intervals and |produced − delay| for one network on test ``delays``."""
    trial = task.trial_for_delays(jnp.asarray(delays))
    _, aux = model.run(params, trial.inputs)
    y = jnp.where(trial.mask[..., 0] > 0, aux.y[..., 0], -jnp.inf)  # only after the set pulse
    peak = jnp.argmax(y, axis=0)
    produced = peak - (task.onset + jnp.asarray(delays))
    produced = np.asarray(produced, dtype=float)
    return produced, np.abs(produced - np.asarray(delays, dtype=float))


def run(rep, log=print) -> None:
    p = QUICK if rep.quick else FULL
    plt = pyplot()
    model = RateRNN(n_in=1, n_rec=p.n_rec, n_out=1)
    fits: dict[tuple, Fit] = {}
    tests: dict[tuple, dict] = {}
    log("Fig. 3: interval matching")
    for name, lr in p.lr:
        for max_delay in p.max_delays:
            if (name, max_delay) in p.skip:
                continue
            task = Interval(min_delay=p.min_delay, max_delay=max_delay, pulse_sd=p.pulse_sd)
            f = fit(
                f"{name} delays ≤ {max_delay // TAU}τ", model, task, rules.get(name, model), lr, p.updates, p.seeds,
                batch_size=p.batch, chunk=p.chunk, log=log,
            )
            fits[(name, max_delay)] = f
            delays = np.linspace(p.min_delay, max_delay, p.n_test).round().astype(int)
            if f.ok:
                produced, err = _per_seed(model, f.params, task, delays)
                slope = np.polyfit(delays.astype(float), produced.T, 1)[0]  # per network; 1 when timing is right
                tests[(name, max_delay)] = {"delays": delays, "produced": produced, "error": err.mean(1), "slope": slope}
            else:
                nan = np.array([np.nan])
                tests[(name, max_delay)] = {"delays": delays, "produced": None, "error": nan, "slope": nan}
    _report(rep, p, fits, tests, plt)


def _per_seed(model, params_stacked, task, delays):
    n = jax.tree_util.tree_leaves(params_stacked)[0].shape[0]
    produced, err = [], []
    for s in range(n):
        prm = jax.tree_util.tree_map(lambda a: a[s], params_stacked)
        a, b = peak_errors(model, prm, task, delays)
        produced.append(a)
        err.append(b)
    return np.array(produced), np.array(err)


def _report(rep, p: Protocol, fits, tests, plt) -> None:
    rep.section(
        "Figure 3 — interval matching (N = %d)" % p.n_rec,
        f"{p.seeds} networks per setting; {p.updates} updates of batches of {p.batch} trials "
        f"({p.updates * p.batch} trials); delays uniform in [{p.min_delay // TAU}τ, T_max]; pulses s.d. {p.pulse_sd:g} steps. "
        f"Error = mean over {p.n_test} test delays of |peak time after set − delay| (steps); median [25 %, 75 %] over networks. "
        f"Accurate: error ≤ {ACCURATE_STEPS:g} steps. Training time, summed over settings (wall clock when each was trained): "
        f"{sum(f.seconds for f in fits.values()) / 60:.0f} min.",
    )
    rows = []
    for (name, md), f in fits.items():
        t = tests[(name, md)]
        rows.append(
            [name, f"≤ {md // TAU}τ", f"{f.lr:g}", fmt_miqr(f.initial()), fmt_miqr(f.final(20)), fmt_miqr(t["error"]), fmt_miqr(t["slope"], 2), f"{f.seconds:.0f}"]
        )
    rep.table(
        ["rule", "training delays", "SGD lr", "initial loss", "final loss", "peak-time error (steps)", "slope of produced vs delay", "seconds"],
        rows,
    )

    err = lambda name, md: float(np.nanmedian(tests[(name, md)]["error"])) if (name, md) in tests else float("nan")
    e15 = {"rflo": err("rflo", 150), "bptt": err("bptt", 150)}
    both = max(e15.values())
    rep.claim(
        "fig3_both_accurate_15tau",
        CLAIMS[0][1],
        e15,
        ACCURATE_STEPS,
        holds=bool(both <= ACCURATE_STEPS),
        note=""
        if both <= ACCURATE_STEPS
        else _why(
            rep.quick,
            "; ".join(_describe(tests, n, 150) for n in ("rflo", "bptt") if e15[n] > ACCURATE_STEPS or not np.isfinite(e15[n]))
            + ". The paper reports both rules accurate here; in this setting RFLO learns the timing far more slowly than BPTT "
            "(pilot runs with other learning rates and 4× the trials: docs/reproductions/murray2019-fig3.md)",
        ),
    )
    e20 = {"rflo": err("rflo", 200), "bptt": err("bptt", 200)}
    holds = bool(e20["rflo"] > ACCURATE_STEPS and e20["rflo"] > e20["bptt"])
    rep.claim(
        "fig3_rflo_degrades_20tau",
        CLAIMS[1][1],
        e20,
        {"rflo_error_above": ACCURATE_STEPS, "and_above_bptt": True},
        holds=holds,
        note="" if holds else _why(rep.quick, f"RFLO's error at 20τ is {e20['rflo']:.3g} steps vs BPTT's {e20['bptt']:.3g}; " + _describe(tests, "rflo", 200)),
    )
    e25 = err("bptt", 250)
    rep.claim(
        "fig3_bptt_accurate_25tau",
        CLAIMS[2][1],
        e25,
        ACCURATE_STEPS,
        "<=",
        note="" if e25 <= ACCURATE_STEPS else _why(rep.quick, _describe(tests, "bptt", 250)),
    )

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    colors = {150: "tab:red", 200: "tab:blue", 250: "tab:green"}
    for ax, name in zip(axes[:2], ("rflo", "bptt")):
        for md in p.max_delays:
            t = tests.get((name, md))
            if t is None or t["produced"] is None:
                continue
            d = t["delays"] / TAU
            for row in t["produced"]:
                ax.plot(d, row / TAU, ".", color=colors[md], alpha=0.35)
            ax.plot(d, np.median(t["produced"], 0) / TAU, "-", color=colors[md], label=f"trained ≤ {md // TAU}τ")
        lim = max(p.max_delays) / TAU
        ax.plot([0, lim], [0, lim], "k--", lw=0.8)
        ax.set_xlabel("delay between input pulses (τ)")
        ax.set_ylabel("output peak after set (τ)")
        ax.set_title(f"({'b' if name == 'rflo' else 'c'}) {name.upper()}: test trials")
        ax.legend()
    ax = axes[2]
    for (name, md), f in fits.items():
        plot_curve(ax, f, f"{name} ≤ {md // TAU}τ", colors[md] if name == "bptt" else colors[md], points=50)
        if name == "rflo":
            ax.lines[-1].set_linestyle("--")
    ax.set_yscale("log")
    ax.set_xlabel(f"update (batch of {p.batch} trials)")
    ax.set_title("loss during training (dashed: RFLO)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    rep.figure(fig, "fig3.png", "Fig. 3: produced interval vs delay on test trials (dots: networks; line: median) and training loss.")
    plt.close(fig)
    rep.record(
        "fig3",
        {
            f"{n}_{md}": {
                "delays": tests[(n, md)]["delays"].tolist(),
                "produced": None if tests[(n, md)]["produced"] is None else tests[(n, md)]["produced"].tolist(),
                "error": tests[(n, md)]["error"].tolist(),
                "slope": tests[(n, md)]["slope"].tolist(),
                "seconds": fits[(n, md)].seconds,
            }
            for (n, md) in fits
        },
    )


def _describe(tests, name, md) -> str:
    t = tests.get((name, md))
    if t is None or t["produced"] is None:
        return f"{name.upper()} ≤ {md // TAU}τ did not train"
    slope = float(np.nanmedian(t["slope"]))
    err = float(np.nanmedian(t["error"]))
    if slope < 0.2:
        what = "its output peak hardly moves with the delay (it learned one average interval)"
    elif slope < 0.8:
        what = f"its output peak follows the delay only partly (slope {slope:.2f} instead of 1)"
    else:
        what = "its timing follows the delay but scatters"
    accurate = int(np.sum(t["error"] <= ACCURATE_STEPS))
    return (
        f"{name.upper()} trained ≤ {md // TAU}τ: error {err:.3g} steps (median; {accurate} of {len(t['error'])} networks within "
        f"{ACCURATE_STEPS:g}), slope {slope:.2f}: {what}"
    )


def _why(quick: bool, text: str) -> str:
    return text + (" (quick mode: few networks, smaller N and a short training budget)." if quick else ".")

"""Shared pieces of the Murray 2019 reproduction: training many seeds, statistics, plotting.

Every network is trained by :class:`plastix.training.Trainer` (all seeds of one setting in one
vmapped, compiled loop; one compilation per model, task and rule, whatever the learning rate).  Statistics follow the paper: median and 25/75 percentiles over
independent networks.  The "final loss" of a network is the mean per-trial loss over the last
``window`` trials (losses are those of each trial before its own update).
"""

from __future__ import annotations

import functools
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DivergenceError
from ..metrics import feedback_alignment
from ..training import Trainer, make_optimizer


@dataclass
class Fit:
    """What one setting (model, task, rule, learning rate) gave over its seeds."""

    label: str
    lr: float
    losses: np.ndarray | None  # (seeds, trials); None when training diverged
    params: dict | None = None  # final parameters stacked over seeds
    rule_state: Any = None  # the rule's state stacked over seeds
    alignment: np.ndarray | None = None  # (seeds, chunks + 1): cos(W_out, B) from trial 0 on
    alignment_trials: np.ndarray | None = None
    seconds: float = 0.0
    error: str = ""  # the divergence message, if any
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.losses is not None

    def final(self, window: int = 100) -> np.ndarray:
        """Per-seed final loss: mean over the last ``window`` trials (NaN if diverged)."""
        if self.losses is None:
            return np.array([np.nan])
        return self.losses[:, -min(window, self.losses.shape[1]) :].mean(1)

    def initial(self) -> np.ndarray:
        return np.array([np.nan]) if self.losses is None else self.losses[:, 0]


#: When set (by the reproduction, to ``<out>/cache``), every finished :func:`fit` is saved there and
#: reused by a later run with identical settings, so an interrupted or re-rendered run does not
#: train again.  The key covers model, task, rule (their reprs), lr, trials, seeds, batch, chunk, seed.
CACHE: dict = {"dir": None}


def _cache_path(identity: str):
    if CACHE["dir"] is None:
        return None
    digest = hashlib.sha1(identity.encode()).hexdigest()[:16]
    folder = Path(CACHE["dir"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"fit-{digest}.npz"


def _like(trainer, state0, trials, seeds):
    n_chunks = -(-trials // trainer.chunk)
    return {
        "losses": np.zeros((seeds, trials)),
        "alignment": np.zeros((seeds, n_chunks + 1)),
        "alignment_trials": np.zeros(n_chunks + 1, dtype=np.int64),
        "params": state0.params,
        "rule_state": state0.rule_state,
    }


@functools.lru_cache(maxsize=64)
def _trainer(model, task, rule, batch_size: int, chunk: int) -> Trainer:
    """One Trainer (one compilation) per setting; the learning rate is traced (``fit``'s ``lr``)."""
    return Trainer(model, task, rule, make_optimizer("sgd", 1.0), batch_size=batch_size, chunk=chunk)


def fit(label, model, task, rule, lr, trials, seeds, *, batch_size=1, chunk=1000, seed=0, log=print) -> Fit:
    """Train ``seeds`` networks with SGD(lr) for ``trials`` updates; never raises on divergence."""
    import jax

    from ..runs import load_pytree, save_pytree

    trainer = _trainer(model, task, rule, batch_size, min(chunk, trials))
    state0 = trainer.init(seed, seeds, learning_rate=lr)
    identity = repr((model, task, rule, float(lr), trials, seeds, batch_size, trainer.chunk, seed))
    path = _cache_path(identity)
    if path is not None and path.exists():
        tree, meta = load_pytree(path, _like(trainer, state0, trials, seeds))
        if meta.get("identity") == identity:
            if meta.get("error"):
                log(f"  {label} (lr={lr:g}): diverged (cached): {meta['error']}")
                return Fit(label, lr, None, seconds=meta["seconds"], error=meta["error"])
            out = Fit(label, lr, tree["losses"], params=tree["params"], rule_state=tree["rule_state"],
                      alignment=tree["alignment"], alignment_trials=tree["alignment_trials"], seconds=meta["seconds"])
            log(f"  {label} (lr={lr:g}): cached, final loss median {np.median(out.final()):.3g}")
            return out

    align0 = np.asarray(
        jax.vmap(lambda p, s: feedback_alignment(p, rule.fixed_feedback(p, s)))(state0.params, state0.rule_state),
        dtype=float,
    )
    t0 = time.perf_counter()
    try:
        res = trainer.fit(trials, seed=seed, n_seeds=seeds, state=state0)
    except DivergenceError as exc:
        seconds = time.perf_counter() - t0
        log(f"  {label} (lr={lr:g}): diverged after {seconds:.0f} s: {exc}")
        if path is not None:
            save_pytree(path, _like(trainer, state0, trials, seeds), {"identity": identity, "seconds": seconds, "error": str(exc)})
        return Fit(label, lr, None, seconds=seconds, error=str(exc))
    seconds = time.perf_counter() - t0
    chunks = sorted({r["trial"] for r in res.records})
    align = np.full((seeds, len(chunks) + 1), np.nan)
    align[:, 0] = align0
    for r in res.records:
        align[r["seed"], 1 + chunks.index(r["trial"])] = r["alignment"]
    out = Fit(
        label,
        lr,
        res.losses,
        params=jax.device_get(res.state.params),
        rule_state=jax.device_get(res.state.rule_state),
        alignment=align,
        alignment_trials=np.array([0, *chunks]),
        seconds=seconds,
    )
    if path is not None:
        tree = {k: getattr(out, k) for k in ("losses", "alignment", "alignment_trials", "params", "rule_state")}
        save_pytree(path, tree, {"identity": identity, "seconds": seconds, "error": ""})
    med = np.median(out.final())
    log(f"  {label} (lr={lr:g}, {seeds} seeds × {trials} trials): final loss median {med:.3g} in {seconds:.0f} s")
    return out


def median_iqr(values) -> tuple[float, float, float]:
    """(median, 25th, 75th percentile), ignoring NaN."""
    v = np.asarray(values, dtype=float)
    if np.all(np.isnan(v)):
        return (float("nan"),) * 3
    return tuple(float(x) for x in np.nanpercentile(v, [50, 25, 75]))


def fmt_miqr(values, digits: int = 3) -> str:
    m, lo, hi = median_iqr(values)
    return f"{m:.{digits}g} [{lo:.{digits}g}, {hi:.{digits}g}]"


def curve(losses: np.ndarray, points: int = 200):
    """Smoothed learning curve for plotting: x, median, q25, q75 over seeds of a running mean."""
    n = losses.shape[1]
    width = max(1, n // points)
    usable = (n // width) * width
    binned = losses[:, :usable].reshape(losses.shape[0], -1, width).mean(-1)
    x = (np.arange(binned.shape[1]) + 0.5) * width
    q = np.nanpercentile(binned, [50, 25, 75], axis=0)
    return x, q[0], q[1], q[2]


def plot_curve(ax, fit_or_losses, label, color, points: int = 200):
    losses = fit_or_losses.losses if isinstance(fit_or_losses, Fit) else fit_or_losses
    if losses is None:
        ax.plot([], [], color=color, label=f"{label} (diverged)")
        return
    x, m, lo, hi = curve(losses, points)
    ax.plot(x, m, color=color, label=label, lw=1.5)
    ax.fill_between(x, lo, hi, color=color, alpha=0.2, lw=0)


def log10_ratio(a, b) -> float:
    """log10(median(a) / median(b)); NaN if either is not finite."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if np.isnan(a).all() or np.isnan(b).all():
        return float("nan")
    ma, mb = np.nanmedian(a), np.nanmedian(b)
    if not (np.isfinite(ma) and np.isfinite(mb)) or ma <= 0 or mb <= 0:
        return float("nan")
    return float(np.log10(ma / mb))


def spearman(x, y) -> float:
    """Spearman rank correlation of two short sequences (no ties expected)."""
    from scipy.stats import spearmanr

    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 2 or not np.all(np.isfinite(y)):
        return float("nan")
    # Rounded so that exact rank patterns (e.g. one swap in four: −0.8) compare exactly with thresholds.
    return round(float(spearmanr(x, y).statistic), 12)


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt

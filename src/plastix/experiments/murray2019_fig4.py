"""Murray 2019, Fig. 4: an RNN with a learned striatal loop chains 20τ syllables into a 160τ sequence.

Loop + RFLO (the paper's protocol, Methods): N = 100; stage 1 trains the four reach syllables
with RFLO (task :class:`~plastix.circuits.cursor.SyllableTask`: chains of random reach + hold
pairs within the bounds); stage 2 freezes the RNN and learns the corticostriatal weights W^s with
the gated winner-take-all loop and the reward-modulated Hebbian rule, p_explore = 0.1
(:class:`~plastix.circuits.loop.LoopCircuit`).  The target is the sequence right, up, left, down,
each reach followed by a hold: four movements and four holds, 8 × 20τ = 160τ.

Direct baselines: networks without the loop, trained with RFLO or BPTT to produce the whole
160τ velocity sequence autonomously (task :class:`~plastix.circuits.cursor.SequenceTask`), for as
many trials as stage 1 + stage 2 together (the paper: 10,000 + 10,000 vs 20,000).  The paper does
not state their learning rates; in full mode each rule takes the best of a small grid in a pilot
run (fewer networks and trials), then trains with it.

Comparison: the loss 1/(2T) Σ_t |y(t) − y*(t)|² over the 1600-step sequence, the same measure for
all three (for the loop: its greedy pass, without exploration), median over networks.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import numpy as np

from .. import rules
from ..circuits import CursorSyllables, LoopCircuit, SequenceTask, SyllableTask, sequence_loss
from ..models.rate import RateRNN
from .murray2019_common import fit, fmt_miqr, plot_curve, pyplot

TAU = 10
TARGET = (0, 1, 2, 3)  # right, up, left, down

CLAIMS = [
    ("fig4_loop_beats_rflo", "At equal trial counts, loop + RFLO produces the 160τ sequence with lower loss than an RNN trained directly with RFLO (Fig. 4c)"),
    ("fig4_loop_beats_bptt", "At equal trial counts, loop + RFLO produces the 160τ sequence with lower loss than an RNN trained directly with BPTT (Fig. 4c)"),
    ("fig4_transitions_learned", "The striatal loop learns every transition of the target sequence (greedy pass plays it exactly) (Fig. 4b,c)"),
]


@dataclass(frozen=True)
class Protocol:
    seeds: int
    stage1_trials: int
    stage2_trials: int
    n_rec: int = 100
    n_chain: int = 2
    stage1_lr: float = 0.01
    striatal_lr: float = 0.01
    p_explore: float = 0.1
    direct_lrs: tuple = (("rflo", (0.0003, 0.001, 0.003)), ("bptt", (0.001, 0.003, 0.01, 0.03)))
    pilot_trials: int = 2000
    pilot_seeds: int = 2
    chunk: int = 500

    @property
    def direct_trials(self) -> int:
        return self.stage1_trials + self.stage2_trials


FULL = Protocol(seeds=5, stage1_trials=10_000, stage2_trials=10_000)
QUICK = Protocol(
    seeds=2,
    stage1_trials=600,
    stage2_trials=200,
    n_rec=50,
    direct_lrs=(("rflo", (0.001,)), ("bptt", (0.003,))),
    pilot_trials=0,
    chunk=600,
)


def run(rep, log=print) -> None:
    p = QUICK if rep.quick else FULL
    plt = pyplot()
    cursor = CursorSyllables()
    log("Fig. 4: loop circuit vs direct training on a 160τ sequence")

    # -- stage 1: syllables with RFLO --------------------------------------------------------------
    syll_model = RateRNN(n_in=cursor.n_actions, n_rec=p.n_rec, n_out=2)
    stage1 = fit(
        "stage 1: syllables (rflo)", syll_model, SyllableTask(cursor, p.n_chain), rules.get("rflo", syll_model),
        p.stage1_lr, p.stage1_trials, p.seeds, chunk=p.chunk, log=log,
    )
    loop = LoopCircuit(syll_model, cursor, TARGET, p_explore=p.p_explore, lr=p.striatal_lr)
    target_v = np.asarray(loop.target_velocity())
    loop_result = None
    if stage1.ok:
        import time

        t0 = time.perf_counter()
        keys = jax.random.split(jax.random.key(2019), p.seeds)
        w0 = jax.vmap(loop.init)(jax.random.split(jax.random.key(4), p.seeds))
        before = jax.vmap(loop.greedy)(stage1.params, w0)
        train = jax.jit(jax.vmap(lambda prm, k, w: loop.train(prm, k, p.stage2_trials, w)))
        w_s, reward_rate = train(stage1.params, keys, w0)
        after = jax.block_until_ready(jax.vmap(loop.greedy)(stage1.params, w_s))  # JAX dispatches asynchronously
        seconds = time.perf_counter() - t0
        loop_result = {
            "loss_before": np.asarray(sequence_loss(before.outputs, target_v)),
            "loss": np.asarray(sequence_loss(after.outputs, target_v)),
            "actions": np.asarray(after.actions),
            "outputs": np.asarray(after.outputs),
            "reward_rate": np.asarray(reward_rate),
            "seconds": seconds,
        }
        log(f"  stage 2: loop loss median {np.median(loop_result['loss']):.3g} in {seconds:.0f} s")

    # -- direct baselines --------------------------------------------------------------------------
    seq_task = SequenceTask(cursor, TARGET)
    direct_model = RateRNN(n_in=1, n_rec=p.n_rec, n_out=2)
    direct, pilots = {}, {}
    for name, grid in p.direct_lrs:
        lr = grid[0]
        if len(grid) > 1 and p.pilot_trials:
            pilots[name] = [
                fit(f"pilot {name}", direct_model, seq_task, rules.get(name, direct_model), g, p.pilot_trials, p.pilot_seeds, chunk=p.chunk, log=log)
                for g in grid
            ]
            ok = [f for f in pilots[name] if f.ok]
            if ok:
                lr = min(ok, key=lambda f: np.nanmedian(f.final(100))).lr
        direct[name] = fit(
            f"direct {name}", direct_model, seq_task, rules.get(name, direct_model), lr, p.direct_trials, p.seeds, chunk=p.chunk, log=log
        )
    direct_eval = {}
    for name, f in direct.items():
        if f.ok:
            trial = seq_task.sample(jax.random.key(0), 1)
            _, aux = jax.vmap(lambda prm: direct_model.run(prm, trial.inputs))(f.params)
            y = np.asarray(aux.y[:, :, 0])
            direct_eval[name] = {"outputs": y, "loss": np.asarray(sequence_loss(y, target_v))}
    _report(rep, p, cursor, stage1, loop_result, direct, direct_eval, pilots, target_v, plt)


def _report(rep, p, cursor, stage1, loop_result, direct, direct_eval, pilots, target_v, plt) -> None:
    rep.section(
        "Figure 4 — the loop circuit (N = %d)" % p.n_rec,
        f"{p.seeds} networks. Stage 1: {p.stage1_trials} RFLO trials (η = {p.stage1_lr:g}) of {p.n_chain} random reach+hold pairs "
        f"({p.n_chain * cursor.unit_steps} steps); stage 2: {p.stage2_trials} loop trials (η_s = {p.striatal_lr:g}, p_explore = {p.p_explore:g}). "
        f"Direct networks: {p.direct_trials} trials of the whole {len(TARGET) * cursor.unit_steps}-step sequence. "
        f"Time steps simulated in training: loop {p.stage1_trials * p.n_chain * cursor.unit_steps + p.stage2_trials * len(TARGET) * cursor.unit_steps:,} "
        f"(stage 1 + stage 2), direct {p.direct_trials * len(TARGET) * cursor.unit_steps:,} per network. "
        "Loss = 1/(2T) Σ|y − y*|² over the sequence; median [25 %, 75 %] over networks. "
        f"Training time, summed (wall clock when each part was trained): "
        f"{(stage1.seconds + (loop_result['seconds'] if loop_result else 0) + sum(f.seconds for f in direct.values()) + sum(f.seconds for fs in pilots.values() for f in fs)) / 60:.0f} min.",
    )
    nan = np.array([np.nan])
    loop_loss = loop_result["loss"] if loop_result else nan
    rows = [
        ["stage 1 syllables (training loss)", fmt_miqr(stage1.initial()), fmt_miqr(stage1.final(100)), f"{stage1.seconds:.0f}"],
        [
            "loop + RFLO (greedy sequence)",
            fmt_miqr(loop_result["loss_before"]) if loop_result else "—",
            fmt_miqr(loop_loss),
            f"{loop_result['seconds']:.0f}" if loop_result else "—",
        ],
    ]
    for name, f in direct.items():
        ev = direct_eval.get(name)
        rows.append([f"direct {name} (η = {f.lr:g})", fmt_miqr(f.initial()), fmt_miqr(ev["loss"]) if ev else "diverged", f"{f.seconds:.0f}"])
    rep.table(["network", "loss before training", "loss after", "seconds"], rows)
    if pilots:
        prow = [[name, f.lr, fmt_miqr(f.final(100)) if f.ok else "diverged"] for name, fs in pilots.items() for f in fs]
        rep.table(["pilot rule", "η", f"final loss after {p.pilot_trials} trials"], prow, caption="Learning-rate pilot for the direct baselines")

    loop_med = float(np.nanmedian(loop_loss))
    for cid, name in (("fig4_loop_beats_rflo", "rflo"), ("fig4_loop_beats_bptt", "bptt")):
        other = float(np.nanmedian(direct_eval[name]["loss"])) if name in direct_eval else float("nan")
        holds = bool(np.isfinite(loop_med) and (not np.isfinite(other) or loop_med < other))
        text = dict(CLAIMS)[cid]
        rep.claim(
            cid,
            text,
            {"loop_rflo": loop_med, f"direct_{name}": other},
            "loop_rflo < direct",
            holds=holds,
            note="" if holds else f"Direct {name.upper()} reached {other:.3g} against the loop's {loop_med:.3g}"
            + (" (quick mode: short training)." if rep.quick else "."),
        )
    if loop_result:
        exact = (loop_result["actions"] == np.asarray(TARGET)[None, :]).all(1)
        frac = float(exact.mean())
    else:
        frac = float("nan")
    rep.claim(
        "fig4_transitions_learned",
        CLAIMS[2][1],
        frac,
        1.0,
        ">=",
        note="" if frac >= 1.0 else "Some networks' greedy pass plays a wrong syllable (see the table of played sequences).",
    )
    if loop_result:
        rep.table(
            ["network", "played sequence", "sequence loss", "stage-2 reward rate, last 10 %"],
            [
                [s, " ".join("RULD"[a] for a in loop_result["actions"][s]), float(loop_result["loss"][s]),
                 float(loop_result["reward_rate"][s, -max(1, p.stage2_trials // 10) :].mean())]
                for s in range(len(loop_result["loss"]))
            ],
            caption="Greedy passes after stage 2 (target R U L D; R = right, U = up, L = left, D = down)",
        )

    # -- figure ----------------------------------------------------------------------------------
    fig, axes = plt.subplots(2, 3, figsize=(15, 9))
    syll = SyllableTask(cursor, 1)
    ax = axes[0, 0]
    if stage1.ok:
        m = RateRNN(n_in=cursor.n_actions, n_rec=p.n_rec, n_out=2)
        s = int(np.argsort(stage1.final(100))[len(stage1.final(100)) // 2])
        prm = jax.tree_util.tree_map(lambda a: a[s], stage1.params)
        for k in range(cursor.n_actions):
            trial = syll.trial_for_actions(np.array([[k]]))
            _, aux = m.run(prm, trial.inputs)
            path = np.asarray(cursor.positions(aux.y[:, 0]))
            tpath = np.asarray(cursor.positions(trial.targets[:, 0]))
            ax.plot(path[:, 0], path[:, 1], color=f"C{k}", label=f"input {k + 1}")
            ax.plot(tpath[:, 0], tpath[:, 1], "k--", lw=0.8)
    ax.set_aspect("equal")
    ax.set_title("(a) syllables after stage 1 (from rest)")
    ax.legend(fontsize=8)

    def path_plot(ax, outputs, title):
        tpath = np.asarray(cursor.positions(target_v))
        ax.plot(tpath[:, 0], tpath[:, 1], "k--", lw=1, label="target")
        if outputs is not None:
            for o in outputs:
                pth = np.asarray(cursor.positions(o))
                ax.plot(pth[:, 0], pth[:, 1], alpha=0.6)
        b = cursor.bound
        ax.plot([-b, b, b, -b, -b], [-b, -b, b, b, -b], color="0.7", lw=0.8)
        ax.set_aspect("equal")
        ax.set_title(title)

    path_plot(axes[0, 1], loop_result["outputs"] if loop_result else None, "(c) loop + RFLO: cursor path, every network")
    path_plot(axes[0, 2], direct_eval["rflo"]["outputs"] if "rflo" in direct_eval else None, "(c) direct RFLO")
    path_plot(axes[1, 0], direct_eval["bptt"]["outputs"] if "bptt" in direct_eval else None, "(c) direct BPTT")
    ax = axes[1, 1]
    t = np.arange(len(target_v))
    ax.plot(t, target_v[:, 0], "k--", lw=1, label="target v_x")
    med_seed = lambda losses: int(np.argsort(losses)[len(losses) // 2])
    if loop_result:
        ax.plot(t, loop_result["outputs"][med_seed(loop_result["loss"]), :, 0], label="loop + RFLO")
    for name in ("rflo", "bptt"):
        if name in direct_eval:
            ax.plot(t, direct_eval[name]["outputs"][med_seed(direct_eval[name]["loss"]), :, 0], label=f"direct {name.upper()}", alpha=0.8)
    ax.set_xlabel("time step")
    ax.set_title("x-velocity, median network")
    ax.legend(fontsize=8)
    ax = axes[1, 2]
    labels, data = [], []
    if loop_result:
        labels.append("loop+RFLO")
        data.append(loop_result["loss"])
    for name in ("rflo", "bptt"):
        if name in direct_eval:
            labels.append(f"direct {name.upper()}")
            data.append(direct_eval[name]["loss"])
    for i, d in enumerate(data):
        ax.plot(np.full(len(d), i) + np.linspace(-0.1, 0.1, len(d)), d, "o", alpha=0.7)
        ax.plot([i - 0.25, i + 0.25], [np.median(d)] * 2, "k-")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yscale("log")
    ax.set_ylabel("sequence loss")
    ax.set_title(f"equal trials ({p.direct_trials})")
    fig.tight_layout()
    rep.figure(fig, "fig4.png", "Fig. 4: syllables, loop-generated sequence vs direct RFLO / BPTT, and final sequence loss per network.")
    plt.close(fig)

    if loop_result or direct:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        plot_curve(axes[0], stage1, "stage 1 (syllables, RFLO)", "tab:blue")
        for name, color in (("rflo", "tab:cyan"), ("bptt", "tab:red")):
            if name in direct:
                plot_curve(axes[0], direct[name], f"direct {name.upper()} (whole sequence)", color)
        axes[0].set_yscale("log")
        axes[0].set_xlabel("trial")
        axes[0].set_title("training loss")
        axes[0].legend(fontsize=8)
        if loop_result:
            rr = loop_result["reward_rate"]
            width = max(1, rr.shape[1] // 100)
            usable = rr.shape[1] // width * width
            binned = rr[:, :usable].reshape(rr.shape[0], -1, width).mean(-1)
            x = (np.arange(binned.shape[1]) + 0.5) * width
            axes[1].plot(x, np.median(binned, 0))
            axes[1].fill_between(x, *np.percentile(binned, [25, 75], axis=0), alpha=0.2)
        axes[1].set_xlabel("stage-2 trial")
        axes[1].set_ylabel("fraction of rewarded transitions")
        axes[1].set_title("stage 2 (with exploration)")
        fig.tight_layout()
        rep.figure(fig, "fig4_training.png", "Fig. 4 training: losses (stage 1 and direct networks) and stage-2 reward rate.")
        plt.close(fig)

    rep.record(
        "fig4",
        {
            "loop_loss": loop_loss.tolist(),
            "loop_loss_before_stage2": loop_result["loss_before"].tolist() if loop_result else None,
            "loop_actions": loop_result["actions"].tolist() if loop_result else None,
            "direct_loss": {k: v["loss"].tolist() for k, v in direct_eval.items()},
            "direct_lr": {k: f.lr for k, f in direct.items()},
            "stage1_final": stage1.final(100).tolist(),
            "seconds": {"stage1": stage1.seconds, "stage2": loop_result["seconds"] if loop_result else None, **{k: f.seconds for k, f in direct.items()}},
        },
    )

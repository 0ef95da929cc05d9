"""The e-prop tasks (trial structure pinned), the registries, adaptive feedback in the training
loop, a short learning run, and ``plastix compare`` with a spiking model."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from plastix import models, rules, tasks
from plastix.errors import ConfigError
from plastix.tasks.cue_accumulation import decision_error
from plastix.training import Trainer, make_optimizer


# ------------------------------------------------------------------------------------------ tasks
def test_pattern_generation_structure():
    task = tasks.get("pattern_generation")
    a, b = task.sample(jax.random.key(0), 2), task.sample(jax.random.key(1), 1)
    assert a.inputs.shape == (1000, 2, 100) and a.targets.shape == (1000, 2, 1) and float(a.mask.min()) == 1
    np.testing.assert_array_equal(np.asarray(a.inputs[:, 0]), np.asarray(b.inputs[:, 0]))  # frozen
    rate = float(a.inputs.mean()) * 1000
    assert 45 < rate < 55
    y = np.asarray(a.targets[:, 0, 0])
    assert y[0] == 0 and abs(np.abs(y).max() - 1) < 1e-6
    spectrum = np.abs(np.fft.rfft(y - y.mean()))
    assert set(np.argsort(spectrum)[-4:]) == {1, 2, 3, 5}  # 1, 2, 3, 5 Hz over 1 s


def test_cue_accumulation_structure():
    task = tasks.get("cue_accumulation")
    assert task.n_steps == 2250 and task.n_in == 40 and task.loss == "xent"
    trial = task.sample(jax.random.key(0), 64)
    x, y, m = (np.asarray(a) for a in trial)
    left, right, recall, noise = (x[..., 10 * g : 10 * (g + 1)] for g in range(4))
    cue_on = np.zeros(2250, bool)
    for k in range(7):
        cue_on[50 + 150 * k : 150 + 150 * k] = True
    assert (left[~cue_on].sum() + right[~cue_on].sum()) == 0  # cues only in their windows
    assert recall[:-150].sum() == 0 and recall[-150:].mean() * 1000 == pytest.approx(40, rel=0.15)
    assert noise.mean() * 1000 == pytest.approx(10, rel=0.1)
    # per cue window exactly one side is active; the label is the majority side
    starts = 50 + 150 * np.arange(7)
    right_cues = np.stack([right[s : s + 100].sum((0, 2)) > 0 for s in starts], 1)
    left_cues = np.stack([left[s : s + 100].sum((0, 2)) > 0 for s in starts], 1)
    assert np.all(right_cues != left_cues) or np.mean(right_cues == left_cues) < 0.01  # empty windows are rare
    label = np.argmax(y[-1], -1)
    agree = label == (right_cues.sum(1) > 3)
    assert agree.mean() > 0.97
    assert np.all(m[:-150] == 0) and np.all(m[-150:] == 1)
    # decision_error: perfect outputs give 0, flipped give 1
    assert float(decision_error(trial.targets, trial.targets, trial.mask)) == 0
    assert float(decision_error(1 - trial.targets, trial.targets, trial.mask)) == 1


def test_store_recall_structure():
    task = tasks.get("store_recall")
    trial = task.sample(jax.random.key(3), 32)
    x, y, m = (np.asarray(a) for a in trial)
    assert x.shape == (2400, 32, 100) and y.shape == (2400, 32, 2)
    per_period = x.reshape(12, 200, 32, 4, 25).sum((1, 4))  # spikes per (period, trial, group)
    store_on, recall_on = per_period[:, :, 2] > 0, per_period[:, :, 3] > 0
    assert np.all(store_on.sum(0) == 1) and np.all(recall_on.sum(0) == 1)
    store, recall = store_on.argmax(0), recall_on.argmax(0)
    assert np.all(recall > store)
    bits = per_period[:, :, 1] > per_period[:, :, 0]  # bit 1 shown in that period
    np.testing.assert_array_equal(np.argmax(y[-1], -1), bits[store, np.arange(32)])
    np.testing.assert_array_equal(m[:, :, 0], np.repeat(recall_on, 200, axis=0))


def test_tasks_and_rules_registered_and_usable_by_rate_networks():
    for name in ("pattern_generation", "cue_accumulation", "store_recall"):
        assert name in tasks.TASKS
    for name in ("eprop", "eprop_random", "eprop_adaptive", "eprop_autodiff", "eprop_reward"):
        assert name in rules.RULES
    task = tasks.get("cue_accumulation", delay=20, n_cues=2, t_cue=5, interval=10, recall=10)
    rate = models.get("rate", n_in=task.n_in, n_rec=6, n_out=task.n_out)
    trial = task.sample(jax.random.key(0), 2)
    rule = rules.get("eprop_random", rate, loss="xent")
    params = rate.init(jax.random.key(0))
    grads, metrics = jax.jit(lambda p: rule.trial_grads(p, trial, jax.random.key(1)))(params)
    assert np.isfinite(float(metrics["loss"])) and float(jnp.abs(grads["w_rec"]).sum()) > 0
    alif = models.get("alif", n_in=task.n_in, n_rec=6, n_out=task.n_out)
    with pytest.raises(ConfigError, match="^feedback: got"):
        rules.get("eprop", alif, feedback="mirror")
    with pytest.raises(ConfigError, match="^reg_rate: got"):
        rules.get("eprop", rate, reg_rate=1.0)
    with pytest.raises(ConfigError, match="^model: got"):
        rules.get("eprop_autodiff", rate)
    with pytest.raises(ConfigError, match="^n_out: got"):
        rules.get("eprop_reward", models.get("alif", n_in=4, n_rec=6, n_out=2))


# --------------------------------------------------------------------------------------- training
def test_adaptive_feedback_follows_w_out_in_the_trainer():
    """Kolen–Pollack: with the same update and decay (1−λ), B − W_outᵀ shrinks by (1−λ) per update."""
    task = tasks.get("pattern_generation", n_in=10, duration=60)
    model = models.get("lif", n_in=10, n_rec=12, n_out=1, w_in_scale=8.0)
    lam = 0.05
    rule = rules.get("eprop_adaptive", model, feedback_decay=lam)
    trainer = Trainer(model, task, rule, make_optimizer("adam", 1e-2), chunk=10)
    start = trainer.init(seed=0, n_seeds=1)
    result = trainer.fit(10, seed=0, n_seeds=1)
    gap = lambda st: np.asarray(st.rule_state.feedback[0] - st.params["w_out"][0].T)
    np.testing.assert_allclose(gap(result.state), (1 - lam) ** 10 * gap(start), rtol=1e-4, atol=1e-6)
    assert not np.allclose(np.asarray(result.state.rule_state.feedback), np.asarray(start.rule_state.feedback))


def test_eprop_learns_a_short_pattern():
    task = tasks.get("pattern_generation", n_in=30, duration=150)
    model = models.get("lif", n_in=30, n_rec=30, n_out=1, tau_m=30.0, tau_out=30.0, v_th=0.03,
                       zeta="1-alpha", n_ref=0)
    trainer = Trainer(model, task, rules.get("eprop", model, reg_rate=0.3), make_optimizer("adam", 3e-3), chunk=40)
    losses = trainer.fit(40, seed=0, n_seeds=1).losses
    assert losses[0, -5:].mean() < 0.5 * losses[0, :3].mean()


def test_compare_cli_with_a_spiking_model(tmp_path):
    from plastix.cli import main
    import sys

    out = tmp_path / "run"
    argv = ["plastix", "compare", "--task", "cue_accumulation", "--model", "alif", "--rules", "eprop,bptt",
            "--trials", "2", "--seeds", "1", "--n-rec", "8", "--out", str(out),
            "--set", "task_options.delay=20", "--set", "task_options.n_cues=1", "--set", "task_options.t_cue=5",
            "--set", "task_options.interval=10", "--set", "task_options.recall=10", "--set", "chunk=2"]
    old = sys.argv
    sys.argv = argv
    try:
        with pytest.raises(SystemExit) as exc:
            main()
    finally:
        sys.argv = old
    assert exc.value.code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["rules"]) == {"eprop", "bptt"}
    assert all(np.isfinite(r["final_loss"]["median"]) for r in summary["rules"].values())

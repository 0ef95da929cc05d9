"""The training loop: learning, determinism, resume, divergence, update schedules."""

import json

import jax
import numpy as np
import pytest

import plastix as px
from plastix.compare import build, resolve_config, run_compare
from plastix.errors import ConfigError, DivergenceError
from plastix.training import Trainer, make_optimizer


def periodic_trainer(rule="rflo", lr=0.03, n_rec=30, period=200, **kw):
    task = px.tasks.get("periodic", period=period)
    model = px.models.RateRNN(n_in=1, n_rec=n_rec, n_out=1, **kw.pop("model_kw", {}))
    return Trainer(model, task, px.rules.get(rule, model), make_optimizer("sgd", lr), **kw)


def test_rflo_learns_periodic_and_alignment_grows_short():
    trainer = periodic_trainer(chunk=500)
    state0 = trainer.init(0, 4)
    feedback = jax.vmap(trainer.rule.fixed_feedback)(state0.params, state0.rule_state)
    align0 = np.asarray(jax.vmap(px.metrics.feedback_alignment)(state0.params, feedback))
    result = trainer.fit(2000, seed=0, n_seeds=4)
    first = np.median(result.losses[:, 0])
    last = np.median(result.losses[:, -100:].mean(1))
    assert first / last > 10
    align_end = np.array([r["alignment"] for r in result.records if r["trial"] == 2000])
    assert np.median(align_end) > np.median(align0) + 0.2


@pytest.mark.slow
def test_rflo_learns_periodic_10k_trials():
    trainer = periodic_trainer(chunk=1000)
    state0 = trainer.init(0, 9)
    align0 = np.asarray(jax.vmap(px.metrics.feedback_alignment)(state0.params, state0.rule_state))
    result = trainer.fit(10_000, seed=0, n_seeds=9)
    ratio = np.median(result.losses[:, 0]) / np.median(result.losses[:, -100:].mean(1))
    assert ratio > 10
    assert np.median(result.losses[:, -100:].mean(1)) < 1e-2
    align_end = np.array([r["alignment"] for r in result.records if r["trial"] == 10_000])
    assert np.median(align_end) > np.median(align0)


def test_same_seed_same_numbers_and_rules_see_same_networks():
    a = periodic_trainer(chunk=50).fit(100, seed=3, n_seeds=2)
    b = periodic_trainer(chunk=50).fit(100, seed=3, n_seeds=2)
    np.testing.assert_array_equal(a.losses, b.losses)
    c = periodic_trainer("bptt", chunk=50).fit(100, seed=3, n_seeds=2)
    np.testing.assert_allclose(a.losses[:, 0], c.losses[:, 0], rtol=1e-5)  # same initial networks, same trial
    assert not np.array_equal(a.losses[:, 1:], c.losses[:, 1:])
    d = periodic_trainer(chunk=50).fit(100, seed=4, n_seeds=2)
    assert not np.array_equal(a.losses, d.losses)


def test_chunk_size_does_not_change_results():
    a = periodic_trainer(chunk=25).fit(100, seed=0, n_seeds=2)
    b = periodic_trainer(chunk=100).fit(100, seed=0, n_seeds=2)
    np.testing.assert_allclose(a.losses, b.losses, rtol=1e-5)


def test_online_updates_every_k_steps_learn():
    result = periodic_trainer("rflo", lr=0.03, chunk=200, update_every=20).fit(600, seed=0, n_seeds=2)
    assert np.median(result.losses[:, -50:].mean(1)) < 0.5 * np.median(result.losses[:, 0])
    with pytest.raises(ConfigError):
        periodic_trainer(update_every=7)


def test_online_update_with_tiny_lr_matches_per_trial_update(x64):
    # With a tiny learning rate, updating every k steps and once per trial give nearly the same weights.
    per_trial = periodic_trainer("rtrl", lr=1e-6, n_rec=6, period=40, chunk=5).fit(5, n_seeds=1)
    online = periodic_trainer("rtrl", lr=1e-6, n_rec=6, period=40, chunk=5, update_every=10).fit(5, n_seeds=1)
    start = periodic_trainer("rtrl", lr=1e-6, n_rec=6, period=40).init(0, 1)
    moved = np.abs(np.asarray(per_trial.state.params["w_rec"] - start.params["w_rec"])).max()
    diff = np.abs(np.asarray(per_trial.state.params["w_rec"] - online.state.params["w_rec"])).max()
    assert moved > 1e-9
    assert diff < 1e-3 * moved


def test_dale_law_is_kept_during_training():
    trainer = periodic_trainer(chunk=100, model_kw={"dale": True})
    result = trainer.fit(200, seed=0, n_seeds=2)
    w = np.asarray(result.state.params["w_rec"])
    signs = np.asarray(trainer.model.dale_signs())
    assert np.all(w * signs[None, None, :] >= 0)
    assert np.median(result.losses[:, -20:].mean(1)) < np.median(result.losses[:, 0])


def test_batches_of_trials():
    task = px.tasks.get("interval", min_delay=20, max_delay=40, onset=10)
    model = px.models.RateRNN(n_in=1, n_rec=20, n_out=1)
    result = Trainer(model, task, px.rules.get("bptt", model), make_optimizer("adam", 3e-3),
                     batch_size=8, chunk=100).fit(200, n_seeds=2)
    assert result.losses.shape == (2, 200)
    assert np.median(result.losses[:, -20:].mean(1)) < np.median(result.losses[:, :5].mean(1))


def test_divergence_names_rule_seed_trial_and_last_loss():
    trainer = periodic_trainer("bptt", lr=1e4, chunk=10)
    with pytest.raises(DivergenceError) as info:
        trainer.fit(200, seed=0, n_seeds=2)
    msg = str(info.value)
    assert "bptt" in msg and "seed" in msg and "trial" in msg and "last finite loss" in msg
    assert "\n" not in msg


def test_grad_cosine_metric():
    result = periodic_trainer("rtrl", n_rec=8, chunk=20, grad_cosine=True).fit(20, n_seeds=1)
    assert result.records[-1]["grad_cosine"] == pytest.approx(1.0, abs=1e-4)


def compare_setup(tmp_path, **overrides):
    conf = resolve_config(
        trials=120, seeds=2, n_rec=10,
        overrides=["chunk=40", "task_options.period=50", *[f"{k}={v}" for k, v in overrides.items()]],
    )
    return build(conf)


def test_resume_gives_exactly_the_uninterrupted_numbers(tmp_path):
    full_dir, cut_dir = tmp_path / "full", tmp_path / "cut"
    full_dir.mkdir()
    cut_dir.mkdir()
    run_compare(compare_setup(tmp_path), full_dir, progress=False)

    class Stop(Exception):
        pass

    def interrupt(rule, state):
        if rule == "bptt" and state.trial == 40:
            raise Stop

    with pytest.raises(Stop):
        run_compare(compare_setup(tmp_path), cut_dir, progress=False, on_chunk=interrupt)
    assert not (cut_dir / "summary.json").exists()
    run_compare(compare_setup(tmp_path), cut_dir, progress=False)
    full, cut = np.load(full_dir / "curves.npz"), np.load(cut_dir / "curves.npz")
    for rule in ("rflo", "bptt"):
        np.testing.assert_array_equal(full[rule], cut[rule])
    a = json.loads((full_dir / "summary.json").read_text())
    b = json.loads((cut_dir / "summary.json").read_text())
    for rule in ("rflo", "bptt"):
        assert a["rules"][rule]["final_loss"] == b["rules"][rule]["final_loss"]
    rows_a = [json.loads(l) for l in open(full_dir / "metrics.jsonl")]
    rows_b = [json.loads(l) for l in open(cut_dir / "metrics.jsonl")]
    assert [r["loss"] for r in rows_a] == [r["loss"] for r in rows_b]


def test_summary_schema(tmp_path):
    summary = run_compare(compare_setup(tmp_path), tmp_path, progress=False)
    assert set(summary) == {"task", "n_rec", "trials", "seeds", "rules"}
    assert summary["n_rec"] == 10 and summary["trials"] == 120 and summary["seeds"] == 2
    for r in summary["rules"].values():
        assert isinstance(r["initial_loss"], float) and isinstance(r["seconds"], float)
        assert set(r["final_loss"]) == {"median", "q25", "q75"}
        assert r["final_loss"]["q25"] <= r["final_loss"]["median"] <= r["final_loss"]["q75"]
    for name in ("summary.json", "metrics.jsonl", "learning_curves.png", "config.toml", "curves.npz"):
        assert (tmp_path / name).stat().st_size > 0


def test_divergence_in_compare_keeps_last_good_checkpoint(tmp_path, monkeypatch, capsys):
    import sys

    from plastix import cli

    out = tmp_path / "run"
    monkeypatch.setattr(sys, "argv", ["plastix", "compare", "--out", str(out), "--rules", "bptt", "--trials", "400",
                                      "--seeds", "2", "--n-rec", "10", "--lr", "30", "--set", "chunk=5",
                                      "--set", "task_options.period=50"])
    with pytest.raises(SystemExit) as info:
        cli.main()
    err = capsys.readouterr().err
    assert info.value.code == 1
    assert len(err.strip().splitlines()) == 1 and "bptt" in err and "last finite loss" in err
    assert (out / "checkpoints" / "bptt.npz").exists()
    assert not (out / "summary.json").exists()
    with np.load(out / "checkpoints" / "bptt.npz") as data:
        assert all(np.isfinite(data[k]).all() for k in data.files if k != "__meta__")


def test_seed_groups_give_the_numbers_of_one_vmap():
    from plastix.training import seed_group_size

    assert [seed_group_size(9, c) for c in (None, 1, 2, 4, 8, 9, 20)] == [9, 1, 1, 3, 3, 9, 9]
    model = px.models.RateRNN(n_in=1, n_rec=8, n_out=1)
    task = px.tasks.get("periodic", period=20)
    results = []
    for seed_chunk in (None, 2, 4):
        trainer = Trainer(model, task, px.rules.get("rflo", model), make_optimizer("sgd", 0.03), chunk=10,
                          seed_chunk=seed_chunk)
        results.append(trainer.fit(20, seed=3, n_seeds=6))
    for other in results[1:]:
        np.testing.assert_allclose(other.losses, results[0].losses, rtol=1e-5)
        np.testing.assert_allclose(other.state.params["w_rec"], results[0].state.params["w_rec"], rtol=1e-5, atol=1e-7)
        assert [r["seed"] for r in other.records] == [r["seed"] for r in results[0].records]
    with pytest.raises(px.errors.ConfigError):
        Trainer(model, task, px.rules.get("rflo", model), make_optimizer("sgd", 0.03), seed_chunk=0)

"""The neurogym adapter: trials equal neurogym's own, sampling indexes the bank, networks train.

References are independent of the adapter: trials regenerated with neurogym directly (same
environment, same seed) and one-hot targets built with NumPy.
"""

import json
import sys
import warnings

import numpy as np
import pytest

neurogym = pytest.importorskip("neurogym", reason="neurogym is not installed (pip install 'plastix[neurogym]')",
                               exc_type=ImportError)

import jax  # noqa: E402

import plastix as px  # noqa: E402
from plastix.errors import ConfigError  # noqa: E402

# fixed-length, fixed-length, variable-length (14–37 steps), variable-length with dt = 80 ms
ENVS = ["PerceptualDecisionMaking-v0", "GoNogo-v0", "ContextDecisionMaking-v0", "ReadySetGo-v0"]


def raw_trials(env_id, n, seed, **env_kwargs):
    """n trials straight from neurogym, seeded as the adapter seeds its bank."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        env = neurogym.make(env_id, **env_kwargs)
    core = env.unwrapped
    core.seed(seed)
    out = []
    for _ in range(n):
        core.new_trial()
        out.append((np.array(core.ob, dtype=np.float32), np.array(core.gt), dict(core.start_ind), dict(core.end_ind)))
    return out, env.action_space.n


@pytest.mark.parametrize("env_id", ENVS)
def test_bank_equals_neurogym_trials(env_id):
    task = px.tasks.get(f"neurogym:{env_id}", n_trials=40, bank_seed=3)
    raw, n_actions = raw_trials(env_id, 40, 3)
    T = max(len(ob) for ob, *_ in raw)
    assert (task.n_in, task.n_out, task.n_steps) == (raw[0][0].shape[1], n_actions, T)
    trial = task.bank_trial(np.arange(40))
    inputs, targets, mask = (np.asarray(a) for a in trial)
    for i, (ob, gt, _, _) in enumerate(raw):
        L = len(ob)
        np.testing.assert_array_equal(inputs[:L, i], ob)
        np.testing.assert_array_equal(inputs[L:, i], 0.0)  # padding: no input …
        np.testing.assert_array_equal(targets[:L, i], np.eye(n_actions)[gt])
        np.testing.assert_array_equal(mask[:L, i], 1.0)
        np.testing.assert_array_equal(mask[L:, i], 0.0)  # … and no loss
    assert sorted(set(task.trial_lengths)) == sorted({len(ob) for ob, *_ in raw})


def test_variable_length_trials_are_padded_to_the_longest():
    task = px.tasks.get("neurogym:ContextDecisionMaking-v0", n_trials=60)
    lengths = task.trial_lengths
    assert lengths.min() < lengths.max() == task.n_steps
    mask = np.asarray(task.bank_trial(np.arange(60)).mask)
    np.testing.assert_array_equal(mask[:, :, 0].sum(0), lengths)
    longer = px.tasks.get("neurogym:ContextDecisionMaking-v0", n_trials=60, length=int(lengths.max()) + 5)
    assert longer.n_steps == lengths.max() + 5
    with pytest.raises(ConfigError, match="length"):
        px.tasks.get("neurogym:ContextDecisionMaking-v0", n_trials=60, length=int(lengths.max()) - 1)


def test_masks_from_ground_truth_and_periods():
    raw, _ = raw_trials("PerceptualDecisionMaking-v0", 20, 0)
    response = np.asarray(px.tasks.get("neurogym:PerceptualDecisionMaking-v0", n_trials=20, mask="response").bank_trial(np.arange(20)).mask)
    periods = np.asarray(px.tasks.get("neurogym:PerceptualDecisionMaking-v0", n_trials=20, mask=["stimulus"]).bank_trial(np.arange(20)).mask)
    for i, (ob, gt, start, end) in enumerate(raw):
        np.testing.assert_array_equal(response[: len(gt), i, 0], (gt != 0).astype(float))
        expected = np.zeros(response.shape[0])
        expected[start["stimulus"] : end["stimulus"]] = 1
        np.testing.assert_array_equal(periods[:, i, 0], expected)
        assert response[:, i].sum() > 0 and periods[:, i].sum() > 0


def test_sample_indexes_the_bank_with_jax_random():
    task = px.tasks.get("neurogym:GoNogo-v0", n_trials=50)
    key = jax.random.key(7)
    trial = task.sample(key, batch_size=16)
    idx = np.asarray(jax.random.randint(key, (16,), 0, 50))
    bank = task.bank_trial(idx)
    for a, b in zip(trial, bank):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert len(set(idx.tolist())) > 1
    # pure: jit- and vmap-able, same key same trials
    jitted = jax.jit(task.sample, static_argnums=1)(key, 16)
    np.testing.assert_array_equal(np.asarray(jitted.inputs), np.asarray(trial.inputs))
    many = jax.vmap(lambda k: task.sample(k, 4).targets)(jax.random.split(key, 3))
    assert many.shape == (3, task.n_steps, 4, task.n_out)


def response_accuracy(model, params, task, n=200):
    trial = task.bank_trial(np.arange(n))
    _, aux = model.run(params, trial.inputs)
    y, target, mask = np.asarray(aux.y), np.asarray(trial.targets), np.asarray(trial.mask)
    respond = (target.argmax(-1) != 0) & (mask[..., 0] > 0)
    return float((y.argmax(-1) == target.argmax(-1))[respond].mean())


@pytest.mark.parametrize(
    "env_id, trials, min_accuracy",
    [("PerceptualDecisionMaking-v0", 500, 0.75), ("GoNogo-v0", 300, 0.9), ("ContextDecisionMaking-v0", 250, None)],
)
def test_networks_train_on_neurogym_tasks(env_id, trials, min_accuracy):
    """BPTT + Adam on batches of 16 trials: the loss falls; where the response is learned within
    the budget, the choice at the response steps is mostly right (chance: 50 %).  (The network
    first learns to fixate — most steps — and only then to respond: 0 % at 100 batches, ~88 % at
    500 on PerceptualDecisionMaking.)"""
    from plastix.training import Trainer, make_optimizer

    task = px.tasks.get(f"neurogym:{env_id}", n_trials=500)
    model = px.models.RateRNN(n_in=task.n_in, n_rec=32, n_out=task.n_out)
    trainer = Trainer(model, task, px.rules.get("bptt", model), make_optimizer("adam", 0.01), batch_size=16, chunk=250)
    result = trainer.fit(trials, seed=0, n_seeds=1)
    first, last = result.losses[0, :10].mean(), result.losses[0, -10:].mean()
    assert last < 0.35 * first, (first, last)
    if min_accuracy is not None:
        params = jax.tree_util.tree_map(lambda a: a[0], result.state.params)
        assert response_accuracy(model, params, task) > min_accuracy


def test_plastix_compare_on_a_neurogym_task(monkeypatch, capsys, tmp_path):
    from plastix import cli

    out = tmp_path / "run"
    monkeypatch.setattr(sys, "argv", ["plastix", "compare", "--task", "neurogym:PerceptualDecisionMaking-v0",
                                      "--rules", "rflo,bptt", "--trials", "200", "--seeds", "2", "--n-rec", "24",
                                      "--set", "batch_size=8", "--set", "task_options.n_trials=200", "--out", str(out)])
    with pytest.raises(SystemExit) as info:
        cli.main()
    assert info.value.code == 0, capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["task"] == "neurogym:PerceptualDecisionMaking-v0"
    for rule in ("rflo", "bptt"):
        stats = summary["rules"][rule]
        assert stats["final_loss"]["median"] < 0.5 * stats["initial_loss"]


@pytest.mark.parametrize(
    "name, options, field",
    [
        ("neurogym:NoSuchTask-v0", {}, "neurogym:NoSuchTask-v0"),
        ("neurogym:", {}, "neurogym:<environment id>"),
        ("neurogym:GoNogo-v0", {"speed": 1}, "speed"),
        ("neurogym:GoNogo-v0", {"env_kwargs": {"speed": 1}}, "env_kwargs"),
        ("neurogym:GoNogo-v0", {"n_trials": 0}, "n_trials"),
        ("neurogym:GoNogo-v0", {"mask": "everything"}, "mask"),
        ("neurogym:GoNogo-v0", {"mask": ["nope"]}, "decision"),
        ("neurogym:Reaching1D-v0", {}, "action index"),
    ],
)
def test_bad_options_one_line(name, options, field):
    with pytest.raises(ConfigError) as info:
        px.tasks.get(name, **options)
    assert field in str(info.value) and "\n" not in str(info.value)


def test_env_kwargs_reach_the_environment():
    slow = px.tasks.get("neurogym:GoNogo-v0", n_trials=5, env_kwargs={"dt": 50})
    fast = px.tasks.get("neurogym:GoNogo-v0", n_trials=5)
    assert slow.dt == 50 and fast.dt == 100 and slow.n_steps == 2 * fast.n_steps

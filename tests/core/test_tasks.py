"""Each task's trial structure, pinned."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plastix as px
from plastix.errors import ConfigError


def test_periodic_target_and_shapes():
    task = px.tasks.get("periodic", period=200)
    trial = task.sample(jax.random.key(0), batch_size=4)
    assert trial.inputs.shape == (200, 4, 1) and trial.targets.shape == (200, 4, 1)
    assert np.all(np.asarray(trial.inputs) == 0) and np.all(np.asarray(trial.mask) == 1)
    t = np.arange(1, 201) / 200
    expected = np.sin(2 * np.pi * t) + 0.5 * np.sin(4 * np.pi * t) + 0.25 * np.sin(8 * np.pi * t)
    np.testing.assert_allclose(np.asarray(trial.targets[:, 2, 0]), expected, atol=1e-5)


def test_interval_pulses_and_mask():
    task = px.tasks.get("interval", min_delay=50, max_delay=150, pulse_sd=15.0, onset=40)
    trial = task.trial_for_delays(jnp.array([60, 120]))
    x, y, m = (np.asarray(a[..., 0]) for a in trial)
    assert x.shape == (task.n_steps, 2) and task.n_steps == 40 + 300 + 60
    for b, d in enumerate([60, 120]):
        peaks = sorted(np.argsort(x[:, b])[-1:]) + [40 + d]
        assert abs(np.argmax(x[: 40 + d // 2, b]) - 40) <= 0
        assert abs(40 + d // 2 + np.argmax(x[40 + d // 2 :, b]) - (40 + d)) <= 0
        assert np.argmax(y[:, b]) == 40 + 2 * d
        assert m[: 40 + d, b].sum() == 0 and np.all(m[40 + d :, b] == 1)
        assert peaks
    sampled = task.sample(jax.random.key(0), 64)
    set_times = np.argmax(np.asarray(sampled.mask[..., 0]), axis=0) - 40
    assert set_times.min() >= 50 and set_times.max() <= 150


def test_add_task_targets_follow_lags():
    task = px.tasks.get("add", t1=3, t2=5, tau_task=2, length=40)
    trial = task.sample(jax.random.key(1), 3)
    x = np.asarray(trial.inputs[..., 0])
    np.testing.assert_array_equal(x + np.asarray(trial.inputs[..., 1]), 1.0)
    y = np.asarray(trial.targets[..., 0])
    for t in range(10, 40):
        np.testing.assert_allclose(y[t], 0.5 + 0.5 * x[t - 6] - 0.25 * x[t - 10])
    assert np.asarray(trial.mask)[:10].sum() == 0 and np.all(np.asarray(trial.mask)[10:] == 1)
    assert np.all(x[0::2] == x[1::2])  # held for tau_task steps


def test_mimic_targets_are_teacher_outputs():
    task = px.tasks.get("mimic", length=30)
    trial = task.sample(jax.random.key(2), 2)
    model, params = task.teacher()
    _, aux = model.run(params, trial.inputs)
    np.testing.assert_allclose(trial.targets, aux.y, rtol=1e-6)
    assert np.asarray(trial.mask)[:10].sum() == 0


def test_delayed_nonmatch_structure():
    task = px.tasks.get("delayed_nonmatch", stim=5, delay=10, response=10)
    trial = task.sample(jax.random.key(3), 16)
    x = np.asarray(trial.inputs)
    assert x.shape == (30, 16, 2)
    assert np.all(x[5:15] == 0) and np.all(x[20:] == 0)
    first, second = x[0].argmax(-1), x[15].argmax(-1)
    y, m = np.asarray(trial.targets[..., 0]), np.asarray(trial.mask[..., 0])
    np.testing.assert_array_equal(y[25], (first != second) * 1.0)
    assert np.all(m[:20] == 0) and np.all(m[20:] == 1)


def test_flipflop_holds_last_pulse():
    task = px.tasks.get("flipflop", n_bits=2, length=200, p_pulse=0.1)
    trial = task.sample(jax.random.key(4), 2)
    x, y = np.asarray(trial.inputs), np.asarray(trial.targets)
    for b in range(2):
        for k in range(2):
            last = 0.0
            for t in range(200):
                if x[t, b, k] != 0:
                    last = x[t, b, k]
                assert y[t, b, k] == last


@pytest.mark.parametrize(
    "name, options",
    [("nope", {}), ("periodic", {"period": 0}), ("periodic", {"colour": 1}), ("interval", {"min_delay": 9, "max_delay": 3})],
)
def test_bad_task_options(name, options):
    with pytest.raises(ConfigError):
        px.tasks.get(name, **options)

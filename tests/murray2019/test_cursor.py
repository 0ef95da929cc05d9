"""The cursor plant, its syllables and the stage-1 / direct tasks (plastix.circuits.cursor)."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from plastix.circuits import CursorSyllables, SequenceTask, SyllableTask
from plastix.errors import ConfigError


def test_each_reach_moves_the_cursor_by_its_displacement():
    c = CursorSyllables(n_directions=4, syllable_steps=50, hold_steps=30, reach_distance=0.8)
    for k in range(4):
        v = c.unit_target(k)
        assert v.shape == (80, 2)
        np.testing.assert_allclose(np.asarray(v[50:]), 0.0)  # hold: no movement
        end = np.asarray(c.positions(v))[-1]
        angle = 2 * np.pi * k / 4
        np.testing.assert_allclose(end, [0.8 * np.cos(angle), 0.8 * np.sin(angle)], atol=1e-5)
        assert float(jnp.abs(v[0]).max()) < 0.01 and float(jnp.abs(v[49]).max()) < 1e-5  # starts and ends at rest


def test_speed_profile_is_smooth_and_has_unit_mean():
    prof = np.asarray(CursorSyllables(syllable_steps=200).speed_profile())
    assert prof.shape == (200,)
    assert abs(prof.mean() - 1.0) < 1e-6
    assert prof.argmax() in (99, 100) and abs(prof.max() - 2.0) < 1e-4
    assert prof[-1] < 1e-6  # a reach ends at rest


def test_allowed_matches_an_exhaustive_reference():
    c = CursorSyllables(reach_distance=1.0, bound=1.5)
    disp = np.array([[1, 0], [0, 1], [-1, 0], [0, -1]], float)
    for x, y in itertools.product(np.linspace(-1.5, 1.5, 7), repeat=2):
        ref = [bool(np.all(np.abs(np.array([x, y]) + d) <= 1.5 + 1e-9)) for d in disp]
        assert np.asarray(c.allowed(jnp.array([x, y]))).tolist() == ref, (x, y)


def test_random_walks_never_plan_out_of_bounds():
    c = CursorSyllables(bound=1.0)
    actions = np.asarray(jax.vmap(lambda k: c.random_walk(k, 12))(jax.random.split(jax.random.key(0), 200)))
    disp = np.asarray(c.displacements())
    pos = np.cumsum(disp[actions], axis=1)
    assert np.all(np.abs(pos) <= 1.0 + 1e-5)
    assert len(np.unique(actions)) == 4  # every reach is used


def test_syllable_task_trial_structure():
    c = CursorSyllables(syllable_steps=20, hold_steps=10)
    task = SyllableTask(c, n_chain=3)
    trial = task.sample(jax.random.key(1), batch_size=5)
    assert trial.inputs.shape == (90, 5, 4) and trial.targets.shape == (90, 5, 2) and task.n_steps == 90
    x = np.asarray(trial.inputs)
    for unit in range(3):
        reach = x[unit * 30 : unit * 30 + 20]
        hold = x[unit * 30 + 20 : unit * 30 + 30]
        assert np.all(reach.sum(-1) == 1.0) and np.all(reach.max(0).sum(-1) == 1.0)  # one tonic input, held on
        assert np.all(hold == 0.0)
        np.testing.assert_allclose(np.asarray(trial.targets[unit * 30 + 20 : unit * 30 + 30]), 0.0)
    # the target of each unit is the reach of the input that is on
    acts = x[0::30].argmax(-1)  # (3, 5)
    for b in range(5):
        ref = np.concatenate([np.asarray(c.unit_target(int(a))) for a in acts[:, b]])
        np.testing.assert_allclose(np.asarray(trial.targets[:, b]), ref, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(trial.mask), 1.0)


def test_sequence_task_is_the_concatenated_target_without_input():
    c = CursorSyllables(syllable_steps=20, hold_steps=20)
    task = SequenceTask(c, (0, 1, 2, 3))
    trial = task.sample(jax.random.key(0), 2)
    assert task.n_steps == 160 and trial.inputs.shape == (160, 2, 1)
    np.testing.assert_array_equal(np.asarray(trial.inputs), 0.0)
    path = np.asarray(c.positions(trial.targets[:, 0]))
    # right, up, left, down: a unit square back to the origin
    np.testing.assert_allclose(path[[39, 79, 119, 159]], [[1, 0], [1, 1], [0, 1], [0, 0]], atol=1e-5)


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda: CursorSyllables(n_directions=1), "n_directions"),
        (lambda: CursorSyllables(reach_distance=2.0, bound=1.0), "bound"),
        (lambda: SequenceTask(CursorSyllables(), (0, 7)), "actions"),
        (lambda: SyllableTask(CursorSyllables(), 0), "n_chain"),
    ],
)
def test_bad_settings_name_the_field(make, field):
    with pytest.raises(ConfigError, match=field):
        make()

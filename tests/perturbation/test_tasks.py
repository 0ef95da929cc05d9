"""The teacher–student and reservoir tasks: trial structure pinned, error formula exact."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plastix as px
from plastix.errors import ConfigError
from plastix.rules.base import loss_value
from plastix.tasks.reservoir import ReservoirButterfly, butterfly
from plastix.tasks.teacher_student import TeacherStudent, temporal_basis


@pytest.mark.parametrize("length", [1, 2, 7, 100])
def test_temporal_basis_is_orthonormal_and_starts_with_a_constant(length):
    b = temporal_basis(length)
    np.testing.assert_allclose(b @ b.T, np.eye(length), atol=1e-12)
    np.testing.assert_allclose(b[0], 1 / np.sqrt(length))
    if length >= 3:  # second function is sin t (up to normalisation)
        t = 2 * np.pi * np.arange(length) / length
        np.testing.assert_allclose(b[1], np.sin(t) / np.linalg.norm(np.sin(t)), atol=1e-12)


def trial_errors(task, w, trial):
    y = jnp.einsum("tbn,mn->tbm", trial.inputs, w)
    per_example = 0.5 * jnp.sum((trial.targets - y) ** 2, axis=(0, 2)) / task.length
    return np.asarray(per_example)


def test_single_task_trial_error_equals_the_formula(x64):
    task = TeacherStudent(n_in=12, n_out=3, length=10, n_task=6, n_trial=6, e_opt=0.8)
    w = 0.05 * jax.random.normal(jax.random.key(0), (3, 12))
    trial = task.sample(jax.random.key(1), 2)
    assert trial.inputs.shape == (10, 2, 12) and trial.targets.shape == (10, 2, 3)
    np.testing.assert_allclose(trial.mask, 1.0)
    np.testing.assert_allclose(trial_errors(task, w, trial), task.expected_error(w), rtol=1e-12)
    x = np.asarray(trial.inputs[:, 0, :])
    s = x.T @ x / task.length  # S = α² on the active inputs, 0 on the never-active ones
    np.testing.assert_allclose(s, np.diag([task.alpha2] * 6 + [0] * 6), atol=1e-12)
    assert task.initial_error() == pytest.approx(0.8 + 0.5 * task.alpha2 * 3 * 6 * 0.01)
    np.testing.assert_array_equal(task.irrelevant_weights(w), w[:, 6:])


@pytest.mark.parametrize("basis,rotate", [("fixed", False), ("per_trial", True)])
def test_subtask_error_averages_to_the_expected_error(x64, basis, rotate):
    task = TeacherStudent(n_in=10, n_out=2, length=8, n_task=5, n_trial=2, e_opt=0.5, basis=basis, rotate=rotate)
    w = 0.1 * jax.random.normal(jax.random.key(2), (2, 10))
    errors = trial_errors(task, w, task.sample(jax.random.key(3), 4000))
    sem = errors.std() / np.sqrt(errors.size)
    assert abs(errors.mean() - float(task.expected_error(w))) < 4 * sem
    # Every trial: exactly n_trial active latent inputs, each of power α² T, and the
    # unrealizable target part orthogonal to every input.
    trial = task.sample(jax.random.key(4), 5)
    rot = np.asarray(task.rotation()) if rotate else np.eye(10)
    latent = np.einsum("tbn,nm->tbm", np.asarray(trial.inputs), rot)  # undo x → R x
    power = np.sum(latent**2, axis=0)
    assert np.all(np.sum(power > 1e-9, axis=1) == 2)
    np.testing.assert_allclose(power[power > 1e-9], task.alpha2 * task.length)
    realizable = np.einsum("tbn,mn->tbm", latent, np.asarray(task.teacher()))
    residual = np.asarray(trial.targets) - realizable
    np.testing.assert_allclose(np.einsum("tbm,tbn->bmn", residual, latent), 0.0, atol=1e-9)
    np.testing.assert_allclose(0.5 * np.sum(residual**2, axis=(0, 2)) / task.length, 0.5)


def test_one_pattern_per_trial_with_t_equal_1():
    task = TeacherStudent(n_in=20, n_out=3, length=1, n_task=20, n_trial=1, basis="per_trial", rotate=True)
    trial = task.sample(jax.random.key(0), 6)
    assert trial.inputs.shape == (1, 6, 20)
    np.testing.assert_allclose(np.sum(np.asarray(trial.inputs) ** 2, -1), 20.0, rtol=1e-5)
    assert np.all(np.abs(np.asarray(trial.inputs)) > 0)  # rotation: every input unit carries signal


def test_validation_and_registry():
    with pytest.raises(ConfigError):
        TeacherStudent(n_task=60, n_trial=10, n_in=50)
    with pytest.raises(ConfigError):
        TeacherStudent(n_trial=60)
    with pytest.raises(ConfigError, match="length"):
        TeacherStudent(length=50, n_task=50, e_opt=1.0)  # no room for the unrealizable part
    with pytest.raises(ConfigError):
        TeacherStudent(basis="random")
    assert isinstance(px.tasks.get("teacher_student", n_trial=10), TeacherStudent)
    assert isinstance(px.tasks.get("reservoir_butterfly", n_res=10, length=20), ReservoirButterfly)


def test_reservoir_task(x64):
    task = ReservoirButterfly(n_res=40, length=60, warmup=20)
    rates = task.rates()
    assert rates.shape == (40, 60) and np.all(np.abs(rates) < 1)
    np.testing.assert_array_equal(rates, ReservoirButterfly(n_res=40, length=60, warmup=20).rates())  # deterministic
    np.testing.assert_allclose(butterfly(60)[:, 0], [1.0, 0.0], atol=1e-12)  # ρ(0) = 0.1 (9 + 3 − 2)
    trial = task.sample(jax.random.key(0), 3)
    assert trial.inputs.shape == (60, 3, 40) and trial.targets.shape == (60, 3, 2)
    w = 0.01 * np.ones((2, 40))
    y = jnp.einsum("tbn,mn->tbm", trial.inputs, jnp.asarray(w))
    assert task.error(w) == pytest.approx(float(loss_value(y, trial.targets, trial.mask, 60)), rel=1e-5)
    w_opt, e_opt = task.least_squares()
    assert e_opt <= task.error(np.zeros((2, 40))) and e_opt <= task.error(w)
    lam, vec = task.spectrum()
    assert np.all(np.diff(lam) <= 1e-12)
    np.testing.assert_allclose(vec @ np.diag(lam) @ vec.T, rates @ rates.T / 60, atol=1e-10)

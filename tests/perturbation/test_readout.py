"""The LinearReadout model, the training loop with a threaded rule state, and train_readout."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plastix as px
from plastix.errors import ConfigError
from plastix.models import LinearReadout
from plastix.readout import accuracy, fit_task, load_digits_split, perturbation_trainer, train_readout
from plastix.rules.perturbation import NodePerturbation
from plastix.tasks.teacher_student import TeacherStudent


def test_readout_run_equals_its_step_and_bptt_is_the_delta_rule(x64):
    model = LinearReadout(n_in=3, n_out=2, bias=True)
    params = {"w_out": jnp.array([[0.1, -0.2, 0.3], [0.0, 0.5, -0.1]]), "b_out": jnp.array([0.05, -0.02])}
    k1, k2 = jax.random.split(jax.random.key(0))
    trial = px.tasks.Trial(jax.random.normal(k1, (6, 2, 3)), jax.random.normal(k2, (6, 2, 2)), jnp.ones((6, 2, 2)))
    _, aux = model.run(params, trial.inputs)
    steps = np.stack([np.asarray(model.step(params, None, trial.inputs[t])[1].y) for t in range(6)])
    np.testing.assert_allclose(aux.y, steps, rtol=1e-12)
    grads, _ = px.rules.BPTT(model).trial_grads(params, trial, jax.random.key(1))
    err = np.asarray(trial.targets - aux.y)
    np.testing.assert_allclose(grads["w_out"], -np.einsum("tbi,tbj->ij", err, np.asarray(trial.inputs)) / 12, rtol=1e-10)
    np.testing.assert_allclose(grads["b_out"], -err.sum((0, 1)) / 12, rtol=1e-10)
    assert px.models.get("readout", n_in=3, n_out=2, n_rec=30).n_in == 3  # what `plastix compare` builds


def error_record(task, params):
    return {"error": task.expected_error(params["w_out"])}


def test_exact_gradient_at_lr_one_over_alpha2_solves_the_task_in_one_step(x64):
    # E = E_opt + (α²/2)|D|² and ∇E = −α² D on the active inputs: η = 1/α² lands on the optimum.
    task = TeacherStudent(n_in=8, n_out=2, length=10, n_task=4, n_trial=4, e_opt=0.3)
    model = LinearReadout(8, 2)
    out = fit_task(model, task, px.rules.BPTT(model), 1 / task.alpha2, 2, record=error_record)
    np.testing.assert_allclose(out["records"]["error"][0], [0.3, 0.3], rtol=1e-10)
    np.testing.assert_allclose(out["losses"][0, 0], task.initial_error(), rtol=1e-6)
    # Decay multiplies the weights after the update: W ← γ (W − η ĝ).
    decayed = fit_task(model, task, px.rules.BPTT(model), 1 / task.alpha2, 1, decay=0.5)
    np.testing.assert_allclose(out["params"]["w_out"][0], task.teacher(), rtol=1e-10)
    np.testing.assert_allclose(decayed["params"]["w_out"][0], 0.5 * task.teacher(), rtol=1e-10)


def test_running_mean_baseline_learns_inside_fit_task():
    task = TeacherStudent(n_in=8, n_out=2, length=10, n_task=4, n_trial=4, e_opt=0.0)
    model = LinearReadout(8, 2)
    rule = NodePerturbation(model, sigma=0.05, baseline="running_mean", baseline_rate=0.2)
    out = fit_task(model, task, rule, 0.02, 600, n_seeds=2, record=error_record)
    err = out["records"]["error"]
    assert np.all(err[:, -50:].mean(1) < 0.5 * task.initial_error())


def test_train_readout_on_digits_and_the_trainer_interface():
    x_tr, y_tr, x_te, y_te = load_digits_split()
    mu, sd = x_tr.mean(0), x_tr.std(0) + 1e-6
    x_tr, x_te = (x_tr - mu) / sd, (x_te - mu) / sd
    accs = {}
    for rule in ("sgd", "np"):
        out = train_readout(x_tr, y_tr, jax.random.key(0), rule=rule, lr=0.1 if rule == "sgd" else None,
                            epochs=8, batch_size=100)
        assert out["weights"].shape == (64, 10) and out["bias"].shape == (10,)
        assert out["losses"].shape == (8 * (len(x_tr) // 100),)
        accs[rule] = accuracy(out["weights"], out["bias"], x_te, y_te)
    assert accs["sgd"] > 0.9
    assert accs["np"] > 0.3  # far above chance (0.1) after 104 noisy updates
    trainer = perturbation_trainer("np", epochs=8, batch_size=100)
    params = trainer(x_tr, y_tr, jax.random.key(0))
    assert set(params) == {"weights", "bias"}
    np.testing.assert_allclose(params["weights"], train_readout(x_tr, y_tr, jax.random.key(0), rule="np", epochs=8,
                                                                batch_size=100)["weights"])


def test_train_readout_validation():
    x = np.zeros((10, 3), np.float32)
    with pytest.raises(ConfigError):
        train_readout(x, np.arange(9), jax.random.key(0))
    with pytest.raises(ConfigError):
        train_readout(x, -np.ones(10, int), jax.random.key(0))
    with pytest.raises(ConfigError):
        train_readout(x, np.zeros(10, int), jax.random.key(0), rule="xp")
    with pytest.raises(ConfigError):
        train_readout(x, np.zeros(10, int), jax.random.key(0), batch_size=11)
    with pytest.raises(ConfigError):
        model = LinearReadout(2, 1)
        fit_task(model, TeacherStudent(n_in=2, n_out=1, n_task=1, n_trial=1), px.rules.BPTT(model), 0.1, 5, decay=1.5)


@pytest.mark.parametrize("update_every", [None, 5])
def test_running_mean_baseline_learns_under_the_trainer(update_every):
    # The Trainer hands each trial's metrics to rule.update_state: L̄ leaves NaN after the first
    # trial, tracks the perturbed losses, and the rule (no update while L̄ is NaN) then learns.
    task = TeacherStudent(n_in=8, n_out=2, length=10, n_task=4, n_trial=4, e_opt=0.0)
    model = LinearReadout(8, 2)
    rule = NodePerturbation(model, sigma=0.05, baseline="running_mean", baseline_rate=0.2)
    trainer = px.training.Trainer(model, task, rule, px.training.make_optimizer("sgd", 0.005), batch_size=4,
                         update_every=update_every)
    one = trainer.fit(1, seed=0, n_seeds=2)
    baseline = np.asarray(one.state.rule_state.baseline)
    assert np.all(np.isfinite(baseline))
    # First trial: no update (L̄ was NaN) and L̄ = that trial's perturbed loss.
    np.testing.assert_array_equal(one.state.params["w_out"], trainer.init(0, 2).params["w_out"])
    result = trainer.fit(400, seed=0, n_seeds=2)
    first, last = result.losses[:, :20].mean(1), result.losses[:, -20:].mean(1)
    assert np.all(last < 0.5 * first)
    assert np.all(np.abs(np.asarray(result.state.rule_state.baseline) - last) < 0.5 * first)
    # Seeds draw their own perturbations, online too (both start from the same zero readout).
    assert not np.allclose(result.losses[0], result.losses[1])


@pytest.mark.parametrize("shape", [(40, 7), (7, 40)])
def test_participation_ratio_matches_the_eigenvalues_of_s(shape):
    from plastix.readout import participation_ratio_of_features

    x = np.random.default_rng(1).standard_normal(shape) * np.linspace(0.5, 3.0, shape[1])
    eig = np.linalg.eigvalsh(x.T @ x / shape[0])
    pr, alpha2 = participation_ratio_of_features(x)
    np.testing.assert_allclose(pr, eig.sum() ** 2 / np.sum(eig**2), rtol=1e-10)
    np.testing.assert_allclose(alpha2, eig.sum() / pr, rtol=1e-10)

"""The expected update of WP and NP is the true gradient (small σ), measured over many draws.

Tolerances come from the sample: with n draws of the estimate ĝ, each component of the mean has
standard error s_i/√n, so z_i = (mean_i − g_i)/(s_i/√n) is ~N(0, 1) for an unbiased estimator;
we require mean z² < 2 and max |z| < 5.5.  The relative error |mean − g|/|g| must also be below
3·sqrt(Σ s_i²/n)/|g| (its expected size is sqrt(Σ s_i²/n)/|g|), which shrinks as 1/√n.
A deliberately wrong eligibility (negative control) must fail the same test.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plastix as px
from plastix.models import LinearReadout
from plastix.rules.perturbation import HybridPerturbation, NodePerturbation, WeightPerturbation
from plastix.tasks.teacher_student import TeacherStudent

DRAWS = 4000


def flat(grads):
    return jnp.concatenate([jnp.ravel(grads[k]) for k in sorted(grads)])


def sampled_estimates(rule, params, trial, n=DRAWS):
    one = lambda k: flat(rule.trial_grads(params, trial, k)[0])  # noqa: E731
    return np.asarray(jax.jit(jax.vmap(one))(jax.random.split(jax.random.key(123), n)))


def z_statistics(samples, exact):
    mean, sd = samples.mean(0), samples.std(0, ddof=1)
    n = samples.shape[0]
    moving = sd > 0  # components the rule never touches (zero input) have no variance
    z = (mean[moving] - exact[moving]) / (sd[moving] / np.sqrt(n))
    rel = np.linalg.norm(mean - exact) / np.linalg.norm(exact)
    rel_expected = np.sqrt(np.sum(sd**2) / n) / np.linalg.norm(exact)
    return z, rel, rel_expected


def assert_unbiased(samples, exact):
    z, rel, rel_expected = z_statistics(samples, np.asarray(exact))
    assert np.mean(z**2) < 2.0, np.mean(z**2)
    assert np.max(np.abs(z)) < 5.5, np.max(np.abs(z))
    assert rel < 3 * rel_expected, (rel, rel_expected)


def readout_setting():
    task = TeacherStudent(n_in=8, n_out=2, length=12, n_task=5, n_trial=5, e_opt=0.5)
    model = LinearReadout(8, 2)
    params = {"w_out": 0.05 * jax.random.normal(jax.random.key(1), (2, 8))}
    return task, model, params, task.sample(jax.random.key(2), 1)


@pytest.mark.parametrize("rule_cls", [WeightPerturbation, NodePerturbation])
def test_readout_expected_update_is_the_gradient(x64, rule_cls):
    task, model, params, trial = readout_setting()
    exact, _ = px.rules.BPTT(model).trial_grads(params, trial, jax.random.key(0))
    assert_unbiased(sampled_estimates(rule_cls(model, sigma=1e-3), params, trial), flat(exact))


def test_hp_expected_update_is_the_gradient_times_t_alpha2(x64):
    # With S = α² on the active inputs, E[ĝ_HP] = T ∇L S = T α² ∇L (module docstring, Eq. 3).
    task, model, params, trial = readout_setting()
    exact, _ = px.rules.BPTT(model).trial_grads(params, trial, jax.random.key(0))
    scaled = task.length * task.alpha2 * flat(exact)
    assert_unbiased(sampled_estimates(HybridPerturbation(model, sigma=1e-3), params, trial), scaled)


def rnn_setting(batch=2):
    model = px.models.RateRNN(n_in=2, n_rec=4, n_out=1, tau=3.0, bias=True)
    params = jax.tree_util.tree_map(lambda a: a.astype(jnp.float64), model.init(jax.random.key(0)))
    k1, k2 = jax.random.split(jax.random.key(9))
    trial = px.tasks.Trial(jax.random.normal(k1, (8, batch, 2)), jax.random.normal(k2, (8, batch, 1)),
                           jnp.ones((8, batch, 1)))
    exact, _ = px.rules.BPTT(model).trial_grads(params, trial, jax.random.key(0))
    return model, params, trial, flat(exact)


@pytest.mark.parametrize("rule_cls,options", [
    (WeightPerturbation, {}),
    (NodePerturbation, {}),
    (NodePerturbation, {"reward": "per_example"}),
])
def test_rate_rnn_expected_update_is_the_gradient(x64, rule_cls, options):
    model, params, trial, exact = rnn_setting()
    assert_unbiased(sampled_estimates(rule_cls(model, sigma=1e-4, **options), params, trial), exact)


class RateNoiseModel:
    """RateRNN whose "node perturbation" enters the rate h(t) instead of the input current u(t),
    while the eligibility still assumes u (negative control: biased by a factor ≈ 1/(α φ'))."""

    def __init__(self, model):
        self.model = model

    def __getattr__(self, name):
        return getattr(self.model, name)

    def perturbation_layers(self):
        from plastix.rules.perturbation import perturbation_layers

        return perturbation_layers(self.model)

    def run_node_perturbed(self, params, inputs, node_noise, h_init=None, noise=None):
        h, aux = self.model.run(params, inputs, h_init=h_init, noise=node_noise["rec"])
        return h, aux._replace(y=aux.y + node_noise["out"])


def test_negative_control_a_wrong_perturbation_site_is_detected(x64):
    model, params, trial, exact = rnn_setting()
    wrong = NodePerturbation(RateNoiseModel(model), sigma=1e-4)
    z, _, _ = z_statistics(sampled_estimates(wrong, params, trial), np.asarray(exact))
    assert np.mean(z**2) > 10.0

"""Algebra of the homeostatic scaling rules (exact, float64)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from plastix.errors import ConfigError
from plastix.homeostasis import rules as R


def _random_problem(seed=0, n_post=7, n_pre=5):
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.0, 1.0, (n_post, n_pre)) * (rng.uniform(size=(n_post, n_pre)) < 0.7)
    pre = rng.uniform(0.0, 3.0, n_pre)
    post = rng.uniform(0.0, 3.0, n_post)
    return jnp.asarray(w), jnp.asarray(pre), jnp.asarray(post)


def test_psd_leaves_row_unchanged_when_all_presynaptic_averages_are_zero(x64):
    w, _, post = _random_problem()
    silent_pre = jnp.zeros(w.shape[1])
    new = R.psd_update(w, silent_pre, post, 1.0, rate=0.1)
    np.testing.assert_array_equal(np.asarray(new), np.asarray(w))
    # ... while SS still rescales every row whose unit is off target
    new_ss = R.ss_update(w, silent_pre, post, 1.0, rate=0.1)
    changed = np.abs(np.asarray(new_ss) - np.asarray(w)).sum(1) > 0
    expected_change = (np.asarray(post) != 1.0) & (np.asarray(w).sum(1) > 0)
    np.testing.assert_array_equal(changed, expected_change)


def test_psd_row_with_silent_presynaptic_partners_only(x64):
    """A unit whose active partners are all absent keeps its row, the others move."""
    w, pre, post = _random_problem(1)
    pre = pre.at[2].set(0.0)
    w = w.at[0].set(0.0).at[0, 2].set(0.5)  # row 0 only listens to the silent unit 2
    new = R.psd_update(w, pre, post, 1.0, rate=0.05)
    np.testing.assert_array_equal(np.asarray(new[0]), np.asarray(w[0]))


@pytest.mark.parametrize("update", [R.psd_update, R.ss_update])
def test_both_rules_leave_weights_unchanged_at_target(x64, update):
    w, pre, _ = _random_problem(2)
    target = jnp.asarray(np.random.default_rng(3).uniform(0.5, 2.0, w.shape[0]))
    new = update(w, pre, target, target, rate=0.3)
    np.testing.assert_array_equal(np.asarray(new), np.asarray(w))


def test_ss_is_a_row_rescaling(x64):
    w, pre, post = _random_problem(4)
    rate, target = 0.07, 1.3
    new = np.asarray(R.ss_update(w, pre, post, target, rate=rate))
    scale = 1.0 + rate * (target - np.asarray(post))
    np.testing.assert_allclose(new, np.diag(scale) @ np.asarray(w), rtol=0, atol=1e-15)


def test_psd_change_is_outer_product_times_weights(x64):
    w, pre, post = _random_problem(5)
    rate, target = 0.02, 1.0
    new = np.asarray(R.psd_update(w, pre, post, target, rate=rate))
    expected = rate * np.outer(target - np.asarray(post), np.asarray(pre)) * np.asarray(w)
    np.testing.assert_allclose(new - np.asarray(w), expected, rtol=0, atol=1e-15)
    # elementwise reference loop, independent of the vectorised form
    loop = np.array(w)
    for i in range(loop.shape[0]):
        for j in range(loop.shape[1]):
            loop[i, j] = w[i, j] + rate * float(pre[j]) * float(w[i, j]) * (target - float(post[i]))
    np.testing.assert_allclose(new, loop, rtol=0, atol=1e-15)


@pytest.mark.parametrize("update", [R.psd_update, R.ss_update])
def test_sign_of_update_follows_goal_minus_average(x64, update):
    w, pre, post = _random_problem(6)
    pre = pre + 0.1  # every presynaptic unit active
    new = np.asarray(update(w, pre, post, 1.5, rate=0.01))
    delta = new - np.asarray(w)
    direction = np.sign(1.5 - np.asarray(post))[:, None] * (np.asarray(w) > 0)
    np.testing.assert_array_equal(np.sign(delta), direction)
    # the sign-reversed (inhibitory) variant moves the other way
    new_inh = np.asarray(update(w, pre, post, 1.5, rate=0.01, sign=-1.0))
    np.testing.assert_array_equal(np.sign(new_inh - np.asarray(w)), -direction)


def test_bounds_and_zeros_are_kept(x64):
    w, pre, post = _random_problem(7)
    post = jnp.zeros_like(post)  # far below target: everything grows
    new = np.asarray(R.psd_update(w, pre + 1.0, post, 10.0, rate=1.0, w_max=0.8))
    assert new.max() <= 0.8 and new.min() >= 0.0
    np.testing.assert_array_equal(new == 0.0, np.asarray(w) == 0.0)
    # a huge depression step clips at zero instead of flipping sign
    new = np.asarray(R.ss_update(w, pre, post + 100.0, 1.0, rate=1.0))
    assert new.min() == 0.0


def test_rule_objects_match_functions_and_normalised_term(x64):
    w, pre, post = _random_problem(8)
    rule = R.PSDScaling(rate=0.05, target=2.0, w_max=0.9, pre_term="normalized")
    np.testing.assert_allclose(
        np.asarray(rule(w, pre, post, 4.0)),
        np.asarray(R.psd_update(w, pre / 4.0, post, 2.0, rate=0.05, w_max=0.9)),
        rtol=0, atol=1e-15,
    )
    ss = R.get_rule("ss", rate=0.05, target=2.0)
    np.testing.assert_allclose(np.asarray(ss(w, pre, post)), np.asarray(R.ss_update(w, pre, post, 2.0, rate=0.05)))


def test_running_average_is_exponential(x64):
    avg = jnp.zeros(3)
    values = jnp.array([[1.0, 2.0, 0.0]] * 50)
    for v in values:
        avg = R.running_average(avg, v, 5.0)
    np.testing.assert_allclose(np.asarray(avg), np.array([1.0, 2.0, 0.0]) * (1 - (1 - 1 / 5.0) ** 50), rtol=1e-12)


def test_bad_settings_are_one_line_config_errors():
    with pytest.raises(ConfigError, match="pre_term"):
        R.PSDScaling(pre_term="bogus")
    with pytest.raises(ConfigError, match="rate"):
        R.SynapticScaling(rate=-1.0)
    with pytest.raises(ConfigError, match="rule"):
        R.get_rule("stdp")

"""The gated striatal loop (plastix.circuits.loop) against NumPy references."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from plastix.circuits import CursorSyllables, LoopCircuit, sequence_loss
from plastix.errors import ConfigError
from plastix.models import RateRNN

CURSOR = CursorSyllables(syllable_steps=20, hold_steps=10)


def _input_driven_rnn(n_rec=12, seed=0):
    """A network whose state at a reach's end is set by the tonic input (no recurrence), so each
    syllable has its own decision state; readout = a fixed random projection."""
    model = RateRNN(n_in=4, n_rec=n_rec, n_out=2, tau=2.0)
    k1, k2 = jax.random.split(jax.random.key(seed))
    params = {
        "w_rec": jnp.zeros((n_rec, n_rec)),
        "w_in": 2.0 * jax.random.normal(k1, (n_rec, 4)),
        "w_out": 0.3 * jax.random.normal(k2, (2, n_rec)),
    }
    return model, params


def test_outputs_equal_running_the_rnn_on_the_played_inputs():
    model, params = _input_driven_rnn()
    loop = LoopCircuit(model, CURSOR, (0, 1, 2, 3), p_explore=0.5)
    _, run = loop.run(params, loop.init(jax.random.key(1)), jax.random.key(2))
    played = np.asarray(run.actions)
    assert played[0] == 0
    np.testing.assert_array_equal(played[1:], np.asarray(run.choices)[:-1])
    inputs = jnp.concatenate([CURSOR.unit_input(int(a)) for a in played])[:, None, :]
    _, aux = model.run(params, inputs)
    np.testing.assert_allclose(np.asarray(run.outputs), np.asarray(aux.y[:, 0]), rtol=1e-5, atol=1e-6)
    ends = [i * 30 + 19 for i in range(4)]  # last step of each reach
    np.testing.assert_allclose(np.asarray(run.decision_states), np.asarray(aux.h[ends, 0]), rtol=1e-5, atol=1e-6)


def test_hebbian_update_and_rewards_match_reference():
    model, params = _input_driven_rnn()
    target = (0, 1, 2, 3)
    loop = LoopCircuit(model, CURSOR, target, p_explore=1.0, lr=0.3)  # every choice explores
    w0 = loop.init(jax.random.key(3))
    w1, run = loop.run(params, w0, jax.random.key(4))
    successor = {0: 1, 1: 2, 2: 3}
    expected = np.array(w0, dtype=float)
    for i in range(4):
        a, c = int(run.actions[i]), int(run.choices[i])
        r = 1.0 if successor.get(a) == c else 0.0
        assert float(run.rewards[i]) == r
        expected[c] += 0.3 * r * np.asarray(run.decision_states[i])
    np.testing.assert_allclose(np.asarray(w1), expected, rtol=1e-6, atol=1e-7)


def test_greedy_choice_is_argmax_over_allowed_units():
    model, params = _input_driven_rnn()
    loop = LoopCircuit(model, CURSOR, (0, 1, 2, 3))
    w = jax.random.normal(jax.random.key(5), (4, 12))
    run = loop.greedy(params, w)
    positions = np.cumsum(np.asarray(run.outputs), 0) / CURSOR.syllable_steps
    for i in range(4):
        z = np.asarray(w) @ np.asarray(run.decision_states[i])
        pos = positions[i * 30 + 19]
        allowed = np.all(np.abs(pos[None] + np.asarray(CURSOR.displacements())) <= CURSOR.bound + 1e-6, axis=1)
        if not allowed.any():
            allowed[:] = True
        assert int(run.choices[i]) == int(np.argmax(np.where(allowed, z, -np.inf)))


def test_no_learning_without_reward_or_when_frozen():
    model, params = _input_driven_rnn()
    loop = LoopCircuit(model, CURSOR, (0, 1, 2, 3))
    w = loop.init(jax.random.key(0))
    w_after, _ = loop.run(params, w, jax.random.key(1), explore=True, learn=False)
    np.testing.assert_array_equal(np.asarray(w_after), np.asarray(w))


def test_exploration_only_picks_allowed_reaches():
    model, params = _input_driven_rnn()
    cursor = CursorSyllables(syllable_steps=20, hold_steps=10, bound=1.0)
    loop = LoopCircuit(model, cursor, (0, 1, 2, 3), p_explore=1.0)
    w = loop.init(jax.random.key(0))
    runs = jax.vmap(lambda k: loop.run(params, w, k, learn=False)[1])(jax.random.split(jax.random.key(7), 64))
    disp = np.asarray(cursor.displacements())
    pos = np.cumsum(np.asarray(runs.outputs), 1) / cursor.syllable_steps
    checked = 0
    for r in range(64):
        for i in range(4):
            allowed = np.all(np.abs(pos[r, i * 30 + 19][None] + disp) <= 1.0 + 1e-6, axis=1)
            if allowed.any():  # when nothing is allowed the circuit lets any reach go
                assert allowed[int(runs.choices[r, i])]
                checked += 1
    assert checked > 50
    assert len(np.unique(np.asarray(runs.choices))) > 1


def _orthogonal_rnn(n_rec=16):
    """Input k drives only units 4k..4k+3: the decision states of different syllables are orthogonal."""
    model = RateRNN(n_in=4, n_rec=n_rec, n_out=2, tau=2.0, h0=0.0)
    w_in = np.zeros((n_rec, 4))
    for k in range(4):
        w_in[4 * k : 4 * k + 4, k] = 3.0
    params = {"w_rec": jnp.zeros((n_rec, n_rec)), "w_in": jnp.asarray(w_in), "w_out": jnp.zeros((2, n_rec))}
    return model, params


def test_loop_learns_the_target_sequence():
    model, params = _orthogonal_rnn()
    target = (2, 0, 3, 1)
    loop = LoopCircuit(model, CURSOR, target, p_explore=0.2, lr=0.05, init_std=1.0)
    w0 = loop.init(jax.random.key(0))
    before = loop.greedy(params, w0)
    assert np.asarray(before.actions).tolist() != list(target)
    w, reward_rate = jax.jit(lambda k: loop.train(params, k, 300, w0))(jax.random.key(1))
    after = loop.greedy(params, w)
    assert np.asarray(after.actions).tolist() == list(target)
    assert float(reward_rate[-50:].mean()) > float(reward_rate[:20].mean())
    # only the three target transitions were ever rewarded: W^s grew along (successor, state) pairs
    growth = np.asarray(w - w0)
    states = np.asarray(after.decision_states)
    for a, b in zip(target[:-1], target[1:]):
        assert growth[b] @ states[target.index(a)] > 0


def test_sequence_loss_matches_numpy():
    y = np.random.default_rng(0).normal(size=(3, 40, 2))
    t = np.random.default_rng(1).normal(size=(40, 2))
    ref = 0.5 * ((y - t) ** 2).sum(axis=(1, 2)) / 40
    np.testing.assert_allclose(np.asarray(sequence_loss(jnp.asarray(y), jnp.asarray(t))), ref, rtol=1e-5)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(target=(0, 1, 0, 2)), "target"),  # syllable 0 would need two successors
        (dict(target=(0,)), "target"),
        (dict(target=(0, 9)), "target"),
        (dict(p_explore=1.5), "p_explore"),
    ],
)
def test_bad_settings_name_the_field(kwargs, field):
    model, _ = _input_driven_rnn()
    with pytest.raises(ConfigError, match=field):
        LoopCircuit(model, CURSOR, **kwargs)


def test_model_must_have_one_input_per_syllable():
    with pytest.raises(ConfigError, match="model"):
        LoopCircuit(RateRNN(n_in=3, n_rec=5, n_out=2), CURSOR)

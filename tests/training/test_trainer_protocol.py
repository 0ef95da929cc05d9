"""The one training loop: traced learning rates, the exact-gradient oracle of grad_cosine, and
rules that refuse online updates."""

import numpy as np
import pytest

import plastix as px
from plastix.errors import ConfigError
from plastix.training import Trainer, make_optimizer


def test_grad_cosine_uses_the_rules_own_loss_and_trainable_set():
    # Exact RTRL with cross-entropy (one-hot targets): its estimate is the exact gradient of that
    # loss, so the cosine with the loop's oracle must be 1 (it was far from 1 against an MSE BPTT).
    task = px.tasks.get("cue_accumulation", n_in=8, n_cues=2, t_cue=4, interval=5, delay=6, recall=4)
    model = px.models.RateRNN(n_in=task.n_in, n_rec=8, n_out=task.n_out)
    for trainable in (None, ("w_in", "w_out")):
        rule = px.rules.get("rtrl", model, loss="xent", trainable=trainable)
        trainer = Trainer(model, task, rule, make_optimizer("sgd", 0.01), chunk=5, grad_cosine=True)
        assert trainer.exact_rule().loss == "xent" and trainer.exact_rule().trainable == rule.trainable
        result = trainer.fit(10, seed=0, n_seeds=2)
        cosines = [r["grad_cosine"] for r in result.records]
        assert np.allclose(cosines, 1.0, atol=1e-5), cosines
    # before the fix the oracle was BPTT on the MSE: not parallel to the cross-entropy gradient
    mse_oracle = Trainer(model, task, px.rules.get("rtrl", model, loss="mse"), make_optimizer("sgd", 0.01), chunk=5,
                         grad_cosine=True).fit(5, seed=0, n_seeds=2)
    xent_vs_mse = [r["grad_cosine"] for r in mse_oracle.records]
    assert np.allclose(xent_vs_mse, 1.0, atol=1e-5)  # an MSE rule against its own (MSE) oracle: 1 too
    # an approximate rule is not at 1 (the measure can fail)
    rflo = Trainer(model, task, px.rules.get("rflo", model, loss="xent"), make_optimizer("sgd", 0.01), chunk=5,
                   grad_cosine=True).fit(5, seed=0, n_seeds=2)
    assert max(r["grad_cosine"] for r in rflo.records) < 0.99


def test_per_seed_learning_rates_in_one_compiled_loop_equal_separate_runs():
    task = px.tasks.get("periodic", period=30)
    model = px.models.RateRNN(n_in=1, n_rec=6, n_out=1)
    trainer = Trainer(model, task, px.rules.get("rflo", model), make_optimizer("sgd", 1.0), chunk=20)
    together = trainer.fit(40, seed=3, n_seeds=2, learning_rate=[0.01, 0.05])
    for s, lr in enumerate((0.01, 0.05)):
        alone = Trainer(model, task, px.rules.get("rflo", model), make_optimizer("sgd", lr), chunk=20)
        state = alone.init(3, 2)
        result = alone.fit(40, seed=3, n_seeds=2, state=state)
        np.testing.assert_allclose(together.losses[s], result.losses[s], rtol=1e-6)
    assert not np.allclose(together.losses[0], together.losses[1])
    # another learning rate reuses the compilation
    before = trainer._compiled[0]._cache_size()
    trainer.fit(40, seed=3, n_seeds=2, learning_rate=0.02)
    assert trainer._compiled[0]._cache_size() == before


def test_learning_rate_needs_injected_hyperparameters():
    import optax

    task = px.tasks.get("periodic", period=20)
    model = px.models.RateRNN(n_in=1, n_rec=4, n_out=1)
    trainer = Trainer(model, task, px.rules.get("bptt", model), optax.sgd(0.1))
    with pytest.raises(ConfigError, match="learning_rate"):
        trainer.init(0, 2, learning_rate=0.2)
    with pytest.raises(ConfigError, match="one per seed"):
        Trainer(model, task, px.rules.get("bptt", model), make_optimizer("sgd", 0.1)).init(0, 2, learning_rate=[1, 2, 3])


def test_a_whole_trial_rule_refuses_online_updates():
    task = px.tasks.get("cue_accumulation", n_in=8, n_cues=1, t_cue=10, interval=10, delay=20, recall=10)
    model = px.models.get("alif", n_in=task.n_in, n_rec=6, n_out=task.n_out + 1)
    rule = px.rules.get("eprop_reward", model)
    assert not rule.online
    with pytest.raises(ConfigError, match="whole trials"):
        Trainer(model, task, rule, make_optimizer("sgd", 0.1), update_every=task.n_steps // 2)

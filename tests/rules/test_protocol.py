"""The rule protocol: typed state, an explicit key, hooks on every rule, abstract-or-final classes,
and rules from the user's own file (``examples/custom_rule.py``)."""

import inspect
import json
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plastix as px
from plastix import cli
from plastix.errors import ConfigError
from plastix.rules import base
from plastix.rules import eprop, eprop_reward, perturbation, rflo, rtrl, bptt, surrogate

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "custom_rule.py"


def _rule_classes():
    modules = (base, bptt, rflo, rtrl, perturbation, eprop, eprop_reward, surrogate)
    return {cls for m in modules for _, cls in inspect.getmembers(m, inspect.isclass)
            if issubclass(cls, base.Rule) and cls.__module__ == m.__name__}


def test_every_rule_class_is_abstract_or_final():
    classes = _rule_classes()
    assert len(classes) >= 12
    for cls in classes:
        assert inspect.isabstract(cls) or getattr(cls, "__final__", False), cls.__name__
        if getattr(cls, "__final__", False):  # nothing concrete is subclassed
            assert not [c for c in classes if c is not cls and issubclass(c, cls)], cls.__name__


def test_hooks_exist_on_every_registered_rule_with_no_op_defaults():
    model = px.models.RateRNN(n_in=1, n_rec=4, n_out=1)
    params = model.init(jax.random.key(0))
    for name in ("bptt", "rtrl", "rflo", "readout", "wp", "np", "eprop"):
        rule = px.rules.get(name, model)
        state = rule.init(params, jax.random.key(1))
        assert isinstance(state, tuple) and hasattr(state, "_fields"), name  # a NamedTuple
        new_params, same = rule.after_update(params, params, state)
        assert new_params is params and same is state
        assert rule.update_state(state, {"loss": jnp.asarray(1.0), "loss_perturbed": jnp.asarray(1.0)}) is not None


def test_the_trial_key_decides_every_draw():
    # Perturbation draws come from the carry key (the trial key folded with 1), never from the
    # parameter values: the same key gives the same estimate, another key another one.
    model = px.models.RateRNN(n_in=1, n_rec=4, n_out=1)
    task = px.tasks.get("periodic", period=20)
    params, trial = model.init(jax.random.key(0)), task.sample(jax.random.key(1), 2)
    rule = px.rules.get("np", model, sigma=0.05)
    state = rule.init(params, jax.random.key(0))
    g1, _ = rule.trial_grads(params, trial, jax.random.key(5), state)
    g2, _ = rule.trial_grads(params, trial, jax.random.key(5), state)
    g3, _ = rule.trial_grads(params, trial, jax.random.key(6), state)
    np.testing.assert_array_equal(g1["w_rec"], g2["w_rec"])
    assert not np.allclose(g1["w_rec"], g3["w_rec"])


def test_online_rule_step_equals_segment(x64):
    # The public per-step update, iterated, gives the fused stretch (RFLO's scan, e-prop's blocks).
    model = px.models.RateRNN(n_in=1, n_rec=5, n_out=1)
    params = jax.tree_util.tree_map(lambda a: a.astype(jnp.float64), model.init(jax.random.key(0)))
    trial = px.tasks.get("periodic", period=12).sample(jax.random.key(1), 2)
    trial = jax.tree_util.tree_map(lambda a: a.astype(jnp.float64), trial)
    for name in ("rflo", "rtrl", "eprop"):
        rule = px.rules.get(name, model)
        state = rule.init(params, jax.random.key(2))
        carry = rule.init_carry(params, 2, jax.random.key(3))
        whole = rule.segment(params, state, carry, base.Stretch(trial.inputs, trial.targets, trial.mask), 12)
        total = jax.tree_util.tree_map(jnp.zeros_like, params)
        for t in range(12):
            carry, g, _ = rule.step(params, state, carry, trial.inputs[t], trial.targets[t], trial.mask[t], None, 12)
            total = jax.tree_util.tree_map(jnp.add, total, g)
        for k in params:
            np.testing.assert_allclose(total[k], whole[1][k], rtol=1e-10, atol=1e-14, err_msg=f"{name} {k}")


# -- a rule from the user's own file ---------------------------------------------------------------
def test_custom_rule_is_rflo_when_its_trace_time_constant_is_the_networks(x64):
    model = px.models.RateRNN(n_in=1, n_rec=6, n_out=1, tau=10.0)
    params = jax.tree_util.tree_map(lambda a: a.astype(jnp.float64), model.init(jax.random.key(0)))
    trial = px.tasks.get("periodic", period=40).sample(jax.random.key(1), 3)
    custom = px.rules.get(f"{EXAMPLE}:CustomRule", model, trace_tau=10.0)
    reference = px.rules.get("rflo", model)
    state = reference.init(params, jax.random.key(2))
    g_custom, _ = custom.trial_grads(params, trial, jax.random.key(3), state)
    g_rflo, _ = reference.trial_grads(params, trial, jax.random.key(3), state)
    for k in params:
        np.testing.assert_allclose(g_custom[k], g_rflo[k], rtol=1e-12, atol=1e-15)
    # and a different τ_e is a different rule (the test can fail)
    other, _ = px.rules.get(f"{EXAMPLE}:CustomRule", model, trace_tau=30.0).trial_grads(
        params, trial, jax.random.key(3), state)
    assert not np.allclose(other["w_rec"], g_rflo["w_rec"], rtol=1e-3)


def test_custom_rule_file_is_short_and_the_docs_page_walks_through_it():
    assert len(EXAMPLE.read_text().splitlines()) <= 80
    page = (ROOT / "docs" / "writing-a-rule.md").read_text()
    assert "examples/custom_rule.py:CustomRule" in page
    source = EXAMPLE.read_text()
    assert source[source.index("@final"):] in page  # the page shows the file's class, not a drifting copy
    for line in ("def init_traces", "def update_traces", "def trace_grads"):
        assert line in page and line in EXAMPLE.read_text()


@pytest.mark.parametrize("reference, says", [
    ("nofile.py:CustomRule", "existing .py file"),
    (f"{EXAMPLE}:Missing", "CustomRule"),
    (f"{EXAMPLE}:TraceRule", "concrete Rule"),
    (f"{EXAMPLE}:setting", "subclass of plastix.rules.Rule"),
    ("ABSTRACT:Unfinished", "concrete Rule (define trace_grads)"),
])
def test_bad_rule_references_give_one_line(reference, says, tmp_path):
    unfinished = tmp_path / "unfinished.py"
    unfinished.write_text("from plastix.rules import TraceRule\n\nclass Unfinished(TraceRule):\n"
                          "    def init_traces(self, params, batch_size): return {}\n"
                          "    def update_traces(self, params, traces, aux, x_prev): return traces\n")
    reference = reference.replace("ABSTRACT", str(unfinished))
    model = px.models.RateRNN(n_in=1, n_rec=4, n_out=1)
    with pytest.raises(ConfigError) as info:
        px.rules.get(reference, model)
    assert says in str(info.value) and "\n" not in str(info.value)


def test_a_rule_file_that_fails_to_import_is_one_line(tmp_path):
    bad = tmp_path / "broken.py"
    bad.write_text("raise RuntimeError('oops')\n")
    with pytest.raises(ConfigError, match="failed to import: RuntimeError: oops"):
        px.rules.get(f"{bad}:Rule", px.models.RateRNN(n_in=1, n_rec=4, n_out=1))


def _cli(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["plastix", *args])
    with pytest.raises(SystemExit) as info:
        cli.main()
    out, err = capsys.readouterr()
    return info.value.code, out, err


def test_compare_trains_a_rule_from_a_file(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(ROOT)
    out_dir = tmp_path / "run"
    ref = "examples/custom_rule.py:CustomRule"
    code, out, err = _cli(monkeypatch, capsys, "compare", "--rules", f"{ref},rflo", "--trials", "40", "--seeds", "2",
                          "--n-rec", "6", "--out", str(out_dir), "--set", "task_options.period=30",
                          "--set", f'rule_options."{ref}".trace_tau=20', "--set", "chunk=20")
    assert code == 0, err
    summary = json.loads((out_dir / "summary.json").read_text())
    assert set(summary["rules"]) == {ref, "rflo"}
    assert (out_dir / "params_examples_custom_rule.py_CustomRule.npz").exists()
    assert summary["rules"][ref]["final_loss"]["median"] < summary["rules"][ref]["initial_loss"]


@pytest.mark.parametrize("rules, field", [("nofile.py:X", "rule"), ("examples/custom_rule.py:Nope", "rule")])
def test_compare_bad_rule_file_exit_2_nothing_written(monkeypatch, capsys, tmp_path, rules, field):
    monkeypatch.chdir(ROOT)
    out_dir = tmp_path / "run"
    code, _, err = _cli(monkeypatch, capsys, "compare", "--rules", rules, "--out", str(out_dir))
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and field in lines[0] and "Traceback" not in err
    assert not out_dir.exists()


def test_quoted_keys_in_set():
    from plastix.config import split_key

    assert split_key("a.b.c") == ["a", "b", "c"]
    assert split_key('rule_options."x/y.py:Z".tau') == ["rule_options", "x/y.py:Z", "tau"]
    with pytest.raises(ConfigError):
        split_key('rule_options."x.py:Z')


@pytest.mark.parametrize("name, exact", [("bptt", True), ("rtrl", True), ("rflo_nonlocal", False), ("rflo", False),
                                         ("rflo_symmetric", False), ("eprop", False)])
def test_rules_against_the_shared_oracle(x64, name, exact):
    import oracle

    model = px.models.RateRNN(n_in=2, n_rec=5, n_out=2, tau=3.0)
    params = jax.tree_util.tree_map(lambda a: a.astype(jnp.float64), model.init(jax.random.key(0)))
    k1, k2 = jax.random.split(jax.random.key(7))
    trial = px.tasks.Trial(jax.random.normal(k1, (15, 3, 2)), jax.random.normal(k2, (15, 3, 2)), jnp.ones((15, 3, 2)))
    rule = px.rules.get(name, model)
    estimate, _ = rule.trial_grads(params, trial, jax.random.key(3), rule.init(params, jax.random.key(4)))
    truth = oracle.exact_grads(model, params, trial, jax.random.key(3))
    if exact:
        oracle.assert_equals_exact(estimate, truth, 1e-10)
    else:
        oracle.assert_differs_from_exact(estimate, truth, 1e-3, keys=["w_rec"])
        oracle.assert_equals_exact(estimate, truth, 1e-10, keys=["w_out"])  # the readout gradient is exact

"""The training loop: trials → rule → optax → parameters, for many seeds at once.

It is plastix's one gradient loop: sequence rules on tasks, linear readouts trained by
perturbation (``plastix.readout``), anything that is a (model, task, rule) triple of the
protocol in ``rules/base.py``.

One compiled function trains every seed for a chunk of trials (``lax.scan`` over trials,
``vmap`` over seeds); Python only loops over chunks, to show progress, check for divergence,
record metrics and write checkpoints.

Seeds and keys.  Seed ``s`` of a run with base seed ``seed`` derives its keys from
``fold_in(key(seed), s)``: one for the initial parameters, one for the rule's fixed quantities
(feedback matrices), one for data.  Trial ``i`` uses ``fold_in(data_key, i)``, so every rule
trained with the same seed sees the same initial network and the same trials, and a run resumed
from a checkpoint (taken at a chunk boundary) ends with exactly the numbers of an uninterrupted
run.

Update schedules.
* per trial / batch (default): the gradient of a batch of ``batch_size`` trials is applied once;
* online (``update_every=k``): the rule's gradient for each stretch of k steps is applied before
  the next stretch; traces and network state carry on across the stretch boundary within the
  trial (BPTT becomes truncated BPTT).  The trial length must be a multiple of k.

After every update, ``model.constrain`` projects the parameters back onto the model's
constraints (sparsity mask, Dale's law), then the rule's ``after_update(old_params, new_params,
rule_state)`` hook may adjust both (e-prop's adaptive feedback matrix follows W_out this way);
the rule state is carried from trial to trial.  Once per trial the rule's
``update_state(rule_state, metrics)`` hook gets that trial's metrics (summed over the stretches
of an online trial): the perturbation rules' running-mean baseline learns this way.  Both hooks
exist on every rule (no-ops by default).

Hyper-parameters.  The optimiser's learning rate lives in its state (``make_optimizer`` uses
``optax.inject_hyperparams``), so a Trainer compiles once for every learning rate, and
``init(..., learning_rate=[η_1, …, η_S])`` trains S networks at S rates in one ``vmap``.

Records.  After every chunk: mean loss, feedback alignment cos(W_out, Bᵀ) (for rules with a
feedback matrix in their state), weight norms and, with ``grad_cosine=True``, the cosine between
the rule's estimate and the exact gradient (BPTT) of the rule's own loss and trainable
parameters on a fresh trial.  ``record(task, params) -> {name: array}``, if given, is evaluated
after every trial (``TrainResult.trial_records``).
"""

from __future__ import annotations

import dataclasses
import functools
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..errors import ConfigError, DivergenceError
from ..metrics import feedback_alignment, gradient_alignment, weight_norms
from ..rules.base import Rule, Stretch, begin_trial
from .optim import set_hyperparams
from .seeds import over_seeds, seed_keys


@dataclass
class TrainState:
    """Everything that changes during training, stacked over seeds (leading axis)."""

    params: dict
    opt_state: object
    rule_state: Any
    trial: int = 0  # trials done so far
    rule_hyperparams: dict = field(default_factory=dict)  # traced float fields of the rule, per seed


@dataclass
class TrainResult:
    state: TrainState
    losses: np.ndarray  # (seeds, trials): loss of each trial before its update
    records: list[dict] = field(default_factory=list)  # evaluation metrics per seed and chunk
    seconds: float = 0.0
    trial_records: dict[str, np.ndarray] = field(default_factory=dict)  # record(task, params): (seeds, trials, …)


@dataclass(frozen=True)
class Trainer:
    """Trains ``rule`` on ``task`` for several independent networks at once."""

    model: Any
    task: Any
    rule: Rule
    optimizer: optax.GradientTransformation
    batch_size: int = 1
    update_every: int | None = None
    chunk: int = 100
    grad_cosine: bool = False
    seed_chunk: int | None = None  # None: all seeds in one vmap; k: groups of ≤ k seeds, one group after another
    record: Callable | None = None  # record(task, params) -> {name: array}, after every trial
    stop_on_divergence: bool = True  # False: a diverging seed's losses become NaN and training goes on

    def __post_init__(self):
        for name in ("batch_size", "chunk"):
            v = getattr(self, name)
            if isinstance(v, bool) or not (isinstance(v, int) and v > 0):
                raise ConfigError.bad_value(name, v, "a positive integer")
        if not isinstance(self.rule, Rule):
            raise ConfigError.bad_value("rule", type(self.rule).__name__, "a plastix.rules.Rule")
        if self.seed_chunk is not None and not (isinstance(self.seed_chunk, int) and self.seed_chunk > 0):
            raise ConfigError.bad_value("seed_chunk", self.seed_chunk, "a positive integer or None")
        if self.update_every is not None:
            k = self.update_every
            if not (isinstance(k, int) and k > 0 and self.task.n_steps % k == 0):
                raise ConfigError.bad_value(
                    "update_every", k, f"a positive divisor of the trial length {self.task.n_steps}"
                )
            if not self.rule.online and k != self.task.n_steps:
                raise ConfigError.bad_value("update_every", k, f"None (rule {self.rule.name} learns from whole trials)")

    # -- state ------------------------------------------------------------------------------
    def init(self, seed: int, n_seeds: int, learning_rate=None, init_params: dict | None = None,
             rule_hyperparams: dict | None = None) -> TrainState:
        """Initial state of ``n_seeds`` networks.  ``learning_rate``: a number or one per seed
        (overrides the optimiser's); ``init_params`` (one network) replaces ``model.init``;
        ``rule_hyperparams`` ({field: number or one per seed}) replaces float fields of the rule
        by traced values (e.g. the perturbation size ``sigma``), so that sweeps over them compile
        once."""
        k_params, k_rule, _ = seed_keys(seed, n_seeds)
        if init_params is None:
            params = jax.vmap(self.model.init)(k_params)
        else:
            params = jax.tree_util.tree_map(lambda a: jnp.broadcast_to(a, (n_seeds,) + jnp.shape(a)), init_params)
        params = jax.vmap(self.model.constrain)(params)
        opt_state = jax.vmap(self.optimizer.init)(params)
        if learning_rate is not None:
            opt_state = set_hyperparams(opt_state, n_seeds, learning_rate=learning_rate)
        rule_state = jax.vmap(self.rule.init)(params, k_rule)
        hyper = {}
        for name, value in (rule_hyperparams or {}).items():
            current = getattr(self.rule, name, None)
            if isinstance(current, bool) or not isinstance(current, (int, float)):
                raise ConfigError.bad_value("rule_hyperparams", name, f"a float field of rule {self.rule.name}")
            arr = jnp.broadcast_to(jnp.asarray(value, jax.tree_util.tree_leaves(params)[0].dtype), (n_seeds,))
            hyper[name] = arr
        return TrainState(params, opt_state, rule_state, 0, hyper)

    def _rule(self, hyper: dict) -> Rule:
        return dataclasses.replace(self.rule, **hyper) if hyper else self.rule

    # -- one seed ---------------------------------------------------------------------------
    def _apply(self, rule, params, opt_state, grads, rule_state):
        updates, opt_state = self.optimizer.update(grads, opt_state, params)
        new_params = self.model.constrain(optax.apply_updates(params, updates))
        new_params, rule_state = rule.after_update(params, new_params, rule_state)
        return new_params, opt_state, rule_state

    def _train_trial(self, rule, params, opt_state, rule_state, key):
        k_sample, k_trial = jax.random.split(key)
        trial = self.task.sample(k_sample, self.batch_size)
        carry, whole = begin_trial(rule, params, trial, k_trial)
        T = trial.n_steps
        k = self.update_every or T
        if k == T:
            _, grads, metrics = rule.segment(params, rule_state, carry, whole, T)
            params, opt_state, rule_state = self._apply(rule, params, opt_state, grads, rule_state)
        else:
            def stretch(c, xs):
                params, opt_state, rule_state, carry = c
                carry, grads, metrics = rule.segment(params, rule_state, carry, Stretch(*xs), T)
                params, opt_state, rule_state = self._apply(rule, params, opt_state, grads, rule_state)
                return (params, opt_state, rule_state, carry), metrics

            split = lambda a: a.reshape((T // k, k) + a.shape[1:])  # noqa: E731
            xs = tuple(jax.tree_util.tree_map(split, part) for part in whole)
            (params, opt_state, rule_state, _), metrics = jax.lax.scan(
                stretch, (params, opt_state, rule_state, carry), xs
            )
            # Each stretch's metrics are its share of the trial's; their sums are the trial's.
            metrics = jax.tree_util.tree_map(lambda m: m.sum(0), metrics)
        rule_state = rule.update_state(rule_state, metrics)
        return params, opt_state, rule_state, metrics["loss"]

    def _chunk_one_seed(self, params, opt_state, rule_state, hyper, data_key, trial_ids):
        rule = self._rule(hyper)

        def body(c, i):
            params, opt_state, rule_state = c
            key = jax.random.fold_in(data_key, i)
            params, opt_state, rule_state, loss = self._train_trial(rule, params, opt_state, rule_state, key)
            recorded = self.record(self.task, params) if self.record is not None else {}
            return (params, opt_state, rule_state), (loss, recorded)

        (params, opt_state, rule_state), (losses, recorded) = jax.lax.scan(
            body, (params, opt_state, rule_state), trial_ids
        )
        return params, opt_state, rule_state, losses, recorded

    def exact_rule(self) -> Rule:
        """BPTT on the rule's own loss and trainable parameters: the oracle of ``grad_cosine``."""
        from ..rules.bptt import BPTT

        return BPTT(self.model, trainable=self.rule.trainable, loss=self.rule.loss)

    def _evaluate_one_seed(self, params, rule_state, hyper, data_key, trial_index):
        rule = self._rule(hyper)
        feedback = rule.fixed_feedback(params, rule_state)
        metrics = {"alignment": feedback_alignment(params, feedback), **weight_norms(params)}
        if self.grad_cosine:
            key = jax.random.fold_in(jax.random.fold_in(data_key, trial_index), 1)
            k_sample, k_trial = jax.random.split(key)
            trial = self.task.sample(k_sample, self.batch_size)
            estimate, _ = rule.trial_grads(params, trial, k_trial, rule_state)
            exact, _ = self.exact_rule().trial_grads(params, trial, k_trial, rule_state)
            trained = [k for k in params if self.rule.trainable is None or k in self.rule.trainable]
            keys = ("w_rec",) if "w_rec" in trained else tuple(trained)
            metrics["grad_cosine"] = gradient_alignment(estimate, exact, keys)
        return metrics

    # -- the loop ---------------------------------------------------------------------------
    @functools.cached_property
    def _compiled(self):
        """The jitted chunk and evaluation functions, built once per Trainer (so that repeated
        ``fit`` calls — resuming, other learning rates — reuse their compilations)."""
        return (
            jax.jit(over_seeds(self._chunk_one_seed, 5, self.seed_chunk)),
            jax.jit(over_seeds(self._evaluate_one_seed, 4, self.seed_chunk)),
        )

    def fit(
        self,
        trials: int,
        seed: int = 0,
        n_seeds: int = 1,
        state: TrainState | None = None,
        progress: Callable[[int], None] | None = None,
        on_chunk: Callable[[TrainState, np.ndarray, list], None] | None = None,
        losses: np.ndarray | None = None,
        records: list[dict] | None = None,
        learning_rate=None,
    ) -> TrainResult:
        """Train until ``trials`` trials are done (continuing ``state`` if given; otherwise from
        ``init(seed, n_seeds, learning_rate)``).

        ``progress(n)`` is called with the number of trials just done; ``on_chunk(state,
        losses, records)`` after every finite chunk (checkpointing hooks here).  A NaN or inf raises
        :class:`DivergenceError`, with the state of the last finite chunk left untouched.
        """
        if isinstance(trials, bool) or not (isinstance(trials, int) and trials > 0):
            raise ConfigError.bad_value("trials", trials, "a positive integer")
        if state is None:
            state = self.init(seed, n_seeds, learning_rate=learning_rate)
        elif learning_rate is not None:
            raise ConfigError.bad_value("learning_rate", learning_rate, "None when continuing a state")
        _, _, data_keys = seed_keys(seed, n_seeds)
        chunk_fn, eval_fn = self._compiled
        all_losses = np.zeros((n_seeds, trials), dtype=np.float64)
        if losses is not None:
            all_losses[:, : state.trial] = losses[:, : state.trial]
        records = list(records or [])
        recorded_chunks = []
        t0 = time.perf_counter()
        while state.trial < trials:
            n = min(self.chunk, trials - state.trial)
            ids = jnp.arange(state.trial, state.trial + n)
            params, opt_state, rule_state, chunk_losses, recorded = chunk_fn(
                state.params, state.opt_state, state.rule_state, state.rule_hyperparams, data_keys, ids
            )
            recorded_chunks.append(jax.device_get(recorded))
            chunk_losses = np.asarray(chunk_losses, dtype=np.float64)
            finite = np.isfinite(chunk_losses) & np.all(
                [np.isfinite(np.asarray(v)).reshape(n_seeds, -1).all(1) for v in jax.tree_util.tree_leaves(params)],
                axis=0,
            )[:, None]
            if not finite.all() and self.stop_on_divergence:
                seed_bad = int(np.argwhere(~finite.all(1))[0, 0])
                bad = np.where(~np.isfinite(chunk_losses[seed_bad]))[0]
                step = state.trial + (int(bad[0]) if bad.size else n - 1)
                prior = np.concatenate([all_losses[seed_bad, : state.trial], chunk_losses[seed_bad]])[: step]
                last = prior[np.isfinite(prior)]
                last_txt = f"{last[-1]:.6g}" if last.size else "none"
                raise DivergenceError(
                    f"rule {self.rule.name} diverged (NaN/inf) for seed {seed_bad} (base seed {seed}) "
                    f"at trial {step}; last finite loss {last_txt}; "
                    "lower the learning rate or enable clipping"
                )
            all_losses[:, state.trial : state.trial + n] = chunk_losses
            state = TrainState(params, opt_state, rule_state, state.trial + n, state.rule_hyperparams)
            metrics = jax.device_get(
                eval_fn(state.params, state.rule_state, state.rule_hyperparams, data_keys, state.trial)
            )
            for s in range(n_seeds):
                row = {"seed": s, "trial": state.trial, "loss": float(chunk_losses[s].mean())}
                row.update({k: float(v[s]) for k, v in metrics.items()})
                records.append(row)
            if on_chunk is not None:
                on_chunk(state, all_losses[:, : state.trial], records)
            if progress is not None:
                progress(n)
        trial_records = {
            name: np.concatenate([np.asarray(c[name]) for c in recorded_chunks], axis=1)
            for name in (recorded_chunks[0] if recorded_chunks else {})
        }
        return TrainResult(state, all_losses, records, time.perf_counter() - t0, trial_records)

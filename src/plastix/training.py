"""The training loop: trials → rule → optax → parameters, for many seeds at once.

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
constraints (sparsity mask, Dale's law), and a rule that defines ``after_update(old_params,
new_params, rule_state) -> (new_params, rule_state)`` may then adjust both (e-prop's adaptive
feedback matrix follows W_out this way); its rule state is carried from trial to trial.  A rule
that defines ``update_state(rule_state, metrics) -> rule_state`` gets, once per trial, that
trial's metrics (summed over the stretches of an online trial): the perturbation rules' running-mean
baseline learns this way.
"""

from __future__ import annotations

import functools
import inspect
import math
from dataclasses import dataclass, field
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from .errors import ConfigError, DivergenceError
from .metrics import feedback_alignment, gradient_alignment, weight_norms

OPTIMIZERS = ("sgd", "adam")


def make_optimizer(name: str = "sgd", lr: float = 1e-2, clip: float | None = None) -> optax.GradientTransformation:
    """An optax optimiser by name; ``clip`` adds global-norm gradient clipping."""
    if name not in OPTIMIZERS:
        raise ConfigError.bad_value("optimizer", name, ", ".join(OPTIMIZERS))
    if not (isinstance(lr, (int, float)) and lr > 0 and math.isfinite(lr)):
        raise ConfigError.bad_value("lr", lr, "a positive number")
    opt = optax.sgd(lr) if name == "sgd" else optax.adam(lr)
    if clip is not None:
        opt = optax.chain(optax.clip_by_global_norm(clip), opt)
    return opt


def seed_keys(seed: int, n_seeds: int):
    """Per-seed (params, rule, data) keys, each of shape (n_seeds,)."""
    base = jax.random.key(seed)
    keys = jax.vmap(lambda s: jax.random.split(jax.random.fold_in(base, s), 3))(jnp.arange(n_seeds))
    return keys[:, 0], keys[:, 1], keys[:, 2]


@dataclass
class TrainState:
    """Everything that changes during training, stacked over seeds (leading axis)."""

    params: dict
    opt_state: object
    rule_state: dict
    trial: int = 0  # trials done so far


@dataclass
class TrainResult:
    state: TrainState
    losses: np.ndarray  # (seeds, trials): loss of each trial before its update
    records: list[dict] = field(default_factory=list)  # evaluation metrics per seed and chunk
    seconds: float = 0.0


def seed_group_size(n_seeds: int, seed_chunk: int | None) -> int:
    """The largest divisor of ``n_seeds`` not above ``seed_chunk`` (``n_seeds`` when None)."""
    if seed_chunk is None or seed_chunk >= n_seeds:
        return n_seeds
    return max(d for d in range(1, seed_chunk + 1) if n_seeds % d == 0)


def over_seeds(fn: Callable, n_mapped: int, seed_chunk: int | None) -> Callable:
    """``fn`` over a leading seed axis of its first ``n_mapped`` arguments (the rest shared).

    With ``seed_chunk=None`` all seeds are one ``vmap``.  Otherwise the seeds run in groups of
    :func:`seed_group_size` seeds, each group a ``vmap``, the groups one after another
    (``lax.map``).  On a CPU, many large networks vmapped at once stream every network's weights
    and traces through the cache at every time step; groups that fit in the cache are faster per
    network (docs/benchmarks.md: at N = 300, 64 networks in one vmap cost 2.6–2.8× a single
    network's time per network, in groups of 8 0.6–0.8×).  The results are the same either way.
    """

    def run(*args):
        mapped, shared = args[:n_mapped], args[n_mapped:]
        vmapped = jax.vmap(fn, in_axes=(0,) * n_mapped + (None,) * len(shared))
        n_seeds = jax.tree_util.tree_leaves(mapped)[0].shape[0]
        group = seed_group_size(n_seeds, seed_chunk)
        if group == n_seeds:
            return vmapped(*args)
        split = lambda a: a.reshape((n_seeds // group, group) + a.shape[1:])  # noqa: E731
        out = jax.lax.map(lambda m: vmapped(*m, *shared), jax.tree_util.tree_map(split, mapped))
        return jax.tree_util.tree_map(lambda a: a.reshape((n_seeds,) + a.shape[2:]), out)

    return run


@dataclass(frozen=True)
class Trainer:
    """Trains ``rule`` on ``task`` for several independent networks at once."""

    model: object
    task: object
    rule: object
    optimizer: optax.GradientTransformation
    batch_size: int = 1
    update_every: int | None = None
    chunk: int = 100
    grad_cosine: bool = False
    seed_chunk: int | None = None  # None: all seeds in one vmap; k: groups of ≤ k seeds, one group after another

    def __post_init__(self):
        for name in ("batch_size", "chunk"):
            v = getattr(self, name)
            if not (isinstance(v, int) and v > 0):
                raise ConfigError.bad_value(name, v, "a positive integer")
        if self.seed_chunk is not None and not (isinstance(self.seed_chunk, int) and self.seed_chunk > 0):
            raise ConfigError.bad_value("seed_chunk", self.seed_chunk, "a positive integer or None")
        if self.update_every is not None:
            k = self.update_every
            if not (isinstance(k, int) and k > 0 and self.task.n_steps % k == 0):
                raise ConfigError.bad_value(
                    "update_every", k, f"a positive divisor of the trial length {self.task.n_steps}"
                )

    # -- state ------------------------------------------------------------------------------
    def init(self, seed: int, n_seeds: int) -> TrainState:
        k_params, k_rule, _ = seed_keys(seed, n_seeds)
        params = jax.vmap(self.model.init)(k_params)
        params = jax.vmap(self.model.constrain)(params)
        opt_state = jax.vmap(self.optimizer.init)(params)
        rule_state = jax.vmap(self.rule.init)(params, k_rule)
        return TrainState(params, opt_state, rule_state, 0)

    # -- one seed ---------------------------------------------------------------------------
    def _apply(self, params, opt_state, grads, rule_state):
        updates, opt_state = self.optimizer.update(grads, opt_state, params)
        new_params = self.model.constrain(optax.apply_updates(params, updates))
        after_update = getattr(self.rule, "after_update", None)
        if after_update is not None:  # rule state that follows the weights (e-prop's adaptive feedback)
            new_params, rule_state = after_update(params, new_params, rule_state)
        return new_params, opt_state, rule_state

    def _train_trial(self, params, opt_state, rule_state, key):
        k_sample, k_noise = jax.random.split(key)
        trial = self.task.sample(k_sample, self.batch_size)
        if self.update_every is None:
            grads, metrics = self.rule.trial_grads(params, trial, k_noise, rule_state)
            params, opt_state, rule_state = self._apply(params, opt_state, grads, rule_state)
            return params, opt_state, self._update_rule_state(rule_state, metrics), metrics["loss"]

        T, k = trial.n_steps, self.update_every
        noise = self.model.sample_noise(k_noise, T, self.batch_size)
        split = lambda a: None if a is None else a.reshape((T // k, k) + a.shape[1:])

        def stretch(c, xs):
            params, opt_state, rule_state, carry = c
            carry, grads, metrics = self.rule.segment(params, rule_state, carry, *xs, T)
            params, opt_state, rule_state = self._apply(params, opt_state, grads, rule_state)
            return (params, opt_state, rule_state, carry), metrics

        if "key" in inspect.signature(self.rule.init_carry).parameters:  # rules that draw (perturbations)
            carry = self.rule.init_carry(params, self.batch_size, key=jax.random.fold_in(k_noise, 1))
        else:
            carry = self.rule.init_carry(params, self.batch_size)
        xs = (split(trial.inputs), split(trial.targets), split(trial.mask), split(noise))
        (params, opt_state, rule_state, _), metrics = jax.lax.scan(stretch, (params, opt_state, rule_state, carry), xs)
        # Each stretch's metrics are its share of the trial's; their sums are the trial's.
        metrics = jax.tree_util.tree_map(lambda m: m.sum(0), metrics)
        return params, opt_state, self._update_rule_state(rule_state, metrics), metrics["loss"]

    def _update_rule_state(self, rule_state, metrics):
        """Once per trial, a rule with ``update_state(rule_state, metrics)`` (a running-mean
        baseline) updates its state from that trial's metrics."""
        update_state = getattr(self.rule, "update_state", None)
        return rule_state if update_state is None else update_state(rule_state, metrics)

    def _chunk_one_seed(self, params, opt_state, rule_state, data_key, trial_ids):
        def body(c, i):
            params, opt_state, rule_state = c
            key = jax.random.fold_in(data_key, i)
            params, opt_state, rule_state, loss = self._train_trial(params, opt_state, rule_state, key)
            return (params, opt_state, rule_state), loss

        (params, opt_state, rule_state), losses = jax.lax.scan(body, (params, opt_state, rule_state), trial_ids)
        return params, opt_state, rule_state, losses

    def _evaluate_one_seed(self, params, rule_state, data_key, trial_index):
        metrics = {"alignment": feedback_alignment(params, rule_state), **weight_norms(params)}
        if self.grad_cosine:
            from .rules.bptt import BPTT

            key = jax.random.fold_in(jax.random.fold_in(data_key, trial_index), 1)
            k_sample, k_noise = jax.random.split(key)
            trial = self.task.sample(k_sample, self.batch_size)
            estimate, _ = self.rule.trial_grads(params, trial, k_noise, rule_state)
            exact, _ = BPTT(self.model).trial_grads(params, trial, k_noise, rule_state)
            metrics["grad_cosine"] = gradient_alignment(estimate, exact)
        return metrics

    # -- the loop ---------------------------------------------------------------------------
    @functools.cached_property
    def _compiled(self):
        """The jitted chunk and evaluation functions, built once per Trainer (so that repeated
        ``fit`` calls, e.g. resuming, reuse their compilations)."""
        return (
            jax.jit(over_seeds(self._chunk_one_seed, 4, self.seed_chunk)),
            jax.jit(over_seeds(self._evaluate_one_seed, 3, self.seed_chunk)),
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
    ) -> TrainResult:
        """Train until ``trials`` trials are done (continuing ``state`` if given).

        ``progress(n)`` is called with the number of trials just done; ``on_chunk(state,
        losses, records)`` after every finite chunk (checkpointing hooks here).  A NaN or inf raises
        :class:`DivergenceError`, with the state of the last finite chunk left untouched.
        """
        import time

        if not (isinstance(trials, int) and trials > 0):
            raise ConfigError.bad_value("trials", trials, "a positive integer")
        if state is None:
            state = self.init(seed, n_seeds)
        _, _, data_keys = seed_keys(seed, n_seeds)
        chunk_fn, eval_fn = self._compiled
        all_losses = np.zeros((n_seeds, trials), dtype=np.float64)
        if losses is not None:
            all_losses[:, : state.trial] = losses[:, : state.trial]
        records = list(records or [])
        t0 = time.perf_counter()
        while state.trial < trials:
            n = min(self.chunk, trials - state.trial)
            ids = jnp.arange(state.trial, state.trial + n)
            params, opt_state, rule_state, chunk_losses = chunk_fn(
                state.params, state.opt_state, state.rule_state, data_keys, ids
            )
            chunk_losses = np.asarray(chunk_losses, dtype=np.float64)
            finite = np.isfinite(chunk_losses) & np.all(
                [np.isfinite(np.asarray(v)).reshape(n_seeds, -1).all(1) for v in jax.tree_util.tree_leaves(params)],
                axis=0,
            )[:, None]
            if not finite.all():
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
            state = TrainState(params, opt_state, rule_state, state.trial + n)
            metrics = jax.device_get(eval_fn(state.params, state.rule_state, data_keys, state.trial))
            for s in range(n_seeds):
                row = {"seed": s, "trial": state.trial, "loss": float(chunk_losses[s].mean())}
                row.update({k: float(v[s]) for k, v in metrics.items()})
                records.append(row)
            if on_chunk is not None:
                on_chunk(state, all_losses[:, : state.trial], records)
            if progress is not None:
                progress(n)
        return TrainResult(state, all_losses, records, time.perf_counter() - t0)

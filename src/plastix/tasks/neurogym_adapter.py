"""Any neurogym environment as a plastix task: ``tasks.get("neurogym:PerceptualDecisionMaking-v0")``.

neurogym (Molano-Mazón et al., "NeuroGym: An open resource for developing and sharing
neuroscience tasks", 2022; the optional extra ``plastix[neurogym]``) describes each cognitive
task as a trial generator: ``new_trial()`` fills ``ob`` (T_trial, n_obs) with the observations
and ``gt`` (T_trial,) with the ground-truth action of every step, for a trial made of named
periods (fixation, stimulus, delay, decision, …) of ``dt`` ms steps.

**Trials.**  One plastix trial is one neurogym trial; trial boundaries are explicit, so network
state and traces restart at every trial.  Trials shorter than the task's length T are padded at
the end with zero input and loss mask 0.  For an environment with a discrete action space of n
actions the network has n outputs and the target is the one-hot ground truth,

    y*_k(t) = 1[gt(t) = k],   k = 0 … n−1   (action 0 is "fixate" in neurogym's convention),

trained with the squared error of ``rules/base.py`` (or the softmax cross-entropy with the rule
option ``loss = "xent"``).  For a continuous (Box) action space the target is ``gt`` itself.

**Mask** (``mask``), derived from the ground truth and the trial's periods:

* ``"trial"`` (default): every step of the trial, for every output (padding excluded) — the
  usual supervised protocol for neurogym tasks;
* ``"response"``: only the steps whose ground truth is not the fixation action (the decision or
  production steps);
* a list of period names, e.g. ``["decision"]``: only the steps inside those periods.

**Bank of trials.**  neurogym is NumPy code with its own random state, not JAX, so it cannot run
inside a compiled training loop.  The adapter therefore pre-generates a bank of ``n_trials``
trials with NumPy (the environment seeded with ``bank_seed``) when the task is built, pads them
to T steps and keeps them as arrays (T, n_trials, ·); ``sample(key, batch_size)`` draws
``batch_size`` bank indices with ``jax.random.randint(key, …)`` and gathers those trials, so it
is pure, jit-able and vmap-able, and the same key gives the same trials.  Banks are cached per
(environment, options) within a process.

**Caveats.**  Training sees at most ``n_trials`` distinct trials (raise it for tasks with much
trial-to-trial variability; memory is T · n_trials · (n_obs + 2n) floats).  T defaults to the
longest trial in the bank; a longer ``length`` pads more, a shorter one is an error.
Environments whose ground truth is not an action index (``Reaching1D``) and multi-part action
spaces are not supported.  neurogym 2.3.1 imports PyTorch at import time without declaring it;
the ``plastix[neurogym]`` extra therefore installs neurogym 2.1–2.2.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ConfigError
from .base import Trial, check_int

PREFIX = "neurogym:"
_BANKS: dict[str, dict] = {}


def _import_neurogym():
    try:
        import neurogym
    except ModuleNotFoundError as exc:
        if exc.name == "neurogym":
            raise ConfigError.bad_value(
                "task", "neurogym:…", "a built-in task (neurogym is not installed: pip install 'plastix[neurogym]')"
            ) from None
        raise ConfigError(
            f"task: neurogym could not be imported ({exc}); pip install 'plastix[neurogym]' installs a version that works"
        ) from None
    return neurogym


def available_envs() -> list[str]:
    """The ids of neurogym's environments (its native collection)."""
    _import_neurogym()
    from neurogym.envs import registration

    return sorted(registration.ALL_ENVS)


def _make_env(env_id: str, env_kwargs: dict):
    neurogym = _import_neurogym()
    if env_id not in available_envs():
        raise ConfigError.bad_value("task", PREFIX + env_id, "neurogym:<id>, id one of " + ", ".join(available_envs()))
    import warnings

    try:
        with warnings.catch_warnings():  # gymnasium's note that neurogym's metadata lacks render_modes
            warnings.filterwarnings("ignore", message=".*render_modes.*")
            return neurogym.make(env_id, **env_kwargs)
    except TypeError as exc:
        raise ConfigError(f"task_options.env_kwargs: {env_id} does not accept these options ({exc})") from None


def generate_bank(env_id: str, env_kwargs: dict, n_trials: int, bank_seed: int) -> dict:
    """``n_trials`` raw neurogym trials: lists of ob (T_i, n_obs), gt and period boundaries."""
    env = _make_env(env_id, env_kwargs)
    core = env.unwrapped
    core.seed(bank_seed)
    obs, gts, periods = [], [], []
    for _ in range(n_trials):
        core.new_trial()
        obs.append(np.asarray(core.ob, dtype=np.float32).reshape(len(core.ob), -1))
        gts.append(np.asarray(core.gt))
        periods.append({name: (int(core.start_ind[name]), int(core.end_ind[name])) for name in core.start_ind})
    space = env.action_space
    info = {
        "dt": float(core.dt),
        "discrete": hasattr(space, "n"),
        "n_actions": int(space.n) if hasattr(space, "n") else None,
        "action_shape": tuple(getattr(space, "shape", ()) or ()),
        "fixation": int((getattr(space, "name", None) or {}).get("fixation", 0)) if hasattr(space, "n") else None,
    }
    return {"obs": obs, "gts": gts, "periods": periods, "info": info}


def _step_mask(mask, gt: np.ndarray, periods: dict, fixation, length: int, n_steps: int) -> np.ndarray:
    """(T,) 0/1 mask of one trial."""
    m = np.zeros(n_steps, dtype=np.float32)
    if mask == "trial":
        m[:length] = 1.0
    elif mask == "response":
        differs = gt != fixation if gt.ndim == 1 else np.any(gt != 0, axis=tuple(range(1, gt.ndim)))
        m[:length] = differs.astype(np.float32)
    else:
        for name in mask:
            start, end = periods[name]
            m[start:end] = 1.0
    return m


@dataclass(frozen=True)
class NeurogymTask:
    """A neurogym environment as a plastix task (whole, padded trials from a pre-generated bank)."""

    env_id: str
    env_kwargs: dict = field(default_factory=dict)
    n_trials: int = 1000
    bank_seed: int = 0
    length: int | None = None
    mask: Any = "trial"
    # built in __post_init__ from the bank (not settings)
    _inputs: Any = field(init=False, repr=False, compare=False, default=None)
    _targets: Any = field(init=False, repr=False, compare=False, default=None)
    _mask: Any = field(init=False, repr=False, compare=False, default=None)
    _lengths: Any = field(init=False, repr=False, compare=False, default=None)
    dt: float = field(init=False, compare=False, default=0.0)

    def __post_init__(self):
        check_int("n_trials", self.n_trials)
        if isinstance(self.bank_seed, bool) or not isinstance(self.bank_seed, int) or self.bank_seed < 0:
            raise ConfigError.bad_value("bank_seed", self.bank_seed, "an integer >= 0")
        if self.length is not None:
            check_int("length", self.length)
        if not isinstance(self.env_kwargs, dict):
            raise ConfigError.bad_value("env_kwargs", self.env_kwargs, "a table of options for the environment")
        mask = self.mask
        if isinstance(mask, (list, tuple)):
            if not mask or not all(isinstance(p, str) for p in mask):
                raise ConfigError.bad_value("mask", mask, '"trial", "response" or a non-empty list of period names')
            object.__setattr__(self, "mask", tuple(mask))
        elif mask not in ("trial", "response"):
            raise ConfigError.bad_value("mask", mask, '"trial", "response" or a list of period names')
        cache_key = json.dumps([self.env_id, self.env_kwargs, self.n_trials, self.bank_seed], sort_keys=True, default=str)
        bank = _BANKS.get(cache_key)
        if bank is None:
            bank = _BANKS[cache_key] = generate_bank(self.env_id, self.env_kwargs, self.n_trials, self.bank_seed)
        self._build(bank)

    def _build(self, bank: dict) -> None:
        info = bank["info"]
        lengths = np.array([len(ob) for ob in bank["obs"]])
        n_steps = self.length if self.length is not None else int(lengths.max())
        if lengths.max() > n_steps:
            raise ConfigError.bad_value("length", self.length, f"at least the longest trial in the bank ({lengths.max()} steps)")
        if isinstance(self.mask, tuple):
            known = set().union(*(p.keys() for p in bank["periods"]))
            unknown = [p for p in self.mask if p not in known]
            if unknown:
                raise ConfigError.bad_value("mask", list(self.mask), "period names of this task: " + ", ".join(sorted(known)))
        n_obs = bank["obs"][0].shape[1]
        if info["discrete"]:
            n_out = info["n_actions"]
            bad = [g for g in bank["gts"] if g.ndim != 1 or g.min() < 0 or g.max() >= n_out]
            if bad:
                raise ConfigError.bad_value(
                    "task", PREFIX + self.env_id,
                    f"an environment whose ground truth is an action index 0…{n_out - 1} (got values {np.unique(bad[0])[:5]})",
                )
        elif len(info["action_shape"]) == 1:
            n_out = info["action_shape"][0]
        else:
            raise ConfigError.bad_value("task", PREFIX + self.env_id, "an environment with a discrete or 1-D Box action space")
        inputs = np.zeros((n_steps, self.n_trials, n_obs), np.float32)
        targets = np.zeros((n_steps, self.n_trials, n_out), np.float32)
        mask = np.zeros((n_steps, self.n_trials, n_out), np.float32)
        for i, (ob, gt, periods) in enumerate(zip(bank["obs"], bank["gts"], bank["periods"])):
            length = len(ob)
            inputs[:length, i] = ob
            targets[:length, i] = np.eye(n_out, dtype=np.float32)[gt] if info["discrete"] else gt.reshape(length, n_out)
            mask[:, i] = _step_mask(self.mask, gt, periods, info["fixation"], length, n_steps)[:, None]
        object.__setattr__(self, "_inputs", jnp.asarray(inputs))
        object.__setattr__(self, "_targets", jnp.asarray(targets))
        object.__setattr__(self, "_mask", jnp.asarray(mask))
        object.__setattr__(self, "_lengths", lengths)
        object.__setattr__(self, "dt", info["dt"])

    @property
    def n_in(self) -> int:
        return int(self._inputs.shape[2])

    @property
    def n_out(self) -> int:
        return int(self._targets.shape[2])

    @property
    def n_steps(self) -> int:
        return int(self._inputs.shape[0])

    @property
    def trial_lengths(self) -> np.ndarray:
        """Length in steps of every trial of the bank (before padding)."""
        return self._lengths

    def bank_trial(self, indices) -> Trial:
        """The bank's trials ``indices`` (T, len(indices), ·), as ``sample`` returns them."""
        idx = jnp.asarray(indices)
        return Trial(self._inputs[:, idx], self._targets[:, idx], self._mask[:, idx])

    def sample(self, key: jax.Array, batch_size: int = 1) -> Trial:
        return self.bank_trial(jax.random.randint(key, (batch_size,), 0, self.n_trials))


def get(name: str, **options) -> NeurogymTask:
    """``get("neurogym:<EnvId>", **options)`` — the hook behind ``plastix.tasks.get``."""
    env_id = name[len(PREFIX):]
    accepted = [f.name for f in dataclasses.fields(NeurogymTask) if f.init and f.name != "env_id"]
    for key in options:
        if key not in accepted:
            raise ConfigError.bad_value(f"task option for {name!r}", key, ", ".join(accepted))
    if not env_id:
        raise ConfigError.bad_value("task", name, "neurogym:<environment id>, e.g. neurogym:PerceptualDecisionMaking-v0")
    return NeurogymTask(env_id, **options)

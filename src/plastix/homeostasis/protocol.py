r"""The trial-by-trial homeostatic training protocol of Buonomano 2005: stimulate, count spikes,
update running averages, scale weights — repeated, compiled end to end.

Maths
-----
For trial n = 1, 2, …::

    spikes  = simulate(W(n−1), stimulus, noise n)          (models/ei_spiking.py)
    A_i(n)  = number of spikes of unit i in the trial
    Ā(n)    = Ā(n−1) + (A(n) − Ā(n−1)) / τ_avg              (rules.running_average)
    W_b(n)  = rule_b(W_b(n−1), Ā_pre(b)(n), Ā_post(b)(n))   for every plastic block b

Ā starts at 0 (the network has never been active).  With ``trials_per_update = m > 1`` the m
trials of one update are simulated side by side and ``A`` is their mean count (a choice of this
library, not of the paper, which updates after every trial; m = 1 is the default).

How it works
------------
:func:`make_trainer` closes over the network and the rules (static) and returns a jitted
function that ``lax.scan``\ s over trials — the inner trial is itself a ``lax.scan`` over time —
so a chunk of hundreds of trials is a single compiled call.  It returns per-trial summaries
(:func:`trial_summary`), never the spike trains, so memory does not grow with the number of
trials.  The reproduction calls it chunk by chunk to show progress and keep checkpoints.

Caveats
-------
The averages and weights are float32; over thousands of trials the rule's fixed point is
reached to float32 precision only.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from ..errors import ConfigError
from ..models.ei_spiking import BLOCKS, EINetwork
from .rules import running_average


class Averages(NamedTuple):
    """Running averages Ā of the spike count per trial, per population."""

    exc: jax.Array
    inh: jax.Array


def init_averages(network: EINetwork) -> Averages:
    return Averages(jnp.zeros(network.n_exc, jnp.float32), jnp.zeros(network.n_inh, jnp.float32))


def trial_summary(network: EINetwork, spikes, window_ms: float = 20.0) -> dict:
    """Per-trial numbers from spikes (T, N): population counts, active fraction, runaway index.

    ``max_frac_exc_window`` is the largest fraction of excitatory units that fire within any
    ``window_ms`` window — the runaway criterion (> 0.5) of the spec.
    """
    ne = network.n_exc
    s = spikes.astype(jnp.float32)
    counts = s.sum(0)
    w = max(1, int(round(window_ms / network.dt)))
    cum = jnp.concatenate([jnp.zeros((1, ne)), jnp.cumsum(s[:, :ne], axis=0)])
    fired_in_window = (cum[w:] - cum[:-w]) > 0  # (T − w + 1, ne)
    return {
        "exc_spikes": counts[:ne].sum(),
        "inh_spikes": counts[ne:].sum(),
        "frac_exc_active": (counts[:ne] > 0).mean(),
        "max_frac_exc_window": fired_in_window.mean(1).max(),
    }


def make_trainer(
    network: EINetwork,
    rules: dict,
    tau_avg: float = 5.0,
    trials_per_update: int = 1,
    targets: dict | None = None,
) -> Callable:
    """Build ``train(params, averages, key, n_trials) -> (params, averages, history)``.

    ``rules`` maps weight-block names (``"w_ee"``, ``"w_ie"``, ``"w_ei"``, ``"w_ii"``) to rule
    objects (:class:`~plastix.homeostasis.rules.PSDScaling`, ``SynapticScaling`` or any callable
    ``(weights, pre_avg, post_avg, pre_target) -> weights``).  ``targets`` gives each
    population's A_goal (used for the ``normalized`` presynaptic term); by default it is read from
    the rules of the blocks that population receives.
    """
    for name in rules:
        if name not in BLOCKS:
            raise ConfigError.bad_value("rules", name, ", ".join(BLOCKS))
    if not (isinstance(trials_per_update, int) and trials_per_update >= 1):
        raise ConfigError.bad_value("trials_per_update", trials_per_update, "an integer >= 1")
    if tau_avg < 1:
        raise ConfigError.bad_value("tau_avg", tau_avg, "a number >= 1 (trials)")
    goals = {"exc": 1.0, "inh": 1.0}
    for name, rule in rules.items():
        post = BLOCKS[name][0]
        if hasattr(rule, "target"):
            goals[post] = float(rule.target)
    goals.update(targets or {})

    def one_update(carry, key):
        params, avg = carry
        keys = jax.random.split(key, trials_per_update)
        spikes = network.simulate_batch(params, keys)  # (m, T, N)
        counts = spikes.astype(jnp.float32).sum(1).mean(0)  # (N,)
        avg = Averages(
            running_average(avg.exc, counts[: network.n_exc], tau_avg),
            running_average(avg.inh, counts[network.n_exc:], tau_avg),
        )
        pop = {"exc": avg.exc, "inh": avg.inh}
        new_params = dict(params)
        for name, rule in rules.items():
            post, pre = BLOCKS[name]
            new_params[name] = rule(params[name], pop[pre], pop[post], goals[pre])
        summary = jax.vmap(lambda s: trial_summary(network, s))(spikes)
        summary = {k: v.mean() for k, v in summary.items()}
        summary["mean_w_ee"] = new_params["w_ee"].sum() / jnp.maximum((new_params["w_ee"] > 0).sum(), 1)
        return (new_params, avg), summary

    @jax.jit
    def _train(params, avg, keys):
        (params, avg), history = lax.scan(one_update, (params, avg), keys)
        return params, avg, history

    def train(params, averages: Averages, key: jax.Array, n_trials: int):
        keys = jax.random.split(key, n_trials)
        return _train(params, averages, keys)

    return train

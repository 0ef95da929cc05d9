r"""The augmented loop circuit that chains short syllables into long sequences (Murray 2019, Fig. 4).

Idea (Murray 2019, §"Learning a sequence of actions", after Logiaco, Abbott & Escola 2018): a
recurrent "cortical" network first learns K short syllables, each driven by one tonic input
(stage 1, any plastix rule, e.g. RFLO — see :mod:`plastix.circuits.cursor`).  Then the network is
frozen and a loop through "striatum" and "thalamus" learns which syllable follows which
(stage 2):

    z_i = Σ_j W^s_ij h_j(t_end)                 K striatal units, read out only at a syllable end
    i* = argmax_{i allowed} z_i                  winner-take-all (gated: acts only at syllable ends)
    with probability p_explore, i* is instead uniform over the allowed units (exploration)
    x(t) = one-hot(i*) after the hold          the winner switches on its thalamic (tonic) input
    ΔW^s_ij = η_s R ζ_i h_j(t_end)              reward-modulated Hebbian rule

with ζ = one-hot(i*) the post-competition striatal activity and R = 1 if the transition (previous
syllable → i*) is the one the target sequence makes from that syllable, else 0.  "Allowed" units
are those whose reach keeps the cursor's planned end point inside the bounds.

Choices the paper leaves open (spec ``rflo.md`` §3), made here and documented in
``docs/reproductions/murray2019-fig4.md``:

* end of a syllable: a fixed clock, every ``syllable_steps`` steps of input (20τ);
* a hold is the pause of ``hold_steps`` steps with every tonic input off that follows each reach;
  the striatal decision is taken from h at the end of the reach and its input switches on when
  the hold ends (a decision taken at the end of a hold would need the hold's end state to
  remember which reach came before it);
* the first syllable is cued externally (``target[0]``);
* R is given per transition and W^s is updated online, at each transition;
* ζ_i is the winner's indicator, not the raw z_i (the raw z can be negative, which would make
  the Hebbian update unlearn a rewarded choice);
* W^s starts at N(0, (init_std)²/N); ties at zero go to the lowest allowed index.

Everything is pure JAX (``lax.scan`` over syllables and trials) and ``vmap``s over networks.
Caveat: a target in which one syllable has two different successors cannot be learned by a
readout of the state at the syllable end; :class:`LoopCircuit` refuses such targets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp

from ..errors import ConfigError
from .cursor import CursorSyllables


class LoopRun(NamedTuple):
    """One pass through a sequence (leading batch axes when vmapped)."""

    outputs: jax.Array  # (T, 2) cursor velocity read out from the RNN
    actions: jax.Array  # (n,) the syllable played in each slot
    choices: jax.Array  # (n,) the striatal winner at the end of each slot (choices[i] = actions[i+1])
    rewards: jax.Array  # (n,) R of the transition chosen at the end of each slot (0 after the last)
    decision_states: jax.Array  # (n, N) h at the end of each reach


@dataclass(frozen=True)
class LoopCircuit:
    """A frozen syllable RNN plus a learned striatal readout that picks the next syllable."""

    model: object  # a RateRNN with n_in == cursor.n_actions, n_out == 2
    cursor: CursorSyllables = CursorSyllables()
    target: tuple[int, ...] = (0, 1, 2, 3)
    p_explore: float = 0.1
    lr: float = 0.01
    init_std: float = 0.1

    def __post_init__(self):
        k = self.cursor.n_actions
        if self.model.n_in != k or self.model.n_out != 2:
            raise ConfigError.bad_value(
                "model", f"n_in={self.model.n_in}, n_out={self.model.n_out}", f"n_in={k} (one tonic input per syllable), n_out=2"
            )
        if len(self.target) < 2 or any(not (0 <= a < k) for a in self.target):
            raise ConfigError.bad_value("target", self.target, f"at least two syllable indices in [0, {k})")
        successor = {}
        for a, b in zip(self.target[:-1], self.target[1:]):
            if successor.setdefault(a, b) != b:
                raise ConfigError.bad_value("target", self.target, "a sequence in which each syllable has one successor")
        if not 0.0 <= self.p_explore <= 1.0:
            raise ConfigError.bad_value("p_explore", self.p_explore, "a probability in [0, 1]")
        if not self.lr >= 0:
            raise ConfigError.bad_value("lr", self.lr, "a non-negative number")

    # -- structure --------------------------------------------------------------------------
    def successors(self) -> jax.Array:
        """Target successor of each syllable, (K,), −1 where the target makes no transition."""
        succ = [-1] * self.cursor.n_actions
        for a, b in zip(self.target[:-1], self.target[1:]):
            succ[a] = b
        return jnp.asarray(succ)

    @property
    def n_steps(self) -> int:
        return len(self.target) * self.cursor.unit_steps

    def target_velocity(self) -> jax.Array:
        return self.cursor.sequence_target(self.target)

    def init(self, key: jax.Array) -> jax.Array:
        """Initial corticostriatal weights W^s, (K, N)."""
        n = self.model.n_rec
        return self.init_std / jnp.sqrt(n) * jax.random.normal(key, (self.cursor.n_actions, n))

    # -- one pass ---------------------------------------------------------------------------
    def run(self, rnn_params: dict, w_s: jax.Array, key: jax.Array, explore: bool = True, learn: bool = True):
        """Play the sequence once from h(0), cued with ``target[0]``.  Returns (W^s after, LoopRun)."""
        c = self.cursor
        succ = self.successors()
        p_explore = self.p_explore if explore else 0.0
        lr = self.lr if learn else 0.0
        h0 = self.model.initial_state(rnn_params, 1)

        def slot(carry, k):
            h, position, action, w_s = carry
            x = c.unit_input(action)[:, None, :]
            h_reach, aux_reach = self.model.run(rnn_params, x[: c.syllable_steps], h_init=h)
            h_hold, aux_hold = self.model.run(rnn_params, x[c.syllable_steps :], h_init=h_reach)
            y = jnp.concatenate([aux_reach.y[:, 0], aux_hold.y[:, 0]], axis=0)
            at_decision = position + aux_reach.y[:, 0].sum(0) / c.syllable_steps
            allowed = c.allowed(at_decision)
            allowed = jnp.where(allowed.any(), allowed, True)  # cursor far outside: let anything go
            state = h_reach[0]
            z = w_s @ state
            greedy = jnp.argmax(jnp.where(allowed, z, -jnp.inf))
            k_explore, k_pick = jax.random.split(k)
            random_pick = jax.random.categorical(k_pick, jnp.where(allowed, 0.0, -jnp.inf))
            nxt = jnp.where(jax.random.uniform(k_explore) < p_explore, random_pick, greedy)
            reward = ((succ[action] >= 0) & (nxt == succ[action])).astype(w_s.dtype)
            w_s = w_s + lr * reward * jax.nn.one_hot(nxt, c.n_actions, dtype=w_s.dtype)[:, None] * state[None, :]
            position = position + y.sum(0) / c.syllable_steps
            return (h_hold, position, nxt, w_s), (y, action, nxt, reward, state)

        init = (h0, jnp.zeros(2, h0.dtype), jnp.asarray(self.target[0]), w_s)
        (_, _, _, w_s), (ys, actions, choices, rewards, states) = jax.lax.scan(slot, init, jax.random.split(key, len(self.target)))
        return w_s, LoopRun(ys.reshape(-1, 2), actions, choices, rewards, states)

    def greedy(self, rnn_params: dict, w_s: jax.Array) -> LoopRun:
        """The learned sequence: no exploration, no learning."""
        return self.run(rnn_params, w_s, jax.random.key(0), explore=False, learn=False)[1]

    # -- stage 2 ----------------------------------------------------------------------------
    def train(self, rnn_params: dict, key: jax.Array, n_trials: int, w_s: jax.Array | None = None):
        """Stage 2 for one network: ``n_trials`` passes with exploration and online learning.

        Returns (W^s, per-trial fraction of rewarded transitions (n_trials,)).  The number of
        transitions per pass is ``len(target) − 1``.
        """
        k_init, k_trials = jax.random.split(key)
        if w_s is None:
            w_s = self.init(k_init)
        n_transitions = len(self.target) - 1

        def trial(w_s, k):
            w_s, run = self.run(rnn_params, w_s, k)
            return w_s, run.rewards.sum() / n_transitions

        return jax.lax.scan(trial, w_s, jax.random.split(k_trials, n_trials))


def sequence_loss(outputs: jax.Array, target: jax.Array) -> jax.Array:
    """L = 1/(2T) Σ_t |y(t) − y*(t)|² over the last two axes (T, 2), as the training loss."""
    return 0.5 * jnp.sum((outputs - target) ** 2, axis=(-2, -1)) / outputs.shape[-2]

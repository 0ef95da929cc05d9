r"""A 2-D cursor driven by an RNN's velocity readout, its reach "syllables", and their tasks.

Murray 2019 (eLife 8:e43299, Fig. 4) trains an RNN whose two-dimensional readout is the velocity
of a cursor; each of K tonic inputs drives one short movement ("behavioural syllable", 20τ).
This module fixes what the paper leaves open (spec ``rflo.md`` §3) and gives the trial
generators the rest of plastix trains with.

Plant.  The readout y(t) ∈ R² is a velocity in units of distance per syllable, so the cursor is

    p(t) = p(0) + (1/L) Σ_{s ≤ t} y(s)                         (L = ``syllable_steps``)

and is confined to the box |p_x|, |p_y| ≤ ``bound`` — as a constraint on which syllable may be
chosen next (a reach whose planned end point leaves the box is not allowed), not by clipping.

Syllables.  Reach k moves the cursor by D·d_k, d_k = (cos θ_k, sin θ_k),
θ_k = ``angle_offset`` + 2πk/K, with a raised-cosine velocity profile

    y*(t) = D d_k (1 − cos(2π t/L)),   t = 1..L                 (integrates to D d_k)

(peak speed 2D, zero at both ends, so reaches join smoothly).  A **hold** is ``hold_steps``
steps with every tonic input off and target velocity zero (the cursor must stay still).
Decision (inference; the paper shows "four movements and four holds" made from four tonic
inputs): a hold is the pause that follows every reach, not a fifth input.  A sequence of
actions a_1..a_n is therefore reach(a_1), hold, reach(a_2), hold, …: 8 × 20τ = 160τ for n = 4.

Tasks (Trainer-compatible: ``n_in``, ``n_out``, ``n_steps``, ``sample(key, batch)``):

* :class:`SyllableTask` — stage 1 of the loop circuit.  Each trial is a chain of ``n_chain``
  random (reach, hold) pairs, a random walk of the cursor from the origin that respects the
  bounds; so syllables are learned both from the network's resting state and from the state a
  previous syllable and hold leave behind (the states the loop will start them from).
* :class:`SequenceTask` — the whole sequence as one autonomous output (no input): what a
  network without the loop must learn directly (Fig. 4c's comparison).

Caveats: targets are velocities; position errors accumulate the velocity error over the
sequence.  Trials start from the model's h(0) (the Trainer resets the state every trial).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from ..errors import ConfigError, check_positive
from ..tasks.base import Trial, check_int


@dataclass(frozen=True)
class CursorSyllables:
    """K reach directions, their velocity profiles, the hold, and the bounds of the cursor."""

    n_directions: int = 4
    syllable_steps: int = 200
    hold_steps: int = 200
    reach_distance: float = 1.0
    bound: float = 1.5
    angle_offset: float = 0.0

    def __post_init__(self):
        check_int("n_directions", self.n_directions, 2)
        check_int("syllable_steps", self.syllable_steps, 2)
        check_int("hold_steps", self.hold_steps, 0)
        check_positive("reach_distance", self.reach_distance)
        if not self.bound >= self.reach_distance:
            raise ConfigError.bad_value("bound", self.bound, f"a number >= reach_distance ({self.reach_distance})")

    @property
    def n_actions(self) -> int:
        return self.n_directions

    @property
    def unit_steps(self) -> int:
        """Steps of one reach followed by its hold."""
        return self.syllable_steps + self.hold_steps

    def directions(self) -> jax.Array:
        theta = self.angle_offset + 2 * jnp.pi * jnp.arange(self.n_directions) / self.n_directions
        return jnp.stack([jnp.cos(theta), jnp.sin(theta)], axis=-1)

    def displacements(self) -> jax.Array:
        """Planned displacement of each reach, (K, 2)."""
        return self.reach_distance * self.directions()

    def speed_profile(self) -> jax.Array:
        """1 − cos(2πt/L), t = 1..L: mean 1, so a reach moves exactly its displacement."""
        t = jnp.arange(1, self.syllable_steps + 1) / self.syllable_steps
        return 1.0 - jnp.cos(2 * jnp.pi * t)

    def unit_target(self, action) -> jax.Array:
        """Target velocity of reach ``action`` then its hold, (L + H, 2)."""
        reach = self.speed_profile()[:, None] * self.displacements()[action][None, :]
        return jnp.concatenate([reach, jnp.zeros((self.hold_steps, 2))], axis=0)

    def unit_input(self, action) -> jax.Array:
        """Tonic input of reach ``action`` (one-hot, on during the reach, off during the hold)."""
        on = jnp.broadcast_to(jax.nn.one_hot(action, self.n_actions), (self.syllable_steps, self.n_actions))
        return jnp.concatenate([on, jnp.zeros((self.hold_steps, self.n_actions))], axis=0)

    def sequence_target(self, actions) -> jax.Array:
        """Velocity target of a sequence of actions, (n·(L + H), 2)."""
        return jnp.concatenate([self.unit_target(a) for a in actions], axis=0)

    def positions(self, velocity, start=None) -> jax.Array:
        """Cursor path p(t) from a velocity readout (..., T, 2)."""
        p = jnp.cumsum(velocity, axis=-2) / self.syllable_steps
        return p if start is None else p + start

    def allowed(self, position) -> jax.Array:
        """Which reaches keep the planned end point inside the box, (K,) bool."""
        end = position[None, :] + self.displacements()
        return jnp.all(jnp.abs(end) <= self.bound + 1e-6, axis=-1)

    def random_walk(self, key, n_units: int) -> jax.Array:
        """``n_units`` random reaches from the origin, each uniform among the allowed ones."""

        def pick(position, k):
            allowed = self.allowed(position)
            a = jax.random.categorical(k, jnp.where(allowed, 0.0, -jnp.inf))
            return position + self.displacements()[a], a

        _, actions = jax.lax.scan(pick, jnp.zeros(2), jax.random.split(key, n_units))
        return actions


@dataclass(frozen=True)
class SyllableTask:
    """Stage 1: chains of random (reach, hold) pairs; K tonic inputs → 2-D cursor velocity."""

    cursor: CursorSyllables = CursorSyllables()
    n_chain: int = 2

    def __post_init__(self):
        check_int("n_chain", self.n_chain)

    @property
    def n_in(self) -> int:
        return self.cursor.n_actions

    n_out = 2

    @property
    def n_steps(self) -> int:
        return self.n_chain * self.cursor.unit_steps

    def trial_for_actions(self, actions) -> Trial:
        """Trials for given action chains, (B, n_chain) → Trial (T, B, ·)."""
        c = self.cursor
        one = lambda acts: (
            jnp.concatenate([c.unit_input(a) for a in acts], 0),
            jnp.concatenate([c.unit_target(a) for a in acts], 0),
        )
        acts = jnp.asarray(actions)
        inputs, targets = jax.vmap(lambda a: one([a[i] for i in range(self.n_chain)]))(acts)
        inputs, targets = jnp.swapaxes(inputs, 0, 1), jnp.swapaxes(targets, 0, 1)
        return Trial(inputs, targets, jnp.ones_like(targets))

    def sample(self, key: jax.Array, batch_size: int = 1) -> Trial:
        actions = jax.vmap(lambda k: self.cursor.random_walk(k, self.n_chain))(jax.random.split(key, batch_size))
        return self.trial_for_actions(actions)


@dataclass(frozen=True)
class SequenceTask:
    """The whole sequence as one autonomous output: no input (one zero channel), 2-D velocity."""

    cursor: CursorSyllables = CursorSyllables()
    actions: tuple[int, ...] = (0, 1, 2, 3)

    def __post_init__(self):
        if not self.actions or any(not (0 <= a < self.cursor.n_actions) for a in self.actions):
            raise ConfigError.bad_value("actions", self.actions, f"a non-empty tuple of integers in [0, {self.cursor.n_actions})")

    n_in = 1
    n_out = 2

    @property
    def n_steps(self) -> int:
        return len(self.actions) * self.cursor.unit_steps

    def target(self) -> jax.Array:
        return self.cursor.sequence_target(self.actions)

    def sample(self, key: jax.Array, batch_size: int = 1) -> Trial:
        del key  # deterministic
        T = self.n_steps
        targets = jnp.broadcast_to(self.target()[:, None, :], (T, batch_size, 2))
        return Trial(jnp.zeros((T, batch_size, 1)), targets, jnp.ones((T, batch_size, 2)))

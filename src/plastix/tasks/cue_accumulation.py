"""Evidence (cue) accumulation (Bellec et al. 2020, Nat. Commun., Fig. 3; Morcos & Harvey 2016).

``n_in`` = 40 input neurons in 4 equal groups: left cues, right cues, recall, background noise.
A trial shows ``n_cues`` = 7 cues, cue k occupying steps [gap + k·interval, gap + k·interval +
t_cue) with gap = interval − t_cue (50 ms of silence, then 100 ms of cue), during which the
cue's group fires at ``f_cue`` = 40 Hz.  Each cue is right with probability 1 − p_group or
p_group (0.3), which one being drawn per trial with probability ½, independently per cue.
After the cues come ``delay`` ms (1050) of background only, then ``recall`` ms (150) in which
the recall group fires at ``f_cue``.  The noise group fires at ``f_noise`` = 10 Hz throughout.
Default length 7·150 + 1050 + 150 = 2250 ms.

Target: the majority side (right if more than n_cues/2 cues were right), one-hot over two
outputs (0: left, 1: right), in the loss mask only during the recall window — the *learning
window* of e-prop.  The decision is the argmax of the outputs averaged over the window
(:func:`decision_error`).  The task is meant for ``loss="xent"`` (attribute ``loss``); MSE on
the one-hot target also trains.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from ..errors import ConfigError
from .base import Trial, check_int


def decision_error(outputs, targets, mask):
    """Fraction of trials whose window-averaged output's argmax is not the target's.

    ``outputs`` (T, B, n_out); the window is where ``mask`` > 0 (per trial)."""
    m = (mask[..., :1] > 0).astype(outputs.dtype)
    count = jnp.maximum(m.sum(0), 1.0)
    mean_out = (outputs * m).sum(0) / count
    mean_tgt = (targets * m).sum(0) / count
    return jnp.mean(jnp.argmax(mean_out, -1) != jnp.argmax(mean_tgt, -1))


@dataclass(frozen=True)
class CueAccumulation:
    n_in: int = 40
    n_cues: int = 7
    t_cue: int = 100
    interval: int = 150
    delay: int = 1050
    recall: int = 150
    f_cue: float = 40.0
    f_noise: float = 10.0
    p_group: float = 0.3

    n_out = 2
    loss = "xent"

    def __post_init__(self):
        check_int("n_in", self.n_in, 4)
        if self.n_in % 4:
            raise ConfigError.bad_value("n_in", self.n_in, "a multiple of 4 (left, right, recall, noise groups)")
        check_int("n_cues", self.n_cues)
        check_int("t_cue", self.t_cue)
        check_int("interval", self.interval)
        if self.interval < self.t_cue:
            raise ConfigError.bad_value("interval", self.interval, f"an integer >= t_cue ({self.t_cue})")
        check_int("delay", self.delay, 0)
        check_int("recall", self.recall)
        for name in ("f_cue", "f_noise"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and 0 <= v < 1000):
                raise ConfigError.bad_value(name, v, "a rate in Hz in [0, 1000)")
        if not (isinstance(self.p_group, (int, float)) and 0 <= self.p_group <= 1):
            raise ConfigError.bad_value("p_group", self.p_group, "a probability in [0, 1]")

    @property
    def n_steps(self) -> int:
        return self.n_cues * self.interval + self.delay + self.recall

    def sample(self, key: jax.Array, batch_size: int = 1) -> Trial:
        k_side, k_cues, k_spikes = jax.random.split(key, 3)
        T, g = self.n_steps, self.n_in // 4
        right_is_likely = jax.random.bernoulli(k_side, 0.5, (batch_size,))
        p_right = jnp.where(right_is_likely, 1.0 - self.p_group, self.p_group)
        cues_right = jax.random.bernoulli(k_cues, p_right[:, None], (batch_size, self.n_cues))  # (B, n_cues)
        t = jnp.arange(T)
        start = self.interval - self.t_cue + self.interval * jnp.arange(self.n_cues)
        on = (t[:, None] >= start) & (t[:, None] < start + self.t_cue)  # (T, n_cues)
        right_on = (on[:, None, :] & cues_right[None]).any(-1)  # (T, B)
        left_on = (on[:, None, :] & ~cues_right[None]).any(-1)
        recall_on = jnp.broadcast_to((t >= T - self.recall)[:, None], (T, batch_size))
        p_cue, p_noise = self.f_cue / 1000.0, self.f_noise / 1000.0
        group_prob = jnp.stack(
            [left_on * p_cue, right_on * p_cue, recall_on * p_cue, jnp.full((T, batch_size), p_noise)], axis=-1
        )  # (T, B, 4)
        prob = jnp.repeat(group_prob, g, axis=-1)
        inputs = jax.random.bernoulli(k_spikes, prob).astype(jnp.float32)
        label = (cues_right.sum(-1) > self.n_cues // 2).astype(jnp.int32)
        targets = jnp.broadcast_to(jax.nn.one_hot(label, 2)[None], (T, batch_size, 2))
        mask = jnp.broadcast_to(recall_on[..., None], (T, batch_size, 2)).astype(jnp.float32)
        return Trial(inputs, targets, mask)

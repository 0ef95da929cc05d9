"""Autodiff through the spiking network with its surrogate derivative (Bellec et al. 2020).

With ``detach=False`` this is BPTT on the LIF/ALIF network (pseudo-derivative ψ in place of the
spike's derivative); with ``detach=True`` the recurrent spikes z(t−1) and the reset are
stop-gradient'ed while the own-spike path into the adaptation is kept (paper Suppl. S1.1), and
the result equals symmetric e-prop (``rules/eprop.py``) exactly — a check of e-prop's traces
that needs no hand derivation.  ``reg_rate`` adds the firing-rate regulariser

    E_reg = (c_reg/2) Σ_j (f̄_j − f_target)²,   f̄_j = mean over (t, batch) of z_j(t).

Memory O(T) (the scan stores every state).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, final

import jax
import jax.numpy as jnp

from ..errors import ConfigError
from ..models.spiking import SpikingRNN
from .base import NetworkCarry, Rule, Stretch, loss_value


def rate_regulariser(z, reg_rate: float, target_rate: float):
    """Eq. (7) from spikes z (T, B, N)."""
    rate = jnp.mean(z, axis=(0, 1))
    return 0.5 * reg_rate * jnp.sum((rate - target_rate / 1000.0) ** 2)


@final
@dataclass(frozen=True)
class SurrogateAutodiff(Rule):
    """Autodiff through the spiking network: BPTT (``detach=False``) or symmetric e-prop (True).

    With ``detach=True`` the recurrent spikes z(t−1) and the reset are stop-gradient'ed while the
    own-spike path into the adaptation is kept (paper Suppl. S1.1): the result equals
    :class:`EProp` with symmetric feedback exactly.  ``reg_rate`` adds Eq. (7).  Memory O(T).
    """

    detach: bool = True
    reg_rate: float = 0.0
    target_rate: float = 10.0
    name: ClassVar[str] = "eprop_autodiff"

    def __post_init__(self):
        super().__post_init__()
        if not isinstance(self.model, SpikingRNN):
            raise ConfigError.bad_value("model", type(self.model).__name__, "a spiking model (lif, alif)")

    def segment(self, params, rule_state, carry, stretch: Stretch, n_total):
        h_init = jax.lax.stop_gradient(carry.h)
        inputs, targets, mask, noise = stretch

        def objective(p):
            h_final, aux = self.model.run(p, inputs, h_init=h_init, noise=noise, detach=self.detach)
            task = loss_value(aux.y, targets, mask, n_total, self.loss)
            reg = rate_regulariser(aux.z, self.reg_rate, self.target_rate) if self.reg_rate else 0.0
            return task + reg, (task, h_final)

        (_, (loss, h_final)), grads = jax.value_and_grad(objective, has_aux=True)(params)
        return NetworkCarry(h_final), self.restrict(grads), {"loss": loss}

"""Network dynamics as pure step functions: every network of plastix is defined here.

* :mod:`~plastix.models.rate` — :class:`RateRNN`, the rate RNN the sequence rules train;
* :mod:`~plastix.models.spiking` — :class:`LIF`, :class:`ALIF`, :class:`SpikingRNN` (Bellec et al. 2020);
* :mod:`~plastix.models.readout` — :class:`LinearReadout`, the perturbation paper's perceptron;
* :mod:`~plastix.models.output_feedback` — :class:`OutputFeedbackRNN`, a RateRNN whose readout
  feeds back (Murray 2019);
* :mod:`~plastix.models.chaotic_rate` — :class:`RateNetwork`, the sparse chaotic rate network of
  FORCE and innate training (Sussillo & Abbott 2009; Laje & Buonomano 2013);
* :mod:`~plastix.models.ei_spiking` — :class:`EINetwork`, the E/I conductance-based spiking
  network of Buonomano 2005;
* :mod:`~plastix.models.energy` — :class:`FixedPointNet`, the fixed-point (energy) networks of
  contrastive learning and equilibrium propagation.

Models depend on nothing above them (no rules, training loops or experiments).  :func:`get`
builds the kinds ``plastix compare`` trains by name.
"""

from .rate import RateRNN, StepAux
from .readout import LinearReadout
from .spiking import ALIF, LIF, SpikingRNN

__all__ = ["ALIF", "LIF", "LinearReadout", "RateRNN", "SpikingRNN", "StepAux", "get"]

_MODELS = {"rate": RateRNN, "readout": LinearReadout, "lif": LIF, "alif": ALIF}


def get(kind: str, **settings):
    """Model by kind name (``rate``; others register here as they are added)."""
    from ..errors import ConfigError

    if kind not in _MODELS:
        raise ConfigError.bad_value("model", kind, ", ".join(sorted(_MODELS)))
    return _MODELS[kind](**settings)

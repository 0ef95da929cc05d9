"""Network dynamics as pure step functions: the networks the rules train.

* :mod:`~plastix.models.rate` — :class:`RateRNN`, the rate RNN the sequence rules train;
* :mod:`~plastix.models.spiking` — :class:`LIF`, :class:`ALIF`, :class:`SpikingRNN` (Bellec et al. 2020);
* :mod:`~plastix.models.readout` — :class:`LinearReadout`, the perturbation paper's perceptron.

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

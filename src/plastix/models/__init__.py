"""Network dynamics as pure step functions."""

from .rate import RateRNN, StepAux

__all__ = ["RateRNN", "StepAux", "get"]

from ..readout import LinearReadout  # noqa: E402  (the perturbation paper's perceptron)

from .spiking import ALIF, LIF, SpikingRNN  # noqa: E402  (Bellec et al. 2020)

_MODELS = {"rate": RateRNN, "readout": LinearReadout, "lif": LIF, "alif": ALIF}


def get(kind: str, **settings):
    """Model by kind name (``rate``; others register here as they are added)."""
    from ..errors import ConfigError

    if kind not in _MODELS:
        raise ConfigError.bad_value("model", kind, ", ".join(sorted(_MODELS)))
    return _MODELS[kind](**settings)

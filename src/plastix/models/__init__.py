"""Network dynamics as pure step functions."""

from .rate import RateRNN, StepAux

__all__ = ["RateRNN", "StepAux", "get"]

_MODELS = {"rate": RateRNN}


def get(kind: str, **settings):
    """Model by kind name (``rate``; others register here as they are added)."""
    from ..errors import ConfigError

    if kind not in _MODELS:
        raise ConfigError.bad_value("model", kind, ", ".join(sorted(_MODELS)))
    return _MODELS[kind](**settings)

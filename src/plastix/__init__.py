"""plastix: biologically plausible, local, online learning in recurrent networks.

The contract (see the README)::

    import jax, plastix as px
    task   = px.tasks.get("periodic", period=200)
    trial  = task.sample(jax.random.key(1), batch_size=8)
    model  = px.models.RateRNN(n_in=task.n_in, n_rec=30, n_out=task.n_out, tau=10.0)
    params = model.init(jax.random.key(0))
    rule   = px.rules.get("rflo", model, feedback="random")
    grads, metrics = rule.trial_grads(params, trial, jax.random.key(2))
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_SUBMODULES = {
    "models", "rules", "tasks", "training", "metrics", "runs", "errors", "experiments",
    "energy", "homeostasis", "volatility", "perception",
}


def __getattr__(name: str):
    # Subpackages load on first use, so `import plastix` stays fast for the CLI.
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'plastix' has no attribute {name!r}")


__all__ = sorted(_SUBMODULES)

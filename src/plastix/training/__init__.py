"""The one training loop for gradient-trained parts of plastix (``Trainer``), its optimisers
(traced hyper-parameters) and the map over seeds.  See ``trainer.py`` for the loop's contract."""

from .optim import OPTIMIZERS, make_optimizer, scaled_sgd_with_decay, set_hyperparams
from .seeds import over_seeds, seed_group_size, seed_keys
from .trainer import TrainResult, Trainer, TrainState

__all__ = [
    "OPTIMIZERS", "Trainer", "TrainResult", "TrainState", "make_optimizer", "over_seeds", "scaled_sgd_with_decay",
    "seed_group_size", "seed_keys", "set_hyperparams",
]

"""Energy-based (fixed-point) networks: contrastive learning and its relatives, Hopfield memory and
Hopfield logic programming.

Public API (see docs/energy.md)::

    import jax, plastix.energy as pe
    net   = pe.FixedPointNet((2, 8, 1), activation="logistic")      # layered or "full", clamped units
    rule  = pe.baldi_pineda(net, "soft_clamp", gamma=1.0)          # or pe.chl, pe.dbm, pe.eqprop,
                                                                    #    pe.RecurrentBackprop
    params, history = pe.fit(rule, net.init(jax.random.key(0), gain=2.0), pe.xor(),
                             epochs=1000, batch_size=4, lr=2.0, eval_every=1000)

    prog  = pe.parse_program("C :- A, B.  D :- B.  :- C.")          # Horn clauses
    hnet  = pe.wan_abdullah(prog)                                   # higher-order Hopfield weights
    pe.logic.evaluate(hnet, n_starts=100)                           # global-minima ratio, Hamming, CPU

The network itself (energy, relaxation) is :mod:`plastix.models.energy` (``network`` re-exports
it).  Modules: ``contrastive`` (Baldi & Pineda's family: CL, CHL, DBM, EqProp), ``rbp``
(Almeida-Pineda recurrent backprop), ``oscillation`` (analog phase schedule), ``trajectory``
(time-dependent trajectories), ``train`` (loop, backprop MLP baseline), ``data`` (XOR, digits,
patterns), ``hopfield`` (binary memory, capacity), ``horn`` (Horn-clause programs: parser,
models), ``logic`` (Wan Abdullah's Hopfield networks of them).
"""

from __future__ import annotations

from ..models.energy import EnergyModel, FixedPointNet, Relaxed, anneal, lyapunov_step_bound, relax_trajectory
from . import contrastive, data, hopfield, horn, logic, network, oscillation, rbp, trajectory, train
from .contrastive import SCHEMES, ContrastiveRule, baldi_pineda, chl, dbm, eqprop
from .data import Dataset, corrupt, digits, random_patterns, xor
from .hopfield import OscillationWarning, capacity_curve, hebbian_weights, recall
from .horn import Program, ProgramError, parse_program, random_program
from .logic import LogicNetwork, wan_abdullah
from .oscillation import oscillatory_learning
from .rbp import RecurrentBackprop, gradient_at_fixed_point, implicit_gradient
from .trajectory import trajectory_grads
from .train import MLP, evaluate, fit, fit_seeds, fit_seeds_or_error, layerwise_sgd

RULES = ("cl", "chl", "dbm", "eqprop", "rbp", "backprop")


def get(name: str, net: FixedPointNet, **kw):
    """A rule by name: ``cl`` (Baldi & Pineda, ``scheme=``, ``gamma=``), ``chl``, ``dbm``, ``eqprop``
    (``beta=``, ``sign=``), ``rbp`` (recurrent backprop) or ``backprop`` (the feedforward MLP with
    ``net``'s layer sizes and activation)."""
    from ..errors import check_choice

    check_choice("rule", name, RULES)
    if name == "cl":
        return baldi_pineda(net, **kw)
    if name == "chl":
        return chl(net, **kw)
    if name == "dbm":
        return dbm(net, **kw)
    if name == "eqprop":
        return eqprop(net, **kw)
    if name == "rbp":
        return RecurrentBackprop(net, **kw)
    return MLP(net.layer_sizes, activation=net.activation, **kw)


__all__ = [
    "ContrastiveRule", "Dataset", "EnergyModel", "FixedPointNet", "LogicNetwork", "MLP", "OscillationWarning", "Program",
    "ProgramError", "RULES", "RecurrentBackprop", "Relaxed", "SCHEMES", "anneal", "baldi_pineda",
    "capacity_curve", "chl", "contrastive", "corrupt", "data", "dbm", "digits", "eqprop", "evaluate", "fit",
    "fit_seeds", "fit_seeds_or_error", "get", "gradient_at_fixed_point", "hebbian_weights", "hopfield", "implicit_gradient",
    "horn", "layerwise_sgd", "logic", "lyapunov_step_bound", "network", "oscillation", "oscillatory_learning",
    "parse_program", "random_patterns", "random_program", "rbp", "recall", "relax_trajectory", "train",
    "trajectory", "trajectory_grads", "wan_abdullah", "xor",
]

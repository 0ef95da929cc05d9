"""Stable dynamics and timing in recurrent networks.

* Homeostatic scaling (Buonomano 2005): :class:`PSDScaling` (presynaptic-dependent scaling) and
  :class:`SynapticScaling` (its control), as pure functions :func:`psd_update` /
  :func:`ss_update` of ``(weights, presynaptic averages, postsynaptic averages, targets)``;
  the E/I conductance-based spiking network :class:`EINetwork` (defined in
  :mod:`plastix.models.ei_spiking`, re-exported here); the trial-by-trial protocol
  :func:`make_trainer`; analyses in :mod:`plastix.homeostasis.analysis`.
* Recursive least squares shared by FORCE and innate training: :func:`rls_init`,
  :func:`rls_update`, :func:`rls_update_per_unit`.
* :class:`RateNetwork` — the sparse chaotic rate network (defined in
  :mod:`plastix.models.chaotic_rate`); :mod:`~plastix.homeostasis.force` (Sussillo & Abbott
  2009) and :mod:`~plastix.homeostasis.innate` (Laje & Buonomano 2013).

Example::

    import jax
    from plastix.homeostasis import EINetwork, PSDScaling, make_trainer, init_averages

    net = EINetwork()
    params = net.init(jax.random.key(0))
    train = make_trainer(net, {"w_ee": PSDScaling(rate=0.03, target=1.0, w_max=0.5),
                               "w_ie": PSDScaling(rate=0.03, target=2.0, w_max=1.0)})
    params, averages, history = train(params, init_averages(net), jax.random.key(1), 400)
"""

from __future__ import annotations

from ..models.chaotic_rate import RateNetwork, RateState
from ..models.ei_spiking import BLOCKS, EINetwork, dual_exponential, kernel_peak_normaliser, mg_block
from . import analysis, force, innate
from .innate import InnateRLS, TrialProtocol
from .protocol import Averages, init_averages, make_trainer, trial_summary
from .rls import ridge_regression, rls_gain, rls_init, rls_update, rls_update_per_unit
from .rules import PSDScaling, SynapticScaling, get_rule, psd_update, running_average, ss_update

__all__ = [
    "Averages", "BLOCKS", "EINetwork", "InnateRLS", "PSDScaling", "RateNetwork", "RateState", "SynapticScaling",
    "TrialProtocol", "analysis", "dual_exponential", "force", "get_rule", "init_averages", "innate",
    "kernel_peak_normaliser", "make_trainer", "mg_block", "psd_update", "ridge_regression", "rls_gain", "rls_init",
    "rls_update", "rls_update_per_unit", "running_average", "ss_update", "trial_summary",
]

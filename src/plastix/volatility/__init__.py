"""Learning under volatility and stochasticity (Piray & Daw 2020, 2021).

Models (each a frozen dataclass with ``initial_state``, ``step`` and a compiled ``run``; outcomes
``(T,)`` or ``(T, D)``; NaN = unobserved; ``vmap`` over runs, subjects or parameters):

=====================================  =======================================================
:class:`KalmanFilter`                  fixed volatility v and stochasticity s (:class:`KalmanParams`)
:class:`RescorlaWagner`                fixed learning rate (:class:`RescorlaWagnerParams`)
:class:`VolatileKalmanFilter`          VKF, continuous outcomes (:class:`VKFParams`)
:class:`BinaryVolatileKalmanFilter`    VKF, binary outcomes (:class:`VKFParams`)
:class:`StochasticityVolatilityFilter` joint model: Rao-Blackwellised particle filter
                                       (:class:`StoVolParams`); lesions via ``learn_volatility``
                                       / ``learn_stochasticity``; Gaussian-diffusion variant;
                                       several cues = the multi-cue model
:class:`BinaryVolatilityParticleFilter` bootstrap particle filter for the binary VKF model
=====================================  =======================================================

Every ``run`` returns per-trial predictions, learning rates and volatility / stochasticity
estimates (:class:`Trajectory`; predicted = before the outcome, filtered = after).

Also: :mod:`~plastix.volatility.environments` (generative processes and the papers' tasks),
:mod:`~plastix.volatility.fitting` (ML/MAP fits with optax, BIC, simulation for recovery),
:mod:`~plastix.volatility.datasets` (the CSV format of ``plastix fit``),
:mod:`~plastix.volatility.reference` (plain NumPy loops of the same filters).

Example::

    import jax
    from plastix import volatility as vol

    env = vol.environments.random_walk(jax.random.key(0), 200, volatility=1.5, stochasticity=1.0)
    pf = vol.StochasticityVolatilityFilter(n_particles=100)
    traj = pf.run(vol.StoVolParams(0.1, 0.1, 1.0, 2.0, 100.0), env.observations, jax.random.key(1))
    traj.learning_rate[-20:].mean(), traj.predicted_volatility[-20:].mean()
"""

from __future__ import annotations

from . import datasets, environments, fitting, reference
from ._common import Trajectory
from .datasets import Dataset, example_csv_path, read_csv
from .fitting import MODELS, FitResult, FitSettings, compare, fit, log_likelihood, simulate_responses
from .kalman import (
    KalmanFilter,
    KalmanParams,
    RescorlaWagner,
    RescorlaWagnerParams,
    steady_state_gain,
    steady_state_variance,
)
from .particle import (
    BinaryParticleTrajectory,
    BinaryVolatilityParticleFilter,
    ParticleState,
    ParticleTrajectory,
    StepNoise,
    StochasticityVolatilityFilter,
    StoVolParams,
    effective_sample_size,
    systematic_resample,
)
from .vkf import BinaryTrajectory, BinaryVolatileKalmanFilter, VKFParams, VKFState, VolatileKalmanFilter

__all__ = [
    "BinaryParticleTrajectory",
    "BinaryTrajectory",
    "BinaryVolatileKalmanFilter",
    "BinaryVolatilityParticleFilter",
    "Dataset",
    "FitResult",
    "FitSettings",
    "KalmanFilter",
    "KalmanParams",
    "MODELS",
    "ParticleState",
    "ParticleTrajectory",
    "RescorlaWagner",
    "RescorlaWagnerParams",
    "StepNoise",
    "StoVolParams",
    "StochasticityVolatilityFilter",
    "Trajectory",
    "VKFParams",
    "VKFState",
    "VolatileKalmanFilter",
    "compare",
    "datasets",
    "effective_sample_size",
    "environments",
    "example_csv_path",
    "fit",
    "fitting",
    "log_likelihood",
    "read_csv",
    "reference",
    "simulate_responses",
    "steady_state_gain",
    "steady_state_variance",
    "systematic_resample",
]

"""Fitting learning models to behaviour: likelihoods, ML/MAP with optax, BIC, recovery.

Model of a subject = a learning model (which turns the outcomes into per-trial predictions)
plus a response model (which turns predictions into the probability of what the subject did):

* ``gaussian``: the response on trial t is the subject's prediction of the outcome of its cue,
  r_t ~ N(prediction_t, response_sd^2).
* ``choice``:   the response is the chosen option c_t among K options,
  P(c_t = c) = softmax_c(beta · d_t[c]), d_t the model's decision values before the outcome:
  its predictions, except the binary VKF's logit mean (as in the VKF paper's choice rule).

Learning models (:data:`MODELS`): ``rw`` (learning rate), ``kf`` (volatility in units of the
stochasticity, which is fixed at 1 with prior variance 1: only the ratio changes predictions),
``vkf`` (lambda, v_0, sigma^2), ``vkf-binary`` (lambda, v_0, omega), ``pf`` (the joint
particle filter: lambda_v, lambda_s, v_0, s_0), ``pf-volatility-only`` (lambda_v, v_0 and the
fixed stochasticity s) and ``pf-stochasticity-only`` (lambda_s, s_0 and the fixed volatility v).

Estimation.  Parameters are optimised in an unconstrained space theta: rates in (0, 1) through
a sigmoid, positive values through exp.  Maximum likelihood minimises -log L(theta); MAP adds a
Gaussian prior N(0, prior_variance) on every theta (cbm's default variance is 6.25).  Each
subject is fitted from several starts (the model's default values plus Gaussian perturbations)
by Adam with a cosine-decayed step size and gradient clipping, all subjects and starts at once
(``vmap``) in one compiled loop; the best start per subject is kept.  Model comparison:
BIC = k ln n - 2 log L(theta_hat), with n the number of recorded responses; for MAP fits of the
deterministic models the Laplace approximation of the log model evidence, log L + log p(theta) +
k/2 log 2 pi - 1/2 log det H (H the Hessian of the negative log posterior), is reported too
(not for the particle filters: the Hessian of a Monte Carlo likelihood is not meaningful).

Caveats.  Adam reaches the optimum to a tolerance, not exactly; ``grad_norm`` in the results
says how flat the objective was at the end.  Maximum-likelihood rates can run to the boundary
(theta -> +-inf); the step budget bounds them, MAP keeps them finite.  The particle-filter
likelihood is a Monte Carlo estimate: it is computed with common random numbers (one key per
subject, fixed during the fit) so the objective is a deterministic function of theta, but its
gradient ignores resampling choices, and the fitted values carry Monte Carlo error (use more
particles to reduce it).  BIC for a MAP fit uses the MAP log-likelihood (an approximation).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..errors import ConfigError, check_choice, check_positive
from .datasets import RESPONSE_MODELS, Dataset
from .kalman import KalmanFilter, KalmanParams, RescorlaWagner, RescorlaWagnerParams
from .particle import StochasticityVolatilityFilter, StoVolParams
from .vkf import BinaryVolatileKalmanFilter, VKFParams, VolatileKalmanFilter


class Parameter(NamedTuple):
    name: str
    kind: str  # "rate": (0, 1) via sigmoid; "positive": via exp
    default: float  # starting value (natural scale)
    scale: str = ""  # "variance": default is multiplied by the outcome variance; "sd": by its sd


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    parameters: tuple
    binary_outcomes: bool = False
    stochastic: bool = False


MODELS: dict[str, ModelSpec] = {
    "rw": ModelSpec("rw", "Rescorla-Wagner with a fixed learning rate", (Parameter("learning_rate", "rate", 0.3),)),
    "kf": ModelSpec("kf", "Kalman filter with fixed noise (volatility/stochasticity ratio)", (Parameter("volatility", "positive", 0.5),)),
    "vkf": ModelSpec("vkf", "volatile Kalman filter, continuous outcomes", (
        Parameter("volatility_rate", "rate", 0.1),
        Parameter("initial_volatility", "positive", 0.2, "variance"),
        Parameter("noise_variance", "positive", 0.5, "variance"))),
    "vkf-binary": ModelSpec("vkf-binary", "volatile Kalman filter, binary outcomes", (
        Parameter("volatility_rate", "rate", 0.1),
        Parameter("initial_volatility", "positive", 1.0),
        Parameter("noise_variance", "positive", 1.0)), binary_outcomes=True),
    "pf": ModelSpec("pf", "joint stochasticity-volatility particle filter", (
        Parameter("volatility_rate", "rate", 0.1),
        Parameter("stochasticity_rate", "rate", 0.1),
        Parameter("initial_volatility", "positive", 0.2, "variance"),
        Parameter("initial_stochasticity", "positive", 0.5, "variance")), stochastic=True),
    "pf-volatility-only": ModelSpec("pf-volatility-only", "particle filter learning volatility only (stochasticity lesion)", (
        Parameter("volatility_rate", "rate", 0.1),
        Parameter("initial_volatility", "positive", 0.2, "variance"),
        Parameter("stochasticity", "positive", 0.5, "variance")), stochastic=True),
    "pf-stochasticity-only": ModelSpec("pf-stochasticity-only", "particle filter learning stochasticity only (volatility lesion)", (
        Parameter("stochasticity_rate", "rate", 0.1),
        Parameter("initial_stochasticity", "positive", 0.5, "variance"),
        Parameter("volatility", "positive", 0.2, "variance")), stochastic=True),
}

RESPONSE_PARAMETERS = {
    "gaussian": (Parameter("response_sd", "positive", 0.3, "sd"),),
    "choice": (Parameter("inverse_temperature", "positive", 3.0),),
}


@dataclass(frozen=True)
class FitSettings:
    """Fixed (not fitted) settings of the learning models."""

    initial_mean: float = 0.0  # m_0 of every model (logit scale for vkf-binary)
    initial_variance: float = 1.0  # x0_unc of the particle filters
    n_particles: int = 100  # particle filters


def parameter_list(model: str, response: str) -> tuple:
    return MODELS[model].parameters + RESPONSE_PARAMETERS[response]


def to_natural(theta, parameters) -> dict:
    """Unconstrained theta (..., P) -> {name: natural value}."""
    out = {}
    for i, p in enumerate(parameters):
        x = theta[..., i]
        out[p.name] = jax.nn.sigmoid(x) if p.kind == "rate" else jnp.exp(x)
    return out


def to_unconstrained(natural: dict, parameters):
    cols = []
    for p in parameters:
        x = jnp.asarray(natural[p.name], float)
        cols.append(jnp.log(x) - jnp.log1p(-x) if p.kind == "rate" else jnp.log(x))
    return jnp.stack(cols, axis=-1)


def model_outputs(model: str, natural: dict, outcomes, key, settings: FitSettings):
    """Run learning model ``model`` on outcomes (T, K); returns (predictions, decision values)."""
    m0 = settings.initial_mean
    if model == "rw":
        traj = RescorlaWagner().run(RescorlaWagnerParams(natural["learning_rate"], m0), outcomes)
    elif model == "kf":
        traj = KalmanFilter().run(KalmanParams(natural["volatility"], 1.0, 1.0, m0), outcomes)
    elif model == "vkf":
        params = VKFParams(natural["volatility_rate"], natural["initial_volatility"], natural["noise_variance"], m0)
        traj = VolatileKalmanFilter().run(params, outcomes)
    elif model == "vkf-binary":
        params = VKFParams(natural["volatility_rate"], natural["initial_volatility"], natural["noise_variance"], m0)
        traj = BinaryVolatileKalmanFilter().run(params, outcomes)
        return traj.prediction, traj.prediction_logit
    else:
        traj = _particle_run(model, natural, outcomes, key, settings)
    return traj.prediction, traj.prediction


def particle_model(model: str, settings: FitSettings):
    learn_v = model != "pf-stochasticity-only"
    learn_s = model != "pf-volatility-only"
    return StochasticityVolatilityFilter(settings.n_particles, learn_volatility=learn_v, learn_stochasticity=learn_s)


def particle_params(model: str, natural: dict, settings: FitSettings) -> StoVolParams:
    if model == "pf":
        return StoVolParams(natural["volatility_rate"], natural["stochasticity_rate"], natural["initial_volatility"],
                            natural["initial_stochasticity"], settings.initial_variance, settings.initial_mean)
    if model == "pf-volatility-only":
        return StoVolParams(natural["volatility_rate"], 0.5, natural["initial_volatility"], natural["stochasticity"],
                            settings.initial_variance, settings.initial_mean)
    return StoVolParams(0.5, natural["stochasticity_rate"], natural["volatility"], natural["initial_stochasticity"],
                        settings.initial_variance, settings.initial_mean)


def _particle_run(model, natural, outcomes, key, settings):
    return particle_model(model, settings).run(particle_params(model, natural, settings), outcomes, key)


def _response_loglik(response: str, natural: dict, predictions, decisions, responses, cues):
    """Per-trial log-probability of the responses (0 where the response is missing)."""
    recorded = jnp.isfinite(responses)
    if response == "gaussian":
        pred = jnp.take_along_axis(predictions, cues[:, None], axis=1)[:, 0]
        r = jnp.where(recorded, responses, pred)
        sd = natural["response_sd"]
        ll = -0.5 * (math.log(2 * math.pi) + 2 * jnp.log(sd) + ((r - pred) / sd) ** 2)
    else:
        chosen = jnp.where(recorded, responses, 0).astype(jnp.int32)
        logits = natural["inverse_temperature"] * decisions
        ll = jnp.take_along_axis(jax.nn.log_softmax(logits, axis=1), chosen[:, None], axis=1)[:, 0]
    return jnp.where(recorded, ll, 0.0)


def log_likelihood(theta, outcomes, responses, cues, key, model: str, response: str, settings: FitSettings = FitSettings()):
    """log p(responses | outcomes, theta) for one subject (theta unconstrained, (P,))."""
    natural = to_natural(theta, parameter_list(model, response))
    predictions, decisions = model_outputs(model, natural, outcomes, key, settings)
    return jnp.sum(_response_loglik(response, natural, predictions, decisions, responses, cues))


# ------------------------------------------------------------------------------------------
# Fitting
# ------------------------------------------------------------------------------------------
@dataclass
class FitResult:
    """Per-subject estimates of one model; ``table()`` gives rows for a CSV."""

    model: str
    response: str
    method: str
    subjects: tuple
    parameter_names: tuple
    estimates: np.ndarray  # (S, P) natural scale
    theta: np.ndarray  # (S, P) unconstrained
    log_likelihood: np.ndarray  # (S,)
    n_responses: np.ndarray  # (S,)
    n_trials: np.ndarray  # (S,)
    bic: np.ndarray  # (S,)
    log_evidence: np.ndarray  # (S,) Laplace (MAP fits of deterministic models; NaN otherwise)
    grad_norm: np.ndarray  # (S,)
    settings: FitSettings = field(default_factory=FitSettings)

    @property
    def n_parameters(self) -> int:
        return len(self.parameter_names)

    def table(self) -> list[dict]:
        rows = []
        for i, s in enumerate(self.subjects):
            row = {"subject": s, "n_trials": int(self.n_trials[i]), "n_responses": int(self.n_responses[i])}
            row.update({n: float(self.estimates[i, j]) for j, n in enumerate(self.parameter_names)})
            row.update(log_likelihood=float(self.log_likelihood[i]), bic=float(self.bic[i]))
            if self.method == "map":
                row["log_evidence"] = float(self.log_evidence[i])
            row["grad_norm"] = float(self.grad_norm[i])
            rows.append(row)
        return rows

    def summary(self) -> dict:
        return {
            "model": self.model,
            "response": self.response,
            "method": self.method,
            "subjects": len(self.subjects),
            "parameters": self.n_parameters,
            "log_likelihood": float(np.sum(self.log_likelihood)),
            "bic": float(np.sum(self.bic)),
            "log_evidence": float(np.sum(self.log_evidence)) if self.method == "map" else math.nan,
        }


def _check_fit_args(model, response, method, starts, steps, learning_rate, prior_variance):
    check_choice("model", model, tuple(MODELS))
    check_choice("response", response, RESPONSE_MODELS)
    check_choice("method", method, ("ml", "map"))
    check_positive("starts", starts, integer=True)
    check_positive("steps", steps, integer=True)
    check_positive("learning_rate", learning_rate)
    check_positive("prior_variance", prior_variance)


def starting_points(parameters, data: Dataset, starts: int, key, spread: float = 1.0):
    """(S, starts, P): the defaults (scaled to each subject's outcome variance) then perturbations."""
    var = np.array([np.nanvar(data.outcomes[i]) if np.isfinite(data.outcomes[i]).sum() > 1 else 1.0
                    for i in range(data.n_subjects)])
    var = np.where(var > 0, var, 1.0)
    base = []
    for p in parameters:
        scale = var if p.scale == "variance" else (np.sqrt(var) if p.scale == "sd" else np.ones_like(var))
        value = np.clip(p.default * scale, 1e-6, None)
        base.append(np.log(value / (1 - value)) if p.kind == "rate" else np.log(value))
    base = np.stack(base, axis=-1)  # (S, P)
    noise = spread * np.asarray(jax.random.normal(key, (data.n_subjects, starts, len(parameters))))
    noise[:, 0] = 0.0
    return base[:, None, :] + noise


def fit(
    model: str,
    data: Dataset,
    method: str = "map",
    starts: int = 4,
    steps: int = 400,
    learning_rate: float = 0.1,
    prior_variance: float = 6.25,
    seed: int = 0,
    settings: FitSettings = FitSettings(),
) -> FitResult:
    """Fit ``model`` to every subject of ``data`` (its response model is ``data.response_model``)."""
    response = data.response_model
    _check_fit_args(model, response, method, starts, steps, learning_rate, prior_variance)
    spec = MODELS[model]
    if spec.binary_outcomes:
        bad = np.isfinite(data.outcomes) & (data.outcomes != 0) & (data.outcomes != 1)
        if bad.any():
            s, t, _ = np.argwhere(bad)[0]
            raise ConfigError.bad_value(f"subject {data.subjects[s]!r}, trial {t + 1}, outcome", float(data.outcomes[s, t][np.isfinite(data.outcomes[s, t])][0]),
                                        f"0 or 1 (model {model} learns binary outcomes)")
    parameters = parameter_list(model, response)
    key_starts, key_model = jax.random.split(jax.random.key(seed))
    theta0 = jnp.asarray(starting_points(parameters, data, starts, key_starts), float)
    model_keys = jax.random.split(key_model, data.n_subjects)
    arrays = _device_arrays(data)
    theta, value, grad_norm = _optimise(theta0, arrays, model_keys, model=model, response=response, method=method,
                                        steps=int(steps), learning_rate=float(learning_rate),
                                        prior_variance=float(prior_variance), settings=settings)
    # The objective is -log L (ML) or -log L + |theta|^2 / (2 prior_variance) (MAP).
    loglik = -np.asarray(value, dtype=float)
    if method == "map":
        loglik = loglik + 0.5 * np.sum(np.asarray(theta, dtype=float) ** 2, axis=-1) / prior_variance
    n_resp = data.n_responses
    k = len(parameters)
    bic = k * np.log(np.maximum(n_resp, 1)) - 2 * loglik
    if method == "map" and not spec.stochastic:
        evidence = np.asarray(_laplace_evidence(theta, arrays, model_keys, model=model, response=response,
                                                prior_variance=float(prior_variance), settings=settings))
    else:
        evidence = np.full(data.n_subjects, np.nan)
    natural = to_natural(theta, parameters)
    estimates = np.stack([np.asarray(natural[p.name]) for p in parameters], axis=-1)
    return FitResult(model, response, method, data.subjects, tuple(p.name for p in parameters), estimates,
                     np.asarray(theta), loglik, n_resp, data.n_trials, bic, evidence, np.asarray(grad_norm), settings)


def _device_arrays(data: Dataset):
    dtype = jnp.result_type(float)
    return (jnp.asarray(data.outcomes, dtype), jnp.asarray(data.responses, dtype), jnp.asarray(data.cues, jnp.int32))


def _objective(theta, outcomes, responses, cues, key, model, response, method, prior_variance, settings):
    ll = log_likelihood(theta, outcomes, responses, cues, key, model, response, settings)
    if method == "map":
        return -ll + 0.5 * jnp.sum(theta**2) / prior_variance
    return -ll


def _make_optimiser(steps, learning_rate):
    schedule = optax.cosine_decay_schedule(learning_rate, steps, alpha=0.01)
    return optax.chain(optax.clip_by_global_norm(10.0), optax.adam(schedule))


@functools.lru_cache(maxsize=None)
def _compiled_steps(model, response, method, steps, learning_rate, prior_variance, settings):
    """Compiled pieces of the fit: optimiser init, one Adam step for all subjects x starts, the
    objective and its gradient.  The step loop runs in Python, so only one step is compiled
    (compiling a scan over steps of a particle filter's gradient takes minutes on a CPU)."""
    optimiser = _make_optimiser(steps, learning_rate)

    def objective(theta, o, r, c, k):
        return _objective(theta, o, r, c, k, model, response, method, prior_variance, settings)

    per_start = jax.vmap(jax.value_and_grad(objective), in_axes=(0, None, None, None, None))
    value_and_grad = jax.vmap(per_start, in_axes=(0, 0, 0, 0, 0))

    def update(theta, state, o, r, c, k):
        value, grad = value_and_grad(theta, o, r, c, k)
        finite = jnp.isfinite(value) & jnp.all(jnp.isfinite(grad), axis=-1)
        grad = jnp.where(finite[..., None], grad, 0.0)
        updates, state = jax.vmap(jax.vmap(optimiser.update))(grad, state, theta)
        return optax.apply_updates(theta, updates), state, jnp.where(finite, value, jnp.inf)

    init = jax.jit(jax.vmap(jax.vmap(optimiser.init)))
    return init, jax.jit(update), jax.jit(value_and_grad)


def _optimise(theta0, arrays, keys, model, response, method, steps, learning_rate, prior_variance, settings):
    """Adam from every start of every subject; returns the best (theta, objective, |grad|) per subject."""
    outcomes, responses, cues = arrays
    init, update, value_and_grad = _compiled_steps(model, response, method, steps, learning_rate, prior_variance, settings)
    theta, state = theta0, init(theta0)
    best_theta, best_value = theta0, jnp.full(theta0.shape[:2], jnp.inf, theta0.dtype)
    for _ in range(steps + 1):
        previous = theta
        theta, state, value = update(theta, state, outcomes, responses, cues, keys)
        # ``value`` belongs to ``previous`` (the point the gradient was taken at)
        better = value < best_value
        best_theta = jnp.where(better[..., None], previous, best_theta)
        best_value = jnp.where(better, value, best_value)
    best = jnp.argmin(best_value, axis=1)
    theta = jnp.take_along_axis(best_theta, best[:, None, None], axis=1)[:, 0]
    # Re-evaluate at the chosen point with the already compiled function (same shapes).
    values, grads = value_and_grad(jnp.broadcast_to(theta[:, None], theta0.shape), outcomes, responses, cues, keys)
    return theta, values[:, 0], jnp.linalg.norm(grads[:, 0], axis=-1)


@functools.partial(jax.jit, static_argnames=("model", "response", "prior_variance", "settings"))
def _laplace_evidence(theta, arrays, keys, model, response, prior_variance, settings):
    outcomes, responses, cues = arrays
    k = theta.shape[-1]

    def neg_log_posterior(th, o, r, c, key):
        return _objective(th, o, r, c, key, model, response, "map", prior_variance, settings)

    def one(th, o, r, c, key):
        hessian = jax.hessian(neg_log_posterior)(th, o, r, c, key)
        sign, logdet = jnp.linalg.slogdet(hessian)
        log_prior_norm = -0.5 * k * math.log(2 * math.pi * prior_variance)
        # log L + log p(theta) = -neg_log_posterior + log-normaliser of the prior.
        value = -neg_log_posterior(th, o, r, c, key) + log_prior_norm + 0.5 * k * math.log(2 * math.pi) - 0.5 * logdet
        return jnp.where(sign > 0, value, jnp.nan)

    return jax.vmap(one)(theta, outcomes, responses, cues, keys)


def compare(results: list[FitResult]) -> list[dict]:
    """Rows of a model-comparison table (lower BIC is better), best model first."""
    rows = [r.summary() for r in results]
    if not rows:
        return rows
    bics = np.stack([r.bic for r in results])  # (M, S)
    wins = np.bincount(np.argmin(bics, axis=0), minlength=len(results))
    best = min(row["bic"] for row in rows)
    for row, w in zip(rows, wins):
        row["delta_bic"] = row["bic"] - best
        row["subjects_best"] = int(w)
    return sorted(rows, key=lambda r: r["bic"])


# ------------------------------------------------------------------------------------------
# Simulating behaviour (for recovery studies)
# ------------------------------------------------------------------------------------------
def simulate_responses(model: str, response: str, natural: dict, outcomes, key, settings: FitSettings = FitSettings()):
    """Simulate one subject's responses to outcomes (T, K) (natural parameters as scalars).

    gaussian: r_t = prediction_t[cue 0] + response_sd N(0, 1); returns (outcomes, responses, cues).
    choice: a K-armed bandit: the subject chooses by softmax over decision values, then sees
    only the chosen option's outcome; returns the masked outcomes, the choices and cues = choices.
    """
    dtype = jnp.result_type(float)
    outcomes = jnp.asarray(outcomes, dtype)
    n_trials, n_options = outcomes.shape
    key_model, key_resp = jax.random.split(key)
    if response == "gaussian":
        predictions, _ = model_outputs(model, natural, outcomes, key_model, settings)
        noise = jax.random.normal(key_resp, (n_trials,), dtype)
        responses = predictions[:, 0] + natural["response_sd"] * noise
        return outcomes, responses, jnp.zeros(n_trials, jnp.int32)
    return _simulate_bandit(model, natural, outcomes, key_model, key_resp, settings)


def _simulate_bandit(model, natural, outcomes, key_model, key_resp, settings):
    """Sequential bandit: decision values before trial t, choice, then only that outcome is seen."""
    m0 = settings.initial_mean
    if model == "rw":
        filt, params = RescorlaWagner(), RescorlaWagnerParams(natural["learning_rate"], m0)
    elif model == "kf":
        filt, params = KalmanFilter(), KalmanParams(natural["volatility"], 1.0, 1.0, m0)
    elif model in ("vkf", "vkf-binary"):
        filt = VolatileKalmanFilter() if model == "vkf" else BinaryVolatileKalmanFilter()
        params = VKFParams(natural["volatility_rate"], natural["initial_volatility"], natural["noise_variance"], m0)
    else:
        filt, params = particle_model(model, settings), particle_params(model, natural, settings)
    n_trials, n_options = outcomes.shape
    beta = natural["inverse_temperature"]
    state0 = filt.initial_state(params, n_options)
    blind = jnp.full((n_options,), jnp.nan, outcomes.dtype)
    keys = jax.random.split(key_model, n_trials)
    choice_keys = jax.random.split(key_resp, n_trials)

    def body(state, inputs):
        o, k, kc = inputs
        # Decision values do not depend on the outcome: read them from a step that sees nothing
        # (with the same key, so a particle filter propagates identically in the real step).
        _, peek = filt.step(params, state, blind, k)
        decision = peek.prediction_logit if model == "vkf-binary" else peek.prediction
        choice = jax.random.categorical(kc, beta * decision)
        seen = jnp.where(jnp.arange(n_options) == choice, o, jnp.nan)
        state, _ = filt.step(params, state, seen, k)
        return state, (seen, choice)

    _, (seen, choices) = jax.lax.scan(body, state0, (outcomes, keys, choice_keys))
    return seen, choices.astype(outcomes.dtype), choices.astype(jnp.int32)


def dataset_from_arrays(outcomes, responses, cues, response: str, subjects=None) -> Dataset:
    """A :class:`Dataset` from stacked simulated arrays (S, T, K), (S, T), (S, T)."""
    outcomes = np.asarray(outcomes, float)
    s, t, _ = outcomes.shape
    subjects = tuple(subjects) if subjects is not None else tuple(f"s{i + 1:03d}" for i in range(s))
    return Dataset(subjects, outcomes, np.asarray(responses, float), np.asarray(cues, np.int32), np.full(s, t, np.int32), response)


def example_dataset(seed: int = 0, n_subjects: int = 6, block_length: int = 40) -> str:
    """CSV text of the bundled example: simulated VKF learners predicting a random walk.

    Each subject sees 4 blocks of ``block_length`` trials whose true (volatility, stochasticity)
    are (1, 4), (9, 4), (1, 16), (9, 16) in a random block order; responses are continuous VKF
    predictions (lambda ~ 0.1-0.3, v_0 ~ 2, sigma^2 ~ 8) plus N(0, 1.5^2) response noise.
    """
    from .datasets import to_csv_text
    from .environments import blocked_random_walk

    rng = np.random.default_rng(seed)
    subjects, outcomes, responses = [], [], []
    for i in range(n_subjects):
        order = rng.permutation(4)
        v = np.array([1.0, 9.0, 1.0, 9.0])[order]
        s = np.array([4.0, 4.0, 16.0, 16.0])[order]
        env = blocked_random_walk(jax.random.key(seed * 1000 + i), v, s, block_length)
        natural = {"volatility_rate": float(rng.uniform(0.1, 0.3)), "initial_volatility": float(np.exp(rng.normal(np.log(2.0), 0.3))),
                   "noise_variance": float(np.exp(rng.normal(np.log(8.0), 0.3))), "response_sd": 1.5}
        _, resp, _ = simulate_responses("vkf", "gaussian", natural, env.observations[:, None], jax.random.key(seed * 1000 + 500 + i))
        subjects.append(f"sub-{i + 1:02d}")
        outcomes.append(np.round(np.asarray(env.observations), 3))
        responses.append(np.round(np.asarray(resp), 3))
    return to_csv_text(subjects, outcomes, responses)

"""``plastix sweep``: the ``plastix compare`` job over a grid or a random sample of settings.

**The sweep file** is a ``plastix compare --config`` file (the settings every configuration
shares) plus a ``[sweep]`` table that says what varies::

    task = "periodic"
    trials = 2000
    seeds = 4                      # seeds of one configuration are trained together (vmap)
    rules = ["rflo", "bptt"]

    [sweep]
    method = "grid"                # or "random", with samples = K and seed = S
    [sweep.parameters]
    lr = [0.003, 0.01, 0.03]
    "task_options.period" = [200, 400]

A parameter is any :class:`~plastix.compare.CompareConfig` field; dotted keys reach inside the
option tables (``task_options.period``, ``model_options.dale``, ``rule_options.rflo.feedback``,
``lrs.bptt``), and ``rule`` is the rule of a configuration.

**Configurations.**  Every configuration trains exactly one rule.  A grid is the Cartesian
product of the parameter lists, in file order; when ``rule`` is not swept, each point of the
grid is run for every rule of ``rules`` (rule varies slowest).  A random search makes
``samples`` draws with ``numpy.random.default_rng(seed)``, parameter by parameter in file order:
a list is drawn uniformly, a range ``{low = a, high = b}`` as U[a, b], with ``log = true`` as
exp U[ln a, ln b], with ``integer = true`` as an integer in [a, b]; each draw is then run for
every rule of ``rules`` (unless ``rule`` is a parameter), so the rules are compared on the same
draws.  The list of configurations depends only on the file, so a resumed sweep finds the same
ones.  A swept ``lr`` replaces ``lrs``; options and learning rates for another rule
(``rule_options.rflo.*`` in a ``bptt`` configuration) do not apply and are dropped, and
configurations that become identical share one run.

**Each configuration is exactly the ``plastix compare`` job**: ``compare.build`` then
``compare.run_compare`` on its fully resolved settings, in ``runs/<key>/`` of the sweep folder
(``key`` = the first 12 hex digits of the SHA-256 of its settings), with its S seeds trained
together (``vmap``) in one worker.  The numbers of a configuration depend only on its settings,
never on the executor, the worker or the order, so Ray, local processes and the serial executor
give identical results (tested).

**Executors.**  ``ray`` (the ``plastix[ray]`` extra): ``ray.init()`` starts a local Ray instance
with ``--workers`` CPUs, or ``--address`` joins a running cluster (``auto``, ``HOST:PORT``,
``ray://HOST:10001``); every configuration is a Ray task asking for one CPU.  ``processes``:
``--workers`` new Python interpreters on this machine, each running configurations one after
another (the fallback when Ray is not installed).  ``serial``: one configuration after another
in this process (debugging, notebooks).  ``auto`` (the default) is Ray when it is installed.

**Results.**  ``sweep.csv`` and ``sweep.jsonl`` (one row per configuration: its index, run folder,
rule, swept settings, resolved learning rate, status, median and quartiles over seeds of the
final loss — each seed's mean loss over the last 1 % of trials — initial loss, training seconds,
error), rewritten after every finished configuration; ``sweep.png`` (median final loss with
25–75 % bars against each swept value, one line per rule: the best over the other swept
settings at each value); ``sweep.toml`` (the sweep, as resolved).  ``runs/<key>/result.json``
marks a finished configuration.

**Failures and resume.**  Bad settings in any configuration stop the sweep before anything is
written (one line naming the configuration).  A configuration that fails while running
(divergence, an exception, a crashed worker) is recorded with its error and the sweep goes on.
``--resume --out DIR`` skips finished configurations (``--retry-failed`` reruns the failed ones)
and resumes an interrupted configuration from its ``plastix compare`` checkpoints, so it ends
with the numbers of an uninterrupted sweep.

**Caveats.**  On a cluster, workers write a configuration's files at the same path on their
own machine and also send them back to the driver, which writes them into the sweep folder;
with a shared filesystem an interrupted configuration resumes from its checkpoints, without one
it restarts from its beginning (the numbers are the same either way).  Every worker needs
plastix (and the same JAX) installed.  Timings in ``seconds`` include compilation and depend on
how many configurations share a machine.

**Modules.**  :mod:`~plastix.sweep.schema` (the sweep file and its validation),
:mod:`~plastix.sweep.configs` (the configurations it defines), :mod:`~plastix.sweep.executors`
(one configuration in a worker; the serial, process and Ray executors),
:mod:`~plastix.sweep.results` (the sweep folder, sweep.csv, the figure and table),
:mod:`~plastix.sweep.driver` (:func:`run_sweep`: run, collect, resume) and
:mod:`~plastix.sweep.command` (``plastix sweep``).
"""

from __future__ import annotations

from .command import sweep_cli
from .configs import Configuration, config_key, configurations
from .driver import run_sweep
from .executors import (
    BACKENDS, EXECUTORS, NO_RAY_NOTE, Job, choose_backend, ray_available, run_configuration, run_processes, run_ray,
    run_serial, start_ray, worker_main,
)
from .results import (
    STAT_COLUMNS, check_out_dir, print_sweep_table, read_outcome, report_sweep, result_row, rows_to_csv, sweep_figure,
)
from .schema import RANGE_KEYS, Range, Sweep, SweepTable, load_sweep, parse_sweep

__all__ = [
    "BACKENDS", "EXECUTORS", "NO_RAY_NOTE", "RANGE_KEYS", "STAT_COLUMNS", "Configuration", "Job", "Range", "Sweep",
    "SweepTable", "check_out_dir", "choose_backend", "config_key", "configurations", "load_sweep", "parse_sweep",
    "print_sweep_table", "ray_available", "read_outcome", "report_sweep", "result_row", "rows_to_csv",
    "run_configuration", "run_processes", "run_ray", "run_serial", "run_sweep", "start_ray", "sweep_cli",
    "sweep_figure", "worker_main",
]

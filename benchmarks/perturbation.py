"""Speed of the perturbation rules beside the exact gradient, measured side by side in one run.

    python benchmarks/perturbation.py [--reps 50] [--out results.json]

For each setting, one jitted ``trial_grads`` call (compile excluded) is timed ``reps`` times and the
median is reported, with the cost relative to BPTT:

* rate RNN (Murray's periodic task, N = 30, T = 200, batch 1): WP, NP, RFLO, BPTT;
* linear readout (the paper's teacher–student task, M = 10, N = 100, T = 100): WP, NP, HP, BPTT;
* a training chunk: 1000 trials × 8 seeds of the readout task through ``plastix.readout.fit_task``
  (the loop the zuge2021 reproduction uses), µs per trial and seed.

WP and NP cost two forward passes and no backward pass; BPTT one forward and one backward.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import jax

from plastix.bench import median_seconds


def bench_rules(model, trial, names, reps):
    import plastix as px

    params = model.init(jax.random.key(0))
    out = {}
    for name in names:
        rule = px.rules.get(name, model)
        state = rule.init(params, jax.random.key(1))
        fn = jax.jit(lambda p, k, rule=rule, state=state: rule.trial_grads(p, trial, k, state)[0])
        out[name] = median_seconds(fn, params, jax.random.key(2), reps=reps) * 1e6
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--out", type=str, default=None)
    args = parser.parse_args()

    import plastix as px
    from plastix.models import LinearReadout
    from plastix.readout import fit_task
    from plastix.tasks.teacher_student import TeacherStudent

    results = {"machine": platform.platform(), "cpu_count": os.cpu_count(), "jax": jax.__version__,
               "load_average": os.getloadavg(), "date": time.strftime("%Y-%m-%d %H:%M"), "reps": args.reps}

    periodic = px.tasks.get("periodic", period=200)
    rnn = px.models.RateRNN(n_in=1, n_rec=30, n_out=1)
    results["rate_rnn_us_per_trial"] = bench_rules(rnn, periodic.sample(jax.random.key(0), 1),
                                                   ("bptt", "rflo", "wp", "np"), args.reps)

    task = TeacherStudent()
    readout = LinearReadout(task.n_in, task.n_out)
    results["readout_us_per_trial"] = bench_rules(readout, task.sample(jax.random.key(0), 1),
                                                  ("bptt", "wp", "np", "hp"), args.reps)

    loop = {}
    for name in ("wp", "np"):
        rule = px.rules.get(name, readout, sigma=1e-3)
        fit_task(readout, task, rule, 1e-3, 1000, n_seeds=8)  # compile
        t0 = time.perf_counter()
        fit_task(readout, task, rule, 1e-3, 1000, n_seeds=8)
        loop[name] = (time.perf_counter() - t0) / (1000 * 8) * 1e6
    results["readout_fit_task_us_per_trial_and_seed"] = loop

    for key in ("rate_rnn_us_per_trial", "readout_us_per_trial"):
        base = results[key]["bptt"]
        results[key.replace("us_per_trial", "relative_to_bptt")] = {k: v / base for k, v in results[key].items()}
    print(json.dumps(results, indent=2))
    if args.out:
        from plastix.runs import write_json

        write_json(args.out, results)


if __name__ == "__main__":
    main()

"""Equilibrium propagation (Scellier & Bengio 2017) against recurrent backprop (Almeida 1987; Pineda 1987).

What is reproduced (docs/reproductions/eqprop.md):

* **gradient** — EqProp's estimate (1/beta)(dE/dtheta(s^beta) - dE/dtheta(s^0)) approaches the exact
  gradient (recurrent backprop's adjoint relaxation) as beta -> 0, with error O(beta) one-sided and
  O(beta^2) for the centered (+-beta) estimate (measured slopes); recurrent backprop matches finite
  differences; nudging lowers the cost (Proposition 2).
* **symmetry** — training keeps W symmetric (exactly, by construction).
* **xor**, **digits** — EqProp learns XOR and the bundled digits (64-H-10, the paper's 784-500-10
  recipe scaled down) to an accuracy close to a backprop network of the same size.

MNIST (the paper's 0 % train / 2-3 % test error) is not reproduced: it is not bundled and nothing is
downloaded.
"""

from __future__ import annotations

import time

import numpy as np

DESCRIPTION = "Scellier & Bengio 2017 equilibrium propagation vs Almeida-Pineda recurrent backprop (gradient orders, XOR, digits)"

CLAIMS = [
    ("rbp-fd", "Recurrent backprop's adjoint gradient matches finite differences of the loss at the fixed point"),
    ("order-one-sided", "EqProp's one-sided estimate has error O(beta) against the exact gradient (log-log slope ~1)"),
    ("order-centered", "The centered (+-beta) estimate has error O(beta^2) (slope ~2)"),
    ("small-beta", "relerr < 5 beta (one-sided) and < 5 beta^2 (centered) for beta <= 0.05; cosine > 0.999 at beta <= 0.01"),
    ("proposition-2", "A small positive nudge lowers the cost C(s^beta) < C(s^0)"),
    ("symmetry", "Weights stay exactly symmetric during training"),
    ("xor", "EqProp learns XOR to 100 %"),
    ("digits", "EqProp on digits reaches a test accuracy close to a backprop network of the same size"),
]

PARTS = ("gradient", "symmetry", "xor", "digits")
OPTIONS = {"figure": (list(PARTS), "run only this part")}


def run(rep) -> None:
    rep.run_parts(PARTS, lambda part: globals()[f"_{part}"](rep))




def _gradient(rep):
    import jax
    import jax.numpy as jnp
    import matplotlib.pyplot as plt

    import plastix.energy as pe
    from plastix.energy.checks import eqprop_bias, float64, loss_gradient_error, relative_error

    betas = np.array([0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001])
    results, fd_errs, prop2 = {}, {}, []
    with float64():
        for activation in ("logistic", "hard_sigmoid"):
            net = pe.FixedPointNet((4, 6, 3), activation=activation, tol=1e-13, max_iter=100_000)
            # hard sigmoid: small weights and a positive bias keep most units off the flat regions
            p = net.init(jax.random.key(0), gain=1.0 if activation == "logistic" else 0.5,
                         bias=0.1 if activation == "logistic" else 0.3)
            x = jax.random.uniform(jax.random.key(1), (5, 4))
            t = jax.random.uniform(jax.random.key(2), (5, 3), minval=0.1, maxval=0.9)
            results[activation] = eqprop_bias(net, p, x, t, betas)
            g_rbp, m = pe.RecurrentBackprop(net, adjoint_iter=100_000, tol=1e-14).grads(p, x, t)
            V = net.free_phase(p, x).V
            ref = pe.implicit_gradient(net, p, V, net.input_mask(), t)
            fd_errs[activation] = {"fd": loss_gradient_error(net, p, x, t, g_rbp, n_entries=8),
                                   "implicit": relative_error(g_rbp, ref)}
            big = pe.eqprop(net, beta=1.0, sign="centered").grads(p, x, t)[0]
            results[activation]["centered_cosine_beta_1"] = float(
                pe.checks.cosine(big, g_rbp))
            if activation == "logistic":
                rule = pe.eqprop(net, beta=0.01, sign="+")
                free = rule.free_phase(p, x)
                for b in (1e-3, 1e-2, 1e-1):
                    nudged = rule.teacher_phase(p, free.V, t, b)
                    prop2.append(bool(jnp.all(net.cost(nudged.V, t) < net.cost(free.V, t))))
    rows = []
    for act, r in results.items():
        for sign in ("+", "-", "centered"):
            rows.append([act, sign, r[sign]["slope"]] + [r[sign]["relerr"][i] for i in (0, 3, 6)]
                        + [r[sign]["cosine"][3]])
    rep.section("EqProp's estimate vs the exact gradient",
                "4-6-3 networks (logistic: Glorot gain 1, biases 0.1; hard sigmoid: gain 0.5, biases 0.3), 5 examples, "
                "float64, relaxed to a residual < 1e-13; the exact gradient is recurrent backprop's adjoint relaxation.")
    rep.table(["units", "nudge", "log-log slope", "relerr beta=0.1", "relerr beta=0.01", "relerr beta=0.001",
               "cosine beta=0.01"], rows)
    rep.table(["units", "RBP vs finite differences (max rel)", "RBP vs dense implicit solve",
               "centered cosine at beta = 1"],
              [[a, fd_errs[a]["fd"], fd_errs[a]["implicit"], results[a]["centered_cosine_beta_1"]] for a in results])
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    for ax, (act, r) in zip(axes, results.items()):
        for sign, m in (("+", "o-"), ("-", "v-"), ("centered", "s-")):
            ax.loglog(betas, r[sign]["relerr"], m, label=f"{sign} (slope {r[sign]['slope']:.2f})")
        ax.loglog(betas, 5 * betas, "k:", lw=0.8, label="5 beta")
        ax.loglog(betas, 5 * betas**2, "k--", lw=0.8, label="5 beta^2")
        ax.set(title=act, xlabel="beta", ylabel="relative error vs recurrent backprop")
        ax.legend(fontsize=7)
    rep.figure(fig, "eqprop_vs_rbp.png", "Bias of EqProp's gradient estimate against beta.")
    rep.record("eqprop_bias", results)
    rep.record("rbp_checks", fd_errs)

    worst_fd = max(v["fd"] for v in fd_errs.values())
    rep.claim("rbp-fd", "max relative error of recurrent backprop vs central finite differences", worst_fd, 1e-6, "<")
    s1 = {a: r["+"]["slope"] for a, r in results.items()}
    s2 = results["logistic"]["centered"]["slope"]
    rep.text("The orders are properties of smooth units; the spec's bounds (relerr < 5 beta one-sided, < 5 beta^2 "
             "centered) are checked on the logistic network.  With the hard sigmoid the network is piecewise linear: "
             "between kinks the nudged fixed point is linear in beta, but units near 0 or 1 cross a kink within +-beta, "
             "so the errors are larger and less regular (see the table; the measured ratios are recorded, not "
             "claimed).")
    rep.claim("order-one-sided", "log-log slope of the one-sided error (logistic, hard sigmoid)", s1,
              "in [0.8, 1.2]", holds=all(0.8 <= v <= 1.2 for v in s1.values()))
    rep.claim("order-centered", "log-log slope of the centered error (logistic units)", s2, "in [1.8, 2.2]",
              holds=1.8 <= s2 <= 2.2)
    ok, worst = True, {}
    for a, r in results.items():
        ok_a = True
        for i, b in enumerate(betas):
            if b <= 0.05:
                ok_a &= r["+"]["relerr"][i] < 5 * b and r["centered"]["relerr"][i] < 5 * b**2
            if b <= 0.01:
                ok_a &= r["+"]["cosine"][i] > 0.999 and r["centered"]["cosine"][i] > 0.999
        worst[a] = {"max relerr/beta (+)": max(e / b for e, b in zip(r["+"]["relerr"], betas) if b <= 0.05),
                    "max relerr/beta^2 (centered)": max(e / b**2 for e, b in zip(r["centered"]["relerr"], betas) if b <= 0.05),
                    "within bounds": bool(ok_a)}
        if a == "logistic":
            ok = ok_a
    rep.record("small_beta_ratios", worst)
    rep.claim("small-beta", "logistic: largest relerr/beta (one-sided) and relerr/beta^2 (centered) for beta <= 0.05",
              {k: v for k, v in worst["logistic"].items() if k != "within bounds"},
              "< 5 (and cosine > 0.999 for beta <= 0.01)", holds=bool(ok))
    rep.claim("proposition-2", "beta in {1e-3, 1e-2, 1e-1}: every example's cost decreased (logistic)", prop2,
              "all True", holds=all(prop2))


def _symmetry(rep):
    import jax
    import jax.numpy as jnp

    import plastix.energy as pe

    net = pe.FixedPointNet((2, 6, 1), connectivity="full", activation="logistic", max_iter=200, tol=1e-4)
    params, hist = pe.fit(pe.eqprop(net, beta=0.5, sign="random"), net.init(jax.random.key(0), gain=2.0), pe.xor(),
                          epochs=200, batch_size=4, lr=1.0, eval_every=200)
    W = params["W"]
    asym = float(jnp.max(jnp.abs(W - W.T)))
    diag = float(jnp.max(jnp.abs(jnp.diag(W))))
    rep.section("Symmetry", "A fully recurrent 9-unit network (2 inputs, 6 hidden, 1 output) trained for 200 epochs of "
                f"EqProp on XOR: max |W - W^T| = {asym:g}, max |W_ii| = {diag:g}.  (Layered networks use one matrix in "
                "both directions, so they are symmetric by construction.)")
    rep.claim("symmetry", "max |W - W^T| after training (fully recurrent)", asym, 0.0, "<=")


def _xor(rep):
    import matplotlib.pyplot as plt

    import plastix.energy as pe

    seeds = range(4 if rep.quick else 10)
    epochs = 1000 if rep.quick else 2000
    xo = pe.xor()
    log = pe.FixedPointNet((2, 8, 1), activation="logistic", max_iter=200, tol=1e-4)
    hs = pe.FixedPointNet((2, 8, 1), activation="hard_sigmoid", max_iter=200, tol=1e-4)
    cases = [
        ("EqProp beta=0.5, random sign", pe.eqprop(log, beta=0.5, sign="random"), 2.0),
        ("EqProp beta=0.2, centered", pe.eqprop(log, beta=0.2, sign="centered"), 2.0),
        ("EqProp beta=0.5, + only", pe.eqprop(log, beta=0.5, sign="+"), 2.0),
        ("recurrent backprop (eps 0.25)", pe.RecurrentBackprop(log, eps=0.25), 2.0),
        ("backprop MLP (same size)", pe.MLP((2, 8, 1), activation="logistic"), 2.0),
    ]
    if not rep.quick:
        cases += [("EqProp, hard sigmoid, random sign", pe.eqprop(hs, beta=0.5, sign="random"), 0.5),
                  ("backprop MLP, hard sigmoid", pe.MLP((2, 8, 1), activation="hard_sigmoid"), 0.5)]
    rows, fracs = [], {}
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, rule, lr in cases:
        t0 = time.time()
        hist, err = pe.fit_seeds_or_error(rule, xo, seeds, epochs=epochs, batch_size=4, lr=lr, eval_every=epochs // 10,
                           init_kw={"gain": 2.0})
        if hist is None:
            fracs[name] = 0.0
            rows.append([name, lr, f"diverged: {err}", round(time.time() - t0, 1)])
            continue
        acc = [h[-1]["test_accuracy"] for h in hist]
        fracs[name] = float(np.mean([a == 1.0 for a in acc]))
        rows.append([name, lr, fracs[name], round(time.time() - t0, 1)])
        ax.plot([r["epoch"] for r in hist[0]], np.mean([[r["loss"] for r in h] for h in hist], 0), label=name)
    ax.set(yscale="log", xlabel="epoch", ylabel="loss (mean over seeds)", title="XOR, 2-8-1")
    ax.legend(fontsize=7)
    rep.section("XOR", f"2-8-1 layered networks (logistic units unless stated), full batch, SGD, gain-2 init, "
                f"{len(list(seeds))} seeds, {epochs} epochs.  With the hard sigmoid a single output unit is easily "
                "pushed into the flat region at 0, where every rule (backprop included) has zero gradient.")
    rep.table(["rule", "lr", "fraction of seeds at 100 %", "seconds"], rows)
    rep.figure(fig, "xor.png", "Loss during XOR training.")
    rep.record("xor", fracs)
    f = fracs["EqProp beta=0.5, random sign"]
    rep.claim("xor", "fraction of seeds at 100 % (EqProp, beta = 0.5, random sign, logistic units)", f, 0.75, ">=",
              note="" if f >= 0.75 else "some seeds stop in a local minimum within the epoch budget")


def _digits(rep):
    import plastix.energy as pe

    H = 64 if rep.quick else 128
    epochs = 15 if rep.quick else 30
    seeds = [0] if rep.quick else [0, 1, 2]
    data = pe.digits()
    hs = pe.FixedPointNet((64, H, 10), activation="hard_sigmoid", max_iter=100, tol=1e-3)
    cases = [
        ("EqProp (paper recipe: 20 free / 4 nudged steps, beta 0.5 random sign)",
         pe.eqprop(hs, beta=0.5, sign="random", free_iter=20, teacher_iter=4, tol=0.0), (0.1, 0.05)),
        ("backprop MLP, logistic (same size)", pe.MLP((64, H, 10), activation="logistic"), (2.0, 1.0)),
    ]
    if not rep.quick:
        tight = pe.FixedPointNet((64, H, 10), activation="hard_sigmoid", max_iter=1000, tol=1e-4)
        cases[1:1] = [
            ("EqProp, relaxed to convergence, beta 0.5 random sign", pe.eqprop(hs, beta=0.5, sign="random"), (0.1, 0.05)),
            ("EqProp, centered beta 0.5", pe.eqprop(hs, beta=0.5, sign="centered"), (0.1, 0.05)),
            ("EqProp, + only beta 0.5", pe.eqprop(hs, beta=0.5, sign="+"), (0.1, 0.05)),
            # RBP needs a converged (stable) free fixed point: with 100 iterations the free phase can stop near
            # a saddle, and the adjoint then diverges (measured: chance accuracy).  Hence the longer relaxations.
            ("recurrent backprop (exact gradient; free phase to 1e-4, <= 1000 steps)",
             pe.RecurrentBackprop(tight, adjoint_iter=2000), (0.1, 0.05)),
            ("EqProp, centered beta 0.02 (~ exact gradient; same relaxation)",
             pe.eqprop(tight, beta=0.02, sign="centered"), (0.1, 0.05)),
        ]
        cases.append(("backprop MLP, hard sigmoid (same size)", pe.MLP((64, H, 10), activation="hard_sigmoid"), (0.1, 0.05)))
    rows, acc = [], {}
    for name, rule, lr in cases:
        t0 = time.time()
        hist, err = pe.fit_seeds_or_error(rule, data, seeds, epochs=epochs, batch_size=20, lr=lr, eval_every=epochs)
        if hist is None:
            acc[name] = float("nan")
            rows.append([name, f"{lr[0]:g}/{lr[1]:g}", f"diverged: {err}", "", "", round(time.time() - t0, 1)])
            continue
        test = [h[-1]["test_accuracy"] for h in hist]
        train = [h[-1]["train_accuracy"] for h in hist]
        acc[name] = float(np.mean(test))
        rows.append([name, f"{lr[0]:g}/{lr[1]:g}", float(np.mean(train)), float(np.mean(test)), float(np.std(test)),
                     round(time.time() - t0, 1)])
    rep.section("Digits (sklearn load_digits)",
                f"64-{H}-10, hard-sigmoid energy network (EqProp's model), squared-error cost, stratified 1347/450 "
                f"split, minibatch 20, per-layer SGD (the paper's alpha = 0.1/0.05), {epochs} epochs, seeds {seeds}.  "
                "The backprop baseline is the feedforward network with the same layer sizes (logistic units: with "
                "the hard sigmoid and a squared error its output units die, see the hard-sigmoid row in the full run).  "
                "With hard-sigmoid units the exact gradient (recurrent backprop, or EqProp with a small beta) passes no "
                "error through saturated units and learns slowly; EqProp's finite beta = 0.5 moves saturated units "
                "across the kink, which helps here (full run).")
    rep.table(["rule", "lr", "train accuracy", "test accuracy", "std over seeds", "seconds"], rows)
    rep.record("digits", acc)
    eq = acc[cases[0][0]]
    bp = acc["backprop MLP, logistic (same size)"]
    ok = bool(eq >= bp - 0.02)
    rep.claim("digits", "test accuracy: EqProp (paper recipe) vs backprop MLP of the same size (EqProp >= BP - 0.02)",
              {"EqProp": eq, "backprop": bp}, {"EqProp >=": bp - 0.02}, holds=ok,
              note="" if ok else "EqProp below the backprop network by more than 2 points (or diverged) in this run")

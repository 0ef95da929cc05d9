"""Hopfield logic programming (Wan Abdullah): parsing, exact energy = clause-violation count,
symmetric weights, Lyapunov relaxation, global-minimum detection, performance measures."""

import itertools
from fractions import Fraction

import jax
import numpy as np
import pytest

from plastix.energy import horn, logic
from plastix.energy.hopfield import OscillationWarning
from plastix.errors import PlastixError

EXAMPLE = """
% Sathasivam & Wan Abdullah's worked example
C :- A, B.
D :- B.
:- C.
"""


def test_worked_example_weights_and_minimum():
    prog = horn.parse_program(EXAMPLE)
    net = logic.wan_abdullah(prog)
    A, B, C, D = (prog.index(a) for a in "ABCD")
    J = lambda *atoms: net.weights.get(tuple(sorted(atoms)), 0.0)
    assert J(A, B, C) == 1 / 16
    assert (J(A, B), J(A, C), J(B, C), J(B, D)) == (-1 / 8, 1 / 8, 1 / 8, 1 / 4)
    assert (J(A), J(B), J(C), J(D)) == (-1 / 8, -3 / 8, -3 / 8, 1 / 4)
    assert net.h_min == -7 / 8


def _random_programs(n, sizes=(3, 4, 5, 6, 7, 8)):
    rng = np.random.default_rng(0)
    return [horn.random_program(rng, int(rng.choice(sizes)), int(rng.integers(1, 9))) for _ in range(n)]


def test_energy_is_the_number_of_violated_clauses_for_every_interpretation():
    for prog in _random_programs(60):
        net = logic.wan_abdullah(prog)
        S = horn.all_states(prog.n_atoms)
        violated = prog.violations(S)
        assert np.array_equal(net.energy(S) - net.h_min, violated)  # exact, not approximate
        # the polynomial of equation (1) evaluated directly agrees too
        poly = logic.cost_polynomial(prog)
        direct = sum(float(c) * np.prod(S[:, list(M)], axis=1) if M else float(c) for M, c in poly.items())
        assert np.array_equal(direct, violated)
        # H_min = -sum 2^-k over clauses (all clauses have distinct atoms)
        assert net.h_min == -float(sum(Fraction(1, 2 ** len(c.literals())) for c in prog.clauses))


def test_dense_tensors_are_symmetric_zero_diagonal_and_give_the_same_energy():
    for prog in _random_programs(15, sizes=(4, 5, 6)):
        net = logic.wan_abdullah(prog)
        tensors = {m: net.dense(m) for m in range(1, net.order + 1)}
        for m, T in tensors.items():
            for perm in itertools.permutations(range(m)):
                assert np.array_equal(T, np.transpose(T, perm))
            for i, j in itertools.combinations(range(m), 2):  # every diagonal J_..i..i.. is zero
                idx = np.arange(T.shape[0])
                sl = [slice(None)] * m
                sl[i], sl[j] = idx, idx
                assert np.all(T[tuple(sl)] == 0)
        S = horn.all_states(prog.n_atoms)
        assert np.array_equal(logic.energy_dense(tensors, S), net.energy(S))


def test_global_minima_are_exactly_the_models_and_include_the_least_model():
    for prog in _random_programs(30):
        net = logic.wan_abdullah(prog)
        S = horn.all_states(prog.n_atoms)
        H = net.energy(S)
        at_min = np.abs(H - net.h_min) <= logic.GLOBAL_TOL
        assert prog.satisfiable
        assert np.array_equal(at_min, prog.violations(S) == 0)
        assert prog.violations(prog.least_model()) == 0


def test_asynchronous_mcp_relaxation_never_increases_the_energy():
    rng = np.random.default_rng(1)
    nets = [logic.wan_abdullah(horn.random_program(rng, 12, 12)) for _ in range(5)]
    S0 = np.where(rng.random((5, 12)) < 0.5, 1.0, -1.0)
    H = logic.trajectory_energies(nets, S0, jax.random.key(0), n_sweeps=4)
    assert H.shape == (5, 4 * 12 + 1)
    worst = np.diff(H, axis=1).max()
    assert worst <= 1e-12


def test_small_program_regime_and_measures():
    rng = np.random.default_rng(2)
    nets = [logic.wan_abdullah(horn.random_program(rng, 10, 5)) for _ in range(4)]
    m = logic.evaluate(nets, jax.random.key(0), n_starts=100)
    assert m["n_runs"] == 400 and m["global_minima_ratio"] >= 0.9
    assert m["train_cpu_seconds"] >= 0 and m["retrieval_seconds"] > 0
    # runs that end in a global minimum end in a model: distance 0 to the nearest model
    out = logic.relax(nets, key=jax.random.key(0), n_starts=100)  # same shapes: compiled once
    for p, net in enumerate(nets):
        glob = np.abs(out.H[p] - net.h_min) <= 1e-3
        assert np.all(net.program.violations(out.S[p][glob]) == 0)
        assert np.all(out.H[p] >= net.h_min - 1e-12)


def test_relaxation_rate_has_no_effect_on_mcp_and_sync_oscillation_warns():
    rng = np.random.default_rng(3)
    nets = [logic.wan_abdullah(horn.random_program(rng, 8, 6))]
    a = logic.relax(nets, key=jax.random.key(1), n_starts=20, rate=1.0)
    b = logic.relax(nets, key=jax.random.key(1), n_starts=20, rate=7.0)
    assert np.array_equal(a.S, b.S)
    # facts A, B plus the goal ":- A, B." twice: H = S_A S_B / 2 + const, an antiferromagnetic pair;
    # synchronous updates flip both units together forever
    prog = horn.parse_program("A. B. :- A, B. :- A, B.")
    S0 = np.array([[[1.0, 1.0]]])
    with pytest.warns(OscillationWarning):
        out = logic.relax([logic.wan_abdullah(prog)], S0, method="sync")
    assert out.oscillating.all()


def test_hebbian_weights_are_proportional_to_wan_abdullah_for_uniform_clause_length():
    prog = horn.parse_program("C :- A, B. D :- B, E. :- A, D, E.")  # every clause has 3 literals
    wa = logic.wan_abdullah(prog).weights
    hebb = logic.hebbian_clause_weights(prog)
    assert set(wa) == set(hebb)
    for M in wa:
        assert wa[M] == pytest.approx((1 - 2.0**-3) * hebb[M], rel=1e-12)


@pytest.mark.parametrize("text,line,col,fragment", [
    ("C :- A B.", 1, 8, "expected ',' or '.'"),
    ("A.\nC :- .", 2, 6, "expected an atom"),
    ("#atoms A, B.\nC :- A.", 2, 1, "unknown atom 'C'"),
    ("A :- B", 1, 7, "end of program"),
    ("A :- 1B.", 1, 6, "unexpected character '1'"),
    ("A.\n#atoms A.", 2, 1, "#atoms"),
    ("A ; B.", 1, 3, "unexpected character ';'"),
])
def test_invalid_programs_give_one_line_with_the_position(text, line, col, fragment):
    with pytest.raises(PlastixError) as info:
        horn.parse_program(text)
    msg = str(info.value)
    assert "\n" not in msg and fragment in msg and f"line {line}, column {col}" in msg
    assert (info.value.line, info.value.column) == (line, col)
    with pytest.raises(PlastixError, match="no clauses"):
        horn.parse_program("% only a comment\n")
    with pytest.raises(PlastixError, match="unknown atom 'Z'"):
        horn.parse_program("A :- Z.", atoms=["A", "B"])

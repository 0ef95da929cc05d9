"""Horn-clause logic programs: the program text, its parser and the logical checks (models,
violated clauses, the least model), independent of any network; :mod:`plastix.energy.logic`
turns a :class:`Program` into Hopfield weights (Wan Abdullah's method).

Program text
------------
One statement per ``.``; ``%`` starts a comment that runs to the end of the line::

    #atoms A, B, C, D.     % optional: declare every atom (then any other atom is an error)
    C :- A, B.             % rule (definite clause): C if A and B      ==  C or not A or not B
    D :- B.
    A.                     % fact: A is true
    :- C.                  % goal (negative clause): C must be false   ==  not C

Atoms are identifiers ``[A-Za-z_][A-Za-z0-9_]*``.  A syntax error or an undeclared atom raises a
:class:`ProgramError` (a PlastixError): one line naming the line and column, what was found and
what is accepted.

A :class:`Program` is its atoms (in order of first appearance, or as declared) and its clauses;
:func:`random_program` draws a satisfiable one with a planted model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..errors import ConfigError, check_positive

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SYNTAX = "Horn clauses 'C :- A, B.', facts 'A.', goals ':- A, B.', '#atoms A, B.' (see plastix.energy.horn)"


class ProgramError(ConfigError):
    """An invalid logic program: the message names line, column, what was found and what is accepted."""

    def __init__(self, message: str, line: int = 0, column: int = 0):
        super().__init__(message)
        self.line, self.column = line, column


# -------------------------------------------------------------------------------------------------
# programs
# -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Clause:
    """head :- body.  ``head`` is an atom index or None (goal); ``body`` atom indices."""

    head: int | None
    body: tuple[int, ...]

    def literals(self) -> tuple[tuple[int, bool], ...]:
        """(atom, positive) pairs: the head positive, body atoms negated."""
        lits = [] if self.head is None else [(self.head, True)]
        return tuple(lits + [(b, False) for b in self.body])


@dataclass(frozen=True)
class Program:
    atoms: tuple[str, ...]
    clauses: tuple[Clause, ...]

    @property
    def n_atoms(self) -> int:
        return len(self.atoms)

    def index(self, atom: str) -> int:
        return self.atoms.index(atom)

    def __str__(self) -> str:
        lines = [f"#atoms {', '.join(self.atoms)}."]
        for c in self.clauses:
            head = "" if c.head is None else self.atoms[c.head]
            body = ", ".join(self.atoms[b] for b in c.body)
            lines.append(f"{head}." if not body else f"{head + ' ' if head else ''}:- {body}.")
        return "\n".join(lines) + "\n"

    def violations(self, S) -> np.ndarray:
        """Number of violated clauses for each bipolar state (..., N) (direct logical check)."""
        T = np.asarray(S) > 0
        count = np.zeros(T.shape[:-1], dtype=np.int64)
        for c in self.clauses:
            sat = np.zeros(T.shape[:-1], bool) if c.head is None else T[..., c.head].copy()
            for b in c.body:
                sat |= ~T[..., b]
            count += ~sat
        return count

    def least_model(self) -> np.ndarray:
        """Forward chaining over the definite clauses: the least Herbrand model, as a +-1 vector."""
        true = np.zeros(self.n_atoms, bool)
        changed = True
        while changed:
            changed = False
            for c in self.clauses:
                if c.head is not None and not true[c.head] and all(true[b] for b in c.body):
                    true[c.head] = changed = True
        return np.where(true, 1.0, -1.0)

    @property
    def satisfiable(self) -> bool:
        """Horn-SAT: satisfiable iff the least model satisfies every goal."""
        return int(self.violations(self.least_model())) == 0

    def models(self) -> np.ndarray:
        """All models (exhaustive; at most 20 atoms)."""
        S = all_states(self.n_atoms)
        return S[self.violations(S) == 0]


def all_states(n: int) -> np.ndarray:
    """All 2^n bipolar states, (2^n, n), n <= 20."""
    if n > 20:
        raise ConfigError.bad_value("n_atoms", n, "at most 20 for exhaustive enumeration")
    bits = (np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1
    return np.where(bits == 1, 1.0, -1.0)


def parse_program(text: str, atoms=None) -> Program:
    """Parse program text (module docstring); ``atoms`` (optional) declares the known atoms."""
    if not isinstance(text, str):
        raise ConfigError.bad_value("program", type(text).__name__, "program text (a string)")
    tokens = _tokenize(text)
    declared: list[str] | None = list(atoms) if atoms is not None else None
    if declared is not None:
        for a in declared:
            if not isinstance(a, str) or not _IDENT.fullmatch(a):
                raise ConfigError.bad_value("atoms", a, "identifiers [A-Za-z_][A-Za-z0-9_]*")
    order: list[str] = list(declared) if declared is not None else []
    clauses: list[Clause] = []
    pos = 0

    def peek():
        return tokens[pos]

    def expect(kind, what):
        nonlocal pos
        tok = tokens[pos]
        if tok.kind != kind:
            _error(tok, f"expected {what}, got {tok.describe()}")
        pos += 1
        return tok

    def atom_index(tok):
        if declared is not None and tok.text not in declared:
            raise ProgramError(
                f"logic program line {tok.line}, column {tok.col}: unknown atom {tok.text!r}; "
                f"accepted: declared atoms {', '.join(declared)}", tok.line, tok.col)
        if tok.text not in order:
            order.append(tok.text)
        return order.index(tok.text)

    def atom_list():
        nonlocal pos
        items = [atom_index(expect("ident", "an atom"))]
        while peek().kind == ",":
            pos += 1
            items.append(atom_index(expect("ident", "an atom after ','")))
        return items

    while peek().kind != "eof":
        tok = peek()
        if tok.kind == "#atoms":
            if clauses or declared is not None:
                _error(tok, "'#atoms' must come once, before the first clause")
            pos += 1
            names = [expect("ident", "an atom name").text]
            while peek().kind == ",":
                pos += 1
                names.append(expect("ident", "an atom name after ','").text)
            expect(".", "'.' after the atom list")
            dup = {n for n in names if names.count(n) > 1}
            if dup:
                _error(tok, f"atom {sorted(dup)[0]!r} declared twice")
            declared, order = names, list(names)
            continue
        if tok.kind == ":-":
            pos += 1
            body = atom_list()
            expect(".", "',' or '.' after the goal's atoms")
            clauses.append(Clause(None, _dedupe(body)))
            continue
        head = atom_index(expect("ident", "an atom, ':-' or '#atoms'"))
        if peek().kind == ".":
            pos += 1
            clauses.append(Clause(head, ()))
            continue
        expect(":-", "':-' or '.' after the head atom")
        body = atom_list()
        expect(".", "',' or '.' after the body's atoms")
        clauses.append(Clause(head, _dedupe(body)))
    if not clauses:
        raise ProgramError(f"logic program: no clauses found; accepted: {_SYNTAX}")
    return Program(tuple(order), tuple(clauses))


def _dedupe(body):
    return tuple(dict.fromkeys(body))


class _Token(NamedTuple):
    kind: str
    text: str
    line: int
    col: int

    def describe(self):
        return "end of program" if self.kind == "eof" else repr(self.text)


def _error(tok: _Token, what: str):
    raise ProgramError(f"logic program line {tok.line}, column {tok.col}: {what}; accepted: {_SYNTAX}",
                       tok.line, tok.col)


def _tokenize(text: str) -> list[_Token]:
    tokens, line, col, i = [], 1, 1, 0
    while i < len(text):
        ch = text[i]
        if ch == "\n":
            line, col, i = line + 1, 1, i + 1
            continue
        if ch in " \t\r":
            col, i = col + 1, i + 1
            continue
        if ch == "%":
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        if text.startswith(":-", i):
            tokens.append(_Token(":-", ":-", line, col))
            col, i = col + 2, i + 2
            continue
        if ch in ",.":
            tokens.append(_Token(ch, ch, line, col))
            col, i = col + 1, i + 1
            continue
        m = _IDENT.match(text, i + 1 if ch == "#" else i)
        if ch == "#" and m and m.group() == "atoms":
            tokens.append(_Token("#atoms", "#atoms", line, col))
            col, i = col + 6, i + 6
            continue
        if ch != "#" and m:
            tokens.append(_Token("ident", m.group(), line, col))
            col, i = col + len(m.group()), m.end()
            continue
        _error(_Token("char", ch, line, col), f"unexpected character {ch!r}")
    tokens.append(_Token("eof", "", line, col))
    return tokens



def random_program(rng, n_atoms: int, n_clauses: int, max_len: int = 3, definite_fraction: float = 0.8,
                   fact_fraction: float = 0.1) -> Program:
    """A random satisfiable Horn program (planted model).

    A random interpretation is drawn; clauses are drawn (length 1..max_len; definite with probability
    ``definite_fraction``, of which facts with probability ``fact_fraction``) and kept only if the
    interpretation satisfies them, so the program is satisfiable by construction.  ``rng``: a
    ``numpy.random.Generator`` or a seed.
    """
    rng = np.random.default_rng(rng)
    check_positive("n_atoms", n_atoms, integer=True)
    check_positive("n_clauses", n_clauses, integer=True)
    check_positive("max_len", max_len, integer=True)
    planted = rng.random(n_atoms) < 0.5
    clauses: list[Clause] = []
    attempts = 0
    while len(clauses) < n_clauses:
        attempts += 1
        if attempts > 1000 * n_clauses:
            raise ConfigError.bad_value("n_clauses", n_clauses, "fewer clauses (could not plant a model)")
        if rng.random() < definite_fraction:
            k = 1 if rng.random() < fact_fraction else int(rng.integers(2, max_len + 1)) if max_len > 1 else 1
            atoms = rng.choice(n_atoms, size=min(k, n_atoms), replace=False)
            c = Clause(int(atoms[0]), tuple(int(a) for a in atoms[1:]))
        else:
            k = int(rng.integers(1, max_len + 1))
            atoms = rng.choice(n_atoms, size=min(k, n_atoms), replace=False)
            c = Clause(None, tuple(int(a) for a in atoms))
        sat = (c.head is not None and planted[c.head]) or any(not planted[b] for b in c.body)
        if sat:
            clauses.append(c)
    return Program(tuple(f"x{i}" for i in range(n_atoms)), tuple(clauses))

"""Behavioural data for fitting: the CSV format, its validation, and the padded arrays.

CSV format (one row per trial, rows of a subject in trial order; header required)::

    subject   any non-empty text identifying the subject (rows of a subject need not be
              contiguous; their order in the file is their trial order)
    outcome   the outcome shown on that trial: a finite number (0 or 1 for binary models)
    response  what the subject did, before seeing the outcome:
                - response model "gaussian": the subject's prediction of the outcome (a number);
                - response model "choice": the index of the chosen option (0, 1, ...).
              Empty (or "nan") = no response recorded: the trial still teaches the model, but
              adds nothing to the likelihood.
    cue       optional: which option/cue (0, 1, ...) the outcome and response belong to.
              Default: 0 for "gaussian"; the chosen option for "choice" (the usual bandit
              where only the chosen option's outcome is seen).

Other columns are ignored.  Every problem is reported as one line naming the file, the row (line
number in the file, header = row 1) and the column, e.g.::

    data.csv, row 7, column 'outcome': got 'abc'; accepted: a finite number
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError

REQUIRED_COLUMNS = ("subject", "outcome", "response")
OPTIONAL_COLUMNS = ("cue",)
RESPONSE_MODELS = ("gaussian", "choice")


@dataclass(frozen=True)
class Dataset:
    """Trials of S subjects padded to the longest subject (T trials), K options/cues.

    outcomes   (S, T, K) float: the outcome on the cue it belongs to, NaN elsewhere and on padding.
    responses  (S, T) float: prediction (gaussian) or chosen option (choice); NaN if missing.
    cues       (S, T) int: the cue whose prediction the response is (gaussian) — for choice the
               response itself names the option.
    n_trials   (S,) int: real trials per subject (the rest is padding).
    """

    subjects: tuple
    outcomes: np.ndarray
    responses: np.ndarray
    cues: np.ndarray
    n_trials: np.ndarray
    response_model: str

    @property
    def n_subjects(self) -> int:
        return len(self.subjects)

    @property
    def n_options(self) -> int:
        return self.outcomes.shape[2]

    @property
    def n_responses(self) -> np.ndarray:
        return np.isfinite(self.responses).sum(axis=1)

    def subset(self, index) -> "Dataset":
        index = np.atleast_1d(index)
        return Dataset(tuple(self.subjects[i] for i in index), self.outcomes[index], self.responses[index],
                       self.cues[index], self.n_trials[index], self.response_model)


def _bad(path, row, column, value, accepted) -> ConfigError:
    where = f"{path}, row {row}" + (f", column {column!r}" if column else "")
    return ConfigError.bad_value(where, value, accepted)


def _parse_number(text: str, path, row, column, allow_missing: bool) -> float:
    stripped = text.strip()
    if stripped == "" or stripped.lower() in ("nan", "na"):
        if allow_missing:
            return math.nan
        raise _bad(path, row, column, text, "a finite number (this column may not be empty)")
    try:
        value = float(stripped)
    except ValueError:
        raise _bad(path, row, column, text, "a finite number") from None
    if not math.isfinite(value):
        raise _bad(path, row, column, text, "a finite number")
    return value


def _parse_index(text: str, path, row, column, allow_missing: bool) -> float:
    value = _parse_number(text, path, row, column, allow_missing)
    if math.isnan(value):
        return value
    if value < 0 or not float(value).is_integer():
        raise _bad(path, row, column, text, "an option index: a whole number 0, 1, 2, ...")
    return value


def read_csv(path: str | os.PathLike, response_model: str = "gaussian", binary_outcomes: bool = False) -> Dataset:
    """Read and validate a behavioural CSV (format in the module docstring)."""
    if response_model not in RESPONSE_MODELS:
        raise ConfigError.bad_value("--response", response_model, ", ".join(RESPONSE_MODELS))
    path = Path(path)
    if not path.is_file():
        raise ConfigError.bad_value("data", str(path), "an existing CSV file")
    name = path.name
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except UnicodeDecodeError:
        raise ConfigError.bad_value(str(path), "undecodable bytes", "a UTF-8 text CSV file") from None
    except csv.Error as exc:
        raise ConfigError.bad_value(str(path), str(exc), "a well-formed CSV file") from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise _bad(name, 1, None, "an empty header", "a header row with columns " + ", ".join(REQUIRED_COLUMNS))
    header = [cell.strip().lower() for cell in rows[0]]
    for column in REQUIRED_COLUMNS:
        if column not in header:
            raise _bad(name, 1, column, "missing", f"a header with columns {', '.join(REQUIRED_COLUMNS)} (optional: cue); found {', '.join(header)}")
    col = {c: header.index(c) for c in REQUIRED_COLUMNS + OPTIONAL_COLUMNS if c in header}
    has_cue = "cue" in col

    per_subject: dict[str, list[tuple[float, float, float]]] = {}
    first_row: dict[str, int] = {}
    n_data_rows = 0
    for line, cells in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank line
        n_data_rows += 1
        if len(cells) < len(header):
            missing = header[len(cells)]
            raise _bad(name, line, missing, "nothing (the row is too short)", f"{len(header)} comma-separated cells")
        subject = cells[col["subject"]].strip()
        if not subject:
            raise _bad(name, line, "subject", cells[col["subject"]], "a non-empty subject identifier")
        outcome = _parse_number(cells[col["outcome"]], name, line, "outcome", allow_missing=False)
        if binary_outcomes and outcome not in (0.0, 1.0):
            raise _bad(name, line, "outcome", cells[col["outcome"]], "0 or 1 (this model learns binary outcomes)")
        if response_model == "choice":
            response = _parse_index(cells[col["response"]], name, line, "response", allow_missing=True)
        else:
            response = _parse_number(cells[col["response"]], name, line, "response", allow_missing=True)
        if has_cue:
            cue = _parse_index(cells[col["cue"]], name, line, "cue", allow_missing=False)
        elif response_model == "choice":
            if math.isnan(response):
                raise _bad(name, line, "response", cells[col["response"]],
                           "a chosen option index (without a 'cue' column the choice says whose outcome this is)")
            cue = response
        else:
            cue = 0.0
        per_subject.setdefault(subject, []).append((outcome, response, cue))
        first_row.setdefault(subject, line)
    if n_data_rows == 0:
        raise _bad(name, 2, None, "no data rows", "at least one trial per subject after the header")

    subjects = tuple(per_subject)
    for s in subjects:
        trials = per_subject[s]
        if not any(math.isfinite(r) for _, r, _ in trials):
            raise _bad(name, first_row[s], "response", f"no responses for subject {s!r}", "at least one recorded response per subject")
    n_options = int(max(max(c for _, _, c in per_subject[s]) for s in subjects)) + 1
    if response_model == "choice":
        n_options = max(n_options, int(max(np.nanmax([r for _, r, _ in per_subject[s]]) for s in subjects)) + 1)
        if n_options < 2:
            raise _bad(name, 1, "response", "a single option", "choices among at least two options (0 and 1)")
    n_max = max(len(per_subject[s]) for s in subjects)
    outcomes = np.full((len(subjects), n_max, n_options), np.nan)
    responses = np.full((len(subjects), n_max), np.nan)
    cues = np.zeros((len(subjects), n_max), dtype=np.int32)
    n_trials = np.zeros(len(subjects), dtype=np.int32)
    for i, s in enumerate(subjects):
        trials = per_subject[s]
        n_trials[i] = len(trials)
        for t, (o, r, c) in enumerate(trials):
            outcomes[i, t, int(c)] = o
            responses[i, t] = r
            cues[i, t] = int(c)
    return Dataset(subjects, outcomes, responses, cues, n_trials, response_model)


def to_csv_text(subjects, outcomes, responses, cues=None) -> str:
    """CSV text in the format above from per-subject lists of per-trial values."""
    lines = ["subject,trial,outcome,response" + (",cue" if cues is not None else "")]
    for i, subject in enumerate(subjects):
        for t in range(len(outcomes[i])):
            r = responses[i][t]
            r_text = "" if r is None or (isinstance(r, float) and math.isnan(r)) else _fmt(r)
            row = f"{subject},{t + 1},{_fmt(outcomes[i][t])},{r_text}"
            if cues is not None:
                row += f",{int(cues[i][t])}"
            lines.append(row)
    return "\n".join(lines) + "\n"


def _fmt(x) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:.6g}"


def example_csv_path() -> Path:
    """Path of the bundled example dataset (continuous predictions, 6 subjects)."""
    return Path(__file__).with_name("data") / "example_predictions.csv"

"""Run directories: atomic writes, metrics, checkpoints.

Every file plastix writes goes through :func:`write_text` / :func:`write_json` (write to a
temporary file in the same folder, then ``os.replace``), so an interrupted run never leaves a
half-written result.  Checkpoints are ``.npz`` files of flattened pytrees plus a JSON header,
readable without plastix.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ConfigError


def timestamp() -> str:
    return _dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def file_stem(name: str) -> str:
    """A file-name-safe form of a label such as ``examples/my_rule.py:MyRule`` (→ ``examples_my_rule.py_MyRule``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "unnamed"


def check_writable(path: str | os.PathLike, field: str = "--out") -> Path:
    """Check that ``path`` can be created (or is an existing writable folder), without creating it."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError.bad_value(field, str(path), "a folder (this path is a file)")
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError.bad_value(field, str(path), "a folder plastix can write to")
    return path


def make_run_dir(out: str | os.PathLike | None, name: str, field: str = "--out") -> Path:
    """Create and return the run folder (default ``runs/<timestamp>-<name>``)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name)  # e.g. "neurogym:GoNogo-v0" -> "neurogym-GoNogo-v0"
    path = check_writable(out if out is not None else Path("runs") / f"{timestamp()}-{safe}", field)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError.bad_value(field, str(path), f"a folder plastix can write to ({exc.strerror})") from None
    return path


def _json_default(obj: Any):
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if hasattr(obj, "__array__"):
        return np.asarray(obj).tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def to_jsonable(obj: Any) -> Any:
    """Round-trip through JSON so that numpy / jax scalars become Python numbers; NaN/inf become None."""

    def clean(x):
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {str(k): clean(v) for k, v in x.items()}
        if isinstance(x, list):
            return [clean(v) for v in x]
        return x

    return clean(json.loads(json.dumps(obj, default=_json_default)))


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` atomically (temporary file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` atomically (temporary file + rename); for files copied from another machine."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    return write_text(path, json.dumps(to_jsonable(obj), indent=2, allow_nan=False) + "\n")


def write_jsonl(path: str | os.PathLike, rows: list[dict]) -> Path:
    """Write a whole JSON-lines file atomically."""
    return write_text(path, "".join(json.dumps(to_jsonable(r), allow_nan=False) + "\n" for r in rows))


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def save_figure(fig, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Save a matplotlib figure atomically as PNG and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".png")
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        plt.close(fig)
    return path


def save_arrays(path: str | os.PathLike, arrays: dict) -> Path:
    """Save named arrays as one ``.npz`` atomically (readable with plain ``numpy.load``)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".npz")
    os.close(fd)
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, **{k: np.asarray(v) for k, v in arrays.items()})
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_pytree(path: str | os.PathLike, tree: Any, meta: dict | None = None) -> Path:
    """Save a pytree of arrays as ``.npz`` (keys are the tree paths) with a JSON ``__meta__`` entry."""
    import jax

    path = Path(path)
    leaves, treedef = jax.tree_util.tree_flatten_with_path(tree)
    arrays = {jax.tree_util.keystr(p): np.asarray(leaf) for p, leaf in leaves}
    arrays["__meta__"] = np.asarray(json.dumps(to_jsonable(meta or {})))
    return save_arrays(path, arrays)


def load_pytree(path: str | os.PathLike, like: Any) -> tuple[Any, dict]:
    """Load a pytree saved by :func:`save_pytree` into the structure of ``like``."""
    import jax

    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["__meta__"]))
        leaves, treedef = jax.tree_util.tree_flatten_with_path(like)
        new = [np.asarray(data[jax.tree_util.keystr(p)]).astype(np.asarray(leaf).dtype) for p, leaf in leaves]
    return jax.tree_util.tree_unflatten(treedef, new), meta

"""MkDocs hook: the site's navigation and its generated pages, built from what is on disk.

Why a hook: several people add pages (docs/<area>.md, docs/reproductions/*.md,
docs/benchmarks/*.md, docs/rules/*.md, docs/tasks/*.md) and modules; the navigation picks every
page up in a fixed order without anyone editing mkdocs.yml, and ``mkdocs build --strict`` keeps
failing on broken links.

Generated pages (only where no hand-written page of the same path exists):

* ``api/<module>.md`` — the API reference of every top-level module and subpackage of
  ``src/plastix``, rendered from the docstrings by mkdocstrings-python;
* ``tasks/<name>.md`` — one page per registered task: its module docstring (paper, timing,
  mask) and a runnable example;
* ``reproductions/index.md`` — every reproduction in the registry with its description and
  claims (read from the source with ``ast``; nothing is imported).

Everything is read statically (``ast``), so building the site imports none of plastix.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "plastix"

# Top-level pages in this order; any other top-level page goes under "Areas".
TOP = ["index.md", "getting-started.md", "choosing-a-rule.md"]
GUIDES = ["rule-protocol.md", "writing-a-rule.md", "training.md", "sweeps.md", "reports.md", "gpu.md"]
TASK_EXTRA = ["neurogym.md"]  # top-level pages shown in the Tasks section
RULE_ORDER = ["bptt", "rtrl", "rflo"]


# ------------------------------------------------------------------------------------------
# Static reading of the package
# ------------------------------------------------------------------------------------------
def _module_doc(path: Path) -> str:
    try:
        return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    except (SyntaxError, OSError):
        return ""


def _literal(path: Path, name: str):
    """The value of a module-level ``name = <literal>`` (or ``name: T = <literal>``), else None."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, OSError):
        return None
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == name for t in targets) and node.value is not None:
            try:
                return ast.literal_eval(node.value)
            except ValueError:
                return None
    return None


def api_modules() -> dict[str, list[str]]:
    """Page name -> dotted modules shown on it: one page per top-level module or subpackage."""
    pages: dict[str, list[str]] = {"plastix": ["plastix"]}
    for path in sorted(PACKAGE.iterdir()):
        if path.name.startswith(("_", ".")):
            continue
        if path.suffix == ".py":
            pages[f"plastix.{path.stem}"] = [f"plastix.{path.stem}"]
        elif path.is_dir() and (path / "__init__.py").exists():  # (a folder without it is not yet a package)
            mods = [f"plastix.{path.name}"]
            mods += [f"plastix.{path.name}.{p.stem}" for p in sorted(path.glob("*.py")) if not p.name.startswith("_")]
            pages[f"plastix.{path.name}"] = mods
    return pages


def api_page(page: str, modules: list[str]) -> str:
    lines = [f"# `{page}`\n", "Generated from the docstrings of the source.\n"]
    for module in modules:
        if module != page:
            lines.append(f"## `{module}`\n")
        lines.append(f"::: {module}\n    options:\n      show_root_heading: false\n      show_root_toc_entry: false\n")
    return "\n".join(lines)


def registered_tasks() -> dict[str, str]:
    """Task name -> module file stem, from ``TASKS`` in tasks/__init__.py (read with ast)."""
    init = PACKAGE / "tasks" / "__init__.py"
    tree = ast.parse(init.read_text(encoding="utf-8"))
    class_module = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            for alias in node.names:
                class_module[alias.asname or alias.name] = node.module
    tasks = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "TASKS" for t in node.targets):
            for key, value in zip(node.value.keys, node.value.values):
                if isinstance(key, ast.Constant) and isinstance(value, ast.Name) and value.id in class_module:
                    tasks[key.value] = class_module[value.id]
    return tasks


def task_page(name: str, module: str) -> str:
    doc = _module_doc(PACKAGE / "tasks" / f"{module}.py")
    title = doc.splitlines()[0].rstrip(".") if doc else name
    return f"""# `{name}` — {title}

Generated from `plastix/tasks/{module}.py`; `plastix compare --task {name}` trains on it.

::: plastix.tasks.{module}
    options:
      show_root_heading: false
      show_root_toc_entry: false
      members: false

## Example

```python
import jax, plastix as px

task = px.tasks.get("{name}")
trial = task.sample(jax.random.key(0), batch_size=4)
print(task.n_in, task.n_out, task.n_steps)
print(trial.inputs.shape, trial.targets.shape, trial.mask.shape)   # (T, 4, ·)
```
"""


def reproductions_index(docs_dir: Path) -> str:
    experiments = PACKAGE / "experiments"
    registry = _literal(experiments / "__init__.py", "REGISTRY") or {}
    lines = [
        "# Reproductions\n",
        "`plastix reproduce NAME [--quick]` reruns a paper's experiments and writes `report.md`, the figures "
        "and `claims.json`: each claim of the paper with the value measured, the threshold and whether it "
        "holds — computed from the run, never asserted.  `plastix reproduce --list` lists them.\n",
        "| name | what is reproduced | claims | page |",
        "|---|---|---|---|",
    ]
    for name, module in registry.items():
        path = experiments / f"{module}.py"
        if not path.exists():
            continue
        description = _literal(path, "DESCRIPTION") or ""
        claims = _literal(path, "CLAIMS") or []
        page = f"[{name}]({name}.md)" if (docs_dir / "reproductions" / f"{name}.md").exists() else "—"
        lines.append(f"| `{name}` | {description} | {len(claims)} | {page} |")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------
# Navigation
# ------------------------------------------------------------------------------------------
def _rule_key(uri: str):
    stem = Path(uri).stem
    return (RULE_ORDER.index(stem) if stem in RULE_ORDER else len(RULE_ORDER), stem)


def build_nav(uris: list[str]) -> list:
    """The navigation for the given page paths (relative to docs/)."""
    uris = sorted(u for u in uris if u.endswith(".md"))
    present = set(uris)
    under = lambda folder: [u for u in uris if u.startswith(folder + "/") and u.count("/") == 1]

    def section(folder: str, extra_first=(), key=None) -> list:
        pages = under(folder)
        index = [u for u in pages if u == f"{folder}/index.md"]
        rest = sorted((u for u in pages if u not in index), key=key)
        return [*index, *[u for u in extra_first if u in present], *rest]

    nav: list = [u for u in TOP if u in present]
    nav.append({"Rules": section("rules", key=_rule_key)})
    nav.append({"Tasks": section("tasks", extra_first=TASK_EXTRA)})
    nav += [u for u in GUIDES if u in present]
    placed = set(TOP) | set(GUIDES) | set(TASK_EXTRA) | {"benchmarks.md"}
    areas = [u for u in uris if "/" not in u and u not in placed]
    if areas:
        nav.append({"Areas": areas})
    if under("reproductions"):
        nav.append({"Reproductions": section("reproductions")})
    benchmarks = [u for u in ["benchmarks.md"] if u in present] + section("benchmarks")
    if benchmarks:
        nav.append({"Benchmarks": benchmarks})
    nav.append({"API reference": section("api")})
    deeper = [u for u in uris if u.count("/") > 1]  # pages in sub-sub-folders: listed, not lost
    if deeper:
        nav.append({"More": deeper})
    return [entry for entry in nav if not (isinstance(entry, dict) and not next(iter(entry.values())))]


# ------------------------------------------------------------------------------------------
# MkDocs events
# ------------------------------------------------------------------------------------------
def on_files(files, config):
    from mkdocs.structure.files import File

    docs_dir = Path(config["docs_dir"])

    def add(uri: str, content: str) -> None:
        if files.get_file_from_path(uri) is None:
            files.append(File.generated(config, uri, content=content))

    for page, modules in api_modules().items():
        add(f"api/{page}.md", api_page(page, modules))
    add("api/index.md", "# API reference\n\nGenerated from the docstrings of `src/plastix`, one page per module or subpackage.\n\n"
        + "\n".join(f"- [`{p}`]({p}.md)" for p in api_modules()) + "\n")
    for name, module in registered_tasks().items():
        add(f"tasks/{name}.md", task_page(name, module))
    add("reproductions/index.md", reproductions_index(docs_dir))
    config["nav"] = build_nav([f.src_uri for f in files if f.is_documentation_page()])
    return files

"""The documentation: every ```python example in docs/**/*.md runs, and the site builds strictly.

Each page's ```python blocks run in order in one namespace, in a temporary working folder (so
examples that write run folders leave nothing behind).  A page whose example needs an optional
extra that is not installed (ray, neurogym) is skipped with that reason; any other error fails.
Blocks that must not run are written as ```text, ```bash, ```toml or ```pycon.

The generated pages of the site (one per registered task, docs/_hooks/site.py) are checked the
same way, and ``mkdocs build --strict`` must succeed (skipped, with the reason, when MkDocs is
not installed: pip install -e ".[docs]").
"""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
OPTIONAL = {"ray": "ray", "neurogym": "neurogym", "gymnasium": "neurogym"}
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)

PAGES = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md") if "_hooks" not in p.parts)


def python_blocks(text: str) -> list[str]:
    return [m.group(1) for m in FENCE.finditer(text)]


def run_blocks(blocks: list[str], where: str, tmp_path: Path, monkeypatch) -> None:
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": f"docs:{where}"}
    for number, block in enumerate(blocks, 1):
        try:
            exec(compile(block, f"{where} (python block {number})", "exec"), namespace)
        except ModuleNotFoundError as exc:
            top = (exc.name or "").split(".")[0]
            if top in OPTIONAL:
                pytest.skip(f"{where} needs the optional extra plastix[{OPTIONAL[top]}] ({top} is not installed)")
            raise


def test_the_fence_pattern_finds_python_blocks_only():
    text = "a\n```python\nx = 1\n```\n```bash\nrm -rf /\n```\n```python\ny = x + 1\n```\n"
    assert python_blocks(text) == ["x = 1\n", "y = x + 1\n"]


@pytest.mark.slow  # the examples train small networks: minutes in all, beyond the default CI budget
@pytest.mark.parametrize("page", PAGES)
def test_python_examples_run(page, tmp_path, monkeypatch, capsys):
    blocks = python_blocks((DOCS / page).read_text(encoding="utf-8"))
    if not blocks:
        pytest.skip(f"{page} has no python examples")
    run_blocks(blocks, page, tmp_path, monkeypatch)


def load_hook():
    spec = importlib.util.spec_from_file_location("docs_site_hook", DOCS / "_hooks" / "site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_generated_task_pages_run_and_cover_every_task(tmp_path, monkeypatch, capsys):
    import plastix as px

    hook = load_hook()
    tasks = hook.registered_tasks()
    assert set(tasks) == set(px.tasks.TASKS)  # read statically, the same registry
    for name, module in tasks.items():
        if (DOCS / "tasks" / f"{name}.md").exists():
            continue  # a hand-written page replaces the generated one (its examples run above)
        blocks = python_blocks(hook.task_page(name, module))
        assert blocks, name
        run_blocks(blocks, f"tasks/{name}.md (generated)", tmp_path, monkeypatch)


def test_navigation_picks_up_every_page():
    hook = load_hook()
    pages = PAGES + ["reproductions/new-paper.md", "benchmarks/new-area.md", "new-area.md", "rules/new-rule.md",
                     "tasks/new-task.md", "guides/deeper/page.md"]
    nav = hook.build_nav(pages)

    def flatten(entries):
        for entry in entries:
            if isinstance(entry, dict):
                for value in entry.values():
                    yield from flatten(value)
            else:
                yield entry

    listed = list(flatten(nav))
    assert sorted(listed) == sorted(set(pages)) and len(listed) == len(set(listed))
    assert listed[0] == "index.md"
    sections = {next(iter(e)): next(iter(e.values())) for e in nav if isinstance(e, dict)}
    assert sections["Rules"][:3] == ["rules/bptt.md", "rules/rtrl.md", "rules/rflo.md"]
    assert "reproductions/new-paper.md" in sections["Reproductions"]
    assert "benchmarks/new-area.md" in sections["Benchmarks"] and "new-area.md" in sections["Areas"]


def test_mkdocs_build_strict(tmp_path):
    missing = [m for m in ("mkdocs", "material", "mkdocstrings_handlers.python") if importlib.util.find_spec(m.split(".")[0]) is None]
    if missing:
        pytest.skip(f"MkDocs is not installed ({', '.join(missing)}): pip install -e '.[docs]'")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    problems = [l for l in done.stderr.splitlines() if l.startswith(("WARNING", "ERROR"))]
    assert done.returncode == 0, "\n".join(problems) or done.stderr[-3000:]
    site = tmp_path / "site"
    for page in ("index.html", "sweeps/index.html", "neurogym/index.html", "api/plastix.sweep/index.html",
                 "tasks/periodic/index.html", "reproductions/index.html"):
        assert (site / page).exists(), page
    assert "run_sweep" in (site / "api" / "plastix.sweep" / "index.html").read_text()

"""The import rules docs/architecture.md states, checked on the source tree."""

from __future__ import annotations

import ast
from pathlib import Path

from support import REPO

SRC = REPO / "src" / "trkres"
#: Modules of a domain that may reach the report, figures and the study runner.
DOORS = {"section", "cfdna_section", "run", "api", "options", "__init__"}
PLOTTING = ("matplotlib", "plotly", "trkres.pl", "trkres.report")


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Modules imported at module level or in functions, outside ``if TYPE_CHECKING``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


MODULES = {_module(p): _imports(p) for p in sorted(SRC.rglob("*.py"))}


def _hits(imports: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(i for i in imports if any(i == p or i.startswith(p + ".") for p in prefixes))


def test_nothing_imports_the_cli() -> None:
    outside = [m for m in MODULES if not m.startswith(("trkres.cli", "trkres.__main__"))]
    bad = {m: _hits(MODULES[m], ("trkres.cli",)) for m in outside}
    assert not {m: h for m, h in bad.items() if h}


def test_only_the_cli_study_and_app_reach_the_runner() -> None:
    bad = {
        m: _hits(i, ("trkres.study.runner",))
        for m, i in MODULES.items()
        if not m.startswith(("trkres.cli", "trkres.study", "trkres.app"))
    }
    assert not {m: h for m, h in bad.items() if h}


def test_only_the_cli_imports_the_app() -> None:
    """The web app is a door, like the CLI: no analysis depends on it."""
    outside = [m for m in MODULES if not m.startswith(("trkres.cli", "trkres.app"))]
    bad = {m: _hits(MODULES[m], ("trkres.app",)) for m in outside}
    assert not {m: h for m, h in bad.items() if h}


def test_compute_and_reader_modules_never_draw() -> None:
    """Readers and compute modules of a domain import no plotting library, no report."""
    bad = {}
    for module, imports in MODULES.items():
        if not module.startswith(("trkres.assays.", "trkres.genomics.", "trkres.models.")):
            continue
        if module.rsplit(".", 1)[-1] in DOORS or module.count(".") < 2:
            continue
        hits = _hits(imports, PLOTTING)
        if hits:
            bad[module] = hits
    assert not bad


def test_figures_never_import_sections_or_the_study_runner() -> None:
    """Figures may import a domain's result types, never a report section or the runner."""
    bad = {
        m: [i for i in imports if i.endswith(".section") or ".section." in i or "study.runner" in i]
        for m, imports in MODULES.items()
        if m.startswith("trkres.pl")
    }
    assert not {m: h for m, h in bad.items() if h}


def test_public_namespaces_import_no_plotting_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys, trkres as tr\n"
        "for name in ['genomics', 'cfdna', 'doseresponse', 'synergy', 'ddpcr', 'plates',"
        " 'study', 'pl', 'models', 'units', 'errors']:\n"
        "    getattr(tr, name)\n"
        "loaded = [m for m in ('matplotlib', 'plotly') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cli_start_up_imports_no_analysis_stack() -> None:
    """``trkres --help`` stays fast (issue 13: < 0.5 s): the CLI's own modules load no
    numerics, no pydantic/YAML and not the study registry; commands import them when run."""
    import subprocess
    import sys

    code = (
        "import sys, trkres.cli\n"
        "heavy = ('numpy', 'pandas', 'pydantic', 'yaml', 'trkres.study.registry',"
        " 'importlib.metadata')\n"
        "loaded = [m for m in heavy if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

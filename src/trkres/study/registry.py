"""The analysis registry: analyses declare the input kinds they need.

An analysis module registers itself on import with :func:`register`. Modules
are found through the ``trkres.analyses`` entry-point group (see
``pyproject.toml``), so a new analysis — in trkres or in another package —
plugs in without touching the runner.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from trkres.errors import TrkresError
from trkres.progress import ProgressCallback as ProgressCallback
from trkres.progress import no_progress as no_progress
from trkres.study.manifest import InputKind

if TYPE_CHECKING:
    from trkres.knowledge.store import KnowledgeBase
    from trkres.report.model import Section
    from trkres.study.manifest import Study


@dataclass
class AnalysisContext:
    """Everything an analysis may use: the study, knowledge, its options."""

    study: Study
    knowledge: KnowledgeBase
    options: BaseModel | None
    progress: ProgressCallback = no_progress
    #: Sections produced by analyses that ran earlier (by name).
    previous: dict[str, Section] = field(default_factory=dict)

    def paths(self, kind: InputKind) -> list[Path]:
        return [self.study.path_of(i) for i in self.study.inputs_of(kind)]


AnalysisFunction = Callable[[AnalysisContext], "Section"]


@dataclass(frozen=True)
class Analysis:
    """A registered analysis."""

    name: str
    title: str
    function: AnalysisFunction
    #: Runs only when the study has every one of these kinds.
    requires: frozenset[InputKind] = frozenset()
    #: Runs when the study has at least one of these kinds (if non-empty).
    any_of: frozenset[InputKind] = frozenset()
    options_model: type[BaseModel] | None = None
    #: Lower runs first; the knowledge section runs last (1000).
    order: int = 100
    #: Runs when study.yaml gives it options (for analyses that read no input file,
    #: such as the models); otherwise never.
    on_options: bool = False

    def applies_to(
        self, kinds: frozenset[InputKind], options: frozenset[str] = frozenset()
    ) -> bool:
        if self.on_options:
            return self.name in options
        return self.requires <= kinds and (not self.any_of or bool(self.any_of & kinds))


_REGISTRY: dict[str, Analysis] = {}


def register(
    name: str,
    title: str,
    *,
    requires: frozenset[InputKind] | set[InputKind] = frozenset(),
    any_of: frozenset[InputKind] | set[InputKind] = frozenset(),
    options: type[BaseModel] | None = None,
    order: int = 100,
    on_options: bool = False,
) -> Callable[[AnalysisFunction], AnalysisFunction]:
    """Decorator registering ``function`` as the analysis ``name``."""

    def wrap(function: AnalysisFunction) -> AnalysisFunction:
        existing = _REGISTRY.get(name)
        if existing is not None and existing.function is not function:
            qual = f"{function.__module__}.{function.__qualname__}"
            if f"{existing.function.__module__}.{existing.function.__qualname__}" != qual:
                raise TrkresError(f"two analyses are registered as '{name}'")
        _REGISTRY[name] = Analysis(
            name=name,
            title=title,
            function=function,
            requires=frozenset(requires),
            any_of=frozenset(any_of),
            options_model=options,
            order=order,
            on_options=on_options,
        )
        return function

    return wrap


_loaded = False


_loading = threading.Lock()


def load_plugins() -> None:
    """Import every module named in the ``trkres.analyses`` entry-point group (once; a
    second thread waits for the first instead of seeing half-registered analyses)."""
    global _loaded
    if _loaded:
        return
    with _loading:
        if not _loaded:
            _import_plugins()
            _loaded = True


def _import_plugins() -> None:
    for ep in entry_points(group="trkres.analyses"):
        try:
            importlib.import_module(ep.value.split(":")[0])
        except Exception as exc:  # a broken plug-in must not hide the others' errors
            raise TrkresError(
                f"analysis plug-in '{ep.name}' ({ep.value}) failed to import: {exc}"
            ) from exc


def analyses() -> list[Analysis]:
    """Every registered analysis, in run order."""
    load_plugins()
    return sorted(_REGISTRY.values(), key=lambda a: (a.order, a.name))


def options_schema() -> dict[str, Any]:
    """Names of analyses that take options → their JSON schema (for docs and help)."""
    return {a.name: a.options_model.model_json_schema() for a in analyses() if a.options_model}

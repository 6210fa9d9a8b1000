"""Run every analysis a study's inputs allow and write the report folder.

Output layout (all written atomically, see :mod:`trkres.outputs`)::

    OUT/index.html        one self-contained interactive report
    OUT/tables/*.tsv      every result table
    OUT/figures/*.svg|png every figure
    OUT/run.json          version, inputs with sha256, parameters, timings
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ValidationError

from trkres import __version__
from trkres.errors import ManifestError, TrkresError
from trkres.knowledge.loader import load_knowledge
from trkres.knowledge.store import KnowledgeBase
from trkres.outputs import atomic_directory, atomic_write_text, check_output_folder
from trkres.pl.style import close
from trkres.report.files import write_section_files
from trkres.report.html import ReportMeta, render_report
from trkres.report.model import Section
from trkres.study.manifest import InputKind, Study, load_study
from trkres.study.registry import (
    Analysis,
    AnalysisContext,
    ProgressCallback,
    analyses,
    no_progress,
)
from trkres.yamlio import validation_error


@dataclass(frozen=True)
class RunResult:
    """What :func:`run_study` produced."""

    out_dir: Path
    report: Path
    sections: list[Section]
    info: dict[str, Any]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_inputs(study: Study) -> pd.DataFrame:
    """One row per input: id, kind, format, path, provenance, source, size, sha256."""
    rows = []
    for item in study.manifest.inputs:
        path = study.path_of(item)
        rows.append(
            {
                "input": item.name,
                "kind": item.kind.value,
                "format": item.resolved_format(),
                "path": item.path,
                "layout": item.layout or "",
                "provenance": item.provenance,
                "source": item.source or "",
                "bytes": path.stat().st_size,
                "sha256": sha256_of(path),
            }
        )
    return pd.DataFrame(rows)


def select_analyses(study: Study, only: Sequence[str] | None = None) -> list[Analysis]:
    """The registered analyses whose input needs the study meets."""
    chosen = [a for a in analyses() if a.applies_to(study.kinds)]
    if only:
        known = {a.name for a in analyses()}
        for name in only:
            if name not in known:
                raise TrkresError(
                    f"unknown analysis '{name}'",
                    expected=f"one of: {', '.join(sorted(known))}",
                    found=name,
                )
        chosen = [a for a in chosen if a.name in only or a.name in {"inputs", "knowledge"}]
    return chosen


def _options_for(study: Study, registered: list[Analysis]) -> dict[str, BaseModel | None]:
    by_name = {a.name: a for a in registered}
    for key in study.manifest.options:
        analysis = by_name.get(key)
        if analysis is None or analysis.options_model is None:
            takes = sorted(a.name for a in registered if a.options_model)
            raise ManifestError(
                f"options given for '{key}', which takes none",
                location=study.locate_option(key),
                expected=f"options for one of: {', '.join(takes) or '(none yet)'}",
                found=key,
            )
    parsed: dict[str, BaseModel | None] = {}
    for analysis in registered:
        if analysis.options_model is None:
            parsed[analysis.name] = None
            continue
        raw = study.manifest.options.get(analysis.name, {})
        try:
            parsed[analysis.name] = analysis.options_model.model_validate(raw)
        except ValidationError as exc:
            doc = study.document
            err = validation_error(exc, doc, ManifestError, f"options for '{analysis.name}'")
            first = exc.errors()[0]["loc"]
            err.location = doc.locate(("options", analysis.name, *first))
            raise err from None
    return parsed


def study_knowledge(study: Study, extra: Sequence[Path] = ()) -> KnowledgeBase:
    """Shipped knowledge + the study's own knowledge inputs + ``extra`` files."""
    files = [study.path_of(i) for i in study.inputs_of(InputKind.knowledge)]
    return load_knowledge([*files, *extra])


def _run_analyses(
    study: Study,
    knowledge: KnowledgeBase,
    registered: Sequence[Analysis],
    options: dict[str, BaseModel | None],
    progress: ProgressCallback,
) -> tuple[list[Section], dict[str, float]]:
    """Run ``registered`` in order; their sections and timings (seconds)."""
    sections: list[Section] = []
    timings: dict[str, float] = {}
    previous: dict[str, Section] = {}
    total = len(registered)
    for i, analysis in enumerate(registered):
        progress(i, total, analysis.title)
        ctx = AnalysisContext(
            study=study,
            knowledge=knowledge,
            options=options.get(analysis.name),
            progress=progress,
            previous=previous,
        )
        t0 = time.perf_counter()
        section = analysis.function(ctx)
        timings[analysis.name] = round(time.perf_counter() - t0, 4)
        sections.append(section)
        previous[analysis.name] = section
    progress(total, total, "done")
    _check_unique_outputs(sections)
    return sections, timings


def check_study(
    study_path: Path,
    *,
    knowledge_files: Sequence[Path] = (),
    only: Sequence[str] | None = None,
    progress: ProgressCallback = no_progress,
) -> tuple[Study, list[Section]]:
    """Everything :func:`run_study` does except writing: the study, knowledge and
    options are validated, every input is read and every analysis run, so a study
    that passes will not fail in ``run_study`` on its inputs."""
    study = load_study(study_path)
    knowledge = study_knowledge(study, knowledge_files)
    registered = select_analyses(study, only)
    options = _options_for(study, [a for a in analyses()])
    sections, _ = _run_analyses(study, knowledge, registered, options, progress)
    for section in sections:
        for fig in section.figures:
            close(fig.static)
    return study, sections


def run_study(
    study_path: Path,
    out_dir: Path,
    *,
    knowledge_files: Sequence[Path] = (),
    only: Sequence[str] | None = None,
    progress: ProgressCallback = no_progress,
    overwrite: bool = True,
) -> RunResult:
    """Validate the study, run its analyses and write ``out_dir`` atomically.

    Everything is validated before anything is written: a bad manifest,
    missing file or bad option raises a :class:`~trkres.errors.TrkresError`
    and leaves ``out_dir`` untouched. ``out_dir`` must be new, empty or an
    earlier trkres output, and may not equal or hold the study folder, an input
    or a knowledge file (checked before any analysis runs).
    """
    started = datetime.now(UTC)
    study = load_study(study_path)
    own_inputs = [
        study.folder,
        *(study.path_of(i) for i in study.manifest.inputs),
        *knowledge_files,
    ]
    check_output_folder(out_dir, inputs=own_inputs)
    knowledge = study_knowledge(study, knowledge_files)
    registered = select_analyses(study, only)
    options = _options_for(study, [a for a in analyses()])
    inputs = describe_inputs(study)
    sections, timings = _run_analyses(study, knowledge, registered, options, progress)
    progress(len(registered), len(registered), "writing report")
    info: dict[str, Any] = {
        "trkres_version": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "started_utc": started.isoformat(timespec="seconds"),
        "study": {"name": study.name, "folder": str(study.folder)},
        "inputs": inputs.to_dict(orient="records"),
        "knowledge": {
            "version": knowledge.version,
            "extra_files": [str(p) for p in knowledge.extra_files],
            "sha256": knowledge.checksums,
        },
        "parameters": {
            name: (opt.model_dump(mode="json") if opt is not None else None)
            for name, opt in options.items()
            if name in {a.name for a in registered}
        },
        "analyses": [a.name for a in registered],
        "timings_s": timings,
    }
    meta = ReportMeta(
        title=study.name,
        description=study.manifest.description or "",
        trkres_version=__version__,
        knowledge_version=knowledge.version,
        generated=started.strftime("%Y-%m-%d %H:%M UTC"),
    )
    with atomic_directory(out_dir, overwrite=overwrite, inputs=own_inputs) as tmp:
        for section in sections:
            write_section_files(tmp, section)
        atomic_write_text(tmp / "index.html", render_report(meta, sections))
        info["finished_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
        atomic_write_text(tmp / "run.json", json.dumps(info, indent=2, default=str) + "\n")
    for section in sections:
        for fig in section.figures:
            close(fig.static)
    out = out_dir.resolve()
    return RunResult(out_dir=out, report=out / "index.html", sections=sections, info=info)


def _check_unique_outputs(sections: list[Section]) -> None:
    seen: dict[str, str] = {}
    for section in sections:
        for name in [f"tables/{t.name}" for t in section.tables] + [
            f"figures/{f.name}" for f in section.figures
        ]:
            if name in seen:
                raise TrkresError(f"two analyses write {name}: '{seen[name]}' and '{section.name}'")
            seen[name] = section.name

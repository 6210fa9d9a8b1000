"""Run every analysis a study's inputs allow and write the report folder.

Output layout (all written atomically, see :mod:`trkres.outputs`)::

    OUT/index.html        one self-contained interactive report
    OUT/tables/*.tsv      every result table
    OUT/figures/*.svg|png every figure
    OUT/run.json          version, inputs with sha256, parameters, timings
"""

from __future__ import annotations

import json
import math
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
from trkres.errors import InputError, ManifestError, TrkresError
from trkres.knowledge.loader import load_knowledge
from trkres.knowledge.store import KnowledgeBase
from trkres.outputs import (
    atomic_directory,
    atomic_write_bytes,
    atomic_write_text,
    check_output_folder,
)
from trkres.report.files import write_section_files
from trkres.report.html import ReportMeta, render_report_bytes
from trkres.report.model import Section
from trkres.study.manifest import InputKind, Study, load_study, sha256_of
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
    """What :func:`run_study` produced: where it wrote and what."""

    out_dir: Path
    report: Path
    sections: list[Section]
    info: dict[str, Any]


@dataclass
class StudyResult:
    """A study computed in memory (:func:`run`); nothing is written until :meth:`write`.

    Attributes:
        study: the validated study (manifest, folder, inputs).
        sections: one report section per analysis that ran, in report order.
        info: provenance that goes to ``run.json`` (version, inputs with sha256,
            knowledge version, options used, timings in seconds).
    """

    study: Study
    sections: list[Section]
    info: dict[str, Any]
    meta: ReportMeta
    #: Paths the output folder may not be, hold or overwrite (the study and its inputs).
    protected: list[Path]

    def __repr__(self) -> str:
        names = ", ".join(s.name for s in self.sections)
        return (f"StudyResult({self.study.name!r}: {len(self.sections)} sections ({names}), "
                f"{sum(len(s.tables) for s in self.sections)} tables, "
                f"{sum(len(s.flags) for s in self.sections)} flags)")  # fmt: skip

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every result table by its name (``tables/<name>.tsv`` once written)."""
        return {t.name: t.frame for s in self.sections for t in s.tables}

    def section(self, name: str) -> Section:
        """The section of one analysis (e.g. ``"dose_response"``)."""
        for section in self.sections:
            if section.name == name:
                return section
        raise TrkresError(
            f"no section '{name}' in this result",
            expected="one of: " + ", ".join(s.name for s in self.sections),
            found=name,
        )

    def flags(self) -> pd.DataFrame:
        """Every flag of every section: section, level, message."""
        rows = [
            {"section": s.name, "level": f.level, "message": f.message}
            for s in self.sections
            for f in s.flags
        ]
        return pd.DataFrame(rows, columns=["section", "level", "message"])

    def write(
        self, out_dir: str | Path, *, overwrite: bool = True, figures: bool = True
    ) -> RunResult:
        """Write the report folder atomically: ``index.html``, ``tables/``, ``figures/``,
        ``run.json``. ``out_dir`` must be new, empty or an earlier trkres output, and may
        not be, hold or lie inside the study's inputs; with ``overwrite=False`` an earlier
        output is refused too. ``figures=False`` leaves out the SVG/PNG files of
        ``figures/`` (the report still shows every figure): about 0.3 s per figure saved."""
        if not isinstance(out_dir, (str, Path)):
            raise InputError("an output folder is a path", expected="str or pathlib.Path",
                             found=type(out_dir).__name__)  # fmt: skip
        out_dir = Path(out_dir)
        info = dict(self.info)
        with atomic_directory(out_dir, overwrite=overwrite, inputs=self.protected) as tmp:
            for section in self.sections:
                write_section_files(tmp, section, figures=figures)
            info["figure_files"] = figures
            atomic_write_bytes(tmp / "index.html", render_report_bytes(self.meta, self.sections))
            info["finished_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
            text = json.dumps(_json_safe(info), indent=2, default=str, allow_nan=False)
            atomic_write_text(tmp / "run.json", text + "\n")
        out = out_dir.resolve()
        return RunResult(out_dir=out, report=out / "index.html", sections=self.sections, info=info)

    def close(self) -> None:
        """Free the figures' memory (a result that is not written any more)."""
        for section in self.sections:
            for fig in section.figures:
                fig.close()


def _json_safe(value: Any) -> Any:
    """``value`` with non-finite floats as text (``"inf"``, ``"-inf"``, ``"nan"``): JSON has
    no such numbers, and ``json.dumps`` wrote ``Infinity`` (``amp_copies: .inf``), which
    strict readers (``JSON.parse``, jq) refuse: run.json was not JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


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
                "loading_control": item.loading_control or "",
                "rois": item.rois or "",
                # The other files an input reads are part of the run's provenance too (a
                # Sanger trace's control trace and reference were left out).
                "extra_sha256": "; ".join(
                    f"{name}:{sha256_of(study.folder / rel)}"
                    for name, rel in (
                        ("layout", item.layout),
                        ("loading_control", item.loading_control),
                        ("rois", item.rois),
                        ("control", item.control),
                        ("reference", item.reference),
                    )
                    if rel
                ),
                "provenance": item.provenance,
                "source": item.source or "",
                "bytes": path.stat().st_size,
                "sha256": sha256_of(path),
            }
        )
    return pd.DataFrame(rows)


def select_analyses(study: Study, only: Sequence[str] | None = None) -> list[Analysis]:
    """The registered analyses whose input needs the study meets."""
    given = frozenset(study.manifest.options)
    chosen = [a for a in analyses() if a.applies_to(study.kinds, given)]
    if only:
        known = {a.name for a in analyses()}
        for name in only:
            if name not in known:
                raise TrkresError(
                    f"unknown analysis '{name}'",
                    expected=f"one of: {', '.join(sorted(known))}",
                    found=name,
                )
        for a in analyses():
            if a.name in only and a.on_options and a.name not in given:
                raise TrkresError(
                    f"'{a.name}' runs only when study.yaml gives it options",
                    expected=f"options: {{{a.name}: {{...}}}} in study.yaml",
                    found="no options for it",
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
            err = validation_error(exc, doc, ManifestError, f"options for '{analysis.name}'",
                                   prefix=("options", analysis.name))  # fmt: skip
            raise err from None
    return parsed


def check_options(study: Study) -> None:
    """Validate ``study.yaml``'s options against every analysis' options model, as
    :func:`run` does first (errors at their line and column), without running anything."""
    _options_for(study, analyses())


def study_knowledge(study: Study, extra: Sequence[Path] = ()) -> KnowledgeBase:
    """Shipped knowledge + the study's own knowledge inputs + ``extra`` files."""
    files = [study.path_of(i) for i in study.inputs_of(InputKind.knowledge)]
    return load_knowledge([*files, *extra])


#: Steps of the overall progress per analysis: an analysis' own progress (its done/total)
#: moves the bar inside its share, so the bar never goes back.
_STEPS = 1000


def _within(progress: ProgressCallback, index: int, n: int, title: str) -> ProgressCallback:
    """The progress callback an analysis gets: its own fraction mapped into its share."""

    def report(done: int, total: int, label: str) -> None:
        share = min(max(done / total, 0.0), 1.0) if total > 0 else 0.0
        progress(index * _STEPS + int(share * (_STEPS - 1)), n * _STEPS, f"{title}: {label}")

    return report


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
        progress(i * _STEPS, total * _STEPS, analysis.title)
        ctx = AnalysisContext(
            study=study,
            knowledge=knowledge,
            options=options.get(analysis.name),
            progress=_within(progress, i, total, analysis.title),
            previous=previous,
        )
        t0 = time.perf_counter()
        section = analysis.function(ctx)
        timings[analysis.name] = round(time.perf_counter() - t0, 4)
        sections.append(section)
        previous[analysis.name] = section
    progress(total * _STEPS, total * _STEPS, "done")
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
            fig.close()
    return study, sections


def _knowledge_paths(value: object) -> list[Path]:
    """``knowledge_files`` as paths: one path (a string was read as one file per
    character: 'knowledge file not found: l'), a list of them, or None."""
    import os

    if value is None:
        return []
    items = [value] if isinstance(value, (str, os.PathLike)) else value
    if not isinstance(items, (list, tuple)) or not all(
        isinstance(p, (str, os.PathLike)) for p in items
    ):
        raise InputError("knowledge_files names knowledge YAML files",
                         expected="a path or a list of paths", found=repr(value)[:80])  # fmt: skip
    return [Path(p) for p in items]


def _protected(study: Study, knowledge_files: Sequence[Path]) -> list[Path]:
    return [study.folder, *(study.path_of(i) for i in study.manifest.inputs), *knowledge_files]


def run(
    study_path: str | Path,
    *,
    knowledge_files: Sequence[str | Path] = (),
    only: Sequence[str] | None = None,
    progress: ProgressCallback = no_progress,
    _out_dir: Path | None = None,
) -> StudyResult:
    """Validate a study folder (or its ``study.yaml``) and run every analysis its inputs
    allow, in memory. ``result.write(out)`` writes the report folder.

    Args:
        study_path: the study folder or its ``study.yaml``.
        knowledge_files: extra knowledge YAML files (beside the shipped knowledge).
        only: run only these analyses (plus ``inputs`` and ``knowledge``).
        progress: called as ``progress(done, total, label)``.

    Raises:
        TrkresError: a bad manifest, a missing or unreadable input, a bad option.
    """
    if not isinstance(study_path, (str, Path)):
        raise InputError(
            "a study is a folder path", expected="str or pathlib.Path",
            found=type(study_path).__name__,
        )  # fmt: skip
    if isinstance(only, str):
        only = [only]
    if only is not None and not (
        isinstance(only, (list, tuple)) and all(isinstance(n, str) for n in only)
    ):
        raise InputError("only names analyses", expected="an analysis name or a list of them",
                         found=repr(only)[:80])  # fmt: skip
    extra = _knowledge_paths(knowledge_files)
    started = datetime.now(UTC)
    study = load_study(Path(study_path))
    protected = _protected(study, extra)
    if _out_dir is not None:  # fail before the work when the output folder is refused
        check_output_folder(_out_dir, inputs=protected)
    knowledge = study_knowledge(study, extra)
    registered = select_analyses(study, only)
    options = _options_for(study, [a for a in analyses()])
    inputs = describe_inputs(study)
    sections, timings = _run_analyses(study, knowledge, registered, options, progress)
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
    return StudyResult(study=study, sections=sections, info=info, meta=meta, protected=protected)


def run_study(
    study_path: Path,
    out_dir: Path,
    *,
    knowledge_files: Sequence[Path] = (),
    only: Sequence[str] | None = None,
    progress: ProgressCallback = no_progress,
    overwrite: bool = True,
) -> RunResult:
    """:func:`run` then :meth:`StudyResult.write`: what ``trkres analyze`` does.

    Everything is validated before anything is written: a bad manifest,
    missing file or bad option raises a :class:`~trkres.errors.TrkresError`
    and leaves ``out_dir`` untouched. ``out_dir`` must be new, empty or an
    earlier trkres output, and may not equal or hold the study folder, an input
    or a knowledge file (checked before any analysis runs).
    """
    result = run(
        study_path, knowledge_files=knowledge_files, only=only, progress=progress,
        _out_dir=out_dir,
    )  # fmt: skip
    n = len(result.info["analyses"])
    progress(n, n, "writing report")
    try:
        return result.write(out_dir, overwrite=overwrite)
    finally:
        result.close()


def _check_unique_outputs(sections: list[Section]) -> None:
    seen: dict[str, str] = {}
    for section in sections:
        for name in [f"tables/{t.name}" for t in section.tables] + [
            f"figures/{f.name}" for f in section.figures
        ]:
            if name in seen:
                raise TrkresError(f"two analyses write {name}: '{seen[name]}' and '{section.name}'")
            seen[name] = section.name

"""Helpers the tests import (conftest.py holds fixtures only): paths and a study builder."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "ntrk_resistance"


def write_study(folder: Path, manifest: str, files: dict[str, str] | None = None) -> Path:
    """Create a study folder with ``study.yaml`` and the given files."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "study.yaml").write_text(manifest, encoding="utf-8")
    for name, text in (files or {}).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def genomics_study(folder: Path) -> Path:
    """A small study: the example's sequencing inputs only (seconds faster than the whole
    example, for tests of the command line rather than of the analyses)."""
    import shutil

    shutil.copytree(EXAMPLE / "genomics", folder / "genomics")
    return write_study(
        folder,
        "name: genomics only\ninputs:\n"
        "  - {id: mutations, kind: mutations, path: genomics/data_mutations.txt, format: maf}\n"
        "  - {id: fusions, kind: structural_variants, path: genomics/data_sv.txt}\n"
        "  - {id: samples, kind: clinical_samples, path: genomics/data_clinical_sample.txt}\n"
        "  - {id: treatments, kind: treatment_timeline,"
        " path: genomics/data_timeline_treatment.txt}\n",
    )

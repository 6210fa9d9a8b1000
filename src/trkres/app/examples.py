"""The bundled example study as a project of the app (``trkres serve --example``)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from trkres.app.service import Service
from trkres.examples import example_study_path


def zip_folder(folder: Path, target: Path) -> None:
    """A zip of a study folder: every file under it, with paths relative to it."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                zf.write(path, path.relative_to(folder).as_posix())


def add_example(service: Service) -> bool:
    """Import the bundled example study as a project, unless one of its name exists."""
    from trkres.study.manifest import load_study

    folder = example_study_path()
    name = load_study(folder).name
    if any(p["name"] == name for p in service.store.projects()):
        return False
    archive = service.store.temp_upload()
    try:
        zip_folder(folder, archive)
        pid = service.store.create_project(name)
        with archive.open("rb") as fh:
            service.import_study(pid, fh, "ntrk_resistance.zip")
    finally:
        archive.unlink(missing_ok=True)
    return True

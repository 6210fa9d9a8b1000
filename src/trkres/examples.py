"""Find the bundled example study (inside the wheel, or in a source checkout)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from trkres.errors import InputError

EXAMPLE_NAME = "ntrk_resistance"


def example_study_path(name: str = EXAMPLE_NAME) -> Path:
    """The folder of a bundled example study.

    A wheel carries it as ``trkres/_examples/NAME``; an editable install uses
    ``examples/NAME`` of the source checkout.
    """
    packaged = Path(str(resources.files("trkres"))) / "_examples" / name
    if (packaged / "study.yaml").is_file():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "examples" / name
    if (checkout / "study.yaml").is_file():
        return checkout
    raise InputError(
        f"bundled example study '{name}' not found",
        expected=f"{packaged} or {checkout}",
        found="neither",
        hint="reinstall trkres (pip install .) from a complete checkout",
    )

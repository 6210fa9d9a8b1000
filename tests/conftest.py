"""Shared fixtures: the bundled example, small studies, the ../shared data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import settings

from support import EXAMPLE, REPO

# Compiled kernels (numba, cache=True) compile on their first call in a fresh
# environment: a per-example deadline would fail that one example, not a slow path.
settings.register_profile("trkres", deadline=None)
settings.load_profile("trkres")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the repository; skip when a fresh clone lacks it."""
    path = REPO.parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip("../shared/data is not present (fresh clone): real-data test skipped")
    return path


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled example study."""
    dest = tmp_path / "study"
    shutil.copytree(EXAMPLE, dest)
    return dest

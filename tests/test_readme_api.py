"""The README's Python section runs as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from support import REPO


def _readme_block() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    marker = text.index("<!-- test: tests/test_readme_api.py runs this block -->")
    match = re.search(r"```python\n(.*?)```", text[marker:], re.S)
    assert match is not None
    return match.group(1)


def test_readme_python_section_runs(tmp_path: Path) -> None:
    code = _readme_block() + (
        "\nassert len(fits) == 2 and set(fits['status']) == {'ok'}"
        "\nassert bool(res['resistant'].iloc[0])"
        "\nassert len(wells.wells) > 0 and len(cfdna.measurements) > 0"
        "\nassert (tr.examples.example_study_path() / 'study.yaml').is_file()"
    )
    env = {**os.environ, "MPLBACKEND": "Agg"}
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=True, timeout=300)
    assert (tmp_path / "example-report" / "index.html").is_file()
    assert (tmp_path / "example-report" / "tables" / "dose_response_fits.tsv").is_file()

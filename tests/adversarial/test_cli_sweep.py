"""Adversarial sweep: every command that reads a file, fed hostile files.

Whatever the file holds, the answer is a result or a located input error
(exit 1), never an internal error (a traceback, exit 3), and an error message
never prints raw bytes or numpy reprs. The files are the kinds users and the
adversarial pass produced: empty, header only, binary, Latin-1, UTF-16, a real
and a fake Excel file, gzip (good and truncated), old-Mac CR line ends, a BOM,
NUL bytes, a 10-million-character line, ragged rows, infinite numbers.
"""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from trkres.cli import app
from trkres.errors import TrkresError

runner = CliRunner()

HEADER = "sample\tdrug\tdose\tresponse\n"


def _xlsx() -> bytes:
    buf = io.BytesIO()
    pd.DataFrame({"dose": [1, 2], "response": [90, 10]}).to_excel(buf, index=False)
    return buf.getvalue()


HOSTILE: dict[str, Callable[[], bytes]] = {
    "empty": lambda: b"",
    "header_only": lambda: HEADER.encode(),
    "binary": lambda: bytes(range(256)) * 40,
    "latin1": lambda: (HEADER + "caf\xe9\tx\t1\t2\n").encode("latin-1"),
    "utf16": lambda: (HEADER + "a\tb\t1\t2\n").encode("utf-16"),
    "xlsx_real": _xlsx,
    "xlsx_fake": lambda: b"PK\x03\x04" + b"\x00garbage" * 50,
    "gzip_truncated": lambda: gzip.compress((HEADER + "a\tb\t1\t2\n" * 50).encode())[:-20],
    "gzip_garbage": lambda: gzip.compress(bytes(range(256)) * 4),
    "cr_only": lambda: (HEADER + "a\tb\t1\t2\n" * 3).replace("\n", "\r").encode(),
    "nul": lambda: (HEADER + "a\x00b\tx\t1\t2\n").encode(),
    "long_line": lambda: b"x" * 10_000_000 + b"\n",
    "ragged": lambda: (HEADER + "a\tb\n" + "a\tb\t1\t2\t3\t4\n").encode(),
    "inf": lambda: (HEADER + "a\tb\tinf\t-inf\na\tb\t1e308\tnan\n").encode(),
}

#: Each command with where the hostile file goes ({f}) and its other arguments.
COMMANDS: dict[str, list[str]] = {
    "fit": ["fit", "{f}"],
    "resistance": ["resistance", "{f}", "--reference", "parental", "--by", "drug"],
    "escalation": ["escalation", "{f}", "--time", "week", "--by", "drug"],
    "gr": ["gr", "{f}"],
    "plate": ["plate", "{f}", "--format", "grid", "--map", "{map}"],
    "plate_map": ["plate", "{plate}", "--format", "grid", "--map", "{f}"],
    "synergy": ["synergy", "{f}", "--response", "viability"],
    "ddpcr": ["ddpcr", "{f}"],
    "cfdna": ["cfdna", "{f}"],
    "maf": ["classify", "--maf", "{f}"],
    "vcf": ["classify", "--vcf", "{f}"],
    "sv": ["classify", "--maf", "{maf}", "--sv", "{f}"],
    "cna": ["classify", "--maf", "{maf}", "--cna", "{f}"],
    "clinical": ["classify", "--maf", "{maf}", "--clinical", "{f}"],
    "timeline": ["classify", "--maf", "{maf}", "--timeline", "{f}"],
    "knowledge": ["knowledge", "validate", "{f}"],
}

SUFFIX = {"vcf": ".vcf", "knowledge": ".yaml", "plate_map": ".csv", "maf": ".maf"}

GOOD_MAF = (
    "Hugo_Symbol\tTumor_Sample_Barcode\tHGVSp_Short\tVariant_Classification\n"
    "NTRK1\tS1\tp.G595R\tMissense_Mutation\n"
)
GOOD_PLATE = (
    ",".join(["", *map(str, range(1, 13))])
    + "\n"
    + "".join(f"{r}," + ",".join(["1.0"] * 12) + "\n" for r in "ABCDEFGH")
)
GOOD_MAP = "well,role\nA1,vehicle\nA2,sample\n"


def invoke(command: str, payload: bytes, tmp: Path) -> tuple[int, str, BaseException | None]:
    suffix = SUFFIX.get(command, ".tsv")
    hostile = tmp / f"hostile{suffix}"
    hostile.write_bytes(payload)
    (tmp / "good.maf").write_text(GOOD_MAF)
    (tmp / "plate.csv").write_text(GOOD_PLATE)
    (tmp / "map.csv").write_text(GOOD_MAP)
    args = [
        a.format(f=hostile, maf=tmp / "good.maf", plate=tmp / "plate.csv", map=tmp / "map.csv")
        for a in COMMANDS[command]
    ]
    if args[0] != "knowledge":
        args += ["-o", str(tmp / "out")]
    result = runner.invoke(app, ["-q", *args], env={"COLUMNS": "200"})
    return result.exit_code, result.output, result.exception


def check_answer(code: int, output: str, exc: BaseException | None) -> None:
    if exc is not None and not isinstance(exc, SystemExit | TrkresError):
        raise AssertionError(f"internal error: {type(exc).__name__}: {exc}") from exc
    if isinstance(exc, TrkresError):
        text = str(exc)
        assert "np.float64" not in text and "np.int64" not in text, text
        assert not re.search(r"\\x[0-9a-f]{2}.*\\x[0-9a-f]{2}.*\\x[0-9a-f]{2}", text), text
        size = len(text)
        assert size < 5000, f"error message prints the input ({size} characters)"
    assert code in (0, 1, 2), (code, output[-2000:])


@pytest.mark.parametrize("kind", sorted(HOSTILE))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_hostile_file_gets_an_answer_not_a_traceback(
    command: str, kind: str, tmp_path: Path
) -> None:
    check_answer(*invoke(command, HOSTILE[kind](), tmp_path))


text_cells = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r"), max_size=12)
numbers = st.sampled_from(["0", "-1", "1e308", "inf", "-inf", "nan", "", "NA", "1,5", "1e-9"])


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    command=st.sampled_from(["fit", "resistance", "synergy", "gr", "cfdna", "ddpcr", "maf"]),
    header=st.lists(
        st.sampled_from(
            [
                "sample",
                "drug",
                "dose",
                "response",
                "cell_line",
                "day",
                "vaf",
                "well",
                "Hugo_Symbol",
                "Tumor_Sample_Barcode",
                "HGVSp_Short",
                "x",
                "",
            ]
        ),
        min_size=1,
        max_size=6,
    ),
    rows=st.lists(st.lists(st.one_of(text_cells, numbers), max_size=7), max_size=6),
)
def test_random_tables_get_an_answer_not_a_traceback(
    tmp_path_factory: pytest.TempPathFactory,
    command: str,
    header: list[str],
    rows: list[list[str]],
) -> None:
    text = "\t".join(header) + "\n" + "".join("\t".join(r) + "\n" for r in rows)
    check_answer(*invoke(command, text.encode(), tmp_path_factory.mktemp("sweep")))

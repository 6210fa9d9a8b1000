"""Adversarial: an output never deletes or overwrites what trkres did not write.

Every refusal is checked with sentinel files: the whole tree around the output
is fingerprinted before and after, and must not change.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support import EXAMPLE
from trkres.errors import OutputError
from trkres.outputs import MARKER, STAGING_LOCK, atomic_directory, write_tables
from trkres.runinputs import declared_inputs

TABLE = {"t": pd.DataFrame({"a": [1, 2]})}


def fingerprint(root: Path) -> dict[str, str]:
    """Every entry under ``root``: file contents' hash, link targets, folders."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[rel] = "link:" + str(path.readlink())
        elif path.is_file():
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            out[rel] = "dir"
    return out


def refused(target: Path, root: Path, **kwargs: object) -> None:
    before = fingerprint(root)
    with pytest.raises(OutputError):
        write_tables(target, TABLE, **kwargs)  # type: ignore[arg-type]
    assert fingerprint(root) == before


def test_user_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "notes.txt").write_text("precious")
    refused(tmp_path / "work", tmp_path)


def test_working_directory_and_its_parents_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    monkeypatch.chdir(inner)
    refused(Path(), tmp_path)
    refused(tmp_path / "a", tmp_path)


def test_folder_holding_an_input_is_refused_even_if_it_is_a_trkres_output(tmp_path: Path) -> None:
    write_tables(tmp_path / "out", TABLE)
    src = tmp_path / "out" / "t.tsv"
    refused(tmp_path / "out", tmp_path, inputs=[src])
    with declared_inputs([src]):
        refused(tmp_path / "out", tmp_path)
    refused(tmp_path / "out" / "t.tsv", tmp_path)  # a file is never replaced by a folder


def test_symlink_to_a_user_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "keep.txt").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    refused(tmp_path / "link", tmp_path)


def test_trkres_output_with_a_foreign_or_changed_file_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tables(out, TABLE)
    (out / "mine.txt").write_text("added by the user")
    refused(out, tmp_path)
    (out / "mine.txt").unlink()
    (out / "t.tsv").write_text("a\n1\n2\n3\n")  # edited by the user
    refused(out, tmp_path)


def test_marker_forged_without_listing_the_files_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / MARKER).write_text(json.dumps({"files": {}}))
    (out / "data.csv").write_text("1,2")
    refused(out, tmp_path)
    (out / MARKER).write_text("not json")
    refused(out, tmp_path)


def test_new_empty_and_own_outputs_are_written(tmp_path: Path) -> None:
    write_tables(tmp_path / "new" / "deeper", TABLE)
    (tmp_path / "empty").mkdir()
    write_tables(tmp_path / "empty", TABLE)
    write_tables(tmp_path / "empty", {"u": pd.DataFrame({"b": [3]})})  # replaces its own
    assert sorted(p.name for p in (tmp_path / "empty").iterdir()) == [MARKER, "u.tsv"]
    assert not list(tmp_path.glob(".*"))  # no staging left beside


def test_write_failure_leaves_previous_output_and_no_staging(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tables(out, TABLE)
    before = fingerprint(tmp_path)
    with pytest.raises(OutputError, match="No space left"), atomic_directory(out) as tmp:
        (tmp / "x.tsv").write_text("partial")
        raise OSError(28, "No space left on device", str(tmp / "x.tsv"))
    assert fingerprint(tmp_path) == before


def test_mount_point_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mnt").mkdir()
    real = os.path.ismount
    monkeypatch.setattr(os.path, "ismount", lambda p: Path(p).name == "mnt" or real(p))
    with pytest.raises(OutputError, match="mount point"):
        write_tables(tmp_path / "mnt", TABLE)


names = st.text(alphabet="abcdefgh._-", min_size=1, max_size=8).filter(
    lambda s: s not in {".", ".."} and not s.startswith(".trkres")
)
trees = st.lists(st.lists(names, min_size=1, max_size=3), min_size=1, max_size=6)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=trees, own_output=st.booleans())
def test_any_folder_with_content_trkres_did_not_write_is_left_alone(
    tmp_path_factory: pytest.TempPathFactory, tree: list[list[str]], own_output: bool
) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    target = root / "target"
    if own_output:
        write_tables(target, TABLE)
    target.mkdir(exist_ok=True)
    for parts in tree:
        path = target.joinpath(*parts)
        if path.exists():
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("user data")
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            continue
    if not any(p.is_file() and p.name != MARKER and p.name != "t.tsv" for p in target.rglob("*")):
        return  # hypothesis drew only names trkres itself wrote
    refused(target, root)


# -- killed and concurrent runs ---------------------------------------------------------

SLOW_WRITER = """
import sys, time
from pathlib import Path
from trkres.outputs import atomic_directory
with atomic_directory(Path(sys.argv[1])) as tmp:
    (tmp / "big.bin").write_bytes(b"x" * 1000)
    print("staged", flush=True)
    time.sleep(60)
"""


def _start_writer(target: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, str(target)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "staged"
    return proc


def test_staging_left_by_sigkill_is_cleaned_by_the_next_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _start_writer(out)
    proc.kill()
    proc.wait()
    stale = list(tmp_path.glob(".out.*.tmp"))
    assert len(stale) == 1 and (stale[0] / STAGING_LOCK).exists()
    # a look-alike folder trkres did not make (no lock file) is never touched
    foreign = tmp_path / ".out.mine.tmp"
    foreign.mkdir()
    (foreign / "keep").write_text("x")
    write_tables(out, TABLE)
    assert not stale[0].exists()
    assert (foreign / "keep").read_text() == "x"


def test_live_staging_of_another_run_is_not_cleaned(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _start_writer(out)
    try:
        write_tables(tmp_path / "out", TABLE)
        assert len(list(tmp_path.glob(".out.*.tmp"))) == 1  # the live one survives
    finally:
        proc.kill()
        proc.wait()


def test_sigterm_cleans_staging_and_keeps_the_previous_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tables(out, TABLE)
    before = fingerprint(out)
    code = (
        "import signal, sys\n"
        "from trkres.cli import _on_sigterm\n"
        "signal.signal(signal.SIGTERM, _on_sigterm)\n" + SLOW_WRITER
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "staged"
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    assert not list(tmp_path.glob(".out.*"))
    assert fingerprint(out) == before


RACER = """
import sys
from pathlib import Path
import pandas as pd
from trkres.outputs import write_tables
for i in range(int(sys.argv[2])):
    write_tables(Path(sys.argv[1]), {"t": pd.DataFrame({"run": [sys.argv[3]] * 50})})
"""


def test_concurrent_runs_on_one_output_all_succeed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    procs = [
        subprocess.Popen([sys.executable, "-c", RACER, str(out), "15", name])
        for name in ("a", "b", "c")
    ]
    assert [p.wait(timeout=300) for p in procs] == [0, 0, 0]
    frame = pd.read_csv(out / "t.tsv", sep="\t")
    assert len(frame) == 50 and frame["run"].nunique() == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# -- the CLI ------------------------------------------------------------------------------


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trkres", *args], cwd=cwd, capture_output=True, text=True
    )


def test_cli_refuses_every_unsafe_output(tmp_path: Path) -> None:
    study = tmp_path / "S"
    shutil.copytree(EXAMPLE, study)
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "a.txt").write_text("precious")
    (tmp_path / "link").symlink_to(tmp_path / "work")
    before = fingerprint(tmp_path)
    for out in (".", "work", "S", "S/lab", "link"):
        proc = run_cli("-q", "analyze", "S", "-o", out, cwd=tmp_path)
        assert proc.returncode == 1, (out, proc.stderr)
        assert "Traceback" not in proc.stderr
    proc = run_cli("-q", "demo", "-o", "work", cwd=tmp_path)
    assert proc.returncode == 1
    assert fingerprint(tmp_path) == before


def test_cli_refuses_writing_over_its_own_input(tmp_path: Path) -> None:
    out = tmp_path / "plate_out"
    write_tables(out, {"dose_response": pd.DataFrame({"x": [1]})})
    before = fingerprint(tmp_path)
    proc = run_cli("-q", "fit", str(out / "dose_response.tsv"), "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "input" in proc.stderr
    assert fingerprint(tmp_path) == before


def test_time_is_not_spent_before_refusing(tmp_path: Path) -> None:
    """The output is checked before any analysis runs (a refusal costs no compute)."""
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "a.txt").write_text("x")
    from trkres.study.runner import run_study

    calls: list[str] = []
    with pytest.raises(OutputError):
        run_study(EXAMPLE, tmp_path / "work", progress=lambda d, t, label: calls.append(label))
    assert calls == []


# -- found by the adversarial review ----------------------------------------------------


def test_same_size_edit_of_an_output_file_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tables(out, {"t": pd.DataFrame({"call": ["none_detected"]})})
    text = (out / "t.tsv").read_text()
    time.sleep(0.01)
    (out / "t.tsv").write_text(text.replace("none_detected", "NONE_DETECTED"))  # same size
    refused(out, tmp_path)


def test_empty_folder_a_user_made_inside_an_output_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tables(out, TABLE)
    (out / "my_dir" / "sub").mkdir(parents=True)
    refused(out, tmp_path)


@pytest.mark.parametrize("name", ["out", "*", "o[1]"])
def test_backups_beside_an_output_are_never_cleaned(tmp_path: Path, name: str) -> None:
    """A copy of an output named like a leftover (``.out.DATE.old``) and leftovers of
    other outputs survive; ``-o '*'`` is a name, not a pattern."""
    out = tmp_path / name
    write_tables(out, TABLE)
    backup = tmp_path / f".{name}.2026-12-05.old"
    shutil.copytree(out, backup)
    (tmp_path / "other").mkdir()
    write_tables(tmp_path / "other", TABLE)
    other_backup = tmp_path / ".other.keep.old"
    shutil.copytree(tmp_path / "other", other_backup)
    write_tables(out, TABLE)
    assert backup.is_dir() and other_backup.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".old")) == sorted(
        [backup.name, other_backup.name]
    )


def test_overlong_output_name_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="cannot use this output path"):
        write_tables(tmp_path / ("x" * 300), TABLE)


def _handles_sigterm(pid: int) -> bool:
    """Whether process ``pid`` has a SIGTERM handler installed (Linux: /proc/PID/status;
    True where that cannot be read)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    caught = next((line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), None)  # fmt: skip
    return caught is None or bool(int(caught, 16) & (1 << (signal.SIGTERM - 1)))


def test_cli_sigterm_exits_143_and_leaves_nothing(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "trkres", "analyze", str(EXAMPLE), "-o", "out"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # A SIGTERM that lands before the command has installed its handler (the imports take
    # several seconds on a loaded machine) kills it with no message and status -15.
    deadline = time.monotonic() + 120
    while not _handles_sigterm(proc.pid) and proc.poll() is None:
        assert time.monotonic() < deadline, "trkres analyze never installed its SIGTERM handler"
        time.sleep(0.05)
    time.sleep(4)  # into the analysis
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:  # finished before the signal on a fast machine
        pytest.skip("the run ended before SIGTERM arrived")
    assert proc.returncode == 143, err
    assert "terminated" in err
    assert list(tmp_path.iterdir()) == []

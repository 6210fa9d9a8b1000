"""The typer app, global options, progress bars and the entry point of every command."""

from __future__ import annotations

import functools
import inspect
import logging
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from trkres import __version__
from trkres.allocator import reuse_freed_memory
from trkres.errors import TrkresError
from trkres.progress import ProgressCallback, no_progress
from trkres.runinputs import declared_inputs

log = logging.getLogger("trkres")
err_console = Console(stderr=True)
out_console = Console()


class _State:
    quiet = False
    verbose = False
    debug = False
    #: What a stop by SIGTERM or Ctrl-C leaves: a batch command's staged outputs are
    #: removed ("nothing was written"); a server says so of its own data (trkres serve).
    stopped_message = "nothing was written"


state = _State()

app = typer.Typer(
    name="trkres",
    help=(
        "Acquired resistance to TRK inhibitors in NTRK-fusion cancers.\n\n"
        "Detect and classify resistance from sequencing, measure it in the lab, model it, "
        "and write one self-contained HTML report. Everything runs offline.\n\n"
        "Start with:  trkres demo"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
knowledge_app = typer.Typer(
    help="Show and validate the curated knowledge base (facts, evidence, review status).",
    no_args_is_help=True,
)
app.add_typer(knowledge_app, name="knowledge")


#: The --out help of every command that writes a folder (README "Study folders": what -o may name).
OUT_HELP = (
    "Output folder: a new or empty one, or an earlier trkres output (replaced whole, "
    "atomically); a folder holding anything else is refused and left as it was."
)

KnowledgeOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--knowledge",
        "-k",
        help="Extra knowledge YAML (repeatable): a lab's own facts with evidence; "
        "entries with the same id override the shipped ones.",
        exists=False,
        dir_okay=False,
    ),
]


def _version(value: bool) -> None:
    if value:
        out_console.print(f"trkres {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only print errors.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Print what is being done, step by step.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show full tracebacks on errors (for bug reports).")
    ] = False,
) -> None:
    """Global options go before the command: trkres -v analyze STUDY -o OUT."""
    state.quiet, state.verbose, state.debug = quiet, verbose and not quiet, debug
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    # Only trkres' own messages at INFO/DEBUG; libraries speak at WARNING and above.
    logging.basicConfig(
        level=logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=False, show_time=False)],
        force=True,
    )
    log.setLevel(level)


@contextmanager
def _progress(description: str) -> Iterator[ProgressCallback]:
    """A rich progress bar on stderr (nothing with --quiet or when not a terminal)."""
    if state.quiet:
        yield no_progress
        return
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TextColumn("{task.fields[label]}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )
    task = bar.add_task(description, total=None, label="")

    def update(done: int, total: int, label: str) -> None:
        bar.update(task, completed=done, total=total, label=label)
        log.debug("%s: %s (%d/%d)", description, label, done, total)

    with bar:
        yield update


def _run_and_report(
    study: Path, out: Path, knowledge: list[Path] | None, only: list[str] | None
) -> None:
    from trkres.study.runner import run_study

    with _progress("analysing") as progress:
        result = run_study(
            study, out, knowledge_files=knowledge or (), only=only, progress=progress
        )
    if not state.quiet:
        names = ", ".join(s.name for s in result.sections)
        err_console.print(f"Ran {len(result.sections)} analyses: {names}")
        reviews = sum(1 for s in result.sections for f in s.flags if f.level == "review")
        if reviews:
            err_console.print(
                f"[magenta]{reviews} item(s) rest on needs_review facts (see report)."
            )
        err_console.print(f"Report written to [bold]{result.report}[/bold]")
        err_console.print(
            f"Tables in {result.out_dir / 'tables'}, figures in {result.out_dir / 'figures'}"
        )


def _declaring_inputs(callback: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command with its path arguments (all but ``out``) declared as inputs,
    so no output folder it writes can equal or hold one of them."""

    @functools.wraps(callback)
    def command(*args: Any, **kwargs: Any) -> Any:
        paths: list[Path] = []
        for name, value in kwargs.items():
            if name == "out" or value is None:
                continue
            values = value if isinstance(value, list | tuple) else [value]
            paths.extend(v for v in values if isinstance(v, Path))
        with declared_inputs(paths):
            out = kwargs.get("out")
            if isinstance(out, Path):  # refuse a bad output folder before any work
                from trkres.outputs import check_output_folder

                check_output_folder(out)
            return callback(*args, **kwargs)

    return command


def flowing_help(doc: str) -> str:
    """A docstring as help text whose paragraphs the terminal rewraps.

    Rich help keeps a docstring's line breaks, so lines broken for the source at ~90
    characters came out as ragged half-lines at 80 columns. Each paragraph's lines are
    joined with spaces, unless the paragraph has indented lines (an example, a list),
    which keep their layout."""
    paragraphs = inspect.cleandoc(doc).split("\n\n")
    flowed = []
    for paragraph in paragraphs:
        lines = paragraph.split("\n")
        if any(
            line[:1].isspace() or line.lstrip().startswith(("- ", "* ", "• ")) for line in lines[1:]
        ):
            flowed.append(paragraph)
        else:
            flowed.append(" ".join(line.strip() for line in lines))
    return "\n\n".join(flowed)


def wrap_commands() -> None:
    """Declare every command's path arguments as inputs (once all are registered) and let
    the terminal wrap each command's help paragraphs."""
    for typer_app in (app, knowledge_app):
        for info in typer_app.registered_commands:
            if info.help is None and info.callback is not None and info.callback.__doc__:
                info.help = flowing_help(info.callback.__doc__)
    for info in app.registered_commands:
        if info.callback is not None and not getattr(info.callback, "_declares_inputs", False):
            info.callback = _declaring_inputs(info.callback)
            info.callback._declares_inputs = True  # type: ignore[attr-defined]


class Terminated(BaseException):
    """SIGTERM, raised where the process is, so staged outputs are cleaned up.

    Not a KeyboardInterrupt: click would turn that into its own exit status."""


#: Set by the SIGTERM handler: a signal that lands inside compiled code (numba) comes out
#: as a ``SystemError`` wrapping :class:`Terminated`, not as Terminated itself.
_sigterm_received = False


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    global _sigterm_received
    _sigterm_received = True
    raise Terminated


def main() -> None:
    """Console entry point: user errors print a precise message, no traceback."""
    reuse_freed_memory()
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        app()
    except Terminated:
        err_console.print(f"terminated: {state.stopped_message}")
        sys.exit(143)
    except TrkresError as exc:
        if state.debug:
            raise
        err_console.print(
            f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print(f"interrupted: {state.stopped_message}")
        sys.exit(130)
    except Exception as exc:
        if _sigterm_received:
            err_console.print(f"terminated: {state.stopped_message}")
            sys.exit(143)
        if state.debug:
            raise
        err_console.print(
            f"[bold red]internal error:[/bold red] {type(exc).__name__}: {escape(str(exc))}\n"
            "This is a bug in trkres. Re-run with --debug for the traceback and report it.",
            highlight=False,
        )
        sys.exit(3)


def log_notes(result: object) -> None:
    """Log a result's ``notes`` (info) and ``warnings`` (warning), as every command does."""
    for note in getattr(result, "notes", ()):
        log.info("%s", note)
    for text in getattr(result, "warnings", ()):
        log.warning("%s", text)

"""The ``trkres`` command line: each command parses its options, calls the analysis'
``run_*`` function (the same one the study runner and the Python API use) and writes.

One module per domain registers its commands on the shared typer ``app``; they are
imported in the order ``trkres --help`` lists them.
"""

import importlib

from trkres.cli._app import _on_sigterm, app, main, wrap_commands

for _module in (
    "study",
    "genomics",
    "ddpcr",
    "cfdna",
    "doseresponse",
    "plates",
    "synergy",
    "invivo",
    "western",
    "sanger",
    "signalling",
    "evolution",
    "knowledge",
    "serve",
):
    importlib.import_module(f"trkres.cli.{_module}")
wrap_commands()

__all__ = ["_on_sigterm", "app", "main"]

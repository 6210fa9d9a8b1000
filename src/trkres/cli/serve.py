"""``trkres serve``: the local web app."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from trkres.cli._app import app, err_console, out_console, state
from trkres.errors import TrkresError


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on. Anything but loopback needs a token.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="Folder of the app's database, uploaded files and run reports "
            "(default: trkres/app in the user's data folder, ~/.local/share on Linux).",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            help="Require this token (Authorization: Bearer TOKEN, or typed once on the login "
            "page). Generated and printed when listening on a non-loopback address.",
            envvar="TRKRES_TOKEN",
        ),
    ] = None,
    max_upload_mb: Annotated[
        int, typer.Option("--max-upload-mb", help="Largest file accepted (MB).", min=1)
    ] = 512,
    workers: Annotated[
        int | None,
        typer.Option(help="Worker processes running analyses (default: cores, at most 8).", min=1),
    ] = None,
    example: Annotated[
        bool,
        typer.Option(
            "--example", help="Add the bundled example study as a project (once) before serving."
        ),
    ] = False,
) -> None:
    """Start the local web app: upload files, build a study, run it, read the report.

    Runs on this computer only (127.0.0.1) unless --host says otherwise; nothing goes to
    the network. Everything is kept in one folder (--data): a DuckDB database, the files
    you upload (by checksum, originals kept) and each run's report. Stop with Ctrl-C.

    Example:  trkres serve --example   (then open http://127.0.0.1:8000)
    """
    try:
        import uvicorn

        from trkres.app.server import check_bind, default_data_dir, guarded
        from trkres.app.service import AppConfig, Service
    except ImportError as exc:
        raise TrkresError(
            "the web app's packages are not installed",
            expected="fastapi, uvicorn, duckdb, python-multipart",
            found=f"missing: {exc.name}",
            hint='pip install "trkres[app]"',
        ) from None
    config = AppConfig(
        data=data or default_data_dir(),
        host=host,
        port=port,
        token=token,
        max_upload=max_upload_mb * 1024**2,
    )
    if workers is not None:
        config.workers = workers
    generated = check_bind(config)
    if config.data.exists() and not config.data.is_dir():
        raise TrkresError("the data folder is a file", expected="a folder (created if missing)",
                          found=str(config.data))  # fmt: skip
    _check_port(host, port)
    # Said by a stop from here on: opening the data folder already changes it (runs left
    # by the last stop marked failed); a stop during that said 'nothing was written'.
    state.stopped_message = f"the app stopped; its data folder {config.data} is kept"
    service = Service(config, defer=True)  # workers and imports start once it listens
    try:
        if example:
            from trkres.app.examples import add_example

            added = add_example(service)
            out_console.print(f"example study: {'added' if added else 'already there'}")
        shown = f"[{host}]" if ":" in host else host
        out_console.print(f"trkres {service.store.folder} → http://{shown}:{port}", highlight=False)
        if service.recovered:
            err_console.print(
                f"{len(service.recovered)} run(s) interrupted by the last stop were marked failed"
            )
        if generated:
            out_console.print(
                f"token (send as 'Authorization: Bearer …' or type it on the "
                f"login page): {generated}",
                highlight=False,
            )
        server = _server(
            service.begin_stop,
            uvicorn.Config(
                guarded(service),
                host=host,
                port=port,
                log_level="warning",
                access_log=False,
                timeout_graceful_shutdown=5,
            ),
        )
        _when_listening(server, service.start_background)
        server.run()
    finally:
        service.close()


def _server(on_stop: Callable[[], None], config: Any) -> Any:
    """A uvicorn server that calls ``on_stop`` as it begins to stop, before it waits for the
    requests under way: a request waiting for a run's end (``?wait=``) then answers at once.
    It was cancelled after the 5 s grace, with a traceback in the terminal and a 500."""
    import uvicorn

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: Any = None) -> None:
            on_stop()
            await super().shutdown(sockets=sockets)

    return Server(config)


def _when_listening(server: Any, then: Callable[[], None]) -> None:
    """Call ``then`` once ``server`` (a uvicorn server) listens, or after 5 s if it has
    not by then (a slow start still gets its workers)."""
    import threading
    import time

    def wait() -> None:
        deadline = time.monotonic() + 5.0
        while not server.started and not server.should_exit and time.monotonic() < deadline:
            time.sleep(0.02)
        if not server.should_exit:
            then()

    threading.Thread(target=wait, name="trkres-start-background", daemon=True).start()


def _check_port(host: str, port: int) -> None:
    """Refuse, before anything starts, a port another program holds."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise TrkresError(
                f"cannot listen on {host}:{port}", expected="a free port on an address of this computer",
                found=exc.strerror or str(exc), hint="choose another --port",
            ) from None  # fmt: skip

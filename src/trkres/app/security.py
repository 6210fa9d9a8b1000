"""Who may talk to the server, and how: token, host names, CSRF, body size, headers.

- **Token.** With ``--token`` (required for any bind address other than loopback),
  every request needs ``Authorization: Bearer TOKEN`` or the session cookie that
  ``/login`` sets after the token is typed once; anything else gets 401.
- **Host names.** A loopback server answers only requests addressed to a loopback
  name (``127.0.0.1``, ``localhost``, ``[::1]``): a web page cannot reach it through
  DNS rebinding.
- **CSRF.** A state-changing request from a browser (it sends ``Origin`` or
  ``Sec-Fetch-Site``) must come from this origin and carry
  the ``X-CSRF-Token`` header equal to the ``trkres_csrf`` cookie (double submit).
  Clients that authenticate with a bearer token, and non-browser clients, are not
  subject to it: a web page can make a browser send neither (browsers send
  ``Sec-Fetch-Site`` on every request and ``Origin`` on every cross-site POST).
- **Body size.** Bodies larger than the upload limit are cut off with 413 while
  being read, whether or not the client announced their length.
- **Headers.** Pages get a Content-Security-Policy that allows only the app's own
  scripts; reports are served sandboxed (their plotly scripts run without access to
  the app's origin).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSRF_COOKIE = "trkres_csrf"
CSRF_HEADER = "x-csrf-token"
SESSION_COOKIE = "trkres_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})

#: Paths that need no token: the login form, and the app's own scripts and styles.
OPEN_PATHS = ("/login", "/logout")
OPEN_PREFIX = "/static/"

#: How long a browser stays signed in after typing the token (seconds).
SESSION_SECONDS = 12 * 3600

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; frame-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'self'"
)
REPORT_CSP = (
    "sandbox allow-scripts allow-popups allow-downloads; default-src 'none'; "
    "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; "
    "font-src data:; frame-ancestors 'self'"
)


def is_loopback(host: str) -> bool:
    name = host.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


#: Shortest token accepted (characters): a token is a password for the whole app.
MIN_TOKEN = 16


def new_token() -> str:
    return secrets.token_urlsafe(24)


def new_session() -> str:
    return secrets.token_urlsafe(32)


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _cookies(headers: dict[str, str]) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # a malformed cookie header is no cookie
        return {}
    return {k: m.value for k, m in jar.items()}


def _host_name(host_header: str) -> str:
    if host_header.startswith("["):
        return host_header.split("]", 1)[0] + "]"
    return host_header.rsplit(":", 1)[0] if ":" in host_header else host_header


async def _reply(
    send: Send, status: int, body: dict[str, Any], extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send(
        {"type": "http.response.start", "status": status, "headers": headers + (extra or [])}
    )
    await send({"type": "http.response.body", "body": data})


def _error(message: str, hint: str | None = None) -> dict[str, Any]:
    return {
        "error": {
            "type": "AccessError",
            "message": message,
            "hint": hint,
            "text": message + (f"\n  hint: {hint}" if hint else ""),
        }
    }


class BodyTooLarge(Exception):
    pass


class Guard:
    """ASGI middleware applying the rules in this module's docstring."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str | None,
        bind_host: str,
        max_body: int,
        upload_limit: int,
        sessions: dict[str, float] | None = None,
    ) -> None:
        self.app = app
        self.token = token
        #: Random session ids given by /login (never the token itself) → when each expires
        #: (``time.monotonic()`` seconds), kept in memory: a restart signs everyone out.
        self.sessions = sessions if sessions is not None else {}
        self.loopback_only = is_loopback(bind_host)
        self.names = LOOPBACK_NAMES | {bind_host.lower(), f"[{bind_host.lower()}]"}
        self.bind_host = bind_host
        self.max_body = max_body  # the upload limit plus room for the form around the file
        self.upload_limit = upload_limit

    def bearer_ok(self, headers: dict[str, str]) -> bool:
        """The request carries this server's token in ``Authorization: Bearer``."""
        if self.token is None:
            return False
        auth = headers.get("authorization", "")
        # Only ASCII blanks are trimmed: str.strip() would also eat U+00A0 and U+0085.
        sent = auth[7:].strip(" \t") if auth[:7].lower() == "bearer " else ""
        return bool(sent) and hmac.compare_digest(sent.encode(), self.token.encode())

    def token_ok(self, headers: dict[str, str], cookies: dict[str, str]) -> bool:
        if self.token is None or self.bearer_ok(headers):
            return True
        session = cookies.get(SESSION_COOKIE, "")
        return bool(session) and self.sessions.get(session, 0.0) > time.monotonic()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # the app has no websocket routes: refuse them all
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        cookies = _cookies(headers)
        path: str = scope.get("path", "")
        method: str = scope.get("method", "GET")
        host = _host_name(headers.get("host", ""))
        if self.loopback_only and host.lower() not in self.names:
            await _reply(
                send, 421, _error(f"this server answers only to loopback names, not '{host[:80]}'")
            )
            return
        is_open = path in OPEN_PATHS or path.startswith(OPEN_PREFIX)
        if not is_open and not self.token_ok(headers, cookies):
            if method == "GET" and not path.startswith("/api/") and path != "/openapi.json":
                await send(
                    {
                        "type": "http.response.start",
                        "status": 303,
                        "headers": [(b"location", b"/login"), (b"content-length", b"0")],
                    }
                )
                await send({"type": "http.response.body", "body": b""})
                return
            await _reply(
                send,
                401,
                _error(
                    "a token is required",
                    "send 'Authorization: Bearer TOKEN' (printed when the server started)",
                ),
                [(b"www-authenticate", b"Bearer")],
            )
            return
        # Exempt from CSRF only when the bearer token itself is right: a request signed in
        # by its session cookie stays subject to it whatever Authorization header it has.
        bearer = self.bearer_ok(headers)
        browser = "origin" in headers or "sec-fetch-site" in headers
        if (
            method not in SAFE_METHODS
            and not bearer
            and browser
            and path not in ("/login", "/logout")
        ):
            origin = headers.get("origin")
            if origin is not None and origin.split("://", 1)[-1] != headers.get("host", ""):
                await _reply(send, 403, _error("cross-site request refused"))
                return
            sent = headers.get(CSRF_HEADER, "")
            kept = cookies.get(CSRF_COOKIE, "")
            if not sent or not kept or not hmac.compare_digest(sent.encode(), kept.encode()):
                await _reply(
                    send,
                    403,
                    _error(
                        "missing or wrong CSRF token",
                        "reload the page; scripts must send the X-CSRF-Token header",
                    ),
                )
                return
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            await _reply(
                send,
                413,
                _error(
                    f"the request is larger than this server accepts ({_size(self.upload_limit)})",
                    "start the server with a larger --max-upload-mb",
                ),
            )
            return
        received = 0
        started = False
        too_large = False
        limit_error = _error(
            f"the request is larger than this server accepts ({_size(self.upload_limit)})",
            "start the server with a larger --max-upload-mb",
        )

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    too_large = True
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if too_large:  # whatever the app made of the cut-off body, the answer is 413
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await _reply(send, 413, limit_error)
                return
            if message["type"] == "http.response.start":
                started = True
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                names = {k.lower() for k, _ in message.get("headers", [])}
                if b"content-security-policy" not in names:
                    extra.append((b"content-security-policy", PAGE_CSP.encode()))
                    extra.append((b"x-frame-options", b"SAMEORIGIN"))
                if CSRF_COOKIE not in cookies:
                    cookie = f"{CSRF_COOKIE}={secrets.token_urlsafe(24)}; Path=/; SameSite=Strict"
                    extra.append((b"set-cookie", cookie.encode()))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                started = True
                await _reply(send, 413, limit_error)


def _size(n: int) -> str:
    return f"{n / 1024**2:.0f} MB" if n >= 1024**2 else f"{n:,} bytes"

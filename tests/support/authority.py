"""A real HTTP verification authority on 127.0.0.1, for tests.

It speaks the contract the HTTP verifier expects: ``POST <url>`` with JSON
``{"real_name", "id_type", "id_number"}`` answered by ``{"match": true|false}``: true
for a known (real name, id number) pair, false otherwise. It runs a stdlib
`ThreadingHTTPServer` on an OS-chosen port in a daemon thread, keeps connections alive
(HTTP/1.1) and records every request it received.

As a context manager::

    with Authority(known={("张三", "11010519491231002X")}) as authority:
        verifier = HttpVerifier(authority.url)
        ...
        assert authority.bodies == [{"real_name": "张三", ...}]

As a pytest fixture::

    @pytest.fixture
    def authority() -> Iterator[Authority]:
        with Authority(known={KNOWN_PERSON}) as running:
            yield running

Switches, each usable at construction or at any time on a running authority:

* ``fail_next(n, status=500)``: the next `n` calls answer `status` (the first ones; later
  calls answer normally again). ``fail_next(n, status=503, retry_after="7")`` adds the header.
* ``sleep_before_answer(seconds)``: every call waits before answering (for timeouts).
* ``answer_unavailable(retry_after="7", status=503)``: every call answers 503 + Retry-After.
* ``answer_malformed(body)``: every call answers 200 with `body` (not the contract's JSON).
* ``slow_next(seconds, n)``: the next `n` calls get their normal answer after `seconds`.
* ``drop_next(n)``: the next `n` calls are read and then hung up on without an answer.
* ``respond_next(Canned(...), n)`` / ``always(Canned(...))``: any answer at all.
* ``reset()``: back to plain match/no-match, no delay.

`refused_url()` gives a URL on a local port that nothing listens on (bound, then
closed), for "the authority is down" tests.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

__all__ = [
    "KNOWN_PERSON",
    "Authority",
    "Canned",
    "RecordedRequest",
    "refused_port",
    "refused_url",
]

#: A (real name, id number) pair the tests use as "the person the authority knows".
KNOWN_PERSON: tuple[str, str] = ("张三", "11010519491231002X")

DEFAULT_PATH = "/verify"


@dataclass(frozen=True)
class Canned:
    """A fixed answer, given after `delay` seconds.

    `drop=True` hangs up without answering; `normal=True` answers as the authority would
    (match or not, status and body ignored), which with `delay` makes a slow answer.
    """

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = "application/json"
    drop: bool = False
    delay: float = 0.0
    normal: bool = False


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the authority received it."""

    method: str
    path: str
    headers: Mapping[str, str]  # names lower-cased
    body: bytes
    client_port: int

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # keep-alive handler threads must not hold up close()
    authority: Authority

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and left makes the late answer fail with a broken pipe:
        # expected in timeout tests, not worth a traceback on stderr.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "TestAuthority/1.0"
    timeout = 10  # an idle kept-alive connection is closed after this many seconds
    server: _Server

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        recorded = RecordedRequest(
            method="POST",
            path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            client_port=self.client_address[1],
        )
        answer = self.server.authority._answer_for(recorded)
        if answer is None:  # stopping while sleeping
            self.close_connection = True
            return
        self._send(answer)

    def do_GET(self) -> None:  # noqa: N802
        self._send(Canned(HTTPStatus.METHOD_NOT_ALLOWED, b'{"error":"method_not_allowed"}'))

    def _send(self, answer: Canned) -> None:
        if answer.drop:
            self.close_connection = True
            return
        self.send_response(answer.status)
        if answer.content_type is not None:
            self.send_header("Content-Type", answer.content_type)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet: tests assert on recorded requests, not on stderr


class Authority:
    """A running (after `start()` / `with`) local verification authority."""

    def __init__(
        self,
        known: Iterable[tuple[str, str]] = (),
        *,
        path: str = DEFAULT_PATH,
        fail_next: int = 0,
        fail_status: int = 500,
        delay: float = 0.0,
        retry_after: str | int | None = None,
        malformed: bytes | None = None,
    ) -> None:
        self._known: set[tuple[str, str]] = set(known)
        self._path = path
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._next: deque[Canned] = deque()
        self._always: Canned | None = None
        self._delay = 0.0
        self._requests: list[RecordedRequest] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        if fail_next:
            self.fail_next(fail_next, status=fail_status)
        if delay:
            self.sleep_before_answer(delay)
        if retry_after is not None:
            self.answer_unavailable(retry_after=retry_after)
        if malformed is not None:
            self.answer_malformed(malformed)

    # -- life cycle ---------------------------------------------------------------------

    def start(self) -> Authority:
        if self._server is not None:
            raise RuntimeError("the authority is already running")
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.authority = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="test-authority", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()  # wakes handlers sleeping in sleep_before_answer
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Authority:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- where it is and what it got ----------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the authority is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self._path}"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def bodies(self) -> list[Any]:
        """Every request body received, parsed as JSON (None for a non-JSON body)."""
        return [request.json for request in self.requests]

    @property
    def calls(self) -> int:
        with self._lock:
            return len(self._requests)

    # -- behaviour ----------------------------------------------------------------------

    def add_known(self, real_name: str, id_number: str) -> None:
        with self._lock:
            self._known.add((real_name, id_number))

    def respond_next(self, answer: Canned, n: int = 1) -> None:
        with self._lock:
            self._next.extend([answer] * n)

    def always(self, answer: Canned | None) -> None:
        """Answer every call (after any `respond_next` ones) with `answer`; None: normally."""
        with self._lock:
            self._always = answer

    def fail_next(
        self,
        n: int = 1,
        *,
        status: int = 500,
        retry_after: str | int | None = None,
        body: bytes | None = None,
    ) -> None:
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        phrase = http.client.responses.get(status, "error")
        error = body if body is not None else json.dumps({"error": phrase}).encode()
        self.respond_next(Canned(status, error, headers), n)

    def slow_next(self, seconds: float, n: int = 1) -> None:
        """The next `n` calls get their normal answer, but only after `seconds`."""
        self.respond_next(Canned(delay=seconds, normal=True), n)

    def drop_next(self, n: int = 1) -> None:
        self.respond_next(Canned(drop=True), n)

    def sleep_before_answer(self, seconds: float) -> None:
        with self._lock:
            self._delay = seconds

    def answer_unavailable(self, *, retry_after: str | int | None = "7", status: int = 503) -> None:
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        self.always(Canned(status, b'{"error":"unavailable"}', headers))

    def answer_malformed(self, body: bytes = b"<html>not json</html>", *, content_type: str | None = None) -> None:
        self.always(Canned(200, body, content_type=content_type))

    def reset(self) -> None:
        with self._lock:
            self._next.clear()
            self._always = None
            self._delay = 0.0

    def _answer_for(self, request: RecordedRequest) -> Canned | None:
        with self._lock:
            self._requests.append(request)
            delay = self._delay
            scripted = self._next.popleft() if self._next else self._always
            known = frozenset(self._known)
        if scripted is not None:
            delay = max(delay, scripted.delay)
        if delay and self._stopping.wait(delay):
            return None
        if scripted is not None and not scripted.normal:
            return scripted
        if request.path != self._path:
            return Canned(HTTPStatus.NOT_FOUND, b'{"error":"not_found"}')
        payload = request.json
        if not (
            isinstance(payload, dict)
            and isinstance(payload.get("real_name"), str)
            and isinstance(payload.get("id_type"), str)
            and isinstance(payload.get("id_number"), str)
        ):
            return Canned(HTTPStatus.BAD_REQUEST, b'{"error":"bad_request"}')
        match = (payload["real_name"], payload["id_number"]) in known
        return Canned(200, json.dumps({"match": match}).encode())


def refused_port() -> int:
    """A local port nothing listens on: bound to learn a free number, then closed."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def refused_url(path: str = DEFAULT_PATH) -> str:
    """A URL whose connection is refused at once (the authority is down)."""
    return f"http://127.0.0.1:{refused_port()}{path}"

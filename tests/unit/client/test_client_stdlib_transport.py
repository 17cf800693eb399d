"""The stdlib transport (used when urllib3 is not installed) against a real loopback HTTP server:
a 304 and a 4xx are answers, a redirect is returned and never followed, a form is sent encoded."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from realname_identity_client import DiscoveryError, fetch_metadata
from realname_identity_client._http import StdlibTransport, send


class Handler(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, bytes]] = []

    def _answer(self, status: int, body: bytes = b"", **headers: str) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.seen.append(("GET", self.path, b""))
        if self.path == "/keys" and self.headers.get("If-None-Match") == '"v1"':
            self._answer(304, Cache_Control="max-age=60")
        elif self.path == "/keys":
            self._answer(200, b'{"keys": []}', ETag='"v1"', Cache_Control="max-age=60")
        elif self.path.startswith("/.well-known/oauth-authorization-server"):
            self._answer(302, Location="/elsewhere")
        else:
            self._answer(404)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append(("POST", self.path, body))
        self._answer(200, self.headers["Content-Type"].encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Handler.seen = []
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def test_answers_of_every_status_come_back_as_responses(base_url):
    transport = StdlibTransport()
    first = send(transport, "GET", f"{base_url}/keys", headers={}, timeout=5)
    assert (first.status, first.data, first.headers.get("etag")) == (200, b'{"keys": []}', '"v1"')
    again = send(transport, "GET", f"{base_url}/keys", headers={"If-None-Match": '"v1"'}, timeout=5)
    assert (again.status, again.headers.get("cache-control")) == (304, "max-age=60")
    assert send(transport, "GET", f"{base_url}/missing", headers={}, timeout=5).status == 404


def test_a_form_is_sent_url_encoded(base_url):
    answer = send(StdlibTransport(), "POST", f"{base_url}/introspect", headers={}, timeout=5,
                  fields={"token": "a.b+c/d"})
    assert answer.data == b"application/x-www-form-urlencoded"
    assert parse_qs(Handler.seen[-1][2].decode()) == {"token": ["a.b+c/d"]}


def test_a_redirect_is_never_followed(base_url):
    with pytest.raises(DiscoveryError, match="302"):
        fetch_metadata(base_url, http=StdlibTransport())
    assert [path for _, path, _ in Handler.seen] == ["/.well-known/oauth-authorization-server"]


def test_only_http_urls_are_opened():
    with pytest.raises(OSError):
        send(StdlibTransport(), "GET", "file:///etc/passwd", headers={}, timeout=5)

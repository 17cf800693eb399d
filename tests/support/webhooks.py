"""A webhook receiver for the tests: a real HTTP server on 127.0.0.1, in threads, that verifies
every delivery with the `standardwebhooks` library from PyPI (never with the service's code)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flask.testing import FlaskClient
from standardwebhooks.webhooks import Webhook

from tests.support.groups import GROUP_SCOPES

WEBHOOK_SCOPES = (*GROUP_SCOPES, "webhooks:write")
ALL_EVENTS = ["verification_session.completed", "verification_session.failed", "account.closed",
              "account.restricted", "account.unrestricted", "sanction.created", "sanction.lifted",
              "sanction.expired", "group.closed"]


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    payload: dict[str, Any]


@dataclass
class Receiver:
    """Answers each verified delivery with what `answer(path, n)` says (n counts that path's
    requests from 0); records verified deliveries and refused ones."""

    port: int = 0
    secrets: dict[str, str] = field(default_factory=dict)
    answer: Callable[[str, int], int] = lambda _path, _n: 204
    delivered: list[Delivery] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def payloads(self, path: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [d.payload for d in self.delivered if path is None or d.path == path]

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length", "0"))
        body = handler.rfile.read(length)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        path = handler.path
        with self.lock:
            n = self.requests.get(path, 0)
            self.requests[path] = n + 1
            secret = self.secrets.get(path)
        try:
            if secret is None:
                raise ValueError("no secret for this path")
            payload = Webhook(secret).verify(body, headers)
        except Exception as error:  # noqa: BLE001 - any failure to verify is recorded and refused
            with self.lock:
                self.unverified.append(f"{path}: {type(error).__name__}")
            handler.send_response(400)
            handler.end_headers()
            return
        status = self.answer(path, n)
        if 200 <= status < 300:
            with self.lock:
                self.delivered.append(Delivery(path, headers, body, payload))
        handler.send_response(status)
        handler.send_header("Content-Length", "0")
        handler.end_headers()


def _serving(server: ThreadingHTTPServer, receiver: Receiver) -> Iterator[Receiver]:
    """Serve on a thread until the caller's block ends; the receiver learns the bound port."""
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def receiving(receiver: Receiver | None = None) -> Iterator[Receiver]:
    receiver = receiver or Receiver()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            receiver._handle(self)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", receiver.port), Handler)
    yield from _serving(server, receiver)


def add_endpoint(client: FlaskClient, auth: dict[str, str], receiver: Receiver, path: str,
                 events: list[str] | None = None) -> dict[str, Any]:
    response = client.post("/v1/webhook-endpoints", json={"url": receiver.url(path), "events": events or ALL_EVENTS},
                           headers=auth)
    assert response.status_code == 201, response.get_json()
    answer = dict(response.get_json())
    receiver.secrets[path] = answer["secret"]
    return answer


def deliver_once(runner: Any) -> dict[str, Any]:
    result = runner.invoke(args=["admin", "webhooks", "deliver", "--once", "--json"])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.output.strip().splitlines()[-1]))


def status(runner: Any) -> dict[str, Any]:
    result = runner.invoke(args=["admin", "webhooks", "status", "--json"])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.output))


def self_signed(tmp_path: Any, name: str) -> tuple[str, str]:
    """A certificate for `name` and its key, as PEM files: the receiver's, and the trust anchor."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


@contextmanager
def receiving_tls(cert_file: str, key_file: str) -> Iterator[Receiver]:
    """`receiving`, over TLS with this certificate."""
    import ssl

    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            receiver._handle(self)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    yield from _serving(server, receiver)

"""A small HTTP/1.1 client over a raw socket, for the load processes.

It is deliberately lighter than `http.client`: the load generator shares the machine's cores
with the server, so every microsecond the client spends is one the server does not get.
It keeps its connection alive and reconnects when the server closes it (gunicorn's sync
workers answer every request with `Connection: close`).
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""

    @classmethod
    def json(cls, method: str, path: str, body: Any, headers: dict[str, str] | None = None) -> Request:
        return cls(method, path, {"Content-Type": "application/json", **(headers or {})},
                   json.dumps(body, ensure_ascii=False).encode())


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Connection:
    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._sock: socket.socket | None = None
        self._buffer = b""
        self.connects = 0

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._buffer = b""

    def _connect(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock, self._buffer = sock, b""
        self.connects += 1
        return sock

    def request(self, request: Request) -> Response:
        head = [f"{request.method} {request.path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{name}: {value}" for name, value in request.headers.items()]
        if request.body or request.method in ("POST", "PUT", "PATCH"):
            head.append(f"Content-Length: {len(request.body)}")
        payload = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + request.body
        fresh = self._sock is None
        sock = self._sock or self._connect()
        try:
            sock.sendall(payload)
            return self._read_response()
        except (ConnectionError, _Closed):
            self.close()
            if fresh:
                raise
            # The server closed an idle kept-alive connection before reading this request: resend once.
            self._connect().sendall(payload)
            return self._read_response()

    def _recv(self) -> bytes:
        assert self._sock is not None
        chunk = self._sock.recv(65536)
        if not chunk:
            raise _Closed()
        return chunk

    def _read_response(self) -> Response:
        while b"\r\n\r\n" not in self._buffer:
            self._buffer += self._recv()
        head, _, rest = self._buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        closing = headers.get("connection", "").lower() == "close"
        if "content-length" in headers:
            length = int(headers["content-length"])
            while len(rest) < length:
                rest += self._recv()
            body, self._buffer = rest[:length], rest[length:]
        elif closing:  # no length: the body runs to the end of the connection
            body = rest + self._read_to_end()
        else:
            raise ValueError("response without Content-Length on a kept-alive connection")
        if closing:
            self.close()
        return Response(status, headers, body)

    def _read_to_end(self) -> bytes:
        assert self._sock is not None
        chunks = []
        while chunk := self._sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


class _Closed(Exception):
    """The server closed the connection."""

"""The HTTP verifier: ask a real-name authority whether a name belongs to a document.

Wire contract::

    POST {IDENTITY_VERIFIER_URL}
    Content-Type: application/json
    {"real_name": "...", "id_type": "...", "id_number": "..."}

    200 {"match": true}  -> Verification(level="authority_verified", method="http")
    200 {"match": false} -> IdentityNotVerified          (422 identity_not_verified)
    anything else        -> VerificationUnavailable      (503 verification_unavailable)

Retries. Only failures that say nothing about the answer are retried: the connection
could not be made, timed out or broke, or the authority answered 502, 503 (without
Retry-After) or 504. A definitive answer (match true or false), a 429, a 503 that says
when to come back, a malformed answer, any other 4xx or 5xx is never retried. Asking
again is safe because the question is a pure lookup: it changes nothing at the authority.
Attempt n (n >= 1) waits ``backoff * 2 ** (n - 1)`` seconds before the next one.

Worst case. ``connect_timeout`` bounds each connection attempt to each address the host
resolves to, ``read_timeout`` each blocking socket read (send, status line, headers,
body); a body is at most `MAX_ANSWER_BYTES`. For an authority whose name resolves to one
address (k addresses that all hang: k * connect_timeout) and that does not trickle bytes,
one call is bounded by::

    (retries + 1) * (connect_timeout + read_timeout) + backoff * (2 ** retries - 1)

which is 3 * (2.0 + 5.0) + 0.2 * 3 = 21.6 seconds with the defaults, under gunicorn's
default 30 second worker timeout; start-up refuses settings whose bound reaches the worker
timeout (`IDENTITY_TIMEOUT`). The service answers the client 503 with Retry-After after
that, never hangs. `identity.verifiers.guard` bounds how many such calls a process makes at
once and stops calling an authority that keeps failing.

Privacy. The real name and the document number are only ever in the request body. They
are never logged (a log line carries the outcome, the HTTP status, the attempt count and
the elapsed milliseconds), never put in an exception message or args, and no lower
exception (urllib3's, json's) is chained to what this module raises: every raise happens
outside the ``except`` block that saw the lower error, and ``from None`` on top.
urllib3 logs the URL and status at DEBUG, never a body.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    LocationValueError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.util import parse_url

from identity.errors import IdentityNotVerified, VerificationUnavailable
from identity.verifiers.base import AUTHORITY_VERIFIED, Clock, Verification, utc_now

if TYPE_CHECKING:
    from identity.documents import Document

__all__ = [
    "DEFAULT_RETRY_AFTER",
    "MAX_ANSWER_BYTES",
    "MAX_RETRY_AFTER",
    "RETRYABLE_STATUSES",
    "HttpVerifier",
    "parse_retry_after",
    "worst_case_seconds",
]

logger = logging.getLogger(__name__)

#: Statuses that mean "a gateway or the authority is briefly unable", worth one more try.
RETRYABLE_STATUSES: Final = frozenset({502, 503, 504})
#: Seconds the client is told to wait when the authority did not say.
DEFAULT_RETRY_AFTER: Final = 30
#: An authority's Retry-After is passed on, but never more than this many seconds.
MAX_RETRY_AFTER: Final = 300
#: A yes/no answer is a few bytes; anything bigger than this is not an answer.
MAX_ANSWER_BYTES: Final = 16 * 1024
#: Seconds before the first retry; each later one waits twice as long as the one before.
DEFAULT_BACKOFF: Final = 0.2
#: Connections kept per authority host; more concurrent calls open (and drop) extra ones.
POOL_MAXSIZE: Final = 16

_USER_AGENT: Final = "identity-service/verifier"

#: Told of every finished call: its outcome (one of the fixed words of the log line: `match`,
#: `no_match`, `timeout`, `unreachable`, ...) and its seconds, retries included. For metrics.
CallObserver = Callable[[str, float], None]


@dataclass(frozen=True)
class _Failure:
    """Why an attempt gave no answer; carries nothing from the request or the response body."""

    outcome: str  # for the log line: a fixed word
    detail: str  # for the caller: a fixed sentence
    status: int | None = None
    retryable: bool = False
    retry_after: int = DEFAULT_RETRY_AFTER
    log_level: int = logging.WARNING


_TIMEOUT = "The identity verification authority did not answer in time. Try again later."
_UNREACHABLE = "The identity verification authority could not be reached. Try again later."
_BUSY = "The identity verification authority is busy. Try again later."
_FAILED = "The identity verification authority failed to answer. Try again later."
_GARBLED = "The identity verification authority gave an answer that could not be understood."
_NOT_AVAILABLE = "Identity verification is not available at the moment."


def worst_case_seconds(connect_timeout: float, read_timeout: float, retries: int, backoff: float) -> float:
    """The longest one `verify()` can take: the bound from the module docstring."""
    return (retries + 1) * (connect_timeout + read_timeout) + backoff * (2.0**retries - 1)


def parse_retry_after(value: str | None, *, default: int = DEFAULT_RETRY_AFTER) -> int:
    """A Retry-After header in delta-seconds, clamped to 1..MAX_RETRY_AFTER; else `default`.

    The HTTP-date form, negative, fractional or garbled values all give `default`.
    """
    if value is None:
        return default
    value = value.strip()
    if not value or not (value.isascii() and value.isdigit()):
        return default
    if len(value) > 6:  # more than 11 days: the cap applies anyway, and int() stays cheap
        return MAX_RETRY_AFTER
    return min(max(int(value), 1), MAX_RETRY_AFTER)


class HttpVerifier:
    """Asks the authority at `url`; see the module docstring for the contract.

    Thread-safe: the only state is the urllib3 `PoolManager`, which is. Connections to
    the authority are kept alive and reused between calls. Call `close()` on shutdown
    to drop them (only when the pool was created here; an injected pool is the caller's).
    """

    is_remote: Final = True  # the authority is across the network

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: float = 2.0,
        read_timeout: float = 5.0,
        retries: int = 2,
        backoff: float = DEFAULT_BACKOFF,
        clock: Clock = utc_now,
        pool: urllib3.PoolManager | None = None,
        observe: CallObserver | None = None,
    ) -> None:
        try:
            parsed = parse_url(url)
        except LocationValueError:
            parsed = None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
            # The URL is configuration, but it may carry credentials: keep it out of the message.
            raise ValueError("the verifier URL must be an absolute http(s) URL") from None
        if not connect_timeout > 0 or not read_timeout > 0:
            raise ValueError("verifier timeouts must be positive")
        if retries < 0:
            raise ValueError("verifier retries must not be negative")
        if backoff < 0:
            raise ValueError("verifier backoff must not be negative")
        self._url = url
        self._origin = f"{parsed.scheme}://{parsed.host}" + (f":{parsed.port}" if parsed.port else "")
        self._connect_timeout = float(connect_timeout)
        self._read_timeout = float(read_timeout)
        self._timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
        self._retries = retries
        self._backoff = backoff
        self._clock = clock
        self._observe = observe
        self._owns_pool = pool is None
        self._pool = pool if pool is not None else urllib3.PoolManager(maxsize=POOL_MAXSIZE, block=False)
        self._headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": _USER_AGENT,
        }

    @property
    def max_attempts(self) -> int:
        return self._retries + 1

    def worst_case_seconds(self) -> float:
        """The bound from the module docstring for this instance's settings."""
        return worst_case_seconds(self._connect_timeout, self._read_timeout, self._retries, self._backoff)

    def close(self) -> None:
        if self._owns_pool:
            self._pool.clear()

    def __repr__(self) -> str:
        return f"HttpVerifier({self._origin!r}, retries={self._retries})"

    def verify(self, real_name: str, document: Document) -> Verification:
        # ASCII-only JSON: encoding can never fail, so no UnicodeEncodeError can carry the name.
        body = json.dumps(
            {"real_name": real_name, "id_type": document.type, "id_number": document.number},
            ensure_ascii=True,
            separators=(",", ":"),
        ).encode("ascii")
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            result = self._ask(body)
            if isinstance(result, bool):
                match = result
                break
            if not result.retryable or attempt >= self.max_attempts:
                self._log(result.log_level, result.outcome, result.status, attempt, started)
                raise VerificationUnavailable(result.detail, retry_after=result.retry_after) from None
            pause = self._backoff * 2.0 ** (attempt - 1)
            logger.debug(
                "identity verification retrying outcome=%s status=%s attempt=%d pause_ms=%d",
                result.outcome,
                _status_text(result.status),
                attempt,
                round(pause * 1000),
            )
            time.sleep(pause)

        if not match:
            self._log(logging.INFO, "no_match", 200, attempt, started)
            raise IdentityNotVerified() from None
        verified = Verification(level=AUTHORITY_VERIFIED, method="http", verified_at=self._clock())
        self._log(logging.INFO, "match", 200, attempt, started)
        return verified

    def _ask(self, body: bytes) -> bool | _Failure:
        """One attempt: the authority's boolean, or why there is none. Never raises for I/O."""
        try:
            response = self._pool.urlopen(
                "POST",
                self._url,
                body=body,
                headers=self._headers,
                timeout=self._timeout,
                retries=False,  # retries are decided here, not by urllib3
                redirect=False,  # a redirect would re-send the body somewhere not configured
                preload_content=False,
            )
        except (HTTPError, OSError, http.client.HTTPException) as error:
            return _transport_failure(error)
        try:
            return self._judge(response)
        except (HTTPError, OSError, http.client.HTTPException) as error:  # while reading the body
            return _transport_failure(error)
        finally:
            _release(response)

    def _judge(self, response: urllib3.BaseHTTPResponse) -> bool | _Failure:
        status = response.status
        if status == 200:
            raw = _read_limited(response)
            match = None if raw is None else _parse_answer(raw)
            if match is None:
                return _Failure("malformed_answer", _GARBLED, status=status)
            return match
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return _Failure("rate_limited", _BUSY, status=status, retry_after=retry_after)
        if status == 503 and "Retry-After" in response.headers:
            # The authority said when to come back: pass that on instead of insisting now.
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return _Failure("unavailable", _BUSY, status=status, retry_after=retry_after)
        if status in RETRYABLE_STATUSES:
            return _Failure("bad_gateway", _FAILED, status=status, retryable=True)
        if status >= 500:
            return _Failure("server_error", _FAILED, status=status)
        if 300 <= status < 500:
            # Not the authority being down but this service asking wrongly (URL, contract,
            # credentials): an operator must look. The body is not read, let alone logged.
            return _Failure("rejected", _NOT_AVAILABLE, status=status, log_level=logging.ERROR)
        return _Failure("unexpected_status", _GARBLED, status=status)

    def _log(self, level: int, outcome: str, status: int | None, attempts: int, started: float) -> None:
        elapsed = time.monotonic() - started
        logger.log(
            level,
            "identity verification outcome=%s status=%s attempts=%d elapsed_ms=%d",
            outcome,
            _status_text(status),
            attempts,
            round(elapsed * 1000),
        )
        if self._observe is not None:
            self._observe(outcome, elapsed)


def _transport_failure(error: BaseException) -> _Failure:
    """Classify a lower error by its type only; its text is dropped here."""
    if isinstance(error, ReadTimeoutError):
        return _Failure("timeout", _TIMEOUT, retryable=True)
    if isinstance(error, SSLError):
        return _Failure("tls_error", _UNREACHABLE, log_level=logging.ERROR)
    if isinstance(error, ConnectTimeoutError):  # includes NewConnectionError and name resolution
        return _Failure("unreachable", _UNREACHABLE, retryable=True)
    if isinstance(error, ProtocolError | OSError | http.client.HTTPException):
        return _Failure("connection_broken", _UNREACHABLE, retryable=True)
    return _Failure("transport_error", _UNREACHABLE)


def _read_limited(response: urllib3.BaseHTTPResponse) -> bytes | None:
    """The whole body, or None when it is larger than `MAX_ANSWER_BYTES`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = response.read(MAX_ANSWER_BYTES + 1 - size)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            return None


def _parse_answer(raw: bytes) -> bool | None:
    """`{"match": <bool>}` -> the bool; anything else -> None. The parser's error is dropped."""
    try:
        answer = json.loads(raw)
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError; .doc is the body
        return None
    if not isinstance(answer, dict):
        return None
    match = answer.get("match")
    return match if isinstance(match, bool) else None


def _release(response: urllib3.BaseHTTPResponse) -> None:
    """Give the connection back; one whose body was not read to the end is closed first."""
    if response.connection is None:  # read to the end: urllib3 already returned it to the pool
        return
    with contextlib.suppress(HTTPError, OSError, http.client.HTTPException):
        response.close()
    response.release_conn()


def _status_text(status: int | None) -> str:
    return "-" if status is None else str(status)

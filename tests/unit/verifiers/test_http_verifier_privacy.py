"""The real name and the document number never leave the HttpVerifier except in the request.

Each scenario drives a real exchange with the local authority, including answers that
echo the submitted data back, with every logger (urllib3's too) captured at DEBUG.
Then the log records and everything reachable from the raised exception (str, repr,
args, attributes, the __cause__/__context__ chain, the formatted traceback) are searched
for the name and the number, raw and in the forms JSON would spell them.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from identity.errors import DomainError, IdentityNotVerified, VerificationUnavailable
from identity.verifiers import HttpVerifier
from tests.support.authority import Authority, Canned, refused_url

from .stand_ins import stand_in_document

NAME = "李小龙"
NUMBER = "44030619401127691X"
DOCUMENT = stand_in_document(NUMBER)

ECHO = json.dumps({"real_name": NAME, "id_number": NUMBER}, ensure_ascii=False).encode()
ECHO_ASCII = json.dumps({"real_name": NAME, "id_number": NUMBER}).encode()

SECRETS = [
    NAME,
    NUMBER,
    NUMBER.lower(),
    json.dumps(NAME)[1:-1],  # \u674e\u5c0f\u9f99, the spelling the request body uses
    json.dumps(NAME)[1:-1].replace("\\", "\\\\"),  # the same inside a bytes repr
    NAME.encode().hex(),
    repr(NAME.encode())[2:-1],  # \xe6\x9d\x8e... as bytes reprs would show it
    NUMBER[:-1],  # the number without its check character still identifies the person
]

Setup = Callable[[Authority], str]


def _known(authority: Authority) -> str:
    authority.add_known(NAME, NUMBER)
    return authority.url


def _unknown(authority: Authority) -> str:
    return authority.url


def _retried_then_known(authority: Authority) -> str:
    authority.fail_next(1, status=502, body=ECHO)
    return _known(authority)


def _failing(status: int, body: bytes, n: int = 5, retry_after: str | None = None) -> Setup:
    def setup(authority: Authority) -> str:
        authority.fail_next(n, status=status, body=body, retry_after=retry_after)
        return authority.url

    return setup


def _answering(answer: bytes | Canned) -> Setup:
    def setup(authority: Authority) -> str:
        if isinstance(answer, Canned):
            authority.always(answer)
        else:
            authority.answer_malformed(answer)
        return authority.url

    return setup


def _slow(authority: Authority) -> str:
    authority.sleep_before_answer(3.0)
    return authority.url


def _dropping(authority: Authority) -> str:
    authority.drop_next(5)
    return authority.url


def _down(authority: Authority) -> str:
    return refused_url()


# name: (what verify() raises, None for success; how to set the authority up; verifier options)
SCENARIOS: dict[str, tuple[type[DomainError] | None, Setup, dict[str, Any]]] = {
    "match": (None, _known, {}),
    "no_match": (IdentityNotVerified, _unknown, {}),
    "retried_then_match": (None, _retried_then_known, {}),
    "server_error_echoing_the_request": (VerificationUnavailable, _failing(500, ECHO), {}),
    "gateway_errors_echoing_the_request": (VerificationUnavailable, _failing(502, ECHO_ASCII), {}),
    "client_error_echoing_the_request": (VerificationUnavailable, _failing(400, ECHO), {}),
    "rate_limited_echoing_the_request": (VerificationUnavailable, _failing(429, ECHO, retry_after="3"), {}),
    "non_json_answer_echoing_the_request": (VerificationUnavailable, _answering(b"<p>" + ECHO + b"</p>"), {}),
    "json_answer_without_boolean_echoing_the_request": (
        VerificationUnavailable,
        _answering(json.dumps({"match": NAME, "id": NUMBER}).encode()),
        {},
    ),
    "not_utf8_answer_echoing_the_request": (VerificationUnavailable, _answering(b"\xff" + ECHO), {}),
    "oversized_answer_echoing_the_request": (VerificationUnavailable, _answering(ECHO * 2000), {}),
    "redirect_with_the_number_in_the_location": (
        VerificationUnavailable,
        _answering(Canned(302, ECHO, {"Location": f"/verify?n={NUMBER}"})),
        {},
    ),
    "timeout": (VerificationUnavailable, _slow, {"read_timeout": 0.2}),
    "dropped_connection": (VerificationUnavailable, _dropping, {}),
    "refused_connection": (VerificationUnavailable, _down, {}),
}


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    caplog.set_level(logging.DEBUG, logger="identity")
    yield caplog


def _texts_of_exception(error: BaseException) -> Iterator[str]:
    seen: set[int] = set()
    current: BaseException | None = error
    pending = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield str(current)
        yield repr(current)
        yield repr(current.args)
        yield repr(vars(current))
        yield from (repr(note) for note in getattr(current, "__notes__", []))
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    yield "".join(traceback.format_exception(error))
    yield "".join(traceback.format_exception(error, chain=True))


def _texts_of_records(records: list[logging.LogRecord]) -> Iterator[str]:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    for record in records:
        yield record.getMessage()
        yield repr(record.msg)
        yield repr(record.args)
        yield formatter.format(record)
        if record.exc_info and record.exc_info[1] is not None:
            yield from _texts_of_exception(record.exc_info[1])
        yield record.exc_text or ""
        yield repr(record.__dict__)


def _leaks(texts: Iterator[str]) -> list[tuple[str, str]]:
    return [(secret, text) for text in texts for secret in SECRETS if secret in text]


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_name_and_number_never_reach_logs_or_exception_text(
    scenario: str,
    everything_logged: pytest.LogCaptureFixture,
) -> None:
    expected, setup, options = SCENARIOS[scenario]
    settings: dict[str, Any] = {"connect_timeout": 0.5, "read_timeout": 1.0, "retries": 2, "backoff": 0.01}
    settings.update(options)
    with Authority() as authority:
        verifier = HttpVerifier(setup(authority), **settings)
        raised: BaseException | None = None
        try:
            verifier.verify(NAME, DOCUMENT)
        except DomainError as error:
            raised = error
        finally:
            verifier.close()

        if "refused" not in scenario:
            # The name did travel, in the one place it has to: the request body.
            assert json.loads(authority.requests[0].body)["real_name"] == NAME

    if expected is None:
        assert raised is None
    else:
        assert isinstance(raised, expected)
        assert raised.__cause__ is None
        assert raised.__context__ is None
        assert _leaks(_texts_of_exception(raised)) == []

    records = everything_logged.records
    assert any(r.name.startswith("urllib3") for r in records), "urllib3's DEBUG log was not captured"
    assert any(r.name == "identity.verifiers.http" for r in records), "the verifier logged no outcome"
    assert _leaks(_texts_of_records(records)) == []
    assert _leaks(iter([everything_logged.text])) == []


def test_verifier_repr_shows_the_authority_origin_only() -> None:
    verifier = HttpVerifier("https://user:pa55word@authority.example:8443/verify?key=abc")
    assert repr(verifier) == "HttpVerifier('https://authority.example:8443', retries=2)"
    verifier.close()

"""HttpVerifier against a real local authority (tests.support.authority)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
import urllib3

from identity.errors import IdentityNotVerified, VerificationUnavailable
from identity.verifiers import HttpVerifier, Verification
from identity.verifiers.http import DEFAULT_RETRY_AFTER, MAX_ANSWER_BYTES, MAX_RETRY_AFTER, parse_retry_after
from tests.support.authority import Authority, Canned, refused_url

from .stand_ins import FIXED_NOW

if TYPE_CHECKING:
    from identity.documents import Document

MakeVerifier = Callable[..., HttpVerifier]


def test_known_pair_is_authority_verified_at_the_clocks_time(
    authority: Authority, make_verifier: MakeVerifier, known_name: str, known_document: Document
) -> None:
    verification = make_verifier(authority.url).verify(known_name, known_document)

    assert verification == Verification(level="authority_verified", method="http", verified_at=FIXED_NOW)
    assert authority.calls == 1


def test_unknown_pair_is_not_verified_and_asked_only_once(
    authority: Authority, make_verifier: MakeVerifier, known_name: str, unknown_document: Document
) -> None:
    with pytest.raises(IdentityNotVerified) as raised:
        make_verifier(authority.url).verify(known_name, unknown_document)

    assert raised.value.code == "identity_not_verified"
    assert raised.value.status == 422
    assert authority.calls == 1


def test_request_is_a_json_post_of_name_type_and_number(
    authority: Authority, make_verifier: MakeVerifier, known_name: str, known_document: Document
) -> None:
    make_verifier(authority.url).verify(known_name, known_document)

    (request,) = authority.requests
    assert request.method == "POST"
    assert request.path == "/verify"
    assert request.content_type == "application/json"
    assert request.json == {
        "real_name": known_name,
        "id_type": "cn_resident_id",
        "id_number": known_document.number,
    }


def test_consecutive_verifications_reuse_one_kept_alive_connection(
    authority: Authority, make_verifier: MakeVerifier, known_name: str, known_document: Document
) -> None:
    verifier = make_verifier(authority.url)
    for _ in range(3):
        verifier.verify(known_name, known_document)

    assert len({request.client_port for request in authority.requests}) == 1


@pytest.mark.parametrize("status", [502, 503, 504])
def test_one_gateway_failure_is_retried_then_the_answer_is_used(
    status: int,
    authority: Authority,
    make_verifier: MakeVerifier,
    known_name: str,
    known_document: Document,
) -> None:
    authority.fail_next(1, status=status)

    verification = make_verifier(authority.url).verify(known_name, known_document)

    assert verification.level == "authority_verified"
    assert authority.calls == 2
    first, second = authority.requests
    assert first.body == second.body


def test_a_definitive_no_after_a_retry_is_still_a_no(
    authority: Authority, make_verifier: MakeVerifier, known_name: str, unknown_document: Document
) -> None:
    authority.fail_next(1, status=502)

    with pytest.raises(IdentityNotVerified):
        make_verifier(authority.url).verify(known_name, unknown_document)
    assert authority.calls == 2


def test_gateway_failures_are_retried_at_most_retries_times_then_unavailable(
    authority: Authority, make_verifier: MakeVerifier, known_name: str, known_document: Document
) -> None:
    authority.fail_next(10, status=502)

    with pytest.raises(VerificationUnavailable) as raised:
        make_verifier(authority.url, retries=2).verify(known_name, known_document)

    assert authority.calls == 3
    assert raised.value.status == 503
    assert raised.value.code == "verification_unavailable"
    assert raised.value.retry_after == DEFAULT_RETRY_AFTER


def test_zero_retries_asks_exactly_once(
    authority: Authority, make_verifier: MakeVerifier, known_name: str, known_document: Document
) -> None:
    authority.fail_next(1, status=504)

    with pytest.raises(VerificationUnavailable):
        make_verifier(authority.url, retries=0).verify(known_name, known_document)
    assert authority.calls == 1


def test_internal_server_error_is_unavailable_and_not_retried(
    authority: Authority, make_verifier: MakeVerifier, known_name: str, known_document: Document
) -> None:
    # Only 502-504 say "try again"; a 500 is the authority's own failure on this request.
    authority.fail_next(1, status=500)

    with pytest.raises(VerificationUnavailable) as raised:
        make_verifier(authority.url).verify(known_name, known_document)

    assert raised.value.retry_after == DEFAULT_RETRY_AFTER
    assert authority.calls == 1


def test_authority_timeout_answers_unavailable_without_retrying_forever(
    authority: Authority, make_verifier: MakeVerifier, known_name: str, known_document: Document
) -> None:
    authority.sleep_before_answer(5.0)
    verifier = make_verifier(authority.url, connect_timeout=0.5, read_timeout=0.25, retries=2, backoff=0.01)

    started = time.monotonic()
    with pytest.raises(VerificationUnavailable) as raised:
        verifier.verify(known_name, known_document)
    elapsed = time.monotonic() - started

    assert authority.calls == 3  # first try + 2 retries, then it gives up
    assert 3 * 0.25 <= elapsed < verifier.worst_case_seconds()
    assert raised.value.retry_after == DEFAULT_RETRY_AFTER
    assert "in time" in raised.value.detail


def test_slow_first_answer_is_retried_and_a_prompt_second_one_used(
    authority: Authority, make_verifier: MakeVerifier, known_name: str, known_document: Document
) -> None:
    authority.slow_next(2.0)  # the first call is answered late; later ones at once
    verifier = make_verifier(authority.url, read_timeout=0.25, retries=1)

    verification = verifier.verify(known_name, known_document)

    assert verification.method == "http"
    assert authority.calls == 2


def test_refused_connection_answers_unavailable_quickly(
    make_verifier: MakeVerifier, known_name: str, known_document: Document
) -> None:
    verifier = make_verifier(refused_url(), retries=2, backoff=0.01)

    started = time.monotonic()
    with pytest.raises(VerificationUnavailable) as raised:
        verifier.verify(known_name, known_document)

    assert time.monotonic() - started < 2.0
    assert raised.value.retry_after == DEFAULT_RETRY_AFTER
    assert "could not be reached" in raised.value.detail


def test_connection_dropped_without_answer_is_retried(
    authority: Authority, make_verifier: MakeVerifier, known_name: str, known_document: Document
) -> None:
    authority.drop_next(2)

    verification = make_verifier(authority.url, retries=2).verify(known_name, known_document)

    assert verification.level == "authority_verified"
    assert authority.calls == 3


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"<html>Bad Gateway</html>", id="html"),
        pytest.param(b"", id="empty"),
        pytest.param(b"[true]", id="array"),
        pytest.param(b'"match"', id="string"),
        pytest.param(b"{}", id="no-match-key"),
        pytest.param(b'{"match": null}', id="null"),
        pytest.param(b'{"match": "true"}', id="string-true"),
        pytest.param(b'{"match": 1}', id="number"),
        pytest.param(b'{"match": true', id="truncated"),
        pytest.param(b'{"match": tr\xffue}', id="not-utf8"),
        pytest.param(b"[" * 10_000, id="deeply-nested"),
        pytest.param(b'{"match": true, "pad": "' + b"x" * MAX_ANSWER_BYTES + b'"}', id="oversized"),
    ],
)
def test_malformed_answer_is_unavailable_and_not_retried(
    body: bytes,
    authority: Authority,
    make_verifier: MakeVerifier,
    known_name: str,
    known_document: Document,
) -> None:
    authority.answer_malformed(body)

    with pytest.raises(VerificationUnavailable) as raised:
        make_verifier(authority.url).verify(known_name, known_document)

    assert authority.calls == 1
    assert raised.value.retry_after == DEFAULT_RETRY_AFTER
    assert "could not be understood" in raised.value.detail


def test_retry_after_of_a_503_is_passed_through_without_insisting(
    authority: Authority, make_verifier: MakeVerifier, known_name: str, known_document: Document
) -> None:
    authority.answer_unavailable(retry_after="7")

    with pytest.raises(VerificationUnavailable) as raised:
        make_verifier(authority.url).verify(known_name, known_document)

    assert raised.value.retry_after == 7
    assert authority.calls == 1


def test_retry_after_of_a_429_is_passed_through_without_insisting(
    authority: Authority, make_verifier: MakeVerifier, known_name: str, known_document: Document
) -> None:
    authority.answer_unavailable(retry_after="12", status=429)

    with pytest.raises(VerificationUnavailable) as raised:
        make_verifier(authority.url).verify(known_name, known_document)

    assert raised.value.retry_after == 12
    assert authority.calls == 1


def test_retry_after_of_the_authority_is_capped(
    authority: Authority, make_verifier: MakeVerifier, known_name: str, known_document: Document
) -> None:
    authority.answer_unavailable(retry_after="86400")

    with pytest.raises(VerificationUnavailable) as raised:
        make_verifier(authority.url).verify(known_name, known_document)

    assert raised.value.retry_after == MAX_RETRY_AFTER


def test_503_without_retry_after_is_retried_and_then_defaults_retry_after(
    authority: Authority, make_verifier: MakeVerifier, known_name: str, known_document: Document
) -> None:
    authority.answer_unavailable(retry_after=None)

    with pytest.raises(VerificationUnavailable) as raised:
        make_verifier(authority.url, retries=1).verify(known_name, known_document)

    assert authority.calls == 2
    assert raised.value.retry_after == DEFAULT_RETRY_AFTER


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", 7),
        (" 42 ", 42),
        ("0", 1),
        ("300", 300),
        ("301", MAX_RETRY_AFTER),
        ("9" * 5000, MAX_RETRY_AFTER),
        ("Wed, 21 Oct 2015 07:28:00 GMT", DEFAULT_RETRY_AFTER),
        ("-5", DEFAULT_RETRY_AFTER),
        ("1.5", DEFAULT_RETRY_AFTER),
        ("", DEFAULT_RETRY_AFTER),
        ("\uff19", DEFAULT_RETRY_AFTER),  # a full-width digit is not delta-seconds
        (None, DEFAULT_RETRY_AFTER),
    ],
)
def test_retry_after_header_is_read_as_capped_delta_seconds(header: str | None, expected: int) -> None:
    assert parse_retry_after(header) == expected


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 422])
def test_client_error_from_the_authority_is_a_logged_configuration_problem(
    status: int,
    authority: Authority,
    make_verifier: MakeVerifier,
    known_name: str,
    known_document: Document,
    caplog: pytest.LogCaptureFixture,
) -> None:
    authority.fail_next(1, status=status, body=b'{"error":"no such client"}')
    caplog.set_level(logging.INFO, logger="identity.verifiers")

    with pytest.raises(VerificationUnavailable) as raised:
        make_verifier(authority.url).verify(known_name, known_document)

    assert authority.calls == 1
    assert raised.value.retry_after == DEFAULT_RETRY_AFTER
    errors = [r for r in caplog.records if r.name == "identity.verifiers.http" and r.levelno == logging.ERROR]
    assert [r.getMessage().split(" elapsed_ms=")[0] for r in errors] == [
        f"identity verification outcome=rejected status={status} attempts=1"
    ]
    assert "no such client" not in caplog.text


def test_wrong_path_on_the_authority_is_unavailable(
    authority: Authority, make_verifier: MakeVerifier, known_name: str, known_document: Document
) -> None:
    with pytest.raises(VerificationUnavailable):
        make_verifier(authority.url.replace("/verify", "/nowhere")).verify(known_name, known_document)
    assert authority.calls == 1


def test_redirect_is_not_followed(
    authority: Authority, make_verifier: MakeVerifier, known_name: str, known_document: Document
) -> None:
    with Authority(known={(known_name, known_document.number)}) as elsewhere:
        authority.always(Canned(307, b"", {"Location": elsewhere.url}))

        with pytest.raises(VerificationUnavailable):
            make_verifier(authority.url).verify(known_name, known_document)

        assert elsewhere.calls == 0
    assert authority.calls == 1


@pytest.mark.parametrize("status", [201, 204])
def test_success_statuses_other_than_200_are_not_an_answer(
    status: int,
    authority: Authority,
    make_verifier: MakeVerifier,
    known_name: str,
    known_document: Document,
) -> None:
    authority.always(Canned(status, b'{"match": true}' if status != 204 else b""))

    with pytest.raises(VerificationUnavailable):
        make_verifier(authority.url).verify(known_name, known_document)
    assert authority.calls == 1


def test_outcome_status_attempts_and_elapsed_ms_are_logged(
    authority: Authority,
    make_verifier: MakeVerifier,
    known_name: str,
    known_document: Document,
    unknown_document: Document,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="identity.verifiers")
    verifier = make_verifier(authority.url)
    authority.fail_next(1, status=502)
    verifier.verify(known_name, known_document)
    with pytest.raises(IdentityNotVerified):
        verifier.verify(known_name, unknown_document)

    lines = [r.getMessage() for r in caplog.records if r.name == "identity.verifiers.http"]
    assert len(lines) == 2
    assert lines[0].startswith("identity verification outcome=match status=200 attempts=2 elapsed_ms=")
    assert lines[1].startswith("identity verification outcome=no_match status=200 attempts=1 elapsed_ms=")
    assert all(line.rsplit("elapsed_ms=", 1)[1].isdigit() for line in lines)


def test_injected_pool_is_used_and_left_open(authority: Authority, known_name: str, known_document: Document) -> None:
    pool = urllib3.PoolManager()
    verifier = HttpVerifier(authority.url, pool=pool)

    verifier.verify(known_name, known_document)
    verifier.close()

    assert len(pool.pools) == 1  # the caller's pool did the work and still holds it
    pool.clear()


def test_concurrent_verifications_share_the_verifier_safely(
    authority: Authority,
    make_verifier: MakeVerifier,
    known_name: str,
    known_document: Document,
    unknown_document: Document,
) -> None:
    verifier = make_verifier(authority.url)
    outcomes: list[Any] = []
    lock = threading.Lock()

    def work(document: Document) -> None:
        for _ in range(5):
            try:
                result: Any = verifier.verify(known_name, document).level
            except IdentityNotVerified:
                result = "no"
            with lock:
                outcomes.append((document.number, result))

    threads = [threading.Thread(target=work, args=(known_document if i % 2 else unknown_document,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(outcomes) == 40
    assert all(
        result == ("authority_verified" if number == known_document.number else "no") for number, result in outcomes
    )
    assert authority.calls == 40


@pytest.mark.parametrize(
    "options",
    [
        {"connect_timeout": 0},
        {"read_timeout": -1},
        {"retries": -1},
        {"backoff": -0.1},
    ],
)
def test_nonsense_settings_are_refused(options: dict[str, Any], authority: Authority) -> None:
    with pytest.raises(ValueError):
        HttpVerifier(authority.url, **options)


@pytest.mark.parametrize(
    "url", ["ftp://user:s3cret@authority.example/verify", "/verify", "http://", "http://[::1/x", "not a url"]
)
def test_non_http_url_is_refused_without_repeating_it(url: str) -> None:
    with pytest.raises(ValueError) as raised:
        HttpVerifier(url)
    assert str(raised.value) == "the verifier URL must be an absolute http(s) URL"
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_default_worst_case_is_documented_bound(authority: Authority) -> None:
    verifier = HttpVerifier(authority.url)
    assert verifier.worst_case_seconds() == pytest.approx(3 * (2.0 + 5.0) + 0.2 * 3)
    verifier.close()

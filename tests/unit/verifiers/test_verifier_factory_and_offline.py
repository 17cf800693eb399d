"""build_verifier, the OfflineVerifier and the Verification value."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest

from identity.errors import IdentityNotVerified
from identity.verifiers import HttpVerifier, OfflineVerifier, Verification, Verifier, build_verifier
from tests.support.authority import Authority, refused_port

from .stand_ins import FIXED_NOW

if TYPE_CHECKING:
    from identity.documents import Document


def test_offline_verifier_stamps_document_checked_with_the_clocks_time(
    clock: Callable[[], datetime], known_document: Document
) -> None:
    verification = OfflineVerifier(clock=clock).verify("anyone", known_document)

    assert verification == Verification(level="document_checked", method="offline", verified_at=FIXED_NOW)


def test_offline_verifier_default_clock_is_utc_now(known_document: Document) -> None:
    before = datetime.now(UTC)
    verification = OfflineVerifier().verify("anyone", known_document)

    assert verification.verified_at.tzinfo is UTC
    assert before <= verification.verified_at <= datetime.now(UTC)


def test_offline_is_the_kind_built_for_offline(clock: Callable[[], datetime], known_document: Document) -> None:
    verifier = build_verifier("offline", url=None, clock=clock)

    assert isinstance(verifier, OfflineVerifier)
    assert verifier.verify("anyone", known_document).level == "document_checked"


def test_offline_ignores_a_configured_url() -> None:
    assert isinstance(build_verifier("offline", url="http://127.0.0.1:1/verify"), OfflineVerifier)


def test_http_kind_asks_the_configured_authority(
    authority: Authority,
    clock: Callable[[], datetime],
    known_name: str,
    known_document: Document,
    unknown_document: Document,
) -> None:
    verifier = build_verifier("http", url=authority.url, timeout=1.0, retries=0, clock=clock)
    assert isinstance(verifier, HttpVerifier)
    try:
        assert verifier.verify(known_name, known_document) == Verification(
            level="authority_verified", method="http", verified_at=FIXED_NOW
        )
        with pytest.raises(IdentityNotVerified):
            verifier.verify(known_name, unknown_document)
    finally:
        verifier.close()


def test_http_kind_passes_timeout_and_retries_through() -> None:
    verifier = build_verifier("http", url=f"http://127.0.0.1:{refused_port()}/verify", timeout=5.0, retries=3)
    assert isinstance(verifier, HttpVerifier)
    assert verifier.max_attempts == 4
    # connect min(2, timeout) + read timeout per attempt, plus 0.2 * (1 + 2 + 4) backoff
    assert verifier.worst_case_seconds() == pytest.approx(4 * (2.0 + 5.0) + 1.4)

    short = build_verifier("http", url="http://127.0.0.1:1/verify", timeout=0.5, retries=0)
    assert isinstance(short, HttpVerifier)
    assert short.worst_case_seconds() == pytest.approx(0.5 + 0.5)


@pytest.mark.parametrize(
    ("kind", "url", "timeout", "retries"),
    [
        pytest.param("ldap", None, 5.0, 2, id="unknown-kind"),
        pytest.param("HTTP", "http://authority.example/verify", 5.0, 2, id="kind-is-case-sensitive"),
        pytest.param("", None, 5.0, 2, id="empty-kind"),
        pytest.param("http", None, 5.0, 2, id="http-without-url"),
        pytest.param("http", "", 5.0, 2, id="http-with-empty-url"),
        pytest.param("http", "ftp://authority.example/verify", 5.0, 2, id="http-with-ftp-url"),
        pytest.param("http", "http://authority.example/verify", 0.0, 2, id="zero-timeout"),
        pytest.param("http", "http://authority.example/verify", 5.0, -1, id="negative-retries"),
    ],
)
def test_bad_configuration_is_a_value_error(kind: str, url: str | None, timeout: float, retries: int) -> None:
    with pytest.raises(ValueError):
        build_verifier(kind, url=url, timeout=timeout, retries=retries)


def test_both_verifiers_satisfy_the_protocol(authority: Authority) -> None:
    http = HttpVerifier(authority.url)
    verifiers: list[Verifier] = [OfflineVerifier(), http]  # checked by mypy as much as here
    assert all(callable(v.verify) for v in verifiers)
    http.close()


def test_verification_is_frozen() -> None:
    verification = Verification(level="document_checked", method="offline", verified_at=FIXED_NOW)
    with pytest.raises(AttributeError):
        verification.level = "authority_verified"  # type: ignore[misc]


def test_verification_converts_an_aware_time_to_utc() -> None:
    beijing = timezone(timedelta(hours=8))
    verification = Verification(
        level="authority_verified", method="http", verified_at=datetime(2026, 11, 28, 18, 0, tzinfo=beijing)
    )
    assert verification.verified_at == FIXED_NOW
    assert verification.verified_at.tzinfo is UTC


def test_verification_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Verification(level="document_checked", method="offline", verified_at=datetime(2026, 11, 28, 10, 0))


@pytest.mark.parametrize(("level", "method"), [("verified", "offline"), ("document_checked", "manual")])
def test_verification_refuses_unknown_level_or_method(level: str, method: str) -> None:
    with pytest.raises(ValueError):
        Verification(level=level, method=method, verified_at=FIXED_NOW)  # type: ignore[arg-type]


def test_a_naive_clock_is_caught_at_the_first_verification(known_document: Document) -> None:
    with pytest.raises(ValueError):
        OfflineVerifier(clock=lambda: datetime(2026, 11, 28, 10, 0)).verify("anyone", known_document)


def test_each_verifier_says_whether_it_asks_across_the_network() -> None:
    from identity.services.sandbox import AUTHORITY
    from identity.verifiers import GuardedVerifier

    offline = build_verifier("offline", url=None)
    remote = build_verifier("http", url="http://127.0.0.1:1/verify")
    try:
        assert (offline.is_remote, remote.is_remote, AUTHORITY.is_remote) == (False, True, False)
        # The guard answers for what it wraps: registration never asks a verifier's class.
        guarded = [GuardedVerifier(inner, max_concurrent=1, failure_threshold=1, cooldown_seconds=1.0)
                   for inner in (offline, remote)]
        assert [verifier.is_remote for verifier in guarded] == [False, True]
    finally:
        assert isinstance(remote, HttpVerifier)
        remote.close()

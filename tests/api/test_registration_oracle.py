"""Registration is not an oracle: whether a number is held, and under which name, is told only to
a platform that already knows the name, and guessing is bounded by the mismatch limits."""

from __future__ import annotations

import json
from dataclasses import replace

from sqlalchemy import select

from identity import create_app
from identity.extensions import db
from identity.models import AuditEvent, Person
from identity.settings import TEST_ARGON2, Settings
from tests.conftest import Platforms
from tests.support.authority import Authority
from tests.support.people import registration, resident_id

HELD = resident_id(sequence=11)
NOT_HELD = resident_id(sequence=12)
# Headers that differ between any two responses, whatever they answer.
VARYING = {"X-Request-Id", "Date"}


def post(client, headers, number: str, name: str = "张三"):
    return client.post("/v1/registrations", json=registration(number, name=name), headers=headers)


def same_answer(one, two) -> bool:
    """Byte for byte the same body, and the same headers but for those that vary per request."""
    def headers(response):
        return sorted((k, v) for k, v in response.headers.items() if k not in VARYING)
    return (one.status_code, one.get_data(), headers(one)) == (two.status_code, two.get_data(), headers(two))


def mismatch_events(app) -> list[dict]:
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "registration.not_verified")
                                    .order_by(AuditEvent.seq)).all()
        return [{"actor": e.actor, "subject": e.subject, **json.loads(e.details)} for e in events]


def test_only_a_matching_name_learns_of_the_duplicate_and_its_pseudonyms(client, auth):
    first = post(client, auth, HELD)
    assert first.status_code == 201
    duplicate = post(client, auth, HELD)
    assert duplicate.status_code == 409
    assert duplicate.get_json()["existing_pseudonyms"] == [first.get_json()["pseudonym"]]
    guessed = post(client, auth, HELD, name="李四")
    assert (guessed.status_code, guessed.get_json()["code"]) == (422, "identity_not_verified")
    assert "existing_pseudonyms" not in guessed.get_json()
    assert first.get_json()["pseudonym"] not in guessed.get_data(as_text=True)


def test_a_held_number_with_another_name_answers_exactly_as_an_authority_mismatch(settings):
    # The authority confirms both names for HELD (a person who changed their name), so the
    # first 422 below can only come from the name the service holds; NOT_HELD is unknown to it.
    with Authority(known={("张三", HELD), ("李四", HELD)}) as authority:
        app = create_app(replace(settings, verifier="http", verifier_url=authority.url))
        helper = Platforms(app)
        one, two = helper.headers(helper.create()), helper.headers(helper.create())
        client = app.test_client()
        assert post(client, one, HELD).status_code == 201
        asked = len(authority.bodies)
        held_elsewhere = post(client, two, HELD, name="李四")
        assert len(authority.bodies) == asked + 1  # asked all the same: no shortcut that answers faster
        authority_mismatch = post(client, two, NOT_HELD, name="李四")
        assert held_elsewhere.status_code == 422
        assert same_answer(held_elsewhere, authority_mismatch)
        assert [e["source"] for e in mismatch_events(app)] == ["held_name", "authority"]


def test_every_mismatch_is_audited_with_a_keyed_reference_and_never_the_number(app, client, platforms):
    one, two = platforms.create(), platforms.create()
    assert post(client, platforms.headers(one), HELD).status_code == 201
    for name in ("李四", "王五"):
        assert post(client, platforms.headers(two), HELD, name=name).status_code == 422
    events = mismatch_events(app)
    assert len(events) == 2
    assert all(e["actor"] == f"platform:{two}" and e["platform"] == two for e in events)
    assert events[0]["document_ref"] == events[1]["document_ref"]  # the same document, recognisably
    assert len(bytes.fromhex(events[0]["document_ref"])) == 32
    with app.app_context():
        person = db.session.scalars(select(Person)).one()
        raw = " ".join(f"{e.subject} {e.details}" for e in db.session.scalars(select(AuditEvent)))
    assert person.doc_index is not None and person.doc_index.hex() not in raw  # not the blind index either
    for secret in (HELD, HELD[:-1], "张三", "李四", "王五", "\\u674e\\u56db"):
        assert secret not in raw


def test_three_mismatches_for_one_document_stop_every_registration_of_it_for_a_day(client, platforms, clock):
    holder, guesser = platforms.headers(platforms.create()), platforms.headers(platforms.create())
    assert post(client, holder, HELD).status_code == 201
    for name in ("李四", "王五", "赵六"):
        assert post(client, guesser, HELD, name=name).status_code == 422
        clock.advance(minutes=10)
    # The fourth try, even with the right name, learns nothing: 429 until the first try is a day old.
    limited = post(client, guesser, HELD, name="张三")
    assert (limited.status_code, limited.get_json()["code"]) == (429, "rate_limited")
    assert limited.headers["Retry-After"] == str(24 * 3600 - 30 * 60)
    # Nobody else is locked out: other documents of this platform, this document on other platforms.
    assert post(client, guesser, NOT_HELD).status_code == 201
    assert post(client, holder, HELD).status_code == 409
    clock.advance(hours=23, minutes=29, seconds=59)
    last_second = post(client, guesser, HELD, name="张三")
    assert (last_second.status_code, last_second.headers["Retry-After"]) == (429, "1")
    clock.advance(seconds=1)
    assert post(client, guesser, HELD, name="张三").status_code == 201  # the window has passed


def test_a_platform_without_the_name_tells_held_from_not_held_at_most_mismatch_limit_times(
        app, client, platforms, clock):
    """With the offline verifier a number nobody holds registers (201), and a held one with a
    guessed name answers 422: each 422 tells "held". The platform's mismatch_limit bounds how many
    it can collect; after that every registration answers the same 429, held or not, whatever the
    name (docs/registration.md, "What a platform can still learn")."""
    holder = platforms.headers(platforms.create())
    guesser_id = platforms.create(mismatch_limit="2 per hour")
    guesser = platforms.headers(guesser_id)
    held = [resident_id(sequence=s) for s in range(20, 26)]
    not_held = [resident_id(sequence=s) for s in range(30, 36)]
    for number in held:
        assert post(client, holder, number).status_code == 201
    answers = []
    for held_number, free_number in zip(held, not_held, strict=True):
        answers.append(("held", post(client, guesser, held_number, name="李四")))
        answers.append(("not held", post(client, guesser, free_number, name="李四")))
    statuses = [(kind, r.status_code) for kind, r in answers]
    assert statuses[:4] == [("held", 422), ("not held", 201), ("held", 422), ("not held", 429)]
    told_held = [kind for kind, r in answers if r.status_code == 422]
    assert told_held == ["held", "held"]  # exactly the limit, and never more
    after_limit = [r for _, r in answers[3:]]
    assert all(r.status_code == 429 for r in after_limit)
    assert all(same_answer(after_limit[0], r) for r in after_limit[1:])  # held or not: one answer
    assert after_limit[0].headers["Retry-After"] == "3600"
    # even the real name, of a held number or of a new one, waits
    assert post(client, guesser, held[-1]).status_code == 429
    assert post(client, guesser, resident_id(sequence=40)).status_code == 429
    clock.advance(hours=1)
    assert post(client, guesser, resident_id(sequence=40)).status_code == 201


def test_authority_mismatches_count_and_a_limited_document_never_reaches_the_authority(settings, monkeypatch):
    with Authority(known=set()) as authority:
        app = create_app(replace(settings, verifier="http", verifier_url=authority.url))
        helper = Platforms(app)
        headers = helper.headers(helper.create())
        client = app.test_client()
        for name in ("张三", "李四", "王五"):
            assert post(client, headers, NOT_HELD, name=name).status_code == 422
        asked = len(authority.bodies)
        assert post(client, headers, NOT_HELD).status_code == 429
        assert len(authority.bodies) == asked
        assert [e["source"] for e in mismatch_events(app)] == ["authority"] * 3


def test_the_default_platform_limit_comes_from_identity_mismatch_limit(settings):
    app = create_app(Settings.from_env({
        "IDENTITY_INSTANCE_PATH": str(settings.instance_path), "IDENTITY_DATABASE_URL": settings.database_url,
        "IDENTITY_ROOT_KEY_FILE": str(settings.root_key_file), "IDENTITY_RATE_LIMIT": settings.rate_limit,
        "IDENTITY_MISMATCH_LIMIT": "1 per minute"}, argon2=TEST_ARGON2, testing=True))
    helper = Platforms(app)
    holder, guesser = helper.headers(helper.create()), helper.headers(helper.create())
    client = app.test_client()
    assert post(client, holder, HELD).status_code == 201
    assert post(client, guesser, HELD, name="李四").status_code == 422
    limited = post(client, guesser, NOT_HELD)
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60


def test_limits_count_across_processes(app, settings):
    """Two app instances on one database stand for two server processes: mismatches answered by
    one count in the other, even where the other had found the platform clear a moment before."""
    second = create_app(settings)
    helper = Platforms(app)
    holder, guesser_id = helper.headers(helper.create()), helper.create(mismatch_limit="2 per hour")
    guesser = helper.headers(guesser_id)
    one, two = app.test_client(), second.test_client()
    assert post(one, holder, HELD).status_code == 201
    assert post(one, guesser, resident_id(sequence=50)).status_code == 201  # process one: the guesser is clear
    assert post(two, guesser, HELD, name="李四").status_code == 422
    assert post(one, guesser, HELD, name="王五").status_code == 422
    assert post(one, guesser, resident_id(sequence=51)).status_code == 429
    assert post(two, guesser, resident_id(sequence=51)).status_code == 429

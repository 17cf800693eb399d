"""registration.prepare: the contract's field rules and the platform's policy, before anything is stored."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from identity.errors import AgeRequirementNotMet, GuardianConsentRequired, ValidationFailed
from identity.services.registration import RegistrationRequest, prepare
from tests.support.people import resident_id

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ADULT = resident_id(birth=date(1990, 5, 17))


def request(number: str = ADULT, **changes: object) -> RegistrationRequest:
    base = RegistrationRequest(real_name=" 张三 ", id_type="cn_resident_id", id_number=number, issuing_country=None,
                               phone=None, external_ref="user-1", notice_version="2026-01",
                               accepted_at=datetime(2026, 11, 28, 10, tzinfo=UTC), guardian_consent=None)
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_valid_request_is_normalised_and_an_adult_is_marked_so(caller):
    prepared = prepare(request(), caller(), NOW)
    assert prepared.identity.real_name == "张三"
    assert prepared.identity.document.number == ADULT and prepared.identity.document.birth_date == date(1990, 5, 17)
    assert prepared.adult is True and prepared.guardian_consent is False and prepared.external_ref == "user-1"


def test_every_broken_field_is_named_at_once_and_no_error_repeats_a_value(caller):
    with pytest.raises(ValidationFailed) as refused:
        prepare(request("11010519491231002Y", real_name="", phone="+8613800138000",
                        accepted_at=datetime(2027, 1, 1, tzinfo=UTC)), caller(), NOW)
    errors = refused.value.errors
    assert {"real_name", "id_document.number", "phone", "consent.accepted_at"} <= set(errors)
    assert "11010519491231002Y" not in str(errors) and "13800138000" not in str(errors)


def test_the_phone_follows_the_platforms_policy(caller):
    with pytest.raises(ValidationFailed) as required:
        prepare(request(), caller(phone="required"), NOW)
    assert set(required.value.errors) == {"phone"}
    prepared = prepare(request(phone="+86 138 0013 8000"), caller(phone="optional"), NOW)
    assert prepared.identity.phone == "+8613800138000"


def test_a_child_under_14_needs_guardian_consent_and_a_minor_is_not_adult(caller):
    child = resident_id(birth=date(2016, 1, 1))
    with pytest.raises(GuardianConsentRequired):
        prepare(request(child), caller(), NOW)
    prepared = prepare(request(child, guardian_consent=True), caller(), NOW)
    assert prepared.adult is False and prepared.guardian_consent is True


def test_a_platforms_minimum_age_is_applied_on_the_date_of_now(caller):
    turns_18_tomorrow = resident_id(birth=date(2008, 12, 2))
    with pytest.raises(AgeRequirementNotMet):
        prepare(request(turns_18_tomorrow), caller(min_age=18), NOW)
    assert prepare(request(turns_18_tomorrow), caller(min_age=18), NOW.replace(day=2)).adult is True

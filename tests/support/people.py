"""Valid identities for tests, built with the GB 11643 check digit so any number of them exist."""

from __future__ import annotations

from datetime import date
from typing import Any

WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]


def resident_id(region: str = "110105", birth: date = date(1990, 5, 17), sequence: int = 1) -> str:
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    check = (12 - sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11) % 11
    return body + ("X" if check == 10 else str(check))


def registration(number: str | None = None, *, name: str = "张三", birth: date = date(1990, 5, 17),
                 sequence: int = 1, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "real_name": name,
        "id_document": {"type": "cn_resident_id", "number": number or resident_id(birth=birth, sequence=sequence)},
        "consent": {"notice_version": "2026-01", "accepted_at": "2026-11-28T10:00:00Z"},
    }
    body.update(extra)
    return body


def register(client: Any, headers: dict[str, str], number: str | None = None, **kwargs: Any) -> str:
    """Register one person through the API (the test fails unless it answers 201); their pseudonym.
    `number` and `kwargs` are `registration`'s."""
    response = client.post("/v1/registrations", json=registration(number, **kwargs), headers=headers)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["pseudonym"])

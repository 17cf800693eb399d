"""Birth dates encoded in document numbers, and age arithmetic."""

from __future__ import annotations

import datetime
from typing import Final

from . import messages

#: Earliest birth date accepted in a document number.  Nobody born before
#: 1900 is alive to register (the oldest living people were born after 1905),
#: while 1900 itself leaves a margin.  GB 11643's own worked example,
#: 440524188001010014 (born 1880), is therefore refused although its check
#: character is right.
EARLIEST_BIRTH_DATE: Final = datetime.date(1900, 1, 1)


def as_date(day: datetime.date) -> datetime.date:
    """A plain date, even if a datetime (a subclass of date) was passed."""
    if isinstance(day, datetime.datetime):
        return day.date()
    return day


def parse_birth_date(yyyymmdd: str, *, today: datetime.date) -> tuple[datetime.date | None, str | None]:
    """Parse 8 ASCII digits as a birth date.

    Returns ``(date, None)`` or ``(None, message)``.  The date must exist in
    the calendar (29 February only in leap years), must not be after
    ``today`` (a birth date equal to ``today`` is accepted) and must not be
    before `EARLIEST_BIRTH_DATE`.
    """
    today = as_date(today)
    if len(yyyymmdd) != 8 or not yyyymmdd.isascii() or not yyyymmdd.isdigit():
        return None, messages.BIRTH_DATE_INVALID
    year, month, day = int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:])
    try:
        born = datetime.date(year, month, day)
    except ValueError:
        return None, messages.BIRTH_DATE_INVALID
    if born > today:
        return None, messages.BIRTH_DATE_FUTURE
    if born < EARLIEST_BIRTH_DATE:
        return None, messages.BIRTH_DATE_TOO_EARLY
    return born, None


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    """Completed years of age on ``day``.

    A birthday counts from the birthday itself.  Someone born on 29 February
    turns a year older on 1 March in non-leap years (the common legal
    convention, e.g. for reaching 18: on 28 February they are still a year
    younger).  Note that Chinese criminal law counts an age as reached only
    from the day *after* the birthday (SPC interpretation on juvenile cases,
    2006, art. 2); callers that need that rule can pass ``day - 1 day``.

    Raises ValueError if ``day`` is before ``birth_date``.
    """
    birth_date = as_date(birth_date)
    day = as_date(day)
    if day < birth_date:
        raise ValueError("the day is before the birth date")
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)

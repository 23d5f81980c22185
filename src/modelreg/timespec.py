"""Instants typed by people: ``--at``, ``--since``, ``--until`` and ``registered>…`` terms.

Pure.  Tag dates have one-second resolution and are shown in UTC, so a time without a zone is
UTC and a date is its midnight.  The browser's copy of this grammar
(``assets/search.js``) follows the same rules; ``tests/search_cases.json`` holds both to it.
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta, timezone

from modelreg.errors import InvalidInputError

FORMS = "2026-11-20, 2026-11-20T10:02 or 2026-11-20T10:02:11 (UTC unless it ends in Z or +HH:MM)"
"""The accepted forms, as error messages list them."""

# [0-9], not \d: Python's \d takes any script's digits, the browser's only ASCII ones.
_INSTANT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?(Z|[+-][0-9]{2}:[0-9]{2})?)?"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def epoch_seconds(text: str) -> int | None:
    """Seconds since the epoch of ``text`` in one of :data:`FORMS`; ``None`` if it is not one."""
    m = _INSTANT.fullmatch(text)
    if m is None:
        return None
    year, month, day = int(m[1]), int(m[2]), int(m[3])
    hour, minute, second = int(m[4] or 0), int(m[5] or 0), int(m[6] or 0)
    if year < 1 or not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
        return None
    if hour > 23 or minute > 59 or second > 59:
        return None
    offset = 0
    zone = m[7]
    if zone and zone != "Z":
        zone_hours, zone_minutes = int(zone[1:3]), int(zone[4:6])
        if zone_hours > 23 or zone_minutes > 59:
            return None
        offset = (zone_hours * 60 + zone_minutes) * 60 * (-1 if zone[0] == "-" else 1)
    return calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)) - offset


def parse_instant(text: str, what: str = "time") -> datetime:
    """The UTC instant ``text`` names; a one-line error naming ``what`` otherwise."""
    seconds = epoch_seconds(text)
    try:
        if seconds is not None:
            return _EPOCH + timedelta(seconds=seconds)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first day datetime knows
        pass
    raise InvalidInputError(f"invalid {what} {text!r}: use {FORMS}")


def instant(value: datetime | str, what: str = "time") -> datetime:
    """An aware instant from a ``datetime`` (naive means UTC) or text in :data:`FORMS`."""
    if isinstance(value, str):
        return parse_instant(value, what)
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def shown(when: datetime) -> str:
    """``2026-11-20T10:02:11Z``: how answers name an instant."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

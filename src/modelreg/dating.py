"""Truthful tag dates that still keep a model's events in the order the writer meant.

A tag is dated now, never in the future: a GTO or DVC reader (and a later writer on another
machine) compares dates, so a date pushed ahead would sort a colleague's event of the next
second before ours.  Dates have one-second resolution, so an event in the same second as an
earlier one can read as if it came first (GTO's tie rules, :mod:`modelreg.state`).  Where that
would change what the model's tags mean — who holds a stage, which versions are active,
whether the model is deprecated — the write waits for the next second.  A previous event
dated in the future (clock skew, or tags from an older modelreg, which dated ahead) is waited
for up to :data:`MAX_WAIT` seconds; beyond that the write is refused.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

from modelreg import clock
from modelreg.errors import ConflictError
from modelreg.state import ModelState
from modelreg.tags import RawTag

MAX_WAIT = 2.0
"""Longest wait, in seconds, for the clock to pass a model's newest event."""


class ClockSkewError(ConflictError):
    """A model's newest event is dated too far in the future to write after it."""


def _meaning(state: ModelState) -> tuple[object, ...]:
    """What readers conclude from a model's tags."""
    pairs = sorted(key for key, pair in state.pairs.items() if pair.active)
    return (state.holders(), state.deprecated, state.active_versions(), pairs)


def tag_date(state: ModelState, tag: RawTag) -> int:
    """The date for ``tag``: now, or the first second in which it means what the writer
    meant (coming after every event in ``state``)."""
    meant = _meaning(state.with_tag(dataclasses.replace(tag, timestamp=state.last_timestamp + 1)))
    source = clock.current()
    while True:
        now = int(source.now())
        if _meaning(state.with_tag(dataclasses.replace(tag, timestamp=now))) == meant:
            return now
        newest = max(state.events, key=lambda e: e.raw.timestamp).raw
        wait = newest.timestamp + 1 - source.now()
        if wait > MAX_WAIT:
            when = datetime.fromtimestamp(newest.timestamp, tz=timezone.utc)
            ahead = round(newest.timestamp - source.now())
            raise ClockSkewError(
                f"cannot date {tag.name!r} after {newest.name!r}, which is dated "
                f"{when:%Y-%m-%d %H:%M:%S}Z, {ahead} s ahead of this machine's clock: "
                "check the clocks (`date -u` here and wherever that tag was made), then retry"
            )
        source.sleep(max(wait, 0.0))

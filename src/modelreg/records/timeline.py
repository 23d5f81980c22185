"""A stage's holds over time, as ``history --stages`` and the site show them."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from modelreg.records.event import Event


@dataclasses.dataclass(frozen=True, kw_only=True)
class StageSpan:
    """One uninterrupted hold of a stage by one version, replayed from the event tags.

    ``how`` says how the version got the stage: ``promote`` (assigned for the first time),
    ``rollback`` (assigned again after it had lost the stage), ``handback`` (the stage came
    back to it because a newer holder was demoted or deregistered) or ``revive`` (a later
    event revived a deprecated model).  ``ended`` says how it lost it: ``replaced``,
    ``demote``, ``deregister`` or ``deprecate``; ``None`` while it holds the stage now.
    ``start``/``end`` are the events (tags) at those instants.
    """

    model: str
    stage: str
    version: str
    since: datetime
    until: datetime | None
    how: str
    start: Event
    ended: str | None = None
    end: Event | None = None

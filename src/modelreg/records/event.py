"""One registry event, read from one annotated tag."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from modelreg.records import EventKind


@dataclasses.dataclass(frozen=True, kw_only=True)
class Event:
    """One registry event, read from one annotated tag."""

    model: str
    kind: EventKind
    version: str | None = None
    stage: str | None = None
    counter: int | None = None
    tag: str
    commit: str
    timestamp: datetime
    author: str
    author_email: str
    message: str

    @property
    def headline(self) -> str:
        """The message's first line: what happened (``Promote churn v1.3.0 to production``)."""
        return self.message.strip().split("\n", 1)[0].strip()

    @property
    def note(self) -> str:
        """The rest of the message: the ``-m`` note given with the change (its reason), and
        ``Policy overridden with --force.`` when it was forced; empty when there is none."""
        parts = self.message.strip().split("\n", 1)
        return parts[1].strip() if len(parts) == 2 else ""

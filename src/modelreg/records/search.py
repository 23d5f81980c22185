"""One version as ``search`` and the site's search see it."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from modelreg.records import Scalar, field


@dataclasses.dataclass(frozen=True, kw_only=True)
class SearchRow:
    """One version as ``search`` sees it, and as the site embeds it for the browser's search.

    ``registered_at`` is UTC to the second (``--json``: ``2026-11-20T10:02:11Z``), ``author``
    is ``Name <email>``, ``stages`` are the stages it holds now.
    """

    model: str
    version: str
    tag: str
    registered_at: datetime
    author: str
    labels: list[str] = field(list)
    stages: list[str] = field(list)
    flavor: str | None = None
    metrics: dict[str, float] = field(dict)
    params: dict[str, Scalar] = field(dict)

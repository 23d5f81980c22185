"""Records that cross the library boundary: what the API returns and ``--json`` prints.

All frozen: a record is a fact about the registry at the time it was read.  They are plain
dataclasses rather than pydantic models on purpose: a read query's budget is a few hundred
milliseconds, and a record is created far more often than it is validated.  Validation
happens where untrusted input enters: the CLI's options, ``registry.yaml``
(:mod:`modelreg.index.schema`) and tag messages (``ArtifactRecord.from_json``).

Each record lives in a small module of this package, imported the first time its name is
asked for (``from modelreg.records import ModelVersion`` works as ever): creating a frozen
dataclass costs about 0.8 ms, and a query that returns one kind of record should not create
all twelve (``python -X importtime -m modelreg which …`` shows which ones it does).
"""

from __future__ import annotations

import dataclasses
import importlib
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # The names __getattr__ below provides, as type checkers see them.
    from modelreg.records.artifact import ArtifactRecord as ArtifactRecord
    from modelreg.records.change import AppliedChange as AppliedChange
    from modelreg.records.change import Proposal as Proposal
    from modelreg.records.change import RebuiltIndex as RebuiltIndex
    from modelreg.records.change import StageChange as StageChange
    from modelreg.records.compare import Comparison as Comparison
    from modelreg.records.compare import ValueDelta as ValueDelta
    from modelreg.records.event import Event as Event
    from modelreg.records.model import ModelDetail as ModelDetail
    from modelreg.records.model import ModelSummary as ModelSummary
    from modelreg.records.search import SearchRow as SearchRow
    from modelreg.records.timeline import StageSpan as StageSpan
    from modelreg.records.version import ModelVersion as ModelVersion


class EventKind(str, Enum):
    """What a tag records.  The value is the word used in history output."""

    REGISTER = "register"
    DEREGISTER = "deregister"
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    DEPRECATE = "deprecate"


Scalar = float | int | str | bool


def to_jsonable(value: Any) -> Any:
    """Records, lists and dicts of them as JSON-ready data (datetimes in ISO 8601)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Enum):
        return value.value
    return value


def field(default_factory: Any) -> Any:
    return dataclasses.field(default_factory=default_factory)


__all__ = [
    "AppliedChange",
    "ArtifactRecord",
    "Comparison",
    "Event",
    "EventKind",
    "ModelDetail",
    "ModelSummary",
    "ModelVersion",
    "Proposal",
    "RebuiltIndex",
    "Scalar",
    "SearchRow",
    "StageChange",
    "StageSpan",
    "ValueDelta",
    "field",
    "to_jsonable",
]

# Where each record lives: ``from modelreg.records import NAME`` imports only that module.
_HOMES = {
    "ArtifactRecord": "artifact",
    "Event": "event",
    "ModelVersion": "version",
    "ModelSummary": "model",
    "ModelDetail": "model",
    "ValueDelta": "compare",
    "Comparison": "compare",
    "StageChange": "change",
    "Proposal": "change",
    "RebuiltIndex": "change",
    "AppliedChange": "change",
    "SearchRow": "search",
    "StageSpan": "timeline",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # asked once: later lookups are plain attribute reads
    return value

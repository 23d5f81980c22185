"""Records that cross the library boundary: what the API returns and ``--json`` prints.

All frozen: a record is a fact about the registry at the time it was read.  They are plain
dataclasses rather than pydantic models on purpose: a read query's budget is a few hundred
milliseconds and pydantic's import and schema building alone cost about a hundred (measured
with ``python -X importtime``).  Validation happens where untrusted input enters: the CLI's
options, ``registry.yaml`` (``index.py``) and tag messages (``from_json``).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from enum import Enum
from typing import Any

from modelreg.untrusted import is_md5, relpath_problem, shown


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


@dataclasses.dataclass(frozen=True, kw_only=True)
class ArtifactRecord:
    """The immutable facts about one version's bytes and provenance.

    Written into the registration tag's message, so the index can be rebuilt from tags alone.
    """

    path: str
    md5: str
    size: int
    nfiles: int | None = None
    metrics: dict[str, float] = field(dict)
    params: dict[str, Scalar] = field(dict)
    description: str | None = None
    labels: list[str] = field(list)
    registered_by: str
    registered_at: datetime
    card: dict[str, Any] | None = None

    def to_json(self) -> str:
        """Compact, key-sorted JSON: the machine-readable line of a registration tag."""
        return json.dumps(to_jsonable(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> ArtifactRecord:
        """Parse :meth:`to_json` output; ``ValueError`` when it is not one."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("record is not an object")
        # A tag message is untrusted: its path and md5 become file names, its size a count.
        problem = relpath_problem(data.get("path"))
        if problem is not None:
            raise ValueError(f"record path {shown(data.get('path'))}: {problem}")
        if not is_md5(data.get("md5")):
            raise ValueError(f"record md5 {shown(data.get('md5'))} is not an md5")
        for key in ("size", "nfiles"):
            value = data.get(key)
            if value is not None and (type(value) is not int or value < 0):
                raise ValueError(f"record {key} {shown(value)} is not a count")
        try:
            return cls(
                path=str(data["path"]),
                md5=str(data["md5"]),
                size=int(data["size"]),
                nfiles=int(data["nfiles"]) if data.get("nfiles") is not None else None,
                metrics={str(k): float(v) for k, v in (data.get("metrics") or {}).items()},
                params={str(k): v for k, v in (data.get("params") or {}).items()},
                description=data.get("description"),
                labels=[str(v) for v in data.get("labels") or []],
                registered_by=str(data["registered_by"]),
                registered_at=datetime.fromisoformat(
                    str(data["registered_at"]).replace("Z", "+00:00")
                ),
                card=data["card"] if isinstance(data.get("card"), dict) else None,
            )
        except (KeyError, TypeError, AttributeError) as e:
            raise ValueError(f"incomplete record: {e}") from e


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


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelVersion:
    """One version of a model as the registry sees it now."""

    name: str
    version: str
    tag: str
    commit: str
    registered_at: datetime
    registered_by: str
    active: bool = True
    stages: list[str] = field(list)
    path: str | None = None
    md5: str | None = None
    size: int | None = None
    metrics: dict[str, float] = field(dict)
    params: dict[str, Scalar] = field(dict)
    message: str = ""
    card: dict[str, Any] | None = None
    # How ``md5`` was computed: ``md5`` (DVC 3, and every version modelreg registers) or
    # ``md5-dos2unix`` (a DVC 2 pointer, read from the tagged commit).
    hash_name: str = "md5"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelSummary:
    """One row of ``list``: a model's latest version and stage holders."""

    name: str
    latest: str | None
    stages: dict[str, str]
    metrics: dict[str, float] = field(dict)
    deprecated: bool = False


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelDetail:
    """``show NAME``: every version of a model with metrics and the stages each holds."""

    name: str
    description: str | None = None
    labels: list[str] = field(list)
    deprecated: bool = False
    latest: str | None = None
    stages: dict[str, str] = field(dict)
    versions: list[ModelVersion] = field(list)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ValueDelta:
    """One metric or param compared across two versions."""

    key: str
    a: Scalar | None
    b: Scalar | None
    delta: float | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Comparison:
    """``compare NAME V1 V2``."""

    name: str
    a: str
    b: str
    metrics: list[ValueDelta]
    params: list[ValueDelta]
    artifact_changed: bool | None
    md5_a: str | None = None
    md5_b: str | None = None
    signature_changed: bool | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class StageChange:
    """What a promote, demote or rollback did, and who holds the stage afterwards."""

    name: str
    stage: str
    tag: str
    version: str | None
    holder: str | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Proposal:
    """A stage change proposed for a pull request (``promote --no-tag``): the desired stage
    set in ``registry.yaml``, either edited in the working tree (``path``, to commit
    yourself) or committed on a new ``branch`` (``commit``), leaving the working tree alone."""

    name: str
    version: str
    stage: str
    path: str | None = None
    branch: str | None = None
    commit: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class RebuiltIndex:
    """What ``index rebuild`` wrote: ``registry.yaml`` (``path``) made from the tags alone,
    committed as ``commit``; ``added_stages`` are stages the tags use that it lacked."""

    path: str
    models: int
    versions: int
    stages: list[str] = field(list)
    added_stages: list[str] = field(list)
    commit: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class AppliedChange:
    """One tag ``apply`` created (or, with ``--dry-run``, would create)."""

    name: str
    stage: str
    action: EventKind
    version: str
    tag: str


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

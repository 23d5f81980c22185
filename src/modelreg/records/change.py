"""What the writes that change stages or rebuild the index return."""

from __future__ import annotations

import dataclasses

from modelreg.records import EventKind, field


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

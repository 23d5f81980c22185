"""Records that cross the library boundary: what the API returns and ``--json`` prints.

All frozen: a record is a fact about the registry at the time it was read.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from modelreg.grammar import EventKind

Scalar = float | int | str | bool


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ArtifactRecord(_Record):
    """The immutable facts about one version's bytes and provenance.

    Written into the registration tag's message, so the index can be rebuilt from tags alone.
    """

    path: str
    md5: str
    size: int
    nfiles: int | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    params: dict[str, Scalar] = Field(default_factory=dict)
    description: str | None = None
    labels: list[str] = Field(default_factory=list)
    registered_by: str
    registered_at: datetime


class Event(_Record):
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


class ModelVersion(_Record):
    """One version of a model as the registry sees it now."""

    name: str
    version: str
    tag: str
    commit: str
    registered_at: datetime
    registered_by: str
    active: bool = True
    stages: list[str] = Field(default_factory=list)
    path: str | None = None
    md5: str | None = None
    size: int | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    params: dict[str, Scalar] = Field(default_factory=dict)
    message: str = ""


class ModelSummary(_Record):
    """One row of ``list``: a model's latest version and stage holders."""

    name: str
    latest: str | None
    stages: dict[str, str]
    metrics: dict[str, float] = Field(default_factory=dict)
    deprecated: bool = False


class ModelDetail(_Record):
    """``show NAME``: every version of a model with metrics and the stages each holds."""

    name: str
    description: str | None = None
    labels: list[str] = Field(default_factory=list)
    deprecated: bool = False
    latest: str | None = None
    stages: dict[str, str] = Field(default_factory=dict)
    versions: list[ModelVersion] = Field(default_factory=list)


class ValueDelta(_Record):
    """One metric or param compared across two versions."""

    key: str
    a: Scalar | None
    b: Scalar | None
    delta: float | None = None


class Comparison(_Record):
    """``compare NAME V1 V2``."""

    name: str
    a: str
    b: str
    metrics: list[ValueDelta]
    params: list[ValueDelta]
    artifact_changed: bool | None
    md5_a: str | None = None
    md5_b: str | None = None


class StageChange(_Record):
    """What a promote, demote or rollback did, and who holds the stage afterwards."""

    name: str
    stage: str
    tag: str
    version: str | None
    holder: str | None

"""A model as ``list`` and ``show`` see it."""

from __future__ import annotations

import dataclasses

from modelreg.records import field
from modelreg.records.version import ModelVersion


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

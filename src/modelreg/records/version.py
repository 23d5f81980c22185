"""One version of a model: what ``which``, ``latest`` and ``get`` return."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from modelreg.records import Scalar, field


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

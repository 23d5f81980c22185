"""What ``compare`` returns."""

from __future__ import annotations

import dataclasses

from modelreg.records import Scalar


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

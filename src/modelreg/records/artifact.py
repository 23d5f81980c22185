"""The immutable record of a version's bytes and provenance, carried in its registration tag."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any

from modelreg.records import Scalar, field, to_jsonable
from modelreg.untrusted import is_md5, relpath_problem, shown


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

"""The shape of ``registry.yaml``, as pydantic models.

Validation is strict, as YAML's own types are: ``size: "3"`` is not an integer and
``deprecated: 1`` is not a boolean.  The JSON Schema editors validate the file with is
generated from these models (:mod:`modelreg.index.schemafile`), so a field added here
reaches editors by regenerating it.  Errors become one line in :mod:`modelreg.index.parse`.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from modelreg.index.header import DEFAULT_STAGES
from modelreg.records import Scalar


def format_time(value: datetime) -> str:
    """UTC, second resolution, ``Z`` suffix: the form the index stores."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _key(value: object) -> str:
    # YAML reads `123:` as an integer key; every key of the file is a name.
    return value if type(value) is str else str(value)


def _time(value: object) -> object:
    # YAML reads an unquoted `2026-11-20T10:02:11Z` as a datetime; modelreg writes it quoted.
    return format_time(value) if isinstance(value, datetime) else value


def _scalar(value: object) -> Scalar:
    if isinstance(value, str | int | float | bool):
        return value
    raise PydanticCustomError(
        "scalar", "expected a number, string or boolean, got {got}", {"got": repr(value)}
    )


def _one_or_all(value: object) -> str | list[str] | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise PydanticCustomError(
        "requires", "expected a stage or a list of stages, got {got}", {"got": repr(value)}
    )


Key = Annotated[str, BeforeValidator(_key)]
Time = Annotated[
    str | None,
    BeforeValidator(_time),
    Field(description="When it was registered, UTC: 2026-11-20T10:02:11Z"),
]
ParamValue = Annotated[
    Scalar,
    PlainValidator(_scalar),
    WithJsonSchema({"type": ["number", "string", "boolean"]}),
]
Requires = Annotated[
    str | list[str] | None,
    PlainValidator(_one_or_all),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
            "description": "A stage, or a list of stages, the version must hold first",
        }
    ),
]


def _nullable(schema: dict[str, Any]) -> None:
    # `churn:` with nothing under it is an empty entry (see _Entry._empty).
    schema["type"] = ["object", "null"]


class _Entry(BaseModel):
    # Built at the bottom of the module, by _build (defer_build: not as each class is made).
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)

    @model_validator(mode="before")
    @classmethod
    def _empty(cls, data: Any) -> Any:
        return {} if data is None else data


class VersionEntry(_Entry):
    """The index's copy of one version's immutable record."""

    model_config = ConfigDict(title="version")

    tag: str = Field(description="The registration tag, NAME@VERSION")
    md5: str | None = Field(default=None, description="DVC's md5 of the artifact")
    size: int | None = Field(default=None, description="Bytes")
    nfiles: int | None = Field(default=None, description="Files, for a folder")
    metrics: dict[Key, float] = {}
    params: dict[Key, ParamValue] = {}
    registered_by: str | None = Field(default=None, description="Name <email>")
    registered_at: Time = None
    deregistered: bool = False


class ModelEntry(_Entry):
    """One model: descriptive fields, desired stages and its versions."""

    model_config = ConfigDict(title="model", json_schema_extra=_nullable)

    description: str | None = None
    path: str | None = Field(default=None, description="The artifact's path in the repository")
    labels: list[str] = []
    deprecated: bool = False
    stages: dict[Key, str] = Field(
        default={}, description="The desired holder of each stage: {stage: version}"
    )
    versions: dict[Key, VersionEntry] = {}


class StagePolicy(_Entry):
    """Rules a version must meet to enter a stage."""

    model_config = ConfigDict(title="stage policy", json_schema_extra=_nullable)

    requires: Requires = None  # one stage, or a list meaning all of them
    metrics: dict[Key, str] = Field(default={}, description="Thresholds: {metric: '>= 0.9'}")
    allow_empty: bool = Field(default=True, description="false: the stage may not be left empty")

    @property
    def required_stages(self) -> list[str]:
        """``requires`` as a list (empty when there is none)."""
        if self.requires is None:
            return []
        return [self.requires] if isinstance(self.requires, str) else list(self.requires)


class Index(_Entry):
    """The whole ``registry.yaml``."""

    model_config = ConfigDict(title="registry.yaml")

    # The registry branch: writes that tag, and every --push, happen on it (see writer).
    branch: str | None = Field(default=None, description="The branch writes that tag happen on")
    stages: list[str] = Field(
        default_factory=lambda: list(DEFAULT_STAGES), description="The promotion order"
    )
    policy: dict[Key, StagePolicy] = {}
    models: dict[Key, ModelEntry] = {}


def _build() -> None:
    """Build the models' validators, with pydantic's plugin lookup turned off while they are
    built, as Typer does for its own parameters.

    The lookup reads the entry points of every installed distribution (7 ms of each write
    here); a plugin that observes validation (tracing, metrics) has nothing to learn from
    modelreg's own file format.  The variable is pydantic's documented switch, and is put
    back as it was at once."""
    previous = os.environ.get("PYDANTIC_DISABLE_PLUGINS")
    os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
    try:
        # Nested models first: Index's schema reuses theirs.
        for model in (VersionEntry, ModelEntry, StagePolicy, Index):
            model.model_rebuild(force=True)
    finally:
        if previous is None:
            del os.environ["PYDANTIC_DISABLE_PLUGINS"]
        else:
            os.environ["PYDANTIC_DISABLE_PLUGINS"] = previous


_build()

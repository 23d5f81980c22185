"""Index entries from registration records and tags, and back: the one mapping between
what a registration tag records and what ``registry.yaml`` lists."""

from __future__ import annotations

from datetime import datetime, timezone

from modelreg.index.schema import ModelEntry, VersionEntry, format_time
from modelreg.records import ArtifactRecord, Scalar
from modelreg.semver import sort_key
from modelreg.state import ModelState
from modelreg.tagmessage import parse_record
from modelreg.tags import RawTag


def version_entry(tag: str, record: ArtifactRecord, *, deregistered: bool = False) -> VersionEntry:
    """The index entry of a version, from its registration record."""
    return VersionEntry(
        tag=tag,
        md5=record.md5,
        size=record.size,
        nfiles=record.nfiles,
        metrics=record.metrics,
        params=_scalars(record.params),
        registered_by=record.registered_by,
        registered_at=format_time(record.registered_at),
        deregistered=deregistered,
    )


def _scalars(params: dict[str, Scalar]) -> dict[str, Scalar]:
    # A tag message is untrusted: a record from another tool may carry a list or null
    # where the index holds only scalars.
    return {k: v for k, v in params.items() if isinstance(v, str | int | float | bool)}


def tag_entry(tag: RawTag, *, deregistered: bool = False) -> VersionEntry:
    """The index entry of a version whose tag carries no record (GTO's): who and when only."""
    return VersionEntry(
        tag=tag.name,
        registered_by=f"{tag.tagger_name} <{tag.tagger_email}>",
        registered_at=format_time(datetime.fromtimestamp(tag.timestamp, tz=timezone.utc)),
        deregistered=deregistered,
    )


def describe(entry: ModelEntry, record: ArtifactRecord) -> None:
    """Set the model's path, and its description and labels when ``record`` has them."""
    entry.path = record.path
    if record.description is not None:
        entry.description = record.description
    if record.labels:
        entry.labels = list(record.labels)


def entry_from_state(state: ModelState, old: ModelEntry | None) -> ModelEntry:
    """An index entry derived from tags; descriptive fields not in tags come from ``old``."""
    entry = ModelEntry(stages=state.holders(), deprecated=state.deprecated)
    last_record = None
    for version, vs in sorted(state.versions.items(), key=lambda kv: sort_key(kv[0])):
        if not vs.registered or vs.tag is None:
            continue
        record = parse_record(vs.tag.message)
        if record is not None:
            last_record = record
            entry.versions[version] = version_entry(vs.tag.name, record, deregistered=not vs.active)
        else:
            entry.versions[version] = tag_entry(vs.tag, deregistered=not vs.active)
    if last_record is not None:
        describe(entry, last_record)
    if old is not None:
        entry.description = old.description if old.description is not None else entry.description
        entry.labels = old.labels or entry.labels
        entry.path = old.path or entry.path
    return entry


def record_of(entry: ModelEntry, item: VersionEntry) -> ArtifactRecord:
    """The registration record of a version the index lists without a tag (``register
    --no-tag``); the caller has checked that it records its bytes (``md5`` and ``path``)."""
    assert item.md5 is not None and entry.path is not None
    return ArtifactRecord(
        path=entry.path,
        md5=item.md5,
        size=item.size or 0,
        nfiles=item.nfiles,
        metrics=item.metrics,
        params=item.params,
        description=entry.description,
        labels=entry.labels,
        registered_by=item.registered_by or "unknown",
        registered_at=_parse_time(item.registered_at),
    )


def _parse_time(text: str | None) -> datetime:
    if text:
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
    return datetime.now(timezone.utc).replace(microsecond=0)

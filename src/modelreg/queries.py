"""Read use cases.  Each reads only the tags of the model asked about (one ``for-each-ref``)
and never imports DVC or parses ``registry.yaml``."""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timezone

from modelreg import records
from modelreg.errors import NotFoundError
from modelreg.gitrepo import TagReader
from modelreg.grammar import (
    Reference,
    TagName,
    check_name,
    check_stage,
    check_version,
    parse_tag,
    tag_patterns,
)
from modelreg.records import EventKind
from modelreg.semver import sort_key
from modelreg.state import ModelState, replay, replay_parsed
from modelreg.tagmessage import human_text, parse_record
from modelreg.tags import RawTag
from modelreg.timespec import shown


def model_state(repo: TagReader, name: str) -> ModelState:
    """Replay one model's tags (an unknown model gives an empty state)."""
    return replay(name, repo.tags(tag_patterns(name)))


def existing_state(repo: TagReader, name: str) -> ModelState:
    """Like :func:`model_state`, but a model with no tags is an error."""
    check_name(name)
    state = model_state(repo, name)
    if not state.exists:
        raise NotFoundError(f"no model named {name!r} in this registry: check `modelreg list`")
    return state


def version_record(state: ModelState, version: str) -> records.ModelVersion:
    """The public record of one version (registration data from its tag)."""
    vs = state.versions[version]
    raw = vs.tag
    record = parse_record(raw.message) if raw else None
    when = datetime.fromtimestamp(raw.timestamp if raw else 0, tz=timezone.utc)
    who = f"{raw.tagger_name} <{raw.tagger_email}>" if raw else ""
    return records.ModelVersion(
        name=state.name,
        version=version,
        tag=raw.name if raw else "",
        commit=vs.commit,
        registered_at=record.registered_at if record else when,
        registered_by=record.registered_by if record else who,
        active=vs.active and vs.registered,
        stages=state.stages_of(version),
        path=record.path if record else None,
        md5=record.md5 if record else None,
        size=record.size if record else None,
        metrics=record.metrics if record else {},
        params=record.params if record else {},
        message=human_text(raw.message) if raw else "",
        card=record.card if record else None,
    )


def _floor(at: datetime) -> int:
    """The last whole second at or before ``at``: tag dates are whole seconds."""
    return math.floor(at.timestamp())


def state_at(state: ModelState, at: datetime) -> ModelState:
    """``state`` as it was at ``at`` (events dated exactly then included); an error when the
    model had no event yet."""
    past = state.until(_floor(at))
    if not past.exists:
        first = min(e.raw.timestamp for e in state.events)
        raise NotFoundError(
            f"model {state.name!r} did not exist yet at {shown(at)}: its first event is dated "
            f"{shown(datetime.fromtimestamp(first, tz=timezone.utc))}"
        )
    return past


def which(
    repo: TagReader,
    name: str,
    stage: str,
    stages: Callable[[], list[str] | None] | None = None,
    at: datetime | None = None,
) -> records.ModelVersion:
    """The version that holds ``stage`` now, or that held it at ``at``.  ``stages`` gives the
    registry's stages when known; asked only on the error path (it reads registry.yaml), it
    makes the error for a stage that is not one say so instead of suggesting a promotion."""
    check_stage(stage)
    state = existing_state(repo, name)
    if at is not None:
        return _which_at(state_at(state, at), stage, at)
    if state.deprecated:
        raise NotFoundError(f"model {name!r} is deprecated: no version holds {stage!r}")
    holder = state.holder(stage)
    if holder is None:
        allowed = stages() if stages is not None else None
        if allowed is not None and stage not in allowed and stage not in state.holders():
            raise NotFoundError(
                f"{stage!r} is not a stage of this registry: the stages are {', '.join(allowed)}"
            )
        raise NotFoundError(
            f"no version of {name!r} holds stage {stage!r}: "
            f"promote one with `modelreg promote {name} VERSION {stage}`"
        )
    return version_record(state, holder)


def _which_at(state: ModelState, stage: str, at: datetime) -> records.ModelVersion:
    name = state.name
    if state.deprecated:
        raise NotFoundError(
            f"model {name!r} was deprecated at {shown(at)}: no version held {stage!r}"
        )
    holder = state.holder(stage)
    if holder is None:
        raise NotFoundError(
            f"no version of {name!r} held stage {stage!r} at {shown(at)}: see "
            f"`modelreg history {name} --until {shown(at)}`"
        )
    return version_record(state, holder)


def latest(repo: TagReader, name: str) -> records.ModelVersion:
    """The greatest active version."""
    state = existing_state(repo, name)
    version = state.latest()
    if version is None:
        why = "is deprecated" if state.deprecated else "has no active version"
        raise NotFoundError(f"model {name!r} {why}: register a new version")
    return version_record(state, version)


def resolve(repo: TagReader, ref: Reference) -> records.ModelVersion:
    """The version a reference names."""
    if ref.stage:
        return which(repo, ref.model, ref.stage)
    if ref.version:
        check_version(ref.version)
        state = existing_state(repo, ref.model)
        vs = state.versions.get(ref.version)
        if vs is None or not vs.registered:
            raise NotFoundError(
                f"{ref.model} has no version {ref.version}: see `modelreg show {ref.model}`"
            )
        return version_record(state, ref.version)
    return latest(repo, ref.model)


def with_artifact(repo: TagReader, mv: records.ModelVersion) -> records.ModelVersion:
    """Fill path/md5/size from the tagged commit for versions registered by other tools."""
    if mv.md5 is not None:
        return mv
    # Only versions other tools registered need DVC's files: not every query pays the import.
    from modelreg.dvcstore.dvcfiles import (
        artifact_path_at,
        dvc_yaml_of,
        parse_pointer,
        pointer_file,
    )

    path = mv.path or artifact_path_at(repo.show_file(mv.commit, dvc_yaml_of(mv.name)), mv.name)
    if path is None:
        return mv
    dvc_file = pointer_file(path)
    text = repo.show_file(mv.commit, dvc_file)
    if text is None:
        return dataclasses.replace(mv, path=path)
    pointer = parse_pointer(text, dvc_file)
    return dataclasses.replace(
        mv, path=path, md5=pointer.md5, size=pointer.size, hash_name=pointer.hash_name
    )


def show_model(repo: TagReader, name: str) -> records.ModelDetail:
    """Every version of a model, newest first, with metrics and stage holders; the
    description and labels are those of the most recent registration."""
    state = existing_state(repo, name)
    versions = [version_record(state, v) for v, vs in state.versions.items() if vs.registered]
    versions.sort(key=lambda mv: sort_key(mv.version), reverse=True)
    newest = _newest_tag(state)
    record = parse_record(newest.message) if newest is not None else None
    return records.ModelDetail(
        name=name,
        description=record.description if record else None,
        labels=record.labels if record else [],
        deprecated=state.deprecated,
        latest=state.latest(),
        stages=state.holders(),
        versions=versions,
    )


def _newest_tag(state: ModelState) -> RawTag | None:
    tags = [e.raw for e in state.events if e.kind is EventKind.REGISTER]
    return tags[-1] if tags else None


def history(
    repo: TagReader,
    name: str | None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[records.Event]:
    """The audit log, newest first: every event of one model, or of all models; with
    ``since``/``until``, those dated between them (both included)."""
    if name is not None:
        events = list(existing_state(repo, name).events)
    else:
        events = [e for state in all_states(repo).values() for e in state.events]
        events.sort(key=lambda e: (e.raw.timestamp, e.parsed.counter or 0))
    low = -math.inf if since is None else since.timestamp()
    high = math.inf if until is None else until.timestamp()
    return [e.to_record() for e in reversed(events) if low <= e.raw.timestamp <= high]


def model_names(repo: TagReader) -> list[str]:
    """The names of every model with a registry tag, from one listing without messages."""
    names = set()
    for raw in repo.tags(["refs/tags"], messages=False):
        parsed = parse_tag(raw.name)
        if parsed is not None:
            names.add(parsed.model)
    return sorted(names)


def all_states(repo: TagReader, messages: bool = True) -> dict[str, ModelState]:
    """Every model's state, from one listing of all tags."""
    grouped: dict[str, list[tuple[TagName, RawTag]]] = defaultdict(list)
    for raw in repo.tags(["refs/tags"], messages=messages):
        parsed = parse_tag(raw.name)
        if parsed is not None:
            grouped[parsed.model].append((parsed, raw))
    return {name: replay_parsed(name, tags) for name, tags in sorted(grouped.items())}


def list_models(repo: TagReader, at: datetime | None = None) -> list[records.ModelSummary]:
    """One row per model: latest version, stage holders, latest version's metrics; with
    ``at``, as they were at that instant (models made later are left out).

    The whole registry is listed without messages; only the latest versions' messages (their
    metrics) are read, in a second, exact listing.
    """
    states = all_states(repo, messages=False)
    if at is not None:
        past = {name: state.until(_floor(at)) for name, state in states.items()}
        states = {name: state for name, state in past.items() if state.exists}
    latest = {name: state.latest() for name, state in states.items()}
    wanted = [
        f"refs/tags/{tag.name}"
        for name, version in latest.items()
        if version is not None and (tag := states[name].versions[version].tag) is not None
    ]
    artifacts = {}
    for raw in repo.tags(wanted) if wanted else []:
        record = parse_record(raw.message)
        if record is not None:
            artifacts[raw.name] = record
    rows = []
    for name, state in states.items():
        version = latest[name]
        tag = state.versions[version].tag if version is not None else None
        record = artifacts.get(tag.name) if tag is not None else None
        rows.append(
            records.ModelSummary(
                name=name,
                latest=version,
                stages=state.holders(),
                metrics=record.metrics if record else {},
                deprecated=state.deprecated,
            )
        )
    return rows


def _delta(key: str, a: object, b: object) -> records.ValueDelta:
    numeric = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (a, b))
    delta = float(b) - float(a) if numeric else None  # type: ignore[arg-type]
    return records.ValueDelta(key=key, a=a, b=b, delta=delta)  # type: ignore[arg-type]


def compare(repo: TagReader, name: str, a: str, b: str) -> records.Comparison:
    """Metrics and params of two versions side by side, and whether the bytes changed."""
    check_version(a)
    check_version(b)
    va = with_artifact(repo, resolve(repo, Reference(name, version=a)))
    vb = with_artifact(repo, resolve(repo, Reference(name, version=b)))
    return compare_versions(name, va, vb)


def compare_versions(
    name: str, va: records.ModelVersion, vb: records.ModelVersion
) -> records.Comparison:
    """:func:`compare` of two records already resolved (with their artifacts): pure, so the
    registry site renders many comparisons from one reading of the tags."""
    metric_keys = sorted(set(va.metrics) | set(vb.metrics))
    param_keys = sorted(set(va.params) | set(vb.params))
    changed = None if va.md5 is None or vb.md5 is None else va.md5 != vb.md5
    if va.hash_name != vb.hash_name:
        # DVC 2's md5 of CRLF text is DVC 3's md5 of the LF text: equal md5s may be other
        # bytes and different ones the same bytes.
        changed = None
    sig_a = (va.card or {}).get("signature")
    sig_b = (vb.card or {}).get("signature")
    signature_changed = None if va.card is None or vb.card is None else sig_a != sig_b
    return records.Comparison(
        name=name,
        a=va.version,
        b=vb.version,
        metrics=[_delta(k, va.metrics.get(k), vb.metrics.get(k)) for k in metric_keys],
        params=[_delta(k, va.params.get(k), vb.params.get(k)) for k in param_keys],
        artifact_changed=changed,
        md5_a=va.md5,
        md5_b=vb.md5,
        signature_changed=signature_changed,
    )


def search_rows(repo: TagReader) -> list[records.SearchRow]:
    """Every registered, active version of every model not deprecated, as search rows: by
    model name, then newest version first (one listing of all tags, messages included)."""
    rows = []
    for name, state in all_states(repo).items():
        if state.deprecated:
            continue
        holders = state.holders()
        for version in sorted(state.active_versions(), key=sort_key, reverse=True):
            raw = state.versions[version].tag
            assert raw is not None  # active_versions() are registered ones
            rows.append(_search_row(name, version, raw, holders))
    return rows


def _search_row(name: str, version: str, raw: RawTag, holders: dict[str, str]) -> records.SearchRow:
    record = parse_record(raw.message)
    if record is not None:
        when = record.registered_at
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
    else:
        when = datetime.fromtimestamp(raw.timestamp, tz=timezone.utc)
    flavor = (record.card or {}).get("flavor") if record else None
    return records.SearchRow(
        model=name,
        version=version,
        tag=raw.name,
        registered_at=when.astimezone(timezone.utc).replace(microsecond=0),
        author=record.registered_by if record else f"{raw.tagger_name} <{raw.tagger_email}>",
        labels=list(record.labels) if record else [],
        stages=[stage for stage, holder in holders.items() if holder == version],
        flavor=flavor if isinstance(flavor, str) else None,
        metrics=dict(record.metrics) if record else {},
        params=dict(record.params) if record else {},
    )


def stage_timeline(repo: TagReader, name: str | None) -> list[records.StageSpan]:
    """Which version held each stage over time, for one model or (without the events' notes,
    from one listing of every tag) for all."""
    from modelreg.timeline import stage_spans

    if name is not None:
        return stage_spans(existing_state(repo, name))
    return [
        span for state in all_states(repo, messages=False).values() for span in stage_spans(state)
    ]

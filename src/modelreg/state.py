"""Replay one model's tags into its current state.  Pure: tags in, state out.

Order of events: tags with a counter (``#N``) are ordered by it; tags without one (version and
deprecation tags, GTO's "simple" stage tags) are placed by tagger date.  The rules that follow
are GTO's, so both tools give the same answer on the same repository:

* a version is active while its last version event is a registration;
* a (version, stage) pair is active while its last event is an assignment;
* a stage is held by the active pair of an active version with the most recent assignment;
* a model is deprecated while its most recent event is a deprecation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from modelreg.gitrepo import RawTag
from modelreg.grammar import EventKind, TagName, parse_tag
from modelreg.records import Event
from modelreg.semver import Version, is_version, sort_key
from modelreg.tagmessage import human_text

# Same-second ties between uncounted tags resolve in the order a lifecycle allows.
_PRIORITY = {
    EventKind.DEPRECATE: 0,
    EventKind.REGISTER: 1,
    EventKind.DEREGISTER: 2,
    EventKind.ASSIGN: 3,
    EventKind.UNASSIGN: 4,
}


@dataclass(frozen=True)
class TagEvent:
    """A tag of one model, parsed, with the version it concerns resolved."""

    parsed: TagName
    raw: RawTag
    version: str | None

    @property
    def kind(self) -> EventKind:
        return self.parsed.kind

    def to_record(self) -> Event:
        """The public record of this event."""
        return Event(
            model=self.parsed.model,
            kind=self.parsed.kind,
            version=self.version,
            stage=self.parsed.stage,
            counter=self.parsed.counter,
            tag=self.raw.name,
            commit=self.raw.commit,
            timestamp=datetime.fromtimestamp(self.raw.timestamp, tz=timezone.utc),
            author=self.raw.tagger_name,
            author_email=self.raw.tagger_email,
            message=human_text(self.raw.message),
        )


@dataclass
class VersionState:
    """One version: where it lives and whether it still counts."""

    version: str
    commit: str
    tag: RawTag | None = None
    deregistered: bool = False

    @property
    def registered(self) -> bool:
        return self.tag is not None

    @property
    def active(self) -> bool:
        return not self.deregistered


@dataclass
class ModelState:
    """Everything a query needs to know about one model, derived from its tags."""

    name: str
    events: list[TagEvent] = field(default_factory=list)
    versions: dict[str, VersionState] = field(default_factory=dict)
    by_commit: dict[str, str] = field(default_factory=dict)
    deprecated: bool = False
    # (version, stage) -> position of its last assignment, for pairs that are active.
    active_pairs: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        return bool(self.events)

    @property
    def max_counter(self) -> int:
        return max((e.parsed.counter or 0 for e in self.events), default=0)

    @property
    def last_timestamp(self) -> int:
        return max((e.raw.timestamp for e in self.events), default=0)

    def holders(self) -> dict[str, str]:
        """stage -> version, for every stage held now (none while deprecated)."""
        if self.deprecated:
            return {}
        best: dict[str, tuple[int, str]] = {}
        for (version, stage), pos in self.active_pairs.items():
            state = self.versions.get(version)
            if state is None or not state.active:
                continue
            if stage not in best or pos > best[stage][0]:
                best[stage] = (pos, version)
        return {stage: version for stage, (_, version) in sorted(best.items())}

    def holder(self, stage: str) -> str | None:
        return self.holders().get(stage)

    def stages_of(self, version: str) -> list[str]:
        return [s for s, v in self.holders().items() if v == version]

    def with_tag(self, raw: RawTag) -> ModelState:
        """The state after one more tag (a write's new tag, or one it considers making)."""
        return replay(self.name, [*(e.raw for e in self.events), raw])

    def held_stages(self, version: str) -> set[str]:
        """Every stage ``version`` was ever assigned, whether it still holds it or not."""
        return {
            e.parsed.stage
            for e in self.events
            if e.kind is EventKind.ASSIGN and e.version == version and e.parsed.stage
        }

    def active_versions(self) -> list[str]:
        """Registered, not deregistered SemVer versions, lowest first."""
        return sorted(self._active_semver(), key=sort_key)

    def _active_semver(self) -> list[str]:
        return [v for v, s in self.versions.items() if s.registered and s.active and is_version(v)]

    def all_semver(self) -> list[Version]:
        """Every version ever registered, deregistered ones included."""
        return [Version.parse(v) for v, s in self.versions.items() if s.registered]

    def latest(self) -> str | None:
        if self.deprecated:
            return None
        found = self._active_semver()
        return max(found, key=sort_key) if found else None


def _order(events: list[TagEvent]) -> list[TagEvent]:
    """Tagger date places events; among counted tags, the counter alone decides."""
    by_date = sorted(
        events,
        key=lambda e: (e.raw.timestamp, _PRIORITY[e.kind], e.parsed.counter or 0, e.raw.name),
    )
    counted = sorted(
        (e for e in by_date if e.parsed.counter is not None),
        key=lambda e: (e.parsed.counter or 0, e.raw.timestamp),
    )
    it = iter(counted)
    return [next(it) if e.parsed.counter is not None else e for e in by_date]


def replay(name: str, tags: Iterable[RawTag]) -> ModelState:
    """Build a model's state from its tags (tags of other models are ignored)."""
    parsed: list[tuple[TagName, RawTag]] = []
    for raw in tags:
        tag = parse_tag(raw.name)
        if tag is not None and tag.model == name:
            parsed.append((tag, raw))
    return replay_parsed(name, parsed)


def replay_parsed(name: str, parsed: list[tuple[TagName, RawTag]]) -> ModelState:
    """:func:`replay` for tags already parsed (a whole-registry listing parses each once)."""
    state = ModelState(name)
    # Versions first: stage tags name a commit, and the version registered there gives it
    # its version (GTO's rule; a commit without one is known by its hash).
    for tag, raw in parsed:
        if tag.kind is EventKind.REGISTER and tag.version is not None:
            state.versions[tag.version] = VersionState(tag.version, raw.commit, raw)
            state.by_commit.setdefault(raw.commit, tag.version)
    events = []
    for tag, raw in parsed:
        if tag.kind in (EventKind.ASSIGN, EventKind.UNASSIGN):
            version: str | None = state.by_commit.get(raw.commit, raw.commit)
        else:
            version = tag.version
        events.append(TagEvent(tag, raw, version))
    state.events = _order(events)
    for pos, event in enumerate(state.events):
        _apply(state, pos, event)
    return state


def holder_sequence(state: ModelState, stage: str) -> list[str]:
    """Every version that held ``stage``, in the order they took it (consecutive repeats
    collapsed); the last is the current holder.  Used by rollback, so it may replay."""
    probe = ModelState(
        state.name,
        versions={v: VersionState(s.version, s.commit, s.tag) for v, s in state.versions.items()},
    )
    sequence: list[str] = []
    for pos, event in enumerate(state.events):
        _apply(probe, pos, event)
        holder = probe.holder(stage)
        if holder is not None and (not sequence or sequence[-1] != holder):
            sequence.append(holder)
    return sequence


def _apply(state: ModelState, pos: int, event: TagEvent) -> None:
    kind, version, stage = event.kind, event.version, event.parsed.stage
    state.deprecated = kind is EventKind.DEPRECATE
    if kind is EventKind.DEREGISTER and version is not None:
        vs = state.versions.setdefault(version, VersionState(version, event.raw.commit))
        vs.deregistered = True
    elif kind is EventKind.REGISTER and version is not None:
        state.versions[version].deregistered = False
    elif kind is EventKind.ASSIGN and version is not None and stage is not None:
        state.versions.setdefault(version, VersionState(version, event.raw.commit))
        state.active_pairs[(version, stage)] = pos
    elif kind is EventKind.UNASSIGN and version is not None and stage is not None:
        state.active_pairs.pop((version, stage), None)

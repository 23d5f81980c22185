"""Replay one model's tags into its state.  Pure: tags in, state out.

The rules are GTO's, so ``modelreg which``, ``gto show NAME#STAGE`` and ``dvc artifacts get
--stage`` name the same version on any repository, whoever wrote its tags.  GTO orders events
by tagger date alone (one-second resolution); ``#N`` counters play no part.  Within one second
it settles ties by fixed rules, reproduced here (tests/test_gto_compat.py replays both tools):

* a version is active while its newest registration is newer than its newest deregistration
  (same second: deregistered); a commit that holds a stage without any registration is a
  version known by its hash;
* a (version, stage) pair is active while its newest assignment is newer than its newest
  unassignment (same second: unassigned);
* a stage is held by the active pair of an active version with the newest assignment; pairs
  assigned in the same second go to the version registered first;
* the model is deprecated while a deprecation is newer than every other event of the model
  (same second: not deprecated);
* latest is the greatest active SemVer version; versions equal but for build metadata go to
  the one registered last.

Where GTO's own reading is a bug (a hash holder it cannot unassign, a commit date that revives
a deprecated model), modelreg keeps the sensible answer; the README lists these differences.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from modelreg.grammar import TagName, parse_tag
from modelreg.records import Event, EventKind
from modelreg.semver import Version, is_version, sort_key
from modelreg.tagmessage import human_text
from modelreg.tags import RawTag

# Order of display for events in one second (history): GTO's, the order a lifecycle allows.
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


def _newer(a: int | None, b: int | None) -> bool:
    """Whether an addition dated ``a`` outlives a removal dated ``b`` (a tie removes)."""
    return a is not None and (b is None or a > b)


@dataclass
class StagePair:
    """One version's history in one stage: its newest assignment and unassignment dates."""

    assigned: int | None = None
    unassigned: int | None = None

    @property
    def active(self) -> bool:
        return _newer(self.assigned, self.unassigned)


@dataclass
class VersionState:
    """One version: where it lives and whether it still counts."""

    version: str
    commit: str
    # The newest registration tag: its message carries the version's record.
    tag: RawTag | None = None
    registered_at: int | None = None
    deregistered_at: int | None = None
    # Place in GTO's list of versions (first registration or deregistration event first).
    order: int = 0
    # Newest stage event: a hash version's date, which GTO uses in ties.
    last_stage_event: int = 0

    @property
    def registered(self) -> bool:
        return self.tag is not None

    @property
    def active(self) -> bool:
        if self.registered_at is None and self.deregistered_at is None:
            return True  # known by its hash from stage tags alone
        return _newer(self.registered_at, self.deregistered_at)

    @property
    def created_at(self) -> int:
        """GTO's date of the version: its newest registration, else its newest stage event."""
        return self.registered_at if self.registered_at is not None else self.last_stage_event


@dataclass
class ModelState:
    """Everything a query needs to know about one model, derived from its tags."""

    name: str
    # Every event, in date order (ties in lifecycle order), for history and replays.
    events: list[TagEvent] = field(default_factory=list)
    versions: dict[str, VersionState] = field(default_factory=dict)
    by_commit: dict[str, str] = field(default_factory=dict)
    pairs: dict[tuple[str, str], StagePair] = field(default_factory=dict)
    deprecated_at: int | None = None
    # Newest event other than a deprecation (GTO lets any of them revive the model).
    last_version_event: int | None = None

    @property
    def exists(self) -> bool:
        return bool(self.events)

    @property
    def deprecated(self) -> bool:
        return _newer(self.deprecated_at, self.last_version_event)

    @property
    def active_pairs(self) -> dict[tuple[str, str], int]:
        """(version, stage) -> date of its assignment, for pairs assigned now."""
        return {key: p.assigned for key, p in self.pairs.items() if p.active and p.assigned}

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
        best: dict[str, tuple[tuple[int, int, int], str]] = {}
        for (version, stage), pair in self.pairs.items():
            vs = self.versions.get(version)
            if vs is None or not vs.active or not pair.active or pair.assigned is None:
                continue
            # Newest assignment wins; in a tie, the version GTO lists first (oldest, then
            # first made).
            key = (pair.assigned, -vs.created_at, -vs.order)
            if stage not in best or key > best[stage][0]:
                best[stage] = (key, version)
        return {stage: version for stage, (_, version) in sorted(best.items())}

    def holder(self, stage: str) -> str | None:
        return self.holders().get(stage)

    def stages_of(self, version: str) -> list[str]:
        return [s for s, v in self.holders().items() if v == version]

    def with_tag(self, raw: RawTag) -> ModelState:
        """The state after one more tag (a write's new tag, or one it considers making)."""
        return replay(self.name, [*(e.raw for e in self.events), raw])

    def until(self, timestamp: int) -> ModelState:
        """The state as it was at ``timestamp`` (events dated then included)."""
        return replay(self.name, [e.raw for e in self.events if e.raw.timestamp <= timestamp])

    def held_stages(self, version: str) -> set[str]:
        """Every stage ``version`` was ever assigned, whether it still holds it or not."""
        return {
            e.parsed.stage
            for e in self.events
            if e.kind is EventKind.ASSIGN and e.version == version and e.parsed.stage
        }

    def active_versions(self) -> list[str]:
        """Registered, active SemVer versions, lowest first (equal ones: registered first)."""
        return sorted(self._active_semver(), key=self._latest_key)

    def _latest_key(self, version: str) -> tuple[tuple[int, tuple[object, ...]], int]:
        return (sort_key(version), self.versions[version].order)

    def _active_semver(self) -> list[str]:
        return [v for v, s in self.versions.items() if s.registered and s.active and is_version(v)]

    def all_semver(self) -> list[Version]:
        """Every version ever registered, deregistered ones included."""
        return [Version.parse(v) for v, s in self.versions.items() if s.registered]

    def latest(self) -> str | None:
        if self.deprecated:
            return None
        found = self._active_semver()
        return max(found, key=self._latest_key) if found else None


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
    # GTO reads version tags before stage tags, each kind in (date, name) order: versions
    # exist first, so a stage tag's commit gives it its version whatever the dates.
    ordered = sorted(parsed, key=lambda item: (item[1].timestamp, item[1].name))
    for tag, raw in ordered:
        if tag.kind in (EventKind.REGISTER, EventKind.DEREGISTER) and tag.version is not None:
            vs = state.versions.get(tag.version)
            if vs is None:
                vs = VersionState(tag.version, raw.commit, order=len(state.versions))
                state.versions[tag.version] = vs
                state.by_commit.setdefault(raw.commit, tag.version)
            if tag.kind is EventKind.REGISTER:
                vs.tag, vs.commit, vs.registered_at = raw, raw.commit, raw.timestamp
    events = []
    for tag, raw in ordered:
        if tag.kind in (EventKind.ASSIGN, EventKind.UNASSIGN):
            version: str | None = state.by_commit.get(raw.commit, raw.commit)
        else:
            version = tag.version
        events.append(TagEvent(tag, raw, version))
    for event in events:
        _apply(state, event)
    state.events = _display_order(state, events)
    return state


def _display_order(state: ModelState, events: list[TagEvent]) -> list[TagEvent]:
    """Oldest first, as ``gto history`` lists them (newest first) read backwards.

    By date, then lifecycle (deprecation, registration, deregistration, assignment,
    unassignment); events alike in both follow GTO's lists: deprecations as tagged, a
    version's events by the version's place (first registered first), then its stages in the
    order they were first used, each as tagged.
    """
    stage_places: dict[tuple[str | None, str | None], int] = {}
    keys: list[tuple[int, int, int, int, int]] = []
    for place, event in enumerate(events):
        kind, when = event.kind, event.raw.timestamp
        if kind is EventKind.DEPRECATE or event.version is None:
            keys.append((-when, -_PRIORITY[kind], 0, 0, place))
            continue
        stage_place = stage_places.setdefault(
            (event.version, event.parsed.stage), len(stage_places)
        )
        version_place = (
            state.versions[event.version].order if event.version in state.versions else 0
        )
        # GTO reverses a version's list of events, whose stage events it reversed already.
        within = place if event.parsed.stage is not None else -place
        keys.append((-when, -_PRIORITY[kind], version_place, -stage_place, within))
    newest_first = sorted(range(len(events)), key=keys.__getitem__)
    return [events[i] for i in reversed(newest_first)]


def _apply(state: ModelState, event: TagEvent) -> None:
    """Fold one event into the state's newest-date aggregates (order-independent)."""
    kind, version, stage, when = event.kind, event.version, event.parsed.stage, event.raw.timestamp
    if kind is EventKind.DEPRECATE:
        state.deprecated_at = max(when, state.deprecated_at or when)
        return
    state.last_version_event = max(when, state.last_version_event or when)
    if version is None:
        return
    if kind is EventKind.DEREGISTER:
        gone = state.versions[version]
        gone.deregistered_at = max(when, gone.deregistered_at or when)
    elif kind in (EventKind.ASSIGN, EventKind.UNASSIGN) and stage is not None:
        vs = state.versions.get(version)
        if vs is None:  # a commit without a registration: a version known by its hash
            vs = VersionState(version, event.raw.commit, order=len(state.versions))
            state.versions[version] = vs
        vs.last_stage_event = max(when, vs.last_stage_event)
        pair = state.pairs.setdefault((version, stage), StagePair())
        if kind is EventKind.ASSIGN:
            pair.assigned = max(when, pair.assigned or when)
        else:
            pair.unassigned = max(when, pair.unassigned or when)


def holder_sequence(state: ModelState, stage: str) -> list[str]:
    """Every version that held ``stage``, in the order they took it (consecutive repeats
    collapsed); the last is the current holder.  Used by rollback, so it may replay.

    Dates alone would merge the events of one second: a demotion and the next promotion in
    the same second (which a write need not wait over, since they read the same either way)
    would hide the holder the demotion left, and rollback would skip it.  So within a second,
    stage events are replayed one by one in ``#N`` order, the order one clone wrote them;
    the second's other events count from its start."""
    sequence: list[str] = []
    by_second: dict[int, list[TagEvent]] = {}
    for event in state.events:
        by_second.setdefault(event.raw.timestamp, []).append(event)
    earlier: list[RawTag] = []
    for stamp in sorted(by_second):
        events = by_second[stamp]
        counted = sorted(
            (e for e in events if e.parsed.counter is not None), key=lambda e: e.parsed.counter or 0
        )
        base = [*earlier, *(e.raw for e in events if e.parsed.counter is None)]
        steps = [counted[: i + 1] for i in range(len(counted))] if len(counted) > 1 else [counted]
        for step in steps:
            holder = replay(state.name, [*base, *(e.raw for e in step)]).holder(stage)
            if holder is not None and (not sequence or sequence[-1] != holder):
                sequence.append(holder)
        earlier.extend(e.raw for e in events)
    return sequence

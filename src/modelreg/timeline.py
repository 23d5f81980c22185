"""Which version held each stage over time: a model's events replayed instant by instant.

Pure: a replayed :class:`~modelreg.state.ModelState` in, :class:`StageSpan` records out.  The
holder at an instant is ``state.until(instant).holders()``, the same replay that answers
"who held production at time T", so a timeline and a point-in-time query never disagree.
Replaying at every instant would cost the square of the number of events; only instants
whose events can change a holder are replayed (see :func:`_can_move_a_stage`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timezone
from itertools import groupby

from modelreg.records import Event, EventKind, StageSpan
from modelreg.state import ModelState, TagEvent


def stage_spans(state: ModelState) -> list[StageSpan]:
    """Every (stage, version) hold of the model, oldest first."""
    spans: list[StageSpan] = []
    open_spans: dict[str, int] = {}  # stage -> index in spans
    held: dict[str, set[str]] = {}
    holders: dict[str, str] = {}
    for stamp, group in _relevant_instants(state):
        now = state.until(stamp).holders()
        if now == holders:
            continue
        when = datetime.fromtimestamp(stamp, tz=timezone.utc)
        for stage in sorted(set(holders) | set(now)):
            before, after = holders.get(stage), now.get(stage)
            if before == after:
                continue
            if before is not None:
                at = open_spans.pop(stage)
                ended, end = _why_it_ended(group, stage, before)
                spans[at] = _closed(spans[at], when, ended, end)
            if after is not None:
                how, start = _how_it_began(group, stage, after, held.setdefault(stage, set()))
                open_spans[stage] = len(spans)
                spans.append(
                    StageSpan(
                        model=state.name,
                        stage=stage,
                        version=after,
                        since=when,
                        until=None,
                        how=how,
                        start=start,
                    )
                )
                held[stage].add(after)
        holders = now
    return spans


def _closed(span: StageSpan, when: datetime, ended: str, end: Event) -> StageSpan:
    return dataclasses.replace(span, until=when, ended=ended, end=end)


def _relevant_instants(state: ModelState) -> Iterator[tuple[int, list[TagEvent]]]:
    """The instants (with their events) at which some stage's holder may change."""
    seen_versions: set[str] = set()
    seen_commits: set[str] = set()
    deprecated_once = False
    for stamp, events in groupby(state.events, key=lambda e: e.raw.timestamp):
        group = list(events)
        if _can_move_a_stage(group, seen_versions, seen_commits, deprecated_once):
            yield stamp, group
        for e in group:
            seen_commits.add(e.raw.commit)
            if e.version is not None:
                seen_versions.add(e.version)
            deprecated_once = deprecated_once or e.kind is EventKind.DEPRECATE


def _can_move_a_stage(
    group: list[TagEvent], versions: set[str], commits: set[str], deprecated_once: bool
) -> bool:
    """False only for instants that register versions nothing referred to before: such a
    version holds no stage yet, its commit carries no earlier stage tag (which it would
    rename from a hash to the version), and it revives no deprecated model."""
    if deprecated_once:
        return True
    return any(
        e.kind is not EventKind.REGISTER or e.version in versions or e.raw.commit in commits
        for e in group
    )


def _how_it_began(
    group: list[TagEvent], stage: str, version: str, held_before: set[str]
) -> tuple[str, Event]:
    for e in group:
        if e.kind is EventKind.ASSIGN and e.parsed.stage == stage and e.version == version:
            return ("rollback" if version in held_before else "promote"), e.to_record()
    for e in group:
        if e.kind in (EventKind.UNASSIGN, EventKind.DEREGISTER):
            return "handback", e.to_record()
    return "revive", group[-1].to_record()


def _why_it_ended(group: list[TagEvent], stage: str, version: str) -> tuple[str, Event]:
    for e in group:
        if e.kind is EventKind.UNASSIGN and e.parsed.stage == stage and e.version == version:
            return "demote", e.to_record()
    for e in group:
        if e.kind is EventKind.DEREGISTER and e.version == version:
            return "deregister", e.to_record()
    for e in group:
        if e.kind is EventKind.DEPRECATE:
            return "deprecate", e.to_record()
    for e in group:
        if e.kind is EventKind.ASSIGN and e.parsed.stage == stage:
            return "replaced", e.to_record()
    return "replaced", group[-1].to_record()

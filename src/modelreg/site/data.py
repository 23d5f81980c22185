"""What the pages show, gathered through the same :class:`~modelreg.Registry` calls the CLI
makes (``list``, ``show``, ``history``, ``compare``, the stage timeline), and nothing else.

The pages never read git or ``registry.yaml`` themselves: a page is a rendering of these
records, so the site and ``modelreg show``/``history``/``compare`` cannot disagree.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from modelreg.grammar import Reference
from modelreg.queries import compare_versions
from modelreg.records import Comparison, Event, ModelDetail, ModelVersion, StageSpan
from modelreg.registry import Registry
from modelreg.semver import sort_key

T = TypeVar("T")
R = TypeVar("R")

# Reading a model's tags is a git process: a few at once keep the processor busy.
WORKERS = 4


@dataclasses.dataclass(frozen=True)
class ModelBundle:
    """Everything a model's pages show."""

    detail: ModelDetail
    events: list[Event]
    spans: list[StageSpan]
    stages: list[str]

    @property
    def name(self) -> str:
        return self.detail.name

    # Pages ask these once per version: computed once per bundle (a site renders 10,000
    # version pages of 100-version models).

    @functools.cached_property
    def _by_version(self) -> dict[str, ModelVersion]:
        return {v.version: v for v in self.detail.versions}

    @functools.cached_property
    def _registration_order(self) -> list[ModelVersion]:
        return sorted(
            self.detail.versions, key=lambda v: (v.registered_at, sort_key(v.version), v.version)
        )

    @functools.cached_property
    def _semver_order(self) -> list[ModelVersion]:
        return sorted(self.detail.versions, key=lambda v: sort_key(v.version))

    @functools.cached_property
    def _semver_place(self) -> dict[str, int]:
        return {v.version: i for i, v in enumerate(self._semver_order)}

    @functools.cached_property
    def _current(self) -> dict[str, StageSpan]:
        return {s.stage: s for s in self.spans if s.until is None}

    def in_registration_order(self) -> list[ModelVersion]:
        """Registered versions, first registered first (same instant: SemVer order)."""
        return self._registration_order

    def in_semver_order(self) -> list[ModelVersion]:
        """Registered versions, lowest first."""
        return self._semver_order

    def semver_place(self, version: str) -> int:
        """The place of ``version`` in :meth:`in_semver_order`."""
        return self._semver_place[version]

    def version(self, version: str) -> ModelVersion | None:
        return self._by_version.get(version)

    def previous(self, version: str) -> str | None:
        """The version before ``version`` in SemVer order."""
        place = self._semver_place[version]
        return self._semver_order[place - 1].version if place else None

    def comparison_sources(self, version: str) -> list[str]:
        """The versions ``version`` is compared with on its page: its predecessor, then each
        current stage holder (registered, other than itself)."""
        found = [p] if (p := self.previous(version)) is not None else []
        for span in self._current.values():
            held = span.version
            if held != version and held in self._by_version and held not in found:
                found.append(held)
        return found

    def current_spans(self) -> dict[str, StageSpan]:
        """stage -> the hold that is still open."""
        return self._current


@dataclasses.dataclass(frozen=True)
class Board:
    """The overview: every model's bundle (without history) and the stages, in order."""

    models: list[ModelBundle]
    stages: list[str]


def stage_order(registry: Registry, used: Iterable[str]) -> list[str]:
    """The registry's stages in promotion order (``registry.yaml``), then any other stage the
    tags use, alphabetically: the columns of ``modelreg list``."""
    from modelreg.index.header import DEFAULT_STAGES, read_stage_order

    order = list(DEFAULT_STAGES if registry.is_remote else read_stage_order(registry.root))
    return [*order, *sorted(set(used) - set(order))]


def _parallel(registry: Registry, func: Callable[[T], R], items: list[T]) -> list[R]:
    # By URL every read goes through one shared mirror, whose readers take turns anyway.
    if len(items) <= 1 or registry.is_remote:
        return [func(i) for i in items]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(func, items))


def with_artifacts(registry: Registry, detail: ModelDetail) -> ModelDetail:
    """Versions another tool registered carry no md5 in their tag: read it from the tagged
    commit, as ``modelreg show NAME@VERSION`` does (one more read per such version)."""
    if all(v.md5 is not None for v in detail.versions):
        return detail
    versions = [
        v if v.md5 is not None else registry.resolve(Reference(detail.name, version=v.version))
        for v in detail.versions
    ]
    # resolve() names the stages a version holds now, as show() does: keep show()'s record.
    versions = [
        dataclasses.replace(v, stages=old.stages, active=old.active)
        for v, old in zip(versions, detail.versions, strict=True)
    ]
    return dataclasses.replace(detail, versions=versions)


def model_bundle(registry: Registry, name: str, *, events: bool = True) -> ModelBundle:
    """One model's pages' records: ``show``, ``history`` and the stage timeline."""
    detail = with_artifacts(registry, registry.show(name))
    spans = registry.stage_timeline(name)
    stages = stage_order(registry, [s.stage for s in spans])
    return ModelBundle(detail, registry.history(name) if events else [], spans, stages)


def board(registry: Registry) -> Board:
    """The overview's records: every model's ``show`` and stage timeline."""
    names = [summary.name for summary in registry.list_models()]
    bundles = _parallel(registry, lambda n: model_bundle(registry, n, events=False), names)
    return Board(bundles, stage_order(registry, [s.stage for b in bundles for s in b.spans]))


def all_bundles(registry: Registry) -> Board:
    """Every model's bundle with its history: what the whole static site shows."""
    names = [summary.name for summary in registry.list_models()]
    bundles = _parallel(registry, lambda n: model_bundle(registry, n), names)
    return Board(bundles, stage_order(registry, [s.stage for b in bundles for s in b.spans]))


def comparison(bundle: ModelBundle, a: str, b: str) -> Comparison:
    """``modelreg compare NAME A B`` from records already read (the same function)."""
    va, vb = bundle.version(a), bundle.version(b)
    assert va is not None and vb is not None
    return compare_versions(bundle.name, va, vb)


# -- search rows ---------------------------------------------------------------------------


def search_rows(registry: Registry, *, redact_emails: bool = False) -> list[dict[str, Any]]:
    """Every searchable version as ``modelreg search --json`` gives it (the same rows, so the
    browser's ``modelregSearch`` and the CLI answer an expression alike)."""
    rows = []
    for row in registry.search(""):
        item = dataclasses.asdict(row)
        item["registered_at"] = row.registered_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        if redact_emails:
            item["author"] = redact_text(row.author)
        rows.append(item)
    return rows


# -- redaction -----------------------------------------------------------------------------

# An address in free text (a note, a description); a version like v1.0.0 has no letters-only
# top-level domain, so tag names such as churn@v1.0.0 are left alone.
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_ANGLED = re.compile(r"\s*<[^<>]*@[^<>]*>")
REDACTED = "(address removed)"


def redact_text(value: str) -> str:
    """``Name <address>`` -> ``Name``; any other address -> a placeholder."""
    return _EMAIL.sub(REDACTED, _ANGLED.sub("", value))


def _event(e: Event) -> Event:
    return dataclasses.replace(e, author_email="", message=redact_text(e.message))


def _version(v: ModelVersion) -> ModelVersion:
    return dataclasses.replace(
        v, registered_by=redact_text(v.registered_by), message=redact_text(v.message)
    )


def _span(s: StageSpan) -> StageSpan:
    return dataclasses.replace(
        s, start=_event(s.start), end=_event(s.end) if s.end is not None else None
    )


def redact(bundle: ModelBundle) -> ModelBundle:
    """The bundle without authors' e-mail addresses (``site --redact-emails``)."""
    detail = bundle.detail
    detail = dataclasses.replace(
        detail,
        description=redact_text(detail.description) if detail.description else None,
        versions=[_version(v) for v in detail.versions],
    )
    return ModelBundle(
        detail, [_event(e) for e in bundle.events], [_span(s) for s in bundle.spans], bundle.stages
    )

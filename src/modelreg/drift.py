"""Desired stages versus realized ones: which differences are *pending* and which *drifted*.

``registry.yaml`` on the registry branch holds the desired stage of every model; the tags
hold what really happened.  When the two differ for a (model, stage) pair, there are two
stories, and they call for opposite actions:

- **pending**: the file changed (a merged pull request) and no tag followed yet.  ``apply``
  makes the tags follow the file.
- **drifted**: a stage tag was made *after* the file last changed that pair's desired value
  (a ``gto assign``, a ``promote --push`` from a feature branch, a write on a detached HEAD).
  Applying the file would silently undo that promotion, so ``apply`` refuses; ``check`` warns,
  as Argo CD and Flux show OutOfSync.  ``apply --adopt`` records the tags' state in the
  file; ``apply --revert`` makes the tags follow the file.

A tag a modelreg write made on this branch is recorded in that write's commit (its
``Modelreg-Write`` trailer names it), so it can never be drift: the file moved on since.  For
any other tag, "when the file last changed the value" is the committer time of the newest
commit on the branch's first-parent history whose ``registry.yaml`` gives that pair another
value than HEAD's; on a merge-based workflow that is the merge, which is when the change
reached the branch.  Tag dates have one-second resolution: a tag in the same second as that
commit counts as older.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone

from modelreg.errors import InvalidIndexError
from modelreg.gitrepo import GitRepo
from modelreg.index.editor import IndexEditor
from modelreg.index.header import INDEX_FILE
from modelreg.index.schema import Index, ModelEntry
from modelreg.records import EventKind
from modelreg.state import ModelState

MAX_WALK = 500
"""Commits of ``registry.yaml`` history examined per check; older changes count as old."""


@dataclass(frozen=True)
class PairState:
    """One (model, stage) pair whose desired and realized holders differ."""

    model: str
    stage: str
    desired: str | None
    realized: str | None
    drifted: bool
    tag: str | None = None  # the newest stage tag of the pair
    tagger: str | None = None
    tagged_at: datetime | None = None

    def describe(self) -> str:
        """One line: the pair, both values, and for drift which tag did it, who, when."""
        want = self.desired or "nothing"
        have = self.realized or "nothing"
        if not self.drifted:
            return (
                f"{self.model} {self.stage}: pending, {INDEX_FILE} wants {want}, tags hold {have}"
            )
        when = self.tagged_at.strftime("%Y-%m-%d %H:%M:%SZ") if self.tagged_at else "?"
        return (
            f"{self.model} {self.stage}: drifted, tags hold {have} since {self.tag} "
            f"({self.tagger}, {when}) but {INDEX_FILE} wants {want}"
        )


def _last_stage_event(state: ModelState, stage: str) -> tuple[str, str, int] | None:
    """(tag, tagger, unix time) of the newest assignment or unassignment of ``stage``."""
    for event in reversed(state.events):
        if event.kind in (EventKind.ASSIGN, EventKind.UNASSIGN) and event.parsed.stage == stage:
            raw = event.raw
            return raw.name, f"{raw.tagger_name} <{raw.tagger_email}>", raw.timestamp
    return None


def index_history(
    repo: GitRepo, limit: int | None = None
) -> Iterator[tuple[str, int, IndexEditor | None]]:
    """HEAD's first-parent history of ``registry.yaml``, newest first: each commit, its
    committer time, and an editor of the file there (``None`` where it is missing or does
    not parse).  Each revision is read and split once, however many pairs ask about it."""
    bound = [f"-{limit}"] if limit is not None else []
    out = repo.run(
        "log", "--first-parent", *bound, "--format=%H %ct", "HEAD", "--", INDEX_FILE,
        check=False,
    ).stdout  # fmt: skip
    for line in out.splitlines():
        commit, when = line.split()
        blob = repo.show_file(commit, INDEX_FILE)
        try:
            editor = IndexEditor(blob.decode("utf-8", "replace")) if blob is not None else None
        except InvalidIndexError:  # an old revision that does not parse says nothing
            editor = None
        yield commit, int(when), editor


def entry_at(editor: IndexEditor | None, model: str) -> ModelEntry | None:
    """A model's entry in one revision of :func:`index_history` (``None`` where that
    revision, or that model's block in it, does not parse)."""
    if editor is None:
        return None
    try:
        return editor.entry(model)
    except InvalidIndexError:
        return None


def _desired_at(editor: IndexEditor | None, model: str, stage: str) -> str | None:
    entry = entry_at(editor, model)
    return entry.stages.get(stage) if entry is not None else None


def _changed_at(
    repo: GitRepo, pairs: list[tuple[str, str, str | None]]
) -> dict[tuple[str, str], int]:
    """For each (model, stage, desired-at-HEAD): the committer time of the newest
    first-parent commit that set that desired value (0 when it was never set)."""
    found: dict[tuple[str, str], int] = {}
    open_pairs = list(pairs)
    newer_time = 0
    for _, when, editor in index_history(repo, MAX_WALK):
        if not open_pairs:
            break
        still = []
        for model, stage, desired in open_pairs:
            if _desired_at(editor, model, stage) != desired:
                found[(model, stage)] = newer_time  # the newer commit made the change
            else:
                still.append((model, stage, desired))
        open_pairs = still
        newer_time = when
    for model, stage, _ in open_pairs:
        found[(model, stage)] = newer_time
    return found


def _recorded_in_history(repo: GitRepo, tag: str) -> bool:
    """Whether a modelreg write on this branch made ``tag`` and recorded it in the file: then
    the file has changed the pair since (so the difference is pending), whatever the clocks
    say (a write in the same second as the last one dates its tag a second later)."""
    needle = f'"tag": {json.dumps(tag)}'
    out = repo.run(
        "log", "--first-parent", "-1", "-F", f"--grep={needle}", "--format=%H", "HEAD",
        "--", INDEX_FILE, check=False,
    ).stdout  # fmt: skip
    return bool(out.strip())


def differences(repo: GitRepo, index: Index, states: dict[str, ModelState]) -> list[PairState]:
    """Every (model, stage) pair where ``index`` (HEAD's desired state) and the tags differ,
    classified as pending or drifted."""
    raw: list[tuple[str, str, str | None, str | None]] = []
    for name in sorted(set(index.models) | set(states)):
        entry = index.models.get(name)
        state = states.get(name)
        if entry is None or state is None or state.deprecated and not entry.stages:
            if entry is None and state is not None and state.holders():
                # Tags name a model the file does not know: every held stage drifted.
                raw += [(name, s, None, v) for s, v in sorted(state.holders().items())]
            continue
        realized = state.holders()
        for stage in sorted(set(entry.stages) | set(realized)):
            want, have = entry.stages.get(stage), realized.get(stage)
            if want != have:
                raw.append((name, stage, want, have))
    if not raw:
        return []
    changed = _changed_at(repo, [(m, s, d) for m, s, d, _ in raw])
    result = []
    for model, stage, want, have in raw:
        state = states.get(model)
        last = _last_stage_event(state, stage) if state is not None else None
        drifted = (
            last is not None
            and last[2] > changed.get((model, stage), 0)
            and not _recorded_in_history(repo, last[0])
        )
        result.append(
            PairState(
                model,
                stage,
                want,
                have,
                drifted,
                last[0] if last else None,
                last[1] if last else None,
                datetime.fromtimestamp(last[2], tz=timezone.utc) if last else None,
            )
        )
    return result

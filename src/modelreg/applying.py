"""GitOps apply: make the tags' stage holders equal the desired ``stages:`` of the committed
``registry.yaml`` (the merged pull request), and tag the versions it lists that no tag
registers yet."""

from __future__ import annotations

from collections.abc import Callable

from modelreg import drift
from modelreg.dvcstore import dvcfiles
from modelreg.errors import ConflictError, InvalidInputError, NotARegistryError
from modelreg.gitrepo import GitRepo
from modelreg.grammar import TagName, check_name, format_tag
from modelreg.index.entries import entry_from_state, record_of
from modelreg.index.header import INDEX_FILE
from modelreg.index.parse import parse_index
from modelreg.index.schema import Index, ModelEntry
from modelreg.promotion import require_active
from modelreg.queries import all_states
from modelreg.records import AppliedChange, EventKind
from modelreg.semver import sort_key
from modelreg.state import ModelState
from modelreg.tagmessage import compose
from modelreg.tags import RawTag
from modelreg.writer import LOCAL, Write, WriteOptions, run_write

CreateTag = Callable[[TagName, str, str, ModelState], RawTag]


def apply(
    repo: GitRepo,
    *,
    dry_run: bool = False,
    adopt: bool = False,
    revert: bool = False,
    options: WriteOptions = LOCAL,
) -> list[AppliedChange]:
    """Create the assignment and unassignment tags that make the tags' stage holders equal
    the desired ``stages:`` of every model in the *committed* ``registry.yaml``.  Idempotent.

    Pairs that drifted (a stage tag made after the file last set the pair, see
    :mod:`modelreg.drift`) are refused, naming them, unless ``adopt`` (the file records the
    tags' state, in one commit that also indexes registration tags the file lacks) or
    ``revert`` (the tags follow the file).  Uncommitted edits of ``registry.yaml`` are not
    desired state: apply refuses while they exist.
    """
    if adopt and revert:
        raise InvalidInputError("--adopt and --revert contradict each other: pick one")
    message = options.message
    _refuse_uncommitted(repo)

    def plan() -> tuple[Index, set[tuple[str, str]], dict[str, ModelState]]:
        text = repo.show_file("HEAD", INDEX_FILE)
        if text is None:
            raise NotARegistryError(
                f"no committed {INDEX_FILE} in {repo.root}: run `modelreg init`"
            )
        index = parse_index(text.decode("utf-8", "replace"))
        states = all_states(repo)  # one listing serves the drift check and the whole apply
        drifted = [p for p in drift.differences(repo, index, states) if p.drifted]
        if drifted and not (adopt or revert):
            more = f" (and {len(drifted) - 1} more)" if len(drifted) > 1 else ""
            raise ConflictError(
                f"{drifted[0].describe()}{more}: applying would undo it; run `modelreg apply "
                "--adopt` to record the tags' state in the file, or `modelreg apply --revert` "
                "to make the tags follow the file"
            )
        return index, {(p.model, p.stage) for p in drifted} if adopt else set(), states

    if dry_run:
        index, skip, states = plan()

        def pretend(tag: TagName, target: str, msg: str, state: ModelState) -> RawTag:
            return RawTag(format_tag(tag), target, state.last_timestamp + 1, "", "", msg)

        return _reconcile(repo, index, states, pretend, message, skip)

    def body(w: Write) -> list[AppliedChange]:
        index, adopted, states = plan()
        if adopt:
            _adopt(w, adopted, states, message)
        return _reconcile(repo, index, states, w.tag, message, adopted)

    return run_write(repo, body, options)


def _refuse_uncommitted(repo: GitRepo) -> None:
    proc = repo.run("diff", "--quiet", "HEAD", "--", INDEX_FILE, check=False)
    if proc.returncode != 0:
        raise ConflictError(
            f"{INDEX_FILE} has uncommitted changes, and apply follows the committed file: "
            f"commit them (`git commit {INDEX_FILE}`) or drop them (`git restore --staged "
            f"--worktree {INDEX_FILE}`), then run again"
        )


def _adopt(
    w: Write,
    pairs: set[tuple[str, str]],
    states: dict[str, ModelState],
    message: str | None,
) -> None:
    """Record the tags' holders of ``pairs`` in the index, and index every registration
    tag the file lacks, in one commit."""
    changed = False
    for name, stage in sorted(pairs):
        entry = w.index.entry(name)
        holder = states[name].holder(stage) if name in states else None
        if holder is None:
            entry.stages.pop(stage, None)
        else:
            entry.stages[stage] = holder
        changed = True
    for name, state in states.items():
        entry = w.index.entry(name)
        fresh = entry_from_state(state, None)
        for version, item in fresh.versions.items():
            if version not in entry.versions:
                entry.versions[version] = item
                changed = True
        if not entry.path and fresh.path:
            entry.path = fresh.path
    if not changed:
        return
    w.save_index()
    headline = f"Adopt stage changes made outside {INDEX_FILE}"
    w.commit([INDEX_FILE], compose(headline, message), {"op": "adopt"})


def _register_pending(
    repo: GitRepo,
    name: str,
    entry: ModelEntry,
    state: ModelState,
    create: CreateTag,
    message: str | None,
) -> tuple[ModelState, list[AppliedChange]]:
    """Tag the versions the index lists but no tag registers (``register --no-tag``, merged):
    each on the first commit of the branch's first-parent history that holds its entry, once
    that commit's pointer is checked to hold the recorded bytes."""
    changes = []
    pending = [
        v for v in entry.versions if v not in state.versions or not state.versions[v].registered
    ]
    for version in sorted(pending, key=sort_key):
        item = entry.versions[version]
        if item.deregistered or not item.md5 or not entry.path:
            continue
        commit = _first_commit_holding(repo, name, version)
        pointer_file = dvcfiles.pointer_file(entry.path)
        text = repo.show_file(commit, pointer_file)
        pointer = dvcfiles.parse_pointer(text, pointer_file) if text is not None else None
        if pointer is None or pointer.md5 != item.md5:
            raise ConflictError(
                f"{name} {version} is in {INDEX_FILE} without a tag, but {pointer_file} at "
                f"{commit[:12]} does not hold its md5 {item.md5}: fix the entry or remove it"
            )
        if pointer.hash_name != "md5":
            # A registration record means DVC 3's md5; this one is DVC 2's md5-dos2unix.
            raise ConflictError(
                f"{name} {version}: {pointer_file} at {commit[:12]} is a DVC 2 pointer (no "
                f"`hash: md5`): remove {version} from {INDEX_FILE} and register the artifact "
                f"with `modelreg register {name} {entry.path}`, which writes a DVC 3 pointer"
            )
        if commit in state.by_commit:
            raise ConflictError(
                f"{name} {version}: commit {commit[:12]} already holds {name} "
                f"{state.by_commit[commit]} (one version per commit, as GTO requires): merge "
                "each registration as its own commit"
            )
        record = record_of(entry, item)
        headline = f"Register {name} {version}"
        tag = TagName(name, EventKind.REGISTER, version=version)
        created = create(tag, commit, compose(headline, message, record), state)
        state = state.with_tag(created)
        changes.append(
            AppliedChange(
                name=name, stage="", action=EventKind.REGISTER, version=version, tag=created.name
            )
        )
    return state, changes


def _first_commit_holding(repo: GitRepo, name: str, version: str) -> str:
    """The oldest commit of HEAD's first-parent history, in the unbroken run back from HEAD,
    whose ``registry.yaml`` lists ``name``'s ``version``."""
    found = None
    for commit, _, editor in drift.index_history(repo):
        entry = drift.entry_at(editor, name)
        if entry is None or version not in entry.versions:
            break  # an old revision without it (or that does not parse) ends the run
        found = commit
    if found is None:
        raise ConflictError(f"{name} {version} is not in the committed {INDEX_FILE}: commit it")
    return found


def _reconcile(
    repo: GitRepo,
    index: Index,
    states: dict[str, ModelState],
    create: CreateTag,
    message: str | None,
    skip: set[tuple[str, str]] = frozenset(),  # type: ignore[assignment]
) -> list[AppliedChange]:
    changes = []
    for name, entry in sorted(index.models.items()):
        # A key no tag can name (a hand-edited 'dir/:churn' would tag 'dir/=churn#…', which
        # no reader takes for that model) must not become tags, re-made on every apply.
        check_name(name, f"model name in {INDEX_FILE}")
        state = states.get(name) or ModelState(name)
        state, registered = _register_pending(repo, name, entry, state, create, message)
        changes += registered
        for stage in sorted(set(entry.stages) | set(state.holders())):
            if (name, stage) in skip:
                continue  # adopted: the file now follows the tags
            want = entry.stages.get(stage)
            # An unassignment can uncover an older active holder (GTO's rule), so repeat;
            # each round removes one active pair, so the loop ends.
            for _ in range(len(state.active_pairs) + 2):
                holder = state.holder(stage)
                if holder == want:
                    break
                if want is not None:
                    require_active(state, want)
                    kind, version = EventKind.ASSIGN, want
                    headline = f"Apply {INDEX_FILE}: promote {name} {want} to {stage}"
                else:
                    assert holder is not None
                    kind, version = EventKind.UNASSIGN, holder
                    headline = f"Apply {INDEX_FILE}: demote {name} {holder} from {stage}"
                tag = TagName(name, kind, stage=stage, counter=state.max_counter + 1)
                created = create(
                    tag, state.versions[version].commit, compose(headline, message), state
                )
                state = state.with_tag(created)
                changes.append(
                    AppliedChange(
                        name=name, stage=stage, action=kind, version=version, tag=created.name
                    )
                )
    return changes

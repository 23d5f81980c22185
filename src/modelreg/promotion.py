"""Stage use cases: promote, propose (``--no-tag``), demote, rollback, deprecate, apply."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from modelreg import drift, policy
from modelreg.dvcstore import dvcfiles
from modelreg.errors import (
    ConflictError,
    InvalidInputError,
    NotARegistryError,
    NotFoundError,
    PolicyError,
)
from modelreg.gitrepo import GitRepo
from modelreg.grammar import TagName, check_name, check_stage, check_version, format_tag
from modelreg.index.editor import IndexEditor
from modelreg.index.entries import entry_from_state, record_of
from modelreg.index.files import write_atomic
from modelreg.index.header import INDEX_FILE
from modelreg.index.parse import parse_index
from modelreg.index.schema import Index, ModelEntry
from modelreg.locking import write_lock
from modelreg.queries import all_states, model_state
from modelreg.records import AppliedChange, EventKind, Proposal, StageChange
from modelreg.semver import sort_key
from modelreg.state import ModelState, holder_sequence
from modelreg.tagmessage import compose, parse_record
from modelreg.tags import RawTag
from modelreg.writer import (
    LOCAL,
    Write,
    WriteOptions,
    not_a_registry,
    require_commit,
    run_write,
)


def _sync_stages(w: Write, before: ModelState, new_tag: RawTag) -> ModelState:
    """Make the index's desired stages equal the stages the tags now realize."""
    after = before.with_tag(new_tag)
    w.index.set_stages(before.name, after.holders())
    return after


def _check_stage_allowed(index: IndexEditor, stage: str) -> None:
    check_stage(stage)
    if index.stages and stage not in index.stages:
        allowed = ", ".join(index.stages)
        raise InvalidInputError(
            f"unknown stage {stage!r}: allowed stages are {allowed} "
            f"(edit `stages:` in {INDEX_FILE} to add one)"
        )


def _require_active(state: ModelState, version: str) -> None:
    vs = state.versions.get(version)
    if vs is None or not vs.registered:
        raise NotFoundError(
            f"{state.name} has no version {version}: see `modelreg show {state.name}`"
        )
    if not vs.active:
        raise ConflictError(f"{state.name} {version} is deregistered: pick an active version")


# -- stages ------------------------------------------------------------------------------


def _stage_message(headline: str, message: str | None, forced: bool) -> str:
    note = message
    if forced:
        note = ((message or "") + "\n\nPolicy overridden with --force.").strip()
    return compose(headline, note)


def promote(
    repo: GitRepo,
    name: str,
    version: str,
    stage: str,
    *,
    force: bool = False,
    options: WriteOptions = LOCAL,
) -> StageChange:
    """Assign ``stage`` to ``version`` with a ``NAME#STAGE#N`` tag; record it in the index."""
    check_name(name)
    if version != "latest":
        check_version(version)

    def body(w: Write) -> StageChange:
        nonlocal version
        _check_stage_allowed(w.index, stage)
        state = model_state(repo, name)
        if version == "latest":  # as a reference says it: NAME@latest
            latest = state.latest()
            if latest is None:
                raise NotFoundError(f"model {name!r} has no active version to promote")
            version = latest
        _require_active(state, version)
        if state.deprecated:
            raise ConflictError(f"model {name!r} is deprecated: register a new version first")
        if state.holder(stage) == version:
            raise ConflictError(f"{name} {version} already holds {stage!r}: nothing to do")
        overridden = _enforce_policy(w.index, state, version, stage, force)
        headline = f"Promote {name} {version} to {stage}"
        op = {"op": "promote", "name": name, "version": version, "stage": stage, "force": force}
        return _assign(w, state, version, stage, headline, options, overridden, op)

    return run_write(repo, body, options)


def propose(
    repo: GitRepo,
    name: str,
    version: str,
    stage: str,
    *,
    branch: str | None = None,
    message: str | None = None,
    force: bool = False,
) -> Proposal:
    """Change only the desired stage in ``registry.yaml``, for a pull request.

    Without ``branch`` the working tree's file is edited (commit it yourself); with it, the
    change is committed on a new branch from HEAD and nothing else is touched.  Policies
    are checked now so a proposal CI would reject is refused early (``force`` skips them).
    """
    check_name(name)
    check_version(version)
    with write_lock(repo.git_dir):
        index = IndexEditor.load(repo.root)
        if index is None:
            raise not_a_registry(repo.root)
        _check_stage_allowed(index, stage)
        state = model_state(repo, name)
        item = index.entry(name).versions.get(version)
        vs = state.versions.get(version)
        if item is not None and (vs is None or not vs.registered) and item.md5:
            # Proposed on this branch with `register --no-tag`: apply registers it first.
            metrics = dict(item.metrics)
        else:
            _require_active(state, version)
            metrics = None
        _enforce_policy(index, state, version, stage, force, metrics)
        index.entry(name).stages[stage] = version
        text = index.render().encode("utf-8")
        proposal = Proposal(name=name, version=version, stage=stage)
        if branch is None:
            write_atomic(repo.root / INDEX_FILE, text)
            return dataclasses.replace(proposal, path=str(repo.root / INDEX_FILE))
        head = require_commit(repo.head_commit())
        repo.identity()
        headline = f"Propose {name} {version} for {stage}"
        commit = repo.commit_file_to_new_branch(
            branch, INDEX_FILE, text, compose(headline, message), head
        )
        return dataclasses.replace(proposal, branch=branch, commit=commit)


def _enforce_policy(
    index: IndexEditor,
    state: ModelState,
    version: str,
    stage: str,
    force: bool,
    metrics: dict[str, float] | None = None,
) -> bool:
    """Refuse a change the stage's policy forbids, unless forced; returns whether a rule
    was overridden (the tag message then says so).  ``metrics`` stand in for the tag's
    record of a version not tagged yet."""
    problems = policy_problems(index, state, version, stage, metrics)
    if problems and not force:
        raise PolicyError(
            f"{state.name} {version} cannot enter {stage!r}: {problems[0].message} "
            f"(policy in {INDEX_FILE}; --force overrides it)"
        )
    return bool(problems)


def version_metrics(state: ModelState, version: str) -> dict[str, float]:
    """The metrics recorded in a version's registration tag."""
    vs = state.versions.get(version)
    record = parse_record(vs.tag.message) if vs is not None and vs.tag is not None else None
    return dict(record.metrics) if record else {}


def policy_problems(
    index: IndexEditor,
    state: ModelState,
    version: str,
    stage: str,
    metrics: dict[str, float] | None = None,
) -> list[policy.Violation]:
    """The rules of ``stage``'s policy that ``version`` breaks."""
    rule = index.policy.get(stage)
    if rule is None:
        return []
    return policy.evaluate(
        stage,
        version,
        requires=rule.required_stages,
        thresholds=rule.metrics,
        metrics=metrics if metrics is not None else version_metrics(state, version),
        held_stages=state.held_stages(version),
    )


def _assign(
    w: Write,
    state: ModelState,
    version: str,
    stage: str,
    headline: str,
    options: WriteOptions,
    forced: bool,
    op: dict[str, Any],
) -> StageChange:
    name = state.name
    message = options.message
    tag = TagName(name, EventKind.ASSIGN, stage=stage, counter=state.max_counter + 1)
    commit = state.versions[version].commit
    created = w.tag(tag, commit, _stage_message(headline, message, forced), state)
    after = _sync_stages(w, state, created)
    w.save_index()
    w.commit([INDEX_FILE], compose(headline, message), options.trailer({**op, "tag": created.name}))
    return StageChange(
        name=name, stage=stage, tag=created.name, version=version, holder=after.holder(stage)
    )


def demote(
    repo: GitRepo,
    name: str,
    stage: str,
    *,
    force: bool = False,
    options: WriteOptions = LOCAL,
) -> StageChange:
    """Unassign the current holder of ``stage``; report who holds it afterwards."""
    check_name(name)
    check_stage(stage)

    def body(w: Write) -> StageChange:
        state = model_state(repo, name)
        holder = state.holder(stage)
        if holder is None:
            raise NotFoundError(f"no version of {name!r} holds stage {stage!r}: nothing to demote")
        rule = w.index.policy.get(stage)
        if rule is not None and not rule.allow_empty and not force:
            remaining = state.with_tag(_probe_unassign(state, stage))
            if remaining.holder(stage) is None:
                raise PolicyError(
                    f"stage {stage!r} of {name} may not be left empty (allow_empty: false in "
                    f"{INDEX_FILE}): promote another version instead, or pass --force"
                )
        headline = f"Demote {name} {holder} from {stage}"
        tag = TagName(name, EventKind.UNASSIGN, stage=stage, counter=state.max_counter + 1)
        message = compose(headline, options.message)
        created = w.tag(tag, state.versions[holder].commit, message, state)
        after = _sync_stages(w, state, created)
        w.save_index()
        op = {"op": "demote", "name": name, "stage": stage, "force": force, "tag": created.name}
        w.commit([INDEX_FILE], message, options.trailer(op))
        return StageChange(
            name=name, stage=stage, tag=created.name, version=holder, holder=after.holder(stage)
        )

    return run_write(repo, body, options)


def rollback(
    repo: GitRepo,
    name: str,
    stage: str,
    *,
    to: str | None = None,
    force: bool = False,
    options: WriteOptions = LOCAL,
) -> StageChange:
    """Give ``stage`` back to the version that held it before the current holder (or to
    ``to``).  The stage's policy applies as for a promotion; ``force`` overrides it, and the
    tag says so."""
    check_name(name)
    check_stage(stage)
    if to is not None:
        check_version(to)

    def body(w: Write) -> StageChange:
        _check_stage_allowed(w.index, stage)
        state = model_state(repo, name)
        current = state.holder(stage)
        if current is None:
            raise NotFoundError(
                f"no version of {name!r} holds stage {stage!r}: nothing to roll back"
            )
        target = to if to is not None else _previous_holder(state, stage, current)
        _require_active(state, target)
        if target == current:
            raise ConflictError(f"{name} {target} already holds {stage!r}: nothing to do")
        overridden = _enforce_policy(w.index, state, target, stage, force)
        headline = f"Roll back {name} {stage} from {current} to {target}"
        op = {"op": "rollback", "name": name, "stage": stage, "to": target, "force": force}
        return _assign(w, state, target, stage, headline, options, overridden, op)

    return run_write(repo, body, options)


def _refuse_emptying(index: IndexEditor, state: ModelState, probe: RawTag) -> None:
    """``allow_empty: false`` forbids any event that leaves a held stage without a holder
    (a deregistration of its last active holder, say); deprecating the whole model is the
    one exception, and ``demote --force`` the way to do it on purpose."""
    after = state.with_tag(dataclasses.replace(probe, timestamp=state.last_timestamp + 1))
    for stage, rule in index.policy.items():
        if not rule.allow_empty and state.holder(stage) and after.holder(stage) is None:
            raise PolicyError(
                f"this would leave stage {stage!r} of {state.name} empty (allow_empty: false "
                f"in {INDEX_FILE}): promote another version to {stage!r} first"
            )


def _probe_unassign(state: ModelState, stage: str) -> RawTag:
    """The tag a demotion would create, for asking what would hold the stage after it."""
    holder = state.holder(stage)
    assert holder is not None
    name = format_tag(
        TagName(state.name, EventKind.UNASSIGN, stage=stage, counter=state.max_counter + 1)
    )
    return RawTag(name, state.versions[holder].commit, state.last_timestamp + 1, "", "", "")


def _previous_holder(state: ModelState, stage: str, current: str) -> str:
    for version in reversed(holder_sequence(state, stage)[:-1]):
        vs = state.versions.get(version)
        if version != current and vs is not None and vs.registered and vs.active:
            return version
    raise NotFoundError(
        f"no earlier active version of {state.name!r} held {stage!r}: "
        "pass --to VERSION to choose one"
    )


def deprecate(
    repo: GitRepo,
    name: str,
    version: str | None = None,
    *,
    options: WriteOptions = LOCAL,
) -> str:
    """Deregister one version (``NAME@vX.Y.Z!``) or deprecate the model (``NAME@deprecated``)."""
    check_name(name)

    def body(w: Write) -> str:
        state = model_state(repo, name)
        if not state.exists:
            raise NotFoundError(f"no model named {name!r} in this registry: check `modelreg list`")
        entry = w.index.entry(name)
        if version is not None:
            check_version(version)
            _require_active(state, version)
            headline = f"Deregister {name} {version}"
            tag = TagName(name, EventKind.DEREGISTER, version=version)
            target = state.versions[version].commit
            _refuse_emptying(w.index, state, RawTag(format_tag(tag), target, 0, "", "", ""))
            if version in entry.versions:
                entry.versions[version].deregistered = True
        else:
            if state.deprecated:
                raise ConflictError(f"model {name!r} is already deprecated: nothing to do")
            headline = f"Deprecate {name}"
            tag = TagName(name, EventKind.DEPRECATE)
            latest = state.latest()
            target = state.versions[latest].commit if latest else state.events[-1].raw.commit
            entry.deprecated = True
            if repo.tags([f"refs/tags/{format_tag(tag)}"]):
                raise ConflictError(
                    f"tag {format_tag(tag)!r} exists from an earlier deprecation: "
                    "GTO's format allows one; delete it with `git tag -d` first"
                )
        message = compose(headline, options.message)
        created = w.tag(tag, target, message, state)
        _sync_stages(w, state, created)
        w.save_index()
        op = {"op": "deprecate", "name": name, "version": version, "tag": created.name}
        w.commit([INDEX_FILE], message, options.trailer(op))
        return created.name

    return run_write(repo, body, options)


# -- apply -------------------------------------------------------------------------------

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
                    _require_active(state, want)
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

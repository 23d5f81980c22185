"""Stage use cases: promote, propose (``--no-tag``), demote, rollback, deprecate.

``apply`` (the committed file's stages, made tags) is :mod:`modelreg.applying`."""

from __future__ import annotations

import dataclasses
from typing import Any

from modelreg import policy
from modelreg.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PolicyError,
)
from modelreg.gitrepo import GitRepo
from modelreg.grammar import TagName, check_name, check_stage, check_version, format_tag
from modelreg.index.editor import IndexEditor
from modelreg.index.files import write_atomic
from modelreg.index.header import INDEX_FILE
from modelreg.locking import write_lock
from modelreg.queries import model_state
from modelreg.records import EventKind, Proposal, StageChange
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


def require_active(state: ModelState, version: str) -> None:
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
        require_active(state, version)
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
            require_active(state, version)
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
        require_active(state, target)
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
            require_active(state, version)
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

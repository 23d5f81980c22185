"""Write use cases: init, register, promote, demote, rollback, deprecate, index rebuild.

Each write takes the clone's lock, checks everything it can before touching anything, then
changes files, commits exactly the files it wrote and creates its tag inside a
:class:`~modelreg.transaction.Transaction`, so a failure at any step leaves the repository as
it was.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from modelreg import dvccache, dvcfiles, dvcio, hashing, policy, sync
from modelreg.errors import (
    ConflictError,
    InvalidInputError,
    NotARegistryError,
    NotFoundError,
    PolicyError,
)
from modelreg.gitrepo import GitRepo, Identity, RawTag
from modelreg.grammar import EventKind, TagName, check_name, check_stage, check_version, format_tag
from modelreg.index import (
    DEFAULT_STAGES,
    INDEX_FILE,
    Index,
    IndexEditor,
    ModelEntry,
    VersionEntry,
    dump_index,
    format_time,
    load_index,
    write_atomic,
    write_index,
)
from modelreg.locking import write_lock
from modelreg.queries import all_states, model_state, version_record
from modelreg.records import AppliedChange, ArtifactRecord, ModelVersion, Scalar, StageChange
from modelreg.semver import FIRST_VERSION, Bump, Version, sort_key
from modelreg.state import ModelState, holder_sequence, replay
from modelreg.tagmessage import compose, parse_record
from modelreg.transaction import Transaction


@dataclass
class Write:
    """What one write command works with while it holds the lock."""

    repo: GitRepo
    index: IndexEditor
    identity: Identity
    tx: Transaction
    publishing: bool = False

    def commit(self, paths: list[str], message: str) -> str:
        """Commit ``paths`` and return the commit that now holds them."""
        commit = self.repo.commit_paths(paths, message, self.tx.head)
        self.tx.committed(commit)
        head = commit or self.tx.head
        if head is None:
            raise NotARegistryError("the repository has no commit: run `modelreg init` first")
        return head

    def save_index(self) -> None:
        self.tx.snapshot(self.repo.root / INDEX_FILE)
        self.index.save(self.repo.root)

    def tag(self, tag: TagName, target: str, message: str, state: ModelState) -> RawTag:
        """Create a tag dated strictly after the model's previous event.

        GTO orders events by tagger date alone (one-second resolution); a later date keeps
        both tools agreeing when events come in the same second.  Returns the tag as a
        listing would show it, so callers can replay it without listing the tags again.
        """
        name = format_tag(tag)
        when = max(int(time.time()), state.last_timestamp + 1)
        self.repo.create_tag(name, target, message, when)
        self.tx.tagged(name)
        return RawTag(name, target, when, self.identity.name, self.identity.email, message)


@contextlib.contextmanager
def writing(repo: GitRepo, *, need_index: bool = True) -> Iterator[Write]:
    """Lock, load, and run a write in a transaction."""
    identity = repo.identity()
    with write_lock(repo.git_dir):
        index = IndexEditor.load(repo.root)
        if index is None:
            if need_index:
                raise NotARegistryError(
                    f"{repo.root} is not a modelreg registry (no {INDEX_FILE}): "
                    "run `modelreg init` first"
                )
            index = IndexEditor("")
        tx = Transaction(repo)
        w = Write(repo, index, identity, tx)
        try:
            yield w
        except BaseException as e:
            # Once publishing has begun, the local write stands (a later `modelreg push`
            # completes it) unless the remote moved first and the write must be redone.
            if not w.publishing or isinstance(e, sync.PushRace):
                tx.rollback()
            raise


T = TypeVar("T")
PUSH_ATTEMPTS = 10


def run_write(
    repo: GitRepo,
    body: Callable[[Write], T],
    *,
    push: str | None = None,
    need_index: bool = True,
) -> T:
    """Run ``body`` as one all-or-nothing write; with ``push``, publish it to that remote.

    When the push is rejected because another writer got there first, the local write is
    undone, the remote is fetched, and ``body`` runs again on the new tip (so it computes a
    fresh version number or stage counter), up to :data:`PUSH_ATTEMPTS` times with jitter.
    """
    if push is None:
        with writing(repo, need_index=need_index) as w:
            return body(w)
    branch = sync.current_branch(repo)
    with write_lock(repo.git_dir):
        sync.catch_up(repo, push, branch)
    for attempt in range(1, PUSH_ATTEMPTS + 1):
        try:
            with writing(repo, need_index=need_index) as w:
                result = body(w)
                w.publishing = True
                _publish(repo, push, branch, w.tx.tags)
                return result
        except sync.PushRace as race:
            if attempt == PUSH_ATTEMPTS:
                raise ConflictError(
                    f"gave up after {attempt} attempts, other writers kept pushing first "
                    f"({race}); nothing was changed locally: run the command again"
                ) from race
            time.sleep(random.uniform(0.05, 0.3) * attempt)
            with write_lock(repo.git_dir):
                sync.catch_up(repo, push, branch)
    raise AssertionError("unreachable")


def _publish(repo: GitRepo, remote: str, branch: str, tags: list[str]) -> None:
    """Bytes of new versions to the DVC remote, then branch and tags in one atomic push."""
    commits = sync.registration_commits(repo, tags)
    if commits:
        dvcio.push_data(repo.root, commits)
    sync.push_refs(repo, remote, branch, tags)


def push(repo: GitRepo, remote: str = "origin") -> list[str]:
    """Publish every registry tag the remote lacks (bytes first); returns the tags pushed."""
    with write_lock(repo.git_dir):
        branch = sync.current_branch(repo)
        tags = sync.unpublished_tags(repo, remote)
        _publish(repo, remote, branch, tags)
        return tags


def _sync_stages(w: Write, before: ModelState, new_tag: RawTag) -> ModelState:
    """Make the index's desired stages equal the stages the tags now realize."""
    after = replay(before.name, [*(e.raw for e in before.events), new_tag])
    w.index.entry(before.name).stages = after.holders()
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


# -- init --------------------------------------------------------------------------------


def init(
    repo: GitRepo,
    stages: list[str] | None,
    remote: str | None,
    remote_options: dict[str, str] | None = None,
    *,
    message: str | None = None,
    push: str | None = None,
) -> Path:
    """Make a Git repository a registry; returns the index path.

    With ``push``, the commit is pushed to that Git remote (there are no tags yet)."""
    for stage in stages or []:
        check_stage(stage)
    if stages is not None and len(set(stages)) != len(stages):
        raise InvalidInputError(f"duplicate stage in {','.join(stages)!r}: list each once")
    if remote_options and not remote:
        raise InvalidInputError("--remote-config needs --remote URL")
    if (repo.root / INDEX_FILE).exists():
        raise ConflictError(f"{repo.root} is already a modelreg registry ({INDEX_FILE} exists)")
    root = repo.root
    created_dvc = not dvcio.is_initialized(root)
    try:
        with writing(repo, need_index=False) as w:
            w.index = IndexEditor(dump_index(Index(stages=stages or list(DEFAULT_STAGES))))
            paths = [INDEX_FILE]
            w.tx.snapshot(
                root / ".dvc/config",
                root / ".dvc/config.local",
                root / ".dvc/.gitignore",
                root / ".dvcignore",
            )
            if created_dvc:
                paths += dvcio.init(root)
            if remote:
                dvcio.set_default_remote(root, _remote_url(remote), remote_options)
                paths.append(".dvc/config")
            w.save_index()
            w.commit(sorted(set(paths)), compose("Initialize modelreg registry", message))
    except BaseException:
        # `dvc init` also leaves .dvc/tmp behind; a half-made .dvc would make the retry
        # skip `dvc init`, so the whole folder goes when this command created it.
        if created_dvc:
            import shutil

            shutil.rmtree(root / ".dvc", ignore_errors=True)
            (root / ".dvcignore").unlink(missing_ok=True)
        raise
    if push is not None:
        with write_lock(repo.git_dir):
            try:
                sync.push_refs(repo, push, sync.current_branch(repo), [])
            except sync.PushRace as race:
                raise ConflictError(
                    f"initialized locally, but {push!r} has commits this clone lacks ({race}): "
                    "pull them, then `git push`"
                ) from race
    return root / INDEX_FILE


def _remote_url(remote: str) -> str:
    # A local folder is stored absolute: DVC reads relative remote paths against .dvc/.
    if "://" in remote:
        return remote
    return os.fspath(Path(remote).expanduser().resolve())


# -- register ----------------------------------------------------------------------------


def _artifact_path(repo: GitRepo, path: str | os.PathLike[str]) -> tuple[Path, str]:
    """Absolute and repository-relative forms of an artifact path, validated."""
    raw = Path(path)
    full = (raw if raw.is_absolute() else repo.root / raw).resolve()
    try:
        rel = full.relative_to(repo.root.resolve()).as_posix()
    except ValueError:
        raise InvalidInputError(
            f"path {os.fspath(path)!r} is outside the repository {repo.root}: "
            "move the artifact into it"
        ) from None
    if rel == "." or rel.split("/")[0] in (".git", ".dvc"):
        raise InvalidInputError(f"path {os.fspath(path)!r} cannot be registered: pick a model file")
    if not full.exists():
        raise InvalidInputError(f"path {os.fspath(path)!r} does not exist: train or save it first")
    if rel == INDEX_FILE or rel.endswith(".dvc") or rel == dvcfiles.DVC_YAML:
        raise InvalidInputError(f"path {os.fspath(path)!r} is a registry file, not a model")
    return full, rel


def _next_version(state: ModelState, explicit: str | None, bump: Bump) -> str:
    taken = state.all_semver()
    if explicit is not None:
        check_version(explicit)
        wanted = Version.parse(explicit)
        clash = next((v for v in taken if v == wanted), None)
        if clash is not None:
            # Build metadata does not order versions, so v1.0.0+b clashes with v1.0.0.
            raise ConflictError(
                f"{state.name} {clash} already exists: pick another version or omit --version"
            )
        return explicit
    if not taken:
        return FIRST_VERSION
    return str(max(taken).bump(bump))


def register(
    repo: GitRepo,
    name: str,
    path: str | os.PathLike[str],
    *,
    metrics: dict[str, float],
    params: dict[str, Scalar],
    description: str | None = None,
    labels: list[str] | None = None,
    bump: Bump = "minor",
    version: str | None = None,
    message: str | None = None,
    allow_unchanged: bool = False,
    push: str | None = None,
    card: dict[str, Any] | None = None,
) -> ModelVersion:
    """Track ``path`` with DVC, index it, commit, and tag ``NAME@vX.Y.Z``.

    ``card`` is the model card summary ``log_model`` wrote; it travels in the tag."""
    check_name(name)
    if version is not None:
        check_version(version)
    full, rel = _artifact_path(repo, path)
    if repo.is_tracked(rel):
        raise InvalidInputError(
            f"path {rel!r} is tracked by Git: `git rm --cached {rel}` and commit, then register"
        )

    def body(w: Write) -> str:
        state = model_state(repo, name)
        new_version = _next_version(state, version, bump)
        digest = hashing.digest(full)
        _refuse_unchanged(state, digest.md5, allow_unchanged)
        root = repo.root
        dvc_file = dvcfiles.pointer_file(rel)
        gitignore = (full.parent / ".gitignore").relative_to(root).as_posix()
        w.tx.snapshot(root / dvc_file, root / gitignore, root / dvcfiles.DVC_YAML)

        if dvccache.default_layout(root):
            dvccache.track(root, full, rel, digest)
        else:
            dvcio.track(root, full)
        pointer = dvcfiles.parse_pointer((root / dvc_file).read_bytes(), dvc_file)

        entry = w.index.entry(name)
        entry.path = rel
        if description is not None:
            entry.description = description
        if labels:
            entry.labels = list(labels)
        entry.deprecated = False
        now = datetime.now(timezone.utc).replace(microsecond=0)
        record = ArtifactRecord(
            path=rel,
            md5=pointer.md5,
            size=pointer.size if pointer.size is not None else digest.size,
            nfiles=pointer.nfiles,
            metrics=metrics,
            params=params,
            description=entry.description,
            labels=entry.labels,
            registered_by=str(w.identity),
            registered_at=now,
            card=card,
        )
        tag = TagName(name, EventKind.REGISTER, version=new_version)
        entry.versions[new_version] = VersionEntry(
            tag=format_tag(tag),
            md5=record.md5,
            size=record.size,
            nfiles=record.nfiles,
            metrics=metrics,
            params=params,
            registered_by=record.registered_by,
            registered_at=format_time(now),
        )
        dvcfiles.update_dvc_yaml(root, name, rel, entry.description, entry.labels)
        w.save_index()
        paths = [INDEX_FILE, dvcfiles.DVC_YAML, dvc_file]
        if (root / gitignore).exists():
            paths.append(gitignore)
        headline = f"Register {name} {new_version}"
        commit = w.commit(paths, compose(headline, message))
        if commit in state.by_commit:
            # GTO's invariant: a commit carries at most one version of a model.
            raise ConflictError(
                f"commit {commit[:12]} already holds {name} {state.by_commit[commit]}: "
                "change the artifact or the index before registering again"
            )
        w.tag(tag, commit, compose(headline, message, record), state)
        return new_version

    new_version = run_write(repo, body, push=push)
    return version_record(model_state(repo, name), new_version)


def _refuse_unchanged(state: ModelState, md5: str, allow: bool) -> None:
    latest = state.latest()
    if allow or latest is None:
        return
    tag = state.versions[latest].tag
    record = parse_record(tag.message) if tag else None
    if record is not None and record.md5 == md5:
        raise ConflictError(
            f"the artifact is byte-identical to {state.name} {latest}: "
            "change it, or pass --allow-unchanged to register it again"
        )


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
    message: str | None = None,
    force: bool = False,
    push: str | None = None,
) -> StageChange:
    """Assign ``stage`` to ``version`` with a ``NAME#STAGE#N`` tag; record it in the index."""
    check_name(name)
    check_version(version)

    def body(w: Write) -> StageChange:
        _check_stage_allowed(w.index, stage)
        state = model_state(repo, name)
        _require_active(state, version)
        if state.deprecated:
            raise ConflictError(f"model {name!r} is deprecated: register a new version first")
        if state.holder(stage) == version:
            raise ConflictError(f"{name} {version} already holds {stage!r}: nothing to do")
        problems = policy_problems(w.index, state, version, stage)
        if problems and not force:
            raise PolicyError(
                f"{name} {version} cannot enter {stage!r}: {problems[0].message} "
                f"(policy in {INDEX_FILE}; --force overrides it)"
            )
        headline = f"Promote {name} {version} to {stage}"
        return _assign(w, state, version, stage, headline, message, bool(problems))

    return run_write(repo, body, push=push)


def propose(
    repo: GitRepo,
    name: str,
    version: str,
    stage: str,
    *,
    branch: str | None = None,
    message: str | None = None,
    force: bool = False,
) -> str:
    """Change only the desired stage in ``registry.yaml``, for a pull request.

    Without ``branch`` the working tree's file is edited (commit it yourself); with it, the
    change is committed on a new branch from HEAD and nothing else is touched.  Policies
    are checked now so a proposal CI would reject is refused early (``force`` skips them).
    Returns the file path or the new commit.
    """
    check_name(name)
    check_version(version)
    with write_lock(repo.git_dir):
        index = IndexEditor.load(repo.root)
        if index is None:
            raise NotARegistryError(
                f"{repo.root} is not a modelreg registry (no {INDEX_FILE}): run `modelreg init`"
            )
        _check_stage_allowed(index, stage)
        state = model_state(repo, name)
        _require_active(state, version)
        problems = policy_problems(index, state, version, stage)
        if problems and not force:
            raise PolicyError(
                f"{name} {version} cannot enter {stage!r}: {problems[0].message} "
                f"(policy in {INDEX_FILE}; --force overrides it)"
            )
        index.entry(name).stages[stage] = version
        text = index.render().encode("utf-8")
        if branch is None:
            write_atomic(repo.root / INDEX_FILE, text)
            return str(repo.root / INDEX_FILE)
        head = repo.head_commit()
        if head is None:
            raise NotARegistryError("the repository has no commit: run `modelreg init` first")
        repo.identity()
        headline = f"Propose {name} {version} for {stage}"
        return repo.commit_file_to_new_branch(
            branch, INDEX_FILE, text, compose(headline, message), head
        )


def version_metrics(state: ModelState, version: str) -> dict[str, float]:
    """The metrics recorded in a version's registration tag."""
    vs = state.versions.get(version)
    record = parse_record(vs.tag.message) if vs is not None and vs.tag is not None else None
    return dict(record.metrics) if record else {}


def policy_problems(
    index: IndexEditor, state: ModelState, version: str, stage: str
) -> list[policy.Violation]:
    """The rules of ``stage``'s policy that ``version`` breaks."""
    rule = index.policy.get(stage)
    if rule is None:
        return []
    return policy.evaluate(
        stage,
        version,
        requires=rule.requires,
        thresholds=rule.metrics,
        metrics=version_metrics(state, version),
        held_stages=state.held_stages(version),
    )


def _assign(
    w: Write,
    state: ModelState,
    version: str,
    stage: str,
    headline: str,
    message: str | None,
    forced: bool,
) -> StageChange:
    name = state.name
    tag = TagName(name, EventKind.ASSIGN, stage=stage, counter=state.max_counter + 1)
    commit = state.versions[version].commit
    created = w.tag(tag, commit, _stage_message(headline, message, forced), state)
    after = _sync_stages(w, state, created)
    w.save_index()
    w.commit([INDEX_FILE], compose(headline, message))
    return StageChange(
        name=name, stage=stage, tag=created.name, version=version, holder=after.holder(stage)
    )


def demote(
    repo: GitRepo,
    name: str,
    stage: str,
    *,
    message: str | None = None,
    push: str | None = None,
    force: bool = False,
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
            remaining = replay(
                name, [*(e.raw for e in state.events), _probe_unassign(state, stage)]
            )
            if remaining.holder(stage) is None:
                raise PolicyError(
                    f"stage {stage!r} of {name} may not be left empty (allow_empty: false in "
                    f"{INDEX_FILE}): promote another version instead, or pass --force"
                )
        headline = f"Demote {name} {holder} from {stage}"
        tag = TagName(name, EventKind.UNASSIGN, stage=stage, counter=state.max_counter + 1)
        created = w.tag(tag, state.versions[holder].commit, compose(headline, message), state)
        after = _sync_stages(w, state, created)
        w.save_index()
        w.commit([INDEX_FILE], compose(headline, message))
        return StageChange(
            name=name, stage=stage, tag=created.name, version=holder, holder=after.holder(stage)
        )

    return run_write(repo, body, push=push)


def rollback(
    repo: GitRepo,
    name: str,
    stage: str,
    *,
    to: str | None = None,
    message: str | None = None,
    push: str | None = None,
) -> StageChange:
    """Give ``stage`` back to the version that held it before the current holder."""
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
        headline = f"Roll back {name} {stage} from {current} to {target}"
        return _assign(w, state, target, stage, headline, message, False)

    return run_write(repo, body, push=push)


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
    message: str | None = None,
    push: str | None = None,
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
        created = w.tag(tag, target, compose(headline, message), state)
        _sync_stages(w, state, created)
        w.save_index()
        w.commit([INDEX_FILE], compose(headline, message))
        return created.name

    return run_write(repo, body, push=push)


# -- apply -------------------------------------------------------------------------------

CreateTag = Callable[[TagName, str, str, ModelState], RawTag]


def apply(
    repo: GitRepo,
    *,
    dry_run: bool = False,
    message: str | None = None,
    push: str | None = None,
) -> list[AppliedChange]:
    """Create the assignment and unassignment tags that make the tags' stage holders equal
    the desired ``stages:`` of every model in ``registry.yaml``.  Idempotent."""
    if dry_run:
        index = load_index(repo.root)
        if index is None:
            raise NotARegistryError(f"no {INDEX_FILE} in {repo.root}: run `modelreg init`")

        def pretend(tag: TagName, target: str, msg: str, state: ModelState) -> RawTag:
            return RawTag(format_tag(tag), target, state.last_timestamp + 1, "", "", msg)

        return _reconcile(repo, index, pretend, message)

    def body(w: Write) -> list[AppliedChange]:
        index = load_index(repo.root)
        assert index is not None  # writing() has checked it exists
        return _reconcile(repo, index, w.tag, message)

    return run_write(repo, body, push=push)


def _reconcile(
    repo: GitRepo, index: Index, create: CreateTag, message: str | None
) -> list[AppliedChange]:
    changes = []
    for name, entry in sorted(index.models.items()):
        state = model_state(repo, name)
        raws = [e.raw for e in state.events]
        for stage in sorted(set(entry.stages) | set(state.holders())):
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
                raws.append(created)
                state = replay(name, raws)
                changes.append(
                    AppliedChange(
                        name=name, stage=stage, action=kind, version=version, tag=created.name
                    )
                )
    return changes


# -- index -------------------------------------------------------------------------------


def rebuild_index(repo: GitRepo, *, message: str | None = None, push: str | None = None) -> Index:
    """Rewrite ``registry.yaml`` from the tags alone (keeping stages and policies)."""

    def body(w: Write) -> Index:
        old = load_index(repo.root) or Index()
        fresh = Index(stages=old.stages, policy=old.policy)
        for name, state in all_states(repo).items():
            fresh.models[name] = entry_from_state(state, old.models.get(name))
        w.tx.snapshot(repo.root / INDEX_FILE)
        write_index(repo.root, fresh)
        w.commit([INDEX_FILE], compose("Rebuild registry index from tags", message))
        return fresh

    return run_write(repo, body, push=push, need_index=False)


def entry_from_state(state: ModelState, old: ModelEntry | None) -> ModelEntry:
    """An index entry derived from tags; descriptive fields not in tags come from ``old``."""
    entry = ModelEntry(stages=state.holders(), deprecated=state.deprecated)
    last_record = None
    for version, vs in sorted(state.versions.items(), key=lambda kv: sort_key(kv[0])):
        if not vs.registered or vs.tag is None:
            continue
        record = parse_record(vs.tag.message)
        item = VersionEntry(tag=vs.tag.name, deregistered=not vs.active)
        if record is not None:
            last_record = record
            item = VersionEntry(
                tag=vs.tag.name,
                md5=record.md5,
                size=record.size,
                nfiles=record.nfiles,
                metrics=record.metrics,
                params=record.params,
                registered_by=record.registered_by,
                registered_at=format_time(record.registered_at),
                deregistered=not vs.active,
            )
        else:
            when = datetime.fromtimestamp(vs.tag.timestamp, tz=timezone.utc)
            item = item.model_copy(
                update={
                    "registered_by": f"{vs.tag.tagger_name} <{vs.tag.tagger_email}>",
                    "registered_at": format_time(when),
                }
            )
        entry.versions[version] = item
    if last_record is not None:
        entry.path = last_record.path
        entry.description = last_record.description
        entry.labels = list(last_record.labels)
    if old is not None:
        entry.description = old.description if old.description is not None else entry.description
        entry.labels = old.labels or entry.labels
        entry.path = old.path or entry.path
    return entry

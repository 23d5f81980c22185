"""The write machinery every write command shares: the clone's lock, the crash-safe
transaction, and publishing to a remote with retries when another writer races.

A write takes the clone's lock, repairs whatever an interrupted write left, checks
everything it can before touching anything, then changes files (each backed up first) and
creates commit and tag *objects*; :meth:`Write.finish` makes them visible in one ref
transaction (see :mod:`modelreg.transaction`).  With ``--push`` the objects are published
first, bytes before tags, and the local refs move only once the remote accepted them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from modelreg import leftovers, sync
from modelreg.dating import tag_date
from modelreg.dvcstore import dvcio
from modelreg.errors import (
    ConflictError,
    InvalidIndexError,
    InvalidInputError,
    NotARegistryError,
    PublishError,
    RegistryError,
)
from modelreg.faults import fault_point
from modelreg.gitrepo import INDEX_TMP_PREFIX, GitRepo, Identity
from modelreg.grammar import TagName, check_tag, format_tag
from modelreg.index.editor import IndexEditor
from modelreg.index.files import read_index_text, write_atomic
from modelreg.index.header import INDEX_FILE
from modelreg.index.layout import preamble
from modelreg.locking import write_lock
from modelreg.state import ModelState
from modelreg.tagmessage import OP_TRAILER
from modelreg.tags import RawTag
from modelreg.transaction import Transaction, recover
from modelreg.untrusted import check_no_links

if TYPE_CHECKING:
    from modelreg.replay import Plan

log = logging.getLogger("modelreg")


Redo = Callable[[GitRepo, "Plan"], object]
"""Redoes a clone's overtaken writes on the remote tip (:func:`modelreg.redo.run`)."""


@dataclass(frozen=True)
class WriteOptions:
    """How a write is made, as opposed to what it changes; every write command takes one.

    ``message`` is the user's note for the tag and commit messages; ``push`` the Git remote
    to publish to, ``None`` for a local write.  ``redo`` is what a ``push`` calls when this
    clone's earlier unpublished writes were overtaken by the remote: the API layer hands it
    down, so this machinery never imports the commands that redo them.  ``redo_of`` names
    the commit a redone write redoes, in its ``Modelreg-Write`` trailer (redone writes never
    push, so a redo never redoes).
    """

    message: str | None = None
    push: str | None = None
    redo: Redo | None = None
    redo_of: str | None = None

    def trailer(self, op: dict[str, Any]) -> dict[str, Any]:
        """``op``, what the write did, as its commit's ``Modelreg-Write`` trailer says it."""
        return op if self.redo_of is None else {**op, "redo_of": self.redo_of}


LOCAL = WriteOptions()
"""A local write without a note."""


def not_a_registry(root: Path) -> NotARegistryError:
    """The error of a write in a repository without ``registry.yaml`` (raise it)."""
    return NotARegistryError(
        f"{root} is not a modelreg registry (no {INDEX_FILE}): run `modelreg init` first"
    )


def require_commit(head: str | None) -> str:
    """``head``, the commit a write builds on; a repository without one is not a registry."""
    if head is None:
        raise NotARegistryError("the repository has no commit: run `modelreg init` first")
    return head


@dataclass
class Write:
    """What one write command works with while it holds the lock."""

    repo: GitRepo
    index: IndexEditor
    identity: Identity
    tx: Transaction
    saved_text: str | None = None  # the registry.yaml this write wrote, if any

    def snapshot(self, *paths: os.PathLike[str]) -> None:
        """Back up files before this write changes them (see :class:`Transaction`)."""
        self.tx.snapshot(*(Path(p) for p in paths))

    def commit(self, paths: list[str], message: str, op: dict[str, Any] | None = None) -> str:
        """Commit ``paths`` (as an object, on top of this write's previous commit) and
        return the commit that holds them.

        ``op`` describes the write in a ``Modelreg-Write:`` trailer, so that a clone whose
        unpublished writes were overtaken by the remote can redo them on its new tip.
        """
        if INDEX_FILE in paths:
            paths = [*paths, *self._refresh_schema()]
        if op is not None:
            message = message.rstrip("\n") + "\n\n" + OP_TRAILER + json.dumps(op, sort_keys=True)
            message += "\n"
        parent = self.tx.new_head or self.tx.head
        made = self.repo.make_commit(paths, message, parent, self.tx.tmp_dir)
        fault_point("after-commit-object")
        if made is None:
            return require_commit(parent)
        self.tx.headline = message.splitlines()[0]
        self.tx.committed(made.id, made.entries)
        return made.id

    def _refresh_schema(self) -> list[str]:
        """The committed JSON Schema the index's ``$schema`` line names, written when it is
        missing or older than this modelreg's: the paths to commit with the index."""
        from modelreg.index import schemafile

        root = self.repo.root
        if not schemafile.stale(root):
            return []
        check_no_links(root, schemafile.SCHEMA_FILE)
        target = root / schemafile.SCHEMA_FILE
        if target.is_dir():
            raise InvalidInputError(
                f"{schemafile.SCHEMA_FILE} is a folder where modelreg keeps registry.yaml's "
                "JSON Schema: move it away, then run the command again"
            )
        if not target.parent.is_dir():
            self.tx.created_dir(target.parent)
            target.parent.mkdir()
        self.snapshot(target)
        schemafile.write(root)
        return [schemafile.SCHEMA_FILE]

    def save_index(self) -> None:
        if self.index.branch is None:
            current = self.tx.ref
            if current.startswith("refs/heads/"):
                # A registry made before `branch:` existed learns it on its first write.
                name = current.removeprefix("refs/heads/")
                self.index.set_branch(name)
                log.warning(
                    f"recorded `branch: {name}` in {INDEX_FILE}: writes that tag, and every "
                    "--push, belong on that branch"
                )
        check_no_links(self.repo.root, INDEX_FILE)
        self.snapshot(self.repo.root / INDEX_FILE)
        text = self.index.render()
        write_atomic(self.repo.root / INDEX_FILE, text.encode("utf-8"))
        self.saved_text = text
        fault_point("after-index-file")

    def tag(self, tag: TagName, target: str, message: str, state: ModelState) -> RawTag:
        """Create a tag object dated truthfully, after the model's previous event wherever
        the order within one second matters (:func:`modelreg.dating.tag_date`).

        Returns the tag as a listing would show it, so callers can replay it without listing
        the tags again.
        """
        name = check_tag(format_tag(tag))
        self.require_registry_branch()
        draft = RawTag(name, target, 0, self.identity.name, self.identity.email, message)
        when = tag_date(state, draft)
        obj = self.repo.make_tag(name, target, message, when, self.identity)
        self.tx.tagged(name, obj)
        if not self.tx.new_head:
            self.tx.headline = message.splitlines()[0]
        return RawTag(name, target, when, self.identity.name, self.identity.email, message)

    def require_registry_branch(self) -> None:
        """Refuse a tagging write off the registry branch: its tags would be published
        while the index entries they belong to stay on a branch main never merges."""
        branch = self.index.branch
        if branch is None:
            return
        current = self.tx.ref  # HEAD's ref when the write began, under the lock
        if current == f"refs/heads/{branch}":
            return
        if current == "HEAD":
            # CI checks out detached: fine at the registry branch's tip as the remote has it.
            head = self.repo.head_commit()
            pattern = f"refs/remotes/*/{branch}"
            tips = self.repo.out("for-each-ref", "--format=%(objectname)", pattern)
            if head is not None and head in tips.split():
                return
        where = current.removeprefix("refs/heads/") if current != "HEAD" else "a detached HEAD"
        raise ConflictError(
            f"writes that tag belong on the registry branch {branch!r} (this is {where}): "
            f"`git switch {branch}` first, or propose the change for a pull request "
            "(`modelreg promote NAME VERSION STAGE --no-tag --branch B`)"
        )

    def finish(self) -> None:
        """Make the write visible: branch, tags and the user's index together."""
        self.tx.commit()
        if self.saved_text is not None:
            # Rendered by us from a validated file: the next write need not parse it whole.
            _remember_valid(self.repo, self.saved_text)


_VALID_INDEX = "modelreg.valid-index"


def _content_id(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _remember_valid(repo: GitRepo, text: str) -> None:
    # Only a cache: if it cannot be written, the next write validates again.
    with contextlib.suppress(OSError):
        (repo.git_dir / _VALID_INDEX).write_text(_content_id(text) + "\n", encoding="utf-8")


def _validate_whole(repo: GitRepo, text: str) -> None:
    """Refuse a write on a ``registry.yaml`` that is malformed anywhere (one line, with its
    line number), not only in the model being written.

    Parsing a 10,000-version index whole costs about a second, so the content id of the last
    file found valid is kept in ``.git/modelreg.valid-index`` and the parse runs only when the
    file changed since (a pull, a merge, a hand edit); modelreg's own writes record theirs.
    """
    try:
        if (repo.git_dir / _VALID_INDEX).read_text(encoding="utf-8").strip() == _content_id(text):
            return
    except OSError:
        pass
    from modelreg.index.parse import parse_index  # the schema and YAML: only when it runs

    parse_index(text)
    _remember_valid(repo, text)


def _repair(repo: GitRepo) -> None:
    """Finish or undo what an interrupted write left, and say so once."""
    said = recover(repo)
    if said:
        log.warning(said)


@contextlib.contextmanager
def writing(repo: GitRepo, *, need_index: bool = True) -> Iterator[Write]:
    """Lock, repair, load, and run a write in a transaction (the caller finishes it)."""
    identity = repo.identity()
    with write_lock(repo.git_dir):
        _repair(repo)
        leftovers.remove_dead(repo.git_dir, INDEX_TMP_PREFIX)  # a killed `promote --branch`
        # Git never copies merge-driver settings into a clone: every write sets them.
        from modelreg.mergedriver import ensure_merge_config

        ensure_merge_config(repo)
        try:
            text = read_index_text(repo.root)
        except InvalidIndexError:
            if need_index:
                raise
            text = None  # init and index rebuild replace a file that is not even text
        if text is None:
            if need_index:
                raise not_a_registry(repo.root)
            index = IndexEditor("")
        elif need_index:
            _validate_whole(repo, text)
            index = IndexEditor(text)
        else:
            # init and index rebuild replace the file: a broken one must not stop them.
            try:
                index = IndexEditor(text)
            except InvalidIndexError:
                index = IndexEditor(preamble(text))  # the comment lines at the top survive
        tx = Transaction.begin(repo)
        w = Write(repo, index, identity, tx)
        try:
            yield w
        except BaseException:
            tx.rollback()
            raise
        if tx.dir.exists():  # not finished by the body: nothing becomes visible
            tx.rollback()


T = TypeVar("T")
PUSH_BUDGET = 120.0
"""Seconds a ``--push`` write keeps retrying while other writers win the race (override with
``MODELREG_PUSH_TIMEOUT``)."""


def _budget() -> float:
    try:
        return float(os.environ.get("MODELREG_PUSH_TIMEOUT", PUSH_BUDGET))
    except ValueError:
        return PUSH_BUDGET


def run_write(
    repo: GitRepo,
    body: Callable[[Write], T],
    options: WriteOptions = LOCAL,
    *,
    need_index: bool = True,
    proposal: bool = False,
) -> T:
    """Run ``body`` as one all-or-nothing write; with ``options.push``, publish it to that
    remote.

    A ``proposal`` (``register --no-tag``) makes no tag and may run on any branch: its
    ``push`` sends the bytes and the current branch, for a pull request.

    The remote gets the bytes of every registration it lacks, then the branch and every
    registry tag it lacks in one atomic push; only then do the local refs move.  When the
    push is rejected because another writer got there first, the local write is undone, the
    remote is fetched, and ``body`` runs again on the new tip (so it computes a fresh version
    number or stage counter), with jittered backoff, for up to :data:`PUSH_BUDGET` seconds.
    """
    push = options.push
    if push is None:
        with writing(repo, need_index=need_index) as w:
            result = body(w)
            w.finish()
            return result
    branch = sync.current_branch(repo)
    if proposal:
        with writing(repo, need_index=need_index) as w:
            result = body(w)
            _publish_proposal(w, push, branch)
            return result
    _catch_up(repo, push, branch, options.redo)
    deadline = time.monotonic() + _budget()
    attempt = 0
    while True:
        attempt += 1
        try:
            with writing(repo, need_index=need_index) as w:
                result = body(w)
                _publish_write(w, push, branch)
                return result
        except sync.PushRace as race:
            if time.monotonic() > deadline:
                raise ConflictError(
                    f"gave up after {attempt} attempt{'s' if attempt > 1 else ''} in "
                    f"{_budget():.0f}s, other writers kept "
                    f"pushing first ({race}); nothing was changed locally: run the command "
                    "again (MODELREG_PUSH_TIMEOUT sets the budget)"
                ) from race
            time.sleep(random.uniform(0.05, min(2.0, 0.1 * 2 ** min(attempt, 5))))
            _catch_up(repo, push, branch, options.redo)


def _catch_up(repo: GitRepo, remote: str, branch: str, redo: Redo | None) -> None:
    """Fetch and fast-forward; when this clone's own unpublished writes were overtaken,
    redo them on the remote tip (each as a write of its own, so outside this lock)."""
    with write_lock(repo.git_dir):
        _repair(repo)
        plan = sync.catch_up(repo, remote, branch)
    if plan is None:
        return
    if redo is None:
        # Kept under refs/modelreg/redo: the next catch-up that can redo them resumes.
        raise ConflictError(
            f"this clone's unpublished writes were overtaken by {remote!r}: run "
            f"`modelreg push --git-remote {remote}` to redo them on its tip, then run this again"
        )
    redo(repo, plan)


def _publish_write(w: Write, remote: str, branch: str) -> None:
    """Publish a prepared write, then make it visible locally.

    A race (the remote moved) propagates so the caller redoes the write; any other failure
    keeps the write locally and says so, since ``modelreg push`` can publish it later.
    """
    repo, tx = w.repo, w.tx
    w.require_registry_branch()  # every --push publishes the registry branch
    head = require_commit(tx.new_head or tx.head)
    try:
        older = [t for t in sync.unpublished_tags(repo, remote) if t not in tx.tags]
        new_regs = [commit for _, commit in _registrations(w)]
        commits = sorted(set(sync.registration_commits(repo, older)) | set(new_regs))
        if commits:
            dvcio.push_data(repo.root, commits)
        fault_point("after-dvc-push")
        sync.push_objects(repo, remote, branch, head, tx.tags, older)
    except sync.PushRace:
        raise
    except RegistryError as e:
        w.finish()
        raise PublishError(
            f"{tx.headline} was done locally, but publishing to {remote!r} failed ({e}): "
            "run `modelreg push` to publish it"
        ) from e
    fault_point("after-git-push")
    w.finish()


def _publish_proposal(w: Write, remote: str, branch: str) -> None:
    """A proposal's bytes to the DVC remote, then its branch (no tags) to the Git remote."""
    head = require_commit(w.tx.new_head or w.tx.head)
    try:
        dvcio.push_data(w.repo.root, [head])
        sync.push_objects(w.repo, remote, branch, head, {}, [])
    except RegistryError as e:
        w.finish()
        raise PublishError(
            f"{w.tx.headline} was committed locally, but publishing to {remote!r} failed "
            f"({e}): push the branch with `git push {remote} {branch}` after `dvc push`"
        ) from e
    w.finish()


def _registrations(w: Write) -> list[tuple[str, str]]:
    """``(tag, commit)`` of the registrations this write creates."""
    from modelreg.grammar import parse_tag
    from modelreg.records import EventKind

    found = []
    for name in w.tx.tags:
        parsed = parse_tag(name)
        if parsed is not None and parsed.kind is EventKind.REGISTER and w.tx.new_head:
            found.append((name, w.tx.new_head))
    return found


def push(repo: GitRepo, options: WriteOptions) -> list[str]:
    """Publish every registry tag the remote ``options.push`` lacks (bytes first); returns
    the tags pushed.

    A clone that is merely behind fetches and fast-forwards first; one whose own
    unpublished writes were overtaken redoes them on the remote tip first (``options.redo``)."""
    remote = options.push or "origin"
    branch = sync.current_branch(repo)
    _catch_up(repo, remote, branch, options.redo)
    with write_lock(repo.git_dir):
        _repair(repo)
        tags = sync.unpublished_tags(repo, remote)
        commits = sync.registration_commits(repo, tags)
        if commits:
            dvcio.push_data(repo.root, commits)
        head = require_commit(repo.head_commit())
        sync.push_objects(repo, remote, branch, head, {}, tags)
        return tags

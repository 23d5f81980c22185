"""The write machinery every write command shares: the clone's lock, the transaction that
undoes a failed write, and publishing to a remote with retries when another writer races.

A write takes the clone's lock, checks everything it can before touching anything, then
changes files, commits exactly the files it wrote and creates its tags inside a
:class:`~modelreg.transaction.Transaction`, so a failure at any step leaves the repository as
it was.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from modelreg import dvcio, sync
from modelreg.errors import (
    ConflictError,
    NotARegistryError,
)
from modelreg.gitrepo import GitRepo, Identity, RawTag
from modelreg.grammar import TagName, check_tag, format_tag
from modelreg.index import (
    INDEX_FILE,
    IndexEditor,
)
from modelreg.locking import write_lock
from modelreg.state import ModelState
from modelreg.transaction import Transaction
from modelreg.untrusted import check_no_links


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
        check_no_links(self.repo.root, INDEX_FILE)
        self.tx.snapshot(self.repo.root / INDEX_FILE)
        self.index.save(self.repo.root)

    def tag(self, tag: TagName, target: str, message: str, state: ModelState) -> RawTag:
        """Create a tag dated strictly after the model's previous event.

        GTO orders events by tagger date alone (one-second resolution); a later date keeps
        both tools agreeing when events come in the same second.  Returns the tag as a
        listing would show it, so callers can replay it without listing the tags again.
        """
        name = check_tag(format_tag(tag))
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

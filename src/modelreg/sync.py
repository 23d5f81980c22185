"""Sharing a registry: publishing writes to a Git remote and a DVC remote, catching up.

The order is what keeps a shared registry sound: artifact bytes go to the DVC remote first,
then the branch and the new tags go to the Git remote in one ``git push --atomic``, so no tag
ever reaches the remote before its bytes, and the branch and its tags land together or not at
all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from modelreg.errors import ConflictError, GitError
from modelreg.gitrepo import GitRepo, error_line, ls_remote_tags
from modelreg.grammar import parse_tag
from modelreg.records import EventKind

if TYPE_CHECKING:
    from modelreg.replay import Plan

# Reasons git gives when someone else pushed first: the push can succeed after catching up.
# A concurrent push can also make the remote's own ref transaction fail ("atomic transaction
# failed", "cannot lock ref", "failed to update ref"): the same race, seen from the server.
_RACE_REASONS = (
    "fetch first",
    "non-fast-forward",
    "already exists",
    "stale info",
    "atomic transaction failed",
    "cannot lock ref",
    "failed to update ref",
    "incorrect old value",
)


class PushRace(ConflictError):
    """The remote moved between our read and our push (another writer got there first)."""


@dataclass(frozen=True)
class Rejection:
    """One ref the remote refused, with git's reason."""

    ref: str
    reason: str


def parse_push_porcelain(output: str) -> list[Rejection]:
    """Rejected refs from ``git push --porcelain`` output (lines flagged ``!``)."""
    rejected = []
    for line in output.splitlines():
        if line.startswith("!\t"):
            _, refs, summary = (line.split("\t") + [""])[:3]
            rejected.append(Rejection(refs.split(":")[-1], summary))
    return rejected


def current_branch(repo: GitRepo) -> str:
    """The checked-out branch; pushing from a detached HEAD is refused."""
    proc = repo.run("symbolic-ref", "--short", "-q", "HEAD", check=False)
    branch = proc.stdout.strip()
    if not branch:
        raise GitError("HEAD is detached: check out the branch to push (e.g. `git switch main`)")
    return branch


def push_refs(repo: GitRepo, remote: str, branch: str, tags: Sequence[str]) -> None:
    """Push ``branch`` and ``tags`` atomically; :class:`PushRace` when another writer won."""
    push_objects(repo, remote, branch, "HEAD", {}, tags)


def push_objects(
    repo: GitRepo,
    remote: str,
    branch: str,
    head: str,
    new_tags: Mapping[str, str],
    tags: Sequence[str],
) -> None:
    """Push commit ``head`` as ``branch``, the tag objects ``new_tags`` (name -> object, not
    yet referenced locally) and the existing local ``tags``, all in one atomic push;
    :class:`PushRace` when another writer won."""
    refspecs = [f"{head}:refs/heads/{branch}"]
    refspecs += [f"{obj}:refs/tags/{name}" for name, obj in new_tags.items()]
    refspecs += [f"refs/tags/{t}:refs/tags/{t}" for t in tags]
    proc = repo.run(
        "push", "--atomic", "--porcelain", "--no-verify", "--", remote, *refspecs, check=False
    )
    if proc.returncode == 0:
        return
    rejected = parse_push_porcelain(proc.stdout)
    real = [r for r in rejected if "atomic push failed" not in r.reason]
    if real and all(any(k in r.reason for k in _RACE_REASONS) for r in real):
        refs = ", ".join(f"{r.ref} ({r.reason})" for r in real)
        raise PushRace(f"the remote {remote!r} moved first: {refs}")
    detail = "; ".join(f"{r.ref}: {r.reason}" for r in real) or error_line(proc.stderr)
    raise GitError(f"git push to {remote!r} failed: {detail}")


def _fetch(repo: GitRepo, remote: str, *refspecs: str) -> bool:
    """Fetch ``refspecs``; ``False`` when the remote has no such branch yet (empty remote)."""
    proc = repo.run(
        "fetch", "--quiet", "--no-write-fetch-head", "--", remote, *refspecs, check=False
    )
    if proc.returncode == 0:
        return True
    if "couldn't find remote ref" in proc.stderr:
        return False
    raise GitError(f"cannot fetch from {remote!r}: {error_line(proc.stderr)}")


def catch_up(repo: GitRepo, remote: str, branch: str) -> Plan | None:
    """Fetch the remote's branch and tags and fast-forward the local branch to it.

    A branch that has diverged only by this clone's own unpublished modelreg writes is moved
    to the remote tip and the writes are returned, to be redone there (see
    :mod:`modelreg.replay`); any other divergence is a one-line error.
    """
    from modelreg import replay

    tracking = f"refs/remotes/{remote}/{branch}"
    if not _fetch(repo, remote, f"+refs/heads/{branch}:{tracking}"):
        return None  # an empty remote: our push creates the branch
    tip = repo.out("rev-parse", tracking)
    head = repo.head_commit()
    pending = repo.ref_value(f"{replay.BACKUP}/head") is not None
    if head is not None and not pending and not _is_ancestor(repo, head, tip):
        if _is_ancestor(repo, tip, head):
            _fetch(repo, remote, "refs/tags/*:refs/tags/*")
            return None  # only ahead: the push publishes it
        plan = replay.prepare(repo, remote, branch, tip)
        _fetch(repo, remote, "refs/tags/*:refs/tags/*")
        return plan
    if pending:
        plan = replay.prepare(repo, remote, branch, tip)
        _fetch(repo, remote, "refs/tags/*:refs/tags/*")
        return plan
    _fetch(repo, remote, "refs/tags/*:refs/tags/*")
    proc = repo.run("merge", "--ff-only", "--quiet", tracking, check=False)
    if proc.returncode != 0:
        raise GitError(
            f"cannot fast-forward {branch!r} to {remote}/{branch}: {error_line(proc.stderr)} "
            "(commit or stash your changes, then run again)"
        )
    return None


def _is_ancestor(repo: GitRepo, a: str, b: str) -> bool:
    return repo.run("merge-base", "--is-ancestor", a, b, check=False).returncode == 0


def unpublished_tags(repo: GitRepo, remote: str) -> list[str]:
    """Registry tags present locally and absent from the remote."""
    url = repo.out("remote", "get-url", remote) if "://" not in remote else remote
    remote_names = {t.name for t in ls_remote_tags(url, ["refs/tags/*"])}
    local = [t.name for t in repo.tags(["refs/tags"]) if parse_tag(t.name) is not None]
    return [name for name in local if name not in remote_names]


def registration_commits(repo: GitRepo, tags: Sequence[str]) -> list[str]:
    """Commits of the registration tags among ``tags``: the ones whose bytes must be pushed."""
    wanted = set()
    for name in tags:
        parsed = parse_tag(name)
        if parsed is not None and parsed.kind is EventKind.REGISTER:
            wanted.add(name)
    if not wanted:
        return []
    found = repo.tags([f"refs/tags/{name}" for name in sorted(wanted)])
    return sorted({t.commit for t in found})

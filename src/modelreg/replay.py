"""Catching up a clone whose own unpublished writes were overtaken by the remote.

A ``--push`` whose upload failed keeps its write locally; meanwhile a colleague publishes the
same model's next version from another clone.  Both clones then hold ``churn@v1.3.0`` on
different commits, and a plain ``git pull --rebase`` conflicts in ``registry.yaml``.  Every
commit a modelreg write makes ends with a ``Modelreg-Write:`` trailer saying what the write
did, so the clone can do what a person would: move its branch to the remote tip and redo each
of its writes there, in order.  A registration keeps its bytes, record and original time, and
takes the next free version if its number was taken; stage changes follow the versions they
named.  Commits without the trailer are the user's own: those stop the catch-up with one line.

Nothing is lost if the process dies midway: before the branch moves, the old tip and the
writes' tags are kept under ``refs/modelreg/redo/``, and the next catch-up resumes from there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from modelreg.errors import GitError
from modelreg.gitrepo import GitRepo, error_line
from modelreg.tagmessage import OP_TRAILER

BACKUP = "refs/modelreg/redo"
_REDOABLE = {"register", "promote", "demote", "rollback", "deprecate", "rebuild", "dvc-remote"}


@dataclass(frozen=True)
class Step:
    """One unpublished write to redo: its original commit, what it did, and the user's note."""

    commit: str
    subject: str
    op: dict[str, Any]
    note: str | None


@dataclass
class Plan:
    """The writes to redo on the new tip, in order, and the versions already renumbered by
    redone registrations (``(model, old version) -> new version``)."""

    steps: list[Step]
    renamed: dict[tuple[str, str], str] = field(default_factory=dict)


def _op_of(message: str) -> dict[str, Any] | None:
    for line in reversed(message.splitlines()):
        if line.startswith(OP_TRAILER):
            try:
                data = json.loads(line[len(OP_TRAILER) :])
            except ValueError:
                return None
            return data if isinstance(data, dict) else None
    return None


def _note_of(message: str) -> str | None:
    """The user's ``-m`` note: the message without its headline and trailer."""
    lines = [ln for ln in message.splitlines()[1:] if not ln.startswith(OP_TRAILER)]
    text = "\n".join(lines).strip()
    return text or None


def own_commits(repo: GitRepo, head: str, tip: str, remote: str, branch: str) -> list[Step]:
    """The commits of ``head`` that ``tip`` lacks, oldest first, each a modelreg write;
    a one-line error naming the first that is not."""
    out = repo.out("rev-list", "--reverse", head, "--not", tip)
    steps = []
    for commit in out.split():
        message = repo.out("log", "-1", "--format=%B", commit)
        op = _op_of(message)
        subject = message.splitlines()[0] if message else commit[:12]
        if op is None or op.get("op") not in _REDOABLE:
            raise GitError(
                f"the local branch {branch!r} has diverged from {remote}/{branch} with commits "
                f"modelreg cannot redo ({commit[:12]} {subject!r}): integrate them "
                f"(`git pull --rebase {remote} {branch}`), then run the command again"
            )
        steps.append(Step(commit, subject, op, _note_of(message)))
    return steps


def prepare(repo: GitRepo, remote: str, branch: str, tip: str) -> Plan | None:
    """Under the write lock: keep the old tip and the writes' tags under
    :data:`BACKUP`, move the branch to ``tip``; returns what to redo (``None``: nothing)."""
    head = repo.head_commit()
    assert head is not None
    backup_head = repo.ref_value(f"{BACKUP}/head")
    if backup_head is not None:  # a catch-up was interrupted: resume it
        redone = {s.op.get("redo_of"): s for s in own_commits(repo, head, tip, remote, branch)}
        original = own_commits(repo, backup_head, tip, remote, branch)
        steps = [s for s in original if s.commit not in redone]
        renamed = {}
        for s in original:
            again = redone.get(s.commit)
            moved = again is not None and again.op.get("version") != s.op.get("version")
            if again is not None and moved and s.op["op"] == "register":
                renamed[(str(s.op["name"]), str(s.op["version"]))] = str(again.op["version"])
        if repo.run("merge-base", "--is-ancestor", tip, head, check=False).returncode != 0:
            raise GitError(
                f"{remote}/{branch} moved while an earlier catch-up was redoing this clone's "
                f"writes: run the command again once it has finished, or inspect {BACKUP}"
            )
        if not steps:
            finished(repo)
            return None
        return Plan(steps, renamed)
    steps = own_commits(repo, head, tip, remote, branch)
    updates: list[tuple[str, str | None, str | None]] = [(f"{BACKUP}/head", head, None)]
    for step in steps:
        tag = step.op.get("tag")
        obj = repo.ref_value(f"refs/tags/{tag}") if tag else None
        if obj is not None:
            updates.append((f"{BACKUP}/tags/{tag}", obj, None))
            updates.append((f"refs/tags/{tag}", None, obj))
    repo.update_refs(updates, f"keep {len(steps)} unpublished write(s) to redo on {tip[:12]}")
    # The writes' files are committed and clean, so --keep only moves them (and refuses,
    # changing nothing, if the user has edited one of them meanwhile).
    proc = repo.run("reset", "--quiet", "--keep", tip, check=False)
    if proc.returncode != 0:
        raise GitError(
            f"cannot move the branch to {remote}/{branch}: {error_line(proc.stderr)}"
            " (commit or stash your changes to modelreg's files, then run again)"
        )
    return Plan(steps)


def finished(repo: GitRepo) -> None:
    """Drop the backup refs of a completed catch-up."""
    refs = repo.out("for-each-ref", "--format=%(refname) %(objectname)", BACKUP).splitlines()
    updates: list[tuple[str, str | None, str | None]] = []
    for line in refs:
        ref, obj = line.split()
        updates.append((ref, None, obj))
    if updates:
        repo.update_refs(updates, "catch-up finished")

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
import logging
from dataclasses import dataclass, field
from typing import Any

from modelreg.errors import GitError, RegistryError
from modelreg.faults import fault_point
from modelreg.gitrepo import GitRepo
from modelreg.tagmessage import OP_TRAILER, parse_record

log = logging.getLogger("modelreg")

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
            _finished(repo)
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
            f"cannot move the branch to {remote}/{branch}: {proc.stderr.strip().splitlines()[-1]}"
            " (commit or stash your changes to modelreg's files, then run again)"
        )
    return Plan(steps)


def _finished(repo: GitRepo) -> None:
    """Drop the backup refs of a completed catch-up."""
    refs = repo.out("for-each-ref", "--format=%(refname) %(objectname)", BACKUP).splitlines()
    updates: list[tuple[str, str | None, str | None]] = []
    for line in refs:
        ref, obj = line.split()
        updates.append((ref, None, obj))
    if updates:
        repo.update_refs(updates, "catch-up finished")


def run(repo: GitRepo, plan: Plan) -> list[str]:
    """Redo each step as a normal (locked, crash-safe) write; returns what was done."""
    from modelreg import promotion, registration
    from modelreg.dvcstore.dvcfiles import pointer_file

    said = []
    renamed = dict(plan.renamed)

    def version(name: str, v: str | None) -> str | None:
        return renamed.get((name, v), v) if v is not None else None

    for step in plan.steps:
        op, name = step.op, str(step.op.get("name", ""))
        redo = {"redo_of": step.commit}
        try:
            if op["op"] == "register":
                tag_obj = repo.ref_value(f"{BACKUP}/tags/{op['tag']}")
                message = repo.out("cat-file", "tag", tag_obj) if tag_obj else ""
                record = parse_record(message)
                path = str(op["path"])
                pointer = repo.show_file(step.commit, pointer_file(path))
                if record is None or pointer is None:
                    raise GitError(f"cannot redo {step.subject!r}: its record or pointer is gone")
                mv = registration.register_again(
                    repo,
                    record,
                    name,
                    pointer,
                    str(op["version"]),
                    bump=op.get("bump", "minor"),
                    explicit=bool(op.get("explicit")),
                    message=step.note,
                    extra_op=redo,
                )
                if mv.version != op["version"]:
                    renamed[(name, str(op["version"]))] = mv.version
                    said.append(f"{name} {op['version']} is now {mv.version}")
            elif op["op"] == "promote":
                promotion.promote(
                    repo,
                    name,
                    str(version(name, op["version"])),
                    str(op["stage"]),
                    message=step.note,
                    force=bool(op.get("force")),
                    extra_op=redo,
                )
            elif op["op"] == "rollback":
                promotion.rollback(
                    repo,
                    name,
                    str(op["stage"]),
                    to=version(name, op.get("to")),
                    message=step.note,
                    force=bool(op.get("force")),
                    extra_op=redo,
                )
            elif op["op"] == "demote":
                promotion.demote(
                    repo,
                    name,
                    str(op["stage"]),
                    message=step.note,
                    force=bool(op.get("force")),
                    extra_op=redo,
                )
            elif op["op"] == "deprecate":
                promotion.deprecate(
                    repo, name, version(name, op.get("version")), message=step.note, extra_op=redo
                )
            elif op["op"] == "rebuild":
                registration.rebuild_index(repo, message=step.note, extra_op=redo)
            elif op["op"] == "dvc-remote":
                options = op.get("options")
                options = options if isinstance(options, dict) else {}
                registration.set_dvc_remote(
                    repo,
                    str(op["url"]),
                    {str(k): str(v) for k, v in options.items()},
                    message=step.note,
                    extra_op=redo,
                )
        except RegistryError as e:
            if op["op"] == "register":
                # Its bytes and record stay under refs/modelreg/redo: the next catch-up
                # resumes here once the cause is fixed.
                raise GitError(f"cannot redo {step.subject!r} on the remote tip: {e}") from e
            # A stage change overtaken for good (a colleague made the same promotion, say).
            said.append(f"skipped {step.subject!r} ({e})")
            continue
        said.append(f"redid {step.subject!r}")
        fault_point("redo-step")
    _finished(repo)
    if said:
        log.warning(
            f"caught up with the remote by redoing {len(plan.steps)} unpublished write(s) on its "
            f"tip: {'; '.join(said)}"
        )
    return said

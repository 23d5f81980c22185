"""Redoing a clone's overtaken writes on the remote tip, each through the command that made it.

:mod:`modelreg.replay` plans the catch-up (which of this clone's commits are its own writes, and
what each did); this module carries the plan out by calling registration and promotion again.
It sits above both, so the write machinery reaches it only through the callable the API layer
hands down (``WriteOptions.redo``), never by importing it.
"""

from __future__ import annotations

import logging

from modelreg.errors import GitError, RegistryError
from modelreg.faults import fault_point
from modelreg.gitrepo import GitRepo
from modelreg.replay import BACKUP, Plan, finished
from modelreg.tagmessage import parse_record
from modelreg.writer import WriteOptions

log = logging.getLogger("modelreg")


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
        # Local writes: a redo never pushes, so it never catches up (and redoes) again.
        options = WriteOptions(message=step.note, redo_of=step.commit)
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
                    options=options,
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
                    force=bool(op.get("force")),
                    options=options,
                )
            elif op["op"] == "rollback":
                promotion.rollback(
                    repo,
                    name,
                    str(op["stage"]),
                    to=version(name, op.get("to")),
                    force=bool(op.get("force")),
                    options=options,
                )
            elif op["op"] == "demote":
                promotion.demote(
                    repo,
                    name,
                    str(op["stage"]),
                    force=bool(op.get("force")),
                    options=options,
                )
            elif op["op"] == "deprecate":
                promotion.deprecate(repo, name, version(name, op.get("version")), options=options)
            elif op["op"] == "rebuild":
                registration.rebuild_index(repo, options=options)
            elif op["op"] == "dvc-remote":
                settings = op.get("options")
                settings = settings if isinstance(settings, dict) else {}
                registration.set_dvc_remote(
                    repo,
                    str(op["url"]),
                    {str(k): str(v) for k, v in settings.items()},
                    options=options,
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
    finished(repo)
    if said:
        log.warning(
            f"caught up with the remote by redoing {len(plan.steps)} unpublished write(s) on its "
            f"tip: {'; '.join(said)}"
        )
    return said

"""All-or-nothing writes, even when the process is killed: a write-ahead record under ``.git``.

A write goes through two phases.  While it *prepares*, it backs up every file it is about to
change into ``.git/modelreg-write/`` (the record says which) and creates only git *objects*:
the commit and the tag objects, which nothing references yet.  Then it *commits*: with git's
own ``index.lock`` held, one ``git update-ref --stdin`` transaction moves the branch and
creates every tag at once, and the user's index is updated by renaming the lock into place.

Whatever instant the process dies at, the record tells the next modelreg write what to do:
before the ref transaction, put the backed-up files back (the state before the write); after
it, finish the user's index (the state after the write).  Git objects left unreferenced are
harmless (``git gc`` prunes them); content-addressed DVC cache objects are kept on purpose.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelreg.errors import GitError
from modelreg.faults import fault_point
from modelreg.gitrepo import Entry, GitRepo

log = logging.getLogger("modelreg")

JOURNAL_DIR = "modelreg-write"
_RECORD = "record.json"
INDEX_LOCK_WAIT = 5.0
"""Seconds a write waits for another process (an IDE, a concurrent ``git add``) to release
git's ``index.lock`` before giving up without changing anything."""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Replace ``path`` atomically and durably: a reader sees the old record or the new one."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


@dataclass
class Transaction:
    """The undo/redo record of one write command; see the module docstring."""

    repo: GitRepo
    headline: str = "modelreg write"
    head: str | None = None
    ref: str = "HEAD"
    new_head: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    _files: dict[str, str | None] = field(default_factory=dict)
    _created_dirs: list[str] = field(default_factory=list)
    _entries: dict[str, Entry | None] = field(default_factory=dict)
    _lock_link: str | None = None
    _phase: str = "prepared"

    @property
    def paths(self) -> list[str]:
        """The paths the write's commits changed."""
        return sorted(self._entries)

    @property
    def dir(self) -> Path:
        return self.repo.git_dir / JOURNAL_DIR

    @classmethod
    def begin(cls, repo: GitRepo) -> Transaction:
        """Start a write: record HEAD before anything changes.  The caller holds the lock
        and has run :func:`recover`."""
        head, ref = repo.head()
        tx = cls(repo, head=head, ref=ref)
        tx.dir.mkdir()
        tx._save()
        return tx

    def _save(self) -> None:
        _write_json(
            self.dir / _RECORD,
            {
                "pid": os.getpid(),
                "headline": self.headline,
                "root": os.fspath(self.repo.root),
                "phase": self._phase,
                "ref": self.ref,
                "head": self.head,
                "new_head": self.new_head,
                "tags": self.tags,
                "paths": self.paths,
                "files": self._files,
                "created_dirs": self._created_dirs,
                "lock_link": self._lock_link,
            },
        )

    # -- preparing -----------------------------------------------------------------------

    @property
    def tmp_dir(self) -> Path:
        """Where a write keeps temporary files: removed with the record, whatever happens."""
        return self.dir

    def snapshot(self, *paths: Path) -> None:
        """Back up the current bytes (or absence) of ``paths`` before they change."""
        changed = False
        for path in paths:
            rel = path.relative_to(self.repo.root).as_posix()
            if rel in self._files:
                continue
            if path.is_file() and not path.is_symlink():
                backup = f"file-{len(self._files)}"
                shutil.copy2(path, self.dir / backup)
                self._files[rel] = backup
            else:
                self._files[rel] = None
            changed = True
        if changed:
            self._save()
            fault_point("snapshot")

    def created_dir(self, path: Path) -> None:
        """Record a folder this write creates, so an undo removes it whole."""
        self._created_dirs.append(path.relative_to(self.repo.root).as_posix())
        self._save()

    def committed(self, commit: str, entries: dict[str, Entry | None]) -> None:
        """The write's commit object (not yet on the branch) and what it holds at the paths
        it changed."""
        self.new_head = commit
        self._entries.update(entries)

    def tagged(self, name: str, obj: str) -> None:
        """A tag object to create as ``refs/tags/<name>`` at commit time."""
        self.tags[name] = obj

    # -- committing ----------------------------------------------------------------------

    def commit(self) -> None:
        """Make the write visible: the branch and every tag in one ref transaction, and
        the user's index, with git's ``index.lock`` held throughout."""
        if self.new_head is None and not self.tags:
            self.discard()
            return
        index = self.repo.index_file()
        if self.new_head is not None:
            self._take_index_lock(index)
        fault_point("before-refs")
        staged = self._staged_index(index) if self.new_head is not None else None
        self._phase = "committing"
        self._save()
        updates: list[tuple[str, str | None, str | None]] = []
        if self.new_head is not None:
            updates.append((self.ref, self.new_head, self.head))
        updates += [(f"refs/tags/{name}", obj, None) for name, obj in self.tags.items()]
        try:
            self.repo.update_refs(updates, self.headline)
        except BaseException:
            self._phase = "prepared"
            self._save()
            raise
        fault_point("after-refs")
        if staged is not None:
            self._install_index(index, staged)
        fault_point("after-index")
        self.discard()

    def _take_index_lock(self, index: Path) -> None:
        """Hold git's ``index.lock`` the way git does (create-exclusive), waiting briefly
        for another process.  It is taken by hard-linking a file from the record folder, so
        a later recovery can tell *our* lock from anyone else's by its inode."""
        link = self.dir / "index.lock-ours"
        link.write_bytes(b"")
        self._lock_link = link.name
        self._save()
        lock = index.with_name(index.name + ".lock")
        deadline = time.monotonic() + float(
            os.environ.get("MODELREG_INDEX_LOCK_WAIT", INDEX_LOCK_WAIT)
        )
        while True:
            try:
                os.link(link, lock)
                return
            except FileExistsError:
                if time.monotonic() > deadline:
                    raise GitError(
                        f"another Git process holds {lock} (an IDE, or a git command still "
                        "running?): let it finish and run the command again; nothing was "
                        "changed.  If no git process is running, delete that file"
                    ) from None
                time.sleep(0.05)

    def _staged_index(self, index: Path) -> Path:
        """The user's index with this write's paths set to the new commit's entries,
        built beside the record (the real one changes only by the final rename)."""
        staged = self.dir / "index.new"
        if index.exists():
            shutil.copyfile(index, staged)
        self.repo.set_index_entries(staged, self._entries)
        return staged

    def _install_index(self, index: Path, staged: Path) -> None:
        lock = index.with_name(index.name + ".lock")
        link = self.dir / "index.lock-ours"
        # Fill the lock's inode (shared with our link) with the new index, then rename the
        # lock over the index: exactly git's own commit protocol for index.lock.
        with open(link, "wb") as out, open(staged, "rb") as src:
            shutil.copyfileobj(src, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(lock, index)

    # -- undoing -------------------------------------------------------------------------

    def rollback(self) -> None:
        """Undo a write that failed: its files come back, unless its refs had already moved
        (then it is completed instead); the same decision a later recovery would make."""
        recover(self.repo)

    def discard(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


# -- recovery ------------------------------------------------------------------------------


def _release_our_lock(repo: GitRepo, journal: Path, record: dict[str, Any]) -> None:
    """Remove git's ``index.lock`` only if the record names it: same inode as our link."""
    name = record.get("lock_link")
    if not name:
        return
    link = journal / name
    lock = repo.index_file().with_name("index.lock")
    try:
        if link.exists() and lock.exists() and os.path.samefile(link, lock):
            lock.unlink()
    except OSError:
        pass


def _undo(repo: GitRepo, record: dict[str, Any]) -> list[str]:
    """Restore the backed-up files of a write whose refs never moved; returns their paths."""
    journal = repo.git_dir / JOURNAL_DIR
    root = repo.root
    restored = []
    for rel, backup in record.get("files", {}).items():
        target = root / rel
        if backup is None:
            if target.is_file() or target.is_symlink():
                target.unlink()
                restored.append(rel)
        elif (journal / backup).exists():
            tmp = journal / f"{backup}.restore"
            shutil.copy2(journal / backup, tmp)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)
            restored.append(rel)
    for rel in reversed(record.get("created_dirs", [])):
        shutil.rmtree(root / rel, ignore_errors=True)
        restored.append(rel + "/")
    _release_our_lock(repo, journal, record)
    return restored


def _finish(repo: GitRepo, record: dict[str, Any]) -> None:
    """Complete a write whose refs moved: the user's index entries for its paths."""
    journal = repo.git_dir / JOURNAL_DIR
    _release_our_lock(repo, journal, record)
    paths = record.get("paths") or []
    if not paths or record.get("new_head") is None:
        return
    index = repo.index_file()
    # Through git itself now: it takes index.lock, and refuses if someone else holds it.
    repo.set_index_entries(index, repo.commit_entries(record["new_head"], paths))


def recover(repo: GitRepo) -> str | None:
    """Repair what an interrupted write left; returns one line saying what, or ``None``.

    The caller holds the write lock, so the writer that left the record is dead.
    """
    journal = repo.git_dir / JOURNAL_DIR
    if not journal.is_dir():
        return None
    try:
        record: dict[str, Any] = json.loads((journal / _RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        # Killed before its first record was durable: it had changed nothing.
        shutil.rmtree(journal, ignore_errors=True)
        return None
    what = f"{record.get('headline', 'a write')!r} (pid {record.get('pid')})"
    moved = False
    if record.get("phase") == "committing" and record.get("new_head"):
        moved = repo.ref_value(record["ref"]) == record["new_head"]
    elif record.get("phase") == "committing" and record.get("tags"):
        first = next(iter(record["tags"]))
        moved = repo.ref_value(f"refs/tags/{first}") == record["tags"][first]
    if moved:
        _finish(repo, record)
        shutil.rmtree(journal, ignore_errors=True)
        return f"completed an interrupted write, {what}: it had been committed"
    restored = _undo(repo, record)
    shutil.rmtree(journal, ignore_errors=True)
    files = ", ".join(restored) if restored else "nothing to restore"
    return f"undid an interrupted write, {what}: it had not been committed ({files})"

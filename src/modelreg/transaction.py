"""All-or-nothing writes: remember what a write may touch, put it all back on failure.

A write snapshots the files it may change, the branch tip and git's index file; it records
each tag it creates.  If any later step fails (or the user presses Ctrl-C), :meth:`rollback`
restores the files byte for byte, moves the branch back and deletes the tags.
"""

from __future__ import annotations

from pathlib import Path

from modelreg.gitrepo import GitRepo
from modelreg.index import write_atomic


class Transaction:
    """Undo log for one write command."""

    def __init__(self, repo: GitRepo) -> None:
        self.repo = repo
        self.head = repo.head_commit()
        self._files: dict[Path, bytes | None] = {}
        self._tags: list[str] = []
        self._index_file = repo.git_dir / "index"
        self._index_bytes = self._read(self._index_file)
        self._moved_head: str | None = None

    @staticmethod
    def _read(path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def snapshot(self, *paths: Path) -> None:
        """Remember the current bytes (or absence) of ``paths`` before changing them."""
        for path in paths:
            if path not in self._files:
                self._files[path] = self._read(path)

    def committed(self, commit: str | None) -> None:
        """Record that the branch now points at ``commit``."""
        if commit is not None:
            self._moved_head = commit

    @property
    def tags(self) -> list[str]:
        """The tags this write created, oldest first."""
        return list(self._tags)

    def tagged(self, name: str) -> None:
        """Record a tag this write created."""
        self._tags.append(name)

    def rollback(self) -> None:
        """Put everything back; best effort, never raises."""
        try:
            self.repo.delete_tags(reversed(self._tags))
            if self._moved_head is not None:
                self.repo.move_head(self.head, self._moved_head)
        except Exception:  # noqa: S110 - the files below must be restored regardless
            pass
        finally:
            for path, data in self._files.items():
                if data is None:
                    path.unlink(missing_ok=True)
                else:
                    write_atomic(path, data)
            if self._index_bytes is None:
                self._index_file.unlink(missing_ok=True)
            else:
                write_atomic(self._index_file, self._index_bytes)

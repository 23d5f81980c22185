"""DVC-compatible content hashes, computed without importing DVC.

A file's hash is the md5 of its bytes.  A folder's is ``<h>.dir`` where ``<h>`` is the md5 of
the JSON list ``[{"md5": …, "relpath": …}, …]`` sorted by path (keys sorted), exactly as DVC
writes its ``.dir`` objects.  modelreg re-hashes everything it hands out because DVC's own
download path does not verify by default.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from modelreg.errors import InvalidInputError
from modelreg.untrusted import relpath_problem

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Digest:
    """What DVC records for an output: hash, total size, and file count for folders."""

    md5: str
    size: int
    nfiles: int | None = None
    # A folder's ``.dir`` listing, kept so caching it does not hash every file again.
    entries: tuple[tuple[str, str], ...] = ()

    def listing(self) -> list[dict[str, str]]:
        """The folder listing in DVC's ``.dir`` form."""
        return [{"md5": md5, "relpath": rel} for md5, rel in self.entries]


class UnsafeArtifactError(InvalidInputError):
    """A file or folder that cannot be registered as it is (not a regular file, a link that
    leaves the artifact, a file name a listing cannot carry)."""


def open_regular(path: Path) -> int:
    """Open ``path`` for reading, refusing anything but a regular file.

    ``O_NONBLOCK`` makes opening a FIFO return at once instead of waiting for a writer; the
    ``fstat`` on the open descriptor then decides, so a file swapped in between cannot slip
    through.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as e:
        raise UnsafeArtifactError(f"cannot read {os.fspath(path)!r}: {e.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnsafeArtifactError(
            f"{os.fspath(path)!r} is not a regular file (a FIFO, socket or device): "
            "only files and folders of files can be registered"
        )
    os.set_blocking(fd, True)
    return fd


def copy_hashing(
    src: BinaryIO, dest: BinaryIO, progress: Callable[[int], None] | None = None
) -> str:
    """Copy a stream, hashing the very bytes written; returns their md5.  The one way
    modelreg moves artifact bytes, so what is verified is what was stored."""
    h = hashlib.md5()
    while chunk := src.read(_CHUNK):
        h.update(chunk)
        dest.write(chunk)
        if progress is not None:
            progress(len(chunk))
    return h.hexdigest()


def file_md5(path: Path) -> str:
    """md5 of a regular file's bytes, read in chunks."""
    h = hashlib.md5()
    with os.fdopen(open_regular(path), "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def walk(folder: Path) -> list[tuple[str, Path]]:
    """The files of a folder artifact as ``(relpath, source)``, sorted as DVC sorts them.

    Symbolic links are followed only while they stay inside the folder: a link to a file
    outside it would publish bytes from elsewhere, and a link to a folder outside it used to
    be left out silently; both are refused, naming the link.  Only regular files count.
    """
    top = folder.resolve()
    found: list[tuple[str, Path]] = []

    def visit(real: Path, rel: str, chain: tuple[Path, ...]) -> None:
        with os.scandir(real) as it:
            items = sorted(it, key=lambda e: e.name)
        for item in items:
            child_rel = f"{rel}/{item.name}" if rel else item.name
            problem = relpath_problem(child_rel)
            if problem is not None:
                raise UnsafeArtifactError(
                    f"file name {child_rel!r} in {os.fspath(folder)!r} cannot be registered: "
                    f"{problem}; rename it"
                )
            path = Path(item.path)
            if item.is_symlink():
                target = path.resolve()
                if target != top and top not in target.parents:
                    raise UnsafeArtifactError(
                        f"{os.fspath(path)!r} is a symbolic link to {os.fspath(target)!r}, "
                        "outside the artifact folder: replace it with the file itself"
                    )
                if target.is_dir():
                    if target in chain:
                        raise UnsafeArtifactError(
                            f"{os.fspath(path)!r} is a symbolic link to a folder that "
                            "contains it: remove the loop"
                        )
                    visit(target, child_rel, (*chain, target))
                    continue
                found.append((child_rel, target))
            elif item.is_dir(follow_symlinks=False):
                visit(path, child_rel, (*chain, path.resolve()))
            else:
                found.append((child_rel, path))

    visit(top, "", (top,))
    return sorted(found, key=lambda f: f[0])


def dir_listing(path: Path) -> list[dict[str, str]]:
    """The entries of a folder's ``.dir`` object, sorted as DVC sorts them."""
    return [{"md5": file_md5(src), "relpath": rel} for rel, src in walk(path)]


def listing_md5(entries: list[dict[str, str]]) -> str:
    """The ``<h>.dir`` hash of a folder listing."""
    payload = json.dumps(entries, sort_keys=True).encode("utf-8")
    return hashlib.md5(payload).hexdigest() + ".dir"


def digest(path: Path) -> Digest:
    """Hash a file or folder the way ``dvc add`` does."""
    if path.is_dir():
        files = walk(path)
        entries = [{"md5": file_md5(src), "relpath": rel} for rel, src in files]
        size = sum(src.stat().st_size for _, src in files)
        kept = tuple((e["md5"], e["relpath"]) for e in entries)
        return Digest(listing_md5(entries), size, len(entries), kept)
    return Digest(file_md5(path), path.stat().st_size)

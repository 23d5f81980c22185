"""DVC-compatible content hashes, computed without importing DVC.

A file's hash is the md5 of its bytes.  A folder's is ``<h>.dir`` where ``<h>`` is the md5 of
the JSON list ``[{"md5": …, "relpath": …}, …]`` sorted by path (keys sorted), exactly as DVC
writes its ``.dir`` objects.  modelreg re-hashes everything it hands out because DVC's own
download path does not verify by default.

Pointers written by DVC 2 (an ``md5:`` without ``hash: md5``) use DVC's legacy file hash,
``md5-dos2unix``: the input is cut into 1 MiB blocks, and a block whose first 512 bytes look
like text is hashed with its CRLF pairs turned into LF (see :class:`Dos2UnixMd5`).  A folder
listing's own md5 is the plain md5 of its JSON either way (JSON text never holds a raw CR).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from modelreg.errors import InvalidInputError
from modelreg.untrusted import relpath_problem

_CHUNK = 1 << 20

MD5 = "md5"
"""DVC 3's file hash (a pointer with ``hash: md5``): the md5 of the bytes."""
LEGACY_MD5 = "md5-dos2unix"
"""DVC 2's file hash (a pointer without ``hash:``), as DVC 3 reads it."""
HASH_NAMES = (MD5, LEGACY_MD5)

# DVC's text heuristic: how much of a block it looks at, and the bytes that count as text.
TEXT_PROBE = 512
_TEXT_BYTES = bytes(range(32, 127)) + b"\n\r\t\f\b"
# DVC hashes legacy files in blocks of this size and decides text or binary per block.
LEGACY_BLOCK = 1 << 20


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


def looks_like_text(block: bytes) -> bool:
    """DVC's guess that ``block`` is text: no NUL byte, and at most 30% of its bytes outside
    printable ASCII and ``\\n \\r \\t \\f \\b``.  An empty block counts as text."""
    if not block:
        return True
    if b"\x00" in block:
        return False
    return len(block.translate(None, _TEXT_BYTES)) / len(block) <= 0.30


class Md5:
    """The plain md5 (DVC 3): the interface every hasher here shares."""

    def __init__(self) -> None:
        self._h = hashlib.md5()

    def update(self, data: bytes) -> None:
        self._h.update(data)

    def hexdigest(self) -> str:
        return self._h.hexdigest()

    def matches(self, expected: str) -> bool:
        """Whether the bytes seen so far have the md5 ``expected``."""
        return self.hexdigest() == expected


class Dos2UnixMd5(Md5):
    """DVC's legacy ``md5-dos2unix`` hash, fed with any split of the input.

    DVC 3 reads the input in blocks of exactly :data:`LEGACY_BLOCK` bytes and, for each block
    whose first :data:`TEXT_PROBE` bytes look like text, hashes the block with every CRLF
    replaced by LF; other blocks are hashed as they are.  A CRLF split across two blocks is
    left alone.  DVC 2, which wrote the pointers, took the text-or-binary decision once, from
    the file's first block, for every block.  The two agree on every file of one block and on
    every file whose blocks all look alike; for the rare large file whose blocks differ (a tar
    of text files, say), DVC 3 computes another md5 than the one DVC 2 recorded, yet reads the
    file.  :meth:`matches` accepts either, so intact bytes DVC 3 would use are never called
    corrupted; :meth:`hexdigest` is DVC 3's value.
    """

    def __init__(self) -> None:
        super().__init__()
        self._pending = bytearray()
        self._first_text: bool | None = None
        # DVC 2's hash, forked from DVC 3's at the first block on which the two rules differ.
        self._whole_file: hashlib._Hash | None = None

    def update(self, data: bytes) -> None:
        view = memoryview(data)
        if self._pending:
            taken = LEGACY_BLOCK - len(self._pending)
            self._pending += view[:taken]
            view = view[taken:]
            if len(self._pending) < LEGACY_BLOCK:
                return
            self._add(bytes(self._pending))
            self._pending.clear()
        while len(view) >= LEGACY_BLOCK:
            self._add(view[:LEGACY_BLOCK].tobytes())
            view = view[LEGACY_BLOCK:]
        self._pending += view

    def _add(self, block: bytes) -> None:
        text = looks_like_text(block[:TEXT_PROBE])
        if self._first_text is None:
            self._first_text = text
        elif self._whole_file is None and text != self._first_text:
            self._whole_file = self._h.copy()
        self._h.update(block.replace(b"\r\n", b"\n") if text else block)
        if self._whole_file is not None:
            whole = block.replace(b"\r\n", b"\n") if self._first_text else block
            self._whole_file.update(whole)

    def _values(self) -> tuple[str, ...]:
        """DVC 3's md5 and, when it differs, DVC 2's; a partial last block is hashed in a copy,
        so more input may follow."""
        if self._pending:
            last = Dos2UnixMd5()
            last._h = self._h.copy()
            last._first_text = self._first_text
            last._whole_file = None if self._whole_file is None else self._whole_file.copy()
            last._add(bytes(self._pending))
            return last._values()
        if self._whole_file is None:
            return (self._h.hexdigest(),)
        return (self._h.hexdigest(), self._whole_file.hexdigest())

    def hexdigest(self) -> str:
        return self._values()[0]

    def matches(self, expected: str) -> bool:
        return expected in self._values()


def hasher(hash_name: str) -> Md5:
    """A new hasher for a pointer's hash name (:data:`MD5` or :data:`LEGACY_MD5`)."""
    if hash_name == LEGACY_MD5:
        return Dos2UnixMd5()
    if hash_name == MD5:
        return Md5()
    raise ValueError(f"unknown hash {hash_name!r}")


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
    src: BinaryIO,
    dest: BinaryIO,
    progress: Callable[[int], None] | None = None,
    hash_name: str = MD5,
) -> Md5:
    """Copy a stream, hashing the very bytes written; returns the hasher, to compare with
    what was recorded.  The one way modelreg moves artifact bytes, so what is verified is
    what was stored."""
    h = hasher(hash_name)
    while chunk := src.read(_CHUNK):
        h.update(chunk)
        dest.write(chunk)
        if progress is not None:
            progress(len(chunk))
    return h


def file_hasher(path: Path, hash_name: str = MD5) -> Md5:
    """A regular file's bytes, read in chunks into a hasher for ``hash_name``."""
    h = hasher(hash_name)
    with os.fdopen(open_regular(path), "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h


def file_md5(path: Path, hash_name: str = MD5) -> str:
    """md5 of a regular file's bytes, read in chunks (DVC 3's value for ``hash_name``)."""
    return file_hasher(path, hash_name).hexdigest()


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


def digest(path: Path, hash_name: str = MD5) -> Digest:
    """Hash a file or folder the way ``dvc add`` does (DVC 2 did with :data:`LEGACY_MD5`)."""
    if path.is_dir():
        files = walk(path)
        entries = [{"md5": file_md5(src, hash_name), "relpath": rel} for rel, src in files]
        size = sum(src.stat().st_size for _, src in files)
        kept = tuple((e["md5"], e["relpath"]) for e in entries)
        return Digest(listing_md5(entries), size, len(entries), kept)
    return Digest(file_md5(path, hash_name), path.stat().st_size)


def mismatch(
    path: Path, md5: str, hash_name: str = MD5, listed: Mapping[str, str] | None = None
) -> str | None:
    """``None`` when the file or folder at ``path`` has the recorded ``md5``, else the md5 it
    has.  ``listed`` is a folder's authenticated listing (path to md5): a file whose bytes
    match its entry under either legacy rule (see :class:`Dos2UnixMd5`) counts with it."""
    if not path.is_dir():
        h = file_hasher(path, hash_name)
        return None if h.matches(md5) else h.hexdigest()
    entries = []
    for rel, src in walk(path):
        h = file_hasher(src, hash_name)
        wanted = (listed or {}).get(rel)
        entries.append(
            {"md5": wanted if wanted and h.matches(wanted) else h.hexdigest(), "relpath": rel}
        )
    actual = listing_md5(entries)
    return None if actual == md5 else actual

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
from dataclasses import dataclass
from pathlib import Path

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


def file_md5(path: Path) -> str:
    """md5 of a file's bytes, read in chunks."""
    h = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def dir_listing(path: Path) -> list[dict[str, str]]:
    """The entries of a folder's ``.dir`` object, sorted as DVC sorts them."""
    entries = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames.sort()
        for filename in filenames:
            full = Path(dirpath) / filename
            rel = full.relative_to(path).as_posix()
            entries.append({"md5": file_md5(full), "relpath": rel})
    return sorted(entries, key=lambda e: e["relpath"])


def listing_md5(entries: list[dict[str, str]]) -> str:
    """The ``<h>.dir`` hash of a folder listing."""
    payload = json.dumps(entries, sort_keys=True).encode("utf-8")
    return hashlib.md5(payload).hexdigest() + ".dir"


def digest(path: Path) -> Digest:
    """Hash a file or folder the way ``dvc add`` does."""
    if path.is_dir():
        entries = dir_listing(path)
        size = sum((path / e["relpath"]).stat().st_size for e in entries)
        kept = tuple((e["md5"], e["relpath"]) for e in entries)
        return Digest(listing_md5(entries), size, len(entries), kept)
    return Digest(file_md5(path), path.stat().st_size)

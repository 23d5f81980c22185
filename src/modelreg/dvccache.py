"""``dvc add`` for the common case, without importing DVC.

DVC's own ``add`` loads every stage and ``.dvc`` file in the repository before adding one
output, so its cost grows with the registry (seconds at a hundred models), and importing DVC
costs half a second more.  What ``add`` leaves behind is simple and documented: the bytes in
the cache at ``.dvc/cache/files/md5/<2>/<30>`` (read-only), a ``<name>.dir`` JSON listing for a
folder, a ``PATH.dvc`` pointer, and ``/name`` in the folder's ``.gitignore``.  This module
writes exactly that.  Repositories with a custom cache configuration (another cache folder,
a shared cache, hard links…) go through DVC itself instead: see :func:`default_layout`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from modelreg import hashing
from modelreg.dvcfiles import pointer_file

OBJECT_MODE = 0o444  # DVC keeps cache objects read-only so a link can never corrupt them


def object_path(root: Path, md5: str) -> Path:
    """Where DVC 3 keeps an object in the repository's local cache."""
    return root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]


def default_layout(root: Path) -> bool:
    """Whether the repository uses DVC's default local cache (no ``[cache]`` settings)."""
    for name in ("config", "config.local"):
        try:
            text = (root / ".dvc" / name).read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        if any(line.strip().startswith("[cache") for line in text.splitlines()):
            return False
    return True


def _store_bytes(root: Path, md5: str, write: object) -> None:
    """Put an object in the cache atomically, unless it is already there."""
    target = object_path(root, md5)
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            if isinstance(write, bytes):
                out.write(write)
            else:
                with open(write, "rb") as src:  # type: ignore[call-overload]
                    shutil.copyfileobj(src, out, 1 << 20)
        os.chmod(tmp, OBJECT_MODE)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _pointer_text(digest: hashing.Digest, name: str) -> str:
    lines = ["outs:", f"- md5: {digest.md5}", f"  size: {digest.size}"]
    if digest.nfiles is not None:
        lines.append(f"  nfiles: {digest.nfiles}")
    lines += ["  hash: md5", f"  path: {name}"]
    return "\n".join(lines) + "\n"


def _ignore(folder: Path, name: str) -> None:
    """Add ``/name`` to ``folder/.gitignore`` as ``dvc add`` does (once)."""
    gitignore = folder / ".gitignore"
    entry = f"/{name}"
    text = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
    if entry in text.splitlines():
        return
    if text and not text.endswith("\n"):
        text += "\n"
    gitignore.write_text(text + entry + "\n", encoding="utf-8")


def track(root: Path, path: Path, rel: str, digest: hashing.Digest) -> None:
    """Cache ``path`` (a file or folder, already hashed into ``digest``) and write its
    ``.dvc`` pointer and ignore entry."""
    if path.is_dir():
        entries = digest.listing()
        for entry in entries:
            _store_bytes(root, entry["md5"], path / entry["relpath"])
        _store_bytes(root, digest.md5, json.dumps(entries, sort_keys=True).encode("utf-8"))
    else:
        _store_bytes(root, digest.md5, path)
    pointer = root / pointer_file(rel)
    pointer.write_text(_pointer_text(digest, path.name), encoding="utf-8")
    _ignore(path.parent, path.name)

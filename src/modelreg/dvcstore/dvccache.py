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

import hashlib
import json
import os
import re
from pathlib import Path

from modelreg import leftovers
from modelreg.dvcstore import hashing
from modelreg.dvcstore.dvcfiles import pointer_file
from modelreg.faults import fault_point

OBJECT_MODE = 0o444  # DVC keeps cache objects read-only so a link can never corrupt them
_CHUNK = 1 << 20


def object_path(root: Path, md5: str, hash_name: str = hashing.MD5) -> Path:
    """Where DVC keeps an object in the repository's local cache: DVC 3's under
    ``files/md5/``, DVC 2's (``md5-dos2unix``) at the top of the cache, where DVC 3 still
    reads and writes them."""
    cache = root / ".dvc" / "cache"
    if hash_name == hashing.LEGACY_MD5:
        return cache / md5[:2] / md5[2:]
    return cache / "files" / "md5" / md5[:2] / md5[2:]


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


_TMP_PREFIX = ".modelreg-tmp-"


def _tmp_folder(root: Path) -> Path:
    return root / ".dvc" / "cache" / "files" / "md5"


def _tmp_file(root: Path) -> tuple[int, Path]:
    """A new temporary file in the cache, on the same filesystem as the objects."""
    folder = _tmp_folder(root)
    folder.mkdir(parents=True, exist_ok=True)
    return leftovers.make_file(folder, _TMP_PREFIX)


def _intact(path: Path, md5: str) -> bool:
    """Whether an existing cache object holds the bytes its name says."""
    try:
        return hashing.file_md5(path) == md5.removesuffix(".dir")
    except (OSError, hashing.UnsafeArtifactError):
        return False


def _commit(root: Path, tmp: Path, md5: str) -> None:
    """Move a written temporary to object ``md5``; an existing object is kept only when it is
    intact (a corrupt one would otherwise be pushed and fetched as it is, forever)."""
    target = object_path(root, md5)
    if target.is_file() and not target.is_symlink() and _intact(target, md5):
        tmp.unlink(missing_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(tmp, OBJECT_MODE)
    os.replace(tmp, target)


def store_file(root: Path, source: Path) -> tuple[str, int]:
    """Copy ``source`` into the cache, hashing the very bytes it stores (one read: a file
    that changes meanwhile cannot get an md5 that matches no stored bytes).  Returns the
    md5 and size."""
    fd, tmp = _tmp_file(root)
    h = hashlib.md5()
    size = 0
    try:
        with os.fdopen(hashing.open_regular(source), "rb") as src, os.fdopen(fd, "wb") as out:
            while chunk := src.read(_CHUNK):
                h.update(chunk)
                size += len(chunk)
                out.write(chunk)
        md5 = h.hexdigest()
        _commit(root, tmp, md5)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return md5, size


def store_listing(root: Path, data: bytes) -> str:
    """Put a folder listing in the cache; returns its object id (``<md5>.dir``)."""
    fd, tmp = _tmp_file(root)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        md5 = hashlib.md5(data).hexdigest() + ".dir"
        _commit(root, tmp, md5)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return md5


def store(root: Path, path: Path) -> hashing.Digest:
    """Cache a file or folder artifact and return the digest of exactly what was cached."""
    # A copy a killed register left half-written is not an object: remove it, once per call.
    leftovers.remove_dead(_tmp_folder(root), _TMP_PREFIX)
    if not path.is_dir():
        md5, size = store_file(root, path)
        return hashing.Digest(md5, size)
    entries: list[tuple[str, str]] = []
    total = 0
    for rel, source in hashing.walk(path):
        md5, size = store_file(root, source)
        entries.append((md5, rel))
        total += size
    listing = [{"md5": md5, "relpath": rel} for md5, rel in entries]
    payload = json.dumps(listing, sort_keys=True).encode("utf-8")
    oid = store_listing(root, payload)
    return hashing.Digest(oid, total, len(entries), tuple(entries))


# Plain YAML scalars that read back as the same string; anything else is quoted, or a name
# such as ``123``, ``yes``, ``null`` or ``model #3.pkl`` would read back as another value.
_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*")
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf"}


def yaml_str(text: str) -> str:
    """``text`` as a YAML scalar that reads back as exactly that string."""
    plain = _PLAIN.fullmatch(text) is not None and text.lower().lstrip("._+-") not in _YAML_WORDS
    if plain:
        try:
            float(text)
        except ValueError:
            return text
    return "'" + text.replace("'", "''") + "'"


def _pointer_text(digest: hashing.Digest, name: str) -> str:
    lines = ["outs:", f"- md5: {digest.md5}", f"  size: {digest.size}"]
    if digest.nfiles is not None:
        lines.append(f"  nfiles: {digest.nfiles}")
    lines += ["  hash: md5", f"  path: {yaml_str(name)}"]
    return "\n".join(lines) + "\n"


def gitignore_entry(name: str) -> str:
    """The ``.gitignore`` line that ignores exactly ``/name``: wildcards and a trailing space
    are escaped with a backslash, as gitignore allows (``#`` and ``!`` only matter first, and
    the line starts with ``/``)."""
    escaped = re.sub(r"([*?\[\]\\])", r"\\\1", name)
    if escaped.endswith(" "):
        escaped = escaped[:-1] + "\\ "
    return f"/{escaped}"


def ignore(folder: Path, name: str) -> None:
    """Add the ignore entry for ``name`` to ``folder/.gitignore`` as ``dvc add`` does (once)."""
    gitignore = folder / ".gitignore"
    entry = gitignore_entry(name)
    text = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
    if entry in text.splitlines():
        return
    if text and not text.endswith("\n"):
        text += "\n"
    gitignore.write_text(text + entry + "\n", encoding="utf-8")


def write_pointer(root: Path, path: Path, rel: str, digest: hashing.Digest) -> None:
    """Write the ``.dvc`` pointer and ignore entry of a cached artifact.  The caller has
    checked that neither is a symbolic link."""
    pointer = root / pointer_file(rel)
    pointer.write_text(_pointer_text(digest, path.name), encoding="utf-8")
    fault_point("write")
    ignore(path.parent, path.name)
    fault_point("write")


def track(root: Path, path: Path, rel: str) -> hashing.Digest:
    """``dvc add`` without DVC: cache ``path`` (a file or folder), write its pointer and
    ignore entry, and return the digest of the bytes cached."""
    digest = store(root, path)
    write_pointer(root, path, rel, digest)
    return digest

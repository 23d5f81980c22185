"""The boundary for values read from a repository or a remote.

A registry is shared by design: tag messages, ``.dvc`` pointers, ``.dir`` listings and model
cards come from whoever could push to it or to its DVC remote.  Every such value is checked
here, where it enters, so that nothing deeper has to wonder whether an md5 is a path or a
relative path climbs out of its folder.  Pure functions, but for the one check of committed
symbolic links in the working tree.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import reprlib
from dataclasses import dataclass
from pathlib import Path

from modelreg.errors import IntegrityError, InvalidInputError

_MD5 = re.compile(r"[0-9a-f]{32}")
_DIR_MD5 = re.compile(r"[0-9a-f]{32}\.dir")

MAX_LISTING_BYTES = 64 * 1024 * 1024
"""A ``.dir`` listing larger than this is refused before it is parsed (about 500,000 files)."""

MAX_PATH_BYTES = 4096
"""Longest relative path accepted from a listing, pointer or record (Linux's PATH_MAX)."""


def shown(value: object) -> str:
    """A bounded ``repr`` for messages: a hostile value (a YAML alias bomb, a huge string)
    must not make the error message itself explode."""
    return reprlib.repr(value)


def is_md5(value: object, *, folder: bool | None = None) -> bool:
    """Whether ``value`` is an md5 as DVC records it: 32 lowercase hex digits, plus ``.dir``
    for a folder.  ``folder`` restricts to one form (``None`` accepts both)."""
    if not isinstance(value, str):
        return False
    if folder is None:
        return _MD5.fullmatch(value) is not None or _DIR_MD5.fullmatch(value) is not None
    return (_DIR_MD5 if folder else _MD5).fullmatch(value) is not None


def check_md5(value: object, what: str, *, folder: bool | None = None) -> str:
    """``value`` if it is an md5 (see :func:`is_md5`), else a one-line error about ``what``."""
    if not is_md5(value, folder=folder):
        raise IntegrityError(
            f"{what} records md5 {shown(value)}, which is not an md5 (32 hex digits"
            f"{'' if folder is False else ', plus .dir for a folder'}): "
            "the registry data is corrupted or was written by hand"
        )
    assert isinstance(value, str)
    return value


def relpath_problem(value: object) -> str | None:
    """Why ``value`` is not a safe relative POSIX path, or ``None`` when it is.

    Safe means: a non-empty string, not absolute (nor a Windows drive or UNC path), without
    ``.`` or ``..`` parts, empty parts, NUL, backslashes or control characters, and no longer
    than :data:`MAX_PATH_BYTES`.  Joined to a folder, such a path stays inside it.
    """
    if not isinstance(value, str) or not value:
        return "it is empty or not text"
    if len(value.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        return f"it is longer than {MAX_PATH_BYTES} bytes"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return "it contains control characters"
    if "\\" in value:
        return "it contains a backslash"
    if value.startswith("/") or re.match(r"^[A-Za-z]:", value):
        return "it is absolute"
    parts = value.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return "it has an empty, '.' or '..' part"
    return None


def check_relpath(value: object, what: str) -> str:
    """``value`` if it is a safe relative path (see :func:`relpath_problem`)."""
    problem = relpath_problem(value)
    if problem is not None:
        raise IntegrityError(
            f"{what} names path {shown(value)}, which is not a plain relative path ({problem}): "
            "the registry data is corrupted or hostile; nothing was written"
        )
    assert isinstance(value, str)
    return value


def check_size(value: object, what: str) -> int | None:
    """A recorded size: ``None`` or a non-negative integer."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise IntegrityError(f"{what} records size {shown(value)}, which is not a byte count")
    return value


def artifact_name(path: str, what: str) -> str:
    """The last part of a recorded artifact path: what ``get`` names its output."""
    return posixpath.basename(check_relpath(path, what))


@dataclass(frozen=True)
class ListingEntry:
    """One file of a folder artifact, from a verified ``.dir`` listing."""

    md5: str
    relpath: str


def parse_dir_listing(data: bytes, oid: str, what: str) -> list[ListingEntry]:
    """The entries of the ``.dir`` object ``oid``, after checking that ``data`` is that object.

    The listing is authenticated before its entries are used: its md5 must be ``oid``'s
    (computed over the bytes as stored, or over DVC's canonical JSON of the same entries).
    Then every entry must be a file md5 and a safe relative path, with no duplicates and no
    entry that is both a file and a folder, so that writing the entries under a fresh folder
    can neither leave it nor collide.
    """
    import hashlib  # only a listing needs it; the read path imports this module too

    oid = check_md5(oid, what, folder=True)
    expected = oid[: -len(".dir")]
    if len(data) > MAX_LISTING_BYTES:
        raise IntegrityError(f"{what}: folder listing {oid} is larger than we accept")
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise IntegrityError(
            f"{what}: folder listing {oid} is not JSON: the DVC cache or remote is corrupted"
        ) from None
    canonical = json.dumps(raw, sort_keys=True).encode("utf-8")
    if expected not in (hashlib.md5(data).hexdigest(), hashlib.md5(canonical).hexdigest()):
        raise IntegrityError(
            f"{what}: folder listing {oid} does not match its md5: "
            "the DVC cache or remote is corrupted; nothing was written"
        )
    if not isinstance(raw, list):
        raise IntegrityError(f"{what}: folder listing {oid} is not a list of files")
    entries: list[ListingEntry] = []
    seen: set[str] = set()
    for item in raw:
        if not isinstance(item, dict):
            raise IntegrityError(f"{what}: folder listing {oid} has an entry that is not a file")
        rel = check_relpath(item.get("relpath"), f"{what}: folder listing {oid}")
        md5 = check_md5(
            item.get("md5"), f"{what}: {shown(rel)} in folder listing {oid}", folder=False
        )
        if rel in seen:
            raise IntegrityError(f"{what}: folder listing {oid} lists {shown(rel)} twice")
        seen.add(rel)
        entries.append(ListingEntry(md5, rel))
    folders = {posixpath.dirname(e.relpath) for e in entries}
    parents = {p for f in folders for p in _ancestors(f)}
    clash = sorted(seen & parents)
    if clash:
        raise IntegrityError(
            f"{what}: folder listing {oid} has {shown(clash[0])} as both a file and a folder"
        )
    return entries


def _ancestors(folder: str) -> list[str]:
    parts = folder.split("/") if folder else []
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def check_no_links(root: Path, rel: str) -> None:
    """Refuse to write ``root/rel`` when it or a folder on the way is a symbolic link, or
    when something on the way that must be a folder is not.

    A cloned registry can commit ``models/.gitignore`` or ``PATH.dvc`` as a link to a file
    anywhere; writing "through" it would change a file outside the repository.
    """
    current = root
    parts = rel.split("/")
    for i, part in enumerate(parts):
        current = current / part
        where = current.relative_to(root).as_posix()
        if current.is_symlink():
            raise InvalidInputError(
                f"{where} is a symbolic link (to {os.readlink(current)!r}) in the repository, "
                f"and modelreg never writes through links: replace {where} with a regular "
                "file or folder"
            )
        if i < len(parts) - 1 and current.exists() and not current.is_dir():
            # Caught here rather than as an OSError halfway through the write.
            raise InvalidInputError(
                f"{where} is a file where modelreg needs a folder (to write {rel}): move "
                f"{where} away, then run the command again"
            )

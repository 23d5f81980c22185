"""``get``: a version's verified bytes, written atomically, never over what it did not make.

The local DVC cache is tried first (no DVC import needed); otherwise the bytes come from the
default DVC remote.  Either way they land in a temporary folder beside the destination: a
folder's listing is authenticated against its md5 first, every file is hashed as it is
written, and the whole artifact is re-hashed against the recorded md5 before one rename
moves it into place, because DVC's default download path does not verify.

Where the bytes go follows ``cp`` and ``dvc get``: an existing folder (or a path ending in
``/``) receives the artifact inside it; an existing file or folder is replaced only with
``force`` and only by an artifact of the same kind; symbolic links are never written or
deleted through.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from modelreg import leftovers
from modelreg.dvcstore import hashing
from modelreg.dvcstore.dvccache import object_path
from modelreg.errors import ConflictError, IntegrityError, InvalidInputError, NotFoundError
from modelreg.gitrepo import GitRepo
from modelreg.records import ModelVersion
from modelreg.untrusted import (
    ListingEntry,
    artifact_name,
    check_md5,
    parse_dir_listing,
)

Progress = Callable[[int], None]
"""Called with the number of bytes just transferred."""

SizedProgress = Callable[[int, int | None], None]
"""The public form: bytes just transferred, and the artifact's total size when known."""

# Temporary names beside a destination: ``.<name>.modelreg-<kind>-<pid>-<random>``.  The pid
# lets the next ``get`` to that destination remove what a killed run left, and only that
# (see modelreg.leftovers).
_PREFIX_CHARS = 100  # keeps temporary names under the 255-byte file name limit


def copy_verified(
    src: Path,
    dest: Path,
    md5: str,
    what: str,
    progress: Progress | None,
    hash_name: str = hashing.MD5,
) -> None:
    """Copy one file, hashing the bytes as they are written; a mismatch is an error."""
    with open(src, "rb") as fin, open(dest, "xb") as fout:
        h = hashing.copy_hashing(fin, fout, progress, hash_name)
    if not h.matches(md5):
        raise IntegrityError(
            f"{what}: the local DVC cache object has md5 {h.hexdigest()}, expected {md5}: "
            f"the cache is corrupted; delete {src} and fetch again"
        )


def _from_cache(
    root: Path,
    md5: str,
    dest: Path,
    what: str,
    progress: Progress | None = None,
    hash_name: str = hashing.MD5,
) -> list[ListingEntry] | None:
    """Assemble ``md5`` from the local cache into ``dest`` (which must not exist), verified;
    returns a folder's listing (empty for a file), or ``None`` if any object is missing, so
    the caller falls back to the remote."""
    obj = object_path(root, md5, hash_name)
    if not obj.is_file():
        return None
    if not md5.endswith(".dir"):
        copy_verified(obj, dest, md5, what, progress, hash_name)
        return []
    entries = parse_dir_listing(obj.read_bytes(), md5, what)
    sources = [(object_path(root, e.md5, hash_name), e) for e in entries]
    if not all(src.is_file() for src, _ in sources):
        return None
    dest.mkdir()
    for src, entry in sources:
        target = dest / entry.relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        copy_verified(src, target, entry.md5, what, progress, hash_name)
    return entries


def _remove(path: Path) -> None:
    """Remove a file or folder this module created (never following a link)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _temp_prefix(dest: Path, kind: str) -> str:
    return f".{dest.name[:_PREFIX_CHARS]}.modelreg-{kind}-"


def _temp_folder(dest: Path, kind: str) -> Path:
    """A new folder beside ``dest`` that :func:`_clean_leftovers` recognizes."""
    return leftovers.make_dir(dest.parent, _temp_prefix(dest, kind))


def _clean_leftovers(dest: Path) -> None:
    """Remove temporaries that a killed ``get`` to ``dest`` left beside it."""
    for kind in ("tmp", "old"):
        leftovers.remove_dead(dest.parent, _temp_prefix(dest, kind))


def _is_same_or_ancestor(folder: Path, of: Path) -> bool:
    return of == folder or folder in of.parents


def _check_replaceable_folder(dest: Path) -> None:
    """A folder ``--force`` may replace: not a repository, not where the user stands."""
    if (dest / ".git").exists() or (dest / ".dvc").exists():
        raise ConflictError(
            f"refusing to replace {dest}: it holds a Git or DVC repository; "
            "pass -o a folder of its own"
        )
    if _is_same_or_ancestor(dest.resolve(), Path.cwd().resolve()):
        raise ConflictError(
            f"refusing to replace {dest}: it is the current folder or one of its parents"
        )


def destination(out: str | os.PathLike[str] | None, name: str, is_dir: bool, force: bool) -> Path:
    """Where ``get`` writes an artifact called ``name``; refuses what it must not touch.

    ``out`` an existing folder, or text ending in ``/``, means inside it.  With ``force``, an
    existing folder ``out`` is itself replaced when the artifact is a folder too (redeploying a
    folder artifact to the same path), unless it is a repository or the current folder.
    """
    text = os.fspath(out) if out is not None else name
    inside = text.endswith(("/", os.sep))
    given = Path(os.path.abspath(text))
    if given.is_symlink():
        raise InvalidInputError(
            f"-o {text} is a symbolic link (to {os.path.realpath(given)}): modelreg never "
            "writes through links; pass the real path"
        )
    if given.exists() and not given.is_dir() and inside:
        raise InvalidInputError(f"-o {text} ends in '/' but {given} is a file, not a folder")
    if given.is_dir() and not inside and force and is_dir:
        try:
            _check_replaceable_folder(given)
            dest = given
        except ConflictError:
            dest = given / name
    elif inside or given.is_dir():
        dest = given / name
    else:
        dest = given
    _check_parents(dest)
    if dest.is_symlink():
        raise InvalidInputError(
            f"{dest} is a symbolic link: modelreg never writes through links; "
            "remove it or pass -o another path"
        )
    if dest.exists():
        kind = "folder" if is_dir else "file"
        if not force:
            raise ConflictError(
                f"{dest} already exists: pass --force to replace it, or -o another path"
            )
        if dest.is_dir() != is_dir:
            raise ConflictError(
                f"{dest} is a {'folder' if dest.is_dir() else 'file'} and the artifact is a "
                f"{kind}: --force only replaces a {kind}; pass -o another path"
            )
        if dest.is_dir():
            _check_replaceable_folder(dest)
    return dest


def _check_parents(dest: Path) -> None:
    """Every existing ancestor of ``dest`` must be a folder (a file there is a one-line error)."""
    for parent in reversed(dest.parents):
        if parent.exists() and not parent.is_dir():
            raise InvalidInputError(
                f"cannot write {dest}: {parent} is a file, not a folder; pass -o another path"
            )


def _place(tmp: Path, dest: Path) -> None:
    """Move verified bytes into place; an existing folder is swapped out, then removed."""
    if dest.is_dir() and not dest.is_symlink():
        old = _temp_folder(dest, "old")
        os.replace(dest, old / "artifact")
        try:
            os.replace(tmp, dest)
        except BaseException:
            os.replace(old / "artifact", dest)
            raise
        finally:
            _remove(old)
    else:
        os.replace(tmp, dest)


def get(
    repo: GitRepo,
    mv: ModelVersion,
    out: str | os.PathLike[str] | None,
    dvc_dir: Path | None = None,
    *,
    force: bool = False,
    sized_progress: SizedProgress | None = None,
) -> Path:
    """Fetch, verify and write ``mv``'s artifact; returns the destination.

    ``dvc_dir`` holds the DVC configuration that names the remote (default: the working
    tree's ``.dvc``, whose ``config.local`` may carry credentials).  ``sized_progress`` is
    told how many bytes arrive as they arrive, with the recorded total size.
    """
    progress: Progress | None = None
    if sized_progress is not None:
        report, total = sized_progress, mv.size

        def progress(nbytes: int) -> None:
            report(nbytes, total)

    if mv.path is None or mv.md5 is None:
        raise NotFoundError(
            f"{mv.name} {mv.version} records no DVC-tracked artifact at {mv.commit[:12]}"
        )
    what = f"{mv.name} {mv.version}"
    md5 = check_md5(mv.md5, what)
    hash_name = mv.hash_name
    if hash_name not in hashing.HASH_NAMES:
        raise IntegrityError(
            f"{what} records hash {hash_name!r}, which is neither DVC 3's md5 nor DVC 2's "
            "md5-dos2unix: fix the record"
        )
    name = artifact_name(mv.path, what)
    dest = destination(out, name, md5.endswith(".dir"), force)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InvalidInputError(f"cannot create folder {dest.parent}: {e.strerror}") from None
    _clean_leftovers(dest)
    work = _temp_folder(dest, "tmp")
    tmp = work / "artifact"
    try:
        entries = _from_cache(repo.root, md5, tmp, what, progress, hash_name)
        if entries is None:
            from modelreg.dvcstore import dvcio

            entries = dvcio.download(
                dvc_dir or repo.root / ".dvc",
                md5,
                tmp,
                f"{what} ({mv.path})",
                progress,
                hash_name,
            )
        listed = {e.relpath: e.md5 for e in entries}
        actual = hashing.mismatch(tmp, md5, hash_name, listed)
        if actual is not None:
            raise IntegrityError(
                f"{what}: artifact {mv.path} has md5 {actual}, expected "
                f"{md5}: the DVC cache or remote is corrupted; nothing was written"
            )
        _place(tmp, dest)
    finally:
        _remove(work)
    return dest

"""``get``: a version's verified bytes, written atomically.

The local DVC cache is tried first (no DVC import needed); otherwise DVC fetches from the
default remote into a temporary path.  Either way the bytes are re-hashed against the md5
recorded at registration before they are moved to the destination, because DVC's default
download path does not verify.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from modelreg import hashing
from modelreg.dvccache import object_path
from modelreg.errors import IntegrityError, NotFoundError
from modelreg.gitrepo import GitRepo
from modelreg.records import ModelVersion

Progress = Callable[[int], None]
"""Called with the number of bytes just transferred."""

SizedProgress = Callable[[int, int | None], None]
"""The public form: bytes just transferred, and the artifact's total size when known."""

_CHUNK = 1 << 20


def copy_with_progress(src: Path, dest: Path, progress: Progress | None) -> None:
    """Copy a file, reporting bytes as they go."""
    if progress is None:
        shutil.copyfile(src, dest)
        return
    with open(src, "rb") as fin, open(dest, "wb") as fout:
        while chunk := fin.read(_CHUNK):
            fout.write(chunk)
            progress(len(chunk))


def _from_cache(root: Path, md5: str, dest: Path, progress: Progress | None = None) -> bool:
    """Assemble ``md5`` from the local cache into ``dest``; ``False`` if anything is missing."""
    obj = object_path(root, md5)
    if not obj.is_file():
        return False
    if not md5.endswith(".dir"):
        copy_with_progress(obj, dest, progress)
        return True
    try:
        entries = json.loads(obj.read_bytes())
    except ValueError:
        return False
    sources = [(object_path(root, e["md5"]), e["relpath"]) for e in entries]
    if not all(src.is_file() for src, _ in sources):
        return False
    dest.mkdir()
    for src, rel in sources:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        copy_with_progress(src, target, progress)
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _replace(tmp: Path, dest: Path) -> None:
    """Move verified bytes into place; an existing folder is swapped out, then removed."""
    if dest.is_dir() and not dest.is_symlink():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        os.replace(dest, old)
        os.replace(tmp, dest)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, dest)


def get(
    repo: GitRepo,
    mv: ModelVersion,
    out: str | os.PathLike[str] | None,
    dvc_dir: Path | None = None,
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
    dest = Path(out) if out is not None else Path(Path(mv.path).name)
    dest = dest.resolve()
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    tmp = work / "artifact"
    try:
        if not _from_cache(repo.root, mv.md5, tmp, progress):
            from modelreg import dvcio

            what = f"{mv.name} {mv.version} ({mv.path})"
            dvcio.download(dvc_dir or repo.root / ".dvc", mv.md5, tmp, what, progress)
        actual = hashing.digest(tmp).md5
        if actual != mv.md5:
            raise IntegrityError(
                f"{mv.name} {mv.version}: artifact {mv.path} has md5 {actual}, expected "
                f"{mv.md5}: the DVC cache or remote is corrupted; nothing was written"
            )
        _replace(tmp, dest)
    finally:
        _remove(work)
    return dest


def get_from_mirror(
    mirror: GitRepo,
    mv: ModelVersion,
    out: str | os.PathLike[str] | None,
    sized_progress: SizedProgress | None = None,
) -> Path:
    """``get`` for a registry read by URL: the DVC remote is the one configured at the
    version's commit (credentials come from the environment or DVC's global config)."""
    config = mirror.show_file(mv.commit, ".dvc/config")
    with tempfile.TemporaryDirectory(prefix="modelreg-dvc-") as tmp:
        dvc_dir = Path(tmp) / ".dvc"
        dvc_dir.mkdir()
        (dvc_dir / "config").write_bytes(config or b"")
        return get(mirror, mv, out, dvc_dir=dvc_dir, sized_progress=sized_progress)

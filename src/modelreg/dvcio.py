"""The one module that imports DVC.  Every import of ``dvc`` is inside a function: a read
query must never pay DVC's half-second import."""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from modelreg.errors import DvcError, NotFoundError

# DVC must not try to reach the network for analytics or update checks.
os.environ.setdefault("DVC_NO_ANALYTICS", "1")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence DVC's console and logger: the core returns records and never prints."""
    from dvc.ui import ui

    logger = logging.getLogger("dvc")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    ui._enabled = False  # DVC's Console has enable() but no public disable()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        ui.enable()
        logger.setLevel(level)


@contextlib.contextmanager
def _dvc_errors(action: str) -> Iterator[None]:
    from dvc.exceptions import DvcException

    try:
        with _quiet():
            yield
    except DvcException as e:
        text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DvcError(f"DVC could not {action}: {text}") from e


def is_initialized(root: Path) -> bool:
    """Whether ``root`` has a ``.dvc`` folder."""
    return (root / ".dvc").is_dir()


def init(root: Path) -> list[str]:
    """``dvc init`` in ``root``; returns the files it created (relative paths)."""
    from dvc.repo import Repo

    with _dvc_errors("initialize the repository"):
        Repo.init(os.fspath(root))
    return [p for p in (".dvc/config", ".dvc/.gitignore", ".dvcignore") if (root / p).exists()]


def set_default_remote(root: Path, url: str, name: str = "storage") -> None:
    """Configure ``url`` as the default DVC remote (written to ``.dvc/config``)."""
    from dvc.config import Config

    with _dvc_errors(f"configure remote {url!r}"):
        config = Config(dvc_dir=os.fspath(root / ".dvc"))
        with config.edit("repo") as conf:
            conf.setdefault("remote", {})[name] = {"url": url}
            conf.setdefault("core", {})["remote"] = name


def track(root: Path, path: Path) -> None:
    """``dvc add`` ``path`` (absolute: DVC resolves relative paths against the cwd)."""
    from dvc.repo import Repo

    with _dvc_errors(f"track {path}"), Repo(os.fspath(root)) as repo:
        repo.add(os.fspath(path.resolve()))


def download(root: Path, path: str, rev: str, out: Path) -> None:
    """Fetch ``path`` as of ``rev`` from the cache or the default remote into ``out``.

    Nothing here verifies bytes: the caller re-hashes ``out`` before trusting it.
    """
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    try:
        with _quiet():
            Repo.get(os.fspath(root), path, out=os.fspath(out), rev=rev)
    except FileNotFoundError as e:
        raise NotFoundError(
            f"the bytes of {path} at {rev[:12]} are missing from the DVC cache and remote: "
            "run `dvc push` from a clone that has them"
        ) from e
    except DvcException as e:
        cause = e.__cause__
        if cause is not None and "Missing" in type(cause).__name__:
            raise NotFoundError(
                f"the bytes of {path} at {rev[:12]} are missing from the DVC remote: "
                "run `dvc push` from a clone that has them"
            ) from e
        text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DvcError(f"DVC could not fetch {path}: {text}") from e


def push_data(root: Path, revs: list[str], remote: str | None = None) -> None:
    """Push the artifacts tracked at ``revs`` to the DVC remote (before any tag is pushed)."""
    from dvc.repo import Repo

    with _dvc_errors("push artifacts to the DVC remote"), Repo(os.fspath(root)) as repo:
        if not repo.config.get("core", {}).get("remote") and remote is None:
            raise DvcError(
                "no default DVC remote is configured, so the artifact bytes cannot be shared: "
                "run `dvc remote add -d NAME URL` (or `modelreg init --remote URL`) first"
            )
        repo.push(revs=revs, workspace=False, remote=remote)

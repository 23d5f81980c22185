"""The one module that imports DVC.  Every import of ``dvc`` is inside a function: a read
query must never pay DVC's half-second import."""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelreg.dvcstore.hashing import HASH_NAMES, LEGACY_MD5, MD5, copy_hashing, hasher
from modelreg.errors import DvcError, IntegrityError, NotFoundError, RegistryError
from modelreg.untrusted import (
    MAX_LISTING_BYTES,
    ListingEntry,
    check_md5,
    is_md5,
    parse_dir_listing,
)

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
def _dvc_errors(action: str, *, network: bool = False) -> Iterator[None]:
    """Translate DVC's failures into one-line :class:`DvcError` messages.

    With ``network``, any failure counts (a remote's client library raises its own types:
    connection refused, missing credentials, access denied…); our own errors pass through.
    """
    from dvc.exceptions import DvcException

    catch: tuple[type[BaseException], ...] = (Exception,) if network else (DvcException,)
    try:
        with _quiet():
            yield
    except RegistryError:
        raise
    except catch as e:
        text = str(e).strip().splitlines()[0] if str(e).strip() else ""
        if not isinstance(e, DvcException):
            text = f"{type(e).__name__}: {text}" if text else type(e).__name__
        raise DvcError(f"DVC could not {action}: {text or type(e).__name__}") from e


def is_initialized(root: Path) -> bool:
    """Whether ``root`` has a ``.dvc`` folder."""
    return (root / ".dvc").is_dir()


INIT_FILES = (".dvc/config", ".dvc/.gitignore", ".dvcignore")
"""What ``dvc init`` creates and stages in Git's index."""


def init(root: Path) -> list[str]:
    """``dvc init`` in ``root``; returns the files it created (relative paths)."""
    from dvc.repo import Repo

    with _dvc_errors("initialize the repository"):
        Repo.init(os.fspath(root))
    return [p for p in INIT_FILES if (root / p).exists()]


# Remote settings that are secrets: DVC keeps them in .dvc/config.local, which is never
# committed.  Everything else goes to .dvc/config so every clone sees the same remote.
SECRET_OPTIONS = frozenset(
    {
        "access_key_id",
        "secret_access_key",
        "session_token",
        "password",
        "ask_password",
        "key_passphrase",
        "credentialpath",
        "profile",
        "account_key",
        "sas_token",
        "connection_string",
        "client_secret",
        "gdrive_client_secret",
        "gdrive_service_account_json_file_path",
        "token",
    }
)


def default_remote_settings(root: Path) -> tuple[str | None, dict[str, str]]:
    """The default DVC remote committed in ``root``'s ``.dvc/config``: its name and its
    settings there (``url`` included); ``(None, {})`` when it names none."""
    from dvc.config import Config

    with _dvc_errors("read .dvc/config"):
        config = Config(dvc_dir=os.fspath(root / ".dvc"), validate=False)
        conf = config.load_one("repo")
    name = conf.get("core", {}).get("remote")
    if not name:
        return None, {}
    settings = conf.get("remote", {}).get(name, {})
    return str(name), {str(k): str(v) for k, v in settings.items()}


def set_default_remote(
    root: Path,
    url: str,
    options: dict[str, str] | None = None,
    name: str = "storage",
    *,
    drop_local: bool = False,
) -> list[str]:
    """Configure ``url`` as the default DVC remote; secrets go to ``config.local``.

    With ``drop_local`` the remote's settings in ``config.local`` are removed first (they
    were set for another URL: credentials must not follow a remote to a new endpoint);
    returns the names of the settings removed."""
    from dvc.config import Config

    options = options or {}
    public = {k: v for k, v in options.items() if k not in SECRET_OPTIONS}
    secret = {k: v for k, v in options.items() if k in SECRET_OPTIONS}
    dropped: list[str] = []
    with _dvc_errors(f"configure remote {url!r}"):
        config = Config(dvc_dir=os.fspath(root / ".dvc"))
        # Edited in this order because DVC validates the merged levels on every edit: an
        # S3 credential left on a folder remote would fail it.
        if drop_local:
            dropped = sorted(config.load_one("local").get("remote", {}).get(name, {}))
            if dropped:
                with config.edit("local") as conf:
                    conf.get("remote", {}).pop(name, None)
        with config.edit("repo") as conf:
            conf.setdefault("remote", {})[name] = {"url": url, **public}
            conf.setdefault("core", {})["remote"] = name
        if secret:
            with config.edit("local") as conf:
                conf.setdefault("remote", {}).setdefault(name, {}).update(secret)
    return dropped


def track(root: Path, path: Path) -> None:
    """``dvc add`` ``path`` (absolute: DVC resolves relative paths against the cwd), leaving
    a DVC 3 pointer (``hash: md5``)."""
    from dvc.repo import Repo

    with _dvc_errors(f"track {path}"), Repo(os.fspath(root)) as repo:
        stages = repo.add(os.fspath(path.resolve()))
        # DVC keeps a DVC 2 pointer (no ``hash: md5``) when the bytes did not change; a
        # registration records DVC 3's md5, so the pointer is moved to it, as
        # `dvc cache migrate --dvc-files` would.
        legacy = [s for s in stages if any(o.hash_name == LEGACY_MD5 for o in s.outs)]
        if legacy:
            with repo.lock:
                for stage in legacy:
                    for out in stage.outs:
                        out.update_legacy_hash_name(force=True)
                    stage.save()
                    stage.commit()
                    stage.dump()


@dataclass(frozen=True)
class _RemoteStore:
    """The default DVC remote's object store, reached through DVC's filesystem layer."""

    name: str
    fs: Any
    root: str

    def path(self, oid: str, hash_name: str = MD5) -> str:
        """Where DVC keeps object ``oid`` in the remote (the cache's layout): DVC 3's under
        ``files/md5/``, DVC 2's (``md5-dos2unix``) at the remote's top, as DVC 3 reads them."""
        if hash_name == LEGACY_MD5:
            return str(self.fs.join(self.root, oid[:2], oid[2:]))
        return str(self.fs.join(self.root, "files", "md5", oid[:2], oid[2:]))


def _default_remote(dvc_dir: Path, purpose: str) -> _RemoteStore:
    """The default remote configured in ``dvc_dir`` (its ``config`` and ``config.local``,
    plus DVC's global and system levels); ``purpose`` completes the error message."""
    from dvc.config import Config
    from dvc.fs import get_cloud_fs

    config = Config(dvc_dir=os.fspath(dvc_dir))
    name = config["core"].get("remote")
    if not name:
        raise DvcError(
            f"no default DVC remote is configured {purpose}: run `dvc remote add -d NAME URL`"
        )
    cls, fs_config, root = get_cloud_fs(config, name=name)
    return _RemoteStore(name, cls(**fs_config), root)


def download(
    dvc_dir: Path,
    md5: str,
    out: Path,
    what: str,
    progress: Callable[[int], None] | None = None,
    hash_name: str = MD5,
) -> list[ListingEntry]:
    """Fetch object ``md5`` (a file, or a ``.dir`` folder listing and its files) from the
    default remote configured in ``dvc_dir`` into ``out``, which must not exist yet; returns
    a folder's verified listing (empty for a file).  ``hash_name`` says how the pointer's md5
    was computed, and so where the objects are and how their bytes are checked.

    This goes to the remote's object store directly, with DVC's own filesystem layer, so it
    needs no Git checkout and works for every remote type DVC supports.  The remote is
    untrusted: a folder's listing is authenticated against ``md5`` and its entries validated
    before any is used, and every file is hashed as it arrives.  ``what`` names the artifact
    in error messages.
    """
    md5 = check_md5(md5, what)
    with _dvc_errors(f"read the DVC remote for {what}", network=True):
        store = _default_remote(dvc_dir, f"to fetch {what} from")

    if not md5.endswith(".dir"):
        _fetch_verified(store, md5, out, what, progress, hash_name)
        return []
    entries = parse_dir_listing(_read_object(store, md5, what, hash_name), md5, what)
    out.mkdir()
    for entry in entries:
        target = out / entry.relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        _fetch_verified(store, entry.md5, target, what, progress, hash_name)
    return entries


@contextlib.contextmanager
def _reading(store: _RemoteStore, oid: str, what: str) -> Iterator[None]:
    """Turn a remote read's failures into one-line errors naming the object."""
    try:
        yield
    except FileNotFoundError:
        raise NotFoundError(
            f"{what}: object {oid} is missing from the DVC remote {store.name!r}: "
            "run `dvc push` (or `modelreg push`) from a clone that has it"
        ) from None
    except RegistryError:
        raise
    except Exception as e:
        raise DvcError(f"cannot read the DVC remote {store.name!r} for {what}: {e}") from e


def _read_object(store: _RemoteStore, oid: str, what: str, hash_name: str) -> bytes:
    """A small object (a folder listing), read whole but never past the listing limit."""
    with _reading(store, oid, what), store.fs.open(store.path(oid, hash_name), "rb") as fin:
        data: bytes = fin.read(MAX_LISTING_BYTES + 1)
    return data


def _fetch_verified(
    store: _RemoteStore,
    oid: str,
    dest: Path,
    what: str,
    progress: Callable[[int], None] | None,
    hash_name: str,
) -> None:
    """Stream one file object to ``dest`` (created, never overwritten), checking its md5."""
    with (
        _reading(store, oid, what),
        store.fs.open(store.path(oid, hash_name), "rb") as fin,
        open(dest, "xb") as fout,
    ):
        h = copy_hashing(fin, fout, progress, hash_name)
    if not h.matches(oid):
        raise IntegrityError(
            f"{what}: object {oid} in the DVC remote {store.name!r} has md5 {h.hexdigest()}, "
            f"expected {oid}: the remote is corrupted; nothing was written"
        )


# The name the clone's remote goes by while pushing: one no commit's config can define, so
# none of an old commit's settings for its own remote mix into it.
_PUSH_REMOTE = "modelreg-clone-remote"


def push_data(root: Path, revs: list[str], remote: str | None = None) -> None:
    """Push the artifacts tracked at ``revs`` to the DVC remote (before any tag is pushed).

    The remote is this clone's (its ``.dvc/config`` and ``config.local``).  DVC would read
    each revision's own committed config, so the bytes of a registration made before the
    remote was set or changed would go to the remote of its day, or nowhere."""
    from dvc.config import Config
    from dvc.repo import Repo

    with _dvc_errors("push artifacts to the DVC remote", network=True):
        config = Config(dvc_dir=os.fspath(root / ".dvc"))
        name = remote or config["core"].get("remote")
        if not name:
            raise DvcError(
                "no default DVC remote is configured, so the artifact bytes cannot be shared: "
                "run `dvc remote add -d storage URL` first (credentials: `dvc remote modify "
                "--local storage …`)"
            )
        settings = config["remote"].get(name)
        if settings is None:
            raise DvcError(f"no DVC remote named {name!r} is configured: see `dvc remote list`")
        pinned = {"remote": {_PUSH_REMOTE: dict(settings)}}
        with Repo(os.fspath(root), config=pinned) as repo:
            repo.push(revs=revs, workspace=False, remote=_PUSH_REMOTE)


Object = tuple[str, str]
"""An object as a pointer names it: its md5 and how that md5 was computed (``hash_name``)."""


def missing_objects(
    dvc_dir: Path, objects: list[Object], *, verify: bool = False
) -> dict[Object, str]:
    """Which of ``objects`` (files or ``.dir`` folders) are not complete and intact in the
    default remote, each with the reason ("is missing from the DVC remote"…).

    With ``verify`` every object is downloaded and re-hashed (corruption is found here, not
    at deploy time); otherwise only presence is checked, and a folder's listing is
    authenticated."""
    bad: dict[Object, str] = {}
    with _dvc_errors("read the DVC remote", network=True):
        store = _default_remote(dvc_dir, "to check")
        for md5, hash_name in objects:
            problem = _object_problem(store, md5, hash_name, verify)
            if problem is not None:
                bad[md5, hash_name] = problem
    return bad


def _object_problem(store: _RemoteStore, md5: str, hash_name: str, verify: bool) -> str | None:
    """Why object ``md5`` is not usable from ``store``, or ``None``."""
    fs = store.fs

    def path(oid: str) -> str:
        return store.path(oid, hash_name)

    if not is_md5(md5):
        return "is not an md5"
    if hash_name not in HASH_NAMES:
        return f"records hash {hash_name!r}, which DVC does not write"
    if not fs.exists(path(md5)):
        return "is missing from the DVC remote"
    files = [md5]
    if md5.endswith(".dir"):
        try:
            entries = parse_dir_listing(_read_object(store, md5, md5, hash_name), md5, md5)
        except IntegrityError:
            return "has a corrupted folder listing in the DVC remote"
        files = [e.md5 for e in entries]
        if not all(fs.exists(path(f)) for f in files):
            return "has files missing from the DVC remote"
    if verify:
        for oid in files:
            h = hasher(hash_name)
            with fs.open(path(oid), "rb") as fin:
                while chunk := fin.read(1 << 20):
                    h.update(chunk)
            if not h.matches(oid):
                return f"is corrupted in the DVC remote (object {oid} has md5 {h.hexdigest()})"
    return None

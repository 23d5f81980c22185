"""``modelreg site -o DIR``: the registry as a folder of static pages.

The site is built in a temporary folder beside ``DIR`` and renamed into place, so ``DIR``
holds either the previous site or the new one, never a mix.  ``DIR`` must be new, empty, or
a site this command wrote (it leaves a ``.modelreg-site`` marker): nothing else is replaced.
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelreg.errors import InvalidInputError
from modelreg.registry import Registry
from modelreg.site import data, links, pages
from modelreg.site.links import Dir

MARKER = ".modelreg-site"
WRITERS = 8


@dataclass(frozen=True)
class SiteReport:
    """What ``site`` wrote."""

    path: Path
    pages: int
    models: int
    versions: int
    bytes: int


def generator() -> str:
    # The distribution's metadata, not ``modelreg.__version__``: importing the package's
    # namespace from here would tie the site to everything it re-exports.
    from importlib.metadata import version

    return f"modelreg {version('modelreg')}"


class _Writer:
    """Writes pages as they are rendered.  Creating a folder and a file costs a file system
    far more than rendering the page: a few threads keep several of those calls in flight
    (they release the GIL) while the next page renders."""

    def __init__(self, root: Path, pool: ThreadPoolExecutor) -> None:
        self.root = root
        self.pages = 0
        self.bytes = 0
        self._pool = pool
        self._pending: list[Future[None]] = []

    def write(self, where: Dir, html: str) -> None:
        payload = html.encode("utf-8", errors="replace")
        self.pages += 1
        self.bytes += len(payload)
        self._pending.append(self._pool.submit(self._store, self.root.joinpath(*where), payload))
        if len(self._pending) > 256:
            self.wait()

    @staticmethod
    def _store(folder: Path, payload: bytes) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "index.html", "wb") as f:
            f.write(payload)

    def wait(self) -> None:
        """Wait for every page written so far (re-raising the first failure)."""
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()


def _check_destination(out: Path) -> None:
    if out.is_symlink():
        raise InvalidInputError(f"{out} is a symbolic link: pass the real folder for -o")
    if out.exists() and not out.is_dir():
        raise InvalidInputError(f"{out} exists and is not a folder: choose another -o")
    if out.is_dir() and not (out / MARKER).is_file() and any(out.iterdir()):
        raise InvalidInputError(
            f"{out} is not empty and holds no modelreg site: choose a new or empty folder for -o"
        )


def _remove_leftovers(out: Path) -> None:
    """Remove what a killed ``site`` run left beside ``out`` (its process is gone)."""
    for stray in out.parent.glob(f".{out.name}.modelreg-*-*"):
        pid = stray.name.rsplit("-", 1)[-1]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # still running: another site run
        except ProcessLookupError:
            shutil.rmtree(stray, ignore_errors=True)
        except PermissionError:
            continue


def build_site(registry: Registry, out: Path, *, redact_emails: bool = False) -> SiteReport:
    """Write every page of the registry's site into ``out``."""
    out = Path(os.path.abspath(out))
    _check_destination(out)
    board = data.all_bundles(registry)
    bundles = [data.redact(b) for b in board.models] if redact_emails else board.models
    board = data.Board(bundles, board.stages)
    site = pages.Site(generator())

    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(out)
    staging = out.parent / f".{out.name}.modelreg-new-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            writer = _Writer(staging, pool)
            _write_pages(
                writer, board, site, data.search_rows(registry, redact_emails=redact_emails)
            )
            writer.wait()
        (staging / MARKER).write_text(f"{generator()}\n", encoding="utf-8")
        # GitHub Pages would otherwise run Jekyll, which drops folders starting with '_'.
        (staging / ".nojekyll").write_text("", encoding="utf-8")
        _swap(staging, out)
    finally:
        _remove(staging)
    versions = sum(len(b.detail.versions) for b in bundles)
    return SiteReport(out, writer.pages, len(bundles), versions, writer.bytes)


def _write_pages(
    writer: _Writer, board: data.Board, site: pages.Site, rows: list[dict[str, Any]]
) -> None:
    writer.write(links.ROOT, pages.overview(board, site))
    writer.write(links.SEARCH, pages.search(rows, site))
    for bundle in board.models:
        writer.write(links.model_dir(bundle.name), pages.model(bundle, site))
        for version in bundle.detail.versions:
            where = links.version_dir(bundle.name, version.version)
            writer.write(where, pages.version(bundle, version, site))


def _swap(new: Path, out: Path) -> None:
    """Put ``new`` at ``out``, removing the previous site there (checked to be one)."""
    _check_destination(out)
    if not out.exists():
        new.rename(out)
        return
    old = out.parent / f".{out.name}.modelreg-old-{os.getpid()}"
    out.rename(old)
    try:
        new.rename(out)
    except OSError:
        old.rename(out)
        raise
    _remove(old)


def _remove(folder: Path) -> None:
    """Remove a site folder, its subfolders in parallel (unlinking 20,000 files one at a
    time is most of a rebuild's time on a slow file system)."""
    if not folder.is_dir():
        return
    children = list(folder.iterdir())
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        subtrees = [c for c in children if c.is_dir() and not c.is_symlink()]
        models = [g for c in subtrees for g in (c.iterdir() if c.name == "models" else [c])]
        list(pool.map(lambda p: shutil.rmtree(p, ignore_errors=True), models))
    shutil.rmtree(folder, ignore_errors=True)

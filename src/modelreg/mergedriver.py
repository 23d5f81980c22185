"""Installing the ``registry.yaml`` merge driver (:mod:`modelreg.merge`): the
``.gitattributes`` line that routes the file to it, and the clone's git config that defines
it, which git never copies into a clone, so every write checks it (cheaply: this module
imports nothing of the index's parsing)."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Final

from modelreg.errors import RegistryError
from modelreg.gitrepo import GitRepo
from modelreg.index.files import write_atomic
from modelreg.index.header import INDEX_FILE
from modelreg.untrusted import check_no_links

DRIVER: Final = "modelreg"
DRIVER_NAME: Final = "modelreg: merge registry.yaml per model, version and stage"
DRIVER_COMMAND: Final = "modelreg merge-index %O %A %B"
ATTRIBUTES_FILE: Final = ".gitattributes"
# Anchored: only the index at the root is modelreg's; another file of that name deeper in
# the tree is not, and the driver would refuse to parse it.
ATTRIBUTES_LINE: Final = f"/{INDEX_FILE} merge={DRIVER}"


def _merge_attribute(text: str) -> str | None:
    """The ``merge`` attribute lines naming the root ``registry.yaml`` give it, last line
    winning as in git: ``"modelreg"``, another driver, ``"set"``, ``"unset"``,
    ``"unspecified"``, or ``None`` when no such line sets it."""
    found = None
    for line in text.splitlines():
        tokens = line.split()
        if (
            not tokens
            or tokens[0].startswith("#")
            or tokens[0] not in (INDEX_FILE, "/" + INDEX_FILE)
        ):
            continue
        for attr in tokens[1:]:
            if attr == "merge":
                found = "set"
            elif attr == "-merge":
                found = "unset"
            elif attr == "!merge":
                found = "unspecified"
            elif attr.startswith("merge="):
                found = attr.removeprefix("merge=")
    return found


def ensure_attributes(root: Path) -> bool:
    """Make ``.gitattributes`` at ``root`` route ``registry.yaml`` to this driver; return
    whether the file changed (so that ``init`` commits it).

    A line that already gives ``registry.yaml`` a ``merge`` attribute is left alone, ours or
    not: a different choice there was made on purpose.  Raises
    :class:`~modelreg.errors.InvalidInputError` when ``.gitattributes`` is a symbolic link.
    """
    check_no_links(root, ATTRIBUTES_FILE)
    path = root / ATTRIBUTES_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raw = b""
    except OSError as e:
        raise RegistryError(f"cannot read {ATTRIBUTES_FILE}: {e.strerror}") from None
    # surrogateescape: bytes that are not UTF-8 (another tool's lines) go back unchanged.
    text = raw.decode("utf-8", "surrogateescape")
    if _merge_attribute(text) is not None:
        return False
    if text and not text.endswith("\n"):
        text += "\n"
    text += ATTRIBUTES_LINE + "\n"
    write_atomic(path, text.encode("utf-8", "surrogateescape"))
    return True


_SECTION = re.compile(r'\[\s*merge\s+"' + DRIVER + r'"\s*\]', re.IGNORECASE)
_DRIVER_KEY = re.compile(r"driver\s*(=|$)", re.IGNORECASE)


def _config_has_driver(text: str) -> bool:
    """Whether git config text defines ``merge.modelreg.driver`` (a quick read, no git)."""
    inside = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            inside = _SECTION.match(stripped) is not None
        elif inside and _DRIVER_KEY.match(stripped):
            return True
    return False


def _configured_keys(repo: GitRepo) -> set[str]:
    """Which of ``merge.modelreg.name``/``.driver`` git's config (every scope) sets."""
    proc = repo.run("config", "--get-regexp", rf"^merge\.{DRIVER}\.(name|driver)$", check=False)
    return {line.split(" ", 1)[0].lower() for line in proc.stdout.splitlines() if line}


def ensure_merge_config(repo: GitRepo) -> None:
    """Define the driver in the clone's ``.git/config`` when no config defines it.

    Git never copies merge-driver settings into a clone, so every write calls this.  When
    the clone's config already has it the cost is one small file read; otherwise one
    ``git config`` read (a driver set in the global config counts), then the settings.
    Never raises: a write must not fail over a convenience, and racing writers may find the
    config file locked by each other (``check`` reports a driver still missing).
    """
    with contextlib.suppress(OSError, RegistryError):
        if _config_has_driver((repo.git_dir / "config").read_text(encoding="utf-8")):
            return
    with contextlib.suppress(RegistryError):
        keys = _configured_keys(repo)
        if f"merge.{DRIVER}.driver" in keys:
            return
        if f"merge.{DRIVER}.name" not in keys:
            repo.run("config", "--local", f"merge.{DRIVER}.name", DRIVER_NAME, check=False)
        repo.run("config", "--local", f"merge.{DRIVER}.driver", DRIVER_COMMAND, check=False)


def ensure_driver(repo: GitRepo) -> bool:
    """:func:`ensure_merge_config` and :func:`ensure_attributes`; returns whether
    ``.gitattributes`` changed (``init`` commits it then)."""
    ensure_merge_config(repo)
    return ensure_attributes(repo.root)


def driver_configured(repo: GitRepo) -> bool:
    """Whether git will merge ``registry.yaml`` with this driver here: the attribute
    resolves to ``merge=modelreg`` (as git resolves it, every attributes file and pattern
    counted) and some config defines ``merge.modelreg.driver``."""
    proc = repo.run("check-attr", "merge", "--", INDEX_FILE, check=False)
    if proc.returncode != 0 or proc.stdout.strip() != f"{INDEX_FILE}: merge: {DRIVER}":
        return False
    return f"merge.{DRIVER}.driver" in _configured_keys(repo)

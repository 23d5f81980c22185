"""Reading a registry by URL without cloning it.

``which`` and ``latest`` answer from ``git ls-remote`` alone when the tag names decide the
answer (counters order stage events; registrations map commits to versions).  When they do
not (a model with a deprecation tag or GTO's counter-less "simple" stage tags is ordered by
tagger dates, which only tag objects carry), and for ``show``, ``history``, ``compare`` and
``get``, the model's tags are fetched into a small cached mirror: tag objects and the tagged
commits only (``--depth=1``), with file contents fetched lazily (``--filter=blob:none``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from modelreg.cache import cache_dir
from modelreg.errors import GitError
from modelreg.gitrepo import GitRepo, RawTag, ls_remote_tags
from modelreg.grammar import EventKind, parse_tag

_SCP_LIKE = re.compile(r"^[\w.+-]+@[\w.-]+:")


def is_url(text: str) -> bool:
    """Whether ``--repo`` names a remote (``https://…``, ``file://…``, ``git@host:path``)."""
    return "://" in text or _SCP_LIKE.match(text) is not None


class LsRemoteReader:
    """A tag reader over ``git ls-remote``: names and commits, no dates, no files."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._cache: dict[tuple[str, ...], list[RawTag]] = {}

    def tags(self, patterns: Sequence[str], messages: bool = True) -> list[RawTag]:
        key = tuple(patterns)
        if key not in self._cache:
            self._cache[key] = ls_remote_tags(self.url, patterns)
        return self._cache[key]

    def show_file(self, rev: str, path: str) -> bytes | None:
        return None


def names_decide(tags: Sequence[RawTag]) -> bool:
    """Whether tag names alone order these events (no deprecation, every stage tag counted)."""
    for raw in tags:
        parsed = parse_tag(raw.name)
        if parsed is None:
            continue
        if parsed.kind is EventKind.DEPRECATE:
            return False
        if parsed.kind in (EventKind.ASSIGN, EventKind.UNASSIGN) and parsed.counter is None:
            return False
    return True


def mirror(url: str, patterns: Sequence[str]) -> GitRepo:
    """A bare, shallow, blob-less local mirror of the remote's tags matching ``patterns``."""
    import hashlib  # only the mirror path pays for it; ``which`` by URL does not

    path = cache_dir("mirrors") / hashlib.sha256(url.encode()).hexdigest()[:24]
    repo = GitRepo(path)
    if not (path / "HEAD").exists():
        path.mkdir(parents=True, exist_ok=True)
        for args in (
            ["init", "--quiet", "--bare"],
            ["remote", "add", "origin", url],
            ["config", "remote.origin.promisor", "true"],
            ["config", "remote.origin.partialclonefilter", "blob:none"],
            ["config", "extensions.partialClone", "origin"],
        ):
            repo.run(*args)
    # A refspec's '*' spans '/', so the extra pattern for slashed stage names is not needed.
    refspecs = [f"+{p}:{p}" for p in patterns if "**" not in p]
    proc = repo.run(
        "fetch",
        "--quiet",
        "--prune",
        "--no-tags",
        "--depth=1",
        "--filter=blob:none",
        "origin",
        *refspecs,
        check=False,
    )
    if proc.returncode != 0:
        first = next((ln for ln in proc.stderr.splitlines() if ln.startswith("fatal")), "")
        raise GitError(f"cannot fetch registry tags from {url!r}: {first or proc.stderr.strip()}")
    return repo

"""Registries written tag by tag with chosen tagger dates (``git mktag`` + ``update-ref``).

Reads need nothing but the tags, so a history with promotions, rollbacks and demotions at
known instants is built without DVC and without waiting for the clock.
"""

from __future__ import annotations

import calendar
import os
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from modelreg.records import ArtifactRecord
from modelreg.tagmessage import compose


def epoch(text: str) -> int:
    """``2026-11-20T10:02:11`` (UTC) as seconds since the epoch."""
    return calendar.timegm(datetime.fromisoformat(text).timetuple())


def _git(
    root: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> str:
    proc = subprocess.run(
        ["git", *args],
        cwd=root,
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=True,
    )
    return proc.stdout.strip()


class DatedRegistry:
    """A Git repository (bare or not) whose tags are written with the dates a test picks."""

    def __init__(self, root: Path, bare: bool = False) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        _git(root, "init", "-q", "-b", "main", *(["--bare"] if bare else []))
        self.commits: dict[tuple[str, str], str] = {}

    def _commit(self, model: str, version: str) -> str:
        """An empty commit for one version, dated long before any tag."""
        key = (model, version)
        if key not in self.commits:
            tree = _git(self.root, "hash-object", "-t", "tree", "-w", "--stdin", stdin="")
            dated = {
                "GIT_COMMITTER_DATE": "1000000000 +0000",
                "GIT_AUTHOR_DATE": "1000000000 +0000",
            }
            parent = list(self.commits.values())[-1:]
            args = [x for p in parent for x in ("-p", p)]
            sha = _git(self.root, "commit-tree", tree, *args, "-m", f"{model} {version}", env=dated)
            _git(self.root, "update-ref", "refs/heads/main", sha)
            self.commits[key] = sha
        return self.commits[key]

    def tag(
        self,
        name: str,
        model: str,
        version: str,
        when: str,
        message: str = "",
        tagger: str = "Ada Tester <ada@example.com>",
    ) -> None:
        """Tag the version's commit ``name``, dated ``when`` (UTC, ``2026-11-20T10:02:11``)."""
        body = (
            f"object {self._commit(model, version)}\ntype commit\ntag {name}\n"
            f"tagger {tagger} {epoch(when)} +0000\n\n{message or name}\n"
        )
        obj = _git(self.root, "mktag", stdin=body)
        _git(self.root, "update-ref", f"refs/tags/{name}", obj)

    def register(
        self,
        model: str,
        version: str,
        when: str,
        author: str = "Ada Tester <ada@example.com>",
        **record: Any,
    ) -> None:
        """A registration tag carrying a modelreg record (metrics, params, labels, card…)."""
        full = ArtifactRecord(
            path=f"models/{model.split(':')[-1]}.pkl",
            md5=f"{len(self.commits):032x}",
            size=1,
            registered_by=author,
            registered_at=datetime.fromisoformat(when).replace(tzinfo=timezone.utc),
            **record,
        )
        tag_model = model.replace(":", "=")
        message = compose(f"Register {model} {version}", None, full)
        self.tag(f"{tag_model}@{version}", model, version, when, message, tagger=author)

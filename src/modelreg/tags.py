"""An annotated tag as read from git: the raw input every replay of a model's history starts from.

It lives below both ``gitrepo`` (which reads tags) and ``state`` (which replays them) so the pure
replay does not depend on the module that runs git.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RawTag:
    """An annotated tag as git stores it; lightweight tags never become one."""

    name: str
    commit: str
    timestamp: int
    tagger_name: str
    tagger_email: str
    message: str

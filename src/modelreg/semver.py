"""SemVer 2.0 versions with the leading ``v`` that GTO and DVC use (``v1.2.0``).

Pure functions only: parsing, precedence and bumping.  Build metadata is kept in the text but,
as SemVer 2.0 says, ignored for precedence.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from functools import total_ordering
from typing import Literal

Bump = Literal["major", "minor", "patch"]

_IDENT = r"(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
SEMVER_PATTERN = (
    r"(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    rf"(?:-(?P<pre>{_IDENT}(?:\.{_IDENT})*))?"
    r"(?:\+(?P<build>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
_VERSION_RE = re.compile(rf"^v{SEMVER_PATTERN}\Z")  # \Z: "$" accepts a final newline

FIRST_VERSION = "v1.0.0"


def _pre_key(pre: tuple[str, ...]) -> tuple[tuple[int, int, str], ...]:
    # Numeric identifiers sort before alphanumeric ones and compare as numbers.
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre)


@total_ordering
@dataclass(frozen=True)
class Version:
    """One parsed version; ordering is SemVer precedence."""

    major: int
    minor: int
    patch: int
    pre: tuple[str, ...] = ()
    build: str = ""

    @classmethod
    def parse(cls, text: str) -> Version:
        """Parse ``vX.Y.Z[-pre][+build]``; raise ``ValueError`` on anything else."""
        match = _VERSION_RE.match(text)
        if match is None:
            raise ValueError(text)
        pre = match["pre"]
        return cls(
            int(match["major"]),
            int(match["minor"]),
            int(match["patch"]),
            tuple(pre.split(".")) if pre else (),
            match["build"] or "",
        )

    def __str__(self) -> str:
        text = f"v{self.major}.{self.minor}.{self.patch}"
        if self.pre:
            text += "-" + ".".join(self.pre)
        if self.build:
            text += "+" + self.build
        return text

    def _key(self) -> tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]:
        # A release ranks above every pre-release of the same X.Y.Z.
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, _pre_key(self.pre))

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def bump(self, part: Bump) -> Version:
        """The next release: a pre-release of X.Y.Z bumps to the release it leads to."""
        if part == "major":
            if self.pre and self.minor == 0 and self.patch == 0:
                return Version(self.major, 0, 0)
            return Version(self.major + 1, 0, 0)
        if part == "minor":
            if self.pre and self.patch == 0:
                return Version(self.major, self.minor, 0)
            return Version(self.major, self.minor + 1, 0)
        if self.pre:
            return Version(self.major, self.minor, self.patch)
        return Version(self.major, self.minor, self.patch + 1)


@functools.lru_cache(maxsize=65536)
def sort_key(text: str) -> tuple[int, tuple[object, ...]]:
    """An ordering key for version strings: SemVer precedence, with names that are not
    versions (GTO's commit-hash "versions") first, by text.  Cached: a registry's listing
    compares the same few thousand strings many times."""
    if is_version(text):
        return (1, Version.parse(text)._key())
    return (0, (text,))


def is_version(text: str) -> bool:
    """True for a valid ``vX.Y.Z`` SemVer string."""
    return _VERSION_RE.match(text) is not None

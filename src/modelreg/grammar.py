"""The tag grammar, declared once: GTO-compatible tag names and user references.

| event        | tag                   |
| ------------ | --------------------- |
| register     | ``NAME@vX.Y.Z``       |
| deregister   | ``NAME@vX.Y.Z!``      |
| assign       | ``NAME#STAGE#N``      |
| unassign     | ``NAME#STAGE!#N``     |
| deprecate    | ``NAME@deprecated``   |

GTO also accepts an optional ``#N`` counter on every form and "simple" stage tags without one;
both are read here.  Everything is a pure function so it can be property-tested.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from modelreg.errors import InvalidInputError
from modelreg.semver import SEMVER_PATTERN, is_version

NAME_PATTERN = r"[a-zA-Z0-9]([a-zA-Z0-9-/_]*[a-zA-Z0-9])?"
# ``\Z``, not ``$``: ``$`` also matches before a final newline, so "churn\n" would pass.
_NAME_RE = re.compile(rf"^{NAME_PATTERN}\Z")
# Stage names follow the same rule as model names (GTO enforces one rule for both).
_TAG_RE = re.compile(
    rf"^(?P<name>{NAME_PATTERN})"
    rf"(?:(?:#(?P<stage>{NAME_PATTERN})|@(?P<version>v{SEMVER_PATTERN}))(?P<cancel>!?)"
    r"|@(?P<deprecated>deprecated)|@(?P<created>created))"
    r"(?:#(?P<counter>[0-9]+))?\Z"
)
_REF_RE = re.compile(
    rf"^(?P<name>{NAME_PATTERN})"
    rf"(?:#(?P<stage>{NAME_PATTERN})|@(?P<version>latest|v{SEMVER_PATTERN}))?\Z"
)

NAME_RULE = "letters, digits, '-', '_' and '/', starting and ending with a letter or digit"


class EventKind(str, Enum):
    """What a tag records.  The value is the word used in history output."""

    REGISTER = "register"
    DEREGISTER = "deregister"
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    DEPRECATE = "deprecate"


@dataclass(frozen=True)
class TagName:
    """A parsed registry tag name."""

    model: str
    kind: EventKind
    version: str | None = None
    stage: str | None = None
    counter: int | None = None

    def __str__(self) -> str:
        return format_tag(self)


@dataclass(frozen=True)
class Reference:
    """A user reference: ``NAME``, ``NAME@vX.Y.Z``, ``NAME@latest`` or ``NAME#STAGE``."""

    model: str
    version: str | None = None
    stage: str | None = None
    latest: bool = False

    def __str__(self) -> str:
        if self.stage:
            return f"{self.model}#{self.stage}"
        if self.latest:
            return f"{self.model}@latest"
        if self.version:
            return f"{self.model}@{self.version}"
        return self.model


MAX_PART_BYTES = 250
"""Longest ``/``-separated part of a tag.  Git stores a loose ref as a file named after each
part, and file names stop at 255 bytes; a longer tag fails only at ``git tag``."""

MAX_NAME_PART_BYTES = 200
"""Longest part of a model or stage name, leaving room in the tag's last part for the version
or stage, a ``!`` and a counter."""


def is_name(text: str) -> bool:
    """True when ``text`` is a valid model or stage name: GTO's rule, and one git accepts in a
    tag (no empty ``/`` part, every part short enough to be a file name)."""
    if _NAME_RE.match(text) is None or "//" in text:
        return False
    return all(len(part.encode()) <= MAX_NAME_PART_BYTES for part in text.split("/"))


def check_name(text: str, what: str = "model name") -> str:
    """Return ``text`` or raise a one-line error naming the bad value."""
    if not is_name(text):
        if _NAME_RE.match(text) is not None and "//" in text:
            raise InvalidInputError(f"invalid {what} {text!r}: '//' is not allowed in Git tags")
        if _NAME_RE.match(text) is not None:
            raise InvalidInputError(
                f"invalid {what} {text[:40]!r}…: each '/'-separated part must be at most "
                f"{MAX_NAME_PART_BYTES} bytes"
            )
        raise InvalidInputError(f"invalid {what} {text!r}: use {NAME_RULE}")
    return text


def ref_format_problem(tag: str) -> str | None:
    """Why git would refuse ``refs/tags/<tag>`` (``git check-ref-format``), or ``None``.

    Only the rules that characters of our grammar can break are checked: empty parts, parts
    ending in ``.lock`` or ``.``, ``..``, and parts too long to be file names.
    """
    for part in tag.split("/"):
        if not part:
            return "it has an empty '/' part"
        if part.endswith((".lock", ".")) or part.startswith("."):
            return f"its part {part[:40]!r} starts with '.' or ends with '.lock' or '.'"
        if len(part.encode()) > MAX_PART_BYTES:
            return f"its part {part[:40]!r}… is longer than {MAX_PART_BYTES} bytes"
    if ".." in tag or "@{" in tag:
        return "it contains '..' or '@{'"
    return None


def check_tag(tag: str) -> str:
    """``tag`` if git can store it; checked before a write changes anything."""
    problem = ref_format_problem(tag)
    if problem is not None:
        raise InvalidInputError(
            f"cannot create tag {tag[:80]!r}: {problem}; pick a shorter name, stage or version"
        )
    return tag


def check_stage(text: str) -> str:
    """Validate a stage name (same rule as model names)."""
    return check_name(text, "stage")


def check_version(text: str) -> str:
    """Validate a ``vX.Y.Z`` version string."""
    if not is_version(text):
        raise InvalidInputError(
            f"invalid version {text!r}: use SemVer with a leading 'v', e.g. v1.2.0"
        )
    return text


def format_tag(tag: TagName) -> str:
    """The tag name for an event (inverse of :func:`parse_tag`)."""
    if tag.kind is EventKind.DEPRECATE:
        text = f"{tag.model}@deprecated"
    elif tag.kind in (EventKind.REGISTER, EventKind.DEREGISTER):
        bang = "!" if tag.kind is EventKind.DEREGISTER else ""
        text = f"{tag.model}@{tag.version}{bang}"
    else:
        bang = "!" if tag.kind is EventKind.UNASSIGN else ""
        text = f"{tag.model}#{tag.stage}{bang}"
    if tag.counter is not None:
        text += f"#{tag.counter}"
    return text


def parse_tag(text: str) -> TagName | None:
    """Parse a tag name; ``None`` for tags that are not registry events (never an error)."""
    match = _TAG_RE.match(text)
    if match is None or match["created"]:
        return None
    counter = int(match["counter"]) if match["counter"] is not None else None
    cancelled = match["cancel"] == "!"
    if match["deprecated"]:
        kind = EventKind.DEPRECATE
    elif match["version"]:
        kind = EventKind.DEREGISTER if cancelled else EventKind.REGISTER
    else:
        kind = EventKind.UNASSIGN if cancelled else EventKind.ASSIGN
    return TagName(match["name"], kind, match["version"], match["stage"], counter)


def parse_reference(text: str) -> Reference:
    """Parse a user reference or raise a one-line error naming it."""
    match = _REF_RE.match(text)
    if match is None:
        raise InvalidInputError(
            f"invalid reference {text!r}: use NAME, NAME@vX.Y.Z, NAME@latest or NAME#STAGE"
        )
    version = match["version"]
    return Reference(
        model=match["name"],
        version=version if version and version != "latest" else None,
        stage=match["stage"],
        latest=version == "latest",
    )


def tag_patterns(model: str) -> list[str]:
    """``git for-each-ref`` patterns that select exactly one model's tags.

    Git matches ``*`` without crossing ``/``, so stage names that contain a slash need the
    extra ``#*/**`` pattern.  Version strings never contain a slash.
    """
    base = f"refs/tags/{model}"
    return [f"{base}@*", f"{base}#*", f"{base}#*/**"]

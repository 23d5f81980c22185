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

Monorepo names: a model declared in ``dir/sub/dvc.yaml`` is called ``dir/sub:NAME`` (GTO's and
DVC's spelling) and written ``dir/sub=NAME`` inside tags (``dir/sub=NAME@v1.0.0``).  A model's
identity everywhere in modelreg (index keys, records, JSON, history) is the ``:`` form, as
``gto show`` prints it; only :func:`format_tag` and :func:`parse_tag` see the ``=`` form.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from modelreg.errors import InvalidInputError
from modelreg.records import EventKind
from modelreg.semver import SEMVER_PATTERN, is_version

NAME_PATTERN = r"[a-zA-Z0-9]([a-zA-Z0-9-/_]*[a-zA-Z0-9])?"
# GTO's characters for the folder part (letters, digits, '-', '_', '.', '/'), without empty
# parts: a leading, trailing or doubled '/' would name the same folder as another spelling,
# or (leading) a tag git cannot store.  The finer rules are in :func:`_dirname_problem`.
DIRNAME_PATTERN = r"[a-zA-Z0-9_.-]+(?:/[a-zA-Z0-9_.-]+)*"
SEPARATOR_IN_NAME = ":"
SEPARATOR_IN_TAG = "="
_FULLNAME_PATTERN = rf"(?:{DIRNAME_PATTERN}{SEPARATOR_IN_NAME})?{NAME_PATTERN}"
_FULLNAME_IN_TAG = rf"(?:{DIRNAME_PATTERN}{SEPARATOR_IN_TAG})?{NAME_PATTERN}"
# ``\Z``, not ``$``: ``$`` also matches before a final newline, so "churn\n" would pass.
_NAME_RE = re.compile(rf"^{NAME_PATTERN}\Z")
# Stage names follow the plain name rule (GTO enforces one rule for both; no folder).
_TAG_RE = re.compile(
    rf"^(?P<name>{_FULLNAME_IN_TAG})"
    rf"(?:(?:#(?P<stage>{NAME_PATTERN})|@(?P<version>v{SEMVER_PATTERN}))(?P<cancel>!?)"
    r"|@(?P<deprecated>deprecated)|@(?P<created>created))"
    r"(?:#(?P<counter>[0-9]+))?\Z"
)
_REF_RE = re.compile(
    rf"^(?P<name>{_FULLNAME_PATTERN})"
    rf"(?:#(?P<stage>{NAME_PATTERN})|@(?P<version>latest|v{SEMVER_PATTERN}))?\Z"
)

NAME_RULE = "letters, digits, '-', '_' and '/', starting and ending with a letter or digit"


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
    """True when ``text`` is a valid stage name, or the part of a model name after its folder:
    GTO's rule, and one git accepts in a tag (no empty ``/`` part, every part short enough to
    be a file name)."""
    return _name_problem(text) is None


def _name_problem(text: str) -> str | None:
    if _NAME_RE.match(text) is None:
        return f"use {NAME_RULE}"
    if "//" in text:
        return "'//' is not allowed in Git tags"
    if any(len(part.encode()) > MAX_NAME_PART_BYTES for part in text.split("/")):
        return f"each '/'-separated part must be at most {MAX_NAME_PART_BYTES} bytes"
    return None


def split_name(model: str) -> tuple[str | None, str]:
    """``dir/sub:name`` -> ``("dir/sub", "name")``; ``name`` -> ``(None, "name")``."""
    folder, sep, name = model.partition(SEPARATOR_IN_NAME)
    return (folder, name) if sep else (None, model)


def tag_prefix(model: str) -> str:
    """What a model's tags start with: its name, with the folder's ``:`` written ``=``."""
    return model.replace(SEPARATOR_IN_NAME, SEPARATOR_IN_TAG)


def _dirname_problem(folder: str, name: str) -> str | None:
    """Why ``folder`` cannot qualify a model name, or ``None``.

    GTO's pattern takes any run of ``[a-zA-Z0-9-_./]``, but only some of those reach a tag
    git stores and a ``dvc.yaml`` DVC finds: git refuses empty parts (``/abs``, ``a//b``),
    parts starting with ``.`` (``.``, ``..``, ``.hidden``), ``..`` anywhere, and parts ending
    in ``.lock`` or ``.``; a trailing ``/`` names the same folder as its absence (two names,
    two sets of tags, one ``dvc.yaml`` entry); and ``dir/dvc.yaml:name`` is DVC's alias of
    ``dir:name``, which GTO would tag apart."""

    def hint(problem: str) -> str:
        return f"{problem}: name the folder relative to the repository root, e.g. dir/sub:{name}"

    if not folder:
        return hint("nothing before ':'")
    if folder.startswith("/"):
        return hint("the folder is absolute")
    if folder.endswith("/"):
        return hint("the folder ends with '/'")
    if "//" in folder:
        return hint("the folder has an empty part ('//')")
    if re.fullmatch(DIRNAME_PATTERN, folder) is None:
        return hint(
            "the folder holds a character other than letters, digits, '-', '_', '.' and '/'"
        )
    parts = folder.split("/")
    if any(p.startswith(".") for p in parts) or ".." in folder:
        return hint("a part of the folder starts with '.' or holds '..'")
    if parts[-1] == "dvc.yaml":
        parent = posixpath.dirname(folder)
        return f"it names a dvc.yaml, not its folder: write {parent + ':' if parent else ''}{name}"
    # The last part is followed by "=name" inside tags, so only the others end a tag part.
    if any(p.endswith((".lock", ".")) for p in parts[:-1]):
        return hint("a part of the folder ends with '.lock' or '.'")
    if any(
        len(p.encode()) > MAX_NAME_PART_BYTES for p in tag_prefix(f"{folder}:{name}").split("/")
    ):
        return (
            f"each '/'-separated part of its tags must be at most {MAX_NAME_PART_BYTES} bytes: "
            "pick a shorter folder or name"
        )
    return None


def _model_name_problem(text: str) -> str | None:
    folder, name = split_name(text)
    if SEPARATOR_IN_NAME in name:
        return "it holds more than one ':' (write DIR:NAME)"
    problem = _name_problem(name)
    if problem is not None or folder is None:
        return problem
    return _dirname_problem(folder, name)


def is_model_name(text: str) -> bool:
    """True when ``text`` is a valid model name: ``name`` or ``dir/sub:name`` (see
    :func:`check_name`)."""
    return _model_name_problem(text) is None


def check_name(text: str, what: str = "model name") -> str:
    """Return model name ``text`` (``name`` or ``dir/sub:name``) or raise a one-line error
    naming the bad value."""
    problem = _model_name_problem(text)
    if problem is not None:
        shown = f"{text[:40]!r}…" if len(text) > 80 else repr(text)
        raise InvalidInputError(f"invalid {what} {shown}: {problem}")
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
    """Validate a stage name (the plain name rule: no folder)."""
    problem = _name_problem(text)
    if problem is not None:
        shown = f"{text[:40]!r}…" if len(text) > 80 else repr(text)
        raise InvalidInputError(f"invalid stage {shown}: {problem}")
    return text


def check_version(text: str) -> str:
    """Validate a ``vX.Y.Z`` version string."""
    if not is_version(text):
        raise InvalidInputError(
            f"invalid version {text!r}: use SemVer with a leading 'v', e.g. v1.2.0"
        )
    return text


def format_tag(tag: TagName) -> str:
    """The tag name for an event (inverse of :func:`parse_tag`)."""
    model = tag_prefix(tag.model)
    if tag.kind is EventKind.DEPRECATE:
        text = f"{model}@deprecated"
    elif tag.kind in (EventKind.REGISTER, EventKind.DEREGISTER):
        bang = "!" if tag.kind is EventKind.DEREGISTER else ""
        text = f"{model}@{tag.version}{bang}"
    else:
        bang = "!" if tag.kind is EventKind.UNASSIGN else ""
        text = f"{model}#{tag.stage}{bang}"
    if tag.counter is not None:
        text += f"#{tag.counter}"
    return text


def parse_tag(text: str) -> TagName | None:
    """Parse a tag name; ``None`` for tags that are not registry events (never an error)."""
    match = _TAG_RE.match(text)
    if match is None or match["created"]:
        return None
    model = match["name"].replace(SEPARATOR_IN_TAG, SEPARATOR_IN_NAME)
    if SEPARATOR_IN_NAME in model and not is_model_name(model):
        return None  # a folder git or DVC cannot use (GTO's loose pattern let it through)
    counter = int(match["counter"]) if match["counter"] is not None else None
    cancelled = match["cancel"] == "!"
    if match["deprecated"]:
        kind = EventKind.DEPRECATE
    elif match["version"]:
        kind = EventKind.DEREGISTER if cancelled else EventKind.REGISTER
    else:
        kind = EventKind.UNASSIGN if cancelled else EventKind.ASSIGN
    return TagName(model, kind, match["version"], match["stage"], counter)


def parse_reference(text: str) -> Reference:
    """Parse a user reference or raise a one-line error naming it."""
    match = _REF_RE.match(text)
    if match is None:
        # A folder-qualified name the pattern refused gets the name's own error.
        name = re.split("[@#]", text, maxsplit=1)[0]
        if SEPARATOR_IN_NAME in name:
            check_name(name)
        raise InvalidInputError(
            f"invalid reference {text!r}: use NAME, NAME@vX.Y.Z, NAME@latest or NAME#STAGE "
            "(NAME may be DIR:NAME for a model declared in DIR/dvc.yaml)"
        )
    if SEPARATOR_IN_NAME in match["name"]:
        check_name(match["name"])  # the folder's finer rules ('..', 'dvc.yaml'…)
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
    extra ``#*/**`` pattern.  Version strings never contain a slash.  The patterns hold no
    glob character but their ``*``s (names and folders have none), and the name ends where
    ``@`` or ``#`` starts, which no name or folder holds: ``churn`` never selects
    ``dir/x=churn``'s tags nor ``churn=x``'s, nor ``team/churn``'s, and the folder's ``/``
    are matched literally.  ``git ls-remote`` lets ``*`` cross ``/``, so by URL the extra
    pattern may also bring tags of no model: callers keep only the tags that parse to
    ``model`` (as :func:`modelreg.state.replay` does).
    """
    base = f"refs/tags/{tag_prefix(model)}"
    return [f"{base}@*", f"{base}#*", f"{base}#*/**"]

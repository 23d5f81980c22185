"""The error types callers branch on.

Every failure a user can cause or fix is a :class:`RegistryError`; the CLI turns it into a
one-line message on stderr and exit code 1.  Messages say what happened *and* what to do.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any


class RegistryError(Exception):
    """Base of every error modelreg reports to a user."""


class InvalidInputError(RegistryError):
    """A name, version, stage, reference, value or path given by the user is malformed."""


class NotFoundError(RegistryError):
    """A model, version, stage holder or file the user asked for does not exist."""


class ConflictError(RegistryError):
    """The request contradicts the registry's state (version not greater, tag exists, …)."""


class NotARegistryError(RegistryError):
    """The folder is not a Git repository, or a write needs `modelreg init` first."""


class InvalidIndexError(RegistryError):
    """``registry.yaml`` cannot be read: not text, invalid YAML or a value of the wrong shape.

    ``str()`` is the one line ``SOURCE[:LINE]: [dotted.loc: ]PROBLEM: HINT``; the parts are
    fields, so callers (``modelreg check``) never parse the message.  ``line`` is 1-based
    (``None`` when the problem has no place, an alias bomb say); ``loc`` is the path of keys
    (and list positions) from the top of the file to the bad value.
    """

    def __init__(
        self,
        problem: str,
        hint: str = "fix the file",
        *,
        source: str = "registry.yaml",
        line: int | None = None,
        loc: tuple[str | int, ...] = (),
    ) -> None:
        self.problem = problem
        self.hint = hint
        self.source = source
        self.line = line
        self.loc = loc
        super().__init__(str(self))

    @property
    def where(self) -> str:
        """``SOURCE:LINE``, or ``SOURCE`` when there is no line."""
        return f"{self.source}:{self.line}" if self.line else self.source

    @property
    def detail(self) -> str:
        """The message after ``SOURCE:LINE: ``: ``[dotted.loc: ]PROBLEM: HINT``."""
        dotted = ".".join(str(part) for part in self.loc)
        return f"{dotted + ': ' if dotted else ''}{self.problem}: {self.hint}"

    def __str__(self) -> str:
        return f"{self.where}: {self.detail}"

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its fields (pickle's default would pass str(self) as `problem`), so the
        # error crosses a process boundary (multiprocessing, a worker pool) intact.
        kwargs = {"source": self.source, "line": self.line, "loc": self.loc}
        return (_rebuild_invalid_index, (self.problem, self.hint, kwargs))


def _rebuild_invalid_index(problem: str, hint: str, kwargs: dict[str, Any]) -> InvalidIndexError:
    return InvalidIndexError(problem, hint, **kwargs)


class GitError(RegistryError):
    """A git command failed for a reason the user must resolve (identity, locks, remotes)."""


class DvcError(RegistryError):
    """DVC could not track, fetch or push an artifact."""


class IntegrityError(RegistryError):
    """Artifact bytes do not match the md5 recorded when the version was registered."""


class PolicyError(RegistryError):
    """A stage policy in ``registry.yaml`` forbids the change (``--force`` overrides)."""


class PublishError(RegistryError):
    """A write was made locally but could not be published; ``modelreg push`` retries it."""


if TYPE_CHECKING:
    IndexError_ = InvalidIndexError
    """Deprecated name of :class:`InvalidIndexError`."""


def __getattr__(name: str) -> type[InvalidIndexError]:
    # The old name, kept working with a warning (it shadowed the builtin IndexError).
    if name == "IndexError_":
        warnings.warn(
            "modelreg.errors.IndexError_ is deprecated: use InvalidIndexError",
            DeprecationWarning,
            stacklevel=2,
        )
        return InvalidIndexError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

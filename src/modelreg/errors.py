"""The error types callers branch on.

Every failure a user can cause or fix is a :class:`RegistryError`; the CLI turns it into a
one-line message on stderr and exit code 1.  Messages say what happened *and* what to do.
"""

from __future__ import annotations


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


class IndexError_(RegistryError):
    """`registry.yaml` cannot be read: invalid YAML or a value of the wrong shape."""


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

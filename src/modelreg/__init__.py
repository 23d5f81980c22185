"""modelreg: a Git-backed machine-learning model registry.

Versions and stages are GTO-compatible annotated Git tags; the bytes live in a DVC remote;
``registry.yaml`` is the reviewable index.

>>> import modelreg
>>> reg = modelreg.Registry(".")                                  # doctest: +SKIP
>>> reg.which("churn", "production").version                      # doctest: +SKIP
'v1.3.0'

Names are imported on first use (PEP 562), so ``import modelreg`` and a CLI query pay only
for the modules they touch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Registry": "modelreg.registry",
    "log_model": "modelreg.notebook.models",
    "load_model": "modelreg.notebook.models",
    "LibraryVersionWarning": "modelreg.notebook.models",
    "AppliedChange": "modelreg.records",
    "Comparison": "modelreg.records",
    "DvcRemoteChange": "modelreg.registration",
    "Event": "modelreg.records",
    "ModelDetail": "modelreg.records",
    "ModelSummary": "modelreg.records",
    "ModelVersion": "modelreg.records",
    "Proposal": "modelreg.records",
    "RebuiltIndex": "modelreg.records",
    "SearchRow": "modelreg.records",
    "StageChange": "modelreg.records",
    "StageSpan": "modelreg.records",
    "ConflictError": "modelreg.errors",
    "DvcError": "modelreg.errors",
    "GitError": "modelreg.errors",
    "InvalidIndexError": "modelreg.errors",
    "IntegrityError": "modelreg.errors",
    "InvalidInputError": "modelreg.errors",
    "NotARegistryError": "modelreg.errors",
    "NotFoundError": "modelreg.errors",
    "PolicyError": "modelreg.errors",
    "PublishError": "modelreg.errors",
    "RegistryError": "modelreg.errors",
}

__all__ = [
    "AppliedChange",
    "Comparison",
    "ConflictError",
    "DvcError",
    "DvcRemoteChange",
    "Event",
    "GitError",
    "IntegrityError",
    "InvalidIndexError",
    "InvalidInputError",
    "LibraryVersionWarning",
    "ModelDetail",
    "ModelSummary",
    "ModelVersion",
    "NotARegistryError",
    "NotFoundError",
    "PolicyError",
    "Proposal",
    "PublishError",
    "RebuiltIndex",
    "Registry",
    "RegistryError",
    "SearchRow",
    "StageChange",
    "StageSpan",
    "load_model",
    "log_model",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        # From the installed distribution's metadata, read only when asked for.
        from importlib.metadata import version

        return version("modelreg")
    if name == "IndexError_":
        # Deprecated, and not cached: every use warns.
        import warnings

        warnings.warn(
            "modelreg.IndexError_ is deprecated: use modelreg.InvalidIndexError",
            DeprecationWarning,
            stacklevel=2,
        )
        from modelreg.errors import InvalidIndexError

        return InvalidIndexError
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'modelreg' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:
    from modelreg.errors import (
        ConflictError,
        DvcError,
        GitError,
        IntegrityError,
        InvalidIndexError,
        InvalidInputError,
        NotARegistryError,
        NotFoundError,
        PolicyError,
        PublishError,
        RegistryError,
    )
    from modelreg.notebook.models import LibraryVersionWarning, load_model, log_model
    from modelreg.records import (
        AppliedChange,
        Comparison,
        Event,
        ModelDetail,
        ModelSummary,
        ModelVersion,
        Proposal,
        RebuiltIndex,
        SearchRow,
        StageChange,
        StageSpan,
    )
    from modelreg.registration import DvcRemoteChange
    from modelreg.registry import Registry

    IndexError_ = InvalidIndexError  # deprecated name, see __getattr__

"""modelreg: a Git-backed machine-learning model registry.

Versions and stages are GTO-compatible annotated Git tags; the bytes live in a DVC remote;
``registry.yaml`` is the reviewable index.

>>> import modelreg
>>> reg = modelreg.Registry(".")                                  # doctest: +SKIP
>>> reg.which("churn", "production").version                      # doctest: +SKIP
'v1.3.0'
"""

from modelreg.errors import (
    ConflictError,
    DvcError,
    GitError,
    IndexError_,
    IntegrityError,
    InvalidInputError,
    NotARegistryError,
    NotFoundError,
    PolicyError,
    RegistryError,
)
from modelreg.models import LibraryVersionWarning, load_model, log_model
from modelreg.records import (
    AppliedChange,
    Comparison,
    Event,
    ModelDetail,
    ModelSummary,
    ModelVersion,
    StageChange,
)
from modelreg.registry import Registry

__all__ = [
    "load_model",
    "log_model",
    "AppliedChange",
    "Comparison",
    "ConflictError",
    "DvcError",
    "Event",
    "GitError",
    "IndexError_",
    "IntegrityError",
    "LibraryVersionWarning",
    "InvalidInputError",
    "ModelDetail",
    "ModelSummary",
    "ModelVersion",
    "NotARegistryError",
    "NotFoundError",
    "PolicyError",
    "Registry",
    "RegistryError",
    "StageChange",
]

"""The model card: ``model.yaml`` beside the model file in the artifact folder.

It records what is needed to load the model safely and to know what it expects: the flavor
and file format, the library versions it was saved with, the Python version, the input
signature inferred from an example, the types skops must trust, and the metrics and params.
Its summary (without metrics and params, which the registration record already holds) also
travels in the registration tag, so ``show`` and ``compare`` read it without fetching bytes.
"""

from __future__ import annotations

import platform
from importlib import metadata
from typing import Any

CARD_FILE = "model.yaml"


def library_versions(names: list[str]) -> dict[str, str]:
    """Installed versions of the distributions ``names`` (those that are installed)."""
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def python_version() -> str:
    return platform.python_version()


def infer_signature(example: Any) -> dict[str, Any] | None:
    """Feature names, dtypes and shape of an input example (DataFrame, array, or list)."""
    if example is None:
        return None
    columns = getattr(example, "columns", None)
    dtypes = getattr(example, "dtypes", None)
    shape = getattr(example, "shape", None)
    if columns is not None and dtypes is not None:  # a pandas DataFrame
        return {
            "type": "dataframe",
            "features": [str(c) for c in columns],
            "dtypes": [str(d) for d in dtypes],
            "shape": [None, *list(shape)[1:]] if shape is not None else None,
        }
    if shape is not None and hasattr(example, "dtype"):  # a numpy array
        return {"type": "ndarray", "dtype": str(example.dtype), "shape": [None, *shape[1:]]}
    if isinstance(example, list | tuple) and example:
        first = example[0]
        width = len(first) if isinstance(first, list | tuple) else None
        return {"type": "list", "shape": [None, width] if width is not None else [None]}
    return {"type": type(example).__name__}

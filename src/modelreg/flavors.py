"""How models of each kind are saved and loaded.

| flavor    | objects                         | file           | loading                      |
| --------- | ------------------------------- | -------------- | ---------------------------- |
| `sklearn` | scikit-learn estimators, pipes  | `model.skops`  | skops, recorded types only   |
| `joblib`  | the same, on request            | `model.joblib` | joblib (pickle: runs code)   |
| `path`    | a file or folder path           | as is          | the fetched path             |

skops is the default for scikit-learn because its format does not execute code on load.
Optional dependencies are imported only here, and a missing one is a clear error.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelreg.errors import InvalidInputError

FLAVORS = ("sklearn", "joblib", "path")
INSTALL_HINT = "pip install 'modelreg[sklearn]'"


def _require(module: str, flavor: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise InvalidInputError(
            f"the {flavor!r} flavor needs the {module.split('.')[0]!r} package: {INSTALL_HINT}"
        ) from None


def is_sklearn(obj: object) -> bool:
    """A scikit-learn estimator or pipeline, recognized without importing scikit-learn."""
    return any(cls.__module__.split(".")[0] == "sklearn" for cls in type(obj).__mro__)


def detect(obj: object, requested: str | None) -> str:
    """The flavor for ``obj``: the requested one if it fits, or the one that knows it."""
    if requested is not None and requested not in FLAVORS:
        raise InvalidInputError(
            f"unknown flavor {requested!r}: supported flavors are {', '.join(FLAVORS)}"
        )
    if isinstance(obj, str | os.PathLike):
        if requested not in (None, "path"):
            raise InvalidInputError(f"a path can only use the 'path' flavor, not {requested!r}")
        return "path"
    if is_sklearn(obj):
        if requested == "path":
            raise InvalidInputError("the 'path' flavor takes a file or folder path, not a model")
        return requested or "sklearn"
    raise InvalidInputError(
        f"no flavor knows {type(obj).__module__}.{type(obj).__qualname__} objects: supported "
        "are scikit-learn estimators and pipelines (flavors 'sklearn', 'joblib') and file or "
        "folder paths ('path')"
    )


@dataclass(frozen=True)
class Saved:
    """What a flavor wrote: the file's name and the card facts it knows."""

    file: str
    libraries: dict[str, str]
    trusted_types: list[str]


def save(obj: Any, flavor: str, folder: Path) -> Saved:
    """Serialize ``obj`` into ``folder``."""
    from modelreg.card import library_versions

    if flavor == "sklearn":
        sio = _require("skops.io", flavor)
        path = folder / "model.skops"
        sio.dump(obj, path)
        untrusted = sorted(sio.get_untrusted_types(file=path))
        libs = library_versions(["scikit-learn", "skops", "numpy", "scipy"])
        return Saved(path.name, libs, untrusted)
    if flavor == "joblib":
        joblib = _require("joblib", flavor)
        path = folder / "model.joblib"
        joblib.dump(obj, path)
        return Saved(path.name, library_versions(["scikit-learn", "joblib", "numpy"]), [])
    source = Path(obj)
    if not source.exists():
        raise InvalidInputError(f"path {os.fspath(obj)!r} does not exist")
    target = folder / source.name
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copyfile(source, target)
    return Saved(source.name, {}, [])


def load(folder: Path, card: dict[str, Any]) -> Any:
    """Deserialize the model in a fetched, md5-verified artifact ``folder``."""
    flavor = card.get("flavor")
    path = folder / str(card.get("file", ""))
    if flavor == "sklearn":
        sio = _require("skops.io", flavor)
        trusted = list(card.get("trusted_types") or [])
        unknown = sorted(set(sio.get_untrusted_types(file=path)) - set(trusted))
        if unknown:
            raise InvalidInputError(
                f"refusing to load {path.name}: it needs types the model card does not trust "
                f"({', '.join(unknown)}); re-save the model with log_model if you trust them"
            )
        return sio.load(path, trusted=trusted)
    if flavor == "joblib":
        return _require("joblib", flavor).load(path)
    if flavor == "path":
        return path
    raise InvalidInputError(f"the model card names unknown flavor {flavor!r}: {FLAVORS}")

"""How models of each kind are saved and loaded.

| flavor    | objects                         | file           | loading                           |
| --------- | ------------------------------- | -------------- | --------------------------------- |
| `sklearn` | scikit-learn estimators, pipes  | `model.skops`  | skops: its defaults + `trusted`   |
| `joblib`  | the same, on request            | `model.joblib` | joblib, only with `allow_pickle`  |
| `path`    | a file or folder path           | as is          | the fetched path                  |

skops is the default for scikit-learn because its format does not execute code on load.
What to trust is the caller's decision, never the artifact's: the card that travels with the
model is written by whoever registered it.  Optional dependencies are imported only here,
and a missing one is a clear error.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from collections.abc import Sequence
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
    from modelreg.notebook.card import library_versions

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


def load(path: Path, flavor: str, what: str, *, trusted: Sequence[str], allow_pickle: bool) -> Any:
    """Deserialize the model file ``path`` of a fetched, md5-verified artifact.

    ``trusted`` is the caller's list of type names skops may load beyond its defaults;
    ``allow_pickle`` is the caller's consent to run a pickle.  ``what`` names the artifact
    (``iris v1.0.0``) in errors.
    """
    if flavor == "sklearn":
        return _load_skops(path, what, trusted)
    if flavor == "joblib":
        if not allow_pickle:
            raise InvalidInputError(
                f"{what}: {path.name} is a pickle (joblib), which runs code when loaded: pass "
                "allow_pickle=True only if you trust whoever can register models in this registry"
            )
        return _require("joblib", flavor).load(path)
    if flavor == "path":
        return path
    raise InvalidInputError(f"{what}: unknown flavor {flavor!r}: known are {', '.join(FLAVORS)}")


def _load_skops(path: Path, what: str, trusted: Sequence[str]) -> Any:
    sio = _require("skops.io", "sklearn")
    untrusted_found = _require("skops.io.exceptions", "sklearn").UntrustedTypesFoundException

    try:
        # Asked of the verified file itself: the card's ``trusted_types`` is not consulted.
        found = sio.get_untrusted_types(file=path)
    except (
        zipfile.BadZipFile,
        EOFError,
        LookupError,
        ValueError,
        TypeError,
        AttributeError,
        RecursionError,
        NotImplementedError,
    ) as e:
        # Listing types only parses the file (nothing is imported or built), and the file
        # comes from whoever registered it: every way a crafted one breaks the parser
        # (a bad zip, a missing schema.json, a schema of the wrong shape) is reported alike.
        raise InvalidInputError(
            f"{what}: {path.name} is not a skops file this skops can read ({_one_line(e)}): "
            "register a version saved with log_model"
        ) from None
    untrusted = sorted(set(found) - set(trusted))
    if untrusted:
        raise _untrusted(path, what, untrusted)
    try:
        return sio.load(path, trusted=list(trusted))
    except untrusted_found as e:
        # skops's audit during load refused a type the listing above let through (they
        # should agree); its message spans lines, so only its first line is kept.
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InvalidInputError(f"{what}: skops refused {path.name}: {first}") from None


def _untrusted(path: Path, what: str, types: list[str]) -> InvalidInputError:
    # ``repr`` keeps type names read from the file on one line and ready to paste.
    return InvalidInputError(
        f"{what}: {path.name} needs types skops does not trust by default: check them, "
        f"then pass trusted={types!r} to load_model if you trust them"
    )


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 120 else text[:117] + "..."

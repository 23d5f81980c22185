"""The model card: ``model.yaml`` beside the model file in the artifact folder.

It records what is needed to load the model and to know what it expects: the flavor and
file name, the library versions it was saved with, the Python version, the input signature
inferred from an example, the types skops does not trust by default, and the metrics and
params.  Its summary (without metrics and params, which the registration record already
holds) also travels in the registration tag, so ``show`` and ``compare`` read it without
fetching bytes.

Whoever can register a version writes its card, so ``load_model`` treats a card as untrusted
input: :func:`read` takes from it only the flavor, the file name and the library versions,
each checked, and never lets it decide what to trust (``trusted_types`` is information for
people, shown by ``modelreg show``; the caller of ``load_model`` decides).
"""

from __future__ import annotations

import os
import platform
import stat
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

from modelreg import yamlio
from modelreg.errors import InvalidInputError

CARD_FILE = "model.yaml"
MAX_CARD_BYTES = 1 << 20
"""A card is a few hundred bytes; a bound keeps a hostile one from exhausting memory."""


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


@dataclass(frozen=True)
class Card:
    """What ``load_model`` takes from a card: each value checked, nothing else."""

    flavor: str
    file: str
    libraries: dict[str, str]


def read(folder: Path, what: str) -> Card | None:
    """The checked card of the verified artifact ``folder``; ``None`` when it has none.

    ``what`` names the artifact (``iris v1.0.0``) in errors.  Anything malformed is a
    one-line :class:`InvalidInputError`, never another exception.
    """
    import yaml

    from modelreg.notebook.flavors import FLAVORS

    data = _read_bounded(folder / CARD_FILE, what)
    if data is None:
        return None
    try:
        card = yamlio.load(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise _bad(what, f"is not UTF-8 text (byte {e.start})") from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise _bad(what, f"is not valid YAML ({where}{_one_line(e.problem)})") from None
    except yaml.YAMLError as e:
        raise _bad(what, f"is not valid YAML ({_one_line(e)})") from None
    except RecursionError:
        # Deeply nested flow collections exhaust PyYAML's recursive composer.
        raise _bad(what, "is not valid YAML (nested too deeply)") from None
    if not isinstance(card, dict):
        raise _bad(what, f"must be a mapping, not {_kind(card)}")
    flavor = card.get("flavor")
    if not isinstance(flavor, str) or flavor not in FLAVORS:
        raise _bad(what, f"names flavor {_short(flavor)}: known flavors are {', '.join(FLAVORS)}")
    file = card.get("file")
    if not isinstance(file, str) or not file:
        raise _bad(what, f"has file {_short(file)}: expected the model file's name")
    return Card(flavor, file, _libraries(card.get("libraries"), what))


def model_file(folder: Path, card: Card, what: str) -> Path:
    """The card's ``file`` inside the verified ``folder``, or a one-line error.

    The name must be a plain relative path that stays inside ``folder`` through real
    folders (no symbolic link at any level) to a regular file, or to a folder for the
    ``path`` flavor: a card must not make ``load_model`` read bytes the md5 did not cover.
    """
    name = card.file
    pure = PurePosixPath(name)
    if (
        "\0" in name
        or "\\" in name
        or pure.is_absolute()
        or os.path.isabs(name)
        or ".." in pure.parts
        or not pure.parts
    ):
        raise _bad(
            what, f"has file {_short(name)}: expected a relative path inside the artifact folder"
        )
    path, mode = folder, 0
    for part in pure.parts:
        path = path / part
        try:
            mode = path.lstat().st_mode
        except OSError:
            raise _bad(what, f"has file {_short(name)}, which is not in the artifact") from None
        if stat.S_ISLNK(mode):
            raise _bad(what, f"has file {_short(name)}, which is a symbolic link in the artifact")
    if not path.resolve().is_relative_to(folder.resolve()):  # belt and braces
        raise _bad(what, f"has file {_short(name)}, which is outside the artifact folder")
    if not (stat.S_ISREG(mode) or (card.flavor == "path" and stat.S_ISDIR(mode))):
        raise _bad(what, f"has file {_short(name)}, which is not a regular file")
    return path


def _read_bounded(path: Path, what: str) -> bytes | None:
    """The card's bytes (at most :data:`MAX_CARD_BYTES`); ``None`` when there is no card."""
    # O_NOFOLLOW: a card that is a symbolic link would be read from outside the artifact.
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    if path.is_symlink():
        raise _bad(what, "is a symbolic link, not a file")
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise _bad(what, f"cannot be read ({e.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise _bad(what, "is not a regular file")
        data = f.read(MAX_CARD_BYTES + 1)
    if len(data) > MAX_CARD_BYTES:
        raise _bad(what, f"is over the {MAX_CARD_BYTES // (1 << 20)} MB limit for a model card")
    return data


def _libraries(value: object, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str | int | float) and not isinstance(v, bool)
        for k, v in value.items()
    ):
        return {k: str(v) for k, v in value.items()}
    raise _bad(what, "has libraries that are not a mapping of package names to versions")


def _bad(what: str, problem: str) -> InvalidInputError:
    return InvalidInputError(
        f"{what}: its {CARD_FILE} {problem}: register a version with a valid card "
        "(log_model writes one)"
    )


def _one_line(value: object) -> str:
    """A parser's message (which may quote the card) on one short line."""
    text = " ".join(str(value).split())
    return text if len(text) <= 120 else text[:117] + "..."


def _kind(value: object) -> str:
    return "an empty document" if value is None else f"a {type(value).__name__}"


def _short(value: object) -> str:
    """``repr`` of a value from an untrusted card, cut so the message stays short."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

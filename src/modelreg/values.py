"""Metrics and params from the command line (``K=V``) and from JSON/YAML files.

Nested keys are flattened with dots, as DVC does for ``metrics.json`` (``{"a": {"b": 1}}``
becomes ``a.b``).  Metrics must be numbers; params may be any scalar.
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Iterable, Mapping, Set
from pathlib import Path
from typing import Any

import yaml

from modelreg import yamlio
from modelreg.errors import InvalidInputError
from modelreg.records import Scalar

MAX_FILE_BYTES = 10 * 1024 * 1024
"""The largest metrics or params file read (a real one is a few kilobytes)."""

MAX_VALUES = 10_000
"""The fewest values a walk may visit before :func:`check_expansion` refuses the data."""

# Containers a YAML safe load can produce (``!!omap`` gives tuples, ``!!set`` a set) and
# that ``flatten``/``repr`` walk: each is counted, however many times it is shared.
_NESTED = (Mapping, list, tuple, Set)


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def expansion_limit(text: str) -> int:
    """The walk budget for data parsed from ``text``: never less than :data:`MAX_VALUES`.

    Each value inside a YAML or JSON collection takes at least two characters of text (itself
    and a separator or bracket: ``[1,1]``, ``{a,b}``), so a document without aliases holds at
    most ``len(text) // 2`` of them and never reaches this limit, however large it is; one
    that does reach it expands through aliases, and refusing it there keeps the work
    proportional to the size of the text instead of exponential in it.
    """
    return max(MAX_VALUES, len(text) // 2)


def expands_beyond(data: object, limit: int) -> bool:
    """Whether walking ``data`` visits more than ``limit`` values (the top level not counted).

    A container reached twice (a YAML alias) is counted twice, as ``flatten`` or ``repr``
    would walk it twice; a container that contains itself is reached again and again until
    the count passes ``limit``, so the walk always ends.  It is iterative, so depth costs no
    stack, and it stops as soon as the count is over.
    """
    count = 0
    stack: list[object] = [data] if isinstance(data, _NESTED) else []
    while stack:
        node = stack.pop()
        children: Any = node.values() if isinstance(node, Mapping) else node
        count += len(children)
        if count > limit:
            return True
        stack.extend(child for child in children if isinstance(child, _NESTED))
    return False


def check_expansion(data: object, limit: int = MAX_VALUES, source: str = "input") -> None:
    """A one-line :class:`InvalidInputError` when ``data`` walks to more than ``limit`` values.

    PyYAML builds an alias bomb ("billion laughs") quickly because aliases share one object,
    but any walk over the result (``flatten``, an error message's ``repr``) is exponential.
    """
    if expands_beyond(data, limit):
        raise InvalidInputError(
            f"{source} expands to more than {limit:,} values (YAML aliases?): "
            "give plain values without anchors and aliases"
        )


def _number(key: str, value: Any, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InvalidInputError(f"metric {key}={value!r} from {source} is not a number")
    try:
        number = float(value)
    except ValueError:
        raise InvalidInputError(
            f"metric {key}={value!r} from {source} is not a number: give e.g. {key}=0.93"
        ) from None
    if not math.isfinite(number):
        raise InvalidInputError(f"metric {key}={value!r} from {source} is not a finite number")
    return number


def _scalar(text: str) -> Scalar:
    """Interpret a ``--param`` value the way YAML would (``1`` int, ``0.1`` float, ``true``)."""
    try:
        value = yamlio.load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, bool | int | float | str):
        return value
    return text


def parse_pairs(pairs: Iterable[str], what: str) -> dict[str, str]:
    """Split ``K=V`` options; a one-line error for anything else."""
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"invalid --{what} {pair!r}: use KEY=VALUE")
        if key.strip() in result and result[key.strip()] != value.strip():
            raise InvalidInputError(
                f"--{what} {key.strip()} given twice ({result[key.strip()]!r} and "
                f"{value.strip()!r}): give it once"
            )
        result[key.strip()] = value.strip()
    return result


def _read_bounded(path: str | Path) -> bytes:
    """The bytes of a regular file of at most :data:`MAX_FILE_BYTES`; one-line errors else.

    ``O_NONBLOCK`` keeps the open of a FIFO from waiting for a writer, and ``fstat`` on the
    opened descriptor (not ``stat`` on the name, which could change in between) refuses
    FIFOs, devices such as ``/dev/zero`` and folders.  The read stops one byte past the
    limit rather than trusting the size ``fstat`` reports, which a growing file outruns.
    """
    shown = repr(str(path))
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise InvalidInputError(f"cannot read {shown}: {e.strerror}") from e
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InvalidInputError(f"{shown} is not a regular file: give a JSON or YAML file")
        chunks: list[bytes] = []
        left = MAX_FILE_BYTES + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as e:
        raise InvalidInputError(f"cannot read {shown}: {e.strerror}") from e
    finally:
        os.close(fd)
    if left <= 0:
        raise InvalidInputError(
            f"{shown} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB: "
            "metrics and params files must be smaller"
        )
    return b"".join(chunks)


def load_file(path: str | Path) -> dict[str, Any]:
    """A flattened JSON or YAML mapping from a regular file of at most 10 MB."""
    shown = repr(str(path))
    raw = _read_bounded(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidInputError(
            f"{shown} is not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start}): "
            "save it as UTF-8"
        ) from None
    try:
        data = json.loads(text) if Path(path).suffix == ".json" else yamlio.load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        raise InvalidInputError(f"{shown} is not valid JSON or YAML: fix the file") from e
    except RecursionError:
        raise InvalidInputError(f"{shown} is nested too deeply: fix the file") from None
    if not isinstance(data, Mapping):
        raise InvalidInputError(f"{shown} must hold a mapping of names to values")
    check_expansion(data, expansion_limit(text), shown)
    try:
        return flatten(data)
    except RecursionError:
        raise InvalidInputError(f"{shown} is nested too deeply: fix the file") from None


def metrics_from(
    values: Mapping[str, Any] | None = None,
    pairs: Iterable[str] = (),
    files: Iterable[str | Path] = (),
) -> dict[str, float]:
    """Metrics from files, then ``K=V`` pairs, then a mapping (later ones win)."""
    result: dict[str, float] = {}
    for f in files:
        for key, value in load_file(f).items():
            result[key] = _number(key, value, str(f))
    for key, value in parse_pairs(pairs, "metric").items():
        result[key] = _number(key, value, "--metric")
    check_expansion(values or {}, MAX_VALUES, "metrics")
    for key, value in flatten(values or {}).items():
        result[key] = _number(key, value, "metrics")
    return result


def params_from(
    values: Mapping[str, Any] | None = None,
    pairs: Iterable[str] = (),
    files: Iterable[str | Path] = (),
) -> dict[str, Scalar]:
    """Params from files, then ``K=V`` pairs, then a mapping (later ones win)."""
    result: dict[str, Scalar] = {}
    for f in files:
        for key, value in load_file(f).items():
            result[key] = _param(key, value, str(f))
    for key, value in parse_pairs(pairs, "param").items():
        result[key] = _scalar(value)
    check_expansion(values or {}, MAX_VALUES, "params")
    for key, value in flatten(values or {}).items():
        result[key] = _param(key, value, "params")
    return result


def _param(key: str, value: Any, source: str) -> Scalar:
    if isinstance(value, bool | int | float | str):
        return value
    if value is None:
        return "null"
    if isinstance(value, list) and all(isinstance(v, bool | int | float | str) for v in value):
        return json.dumps(value)
    raise InvalidInputError(f"param {key}={value!r} from {source} is not a scalar value")

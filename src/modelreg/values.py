"""Metrics and params from the command line (``K=V``) and from JSON/YAML files.

Nested keys are flattened with dots, as DVC does for ``metrics.json`` (``{"a": {"b": 1}}``
becomes ``a.b``).  Metrics must be numbers; params may be any scalar.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from modelreg.errors import InvalidInputError
from modelreg.records import Scalar


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
        value = yaml.safe_load(text)
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
        result[key.strip()] = value.strip()
    return result


def load_file(path: str | Path) -> dict[str, Any]:
    """A flattened JSON or YAML mapping from a file."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as e:
        raise InvalidInputError(f"cannot read {str(path)!r}: {e.strerror}") from e
    try:
        data = json.loads(text) if file.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        raise InvalidInputError(f"{str(path)!r} is not valid JSON or YAML: fix the file") from e
    if not isinstance(data, Mapping):
        raise InvalidInputError(f"{str(path)!r} must hold a mapping of names to values")
    return flatten(data)


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

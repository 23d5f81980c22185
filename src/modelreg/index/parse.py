"""Index text → a validated :class:`~modelreg.index.schema.Index`, or one line of error.

The error names the file, the line, the dotted path of the bad value and what is wrong with
it in modelreg's words (``registry.yaml:6: models.churn.versions.v1.0.0.size: expected an
integer, got 'big': fix the file``); pydantic's own multi-line report is never shown.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from modelreg import yamlio
from modelreg.errors import InvalidIndexError
from modelreg.index.files import read_index_text
from modelreg.index.header import INDEX_FILE
from modelreg.index.layout import split_models
from modelreg.index.lines import line_of
from modelreg.index.schema import Index
from modelreg.values import expands_beyond, expansion_limit

_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def parse_index(text: str, source: str = INDEX_FILE, line_offset: int = 0) -> Index:
    """Parse and validate index text; raise a one-line :class:`InvalidIndexError`.

    ``line_offset`` is added to reported line numbers when ``text`` is a slice of the file.
    """
    try:
        data = yamlio.load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise InvalidIndexError(
            f"invalid YAML ({problem})",
            source=source,
            line=mark.line + 1 + line_offset if mark is not None else None,
        ) from e
    except RecursionError:
        raise InvalidIndexError("nested too deeply", source=source) from None
    # Before any walk: validating, or the repr in an error message, would take exponential
    # time on an alias bomb.  A large index is legitimate (1000 models x 100 versions is
    # millions of values), so the budget grows with the text instead of being fixed; see
    # expansion_limit for why no alias-free file can reach it.
    limit = expansion_limit(text)
    if expands_beyond(data, limit):
        raise InvalidIndexError(
            f"expands to more than {limit:,} values (YAML aliases?)",
            "remove the anchors and aliases, or restore the file from Git",
            source=source,
        )
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidIndexError("expected a mapping at the top level", source=source)
    try:
        return Index.model_validate(data)
    except ValidationError as e:
        loc, problem = _first_problem(e.errors(include_url=False))
        line = line_of(text, loc)
        raise InvalidIndexError(
            problem, source=source, line=line + line_offset if line else None, loc=loc
        ) from None


def _first_problem(errors: list[ErrorDetails]) -> tuple[tuple[str | int, ...], str]:
    """The location and modelreg's wording of the error to report.

    The first one pydantic found, except that a key missing from a mapping that also has
    unknown keys is reported as the unknown key: ``tagg:`` is a typo of ``tag:``, and the
    message lists the keys allowed.
    """
    chosen = errors[0]
    if chosen["type"] == "missing":
        parent = chosen["loc"][:-1]
        for error in errors:
            if error["type"] == "extra_forbidden" and error["loc"][:-1] == parent:
                chosen = error
                break
    loc = tuple(chosen["loc"])
    kind = chosen["type"]
    if kind == "missing":
        return loc[:-1], f"missing key {str(loc[-1])!r}"
    if kind == "extra_forbidden":
        allowed = ", ".join(_fields_at(loc[:-1]))
        return loc, f"unknown key {str(loc[-1])!r} (allowed: {allowed})"
    if kind in _EXPECTED:
        return loc, f"expected {_EXPECTED[kind]}, got {chosen['input']!r}"
    # Our own validators' errors are already in our words; anything else is pydantic's
    # one-line summary, lower-cased to read as the rest.
    message = chosen["msg"]
    return loc, message[:1].lower() + message[1:]


def _fields_at(loc: tuple[str | int, ...]) -> list[str]:
    """The keys allowed in the mapping at ``loc`` (a model's fields, in their order)."""
    hint: Any = Index
    for key in loc:
        if isinstance(hint, type) and issubclass(hint, BaseModel):
            hint = hint.model_fields[str(key)].annotation
        else:
            while typing.get_origin(hint) in (typing.Union, types.UnionType, typing.Annotated):
                hint = next(a for a in typing.get_args(hint) if a is not type(None))
            hint = typing.get_args(hint)[-1]  # dict[K, V] -> V, list[T] -> T
    assert isinstance(hint, type) and issubclass(hint, BaseModel)
    return list(hint.model_fields)


def parse_header(text: str) -> Index | None:
    """The ``stages:`` and ``policy:`` of index text whose model blocks may be broken (no
    models), or ``None`` when the header itself does not parse."""
    layout = split_models(text)
    if layout is None:
        return None
    head, _, tail = layout
    try:
        header = parse_index(head + tail)
    except InvalidIndexError:
        return None
    return Index(branch=header.branch, stages=header.stages, policy=header.policy)


def load_index(root: Path) -> Index | None:
    """The repository's index, or ``None`` when it has none."""
    text = read_index_text(root)
    return None if text is None else parse_index(text)

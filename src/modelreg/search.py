"""The search grammar: an expression in, a predicate over :class:`SearchRow` out.  Pure.

An expression is terms separated by spaces, all of which must hold::

    accuracy>=0.9 label=tabular stage=production registered>2026-10-01

A term is ``KEY OP VALUE`` with ``OP`` one of ``= != < <= > >=``.  ``KEY`` is a field
(``model``, ``label``, ``stage``, ``author``, ``flavor``, ``registered``), ``metric.NAME``,
``param.NAME``, or a bare ``NAME`` that the rows have as a metric or as a param (not both:
then the prefix is required).  A value with spaces is wrapped in double quotes.

The browser runs the same grammar (``assets/search.js``, for the static site); every rule
here has its twin there, and ``tests/search_cases.json`` holds both to the same answers and
the same error messages.  So: no ``repr`` in messages, ``[0-9]`` rather than ``\\d``, spaces
are exactly " \\t\\n\\r", and numbers are compared as floats.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from modelreg.errors import InvalidInputError
from modelreg.records import SearchRow
from modelreg.timespec import FORMS, epoch_seconds

OPERATORS = ("!=", "<=", ">=", "=", "<", ">")
ORDERING = ("<", "<=", ">", ">=")
FIELDS = ("model", "label", "stage", "author", "flavor", "registered")
"""Keys that name a field of the row; ``metric.X`` reaches a metric with such a name."""

_SPACES = " \t\n\r"
_OPERATOR_CHARS = "=!<>"
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_FORM = "write KEY OP VALUE with OP one of = != < <= > >= (e.g. accuracy>=0.9)"

Predicate = Callable[[SearchRow], bool]


@dataclass(frozen=True)
class Term:
    """One term as typed, split: ``text`` is the whole term, ``value`` has no quotes."""

    text: str
    key: str
    op: str
    value: str

    def error(self, why: str) -> InvalidInputError:
        return InvalidInputError(f"invalid search term '{self.text}': {why}")


def _bad(text: str, why: str) -> InvalidInputError:
    return InvalidInputError(f"invalid search term '{text}': {why}")


def _is_number(text: str) -> bool:
    return _NUMBER.fullmatch(text) is not None


def tokens(expr: str) -> list[str]:
    """Split at spaces outside double quotes; an unclosed quote is an error."""
    found: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in expr:
        if ch == '"':
            quoted = not quoted
        if ch in _SPACES and not quoted:
            if current:
                found.append("".join(current))
            current = []
        else:
            current.append(ch)
    if quoted:
        raise _bad("".join(current), "a quote is not closed")
    if current:
        found.append("".join(current))
    return found


def _split(text: str) -> Term:
    """``KEY OP VALUE`` of one term, or a one-line error saying what is wrong with it."""
    at = next((i for i, ch in enumerate(text) if ch in _OPERATOR_CHARS), -1)
    if at < 0:
        raise _bad(text, _FORM)
    op = text[at : at + 2] if text[at : at + 2] in OPERATORS else text[at]
    if op not in OPERATORS:  # a lone '!'
        raise _bad(text, _FORM)
    key, raw = text[:at], text[at + len(op) :]
    if not key:
        raise _bad(text, f"the name before '{op}' is missing: {_FORM}")
    if '"' in key:
        raise _bad(text, f"quotes go around a value, not a name: {_FORM}")
    value = raw
    if raw.startswith('"'):
        if len(raw) < 2 or not raw.endswith('"') or '"' in raw[1:-1]:
            raise _bad(text, 'a quoted value is the whole value (e.g. author="Ada Lovelace")')
        value = raw[1:-1]
    elif '"' in raw:
        raise _bad(text, 'a quoted value is the whole value (e.g. author="Ada Lovelace")')
    elif raw[:1] and raw[0] in _OPERATOR_CHARS:
        raise _bad(text, f"'{raw}' is not a value: one operator per term")
    if not value:
        raise _bad(text, f"the value after '{op}' is missing")
    return Term(text, key, op, value)


def _check_syntax(term: Term) -> None:
    """What can be judged without the rows: prefixes, field operators, values' forms."""
    key = term.key
    if key in ("metric.", "param."):
        raise term.error(f"the name after '{key}' is missing")
    if key.startswith("metric.") and not _is_number(term.value):
        raise term.error(f"'{term.value}' is not a number: metric {key[7:]} compares with numbers")
    if key == "registered":
        if epoch_seconds(term.value) is None:
            raise term.error(f"'{term.value}' is not a time: use {FORMS}")
    elif key in FIELDS:
        if term.op in ORDERING:
            raise term.error(f"{key} takes = or !=")
    elif term.op in ORDERING and not _is_number(term.value):
        raise term.error(f"'{term.value}' is not a number: '{term.op}' compares numbers")


@dataclass(frozen=True)
class Query:
    """A parsed expression; :meth:`select` applies it to rows."""

    terms: tuple[Term, ...]

    def predicate(self, rows: Sequence[SearchRow]) -> Predicate:
        """Resolve bare names against the metrics and params ``rows`` have, and build the
        test every term must pass."""
        metric_names = {k for row in rows for k in row.metrics}
        param_names = {k for row in rows for k in row.params}
        tests = [_test(_resolve(t, metric_names, param_names), t) for t in self.terms]
        return lambda row: all(test(row) for test in tests)

    def select(self, rows: Sequence[SearchRow]) -> list[SearchRow]:
        """The rows every term holds for, in their order."""
        test = self.predicate(rows)
        return [row for row in rows if test(row)]


def parse(expr: str) -> Query:
    """Parse an expression; the first malformed term is a one-line error naming it.

    An empty expression matches every row.
    """
    terms = tuple(_split(text) for text in tokens(expr))
    for term in terms:
        _check_syntax(term)
    return Query(terms)


def select(expr: str, rows: Sequence[SearchRow]) -> list[SearchRow]:
    """The rows ``expr`` matches (``parse(expr).select(rows)``)."""
    return parse(expr).select(rows)


def _resolve(term: Term, metric_names: set[str], param_names: set[str]) -> tuple[str, str]:
    """(kind, name): kind is a field's name, ``metric`` or ``param``."""
    key = term.key
    if key in FIELDS:
        return key, key
    if key.startswith("metric."):
        return "metric", key[7:]
    if key.startswith("param."):
        return "param", key[6:]
    is_metric, is_param = key in metric_names, key in param_names
    if is_metric and is_param:
        raise term.error(
            f"'{key}' is both a metric and a param: write metric.{term.text} or param.{term.text}"
        )
    if is_metric:
        if not _is_number(term.value):
            raise term.error(f"'{term.value}' is not a number: metric {key} compares with numbers")
        return "metric", key
    if is_param:
        return "param", key
    raise term.error(f"no version has a metric or param named '{key}': check the spelling")


def _compare(op: str, a: float, b: float) -> bool:
    if op == "=":
        return a == b
    if op == "!=":
        return a != b
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def _param_equals(actual: object, value: str) -> bool:
    if isinstance(actual, bool):
        return value.lower() == ("true" if actual else "false")
    if isinstance(actual, int | float):
        return _is_number(value) and float(actual) == float(value)
    return actual == value


def _test(resolved: tuple[str, str], term: Term) -> Predicate:
    kind, name = resolved
    op, value = term.op, term.value
    negate = op == "!="
    if kind == "model":
        return lambda row: (row.model == value) != negate
    if kind == "label":
        return lambda row: (value in row.labels) != negate
    if kind == "stage":
        return lambda row: (value in row.stages) != negate
    if kind == "flavor":
        return lambda row: (row.flavor == value) != negate
    if kind == "author":
        needle = value.lower()
        return lambda row: (needle in row.author.lower()) != negate
    if kind == "registered":
        when = epoch_seconds(value)
        assert when is not None  # checked by parse
        return lambda row: _compare(op, row.registered_at.timestamp(), when)
    if kind == "metric":
        number = float(value)

        def metric_test(row: SearchRow) -> bool:
            actual = row.metrics.get(name)
            return actual is not None and _compare(op, float(actual), number)

        return metric_test

    def param_test(row: SearchRow) -> bool:
        # A version without the param matches neither = nor !=: there is nothing to compare.
        if name not in row.params:
            return False
        actual = row.params[name]
        if op in ORDERING:
            numeric = isinstance(actual, int | float) and not isinstance(actual, bool)
            return numeric and _compare(op, float(actual), float(value))
        return _param_equals(actual, value) != negate

    return param_test

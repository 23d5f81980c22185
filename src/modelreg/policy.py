"""Stage policies: what a version must satisfy to enter a stage.  Pure functions.

``registry.yaml`` declares them per stage::

    policy:
      production:
        requires: staging                  # must have held staging before (or a list: all)
        metrics: {accuracy: ">=0.9", latency_ms: "<50"}
        allow_empty: false                 # the stage may not be left without a version
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from modelreg.errors import InvalidInputError

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}
_THRESHOLD = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


@dataclass(frozen=True)
class Threshold:
    """``metric OP value``, e.g. ``accuracy >= 0.9``."""

    metric: str
    op: str
    value: float

    def holds(self, actual: float) -> bool:
        return _OPS[self.op](actual, self.value)

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.value:g}"


def parse_threshold(metric: str, text: str) -> Threshold:
    """Parse ``">=0.9"``; a one-line error naming the bad value otherwise."""
    match = _THRESHOLD.match(str(text))
    if match is None or not math.isfinite(float(match[2])):
        raise InvalidInputError(
            f'invalid threshold {metric}: {text!r}: use an operator and a number, e.g. ">=0.9"'
        )
    return Threshold(metric, match[1], float(match[2]))


@dataclass(frozen=True)
class Violation:
    """One policy rule a version breaks for a stage."""

    rule: str  # "requires", "metrics"
    message: str


def evaluate(
    stage: str,
    version: str,
    *,
    requires: Sequence[str],
    thresholds: Mapping[str, str],
    metrics: Mapping[str, float],
    held_stages: set[str],
) -> list[Violation]:
    """Every rule ``version`` breaks to enter ``stage`` (empty when it may); ``requires``
    lists the stages it must all have held."""
    problems = []
    for needed in requires:
        if needed not in held_stages:
            problems.append(
                Violation("requires", f"{version} must hold {needed!r} before {stage!r}")
            )
    for metric, text in sorted(thresholds.items()):
        rule = parse_threshold(metric, text)
        actual = metrics.get(metric)
        if actual is None:
            problems.append(
                Violation("metrics", f"{version} has no metric {metric!r} (needs {rule})")
            )
        elif not rule.holds(actual):
            problems.append(
                Violation("metrics", f"{version} has {metric}={actual:g}, needs {rule}")
            )
    return problems

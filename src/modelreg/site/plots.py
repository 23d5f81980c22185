"""SVG plots drawn in Python: readable without JavaScript, no library, no request.

A trend plot draws one metric across a model's versions in registration order: one point per
version that has the metric, a ring for every stage a version ever held, and the current
holder of each stage drawn large and labelled.  A timeline draws, per stage, which version
held it over time.  Every mark has a ``<title>`` (a tooltip, and text for screen readers) and
the pages show the same numbers in tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from modelreg.site.html import attr, text

PALETTE = ["#2166ac", "#e08214", "#b2182b", "#1b7837", "#762a83", "#8c510a", "#01665e"]
VERSION_TONES = ["#4e79a7", "#59a14f", "#9c755f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7"]


def stage_colors(stages: Sequence[str]) -> dict[str, str]:
    """A color per stage, by its place in the promotion order."""
    return {stage: PALETTE[i % len(PALETTE)] for i, stage in enumerate(stages)}


def number(value: float) -> str:
    """A metric as the CLI prints it (six significant digits)."""
    return f"{value:.6g}"


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Point:
    """One version on a trend plot."""

    version: str
    value: float | None
    href: str
    active: bool = True
    ever_held: list[str] = field(default_factory=list)
    holds: list[str] = field(default_factory=list)


WIDTH, HEIGHT = 560, 210
LEFT, RIGHT, TOP, BOTTOM = 56, 26, 26, 40


def trend(metric: str, points: Sequence[Point], colors: dict[str, str]) -> str:
    """The trend plot of ``metric`` (an ``<svg>`` element)."""
    values = [p.value for p in points if p.value is not None]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if high == low:
        low, high = low - (abs(low) * 0.05 or 0.5), high + (abs(high) * 0.05 or 0.5)
    pad = (high - low) * 0.08
    low, high = low - pad, high + pad
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = len(points)

    def x(i: int) -> float:
        return LEFT + (inner_w / 2 if n == 1 else inner_w * i / (n - 1))

    def y(v: float) -> float:
        return TOP + inner_h * (high - v) / (high - low)

    parts = [
        f'<svg class="trend" data-metric="{attr(metric)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{attr(metric)} across '
        f'{n} versions, in registration order">'
    ]
    for frac in (0.0, 0.5, 1.0):
        v = low + pad + (high - low - 2 * pad) * frac
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_n(y(v))}" y2="{_n(y(v))}"/>'
            f'<text x="{LEFT - 6}" y="{_n(y(v) + 4)}" text-anchor="end">{text(number(v))}</text>'
        )
    parts.append(
        f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + inner_h}" '
        f'y2="{TOP + inner_h}"/>'
    )
    step = max(1, round(n / 8))
    for i, p in enumerate(points):
        # Every step-th version, and the last unless a label sits just before it.
        if (i % step == 0 and n - 1 - i >= step / 2) or i == n - 1:
            parts.append(
                f'<text x="{_n(x(i))}" y="{TOP + inner_h + 16}" text-anchor="middle">'
                f"{text(p.version)}</text>"
            )
    line = " ".join(
        f"{_n(x(i))},{_n(y(p.value))}" for i, p in enumerate(points) if p.value is not None
    )
    if line:
        parts.append(f'<polyline class="line" points="{line}"/>')
    labels: list[str] = []
    for i, p in enumerate(points):
        if p.value is None:
            continue
        cx, cy = _n(x(i)), _n(y(p.value))
        for ring, stage in enumerate(p.ever_held):
            parts.append(
                f'<circle class="held" data-stage="{attr(stage)}" cx="{cx}" cy="{cy}" '
                f'r="{6 + 2.5 * ring}" fill="none" stroke="{colors.get(stage, "#666")}" '
                'stroke-width="1.5"/>'
            )
        for stage in p.holds:
            parts.append(
                f'<circle class="holder" data-stage="{attr(stage)}" '
                f'data-version="{attr(p.version)}" cx="{cx}" cy="{cy}" r="5.5" '
                f'fill="{colors.get(stage, "#666")}"/>'
            )
            labels.append(stage)
        tip = f"{p.version}: {metric} = {number(p.value)}"
        if p.holds:
            tip += f"; holds {', '.join(p.holds)}"
        if p.ever_held:
            tip += f"; ever held {', '.join(p.ever_held)}"
        if not p.active:
            tip += " (deregistered)"
        gone = "" if p.active else " gone"
        parts.append(
            f'<a href="{attr(p.href)}"><circle class="pt{gone}" data-version="{attr(p.version)}" '
            f'data-value="{attr(repr(p.value))}" cx="{cx}" cy="{cy}" r="3">'
            f"<title>{text(tip)}</title></circle></a>"
        )
        if p.holds:
            parts.append(
                f'<text class="label" x="{cx}" y="{_n(y(p.value) - 9 - 2.5 * len(p.ever_held))}" '
                f'text-anchor="middle">{text(", ".join(p.holds))}</text>'
            )
    if not values:
        parts.append(
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">no values</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Bar:
    """One version's hold of one stage on the timeline."""

    stage: str
    version: str
    since: datetime
    until: datetime | None
    how: str
    ended: str | None
    tip: str
    tone: str


TL_WIDTH, ROW = 900, 30
TL_LEFT, TL_RIGHT, TL_TOP = 90, 20, 10
MARKS = {"rollback": "\u21ba", "handback": "\u21a9", "revive": "\u21bb"}


def timeline(stages: Sequence[str], bars: Sequence[Bar], start: datetime, end: datetime) -> str:
    """Which version held each stage over time (an ``<svg>`` element)."""
    span = max((end - start).total_seconds(), 1.0)
    inner = TL_WIDTH - TL_LEFT - TL_RIGHT
    right_edge = TL_LEFT + inner
    height = TL_TOP + ROW * len(stages) + 34

    def x(when: datetime) -> float:
        return TL_LEFT + inner * (when - start).total_seconds() / span

    parts = [
        f'<svg class="timeline" viewBox="0 0 {TL_WIDTH} {height}" width="{TL_WIDTH}" '
        f'height="{height}" role="img" aria-label="which version held each stage over time">'
    ]
    for row, stage in enumerate(stages):
        top = TL_TOP + ROW * row
        parts.append(
            f'<text class="label" x="{TL_LEFT - 8}" y="{top + 19}" text-anchor="end">'
            f"{text(stage)}</text>"
            f'<line class="grid" x1="{TL_LEFT}" x2="{right_edge}" y1="{top + ROW}" '
            f'y2="{top + ROW}"/>'
        )
        for bar in (b for b in bars if b.stage == stage):
            x0 = x(bar.since)
            x1 = x(bar.until) if bar.until is not None else right_edge
            w = max(x1 - x0, 2.0)
            open_end = ' data-current="true"' if bar.until is None else ""
            parts.append(
                f'<rect class="span" data-stage="{attr(stage)}" data-version="{attr(bar.version)}" '
                f'data-how="{attr(bar.how)}"{open_end} x="{_n(x0)}" y="{top + 5}" '
                f'width="{_n(w)}" height="{ROW - 10}" rx="3" fill="{bar.tone}" '
                f'stroke="#fff"><title>{text(bar.tip)}</title></rect>'
            )
            if w > 8 * len(bar.version) + 6:
                parts.append(
                    f'<text class="on-bar" x="{_n(x0 + 4)}" y="{top + 19}">'
                    f"{text(bar.version)}</text>"
                )
            mark = MARKS.get(bar.how)
            if mark:
                parts.append(
                    f'<text class="label" x="{_n(x0)}" y="{top + 4}" text-anchor="middle">'
                    f"{mark}</text>"
                )
            if bar.ended == "demote" and bar.until is not None:
                parts.append(
                    f'<text class="label" x="{_n(x1)}" y="{top + 4}" text-anchor="middle">'
                    "\u25bc</text>"
                )
    axis_y = TL_TOP + ROW * len(stages) + 4
    parts.append(
        f'<line class="axis" x1="{TL_LEFT}" x2="{right_edge}" y1="{axis_y}" y2="{axis_y}"/>'
    )
    for frac, anchor in ((0.0, "start"), (0.5, "middle"), (1.0, "end")):
        when = start + (end - start) * frac
        parts.append(
            f'<text x="{_n(TL_LEFT + inner * frac)}" y="{axis_y + 16}" text-anchor="{anchor}">'
            f"{text(when.strftime('%Y-%m-%d %H:%M'))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)

"""Turning records into text: aligned tables for people, JSON for scripts."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TextIO

from modelreg.records import to_jsonable

if TYPE_CHECKING:
    from modelreg.records import (
        Comparison,
        Event,
        ModelDetail,
        ModelSummary,
        ModelVersion,
        SearchRow,
    )
    from modelreg.registration import DvcRemoteChange


def _escape_table() -> dict[int, str]:
    # Every C0 control (a cell is one line, so \n, \r and \t too), DEL and every C1 control
    # (U+0080-U+009F: a terminal may read U+009B as CSI), plus the characters that reorder
    # or break displayed text: bidi marks, embeddings, overrides and isolates ("Trojan
    # Source"), the Arabic letter mark and the Unicode line and paragraph separators.
    codes = [*range(0x20), *range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F, 0x2028, 0x2029]
    codes += [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
    return {c: f"\\x{c:02x}" if c <= 0xFF else f"\\u{c:04x}" for c in codes}


_ESCAPES = _escape_table()


def safe(text: object) -> str:
    r"""``text`` with every control character shown as an escape (ESC becomes ``\x1b``).

    Tag messages, names, descriptions, metrics and model cards come from repositories whose
    authors the reader may not trust; written raw, an escape sequence can clear the screen,
    retitle the window or hide text, and a bidi override can make a value read backwards.
    """
    return str(text).translate(_ESCAPES)


def to_json(data: Any) -> str:
    """``--json`` output: the same record the table shows."""
    return json.dumps(to_jsonable(data), indent=2)


def utc(when: datetime, seconds: bool = True) -> str:
    """A time for a table, in UTC and marked so (``2026-11-20 10:02:11Z``): tags carry
    their authors' offsets, and one log mixes people in several time zones."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)  # records hold UTC; a naive one is too
    return when.astimezone(timezone.utc).strftime(
        "%Y-%m-%d %H:%M:%SZ" if seconds else "%Y-%m-%d %H:%MZ"
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain aligned table (no colour, no box drawing: it must paste into a PR)."""
    headers = [safe(h) for h in headers]  # stage names and versions: from the repository
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in cells:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def _cell(value: object) -> str:
    """One table cell, or one value of a detail view: a single line, escaped."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return safe(value)


def _metrics(metrics: dict[str, float], limit: int = 3) -> str:
    items = [f"{safe(k)}={_cell(v)}" for k, v in sorted(metrics.items())[:limit]]
    if len(metrics) > limit:
        items.append("…")
    return " ".join(items)


def model_list(rows: Sequence[ModelSummary], stages: Sequence[str]) -> str:
    """``modelreg list``."""
    if not rows:
        return "No models registered yet: `modelreg register NAME PATH` adds one."
    headers = ["model", "latest", *stages, "metrics"]
    body = []
    for row in rows:
        name = f"{row.name} (deprecated)" if row.deprecated else row.name
        body.append([name, row.latest, *(row.stages.get(s) for s in stages), _metrics(row.metrics)])
    return table(headers, body)


def model_detail(detail: ModelDetail) -> str:
    """``modelreg show NAME``."""
    # Every value below comes from the repository: each one goes through safe() or _cell().
    lines = [safe(detail.name) + (" (deprecated)" if detail.deprecated else "")]
    if detail.description:
        lines.append(f"  {safe(detail.description)}")
    if detail.labels:
        lines.append(f"  labels: {safe(', '.join(detail.labels))}")
    stages = safe(", ".join(f"{s}={v}" for s, v in detail.stages.items())) or "none"
    lines.append(f"  latest: {safe(detail.latest or '-')}   stages: {stages}")
    lines.append("")
    rows = [
        [
            v.version + ("" if v.active else " (deregistered)"),
            ",".join(v.stages) or None,
            utc(v.registered_at, seconds=False),
            _metrics(v.metrics),
        ]
        for v in detail.versions
    ]
    lines.append(table(["version", "stages", "registered", "metrics"], rows))
    return "\n".join(lines)


def version_detail(mv: ModelVersion) -> str:
    """``modelreg show NAME@vX.Y.Z``: one version's full record."""
    # Every value below comes from the repository (tag, tag message, DVC file, model card).
    lines = [
        f"{safe(mv.name)} {safe(mv.version)}" + ("" if mv.active else " (deregistered)"),
        f"  tag:        {safe(mv.tag)}",
        f"  commit:     {safe(mv.commit)}",
        f"  stages:     {safe(', '.join(mv.stages)) or '-'}",
        f"  registered: {utc(mv.registered_at)} by {safe(mv.registered_by)}",
        f"  artifact:   {safe(mv.path or '-')}",
        f"  md5:        {safe(mv.md5 or '-')}"
        + (f" ({safe(mv.hash_name)}, a DVC 2 pointer)" if mv.md5 and mv.hash_name != "md5" else ""),
        f"  size:       {safe(mv.size if mv.size is not None else '-')} bytes",
    ]
    if mv.metrics:
        lines.append("  metrics:")
        lines += [f"    {safe(k)}: {_cell(v)}" for k, v in sorted(mv.metrics.items())]
    if mv.params:
        lines.append("  params:")
        lines += [f"    {safe(k)}: {_cell(v)}" for k, v in sorted(mv.params.items())]
    if mv.card:
        lines += _card(mv.card)
    return "\n".join(lines)


def _card(card: dict[str, Any]) -> list[str]:
    # The card comes from the repository (a tag message): every line is built whole and then
    # passed through safe(), and a field of an unexpected type is shown as it is rather
    # than failing the whole `show`.
    lines = [f"flavor:     {card.get('flavor')} ({card.get('file')})"]
    libraries = card.get("libraries") or {}
    if libraries:
        libs = (
            ", ".join(f"{k} {v}" for k, v in sorted(libraries.items()))
            if isinstance(libraries, dict)
            else str(libraries)
        )
        lines.append(f"libraries:  {libs}; Python {card.get('python')}")
    signature = card.get("signature")
    if signature and not isinstance(signature, dict):
        lines.append(f"signature:  {signature}")
    elif signature:
        features = signature.get("features")
        if isinstance(features, list) and features:
            dtypes = signature.get("dtypes")
            pairs = zip(features, dtypes if isinstance(dtypes, list) else [], strict=False)
            lines.append("signature:  " + ", ".join(f"{f}: {d}" for f, d in pairs))
        else:
            shape = signature.get("shape")
            lines.append(
                f"signature:  {signature.get('type')} {signature.get('dtype', '')} "
                f"shape {shape}".replace("  ", " ")
            )
    trusted = card.get("trusted_types") or []
    if trusted:
        shown = ", ".join(map(str, trusted)) if isinstance(trusted, list) else str(trusted)
        lines.append(f"trusts:     {shown}")
    return ["  model card:", *(f"    {safe(line)}" for line in lines)]


def events(items: Sequence[Event]) -> str:
    """``modelreg history``."""
    if not items:
        return "No events."
    rows = [
        [
            utc(e.timestamp),
            e.model,
            e.kind.value,
            e.version,
            e.stage,
            e.author,
            e.headline,
            # The -m note, the reason for the change: one cell, its lines joined.
            " / ".join(line.strip() for line in e.note.splitlines() if line.strip()),
        ]
        for e in items
    ]
    headers = ["time", "model", "event", "version", "stage", "author", "message", "note"]
    return table(headers, rows)


def dvc_remote_change(c: DvcRemoteChange) -> str:
    """``modelreg init --dvc-remote URL`` on an existing registry: what changed."""
    if c.previous_url is None:
        said = f"Default DVC remote {c.name} is now {c.url}"
    elif c.previous_url != c.url:
        said = f"Default DVC remote {c.name}: {c.previous_url} -> {c.url}"
    else:
        said = f"Default DVC remote {c.name} stays {c.url}"
    changes = []
    for key in sorted(set(c.options) | set(c.previous_options)):
        old, new = c.previous_options.get(key), c.options.get(key)
        if old != new:
            changes.append(f"{key}: {old or '(unset)'} -> {new or '(unset)'}")
    if c.local:
        changes.append(f"{', '.join(c.local)} set in .dvc/config.local (not committed)")
    if c.dropped_local:
        changes.append(
            f"{', '.join(c.dropped_local)} removed from .dvc/config.local (set for the old URL)"
        )
    if changes:
        said += f" ({'; '.join(changes)})"
    if c.commit is not None:
        return f"{said}; committed .dvc/config ({c.commit[:12]})"
    return f"{said}; nothing to commit" if not c.local else said


def comparison(c: Comparison) -> str:
    """``modelreg compare``."""
    lines = [f"{safe(c.name)}: {safe(c.a)} -> {safe(c.b)}"]
    rows: list[list[object]] = []
    for kind, deltas in (("metric", c.metrics), ("param", c.params)):
        for d in deltas:
            if d.delta is not None:
                delta = f"{d.delta:+.6g}"
            elif d.a is None or d.b is None:
                delta = "added" if d.a is None else "removed"
            else:
                delta = "" if d.a == d.b else "changed"
            rows.append([kind, d.key, d.a, d.b, delta])
    if rows:
        lines.append(table(["", "key", c.a, c.b, "delta"], rows))
    if c.signature_changed is not None:
        lines.append("signature: " + ("changed" if c.signature_changed else "unchanged"))
    if c.artifact_changed is None and c.md5_a and c.md5_b:
        lines.append("artifact: unknown (one md5 is DVC 2's md5-dos2unix, the other DVC 3's)")
    elif c.artifact_changed is None:
        lines.append("artifact: unknown (no md5 recorded)")
    else:
        lines.append("artifact: " + ("changed" if c.artifact_changed else "identical bytes"))
    return "\n".join(lines)


PROGRESS_MIN_BYTES = 1 << 20
"""Artifacts at least this large show a progress line on a terminal."""


class ProgressMeter:
    """A one-line ``get`` progress display on stderr for artifacts of at least
    :data:`PROGRESS_MIN_BYTES`, redrawn at most ten times a second."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.total = 0
        self.done_bytes = 0
        self._last = 0.0
        self._shown = False

    def __call__(self, nbytes: int, total: int | None) -> None:
        self.done_bytes += nbytes
        if total is None or total < PROGRESS_MIN_BYTES:
            return
        self.total = total
        now = time.monotonic()
        if now - self._last >= 0.1 or self.done_bytes >= total:
            self._last = now
            self._draw()

    def _draw(self) -> None:
        self._shown = True
        pct = 100 * self.done_bytes / self.total if self.total else 100.0
        mb = 1 << 20
        self.stream.write(f"\r  {pct:5.1f}%  {self.done_bytes / mb:.1f} / {self.total / mb:.1f} MB")
        self.stream.flush()

    def done(self) -> None:
        """End the line, if a line was drawn."""
        if self._shown:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()


# Search and --at renderers.


def search_rows(rows: Sequence[SearchRow]) -> str:
    """``modelreg search``: one line per matching version, with all its metrics."""
    if not rows:
        return "No versions match."
    body = [
        [
            row.model,
            row.version,
            ",".join(row.stages) or None,
            row.registered_at.strftime("%Y-%m-%d %H:%M"),
            _metrics(row.metrics, limit=len(row.metrics)),
        ]
        for row in rows
    ]
    return table(["model", "version", "stages", "registered", "metrics"], body)

"""The text of modelreg's tag messages.

A message opens with a human line (``Register churn v1.3.0``), then the user's note if any,
then one machine-readable line holding the version's immutable record as JSON.  JSON (not
YAML) because rebuilding an index reads thousands of these and JSON parses fast.
"""

from __future__ import annotations

from modelreg.records import ArtifactRecord

RECORD_PREFIX = "modelreg-record: "
OP_TRAILER = "Modelreg-Write: "
"""Last line of every commit a modelreg write makes: what the write did, as JSON."""


def compose(headline: str, note: str | None = None, record: ArtifactRecord | None = None) -> str:
    """Build a tag or commit message."""
    parts = [headline.strip()]
    if note and note.strip():
        parts.append(note.strip())
    if record is not None:
        parts.append(RECORD_PREFIX + record.to_json())
    return "\n\n".join(parts) + "\n"


def parse_record(message: str) -> ArtifactRecord | None:
    """The record carried by a registration tag; ``None`` for tags others wrote."""
    for line in message.splitlines():
        if line.startswith(RECORD_PREFIX):
            try:
                return ArtifactRecord.from_json(line[len(RECORD_PREFIX) :])
            except ValueError:
                return None
    return None


def human_text(message: str) -> str:
    """The message without the machine-readable line, for history output."""
    lines = [ln for ln in message.splitlines() if not ln.startswith(RECORD_PREFIX)]
    return "\n".join(lines).strip()

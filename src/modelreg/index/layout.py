"""``registry.yaml``'s text as modelreg lays it out: a header (``stages:``, ``policy:``, the
comment lines above them), one block per model under ``models:``, and a tail.

Writes parse and re-serialise only the blocks they change (:mod:`modelreg.index.editor`);
the merge driver compares blocks as text.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import yaml

from modelreg import yamlio

# Patterns anchored on "\n" rather than re.M's "^": ten times faster on a large index.
_MODELS_LINE = re.compile(r"^models:[ \t]*(\{\}[ \t]*)?$", re.M)
_TOP_LEVEL_LINE = re.compile(r"\n[^ \t#\n]")
_BLOCK_KEY_LINE = re.compile(r"\n  [^ \t#\n][^\n]*")
_PREAMBLE = re.compile(r"(?:#[^\n]*\n|[ \t]*\n)*")


class _Key(NamedTuple):
    start: int  # offset of the key line in the models body
    text: str


Layout = tuple[str, dict[str, tuple[int, str]], str]
"""Header text, each model's (1-based start line, block text), and the text after them."""


def preamble(text: str) -> str:
    """The comment (and blank) lines at the top of ``text``: the ``$schema`` line, notes.

    Every write keeps them, including those that rewrite the whole file."""
    found = _PREAMBLE.match(text)
    return found.group() if found else ""


def split_models(text: str) -> Layout | None:
    """Split index text into header, per-model blocks (with 1-based start line) and tail.

    ``None`` when the layout is not the one modelreg writes.  Regular expressions find the
    few lines that matter, so a multi-megabyte index is split without a Python-level loop
    over its lines.
    """
    found = list(_MODELS_LINE.finditer(text))
    if not found:
        if re.search(r"^models\b", text, re.M):
            return None
        return (text if text.endswith("\n") or not text else text + "\n"), {}, ""
    if len(found) > 1:
        return None
    at = found[0]
    head = text[: at.start()]
    body_start = at.end() + 1 if at.end() < len(text) else at.end()
    if at.group(1):  # models: {}
        return head, {}, text[body_start:]
    nxt = _TOP_LEVEL_LINE.search(text, body_start - 1)
    body_end = nxt.start() + 1 if nxt else len(text)
    body = text[body_start:body_end]
    first_line = head.count("\n") + 2  # the line after `models:`
    blocks: dict[str, tuple[int, str]] = {}
    # A match starts at the newline before a key line; with "\n" prefixed to the body, that
    # newline's offset is the key line's offset in the body.
    keys = [_Key(m.start(), m.group()[1:]) for m in _BLOCK_KEY_LINE.finditer("\n" + body)]
    if body.strip() and (not keys or body[: keys[0].start].strip()):
        return None  # content before the first model key: not our layout
    line, pos = first_line, 0
    for i, key in enumerate(keys):
        name = _block_key(key.text.strip())
        if name is None or name in blocks:
            return None
        end = keys[i + 1].start if i + 1 < len(keys) else len(body)
        line += body.count("\n", pos, key.start)
        pos = key.start
        blocks[name] = (line, body[key.start : end])
    return head, blocks, text[body_end:]


def _block_key(stripped: str) -> str | None:
    """The model name of a ``  name:`` line, or ``None`` if the line is anything else."""
    try:
        data = yamlio.load(stripped)
    except yaml.YAMLError:
        return None
    if isinstance(data, dict) and len(data) == 1:
        key, value = next(iter(data.items()))
        if value is None and isinstance(key, str | int | float):
            return str(key)
    return None

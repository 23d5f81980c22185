"""``registry.yaml``'s text as modelreg lays it out: a header (``stages:``, ``policy:``, the
comment lines above them), one block per model under ``models:``, and a tail.

Writes parse and re-serialise only the blocks they change (:mod:`modelreg.index.editor`);
the merge driver compares blocks as text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from modelreg.index.header import is_plain_word

# Patterns anchored on "\n" (or matched at offsets str.find gives) rather than re.M's "^":
# on a 3 MB index a multiline-anchored scan costs 15 ms, str.find a fraction of one.
_MODELS_LINE = re.compile(r"models:[ \t]*(\{\}[ \t]*)?(?=\n|\Z)")
_MODELS_WORD = re.compile(r"models\b")
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
    starts = list(_lines_starting(text, "models"))
    found = [m for m in (_MODELS_LINE.match(text, i) for i in starts) if m is not None]
    if not found:
        if any(_MODELS_WORD.match(text, i) for i in starts):
            return None
        return (text if text.endswith("\n") or not text else text + "\n"), {}, ""
    if len(found) > 1:
        return None
    at = found[0]
    head = text[: at.start()]
    body_start = at.end() + 1 if at.end() < len(text) else at.end()
    if at.group(1):  # models: {}
        return head, {}, text[body_start:]
    # The first top-level line ends the models section; between, the model key lines
    # ("  name:").  Both patterns match from the newline before their line, and scan the
    # text in place (slicing a multi-megabyte body out of it would copy it).
    nxt = _TOP_LEVEL_LINE.search(text, body_start - 1)
    body_end = nxt.start() + 1 if nxt else len(text)
    found_keys = _BLOCK_KEY_LINE.finditer(text, body_start - 1, body_end)
    keys = [_Key(m.start() + 1, m.group()[1:]) for m in found_keys]
    first = keys[0].start if keys else body_end
    if text[body_start:first].strip():
        return None  # content before the first model key: not our layout
    blocks: dict[str, tuple[int, str]] = {}
    line, pos = head.count("\n") + 2, body_start  # the line after `models:`
    for i, key in enumerate(keys):
        name = _block_key(key.text.strip())
        if name is None or name in blocks:
            return None
        end = keys[i + 1].start if i + 1 < len(keys) else body_end
        line += text.count("\n", pos, key.start)
        pos = key.start
        blocks[name] = (line, text[key.start : end])
    return head, blocks, text[body_end:]


def _lines_starting(text: str, prefix: str) -> Iterator[int]:
    """The offsets of the lines of ``text`` that start with ``prefix``."""
    if text.startswith(prefix):
        yield 0
    at = text.find("\n" + prefix)
    while at != -1:
        yield at + 1
        at = text.find("\n" + prefix, at + 1)


def _block_key(stripped: str) -> str | None:
    """The model name of a ``  name:`` line, or ``None`` if the line is anything else."""
    # Most model names: read without a YAML parse of each key line (or YAML's import).
    if stripped.endswith(":") and is_plain_word(stripped[:-1]):
        return stripped[:-1]
    import yaml

    from modelreg import yamlio

    try:
        data = yamlio.load(stripped)
    except yaml.YAMLError:
        return None
    if isinstance(data, dict) and len(data) == 1:
        key, value = next(iter(data.items()))
        if value is None and isinstance(key, str | int | float):
            return str(key)
    return None

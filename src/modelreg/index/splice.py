"""One model's block of ``registry.yaml``, edited as text: its ``stages:`` line rewritten in
place, or a version added among the others, without parsing or re-serialising its versions.

A promotion changes one line of a block that may hold thousands of versions.  Finding that
line must not be fooled by a hand-written block: a multi-line quoted description can hold a
line that looks like ``stages:``, and a repeated key means YAML keeps the last.  Two finders
agree on every block (a property test holds them to it):

- a line scan, for blocks in the form modelreg writes: every line is one whole
  ``key: value`` (a quoted value closes on its line, a flow collection too), so no line
  continues another and the model's keys are exactly the lines at its indentation.  It
  needs no YAML parser (the import alone is ~13 ms of a promote);
- YAML's parser events, for any other block that still has a one-line ``stages:`` entry.

The new line is formatted directly when every stage and version is a word YAML reads as
itself; otherwise the YAML dumper writes it, as :func:`~modelreg.index.serialise.dump_model_block`
would.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import NamedTuple

from modelreg.index.header import is_bare_word
from modelreg.semver import sort_key

# One whole line of a block, as modelreg (or a careful hand) writes it: blank, a comment, or
# `key:` / `key: value` whose value ends on this line.  Quoted scalars must close here, flow
# collections must be one level deep and close here; a block scalar (`|`, `>`), an anchor,
# alias or tag, or anything else falls to the YAML finder.
_SQ = r"'(?:[^'\n]|'')*'"
_DQ = r'"(?:[^"\\\n]|\\[^\n])*"'
_KEY = rf"(?:[A-Za-z0-9_][A-Za-z0-9_.+/-]*|{_SQ}|{_DQ})"
_FLOW_ITEM = rf"(?:{_SQ}|{_DQ}|[^'\"{{}}\[\]\n#])"
_FLOW = rf"(?:\{{{_FLOW_ITEM}*\}}|\[{_FLOW_ITEM}*\])"
_PLAIN = r"(?:[^\s'\"&*!|>%@`{}\[\]#,?:-]|-\S)[^\n]*"
_VALUE = rf"(?:{_SQ}|{_DQ}|{_FLOW}|{_PLAIN})"
_WHOLE_LINE = re.compile(rf"[ ]*(?:#[^\n]*)?|[ ]*{_KEY}:(?:[ ]+{_VALUE})?(?:[ ]+#[^\n]*)?")
# The stages line exactly as the dumper writes it: a one-line flow mapping, no comment.
_STAGES_LINE = re.compile(rf"    stages: {_FLOW}")

# The dumper folds longer lines (modelreg.index.dumper.WIDTH, equal by test; importing it
# here would import YAML).
_WIDTH = 100


def replace_stages(block: str, stages: Mapping[str, str], stage_order: list[str]) -> str | None:
    """``block`` (one model's lines under ``models:``) with its ``stages:`` line rewritten
    for ``stages`` and every other byte kept; ``None`` unless that line is as
    :func:`~modelreg.index.serialise.dump_model_block` writes it (one line, a flow mapping,
    no anchor or comment).  The result equals re-serialising the whole block."""
    lines = block.split("\n")
    found = scan_stages_line(lines)
    if found is None:
        found = event_stages_line(block, lines)
    if found is None:
        return None
    ordered = in_stage_order(stages, stage_order)
    new = _format_stages_line(ordered)
    if new is None:
        from modelreg.index.dumper import Flow, dump_at

        new = dump_at(("models", "m"), {"stages": Flow(ordered)})
    return "\n".join(lines[:found]) + "\n" + new + "\n".join(lines[found + 1 :])


def in_stage_order(stages: Mapping[str, str], stage_order: list[str]) -> list[tuple[str, str]]:
    """``stages``' items in promotion order; stages the order does not list come after,
    alphabetically."""
    rank = {s: i for i, s in enumerate(stage_order)}
    return sorted(stages.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))


def scan_stages_line(lines: list[str]) -> int | None:
    """The index of the model's ``stages:`` line, found without YAML; ``None`` when the
    block is not one whose every line is whole (see the module docstring), or when its
    ``stages:`` entry is not one line as modelreg writes it."""
    if not all(_WHOLE_LINE.fullmatch(line) for line in lines[1:]):
        return None
    # Every line is whole, so a line at the model's indentation is one of its keys; a line
    # left of it would end the block, which split_models never leaves inside one.
    named = None
    for i in range(1, len(lines)):
        line = lines[i]
        if line.startswith("    ") and line[4:5] not in ("", " ", "#"):
            if line[4] in "'\"":
                return None  # a quoted key: it may be `stages` too
            if line.startswith("stages:", 4):
                if named is not None:
                    return None  # the key twice: YAML keeps the last
                named = i
        elif not line.startswith("     ") and line.strip() and not line.lstrip().startswith("#"):
            return None
    if named is None or _STAGES_LINE.fullmatch(lines[named]) is None:
        return None
    return named


def event_stages_line(block: str, lines: list[str]) -> int | None:
    """The index, in ``lines`` (``block``'s), of the model's one-line ``stages:`` entry, as
    YAML's parser events place it."""
    import yaml

    from modelreg import yamlio

    try:
        events = list(yaml.parse("models:\n" + block, Loader=yamlio.SafeLoader))
    except yaml.YAMLError:
        return None
    # Stream, document, `models:` mapping and key, its mapping, the model's key, the model's
    # own mapping: then the model's keys and values until that mapping ends.
    if len(events) < 7 or not isinstance(events[6], yaml.MappingStartEvent):
        return None
    keys: list[tuple[yaml.ScalarEvent, list[yaml.Event]]] = []
    i, depth = 7, 0
    while i < len(events) and not isinstance(events[i], yaml.MappingEndEvent):
        key = events[i]
        if not isinstance(key, yaml.ScalarEvent):
            return None
        value: list[yaml.Event] = []
        i += 1
        while True:
            event = events[i]
            value.append(event)
            i += 1
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            if depth == 0:
                break
        keys.append((key, value))
    named = [(key, value) for key, value in keys if key.value == "stages"]
    if len(named) != 1:
        return None
    key, value = named[0]
    start, end = key.start_mark, value[-1].end_mark
    if start is None or end is None:
        return None
    first = value[0]
    one_line = start.line == end.line and start.column == 4
    plain = all(getattr(e, "anchor", None) is None for e in [key, *value])
    if not (isinstance(first, yaml.MappingStartEvent) and first.flow_style and one_line and plain):
        return None
    # The events counted the `models:` line above the block.
    if lines[start.line - 1][end.column :].strip():
        return None  # a comment after the value: not a line modelreg wrote
    return start.line - 1


def _format_stages_line(items: list[tuple[str, str]]) -> str | None:
    """The ``stages:`` line (with its newline) the dumper would write, or ``None`` when a
    stage or version needs the dumper to decide (quoting) or the line would be folded."""
    if not all(is_bare_word(stage) and is_bare_word(version) for stage, version in items):
        return None
    line = "    stages: {" + ", ".join(f"{stage}: {version}" for stage, version in items) + "}"
    return line + "\n" if len(line) <= _WIDTH else None


class Versions(NamedTuple):
    """A model's block cut where its versions start."""

    head: tuple[str, ...]  # the model's key line and its keys above ``versions:``
    names: tuple[str, ...]  # the versions, in the block's order
    chunks: tuple[str, ...]  # each version's lines, as text


@functools.lru_cache(maxsize=16)
def split_versions(block: str) -> Versions | None:
    """``block`` cut into its head and its versions, found without YAML; ``None`` unless it
    is laid out as :func:`~modelreg.index.serialise.dump_model_block` writes it: every line
    whole, ``versions:`` the last key, each version a plain key on a line of its own, their
    lines below it, in SemVer order.

    Cached (the result is immutable): a registration asks for the same block's versions,
    head and cut in turn, and each look checks every line of a block that may be thousands
    long."""
    lines = block.split("\n")
    if lines[-1] != "" or not all(_WHOLE_LINE.fullmatch(line) for line in lines[1:-1]):
        return None
    lines.pop()
    at = next((i for i, line in enumerate(lines) if line.startswith("    versions:")), None)
    if at is None or lines[at] not in ("    versions:", "    versions: {}"):
        return None
    head, body = lines[:at], lines[at + 1 :]
    if any(not line.startswith("    ") or line[4:5] in ("", " ", "#") for line in head[1:]):
        return None  # a blank or comment line, or a key deeper than the model's
    if lines[at].endswith("{}") and body:
        return None
    names: list[str] = []
    chunks: list[list[str]] = []
    for line in body:
        if line.startswith("        ") and chunks:
            chunks[-1].append(line)
        elif line.startswith("      ") and line.endswith(":") and is_bare_word(line[6:-1]):
            names.append(line[6:-1])
            chunks.append([line])
        else:
            return None  # a key after versions, a comment, a quoted or flow version key
    keys = [sort_key(name) for name in names]
    if any(a >= b for a, b in zip(keys, keys[1:], strict=False)):
        return None  # out of order (or repeated): a full dump sorts them
    return Versions(tuple(head), tuple(names), tuple("\n".join(c) + "\n" for c in chunks))


def add_version(found: Versions, head: str, name: str, chunk: str) -> str:
    """The block of ``found`` with ``head`` (the model's lines above ``versions:``, as the
    dumper writes them) and version ``name``'s ``chunk`` added in SemVer order."""
    key = sort_key(name)
    at = next((i for i, v in enumerate(found.names) if sort_key(v) > key), len(found.names))
    chunks = [*found.chunks[:at], chunk, *found.chunks[at:]]
    return head + "    versions:\n" + "".join(chunks)

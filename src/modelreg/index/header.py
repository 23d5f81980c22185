"""The top of ``registry.yaml`` (``stages:``), read without pydantic or the models below.

``list`` needs only the stage order for its columns; importing the index's validation
machinery and parsing every version of every model for it would cost more than the query.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

INDEX_FILE = "registry.yaml"
DEFAULT_STAGES = ["dev", "staging", "production"]

# The header modelreg writes (comment lines, `branch:`, `stages: [a, b]`), recognised without
# importing a YAML parser: that import alone is ~10 ms of a `show`.  Anything else (a
# `policy:` block, quoting, block lists) is read by YAML.
_OTHER_LINE = r"(?:#[^\n]*|[ \t]*|branch: [A-Za-z0-9_./-]+)\n"
_SIMPLE_HEAD = re.compile(rf"(?:{_OTHER_LINE})*stages: \[([^\]\n]*)\][ \t]*\n(?:{_OTHER_LINE})*")
# A word YAML reads as this very string: unquoted, and no number, boolean or null word.
_PLAIN_WORD = re.compile(r"[a-z][a-z0-9_/-]*")
_YAML_WORDS = frozenset({"yes", "no", "on", "off", "true", "false", "null"})
_BRANCH_LINE = re.compile(r"(?:^|\n)branch: ([^\n]*)")
# A word of either case that YAML, and its dumper, take as this very string, bare in a
# block or a flow collection: it starts with a letter (no number, date or `.inf`) and holds
# no space or flow indicator.
_BARE_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_./+-]*")


def is_plain_word(text: str) -> bool:
    """Whether YAML reads ``text`` (a key or a flow-list item) as this very string; ``False``
    means only that a YAML parser must say what it is."""
    return _PLAIN_WORD.fullmatch(text) is not None and text not in _YAML_WORDS


def is_bare_word(text: str) -> bool:
    """Whether ``text`` (a branch, a stage, a version) is written bare and read back as this
    very string: :data:`_BARE_WORD`, and no boolean or null word in any case (``True``,
    ``NULL``).  ``False`` means only that YAML must quote it or say what it is."""
    return _BARE_WORD.fullmatch(text) is not None and text.lower() not in _YAML_WORDS


def read_stage_order(root: Path) -> list[str]:
    """The allowed stages, from the lines above ``models:``; the defaults when unreadable."""
    path = root / INDEX_FILE
    try:
        # O_NONBLOCK and fstat: a registry.yaml that is a symlink to a FIFO or a device must
        # not block or read forever (modelreg.index.files.read_index_text reports it on a write).
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return list(DEFAULT_STAGES)
    try:
        with open(fd, encoding="utf-8") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return list(DEFAULT_STAGES)
            head = []
            for line in f:
                if line.startswith("models:"):
                    break
                head.append(line)
    except (OSError, UnicodeDecodeError):
        # Not UTF-8 is "unreadable" as invalid YAML is: `list` still answers from the tags,
        # and `modelreg check` or any write reports the file itself.
        return list(DEFAULT_STAGES)
    text = "".join(head)
    simple = _simple_stages(text)
    if simple is not None:
        return simple
    import yaml

    from modelreg import yamlio

    try:
        data = yamlio.load(text) or {}
    except (yaml.YAMLError, RecursionError):
        return list(DEFAULT_STAGES)
    stages = data.get("stages") if isinstance(data, dict) else None
    if isinstance(stages, list) and all(isinstance(s, str) for s in stages):
        return stages
    return list(DEFAULT_STAGES)


def simple_header(head: str) -> tuple[str | None, list[str]] | None:
    """The ``branch`` and ``stages`` of a header in the form modelreg writes it (no
    ``policy:``); ``None`` for any other form, which a YAML parser and the schema must read."""
    stages = _simple_stages(head)
    if stages is None:
        return None
    branches = _BRANCH_LINE.findall(head)
    if not branches:
        return None, stages
    if len(branches) > 1:
        return None  # the key twice
    branch = branches[0]
    return (branch, stages) if is_bare_word(branch) else None


def _simple_stages(head: str) -> list[str] | None:
    """The stages of a header in the form modelreg writes it; ``None`` for any other form."""
    found = _SIMPLE_HEAD.fullmatch(head if head.endswith("\n") else head + "\n")
    if found is None:
        return None
    inside = found.group(1).strip()
    items = [item.strip() for item in inside.split(",")] if inside else []
    if all(is_plain_word(s) for s in items):
        return items
    return None


def in_promotion_order(stages: Iterable[str], order: Sequence[str]) -> list[str]:
    """``stages`` sorted as ``order`` lists them; stages it does not list come after,
    alphabetically (a GTO registry may use stages ``registry.yaml`` never named)."""
    rank = {stage: i for i, stage in enumerate(order)}
    return sorted(stages, key=lambda s: (0, rank[s], "") if s in rank else (1, 0, s))

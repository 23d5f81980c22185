"""The line of a value in ``registry.yaml``, from YAML's node tree (for one-line errors and
``modelreg check``'s problems)."""

from __future__ import annotations

from typing import Any

import yaml

from modelreg import yamlio


def compose(text: str) -> Any:
    """The YAML node tree of ``text`` (with line marks), or ``None`` if it does not parse."""
    try:
        return yaml.compose(text, Loader=yamlio.SafeLoader)
    except yaml.YAMLError:
        return None


def node_line(node: Any, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the node at ``loc`` below ``node`` (the deepest one found)."""
    line = None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == str(key):
                    line, node = k.start_mark.line + 1, v
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(node.value):
                return line
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at ``loc`` in ``text``."""
    node = compose(text)
    return None if node is None else node_line(node, loc)

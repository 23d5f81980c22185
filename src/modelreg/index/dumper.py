"""The YAML dumper ``registry.yaml`` is written with: block mappings in the order given,
flow style where the file is read at a glance (``stages: {…}``, ``labels: […]``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from modelreg import yamlio

WIDTH = 100
"""Where the dumper folds a line; :mod:`modelreg.index.splice` formats a line itself only
when it is shorter."""


class Flow(dict[str, Any]):
    """A mapping written inline (``{accuracy: 0.93}``)."""

    def __init__(self, items: list[tuple[str, Any]]) -> None:
        super().__init__(items)


class FlowList(list[Any]):
    """A list written inline (``[dev, staging, production]``)."""


def dump(data: dict[str, Any]) -> str:
    """``data`` as YAML, keys in the order given."""
    text: str = yaml.dump(
        data, Dumper=_IndexDumper, sort_keys=False, allow_unicode=True, width=WIDTH
    )
    return text


def dump_at(path: Sequence[str], data: dict[str, Any]) -> str:
    """``data`` as :func:`dump` writes it nested under the keys of ``path`` (so indented as
    it is in the file there), without the lines of those keys."""
    for key in reversed(path):
        data = {key: data}
    return dump(data).split("\n", len(path))[len(path)]


class _IndexDumper(yamlio.SafeDumper):  # type: ignore[misc]
    pass


def _flow_map(dumper: Any, data: Flow) -> Any:
    return dumper.represent_mapping("tag:yaml.org,2002:map", list(data.items()), flow_style=True)


def _flow_list(dumper: Any, data: FlowList) -> Any:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", list(data), flow_style=True)


def _block_map(dumper: Any, data: dict[str, Any]) -> Any:
    return dumper.represent_mapping("tag:yaml.org,2002:map", list(data.items()))


_IndexDumper.add_representer(Flow, _flow_map)
_IndexDumper.add_representer(FlowList, _flow_list)
_IndexDumper.add_representer(dict, _block_map)

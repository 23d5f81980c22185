"""Writing ``registry.yaml``: a stable order (models by name, versions by SemVer, stages in
promotion order, keys fixed), so a change to one model is a small diff and writing the same
content twice produces the same bytes."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from modelreg import yamlio
from modelreg.index.files import write_atomic
from modelreg.index.header import INDEX_FILE
from modelreg.index.schema import Index, ModelEntry, StagePolicy, VersionEntry
from modelreg.semver import sort_key


def _version_dict(entry: VersionEntry) -> dict[str, Any]:
    data: dict[str, Any] = {"tag": entry.tag}
    for key in ("md5", "size", "nfiles"):
        value = getattr(entry, key)
        if value is not None:
            data[key] = value
    if entry.metrics:
        data["metrics"] = _Flow(sorted(entry.metrics.items()))
    if entry.params:
        data["params"] = _Flow(sorted(entry.params.items()))
    for key in ("registered_by", "registered_at"):
        value = getattr(entry, key)
        if value is not None:
            data[key] = value
    if entry.deregistered:
        data["deregistered"] = True
    return data


def _model_dict(entry: ModelEntry, stage_order: list[str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if entry.description is not None:
        data["description"] = entry.description
    if entry.path is not None:
        data["path"] = entry.path
    if entry.labels:
        data["labels"] = _FlowList(entry.labels)
    if entry.deprecated:
        data["deprecated"] = True
    data["stages"] = _Flow(_in_stage_order(entry.stages, stage_order))
    versions = sorted(entry.versions.items(), key=lambda kv: sort_key(kv[0]))
    data["versions"] = {v: _version_dict(e) for v, e in versions}
    return data


def _in_stage_order(stages: Mapping[str, str], stage_order: list[str]) -> list[tuple[str, str]]:
    rank = {s: i for i, s in enumerate(stage_order)}
    return sorted(stages.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))


def _policy_dict(rule: StagePolicy) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if rule.requires is not None:
        data["requires"] = rule.requires
    if rule.metrics:
        data["metrics"] = _Flow(list(rule.metrics.items()))
    if not rule.allow_empty:
        data["allow_empty"] = False
    return data


def _dump(data: dict[str, Any]) -> str:
    text: str = yaml.dump(data, Dumper=_IndexDumper, sort_keys=False, allow_unicode=True, width=100)
    return text


def dump_model_block(name: str, entry: ModelEntry, stage_order: list[str]) -> str:
    """One model's lines under ``models:``, exactly as :func:`dump_index` writes them."""
    text = _dump({"models": {name: _model_dict(entry, stage_order)}})
    return text.split("\n", 1)[1]


def replace_stages(block: str, stages: Mapping[str, str], stage_order: list[str]) -> str | None:
    """``block`` (one model's lines under ``models:``) with its ``stages:`` line rewritten
    for ``stages`` and every other byte kept; ``None`` unless that line is as
    :func:`dump_model_block` writes it (one line, a flow mapping, no anchor or comment).

    The new line comes from the same dumper at the same depth, so the result equals
    re-serialising the whole block.  Where the line is is found by YAML's parser events, not
    by matching text: a hand-written block can hide a line that looks like ``stages:`` in a
    multi-line quoted description, or repeat the key (YAML keeps the last).
    """
    lines = block.split("\n")
    found = _stages_line(block, lines)
    if found is None:
        return None
    line = _dump({"models": {"m": {"stages": _Flow(_in_stage_order(stages, stage_order))}}})
    new = line.split("\n", 2)[2]  # below `models:` and the model's key line
    return "\n".join(lines[:found]) + "\n" + new + "\n".join(lines[found + 1 :])


def _stages_line(block: str, lines: list[str]) -> int | None:
    """The index, in ``lines`` (``block``'s), of the model's one-line ``stages:`` entry."""
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


def dump_index(index: Index, preamble: str = "") -> str:
    """Serialize in the stable order described in the module docstring, below ``preamble``
    (comment lines, see :func:`modelreg.index.layout.preamble`)."""
    data: dict[str, Any] = {"branch": index.branch} if index.branch else {}
    data["stages"] = _FlowList(index.stages)
    if index.policy:
        data["policy"] = {stage: _policy_dict(rule) for stage, rule in index.policy.items()}
    data["models"] = {
        name: _model_dict(entry, index.stages) for name, entry in sorted(index.models.items())
    }
    return preamble + _dump(data)


def write_index(root: Path, index: Index, preamble: str = "") -> None:
    """Replace ``registry.yaml`` atomically (no reader ever sees half a file)."""
    write_atomic(root / INDEX_FILE, dump_index(index, preamble).encode("utf-8"))


class _Flow(dict[str, Any]):
    """A mapping written inline (``{accuracy: 0.93}``)."""

    def __init__(self, items: list[tuple[str, Any]]) -> None:
        super().__init__(items)


class _FlowList(list[Any]):
    """A list written inline (``[dev, staging, production]``)."""


class _IndexDumper(yamlio.SafeDumper):  # type: ignore[misc]
    pass


def _flow_map(dumper: Any, data: _Flow) -> Any:
    return dumper.represent_mapping("tag:yaml.org,2002:map", list(data.items()), flow_style=True)


def _flow_list(dumper: Any, data: _FlowList) -> Any:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", list(data), flow_style=True)


def _block_map(dumper: Any, data: dict[str, Any]) -> Any:
    return dumper.represent_mapping("tag:yaml.org,2002:map", list(data.items()))


_IndexDumper.add_representer(_Flow, _flow_map)
_IndexDumper.add_representer(_FlowList, _flow_list)
_IndexDumper.add_representer(dict, _block_map)

"""Writing ``registry.yaml``: a stable order (models by name, versions by SemVer, stages in
promotion order, keys fixed), so a change to one model is a small diff and writing the same
content twice produces the same bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelreg.index.dumper import Flow, FlowList, dump, dump_at
from modelreg.index.files import write_atomic
from modelreg.index.header import INDEX_FILE
from modelreg.index.schema import Index, ModelEntry, StagePolicy, VersionEntry
from modelreg.index.splice import in_stage_order
from modelreg.semver import sort_key


def _version_dict(entry: VersionEntry) -> dict[str, Any]:
    data: dict[str, Any] = {"tag": entry.tag}
    for key in ("md5", "size", "nfiles"):
        value = getattr(entry, key)
        if value is not None:
            data[key] = value
    if entry.metrics:
        data["metrics"] = Flow(sorted(entry.metrics.items()))
    if entry.params:
        data["params"] = Flow(sorted(entry.params.items()))
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
        data["labels"] = FlowList(entry.labels)
    if entry.deprecated:
        data["deprecated"] = True
    data["stages"] = Flow(in_stage_order(entry.stages, stage_order))
    versions = sorted(entry.versions.items(), key=lambda kv: sort_key(kv[0]))
    data["versions"] = {v: _version_dict(e) for v, e in versions}
    return data


def _policy_dict(rule: StagePolicy) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if rule.requires is not None:
        data["requires"] = rule.requires
    if rule.metrics:
        data["metrics"] = Flow(list(rule.metrics.items()))
    if not rule.allow_empty:
        data["allow_empty"] = False
    return data


def dump_model_block(name: str, entry: ModelEntry, stage_order: list[str]) -> str:
    """One model's lines under ``models:``, exactly as :func:`dump_index` writes them."""
    return dump_at(("models",), {name: _model_dict(entry, stage_order)})


def dump_version(model: str, name: str, entry: VersionEntry) -> str:
    """One version's lines under a model's ``versions:``, as :func:`dump_model_block` writes
    them."""
    return dump_at(("models", model, "versions"), {name: _version_dict(entry)})


def dump_index(index: Index, preamble: str = "") -> str:
    """Serialize in the stable order described in the module docstring, below ``preamble``
    (comment lines, see :func:`modelreg.index.layout.preamble`)."""
    data: dict[str, Any] = {"branch": index.branch} if index.branch else {}
    data["stages"] = FlowList(index.stages)
    if index.policy:
        data["policy"] = {stage: _policy_dict(rule) for stage, rule in index.policy.items()}
    data["models"] = {
        name: _model_dict(entry, index.stages) for name, entry in sorted(index.models.items())
    }
    return preamble + dump(data)


def write_index(root: Path, index: Index, preamble: str = "") -> None:
    """Replace ``registry.yaml`` atomically (no reader ever sees half a file)."""
    write_atomic(root / INDEX_FILE, dump_index(index, preamble).encode("utf-8"))

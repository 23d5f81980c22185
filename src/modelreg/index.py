"""``registry.yaml``: the reviewable index and the desired stage map.

Reading validates the shape and reports the first problem in one line with its line number.
Writing is stable (models and versions sorted, keys in a fixed order) so that a change to one
model is a small diff, and writing the same content twice produces the same bytes.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import stat
import tempfile
import types
import typing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple, Union

import yaml

from modelreg.errors import IndexError_
from modelreg.index_header import DEFAULT_STAGES, INDEX_FILE
from modelreg.records import Scalar
from modelreg.semver import sort_key
from modelreg.values import expands_beyond, expansion_limit

__all__ = ["DEFAULT_STAGES", "INDEX_FILE"]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

# The schema is a handful of dataclasses checked by ``_convert`` below rather than pydantic
# models: importing pydantic and building its schemas cost ~0.35 s, more than half of a whole
# `promote`, and every write reads the index.


@dataclass
class VersionEntry:
    """The index's copy of one version's immutable record."""

    tag: str
    md5: str | None = None
    size: int | None = None
    nfiles: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, Scalar] = field(default_factory=dict)
    registered_by: str | None = None
    registered_at: str | None = None
    deregistered: bool = False


@dataclass
class ModelEntry:
    """One model: descriptive fields, desired stages and its versions."""

    description: str | None = None
    path: str | None = None
    labels: list[str] = field(default_factory=list)
    deprecated: bool = False
    stages: dict[str, str] = field(default_factory=dict)
    versions: dict[str, VersionEntry] = field(default_factory=dict)


@dataclass
class StagePolicy:
    """Rules a version must meet to enter a stage."""

    requires: str | list[str] | None = None  # one stage, or a list meaning all of them
    metrics: dict[str, str] = field(default_factory=dict)
    allow_empty: bool = True

    @property
    def required_stages(self) -> list[str]:
        """``requires`` as a list (empty when there is none)."""
        if self.requires is None:
            return []
        return [self.requires] if isinstance(self.requires, str) else list(self.requires)


@dataclass
class Index:
    """The whole ``registry.yaml``."""

    # The registry branch: writes that tag, and every --push, happen on it (see writer).
    branch: str | None = None
    stages: list[str] = field(default_factory=lambda: list(DEFAULT_STAGES))
    policy: dict[str, StagePolicy] = field(default_factory=dict)
    models: dict[str, ModelEntry] = field(default_factory=dict)


class _Invalid(Exception):
    """A value of the wrong shape, at ``loc`` (keys from the top of the file)."""

    def __init__(self, loc: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


_SCALARS: dict[Any, tuple[type, ...]] = {
    str: (str,),
    int: (int,),
    float: (int, float),
    bool: (bool,),
}
_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def _convert(value: Any, hint: Any, loc: tuple[str, ...]) -> Any:
    """``value`` checked against type ``hint`` (dataclasses built); :class:`_Invalid` if not."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        if hint == Scalar or set(options) == {float, int, str, bool}:
            if isinstance(value, str | int | float | bool):
                return value
            raise _Invalid(loc, f"expected a number, string or boolean, got {value!r}")
        # The first option the value fits (``str | list[str]``: a stage or a list of them).
        for option in options[:-1]:
            try:
                return _convert(value, option, loc)
            except _Invalid:
                continue
        return _convert(value, options[-1], loc)
    if origin is list:
        if not isinstance(value, list):
            raise _Invalid(loc, f"expected a list, got {value!r}")
        return [_convert(v, args[0], (*loc, str(i))) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise _Invalid(loc, f"expected a mapping, got {value!r}")
        return {str(k): _convert(v, args[1], (*loc, str(k))) for k, v in value.items()}
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, loc)
    if hint is str and isinstance(value, datetime):
        return format_time(value)  # YAML reads an unquoted timestamp as a datetime
    accepted = _SCALARS[hint]
    if isinstance(value, bool) and hint is not bool or not isinstance(value, accepted):
        raise _Invalid(loc, f"expected {_NAMES[hint]}, got {value!r}")
    if hint is float:
        return float(typing.cast(float, value))  # checked above: an int or a float
    return value


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _build(cls: Any, value: Any, loc: tuple[str, ...]) -> Any:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise _Invalid(loc, f"expected a mapping, got {value!r}")
    hints = _hints(cls)
    unknown = [k for k in value if k not in hints]
    if unknown:
        key = str(unknown[0])
        raise _Invalid((*loc, key), f"unknown key {key!r} (allowed: {', '.join(hints)})")
    kwargs = {k: _convert(v, hints[k], (*loc, str(k))) for k, v in value.items()}
    required = [
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    missing = [k for k in required if k not in kwargs]
    if missing:
        raise _Invalid(loc, f"missing key {missing[0]!r}")
    return cls(**kwargs)


def format_time(value: datetime) -> str:
    """UTC, second resolution, ``Z`` suffix: the form the index stores."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def compose(text: str) -> Any:
    """The YAML node tree of ``text`` (with line marks), or ``None`` if it does not parse."""
    try:
        return yaml.compose(text, Loader=_Loader)
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


def _line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at ``loc``, for error messages."""
    node = compose(text)
    return None if node is None else node_line(node, loc)


def parse_index(text: str, source: str = INDEX_FILE, line_offset: int = 0) -> Index:
    """Parse and validate index text; raise a one-line :class:`IndexError_`.

    ``line_offset`` is added to reported line numbers when ``text`` is a slice of the file.
    """
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f":{mark.line + 1 + line_offset}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise IndexError_(f"{source}{where}: invalid YAML ({problem}): fix the file") from e
    except RecursionError:
        raise IndexError_(f"{source}: nested too deeply: fix the file") from None
    # Before any walk: building the dataclasses, or the repr in an error message, would take
    # exponential time on an alias bomb.  A large index is legitimate (1000 models x 100
    # versions is millions of values), so the budget grows with the text instead of being
    # fixed; see expansion_limit for why no alias-free file can reach it.
    limit = expansion_limit(text)
    if expands_beyond(data, limit):
        raise IndexError_(
            f"{source}: expands to more than {limit:,} values (YAML aliases?): "
            "remove the anchors and aliases, or restore the file from Git"
        )
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise IndexError_(f"{source}: expected a mapping at the top level: fix the file")
    try:
        index: Index = _build(Index, data, ())
    except _Invalid as e:
        line = _line_of(text, e.loc)
        where = f":{line + line_offset}" if line else ""
        dotted = ".".join(e.loc)
        raise IndexError_(f"{source}{where}: {dotted}: {e.message}: fix the file") from None
    return index


def read_index_text(root: Path) -> str | None:
    """The text of ``root``'s ``registry.yaml``, or ``None`` when it has none.

    One-line :class:`IndexError_` for a file that is not UTF-8 or not a regular file (a
    checked-out symlink can point at ``/dev/zero`` or a FIFO, whose read never ends).
    There is no size limit: a large registry's index is legitimately many megabytes.
    """
    path = root / INDEX_FILE
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer before fstat refuses it.
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise IndexError_(f"cannot read {INDEX_FILE}: {e.strerror}") from e
    # Checked before fdopen, which refuses a folder with an OSError of its own.
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise IndexError_(
            f"{INDEX_FILE} is not a regular file: replace it with the index's YAML text"
        )
    with os.fdopen(fd, "rb") as f:
        raw = f.read()
    try:
        # Universal newlines, as Path.read_text gives: the layout regexes look for "\n".
        return raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise IndexError_(
            f"{INDEX_FILE}:{line}: not UTF-8 text (byte 0x{raw[e.start]:02x}): "
            "fix the file or restore it from Git"
        ) from None


def parse_header(text: str) -> Index | None:
    """The ``stages:`` and ``policy:`` of index text whose model blocks may be broken (no
    models), or ``None`` when the header itself does not parse."""
    layout = _split_models(text)
    if layout is None:
        return None
    head, _, tail = layout
    try:
        header = parse_index(head + tail)
    except IndexError_:
        return None
    return Index(branch=header.branch, stages=header.stages, policy=header.policy)


def load_index(root: Path) -> Index | None:
    """The repository's index, or ``None`` when it has none."""
    text = read_index_text(root)
    return None if text is None else parse_index(text)


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
    rank = {s: i for i, s in enumerate(stage_order)}
    stages = sorted(entry.stages.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))
    data["stages"] = _Flow(stages)
    versions = sorted(entry.versions.items(), key=lambda kv: sort_key(kv[0]))
    data["versions"] = {v: _version_dict(e) for v, e in versions}
    return data


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


def dump_index(index: Index) -> str:
    """Serialize in the stable order described in the module docstring."""
    data: dict[str, Any] = {"branch": index.branch} if index.branch else {}
    data["stages"] = _FlowList(index.stages)
    if index.policy:
        data["policy"] = {stage: _policy_dict(rule) for stage, rule in index.policy.items()}
    data["models"] = {
        name: _model_dict(entry, index.stages) for name, entry in sorted(index.models.items())
    }
    text: str = yaml.dump(data, Dumper=_IndexDumper, sort_keys=False, allow_unicode=True, width=100)
    return text


def write_index(root: Path, index: Index) -> None:
    """Replace ``registry.yaml`` atomically (no reader ever sees half a file)."""
    write_atomic(root / INDEX_FILE, dump_index(index).encode("utf-8"))


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place."""
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class _Flow(dict[str, Any]):
    """A mapping written inline (``{accuracy: 0.93}``)."""

    def __init__(self, items: list[tuple[str, Any]]) -> None:
        super().__init__(items)


class _FlowList(list[Any]):
    """A list written inline (``[dev, staging, production]``)."""


class _IndexDumper(_Dumper):  # type: ignore[misc]
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


def _umask() -> int:
    # The only portable way to read the umask is to set it and put it back.
    current = os.umask(0)
    os.umask(current)
    return current


class IndexEditor:
    """``registry.yaml`` opened for a write that touches a few models.

    Parsing a 10,000-version index costs seconds, so an editor parses the header (``stages``,
    ``policy``) and only the blocks of the models it is asked about, and splices the blocks it
    changed back into the text.  Files that are not laid out the way :func:`dump_index` writes
    them (hand-edited into flow style, other indentation) are parsed whole instead.
    """

    def __init__(self, text: str, source: str = INDEX_FILE) -> None:
        self._source = source
        self._full: Index | None = None
        self._changed: dict[str, ModelEntry] = {}
        layout = _split_models(text)
        if layout is None:
            self._full = parse_index(text, source)
            self.stages, self.policy = self._full.stages, self._full.policy
            self.branch = self._full.branch
            self._head, self._tail = "", ""
            self._blocks: dict[str, tuple[int, str]] = {}
            return
        self._head, self._blocks, self._tail = layout
        header = parse_index(self._head + self._tail, source)
        self.stages, self.policy, self.branch = header.stages, header.policy, header.branch

    def set_branch(self, name: str) -> None:
        """Record the registry branch (a registry made before ``branch:`` existed)."""
        self.branch = name
        if self._full is None:
            lines = self._head.splitlines(keepends=True)
            kept = [ln for ln in lines if not ln.startswith("branch:")]
            self._head = f"branch: {name}\n" + "".join(kept)

    @classmethod
    def load(cls, root: Path) -> IndexEditor | None:
        """The editor for ``root``'s index, or ``None`` when there is none."""
        text = read_index_text(root)
        return None if text is None else cls(text)

    def entry(self, name: str) -> ModelEntry:
        """The (mutable) entry of model ``name``; a new one when the index has none."""
        if name in self._changed:
            return self._changed[name]
        if self._full is not None:
            entry = self._full.models.get(name, ModelEntry())
        elif name in self._blocks:
            start, block = self._blocks[name]
            parsed = parse_index("models:\n" + block, self._source, line_offset=start - 2)
            entry = parsed.models.get(name, ModelEntry())
        else:
            entry = ModelEntry()
        self._changed[name] = entry
        return entry

    def render(self) -> str:
        """The whole file with the changed models re-serialized."""
        if self._full is not None:
            models = {**self._full.models, **self._changed}
            full = Index(branch=self.branch, stages=self.stages, policy=self.policy, models=models)
            return dump_index(full)
        names = sorted(set(self._blocks) | set(self._changed))
        body = [
            dump_model_block(n, self._changed[n], self.stages)
            if n in self._changed
            else self._blocks[n][1]
            for n in names
        ]
        section = "models:\n" + "".join(body) if names else "models: {}\n"
        return self._head + section + self._tail

    def save(self, root: Path) -> None:
        """Write the file atomically."""
        write_atomic(root / INDEX_FILE, self.render().encode("utf-8"))


# Patterns anchored on "\n" rather than re.M's "^": ten times faster on a large index.
_MODELS_LINE = re.compile(r"^models:[ \t]*(\{\}[ \t]*)?$", re.M)
_TOP_LEVEL_LINE = re.compile(r"\n[^ \t#\n]")
_BLOCK_KEY_LINE = re.compile(r"\n  [^ \t#\n][^\n]*")


class _Key(NamedTuple):
    start: int  # offset of the key line in the models body
    text: str


def _split_models(text: str) -> tuple[str, dict[str, tuple[int, str]], str] | None:
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
        data = yaml.load(stripped, Loader=_Loader)
    except yaml.YAMLError:
        return None
    if isinstance(data, dict) and len(data) == 1:
        key, value = next(iter(data.items()))
        if value is None and isinstance(key, str | int | float):
            return str(key)
    return None

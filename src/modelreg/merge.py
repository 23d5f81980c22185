"""A git merge driver for ``registry.yaml``.

Two pull requests that register different models, add different versions or move different
stages touch neighbouring lines of the index, so git's line merge reports a conflict where
there is none.  This driver merges the three versions of the file *structurally*: the stage
list, each stage's policy, and per model its descriptive fields, each desired stage and each
version, taking a change made on one side and reporting a conflict only when both sides
changed the same thing differently.  The result is written in :func:`dump_index`'s stable
order.

Git runs it as ``modelreg merge-index %O %A %B`` (base, ours, theirs) when
``.gitattributes`` says ``registry.yaml merge=modelreg`` and the clone's config defines
``merge.modelreg.driver``; git never copies that config into a clone, so every write calls
:func:`modelreg.mergedriver.ensure_merge_config`.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Final, TypeVar

from modelreg.errors import InvalidIndexError, RegistryError
from modelreg.index.files import write_atomic
from modelreg.index.header import INDEX_FILE
from modelreg.index.layout import preamble, split_models
from modelreg.index.parse import parse_index
from modelreg.index.schema import Index, ModelEntry, StagePolicy, VersionEntry
from modelreg.index.serialise import dump_index, dump_model_block

CONFLICT_PREFIX: Final = "# modelreg merge conflict: "
_HOW_TO_RESOLVE: Final = (
    "# modelreg merge: each conflict above kept our side (theirs: `git show :3:registry.yaml`); "
    "fix it, delete these lines, then `git add registry.yaml`"
)

T = TypeVar("T")


class _Absent:
    """A key one side does not have (a removed model, an unset stage)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()


# -- comparing and showing values ------------------------------------------------------


def _key(value: object) -> object:
    """What decides whether two values are "the same" for the merge: equal keys dump to the
    same text.

    Not ``==``: a NaN metric is not equal to itself, which would make an untouched version
    look changed on both sides; and ``1 == 1.0 == True`` while the file tells them apart.
    Mappings ``dump_index`` sorts compare without order; ``policy`` and a policy's
    ``metrics``, which it writes in file order, compare with it (see :func:`_ordered`).
    """
    if isinstance(value, _Absent):
        return ("absent",)
    if value is None or isinstance(value, bool | int | str):
        return (type(value).__name__, value)
    if isinstance(value, float):
        return ("float", repr(value))
    if isinstance(value, list | tuple):
        return ("list", tuple(_key(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(k), _key(v)) for k, v in value.items())))
    if isinstance(value, StagePolicy):
        return ("policy", _key(value.requires), _ordered(value.metrics), value.allow_empty)
    if isinstance(value, VersionEntry | ModelEntry | Index):
        fields = type(value).model_fields
        return (type(value).__name__, tuple((f, _key(getattr(value, f))) for f in fields))
    return ("other", repr(value))


def _ordered(mapping: dict[str, Any]) -> object:
    return ("ordered", tuple((k, _key(v)) for k, v in mapping.items()))


def _same(a: object, b: object) -> bool:
    return _key(a) == _key(b)


_PLAIN = re.compile(r"[A-Za-z0-9_.@#/+:-]+")


def _escape(text: str) -> str:
    r"""``text`` on one line with nothing a terminal acts on: control characters, bidi
    overrides and line separators (anything not printable) become ``\x..``/``\u....``.

    Conflict lines quote names and values from the branches being merged, and they end up
    both on the terminal and in a YAML comment, which a newline would end."""
    return "".join(
        c if c.isprintable() else (f"\\x{ord(c):02x}" if ord(c) <= 0xFF else f"\\u{ord(c):04x}")
        for c in text
    )


def _show(value: object) -> str:
    """A value as it would read in the file, short and on one line."""
    if isinstance(value, _Absent) or value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if _PLAIN.fullmatch(value) else json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_show(k)}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, StagePolicy):
        shown: dict[str, object] = {}
        if value.requires is not None:
            shown["requires"] = value.requires
        if value.metrics:
            shown["metrics"] = value.metrics
        if not value.allow_empty:
            shown["allow_empty"] = False
        return _show(shown)
    return repr(value)


def _differing(a: VersionEntry, b: VersionEntry) -> str:
    names = [f for f in VersionEntry.model_fields if not _same(getattr(a, f), getattr(b, f))]
    return ", ".join(names)


# -- the three-way merge ---------------------------------------------------------------


class _Merger:
    """One merge: the rules, and the conflicts found so far (each kept our value)."""

    def __init__(self) -> None:
        self.conflicts: list[str] = []
        # Listed after the others: they follow from two changes that each merged cleanly.
        self.dangling: list[str] = []

    def conflict(self, text: str) -> None:
        self.conflicts.append(_escape(text))

    def pick(self, what: str, base: T | _Absent, ours: T | _Absent, theirs: T | _Absent) -> Any:
        """The side that changed ``what``; ours when both did alike, or (a conflict) not."""
        # "ours unchanged" is tested first so that merging into an untouched side returns
        # the other side exactly, even where the two differ only in an order the file keeps.
        if _same(ours, base):
            return theirs
        if _same(theirs, base) or _same(ours, theirs):
            return ours
        self.conflict(f"{what}: ours {_show(ours)}, theirs {_show(theirs)}")
        return ours

    def per_key(
        self,
        base: dict[str, T],
        ours: dict[str, T],
        theirs: dict[str, T],
        merge_one: Callable[[str, T | _Absent, T | _Absent, T | _Absent], Any],
    ) -> dict[str, T]:
        """A mapping merged key by key; a key merged to :data:`ABSENT` is left out."""
        merged: dict[str, T] = {}
        for key in _union(ours, theirs, base):
            value = merge_one(
                key, base.get(key, ABSENT), ours.get(key, ABSENT), theirs.get(key, ABSENT)
            )
            if not isinstance(value, _Absent):
                merged[key] = value
        return merged

    def header(self, base: Index | None, ours: Index, theirs: Index) -> dict[str, Any]:
        """Every top-level field but ``models``, merged (``policy`` stage by stage).

        Field by field from the dataclass, so a field added to :class:`Index` later is
        merged rather than dropped."""
        values: dict[str, Any] = {}
        for f in Index.model_fields:
            if f == "models":
                continue
            b = ABSENT if base is None else getattr(base, f)
            o, t = getattr(ours, f), getattr(theirs, f)
            if f == "policy":
                values[f] = self.policy({} if base is None else base.policy, o, t)
            else:
                values[f] = self.pick(f, b, o, t)
        return values

    def index(self, base: Index | None, ours: Index, theirs: Index) -> Index:
        values = self.header(base, ours, theirs)
        b = {} if base is None else base.models
        models: dict[str, ModelEntry] = {}
        for name in sorted(_union(ours.models, theirs.models, b)):
            entry = self.model(
                name,
                b.get(name, ABSENT),
                ours.models.get(name, ABSENT),
                theirs.models.get(name, ABSENT),
            )
            if not isinstance(entry, _Absent):
                models[name] = entry
        return Index(**values, models=models)

    def policy(
        self,
        base: dict[str, StagePolicy],
        ours: dict[str, StagePolicy],
        theirs: dict[str, StagePolicy],
    ) -> dict[str, StagePolicy]:
        # The file keeps the policy's order: a side that left it alone takes the other's as
        # it is, order included.
        if _ordered(ours) == _ordered(base):
            return theirs
        if _ordered(theirs) == _ordered(base) or _ordered(ours) == _ordered(theirs):
            return ours
        return self.per_key(
            base, ours, theirs, lambda stage, b, o, t: self.pick(f"policy {stage}", b, o, t)
        )

    def model(
        self,
        name: str,
        base: ModelEntry | _Absent,
        ours: ModelEntry | _Absent,
        theirs: ModelEntry | _Absent,
    ) -> ModelEntry | _Absent:
        settled = self._settled(f"model {name}", base, ours, theirs)
        if settled is not None:
            return settled[0]
        assert not isinstance(ours, _Absent) and not isinstance(theirs, _Absent)
        # Added on both sides: merged as if both started from an empty entry, so what each
        # added is kept and only the same field set differently conflicts.
        b = ModelEntry() if isinstance(base, _Absent) else base
        values: dict[str, Any] = {}
        for f in ModelEntry.model_fields:  # a field added later is merged too
            bv, ov, tv = getattr(b, f), getattr(ours, f), getattr(theirs, f)
            if f == "stages":
                values[f] = self.per_key(
                    bv, ov, tv, lambda stage, *three: self.pick(f"{name} stage {stage}", *three)
                )
            elif f == "versions":
                values[f] = self.per_key(
                    bv, ov, tv, lambda version, *three: self.version(name, version, *three)
                )
            else:
                values[f] = self.pick(f"{name} {f}", bv, ov, tv)
        merged = ModelEntry(**values)
        self.dangling_stages(name, merged, ours, theirs)
        return merged

    def _settled(self, label: str, base: T, ours: T, theirs: T) -> tuple[T] | None:
        """The outcome when at most one side changed, or one side removed what the other
        changed (a conflict: ours is kept); ``None`` when both changed it."""
        if _same(ours, base):
            return (theirs,)
        if _same(theirs, base) or _same(ours, theirs):
            return (ours,)
        if isinstance(ours, _Absent) or isinstance(theirs, _Absent):
            removed, changed = (
                ("ours", "theirs") if isinstance(ours, _Absent) else ("theirs", "ours")
            )
            self.conflict(f"{label}: {removed} removed it, {changed} changed it")
            return (ours,)
        return None

    def version(
        self,
        name: str,
        version: str,
        base: VersionEntry | _Absent,
        ours: VersionEntry | _Absent,
        theirs: VersionEntry | _Absent,
    ) -> VersionEntry | _Absent:
        # A version's record is immutable apart from ``deregistered``: it is merged whole.
        settled = self._settled(f"{name} {version}", base, ours, theirs)
        if settled is not None:
            return settled[0]
        assert not isinstance(ours, _Absent) and not isinstance(theirs, _Absent)
        if isinstance(base, _Absent):
            # Typically two offline registrations that both took the next version number.
            self.conflict(
                f"{name} {version}: added on both sides with different {_differing(ours, theirs)}"
            )
        else:
            self.conflict(f"{name} {version}: changed on both sides ({_differing(ours, theirs)})")
        return ours

    def dangling_stages(
        self, name: str, merged: ModelEntry, ours: ModelEntry, theirs: ModelEntry
    ) -> None:
        """Report a desired stage that neither side left pointing at a missing or
        deregistered version but the merge does: one side assigned a version the other
        removed.  Each change merged cleanly; together they make an index `check` rejects.

        Only a model merged field by field can get one: one taken whole from a side is
        exactly as consistent as it was there."""
        for stage, version in merged.stages.items():
            if _active(merged, version):
                continue
            if any(_points_at_inactive(side, stage, version) for side in (ours, theirs)):
                continue  # already so on a side: not this merge's doing
            self.dangling.append(
                _escape(
                    f"{name} stage {stage}: {version} is assigned on one side and removed or "
                    "deregistered on the other"
                )
            )


def _active(entry: ModelEntry, version: str) -> bool:
    found = entry.versions.get(version)
    return found is not None and not found.deregistered


def _points_at_inactive(entry: ModelEntry, stage: str, version: str) -> bool:
    return entry.stages.get(stage) == version and not _active(entry, version)


def _union(*mappings: Iterable[str]) -> list[str]:
    """Keys of all ``mappings``, in the order first seen (ours first)."""
    return list(dict.fromkeys(k for m in mappings for k in m))


_WHOSE = {
    "base": f"the base's {INDEX_FILE}",
    "ours": f"our {INDEX_FILE}",
    "theirs": f"their {INDEX_FILE}",
}


def _parse(side: str, text: str, conflicts: list[str]) -> Index | None:
    try:
        return parse_index(text, source=_WHOSE[side])
    except InvalidIndexError as e:
        conflicts.append(_escape(str(e)))
        return None


def _annotate(text: str, conflicts: list[str]) -> str:
    header = "".join(f"{CONFLICT_PREFIX}{c}\n" for c in conflicts)
    return header + _HOW_TO_RESOLVE + "\n" + text


def merge_index(base: str, ours: str, theirs: str) -> tuple[str, list[str]]:
    """Three-way merge of ``registry.yaml`` texts: the merged text and the conflicts.

    Without conflicts the text is the merged index as :func:`dump_index` writes it (a part
    that only one side changed is that side's text, comments included).  With conflicts,
    each conflicting value is our side's, and a comment block at the top lists them (one
    ``# modelreg merge conflict: …`` line each) for a person to resolve.  An empty ``base``
    means the file was added on both sides; a side that does not parse is a conflict, and
    the text is then ``ours`` unchanged under the comment block.
    """
    return _merge_by_blocks(base, ours, theirs) or _merge_whole(base, ours, theirs)


def _finish(text: str, merger: _Merger, earlier: list[str]) -> tuple[str, list[str]]:
    conflicts = [*earlier, *merger.conflicts, *merger.dangling]
    return (_annotate(text, conflicts) if conflicts else text), conflicts


def _merge_whole(base: str, ours: str, theirs: str) -> tuple[str, list[str]]:
    """The merge on the three files parsed whole."""
    conflicts: list[str] = []
    parsed_ours = _parse("ours", ours, conflicts)
    parsed_theirs = _parse("theirs", theirs, conflicts)
    if parsed_ours is None or parsed_theirs is None:
        return _annotate(ours, conflicts), conflicts
    # Without a readable base nothing can count as removed: everything present on either
    # side is kept and every difference conflicts (only flagged when the base was unreadable,
    # since an empty base is git's ordinary add/add case).
    parsed_base = _parse("base", base, conflicts) if base.strip() else None
    merger = _Merger()
    merged = merger.index(parsed_base, parsed_ours, parsed_theirs)
    return _finish(dump_index(merged, preamble(ours)), merger, conflicts)


def _merge_by_blocks(base: str, ours: str, theirs: str) -> tuple[str, list[str]] | None:
    """The same merge, parsing only the header and the model blocks both sides changed;
    ``None`` when it cannot be done that way (the caller then parses everything).

    Parsing a 10,000-version index costs seconds, three of them three times that, and a
    merge typically touches a model or two.  A block one side left as it was in the base
    is the other side's block, copied; a block that came out differently on both sides is
    parsed and merged.  Files not in modelreg's layout, a change of the stage list (it
    orders every block's ``stages:``), or a changed block that does not parse go to
    :func:`_merge_whole`, which reports a broken side with its line.
    """
    if not base.strip():
        return None
    layouts = []
    for text in (base, ours, theirs):
        layout = split_models(text)
        if layout is None or layout[2].strip():
            return None
        layouts.append(layout)
    (base_head, base_blocks, _), (ours_head, ours_blocks, _), (theirs_head, theirs_blocks, _) = (
        layouts
    )
    try:
        headers = [parse_index(head) for head in (base_head, ours_head, theirs_head)]
    except InvalidIndexError:
        return None
    stages = headers[0].stages
    if headers[1].stages != stages or headers[2].stages != stages:
        return None
    merger = _Merger()
    one_side = _one_side(base_head, ours_head, theirs_head)
    head = one_side[0] if one_side is not None else None
    if head is None:
        dumped = dump_index(Index(**merger.header(*headers)))
        if not dumped.endswith("\nmodels: {}\n"):
            return None  # not the layout this splices into
        head = preamble(ours_head) + dumped.removesuffix("models: {}\n")
    body: list[str] = []
    for name in sorted(_union(ours_blocks, theirs_blocks, base_blocks)):
        texts = [
            b[name][1] if name in b else None for b in (base_blocks, ours_blocks, theirs_blocks)
        ]
        one_side = _one_side(*texts)
        if one_side is not None:
            block = one_side[0]
            if block is not None:
                # Copied unparsed, but a side's change must still be a valid model.
                if block != texts[0] and _parse_block(name, block) is None:
                    return None
                # A side's last block may lack the final newline; here it may not be last.
                body.append(block if block.endswith("\n") else block + "\n")
            continue
        entries: list[ModelEntry | _Absent] = []
        for side_text in texts:
            entry = ABSENT if side_text is None else _parse_block(name, side_text)
            if entry is None:
                return None
            entries.append(entry)
        merged = merger.model(name, *entries)
        if not isinstance(merged, _Absent):
            body.append(dump_model_block(name, merged, stages))
    models = "models:\n" + "".join(body) if body else "models: {}\n"
    return _finish(head + models, merger, [])


def _one_side(base: str | None, ours: str | None, theirs: str | None) -> tuple[str | None] | None:
    """``(text,)`` of the side that changed a part when at most one did (``(None,)`` when
    that side removed it); ``None`` when both changed it, differently."""
    if ours == base:
        return (theirs,)
    if theirs == base or ours == theirs:
        return (ours,)
    return None


def _parse_block(name: str, block: str) -> ModelEntry | None:
    """One model's block parsed, or ``None`` when it does not."""
    try:
        return parse_index("models:\n" + block).models.get(name, ModelEntry())
    except InvalidIndexError:
        return None


# -- the driver ------------------------------------------------------------------------


def _read(path: Path, side: str) -> str | None:
    """The text of one of git's three files; ``None`` when it is not UTF-8."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise RegistryError(f"cannot read {side} ({path}): {e.strerror}") from None
    try:
        # Universal newlines, as read_index_text gives.
        return raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError:
        return None


def merge_files(base: Path, ours: Path, theirs: Path) -> list[str]:
    """Merge git's three files (``%O %A %B``), write the result into ``ours`` atomically,
    and return the conflicts."""
    texts = {
        "base": _read(base, "base"),
        "ours": _read(ours, "ours"),
        "theirs": _read(theirs, "theirs"),
    }
    undecodable = [side for side, text in texts.items() if text is None]
    if undecodable:
        # Leave git's ``ours`` as it is: it is what a person resolving would start from.
        return [f"{_WHOSE[side]} is not UTF-8 text: merge it by hand" for side in undecodable]
    text, conflicts = merge_index(texts["base"] or "", texts["ours"] or "", texts["theirs"] or "")
    write_atomic(ours, text.encode("utf-8"))
    return conflicts


def main(argv: list[str]) -> int:
    """``modelreg merge-index BASE OURS THEIRS``: 0 for a clean merge, 1 when conflicts
    remain (git then marks the file conflicted and leaves what was written), 2 for a usage
    error.

    An entry point, like the CLI's: the one place in the core that prints, because git shows
    the driver's stderr to the person merging.
    """
    if len(argv) != 3:
        print("usage: modelreg merge-index BASE OURS THEIRS", file=sys.stderr)
        return 2
    try:
        conflicts = merge_files(Path(argv[0]), Path(argv[1]), Path(argv[2]))
    except RegistryError as e:
        print(f"modelreg: error: {_escape(str(e))}", file=sys.stderr)
        return 1
    for conflict in conflicts:
        print(f"modelreg: merge conflict in {INDEX_FILE}: {_escape(conflict)}", file=sys.stderr)
    return 1 if conflicts else 0

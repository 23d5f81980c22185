"""The partial editor every write opens ``registry.yaml`` with."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from modelreg.index.files import read_index_text
from modelreg.index.header import INDEX_FILE, simple_header
from modelreg.index.layout import preamble, split_models
from modelreg.index.splice import Versions, add_version, replace_stages, split_versions

if TYPE_CHECKING:
    from modelreg.index.schema import Index, ModelEntry, StagePolicy, VersionEntry

# The schema, its parser and the dumper are imported where a model's block is parsed or
# written: a stage change on a header in modelreg's form needs none of them (pydantic's
# model building and YAML's import are ~30 ms of a promote).


class IndexEditor:
    """``registry.yaml`` opened for a write that touches a few models.

    Parsing a 10,000-version index costs seconds, so an editor parses the header (``stages``,
    ``policy``) and only the blocks of the models it is asked about, and splices the blocks it
    changed back into the text.  Files that are not laid out the way :func:`dump_index` writes
    them (hand-edited into flow style, other indentation) are parsed whole instead.  Either
    way the comment lines at the top (the ``$schema`` line) are kept.
    """

    def __init__(self, text: str, source: str = INDEX_FILE) -> None:
        self._source = source
        self._full: Index | None = None
        self._changed: dict[str, ModelEntry] = {}
        self.stages: list[str]
        self.policy: dict[str, StagePolicy]
        self.branch: str | None
        self.preamble = preamble(text)
        layout = split_models(text)
        if layout is None:
            from modelreg.index.parse import parse_index

            self._full = parse_index(text, source)
            self.stages, self.policy = self._full.stages, self._full.policy
            self.branch = self._full.branch
            self._head, self._tail = "", ""
            self._blocks: dict[str, tuple[int, str]] = {}
            return
        self._head, self._blocks, self._tail = layout
        simple = None if self._tail.strip() else simple_header(self._head)
        if simple is not None:
            (self.branch, self.stages), self.policy = simple, {}
            return
        from modelreg.index.parse import parse_index

        header = parse_index(self._head + self._tail, source)
        self.stages, self.policy, self.branch = header.stages, header.policy, header.branch

    def set_branch(self, name: str) -> None:
        """Record the registry branch (a registry made before ``branch:`` existed)."""
        self.branch = name
        if self._full is None:
            # Below the comment lines at the top: the `$schema` line stays the first.
            top = preamble(self._head)
            lines = self._head[len(top) :].splitlines(keepends=True)
            kept = [ln for ln in lines if not ln.startswith("branch:")]
            self._head = top + f"branch: {name}\n" + "".join(kept)

    @classmethod
    def load(cls, root: Path) -> IndexEditor | None:
        """The editor for ``root``'s index, or ``None`` when there is none."""
        text = read_index_text(root)
        return None if text is None else cls(text)

    def entry(self, name: str) -> ModelEntry:
        """The (mutable) entry of model ``name``; a new one when the index has none."""
        from modelreg.index.parse import parse_index
        from modelreg.index.schema import ModelEntry

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

    def version_names(self, name: str) -> list[str]:
        """The versions model ``name``'s entry lists (none for a model the index lacks)."""
        found = self._versions_of(name)
        return list(found.names) if found is not None else list(self.entry(name).versions)

    def head(self, name: str) -> ModelEntry:
        """A copy of model ``name``'s entry without its versions: its descriptive fields and
        stages, for :meth:`add_version` (a new entry when the index has none)."""
        found = self._versions_of(name)
        if found is None:
            return self.entry(name).model_copy(update={"versions": {}}, deep=True)
        from modelreg.index.parse import parse_index
        from modelreg.index.schema import ModelEntry

        start, _ = self._blocks[name]
        text = "models:\n" + "\n".join(found.head) + "\n"
        parsed = parse_index(text, self._source, line_offset=start - 2)
        return parsed.models.get(name, ModelEntry())

    def add_version(self, name: str, head: ModelEntry, version: str, item: VersionEntry) -> None:
        """Give model ``name`` the descriptive fields and stages of ``head`` (from
        :meth:`head`) and a new ``version``.

        A registration adds a few lines to a block that may hold thousands of versions: when
        the block is in modelreg's layout (:func:`~modelreg.index.splice.split_versions`),
        its head is re-dumped and the version's lines are put among the others as text; the
        result equals re-serialising the whole block (a property test holds it to that)."""
        from modelreg.index.serialise import dump_model_block, dump_version

        found = self._versions_of(name)
        if found is None or version in found.names:  # a version listed already: replaced
            entry = self.entry(name)
            for field in type(head).model_fields.keys() - {"versions"}:
                setattr(entry, field, getattr(head, field))
            entry.versions[version] = item
            return
        start, _ = self._blocks[name]
        top = dump_model_block(name, head.model_copy(update={"versions": {}}), self.stages)
        top = top.removesuffix("    versions: {}\n")
        block = add_version(found, top, version, dump_version(name, version, item))
        self._blocks[name] = (start, block)

    def _versions_of(self, name: str) -> Versions | None:
        """Model ``name``'s block cut at its versions, when it can be edited as text."""
        if self._full is not None or name in self._changed or name not in self._blocks:
            return None
        return split_versions(self._blocks[name][1])

    def set_stages(self, name: str, stages: dict[str, str]) -> None:
        """Set model ``name``'s desired stages.

        A stage change rewrites one line of a block that may hold thousands of versions: when
        the block is in modelreg's layout and not otherwise changed, that line is replaced in
        the text, without parsing or re-serialising the versions (the whole file was
        validated when the write began)."""
        if self._full is None and name not in self._changed and name in self._blocks:
            start, block = self._blocks[name]
            patched = replace_stages(block, stages, self.stages)
            if patched is not None:
                self._blocks[name] = (start, patched)
                return
        self.entry(name).stages = dict(stages)

    def render(self) -> str:
        """The whole file with the changed models re-serialized."""
        if self._full is not None:
            from modelreg.index.schema import Index
            from modelreg.index.serialise import dump_index

            models = {**self._full.models, **self._changed}
            full = Index(branch=self.branch, stages=self.stages, policy=self.policy, models=models)
            return dump_index(full, self.preamble)
        names = sorted(set(self._blocks) | set(self._changed))
        body = "".join(self._block_text(name) for name in names)
        section = "models:\n" + body if names else "models: {}\n"
        return self._head + section + self._tail

    def _block_text(self, name: str) -> str:
        """Model ``name``'s lines: as they are, or re-serialized when it changed."""
        if name not in self._changed:
            return self._blocks[name][1]
        from modelreg.index.serialise import dump_model_block

        return dump_model_block(name, self._changed[name], self.stages)

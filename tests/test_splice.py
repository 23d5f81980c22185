"""A stage change rewrites one line of a model's block (modelreg.index.splice), and a write
on a header in modelreg's form reads it without YAML (modelreg.index.header)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from tests.helpers import imported_by, write_model

from modelreg import Registry
from modelreg.errors import InvalidIndexError
from modelreg.index import dumper, header, splice
from modelreg.index.editor import IndexEditor
from modelreg.index.parse import parse_index
from modelreg.index.schema import ModelEntry, VersionEntry
from modelreg.index.serialise import dump_model_block
from modelreg.semver import sort_key

_ORDER = ["dev", "staging", "production"]
# Stage and version words: ones written bare, ones YAML reads as something else (quoted by
# the dumper), and long ones that push the line past the dumper's width.
_STAGE = st.sampled_from(
    ["dev", "staging", "production", "qa", "yes", "True", "1", "a b", "team/prod", "x" * 40]
)
_VERSION = st.sampled_from(
    ["v1.0.0", "v2.0.0-rc.1", "1.2.3", "v0.0.1+build.7", "V9.9.9", "null", "v" + "1" * 45]
)
_TEXT = st.text(alphabet="ab: #'\"\n\t{}[]&*!%@`-é", max_size=30)


@given(
    description=st.none() | _TEXT | st.text(alphabet="ab ", min_size=90, max_size=150),
    labels=st.lists(_TEXT, max_size=2),
    old=st.dictionaries(_STAGE, _VERSION, max_size=3),
    new=st.dictionaries(_STAGE, _VERSION, max_size=4),
    versions=st.lists(_VERSION, max_size=3, unique=True),
    registered_by=st.sampled_from(["Ann <ann@example.com>", 'it\'s "me"', "a\nb"]),
)
def test_a_stage_change_rewrites_the_block_as_a_full_dump_would(
    description: str | None,
    labels: list[str],
    old: dict[str, str],
    new: dict[str, str],
    versions: list[str],
    registered_by: str,
) -> None:
    entry = ModelEntry(
        description=description,
        labels=labels,
        stages=old,
        versions={
            v: VersionEntry(
                tag=f"m@{v}",
                metrics={"acc": 0.5},
                params={"s": "x, y"},
                registered_by=registered_by,
                registered_at="2026-11-20T10:02:11Z",
            )
            for v in versions
        },
    )
    block = dump_model_block("m", entry, _ORDER)
    want = dump_model_block("m", entry.model_copy(update={"stages": new}), _ORDER)
    result = splice.replace_stages(block, new, _ORDER)
    # Only a stages entry the dumper folded over two lines is left to a whole re-dump.
    one_line = any(ln.startswith("    stages: {") and ln.endswith("}") for ln in block.split("\n"))
    assert result == (want if one_line else None)
    editor = IndexEditor("stages: [dev, staging, production]\nmodels:\n" + block)
    editor.set_stages("m", new)
    assert editor.render() == "stages: [dev, staging, production]\nmodels:\n" + want


def test_the_blocks_modelreg_writes_are_read_without_yaml() -> None:
    """The line scan, not the YAML fallback, finds the line in modelreg's own blocks."""
    entry = ModelEntry(
        description="Churn: 'weekly' model",
        path="models/churn.pkl",
        labels=["tabular", "v2"],
        stages={"production": "v1.0.0"},
        versions={
            "v1.0.0": VersionEntry(
                tag="churn@v1.0.0",
                md5="a" * 32,
                size=3,
                metrics={"acc": 0.9},
                params={"solver": "lbfgs", "note": "a, b"},
                registered_by="Ann <ann@example.com>",
                registered_at="2026-11-20T10:02:11Z",
            )
        },
    )
    lines = dump_model_block("churn", entry, _ORDER).split("\n")
    assert splice.scan_stages_line(lines) == 4
    assert lines[4] == "    stages: {production: v1.0.0}"


# Lines a hand-written block may hold, modelreg's own form or not: every way a line can
# continue another (quoted scalars, flow collections, block scalars, plain folding), lines
# that look like the stages line at other depths, repeated and quoted keys, comments.
_LINE = st.sampled_from(
    [
        "    description: plain words",
        "    description: 'quoted # not a comment'",
        '    description: "x',
        "    description: 'x",
        "    description: |",
        "    description: >-",
        "    description: a",
        "      folded continuation",
        "    stages: {dev: v1.0.0}",
        "    stages: {staging: v2.0.0, dev: v1.0.0}",
        "    stages: {'dev': v1.0.0}",
        "    stages: {dev: v1.0.0}  # pinned",
        "    stages: &s {dev: v1.0.0}",
        "    stages:",
        "      dev: v1.0.0",
        "    'stages': {dev: v3.0.0}",
        '    "stages": {}',
        "    stages: {dev: v1.0.0,",
        "      staging: v2.0.0}",
        "    labels: [a, 'b, c']",
        "    labels: [a,",
        "      b]",
        "    path: models/m.pkl",
        "    deprecated: true",
        "    versions:",
        "    versions: {}",
        "      v1.0.0:",
        "        tag: m@v1.0.0",
        "        metrics: {acc: 0.9}",
        "        params: {s: 'a, b'}",
        "        registered_at: '2026-11-20T10:02:11Z'",
        '        registered_by: "it\'s \\"me\\""',
        "        registered_by: 'x",
        "    stages: {dev: v9.9.9}'",
        '    stages: {dev: v9.9.9}"',
        "  # a comment",
        "    # stages: {dev: v0.0.0}",
        "",
        "   three: spaces",
        "\tstages: {}",
        "    ? complex",
        "    - item",
        "    x: *alias",
    ]
)


@settings(max_examples=500)  # a few hundred of them are blocks YAML reads
@given(st.lists(_LINE, max_size=8))
def test_the_line_scan_agrees_with_yaml_on_any_block(body: list[str]) -> None:
    """Wherever the scan answers, YAML's events give the same line: a block it cannot read
    whole is left to them.  (Only blocks YAML reads: every write validates the whole file
    before it edits a line.)"""
    block = "  m:\n" + "".join(f"{line}\n" for line in body)
    try:
        yaml.safe_load("models:\n" + block)
    except yaml.YAMLError:
        assume(False)
    lines = block.split("\n")
    found = splice.scan_stages_line(lines)
    if found is not None:
        assert found == splice.event_stages_line(block, lines)


@pytest.mark.parametrize(
    "block",
    [
        # A quoted description that hides a line looking like the stages line.
        '  m:\n    description: "x\n    stages: {dev: v9.9.9}\n    versions: {}\n      "\n',
        "  m:\n    description: 'x\n    stages: {dev: v9.9.9}\n    '\n    versions: {}\n",
        # The key twice: YAML keeps the last, so the first is not the one to change.
        "  m:\n    stages: {dev: v1.0.0}\n    versions: {}\n    stages: {dev: v2.0.0}\n",
        "  m:\n    stages: {dev: v1.0.0}\n    versions: {}\n    'stages': {dev: v2.0.0}\n",
        # An anchor another node may refer to, a comment, a block mapping: not our line.
        "  m:\n    stages: &s {dev: v1.0.0}\n    versions: {}\n",
        "  m:\n    stages: {dev: v1.0.0}  # pinned\n    versions: {}\n",
        "  m:\n    stages:\n      dev: v1.0.0\n    versions: {}\n",
        # A flow mapping over two lines.
        "  m:\n    stages: {dev: v1.0.0,\n      staging: v2.0.0}\n    versions: {}\n",
    ],
)
def test_a_block_not_in_modelregs_form_is_parsed_and_rewritten_whole(block: str) -> None:
    assert splice.scan_stages_line(block.split("\n")) is None
    assert splice.replace_stages(block, {"staging": "v1.0.0"}, ["dev", "staging"]) is None
    editor = IndexEditor("stages: [dev, staging]\nmodels:\n" + block)
    editor.set_stages("m", {"staging": "v1.0.0"})
    data = yaml.safe_load(editor.render())
    assert data["models"]["m"]["stages"] == {"staging": "v1.0.0"}
    assert parse_index(editor.render()).models["m"].stages == {"staging": "v1.0.0"}


@given(st.lists(st.tuples(_STAGE, _VERSION), max_size=5, unique_by=lambda kv: kv[0]))
def test_a_stages_line_formatted_directly_is_the_dumpers(items: list[tuple[str, str]]) -> None:
    direct = splice._format_stages_line(items)
    dumped = dumper.dump({"models": {"m": {"stages": dumper.Flow(items)}}}).split("\n", 2)[2]
    assert direct is None or direct == dumped
    # Words YAML reads as themselves, on a line the dumper does not fold, are formatted.
    if all(s in ("dev", "qa") and v == "v1.0.0" for s, v in items):
        assert direct == dumped


def test_the_scan_knows_the_dumpers_width() -> None:
    assert splice._WIDTH == dumper.WIDTH


# -- the header, read without YAML ---------------------------------------------------------

_HEAD_LINE = st.sampled_from(
    [
        "# yaml-language-server: $schema=x",
        "",
        "branch: main",
        "branch: release/2026.11",
        "branch: Main_2",
        "branch: 123",
        "branch: 2026-11-20",
        "branch: true",
        "branch: Null",
        "branch: off",
        "branch: .inf",
        "branch: 0x1F",
        "branch: 'quoted'",
        "policy:",
        "  production: {requires: staging}",
        "stages: [dev, staging, production]",
        "stages: []",
        "stages: [dev, 'prod']",
        "stages: [dev, yes]",
        "stages:",
        "  - dev",
    ]
)


@given(st.lists(_HEAD_LINE, max_size=6))
def test_a_header_read_without_yaml_reads_as_the_schema_does(lines: list[str]) -> None:
    head = "".join(f"{line}\n" for line in lines)
    simple = header.simple_header(head)
    if simple is None:
        return
    parsed = parse_index(head)
    assert simple == (parsed.branch, parsed.stages)
    assert parsed.policy == {}


def test_the_header_modelreg_writes_is_read_without_yaml() -> None:
    head = "# yaml-language-server: $schema=x\nbranch: main\nstages: [dev, staging, prod]\n"
    assert header.simple_header(head) == ("main", ["dev", "staging", "prod"])
    assert header.simple_header("stages: []\n") == (None, [])
    assert header.simple_header("branch: a\nbranch: b\nstages: [dev]\n") is None
    assert header.simple_header("branch: 2026\nstages: [dev]\n") is None
    assert header.simple_header("policy:\n  prod: {}\nstages: [dev]\n") is None


def test_an_editor_reads_a_policy_header_with_the_schema() -> None:
    text = "stages: [dev, prod]\npolicy:\n  prod: {requires: dev}\nmodels: {}\n"
    editor = IndexEditor(text)
    assert editor.stages == ["dev", "prod"]
    assert editor.policy["prod"].required_stages == ["dev"]
    with pytest.raises(InvalidIndexError, match="policy.prod.requires"):
        IndexEditor("stages: [dev]\npolicy:\n  prod: {requires: 3}\nmodels: {}\n")


def test_a_promotion_imports_neither_yaml_nor_the_schema(registry: Registry, repo: Path) -> None:
    """On a registry.yaml in modelreg's form a stage change needs no YAML parser and no
    pydantic model: the header and the one line are read and written as text."""
    write_model(repo, "a")
    registry.register("churn", "models/churn.pkl")
    imported = imported_by(repo, "promote", "churn", "v1.0.0", "production")
    assert "modelreg.promotion" in imported  # the probe sees our own modules
    assert not {"yaml", "modelreg.index.schema", "modelreg.index.parse"} & imported
    assert registry.which_version("churn", "production") == "v1.0.0"
    index = parse_index((repo / "registry.yaml").read_text())
    assert index.models["churn"].stages == {"production": "v1.0.0"}


# -- a registration adds a version's lines among the others ---------------------------------

_SEMVER = st.sampled_from(
    ["v0.1.0", "v1.0.0", "v1.2.0", "v1.10.0", "v2.0.0-rc.1", "v2.0.0", "v10.0.0", "v1.0.1+b.7"]
)


@given(
    description=st.none() | _TEXT,
    labels=st.lists(_TEXT, max_size=2),
    deprecated=st.booleans(),
    stages=st.dictionaries(_STAGE, _SEMVER, max_size=2),
    versions=st.lists(_SEMVER, max_size=4, unique=True),
    new=_SEMVER,
    new_description=st.none() | _TEXT,
    new_labels=st.lists(st.sampled_from(["x", "tabular"]), max_size=2),
    registered_by=st.sampled_from(["Ann <ann@example.com>", 'it\'s "me"', "a" * 120]),
)
def test_a_registration_adds_the_version_as_a_full_dump_would(
    description: str | None,
    labels: list[str],
    deprecated: bool,
    stages: dict[str, str],
    versions: list[str],
    new: str,
    new_description: str | None,
    new_labels: list[str],
    registered_by: str,
) -> None:
    assume(new not in versions)

    def item(v: str) -> VersionEntry:
        return VersionEntry(
            tag=f"m@{v}",
            md5="a" * 32,
            size=3,
            metrics={"acc": 0.5, "f1": 0.25},
            params={"s": "x, y", "n": 3},
            registered_by=registered_by,
            registered_at="2026-11-20T10:02:11Z",
        )

    entry = ModelEntry(
        description=description,
        path="models/m.pkl",
        labels=labels,
        deprecated=deprecated,
        stages=stages,
        versions={v: item(v) for v in versions},
    )
    text = "stages: [dev, staging, production]\nmodels:\n" + dump_model_block("m", entry, _ORDER)
    editor = IndexEditor(text)
    assert editor.version_names("m") == sorted(versions, key=sort_key)
    head = editor.head("m")
    assert head.versions == {}
    assert head.model_dump(exclude={"versions"}) == entry.model_dump(exclude={"versions"})
    head.description = new_description or head.description
    head.labels = new_labels or head.labels
    head.deprecated = False
    editor.add_version("m", head, new, item(new))
    want = entry.model_copy(
        update={
            "description": head.description,
            "labels": head.labels,
            "deprecated": False,
            "versions": {**entry.versions, new: item(new)},
        }
    )
    assert editor.render() == (
        "stages: [dev, staging, production]\nmodels:\n" + dump_model_block("m", want, _ORDER)
    )


def test_the_blocks_modelreg_writes_take_a_version_as_text() -> None:
    entry = ModelEntry(
        path="models/m.pkl",
        stages={"production": "v1.0.0"},
        versions={
            "v1.0.0": VersionEntry(tag="m@v1.0.0", metrics={"acc": 0.9}),
            "v1.10.0": VersionEntry(tag="m@v1.10.0"),
        },
    )
    found = splice.split_versions(dump_model_block("m", entry, _ORDER))
    assert found is not None
    assert found.names == ("v1.0.0", "v1.10.0")
    assert found.head == ("  m:", "    path: models/m.pkl", "    stages: {production: v1.0.0}")


@pytest.mark.parametrize(
    "block",
    [
        # Versions out of SemVer order, or one twice: a full dump sorts (and YAML keeps one).
        "  m:\n    versions:\n      v2.0.0:\n        tag: a\n      v1.0.0:\n        tag: b\n",
        "  m:\n    versions:\n      v1.0.0:\n        tag: a\n      v1.0.0:\n        tag: b\n",
        # A key after versions, a quoted or flow version key, a comment among the versions.
        "  m:\n    versions:\n      v1.0.0:\n        tag: m@v1.0.0\n    path: x\n",
        "  m:\n    versions:\n      'v1.0.0':\n        tag: m@v1.0.0\n",
        "  m:\n    versions:\n      v1.0.0: {tag: m@v1.0.0}\n",
        "  m:\n    versions:\n      # old\n      v1.0.0:\n        tag: m@v1.0.0\n",
        # A version key YAML reads as a number, a description that goes on over lines.
        "  m:\n    versions:\n      1.10:\n        tag: m@1.10\n",
        "  m:\n    description: 'a\n      b'\n    versions:\n      v1.0.0:\n        tag: x\n",
        # No versions key at all.
        "  m:\n    path: x\n",
    ],
)
def test_a_block_not_in_modelregs_form_takes_a_version_by_a_full_dump(block: str) -> None:
    assert splice.split_versions(block) is None
    editor = IndexEditor("stages: [dev]\nmodels:\n" + block)
    before = parse_index("stages: [dev]\nmodels:\n" + block).models["m"]
    assert editor.version_names("m") == list(before.versions)
    head = editor.head("m")
    editor.add_version("m", head, "v3.0.0", VersionEntry(tag="m@v3.0.0"))
    after = parse_index(editor.render()).models["m"]
    assert after.versions == {**before.versions, "v3.0.0": VersionEntry(tag="m@v3.0.0")}
    assert after.model_dump(exclude={"versions"}) == before.model_dump(exclude={"versions"})


def test_a_new_model_takes_its_first_version() -> None:
    editor = IndexEditor("stages: [dev]\nmodels: {}\n")
    assert editor.version_names("m") == []
    head = editor.head("m")
    head.path = "models/m.pkl"
    editor.add_version("m", head, "v1.0.0", VersionEntry(tag="m@v1.0.0"))
    index = parse_index(editor.render())
    assert index.models["m"].path == "models/m.pkl"
    assert list(index.models["m"].versions) == ["v1.0.0"]


def test_registrations_by_text_write_what_a_full_dump_writes(
    registry: Registry, repo: Path
) -> None:
    """The second registration finds the block in modelreg's form, so it adds its version
    as text; the file is still the one a full dump gives."""
    write_model(repo, "a")
    registry.register("churn", "models/churn.pkl", metrics={"acc": 0.5})
    editor = IndexEditor((repo / "registry.yaml").read_text())
    assert splice.split_versions(editor._blocks["churn"][1]) is not None
    write_model(repo, "b")
    registry.register("churn", "models/churn.pkl", metrics={"acc": 0.75})
    text = (repo / "registry.yaml").read_text()
    index = parse_index(text)
    assert list(index.models["churn"].versions) == ["v1.0.0", "v1.1.0"]
    assert index.models["churn"].versions["v1.1.0"].metrics == {"acc": 0.75}
    assert text.endswith(dump_model_block("churn", index.models["churn"], index.stages))


def test_adding_a_version_the_block_lists_replaces_it() -> None:
    """A redone registration may take a version the index lists already: YAML would keep
    only one of two keys, so the entry is replaced, not repeated."""
    entry = ModelEntry(versions={"v1.0.0": VersionEntry(tag="m@v1.0.0", md5="a" * 32)})
    editor = IndexEditor("stages: [dev]\nmodels:\n" + dump_model_block("m", entry, ["dev"]))
    editor.add_version("m", editor.head("m"), "v1.0.0", VersionEntry(tag="m@v1.0.0", size=9))
    text = editor.render()
    assert text.count("v1.0.0:") == 1
    assert parse_index(text).models["m"].versions["v1.0.0"] == VersionEntry(tag="m@v1.0.0", size=9)


@pytest.mark.parametrize(
    "block",
    [
        "  m:\n    versions: x\n",  # versions with a value of its own
        "  m:\n\n    versions: {}\n",  # a blank line above versions
        "  m:\n    # kept\n    versions: {}\n",  # a comment line above versions
        "  m:\n    versions: {}\n      v1.0.0:\n        tag: x\n",  # lines under an empty one
    ],
)
def test_a_head_not_in_modelregs_form_is_not_split(block: str) -> None:
    assert splice.split_versions(block) is None


@pytest.mark.parametrize(
    "block",
    [
        "  m:\n    stages: {dev: [\n",  # not YAML
        "  m: x\n",  # the model is not a mapping
        "  m:\n    ? [a]\n    : b\n    stages: {}\n",  # a key that is not a scalar
    ],
)
def test_yamls_events_find_no_stages_line_where_there_is_none(block: str) -> None:
    assert splice.event_stages_line(block, block.split("\n")) is None

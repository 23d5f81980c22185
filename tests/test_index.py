"""registry.yaml: stable writing, strict reading with line numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from modelreg.errors import InvalidIndexError
from modelreg.index import header
from modelreg.index.editor import IndexEditor
from modelreg.index.files import read_index_text
from modelreg.index.header import read_stage_order
from modelreg.index.parse import parse_index
from modelreg.index.schema import Index, ModelEntry, VersionEntry
from modelreg.index.serialise import dump_index, write_index


def sample() -> Index:
    return Index(
        models={
            "zeta": ModelEntry(path="models/z.pkl"),
            "churn": ModelEntry(
                description="Customer churn classifier",
                path="models/churn.pkl",
                labels=["tabular"],
                stages={"production": "v1.2.0", "dev": "v1.10.0", "staging": "v1.10.0"},
                versions={
                    "v1.10.0": VersionEntry(
                        tag="churn@v1.10.0", md5="b" * 32, size=2, metrics={"acc": 0.95}
                    ),
                    "v1.2.0": VersionEntry(
                        tag="churn@v1.2.0",
                        md5="a" * 32,
                        size=1,
                        metrics={"loss": 0.1, "acc": 0.93},
                        params={"C": 1.0, "solver": "lbfgs"},
                        registered_by="Ada <ada@example.com>",
                        registered_at="2026-11-20T10:02:11Z",
                    ),
                },
            ),
        }
    )


def test_dump_is_stable_sorted_and_round_trips() -> None:
    text = dump_index(sample())
    assert parse_index(text) == sample()
    assert dump_index(parse_index(text)) == text
    # models by name, versions by SemVer, stages in promotion order, metrics by key
    assert text.index("churn:") < text.index("zeta:")
    assert text.index("v1.2.0:") < text.index("v1.10.0:")
    assert "stages: {dev: v1.10.0, staging: v1.10.0, production: v1.2.0}" in text
    assert "metrics: {acc: 0.93, loss: 0.1}" in text
    assert text.startswith("stages: [dev, staging, production]\n")


def test_write_keeps_file_mode_and_is_idempotent(tmp_path: Path) -> None:
    write_index(tmp_path, sample())
    path = tmp_path / "registry.yaml"
    path.chmod(0o644)
    first = path.read_bytes()
    write_index(tmp_path, parse_index(first.decode()))
    assert path.read_bytes() == first
    assert path.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("models:\n  churn:\n    versions: [\n", r"registry.yaml:\d+: invalid YAML"),
        ("- a\n- b\n", "expected a mapping"),
        (
            "models:\n  churn:\n    pathh: x\n",
            r"registry.yaml:3: models.churn.pathh: unknown key 'pathh'",
        ),
        (
            "models:\n  churn:\n    versions:\n      v1.0.0:\n        tag: churn@v1.0.0\n"
            "        size: big\n",
            r"registry.yaml:6: models.churn.versions.v1.0.0.size",
        ),
        (
            "models:\n  m:\n    versions:\n      v1.0.0:\n        tag: m@v1.0.0\n"
            "        metrics: {acc: high}\n",
            r"registry.yaml:6: models.m.versions.v1.0.0.metrics.acc: expected a number, got 'high'",
        ),
        (
            "models:\n  m:\n    versions:\n      v1.0.0: {md5: abc}\n",
            r"registry.yaml:4: models.m.versions.v1.0.0: missing key 'tag'",
        ),
        (
            "models:\n  m:\n    deprecated: 1\n",
            r"registry.yaml:3: models.m.deprecated: expected true or false, got 1",
        ),
        (
            "policy:\n  prod:\n    metrics: {acc: 0.9}\n",
            r"registry.yaml:3: policy.prod.metrics.acc: expected a string, got 0.9",
        ),
        ("stages: production\n", r"registry.yaml:1: stages: expected a list, got 'production'"),
    ],
)
def test_malformed_index_is_one_line_with_location(text: str, pattern: str) -> None:
    with pytest.raises(InvalidIndexError, match=pattern) as e:
        parse_index(text)
    assert "\n" not in str(e.value)


def test_empty_file_is_an_empty_index() -> None:
    assert parse_index("") == Index()


def test_stage_order_is_read_from_the_header_only(tmp_path: Path) -> None:
    (tmp_path / "registry.yaml").write_text("stages: [a, b]\nmodels:\n  x: [not, valid\n")
    assert read_stage_order(tmp_path) == ["a", "b"]
    assert read_stage_order(tmp_path / "missing") == ["dev", "staging", "production"]


def test_editor_rewrites_one_model_and_keeps_the_rest_byte_for_byte() -> None:
    text = dump_index(sample())
    editor = IndexEditor(text)
    editor.entry("churn").stages["production"] = "v1.10.0"
    editor.entry("alpha").path = "models/a.pkl"  # a new model lands in sorted position
    expected = sample()
    expected.models["churn"].stages["production"] = "v1.10.0"
    expected.models["alpha"] = ModelEntry(path="models/a.pkl")
    assert editor.render() == dump_index(expected)
    untouched = IndexEditor(text)
    untouched.entry("zeta")
    assert untouched.render() == text


def test_editor_falls_back_to_a_full_parse_for_hand_written_layouts() -> None:
    flow = "stages: [dev, prod]\nmodels: {churn: {path: m.pkl, stages: {prod: v1.0.0}}}\n"
    editor = IndexEditor(flow)
    assert editor.entry("churn").stages == {"prod": "v1.0.0"}
    editor.entry("churn").stages = {}
    assert parse_index(editor.render()).models["churn"].path == "m.pkl"
    four = "models:\n    churn:\n        path: m.pkl\n"
    assert IndexEditor(four).entry("churn").path == "m.pkl"
    assert IndexEditor("stages: [a]\n").stages == ["a"]


def test_editor_reports_the_file_line_of_a_bad_block() -> None:
    text = dump_index(sample()).replace("size: 1\n", "size: one\n")
    line = text.splitlines().index("        size: one") + 1
    with pytest.raises(InvalidIndexError, match=rf"registry.yaml:{line}: models.churn.versions"):
        IndexEditor(text).entry("churn")


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"stages: [a]\nmodels: {}\n", "stages: [a]\nmodels: {}\n"),
        (b"stages: [a]\r\nmodels: {}\r\n", "stages: [a]\nmodels: {}\n"),
        (b"stages: [a]\rmodels: {}\r", "stages: [a]\nmodels: {}\n"),
        (b"# caf\xc3\xa9\r\nmodels: {}\n", "# caf\u00e9\nmodels: {}\n"),
    ],
)
def test_the_index_is_read_with_universal_newlines(tmp_path: Path, raw: bytes, text: str) -> None:
    (tmp_path / "registry.yaml").write_bytes(raw)
    assert read_index_text(tmp_path) == text


_ITEM = st.sampled_from(
    [
        "dev",
        "prod",
        "staging-2",
        "a_b",
        "team/prod",
        "yes",
        "No",
        "null",
        "1",
        "1.5",
        "'q'",
        "x y",
        "",
        "on",
    ]
)
_OTHER = st.sampled_from(["# note", "", "branch: main", "branch: feat/x", "policy: {}", "x: 1"])


@given(
    before=st.lists(_OTHER, max_size=3),
    items=st.lists(_ITEM, max_size=4),
    spaces=st.sampled_from([", ", ",", " , "]),
    after=st.lists(_OTHER, max_size=2),
)
def test_the_stage_order_is_read_as_yaml_reads_it(
    tmp_path_factory: pytest.TempPathFactory,
    before: list[str],
    items: list[str],
    spaces: str,
    after: list[str],
) -> None:
    """The header modelreg writes is read without a YAML parser; every header, that form or
    not, gives what reading it as YAML gives."""
    text = "".join(f"{line}\n" for line in [*before, f"stages: [{spaces.join(items)}]", *after])
    root = tmp_path_factory.mktemp("h")
    (root / "registry.yaml").write_text(text + "models: {}\n")
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        data = {}
    stages = data.get("stages") if isinstance(data, dict) else None
    ok = isinstance(stages, list) and all(isinstance(s, str) for s in stages)
    assert read_stage_order(root) == (stages if ok else header.DEFAULT_STAGES)


def test_the_header_modelreg_writes_is_read_without_yaml() -> None:
    head = "# yaml-language-server: $schema=x\nbranch: main\nstages: [dev, staging, prod]\n"
    assert header._simple_stages(head) == ["dev", "staging", "prod"]
    assert header._simple_stages("stages: []\n") == []
    assert header._simple_stages("stages: [dev, 'prod']\n") is None
    assert header._simple_stages("policy:\n  prod: {}\nstages: [dev]\n") is None

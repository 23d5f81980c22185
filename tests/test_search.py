"""``modelreg search``: the grammar (the shared table of tests/search_table.py, which the
browser's copy in tests/test_search_js.py passes too), the rows a registry gives it, and the
command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.dated import DatedRegistry
from tests.helpers import modelreg, write_model
from tests.search_table import ROWS, TABLE, python_result

from modelreg import InvalidInputError, Registry
from modelreg.records import to_jsonable
from modelreg.search import parse

ROW_KEYS = [
    "model",
    "version",
    "tag",
    "registered_at",
    "author",
    "labels",
    "stages",
    "flavor",
    "metrics",
    "params",
]


@pytest.mark.parametrize("case", TABLE["cases"], ids=[c["expr"] for c in TABLE["cases"]])
def test_the_shared_table(case: dict[str, Any]) -> None:
    got = python_result(case["expr"], ROWS)
    if "error" in case:
        assert "error" in got, got
        assert case["error"] in got["error"]
        assert "\n" not in got["error"]
    else:
        assert got == {"match": case["match"]}


def test_the_table_rows_have_the_documented_shape() -> None:
    assert all(list(r) == ROW_KEYS for r in TABLE["rows"])
    assert [to_jsonable(r) for r in ROWS] == TABLE["rows"]


def test_a_syntax_error_needs_no_rows() -> None:
    with pytest.raises(InvalidInputError, match="'acc>>1'"):
        parse("acc>>1")
    assert parse("acuracy>=0.9").terms[0].key == "acuracy"  # names are resolved against rows


@pytest.fixture
def dated(tmp_path: Path) -> DatedRegistry:
    reg = DatedRegistry(tmp_path / "repo")
    reg.register(
        "churn",
        "v1.0.0",
        "2026-10-01T09:00:00",
        metrics={"accuracy": 0.88},
        params={"C": 1, "solver": "liblinear"},
        labels=["tabular"],
        author="Bob Builder <bob@acme.io>",
    )
    reg.register(
        "churn",
        "v1.1.0",
        "2026-11-20T10:02:11",
        metrics={"accuracy": 0.95, "f1": 0.9},
        params={"C": 0.5, "solver": "lbfgs"},
        labels=["tabular"],
        card={"flavor": "sklearn", "file": "model.skops"},
    )
    reg.tag("churn#production#1", "churn", "v1.0.0", "2026-10-02T00:00:00")
    reg.tag("churn#staging#2", "churn", "v1.1.0", "2026-11-20T10:03:00")
    reg.tag("churn#production#3", "churn", "v1.1.0", "2026-11-20T10:04:00")
    reg.register("churn", "v1.2.0", "2026-11-21T00:00:00", metrics={"accuracy": 0.99})
    reg.tag("churn@v1.2.0!#4", "churn", "v1.2.0", "2026-11-21T00:01:00")  # deregistered
    reg.register("nlp/intent:classifier", "v1.0.0", "2026-11-01T12:00:00", labels=["nlp"])
    reg.register("old", "v1.0.0", "2026-01-01T00:00:00", metrics={"accuracy": 0.99})
    reg.tag("old@deprecated#1", "old", "v1.0.0", "2026-02-01T00:00:00")
    # A version another tool registered: no record, so the tag says who and when.
    reg.tag("gto@v0.1.0", "gto", "v0.1.0", "2026-11-05T08:30:00", tagger="Gus <gus@x.io>")
    return reg


def test_rows_come_from_the_tags(dated: DatedRegistry) -> None:
    rows = Registry(dated.root).search("")
    assert [(r.model, r.version) for r in rows] == [
        ("churn", "v1.1.0"),
        ("churn", "v1.0.0"),
        ("gto", "v0.1.0"),
        ("nlp/intent:classifier", "v1.0.0"),
    ]  # deregistered versions and deprecated models are left out
    data = to_jsonable(rows)
    assert [list(r) for r in data] == [ROW_KEYS] * 4
    assert data[0] == {
        "model": "churn",
        "version": "v1.1.0",
        "tag": "churn@v1.1.0",
        "registered_at": "2026-11-20T10:02:11Z",
        "author": "Ada Tester <ada@example.com>",
        "labels": ["tabular"],
        "stages": ["production", "staging"],
        "flavor": "sklearn",
        "metrics": {"accuracy": 0.95, "f1": 0.9},
        "params": {"C": 0.5, "solver": "lbfgs"},
    }
    assert data[2] == {
        "model": "gto",
        "version": "v0.1.0",
        "tag": "gto@v0.1.0",
        "registered_at": "2026-11-05T08:30:00Z",
        "author": "Gus <gus@x.io>",
        "labels": [],
        "stages": [],
        "flavor": None,
        "metrics": {},
        "params": {},
    }
    assert data[3]["tag"] == "nlp/intent=classifier@v1.0.0"


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("stage=production", ["churn v1.1.0"]),  # the current holder, not a past one
        ("accuracy>=0.9", ["churn v1.1.0"]),  # v1.2.0 is deregistered, old is deprecated
        ("C=1.0 solver=liblinear", ["churn v1.0.0"]),
        ("author=BOB", ["churn v1.0.0"]),
        ("author=gus@", ["gto v0.1.0"]),
        ("label=nlp", ["nlp/intent:classifier v1.0.0"]),
        ("flavor=sklearn", ["churn v1.1.0"]),
        ("registered>2026-11-01T12:00", ["churn v1.1.0", "gto v0.1.0"]),
        ("registered<=2026-11-01T12:00", ["churn v1.0.0", "nlp/intent:classifier v1.0.0"]),
        ("model=nlp/intent:classifier", ["nlp/intent:classifier v1.0.0"]),
    ],
)
def test_registry_search(dated: DatedRegistry, expr: str, expected: list[str]) -> None:
    assert [f"{r.model} {r.version}" for r in Registry(dated.root).search(expr)] == expected


def test_search_on_the_command_line(dated: DatedRegistry) -> None:
    proc = modelreg(dated.root, "search", "accuracy>=0.8", "label=tabular")
    assert proc.returncode == 0, proc.stderr
    assert [line.split() for line in proc.stdout.splitlines()] == [
        ["model", "version", "stages", "registered", "metrics"],
        ["churn", "v1.1.0", "production,staging", "2026-11-20", "10:02", "accuracy=0.95", "f1=0.9"],
        ["churn", "v1.0.0", "-", "2026-10-01", "09:00", "accuracy=0.88"],
    ]
    as_json = modelreg(dated.root, "search", "accuracy>=0.8 label=tabular", "--json")
    assert json.loads(as_json.stdout) == to_jsonable(
        Registry(dated.root).search("accuracy>=0.8 label=tabular")
    )
    none = modelreg(dated.root, "search", "stage=canary")
    assert (none.returncode, none.stdout) == (0, "No versions match.\n")


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("acc>>1", "invalid search term 'acc>>1': '>1' is not a value: one operator per term"),
        ("C=1 acuracy>0", "invalid search term 'acuracy>0': no version has a metric or param"),
        ("registered>2026-11-31", "invalid search term 'registered>2026-11-31': '2026-11-31' is"),
    ],
)
def test_a_bad_expression_is_one_line_naming_the_term(
    dated: DatedRegistry, expr: str, message: str
) -> None:
    proc = modelreg(dated.root, "search", expr)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.startswith(f"modelreg: error: {message}")
    assert proc.stderr.count("\n") == 1


def test_a_metric_that_is_also_a_param_needs_its_prefix(dated: DatedRegistry) -> None:
    dated.register("tuned", "v1.0.0", "2026-11-22T00:00:00", params={"accuracy": "high"})
    reg = Registry(dated.root)
    with pytest.raises(InvalidInputError) as ambiguous:
        reg.search("accuracy>=0.9")
    assert str(ambiguous.value) == (
        "invalid search term 'accuracy>=0.9': 'accuracy' is both a metric and a param: "
        "write metric.accuracy>=0.9 or param.accuracy>=0.9"
    )
    assert [r.model for r in reg.search("metric.accuracy>=0.9")] == ["churn"]
    assert [r.model for r in reg.search("param.accuracy=high")] == ["tuned"]


def test_search_by_url_gives_the_same_rows(dated: DatedRegistry, tmp_path: Path) -> None:
    import subprocess

    origin = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(dated.root), str(origin)], check=True)
    for expr in ("", "stage=production", "registered>2026-11-01"):
        assert Registry(origin.as_uri()).search(expr) == Registry(dated.root).search(expr)


def test_rows_of_a_real_registration(registry: Registry, repo: Path) -> None:
    write_model(repo, "a")
    registry.register(
        "churn", "models/churn.pkl", metrics={"accuracy": 0.9}, params={"C": 1.0}, labels=["tab"]
    )
    registry.promote("churn", "v1.0.0", "production")
    (row,) = registry.search("accuracy>=0.9 C=1 label=tab stage=production author=ada")
    assert (row.model, row.version, row.stages, row.flavor) == (
        "churn",
        "v1.0.0",
        ["production"],
        None,
    )
    assert row.registered_at.microsecond == 0 and row.registered_at.utcoffset() is not None

"""Metrics and params from options and files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelreg.errors import InvalidInputError
from modelreg.values import flatten, metrics_from, params_from


def test_nested_keys_are_flattened_with_dots() -> None:
    assert flatten({"a": {"b": 1, "c": {"d": 2}}, "e": 3}) == {"a.b": 1, "a.c.d": 2, "e": 3}


def test_metrics_from_files_pairs_and_mappings(tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text(json.dumps({"test": {"acc": 0.9, "loss": 1}}))
    (tmp_path / "m.yaml").write_text("train:\n  acc: 0.99\n")
    metrics = metrics_from(
        {"f1": 0.5}, pairs=["test.acc=0.91"], files=[tmp_path / "m.json", tmp_path / "m.yaml"]
    )
    assert metrics == {"test.acc": 0.91, "test.loss": 1.0, "train.acc": 0.99, "f1": 0.5}


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (["acc=high"], "metric acc='high' from --metric is not a number"),
        (["acc"], "invalid --metric 'acc': use KEY=VALUE"),
        (["=1"], "invalid --metric '=1'"),
        (["acc=nan"], "not a finite number"),
    ],
)
def test_bad_metric_values(pairs: list[str], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message.replace("(", r"\(")):
        metrics_from(pairs=pairs)


def test_metric_files_must_hold_numbers(tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text('{"acc": "high"}')
    with pytest.raises(InvalidInputError, match="m.json"):
        metrics_from(files=[tmp_path / "m.json"])
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InvalidInputError, match="not valid JSON or YAML"):
        metrics_from(files=[tmp_path / "bad.json"])
    with pytest.raises(InvalidInputError, match="cannot read"):
        metrics_from(files=[tmp_path / "missing.json"])


def test_params_keep_scalar_types(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("model:\n  C: 1.0\n  solver: lbfgs\n  layers: [1, 2]\n")
    params = params_from(
        pairs=["max_iter=200", "fit_intercept=true", "name=x"], files=[tmp_path / "p.yaml"]
    )
    assert params == {
        "model.C": 1.0,
        "model.solver": "lbfgs",
        "model.layers": "[1, 2]",
        "max_iter": 200,
        "fit_intercept": True,
        "name": "x",
    }
    with pytest.raises(InvalidInputError, match="not a scalar"):
        params_from({"x": {"a": object()}})

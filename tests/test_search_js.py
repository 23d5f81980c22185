"""The browser's copy of the search grammar (``src/modelreg/assets/search.js``) under Node:
the shared table, thousands of random expressions and a real registry's rows give exactly
what ``search.py`` gives, matches and error messages alike.

Needs ``node`` (Node 20); without it the tests skip, which ``make test-all``
(MODELREG_NO_SKIPS=1) turns into a failure.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import write_model
from tests.search_table import ROWS, TABLE, python_result

from modelreg import Registry
from modelreg.records import SearchRow, to_jsonable

ROOT = Path(__file__).resolve().parents[1]
HARNESS = Path(__file__).with_name("search_harness.js")
SCRIPT = Path(str(files("modelreg") / "assets" / "search.js"))


def run_js(exprs: list[str], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: apt-get install nodejs (Node 20)")
    proc = subprocess.run(
        [node, str(HARNESS), str(SCRIPT)],
        input=json.dumps({"rows": rows, "exprs": exprs}),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    results: list[dict[str, Any]] = json.loads(proc.stdout)
    return results


def _agree(exprs: list[str], rows: list[SearchRow]) -> list[dict[str, Any]]:
    """Run both; every result must be the same, message for message."""
    js = run_js(exprs, to_jsonable(rows))
    for expr, got in zip(exprs, js, strict=True):
        assert got == python_result(expr, rows), expr
    return js


def test_the_shared_table_in_the_browser_grammar() -> None:
    cases = TABLE["cases"]
    results = _agree([c["expr"] for c in cases], ROWS)
    for case, got in zip(cases, results, strict=True):
        if "error" in case:
            assert case["error"] in got.get("error", ""), case["expr"]
        else:
            assert got == {"match": case["match"]}, case["expr"]


KEYS = [
    "accuracy", "metric.accuracy", "C", "param.C", "solver", "lr", "metric.lr", "param.lr",
    "test.acc", "epochs", "balanced", "param.model", "label", "stage", "author", "registered",
    "flavor", "model", "nope", "metric.", "param.", "", '"k"', "é",
]  # fmt: skip
OPS = ["=", "!=", "<", "<=", ">", ">=", "!", "==", "=>", "<>", ""]
VALUES = [
    "0.9", ".9", "1", "1.0", "-1", "1e-3", "+0.5", "0.93", "10", "high", "lbfgs", "tabular",
    "production", "staging", "ada", "ADA", "acme.io", "2026-10-01", "2026-11-20T10:02",
    "2026-11-20T10:02:11Z", "2026-11-20T11:02:11+01:00", "2026-02-29", "2024-02-29T23:59:59",
    '"Ada Lovelace"', '"x', 'x"', "true", "False", "", "1_0", "0x1", "inf", "NaN",
    "nlp/intent:classifier", "churn", "sklearn", "path", "é", "Chloé", "1.", "-.5e+1",
]  # fmt: skip
SEPARATORS = [" ", "  ", "\t", "\n", " \r\n "]


def _expression(rng: random.Random) -> str:
    terms = [
        rng.choice(KEYS) + rng.choice(OPS) + rng.choice(VALUES) for _ in range(rng.randint(0, 4))
    ]
    if terms and rng.random() < 0.1:
        terms[rng.randrange(len(terms))] = rng.choice(VALUES)  # a term without an operator
    out = rng.choice(["", " "])
    for term in terms:
        out += term + rng.choice(SEPARATORS)
    return out


def test_random_expressions_agree() -> None:
    rng = random.Random(20261120)
    exprs = [_expression(rng) for _ in range(4000)]
    results = _agree(exprs, ROWS)
    # The sample reaches both outcomes often enough to mean something.
    errors = sum("error" in r for r in results)
    assert 0.2 * len(exprs) < errors < 0.9 * len(exprs)
    assert sum(bool(r.get("match")) for r in results) > 200


def test_a_real_registrys_rows_agree(registry: Registry, repo: Path) -> None:
    write_model(repo, "a")
    registry.register(
        "churn", "models/churn.pkl", metrics={"accuracy": 0.9}, params={"C": 1.0}, labels=["tab"]
    )
    write_model(repo, "b")
    registry.register(
        "churn", "models/churn.pkl", metrics={"accuracy": 0.95}, params={"C": 0.5, "fast": True}
    )
    registry.promote("churn", "v1.0.0", "production")
    rows = registry.search("")
    results = _agree(
        ["", "stage=production", "accuracy>0.92", "C=1", "fast=true", "label=tab",
         "author=ADA", "registered>2000-01-01", "registered<2000-01-01", "acc>>1", "nope=1"],
        rows,
    )  # fmt: skip
    assert results[1] == {"match": [["churn", "v1.0.0"]]}
    assert results[4] == {"match": [["churn", "v1.1.0"]]}


def test_the_script_and_the_site_assets_ship_in_the_wheel(tmp_path: Path) -> None:
    """An editable install finds them in src/ anyway; a wheel has them only through
    package-data, so build one (offline: no isolation, no dependencies) and look inside."""
    import subprocess
    import sys
    import zipfile

    assert SCRIPT.is_file()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("modelreg-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "modelreg/assets/search.js" in names
    assert "modelreg/py.typed" in names
    shipped = {
        p.relative_to(ROOT / "src").as_posix()
        for p in (ROOT / "src/modelreg/site/assets").iterdir()
    }
    assert shipped and shipped <= names, shipped - names

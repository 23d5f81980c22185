"""registry.yaml's pydantic schema: its one-line errors, its error fields, the JSON Schema
modelreg ships for editors, and the `$schema` line every write keeps."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from datetime import datetime, timezone
from pathlib import Path

import pytest
from tests.helpers import VENV_BIN, git, write_model

import modelreg
from modelreg import Registry, errors
from modelreg.errors import InvalidIndexError
from modelreg.index import schemafile
from modelreg.index.editor import IndexEditor
from modelreg.index.parse import parse_index
from modelreg.index.schema import Index, ModelEntry, VersionEntry
from modelreg.index.serialise import dump_index

SCHEMA = ".modelreg/registry.schema.json"


def check_jsonschema(repo: Path, target: Path) -> subprocess.CompletedProcess[str]:
    """The real check-jsonschema, with the schema copy the registry commits."""
    return subprocess.run(
        [str(VENV_BIN / "check-jsonschema"), "--schemafile", str(repo / SCHEMA), str(target)],
        capture_output=True,
        text=True,
    )


def test_the_shipped_schema_is_the_one_the_models_generate() -> None:
    assert schemafile.SHIPPED.read_text(encoding="utf-8") == schemafile.generate(), (
        f"{schemafile.SHIPPED.name} is out of date: run `{schemafile.REGENERATE}`"
    )


# -- errors ---------------------------------------------------------------------------------


def test_this_repository_is_a_registry_whose_index_names_the_shipped_schema() -> None:
    # The checkout doubles as a ready registry: it must look like one `modelreg init` made.
    root = Path(__file__).resolve().parents[1]
    assert (root / "registry.yaml").read_text().startswith(schemafile.MODELINE)
    assert (root / SCHEMA).read_bytes() == schemafile.shipped(), (
        f"copy src/modelreg/index/registry.schema.json to {SCHEMA}"
    )


@pytest.mark.parametrize(
    ("text", "line", "loc", "problem"),
    [
        (
            "models:\n  m:\n    versions:\n      v1.0.0:\n        tagg: m@v1.0.0\n",
            5,
            ("models", "m", "versions", "v1.0.0", "tagg"),
            "unknown key 'tagg' (allowed: tag, md5, size, nfiles, metrics, params, "
            "registered_by, registered_at, deregistered)",
        ),
        (
            "policy:\n  production:\n    requires: 3\n",
            3,
            ("policy", "production", "requires"),
            "expected a stage or a list of stages, got 3",
        ),
        (
            "models:\n  m:\n    versions:\n      v1.0.0:\n        tag: m@v1.0.0\n"
            "        params: {layers: [1, 2]}\n",
            6,
            ("models", "m", "versions", "v1.0.0", "params", "layers"),
            "expected a number, string or boolean, got [1, 2]",
        ),
        ("stages: [dev, 7]\n", 1, ("stages", 1), "expected a string, got 7"),
        ("models:\n  m: [a]\n", 2, ("models", "m"), "expected a mapping, got ['a']"),
        (
            "models:\n  m:\n    labels: [x]\n\n  n: 5\n",
            5,
            ("models", "n"),
            "expected a mapping, got 5",
        ),
    ],
)
def test_errors_carry_line_loc_problem_and_hint(
    text: str, line: int, loc: tuple[str | int, ...], problem: str
) -> None:
    with pytest.raises(InvalidIndexError) as e:
        parse_index(text)
    error = e.value
    assert (error.source, error.line, error.loc, error.problem, error.hint) == (
        "registry.yaml",
        line,
        loc,
        problem,
        "fix the file",
    )
    dotted = ".".join(str(p) for p in loc)
    assert str(error) == f"registry.yaml:{line}: {dotted}: {problem}: fix the file"


def test_the_error_crosses_a_process_boundary_with_its_fields() -> None:
    import pickle

    error = InvalidIndexError(
        "expected a number", "fix the file", source="registry.yaml", line=7, loc=("models", "x")
    )
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is InvalidIndexError and str(copy) == str(error)
    assert (copy.problem, copy.hint, copy.line, copy.loc) == (
        "expected a number",
        "fix the file",
        7,
        ("models", "x"),
    )


def test_an_error_without_a_place_has_no_line_or_loc() -> None:
    with pytest.raises(InvalidIndexError) as e:
        parse_index("- a\n")
    assert (e.value.line, e.value.loc) == (None, ())
    assert str(e.value) == "registry.yaml: expected a mapping at the top level: fix the file"


def test_index_error_is_the_deprecated_name_and_still_catches() -> None:
    with pytest.warns(DeprecationWarning, match="InvalidIndexError"):
        old = modelreg.IndexError_
    with pytest.warns(DeprecationWarning, match="InvalidIndexError"):
        assert errors.IndexError_ is old is InvalidIndexError
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(modelreg.IndexError_):
            parse_index("stages: production\n")
    assert "IndexError_" not in modelreg.__all__ and "InvalidIndexError" in modelreg.__all__


# -- what the schema accepts ----------------------------------------------------------------


def test_an_unquoted_timestamp_reads_as_the_string_modelreg_writes() -> None:
    text = (
        "models:\n  m:\n    versions:\n      v1.0.0:\n        tag: m@v1.0.0\n"
        "        registered_at: 2026-11-20T10:02:11Z\n"
    )
    entry = parse_index(text).models["m"].versions["v1.0.0"]
    assert entry.registered_at == "2026-11-20T10:02:11Z"
    assert "registered_at: '2026-11-20T10:02:11Z'" in dump_index(parse_index(text))


def test_values_keep_the_types_yaml_gave_them() -> None:
    text = (
        "models:\n  123:\n    versions:\n      v1.0.0:\n        tag: m@v1.0.0\n"
        "        metrics: {acc: 1, 7: 0.5}\n        params: {a: 1, b: 0.5, c: true, d: x}\n"
    )
    entry = parse_index(text).models["123"].versions["v1.0.0"]
    assert entry.metrics == {"acc": 1.0, "7": 0.5} and type(entry.metrics["acc"]) is float
    assert [type(v) for v in entry.params.values()] == [int, float, bool, str]
    for bad, problem in (("size: true", "an integer"), ("deregistered: 1", "true or false")):
        with pytest.raises(InvalidIndexError, match=f"expected {problem}, got"):
            parse_index("models:\n  m:\n    versions:\n      v1:\n        tag: t\n        " + bad)


def test_empty_entries_are_empty() -> None:
    index = parse_index("policy:\n  production:\nmodels:\n  churn:\n")
    assert index.models["churn"] == ModelEntry() and index.policy["production"].allow_empty


# -- the $schema line and the committed schema ----------------------------------------------


def test_init_writes_the_schema_line_first_and_commits_the_schema(
    registry: Registry, repo: Path
) -> None:
    lines = (repo / "registry.yaml").read_text().splitlines()
    assert lines[0] == f"# yaml-language-server: $schema=./{SCHEMA}"
    assert (repo / SCHEMA).read_bytes() == schemafile.shipped()
    assert SCHEMA in git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert git(repo, "status", "--porcelain") == ""


def test_what_modelreg_writes_validates_against_the_schema(registry: Registry, repo: Path) -> None:
    index = repo / "registry.yaml"
    index.write_text(
        index.read_text().replace(
            "models:",
            "policy:\n  production:\n    requires: [staging]\n    metrics: {acc: '>= 0.8'}\n"
            "    allow_empty: false\n  staging:\n    requires: dev\nmodels:",
        )
    )
    git(repo, "commit", "-qam", "policy")
    write_model(repo, "a")
    registry.register(
        "churn",
        "models/churn.pkl",
        metrics={"acc": 0.9},
        params={"C": 1, "solver": "lbfgs", "fit": True, "tol": 0.5},
        description="Churn",
        labels=["tabular"],
    )
    write_model(repo, "b")
    registry.register("churn", "models/churn.pkl", metrics={"acc": 0.95})
    registry.promote("churn", "v1.0.0", "dev")
    registry.promote("churn", "v1.0.0", "staging")
    registry.deprecate("churn", "v1.1.0")
    text = index.read_text()
    for key in ("branch:", "policy:", "metrics:", "params:", "labels:", "deregistered: true"):
        assert key in text
    proc = check_jsonschema(repo, index)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # PyYAML reads an unquoted timestamp as a datetime; the schema accepts it as written.
    unquoted = repo / "unquoted.yaml"
    unquoted.write_text(text.replace("registered_at: '", "registered_at: ").replace("Z'\n", "Z\n"))
    assert "registered_at: 20" in unquoted.read_text()
    assert check_jsonschema(repo, unquoted).returncode == 0
    parse_index(unquoted.read_text())


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("size: 1\n", "size: big\n", "'big' is not of type 'integer'"),
        ("    path: models", "    pathh: models", "'pathh' was unexpected"),
        ("metrics: {acc: 0.9}", "metrics: {acc: high}", "'high' is not of type 'number'"),
    ],
)
def test_a_broken_index_fails_the_schema_as_it_fails_modelreg(
    registry: Registry, repo: Path, old: str, new: str, expected: str
) -> None:
    write_model(repo, "a")
    registry.register("churn", "models/churn.pkl", metrics={"acc": 0.9})
    text = (repo / "registry.yaml").read_text()
    assert old in text
    broken = repo / "broken.yaml"
    broken.write_text(text.replace(old, new))
    proc = check_jsonschema(repo, broken)
    assert proc.returncode == 1 and expected in proc.stdout, proc.stdout
    with pytest.raises(InvalidIndexError):
        parse_index(broken.read_text())


def test_every_write_keeps_the_schema_line(registry: Registry, repo: Path) -> None:
    index = repo / "registry.yaml"
    modeline = schemafile.MODELINE
    # A registry from before `branch:`: the write records it below the comment lines.
    index.write_text(modeline + "# ours\n" + index.read_text()[len(modeline) :].split("\n", 1)[1])
    assert "branch:" not in index.read_text()
    git(repo, "commit", "-qam", "no branch")
    write_model(repo, "a")
    registry.register("churn", "models/churn.pkl")
    assert index.read_text().startswith(modeline + "# ours\nbranch: main\n")
    # A hand-written flow layout is parsed and rewritten whole: the comments stay on top.
    index.write_text(modeline + "stages: [dev, staging, production]\nmodels: {churn: {}}\n")
    git(repo, "commit", "-qam", "flow")
    write_model(repo, "b")
    registry.register("churn", "models/churn.pkl")
    assert index.read_text().startswith(modeline + "branch: main\nstages:")
    registry.rebuild_index()
    assert index.read_text().startswith(modeline)


def test_a_stale_schema_copy_is_refreshed_by_the_next_write(registry: Registry, repo: Path) -> None:
    (repo / SCHEMA).write_text("{}\n")
    git(repo, "commit", "-qam", "an older modelreg's schema")
    write_model(repo, "a")
    registry.register("churn", "models/churn.pkl")
    assert (repo / SCHEMA).read_bytes() == schemafile.shipped()
    assert SCHEMA in git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert git(repo, "status", "--porcelain") == ""
    # Without the line, the copy is left alone (the user removed the link on purpose).
    index = repo / "registry.yaml"
    index.write_text(index.read_text().removeprefix(schemafile.MODELINE))
    (repo / SCHEMA).write_text("{}\n")
    git(repo, "commit", "-qam", "unlinked")
    registry.promote("churn", "v1.0.0", "dev")
    assert (repo / SCHEMA).read_text() == "{}\n"


@pytest.mark.parametrize("blocker", ["a file named .modelreg", "a folder at the schema's path"])
def test_what_blocks_the_schema_copy_is_named_and_nothing_is_written(
    registry: Registry, repo: Path, blocker: str
) -> None:
    git(repo, "rm", "-rq", ".modelreg")
    git(repo, "commit", "-qm", "schema copy removed")
    if blocker == "a file named .modelreg":
        (repo / ".modelreg").write_text("someone's notes\n")
        named = ".modelreg is a file where modelreg needs a folder"
    else:
        (repo / SCHEMA).mkdir(parents=True)
        named = f"{SCHEMA} is a folder where modelreg keeps"
    write_model(repo, "a")
    head, tags = git(repo, "rev-parse", "HEAD"), git(repo, "tag")
    proc = subprocess.run(
        [str(VENV_BIN / "modelreg"), "register", "churn", "models/churn.pkl"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and named in proc.stderr, proc.stderr
    assert "move it away" in proc.stderr or "move .modelreg away" in proc.stderr
    assert git(repo, "rev-parse", "HEAD") == head and git(repo, "tag") == tags


def test_the_partial_editor_keeps_the_line_of_a_large_index() -> None:
    index = Index(
        models={
            f"m{i}": ModelEntry(
                versions={
                    "v1.0.0": VersionEntry(
                        tag=f"m{i}@v1.0.0",
                        registered_at=datetime(2026, 1, 1, tzinfo=timezone.utc).strftime(
                            "%Y-%m-%dT%H:%M:%SZ"
                        ),
                    )
                }
            )
            for i in range(3)
        }
    )
    text = dump_index(index, schemafile.MODELINE)
    editor = IndexEditor(text)
    editor.entry("m1").stages["dev"] = "v1.0.0"
    assert editor.render().startswith(schemafile.MODELINE + "stages:")


_PLUGIN = """
built = []


class _Plugin:
    def new_schema_validator(self, schema, schema_type, path, kind, config, settings):
        built.append(path.name)
        return None, None, None


plugin = _Plugin()
"""

_PROBE = """
import os
import sys

import recorder
from pydantic import BaseModel

import modelreg.index.schema

ours = list(recorder.built)


class Theirs(BaseModel):
    x: int = 0


print(ours, recorder.built, os.environ.get("PYDANTIC_DISABLE_PLUGINS"))
"""


@pytest.mark.parametrize("setting", [None, "other"])
def test_the_schema_is_built_without_pydantic_plugins_and_leaves_them_on(
    tmp_path: Path, setting: str | None
) -> None:
    """Looking plugins up costs every write 7 ms: the index's models are built with the
    lookup off, and the user's own models (and the variable) are as they were."""
    site = tmp_path / "site"
    dist = site / "recorder-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: recorder\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[pydantic]\nrecorder = recorder:plugin\n")
    (site / "recorder.py").write_text(_PLUGIN)
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    if setting is not None:
        env["PYDANTIC_DISABLE_PLUGINS"] = setting
    env["PYTHONPATH"] = f"{site}{os.pathsep}{env.get('PYTHONPATH', '')}"
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True
    )
    assert proc.stdout.split() == ["[]", "['Theirs']", str(setting)]

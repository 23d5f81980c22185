"""The command line as people and scripts use it: help, output shapes, --json, exit codes."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer.main
from tests.helpers import modelreg, run, write_model
from typer.testing import CliRunner

from modelreg import NotARegistryError, Registry
from modelreg.cli.app import app, index_app
from modelreg.records import to_jsonable

runner = CliRunner()
README = Path(__file__).resolve().parents[1] / "README.md"
COMMANDS = sorted(c.name or c.callback.__name__ for c in app.registered_commands)  # type: ignore[union-attr]
INDEX_COMMANDS = [c.name for c in index_app.registered_commands]


def test_the_spec_commands_exist() -> None:
    expected = {
        "init",
        "register",
        "list",
        "show",
        "which",
        "latest",
        "promote",
        "demote",
        "rollback",
        "deprecate",
        "history",
        "compare",
        "get",
    }
    assert expected <= set(COMMANDS)
    assert INDEX_COMMANDS == ["rebuild"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_and_is_documented(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output
    assert re.search(rf"modelreg {re.escape(command)}\b", README.read_text()), command


def test_index_rebuild_is_documented() -> None:
    assert runner.invoke(app, ["index", "rebuild", "--help"]).exit_code == 0
    assert "modelreg index rebuild" in README.read_text()


@pytest.fixture
def populated(registry: Registry, repo: Path) -> Path:
    write_model(repo, "a")
    registry.register("churn", "models/churn.pkl", metrics={"acc": 0.9}, params={"C": 1})
    write_model(repo, "b")
    registry.register("churn", "models/churn.pkl", metrics={"acc": 0.95}, params={"C": 2})
    registry.promote("churn", "v1.1.0", "production")
    return repo


# The keys a script may rely on in each kind of --json record.
VERSION_KEYS = {
    "name", "version", "tag", "commit", "registered_at", "registered_by", "active", "stages",
    "path", "md5", "size", "metrics", "params", "message", "card", "hash_name",
}  # fmt: skip
ROW_KEYS = {"name", "latest", "stages", "metrics", "deprecated"}
MODEL_KEYS = {"name", "description", "labels", "deprecated", "latest", "stages", "versions"}
EVENT_KEYS = {
    "model", "kind", "version", "stage", "counter", "tag", "commit", "timestamp", "author",
    "author_email", "message",
}  # fmt: skip
SEARCH_KEYS = {
    "model", "version", "tag", "registered_at", "author", "labels", "stages", "flavor",
    "metrics", "params",
}  # fmt: skip
COMPARISON_KEYS = {
    "name", "a", "b", "metrics", "params", "artifact_changed", "md5_a", "md5_b",
    "signature_changed",
}  # fmt: skip
UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def check_version(data: Any, version: str, stages: list[str], acc: float) -> None:
    """One version record: its keys, their types, and the values ``populated`` gave it."""
    assert set(data) == VERSION_KEYS
    assert (data["name"], data["version"], data["tag"]) == ("churn", version, f"churn@{version}")
    assert (data["stages"], data["metrics"], data["active"]) == (stages, {"acc": acc}, True)
    assert data["params"] == {"C": 1 if version == "v1.0.0" else 2}
    assert re.fullmatch(r"[0-9a-f]{40}", data["commit"])
    assert re.fullmatch(r"[0-9a-f]{32}", data["md5"]) and data["size"] == 1
    assert UTC.fullmatch(data["registered_at"])
    assert data["registered_by"] == "Ada Tester <ada@example.com>"
    assert data["path"] == "models/churn.pkl" and data["hash_name"] == "md5"


def check_rows(data: Any) -> None:
    assert [set(row) for row in data] == [ROW_KEYS]
    assert data == [
        {
            "name": "churn",
            "latest": "v1.1.0",
            "stages": {"staging": "v1.0.0", "production": "v1.1.0"},
            "metrics": {"acc": 0.95},
            "deprecated": False,
        }
    ]


def check_model(data: Any) -> None:
    assert set(data) == MODEL_KEYS
    assert (data["name"], data["latest"], data["stages"]) == (
        "churn",
        "v1.1.0",
        {"staging": "v1.0.0", "production": "v1.1.0"},
    )
    assert (data["labels"], data["deprecated"]) == ([], False)
    newest, oldest = data["versions"]  # newest first
    check_version(newest, "v1.1.0", ["production"], 0.95)
    check_version(oldest, "v1.0.0", ["staging"], 0.9)


def check_events(data: Any) -> None:
    assert data and all(set(event) == EVENT_KEYS for event in data)
    assert sorted((e["kind"], e["version"], e["stage"], e["counter"]) for e in data) == [
        ("assign", "v1.0.0", "staging", 2),  # the counter is per model
        ("assign", "v1.1.0", "production", 1),
        ("register", "v1.0.0", None, None),
        ("register", "v1.1.0", None, None),
    ]
    for event in data:
        assert UTC.fullmatch(event["timestamp"]) and re.fullmatch(r"[0-9a-f]{40}", event["commit"])
        assert (event["author"], event["author_email"]) == ("Ada Tester", "ada@example.com")


def check_search(data: Any) -> None:
    assert [set(row) for row in data] == [SEARCH_KEYS] * 2
    assert [(r["version"], r["stages"], r["metrics"]) for r in data] == [
        ("v1.1.0", ["production"], {"acc": 0.95}),
        ("v1.0.0", ["staging"], {"acc": 0.9}),
    ]


def check_comparison(data: Any) -> None:
    assert set(data) == COMPARISON_KEYS
    assert (data["name"], data["a"], data["b"]) == ("churn", "v1.0.0", "v1.1.0")
    [acc] = data["metrics"]
    assert (acc["key"], acc["a"], acc["b"]) == ("acc", 0.9, 0.95)
    assert acc["delta"] == pytest.approx(0.05)
    assert data["artifact_changed"] is True and data["md5_a"] != data["md5_b"]


# Each read command with --json, the Python API call that answers the same question, and the
# check of the record's shape and values.
READS: list[tuple[list[str], Callable[[Registry], object], Callable[[Any], None]]] = [
    (
        ["which", "churn", "staging"],
        lambda r: r.which("churn", "staging"),
        lambda d: check_version(d, "v1.0.0", ["staging"], 0.9),
    ),
    (
        ["latest", "churn"],
        lambda r: r.latest("churn"),
        lambda d: check_version(d, "v1.1.0", ["production"], 0.95),
    ),
    (["list"], lambda r: r.list_models(), check_rows),
    (["show", "churn"], lambda r: r.show("churn"), check_model),
    (
        ["show", "churn@v1.0.0"],
        lambda r: r.resolve("churn@v1.0.0"),
        lambda d: check_version(d, "v1.0.0", ["staging"], 0.9),
    ),
    (
        ["show", "churn#production"],
        lambda r: r.resolve("churn#production"),
        lambda d: check_version(d, "v1.1.0", ["production"], 0.95),
    ),
    (["history"], lambda r: r.history(), check_events),
    (["history", "churn"], lambda r: r.history("churn"), check_events),
    (["search", "acc>=0.9"], lambda r: r.search("acc>=0.9"), check_search),
    (
        ["compare", "churn", "v1.0.0", "v1.1.0"],
        lambda r: r.compare("churn", "v1.0.0", "v1.1.0"),
        check_comparison,
    ),
]


@pytest.mark.parametrize(("args", "api", "check"), READS, ids=[" ".join(a) for a, _, _ in READS])
def test_every_read_command_has_json(
    populated: Path,
    registry: Registry,
    args: list[str],
    api: Callable[[Registry], object],
    check: Callable[[Any], None],
) -> None:
    """--json prints the Python API's record for the same question, with the documented keys."""
    registry.promote("churn", "v1.0.0", "staging")  # which != latest, show NAME@V has a stage
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    check(data)
    assert data == json.loads(json.dumps(to_jsonable(api(registry))))


def test_which_prints_only_the_version(populated: Path) -> None:
    proc = modelreg(populated, "which", "churn", "production")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "v1.1.0\n", "")
    data = json.loads(modelreg(populated, "which", "churn", "production", "--json").stdout)
    assert data["version"] == "v1.1.0"
    assert data["tag"] == "churn@v1.1.0"
    assert data["metrics"] == {"acc": 0.95}


def table(*args: str) -> str:
    """The output of a read command that must have succeeded."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_list_is_a_table_of_models(populated: Path) -> None:
    listing = table("list").splitlines()
    assert listing[0].split() == ["model", "latest", "dev", "staging", "production", "metrics"]
    assert listing[1].split() == ["churn", "v1.1.0", "-", "-", "v1.1.0", "acc=0.95"]


def test_show_of_a_version_gives_its_tag_and_params(populated: Path) -> None:
    shown = table("show", "churn@v1.0.0")
    assert "tag:        churn@v1.0.0" in shown
    assert "C: 1" in shown


def test_history_lists_the_newest_event_first(populated: Path) -> None:
    history = table("history", "churn").splitlines()
    assert "assign" in history[1] and "production" in history[1]


def test_compare_gives_metric_deltas_and_whether_the_artifact_changed(populated: Path) -> None:
    compared = table("compare", "churn", "v1.0.0", "v1.1.0")
    assert "+0.05" in compared and "artifact: changed" in compared


def test_write_commands_through_the_cli(populated: Path, tmp_path: Path) -> None:
    write_model(populated, "c")
    metrics = tmp_path / "metrics.json"
    metrics.write_text('{"test": {"acc": 0.97}}')
    result = runner.invoke(
        app,
        [
            "register",
            "churn",
            "models/churn.pkl",
            "--metrics-file",
            str(metrics),
            "--param",
            "C=3",
            "--label",
            "tabular",
            "--description",
            "Churn",
            "-m",
            "retrained",
        ],
    )
    assert (result.exit_code, result.output) == (0, "v1.2.0\n")
    assert Registry(populated).latest("churn").metrics == {"test.acc": 0.97}
    out = runner.invoke(app, ["promote", "churn", "v1.2.0", "production"]).output
    assert out == "churn v1.2.0 -> production (churn#production#2)\n"
    out = runner.invoke(app, ["rollback", "churn", "production"]).output
    assert out == "churn production -> v1.1.0 (churn#production#3)\n"
    out = runner.invoke(app, ["demote", "churn", "production"]).output
    assert out == "churn v1.1.0 removed from production; it now holds v1.2.0\n"
    assert runner.invoke(app, ["deprecate", "churn", "v1.0.0"]).output == "churn@v1.0.0!\n"
    out = runner.invoke(app, ["index", "rebuild"]).output
    assert out == "Rebuilt registry.yaml: 1 model, 3 versions\n"
    target = tmp_path / "deploy.pkl"
    assert runner.invoke(app, ["get", "churn#production", "-o", str(target)]).exit_code == 0
    assert target.read_text() == "c"


def test_python_dash_m(populated: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "modelreg", "latest", "churn"],
        cwd=populated,
        capture_output=True,
        text=True,
    )
    assert proc.stdout == "v1.1.0\n"


# -- a newcomer's first hour (issue 12, first items) ------------------------------------------


def test_version_flag_and_attribute() -> None:
    from importlib.metadata import version

    import modelreg

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output == f"modelreg {version('modelreg')}\n"
    assert modelreg.__version__ == version("modelreg")


def test_a_repeated_metric_is_refused_not_silently_dropped(registry: Registry, repo: Path) -> None:
    write_model(repo, "a")
    proc = modelreg(
        repo, "register", "churn", "models/churn.pkl", "--metric", "acc=0.9", "--metric", "acc=0.8"
    )
    assert proc.returncode == 1 and "--metric acc given twice" in proc.stderr


def test_compare_says_added_and_removed(registry: Registry, repo: Path) -> None:
    write_model(repo, "a")
    registry.register("churn", "models/churn.pkl", metrics={"acc": 0.9}, params={"C": 1})
    write_model(repo, "b")
    registry.register("churn", "models/churn.pkl", metrics={"f1": 0.5}, params={"C": "x"})
    out = modelreg(repo, "compare", "churn", "v1.0.0", "v1.1.0").stdout
    lines = {
        line.split()[1]: line for line in out.splitlines() if line.startswith(("metric", "param"))
    }
    assert lines["acc"].rstrip().endswith("removed")
    assert lines["f1"].rstrip().endswith("added")
    assert lines["C"].rstrip().endswith("changed")


def test_promote_latest_and_counts_in_the_singular(registry: Registry, repo: Path) -> None:
    write_model(repo, "a")
    registry.register("churn", "models/churn.pkl")
    proc = modelreg(repo, "promote", "churn", "latest", "staging")
    assert proc.returncode == 0 and proc.stdout.startswith("churn v1.0.0 -> staging"), proc.stderr
    assert "consistent: 1 model, 1 version" in modelreg(repo, "check").stdout


# -- every command goes through the error funnel -----------------------------------------------


def leaf_commands() -> list[tuple[list[str], Any]]:
    """Every command the application serves, as its words (``["index", "rebuild"]``) and
    Typer's command object, read from the built application rather than a list."""
    found: list[tuple[list[str], Any]] = []

    def walk(words: list[str], cmd: Any) -> None:
        children = getattr(cmd, "commands", None)
        if children:
            for name, child in sorted(children.items()):
                walk([*words, name], child)
        else:
            found.append((words, cmd))

    walk([], typer.main.get_command(app))
    return found


LEAVES = leaf_commands()


def test_every_command_is_registered_through_the_funnel() -> None:
    assert {" ".join(w) for w, _ in LEAVES} >= {*COMMANDS, "index rebuild"}
    for words, cmd in LEAVES:
        assert getattr(cmd.callback, "reports_errors", False), words


def minimal_args(cmd: Any) -> list[str]:
    """Arguments and required options that get a command as far as opening the registry."""
    args: list[str] = []
    for param in cmd.params:
        if param.param_type_name == "argument" and param.required:
            args.append("x")
        elif param.param_type_name == "option" and param.required:
            args += [param.opts[0], "x"]
    return args


@pytest.mark.parametrize(
    "words",
    [w for w, _ in LEAVES if w != ["merge-index"]],  # the merge driver opens no registry
    ids=lambda w: " ".join(w),
)
def test_a_registry_error_in_any_command_is_one_line(
    words: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(repo: str) -> None:
        raise NotARegistryError(f"{repo} is no registry: run `modelreg init`")

    monkeypatch.setattr("modelreg.cli.app._registry", refuse)
    monkeypatch.chdir(tmp_path)
    cmd = dict((" ".join(w), c) for w, c in LEAVES)[" ".join(words)]
    args = [*words, *minimal_args(cmd)]
    result = runner.invoke(app, args)
    assert (result.exit_code, result.stdout) == (1, ""), result.output
    assert result.stderr == "modelreg: error: . is no registry: run `modelreg init`\n"
    if any(p.name == "json" for p in cmd.params):
        result = runner.invoke(app, [*args, "--json"])
        assert (result.exit_code, result.stdout) == (1, "")
        error = json.loads(result.stderr)["error"]
        assert error == {
            "type": "NotARegistryError",
            "message": ". is no registry: run `modelreg init`",
        }


@pytest.mark.parametrize(
    "args",
    [
        ["which", "--help"],
        ["register", "--help"],
        ["index", "rebuild", "--help"],
        ["which", "churn"],
        ["promote", "churn", "v1.0.0", "production", "--bogus"],
        ["whcih", "churn"],
    ],
    ids=" ".join,
)
def test_the_console_script_says_what_the_whole_application_says(
    args: list[str], tmp_path: Path
) -> None:
    """main() runs a command line that starts with a command as a one-command application
    (Typer builds only that command); its help and usage errors must not tell."""
    script = "from modelreg.cli.app import app; app(prog_name='modelreg')"
    whole = run(tmp_path, sys.executable, "-c", script, *args)
    proc = modelreg(tmp_path, *args)
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        whole.returncode,
        whole.stdout,
        whole.stderr,
    )
    assert proc.stdout or proc.stderr

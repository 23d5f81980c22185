"""Registries and files written by someone else: nothing they hold may hang modelreg, crash
it with an unexpected error, or reach the terminal as a control sequence."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import git, modelreg, snapshot, write_model

from modelreg import Registry, yamlio
from modelreg.cli.render import safe
from modelreg.errors import InvalidIndexError, InvalidInputError
from modelreg.index.header import read_stage_order
from modelreg.index.parse import parse_index
from modelreg.values import (
    MAX_FILE_BYTES,
    check_expansion,
    expands_beyond,
    expansion_limit,
    load_file,
    metrics_from,
    params_from,
)

# Clear screen (CSI), set the window title (OSC ... BEL), a bidi override, a C1 CSI, and the
# characters that would split a table cell.
HOSTILE = "\x1b[2J\x1b]0;pwned\x07\u202eevil\x9b31m\ttab\rcr"
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\t", "\r")
TIMEOUT = 20  # seconds: every case here finishes in well under one; a regression hangs


def timed_modelreg(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real console script, killed (and the test failed) if it does not finish."""
    return modelreg(cwd, *args, timeout=TIMEOUT)


def strings(data: Any) -> list[str]:
    """Every string in a JSON document, keys included."""
    if isinstance(data, dict):
        return [s for k, v in data.items() for s in (k, *strings(v))]
    if isinstance(data, list):
        return [s for v in data for s in strings(v)]
    return [data] if isinstance(data, str) else []


def list_bomb(levels: int = 9, width: int = 9) -> str:
    """A YAML flow sequence of ``width ** levels`` scalars in a few hundred bytes.

    Each level is anchored where it first appears, inside the next, so the whole bomb is one
    value: whatever walks or prints that value walks all of it.
    """
    text = "&l0 [" + ", ".join(["x"] * width) + "]"
    for i in range(1, levels):
        text = f"&l{i} [{text}, " + ", ".join([f"*l{i - 1}"] * (width - 1)) + "]"
    return text


def map_bomb(levels: int = 9, width: int = 9) -> str:
    """The same as a nested mapping: what ``flatten`` walks."""
    text = "&m0 {" + ", ".join(f"k{j}: 1" for j in range(width)) + "}"
    for i in range(1, levels):
        text = f"&m{i} {{k0: {text}, " + ", ".join(f"k{j}: *m{i - 1}" for j in range(1, width))
        text += "}"
    return text


def one_line_error(proc: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "unexpected" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    for text in expected:
        assert text in proc.stderr, proc.stderr


# -- 1. human output escapes control characters ------------------------------------------


@pytest.fixture
def hostile(registry: Registry, repo: Path) -> Path:
    """Two versions whose description, label, metric and param names and values, tag message
    and tagger name all carry escape sequences."""
    write_model(repo, "a")
    registry.register(
        "churn",
        "models/churn.pkl",
        description="desc" + HOSTILE,
        labels=["label" + HOSTILE],
        metrics={"acc" + HOSTILE: 0.9},
        params={"C" + HOSTILE: "one" + HOSTILE},
        message="note" + HOSTILE,
        card={
            "flavor": "flavor" + HOSTILE,
            "file": "file" + HOSTILE,
            "libraries": {"lib" + HOSTILE: "1.0" + HOSTILE},
            "python": "3.11" + HOSTILE,
            "signature": {"features": ["feature" + HOSTILE], "dtypes": ["dtype" + HOSTILE]},
            "trusted_types": ["type" + HOSTILE],
        },
    )
    write_model(repo, "b")
    registry.register(
        "churn",
        "models/churn.pkl",
        metrics={"acc" + HOSTILE: 0.95},
        params={"C" + HOSTILE: 2},
        # A card of the wrong shape is shown as it is, not an unexpected error.
        card={"libraries": ["lib"], "signature": "sig" + HOSTILE, "trusted_types": 5},
    )
    # A stage assignment written with plain git, as anyone with push access can.
    git(
        repo,
        "tag",
        "-a",
        "churn#production#1",
        "-m",
        "promoted" + HOSTILE,
        "churn@v1.0.0^{}",
        env={"GIT_COMMITTER_NAME": "Eve" + HOSTILE},
    )
    return repo


READS = [
    ["history"],
    ["history", "churn"],
    ["show", "churn"],
    ["show", "churn@v1.0.0"],
    ["show", "churn#production"],
    ["list"],
    ["compare", "churn", "v1.0.0", "v1.1.0"],
]


@pytest.mark.parametrize("args", READS, ids=[" ".join(a) for a in READS])
def test_reads_escape_control_characters_but_json_keeps_them(
    hostile: Path, args: list[str]
) -> None:
    proc = modelreg(hostile, *args)
    assert proc.returncode == 0, proc.stderr
    for char in RAW:
        assert char not in proc.stdout, (char, proc.stdout)
    # Visible instead, and each table row is still one line.
    assert "\\x1b[2J\\x1b]0;pwned\\x07\\u202eevil\\x9b31m" in proc.stdout
    data = json.loads(modelreg(hostile, *args, "--json").stdout)
    found = strings(data)
    # Exactly as stored (git's message clean-up turns the "\r" of a tag message into "\n").
    assert any(HOSTILE in s or HOSTILE.replace("\r", "\n") in s for s in found), found


def test_history_message_column_is_the_first_line_escaped(hostile: Path) -> None:
    lines = modelreg(hostile, "history", "churn").stdout.splitlines()
    assign = next(ln for ln in lines if " assign " in ln)
    # "\r" ends the first line of the message, as it always did: what is before it is the
    # message column, what follows is the note column (the last).
    assert assign.endswith("promoted\\x1b[2J\\x1b]0;pwned\\x07\\u202eevil\\x9b31m\\x09tab  cr")
    assert "Eve\\x1b[2J" in assign


def test_show_escapes_every_detail_field(hostile: Path) -> None:
    shown = modelreg(hostile, "show", "churn").stdout
    assert "  desc\\x1b[2J" in shown and "  labels: label\\x1b[2J" in shown
    version = modelreg(hostile, "show", "churn@v1.0.0").stdout
    assert "    acc\\x1b[2J" in version and ": one\\x1b[2J" in version
    for field in ("flavor:     flavor\\x1b", "(file\\x1b", "lib\\x1b", "1.0\\x1b", "3.11\\x1b"):
        assert field in version, field
    assert "signature:  feature\\x1b" in version and ": dtype\\x1b" in version
    assert "trusts:     type\\x1b" in version
    odd = modelreg(hostile, "show", "churn@v1.1.0")
    assert odd.returncode == 0, odd.stderr
    assert "signature:  sig\\x1b" in odd.stdout and "trusts:     5" in odd.stdout


def test_error_messages_are_escaped_and_one_line(tmp_path: Path) -> None:
    # A folder name is one thing an error message quotes without repr().
    root = tmp_path / ("r\x1b]0;pwned\x07\u202e\nx")
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "commit", "-q", "--allow-empty", "-m", "Start")
    proc = modelreg(root, "apply", "--dry-run")
    one_line_error(proc, "registry.yaml in", "r\\x1b]0;pwned\\x07\\u202e\\x0ax")
    for char in ("\x1b", "\x07", "\u202e"):
        assert char not in proc.stderr


def test_safe_escapes_controls_and_bidi_and_nothing_else() -> None:
    assert safe("\x00\x1f\x7f\x80\x9f") == "\\x00\\x1f\\x7f\\x80\\x9f"
    assert safe("a\u200e\u200f\u202a\u202e\u2066\u2069b") == (
        "a\\u200e\\u200f\\u202a\\u202e\\u2066\\u2069b"
    )
    plain = "churn v1.0.0 café 模型 ✓ acc=0.9 \\x1b"
    assert safe(plain) == plain
    assert safe(safe(HOSTILE)) == safe(HOSTILE)


# -- 2. metrics and params files are bounded -----------------------------------------------


@pytest.fixture
def artifact(registry: Registry, repo: Path) -> Path:
    write_model(repo, "a")
    return repo


def register_with(repo: Path, option: str, path: Path | str) -> subprocess.CompletedProcess[str]:
    before = snapshot(repo)
    proc = timed_modelreg(repo, "register", "churn", "models/churn.pkl", option, str(path))
    assert snapshot(repo) == before
    return proc


def test_a_fifo_is_refused_without_blocking(artifact: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "metrics.yaml"
    os.mkfifo(fifo)
    one_line_error(register_with(artifact, "--metrics-file", fifo), "not a regular file")


def test_a_device_and_a_folder_are_refused(artifact: Path, tmp_path: Path) -> None:
    if Path("/dev/zero").exists():
        proc = register_with(artifact, "--metrics-file", "/dev/zero")
        one_line_error(proc, "'/dev/zero' is not a regular file")
    one_line_error(register_with(artifact, "--params-file", tmp_path), "not a regular file")


def test_a_file_over_10_mb_is_refused(artifact: Path, tmp_path: Path) -> None:
    big = tmp_path / "metrics.json"
    big.write_bytes(b'{"acc": 0.9}' + b" " * MAX_FILE_BYTES)
    one_line_error(register_with(artifact, "--metrics-file", big), "larger than 10 MB")


def test_a_file_of_exactly_10_mb_is_read(tmp_path: Path) -> None:
    edge = tmp_path / "metrics.json"
    body = b'{"acc": 0.9}'
    edge.write_bytes(body + b" " * (MAX_FILE_BYTES - len(body)))
    assert load_file(edge) == {"acc": 0.9}


def test_a_file_that_is_not_utf8_is_one_line(artifact: Path, tmp_path: Path) -> None:
    latin = tmp_path / "params.yaml"
    latin.write_bytes("model: régression\n".encode("latin-1"))
    proc = register_with(artifact, "--params-file", latin)
    one_line_error(proc, "is not UTF-8 text (byte 0xe9 at offset 8)")


@pytest.mark.parametrize("option", ["--metrics-file", "--params-file"])
@pytest.mark.parametrize("bomb", [list_bomb, map_bomb], ids=["list", "mapping"])
def test_a_yaml_alias_bomb_is_refused_quickly(
    artifact: Path, tmp_path: Path, option: str, bomb: Any
) -> None:
    path = tmp_path / "values.yaml"
    path.write_text(f"bomb: {bomb()}\n")
    proc = register_with(artifact, option, path)
    one_line_error(proc, "expands to more than 10,000 values (YAML aliases?)")


def test_expansion_counts_shared_references_and_ends_on_cycles() -> None:
    leaf = list(range(10))
    # 1 entry, 10 items, 10 x 10 leaves: the shared list is counted each time it is reached.
    assert not expands_beyond({"a": [leaf] * 10}, 111)
    assert expands_beyond({"a": [leaf] * 10}, 110)
    loop: list[object] = []
    loop.append(loop)
    assert expands_beyond(loop, 10_000)
    mapping: dict[str, object] = {}
    mapping["self"] = mapping
    with pytest.raises(InvalidInputError, match="metrics expands to more than 10,000"):
        metrics_from(mapping)
    with pytest.raises(InvalidInputError, match="params expands"):
        params_from({"p": loop})


def test_alias_free_text_never_reaches_the_limit() -> None:
    # The densest YAML there is: one character per value plus a separator.
    for text in ("[" + ",".join(["1"] * 60_000) + "]", "{" + ",".join(["a"] * 60_000) + "}"):
        data = yamlio.load(text)
        assert not expands_beyond(data, expansion_limit(text))
    check_expansion({"a": {"b": [1, 2, 3]}})


def test_valid_files_still_load(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("base: &base {lr: 0.1}\ntrain:\n  <<: *base\n  epochs: 3\n")
    assert load_file(tmp_path / "p.yaml") == {"base.lr": 0.1, "train.lr": 0.1, "train.epochs": 3}
    (tmp_path / "m.json").write_text('{"acc": 0.9}\r\n')
    assert metrics_from(files=[tmp_path / "m.json"]) == {"acc": 0.9}


def test_deep_nesting_is_one_line(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 5000 + "]" * 5000)
    with pytest.raises(InvalidInputError, match="nested too deeply"):
        load_file(deep)


# -- 3. registry.yaml ------------------------------------------------------------------------


def commit_index(repo: Path, content: bytes) -> None:
    """Commit a registry.yaml as someone else's push would bring it."""
    (repo / "registry.yaml").write_bytes(content)
    git(repo, "commit", "-q", "-am", "Edit the index")


INDEX_HEAD = b"stages: [dev, staging, production]\n"
NOT_UTF8 = INDEX_HEAD + b"# r\xe9gression\nmodels: {}\n"
BOMB = INDEX_HEAD + b"policy: " + list_bomb().encode() + b"\nmodels: {}\n"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (NOT_UTF8, "registry.yaml:2: file: not UTF-8 text (byte 0xe9)"),
        (BOMB, "registry.yaml: schema: expands to more than 10,000 values (YAML aliases?)"),
    ],
    ids=["not-utf8", "alias-bomb"],
)
def test_check_reports_an_unreadable_index_as_one_problem(
    registry: Registry, repo: Path, content: bytes, expected: str
) -> None:
    commit_index(repo, content)
    proc = timed_modelreg(repo, "check")
    assert proc.returncode == 1
    assert "unexpected" not in proc.stdout + proc.stderr and proc.stderr == ""
    # Like every other problem of the file: one line on stdout, and in --json.
    assert proc.stdout.splitlines() == [proc.stdout.strip()] and expected in proc.stdout
    data = json.loads(timed_modelreg(repo, "check", "--json").stdout)
    assert data["ok"] is False and len(data["problems"]) == 1


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (NOT_UTF8, "registry.yaml:2: not UTF-8 text (byte 0xe9): fix the file"),
        (BOMB, "registry.yaml: expands to more than 10,000 values (YAML aliases?)"),
    ],
    ids=["not-utf8", "alias-bomb"],
)
def test_a_write_refuses_an_unreadable_index_and_changes_nothing(
    registry: Registry, repo: Path, content: bytes, expected: str
) -> None:
    commit_index(repo, content)
    write_model(repo, "a")
    before = snapshot(repo)
    proc = timed_modelreg(repo, "register", "churn", "models/churn.pkl")
    one_line_error(proc, expected)
    assert snapshot(repo) == before


def test_list_still_answers_from_the_tags_when_the_index_is_not_utf8(
    registry: Registry, repo: Path
) -> None:
    write_model(repo, "a")
    registry.register("churn", "models/churn.pkl")
    commit_index(repo, NOT_UTF8)
    assert read_stage_order(repo) == ["dev", "staging", "production"]
    proc = timed_modelreg(repo, "list")
    assert proc.returncode == 0 and "churn" in proc.stdout, proc.stderr


def test_an_index_that_is_a_fifo_is_refused(registry: Registry, repo: Path) -> None:
    (repo / "registry.yaml").unlink()
    os.mkfifo(repo / "registry.yaml")
    write_model(repo, "a")
    proc = timed_modelreg(repo, "register", "churn", "models/churn.pkl")
    one_line_error(proc, "registry.yaml: not a regular file: replace it")
    assert timed_modelreg(repo, "list").returncode == 0


def test_the_index_bound_grows_with_the_text() -> None:
    # 40 versions of 300 models: ~85,000 values, far over 10,000, and no aliases.
    versions = "".join(
        f"      v{v}.0.0: {{tag: m@v{v}.0.0, metrics: {{a: 1, b: 2}}, params: {{c: 3}}}}\n"
        for v in range(40)
    )
    text = "models:\n" + "".join(f"  m{i}:\n    versions:\n{versions}" for i in range(300))
    assert len(parse_index(text).models) == 300
    with pytest.raises(InvalidIndexError, match=r"^registry\.yaml: expands to more than 10,000"):
        parse_index(BOMB.decode())

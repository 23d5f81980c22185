"""The guards a write relies on, each driven by the real condition with real git and DVC:
a branch that moves under a write, another holder of the clone's lock, an `init` that fails
half-way, a diverged or detached branch, a custom DVC cache, a commented `dvc.yaml`, versions
GTO registered, and a bug's exception reaching the command line."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers import (
    VENV_BIN,
    bare_remote_and_clone,
    git,
    git_wrapped,
    modelreg,
    run,
    snapshot,
    write_model,
)

from modelreg import Registry
from modelreg.errors import ConflictError
from modelreg.locking import LOCK_NAME, write_lock

DVC = str(VENV_BIN / "dvc")
GTO = str(VENV_BIN / "gto")


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The single ``modelreg: error: …`` line a failed command prints, exit code 1."""
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("modelreg: error: ")]
    assert len(errors) == 1, proc.stderr
    return errors[0].removeprefix("modelreg: error: ")


def no_write_leftovers(repo: Path) -> None:
    assert not (repo / ".git" / "modelreg-write").exists()
    assert not (repo / ".git" / "index.lock").exists()


# -- the branch moves between a write's read and its ref transaction ------------------------

# A `git` first on PATH that, just before modelreg's ref transaction (`update-ref --stdin`),
# lets a colleague's process commit on the branch, as a concurrent `git commit` would.
MOVER = """#!/bin/sh
last=""
for a in "$@"; do last="$a"; done
if [ "$1" = update-ref ] && [ "$last" = --stdin ] && [ ! -e "$MOVED" ]; then
  : > "$MOVED"
  c=$("$REAL_GIT" commit-tree "HEAD^{tree}" -p HEAD -m "a colleague's commit") || exit 1
  "$REAL_GIT" update-ref refs/heads/main "$c" || exit 1
fi
exec "$REAL_GIT" "$@"
"""


def test_a_write_whose_branch_moves_before_its_ref_update_refuses_and_leaves_nothing(
    registry: Registry, repo: Path, tmp_path: Path
) -> None:
    write_model(repo, "v1")
    registry.register("churn", "models/churn.pkl")
    write_model(repo, "v2")
    before = snapshot(repo)
    bin_dir = tmp_path / "mover-bin"
    moved = tmp_path / "moved"
    env = git_wrapped(bin_dir, MOVER, MOVED=str(moved))
    proc = modelreg(repo, "register", "churn", "models/churn.pkl", env=env)
    assert moved.exists()  # the colleague did commit in between
    error = one_error_line(proc)
    assert error.startswith("the branch moved while modelreg was writing (")
    assert error.endswith("): run the command again")
    colleague = git(repo, "rev-parse", "HEAD").strip()
    assert git(repo, "log", "-1", "--format=%s").strip() == "a colleague's commit"
    assert git(repo, "rev-parse", "HEAD^").strip() == before["head"]
    # Nothing of the write: no tag, the files and the user's index as they were.
    after = snapshot(repo)
    assert {**after, "head": before["head"]} == before
    no_write_leftovers(repo)
    # Run again, as told: it lands on top of the colleague's commit.
    again = modelreg(repo, "register", "churn", "models/churn.pkl")
    assert again.returncode == 0 and again.stdout == "v1.1.0\n", again.stderr
    assert git(repo, "rev-parse", "HEAD^").strip() == colleague


# -- another holder of the clone's write lock ----------------------------------------------

HOLDER = """
import sys
from pathlib import Path
from modelreg.locking import write_lock

with write_lock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


@pytest.fixture
def lock_holder(registry: Registry, repo: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding ``.git/modelreg.lock`` until its stdin is closed."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(repo / ".git")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    yield holder
    if holder.poll() is None:
        holder.communicate("")


@pytest.mark.parametrize(("timeout", "said"), [(1, "1s"), (0.25, "0.25s")])
def test_the_write_lock_times_out_with_one_line_naming_it(
    lock_holder: subprocess.Popen[str],
    repo: Path,
    caplog: pytest.LogCaptureFixture,
    timeout: float,
    said: str,
) -> None:
    lock = (repo / ".git").resolve() / LOCK_NAME
    with (
        caplog.at_level(logging.INFO, logger="modelreg"),
        pytest.raises(ConflictError) as raised,
        write_lock(lock.parent, timeout=timeout),
    ):
        pytest.fail("the lock was taken while another process held it")
    assert str(raised.value) == (
        f"another modelreg process has held {lock} for {said}: wait for it to finish and run "
        "the command again"
    )
    notes = [r.getMessage() for r in caplog.records]
    assert notes == ["waiting for another modelreg write in this clone…"]  # said once


def test_a_write_waiting_for_the_lock_gives_up_changing_nothing(
    lock_holder: subprocess.Popen[str], repo: Path
) -> None:
    write_model(repo, "weights")
    before = snapshot(repo)
    proc = modelreg(
        repo, "register", "churn", "models/churn.pkl", env={"MODELREG_LOCK_TIMEOUT": "1"}
    )
    lock = (repo / ".git").resolve() / LOCK_NAME
    assert one_error_line(proc) == (
        f"another modelreg process has held {lock} for 1s: wait for it to finish and run "
        "the command again"
    )
    assert "waiting for another modelreg write in this clone…" in proc.stderr
    assert snapshot(repo) == before
    # Once the other process is done, the same command goes through.
    lock_holder.communicate("")
    assert lock_holder.returncode == 0
    proc = modelreg(repo, "register", "churn", "models/churn.pkl")
    assert proc.returncode == 0 and proc.stdout == "v1.0.0\n", proc.stderr


# -- init that fails half-way ------------------------------------------------------------


def test_a_failed_init_leaves_the_repository_as_it_was(repo: Path, tmp_path: Path) -> None:
    """`dvc init` has run (and staged its files) when the remote's options are refused:
    the undo removes .dvc, and the user's index keeps only what the user staged."""
    (repo / "notes.txt").write_text("staged by the user\n")
    git(repo, "add", "notes.txt")
    (repo / "scratch.txt").write_text("untracked\n")
    before = snapshot(repo)
    store = tmp_path / "store"
    proc = modelreg(repo, "init", "--dvc-remote", str(store), "--remote-config", "bogus=1")
    error = one_error_line(proc)
    assert error.startswith(f"DVC could not configure remote {str(store)!r}: ")
    assert "bogus" in error
    assert snapshot(repo) == before
    assert not (repo / ".dvc").exists() and not (repo / ".dvcignore").exists()
    assert git(repo, "status", "--porcelain") == "A  notes.txt\n?? scratch.txt\n"
    no_write_leftovers(repo)
    # Without the bad option it works, and commits DVC's files without the user's.
    proc = modelreg(repo, "init", "--dvc-remote", str(store))
    assert proc.returncode == 0, proc.stderr
    committed = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert committed == [
        ".dvc/.gitignore",
        ".dvc/config",
        ".dvcignore",
        ".gitattributes",
        ".modelreg/registry.schema.json",
        "registry.yaml",
    ]
    assert git(repo, "status", "--porcelain") == "A  notes.txt\n?? scratch.txt\n"


# -- a diverged branch, a detached HEAD ------------------------------------------------------


@pytest.fixture
def shared(tmp_path: Path) -> tuple[Path, Path, Path]:
    """``(origin, alice, bob)``: a published registry with churn v1.0.0, cloned twice."""
    origin, alice = bare_remote_and_clone(tmp_path)
    Registry(alice).init(dvc_remote=str(tmp_path / "store"), push="origin")
    write_model(alice, "v1")
    Registry(alice).register("churn", "models/churn.pkl", push="origin")
    bob = tmp_path / "bob"
    git(tmp_path, "clone", "-q", str(origin), str(bob))
    return origin, alice, bob


def test_a_push_onto_a_branch_diverged_by_hand_commits_names_them_and_the_fix(
    shared: tuple[Path, Path, Path],
) -> None:
    origin, alice, bob = shared
    assert modelreg(bob, "promote", "churn", "v1.0.0", "staging", "--push").returncode == 0
    (alice / "NOTES.md").write_text("a hand-made commit\n")
    git(alice, "add", "NOTES.md")
    git(alice, "commit", "-q", "-m", "Notes by hand")
    mine = git(alice, "rev-parse", "HEAD").strip()
    before = snapshot(alice)
    proc = modelreg(alice, "promote", "churn", "v1.0.0", "dev", "--push")
    assert one_error_line(proc) == (
        "the local branch 'main' has diverged from origin/main with commits modelreg "
        f"cannot redo ({mine[:12]} 'Notes by hand'): integrate them "
        "(`git pull --rebase origin main`), then run the command again"
    )
    # Nothing changed but what a fetch brings: the remote's own tags.
    after = snapshot(alice)
    assert {**after, "tags": before["tags"]} == before
    tags = ["for-each-ref", "refs/tags", "--format=%(refname) %(objectname)"]
    assert after["tags"] == git(origin, *tags)
    assert "churn#dev" not in after["tags"]
    # The hint works.
    git(alice, "pull", "-q", "--rebase", "origin", "main")
    proc = modelreg(alice, "promote", "churn", "v1.0.0", "dev", "--push")
    assert proc.returncode == 0, proc.stderr
    assert git(origin, "log", "-1", "--format=%s", "main").strip() == "Promote churn v1.0.0 to dev"
    assert "churn#dev#2" in git(origin, "tag", "--list").split()


def test_publishing_from_a_detached_head_is_refused_with_the_way_out(
    shared: tuple[Path, Path, Path],
) -> None:
    origin, alice, _ = shared
    git(alice, "checkout", "-q", "--detach", "HEAD")
    before = snapshot(alice)
    remote_before = git(origin, "for-each-ref")
    for args in (["push"], ["promote", "churn", "v1.0.0", "staging", "--push"]):
        proc = modelreg(alice, *args)
        assert one_error_line(proc) == (
            "HEAD is detached: check out the branch to push (e.g. `git switch main`)"
        )
        assert snapshot(alice) == before
    assert git(origin, "for-each-ref") == remote_before
    git(alice, "switch", "-q", "main")
    proc = modelreg(alice, "promote", "churn", "v1.0.0", "staging", "--push")
    assert proc.returncode == 0, proc.stderr
    assert "churn#staging#1" in git(origin, "tag", "--list").split()


# -- a custom DVC cache goes through DVC itself ----------------------------------------------


def test_a_custom_cache_folder_is_filled_by_dvc_itself(
    registry: Registry, repo: Path, tmp_path: Path
) -> None:
    """modelreg's own cache code knows only `.dvc/cache`; with `cache.dir` set, DVC adds
    the bytes where the configuration says, and push and get go through it."""
    shared_cache = tmp_path / "shared-cache"
    store = tmp_path / "store"
    for args in (["config", "cache.dir", str(shared_cache)], ["remote", "add", "-d", "s", store]):
        proc = run(repo, DVC, *map(str, args))
        assert proc.returncode == 0, proc.stderr
    git(repo, "commit", "-q", "-am", "a shared DVC cache")
    git(tmp_path, "init", "-q", "--bare", "-b", "main", "origin.git")
    git(repo, "remote", "add", "origin", str(tmp_path / "origin.git"))
    data = b"model bytes in a shared cache\n"
    write_model(repo, data)
    proc = modelreg(repo, "register", "churn", "models/churn.pkl")
    assert proc.returncode == 0, proc.stderr
    md5 = hashlib.md5(data).hexdigest()
    assert (shared_cache / "files" / "md5" / md5[:2] / md5[2:]).read_bytes() == data
    assert not (repo / ".dvc" / "cache").exists()
    assert registry.resolve("churn@v1.0.0").md5 == md5
    assert "hash: md5" in (repo / "models" / "churn.pkl.dvc").read_text()
    assert git(repo, "status", "--porcelain") == ""
    proc = modelreg(repo, "push")
    assert proc.returncode == 0, proc.stderr
    assert (store / "files" / "md5" / md5[:2] / md5[2:]).read_bytes() == data
    out = tmp_path / "out.pkl"
    proc = modelreg(repo, "get", "churn@v1.0.0", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == data


# -- dvc.yaml keeps what the user wrote ----------------------------------------------------

COMMENTED_DVC_YAML = """\
# Pipeline of the churn project: keep this header.
stages:
  train:
    cmd: python train.py  # trains churn
    deps:
    - train.py
artifacts:
  # the data set, not a model
  dataset:
    path: data/set.csv
    type: dataset
"""


def test_registering_keeps_the_comments_and_stages_of_dvc_yaml(
    registry: Registry, repo: Path
) -> None:
    (repo / "train.py").write_text("print('train')\n")
    (repo / "dvc.yaml").write_text(COMMENTED_DVC_YAML)
    git(repo, "add", "dvc.yaml", "train.py")
    git(repo, "commit", "-q", "-m", "pipeline")
    write_model(repo, "v1")
    registry.register("churn", "models/churn.pkl", description="Churn", labels=["tabular"])
    text = (repo / "dvc.yaml").read_text()
    assert text == COMMENTED_DVC_YAML.replace("    - train.py", "      - train.py") + (
        "  churn:\n"
        "    path: models/churn.pkl\n"
        "    type: model\n"
        "    desc: Churn\n"
        "    labels:\n"
        "      - tabular\n"
    )
    # A later registration rewrites its own entry in place (the model keeps its labels);
    # the rest stays.
    write_model(repo, "v2")
    registry.register("churn", "models/churn.pkl", description="Churn, retrained")
    assert (repo / "dvc.yaml").read_text() == text.replace(
        "desc: Churn\n", "desc: Churn, retrained\n"
    )
    # DVC still reads the pipeline.
    listed = run(repo, DVC, "stage", "list")
    assert listed.returncode == 0 and listed.stdout.split()[0] == "train", listed.stderr


@pytest.mark.parametrize("comment", ["", "# the team's models\n"])
def test_a_registration_that_changes_no_declaration_leaves_dvc_yaml_alone(
    registry: Registry, repo: Path, comment: str
) -> None:
    """A new version of a model usually declares nothing new: the file is not rewritten,
    so a layout of the user's own (flow style here) is kept byte for byte."""
    write_model(repo, "v1")
    registry.register("churn", "models/churn.pkl")
    declared = comment + "artifacts: {churn: {path: models/churn.pkl, type: model}}\n"
    (repo / "dvc.yaml").write_text(declared)
    git(repo, "commit", "-q", "-m", "dvc.yaml in flow style", "dvc.yaml")
    inode = (repo / "dvc.yaml").stat().st_ino
    write_model(repo, "v2")
    registry.register("churn", "models/churn.pkl")
    assert (repo / "dvc.yaml").read_text() == declared
    assert (repo / "dvc.yaml").stat().st_ino == inode  # not even replaced by the same bytes
    assert git(repo, "status", "--porcelain").strip() == ""


@pytest.mark.parametrize("section", ["artifacts:\n", "artifacts:  # models go here\n"])
def test_an_empty_artifacts_section_takes_the_first_model(
    registry: Registry, repo: Path, section: str
) -> None:
    (repo / "dvc.yaml").write_text(section)
    git(repo, "add", "dvc.yaml")
    git(repo, "commit", "-q", "-m", "an empty artifacts section")
    write_model(repo, "v1")
    proc = modelreg(repo, "register", "churn", "models/churn.pkl")
    assert proc.returncode == 0, proc.stderr
    assert (repo / "dvc.yaml").read_text() == section + (
        "  churn:\n    path: models/churn.pkl\n    type: model\n"
    )


# -- versions GTO registered -----------------------------------------------------------------


def test_artifacts_of_versions_gto_registered_are_shown_and_fetched(
    repo: Path, tmp_path: Path
) -> None:
    """No modelreg record in GTO's tags: the path comes from dvc.yaml at the tagged commit,
    the md5 from the pointer there."""
    assert run(repo, DVC, "init", "-q").returncode == 0
    (repo / "dvc.yaml").write_text(
        "artifacts:\n  churn:\n    path: models/churn.pkl\n    type: model\n"
    )
    contents = [b"the first model\n", b"the second model, larger\n"]
    for content in contents:
        write_model(repo, content)
        proc = run(repo, DVC, "add", "-q", "models/churn.pkl")
        assert proc.returncode == 0, proc.stderr
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "train")
        proc = run(repo, GTO, "register", "churn")
        assert proc.returncode == 0, proc.stderr
    assert git(repo, "tag", "--list").split() == ["churn@v0.0.1", "churn@v0.0.2"]
    write_model(repo, b"not registered: the working tree moved on\n")
    for version, content in zip(("v0.0.1", "v0.0.2"), contents, strict=True):
        shown = modelreg(repo, "show", f"churn@{version}", "--json")
        assert shown.returncode == 0, shown.stderr
        record = json.loads(shown.stdout)
        assert (record["path"], record["md5"], record["size"]) == (
            "models/churn.pkl",
            hashlib.md5(content).hexdigest(),
            len(content),
        )
        out = tmp_path / f"{version}.pkl"
        proc = modelreg(repo, "get", f"churn@{version}", "-o", str(out))
        assert proc.returncode == 0, proc.stderr
        assert out.read_bytes() == content


# -- a bug reaches the command line as one line ---------------------------------------------

# A command that fails the way a bug would (an exception that is not a RegistryError),
# added to the real CLI in a process of its own.
BUGGY_CLI = """
import sys
from modelreg.cli import app

@app.app.command("boom")
def boom(json: bool = False) -> None:
    {}["missing key"]

sys.argv = ["modelreg", *sys.argv[1:]]
app.main()
"""


def buggy(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BUGGY_CLI, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


def test_an_unexpected_error_is_one_line_exit_1_and_no_traceback() -> None:
    proc = buggy("boom")
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == (
        "modelreg: error: unexpected KeyError: 'missing key' (run again with "
        "MODELREG_DEBUG=1 for the traceback, and please report it)\n"
    )
    as_json = buggy("boom", "--json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stderr) == {
        "error": {
            "type": "KeyError",
            "message": "unexpected KeyError: 'missing key' (run again with MODELREG_DEBUG=1 "
            "for the traceback, and please report it)",
        }
    }
    debug = buggy("boom", env={"MODELREG_DEBUG": "1"})
    assert debug.returncode == 1
    assert debug.stderr.startswith("Traceback (most recent call last):")
    assert debug.stderr.rstrip().endswith("KeyError: 'missing key'")

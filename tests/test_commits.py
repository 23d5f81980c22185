"""How a write builds its commit and brings the user's index to it, with real git: each file
is hashed once (``hash-object``) and set in a private index, so what the commit holds must be
exactly what ``git add`` of the same files would have staged, modes and filters included, and
the user's index must be left clean and refreshed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from tests.helpers import git as git_out

from modelreg import Registry
from modelreg.errors import GitError
from modelreg.gitrepo import GitRepo
from modelreg.index import layout


def git(cwd: Path, *args: str) -> str:
    return git_out(cwd, *args).rstrip("\n")


def commit_files(repo: Path, files: dict[str, str], mode: str = "100644") -> str:
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
        git(repo, "add", rel)
        if mode != "100644":
            git(repo, "update-index", f"--chmod={'+x' if mode == '100755' else '-x'}", rel)
    git(repo, "commit", "-q", "-m", "files")
    return git(repo, "rev-parse", "HEAD")


def ls_tree(repo: Path, commit: str) -> dict[str, tuple[str, str]]:
    out = git(repo, "ls-tree", "-r", "-z", commit)
    found = {}
    for item in out.split("\0"):
        if item:
            meta, _, path = item.partition("\t")
            mode, _, blob = meta.split(" ")
            found[path] = (mode, blob)
    return found


def test_a_commit_holds_the_files_as_git_add_would_and_leaves_staged_work_alone(
    repo: Path,
) -> None:
    parent = commit_files(repo, {"a.yaml": "a: 1\n", "deep/b.yaml": "b: 1\n"})
    # The user's own staged change must stay staged and out of the commit.
    (repo / "mine.txt").write_text("work in progress\n")
    git(repo, "add", "mine.txt")
    (repo / "a.yaml").write_text("a: 2\n")
    (repo / "deep" / "b.yaml").unlink()
    (repo / "deep" / "new" / "c.yaml").parent.mkdir(parents=True)
    (repo / "deep" / "new" / "c.yaml").write_text("c: 1\n")

    made = GitRepo(repo).make_commit(
        ["a.yaml", "deep/b.yaml", "deep/new/c.yaml"], "modelreg: test\n", parent
    )

    assert made is not None
    tree = ls_tree(repo, made.id)
    assert set(tree) == {"a.yaml", "deep/new/c.yaml"}
    assert tree["a.yaml"] == ("100644", git(repo, "hash-object", "a.yaml"))
    assert made.entries == {
        "a.yaml": tree["a.yaml"],
        "deep/b.yaml": None,
        "deep/new/c.yaml": tree["deep/new/c.yaml"],
    }
    assert git(repo, "rev-parse", f"{made.id}^") == parent
    assert git(repo, "rev-parse", "HEAD") == parent  # no ref moved
    assert git(repo, "diff", "--cached", "--name-only") == "mine.txt"


def test_a_file_keeps_its_mode_and_a_new_one_is_a_plain_file(repo: Path) -> None:
    parent = commit_files(repo, {"run.sh": "echo 1\n"}, mode="100755")
    (repo / "run.sh").write_text("echo 2\n")
    (repo / "new.yaml").write_text("x: 1\n")

    made = GitRepo(repo).make_commit(["run.sh", "new.yaml"], "m\n", parent)

    assert made is not None
    tree = ls_tree(repo, made.id)
    assert tree["run.sh"][0] == "100755"
    assert tree["new.yaml"][0] == "100644"


def test_nothing_new_makes_no_commit(repo: Path) -> None:
    parent = commit_files(repo, {"a.yaml": "a: 1\n"})
    assert GitRepo(repo).make_commit(["a.yaml", "absent.yaml"], "m\n", parent) is None


def test_the_first_commit_of_an_unborn_branch(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "a.yaml").write_text("a: 1\n")
    made = GitRepo(tmp_path).make_commit(["a.yaml"], "first\n", None)
    assert made is not None
    assert set(ls_tree(tmp_path, made.id)) == {"a.yaml"}
    assert git(tmp_path, "rev-list", "--parents", "-n1", made.id) == made.id


def test_clean_filters_apply_as_they_would_to_git_add(repo: Path) -> None:
    (repo / ".gitattributes").write_text("*.yaml filter=upper\n")
    git(repo, "config", "filter.upper.clean", "tr a-z A-Z")
    parent = commit_files(repo, {"keep.txt": "x\n"})
    (repo / "a.yaml").write_text("shout: yes\n")

    made = GitRepo(repo).make_commit(["a.yaml"], "m\n", parent)

    assert made is not None
    assert git(repo, "cat-file", "blob", f"{made.id}:a.yaml") == "SHOUT: YES"


@pytest.mark.parametrize("dangling", [False, True])
def test_a_symbolic_link_is_never_committed_as_what_it_points_at(
    repo: Path, dangling: bool
) -> None:
    parent = commit_files(repo, {"target.yaml": "secret: 1\n"})
    os.symlink(repo / ("nowhere.yaml" if dangling else "target.yaml"), repo / "link.yaml")
    with pytest.raises(GitError, match=r"^link\.yaml is a symbolic link"):
        GitRepo(repo).make_commit(["link.yaml"], "m\n", parent)


def test_a_folder_where_a_file_was_is_refused_not_removed(repo: Path) -> None:
    parent = commit_files(repo, {"a.yaml": "a: 1\n"})
    (repo / "a.yaml").unlink()
    (repo / "a.yaml").mkdir()
    with pytest.raises(GitError, match=r"^a\.yaml is not a file"):
        GitRepo(repo).make_commit(["a.yaml"], "m\n", parent)


def test_after_a_write_the_users_index_is_clean_and_refreshed(registry: Registry) -> None:
    root = registry.root
    (root / "models").mkdir(exist_ok=True)
    (root / "models" / "churn.pkl").write_bytes(b"weights")
    version = registry.register("churn", "models/churn.pkl").version
    registry.promote("churn", version, "staging")
    # Plumbing that does not refresh the index itself: a stale stat entry shows as changed.
    assert subprocess.run(["git", "diff-files", "--quiet"], cwd=root).returncode == 0
    assert git(root, "status", "--porcelain") == ""
    assert git(root, "diff", "--cached", "--name-only") == ""


@pytest.mark.parametrize("worktree_file_named_head", [False, True])
def test_head_names_the_commit_and_the_ref_a_commit_moves(
    repo: Path, worktree_file_named_head: bool
) -> None:
    if worktree_file_named_head:
        (repo / "HEAD").write_text("not a revision\n")
    gr = GitRepo(repo)
    tip = git(repo, "rev-parse", "HEAD")
    assert gr.head() == (tip, "refs/heads/main")
    git(repo, "checkout", "-q", "--detach")
    assert gr.head() == (tip, "HEAD")
    git(repo, "checkout", "-q", "--orphan", "fresh")
    assert gr.head() == (None, "refs/heads/fresh")


# -- the models section of a large index is split without parsing each key line -----------


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-/.:' \"YNOTF", max_size=12))
def test_a_block_key_is_read_as_yaml_reads_it(name: str) -> None:
    line = f"{name}:"
    try:
        data = yaml.safe_load(line)
    except yaml.YAMLError:
        expected = None
    else:
        expected = None
        if isinstance(data, dict) and len(data) == 1:
            key, value = next(iter(data.items()))
            if value is None and isinstance(key, str | int | float):
                expected = str(key)
    assert layout._block_key(line.strip()) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("models:\n  a:\n    x: 1\n", ("", {"a": (2, "  a:\n    x: 1\n")}, "")),
        ("x: 1\nmodels: {}\nz: 2\n", ("x: 1\n", {}, "z: 2\n")),
        ("models_x: 1\n", ("models_x: 1\n", {}, "")),
        (
            "stages: [a]\nmodels:\n  b:\n  a:\n    y: 2\ntail: 1\n",
            ("stages: [a]\n", {"b": (3, "  b:\n"), "a": (4, "  a:\n    y: 2\n")}, "tail: 1\n"),
        ),
        ("models: 3\n", None),
        ("models:\n  a:\nmodels:\n  b:\n", None),
        ("modelsx: 1\nmodels:\n  a:\n", ("modelsx: 1\n", {"a": (3, "  a:\n")}, "")),
        # Quoted, the key is the string; plain, YAML reads a boolean (named as str() says).
        (
            "models:\n  'yes':\n  yes:\n",
            ("", {"yes": (2, "  'yes':\n"), "True": (3, "  yes:\n")}, ""),
        ),
        ("models:\n  x: 1\n  - y\n", None),
    ],
)
def test_split_models(text: str, expected: object) -> None:
    assert layout.split_models(text) == expected

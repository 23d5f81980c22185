"""Bad input and faults: one line on stderr, exit 1, no traceback, nothing changed.

Each case runs the real ``modelreg`` console script in a fresh process against a copy of a
small registry, and compares the repository (status, tags, HEAD, git's index, every file)
before and after.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.helpers import IDENTITY, git, isolated, modelreg, snapshot, write_model

from modelreg import ConflictError, Registry
from modelreg.gitrepo import GitRepo

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry with churn v1.0.0 (in production) and v1.1.0, built once per module."""
    base = tmp_path_factory.mktemp("template")
    root = base / "repo"
    root.mkdir()
    # Built under a HOME of its own: never the real one, its git config or DVC's folders.
    with isolated(base / "home"):
        git(root, "init", "-q", "-b", "main")
        git(root, "commit", "-q", "--allow-empty", "-m", "Start")
        reg = Registry(root)
        reg.init()
        write_model(root, "weights-1")
        reg.register("churn", "models/churn.pkl", metrics={"acc": 0.9})
        write_model(root, "weights-2")
        reg.register("churn", "models/churn.pkl", metrics={"acc": 0.95})
        reg.promote("churn", "v1.0.0", "production")
    return root


@pytest.fixture
def reg_repo(template: Path, tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(template, root, symlinks=True)
    return root


def assert_one_line_error(proc: object, *fragments: str) -> None:
    stderr: str = proc.stderr  # type: ignore[attr-defined]
    assert proc.returncode == 1, (proc.returncode, stderr)  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("modelreg: error: ")
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


BAD_INPUTS = [
    (["register", "churn-", "models/churn.pkl"], ["invalid model name 'churn-'"]),
    (["register", "churn", "models/churn.pkl", "--version", "1.2"], ["invalid version '1.2'"]),
    (
        ["register", "churn", "models/churn.pkl", "--version", "v1.0.0"],
        ["churn v1.0.0 already exists"],
    ),
    (
        ["register", "churn", "models/churn.pkl", "--version", "v1.1.0+build.7"],
        ["churn v1.1.0 already exists"],
    ),
    (["register", "churn", "models/churn.pkl", "--bump", "huge"], ["invalid --bump 'huge'"]),
    (
        ["register", "churn", "models/churn.pkl", "--metric", "acc=high"],
        ["metric acc='high'", "not a number"],
    ),
    (["register", "churn", "models/churn.pkl", "--metric", "acc"], ["invalid --metric 'acc'"]),
    (["register", "churn", "/etc/hostname"], ["'/etc/hostname' is outside the repository"]),
    (["register", "churn", "models/missing.pkl"], ["models/missing.pkl", "does not exist"]),
    (
        ["register", "churn", "models/churn.pkl"],
        ["byte-identical to churn v1.1.0", "--allow-unchanged"],
    ),
    (["register", "churn", "registry.yaml"], ["registry file"]),
    (["promote", "churn", "v1.1.0", "prod"], ["unknown stage 'prod'", "allowed stages"]),
    (["promote", "churn", "v1.1.0", "no such"], ["invalid stage 'no such'"]),
    (["promote", "churn", "v9.9.9", "production"], ["churn has no version v9.9.9"]),
    (["promote", "churn", "1.1", "production"], ["invalid version '1.1'"]),
    (["promote", "ghost", "v1.0.0", "production"], ["ghost has no version v1.0.0"]),
    (["promote", "churn", "v1.0.0", "production"], ["already holds 'production'"]),
    (["demote", "churn", "staging"], ["no version of 'churn' holds stage 'staging'"]),
    (["rollback", "churn", "production"], ["no earlier active version"]),
    (["deprecate", "churn", "v7.0.0"], ["churn has no version v7.0.0"]),
    (["deprecate", "ghost"], ["no model named 'ghost'"]),
    (["which", "churn", "staging"], ["no version of 'churn' holds stage 'staging'"]),
    (["which", "ghost", "production"], ["no model named 'ghost'"]),
    (["show", "churn@1.2"], ["invalid reference 'churn@1.2'"]),
    (["show", "churn@v3.0.0"], ["churn has no version v3.0.0"]),
    (["get", "churn#staging"], ["no version of 'churn' holds stage 'staging'"]),
    (["compare", "churn", "v1.0.0", "v4.0.0"], ["churn has no version v4.0.0"]),
    (["init"], ["already a modelreg registry"]),
]


@pytest.mark.parametrize(
    ("args", "fragments"), BAD_INPUTS, ids=[" ".join(a) for a, _ in BAD_INPUTS]
)
def test_bad_input_changes_nothing(reg_repo: Path, args: list[str], fragments: list[str]) -> None:
    before = snapshot(reg_repo)
    proc = modelreg(reg_repo, *args)
    assert_one_line_error(proc, *fragments)
    assert proc.stdout == ""
    assert snapshot(reg_repo) == before


def test_not_a_git_repository(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    assert_one_line_error(
        modelreg(folder, "which", "churn", "production"),
        "is not inside a Git repository",
        "git init",
    )
    assert_one_line_error(
        modelreg(tmp_path, "latest", "churn", "--repo", "missing"), "'missing' is not a folder"
    )


def test_reads_need_no_init_and_the_first_write_runs_it(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "commit", "-q", "--allow-empty", "-m", "Start")
    write_model(root, "w")
    before = snapshot(root)
    proc = modelreg(root, "list")
    assert proc.returncode == 0 and "No models registered yet" in proc.stdout
    assert snapshot(root) == before  # a read writes nothing
    proc = modelreg(root, "register", "churn", "models/churn.pkl")
    assert proc.returncode == 0, proc.stderr
    assert "had no registry.yaml: ran `modelreg init` first" in proc.stderr
    assert modelreg(root, "check").returncode == 0


def test_a_deleted_registry_yaml_is_reported_not_recreated(reg_repo: Path) -> None:
    (reg_repo / "registry.yaml").unlink()
    write_model(reg_repo, "weights-3")
    before = snapshot(reg_repo)
    assert_one_line_error(
        modelreg(reg_repo, "register", "churn", "models/churn.pkl"),
        "not a modelreg registry",
        "modelreg init",
    )
    assert snapshot(reg_repo) == before


def test_malformed_index_blocks_writes_not_reads(reg_repo: Path) -> None:
    (reg_repo / "registry.yaml").write_text("models:\n  churn:\n    versions: [\n")
    write_model(reg_repo, "weights-3")
    before = snapshot(reg_repo)
    assert_one_line_error(
        modelreg(reg_repo, "register", "churn", "models/churn.pkl"),
        "registry.yaml:",
        "invalid YAML",
    )
    assert_one_line_error(
        modelreg(reg_repo, "promote", "churn", "v1.1.0", "production"), "registry.yaml:"
    )
    assert snapshot(reg_repo) == before
    proc = modelreg(reg_repo, "which", "churn", "production")
    assert (proc.returncode, proc.stdout) == (0, "v1.0.0\n")


def test_no_git_identity(reg_repo: Path) -> None:
    git(reg_repo, "config", "user.useConfigOnly", "true")
    write_model(reg_repo, "weights-3")
    before = snapshot(reg_repo)
    for args in (
        ["register", "churn", "models/churn.pkl"],
        ["promote", "churn", "v1.1.0", "production"],
    ):
        proc = modelreg(reg_repo, *args, unset=[*IDENTITY, "EMAIL"])
        assert_one_line_error(proc, "no Git identity configured", "git config user.name")
    assert snapshot(reg_repo) == before


def test_register_commits_only_its_own_files(reg_repo: Path) -> None:
    (reg_repo / "notes.txt").write_text("work in progress")
    (reg_repo / "train.py").write_text("print('train')")
    git(reg_repo, "add", "notes.txt")
    write_model(reg_repo, "weights-3")
    proc = modelreg(reg_repo, "register", "churn", "models/churn.pkl", "--metric", "acc=0.97")
    assert (proc.returncode, proc.stdout) == (0, "v1.2.0\n"), proc.stderr
    committed = git(reg_repo, "show", "--name-only", "--format=", "HEAD").split()
    assert "notes.txt" not in committed
    assert git(reg_repo, "status", "--porcelain") == "A  notes.txt\n?? train.py\n"


def test_failure_midway_leaves_no_commit_no_tag_no_index(reg_repo: Path) -> None:
    write_model(reg_repo, "weights-3")
    before = snapshot(reg_repo)
    # A real fault: git cannot create the tag while another process holds its ref lock.
    lock = reg_repo / ".git" / "refs" / "tags" / "churn@v1.2.0.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text("")
    proc = modelreg(reg_repo, "register", "churn", "models/churn.pkl")
    assert_one_line_error(proc, "cannot lock ref 'refs/tags/churn@v1.2.0'")
    lock.unlink()
    assert snapshot(reg_repo) == before
    # …and the same command succeeds once the fault is gone.
    assert modelreg(reg_repo, "register", "churn", "models/churn.pkl").stdout == "v1.2.0\n"


def test_promote_failure_midway_is_undone(reg_repo: Path) -> None:
    before = snapshot(reg_repo)
    lock = reg_repo / ".git" / "refs" / "tags" / "churn#staging#2.lock"
    lock.write_text("")
    assert_one_line_error(
        modelreg(reg_repo, "promote", "churn", "v1.1.0", "staging"),
        "cannot lock ref 'refs/tags/churn#staging#2'",
    )
    lock.unlink()
    assert snapshot(reg_repo) == before


def test_second_version_on_the_same_commit_is_refused(
    reg_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GTO's invariant, guarded even if committing produced no new commit (simulated)."""
    head = git(reg_repo, "rev-parse", "churn@v1.1.0^{commit}").strip()
    git(reg_repo, "reset", "-q", "--hard", head)
    write_model(reg_repo, "weights-3")
    before = snapshot(reg_repo)
    monkeypatch.setattr(GitRepo, "make_commit", lambda self, *args, **kwargs: None)
    with pytest.raises(ConflictError, match=f"commit {head[:12]} already holds churn v1.1.0"):
        Registry(reg_repo).register("churn", "models/churn.pkl")
    assert snapshot(reg_repo) == before


def test_usage_errors_exit_2(reg_repo: Path) -> None:
    proc = modelreg(reg_repo, "which", "churn")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr

"""Promotion through pull requests as a team runs it: drift, policies, recovery, GTO.

Drift is a state per (model, stage): tags that moved after the committed registry.yaml last
set the pair.  It is reported (a warning, an error under --strict) and never silently
reverted: `apply` refuses it until told to --adopt or --revert.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from tests.helpers import VENV_BIN, git, modelreg, snapshot, write_model

from modelreg import PolicyError, Registry, clock
from modelreg.index.schemafile import MODELINE

pytestmark = pytest.mark.slow


def _past(seconds: int) -> dict[str, str]:
    import time

    return {"GIT_COMMITTER_DATE": f"@{int(time.time()) - seconds} +0000"}


def _gto(repo: Path, *args: str) -> None:
    proc = subprocess.run([str(VENV_BIN / "gto"), *args], cwd=repo, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


class _TenMinutesAgo:
    """A clock standing ten minutes in the past; a write that waits moves it on."""

    def __init__(self) -> None:
        import time

        self.t = time.time() - 600

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def synced(registry: Registry, repo: Path, monkeypatch: pytest.MonkeyPatch) -> Registry:
    """churn v1.0.0 and v1.1.0, v1.0.0 in production; every commit and tag dated ten minutes
    ago, so a tag made now is unambiguously later than the file's last change (and than
    the assignment it competes with: one in the same second would lose GTO's tie)."""
    previous = clock.use(_TenMinutesAgo())
    try:
        for content in ("one", "two"):
            write_model(repo, content)
            registry.register("churn", "models/churn.pkl")
        registry.promote("churn", "v1.0.0", "production")
    finally:
        clock.use(previous)
    # Re-date the branch's commits into the past (the content and tags stay).
    env = {**os.environ, **_past(600)}
    subprocess.run(
        ["git", "commit", "--amend", "-q", "--no-edit", "--allow-empty"],
        cwd=repo,
        env=env,
        check=True,
    )
    return registry


def test_a_gto_assign_is_drift_reported_not_reverted(synced: Registry, repo: Path) -> None:
    _gto(repo, "assign", "churn", "--version", "v1.1.0", "--stage", "production")
    proc = modelreg(repo, "check")
    assert proc.returncode == 0, proc.stdout
    assert "warning: churn production: drifted, tags hold v1.1.0 since churn#production#" in (
        proc.stdout
    )
    assert "modelreg apply --adopt" in proc.stdout
    strict = modelreg(repo, "check", "--strict")
    assert strict.returncode == 1 and "error: churn production: drifted" in strict.stdout
    data = json.loads(modelreg(repo, "check", "--json").stdout)
    assert data["ok"] is True and data["drift"][0]["realized"] == "v1.1.0"
    tags = git(repo, "tag")
    refused = modelreg(repo, "apply")
    assert refused.returncode == 1 and "drifted" in refused.stderr
    assert "apply --adopt" in refused.stderr and len(refused.stderr.splitlines()) == 1
    assert git(repo, "tag") == tags  # nothing was reverted
    assert modelreg(repo, "which", "churn", "production").stdout == "v1.1.0\n"


def test_apply_adopt_records_the_tags_in_the_file(synced: Registry, repo: Path) -> None:
    _gto(repo, "assign", "churn", "--version", "v1.1.0", "--stage", "production")
    _gto(repo, "register", "churn", "HEAD", "--version", "v0.9.0")
    head = git(repo, "rev-parse", "HEAD").strip()
    proc = modelreg(repo, "apply", "--adopt")
    assert proc.returncode == 0, proc.stderr
    assert git(repo, "rev-parse", "HEAD~1").strip() == head  # one commit
    index = yaml.safe_load((repo / "registry.yaml").read_text())
    assert index["models"]["churn"]["stages"] == {"production": "v1.1.0"}
    assert "v0.9.0" in index["models"]["churn"]["versions"]  # indexed, as rebuild would
    check = modelreg(repo, "check", "--strict")
    assert check.returncode == 0 and "drifted" not in check.stdout, check.stdout
    assert modelreg(repo, "apply").stdout == "Nothing to apply: the tags match registry.yaml\n"


def test_apply_revert_makes_the_tags_follow_the_file(synced: Registry, repo: Path) -> None:
    _gto(repo, "assign", "churn", "--version", "v1.1.0", "--stage", "production")
    proc = modelreg(repo, "apply", "--revert")
    assert proc.returncode == 0, proc.stderr
    assert "assign churn v1.0.0 (production)" in proc.stdout
    assert modelreg(repo, "which", "churn", "production").stdout == "v1.0.0\n"
    assert modelreg(repo, "check", "--strict").returncode == 0


def test_a_merged_change_is_pending_and_applied(synced: Registry, repo: Path) -> None:
    text = (repo / "registry.yaml").read_text()
    (repo / "registry.yaml").write_text(text.replace("production: v1.0.0", "production: v1.1.0"))
    git(repo, "commit", "-q", "-m", "PR: production v1.1.0", "--", "registry.yaml")
    check = modelreg(repo, "check", "--strict")
    assert check.returncode == 0 and "drifted" not in check.stdout, check.stdout
    proc = modelreg(repo, "apply")
    assert proc.returncode == 0 and "assign churn v1.1.0 (production)" in proc.stdout


def test_apply_refuses_uncommitted_edits_and_changes_nothing(synced: Registry, repo: Path) -> None:
    text = (repo / "registry.yaml").read_text()
    (repo / "registry.yaml").write_text(text.replace("production: v1.0.0", "production: v1.1.0"))
    before = snapshot(repo)
    proc = modelreg(repo, "apply")
    assert proc.returncode == 1 and "uncommitted changes" in proc.stderr
    assert snapshot(repo) == before
    # The hint works: dropping the edit lets apply run.
    git(repo, "restore", "--staged", "--worktree", "registry.yaml")
    assert modelreg(repo, "apply").returncode == 0


def test_writes_that_tag_belong_on_the_registry_branch(synced: Registry, repo: Path) -> None:
    index = yaml.safe_load((repo / "registry.yaml").read_text())
    assert index["branch"] == "main"  # recorded by init
    git(repo, "switch", "-q", "-c", "feature")
    write_model(repo, "three")
    before = snapshot(repo)
    for args in (
        ["promote", "churn", "v1.1.0", "production"],
        ["register", "churn", "models/churn.pkl"],
    ):
        proc = modelreg(repo, *args)
        assert proc.returncode == 1 and len(proc.stderr.splitlines()) == 1, proc.stderr
        assert "belong on the registry branch 'main' (this is feature)" in proc.stderr
    assert snapshot(repo) == before
    # The proposal route works from anywhere.
    assert modelreg(repo, "promote", "churn", "v1.1.0", "production", "--no-tag").returncode == 0
    git(repo, "checkout", "-q", "--", "registry.yaml")
    # The hint works.
    git(repo, "switch", "-q", "main")
    assert modelreg(repo, "promote", "churn", "v1.1.0", "production").returncode == 0


def test_a_detached_head_at_the_remote_tip_may_write(tmp_path: Path) -> None:
    from tests.helpers import bare_remote_and_clone

    _, work = bare_remote_and_clone(tmp_path)
    Registry(work).init(dvc_remote=str(tmp_path / "store"))
    write_model(work, "a")
    Registry(work).register("churn", "models/churn.pkl", push="origin")
    git(work, "fetch", "-q", "origin")
    git(work, "checkout", "-q", "--detach", "origin/main")  # as CI checks out
    assert modelreg(work, "promote", "churn", "v1.0.0", "staging").returncode == 0
    git(work, "commit", "-q", "--allow-empty", "-m", "local only")
    proc = modelreg(work, "promote", "churn", "v1.0.0", "dev")
    assert proc.returncode == 1 and "a detached HEAD" in proc.stderr


def test_a_registry_without_a_branch_learns_it_on_its_first_write(
    synced: Registry, repo: Path
) -> None:
    text = (repo / "registry.yaml").read_text()
    (repo / "registry.yaml").write_text(text.replace("branch: main\n", ""))
    git(repo, "commit", "-q", "-m", "an older registry", "--", "registry.yaml")
    proc = modelreg(repo, "promote", "churn", "v1.1.0", "staging")
    assert proc.returncode == 0 and "recorded `branch: main`" in proc.stderr
    # Below the `$schema` line, which stays the first.
    assert (repo / "registry.yaml").read_text().startswith(MODELINE + "branch: main\n")
    again = modelreg(repo, "promote", "churn", "v1.1.0", "dev")
    assert "recorded" not in again.stderr  # said once


# -- policies mean what they say -----------------------------------------------------------


def _policy(repo: Path, text: str) -> None:
    index = (repo / "registry.yaml").read_text()
    (repo / "registry.yaml").write_text(index.replace("models:", f"{text}\nmodels:", 1))
    git(repo, "commit", "-q", "-m", "policy", "--", "registry.yaml")


def test_allow_empty_false_says_nothing_about_a_stage_never_held(
    registry: Registry, repo: Path
) -> None:
    _policy(repo, "policy:\n  production:\n    allow_empty: false")
    write_model(repo, "one")
    registry.register("churn", "models/churn.pkl")
    write_model(repo, "x", "models/other.pkl")
    registry.register("other", "models/other.pkl")
    registry.deprecate("other")
    assert modelreg(repo, "check", "--strict").returncode == 0
    registry.promote("churn", "v1.0.0", "production")
    with pytest.raises(PolicyError, match="may not be left empty"):
        registry.demote("churn", "production")
    with pytest.raises(PolicyError, match="would leave stage 'production' of churn empty"):
        registry.deprecate("churn", "v1.0.0")  # deregistering the last holder empties it
    # The file may not drop the holder either…
    text = (repo / "registry.yaml").read_text()
    (repo / "registry.yaml").write_text(text.replace("stages: {production: v1.0.0}", "stages: {}"))
    proc = modelreg(repo, "check")
    assert proc.returncode == 1 and "may not be left empty" in proc.stdout
    git(repo, "checkout", "--", "registry.yaml")
    # …but deprecating the whole model is allowed.
    assert modelreg(repo, "deprecate", "churn").returncode == 0


def test_rollback_obeys_the_stage_policy(registry: Registry, repo: Path) -> None:
    _policy(repo, "policy:\n  production:\n    requires: [dev, staging]")
    for content in ("one", "two"):
        write_model(repo, content)
        registry.register("churn", "models/churn.pkl")
    for stage in ("dev", "staging", "production"):
        registry.promote("churn", "v1.1.0", stage)
    with pytest.raises(PolicyError, match="v1.0.0 must hold 'dev' before 'production'"):
        registry.rollback("churn", "production", to="v1.0.0")
    registry.promote("churn", "v1.0.0", "dev")
    with pytest.raises(PolicyError, match="must hold 'staging'"):  # a list means all of them
        registry.rollback("churn", "production", to="v1.0.0")
    change = registry.rollback("churn", "production", to="v1.0.0", force=True)
    message = git(repo, "for-each-ref", f"refs/tags/{change.tag}", "--format=%(contents)")
    assert "Policy overridden with --force" in message


# -- recovery and moving from GTO ----------------------------------------------------------


def test_index_rebuild_works_on_a_malformed_index(registry: Registry, repo: Path) -> None:
    _policy(repo, "policy:\n  production:\n    requires: staging")
    write_model(repo, "one")
    registry.register("churn", "models/churn.pkl")
    text = (repo / "registry.yaml").read_text()
    (repo / "registry.yaml").write_text(text.replace("  churn:\n", "  churn:\n    - [broken\n"))
    assert modelreg(repo, "promote", "churn", "v1.0.0", "dev").returncode == 1
    proc = modelreg(repo, "index", "rebuild")
    assert proc.returncode == 0, proc.stderr
    assert "kept stages and policy" in proc.stderr
    index = yaml.safe_load((repo / "registry.yaml").read_text())
    assert index["policy"] == {"production": {"requires": "staging"}}
    assert "v1.0.0" in index["models"]["churn"]["versions"]
    assert modelreg(repo, "check").returncode == 0
    (repo / "registry.yaml").write_bytes(b"\xff\xfe not text")
    assert modelreg(repo, "index", "rebuild").returncode == 0


def test_init_in_a_gto_repository_passes_its_own_check(repo: Path) -> None:
    (repo / "model.pkl").write_text("weights")
    git(repo, "add", "model.pkl")
    git(repo, "commit", "-q", "-m", "a GTO registry")
    _gto(repo, "register", "churn", "HEAD", "--version", "v1.0.0")
    _gto(repo, "assign", "churn", "--version", "v1.0.0", "--stage", "canary")  # before .gto
    (repo / ".gto").write_text("stages: [dev, prod]\n")
    _gto(repo, "assign", "churn", "--version", "v1.0.0", "--stage", "prod")
    proc = modelreg(repo, "init")
    assert proc.returncode == 0, proc.stderr
    assert "promotion order: dev, prod, canary" in proc.stderr  # .gto's order, then by use
    index = yaml.safe_load((repo / "registry.yaml").read_text())
    assert index["stages"] == ["dev", "prod", "canary"]
    assert index["models"]["churn"]["stages"] == {"prod": "v1.0.0", "canary": "v1.0.0"}
    check = modelreg(repo, "check", "--strict")
    assert check.returncode == 0, check.stdout
    assert Registry(repo).which("churn", "prod").version == "v1.0.0"


# -- hints that work -------------------------------------------------------------------------


def test_which_an_unknown_stage_names_the_stages_instead_of_a_promotion(
    synced: Registry, repo: Path
) -> None:
    proc = modelreg(repo, "which", "churn", "canary")
    assert proc.returncode == 1 and "is not a stage of this registry" in proc.stderr
    assert "dev, staging, production" in proc.stderr and "promote" not in proc.stderr
    staging = modelreg(repo, "which", "churn", "staging")
    assert "modelreg promote churn VERSION staging" in staging.stderr
    # The hint works once VERSION is filled in.
    assert modelreg(repo, "promote", "churn", "v1.1.0", "staging").returncode == 0
    assert modelreg(repo, "which", "churn", "staging").stdout == "v1.1.0\n"


def test_push_without_a_dvc_remote_suggests_a_command_that_works(tmp_path: Path) -> None:
    from tests.helpers import bare_remote_and_clone

    _, work = bare_remote_and_clone(tmp_path)
    Registry(work).init()
    write_model(work, "a")
    Registry(work).register("churn", "models/churn.pkl")
    proc = modelreg(work, "push")
    assert proc.returncode == 1 and "dvc remote add -d storage URL" in proc.stderr
    hint = subprocess.run(
        [str(VENV_BIN / "dvc"), "remote", "add", "-d", "storage", str(tmp_path / "store")],
        cwd=work,
        capture_output=True,
        text=True,
    )
    assert hint.returncode == 0, hint.stderr
    git(work, "commit", "-qam", "a DVC remote")
    assert modelreg(work, "push").returncode == 0


def test_repo_at_a_bare_repository_path_is_read_like_its_url(tmp_path: Path) -> None:
    from tests.helpers import bare_remote_and_clone

    origin, work = bare_remote_and_clone(tmp_path)
    Registry(work).init(dvc_remote=str(tmp_path / "store"))
    write_model(work, "a")
    Registry(work).register("churn", "models/churn.pkl", push="origin")
    Registry(work).promote("churn", "v1.0.0", "production", push="origin")
    proc = modelreg(tmp_path, "which", "churn", "production", "--repo", str(origin))
    assert (proc.returncode, proc.stdout) == (0, "v1.0.0\n"), proc.stderr
    write = modelreg(tmp_path, "promote", "churn", "v1.0.0", "dev", "--repo", str(origin))
    assert write.returncode == 1 and "git clone" in write.stderr
    clone_cmd = write.stderr.split("`")[1].split()  # the hint, run as given
    assert subprocess.run([*clone_cmd, str(tmp_path / "c")], capture_output=True).returncode == 0
    assert modelreg(tmp_path / "c", "which", "churn", "production").stdout == "v1.0.0\n"


def test_check_notes_a_missing_merge_driver_and_its_hint_works(
    registry: Registry, repo: Path, tmp_path: Path
) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))  # git copies no driver settings
    proc = modelreg(clone, "check")
    assert proc.returncode == 0 and "note: registry.yaml has no merge driver" in proc.stdout
    command = proc.stdout.split("`")[1]  # the hint, run as given
    assert subprocess.run(command, shell=True, cwd=clone).returncode == 0
    assert "no merge driver" not in modelreg(clone, "check").stdout


# -- registering through a pull request ------------------------------------------------------


def test_register_no_tag_is_proposed_on_a_branch_and_tagged_by_apply(tmp_path: Path) -> None:
    """A protected main: nobody writes to it directly.  The data scientist proposes the new
    version (bytes to the DVC remote, branch to the Git remote, no tag); after the merge, CI's
    `apply --push` registers it on main's commit that holds it, then promotes it."""
    from tests.helpers import bare_remote_and_clone

    origin, work = bare_remote_and_clone(tmp_path)
    Registry(work).init(dvc_remote=str(tmp_path / "store"))
    git(work, "push", "-q", "origin", "main")
    git(work, "switch", "-q", "-c", "new-churn")
    write_model(work, "proposed-bytes")
    proc = modelreg(
        work, "register", "churn", "models/churn.pkl", "--no-tag", "--push", "--metric", "acc=0.9"
    )
    assert (proc.returncode, proc.stdout) == (0, "v1.0.0\n"), proc.stderr
    assert modelreg(work, "promote", "churn", "v1.0.0", "staging", "--no-tag").returncode == 0
    git(work, "commit", "-q", "-am", "Stage churn v1.0.0")
    git(work, "push", "-q", "origin", "new-churn")
    assert git(work, "ls-remote", "--tags", str(origin)) == ""  # no tag before the merge
    assert modelreg(work, "check", "--strict").returncode == 0  # what CI checks on the PR

    ci = tmp_path / "ci"  # the merge, then CI on main
    git(tmp_path, "clone", "-q", str(origin), str(ci))
    git(ci, "merge", "-q", "--no-ff", "origin/new-churn", "-m", "Merge pull request")
    git(ci, "push", "-q", "origin", "main")
    applied = modelreg(ci, "apply", "--push")
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.splitlines()[0] == "created churn@v1.0.0: register churn v1.0.0"
    assert "churn#staging#1" in applied.stdout
    reader = tmp_path / "reader"
    git(tmp_path, "clone", "-q", str(origin), str(reader))
    assert modelreg(reader, "which", "churn", "staging").stdout == "v1.0.0\n"
    assert modelreg(reader, "check", "--strict").returncode == 0
    mv = Registry(reader).resolve("churn@v1.0.0")
    assert mv.metrics == {"acc": 0.9}
    assert Registry(reader).get("churn@v1.0.0", out=tmp_path / "m").read_text() == "proposed-bytes"


def test_git_errors_are_reported_by_their_error_line() -> None:
    """gitrepo.error_line: the one line every git failure message quotes (sync, replay,
    remote and gitrepo all use it): the first fatal/error line, credentials redacted."""
    from modelreg.gitrepo import error_line

    stderr = (
        "hint: Updates were rejected\n"
        "error: failed to push some refs to 'https://bob:s3cret@example.com/r.git'\n"
        "fatal: the remote end hung up\n"
    )
    line = error_line(stderr)
    assert line.startswith("error: failed to push some refs to") and "s3cret" not in line
    assert error_line("  \n just a warning\n") == "just a warning"
    assert error_line("") == "git failed"  # replay's reset once indexed an empty stderr

"""Promotion through pull requests: stage policies, check, apply, promote --no-tag, and the
CI templates under docs/ci/, whose commands a test runs in order against a bare remote."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml
from tests.helpers import git, modelreg, snapshot, write_model

from modelreg import PolicyError, Registry
from modelreg.errors import ConflictError

ROOT = Path(__file__).resolve().parents[1]
POLICY = """policy:
  production:
    requires: staging
    metrics: {accuracy: ">=0.9", latency_ms: "<50"}
"""


def add_policy(repo: Path, text: str = POLICY) -> None:
    index = repo / "registry.yaml"
    index.write_text(index.read_text().replace("models:", text + "models:", 1))
    git(repo, "commit", "-qam", "Add stage policies")


@pytest.fixture
def governed(registry: Registry, repo: Path) -> Registry:
    """churn v1.0.0 (good metrics) and v1.1.0 (too slow) under a production policy."""
    add_policy(repo)
    write_model(repo, "a")
    registry.register("churn", "models/churn.pkl", metrics={"accuracy": 0.95, "latency_ms": 20})
    write_model(repo, "b")
    registry.register("churn", "models/churn.pkl", metrics={"accuracy": 0.97, "latency_ms": 80})
    return registry


def test_promote_enforces_requires_and_thresholds(governed: Registry, repo: Path) -> None:
    with pytest.raises(PolicyError, match="v1.0.0 must hold 'staging' before 'production'"):
        governed.promote("churn", "v1.0.0", "production")
    governed.promote("churn", "v1.0.0", "staging")
    assert governed.promote("churn", "v1.0.0", "production").version == "v1.0.0"
    governed.promote("churn", "v1.1.0", "staging")
    with pytest.raises(PolicyError, match=r"latency_ms=80, needs latency_ms < 50.*--force"):
        governed.promote("churn", "v1.1.0", "production")
    forced = governed.promote("churn", "v1.1.0", "production", force=True)
    message = git(repo, "tag", "-l", "--format=%(contents)", forced.tag)
    assert "Policy overridden with --force." in message
    plain = git(repo, "tag", "-l", "--format=%(contents)", "churn#production#2")
    assert "--force" not in plain


def test_missing_metric_is_a_violation(governed: Registry, repo: Path) -> None:
    write_model(repo, "c")
    governed.register("churn", "models/churn.pkl", metrics={"accuracy": 0.99})
    governed.promote("churn", "v1.2.0", "staging")
    with pytest.raises(PolicyError, match="v1.2.0 has no metric 'latency_ms'"):
        governed.promote("churn", "v1.2.0", "production")


def test_allow_empty_false_protects_the_last_holder(registry: Registry, repo: Path) -> None:
    add_policy(repo, "policy:\n  production:\n    allow_empty: false\n")
    write_model(repo, "a")
    registry.register("churn", "models/churn.pkl")
    registry.promote("churn", "v1.0.0", "production")
    before = snapshot(repo)
    with pytest.raises(PolicyError, match="may not be left empty"):
        registry.demote("churn", "production")
    assert snapshot(repo) == before
    assert registry.demote("churn", "production", force=True).holder is None


def test_no_tag_edits_only_the_index(governed: Registry, repo: Path) -> None:
    governed.promote("churn", "v1.0.0", "staging")
    tags = git(repo, "tag")
    proposal = governed.propose("churn", "v1.0.0", "production")
    assert Path(proposal.path or "") == repo / "registry.yaml"
    assert (proposal.branch, proposal.commit) == (None, None)
    assert git(repo, "tag") == tags
    assert git(repo, "status", "--porcelain") == " M registry.yaml\n"
    desired = yaml.safe_load((repo / "registry.yaml").read_text())["models"]["churn"]["stages"]
    assert desired == {"staging": "v1.0.0", "production": "v1.0.0"}
    with pytest.raises(PolicyError):
        governed.propose("churn", "v1.1.0", "production")


def test_no_tag_on_a_new_branch_touches_nothing_else(governed: Registry, repo: Path) -> None:
    governed.promote("churn", "v1.0.0", "staging")
    before = snapshot(repo)
    proc = modelreg(
        repo,
        "promote",
        "churn",
        "v1.0.0",
        "production",
        "--no-tag",
        "--branch",
        "promote-churn",
        "-m",
        "ready for prod",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("churn v1.0.0 proposed for production in branch promote-churn")
    assert snapshot(repo) == before
    show = git(repo, "show", "promote-churn:registry.yaml")
    assert yaml.safe_load(show)["models"]["churn"]["stages"]["production"] == "v1.0.0"
    assert git(repo, "log", "-1", "--format=%s", "promote-churn").strip() == (
        "Propose churn v1.0.0 for production"
    )
    proposal = governed.propose("churn", "v1.0.0", "staging", branch="stage-churn")
    assert (proposal.path, proposal.branch) == (None, "stage-churn")
    assert proposal.commit == git(repo, "rev-parse", "stage-churn").strip()
    assert snapshot(repo) == before
    with pytest.raises(ConflictError, match="branch 'promote-churn' already exists"):
        governed.propose("churn", "v1.0.0", "production", branch="promote-churn")
    bad = modelreg(repo, "promote", "churn", "v1.0.0", "production", "--branch", "x")
    assert bad.returncode == 1 and "--branch needs --no-tag" in bad.stderr


def test_check_passes_on_a_sound_registry(governed: Registry, repo: Path) -> None:
    proc = modelreg(repo, "check")
    assert (proc.returncode, proc.stdout) == (
        0,
        "registry.yaml is consistent: 1 model, 2 versions\n",
    )
    data = __import__("json").loads(modelreg(repo, "check", "--json").stdout)
    assert data == {"ok": True, "problems": [], "drift": [], "notes": [], "warnings": []}


def edit(repo: Path, old: str, new: str) -> None:
    path = repo / "registry.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def line_of(repo: Path, fragment: str) -> int:
    lines = (repo / "registry.yaml").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if fragment in line)


CASES = [
    (
        "stage typo",
        ("stages: {}", "stages: {prodution: v1.0.0}"),
        "{line}: churn v1.0.0: stages: unknown stage 'prodution'",
        "prodution",
    ),
    (
        "missing version",
        ("stages: {}", "stages: {staging: v3.0.0}"),
        "{line}: churn v3.0.0: stages: 'staging' names version 'v3.0.0', which does not exist",
        "v3.0.0",
    ),
    (
        "bad threshold",
        ('accuracy: ">=0.9"', 'accuracy: "about 0.9"'),
        "{line}: policy: invalid threshold accuracy: 'about 0.9'",
        "about",
    ),
    (
        "policy violation",
        ("stages: {}", "stages: {production: v1.1.0}"),
        "{line}: churn v1.1.0: policy.requires: v1.1.0 must hold 'staging' before 'production'",
        "production: v1.1.0",
    ),
    (
        "index version without tag",
        ("versions:\n", "versions:\n      v0.9.0:\n        tag: churn@v0.9.0\n"),
        "{line}: churn v0.9.0: tags: no tag churn@v0.9.0",
        "v0.9.0:",
    ),
    (
        "invalid yaml",
        ("stages: {}", "stages: {production: v1.0.0]"),
        "{line}: schema: invalid YAML (did not find expected ',' or '}}'): fix the file",
        "production: v1.0.0]",
    ),
    (
        # YAML notices an unclosed bracket where the next key begins: that is the line named.
        "unclosed bracket",
        ("stages: {}", "stages: {production: [v1.0.0"),
        "{line}: schema: invalid YAML (did not find expected ',' or ']'): fix the file",
        "versions:",
    ),
]


@pytest.mark.parametrize(
    ("label", "change", "expected", "anchor"), CASES, ids=[c[0] for c in CASES]
)
def test_check_reports_each_problem_precisely(
    governed: Registry,
    repo: Path,
    label: str,
    change: tuple[str, str],
    expected: str,
    anchor: str,
) -> None:
    edit(repo, *change)
    proc = modelreg(repo, "check")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    reported = f"registry.yaml:{expected.format(line=line_of(repo, anchor))}"
    assert any(ln.startswith(reported) for ln in proc.stdout.splitlines()), proc.stdout
    assert all(ln.startswith("registry.yaml") for ln in proc.stdout.splitlines())


def test_check_finds_tags_missing_from_the_index_and_deregistered_stages(
    governed: Registry, repo: Path
) -> None:
    git(repo, "tag", "-a", "-m", "Registering", "churn@v5.0.0")
    governed.promote("churn", "v1.0.0", "staging")
    governed.deprecate("churn", "v1.0.0")
    edit(repo, "stages: {}", "stages: {staging: v1.0.0}")
    out = modelreg(repo, "check").stdout
    assert "churn v5.0.0: tags: tag churn@v5.0.0 is missing from the index" in out
    assert "churn v1.0.0: stages: 'staging' names deregistered version v1.0.0" in out


def test_check_remote_finds_artifacts_missing_from_the_dvc_remote(
    repo: Path, tmp_path: Path
) -> None:
    reg = Registry(repo)
    reg.init(dvc_remote=str(tmp_path / "store"))
    write_model(repo, "a")
    reg.register("churn", "models/churn.pkl")
    proc = modelreg(repo, "check", "--verify-remote")
    assert proc.returncode == 1
    assert "churn v1.0.0: remote: artifact" in proc.stdout and "missing from the DVC" in proc.stdout
    assert subprocess.run(["dvc", "push", "-q"], cwd=repo).returncode == 0
    assert modelreg(repo, "check", "--verify-remote").returncode == 0


def test_apply_is_idempotent_and_lists_what_it_does(governed: Registry, repo: Path) -> None:
    governed.promote("churn", "v1.0.0", "staging")
    governed.promote("churn", "v1.1.0", "dev")
    edit(
        repo,
        "stages: {dev: v1.1.0, staging: v1.0.0}",
        "stages: {staging: v1.0.0, production: v1.0.0}",
    )
    # Uncommitted edits are not desired state: apply refuses until they are committed.
    refused = modelreg(repo, "apply")
    assert refused.returncode == 1 and "uncommitted changes" in refused.stderr
    git(repo, "commit", "-qm", "Proposal", "--", "registry.yaml")
    dry = modelreg(repo, "apply", "--dry-run")
    assert dry.stdout.splitlines() == [
        "would create churn#dev!#3: unassign churn v1.1.0 (dev)",
        "would create churn#production#4: assign churn v1.0.0 (production)",
    ]
    assert "churn#production#4" not in git(repo, "tag")
    assert modelreg(repo, "apply").stdout == dry.stdout.replace("would create", "created")
    assert governed.which("churn", "production").version == "v1.0.0"
    assert governed.show("churn").stages == {"staging": "v1.0.0", "production": "v1.0.0"}
    again = modelreg(repo, "apply")
    assert again.stdout == "Nothing to apply: the tags match registry.yaml\n"


# -- the CI templates, executed ----------------------------------------------------------


def workflow_steps(job: str) -> list[str]:
    """The shell scripts a job of docs/ci/github-actions.yml runs, minus installation."""
    workflow = yaml.safe_load((ROOT / "docs" / "ci" / "github-actions.yml").read_text())
    return [
        step["run"]
        for step in workflow["jobs"][job]["steps"]
        if "run" in step and not step.get("name", "").startswith("Install")
    ]


def run_job(
    job: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    script = "set -e\n" + "\n".join(workflow_steps(job))
    return subprocess.run(
        ["bash", "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.slow
def test_the_ci_templates_flow_end_to_end(tmp_path: Path) -> None:
    origin, store = tmp_path / "origin.git", tmp_path / "dvc-store"
    url = f"file://{origin}"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    ds = tmp_path / "data-scientist"
    git(tmp_path, "clone", "-q", url, str(ds))
    git(ds, "commit", "-q", "--allow-empty", "-m", "Start")
    reg = Registry(ds)
    reg.init(dvc_remote=str(store), push="origin")
    add_policy(ds)
    git(ds, "push", "-q", "origin", "main")
    write_model(ds, "v1 bytes")
    reg.register(
        "churn", "models/churn.pkl", metrics={"accuracy": 0.95, "latency_ms": 20}, push="origin"
    )
    write_model(ds, "v2 bytes")
    reg.register(
        "churn", "models/churn.pkl", metrics={"accuracy": 0.96, "latency_ms": 30}, push="origin"
    )
    reg.promote("churn", "v1.0.0", "staging", push="origin")

    # A pull request that skips staging (proposed with --force, as a hand edit would be).
    reg.propose("churn", "v1.1.0", "production", branch="skip-staging", force=True)
    reg.propose("churn", "v1.0.0", "production", branch="via-staging")
    git(ds, "push", "-q", "origin", "skip-staging", "via-staging")

    ci = tmp_path / "ci"
    git(tmp_path, "clone", "-q", url, str(ci))
    git(ci, "checkout", "-q", "skip-staging")
    failed = run_job("check", ci)
    assert failed.returncode == 1
    assert "policy.requires: v1.1.0 must hold 'staging' before 'production'" in failed.stdout
    git(ci, "checkout", "-q", "via-staging")
    passed = run_job("check", ci)
    assert passed.returncode == 0, passed.stdout + passed.stderr

    # The reviewer merges; CI on main applies the desired stages as tags on the remote.
    git(ds, "fetch", "-q", "origin")
    git(ds, "merge", "-q", "--ff-only", "origin/via-staging")
    git(ds, "push", "-q", "origin", "main")
    main_ci = tmp_path / "ci-main"
    git(tmp_path, "clone", "-q", url, str(main_ci))
    output = tmp_path / "github-output"
    applied = run_job("apply", main_ci, {"GITHUB_OUTPUT": str(output)})
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert '"tag": "churn#production#2"' in applied.stdout
    assert modelreg(tmp_path, "which", "churn", "production", "--repo", url).stdout == "v1.0.0\n"
    # The job output the deploy job's matrix is built from: the pairs apply changed.
    assert output.read_text() == 'pairs=[{"model":"churn","stage":"production"}]\n'
    output.unlink()
    again = run_job("apply", main_ci, {"GITHUB_OUTPUT": str(output)})
    assert again.returncode == 0, again.stdout + again.stderr
    assert output.read_text() == "pairs=[]\n"

    # The deploy job runs for that pair: it resolves and fetches the version.
    deploy_dir = tmp_path / "deploy"
    deploy_dir.mkdir()
    deployed = run_job(
        "deploy", deploy_dir, {"MODEL": "churn", "STAGE": "production", "REGISTRY_URL": url}
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert "deploying churn v1.0.0 to production" in deployed.stdout
    assert (deploy_dir / "model.bin").read_text() == "v1 bytes"

"""The CI templates under docs/ci/ and the pre-commit hook, proven by the real tools.

- GitHub: `check-jsonschema` (GitHub's workflow schema) and `zizmor --offline` pass; every action
  is pinned to the commit its release tag points at (the table below); permissions, concurrency,
  the tag filter, and the apply -> deploy hand-over, run as the runner's bash would run them.
- GitLab: `check-jsonschema` (GitLab's schema) passes, and the template runs under
  `gitlab-ci-local` with the shell executor against a bare remote: the merge-request check on
  a good and a broken registry.yaml (`make test`), and the whole flow (the long tier):
  merge-request pipelines (check), the main pipeline (apply), tag pipelines (deploy).
- pre-commit: the hook, installed in a repository, stops `git commit` of a broken
  registry.yaml and lets a consistent one through (`make test`); `pre-commit try-repo <this
  checkout> modelreg-check` does the same with the hook's own Python environment (the long
  tier); the README's `rev:` is a commit that has the hook.

A missing tool skips its test; `make test-all` (MODELREG_NO_SKIPS=1) turns any skip into a
failure, and `make ci-tools` (which .ci/run calls) installs them all.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.helpers import bare_remote_and_clone, git, modelreg, write_model

from modelreg import Registry

ROOT = Path(__file__).resolve().parents[1]
GITHUB = ROOT / "docs" / "ci" / "github-actions.yml"
GITLAB = ROOT / "docs" / "ci" / "gitlab-ci.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
GITLAB_CI_LOCAL = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "gitlab-ci-local"

# The commit each release tag of the actions the GitHub template uses points at, read from the
# actions' own repositories (`git ls-remote --tags https://github.com/actions/checkout v7.0.1`).
# Bumping an action means adding its new commit here, with the release it belongs to.
PINNED = {
    "actions/checkout": {"3d3c42e5aac5ba805825da76410c181273ba90b1": "v7.0.1"},
    "actions/setup-python": {"5fda3b95a4ea91299a34e894583c3862153e4b97": "v7.0.0"},
    "actions/upload-pages-artifact": {"fc324d3547104276b827a68afc52ff2a11cc49c9": "v5.0.0"},
    "actions/deploy-pages": {"cd2ce8fcbc39b97be8ca5fce6e763baed58fa128": "v5.0.0"},
}


def tool(name: str) -> str:
    """The path of a command-line tool, or a skip (a failure under MODELREG_NO_SKIPS=1)."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed: run `make ci-tools`")
    return path


def workflow() -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(GITHUB.read_text())
    return loaded


def step_script(job: str, name: str) -> str:
    """The `run:` script of the step called ``name`` in a job of the GitHub template."""
    for step in workflow()["jobs"][job]["steps"]:
        if step.get("name") == name:
            return str(step["run"])
    raise AssertionError(f"no step {name!r} in job {job!r}")


def run_step(
    job: str, name: str, cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run one step's script as the runner does with `shell: bash` (the template's default)."""
    assert workflow()["defaults"]["run"]["shell"] == "bash"
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step_script(job, name)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )


# -- GitHub Actions ----------------------------------------------------------------------


def test_github_workflow_passes_its_schema() -> None:
    proc = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(GITHUB)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_github_workflow_passes_zizmor(tmp_path: Path) -> None:
    proc = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", str(GITHUB)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout


def test_actions_are_pinned_to_the_commits_of_the_releases_named() -> None:
    text = GITHUB.read_text()
    uses = [
        step["uses"]
        for job in workflow()["jobs"].values()
        for step in job.get("steps", [])
        if "uses" in step
    ]
    lines = re.findall(r"^\s*(?:- )?uses: (\S+)(.*)$", text, flags=re.M)
    assert [ref for ref, _ in lines] == uses and uses
    for ref, comment in lines:
        action, _, sha = ref.partition("@")
        assert re.fullmatch(r"[0-9a-f]{40}", sha), f"{ref}: pin a full commit SHA"
        version = re.fullmatch(r"\s*# (v\d+\.\d+\.\d+)\s*", comment)
        assert version, f"{ref}: name the release in a trailing comment (# vX.Y.Z)"
        assert action in PINNED, f"{action}: add its release commits to PINNED"
        assert PINNED[action].get(sha) == version[1], (
            f"{action}@{sha} is not the commit of {version[1]}: "
            f"known {PINNED[action]} (`git ls-remote --tags https://github.com/{action}`)"
        )


def test_github_permissions_are_per_job_and_apply_is_serialized() -> None:
    wf = workflow()
    assert wf["permissions"] == {}
    jobs = wf["jobs"]
    granted = {name: job["permissions"] for name, job in jobs.items()}
    assert granted == {
        "check": {"contents": "read"},
        "apply": {"contents": "write"},
        "tag": {},
        "deploy": {"contents": "read"},
        "site": {"contents": "read", "pages": "write", "id-token": "write"},
    }
    assert jobs["apply"]["concurrency"]["cancel-in-progress"] is False
    assert "group" in jobs["apply"]["concurrency"]
    # Deploy follows apply in the same run, so nothing waits for a tag event from apply's push.
    assert jobs["deploy"]["needs"] == ["apply", "tag"]
    assert "needs.apply.outputs.pairs" in jobs["deploy"]["strategy"]["matrix"]["include"]
    # The site is opt-in, and publishes only after apply.
    assert jobs["site"]["if"] == "vars.MODELREG_PUBLISH_SITE == 'true'"
    assert jobs["site"]["needs"] == "apply"
    assert "modelreg site -o public" in step_script("site", "Build the registry site")


def test_github_site_step_redacts_emails_when_the_variable_says_so(
    registry: Registry, repo: Path
) -> None:
    """The step as the runner runs it, with the variable's value in REDACT_EMAILS."""
    steps = workflow()["jobs"]["site"]["steps"]
    build = next(s for s in steps if s.get("name") == "Build the registry site")
    assert build["env"] == {"REDACT_EMAILS": "${{ vars.MODELREG_SITE_REDACT_EMAILS }}"}
    upload = next(s for s in steps if "upload-pages-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == "public"
    write_model(repo, "v1 bytes")
    registry.register("churn", "models/churn.pkl")
    for value, addresses in (("true", False), ("", True), ("false", True)):
        shutil.rmtree(repo / "public", ignore_errors=True)
        proc = run_step("site", "Build the registry site", repo, {"REDACT_EMAILS": value})
        assert proc.returncode == 0, proc.stderr
        page = (repo / "public" / "models" / "churn" / "index.html").read_text()
        assert ("ada@example.com" in page) == addresses, value


def github_filter_matches(patterns: list[str], ref: str) -> bool:
    """GitHub's branch/tag filter: ``**`` matches anything, ``*`` anything but '/', a leading
    ``!`` excludes what earlier patterns matched, and the last matching pattern wins.  (Only
    the syntax the template uses: anything else fails here rather than being guessed.)"""
    result = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern[1:] if negate else pattern
        assert not set(body) & set("?+[]\\"), f"{pattern}: teach this model that syntax"
        regex = "".join(
            ".*" if part == "**" else "[^/]*" if part == "*" else re.escape(part)
            for part in re.split(r"(\*\*|\*)", body)
        )
        if re.fullmatch(regex, ref):
            result = not negate
    return result


@pytest.mark.parametrize(
    ("tag", "deploys"),
    [
        ("churn#production#3", True),
        ("team/churn#prod#3", True),
        ("team/churn#eu/prod#12", True),
        ("dir/sub=churn#prod#3", True),
        ("dir/sub.v2=team/churn#eu/prod#4", True),
        ("dir/sub=churn#prod!#5", False),
        ("churn#production!#8", False),
        ("team/churn#prod!#4", False),
        ("churn@v1.0.0", False),
        ("churn@v1.0.0!", False),
        ("churn@deprecated", False),
    ],
)
def test_github_tag_trigger_and_parser(tmp_path: Path, tag: str, deploys: bool) -> None:
    patterns = workflow()[True]["push"]["tags"]  # YAML 1.1 reads the key `on` as True
    assert github_filter_matches(patterns, tag) == deploys
    # The tag job turns the tag into the deploy job's matrix, unassignments into nothing.
    output = tmp_path / "output"
    proc = run_step(
        "tag", "Parse NAME#STAGE#N", tmp_path, {"TAG": tag, "GITHUB_OUTPUT": str(output)}
    )
    assert proc.returncode == 0, proc.stderr
    pairs = json.loads(output.read_text().removeprefix("pairs="))
    if deploys:
        model, rest = tag.split("#", 1)
        model = model.replace("=", ":")  # a monorepo model's user form
        assert pairs == [{"model": model, "stage": rest.rsplit("#", 1)[0]}]
    else:
        assert pairs == []


def set_desired_stages(repo: Path, stages: str) -> None:
    """Edit the one model's desired stages in registry.yaml and commit, as a merged PR does."""
    index = repo / "registry.yaml"
    text, count = re.subn(
        r"^    stages: .*$", f"    stages: {stages}", index.read_text(), flags=re.M
    )
    assert count == 1, text
    index.write_text(text)
    git(repo, "commit", "-qm", "Change the desired stages", "--", "registry.yaml")


@pytest.mark.slow
def test_github_deploy_ships_every_pair_apply_changed(tmp_path: Path) -> None:
    """apply's job output lists every (model, stage) pair it changed, unassignments too; deploy
    ships what holds each stage now, says so when nothing does, and fails on a real error."""
    origin = tmp_path / "origin.git"
    url = f"file://{origin}"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    ds = tmp_path / "ds"
    git(tmp_path, "clone", "-q", url, str(ds))
    git(ds, "commit", "-q", "--allow-empty", "-m", "Start")
    reg = Registry(ds)
    reg.init(dvc_remote=str(tmp_path / "store"), push="origin")
    rel = "models/team/churn.pkl"
    write_model(ds, "v1 bytes", rel)
    reg.register("team/churn", rel, push="origin")
    write_model(ds, "v2 bytes", rel)
    reg.register("team/churn", rel, push="origin")
    reg.promote("team/churn", "v1.0.0", "staging", push="origin")
    reg.promote("team/churn", "v1.1.0", "staging", push="origin")
    reg.promote("team/churn", "v1.1.0", "dev", push="origin")
    # The merged pull request: dev emptied, staging back to v1.0.0, v1.1.0 to production.
    set_desired_stages(ds, "{staging: v1.0.0, production: v1.1.0}")
    git(ds, "push", "-q", "origin", "main")

    ci = tmp_path / "ci"
    git(tmp_path, "clone", "-q", url, str(ci))
    output = tmp_path / "output"
    applied = run_step("apply", "Apply desired stages", ci, {"GITHUB_OUTPUT": str(output)})
    assert applied.returncode == 0, applied.stdout + applied.stderr
    printed = re.search(r"^\[$.*^\]$", applied.stdout, flags=re.M | re.S)
    assert printed, applied.stdout
    actions = {(c["stage"], c["action"]) for c in json.loads(printed[0])}
    assert ("dev", "unassign") in actions and ("production", "assign") in actions
    pairs = json.loads(output.read_text().removeprefix("pairs="))
    assert pairs == [
        {"model": "team/churn", "stage": stage} for stage in ("dev", "production", "staging")
    ]

    def deploy(stage: str, repo_url: str = url) -> subprocess.CompletedProcess[str]:
        where = tmp_path / f"deploy-{stage}"
        where.mkdir()
        env = {"MODEL": "team/churn", "STAGE": stage, "REGISTRY_URL": repo_url}
        return run_step("deploy", "Resolve and fetch the version to deploy", where, env)

    shipped = deploy("production")
    assert shipped.returncode == 0, shipped.stdout + shipped.stderr
    assert "deploying team/churn v1.1.0 to production" in shipped.stdout
    assert (tmp_path / "deploy-production" / "model.bin").read_text() == "v2 bytes"
    handed_back = deploy("staging")
    assert "deploying team/churn v1.0.0 to staging" in handed_back.stdout, handed_back.stderr
    assert (tmp_path / "deploy-staging" / "model.bin").read_text() == "v1 bytes"
    emptied = deploy("dev")
    assert emptied.returncode == 0, emptied.stdout + emptied.stderr
    assert "nothing holds team/churn dev now: nothing to deploy" in emptied.stdout
    assert not (tmp_path / "deploy-dev" / "model.bin").exists()
    # Any other failure of `which` fails the job rather than passing for "nothing holds".
    broken = deploy("canary", f"file://{tmp_path / 'missing.git'}")
    assert broken.returncode == 1 and "nothing to deploy" not in broken.stdout


# -- GitLab CI ---------------------------------------------------------------------------


def test_gitlab_template_passes_its_schema() -> None:
    proc = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(GITLAB)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_gitlab_template_installs_modelreg_from_git() -> None:
    template = yaml.safe_load(GITLAB.read_text())
    assert template["variables"]["MODELREG_INSTALL"].startswith('pip install "modelreg[s3] @ git+')
    for job in ("check", "apply", "deploy", "pages"):
        assert template[job]["before_script"] == ['eval "$MODELREG_INSTALL"'], job
    assert template["apply"]["resource_group"]


def gitlab_ci_local() -> str:
    for name in ("node", "rsync", "git"):
        tool(name)
    if not GITLAB_CI_LOCAL.exists():
        pytest.skip("gitlab-ci-local is not installed: run `make ci-tools`")
    return str(GITLAB_CI_LOCAL)


def jobs_run(proc: subprocess.CompletedProcess[str]) -> list[str]:
    """The jobs gitlab-ci-local started (it prints `JOB  starting shell (STAGE)` for each)."""
    return re.findall(r"^(\S+)\s+starting shell\b", proc.stdout, flags=re.M)


@pytest.mark.parametrize(
    ("variables", "runs"),
    [
        ([], False),
        (["MODELREG_PUBLISH_SITE=true"], True),
        (["MODELREG_PUBLISH_SITE=yes"], False),
        (["MODELREG_PUBLISH_SITE=true", "CI_COMMIT_BRANCH=feature"], False),
    ],
)
def test_gitlab_pages_job_is_opt_in(tmp_path: Path, variables: list[str], runs: bool) -> None:
    """gitlab-ci-local evaluates the template's rules as GitLab does: `pages` joins the
    default branch's pipeline only when MODELREG_PUBLISH_SITE is "true"."""
    gcl = gitlab_ci_local()
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / ".gitlab-ci.yml").write_text(GITLAB.read_text())
    git(tmp_path, "add", ".gitlab-ci.yml")
    git(tmp_path, "commit", "-qm", "CI")
    options = [arg for v in variables for arg in ("--variable", v)]
    proc = subprocess.run(
        [gcl, "--list-json", *options], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    listed = json.loads(proc.stdout[proc.stdout.index("[") :])
    when = {job["name"]: job["when"] for job in listed}
    assert (when["pages"] != "never") == runs, when
    template = yaml.safe_load(GITLAB.read_text())
    assert template["pages"]["needs"] == ["apply"]
    assert template["pages"]["artifacts"] == {"paths": ["public"]}


@pytest.mark.slow
def test_gitlab_check_job_rejects_a_broken_registry_yaml(tmp_path: Path) -> None:
    """The template's `check` job, run by gitlab-ci-local in a merge request's pipeline: it
    passes a consistent registry.yaml and fails one whose desired stage names no version."""
    gcl = gitlab_ci_local()
    origin, ds = bare_remote_and_clone(tmp_path)
    reg = Registry(ds)
    reg.init(dvc_remote=str(tmp_path / "dvc-store"), push="origin")
    template = GITLAB.read_text()
    (ds / ".gitlab-ci.yml").write_text(template.replace("\nimage: python:3.11\n", "\n"))
    git(ds, "add", ".gitlab-ci.yml")
    git(ds, "commit", "-qm", "CI")
    write_model(ds, "v1 bytes")
    reg.register("churn", "models/churn.pkl", push="origin")
    reg.propose("churn", "v1.0.0", "staging", branch="good")
    git(ds, "checkout", "-q", "-b", "broken", "good")
    index = ds / "registry.yaml"
    index.write_text(index.read_text().replace("staging: v1.0.0", "staging: v9.9.9"))
    git(ds, "commit", "-qam", "Desire a version that does not exist")
    git(ds, "push", "-q", "origin", "good", "broken")

    def merge_request(branch: str) -> subprocess.CompletedProcess[str]:
        ci = tmp_path / f"ci-{branch}"
        git(tmp_path, "clone", "-q", "-b", branch, str(origin), str(ci))
        return subprocess.run(
            [gcl, "--shell-executor-no-image", "--shell-isolation"]
            + ["--variable", "MODELREG_INSTALL=command -v modelreg"]
            + ["--variable", "CI_PIPELINE_SOURCE=merge_request_event"]
            + ["--unset-variable", "CI_COMMIT_BRANCH"],
            cwd=ci,
            capture_output=True,
            text=True,
            timeout=600,
        )

    passed = merge_request("good")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert re.search(r"PASS\s+check", passed.stdout), passed.stdout
    assert jobs_run(passed) == ["check"]
    failed = merge_request("broken")
    assert failed.returncode != 0, failed.stdout
    assert re.search(r"FAIL\s+check", failed.stdout), failed.stdout
    assert "'staging' names version 'v9.9.9', which does not exist" in failed.stdout


@pytest.mark.long
def test_gitlab_template_runs_under_gitlab_ci_local(tmp_path: Path) -> None:
    gcl = gitlab_ci_local()
    origin = tmp_path / "origin.git"
    url = f"file://{origin}"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    ds = tmp_path / "data-scientist"
    git(tmp_path, "clone", "-q", url, str(ds))
    git(ds, "commit", "-q", "--allow-empty", "-m", "Start")
    reg = Registry(ds)
    reg.init(dvc_remote=str(tmp_path / "dvc-store"), push="origin")
    index = ds / "registry.yaml"
    index.write_text(
        index.read_text().replace(
            "models:", "policy:\n  production:\n    requires: staging\nmodels:", 1
        )
    )
    # The template as a project uses it, but without its container image: gitlab-ci-local runs
    # a job with an image in Docker, and one without on this machine (--shell-executor-no-image).
    template = GITLAB.read_text()
    assert template.count("\nimage: python:3.11\n") == 1
    (ds / ".gitlab-ci.yml").write_text(template.replace("\nimage: python:3.11\n", "\n"))
    git(ds, "add", "registry.yaml", ".gitlab-ci.yml")
    git(ds, "commit", "-qm", "Stage policy and CI")
    git(ds, "push", "-q", "origin", "main")
    rel = "models/team/churn.pkl"
    write_model(ds, "v1 bytes", rel)
    reg.register("team/churn", rel, push="origin")
    write_model(ds, "v2 bytes", rel)
    reg.register("team/churn", rel, push="origin")
    reg.promote("team/churn", "v1.0.0", "staging", push="origin")
    reg.propose("team/churn", "v1.1.0", "production", branch="skip-staging", force=True)
    reg.propose("team/churn", "v1.0.0", "production", branch="via-staging")
    git(ds, "push", "-q", "origin", "skip-staging", "via-staging")

    ci = tmp_path / "ci"
    git(tmp_path, "clone", "-q", url, str(ci))

    def pipeline(ref: str, *options: str) -> subprocess.CompletedProcess[str]:
        """Run the pipeline of ``ref`` (a branch or tag of the remote) in the CI clone."""
        git(ci, "fetch", "-q", "--tags", "origin")
        git(ci, "checkout", "-q", "--detach", f"origin/{ref}" if "#" not in ref else ref)
        if "#" not in ref:  # a branch pipeline runs on the branch, as GitLab's checkout does
            git(ci, "checkout", "-q", "-B", ref)
        proc = subprocess.run(
            [gcl, "--shell-executor-no-image", "--shell-isolation"]
            + ["--variable", "MODELREG_INSTALL=command -v modelreg", *options],
            cwd=ci,
            capture_output=True,
            text=True,
            timeout=600,
        )
        return proc

    merge_request = ["--variable", "CI_PIPELINE_SOURCE=merge_request_event"]
    merge_request += ["--unset-variable", "CI_COMMIT_BRANCH"]
    failed = pipeline("skip-staging", *merge_request)
    assert failed.returncode != 0, failed.stdout
    assert "policy.requires: v1.1.0 must hold 'staging' before 'production'" in failed.stdout
    assert re.search(r"FAIL\s+check", failed.stdout), failed.stdout
    assert jobs_run(failed) == ["check"]
    passed = pipeline("via-staging", *merge_request)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert re.search(r"PASS\s+check", passed.stdout)
    assert jobs_run(passed) == ["check"]

    # The reviewer merges; the main pipeline applies the desired stages as tags on the remote.
    git(ds, "fetch", "-q", "origin")
    git(ds, "merge", "-q", "--ff-only", "origin/via-staging")
    git(ds, "push", "-q", "origin", "main")
    push_url = ["--variable", f"REGISTRY_PUSH_URL={origin}"]
    applied = pipeline("main", *push_url)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert (
        "created team/churn#production#2: assign team/churn v1.0.0 (production)" in applied.stdout
    )
    assert re.search(r"PASS\s+apply", applied.stdout)
    assert jobs_run(applied) == ["apply"]
    assert "team/churn#production#2" in git(origin, "tag")
    again = pipeline("main", *push_url)
    assert "Nothing to apply: the tags match registry.yaml" in again.stdout, again.stdout

    # Opted in, the main pipeline also builds the site, after apply, without addresses.
    published = pipeline(
        "main",
        *push_url,
        "--variable",
        "MODELREG_PUBLISH_SITE=true",
        "--variable",
        "MODELREG_SITE_REDACT_EMAILS=true",
    )
    assert published.returncode == 0, published.stdout + published.stderr
    assert jobs_run(published) == ["apply", "pages"]
    site = ci / ".gitlab-ci-local" / "artifacts" / "pages" / "public"
    board = (site / "index.html").read_text()
    assert 'data-stage="production" data-version="v1.0.0"' in board
    assert not [p for p in site.rglob("*.html") if "@example.com" in p.read_text()]

    # The tag's pipeline deploys: it resolves the stage with `which` over the job's URL.
    def tag_pipeline(tag: str) -> subprocess.CompletedProcess[str]:
        return pipeline(
            tag,
            "--variable",
            f"CI_COMMIT_TAG={tag}",
            "--variable",
            f"CI_REPOSITORY_URL={url}",
            "--unset-variable",
            "CI_COMMIT_BRANCH",
        )

    deployed = tag_pipeline("team/churn#production#2")
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert "deploying team/churn v1.0.0 to production" in deployed.stdout
    assert re.search(r"PASS\s+deploy", deployed.stdout)
    assert jobs_run(deployed) == ["deploy"]
    shipped = ci / ".gitlab-ci-local" / "builds" / "deploy" / "model.bin"
    assert shipped.read_text() == "v1 bytes"

    # An unassignment tag starts no deploy; a stage tag whose stage is empty by the time its
    # pipeline runs deploys nothing, and says so.
    git(ds, "pull", "-q", "--ff-only", "origin", "main")
    reg.demote("team/churn", "staging", push="origin")
    assert "team/churn#staging!#3" in git(origin, "tag")
    unassigned = tag_pipeline("team/churn#staging!#3")
    assert unassigned.returncode == 0, unassigned.stdout + unassigned.stderr
    assert jobs_run(unassigned) == []
    stale = tag_pipeline("team/churn#staging#1")
    assert stale.returncode == 0, stale.stdout + stale.stderr
    assert "nothing holds team/churn staging now: nothing to deploy" in stale.stdout


# -- pre-commit --------------------------------------------------------------------------


# The pre-commit snippet's `rev:`, in the README and in .pre-commit-hooks.yaml's comment.
README_REV = re.compile(r"repo: https://github\.com/acme/modelreg\s*\n[#\s]*rev: ([0-9a-f]{40})\b")


def test_readme_pre_commit_rev_is_a_commit_with_the_hook() -> None:
    found = README_REV.findall((ROOT / "README.md").read_text())
    assert len(found) == 1, "the README shows one pre-commit snippet with a full commit SHA"
    rev = found[0]
    assert README_REV.findall(HOOKS.read_text()) == [rev], ".pre-commit-hooks.yaml names it too"
    proc = subprocess.run(
        ["git", "merge-base", "--is-ancestor", rev, "HEAD"], cwd=ROOT, capture_output=True
    )
    assert proc.returncode == 0, f"{rev} is not a commit of this branch's history"
    hooks = yaml.safe_load(git(ROOT, "show", f"{rev}:.pre-commit-hooks.yaml"))
    assert [h["id"] for h in hooks] == ["modelreg-check"]


def test_pre_commit_hook_rejects_a_commit_of_a_broken_registry_yaml(
    registry: Registry, repo: Path
) -> None:
    """The hook as .pre-commit-hooks.yaml declares it, installed with `pre-commit install` and
    run by `git commit`: a broken registry.yaml is not committed, a consistent one is, and a
    commit that leaves registry.yaml alone does not run check.  Only its language differs:
    `python` would build an environment from this checkout (pip, minutes: the long test below
    does), `system` runs the venv's modelreg, first on PATH."""
    pre_commit = tool("pre-commit")
    [hook] = yaml.safe_load(HOOKS.read_text())
    local = {**hook, "language": "system"}  # "unsupported" from pre-commit 4.4 on
    config = {"repos": [{"repo": "local", "hooks": [local]}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    git(repo, "add", ".pre-commit-config.yaml")
    git(repo, "commit", "-qm", "pre-commit")
    installed = subprocess.run([pre_commit, "install"], cwd=repo, capture_output=True, text=True)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    write_model(repo, "v1 bytes")
    registry.register("churn", "models/churn.pkl")
    index = repo / "registry.yaml"
    good = index.read_text().replace("stages: {}", "stages: {staging: v1.0.0}")
    assert good != index.read_text()

    def commit(message: str, *paths: str) -> tuple[int, str]:
        """git commit's exit code and what the hook printed (git sends it to stderr)."""
        git(repo, "add", *paths)
        proc = subprocess.run(
            ["git", "commit", "-m", message], cwd=repo, capture_output=True, text=True
        )
        return proc.returncode, proc.stdout + proc.stderr

    head = git(repo, "rev-parse", "HEAD")
    index.write_text(good.replace("staging: v1.0.0", "staging: v9.9.9"))
    code, rejected = commit("Desire a version that does not exist", "registry.yaml")
    assert code == 1, rejected
    assert re.search(r"^modelreg check\.+Failed$", rejected, flags=re.M), rejected
    assert "'staging' names version 'v9.9.9', which does not exist" in rejected
    assert git(repo, "rev-parse", "HEAD") == head

    index.write_text(good)
    code, accepted = commit("Desire v1.0.0 in staging", "registry.yaml")
    assert code == 0, accepted
    assert re.search(r"^modelreg check\.+Passed$", accepted, flags=re.M), accepted
    assert git(repo, "show", "HEAD:registry.yaml") == good

    (repo / "notes.txt").write_text("unrelated")
    code, skipped = commit("Notes", "notes.txt")
    assert code == 0, skipped
    assert re.search(r"^modelreg check\.+\(no files to check\)Skipped$", skipped, re.M), skipped


@pytest.mark.long
def test_pre_commit_hook_runs_check_under_pre_commit(tmp_path: Path) -> None:
    pre_commit = tool("pre-commit")
    repo = tmp_path / "registry"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "commit", "-q", "--allow-empty", "-m", "Start")
    reg = Registry(repo)
    reg.init()
    write_model(repo, "v1 bytes")
    reg.register("churn", "models/churn.pkl")
    index = repo / "registry.yaml"

    def try_repo() -> tuple[subprocess.CompletedProcess[str], float]:
        # As a commit would run it: on the staged registry.yaml.  pre-commit builds the hook's
        # Python environment from the checkout (pip install of modelreg and its dependencies).
        git(repo, "add", "registry.yaml")
        start = time.monotonic()
        proc = subprocess.run(
            [pre_commit, "try-repo", str(ROOT), "modelreg-check"],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=900,
        )
        return proc, time.monotonic() - start

    reg.propose("churn", "v1.0.0", "staging")  # a consistent edit: desired staging
    passed, took = try_repo()
    print(f"pre-commit try-repo (consistent): {took:.1f} s")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert re.search(r"modelreg check\.+Passed", passed.stdout), passed.stdout

    index.write_text(index.read_text().replace("staging: v1.0.0", "staging: v9.9.9"))
    failed, took = try_repo()
    print(f"pre-commit try-repo (broken): {took:.1f} s")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert re.search(r"modelreg check\.+Failed", failed.stdout), failed.stdout
    assert "v9.9.9" in failed.stdout
    assert modelreg(repo, "check").returncode == 1

"""A newcomer's first hour on the command line (issue 12): shell completion, the history
table, stage order, unambiguous remote flags, help text, JSON errors, the demo's commands."""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import subprocess
import warnings
from pathlib import Path

import pytest
from tests.helpers import (
    VENV_BIN,
    bare_remote_and_clone,
    git,
    imported_by,
    modelreg,
    run,
    write_model,
)
from typer.testing import CliRunner

from modelreg import Registry
from modelreg.cli.app import app, index_app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.fixture
def churn(registry: Registry, repo: Path) -> Path:
    """churn v1.0.0-v1.2.0 (v1.2.0 deregistered) and fraud v1.0.0; churn v1.0.0 holds dev,
    v1.1.0 staging and production."""
    for content in ("a", "b", "c"):
        write_model(repo, content)
        registry.register("churn", "models/churn.pkl")
    write_model(repo, "f", "models/fraud.pkl")
    registry.register("fraud", "models/fraud.pkl")
    registry.promote("churn", "v1.0.0", "dev")
    registry.promote("churn", "v1.1.0", "staging")
    registry.promote("churn", "v1.1.0", "production")
    registry.deprecate("churn", "v1.2.0")
    return repo


# -- shell completion ------------------------------------------------------------------------


def complete(cwd: Path, line: str) -> list[str]:
    """What bash would offer for the last word of ``line`` (empty after a trailing space),
    asked of the real console script with the variables Typer's bash script sets."""
    words = line.split(" ")
    proc = modelreg(
        cwd,
        env={
            "_MODELREG_COMPLETE": "complete_bash",
            "COMP_WORDS": line,
            "COMP_CWORD": str(len(words) - 1),
        },
    )
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr
    return [c for c in proc.stdout.splitlines() if c]


def test_completion_can_be_installed() -> None:
    result = runner.invoke(app, ["--help"])
    assert "--install-completion" in result.output and "--show-completion" in result.output
    script = modelreg(ROOT, env={"_MODELREG_COMPLETE": "source_bash"})
    assert script.returncode == 0
    assert "_MODELREG_COMPLETE=complete_bash" in script.stdout
    assert "complete -o default -F _modelreg_completion modelreg" in script.stdout


def test_completes_model_names(churn: Path) -> None:
    assert complete(churn, "modelreg which ") == ["churn", "fraud"]
    assert complete(churn, "modelreg which fr") == ["fraud"]
    assert complete(churn, "modelreg history ") == ["churn", "fraud"]
    assert complete(churn, "modelreg promote c") == ["churn"]


def test_completes_stages_in_promotion_order(churn: Path) -> None:
    assert complete(churn, "modelreg which churn ") == ["dev", "staging", "production"]
    assert complete(churn, "modelreg which churn st") == ["staging"]
    assert complete(churn, "modelreg promote churn v1.0.0 ") == ["dev", "staging", "production"]
    # demote and rollback: only the stages the model holds now
    assert complete(churn, "modelreg demote churn ") == ["dev", "staging", "production"]
    assert complete(churn, "modelreg demote fraud ") == []


def test_completes_versions(churn: Path) -> None:
    # promote: active versions (v1.2.0 is deregistered) and `latest`
    assert complete(churn, "modelreg promote churn ") == ["v1.0.0", "v1.1.0", "latest"]
    assert complete(churn, "modelreg compare churn v1.0.0 ") == ["v1.0.0", "v1.1.0", "v1.2.0"]
    assert complete(churn, "modelreg deprecate churn v1.1") == ["v1.1.0"]
    # an option's value, the model given before it
    assert complete(churn, "modelreg rollback churn production --to ") == ["v1.0.0", "v1.1.0"]
    assert complete(churn, "modelreg rollback --repo . churn production --to v1.0") == ["v1.0.0"]


def test_completes_references(churn: Path) -> None:
    assert complete(churn, "modelreg show churn@") == [
        "churn@v1.0.0",
        "churn@v1.1.0",
        "churn@v1.2.0",
        "churn@latest",
    ]
    assert complete(churn, "modelreg get churn#") == [
        "churn#dev",
        "churn#staging",
        "churn#production",
    ]
    assert complete(churn, "modelreg get churn#p") == ["churn#production"]
    # one model left: its reference forms, so the shell stops after the name
    assert complete(churn, "modelreg show ch") == ["churn", "churn@", "churn#"]
    assert complete(churn, "modelreg show ") == ["churn", "fraud"]


def test_completion_reads_the_repo_option(churn: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert complete(elsewhere, f"modelreg which --repo {churn} ") == ["churn", "fraud"]


def test_completion_fails_silently(tmp_path: Path) -> None:
    """No repository, a URL (never the network on a key press), an unknown model: no
    candidates, nothing on stderr (complete() asserts it), exit 0."""
    assert complete(tmp_path, "modelreg which ") == []
    assert complete(tmp_path, "modelreg which --repo https://example.invalid/r.git ") == []
    assert complete(tmp_path, "modelreg which nosuch ") == []


def test_read_queries_do_not_import_the_completion_code(churn: Path) -> None:
    imported = imported_by(churn, "which", "churn", "production")
    assert "modelreg.registry" in imported  # the probe sees our modules
    assert "modelreg.cli.complete" not in imported


# -- history, list and show: notes, UTC, promotion order ---------------------------------------


def test_history_shows_the_note_and_utc_times(registry: Registry, repo: Path) -> None:
    write_model(repo, "a")
    registry.register("churn", "models/churn.pkl", message="first cut")
    registry.promote("churn", "v1.0.0", "production", message="A/B test won\n\nby 3%")
    registry.promote("churn", "v1.0.0", "staging")
    # Far from UTC: the table must not show local time.
    proc = modelreg(repo, "history", "churn", env={"TZ": "Asia/Kathmandu"})
    lines = proc.stdout.splitlines()
    assert lines[0].split() == [
        "time",
        "model",
        "event",
        "version",
        "stage",
        "author",
        "message",
        "note",
    ]
    events = json.loads(modelreg(repo, "history", "churn", "--json").stdout)
    for line, event in zip(lines[1:], events, strict=True):
        assert line.startswith(event["timestamp"].replace("T", " ") + "  ")  # ...:SSZ
        assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ  ", line)
    assert lines[1].rstrip().endswith("Promote churn v1.0.0 to staging")  # no note
    assert lines[2].endswith("Promote churn v1.0.0 to production  A/B test won / by 3%")
    assert re.search(r"  Register churn v1\.0\.0 +first cut$", lines[3]), lines[3]


def test_show_marks_times_as_utc(registry: Registry, repo: Path) -> None:
    write_model(repo, "a")
    mv = registry.register("churn", "models/churn.pkl")
    when = mv.registered_at.strftime("%Y-%m-%d %H:%M")
    shown = modelreg(repo, "show", "churn", env={"TZ": "America/St_Johns"}).stdout
    assert re.search(rf"  {when}Z\b", shown), shown
    one = modelreg(repo, "show", "churn@v1.0.0", env={"TZ": "America/St_Johns"}).stdout
    assert f"registered: {mv.registered_at.strftime('%Y-%m-%d %H:%M:%S')}Z by " in one


@pytest.fixture
def many_stages(repo: Path) -> Registry:
    """churn v1.0.0 holds staging, production and two stages registry.yaml no longer
    lists (zeta, alpha): alphabetical order would be alpha, production, staging, zeta."""
    reg = Registry(repo)
    reg.init(stages=["dev", "staging", "production", "zeta", "alpha"])
    write_model(repo, "a")
    reg.register("churn", "models/churn.pkl")
    for stage in ("zeta", "production", "alpha", "staging"):
        reg.promote("churn", "v1.0.0", stage)
    index = repo / "registry.yaml"
    index.write_text(
        index.read_text().replace(
            "[dev, staging, production, zeta, alpha]", "[dev, staging, production]"
        )
    )
    assert reg.stage_order() == ["dev", "staging", "production"]
    return reg


ORDER = ["staging", "production", "alpha", "zeta"]


def test_stages_are_listed_in_promotion_order(many_stages: Registry, repo: Path) -> None:
    shown = modelreg(repo, "show", "churn").stdout
    assert "stages: staging=v1.0.0, production=v1.0.0, alpha=v1.0.0, zeta=v1.0.0" in shown
    assert " staging,production,alpha,zeta " in shown
    one = modelreg(repo, "show", "churn@v1.0.0").stdout
    assert "  stages:     staging, production, alpha, zeta\n" in one
    header = modelreg(repo, "list").stdout.splitlines()[0].split()
    assert header == ["model", "latest", "dev", "staging", "production", "alpha", "zeta", "metrics"]
    # --json and the API: the same order
    assert list(json.loads(modelreg(repo, "show", "churn", "--json").stdout)["stages"]) == ORDER
    assert json.loads(modelreg(repo, "which", "churn", "staging", "--json").stdout)["stages"] == (
        ORDER
    )
    assert many_stages.resolve("churn@v1.0.0").stages == ORDER
    assert list(many_stages.list_models()[0].stages) == ORDER


# -- remote flags: --dvc-remote, --verify-remote, --git-remote -----------------------------------


def note_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith("modelreg: note:")]


def dvc_url(repo: Path) -> str:
    config = (repo / ".dvc" / "config").read_text()
    found = re.search(r"url = (\S+)", config)
    assert found, config
    return found.group(1)


def test_init_dvc_remote(repo: Path, tmp_path: Path) -> None:
    proc = modelreg(repo, "init", "--dvc-remote", str(tmp_path / "store"))
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert dvc_url(repo) == str(tmp_path / "store")


def test_init_old_remote_spelling_still_works_with_a_note(repo: Path, tmp_path: Path) -> None:
    proc = modelreg(repo, "init", "--remote", str(tmp_path / "store"))
    assert proc.returncode == 0, proc.stderr
    assert note_lines(proc.stderr) == [
        "modelreg: note: `init --remote` is deprecated: use `--dvc-remote`"
    ]
    assert proc.stderr.count("\n") == 1
    assert dvc_url(repo) == str(tmp_path / "store")


@pytest.fixture
def missing_bytes(repo: Path, tmp_path: Path) -> Path:
    """A registry whose DVC remote lacks the one version's bytes."""
    Registry(repo).init(dvc_remote=str(tmp_path / "store"))
    write_model(repo, "never pushed")
    Registry(repo).register("churn", "models/churn.pkl")
    return repo


def test_check_verify_remote(missing_bytes: Path) -> None:
    assert modelreg(missing_bytes, "check").returncode == 0
    proc = modelreg(missing_bytes, "check", "--verify-remote")
    assert proc.returncode == 1 and "is missing from the DVC remote" in proc.stdout
    assert proc.stderr == ""


def test_check_old_remote_spelling_still_works_with_a_note(missing_bytes: Path) -> None:
    proc = modelreg(missing_bytes, "check", "--remote", "--json")
    assert proc.returncode == 1 and json.loads(proc.stdout)["ok"] is False
    assert proc.stderr == "modelreg: note: `check --remote` is deprecated: use `--verify-remote`\n"


@pytest.fixture
def upstream(tmp_path: Path) -> tuple[Path, Path]:
    """A clone whose only Git remote is named ``upstream``, and that remote's folder."""
    origin, work = bare_remote_and_clone(tmp_path)
    git(work, "remote", "rename", "origin", "upstream")
    Registry(work).init(dvc_remote=str(tmp_path / "store"))
    git(work, "push", "-q", "upstream", "main")
    return work, origin


def remote_tags(origin: Path) -> list[str]:
    return git(origin, "tag", "--list").split()


@pytest.mark.slow
def test_writes_push_to_the_git_remote(upstream: tuple[Path, Path]) -> None:
    work, origin = upstream
    write_model(work, "a")
    proc = modelreg(
        work, "register", "churn", "models/churn.pkl", "--push", "--git-remote", "upstream"
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    proc = modelreg(work, "promote", "churn", "v1.0.0", "dev", "--push", "--git-remote=upstream")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert remote_tags(origin) == ["churn#dev#1", "churn@v1.0.0"]
    Registry(work).promote("churn", "v1.0.0", "staging")
    proc = modelreg(work, "push", "--git-remote", "upstream")
    assert proc.stdout == "Pushed 1 tag(s) to upstream: churn#staging#2\n", proc.stderr
    assert proc.stderr == ""


@pytest.mark.slow
def test_writes_old_remote_spelling_still_works_with_a_note(upstream: tuple[Path, Path]) -> None:
    work, origin = upstream
    write_model(work, "a")
    proc = modelreg(work, "register", "churn", "models/churn.pkl", "--push", "--remote", "upstream")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "modelreg: note: `register --remote` is deprecated: use `--git-remote`\n"
    assert remote_tags(origin) == ["churn@v1.0.0"]
    Registry(work).promote("churn", "v1.0.0", "staging")
    proc = modelreg(work, "push", "--remote=upstream")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "modelreg: note: `push --remote` is deprecated: use `--git-remote`\n"
    assert remote_tags(origin) == ["churn#staging#1", "churn@v1.0.0"]


def test_old_spellings_are_left_out_of_help() -> None:
    for args in (["init"], ["check"], ["push"], ["promote"], ["index", "rebuild"]):
        out = runner.invoke(app, [*args, "--help"]).output
        assert not re.search(r"--remote\b(?!-)", out), (args, out)
    assert "--dvc-remote URL" in runner.invoke(app, ["init", "--help"]).output
    assert "--verify-remote" in runner.invoke(app, ["check", "--help"]).output
    assert "--git-remote NAME" in runner.invoke(app, ["push", "--help"]).output


def test_api_new_spellings_warn_nothing(repo: Path, tmp_path: Path) -> None:
    reg = Registry(repo)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        reg.init(dvc_remote=str(tmp_path / "store"))
        assert reg.check(verify_remote=True).ok
    assert dvc_url(repo) == str(tmp_path / "store")


def test_api_init_remote_keyword_is_deprecated(repo: Path, tmp_path: Path) -> None:
    with pytest.warns(
        DeprecationWarning, match=r"init\(remote=...\) is deprecated: use dvc_remote"
    ):
        Registry(repo).init(remote=str(tmp_path / "store"))
    assert dvc_url(repo) == str(tmp_path / "store")


def test_api_check_remote_keyword_is_deprecated(missing_bytes: Path) -> None:
    with pytest.warns(DeprecationWarning, match="use verify_remote"):
        report = Registry(missing_bytes).check(remote=True)
    assert not report.ok


@pytest.mark.slow
def test_api_push_remote_keyword_is_deprecated(upstream: tuple[Path, Path]) -> None:
    work, origin = upstream
    reg = Registry(work)
    write_model(work, "a")
    reg.register("churn", "models/churn.pkl")
    with pytest.warns(DeprecationWarning, match="use git_remote"):
        assert reg.push(remote="upstream") == ["churn@v1.0.0"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        assert reg.push("upstream") == []
        assert reg.push(git_remote="upstream") == []
    assert remote_tags(origin) == ["churn@v1.0.0"]


def test_api_both_spellings_must_agree(repo: Path, tmp_path: Path) -> None:
    from modelreg import InvalidInputError

    with pytest.warns(DeprecationWarning), pytest.raises(InvalidInputError, match="pass only"):
        Registry(repo).init(remote=str(tmp_path / "a"), dvc_remote=str(tmp_path / "b"))


# -- changing the DVC remote of an existing registry ------------------------------------------


def in_store(store: Path, content: str) -> bool:
    md5 = hashlib.md5(content.encode()).hexdigest()
    return (store / "files" / "md5" / md5[:2] / md5[2:]).is_file()


@pytest.mark.slow
def test_init_dvc_remote_changes_the_remote_of_a_registry(tmp_path: Path) -> None:
    origin, work = bare_remote_and_clone(tmp_path)
    old, new = tmp_path / "old-store", tmp_path / "new-store"
    assert modelreg(work, "init", "--dvc-remote", str(old), "--push").returncode == 0
    write_model(work, "first")
    assert modelreg(work, "register", "churn", "models/churn.pkl", "--push").returncode == 0
    assert in_store(old, "first")

    proc = modelreg(work, "init", "--dvc-remote", str(new), "-m", "bigger disk", "--push")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"Default DVC remote storage: {old} -> {new}; committed .dvc/")
    assert dvc_url(work) == str(new)
    assert git(work, "status", "--porcelain") == ""
    # one modelreg write: committed with the note, published
    message = git(origin, "log", "-1", "--format=%B", "main")
    assert message.startswith(f"Set the default DVC remote storage to {new}\n\nbigger disk\n")
    assert "Modelreg-Write: " in message
    assert git(origin, "show", "main:.dvc/config") == (work / ".dvc" / "config").read_text()

    write_model(work, "second")
    assert modelreg(work, "register", "churn", "models/churn.pkl").returncode == 0
    proc = modelreg(work, "push")
    assert proc.returncode == 0, proc.stderr
    assert in_store(new, "second") and not in_store(old, "second")
    assert Registry(work).check(verify_remote=True).problems[0].version == "v1.0.0"  # not moved

    again = modelreg(work, "init", "--dvc-remote", str(new))
    assert again.stdout == f"Default DVC remote storage stays {new}; nothing to commit\n"
    assert git(work, "rev-parse", "HEAD") == git(origin, "rev-parse", "main")


@pytest.mark.slow
def test_push_sends_older_registrations_to_the_clone_s_remote(tmp_path: Path) -> None:
    """Bytes registered before the DVC remote was set, or before it changed, go to the
    remote the clone has when it publishes, not to the one their commit's config named."""
    _, work = bare_remote_and_clone(tmp_path)
    old, new = tmp_path / "old-store", tmp_path / "new-store"
    write_model(work, "before any remote")
    assert modelreg(work, "register", "churn", "models/churn.pkl").returncode == 0
    assert modelreg(work, "init", "--dvc-remote", str(old)).returncode == 0
    write_model(work, "in the old remote's day")
    assert modelreg(work, "register", "churn", "models/churn.pkl").returncode == 0
    assert modelreg(work, "init", "--dvc-remote", str(new)).returncode == 0
    proc = modelreg(work, "push")
    assert proc.returncode == 0, proc.stderr
    assert in_store(new, "before any remote") and in_store(new, "in the old remote's day")
    assert not old.exists()
    assert Registry(work).check(verify_remote=True).ok


def test_init_dvc_remote_options_and_credentials(registry: Registry, repo: Path) -> None:
    proc = modelreg(
        repo,
        "init",
        "--dvc-remote",
        "s3://models/registry",
        "--remote-config",
        "endpointurl=http://127.0.0.1:9",
        "--remote-config",
        "access_key_id=AKIA-TEST",
    )
    assert proc.returncode == 0, proc.stderr
    assert "storage is now s3://models/registry" in proc.stdout
    assert "endpointurl: (unset) -> http://127.0.0.1:9" in proc.stdout
    assert "access_key_id set in .dvc/config.local (not committed)" in proc.stdout
    assert "AKIA-TEST" not in proc.stdout + git(repo, "show", "HEAD:.dvc/config")
    assert "AKIA-TEST" in (repo / ".dvc" / "config.local").read_text()
    # Back to a folder: the S3 options go with the old URL.
    proc = modelreg(repo, "init", "--dvc-remote", str(repo.parent / "store"))
    assert "endpointurl: http://127.0.0.1:9 -> (unset)" in proc.stdout, proc.stderr
    assert "access_key_id removed from .dvc/config.local (set for the old URL)" in proc.stdout
    assert "endpointurl" not in (repo / ".dvc" / "config").read_text()
    assert "AKIA-TEST" not in (repo / ".dvc" / "config.local").read_text()


def test_init_on_a_registry_refuses_what_it_cannot_change(registry: Registry, repo: Path) -> None:
    before = git(repo, "rev-parse", "HEAD")
    proc = modelreg(repo, "init")
    assert proc.returncode == 1
    assert "to change its DVC remote, run `modelreg init --dvc-remote URL`" in proc.stderr
    proc = modelreg(repo, "init", "--dvc-remote", "/x", "--stages", "a,b")
    assert proc.returncode == 1 and "edit `stages:` in registry.yaml" in proc.stderr
    assert git(repo, "rev-parse", "HEAD") == before


@pytest.mark.slow
def test_a_remote_change_overtaken_by_the_remote_is_redone_on_its_tip(tmp_path: Path) -> None:
    """The change is a modelreg write: when a colleague publishes first, the next push
    redoes it on the remote's tip instead of asking for a merge."""
    origin, alice = bare_remote_and_clone(tmp_path)
    Registry(alice).init(dvc_remote=str(tmp_path / "old"), push="origin")
    bob = tmp_path / "bob"
    git(tmp_path, "clone", "-q", str(origin), str(bob))
    write_model(bob, "bob's")
    Registry(bob).register("churn", "models/churn.pkl", push="origin")

    new = tmp_path / "new"
    Registry(alice).set_dvc_remote(str(new))
    assert Registry(alice).push() == []
    assert git(alice, "log", "-2", "--format=%s").splitlines() == [
        f"Set the default DVC remote storage to {new}",
        "Register churn v1.0.0",
    ]
    assert git(origin, "show", "main:.dvc/config") == (alice / ".dvc" / "config").read_text()
    assert dvc_url(alice) == str(new)


# -- help text -------------------------------------------------------------------------------


def every_help() -> list[tuple[str, ...]]:
    commands = [(c.name or c.callback.__name__,) for c in app.registered_commands]  # type: ignore[union-attr]
    nested = [("index", c.name or "") for c in index_app.registered_commands]
    return [(), ("index",), *commands, *nested]


@pytest.mark.parametrize("args", every_help(), ids=lambda a: " ".join(a) or "modelreg")
def test_help_has_no_placeholders(args: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*args, "--help"], terminal_width=200)
    assert result.exit_code == 0
    found = re.findall(r"\{[^}]*\}|<[^>]*>", result.output)
    assert found == [], result.output


def test_help_names_arguments_plainly() -> None:
    """cli/app.py's _Command unwraps Typer's ``{NAME}`` usage pieces and drops the ``<str>``
    it appends to arguments: this fails loudly the day Typer changes either shape."""
    out = runner.invoke(app, ["which", "--help"], terminal_width=200).output
    lines = [ln.rstrip() for ln in out.splitlines()]
    assert lines[0] == "Usage: modelreg which [OPTIONS] NAME STAGE"
    start = lines.index("Arguments:")
    assert lines[start + 1].split() == ["NAME", "Model", "name.", "[required]"]
    assert lines[start + 2].split()[:2] == ["STAGE", "Stage,"]
    out = runner.invoke(app, ["deprecate", "--help"], terminal_width=200).output
    assert out.splitlines()[0] == "Usage: modelreg deprecate [OPTIONS] NAME [VERSION]"


def test_message_help_says_what_it_records() -> None:
    for args in (["init"], ["index", "rebuild"]):
        out = runner.invoke(app, [*args, "--help"], terminal_width=200).output
        line = next(ln for ln in out.splitlines() if "--message" in ln)
        assert "commit message" in line and "tag" not in line.replace("(no tag)", ""), line
    out = runner.invoke(app, ["promote", "--help"], terminal_width=200).output
    assert "tag and commit messages" in out


def test_check_by_url_says_to_clone_to_check(tmp_path: Path) -> None:
    origin, _ = bare_remote_and_clone(tmp_path)
    proc = modelreg(tmp_path, "check", "--repo", origin.as_uri())
    assert proc.returncode == 1
    assert "run `modelreg check` there" in proc.stderr and "to write" not in proc.stderr


# -- errors under --json -----------------------------------------------------------------------


ERRORS = [
    (["which", "churn", "production"], "NotFoundError", "no model named 'churn'"),
    (["latest", "churn"], "NotFoundError", "no model named 'churn'"),
    (["show", "churn@v9"], "InvalidInputError", "v9"),
    (["history", "churn"], "NotFoundError", "no model named 'churn'"),
    (["compare", "churn", "v1.0.0", "v1.1.0"], "NotFoundError", "no model named 'churn'"),
    (["list", "--repo", "-x"], "InvalidInputError", "starts with '-'"),
]


@pytest.mark.parametrize("args,kind,words", ERRORS, ids=[" ".join(e[0]) for e in ERRORS])
def test_registry_errors_under_json_are_json(
    registry: Registry, repo: Path, args: list[str], kind: str, words: str
) -> None:
    proc = modelreg(repo, *args, "--json")
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr.count("\n") == 1
    error = json.loads(proc.stderr)["error"]
    assert set(error) == {"type", "message"}
    assert error["type"] == kind and words in error["message"], error
    # Without --json: the same message, as text.
    plain = modelreg(repo, *args)
    assert plain.returncode == 1 and plain.stderr == f"modelreg: error: {error['message']}\n"


def test_check_error_under_json(tmp_path: Path) -> None:
    proc = modelreg(tmp_path, "check", "--json")
    assert proc.returncode == 1
    assert json.loads(proc.stderr)["error"]["type"] == "NotARegistryError"


USAGE = [
    ["which", "churn", "--json"],
    ["show", "--json"],
    ["list", "--json", "--bogus"],
    ["history", "--json", "a", "b"],
    ["whcih", "churn", "production", "--json"],
]


@pytest.mark.parametrize("args", USAGE, ids=[" ".join(a) for a in USAGE])
def test_usage_errors_under_json_are_json(repo: Path, args: list[str]) -> None:
    proc = modelreg(repo, *args)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.count("\n") == 1, proc.stderr
    error = json.loads(proc.stderr)["error"]
    assert error["type"] == "usage" and error["message"], error
    plain = modelreg(repo, *[a for a in args if a != "--json"])
    assert plain.returncode == 2 and "Usage: modelreg" in plain.stderr
    assert error["message"] in plain.stderr


def test_json_after_double_dash_is_not_an_option(registry: Registry, repo: Path) -> None:
    proc = modelreg(repo, "which", "--", "--json", "production")
    assert proc.returncode == 1 and proc.stderr.startswith("modelreg: error: ")


# -- the demo ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_every_command_the_demo_prints_works_when_pasted(tmp_path: Path) -> None:
    scratch = tmp_path / "demo"
    proc = run(
        ROOT, str(VENV_BIN / "python"), str(ROOT / "demo" / "demo.py"), "--workdir", str(scratch)
    )
    assert proc.returncode == 0, proc.stderr
    where = re.search(r"commands below run in (\S+): cd there", proc.stdout)
    assert where, proc.stdout
    folder = Path(where.group(1))
    lines = proc.stdout.splitlines()
    commands = [(i, ln[2:]) for i, ln in enumerate(lines) if ln.startswith("$ ")]
    assert len(commands) >= 5
    assert any("--repo file:///" in cmd for _, cmd in commands)
    for i, cmd in commands:
        argv = shlex.split(cmd)
        assert argv[0] == "modelreg"  # the venv's, first on PATH here
        pasted = subprocess.run(cmd, shell=True, cwd=folder, capture_output=True, text=True)
        assert pasted.returncode == 0, (cmd, pasted.stderr)
        if argv[1] in ("which", "get"):
            assert pasted.stdout.strip() == lines[i + 1], cmd

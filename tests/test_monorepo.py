"""Monorepo names (issue 12): a model declared in ``dir/sub/dvc.yaml`` is ``dir/sub:name`` to
its users and ``dir/sub=name`` inside its tags, as GTO and DVC spell it.

The first half is modelreg alone (what it writes, what it refuses, how it selects one model's
tags, reads by URL, the index, ``get`` and ``load_model``); the second half (``slow``) is the
proof of compatibility with the real ``gto`` and ``dvc``: GTO reads what modelreg writes,
``dvc artifacts get`` fetches what modelreg registered, and modelreg reads what GTO wrote,
from the clone and by URL.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from tests.gto_tools import DVC, GtoClock, GtoSession, assert_same_history
from tests.helpers import (
    MODELREG,
    bare_remote_and_clone,
    git,
    modelreg,
    ok,
    run,
    run_parallel,
    snapshot,
    write_model,
)

import modelreg as api
from modelreg import InvalidInputError, Registry
from modelreg.gitrepo import GitRepo, ls_remote_tags
from modelreg.grammar import parse_tag, tag_patterns

NAME = "dir/sub:churn"
MODEL = "dir/sub/models/churn.pkl"


def one_line_error(proc: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def committed_files(repo: Path, rev: str = "HEAD") -> set[str]:
    out = git(repo, "show", "--name-only", "--format=", rev)
    return set(out.split())


# -- writing -------------------------------------------------------------------------------


@pytest.fixture
def folder_model(registry: Registry, repo: Path) -> Registry:
    """dir/sub:churn v1.0.0 registered from the repository's root."""
    write_model(repo, b"one", MODEL)
    mv = registry.register(NAME, MODEL, description="Churn, team A")
    assert (mv.name, mv.version, mv.tag, mv.path) == (NAME, "v1.0.0", "dir/sub=churn@v1.0.0", MODEL)
    return registry


def test_register_declares_the_model_in_its_folder(folder_model: Registry, repo: Path) -> None:
    assert git(repo, "tag", "--list").split() == ["dir/sub=churn@v1.0.0"]
    # dvc.yaml of the folder, the path relative to it (what DVC resolves); none at the root
    declared = yaml.safe_load((repo / "dir/sub/dvc.yaml").read_text())
    assert declared == {
        "artifacts": {
            "churn": {"path": "models/churn.pkl", "type": "model", "desc": "Churn, team A"}
        }
    }
    assert not (repo / "dvc.yaml").exists()
    assert (repo / "dir/sub/models/churn.pkl.dvc").is_file()
    # the index at the root, keyed by the user form, its path relative to the root
    index = yaml.safe_load((repo / "registry.yaml").read_text())
    entry = index["models"][NAME]
    assert entry["path"] == MODEL
    assert entry["versions"]["v1.0.0"]["tag"] == "dir/sub=churn@v1.0.0"
    assert committed_files(repo) == {
        "registry.yaml",
        "dir/sub/dvc.yaml",
        "dir/sub/models/churn.pkl.dvc",
        "dir/sub/models/.gitignore",
    }


def test_register_from_inside_the_folder_takes_path_relative_to_it(
    folder_model: Registry, repo: Path
) -> None:
    write_model(repo, b"two", MODEL)
    proc = modelreg(repo / "dir/sub", "register", NAME, "models/churn.pkl")
    assert (proc.returncode, proc.stdout) == (0, "v1.1.0\n"), proc.stderr
    declared = yaml.safe_load((repo / "dir/sub/dvc.yaml").read_text())
    assert declared["artifacts"]["churn"]["path"] == "models/churn.pkl"
    assert folder_model.latest(NAME).path == MODEL
    report = folder_model.check(strict=True)
    assert report.ok and report.versions == 2, [str(p) for p in report.problems]


def test_a_folder_model_promotes_and_checks_clean(folder_model: Registry, repo: Path) -> None:
    folder_model.promote(NAME, "v1.0.0", "production")
    assert git(repo, "tag", "--list", "dir/sub=churn#*").split() == ["dir/sub=churn#production#1"]
    report = folder_model.check(strict=True)
    assert report.ok, [str(p) for p in report.problems]
    assert (report.models, report.versions) == (1, 1)


def test_a_plain_model_and_folder_models_of_one_name_stay_apart(
    registry: Registry, repo: Path
) -> None:
    write_model(repo, b"root", "models/churn.pkl")
    write_model(repo, b"a", "a/models/churn.pkl")
    write_model(repo, b"b", MODEL)
    registry.register("churn", "models/churn.pkl", version="v3.0.0")
    registry.register("a:churn", "a/models/churn.pkl", version="v2.0.0")
    registry.register(NAME, MODEL)
    assert [(m.name, m.latest) for m in registry.list_models()] == [
        ("a:churn", "v2.0.0"),
        ("churn", "v3.0.0"),
        (NAME, "v1.0.0"),
    ]
    assert yaml.safe_load((repo / "dvc.yaml").read_text())["artifacts"] == {
        "churn": {"path": "models/churn.pkl", "type": "model"}
    }
    assert yaml.safe_load((repo / "a/dvc.yaml").read_text())["artifacts"] == {
        "churn": {"path": "models/churn.pkl", "type": "model"}
    }
    assert registry.check(strict=True).ok


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("../up:churn", "starts with '.'"),
        ("/abs:churn", "absolute"),
        ("dir/sub/:churn", "ends with '/'"),
        ("dir/sub/dvc.yaml:churn", "write dir/sub:churn"),
        ("dir:sub:churn", "more than one ':'"),
    ],
)
def test_bad_folders_are_refused_before_anything_is_written(
    registry: Registry, repo: Path, name: str, fragment: str
) -> None:
    write_model(repo, b"one", MODEL)
    before = snapshot(repo)
    line = one_line_error(modelreg(repo, "register", name, MODEL), repr(name), fragment)
    assert "invalid model name" in line
    assert snapshot(repo) == before
    one_line_error(modelreg(repo, "which", name, "production"), repr(name), fragment)
    one_line_error(modelreg(repo, "get", f"{name}#production"), repr(name), fragment)
    assert snapshot(repo) == before


def test_an_artifact_outside_the_folder_is_refused(registry: Registry, repo: Path) -> None:
    write_model(repo, b"one", "models/churn.pkl")
    write_model(repo, b"two", "dir/subway/churn.pkl")
    write_model(repo, b"three", "dir/sub/churn.pkl")
    before = snapshot(repo)
    for path in ("models/churn.pkl", "dir/subway/churn.pkl", "dir/sub"):
        line = one_line_error(modelreg(repo, "register", NAME, path), "not inside dir/sub/")
        assert f"'{path}'" in line
        with pytest.raises(InvalidInputError, match="not inside dir/sub/"):
            registry.register(NAME, path)
    assert snapshot(repo) == before


# -- reading: one model's tags, by path and by URL ----------------------------------------

# Models whose names are prefixes, suffixes or folder-swaps of one another.
NEIGHBOURS = [
    "churn",
    "dir/churn",
    "sub:churn",
    "dir:churn",
    "dir:sub/churn",
    NAME,
    "dir/sub:team/churn",
    "x/dir/sub:churn",
    "dir/sub/team:churn",
]


def test_tag_patterns_select_exactly_one_model(repo: Path, tmp_path: Path) -> None:
    expected: dict[str, set[str]] = {}
    for model in NEIGHBOURS:
        prefix = model.replace(":", "=")
        # a version, a counted stage tag, a stage with a '/' (GTO allows it), a deregistration
        tags = {
            f"{prefix}@v1.0.0",
            f"{prefix}#prod#1",
            f"{prefix}#team/prod#2",
            f"{prefix}@v1.0.0!",
        }
        for tag in sorted(tags):
            git(repo, "tag", "-a", tag, "-m", f"tag {tag}")
        expected[model] = tags
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(origin))
    local = GitRepo(repo)
    for model in NEIGHBOURS:
        patterns = tag_patterns(model)
        assert {t.name for t in local.tags(patterns)} == expected[model], model
        by_url = ls_remote_tags(f"file://{origin}", patterns)
        assert {t.name for t in by_url} == expected[model], model
        assert {parse_tag(t.name).model for t in by_url} == {model}  # type: ignore[union-attr]


def test_reads_by_url_answer_as_the_clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    origin, work = bare_remote_and_clone(tmp_path)
    monkeypatch.chdir(work)
    reg = Registry(work)
    reg.init(dvc_remote=str(tmp_path / "dvc-remote"))
    for content in (b"one", b"two", b"three"):
        write_model(work, content, MODEL)
        reg.register(NAME, MODEL)
    write_model(work, b"root", "models/churn.pkl")
    reg.register("churn", "models/churn.pkl", version="v9.0.0")
    reg.promote(NAME, "v1.1.0", "production")
    reg.promote(NAME, "v1.0.0", "staging")
    reg.push()

    url = f"file://{origin}"
    remote = Registry(url)
    # names decide: ls-remote alone
    assert remote.which_version(NAME, "production") == "v1.1.0"
    assert remote.latest_version(NAME) == "v1.2.0"
    # a mirror of the model's tags
    assert remote.show(NAME) == reg.show(NAME)
    assert remote.history(NAME) == reg.history(NAME)
    assert remote.resolve(f"{NAME}#staging").md5 == reg.resolve(f"{NAME}#staging").md5
    out = remote.get(f"{NAME}#production", out=tmp_path / "by-url.pkl")
    assert out.read_bytes() == b"two"

    which, latest, shown = run_parallel(
        [
            (tmp_path, [MODELREG, "which", NAME, "staging", "--repo", url]),
            (tmp_path, [MODELREG, "latest", NAME, "--repo", url]),
            (tmp_path, [MODELREG, "show", NAME, "--repo", url, "--json"]),
        ]
    )
    assert (ok(which), ok(latest)) == ("v1.0.0\n", "v1.2.0\n")
    detail = json.loads(ok(shown))
    assert detail["name"] == NAME
    assert [v["tag"] for v in detail["versions"]] == [
        "dir/sub=churn@v1.2.0",
        "dir/sub=churn@v1.1.0",
        "dir/sub=churn@v1.0.0",
    ]


# -- the index, get, load_model, apply -----------------------------------------------------


def _gto_style_tags(repo: Path) -> None:
    """Tags named as ``gto register/assign dir/sub:churn`` names them, with no modelreg record,
    the artifact declared in ``dir/sub/dvc.yaml``."""
    env = {"GIT_COMMITTER_DATE": "@1700000000 +0000", "GIT_AUTHOR_DATE": "@1700000000 +0000"}
    (repo / "dir/sub").mkdir(parents=True)
    (repo / "dir/sub/dvc.yaml").write_text("artifacts:\n  churn:\n    path: churn.pkl\n")
    git(repo, "add", "dir/sub/dvc.yaml")
    git(repo, "commit", "-q", "-m", "Declare churn", env=env)
    git(repo, "tag", "-a", "dir/sub=churn@v1.0.0", "-m", "Registering", env=env)
    env = {"GIT_COMMITTER_DATE": "@1700000010 +0000"}
    git(repo, "tag", "-a", "dir/sub=churn#prod#1", "-m", "Assigning", env=env)


def test_init_and_index_rebuild_key_folder_models_by_their_user_form(repo: Path) -> None:
    _gto_style_tags(repo)
    reg = Registry(repo)
    reg.init()
    index = yaml.safe_load((repo / "registry.yaml").read_text())
    assert list(index["models"]) == [NAME]
    assert index["models"][NAME]["stages"] == {"prod": "v1.0.0"}
    assert index["models"][NAME]["versions"]["v1.0.0"]["tag"] == "dir/sub=churn@v1.0.0"
    assert reg.check(strict=True).ok
    # the artifact path of a version GTO registered comes from the folder's dvc.yaml
    assert reg.resolve(f"{NAME}#prod").path == "dir/sub/churn.pkl"

    write_model(repo, b"two", MODEL)
    reg.register(NAME, MODEL)
    before = (repo / "registry.yaml").read_text()
    (repo / "registry.yaml").write_text("stages: [dev, staging, prod]\nmodels: {}\n")
    reg.rebuild_index()
    rebuilt = yaml.safe_load((repo / "registry.yaml").read_text())
    assert list(rebuilt["models"]) == [NAME]
    assert rebuilt["models"][NAME]["versions"]["v1.1.0"]["tag"] == "dir/sub=churn@v1.1.0"
    assert rebuilt["models"][NAME]["path"] == MODEL
    assert yaml.safe_load(before)["models"] == rebuilt["models"]
    assert reg.check(strict=True).ok


def test_check_names_the_tag_form(registry: Registry, repo: Path) -> None:
    write_model(repo, b"one", MODEL)
    registry.register(NAME, MODEL)
    text = (repo / "registry.yaml").read_text()
    (repo / "registry.yaml").write_text(text.replace("tag: dir/sub=churn@", "tag: dir/sub:churn@"))
    problems = [str(p) for p in registry.check().problems]
    assert problems == [
        "registry.yaml:9: dir/sub:churn v1.0.0: names: tag 'dir/sub:churn@v1.0.0' should be "
        "dir/sub=churn@v1.0.0"
    ]


def test_get_and_load_model(repo: Path, tmp_path: Path) -> None:
    reg = Registry(repo)
    reg.init(dvc_remote=str(tmp_path / "dvc-remote"))
    write_model(repo, b"one", MODEL)
    reg.register(NAME, MODEL)
    write_model(repo, b"two", MODEL)
    reg.register(NAME, MODEL)
    reg.promote(NAME, "v1.0.0", "production")
    assert reg.get(f"{NAME}#production", out=tmp_path / "p.pkl").read_bytes() == b"one"
    assert reg.get(f"{NAME}@latest", out=tmp_path / "l.pkl").read_bytes() == b"two"
    loaded = api.load_model(f"{NAME}#production")
    assert isinstance(loaded, Path) and loaded.read_bytes() == b"one"

    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    x, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=300).fit(x, y)
    mv = api.log_model(model, "dir/sub:iris", metrics={"accuracy": model.score(x, y)})
    assert (mv.tag, mv.path) == ("dir/sub=iris@v1.0.0", "dir/sub/models/iris")
    declared = yaml.safe_load((repo / "dir/sub/dvc.yaml").read_text())["artifacts"]
    assert declared["iris"] == {"path": "models/iris", "type": "model"}
    back = api.load_model("dir/sub:iris@v1.0.0")
    assert (back.predict(x) == model.predict(x)).all()


def test_a_proposal_is_tagged_by_apply(registry: Registry, repo: Path) -> None:
    write_model(repo, b"one", MODEL)
    proposed = registry.register(NAME, MODEL, no_tag=True)
    assert proposed.tag == "" and git(repo, "tag", "--list") == ""
    assert "dir/sub/dvc.yaml" in committed_files(repo)
    changes = registry.apply()
    assert [c.tag for c in changes] == ["dir/sub=churn@v1.0.0"]
    assert registry.latest(NAME).version == "v1.0.0"


# -- the real gto and dvc --------------------------------------------------------------------


@pytest.fixture
def gto_session(tmp_path: Path) -> Iterator[GtoSession]:
    session = GtoSession(tmp_path / "gto-session.log")
    yield session
    session.close()


@pytest.mark.slow
def test_gto_reads_folder_models_modelreg_writes(
    registry: Registry, repo: Path, gto_session: GtoSession
) -> None:
    for content in (b"one", b"two", b"three"):
        write_model(repo, content, MODEL)
        registry.register(NAME, MODEL)
    write_model(repo, b"root", "models/churn.pkl")
    registry.register("churn", "models/churn.pkl", version="v5.0.0")
    registry.promote(NAME, "v1.0.0", "production")
    registry.promote(NAME, "v1.1.0", "production")
    registry.promote(NAME, "v1.0.0", "staging")
    registry.rollback(NAME, "production")  # back to v1.0.0
    registry.deprecate(NAME, "v1.2.0")
    registry.promote("churn", "v5.0.0", "staging")

    queries = [
        ["show", "--json"],
        ["show", NAME, "--json"],
        ["history", NAME, "--json"],
        ["show", f"{NAME}#production", "--ref"],
        ["show", f"{NAME}#staging", "--ref"],
        ["show", f"{NAME}@latest", "--ref"],
        ["show", "churn#staging", "--ref"],
    ]
    gto_session.send([(repo, q) for q in queries])
    cli = run_parallel(
        [
            (repo, [MODELREG, "which", NAME, "production"]),
            (repo, [MODELREG, "which", NAME, "staging"]),
            (repo, [MODELREG, "latest", NAME]),
            (repo, [MODELREG, "show", NAME, "--json"]),
        ]
    )
    every, shown, history, prod, staging, latest, root = (ok(p) for p in gto_session.receive(7))
    assert [ok(p) for p in cli[:3]] == ["v1.0.0\n", "v1.0.0\n", "v1.1.0\n"]
    assert (prod, staging, latest) == (
        "dir/sub=churn@v1.0.0\n",
        "dir/sub=churn@v1.0.0\n",
        "dir/sub=churn@v1.1.0\n",
    )
    assert root == "churn@v5.0.0\n"

    ours = json.loads(ok(cli[3]))
    assert ours["name"] == NAME and ours["latest"] == "v1.1.0"
    summary = json.loads(every)
    assert summary[NAME]["version"] == ours["latest"]
    held = {stage: v for stage, v in summary[NAME]["stage"].items() if v is not None}
    assert held == ours["stages"] == {"production": "v1.0.0", "staging": "v1.0.0"}
    assert summary["churn"]["stage"]["staging"] == "v5.0.0"
    # gto show NAME: the same active versions, each with the stages it holds
    theirs = {
        v["version"]: sorted(s["stage"] for s in v["stages"] if s["is_active"])
        for v in json.loads(shown)
        if v["is_active"]
    }
    assert theirs == {v["version"]: sorted(v["stages"]) for v in ours["versions"] if v["active"]}
    assert_same_history(registry, NAME, json.loads(history), "modelreg-written")


@pytest.mark.slow
def test_dvc_artifacts_get_fetches_what_modelreg_registered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    origin, work = bare_remote_and_clone(tmp_path)
    monkeypatch.chdir(work)
    reg = Registry(work)
    reg.init(dvc_remote=str(tmp_path / "dvc-remote"))
    first, second = b"\x00first\n" * 50, b"\x01second\n" * 70
    write_model(work, first, MODEL)
    reg.register(NAME, MODEL)
    write_model(work, second, MODEL)
    reg.register(NAME, MODEL)
    reg.promote(NAME, "v1.0.0", "production")
    reg.push()  # artifact bytes to the DVC remote, then branch and tags to origin

    url = f"file://{origin}"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    get = [DVC, "artifacts", "get"]
    procs = run_parallel(
        [
            (scratch, [*get, url, NAME, "--stage", "production", "-o", "by-url-prod.pkl"]),
            (scratch, [*get, url, NAME, "-o", "by-url-latest.pkl"]),
            (work, [*get, ".", NAME, "--stage", "production", "-o", str(scratch / "here.pkl")]),
            (scratch, [MODELREG, "get", f"{NAME}#production", "--repo", url]),
        ]
    )
    for proc in procs:
        ok(proc)
    ours = reg.get(f"{NAME}#production", out=tmp_path / "ours.pkl").read_bytes()
    assert ours == first
    assert (scratch / "by-url-prod.pkl").read_bytes() == ours
    assert (scratch / "here.pkl").read_bytes() == ours
    assert (scratch / "churn.pkl").read_bytes() == ours  # modelreg get --repo URL
    assert (scratch / "by-url-latest.pkl").read_bytes() == second


@pytest.mark.slow
def test_modelreg_reads_what_gto_writes_for_folder_models(
    repo: Path, tmp_path: Path, gto_session: GtoSession
) -> None:
    clock = GtoClock(repo, gto_session)
    ok(run(repo, DVC, "init", "-q"))
    ok(run(repo, DVC, "remote", "add", "-d", "store", str(tmp_path / "dvc-remote")))
    (repo / "dir/sub").mkdir(parents=True)
    (repo / "dir/sub/dvc.yaml").write_text(
        "artifacts:\n  churn:\n    path: models/churn.pkl\n    type: model\n"
    )

    def commit(content: bytes) -> str:
        write_model(repo, content, MODEL)
        ok(run(repo, DVC, "add", "-q", MODEL))
        date = clock.tick()
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "Train", env={"GIT_COMMITTER_DATE": date})
        return git(repo, "rev-parse", "HEAD").strip()

    commit(b"one")
    assert clock.gto("register", NAME, "HEAD", "--version", "v1.0.0", executable=True) == [
        "dir/sub=churn@v1.0.0"
    ]
    commit(b"two")
    assert clock.gto("register", NAME, "HEAD", "--bump-minor") == ["dir/sub=churn@v1.1.0"]
    assert clock.gto("register", "churn", "HEAD", "--version", "v7.0.0") == ["churn@v7.0.0"]
    assert clock.gto("assign", NAME, "--version", "v1.0.0", "--stage", "prod") == [
        "dir/sub=churn#prod#1"
    ]
    assert clock.gto("assign", NAME, "--version", "v1.1.0", "--stage", "staging") == [
        "dir/sub=churn#staging#2"
    ]
    ok(run(repo, DVC, "push", "-q"))

    # by path
    reg = Registry(repo)
    assert reg.which(NAME, "prod").tag == "dir/sub=churn@v1.0.0"
    assert reg.latest(NAME).version == "v1.1.0"
    assert reg.latest("churn").version == "v7.0.0"
    assert reg.get(f"{NAME}#prod", out=tmp_path / "prod.pkl").read_bytes() == b"one"
    gto_history = json.loads(ok(gto_session(repo, "history", NAME, "--json")))
    assert_same_history(reg, NAME, gto_history, "gto-written")

    # by URL: ls-remote for which/latest, a mirror for show and get
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(origin))
    url = f"file://{origin}"
    cli = [MODELREG]
    # (one mirror user at a time: concurrent fetches into one mirror collide on its lock)
    which, latest, shown = run_parallel(
        [
            (tmp_path, [*cli, "which", NAME, "prod", "--repo", url]),
            (tmp_path, [*cli, "latest", NAME, "--repo", url]),
            (tmp_path, [*cli, "show", NAME, "--repo", url, "--json"]),
        ]
    )
    assert (ok(which), ok(latest)) == ("v1.0.0\n", "v1.1.0\n")
    detail = json.loads(ok(shown))
    assert detail["stages"] == {"prod": "v1.0.0", "staging": "v1.1.0"}
    ok(run(tmp_path, *cli, "get", f"{NAME}#staging", "--repo", url, "-o", "staging.pkl"))
    assert (tmp_path / "staging.pkl").read_bytes() == b"two"

    # a GTO registry becomes a modelreg one: init indexes the folder model under its name
    ok(modelreg(repo, "init"))
    index = yaml.safe_load((repo / "registry.yaml").read_text())
    assert sorted(index["models"]) == ["churn", NAME]
    assert index["models"][NAME]["stages"] == {"prod": "v1.0.0", "staging": "v1.1.0"}
    ok(modelreg(repo, "check", "--strict"))


def test_apply_refuses_an_index_key_no_tag_can_name(registry: Registry, repo: Path) -> None:
    write_model(repo, b"one", MODEL)
    registry.register(NAME, MODEL)
    index = repo / "registry.yaml"
    index.write_text(index.read_text().replace(f"  {NAME}:", "  dir/sub/:churn:"))
    git(repo, "commit", "-qm", "Hand edit", "--", "registry.yaml")
    before = snapshot(repo)
    one_line_error(modelreg(repo, "apply"), "'dir/sub/:churn'", "ends with '/'")
    assert snapshot(repo) == before
    assert "dir/sub/:churn" in str(registry.check().problems[0])

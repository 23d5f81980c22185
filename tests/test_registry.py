"""The registry's use cases through the Python API, on real Git repositories with DVC."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from tests.helpers import git, write_model

from modelreg import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    Registry,
)
from modelreg.records import EventKind


def register(reg: Registry, repo: Path, content: str, **kwargs: object) -> str:
    write_model(repo, content)
    return reg.register("churn", "models/churn.pkl", **kwargs).version  # type: ignore[arg-type]


def test_init_creates_a_committed_registry(repo: Path) -> None:
    reg = Registry(repo)
    reg.init(stages=["dev", "prod"])
    assert yaml.safe_load((repo / "registry.yaml").read_text()) == {
        "branch": "main",
        "stages": ["dev", "prod"],
        "models": {},
    }
    committed = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert sorted(committed) == [
        ".dvc/.gitignore",
        ".dvc/config",
        ".dvcignore",
        ".gitattributes",
        ".modelreg/registry.schema.json",  # editors validate registry.yaml with it
        "registry.yaml",
    ]
    assert git(repo, "status", "--porcelain") == ""
    with pytest.raises(ConflictError, match="already a modelreg registry"):
        reg.init()


def test_register_tracks_commits_and_tags(registry: Registry, repo: Path) -> None:
    write_model(repo, "weights-1")
    mv = registry.register(
        "churn",
        "models/churn.pkl",
        metrics={"accuracy": 0.91, "eval": {"f1": 0.8}},
        params={"C": 1.0},
        description="Churn classifier",
        labels=["tabular"],
    )
    assert (mv.version, mv.tag, mv.path) == ("v1.0.0", "churn@v1.0.0", "models/churn.pkl")
    assert mv.metrics == {"accuracy": 0.91, "eval.f1": 0.8}
    assert mv.params == {"C": 1.0}
    assert mv.registered_by == "Ada Tester <ada@example.com>"
    assert mv.commit == git(repo, "rev-parse", "HEAD").strip()
    assert git(repo, "cat-file", "-t", "churn@v1.0.0").strip() == "tag"
    files = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert sorted(files) == [
        "dvc.yaml",
        "models/.gitignore",
        "models/churn.pkl.dvc",
        "registry.yaml",
    ]
    assert git(repo, "status", "--porcelain") == ""
    dvc_yaml = yaml.safe_load((repo / "dvc.yaml").read_text())
    assert dvc_yaml["artifacts"]["churn"] == {
        "path": "models/churn.pkl",
        "type": "model",
        "desc": "Churn classifier",
        "labels": ["tabular"],
    }
    index = yaml.safe_load((repo / "registry.yaml").read_text())
    entry = index["models"]["churn"]
    assert entry["path"] == "models/churn.pkl"
    assert entry["versions"]["v1.0.0"]["metrics"] == {"accuracy": 0.91, "eval.f1": 0.8}
    assert entry["versions"]["v1.0.0"]["md5"] == mv.md5


def test_versions_bump_and_explicit_versions(registry: Registry, repo: Path) -> None:
    assert register(registry, repo, "a") == "v1.0.0"
    assert register(registry, repo, "b") == "v1.1.0"
    assert register(registry, repo, "c", bump="patch") == "v1.1.1"
    assert register(registry, repo, "d", bump="major") == "v2.0.0"
    assert register(registry, repo, "e", version="v1.5.0") == "v1.5.0"  # explicit may be lower
    assert register(registry, repo, "f") == "v2.1.0"
    with pytest.raises(ConflictError, match=r"churn v1.5.0 already exists"):
        register(registry, repo, "g", version="v1.5.0")
    assert registry.latest("churn").version == "v2.1.0"


def test_unchanged_bytes_are_refused_unless_allowed(registry: Registry, repo: Path) -> None:
    register(registry, repo, "same")
    with pytest.raises(ConflictError, match="byte-identical to churn v1.0.0.*--allow-unchanged"):
        register(registry, repo, "same")
    assert register(registry, repo, "same", allow_unchanged=True) == "v1.1.0"


def test_folder_artifacts(registry: Registry, repo: Path, tmp_path: Path) -> None:
    write_model(repo, "w", "models/bundle/weights.bin")
    write_model(repo, "{}", "models/bundle/conf/config.json")
    mv = registry.register("bundle", "models/bundle")
    assert mv.md5 is not None and mv.md5.endswith(".dir")
    out = registry.get("bundle@v1.0.0", out=tmp_path / "out")
    assert (out / "weights.bin").read_text() == "w"
    assert (out / "conf" / "config.json").read_text() == "{}"


def test_promote_which_demote_rollback(registry: Registry, repo: Path) -> None:
    for content in ("a", "b", "c"):
        register(registry, repo, content)
    change = registry.promote("churn", "v1.0.0", "production")
    assert (change.tag, change.holder) == ("churn#production#1", "v1.0.0")
    registry.promote("churn", "v1.2.0", "production", message="better recall")
    assert registry.which("churn", "production").version == "v1.2.0"
    assert registry.which("churn", "production").stages == ["production"]

    back = registry.rollback("churn", "production")
    assert back.version == "v1.0.0"
    assert registry.which("churn", "production").version == "v1.0.0"

    registry.promote("churn", "v1.1.0", "production")
    assert registry.rollback("churn", "production", to="v1.2.0").version == "v1.2.0"

    demoted = registry.demote("churn", "production")
    assert demoted.version == "v1.2.0"
    assert demoted.holder == "v1.1.0"  # earlier assignments stay active, as in GTO
    index = yaml.safe_load((repo / "registry.yaml").read_text())
    assert index["models"]["churn"]["stages"] == {"production": "v1.1.0"}

    with pytest.raises(ConflictError, match="already holds"):
        registry.promote("churn", "v1.1.0", "production")
    with pytest.raises(NotFoundError, match="no version of 'churn' holds stage 'staging'"):
        registry.which("churn", "staging")
    with pytest.raises(InvalidInputError, match="unknown stage 'prod'.*allowed stages are dev"):
        registry.promote("churn", "v1.1.0", "prod")
    with pytest.raises(NotFoundError, match="churn has no version v9.0.0"):
        registry.promote("churn", "v9.0.0", "production")


def test_rollback_needs_a_previous_holder(registry: Registry, repo: Path) -> None:
    register(registry, repo, "a")
    with pytest.raises(NotFoundError, match="nothing to roll back"):
        registry.rollback("churn", "production")
    registry.promote("churn", "v1.0.0", "production")
    with pytest.raises(NotFoundError, match="no earlier active version"):
        registry.rollback("churn", "production")


def test_deprecate_version_and_model(registry: Registry, repo: Path) -> None:
    register(registry, repo, "a")
    register(registry, repo, "b")
    registry.promote("churn", "v1.1.0", "production")
    registry.promote("churn", "v1.0.0", "staging")
    assert registry.deprecate("churn", "v1.1.0") == "churn@v1.1.0!"
    assert registry.latest("churn").version == "v1.0.0"
    with pytest.raises(NotFoundError):
        registry.which("churn", "production")
    with pytest.raises(ConflictError, match="deregistered"):
        registry.promote("churn", "v1.1.0", "production")
    index = yaml.safe_load((repo / "registry.yaml").read_text())["models"]["churn"]
    assert index["versions"]["v1.1.0"]["deregistered"] is True
    assert index["stages"] == {"staging": "v1.0.0"}

    assert registry.deprecate("churn") == "churn@deprecated"
    with pytest.raises(NotFoundError, match="deprecated"):
        registry.latest("churn")
    assert registry.show("churn").deprecated
    # A new registration brings the model back, as it does in GTO.
    assert register(registry, repo, "c") == "v1.2.0"
    assert not registry.show("churn").deprecated


@pytest.fixture
def promoted(registry: Registry, repo: Path) -> Registry:
    """churn v1.0.0 and v1.1.0 (more metrics, other params), v1.1.0 in production."""
    register(registry, repo, "a", metrics={"acc": 0.8}, params={"C": 0.1, "solver": "lbfgs"})
    register(
        registry, repo, "b", metrics={"acc": 0.9, "f1": 0.7}, params={"C": 1.0, "solver": "lbfgs"}
    )
    registry.promote("churn", "v1.1.0", "production", message="ship it")
    return registry


def test_history_is_newest_first_with_messages_and_authors(promoted: Registry) -> None:
    events = promoted.history("churn")
    # Newest first; registrations in one second are listed as GTO lists them (the first
    # registered first), so only their set is fixed here.
    assert (events[0].kind, events[0].version, events[0].stage) == (
        EventKind.ASSIGN,
        "v1.1.0",
        "production",
    )
    assert {(e.kind, e.version) for e in events[1:]} == {
        (EventKind.REGISTER, "v1.1.0"),
        (EventKind.REGISTER, "v1.0.0"),
    }
    assert events[0].message == "Promote churn v1.1.0 to production\n\nship it"
    assert events[0].author == "Ada Tester"
    assert [e.timestamp for e in events] == sorted((e.timestamp for e in events), reverse=True)


def test_show_lists_versions_newest_first_and_the_stages(promoted: Registry) -> None:
    detail = promoted.show("churn")
    assert [v.version for v in detail.versions] == ["v1.1.0", "v1.0.0"]
    assert detail.stages == {"production": "v1.1.0"}


def test_list_models_gives_latest_stages_and_the_latest_metrics(promoted: Registry) -> None:
    rows = promoted.list_models()
    assert [(r.name, r.latest, r.stages, r.metrics) for r in rows] == [
        ("churn", "v1.1.0", {"production": "v1.1.0"}, {"acc": 0.9, "f1": 0.7})
    ]


def test_compare_gives_deltas_and_whether_the_bytes_changed(promoted: Registry) -> None:
    diff = promoted.compare("churn", "v1.0.0", "v1.1.0")
    assert [(d.key, d.a, d.b, d.delta) for d in diff.metrics] == [
        ("acc", 0.8, 0.9, pytest.approx(0.1)),
        ("f1", None, 0.7, None),
    ]
    assert [(d.key, d.delta) for d in diff.params] == [("C", pytest.approx(0.9)), ("solver", None)]
    assert diff.artifact_changed is True


def test_get_verifies_and_writes_atomically(registry: Registry, repo: Path, tmp_path: Path) -> None:
    register(registry, repo, "model-bytes-v1")
    register(registry, repo, "model-bytes-v2")
    registry.promote("churn", "v1.0.0", "production")
    out = registry.get("churn#production", out=tmp_path / "deploy" / "m.pkl")
    assert out.read_text() == "model-bytes-v1"
    from modelreg import ConflictError

    with pytest.raises(ConflictError, match="already exists: pass --force"):
        registry.get("churn@latest", out=out)
    assert out.read_text() == "model-bytes-v1"
    assert registry.get("churn@latest", out=out, force=True).read_text() == "model-bytes-v2"
    # Corrupt the cached object of v1: get must refuse and leave the destination alone.
    md5 = registry.resolve("churn@v1.0.0").md5
    assert md5 is not None
    cached = repo / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    cached.chmod(0o644)
    cached.write_text("tampered")
    from modelreg import IntegrityError

    with pytest.raises(IntegrityError, match=f"churn v1.0.0.*expected {md5}"):
        registry.get("churn@v1.0.0", out=out, force=True)
    assert out.read_text() == "model-bytes-v2"
    assert sorted(p.name for p in out.parent.iterdir()) == ["m.pkl"]


def test_index_rebuild_reproduces_the_index(registry: Registry, repo: Path) -> None:
    register(
        registry, repo, "a", metrics={"acc": 0.8}, params={"C": 1}, description="d", labels=["x"]
    )
    register(registry, repo, "b", metrics={"acc": 0.9})
    registry.promote("churn", "v1.1.0", "staging")
    registry.deprecate("churn", "v1.0.0")
    original = (repo / "registry.yaml").read_text()
    (repo / "registry.yaml").write_text("stages: [dev, staging, production]\nmodels: {}\n")
    git(repo, "commit", "-qam", "lose the index")
    rebuilt = registry.rebuild_index()
    assert (repo / "registry.yaml").read_text() == original
    assert git(repo, "status", "--porcelain") == ""
    assert (rebuilt.models, rebuilt.versions, rebuilt.added_stages) == (1, 2, [])
    assert rebuilt.stages == ["dev", "staging", "production"]
    assert Path(rebuilt.path) == repo / "registry.yaml"
    assert rebuilt.commit == git(repo, "rev-parse", "HEAD").strip()


def test_reads_work_without_an_index(repo: Path) -> None:
    git(repo, "tag", "-a", "-m", "Registering", "legacy@v0.1.0")
    git(repo, "tag", "-a", "-m", "Assign", "legacy#prod#1")
    git(repo, "tag", "lightweight@v9.0.0")  # lightweight tags do not count
    reg = Registry(repo)
    assert reg.which("legacy", "prod").version == "v0.1.0"
    assert reg.latest("legacy").version == "v0.1.0"
    assert [r.name for r in reg.list_models()] == ["legacy"]
    with pytest.raises(NotFoundError, match="no model named 'lightweight'"):
        reg.latest("lightweight")


def test_records_serialize_to_json(registry: Registry, repo: Path) -> None:
    register(registry, repo, "a", metrics={"acc": 0.8})
    from modelreg.records import to_jsonable

    data = json.loads(json.dumps(to_jsonable(registry.latest("churn"))))
    assert data["version"] == "v1.0.0"
    assert data["registered_at"].endswith("Z")
    assert data["metrics"] == {"acc": 0.8}

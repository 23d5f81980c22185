"""A newcomer's first calls: a write in a fresh Git repository makes it a registry and says
so; outside Git, or when registering fails, ``log_model`` leaves nothing behind."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import git, modelreg, snapshot

import modelreg as mr
from modelreg import NotARegistryError, Registry

sklearn = pytest.importorskip("sklearn")


def _iris_model() -> tuple[Any, Any]:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True, as_frame=True)
    return LogisticRegression(C=1.0, max_iter=200).fit(X, y), X


def test_log_model_in_a_fresh_repository_runs_init_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "fresh"
    root.mkdir()
    git(root, "init", "-q")  # not even a commit yet
    monkeypatch.chdir(root)
    model, X = _iris_model()
    with caplog.at_level(logging.WARNING, logger="modelreg"):
        v = mr.log_model(model, "iris", metrics={"accuracy": 0.97}, input_example=X.head())
    assert v.version == "v1.0.0"
    assert any("ran `modelreg init`" in r.getMessage() for r in caplog.records)
    assert (root / "registry.yaml").is_file()
    Registry(".").promote("iris", v.version, "production")
    loaded = mr.load_model("iris#production")
    assert list(loaded.predict(X.head(3))) == list(model.predict(X.head(3)))


def test_the_cli_runs_init_for_the_first_write(repo: Path) -> None:
    (repo / "model.bin").write_bytes(b"weights")
    proc = modelreg(repo, "register", "churn", "model.bin")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "v1.0.0"
    assert "ran `modelreg init`" in proc.stderr
    assert git(repo, "log", "--format=%s").splitlines()[:2] == [
        "Register churn v1.0.0",
        "Initialize modelreg registry",
    ]
    assert modelreg(repo, "check").returncode == 0


def test_outside_git_log_model_fails_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.chdir(plain)
    model, _ = _iris_model()
    with pytest.raises(NotARegistryError, match="not a Git repository|git init"):
        mr.log_model(model, "iris")
    assert list(plain.iterdir()) == []


def test_a_failed_registration_leaves_the_previous_model_folder_as_it_was(
    repo: Path,
) -> None:
    model, _ = _iris_model()
    mr.log_model(model, "iris")
    card_before = (repo / "models/iris/model.yaml").read_bytes()
    # The file is gone from the working tree but committed: not a new repository, so the
    # write fails (after the model was saved) instead of starting a fresh registry.
    (repo / "registry.yaml").unlink()
    before = snapshot(repo)
    with pytest.raises(NotARegistryError, match="registry.yaml"):
        mr.log_model(model, "iris", params={"C": 2.0})
    assert snapshot(repo) == before
    assert (repo / "models/iris/model.yaml").read_bytes() == card_before


def test_a_failed_first_registration_removes_the_folders_it_made(repo: Path) -> None:
    Registry(repo).init()
    (repo / "registry.yaml").unlink()
    before = snapshot(repo)
    model, _ = _iris_model()
    with pytest.raises(NotARegistryError):
        mr.log_model(model, "dir/sub:iris")
    assert snapshot(repo) == before
    assert not (repo / "dir").exists()

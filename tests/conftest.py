"""Shared fixtures: real git repositories in temporary folders, isolated from $HOME.

Every test runs with a pinned Git identity (set through the environment, as a fresh CI
machine has none), no global Git config, and analytics off for DVC and GTO.  The plain helpers
these use (git, the ``modelreg`` process, snapshots) are in ``tests/helpers.py``: tests import
them from there.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from tests.helpers import git, isolate_in, s3_client, write_model

from modelreg import Registry

# Property tests run real git and files; on a busy 2-core CI machine one example can take
# longer than Hypothesis's 200 ms deadline without anything being wrong.  Timing is measured
# by bench/, never by a test.
settings.register_profile("modelreg", deadline=None)
settings.load_profile("modelreg")


@pytest.fixture(autouse=True)
def isolate(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep tests out of the user's home, global git config and the network."""
    isolate_in(tmp_path_factory.mktemp("home"), monkeypatch)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Git repository (one empty commit on main); the current folder."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "commit", "-q", "--allow-empty", "-m", "Start")
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def registry(repo: Path) -> Registry:
    """A freshly initialized modelreg registry in ``repo``."""
    reg = Registry(repo)
    reg.init()
    return reg


@pytest.fixture
def make_model(repo: Path) -> Iterator[Callable[..., Path]]:
    """``make_model(content, rel=...)`` writes an artifact into the repo."""

    def _make(content: bytes | str, rel: str = "models/churn.pkl") -> Path:
        return write_model(repo, content, rel)

    yield _make


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 (a real HTTP endpoint for DVC's s3fs), with a bucket
    `models`; credentials `testing`/`testing`."""
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    s3_client(endpoint).create_bucket(Bucket="models")
    yield endpoint
    server.stop()


# `make test-all` (and so CI) sets MODELREG_NO_SKIPS=1: a tier skipped for a missing tool
# (moto's S3 server, gto…) fails the run instead of passing quietly.
_SKIPPED: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        _SKIPPED.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("MODELREG_NO_SKIPS") == "1" and _SKIPPED:
        print(f"\nMODELREG_NO_SKIPS: {len(_SKIPPED)} test(s) were skipped: {_SKIPPED[:5]}")
        session.exitstatus = 1

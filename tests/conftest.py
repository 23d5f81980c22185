"""Shared fixtures: real git repositories in temporary folders, isolated from $HOME.

Every test runs with a pinned Git identity (set through the environment, as a fresh CI
machine has none), no global Git config, and analytics off for DVC and GTO.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelreg import Registry

VENV_BIN = Path(sys.executable).parent
IDENTITY = {
    "GIT_AUTHOR_NAME": "Ada Tester",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Tester",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
}


def isolate_in(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point HOME, git's global config, DVC's config and cache folders and the identity at
    ``home``: nothing a test runs reads or writes the real ones."""
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    monkeypatch.setenv("GTO_NO_ANALYTICS", "1")
    monkeypatch.setenv("DVC_SITE_CACHE_DIR", str(home / "dvc-site-cache"))
    for key, value in IDENTITY.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PATH", f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")


@pytest.fixture(autouse=True)
def isolate(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep tests out of the user's home, global git config and the network."""
    isolate_in(tmp_path_factory.mktemp("home"), monkeypatch)


@contextlib.contextmanager
def isolated(home: Path) -> Iterator[None]:
    """:func:`isolate_in` for fixtures wider than one test (module-scoped templates)."""
    with pytest.MonkeyPatch.context() as mp:
        isolate_in(home, mp)
        yield


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run git in ``cwd`` and return its stdout (raises on failure)."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    proc = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env=full_env, check=True
    )
    return proc.stdout


def run(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command (modelreg, gto, dvc…) from the venv without raising."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, env=full_env)


def modelreg(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real ``modelreg`` console script in a fresh process."""
    return run(cwd, str(VENV_BIN / "modelreg"), *args, env=env)


def snapshot(repo: Path) -> dict[str, object]:
    """Everything a failed command must leave unchanged: status, tags, HEAD, staged files, files."""
    head = subprocess.run(
        ["git", "rev-parse", "-q", "--verify", "HEAD"], cwd=repo, capture_output=True, text=True
    ).stdout.strip()
    files = {}
    for path in sorted(repo.rglob("*")):
        rel = path.relative_to(repo)
        if path.is_file() and rel.parts[0] not in (".git",) and "cache" not in rel.parts[:2]:
            if rel.parts[0] == ".dvc" and rel.parts[1] in ("tmp",):
                continue
            files[rel.as_posix()] = path.read_bytes()
    return {
        "status": git(repo, "status", "--porcelain", "--untracked-files=all"),
        "tags": git(repo, "for-each-ref", "refs/tags", "--format=%(refname) %(objectname)"),
        "head": head,
        # What is staged (not the index file's bytes: `git status` refreshes its stat cache).
        "index": git(repo, "ls-files", "--stage"),
        "files": files,
    }


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


def write_model(repo: Path, content: bytes | str, rel: str = "models/churn.pkl") -> Path:
    """Write an artifact file inside the repository."""
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


@pytest.fixture
def make_model(repo: Path) -> Iterator[object]:
    """``make_model(content, rel=...)`` writes an artifact into the repo."""

    def _make(content: bytes | str, rel: str = "models/churn.pkl") -> Path:
        return write_model(repo, content, rel)

    yield _make


def bare_remote_and_clone(tmp: Path) -> tuple[Path, Path]:
    """A bare ``origin.git`` and a clone of it, ``work``, with one commit on main."""
    origin = tmp / "origin.git"
    git(tmp, "init", "-q", "--bare", "-b", "main", str(origin))
    work = tmp / "work"
    git(tmp, "clone", "-q", str(origin), str(work))
    git(work, "commit", "-q", "--allow-empty", "-m", "Start")
    return origin, work


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 (a real HTTP endpoint for DVC's s3fs), with a bucket
    `models`; credentials `testing`/`testing`."""
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket="models")
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

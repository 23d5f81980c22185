"""Plain helpers the tests share: Git, the ``modelreg`` console script, repository snapshots.

Fixtures live in ``conftest.py`` (which uses these); tests import helpers from here, never from
``conftest.py`` (ruff's banned-api rule says so).  Every test that runs the command line as a
separate process goes through :func:`modelreg` (or :func:`start_modelreg` when it must talk to
the process while it runs), so all of them run the same console script with the same
environment handling.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import pytest

VENV_BIN = Path(sys.executable).parent
# The console script `pip install` made, as people run it (not `python -m modelreg`).
MODELREG = str(VENV_BIN / "modelreg")
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


@contextlib.contextmanager
def isolated(home: Path) -> Iterator[None]:
    """:func:`isolate_in` for fixtures wider than one test (module-scoped templates)."""
    with pytest.MonkeyPatch.context() as mp:
        isolate_in(home, mp)
        yield


def environment(env: dict[str, str] | None = None, unset: Iterable[str] = ()) -> dict[str, str]:
    """This process's environment with ``env`` on top and the names in ``unset`` removed."""
    full = {**os.environ, **(env or {})}
    for name in unset:
        full.pop(name, None)
    return full


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run git in ``cwd`` and return its stdout (raises on failure)."""
    proc = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env=environment(env), check=True
    )
    return proc.stdout


def run(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command (gto, dvc…) from the venv without raising."""
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, env=environment(env))


def modelreg(
    cwd: Path,
    *args: str,
    env: dict[str, str] | None = None,
    unset: Iterable[str] = (),
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the real ``modelreg`` console script in a fresh process and wait for it (without
    raising on a non-zero exit; a ``timeout`` fails the test rather than hang it)."""
    return subprocess.run(
        [MODELREG, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=environment(env, unset),
        timeout=timeout,
    )


def start_modelreg(
    cwd: Path,
    *args: str,
    env: dict[str, str] | None = None,
    stderr: int | IO[Any] = subprocess.PIPE,
) -> subprocess.Popen[str]:
    """Start the real ``modelreg`` console script without waiting: for racing processes and
    for tests that signal one or read its output as it comes (stdout and, unless redirected,
    stderr are pipes)."""
    return subprocess.Popen(
        [MODELREG, *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env=environment(env),
    )


Command = tuple[Path, list[str]]  # (working folder, argv)


def _start(cwd: Path, argv: Sequence[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        list(argv), cwd=cwd, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _finish(proc: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    out, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def run_parallel(commands: Sequence[Command]) -> list[subprocess.CompletedProcess[str]]:
    """Start every (read-only) command at once; wait for all of them; keep the order."""
    procs = [_start(cwd, argv) for cwd, argv in commands]
    return [_finish(p) for p in procs]


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    """stdout of a command that must have succeeded."""
    assert proc.returncode == 0, f"{proc.args} failed ({proc.returncode}):\n{proc.stderr}"
    return proc.stdout


def imported_by(cwd: Path, *args: str) -> set[str]:
    """The modules ``python -m modelreg ARGS`` imports (from ``-X importtime``); the command
    must succeed."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "modelreg", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    return imported_in(proc.stderr)


def imported_in(importtime_report: str) -> set[str]:
    """The module names of a ``python -X importtime`` report."""
    return {
        line.rsplit("|", 1)[-1].strip()
        for line in importtime_report.splitlines()
        if line.startswith("import time:")
    }


def git_wrapped(folder: Path, script: str, **env: str) -> dict[str, str]:
    """The environment of a process whose ``git`` is ``script`` (a shell script that can run
    the real one as ``$REAL_GIT``), written into ``folder``; ``env`` is added."""
    folder.mkdir(exist_ok=True)
    (folder / "git").write_text(script)
    (folder / "git").chmod(0o755)
    return {
        "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}",
        "REAL_GIT": shutil.which("git") or "git",
        **env,
    }


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


def tree(root: Path) -> dict[str, bytes | str]:
    """Every path under ``root`` with its bytes (files), link target (links) or ``"dir"``:
    compare two to show nothing under ``root`` changed."""
    found: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            if full.is_symlink():
                found[rel] = "-> " + os.readlink(full)
            elif full.is_file():
                found[rel] = full.read_bytes()
            else:
                found[rel] = "dir"
    return found


def write_model(repo: Path, content: bytes | str, rel: str = "models/churn.pkl") -> Path:
    """Write an artifact file inside the repository."""
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def bare_remote_and_clone(tmp: Path) -> tuple[Path, Path]:
    """A bare ``origin.git`` and a clone of it, ``work``, with one commit on main."""
    origin = tmp / "origin.git"
    git(tmp, "init", "-q", "--bare", "-b", "main", str(origin))
    work = tmp / "work"
    git(tmp, "clone", "-q", str(origin), str(work))
    git(work, "commit", "-q", "--allow-empty", "-m", "Start")
    return origin, work


def s3_client(endpoint: str) -> Any:
    """A boto3 S3 client for moto's server at ``endpoint`` (credentials ``testing``)."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )

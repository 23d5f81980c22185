"""Writers in one clone take turns; Ctrl-C while waiting leaves nothing behind."""

from __future__ import annotations

import fcntl
import os
import signal
from pathlib import Path

import pytest
from tests.helpers import git, snapshot, start_modelreg, write_model

from modelreg import Registry

pytestmark = pytest.mark.slow


def test_parallel_registrations_in_one_clone_get_distinct_versions(
    registry: Registry, repo: Path
) -> None:
    for i in range(4):
        write_model(repo, f"weights-{i}", f"models/m{i}.pkl")
    procs = [start_modelreg(repo, "register", "churn", f"models/m{i}.pkl") for i in range(4)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], results
    versions = sorted(out.strip() for out, _ in results)
    assert versions == ["v1.0.0", "v1.1.0", "v1.2.0", "v1.3.0"]
    assert [v.version for v in registry.show("churn").versions] == list(reversed(versions))
    assert git(repo, "status", "--porcelain") == ""
    commits = git(repo, "rev-list", "--count", "HEAD").strip()
    assert commits == "6"  # start, init, four registrations: none lost


def test_ctrl_c_while_waiting_for_the_lock_exits_130(registry: Registry, repo: Path) -> None:
    write_model(repo, "a")
    registry.register("churn", "models/churn.pkl")
    before = snapshot(repo)
    fd = os.open(repo / ".git" / "modelreg.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        proc = start_modelreg(repo, "promote", "churn", "v1.0.0", "production")
        # Wait for the signal the process gives when it reaches the lock, not for a time.
        assert proc.stderr is not None
        first = proc.stderr.readline()
        assert first == "modelreg: waiting for another modelreg write in this clone…\n"
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        os.close(fd)
    assert proc.returncode == 130
    assert err.strip().splitlines() == [
        "modelreg: error: interrupted; nothing was left half-written"
    ]
    assert snapshot(repo) == before

"""`get` from a DVC remote in a fresh clone: verified, corrupted, missing."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import git, modelreg, run, start_modelreg, write_model

from modelreg import IntegrityError, NotFoundError, Registry

pytestmark = pytest.mark.slow


@pytest.fixture
def clone(repo: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A registry whose bytes are only in a DVC remote folder, cloned without a cache."""
    remote = tmp_path / "dvc-remote"
    reg = Registry(repo)
    reg.init(dvc_remote=str(remote))
    write_model(repo, "file-bytes-v1")
    reg.register("churn", "models/churn.pkl")
    write_model(repo, "w", "models/bundle/weights.bin")
    write_model(repo, "{}", "models/bundle/config.json")
    reg.register("bundle", "models/bundle")
    reg.promote("churn", "v1.0.0", "production")
    proc = run(repo, "dvc", "push", "--all-tags")
    assert proc.returncode == 0, proc.stderr
    copy = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(copy))
    return copy, remote


def remote_object(remote: Path, md5: str) -> Path:
    return remote / "files" / "md5" / md5[:2] / md5[2:]


def test_get_fetches_from_the_remote_and_verifies(clone: tuple[Path, Path], tmp_path: Path) -> None:
    copy, _ = clone
    reg = Registry(copy)
    out = reg.get("churn#production", out=tmp_path / "out" / "model.pkl")
    assert out.read_text() == "file-bytes-v1"
    folder = reg.get("bundle@v1.0.0", out=tmp_path / "out" / "bundle")
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "weights.bin"]


def test_corrupted_remote_object_is_refused(clone: tuple[Path, Path], tmp_path: Path) -> None:
    copy, remote = clone
    reg = Registry(copy)
    md5 = reg.resolve("churn@v1.0.0").md5
    assert md5 is not None
    obj = remote_object(remote, md5)
    obj.chmod(0o644)
    obj.write_text("tampered bytes")
    dest = tmp_path / "out" / "model.pkl"
    with pytest.raises(IntegrityError, match=rf"churn v1.0.0 .* has md5 \w+, expected {md5}"):
        reg.get("churn@v1.0.0", out=dest)
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []


def test_missing_remote_object_says_missing(clone: tuple[Path, Path], tmp_path: Path) -> None:
    copy, remote = clone
    reg = Registry(copy)
    md5 = reg.resolve("churn@v1.0.0").md5
    assert md5 is not None
    remote_object(remote, md5).unlink()
    dest = tmp_path / "out" / "model.pkl"
    with pytest.raises(NotFoundError, match="missing from the DVC"):
        reg.get("churn@v1.0.0", out=dest)
    assert not dest.exists()


def test_large_artifacts_show_progress_on_a_terminal(repo: Path, tmp_path: Path) -> None:
    import os
    import pty

    reg = Registry(repo)
    reg.init(dvc_remote=str(tmp_path / "dvc-remote"))
    write_model(repo, os.urandom(3 << 20))
    reg.register("big", "models/churn.pkl")
    assert run(repo, "dvc", "push").returncode == 0
    copy = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(copy))
    master, slave = pty.openpty()
    proc = start_modelreg(copy, "get", "big@latest", "-o", str(tmp_path / "big.bin"), stderr=slave)
    out, _ = proc.communicate(timeout=120)
    os.close(slave)
    shown = os.read(master, 65536).decode()
    os.close(master)
    assert proc.returncode == 0
    assert out.strip().endswith("big.bin")
    assert "100.0%  3.0 / 3.0 MB" in shown
    # Not a terminal: no progress noise in logs.
    quiet = modelreg(copy, "get", "big@latest", "-o", str(tmp_path / "b2"))
    assert quiet.stderr == ""


def test_readers_of_one_url_share_its_mirror_at_once(repo: Path, tmp_path: Path) -> None:
    """Eight readers start together on a URL no one has read yet: all build or share the one
    cached mirror and answer (git's shallow.lock used to fail all but one fetch)."""
    reg = Registry(repo)
    reg.init()
    for content in ("one", "two"):
        write_model(repo, content)
        reg.register("churn", "models/churn.pkl")
    reg.promote("churn", "v1.0.0", "production")
    reg.promote("churn", "v1.1.0", "production")  # two assignments: names alone cannot say
    url = repo.as_uri()
    procs = [
        start_modelreg(tmp_path, *args, "--repo", url)
        for args in [["which", "churn", "production"], ["show", "churn"]] * 4
    ]
    results = [(p.wait(), *p.communicate()) for p in procs]
    assert [code for code, _, _ in results] == [0] * 8, [err for _, _, err in results]
    assert {out for code, out, _ in results[::2]} == {"v1.1.0\n"}

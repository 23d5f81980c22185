"""Our md5s are DVC's md5s: checked against the real `dvc add`."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import git

from modelreg.dvcstore import dvcfiles, dvcio, hashing


@pytest.mark.slow
def test_file_and_folder_hashes_match_dvc(repo: Path) -> None:
    dvcio.init(repo)
    (repo / "model.bin").write_bytes(bytes(range(256)) * 1000)
    folder = repo / "bundle"
    (folder / "sub").mkdir(parents=True)
    (folder / "weights.bin").write_bytes(b"\x00" * 5000)
    (folder / "sub" / "config.json").write_text('{"a": 1}')
    (folder / "Z.txt").write_text("upper first")
    for target in ("model.bin", "bundle"):
        dvcio.track(repo, repo / target)
        pointer = dvcfiles.parse_pointer((repo / f"{target}.dvc").read_bytes(), f"{target}.dvc")
        ours = hashing.digest(repo / target)
        assert ours.md5 == pointer.md5
        assert ours.size == pointer.size
        assert ours.nfiles == pointer.nfiles
    # DVC wrote a pointer for each artifact for us to commit, and ignored the bytes themselves.
    status = git(repo, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert [line for line in status if line.startswith("??")] == [
        "?? .gitignore",
        "?? bundle.dvc",
        "?? model.bin.dvc",
    ]
    assert sorted((repo / ".gitignore").read_text().split()) == ["/bundle", "/model.bin"]


@pytest.mark.slow
def test_fast_track_writes_what_dvc_add_writes(repo: Path, tmp_path: Path) -> None:
    """modelreg's own `add` (no DVC import) leaves the same files DVC's does."""
    from tests.helpers import run

    from modelreg.dvcstore import dvccache

    dvcio.init(repo)
    twin = tmp_path / "twin"
    twin.mkdir()
    git(twin, "init", "-q")
    dvcio.init(twin)
    for root in (repo, twin):
        (root / "models" / "bundle" / "sub").mkdir(parents=True)
        (root / "models" / "m.bin").write_bytes(b"\x01" * 3000)
        (root / "models" / "bundle" / "w.bin").write_bytes(b"w")
        (root / "models" / "bundle" / "sub" / "c.json").write_text("{}")
        (root / "models" / ".gitignore").write_text("/scratch")  # no final newline
    for rel in ("models/m.bin", "models/bundle"):
        assert dvccache.track(repo, repo / rel, rel) == hashing.digest(repo / rel)
        dvcio.track(twin, twin / rel)
        assert (repo / f"{rel}.dvc").read_text() == (twin / f"{rel}.dvc").read_text()
    assert (repo / "models/.gitignore").read_text() == (twin / "models/.gitignore").read_text()
    ours = sorted(p.relative_to(repo) for p in (repo / ".dvc/cache").rglob("*") if p.is_file())
    theirs = sorted(p.relative_to(twin) for p in (twin / ".dvc/cache").rglob("*") if p.is_file())
    assert ours == theirs
    for cached in ours:
        assert (repo / cached).read_bytes() == (twin / cached).read_bytes()
        assert (repo / cached).stat().st_mode & 0o777 == 0o444
    status = run(repo, "dvc", "status", "--json")
    assert status.returncode == 0 and status.stdout.strip() == "{}", status.stdout
    assert dvccache.default_layout(repo)
    (repo / ".dvc" / "config.local").write_text("[cache]\n    type = hardlink\n")
    assert not dvccache.default_layout(repo)

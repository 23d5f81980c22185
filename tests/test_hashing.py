"""Our md5s are DVC's md5s: checked against the real `dvc add`."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import git

from modelreg import dvcfiles, dvcio, hashing


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
    assert git(repo, "status", "--porcelain")  # DVC wrote pointer files for us to commit

"""A registry someone else wrote: hostile records, pointers, listings, links and names.

Each test here failed on bcb504f (before the untrusted-input boundary): it deleted data,
wrote outside its destination, hung, or crashed with an unexpected exception.  The shape of
every check is the same: the bad value is refused with one line, and nothing outside the
destination (nothing at all, for a refused write) changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from tests.helpers import git, modelreg, run, snapshot, tree, write_model
from tests.hostile import plant, plant_listing, record, tag_with_record

from modelreg import ConflictError, InvalidInputError, Registry
from modelreg.dvcstore.dvccache import object_path
from modelreg.errors import IntegrityError


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    """Where a ``get`` may write; tests assert nothing changes beside it."""
    box = tmp_path / "box" / "deep"
    box.mkdir(parents=True)
    (tmp_path / "outside.txt").write_text("precious")
    return box


# -- 1. get never destroys what it did not create -----------------------------------------


def test_get_into_an_existing_folder_writes_inside_it(registry: Registry, repo: Path) -> None:
    write_model(repo, "v1")
    registry.register("churn", "models/churn.pkl")
    deploy = repo.parent / "deploy"
    deploy.mkdir()
    (deploy / "keep.txt").write_text("mine")
    out = registry.get("churn", out=deploy)
    assert out == deploy / "churn.pkl" and out.read_text() == "v1"
    assert (deploy / "keep.txt").read_text() == "mine"
    # A path ending in '/' means a folder, created when missing.
    assert registry.get("churn", out=f"{repo.parent}/fresh/").read_text() == "v1"
    assert (repo.parent / "fresh" / "churn.pkl").is_file()


def test_get_dash_o_dot_at_the_repository_root_keeps_the_repository(
    registry: Registry, repo: Path
) -> None:
    write_model(repo, "v1")
    registry.register("churn", "models/churn.pkl")
    proc = modelreg(repo, "get", "churn", "-o", ".")
    assert proc.returncode == 0, proc.stderr
    assert (repo / "churn.pkl").read_text() == "v1"
    assert (repo / ".git").is_dir() and (repo / "registry.yaml").is_file()
    assert git(repo, "rev-parse", "HEAD")
    # Again without --force: refused, nothing changed.
    again = modelreg(repo, "get", "churn", "-o", ".")
    assert again.returncode == 1 and "already exists: pass --force" in again.stderr
    # --force with a file artifact replaces the file inside '.', never '.' itself.
    forced = modelreg(repo, "get", "churn", "-o", ".", "--force")
    assert forced.returncode == 0, forced.stderr
    assert (repo / ".git").is_dir()


def test_get_refuses_a_symlinked_destination_and_leaves_its_target(
    registry: Registry, repo: Path, tmp_path: Path
) -> None:
    write_model(repo, "v1")
    registry.register("churn", "models/churn.pkl")
    target = tmp_path / "target"
    target.mkdir()
    (target / "data.txt").write_text("keep me")
    link = tmp_path / "link"
    link.symlink_to(target)
    for args in (["-o", str(link)], ["-o", str(link), "--force"]):
        proc = modelreg(repo, "get", "churn", *args)
        assert proc.returncode == 1
        assert "symbolic link" in proc.stderr and len(proc.stderr.splitlines()) == 1
    assert tree(target) == {"data.txt": b"keep me"}
    file_link = tmp_path / "file-link"
    file_link.symlink_to(tmp_path / "outside.txt")
    (tmp_path / "outside.txt").write_text("precious")
    proc = modelreg(repo, "get", "churn", "-o", str(file_link), "--force")
    assert proc.returncode == 1
    assert (tmp_path / "outside.txt").read_text() == "precious"


def test_force_replaces_only_an_artifact_of_the_same_kind(
    registry: Registry, repo: Path, tmp_path: Path
) -> None:
    write_model(repo, "w1", "models/bundle/weights.bin")
    registry.register("bundle", "models/bundle")
    write_model(repo, "v1")
    registry.register("churn", "models/churn.pkl")
    dest = tmp_path / "serve"
    assert registry.get("bundle", out=dest) == dest
    # Redeploying a folder artifact to the same path replaces it atomically with --force.
    (dest / "stale.txt").write_text("old file")
    assert registry.get("bundle", out=dest, force=True) == dest
    assert tree(dest) == {"weights.bin": b"w1"}
    # A file artifact never replaces a folder, nor a folder artifact a file.
    (tmp_path / "outside.txt").write_text("precious")
    with pytest.raises(ConflictError, match="is a file and the artifact is a folder"):
        registry.get("bundle", out=tmp_path / "outside.txt", force=True)
    assert (tmp_path / "outside.txt").read_text() == "precious"
    assert registry.get("churn", out=dest, force=True) == dest / "churn.pkl"
    # A repository, or the folder one stands in, is never replaced, even with --force: the
    # artifact goes inside it.
    assert registry.get("bundle", out=repo, force=True) == repo / "bundle"
    assert (repo / ".git").is_dir() and (repo / "registry.yaml").is_file()
    os.chdir(dest)
    assert registry.get("bundle", out=dest, force=True) == dest / "bundle"
    assert (dest / "weights.bin").read_text() == "w1"


@pytest.fixture
def tmp_outside(tmp_path: Path) -> Path:
    (tmp_path / "outside.txt").write_text("precious")
    return tmp_path


def test_get_below_an_existing_file_is_one_line(
    registry: Registry, repo: Path, tmp_outside: Path
) -> None:
    write_model(repo, "v1")
    registry.register("churn", "models/churn.pkl")
    proc = modelreg(repo, "get", "churn", "-o", str(tmp_outside / "outside.txt" / "m.pkl"))
    assert proc.returncode == 1
    assert "is a file, not a folder" in proc.stderr and "unexpected" not in proc.stderr
    slash = modelreg(repo, "get", "churn", "-o", str(tmp_outside / "outside.txt") + "/")
    assert slash.returncode == 1 and "not a folder" in slash.stderr
    assert (tmp_outside / "outside.txt").read_text() == "precious"


def test_a_killed_get_leaves_a_temporary_the_next_get_removes(
    registry: Registry, repo: Path, tmp_path: Path
) -> None:
    write_model(repo, "v1")
    registry.register("churn", "models/churn.pkl")
    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid that no longer runs
    leftover = tmp_path / f".m.pkl.modelreg-tmp-{dead.pid}-abc"
    leftover.mkdir()
    (leftover / "artifact").write_text("half")
    alive = tmp_path / f".m.pkl.modelreg-tmp-{os.getpid()}-xyz"
    alive.mkdir()
    other = tmp_path / ".other.modelreg-tmp-1-abc"
    other.mkdir()
    registry.get("churn", out=tmp_path / "m.pkl")
    assert not leftover.exists()
    assert alive.exists() and other.exists()  # a live run's, and another destination's


# -- 2, 9. hostile registration records ----------------------------------------------------


@pytest.mark.parametrize("path", [".", "..", "../..", "/etc", "models/../..", ""])
def test_a_record_path_that_names_a_folder_never_replaces_it(
    registry: Registry, repo: Path, path: str
) -> None:
    data = b"attacker bytes"
    md5 = plant(repo, data)
    tag_with_record(repo, "evil@v1.0.0", record(path, md5, len(data)))
    before = tree(repo.parent)
    proc = modelreg(repo, "get", "evil")
    assert proc.returncode == 1 and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert tree(repo.parent) == before


@pytest.mark.parametrize("md5", ["../../../../../etc/passwd", "/etc/hostname", "xyz", "A" * 32])
def test_a_record_md5_that_is_not_an_md5_is_never_a_path(
    registry: Registry, repo: Path, md5: str, tmp_path: Path
) -> None:
    tag_with_record(repo, "evil@v1.0.0", record("models/evil.pkl", md5))
    before = tree(tmp_path)
    proc = modelreg(repo, "get", "evil", "-o", str(tmp_path / "out.pkl"))
    assert proc.returncode == 1
    assert "unexpected" not in proc.stderr
    # The old code read the named file and printed its md5 in the error.
    passwd_md5 = hashlib.md5(Path("/etc/passwd").read_bytes()).hexdigest()
    assert passwd_md5 not in proc.stderr
    assert tree(tmp_path) == before


def test_a_pointer_that_climbs_out_is_refused(registry: Registry, repo: Path) -> None:
    """A version registered by another tool: its path comes from dvc.yaml and PATH.dvc."""
    (repo / "dvc.yaml").write_text("artifacts:\n  evil:\n    path: models/evil.pkl\n")
    (repo / "models").mkdir(exist_ok=True)
    md5 = plant(repo, b"x")
    (repo / "models" / "evil.pkl.dvc").write_text(
        f"outs:\n- md5: {md5}\n  size: 1\n  hash: md5\n  path: ../../../escape.pkl\n"
    )
    git(repo, "add", "dvc.yaml", "models/evil.pkl.dvc")
    git(repo, "commit", "-qm", "evil pointer")
    git(repo, "tag", "-a", "evil@v1.0.0", "-m", "gto-style registration")
    before = tree(repo.parent.parent)
    with pytest.raises(IntegrityError, match="not a plain relative path"):
        registry.get("evil")
    assert tree(repo.parent.parent) == before


# -- 4. .dir listings are authenticated and validated before use ---------------------------


def _folder_version(repo: Path, oid: str) -> None:
    tag_with_record(repo, "bundle@v1.0.0", record("models/bundle", oid))


@pytest.mark.parametrize(
    "entries",
    [
        [{"md5": "M", "relpath": "../escape.txt"}],
        [{"md5": "M", "relpath": "ABS"}],
        [{"md5": "M", "relpath": "a/../../escape.txt"}],
        [{"md5": "M", "relpath": "ok.txt"}, {"md5": "M", "relpath": "ok.txt/inner"}],
        [{"md5": "M", "relpath": "ok.txt"}, {"md5": "M", "relpath": "ok.txt"}],
        [{"relpath": "no-md5.txt"}],
        [{"md5": "../../x", "relpath": "a.txt"}],
        {"not": "a list"},
        ["just a string"],
    ],
)
def test_hostile_listings_in_the_cache_write_nothing(
    registry: Registry, repo: Path, sandbox: Path, entries: object
) -> None:
    md5 = plant(repo, b"escaped bytes")
    absolute = str(sandbox.parent.parent / "escape-absolute.txt")
    if isinstance(entries, list):
        entries = [
            {k: {"M": md5, "ABS": absolute}.get(v, v) for k, v in e.items()}
            if isinstance(e, dict)
            else e
            for e in entries
        ]
    _folder_version(repo, plant_listing(repo, entries))
    root = sandbox.parent.parent
    before = tree(root)
    proc = modelreg(repo, "get", "bundle", "-o", str(sandbox / "out"))
    assert proc.returncode == 1, proc.stdout
    assert len(proc.stderr.splitlines()) == 1 and "unexpected" not in proc.stderr
    assert tree(root) == before
    assert not (repo.parent / "escape.txt").exists() and not Path(absolute).exists()


def test_a_listing_that_does_not_match_its_md5_is_refused_before_use(
    registry: Registry, repo: Path, sandbox: Path
) -> None:
    md5 = plant(repo, b"fine bytes")
    oid = plant_listing(repo, [{"md5": md5, "relpath": "a.txt"}], honest=False)
    _folder_version(repo, oid)
    with pytest.raises(IntegrityError, match="does not match its md5"):
        registry.get("bundle", out=sandbox / "out")
    assert list(sandbox.iterdir()) == []


def test_a_listing_that_is_not_json_is_one_line(
    registry: Registry, repo: Path, sandbox: Path
) -> None:
    data = b"\xff\xfe not json"
    md5 = hashlib.md5(data).hexdigest()
    path = object_path(repo, md5 + ".dir")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    _folder_version(repo, md5 + ".dir")
    proc = modelreg(repo, "get", "bundle", "-o", str(sandbox / "out"))
    assert proc.returncode == 1 and "is not JSON" in proc.stderr
    assert list(sandbox.iterdir()) == []


@pytest.mark.slow
def test_hostile_listing_in_the_dvc_remote_writes_nothing(
    repo: Path, tmp_path: Path, sandbox: Path
) -> None:
    """The same boundary for a listing fetched from the DVC remote (a fresh clone)."""
    store = tmp_path / "store"
    reg = Registry(repo)
    reg.init(dvc_remote=str(store))
    data = b"escaped bytes"
    md5 = hashlib.md5(data).hexdigest()
    listing = json.dumps([{"md5": md5, "relpath": "../../escape.txt"}], sort_keys=True).encode()
    oid = hashlib.md5(listing).hexdigest() + ".dir"
    for name, content in ((md5, data), (oid, listing)):
        obj = store / "files" / "md5" / name[:2] / name[2:]
        obj.parent.mkdir(parents=True, exist_ok=True)
        obj.write_bytes(content)
    _folder_version(repo, oid)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    git(clone, "fetch", "-q", "--tags")
    before = tree(tmp_path)
    with pytest.raises(IntegrityError, match="not a plain relative path"):
        Registry(clone).get("bundle", out=sandbox / "out")
    assert tree(tmp_path) == before


# -- 3. register hashes the bytes it stores, and repairs a corrupt object ------------------


def test_a_file_that_changes_during_register_gets_the_md5_of_the_cached_bytes(
    registry: Registry, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is rewritten each time it is opened (as a training job still writing it
    would): the md5 recorded must be that of the bytes in the cache, whatever was read."""
    artifact = write_model(repo, "version-0")
    opened = [0]
    real_open, real_os_open = open, os.open

    def rewrite() -> None:
        opened[0] += 1
        with real_open(artifact, "r+b") as f:  # in place, same inode: readers see it
            f.write(f"version-{opened[0]}".encode())

    def patched_open(file: object, *args: object, **kwargs: object) -> object:
        handle = real_open(file, *args, **kwargs)  # type: ignore[call-overload]
        if isinstance(file, str | Path) and Path(file) == artifact:
            rewrite()
        return handle

    def patched_os_open(path: object, *args: object, **kwargs: object) -> int:
        fd = real_os_open(path, *args, **kwargs)  # type: ignore[arg-type]
        if isinstance(path, str | Path) and Path(path) == artifact:
            rewrite()
        return fd

    monkeypatch.setattr("builtins.open", patched_open)
    monkeypatch.setattr(os, "open", patched_os_open)
    mv = registry.register("churn", "models/churn.pkl")
    monkeypatch.undo()
    assert mv.md5 is not None
    stored = object_path(repo, mv.md5).read_bytes()
    assert hashlib.md5(stored).hexdigest() == mv.md5
    assert registry.get("churn", out=repo.parent / "out.pkl").read_bytes() == stored


def test_a_corrupt_cache_object_is_replaced_not_kept(registry: Registry, repo: Path) -> None:
    data = b"good model bytes"
    md5 = hashlib.md5(data).hexdigest()
    bad = object_path(repo, md5)
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_bytes(b"rotten")
    bad.chmod(0o444)
    write_model(repo, data)
    registry.register("churn", "models/churn.pkl")
    assert bad.read_bytes() == data
    assert registry.get("churn", out=repo.parent / "out.pkl").read_bytes() == data


# -- 7, 8, 11. what register reads and writes in a cloned registry --------------------------


@pytest.mark.parametrize("link", ["models/.gitignore", "models/churn.pkl.dvc", "dvc.yaml"])
def test_committed_symlinks_are_never_written_through(
    registry: Registry, repo: Path, tmp_path: Path, link: str
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    write_model(repo, "v1")
    (repo / link).symlink_to(victim)
    git(repo, "add", "-f", link)
    git(repo, "commit", "-qm", "a colleague's symlink")
    before = snapshot(repo)
    proc = modelreg(repo, "register", "churn", "models/churn.pkl")
    assert proc.returncode == 1 and "symbolic link" in proc.stderr, proc.stderr
    assert victim.read_text() == "precious"
    assert snapshot(repo) == before


def test_a_folder_with_a_link_outside_it_is_refused(
    registry: Registry, repo: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.key"
    secret.write_text("do not publish")
    write_model(repo, "w", "models/bundle/weights.bin")
    (repo / "models/bundle/key").symlink_to(secret)
    before = snapshot(repo)
    with pytest.raises(InvalidInputError, match=r"models/bundle/key'? is a symbolic link to"):
        registry.register("bundle", "models/bundle")
    assert snapshot(repo) == before
    cached = [p.read_bytes() for p in (repo / ".dvc" / "cache").rglob("*") if p.is_file()]
    assert b"do not publish" not in cached


def test_a_symlinked_subfolder_inside_the_artifact_is_included(
    registry: Registry, repo: Path, tmp_path: Path
) -> None:
    write_model(repo, "w", "models/bundle/real/weights.bin")
    (repo / "models/bundle/alias").symlink_to("real")
    mv = registry.register("bundle", "models/bundle")
    out = registry.get(f"bundle@{mv.version}", out=tmp_path / "b")
    assert tree(out) == {
        "alias": "dir",
        "alias/weights.bin": b"w",
        "real": "dir",
        "real/weights.bin": b"w",
    }
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "x.bin").write_text("x")
    (repo / "models/bundle/out").symlink_to(outside)
    with pytest.raises(InvalidInputError, match="outside the artifact folder"):
        registry.register("bundle", "models/bundle")


@pytest.mark.parametrize("inside", [False, True])
def test_a_fifo_is_refused_without_blocking(registry: Registry, repo: Path, inside: bool) -> None:
    (repo / "models/pipe").mkdir(parents=True)
    write_model(repo, "w", "models/pipe/weights.bin")
    fifo = repo / "models/pipe/fifo" if inside else repo / "models/fifo"
    os.mkfifo(fifo)
    target = "models/pipe" if inside else "models/fifo"
    proc = modelreg(repo, "register", "m", target, timeout=60)
    assert proc.returncode == 1 and "not a regular file" in proc.stderr, proc.stderr


# -- 12. names YAML would read as something else ---------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("filename", ["123", "yes", "null", "model #3.pkl", "it's.pkl"])
def test_artifact_names_yaml_reads_specially_round_trip(
    registry: Registry, repo: Path, filename: str
) -> None:
    write_model(repo, "bytes", f"models/{filename}")
    mv = registry.register("odd", f"models/{filename}")
    pointer = yaml.safe_load((repo / f"models/{filename}.dvc").read_text())
    assert pointer["outs"][0]["path"] == filename
    assert mv.path == f"models/{filename}"
    status = run(repo, "dvc", "status", "--json")
    assert status.returncode == 0 and json.loads(status.stdout) == {}, status.stdout
    assert git(repo, "status", "--porcelain") == ""  # the ignore entry matches the file
    assert registry.get("odd", out=repo.parent / "got").read_text() == "bytes"


# -- 13. names git refuses are refused before anything is written -------------------------


@pytest.mark.parametrize("name", ["a//b", "n" * 300, "churn\n", "x/" + "y" * 240])
def test_names_git_refuses_change_nothing(registry: Registry, repo: Path, name: str) -> None:
    write_model(repo, "v1")
    before = snapshot(repo)
    cache = repo / ".dvc" / "cache"
    with pytest.raises(InvalidInputError):
        registry.register(name, "models/churn.pkl")
    assert snapshot(repo) == before
    assert not cache.exists() or not any(p.is_file() for p in cache.rglob("*"))


def test_a_version_git_refuses_changes_nothing(registry: Registry, repo: Path) -> None:
    write_model(repo, "v1")
    before = snapshot(repo)
    with pytest.raises(InvalidInputError, match="cannot create tag"):
        registry.register("churn", "models/churn.pkl", version="v1.0.0-rc.lock")
    assert snapshot(repo) == before


# -- check --remote --verify --------------------------------------------------------------


@pytest.mark.slow
def test_check_verify_rehashes_remote_objects(repo: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    reg = Registry(repo)
    reg.init(dvc_remote=str(store))
    write_model(repo, "good bytes")
    mv = reg.register("churn", "models/churn.pkl")
    write_model(repo, "w", "models/bundle/w.bin")
    reg.register("bundle", "models/bundle")
    assert run(repo, "dvc", "push", "-q").returncode == 0
    assert modelreg(repo, "check", "--verify-remote", "--verify").returncode == 0
    assert mv.md5 is not None
    obj = store / "files" / "md5" / mv.md5[:2] / mv.md5[2:]
    obj.chmod(0o644)
    obj.write_text("rotten bytes")
    assert modelreg(repo, "check", "--verify-remote").returncode == 0  # presence only
    proc = modelreg(repo, "check", "--verify-remote", "--verify")
    assert proc.returncode == 1
    assert f"artifact {mv.md5} is corrupted in the DVC remote" in proc.stdout


def test_an_alias_bomb_pointer_is_refused_quickly(registry: Registry, repo: Path) -> None:
    """A colleague's ``.dvc`` pointer whose md5 is a YAML alias bomb: refused in one line,
    fast (printing the value used to take exponential time)."""
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    (repo / "dvc.yaml").write_text("artifacts:\n  evil:\n    path: models/evil.pkl\n")
    (repo / "models").mkdir(exist_ok=True)
    (repo / "models" / "evil.pkl.dvc").write_text(
        bomb + "outs:\n- md5: *i\n  size: 1\n  hash: md5\n  path: evil.pkl\n"
    )
    git(repo, "add", "dvc.yaml", "models/evil.pkl.dvc")
    git(repo, "commit", "-qm", "evil pointer")
    git(repo, "tag", "-a", "evil@v1.0.0", "-m", "gto-style registration")
    proc = modelreg(repo, "get", "evil", timeout=60)
    assert proc.returncode == 1 and "not a valid DVC pointer" in proc.stderr, proc.stderr

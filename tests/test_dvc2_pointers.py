"""DVC 2-era pointers: an ``md5:`` without ``hash: md5`` means DVC's legacy md5-dos2unix, and
the bytes live in the legacy layout (``<remote>/xx/yyyy…``, ``.dvc/cache/xx/yyyy…``).

The repositories are built as DVC 2 left them, without DVC 2: pointers written by hand, objects
put in a local DVC remote folder (or an S3 bucket) in the legacy layout, versions tagged as GTO
tags them.  Real DVC 3 (``dvc pull``, ``dvc status``, ``dvc artifacts get``, dvc_data's hash)
is the judge that the fixtures mean what DVC means.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.helpers import VENV_BIN, git, modelreg, run

import modelreg as api
from modelreg import DvcError, IntegrityError, Registry
from modelreg.dvcstore import dvcfiles, dvcio, hashing

BLOCK = 1 << 20
TEXT_BYTES = bytes(range(32, 127)) + b"\n\r\t\f\b"
DVC = str(VENV_BIN / "dvc")


# -- DVC 2's hash, as DVC 2's source computes it -------------------------------------------


def _dvc2_text(block: bytes) -> bool:
    if not block:
        return True
    if b"\x00" in block:
        return False
    return float(len(block.translate(None, TEXT_BYTES))) / len(block) <= 0.30


def dvc2_md5(data: bytes) -> str:
    """What DVC 2 recorded for a file: one text-or-binary decision from its first 512 bytes,
    then every 1 MiB block hashed with CRLF turned into LF when text."""
    text = _dvc2_text(data[:512])
    h = hashlib.md5()
    for start in range(0, len(data), BLOCK):
        block = data[start : start + BLOCK]
        h.update(block.replace(b"\r\n", b"\n") if text else block)
    return h.hexdigest()


def dvc3_legacy_md5(data: bytes) -> str:
    """DVC 3's own md5-dos2unix (dvc_data), the reference for modelreg's."""
    from dvc_data.hashfile.hash import fobj_md5

    value: str = fobj_md5(io.BytesIO(data), name="md5-dos2unix")
    return value


# -- a DVC 2 repository, built by hand -------------------------------------------------------


@dataclass
class Dvc2Repo:
    """A Git repository with DVC set up and a local DVC remote folder, as DVC 2 left it."""

    root: Path
    remote: Path
    artifacts: dict[str, dict[str, str]] = field(default_factory=dict)

    def put(self, oid: str, data: bytes) -> Path:
        """Store an object in the remote's legacy layout."""
        path = self.remote / oid[:2] / oid[2:]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def register(self, name: str, rel: str, lines: list[str]) -> None:
        """Write the pointer (no ``hash:`` line), declare the artifact, commit, tag as GTO."""
        pointer = self.root / f"{rel}.dvc"
        pointer.parent.mkdir(parents=True, exist_ok=True)
        leaf = rel.rsplit("/", 1)[-1]
        pointer.write_text("outs:\n- " + "\n  ".join([*lines, f"path: {leaf}"]) + "\n")
        (pointer.parent / ".gitignore").write_text(f"/{leaf}\n")
        self.artifacts[name] = {"path": rel, "type": "model"}
        (self.root / "dvc.yaml").write_text(yaml.safe_dump({"artifacts": self.artifacts}))
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "-m", f"Add {name}")
        message = f"Registering artifact {name} version v1.0.0"
        git(self.root, "tag", "-a", f"{name}@v1.0.0", "-m", message)

    def add_file(self, name: str, rel: str, data: bytes) -> str:
        md5 = dvc2_md5(data)
        self.put(md5, data)
        self.register(name, rel, [f"md5: {md5}", f"size: {len(data)}"])
        return md5

    def add_folder(self, name: str, rel: str, files: dict[str, bytes]) -> str:
        listing = [{"md5": dvc2_md5(files[p]), "relpath": p} for p in sorted(files)]
        for entry in listing:
            self.put(entry["md5"], files[entry["relpath"]])
        data = json.dumps(listing, sort_keys=True).encode()
        oid = hashlib.md5(data).hexdigest() + ".dir"
        self.put(oid, data)
        size = sum(len(b) for b in files.values())
        self.register(name, rel, [f"md5: {oid}", f"size: {size}", f"nfiles: {len(files)}"])
        return oid


@pytest.fixture
def dvc2(tmp_path: Path) -> Dvc2Repo:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "commit", "-q", "--allow-empty", "-m", "Start")
    dvcio.init(root)
    remote = tmp_path / "dvc-remote"
    remote.mkdir()
    dvcio.set_default_remote(root, str(remote))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "DVC")
    return Dvc2Repo(root, remote)


CRLF_TEXT = b"id,score\r\n1,0.5\r\n2,0.25\r\nlast line without newline"
BINARY_CRLF = b"\x00\x01model\r\nweights\r\n\xff\xfe" * 40
FOLDER = {
    "config.json": b'{\r\n  "layers": 3\r\n}\r\n',
    "weights.bin": b"\x00\r\n\x89PNG\r\n\x1a\n" * 100,
    "sub/notes.txt": b"trained on\r\nmonday\r\n",
    "sub/lf.txt": b"plain\nunix\n",
}


def test_fixtures_are_what_dvc_means(dvc2: Dvc2Repo, tmp_path: Path) -> None:
    """The hand-built repository is a DVC 2 repository to DVC 3: it pulls it, finds every
    workspace file unchanged against the pointers (it re-hashes them with md5-dos2unix), and
    `dvc artifacts get` fetches the GTO-tagged versions."""
    text_md5 = dvc2.add_file("table", "models/table.csv", CRLF_TEXT)
    binary_md5 = dvc2.add_file("blob", "models/blob.bin", BINARY_CRLF)
    dvc2.add_folder("bundle", "models/bundle", FOLDER)
    assert text_md5 != hashlib.md5(CRLF_TEXT).hexdigest()  # the case that matters
    assert binary_md5 == hashlib.md5(BINARY_CRLF).hexdigest()
    for data in (CRLF_TEXT, BINARY_CRLF, *FOLDER.values()):
        assert dvc3_legacy_md5(data) == dvc2_md5(data)

    root = dvc2.root
    pulled = run(root, DVC, "pull")
    assert pulled.returncode == 0, pulled.stderr
    status = run(root, DVC, "status")
    assert status.returncode == 0 and "up to date" in status.stdout, status.stdout
    assert (root / "models/table.csv").read_bytes() == CRLF_TEXT
    for rel, data in FOLDER.items():
        assert (root / "models/bundle" / rel).read_bytes() == data
    # DVC 3 keeps them in the legacy layout of its cache too.
    assert (root / ".dvc/cache" / text_md5[:2] / text_md5[2:]).read_bytes() == CRLF_TEXT

    out = tmp_path / "by-dvc.csv"
    got = run(
        tmp_path, DVC, "artifacts", "get", str(root), "table", "--rev", "v1.0.0", "-o", str(out)
    )
    assert got.returncode == 0, got.stderr
    assert out.read_bytes() == CRLF_TEXT


def test_get_returns_the_stored_bytes(dvc2: Dvc2Repo, tmp_path: Path) -> None:
    dvc2.add_file("table", "models/table.csv", CRLF_TEXT)
    dvc2.add_file("blob", "models/blob.bin", BINARY_CRLF)
    dvc2.add_folder("bundle", "models/bundle", FOLDER)
    root = dvc2.root
    for name in ("table", "blob"):
        proc = modelreg(root, "get", f"{name}@v1.0.0", "-o", str(tmp_path / "out") + "/")
        assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out/table.csv").read_bytes() == CRLF_TEXT  # CRLF kept, not normalised
    assert (tmp_path / "out/blob.bin").read_bytes() == BINARY_CRLF
    proc = modelreg(root, "get", "bundle@v1.0.0", "-o", str(tmp_path / "bundle"))
    assert proc.returncode == 0, proc.stderr
    got = {
        p.relative_to(tmp_path / "bundle").as_posix(): p.read_bytes()
        for p in (tmp_path / "bundle").rglob("*")
        if p.is_file()
    }
    assert got == FOLDER

    mv = Registry(root).resolve("table@v1.0.0")
    assert mv.hash_name == "md5-dos2unix"
    # By URL, without a clone: the pointer comes from the mirror, the bytes from the remote.
    bare = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(root), str(bare))
    by_url = Registry(f"file://{bare}").get("table@v1.0.0", out=tmp_path / "by-url.csv")
    assert by_url.read_bytes() == CRLF_TEXT
    shown = modelreg(root, "show", "table@v1.0.0")
    assert f"md5:        {mv.md5} (md5-dos2unix, a DVC 2 pointer)" in shown.stdout


def test_get_from_the_legacy_cache(dvc2: Dvc2Repo, tmp_path: Path) -> None:
    """After `dvc pull` the objects sit in `.dvc/cache/xx/…`: get needs no remote."""
    dvc2.add_file("table", "models/table.csv", CRLF_TEXT)
    dvc2.add_folder("bundle", "models/bundle", FOLDER)
    assert run(dvc2.root, DVC, "pull").returncode == 0
    for path in sorted(dvc2.remote.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    reg = Registry(dvc2.root)
    assert reg.get("table@v1.0.0", out=tmp_path / "t.csv").read_bytes() == CRLF_TEXT
    assert (reg.get("bundle@v1.0.0", out=tmp_path / "b") / "config.json").read_bytes() == (
        FOLDER["config.json"]
    )


def test_load_model_returns_the_verified_legacy_bytes(dvc2: Dvc2Repo) -> None:
    dvc2.add_file("table", "models/table.csv", CRLF_TEXT)
    for _ in range(2):  # the second load replaces its cached copy with a verified one
        path = api.load_model("table@v1.0.0", repo=dvc2.root)
        assert path.read_bytes() == CRLF_TEXT
    assert path.parent.name.endswith("-dos2unix")


@pytest.mark.parametrize("kind", ["file", "folder-entry", "cache"])
def test_a_corrupted_legacy_object_is_refused(dvc2: Dvc2Repo, tmp_path: Path, kind: str) -> None:
    if kind == "folder-entry":
        dvc2.add_folder("m", "models/m", FOLDER)
        oid = dvc2_md5(FOLDER["config.json"])
    else:
        oid = dvc2.add_file("m", "models/m.csv", CRLF_TEXT)
    if kind == "cache":
        assert run(dvc2.root, DVC, "pull").returncode == 0
        bad = dvc2.root / ".dvc/cache" / oid[:2] / oid[2:]
        bad.chmod(0o644)
    else:
        bad = dvc2.remote / oid[:2] / oid[2:]
    # The LF version of the same text has DVC 3's md5 equal to the legacy md5: still refused.
    bad.write_bytes(CRLF_TEXT.replace(b"\r\n", b"\n") + b"tampered")
    dest = tmp_path / "out"
    proc = modelreg(dvc2.root, "get", "m@v1.0.0", "-o", str(dest))
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "corrupted" in lines[0] and f"expected {oid}" in lines[0], lines
    assert not dest.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if "modelreg-tmp" in p.name) == []


def test_the_lf_text_is_not_taken_for_the_crlf_text(dvc2: Dvc2Repo, tmp_path: Path) -> None:
    """md5-dos2unix is not the plain md5: bytes whose plain md5 is the legacy md5 (the same
    text with LF endings) verify under DVC 3's rule only when they are what DVC 2 hashed."""
    oid = dvc2.add_file("m", "models/m.csv", CRLF_TEXT)
    lf = CRLF_TEXT.replace(b"\r\n", b"\n")
    assert hashlib.md5(lf).hexdigest() == oid
    dvc2.put(oid, lf)  # also text: its md5-dos2unix is the same, so DVC would accept it
    assert Registry(dvc2.root).get("m@v1.0.0", out=tmp_path / "m.csv").read_bytes() == lf
    dvc2.put(oid, b"\x00" + lf[1:])  # binary now: hashed plainly, and that is another md5
    with pytest.raises(IntegrityError, match=f"expected {oid}"):
        Registry(dvc2.root).get("m@v1.0.0", out=tmp_path / "n.csv")


def test_check_verifies_legacy_objects_in_the_remote(dvc2: Dvc2Repo) -> None:
    text_md5 = dvc2.add_file("table", "models/table.csv", CRLF_TEXT)
    dvc2.add_folder("bundle", "models/bundle", FOLDER)
    root = dvc2.root
    assert modelreg(root, "init").returncode == 0  # indexes the GTO tags, without md5s
    proc = modelreg(root, "check", "--remote", "--verify")
    assert proc.returncode == 0, proc.stdout + proc.stderr

    dvc2.put(text_md5, CRLF_TEXT + b"!")
    proc = modelreg(root, "check", "--remote", "--verify")
    assert proc.returncode == 1
    assert f"table v1.0.0: remote: artifact {text_md5} is corrupted in the DVC remote" in (
        proc.stdout + proc.stderr
    )
    entry = dvc2_md5(FOLDER["sub/notes.txt"])
    (dvc2.remote / entry[:2] / entry[2:]).unlink()
    proc = modelreg(root, "check", "--remote")
    assert "bundle v1.0.0: remote: artifact" in proc.stdout + proc.stderr
    assert "has files missing from the DVC remote" in proc.stdout + proc.stderr


def test_a_large_file_dvc2_recorded_is_accepted(dvc2: Dvc2Repo, tmp_path: Path) -> None:
    """Over 1 MiB, DVC 3 decides text or binary per block and DVC 2 decided once for the
    file: for a file whose blocks differ the two md5s differ.  The one DVC 2 recorded (and
    DVC 3's own) both verify; anything else does not."""
    data = b"header,line\r\n" * (BLOCK // 13 + 1)
    data = data[:BLOCK] + (b"\x00\r\n" * 1000) + b"tail\r\n"
    assert dvc2_md5(data) != dvc3_legacy_md5(data)
    oid = dvc2.add_file("big", "models/big.csv", data)
    assert Registry(dvc2.root).get("big@v1.0.0", out=tmp_path / "b.csv").read_bytes() == data
    h = hashing.Dos2UnixMd5()
    h.update(data)
    assert h.matches(oid) and h.matches(dvc3_legacy_md5(data))
    assert h.hexdigest() == dvc3_legacy_md5(data)
    assert not h.matches(hashlib.md5(data).hexdigest())


def test_registering_writes_dvc3_pointers(dvc2: Dvc2Repo) -> None:
    """A registration over a DVC 2 pointer leaves `hash: md5` and the plain md5, whether
    modelreg writes the pointer itself or (with a custom cache setting) DVC's `add` does,
    which would keep the DVC 2 pointer of unchanged bytes."""
    root = dvc2.root
    dvc2.add_file("table", "models/table.csv", CRLF_TEXT)
    dvc2.add_file("other", "models/other.csv", CRLF_TEXT + b"\r\nmore")
    assert modelreg(root, "init").returncode == 0
    (root / "models/table.csv").write_bytes(CRLF_TEXT)
    (root / "models/other.csv").write_bytes(CRLF_TEXT + b"\r\nmore")
    proc = modelreg(root, "register", "table", "models/table.csv")
    assert proc.returncode == 0, proc.stderr
    assert run(root, DVC, "config", "cache.type", "copy").returncode == 0
    git(root, "commit", "-q", "-am", "cache type")
    proc = modelreg(root, "register", "other", "models/other.csv")
    assert proc.returncode == 0, proc.stderr
    for rel, data in (
        ("models/table.csv", CRLF_TEXT),
        ("models/other.csv", CRLF_TEXT + b"\r\nmore"),
    ):
        pointer = dvcfiles.parse_pointer((root / f"{rel}.dvc").read_bytes(), f"{rel}.dvc")
        assert (pointer.hash_name, pointer.md5) == ("md5", hashlib.md5(data).hexdigest())
        assert "hash: md5" in (root / f"{rel}.dvc").read_text()
    for name in ("table", "other"):
        mv = Registry(root).resolve(f"{name}@v1.1.0")
        assert mv.hash_name == "md5"
    # Same bytes, md5s computed two ways: compare cannot tell, and says so.
    comparison = Registry(root).compare("table", "v1.0.0", "v1.1.0")
    assert comparison.artifact_changed is None
    proc = modelreg(root, "compare", "table", "v1.0.0", "v1.1.0")
    assert "artifact: unknown (one md5 is DVC 2's md5-dos2unix" in proc.stdout


def test_pointer_hash_field() -> None:
    legacy = dvcfiles.parse_pointer(f"outs:\n- md5: {'a' * 32}\n  path: m\n", "m.dvc")
    assert legacy.hash_name == "md5-dos2unix"
    new = dvcfiles.parse_pointer(f"outs:\n- md5: {'a' * 32}\n  hash: md5\n  path: m\n", "m.dvc")
    assert new.hash_name == "md5"
    with pytest.raises(DvcError, match="records hash 'sha256'.*re-run `dvc add`"):
        dvcfiles.parse_pointer(f"outs:\n- md5: {'a' * 32}\n  hash: sha256\n  path: m\n", "m.dvc")
    with pytest.raises(IntegrityError, match="not an md5"):
        dvcfiles.parse_pointer("outs:\n- md5: ../../etc\n  path: m\n", "m.dvc")


# -- the hash itself, against DVC's ------------------------------------------------------

PIECES = st.one_of(
    st.binary(min_size=1, max_size=24),
    st.sampled_from([b"\r\n", b"\r", b"\n", b"\r\r\n\n", b"\x00", b"\x80\xff", b"ab\r\n"]),
    st.text(alphabet="abc ,;\t\r\n", min_size=1, max_size=24).map(str.encode),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    segments=st.lists(st.tuples(PIECES, st.integers(1, 90_000)), max_size=4),
    cuts=st.lists(st.integers(1, 3 * BLOCK), max_size=6),
)
def test_legacy_hash_matches_dvc_data(segments: list[tuple[bytes, int]], cuts: list[int]) -> None:
    """Random text-ish and binary bytes with CR/LF runs, across 1 MiB block boundaries, fed in
    arbitrary pieces: modelreg's md5-dos2unix is dvc_data's, and DVC 2's value matches too."""
    data = b"".join(piece * count for piece, count in segments)[: 3 * BLOCK + 7]
    h = hashing.Dos2UnixMd5()
    start = 0
    for cut in sorted(cuts) + [len(data)]:
        h.update(data[start:cut])
        start = max(start, cut)
    assert h.hexdigest() == dvc3_legacy_md5(data)
    assert h.matches(dvc2_md5(data))
    assert hashing.looks_like_text(data[:512]) == _dvc2_text(data[:512])


# -- an S3 remote in the legacy layout -----------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.mark.slow
def test_s3_remote_in_the_legacy_layout(
    dvc2: Dvc2Repo, s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    dvc2.add_file("table", "models/table.csv", CRLF_TEXT)
    dvc2.add_folder("bundle", "models/bundle", FOLDER)
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="legacy")
    for path in dvc2.remote.rglob("*"):
        if path.is_file():
            key = "dvc2/" + path.relative_to(dvc2.remote).as_posix()
            s3.put_object(Bucket="legacy", Key=key, Body=path.read_bytes())
    dvcio.set_default_remote(dvc2.root, "s3://legacy/dvc2", {"endpointurl": s3_endpoint})
    reg = Registry(dvc2.root)
    assert reg.get("table@v1.0.0", out=tmp_path / "t.csv").read_bytes() == CRLF_TEXT
    folder = reg.get("bundle@v1.0.0", out=tmp_path / "b")
    assert (folder / "sub/notes.txt").read_bytes() == FOLDER["sub/notes.txt"]
    assert modelreg(dvc2.root, "init").returncode == 0
    proc = modelreg(dvc2.root, "check", "--remote", "--verify")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    oid = dvc2_md5(CRLF_TEXT)
    s3.put_object(Bucket="legacy", Key=f"dvc2/{oid[:2]}/{oid[2:]}", Body=b"evil\r\n")
    with pytest.raises(IntegrityError, match=f"expected {oid}"):
        reg.get("table@v1.0.0", out=tmp_path / "evil.csv")
    assert not (tmp_path / "evil.csv").exists()


def test_apply_refuses_to_tag_a_dvc2_pointer(dvc2: Dvc2Repo) -> None:
    """A version proposed in registry.yaml becomes a registration record, which means DVC 3's
    md5: a DVC 2 pointer under it is refused rather than recorded as another hash."""
    root = dvc2.root
    assert modelreg(root, "init").returncode == 0
    md5 = dvc2_md5(CRLF_TEXT)
    dvc2.put(md5, CRLF_TEXT)
    (root / "models").mkdir(exist_ok=True)
    (root / "models/late.csv.dvc").write_text(
        f"outs:\n- md5: {md5}\n  size: {len(CRLF_TEXT)}\n  path: late.csv\n"
    )
    index = yaml.safe_load((root / "registry.yaml").read_text())
    index["models"]["late"] = {
        "path": "models/late.csv",
        "versions": {"v1.0.0": {"tag": "late@v1.0.0", "md5": md5, "size": len(CRLF_TEXT)}},
    }
    (root / "registry.yaml").write_text(yaml.safe_dump(index, sort_keys=False))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Propose late v1.0.0")
    before = git(root, "tag")
    proc = modelreg(root, "apply")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "is a DVC 2 pointer (no `hash: md5`)" in lines[0], lines
    assert "remove v1.0.0 from registry.yaml" in lines[0]
    assert "`modelreg register late models/late.csv`" in lines[0]
    assert git(root, "tag") == before
    # The advice works: the artifact is registered with a DVC 3 pointer.
    del index["models"]["late"]
    (root / "registry.yaml").write_text(yaml.safe_dump(index, sort_keys=False))
    git(root, "commit", "-q", "-am", "Drop the proposal")
    (root / "models/late.csv").write_bytes(CRLF_TEXT)
    proc = modelreg(root, "register", "late", "models/late.csv")
    assert (proc.returncode, proc.stdout) == (0, "v1.0.0\n"), proc.stderr
    assert "hash: md5" in (root / "models/late.csv.dvc").read_text()
    assert modelreg(root, "apply").returncode == 0

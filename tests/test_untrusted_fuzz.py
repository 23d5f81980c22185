"""Hypothesis-generated hostile records, pointers and ``.dir`` listings.

The properties: whatever a colleague's registry or DVC remote holds, a value that passes the
boundary is safe to use as a path under its root, and a ``get`` run on it either writes the
artifact inside its destination or fails with a :class:`RegistryError`: nothing appears
outside the sandbox and nothing outside it changes.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import posixpath
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.helpers import git, tree
from tests.hostile import plant, record, tag_with_record

from modelreg import Registry, RegistryError
from modelreg.dvcstore.dvccache import object_path
from modelreg.dvcstore.dvcfiles import parse_pointer
from modelreg.untrusted import parse_dir_listing, relpath_problem

# Path parts an attacker would try, mixed with ordinary ones.
PARTS = st.sampled_from(
    ["..", ".", "", "a", "b", "model.pkl", "\\..", "C:", "x\x00y", "~", "-o", "\n", " ", "."]
)
HOSTILE_PATHS = st.one_of(
    st.lists(PARTS, min_size=1, max_size=5).map("/".join),
    st.lists(PARTS, min_size=1, max_size=4).map(lambda p: "/" + "/".join(p)),
    st.text(max_size=20),
    st.integers().map(str),
)
MD5S = st.one_of(
    st.just("0cc175b9c0f1b6a831c399e269772661"),
    st.text(alphabet="0123456789abcdefABCDEF./", min_size=0, max_size=40),
    HOSTILE_PATHS,
)
RELAXED = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _inside(rel: str) -> bool:
    norm = posixpath.normpath(rel)
    return not norm.startswith(("/", "..")) and norm != "."


@RELAXED  # no per-example deadline: a busy CI machine is not a failure
@given(st.lists(st.fixed_dictionaries({"md5": MD5S, "relpath": HOSTILE_PATHS}), max_size=6))
def test_accepted_listings_only_name_paths_inside_their_folder(
    entries: list[dict[str, str]],
) -> None:
    data = json.dumps(entries, sort_keys=True).encode()
    oid = hashlib.md5(data).hexdigest() + ".dir"
    try:
        accepted = parse_dir_listing(data, oid, "fuzz")
    except RegistryError:
        return
    rels = [e.relpath for e in accepted]
    assert all(_inside(r) and relpath_problem(r) is None for r in rels)
    assert len(set(rels)) == len(rels)
    assert not any(r.startswith(other + "/") for r in rels for other in rels)


@given(path=HOSTILE_PATHS, md5=MD5S, folder=st.sampled_from(["", "models", "a/b"]))
def test_accepted_pointers_only_name_paths_inside_the_repository(
    path: str, md5: str, folder: str
) -> None:
    dvc_file = posixpath.join(folder, "m.dvc")
    text = json.dumps({"outs": [{"md5": md5, "size": 1, "path": path}]})
    try:
        pointer = parse_pointer(text, dvc_file)
    except RegistryError:
        return
    assert _inside(pointer.path) and relpath_problem(pointer.path) is None
    assert len(pointer.md5) in (32, 36)


@pytest.fixture
def box(tmp_path: Path, repo: Path) -> tuple[Registry, Path, Path]:
    """A registry, and a sandbox beside it with a file that must never change."""
    reg = Registry(repo)
    reg.init()
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    (tmp_path / "precious.txt").write_text("precious")
    return reg, repo, sandbox


_counter = itertools.count()


@pytest.mark.slow
@RELAXED
@given(
    entries=st.lists(
        st.fixed_dictionaries({"relpath": HOSTILE_PATHS, "good": st.booleans()}),
        min_size=1,
        max_size=5,
    )
)
def test_hostile_listings_never_write_outside_the_destination(
    box: tuple[Registry, Path, Path], entries: list[dict[str, object]]
) -> None:
    reg, repo, sandbox = box
    good = plant(repo, b"payload")
    listing = [
        {"md5": good if e["good"] else "../" + good, "relpath": e["relpath"]} for e in entries
    ]
    data = json.dumps(listing, sort_keys=True).encode()
    oid = hashlib.md5(data).hexdigest() + ".dir"
    path = object_path(repo, oid)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    n = next(_counter)
    tag_with_record(repo, f"bundle@v1.0.{n}", record("models/bundle", oid))
    root = sandbox.parent
    before = {k: v for k, v in tree(root).items() if not k.startswith("sandbox/")}
    before.pop("sandbox", None)
    dest = sandbox / f"out{n}"
    try:
        out = reg.get(f"bundle@v1.0.{n}", out=dest)
        assert out == dest / "bundle" or out == dest
        assert all(_inside(p.relative_to(dest).as_posix()) for p in dest.rglob("*"))
    except RegistryError:
        assert not dest.exists()
    after = {k: v for k, v in tree(root).items() if not k.startswith("sandbox/")}
    after.pop("sandbox", None)
    # The repository may gain nothing but the tags this test made.
    assert after == before


@pytest.mark.slow
@RELAXED
@given(path=HOSTILE_PATHS, md5=MD5S)
def test_hostile_records_never_write_outside_the_current_folder(
    box: tuple[Registry, Path, Path], path: str, md5: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg, repo, sandbox = box
    plant(repo, b"payload")
    n = next(_counter)
    cwd = sandbox / f"cwd{n}"
    cwd.mkdir()
    tag_with_record(repo, f"evil@v2.0.{n}", record(path, md5))
    root = sandbox.parent
    before = {k: v for k, v in tree(root).items() if not k.startswith(f"sandbox/cwd{n}")}
    monkeypatch.chdir(cwd)
    try:
        out = reg.get(f"evil@v2.0.{n}")
        assert out.parent == cwd
    except RegistryError:
        assert list(cwd.iterdir()) == []
    after = {k: v for k, v in tree(root).items() if not k.startswith(f"sandbox/cwd{n}")}
    assert after == before
    assert git(repo, "status", "--porcelain") == ""

"""Reads by URL treat the URL and the registry's contents as untrusted.

A ``--repo`` value never becomes a git option, only plain transports are allowed, a token
in a URL is neither shown nor stored, and ``get`` by URL reads from the DVC remote of the
registry branch (or one the user pins), never from the one a pushed tag's commit names.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.helpers import git, modelreg, run, write_model

from modelreg import GitError, IntegrityError, NotFoundError, Registry
from modelreg.errors import InvalidInputError, RegistryError

pytestmark = pytest.mark.slow


def _one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    """The stderr of a failed CLI run, checked to be exactly one line."""
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    return proc.stderr


# -- a --repo value is never a git option ---------------------------------------------------


@pytest.mark.parametrize("command", [["which", "churn", "production"], ["latest", "churn"]])
def test_option_like_repo_is_refused_by_the_cli(tmp_path: Path, command: list[str]) -> None:
    sentinel = tmp_path / "SENTINEL"
    proc = modelreg(tmp_path, *command, "--repo", f"--upload-pack=touch {sentinel} #://")
    err = _one_line_error(proc)
    assert err.startswith("modelreg: error: repository '--upload-pack=touch ")
    assert "starts with '-'" in err
    assert not sentinel.exists()


@pytest.mark.parametrize("call", ["which_version", "latest_version", "which"])
def test_option_like_repo_is_refused_by_the_api(tmp_path: Path, call: str) -> None:
    sentinel = tmp_path / "SENTINEL"
    args = ("churn", "production") if call.startswith("which") else ("churn",)
    with pytest.raises(InvalidInputError, match=r"starts with '-': pass a URL, or \./--upload"):
        getattr(Registry(f"--upload-pack=touch {sentinel} #://"), call)(*args)
    assert not sentinel.exists()


def test_a_folder_named_with_a_dash_is_told_how_to_pass_it(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"repository '-x' starts with '-'.*\./-x"):
        Registry("-x")


def test_ls_remote_never_reads_its_url_as_an_option(tmp_path: Path) -> None:
    """Defence in depth, below the boundary check: git gets a '--' before the URL."""
    from modelreg.gitrepo import ls_remote_tags

    sentinel = tmp_path / "SENTINEL"
    with pytest.raises(GitError):
        ls_remote_tags(f"--upload-pack=touch {sentinel} #://", ["refs/tags/*"])
    assert not sentinel.exists()


# -- only plain transports --------------------------------------------------------------------


@pytest.fixture
def ext_allowed() -> None:
    """A git configuration that lets ``ext::`` run (as some users' global config does)."""
    git(Path.cwd(), "config", "--global", "protocol.ext.allow", "always")


@pytest.mark.parametrize(
    "command", [["which", "churn", "production"], ["latest", "churn"], ["show", "churn"]]
)
def test_ext_transport_is_refused_and_runs_nothing(
    tmp_path: Path, ext_allowed: None, command: list[str]
) -> None:
    sentinel = tmp_path / "SENTINEL"
    proc = modelreg(tmp_path, *command, "--repo", f"ext::sh -c touch% {sentinel}% #://")
    err = _one_line_error(proc)
    assert "transport 'ext' not allowed" in err
    assert not sentinel.exists()


def test_ext_transport_without_a_scheme_is_a_url_and_refused(
    tmp_path: Path, ext_allowed: None
) -> None:
    sentinel = tmp_path / "SENTINEL"
    reg = Registry(f"ext::sh -c touch% {sentinel}")
    with pytest.raises(GitError, match="transport 'ext' not allowed"):
        reg.which("churn", "production")
    assert not sentinel.exists()


def test_a_stricter_protocol_list_of_the_user_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """modelreg narrows the transports git may use; it never widens the user's own list."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "https")
    with pytest.raises(GitError, match="transport 'file' not allowed"):
        Registry(f"file://{origin}").which_version("churn", "production")
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file:ext")
    # file is in both lists: the empty registry is reached and has no such model.
    with pytest.raises(NotFoundError):
        Registry(f"file://{origin}").latest_version("churn")


# -- a registry published to a bare origin with a DVC remote folder ----------------------------


class Published:
    """A bare origin whose ``main`` names the DVC remote ``real``; ``churn@v1.0.0``
    (``b"real-bytes"``) is pushed there.  ``attacker`` is another DVC remote folder."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.origin = tmp / "origin.git"
        self.real = tmp / "dvc-real"
        self.attacker = tmp / "dvc-attacker"
        git(tmp, "init", "-q", "--bare", "-b", "main", str(self.origin))
        # Serve blob-less fetches, so the mirror really fetches file contents lazily.
        git(self.origin, "config", "uploadpack.allowFilter", "true")
        self.seed = tmp / "seed"
        git(tmp, "clone", "-q", self.url, str(self.seed))
        git(self.seed, "commit", "-q", "--allow-empty", "-m", "Start")
        Registry(self.seed).init(dvc_remote=str(self.real))
        git(self.seed, "push", "-q", "origin", "main")

    @property
    def url(self) -> str:
        return f"file://{self.origin}"

    def object(self, remote: Path, md5: str) -> Path:
        return remote / "files" / "md5" / md5[:2] / md5[2:]


@pytest.fixture
def published(tmp_path: Path) -> Published:
    pub = Published(tmp_path)
    reg = Registry(pub.seed)
    write_model(pub.seed, "real-bytes")
    reg.register("churn", "models/churn.pkl", push="origin")
    reg.promote("churn", "v1.0.0", "production", push="origin")
    return pub


def _files_containing(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


# -- credentials in URLs ---------------------------------------------------------------------


def test_a_token_in_the_url_is_never_stored_in_the_mirror(
    published: Published, tmp_path: Path
) -> None:
    url = f"file://user:secret@{published.origin}"
    reg = Registry(url)
    assert reg.which("churn", "production").version == "v1.0.0"  # through the mirror
    assert [v.version for v in reg.show("churn").versions] == ["v1.0.0"]
    # get lazily fetches .dvc/config from the mirror: the URL must reach that fetch too.
    out = reg.get("churn#production", out=tmp_path / "model.pkl")
    assert out.read_text() == "real-bytes"
    mirrors = Path(os.environ["XDG_CACHE_HOME"]) / "modelreg" / "mirrors"
    (mirror,) = mirrors.iterdir()
    assert _files_containing(mirror, b"secret") == []
    assert "secret" not in git(mirror, "config", "--list", "--local")
    assert mirror.name.startswith("v2-")  # mirrors of older versions, which hold it, are not reused
    with pytest.raises(RegistryError, match=r"remote registry: clone it") as info:
        reg.promote("churn", "v1.0.0", "staging")
    assert "secret" not in str(info.value) and "file://***@" in str(info.value)


@pytest.mark.parametrize(
    "command", [["which", "churn", "production"], ["latest", "churn"], ["show", "churn"]]
)
def test_a_token_in_an_unreachable_url_is_not_shown(tmp_path: Path, command: list[str]) -> None:
    proc = modelreg(tmp_path, *command, "--repo", "https://user:secret@127.0.0.1:1/x.git")
    err = _one_line_error(proc)
    assert "secret" not in err
    assert "https://***@127.0.0.1:1/x.git" in err


def test_a_token_is_not_shown_by_the_api_either() -> None:
    with pytest.raises(GitError) as info:
        Registry("https://user:secret@127.0.0.1:1/x.git").which_version("churn", "production")
    assert "secret" not in str(info.value)


def test_redact_hides_the_user_info_of_every_url() -> None:
    from modelreg.gitrepo import redact

    text = "'https://u:t@k@host/r.git' and ssh://git@host/r and git@host:r and https://host/a@b"
    assert redact(text) == (
        "'https://***@host/r.git' and ssh://***@host/r and git@host:r and https://host/a@b"
    )


# -- which DVC remote get by URL reads ---------------------------------------------------------


@pytest.fixture
def tag_names_attacker(tmp_path: Path) -> Published:
    """``churn@v1.0.0`` is a tag pushed on its own, at a commit whose ``.dvc/config`` names
    the attacker's remote; ``main`` (never merged with it) still names the real one.  The
    attacker's remote holds other bytes at the artifact's md5: reading it fails the check."""
    pub = Published(tmp_path)
    git(pub.seed, "switch", "-q", "-c", "evil")
    # Whoever can push a tag controls their own branch: they drop `branch: main` too.
    index = pub.seed / "registry.yaml"
    index.write_text(index.read_text().replace("branch: main\n", ""))
    proc = run(pub.seed, "dvc", "remote", "add", "-d", "-f", "storage", str(pub.attacker))
    assert proc.returncode == 0, proc.stderr
    git(pub.seed, "commit", "-q", "-am", "Point DVC at another remote")
    write_model(pub.seed, "real-bytes")
    mv = Registry(pub.seed).register("churn", "models/churn.pkl")
    assert run(pub.seed, "dvc", "push").returncode == 0  # to the attacker's folder
    assert mv.md5 is not None
    shutil.copytree(pub.attacker, pub.real)
    planted = pub.object(pub.attacker, mv.md5)
    planted.chmod(0o644)
    planted.write_text("attacker-bytes")
    git(pub.seed, "push", "-q", "origin", "refs/tags/churn@v1.0.0")
    return pub


def test_get_by_url_reads_the_branch_tips_dvc_remote(
    tag_names_attacker: Published, tmp_path: Path
) -> None:
    pub = tag_names_attacker
    out = tmp_path / "out.pkl"
    proc = modelreg(tmp_path, "get", "churn@v1.0.0", "--repo", pub.url, "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert out.read_text() == "real-bytes"
    # The API (and so load_model) too.
    got = Registry(pub.url).get("churn@v1.0.0", out=tmp_path / "api.pkl")
    assert got.read_text() == "real-bytes"


def test_the_attacker_remote_is_what_the_tagged_commit_names(
    tag_names_attacker: Published, tmp_path: Path
) -> None:
    """The fixture is what it claims: pinning the attacker's remote fails verification."""
    pub = tag_names_attacker
    with pytest.raises(IntegrityError):
        Registry(pub.url).get("churn@v1.0.0", out=tmp_path / "x.pkl", dvc_remote=str(pub.attacker))
    assert not (tmp_path / "x.pkl").exists()


@pytest.fixture
def only_pinned_has_the_bytes(tag_names_attacker: Published, tmp_path: Path) -> Path:
    """The bytes move to a third remote: neither the tip's nor the tag's remote has them."""
    pinned = tmp_path / "dvc-pinned"
    shutil.move(tag_names_attacker.real, pinned)
    return pinned


def test_an_environment_pin_overrides_both(
    tag_names_attacker: Published, only_pinned_has_the_bytes: Path, tmp_path: Path
) -> None:
    pub, pinned = tag_names_attacker, only_pinned_has_the_bytes
    out = tmp_path / "out.pkl"
    proc = modelreg(
        tmp_path,
        "get",
        "churn@v1.0.0",
        "--repo",
        pub.url,
        "-o",
        str(out),
        env={"MODELREG_DVC_REMOTE": str(pinned)},
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_text() == "real-bytes"


def test_the_dvc_remote_option_overrides_both(
    tag_names_attacker: Published,
    only_pinned_has_the_bytes: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pub, pinned = tag_names_attacker, only_pinned_has_the_bytes
    out = tmp_path / "out.pkl"
    proc = modelreg(
        tmp_path,
        "get",
        "churn@v1.0.0",
        "--repo",
        pub.url,
        "-o",
        str(out),
        "--dvc-remote",
        str(pinned),
        env={"MODELREG_DVC_REMOTE": str(pub.attacker)},  # the option wins over the variable
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_text() == "real-bytes"
    # The API keyword, with a relative folder (read against the current folder).
    monkeypatch.chdir(pinned.parent)
    got = Registry(pub.url).get("churn@v1.0.0", out=tmp_path / "api.pkl", dvc_remote=pinned.name)
    assert got.read_text() == "real-bytes"


def test_a_pin_applies_to_a_clone_too(
    tag_names_attacker: Published, only_pinned_has_the_bytes: Path, tmp_path: Path
) -> None:
    pub, pinned = tag_names_attacker, only_pinned_has_the_bytes
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", pub.url, str(clone))
    git(clone, "fetch", "-q", "origin", "refs/tags/*:refs/tags/*")
    got = Registry(clone).get("churn@v1.0.0", out=tmp_path / "c.pkl", dvc_remote=str(pinned))
    assert got.read_text() == "real-bytes"


def test_a_branch_without_a_dvc_config_says_how_to_pin(tmp_path: Path) -> None:
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    seed = tmp_path / "seed"
    git(tmp_path, "clone", "-q", f"file://{origin}", str(seed))
    git(seed, "commit", "-q", "--allow-empty", "-m", "Start")
    Registry(seed).init(dvc_remote=str(tmp_path / "dvc"))
    write_model(seed, "bytes")
    Registry(seed).register("churn", "models/churn.pkl")
    git(seed, "push", "-q", "origin", "main", "--tags")
    git(seed, "rm", "-q", ".dvc/config")
    git(seed, "commit", "-q", "-m", "No DVC remote")
    git(seed, "push", "-q", "origin", "main")
    proc = modelreg(tmp_path, "get", "churn@v1.0.0", "--repo", f"file://{origin}")
    err = _one_line_error(proc)
    assert "configures no DVC remote on its default branch" in err
    assert "MODELREG_DVC_REMOTE" in err

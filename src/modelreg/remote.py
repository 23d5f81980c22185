"""Reading a registry by URL without cloning it.

``which`` and ``latest`` answer from ``git ls-remote`` alone when the tag names decide the
answer (counters order stage events; registrations map commits to versions).  When they do
not (a model with a deprecation tag or GTO's counter-less "simple" stage tags is ordered by
tagger dates, which only tag objects carry), and for ``show``, ``history``, ``compare`` and
``get``, the model's tags are fetched into a small cached mirror: tag objects and the tagged
commits only (``--depth=1``), with file contents fetched lazily (``--filter=blob:none``).

A URL comes from whoever runs the command, and the registry's contents from whoever can push
to it, so neither is trusted further than it must be: a URL never reaches git as an option,
only plain transports are allowed (``ext::`` would run a command), credentials in a URL are
never written to disk nor shown, and the DVC remote ``get`` reads from is configured on the
registry branch (or pinned by the user), never taken from a tagged commit.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from modelreg import leftovers
from modelreg.cache import cache_dir
from modelreg.errors import DvcError, GitError, InvalidInputError
from modelreg.gitrepo import GitRepo, error_line, ls_remote_tag_refs, redact
from modelreg.grammar import parse_tag
from modelreg.records import EventKind
from modelreg.semver import sort_key
from modelreg.tags import RawTag

if TYPE_CHECKING:
    from modelreg.artifacts import SizedProgress
    from modelreg.records import ModelVersion

_SCP_LIKE = re.compile(r"^[\w.+-]+@[\w.-]+:")
# git's "<transport>::<address>" form runs a remote helper (ext::, fd::…): it is a URL too,
# so that it reaches git with the transport allowlist, which refuses it.
_HELPER = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")

# Transports a URL read may use.  git then refuses ``ext::`` (which runs a command) and
# every other remote helper, whatever the user's or the system's git configuration allows.
ALLOWED_PROTOCOLS = "file:git:http:https:ssh"

# Mirrors made before the URL moved out of their git config hold it (and any token in it)
# there: the version prefix keeps them from being reused.
_MIRROR_SCHEME = "v2"
TIP_REF = "refs/modelreg/tip"
DVC_REMOTE_ENV = "MODELREG_DVC_REMOTE"
PINNED_REMOTE_NAME = "pinned"


def check_location(text: str) -> None:
    """Refuse a ``--repo`` value that git could read as an option (``--upload-pack=…``)."""
    if text.startswith("-"):
        raise InvalidInputError(
            f"repository {redact(text)!r} starts with '-': pass a URL, or ./{redact(text)} "
            "for a folder of that name"
        )


def _url_read_env() -> dict[str, str]:
    """The environment of every git command that reaches a remote by URL."""
    allowed = ALLOWED_PROTOCOLS.split(":")
    # A stricter list the user already gives git stays in force: narrow it, never widen it.
    theirs = os.environ.get("GIT_ALLOW_PROTOCOL")
    if theirs is not None:
        allowed = [p for p in allowed if p in theirs.split(":")]
    return {"GIT_ALLOW_PROTOCOL": ":".join(allowed)}


def is_url(text: str) -> bool:
    """Whether ``--repo`` names a remote (``https://…``, ``file://…``, ``git@host:path``)."""
    return "://" in text or _SCP_LIKE.match(text) is not None or _HELPER.match(text) is not None


class LsRemoteReader:
    """A tag reader over ``git ls-remote``: names and commits, no dates, no files."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._cache: dict[tuple[str, ...], tuple[list[RawTag], dict[str, str]]] = {}

    def _listing(self, patterns: Sequence[str]) -> tuple[list[RawTag], dict[str, str]]:
        key = tuple(patterns)
        if key not in self._cache:
            self._cache[key] = ls_remote_tag_refs(self.url, patterns, env=_url_read_env())
        return self._cache[key]

    def tags(self, patterns: Sequence[str], messages: bool = True) -> list[RawTag]:
        return self._listing(patterns)[0]

    def refs(self, patterns: Sequence[str]) -> dict[str, str]:
        """Every tag ref the listing of ``patterns`` named, with the object it points at."""
        return self._listing(patterns)[1]

    def show_file(self, rev: str, path: str) -> bytes | None:
        return None


def names_decide(tags: Sequence[RawTag]) -> bool:
    """Whether tag names alone answer ``which`` and ``latest`` as the dates would.

    ``ls-remote`` lists names, not dates, and readers order events by date.  Names settle the
    answer only where nothing competes: no deprecation, no deregistration, at most one tag
    per stage, and no two versions equal but for build metadata.  Otherwise the model's tag
    objects (not its files) are fetched.
    """
    stages: set[str] = set()
    precedences: set[tuple[object, ...]] = set()
    for raw in tags:
        parsed = parse_tag(raw.name)
        if parsed is None:
            continue
        if parsed.kind in (EventKind.DEPRECATE, EventKind.DEREGISTER):
            return False
        if parsed.stage is not None:
            if parsed.stage in stages:
                return False
            stages.add(parsed.stage)
        elif parsed.version is not None:
            precedence = sort_key(parsed.version)
            if precedence in precedences:
                return False
            precedences.add(precedence)
    return True


def _mirror_env(url: str) -> dict[str, str]:
    """The environment that gives a mirror its ``origin`` URL without writing it down.

    It is appended to any ``GIT_CONFIG_*`` settings the caller already passes to git.
    Commands git starts itself (the lazy blob fetch of ``cat-file``) inherit it.
    """
    try:
        n = int(os.environ.get("GIT_CONFIG_COUNT") or 0)
    except ValueError:
        n = 0
    return {
        **_url_read_env(),
        "GIT_CONFIG_COUNT": str(n + 1),
        f"GIT_CONFIG_KEY_{n}": "remote.origin.url",
        f"GIT_CONFIG_VALUE_{n}": url,
    }


class Mirror(GitRepo):
    """A bare, shallow, blob-less local copy of some of a remote's refs.

    Its ``origin`` URL exists only in the environment of the git commands run on it, so a
    token in the URL never lands in the mirror's config; ``shown`` is the URL redacted.
    """

    def __init__(self, root: Path, url: str) -> None:
        super().__init__(root, env=_mirror_env(url))
        self.shown = redact(url)

    def fetch(self, refspecs: Sequence[str], what: str) -> None:
        """Fetch ``refspecs`` from ``origin``, shallow and without file contents.

        Readers of one URL share its mirror: fetches take turns (git's ``shallow.lock``
        would fail the second one), under the same kind of lock writes take in a clone.
        """
        from modelreg.locking import write_lock

        with write_lock(self.root, waiting=None):  # a reader's wait is short and routine
            self._fetch(refspecs, what)

    def _fetch(self, refspecs: Sequence[str], what: str) -> None:
        proc = self.run(
            "fetch",
            "--quiet",
            "--prune",
            "--no-tags",
            "--no-write-fetch-head",
            "--depth=1",
            "--filter=blob:none",
            "--",
            "origin",
            *refspecs,
            check=False,
        )
        if proc.returncode != 0:
            raise GitError(f"cannot fetch {what} from {self.shown!r}: {error_line(proc.stderr)}")

    def tip_dvc_config(self) -> bytes:
        """``.dvc/config`` at the tip of the remote's default branch (its ``HEAD``).

        The branch is where the registry's configuration is reviewed and merged; a tag can be
        pushed by anyone with push access and point at any commit, so a tagged commit's DVC
        config could send ``get`` (and its credentials) to any endpoint.
        """
        hint = f"pin the DVC remote with {DVC_REMOTE_ENV}=URL (or `modelreg get --dvc-remote`)"
        try:
            self.fetch([f"+HEAD:{TIP_REF}"], "the registry branch (HEAD)")
        except GitError as e:
            raise GitError(f"{e}; or {hint}") from None
        # Trees are in the mirror: whether the file exists needs no blob, hence no network.
        listed = self.run("ls-tree", "--name-only", TIP_REF, "--", ".dvc/config", check=False)
        if not listed.stdout.strip():
            raise DvcError(
                f"the registry at {self.shown!r} configures no DVC remote on its default "
                f"branch (no .dvc/config): {hint}"
            )
        data = self.show_file(TIP_REF, ".dvc/config")
        if data is None:
            raise GitError(f"cannot fetch .dvc/config from {self.shown!r}: {hint}")
        return data


def mirror(url: str, patterns: Sequence[str], listed: Mapping[str, str] | None = None) -> Mirror:
    """A bare, shallow, blob-less local mirror of the remote's tags matching ``patterns``.

    ``listed`` is what ``ls-remote`` just listed for ``patterns`` (ref -> object), when the
    caller has it: a mirror already holding exactly those refs is not fetched again (a
    fetch asks the remote for all its refs, tens of milliseconds even when nothing came)."""
    import hashlib  # only the mirror path pays for it; ``which`` by URL does not

    # Named after the redacted URL: one mirror per repository whatever the token, and no
    # hash of a token on disk.
    digest = hashlib.sha256(redact(url).encode()).hexdigest()[:24]
    path = cache_dir("mirrors") / f"{_MIRROR_SCHEME}-{digest}"
    if not _healthy(path):
        _build_mirror(path, url)
    repo = Mirror(path, url)
    if listed is not None and repo.ref_objects(patterns) == listed:
        return repo
    # A refspec's '*' spans '/', so the extra pattern for slashed stage names is not needed.
    refspecs = [f"+{p}:{p}" for p in patterns if "**" not in p]
    repo.fetch(refspecs, "registry tags")
    return repo


def _healthy(path: Path) -> bool:
    """Whether a mirror folder is complete: a bare repository set up for lazy blobs."""
    try:
        config = (path / "config").read_text(encoding="utf-8")
    except OSError:
        return False
    return (path / "HEAD").is_file() and "partialclone" in config.lower()


def _build_mirror(path: Path, url: str) -> None:
    """Make a mirror in a temporary folder and rename it into place, so a kill or a failed
    step never leaves a half-made mirror that every later read of that URL trips over; a
    broken one found in its place is replaced (the folder is modelreg's own cache)."""
    import shutil

    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{path.name}.tmp-"
    leftovers.remove_dead(path.parent, prefix)
    tmp = leftovers.make_dir(path.parent, prefix)
    try:
        build = Mirror(tmp, url)
        for args in (
            ["init", "--quiet", "--bare"],
            # No remote.origin.url here: it comes from the environment (see Mirror).
            ["config", "remote.origin.promisor", "true"],
            ["config", "remote.origin.partialclonefilter", "blob:none"],
            ["config", "extensions.partialClone", "origin"],
        ):
            build.run(*args)
        if path.exists() and not _healthy(path):
            shutil.rmtree(path)
        try:
            os.rename(tmp, path)
        except OSError:
            if not _healthy(path):  # not a concurrent reader's good mirror: a real failure
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write_pinned_config(root: Path, remote: str) -> None:
    """A DVC config in ``root/.dvc`` whose default remote is ``remote`` and nothing else."""
    from modelreg.dvcstore import dvcio

    # A local folder is made absolute: DVC reads relative remote paths against .dvc/.
    url = remote if "://" in remote else os.fspath(Path(remote).expanduser().resolve())
    dvcio.set_default_remote(root, url, name=PINNED_REMOTE_NAME)


def get_artifact(
    repo: GitRepo,
    mv: ModelVersion,
    out: str | os.PathLike[str] | None,
    pinned: str | None,
    *,
    force: bool = False,
    sized_progress: SizedProgress | None = None,
) -> Path:
    """``artifacts.get`` with a DVC remote the reader chose: ``pinned`` when given, else the
    one a :class:`Mirror`'s registry branch configures.  Credentials come from the
    environment or DVC's global config, never from the registry."""
    import tempfile  # only get pays for it; ``which`` by URL does not

    from modelreg import artifacts

    with tempfile.TemporaryDirectory(prefix="modelreg-dvc-") as tmp:
        dvc_dir = Path(tmp) / ".dvc"
        dvc_dir.mkdir()
        if pinned:
            _write_pinned_config(Path(tmp), pinned)
        else:
            if not isinstance(repo, Mirror):
                raise TypeError("without a pinned DVC remote, get_artifact needs a Mirror")
            (dvc_dir / "config").write_bytes(repo.tip_dvc_config())
        return artifacts.get(repo, mv, out, dvc_dir, force=force, sized_progress=sized_progress)

"""The one module that talks to git.

Everything goes through the ``git`` executable: a registry query is one ``git for-each-ref``
with a per-model pattern, which stays fast on tens of thousands of packed tags (per-object tag
APIs in Python git libraries are quadratic on packed refs), and starting ``git`` costs far less
than importing a git library on the read path.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from modelreg import leftovers
from modelreg.errors import ConflictError, GitError, NotARegistryError
from modelreg.tags import RawTag

_FIELD = "\x00"
_RECORD = "\x1e"
# git expands %00 and %1e itself: argv cannot carry NUL bytes.
_TAG_FIELDS = [
    "%(refname:lstrip=2)",
    "%(objecttype)",
    "%(*objectname)",
    "%(taggerdate:unix)",
    "%(taggername)",
    "%(taggeremail)",
]
_TAG_FORMAT = "%00".join([*_TAG_FIELDS, "%(contents)"]) + "%1e"
# Messages are most of a listing's bytes; a whole-registry listing leaves them out.
_TAG_FORMAT_NO_MESSAGE = "%00".join([*_TAG_FIELDS, ""]) + "%1e"
ZERO_OID = "0" * 40
INDEX_TMP_PREFIX = "modelreg-index-"
"""Private index files (``.git/modelreg-index-<pid>-…``), removed by the next write if their
process was killed (see :mod:`modelreg.leftovers`)."""

# The user-info of a URL (``user:token@``): everything between ``://`` and the last ``@``
# before the first ``/``, which is where git and curl end it too.
_USERINFO = re.compile(r"(?<=://)[^/\s]*@")


def redact(text: str) -> str:
    """``text`` with the credentials of every URL in it replaced by ``***``
    (``https://user:token@host/r.git`` -> ``https://***@host/r.git``)."""
    return _USERINFO.sub("***@", text)


Entry = tuple[str, str]
"""A path's ``(mode, blob id)`` in a tree or index."""


@dataclass(frozen=True)
class NewCommit:
    """A commit object :meth:`GitRepo.make_commit` wrote, and what it holds at the paths it
    was asked to commit (``None``: no file there), so the user's index can be brought to it
    without listing the tree again."""

    id: str
    entries: dict[str, Entry | None]


class TagReader(Protocol):
    """What read queries need from a repository: tags by pattern and files at a commit."""

    def tags(self, patterns: Sequence[str], messages: bool = True) -> list[RawTag]: ...

    def show_file(self, rev: str, path: str) -> bytes | None: ...


@dataclass(frozen=True)
class Identity:
    """Who git will record as author and tagger."""

    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


def _clean_env(extra: Mapping[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    # Never let a pager, prompt or translation change what we parse.
    env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "LC_ALL": "C"})
    if extra:
        env.update(extra)
    return env


def error_line(text: str) -> str:
    """The line of a git command's output that says what went wrong (its first ``fatal:``
    or ``error:`` line, else its first line), credentials redacted: for one-line errors."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    fatal = [ln for ln in lines if ln.startswith(("fatal:", "error:"))]
    # git may echo a remote's URL, credentials included, in what it prints.
    return redact((fatal or lines or ["git failed"])[0])


def parse_tag_listing(output: str) -> list[RawTag]:
    """Parse ``for-each-ref`` output in :data:`_TAG_FORMAT`, dropping lightweight tags."""
    tags = []
    for record in output.split(_RECORD):
        record = record.lstrip("\n")
        if not record:
            continue
        name, objtype, commit, ts, tagger, email, message = record.split(_FIELD, 6)
        if objtype != "tag" or not ts:
            continue
        tags.append(RawTag(name, commit, int(ts), tagger, email.strip("<>"), message))
    return tags


class GitRepo:
    """A working tree of a Git repository, driven through the ``git`` executable.

    ``env`` is added to the environment of every git command run in it: a mirror passes its
    remote's URL this way, so that the URL (and any token in it) is never written to disk.
    """

    def __init__(self, root: Path, env: Mapping[str, str] | None = None) -> None:
        self.root = root
        self.env: dict[str, str] = dict(env or {})
        self._index_path: Path | None = None

    def _env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of one git command: the instance's, then the call's."""
        return _clean_env({**self.env, **(extra or {})})

    @classmethod
    def discover(cls, path: str | os.PathLike[str] = ".") -> GitRepo:
        """Open the repository containing ``path``; a clear error when there is none."""
        folder = Path(path)
        if not folder.is_dir():
            raise NotARegistryError(f"{str(path)!r} is not a folder: pass a Git repository")
        # One git call also answers what a write asks next (the lock's folder, the user's
        # index file): each git process saved is a few milliseconds of every write.
        proc = subprocess.run(
            ["git", "rev-parse", "--show-toplevel", "--git-common-dir", "--git-path", "index"],
            cwd=folder,
            capture_output=True,
            text=True,
            env=_clean_env(None),
        )
        lines = proc.stdout.split("\n")
        if proc.returncode != 0 or not lines[0].strip():
            raise NotARegistryError(
                f"{str(path)!r} is not inside a Git repository: run `git init` there first"
            )
        if len(lines) != 4 or lines[3]:
            # A path with a line break in it: ask for the top level alone, as plainly as git
            # prints it, and leave the rest to be asked when needed.
            top = subprocess.run(
                ["git", "rev-parse", "--show-toplevel"],
                cwd=folder,
                capture_output=True,
                text=True,
                env=_clean_env(None),
            )
            return cls(Path(top.stdout.removesuffix("\n")))
        repo = cls(Path(lines[0]))
        # Paths git prints relative to the folder it ran in (absolute ones stay as they are).
        repo.__dict__["git_dir"] = (folder / lines[1]).resolve()
        repo._index_path = (folder / lines[2]).resolve()
        return repo

    # -- plumbing -------------------------------------------------------------------------

    def run(
        self,
        *args: str,
        stdin: str | None = None,
        env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Run one git command in the repository; raise :class:`GitError` on failure."""
        proc = subprocess.run(
            ["git", *args],
            cwd=self.root,
            input=stdin,
            capture_output=True,
            text=True,
            env=self._env(env),
        )
        if check and proc.returncode != 0:
            raise GitError(f"git {args[0]} failed: {error_line(proc.stderr or proc.stdout)}")
        return proc

    def out(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        """Standard output of a git command that must succeed, without the final newline."""
        return self.run(*args, env=env).stdout.rstrip("\n")

    @functools.cached_property
    def git_dir(self) -> Path:
        """The repository's common git directory (shared by all worktrees)."""
        return (self.root / self.out("rev-parse", "--git-common-dir")).resolve()

    # -- reading --------------------------------------------------------------------------

    def tags(self, patterns: Sequence[str], messages: bool = True) -> list[RawTag]:
        """Annotated tags whose refs match ``patterns`` (all tags when empty); without
        ``messages`` every message is empty."""
        fmt = _TAG_FORMAT if messages else _TAG_FORMAT_NO_MESSAGE
        out = self.run("for-each-ref", f"--format={fmt}", *patterns).stdout
        return parse_tag_listing(out)

    def ref_objects(self, patterns: Sequence[str]) -> dict[str, str]:
        """The refs matching ``patterns`` and the objects they point at (unpeeled)."""
        out = self.out("for-each-ref", "--format=%(objectname) %(refname)", *patterns)
        found = {}
        for line in out.splitlines():
            obj, _, ref = line.partition(" ")
            found[ref] = obj
        return found

    def head_commit(self) -> str | None:
        """The commit HEAD points at, or ``None`` on an unborn branch."""
        proc = self.run("rev-parse", "--verify", "-q", "HEAD^{commit}", check=False)
        return proc.stdout.strip() or None

    def resolve_commit(self, rev: str) -> str | None:
        """The commit ``rev`` names, or ``None`` when it names none."""
        proc = self.run("rev-parse", "--verify", "-q", f"{rev}^{{commit}}", check=False)
        return proc.stdout.strip() or None

    def show_file(self, rev: str, path: str) -> bytes | None:
        """The bytes of ``path`` at ``rev``, or ``None`` when it is not there."""
        # In a partial mirror this may fetch the blob: it needs the instance's environment.
        proc = subprocess.run(
            ["git", "cat-file", "blob", f"{rev}:{path}"],
            cwd=self.root,
            capture_output=True,
            env=self._env(),
        )
        return proc.stdout if proc.returncode == 0 else None

    def identity(self) -> Identity:
        """The configured committer identity; a one-line error when there is none."""
        # Author and committer come from the same settings; one strict probe covers both.
        proc = self.run("var", "GIT_COMMITTER_IDENT", check=False)
        if proc.returncode != 0:
            raise GitError(
                'no Git identity configured: run `git config user.name "Your Name"` '
                "and `git config user.email you@example.com`"
            )
        ident = proc.stdout.strip()
        name, _, rest = ident.partition(" <")
        return Identity(name, rest.split(">", 1)[0])

    def is_tracked(self, path: str) -> bool:
        """Whether git tracks ``path`` (relative to the root) in the index."""
        proc = self.run("ls-files", "--error-unmatch", "--", path, check=False)
        return proc.returncode == 0

    # -- writing --------------------------------------------------------------------------

    def make_tag(
        self, name: str, target: str, message: str, timestamp: int, tagger: Identity
    ) -> str:
        """Write an annotated tag *object* dated ``timestamp`` (UTC) and return its id.

        No ref is created: a write makes its tags visible together with its commit in one
        :meth:`update_refs` transaction, so a crash can never leave one without the other.
        """
        body = (
            f"object {target}\ntype commit\ntag {name}\n"
            f"tagger {tagger.name} <{tagger.email}> {timestamp} +0000\n\n{message}"
        )
        proc = self.run("mktag", stdin=body, check=False)
        if proc.returncode != 0:
            raise GitError(f"could not create tag {name!r}: {error_line(proc.stderr)}")
        return proc.stdout.strip()

    def _tree(
        self, parent: str | None, entries: Mapping[str, Entry | None], tmp_dir: Path | None = None
    ) -> str:
        """The tree of ``parent`` with ``entries`` set (``None`` removes a path), built in a
        private index file so the user's index (and what they staged) is never touched."""
        fd, tmp_path = leftovers.make_file(tmp_dir or self.git_dir, INDEX_TMP_PREFIX)
        os.close(fd)
        tmp_index = os.fspath(tmp_path)
        env = {"GIT_INDEX_FILE": tmp_index}
        try:
            self.run("read-tree", *([parent] if parent else ["--empty"]), env=env)
            self.run("update-index", "-z", "--index-info", stdin=_index_info(entries), env=env)
            return self.out("write-tree", env=env)
        finally:
            Path(tmp_index).unlink(missing_ok=True)

    def _hash_files(self, paths: Sequence[str]) -> list[str]:
        """Write the working-tree files at ``paths`` as blobs (through the repository's
        clean filters, as ``git add`` would); their ids, in order."""
        if not paths:
            return []
        ids = self.out("hash-object", "-w", "--", *paths).split("\n")
        if len(ids) != len(paths):
            raise GitError(f"git hash-object returned {len(ids)} ids for {len(paths)} files")
        return ids

    def make_commit(
        self, paths: Sequence[str], message: str, parent: str | None, tmp_dir: Path | None = None
    ) -> NewCommit | None:
        """A commit object holding exactly ``paths`` from the working tree on top of
        ``parent`` (a path with no file is removed); ``None`` when they hold nothing new.
        No ref moves (see :meth:`update_refs`), and the tree is built in a private index, so
        the user's staged changes stay staged and out of the commit.

        Each file is hashed once, by ``hash-object``.  (Adding it to the private index
        instead costs three reads of it: the index git writes right after a file changed is
        "racily clean", so ``update-index`` and ``write-tree`` each hash it again, which on
        a multi-megabyte ``registry.yaml`` is tens of milliseconds per write.)
        """
        present = []
        for path in paths:
            full = self.root / path
            if full.is_symlink():
                # hash-object would store what the link points at, not the link.
                raise GitError(f"{path} is a symbolic link: modelreg commits only files it wrote")
            if full.is_file():
                present.append(path)
            elif full.exists():
                raise GitError(f"{path} is not a file: modelreg commits only files it wrote")
        blobs = dict(zip(present, self._hash_files(present), strict=True))
        before = self.tree_entries(parent, paths) if parent else {}
        entries: dict[str, Entry | None] = {}
        for path in paths:
            if path not in blobs:
                entries[path] = None
                continue
            # The files modelreg writes are never executable: a new one is a plain file, an
            # existing one keeps the mode it has in the parent.
            mode = before[path][0] if path in before else "100644"
            entries[path] = (mode if mode in ("100644", "100755") else "100644", blobs[path])
        if parent and all(entries[p] == before.get(p) for p in paths):
            return None
        tree = self._tree(parent, entries, tmp_dir=tmp_dir)
        parents = ["-p", parent] if parent else []
        commit = self.run("commit-tree", tree, *parents, "-F", "-", stdin=message).stdout.strip()
        return NewCommit(commit, entries)

    def head(self) -> tuple[str | None, str]:
        """:meth:`head_commit` and :meth:`head_ref` in one git call (two more on an unborn
        branch, where the one call fails)."""
        proc = self.run(
            "rev-parse", "HEAD^{commit}", "--symbolic-full-name", "HEAD", "--", check=False
        )
        lines = proc.stdout.split("\n")
        if proc.returncode == 0 and len(lines) >= 2 and lines[0] and lines[1]:
            return lines[0], lines[1]
        return self.head_commit(), self.head_ref()

    def head_ref(self) -> str:
        """The ref a commit moves: HEAD's branch, or ``HEAD`` itself when detached."""
        proc = self.run("symbolic-ref", "-q", "HEAD", check=False)
        return proc.stdout.strip() or "HEAD"

    def ref_value(self, ref: str) -> str | None:
        """What ``ref`` points at (no peeling), or ``None`` when it does not exist."""
        proc = self.run("rev-parse", "--verify", "-q", ref, check=False)
        return proc.stdout.strip() or None

    def update_refs(self, updates: Sequence[tuple[str, str | None, str | None]], why: str) -> None:
        """Apply ``(ref, new, old)`` updates in one all-or-nothing ``update-ref`` transaction.

        ``old`` ``None`` means the ref must not exist yet; ``new`` ``None`` deletes it.  Every
        update is a compare-and-swap: if any ref moved meanwhile, none changes.
        """
        lines = ["start"]
        for ref, new, old in updates:
            if new is None:
                lines.append(f"delete {ref} {old or ''}".rstrip())
            elif old is None:
                lines.append(f"create {ref} {new}")
            else:
                lines.append(f"update {ref} {new} {old}")
        lines += ["prepare", "commit", ""]
        proc = self.run(
            "update-ref", "-m", f"modelreg: {why}", "--stdin", stdin="\n".join(lines), check=False
        )
        if proc.returncode != 0:
            detail = error_line(proc.stderr)
            if "reference already exists" in detail or "already exists" in detail:
                raise ConflictError(f"{detail}: another process created it; run the command again")
            if "is at" in detail or "but expected" in detail or "unable to resolve" in detail:
                raise ConflictError(
                    f"the branch moved while modelreg was writing ({detail}): run the command again"
                )
            raise GitError(f"could not update refs: {detail}")

    def index_file(self) -> Path:
        """The user's index file (per worktree)."""
        if self._index_path is None:
            self._index_path = (self.root / self.out("rev-parse", "--git-path", "index")).resolve()
        return self._index_path

    def index_entries(self, paths: Sequence[str], index: Path | None = None) -> str:
        """``git ls-files --stage`` lines for ``paths`` in ``index`` (default: the user's)."""
        env = {"GIT_INDEX_FILE": os.fspath(index)} if index is not None else None
        return self.run("ls-files", "--stage", "--", *paths, env=env).stdout

    def tree_entries(self, commit: str, paths: Sequence[str]) -> dict[str, tuple[str, str]]:
        """``path -> (mode, blob)`` for those of ``paths`` present in ``commit``."""
        found: dict[str, tuple[str, str]] = {}
        out = self.run("ls-tree", "-z", commit, "--", *paths).stdout
        for item in out.split("\0"):
            if item:
                meta, _, path = item.partition("\t")
                mode, _, blob = meta.split(" ")
                found[path] = (mode, blob)
        return found

    def set_index_entries(self, index: Path, entries: Mapping[str, Entry | None]) -> None:
        """Set the index file ``index``'s entries for these paths (``None`` removes one),
        then refresh their stat data so ``git status`` stays fast."""
        env = {"GIT_INDEX_FILE": os.fspath(index)}
        self.run("update-index", "-z", "--index-info", stdin=_index_info(entries), env=env)
        self.run("update-index", "-q", "--refresh", env=env, check=False)

    def commit_entries(self, commit: str | None, paths: Sequence[str]) -> dict[str, Entry | None]:
        """What ``commit`` holds at each of ``paths`` (``None`` where it has nothing)."""
        found = self.tree_entries(commit, paths) if commit else {}
        return {path: found.get(path) for path in paths}

    def commit_file_to_new_branch(
        self, branch: str, path: str, data: bytes, message: str, parent: str
    ) -> str:
        """Commit ``data`` as ``path`` on top of ``parent`` to a new ``branch``, leaving the
        working tree, the index and the current branch untouched."""
        if self.resolve_commit(f"refs/heads/{branch}") is not None:
            raise ConflictError(f"branch {branch!r} already exists: pick another name")
        proc = subprocess.run(
            ["git", "hash-object", "-w", "--stdin", f"--path={path}"],
            cwd=self.root,
            input=data,
            capture_output=True,
            env=self._env(),
        )
        if proc.returncode != 0:
            raise GitError(f"cannot store {path}: {error_line(proc.stderr.decode())}")
        blob = proc.stdout.decode().strip()
        tree = self._tree(parent, {path: ("100644", blob)})
        commit = self.run("commit-tree", tree, "-p", parent, "-F", "-", stdin=message).stdout
        commit = commit.strip()
        proc2 = self.run("update-ref", f"refs/heads/{branch}", commit, ZERO_OID, check=False)
        if proc2.returncode != 0:
            raise ConflictError(f"branch {branch!r} already exists: pick another name")
        return commit


def _index_info(entries: Mapping[str, Entry | None]) -> str:
    """``update-index -z --index-info`` input: a NUL-terminated line per path; mode 0
    removes the path."""
    lines = []
    for path, entry in entries.items():
        mode, blob = entry if entry is not None else ("0", ZERO_OID)
        lines.append(f"{mode} {blob}\t{path}\0")
    return "".join(lines)


def ls_remote_tags(
    url: str, patterns: Sequence[str], env: Mapping[str, str] | None = None
) -> list[RawTag]:
    """Annotated tags of a remote, from ``git ls-remote`` alone (no clone, no fetch).

    A tag listing carries names and peeled commits, not tagger dates or messages: the tags
    returned have ``timestamp`` 0 and an empty message.  Lightweight tags (no peeled line)
    are left out, as they are locally.  ``env`` is added to git's environment.
    """
    return ls_remote_tag_refs(url, patterns, env)[0]


def ls_remote_tag_refs(
    url: str, patterns: Sequence[str], env: Mapping[str, str] | None = None
) -> tuple[list[RawTag], dict[str, str]]:
    """:func:`ls_remote_tags`, and every listed tag ref (``refs/tags/…``, lightweight ones
    too) with the object it points at, as :meth:`GitRepo.ref_objects` gives them locally."""
    proc = subprocess.run(
        # '--': a URL starting with '-' must never be read as an option (--upload-pack=…).
        ["git", "ls-remote", "--tags", "--", url, *patterns],
        capture_output=True,
        text=True,
        env=_clean_env(env),
    )
    if proc.returncode != 0:
        raise GitError(f"cannot list tags of {redact(url)!r}: {error_line(proc.stderr)}")
    objects: dict[str, str] = {}
    peeled: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        sha, _, ref = line.partition("\t")
        name = ref.removeprefix("refs/tags/")
        if name.endswith("^{}"):
            peeled[name[:-3]] = sha
        else:
            objects[name] = sha
    tags = [RawTag(name, peeled[name], 0, "", "", "") for name in objects if name in peeled]
    return tags, {f"refs/tags/{name}": sha for name, sha in objects.items()}

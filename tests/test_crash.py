"""SIGKILL at every step of every write: the next write finds the state before or after.

Two ways to kill a write, as an OOM killer, a CI timeout or a power cut would:

- a ``git`` wrapper first on ``PATH`` counts the git calls ``modelreg`` makes and, at call N,
  kills it just before or just after running git;
- fault points inside modelreg (``MODELREG_FAULT=point:N``) kill it after a file is written,
  after an object is made, around the ref transaction and the user's index update.

After each kill the next modelreg write (under the lock) must find the repository exactly as
before the write or exactly as after it: ``git fsck`` clean, ``modelreg check`` consistent,
the user's staged, unstaged and untracked files untouched, no temporary file left, and the
next write succeeds.  With ``--push``, the remote never has a tag without its bytes or a stage
tag without its version tag.

``make test`` runs a sample of the kill points (every fifth git call, before or after it in
turn, the last both ways, every fault point: see :func:`_kills`); ``make test-all``
(``MODELREG_CRASH_ALL=1``) runs every one.  Each test prints its count.

For time, the registry each test starts from is built once per module (one without remotes,
one with) and copied; after a kill, the repository is checked in this process (``check``)
rather than by one more ``modelreg`` process each time.  The ``modelreg`` processes started
here are not measured by coverage (a killed one could write no data anyway): ``make test``'s
coverage gate counts the other tests (see the README's "Tests").
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.helpers import VENV_BIN, git, isolated, write_model

from modelreg import Registry

pytestmark = pytest.mark.slow

ALL = os.environ.get("MODELREG_CRASH_ALL") == "1"
FAULT_POINTS = [
    "snapshot:1",
    "snapshot:2",
    "write:1",
    "write:2",
    "write:3",
    "after-index-file:1",
    "after-commit-object:1",
    "before-refs:1",
    "after-refs:1",
    "after-index:1",
    "after-dvc-push:1",
    "after-git-push:1",
]

WRAPPER = """#!/bin/sh
# Count the git calls modelreg makes; at call $CRASH_AT, SIGKILL modelreg before or after it.
case "$(tr '\\0' ' ' < /proc/$PPID/cmdline 2>/dev/null)" in
  *bin/modelreg*) ;;
  *) exec "$REAL_GIT" "$@" ;;
esac
n=$(( $(cat "$CRASH_COUNTER" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$CRASH_COUNTER"
if [ "$n" = "$CRASH_AT" ] && [ "$CRASH_WHEN" = before ]; then kill -9 "$PPID"; exit 1; fi
"$REAL_GIT" "$@"
rc=$?
if [ "$n" = "$CRASH_AT" ] && [ "$CRASH_WHEN" = after ]; then kill -9 "$PPID"; fi
exit $rc
"""


@dataclass
class World:
    """A registry with the user's own work in progress, and optionally its remotes."""

    base: Path  # a pristine copy; each kill works on a fresh copy of it
    tmp: Path
    wrapper_bin: Path
    push: bool

    def fresh(self, name: str) -> Path:
        target = self.tmp / name
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(self.base, target, symlinks=True)
        if self.push:  # each copy gets its own remotes, copied too
            for remote in ("origin.git", "dvc-store"):
                dest = self.tmp / f"{name}-{remote}"
                if dest.exists():
                    shutil.rmtree(dest)
                shutil.copytree(self.tmp / f"base-{remote}", dest)
            git(target, "remote", "set-url", "origin", str(self.tmp / f"{name}-origin.git"))
            # What `dvc remote modify --local store url …` writes, without starting DVC.
            (target / ".dvc" / "config.local").write_text(
                f'[remote "store"]\n    url = {self.tmp / f"{name}-dvc-store"}\n'
            )
        return target

    def run(
        self, cwd: Path, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(VENV_BIN / "modelreg"), *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            env={**_unmeasured(os.environ), **(env or {})},
            timeout=300,
        )


def _unmeasured(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without the variables that make a Python process measure coverage."""
    return {k: v for k, v in env.items() if not k.startswith("COVERAGE_PROCESS_")}


def _state(repo: Path) -> dict[str, object]:
    head = git(repo, "rev-parse", "HEAD").strip()
    return {
        "head": head,
        "tags": sorted(git(repo, "tag", "--list").split()),
        "index_file": (repo / "registry.yaml").read_bytes(),
    }


USER_STATUS = "A  notes.txt\n M train.py\n?? models/other.pkl\n?? scratch.txt\n"


def _build(tmp: Path, push: bool) -> World:
    repo = tmp / "base"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "train.py").write_text("print('train')\n")
    git(repo, "add", "train.py")
    git(repo, "commit", "-q", "-m", "Start")
    reg = Registry(repo)
    if push:
        git(tmp, "init", "-q", "--bare", "-b", "main", str(tmp / "base-origin.git"))
        git(repo, "remote", "add", "origin", str(tmp / "base-origin.git"))
        reg.init(dvc_remote=str(tmp / "base-dvc-store"))
        subprocess.run(
            [str(VENV_BIN / "dvc"), "remote", "rename", "storage", "store"],
            cwd=repo, check=True, capture_output=True,
        )  # fmt: skip
        git(repo, "commit", "-qam", "name the DVC remote")
    else:
        reg.init()
    for content in ("weights-1", "weights-2"):
        write_model(repo, content)
        reg.register("churn", "models/churn.pkl", metrics={"acc": len(content)})
    reg.promote("churn", "v1.0.0", "production")
    reg.promote("churn", "v1.1.0", "staging")
    reg.promote("churn", "v1.1.0", "production")
    if push:
        reg.push("origin")
    write_model(repo, "weights-3")  # what `register` will register
    write_model(repo, "other", "models/other.pkl")  # what the next write registers
    # The user's own work in progress, which no kill may touch.
    (repo / "notes.txt").write_text("staged notes\n")
    git(repo, "add", "notes.txt")
    (repo / "train.py").write_text("print('changed, not staged')\n")
    (repo / "scratch.txt").write_text("untracked\n")
    assert git(repo, "status", "--porcelain") == USER_STATUS
    wrapper_bin = tmp / "wrapper-bin"
    wrapper_bin.mkdir()
    (wrapper_bin / "git").write_text(WRAPPER)
    (wrapper_bin / "git").chmod(0o755)
    return World(repo, tmp, wrapper_bin, push)


def _apply_setup(repo: Path) -> None:
    """A merged pull request: production goes back to v1.0.0 in the committed file."""
    text = (repo / "registry.yaml").read_text()
    assert "production: v1.1.0" in text
    (repo / "registry.yaml").write_text(text.replace("production: v1.1.0", "production: v1.0.0"))
    git(repo, "commit", "-q", "-m", "Proposal: production v1.0.0", "--", "registry.yaml")


COMMANDS: dict[str, list[str]] = {
    "register": ["register", "churn", "models/churn.pkl", "--metric", "acc=9"],
    "promote": ["promote", "churn", "v1.0.0", "staging"],
    "demote": ["demote", "churn", "staging"],
    "rollback": ["rollback", "churn", "production"],
    "deprecate": ["deprecate", "churn", "v1.0.0"],
    "apply": ["apply"],
}


def _kills(world: World, total: int) -> list[dict[str, str]]:
    """Every way to kill the command: each git call before and after, each fault point.

    The sample (``make test``) kills at every fifth git call from the first, before it and
    after it in turn, at the last one (the ref transaction) both ways, and at every fault
    point.  Killing after call N or before call N+1 leaves the same repository but for what
    modelreg writes in between, and each such write has a fault point of its own: the sample
    keeps every phase the recovery tells apart, and `make test-all` still kills everywhere.
    """
    if ALL:
        when = [(n, w) for n in range(1, total + 1) for w in ("before", "after")]
    else:
        sampled = range(1, total, 5)
        when = [(n, ("before", "after")[i % 2]) for i, n in enumerate(sampled)]
        when += [(total, "before"), (total, "after")]
    kills = [{"CRASH_AT": str(n), "CRASH_WHEN": w} for n, w in when]
    kills += [{"MODELREG_FAULT": point} for point in FAULT_POINTS]
    return kills


def _check_remote(world: World, name: str) -> None:
    """No remote tag without its bytes; no remote stage tag without its version tag."""
    origin = world.tmp / f"{name}-origin.git"
    tags = git(origin, "tag", "--list").split()
    store = world.tmp / f"{name}-dvc-store"
    for tag in tags:
        if "@v" in tag and not tag.endswith("!"):
            rec = git(origin, "for-each-ref", f"refs/tags/{tag}", "--format=%(contents)")
            md5 = rec.split('"md5":"')[1].split('"')[0]
            assert (store / "files" / "md5" / md5[:2] / md5[2:]).is_file(), (name, tag)
    commits = {git(origin, "rev-parse", f"{t}^{{commit}}").strip() for t in tags if "@v" in t}
    for tag in tags:
        if "#" in tag:
            commit = git(origin, "rev-parse", f"{tag}^{{commit}}").strip()
            assert commit in commits, (name, tag)  # a stage tag's version tag is there too


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[Path, bool], World]]:
    """``worlds(tmp, push)``: a copy in ``tmp`` of the starting registry (with its remotes
    when ``push``), built once per module for each kind."""
    home = tmp_path_factory.mktemp("crash-home")
    built: dict[bool, Path] = {}

    def world(tmp: Path, push: bool) -> World:
        if push not in built:
            built[push] = tmp_path_factory.mktemp("crash-push" if push else "crash-local")
            with isolated(home):
                _build(built[push], push)
        for item in built[push].iterdir():
            shutil.copytree(item, tmp / item.name, symlinks=True)
        return World(tmp / "base", tmp, tmp / "wrapper-bin", push)

    yield world


def _crash_all_points(world: World, command: str) -> tuple[int, int]:
    tmp, push = world.tmp, world.push
    args = COMMANDS[command] + (["--push"] if push else [])
    if command == "apply":
        _apply_setup(world.base)
    before = _state(world.base)
    # A run without a kill gives the "after" state and the number of git calls.
    probe = world.fresh("probe")
    counter = tmp / "probe.count"
    env = {
        "PATH": f"{world.wrapper_bin}{os.pathsep}{os.environ['PATH']}",
        "REAL_GIT": shutil.which("git") or "git",
        "CRASH_COUNTER": str(counter),
        "CRASH_AT": "0",
        "CRASH_WHEN": "never",
    }
    done = world.run(probe, *args, env=env)
    assert done.returncode == 0, done.stderr
    after = _state(probe)
    assert after["tags"] != before["tags"]
    total = int(counter.read_text())
    kills = consistent = 0
    for i, kill in enumerate(_kills(world, total)):
        work = world.fresh(f"k{i}")
        counter = tmp / f"k{i}.count"
        counter.unlink(missing_ok=True)
        env_kill = {**env, "CRASH_COUNTER": str(counter), "CRASH_AT": "0", **kill}
        proc = world.run(work, *args, env=env_kill)
        if proc.returncode != -9:
            # A fault point this command never reaches: it simply ran to the end.
            assert proc.returncode == 0, (kill, proc.stderr)
            shutil.rmtree(work)
            continue
        kills += 1
        if (work / ".git" / "modelreg-write").exists():
            # A read meanwhile answers from the tags, and says a repair is pending.
            read = world.run(work, "which", "churn", "production")
            assert "pending repair" in read.stderr, (kill, read.stderr)
        # A write that changes nothing but repairs first (it fails: there is no v9.9.9).
        repair = world.run(work, "promote", "churn", "v9.9.9", "production")
        assert repair.returncode == 1 and "no version v9.9.9" in repair.stderr, repair.stderr
        assert len(repair.stderr.strip().splitlines()) <= 2, repair.stderr
        now = _state(work)
        where = (command, push, kill)
        if now["tags"] == before["tags"]:
            assert now == before, where
        else:
            assert now["tags"] == after["tags"], where
            if now["head"] != before["head"]:
                parent = git(work, "rev-parse", "HEAD^").strip()
                assert parent == before["head"], where
        assert git(work, "status", "--porcelain") == USER_STATUS, where
        assert (
            subprocess.run(
                ["git", "fsck", "--no-dangling", "--no-progress"], cwd=work, capture_output=True
            ).returncode
            == 0
        ), where
        leftovers = [p.name for p in (work / ".git").iterdir() if p.name.startswith("modelreg-")]
        assert leftovers == [], where
        assert not (work / ".git" / "index.lock").exists(), where
        cache_tmp = [p for p in (work / ".dvc" / "cache").rglob(".modelreg-tmp-*")]
        assert cache_tmp == [], where
        report = Registry(work).check()
        assert report.ok, (where, [str(p) for p in report.problems])
        if push:
            _check_remote(world, f"k{i}")
        # The next write succeeds.  With --push at every fifth kill point (a push costs a
        # DVC import: over the whole enumeration, minutes), locally at the others.
        again = ["--push"] if push and i % 5 == 0 else []
        nxt = world.run(work, "register", "other", "models/other.pkl", *again)
        assert nxt.returncode == 0, (where, nxt.stderr)
        consistent += 1
        shutil.rmtree(work)
        if push:
            for remote in ("origin.git", "dvc-store"):
                shutil.rmtree(tmp / f"k{i}-{remote}")
    return kills, consistent


@pytest.mark.crash
@pytest.mark.parametrize("command", list(COMMANDS))
def test_sigkill_anywhere_leaves_before_or_after(
    worlds: Callable[[Path, bool], World], tmp_path: Path, command: str
) -> None:
    kills, consistent = _crash_all_points(worlds(tmp_path, False), command)
    print(f"{command}: {kills} kills, {consistent} consistent")
    assert kills >= 8 and consistent == kills


# Every --push form under `make test-all`; `make test` keeps two, for time.
PUSH_COMMANDS = list(COMMANDS) if ALL else ["register", "promote"]


@pytest.mark.crash
@pytest.mark.parametrize("command", PUSH_COMMANDS)
def test_sigkill_anywhere_in_a_push_write(
    worlds: Callable[[Path, bool], World], tmp_path: Path, command: str
) -> None:
    kills, consistent = _crash_all_points(worlds(tmp_path, True), command)
    print(f"{command} --push: {kills} kills, {consistent} consistent")
    assert kills >= 8 and consistent == kills


# -- the rest of "two states only" ----------------------------------------------------------


def test_a_malformed_block_of_another_model_stops_every_write(
    registry: Registry, repo: Path
) -> None:
    from tests.helpers import modelreg, snapshot

    write_model(repo, "a")
    registry.register("churn", "models/churn.pkl")
    write_model(repo, "b", "models/other.pkl")
    registry.register("other", "models/other.pkl")
    text = (repo / "registry.yaml").read_text()
    broken = text.replace("  other:\n", "  other:\n    labels: [unclosed\n", 1)
    assert broken != text
    (repo / "registry.yaml").write_text(broken)
    git(repo, "commit", "-qam", "a bad merge")
    write_model(repo, "a2")
    before = snapshot(repo)
    for args in (["register", "churn", "models/churn.pkl"], ["promote", "churn", "v1.0.0", "dev"]):
        proc = modelreg(repo, *args)
        assert proc.returncode == 1, proc.stdout
        assert "registry.yaml:" in proc.stderr and len(proc.stderr.splitlines()) == 1
    assert snapshot(repo) == before
    # Fixed by hand: writes work again, and the fixed file is remembered as valid.
    (repo / "registry.yaml").write_text(text)
    assert modelreg(repo, "promote", "churn", "v1.0.0", "dev").returncode == 0
    assert (repo / ".git" / "modelreg.valid-index").is_file()


def test_an_index_lock_held_by_another_process_fails_before_anything_changes(
    registry: Registry, repo: Path
) -> None:
    from tests.helpers import modelreg, snapshot

    write_model(repo, "a")
    registry.register("churn", "models/churn.pkl")
    write_model(repo, "b")
    (repo / ".git" / "index.lock").write_text("an IDE's")
    before = snapshot(repo)
    proc = modelreg(
        repo, "register", "churn", "models/churn.pkl", env={"MODELREG_INDEX_LOCK_WAIT": "0.2"}
    )
    assert proc.returncode == 1 and "index.lock" in proc.stderr, proc.stderr
    assert "nothing was changed" in proc.stderr
    assert snapshot(repo) == before
    assert (repo / ".git" / "index.lock").read_text() == "an IDE's"  # never ours to delete
    (repo / ".git" / "index.lock").unlink()
    proc = modelreg(repo, "register", "churn", "models/churn.pkl")
    assert proc.returncode == 0, proc.stderr
    assert git(repo, "status", "--porcelain") == ""  # the user's index follows HEAD


def test_temporaries_of_killed_writes_are_removed_by_the_next_write(
    registry: Registry, repo: Path
) -> None:
    """A SIGKILL while copying into the DVC cache, or while building a private index (a
    `promote --no-tag --branch`), leaves a temporary; the next write removes it, and only
    the ones whose process is gone."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    cache = repo / ".dvc" / "cache" / "files" / "md5"
    cache.mkdir(parents=True, exist_ok=True)
    planted = [
        cache / f".modelreg-tmp-{dead.pid}-half",
        repo / ".git" / f"modelreg-index-{dead.pid}-x",
    ]
    alive = [cache / f".modelreg-tmp-{os.getpid()}-busy", repo / ".git" / "modelreg-index-x"]
    for path in planted + alive:
        path.write_bytes(b"partial")
    write_model(repo, "weights")
    registry.register("churn", "models/churn.pkl")
    assert [p.exists() for p in planted] == [False, False]
    assert [p.exists() for p in alive] == [True, True]

"""Sharing a registry through a bare Git remote (file://) and a DVC remote folder."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from tests.helpers import (
    bare_remote_and_clone,
    git,
    git_wrapped,
    modelreg,
    snapshot,
    start_modelreg,
    write_model,
)

from modelreg import ConflictError, NotARegistryError, PublishError, Registry

pytestmark = pytest.mark.slow


class Shared:
    """A bare origin, a DVC remote folder, and a way to make clones of the registry."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.origin = tmp / "origin.git"
        self.dvc_remote = tmp / "dvc-remote"
        git(tmp, "init", "-q", "--bare", "-b", "main", str(self.origin))
        seed = tmp / "seed"
        git(tmp, "clone", "-q", self.url, str(seed))
        git(seed, "commit", "-q", "--allow-empty", "-m", "Start")
        Registry(seed).init(dvc_remote=str(self.dvc_remote))
        git(seed, "push", "-q", "origin", "main")

    @property
    def url(self) -> str:
        return f"file://{self.origin}"

    def clone(self, name: str) -> Path:
        path = self.tmp / name
        git(self.tmp, "clone", "-q", self.url, str(path))
        return path

    def remote_tags(self) -> list[str]:
        out = git(self.tmp, "ls-remote", "--tags", self.url)
        return sorted(
            line.split("\t")[1].removeprefix("refs/tags/")
            for line in out.splitlines()
            if not line.endswith("^{}")
        )

    def remote_index(self) -> dict[str, object]:
        text = git(self.origin, "show", "main:registry.yaml")
        return yaml.safe_load(text)  # type: ignore[no-any-return]


@pytest.fixture
def shared(tmp_path: Path) -> Shared:
    return Shared(tmp_path)


def test_register_push_sends_bytes_then_branch_and_tag(shared: Shared, tmp_path: Path) -> None:
    alice = shared.clone("alice")
    write_model(alice, "alice-weights")
    proc = modelreg(alice, "register", "churn", "models/churn.pkl", "--push")
    assert (proc.returncode, proc.stdout) == (0, "v1.0.0\n"), proc.stderr
    assert shared.remote_tags() == ["churn@v1.0.0"]
    proc = modelreg(alice, "promote", "churn", "v1.0.0", "production", "--push")
    assert proc.returncode == 0, proc.stderr
    assert shared.remote_tags() == ["churn#production#1", "churn@v1.0.0"]
    assert shared.remote_index()["models"]["churn"]["stages"] == {"production": "v1.0.0"}  # type: ignore[index]

    bob = shared.clone("bob")  # no DVC cache: the bytes must come from the DVC remote
    out = Registry(bob).get("churn#production", out=tmp_path / "deploy.pkl")
    assert out.read_text() == "alice-weights"


def test_push_publishes_what_the_remote_lacks(shared: Shared) -> None:
    alice = shared.clone("alice")
    reg = Registry(alice)
    write_model(alice, "a")
    reg.register("churn", "models/churn.pkl")
    reg.promote("churn", "v1.0.0", "staging")
    assert shared.remote_tags() == []
    assert reg.push() == ["churn#staging#1", "churn@v1.0.0"]
    assert shared.remote_tags() == ["churn#staging#1", "churn@v1.0.0"]
    assert reg.push() == []
    proc = modelreg(alice, "push")
    assert (proc.returncode, proc.stdout) == (0, "Pushed 0 tag(s) to origin\n")


def test_a_racing_writer_retries_with_the_next_version(shared: Shared) -> None:
    alice, bob = shared.clone("alice"), shared.clone("bob")
    write_model(alice, "alice")
    Registry(alice).register("churn", "models/churn.pkl", push="origin")
    write_model(bob, "bob")
    # Bob's clone is behind: his first attempt computes v1.0.0 too, is rejected, catches up.
    mv = Registry(bob).register("churn", "models/churn.pkl", push="origin")
    assert mv.version == "v1.1.0"
    assert shared.remote_tags() == ["churn@v1.0.0", "churn@v1.1.0"]
    versions = shared.remote_index()["models"]["churn"]["versions"]  # type: ignore[index]
    assert sorted(versions) == ["v1.0.0", "v1.1.0"]


def _racing_writers(shared: Shared, count: int) -> None:
    clones = [shared.clone(f"writer{i}") for i in range(count)]
    for i, path in enumerate(clones):
        write_model(path, f"weights of writer {i}")
    procs = [
        start_modelreg(
            path, "register", "churn", "models/churn.pkl", "--push", "--metric", f"writer={i}"
        )
        for i, path in enumerate(clones)
    ]
    results = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0] * count, [err for _, err in results]
    versions = sorted(out.strip() for out, _ in results)
    assert len(set(versions)) == count
    assert shared.remote_tags() == sorted(f"churn@{v}" for v in versions)
    index = shared.remote_index()["models"]["churn"]["versions"]  # type: ignore[index]
    assert sorted(index) == sorted(versions)
    writers = sorted(int(e["metrics"]["writer"]) for e in index.values())
    assert writers == list(range(count))
    for path in clones:  # every writer's clone is left consistent
        assert git(path, "status", "--porcelain") == ""


def test_eight_parallel_writers_all_land_with_distinct_versions(shared: Shared) -> None:
    _racing_writers(shared, 8)


@pytest.mark.long
def test_sixteen_parallel_writers_all_land_with_distinct_versions(shared: Shared) -> None:
    """The retry budget is a time, not a count: 16 of 16 land (a fixed 10 retries lost 5)."""
    _racing_writers(shared, 16)


def test_unreachable_remote_keeps_the_local_write_for_a_later_push(shared: Shared) -> None:
    alice = shared.clone("alice")
    write_model(alice, "a")
    Registry(alice).register("churn", "models/churn.pkl")
    git(alice, "remote", "set-url", "origin", str(shared.tmp / "nowhere.git"))
    before = snapshot(alice)
    proc = modelreg(alice, "promote", "churn", "v1.0.0", "production", "--push")
    assert proc.returncode == 1
    assert proc.stderr.startswith("modelreg: error: cannot fetch from 'origin'")
    assert snapshot(alice) == before
    git(alice, "remote", "set-url", "origin", shared.url)
    assert Registry(alice).push() == ["churn@v1.0.0"]


def test_rejected_for_another_reason_is_not_retried(shared: Shared) -> None:
    hook = shared.origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'registry is frozen' >&2\nexit 1\n")
    hook.chmod(0o755)
    alice = shared.clone("alice")
    write_model(alice, "a")
    with pytest.raises(
        PublishError,
        match="done locally, but publishing to 'origin' failed .*pre-receive hook declined.*"
        "run `modelreg push`",
    ):
        Registry(alice).register("churn", "models/churn.pkl", push="origin")
    # The local write stands, as the message says; nothing reached the remote; a later push
    # completes it.
    assert Registry(alice).latest("churn").version == "v1.0.0"
    assert shared.remote_tags() == []
    hook.unlink()
    assert Registry(alice).push() == ["churn@v1.0.0"]


def test_push_without_a_dvc_remote_is_refused_before_any_tag_leaves(tmp_path: Path) -> None:
    origin, work = bare_remote_and_clone(tmp_path)
    Registry(work).init()
    write_model(work, "a")
    # The local write stands; publishing it stops at the DVC remote, before the tag is pushed.
    refused = (
        "Register churn v1.0.0 was done locally, but publishing to 'origin' failed (no default "
        "DVC remote is configured, so the artifact bytes cannot be shared: run `dvc remote add "
        "-d storage URL` first (credentials: `dvc remote modify --local storage …`)): run "
        "`modelreg push` to publish it"
    )
    with pytest.raises(PublishError, match=f"^{re.escape(refused)}$"):
        Registry(work).register("churn", "models/churn.pkl", push="origin")
    assert git(tmp_path, "ls-remote", "--tags", str(origin)) == ""


def test_giving_up_after_bounded_retries_leaves_the_clone_as_it_was(
    shared: Shared, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelreg import sync

    alice, bob = shared.clone("alice"), shared.clone("bob")
    write_model(alice, "alice")
    Registry(alice).register("churn", "models/churn.pkl", push="origin")
    write_model(bob, "bob")
    # Bob never gets to see Alice's push (his catch-up is a no-op), so every attempt races.
    monkeypatch.setattr(sync, "catch_up", lambda repo, remote, branch: None)
    monkeypatch.setenv("MODELREG_PUSH_TIMEOUT", "0")
    before = snapshot(bob)
    with pytest.raises(ConflictError, match="gave up after 1 attempt in 0s.*churn@v1.0.0"):
        Registry(bob).register("churn", "models/churn.pkl", push="origin")
    assert snapshot(bob) == before
    assert shared.remote_tags() == ["churn@v1.0.0"]


def mirrors(home: Path) -> list[Path]:
    root = home / ".cache" / "modelreg" / "mirrors"
    return list(root.iterdir()) if root.exists() else []


@pytest.fixture
def published(shared: Shared) -> Shared:
    alice = shared.clone("alice")
    reg = Registry(alice)
    for content in ("one", "two"):
        write_model(alice, content)
        reg.register("churn", "models/churn.pkl", metrics={"acc": len(content)}, push="origin")
    reg.promote("churn", "v1.0.0", "production", push="origin")
    return shared


def test_which_and_latest_by_url_use_ls_remote_only(published: Shared) -> None:
    home = Path(os.environ["HOME"])
    proc = modelreg(published.tmp, "which", "churn", "production", "--repo", published.url)
    assert (proc.returncode, proc.stdout) == (0, "v1.0.0\n"), proc.stderr
    proc = modelreg(published.tmp, "latest", "churn", "--repo", published.url)
    assert (proc.returncode, proc.stdout) == (0, "v1.1.0\n")
    assert mirrors(home) == []  # no clone, no fetch
    proc = modelreg(published.tmp, "which", "churn", "staging", "--repo", published.url)
    assert proc.returncode == 1 and "holds stage 'staging'" in proc.stderr


def test_a_mirror_holding_every_listed_tag_is_not_fetched_again(
    published: Shared, tmp_path: Path
) -> None:
    """Two production tags: names no longer decide, so `which` reads dates from the mirror;
    once the mirror holds exactly what ls-remote lists, it is not fetched again, and a tag
    the remote gains since is fetched (the answer is never stale)."""
    alice = published.clone("alice-2")
    Registry(alice).promote("churn", "v1.1.0", "production", push="origin")
    log = tmp_path / "git.log"
    logger = '#!/bin/sh\necho "$1" >> "$GIT_LOG"\nexec "$REAL_GIT" "$@"\n'
    env = git_wrapped(tmp_path / "bin", logger, GIT_LOG=str(log))

    def which() -> tuple[str, list[str]]:
        log.write_text("")
        proc = modelreg(
            published.tmp, "which", "churn", "production", "--repo", published.url, env=env
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip(), log.read_text().split()

    answer, first = which()
    assert (answer, "fetch" in first) == ("v1.1.0", True)
    answer, again = which()
    assert answer == "v1.1.0"
    assert "ls-remote" in again and "fetch" not in again
    Registry(alice).promote("churn", "v1.0.0", "production", push="origin")
    answer, after = which()
    assert (answer, "fetch" in after) == ("v1.0.0", True)


def test_details_by_url_come_from_a_small_mirror(published: Shared, tmp_path: Path) -> None:
    reg = Registry(published.url)
    assert reg.which("churn", "production").metrics == {"acc": 3.0}
    assert len(mirrors(Path(os.environ["HOME"]))) == 1
    assert [e.kind.value for e in reg.history("churn")] == ["assign", "register", "register"]
    assert [v.version for v in reg.show("churn").versions] == ["v1.1.0", "v1.0.0"]
    out = reg.get("churn#production", out=tmp_path / "model.pkl")
    assert out.read_text() == "one"
    url = published.url
    refused = f"{url} is a remote registry: clone it (`git clone {url}`) to write"
    with pytest.raises(NotARegistryError, match=f"^{re.escape(refused)}$"):
        reg.promote("churn", "v1.1.0", "production")


def test_a_half_made_mirror_is_rebuilt(published: Shared) -> None:
    """A kill between `git init` and the mirror's configuration, or a dead build's temporary
    folder: the next read by URL repairs it instead of failing until it is deleted by hand."""
    reg = Registry(published.url)
    assert reg.show("churn").latest == "v1.1.0"
    (mirror,) = mirrors(Path(os.environ["HOME"]))
    (mirror / "config").write_text("[core]\n\tbare = true\n")  # as a kill would leave it
    dead = subprocess.Popen(["true"])
    dead.wait()
    leftover = mirror.parent / f".{mirror.name}.tmp-{dead.pid}-x"
    leftover.mkdir()
    proc = modelreg(published.tmp, "show", "churn", "--repo", published.url)
    assert proc.returncode == 0, proc.stderr
    assert "partialclone" in (mirror / "config").read_text().lower()
    assert not leftover.exists()
    assert reg.history("churn")[0].kind.value == "assign"


def test_a_bad_url_leaves_no_mirror_behind(tmp_path: Path) -> None:
    url = f"file://{tmp_path / 'missing.git'}"
    for _ in range(2):
        proc = modelreg(tmp_path, "show", "churn", "--repo", url)
        assert proc.returncode == 1 and len(proc.stderr.splitlines()) == 1
    root = Path(os.environ["HOME"]) / ".cache" / "modelreg" / "mirrors"
    assert not root.exists() or all(not p.name.startswith(".") for p in root.iterdir())


def test_deprecation_by_url_is_read_from_tag_objects(published: Shared) -> None:
    alice = published.tmp / "alice"
    Registry(alice).deprecate("churn", push="origin")
    proc = modelreg(published.tmp, "latest", "churn", "--repo", published.url)
    assert proc.returncode == 1 and "deprecated" in proc.stderr
    write_model(alice, "three")
    Registry(alice).register("churn", "models/churn.pkl", push="origin")
    proc = modelreg(published.tmp, "latest", "churn", "--repo", published.url)
    assert (proc.returncode, proc.stdout) == (0, "v1.2.0\n")


def test_smart_http_smoke(tmp_path: Path) -> None:
    from tests.gitserver import serve

    shared = Shared(tmp_path)
    with serve(tmp_path) as base:
        url = f"{base}/origin.git"
        work = tmp_path / "http-clone"
        git(tmp_path, "clone", "-q", url, str(work))
        write_model(work, "over-http")
        Registry(work).register("churn", "models/churn.pkl", push="origin")
        Registry(work).promote("churn", "v1.0.0", "production", push="origin")
        proc = modelreg(tmp_path, "which", "churn", "production", "--repo", url)
        assert (proc.returncode, proc.stdout) == (0, "v1.0.0\n"), proc.stderr
        out = Registry(url).get("churn#production", out=tmp_path / "m.pkl")
        assert out.read_text() == "over-http"
    assert shared.remote_tags() == ["churn#production#1", "churn@v1.0.0"]


def read_fifo(path: Path, timeout: float) -> str:
    """What the first writer of the FIFO ``path`` writes, waiting at most ``timeout`` seconds
    for it to open the FIFO (a test fails rather than hang when it never does)."""
    import select

    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # no writer needed to open
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
        assert ready, f"nothing wrote to {path.name} within {timeout}s"
        chunks: list[bytes] = []
        while True:
            ready, _, _ = select.select([fd], [], [], timeout)
            assert ready, f"{path.name}'s writer did not finish within {timeout}s"
            chunk = os.read(fd, 4096)
            if not chunk:
                return b"".join(chunks).decode()
            chunks.append(chunk)
    finally:
        os.close(fd)


@pytest.mark.parametrize("server", ["accepts", "rejects"])
def test_ctrl_c_during_a_push_leaves_state_a_later_push_completes(
    shared: Shared, tmp_path: Path, server: str
) -> None:
    """Ctrl-C while the remote holds the push in its pre-receive hook.  The remote then either
    takes the refs (its receive-pack goes on without the client) or refuses them: the two
    states a later command must complete from."""
    import signal

    # The hooks say where the push is through FIFOs: pre-receive that it started (then it
    # holds the push until the test answers with its exit code), reference-transaction that
    # the refs were updated (post-receive would not run: receive-pack reports to the gone
    # client first).
    started, answer, updated = (tmp_path / n for n in ("started", "answer", "updated"))
    for path in (started, answer, updated):
        os.mkfifo(path)
    hook = shared.origin / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\necho started > {started}\nread code < {answer}\nexit $code\n")
    hook.chmod(0o755)
    after = shared.origin / "hooks" / "reference-transaction"
    if server == "accepts":
        signal_refs = f'[ "$1" = committed ] && echo updated > {updated}'
        after.write_text(f"#!/bin/sh\ncat > /dev/null\n{signal_refs}\nexit 0\n")
        after.chmod(0o755)
    alice = shared.clone("alice")
    write_model(alice, "interrupted-weights")
    proc = start_modelreg(alice, "register", "churn", "models/churn.pkl", "--push")
    assert read_fifo(started, timeout=60) == "started\n", proc.communicate()
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    # The hook outlives the client and still holds its stderr: answer it before reading.
    with open(answer, "w") as fifo:
        fifo.write("0\n" if server == "accepts" else "1\n")
    hook.unlink()
    _, err = proc.communicate(timeout=60)
    assert len(err.strip().splitlines()) == 1, err
    if server == "accepts":
        # receive-pack updates the refs after its hook, without the client.
        assert read_fifo(updated, timeout=60) == "updated\n"
        after.unlink()
        assert shared.remote_tags() == ["churn@v1.0.0"]
        Registry(alice).push()  # catches up: fetches and fast-forwards
    else:
        assert shared.remote_tags() == []
        assert git(alice, "tag", "--list") == ""
        again = modelreg(alice, "register", "churn", "models/churn.pkl", "--push")
        assert again.returncode == 0, again.stderr
    assert Registry(alice).latest("churn").version == "v1.0.0"
    assert shared.remote_tags() == ["churn@v1.0.0"]
    assert shared.remote_tags() == ["churn@v1.0.0"]
    assert "v1.0.0" in shared.remote_index()["models"]["churn"]["versions"]  # type: ignore[index]
    bob = shared.clone("bob")
    assert (
        Registry(bob).get("churn@v1.0.0", out=tmp_path / "m").read_text() == "interrupted-weights"
    )


def test_init_push_publishes_the_registry_commit(tmp_path: Path) -> None:
    origin, work = bare_remote_and_clone(tmp_path)
    proc = modelreg(work, "init", "--dvc-remote", str(tmp_path / "store"), "--push", "-m", "set up")
    assert proc.returncode == 0, proc.stderr
    assert "stages:" in git(origin, "show", "main:registry.yaml")
    assert git(origin, "log", "-1", "--format=%B", "main").strip() == (
        "Initialize modelreg registry\n\nset up"
    )


def test_a_push_write_publishes_every_tag_the_remote_lacks_bytes_first(
    shared: Shared, tmp_path: Path
) -> None:
    """register without --push, then promote --push: the remote must get the version tag
    and its bytes too, or readers get a stage tag naming a version they cannot fetch."""
    alice = shared.clone("alice")
    write_model(alice, "local-only")
    Registry(alice).register("churn", "models/churn.pkl")
    proc = modelreg(alice, "promote", "churn", "v1.0.0", "production", "--push")
    assert proc.returncode == 0, proc.stderr
    assert shared.remote_tags() == ["churn#production#1", "churn@v1.0.0"]
    bob = shared.clone("bob")
    assert modelreg(bob, "which", "churn", "production").stdout == "v1.0.0\n"
    assert modelreg(bob, "latest", "churn").stdout == "v1.0.0\n"
    assert Registry(bob).get("churn#production", out=tmp_path / "m").read_text() == "local-only"


def test_push_in_a_clone_that_is_merely_behind_catches_up(shared: Shared) -> None:
    alice = shared.clone("alice")
    write_model(alice, "a")
    Registry(alice).register("churn", "models/churn.pkl", push="origin")
    carol = shared.clone("carol")
    Registry(alice).promote("churn", "v1.0.0", "staging", push="origin")
    # Carol is merely behind (no local commits): push fetches, fast-forwards, succeeds.
    proc = modelreg(carol, "push")
    assert proc.returncode == 0, proc.stderr
    assert git(carol, "rev-parse", "HEAD") == git(shared.origin, "rev-parse", "main")


def in_step(shared: Shared) -> tuple[Path, Path]:
    """Alice's and Bob's clones, both at Alice's first published version of churn."""
    alice, bob = shared.clone("alice"), shared.clone("bob")
    write_model(alice, "first")
    Registry(alice).register("churn", "models/churn.pkl", push="origin")
    git(bob, "pull", "-q", "origin", "main")
    git(bob, "fetch", "-q", "--tags")
    return alice, bob


def test_unpublished_writes_overtaken_by_the_remote_are_redone_on_its_tip(
    shared: Shared, tmp_path: Path
) -> None:
    """Alice's register and promote never left her clone (a failed upload, say); Bob then
    published the same model's next version.  Her next push redoes her writes on the
    remote tip: her version takes the next free number, her promotion follows it."""
    alice, bob = in_step(shared)
    write_model(alice, "alice-second")
    mine = Registry(alice).register("churn", "models/churn.pkl", message="alice's retrain")
    Registry(alice).promote("churn", mine.version, "staging")
    write_model(bob, "bob-second")
    assert Registry(bob).register("churn", "models/churn.pkl", push="origin").version == "v1.1.0"

    proc = modelreg(alice, "push")
    assert proc.returncode == 0, proc.stderr
    assert "churn v1.1.0 is now v1.2.0" in proc.stderr
    assert shared.remote_tags() == [
        "churn#staging#1",
        "churn@v1.0.0",
        "churn@v1.1.0",
        "churn@v1.2.0",
    ]
    assert modelreg(alice, "check").returncode == 0
    assert git(alice, "for-each-ref", "refs/modelreg") == ""  # the backup is gone
    carol = shared.clone("carol")
    assert modelreg(carol, "check").returncode == 0
    assert modelreg(carol, "which", "churn", "staging").stdout == "v1.2.0\n"
    got = Registry(carol).get("churn@v1.2.0", out=tmp_path / "m").read_text()
    assert got == "alice-second"
    redone = Registry(carol).resolve("churn@v1.2.0")
    assert redone.registered_at == mine.registered_at  # the record keeps the original time
    assert "alice's retrain" in redone.message


def test_the_write_machinery_redoes_only_through_the_callable_it_is_handed(
    shared: Shared,
) -> None:
    """writer.py never imports the commands that redo overtaken writes: the API layer hands
    redo.run down in WriteOptions.  A push write handed none refuses, leaving the writes kept
    for the next catch-up, which `modelreg push` (handed redo.run) carries out."""
    from modelreg import promotion
    from modelreg.gitrepo import GitRepo
    from modelreg.writer import WriteOptions

    alice, bob = in_step(shared)
    write_model(alice, "alice-second")
    Registry(alice).register("churn", "models/churn.pkl")  # never published
    write_model(bob, "bob-second")
    Registry(bob).register("churn", "models/churn.pkl", push="origin")

    with pytest.raises(ConflictError, match="run `modelreg push --git-remote origin`"):
        promotion.promote(
            GitRepo.discover(alice),
            "churn",
            "v1.0.0",
            "staging",
            options=WriteOptions(push="origin"),
        )
    assert shared.remote_tags() == ["churn@v1.0.0", "churn@v1.1.0"]
    proc = modelreg(alice, "push")
    assert proc.returncode == 0, proc.stderr
    assert "churn v1.1.0 is now v1.2.0" in proc.stderr
    assert shared.remote_tags() == ["churn@v1.0.0", "churn@v1.1.0", "churn@v1.2.0"]
    trailer = git(alice, "log", "-1", "--format=%B", "churn@v1.2.0")
    assert '"redo_of": "' in trailer  # the redone write names the commit it redoes


def test_a_catch_up_killed_midway_resumes(shared: Shared) -> None:
    alice, bob = shared.clone("alice"), shared.clone("bob")
    write_model(alice, "first")
    Registry(alice).register("churn", "models/churn.pkl", push="origin")
    git(bob, "pull", "-q", "origin", "main")
    write_model(alice, "alice-second")
    Registry(alice).register("churn", "models/churn.pkl")
    Registry(alice).promote("churn", "v1.1.0", "staging")
    write_model(bob, "bob-second")
    Registry(bob).register("churn", "models/churn.pkl", push="origin")
    killed = modelreg(alice, "push", env={"MODELREG_FAULT": "redo-step:1"})
    assert killed.returncode == -9
    assert git(alice, "for-each-ref", "--format=%(refname)", "refs/modelreg/redo/head")
    proc = modelreg(alice, "push")
    assert proc.returncode == 0, proc.stderr
    assert shared.remote_tags() == [
        "churn#staging#1",
        "churn@v1.0.0",
        "churn@v1.1.0",
        "churn@v1.2.0",
    ]
    assert modelreg(alice, "which", "churn", "staging").stdout == "v1.2.0\n"
    assert git(alice, "for-each-ref", "refs/modelreg") == ""


def test_a_divergence_by_the_users_own_commits_is_one_line(shared: Shared) -> None:
    alice, bob = shared.clone("alice"), shared.clone("bob")
    (alice / "notes.txt").write_text("mine")
    git(alice, "add", "notes.txt")
    git(alice, "commit", "-qm", "my own work")
    write_model(bob, "b")
    Registry(bob).register("churn", "models/churn.pkl", push="origin")
    write_model(alice, "a")
    before = snapshot(alice)
    proc = modelreg(alice, "register", "churn", "models/churn.pkl", "--push")
    assert proc.returncode == 1 and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert "my own work" in proc.stderr and "git pull --rebase origin main" in proc.stderr
    assert snapshot(alice)["head"] == before["head"]
    assert snapshot(alice)["status"] == before["status"]


def test_two_offline_promotions_with_the_same_counter_renumber_by_themselves(
    shared: Shared,
) -> None:
    """Alice and Bob both promote offline and both make churn#staging#2; Bob pushes first.
    Alice's push catches up and renumbers hers instead of failing without advice."""
    alice = shared.clone("alice")
    for content in ("one", "two"):
        write_model(alice, content)
        Registry(alice).register("churn", "models/churn.pkl", push="origin")
    bob = shared.clone("bob")
    git(bob, "fetch", "-q", "--tags")
    Registry(alice).promote("churn", "v1.0.0", "staging")
    Registry(bob).promote("churn", "v1.1.0", "dev")
    assert git(alice, "tag", "--list", "churn#*").split() == ["churn#staging#1"]
    assert git(bob, "tag", "--list", "churn#*").split() == ["churn#dev#1"]
    assert modelreg(bob, "push").returncode == 0
    proc = modelreg(alice, "push")
    assert proc.returncode == 0, proc.stderr
    assert "redid" in proc.stderr
    assert shared.remote_tags() == [
        "churn#dev#1",
        "churn#staging#2",
        "churn@v1.0.0",
        "churn@v1.1.0",
    ]
    carol = shared.clone("carol")
    assert modelreg(carol, "which", "churn", "staging").stdout == "v1.0.0\n"
    assert modelreg(carol, "which", "churn", "dev").stdout == "v1.1.0\n"
    assert modelreg(carol, "check", "--strict").returncode == 0

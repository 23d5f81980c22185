"""The README's examples, run as written.

Every ```console and ```python block of README.md runs, in document order, in one scratch
world (``yaml``, ``ini``, ``text``, ``bash``… blocks are file contents or listings, not
examples).  How a block is read:

- **Exempt.** A block right after ``<!-- not run: REASON -->`` does not run; the reason is
  required.  Keep these few: a block that needs a real Git host, changes your shell, or
  runs this very test.
- **Console.** A line starting with ``$ `` is a command (a line ending in ``\\`` continues
  on the next one); the lines after it, up to the next ``$ ``, are its shown output.  Each
  command runs in bash, in the folder the previous one left (a ``cd`` carries over, from
  block to block too), with ``$?`` the previous command's status.
- **Output.** Shown output must equal stdout and stderr together, line for line (trailing
  spaces aside), where ``…`` matches any text, and ``…`` followed by spaces any text that
  ends in a space, so a table's columns stay aligned under a date.  A command shown without
  output is not compared.  Dates, hashes and absolute paths change from run to run: the
  README writes them as ``…``.
- **Exit status.** 0, unless the last shown line is an error (``modelreg: error: …`` or
  ``{"error": …}``): then non-zero.  A following ``$ echo $?`` shows the status exactly.
- **Python.** A block runs as a script in a fresh interpreter, in the current folder, and
  must exit 0.
- **Hosts.** Git hosts become ``file://`` bare repositories under ``hosts/`` (``HOSTS``),
  S3 becomes moto's S3 server on 127.0.0.1, absolute folders (``/mnt/…``, ``/tmp/…``)
  move into the scratch folder (``FOLDERS``).  The same rewriting applies to the shown
  output.
- **Install lines.** Commands starting ``pip install`` run in
  :func:`test_the_install_lines_work`, into a temporary folder rather than this venv.

What a reader brings along is made here, in plain sight: before each ``modelreg register
NAME PATH``, new bytes at PATH (a retrained model), unless the block made PATH itself; and
``SETUP``, keyed by a block's heading and its place under it, for the rest (metrics files,
a GTO repository, a pull request's registry.yaml, where a block starts).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.dated import DatedRegistry
from tests.helpers import git, s3_client

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
MARKER = re.compile(r"<!--\s*not run\b:?(.*?)-->", re.DOTALL)  # "not run: REASON"
HEADING = re.compile(r"^(#{2,4}) (.+?)\s*$")
ERROR_LINE = re.compile(r'^(modelreg: error: |\{"error": )')
RUN = ("console", "python")


# -- reading the README ---------------------------------------------------------------------


@dataclass
class Block:
    lang: str
    line: int  # of the opening fence, 1-based
    heading: str
    text: str
    exempt: str | None  # the reason, when marked


@dataclass
class Command:
    line: int
    text: str
    shown: list[str] = field(default_factory=list)


def blocks(text: str) -> list[Block]:
    """Every fenced block, with the heading it sits under and its not-run reason."""
    found: list[Block] = []
    lines = text.splitlines()
    heading = ""
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            if h := HEADING.match(lines[i]):
                heading = h.group(2)
            i += 1
            continue
        indent, lang = match.groups()
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i].rstrip() != f"{indent}```":
            body.append(lines[i][len(indent) :])
            i += 1
        previous = next((ln for ln in reversed(lines[:start]) if ln.strip()), "")
        marker = MARKER.search(previous)
        found.append(
            Block(
                lang=lang,
                line=start + 1,
                heading=heading,
                text="\n".join(body) + "\n",
                exempt=marker.group(1).strip() if marker else None,
            )
        )
        i += 1
    return found


def commands(block: Block) -> list[Command]:
    """A console block's commands, each with its shown output."""
    out: list[Command] = []
    lines = block.text.splitlines()
    i = 0
    while i < len(lines):
        ln = lines[i]
        if ln.startswith("$ "):
            cmd = Command(block.line + 1 + i, ln[2:])
            while cmd.text.endswith("\\") and i + 1 < len(lines):
                i += 1
                cmd.text += "\n" + lines[i]
            out.append(cmd)
        elif out:
            out[-1].shown.append(ln)
        elif ln.strip():
            raise AssertionError(f"README.md:{block.line + 1 + i}: output before any `$ `")
        i += 1
    for cmd in out:
        while cmd.shown and not cmd.shown[-1].strip():
            cmd.shown.pop()
    return out


def matches(shown: list[str], actual: list[str]) -> bool:
    """Line for line, ``…`` a wildcard (``…`` plus spaces: any text ending in a space)."""
    if len(shown) != len(actual):
        return False
    for want, got in zip(shown, actual, strict=True):
        parts = re.split(r"(… +|…)", want)
        pattern = "".join(
            ".* " if p.startswith("… ") else ".*" if p == "…" else re.escape(p) for p in parts
        )
        if not re.fullmatch(pattern, got.rstrip()):
            return False
    return True


# -- the scratch world -----------------------------------------------------------------------


@dataclass
class World:
    scratch: Path
    s3: str
    cwd: Path
    status: int = 0
    env: dict[str, str] = field(default_factory=dict)
    made: dict[str, int] = field(default_factory=dict)  # artifact paths this test wrote

    @property
    def hosts(self) -> Path:
        """The bare repositories standing in for every Git host."""
        return self.scratch / "hosts"

    def rewrite(self, text: str) -> str:
        """README hosts and folders -> their local stand-ins (one pass: a stand-in is never
        rewritten again)."""
        local = {host: f"file://{self.hosts}/" for host in HOSTS}
        local.update({folder: f"{self.scratch}{folder}" for folder in FOLDERS})
        local[S3_ENDPOINT] = self.s3
        pattern = "|".join(re.escape(k) for k in local)
        return re.sub(rf"(?<![\w./-])(?:{pattern})", lambda m: local[m.group(0)], text)


# Every Git host maps to one folder of bare repositories, so `github.com/acme/x` and
# `gitlab.com/acme/x` are one stand-in, as a mirror of the same repository would be.
HOSTS = ("git@github.com:", "https://github.com/", "git@gitlab.com:", "https://gitlab.com/")
FOLDERS = ("/mnt/", "/tmp/")  # absolute folders of the examples, moved into the scratch folder
S3_ENDPOINT = "https://s3.eu-west-1.amazonaws.com"  # -> moto's server; its buckets:
S3_BUCKETS = ("acme-models",)


def fresh_bytes(world: World, rel: str) -> None:
    """A reader's retrained model: new bytes at ``rel`` (a file, or a folder ending in /)."""
    n = world.made.get(rel, 0) + 1
    world.made[rel] = n
    path = world.cwd / rel
    if rel.endswith("/"):
        path.mkdir(parents=True, exist_ok=True)
        (path / "weights.bin").write_text(f"{rel} weights, training run {n}\n")
        (path / "config.json").write_text(json.dumps({"run": n}) + "\n")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{rel}, training run {n}\n")


def register_paths(cmd: str) -> list[str]:
    """The PATH of each `modelreg register NAME PATH` in a command line."""
    paths = []
    for part in re.split(r"&&|;|\|\|", cmd):
        try:
            argv = shlex.split(part, comments=True)
        except ValueError:
            continue
        if argv[:2] == ["modelreg", "register"] and len(argv) >= 4:
            paths.append(argv[3])
    return paths


# -- what the story has not made: set-up keyed by (heading, nth example under it) ------------


@contextmanager
def in_a_new_repository(world: World) -> Iterator[None]:
    """The block makes a registry of a repository that is not one yet; the story's project
    has been one since the first example.  The story carries on in the project."""
    project, world.cwd = world.cwd, world.scratch / "your-project"
    world.cwd.mkdir()
    git(world.cwd, "init", "-q", "-b", "main")
    yield
    world.cwd = project


@contextmanager
def metrics_and_params_files(world: World) -> Iterator[None]:
    """The files a training run wrote, for `--metrics-file` and `--params-file`."""
    (world.cwd / "metrics.json").write_text('{"accuracy": 0.94, "test": {"auc": 0.97}}\n')
    (world.cwd / "params.yaml").write_text("C: 0.8\nsolver: lbfgs\n")
    yield


@contextmanager
def a_broken_proposal(world: World) -> Iterator[None]:
    """The pull request `check` reviews: a production policy, a misspelled stage and a
    version proposed for production that never held staging.  The project's own
    registry.yaml comes back afterwards."""
    index = world.cwd / "registry.yaml"
    lines = index.read_text().splitlines(keepends=True)
    policy = ["policy:\n", "  production: {requires: staging}\n"]
    lines[lines.index("stages: [dev, staging, production]\n") + 1 : 0] = policy
    for model, stages in (("churn", "{production: v2.0.0}"), ("iris", "{prodution: v1.0.0}")):
        at = lines.index(f"  {model}:\n")
        at += next(i for i, ln in enumerate(lines[at:]) if ln.startswith("    stages: "))
        lines[at] = f"    stages: {stages}\n"
    index.write_text("".join(lines))
    yield
    git(world.cwd, "checkout", "registry.yaml")


@contextmanager
def beside_the_project(world: World) -> Iterator[None]:
    """The block clones a repository: a reader does that beside the project, not in it.
    The story carries on in the clone."""
    world.cwd = world.scratch
    yield


GTO_MODELS = {"churn": 12, "fraud": 10, "ltv": 8, "ranker": 7}
GTO_STAGES = [  # in order of first use, as `modelreg init` reports it
    ("churn", 3, "dev"),
    ("churn", 3, "staging"),
    ("churn", 2, "prod"),
    ("fraud", 9, "staging"),
    ("fraud", 8, "prod"),
    ("fraud", 9, "canary"),
    ("ltv", 7, "prod"),
    ("ranker", 6, "dev"),
]


@contextmanager
def a_gto_repository(world: World) -> Iterator[None]:
    """`your-gto-repo`, beside the project, where the block starts: tags as GTO writes them
    (annotated, with its messages), each a minute after the previous, no registry.yaml."""
    repo = world.scratch / "your-gto-repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    minute = iter(range(10_000))

    def dated() -> dict[str, str]:
        when = f"2025-01-06T09:00:00Z +{next(minute)} minutes"
        return {"GIT_COMMITTER_DATE": when, "GIT_AUTHOR_DATE": when}

    counters = dict.fromkeys(GTO_MODELS, 0)
    for name, count in GTO_MODELS.items():
        for minor in range(count):
            env = dated()
            git(repo, "commit", "-q", "--allow-empty", "-m", f"Train {name}", env=env)
            version = f"v1.{minor}.0"
            message = f"Registering artifact {name} version {version}"
            git(repo, "tag", "-a", f"{name}@{version}", "-m", message, env=env)
    for name, minor, stage in GTO_STAGES:
        counters[name] += 1
        version = f"v1.{minor}.0"
        message = f"Assigning stage {stage} to artifact {name} version {version}"
        tag = f"{name}#{stage}#{counters[name]}"
        git(repo, "tag", "-a", tag, f"{name}@{version}^{{}}", "-m", message, env=dated())
    world.cwd = world.scratch
    yield


INCIDENT = [  # (tag, version whose commit it names, tagger date in UTC, message)
    ("churn@v1.2.0", "v1.2.0", "2026-11-18T09:00:00", "Register churn v1.2.0"),
    ("churn#production#1", "v1.2.0", "2026-11-18T09:30:00", "Promote churn v1.2.0 to production"),
    ("churn@v1.3.0", "v1.3.0", "2026-11-20T10:02:11", "Register churn v1.3.0"),
    ("churn#production#2", "v1.3.0", "2026-11-20T10:04:10", "Promote churn v1.3.0 to production"),
    (
        "churn#production#3",
        "v1.2.0",
        "2026-11-20T11:05:00",
        "Roll back churn production from v1.3.0 to v1.2.0",
    ),
]


@contextmanager
def an_incident_history(world: World) -> Iterator[None]:
    """`incident-registry`, beside the project: churn's production history at the dates the
    block's prose gives (tags as any writer makes them, dated then); the story resumes in
    the project afterwards."""
    repo = world.scratch / "incident-registry"
    registry = DatedRegistry(repo)
    for tag, version, when, message in INCIDENT:
        registry.tag(tag, "churn", version, when, message, tagger="Ada <ada@example.com>")
    story = world.cwd
    world.cwd = repo
    yield
    world.cwd = story


SETUP: dict[tuple[str, int], Callable[[World], AbstractContextManager[None]]] = {
    ("modelreg init", 1): in_a_new_repository,
    ("modelreg register", 1): metrics_and_params_files,
    ("modelreg check", 2): a_broken_proposal,
    ("Sharing a registry", 1): beside_the_project,
    ("Moving from GTO", 1): a_gto_repository,
    ("modelreg which", 2): an_incident_history,
}


# -- running ---------------------------------------------------------------------------------


def run_command(world: World, command: str) -> tuple[int, list[str]]:
    """Run one command line in bash where the previous one left off (folder and ``$?``);
    returns its status and its stdout and stderr together."""
    cwd_file = world.scratch / ".cwd"
    script = (
        f"cd {shlex.quote(str(world.cwd))}\n(exit {world.status & 255})\n{command}\n"
        f"__rc=$?\npwd > {shlex.quote(str(cwd_file))}\nexit $__rc\n"
    )
    proc = subprocess.run(
        ["bash", "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **world.env},
        timeout=120,
    )
    if cwd_file.exists():
        world.cwd = Path(cwd_file.read_text().strip())
        cwd_file.unlink()
    world.status = proc.returncode
    return proc.returncode, proc.stdout.splitlines()


def run_console(world: World, block: Block, failures: list[str]) -> None:
    cmds = commands(block)
    for n, cmd in enumerate(cmds):
        for rel in register_paths(cmd.text):
            if rel in world.made or not (world.cwd / rel).exists():
                fresh_bytes(world, rel)
        status, actual = run_command(world, world.rewrite(cmd.text))
        shown = [world.rewrite(s) for s in cmd.shown]
        later = cmds[n + 1] if n + 1 < len(cmds) else None
        if later is not None and later.text.strip() == "echo $?" and later.shown:
            expect_ok = later.shown == ["0"]
        else:
            expect_ok = not (shown and ERROR_LINE.match(shown[-1]))
        problems = []
        if (status == 0) != expect_ok:
            problems.append(f"exit {status}, expected {'0' if expect_ok else 'non-zero'}")
        if shown and not matches(shown, actual):
            problems.append("output differs")
        if problems:
            failures.append(
                f"README.md:{cmd.line} ({block.heading}): $ {cmd.text}\n  "
                + "; ".join(problems)
                + "\n  shown:\n"
                + "".join(f"    {s}\n" for s in shown)
                + "  actual:\n"
                + "".join(f"    {a}\n" for a in actual)
            )


def run_python(world: World, block: Block, failures: list[str]) -> None:
    script = world.scratch / "blocks" / f"readme_line_{block.line}.py"
    script.parent.mkdir(exist_ok=True)
    script.write_text(block.text)
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=world.cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **world.env},
        timeout=120,
    )
    if proc.returncode != 0:
        failures.append(
            f"README.md:{block.line} ({block.heading}): python block exited "
            f"{proc.returncode}\n{proc.stdout}{proc.stderr}"
        )


def is_install(block: Block) -> bool:
    return block.lang == "console" and any(
        c.text.startswith("pip install") for c in commands(block)
    )


# -- tests -----------------------------------------------------------------------------------


def test_not_run_markers_give_a_reason_and_precede_an_example() -> None:
    text = README.read_text()
    found = blocks(text)
    for m in MARKER.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        assert m.group(1).strip(), f"README.md:{line}: `not run:` needs a reason"
        block = next((b for b in found if b.line > line), None)
        right_before = block is not None and block.exempt is not None and block.lang in RUN
        assert right_before, f"README.md:{line}: `not run` must sit right before an example"


@pytest.fixture
def world(tmp_path: Path, s3_endpoint: str) -> Iterator[World]:
    s3 = s3_client(s3_endpoint)
    for bucket in S3_BUCKETS:
        s3.create_bucket(Bucket=bucket)
    scratch = tmp_path
    world = World(scratch=scratch, s3=s3_endpoint, cwd=scratch / "project")
    world.env = {
        "GIT_AUTHOR_NAME": "Ada",
        "GIT_COMMITTER_NAME": "Ada",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    # The project: a fresh clone of an empty repository on its Git host (`origin`).
    origin = world.hosts / "acme" / "project.git"
    origin.parent.mkdir(parents=True)
    git(scratch, "init", "-q", "--bare", "-b", "main", str(origin))
    git(scratch, "clone", "-q", str(origin), str(world.cwd))
    # The team registry of "Sharing a registry", empty on its host.
    git(scratch, "init", "-q", "--bare", "-b", "main", str(world.hosts / "acme/ml-registry.git"))
    yield world


def test_every_example_in_the_readme_works(world: World) -> None:
    failures: list[str] = []
    nth: dict[str, int] = {}
    for block in blocks(README.read_text()):
        if block.lang not in RUN:
            continue
        nth[block.heading] = nth.get(block.heading, 0) + 1
        if block.exempt is not None or is_install(block):
            continue
        setup = SETUP.get((block.heading, nth[block.heading]), nullcontext)
        with setup(world):
            if block.lang == "console":
                run_console(world, block, failures)
            else:
                run_python(world, block, failures)
    assert not failures, f"{len(failures)} README example(s) failed:\n\n" + "\n".join(failures)


def test_the_install_lines_work(tmp_path: Path) -> None:
    """Set-up's install lines, from Git and from a clone of this checkout's HEAD, each into
    a folder of its own rather than this venv.  The dependencies are in the venv already, so
    pip installs without them and asks no index."""
    install = [b for b in blocks(README.read_text()) if is_install(b)]
    lines = [c.text for b in install for c in commands(b)]
    assert any("git+https://" in ln for ln in lines), "an install line from Git"
    assert any(ln.startswith("git clone") for ln in lines), "install lines from a clone"
    world = World(scratch=tmp_path, s3="", cwd=tmp_path / "elsewhere")
    world.cwd.mkdir()
    for url in {m for ln in lines for m in re.findall(r"https://github\.com/(\S+?\.git)", ln)}:
        bare = world.hosts / url
        git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
        git(ROOT, "push", "-q", str(bare), "HEAD:refs/heads/main")
    world.env = {"PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1"}
    targets: list[tuple[Path, list[str]]] = []  # where each line installed, its extras
    for block in install:
        for cmd in commands(block):
            line = world.rewrite(cmd.text)
            if line.startswith("pip install "):
                extras = re.findall(r"modelreg\[([\w,]+)\]", line)
                assert extras, f"README.md:{cmd.line}: install with the sklearn extra"
                targets.append((tmp_path / f"site-{len(targets)}", extras[0].split(",")))
                line = (
                    f"{shlex.quote(sys.executable)} -m pip install --no-deps --no-build-isolation"
                    f" --target {shlex.quote(str(targets[-1][0]))} {line[len('pip install ') :]}"
                )
            status, out = run_command(world, line)
            assert status == 0, f"README.md:{cmd.line}: $ {cmd.text}\n" + "\n".join(out)
    assert len(targets) == 2
    for target, extras in targets:
        # Without dependencies pip does not check the extras: the metadata must offer them.
        (metadata,) = target.glob("modelreg-*.dist-info/METADATA")
        offered = re.findall(r"^Provides-Extra: (\S+)$", metadata.read_text(), re.MULTILINE)
        assert set(extras) <= set(offered), (extras, offered)
        probe = "import modelreg, sys; print(modelreg.__file__, modelreg.__version__)"
        proc = subprocess.run(
            [sys.executable, "-c", probe],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(target)},
            check=True,
        )
        assert proc.stdout.startswith(str(target / "modelreg" / "__init__.py")), proc.stdout
        assert (target / "bin" / "modelreg").is_file()

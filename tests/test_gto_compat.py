"""GTO and DVC compatibility, both ways, with the real ``gto`` and ``dvc`` executables.

* modelreg writes, GTO reads: after each interesting step ``gto show NAME#STAGE --ref``,
  ``gto show NAME@latest --ref``, ``gto show --json`` and ``gto history NAME --json`` must
  agree with modelreg's API (``which``, ``latest``, ``history``) and CLI (``which``,
  ``latest``), and with the answer the test expects.
* GTO writes, modelreg reads: tags made by ``gto register``, ``gto assign`` (counter tags,
  ``--simple`` tags, re-assignment of a stage) and ``gto deprecate`` in its three forms
  (unassign, deregister, deprecate the model) read the same through modelreg as through gto.
* ``dvc artifacts get`` fetches the same bytes as ``Registry.get`` from a registry that
  modelreg wrote.

GTO orders events by tagger date alone (one-second resolution) and stamps its tags with the
wall clock, so the tags gto makes here are re-dated on a fake clock (``GtoClock`` in
``tests/gto_tools.py``), and gto commands run in one long-lived ``GtoSession`` per test.
Checkpoints copy the repository and are all queried at the end while the ``modelreg`` CLI
processes run concurrently.  The ``gto`` executable itself makes two of the GTO-written tags
and answers one query, which must match the session's answer.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.gto_tools import DVC, GTO, GtoClock, GtoSession, assert_same_history
from tests.helpers import MODELREG, Command, git, ok, run, run_parallel, write_model

from modelreg import NotFoundError, Registry

pytestmark = pytest.mark.slow


@pytest.fixture
def gto_session(tmp_path: Path) -> Iterator[GtoSession]:
    session = GtoSession(tmp_path / "gto-session.log")
    yield session
    session.close()


# -- expectations and checkpoints ----------------------------------------------------------


@dataclass
class Expect:
    """What one model must look like, to modelreg and to GTO alike."""

    latest: str | None
    stages: dict[str, str | None] = field(default_factory=dict)
    deprecated: bool = False


Focus = tuple[str, str | None]  # (model, stage); stage None means "latest"


def api_which(reg: Registry, name: str, stage: str) -> str | None:
    try:
        mv = reg.which(name, stage)
    except NotFoundError:
        return None
    assert mv.tag == f"{name}@{mv.version}"
    return mv.version


def api_latest(reg: Registry, name: str) -> str | None:
    try:
        mv = reg.latest(name)
    except NotFoundError:
        return None
    assert mv.tag == f"{name}@{mv.version}"
    return mv.version


def assert_api(reg: Registry, expected: dict[str, Expect], where: str) -> None:
    for name, exp in expected.items():
        assert api_latest(reg, name) == exp.latest, f"{where}: Registry.latest({name!r})"
        for stage, version in exp.stages.items():
            got = api_which(reg, name, stage)
            assert got == version, f"{where}: Registry.which({name!r}, {stage!r})"
        assert reg.show(name).deprecated == exp.deprecated, f"{where}: {name} deprecated"


@dataclass
class Step:
    where: str
    snapshot: Path
    expected: dict[str, Expect]
    focus: Sequence[Focus]


class Checkpoints:
    """Checkpoints of one scenario.

    ``check(expected, focus)`` asks modelreg's API at once and copies the repository as it is.
    :meth:`verify` then runs every process on the copies concurrently: a gto session with
    ``gto show --json`` and ``gto history NAME --json`` per step and
    ``gto show NAME#STAGE --ref`` / ``gto show NAME@latest --ref`` per focus pair, and
    ``modelreg which/latest`` per focus pair, in the copy and by its ``file://`` URL.  With
    ``literal``, the last focus query also runs through the ``gto`` executable, which must
    answer exactly as the session does.
    """

    def __init__(self, repo: Path, scratch: Path) -> None:
        self.repo = repo
        self.scratch = scratch
        self.steps: list[Step] = []

    def __call__(self, expected: dict[str, Expect], focus: Sequence[Focus] = ()) -> None:
        where = f"step {len(self.steps) + 1}"
        assert_api(Registry(self.repo), expected, where)
        snapshot = self.scratch / f"step-{len(self.steps) + 1}"
        shutil.copytree(self.repo, snapshot, symlinks=True)
        self.steps.append(Step(where, snapshot, expected, focus))

    def verify(self, session: GtoSession, *, literal: bool = False) -> None:
        gto: list[Command] = []
        cli: list[Command] = []
        for step in self.steps:
            here = step.snapshot
            gto.append((here, ["show", "--json"]))
            gto += [(here, ["history", name, "--json"]) for name in step.expected]
            for name, stage in step.focus:
                ref = f"{name}#{stage}" if stage else f"{name}@latest"
                gto.append((here, ["show", ref, "--ref"]))
                which = [MODELREG, "which", name, stage] if stage else [MODELREG, "latest", name]
                cli.append((here, which))
                # By URL every answer must be the same (tag names, or tag objects when the
                # names cannot settle it).
                cli.append((self.scratch, [*which, "--repo", here.as_uri()]))
        if literal:  # the last step's last focus query, through the gto executable too
            assert self.steps[-1].focus
            cli.append((gto[-1][0], [GTO, *gto[-1][1]]))
        session.send(gto)  # gto answers while the other processes run
        cli_results = iter(run_parallel(cli))
        gto_results = iter(session.receive(len(gto)))

        answer = ""
        for step in self.steps:
            self._check_show(step, json.loads(ok(next(gto_results))))
            reg = Registry(step.snapshot)
            for name in step.expected:
                assert_same_history(reg, name, json.loads(ok(next(gto_results))), step.where)
            for name, stage in step.focus:
                gto_proc = next(gto_results)
                answer = self._check_focus(step, name, stage, gto_proc, next(cli_results))
                self._check_focus(step, name, stage, gto_proc, next(cli_results))
        if literal:
            assert ok(next(cli_results)) == answer, "the gto executable answers as the session"

    @staticmethod
    def _check_show(step: Step, shown: dict[str, dict[str, object]]) -> None:
        for name, exp in step.expected.items():
            if exp.deprecated:
                assert name not in shown, f"{step.where}: gto show --json lists deprecated {name}"
                continue
            assert shown[name]["version"] == exp.latest, f"{step.where}: gto latest of {name}"
            stages = shown[name]["stage"]
            assert isinstance(stages, dict)
            for stage, version in exp.stages.items():
                assert stages.get(stage) == version, f"{step.where}: gto show --json {name}#{stage}"

    @staticmethod
    def _check_focus(
        step: Step,
        name: str,
        stage: str | None,
        gto_proc: subprocess.CompletedProcess[str],
        cli_proc: subprocess.CompletedProcess[str],
    ) -> str:
        exp = step.expected[name]
        version = exp.stages[stage] if stage else exp.latest
        what = f"{step.where}: {name}#{stage}" if stage else f"{step.where}: {name}@latest"
        # GTO prints the registration tag of the version, or nothing at all (exit 0).
        answer = ok(gto_proc)
        assert answer == (f"{name}@{version}\n" if version else ""), f"gto show {what} --ref"
        if version:
            assert cli_proc.returncode == 0, f"modelreg CLI {what}: {cli_proc.stderr}"
            assert cli_proc.stdout == f"{version}\n", f"modelreg CLI {what}"
        else:
            assert cli_proc.returncode == 1, f"modelreg CLI {what}: {cli_proc.stdout}"
            assert cli_proc.stdout == ""
            lines = cli_proc.stderr.strip().splitlines()
            assert len(lines) == 1 and "Traceback" not in cli_proc.stderr, cli_proc.stderr
        return answer


@pytest.fixture
def check(repo: Path, tmp_path: Path) -> Checkpoints:
    """Checkpoints of the repository; the test calls ``check.verify()`` at its end."""
    scratch = tmp_path / "snapshots"
    scratch.mkdir()
    return Checkpoints(repo, scratch)


# -- modelreg writes, GTO reads ------------------------------------------------------------


def _register(reg: Registry, name: str, content: str, rel: str = "models/churn.pkl") -> str:
    write_model(reg.root, content, rel)
    return reg.register(name, rel).version


def scenario_promote_rollback_demote(reg: Registry, check: Checkpoints) -> None:
    for i, expected in enumerate(["v1.0.0", "v1.1.0", "v1.2.0"]):
        assert _register(reg, "churn", f"weights {i}") == expected
    reg.promote("churn", "v1.0.0", "production")
    reg.promote("churn", "v1.1.0", "production")
    reg.promote("churn", "v1.2.0", "staging")
    check(
        {"churn": Expect("v1.2.0", {"production": "v1.1.0", "staging": "v1.2.0"})},
        [("churn", "production"), ("churn", "staging"), ("churn", None)],
    )

    change = reg.rollback("churn", "production")
    assert (change.version, change.holder) == ("v1.0.0", "v1.0.0")
    check(
        {"churn": Expect("v1.2.0", {"production": "v1.0.0", "staging": "v1.2.0"})},
        [("churn", "production")],
    )

    # Demoting v1.0.0 ends its assignment; v1.1.0's assignment was never ended, so it holds
    # production again (GTO's rule).  Demoting that too leaves production empty.
    change = reg.demote("churn", "production")
    assert (change.version, change.holder) == ("v1.0.0", "v1.1.0")
    check(
        {"churn": Expect("v1.2.0", {"production": "v1.1.0", "staging": "v1.2.0"})},
        [("churn", "production")],
    )
    change = reg.demote("churn", "production")
    assert (change.version, change.holder) == ("v1.1.0", None)
    check(
        {"churn": Expect("v1.2.0", {"production": None, "staging": "v1.2.0"})},
        [("churn", "production")],
    )


def scenario_deregister(reg: Registry, check: Checkpoints) -> None:
    _register(reg, "churn", "one")
    _register(reg, "churn", "two")
    reg.promote("churn", "v1.0.0", "production")
    reg.promote("churn", "v1.1.0", "production")
    reg.promote("churn", "v1.1.0", "staging")
    assert reg.deprecate("churn", "v1.1.0") == "churn@v1.1.0!"
    # The deregistered version loses every stage; production falls back to v1.0.0, whose
    # assignment is still active; latest is the greatest version still registered.
    check(
        {"churn": Expect("v1.0.0", {"production": "v1.0.0", "staging": None})},
        [("churn", "production"), ("churn", "staging"), ("churn", None)],
    )

    assert _register(reg, "churn", "three") == "v1.2.0"
    reg.promote("churn", "v1.2.0", "staging")
    check(
        {"churn": Expect("v1.2.0", {"production": "v1.0.0", "staging": "v1.2.0"})},
        [("churn", "staging"), ("churn", None)],
    )


def scenario_two_models_with_slash(reg: Registry, check: Checkpoints) -> None:
    # "team/churn" ends with the other model's name: neither may see the other's tags.
    _register(reg, "churn", "churn one")
    _register(reg, "team/churn", "team one", "models/team/churn.pkl")
    _register(reg, "team/churn", "team two", "models/team/churn.pkl")
    reg.promote("churn", "v1.0.0", "production")
    reg.promote("team/churn", "v1.1.0", "production")
    reg.promote("team/churn", "v1.0.0", "staging")
    check(
        {
            "churn": Expect("v1.0.0", {"production": "v1.0.0", "staging": None}),
            "team/churn": Expect("v1.1.0", {"production": "v1.1.0", "staging": "v1.0.0"}),
        },
        [("team/churn", "production"), ("team/churn", "staging"), ("churn", "staging")],
    )
    reg.deprecate("team/churn", "v1.1.0")
    check(
        {
            "churn": Expect("v1.0.0", {"production": "v1.0.0", "staging": None}),
            "team/churn": Expect("v1.0.0", {"production": None, "staging": "v1.0.0"}),
        },
        [("team/churn", "production"), ("churn", "production"), ("team/churn", None)],
    )


def scenario_deprecate_model(reg: Registry, check: Checkpoints) -> None:
    _register(reg, "churn", "one")
    _register(reg, "churn", "two")
    reg.promote("churn", "v1.1.0", "production")
    assert reg.deprecate("churn") == "churn@deprecated"
    check(
        {"churn": Expect(None, {"production": None}, deprecated=True)},
        [("churn", "production"), ("churn", None)],
    )
    # A new registration revives the model in GTO: its newest event is no longer the
    # deprecation, and the assignment of v1.1.0 to production was never ended.
    assert _register(reg, "churn", "three") == "v1.2.0"
    check(
        {"churn": Expect("v1.2.0", {"production": "v1.1.0"})},
        [("churn", None), ("churn", "production")],
    )


@pytest.mark.parametrize(
    "scenario",
    [
        scenario_promote_rollback_demote,
        scenario_deregister,
        scenario_two_models_with_slash,
        scenario_deprecate_model,
    ],
    ids=lambda f: f.__name__.removeprefix("scenario_"),
)
def test_gto_reads_what_modelreg_writes(
    registry: Registry,
    check: Checkpoints,
    gto_session: GtoSession,
    scenario: Callable[[Registry, Checkpoints], None],
) -> None:
    scenario(registry, check)
    check.verify(gto_session)


# -- GTO writes, modelreg reads ------------------------------------------------------------


def test_modelreg_reads_what_gto_writes(
    repo: Path, check: Checkpoints, gto_session: GtoSession
) -> None:
    clock = GtoClock(repo, gto_session)
    clock.commit("one")
    register = ["register", "churn", "HEAD", "--version", "v1.0.0"]
    assert clock.gto(*register, executable=True) == ["churn@v1.0.0"]
    second = clock.commit("two")
    # assign on an unregistered commit registers it first (a simple tag, then a counter one)
    assert clock.gto("assign", "churn", second, "--version", "v1.1.0", "--stage", "staging") == [
        "churn@v1.1.0",
        "churn#staging#1",
    ]
    assert clock.gto("assign", "churn", "--version", "v1.0.0", "--stage", "prod") == [
        "churn#prod#2"
    ]
    # the same stage re-assigned to another version
    assert clock.gto("assign", "churn", "--version", "v1.1.0", "--stage", "prod") == [
        "churn#prod#3"
    ]
    check(
        {"churn": Expect("v1.1.0", {"prod": "v1.1.0", "staging": "v1.1.0"})},
        [("churn", "prod"), ("churn", "staging"), ("churn", None)],
    )

    # `gto deprecate NAME VERSION STAGE` unassigns: prod falls back to v1.0.0, whose
    # assignment was never ended
    assert clock.gto("deprecate", "churn", "v1.1.0", "prod") == ["churn#prod!#4"]
    check({"churn": Expect("v1.1.0", {"prod": "v1.0.0", "staging": "v1.1.0"})}, [("churn", "prod")])

    # a "simple" stage tag, without a counter
    assert clock.gto(
        "assign", "churn", "--version", "v1.0.0", "--stage", "dev", "--simple", "true"
    ) == ["churn#dev"]
    # `gto deprecate NAME VERSION` deregisters: v1.1.0 loses staging and stops being latest
    assert clock.gto("deprecate", "churn", "v1.1.0") == ["churn@v1.1.0!"]
    # a second model, with a slash in its name, on the same commit as churn v1.1.0
    assert clock.gto("assign", "team/churn", second, "--version", "v2.0.0", "--stage", "prod") == [
        "team/churn@v2.0.0",
        "team/churn#prod#1",
    ]
    check(
        {
            "churn": Expect("v1.0.0", {"prod": "v1.0.0", "staging": None, "dev": "v1.0.0"}),
            "team/churn": Expect("v2.0.0", {"prod": "v2.0.0", "staging": None}),
        },
        [("churn", "dev"), ("churn", "staging"), ("churn", None), ("team/churn", "prod")],
    )

    # ending the simple tag's assignment takes a counter tag
    assert clock.gto("deprecate", "churn", "v1.0.0", "dev") == ["churn#dev!#5"]
    # `gto deprecate NAME` deprecates the whole model: gto shows nothing for it
    assert clock.gto("deprecate", "churn", executable=True) == ["churn@deprecated"]
    check(
        {
            "churn": Expect(None, {"prod": None, "dev": None}, deprecated=True),
            "team/churn": Expect("v2.0.0", {"prod": "v2.0.0"}),
        },
        [("churn", None), ("churn", "dev"), ("churn", "prod")],
    )
    reg = Registry(repo)
    with pytest.raises(NotFoundError):
        reg.which("churn", "prod")
    with pytest.raises(NotFoundError):
        reg.latest("churn")
    # the model still exists: its versions stay readable
    assert [v.version for v in reg.show("churn").versions] == ["v1.1.0", "v1.0.0"]
    check.verify(gto_session, literal=True)


def test_same_second_assignments_read_as_gto_reads_them(
    repo: Path, gto_session: GtoSession
) -> None:
    """Two assignments of one stage in the same second, as ``gto.api.assign`` in a loop (or
    two CI jobs) write them: the tags are made here with git, named as gto names them."""
    env = {"GIT_AUTHOR_DATE": "@1700000000 +0000", "GIT_COMMITTER_DATE": "@1700000000 +0000"}
    for version in ("v1.0.0", "v1.1.0"):
        git(repo, "commit", "-q", "--allow-empty", "-m", version, env=env)
        git(repo, "tag", "-a", f"churn@{version}", "-m", f"Registering {version}", env=env)
    env = {"GIT_COMMITTER_DATE": "@1700000010 +0000"}
    for tag, rev in [
        ("churn#prod#1", "HEAD~1"),
        ("churn#prod#2", "HEAD"),
        ("churn#staging#3", "HEAD"),
        ("churn#staging#4", "HEAD~1"),
    ]:
        git(repo, "tag", "-a", tag, rev, "-m", f"Assigning {tag}", env=env)
    gto = [gto_session(repo, "show", f"churn#{stage}", "--ref") for stage in ("prod", "staging")]
    reg = Registry(repo)
    ours = [f"churn@{reg.which('churn', stage).version}\n" for stage in ("prod", "staging")]
    assert ours == [ok(gto[0]), ok(gto[1])]


# -- dvc artifacts get ---------------------------------------------------------------------


def test_dvc_artifacts_get_matches_registry_get(repo: Path, tmp_path: Path) -> None:
    reg = Registry(repo)
    reg.init(dvc_remote=str(tmp_path / "dvc-remote"))
    first = b"\x00first model bytes\n" * 100
    second = b"\x01second model bytes\n" * 150
    write_model(repo, first, "models/churn.pkl")
    reg.register("churn", "models/churn.pkl")
    write_model(repo, second, "models/churn.pkl")
    reg.register("churn", "models/churn.pkl")
    reg.promote("churn", "v1.0.0", "production")
    reg.promote("churn", "v1.1.0", "staging")
    ok(run(repo, DVC, "push"))

    ours = reg.get("churn#production", out=tmp_path / "ours.pkl")
    assert ours.read_bytes() == first

    # The working tree holds v1.1.0: what dvc reads must come from the tagged commit.
    prod_out, latest_out = tmp_path / "dvc-prod.pkl", tmp_path / "dvc-latest.pkl"
    get = [DVC, "artifacts", "get", ".", "churn"]
    prod, latest = run_parallel(
        [
            (repo, [*get, "--stage", "production", "-o", str(prod_out)]),
            (repo, [*get, "-o", str(latest_out)]),
        ]
    )
    ok(prod)
    ok(latest)
    assert prod_out.read_bytes() == ours.read_bytes()
    assert hashlib.md5(prod_out.read_bytes()).hexdigest() == reg.which("churn", "production").md5
    assert latest_out.read_bytes() == reg.get("churn@latest", out=tmp_path / "l.pkl").read_bytes()
    assert latest_out.read_bytes() == second


# -- documented differences ------------------------------------------------------------------
#
# Where GTO's own reading is a bug or a crash, modelreg keeps a sensible answer.  Each case is
# built with git alone (dates chosen), then asked of gto's code and of modelreg: the first
# test pins modelreg's answer, the second asserts agreement and is a strict xfail, so it
# fails the day GTO and modelreg agree (and this list in the README must shrink).

DIFF_T = 1_780_000_000


def _mkrepo(root: Path, commit_dates: Sequence[int]) -> list[str]:
    git(root, "init", "-q")
    commits = []
    for i, when in enumerate(commit_dates):
        dated = {"GIT_COMMITTER_DATE": f"{when} +0000", "GIT_AUTHOR_DATE": f"{when} +0000"}
        git(root, "commit", "-q", "--allow-empty", "-m", f"c{i}", env=dated)
        commits.append(git(root, "rev-parse", "HEAD").strip())
    return commits


def _tag(root: Path, name: str, commit: str, when: int) -> None:
    body = (
        f"object {commit}\ntype commit\ntag {name}\n"
        f"tagger Ada <ada@example.com> {when} +0000\n\nx\n"
    )
    made = subprocess.run(
        ["git", "mktag"], cwd=root, input=body, capture_output=True, text=True, check=True
    )
    git(root, "update-ref", f"refs/tags/{name}", made.stdout.strip())


def _commit_only(root: Path) -> None:
    (c,) = _mkrepo(root, [DIFF_T - 1000])
    _tag(root, "m#prod#1", c, DIFF_T)


def _commit_dated_after_deprecation(root: Path) -> None:
    (c,) = _mkrepo(root, [DIFF_T + 20])
    _tag(root, "m@v1.0.0", c, DIFF_T)
    _tag(root, "m@deprecated", c, DIFF_T + 10)


def _unassign_a_hash_holder(root: Path) -> None:
    a, b = _mkrepo(root, [DIFF_T - 1000, DIFF_T - 999])
    _tag(root, "m@v1.0.0", a, DIFF_T)
    _tag(root, "m#prod#1", a, DIFF_T + 1)
    _tag(root, "m#prod#2", b, DIFF_T + 2)
    _tag(root, "m#prod!#3", b, DIFF_T + 3)


def _created_tag(root: Path) -> None:
    (c,) = _mkrepo(root, [DIFF_T - 1000])
    _tag(root, "m@v1.0.0", c, DIFF_T)
    _tag(root, "m#prod#1", c, DIFF_T + 1)
    _tag(root, "m@created", c, DIFF_T + 2)


def _two_versions_on_one_commit(root: Path) -> None:
    (c,) = _mkrepo(root, [DIFF_T - 1000])
    _tag(root, "m@v1.0.0", c, DIFF_T)
    _tag(root, "m@v1.1.0", c, DIFF_T + 1)
    _tag(root, "m#prod#1", c, DIFF_T + 2)


def _artifacts_yaml_only(root: Path) -> None:
    """``m`` declared in GTO 0.2's ``artifacts.yaml``, never tagged."""
    root.joinpath("artifacts.yaml").write_text("m:\n  type: model\n  path: m.pkl\n")
    git(root, "init", "-q")
    git(root, "add", "artifacts.yaml")
    git(root, "commit", "-q", "-m", "Declare m")


# (case, builder, question, modelreg's answer: a version, or None for "nothing")
DIFFERENCES = [
    ("latest of a model with only commit-hash versions", _commit_only, "m@latest", None),
    ("a commit dated after a deprecation", _commit_dated_after_deprecation, "m@latest", None),
    ("unassigning a commit-hash holder", _unassign_a_hash_holder, "m#prod", "v1.0.0"),
    ("an annotated NAME@created tag", _created_tag, "m#prod", "v1.0.0"),
    (
        "two versions on one commit plus a stage tag",
        _two_versions_on_one_commit,
        "m#prod",
        "v1.0.0",
    ),
    ("a model declared only in artifacts.yaml", _artifacts_yaml_only, "m@latest", None),
]
DIFF_IDS = [case for case, *_ in DIFFERENCES]


def _modelreg_says(root: Path, question: str) -> str | None:
    reg = Registry(root)
    name, _, stage = question.partition("#")
    try:
        if stage:
            return reg.which_version(name, stage)
        return reg.latest_version(name.removesuffix("@latest"))
    except NotFoundError:
        return None


def _gto_says(root: Path, question: str) -> str | None:
    from gto.api import show

    found = show(str(root), question)
    return found[0]["version"] if found else None


@pytest.mark.parametrize(("case", "build", "question", "answer"), DIFFERENCES, ids=DIFF_IDS)
def test_modelreg_answers_where_gto_is_wrong(
    tmp_path: Path, case: str, build: Callable[[Path], None], question: str, answer: str | None
) -> None:
    build(tmp_path)
    assert _modelreg_says(tmp_path, question) == answer, case


@pytest.mark.xfail(strict=True, reason="documented difference from GTO (README: Moving from GTO)")
@pytest.mark.parametrize(("case", "build", "question", "answer"), DIFFERENCES, ids=DIFF_IDS)
def test_gto_agrees_on_its_documented_differences(
    tmp_path: Path, case: str, build: Callable[[Path], None], question: str, answer: str | None
) -> None:
    build(tmp_path)
    assert _gto_says(tmp_path, question) == _modelreg_says(tmp_path, question), case

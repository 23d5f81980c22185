"""Event order, differentially: random histories full of same-second events, read by GTO's
own code and by modelreg, must name the same stage holders, latest version and deprecation.

GTO orders events by tagger date (one-second resolution) and settles ties by rules of its own;
``dvc artifacts get --stage`` and DVC Studio run the same code.  Hypothesis writes histories
where most events share a second with another, counters disagree with dates, versions are
deregistered and registered again and the model is deprecated and revived; each is written as
real annotated tags in a real repository and read by ``gto.api.show`` (what ``gto show
NAME#STAGE`` prints) and by :class:`modelreg.Registry`, from the clone and by ``file://`` URL;
``history`` must list the same events in the same order.

The histories avoid only what the README lists as GTO's own mistakes: commits are dated before
every tag (GTO counts a commit's date among the model's events, so a newer commit revives a
deprecated model), and every stage tag points at a registered version's commit (GTO cannot
unassign a commit known only by its hash).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.gto_tools import GTO_EVENT

from modelreg import NotFoundError, Registry

pytestmark = pytest.mark.slow

VERSIONS = ["v1.0.0", "v1.1.0", "v1.2.0"]
STAGES = ["dev", "prod"]
START = 1_780_000_000


@dataclass(frozen=True)
class Op:
    kind: str  # register, deregister, assign, unassign, deprecate
    version: int
    stage: int
    gap: int  # seconds after the previous event: mostly 0, so ties are everywhere


def _git(
    root: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> str:
    full = {**os.environ, **(env or {})}
    proc = subprocess.run(
        ["git", *args], cwd=root, input=stdin, capture_output=True, text=True, env=full, check=True
    )
    return proc.stdout.strip()


def _write_history(root: Path, ops: list[Op], counters: list[int]) -> None:
    """Commits dated before every tag; one annotated tag per event, dated as the history says."""
    _git(root, "init", "-q")
    dated = {
        "GIT_COMMITTER_DATE": f"{START - 10_000} +0000",
        "GIT_AUTHOR_DATE": f"{START - 10_000} +0000",
    }
    commits = []
    for version in VERSIONS:
        _git(root, "commit", "-q", "--allow-empty", "-m", version, env=dated)
        commits.append(_git(root, "rev-parse", "HEAD"))
    when = START
    lines = []
    registered: set[int] = set()
    for op, counter in zip(ops, counters, strict=True):
        when += op.gap
        version, stage = VERSIONS[op.version], STAGES[op.stage]
        if op.kind == "register":
            name = f"m@{version}" if op.version not in registered else f"m@{version}#{counter}"
            registered.add(op.version)
        elif op.kind == "deregister":
            name = f"m@{version}!#{counter}"
        elif op.kind == "assign":
            name = f"m#{stage}#{counter}"
        elif op.kind == "unassign":
            name = f"m#{stage}!#{counter}"
        else:
            name = f"m@deprecated#{counter}"
        body = (
            f"object {commits[op.version]}\ntype commit\ntag {name}\n"
            f"tagger Ada <ada@example.com> {when} +0000\n\n{op.kind}\n"
        )
        obj = _git(root, "mktag", stdin=body)
        lines.append(f"create refs/tags/{name} {obj}\n")
    _git(root, "update-ref", "--stdin", stdin="".join(lines))


def _gto_answers(root: Path) -> tuple[dict[str, str | None], str | None]:
    from gto.api import show

    holders: dict[str, str | None] = {}
    for stage in STAGES:
        found = show(str(root), f"m#{stage}")
        holders[stage] = found[0]["version"] if found else None
    latest = show(str(root), "m@latest")
    return holders, latest[0]["version"] if latest else None


def _modelreg_answers(where: str | Path) -> tuple[dict[str, str | None], str | None]:
    reg = Registry(where)
    holders: dict[str, str | None] = {}
    for stage in STAGES:
        try:
            holders[stage] = reg.which_version("m", stage)
        except NotFoundError:
            holders[stage] = None
    try:
        latest: str | None = reg.latest_version("m")
    except NotFoundError:
        latest = None
    return holders, latest


def _gto_history(root: Path) -> list[tuple[object, ...]]:
    from gto.api import history

    return [(e["event"], e["version"], e["stage"], e["ref"]) for e in history(str(root), "m")]


def _modelreg_history(root: Path) -> list[tuple[object, ...]]:
    events = Registry(root).history("m")
    return [(GTO_EVENT[e.kind.value], e.version, e.stage, e.tag) for e in events]


_gaps = st.sampled_from([0, 0, 0, 1, 2])
_setup = st.lists(
    st.builds(Op, st.just("register"), st.integers(0, 2), st.just(0), _gaps), min_size=3, max_size=3
)
_ops = st.lists(
    st.builds(
        Op,
        st.sampled_from(
            ["register", "deregister", "assign", "assign", "assign", "unassign", "deprecate"]
        ),
        st.integers(0, 2),
        st.integers(0, 1),
        _gaps,
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    setup=_ops.flatmap(lambda ops: st.tuples(st.just(ops), st.permutations(range(1, 20)))),
    first=_setup,
)
def test_gto_and_modelreg_agree_on_every_history(
    setup: tuple[list[Op], list[int]], first: list[Op]
) -> None:
    ops, counters = setup
    # Every version is registered once before anything else happens to it.
    firsts = [Op("register", i, 0, op.gap) for i, op in enumerate(first)]
    history = firsts + ops
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _write_history(
            root, history, [*counters[:3], *counters[3:], *range(100, 120)][: len(history)]
        )
        expected = _gto_answers(root)
        assert _modelreg_answers(root) == expected
        assert _modelreg_history(root) == _gto_history(root)
        # By URL: tag names where they settle the answer, the tag objects where they do not.
        assert _modelreg_answers(f"file://{root}") == expected

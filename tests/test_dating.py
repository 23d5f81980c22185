"""Tag dates are truthful, and a write waits for the next second only where order matters.

A fake clock stands in for the machine's: its ``sleep`` advances it, so no test sleeps, and
the tests read exactly how long a write waited.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.helpers import git, modelreg, write_model

from modelreg import NotFoundError, Registry, clock
from modelreg.dating import ClockSkewError, tag_date
from modelreg.state import replay
from modelreg.tags import RawTag

NOW = 1_790_000_000


class FakeClock:
    """A clock that stands still until a write sleeps."""

    def __init__(self, now: float) -> None:
        self.t = now
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


@pytest.fixture
def fake() -> Iterator[FakeClock]:
    fake_clock = FakeClock(NOW + 0.25)
    previous = clock.use(fake_clock)
    yield fake_clock
    clock.use(previous)


def _tag(name: str, ts: int, commit: str = "a" * 40) -> RawTag:
    return RawTag(name, commit, ts, "Ada", "ada@example.com", "")


def _dates(repo: Path) -> dict[str, int]:
    out = git(repo, "for-each-ref", "refs/tags", "--format=%(refname:short) %(taggerdate:unix)")
    return {name: int(ts) for name, ts in (line.split() for line in out.splitlines())}


def _holder(reg: Registry) -> str | None:
    try:
        return reg.which_version("churn", "production")
    except NotFoundError:
        return None


def test_a_registration_in_a_busy_second_is_dated_now(fake: FakeClock) -> None:
    state = replay("m", [_tag("m@v1.0.0", NOW), _tag("m#prod#1", NOW)])
    assert tag_date(state, _tag("m@v1.1.0", 0, "b" * 40)) == NOW
    assert fake.slept == []


def test_a_second_assignment_in_one_second_waits_for_the_next(fake: FakeClock) -> None:
    state = replay("m", [_tag("m@v1.0.0", NOW - 5), _tag("m@v1.1.0", NOW - 4, "b" * 40)])
    state = state.with_tag(_tag("m#prod#1", NOW, "b" * 40))
    # v1.0.0 taking prod in the same second would lose the tie to... v1.0.0 (registered
    # first): the same meaning, so no wait.
    assert tag_date(state, _tag("m#prod#2", 0)) == NOW
    # Taking it back for v1.1.0 after v1.0.0 in the same second would lose the tie: wait.
    state = state.with_tag(_tag("m#prod#2", NOW))
    assert tag_date(state, _tag("m#prod#3", 0, "b" * 40)) == NOW + 1
    assert fake.slept == [pytest.approx(0.75)]


def test_an_event_a_second_ahead_is_waited_for(fake: FakeClock) -> None:
    state = replay("m", [_tag("m@v1.0.0", NOW - 5), _tag("m#prod#1", NOW + 1)])
    assert tag_date(state, _tag("m#prod!#2", 0)) == NOW + 2
    assert sum(fake.slept) <= 2.0


def test_an_event_far_ahead_is_refused_at_once(fake: FakeClock) -> None:
    state = replay("m", [_tag("m@v1.0.0", NOW - 5), _tag("m#prod#1", NOW + 30)])
    with pytest.raises(ClockSkewError, match=r"after 'm#prod#1'.* 30 s ahead.*check the clocks"):
        tag_date(state, _tag("m#prod!#2", 0))
    assert fake.slept == []


def test_a_burst_of_writes_is_dated_truthfully_and_in_order(repo: Path, fake: FakeClock) -> None:
    reg = Registry(repo)
    reg.init()
    write_model(repo, "one")
    reg.register("churn", "models/churn.pkl")
    write_model(repo, "two")
    reg.register("churn", "models/churn.pkl")
    steps: list[tuple[Callable[[], object], str]] = [
        (lambda: reg.promote("churn", "v1.0.0", "production"), "v1.0.0"),
        (lambda: reg.promote("churn", "v1.1.0", "production"), "v1.1.0"),
        (lambda: reg.rollback("churn", "production"), "v1.0.0"),
        (lambda: reg.demote("churn", "production"), "v1.1.0"),
    ]
    for step, holder in steps:
        step()
        assert _holder(reg) == holder
    dates = _dates(repo)
    # Only v1.1.0 taking production from v1.0.0 had to wait: in the same second it would
    # have lost the tie to the version registered first.  The rollback to v1.0.0 and the
    # demotion mean the same in that second, so they take it.
    assert len(fake.slept) == 1
    assert dates["churn@v1.0.0"] == dates["churn@v1.1.0"] == dates["churn#production#1"] == NOW
    assert [dates[f"churn#production#{n}"] for n in (2, 3)] == [NOW + 1, NOW + 1]
    assert dates["churn#production!#4"] == NOW + 1
    assert max(dates.values()) <= fake.now()


def test_the_cli_never_dates_a_tag_ahead_of_the_clock(repo: Path) -> None:
    assert modelreg(repo, "init").returncode == 0
    for content in ("one", "two"):
        write_model(repo, content)
        assert modelreg(repo, "register", "churn", "models/churn.pkl").returncode == 0
    for args in (
        ("promote", "churn", "v1.0.0", "production"),
        ("promote", "churn", "v1.1.0", "production"),
        ("rollback", "churn", "production"),
    ):
        assert modelreg(repo, *args).returncode == 0, args
    assert max(_dates(repo).values()) <= time.time()
    assert modelreg(repo, "which", "churn", "production").stdout.strip() == "v1.0.0"


def test_check_warns_where_counters_and_dates_disagree(repo: Path) -> None:
    """Two clones that tagged without fetching: #3 is dated before #2.  Every reader goes by
    the dates; check says so, and its hint re-asserts what the counters meant."""
    assert modelreg(repo, "init").returncode == 0
    for content in ("one", "two"):
        write_model(repo, content)
        assert modelreg(repo, "register", "churn", "models/churn.pkl").returncode == 0
    commits = {v: git(repo, "rev-list", "-n1", f"churn@{v}").strip() for v in ("v1.0.0", "v1.1.0")}
    now = int(time.time())
    for name, version, when in (
        ("churn#production#2", "v1.0.0", now - 5),
        ("churn#production#3", "v1.1.0", now - 50),
    ):
        body = (
            f"object {commits[version]}\ntype commit\ntag {name}\n"
            f"tagger Bo <bo@example.com> {when} +0000\n\nassign\n"
        )
        made = subprocess.run(
            ["git", "mktag"], cwd=repo, input=body, capture_output=True, text=True, check=True
        )
        obj = made.stdout.strip()
        git(repo, "update-ref", f"refs/tags/{name}", obj)
    assert modelreg(repo, "which", "churn", "production").stdout.strip() == "v1.0.0"
    checked = modelreg(repo, "check")
    warning = next(ln for ln in checked.stdout.splitlines() if ln.startswith("warning: churn:"))
    assert "churn#production#3 is dated before churn#production#2" in warning
    hint = warning.split("`")[1]
    assert hint == "modelreg promote churn v1.1.0 production"
    assert modelreg(repo, *hint.split()[1:]).returncode == 0
    assert modelreg(repo, "which", "churn", "production").stdout.strip() == "v1.1.0"


def test_a_rollback_goes_back_to_the_holder_a_demotion_left_in_the_same_second(
    repo: Path, fake: FakeClock
) -> None:
    reg = Registry(repo)
    reg.init()
    for content in ("one", "two", "three"):
        write_model(repo, content)
        reg.register("churn", "models/churn.pkl")
    reg.promote("churn", "v1.0.0", "production")
    reg.promote("churn", "v1.1.0", "production")
    fake.t += 1  # a later second
    reg.demote("churn", "production")  # v1.0.0 holds production again…
    reg.promote("churn", "v1.2.0", "production")  # …until v1.2.0 takes it, in that second
    dates = _dates(repo)
    assert dates["churn#production!#3"] == dates["churn#production#4"]
    reg.rollback("churn", "production")
    assert _holder(reg) == "v1.0.0"

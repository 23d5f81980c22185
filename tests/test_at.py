"""What held a stage at an instant (``which --at``, ``list --at``) and the log between two
instants (``history --since/--until``), replayed from tags dated at known times."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.dated import DatedRegistry
from tests.helpers import modelreg

from modelreg import InvalidInputError, NotFoundError, Registry
from modelreg.records import Event
from modelreg.timespec import parse_instant

DAY = "2026-11-20T"


@pytest.fixture
def dated(tmp_path: Path) -> DatedRegistry:
    """churn: promoted, promoted again, rolled back, demoted twice (empty), then staging;
    fraud: made later, promoted, deprecated."""
    reg = DatedRegistry(tmp_path / "repo")
    reg.register("churn", "v1.0.0", DAY + "10:00:00", metrics={"accuracy": 0.9})
    reg.register("churn", "v1.1.0", DAY + "10:01:00", metrics={"accuracy": 0.95})
    reg.tag("churn#production#1", "churn", "v1.0.0", DAY + "10:02:00")  # first promotion
    reg.register("fraud", "v1.0.0", DAY + "10:03:00", metrics={"auc": 0.8})
    reg.tag("fraud#production#1", "fraud", "v1.0.0", DAY + "10:04:00")
    reg.tag("churn#production#2", "churn", "v1.1.0", DAY + "10:05:00")  # promotion
    reg.tag("churn#production#3", "churn", "v1.0.0", DAY + "10:10:00")  # rollback
    reg.tag("churn#production!#4", "churn", "v1.0.0", DAY + "10:20:00")  # demotion: v1.1.0 back
    reg.tag("churn#production!#5", "churn", "v1.1.0", DAY + "10:30:00")  # demotion: empty
    reg.tag("fraud@deprecated#2", "fraud", "v1.0.0", DAY + "10:40:00")
    reg.register("churn", "v1.2.0", DAY + "11:00:00", metrics={"accuracy": 0.97})
    reg.tag("churn#staging#6", "churn", "v1.2.0", DAY + "11:00:30")
    return reg


def _holder(reg: Registry, at: str, model: str = "churn", stage: str = "production") -> str | None:
    try:
        return reg.which_version(model, stage, at=at)
    except NotFoundError:
        return None


# (instant, holder of churn's production then): before, exactly at, between and after events.
TIMELINE = [
    (DAY + "10:01:59", None),
    (DAY + "10:02:00", "v1.0.0"),  # the promotion's own second counts
    (DAY + "10:04:59", "v1.0.0"),
    (DAY + "10:05:00", "v1.1.0"),
    (DAY + "10:09:59", "v1.1.0"),
    (DAY + "10:10:00", "v1.0.0"),  # rolled back
    (DAY + "10:19:59", "v1.0.0"),
    (DAY + "10:20:00", "v1.1.0"),  # v1.0.0 demoted: the previous holder again
    (DAY + "10:30:00", None),  # v1.1.0 demoted too
    ("2027-01-01", None),
]


@pytest.mark.parametrize(("at", "holder"), TIMELINE, ids=[t for t, _ in TIMELINE])
def test_which_at_replays_the_tags_up_to_that_instant(
    dated: DatedRegistry, at: str, holder: str | None
) -> None:
    assert _holder(Registry(dated.root), at) == holder


def test_which_at_takes_every_time_form_and_zone(dated: DatedRegistry) -> None:
    reg = Registry(dated.root)
    assert reg.which_version("churn", "production", at="2026-11-20T10:05") == "v1.1.0"
    assert reg.which_version("churn", "production", at="2026-11-20T11:05:00+01:00") == "v1.1.0"
    assert reg.which_version("churn", "production", at="2026-11-20T10:04:59Z") == "v1.0.0"
    assert reg.which_version("churn", "production", at="2026-11-20 10:10:00") == "v1.0.0"
    when = datetime(2026, 11, 20, 10, 5, 0, 999_999)  # naive: UTC; a fraction of a second
    assert reg.which_version("churn", "production", at=when) == "v1.1.0"
    tokyo = timezone(timedelta(hours=9))
    assert reg.which(
        "churn", "staging", at=datetime(2026, 11, 20, 20, 0, 30, tzinfo=tokyo)
    ).version == ("v1.2.0")


def test_which_at_gives_the_record_as_it_was(dated: DatedRegistry) -> None:
    mv = Registry(dated.root).which("churn", "production", at=DAY + "10:06")
    assert (mv.version, mv.stages, mv.metrics) == ("v1.1.0", ["production"], {"accuracy": 0.95})


def test_which_at_explains_why_nothing_held_the_stage(dated: DatedRegistry) -> None:
    reg = Registry(dated.root)
    with pytest.raises(NotFoundError) as empty:
        reg.which("churn", "production", at=DAY + "10:45")
    assert str(empty.value) == (
        "no version of 'churn' held stage 'production' at 2026-11-20T10:45:00Z: see "
        "`modelreg history churn --until 2026-11-20T10:45:00Z`"
    )
    with pytest.raises(NotFoundError, match="did not exist yet at 2026-11-20T00:00:00Z: its first"):
        reg.which("churn", "production", at="2026-11-20")
    with pytest.raises(NotFoundError, match="'fraud' was deprecated at 2026-11-20T10:40:00Z"):
        reg.which("fraud", "production", at=DAY + "10:40")
    assert reg.which_version("fraud", "production", at=DAY + "10:39:59") == "v1.0.0"
    with pytest.raises(InvalidInputError, match=r"invalid at '2026-11-31': use 2026-11-20, "):
        reg.which("churn", "production", at="2026-11-31")


def test_the_hint_of_an_empty_stage_works(dated: DatedRegistry) -> None:
    proc = modelreg(dated.root, "which", "churn", "production", "--at", DAY + "10:45")
    assert proc.returncode == 1
    hint = proc.stderr.split("`")[1].split()
    listed = modelreg(dated.root, *hint[1:])
    assert listed.returncode == 0, listed.stderr
    assert "unassign" in listed.stdout.splitlines()[1]


def test_list_at_gives_each_models_holders_and_latest_then(dated: DatedRegistry) -> None:
    reg = Registry(dated.root)
    rows = {r.name: r for r in reg.list_models(at=DAY + "10:06")}
    assert sorted(rows) == ["churn", "fraud"]
    assert (rows["churn"].latest, rows["churn"].stages) == ("v1.1.0", {"production": "v1.1.0"})
    assert rows["churn"].metrics == {"accuracy": 0.95}
    assert (rows["fraud"].latest, rows["fraud"].stages) == ("v1.0.0", {"production": "v1.0.0"})
    # fraud did not exist yet; later it is deprecated; churn's v1.2.0 came after.
    assert [r.name for r in reg.list_models(at=DAY + "10:02:59")] == ["churn"]
    later = {r.name: r for r in reg.list_models(at=DAY + "10:50")}
    assert later["fraud"].deprecated and later["fraud"].stages == {}
    assert (later["churn"].latest, later["churn"].stages) == ("v1.1.0", {})
    now = {r.name: r for r in reg.list_models()}
    assert (now["churn"].latest, now["churn"].stages) == ("v1.2.0", {"staging": "v1.2.0"})


def test_list_at_on_the_command_line(dated: DatedRegistry) -> None:
    proc = modelreg(dated.root, "list", "--at", DAY + "10:10")
    assert proc.returncode == 0, proc.stderr
    lines = [line.split() for line in proc.stdout.splitlines()]
    assert lines[0] == ["model", "latest", "dev", "staging", "production", "metrics"]
    assert lines[1] == ["churn", "v1.1.0", "-", "-", "v1.0.0", "accuracy=0.95"]
    assert lines[2] == ["fraud", "v1.0.0", "-", "-", "v1.0.0", "auc=0.8"]


def _tags(events: list[Event]) -> list[str]:
    return [e.tag for e in events]


def test_history_since_and_until_include_both_ends(dated: DatedRegistry) -> None:
    reg = Registry(dated.root)
    between = reg.history("churn", since=DAY + "10:05", until=DAY + "10:20")
    assert _tags(between) == ["churn#production!#4", "churn#production#3", "churn#production#2"]
    everything = reg.history(since=DAY + "10:03", until=DAY + "10:05")
    assert _tags(everything) == ["churn#production#2", "fraud#production#1", "fraud@v1.0.0"]
    assert _tags(reg.history(since=DAY + "11:00:30")) == ["churn#staging#6"]
    assert _tags(reg.history("churn", until=DAY + "10:00")) == ["churn@v1.0.0"]
    assert reg.history("churn", since="2027-01-01") == []
    with pytest.raises(InvalidInputError, match="is after until 2026-11-20T10:00:00Z: .*swap"):
        reg.history(since=DAY + "10:01", until=DAY + "10:00")


def test_history_since_until_on_the_command_line(dated: DatedRegistry) -> None:
    proc = modelreg(dated.root, "history", "--since", DAY + "10:05:00", "--until", DAY + "10:10Z")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split()[2:5] for line in lines[1:]] == [
        ["churn", "assign", "v1.0.0"],
        ["churn", "assign", "v1.1.0"],
    ]


@pytest.mark.parametrize(
    ("args", "value", "flag"),
    [
        (["which", "churn", "production", "--at"], "2026-11-20T25:00", "--at"),
        (["list", "--at"], "yesterday", "--at"),
        (["history", "--since"], "2026-11-20T10:00:00.5", "--since"),
        (["history", "--until"], "20-11-2026", "--until"),
    ],
)
def test_a_bad_time_is_one_line_naming_it(
    dated: DatedRegistry, args: list[str], value: str, flag: str
) -> None:
    proc = modelreg(dated.root, *args, value)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == (
        f"modelreg: error: invalid {flag} '{value}': use 2026-11-20, 2026-11-20T10:02 or "
        "2026-11-20T10:02:11 (UTC unless it ends in Z or +HH:MM)\n"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20", "2026-11-20T00:00:00+00:00"),
        ("2026-11-20T10:02", "2026-11-20T10:02:00+00:00"),
        ("2026-11-20T10:02:11", "2026-11-20T10:02:11+00:00"),
        ("2026-11-20T10:02:11Z", "2026-11-20T10:02:11+00:00"),
        ("2026-11-20T10:02+02:00", "2026-11-20T08:02:00+00:00"),
        ("2026-11-20T00:30:00-01:30", "2026-11-20T02:00:00+00:00"),
        ("2024-02-29", "2024-02-29T00:00:00+00:00"),
    ],
)
def test_times_without_a_zone_are_utc(text: str, expected: str) -> None:
    assert parse_instant(text).isoformat() == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-02-29",
        "2026-11-20T10",
        "2026-11-20Z",
        "2026-11-20T10:02:60",
        "2026-11-20T10:02+24:00",
        "0001-01-01T00:00+01:00",
        "２０２６-11-20",
        "2026-11-20T10:02:11.000Z",
        " 2026-11-20",
    ],
)
def test_malformed_times_are_refused(text: str) -> None:
    with pytest.raises(InvalidInputError, match="use 2026-11-20, 2026-11-20T10:02 or"):
        parse_instant(text)


def test_by_url_the_answers_are_the_same(dated: DatedRegistry, tmp_path: Path) -> None:
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(dated.root), str(origin)], check=True)
    local, remote = Registry(dated.root), Registry(origin.as_uri())
    assert remote.is_remote
    for at, holder in TIMELINE:
        assert _holder(remote, at) == holder == _holder(local, at), at
        if holder is not None:
            ours, theirs = (r.which("churn", "production", at=at) for r in (local, remote))
            assert ours == theirs
    for at in (DAY + "10:02:59", DAY + "10:10", DAY + "10:50"):
        assert remote.list_models(at=at) == local.list_models(at=at)
    window = {"since": DAY + "10:04", "until": DAY + "10:20"}
    assert remote.history(**window) == local.history(**window)
    assert remote.history("churn", **window) == local.history("churn", **window)
    proc = modelreg(
        tmp_path, "which", "churn", "production", "--at", DAY + "10:09", "--repo", origin.as_uri()
    )
    assert (proc.returncode, proc.stdout) == (0, "v1.1.0\n")


def test_by_url_at_reads_tag_dates_even_where_names_would_do(tmp_path: Path) -> None:
    """One registration and one stage tag: the names alone answer `which` now (ls-remote), but
    not `which --at`, which needs the tag objects' dates."""
    solo = DatedRegistry(tmp_path / "solo.git", bare=True)
    solo.register("solo", "v1.0.0", DAY + "10:00")
    solo.tag("solo#production#1", "solo", "v1.0.0", DAY + "10:30")
    reg = Registry(solo.root.as_uri())
    assert reg.which_version("solo", "production") == "v1.0.0"
    assert _holder(reg, DAY + "10:29:59", "solo") is None
    assert _holder(reg, DAY + "10:30", "solo") == "v1.0.0"
    with pytest.raises(NotFoundError, match="did not exist yet"):
        reg.which_version("solo", "production", at=DAY + "09:59")


@given(
    when=st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(None)
    ),
    minutes=st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59),
    form=st.sampled_from(["date", "minutes", "seconds"]),
)
def test_every_form_names_the_instant_python_would(when: datetime, minutes: int, form: str) -> None:
    zone = timezone(timedelta(minutes=minutes))
    local = when.replace(microsecond=0, tzinfo=zone)
    # By hand: strftime's %Y does not pad years before 1000.
    text = f"{local.year:04d}-{local.month:02d}-{local.day:02d}"
    if form == "date":
        local = local.replace(hour=0, minute=0, second=0, tzinfo=timezone.utc)
    else:
        if form == "minutes":
            local = local.replace(second=0)
        text += f"T{local.hour:02d}:{local.minute:02d}"
        if form == "seconds":
            text += f":{local.second:02d}"
        sign, offset = ("-" if minutes < 0 else "+"), abs(minutes)
        text += f"{sign}{offset // 60:02d}:{offset % 60:02d}"
    assert parse_instant(text) == local

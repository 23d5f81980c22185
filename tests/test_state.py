"""Replaying a model's tags into its state: the rules GTO uses, checked on synthetic tags."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from modelreg.state import holder_sequence, replay
from modelreg.tags import RawTag

COMMITS = {f"v1.{i}.0": f"{i:040x}" for i in range(10)}


class Log:
    """Builds tags the way a sequence of commands would, one second apart."""

    def __init__(self) -> None:
        self.tags: list[RawTag] = []
        self.t = 1_700_000_000
        self.counter = 0

    def _add(self, name: str, commit: str, ts: int | None = None) -> None:
        self.t += 1
        self.tags.append(RawTag(name, commit, self.t if ts is None else ts, "A", "a@x", "m"))

    def register(self, v: str, model: str = "m") -> Log:
        self._add(f"{model}@{v}", COMMITS[v])
        return self

    def deregister(self, v: str) -> Log:
        self._add(f"m@{v}!", COMMITS[v])
        return self

    def assign(self, v: str, stage: str, *, counted: bool = True, ts: int | None = None) -> Log:
        self.counter += 1
        suffix = f"#{self.counter}" if counted else ""
        self._add(f"m#{stage}{suffix}", COMMITS[v], ts)
        return self

    def unassign(self, v: str, stage: str, *, ts: int | None = None) -> Log:
        self.counter += 1
        self._add(f"m#{stage}!#{self.counter}", COMMITS[v], ts)
        return self

    def deprecate(self) -> Log:
        self._add("m@deprecated", COMMITS["v1.0.0"])
        return self


def test_latest_assignment_holds_the_stage() -> None:
    log = (
        Log()
        .register("v1.0.0")
        .register("v1.1.0")
        .assign("v1.0.0", "prod")
        .assign("v1.1.0", "prod")
    )
    assert replay("m", log.tags).holder("prod") == "v1.1.0"


def test_unassigning_the_holder_uncovers_the_previous_active_pair() -> None:
    log = Log().register("v1.0.0").register("v1.1.0")
    log.assign("v1.0.0", "prod").assign("v1.1.0", "prod").unassign("v1.1.0", "prod")
    assert replay("m", log.tags).holder("prod") == "v1.0.0"
    log.unassign("v1.0.0", "prod")
    assert replay("m", log.tags).holder("prod") is None


def test_deregistered_versions_hold_nothing_and_are_not_latest() -> None:
    log = Log().register("v1.0.0").register("v1.1.0")
    log.assign("v1.0.0", "prod").assign("v1.1.0", "prod").deregister("v1.1.0")
    state = replay("m", log.tags)
    assert state.holder("prod") == "v1.0.0"
    assert state.latest() == "v1.0.0"
    assert not state.versions["v1.1.0"].active


def test_latest_is_by_semver_not_by_date() -> None:
    log = Log().register("v1.2.0").register("v1.1.0")
    assert replay("m", log.tags).latest() == "v1.2.0"


def test_deprecation_hides_everything_until_a_new_event() -> None:
    log = Log().register("v1.0.0").assign("v1.0.0", "prod").deprecate()
    state = replay("m", log.tags)
    assert state.deprecated and state.latest() is None and state.holders() == {}
    log.register("v1.1.0")
    state = replay("m", log.tags)
    assert not state.deprecated
    assert state.latest() == "v1.1.0"
    assert state.holder("prod") == "v1.0.0"


def test_dates_order_events_even_when_counters_disagree() -> None:
    """GTO orders by tagger date; a counter that says otherwise (two clones that did not
    fetch, clock skew) does not count."""
    log = Log().register("v1.0.0").register("v1.1.0")
    log.assign("v1.0.0", "prod", ts=1_800_000_000)  # counter 1, dated last
    log.assign("v1.1.0", "prod", ts=1_700_000_100)  # counter 2, dated earlier
    assert replay("m", log.tags).holder("prod") == "v1.0.0"


SECOND = 1_750_000_000


def _at(name: str, version: str, ts: int = SECOND) -> RawTag:
    return RawTag(name, COMMITS[version], ts, "A", "a@x", "m")


def test_same_second_assignments_go_to_the_version_registered_first() -> None:
    """Not the higher SemVer, nor the higher counter: GTO keeps the older version."""
    tags = [
        _at("m@v1.1.0", "v1.1.0", SECOND - 20),  # registered first, though higher in SemVer
        _at("m@v1.0.0", "v1.0.0", SECOND - 10),
        _at("m#prod#2", "v1.0.0"),
        _at("m#prod#1", "v1.1.0"),
    ]
    assert replay("m", tags).holder("prod") == "v1.1.0"
    tags[0], tags[1] = (
        _at("m@v1.1.0", "v1.1.0", SECOND - 10),
        _at("m@v1.0.0", "v1.0.0", SECOND - 20),
    )
    assert replay("m", tags).holder("prod") == "v1.0.0"


def test_same_second_registrations_tie_by_tag_name() -> None:
    """Registered in one second, the first by tag name counts as registered first."""
    tags = [
        _at("m@v1.1.0", "v1.1.0", SECOND - 5),
        _at("m@v1.0.0", "v1.0.0", SECOND - 5),
        _at("m#prod#1", "v1.1.0"),
        _at("m#prod#2", "v1.0.0"),
    ]
    assert replay("m", tags).holder("prod") == "v1.0.0"


def test_an_unassignment_in_the_same_second_wins() -> None:
    tags = [
        _at("m@v1.0.0", "v1.0.0", SECOND - 5),
        _at("m#prod!#2", "v1.0.0"),
        _at("m#prod#3", "v1.0.0"),
    ]
    assert replay("m", tags).holder("prod") is None


def test_a_deregistration_in_the_same_second_wins() -> None:
    tags = [_at("m@v1.0.0", "v1.0.0"), _at("m@v1.0.0!", "v1.0.0")]
    assert replay("m", tags).latest() is None
    reregistered = [_at("m@v1.0.0", "v1.0.0", SECOND - 9), _at("m@v1.0.0!", "v1.0.0", SECOND - 5)]
    reregistered.append(_at("m@v1.0.0#3", "v1.0.0"))
    assert replay("m", reregistered).latest() == "v1.0.0"


def test_any_event_in_the_second_of_a_deprecation_keeps_the_model() -> None:
    tags = [_at("m@v1.0.0", "v1.0.0", SECOND - 5), _at("m#prod#1", "v1.0.0", SECOND - 5)]
    assert replay("m", [*tags, _at("m@deprecated", "v1.0.0")]).deprecated
    same = [*tags, _at("m@deprecated", "v1.0.0"), _at("m#dev#2", "v1.0.0")]
    assert not replay("m", same).deprecated
    assert replay("m", same).holder("prod") == "v1.0.0"


def test_build_metadata_ties_go_to_the_version_registered_last() -> None:
    tags = [_at("m@v1.0.0+b", "v1.0.0", SECOND - 5), _at("m@v1.0.0+a", "v1.1.0", SECOND)]
    assert replay("m", tags).latest() == "v1.0.0+a"
    tags = [_at("m@v1.0.0+a", "v1.0.0", SECOND - 5), _at("m@v1.0.0+b", "v1.1.0", SECOND)]
    assert replay("m", tags).latest() == "v1.0.0+b"


def test_state_at_an_instant_includes_events_dated_then() -> None:
    log = Log().register("v1.0.0").register("v1.1.0").assign("v1.0.0", "prod")
    moment = log.t
    log.assign("v1.1.0", "prod")
    state = replay("m", log.tags)
    assert state.until(moment).holder("prod") == "v1.0.0"
    assert state.until(moment - 1).holder("prod") is None
    assert state.holder("prod") == "v1.1.0"


def test_simple_stage_tags_are_ordered_by_date() -> None:
    log = Log().register("v1.0.0").register("v1.1.0")
    log.assign("v1.1.0", "prod", counted=False).assign("v1.0.0", "staging", counted=False)
    state = replay("m", log.tags)
    assert state.holders() == {"prod": "v1.1.0", "staging": "v1.0.0"}


def test_stage_on_an_unregistered_commit_is_known_by_its_hash() -> None:
    log = Log().register("v1.0.0").assign("v1.3.0", "dev")
    assert replay("m", log.tags).holder("dev") == COMMITS["v1.3.0"]


def test_other_models_tags_are_ignored() -> None:
    log = Log().register("v1.0.0").register("v1.1.0", model="other")
    state = replay("m", log.tags)
    assert list(state.versions) == ["v1.0.0"]


def test_counter_and_timestamp_bookkeeping() -> None:
    log = Log().register("v1.0.0").assign("v1.0.0", "prod").assign("v1.0.0", "dev")
    state = replay("m", log.tags)
    assert state.max_counter == 2
    assert state.last_timestamp == log.t


def test_holder_sequence_collapses_repeats() -> None:
    log = Log().register("v1.0.0").register("v1.1.0").register("v1.2.0")
    log.assign("v1.0.0", "prod").assign("v1.1.0", "prod").assign("v1.1.0", "staging")
    log.assign("v1.2.0", "prod")
    assert holder_sequence(replay("m", log.tags), "prod") == ["v1.0.0", "v1.1.0", "v1.2.0"]


def test_holder_sequence_keeps_the_holder_between_two_events_of_one_second() -> None:
    """Demoting v1.1.0 and promoting v1.2.0 in one second: v1.0.0 held prod in between
    (rollback goes back to it), though the second read as a whole never shows it."""
    log = Log().register("v1.0.0").register("v1.1.0").register("v1.2.0")
    log.assign("v1.0.0", "prod").assign("v1.1.0", "prod")
    second = log.t + 1
    log.unassign("v1.1.0", "prod", ts=second).assign("v1.2.0", "prod", ts=second)
    state = replay("m", log.tags)
    assert state.holder("prod") == "v1.2.0"
    assert holder_sequence(state, "prod") == ["v1.0.0", "v1.1.0", "v1.0.0", "v1.2.0"]


@given(st.lists(st.tuples(st.sampled_from(["assign", "unassign"]), st.integers(0, 2)), max_size=15))
def test_holder_matches_a_naive_model(ops: list[tuple[str, int]]) -> None:
    """A stage holder is the most recently assigned version whose pair is still assigned."""
    versions = ["v1.0.0", "v1.1.0", "v1.2.0"]
    log = Log()
    for v in versions:
        log.register(v)
    assigned: list[str] = []  # most recent last
    for op, i in ops:
        v = versions[i]
        if op == "assign":
            log.assign(v, "prod")
            if v in assigned:
                assigned.remove(v)
            assigned.append(v)
        else:
            log.unassign(v, "prod")
            if v in assigned:
                assigned.remove(v)
    expected = assigned[-1] if assigned else None
    assert replay("m", log.tags).holder("prod") == expected

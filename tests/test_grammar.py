"""The tag grammar: round trips, GTO's forms, and what is rejected."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelreg.errors import InvalidInputError
from modelreg.grammar import (
    EventKind,
    Reference,
    TagName,
    check_name,
    format_tag,
    parse_reference,
    parse_tag,
    tag_patterns,
)

names = st.from_regex(r"\A[a-zA-Z0-9]([a-zA-Z0-9_/-]{0,20}[a-zA-Z0-9])?\Z")
versions = st.builds(
    lambda a, b, c, pre: f"v{a}.{b}.{c}" + (f"-{pre}" if pre else ""),
    st.integers(0, 999),
    st.integers(0, 999),
    st.integers(0, 999),
    st.sampled_from(["", "rc.1", "alpha", "beta.2", "0.3.7"]),
)
counters = st.none() | st.integers(1, 10**6)


@given(names, versions, st.sampled_from([EventKind.REGISTER, EventKind.DEREGISTER]), counters)
def test_version_tags_round_trip(
    name: str, version: str, kind: EventKind, counter: int | None
) -> None:
    tag = TagName(name, kind, version=version, counter=counter)
    assert parse_tag(format_tag(tag)) == tag


@given(names, names, st.sampled_from([EventKind.ASSIGN, EventKind.UNASSIGN]), counters)
def test_stage_tags_round_trip(name: str, stage: str, kind: EventKind, counter: int | None) -> None:
    tag = TagName(name, kind, stage=stage, counter=counter)
    assert parse_tag(format_tag(tag)) == tag


@given(names, counters)
def test_deprecation_round_trip(name: str, counter: int | None) -> None:
    tag = TagName(name, EventKind.DEPRECATE, counter=counter)
    assert parse_tag(format_tag(tag)) == tag


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("churn@v1.3.0", TagName("churn", EventKind.REGISTER, version="v1.3.0")),
        ("churn@v1.3.0!", TagName("churn", EventKind.DEREGISTER, version="v1.3.0")),
        ("churn#production#4", TagName("churn", EventKind.ASSIGN, stage="production", counter=4)),
        (
            "churn#production!#5",
            TagName("churn", EventKind.UNASSIGN, stage="production", counter=5),
        ),
        ("churn#prod", TagName("churn", EventKind.ASSIGN, stage="prod")),
        ("churn@deprecated", TagName("churn", EventKind.DEPRECATE)),
        (
            "team/churn@v2.0.0-rc.1",
            TagName("team/churn", EventKind.REGISTER, version="v2.0.0-rc.1"),
        ),
    ],
)
def test_parses_every_gto_form(text: str, expected: TagName) -> None:
    assert parse_tag(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "v1.0.0",
        "release-2024",
        "churn@1.0.0",
        "churn@v1.0",
        "-churn@v1.0.0",
        "churn@created",
        "churn#",
        "churn@v01.0.0",
        "churn#prod#x",
        "churn@latest",
    ],
)
def test_foreign_tags_are_ignored(text: str) -> None:
    assert parse_tag(text) is None


@pytest.mark.parametrize("bad", ["", "-churn", "churn-", "ch urn", "churn@x", "a#b", "é", "_x"])
def test_invalid_names_are_rejected_with_the_value(bad: str) -> None:
    with pytest.raises(InvalidInputError, match="invalid model name") as e:
        check_name(bad)
    assert repr(bad) in str(e.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("churn", Reference("churn")),
        ("churn@v1.2.0", Reference("churn", version="v1.2.0")),
        ("churn@latest", Reference("churn", latest=True)),
        ("churn#production", Reference("churn", stage="production")),
    ],
)
def test_references(text: str, expected: Reference) -> None:
    assert parse_reference(text) == expected
    assert str(expected) == text


@pytest.mark.parametrize("bad", ["churn@1.2", "churn#", "churn@", "#prod", "churn@v1.2.0!"])
def test_bad_references(bad: str) -> None:
    with pytest.raises(InvalidInputError, match="invalid reference"):
        parse_reference(bad)


def test_patterns_select_one_model() -> None:
    assert tag_patterns("team/churn") == [
        "refs/tags/team/churn@*",
        "refs/tags/team/churn#*",
        "refs/tags/team/churn#*/**",
    ]

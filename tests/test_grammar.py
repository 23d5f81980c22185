"""The tag grammar: round trips, GTO's forms, and what is rejected."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelreg.errors import InvalidInputError
from modelreg.grammar import (
    Reference,
    TagName,
    check_name,
    check_stage,
    check_tag,
    format_tag,
    is_model_name,
    parse_reference,
    parse_tag,
    tag_patterns,
)
from modelreg.records import EventKind

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


# -- monorepo names: dir/sub:name, written dir/sub=name in tags ------------------------------

folders = st.from_regex(
    r"\A[a-zA-Z0-9_-][a-zA-Z0-9_.-]{0,8}(/[a-zA-Z0-9_-][a-zA-Z0-9_.-]{0,8}){0,2}\Z"
)
full_names = st.builds(lambda folder, name: f"{folder}:{name}", folders, names).filter(
    lambda n: is_model_name(n)
)


@given(full_names, versions, st.sampled_from(list(EventKind)), names, counters)
def test_folder_names_round_trip_through_equals_in_tags(
    name: str, version: str, kind: EventKind, stage: str, counter: int | None
) -> None:
    if kind in (EventKind.ASSIGN, EventKind.UNASSIGN):
        tag = TagName(name, kind, stage=stage, counter=counter)
    elif kind is EventKind.DEPRECATE:
        tag = TagName(name, kind, counter=counter)
    else:
        tag = TagName(name, kind, version=version, counter=counter)
    text = format_tag(tag)
    assert ":" not in text and text.startswith(name.replace(":", "="))
    assert parse_tag(text) == tag
    assert check_tag(text) == text  # git stores every tag of a valid name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dir/sub=churn@v1.0.0", TagName("dir/sub:churn", EventKind.REGISTER, version="v1.0.0")),
        (
            "dir/sub=team/churn#production!#3",
            TagName("dir/sub:team/churn", EventKind.UNASSIGN, stage="production", counter=3),
        ),
        ("a.b_c-d=m@deprecated", TagName("a.b_c-d:m", EventKind.DEPRECATE)),
        ("dir=churn#prod", TagName("dir:churn", EventKind.ASSIGN, stage="prod")),
    ],
)
def test_parses_gto_folder_tags(text: str, expected: TagName) -> None:
    assert parse_tag(text) == expected


@pytest.mark.parametrize(
    "text",
    # GTO's pattern takes these, but git or DVC cannot use the folder: ignored, as foreign.
    ["dir/=churn@v1.0.0", "dir/dvc.yaml=churn@v1.0.0", "a=b=churn@v1.0.0", "=churn@v1.0.0"],
)
def test_tags_with_unusable_folders_are_ignored(text: str) -> None:
    assert parse_tag(text) is None


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("../up:churn", "starts with '.'"),
        ("dir/../x:churn", "starts with '.'"),
        ("a..b:churn", "'..'"),
        ("./dir:churn", "starts with '.'"),
        ("/abs:churn", "absolute"),
        ("dir/:churn", "ends with '/'"),
        ("dir//sub:churn", "empty part"),
        (":churn", "nothing before"),
        ("d ir:churn", "character"),
        ("a.lock/b:churn", ".lock"),
        ("dir/dvc.yaml:churn", "write dir:churn"),
        ("a:b:churn", "more than one ':'"),
        ("dir:churn-", "letters, digits"),
        ("dir:", "letters, digits"),
        ("d" * 201 + ":churn", "at most 200 bytes"),
    ],
)
def test_bad_folders_are_one_line_errors(bad: str, why: str) -> None:
    with pytest.raises(InvalidInputError, match="invalid model name") as e:
        check_name(bad)
    message = str(e.value)
    assert why in message and "\n" not in message
    assert bad[:40] in message
    assert not is_model_name(bad)


@pytest.mark.parametrize(
    "good", ["dir:churn", "dir/sub:churn", "dir/sub:team/churn", "a.b/c_d/e-f:m1", "v1.0:x"]
)
def test_good_folders(good: str) -> None:
    assert check_name(good) == good


def test_stages_take_no_folder() -> None:
    with pytest.raises(InvalidInputError, match="invalid stage 'dir:prod'"):
        check_stage("dir:prod")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dir/sub:churn", Reference("dir/sub:churn")),
        ("dir/sub:churn@v1.0.0", Reference("dir/sub:churn", version="v1.0.0")),
        ("dir/sub:churn@latest", Reference("dir/sub:churn", latest=True)),
        ("dir/sub:team/churn#prod", Reference("dir/sub:team/churn", stage="prod")),
    ],
)
def test_folder_references(text: str, expected: Reference) -> None:
    assert parse_reference(text) == expected
    assert str(expected) == text


@pytest.mark.parametrize("bad", ["../x:churn#prod", "/abs:churn@v1.0.0", "dir/:churn"])
def test_folder_references_report_the_folder(bad: str) -> None:
    with pytest.raises(InvalidInputError, match="invalid model name"):
        parse_reference(bad)


def test_folder_patterns_use_the_tag_form() -> None:
    assert tag_patterns("dir/sub:churn") == [
        "refs/tags/dir/sub=churn@*",
        "refs/tags/dir/sub=churn#*",
        "refs/tags/dir/sub=churn#*/**",
    ]

"""SemVer 2.0 precedence and bumping."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelreg.semver import Version, is_version

ORDERED = [
    "v1.0.0-alpha",
    "v1.0.0-alpha.1",
    "v1.0.0-alpha.beta",
    "v1.0.0-beta",
    "v1.0.0-beta.2",
    "v1.0.0-beta.11",
    "v1.0.0-rc.1",
    "v1.0.0",
    "v1.0.1",
    "v1.2.0",
    "v1.10.0",
    "v2.0.0",
]


def test_precedence_follows_semver_spec() -> None:
    assert sorted(ORDERED, key=Version.parse) == ORDERED
    shuffled = list(reversed(ORDERED))
    assert sorted(shuffled, key=Version.parse) == ORDERED


def test_build_metadata_is_ignored_for_precedence() -> None:
    assert Version.parse("v1.0.0+a") == Version.parse("v1.0.0+b")
    assert str(Version.parse("v1.0.0+build.5")) == "v1.0.0+build.5"


@pytest.mark.parametrize(
    ("start", "part", "expected"),
    [
        ("v1.2.3", "major", "v2.0.0"),
        ("v1.2.3", "minor", "v1.3.0"),
        ("v1.2.3", "patch", "v1.2.4"),
        ("v1.3.0-rc.1", "minor", "v1.3.0"),
        ("v1.2.4-rc.1", "patch", "v1.2.4"),
        ("v2.0.0-rc.1", "major", "v2.0.0"),
    ],
)
def test_bump(start: str, part: str, expected: str) -> None:
    assert str(Version.parse(start).bump(part)) == expected  # type: ignore[arg-type]


@given(
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.sampled_from(["major", "minor", "patch"]),
)
def test_bump_always_increases(a: int, b: int, c: int, part: str) -> None:
    v = Version(a, b, c)
    assert v.bump(part) > v  # type: ignore[arg-type]
    assert Version.parse(str(v)) == v


@pytest.mark.parametrize("bad", ["1.0.0", "v1.0", "v01.0.0", "v1.0.0-", "v1.0.0+", "vx.y.z", ""])
def test_invalid_versions(bad: str) -> None:
    assert not is_version(bad)
    with pytest.raises(ValueError):
        Version.parse(bad)

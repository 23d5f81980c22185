"""The registry.yaml merge driver: the three-way rules (unit and property tests), the driver
entry point and command, installing it, and real `git merge` / `git pull --rebase` runs."""

from __future__ import annotations

import copy
import math
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.helpers import git, write_model
from typer.testing import CliRunner

from modelreg import Registry
from modelreg.cli.merge_command import merge_index as merge_index_command
from modelreg.errors import InvalidInputError
from modelreg.gitrepo import GitRepo
from modelreg.index.parse import parse_index
from modelreg.index.schema import Index, ModelEntry, StagePolicy, VersionEntry
from modelreg.index.serialise import dump_index
from modelreg.merge import CONFLICT_PREFIX, _merge_whole, main, merge_index
from modelreg.mergedriver import (
    ATTRIBUTES_LINE,
    DRIVER_COMMAND,
    driver_configured,
    ensure_attributes,
    ensure_driver,
    ensure_merge_config,
)


def version(name: str, v: str, md5: str = "a", **kw: object) -> VersionEntry:
    return VersionEntry(tag=f"{name}@{v}", md5=md5 * 32, size=1, **kw)  # type: ignore[arg-type]


def base_index() -> Index:
    return Index(
        models={
            "churn": ModelEntry(
                description="Customer churn",
                path="models/churn.pkl",
                labels=["tabular"],
                stages={"staging": "v1.1.0", "production": "v1.0.0"},
                versions={
                    "v1.0.0": version("churn", "v1.0.0", "a", metrics={"acc": 0.9}),
                    "v1.1.0": version("churn", "v1.1.0", "b", metrics={"acc": 0.93}),
                },
            ),
            "iris": ModelEntry(
                path="models/iris.pkl",
                stages={"dev": "v1.0.0"},
                versions={"v1.0.0": version("iris", "v1.0.0", "c")},
            ),
        }
    )


Edit = Callable[[Index], None]


def merge(ours: Edit, theirs: Edit, base: Index | None = None) -> tuple[Index, list[str], str]:
    """Apply ``ours`` and ``theirs`` to copies of ``base``; merge the three texts, both by
    blocks (what the driver does) and whole (its fallback), which must agree."""
    b = base or base_index()
    o, t = copy.deepcopy(b), copy.deepcopy(b)
    ours(o)
    theirs(t)
    texts = dump_index(b), dump_index(o), dump_index(t)
    text, conflicts = merge_index(*texts)
    assert _merge_whole(*texts) == (text, conflicts)
    return parse_index(text), conflicts, text


def clean(ours: Edit, theirs: Edit, base: Index | None = None) -> Index:
    merged, conflicts, text = merge(ours, theirs, base)
    assert conflicts == []
    assert text == dump_index(merged)  # stable order, no comment block
    return merged


def add_version(name: str, v: str, md5: str = "d") -> Edit:
    def edit(index: Index) -> None:
        index.models[name].versions[v] = version(name, v, md5)

    return edit


def set_stage(name: str, stage: str, v: str) -> Edit:
    def edit(index: Index) -> None:
        index.models[name].stages[stage] = v

    return edit


# -- the rules -------------------------------------------------------------------------


def test_changes_to_different_models_are_both_kept() -> None:
    merged = clean(add_version("churn", "v1.2.0"), add_version("iris", "v1.1.0"))
    assert set(merged.models["churn"].versions) == {"v1.0.0", "v1.1.0", "v1.2.0"}
    assert set(merged.models["iris"].versions) == {"v1.0.0", "v1.1.0"}


def test_different_versions_of_one_model_are_both_kept() -> None:
    merged = clean(add_version("churn", "v1.2.0", "d"), add_version("churn", "v2.0.0", "e"))
    assert list(merged.models["churn"].versions) == ["v1.0.0", "v1.1.0", "v1.2.0", "v2.0.0"]
    assert merged.models["churn"].versions["v2.0.0"].md5 == "e" * 32


def test_different_stages_of_one_model_are_both_kept() -> None:
    merged = clean(set_stage("churn", "production", "v1.1.0"), set_stage("churn", "dev", "v1.0.0"))
    assert merged.models["churn"].stages == {
        "dev": "v1.0.0",
        "staging": "v1.1.0",
        "production": "v1.1.0",
    }


def test_the_same_change_on_both_sides_is_not_a_conflict() -> None:
    both = set_stage("churn", "production", "v1.1.0")
    assert clean(both, both).models["churn"].stages["production"] == "v1.1.0"
    added = add_version("churn", "v1.2.0", "d")
    assert "v1.2.0" in clean(added, added).models["churn"].versions


def test_the_same_stage_set_differently_is_a_conflict_naming_model_and_stage() -> None:
    def ours(index: Index) -> None:
        add_version("churn", "v1.2.0", "d")(index)
        index.models["churn"].stages["production"] = "v1.2.0"

    def theirs(index: Index) -> None:
        index.models["churn"].stages["production"] = "v1.1.0"
        index.models["iris"].stages["staging"] = "v1.0.0"  # a clean change beside it

    merged, conflicts, text = merge(ours, theirs)
    assert conflicts == ["churn stage production: ours v1.2.0, theirs v1.1.0"]
    assert text.startswith(f"{CONFLICT_PREFIX}churn stage production: ours v1.2.0, theirs v1.1.0\n")
    assert merged.models["churn"].stages["production"] == "v1.2.0"  # ours kept
    assert merged.models["iris"].stages["staging"] == "v1.0.0"  # the rest still merged


def test_a_stage_unset_on_one_side_and_moved_on_the_other_conflicts() -> None:
    def unset(index: Index) -> None:
        del index.models["churn"].stages["production"]

    _, conflicts, _ = merge(unset, set_stage("churn", "production", "v1.1.0"))
    assert conflicts == ["churn stage production: ours (none), theirs v1.1.0"]
    assert "production" not in clean(unset, lambda i: None).models["churn"].stages


def test_one_version_registered_on_both_sides_with_different_records_conflicts() -> None:
    # Two offline registrations that both took churn v1.2.0.
    _, conflicts, _ = merge(
        add_version("churn", "v1.2.0", "d"), add_version("churn", "v1.2.0", "e")
    )
    assert conflicts == ["churn v1.2.0: added on both sides with different md5"]


def test_a_version_removed_on_one_side_and_unchanged_on_the_other_is_removed() -> None:
    def remove(index: Index) -> None:
        del index.models["iris"].versions["v1.0.0"]
        del index.models["iris"].stages["dev"]

    merged = clean(remove, add_version("churn", "v1.2.0"))
    assert merged.models["iris"].versions == {}
    assert "v1.2.0" in merged.models["churn"].versions


def test_a_version_removed_on_one_side_and_changed_on_the_other_conflicts() -> None:
    def remove(index: Index) -> None:
        del index.models["churn"].versions["v1.0.0"]

    def deregister(index: Index) -> None:
        index.models["churn"].versions["v1.0.0"].deregistered = True

    merged, conflicts, _ = merge(remove, deregister)
    assert conflicts[0] == "churn v1.0.0: ours removed it, theirs changed it"
    assert "v1.0.0" not in merged.models["churn"].versions
    _, conflicts, _ = merge(
        deregister, lambda i: i.models["churn"].versions["v1.0.0"].metrics.clear()
    )
    assert conflicts == ["churn v1.0.0: changed on both sides (metrics, deregistered)"]


def test_a_stage_moved_to_a_version_the_other_side_removed_conflicts() -> None:
    # Each change merges cleanly; together the stage would point at nothing.
    def remove(index: Index) -> None:
        del index.models["churn"].versions["v1.1.0"]
        del index.models["churn"].stages["staging"]

    _, conflicts, _ = merge(set_stage("churn", "production", "v1.1.0"), remove)
    assert conflicts == [
        "churn stage production: v1.1.0 is assigned on one side and removed or deregistered "
        "on the other"
    ]


def test_models_added_and_removed() -> None:
    def add_fraud(md5: str, stage: str) -> Edit:
        def edit(index: Index) -> None:
            index.models["fraud"] = ModelEntry(
                path="models/fraud.pkl",
                stages={stage: "v1.0.0"},
                versions={"v1.0.0": version("fraud", "v1.0.0", md5)},
            )

        return edit

    def drop_iris(index: Index) -> None:
        del index.models["iris"]

    merged = clean(add_fraud("f", "dev"), drop_iris)
    assert set(merged.models) == {"churn", "fraud"}
    # Added on both sides: what each added is kept, only the same thing set differently clashes.
    merged = clean(add_fraud("f", "dev"), add_fraud("f", "staging"))
    assert merged.models["fraud"].stages == {"dev": "v1.0.0", "staging": "v1.0.0"}
    _, conflicts, _ = merge(add_fraud("f", "dev"), add_fraud("g", "dev"))
    assert conflicts == ["fraud v1.0.0: added on both sides with different md5"]
    merged, conflicts, _ = merge(drop_iris, set_stage("iris", "production", "v1.0.0"))
    assert conflicts == ["model iris: ours removed it, theirs changed it"]
    assert "iris" not in merged.models


@pytest.mark.parametrize(
    ("field", "ours", "theirs", "shown"),
    [
        (
            "description",
            "Churn v2",
            "Churn, retrained",
            'ours "Churn v2", theirs "Churn, retrained"',
        ),
        (
            "path",
            "models/c.pkl",
            "models/churn.joblib",
            "ours models/c.pkl, theirs models/churn.joblib",
        ),
        ("labels", ["tabular", "gbm"], [], "ours [tabular, gbm], theirs []"),
        ("deprecated", True, False, None),  # False is the base: theirs did not change it
    ],
)
def test_descriptive_fields(field: str, ours: object, theirs: object, shown: str | None) -> None:
    def set_to(value: object) -> Edit:
        return lambda index: setattr(index.models["churn"], field, value)

    assert getattr(clean(set_to(ours), lambda i: None).models["churn"], field) == ours
    assert getattr(clean(lambda i: None, set_to(theirs)).models["churn"], field) == theirs
    _, conflicts, _ = merge(set_to(ours), set_to(theirs))
    assert conflicts == ([f"churn {field}: {shown}"] if shown else [])


def test_top_level_stages_and_policy() -> None:
    def stages(order: list[str]) -> Edit:
        return lambda index: setattr(index, "stages", order)

    def policy(stage: str, rule: StagePolicy) -> Edit:
        return lambda index: index.policy.__setitem__(stage, rule)

    with_canary = ["dev", "staging", "canary", "production"]
    merged = clean(stages(with_canary), add_version("iris", "v1.1.0"))
    assert merged.stages == with_canary
    _, conflicts, _ = merge(stages(with_canary), stages(["dev", "production"]))
    assert conflicts == [
        "stages: ours [dev, staging, canary, production], theirs [dev, production]"
    ]

    prod = StagePolicy(requires="staging", metrics={"acc": ">=0.9"})
    staging = StagePolicy(allow_empty=False)
    merged = clean(policy("production", prod), policy("staging", staging))
    assert merged.policy == {"production": prod, "staging": staging}
    _, conflicts, _ = merge(
        policy("production", prod), policy("production", StagePolicy(requires="dev"))
    )
    assert conflicts == [
        'policy production: ours {requires: staging, metrics: {acc: ">=0.9"}}, '
        "theirs {requires: dev}"
    ]


def test_an_unparsable_side_is_a_conflict_not_a_crash() -> None:
    good = dump_index(base_index())
    broken = good.replace("size: 1", "size: big", 1)
    text, conflicts = merge_index(good, good, broken)
    assert len(conflicts) == 1
    assert conflicts[0].startswith("their registry.yaml:")
    assert "expected an integer, got 'big'" in conflicts[0]
    assert text.endswith(good) and text.startswith(CONFLICT_PREFIX)  # ours, annotated
    text, conflicts = merge_index(good, "stages: [\n", good)
    assert conflicts[0].startswith("our registry.yaml:") and "invalid YAML" in conflicts[0]
    # An unreadable base: nothing counts as removed, and the merge still asks for a look.
    o, t = base_index(), base_index()
    add_version("churn", "v1.2.0")(o)
    text, conflicts = merge_index("models: [", dump_index(o), dump_index(t))
    assert len(conflicts) == 1 and conflicts[0].startswith("the base's registry.yaml:")
    assert "v1.2.0" in parse_index(text).models["churn"].versions


def test_an_empty_base_is_an_add_add_merge() -> None:
    o, t = base_index(), base_index()
    add_version("churn", "v1.2.0")(o)
    add_version("iris", "v1.1.0")(t)
    text, conflicts = merge_index("", dump_index(o), dump_index(t))
    assert conflicts == []
    merged = parse_index(text)
    assert "v1.2.0" in merged.models["churn"].versions
    assert "v1.1.0" in merged.models["iris"].versions
    t.stages = ["dev", "production"]
    assert merge_index("", dump_index(o), dump_index(t))[1][0].startswith("stages: ")


def test_untouched_nan_metrics_do_not_conflict() -> None:
    b = base_index()
    b.models["churn"].versions["v1.0.0"].metrics["loss"] = math.nan
    merged = clean(add_version("churn", "v1.2.0"), add_version("churn", "v2.0.0"), base=b)
    assert math.isnan(merged.models["churn"].versions["v1.0.0"].metrics["loss"])


@pytest.mark.parametrize(("before", "after"), [(1, 1.0), (1, True), (0.0, -0.0)])
def test_a_change_python_calls_equal_is_still_a_change(before: object, after: object) -> None:
    # 1 == 1.0 == True and 0.0 == -0.0, but the file tells them apart: the side that wrote
    # the other one changed the value.
    b = base_index()
    b.models["churn"].versions["v1.0.0"].params["C"] = before  # type: ignore[assignment]

    def change(index: Index) -> None:
        index.models["churn"].versions["v1.0.0"].params["C"] = after  # type: ignore[assignment]

    for merged in (clean(change, lambda i: None, base=b), clean(lambda i: None, change, base=b)):
        value = merged.models["churn"].versions["v1.0.0"].params["C"]
        assert repr(value) == repr(after)


def test_policy_order_is_kept_as_the_side_that_changed_it_wrote_it() -> None:
    # dump_index writes policies (and their metrics) in file order, so a reordering is a
    # change of the text, which the untouched side must not undo.
    b = base_index()
    b.policy = {
        "staging": StagePolicy(metrics={"acc": ">=0.8", "lat": "<9"}),
        "production": StagePolicy(requires="staging"),
    }

    def reorder_stages(index: Index) -> None:
        index.policy = dict(reversed(index.policy.items()))

    def reorder_metrics(index: Index) -> None:
        index.policy["staging"].metrics = {"lat": "<9", "acc": ">=0.8"}

    other = add_version("iris", "v1.1.0")
    for ours, theirs in ((reorder_stages, other), (other, reorder_stages)):
        assert list(clean(ours, theirs, base=b).policy) == ["production", "staging"]
    for ours, theirs in ((reorder_metrics, other), (other, reorder_metrics)):
        assert list(clean(ours, theirs, base=b).policy["staging"].metrics) == ["lat", "acc"]


def test_every_top_level_field_is_merged() -> None:
    # Fields added to Index later (a string such as `branch:`) are merged, not dropped.
    extra = [
        name
        for name, f in Index.model_fields.items()
        if name not in ("stages", "policy", "models") and "str" in str(f.annotation)
    ]
    assert extra == ["branch"]
    for name in extra:

        def set_field(index: Index, name: str = name) -> None:
            setattr(index, name, "x")

        merged = clean(lambda i: None, set_field)
        assert getattr(merged, name) == "x"
        merged = clean(set_field, add_version("iris", "v1.1.0"))
        assert getattr(merged, name) == "x"


def test_conflict_lines_stay_one_line_and_escape_control_characters() -> None:
    name = "evil\n# injected\u202e"

    def add(md5: str) -> Edit:
        def edit(index: Index) -> None:
            index.models[name] = ModelEntry(versions={"v1.0.0": version("x", "v1.0.0", md5)})

        return edit

    _, conflicts, text = merge(add("d"), add("e"))
    assert conflicts == [
        "evil\\x0a# injected\\u202e v1.0.0: added on both sides with different md5"
    ]
    header = text.split("stages:", 1)[0]
    assert all(line.startswith("# modelreg merge") for line in header.splitlines())


def test_header_comments_survive_a_merge_of_model_changes() -> None:
    # The README's policy example carries comments; a merge of model changes keeps them.
    comment = "policy:  # reviewed by the ML platform team\n"

    def commented(index: Index) -> str:
        return dump_index(index).replace("policy:\n", comment)

    b = base_index()
    b.policy = {"production": StagePolicy(requires="staging")}
    o, t = copy.deepcopy(b), copy.deepcopy(b)
    add_version("churn", "v1.2.0")(o)
    set_stage("iris", "staging", "v1.0.0")(t)
    text, conflicts = merge_index(commented(b), commented(o), commented(t))
    assert conflicts == []
    assert comment in text
    merged = parse_index(text)
    assert "v1.2.0" in merged.models["churn"].versions
    assert merged.models["iris"].stages["staging"] == "v1.0.0"


def test_only_what_both_sides_changed_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    # A 10,000-version index takes seconds to parse: a merge must not parse it three times.
    import modelreg.merge

    b = base_index()
    for i in range(20):
        b.models[f"m{i:02}"] = ModelEntry(versions={"v1.0.0": version(f"m{i}", "v1.0.0")})
    seen: list[str] = []

    def counting(text: str, *args: object, **kw: object) -> Index:
        seen.append(text)
        return parse_index(text, *args, **kw)  # type: ignore[arg-type]

    def ours(index: Index) -> None:
        set_stage("churn", "dev", "v1.0.0")(index)
        add_version("m07", "v1.1.0")(index)

    o, t = copy.deepcopy(b), copy.deepcopy(b)
    ours(o)
    set_stage("churn", "production", "v1.1.0")(t)
    texts = dump_index(b), dump_index(o), dump_index(t)
    monkeypatch.setattr(modelreg.merge, "parse_index", counting)
    text, conflicts = merge_index(*texts)
    assert conflicts == []
    merged = parse_index(text)
    assert merged.models["churn"].stages == {
        "dev": "v1.0.0",
        "staging": "v1.1.0",
        "production": "v1.1.0",
    }
    assert "v1.1.0" in merged.models["m07"].versions
    parsed = "".join(seen)
    assert "m03:" not in parsed and "iris:" not in parsed  # nobody changed them
    assert parsed.count("m07:") == 1  # one side changed it: checked, not merged
    assert parsed.count("churn:") == 3  # both did: base, ours and theirs parsed


# -- properties ------------------------------------------------------------------------

FLOATS = st.sampled_from([0.0, -0.0, 0.5, 0.93, 1.0, 1e20, math.nan, math.inf])
PARAMS = st.sampled_from([1, 1.0, True, "x", "1"])
VERSIONS = st.sampled_from(["v1.0.0", "v1.1.0", "v2.0.0"])
STAGES = st.sampled_from(["dev", "staging", "production"])
VERSION_ENTRIES = st.builds(
    VersionEntry,
    tag=st.sampled_from(["churn@v1.0.0", "t"]),
    md5=st.sampled_from([None, "a" * 32, "b" * 32]),
    size=st.sampled_from([None, 1, 2]),
    metrics=st.dictionaries(st.sampled_from(["acc", "loss"]), FLOATS, max_size=2),
    params=st.dictionaries(st.sampled_from(["C", "depth"]), PARAMS, max_size=2),
    deregistered=st.booleans(),
)
MODEL_ENTRIES = st.builds(
    ModelEntry,
    description=st.sampled_from([None, "a", "b\nc"]),
    path=st.sampled_from([None, "models/a.pkl"]),
    labels=st.lists(st.sampled_from(["x", "y"]), max_size=2),
    deprecated=st.booleans(),
    stages=st.dictionaries(STAGES, VERSIONS, max_size=3),
    versions=st.dictionaries(VERSIONS, VERSION_ENTRIES, max_size=3),
)
POLICIES = st.dictionaries(
    STAGES,
    st.builds(
        StagePolicy,
        # st.lists, not sampled lists: one list object shared by two policies would be
        # dumped as a YAML anchor and alias.
        requires=st.one_of(
            st.sampled_from([None, "staging"]), st.lists(STAGES, min_size=1, max_size=2)
        ),
        metrics=st.dictionaries(st.sampled_from(["acc", "lat"]), st.sampled_from([">=0.9", "<5"])),
        allow_empty=st.booleans(),
    ),
    max_size=3,
)
STAGE_LISTS = st.sampled_from([["dev", "staging", "production"], ["dev", "production"]])
INDEXES = st.builds(
    Index,
    stages=STAGE_LISTS,
    policy=POLICIES,
    models=st.dictionaries(st.sampled_from(["churn", "iris", "fraud"]), MODEL_ENTRIES, max_size=3),
)


@st.composite
def variants(draw: st.DrawFn, base: Index) -> Index:
    """``base`` with some parts kept and others replaced, so that two variants often merge
    cleanly (the interesting case) and sometimes clash."""
    index = copy.deepcopy(base)
    if draw(st.booleans()):
        index.stages = draw(STAGE_LISTS)
    if draw(st.booleans()):
        index.policy = draw(POLICIES)
    for name in ["churn", "iris", "fraud"]:
        action = draw(st.sampled_from(["keep", "keep", "edit", "drop", "new"]))
        if action == "drop":
            index.models.pop(name, None)
        elif action == "new":
            index.models[name] = draw(MODEL_ENTRIES)
        elif action == "edit" and name in index.models:
            entry = index.models[name]
            for stage in draw(st.lists(STAGES, max_size=2)):
                entry.stages[stage] = draw(VERSIONS)
            for v in draw(st.lists(VERSIONS, max_size=2)):
                if draw(st.booleans()):
                    entry.versions.pop(v, None)
                else:
                    entry.versions[v] = draw(VERSION_ENTRIES)
            if draw(st.booleans()):
                entry.description = draw(st.sampled_from([None, "a", "b\nc"]))
    return index


def canonical(text: str) -> str:
    """The index with policy order (the one order the file keeps that means nothing)
    sorted, for comparing merges made in either direction."""
    index = parse_index(text)
    index.policy = {
        s: StagePolicy(
            requires=rule.requires,
            metrics=dict(sorted(rule.metrics.items())),
            allow_empty=rule.allow_empty,
        )
        for s, rule in sorted(index.policy.items())
    }
    return dump_index(index)


PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("merge_texts", [merge_index, _merge_whole], ids=["by-blocks", "whole"])
@PROPERTY
@given(b=INDEXES, other=INDEXES)
def test_merging_with_an_unchanged_side_returns_the_other_side(
    merge_texts: Callable[[str, str, str], tuple[str, list[str]]], b: Index, other: Index
) -> None:
    base, changed = dump_index(b), dump_index(other)
    assert merge_texts(base, base, changed) == (changed, [])
    assert merge_texts(base, changed, base) == (changed, [])
    assert merge_texts(base, changed, changed) == (changed, [])


@PROPERTY
@given(data=st.data())
def test_merging_by_blocks_gives_the_whole_merge(data: st.DataObject) -> None:
    # The fast path parses only what both sides changed; it must not change the result.
    b = data.draw(INDEXES)
    texts = [dump_index(i) for i in (b, data.draw(variants(b)), data.draw(variants(b)))]
    assert merge_index(*texts) == _merge_whole(*texts)


@PROPERTY
@given(data=st.data())
def test_merge_is_symmetric_and_keeps_each_sides_changes(data: st.DataObject) -> None:
    b = data.draw(INDEXES)
    o, t = data.draw(variants(b)), data.draw(variants(b))
    base, ours, theirs = dump_index(b), dump_index(o), dump_index(t)
    text, conflicts = merge_index(base, ours, theirs)
    flipped, flipped_conflicts = merge_index(base, theirs, ours)
    assert bool(conflicts) == bool(flipped_conflicts)
    parse_index(text)  # always a valid index, conflicts or not
    if conflicts:
        return
    assert canonical(text) == canonical(flipped)
    merged = parse_index(text)
    for name in {*b.models, *o.models, *t.models}:
        # A model one side left alone is the other side's, removal included.
        if model_text(t, name) == model_text(b, name):
            assert model_text(merged, name) == model_text(o, name)
        if model_text(o, name) == model_text(b, name):
            assert model_text(merged, name) == model_text(t, name)


def model_text(index: Index, name: str) -> str | None:
    entry = index.models.get(name)
    return None if entry is None else dump_index(Index(models={name: entry}))


# -- the driver ------------------------------------------------------------------------


def write_three(tmp_path: Path, ours: Edit, theirs: Edit) -> tuple[Path, Path, Path]:
    b = base_index()
    o, t = copy.deepcopy(b), copy.deepcopy(b)
    ours(o)
    theirs(t)
    paths = tmp_path / "base", tmp_path / "ours", tmp_path / "theirs"
    for path, index in zip(paths, (b, o, t), strict=True):
        path.write_text(dump_index(index))
    return paths


def test_main_writes_the_merge_into_ours(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, ours, theirs = write_three(
        tmp_path, add_version("churn", "v1.2.0"), add_version("iris", "v1.1.0")
    )
    assert main([str(base), str(ours), str(theirs)]) == 0
    merged = parse_index(ours.read_text())
    assert "v1.2.0" in merged.models["churn"].versions
    assert "v1.1.0" in merged.models["iris"].versions
    assert capsys.readouterr().err == ""


def test_main_reports_conflicts_on_stderr_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, ours, theirs = write_three(
        tmp_path,
        set_stage("churn", "production", "v1.1.0"),
        set_stage("churn", "production", "v1.0.1"),
    )
    assert main([str(base), str(ours), str(theirs)]) == 1
    err = capsys.readouterr().err
    assert err == (
        "modelreg: merge conflict in registry.yaml: churn stage production: "
        "ours v1.1.0, theirs v1.0.1\n"
    )
    assert ours.read_text().startswith(CONFLICT_PREFIX)


def test_main_usage_and_unreadable_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["a", "b"]) == 2
    assert "usage: modelreg merge-index BASE OURS THEIRS" in capsys.readouterr().err
    assert main([str(tmp_path / "nope"), str(tmp_path / "x"), str(tmp_path / "y")]) == 1
    assert capsys.readouterr().err.startswith("modelreg: error: cannot read base")
    base, ours, theirs = write_three(tmp_path, lambda i: None, lambda i: None)
    theirs.write_bytes(b"stages: [\xff]\n")
    before = ours.read_bytes()
    assert main([str(base), str(ours), str(theirs)]) == 1
    assert "their registry.yaml is not UTF-8 text" in capsys.readouterr().err
    assert ours.read_bytes() == before  # left for a person to resolve


def test_the_typer_command(tmp_path: Path) -> None:
    app = typer.Typer(rich_markup_mode=None, add_completion=False)  # as modelreg's app
    app.command("merge-index")(merge_index_command)
    app.command("other")(lambda: None)  # with two commands Typer keeps the command name
    base, ours, theirs = write_three(
        tmp_path, add_version("churn", "v1.2.0"), add_version("iris", "v1.1.0")
    )
    runner = CliRunner()
    result = runner.invoke(app, ["merge-index", str(base), str(ours), str(theirs)])
    assert result.exit_code == 0, result.output
    assert "v1.1.0" in parse_index(ours.read_text()).models["iris"].versions
    base, ours, theirs = write_three(
        tmp_path, set_stage("churn", "dev", "v1.0.0"), set_stage("churn", "dev", "v1.1.0")
    )
    assert runner.invoke(app, ["merge-index", str(base), str(ours), str(theirs)]).exit_code == 1
    assert "merge-index [OPTIONS] {BASE} {OURS} {THEIRS}" in (
        runner.invoke(app, ["merge-index", "--help"]).output
    )


# -- installing ------------------------------------------------------------------------


def test_ensure_attributes(repo: Path) -> None:
    assert ensure_attributes(repo) is True
    assert (repo / ".gitattributes").read_text() == ATTRIBUTES_LINE + "\n"
    assert ensure_attributes(repo) is False
    (repo / ".gitattributes").write_text("*.pkl binary")  # no final newline
    assert ensure_attributes(repo) is True
    assert (repo / ".gitattributes").read_text() == f"*.pkl binary\n{ATTRIBUTES_LINE}\n"
    # Another merge choice for the index was made on purpose: left alone.
    (repo / ".gitattributes").write_text("registry.yaml -merge\n")
    assert ensure_attributes(repo) is False
    assert (repo / ".gitattributes").read_text() == "registry.yaml -merge\n"
    (repo / ".gitattributes").unlink()
    (repo / ".gitattributes").symlink_to(repo.parent / "elsewhere")
    with pytest.raises(InvalidInputError, match="symbolic link"):
        ensure_attributes(repo)
    assert not (repo.parent / "elsewhere").exists()


def test_ensure_merge_config_and_driver_configured(repo: Path, tmp_path: Path) -> None:
    gitrepo = GitRepo(repo)
    assert driver_configured(gitrepo) is False
    assert ensure_driver(gitrepo) is True  # .gitattributes written, config set
    assert git(repo, "config", "merge.modelreg.driver").strip() == DRIVER_COMMAND
    assert git(repo, "config", "merge.modelreg.name").strip()
    assert driver_configured(gitrepo) is True
    assert ensure_driver(gitrepo) is False
    # A driver someone set by hand is kept.
    git(repo, "config", "merge.modelreg.driver", "my-wrapper %O %A %B")
    ensure_merge_config(gitrepo)
    assert git(repo, "config", "merge.modelreg.driver").strip() == "my-wrapper %O %A %B"
    # One in the global config counts: nothing is added to the clone's.
    git(repo, "config", "--unset", "merge.modelreg.driver")
    git(repo, "config", "--global", "merge.modelreg.driver", "global-driver %O %A %B")
    ensure_merge_config(gitrepo)
    assert "driver" not in git(repo, "config", "--local", "--get-regexp", "merge")
    assert driver_configured(gitrepo) is True
    # An attribute that resolves elsewhere (a later line wins) is reported.
    with (repo / ".gitattributes").open("a") as f:
        f.write("*.yaml merge=union\n")
    assert driver_configured(gitrepo) is False


def test_ensure_merge_config_reads_only_the_config_file_when_set(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gitrepo = GitRepo(repo)
    ensure_merge_config(gitrepo)
    gitrepo.git_dir  # noqa: B018 - resolved once per GitRepo, as every write already does
    calls: list[tuple[str, ...]] = []
    original = GitRepo.run

    def counting(self: GitRepo, *args: str, **kw: object) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        return original(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(GitRepo, "run", counting)
    ensure_merge_config(gitrepo)
    assert calls == []


# -- real git merges -------------------------------------------------------------------

# The driver through the interpreter running the tests, so these tests do not depend on the
# `modelreg merge-index` command being registered in the CLI.
TEST_DRIVER = (
    f"{shlex.quote(sys.executable)} -c "
    + shlex.quote("import sys; from modelreg.merge import main; sys.exit(main(sys.argv[1:]))")
    + " %O %A %B"
)


def use_test_driver(root: Path) -> None:
    git(root, "config", "merge.modelreg.name", "modelreg (test)")
    git(root, "config", "merge.modelreg.driver", TEST_DRIVER)


def commit_index(root: Path, index: Index, message: str) -> None:
    (root / "registry.yaml").write_text(dump_index(index))
    git(root, "add", "registry.yaml")
    git(root, "commit", "-qm", message)


def edited(edit: Edit) -> Index:
    index = base_index()
    edit(index)
    return index


@pytest.fixture
def driven(repo: Path) -> Path:
    """``repo`` with the base index and .gitattributes committed, and the test driver."""
    assert ensure_attributes(repo)
    git(repo, "add", ".gitattributes")
    commit_index(repo, base_index(), "Base index")
    use_test_driver(repo)
    return repo


def git_merge(root: Path, ours: Index, theirs: Index) -> subprocess.CompletedProcess[str]:
    """Commit ``theirs`` on branch ``feature`` and ``ours`` on main, then merge feature."""
    git(root, "checkout", "-qb", "feature")
    commit_index(root, theirs, "Their change")
    git(root, "checkout", "-q", "main")
    commit_index(root, ours, "Our change")
    return subprocess.run(
        ["git", "merge", "--no-edit", "feature"], cwd=root, capture_output=True, text=True
    )


def add_fraud(index: Index) -> None:
    index.models["fraud"] = ModelEntry(versions={"v1.0.0": version("fraud", "v1.0.0", "f")})


# Each pair edits neighbouring lines, so git's own line merge stops on every one of them.
DIFFERENT_THINGS = [
    pytest.param(
        add_version("churn", "v1.2.0"),  # at the end of churn's block...
        add_fraud,  # ...where the new model's block goes too
        lambda m: "v1.2.0" in m.models["churn"].versions and "fraud" in m.models,
        id="different-models",
    ),
    pytest.param(
        add_version("churn", "v1.2.0", "d"),
        add_version("churn", "v2.0.0", "e"),
        lambda m: {"v1.2.0", "v2.0.0"} <= set(m.models["churn"].versions),
        id="different-versions",
    ),
    pytest.param(
        set_stage("churn", "production", "v1.1.0"),
        set_stage("churn", "dev", "v1.0.0"),
        lambda m: (
            m.models["churn"].stages
            == {"dev": "v1.0.0", "staging": "v1.1.0", "production": "v1.1.0"}
        ),
        id="different-stages",
    ),
]


@pytest.mark.parametrize(("ours", "theirs", "expect"), DIFFERENT_THINGS)
def test_git_merge_combines_changes_to_different_things(
    driven: Path, ours: Edit, theirs: Edit, expect: Callable[[Index], bool]
) -> None:
    proc = git_merge(driven, edited(ours), edited(theirs))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    merged = parse_index((driven / "registry.yaml").read_text())
    assert expect(merged)
    assert git(driven, "status", "--porcelain") == ""
    assert git(driven, "show", "HEAD:registry.yaml") == dump_index(merged)
    assert len(git(driven, "rev-list", "--parents", "-n1", "HEAD").split()) == 3  # a merge


@pytest.mark.parametrize(("ours", "theirs", "expect"), DIFFERENT_THINGS)
def test_without_the_driver_the_same_merges_conflict(
    repo: Path, ours: Edit, theirs: Edit, expect: Callable[[Index], bool]
) -> None:
    # Why the driver exists (and proof the cases above needed it).
    commit_index(repo, base_index(), "Base index")
    proc = git_merge(repo, edited(ours), edited(theirs))
    assert proc.returncode != 0
    assert "UU registry.yaml" in git(repo, "status", "--porcelain").splitlines()


def test_git_merge_stops_when_both_sides_move_the_same_stage(driven: Path) -> None:
    def ours(index: Index) -> None:
        add_version("churn", "v1.2.0")(index)
        index.models["churn"].stages["production"] = "v1.2.0"

    proc = git_merge(driven, edited(ours), edited(set_stage("churn", "production", "v1.1.0")))
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert "churn stage production: ours v1.2.0, theirs v1.1.0" in output
    assert "UU registry.yaml" in git(driven, "status", "--porcelain").splitlines()
    text = (driven / "registry.yaml").read_text()
    assert text.startswith(f"{CONFLICT_PREFIX}churn stage production: ours v1.2.0, theirs v1.1.0")
    merged = parse_index(text)  # still a valid index a person can fix in place
    assert merged.models["churn"].stages["production"] == "v1.2.0"
    assert "v1.2.0" in merged.models["churn"].versions


def test_git_pull_rebase_from_a_bare_remote(tmp_path: Path) -> None:
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    git(tmp_path, "clone", "-q", str(origin), str(alice))
    ensure_attributes(alice)
    git(alice, "add", ".gitattributes")
    commit_index(alice, base_index(), "Base index")
    git(alice, "push", "-q", "origin", "main")
    git(tmp_path, "clone", "-q", str(origin), str(bob))
    for clone in (alice, bob):
        use_test_driver(clone)  # merge drivers are never cloned: each clone sets its own
    commit_index(alice, edited(add_version("churn", "v1.2.0")), "Alice registers churn")
    git(alice, "push", "-q", "origin", "main")
    commit_index(bob, edited(set_stage("iris", "staging", "v1.0.0")), "Bob stages iris")
    proc = subprocess.run(
        ["git", "pull", "--rebase", "-q", "origin", "main"], cwd=bob, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    merged = parse_index((bob / "registry.yaml").read_text())
    assert "v1.2.0" in merged.models["churn"].versions
    assert merged.models["iris"].stages["staging"] == "v1.0.0"
    assert git(bob, "status", "--porcelain") == ""
    log = git(bob, "log", "--format=%s", "-3").splitlines()
    assert log == ["Bob stages iris", "Alice registers churn", "Base index"]  # linear


def test_promotion_pull_requests_merge(registry: Registry, repo: Path) -> None:
    """The README's flow: `promote --no-tag --branch` pull requests merged one after the
    other into main, in a registry made by modelreg itself, then applied."""
    # `modelreg init` (the registry fixture) declared the driver and committed it.
    assert ensure_driver(GitRepo(repo)) is False
    assert "/registry.yaml merge=modelreg" in git(repo, "show", "HEAD:.gitattributes")
    use_test_driver(repo)
    write_model(repo, "a")
    registry.register("churn", "models/churn.pkl")
    write_model(repo, "b", "models/iris.pkl")
    registry.register("iris", "models/iris.pkl")
    registry.propose("churn", "v1.0.0", "production", branch="promote-churn")
    registry.propose("churn", "v1.0.0", "staging", branch="stage-churn")
    registry.propose("iris", "v1.0.0", "staging", branch="stage-iris")
    for branch in ("promote-churn", "stage-churn", "stage-iris"):
        # The second edits the same line as the first: git's line merge alone would stop.
        git(repo, "merge", "-q", "--no-edit", branch)
    merged = parse_index((repo / "registry.yaml").read_text())
    assert merged.models["churn"].stages == {"staging": "v1.0.0", "production": "v1.0.0"}
    assert merged.models["iris"].stages == {"staging": "v1.0.0"}
    applied = {c.tag.rsplit("#", 1)[0] for c in registry.apply()}
    assert applied == {"churn#staging", "churn#production", "iris#staging"}

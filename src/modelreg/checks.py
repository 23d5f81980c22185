"""``modelreg check``: is ``registry.yaml`` sound, and does it agree with the tags?

Every rule yields :class:`Problem` records (file, line, model, version, rule, message); the
CLI prints one line each.  Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from modelreg import drift, policy
from modelreg.drift import PairState
from modelreg.dvcstore.hashing import MD5
from modelreg.errors import InvalidIndexError, InvalidInputError, RegistryError
from modelreg.gitrepo import GitRepo
from modelreg.grammar import TagName, format_tag, is_model_name, is_name
from modelreg.index.files import read_index_text
from modelreg.index.header import INDEX_FILE
from modelreg.index.lines import compose, node_line
from modelreg.index.parse import parse_index
from modelreg.index.schema import Index, ModelEntry, VersionEntry
from modelreg.queries import all_states, version_record, with_artifact
from modelreg.records import EventKind
from modelreg.semver import is_version
from modelreg.state import ModelState, TagEvent

if TYPE_CHECKING:
    from modelreg.dvcstore.dvcio import Object


@dataclass(frozen=True)
class Problem:
    """One thing wrong, located as precisely as the file allows."""

    rule: str
    message: str
    line: int | None = None
    model: str | None = None
    version: str | None = None
    file: str = INDEX_FILE

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        subject = " ".join(p for p in (self.model, self.version) if p)
        return f"{where}: {subject + ': ' if subject else ''}{self.rule}: {self.message}"


@dataclass
class Report:
    """The outcome of a check."""

    problems: list[Problem] = field(default_factory=list)
    models: int = 0
    versions: int = 0
    # (model, stage) pairs whose tags moved after the file last set them: a warning, so one
    # person's `gto assign` does not turn every pull request red; an error under --strict.
    drift: list[PairState] = field(default_factory=list)
    strict: bool = False
    # Notes that fail nothing (the merge driver missing in this clone, say).
    notes: list[str] = field(default_factory=list)
    # Tags whose ``#N`` counters contradict their dates: readers go by the dates, which may
    # not be the order their writers meant.
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not (self.strict and self.drift)


def check(
    repo: GitRepo, *, remote: bool = False, verify: bool = False, strict: bool = False
) -> Report:
    """Run every rule against ``repo``'s working-tree ``registry.yaml`` and its tags.

    Drifted (model, stage) pairs are listed in ``Report.drift``; they fail the check only
    when ``strict``."""
    report = Report(strict=strict)
    try:
        text = read_index_text(repo.root)
    except InvalidIndexError as e:
        # Not UTF-8, or not a regular file: reported like any other problem of the file, so
        # `check --json` still answers with {"ok": false, "problems": [...]}.
        report.problems.append(_problem("file", e))
        return report
    if text is None:
        report.problems.append(Problem("missing", "no registry.yaml: run `modelreg init`"))
        return report
    try:
        index = parse_index(text)
    except InvalidIndexError as e:
        report.problems.append(_problem("schema", e))
        return report
    report.models = len(index.models)
    report.versions = sum(len(m.versions) for m in index.models.values())
    at = _Locator(text)
    report.problems += _names(index, at)
    states = all_states(repo)
    report.problems += _tags(index, states, at)
    report.drift = [p for p in drift.differences(repo, index, states) if p.drifted]
    drifted = {(p.model, p.stage) for p in report.drift}
    report.problems += _stages(index, states, at, drifted)
    report.warnings = order_warnings(states)
    from modelreg.mergedriver import driver_configured

    if not driver_configured(repo):
        report.notes.append(
            f"{INDEX_FILE} has no merge driver in this clone, so git merges it line by line "
            "(any modelreg write sets it): `git config merge.modelreg.driver "
            "'modelreg merge-index %O %A %B'`, with `/registry.yaml merge=modelreg` in "
            ".gitattributes"
        )
    if remote:
        report.problems += _remote_objects(repo, index, states, at, verify)
    return report


def order_warnings(states: dict[str, ModelState]) -> list[str]:
    """One line per stage tag whose counter says it came later than a tag dated after it.

    GTO, DVC and modelreg all order events by date, so such a tag counts as the earlier
    event: two clones that tagged without fetching, or a clock set wrong, can do that.
    """
    warnings = []
    for name, state in states.items():
        counted = sorted(
            (e for e in state.events if e.parsed.counter is not None and e.parsed.stage),
            key=lambda e: e.parsed.counter or 0,
        )
        newest = None
        for event in counted:
            if newest is not None and event.raw.timestamp < newest.raw.timestamp:
                warnings.append(
                    f"{name}: {event.raw.name} is dated before {newest.raw.name}, so every "
                    f"reader (GTO, DVC, modelreg) counts it as the earlier event; if "
                    f"{event.parsed.stage} should follow the counters, {_redo(name, event)}"
                )
            if newest is None or event.raw.timestamp >= newest.raw.timestamp:
                newest = event
    return warnings


def _redo(name: str, event: TagEvent) -> str:
    """The command that makes ``event`` the newest of its stage again."""
    stage = event.parsed.stage
    if event.kind is EventKind.ASSIGN:
        return f"assign it again: `modelreg promote {name} {event.version} {stage}`"
    return f"unassign it again: `modelreg demote {name} {stage}`"


def _problem(rule: str, error: InvalidIndexError) -> Problem:
    """The file's error as a problem: its line, and its message after the location."""
    return Problem(rule, error.detail, error.line, file=error.source)


class _Locator:
    """Line numbers of index nodes; the file is composed once, on the first question."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._root: object = None
        self._composed = False

    def __call__(self, *loc: str) -> int | None:
        if not self._composed:
            self._root, self._composed = compose(self.text), True
        return None if self._root is None else node_line(self._root, loc)


def _names(index: Index, at: _Locator) -> list[Problem]:
    problems = []
    seen: set[str] = set()
    for stage in index.stages:
        if not is_name(stage) or stage in seen:
            why = "listed twice" if stage in seen else "is not a valid stage name"
            problems.append(Problem("stages", f"stage {stage!r} {why}", at("stages")))
        seen.add(stage)
    for stage, rule in index.policy.items():
        if stage not in index.stages:
            problems.append(
                Problem("policy", f"policy for unknown stage {stage!r}", at("policy", stage))
            )
        for needed in rule.required_stages:
            if needed not in index.stages:
                problems.append(
                    Problem(
                        "policy",
                        f"{stage!r} requires unknown stage {needed!r}",
                        at("policy", stage, "requires"),
                    )
                )
        for metric, text in rule.metrics.items():
            try:
                policy.parse_threshold(metric, text)
            except InvalidInputError as e:
                problems.append(Problem("policy", str(e), at("policy", stage, "metrics", metric)))
    for name, entry in index.models.items():
        if not is_model_name(name):
            problems.append(
                Problem("names", f"invalid model name {name!r}", at("models", name), name)
            )
        for version, item in entry.versions.items():
            line = at("models", name, "versions", version)
            if not is_version(version):
                problems.append(
                    Problem("names", f"invalid version {version!r}", line, name, version)
                )
            elif item.tag != (tag := _tag_of(name, version)):
                problems.append(
                    Problem("names", f"tag {item.tag!r} should be {tag}", line, name, version)
                )
    return problems


def _tag_of(name: str, version: str) -> str:
    """The registration tag of a version (``dir/sub=name@v1.0.0`` for ``dir/sub:name``)."""
    return format_tag(TagName(name, EventKind.REGISTER, version=version))


def _tags(index: Index, states: dict[str, ModelState], at: _Locator) -> list[Problem]:
    problems = []
    for name, entry in index.models.items():
        state = states.get(name)
        for version, item in entry.versions.items():
            vs = state.versions.get(version) if state else None
            if (vs is None or not vs.registered) and not _proposed(entry, item):
                problems.append(
                    Problem(
                        "tags",
                        f"no tag {_tag_of(name, version)}: the index lists a version that "
                        "was never registered",
                        at("models", name, "versions", version),
                        name,
                        version,
                    )
                )
    for name, state in states.items():
        listed = index.models[name].versions if name in index.models else {}
        for version, vs in state.versions.items():
            if vs.registered and version not in listed:
                problems.append(
                    Problem(
                        "tags",
                        f"tag {_tag_of(name, version)} is missing from the index: run "
                        "`modelreg index rebuild`",
                        at("models", name),
                        name,
                        version,
                    )
                )
    return problems


def _stages(
    index: Index,
    states: dict[str, ModelState],
    at: _Locator,
    drifted: set[tuple[str, str]],
) -> list[Problem]:
    problems = []
    for name, entry in index.models.items():
        state = states.get(name)
        realized = state.holders() if state else {}
        for stage, version in entry.stages.items():
            line = at("models", name, "stages", stage)
            if stage not in index.stages:
                problems.append(
                    Problem(
                        "stages",
                        f"unknown stage {stage!r}: allowed are {', '.join(index.stages)}",
                        line,
                        name,
                        version,
                    )
                )
                continue
            item = entry.versions.get(version)
            vs = state.versions.get(version) if state else None
            proposed = item is not None and (vs is None or not vs.registered)
            if proposed and item is not None and _proposed(entry, item):
                # Proposed with `register --no-tag`: apply tags it, then the stage.
                vs = None
            elif item is None or vs is None or not vs.registered:
                problems.append(
                    Problem(
                        "stages",
                        f"{stage!r} names version {version!r}, which does not exist",
                        line,
                        name,
                        version,
                    )
                )
                continue
            if item.deregistered or (vs is not None and not vs.active):
                problems.append(
                    Problem(
                        "stages",
                        f"{stage!r} names deregistered version {version}",
                        line,
                        name,
                        version,
                    )
                )
                continue
            if realized.get(stage) == version or state is None or (name, stage) in drifted:
                continue
            rule = index.policy.get(stage)
            if rule is None:
                continue
            held = state.held_stages(version) if vs is not None else set()
            for violation in policy.evaluate(
                stage,
                version,
                requires=rule.required_stages,
                thresholds=_valid(rule.metrics),
                metrics=item.metrics,
                held_stages=held,
            ):
                problems.append(
                    Problem(f"policy.{violation.rule}", violation.message, line, name, version)
                )
        for stage, rule in index.policy.items():
            # allow_empty forbids *emptying* a stage (the file drops a holder the tags have);
            # a stage never held, or a deprecated model, is not a violation.
            emptied = stage not in entry.stages and realized.get(stage) is not None
            deprecated = entry.deprecated or (state is not None and state.deprecated)
            if not rule.allow_empty and emptied and not deprecated and (name, stage) not in drifted:
                problems.append(
                    Problem(
                        "policy.allow_empty",
                        f"stage {stage!r} may not be left empty: it holds {realized[stage]}",
                        at("models", name, "stages"),
                        name,
                    )
                )
    return problems


def _proposed(entry: ModelEntry, item: VersionEntry) -> bool:
    """An index version without a tag that ``apply`` can register: it records its bytes."""
    return bool(item.md5 and entry.path and not item.deregistered)


def _valid(thresholds: dict[str, str]) -> dict[str, str]:
    """Thresholds that parse (the others are reported once, by the names rule)."""
    valid = {}
    for metric, text in thresholds.items():
        try:
            policy.parse_threshold(metric, text)
        except InvalidInputError:
            continue
        valid[metric] = text
    return valid


def _remote_objects(
    repo: GitRepo, index: Index, states: dict[str, ModelState], at: _Locator, verify: bool
) -> list[Problem]:
    from modelreg.dvcstore import dvcio

    wanted: dict[tuple[str, str], dvcio.Object] = {}
    problems: list[Problem] = []
    for name, entry in index.models.items():
        for version, item in entry.versions.items():
            if item.deregistered:
                continue
            if item.md5:
                wanted[name, version] = (item.md5, MD5)
                continue
            # Registered by another tool (GTO): the bytes are the tagged commit's pointer's,
            # which may be DVC 2's (md5-dos2unix, kept in the remote's legacy layout).
            try:
                found = _tagged_object(repo, states.get(name), version)
            except RegistryError as e:
                where = at("models", name, "versions", version)
                problems.append(Problem("remote", str(e), where, name, version))
                continue
            if found is not None:
                wanted[name, version] = found
    bad = dvcio.missing_objects(repo.root / ".dvc", sorted(set(wanted.values())), verify=verify)
    return problems + [
        Problem(
            "remote",
            f"artifact {obj[0]} {bad[obj]}: "
            + (
                "run `modelreg push`"
                if "missing" in bad[obj]
                else "delete it there and run `modelreg push` from a clone whose cache is intact"
            ),
            at("models", name, "versions", version),
            name,
            version,
        )
        for (name, version), obj in sorted(wanted.items())
        if obj in bad
    ]


def _tagged_object(repo: GitRepo, state: ModelState | None, version: str) -> Object | None:
    """The object (md5, hash name) the pointer at ``version``'s tagged commit names, if any."""
    if state is None or version not in state.versions or not state.versions[version].registered:
        return None
    mv = with_artifact(repo, version_record(state, version))
    return None if mv.md5 is None else (mv.md5, mv.hash_name)

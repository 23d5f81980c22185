"""Every rule of `modelreg check` (src/modelreg/checks.py), each triggered on its own: the
exact rule, line, model, version and message of every problem it reports.

One registry is built per module (two versions of `churn` under a production policy, v1.0.0
in staging and production, a folder DVC remote with nothing pushed); each case checks a copy
of it after one change.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.helpers import git, isolated, modelreg, write_model

from modelreg import Registry

POLICY = """policy:
  production:
    requires: staging
    metrics: {accuracy: ">=0.9", latency_ms: "<50"}
    allow_empty: false
"""

Expected = tuple[str, str, str | None, str | None, str | None]
"""(rule, message, anchor: a fragment of the line the problem points at, model, version)."""


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("check-rules")
    with isolated(base / "home"):
        repo = base / "repo"
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
        git(repo, "commit", "-q", "--allow-empty", "-m", "Start")
        reg = Registry(repo)
        reg.init(dvc_remote=str(base / "store"))
        index = repo / "registry.yaml"
        index.write_text(index.read_text().replace("models:", POLICY + "models:", 1))
        git(repo, "commit", "-qam", "Add stage policies")
        write_model(repo, "a")
        reg.register("churn", "models/churn.pkl", metrics={"accuracy": 0.95, "latency_ms": 20})
        write_model(repo, "b")
        reg.register("churn", "models/churn.pkl", metrics={"accuracy": 0.8})
        reg.promote("churn", "v1.0.0", "staging")
        reg.promote("churn", "v1.0.0", "production")
        assert reg.check().ok
    yield repo


@pytest.fixture
def repo(template: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(template, copy, symlinks=True)
    return copy


def edit(old: str, new: str) -> Callable[[Path], None]:
    def change(repo: Path) -> None:
        path = repo / "registry.yaml"
        text = path.read_text()
        assert text.count(old) == 1, old
        path.write_text(text.replace(old, new))

    return change


def tag(name: str) -> Callable[[Path], None]:
    def change(repo: Path) -> None:
        git(repo, "tag", "-a", "-m", "by hand", name)

    return change


def both(first: Callable[[Path], None], then: Callable[[Path], None]) -> Callable[[Path], None]:
    def change(repo: Path) -> None:
        first(repo)
        then(repo)

    return change


def line_of(repo: Path, fragment: str | None) -> int | None:
    if fragment is None:
        return None
    lines = (repo / "registry.yaml").read_text().splitlines()
    found = [i for i, line in enumerate(lines, 1) if fragment in line]
    assert len(found) == 1, (fragment, found)
    return found[0]


V100 = "      v1.0.0:\n"
PRODUCTION_HELD = "stages: {staging: v1.0.0, production: v1.0.0}"
CASES: dict[str, tuple[Callable[[Path], None], list[Expected]]] = {
    "stage name invalid": (
        edit("stages: [dev, staging, production]", "stages: [dev, staging, production, b.d]"),
        [("stages", "stage 'b.d' is not a valid stage name", "stages: [", None, None)],
    ),
    "stage listed twice": (
        edit("stages: [dev, staging, production]", "stages: [dev, staging, production, dev]"),
        [("stages", "stage 'dev' listed twice", "stages: [", None, None)],
    ),
    "policy for an unknown stage": (
        edit("policy:\n", "policy:\n  canary:\n    requires: staging\n"),
        [("policy", "policy for unknown stage 'canary'", "  canary:", None, None)],
    ),
    "policy requires an unknown stage": (
        edit("requires: staging", "requires: qa"),
        [("policy", "'production' requires unknown stage 'qa'", "requires: qa", None, None)],
    ),
    "policy threshold invalid": (
        edit('accuracy: ">=0.9"', 'accuracy: "about 0.9"'),
        [
            (
                "policy",
                "invalid threshold accuracy: 'about 0.9': use an operator and a number, "
                'e.g. ">=0.9"',
                'accuracy: "about',
                None,
                None,
            )
        ],
    ),
    "model name invalid": (
        edit("  churn:\n", "  churn-:\n"),
        [
            ("names", "invalid model name 'churn-'", "  churn-:", "churn-", None),
            *(
                (
                    "names",
                    f"tag 'churn@{v}' should be churn-@{v}",
                    f"      {v}:",
                    "churn-",
                    v,
                )
                for v in ("v1.0.0", "v1.1.0")
            ),
            *(
                (
                    "tags",
                    f"tag churn@{v} is missing from the index: run `modelreg index rebuild`",
                    "models:",  # churn is not in the file: the nearest node it has
                    "churn",
                    v,
                )
                for v in ("v1.0.0", "v1.1.0")
            ),
        ],
    ),
    "version invalid": (
        edit(V100, "      v1.x:\n        tag: churn@v1.x\n        md5: " + "a" * 32 + "\n" + V100),
        [("names", "invalid version 'v1.x'", "      v1.x:", "churn", "v1.x")],
    ),
    "version's tag misnamed": (
        edit("tag: churn@v1.1.0", "tag: churn@v9.9.9"),
        [
            (
                "names",
                "tag 'churn@v9.9.9' should be churn@v1.1.0",
                "      v1.1.0:",
                "churn",
                "v1.1.0",
            )
        ],
    ),
    "version never registered": (
        edit(V100, "      v0.9.0:\n        tag: churn@v0.9.0\n" + V100),
        [
            (
                "tags",
                "no tag churn@v0.9.0: the index lists a version that was never registered",
                "      v0.9.0:",
                "churn",
                "v0.9.0",
            )
        ],
    ),
    "tag missing from the index": (
        tag("churn@v5.0.0"),
        [
            (
                "tags",
                "tag churn@v5.0.0 is missing from the index: run `modelreg index rebuild`",
                "  churn:",
                "churn",
                "v5.0.0",
            )
        ],
    ),
    "unknown stage": (
        edit(PRODUCTION_HELD, PRODUCTION_HELD[:-1] + ", prodution: v1.0.0}"),
        [
            (
                "stages",
                "unknown stage 'prodution': allowed are dev, staging, production",
                "prodution",
                "churn",
                "v1.0.0",
            )
        ],
    ),
    "stage names a missing version": (
        edit(PRODUCTION_HELD, PRODUCTION_HELD[:-1] + ", dev: v3.0.0}"),
        [
            (
                "stages",
                "'dev' names version 'v3.0.0', which does not exist",
                "dev: v3.0.0",
                "churn",
                "v3.0.0",
            )
        ],
    ),
    "stage names a deregistered version": (
        both(tag("churn@v1.1.0!"), edit(PRODUCTION_HELD, PRODUCTION_HELD[:-1] + ", dev: v1.1.0}")),
        [
            (
                "stages",
                "'dev' names deregistered version v1.1.0",
                "dev: v1.1.0",
                "churn",
                "v1.1.0",
            )
        ],
    ),
    "policy violated": (
        edit(PRODUCTION_HELD, "stages: {staging: v1.0.0, production: v1.1.0}"),
        [
            (
                "policy.requires",
                "v1.1.0 must hold 'staging' before 'production'",
                "production: v1.1.0",
                "churn",
                "v1.1.0",
            ),
            (
                "policy.metrics",
                "v1.1.0 has accuracy=0.8, needs accuracy >= 0.9",
                "production: v1.1.0",
                "churn",
                "v1.1.0",
            ),
            (
                "policy.metrics",
                "v1.1.0 has no metric 'latency_ms' (needs latency_ms < 50)",
                "production: v1.1.0",
                "churn",
                "v1.1.0",
            ),
        ],
    ),
    "stage emptied against allow_empty": (
        edit(PRODUCTION_HELD, "stages: {staging: v1.0.0}"),
        [
            (
                "policy.allow_empty",
                "stage 'production' may not be left empty: it holds v1.0.0",
                "stages: {staging: v1.0.0}",
                "churn",
                None,
            )
        ],
    ),
    "schema": (
        edit(
            "size: 1\n        metrics: {accuracy: 0.8}",
            "size: big\n        metrics: {accuracy: 0.8}",
        ),
        [
            (
                "schema",
                "models.churn.versions.v1.1.0.size: expected an integer, got 'big': fix the file",
                "size: big",
                None,
                None,
            )
        ],
    ),
    "missing": (
        lambda repo: (repo / "registry.yaml").unlink(),
        [("missing", "no registry.yaml: run `modelreg init`", None, None, None)],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_rule_reports_exactly_what_and_where(repo: Path, case: str) -> None:
    change, expected = CASES[case]
    change(repo)
    report = Registry(repo).check()
    got = [(p.rule, p.message, p.line, p.model, p.version) for p in report.problems]
    want = [(r, m, line_of(repo, a), model, v) for r, m, a, model, v in expected]
    assert got == want
    assert not report.ok


def test_a_file_that_is_not_utf8_points_at_its_line(repo: Path) -> None:
    (repo / "registry.yaml").write_bytes(b"stages: [dev]\n\xff\n")
    (problem,) = Registry(repo).check().problems
    assert (problem.line, str(problem)) == (
        2,
        "registry.yaml:2: file: not UTF-8 text (byte 0xff): fix the file or restore it from Git",
    )


def test_a_registry_yaml_that_is_not_a_file(repo: Path) -> None:
    (repo / "registry.yaml").unlink()
    (repo / "registry.yaml").mkdir()
    (problem,) = Registry(repo).check().problems
    assert (problem.rule, problem.line) == ("file", None)
    assert str(problem) == (
        "registry.yaml: file: not a regular file: replace it with the index's YAML text"
    )


def _store(repo: Path) -> Path:
    config = (repo / ".dvc" / "config").read_text()
    url = config.split("url = ")[1].split()[0]
    return Path(url)


def _use_own_store(repo: Path, tmp_path: Path) -> Path:
    """Point the copy's DVC remote at a folder of its own (the template's is shared)."""
    store = tmp_path / "store"
    config = repo / ".dvc" / "config"
    config.write_text(config.read_text().replace(str(_store(repo)), str(store)))
    return store


def test_remote_rule_names_missing_and_corrupted_objects(repo: Path, tmp_path: Path) -> None:
    store = _use_own_store(repo, tmp_path)
    md5s = {v: Registry(repo).resolve(f"churn@{v}").md5 for v in ("v1.0.0", "v1.1.0")}
    report = Registry(repo).check(verify_remote=True)
    got = [(p.rule, p.message, p.line, p.model, p.version) for p in report.problems]
    assert got == [
        (
            "remote",
            f"artifact {md5s[v]} is missing from the DVC remote: run `modelreg push`",
            line_of(repo, f"      {v}:"),
            "churn",
            v,
        )
        for v in ("v1.0.0", "v1.1.0")
    ]
    # v1.0.0's object present and intact, v1.1.0's present with other bytes.
    for version, content in (("v1.0.0", b"a"), ("v1.1.0", b"tampered")):
        md5 = md5s[version]
        assert md5 is not None
        obj = store / "files" / "md5" / md5[:2] / md5[2:]
        obj.parent.mkdir(parents=True, exist_ok=True)
        obj.write_bytes(content)
    assert hashlib.md5(b"a").hexdigest() == md5s["v1.0.0"]
    assert Registry(repo).check(verify_remote=True).ok  # presence only
    report = Registry(repo).check(verify_remote=True, verify=True)
    (problem,) = report.problems
    assert (problem.rule, problem.line, problem.model, problem.version) == (
        "remote",
        line_of(repo, "      v1.1.0:"),
        "churn",
        "v1.1.0",
    )
    assert problem.message.startswith(f"artifact {md5s['v1.1.0']} ")
    assert problem.message.endswith(
        ": delete it there and run `modelreg push` from a clone whose cache is intact"
    )


def test_the_command_prints_one_line_per_problem_and_fails(repo: Path) -> None:
    CASES["policy violated"][0](repo)
    proc = modelreg(repo, "check")
    assert proc.returncode == 1
    line = line_of(repo, "production: v1.1.0")
    assert proc.stdout.splitlines() == [
        f"registry.yaml:{line}: churn v1.1.0: policy.requires: v1.1.0 must hold 'staging' "
        "before 'production'",
        f"registry.yaml:{line}: churn v1.1.0: policy.metrics: v1.1.0 has accuracy=0.8, needs "
        "accuracy >= 0.9",
        f"registry.yaml:{line}: churn v1.1.0: policy.metrics: v1.1.0 has no metric "
        "'latency_ms' (needs latency_ms < 50)",
    ]
    as_json = json.loads(modelreg(repo, "check", "--json").stdout)
    assert as_json["ok"] is False
    assert [(p["rule"], p["line"]) for p in as_json["problems"]] == [
        ("policy.requires", line),
        ("policy.metrics", line),
        ("policy.metrics", line),
    ]

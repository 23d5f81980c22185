"""A small registry with a history worth drawing, for the site's tests and screenshots.

Three models over a few days (a fake clock moves minutes to hours per reading, so nothing
sleeps):
``churn`` with ten versions, promotions through staging to production, a rollback, a
demotion that hands staging back, and a description, labels and notes holding markup and
addresses that must reach the pages as text; a monorepo model ``nlp/intent:classifier``; and
``team/fraud``, whose name has a ``/``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from tests.helpers import git, write_model

from modelreg import Registry, clock

START = 1_790_000_000  # 2026-09-21, before any machine running the tests
HOSTILE = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
EMAIL = "ada@example.com"


class SteppingClock:
    """Moves ``step`` seconds per reading, so each write happens hours after the last."""

    def __init__(self, start: float, rng: random.Random) -> None:
        self.t = start
        self.rng = rng

    def now(self) -> float:
        self.t += self.rng.randint(2, 30) * 600
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


@contextmanager
def stepping_clock(seed: int = 7) -> Iterator[None]:
    previous = clock.use(SteppingClock(START, random.Random(seed)))
    try:
        yield
    finally:
        clock.use(previous)


def build_story(repo: Path) -> Registry:
    """Fill ``repo`` (an empty Git repository) with the story; returns its registry."""
    rng = random.Random(3)
    with stepping_clock():
        reg = Registry(repo)
        reg.init()
        accuracy = 0.81
        for i in range(10):
            accuracy = round(accuracy + rng.uniform(-0.015, 0.03), 4)
            write_model(repo, f"churn bytes {i}")
            v = reg.register(
                "churn",
                "models/churn.pkl",
                metrics={"accuracy": accuracy, "latency_ms": round(rng.uniform(8, 20), 2)},
                params={"C": round(rng.uniform(0.1, 2), 2), "max_iter": 100 + 20 * i},
                description=f"Customer churn classifier {HOSTILE}",
                labels=["tabular", "<b>bold</b>"],
                message=f"weekly retrain {i} by {EMAIL} {HOSTILE}",
            )
            if i in (1, 3, 5, 7, 8):
                reg.promote("churn", v.version, "staging")
            if i in (1, 3, 7):
                reg.promote("churn", v.version, "production", message="A/B test won")
            if i == 4:
                reg.rollback("churn", "production", message="latency regression in v1.3.0")
            if i == 9:
                reg.promote("churn", v.version, "dev")
        reg.demote("churn", "staging", message="v1.8.0 failed the shadow run")
        for i in range(3):
            write_model(repo, f"intent {i}", "nlp/intent/models/classifier.pkl")
            reg.register(
                "nlp/intent:classifier",
                "nlp/intent/models/classifier.pkl",
                metrics={"f1": round(0.7 + 0.04 * i, 3)},
            )
        reg.promote("nlp/intent:classifier", "v1.1.0", "production")
        write_model(repo, "fraud 0", "models/team/fraud.pkl")
        reg.register("team/fraud", "models/team/fraud.pkl", metrics={"auc": 0.91})
    return reg


def story_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new repository holding the story (call inside an isolated environment)."""
    repo = tmp_path_factory.mktemp("story") / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "commit", "-q", "--allow-empty", "-m", "Start")
    build_story(repo)
    return repo

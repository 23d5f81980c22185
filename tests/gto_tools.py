"""Driving the real GTO and comparing its answers with modelreg's (the GTO tests share these).

GTO orders events by tagger date alone (one-second resolution), and gto's tag creation
(dulwich) stamps the wall clock: it ignores ``GIT_COMMITTER_DATE``.  So that events made with
gto have distinct, increasing dates without sleeping, :class:`GtoClock` re-creates each tag a
gto command made, right after it, with the same name, target, tagger and message and the next
date of a fake clock.  Commits made through it run on the same clock: GTO counts the date of a
version's commit among the model's events (a commit newer than ``NAME@deprecated`` would
revive the model).

A gto process costs about a second, nearly all of it imports.  So gto commands run in one
long-lived :class:`GtoSession` per test, which calls gto's own command line (``gto.cli.app``,
what the ``gto`` script runs; see ``GTO_SESSION``).

(Not ``tests/gto.py``: pytest puts ``tests/`` on ``sys.path``, where that name would hide the
``gto`` package from the tests that import it.)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from tests.helpers import VENV_BIN, Command, git, run, write_model

from modelreg import Registry

GTO = str(VENV_BIN / "gto")
DVC = str(VENV_BIN / "dvc")

# modelreg's event kinds and GTO's names for the same events.
GTO_EVENT = {
    "register": "registration",
    "deregister": "deregistration",
    "assign": "assignment",
    "unassign": "unassignment",
    "deprecate": "deprecation",
}

# Runs gto commands through gto's own command line (``gto.cli.app``, what the ``gto`` script
# runs), one per input line ``[folder, argv]``, answering each with one line
# ``[exit code, stdout, stderr]``: a session pays gto's import (~0.9 s) once.  Every command
# builds its view of the repository afresh, as a new gto process would.
GTO_SESSION = r"""
import contextlib, io, json, os, sys
from gto.cli import app
reply = sys.stdout
for line in sys.stdin:
    cwd, argv = json.loads(line)
    os.chdir(cwd)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = app.main(args=argv, prog_name="gto", standalone_mode=False) or 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except Exception as e:
            code = 1
            err.write(f"{type(e).__name__}: {e}")
    reply.write(json.dumps([code, out.getvalue(), err.getvalue()]) + "\n")
    reply.flush()
"""


class GtoSession:
    """One gto process that runs command lines on request (see ``GTO_SESSION``)."""

    def __init__(self, log: Path) -> None:
        self.log = log.open("w")  # a file, not a pipe: gto's logging can never block it
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "python"), "-c", GTO_SESSION],
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
        )

    def send(self, commands: Sequence[Command]) -> None:
        assert self.proc.stdin is not None
        for cwd, argv in commands:
            self.proc.stdin.write(json.dumps([str(cwd), list(argv)]) + "\n")
        self.proc.stdin.flush()

    def receive(self, count: int) -> list[subprocess.CompletedProcess[str]]:
        assert self.proc.stdout is not None
        results = []
        for _ in range(count):
            line = self.proc.stdout.readline()
            assert line, f"the gto session died: {self.close()}"
            code, out, err = json.loads(line)
            results.append(subprocess.CompletedProcess(["gto"], code, out, err))
        return results

    def __call__(self, cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
        self.send([(cwd, list(argv))])
        return self.receive(1)[0]

    def close(self) -> str:
        """End the session; return what it wrote to stderr."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        if self.proc.stdout is not None:
            self.proc.stdout.read()  # replies nobody asked for (a test that failed early)
        self.proc.wait(timeout=120)
        self.log.close()
        return Path(self.log.name).read_text()


def assert_same_history(
    reg: Registry, name: str, gto_events: list[dict[str, object]], where: str
) -> None:
    """modelreg's and GTO's event logs of ``name`` are the same sequence (newest first)."""
    ours = [(GTO_EVENT[e.kind.value], e.version, e.stage, e.tag) for e in reg.history(name)]
    theirs = [(e["event"], e["version"], e["stage"], e["ref"]) for e in gto_events]
    assert {e["artifact"] for e in gto_events} <= {name}
    assert ours == theirs, f"{where}: history of {name}"


class GtoClock:
    """Runs gto write commands and gives the tags they make (and the commits those name)
    distinct, increasing dates."""

    def __init__(self, repo: Path, session: GtoSession, start: int = 1_700_000_000) -> None:
        self.repo = repo
        self.session = session
        self.now = start

    def tick(self) -> str:
        self.now += 10
        return f"@{self.now} +0000"

    def commit(self, content: str, rel: str = "models/churn.pkl") -> str:
        write_model(self.repo, content, rel)
        date = self.tick()
        env = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
        git(self.repo, "add", rel)
        git(self.repo, "commit", "-q", "-m", f"Update {rel}", env=env)
        return git(self.repo, "rev-parse", "HEAD").strip()

    def gto(self, *args: str, executable: bool = False) -> list[str]:
        """Run a gto command (in the session, or the ``gto`` executable); re-date the tags it
        made; return their names in the order it made them."""
        before = set(_tags(self.repo))
        proc = run(self.repo, GTO, *args) if executable else self.session(self.repo, *args)
        assert proc.returncode == 0, f"gto {' '.join(args)}:\n{proc.stdout}{proc.stderr}"
        made = sorted(set(_tags(self.repo)) - before, key=_creation_order)
        for tag in made:
            self._redate(tag, self.tick())
        return made

    def _redate(self, tag: str, date: str) -> None:
        """Re-create ``tag`` (same target, message and tagger) with tagger date ``date``."""
        raw = git(self.repo, "cat-file", "tag", tag)
        header, _, message = raw.partition("\n\n")
        target = re.search(r"^object (\S+)$", header, re.M)
        tagger = re.search(r"^tagger (.*) <(.*)> \d+ [-+]\d{4}$", header, re.M)
        assert target and tagger, raw
        env = dict(
            os.environ,
            GIT_COMMITTER_NAME=tagger[1],
            GIT_COMMITTER_EMAIL=tagger[2],
            GIT_COMMITTER_DATE=date,
        )
        subprocess.run(
            ["git", "tag", "-f", "-a", "--cleanup=verbatim", "-F", "-", tag, target[1]],
            cwd=self.repo,
            input=message,
            text=True,
            env=env,
            check=True,
            capture_output=True,
        )


def _tags(repo: Path) -> list[str]:
    return git(repo, "tag", "--list").split()


def _creation_order(tag: str) -> int:
    """gto assign may register a version first: that tag was made first."""
    return 0 if "@v" in tag and not tag.endswith("!") else 1

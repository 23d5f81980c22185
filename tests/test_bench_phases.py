"""bench/phases.py, the in-process timer of one command's phases (see bench/README.md)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.helpers import write_model

from modelreg import Registry

PHASES = Path(__file__).resolve().parents[1] / "bench" / "phases.py"
LINE = re.compile(r"import (\d+) ms, parse (\d+) ms, command (\d+) ms, total (\d+) ms")


def test_phases_times_a_command_and_leaves_its_output_alone(registry: Registry, repo: Path) -> None:
    write_model(repo, "a")
    version = registry.register("churn", "models/churn.pkl").version
    proc = subprocess.run(
        [sys.executable, str(PHASES), "promote", "churn", version, "production"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"churn {version} -> production (churn#production#1)\n"
    found = LINE.fullmatch(proc.stderr.strip().splitlines()[-1])
    assert found is not None, proc.stderr
    imported, parsed, command, total = map(int, found.groups())
    assert command > 0  # the Registry method was timed
    assert abs(imported + parsed + command - total) <= 3  # rounding of each phase
    assert registry.which("churn", "production").version == version

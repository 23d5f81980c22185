"""The console entry point holds Python's cyclic collector off while a command starts, and
freezes the startup's objects (modelreg.cli.collector)."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelreg.cli import collector
from modelreg.cli.app import app

# A command added to the real CLI, in a process of its own: its argument's callback runs
# during Typer's parse, its body as the command.
PROBE_CLI = """
import gc
import sys
from typing import Annotated

import typer

from modelreg.cli import app


def parsed(value: str) -> str:
    print("parse", gc.isenabled(), gc.get_freeze_count() > 0)
    return value


@app.command("probe")
def probe(value: Annotated[str, typer.Argument(callback=parsed)]) -> None:
    print("command", gc.isenabled(), gc.get_freeze_count() > 0)


sys.argv = ["modelreg", "probe", "x"]
app.main()
"""


@pytest.fixture
def collector_state() -> Iterator[None]:
    """Put this process's collector back as it was."""
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    (gc.enable if enabled else gc.disable)()


def test_the_collector_is_held_while_a_command_starts_then_runs(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE_CLI], cwd=tmp_path, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["parse False False", "command True True"]


def test_release_freezes_the_startup_once(collector_state: None) -> None:
    gc.enable()
    collector.hold()
    assert not gc.isenabled()
    collector.release()
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    assert frozen > 0
    gc.unfreeze()
    collector.release()  # a second command in the same process: nothing more to do
    assert gc.get_freeze_count() == 0


def test_release_without_hold_changes_nothing(collector_state: None) -> None:
    gc.disable()
    collector.release()
    assert not gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_the_cli_run_in_process_leaves_the_collector_alone(
    collector_state: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    gc.enable()
    result = CliRunner().invoke(app, ["list"])
    assert result.exit_code == 1  # not a registry: the command ran
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0

"""Read queries must not pay for DVC, GTO or the git libraries (SPEC §7)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tests.helpers import write_model

from modelreg import Registry

# Not pydantic: Typer (0.29 on) imports it to coerce every command's parameters.
HEAVY = (
    "dvc",
    "gto",
    "scmrepo",
    "pygit2",
    "dulwich",
    "git",
    "ruamel",
    "rich",
    "boto3",
    "s3fs",
)


@pytest.mark.parametrize(
    "args",
    [
        ["which", "churn", "production"],
        ["latest", "churn"],
        ["show", "churn"],
        ["history", "churn"],
        ["list"],
        ["which", "churn", "production", "--at", "2100-01-01"],
        ["list", "--at", "2100-01-01"],
        ["history", "--since", "2000-01-01", "--until", "2100-01-01"],
        ["search", "stage=production"],
    ],
)
def test_read_queries_import_no_heavy_module(
    registry: Registry, repo: Path, args: list[str]
) -> None:
    write_model(repo, "a")
    registry.register("churn", "models/churn.pkl")
    registry.promote("churn", "v1.0.0", "production")
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "modelreg", *args],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    imported = {
        line.rsplit("|", 1)[-1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "modelreg.queries" in imported  # the probe sees our own modules
    heavy = sorted(m for m in imported if m.split(".")[0] in HEAVY)
    assert heavy == []


def test_the_read_path_names_the_write_record_as_the_transaction_does() -> None:
    """registry.py checks for a pending repair by path, to keep the write machinery off
    the read path; the two must agree."""
    import inspect

    from modelreg import registry, transaction

    assert f'"{transaction.JOURNAL_DIR}"' in inspect.getsource(registry.Registry._reader)

"""Read queries must not pay for DVC, GTO or the git libraries (SPEC §7)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import imported_by, write_model

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
    imported = imported_by(repo, *args)
    assert "modelreg.queries" in imported  # the probe sees our own modules
    heavy = sorted(m for m in imported if m.split(".")[0] in HEAVY)
    assert heavy == []


def test_the_read_path_names_the_write_record_as_the_transaction_does() -> None:
    """registry.py checks for a pending repair by path, to keep the write machinery off
    the read path; the two must agree."""
    import inspect

    from modelreg import registry, transaction

    assert f'"{transaction.JOURNAL_DIR}"' in inspect.getsource(registry.Registry._reader)


def test_which_creates_no_record_it_does_not_return(registry: Registry, repo: Path) -> None:
    """Each kind of record is a module of its own, imported when its name is first used."""
    write_model(repo, "a")
    registry.register("churn", "models/churn.pkl")
    registry.promote("churn", "v1.0.0", "production")
    imported = imported_by(repo, "which", "churn", "production")
    assert "modelreg.queries" in imported  # the probe sees our own modules
    records = sorted(name for name in imported if name.startswith("modelreg.records."))
    # Replaying tags makes events and reads registration records; nothing else is built.
    assert set(records) <= {"modelreg.records.artifact", "modelreg.records.event"}


def test_every_record_is_importable_by_its_old_name() -> None:
    import importlib

    import modelreg.records as records

    # The lazily imported names are all exported, and each home exists.
    assert set(records._HOMES) <= set(records.__all__)
    for name in records.__all__:
        value = getattr(records, name)
        assert value is not None
        if isinstance(value, type) and name[0].isupper() and name not in ("EventKind",):
            module = importlib.import_module(value.__module__)
            assert getattr(module, name) is value
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        records.Nope  # noqa: B018

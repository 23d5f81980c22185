"""The JSON Schema of ``registry.yaml``, so editors validate the file as people type.

modelreg ships it (``registry.schema.json`` beside this module, generated from
:mod:`modelreg.index.schema`), and ``init`` commits a copy at :data:`SCHEMA_FILE` with
:data:`MODELINE` as the index's first line.  The copy sits in the repository, so the link
works offline, in every clone and on every branch; any write that commits the index
refreshes it when the installed modelreg ships a different schema.

Regenerate the shipped file after changing the models::

    python -m modelreg.index.schemafile
"""

from __future__ import annotations

import json
from pathlib import Path

from modelreg.index.header import INDEX_FILE

SCHEMA_FILE = ".modelreg/registry.schema.json"
"""The committed copy, relative to the repository root (where ``registry.yaml`` is)."""
MODELINE = f"# yaml-language-server: $schema=./{SCHEMA_FILE}\n"
"""The comment YAML editors (VS Code's YAML extension, any yaml-language-server client)
read the schema's location from; a relative path is resolved from ``registry.yaml``."""
SHIPPED = Path(__file__).with_name("registry.schema.json")
REGENERATE = "python -m modelreg.index.schemafile"


def with_modeline(preamble: str) -> str:
    """The comment lines at the top of an index, with :data:`MODELINE` first."""
    return preamble if MODELINE in preamble else MODELINE + preamble


def generate() -> str:
    """The schema's text, from the pydantic models (stable: the same models, the same
    bytes)."""
    from modelreg.index.schema import Index

    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": f"Generated from modelreg's models by `{REGENERATE}`: do not edit.",
        **Index.model_json_schema(),
    }
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def shipped() -> bytes:
    """The schema this modelreg ships."""
    return SHIPPED.read_bytes()


def names_schema(root: Path) -> bool:
    """Whether ``root``'s ``registry.yaml`` starts with :data:`MODELINE` (among its first
    comment lines); only the top of the file is read."""
    try:
        with open(root / INDEX_FILE, "rb") as f:
            top = f.read(4096).decode("utf-8", "replace")
    except OSError:
        return False
    for line in top.splitlines(keepends=True):
        if line.rstrip() == MODELINE.rstrip():
            return True
        if not line.startswith("#") and line.strip():
            return False
    return False


def stale(root: Path) -> bool:
    """Whether the committed copy is missing or differs from :func:`shipped` while the index
    names it."""
    if not names_schema(root):
        return False
    try:
        return (root / SCHEMA_FILE).read_bytes() != shipped()
    except OSError:
        return True


def write(root: Path) -> None:
    """Write :func:`shipped` to ``root``'s :data:`SCHEMA_FILE` (its folder must exist)."""
    from modelreg.index.files import write_atomic

    write_atomic(root / SCHEMA_FILE, shipped())


if __name__ == "__main__":
    # Development only: tests/test_index_schema.py fails until the shipped file matches.
    SHIPPED.write_text(generate(), encoding="utf-8")

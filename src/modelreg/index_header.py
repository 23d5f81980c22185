"""The top of ``registry.yaml`` (``stages:``), read without pydantic or the models below.

``list`` needs only the stage order for its columns; importing the index's validation
machinery and parsing every version of every model for it would cost more than the query.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

INDEX_FILE = "registry.yaml"
DEFAULT_STAGES = ["dev", "staging", "production"]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_stage_order(root: Path) -> list[str]:
    """The allowed stages, from the lines above ``models:``; the defaults when unreadable."""
    path = root / INDEX_FILE
    try:
        with open(path, encoding="utf-8") as f:
            head = []
            for line in f:
                if line.startswith("models:"):
                    break
                head.append(line)
    except FileNotFoundError:
        return list(DEFAULT_STAGES)
    try:
        data = yaml.load("".join(head), Loader=_Loader) or {}
    except yaml.YAMLError:
        return list(DEFAULT_STAGES)
    stages = data.get("stages") if isinstance(data, dict) else None
    if isinstance(stages, list) and all(isinstance(s, str) for s in stages):
        return stages
    return list(DEFAULT_STAGES)

"""The search grammar's shared table (``tests/search_cases.json``): its rows as
:class:`SearchRow` values and what ``search.py`` answers for an expression, in the shape the
Node harness prints, so the Python tests and the browser's copy check the same cases."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from modelreg import InvalidInputError
from modelreg.records import SearchRow
from modelreg.search import select

CASES_FILE = Path(__file__).with_name("search_cases.json")
TABLE = json.loads(CASES_FILE.read_text(encoding="utf-8"))


def row_from_json(data: dict[str, Any]) -> SearchRow:
    return SearchRow(
        **{
            **data,
            "registered_at": datetime.fromisoformat(data["registered_at"].replace("Z", "+00:00")),
        }
    )


ROWS = [row_from_json(r) for r in TABLE["rows"]]


def python_result(expr: str, rows: list[SearchRow]) -> dict[str, Any]:
    """What search.py says, in the shape the Node harness prints."""
    try:
        return {"match": [[r.model, r.version] for r in select(expr, rows)]}
    except InvalidInputError as e:
        return {"error": str(e)}

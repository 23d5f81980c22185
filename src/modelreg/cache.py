"""Where modelreg keeps per-user caches: ``$XDG_CACHE_HOME/modelreg`` (``~/.cache/modelreg``)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(kind: str) -> Path:
    """The cache folder for ``kind`` (``mirrors``, ``artifacts``); not created here."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "modelreg" / kind

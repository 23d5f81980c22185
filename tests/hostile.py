"""What a hostile registry holds, made by hand: objects planted in the DVC cache under their
md5, ``.dir`` listings (honest or not), and annotated tags carrying registration records a
colleague's tool (or an attacker) wrote."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from modelreg.dvcstore.dvccache import object_path


def tag_with_record(repo: Path, tag: str, record: dict[str, object], target: str = "HEAD") -> None:
    """An annotated tag carrying a (possibly hostile) registration record."""
    message = f"Register by hand\n\nmodelreg-record: {json.dumps(record)}\n"
    subprocess.run(
        ["git", "tag", "-a", "--cleanup=verbatim", "-F", "-", tag, target],
        cwd=repo,
        input=message,
        text=True,
        check=True,
    )


def record(path: str, md5: str, size: int = 1) -> dict[str, object]:
    """A registration record naming ``path`` and ``md5`` (either may be hostile)."""
    return {
        "path": path,
        "md5": md5,
        "size": size,
        "registered_by": "Mallory <m@example.com>",
        "registered_at": "2026-11-01T00:00:00Z",
    }


def plant(repo: Path, data: bytes) -> str:
    """Put ``data`` in the repository's DVC cache under its true md5."""
    md5 = hashlib.md5(data).hexdigest()
    path = object_path(repo, md5)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return md5


def plant_listing(repo: Path, entries: object, *, honest: bool = True) -> str:
    """Put a ``.dir`` listing in the cache; ``honest`` names it by its true md5."""
    data = json.dumps(entries, sort_keys=True).encode()
    md5 = hashlib.md5(data).hexdigest() if honest else "0" * 32
    path = object_path(repo, md5 + ".dir")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return md5 + ".dir"

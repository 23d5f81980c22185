"""One writer per clone: modelreg processes writing in the same clone take turns."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

from modelreg.errors import ConflictError

LOCK_NAME = "modelreg.lock"
log = logging.getLogger("modelreg")


@contextlib.contextmanager
def write_lock(
    git_dir: Path,
    timeout: float = 60.0,
    waiting: str | None = "waiting for another modelreg write in this clone…",
) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``.git/modelreg.lock``; ``waiting`` is said once
    if another process holds it (``None``: wait quietly).

    ``flock`` is released by the kernel when the process dies, so a crash never leaves a
    stale lock behind.
    """
    fd = os.open(git_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        timeout = float(os.environ.get("MODELREG_LOCK_TIMEOUT", timeout))
        deadline = time.monotonic() + timeout
        said = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not said and waiting:
                    # Said once, so a user (or a test) knows why nothing happens yet.
                    log.info(waiting)
                    said = True
                if time.monotonic() > deadline:
                    raise ConflictError(
                        f"another modelreg process has held {git_dir / LOCK_NAME} for "
                        f"{timeout:.3g}s: wait for it to finish and run the command again"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)

"""Temporary files and folders named after the process that made them.

modelreg writes through temporaries that a rename moves into place (a ``get``'s download, a
mirror being built, a DVC cache object being copied, a private git index).  A SIGKILL leaves
them behind; naming each ``<prefix><pid>-<random>`` lets the next run remove exactly those
whose process is gone, and nothing it did not make.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (someone else's counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def make_dir(folder: Path, prefix: str) -> Path:
    """A new temporary folder in ``folder`` that :func:`remove_dead` recognizes."""
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=folder))


def make_file(folder: Path, prefix: str) -> tuple[int, Path]:
    """A new temporary file (descriptor, path) in ``folder`` that :func:`remove_dead`
    recognizes."""
    fd, path = tempfile.mkstemp(prefix=f"{prefix}{os.getpid()}-", dir=folder)
    return fd, Path(path)


def remove_dead(folder: Path, prefix: str) -> None:
    """Remove the entries of ``folder`` named ``<prefix><pid>-…`` whose process is gone."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if not name.startswith(prefix):
            continue
        pid, sep, _ = name[len(prefix) :].partition("-")
        if not sep or not pid.isdigit() or pid_alive(int(pid)):
            continue
        path = folder / name
        if path.is_dir() and not path.is_symlink():
            import shutil  # git's module imports this one: keep shutil off the read path

            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)

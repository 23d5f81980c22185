"""Reading ``registry.yaml`` safely, and replacing files atomically."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from modelreg.errors import InvalidIndexError
from modelreg.index.header import INDEX_FILE


def read_index_text(root: Path) -> str | None:
    """The text of ``root``'s ``registry.yaml``, or ``None`` when it has none.

    One-line :class:`InvalidIndexError` for a file that is not UTF-8 or not a regular file
    (a checked-out symlink can point at ``/dev/zero`` or a FIFO, whose read never ends).
    There is no size limit: a large registry's index is legitimately many megabytes.
    """
    path = root / INDEX_FILE
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer before fstat refuses it.
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise InvalidIndexError(f"cannot read it ({e.strerror})", "make it a readable file") from e
    # Checked before fdopen, which refuses a folder with an OSError of its own.
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InvalidIndexError("not a regular file", "replace it with the index's YAML text")
    with os.fdopen(fd, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
        # Universal newlines, as Path.read_text gives: the layout regexes look for "\n".
        # (Checked first: copying a multi-megabyte text twice to change nothing costs ms.)
        return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text
    except UnicodeDecodeError as e:
        raise InvalidIndexError(
            f"not UTF-8 text (byte 0x{raw[e.start]:02x})",
            "fix the file or restore it from Git",
            line=raw.count(b"\n", 0, e.start) + 1,
        ) from None


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place."""
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    # The only portable way to read the umask is to set it and put it back.
    current = os.umask(0)
    os.umask(current)
    return current

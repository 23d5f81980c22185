"""Fault injection for the crash test: inert unless ``MODELREG_FAULT`` arms a point.

``MODELREG_FAULT=name`` (or ``name:N`` for the N-th time the point is reached) makes the
process SIGKILL itself there, as an OOM killer, a CI timeout or a power cut would.  Points
are placed between the steps of a write (``write`` after every file a write replaces,
``before-refs``/``after-refs`` around the ref transaction…); the suite kills at each one and
checks that the next write finds the repository as it was before, or as it is after.
"""

from __future__ import annotations

import os
import signal

_COUNTS: dict[str, int] = {}


def fault_point(name: str) -> None:
    """Die here if the environment says so; otherwise do nothing (one dict lookup)."""
    wanted = os.environ.get("MODELREG_FAULT")
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _COUNTS[name] = _COUNTS.get(name, 0) + 1
    if _COUNTS[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)

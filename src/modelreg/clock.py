"""The clock writes date their tags by: replaceable, so tests and simulations never sleep.

GTO and DVC order a model's events by tagger date at one-second resolution; a write that must
come after an event of the current second waits for the next one (see :mod:`modelreg.dating`).
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Wall-clock seconds since the epoch, and a way to let them pass."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


_current: Clock = SystemClock()


def current() -> Clock:
    """The clock in use."""
    return _current


def use(clock: Clock) -> Clock:
    """Install ``clock`` for every later write in this process; returns the previous one."""
    global _current
    previous, _current = _current, clock
    return previous

"""The garbage collector in a ``modelreg`` process, which runs one command and exits.

Starting a command creates hundreds of thousands of objects that live until the process
exits: the imports, and Typer's parse, which imports pydantic and builds a type adapter per
parameter.  Python's cyclic collector walks all of them, again and again while they are
made (measured: 10-15 ms of a command), and once more when the interpreter shuts down
(25-30 ms).  So the console entry point holds the collector off until the command starts,
then freezes what exists (:func:`gc.freeze`: kept, never walked again) and lets it run for
the command's own garbage, so a long command (``ui``, ``site``) collects as usual; at exit
it freezes everything again, which leaves the final walk nothing to do.  Nothing is lost
that matters: the process's memory goes back to the OS at exit, and every file modelreg
writes is closed (and synced) before the command returns.

Only :func:`modelreg.cli.app.main` does this; a program that calls the CLI in-process
(Typer's test runner) keeps its collector as it was.
"""

from __future__ import annotations

import gc

_held = False


def hold() -> None:
    """Stop cyclic collection until :func:`release` (the process's startup)."""
    global _held
    _held = gc.isenabled()
    gc.disable()


def release() -> None:
    """Keep the startup's objects out of every later collection and collect again; nothing
    when :func:`hold` did not stop it."""
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()


def at_exit() -> None:
    """Leave the interpreter's final collection nothing to walk."""
    gc.freeze()

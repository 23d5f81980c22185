"""Where one command's time goes, in-process: the CLI's import, Typer's parsing up to the
command, the command itself.

    cd REGISTRY && python /path/to/bench/phases.py promote churn v1.2.0 production

prints one line to stderr, e.g. ``import 68 ms, parse 85 ms, command 131 ms, total 284 ms``
(the command's own output goes where it always does).  "command" is the time spent in the
`Registry` method the CLI calls; for a command that calls none, it is 0 and "parse" holds
all of it.  Run it a few times, alternating with the checkout you compare against: one run
on a busy machine says little.
"""

from __future__ import annotations

import atexit
import functools
import inspect
import sys
import time
from typing import Any

_start = time.perf_counter()

import modelreg.cli.app as app  # noqa: E402  (timed: the import is one of the phases)
from modelreg.registry import Registry  # noqa: E402

_imported = time.perf_counter()
_spans: list[tuple[float, float]] = []


def _timed(method: Any) -> Any:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            _spans.append((began, time.perf_counter()))

    return wrapper


def _report() -> None:
    end = time.perf_counter()
    # The outermost call spans the others (a method may call another).
    began = min((b for b, _ in _spans), default=end)
    ended = max((e for _, e in _spans), default=end)
    ms = {
        "import": _imported - _start,
        "parse": began - _imported,
        "command": ended - began,
        "total": end - _start,
    }
    print(", ".join(f"{k} {v * 1000:.0f} ms" for k, v in ms.items()), file=sys.stderr)


def main() -> None:
    for name, value in vars(Registry).items():
        if inspect.isfunction(value) and not name.startswith("_"):
            setattr(Registry, name, _timed(value))
    atexit.register(_report)
    sys.argv = ["modelreg", *sys.argv[1:]]
    app.main()


if __name__ == "__main__":
    main()

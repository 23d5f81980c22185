"""``modelreg merge-index``: the git merge driver for ``registry.yaml``.

Registered by the application with ``app.command("merge-index")(merge_index)``.  No
``from __future__ import annotations``: Typer reads the annotations at start-up (see app.py).
"""

from pathlib import Path
from typing import Annotated

import typer


def merge_index(
    base: Annotated[
        Path, typer.Argument(metavar="BASE", help="The common ancestor's registry.yaml (%O).")
    ],
    ours: Annotated[
        Path,
        typer.Argument(metavar="OURS", help="Our registry.yaml (%A); receives the merge."),
    ],
    theirs: Annotated[Path, typer.Argument(metavar="THEIRS", help="Their registry.yaml (%B).")],
) -> None:
    """Git merge driver: merge registry.yaml per model, version and stage (exit 1 on
    conflicts). Git runs it as `modelreg merge-index %O %A %B`."""
    # Imported here: other commands should not pay for the merge module at start-up.
    from modelreg.merge import main

    code = main([str(base), str(ours), str(theirs)])
    if code:
        raise typer.Exit(code)

"""Why modelreg runs ``git for-each-ref`` instead of enumerating tags through GitPython.

    python bench/synth.py 100x10 /tmp/r1 && python bench/synth.py 100x30 /tmp/r3
    python bench/gitpython_tags.py /tmp/r1 /tmp/r3

For each registry, the time to read every tag with its message both ways.  GitPython resolves
each tag through the packed-refs file again, so its time grows with the square of the tags.
"""

from __future__ import annotations

import subprocess
import sys
import time

import git  # GitPython, installed with DVC


def for_each_ref(path: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        ["git", "-C", path, "for-each-ref", "--format=%(refname)%00%(contents)", "refs/tags"],
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - start


def gitpython(path: str) -> tuple[int, float]:
    repo = git.Repo(path)
    start = time.perf_counter()
    count = 0
    for ref in repo.tags:
        tag = ref.tag
        if tag is not None:
            _ = tag.message
        count += 1
    return count, time.perf_counter() - start


def main(paths: list[str]) -> None:
    for path in paths:
        count, slow = gitpython(path)
        fast = for_each_ref(path)
        print(f"{path}: {count} tags: for-each-ref {fast:.2f} s, GitPython {slow:.2f} s")


if __name__ == "__main__":
    main(sys.argv[1:])

"""The site's link scheme, shared by ``modelreg site`` (files) and ``modelreg ui`` (routes).

Every page is a folder's ``index.html``, linked relatively, so the site works opened from
``file://``, under a Pages sub-path and behind ``modelreg ui`` alike:

=============================================  =========================================
``index.html``                                 overview: models x stages
``search/index.html``                          search across every version
``models/NAME/index.html``                     a model (``NAME`` may hold ``/``)
``models/NAME/-/VERSION/index.html``           one version
``models/NAME/-/A..B/index.html``              version A compared with version B
=============================================  =========================================

No model page can collide with another page: a model's path ends in a part without a dot
(names have none) or with a ``:`` (``dir/sub:name``, whose folder may have dots), while what
follows the reserved ``-`` part always holds a dot (versions are SemVer) and never a ``:``;
``..`` separates a comparison's versions, which SemVer never contains.  In links every part
is percent-encoded (``:`` as ``%3A``, ``+`` of build metadata as ``%2B``); on disk the
folders carry the names as they are.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import quote, unquote

from modelreg.errors import NotFoundError
from modelreg.grammar import check_name, check_version

Dir = tuple[str, ...]
"""A page's folder, as unencoded parts from the site's root (``()`` is the root)."""

ROOT: Dir = ()
SEARCH: Dir = ("search",)
RESERVED = "-"
PAIR = ".."


def model_dir(name: str) -> Dir:
    return ("models", *name.split("/"))


def version_dir(name: str, version: str) -> Dir:
    return (*model_dir(name), RESERVED, version)


def compare_dir(name: str, a: str, b: str) -> Dir:
    return (*model_dir(name), RESERVED, f"{a}{PAIR}{b}")


def href(page: Dir, target: Dir) -> str:
    """The relative link from the page in folder ``page`` to the page in ``target``."""
    return "../" * len(page) + _encoded(target) + "index.html"


@functools.lru_cache(maxsize=65536)
def _encoded(target: Dir) -> str:
    return "".join(quote(part, safe="") + "/" for part in target)


def folder_href(page: Dir, target: Dir) -> str:
    """The relative link from ``page`` to the folder ``target`` itself (ending in ``/``), for
    scripts that append a percent-encoded part and ``/index.html``."""
    return "../" * len(page) + _encoded(target)


@dataclass(frozen=True)
class Route:
    """What a request path names: ``kind`` is overview, search, model, version or compare."""

    kind: str
    model: str | None = None
    version: str | None = None
    other: str | None = None


def route(path: str) -> Route:
    """The page a URL path (``/models/churn/-/v1.0.0/index.html``) names; ``NotFoundError``
    for anything else.  Names and versions are checked as the CLI checks them."""
    parts = [unquote(p) for p in path.split("?", 1)[0].split("#", 1)[0].split("/") if p]
    if parts and parts[-1] == "index.html":
        parts.pop()
    if not parts:
        return Route("overview")
    if parts == list(SEARCH):
        return Route("search")
    if parts[0] != "models" or len(parts) < 2 or any(p in ("", ".", "..") for p in parts):
        raise NotFoundError(f"no page at {path!r}")
    rest = parts[1:]
    if len(rest) >= 3 and rest[-2] == RESERVED and "." in rest[-1] and ":" not in rest[-1]:
        name = check_name("/".join(rest[:-2]))
        a, sep, b = rest[-1].partition(PAIR)
        if sep:
            return Route("compare", name, check_version(a), check_version(b))
        return Route("version", name, check_version(rest[-1]))
    return Route("model", check_name("/".join(rest)))

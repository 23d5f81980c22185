"""HTML building blocks: escaping, the page frame, inline assets and the page's CSP.

Every value that comes from a repository (tag names and messages, records, cards,
``registry.yaml``) reaches a page through :func:`text` or :func:`attr` (escaped) or
:func:`json_block` (escaped for a ``<script type="application/json">`` element).  Pages have
no external resource: the stylesheet and scripts are inlined, and the Content-Security-Policy
allows only those exact inline blocks (by hash), so even a value that escaped escaping could
neither run nor send anything anywhere.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

from modelreg.site.links import ROOT, Dir, href

# Characters that reorder or hide displayed text (bidi controls, as in "Trojan Source") and
# C0/C1 controls other than tab and newline: shown as visible escapes, never as themselves.
_CONTROLS = [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]
_BIDI = [0x061C, 0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_VISIBLE = {c: f"\\x{c:02x}" if c <= 0xFF else f"\\u{c:04x}" for c in [*_CONTROLS, *_BIDI]}
# Most values need neither: one search decides (a site renders millions of values).
_NEEDS_WORK = re.compile("[&<>\"'" + "".join(re.escape(chr(c)) for c in _VISIBLE) + "]")

SEARCH_JS = Path(__file__).resolve().parent.parent / "assets" / "search.js"
"""The search grammar in the browser (``modelregSearch``), shared with ``modelreg search``;
inlined into the search page when the installed modelreg has it."""


def text(value: object) -> str:
    """``value`` as HTML text or attribute content: escaped, controls made visible."""
    shown = str(value)
    if _NEEDS_WORK.search(shown) is None:
        return shown
    return escape(shown.translate(_VISIBLE), quote=True)


attr = text


def json_block(element_id: str, data: Any) -> str:
    """``data`` as JSON inside ``<script type="application/json">``: ``<``, ``>`` and ``&``
    are written as ``\\u`` escapes, so no value can close the element or open a comment."""
    payload = json.dumps(data, separators=(",", ":"), sort_keys=True)  # ASCII: \\uXXXX
    payload = payload.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="{attr(element_id)}">{payload}</script>'


@functools.cache
def _asset(name: str) -> str:
    return resources.files("modelreg.site").joinpath("assets").joinpath(name).read_text("utf-8")


@functools.cache
def search_script() -> str | None:
    """The browser-side search grammar, or ``None`` when this modelreg lacks it."""
    try:
        return inlinable(SEARCH_JS.read_text("utf-8"))
    except OSError:
        return None


def inlinable(script: str) -> str:
    """``script`` safe inside ``<script>…</script>``: a ``</script`` in a string or comment
    would end the element, and ``<\\/script`` means the same to JavaScript."""
    return re.sub(r"</(script)", r"<\\/\1", script, flags=re.IGNORECASE)


def _hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _scripts(script: bool, search: bool) -> list[str]:
    # The grammar first: the site's script calls ``modelregSearch`` when it is defined.
    found = search_script() if search else None
    return [
        *([found] if found is not None else []),
        *([inlinable(_asset("site.js"))] if script else []),
    ]


def csp(script: bool = True, search: bool = False) -> str:
    """The Content-Security-Policy of a page: nothing but its own inline blocks."""
    scripts = " ".join(_hash(s) for s in _scripts(script, search)) or "'none'"
    return (
        f"default-src 'none'; script-src {scripts}; style-src {_hash(_asset('site.css'))}; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def page(
    title: str,
    crumbs: list[tuple[str, Dir | None]],
    body: str,
    here: Dir,
    *,
    data: str = "",
    script: bool = True,
    search: bool = False,
    footer: str = "",
) -> str:
    """A whole page.  ``title`` and the crumbs' labels are plain text (escaped here);
    ``body``, ``data`` and ``footer`` are HTML already escaped by their builders.  ``script``
    inlines the site's script (sortable tables, forms), ``search`` the search grammar."""
    trail = " › ".join(
        f'<a href="{attr(href(here, target))}">{text(label)}</a>'
        if target is not None
        else f'<span aria-current="page">{text(label)}</span>'
        for label, target in crumbs
    )
    scripts = "".join(f"<script>{s}</script>" for s in _scripts(script, search))
    policy = csp(script, search)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{attr(policy)}">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{text(title)}</title><style>{_asset('site.css')}</style></head>"
        f'<body><header><nav aria-label="breadcrumb">{trail}</nav>'
        f'<a class="search-link" href="{attr(href(here, ("search",)))}">search</a></header>'
        f"<main>{body}</main><footer>{footer}</footer>{data}{scripts}</body></html>\n"
    )


def table(
    headers: list[str],
    rows: list[str],
    *,
    table_id: str = "",
    sortable: bool = False,
    caption: str = "",
) -> str:
    """A table: ``headers`` are plain text, ``rows`` are ready ``<tr>…</tr>`` HTML."""
    classes = ' class="sortable"' if sortable else ""
    ident = f' id="{attr(table_id)}"' if table_id else ""
    head = "".join(f'<th scope="col">{text(h)}</th>' for h in headers)
    cap = f"<caption>{text(caption)}</caption>" if caption else ""
    return (
        f"<table{ident}{classes}>{cap}<thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def link(here: Dir, target: Dir, label: str) -> str:
    return f'<a href="{attr(href(here, target))}">{text(label)}</a>'


def root_link(here: Dir) -> str:
    return href(here, ROOT)

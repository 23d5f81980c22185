"""The pages, rendered from the records :mod:`modelreg.site.data` gathers.

Each function returns a whole HTML page for a given folder (``here``), so every link it
makes is relative to that folder.  Text from the repository goes through
:func:`~modelreg.site.html.text`; the page's own markup is the only unescaped text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from modelreg.records import Comparison, Event, ModelVersion, StageSpan, ValueDelta
from modelreg.site import links, plots
from modelreg.site.data import Board, ModelBundle, comparison
from modelreg.site.html import attr, json_block, link, page, table, text
from modelreg.site.links import Dir

HOW = {
    "promote": "promoted",
    "rollback": "rolled back to",
    "handback": "handed back (newer holder removed)",
    "revive": "model revived",
}
ENDED = {
    "replaced": "replaced",
    "demote": "demoted",
    "deregister": "version deregistered",
    "deprecate": "model deprecated",
}


@dataclass(frozen=True)
class Site:
    """What every page needs to know about the site it belongs to.

    ``live`` (``modelreg ui``) renders a comparison page for any two versions on request.  A
    static site cannot hold a page per pair (n(n-1)/2 of them): there, version B's page
    carries the comparisons with B's predecessor and with each current stage holder, and
    links to a comparison point into it (``…/-/B/index.html#from-A``).
    """

    generator: str
    live: bool = False

    def compare_href(self, here: Dir, bundle: ModelBundle, a: str, b: str) -> str | None:
        """The link to ``modelreg compare NAME A B`` as a page, or ``None`` when this site
        has none."""
        if self.live:
            return links.href(here, links.compare_dir(bundle.name, a, b))
        if a not in bundle.comparison_sources(b):
            return None
        return links.href(here, links.version_dir(bundle.name, b)) + "#" + _from_id(a)

    def footer(self) -> str:
        return f"{text(self.generator)} · read-only view of the registry's tags"


def _from_id(version: str) -> str:
    """The id of the section of version B's page that compares ``version`` with B (versions
    hold only letters, digits, '.', '-' and '+', all valid in an id)."""
    return f"from-{version}"


def _compare_link(here: Dir, bundle: ModelBundle, site: Site, a: str, b: str) -> str:
    target = site.compare_href(here, bundle, a, b)
    if target is None:
        return ""
    return f'<a href="{attr(target)}">{text(a)} \u2192 {text(b)}</a>'


def when(moment: datetime, seconds: bool = False) -> str:
    shown = moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f'<time datetime="{attr(moment.isoformat())}">{text(shown)}Z</time>'


def value(v: object) -> str:
    """A metric or param as the CLI shows it."""
    if v is None:
        return "-"
    if isinstance(v, float):
        return plots.number(v)
    return str(v)


def _num_cell(v: object) -> str:
    sort = f' data-sort="{attr(repr(v))}"' if isinstance(v, int | float) else ""
    return f'<td class="num"{sort}>{text(value(v))}</td>'


def _dot(color: str) -> str:
    return (
        '<svg class="stage-dot" width="10" height="10" aria-hidden="true">'
        f'<circle cx="5" cy="5" r="5" fill="{color}"/></svg>'
    )


def _who(e: Event) -> str:
    return text(e.author) + (f" &lt;{text(e.author_email)}&gt;" if e.author_email else "")


def _labels(labels: Sequence[str]) -> str:
    return "".join(f'<span class="badge">{text(label)}</span>' for label in labels)


def _version_link(here: Dir, bundle: ModelBundle, version: str) -> str:
    if bundle.version(version) is not None:
        return link(here, links.version_dir(bundle.name, version), version)
    return f"<code>{text(version)}</code>"  # a commit that holds a stage, never registered


# -- overview ------------------------------------------------------------------------------


def overview(board: Board, site: Site) -> str:
    here = links.ROOT
    colors = plots.stage_colors(board.stages)
    rows = []
    versions = 0
    for bundle in board.models:
        d = bundle.detail
        versions += len(d.versions)
        current = bundle.current_spans()
        name = link(here, links.model_dir(d.name), d.name)
        if d.deprecated:
            name += ' <span class="badge bad">deprecated</span>'
        cells = [f"<td>{name}</td>"]
        cells.append(f"<td>{_version_link(here, bundle, d.latest) if d.latest else '-'}</td>")
        for stage in board.stages:
            span = current.get(stage)
            if span is None:
                cells.append(f'<td data-stage="{attr(stage)}">-</td>')
                continue
            cells.append(
                f'<td data-stage="{attr(stage)}" data-version="{attr(span.version)}">'
                f"{_version_link(here, bundle, span.version)}<br><small>since "
                f"{when(span.since)} by {text(span.start.author)}</small></td>"
            )
        latest = bundle.version(d.latest) if d.latest else None
        metrics = latest.metrics if latest else {}
        shown = sorted(metrics.items())[:3]
        cells.append(
            "<td>"
            + " ".join(f"{text(k)}={text(value(v))}" for k, v in shown)
            + (" …" if len(metrics) > 3 else "")
            + "</td>"
        )
        cells.append(f"<td>{_labels(d.labels)}</td>")
        rows.append(f'<tr data-model="{attr(d.name)}">{"".join(cells)}</tr>')
    legend = " ".join(f"<span>{_dot(colors[s])}{text(s)}</span>" for s in board.stages)
    body = (
        "<h1>Model registry</h1>"
        f"<p>{len(board.models)} models, {versions} versions. "
        f'Stages in promotion order: <span class="legend">{legend}</span></p>'
        '<form id="search-form" class="inline" role="search" '
        f'data-target="{attr(links.href(here, links.SEARCH))}">'
        '<label for="search-q">Search versions</label>'
        '<input id="search-q" class="wide" type="search" name="q" '
        'placeholder="accuracy>=0.9 label=tabular stage=production registered>2026-10-01">'
        "<button>Search</button></form>"
        '<form class="inline" role="search"><label for="board-filter">Filter models</label>'
        '<input id="board-filter" type="search" placeholder="name, label, version…"></form>'
        + table(
            ["model", "latest", *board.stages, "metrics (latest)", "labels"],
            rows,
            table_id="board",
            sortable=True,
        )
        if board.models
        else "<h1>Model registry</h1><p>No models registered yet: "
        "<code>modelreg register NAME PATH</code> adds one.</p>"
    )
    return page("Model registry", [("registry", None)], body, here, footer=site.footer())


# -- model page ----------------------------------------------------------------------------


def _held_by_version(spans: Sequence[StageSpan]) -> dict[str, list[str]]:
    held: dict[str, list[str]] = {}
    for s in spans:
        stages = held.setdefault(s.version, [])
        if s.stage not in stages:
            stages.append(s.stage)
    return held


def _span_tip(s: StageSpan) -> str:
    until = s.until.strftime("%Y-%m-%d %H:%M") + "Z" if s.until else "now"
    tip = (
        f"{s.stage}: {s.version}, {s.since.strftime('%Y-%m-%d %H:%M')}Z to {until}; "
        f"{HOW.get(s.how, s.how)} by {s.start.author} ({s.start.tag})"
    )
    if s.ended and s.end is not None:
        tip += f"; {ENDED.get(s.ended, s.ended)} by {s.end.author} ({s.end.tag})"
    return tip


def _span_rows(here: Dir, bundle: ModelBundle, spans: Sequence[StageSpan]) -> list[str]:
    rows = []
    for s in spans:
        end = when(s.until) if s.until else "<strong>now</strong>"
        ended = (
            f"{text(ENDED.get(s.ended, s.ended))} by {text(s.end.author)} "
            f"(<code>{text(s.end.tag)}</code>)"
            if s.ended and s.end is not None
            else ""
        )
        rows.append(
            f'<tr data-stage="{attr(s.stage)}" data-version="{attr(s.version)}">'
            f"<td>{text(s.stage)}</td><td>{_version_link(here, bundle, s.version)}</td>"
            f"<td>{when(s.since)}</td><td>{end}</td>"
            f"<td>{text(HOW.get(s.how, s.how))} by {_who(s.start)} "
            f"(<code>{text(s.start.tag)}</code>)</td><td>{ended}</td></tr>"
        )
    return rows


def _timeline(here: Dir, bundle: ModelBundle) -> str:
    if not bundle.spans:
        return "<p>No version has held a stage yet.</p>"
    order = {v.version: i for i, v in enumerate(bundle.in_registration_order())}
    bars = [
        plots.Bar(
            stage=s.stage,
            version=s.version,
            since=s.since,
            until=s.until,
            how=s.how,
            ended=s.ended,
            tip=_span_tip(s),
            tone=plots.VERSION_TONES[order.get(s.version, 0) % len(plots.VERSION_TONES)],
        )
        for s in bundle.spans
    ]
    stages = [st for st in bundle.stages if any(s.stage == st for s in bundle.spans)]
    times = [e.timestamp for e in bundle.events] or [s.since for s in bundle.spans]
    start = min(s.since for s in bundle.spans)
    end = max([*times, *(s.until for s in bundle.spans if s.until)])
    end = end + max((end - start) * 0.04, timedelta(minutes=1))
    svg = plots.timeline(stages, bars, start, end)
    marks = (
        '<p class="legend muted"><span>\u21ba rollback</span><span>\u21a9 handed back after a '
        "demotion</span><span>\u25bc demoted</span><span>bars reaching the right edge: holds "
        "the stage now</span></p>"
    )
    rows = _span_rows(here, bundle, bundle.spans)
    return f"<figure>{svg}</figure>{marks}" + table(
        ["stage", "version", "from", "until", "how", "ended"],
        rows,
        table_id="spans",
        caption="Every hold of every stage, oldest first",
    )


def _trends(here: Dir, bundle: ModelBundle, colors: dict[str, str]) -> str:
    versions = bundle.in_registration_order()
    metrics = sorted({k for v in versions for k in v.metrics})
    if not metrics:
        return "<p>No version records metrics.</p>"
    ever = _held_by_version(bundle.spans)
    holds: dict[str, list[str]] = {}
    for stage, span in bundle.current_spans().items():
        holds.setdefault(span.version, []).append(stage)
    figures = []
    for metric in metrics:
        points = [
            plots.Point(
                version=v.version,
                value=v.metrics.get(metric),
                href=links.href(here, links.version_dir(bundle.name, v.version)),
                active=v.active,
                ever_held=[s for s in bundle.stages if s in ever.get(v.version, [])],
                holds=[s for s in bundle.stages if s in holds.get(v.version, [])],
            )
            for v in versions
        ]
        figures.append(
            f'<figure class="trend-figure" data-metric="{attr(metric)}">'
            f"<figcaption>{text(metric)}</figcaption>{plots.trend(metric, points, colors)}</figure>"
        )
    legend = " ".join(
        f"<span>{_dot(colors[s])}{text(s)}</span>"
        for s in bundle.stages
        if any(sp.stage == s for sp in bundle.spans)
    )
    return (
        '<p class="legend muted">Versions in registration order; a ring per stage a version '
        "ever held, a filled mark on the current holder. "
        f"{legend}</p>"
        f'<div class="plots">{"".join(figures)}</div>'
    )


def _compare_form(here: Dir, bundle: ModelBundle, site: Site) -> str:
    """Two version pickers; the script opens their comparison (see :class:`Site`)."""
    ordered = bundle.in_semver_order()
    if len(ordered) < 2:
        return ""
    a, b = ordered[-2].version, ordered[-1].version

    def options(selected: str) -> str:
        return "".join(
            f'<option value="{attr(v.version)}"{" selected" if v.version == selected else ""}>'
            f"{text(v.version)}</option>"
            for v in reversed(ordered)
        )

    if site.live:
        static = ""
    else:
        # Which comparisons the static site holds: see Site.
        ordered_names = [v.version for v in ordered]
        known = {
            "previous": dict(zip(ordered_names[1:], ordered_names, strict=False)),
            "holders": sorted({sp.version for sp in bundle.current_spans().values()}),
        }
        static = f' data-static="{attr(json.dumps(known, separators=(",", ":")))}"'
    base = links.folder_href(here, (*links.model_dir(bundle.name), links.RESERVED))
    return (
        f'<form id="compare" class="compare-form inline" data-model="{attr(bundle.name)}" '
        f'data-base="{attr(base)}"{static}>'
        f'<label>Compare <select name="a">{options(a)}</select></label>'
        f'<label>with <select name="b">{options(b)}</select></label>'
        '<button>Compare</button><span class="compare-note muted" role="status"></span></form>'
    )


def _version_rows(here: Dir, bundle: ModelBundle, site: Site) -> tuple[list[str], list[str]]:
    versions = sorted(bundle.detail.versions, key=lambda v: v.registered_at, reverse=True)
    metrics = sorted({k for v in versions for k in v.metrics})
    params = sorted({k for v in versions for k in v.params})
    semver = [v.version for v in bundle.in_semver_order()]
    headers = ["version", "stages now", "registered", "by", *metrics, *params, "compare"]
    rows = []
    for v in versions:
        place = bundle.semver_place(v.version)
        previous = semver[place - 1] if place > 0 else None
        compare = _compare_link(here, bundle, site, previous, v.version) if previous else ""
        gone = "" if v.active else ' <span class="badge bad">deregistered</span>'
        rows.append(
            f'<tr data-version="{attr(v.version)}">'
            f'<td data-sort="{place:06d}">'
            f"{link(here, links.version_dir(bundle.name, v.version), v.version)}{gone}</td>"
            f"<td>{text(', '.join(v.stages))}</td>"
            f'<td data-sort="{attr(v.registered_at.isoformat())}">{when(v.registered_at)}</td>'
            f"<td>{text(v.registered_by)}</td>"
            + "".join(_num_cell(v.metrics.get(k)) for k in metrics)
            + "".join(_num_cell(v.params.get(k)) for k in params)
            + f"<td>{compare}</td></tr>"
        )
    return headers, rows


def _history(here: Dir, bundle: ModelBundle) -> str:
    rows = [
        f'<tr data-kind="{attr(e.kind.value)}">'
        f"<td>{when(e.timestamp, seconds=True)}</td><td>{text(e.kind.value)}</td>"
        f"<td>{_version_link(here, bundle, e.version) if e.version else '-'}</td>"
        f"<td>{text(e.stage or '-')}</td><td>{_who(e)}</td><td><code>{text(e.tag)}</code></td>"
        f"<td>{text(e.message)}</td></tr>"
        for e in bundle.events
    ]
    return table(
        ["time", "event", "version", "stage", "author", "tag", "note"],
        rows,
        table_id="history",
        caption="Every event of the model, newest first",
    )


def model(bundle: ModelBundle, site: Site) -> str:
    here = links.model_dir(bundle.name)
    d = bundle.detail
    colors = plots.stage_colors(bundle.stages)
    current = bundle.current_spans()
    holders = "".join(
        f"<dt>{_dot(colors[s])}{text(s)}</dt><dd>{_version_link(here, bundle, current[s].version)}"
        f" since {when(current[s].since)} by {text(current[s].start.author)}</dd>"
        for s in bundle.stages
        if s in current
    )
    latest = _version_link(here, bundle, d.latest) if d.latest else "-"
    headers, rows = _version_rows(here, bundle, site)
    body = (
        f"<h1>{text(d.name)}"
        + (' <span class="badge bad">deprecated</span>' if d.deprecated else "")
        + "</h1>"
        + (f"<p>{text(d.description)}</p>" if d.description else "")
        + (f"<p>{_labels(d.labels)}</p>" if d.labels else "")
        + f'<dl class="record" id="holders"><dt>latest</dt><dd>{latest}</dd>{holders}</dl>'
        + '<section id="trends"><h2>Metrics across versions</h2>'
        + _trends(here, bundle, colors)
        + '</section><section id="timeline"><h2>Stage timeline</h2>'
        + _timeline(here, bundle)
        + f'</section><section id="versions-section"><h2>Versions ({len(rows)})</h2>'
        + _compare_form(here, bundle, site)
        + table(headers, rows, table_id="versions", sortable=True)
        + '</section><section id="history-section"><h2>History</h2>'
        + _history(here, bundle)
        + "</section>"
    )
    crumbs: list[tuple[str, Dir | None]] = [("registry", links.ROOT), (d.name, None)]
    return page(f"{d.name} · model registry", crumbs, body, here, footer=site.footer())


# -- version page --------------------------------------------------------------------------


def _size(size: int | None) -> str:
    if size is None:
        return "-"
    units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
    amount, unit = float(size), 0
    while amount >= 1024 and unit < len(units) - 1:
        amount, unit = amount / 1024, unit + 1
    human = f" ({amount:.1f} {units[unit]})" if unit else ""
    return f"{size:,} bytes{human}"


def _card(card: dict[str, Any] | None) -> str:
    if not card:
        return (
            "<p>No model card: this version was registered from a file "
            "(<code>modelreg register</code>), not with <code>log_model</code>.</p>"
        )
    items = [("flavor", f"{card.get('flavor')} ({card.get('file')})")]
    libraries = card.get("libraries")
    if isinstance(libraries, dict) and libraries:
        items.append(("libraries", ", ".join(f"{k} {v}" for k, v in sorted(libraries.items()))))
    elif libraries:
        items.append(("libraries", str(libraries)))
    if card.get("python"):
        items.append(("python", str(card.get("python"))))
    trusted = card.get("trusted_types")
    if trusted:
        items.append(
            ("trusts", ", ".join(map(str, trusted)) if isinstance(trusted, list) else str(trusted))
        )
    out = '<dl class="record" id="card">' + "".join(
        f"<dt>{text(k)}</dt><dd>{text(v)}</dd>" for k, v in items
    )
    signature = card.get("signature")
    out += "</dl>"
    if isinstance(signature, dict):
        features = signature.get("features")
        dtypes = signature.get("dtypes")
        if isinstance(features, list) and features:
            types = dtypes if isinstance(dtypes, list) else []
            rows = [
                f"<tr><td>{text(f)}</td><td>{text(types[i] if i < len(types) else '-')}</td></tr>"
                for i, f in enumerate(features)
            ]
            out += "<h3>Input signature</h3>" + table(
                ["feature", "dtype"], rows, table_id="signature"
            )
        else:
            shown = ", ".join(f"{k}: {v}" for k, v in signature.items())
            out += f'<h3>Input signature</h3><p id="signature">{text(shown)}</p>'
    elif signature:
        out += f'<h3>Input signature</h3><p id="signature">{text(signature)}</p>'
    return out


def _values(title: str, values: dict[str, Any], table_id: str) -> str:
    if not values:
        return ""
    rows = [f"<tr><td>{text(k)}</td>{_num_cell(v)}</tr>" for k, v in sorted(values.items())]
    return f"<h2>{text(title)}</h2>" + table(["name", "value"], rows, table_id=table_id)


def version(bundle: ModelBundle, v: ModelVersion, site: Site) -> str:
    here = links.version_dir(bundle.name, v.version)
    ref = f"{bundle.name}@{v.version}"
    md5 = text(v.md5 or "-") + (
        f" ({text(v.hash_name)}, a DVC 2 pointer)" if v.md5 and v.hash_name != "md5" else ""
    )
    record = [
        ("tag", f"<code>{text(v.tag)}</code>"),
        ("commit", f"<code>{text(v.commit)}</code>"),
        ("artifact", f"<code>{text(v.path or '-')}</code>"),
        ("md5", f"<code>{md5}</code>"),
        ("size", text(_size(v.size))),
        ("registered by", text(v.registered_by)),
        ("registered at", when(v.registered_at, seconds=True)),
        ("stages now", text(", ".join(v.stages) or "-")),
    ]
    fetch = f"modelreg get {ref}"
    load = f'model = modelreg.load_model("{ref}")' if v.card else ""
    held = [s for s in bundle.spans if s.version == v.version]
    comparisons = _comparisons(here, bundle, v)
    more = ""
    if len(bundle.detail.versions) > 1:
        more = f'<p><a href="{attr(links.href(here, links.model_dir(bundle.name)))}#compare">'
        more += "Compare any two versions</a></p>"
    body = (
        f"<h1>{text(bundle.name)} {text(v.version)}"
        + ("" if v.active else ' <span class="badge bad">deregistered</span>')
        + "</h1>"
        + '<dl class="record" id="record">'
        + "".join(f"<dt>{k}</dt><dd>{html}</dd>" for k, html in record)
        + "</dl>"
        + (f'<h2>Note</h2><pre id="note">{text(v.message)}</pre>' if v.message else "")
        + f'<h2>Fetch it</h2><pre id="get-line"><code>{text(fetch)}</code></pre>'
        + (f'<pre id="load-line"><code>{text(load)}</code></pre>' if load else "")
        + "<h2>Stages held</h2>"
        + (
            table(
                ["stage", "version", "from", "until", "how", "ended"],
                _span_rows(here, bundle, held),
                table_id="held",
            )
            if held
            else "<p>This version never held a stage.</p>"
        )
        + _values("Metrics", v.metrics, "metrics")
        + _values("Params", v.params, "params")
        + "<h2>Model card</h2>"
        + _card(v.card)
        + "<h2>Compared with the previous version and the stage holders</h2>"
        + comparisons
        + more
    )
    crumbs: list[tuple[str, Dir | None]] = [
        ("registry", links.ROOT),
        (bundle.name, links.model_dir(bundle.name)),
        (v.version, None),
    ]
    return page(f"{ref} · model registry", crumbs, body, here, script=False, footer=site.footer())


# -- compare -------------------------------------------------------------------------------


def _delta_text(d: ValueDelta) -> str:
    """The delta column of ``modelreg compare``."""
    if d.delta is not None:
        return f"{d.delta:+.6g}"
    if d.a is None or d.b is None:
        return "added" if d.a is None else "removed"
    return "" if d.a == d.b else "changed"


def _artifact_text(c: Comparison) -> str:
    if c.artifact_changed is None and c.md5_a and c.md5_b:
        return "unknown (one md5 is DVC 2's md5-dos2unix, the other DVC 3's)"
    if c.artifact_changed is None:
        return "unknown (no md5 recorded)"
    return "changed" if c.artifact_changed else "identical bytes"


def _delta_rows(c: Comparison) -> list[str]:
    rows = []
    for kind, deltas in (("metric", c.metrics), ("param", c.params)):
        for d in deltas:
            changed = " changed" if _delta_text(d) not in ("", "+0") else ""
            rows.append(
                f'<tr class="{kind}{changed}" data-key="{attr(d.key)}"><td>{kind}</td>'
                f"<td>{text(d.key)}</td>{_num_cell(d.a)}{_num_cell(d.b)}"
                f'<td class="num delta">{text(_delta_text(d))}</td></tr>'
            )
    return rows


def _signature_text(c: Comparison) -> str:
    if c.signature_changed is None:
        return "unknown (a version has no model card)"
    return "changed" if c.signature_changed else "unchanged"


def _comparisons(here: Dir, bundle: ModelBundle, v: ModelVersion) -> str:
    """``modelreg compare`` of this version's predecessor and of each current stage holder
    with this version, each in a section a link can point to."""
    parts = []
    holders: dict[str, list[str]] = {}
    for stage, span in bundle.current_spans().items():
        holders.setdefault(span.version, []).append(stage)
    previous = bundle.previous(v.version)
    for a in bundle.comparison_sources(v.version):
        c = comparison(bundle, a, v.version)
        why = ["the previous version"] if a == previous else []
        why += [f"holds {stage} now" for stage in holders.get(a, [])]
        parts.append(
            f'<section class="comparison" id="{attr(_from_id(a))}">'
            f"<h3>{_version_link(here, bundle, a)} \u2192 {text(v.version)} "
            f"<small>({text('; '.join(why))})</small></h3>"
            + (
                table(["", "key", a, v.version, "delta"], _delta_rows(c))
                if c.metrics or c.params
                else ""
            )
            + f"<p>signature: {text(_signature_text(c))}; "
            f"artifact: {text(_artifact_text(c))}</p></section>"
        )
    if not parts:
        return "<p>This is the only version, and no other version holds a stage.</p>"
    return "".join(parts)


def compare(bundle: ModelBundle, c: Comparison, site: Site) -> str:
    here = links.compare_dir(bundle.name, c.a, c.b)
    rows = _delta_rows(c)
    signature = _signature_text(c)
    body = (
        f"<h1>{text(bundle.name)}: {link(here, links.version_dir(bundle.name, c.a), c.a)} \u2192 "
        f"{link(here, links.version_dir(bundle.name, c.b), c.b)}</h1>"
        + (
            table(["", "key", c.a, c.b, "delta"], rows, table_id="deltas")
            if rows
            else "<p>Neither version records metrics or params.</p>"
        )
        + f'<p id="signature">signature: <strong>{text(signature)}</strong></p>'
        + f'<p id="artifact">artifact: <strong>{text(_artifact_text(c))}</strong></p>'
        + '<dl class="record">'
        + f"<dt>md5 of {text(c.a)}</dt><dd><code>{text(c.md5_a or '-')}</code></dd>"
        + f"<dt>md5 of {text(c.b)}</dt><dd><code>{text(c.md5_b or '-')}</code></dd></dl>"
        + '<p class="muted">The same as '
        + f"<code>{text(f'modelreg compare {bundle.name} {c.a} {c.b}')}</code>. "
        + f'<a href="{attr(links.href(here, links.model_dir(bundle.name)))}#compare">'
        + "Compare two other versions</a>.</p>"
    )
    crumbs: list[tuple[str, Dir | None]] = [
        ("registry", links.ROOT),
        (bundle.name, links.model_dir(bundle.name)),
        (f"{c.a} \u2192 {c.b}", None),
    ]
    return page(
        f"{bundle.name} {c.a} \u2192 {c.b} · model registry",
        crumbs,
        body,
        here,
        script=False,
        footer=site.footer(),
    )


# -- search and errors ---------------------------------------------------------------------


def search(rows: list[dict[str, Any]], site: Site) -> str:
    here = links.SEARCH
    body = (
        "<h1>Search versions</h1>"
        '<form id="search-page-form" class="inline" role="search" '
        f'data-root="{attr(links.folder_href(here, links.ROOT))}">'
        '<label for="q">Expression</label>'
        '<input id="q" class="wide" type="search" name="q" '
        'placeholder="accuracy>=0.9 label=tabular stage=production registered>2026-10-01">'
        "<button>Search</button></form>"
        '<p class="muted">The grammar of <code>modelreg search</code>: metric and param '
        "comparisons, <code>label=</code>, <code>stage=</code> (current holder), "
        "<code>author=</code>, <code>registered&gt;</code>, <code>flavor=</code>.</p>"
        '<noscript><p class="error">Search runs in the browser and needs JavaScript; every '
        "version is also on its model's page.</p></noscript>"
        '<p id="search-error" class="error" role="alert"></p>'
        '<p id="search-count" role="status"></p>'
        + table(
            [
                "model",
                "version",
                "registered",
                "author",
                "stages",
                "labels",
                "flavor",
                "metrics",
                "params",
            ],
            [],
            table_id="results",
            sortable=True,
        )
    )
    crumbs: list[tuple[str, Dir | None]] = [("registry", links.ROOT), ("search", None)]
    return page(
        "Search · model registry",
        crumbs,
        body,
        here,
        data=json_block("modelreg-rows", rows),
        search=True,
        footer=site.footer(),
    )


def not_found(message: str, site: Site) -> str:
    body = f"<h1>Not found</h1><p>{text(message)}</p>"
    return page(
        "Not found · model registry",
        [("registry", links.ROOT)],
        body,
        links.ROOT,
        footer=site.footer(),
    )

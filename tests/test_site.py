"""``modelreg site`` and ``modelreg ui``: the pages, their links, escaping and the server's
rules, on a real registry (tests/site_story.py).  The real browser drives them in
tests/test_site_browser.py (the long tier)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.helpers import (
    git,
    imported_by,
    imported_in,
    isolated,
    modelreg,
    start_modelreg,
    write_model,
)
from tests.site_story import EMAIL, HOSTILE, stepping_clock, story_repo
from typer.testing import CliRunner

from modelreg import Registry, SearchRow
from modelreg.cli.app import app
from modelreg.errors import InvalidInputError
from modelreg.grammar import check_name
from modelreg.queries import model_state
from modelreg.site import html, links
from modelreg.site.build import MARKER
from modelreg.site.server import host_allowed, make_server, origin_allowed, url_of

runner = CliRunner()


# -- the story registry and its site, built once -----------------------------------------


class Story:
    def __init__(self, repo: Path, site: Path, redacted: Path) -> None:
        self.repo = repo
        self.site = site
        self.redacted = redacted


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    home = tmp_path_factory.mktemp("home")
    with isolated(home):
        repo = story_repo(tmp_path_factory)
        site = repo.parent / "site"
        proc = modelreg(repo, "site", "-o", str(site))
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("Wrote 19 pages (3 models, 14 versions) to ")
        redacted = repo.parent / "redacted"
        proc = modelreg(repo, "site", "-o", str(redacted), "--redact-emails")
        assert proc.returncode == 0, proc.stderr
        yield Story(repo, site, redacted)


class Page(HTMLParser):
    """The parts of a page the tests look at: links, scripts, ids and attributes."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._script: dict[str, str | None] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append((tag, found))
        for key in ("href", "src", "action", "data", "xlink:href"):
            if found.get(key) is not None:
                self.links.append(str(found[key]))
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if tag == "script":
            self._script = found

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self.scripts.append((self._script, data))
            self._script = None
        else:
            self.text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, ""))
            self._script = None


def pages_of(site: Path) -> dict[Path, str]:
    return {p: p.read_text("utf-8") for p in sorted(site.rglob("index.html"))}


# -- links ---------------------------------------------------------------------------------


def test_every_link_is_relative_and_resolves_to_a_page(story: Story) -> None:
    pages = pages_of(story.site)
    assert len(pages) == 19
    checked = 0
    for path, text in pages.items():
        page = Page(text)
        for target in page.links:
            parts = urlsplit(target)
            assert not parts.scheme and not parts.netloc, f"{path}: {target} leaves the site"
            if not parts.path:
                assert parts.fragment in page.ids, f"{path}: no #{parts.fragment}"
                continue
            assert not parts.path.startswith("/"), f"{path}: {target} is absolute"
            assert parts.path.endswith("index.html"), f"{path}: {target}"
            resolved = (path.parent / unquote(parts.path)).resolve()
            assert resolved.is_file(), f"{path}: {target} -> {resolved}"
            assert resolved.is_relative_to(story.site.resolve())
            if parts.fragment:
                assert parts.fragment in Page(resolved.read_text("utf-8")).ids, target
            checked += 1
    assert checked > 200


def test_pages_sit_under_the_reserved_segment_and_monorepo_names_are_encoded(
    story: Story,
) -> None:
    assert (story.site / "models/churn/-/v1.3.0/index.html").is_file()
    assert (story.site / "models/team/fraud/index.html").is_file()
    # On disk the folder carries the name; in links its ':' is %3A.
    assert (story.site / "models/nlp/intent:classifier/-/v1.1.0/index.html").is_file()
    overview = (story.site / "index.html").read_text()
    assert 'href="models/nlp/intent%3Aclassifier/index.html"' in overview
    assert "intent:classifier/index.html" not in overview
    assert (story.site / MARKER).is_file() and (story.site / ".nojekyll").is_file()


def _valid(name: str) -> bool:
    try:
        check_name(name)
    except InvalidInputError:
        return False
    return True


names = st.from_regex(r"[a-z0-9]([a-z0-9/_-]{0,12}[a-z0-9])?", fullmatch=True)
folders = st.from_regex(r"[a-z0-9_.-]{1,7}(/[a-z0-9_.-]{1,7}){0,2}", fullmatch=True)
models = st.one_of(names, st.builds(lambda f, n: f"{f}:{n}", folders, names)).filter(_valid)
versions = st.from_regex(
    r"v(0|[1-9][0-9]?)\.(0|[1-9])\.(0|[1-9])(-rc\.[0-9])?(\+b[0-9])?", fullmatch=True
)


@given(models, models, versions, versions)
def test_no_page_of_one_kind_lands_on_another(m1: str, m2: str, v1: str, v2: str) -> None:
    pages = {
        ("model", m1): links.model_dir(m1),
        ("version", m1, v1): links.version_dir(m1, v1),
        ("compare", m1, v1, v2): links.compare_dir(m1, v1, v2),
        ("model", m2): links.model_dir(m2),
        ("version", m2, v2): links.version_dir(m2, v2),
    }
    by_dir: dict[tuple[str, ...], set[object]] = {}
    for what, where in pages.items():
        by_dir.setdefault(where, set()).add(what)
    assert all(len(v) == 1 for v in by_dir.values()), by_dir
    # And the server finds each page where the site puts it.
    for what, where in pages.items():
        route = links.route("/" + links.href((), where))
        assert (route.kind, route.model, route.version, route.other)[: len(what)] == what


# -- escaping ------------------------------------------------------------------------------


def _csp_hashes(text: str) -> set[str]:
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text)
    assert policy, "every page has a policy"
    return set(re.findall(r"'(sha256-[^']+)'", policy[1].replace("&#x27;", "'")))


def test_values_from_tags_render_as_text_and_only_the_sites_scripts_run(story: Story) -> None:
    seen_hostile = 0
    for path, text in pages_of(story.site).items():
        assert "window.pwned" not in text or HOSTILE not in text, path
        page = Page(text)
        hashes = _csp_hashes(text)
        for attrs, body in page.scripts:
            if attrs.get("type") == "application/json":
                assert "<" not in body, path
                continue
            digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
            assert f"sha256-{digest}" in hashes, f"{path}: a script the policy does not allow"
        for tag, attrs in page.tags:
            assert tag not in ("img", "iframe", "object", "embed", "link", "base"), path
            assert not [a for a in attrs if a.startswith("on")], f"{path}: <{tag} {attrs}>"
        seen_hostile += "".join(page.text).count(HOSTILE)
    # The description and every note reached the pages, as text people can read.
    assert seen_hostile >= 10
    model = (story.site / "models/churn/index.html").read_text()
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt;" in model
    assert "&lt;b&gt;bold&lt;/b&gt;" in model


def test_json_blocks_cannot_close_their_element() -> None:
    data = {"note": "</script><!-- <script>alert(1)</script> & \u2028"}
    block = html.json_block("rows", data)
    payload = block.removeprefix('<script type="application/json" id="rows">')
    payload = payload.removesuffix("</script>")
    assert "<" not in payload and ">" not in payload and "&" not in payload
    assert json.loads(payload) == data


def test_bidi_and_control_characters_are_shown_not_obeyed() -> None:
    assert html.text("a\u202eb\x1bc<") == "a\\u202eb\\x1bc&lt;"
    assert html.text("plain v1.0.0") == "plain v1.0.0"


# -- what the pages say -----------------------------------------------------------------


def test_the_board_shows_what_list_says(story: Story) -> None:
    listed = json.loads(modelreg(story.repo, "list", "--json").stdout)
    overview = Page((story.site / "index.html").read_text())
    cells = {
        (attrs.get("data-stage"), attrs.get("data-version"))
        for tag, attrs in overview.tags
        if tag == "td" and attrs.get("data-version")
    }
    expected = {(stage, v) for row in listed for stage, v in row["stages"].items()}
    assert cells == expected


def test_trend_plots_have_a_point_per_version_and_mark_the_stage_holders(story: Story) -> None:
    page = Page((story.site / "models/churn/index.html").read_text())
    trends = [a for t, a in page.tags if t == "svg" and a.get("class") == "trend"]
    assert [a["data-metric"] for a in trends] == ["accuracy", "latency_ms"]
    points = [a for t, a in page.tags if t == "circle" and (a.get("class") or "").startswith("pt")]
    assert len(points) == 2 * 10
    holders = {
        (a["data-stage"], a["data-version"])
        for t, a in page.tags
        if t == "circle" and a.get("class") == "holder"
    }
    # Each current holder once per metric plot, emphasised.
    assert holders == {("production", "v1.7.0"), ("staging", "v1.7.0"), ("dev", "v1.9.0")}
    rings = [a["data-stage"] for t, a in page.tags if t == "circle" and a.get("class") == "held"]
    # Versions that ever held production: v1.1.0, v1.3.0, v1.7.0 (in each of the 2 plots).
    assert rings.count("production") == 2 * 3


def test_the_timeline_shows_promotions_rollbacks_and_handbacks(story: Story) -> None:
    page = Page((story.site / "models/churn/index.html").read_text())
    spans = [
        (a["data-stage"], a["data-version"], a["data-how"])
        for t, a in page.tags
        if t == "rect" and a.get("class") == "span"
    ]
    production = [(v, how) for stage, v, how in spans if stage == "production"]
    assert production == [
        ("v1.1.0", "promote"),
        ("v1.3.0", "promote"),
        ("v1.1.0", "rollback"),
        ("v1.7.0", "promote"),
    ]
    staging = [(v, how) for stage, v, how in spans if stage == "staging"]
    assert staging[-2:] == [("v1.8.0", "promote"), ("v1.7.0", "handback")]


def test_each_span_is_what_a_replay_at_its_start_says(story: Story) -> None:
    spans = Registry(story.repo).stage_timeline("churn")
    state = model_state(Registry(story.repo)._reader("churn"), "churn")
    for span in spans:
        at = int(span.since.timestamp())
        assert state.until(at).holder(span.stage) == span.version
        assert state.until(at - 1).holder(span.stage) != span.version
        if span.until is not None:
            assert state.until(int(span.until.timestamp())).holder(span.stage) != span.version
    assert [s.ended for s in spans if s.stage == "staging"][-2:] == ["demote", None]


def test_version_pages_compare_like_the_cli(story: Story) -> None:
    cli = modelreg(story.repo, "compare", "churn", "v1.7.0", "v1.8.0").stdout
    deltas = dict(re.findall(r"^(?:metric|param)\s+(\S+)\s+\S+\s+\S+\s+(\S+)$", cli, re.M))
    page = (story.site / "models/churn/-/v1.8.0/index.html").read_text()
    section = page.split('id="from-v1.7.0"', 1)[1].split("</section>", 1)[0]
    shown = dict(re.findall(r'data-key="([^"]+)">.*?<td class="num delta">([^<]*)</td>', section))
    assert shown == deltas and len(deltas) == 4
    assert "artifact: changed" in section and "artifact: changed" in cli
    # The production holder is compared too, and the record's fields are all there.
    assert 'id="from-v1.9.0"' in page
    for field in ("churn@v1.8.0", "modelreg get churn@v1.8.0", "models/churn.pkl", "bytes"):
        assert field in page


def test_search_rows_have_the_shared_shape(story: Story) -> None:
    page = (story.site / "search/index.html").read_text()
    found = re.search(r'<script type="application/json" id="modelreg-rows">(.*?)</script>', page)
    assert found
    rows = json.loads(found[1])
    # The very rows `modelreg search --json` gives: one grammar, one data path.
    cli = modelreg(story.repo, "search", "--json")
    assert cli.returncode == 0, cli.stderr
    assert rows == json.loads(cli.stdout)
    row = next(r for r in rows if r["model"] == "churn" and r["version"] == "v1.7.0")
    assert set(row) == {f.name for f in dataclasses.fields(SearchRow)}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["registered_at"])
    assert row["author"] == f"Ada Tester <{EMAIL}>"
    assert sorted(row["stages"]) == ["production", "staging"] and row["tag"] == "churn@v1.7.0"


def test_redact_emails_leaves_no_address_anywhere(story: Story) -> None:
    files = [p for p in story.redacted.rglob("*") if p.is_file()]
    assert len(files) > 19
    for path in files:
        assert "@example.com" not in path.read_text("utf-8"), path
    page = (story.redacted / "models/churn/index.html").read_text()
    assert "Ada Tester" in page and "(address removed)" in page
    assert "@example.com" in (story.site / "models/churn/index.html").read_text()


# -- the output folder ---------------------------------------------------------------------


def test_site_replaces_its_own_previous_site_and_nothing_else(
    registry: Registry, repo: Path, tmp_path: Path
) -> None:
    write_model(repo, "a")
    registry.register("old-model", "models/churn.pkl")
    out = tmp_path / "public"
    assert runner.invoke(app, ["site", "-o", str(out)]).exit_code == 0
    assert (out / "models/old-model/index.html").is_file()
    git(repo, "tag", "-d", "old-model@v1.0.0")
    write_model(repo, "b")
    registry.register("churn", "models/churn.pkl")
    assert runner.invoke(app, ["site", "-o", str(out)]).exit_code == 0
    assert not (out / "models/old-model").exists()
    assert (out / "models/churn/-/v1.0.0/index.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["public", "repo"]  # no leftovers

    other = tmp_path / "notes"
    other.mkdir()
    (other / "todo.txt").write_text("keep me")
    proc = modelreg(repo, "site", "-o", str(other))
    assert proc.returncode == 1
    assert proc.stderr == (
        f"modelreg: error: {other} is not empty and holds no modelreg site: "
        "choose a new or empty folder for -o\n"
    )
    assert [p.name for p in other.iterdir()] == ["todo.txt"]


def test_an_empty_registry_has_a_site(registry: Registry, tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = runner.invoke(app, ["site", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "No models registered yet" in (out / "index.html").read_text()


# -- modelreg ui ---------------------------------------------------------------------------


class Running:
    def __init__(self, registry: Registry) -> None:
        self.server = make_server(registry, "127.0.0.1", 0)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def request(
        self, path: str, method: str = "GET", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        body = response.read().decode()
        conn.close()
        return response.status, dict(response.getheaders()), body

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def served(story: Story) -> Iterator[Running]:
    running = Running(Registry(story.repo))
    yield running
    running.close()


def test_ui_serves_the_same_pages_as_the_site(served: Running, story: Story) -> None:
    for rel in ("index.html", "models/churn/index.html", "models/churn/-/v1.8.0/index.html"):
        status, headers, body = served.request("/" + rel)
        assert status == 200, (rel, body)
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        # The same records, the same words; only comparison links differ (any pair has a page).
        assert Page(body).text == Page((story.site / rel).read_text()).text
    status, _, body = served.request("/models/nlp/intent%3Aclassifier/index.html")
    assert status == 200 and "nlp/intent:classifier" in body
    # Any pair has a page here, as `modelreg compare` says it.
    status, _, body = served.request("/models/churn/-/v1.0.0..v1.9.0/index.html")
    assert status == 200 and "artifact: <strong>changed</strong>" in body
    assert served.request("/")[0] == 200 and served.request("/models/churn/")[0] == 200


def test_ui_answers_unknown_pages_with_404(served: Running) -> None:
    for path in (
        "/models/nope/index.html",
        "/models/churn/-/v9.9.9/index.html",
        "/models/churn/-/v1.0.0..v9.9.9/index.html",
        "/models/..%2F..%2Fetc/index.html",
        "/elsewhere/index.html",
    ):
        status, _, body = served.request(path)
        assert status == 404, path
        assert "<script>" not in body.split("<main>")[1].split("</main>")[0]


def test_ui_rejects_foreign_hosts_and_origins(served: Running) -> None:
    own = f"127.0.0.1:{served.port}"
    assert served.request("/", headers={"Host": own})[0] == 200
    assert served.request("/", headers={"Host": f"localhost:{served.port}"})[0] == 200
    for headers in (
        {"Host": f"evil.example:{served.port}"},
        {"Host": "127.0.0.1:1"},
        {"Host": own, "Origin": "http://evil.example"},
        {"Host": own, "Origin": "null"},
        {"Host": own, "Origin": f"https://127.0.0.1:{served.port}"},
    ):
        status, _, body = served.request("/", headers=headers)
        assert status == 403, headers
        assert body.startswith("forbidden:")
    assert served.request("/", headers={"Host": own, "Origin": f"http://{own}"})[0] == 200


def test_ui_is_read_only(served: Running) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        status, headers, body = served.request("/index.html", method)
        assert status == 405, method
        assert headers["Allow"] == "GET, HEAD"
    status, headers, body = served.request("/index.html", "HEAD")
    assert status == 200 and body == "" and int(headers["Content-Length"]) > 0


def test_ui_reads_the_registry_anew_on_each_request(registry: Registry, repo: Path) -> None:
    running = Running(registry)
    try:
        assert "No models registered yet" in running.request("/")[2]
        write_model(repo, "a")
        registry.register("churn", "models/churn.pkl")
        assert running.request("/models/churn/index.html")[0] == 200
        registry.promote("churn", "v1.0.0", "production")
        assert 'data-stage="production" data-version="v1.0.0"' in running.request("/")[2]
    finally:
        running.close()


@pytest.mark.parametrize(
    ("host", "bound", "allowed"),
    [
        ("127.0.0.1:8765", "127.0.0.1", True),
        ("LOCALHOST:8765", "127.0.0.1", True),
        ("[::1]:8765", "127.0.0.1", True),
        ("127.0.0.1", "127.0.0.1", False),  # the port is part of it
        ("127.0.0.1.evil.example:8765", "127.0.0.1", False),
        (None, "127.0.0.1", False),
        ("10.0.0.5:8765", "127.0.0.1", False),
        ("10.0.0.5:8765", "0.0.0.0", True),  # bound everywhere: any address
        ("intranet.example:8765", "0.0.0.0", False),
        ("box.lan:8765", "box.lan", True),
    ],
)
def test_host_rules(host: str | None, bound: str, allowed: bool) -> None:
    assert host_allowed(host, bound, 8765) is allowed


@pytest.mark.parametrize(
    ("origin", "allowed"), [(None, True), ("http://127.0.0.1:8765/path", False)]
)
def test_origin_rules(origin: str | None, allowed: bool) -> None:
    assert origin_allowed(origin, "127.0.0.1", 8765) is allowed


def test_ui_command_serves_and_stops_on_ctrl_c(story: Story) -> None:
    proc = start_modelreg(story.repo, "ui", "--port", "0")
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.fullmatch(r"modelreg ui: serving (http://127\.0\.0\.1:(\d+)/) \(.*\)\n", line)
        assert found, line
        conn = http.client.HTTPConnection("127.0.0.1", int(found[2]), timeout=30)
        conn.request("GET", "/models/churn/index.html")
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out == "modelreg ui: stopped\n"


def test_ui_refuses_a_port_in_use(story: Story) -> None:
    running = Running(Registry(story.repo))
    try:
        proc = modelreg(story.repo, "ui", "--port", str(running.port))
        assert proc.returncode == 1
        assert proc.stderr.startswith(f"modelreg: error: cannot listen on 127.0.0.1:{running.port}")
        assert proc.stderr.endswith("pick another port with --port (0 picks a free one)\n")
    finally:
        running.close()


def test_url_is_printed_for_people() -> None:
    class Fake:
        server_address = ("0.0.0.0", 8765)

    assert url_of(Fake()) == "http://127.0.0.1:8765/"  # type: ignore[arg-type]


# -- no DVC --------------------------------------------------------------------------------


def test_site_and_ui_import_no_dvc(story: Story, tmp_path: Path) -> None:
    imported = imported_by(story.repo, "site", "-o", str(tmp_path / "o"))
    assert "modelreg.site.pages" in imported
    assert sorted(m for m in imported if m.split(".")[0] in ("dvc", "dvc_data", "gto")) == []

    ui = subprocess.Popen(
        [sys.executable, "-X", "importtime", "-m", "modelreg", "ui", "--port", "0"],
        cwd=story.repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert ui.stdout is not None
        port = int(re.findall(r":(\d+)/", ui.stdout.readline())[0])
        for path in ("/", "/models/churn/index.html", "/search/index.html"):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", path)
            assert conn.getresponse().status == 200
            conn.close()
    finally:
        ui.send_signal(signal.SIGINT)
        _, err = ui.communicate(timeout=30)
    imported = imported_in(err)
    assert "modelreg.site.server" in imported
    assert sorted(m for m in imported if m.split(".")[0] in ("dvc", "dvc_data", "gto")) == []


def test_timeline_follows_deregistration_deprecation_and_revival(
    registry: Registry, repo: Path
) -> None:
    with stepping_clock():
        for content in ("a", "b", "c"):
            write_model(repo, content)
            registry.register("churn", "models/churn.pkl")
        registry.promote("churn", "v1.0.0", "production")
        registry.promote("churn", "v1.1.0", "production")
        registry.deprecate("churn", "v1.1.0")  # production goes back to v1.0.0
        registry.deprecate("churn")  # no stage is held while the model is deprecated
        write_model(repo, "d")
        registry.register("churn", "models/churn.pkl")  # a later event revives it
        registry.promote("churn", "v1.3.0", "staging")
    spans = [
        (s.stage, s.version, s.how, s.ended, s.until is None)
        for s in registry.stage_timeline("churn")
    ]
    assert spans == [
        ("production", "v1.0.0", "promote", "replaced", False),
        ("production", "v1.1.0", "promote", "deregister", False),
        ("production", "v1.0.0", "handback", "deprecate", False),
        ("production", "v1.0.0", "revive", None, True),
        ("staging", "v1.3.0", "promote", None, True),
    ]
    assert registry.which("churn", "production").version == "v1.0.0"
    everyone = registry.stage_timeline()
    assert [(s.stage, s.version) for s in everyone] == [(a, b) for a, b, *_ in spans]


def test_site_by_url_shows_what_the_clone_shows(story: Story, tmp_path: Path) -> None:
    bare = tmp_path / "registry.git"
    git(tmp_path, "clone", "-q", "--bare", str(story.repo), str(bare))
    out = tmp_path / "by-url"
    proc = modelreg(tmp_path, "site", "-o", str(out), "--repo", bare.as_uri())
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    ours = {p.relative_to(story.site) for p in story.site.rglob("index.html")}
    assert {p.relative_to(out) for p in out.rglob("index.html")} == ours
    for rel in ("index.html", "models/churn/index.html"):
        assert Page((out / rel).read_text()).text == Page((story.site / rel).read_text()).text


def test_an_inlined_script_cannot_end_its_element() -> None:
    source = 'var a = "</script><b>"; /* </SCRIPT > */'
    inlined = html.inlinable(source)
    assert "</script" not in inlined.lower()
    assert inlined == 'var a = "<\\/script><b>"; /* <\\/SCRIPT > */'

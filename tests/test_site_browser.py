"""The site in a real browser: Debian's headless Chromium driven by Selenium, against the
static output opened from ``file://`` and against the ``ui`` server on 127.0.0.1.

Long tier (``make test-all``): a missing Chromium, chromedriver or Selenium is a skip, which
MODELREG_NO_SKIPS=1 (CI) turns into a failure.  Every page visited is also checked, through
Chromium's performance log, to have made no request beyond ``file://`` or the server.
Screenshots land in the test's temporary folder (the path is printed); with
MODELREG_README_SCREENSHOT=1 the model page's also replaces docs/img/model-page.png.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import isolated, modelreg
from tests.site_story import story_repo

from modelreg import Registry
from modelreg.site import html
from modelreg.site.build import build_site
from modelreg.site.server import make_server

pytestmark = pytest.mark.long

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

# Used only when this modelreg has no search grammar yet (src/modelreg/assets/search.js, the
# one `modelreg search` shares): enough of it (`stage=S`, anything else an error) to prove the
# page's wiring.  With the real file present the real grammar runs, and the same assertions
# hold.
STAND_IN_SEARCH_JS = """
function modelregSearch(expr, rows) {
  var m = /^stage=([A-Za-z0-9_-]+)$/.exec(expr.trim());
  if (!m) { throw new Error("bad term '" + expr + "' (test stand-in grammar)"); }
  return rows.filter(function (r) { return r.stages.indexOf(m[1]) >= 0; });
}
"""


@pytest.fixture(scope="module")
def webdriver_() -> Iterator[Any]:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip("Chromium is not installed: apt-get install chromium chromium-driver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed: pip install -e '.[test]'")
    profile = Path(tempfile.mkdtemp(prefix="modelreg-chromium-"))
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1280,1000",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    # The driver given explicitly: Selenium Manager would otherwise try to download one.
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


class Story:
    def __init__(self, repo: Path, site: Path) -> None:
        self.repo = repo
        self.site = site


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    home = tmp_path_factory.mktemp("home")
    with isolated(home), pytest.MonkeyPatch.context() as mp:
        repo = story_repo(tmp_path_factory)
        if html.search_script() is None:
            mp.setattr(html, "search_script", lambda: STAND_IN_SEARCH_JS)
        site = repo.parent / "site"
        build_site(Registry(repo), site)
        yield Story(repo, site)


@pytest.fixture(scope="module")
def ui_root(story: Story) -> Iterator[str]:
    """``modelreg ui``'s server (the same object the command runs), on a free port."""
    server = make_server(Registry(story.repo), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("screenshots")
    print(f"\nscreenshots: {folder}")
    return folder


def _requests(driver: Any) -> list[str]:
    """Every URL the browser requested since the last call (its performance log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def _wait_for(driver: Any, condition: Any) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, 20).until(condition)


def _shoot(driver: Any, folder: Path, name: str) -> Path:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(int(height) + 40, 6000))
    path = folder / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 1000)
    return path


@pytest.mark.parametrize("where", ["file", "ui"])
def test_a_person_browses_the_registry(
    webdriver_: Any, story: Story, ui_root: str, shots: Path, where: str
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    d = webdriver_
    root = story.site.as_uri() + "/" if where == "file" else ui_root
    allowed = "file://" if where == "file" else ui_root
    _requests(d)

    # The overview: a row per model, each stage's holder.
    d.get(root + "index.html")
    assert d.title == "Model registry"
    rows = d.find_elements(By.CSS_SELECTOR, "#board tbody tr")
    assert [r.get_attribute("data-model") for r in rows] == [
        "churn",
        "nlp/intent:classifier",
        "team/fraud",
    ]
    _shoot(d, shots, f"{where}-overview")
    filter_box = d.find_element(By.ID, "board-filter")
    filter_box.send_keys("fraud")
    visible = [r.get_attribute("data-model") for r in rows if r.is_displayed()]
    assert visible == ["team/fraud"]
    filter_box.clear()
    filter_box.send_keys(" ")  # an input event with nothing to match: every row again

    # Follow a model: one point per version on each trend plot, production's holder marked.
    d.find_element(By.CSS_SELECTOR, '#board a[href$="models/churn/index.html"]').click()
    _wait_for(d, lambda drv: drv.current_url.endswith("models/churn/index.html"))
    points = d.find_elements(By.CSS_SELECTOR, 'svg.trend[data-metric="accuracy"] circle.pt')
    assert len(points) == 10
    assert [p.get_attribute("data-version") for p in points][0] == "v1.0.0"
    holder = d.find_element(
        By.CSS_SELECTOR, 'svg.trend[data-metric="accuracy"] circle.holder[data-stage="production"]'
    )
    production = modelreg(story.repo, "which", "churn", "production").stdout.strip()
    assert holder.get_attribute("data-version") == production == "v1.7.0"
    assert d.execute_script("return window.pwned === undefined")  # the description is text
    assert "<script>window.pwned" in d.find_element(By.TAG_NAME, "main").text
    _shoot(d, shots, f"{where}-model-page")

    # The versions table sorts by a metric, numerically.
    header = d.find_element(By.XPATH, '//table[@id="versions"]//th[text()="accuracy"]')
    header.click()
    shown = [
        float(c.text)
        for c in d.find_elements(By.CSS_SELECTOR, "#versions tbody tr td:nth-child(5)")
    ]
    assert shown == sorted(shown) and len(shown) == 10

    # Open a version.
    d.find_element(By.CSS_SELECTOR, '#versions a[href$="-/v1.8.0/index.html"]').click()
    _wait_for(d, lambda drv: drv.current_url.endswith("-/v1.8.0/index.html"))
    assert d.find_element(By.ID, "get-line").text == "modelreg get churn@v1.8.0"
    assert "churn@v1.8.0" in d.find_element(By.ID, "record").text
    _shoot(d, shots, f"{where}-version-page")

    # Compare two versions with the model page's form: what `modelreg compare` says.
    d.back()
    _wait_for(d, lambda drv: drv.current_url.endswith("models/churn/index.html"))
    form = d.find_element(By.ID, "compare")
    Select(form.find_element(By.NAME, "a")).select_by_value("v1.7.0")
    Select(form.find_element(By.NAME, "b")).select_by_value("v1.8.0")
    form.find_element(By.TAG_NAME, "button").click()
    _wait_for(
        d,
        lambda drv: (
            "v1.8.0" in drv.current_url and "models/churn/index.html" not in drv.current_url
        ),
    )
    cli = modelreg(story.repo, "compare", "churn", "v1.7.0", "v1.8.0").stdout
    expected = dict(re.findall(r"^(?:metric|param)\s+(\S+)\s+\S+\s+\S+\s+(\S+)$", cli, re.M))
    if where == "file":
        assert d.current_url.endswith("-/v1.8.0/index.html#from-v1.7.0")
        scope = d.find_element(By.ID, "from-v1.7.0")
    else:
        assert d.current_url.endswith("-/v1.7.0..v1.8.0/index.html")
        scope = d.find_element(By.ID, "deltas")
    shown_deltas = {
        row.get_attribute("data-key"): row.find_element(By.CSS_SELECTOR, "td.delta").text
        for row in scope.find_elements(By.CSS_SELECTOR, "tr[data-key]")
    }
    assert shown_deltas == expected and len(expected) == 4
    _shoot(d, shots, f"{where}-compare")
    if where == "file":
        # A pair the static site does not hold: the form says how to get it.
        d.get(root + "models/churn/index.html")
        form = d.find_element(By.ID, "compare")
        Select(form.find_element(By.NAME, "a")).select_by_value("v1.0.0")
        Select(form.find_element(By.NAME, "b")).select_by_value("v1.5.0")
        form.find_element(By.TAG_NAME, "button").click()
        note = form.find_element(By.CLASS_NAME, "compare-note").text
        assert "modelreg compare churn v1.0.0 v1.5.0" in note

    # Search from the overview: the grammar runs in the page, over the rows in the page.
    d.get(root + "index.html")
    box = d.find_element(By.ID, "search-q")
    box.send_keys("stage=production")
    d.find_element(By.CSS_SELECTOR, "#search-form button").click()
    _wait_for(d, lambda drv: "search/index.html?q=" in drv.current_url)
    _wait_for(d, lambda drv: drv.find_element(By.ID, "search-count").text != "")
    found = {
        (r.get_attribute("data-model"), r.get_attribute("data-version"))
        for r in d.find_elements(By.CSS_SELECTOR, "#results tbody tr")
    }
    assert found == {("churn", "v1.7.0"), ("nlp/intent:classifier", "v1.1.0")}
    link = d.find_element(By.CSS_SELECTOR, '#results a[href$="-/v1.1.0/index.html"]')
    assert "nlp/intent%3Aclassifier" in link.get_attribute("href")
    _shoot(d, shots, f"{where}-search")
    query = d.find_element(By.ID, "q")
    query.clear()
    query.send_keys("accuracy >=")
    d.find_element(By.CSS_SELECTOR, "#search-page-form button").click()
    _wait_for(d, lambda drv: drv.find_element(By.ID, "search-error").text != "")
    assert d.find_elements(By.CSS_SELECTOR, "#results tbody tr") == []

    # Nothing left the machine: every request went to file:// or to the server itself.
    requests = _requests(d)
    assert requests, "the performance log records the pages' requests"
    leaving = [u for u in requests if not u.startswith(allowed)]
    assert leaving == []

    if where == "ui" and os.environ.get("MODELREG_README_SCREENSHOT") == "1":
        # The top of the model page (holders, trend plots, timeline) at a laptop's size.
        d.get(root + "models/churn/index.html")
        d.set_window_size(1280, 1180)
        d.save_screenshot(str(ROOT / "docs" / "img" / "model-page.png"))

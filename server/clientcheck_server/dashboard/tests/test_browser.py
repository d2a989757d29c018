"""The dashboard in a real browser: Debian's Chromium through Selenium, against a real clientcheck-server
with a demo fleet shipped by agents' requests (one host named and reporting like an attacker). Signing in,
counts against the store and the API, filters, a host and a rule, the CSV export against the API, secrets
made and revoked, a viewer refused; every page at phone and laptop widths without sideways scrolling or
overflowing boxes, every page through axe-core's accessibility check."""

from __future__ import annotations

import csv
import io
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest

import browsertest
from servertest import Agent, Server, api, cli

pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
def site():
    work = Path(tempfile.mkdtemp(prefix="clientcheck-browser-"))
    server = Server(work / "data", workers=2)
    try:
        server.wait_ready()
        browsertest.demo_fleet(server)
        browsertest.backfill_trend(work / "data" / "clientcheck.sqlite3")
        server.token = cli(server.data, "token", "create").stdout.strip()
        yield server
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(site, tmp_path_factory):
    driver = browsertest.chrome(tmp_path_factory.mktemp("profile"))
    try:
        browsertest.sign_in(driver, site.url, "admin", browsertest.ADMIN_PASSWORD)
        yield driver
    finally:
        driver.quit()


def _by(name):
    from selenium.webdriver.common.by import By

    return getattr(By, name)


def _count(driver, name: str) -> int:
    return int(driver.find_element(_by("CSS_SELECTOR"), f'[data-count="{name}"]').text)


def _store(site, sql: str) -> int:
    with sqlite3.connect(site.data / "clientcheck.sqlite3") as db:
        return int(db.execute(sql).fetchone()[0])


def _fetch(driver, path: str) -> str:
    """A URL as this signed-in browser gets it (its cookies), from inside the page."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {credentials: 'same-origin'}).then(r => r.text()).then(done, e => done('ERR ' + e));",
        path,
    )


def test_the_overview_counts_match_the_store_and_the_api(site, browser):
    browser.get(site.url + "/")
    summary = api(site, site.token, "/api/v1/summary").json()
    active = "FROM fleet_host WHERE archived_at IS NULL"
    assert _count(browser, "hosts") == summary["hosts"] == _store(site, f"SELECT count(*) {active}") == 19
    assert (
        _count(browser, "owed")
        == summary["by_status"]["owed"]
        == _store(site, f"SELECT count(*) {active} AND status='owed'")
    )
    assert _count(browser, "due") == summary["by_status"]["due"]
    assert _count(browser, "stale") == summary["stale"] == 0
    assert (
        browser.find_element(_by("CSS_SELECTOR"), '[data-count="compliant"]').text
        == f"{summary['compliant_percent']:.1f} %"
    )
    assert browser.find_element(_by("CSS_SELECTOR"), "svg.chart polygon") is not None


def test_filter_hosts_then_open_a_host_and_a_rule(site, browser):
    browser.get(site.url + "/hosts")
    browser.find_element(_by("CSS_SELECTOR"), 'input[name="status"][value="owed"]').click()
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element(_by("NAME"), "group")).select_by_visible_text("Sales")
    browsertest.follow(browser, browser.find_element(_by("CSS_SELECTOR"), "form.filters button[type=submit]"))
    assert "status=owed" in browser.current_url and "group=Sales" in browser.current_url
    expected = api(site, site.token, "/api/v1/hosts?status=owed&group=Sales").json()
    assert _count(browser, "matches") == expected["count"] > 0
    shown = [a.text for a in browser.find_elements(_by("CSS_SELECTOR"), "table.hosts tbody td:first-child a")]
    assert sorted(shown) == sorted(h["hostname"] for h in expected["results"])
    browsertest.follow(browser, browser.find_element(_by("LINK_TEXT"), shown[0]))
    assert browser.find_element(_by("CSS_SELECTOR"), "h1").text == shown[0]
    assert "Updates owed" in browser.find_element(_by("CSS_SELECTOR"), ".agent-report").text
    browsertest.follow(browser, browser.find_element(_by("LINK_TEXT"), "chrome"))
    assert browser.find_element(_by("CSS_SELECTOR"), "h1").text == "Rule chrome"
    owing = api(site, site.token, "/api/v1/rules/chrome/hosts?status=owed,unsupported,restart,due").json()["count"]
    assert _count(browser, "matches") == owing


def test_the_csv_export_is_the_apis(site, browser):
    browser.get(site.url + "/hosts?status=owed")
    link = browser.find_element(_by("PARTIAL_LINK_TEXT"), "CSV").get_attribute("href")
    mine = _fetch(browser, link)
    theirs = api(site, site.token, "/api/v1/hosts.csv?status=owed").body.decode()
    assert mine == theirs
    rows = list(csv.DictReader(io.StringIO(mine)))
    assert len(rows) == api(site, site.token, "/api/v1/hosts?status=owed").json()["count"] > 0


def test_an_admin_makes_and_revokes_an_enrollment_secret(site, browser):
    browser.get(site.url + "/secrets")
    browser.find_element(_by("ID"), "id_name").send_keys("browser test")
    browser.find_element(_by("ID"), "id_group").send_keys("Browser")
    browsertest.follow(browser, browser.find_element(_by("CSS_SELECTOR"), "form.card button[type=submit]"))
    value = browser.find_element(_by("ID"), "shown-value").text
    assert value.startswith("ccs_")
    agent = Agent(site.url, "made-by-browser")
    assert agent.enroll(value).status == 200
    browser.get(site.url + "/secrets")
    assert value not in browser.page_source  # shown once
    row = next(r for r in browser.find_elements(_by("CSS_SELECTOR"), "tbody tr") if "browser test" in r.text)
    browsertest.follow(browser, row.find_element(_by("LINK_TEXT"), "Revoke"))
    browsertest.follow(browser, browser.find_element(_by("CSS_SELECTOR"), "form.confirm button[type=submit]"))
    assert Agent(site.url, "after-revoke").enroll(value).status == 401


def test_a_viewer_is_refused_and_sees_only_their_group(site, tmp_path):
    driver = browsertest.chrome(tmp_path / "viewer")
    try:
        browsertest.sign_in(driver, site.url, "sales-viewer", browsertest.VIEWER_PASSWORD)
        driver.get(site.url + "/")
        assert _count(driver, "hosts") == api(site, site.token, "/api/v1/hosts?group=Sales").json()["count"]
        driver.get(site.url + "/secrets")
        assert driver.find_element(_by("CSS_SELECTOR"), "h1").text == "Not allowed"
        assert "Secrets" not in driver.find_element(_by("CSS_SELECTOR"), "header").text
        lab = api(site, site.token, "/api/v1/hosts?group=Lab").json()["results"][0]["id"]
        driver.get(site.url + f"/hosts/{lab}")
        assert driver.find_element(_by("CSS_SELECTOR"), "h1").text == "Not found"
    finally:
        driver.quit()


def _pages(site) -> list[str]:
    hostile = api(site, site.token, "/api/v1/hosts?search=onerror").json()["results"][0]["id"]
    return [
        "/",
        "/?days=90",
        "/hosts",
        "/hosts?status=owed&sort=owed_since",
        f"/hosts/{hostile}",
        "/hosts/2",
        "/rules",
        "/rules/chrome",
        "/secrets",
        "/tokens",
        "/users",
        "/users/new",
        "/alerts",
        "/settings",
        "/audit",
        "/account",
        f"/hosts/{hostile}/delete",
    ]


@pytest.mark.parametrize("size", [*browsertest.PHONES, browsertest.LAPTOP], ids=lambda s: f"{s[0]}px")
def test_no_page_scrolls_sideways_or_overflows_its_boxes(site, browser, size):
    browsertest.viewport(browser, *size)
    problems = {}
    try:
        for path in _pages(site):
            browser.get(site.url + path)
            found = browsertest.layout_problems(browser)
            if found:
                problems[path] = found
    finally:
        browsertest.viewport(browser, *browsertest.LAPTOP)
    assert problems == {}


def test_hostile_host_data_runs_nothing_in_the_browser(site, browser):
    from selenium.common.exceptions import NoAlertPresentException

    for path in _pages(site)[:8]:
        browser.get(site.url + path)
        with pytest.raises(NoAlertPresentException):
            browser.switch_to.alert.text  # noqa: B018 - an alert() of the attacker's would be open
        assert browser.execute_script("return document.querySelectorAll('img, script:not([src])').length") == 0


def test_every_page_passes_the_accessibility_check(site, browser):
    violations = {}
    for path in [*_pages(site), "/signin"]:
        browser.get(site.url + path)
        found = browsertest.axe_violations(browser)
        if found:
            violations[path] = found
    assert violations == {}


def test_the_layout_check_sees_what_overflows(browser):
    browsertest.viewport(browser, 390, 844)
    try:
        browser.get(
            "data:text/html,<meta name='viewport' content='width=device-width'><p style='width:600px'>wide</p>"
            "<div style='width:100px'><pre>" + "x" * 80 + "</pre></div>"
        )
        problems = browsertest.layout_problems(browser)
    finally:
        browsertest.viewport(browser, *browsertest.LAPTOP)
    assert any("page is" in p for p in problems)
    assert any(p.startswith("p spans") for p in problems)
    assert any("div's content is" in p for p in problems)


def test_the_accessibility_check_sees_what_is_wrong(browser):
    browser.get("data:text/html,<html><body><input type='text'><a href='/x'></a></body></html>")
    found = browsertest.axe_violations(browser, impacts=("minor", "moderate", "serious", "critical"))
    assert any(v.startswith("label ") for v in found) and any(v.startswith("link-name ") for v in found)

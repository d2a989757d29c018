"""What the dashboard's browser tests and the screenshot script share: Debian's Chromium driven through
Selenium (never a downloaded browser), a demo fleet shipped to a real server by real agents' requests,
checks that a page fits its viewport, and axe-core's accessibility check injected into a page.

axe-core comes from npm, pinned and checked against the integrity npm publishes for it, unpacked once into
server/.test-cache (ignored by git); npm's own cache for the download is a temporary folder, never the
caller's home.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import math
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import uuid
from pathlib import Path
from typing import Any

from servertest import SERVER, Agent, Server, cli, missing, real_report, with_finding

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
AXE_VERSION = "4.11.4"
AXE_INTEGRITY = "sha512-KunSNx+TVpkAw/6ULfhnx+HWRecjqZGTOyquAoWHYLRSdK1tB5Ihce1ZW+UY3fj33bYAFWPu7W/GRSmmrCGuxA=="
CACHE = SERVER / ".test-cache"
PHONES = ((390, 844), (320, 640))
LAPTOP = (1366, 860)
ADMIN_PASSWORD = "correct horse battery staple"  # noqa: S105 - a test account's, on a throw-away server
VIEWER_PASSWORD = "viewer sees only sales hosts"  # noqa: S105


# ------------------------------------------------------------------------------------------------ browser


def chrome(profile: Path, width: int = LAPTOP[0], height: int = LAPTOP[1]) -> Any:
    """A headless Chromium with a fresh profile, driven by Debian's chromedriver."""
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        missing("Debian's chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing("selenium is not installed: pip install './server[test]'")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
        "--lang=en-GB",
    ):
        options.add_argument(flag)
    # Selenium Manager would look for (and download) a browser or a driver: the paths are given instead.
    service = Service(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    viewport(driver, width, height)
    return driver


def viewport(driver: Any, width: int, height: int) -> None:
    """Emulate a screen of this size (a phone's with a touch screen's viewport rules below 500 px)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500},
    )


def sign_in(driver: Any, url: str, username: str, password: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(url + "/signin")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    follow(driver, driver.find_element(By.CSS_SELECTOR, "form[action='/signin'] button[type=submit]"))


def follow(driver: Any, element: Any, timeout: float = 15.0) -> None:
    """Click a link or a form's button and return once the page it leads to has loaded.

    WebDriver's click returns when the click is dispatched, not when a form's POST and its redirect have
    answered: on a busy machine the next find_element would search the old page.
    """
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    old_page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    wait = WebDriverWait(driver, timeout)
    wait.until(expected_conditions.staleness_of(old_page))
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")


# What "fits" means, asserted on every page: the page does not scroll sideways, and no element's content
# overflows its box (a box that lets its content out, overflow visible, with content wider than itself),
# nor sticks out of the viewport.
_LAYOUT = r"""
const width = document.documentElement.clientWidth;
const problems = [];
if (document.documentElement.scrollWidth > width) {
  problems.push(`the page is ${document.documentElement.scrollWidth} px wide in a ${width} px viewport`);
}
// Inside a box of at most one pixel that clips (the visually-hidden pattern: for screen readers only).
const hidden = el => {
  for (let p = el; p && p !== document.body; p = p.parentElement) {
    const s = getComputedStyle(p);
    if (s.overflow === 'hidden' && p.getBoundingClientRect().width <= 1) return true;
  }
  return false;
};
for (const el of document.body.querySelectorAll('*')) {
  if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;
  const style = getComputedStyle(el);
  if (style.display === 'none' || style.visibility === 'hidden' || hidden(el)) continue;
  const rect = el.getBoundingClientRect();
  if (rect.width === 0 && rect.height === 0) continue;
  const classes = typeof el.className === 'string' && el.className.trim() ? el.className.trim().split(/\s+/) : [];
  const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + classes.map(c => '.' + c).join('');
  if (rect.right > width + 1 || rect.left < -1) {
    problems.push(`${name} spans ${Math.round(rect.left)}..${Math.round(rect.right)} px, outside 0..${width}`);
  } else if (style.display !== 'inline' && style.overflowX === 'visible'
             && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0) {
    problems.push(`${name}'s content is ${el.scrollWidth} px wide in its ${el.clientWidth} px box`);
  }
}
return problems.slice(0, 20);
"""


def layout_problems(driver: Any) -> list[str]:
    problems: list[str] = driver.execute_script(_LAYOUT)
    return problems


# --------------------------------------------------------------------------------------------- axe-core


def axe_source() -> str:
    """axe.min.js of the pinned axe-core, fetched with `npm pack` once and checked against its integrity."""
    target = CACHE / f"axe-core-{AXE_VERSION}" / "axe.min.js"
    if target.exists():
        return target.read_text(encoding="utf-8")
    npm = shutil.which("npm")
    if npm is None:
        missing("npm is not installed (apt-get install npm): the accessibility check injects axe-core from npm")
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(
            [npm, "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", folder, "--cache", f"{folder}/npm-cache"],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=folder,
            env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": folder, "npm_config_update_notifier": "false"},
            check=False,
        )
        tarballs = list(Path(folder).glob("axe-core-*.tgz"))
        if done.returncode != 0 or not tarballs:
            missing(f"npm pack axe-core@{AXE_VERSION} failed: {done.stderr.strip()[-300:]}")
        data = tarballs[0].read_bytes()
        algorithm, _, expected = AXE_INTEGRITY.partition("-")
        if base64.b64encode(hashlib.new(algorithm, data).digest()).decode() != expected:
            raise AssertionError(f"axe-core {AXE_VERSION} from npm does not match its published integrity")
        with tarfile.open(tarballs[0]) as archive:
            member = archive.extractfile("package/axe.min.js")
            assert member is not None
            source = member.read().decode("utf-8")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".tmp")
    partial.write_text(source, encoding="utf-8")
    partial.replace(target)
    return source


def axe_violations(driver: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """axe-core's violations of these impacts on the page now shown (WCAG 2.x A and AA rules and best
    practices), one line each with the elements concerned."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(axe_source())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations), e => done(String(e)));"
    )
    if isinstance(result, str):
        raise AssertionError(f"axe-core failed: {result}")
    return [
        f"{v['id']} ({v['impact']}): {v['help']}: " + "; ".join(n["target"][0] for n in v["nodes"][:5])
        for v in result
        if v.get("impact") in impacts
    ]


# ------------------------------------------------------------------------------------------ a demo fleet

HOSTILE_NAME = '"><img src=x onerror=alert(1)><script>alert(2)</script>'


def hostile_report() -> dict[str, Any]:
    """A valid report whose product names, messages, paths and links carry markup, script links and
    terminal escapes: all of it must show as inert text."""
    report = real_report()
    for finding in report["findings"]:
        finding["name"] = f"<script>alert('{finding['rule']}')</script>"
        finding["message"] = '"><img src=x onerror=alert(3)> \x1b[31mRED\x1b[0m'
        finding["url"] = "javascript:alert(4)"
        finding["path"] = "/opt/<b>bold</b>/\x1b]0;title\x07"
    for item in report["software"]:
        item["name"] = "<img src=x onerror=alert(5)>"
        item["path"] = "javascript:alert(6)"
    return report


def _mixed(index: int) -> dict[str, Any]:
    report = real_report()
    # Versions as the vendors number them, at or past what the bundled rules require (Chrome 156, ESR 153).
    if index % 3 == 1:  # up to date
        report = with_finding(report, "chrome", status="ok", installed="156.0.7632.45")
        report = with_finding(report, "firefox-esr", status="ok", installed="153.2.0esr")
    elif index % 3 == 2:  # due within its grace, the rest fixed
        deadline = (dt.date.today() + dt.timedelta(days=10)).isoformat()
        report = with_finding(report, "chrome", status="due", installed="155.0.7498.88", deadline=deadline)
        report = with_finding(report, "firefox-esr", status="ok", installed="153.2.0esr")
    return report


def demo_fleet(server: Server, *, hosts: int = 18) -> dict[str, Any]:
    """Agents of three groups (and none) ship real reports to ``server``; one host is named and reports
    like an attacker. An admin and a viewer of group Sales are made; housekeeping runs once."""
    data, database = server.data, server.database
    secrets = {None: server.secret()}
    for group in ("Sales", "Lab", "Berlin office"):
        secrets[group] = cli(data, "secret", "create", "--group", group, database=database).stdout.strip()
    names = []
    for index in range(hosts):
        group = (None, "Sales", "Lab", "Berlin office")[index % 4]
        name = f"{(group or 'ws').lower().replace(' ', '-')}-{index:03d}"
        agent = Agent(server.url, name, machine=f"demo-{index}")
        agent.agent_id = str(uuid.UUID(int=index + 1, version=4))
        assert agent.enroll(secrets[group]).status == 200
        assert agent.ship(_mixed(index)).status == 202
        names.append(name)
    evil = Agent(server.url, HOSTILE_NAME, machine="evil")
    assert evil.enroll(secrets["Lab"]).status == 200
    assert evil.ship(hostile_report()).status == 202
    cli(data, "admin", "create", "admin", "--password-file", "-", input=ADMIN_PASSWORD + "\n", database=database)
    cli(
        data,
        "admin",
        "create",
        "sales-viewer",
        "--role",
        "viewer",
        "--group",
        "Sales",
        "--password-file",
        "-",
        input=VIEWER_PASSWORD + "\n",
        database=database,
    )
    cli(data, "housekeeping", database=database)
    return {"names": names, "hostile": HOSTILE_NAME}


def backfill_trend(sqlite_file: Path, days: int = 90) -> None:
    """Daily rollups for the days before today, made up from today's (housekeeping made it): a fleet that
    grew and got better, so the trend chart has something to show. SQLite only (demo and tests)."""
    connection = sqlite3.connect(sqlite_file)
    try:
        rows = connection.execute(
            "SELECT day, group_id, hosts, reporting, stale, archived, ok, due, owed, unknown, none, at"
            " FROM fleet_dailyrollup ORDER BY day DESC"
        ).fetchall()
        today = max(row[0] for row in rows)
        for row in [r for r in rows if r[0] == today]:
            day0 = dt.date.fromisoformat(today)
            for back in range(1, days):
                # Fewer hosts and more of them owing further back, with a weekly wave.
                age = back / days
                wave = 1 + 0.25 * math.sin(back / 1.1)
                hosts = max(0, round(row[2] * (1 - 0.35 * age)))
                owed = min(hosts, round((row[8] + row[6] * 0.8 * age) * (1 + 1.2 * age) * wave))
                due = min(hosts - owed, round(row[7] * (1 + 0.6 * math.cos(back / 2.3))))
                none = min(hosts - owed - due, row[10])
                unknown = min(hosts - owed - due - none, row[9])
                ok = hosts - owed - due - none - unknown
                connection.execute(
                    "INSERT INTO fleet_dailyrollup (day, group_id, hosts, reporting, stale, archived, ok, due, owed,"
                    " unknown, none, at) VALUES (?, ?, ?, ?, 0, 0, ?, ?, ?, ?, ?, ?)",
                    [
                        (day0 - dt.timedelta(days=back)).isoformat(),
                        row[1],
                        hosts,
                        hosts,
                        ok,
                        due,
                        owed,
                        unknown,
                        none,
                        row[11],
                    ],
                )
        rules = connection.execute(
            "SELECT group_id, rule, product, at, ok, due, owed, unsupported, restart, unknown FROM fleet_rulerollup"
            " WHERE day = ?",
            [today],
        ).fetchall()
        for group, rule, product, at, ok, due, owed, unsupported, restart, unknown in rules:
            hosts = ok + due + owed + unsupported + restart + unknown
            for back in range(1, days):
                age = back / days
                wave = 1 + 0.25 * math.sin(back / 1.1 + len(rule))
                now_owed = min(hosts, round((owed + unsupported + ok * 0.5 * age) * (1 + age) * wave))
                now_due = min(hosts - now_owed, round(due * (1 + 0.6 * math.cos(back / 2.3))))
                connection.execute(
                    "INSERT INTO fleet_rulerollup (day, group_id, rule, product, at, ok, due, owed, unsupported,"
                    " restart, unknown) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?)",
                    [
                        (dt.date.fromisoformat(today) - dt.timedelta(days=back)).isoformat(),
                        group,
                        rule,
                        product,
                        at,
                        max(0, hosts - now_owed - now_due - unknown),
                        now_due,
                        now_owed,
                        unknown,
                    ],
                )
        connection.commit()
    finally:
        connection.close()


def write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=1, default=str), encoding="utf-8")

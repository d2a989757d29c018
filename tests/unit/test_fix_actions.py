"""The action that starts an update, chosen by product and OS from the catalog (never from the rule file),
and how the notice and the report offer it: settings pages on Windows and macOS, the software center on
Linux for what a package manager installed, a browser's own update page for a copy that updates itself, the
vendor's page elsewhere, the download page for what is out of support."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from clientcheck.catalog import load_catalog
from clientcheck.evaluate import evaluate
from clientcheck.login import notice
from clientcheck.model import FixAction, Installation, Inventory, OSInfo, Report, Rule, RuleSet, RulesInfo
from clientcheck.remedy import UPDATER_NAMES, fix_for
from clientcheck.render import html
from clientcheck.render.json import render_report
from clientcheck.version import Version
from conftest import REPO

CATALOG = load_catalog()
DEBIAN = OSInfo("linux", "debian", "Debian GNU/Linux", Version("12.8"))
WINDOWS = OSInfo("windows", "windows", "Windows 11 Pro", Version("10.0.26100.2314"))
MACOS = OSInfo("macos", "macos", "macOS Sequoia", Version("15.1"))
CENTERS = ("gnome-software", "discover")
MACOS_UPDATES = "x-apple.systempreferences:com.apple.preferences.softwareupdate"


def install(product: str, name: str, source: str | None, path: str | None = None, package: str | None = None):
    category = CATALOG.products[product].category
    return Installation(product, category, name, Version("100.0"), source=source, path=path, package=package)


@pytest.mark.parametrize(
    ("installation", "os_info", "centers", "expected"),
    [
        # The OS itself, by its own updater.
        (None, WINDOWS, (), FixAction("Open {name}", "Windows Update", uri="ms-settings:windowsupdate")),
        (
            None,
            MACOS,
            (),
            FixAction(
                "Open {name}", "Software Update", uri="x-apple.systempreferences:com.apple.preferences.softwareupdate"
            ),
        ),
        (None, DEBIAN, CENTERS, FixAction("Update with {name}", "Software", argv=("gnome-software", "--mode=updates"))),
        (None, DEBIAN, ("discover",),
         FixAction("Update with {name}", "Discover", argv=("plasma-discover", "--mode", "update"))),
        (None, DEBIAN, (), None),  # no software center: the "How" line's command is the way
        # What a package manager, snap or flatpak installed on Linux: the software center.
        (install("firefox", "Firefox ESR", "dpkg", "/usr/lib/firefox-esr/firefox-esr", "firefox-esr"), DEBIAN, CENTERS,
         FixAction("Update with {name}", "Software", argv=("gnome-software", "--mode=updates"))),
        (install("chromium", "Chromium", "snap", "/snap/bin/chromium", "chromium"), DEBIAN, CENTERS,
         FixAction("Update with {name}", "Software", argv=("gnome-software", "--mode=updates"))),
        (install("evince", "Evince", "flatpak"), DEBIAN, (), None),
        # A browser that updates itself, on Linux: its own update page, in it.
        (install("firefox", "Firefox", "application.ini", "/opt/firefox/firefox"), DEBIAN, CENTERS,
         FixAction("Update {name}", "Firefox", argv=("/opt/firefox/firefox", "about:preferences#general"))),
        (install("chrome", "Google Chrome", None, "/opt/google/chrome/chrome"), DEBIAN, (),
         FixAction("Update {name}", "Google Chrome", argv=("/opt/google/chrome/chrome", "chrome://settings/help"))),
        # Windows and macOS: a button can only open a URI: the vendor's page on updating it.
        (install("chrome", "Google Chrome", "registry", "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe"),
         WINDOWS, (), FixAction("How to update {name}", "Google Chrome", uri="https://support.google.com/chrome/answer/95414")),
        (install("edge", "Microsoft Edge", "registry"), WINDOWS, (),
         FixAction("How to update {name}", "Microsoft Edge", uri="https://www.microsoft.com/edge/download")),
        (install("acrobat-reader", "Adobe Acrobat Reader", "registry"), WINDOWS, (),
         FixAction("How to update {name}", "Adobe Acrobat Reader", uri="https://get.adobe.com/reader/")),
        # What the OS's own updater updates.
        (install("safari", "Safari", "Info.plist"), MACOS, (),
         FixAction("Open {name}", "Software Update", uri=MACOS_UPDATES)),
        # Nothing known: nothing offered.
        (install("nitro", "Nitro PDF Pro", "registry"), WINDOWS, (), None),
    ],
)  # fmt: skip
def test_the_action_by_product_and_os(installation, os_info, centers, expected):
    assert fix_for(installation, os_info, CATALOG, centers) == expected


def test_out_of_support_offers_the_download_page_or_the_os_upgrade():
    firefox = install("firefox", "Firefox ESR", "registry")
    assert fix_for(firefox, WINDOWS, CATALOG, new_release=True) == FixAction(
        "Download {name}", "Firefox ESR", uri="https://www.mozilla.org/firefox/new/"
    )
    assert fix_for(None, WINDOWS, CATALOG, new_release=True).uri == "ms-settings:windowsupdate"
    assert fix_for(None, DEBIAN, CATALOG, CENTERS, new_release=True) is None  # a new Debian release: the admin's
    # Debian's firefox-esr moves from one ESR line to the next through the archive: the software center,
    # never a download of a second Firefox beside the packaged one.
    packaged = install("firefox", "Firefox ESR", "dpkg", "/usr/lib/firefox-esr/firefox-esr", "firefox-esr")
    assert fix_for(packaged, DEBIAN, CATALOG, CENTERS, new_release=True) == FixAction(
        "Update with {name}", "Software", argv=("gnome-software", "--mode=updates")
    )
    assert fix_for(packaged, DEBIAN, CATALOG, (), new_release=True) is None  # no software center: the How line


def test_every_action_is_a_fixed_uri_or_a_catalog_program():
    # Every URI an action opens is one of the catalog's, of the kinds a link or a toast may open; every
    # program is a software center the catalog names, or a browser's own program found by inspection.
    document = json.loads((REPO / "agent" / "clientcheck" / "data" / "catalog.json").read_text())
    for product in document["products"].values():
        for key in ("help", "download"):
            url = product.get("update", {}).get(key)
            assert url is None or url.startswith("https://")
    for system in ("windows", "macos"):
        assert document["systems"][system]["uri"].startswith(("ms-settings:", "x-apple.systempreferences:"))
    names = {entry["name"] for key, entry in document["systems"].items() if key != "comment"}
    names |= {entry["name"] for key, entry in document["software_centers"].items() if key != "comment"}
    assert names <= set(UPDATER_NAMES)  # each is said in the person's language


def test_the_rule_file_has_no_say_in_the_action():
    # A rule that names its own URL (a phishing page, say) changes the "More" link, never the action.
    chrome = install("chrome", "Google Chrome", "registry")
    inventory = Inventory(WINDOWS, (chrome,))
    rule = Rule("chrome", ("chrome",), Version("200"), url="https://evil.example/update-now")
    ruleset = RuleSet("Evil", 1, dt.date(2026, 11, 1), dt.date(2027, 1, 1), (rule,))
    (finding,) = [f for f in evaluate(inventory, ruleset, dt.date(2026, 11, 25)) if f.product == "chrome"]
    assert finding.url == "https://evil.example/update-now"
    assert finding.fix == FixAction(
        "How to update {name}", "Google Chrome", uri="https://support.google.com/chrome/answer/95414"
    )


def _report(findings, language="en", centers=()) -> Report:
    rules = RulesInfo("bundled", 1, "0" * 64, "Test", dt.date(2026, 11, 1), dt.date(2027, 1, 31))
    return Report(
        dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.timezone.utc),
        Inventory(DEBIAN, software_centers=centers),
        tuple(findings),
        rules,
        language,
    )


def _judged(installations, rules, os_info=DEBIAN, centers=CENTERS, language="en", today=dt.date(2026, 12, 1)):
    ruleset = RuleSet("Test", 1, dt.date(2026, 11, 1), dt.date(2027, 1, 31), tuple(rules))
    inventory = Inventory(os_info, tuple(installations), software_centers=centers)
    rules_info = RulesInfo("bundled", 1, "0" * 64, "Test", ruleset.published, ruleset.expires)
    when = dt.datetime(today.year, today.month, today.day, 9, tzinfo=dt.timezone.utc)
    return Report(when, inventory, evaluate(inventory, ruleset, today, language), rules_info, language, today)


def test_the_notice_offers_the_actions_of_what_it_names_and_check_again():
    chromium = install("chromium", "Chromium", "dpkg", "/usr/bin/chromium", "chromium")
    firefox = install("firefox", "Firefox", "application.ini", "/opt/firefox/firefox")
    rules = [Rule("chromium", ("chromium",), Version("200")), Rule("firefox", ("firefox",), Version("200"))]
    report = _judged([chromium, firefox], rules, language="de")
    message = notice(report, None, ("/usr/bin/clientcheck", "login", "--force"))
    assert message is not None
    assert [(action.key, action.label, action.argv) for action in message.actions] == [
        ("fix-0", "Mit Software aktualisieren", ("gnome-software", "--mode=updates")),
        ("fix-1", "Firefox aktualisieren", ("/opt/firefox/firefox", "about:preferences#general")),
        ("recheck", "Erneut prüfen", ("/usr/bin/clientcheck", "login", "--force")),
    ]
    # Two findings the same software center updates: one button.
    other = install("evince", "Evince", "dpkg", "/usr/bin/evince", "evince")
    report = _judged([chromium, other], [rules[0], Rule("evince", ("evince",), Version("200"))])
    message = notice(report, None)
    assert [action.key for action in message.actions] == ["fix-0"]


def test_the_report_offers_a_link_where_a_link_can_start_it():
    chrome = install("chrome", "Google Chrome", "registry")
    report = _judged([chrome], [Rule("chrome", ("chrome",), Version("200"))], os_info=WINDOWS, language="fr")
    page = html.render_report(report)
    link = '<a href="https://support.google.com/chrome/answer/95414">Comment mettre à jour Google Chrome</a>'
    assert f'<p class="fix">{link}</p>' in page
    windows = _judged([], [Rule("windows", ("windows",), Version("10.0.99999"))], os_info=WINDOWS, language="it")
    assert '<p class="fix"><a href="ms-settings:windowsupdate">Apri Windows Update</a></p>' in html.render_report(
        windows
    )
    # A program cannot be started from a page: no button (the "How" line says what to do).
    linux = _judged(
        [install("chromium", "Chromium", "dpkg", "/usr/bin/chromium", "chromium")],
        [Rule("c", ("chromium",), Version("200"))],
    )
    assert 'class="fix"' not in html.render_report(linux).split("</style>")[1]
    # And the JSON report says what the action is, in the report's language, without a path.
    document = json.loads(
        render_report(
            _judged(
                [install("firefox", "Firefox", "application.ini", "/home/ana/firefox/firefox")],
                [Rule("firefox", ("firefox",), Version("200"))],
                language="nl",
            )
        )
    )
    assert document["findings"][0]["fix"] == {"label": "Firefox bijwerken", "uri": None, "program": "firefox"}


def test_stepped_warnings_decide_whether_and_how_loudly_the_notice_speaks():
    from clientcheck.model import Grace, Step

    steps = (Step(10, "notice"), Step(3, "warning"))
    rule = Rule("chromium", ("chromium",), Version("200"), grace=Grace(dt.date(2026, 12, 1), 14), steps=steps)
    chromium = install("chromium", "Chromium", "dpkg", "/usr/bin/chromium", "chromium")
    quiet = _judged([chromium], [rule], today=dt.date(2026, 12, 2))  # 13 days left: before the first step
    assert [(f.status, f.days_left, f.step) for f in quiet.findings] == [("due", 13, "quiet")]
    assert notice(quiet, None) is None  # in the reports only
    said = _judged([chromium], [rule], today=dt.date(2026, 12, 6), language="de")  # 9 days left: a notice
    message = notice(said, None)
    assert (message.title, message.urgent) == ("Bald fällige Updates auf diesem Computer", False)
    assert message.body.endswith("auf 200 aktualisieren, fällig ab 15. Dezember: noch 9 Tage")
    warned = _judged([chromium], [rule], today=dt.date(2026, 12, 13), language="de")  # 2 days left: a warning
    message = notice(warned, None)
    assert (message.title, message.urgent) == ("Updates auf diesem Computer bald fällig: noch 2 Tage", True)

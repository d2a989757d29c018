"""evaluate(): every status, and the rule features that narrow or soften a rule."""

from __future__ import annotations

import datetime as dt

import pytest

from clientcheck.evaluate import evaluate, pick_text
from clientcheck.model import (
    Grace,
    Installation,
    Inventory,
    OSInfo,
    PendingRestart,
    Report,
    Rule,
    RuleSet,
    RulesInfo,
    Unreadable,
    Unsupported,
)
from clientcheck.version import Version

TODAY = dt.date(2026, 11, 25)
DEBIAN = OSInfo(
    platform="linux",
    id="debian",
    name="Debian GNU/Linux",
    version=Version("12.8"),
    id_like=(),
    source="/etc/debian_version",
)


def firefox(
    version: str | None, track: str = "release", source: str = "dpkg", package: str = "firefox"
) -> Installation:
    return Installation(
        product="firefox",
        category="browser",
        name="Firefox",
        track=track,
        source=source,
        package=package,
        version=Version(version) if version else None,
        problem=None if version else "no Version in /var/lib/dpkg/status",
    )


def judge(
    *rules: Rule,
    software: tuple[Installation, ...] = (),
    os_info: OSInfo = DEBIAN,
    today: dt.date = TODAY,
    language: str = "en",
):
    ruleset = RuleSet(publisher="Test", serial=1, published=TODAY, expires=TODAY, rules=rules)
    return evaluate(Inventory(os=os_info, software=software), ruleset, today, language)


def only(findings):
    assert len(findings) == 1, findings
    return findings[0]


def test_at_or_above_the_minimum_is_ok():
    rule = Rule(id="firefox", products=("firefox",), minimum=Version("150.0"))
    assert only(judge(rule, software=(firefox("150.0"),))).status == "ok"
    assert only(judge(rule, software=(firefox("159.0.1"),))).status == "ok"


def test_below_the_minimum_is_owed_with_a_remedy_for_its_package_manager():
    rule = Rule(id="firefox", products=("firefox",), minimum=Version("150.0"))
    finding = only(judge(rule, software=(firefox("149.0.2"),)))
    assert finding.status == "owed"
    assert finding.blocking
    assert str(finding.required) == "150.0"
    assert finding.message == "Update Firefox to 150.0 or newer"
    assert finding.remedy == "sudo apt update && sudo apt install --only-upgrade firefox"


@pytest.mark.parametrize(
    ("today", "status"),
    [
        pytest.param(dt.date(2026, 11, 18), "due", id="first-day-of-grace"),
        pytest.param(dt.date(2026, 12, 1), "due", id="last-day-of-grace"),
        pytest.param(dt.date(2026, 12, 2), "owed", id="grace-over"),
        pytest.param(dt.date(2026, 11, 1), "due", id="minimum-announced-ahead"),
    ],
)
def test_grace_makes_a_new_minimum_due_then_owed(today, status):
    rule = Rule(
        id="chrome",
        products=("chrome", "chromium"),
        minimum=Version("155.0"),
        grace=Grace(since=dt.date(2026, 11, 18), days=14),
    )
    chromium = Installation(product="chromium", category="browser", name="Chromium", version=Version("154.0.1"))
    finding = only(judge(rule, software=(chromium,), today=today))
    assert finding.status == status
    assert finding.deadline == (dt.date(2026, 12, 2) if status == "due" else None)
    assert finding.blocking is (status == "owed")


def test_unsupported_below_a_bound_from_its_date():
    rule = Rule(
        id="acrobat-classic",
        products=("acrobat-reader", "acrobat"),
        track="classic",
        unsupported=Unsupported(
            below=Version("24"),
            since=dt.date(2025, 11, 30),
            message=(("en", "Acrobat 2020 and older are out of support"),),
        ),
    )
    reader = Installation(
        product="acrobat-reader",
        category="pdf-viewer",
        name="Adobe Acrobat Reader",
        version=Version("20.005.30574"),
        track="classic",
    )
    finding = only(judge(rule, software=(reader,)))
    assert finding.status == "unsupported"
    assert finding.blocking
    assert finding.message == "Acrobat 2020 and older are out of support"
    # Announced but not yet in force: a warning, with the date support ends as the deadline.
    before = only(judge(rule, software=(reader,), today=dt.date(2025, 11, 29)))
    assert (before.status, before.deadline, before.blocking) == ("due", dt.date(2025, 11, 30), False)
    assert before.message == "Acrobat 2020 and older are out of support"
    current = Installation(
        product="acrobat-reader",
        category="pdf-viewer",
        name="Adobe Acrobat Reader",
        version=Version("24.001.30429"),
        track="classic",
    )
    assert only(judge(rule, software=(current,), today=dt.date(2025, 11, 29))).status == "ok"


def test_unsupported_without_a_bound_marks_the_whole_track():
    rule = Rule(id="old-esr", products=("firefox",), track="esr", unsupported=Unsupported(below=None, since=None))
    finding = only(judge(rule, software=(firefox("140.17.0esr", track="esr"),)))
    assert finding.status == "unsupported"
    assert "no longer supported" in finding.message


def test_an_unreadable_version_is_unknown_never_ok():
    rule = Rule(id="firefox", products=("firefox",), minimum=Version("150.0"))
    finding = only(judge(rule, software=(firefox(None),)))
    assert finding.status == "unknown"
    assert "no Version in /var/lib/dpkg/status" in finding.message
    assert not finding.blocking


def test_recommended_rules_never_block():
    rule = Rule(id="macos", products=("firefox",), minimum=Version("150.0"), severity="recommended")
    finding = only(judge(rule, software=(firefox("120.0"),)))
    assert finding.status == "owed"
    assert not finding.blocking


@pytest.mark.parametrize(
    ("rule", "matches"),
    [
        pytest.param(Rule(id="r", products=("firefox",), minimum=Version("1"), track="esr"), False, id="other-track"),
        pytest.param(Rule(id="r", products=("firefox",), minimum=Version("1"), track="release"), True, id="same-track"),
        pytest.param(Rule(id="r", products=("firefox",), minimum=Version("1")), True, id="no-track-matches-all"),
        pytest.param(
            Rule(id="r", products=("firefox",), minimum=Version("1"), platforms=("windows",)),
            False,
            id="other-platform",
        ),
        pytest.param(
            Rule(id="r", products=("firefox",), minimum=Version("1"), platforms=("linux", "macos")),
            True,
            id="listed-platform",
        ),
        pytest.param(Rule(id="r", products=("chrome", "chromium"), minimum=Version("1")), False, id="other-product"),
    ],
)
def test_track_platform_and_product_narrow_a_rule(rule, matches):
    assert bool(judge(rule, software=(firefox("150.0"),))) is matches


def test_the_os_is_judged_by_its_id_and_track():
    rules = (
        Rule(
            id="ubuntu-lts",
            products=("ubuntu",),
            track="lts",
            minimum=Version("22.04"),
            unsupported=Unsupported(below=Version("22.04"), since=dt.date(2025, 5, 29)),
        ),
        Rule(
            id="ubuntu-interim",
            products=("ubuntu",),
            track="interim",
            minimum=Version("26.10"),
            unsupported=Unsupported(below=Version("26.10"), since=dt.date(2026, 7, 9)),
        ),
    )
    lts = OSInfo(platform="linux", id="ubuntu", name="Ubuntu", version=Version("24.04.1"), track="lts")
    interim = OSInfo(platform="linux", id="ubuntu", name="Ubuntu", version=Version("25.10"), track="interim")
    old_lts = OSInfo(platform="linux", id="ubuntu", name="Ubuntu", version=Version("20.04.6"), track="lts")
    assert only(judge(*rules, os_info=lts)).status == "ok"
    unsupported = only(judge(*rules, os_info=interim))
    assert (unsupported.rule, unsupported.status) == ("ubuntu-interim", "unsupported")
    assert unsupported.remedy == "Upgrade Ubuntu to a supported release"
    assert only(judge(*rules, os_info=old_lts)).status == "unsupported"


def test_findings_come_worst_first_and_the_report_summarises_them():
    rules = (
        Rule(id="firefox", products=("firefox",), minimum=Version("150.0")),
        Rule(id="evince", products=("evince",), minimum=Version("43.1")),
        Rule(id="okular", products=("okular",), minimum=Version("23")),
        Rule(id="debian", products=("debian",), minimum=Version("12")),
    )
    software = (
        firefox("151.0"),
        Installation(product="evince", category="pdf-viewer", name="Evince", version=None, problem="unreadable"),
        Installation(product="okular", category="pdf-viewer", name="Okular", version=Version("22.12.3")),
    )
    findings = judge(*rules, software=software)
    assert [(f.rule, f.status) for f in findings] == [
        ("okular", "owed"),
        ("evince", "unknown"),
        ("debian", "ok"),
        ("firefox", "ok"),
    ]
    info = RulesInfo(source="bundled", serial=1, sha256="0" * 64, publisher="Test", published=TODAY, expires=TODAY)
    report = Report(
        generated_at=dt.datetime(2026, 11, 25, tzinfo=dt.timezone.utc),
        inventory=Inventory(os=DEBIAN, software=software),
        findings=findings,
        rules=info,
    )
    assert report.status == "owed" and report.blocking
    assert report.count("ok") == 2


@pytest.mark.parametrize(
    ("statuses", "unreadable", "summary"),
    [
        pytest.param((), False, "ok", id="nothing-judged"),
        pytest.param(("ok",), False, "ok", id="all-ok"),
        pytest.param(("ok", "unknown"), False, "unknown", id="unknown-is-never-ok"),
        pytest.param(("due", "unknown"), False, "due", id="due-outranks-unknown"),
        pytest.param(("ok",), True, "unknown", id="unreadable-place-is-never-ok"),
        pytest.param((), True, "unknown", id="unreadable-with-nothing-judged"),
        pytest.param(("due",), True, "due", id="due-outranks-unreadable"),
        pytest.param(("owed", "ok"), True, "owed", id="owed-outranks-unreadable"),
    ],
)
def test_summary_status(statuses, unreadable, summary):
    rules = tuple(
        Rule(id=f"r{i}", products=(f"p{i}",), minimum=Version("2"), grace=Grace(TODAY, 30) if status == "due" else None)
        for i, status in enumerate(statuses)
    )
    version = {"ok": "3", "due": "1", "owed": "1", "unknown": None}
    software = tuple(
        Installation(
            product=f"p{i}",
            category="browser",
            name=f"P{i}",
            version=Version(version[status]) if version[status] else None,
        )
        for i, status in enumerate(statuses)
    )
    findings = judge(*rules, software=software)
    assert sorted(f.status for f in findings) == sorted(statuses)
    info = RulesInfo(source="bundled", serial=1, sha256="0" * 64, publisher="T", published=TODAY, expires=TODAY)
    closed = (Unreadable("/Applications", "cannot read: Permission denied", "applications installed there"),)
    report = Report(
        generated_at=dt.datetime(2026, 11, 25, tzinfo=dt.timezone.utc),
        inventory=Inventory(os=DEBIAN, software=software, unreadable=closed if unreadable else ()),
        findings=findings,
        rules=info,
    )
    assert report.status == summary


ACROBAT_RULES = (
    Rule(id="acrobat-continuous", products=("acrobat-reader",), track="continuous", minimum=Version("26.002")),
    Rule(id="acrobat-classic", products=("acrobat-reader",), track="classic", minimum=Version("24.001")),
)


def acrobat(version: str | None, track: str | None) -> Installation:
    return Installation(
        product="acrobat-reader",
        category="pdf-viewer",
        name="Adobe Acrobat Reader",
        version=Version(version) if version else None,
        track=track,
        problem=None if version else "/Applications/Adobe Acrobat Reader.app/Contents/Info.plist: missing",
    )


def test_an_unreadable_version_whose_track_it_decides_is_unknown_not_uncovered():
    # Acrobat's track (classic or continuous) comes from its version: neither rule applies by track.
    finding = only(judge(*ACROBAT_RULES, software=(acrobat(None, None),), os_info=WINDOWS_NO_RULES))
    assert (finding.rule, finding.status) == ("acrobat-continuous", "unknown")  # one finding, by the first rule
    assert finding.message.endswith("Info.plist: missing")
    assert not finding.blocking


def test_a_known_track_that_no_rule_names_is_still_not_covered():
    # Not a reading problem: the rules judge other tracks only.
    assert judge(ACROBAT_RULES[0], software=(acrobat("24.001.30225", "classic"),), os_info=WINDOWS_NO_RULES) == ()
    assert judge(ACROBAT_RULES[0], software=(acrobat(None, "classic"),), os_info=WINDOWS_NO_RULES) == ()


WINDOWS_NO_RULES = OSInfo(platform="windows", id="windows", name="Windows 11", version=Version("10.0.26100.2454"))
WINDOWS_RULES = (
    Rule(id="windows", products=("windows",), track="client", minimum=Version("10.0.26100")),
    Rule(id="windows-server", products=("windows",), track="server", minimum=Version("10.0.20348")),
)


@pytest.mark.parametrize("platform", ["windows", "macos", "linux"])
def test_an_os_version_that_cannot_be_read_is_unknown_not_uncovered(platform):
    os_id = {"windows": "windows", "macos": "macos", "linux": "debian"}[platform]
    unread = OSInfo(platform=platform, id=os_id, name=os_id.title(), version=None, problem="CurrentBuild missing")
    rules = tuple(rule.replace(products=(os_id,)) for rule in WINDOWS_RULES)
    finding = only(judge(*rules, os_info=unread))
    assert (finding.product, finding.status, finding.rule) == (os_id, "unknown", "windows")
    assert finding.message == f"The version of {os_id.title()} could not be read: CurrentBuild missing"


def test_an_os_no_rule_names_is_not_covered_whether_or_not_its_version_was_read():
    arch = OSInfo(platform="linux", id="arch", name="Arch Linux", version=None, problem="a rolling release")
    assert judge(*WINDOWS_RULES, os_info=arch) == ()
    assert judge(WINDOWS_RULES[0].replace(platforms=("windows",)), os_info=arch.replace(id="windows")) == ()


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        pytest.param("de", "Aktualisieren", id="exact"),
        pytest.param("de-AT", "Aktualisieren", id="region-falls-back-to-language"),
        pytest.param("pt_BR", "Atualize (BR)", id="posix-spelling"),
        pytest.param("pt", "Atualize (BR)", id="language-takes-a-regional-text"),
        pytest.param("ja", "Update", id="english-fallback"),
    ],
)
def test_messages_are_localised_with_english_fallback(language, expected):
    text = (("en", "Update"), ("de", "Aktualisieren"), ("pt-BR", "Atualize (BR)"))
    assert pick_text(text, language) == expected


def test_remedies_follow_the_source_of_the_version():
    rule = Rule(id="firefox", products=("firefox",), minimum=Version("150.0"))
    cases = {
        ("snap", "firefox", "system"): "sudo snap refresh firefox",
        ("flatpak", "org.mozilla.firefox", "user"): "flatpak update --user org.mozilla.firefox",
        ("flatpak", "org.mozilla.firefox", "system"): "flatpak update org.mozilla.firefox",
        ("application.ini", None, "user"): "Open Firefox, then Menu > Help > About Firefox to update it",
    }
    for (source, package, scope), remedy in cases.items():
        item = Installation(
            product="firefox",
            category="browser",
            name="Firefox",
            version=Version("140.0"),
            track="release",
            source=source,
            package=package,
            scope=scope,
        )
        assert only(judge(rule, software=(item,))).remedy == remedy
    fedora = OSInfo(platform="linux", id="fedora", name="Fedora Linux", version=Version("41"))
    arch = OSInfo(platform="linux", id="arch", name="Arch Linux", version=None)
    rpm = firefox("140.0", source="rpm")
    assert only(judge(rule, software=(rpm,), os_info=fedora)).remedy == "sudo dnf upgrade firefox"
    pacman = firefox("140.0", source="pacman")
    assert only(judge(rule, software=(pacman,), os_info=arch)).remedy == "sudo pacman -Syu"


# The verdict's boundaries: each comparison on both sides, and every field a finding carries --------------

ACROBAT_URL = "https://helpx.adobe.com/acrobat/release-note/release-notes-acrobat-reader.html"
EOL_URL = "https://helpx.adobe.com/support/programs/eol-matrix.html"


def reader(version: str, track: str = "classic") -> Installation:
    return Installation(
        product="acrobat-reader",
        category="pdf-viewer",
        name="Adobe Acrobat Reader",
        version=Version(version),
        track=track,
        scope="user",
        path="/Applications/Adobe Acrobat Reader.app",
    )


def acrobat_rule(**changes) -> Rule:
    rule = Rule(
        id="acrobat-classic",
        products=("acrobat-reader", "acrobat"),
        track="classic",
        minimum=Version("24.001.30225"),
        message=(("en", "Update Acrobat Reader"), ("de", "Aktualisieren Sie Acrobat Reader")),
        url=ACROBAT_URL,
        unsupported=Unsupported(
            below=Version("24"),
            since=dt.date(2025, 11, 30),
            message=(("en", "Acrobat 2020 and older are out of support"),),
            url=EOL_URL,
        ),
    )
    return rule.replace(**changes)


@pytest.mark.parametrize(
    ("today", "status", "deadline"),
    [
        pytest.param(dt.date(2025, 11, 29), "due", dt.date(2025, 11, 30), id="the-day-before-support-ends"),
        pytest.param(dt.date(2025, 11, 30), "unsupported", None, id="the-day-support-ends"),
        pytest.param(dt.date(2025, 12, 1), "unsupported", None, id="the-day-after"),
    ],
)
def test_the_day_support_ends_is_the_first_day_out_of_support(today, status, deadline):
    finding = only(judge(acrobat_rule(minimum=None), software=(reader("20.005.30574"),), today=today))
    assert (finding.status, finding.deadline) == (status, deadline)
    # Both say the same, and both point to the end-of-support notice: the bound is what is required.
    assert finding.message == "Acrobat 2020 and older are out of support"
    assert finding.url == EOL_URL
    assert str(finding.required) == "24"
    assert finding.blocking is (status == "unsupported")


def test_below_a_minimum_and_a_support_end_still_ahead_is_owed_now():
    finding = only(judge(acrobat_rule(), software=(reader("20.005.30574"),), today=dt.date(2025, 11, 29)))
    assert (finding.status, finding.deadline, finding.message) == ("owed", None, "Update Acrobat Reader")
    assert (finding.url, str(finding.required)) == (ACROBAT_URL, "24.001.30225")


def test_out_of_support_without_its_own_message_or_url_uses_the_rules():
    rule = acrobat_rule(minimum=None, unsupported=Unsupported(below=Version("24"), since=dt.date(2025, 11, 30)))
    for today, status in ((dt.date(2025, 11, 1), "due"), (dt.date(2026, 1, 1), "unsupported")):
        finding = only(judge(rule, software=(reader("20.005.30574"),), today=today))
        assert (finding.status, finding.message, finding.url) == (status, "Update Acrobat Reader", ACROBAT_URL)
        assert str(finding.required) == "24"
    german = only(judge(rule, software=(reader("20.005.30574"),), language="de"))
    assert german.message == "Aktualisieren Sie Acrobat Reader"


def test_out_of_support_with_no_message_at_all_says_what_to_do():
    rule = acrobat_rule(message=(), url=None, unsupported=Unsupported(below=Version("24"), since=None))
    finding = only(judge(rule, software=(reader("20.005.30574"),)))
    assert finding.status == "unsupported"
    assert finding.message == (
        "Adobe Acrobat Reader 20.005.30574 is no longer supported by its vendor: "
        "upgrade to a supported release or replace it"
    )
    assert finding.url is None
    assert finding.deadline is None


def test_a_whole_track_out_of_support_requires_the_rules_minimum():
    rule = acrobat_rule(unsupported=Unsupported(below=None, since=dt.date(2025, 11, 30)))
    finding = only(judge(rule, software=(reader("24.005.20320"),)))
    assert finding.status == "unsupported"
    assert str(finding.required) == "24.001.30225"
    ahead = only(judge(rule, software=(reader("24.005.20320"),), today=dt.date(2025, 6, 1)))
    assert (ahead.status, ahead.deadline, str(ahead.required)) == ("due", dt.date(2025, 11, 30), "24.001.30225")
    no_minimum = only(judge(rule.replace(minimum=None), software=(reader("24.005.20320"),)))
    assert (no_minimum.status, no_minimum.required) == ("unsupported", None)


@pytest.mark.parametrize(
    ("version", "status"),
    [
        pytest.param("23.999", "unsupported", id="just-below-the-bound"),
        pytest.param("24", "owed", id="exactly-at-the-bound-is-supported-but-below-the-minimum"),
        pytest.param("24.001.30224", "owed", id="just-below-the-minimum"),
        pytest.param("24.001.30225", "ok", id="exactly-at-the-minimum"),
        pytest.param("24.1.30225", "ok", id="the-minimum-written-without-leading-zeros"),
    ],
)
def test_a_version_at_a_bound_is_on_its_upper_side(version: str, status: str):
    finding = only(judge(acrobat_rule(), software=(reader(version),)))
    assert finding.status == status
    assert str(finding.installed) == version
    if status == "owed":
        assert (finding.message, finding.url, str(finding.required)) == (
            "Update Acrobat Reader",
            ACROBAT_URL,
            "24.001.30225",
        )
        assert finding.deadline is None
    if status == "ok":
        assert (finding.message, finding.url, str(finding.required), finding.remedy) == (
            "Update Acrobat Reader",
            ACROBAT_URL,
            "24.001.30225",
            None,
        )


def test_a_finding_carries_the_installation_it_judged():
    finding = only(judge(acrobat_rule(severity="recommended"), software=(reader("20.005.30574"),)))
    assert (finding.rule, finding.product, finding.name) == (
        "acrobat-classic",
        "acrobat-reader",
        "Adobe Acrobat Reader",
    )
    assert (finding.severity, finding.scope, finding.path) == (
        "recommended",
        "user",
        "/Applications/Adobe Acrobat Reader.app",
    )
    assert finding.installed == Version("20.005.30574")
    assert finding.restart is None
    assert not finding.blocking


def test_a_due_minimum_says_the_rules_message_url_and_deadline():
    rule = Rule(
        id="chrome",
        products=("chrome",),
        minimum=Version("155.0"),
        grace=Grace(since=dt.date(2026, 11, 18), days=14),
        message=(("en", "Update Chrome"),),
        url="https://support.google.com/chrome/answer/95414",
    )
    chrome = Installation(product="chrome", category="browser", name="Google Chrome", version=Version("154.0"))
    finding = only(judge(rule, software=(chrome,)))
    assert (finding.status, finding.deadline, finding.message) == ("due", dt.date(2026, 12, 2), "Update Chrome")
    assert (finding.url, str(finding.required)) == ("https://support.google.com/chrome/answer/95414", "155.0")
    assert finding.remedy == "Open Google Chrome and check for updates in its About page"
    plain = only(judge(rule.replace(message=(), url=None), software=(chrome,)))
    assert (plain.message, plain.url) == ("Update Google Chrome to 155.0 or newer", None)
    up_to_date = only(judge(rule.replace(message=()), software=(chrome.replace(version=Version("155.0")),)))
    assert (up_to_date.status, up_to_date.message, up_to_date.deadline) == ("ok", "Google Chrome is up to date", None)


def test_an_unreadable_version_says_why_when_it_is_known():
    rule = Rule(id="firefox", products=("firefox",), minimum=Version("150.0"), url="https://example.invalid/ff")
    unknown = only(judge(rule, software=(firefox(None).replace(problem=None),)))
    assert unknown.message == "The version of Firefox could not be read"
    assert (unknown.status, unknown.installed, unknown.remedy, unknown.deadline) == ("unknown", None, None, None)
    assert str(unknown.required) == "150.0"
    assert unknown.url == "https://example.invalid/ff"
    with_reason = only(judge(rule, software=(firefox(None),)))
    assert with_reason.message == "The version of Firefox could not be read: no Version in /var/lib/dpkg/status"


def test_an_unsupported_os_is_told_to_move_to_a_new_release():
    rule = Rule(
        id="windows-11",
        products=("windows",),
        minimum=Version("10.0.26100"),
        unsupported=Unsupported(below=Version("10.0.22000"), since=dt.date(2025, 10, 14)),
    )
    windows = OSInfo(platform="windows", id="windows", name="Windows", version=Version("10.0.19045"))
    assert only(judge(rule, os_info=windows)).remedy == "Upgrade to a supported Windows release"
    current = windows.replace(version=Version("10.0.22631"))
    assert only(judge(rule, os_info=current)).remedy == "Settings > Windows Update"


# Messages in the reader's language ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        pytest.param((), "en", None, id="no-text"),
        pytest.param(
            (("de", "Aktualisieren"), ("fr", "Mettez")), "ja", "Aktualisieren", id="no-english-takes-the-first"
        ),
        pytest.param((("de-CH", "Grüezi"), ("en", "Update")), "de", "Grüezi", id="language-takes-its-region"),
        pytest.param((("EN_gb", "Colour"), ("en", "Color")), "en-GB", "Colour", id="tags-compare-without-case"),
        pytest.param((("pt", "Atualize"), ("pt-BR", "Atualize (BR)")), "PT_br", "Atualize (BR)", id="exact-first"),
        pytest.param((("en", "Update"), ("de", "Aktualisieren")), "de_DE.UTF-8", "Aktualisieren", id="posix-locale"),
    ],
)
def test_pick_text(text, language: str, expected: str | None):
    assert pick_text(text, language) == expected


def test_the_findings_message_is_in_the_readers_language():
    finding = only(judge(acrobat_rule(), software=(reader("24.001.30000"),), language="de-AT"))
    assert finding.message == "Aktualisieren Sie Acrobat Reader"


# Which rules apply -------------------------------------------------------------------------------------------


def test_a_rule_for_other_platforms_does_not_apply_even_to_its_product():
    rule = Rule(id="evince", products=("evince",), minimum=Version("43.1"), platforms=("linux",))
    evince = Installation(product="evince", category="pdf-viewer", name="Evince", version=Version("42.0"))
    assert only(judge(rule, software=(evince,))).status == "owed"
    mac = OSInfo(platform="macos", id="macos", name="macOS", version=Version("15.1"))
    assert judge(rule, software=(evince,), os_info=mac) == ()


def test_findings_of_one_status_come_required_first_then_by_product_then_rule():
    rules = (
        Rule(id="b-rule", products=("okular",), minimum=Version("30"), severity="recommended"),
        Rule(id="a-rule", products=("okular",), minimum=Version("30")),
        Rule(id="z-rule", products=("evince",), minimum=Version("50"), severity="recommended"),
        Rule(id="c-rule", products=("evince",), minimum=Version("50")),
        Rule(id="a-also", products=("evince",), minimum=Version("50")),
    )
    software = (
        Installation(product="okular", category="pdf-viewer", name="Okular", version=Version("22.12.3")),
        Installation(product="evince", category="pdf-viewer", name="Evince", version=Version("43.1")),
    )
    assert [finding.rule for finding in judge(*rules, software=software)] == [
        "a-also",
        "c-rule",
        "a-rule",
        "z-rule",
        "b-rule",
    ]


# Updates installed but not in effect ------------------------------------------------------------------------


def restart(kind: str = "program", **fields) -> PendingRestart:
    values = {
        "product": "firefox",
        "kind": kind,
        "path": "/usr/lib/firefox-esr/firefox-esr",
        "installed": Version("153.7.0esr"),
        "running": None,
        "reason": "firefox-esr was upgraded while running",
    }
    values.update(fields)
    return PendingRestart(**values)


def judge_with(restarts, *rules, software=(), os_info=DEBIAN):
    ruleset = RuleSet(publisher="Test", serial=1, published=TODAY, expires=TODAY, rules=rules)
    inventory = Inventory(os=os_info, software=software, restarts=tuple(restarts))
    return evaluate(inventory, ruleset, TODAY)


FIREFOX_RULE = Rule(id="firefox-esr", products=("firefox",), minimum=Version("153.6"))


def esr(path: str | None = "/usr/lib/firefox-esr/firefox-esr") -> Installation:
    return firefox("153.7.0esr", track="esr", package="firefox-esr").replace(path=path)


def test_an_update_not_yet_running_is_a_restart_finding():
    finding = only(judge_with([restart()], FIREFOX_RULE, software=(esr(),)))
    assert finding.status == "restart"
    assert finding.blocking
    assert finding.message == "Firefox 153.7.0esr is installed, but an older version is still running"
    assert finding.remedy == "Close every Firefox window and open it again (or restart the computer)"
    assert finding.restart == "firefox-esr was upgraded while running"
    old = only(judge_with([restart(running=Version("153.5.0esr"))], FIREFOX_RULE, software=(esr(),)))
    assert old.message.endswith("still running (153.5.0esr is still running)")


@pytest.mark.parametrize(
    ("running", "status"),
    [
        pytest.param("153.6", "ok", id="what-runs-is-exactly-the-minimum"),
        pytest.param("153.5.9", "restart", id="what-runs-is-below-the-minimum"),
    ],
)
def test_a_newer_build_waiting_is_only_a_note_while_what_runs_is_good_enough(running: str, status: str):
    finding = only(judge_with([restart(running=Version(running))], FIREFOX_RULE, software=(esr(),)))
    assert finding.status == status
    assert finding.restart == "firefox-esr was upgraded while running"
    if status == "ok":
        assert finding.message == "Firefox is up to date"
        assert finding.remedy is None


def test_a_running_version_matters_only_when_the_rule_has_a_minimum():
    unsupported_later = Rule(
        id="esr-140", products=("firefox",), unsupported=Unsupported(below=Version("140"), since=None)
    )
    finding = only(judge_with([restart(running=Version("1.0"))], unsupported_later, software=(esr(),)))
    assert (finding.status, finding.required) == ("ok", None)


@pytest.mark.parametrize(
    ("restart_path", "installation_path", "applies"),
    [
        pytest.param("/usr/lib/firefox-esr/firefox-esr", "/usr/lib/firefox-esr/firefox-esr", True, id="same-path"),
        pytest.param("/opt/firefox/firefox", "/usr/lib/firefox-esr/firefox-esr", False, id="another-install"),
        pytest.param(None, "/usr/lib/firefox-esr/firefox-esr", True, id="restart-without-a-path"),
        pytest.param("/opt/firefox/firefox", None, True, id="installation-without-a-path"),
    ],
)
def test_a_program_restart_concerns_the_installation_at_its_path(restart_path, installation_path, applies: bool):
    finding = only(judge_with([restart(path=restart_path)], FIREFOX_RULE, software=(esr(installation_path),)))
    assert finding.status == ("restart" if applies else "ok")
    assert finding.restart == ("firefox-esr was upgraded while running" if applies else None)


def test_a_restart_of_another_product_or_of_the_system_leaves_a_program_alone():
    for other in (restart(product="chromium"), restart(kind="system", product="debian", path="/run/reboot-required")):
        finding = only(judge_with([other], FIREFOX_RULE, software=(esr(),)))
        assert (finding.status, finding.restart) == ("ok", None)


def test_a_system_restart_concerns_the_os():
    rule = Rule(id="debian", products=("debian",), minimum=Version("12"))
    pending = restart(kind="system", product="debian", path="/run/reboot-required", reason="a reboot is required")
    finding = only(judge_with([restart(), pending], rule))
    assert finding.status == "restart"
    assert finding.message == "Updates to Debian GNU/Linux are installed but take effect only after a restart"
    assert finding.remedy == "Restart the computer"
    assert finding.restart == "a reboot is required"
    assert only(judge_with([restart()], rule)).status == "ok"  # a program's restart is not the system's


def test_a_restart_on_a_finding_already_owed_is_a_note():
    rule = Rule(id="firefox-esr", products=("firefox",), minimum=Version("160"))
    finding = only(judge_with([restart()], rule, software=(esr(),)))
    assert (finding.status, finding.restart) == ("owed", "firefox-esr was upgraded while running")
    assert finding.message == "Update Firefox to 160 or newer"


# An OS that could not be identified -------------------------------------------------------------------------
# (Written against what the design fixes: such a machine gets an "unknown" finding that says why, and is
# never reported as up to date; how that finding is named may change.)

UNIDENTIFIED = OSInfo(
    platform="linux",
    id="linux",
    name="Linux",
    version=None,
    problem="/etc/os-release: line 1: not KEY=value; no /usr/lib/os-release",
)


def test_an_os_that_could_not_be_identified_is_an_unknown_finding_that_says_why():
    rule = Rule(id="debian", products=("debian",), minimum=Version("12"))
    findings = judge(rule, os_info=UNIDENTIFIED)
    os_findings = [finding for finding in findings if finding.product == "linux"]
    assert len(os_findings) == 1
    (finding,) = os_findings
    assert finding.status == "unknown"
    assert finding.severity == "required"
    assert (finding.installed, finding.required, finding.name) == (None, None, "Linux")
    assert "/etc/os-release: line 1: not KEY=value; no /usr/lib/os-release" in finding.message
    assert "could not be identified" in finding.message
    info = RulesInfo(source="bundled", serial=1, sha256="0" * 64, publisher="T", published=TODAY, expires=TODAY)
    report = Report(
        generated_at=dt.datetime(2026, 11, 25, tzinfo=dt.timezone.utc),
        inventory=Inventory(os=UNIDENTIFIED),
        findings=findings,
        rules=info,
    )
    assert report.status == "unknown"


def test_an_unidentified_os_comes_after_what_is_owed_and_before_what_is_ok():
    rules = (
        Rule(id="firefox", products=("firefox",), minimum=Version("150.0")),
        Rule(id="okular", products=("okular",), minimum=Version("23")),
        Rule(id="evince", products=("evince",), minimum=Version("43")),
    )
    software = (
        firefox("151.0"),
        Installation(product="okular", category="pdf-viewer", name="Okular", version=Version("22.12.3")),
        Installation(product="evince", category="pdf-viewer", name="Evince", version=None, problem="unreadable"),
    )
    statuses = [(finding.product, finding.status) for finding in judge(*rules, software=software, os_info=UNIDENTIFIED)]
    assert statuses == [("okular", "owed"), ("evince", "unknown"), ("linux", "unknown"), ("firefox", "ok")]


@pytest.mark.parametrize(
    "os_info",
    [
        pytest.param(UNIDENTIFIED.replace(problem=None), id="the-generic-id-without-a-problem"),
        pytest.param(DEBIAN.replace(problem="/etc/debian_version: unreadable"), id="an-identified-os-with-a-problem"),
    ],
)
def test_an_identified_os_gets_no_such_finding(os_info: OSInfo):
    assert judge(os_info=os_info) == ()


def test_a_support_end_ahead_with_no_message_names_the_program_and_its_version():
    rule = acrobat_rule(
        minimum=None, message=(), url=None, unsupported=Unsupported(below=Version("24"), since=dt.date(2026, 12, 31))
    )
    finding = only(judge(rule, software=(reader("20.005.30574"),)))
    assert (finding.status, finding.deadline) == ("due", dt.date(2026, 12, 31))
    assert finding.message == (
        "Adobe Acrobat Reader 20.005.30574 is no longer supported by its vendor: "
        "upgrade to a supported release or replace it"
    )


def test_the_os_is_named_in_its_findings():
    rule = Rule(id="debian", products=("debian",), minimum=Version("13"))
    finding = only(judge(rule))
    assert (finding.name, finding.message) == ("Debian GNU/Linux", "Update Debian GNU/Linux to 13 or newer")
    unreadable = DEBIAN.replace(version=None, problem="/etc/debian_version: not a version: 'trixie/sid'")
    unknown = only(judge(rule, os_info=unreadable))
    assert unknown.status == "unknown"
    assert "/etc/debian_version: not a version: 'trixie/sid'" in unknown.message


def test_english_is_the_fallback_wherever_it_is_in_the_list():
    text = (("de", "Aktualisieren"), ("en", "Update"))
    assert pick_text(text, "ja") == "Update"
    assert pick_text((("de", "Hallo"), ("en-GB", "Colour")), "en") == "Colour"


def test_messages_are_in_english_unless_asked_otherwise():
    rule = Rule(
        id="chrome", products=("chrome",), minimum=Version("155"), message=(("de", "Hallo"), ("en-GB", "Update"))
    )
    chrome = Installation(product="chrome", category="browser", name="Google Chrome", version=Version("154"))
    ruleset = RuleSet(publisher="Test", serial=1, published=TODAY, expires=TODAY, rules=(rule,))
    (finding,) = evaluate(Inventory(os=DEBIAN, software=(chrome,)), ruleset, TODAY)
    assert finding.message == "Update"

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

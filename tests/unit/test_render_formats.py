"""The small output formats (nagios, prometheus, jamf, csv, ansible) on hand-built reports: nothing owed,
every status at once, no software, non-ASCII text, very long messages and unreadable versions."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from clientcheck.model import Finding, Installation, Inventory, OSInfo, Report, RulesInfo
from clientcheck.render import ansible, jamf, nagios, prometheus
from clientcheck.render import csv as csv_render
from clientcheck.version import Version

GENERATED = dt.datetime(2026, 11, 25, 8, 30, 0, tzinfo=dt.timezone.utc)
TODAY = dt.date(2026, 11, 25)
DEBIAN = OSInfo(platform="linux", id="debian", name="Debian GNU/Linux", version=Version("12.8"))
RULES = RulesInfo(
    source="bundled",
    serial=2026112501,
    sha256="b" * 64,
    publisher="clientcheck bundled defaults",
    published=dt.date(2026, 11, 20),
    expires=dt.date(2027, 1, 31),
)
STALE = RulesInfo(
    source="https://rules.example/rules.json",
    serial=7,
    sha256="0" * 64,
    publisher="Example Corp IT",
    published=dt.date(2026, 1, 1),
    expires=dt.date(2026, 2, 28),
    stale=True,
)


def install(product: str, name: str, version: str | None, **kwargs: object) -> Installation:
    return Installation(
        product=product,
        category="pdf-viewer" if product in ("okular", "evince") else "browser",
        name=name,
        version=Version(version) if version else None,
        problem=None if version else "no Version in /var/lib/dpkg/status",
        **kwargs,  # type: ignore[arg-type]
    )


FIREFOX_ESR = install("firefox", "Firefox ESR", "128.3.0esr", track="esr", source="dpkg", package="firefox-esr")
CHROMIUM = install("chromium", "Chromium", "130.0", track="stable", source="dpkg", package="chromium")
CHROME = install("chrome", "Google Chrome", None, source="dpkg", scope="system")
OKULAR = install("okular", "Okular", "24.08.3", source="snap", path="/snap/bin/okular")


def finding(
    product: str,
    name: str,
    status: str,
    installed: str | None,
    required: str | None,
    severity: str = "required",
    message: str = "Update it",
    deadline: dt.date | None = None,
) -> Finding:
    return Finding(
        rule=f"{product}-min",
        product=product,
        name=name,
        status=status,  # type: ignore[arg-type]
        severity=severity,  # type: ignore[arg-type]
        installed=Version(installed) if installed else None,
        required=Version(required) if required else None,
        message=message,
        url=None if status in ("ok", "unknown") else "https://example.org/update",
        deadline=deadline,
        remedy="sudo apt update && sudo apt install --only-upgrade x" if status != "ok" else None,
        scope="system",
        path="/usr/bin/x",
    )


def report(*findings: Finding, software: tuple[Installation, ...] = (), rules: RulesInfo = RULES) -> Report:
    return Report(
        generated_at=GENERATED,
        inventory=Inventory(os=DEBIAN, software=software),
        findings=findings,
        rules=rules,
        as_of=TODAY,
    )


OK_REPORT = report(
    finding("debian", "Debian GNU/Linux", "ok", "12.8", "12.7"),
    finding("okular", "Okular", "ok", "24.08.3", "24.08"),
    software=(OKULAR,),
)
# Owed first in the tuple only by accident of construction: the renderers must order worst first.
MIXED_REPORT = report(
    finding("okular", "Okular", "due", "24.08.3", "24.12", deadline=dt.date(2026, 12, 2)),
    finding("chrome", "Google Chrome", "unknown", None, None, message="version could not be read"),
    finding("chromium", "Chromium", "owed", "130.0", "156.0"),
    finding("firefox", "Firefox ESR", "unsupported", "128.3.0esr", "153.6"),
    finding("evince", "Evince", "owed", "43.1", "45.0", severity="recommended"),
    software=(FIREFOX_ESR, CHROMIUM, CHROME, OKULAR),
)
EMPTY_REPORT = report(finding("debian", "Debian GNU/Linux", "ok", "12.8", "12.7"))
NON_ASCII = install("zathura", 'Zäthura "PDF" \\ Leser\nneu', None, source="flatpak", scope="user")
NON_ASCII_REPORT = report(
    finding("zathura", 'Zäthura "PDF" \\ Leser\nneu', "owed", "0.5.4", "0.5.8", message="Mettez à jour <vite> & bien"),
    software=(NON_ASCII,),
)
LONG = "x" * 2500
LONG_REPORT = report(
    finding("chromium", "Chromium " + "ü" * 300, "owed", "130.0", "156.0", message=LONG),
    finding("firefox", "Firefox", "due", "150.0", "151.0", message=LONG, deadline=dt.date(2026, 12, 2)),
    software=(CHROMIUM,),
    rules=STALE,
)
ALL_REPORTS = [OK_REPORT, MIXED_REPORT, EMPTY_REPORT, NON_ASCII_REPORT, LONG_REPORT]
ALL_IDS = ["ok", "mixed", "empty", "non-ascii", "long"]


# --- nagios -------------------------------------------------------------------------------------------


def test_nagios_ok() -> None:
    text = nagios.render_report(OK_REPORT)
    assert text == (
        "CLIENTCHECK OK - nothing owed on Debian GNU/Linux 12.8 | 'owed'=0;;0;0 'due'=0;0;;0"
        " 'unsupported'=0;;0;0 'unknown'=0;0;;0 'restart'=0;;0;0 'rules_age_days'=5;;;0\n"
    )
    assert nagios.nagios_exit_status(OK_REPORT) == 0


def test_nagios_mixed_is_critical_and_lists_worst_first() -> None:
    lines = nagios.render_report(MIXED_REPORT).splitlines()
    assert lines[0] == (
        "CLIENTCHECK CRITICAL - 2 updates owed: Chromium, Firefox ESR; 1 update due before 2026-12-02 (7 days left);"
        " 1 recommended update not made; 1 version unknown, cannot tell if up to date"
        " | 'owed'=1;;0;0 'due'=2;0;;0 'unsupported'=1;;0;0 'unknown'=1;0;;0 'restart'=0;;0;0 'rules_age_days'=5;;;0"
    )
    assert [line.split(":")[0] for line in lines[1:]] == ["OWED", "OWED", "UNSUPPORTED", "DUE", "UNKNOWN"]
    assert lines[1] == ("OWED: Chromium 130.0: needs 156.0 or newer - Update it https://example.org/update")
    assert "(recommended)" in lines[2]
    assert nagios.nagios_exit_status(MIXED_REPORT) == 2


@pytest.mark.parametrize(
    ("findings", "first_line_text"),
    [
        pytest.param(
            (finding("okular", "Okular", "due", "24.08.3", "24.12", deadline=dt.date(2026, 12, 2)),),
            "1 update due before 2026-12-02 (7 days left)",
            id="due",
        ),
        pytest.param(
            (finding("evince", "Evince", "unsupported", "43.1", None, severity="recommended"),),
            "1 recommended update not made",
            id="recommended",
        ),
        pytest.param(
            (finding("chrome", "Google Chrome", "unknown", None, None),),
            "1 version unknown, cannot tell if up to date",
            id="unknown",
        ),
    ],
)
def test_nagios_warnings(findings: tuple[Finding, ...], first_line_text: str) -> None:
    subject = report(*findings)
    first = nagios.render_report(subject).splitlines()[0]
    assert first.startswith(f"CLIENTCHECK WARNING - {first_line_text} | ")
    assert nagios.nagios_exit_status(subject) == 1


def test_nagios_long_and_hostile_text_stays_in_its_place() -> None:
    lines = nagios.render_report(LONG_REPORT).splitlines()
    head, perfdata = lines[0].split(" | ")
    assert head.startswith("CLIENTCHECK CRITICAL - 1 update owed: Chromium üüü")
    assert len(head) <= len("CLIENTCHECK CRITICAL - ") + 200
    assert head.endswith("…")
    assert perfdata.endswith("'rules_age_days'=328;;;0")  # 2026-01-01 to 2026-11-25
    assert all(len(line) <= 300 for line in lines[1:])
    assert len(lines) == 4
    assert lines[3] == "RULES: these rules expired on 2026-02-28 (270 days ago); newer minimums may exist"

    piped = report(finding("chromium", "Chro|mium\nx", "owed", "130.0", "156.0", message="a | b\nc"))
    lines = nagios.render_report(piped).splitlines()
    assert lines[0].count("|") == 1
    assert lines[1] == "OWED: Chro/mium x 130.0: needs 156.0 or newer - a / b c https://example.org/update"


def test_nagios_no_software_and_inventory() -> None:
    assert nagios.render_report(EMPTY_REPORT).startswith("CLIENTCHECK OK - nothing owed on Debian GNU/Linux 12.8 | ")
    text = nagios.render_inventory(Inventory(os=DEBIAN, software=(OKULAR, CHROME)), GENERATED)
    assert text.splitlines() == [
        "CLIENTCHECK OK - Debian GNU/Linux 12.8, 2 applications found | 'software'=2;;;0",
        "Okular 24.08.3 (okular, system)",
        "Google Chrome version unknown (chrome, system)",
    ]


# --- prometheus ---------------------------------------------------------------------------------------


def _metrics(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    from prometheus_client.parser import text_string_to_metric_families

    assert text.endswith("\n")
    families: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        assert family.documentation
        assert family.type == "gauge"
        families[family.name] = [(dict(sample.labels), sample.value) for sample in family.samples]
        assert all(sample.timestamp is None for sample in family.samples)
    return families


def test_prometheus_mixed_report() -> None:
    metrics = _metrics(prometheus.render_report(MIXED_REPORT))
    assert metrics["clientcheck_updates_owed"] == [({}, 1)]
    assert {labels["status"]: value for labels, value in metrics["clientcheck_findings"]} == {
        "owed": 2,
        "unsupported": 1,
        "restart": 0,
        "due": 1,
        "unknown": 1,
        "ok": 0,
    }
    assert {"rule": "chromium-min", "product": "chromium", "status": "owed", "severity": "required"} in [
        labels for labels, _ in metrics["clientcheck_finding"]
    ]
    assert len(metrics["clientcheck_finding"]) == 5
    software = [labels for labels, value in metrics["clientcheck_software_info"] if value == 1]
    assert {"product": "chrome", "version": "", "track": "", "scope": "system", "source": "dpkg"} in software
    assert {"product": "firefox", "version": "128.3.0esr", "track": "esr", "scope": "system", "source": "dpkg"} in (
        software
    )
    assert all("path" not in labels for labels in software)
    assert metrics["clientcheck_os_info"] == [({"id": "debian", "version": "12.8", "track": ""}, 1)]
    assert metrics["clientcheck_rules_serial"] == [({}, 2026112501)]
    assert metrics["clientcheck_rules_stale"] == [({}, 0)]
    expiry = dt.datetime(2027, 2, 1, tzinfo=dt.timezone.utc).timestamp()
    assert metrics["clientcheck_rules_expiry_timestamp_seconds"] == [({}, expiry)]
    assert metrics["clientcheck_last_run_timestamp_seconds"] == [({}, GENERATED.timestamp())]


def test_prometheus_escapes_non_ascii_quotes_backslashes_newlines() -> None:
    text = prometheus.render_report(NON_ASCII_REPORT)
    metrics = _metrics(text)
    assert metrics["clientcheck_software_info"] == [
        ({"product": "zathura", "version": "", "track": "", "scope": "user", "source": "flatpak"}, 1)
    ]
    hostile = report(finding('zä"t\\h\nura', "Z", "owed", "1.0", "2.0"), software=(install('zä"t\\h\nura', "Z", None),))
    metrics = _metrics(prometheus.render_report(hostile))
    assert metrics["clientcheck_software_info"][0][0]["product"] == 'zä"t\\h\nura'
    assert metrics["clientcheck_finding"][0][0]["product"] == 'zä"t\\h\nura'


def test_prometheus_no_software_stale_rules_and_no_duplicate_series() -> None:
    metrics = _metrics(prometheus.render_report(EMPTY_REPORT))
    assert metrics["clientcheck_software_info"] == []
    assert metrics["clientcheck_updates_owed"] == [({}, 0)]
    assert _metrics(prometheus.render_report(LONG_REPORT))["clientcheck_rules_stale"] == [({}, 1)]
    twice = report(software=(OKULAR, OKULAR))
    assert len(_metrics(prometheus.render_report(twice))["clientcheck_software_info"]) == 1


def test_prometheus_inventory() -> None:
    metrics = _metrics(prometheus.render_inventory(Inventory(os=DEBIAN, software=(CHROME,)), GENERATED))
    assert set(metrics) == {
        "clientcheck_software_info",
        "clientcheck_os_info",
        "clientcheck_restart_pending",  # declared, with no sample: nothing waits for a restart
        "clientcheck_unreadable",
        "clientcheck_last_run_timestamp_seconds",
    }
    assert metrics["clientcheck_restart_pending"] == []
    assert metrics["clientcheck_software_info"][0][0]["version"] == ""


# --- jamf ---------------------------------------------------------------------------------------------


def test_jamf_ok_and_empty() -> None:
    assert jamf.render_report(OK_REPORT) == "<result>OK</result>\n"
    assert jamf.render_report(EMPTY_REPORT) == "<result>OK</result>\n"


def test_jamf_owed_lists_worst_first() -> None:
    assert jamf.render_report(MIXED_REPORT) == (
        "<result>OWED: Chromium 130.0 (needs 156.0); Evince 43.1 (needs 45.0, recommended);"
        " Firefox ESR 128.3.0esr (needs 153.6); Okular 24.08.3 (needs 24.12 before 2026-12-02, 7 days left);"
        " Google Chrome (version unknown)</result>\n"
    )


def test_jamf_due_and_unknown_only() -> None:
    due = report(finding("okular", "Okular", "due", "24.08.3", "24.12", deadline=dt.date(2026, 12, 2)))
    assert (
        jamf.render_report(due) == "<result>DUE: Okular 24.08.3 (needs 24.12 before 2026-12-02, 7 days left)</result>\n"
    )
    unknown = report(finding("chrome", "Google Chrome", "unknown", None, None))
    assert jamf.render_report(unknown) == "<result>UNKNOWN: Google Chrome (version unknown)</result>\n"


def test_jamf_escapes_and_stays_on_one_line() -> None:
    hostile = report(finding("x", "A<b>&c\nd", "owed", "1.0", "2.0"))
    assert jamf.render_report(hostile) == "<result>OWED: A&lt;b&gt;&amp;c d 1.0 (needs 2.0)</result>\n"


@pytest.mark.parametrize("name", ["Chromium " + "ü" * 300, "&" * 300, "a" * 250 + "&" * 10])
def test_jamf_long_is_cut_to_255_without_splitting_an_entity(name: str) -> None:
    text = jamf.render_report(report(finding("chromium", name, "owed", "130.0", "156.0", message=LONG)))
    assert text.startswith("<result>OWED: ") and text.endswith("…</result>\n")
    value = text[len("<result>") : -len("</result>\n")]
    assert len(value) <= 255
    assert "\n" not in value
    cut = value[: -len("…")]
    assert cut.replace("&amp;", "").count("&") == 0  # whole entities only
    assert not cut.replace("&amp;", "&").endswith((" ", ";"))  # no dangling separator


def test_jamf_keeps_what_could_not_be_read_and_the_rules_notes_when_it_cuts() -> None:
    from clientcheck.model import Unreadable

    closed = Unreadable("/Applications", "cannot read: Permission denied", "applications installed there")
    long = LONG_REPORT.replace(inventory=LONG_REPORT.inventory.replace(unreadable=(closed,)))
    value = jamf.render_report(long)[len("<result>") : -len("</result>\n")]
    assert len(value) <= 255
    assert value.startswith("OWED: Chromium üüü")
    assert value.endswith("…; could not read /Applications; rules expired 2026-02-28")


def test_jamf_inventory() -> None:
    assert jamf.render_inventory(Inventory(os=DEBIAN, software=(OKULAR, CHROME)), GENERATED) == (
        "<result>Debian GNU/Linux 12.8; Okular 24.08.3; Google Chrome (version unknown)</result>\n"
    )


# --- csv ----------------------------------------------------------------------------------------------


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_report_rows() -> None:
    text = csv_render.render_report(MIXED_REPORT)
    assert text.startswith(
        "rule,product,name,status,severity,installed,required,deadline,message,url,remedy,restart,kind,days_left,step\r\n"
    )
    rows = _rows(text)
    assert {row["kind"] for row in rows} == {"finding"}
    assert len(rows) == 5
    okular = rows[0]
    assert okular["status"] == "due"
    assert okular["deadline"] == "2026-12-02"
    assert okular["days_left"] == "7"  # counted from the day judged, 2026-11-25
    assert okular["installed"] == "24.08.3"
    assert okular["remedy"] == "sudo apt update && sudo apt install --only-upgrade x"
    chrome = rows[1]
    assert (chrome["installed"], chrome["required"], chrome["url"], chrome["deadline"]) == ("", "", "", "")


def test_csv_quotes_non_ascii_and_long_fields() -> None:
    row = _rows(csv_render.render_report(NON_ASCII_REPORT))[0]
    assert row["name"] == 'Zäthura "PDF" \\ Leser\nneu'
    assert row["message"] == "Mettez à jour <vite> & bien"
    long_rows = _rows(csv_render.render_report(LONG_REPORT))
    assert [r["message"] for r in long_rows if r["kind"] == "finding"] == [LONG, LONG]


def test_csv_no_software_and_inventory() -> None:
    assert csv_render.render_report(report()) == (
        "rule,product,name,status,severity,installed,required,deadline,message,url,remedy,restart,kind,days_left,step\r\n"
    )
    rows = _rows(csv_render.render_inventory(Inventory(os=DEBIAN, software=(OKULAR, NON_ASCII)), GENERATED))
    assert [r["product"] for r in rows] == ["okular", "zathura"]
    assert rows[0]["path"] == "/snap/bin/okular"
    assert rows[1]["version"] == ""
    assert rows[1]["problem"] == "no Version in /var/lib/dpkg/status"
    assert _rows(csv_render.render_inventory(Inventory(os=DEBIAN), GENERATED)) == []


# --- ansible ------------------------------------------------------------------------------------------


def test_ansible_fact_mixed() -> None:
    text = ansible.render_report(MIXED_REPORT)
    assert text.endswith("\n") and text.count("\n") == 1
    fact = json.loads(text)
    assert fact == {
        "status": "owed",
        "owed": [
            {"product": "chromium", "installed": "130.0", "required": "156.0", "rule": "chromium-min"},
            {"product": "firefox", "installed": "128.3.0esr", "required": "153.6", "rule": "firefox-min"},
        ],
        "due": [
            {
                "product": "okular",
                "installed": "24.08.3",
                "required": "24.12",
                "rule": "okular-min",
                "deadline": "2026-12-02",
                "days_left": 7,
                "step": None,
            }
        ],
        "counts": {"owed": 2, "unsupported": 1, "restart": 0, "due": 1, "unknown": 1, "ok": 0},
        "rules": {
            "serial": 2026112501,
            "source": "bundled",
            "stale": False,
            "fallback_reason": None,
            "published_in_future": False,
        },
        "os": {"id": "debian", "version": "12.8"},
        "generated_at": "2026-11-25T08:30:00Z",
        "unreadable": [],
    }


def test_ansible_fact_ok_non_ascii_and_inventory() -> None:
    assert json.loads(ansible.render_report(OK_REPORT))["owed"] == []
    assert json.loads(ansible.render_report(OK_REPORT))["status"] == "ok"
    fact = json.loads(ansible.render_inventory(Inventory(os=DEBIAN, software=(NON_ASCII,)), GENERATED))
    assert fact["software"] == [
        {"product": "zathura", "name": 'Zäthura "PDF" \\ Leser\nneu', "version": None, "track": None, "scope": "user"}
    ]
    assert fact["os"] == {"id": "debian", "version": "12.8"}
    assert json.loads(ansible.render_inventory(Inventory(os=DEBIAN), GENERATED))["software"] == []


# --- every format, every report -----------------------------------------------------------------------


@pytest.mark.parametrize("subject", ALL_REPORTS, ids=ALL_IDS)
@pytest.mark.parametrize("module", [nagios, prometheus, jamf, csv_render, ansible], ids=lambda m: m.__name__)
def test_every_format_renders_every_report(module: object, subject: Report) -> None:
    text = getattr(module, "render_report")(subject)  # noqa: B009
    assert isinstance(text, str)
    assert text.endswith("\n")
    inventory_text = getattr(module, "render_inventory")(subject.inventory, GENERATED)  # noqa: B009
    assert inventory_text.endswith("\n")

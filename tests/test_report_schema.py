"""Every JSON report and inventory clientcheck writes is valid against the schemas the package publishes in
``clientcheck/data/``.

Reports are made in-process through ``clientcheck.cli.main`` (the running machine, every Linux fixture tree,
the design document's example rules, a broken rule file) and from hand-built model objects that reach the
corners a real machine may not (every status, unreadable versions, stale and fallback rules).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from clientcheck.cli import main
from clientcheck.model import (
    STATUS_ORDER,
    Finding,
    Installation,
    Inventory,
    OSInfo,
    Report,
    RulesInfo,
    Unreadable,
)
from clientcheck.render.json import INVENTORY_SCHEMA, REPORT_SCHEMA, render_inventory, render_report
from clientcheck.version import Version

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = REPO / "agent" / "clientcheck" / "data"
DESIGN_RULES = REPO / "rules" / "examples" / "design-example.json"
LINUX_FIXTURES = REPO / "tests" / "fixtures" / "linux"
# Other cases are still being added: take whatever exists when the tests are collected.
LINUX_CASES = sorted(path.parent for path in LINUX_FIXTURES.glob("*/root") if path.is_dir())
CASE_IDS = [case.name for case in LINUX_CASES]

AS_OF = "2026-11-25"
NOW = dt.datetime(2026, 11, 25, 9, 0, 0, tzinfo=dt.timezone.utc)
STATUSES = ("ok", "owed", "due", "unsupported", "unknown")

on_linux = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="this version of clientcheck inspects only Linux machines live"
)


def _load_schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    return schema


REPORT = _load_schema("report")
INVENTORY = _load_schema("inventory")


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _errors(schema: dict[str, Any], document: Any) -> list[str]:
    found = sorted(_validator(schema).iter_errors(document), key=lambda error: list(error.absolute_path))
    return [f"{'/'.join(str(part) for part in error.absolute_path) or '(top)'}: {error.message}" for error in found]


def _timestamp_is_utc(text: str) -> None:
    # The date-time format checker needs an optional package; check the value ourselves too.
    parsed = dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    assert parsed.year >= 2000, text


def assert_valid_report(document: dict[str, Any]) -> None:
    problems = _errors(REPORT, document)
    assert not problems, "report does not match data/report.schema.json:\n" + "\n".join(problems)
    assert document["schema"] == REPORT_SCHEMA
    _timestamp_is_utc(document["generated_at"])
    # What a schema cannot say: the summary agrees with the findings.
    findings = document["findings"]
    summary = document["summary"]
    for status in STATUSES:
        assert summary[status] == sum(1 for f in findings if f["status"] == status), status
    blocking = any(f["severity"] == "required" and f["status"] in ("owed", "unsupported") for f in findings)
    statuses = {f["status"] for f in findings}
    if blocking:
        expected = "owed"
    elif statuses & {"owed", "unsupported", "due"}:
        expected = "due"
    elif "unknown" in statuses or document["unreadable"]:
        expected = "unknown"  # a version could not be read, or a place that may hold an installation
    else:
        expected = "ok"
    assert summary["status"] == expected
    # Every place in "unreadable" is also a warning line, as readers of "warnings" alone have always seen them.
    assert all(f"{item['path']}: {item['problem']}" in document["warnings"] for item in document["unreadable"])
    ranks = [STATUS_ORDER.index(f["status"]) for f in findings]
    assert ranks == sorted(ranks), "findings are not worst first"
    for finding in findings:
        assert (finding["installed"] is None) == (finding["status"] == "unknown"), finding
        assert (finding["deadline"] is not None) == (finding["status"] == "due"), finding


def assert_valid_inventory(document: dict[str, Any]) -> None:
    problems = _errors(INVENTORY, document)
    assert not problems, "inventory does not match data/inventory.schema.json:\n" + "\n".join(problems)
    assert document["schema"] == INVENTORY_SCHEMA
    _timestamp_is_utc(document["generated_at"])


def _run(capsys: pytest.CaptureFixture[str], argv: list[str], **kwargs: Any) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()  # drop anything earlier
    status = main(argv, **kwargs)
    captured = capsys.readouterr()
    assert captured.out, f"clientcheck {' '.join(argv)} wrote nothing (exit {status}); stderr:\n{captured.err}"
    document: dict[str, Any] = json.loads(captured.out)
    return status, document


def _check(capsys: pytest.CaptureFixture[str], argv: list[str], **kwargs: Any) -> dict[str, Any]:
    status, document = _run(capsys, ["check", "--format", "json", *argv], **kwargs)
    assert status in (0, 1), status
    assert status == (1 if document["summary"]["status"] == "owed" else 0)
    assert_valid_report(document)
    return document


def _inventory(capsys: pytest.CaptureFixture[str], argv: list[str], **kwargs: Any) -> dict[str, Any]:
    status, document = _run(capsys, ["inventory", "--format", "json", *argv], **kwargs)
    assert status == 0
    assert_valid_inventory(document)
    return document


# The schemas themselves ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "name", "schema_id"),
    [(REPORT, "report", REPORT_SCHEMA), (INVENTORY, "inventory", INVENTORY_SCHEMA)],
    ids=["report", "inventory"],
)
def test_schema_is_valid_draft_2020_12(schema: dict[str, Any], name: str, schema_id: str) -> None:
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://clientcheck.invalid/schemas/{name}-1.json"
    assert schema["properties"]["schema"]["const"] == schema_id


def _property_schemas(node: Any, where: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.get("properties", {}).items():
            found.append((f"{where}.{key}", value))
        for key, value in node.items():
            found.extend(_property_schemas(value, f"{where}/{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_property_schemas(value, f"{where}[{index}]"))
    return found


@pytest.mark.parametrize("schema", [REPORT, INVENTORY], ids=["report", "inventory"])
def test_every_property_is_documented(schema: dict[str, Any]) -> None:
    undocumented = [where for where, value in _property_schemas(schema) if not value.get("description")]
    assert not undocumented
    assert all(definition.get("description") for definition in schema["$defs"].values())


@pytest.mark.parametrize("schema", [REPORT, INVENTORY], ids=["report", "inventory"])
def test_objects_allow_added_keys(schema: dict[str, Any]) -> None:
    # The contract: keys may be added, never removed or renamed, so readers must not reject new ones.
    text = json.dumps(schema)
    assert '"additionalProperties": false' not in text
    assert "unevaluatedProperties" not in text


def test_inventory_and_report_describe_shared_parts_alike() -> None:
    for name, definition in INVENTORY["$defs"].items():
        assert REPORT["$defs"][name] == definition, name
    for key, value in INVENTORY["properties"].items():
        if key != "schema":
            assert REPORT["properties"][key] == value, key
    assert set(INVENTORY["required"]) - {"schema"} <= set(REPORT["required"])


# Reports from the command line --------------------------------------------------------------------------


@on_linux
def test_running_machine_report(capsys: pytest.CaptureFixture[str]) -> None:
    _check(capsys, [])


@on_linux
def test_running_machine_inventory(capsys: pytest.CaptureFixture[str]) -> None:
    _inventory(capsys, [])


@on_linux
def test_running_machine_with_design_example_rules(capsys: pytest.CaptureFixture[str]) -> None:
    document = _check(capsys, ["--rules", str(DESIGN_RULES)])
    assert document["rules"]["source"] == str(DESIGN_RULES)
    assert document["rules"]["serial"] == 7
    assert document["rules"]["publisher"] == "Example Corp IT"
    assert document["rules"]["fallback_reason"] is None


@on_linux
def test_design_example_rules_when_stale(capsys: pytest.CaptureFixture[str]) -> None:
    document = _check(capsys, ["--rules", str(DESIGN_RULES), "--as-of", "2027-03-01"])
    assert document["rules"]["stale"] is True
    assert document["rules"]["expires"] == "2027-02-28"


@on_linux
@pytest.mark.parametrize(
    "content",
    [
        b'{"schema": "clientcheck.rules/1", "serial": 8,',
        b'{"schema": "clientcheck.rules/1", "publisher": "", "serial": -1, "published": "2026-13-01", "rules": 3}',
        b"\xff\xfe not even text",
    ],
    ids=["truncated-json", "invalid-rules", "not-utf8"],
)
def test_broken_rules_fall_back_to_bundled(capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes) -> None:
    broken = tmp_path / "broken.json"
    broken.write_bytes(content)
    capsys.readouterr()
    status = main(["check", "--format", "json", "--rules", str(broken)])
    captured = capsys.readouterr()
    assert status in (0, 1), captured.err
    document = json.loads(captured.out)
    assert_valid_report(document)
    assert document["rules"]["source"] == "bundled"
    assert document["rules"]["fallback_reason"] is not None
    assert str(broken) in document["rules"]["fallback_reason"]
    assert "warning" in captured.err


@on_linux
def test_a_configured_rules_file_that_is_missing_falls_back_to_bundled(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Configured (here by the environment), not named on the command line: a share not mounted yet.
    env = {"CLIENTCHECK_RULES_SOURCE": str(tmp_path / "no-such-rules.json")}
    document = _check(capsys, [], env=env)
    assert document["rules"]["source"] == "bundled"
    assert document["rules"]["fallback_reason"]


@pytest.mark.parametrize("case", LINUX_CASES, ids=CASE_IDS)
def test_fixture_report(capsys: pytest.CaptureFixture[str], case: Path) -> None:
    argv = ["--root", str(case / "root"), "--platform", "linux", "--as-of", AS_OF]
    document = _check(capsys, argv, env={})
    assert document["os"]["platform"] == "linux"
    assert document["os"]["kernel"] is None  # a --root tree is not the running kernel
    _check(capsys, [*argv, "--rules", str(DESIGN_RULES)], env={})


@pytest.mark.parametrize("case", LINUX_CASES, ids=CASE_IDS)
def test_fixture_inventory(capsys: pytest.CaptureFixture[str], case: Path) -> None:
    document = _inventory(capsys, ["--root", str(case / "root"), "--platform", "linux"], env={})
    assert document["os"]["platform"] == "linux"


# The design document's example ----------------------------------------------------------------------------

DESIGN_KEYS = {
    "os": {"platform", "id", "name", "version"},
    "software": {"product", "category", "name", "version", "track", "source", "path"},
    "findings": {"rule", "product", "status", "installed", "required", "message", "url"},
    "rules": {"source", "serial", "sha256", "expires"},
    "summary": {"status", "owed"},
}


def _design_machine(root: Path) -> Path:
    """The machine of the design document's example: Debian 12.8 with Firefox ESR from dpkg."""
    files = {
        "etc/os-release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
        'VERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n',
        "etc/debian_version": "12.8\n",
        "var/lib/dpkg/status": "Package: firefox-esr\nStatus: install ok installed\nPriority: optional\n"
        "Section: web\nArchitecture: amd64\nVersion: 153.5.0esr-1~deb12u1\n"
        "Description: Mozilla Firefox web browser - Extended Support Release (ESR)\n\n",
        "var/lib/dpkg/info/firefox-esr.list": "/.\n/usr\n/usr/lib\n/usr/lib/firefox-esr\n"
        "/usr/lib/firefox-esr/firefox-esr\n/usr/share\n/usr/share/applications\n"
        "/usr/share/applications/firefox-esr.desktop\n",
        "usr/share/applications/firefox-esr.desktop": "[Desktop Entry]\nName=Firefox ESR\n"
        "Exec=/usr/lib/firefox-esr/firefox-esr %u\nType=Application\nCategories=Network;WebBrowser;\n",
        "usr/lib/firefox-esr/firefox-esr": "",
    }
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_design_example_keys_are_present(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = _design_machine(tmp_path / "root")
    argv = ["--root", str(root), "--platform", "linux", "--rules", str(DESIGN_RULES), "--as-of", AS_OF]
    status, document = _run(capsys, ["check", "--format", "json", *argv], env={})
    assert status == 1  # Firefox ESR 153.5 is below the example's 153.6
    assert_valid_report(document)
    assert {"schema", "generated_at", "os", "software", "findings", "rules", "summary"} <= document.keys()
    assert DESIGN_KEYS["os"] <= document["os"].keys()
    assert DESIGN_KEYS["rules"] <= document["rules"].keys()
    assert DESIGN_KEYS["summary"] <= document["summary"].keys()
    assert document["software"]
    assert document["findings"]
    for item in document["software"]:
        assert DESIGN_KEYS["software"] <= item.keys()
    for finding in document["findings"]:
        assert DESIGN_KEYS["findings"] <= finding.keys()
    # And the values read like the example's.
    assert {key: document["os"][key] for key in DESIGN_KEYS["os"]} == {
        "platform": "linux",
        "id": "debian",
        "name": "Debian GNU/Linux",
        "version": "12.8",
    }
    firefox = document["software"][0]
    assert (firefox["product"], firefox["category"], firefox["name"]) == ("firefox", "browser", "Firefox ESR")
    assert (firefox["version"], firefox["track"], firefox["source"]) == ("153.5.0esr", "esr", "dpkg")
    assert firefox["path"] == "/usr/lib/firefox-esr/firefox-esr"
    owed = [f for f in document["findings"] if f["status"] == "owed"]
    assert [(f["rule"], f["product"], f["installed"], f["required"]) for f in owed] == [
        ("firefox-esr", "firefox", "153.5.0esr", "153.6")
    ]
    assert document["summary"]["status"] == "owed"
    assert document["summary"]["owed"] == 1
    assert document["rules"]["serial"] == 7


@on_linux
def test_design_example_keys_on_running_machine(capsys: pytest.CaptureFixture[str]) -> None:
    document = _check(capsys, ["--rules", str(DESIGN_RULES)])
    for key, wanted in DESIGN_KEYS.items():
        items = document[key] if isinstance(document[key], list) else [document[key]]
        for item in items:
            assert wanted <= item.keys(), key


# Hand-built reports ----------------------------------------------------------------------------------------

DEBIAN = OSInfo(
    platform="linux",
    id="debian",
    name="Debian GNU/Linux",
    version=Version("12.8"),
    pretty_name="Debian GNU/Linux 12 (bookworm)",
    codename="bookworm",
    kernel="6.1.0-28-amd64",
    source="/etc/debian_version",
)
UNREADABLE_OS = OSInfo(
    platform="linux",
    id="arch",
    name="Arch Linux",
    version=None,
    id_like=("archlinux",),
    source="/etc/os-release",
    problem="a rolling release has no version number",
)
FIREFOX_ESR = Installation(
    product="firefox",
    category="browser",
    name="Firefox ESR",
    version=Version("153.7.0esr-1~deb12u1"),
    track="esr",
    source="dpkg",
    path="/usr/lib/firefox-esr/firefox-esr",
    package="firefox-esr",
    package_version="153.7.0esr-1~deb12u1",
    desktop_id="firefox-esr.desktop",
)
UNREADABLE_CHROME = Installation(
    product="chrome",
    category="browser",
    name="Google Chrome",
    version=None,
    scope="user",
    desktop_id="google-chrome.desktop",
    problem="no package owns /home/a/.local/share/applications/google-chrome.desktop",
)
SNAP_OKULAR = Installation(
    product="okular",
    category="pdf-viewer",
    name="Okular",
    version=Version("24.08.3"),
    source="snap",
    path="/snap/bin/okular",
    package="okular",
    package_version="24.08.3",
)
FRESH_RULES = RulesInfo(
    source="bundled",
    serial=2026112501,
    sha256="b480b77cf92ede94293e0fb3027cdb68864a326755c3d27ee1c01bb0b8974af7",
    publisher="clientcheck bundled defaults",
    published=dt.date(2026, 11, 25),
    expires=dt.date(2027, 1, 31),
)
STALE_FALLBACK_RULES = RulesInfo(
    source="bundled",
    serial=0,
    sha256="0" * 64,
    publisher="Example Corp IT",
    published=dt.date(2026, 1, 1),
    expires=dt.date(2026, 2, 28),
    stale=True,
    fallback_reason="/etc/clientcheck/rules.json: serial: must be at least 0, not -1; using the bundled rules instead",
)


def _finding(status: str, severity: str = "required") -> Finding:
    unknown = status == "unknown"
    return Finding(
        rule=f"rule-{status}",
        product="chrome" if unknown else "firefox",
        name="Google Chrome" if unknown else "Firefox ESR",
        status=status,  # type: ignore[arg-type]
        severity=severity,  # type: ignore[arg-type]
        installed=None if unknown else Version("153.5.0esr"),
        required=None if unknown else Version("153.6"),
        message=f"a finding that is {status}",
        url=None if status == "ok" else "https://support.mozilla.org/kb/update-firefox-latest-release",
        deadline=dt.date(2026, 12, 2) if status == "due" else None,
        remedy="sudo apt update && sudo apt install --only-upgrade firefox-esr" if status != "ok" else None,
        scope="system",
        path="/usr/lib/firefox-esr/firefox-esr",
    )


def _sorted(findings: list[Finding]) -> tuple[Finding, ...]:
    return tuple(sorted(findings, key=lambda f: (STATUS_ORDER.index(f.status), f.severity != "required")))


def _report(report: Report) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(render_report(report))
    assert_valid_report(document)
    return document


def test_hand_built_report_with_every_status() -> None:
    inventory = Inventory(
        os=UNREADABLE_OS,
        software=(FIREFOX_ESR, UNREADABLE_CHROME, SNAP_OKULAR),
        default_pdf="org.kde.okular.desktop",
        warnings=("/var/lib/dpkg/status: cannot read: Permission denied",),
    )
    findings = _sorted([_finding(status) for status in STATUSES] + [_finding("owed", "recommended")])
    document = _report(
        Report(generated_at=NOW, inventory=inventory, findings=findings, rules=STALE_FALLBACK_RULES, language="pt-BR")
    )
    assert document["os"]["version"] is None
    assert document["os"]["problem"]
    assert [item["version"] for item in document["software"]] == ["153.7.0esr", None, "24.08.3"]
    assert document["rules"]["stale"] is True
    assert document["rules"]["fallback_reason"]
    assert document["summary"] == {
        "status": "owed",
        "owed": 2,
        "unsupported": 1,
        "restart": 0,
        "due": 1,
        "unknown": 1,
        "ok": 1,
    }
    assert document["generated_at"] == "2026-11-25T09:00:00Z"
    assert_valid_inventory(json.loads(render_inventory(inventory, NOW)))


@pytest.mark.parametrize(
    ("status", "severity", "summary"),
    [
        ("ok", "required", "ok"),
        ("owed", "required", "owed"),
        ("unsupported", "required", "owed"),
        ("due", "required", "due"),
        ("unknown", "required", "unknown"),
        ("owed", "recommended", "due"),
        ("unsupported", "recommended", "due"),
        ("unknown", "recommended", "unknown"),
    ],
)
def test_hand_built_report_summary_status(status: str, severity: str, summary: str) -> None:
    inventory = Inventory(os=DEBIAN, software=(FIREFOX_ESR,))
    report = Report(generated_at=NOW, inventory=inventory, findings=(_finding(status, severity),), rules=FRESH_RULES)
    document = _report(report)
    assert document["summary"]["status"] == summary
    assert document["findings"][0]["status"] == status
    assert document["findings"][0]["severity"] == severity


def test_hand_built_report_of_an_empty_machine() -> None:
    inventory = Inventory(os=UNREADABLE_OS)
    document = _report(Report(generated_at=NOW, inventory=inventory, findings=(), rules=FRESH_RULES))
    assert document["software"] == []
    assert document["findings"] == []
    assert document["summary"]["status"] == "ok"
    assert_valid_inventory(json.loads(render_inventory(inventory, NOW)))


CLOSED_PLACES = (
    Unreadable("/Applications", "cannot read: Permission denied", "applications installed there"),
    Unreadable("/var/lib/dpkg/status", "larger than 16 MiB, not read", "the versions of packaged applications"),
)


def test_hand_built_report_with_unreadable_places_and_rules_from_the_future() -> None:
    inventory = Inventory(os=DEBIAN, software=(FIREFOX_ESR,), unreadable=CLOSED_PLACES)
    future = FRESH_RULES.replace(published=dt.date(2027, 1, 1), published_in_future=True)
    report = Report(generated_at=NOW, inventory=inventory, findings=(_finding("ok"),), rules=future)
    document = _report(report)
    assert document["summary"]["status"] == "unknown"
    assert document["unreadable"][1] == {
        "path": "/var/lib/dpkg/status",
        "problem": "larger than 16 MiB, not read",
        "hides": "the versions of packaged applications",
    }
    assert document["warnings"] == ["/Applications: cannot read: Permission denied", CLOSED_PLACES[1].line]
    assert document["rules"]["published_in_future"] is True
    inventory_document = json.loads(render_inventory(inventory, NOW))
    assert_valid_inventory(inventory_document)
    assert inventory_document["unreadable"] == document["unreadable"]


@pytest.mark.parametrize(
    "generated_at",
    [
        dt.datetime(2026, 11, 25, 10, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        dt.datetime(2026, 11, 25, 3, 30, 59, tzinfo=dt.timezone(dt.timedelta(hours=-5, minutes=-30))),
    ],
    ids=["plus-one-fractional", "minus-five-thirty"],
)
def test_generated_at_is_utc_to_the_second(generated_at: dt.datetime) -> None:
    inventory = Inventory(os=DEBIAN, software=(FIREFOX_ESR,))
    document = _report(Report(generated_at=generated_at, inventory=inventory, findings=(), rules=FRESH_RULES))
    expected = generated_at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert document["generated_at"] == expected
    assert json.loads(render_inventory(inventory, generated_at))["generated_at"] == expected


# The schemas are not vacuous: they reject what the renderer must never write ------------------------------


def _good_report() -> dict[str, Any]:
    inventory = Inventory(os=DEBIAN, software=(FIREFOX_ESR, UNREADABLE_CHROME))
    findings = _sorted([_finding(status) for status in STATUSES])
    return _report(Report(generated_at=NOW, inventory=inventory, findings=findings, rules=FRESH_RULES))


def _set(document: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node: Any = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is _DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("schema", "clientcheck.report/2"),
        ("generated_at", "2026-11-25T09:00:00+00:00"),
        ("generated_at", "2026-11-25 09:00:00Z"),
        ("generated_at", "2026-13-25T09:00:00Z"),
        ("os.platform", "freebsd"),
        ("os.version", ""),
        ("os.version", 12),
        ("os.id_like", "debian"),
        ("os.problem", _DELETE),
        ("software.0.category", "email"),
        ("software.0.scope", "machine"),
        ("software.0.package_version", _DELETE),
        ("software.1.version", "unknown"),
        ("findings.0.status", "failed"),
        ("findings.0.severity", "optional"),
        ("findings.0.deadline", "2026-12-2"),
        ("findings.0.remedy", _DELETE),
        ("findings.0.message", None),
        ("rules.sha256", "B480B77CF92EDE94293E0FB3027CDB68864A326755C3D27EE1C01BB0B8974AF7"),
        ("rules.sha256", "b480b77c"),
        ("rules.serial", "7"),
        ("rules.serial", -1),
        ("rules.expires", "2027-02-30"),
        ("rules.stale", "false"),
        ("rules.fallback_reason", _DELETE),
        ("summary.status", "unsupported"),
        ("summary.owed", -1),
        ("summary.ok", _DELETE),
        ("warnings", None),
        ("default_pdf_viewer", _DELETE),
        ("agent.name", "other"),
    ],
)
def test_report_schema_rejects(path: str, value: Any) -> None:
    document = _good_report()
    _set(document, path, value)
    assert _errors(REPORT, document), f"{path} = {value!r} was accepted"


def test_schemas_accept_added_keys() -> None:
    document = _good_report()
    document["new_top_level_key"] = 1
    for part in (document["os"], document["software"][0], document["findings"][0], document["rules"]):
        part["new_key"] = "added later"
    document["summary"]["new_status"] = 0
    assert not _errors(REPORT, document)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("unreadable", None),
        ("unreadable.0.path", ""),
        ("unreadable.0.hides", _DELETE),
        ("unreadable.1.problem", 13),
        ("rules.published_in_future", "no"),
    ],
)
def test_report_schema_rejects_bad_unreadable_places(path: str, value: Any) -> None:
    inventory = Inventory(os=DEBIAN, software=(FIREFOX_ESR,), unreadable=CLOSED_PLACES)
    document = _report(Report(generated_at=NOW, inventory=inventory, findings=(_finding("ok"),), rules=FRESH_RULES))
    _set(document, path, value)
    assert _errors(REPORT, document), f"{path} = {value!r} was accepted"


def test_a_report_from_before_the_unreadable_key_is_still_valid() -> None:
    # A collector validates reports of older agents with this schema: added keys are not required.
    document = _good_report()
    del document["unreadable"]
    del document["rules"]["published_in_future"]
    assert not _errors(REPORT, document)

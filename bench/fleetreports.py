"""Reports of a simulated fleet, made by the real agent: ``clientcheck check --format json`` on each fixture
machine under tests/fixtures (Linux trees, Macs, Windows registry exports), then varied the way a fleet
varies: a browser that a new release makes due, then owed at its deadline, until the host updates; the
agent's version; the day (``as_of`` is part of the content, so the first report of each day is a changed
report and the others of that day are check-ins).

Shared by the load simulator (bench/loadsim.py) and the bulk seeder (bench/seed.py). The content hash is
written out here from docs/collector-protocol.md, independently of the server's code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"

# (name, platform, tree, registry export): every fixture machine the agent judges without error.
MACHINES = [
    *(
        (name, "linux", FIXTURES / "linux" / name / "root", None)
        for name in (
            "debian-12-desktop",
            "fedora-41-workstation",
            "ubuntu-24.04-snaps",
            "arch-rolling",
            "flatpak-only-user",
            "minimal-container",
        )
    ),
    *((name, "macos", FIXTURES / "macos" / name / "root", None) for name in ("macos-15-sequoia", "macos-13-rsr")),
    *(
        (name, "windows", FIXTURES / "windows" / name / "root", FIXTURES / "windows" / name / "registry.reg")
        for name in ("windows-10-22h2", "windows-11-24h2", "windows-server-2022")
    ),
]
AGENT_VERSIONS = ("0.1.0", "0.1.1", "0.2.0")
GRACE_DAYS = 7  # a release's deadline: this many days after it
_RANK = {"owed": 5, "unsupported": 4, "restart": 3, "due": 2, "unknown": 1, "ok": 0}


def content_hash(report: dict[str, Any]) -> str:
    """docs/collector-protocol.md: SHA-256 of the canonical JSON without generated_at and report_id."""
    stripped = {k: v for k, v in report.items() if k not in ("generated_at", "report_id")}
    text = json.dumps(stripped, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def machine_reports(now: dt.datetime) -> dict[str, dict[str, Any]]:
    """The agent's report of each fixture machine, judged at ``now`` with the bundled rules, offline."""
    from clientcheck.cli import main
    from clientcheck.config import Places

    reports: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        nowhere = str(Path(folder) / "none.toml")
        places = Places(machine=nowhere, user=None, managed=nowhere)
        for name, platform, root, registry in MACHINES:
            out = Path(folder) / f"{name}.json"
            argv = ["check", "--format", "json", "--root", str(root), "--platform", platform, "--output", str(out)]
            if registry is not None:
                argv += ["--registry", str(registry)]
            status = main(argv, env={}, now=now, places=places)
            if status not in (0, 1):
                raise RuntimeError(f"clientcheck check on {name} exited {status}")
            reports[name] = json.loads(out.read_text(encoding="utf-8"))
    return reports


def _summary(findings: list[dict[str, Any]]) -> dict[str, Any]:
    counts = dict.fromkeys(("owed", "unsupported", "restart", "due", "unknown", "ok"), 0)
    worst = "ok"
    for finding in findings:
        counts[finding["status"]] += 1
        if _RANK[finding["status"]] > _RANK[worst]:
            worst = finding["status"]
    status = "owed" if worst in ("owed", "unsupported", "restart") else worst
    return {"status": status, **counts}


def varied(
    base: dict[str, Any],
    *,
    as_of: dt.date,
    release: int,
    release_day: dt.date,
    installed: int,
    agent_version: str,
    patch: int = 0,
) -> dict[str, Any]:
    """``base`` as the agent would write it on day ``as_of`` when the fleet's browser (the report's first
    finding) is at release ``release`` (published ``release_day``) and this host has installed release
    ``installed``: ok when up to date, else due until the deadline, owed from it (the agent's own reading;
    the server passes deadlines on its clock too). ``patch`` varies the installed version's last part."""
    # Shallow copies: the base is shared, only what changes is new (the seeder keeps thousands of these).
    report = dict(base)
    report["as_of"] = as_of.isoformat()
    report["agent"] = {**base["agent"], "version": agent_version}
    findings = list(base["findings"])
    if findings:
        # The fleet's browser: the first finding that is not the OS's own (a container has only that).
        index = next((i for i, f in enumerate(findings) if f["product"] != base["os"].get("id")), 0)
        moving = dict(findings[index])
        deadline = release_day + dt.timedelta(days=GRACE_DAYS)
        moving["installed"] = f"{200 + installed}.0.{6000 + patch}.1"
        moving["required"] = f"{200 + release}.0"
        if installed >= release:
            moving["status"], moving["deadline"] = "ok", None
        elif as_of < deadline:
            moving["status"], moving["deadline"] = "due", deadline.isoformat()
        else:
            moving["status"], moving["deadline"] = "owed", None
        findings[index] = moving
        report["findings"] = findings
        report["summary"] = _summary(findings)
    return report

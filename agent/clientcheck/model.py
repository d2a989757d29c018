"""The values that flow between the stages: inspect -> Inventory, rules -> RuleSet, evaluate -> Report.

All are frozen dataclasses so a stage cannot change what an earlier one produced.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, Optional

from clientcheck.version import Version

Platform = Literal["linux", "macos", "windows"]
PLATFORMS: tuple[Platform, ...] = ("linux", "macos", "windows")
Category = Literal["browser", "pdf-viewer"]
Scope = Literal["system", "user"]
Status = Literal["ok", "owed", "due", "unsupported", "unknown"]
Severity = Literal["required", "recommended"]

# Worst first: the order a person should read findings in, and how the summary is chosen.
STATUS_ORDER: tuple[Status, ...] = ("owed", "unsupported", "due", "unknown", "ok")


@dataclass(frozen=True)
class OSInfo:
    platform: Platform
    id: str  # "windows", "macos", or the os-release ID ("debian", "fedora", …)
    name: str
    version: Optional[Version]
    pretty_name: Optional[str] = None
    track: Optional[str] = None  # "lts"/"interim" for Ubuntu, "client"/"server" for Windows
    codename: Optional[str] = None
    id_like: tuple[str, ...] = ()
    kernel: Optional[str] = None
    source: Optional[str] = None  # the file the version was read from
    problem: Optional[str] = None  # why the version could not be read


@dataclass(frozen=True)
class Installation:
    product: str
    category: Category
    name: str
    version: Optional[Version]
    track: Optional[str] = None
    scope: Scope = "system"
    source: Optional[str] = None  # "dpkg", "rpm", "pacman", "snap", "flatpak", "application.ini", …
    path: Optional[str] = None
    package: Optional[str] = None  # package, snap or flatpak app id that provides it
    package_version: Optional[str] = None  # the version exactly as the package database writes it
    desktop_id: Optional[str] = None
    problem: Optional[str] = None  # why the version could not be read


@dataclass(frozen=True)
class Inventory:
    os: OSInfo
    software: tuple[Installation, ...] = ()
    default_pdf: Optional[str] = None  # product id, or the desktop id when it is not a known product
    default_pdf_source: Optional[str] = None
    warnings: tuple[str, ...] = ()  # files that could not be read, one line each


LocalizedText = tuple[tuple[str, str], ...]  # (language tag, text) pairs, in the file's order


@dataclass(frozen=True)
class Grace:
    since: dt.date
    days: int

    @property
    def until(self) -> dt.date:
        return self.since + dt.timedelta(days=self.days)


@dataclass(frozen=True)
class Unsupported:
    below: Optional[Version]  # None: the whole product or track is end-of-life
    since: Optional[dt.date]
    message: LocalizedText = ()
    url: Optional[str] = None


@dataclass(frozen=True)
class Rule:
    id: str
    products: tuple[str, ...]
    minimum: Optional[Version] = None
    track: Optional[str] = None
    platforms: tuple[Platform, ...] = ()
    severity: Severity = "required"
    grace: Optional[Grace] = None
    unsupported: Optional[Unsupported] = None
    message: LocalizedText = ()
    url: Optional[str] = None


@dataclass(frozen=True)
class RuleSet:
    publisher: str
    serial: int
    published: dt.date
    expires: dt.date
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class RulesInfo:
    """Which rule file a report was judged by, and anything the reader should know about it."""

    source: str  # "bundled", a path, or a URL
    serial: int
    sha256: str
    publisher: str
    published: dt.date
    expires: dt.date
    stale: bool = False
    fallback_reason: Optional[str] = None  # why the requested rules were not the ones used


@dataclass(frozen=True)
class Finding:
    rule: str
    product: str
    name: str
    status: Status
    severity: Severity
    installed: Optional[Version]
    required: Optional[Version]
    message: str
    url: Optional[str] = None
    deadline: Optional[dt.date] = None  # for "due": when it becomes "owed"
    remedy: Optional[str] = None  # how to make the update on this machine
    scope: Optional[Scope] = None
    path: Optional[str] = None

    @property
    def blocking(self) -> bool:
        """Whether this finding makes ``check`` exit non-zero."""
        return self.severity == "required" and self.status in ("owed", "unsupported")


@dataclass(frozen=True)
class Report:
    generated_at: dt.datetime
    inventory: Inventory
    findings: tuple[Finding, ...]
    rules: RulesInfo
    language: str = "en"

    @property
    def blocking(self) -> bool:
        return any(finding.blocking for finding in self.findings)

    @property
    def status(self) -> Status:
        """``owed`` when anything required is owed (exit 1); ``due`` when something is below its minimum
        but not yet required (in grace, or only recommended); ``unknown`` when a version could not be read;
        else ``ok``."""
        if self.blocking:
            return "owed"
        statuses = {finding.status for finding in self.findings}
        if statuses & {"owed", "unsupported", "due"}:
            return "due"
        if "unknown" in statuses:
            return "unknown"
        return "ok"

    def count(self, status: Status) -> int:
        return sum(1 for finding in self.findings if finding.status == status)

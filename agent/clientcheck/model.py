"""The values that flow between the stages: inspect -> Inventory, rules -> RuleSet, evaluate -> Report.

All are immutable records (see ``record``) so a stage cannot change what an earlier one produced.
"""

from __future__ import annotations

from clientcheck import dates as dt
from clientcheck.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # type names only: ``typing`` is not imported at run time, for start-up speed
    from typing import Literal

    from clientcheck.version import Version

    Platform = Literal["linux", "macos", "windows"]
    Category = Literal["browser", "pdf-viewer"]
    Scope = Literal["system", "user"]
    Status = Literal["ok", "owed", "due", "unsupported", "restart", "unknown"]
    RestartKind = Literal["program", "system"]
    Severity = Literal["required", "recommended"]
    StepLevel = Literal["quiet", "notice", "warning"]
    LocalizedText = tuple[tuple[str, str], ...]  # (language tag, text) pairs, in the file's order

PLATFORMS: tuple[Platform, ...] = ("linux", "macos", "windows")

# Worst first: the order a person should read findings in, and how the summary is chosen.
STATUS_ORDER: tuple[Status, ...] = ("owed", "unsupported", "restart", "due", "unknown", "ok")


class OSInfo(Record):
    __slots__ = (
        "platform",
        "id",
        "name",
        "version",
        "pretty_name",
        "track",
        "codename",
        "id_like",
        "kernel",
        "source",
        "problem",
    )

    platform: Platform
    id: str  # "windows", "macos", or the os-release ID ("debian", "fedora", …)
    name: str
    version: Version | None
    pretty_name: str | None
    track: str | None  # "lts"/"interim" for Ubuntu, "client"/"server" for Windows
    codename: str | None
    id_like: tuple[str, ...]
    kernel: str | None
    source: str | None  # the file the version was read from
    problem: str | None  # why the version could not be read

    def __init__(
        self,
        platform: Platform,
        id: str,
        name: str,
        version: Version | None,
        pretty_name: str | None = None,
        track: str | None = None,
        codename: str | None = None,
        id_like: tuple[str, ...] = (),
        kernel: str | None = None,
        source: str | None = None,
        problem: str | None = None,
    ) -> None:
        self._set(locals())


class Installation(Record):
    __slots__ = (
        "product",
        "category",
        "name",
        "version",
        "track",
        "scope",
        "source",
        "path",
        "package",
        "package_version",
        "desktop_id",
        "problem",
    )

    product: str
    category: Category
    name: str
    version: Version | None
    track: str | None
    scope: Scope
    source: str | None  # "dpkg", "rpm", "pacman", "snap", "flatpak", "application.ini", …
    path: str | None
    package: str | None  # package, snap or flatpak app id that provides it
    package_version: str | None  # the version exactly as the package database writes it
    desktop_id: str | None
    problem: str | None  # why the version could not be read

    def __init__(
        self,
        product: str,
        category: Category,
        name: str,
        version: Version | None,
        track: str | None = None,
        scope: Scope = "system",
        source: str | None = None,
        path: str | None = None,
        package: str | None = None,
        package_version: str | None = None,
        desktop_id: str | None = None,
        problem: str | None = None,
    ) -> None:
        self._set(locals())


class PendingRestart(Record):
    """An update installed but not in effect until a program, or the whole system, restarts."""

    __slots__ = ("product", "kind", "path", "installed", "running", "reason")

    product: str  # the installation's product id, or the OS id ("debian", "windows") for a system restart
    kind: RestartKind  # "program": close and reopen it; "system": restart the computer
    path: str | None  # the installation's path, or the file or registry key that says a restart is needed
    installed: Version | None  # the version installed on disk (programs)
    running: Version | None  # the version still running, where it can be known
    reason: str  # a short English phrase for reports

    def __init__(
        self,
        product: str,
        kind: RestartKind,
        path: str | None,
        installed: Version | None,
        running: Version | None,
        reason: str,
    ) -> None:
        self._set(locals())


class Unreadable(Record):
    """A place that could not be read, and that decides what is installed or at which version: what it
    holds may be missing from the inventory, so nothing can be called up to date."""

    __slots__ = ("path", "problem", "hides")

    path: str  # the folder, file or database
    problem: str  # why it could not be read ("cannot read: Permission denied")
    hides: str  # what may be missing because of it, a noun phrase: "applications installed there"

    def __init__(self, path: str, problem: str, hides: str) -> None:
        self._set(locals())

    @property
    def line(self) -> str:
        """Where and why, as a warning line: ``/Applications: cannot read: Permission denied``."""
        return f"{self.path}: {self.problem}"

    @property
    def sentence(self) -> str:
        """One line for a person: where, why, and what the report may lack because of it."""
        return f"{self.line}; {self.hides} may be missing from this report"


class Inventory(Record):
    __slots__ = (
        "os",
        "software",
        "default_pdf",
        "default_pdf_source",
        "warnings",
        "restarts",
        "unreadable",
        "software_centers",
    )

    os: OSInfo
    software: tuple[Installation, ...]
    default_pdf: str | None  # product id, or the desktop id when it is not a known product
    default_pdf_source: str | None
    warnings: tuple[str, ...]  # files that could not be read but hide nothing, one line each
    restarts: tuple[PendingRestart, ...]  # updates installed but not in effect until a restart
    unreadable: tuple[Unreadable, ...]  # places that could not be read and may hide an installation
    software_centers: tuple[str, ...]  # Linux: the catalog's software centers installed, the desktop's first

    def __init__(
        self,
        os: OSInfo,
        software: tuple[Installation, ...] = (),
        default_pdf: str | None = None,
        default_pdf_source: str | None = None,
        warnings: tuple[str, ...] = (),
        restarts: tuple[PendingRestart, ...] = (),
        unreadable: tuple[Unreadable, ...] = (),
        software_centers: tuple[str, ...] = (),
    ) -> None:
        self._set(locals())


class FixAction(Record):
    """What starts an update, for a person, without privileges of ours: a URI to open (a link in the HTML
    report, a button of a notification) or, on Linux, a program to start from a notification's button.
    Chosen by product and OS from the catalog (``remedy.fix_for``), never taken from a rule file."""

    __slots__ = ("label", "name", "uri", "argv")

    label: str  # English, with {name}: "Update with {name}"; said in the person's language where shown
    name: str  # what {name} stands for: "Software", "Google Chrome", "Windows Update"
    uri: str | None  # ms-settings:windowsupdate, x-apple.systempreferences:…, https://…
    argv: tuple[str, ...] | None  # a program and its arguments (Linux): a software center, a browser's page

    def __init__(self, label: str, name: str, uri: str | None = None, argv: tuple[str, ...] | None = None) -> None:
        self._set(locals())


class Grace(Record):
    __slots__ = ("since", "days")

    since: dt.date
    days: int

    def __init__(self, since: dt.date, days: int) -> None:
        self._set(locals())

    @property
    def until(self) -> dt.date:
        return self.since + dt.timedelta(days=self.days)


class Step(Record):
    """How loudly a finding in grace is said from ``days_left`` days before its deadline on: ``quiet`` (in
    the reports only), ``notice`` (a notification), ``warning`` (an urgent one, in stronger words)."""

    __slots__ = ("days_left", "level")

    days_left: int
    level: StepLevel

    def __init__(self, days_left: int, level: StepLevel) -> None:
        self._set(locals())


# Without steps, a finding in grace is a notice all the way to its deadline.
DEFAULT_STEP: StepLevel = "notice"


def step_at(steps: tuple[Step, ...] | None, days_left: int) -> StepLevel:
    """The level ``days_left`` days before a deadline: that of the step nearest the deadline that has
    begun (its ``days_left`` is at least as many); ``quiet`` before the first step begins."""
    if not steps:
        return DEFAULT_STEP
    begun = [step for step in steps if step.days_left >= days_left]
    return min(begun, key=lambda step: step.days_left).level if begun else "quiet"


def days_left(finding: Finding, today: dt.date) -> int | None:
    """For a finding in grace: the days from ``today`` (the day judged) to its deadline, the first day it
    is owed (the evaluation counts them; a finding made by hand may lack them)."""
    if finding.days_left is not None:
        return finding.days_left
    return (finding.deadline - today).days if finding.deadline is not None else None


class Unsupported(Record):
    __slots__ = ("below", "since", "message", "url")

    below: Version | None  # None: the whole product or track is end-of-life
    since: dt.date | None
    message: LocalizedText
    url: str | None

    def __init__(
        self, below: Version | None, since: dt.date | None, message: LocalizedText = (), url: str | None = None
    ) -> None:
        self._set(locals())


class Rule(Record):
    __slots__ = (
        "id",
        "products",
        "minimum",
        "track",
        "platforms",
        "severity",
        "grace",
        "unsupported",
        "message",
        "url",
        "steps",
    )

    id: str
    products: tuple[str, ...]
    minimum: Version | None
    track: str | None
    platforms: tuple[Platform, ...]
    severity: Severity
    grace: Grace | None
    unsupported: Unsupported | None
    message: LocalizedText
    url: str | None
    steps: tuple[Step, ...] | None  # x-clientcheck-steps; None: the file's, if it has any

    def __init__(
        self,
        id: str,
        products: tuple[str, ...],
        minimum: Version | None = None,
        track: str | None = None,
        platforms: tuple[Platform, ...] = (),
        severity: Severity = "required",
        grace: Grace | None = None,
        unsupported: Unsupported | None = None,
        message: LocalizedText = (),
        url: str | None = None,
        steps: tuple[Step, ...] | None = None,
    ) -> None:
        self._set(locals())


class RuleSet(Record):
    __slots__ = ("publisher", "serial", "published", "expires", "rules", "url", "steps")

    publisher: str
    serial: int
    published: dt.date
    expires: dt.date
    rules: tuple[Rule, ...]
    url: str | None  # where the file says it is published: fetched from anywhere else, it is refused
    steps: tuple[Step, ...] | None  # x-clientcheck-steps at the top: every rule's, unless it has its own

    def __init__(
        self,
        publisher: str,
        serial: int,
        published: dt.date,
        expires: dt.date,
        rules: tuple[Rule, ...],
        url: str | None = None,
        steps: tuple[Step, ...] | None = None,
    ) -> None:
        self._set(locals())


class RulesInfo(Record):
    """Which rule file a report was judged by, and anything the reader should know about it."""

    __slots__ = (
        "source",
        "serial",
        "sha256",
        "publisher",
        "published",
        "expires",
        "stale",
        "fallback_reason",
        "published_in_future",
    )

    source: str  # "bundled", a path, or a URL
    serial: int
    sha256: str
    publisher: str
    published: dt.date
    expires: dt.date
    stale: bool  # the day judged for is after ``expires``: newer minimums may exist
    fallback_reason: str | None  # why the requested rules were not the ones used
    # Published after the day judged for: this machine's clock is wrong (set back, so expiry and deadlines
    # never come), or the file is not what it claims to be.
    published_in_future: bool

    def __init__(
        self,
        source: str,
        serial: int,
        sha256: str,
        publisher: str,
        published: dt.date,
        expires: dt.date,
        stale: bool = False,
        fallback_reason: str | None = None,
        published_in_future: bool = False,
    ) -> None:
        self._set(locals())

    @property
    def in_doubt(self) -> bool:
        """Whether a verdict by these rules may be wrong for a reason of the rules': expired, not the ones
        asked for, or dated after today."""
        return self.stale or self.fallback_reason is not None or self.published_in_future


class Finding(Record):
    __slots__ = (
        "rule",
        "product",
        "name",
        "status",
        "severity",
        "installed",
        "required",
        "message",
        "url",
        "deadline",
        "remedy",
        "scope",
        "path",
        "restart",
        "days_left",
        "step",
        "fix",
    )

    rule: str
    product: str
    name: str
    status: Status
    severity: Severity
    installed: Version | None
    required: Version | None
    message: str
    url: str | None
    deadline: dt.date | None  # for "due": when it becomes "owed"
    remedy: str | None  # how to make the update on this machine
    scope: Scope | None
    path: str | None
    restart: str | None  # why an installed update is not yet in effect (status "restart", or a note)
    days_left: int | None  # for "due": days from the day judged to the deadline (1: owed from tomorrow)
    step: StepLevel | None  # for "due": how loudly it is said, from the rule's steps
    fix: FixAction | None  # what starts the update, where one click can

    def __init__(
        self,
        rule: str,
        product: str,
        name: str,
        status: Status,
        severity: Severity,
        installed: Version | None,
        required: Version | None,
        message: str,
        url: str | None = None,
        deadline: dt.date | None = None,
        remedy: str | None = None,
        scope: Scope | None = None,
        path: str | None = None,
        restart: str | None = None,
        days_left: int | None = None,
        step: StepLevel | None = None,
        fix: FixAction | None = None,
    ) -> None:
        self._set(locals())

    @property
    def blocking(self) -> bool:
        """Whether this finding makes ``check`` exit non-zero. An update installed but not in effect until a
        restart is still owed: the machine still runs the old code."""
        return self.severity == "required" and self.status in ("owed", "unsupported", "restart")


class Report(Record):
    __slots__ = ("generated_at", "inventory", "findings", "rules", "language", "as_of")

    generated_at: dt.datetime
    inventory: Inventory
    findings: tuple[Finding, ...]
    rules: RulesInfo
    language: str
    as_of: dt.date  # the day it was judged for: today, or --as-of

    def __init__(
        self,
        generated_at: dt.datetime,
        inventory: Inventory,
        findings: tuple[Finding, ...],
        rules: RulesInfo,
        language: str = "en",
        as_of: dt.date | None = None,
    ) -> None:
        as_of = as_of or generated_at.date()
        self._set(locals())

    @property
    def blocking(self) -> bool:
        return any(finding.blocking for finding in self.findings)

    @property
    def status(self) -> Status:
        """``owed`` when anything required is owed (exit 1); ``due`` when something is below its minimum
        but not yet required (in grace, or only recommended); ``unknown`` when a version could not be read,
        or a place that may hold an installation could not be read (what it hides may be owed); else
        ``ok``. What is known to be owed or due comes first: it needs acting on whatever else is found."""
        if self.blocking:
            return "owed"
        statuses = {finding.status for finding in self.findings}
        if statuses & {"owed", "unsupported", "restart", "due"}:
            return "due"
        if "unknown" in statuses or self.inventory.unreadable:
            return "unknown"
        return "ok"

    def count(self, status: Status) -> int:
        return sum(1 for finding in self.findings if finding.status == status)

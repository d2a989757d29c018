"""Judge an inventory by a rule set: ``Inventory x RuleSet x today -> findings``. Pure: no I/O, no clock."""

from __future__ import annotations

from clientcheck import dates as dt
from clientcheck.model import STATUS_ORDER, Finding, step_at
from clientcheck.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from clientcheck.i18n import Translation
    from clientcheck.model import (
        Installation,
        Inventory,
        LocalizedText,
        OSInfo,
        PendingRestart,
        Rule,
        RuleSet,
        Scope,
        Status,
        Step,
        Unsupported,
    )
    from clientcheck.version import Version

UNIDENTIFIED_OS = "linux"  # the id the Linux inspector gives an OS whose os-release it could not read


class _Subject(Record):
    """The OS or one installation, seen the same way by the rules."""

    __slots__ = ("product", "name", "version", "track", "problem", "scope", "path", "installation")

    product: str
    name: str
    version: Version | None
    track: str | None
    problem: str | None
    scope: Scope | None
    path: str | None
    installation: Installation | None

    def __init__(
        self,
        product: str,
        name: str,
        version: Version | None,
        track: str | None,
        problem: str | None,
        scope: Scope | None,
        path: str | None,
        installation: Installation | None,
    ) -> None:
        self._set(locals())


def pick_text(text: LocalizedText, language: str) -> str | None:
    """The text for ``language`` (``pt-BR``), else its primary language (``pt``), else English, else any."""
    if not text:
        return None
    by_tag = {tag.lower().replace("_", "-"): value for tag, value in text}
    wanted = language.lower().replace("_", "-")
    primary = wanted.split("-")[0]
    for tag in (wanted, primary):
        if tag in by_tag:
            return by_tag[tag]
    for tag, value in by_tag.items():
        if tag.split("-")[0] == primary:
            return value
    return by_tag.get("en", text[0][1])


def _subjects(inventory: Inventory) -> Iterator[_Subject]:
    os_info = inventory.os
    yield _Subject(os_info.id, os_info.name, os_info.version, os_info.track, os_info.problem, None, None, None)
    for item in inventory.software:
        yield _Subject(item.product, item.name, item.version, item.track, item.problem, item.scope, item.path, item)


def _names(rule: Rule, subject: _Subject, platform: str) -> bool:
    return subject.product in rule.products and (not rule.platforms or platform in rule.platforms)


def _applies(rule: Rule, subject: _Subject, platform: str) -> bool:
    return _names(rule, subject, platform) and (rule.track is None or rule.track == subject.track)


def _rules_for(subject: _Subject, rules: tuple[Rule, ...], platform: str) -> list[Rule]:
    """The rules that judge ``subject``. When its version could not be read, neither could its track where
    the version tells it (Acrobat classic or continuous, Windows client or server): then the first rule
    that names it on any track judges it, ``unknown``, and it is never "not covered by the rules"."""
    applying = [rule for rule in rules if _applies(rule, subject, platform)]
    if applying or subject.version is not None or subject.track is not None:
        return applying
    return next(([rule] for rule in rules if _names(rule, subject, platform)), [])


def _restart_of(subject: _Subject, restarts: tuple[PendingRestart, ...]) -> PendingRestart | None:
    """The pending restart that concerns ``subject``: the system's for the OS, else the installation's."""
    for restart in restarts:
        if subject.installation is None:
            if restart.kind == "system":
                return restart
        elif (
            restart.kind == "program"
            and restart.product == subject.product
            and (restart.path is None or subject.path is None or restart.path == subject.path)
        ):
            return restart
    return None


def _with_restart(
    finding: Finding, restart: PendingRestart | None, os_info: OSInfo, t: Callable[[], Translation]
) -> Finding:
    """An update on disk but not in effect is still owed: an ``ok`` finding becomes ``restart``, unless the
    version still running is known to meet the minimum. Any other finding just carries the note."""
    if restart is None:
        return finding
    if finding.status != "ok":
        return finding.replace(restart=restart.reason)
    if restart.running is not None and (finding.required is None or restart.running >= finding.required):
        return finding.replace(restart=restart.reason)  # a newer build waits, but what runs is good enough
    if restart.kind == "system":
        message = t().gettext(
            "Updates to {system} are installed but take effect only after a restart", system=os_info.name
        )
        remedy = t().gettext("Restart the computer")
    else:
        installed = f"{finding.name} {finding.installed}"
        if restart.running is not None:
            message = t().gettext(
                "{installed} is installed, but an older version is still running ({running} is still running)",
                installed=installed,
                running=restart.running,
            )
        else:
            message = t().gettext(
                "{installed} is installed, but an older version is still running", installed=installed
            )
        remedy = t().gettext("Close every {name} window and open it again (or restart the computer)", name=finding.name)
    return finding.replace(status="restart", message=message, remedy=remedy, restart=restart.reason)


def _judge(
    rule: Rule,
    subject: _Subject,
    os_info: OSInfo,
    today: dt.date,
    language: str,
    t: Callable[[], Translation],
    steps: tuple[Step, ...] | None,
    centers: tuple[str, ...] = (),
) -> Finding:
    version = subject.version
    rule_text = pick_text(rule.message, language)
    status: Status
    deadline: dt.date | None = None
    url = rule.url
    required = rule.minimum
    if version is None:
        status = "unknown"
        if subject.problem:
            message = t().gettext(
                "The version of {name} could not be read: {problem}", name=subject.name, problem=subject.problem
            )
        else:
            message = t().gettext("The version of {name} could not be read", name=subject.name)
    elif (unsupported := _unsupported(rule, version)) is not None and _started(unsupported, today):
        status = "unsupported"
        required = unsupported.below or rule.minimum
        url = unsupported.url or rule.url
        message = _unsupported_text(unsupported, rule_text, subject, version, language, t)
    elif rule.minimum is not None and version < rule.minimum:
        if rule.grace is not None and today < rule.grace.until:
            status = "due"
            deadline = rule.grace.until
        else:
            status = "owed"
        message = rule_text or t().gettext(
            "Update {name} to {version} or newer", name=subject.name, version=rule.minimum
        )
    elif unsupported is not None and unsupported.since is not None:
        # End of support announced for a date still ahead: a warning now, with that date as the deadline.
        status = "due"
        deadline = unsupported.since
        required = unsupported.below or rule.minimum
        url = unsupported.url or rule.url
        message = _unsupported_text(unsupported, rule_text, subject, version, language, t)
    else:
        status = "ok"
        message = rule_text or t().gettext("{name} is up to date", name=subject.name)
    remedy = None
    fix = None
    if status in ("owed", "due", "unsupported"):
        # Only when something is owed: not at a quiet login.
        from clientcheck.catalog import load_catalog
        from clientcheck.remedy import fix_for, remedy_for

        new_release = status == "unsupported"
        remedy = remedy_for(subject.installation, os_info, new_release=new_release, t=t())
        fix = fix_for(subject.installation, os_info, load_catalog(os_info.platform), centers, new_release=new_release)
    days_left = (deadline - today).days if deadline is not None else None
    return Finding(
        rule=rule.id,
        product=subject.product,
        name=subject.name,
        status=status,
        severity=rule.severity,
        installed=version,
        required=required,
        message=message,
        url=url,
        deadline=deadline,
        remedy=remedy,
        scope=subject.scope,
        path=subject.path,
        days_left=days_left,
        step=step_at(rule.steps if rule.steps is not None else steps, days_left) if days_left is not None else None,
        fix=fix,
    )


def _unsupported(rule: Rule, version: Version) -> Unsupported | None:
    """The rule's end-of-support clause when it covers ``version`` (whatever the date)."""
    unsupported = rule.unsupported
    if unsupported is None:
        return None
    return unsupported if unsupported.below is None or version < unsupported.below else None


def _started(unsupported: Unsupported, today: dt.date) -> bool:
    return unsupported.since is None or today >= unsupported.since


def _unsupported_text(
    unsupported: Unsupported,
    rule_text: str | None,
    subject: _Subject,
    version: Version,
    language: str,
    t: Callable[[], Translation],
) -> str:
    return (
        pick_text(unsupported.message, language)
        or rule_text
        or t().gettext(
            "{name} {version} is no longer supported by its vendor: upgrade to a supported release or replace it",
            name=subject.name,
            version=version,
        )
    )


class _Words:
    """The translation of ``language``, looked up the first time a message of clientcheck's own is needed: a
    machine whose rules have their own messages, and that owes nothing, never needs one."""

    __slots__ = ("_found", "language")

    def __init__(self, language: str) -> None:
        self.language = language
        self._found: Translation | None = None

    def __call__(self) -> Translation:
        if self._found is None:
            from clientcheck.i18n import translation

            self._found = translation(self.language)
        return self._found


def evaluate(inventory: Inventory, ruleset: RuleSet, today: dt.date, language: str = "en") -> tuple[Finding, ...]:
    """Every finding, worst first (owed, unsupported, due, unknown, ok), then by product; the messages
    clientcheck writes itself (where the rule has none) in ``language``, as the rule's own are chosen."""
    t = _Words(language)
    platform = inventory.os.platform
    findings: list[Finding] = []
    for subject in _subjects(inventory):
        restart = _restart_of(subject, inventory.restarts)
        findings += [
            _with_restart(
                _judge(rule, subject, inventory.os, today, language, t, ruleset.steps, inventory.software_centers),
                restart,
                inventory.os,
                t,
            )
            for rule in _rules_for(subject, ruleset.rules, platform)
        ]
    if inventory.os.id == UNIDENTIFIED_OS and inventory.os.problem:
        # No rule can name an OS we could not identify, but "could not tell" must never read as "ok".
        findings.append(
            Finding(
                rule="os",
                product=UNIDENTIFIED_OS,
                name=inventory.os.name,
                status="unknown",
                severity="required",
                installed=None,
                required=None,
                message=t().gettext(
                    "The operating system could not be identified: {problem}", problem=inventory.os.problem
                ),
            )
        )
    rank = {status: index for index, status in enumerate(STATUS_ORDER)}
    findings.sort(key=lambda f: (rank[f.status], f.severity != "required", f.product, f.rule))
    return tuple(findings)

"""Intune custom compliance: the discovery script's output, and the rules JSON that goes with it.

Discovery output is one line of compressed JSON, a flat map ``SettingName -> value``:

- ``ClientcheckStatus``: ``ok``, ``due``, ``unknown`` or ``owed`` (the report's summary status),
- ``UpdatesOwed``: how many required updates are owed (what makes ``check`` exit 1),
- ``Unreadable``: how many places that may hold an installation could not be read (the status is then
  ``unknown`` unless something is known to be owed or due),
- ``UpdatesDue``: how many updates are due (in grace: warned of, not yet required); ``DaysLeft``: the days
  until the first of them is owed, counted from the device's own date (-1 when nothing is due);
  ``DueWarning``: true when a stepped rule's warning is in force for one of them,
- ``RulesStale``, ``RulesFallback``, ``RulesPublishedInFuture``: booleans, true when the rules used have
  expired, are not the ones asked for (the last good or bundled ones instead), or are dated after the
  device's today (its clock is wrong, or the file is not genuine),
- one setting per judged product, named in CamelCase from the product id (``firefox`` -> ``Firefox``,
  ``foxit-reader`` -> ``FoxitReader``), valued with the installed version as Intune's ``Version`` type
  reads it (``128.3.0esr`` -> ``128.3.0``), ``0.0`` when it could not be read.

``intune_rules`` turns a rule file into the matching rules JSON: one ``GreaterEquals``/``Version`` rule per
product setting, plus ``UpdatesOwed`` equal to 0, which carries clientcheck's whole verdict (tracks, grace
periods, end of life) that a version comparison alone cannot.

Intune reports error 65008 for a rule whose setting the discovery output lacks, and the output names only
products found on the machine: deploy product rules only for software every targeted device has (``products``
picks them), and rely on ``UpdatesOwed`` elsewhere.
"""

from __future__ import annotations

import unicodedata

from clientcheck.evaluate import pick_text
from clientcheck.model import days_left
from clientcheck.render.json import dumps as _dumps  # one line; controls inert, as in the JSON report
from clientcheck.visible import one_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    from clientcheck import dates as dt
    from clientcheck.model import Inventory, Report, Rule, RuleSet
    from clientcheck.version import Version

STATUS_SETTING = "ClientcheckStatus"
OWED_SETTING = "UpdatesOwed"
UNREADABLE_SETTING = "Unreadable"
STALE_SETTING, FALLBACK_SETTING, FUTURE_SETTING = "RulesStale", "RulesFallback", "RulesPublishedInFuture"
DUE_SETTING, DAYS_LEFT_SETTING, WARNING_SETTING = "UpdatesDue", "DaysLeft", "DueWarning"
NOTHING_DUE = -1  # DaysLeft when nothing is due
# Settings of clientcheck's own that no product may take the place of.
_RESERVED = (
    STATUS_SETTING,
    OWED_SETTING,
    UNREADABLE_SETTING,
    STALE_SETTING,
    FALLBACK_SETTING,
    FUTURE_SETTING,
    DUE_SETTING,
    DAYS_LEFT_SETTING,
    WARNING_SETTING,
)
UNKNOWN_VERSION = "0.0"  # Intune's Version operator needs a version; 0.0 is below every minimum

MAX_OUTPUT = 1024 * 1024  # Intune's limit on the discovery output, in bytes
MAX_DESCRIPTION = 2048  # Intune's limit on a remediation description, in characters
MAX_TITLE = 200  # a title is a line in the Company Portal: the message's start, cut where it gets long
_MAX_NAME = 64
_INT32 = 2**31 - 1  # .NET System.Version parts are Int32
_ELLIPSIS = "…"

# Intune's remediation strings want a locale; a bare language gets its main country, as Intune's own
# examples spell it. Other tags keep their region with "_" (pt-BR -> pt_BR).
_LOCALES = {"en": "en_US", "de": "de_DE", "fr": "fr_FR"}


def setting_name(product: str) -> str:
    """CamelCase of the product id, ASCII letters and digits only, starting with a letter: a setting name
    must stay the same from run to run and be valid in the rules JSON and Intune's portal."""
    # Fold accents (é -> e) rather than drop the letter, so a non-ASCII id still reads as itself.
    folded = unicodedata.normalize("NFKD", product).encode("ascii", "ignore").decode("ascii")
    words = "".join(char if char.isalnum() else " " for char in folded).split()
    name = "".join(word[:1].upper() + word[1:] for word in words)
    if not name[:1].isalpha():
        name = "Product" + name  # empty, or starts with a digit ("7zip")
    return name[:_MAX_NAME]


def intune_version(version: Version | None) -> str:
    """The version as .NET's ``System.Version`` parses it: 2 to 4 numeric parts, each an Int32. A vendor
    suffix (``esr``, a build in parentheses) is dropped, as both sides of the comparison drop it."""
    if version is None:
        return UNKNOWN_VERSION
    parts = [min(part, _INT32) for part in version.release[:4]]
    while len(parts) < 2:
        parts.append(0)
    return ".".join(str(part) for part in parts)


def _product_settings(report: Report) -> dict[str, str]:
    # Several installations of one product (system and user, deb and snap): the setting holds the oldest,
    # and "unknown" wins, since any one of them may be the one that is owed.
    lowest: dict[str, Version | None] = {}
    for finding in report.findings:
        name = setting_name(finding.product)
        if name in _RESERVED:
            continue  # a product cannot take the place of the verdict
        if name not in lowest:
            lowest[name] = finding.installed
        else:
            current = lowest[name]
            if current is not None and (finding.installed is None or finding.installed < current):
                lowest[name] = finding.installed
    return {name: intune_version(lowest[name]) for name in sorted(lowest)}


def render_report(report: Report) -> str:
    rules = report.rules
    due = [finding for finding in report.findings if finding.status == "due"]
    days = [left for finding in due if (left := days_left(finding, report.as_of)) is not None]
    document: dict[str, Any] = {
        STATUS_SETTING: report.status,
        OWED_SETTING: sum(1 for finding in report.findings if finding.blocking),
        DUE_SETTING: len(due),
        DAYS_LEFT_SETTING: min(days) if days else NOTHING_DUE,
        WARNING_SETTING: any(finding.step == "warning" for finding in due),
        UNREADABLE_SETTING: len(report.inventory.unreadable),
        STALE_SETTING: rules.stale,
        FALLBACK_SETTING: rules.fallback_reason is not None,
        FUTURE_SETTING: rules.published_in_future,
    }
    # Every setting is a short name and a version, so the limit is far away; still, stop adding products
    # rather than give Intune an output it rejects whole.
    size = len(_dumps(document).encode("utf-8"))
    for name, value in _product_settings(report).items():
        size += len(name) + len(value) + 6  # ,"name":"value"
        if size > MAX_OUTPUT:
            break
        document[name] = value
    return _dumps(document)


def render_inventory(inventory: Inventory, generated_at: dt.datetime) -> str:
    # Nothing is judged: the installed versions only, under the same names, for Intune's device view.
    versions: dict[str, str] = {}
    for item in inventory.software:
        name = setting_name(item.product)
        if name not in _RESERVED and versions.get(name) != UNKNOWN_VERSION:
            value = intune_version(item.version)
            versions[name] = value if name not in versions else min(versions[name], value, key=_version_key)
    return _dumps(dict(sorted(versions.items())))


def _version_key(value: str) -> tuple[int, ...]:
    return tuple(int(part) for part in value.split("."))


def locale(tag: str) -> str:
    """``de`` -> ``de_DE``, ``en`` -> ``en_US``, ``fr`` -> ``fr_FR``; any other tag with ``_`` for ``-``."""
    tag = tag.replace("-", "_")
    return _LOCALES.get(tag.lower(), tag)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - len(_ELLIPSIS)] + _ELLIPSIS


def _remediation(rule: Rule, product: str, minimum: str, languages: Iterable[str]) -> list[dict[str, str]]:
    fallback = f"Update {product} to {minimum} or newer."
    tags = list(dict.fromkeys([*(tag for tag, _ in rule.message), *languages]))
    strings = []
    for tag in tags:
        # A language the rule has no text for gets pick_text's choice (its primary language, else English),
        # so every device language that was asked for has a string.
        text = one_line(pick_text(rule.message, tag) or fallback)
        strings.append(
            {"Language": locale(tag), "Title": _cut(text, MAX_TITLE), "Description": _cut(text, MAX_DESCRIPTION)}
        )
    return strings


def intune_rules(
    ruleset: RuleSet, languages: Iterable[str] = ("en",), products: Iterable[str] | None = None
) -> dict[str, Any]:
    """The Intune custom compliance rules JSON for ``ruleset``: ``UpdatesOwed`` equal to 0, then one rule
    per product setting that a rule gives a minimum for (``products``: only these product ids).

    Intune cannot tell a product's tracks apart (Firefox release and ESR share ``Firefox``), so a setting
    that several rules cover takes the lowest minimum: it never fails a device that clientcheck passes,
    and ``UpdatesOwed`` holds the exact verdict."""
    languages = tuple(languages)
    wanted = set(products) if products is not None else None
    chosen: dict[str, tuple[Rule, str, Version]] = {}
    for rule in ruleset.rules:
        if rule.minimum is None:
            continue  # end of life only: no version to compare
        for product in rule.products:
            if wanted is not None and product not in wanted:
                continue
            name = setting_name(product)
            if name in _RESERVED:
                continue
            if name not in chosen or rule.minimum < chosen[name][2]:
                chosen[name] = (rule, product, rule.minimum)
    owed_text = "Updates are owed on this computer. Run clientcheck to see which, and how to make them."
    rules: list[dict[str, Any]] = [
        {
            "SettingName": OWED_SETTING,
            "Operator": "IsEquals",
            "DataType": "Int64",
            "Operand": "0",
            # clientcheck's own text is English only; Intune falls back to it for other device languages.
            "RemediationStrings": [{"Language": "en_US", "Title": "Updates owed", "Description": owed_text}],
        }
    ]
    for name in sorted(chosen):
        rule, product, minimum = chosen[name]
        operand = intune_version(minimum)
        entry: dict[str, Any] = {
            "SettingName": name,
            "Operator": "GreaterEquals",
            "DataType": "Version",
            "Operand": operand,
        }
        if rule.url:
            entry["MoreInfoUrl"] = rule.url
        entry["RemediationStrings"] = _remediation(rule, product, operand, languages)
        rules.append(entry)
    return {"Rules": rules}

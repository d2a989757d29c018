"""The rules, built from the release lines the feeds reported (pure: lines, policy and date in, rule
objects out), and the rule file written out as text. The design choices (one rule per product track, the
ESR overlap, grace counted from a minimum's first day) are explained in the package's docstring."""

from __future__ import annotations

import json

from clientcheck.rules.generate.feeds import Line, malformed
from clientcheck.rules.generate.feeds.chrome import chrome_line, chrome_urls
from clientcheck.rules.generate.feeds.edge import edge_lines
from clientcheck.rules.generate.feeds.endoflife import eol_cycles
from clientcheck.rules.generate.feeds.mozilla import firefox_lines
from clientcheck.rules.generate.policy import LATEST
from clientcheck.version import Version

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from clientcheck import dates as dt
    from clientcheck.model import LocalizedText, Rule
    from clientcheck.rules.generate.feeds.endoflife import Cycle

# What each rule tells the user, unless the policy says otherwise.
_TEXT: dict[str, dict[str, Any]] = {
    "firefox": {
        "message": {"en": "Update Firefox", "de": "Aktualisieren Sie Firefox", "fr": "Mettez Firefox à jour"},
        "url": "https://support.mozilla.org/kb/update-firefox-latest-release",
    },
    "firefox-esr": {
        "message": {"en": "Update Firefox ESR", "de": "Aktualisieren Sie Firefox ESR"},
        "url": "https://support.mozilla.org/kb/update-firefox-latest-release",
    },
    "chrome": {
        "message": {"en": "Update your Chromium-based browser", "de": "Aktualisieren Sie Ihren Chromium-Browser"},
        "url": "https://support.google.com/chrome/answer/95414",
    },
    "edge": {
        "message": {"en": "Update Microsoft Edge", "de": "Aktualisieren Sie Microsoft Edge"},
        "url": "https://support.microsoft.com/microsoft-edge/microsoft-edge-update-settings-af8aaca2-1b69-4870-94fe-18822dbb7ef1",
    },
    "windows": {
        "message": {
            "en": "This Windows release no longer receives security updates: install a supported feature update",
            "de": "Diese Windows-Version erhält keine Sicherheitsupdates mehr: "
            "installieren Sie ein unterstütztes Funktionsupdate",
        },
        "url": "https://learn.microsoft.com/windows/release-health/windows11-release-information",
    },
    "macos": {
        "message": {
            "en": "This macOS release no longer receives security updates: upgrade macOS",
            "de": "Diese macOS-Version erhält keine Sicherheitsupdates mehr: aktualisieren Sie macOS",
        },
        "url": "https://support.apple.com/en-us/108382",
    },
    "debian": {
        "message": {"en": "This Debian release no longer receives security updates: upgrade Debian"},
        "url": "https://www.debian.org/releases/",
    },
    "ubuntu": {
        "message": {"en": "This Ubuntu release no longer receives security updates: upgrade Ubuntu"},
        "url": "https://ubuntu.com/about/release-cycle",
    },
    "fedora": {
        "message": {"en": "This Fedora release no longer receives updates: upgrade Fedora"},
        "url": "https://docs.fedoraproject.org/en-US/quick-docs/upgrading-fedora-offline/",
    },
}


def _plain(version: Version) -> str:
    """The numeric release only: ``153.7.0`` from ``153.7.0esr``."""
    return ".".join(str(part) for part in version.release)


def _floor(line: Line, mode: str, *, whole_line: bool = False) -> Version:
    """The lowest version of ``line`` a user may run under ``mode``.

    latest-security-release: the line's newest fully rolled-out version. previous-major: the major before
    it (``158.0`` when 159 is out), or for an ESR line, whose security fixes are minor releases of one
    major, any release of the line (``whole_line``).
    """
    if mode == LATEST:
        return Version(_plain(line.latest))
    major = line.latest.major if whole_line else max(line.latest.major - 1, 0)
    return Version(f"{major}.0")


def _grace(rule_id: str, minimum: str, today: dt.date, days: int, previous: dict[str, Rule]) -> dict[str, Any] | None:
    old = previous.get(rule_id)
    if old is not None and old.minimum is not None and old.minimum == Version(minimum):
        # Not a new minimum: keep what the published file said, so regenerating never restarts (or ends)
        # a grace period that clients have been counting down.
        if old.grace is None:
            return None
        return {"since": old.grace.since.isoformat(), "days": old.grace.days}
    if days <= 0:
        return None
    return {"since": today.isoformat(), "days": days}


def _source(url: str, today: dt.date, note: str) -> dict[str, str]:
    return {"url": url, "date": today.isoformat(), "note": note}


def _texts(section: dict[str, Any], key: str, message_key: str = "message", url_key: str = "url") -> dict[str, Any]:
    defaults = _TEXT[key]
    out: dict[str, Any] = {"message": section.get(message_key) or defaults["message"]}
    url = section.get(url_key) or defaults["url"]
    if url:
        out["url"] = url
    return out


def _minimum_rule(
    rule_id: str,
    product: str | list[str],
    track: str | None,
    lines: list[Line],
    mode: str,
    texts: dict[str, Any],
    today: dt.date,
    grace_days: int,
    previous: dict[str, Rule],
    *,
    whole_line: bool = False,
    note: str = "",
) -> dict[str, Any]:
    """A rule whose minimum is the lowest floor of ``lines``: a patched user of any of them passes."""
    deciding = min(lines, key=lambda line: _floor(line, mode, whole_line=whole_line))
    minimum = str(_floor(deciding, mode, whole_line=whole_line))
    rule: dict[str, Any] = {"id": rule_id, "product": product}
    if track:
        rule["track"] = track
    rule["minimum"] = minimum
    grace = _grace(rule_id, minimum, today, grace_days, previous)
    if grace is not None:
        rule["grace"] = grace
    rule.update(texts)
    seen = "; ".join(line.describe() for line in lines)
    rule["source"] = _source(deciding.url, today, f"{seen}; minimum: {mode} of {deciding.label}{note}")
    return rule


def firefox_rules(
    section: dict[str, Any], data: Any, url: str, today: dt.date, grace_days: int, previous: dict[str, Rule]
) -> list[dict[str, Any]]:
    release, esr_lines, _ = firefox_lines(data, url, legacy_esr=section["legacy_esr"])
    mode = section["minimum"]
    rules: list[dict[str, Any]] = []
    if "release" in section["tracks"]:
        rules.append(
            _minimum_rule(
                "firefox",
                "firefox",
                "release",
                [release],
                mode,
                _texts(section, "firefox"),
                today,
                grace_days,
                previous,
            )
        )
    if "esr" in section["tracks"]:
        oldest, newest = esr_lines[0], esr_lines[-1]
        # Every line the feed lists is supported; only one rule can judge the esr track (see the package
        # docstring), so its minimum is the older line's floor unless the policy asks for the newer line.
        chosen = [newest] if section["esr_overlap"] == "require-newer" else esr_lines
        overlap = f"; ESR overlap: {section['esr_overlap']}" if len(esr_lines) > 1 else ""
        rule = _minimum_rule(
            "firefox-esr",
            "firefox",
            "esr",
            chosen,
            mode,
            _texts(section, "firefox-esr", "esr_message", "esr_url"),
            today,
            grace_days,
            previous,
            whole_line=True,
            note=overlap,
        )
        below = str(oldest.latest.major)
        old = previous.get("firefox-esr")
        since = today.isoformat()
        if old is not None and old.unsupported is not None and old.unsupported.below == Version(below):
            # The same lines were already out of support: keep the date the published file gave.
            since = old.unsupported.since.isoformat() if old.unsupported.since else since
        move_to = newest.latest.major
        rule["unsupported"] = {
            "below": below,
            "since": since,
            "message": {
                "en": f"This Firefox ESR line no longer receives security updates: move to Firefox ESR {move_to}",
                "de": "Diese Firefox-ESR-Version erhält keine Sicherheitsupdates mehr: "
                f"wechseln Sie zu Firefox ESR {move_to}",
            },
        }
        # Keep the key order of a hand-written rule: unsupported right after minimum/grace.
        ordered: dict[str, Any] = {
            key: rule[key] for key in ("id", "product", "track", "minimum", "grace") if key in rule
        }
        ordered["unsupported"] = rule["unsupported"]
        ordered.update((key, value) for key, value in rule.items() if key not in ordered)
        rules.append(ordered)
    return rules


def chrome_rule(
    section: dict[str, Any],
    responses: dict[str, Any],
    base: str,
    today: dt.date,
    grace_days: int,
    previous: dict[str, Rule],
) -> dict[str, Any]:
    lines: list[Line] = []
    missing: list[str] = []
    for platform, channel, url in chrome_urls(section, base):
        line = chrome_line(responses[url], url, f"Chrome {channel} {platform}")
        if line is None:
            missing.append(f"{channel} {platform}")  # Google's Linux builds have no Extended channel
        else:
            lines.append(line)
    for channel in section["channels"]:
        if not any(line.label.startswith(f"Chrome {channel} ") for line in lines):
            first = chrome_urls({**section, "channels": [channel]}, base)[0][2]
            raise malformed(first, f"no fully rolled-out {channel} release on any of {', '.join(section['platforms'])}")
    note = f"; none fully rolled out: {', '.join(missing)}" if missing else ""
    products = section["products"]
    return _minimum_rule(
        "chrome",
        products if len(products) > 1 else products[0],
        None,  # Chrome's channel is not known on every platform (Windows installs carry none)
        lines,
        section["minimum"],
        _texts(section, "chrome"),
        today,
        grace_days,
        previous,
        note=note,
    )


def edge_rule(
    section: dict[str, Any], data: Any, url: str, today: dt.date, grace_days: int, previous: dict[str, Rule]
) -> dict[str, Any]:
    lines = edge_lines(data, url, section["channels"], section["platforms"])
    return _minimum_rule(
        "edge", "edge", None, lines, section["minimum"], _texts(section, "edge"), today, grace_days, previous
    )


def os_rules(product: str, section: dict[str, Any], data: Any, url: str, today: dt.date) -> list[dict[str, Any]]:
    cycles = eol_cycles(data, url, product, today, extended=section["extended_support"], edition=section["edition"])
    groups: list[tuple[str, str | None, list[Cycle]]]
    if product == "ubuntu":
        groups = [
            ("ubuntu-lts", "lts", [cycle for cycle in cycles if cycle.lts]),
            ("ubuntu-interim", "interim", [cycle for cycle in cycles if not cycle.lts]),
        ]
    else:
        groups = [(product, "client" if product == "windows" else None, cycles)]
    rules: list[dict[str, Any]] = []
    for rule_id, track, group in groups:
        supported = [cycle for cycle in group if cycle.supported]
        # Between an interim release's end and the next one's release day (Ubuntu, July to October) no
        # release of the track is supported: the announced one is then the bound, so its users pass the
        # day it comes out.
        bounds = supported or [cycle for cycle in group if cycle.announced]
        if not bounds:
            raise malformed(url, f"no supported {track or product} release listed")
        oldest = min(bounds, key=lambda cycle: cycle.version)
        finished = [cycle for cycle in group if not cycle.supported and not cycle.announced]
        ended = [cycle for cycle in finished if cycle.version < oldest.version]
        # One bound per rule: everything below the oldest supported release is out of support, from the
        # latest date one of them lost it. An ended release newer than that bound cannot be named.
        unreachable = [cycle.name for cycle in finished if not cycle.version < oldest.version]
        dates = [cycle.end for cycle in ended if cycle.end]
        unsupported: dict[str, Any] = {"below": str(oldest.version)}
        if dates:
            unsupported["since"] = max(dates)
        texts = _texts(section, product)
        unsupported["message"] = texts.pop("message")
        rule: dict[str, Any] = {"id": rule_id, "product": product}
        if track:
            rule["track"] = track
        rule["unsupported"] = unsupported
        rule.update(texts)
        kind = "extended support" if section["extended_support"] else "standard support"
        names = ", ".join(cycle.name for cycle in sorted(supported, key=lambda cycle: cycle.version))
        names = names or f"none yet ({oldest.name} is announced)"
        gone = ", ".join(
            f"{cycle.name} ({cycle.end or 'date unknown'})" for cycle in sorted(ended, key=lambda cycle: cycle.version)
        )
        note = f"supported ({kind}): {names}; ended: {gone or 'none listed'}"
        if unreachable:
            note += f"; ended but newer than {oldest.name}, not expressible: {', '.join(unreachable)}"
        rule["source"] = _source(url, today, note)
        rules.append(rule)
    return rules


def rule_document(rule: Rule, note: str) -> dict[str, Any]:
    """A previous file's rule written back as JSON (``source`` is not kept in a RuleSet: ``note`` replaces it)."""

    def text(pairs: LocalizedText) -> dict[str, str]:
        return dict(pairs)

    out: dict[str, Any] = {
        "id": rule.id,
        "product": list(rule.products) if len(rule.products) > 1 else rule.products[0],
    }
    if rule.track:
        out["track"] = rule.track
    if rule.platforms:
        out["platforms"] = list(rule.platforms)
    if rule.minimum is not None:
        out["minimum"] = rule.minimum.raw
    if rule.severity != "required":
        out["severity"] = rule.severity
    if rule.grace is not None:
        out["grace"] = {"since": rule.grace.since.isoformat(), "days": rule.grace.days}
    if rule.unsupported is not None:
        unsupported: dict[str, Any] = {}
        if rule.unsupported.below is not None:
            unsupported["below"] = rule.unsupported.below.raw
        if rule.unsupported.since is not None:
            unsupported["since"] = rule.unsupported.since.isoformat()
        if rule.unsupported.message:
            unsupported["message"] = text(rule.unsupported.message)
        if rule.unsupported.url:
            unsupported["url"] = rule.unsupported.url
        out["unsupported"] = unsupported
    if rule.message:
        out["message"] = text(rule.message)
    if rule.url:
        out["url"] = rule.url
    out["source"] = note
    return out


def render(document: dict[str, Any]) -> str:
    """The rule file as text, laid out like the bundled one: a line per top-level key and per rule."""

    def dump(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    lines = ["{"]
    for index, (key, value) in enumerate(document.items()):
        comma = "," if index < len(document) - 1 else ""
        if key == "rules" and isinstance(value, list) and value:
            lines.append(f"  {dump(key)}: [")
            lines += [f"    {dump(rule)}{',' if n < len(value) - 1 else ''}" for n, rule in enumerate(value)]
            lines.append(f"  ]{comma}")
        else:
            lines.append(f"  {dump(key)}: {dump(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"

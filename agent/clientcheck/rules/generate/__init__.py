"""Build a rule file (format ``clientcheck.rules/1``) from the vendors' own release feeds, per a policy file.

``clientcheck rules generate`` reads a small JSON policy (which products and tracks, how strict, how long
the file lives) and four public feeds:

- Mozilla product-details ``firefox_versions.json``: the Firefox release and the supported ESR lines;
- Google's VersionHistory API: Chrome's fully rolled-out (``fraction`` 1) Stable and Extended releases;
- Microsoft's Edge release feed (``edgeupdates.microsoft.com/api/products``);
- the endoflife.date API v1: which Windows, macOS, Debian, Ubuntu and Fedora releases are past support.

The policy logic is pure: ``generate(policy, fetch, today, previous)`` takes the fetcher as an argument
and returns the rule file as a dict, so it is tested with recorded responses and a fixed date. The I/O
lives at the edges: ``download.fetch_json`` and ``policy.load_policy``.

Its parts: ``policy`` reads and validates the policy file; ``feeds/`` holds one module per vendor feed
(its address, its vocabulary, and a pure reader from its JSON to release lines); ``build`` turns release
lines into rules and writes the file out; ``download`` fetches a feed as JSON; this module runs them in
order.

A feed that cannot be fetched or does not have the shape expected fails the whole run (a ``FeedError``
naming the feed and the URL), never a rule file with rules silently missing, unless the policy marks the
feed ``optional``: then the previous file's rules for that feed are carried over unchanged, or left out
when there is no previous file, and ``x-generator.skipped`` says so.

Design choices worth knowing (each is explained where it is made):

- **One rule per product track.** clientcheck applies every rule whose product and track match, and a
  rule cannot be limited to one ESR line. So during an ESR overlap (``FIREFOX_ESR_NEXT`` set, both lines
  supported) the ``firefox-esr`` rule's minimum is the *older* line's floor by default: a fully patched
  user of either line passes, and lines older than both are flagged end-of-life. ``esr_overlap:
  "require-newer"`` asks everyone onto the newer line instead (users of the older one then owe an update
  after the grace period). One rule per ESR line would be wrong: the newer line's rule would flag every
  user of the older, still supported, line.
- **One Chrome rule and one Edge rule, across platforms and channels.** The minimum is the lowest floor of
  every platform and channel the policy lists, so a patched user on any of them passes (Debian's
  ``chromium`` follows Chrome's Extended Stable; Google's Linux builds have no Extended channel).
- **Grace counts from the day a minimum first appears** in a published file: a rule whose minimum did
  not change keeps the previous file's grace, so regenerating never restarts (or ends) a grace period.
- **A minimum never goes down silently**: lower than the previous file's (a stale mirror, a pulled
  release) is an error unless the policy says ``allow_lower``.
"""

from __future__ import annotations

from clientcheck import dates as dt
from clientcheck.rules.generate.build import (
    chrome_rule,
    edge_rule,
    firefox_rules,
    os_rules,
    render,
    rule_document,
)
from clientcheck.rules.generate.errors import FeedError, GenerateError, PolicyError
from clientcheck.rules.generate.feeds.chrome import chrome_urls
from clientcheck.rules.generate.feeds.endoflife import product_url
from clientcheck.rules.generate.policy import validate_policy
from clientcheck.rules.validate import SCHEMA_ID, InvalidRuleFileError, parse_rules
from clientcheck.version import Version

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from clientcheck.model import RuleSet

    Fetch = Callable[[str], Any]


def _planned_ids(feed: str, settings: dict[str, Any]) -> list[str]:
    """The rule ids a feed produces under this policy, known before anything is fetched."""
    if feed == "mozilla":
        tracks = settings["firefox"]["tracks"] if settings["firefox"] else []
        return [{"release": "firefox", "esr": "firefox-esr"}[track] for track in tracks]
    if feed in ("chrome", "edge"):
        return [feed] if settings[feed] else []
    ids: list[str] = []
    for product in settings["os"]:
        ids += ["ubuntu-lts", "ubuntu-interim"] if product == "ubuntu" else [product]
    return ids


def _serial(mode: str, today: dt.date, previous: RuleSet | None) -> int:
    # YYYYMMDDNN reads as a date and still grows: the bundled file's 2026112501 is one.
    dated = int(today.strftime("%Y%m%d")) * 100 + 1
    if previous is None:
        return dated
    following = previous.serial + 1
    return max(dated, following) if mode == "date" else following


def generate(policy: dict[str, Any], fetch: Fetch, today: dt.date, previous: RuleSet | None = None) -> dict[str, Any]:
    """The rule file the policy asks for, built from the feeds ``fetch`` returns (parsed JSON per URL).

    ``previous`` is the last published rule file: its serial + 1 is the new serial, its grace periods are
    kept where a minimum did not change, and its rules stand in for an optional feed that failed. Raises
    ``FeedError`` (a required feed failed or is malformed), ``PolicyError`` or ``GenerateError``.
    """
    settings = validate_policy(policy)
    feeds = settings["feeds"]
    grace_days = settings["grace_days"]
    old_rules = {rule.id: rule for rule in previous.rules} if previous is not None else {}

    def get(feed: str, url: str) -> Any:
        try:
            return fetch(url)
        except FeedError as error:
            raise error.naming(feed) from None

    def build(feed: str) -> list[dict[str, Any]]:
        if feed == "mozilla":
            url = feeds["mozilla"]["url"]
            return firefox_rules(settings["firefox"], get(feed, url), url, today, grace_days, old_rules)
        if feed == "chrome":
            section = settings["chrome"]
            base = feeds["chrome"]["url"]
            responses = {url: get(feed, url) for _, _, url in chrome_urls(section, base)}
            return [chrome_rule(section, responses, base, today, grace_days, old_rules)]
        if feed == "edge":
            url = feeds["edge"]["url"]
            return [edge_rule(settings["edge"], get(feed, url), url, today, grace_days, old_rules)]
        rules: list[dict[str, Any]] = []
        for product, section in settings["os"].items():
            url = product_url(feeds["endoflife"]["url"], product)
            rules += os_rules(product, section, get(feed, url), url, today)
        return rules

    wanted = [
        ("mozilla", settings["firefox"] is not None),
        ("chrome", settings["chrome"] is not None),
        ("edge", settings["edge"] is not None),
        ("endoflife", bool(settings["os"])),
    ]
    rules: list[dict[str, Any]] = []
    skipped: list[str] = []
    for feed, used in wanted:
        if not used:
            continue
        try:
            rules += build(feed)
        except FeedError as error:
            error = error.naming(feed)
            if not feeds[feed]["optional"]:
                raise error from None
            skipped.append(error.message)
            for rule_id in _planned_ids(feed, settings):
                if rule_id in old_rules:
                    note = f"carried over from serial {previous.serial if previous else '?'}: {feed} feed unavailable"
                    rules.append(rule_document(old_rules[rule_id], note))

    lowered: list[str] = []
    for rule in rules:
        before = old_rules[rule["id"]].minimum if rule["id"] in old_rules else None
        if before is not None and "minimum" in rule and Version(rule["minimum"]) < before:
            lowered.append(f"{rule['id']}: {rule['minimum']} is below the previous file's {before}")
    if lowered and not settings["allow_lower"]:
        raise GenerateError(
            f"a minimum would go down ({'; '.join(lowered)})",
            hint='a stale mirror or a withdrawn release? set "allow_lower": true in the policy if it is intended',
        )

    generated = {rule["id"] for rule in rules}
    clashes = [rule.get("id") for rule in settings["extra_rules"] if rule.get("id") in generated]
    if clashes:
        raise PolicyError("policy", [f"extra_rules: id {clash!r} is also a generated rule" for clash in clashes])
    rules += settings["extra_rules"]

    document: dict[str, Any] = {"schema": SCHEMA_ID, "publisher": settings["publisher"]}
    for key in ("description", "url"):
        if settings[key]:
            document[key] = settings[key]
    document["serial"] = _serial(settings["serial"], today, previous)
    document["published"] = today.isoformat()
    document["expires"] = (today + dt.timedelta(days=settings["expires_days"])).isoformat()
    document["rules"] = rules
    generator: dict[str, Any] = {"by": "clientcheck rules generate", "minimum": settings["minimum"]}
    if skipped:
        generator["skipped"] = skipped
    document["x-generator"] = generator

    # The agent's own validator has the last word: a file it would reject is never handed out.
    try:
        parse_rules(render(document).encode("utf-8"))
    except InvalidRuleFileError as invalid:
        raise GenerateError(f"the generated rule file is invalid: {invalid}") from None
    return document

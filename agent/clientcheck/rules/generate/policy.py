"""The policy file of ``rules generate`` (``clientcheck.policy/1``): which products and tracks get a rule,
how strict the minimums are, how long the file lives, and where the feeds are. Validated like a rule file:
every problem is collected with its location, and an unknown key is an error, so a typo cannot silently
fall back to a default."""

from __future__ import annotations

import json

from clientcheck.rules.generate.errors import FeedError, PolicyError
from clientcheck.rules.generate.feeds import chrome as chrome_feed
from clientcheck.rules.generate.feeds import edge as edge_feed
from clientcheck.rules.generate.feeds import endoflife as endoflife_feed
from clientcheck.rules.generate.feeds import mozilla as mozilla_feed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

POLICY_SCHEMA = "clientcheck.policy/1"
MAX_POLICY_BYTES = 1024 * 1024

DEFAULT_FEEDS = {
    "mozilla": mozilla_feed.DEFAULT_URL,
    "chrome": chrome_feed.DEFAULT_URL,
    "edge": edge_feed.DEFAULT_URL,
    "endoflife": endoflife_feed.DEFAULT_URL,
}

# How strict a minimum is (see build.py: the floor of a release line).
LATEST = "latest-security-release"
PREVIOUS_MAJOR = "previous-major"
_MODES = (LATEST, PREVIOUS_MAJOR)


def check_feed_url(url: str) -> str:
    """``url`` when it may be fetched: https, or plain http to this machine (which the tests use), decided
    as the agent decides for rule files (``urls.check``: from urllib3's reading of it, no user names, no
    backslashes)."""
    from clientcheck.net.urls import URLError, check

    try:
        check(url)
    except URLError as refused:
        raise FeedError(url, str(refused)) from None
    return url


_TOP_KEYS = {
    "schema",
    "publisher",
    "description",
    "url",
    "comment",
    "serial",
    "expires_days",
    "grace_days",
    "minimum",
    "eol",
    "allow_lower",
    "feeds",
    "firefox",
    "chrome",
    "edge",
    "os",
    "extra_rules",
}


class _Checker:
    """Collects every problem of a policy, each with its location, like the rule-file validator."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, where: str, problem: str) -> None:
        self.problems.append(f"{where}: {problem}")

    def keys(self, where: str, obj: dict[str, Any], allowed: set[str]) -> None:
        # Unknown keys are errors, so a typo ("expire_days") cannot silently fall back to a default.
        for key in obj:
            if key not in allowed and not key.startswith("x-"):
                self.add(f"{where}.{key}" if where else key, "unknown key (extensions must start with 'x-')")

    def obj(self, where: str, value: Any) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        self.add(where, "must be an object")
        return {}

    def text(self, where: str, value: Any, default: str | None = None) -> str | None:
        if value is None:
            return default
        if isinstance(value, str) and value.strip():
            return value
        self.add(where, "must be a non-empty string")
        return default

    def integer(self, where: str, value: Any, default: int, low: int, high: int) -> int:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.add(where, f"must be an integer from {low} to {high}")
            return default
        return value

    def flag(self, where: str, value: Any, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.add(where, "must be true or false")
            return default
        return value

    def choice(self, where: str, value: Any, choices: tuple[str, ...], default: str) -> str:
        if value is None:
            return default
        if value not in choices:
            self.add(where, f"must be one of {', '.join(choices)}")
            return default
        return str(value)

    def choices(self, where: str, value: Any, choices: tuple[str, ...], default: tuple[str, ...]) -> list[str]:
        if value is None:
            return list(default)
        if not isinstance(value, list) or not value:
            self.add(where, f"must be a non-empty list of {', '.join(choices)}")
            return list(default)
        for index, item in enumerate(value):
            if item not in choices:
                self.add(f"{where}[{index}]", f"must be one of {', '.join(choices)}")
        return list(dict.fromkeys(item for item in value if isinstance(item, str) and item in choices))


def validate_policy(policy: Any, source: str = "policy") -> dict[str, Any]:
    """The policy with every default filled in, or ``PolicyError`` listing each problem."""
    check = _Checker()
    if not isinstance(policy, dict):
        raise PolicyError(source, ["the policy must be a JSON object"])
    check.keys("", policy, _TOP_KEYS)
    if policy.get("schema") != POLICY_SCHEMA:
        check.add("schema", f"must be {POLICY_SCHEMA!r}")
    mode = check.choice("minimum", policy.get("minimum"), _MODES, LATEST)
    settings: dict[str, Any] = {
        "publisher": check.text("publisher", policy.get("publisher")),
        "description": check.text("description", policy.get("description")),
        "url": check.text("url", policy.get("url")),
        "serial": check.choice("serial", policy.get("serial"), ("increment", "date"), "increment"),
        "expires_days": check.integer("expires_days", policy.get("expires_days"), 60, 1, 3650),
        "grace_days": check.integer("grace_days", policy.get("grace_days"), 14, 0, 365),
        "minimum": mode,
        "eol": check.flag("eol", policy.get("eol"), True),
        "allow_lower": check.flag("allow_lower", policy.get("allow_lower"), False),
    }
    if settings["publisher"] is None and "publisher" not in policy:
        check.add("publisher", "is required")

    feeds = check.obj("feeds", policy.get("feeds", {}))
    check.keys("feeds", feeds, set(DEFAULT_FEEDS))
    settings["feeds"] = {}
    for name, default_url in DEFAULT_FEEDS.items():
        where = f"feeds.{name}"
        entry = check.obj(where, feeds.get(name, {}))
        check.keys(where, entry, {"url", "optional"})
        url = check.text(f"{where}.url", entry.get("url"), default_url) or default_url
        try:
            check_feed_url(url)
        except FeedError as error:
            check.add(f"{where}.url", error.reason)
        settings["feeds"][name] = {
            "url": url,
            "optional": check.flag(f"{where}.optional", entry.get("optional"), False),
        }

    def section(name: str, extra: set[str]) -> dict[str, Any] | None:
        if policy.get(name) is None:
            return None
        entry = check.obj(name, policy[name])
        check.keys(name, entry, {"minimum", "message", "url", *extra})
        return {
            "minimum": check.choice(f"{name}.minimum", entry.get("minimum"), _MODES, mode),
            "message": entry.get("message"),
            "url": entry.get("url"),
            "raw": entry,
        }

    firefox = section("firefox", {"tracks", "esr_overlap", "legacy_esr", "esr_message", "esr_url"})
    if firefox is not None:
        raw = firefox.pop("raw")
        firefox["tracks"] = check.choices("firefox.tracks", raw.get("tracks"), ("release", "esr"), ("release", "esr"))
        firefox["esr_overlap"] = check.choice(
            "firefox.esr_overlap", raw.get("esr_overlap"), ("accept-older", "require-newer"), "accept-older"
        )
        firefox["legacy_esr"] = check.flag("firefox.legacy_esr", raw.get("legacy_esr"), False)
        firefox["esr_message"] = raw.get("esr_message")
        firefox["esr_url"] = raw.get("esr_url")
    chrome = section("chrome", {"platforms", "channels", "products"})
    if chrome is not None:
        raw = chrome.pop("raw")
        chrome["platforms"] = check.choices(
            "chrome.platforms", raw.get("platforms"), chrome_feed.PLATFORMS, ("win64", "mac", "linux")
        )
        chrome["channels"] = check.choices(
            "chrome.channels", raw.get("channels"), chrome_feed.CHANNELS, chrome_feed.CHANNELS
        )
        products = raw.get("products", ["chrome", "chromium"])
        if not isinstance(products, list) or not products or not all(isinstance(p, str) and p for p in products):
            check.add("chrome.products", "must be a non-empty list of product ids")
            products = ["chrome", "chromium"]
        chrome["products"] = products
    edge = section("edge", {"platforms", "channels"})
    if edge is not None:
        raw = edge.pop("raw")
        edge["platforms"] = check.choices(
            "edge.platforms", raw.get("platforms"), edge_feed.PLATFORMS, edge_feed.PLATFORMS
        )
        edge["channels"] = check.choices("edge.channels", raw.get("channels"), edge_feed.CHANNELS, ("Stable",))
    settings.update(firefox=firefox, chrome=chrome, edge=edge)

    systems: dict[str, dict[str, Any]] = {}
    if settings["eol"]:
        os_section = check.obj("os", policy.get("os", {}))
        check.keys("os", os_section, set(endoflife_feed.PRODUCTS))
        for product, value in os_section.items():
            if product not in endoflife_feed.PRODUCTS:
                continue
            where = f"os.{product}"
            entry = check.obj(where, value if value is not None else {})
            allowed = {"extended_support", "message", "url"} | ({"edition"} if product == "windows" else set())
            check.keys(where, entry, allowed)
            systems[product] = {
                # Extended support counts where the user gets it without a contract (Debian LTS); it does
                # not where it must be bought (Ubuntu Pro, Windows ESU), since the version cannot show it.
                "extended_support": check.flag(f"{where}.extended_support", entry.get("extended_support"), False),
                "edition": check.choice(
                    f"{where}.edition", entry.get("edition"), ("enterprise", "home-pro"), "enterprise"
                ),
                "message": entry.get("message"),
                "url": entry.get("url"),
            }
    settings["os"] = systems

    extra = policy.get("extra_rules", [])
    if not isinstance(extra, list) or not all(isinstance(rule, dict) for rule in extra):
        check.add("extra_rules", "must be a list of rule objects")
        extra = []
    settings["extra_rules"] = extra
    if check.problems:
        raise PolicyError(source, check.problems)
    return settings


def load_policy(path: str) -> dict[str, Any]:
    """Read and validate a policy file. Raises ``PolicyError`` naming the file and every problem."""
    from clientcheck.reading import FileProblem, read_file

    try:
        data = read_file(path, MAX_POLICY_BYTES)
    except FileProblem as problem:
        raise PolicyError(path, [problem.reason]) from None
    try:
        policy = json.loads(data.decode("utf-8").removeprefix("\ufeff"))
    except UnicodeDecodeError:
        raise PolicyError(path, ["not UTF-8 text"]) from None
    except json.JSONDecodeError as error:
        raise PolicyError(path, [f"line {error.lineno} column {error.colno}: invalid JSON: {error.msg}"]) from None
    except RecursionError:
        raise PolicyError(path, ["invalid JSON: nested too deeply"]) from None
    except ValueError:  # an integer longer than int() converts (4300 digits)
        raise PolicyError(path, ["invalid JSON: a number with too many digits"]) from None
    validate_policy(policy, path)
    result: dict[str, Any] = policy
    return result

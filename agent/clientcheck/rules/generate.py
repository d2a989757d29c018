"""Build a rule file (format ``clientcheck.rules/1``) from the vendors' own release feeds, per a policy file.

``clientcheck rules generate`` reads a small JSON policy (which products and tracks, how strict, how long
the file lives) and four public feeds:

- Mozilla product-details ``firefox_versions.json``: the Firefox release and the supported ESR lines;
- Google's VersionHistory API: Chrome's fully rolled-out (``fraction`` 1) Stable and Extended releases;
- Microsoft's Edge release feed (``edgeupdates.microsoft.com/api/products``);
- the endoflife.date API v1: which Windows, macOS, Debian, Ubuntu and Fedora releases are past support.

The policy logic is pure: ``generate(policy, fetch, today, previous)`` takes the fetcher as an argument
and returns the rule file as a dict, so it is tested with recorded responses and a fixed date. The I/O
lives at the edges: ``fetch_json`` (requests, imported only when a feed is fetched) and ``load_policy``.

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

import json

from clientcheck import dates as dt
from clientcheck.errors import ClientcheckError, ExitStatus
from clientcheck.rules.fetch import error_reason
from clientcheck.rules.validate import SCHEMA_ID, InvalidRuleFileError, parse_rules
from clientcheck.version import Version, VersionError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    import requests

    from clientcheck.model import LocalizedText, Rule, RuleSet

    Fetch = Callable[[str], Any]

__all__ = [
    "DEFAULT_FEEDS",
    "POLICY_SCHEMA",
    "FeedError",
    "GenerateError",
    "PolicyError",
    "check_feed_url",
    "fetch_json",
    "generate",
    "load_policy",
    "redirect_target",
    "render",
    "retry_delay",
    "validate_policy",
]

POLICY_SCHEMA = "clientcheck.policy/1"

MAX_FEED_BYTES = 5 * 1024 * 1024
MAX_POLICY_BYTES = 1024 * 1024
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 20.0
MAX_REDIRECTS = 5
MAX_RETRY_AFTER = 30.0
DEFAULT_RETRY_AFTER = 1.0  # a 429/503 without Retry-After: one second, then the one retry
_REDIRECTS = frozenset((301, 302, 307, 308))
_RETRYABLE = frozenset((429, 503))

DEFAULT_FEEDS = {
    "mozilla": "https://product-details.mozilla.org/1.0/firefox_versions.json",
    "chrome": "https://versionhistory.googleapis.com/v1/chrome",
    "edge": "https://edgeupdates.microsoft.com/api/products",
    "endoflife": "https://endoflife.date/api/v1/products/",
}

LATEST = "latest-security-release"
PREVIOUS_MAJOR = "previous-major"
_MODES = (LATEST, PREVIOUS_MAJOR)

# Google's VersionHistory platform names for desktop Chrome, and the channels worth a floor (beta and dev
# are newer than stable, never a minimum).
_CHROME_PLATFORMS = ("win", "win64", "win_arm64", "mac", "mac_arm64", "linux")
_CHROME_CHANNELS = ("stable", "extended")
_EDGE_PLATFORMS = ("Windows", "MacOS", "Linux")
_EDGE_CHANNELS = ("Stable", "Extended")
# endoflife.date products with an OS rule; the names are clientcheck's OS ids too.
_OS_PRODUCTS = ("windows", "macos", "debian", "ubuntu", "fedora")

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


# Errors --------------------------------------------------------------------------------------------------


class FeedError(ClientcheckError):
    """A feed that could not be fetched, or whose body is not what the vendor publishes: names the URL."""

    exit_status = ExitStatus.INPUT

    def __init__(self, url: str, reason: str, *, feed: str | None = None) -> None:
        self.url = url
        self.reason = reason
        self.feed = feed
        prefix = f"{feed} feed: " if feed else ""
        super().__init__(
            f"{prefix}{url}: {reason}", hint="no rule file was written; mark the feed optional to go on without it"
        )

    def naming(self, feed: str) -> FeedError:
        return self if self.feed else FeedError(self.url, self.reason, feed=feed)


class PolicyError(ClientcheckError):
    """A policy file that cannot be used; ``problems`` lists each, with its location."""

    exit_status = ExitStatus.USAGE

    def __init__(self, source: str, problems: list[str]) -> None:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{source}: {problems[0]}{more}")
        self.problems = problems


class GenerateError(ClientcheckError):
    """The feeds were read but no trustworthy rule file results (a minimum would go down, a bug)."""

    exit_status = ExitStatus.RULES_INVALID


# Fetching (I/O) -----------------------------------------------------------------------------------------


def _scheme(url: str) -> str:
    from clientcheck.rules.urls import URLError, parse

    try:
        return parse(url).scheme
    except URLError:
        return ""


def check_feed_url(url: str) -> str:
    """``url`` when it may be fetched: https, or plain http to this machine (which the tests use), decided
    as the agent decides for rule files (``urls.check``: from urllib3's reading of it, no user names, no
    backslashes)."""
    from clientcheck.rules.urls import URLError, check

    try:
        check(url)
    except URLError as refused:
        raise FeedError(url, str(refused)) from None
    return url


def redirect_target(current: str, location: str | None) -> str:
    """Where a redirect from ``current`` leads; never from https to anything else."""
    from urllib.parse import urljoin

    if not location:
        raise FeedError(current, "redirect without a Location header")
    target = urljoin(current, location)
    if _scheme(current) == "https" and _scheme(target) != "https":
        raise FeedError(current, f"refused a redirect from https to {target}")
    try:
        return check_feed_url(target)
    except FeedError as refused:
        raise FeedError(current, f"refused a redirect to {target}: {refused.reason}") from None


def retry_delay(value: str | None, now: dt.datetime | None = None) -> float:
    """Seconds to wait before the one retry, from a Retry-After header (seconds or an HTTP date), capped."""
    seconds = DEFAULT_RETRY_AFTER
    text = (value or "").strip()
    if text.isascii() and text.isdigit():
        seconds = float(int(text)) if len(text) <= 18 else MAX_RETRY_AFTER  # int() refuses 4300 digits
    elif text:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            when = None  # unreadable: the default wait
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.timezone.utc)
            seconds = (when - (now or dt.datetime.now(dt.timezone.utc))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _is_json_type(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media in ("application/json", "text/json") or (media.startswith("application/") and media.endswith("+json"))


def fetch_json(
    url: str,
    session: requests.Session | None = None,
    *,
    sleep: Callable[[float], None] | None = None,
    max_bytes: int = MAX_FEED_BYTES,
) -> Any:
    """GET ``url`` and return its parsed JSON, or raise ``FeedError`` naming the URL and what went wrong.

    HTTPS only (plain http to this machine only); 5 s to connect and 20 s per read; up to five redirects
    (301, 302, 307, 308), never from https to http; one retry after a 429 or 503, waiting what Retry-After
    says (at most 30 s); at most ``max_bytes`` of body; JSON content types only.
    """
    import requests  # only when a feed is fetched: the agent's login run never gets here

    check_feed_url(url)
    pause = sleep
    if pause is None:
        import time

        pause = time.sleep
    http = session if session is not None else requests.Session()
    headers = {"Accept": "application/json", "User-Agent": "clientcheck-rules-generate"}
    current = url
    redirects = 0
    retried = False
    try:
        while True:
            where = current if current == url else f"{current} (redirected from {url})"
            try:
                response = http.get(
                    current,
                    headers=headers,
                    timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                    allow_redirects=False,
                    stream=True,
                )
            except requests.exceptions.SSLError as error:
                raise FeedError(where, f"TLS failed ({error_reason(error)})") from None
            except requests.exceptions.Timeout:
                raise FeedError(
                    where, f"timed out ({CONNECT_TIMEOUT:g} s to connect, {READ_TIMEOUT:g} s to read)"
                ) from None
            except requests.exceptions.RequestException as error:
                raise FeedError(where, f"cannot connect: {error_reason(error)}") from None
            with response:
                status = response.status_code
                if status in _REDIRECTS:
                    redirects += 1
                    if redirects > MAX_REDIRECTS:
                        raise FeedError(url, f"more than {MAX_REDIRECTS} redirects")
                    try:
                        current = redirect_target(current, response.headers.get("Location"))
                    except FeedError as refused:
                        raise FeedError(where, refused.reason) from None
                    continue
                if status in _RETRYABLE and not retried:
                    # Once: a rate limit or a restart passes; a server that keeps saying so is down.
                    retried = True
                    pause(retry_delay(response.headers.get("Retry-After")))
                    continue
                if status != 200:
                    again = " (after one retry)" if retried and status in _RETRYABLE else ""
                    raise FeedError(where, f"HTTP {status} {response.reason or ''}".rstrip() + again)
                content_type = response.headers.get("Content-Type", "")
                if not _is_json_type(content_type):
                    raise FeedError(where, f"served as {content_type or 'no content type'!r}, not JSON")
                body = _read_capped(response, where, max_bytes)
            return _decode_json(body, where)
    finally:
        if session is None:
            http.close()


def _read_capped(response: requests.Response, where: str, max_bytes: int) -> bytes:
    import requests

    declared = response.headers.get("Content-Length", "").strip()
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > max_bytes):
        # (past 18 digits: more than any cap, and int() refuses 4300)
        raise FeedError(where, f"{declared[:20]} bytes, more than the {max_bytes} allowed")
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(chunk_size=65536):
            size += len(chunk)
            if size > max_bytes:
                raise FeedError(where, f"more than the {max_bytes} bytes allowed")
            chunks.append(chunk)
    except requests.exceptions.RequestException as error:
        # urllib3 checks the body against Content-Length: a connection closed early ends up here.
        raise FeedError(where, f"the body was cut short ({error_reason(error)})") from None
    return b"".join(chunks)


def _decode_json(body: bytes, where: str) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FeedError(where, f"malformed body: byte {error.start} is not UTF-8") from None
    try:
        return json.loads(text.removeprefix("\ufeff"))
    except json.JSONDecodeError as error:
        raise FeedError(where, f"malformed JSON: line {error.lineno} column {error.colno}: {error.msg}") from None
    except (ValueError, RecursionError) as error:
        raise FeedError(where, f"malformed JSON: {type(error).__name__}") from None


# The policy -----------------------------------------------------------------------------------------------

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
            "chrome.platforms", raw.get("platforms"), _CHROME_PLATFORMS, ("win64", "mac", "linux")
        )
        chrome["channels"] = check.choices("chrome.channels", raw.get("channels"), _CHROME_CHANNELS, _CHROME_CHANNELS)
        products = raw.get("products", ["chrome", "chromium"])
        if not isinstance(products, list) or not products or not all(isinstance(p, str) and p for p in products):
            check.add("chrome.products", "must be a non-empty list of product ids")
            products = ["chrome", "chromium"]
        chrome["products"] = products
    edge = section("edge", {"platforms", "channels"})
    if edge is not None:
        raw = edge.pop("raw")
        edge["platforms"] = check.choices("edge.platforms", raw.get("platforms"), _EDGE_PLATFORMS, _EDGE_PLATFORMS)
        edge["channels"] = check.choices("edge.channels", raw.get("channels"), _EDGE_CHANNELS, ("Stable",))
    settings.update(firefox=firefox, chrome=chrome, edge=edge)

    systems: dict[str, dict[str, Any]] = {}
    if settings["eol"]:
        os_section = check.obj("os", policy.get("os", {}))
        check.keys("os", os_section, set(_OS_PRODUCTS))
        for product, value in os_section.items():
            if product not in _OS_PRODUCTS:
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


# Reading the feeds (pure: parsed JSON in, release lines out) ----------------------------------------------


class _Line:
    """One supported release line a feed reported: Chrome Stable on win64, Firefox ESR 153, Ubuntu 24.04."""

    __slots__ = ("label", "latest", "released", "url")

    def __init__(self, label: str, latest: Version, released: str | None, url: str) -> None:
        self.label, self.latest, self.released, self.url = label, latest, released, url

    def describe(self) -> str:
        when = f" ({self.released})" if self.released else ""
        return f"{self.label} {self.latest}{when}"


def _plain(version: Version) -> str:
    """The numeric release only: ``153.7.0`` from ``153.7.0esr``."""
    return ".".join(str(part) for part in version.release)


def _floor(line: _Line, mode: str, *, whole_line: bool = False) -> Version:
    """The lowest version of ``line`` a user may run under ``mode``.

    latest-security-release: the line's newest fully rolled-out version. previous-major: the major before
    it (``158.0`` when 159 is out), or for an ESR line, whose security fixes are minor releases of one
    major, any release of the line (``whole_line``).
    """
    if mode == LATEST:
        return Version(_plain(line.latest))
    major = line.latest.major if whole_line else max(line.latest.major - 1, 0)
    return Version(f"{major}.0")


def _malformed(url: str, what: str) -> FeedError:
    return FeedError(url, f"malformed feed: {what}")


def _version(value: Any, url: str, what: str) -> Version:
    if not isinstance(value, str):
        raise _malformed(url, f"{what} is not a version string")
    try:
        version = Version(value.strip())
    except VersionError:
        raise _malformed(url, f"{what} {value!r} is not a version") from None
    if version.is_prerelease:
        raise _malformed(url, f"{what} {value!r} is a pre-release")
    return version


def _date_prefix(value: Any) -> str | None:
    """``2026-11-17`` from ``2026-11-17T18:04:11.000Z``; None when absent or unreadable."""
    if isinstance(value, str) and len(value) >= 10:
        try:
            return dt.date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            return None
    return None


def firefox_lines(data: Any, url: str, *, legacy_esr: bool) -> tuple[_Line, list[_Line], str | None]:
    """The release line, the supported ESR lines (oldest first), and the last release date."""
    if not isinstance(data, dict):
        raise _malformed(url, "not a JSON object")
    released = _date_prefix(data.get("LAST_RELEASE_DATE"))
    release = _Line(
        "Firefox", _version(data.get("LATEST_FIREFOX_VERSION"), url, "LATEST_FIREFOX_VERSION"), released, url
    )
    keys = ["FIREFOX_ESR"]
    if data.get("FIREFOX_ESR_NEXT"):  # "" outside an ESR overlap
        keys.append("FIREFOX_ESR_NEXT")
    if legacy_esr:
        # FIREFOX_ESR115 and the like: a line kept alive for old operating systems only.
        keys += sorted(key for key in data if key.startswith("FIREFOX_ESR") and key[11:].isdigit() and data[key])
    lines: dict[int, _Line] = {}
    for key in keys:
        version = _version(data.get(key), url, key)
        if version.major not in lines or lines[version.major].latest < version:
            lines[version.major] = _Line("Firefox ESR", version, None, url)
    return release, [lines[major] for major in sorted(lines)], released


def chrome_line(data: Any, url: str, label: str) -> _Line | None:
    """The newest release served to everyone (``fraction`` 1), or None when the channel lists none."""
    if not isinstance(data, dict):
        raise _malformed(url, "not a JSON object")
    releases = data.get("releases", [])  # the API leaves out an empty list altogether: {}
    if not isinstance(releases, list):
        raise _malformed(url, "'releases' is not a list")
    best: _Line | None = None
    for index, release in enumerate(releases):
        if not isinstance(release, dict):
            raise _malformed(url, f"releases[{index}] is not an object")
        fraction = release.get("fraction")
        # Only a full rollout counts: nobody is flagged for a version Google still holds back from them. A
        # missing fraction is proto3's default 0, not 1.
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or fraction < 1:
            continue
        version = _version(release.get("version"), url, f"releases[{index}].version")
        if best is None or best.latest < version:
            serving = release.get("serving")
            started = _date_prefix(serving.get("startTime")) if isinstance(serving, dict) else None
            best = _Line(label, version, started, url)
    return best


def edge_lines(data: Any, url: str, channels: list[str], platforms: list[str]) -> list[_Line]:
    """The newest release per channel and platform of Microsoft's Edge feed."""
    if not isinstance(data, list):
        raise _malformed(url, "not a JSON list of products")
    products: dict[str, Any] = {}
    for index, entry in enumerate(data):
        if not isinstance(entry, dict) or not isinstance(entry.get("Product"), str):
            raise _malformed(url, f"[{index}] is not a product with a 'Product' name")
        products[entry["Product"]] = entry.get("Releases")
    lines: list[_Line] = []
    for channel in channels:
        releases = products.get(channel)
        if releases is None:
            raise _malformed(url, f"no {channel!r} product in the feed")
        if not isinstance(releases, list):
            raise _malformed(url, f"{channel}.Releases is not a list")
        newest: dict[str, _Line] = {}
        for index, release in enumerate(releases):
            if not isinstance(release, dict):
                raise _malformed(url, f"{channel}.Releases[{index}] is not an object")
            platform = release.get("Platform")
            if platform not in platforms:
                continue
            version = _version(release.get("ProductVersion"), url, f"{channel}.Releases[{index}].ProductVersion")
            if platform not in newest or newest[platform].latest < version:
                published = _date_prefix(release.get("PublishedTime"))
                newest[platform] = _Line(f"Edge {channel} {platform}", version, published, url)
        if not newest:
            raise _malformed(url, f"no {channel} release for {', '.join(platforms)}")
        lines += [newest[platform] for platform in platforms if platform in newest]
    return lines


class _Cycle:
    """One endoflife.date release cycle, judged at a date: supported, ended, or announced (not out yet)."""

    __slots__ = ("announced", "end", "lts", "name", "supported", "version")

    def __init__(
        self, name: str, version: Version, lts: bool, supported: bool, end: str | None, announced: bool = False
    ) -> None:
        self.name, self.version, self.lts, self.supported, self.end = name, version, lts, supported, end
        self.announced = announced


def eol_cycles(data: Any, url: str, product: str, today: dt.date, *, extended: bool, edition: str) -> list[_Cycle]:
    """The product's released cycles with their support status on ``today`` (endoflife.date API v1)."""
    result = data.get("result") if isinstance(data, dict) else None
    releases = result.get("releases") if isinstance(result, dict) else None
    if not isinstance(releases, list):
        raise _malformed(url, "no result.releases list")
    cycles: list[_Cycle] = []
    for index, release in enumerate(releases):
        where = f"result.releases[{index}]"
        if not isinstance(release, dict) or not isinstance(release.get("name"), str):
            raise _malformed(url, f"{where} is not a release with a name")
        name = release["name"]
        released = _date_prefix(release.get("releaseDate"))
        announced = released is not None and released > today.isoformat()
        if product == "windows":
            # Names like "11-24h2-e", "11-24h2-w", "11-24h2-e-lts", "10-22h2". LTSC and IoT releases are a
            # channel clientcheck cannot tell from the version; the edition is the policy's choice.
            tokens = name.lower().split("-")
            if "lts" in tokens or "iot" in tokens:
                continue
            wanted = "e" if edition == "enterprise" else "w"
            if ("e" in tokens or "w" in tokens) and wanted not in tokens:
                continue
            latest = release.get("latest")
            build = latest.get("name") if isinstance(latest, dict) else None
            version = _version(build, url, f"{where}.latest.name")
            version = Version(".".join(str(part) for part in version.release[:3]))  # 10.0.26100, not the UBR
        else:
            version = _version(name, url, f"{where}.name")
        # When support ends: its date if known, else the flag. "eolFrom" is the first day without support.
        end, over = release.get("eolFrom"), release.get("isEol")
        if extended and "eoesFrom" in release and release.get("isEoes") is not None:
            end, over = release.get("eoesFrom"), release.get("isEoes")
        end_date = _date_prefix(end)
        if end_date is not None:
            supported = today.isoformat() < end_date
        elif isinstance(over, bool):
            supported = not over
        else:
            raise _malformed(url, f"{where} has neither an end-of-life date nor an isEol flag")
        lts = release.get("isLts") is True
        cycles.append(_Cycle(name, version, lts, supported and not announced, end_date, announced))
    return cycles


# Building rules (pure) ------------------------------------------------------------------------------------


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
    lines: list[_Line],
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


def _firefox_rules(
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
        # Every line the feed lists is supported; only one rule can judge the esr track (see the module
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


def _chrome_urls(section: dict[str, Any], base: str) -> list[tuple[str, str, str]]:
    # filter=fraction=1 asks the API for full rollouts only; chrome_line checks the fraction again, as a
    # mirror may drop the query. Only the first page is read (nextPageToken is not followed): the API
    # lists the newest releases first, and the newest full rollout is among them.
    root = base.rstrip("/")
    return [
        (platform, channel, f"{root}/platforms/{platform}/channels/{channel}/versions/all/releases?filter=fraction=1")
        for channel in section["channels"]
        for platform in section["platforms"]
    ]


def _chrome_rule(
    section: dict[str, Any],
    responses: dict[str, Any],
    base: str,
    today: dt.date,
    grace_days: int,
    previous: dict[str, Rule],
) -> dict[str, Any]:
    lines: list[_Line] = []
    missing: list[str] = []
    for platform, channel, url in _chrome_urls(section, base):
        line = chrome_line(responses[url], url, f"Chrome {channel} {platform}")
        if line is None:
            missing.append(f"{channel} {platform}")  # Google's Linux builds have no Extended channel
        else:
            lines.append(line)
    for channel in section["channels"]:
        if not any(line.label.startswith(f"Chrome {channel} ") for line in lines):
            first = _chrome_urls({**section, "channels": [channel]}, base)[0][2]
            raise _malformed(
                first, f"no fully rolled-out {channel} release on any of {', '.join(section['platforms'])}"
            )
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


def _os_rules(product: str, section: dict[str, Any], data: Any, url: str, today: dt.date) -> list[dict[str, Any]]:
    cycles = eol_cycles(data, url, product, today, extended=section["extended_support"], edition=section["edition"])
    groups: list[tuple[str, str | None, list[_Cycle]]]
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
            raise _malformed(url, f"no supported {track or product} release listed")
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


def _os_url(base: str, product: str) -> str:
    return f"{base.rstrip('/')}/{product}/"


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


def _rule_document(rule: Rule, note: str) -> dict[str, Any]:
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
            return _firefox_rules(settings["firefox"], get(feed, url), url, today, grace_days, old_rules)
        if feed == "chrome":
            section = settings["chrome"]
            base = feeds["chrome"]["url"]
            responses = {url: get(feed, url) for _, _, url in _chrome_urls(section, base)}
            return [_chrome_rule(section, responses, base, today, grace_days, old_rules)]
        if feed == "edge":
            section, url = settings["edge"], feeds["edge"]["url"]
            lines = edge_lines(get(feed, url), url, section["channels"], section["platforms"])
            return [
                _minimum_rule(
                    "edge",
                    "edge",
                    None,
                    lines,
                    section["minimum"],
                    _texts(section, "edge"),
                    today,
                    grace_days,
                    old_rules,
                )
            ]
        rules: list[dict[str, Any]] = []
        for product, section in settings["os"].items():
            url = _os_url(feeds["endoflife"]["url"], product)
            rules += _os_rules(product, section, get(feed, url), url, today)
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
                    rules.append(_rule_document(old_rules[rule_id], note))

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

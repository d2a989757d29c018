"""`clientcheck rules generate`: recorded vendor feeds served by a real HTTP server on 127.0.0.1, fetched
with ``fetch_json`` (requests), turned into a rule file the agent's own validator accepts; and every way a
feed can fail ends in a ``FeedError`` naming the URL, never in a half rule file. No request leaves this
machine: every socket connection is recorded and checked."""

from __future__ import annotations

import copy
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from clientcheck import dates as dt
from clientcheck.errors import ClientcheckError
from clientcheck.rules import parse_rules
from clientcheck.rules.generate import generate
from clientcheck.rules.generate.build import render
from clientcheck.rules.generate.download import FEED_POLICY, fetch_json
from clientcheck.rules.generate.errors import FeedError, GenerateError, PolicyError
from clientcheck.rules.generate.feeds.chrome import chrome_line
from clientcheck.rules.generate.policy import check_feed_url, load_policy, validate_policy
from clientcheck.version import Version

REPO = Path(__file__).resolve().parents[2]
FEEDS = REPO / "tests" / "fixtures" / "feeds"
POLICY_EXAMPLE = REPO / "rules" / "policy.example.json"
DEFAULT_RULES = REPO / "agent" / "clientcheck" / "data" / "default-rules.json"
TODAY = dt.date(2026, 11, 25)


# The local server ---------------------------------------------------------------------------------------


class Server:
    """What the handler serves, and every request it saw (path with query)."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.hits: dict[str, int] = {}
        self.lock = threading.Lock()
        self.base = ""

    def count(self, path: str) -> int:
        with self.lock:
            self.requests.append(path)
            self.hits[path] = self.hits.get(path, 0) + 1
            return self.hits[path]


def _feed_file(path: str) -> Path | None:
    """The recorded response for a vendor path, as the real services lay them out."""
    parts = path.strip("/").split("/")
    if path == "/1.0/firefox_versions.json":
        return FEEDS / "firefox_versions.json"
    if path == "/overlap/1.0/firefox_versions.json":
        return FEEDS / "firefox_versions-2026-09-29.json"
    if path == "/api/products":
        return FEEDS / "edge-products.json"
    if parts[:2] == ["v1", "chrome"] and len(parts) == 9 and parts[-3:] == ["versions", "all", "releases"]:
        return FEEDS / f"chrome-{parts[3]}-{parts[5]}.json"
    if parts[:3] == ["api", "v1", "products"] and len(parts) == 4 and path.endswith("/"):
        return FEEDS / f"eol-{parts[3]}.json"
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    server_state: Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def reply(self, status: int, body: bytes = b"", content_type: str = "application/json", **headers: str) -> None:
        self.send_response(status)
        if status not in (301, 302, 304):
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_GET(self) -> None:
        hit = self.server_state.count(self.path)
        path = urlsplit(self.path).path
        special = path.split("/")[1] if path.count("/") >= 1 else ""
        try:
            if (found := _feed_file(path)) is not None and found.exists():
                self.reply(200, found.read_bytes(), "application/json; charset=utf-8")
            elif special == "moved":  # 301 to the real file, relative Location as servers often send
                self.reply(301, Location="/1.0/firefox_versions.json")
            elif special == "see-other":  # 303: the answer is elsewhere, fetched with a GET (RFC 9110 15.4.4)
                self.reply(303, Location="/1.0/firefox_versions.json")
            elif special == "loop":
                self.reply(302, Location=self.path)
            elif special == "offsite":
                self.reply(301, Location="http://example.com/firefox_versions.json")
            elif special == "not-modified":
                self.reply(304)
            elif special == "busy":  # 429 with Retry-After: 1 once, then the file
                if hit == 1:
                    self.reply(429, b'{"error": "slow down"}', Retry_After="1")
                else:
                    self.reply(200, (FEEDS / "firefox_versions.json").read_bytes())
            elif special == "unavailable":
                self.reply(503, b"down for maintenance", "text/plain", Retry_After="1")
            elif special == "malformed":
                self.reply(200, b'{"LATEST_FIREFOX_VERSION": "159.0",')
            elif special == "truncated":  # promises 5000 bytes, sends 40, hangs up
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "5000")
                self.end_headers()
                self.wfile.write(b'{"LATEST_FIREFOX_VERSION": "159.0", "FI')
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
            elif special == "html":  # a captive portal or an error page answering 200
                self.reply(200, b"<html><body>Sign in to the network</body></html>", "text/html; charset=utf-8")
            elif special == "huge":  # declares more than the cap
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(6 * 1024 * 1024))
                self.end_headers()
            elif special == "endless":  # no length, just keeps sending
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                chunk = b" " * 65536
                for _ in range(6 * 16 + 1):
                    self.wfile.write(chunk)
            elif special == "edge-object":  # right status and type, wrong shape
                self.reply(200, b'{"Product": "Stable"}')
            else:
                self.reply(404, b'{"error": "not found"}')
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first, as it should on "huge" and "endless"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    state = Server()
    handler = type("BoundHandler", (Handler,), {"server_state": state})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def only_loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Record every outgoing connection and name lookup; after the test, all must have been 127.0.0.1."""
    connected: list[Any] = []
    looked_up: list[Any] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        connected.append(address)
        if address[0] != "127.0.0.1":
            raise OSError(f"test tried to connect to {address}")
        real_connect(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(host)
        if host not in ("127.0.0.1",):
            raise OSError(f"test tried to resolve {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield connected
    assert all(address[0] == "127.0.0.1" for address in connected), connected
    assert all(host == "127.0.0.1" for host in looked_up), looked_up


def local_policy(server: Server, **changes: Any) -> dict[str, Any]:
    """The example policy, every feed pointed at the local server."""
    policy: dict[str, Any] = json.loads(POLICY_EXAMPLE.read_text(encoding="utf-8"))
    policy["feeds"] = {
        "mozilla": {"url": f"{server.base}/1.0/firefox_versions.json"},
        "chrome": {"url": f"{server.base}/v1/chrome"},
        "edge": {"url": f"{server.base}/api/products"},
        "endoflife": {"url": f"{server.base}/api/v1/products/"},
    }
    policy.update(changes)
    return policy


def previous_default() -> Any:
    return parse_rules(DEFAULT_RULES.read_bytes())


def rules_by_id(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {rule["id"]: rule for rule in document["rules"]}


# The example policy ---------------------------------------------------------------------------------------


def test_policy_example_loads() -> None:
    policy = load_policy(str(POLICY_EXAMPLE))
    settings = validate_policy(policy)
    assert settings["publisher"] == "Example Corp IT"
    assert settings["expires_days"] == 60 and settings["grace_days"] == 14
    assert settings["minimum"] == "latest-security-release"
    assert settings["feeds"]["mozilla"]["url"].startswith("https://")
    assert set(settings["os"]) == {"windows", "macos", "debian", "ubuntu", "fedora"}


def test_policy_problems_are_all_named(tmp_path: Path) -> None:
    bad = {"schema": "clientcheck.policy/1", "publisher": "", "expire_days": 30, "grace_days": -1,
           "minimum": "newest", "feeds": {"chrome": {"url": "http://example.com/v1/chrome"}},
           "chrome": {"channels": ["beta"]}}  # fmt: skip
    with pytest.raises(PolicyError) as caught:
        validate_policy(bad)
    problems = "\n".join(caught.value.problems)
    for expected in ("publisher", "expire_days: unknown key", "grace_days", "minimum", "feeds.chrome.url: only https",
                     "chrome.channels[0]"):  # fmt: skip
        assert expected in problems
    path = tmp_path / "policy.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(PolicyError, match="invalid JSON"):
        load_policy(str(path))


# End to end ---------------------------------------------------------------------------------------------


def test_generate_end_to_end(server: Server, only_loopback: list[Any]) -> None:
    started = len(server.requests)
    document = generate(local_policy(server), fetch_json, TODAY, previous_default())

    ruleset = parse_rules(render(document).encode("utf-8"))  # the agent accepts it as is
    assert ruleset.serial == 2026112501 + 1  # the bundled file's serial + 1
    assert document["published"] == "2026-11-25"
    assert ruleset.expires == TODAY + dt.timedelta(days=60) == dt.date(2027, 1, 24)

    rules = rules_by_id(document)
    assert list(rules) == ["firefox", "firefox-esr", "chrome", "edge", "windows", "macos", "debian", "ubuntu-lts",
                           "ubuntu-interim", "fedora", "acrobat-continuous"]  # fmt: skip
    assert rules["firefox"]["track"] == "release" and rules["firefox"]["minimum"] == "159.0"
    assert rules["firefox"]["grace"] == {"since": "2026-11-25", "days": 14}  # new minimum (was 158.0)
    esr = rules["firefox-esr"]
    assert esr["track"] == "esr" and esr["minimum"] == "153.6.0"
    assert "grace" not in esr  # the same minimum as the previous file, which gave it no grace
    assert esr["unsupported"]["below"] == "153" and esr["unsupported"]["since"] == "2026-10-27"  # kept
    chrome = rules["chrome"]
    assert chrome["product"] == ["chrome", "chromium"] and "track" not in chrome
    # Extended Stable is the lowest line listed: a patched Debian chromium (Extended, 156.0.8078.108) passes.
    assert chrome["minimum"] == "156.0.8078.108"
    assert Version("156.0.8078.108-1~deb12u1") >= Version(chrome["minimum"])
    assert rules["edge"]["minimum"] == "154.0"  # the example asks previous-major for Edge: 155 is out
    assert rules["windows"]["track"] == "client"
    assert rules["windows"]["unsupported"] == {
        "below": "10.0.26100",
        "since": "2026-11-10",
        "message": rules["windows"]["unsupported"]["message"],
    }
    expected_os = {
        "macos": ("15", "2026-09-15"),
        "debian": ("12", "2026-08-31"),  # Debian LTS counts (extended_support): 11's LTS ended 2026-08-31
        "ubuntu-lts": ("22.04", "2025-05-29"),
        "ubuntu-interim": ("26.10", "2026-07-09"),
        "fedora": ("43", "2026-05-28"),
    }
    for rule_id, (below, since) in expected_os.items():
        assert (rules[rule_id]["unsupported"]["below"], rules[rule_id]["unsupported"]["since"]) == (below, since)
        assert "minimum" not in rules[rule_id]
    assert rules["ubuntu-lts"]["track"] == "lts" and rules["ubuntu-interim"]["track"] == "interim"

    for rule_id, rule in rules.items():
        if rule_id == "acrobat-continuous":
            continue  # the policy's own extra rule
        assert rule["source"]["url"].startswith(server.base), rule_id
        assert rule["source"]["date"] == "2026-11-25" and rule["source"]["note"], rule_id
    assert "skipped" not in document["x-generator"]

    requested = server.requests[started:]
    chrome_requests = [path for path in requested if path.startswith("/v1/chrome/")]
    assert len(chrome_requests) == 6  # stable and extended on win64, mac, linux
    assert all(path.endswith("/versions/all/releases?filter=fraction=1") for path in chrome_requests)
    assert {path for path in requested if path.startswith("/api/v1/products/")} == {
        f"/api/v1/products/{name}/" for name in ("windows", "macos", "debian", "ubuntu", "fedora")
    }
    assert only_loopback, "the requests went over real sockets"


def test_a_chrome_release_below_full_rollout_is_never_the_minimum(server: Server) -> None:
    # On mac, 158.0.8127.37 is served to half the users: only 157.0.8103.79 has reached everyone.
    mac = fetch_json(f"{server.base}/v1/chrome/platforms/mac/channels/stable/versions/all/releases")
    assert any(release["version"] == "158.0.8127.37" and release["fraction"] < 1 for release in mac["releases"])
    line = chrome_line(mac, "https://example.invalid/", "Chrome stable mac")
    assert line is not None and str(line.latest) == "157.0.8103.79"

    policy = local_policy(server)
    policy["chrome"] = {"platforms": ["win64", "mac", "linux"], "channels": ["stable"]}
    document = generate(policy, fetch_json, TODAY, previous_default())
    assert rules_by_id(document)["chrome"]["minimum"] == "157.0.8103.79"  # not 158: mac is not there yet


def test_previous_major_is_more_lenient(server: Server) -> None:
    policy = local_policy(server, minimum="previous-major")
    policy["edge"].pop("minimum")
    # No previous file: against the bundled one these minimums would go down, which needs allow_lower.
    document = generate(policy, fetch_json, TODAY)
    rules = rules_by_id(document)
    assert rules["firefox"]["minimum"] == "158.0"
    assert rules["firefox-esr"]["minimum"] == "153.0"  # any release of the supported ESR line
    assert rules["chrome"]["minimum"] == "155.0"  # Extended's 156, one major back
    assert rules["edge"]["minimum"] == "154.0"


@pytest.mark.parametrize(
    ("firefox", "minimum", "below"),
    [
        ({}, "140.17.0", "140"),  # accept-older: a patched user of either supported ESR line passes
        ({"esr_overlap": "require-newer"}, "153.4.0", "140"),  # everyone onto 153; 140 is not yet end-of-life
        ({"legacy_esr": True}, "115.42.0", "115"),  # the Windows 7 line accepted too
    ],
)
def test_esr_overlap(server: Server, firefox: dict[str, Any], minimum: str, below: str) -> None:
    policy = local_policy(server)
    policy["feeds"]["mozilla"]["url"] = f"{server.base}/overlap/1.0/firefox_versions.json"
    policy["firefox"] = {"tracks": ["release", "esr"], **firefox}
    document = generate(policy, fetch_json, dt.date(2026, 9, 30))
    rules = rules_by_id(document)
    assert rules["firefox"]["minimum"] == "157.0"
    assert (rules["firefox-esr"]["minimum"], rules["firefox-esr"]["unsupported"]["below"]) == (minimum, below)
    assert "Firefox ESR 153" in rules["firefox-esr"]["unsupported"]["message"]["en"]
    # On 2026-09-30 no Ubuntu interim release is supported (25.10 ended 2026-07-09, 26.10 comes out on
    # 2026-10-15): the announced one is the bound, so its users pass from its first day.
    interim = rules["ubuntu-interim"]
    assert interim["unsupported"]["below"] == "26.10" and "none yet (26.10 is announced)" in interim["source"]["note"]
    parse_rules(render(document).encode())


def test_serial_and_grace_across_runs(server: Server) -> None:
    first = generate(local_policy(server), fetch_json, TODAY)
    assert first["serial"] == 2026112501  # no previous file: a date-based serial
    later = dt.date(2026, 12, 1)
    second = generate(local_policy(server), fetch_json, later, parse_rules(render(first).encode()))
    assert second["serial"] == 2026112502
    # The minimums did not change: their grace still counts from the day they were first published.
    assert rules_by_id(second)["chrome"]["grace"] == {"since": "2026-11-25", "days": 14}
    assert second["expires"] == "2027-01-30"
    dated = generate(local_policy(server, serial="date"), fetch_json, later, parse_rules(render(first).encode()))
    assert dated["serial"] == 2026120101


def test_a_minimum_never_goes_down_silently(server: Server) -> None:
    document = json.loads(DEFAULT_RULES.read_text(encoding="utf-8"))
    next(rule for rule in document["rules"] if rule["id"] == "chrome")["minimum"] = "158.0"
    previous = parse_rules(json.dumps(document).encode())

    with pytest.raises(GenerateError, match=r"chrome: 156\.0\.8078\.108 is below the previous file's 158\.0"):
        generate(local_policy(server), fetch_json, TODAY, previous)
    allowed = generate(local_policy(server, allow_lower=True), fetch_json, TODAY, previous)
    assert rules_by_id(allowed)["chrome"]["minimum"] == "156.0.8078.108"


# A feed that fails -----------------------------------------------------------------------------------------


def test_a_required_feed_that_fails_fails_the_whole_run(server: Server) -> None:
    policy = local_policy(server)
    policy["feeds"]["edge"] = {"url": f"{server.base}/unavailable/api/products", "optional": False}
    sleeps: list[float] = []
    with pytest.raises(FeedError) as caught:
        generate(policy, lambda url: fetch_json(url, sleep=sleeps.append), TODAY, previous_default())
    assert caught.value.feed == "edge"
    assert str(caught.value).startswith(f"edge feed: {server.base}/unavailable/api/products: HTTP 503")
    assert isinstance(caught.value, ClientcheckError)


def test_a_malformed_feed_is_named(server: Server) -> None:
    policy = local_policy(server)
    policy["feeds"]["edge"] = {"url": f"{server.base}/edge-object"}
    with pytest.raises(FeedError, match=r"^edge feed: http://127\.0\.0\.1:\d+/edge-object: malformed feed"):
        generate(policy, fetch_json, TODAY)
    policy = local_policy(server)
    policy["feeds"]["endoflife"] = {"url": f"{server.base}/nowhere/"}
    with pytest.raises(FeedError, match=r"^endoflife feed: .*/nowhere/windows/: HTTP 404"):
        generate(policy, fetch_json, TODAY)


def test_an_optional_feed_that_fails_keeps_the_previous_rules(server: Server) -> None:
    policy = local_policy(server)
    policy["feeds"]["edge"] = {"url": f"{server.base}/malformed", "optional": True}

    carried = generate(policy, fetch_json, TODAY, previous_default())
    edge = rules_by_id(carried)["edge"]
    assert edge["minimum"] == "152.0" and "carried over from serial 2026112501" in edge["source"]
    assert carried["x-generator"]["skipped"][0].startswith(f"edge feed: {server.base}/malformed: malformed JSON")
    parse_rules(render(carried).encode())
    without_previous = generate(policy, fetch_json, TODAY)
    assert "edge" not in rules_by_id(without_previous)


# fetch_json against each misbehaviour ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/moved/firefox_versions.json", "/see-other/firefox_versions.json"])
def test_follows_a_redirect(server: Server, path: str) -> None:
    assert fetch_json(f"{server.base}{path}")["LATEST_FIREFOX_VERSION"] == "159.0"


def test_retries_once_after_429(server: Server) -> None:
    url = f"{server.base}/busy/firefox_versions.json"
    sleeps: list[float] = []
    assert fetch_json(url, sleep=sleeps.append)["FIREFOX_ESR"] == "153.6.0esr"
    assert sleeps == [1.0]  # it did wait Retry-After: 1
    assert server.hits["/busy/firefox_versions.json"] == 2


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/not-modified", "HTTP 304"),
        ("/missing.json", "HTTP 404"),
        ("/malformed", "malformed JSON: line 1 column 36"),
        ("/truncated", "the body was cut short"),
        ("/html", "served as 'text/html; charset=utf-8', not JSON"),
        ("/huge", "6291456 bytes, more than the 5242880 allowed"),
        ("/endless", "more than the 5242880 bytes allowed"),
        ("/loop", "more than 5 redirects"),
    ],
)
def test_each_failure_is_a_feed_error_naming_the_url(server: Server, path: str, message: str) -> None:
    url = f"{server.base}{path}"
    with pytest.raises(FeedError) as caught:
        fetch_json(url)
    assert url in str(caught.value)
    assert message in str(caught.value)
    assert caught.value.url.startswith(url)


def test_503_is_retried_once_then_fails(server: Server) -> None:
    sleeps: list[float] = []
    url = f"{server.base}/unavailable/once"
    with pytest.raises(FeedError, match=r"HTTP 503 Service Unavailable \(after one retry\)"):
        fetch_json(url, sleep=sleeps.append)
    assert sleeps == [1.0]
    assert server.hits["/unavailable/once"] == 2


def test_a_redirect_off_this_machine_over_http_is_refused_before_connecting(
    server: Server, only_loopback: list[Any]
) -> None:
    url = f"{server.base}/offsite/firefox_versions.json"
    refused = r"refused a redirect to http://example\.com/firefox_versions\.json: only https://"
    with pytest.raises(FeedError, match=refused) as caught:
        fetch_json(url)
    assert url in str(caught.value)
    assert all(address[0] == "127.0.0.1" for address in only_loopback)


def test_connection_refused() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FeedError, match=rf"http://127\.0\.0\.1:{port}/x\.json: cannot connect"):
        fetch_json(f"http://127.0.0.1:{port}/x.json")


def test_only_https_or_this_machine(only_loopback: list[Any]) -> None:
    for url in (
        "http://product-details.mozilla.org/1.0/firefox_versions.json",
        "ftp://example.com/x",
        "file:///etc/passwd",
    ):
        with pytest.raises(FeedError, match="only https://") as caught:
            fetch_json(url)
        assert url in str(caught.value)
    assert check_feed_url("https://endoflife.date/api/v1/products/ubuntu/")
    assert check_feed_url("http://[::1]:8080/x") and check_feed_url("http://localhost/x")
    assert not only_loopback  # nothing was even attempted


def test_retry_after() -> None:
    now = dt.datetime(2026, 11, 25, 12, 0, 0, tzinfo=dt.timezone.utc)
    assert FEED_POLICY.retry_wait("1", now) == 1.0
    assert FEED_POLICY.retry_wait("3600", now) == FEED_POLICY.retry_after_max == 30.0
    assert FEED_POLICY.retry_wait("Wed, 25 Nov 2026 12:00:10 GMT", now) == 10.0
    assert FEED_POLICY.retry_wait("Wed, 25 Nov 2026 11:00:00 GMT", now) == 0.0  # already past
    assert FEED_POLICY.retry_wait(None) == FEED_POLICY.retry_wait("soon") == 1.0


def test_the_recorded_feeds_have_the_vendors_shapes() -> None:
    chrome = json.loads((FEEDS / "chrome-win64-stable.json").read_text(encoding="utf-8"))
    assert set(chrome) == {"releases", "nextPageToken"}
    assert set(chrome["releases"][0]) == {"name", "serving", "fraction", "version", "fractionGroup", "pinnable"}
    edge = json.loads((FEEDS / "edge-products.json").read_text(encoding="utf-8"))
    assert {"ReleaseId", "Platform", "Architecture", "CVEs", "ProductVersion", "Artifacts", "PublishedTime",
            "ExpectedExpiryDate"} == set(edge[0]["Releases"][0])  # fmt: skip
    for product in ("windows", "macos", "debian", "ubuntu", "fedora"):
        response = json.loads((FEEDS / f"eol-{product}.json").read_text(encoding="utf-8"))
        assert response["schema_version"] == "1.2.0" and response["result"]["name"] == product
        for release in response["result"]["releases"]:
            assert {"name", "isLts", "isEol", "eolFrom", "latest", "isMaintained"} <= set(release)


def test_generate_is_pure() -> None:
    """The same responses give the same file; nothing but ``fetch`` is asked for data."""
    responses: dict[str, Any] = {}

    def fetch(url: str) -> Any:
        path = urlsplit(url).path
        found = {
            "/1.0/firefox_versions.json": "firefox_versions.json",
            "/api/products": "edge-products.json",
        }.get(path)
        if found is None and "/v1/chrome/" in path:
            parts = path.split("/")
            found = f"chrome-{parts[4]}-{parts[6]}.json"
        if found is None:
            found = f"eol-{path.rstrip('/').split('/')[-1]}.json"
        responses[url] = json.loads((FEEDS / found).read_text(encoding="utf-8"))
        return copy.deepcopy(responses[url])

    policy = json.loads(POLICY_EXAMPLE.read_text(encoding="utf-8"))
    policy["feeds"] = {"mozilla": {"url": "https://feeds.invalid/1.0/firefox_versions.json"},
                       "chrome": {"url": "https://feeds.invalid/v1/chrome"},
                       "edge": {"url": "https://feeds.invalid/api/products"},
                       "endoflife": {"url": "https://feeds.invalid/api/v1/products/"}}  # fmt: skip
    first = generate(policy, fetch, TODAY)
    assert generate(policy, fetch, TODAY) == first
    assert len(responses) == 1 + 6 + 1 + 5


def test_the_command_line_writes_a_valid_rule_file(server: Server, tmp_path: Path, capsys) -> None:
    from clientcheck.cli import main
    from clientcheck.rules import read_rule_file

    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(local_policy(server)), encoding="utf-8")
    output = tmp_path / "rules.json"
    status = main(
        ["rules", "generate", "--policy", str(policy), "--previous", str(DEFAULT_RULES), "-o", str(output)], env={}
    )
    assert status == 0, capsys.readouterr().err
    ruleset, _ = read_rule_file(str(output))
    assert ruleset.serial == read_rule_file(str(DEFAULT_RULES))[0].serial + 1
    bad = main(["rules", "generate", "--policy", str(tmp_path / "missing.json")], env={})
    assert bad == 2
    assert "cannot read" in capsys.readouterr().err

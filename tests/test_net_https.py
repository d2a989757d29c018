"""The one HTTPS client (clientcheck.net.https) against real HTTP servers on 127.0.0.1: what the collector's
shipping needs (POST with a JSON body, gzip bodies, a Bearer header, error answers read as results,
Retry-After in seconds and as an HTTP date, bounded) and the rules every caller gets (redirects as RFC 9110
says, no credentials to another origin, uncompressed answers, no proxy and no ~/.netrc for this machine,
the CA bundle checked first). The rule fetch and the feeds are tested through their own callers in
test_rules_fetch.py and unit/test_generate.py."""

from __future__ import annotations

import gzip
import http.server
import json
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import clientcheck
from clientcheck import dates as dt
from clientcheck.net.https import redirect_target, send
from clientcheck.net.messages import FetchError, Policy, Request, Response, json_request, retry_after

NOW = dt.datetime(2026, 11, 25, 12, 0, 0, tzinfo=dt.timezone.utc)
SHIP = Policy("ship", error_bodies=True, content_types=("application/json",))
HOST_KEY = "hk_3q2-Xy.z~9+/abc=="  # a made-up host key
REPORT = {"report_id": "6f1c2b1e-3a7d-4c55-9d0e-2f1b8c7a9e10", "report": {"summary": {"status": "owed", "owed": 1}}}


class Seen:
    """One request as the server received it."""

    def __init__(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        self.method, self.path, self.headers, self.body = method, path, headers, body


class Server:
    """Answers per path, in order (the last one repeats), and every request seen."""

    def __init__(self) -> None:
        self.base = ""
        self.answers: dict[str, list[tuple[int, dict[str, str], bytes]]] = {}
        self.seen: list[Seen] = []
        self.lock = threading.Lock()

    def answer(self, path: str, *answers: tuple[int, dict[str, str], bytes]) -> str:
        self.answers[path] = list(answers)
        return f"{self.base}{path}"

    def next_answer(self, path: str) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            queue = self.answers.get(path, [(404, {}, b"")])
            return queue.pop(0) if len(queue) > 1 else queue[0]


class Handler(http.server.BaseHTTPRequestHandler):
    state: Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.state.lock:
            self.state.seen.append(Seen(self.command, self.path, dict(self.headers), body))
        status, headers, content = self.state.next_answer(self.path)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)

    def do_GET(self) -> None:
        self._any()

    def do_POST(self) -> None:
        self._any()

    def do_HEAD(self) -> None:
        self._any()


def _serve() -> Iterator[Server]:
    state = Server()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), type("Bound", (Handler,), {"state": state}))
    httpd.daemon_threads = True
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def _servers() -> Iterator[tuple[Server, Server]]:
    first, second = _serve(), _serve()
    yield next(first), next(second)
    for running in (first, second):
        running.close()


@pytest.fixture
def server(_servers: tuple[Server, Server]) -> Server:
    """A server on 127.0.0.1 with no answers set and no requests seen (shared by the module's tests: each
    one that starts and stops waits half a second for its loop to notice)."""
    state = _servers[0]
    state.answers.clear()
    state.seen.clear()
    return state


@pytest.fixture
def other_server(_servers: tuple[Server, Server]) -> Server:
    state = _servers[1]
    state.answers.clear()
    state.seen.clear()
    return state


def _json(status: int, document: Any, **headers: str) -> tuple[int, dict[str, str], bytes]:
    fields = {"Content-Type": "application/json", **{name.replace("_", "-"): v for name, v in headers.items()}}
    return status, fields, json.dumps(document).encode()


# What the collector's shipping needs -----------------------------------------------------------------------


def test_a_json_body_is_posted(server: Server) -> None:
    url = server.answer("/api/v1/reports", _json(202, {"next_check_in": 3600}))
    response = send(json_request(url, REPORT), SHIP)
    assert (response.status, response.reason, json.loads(response.body)) == (202, "Accepted", {"next_check_in": 3600})
    assert response.header("content-type") == response.header("Content-Type") == "application/json"
    (seen,) = server.seen
    assert (seen.method, seen.path) == ("POST", "/api/v1/reports")
    assert seen.headers["Content-Type"] == "application/json"
    assert json.loads(seen.body) == REPORT
    assert int(seen.headers["Content-Length"]) == len(seen.body)


def test_a_gzip_body_arrives_whole_and_is_the_same_for_the_same_report(server: Server) -> None:
    url = server.answer("/api/v1/reports", _json(202, {}))
    request = json_request(url, REPORT, compress=True)
    assert request == json_request(url, REPORT, compress=True)  # no time stamp in the gzip header
    send(request, SHIP)
    (seen,) = server.seen
    assert seen.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(seen.body)) == REPORT
    assert len(seen.body) == int(seen.headers["Content-Length"])


def test_a_bearer_token_is_sent(server: Server) -> None:
    url = server.answer("/api/v1/reports", _json(202, {}))
    send(json_request(url, REPORT, token=HOST_KEY), SHIP)
    assert server.seen[0].headers["Authorization"] == f"Bearer {HOST_KEY}"


@pytest.mark.parametrize("token", ["", "two words", "abc\r\nX-Injected: 1", "ab=cd", "====", "tök"], ids=repr)
def test_what_is_not_a_bearer_token_is_refused_before_sending(server: Server, token: str) -> None:
    url = server.answer("/api/v1/reports", _json(202, {}))
    with pytest.raises(FetchError, match="the Bearer token is not one"):
        send(json_request(url, REPORT, token=token), SHIP)
    assert server.seen == []


@pytest.mark.parametrize(
    ("status", "document"),
    [
        (401, {"error": "reenroll"}),
        (401, {"error": "revoked"}),
        (413, {"error": "too large"}),
        (422, {"error": "not a clientcheck.report/1"}),
        (500, {"error": "database down"}),
    ],
)
def test_error_answers_are_results_with_their_bodies(server: Server, status: int, document: Any) -> None:
    url = server.answer("/api/v1/reports", _json(status, document))
    response = send(json_request(url, REPORT, token=HOST_KEY), SHIP)
    assert (response.status, json.loads(response.body)) == (status, document)
    # A caller that only needs the status (the rule fetch, the feeds) does not read the body.
    assert send(Request(url), Policy("rules")).body == b""


def test_retry_after_in_seconds_is_waited_for(server: Server) -> None:
    url = server.answer("/api/v1/reports", _json(429, {"error": "slow down"}, Retry_After="7"), _json(202, {}))
    sleeps: list[float] = []
    response = send(json_request(url, REPORT), SHIP.replace(retries=1), sleep=sleeps.append)
    assert (response.status, response.retries, sleeps) == (202, 1, [7.0])
    assert [seen.method for seen in server.seen] == ["POST", "POST"]
    assert server.seen[0].body == server.seen[1].body


def test_retry_after_as_an_http_date_is_waited_for(server: Server) -> None:
    busy = _json(503, {}, Retry_After="Wed, 25 Nov 2026 12:00:10 GMT")
    url = server.answer("/feed.json", busy, _json(200, {"ok": True}))
    sleeps: list[float] = []
    response = send(Request(url), Policy("rules generate", retries=1), sleep=sleeps.append, clock=lambda: NOW)
    assert (response.status, response.retries, sleeps) == (200, 1, [10.0])


def test_retries_and_their_waits_are_bounded(server: Server) -> None:
    url = server.answer("/busy", _json(503, {}, Retry_After="3600"))
    sleeps: list[float] = []
    response = send(Request(url), Policy("rules generate", retries=2, retry_after_max=30.0), sleep=sleeps.append)
    assert (response.status, response.retries, sleeps, len(server.seen)) == (503, 2, [30.0, 30.0], 3)
    assert response.retry_after() == 3600.0  # what the server asked, for a caller that keeps its own schedule


def test_no_retry_whose_wait_would_end_after_the_deadline(server: Server) -> None:
    url = server.answer("/busy", _json(429, {}, Retry_After="3600"))
    sleeps: list[float] = []
    policy = Policy("ship", retries=3, retry_after_max=86400.0, deadline=10.0)
    response = send(Request(url), policy, sleep=sleeps.append)
    assert (response.status, response.retries, sleeps, len(server.seen)) == (429, 0, [], 1)


def test_no_retry_unless_the_policy_says_so(server: Server) -> None:
    url = server.answer("/busy", _json(503, {}, Retry_After="1"))
    sleeps: list[float] = []
    response = send(Request(url), Policy("rules"), sleep=sleeps.append)
    assert (response.status, sleeps, len(server.seen)) == (503, [], 1)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Wed, 25 Nov 2026 12:00:10 GMT", 10.0),
        ("Wednesday, 25-Nov-26 12:01:00 GMT", 60.0),  # RFC 850, which RFC 9110 still asks readers to take
        ("Wed Nov 25 12:00:30 2026", 30.0),  # asctime
        ("Wed, 25 Nov 2026 11:00:00 GMT", 0.0),  # already past
        ("9" * 5000, float("inf")),
        ("-5", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_reading_retry_after(value: str | None, seconds: float | None) -> None:
    assert retry_after(value, NOW) == seconds


def test_the_wait_a_policy_allows() -> None:
    policy = Policy("rules generate", retry_after_default=1.0, retry_after_max=30.0)
    assert policy.retry_wait("7", NOW) == 7.0
    assert policy.retry_wait("3600", NOW) == policy.retry_wait("9" * 5000, NOW) == 30.0
    assert policy.retry_wait("Wed, 25 Nov 2026 12:00:10 GMT", NOW) == 10.0
    assert policy.retry_wait(None, NOW) == policy.retry_wait("soon", NOW) == 1.0


# Redirects --------------------------------------------------------------------------------------------------


def test_a_303_after_a_post_is_followed_with_a_get(server: Server) -> None:
    url = server.answer("/api/v1/reports", (303, {"Location": "/api/v1/reports/42"}, b""))
    server.answer("/api/v1/reports/42", _json(200, {"state": "stored"}))
    response = send(json_request(url, REPORT, compress=True, token=HOST_KEY), SHIP)
    assert (response.status, json.loads(response.body)) == (200, {"state": "stored"})
    assert response.where == f"{server.base}/api/v1/reports/42 (redirected from {url})"
    post, get = server.seen
    assert (post.method, get.method, get.body) == ("POST", "GET", b"")
    assert not {"Content-Type", "Content-Encoding", "Content-Length"} & set(get.headers)
    assert get.headers["Authorization"] == f"Bearer {HOST_KEY}"  # the same origin


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_other_redirects_repeat_the_request_as_it_was(server: Server, status: int) -> None:
    url = server.answer("/old", (status, {"Location": "/new"}, b""))
    server.answer("/new", _json(202, {}))
    assert send(json_request(url, REPORT, compress=True), SHIP).status == 202
    first, second = server.seen
    assert (second.method, second.path, second.body) == ("POST", "/new", first.body)
    assert second.headers["Content-Encoding"] == "gzip"


def test_authorization_never_follows_a_redirect_to_another_origin(server: Server, other_server: Server) -> None:
    elsewhere = other_server.answer("/api/v1/reports", _json(202, {}))
    url = server.answer("/api/v1/reports", (307, {"Location": elsewhere}, b""))
    send(json_request(url, REPORT, token=HOST_KEY), SHIP)
    assert "Authorization" in server.seen[0].headers
    (seen,) = other_server.seen  # another port is another origin
    assert "Authorization" not in seen.headers
    assert json.loads(seen.body) == REPORT


def test_redirects_never_leave_https() -> None:
    with pytest.raises(FetchError, match=r"refused a redirect from https to http://mirror\.example/x"):
        redirect_target("https://feeds.example/x", "http://mirror.example/x")
    with pytest.raises(FetchError, match="redirect without a Location"):
        redirect_target("https://feeds.example/x", None)
    with pytest.raises(FetchError, match=r"refused a redirect to http://example\.com/x: only https://"):
        redirect_target("http://127.0.0.1:8000/a", "http://example.com/x")
    assert redirect_target("https://feeds.example/a/b", "../c?d=1") == "https://feeds.example/c?d=1"
    assert redirect_target("http://127.0.0.1:8000/a", "/b") == "http://127.0.0.1:8000/b"


# Every caller's rules ----------------------------------------------------------------------------------------


def test_what_the_client_says_about_itself(server: Server) -> None:
    url = server.answer("/x", _json(200, {}))
    send(Request(url, headers={"Accept-Encoding": "gzip", "User-Agent": "curl/8"}), Policy("rules generate"))
    headers = server.seen[0].headers
    assert headers["User-Agent"] == f"clientcheck/{clientcheck.__version__} (rules generate)"
    assert headers["Accept-Encoding"] == "identity"  # whatever the caller asked


def test_a_compressed_answer_is_refused_even_so(server: Server) -> None:
    url = server.answer(
        "/x", (200, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, gzip.compress(b"{}"))
    )
    with pytest.raises(FetchError, match="answered gzip-compressed, though only an uncompressed answer was asked"):
        send(Request(url), Policy("rules"))


def test_a_2xx_body_of_another_type_is_refused_before_it_is_read(server: Server) -> None:
    url = server.answer("/x", (200, {"Content-Type": "text/html; charset=utf-8"}, b"<html>Sign in</html>"))
    with pytest.raises(FetchError, match=r"served as 'text/html; charset=utf-8', not JSON"):
        send(Request(url), SHIP)
    url = server.answer("/y", (200, {"Content-Type": "application/problem+json"}, b"{}"))
    assert send(Request(url), Policy("x", content_types=("application/*+json",))).body == b"{}"


def test_this_machine_is_never_reached_through_a_proxy(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a proxy that is not there: using it would fail
        probe.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{probe.getsockname()[1]}"
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy"):
        monkeypatch.setenv(name, nowhere)
    url = server.answer("/x", _json(200, {}))
    assert send(Request(url), Policy("rules")).status == 200


def test_other_addresses_go_through_the_environments_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[bytes] = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def proxy() -> None:  # says what it was asked, then refuses
        connection, _ = listener.accept()
        with connection:
            asked.append(connection.recv(65536).split(b"\r\n")[0])
            connection.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=proxy, daemon=True)
    thread.start()
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{listener.getsockname()[1]}")
    with pytest.raises(FetchError, match="the proxy failed"):
        send(Request("https://rules.example.invalid/rules.json"), Policy("rules"))
    thread.join(5)
    listener.close()
    assert len(asked) == 1 and asked[0].startswith(b"CONNECT rules.example.invalid:443 HTTP/")


def test_no_credentials_come_from_netrc(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login admin password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    url = server.answer("/api/v1/reports", _json(202, {}))
    send(json_request(url, REPORT, token=HOST_KEY), SHIP)
    send(Request(url), Policy("rules"))
    assert [seen.headers.get("Authorization") for seen in server.seen] == [f"Bearer {HOST_KEY}", None]


@pytest.mark.parametrize("where", ["policy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_a_ca_bundle_that_is_not_a_regular_file_is_refused_before_connecting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    fifo = tmp_path / "ca.pem"
    os.mkfifo(fifo)  # opened by the TLS set-up, it would block the run
    policy = Policy("rules", ca_bundle=str(fifo) if where == "policy" else None)
    if where != "policy":
        monkeypatch.setenv(where, str(fifo))
    label = "CA bundle" if where == "policy" else where
    with pytest.raises(FetchError, match=rf"^https://127\.0\.0\.1:9/x: {label} {fifo}: a named pipe \(FIFO\)"):
        send(Request("https://127.0.0.1:9/x"), policy)


def test_an_address_that_may_not_be_fetched_is_refused_before_connecting() -> None:
    for url in ("http://rules.example.invalid/x", "ftp://127.0.0.1/x", "http://127.evil.example/x"):
        with pytest.raises(FetchError, match=r"only https://") as refused:
            send(Request(url), Policy("rules"))
        assert refused.value.url == url


def test_a_response_is_a_plain_value() -> None:
    response = Response("https://a.example/x", "https://a.example/x", 404, "Not Found", [("ETag", '"v1"')], b"")
    assert (response.header("etag"), response.header("ETAG"), response.header("missing")) == ('"v1"', '"v1"', None)
    assert (response.status_line, response.where) == ("HTTP 404 Not Found", "https://a.example/x")


def test_the_address_is_named_as_the_request_is_made(server: Server) -> None:
    server.answer("/x", _json(404, {}))
    response = send(Request(server.base.replace("http://", "HTTP://") + "/./x"), Policy("rules"))
    assert (response.where, response.status_line) == (f"{server.base}/x", "HTTP 404 Not Found")

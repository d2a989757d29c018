"""Fetching published rules from a real HTTP server on 127.0.0.1 that behaves, and one that misbehaves:
each case ends with a clear message and the last good rules in use, the cache intact, nothing left over."""

from __future__ import annotations

import http.server
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clientcheck import dates as dt
from clientcheck.errors import UsageError
from clientcheck.rules import fetch as fetch_module
from clientcheck.rules import load_rules
from conftest import DESIGN_EXAMPLE, require_tool

TODAY = dt.date(2026, 11, 25)
NOW = dt.datetime(2026, 11, 25, 9, tzinfo=dt.timezone.utc)
RULES = DESIGN_EXAMPLE.read_bytes()


def _with_serial(serial: int, expires: str = "2027-02-28") -> bytes:
    document = json.loads(RULES)
    document["serial"] = serial
    document["published"] = "2026-10-01"
    document["expires"] = expires
    return json.dumps(document).encode()


class Behaviour:
    """What the server answers at each path; tests change it between requests."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes | Iterator[bytes]]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []


class _Handler(http.server.BaseHTTPRequestHandler):
    behaviour: Behaviour

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.behaviour.requests.append((self.path, dict(self.headers)))
        status, headers, body = self.behaviour.routes.get(self.path, (404, {}, b"not here"))
        if status == 200 and "ETag" in headers and self.headers.get("If-None-Match") == headers["ETag"]:
            status, body = 304, b""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if isinstance(body, bytes):
            if "Content-Length" not in headers:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.end_headers()
            try:
                for chunk in body:
                    self.wfile.write(chunk)
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Behaviour]]:
    behaviour = Behaviour()
    handler = type("Handler", (_Handler,), {"behaviour": behaviour})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", behaviour
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("CLIENTCHECK_CACHE_DIR", str(folder))
    monkeypatch.setenv("CLIENTCHECK_STATE_DIR", str(tmp_path / "state"))  # the rollback floor: not the host's
    return folder


def _load(url: str, **kwargs: object):
    # The test's own environment (its home, and the folders the cache fixture names) and a fixed clock.
    return load_rules(url, TODAY, **{"now": NOW, "env": dict(os.environ), **kwargs})  # type: ignore[arg-type]


def _json(body: bytes, etag: str = '"v7"') -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "application/json", "ETag": etag}, body


def test_fetch_cache_and_304(server, cache: Path):
    base, behaviour = server
    behaviour.routes["/rules.json"] = _json(RULES)
    first = _load(f"{base}/rules.json")
    assert (first.info.source, first.info.serial, first.info.fallback_reason) == (f"{base}/rules.json", 7, None)
    files = sorted(p.name for p in cache.iterdir())
    assert len(files) == 1 and files[0].startswith("rules-") and files[0].endswith(".cache")
    assert all((cache / name).stat().st_mode & 0o777 == 0o600 for name in files)
    assert cache.stat().st_mode & 0o777 == 0o700
    second = _load(f"{base}/rules.json")
    assert second.info.serial == 7 and second.info.fallback_reason is None
    assert behaviour.requests[-1][1].get("If-None-Match") == '"v7"'  # and the server answered 304


@pytest.mark.parametrize(
    ("route", "message"),
    [
        pytest.param((500, {}, b"oops"), "HTTP 500", id="server-error"),
        pytest.param((200, {"Content-Type": "text/html"}, b"<html>"), "served as 'text/html'", id="wrong-content-type"),
        pytest.param(
            (200, {"Content-Type": "application/json"}, b'{"schema": "clientcheck.rules/1", "rul'),
            "invalid JSON",
            id="truncated-json",
        ),
        pytest.param(
            (200, {"Content-Type": "application/json", "Content-Length": "5000"}, RULES[:100]),
            "truncated",
            id="truncated-body",
        ),
        pytest.param(
            (
                200,
                {"Content-Type": "application/json", "Content-Length": str(50 * 1024 * 1024)},
                iter([b" " * 65536] * 10),
            ),
            "more than the",
            id="50-mb-declared",
        ),
        pytest.param(
            (200, {"Content-Type": "application/json"}, iter([b" " * 65536] * 800)),
            "more than the",
            id="50-mb-streamed",
        ),
        pytest.param((302, {"Location": "/loop"}, b""), "more than 5 redirects", id="redirect-loop"),
        pytest.param(
            (301, {"Location": "ftp://example.invalid/rules.json"}, b""),
            "only https:// is allowed",
            id="redirect-to-another-scheme",
        ),
        pytest.param(_json(_with_serial(3), etag='"v3"'), "refused as a rollback", id="rolled-back-serial"),
        pytest.param(
            _json(b'{"schema": "clientcheck.rules/1"}', etag='"bad"'), "publisher: is required", id="invalid-rules"
        ),
    ],
)
def test_a_misbehaving_server_leaves_the_last_good_rules_in_use(server, cache: Path, route, message: str):
    base, behaviour = server
    behaviour.routes["/rules.json"] = _json(RULES)
    _load(f"{base}/rules.json")
    before = {p.name: p.read_bytes() for p in cache.iterdir()}
    behaviour.routes["/rules.json"] = route
    behaviour.routes["/loop"] = (302, {"Location": "/rules.json"}, b"")
    loaded = _load(f"{base}/rules.json")
    assert loaded.info.serial == 7  # the cached copy
    assert message in (loaded.info.fallback_reason or "")
    assert "using the copy cached on" in (loaded.info.fallback_reason or "")
    assert {p.name: p.read_bytes() for p in cache.iterdir()} == before  # nothing corrupted, nothing left over


def test_no_network_and_no_cache_falls_back_to_the_bundled_rules(cache: Path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    loaded = _load(f"http://127.0.0.1:{port}/rules.json")
    assert loaded.info.source == "bundled"
    assert "using the bundled rules instead" in (loaded.info.fallback_reason or "")
    assert not cache.exists() or not list(cache.iterdir())


def test_plain_http_to_another_host_is_refused_before_any_connection(cache: Path):
    loaded = _load("http://rules.example.invalid/rules.json")
    assert "only https:// is allowed" in (loaded.info.fallback_reason or "")


def test_a_slow_trickle_is_cut_off(server, cache: Path, monkeypatch: pytest.MonkeyPatch):
    # Cut off while the server still sends, not judged too slow once the whole body has come.
    base, behaviour = server
    sent_all = threading.Event()

    def trickle() -> Iterator[bytes]:
        for byte in RULES:
            time.sleep(0.05)
            yield bytes([byte])
        sent_all.set()

    behaviour.routes["/rules.json"] = (200, {"Content-Type": "application/json"}, trickle())
    monkeypatch.setattr(fetch_module, "DEADLINE", 0.5)
    real_fetch = fetch_module.fetch
    monkeypatch.setattr(fetch_module, "fetch", lambda url, **kw: real_fetch(url, **{**kw, "deadline": 0.5}))
    loaded = _load(f"{base}/rules.json")
    assert "too slow" in (loaded.info.fallback_reason or "")
    assert not sent_all.is_set()


def test_an_expired_file_is_used_and_flagged_stale(server, cache: Path):
    base, behaviour = server
    behaviour.routes["/rules.json"] = _json(_with_serial(8, expires="2026-11-01"))
    loaded = _load(f"{base}/rules.json")
    assert (loaded.info.serial, loaded.info.stale, loaded.info.fallback_reason) == (8, True, None)


def test_a_newer_serial_replaces_the_cached_copy(server, cache: Path):
    base, behaviour = server
    behaviour.routes["/rules.json"] = _json(RULES)
    _load(f"{base}/rules.json")
    behaviour.routes["/rules.json"] = _json(_with_serial(8), etag='"v8"')
    assert _load(f"{base}/rules.json").info.serial == 8
    behaviour.routes["/rules.json"] = (503, {}, b"")
    assert _load(f"{base}/rules.json").info.serial == 8  # the newer copy is now the last good one


def test_a_damaged_cache_is_not_trusted(server, cache: Path):
    base, behaviour = server
    behaviour.routes["/rules.json"] = _json(RULES)
    _load(f"{base}/rules.json")
    (entry,) = cache.iterdir()
    entry.write_bytes(entry.read_bytes()[:-10])
    behaviour.routes["/rules.json"] = (503, {}, b"")
    loaded = _load(f"{base}/rules.json")
    assert loaded.info.source == "bundled"


# Signatures ------------------------------------------------------------------------------------------------


def test_signed_rules_with_the_pinned_key(server, cache: Path):
    minisign = pytest.importorskip("clientcheck.rules.minisign")
    public, secret = minisign.generate_keypair()
    base, behaviour = server
    behaviour.routes["/rules.json"] = _json(RULES)
    behaviour.routes["/rules.json.minisig"] = (
        200,
        {"Content-Type": "text/plain"},
        minisign.sign(RULES, secret, "timestamp:1 file:rules.json").encode(),
    )
    loaded = _load(f"{base}/rules.json", key=public)
    assert (loaded.info.serial, loaded.info.fallback_reason) == (7, None)


@pytest.mark.parametrize("damage", ["other-key", "changed-file", "missing"])
def test_a_bad_or_missing_signature_is_refused(server, cache: Path, damage: str):
    minisign = pytest.importorskip("clientcheck.rules.minisign")
    public, secret = minisign.generate_keypair()
    _, other_secret = minisign.generate_keypair()
    base, behaviour = server
    signed = RULES.replace(b"Example Corp IT", b"Example Corp IT!") if damage == "changed-file" else RULES
    behaviour.routes["/rules.json"] = _json(RULES)
    if damage != "missing":
        key = other_secret if damage == "other-key" else secret
        behaviour.routes["/rules.json.minisig"] = (
            200,
            {"Content-Type": "text/plain"},
            minisign.sign(signed, key, "timestamp:1").encode(),
        )
    loaded = _load(f"{base}/rules.json", key=public)
    assert loaded.info.source == "bundled"
    assert "using the bundled rules instead" in (loaded.info.fallback_reason or "")


def test_a_malformed_pinned_key_is_a_usage_error(cache: Path):
    with pytest.raises(UsageError, match="--rules-key"):
        _load("https://rules.example.invalid/rules.json", key="not a key")


# HTTPS with a certificate this machine does not trust, then with the CA bundle that signs it ------------------


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[str, str, Behaviour]]:
    require_tool("openssl")  # to make a test certificate
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    behaviour = Behaviour()
    handler = type("Handler", (_Handler,), {"behaviour": behaviour})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{httpd.server_address[1]}", str(cert), behaviour
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_https_verifies_certificates(https_server, cache: Path, monkeypatch: pytest.MonkeyPatch):
    base, cert, behaviour = https_server
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)
    behaviour.routes["/rules.json"] = _json(RULES)
    untrusted = _load(f"{base}/rules.json")
    assert "TLS certificate not trusted" in (untrusted.info.fallback_reason or "")
    trusted = _load(f"{base}/rules.json", ca_bundle=cert)
    assert (trusted.info.source, trusted.info.fallback_reason) == (f"{base}/rules.json", None)


def test_the_offline_path_never_imports_requests():
    code = (
        "import sys, io; from clientcheck.cli import main; sys.stdout = io.StringIO(); main(['--format', 'json']);"
        "sys.stdout = sys.__stdout__; print('requests' in sys.modules, 'cryptography' in sys.modules,"
        " 'platformdirs' in sys.modules, 'jeepney' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False False False"


def test_a_redirect_from_https_to_http_is_refused(https_server, server, cache: Path):
    base, cert, behaviour = https_server
    plain, plain_behaviour = server
    plain_behaviour.routes["/rules.json"] = _json(RULES)
    behaviour.routes["/rules.json"] = (302, {"Location": f"{plain}/rules.json"}, b"")
    loaded = _load(f"{base}/rules.json", ca_bundle=cert)
    assert loaded.info.source == "bundled"
    assert "refused a redirect from https to http://127.0.0.1" in (loaded.info.fallback_reason or "")
    assert plain_behaviour.requests == []  # the plain-http server was never asked


def _raw_server(answer) -> tuple[str, threading.Thread]:
    """A server speaking raw bytes: ``answer(connection)`` writes whatever it likes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            try:
                answer(connection)
            except OSError:
                pass
        listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/rules.json", thread


def test_headers_trickled_a_byte_at_a_time_are_cut_off_by_the_deadline(cache: Path):
    # Cut off while the server still sends its headers (about 12 s of them), not once they are all in.
    sent_all = threading.Event()

    def trickle(connection: socket.socket) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: " + b"a" * 200:
            connection.sendall(bytes([byte]))
            time.sleep(0.05)
        sent_all.set()

    url, _ = _raw_server(trickle)
    with pytest.raises(fetch_module.FetchError, match="too slow"):
        fetch_module.fetch(url, deadline=1.0)
    assert not sent_all.is_set()


def test_a_gzip_compressed_answer_is_not_asked_for(server, cache: Path):
    base, behaviour = server
    behaviour.routes["/rules.json"] = _json(RULES)
    _load(f"{base}/rules.json")
    assert behaviour.requests[-1][1].get("Accept-Encoding") == "identity"


@pytest.mark.parametrize("url", ["https://[zz/x", "https://[::1/x"], ids=["bad-host", "unclosed-ipv6"])
def test_a_malformed_address_falls_back(cache: Path, url: str):
    loaded = _load(url)
    assert loaded.info.source == "bundled"
    assert "not a valid address" in (loaded.info.fallback_reason or "")


def test_a_missing_ca_bundle_falls_back(cache: Path):
    loaded = _load("https://127.0.0.1:9/rules.json", ca_bundle="/nonexistent/ca.pem")
    assert loaded.info.source == "bundled"


def test_a_cached_signature_whose_comment_is_not_utf8_keeps_working(server, cache: Path):
    minisign = pytest.importorskip("clientcheck.rules.minisign")
    public, secret = minisign.generate_keypair()
    base, behaviour = server
    signature = minisign.sign(RULES, secret, "caf\udce9").encode("utf-8", "surrogateescape")
    behaviour.routes["/rules.json"] = _json(RULES)
    behaviour.routes["/rules.json.minisig"] = (200, {"Content-Type": "text/plain"}, signature)
    for _ in range(2):
        loaded = _load(f"{base}/rules.json", key=public)
        assert (loaded.info.serial, loaded.info.fallback_reason) == (7, None)


@pytest.mark.parametrize("field", ["signature", "fetched_at", "etag"])
def test_tampered_cache_metadata_is_not_trusted(server, cache: Path, field: str):
    base, behaviour = server
    behaviour.routes["/rules.json"] = _json(RULES)
    _load(f"{base}/rules.json")
    (entry,) = cache.iterdir()
    header, _, body = entry.read_bytes().partition(b"\n")
    meta = json.loads(header)
    meta[field] = ["not", "text"] if field == "etag" else 5
    entry.write_bytes(json.dumps(meta).encode() + b"\n" + body)
    behaviour.routes["/rules.json"] = (503, {}, b"")
    assert _load(f"{base}/rules.json").info.source == "bundled"

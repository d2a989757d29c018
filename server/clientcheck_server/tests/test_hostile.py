"""Hostile clients against a real server: none crashes it, stalls other clients, or changes another host.

The server here runs one worker, so a client that could hold a worker would stall everyone: the proof that
slow clients cannot is that a normal agent is answered while they are still connected.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
import uuid
import zlib

import pytest

from servertest import Agent, Server, api, canonical_hash, cli, real_report, request, with_finding

LIMITS = "enroll_failures_per_hour = 20\nheader_timeout = 2.0\nbody_timeout = 3.0\nmax_report_bytes = 4194304\n"


@pytest.fixture
def hostile(servers, migrated_data, migrated_template) -> Server:
    with open(migrated_data / "server.toml", "a", encoding="utf-8") as config:
        config.write(LIMITS)
    server = servers(migrated_data, workers=1).wait_ready()
    server.first_secret = (migrated_template.parent / "first-secret").read_text()
    return server


@pytest.fixture
def enrolled(hostile: Server) -> Agent:
    agent = Agent(hostile.url, "victim")
    assert agent.enroll(hostile.secret()).status == 200
    assert agent.ship(real_report()).status == 202
    return agent


def _alive(server: Server) -> None:
    assert server.process.poll() is None
    assert request(server.url, "GET", "/healthz").status == 200
    assert "Traceback" not in server.output()


def _post(agent: Agent, body: bytes, **headers: str) -> object:
    return request(
        agent.url,
        "POST",
        "/api/v1/reports",
        body,
        {"Authorization": f"Bearer {agent.key}", "Content-Type": "application/json", **headers},
    )


def test_not_json_and_not_an_envelope_are_422_with_the_reason(hostile, enrolled):
    for body, error in [
        (b"\x00\xffnot json at all", "not_json"),
        (b'{"envelope": "clientcheck.envelope/1"', "not_json"),
        (b"[1, 2, 3]", "bad_envelope"),
        (b'{"envelope": "clientcheck.envelope/9"}', "bad_envelope"),
        (b"[" * 100_000, "not_json"),
    ]:
        answer = _post(enrolled, body)
        assert answer.status == 422, (body[:40], answer)
        assert answer.json()["error"] == error
    _alive(hostile)


def test_a_report_that_breaks_the_schema_is_422_saying_where(hostile, enrolled):
    report = real_report()
    report["summary"]["status"] = "fine, thanks"
    answer = enrolled.ship(report)
    assert answer.status == 422
    assert answer.json()["error"] == "schema"
    assert "report.summary.status" in answer.json()["detail"]
    wrong_hash = enrolled.envelope(real_report(), content_hash="0" * 64)
    answer = enrolled.ship(document=wrong_hash)
    assert (answer.status, answer.json()["error"]) == (422, "content_hash_mismatch")


def test_a_50_mb_body_is_refused_before_it_is_read(hostile, enrolled):
    sock = socket.create_connection(("127.0.0.1", hostile.port))
    sock.sendall(
        b"POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {enrolled.key}\r\nContent-Length: {50 * 1024 * 1024}\r\n\r\n".encode()
        + b"{" * 65536
    )
    reply = sock.recv(4096)
    sock.close()
    assert reply.startswith(b"HTTP/1.1 413")
    # The same without a length (chunked): read up to the cap, then refused.
    sock = socket.create_connection(("127.0.0.1", hostile.port))
    sock.sendall(
        b"POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        + f"Authorization: Bearer {enrolled.key}\r\n\r\n".encode()
    )
    chunk = b"x" * 65536
    sent = 0
    try:
        while sent < 50 * 1024 * 1024:
            sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        reply = sock.recv(4096)
    except ConnectionResetError:
        reply = b""
    sock.close()
    assert sent < 50 * 1024 * 1024, "the server read the whole 50 MB"
    assert reply == b"" or reply.startswith(b"HTTP/1.1 413")
    _alive(hostile)


def test_a_gzip_bomb_stops_at_the_limit(hostile, enrolled):
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1024 * 1024)
    bomb = b"".join(compressor.compress(zeros) for _ in range(128)) + compressor.flush()  # 128 MB inflated
    assert len(bomb) < 200_000
    answer = _post(enrolled, bomb, **{"Content-Encoding": "gzip"})
    assert answer.status == 413 and answer.json()["error"] == "too_large"
    truncated = gzip.compress(json.dumps(enrolled.envelope(real_report())).encode())[:-20]
    answer = _post(enrolled, truncated, **{"Content-Encoding": "gzip"})
    assert (answer.status, answer.json()["error"]) == (422, "bad_gzip")
    assert enrolled.ship(real_report(), gzipped=True).status == 202
    _alive(hostile)


def test_wrong_and_malformed_keys_are_told_to_enroll_again(hostile, enrolled):
    for key in ["cck_" + "A" * 43, "not-a-key", "cck_" + "é" * 43, "x" * 10_000]:
        answer = enrolled.ship(real_report(), key=key)
        assert answer.status == 401, (key[:20], answer)
        assert answer.json()["error"] == "reenroll"
        assert answer.headers["www-authenticate"].startswith("Bearer")


def test_a_replayed_report_id_changes_nothing(hostile, enrolled):
    older = enrolled.envelope(with_finding(real_report(), "chrome", status="ok", installed="999.0"))
    assert enrolled.ship(document=older).json()["outcome"] == "stored"
    newer = enrolled.envelope(with_finding(real_report(), "chrome", status="owed", installed="130.0"))
    assert enrolled.ship(document=newer).json()["outcome"] == "stored"
    replay = enrolled.ship(document=older)
    assert replay.status == 202 and replay.json()["outcome"] == "duplicate"
    # The latest one again is a check-in: nothing to change either.
    assert enrolled.ship(document=newer).json()["outcome"] == "check-in"
    token = cli(hostile.data, "token", "create").stdout.strip()
    host = api(hostile, token, "/api/v1/hosts").json()["results"][0]
    detail = api(hostile, token, f"/api/v1/hosts/{host['id']}").json()
    assert [(c["old"], c["new"]) for c in detail["history"] if c["rule"] == "chrome"] == [
        ("ok", "owed"),
        ("owed", "ok"),
        ("absent", "owed"),
    ]
    assert {s["rule"]: s["installed"] for s in detail["rule_states"]}["chrome"] == "130.0"
    # The same report id with other content: refused, nothing changes.
    reused = dict(older, report=with_finding(real_report(), "chrome", installed="1000.0", status="ok"))
    reused["content_hash"] = canonical_hash(reused["report"])
    answer = enrolled.ship(document=reused)
    assert (answer.status, answer.json()["error"]) == (422, "report_id_conflict")


def test_a_report_claiming_another_host_changes_nothing_there(hostile, enrolled):
    token = cli(hostile.data, "token", "create").stdout.strip()
    before = api(hostile, token, "/api/v1/hosts").json()["results"][0]
    attacker = Agent(hostile.url, "attacker")
    attacker.enroll(hostile.secret())
    forged = attacker.envelope(
        with_finding(real_report(), "chrome", status="ok", installed="999.0"),
        agent_id=enrolled.agent_id,
        hostname="victim",
    )
    answer = attacker.ship(document=forged)
    assert (answer.status, answer.json()["error"]) == (422, "agent_mismatch")
    # A report id the victim used, sent with the attacker's own key and id: refused too.
    victims = enrolled.envelope(with_finding(real_report(), "chrome", status="ok", installed="998.0"))
    assert enrolled.ship(document=victims).status == 202
    stolen = attacker.envelope(real_report(), report_id=victims["report_id"])
    answer = attacker.ship(document=stolen)
    assert (answer.status, answer.json()["error"]) == (422, "report_id_conflict")
    after = api(hostile, token, f"/api/v1/hosts/{before['id']}").json()
    assert after["hostname"] == "victim"
    assert {s["rule"]: s["installed"] for s in after["rule_states"]}["chrome"] == "998.0"


def test_a_brute_forced_secret_gets_429(hostile):
    agent = Agent(hostile.url, "guesser")
    for attempt in range(20):
        answer = agent.enroll("ccs_" + f"{attempt:043d}")
        assert answer.status == 401, attempt
    blocked = agent.enroll("ccs_" + "9" * 43)
    assert blocked.status == 429
    assert 0 < int(blocked.headers["retry-after"]) <= 3601
    # Even the right secret waits now: the limit is on the address, not the guess.
    assert agent.enroll(hostile.secret()).status == 429
    _alive(hostile)


def _drip(sockets: list[socket.socket], payload: bytes, stop: threading.Event) -> None:
    for byte in payload:
        if stop.is_set():
            return
        for sock in sockets:
            try:
                sock.send(bytes([byte]))
            except OSError:
                pass
        stop.wait(0.5)


def _closed_by_server(sock: socket.socket, within: float) -> bytes | None:
    """What the server sent before closing this connection, or None if it is still open after ``within``."""
    sock.settimeout(within)
    received = b""
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return received


@pytest.mark.parametrize("phase", ["headers", "body"])
def test_slow_loris_clients_do_not_stall_others_and_are_cut_off(hostile, phase):
    agent = Agent(hostile.url, "patient")
    assert agent.enroll(hostile.secret()).status == 200
    slow = [socket.create_connection(("127.0.0.1", hostile.port)) for _ in range(64)]
    if phase == "headers":
        payload = b"POST /api/v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 200
    else:
        for sock in slow:
            sock.sendall(
                b"POST /api/v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000\r\n"
                + f"Authorization: Bearer {agent.key}\r\n\r\n".encode()
            )
        payload = b"{" * 200
    stop = threading.Event()
    dripper = threading.Thread(target=_drip, args=(slow, payload, stop), daemon=True)
    dripper.start()
    try:
        time.sleep(0.5)  # the slow clients are connected and sending
        # One worker, 64 slow clients: a normal agent is still answered, and they are all still connected.
        assert agent.ship(real_report()).status == 202
        assert request(hostile.url, "GET", "/healthz").status == 200
        still_open = 0
        for sock in slow:
            sock.setblocking(False)
            try:
                still_open += sock.recv(1, socket.MSG_PEEK) != b""
            except BlockingIOError:
                still_open += 1
        assert still_open == len(slow)
        # They do not hold on forever: each is cut off (headers: closed; body: 408), well before the drip ends.
        for sock in slow:
            sock.setblocking(True)
            received = _closed_by_server(sock, within=30)
            assert received is not None, "a slow client was never cut off"
            if phase == "body":
                assert received.startswith(b"HTTP/1.1 408")
    finally:
        stop.set()
        dripper.join()
        for sock in slow:
            sock.close()
    _alive(hostile)


def test_an_agent_id_on_two_machines_is_flagged_and_one_is_asked_to_reenroll(hostile):
    original = Agent(hostile.url, "vm-base")
    original.enroll(hostile.secret())
    assert original.ship(real_report()).status == 202
    # The VM is cloned after enrollment: same agent id, same key, another machine (another boot id).
    clone = Agent(hostile.url, "vm-base")
    clone.agent_id, clone.key, clone.hints, clone.boot_id = original.agent_id, original.key, original.hints, "other"
    assert clone.ship(real_report()).status == 202  # a reboot looks the same, once
    answer = original.ship(real_report())  # the first machine's boot comes back: two machines take turns
    assert answer.status == 401
    assert answer.json() | {"detail": ""} == {"error": "reenroll", "detail": "", "reset_agent_id": True}
    assert clone.ship(real_report()).status == 202  # the other keeps the host
    # The machine told to re-enroll makes a new agent id: a new host with the same hints, both clones.
    original.agent_id = str(uuid.uuid4())
    assert original.enroll(hostile.secret()).json()["clone"] is True
    token = cli(hostile.data, "token", "create").stdout.strip()
    hosts = api(hostile, token, "/api/v1/hosts").json()["results"]
    assert len(hosts) == 2
    assert all(host["flags"]["clone"] for host in hosts)
    assert [host["flags"]["shared_key"] for host in hosts] == [True, False]

"""The agent's side of the collector, without a server: the content hash against the protocol's worked
example (and the server's own code), the spool's bounds, the machine's identity on each OS, which runs ship,
and what a check does when one does (one atomic write, a detached shipper, the same exit status).

A real ``clientcheck-server`` answers in test_collector_server.py, and the fault list of the issue is
test_collector_faults.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import stat
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientcheck import collector as collector_module
from clientcheck.collector import detach, plan
from clientcheck.collector import folder as folder_module
from clientcheck.collector.canonical import NotCanonicalError, canonical, content_hash, random_uuid
from clientcheck.collector.folder import Collector, Enrollment
from clientcheck.collector.spool import MAX_BYTES, MAX_REPORTS, Spool, parse_name
from clientcheck.config import Places, load_settings
from clientcheck.digest import sha256_hex
from clientcheck.inspect.formats.regfile import parse_reg
from clientcheck.inspect.identity import SystemCalls, filetime, hint, machine_identity, uuid_text
from clientcheck.inspect.registry import ExportedRegistry
from conftest import LINUX_FIXTURES, NOW

REPO = Path(__file__).resolve().parent.parent
PROTOCOL = REPO / "docs" / "collector-protocol.md"


# --- the content hash ----------------------------------------------------------------------------------


def test_the_protocols_worked_example():
    """The example in docs/collector-protocol.md, "The content hash": its canonical bytes and its hash."""
    text = PROTOCOL.read_text(encoding="utf-8")
    document = {
        "schema": "clientcheck.report/1",
        "generated_at": "2026-11-25T09:00:00Z",
        "summary": {"status": "ok", "owed": 0},
        "os": {"name": "Debian GNU/Linux", "note": "café\n"},
    }
    expected = (
        '{"os":{"name":"Debian GNU/Linux","note":"café\\n"},"schema":"clientcheck.report/1",'
        '"summary":{"owed":0,"status":"ok"}}'
    )
    assert expected in text  # the doc still shows these bytes
    stripped = {key: value for key, value in document.items() if key != "generated_at"}
    assert canonical(stripped) == expected.encode("utf-8")
    assert b"caf\xc3\xa9" in canonical(stripped)  # é as its two UTF-8 bytes, never \u00e9
    assert content_hash(document) == "33d3bf22c25ff2eb4fb02ecfd8ebccfa5afac9999503eb8dfdf2b40faad154bc"
    assert content_hash(document) in text
    # generated_at and report_id are not part of it: two runs that found the same things hash the same.
    assert content_hash({**document, "generated_at": "2027-01-01T00:00:00Z", "report_id": "x"}) == content_hash(
        document
    )


def test_the_escapes_of_canonical_json():
    assert canonical({"a": '"\\/\b\t\n\f\r\x00\x1f\x7f\u2028é😀'}) == (
        '{"a":"\\"\\\\/\\b\\t\\n\\f\\r\\u0000\\u001f\x7f\u2028é😀"}'.encode()
    )
    assert canonical({"b": 1, "a": [True, False, None, -7, 12345678901234567890]}) == (
        b'{"a":[true,false,null,-7,12345678901234567890],"b":1}'
    )


@pytest.mark.parametrize("document", [{"a": 1.5}, {"a": [float("nan")]}, {"a": "\udc80"}], ids=str)
def test_a_document_with_no_canonical_form_is_refused(document):
    with pytest.raises(NotCanonicalError):
        canonical(document)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**20), max_value=10**20) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


@given(_JSON)
def test_canonical_json_is_what_the_protocols_python_writes(document):
    try:
        expected = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        with pytest.raises(NotCanonicalError):
            canonical(document)
        return
    assert canonical(document) == expected


def test_the_hash_is_the_one_the_server_computes_for_real_reports():
    sys.path.insert(0, str(REPO / "server"))
    try:
        from clientcheck_server.ingest.envelope import content_hash as server_hash
        from servertest import real_report
    finally:
        sys.path.remove(str(REPO / "server"))
    for fixture in ("debian-12-desktop", "fedora-41-workstation", "ubuntu-24.04-snaps", "arch-rolling"):
        report = real_report(fixture, now=NOW)
        assert content_hash(report) == server_hash(report)


def test_the_small_helpers_are_their_standard_counterparts():
    import uuid

    assert sha256_hex(b"clientcheck") == hashlib.sha256(b"clientcheck").hexdigest()
    made = {random_uuid() for _ in range(200)}
    assert len(made) == 200
    for text in made:
        assert str(uuid.UUID(text)) == text and uuid.UUID(text).version == 4


# --- the spool ------------------------------------------------------------------------------------------


def report_text(number: int, *, at: dt.datetime = NOW) -> str:
    """A report, different for each ``number`` (as a changed installed version makes it)."""
    document = {
        "schema": "clientcheck.report/1",
        "generated_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "findings": [{"rule": "chrome", "status": "owed", "installed": f"120.0.{number}"}],
        "summary": {"status": "owed", "owed": 1},
    }
    return json.dumps(document, separators=(",", ":")) + "\n"


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    folder = tmp_path / "collector"
    Collector(str(folder), "machine").ensure()
    return Spool(str(folder / "spool"))


def test_a_spooled_report_is_one_owner_only_file_named_by_its_order_id_and_hash(spool: Spool):
    added = spool.add(report_text(1), NOW)
    [entry] = spool.entries()
    assert entry == added.entry
    assert parse_name(entry.name) == (1, int(NOW.timestamp()), entry.report_id, entry.content_hash)
    path = Path(spool.folder) / entry.name
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(spool.folder).stat().st_mode) == 0o700
    assert stat.S_IMODE(Path(spool.folder).parent.stat().st_mode) == 0o700
    document = json.loads(path.read_text())
    assert document["report_id"] == entry.report_id and document["spooled_at"] == "2026-11-25T09:00:00Z"
    assert document["report"] == json.loads(report_text(1))
    assert entry.content_hash == content_hash(document["report"])
    read = spool.read(entry)
    assert (read.report_id, read.report) == (entry.report_id, document["report"])
    assert [name for name in os.listdir(spool.folder) if name.endswith(".tmp")] == []


def test_the_spool_write_is_one_atomic_write_with_the_two_fsyncs_that_keep_it(spool: Spool, monkeypatch):
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda descriptor: synced.append(descriptor) or real_fsync(descriptor))
    replaced: list[tuple[str, str]] = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: replaced.append((a, b)) or real_replace(a, b))
    spool.add(report_text(1), NOW)
    assert len(synced) == 2  # the file's contents, then the folder's new name: nothing else
    [(temporary, final)] = replaced
    assert os.path.dirname(temporary) == os.path.dirname(final) == spool.folder


def test_the_spool_keeps_its_order_by_sequence_whatever_the_clock_says(spool: Spool):
    ids = [spool.add(report_text(n), NOW - dt.timedelta(days=n % 3, hours=n)).entry.report_id for n in range(5)]
    assert [entry.report_id for entry in spool.entries()] == ids
    assert [entry.sequence for entry in spool.entries()] == [1, 2, 3, 4, 5]


def test_an_unchanged_report_takes_the_place_of_the_newest(spool: Spool):
    first = spool.add(report_text(1), NOW).entry
    second = spool.add(report_text(2), NOW + dt.timedelta(hours=1)).entry
    again = spool.add(report_text(2, at=NOW + dt.timedelta(hours=2)), NOW + dt.timedelta(hours=2))
    assert again.replaced == second.report_id  # the same content: the server would only count a check-in
    assert [entry.report_id for entry in spool.entries()] == [first.report_id, again.entry.report_id]
    # The same content as an older one, with a change in between, is a change again: kept.
    back = spool.add(report_text(1), NOW + dt.timedelta(hours=3))
    assert back.replaced is None and len(spool.entries()) == 3


def test_a_full_spool_collapses_to_the_newest_report(spool: Spool):
    ids = [spool.add(report_text(n), NOW + dt.timedelta(minutes=n)).entry.report_id for n in range(MAX_REPORTS)]
    assert [entry.report_id for entry in spool.entries()] == ids
    added = spool.add(report_text(MAX_REPORTS), NOW + dt.timedelta(hours=5))
    assert list(added.collapsed) == ids
    assert [entry.report_id for entry in spool.entries()] == [added.entry.report_id]
    assert added.entry.sequence == MAX_REPORTS + 1  # the order goes on


def test_a_spool_over_its_bytes_collapses_too(spool: Spool, monkeypatch):
    import clientcheck.collector.spool as spool_module

    assert MAX_BYTES == 16 * 1024 * 1024  # the real one
    size = spool.add(report_text(0), NOW).entry.size
    monkeypatch.setattr(spool_module, "MAX_BYTES", 3 * size)  # three reports of this size
    for n in range(1, 3):
        assert spool.add(report_text(n), NOW).collapsed == ()
    added = spool.add(report_text(9), NOW)
    assert len(added.collapsed) == 3 and len(spool.entries()) == 1


def test_reports_older_than_thirty_days_go_but_never_the_newest(spool: Spool):
    old = spool.add(report_text(1), NOW - dt.timedelta(days=31)).entry
    recent = spool.add(report_text(2), NOW - dt.timedelta(days=29)).entry
    assert [entry.report_id for entry in spool.expire(NOW)] == [old.report_id]
    assert [entry.report_id for entry in spool.entries()] == [recent.report_id]
    # A clock that jumped a year ahead: everything looks old, yet the newest (the current state) stays.
    assert spool.expire(NOW + dt.timedelta(days=365)) == []
    assert [entry.report_id for entry in spool.entries()] == [recent.report_id]
    added = spool.add(report_text(3), NOW + dt.timedelta(days=365))
    assert added.dropped == (recent.report_id,) and len(spool.entries()) == 1


def test_a_damaged_or_foreign_spool_file_is_never_shipped(spool: Spool):
    entry = spool.add(report_text(1), NOW).entry
    path = Path(spool.folder) / entry.name
    (Path(spool.folder) / "notes.txt").write_text("not a report")
    assert [item.name for item in spool.entries()] == [entry.name]  # other names are not spooled reports
    path.write_text('{"spool": "clientcheck.spool/1", "report_id": "someone-else", "report": {}}')
    from clientcheck.collector.spool import DamagedEntryError

    with pytest.raises(DamagedEntryError, match="do not match its name"):
        spool.read(entry)
    path.write_bytes(b"\xff\xfe not json")
    with pytest.raises(DamagedEntryError, match="not JSON"):
        spool.read(entry)
    path.unlink()
    with pytest.raises(FileNotFoundError):
        spool.read(entry)


def _session_over(collector: Collector, sent: list[str]):
    """A shipping session over ``collector`` whose collector answers every report 202, with a fixed clock."""
    from clientcheck.collector.shipping import Session, Setup
    from clientcheck.inspect.identity import MachineIdentity
    from clientcheck.net.messages import Response

    def send(request, policy):
        import gzip

        report_id = json.loads(gzip.decompress(request.body))["report_id"]
        sent.append(report_id)
        body = json.dumps({"report_id": report_id, "outcome": "stored", "next_check_in": 0}).encode()
        return Response(request.url, request.url, 202, "Accepted", [("content-type", "application/json")], body)

    return Session(
        collector,
        Setup("https://fleet.example.com", None, None, False, "linux"),
        now=lambda: NOW,
        sleep=lambda seconds: None,
        fraction=lambda: 0.5,
        send=send,
        identity=lambda: MachineIdentity("ws-1", (), None),
    )


def test_a_spool_file_that_cannot_be_read_now_is_kept_and_tried_again(tmp_path: Path, monkeypatch):
    """EMFILE (no descriptors left) while a report is read: the system's failure, not the report's. It
    stays in the spool, the session backs off, and the next session ships it."""
    import errno

    from clientcheck.collector import spool as spool_module

    collector = Collector(str(tmp_path / "collector"), "machine")
    collector.ensure()
    collector.save_enrollment(
        Enrollment("https://fleet.example.com", random_uuid(), "cck_" + "k" * 43, 9, "machine", None, "t", None)
    )
    entry = collector.spool.add(report_text(1), NOW).entry
    real_open = os.open

    def no_descriptors_left(path, flags, *args, **kwargs):
        if str(path).endswith(entry.name):
            raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(spool_module.os, "open", no_descriptors_left)
    sent: list[str] = []
    result = _session_over(collector, sent).run()
    assert (result.state, result.dropped, result.left, sent) == ("retrying", 0, 1, [])
    assert collector.spool.entries() == [entry]
    assert collector.schedule().reason == "backoff" and collector.schedule().failures == 1
    assert f"report {entry.report_id} not read from the spool: Too many open files" in "\n".join(collector.read_log(5))
    monkeypatch.undo()
    result = _session_over(collector, sent).run(explicit=True)
    assert (result.state, result.sent, sent) == ("done", 1, [entry.report_id])


def test_a_spool_file_its_owner_may_not_read_is_kept_not_dropped():
    """A real unreadable file (mode 000), read by its owner, an ordinary user (root would read it all the
    same): EACCES is raised as it is, and the file stays; only content makes an entry damaged."""
    import tempfile

    from unprivileged import need_root, run_as

    need_root()
    other = 64001  # a uid no account on a test machine has
    with tempfile.TemporaryDirectory() as base:
        os.chmod(base, 0o755)  # noqa: S103 - the other user's process must reach the folder inside
        _unreadable_entry_is_kept(Path(base) / "spool", other, run_as)


def _unreadable_entry_is_kept(folder: Path, other: int, run_as) -> None:
    folder.mkdir(mode=0o700)
    spool = Spool(str(folder))
    entry = spool.add(report_text(1), NOW).entry
    path = folder / entry.name
    path.chmod(0o000)
    os.chown(folder, other, other)
    os.chown(path, other, other)
    code = (
        "import sys\n"
        "from clientcheck.collector.spool import Spool, DamagedEntryError\n"
        "spool = Spool(sys.argv[1])\n"
        "[entry] = spool.entries()\n"
        "try:\n"
        "    spool.read(entry)\n"
        "except DamagedEntryError as error:\n"
        "    print('damaged', error)\n"
        "except OSError as error:\n"
        "    print('oserror', type(error).__name__, error.errno)\n"
    )
    proc = run_as(other, code, str(folder))
    assert proc.stdout.split() == ["oserror", "PermissionError", "13"], proc.stdout + proc.stderr
    assert path.exists()


def test_a_report_with_no_canonical_form_is_not_spooled(spool: Spool):
    with pytest.raises(NotCanonicalError):
        spool.add('{"schema": "clientcheck.report/1", "x": 1.5}', NOW)
    assert spool.entries() == []


def test_a_spool_folder_of_another_user_is_refused(tmp_path: Path, nobody):
    folder = tmp_path / "collector"
    folder.mkdir()
    os.chown(folder, nobody.uid, -1)
    from clientcheck.folders import FolderError

    with pytest.raises(FolderError, match="belongs to another user"):
        Collector(str(folder), "machine").ensure()


# --- the collector folder -------------------------------------------------------------------------------


def test_the_agent_id_is_made_once_and_anew_only_when_asked(tmp_path: Path):
    collector = Collector(str(tmp_path / "collector"), "machine")
    collector.ensure()
    assert collector.agent_id() is None
    made = collector.make_agent_id()
    assert collector.make_agent_id() == made == collector.agent_id()
    assert stat.S_IMODE(Path(collector.path("agent-id")).stat().st_mode) == 0o600
    other = collector.make_agent_id(new=True)
    assert other != made and collector.agent_id() == other


def test_the_enrollment_is_kept_owner_only_and_a_damaged_one_is_none(tmp_path: Path):
    collector = Collector(str(tmp_path / "collector"), "machine")
    collector.ensure()
    enrollment = Enrollment(
        "https://fleet.example.com", random_uuid(), "cck_abc", 17, "machine", "Sales", "2026-11-25T09:00:00Z", None
    )
    collector.save_enrollment(enrollment)
    assert collector.enrollment() == enrollment and collector.enrolled()
    assert stat.S_IMODE(Path(collector.path("enrollment.json")).stat().st_mode) == 0o600
    collector.mark_revoked("an admin removed this host", NOW)
    assert collector.enrollment() is None and collector.revoked()
    assert collector.revocation()["host_id"] == 17
    Path(collector.path("enrollment.json")).write_text('{"schema": "clientcheck.enrollment/1", "server": 5}')
    assert collector.enrollment() is None


def test_unenroll_keeps_the_agent_id_and_uninstalling_forgets_everything(tmp_path: Path):
    collector = Collector(str(tmp_path / "collector"), "machine")
    collector.ensure()
    agent_id = collector.make_agent_id()
    collector.save_enrollment(Enrollment("https://f.example", agent_id, "cck_k", 1, "machine", None, "t", None))
    collector.spool.add(report_text(1), NOW)
    collector.log("a line", NOW)
    removed = collector.forget()
    assert "enrollment.json" in removed and any(name.startswith("spool/") for name in removed)
    assert collector.agent_id() == agent_id and collector.read_log(1) == ["2026-11-25T09:00:00Z a line"]
    collector.forget(everything=True)
    assert not os.path.exists(collector.folder)


def test_the_log_keeps_its_last_part(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(folder_module, "MAX_LOG_BYTES", 2000)
    collector = Collector(str(tmp_path / "collector"), "machine")
    collector.ensure()
    for number in range(200):
        collector.log(f"line {number}\x1b[31m", NOW)
    lines = collector.read_log(1000)
    assert lines[-1] == "2026-11-25T09:00:00Z line 199\\x1b[31m"  # control characters written out
    assert 0 < len("\n".join(lines)) <= 2000 and lines[0].startswith("2026-")


# --- who ships, and where ---------------------------------------------------------------------------------


def _settings(tmp_path: Path, managed: str = "", user: str = "", env: dict | None = None):
    folder = tmp_path / f"config-{random_uuid()}"
    folder.mkdir()
    places = Places(
        machine=str(folder / "machine.toml"), user=str(folder / "user.toml"), managed=str(folder / "managed.toml")
    )
    if managed:
        Path(places.managed).write_text(managed)
    if user:
        Path(places.user).write_text(user)
    return load_settings("linux", env or {}, {}, places)


COLLECTOR = '[report]\nserver = "https://fleet.example.com"\nenroll_secret = "/etc/clientcheck/enroll-secret"\n'


def test_the_machine_run_ships_with_a_server_and_a_secret_from_anywhere(tmp_path: Path):
    env = {"CLIENTCHECK_STATE_DIR": str(tmp_path / "state")}
    decided = plan(_settings(tmp_path, managed=COLLECTOR), env, "linux", machine=True)
    assert decided.collector is not None and decided.warning is None
    assert decided.collector.folder == str(tmp_path / "state" / "collector")
    assert decided.collector.run_as == "machine"
    nothing = plan(_settings(tmp_path), env, "linux", machine=True)
    assert nothing.collector is None and nothing.warning is None
    no_secret = plan(
        _settings(tmp_path, managed='[report]\nserver = "https://f.example"\n'), env, "linux", machine=True
    )
    assert no_secret.collector is None and "report.enroll_secret names no secret file" in (no_secret.warning or "")


def test_a_persons_run_ships_only_what_they_set_up_themselves(tmp_path: Path):
    env = {"CLIENTCHECK_STATE_DIR": str(tmp_path / "state")}
    # The machine's policy is the machine-level run's: every user's login would otherwise be a host.
    assert plan(_settings(tmp_path, managed=COLLECTOR), env, "linux", machine=False).collector is None
    own = plan(_settings(tmp_path, user=COLLECTOR), env, "linux", machine=False)
    assert own.collector is not None and own.collector.run_as == "user"
    from_env = {**env, "CLIENTCHECK_REPORT_SERVER": "https://f.example", "CLIENTCHECK_REPORT_ENROLL_SECRET": "/s"}
    assert plan(_settings(tmp_path, env=from_env), from_env, "linux", machine=False).collector is not None


def test_an_enrolled_folder_ships_and_a_revoked_one_says_so(tmp_path: Path):
    env = {"CLIENTCHECK_STATE_DIR": str(tmp_path / "state")}
    collector = Collector(str(tmp_path / "state" / "collector"), "machine")
    collector.ensure()
    collector.save_enrollment(Enrollment("https://f.example", random_uuid(), "cck_k", 3, "machine", None, "t", None))
    for machine in (True, False):  # an enrollment is the folder's, whoever set it up
        assert plan(_settings(tmp_path), env, "linux", machine=machine).collector is not None
    collector.mark_revoked("an admin removed this host", NOW)
    decided = plan(_settings(tmp_path, managed=COLLECTOR), env, "linux", machine=True)
    assert decided.collector is None  # never enrolls again by itself, secret or not
    assert "removed from the collector by an admin" in (decided.warning or "")


def test_the_machine_state_folder_on_each_os(tmp_path: Path):
    from clientcheck.collector import folder_of

    assert folder_of({}, "linux", True) == "/var/lib/clientcheck/collector"
    assert (
        folder_of({"ProgramData": "C:\\ProgramData"}, "windows", True)
        == "C:\\ProgramData\\clientcheck\\state\\collector"
    )
    assert folder_of({}, "macos", True) == "/Library/Application Support/clientcheck/state/collector"
    assert folder_of({"HOME": "/home/ada"}, "linux", False) == "/home/ada/.local/state/clientcheck/collector"
    assert folder_of({}, "linux", False) is None
    assert folder_of({"CLIENTCHECK_STATE_DIR": str(tmp_path)}, "linux", True) == str(tmp_path / "collector")


# --- the machine's identity -------------------------------------------------------------------------------


class FakeSystem(SystemCalls):
    def __init__(self, hostname=None, boot=None, uuid=None):
        self._hostname, self._boot, self._uuid = hostname, boot, uuid

    def hostname(self):
        return self._hostname

    def boot_time(self):
        return self._boot

    def hardware_uuid(self):
        return self._uuid


def test_linux_identity_from_files_below_a_root(tmp_path: Path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/machine-id").write_text("4b1e2f0c9d8a7b6c5d4e3f2a1b0c9d8e\n")
    (tmp_path / "proc/sys/kernel/random").mkdir(parents=True)
    (tmp_path / "proc/sys/kernel/random/boot_id").write_text("3f2b5a8e-6c1d-4e9f-a0b7-1c2d3e4f5a6b\n")
    (tmp_path / "proc/sys/kernel/hostname").write_text("ws-042\n")
    found = machine_identity("linux", root=str(tmp_path), system=FakeSystem(hostname="wrong"))
    assert found.hostname == "ws-042"
    assert found.hints == (hashlib.sha256(b"4b1e2f0c9d8a7b6c5d4e3f2a1b0c9d8e").hexdigest(),)
    assert found.boot_id == "3f2b5a8e-6c1d-4e9f-a0b7-1c2d3e4f5a6b"


def test_an_image_that_never_booted_gives_no_hint_and_dbus_stands_in(tmp_path: Path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/machine-id").write_text("uninitialized\n")  # systemd's mark on an image: the same on every copy
    found = machine_identity("linux", root=str(tmp_path), system=FakeSystem(hostname="from-socket"))
    assert found.hints == () and found.boot_id is None and found.hostname == "from-socket"
    (tmp_path / "etc/machine-id").unlink()
    (tmp_path / "var/lib/dbus").mkdir(parents=True)
    (tmp_path / "var/lib/dbus/machine-id").write_text("0123456789abcdef0123456789abcdef")
    assert machine_identity("linux", root=str(tmp_path), system=FakeSystem()).hints == (
        hint("0123456789abcdef0123456789abcdef"),
    )


def test_this_machines_own_identity(tmp_path: Path):
    found = machine_identity("linux")
    assert found.hostname == os.uname().nodename[:255]
    if os.path.exists("/etc/machine-id") and Path("/etc/machine-id").read_text().strip() not in ("", "uninitialized"):
        assert found.hints == (hint(Path("/etc/machine-id").read_text()),)
    assert found.boot_id == Path("/proc/sys/kernel/random/boot_id").read_text().strip()


def test_windows_identity_through_the_registry_seam():
    export = (
        "Windows Registry Editor Version 5.00\r\n\r\n"
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography]\r\n"
        '"MachineGuid"="8f2d4c1a-5b6e-4f70-9a1b-2c3d4e5f6a7b"\r\n\r\n'
    )
    registry = ExportedRegistry(parse_reg(b"\xff\xfe" + export.encode("utf-16-le")))
    boot = filetime(134_087_939_120_000_000)  # a FILETIME, as NtQuerySystemInformation gives the boot's
    found = machine_identity("windows", registry=registry, system=FakeSystem(hostname="WS-042\x07", boot=boot))
    assert found.hints == (hashlib.sha256(b"8f2d4c1a-5b6e-4f70-9a1b-2c3d4e5f6a7b").hexdigest(),)
    assert found.hostname == "WS-042"  # no control characters reach the collector
    assert found.boot_id == "2025-11-28T08:58:32Z"
    empty = ExportedRegistry(
        parse_reg(b"\xff\xfe" + "Windows Registry Editor Version 5.00\r\n\r\n".encode("utf-16-le"))
    )
    assert machine_identity("windows", registry=empty, system=FakeSystem()).hints == ()


def test_macos_identity_from_its_system_calls():
    raw = bytes.fromhex("564d8a7c1b2e4f3a9d8c7b6a5f4e3d2c")
    assert uuid_text(raw) == "564D8A7C-1B2E-4F3A-9D8C-7B6A5F4E3D2C"  # as ioreg shows IOPlatformUUID
    assert uuid_text(bytes(16)) is None
    boot = dt.datetime(2026, 11, 25, 8, 58, 12, 345678, tzinfo=dt.timezone.utc)
    found = machine_identity("macos", system=FakeSystem(hostname="Adas-MacBook", boot=boot, uuid=uuid_text(raw)))
    assert found.hints == (hashlib.sha256(b"564D8A7C-1B2E-4F3A-9D8C-7B6A5F4E3D2C").hexdigest(),)
    assert found.boot_id == "2026-11-25T08:58:12Z"
    assert found.hostname == "Adas-MacBook"


def test_the_identity_never_starts_a_program(monkeypatch, tmp_path: Path):
    import subprocess

    def refuse(*args, **kwargs):
        raise AssertionError("a subprocess was started")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(os, "posix_spawn", refuse)
    machine_identity("linux")


# --- a check that ships -----------------------------------------------------------------------------------


@pytest.fixture
def started(monkeypatch) -> list[dict]:
    """The shipper a check starts, recorded instead of run (the real start is tested with real processes)."""
    calls: list[dict] = []
    monkeypatch.setattr(detach, "start_shipper", lambda env, command=None: calls.append(dict(env)) or 4242)
    return calls


def _enrolled_state(env: dict[str, str]) -> Collector:
    collector = Collector(os.path.join(env["CLIENTCHECK_STATE_DIR"], "collector"), "machine")
    collector.ensure()
    collector.save_enrollment(
        Enrollment("https://fleet.example.com", random_uuid(), "cck_k", 9, "machine", None, "t", None)
    )
    return collector


def _root_tree(fixture: str = "debian-12-desktop") -> list[str]:
    return ["--root", str(LINUX_FIXTURES / fixture / "root"), "--platform", "linux"]


def test_an_enrolled_machine_level_check_spools_its_report_and_starts_the_shipper(run_cli, started, monkeypatch):
    monkeypatch.setattr(collector_module, "machine_level", lambda: True)
    env = {name: os.environ[name] for name in ("CLIENTCHECK_STATE_DIR", "CLIENTCHECK_CACHE_DIR")}
    collector = _enrolled_state(env)
    run = run_cli("check", "--format", "json", env=env)
    assert run.status in (0, 1) and run.err == ""
    [entry] = collector.spool.entries()
    assert collector.spool.read(entry).report == run.json()  # exactly what the check wrote
    assert started == [env]
    # Captured machines and pretend days are not this machine's record: nothing spooled.
    for extra in (_root_tree(), ["--as-of", "2027-01-01"]):
        assert run_cli("check", "--format", "json", *extra, env=env).err == ""
    assert len(collector.spool.entries()) == 1 and len(started) == 1


def test_shipping_never_changes_a_checks_exit_status(run_cli, started, monkeypatch, tmp_path: Path):
    monkeypatch.setattr(collector_module, "machine_level", lambda: True)
    env = {name: os.environ[name] for name in ("CLIENTCHECK_STATE_DIR", "CLIENTCHECK_CACHE_DIR")}
    quiet = run_cli("check", "--format", "json", env=env)
    collector = _enrolled_state(env)
    os.chmod(collector.path("spool"), 0o500)  # the spool cannot be written (even root: see below)

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    import clientcheck.deliver

    monkeypatch.setattr(clientcheck.deliver, "write_atomic", refuse)
    failed = run_cli("check", "--format", "json", env=env)
    assert failed.status == quiet.status and failed.out == quiet.out
    assert "warning: the report was not spooled for the collector" in failed.err
    monkeypatch.undo()
    monkeypatch.setattr(collector_module, "machine_level", lambda: True)

    def broken(env, command=None):
        raise OSError(8, "Exec format error")

    monkeypatch.setattr(detach, "start_shipper", broken)
    os.chmod(collector.path("spool"), 0o700)
    cannot_start = run_cli("check", "--format", "json", env=env)
    assert cannot_start.status == quiet.status
    assert "cannot start the shipper (Exec format error): the next run ships the report" in cannot_start.err
    assert len(collector.spool.entries()) == 1  # the report is safe in the spool all the same


def test_a_check_with_nothing_set_up_touches_no_collector_folder(run_cli, started, monkeypatch):
    monkeypatch.setattr(collector_module, "machine_level", lambda: True)
    env = {name: os.environ[name] for name in ("CLIENTCHECK_STATE_DIR", "CLIENTCHECK_CACHE_DIR")}
    run = run_cli("check", "--format", "json", env=env)
    assert run.err == "" and started == []
    assert not os.path.exists(os.path.join(env["CLIENTCHECK_STATE_DIR"], "collector"))


def test_a_persons_login_on_an_enrolled_machine_ships_nothing(run_cli, started, monkeypatch):
    # The machine's folder is root's; a person's login run (not machine-level) has its own folder, with no
    # enrollment in it: it notifies as before and ships nothing.
    monkeypatch.setattr(collector_module, "machine_level", lambda: False)
    env = {name: os.environ[name] for name in ("CLIENTCHECK_STATE_DIR", "CLIENTCHECK_CACHE_DIR")}
    places = Places(machine=None, user=None, managed=None)
    Path(os.environ["HOME"], "managed.toml").write_text(COLLECTOR)
    run = run_cli(
        "login", "--force", env=env, places=places.replace(managed=os.path.join(os.environ["HOME"], "managed.toml"))
    )
    assert run.status in (0, 1)
    assert started == []
    assert not os.path.exists(os.path.join(env["CLIENTCHECK_STATE_DIR"], "collector", "spool"))


def _collector_answering_202(monkeypatch) -> list[str]:
    """The HTTPS client, answering every report with 202 (stored): the report ids sent, in order."""
    import gzip

    import clientcheck.net.https
    from clientcheck.net.messages import Response

    sent: list[str] = []

    def send(request, policy):
        envelope = json.loads(gzip.decompress(request.body))
        sent.append(envelope["report_id"])
        body = json.dumps({"report_id": envelope["report_id"], "outcome": "stored", "next_check_in": 3600})
        headers = [("content-type", "application/json")]
        return Response(request.url, request.url, 202, "Accepted", headers, body.encode())

    monkeypatch.setattr(clientcheck.net.https, "send", send)
    return sent


@pytest.mark.parametrize("scheduled", [True, False], ids=["scheduled", "by-hand"])
@pytest.mark.parametrize("failure", ["rules-key", "sink"])
def test_ship_check_ships_what_is_spooled_when_the_check_fails(
    run_cli, monkeypatch, tmp_path: Path, failure, scheduled
):
    """``ship --check`` whose check fails (a rule key that cannot be used, a sink that cannot be written)
    still ships what is spooled, logs and says why, and then exits with the check's own error status."""
    monkeypatch.setattr(collector_module, "machine_level", lambda: True)
    env = {name: os.environ[name] for name in ("CLIENTCHECK_STATE_DIR", "CLIENTCHECK_CACHE_DIR")}
    collector = _enrolled_state(env)
    collector.save_enrollment(collector.enrollment().replace(host_key="cck_" + "k" * 43))
    waiting = collector.spool.add(report_text(1), NOW - dt.timedelta(hours=5)).entry
    sent = _collector_answering_202(monkeypatch)
    if failure == "rules-key":  # a rule file that could never be verified: the check judges nothing
        env["CLIENTCHECK_RULES_SOURCE"] = "https://rules.example.com/rules.json"
        env["CLIENTCHECK_RULES_KEY"] = "not a minisign key"
        expected_status = 2  # as the check itself exits for it
    else:
        env["CLIENTCHECK_REPORT_SINKS"] = f"json:{tmp_path / 'no-such-folder' / 'report.json'}"
        expected_status = 5
    run = run_cli("ship", "--check", *(["--scheduled"] if scheduled else []), env=env)
    assert run.status == expected_status, run.err
    assert "shipping what is spooled all the same" in run.err
    assert sent[0] == waiting.report_id  # the report that waited went
    if failure == "sink":
        assert len(sent) == 2  # the check judged the machine: its report is spooled and shipped too
    assert collector.spool.entries() == []
    log = "\n".join(collector.read_log(10))
    assert "ship --check: the check failed" in log and f"report {waiting.report_id}: stored" in log


def test_the_shippers_command_is_fixed_and_absolute(tmp_path: Path):
    script = tmp_path / "bin" / "clientcheck"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    assert detach.shipper_command(executable="/usr/bin/python3", argv0=str(script), frozen=False) == [
        str(script),
        "ship",
        "--scheduled",
    ]
    # Run some other way (python -m clientcheck, or inside another program): this Python, -m clientcheck,
    # never looking for modules in the working folder (-P; by hand before Python 3.11, which has no -P).
    python = detach.shipper_command(executable="/usr/bin/python3", argv0="/x/pytest", frozen=False, safe_path=True)
    assert python == ["/usr/bin/python3", "-P", "-m", "clientcheck", "ship", "--scheduled"]
    older = detach.shipper_command(executable="/usr/bin/python3", argv0="/x/pytest", frozen=False, safe_path=False)
    assert older[:2] == ["/usr/bin/python3", "-c"] and older[3:] == ["ship", "--scheduled"]
    assert older[2].startswith("import sys; del sys.path[0]; ")
    frozen = detach.shipper_command(executable="/opt/clientcheck/clientcheck", argv0="", frozen=True)
    assert frozen == ["/opt/clientcheck/clientcheck", "ship", "--scheduled"]


def test_the_shipper_starts_detached_without_the_checks_output(tmp_path: Path):
    """A real start: the child is in a session of its own, with /dev/null for its standard streams, so a
    fleet tool reading the check's output until it closes is not kept waiting for the shipper."""
    record = tmp_path / "child.json"
    program = tmp_path / "child"
    program.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"json.dump({{'sid': os.getsid(0), 'pid': os.getpid(), 'argv': sys.argv,\n"
        "           'fds': [os.path.realpath(f'/proc/self/fd/{n}') for n in (0, 1, 2)],\n"
        f"           'env': dict(os.environ)}}, open({str(record)!r}, 'w'))\n"
    )
    program.chmod(0o755)
    pid = detach.start_shipper({"CLIENTCHECK_STATE_DIR": "/somewhere"}, [str(program), "ship", "--scheduled"])
    _, status = os.waitpid(pid, 0)
    assert status == 0
    child = json.loads(record.read_text())
    assert child["sid"] == child["pid"] != os.getsid(0)  # a session leader of its own
    assert child["fds"] == ["/dev/null"] * 3
    assert child["argv"][1:] == ["ship", "--scheduled"]
    assert child["env"]["CLIENTCHECK_STATE_DIR"] == "/somewhere"


# Run by the shipper's interpreter at start-up (site imports it from PYTHONPATH), before -m or -c runs: what
# it holds open (other than the listing's own descriptor) and what sys.path it starts with.
_PROBE = """
import json, os, sys
fds = {}
for name in os.listdir("/proc/self/fd"):
    try:
        fds[name] = os.readlink(f"/proc/self/fd/{name}")
    except OSError:
        pass
json.dump({"fds": fds, "path": sys.path, "cwd": os.getcwd()}, open(os.environ["PROBE_RECORD"], "w"))
"""

# The check's process: holding a pipe and a file open and inheritable (as a fleet tool may hand them over),
# in a folder someone else could write, with a clientcheck of theirs in it; it starts the real shipper.
_CHECK = """
import json, os, sys
from clientcheck.collector import detach
read, write = os.pipe()
os.set_inheritable(write, True)
held = os.open(sys.argv[1], os.O_RDONLY)
os.set_inheritable(held, True)
os.chdir(sys.argv[2])
command = detach.shipper_command(argv0="", frozen=False, safe_path=sys.argv[3] == "-P")
pid = detach.start_shipper(os.environ, command)
_, status = os.waitpid(pid, 0)
print(json.dumps({"command": command, "status": status, "pipe": os.readlink(f"/proc/self/fd/{write}"),
                  "inheritable": [os.get_inheritable(write), os.get_inheritable(held)]}))
"""


@pytest.mark.parametrize("form", ["-P", "-c"])
def test_the_shipper_takes_neither_the_checks_descriptors_nor_modules_from_its_working_folder(
    tmp_path: Path, form: str
):
    """The real shipper (``python -P -m clientcheck ship --scheduled``, or the ``-c`` form of Python 3.10),
    started by the real ``start_shipper`` from a check process that holds a pipe and a file open and
    inheritable, in a folder with a planted ``clientcheck`` package: the shipper holds neither (a fleet
    tool reading that pipe is not kept waiting), does not import the planted package, and runs its ship."""
    import subprocess

    planted = tmp_path / "writable"
    (planted / "clientcheck").mkdir(parents=True)
    betrayed = tmp_path / "planted-module-ran"
    for name in ("__init__.py", "__main__.py"):
        (planted / "clientcheck" / name).write_text(f"open({str(betrayed)!r}, 'w').write('ran')\n")
    (planted / "clientcheck.py").write_text(f"open({str(betrayed)!r}, 'w').write('ran')\n")
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "sitecustomize.py").write_text(_PROBE)
    record = tmp_path / "record.json"
    held = tmp_path / "held-open"
    held.write_text("")
    state = tmp_path / "state"
    agent = Path(detach.__file__).resolve().parents[2]
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": f"{probe}{os.pathsep}{agent}",
        "PROBE_RECORD": str(record),
        "CLIENTCHECK_STATE_DIR": str(state),
        "CLIENTCHECK_CACHE_DIR": str(tmp_path / "cache"),
    }
    check = subprocess.run(
        [sys.executable, "-c", _CHECK, str(held), str(planted), form],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    outcome = json.loads(check.stdout)
    assert outcome["command"][1] == form and outcome["command"][-2:] == ["ship", "--scheduled"]
    assert not betrayed.exists()
    assert outcome["status"] == 0  # the shipper ran clientcheck's ship (nothing set up: nothing to do)
    child = json.loads(record.read_text())
    assert child["cwd"] == str(planted)
    held_open = {number: target for number, target in child["fds"].items() if int(number) >= 3}
    assert outcome["pipe"] not in held_open.values() and str(held) not in held_open.values()
    # What is left is the probe's own listing of /proc/self/fd, closed by now.
    assert all(target.startswith("/proc/") for target in held_open.values()), held_open
    assert [child["fds"][str(n)] for n in (0, 1, 2)] == ["/dev/null"] * 3
    if form == "-P":
        assert str(planted) not in child["path"] and "" not in child["path"]
    assert outcome["inheritable"] == [False, False]  # in the check's own process, not its caller's


def test_a_check_does_not_start_a_shipper_that_would_only_wait(run_cli, started, monkeypatch):
    """The server said when to come back: a check before then spools its report, and leaves it for the
    machine timer or a later check, rather than start a process to wait an hour."""
    monkeypatch.setattr(collector_module, "machine_level", lambda: True)
    env = {name: os.environ[name] for name in ("CLIENTCHECK_STATE_DIR", "CLIENTCHECK_CACHE_DIR")}
    collector = _enrolled_state(env)
    from clientcheck.collector.folder import Schedule

    collector.save_schedule(Schedule("2026-11-25T10:00:00Z", "check-in", 0, None, ""))
    assert run_cli("check", "--format", "json", env=env).err == ""  # at 09:00: an hour early
    assert len(collector.spool.entries()) == 1 and started == []
    collector.save_schedule(Schedule("2026-11-25T09:05:00Z", "retry-after", 1, None, ""))
    run_cli("check", "--format", "json", env=env)  # five minutes: the shipper waits them out itself
    assert len(started) == 1


def test_a_user_who_set_up_their_own_install_ships_from_their_login_runs(run_cli, started, monkeypatch):
    monkeypatch.setattr(collector_module, "machine_level", lambda: False)
    env = {name: os.environ[name] for name in ("CLIENTCHECK_STATE_DIR", "CLIENTCHECK_CACHE_DIR")}
    user = Path(os.environ["HOME"], "config.toml")
    user.write_text('[report]\nserver = "https://fleet.example.com"\nenroll_secret = "my-secret"\n')
    run = run_cli("login", "--force", env=env, places=Places(machine=None, user=str(user), managed=None))
    assert run.status in (0, 1)
    collector = Collector(os.path.join(env["CLIENTCHECK_STATE_DIR"], "collector"), "user")
    assert len(collector.spool.entries()) == 1 and len(started) == 1

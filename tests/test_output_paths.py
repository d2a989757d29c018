"""What a named output path holds decides how it is written: a file is replaced atomically, a device, FIFO
or open descriptor is written in place, a link leads to what it names, and a link another user planted in
/tmp is refused. Run as root (as CI does) against the real /dev/null and /dev/full, real FIFOs, real links,
and folders and links owned by other uids."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from clientcheck.deliver import write_output
from clientcheck.errors import OutputError
from clientcheck.folders import follow_links
from unprivileged import need_root, run_as

OTHER, THIRD = 64001, 64002  # uids no account on a test machine has


def _device(path: str) -> tuple[int, int, int]:
    info = os.stat(path)
    return stat.S_IFMT(info.st_mode), stat.S_IMODE(info.st_mode), info.st_rdev


@pytest.mark.parametrize("device", ["/dev/null", "/dev/full"])
def test_a_device_is_written_in_place_never_replaced(run_cli, device: str):
    need_root()  # as root a rename over /dev/null succeeds: that is what must not happen
    before = _device(device)
    run = run_cli("--format", "json", "--output", device)
    assert _device(device) == before  # still the same character device, same mode
    assert stat.S_ISCHR(before[0])
    assert not [name for name in os.listdir("/dev") if name.endswith(".tmp")]  # no temporary file left
    if device == "/dev/null":
        assert run.status in (0, 1), run.err
    else:  # /dev/full: every write fails with ENOSPC, and says so
        assert run.status == 5
        assert run.err.splitlines()[0] == "clientcheck: error: cannot write /dev/full: No space left on device"


def test_a_fifo_with_a_reader_gets_the_whole_report(run_cli, tmp_path: Path):
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    reading = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # the reader is there before the writer comes
    os.set_blocking(reading, True)
    holding = os.open(fifo, os.O_WRONLY)  # a writer end of our own, so the reader waits for clientcheck's
    received: list[bytes] = []

    def read_all() -> None:
        with os.fdopen(reading, "rb") as stream:
            received.append(stream.read())  # until the writer closes: its whole report, however long

    reader = threading.Thread(target=read_all)
    reader.start()
    try:
        run = run_cli("--format", "json", "--output", str(fifo))
    finally:
        os.close(holding)  # now the reader sees the end once it has read what clientcheck wrote
        reader.join()
    assert run.status in (0, 1), run.err
    assert json.loads(received[0])["schema"] == "clientcheck.report/1"
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.fifo"]


def test_a_fifo_nobody_reads_is_an_error_not_a_hang(tmp_path: Path):
    fifo = tmp_path / "nobody.fifo"
    os.mkfifo(fifo)
    # A separate process, so that a regression hangs it (and the timeout fails the test), not the suite.
    proc = subprocess.run(
        [sys.executable, "-m", "clientcheck", "inventory", "--output", str(fifo)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        check=False,
    )
    assert proc.returncode == 5
    assert proc.stderr.splitlines() == [
        f"clientcheck: error: cannot write {fifo}: no program is reading the FIFO",
        "clientcheck: hint: start the reader first",
    ]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


@pytest.mark.parametrize("redirect", [">", ">>"])
def test_dev_stdout_writes_to_the_open_standard_output(tmp_path: Path, redirect: str):
    target = tmp_path / "out.txt"
    target.write_text("kept\n")
    shell = f'"{sys.executable}" -m clientcheck inventory --format json --output /dev/stdout {redirect} "{target}"'
    proc = subprocess.run(["/bin/sh", "-c", shell], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    text = target.read_text()
    # In place, at the descriptor's own position: appended after ">>", the whole file after ">".
    assert text.startswith("kept\n{") if redirect == ">>" else text.startswith("{")
    assert text.rstrip().endswith("}")
    assert stat.S_ISREG(target.lstat().st_mode)


def test_dev_stdout_into_a_pipe(tmp_path: Path):
    proc = subprocess.run(
        [sys.executable, "-m", "clientcheck", "inventory", "--format", "json", "-o", "/dev/stdout"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("{") and '"software"' in proc.stdout


def test_a_regular_file_is_replaced_atomically_and_keeps_its_mode(tmp_path: Path):
    target = tmp_path / "report.txt"
    target.write_text("old")
    target.chmod(0o640)
    inode = target.stat().st_ino
    write_output(str(target), "new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.stat().st_ino != inode  # a new file, renamed into place: readers saw old or new, never half
    assert [p.name for p in tmp_path.iterdir()] == ["report.txt"]


def test_a_file_another_user_owned_is_replaced_without_taking_its_mode(tmp_path: Path):
    need_root()
    target = tmp_path / "planted.json"
    target.write_text("planted")
    target.chmod(0o666)
    os.chown(target, OTHER, OTHER)
    write_output(str(target), "ours")
    info = target.stat()
    assert (target.read_text(), info.st_uid) == ("ours", 0)
    assert not info.st_mode & 0o022  # not world-writable as the planted file was


def test_a_link_is_kept_and_the_file_it_leads_to_is_written(tmp_path: Path):
    real_folder = tmp_path / "real"
    real_folder.mkdir()
    target = real_folder / "report.json"
    target.write_text("old")
    target.chmod(0o604)
    link = tmp_path / "report-link.json"
    link.symlink_to(target)
    write_output(str(link), "new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o604
    assert sorted(p.name for p in tmp_path.iterdir()) == ["real", "report-link.json"]
    assert [p.name for p in real_folder.iterdir()] == ["report.json"]  # the temporary file sat beside it


def test_a_chain_of_links_relative_and_absolute(tmp_path: Path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    target = tmp_path / "b" / "final.txt"
    (tmp_path / "b" / "second").symlink_to("final.txt")  # relative to its own folder
    (tmp_path / "a" / "first").symlink_to(tmp_path / "b" / "second")  # absolute
    (tmp_path / "entry").symlink_to("a/first")
    write_output(str(tmp_path / "entry"), "through three links")
    assert target.read_text() == "through three links"
    assert [os.readlink(tmp_path / p) for p in ("entry", "a/first", "b/second")] == [
        "a/first",
        str(tmp_path / "b" / "second"),
        "final.txt",
    ]


def test_a_dangling_link_gets_its_file_made(tmp_path: Path):
    link = tmp_path / "dangling"
    link.symlink_to("made-here.txt")
    write_output(str(link), "made")
    assert link.is_symlink()
    assert (tmp_path / "made-here.txt").read_text() == "made"


def test_a_dangling_link_into_a_missing_folder_is_an_error(tmp_path: Path):
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "missing" / "x.txt")
    with pytest.raises(OutputError, match=r"folder .*missing does not exist"):
        write_output(str(link), "x")
    assert link.is_symlink() and not (tmp_path / "missing").exists()


def test_a_link_to_dev_null_writes_in_place(tmp_path: Path):
    need_root()
    before = _device("/dev/null")
    link = tmp_path / "discard"
    link.symlink_to("/dev/null")
    write_output(str(link), "gone")
    assert _device("/dev/null") == before
    assert link.is_symlink()


def test_a_loop_of_links_is_an_error(tmp_path: Path):
    (tmp_path / "one").symlink_to("two")
    (tmp_path / "two").symlink_to("one")
    with pytest.raises(OutputError, match="Too many levels of symbolic links"):
        write_output(str(tmp_path / "one"), "x")


def test_a_folder_and_a_socket_are_errors(tmp_path: Path):
    with pytest.raises(OutputError, match="it is a folder"):
        write_output(str(tmp_path), "x")
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        with pytest.raises(OutputError, match="it is a socket"):
            write_output(str(path), "x")
    assert stat.S_ISSOCK(path.lstat().st_mode)
    with pytest.raises(OutputError, match="file name is empty"):
        write_output("", "x")
    with pytest.raises(OutputError, match="must be a folder"):
        write_output(str(path) + "/", "x")


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A /tmp-like folder: sticky, world-writable, owned by another user (as /tmp is root's and the
    follower here is not that owner)."""
    need_root()
    with tempfile.TemporaryDirectory() as base:
        os.chmod(base, 0o755)  # noqa: S103 - other uids must reach the shared folder inside
        folder = Path(base) / "shared"
        folder.mkdir()
        os.chown(folder, OTHER, OTHER)
        os.chmod(folder, 0o1777)  # noqa: S103 - that is the point: a /tmp-like folder
        yield folder


def test_a_link_another_user_planted_in_a_shared_folder_is_refused(shared_tmp: Path, tmp_path: Path):
    victim = tmp_path / "important.conf"
    victim.write_text("precious")
    link = shared_tmp / "report.json"
    link.symlink_to(victim)
    os.lchown(link, THIRD, THIRD)  # neither the folder's owner nor us
    with pytest.raises(OutputError) as refused:
        write_output(str(link), "clobbered")
    assert refused.value.message == (
        f"cannot write {link}: {link} is a symbolic link another user (uid {THIRD}) made in the shared "
        f"folder {shared_tmp}: not followed"
    )
    assert victim.read_text() == "precious"
    assert link.is_symlink() and os.readlink(link) == str(victim)


def test_a_planted_link_on_the_way_is_refused_too(shared_tmp: Path, tmp_path: Path):
    (shared_tmp / "reports").symlink_to(tmp_path)
    os.lchown(shared_tmp / "reports", THIRD, THIRD)
    with pytest.raises(OutputError, match="is a symbolic link another user"):
        write_output(str(shared_tmp / "reports" / "x.json"), "x")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("owner", ["folder-owner", "ourselves"])
def test_a_link_in_a_shared_folder_made_by_its_owner_or_by_us_is_followed(shared_tmp: Path, tmp_path: Path, owner):
    target = tmp_path / "report.json"
    link = shared_tmp / "report.json"
    link.symlink_to(target)
    if owner == "folder-owner":
        os.lchown(link, OTHER, OTHER)
    write_output(str(link), "followed")
    assert target.read_text() == "followed"


def test_as_an_unprivileged_user_a_planted_link_is_refused(shared_tmp: Path):
    # The follower is not root here: an ordinary user running clientcheck -o /tmp/report.json, where
    # another user put a link to a file the first one can write.
    victim_folder = shared_tmp.parent / "victim"
    victim_folder.mkdir()
    victim = victim_folder / "notes.txt"
    victim.write_text("precious")
    for path in (victim_folder, victim):
        os.chown(path, OTHER, OTHER)
    link = shared_tmp / "report.json"
    link.symlink_to(victim)
    os.lchown(link, THIRD, THIRD)
    code = (
        "import sys\n"
        "from clientcheck.deliver import write_output\n"
        "from clientcheck.errors import OutputError\n"
        "try:\n"
        "    write_output(sys.argv[1], 'clobbered')\n"
        "except OutputError as error:\n"
        "    sys.exit(error.message)\n"
    )
    proc = run_as(OTHER, code, str(link))
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == (
        f"cannot write {link}: {link} is a symbolic link another user (uid {THIRD}) made in the shared folder "
        f"{shared_tmp}: not followed\n"
    )
    assert victim.read_text() == "precious"


def test_report_sinks_go_through_the_same_writer(run_cli, tmp_path: Path):
    from clientcheck.config import Places

    target = tmp_path / "real" / "report.prom"
    target.parent.mkdir()
    (tmp_path / "sink.prom").symlink_to(target)
    config = tmp_path / "config.toml"
    config.write_text(f'[report]\nsinks = ["prometheus:{tmp_path / "sink.prom"}", "json:/dev/null"]\n')
    places = Places(machine=str(tmp_path / "none.toml"), user=str(config), managed=None)
    before = _device("/dev/null")
    run = run_cli("--format", "json", places=places)
    assert run.status in (0, 1), run.err
    assert (tmp_path / "sink.prom").is_symlink()
    assert "clientcheck_" in target.read_text()
    assert _device("/dev/null") == before


def test_keygen_writes_through_links_and_leaves_devices_alone(run_cli, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keys").mkdir()
    Path("secret.key").symlink_to("keys/real.key")
    run = run_cli("rules", "keygen", "--public", "/dev/null", "--secret", "secret.key")
    assert run.status == 0, run.err
    assert Path("secret.key").is_symlink()
    real = tmp_path / "keys" / "real.key"
    assert real.read_text().startswith("untrusted comment:")
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_rules_export_to_a_link(run_cli, tmp_path: Path):
    target = tmp_path / "intune.json"
    (tmp_path / "link.json").symlink_to(target)
    run = run_cli("rules", "export", "--intune", "-o", str(tmp_path / "link.json"))
    assert run.status == 0, run.err
    assert target.read_text().startswith("{") and (tmp_path / "link.json").is_symlink()


@pytest.mark.parametrize(
    "path",
    ["a/../b/c", "l1/x", "l1/../c", "l2/..", "./l3", "l3/../../" + "x", "missing/l1/x"],
)
def test_links_are_followed_as_the_kernel_follows_them(tmp_path: Path, monkeypatch, path: str):
    # link/.. is the parent of the link's target, not the folder holding the link: realpath agrees.
    (tmp_path / "a" / "deep").mkdir(parents=True)
    (tmp_path / "b").mkdir()
    (tmp_path / "l1").symlink_to(tmp_path / "a" / "deep")
    (tmp_path / "l2").symlink_to("a/deep")
    (tmp_path / "l3").symlink_to("l1")
    monkeypatch.chdir(tmp_path)
    assert follow_links(path) == os.path.realpath(path)


def test_descriptor_paths():
    from clientcheck.folders import descriptor_number, descriptor_pid

    me = os.getpid()
    assert (descriptor_number(f"/proc/{me}/fd/1"), descriptor_pid(f"/proc/{me}/fd/1")) == (1, me)
    assert (descriptor_number(f"/proc/{me}/task/{me}/fd/2"), descriptor_pid(f"/proc/{me}/task/{me}/fd/2")) == (2, me)
    assert descriptor_pid("/proc/self/fd/1") == me  # no /proc to resolve "self" in: still this process
    for other in ("/proc/1/fdinfo/1", "/proc/self/fd/x", "/dev/fd/1", "/tmp/proc/1/fd/1", "/proc/1/fd"):
        assert descriptor_number(other) is None, other
    assert follow_links("/dev/stdout") == f"/proc/{me}/fd/1"


def test_every_file_the_agent_writes_is_opened_binary_where_the_os_has_text_mode(tmp_path: Path, monkeypatch):
    """A seam test, run on Linux, which has no text mode: with an ``os.O_BINARY`` put on the os module (as
    Windows has it), every descriptor the agent opens to write passes it, so that Windows' os.write does not
    turn each 0x0A into 0x0D 0x0A (the autostart task XML and .reg file are UTF-16, its .lnk binary). That
    Windows itself then writes the bytes unchanged was not run here."""
    from clientcheck.collector.folder import Collector
    from clientcheck.deliver import write_atomic
    from clientcheck.folders import hold_lock
    from conftest import NOW

    binary = 0x8000  # Windows' value; stripped again below before Linux sees it
    monkeypatch.setattr(os, "O_BINARY", binary, raising=False)
    opened: dict[str, int] = {}
    real_open = os.open

    def recording_open(path, flags, *args, **kwargs):
        opened[os.path.basename(str(path))] = flags
        return real_open(path, flags & ~binary, *args, **kwargs)

    monkeypatch.setattr(os, "open", recording_open)
    data = "\ufeff<Task>\r\n</Task>\n".encode("utf-16-le")
    write_atomic(str(tmp_path / "task.xml"), data)
    write_output("/dev/null", b"in place\n")
    Collector(str(tmp_path), "machine").log("one line", NOW)
    held = hold_lock(str(tmp_path / "ship.lock"))
    assert held is not None
    held.close()
    temporary = [name for name in opened if name.startswith(".task.xml.")]
    assert len(temporary) == 1
    for name in (*temporary, "null", "ship.log", "ship.lock"):
        assert opened[name] & binary, name
    assert (tmp_path / "task.xml").read_bytes() == data

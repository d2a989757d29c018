"""The folders clientcheck keeps its own files in (the login state folder, the rules cache, the rules
state) are the user's alone: repaired when the user owns them, refused when someone else does, and nothing
another user planted inside is trusted. As OpenSSH treats ~/.ssh. Run as root (as CI does), with files of
other uids made by chown, and as an ordinary user where the follower's identity matters."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from clientcheck.folders import FolderError, own_folder, state_file
from clientcheck.login import StateFolder
from test_login import NOW, Recorder
from unprivileged import need_root, python_for, run_as

OTHER = 64001  # a uid no account on a test machine has


@pytest.fixture
def reachable() -> Iterator[Path]:
    """A folder other uids can reach (pytest's own temporary folders are root's alone)."""
    need_root()
    with tempfile.TemporaryDirectory() as base:
        os.chmod(base, 0o755)  # noqa: S103 - the other user's process must reach the files inside
        yield Path(base)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _plant(path: Path, text: str = "", *, uid: int = OTHER, mode: int = 0o644) -> Path:
    path.write_text(text)
    os.chmod(path, mode)
    os.chown(path, uid, uid)
    return path


# The folder itself ----------------------------------------------------------------------------------------


def test_a_missing_folder_is_made_owner_only(tmp_path: Path):
    folder = tmp_path / "a" / "b" / "clientcheck"
    assert own_folder(str(folder), "state folder", ours=state_file, subfolders=("history",)) == []
    assert _mode(folder) == 0o700 and _mode(folder / "history") == 0o700


def test_an_own_folder_open_to_others_is_repaired_with_a_note(tmp_path: Path):
    folder = tmp_path / "state"
    folder.mkdir()
    folder.chmod(0o777)
    (folder / "last.json").write_text("{}")
    (folder / "last.json").chmod(0o644)
    notes = own_folder(str(folder), "state folder", ours=state_file)
    assert notes == [
        f"the state folder {folder} was open to others (mode 0777): made owner-only",
        f"{folder / 'last.json'} could be read by others: made owner-only",
    ]
    assert (_mode(folder), _mode(folder / "last.json")) == (0o700, 0o600)
    assert own_folder(str(folder), "state folder", ours=state_file) == []  # repaired once, quiet after


def test_a_folder_of_another_user_is_refused(tmp_path: Path):
    need_root()
    folder = tmp_path / "state"
    folder.mkdir(mode=0o700)
    os.chown(folder, OTHER, OTHER)
    (folder / "last.json").write_text("{}")
    with pytest.raises(FolderError) as refused:
        own_folder(str(folder), "state folder", ours=state_file)
    assert refused.value.message == (
        f"the state folder {folder} belongs to another user (uid {OTHER}), not to uid 0: not used"
    )
    assert "~/.ssh" in (refused.value.hint or "")
    assert (folder / "last.json").read_text() == "{}" and _mode(folder) == 0o700  # left as it was


def test_a_folder_reached_through_another_users_link_is_refused(tmp_path: Path):
    need_root()
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "state"
    link.symlink_to(real)
    os.lchown(link, OTHER, OTHER)
    with pytest.raises(FolderError, match=rf"reached through the symbolic link {link}, which belongs to another user"):
        own_folder(str(link / "clientcheck"), "state folder", ours=state_file)
    assert list(real.iterdir()) == []


def test_a_folder_reached_through_the_users_own_link_is_used(tmp_path: Path):
    real = tmp_path / "elsewhere"
    real.mkdir()
    (tmp_path / "state").symlink_to(real)
    assert own_folder(str(tmp_path / "state" / "clientcheck"), "state folder", ours=state_file) == []
    assert _mode(real / "clientcheck") == 0o700


def test_a_file_where_the_folder_should_be_is_refused(tmp_path: Path):
    (tmp_path / "state").write_text("")
    with pytest.raises(FolderError, match="is not a folder"):
        own_folder(str(tmp_path / "state"), "state folder", ours=state_file)


# What is inside -------------------------------------------------------------------------------------------


def test_planted_entries_are_removed_and_named_and_other_files_left_alone(tmp_path: Path):
    need_root()
    folder = tmp_path / "state"
    folder.mkdir(mode=0o700)
    _plant(folder / "last.html", "<a href=evil>")
    (folder / "history").mkdir()
    (folder / "history").chmod(0o777)
    _plant(folder / "history" / "20261125T090000Z.json", "{}")
    (folder / "last.json").write_text("{}")
    (folder / "last.json").chmod(0o666)  # ours, but anyone could have opened it to write
    (folder / "login.lock").mkdir()  # a folder of theirs where our lock goes
    _plant(folder / "login.lock" / "x")
    os.chown(folder / "login.lock", OTHER, OTHER)
    outside = tmp_path / "outside.txt"
    outside.write_text("elsewhere")
    os.link(outside, folder / "rules-floor.json")  # a hard link: changing its mode would change the other's
    (folder / "last-complete").symlink_to("/etc/passwd")
    os.lchown(folder / "last-complete", OTHER, OTHER)
    # Not clientcheck's (on macOS and Windows the state folder is also where config.toml lives): left alone.
    _plant(folder / "config.toml", "[report]\n", mode=0o666)
    notes = own_folder(str(folder), "state folder", ours=state_file, subfolders=("history",))
    assert sorted(p.name for p in folder.iterdir()) == ["config.toml", "history"]
    assert list((folder / "history").iterdir()) == []
    assert _mode(folder / "history") == 0o700
    assert ((folder / "config.toml").read_text(), _mode(folder / "config.toml")) == ("[report]\n", 0o666)
    assert outside.read_text() == "elsewhere" and _mode(outside) == 0o644
    removed = sorted(note.split(" from the")[0] for note in notes if note.startswith("removed"))
    assert removed == sorted(
        f"removed {folder / name}"
        for name in (
            "last.html",
            "history/20261125T090000Z.json",
            "last.json",
            "login.lock",
            "rules-floor.json",
            "last-complete",
        )
    )
    assert f"removed {folder / 'last.html'} from the state folder: it belongs to another user (uid {OTHER})" in notes
    assert f"removed {folder / 'rules-floor.json'} from the state folder: a hard link to a file elsewhere" in notes


# The login run --------------------------------------------------------------------------------------------


def test_a_world_writable_state_folder_with_planted_files_is_repaired_and_the_run_happens(reachable: Path):
    folder = reachable / "clientcheck"
    folder.mkdir()
    folder.chmod(0o777)
    # Another user's files: a page the notification would link to, a "complete" mark to silence the next
    # logins, and the lock, held by their own process so that even --force would do nothing.
    _plant(folder / "last.html", "<meta http-equiv=refresh content='0;url=https://evil.example/'>")
    _plant(folder / "last-complete", mode=0o666)
    os.utime(folder / "last-complete", (NOW.timestamp() - 60, NOW.timestamp() - 60))
    _plant(folder / "login.lock", mode=0o666)
    (folder / "history").mkdir()
    os.chown(folder / "history", OTHER, OTHER)
    with holding_lock(folder / "login.lock", OTHER):
        recorder = Recorder()
        outcome = recorder.run(StateFolder(str(folder)))
    assert outcome.status == "owed"  # neither "skipped-recent" nor "skipped-running"
    assert recorder.judged == 1
    assert f"the state folder {folder} was open to others (mode 0777): made owner-only" in recorder.warnings
    assert any(w.startswith(f"removed {folder / 'last-complete'}") for w in recorder.warnings)
    for name in ("last.html", "last.json", "login.lock"):
        info = (folder / name).lstat()
        assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (0, 0o600), name
    assert json.loads((folder / "last.html").read_text())["format"] == "html"
    assert _mode(folder) == 0o700
    assert (folder / "history").stat().st_uid == 0 and len(list((folder / "history").iterdir())) == 1


def test_a_lock_the_user_left_readable_is_replaced_when_others_could_hold_it(reachable: Path):
    folder = reachable / "clientcheck"
    folder.mkdir()
    folder.chmod(0o755)
    lock = folder / "login.lock"
    lock.write_text("")
    lock.chmod(0o644)  # ours, but another user could open it to read, and a lock needs no more
    with holding_lock(lock, OTHER):
        recorder = Recorder()
        assert recorder.run(StateFolder(str(folder)), force=True).status == "owed"
    assert f"replaced {lock}: others may have held it" in recorder.warnings


def test_a_shipping_lock_others_could_hold_is_replaced_too(reachable: Path):
    """As login.lock: a collector folder that was open to others gets a new ship.lock, so another user who
    opened the old one and holds its lock does not stop every shipper (and enroll, and unenroll) for good."""
    from clientcheck.collector.folder import Collector

    state = reachable / "state"
    state.mkdir(mode=0o700)
    folder = state / "collector"
    folder.mkdir()
    folder.chmod(0o755)
    state.chmod(0o755)
    lock = folder / "ship.lock"
    lock.write_text("")
    lock.chmod(0o644)  # ours, but another user could open it to read, and a lock needs no more
    collector = Collector(str(folder), "machine")
    with holding_lock(lock, OTHER):
        assert collector.lock() is None  # what they could do before
        notes = collector.ensure()
        held = collector.lock()
        assert held is not None
        held.close()
    assert f"replaced {lock}: others may have held it" in notes
    assert (_mode(state), _mode(folder), _mode(lock)) == (0o700, 0o700, 0o600)
    assert collector.ensure() == []  # repaired once: the lock is not replaced again at every run


def test_login_force_is_not_blocked_by_another_users_lock(reachable: Path):
    folder = reachable / "clientcheck"
    folder.mkdir(mode=0o700)
    _plant(folder / "login.lock", mode=0o600)
    with holding_lock(folder / "login.lock", OTHER, chmod_folder=True):
        recorder = Recorder()
        outcome = recorder.run(StateFolder(str(folder)), force=True)
    assert outcome.status == "owed"
    assert (folder / "login.lock").lstat().st_uid == 0


def test_the_login_command_refuses_another_users_state_folder(run_cli, tmp_path: Path):
    need_root()
    folder = tmp_path / "state" / "clientcheck"
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    os.chown(folder, OTHER, OTHER)
    _plant(folder / "last-complete")
    env = {"HOME": str(tmp_path / "home"), "XDG_STATE_HOME": str(tmp_path / "state")}
    run = run_cli("login", "--force", env=env)
    assert run.status == 5
    assert run.err.splitlines() == [
        f"clientcheck: error: the state folder {folder} belongs to another user (uid {OTHER}), not to uid 0: not used",
        "clientcheck: hint: it must be yours alone, as ~/.ssh must be for OpenSSH; remove it, and clientcheck "
        "makes it anew",
    ]
    assert sorted(p.name for p in folder.iterdir()) == ["last-complete"]


def test_as_an_ordinary_user_a_state_folder_root_made_is_refused(tmp_path: Path):
    # The user is not root here: a folder another account (root) made for them is not theirs.
    need_root()
    with tempfile.TemporaryDirectory() as base:
        os.chmod(base, 0o755)  # noqa: S103 - the ordinary user must reach what is inside
        home = Path(base) / "home"
        home.mkdir()
        os.chown(home, OTHER, OTHER)
        theirs = home / ".local" / "state" / "clientcheck"
        theirs.mkdir(parents=True)  # made by root
        theirs.chmod(0o777)
        for path in (home / ".local", home / ".local" / "state"):
            os.chown(path, OTHER, OTHER)
        code = (
            "import sys\n"
            "from clientcheck.folders import FolderError, own_folder, state_file\n"
            "try:\n"
            "    print(own_folder(sys.argv[1], 'state folder', ours=state_file))\n"
            "except FolderError as error:\n"
            "    sys.exit(error.message)\n"
        )
        refused = run_as(OTHER, code, str(theirs))
        assert refused.returncode == 1
        assert (
            refused.stderr
            == f"the state folder {theirs} belongs to another user (uid 0), not to uid {OTHER}: not used\n"
        )
        os.chown(theirs, OTHER, OTHER)
        repaired = run_as(OTHER, code, str(theirs))
        assert repaired.returncode == 0, repaired.stderr
        assert "was open to others (mode 0777): made owner-only" in repaired.stdout
        assert _mode(theirs) == 0o700


@contextmanager
def holding_lock(path: Path, uid: int, *, chmod_folder: bool = False) -> Iterator[None]:
    """Another user's process holding an flock on ``path``, opened for reading (all a lock needs).
    ``chmod_folder`` lets them into the folder just long enough to open it, as they could have before."""
    folder = path.parent
    mode = _mode(folder)
    if chmod_folder:
        folder.chmod(0o755)
    code = (
        "import fcntl, sys, time\n"
        "stream = open(sys.argv[1], 'rb')\n"
        "fcntl.flock(stream, fcntl.LOCK_EX)\n"
        "print('held', flush=True)\n"
        "time.sleep(600)\n"
    )
    process = subprocess.Popen(
        [python_for(uid), "-c", code, str(path)],
        user=uid,
        group=uid,
        extra_groups=[],
        stdout=subprocess.PIPE,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "held"
        if chmod_folder:
            folder.chmod(mode)
        yield
    finally:
        process.kill()
        process.wait()

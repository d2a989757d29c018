"""Pending restarts on this Linux machine, for real: programs started here, then replaced on disk the way
package managers replace them (a new file written beside the old, then renamed over it), found through the
real /proc. The fixture-based cases (other platforms, snaps, flatpaks, kernels) are in
test_restarts_fixtures.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from clientcheck.catalog import load_catalog
from clientcheck.inspect import inspect_machine
from clientcheck.inspect.fsroot import Root
from clientcheck.inspect.linux import LinuxInspector
from clientcheck.inspect.linux.restarts import program_restarts
from clientcheck.inspect.processes import ProcProcesses, Program
from clientcheck.model import Installation, Inventory, OSInfo
from clientcheck.version import Version
from conftest import missing, require_root, require_tool

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads this machine's /proc")

SLEEP = shutil.which("sleep") or "/bin/sleep"


def _installation(path: Path | str, version: str | None = "153.7.0esr", **extra: object) -> Installation:
    values: dict[str, object] = {
        "product": "firefox",
        "category": "browser",
        "name": "Firefox ESR",
        "version": Version(version) if version else None,
        "track": "esr",
        "source": "application.ini",
        "path": str(path),
        **extra,
    }
    return Installation(**values)  # type: ignore[arg-type]


def _inventory(*software: Installation) -> Inventory:
    # kernel=None: this machine's own kernel is not the subject here.
    return Inventory(
        os=OSInfo(platform="linux", id="debian", name="Debian GNU/Linux", version=Version("12.8")), software=software
    )


def _programs(inventory: Inventory) -> list[tuple[str, str | None, str | None, str | None, str]]:
    found = program_restarts(inventory.software, ProcProcesses(), Root("/"))
    return [
        (
            item.product,
            item.path,
            str(item.installed) if item.installed else None,
            str(item.running) if item.running else None,
            item.reason,
        )
        for item in found
        if item.kind == "program"
    ]


def _replace(path: Path, source: str = SLEEP) -> None:
    """What dpkg, rpm and pacman do: write the new file beside the old one, then rename it over it."""
    new = path.with_name(f".{path.name}.new")
    shutil.copy2(source, new)
    os.replace(new, path)


def _wait_until(condition, what: str, process: subprocess.Popen | None = None) -> None:
    """Wait for ``condition`` (polled; the deadline only turns a program that never gets there into a
    failure instead of a hang)."""
    deadline = time.monotonic() + 60
    while not condition():
        if process is not None and process.poll() is not None:
            pytest.fail(f"the program ended before {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within 60 s")
        time.sleep(0.01)


def _runs(pid: int, program: Path | str) -> bool:
    """/proc shows ``program`` as the process's executable (not the forked parent, nor setpriv before its exec)."""
    try:
        return os.readlink(f"/proc/{pid}/exe") == str(program)
    except OSError:
        return False


def _maps(pid: int, library: Path) -> bool:
    """The loader has mapped ``library`` into the process."""
    try:
        with open(f"/proc/{pid}/maps", encoding="utf-8", errors="replace") as stream:
            return any(line.rstrip("\n").endswith(" " + str(library)) for line in stream)
    except OSError:
        return False


@pytest.fixture
def started():
    processes: list[subprocess.Popen[bytes]] = []

    def start(
        program: Path, *, env: dict[str, str] | None = None, mapped: Path | None = None
    ) -> subprocess.Popen[bytes]:
        """``program`` running, and, with ``mapped``, that library loaded: only then may a test replace it
        (replaced before the loader opens it, the program would simply load the new file)."""
        process = subprocess.Popen([str(program), "300"], env=env)
        processes.append(process)
        _wait_until(lambda: _runs(process.pid, program), f"{program} runs", process)
        if mapped is not None:
            _wait_until(lambda: _maps(process.pid, mapped), f"{mapped} is mapped", process)
        return process

    yield start
    for process in processes:
        process.kill()
        process.wait()


def _app(base: Path, name: str) -> Path:
    folder = base / "opt" / name
    folder.mkdir(parents=True)
    program = folder / name
    shutil.copy2(SLEEP, program)
    return program


def test_a_program_replaced_while_it_runs_is_reported_and_one_still_current_is_not(tmp_path, started):
    firefox = _app(tmp_path, "firefox")
    okular = _app(tmp_path, "okular")
    started(firefox)
    started(okular)
    inventory = _inventory(
        _installation(firefox), _installation(okular, "22.12.3", product="okular", name="Okular", track=None)
    )
    assert _programs(inventory) == []

    _replace(firefox)

    assert _programs(inventory) == [
        ("firefox", str(firefox), "153.7.0esr", None, "running since before the update to 153.7.0esr")
    ]


def test_restarting_the_program_settles_it(tmp_path, started):
    firefox = _app(tmp_path, "firefox")
    old = started(firefox)
    _replace(firefox)
    inventory = _inventory(_installation(firefox))
    assert len(_programs(inventory)) == 1

    started(firefox)  # the user starts the updated program …
    assert len(_programs(inventory)) == 1  # … while the old one still runs, it is still owed
    old.kill()
    old.wait()
    assert _programs(inventory) == []


def test_a_helper_program_in_the_application_folder_counts_for_the_application(tmp_path, started):
    # Firefox is started as /usr/lib/firefox-esr/firefox-esr, and runs helpers from the same folder.
    firefox = _app(tmp_path, "firefox")
    helper = firefox.with_name("crashhelper")
    shutil.copy2(SLEEP, helper)
    started(helper)
    _replace(helper)
    assert [item[0] for item in _programs(_inventory(_installation(firefox)))] == ["firefox"]


def test_a_replaced_library_in_the_application_folder_is_reported(tmp_path, started):
    # libxul.so replaced under a running Firefox whose small launcher binary did not change: here a copy of
    # zlib, preloaded into the program from its folder, stands for libxul.so.
    zlib = next(
        (
            path
            for path in ("/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib64/libz.so.1", "/usr/lib/libz.so.1")
            if os.path.exists(path)
        ),
        None,
    )
    if zlib is None:
        missing("no zlib to preload (apt-get install zlib1g)")
    firefox = _app(tmp_path, "firefox")
    library = firefox.with_name("libz.so.1")
    shutil.copy2(zlib, library)
    started(firefox, env={**os.environ, "LD_PRELOAD": str(library)}, mapped=library)
    inventory = _inventory(_installation(firefox))
    assert _programs(inventory) == []

    _replace(library, zlib)

    assert _programs(inventory) == [
        (
            "firefox",
            str(firefox),
            "153.7.0esr",
            None,
            "running since before the update to 153.7.0esr (libz.so.1 was replaced)",
        )
    ]


def test_a_program_whose_file_is_gone_is_reported_and_an_unknown_version_is_said_so(tmp_path, started):
    firefox = _app(tmp_path, "firefox")
    started(firefox)
    firefox.unlink()
    assert _programs(_inventory(_installation(firefox, None))) == [
        ("firefox", str(firefox), None, None, "running since before its files were replaced")
    ]


def test_another_installation_of_the_same_product_is_judged_on_its_own(tmp_path, started):
    release = _app(tmp_path, "firefox")
    esr = _app(tmp_path, "firefox-esr")
    started(release)
    started(esr)
    _replace(esr)
    found = _programs(_inventory(_installation(release, "133.0"), _installation(esr)))
    assert [(product, path) for product, path, *_ in found] == [("firefox", str(esr))]


def test_with_root_running_processes_are_not_looked_at(tmp_path, started):
    # A captured tree whose Firefox entry starts a program this machine runs, replaced since: were this
    # machine's processes looked at, they would be taken for the captured machine's.
    firefox = _app(tmp_path, "firefox")
    started(firefox)
    _replace(firefox)
    captured = tmp_path / "captured"
    (captured / "usr" / "share" / "applications").mkdir(parents=True)
    (captured / "usr" / "share" / "applications" / "firefox.desktop").write_text(
        f"[Desktop Entry]\nType=Application\nName=Firefox\nExec={firefox} %u\nCategories=Network;WebBrowser;\n"
    )
    inventory = inspect_machine("linux", str(captured), {})
    assert [item.path for item in inventory.software] == [str(firefox)]
    assert inventory.restarts == ()
    # The same tree, inspected with this machine's processes: the inspector would find it.
    inspector = LinuxInspector(
        Root(str(captured)), load_catalog("linux"), {}, homes=[], kernel=None, processes=ProcProcesses()
    )
    assert [(item.product, item.path) for item in inspector.inventory().restarts] == [("firefox", str(firefox))]


def test_a_process_that_ended_between_listing_and_reading_is_not_evidence(tmp_path):
    firefox = _app(tmp_path, "firefox")
    process = subprocess.Popen([str(firefox), "300"])
    source = ProcProcesses()
    program = next(item for item in source.programs() if item.pid == process.pid)
    process.kill()
    process.wait()
    assert source.replaced(program) is None
    assert source.loaded(program) == ()
    assert source.arguments(program) == ()
    assert source.sandbox(program) is None
    # A pid that never existed, and one with a NUL in its path, are no better.
    assert source.replaced(Program(2**22 + 7, "/usr/bin/firefox")) is None
    assert source.replaced(Program(os.getpid(), "/usr/bin/fire\0fox")) is None


def test_a_process_that_sees_another_file_system_is_not_this_machines(tmp_path):
    # A process in a container sees its own file at the program's path, and /proc shows the same path text.
    # A private mount namespace with another file bind-mounted over the path makes one.
    require_root("a mount namespace")
    unshare = require_tool("unshare", "util-linux")
    if subprocess.run([unshare, "--mount", "true"], capture_output=True, check=False).returncode != 0:
        missing("mount namespaces are not permitted here (a container without CAP_SYS_ADMIN)")
    firefox = _app(tmp_path, "firefox")
    theirs = tmp_path / "their-firefox"
    shutil.copy2(SLEEP, theirs)
    script = 'mount --bind "$1" "$2" && exec "$2" 300'
    process = subprocess.Popen(
        [unshare, "--mount", "--propagation", "private", "sh", "-c", script, "sh", theirs, firefox]
    )
    try:

        def program_in_namespace() -> Program | None:
            return next((p for p in ProcProcesses().programs() if p.pid == process.pid and p.exe == str(firefox)), None)

        _wait_until(program_in_namespace, "the program runs in its own mount namespace", process)
        program = program_in_namespace()
        assert program is not None  # the same path text as our installation's …
        # … but it runs another file than ours there: comparing with our file would call it replaced.
        assert os.stat(f"/proc/{process.pid}/exe").st_ino != firefox.stat().st_ino
        assert ProcProcesses().replaced(program) is None
        assert _programs(_inventory(_installation(firefox))) == []
    finally:
        process.kill()
        process.wait()


def test_another_users_processes_are_skipped_without_a_word(nobody):
    """As an ordinary user, /proc/<pid>/exe of root's processes cannot be read: they are skipped, and the
    user's own replaced program is still found."""
    shared = Path(tempfile.mkdtemp(prefix="clientcheck-restarts-"))
    try:
        shared.chmod(0o755)
        roots = _app(shared, "firefox")
        users = _app(shared, "firefox-user")
        os.chown(users.parent, nobody.uid, nobody.uid)
        os.chown(users, nobody.uid, nobody.uid)
        as_root = subprocess.Popen([str(roots), "300"])
        as_user = subprocess.Popen([*nobody.prefix, str(users), "300"])
        try:
            # Both run their program (setpriv has exec'd) before it is replaced.
            _wait_until(lambda: _runs(as_root.pid, roots), f"{roots} runs", as_root)
            _wait_until(lambda: _runs(as_user.pid, users), f"{users} runs", as_user)
            _replace(roots)
            _replace(users)
            os.chown(users, nobody.uid, nobody.uid)
            script = (
                "import json, sys\n"
                "from clientcheck.inspect.fsroot import Root\n"
                "from clientcheck.inspect.linux.restarts import program_restarts\n"
                "from clientcheck.inspect.processes import ProcProcesses\n"
                "from clientcheck.model import Installation\n"
                "from clientcheck.version import Version\n"
                "software = tuple(Installation(product='firefox', category='browser', name='Firefox', "
                "version=Version('133.0'), source='application.ini', path=p) for p in sys.argv[1:])\n"
                "found = program_restarts(software, ProcProcesses(), Root('/'))\n"
                "print(json.dumps([r.path for r in found if r.kind == 'program']))\n"
            )
            proc = subprocess.run(
                [*nobody.python, "-c", script, str(roots), str(users)],
                capture_output=True,
                text=True,
                timeout=60,
                env=nobody.env,
            )
            assert proc.returncode == 0, proc.stderr
            assert proc.stderr == ""
            assert json.loads(proc.stdout) == [str(users)]
        finally:
            for process in (as_root, as_user):
                process.kill()
                process.wait()
    finally:
        shutil.rmtree(shared)

"""A throw-away root: this machine's own file system, for one test, with every change kept apart.

Tests that install packages (dpkg) or start services (a systemd user manager, dbus-daemon, an X server)
run them here instead of on the machine itself. The root is a mount namespace (``unshare --mount``) in
which /usr, /etc, /var, /opt and /root (and /bin, /sbin, /lib… where they are real folders, not merged-/usr
links) are overlays: the machine's folders as the lower layer, the changes in an upper layer under the
test's own folder. /run is an empty tmpfs, so nothing inside reaches the machine's systemd, D-Bus or udev
through their sockets (a maintainer script cannot start a service on the machine). /tmp, /home, /proc,
/dev and the network are shared: the test and the programs inside see the same tmp_path and 127.0.0.1.

The namespace lives as long as a holder process; each command enters it with ``nsenter``. On leaving, every
process still in the namespace is killed, then the holder, and the overlays vanish with them: the machine's
dpkg database, /etc and /var never saw a change. What the commands did change is in ``upper`` (see
``changes``).
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path

# Where dpkg, maintainer scripts and services write. /home is left shared: tests keep their files in tmp_path
# and point HOME there, and a checkout under /home must stay visible and writable as it is.
OVERLAID = ("usr", "etc", "var", "opt", "root", "srv", "bin", "sbin", "lib", "lib32", "lib64", "libx32")

# Runs as the holder: the folders to overlay come as arguments, never inside the script's text.
_HOLDER = """set -e
base=$1
shift
for name do
    mount -t overlay overlay -o "lowerdir=/$name,upperdir=$base/upper/$name,workdir=$base/work/$name" "/$name"
done
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mkdir -m 1777 /run/lock
echo ready
exec sleep infinity
"""


class ThrowawayRootError(Exception):
    """The root could not be made here (not root, no unshare, mount namespaces not permitted)."""


def overlaid_folders() -> list[str]:
    """The top-level folders of this machine that get an overlay (real folders only: on a merged-/usr
    system /bin is a link into /usr, which is overlaid already)."""
    return [name for name in OVERLAID if os.path.isdir(f"/{name}") and not os.path.islink(f"/{name}")]


class ThrowawayRoot:
    """``with ThrowawayRoot(folder) as root: root.run(["dpkg", "-i", deb])``: a fresh root per ``with``.

    ``folder`` holds the upper and work layers; it must not be inside an overlaid folder (an overlay cannot
    hold its own layers), which pytest's tmp_path, under /tmp, is not.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.upper = self.folder / "upper"
        self.holder: subprocess.Popen[str] | None = None
        self.folders = overlaid_folders()
        self._nsenter = shutil.which("nsenter")
        self._unshare = shutil.which("unshare")

    # --- life -------------------------------------------------------------------------------------------

    def __enter__(self) -> ThrowawayRoot:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        if os.geteuid() != 0:
            raise ThrowawayRootError("a throw-away root needs root (mount namespaces and overlays)")
        if self._unshare is None or self._nsenter is None:
            raise ThrowawayRootError("a throw-away root needs unshare and nsenter (util-linux)")
        real = os.path.realpath(self.folder)
        for name in self.folders:
            if real == f"/{name}" or real.startswith(f"/{name}/"):
                raise ThrowawayRootError(f"{real} is inside /{name}, which the throw-away root overlays")
        if any(character in real for character in ",:\\") or not real.isprintable():
            raise ThrowawayRootError(f"{real}: overlay options cannot carry this folder name")
        for name in self.folders:
            (self.upper / name).mkdir(parents=True, exist_ok=True)
            (self.folder / "work" / name).mkdir(parents=True, exist_ok=True)
        self.holder = subprocess.Popen(
            [self._unshare, "--mount", "--propagation", "private", "sh", "-c", _HOLDER, "sh", real, *self.folders],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={"PATH": os.environ.get("PATH") or "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"},
        )
        assert self.holder.stdout is not None
        if self.holder.stdout.readline().strip() != "ready":
            _, error = self.holder.communicate(timeout=30)
            self.holder = None
            raise ThrowawayRootError(f"cannot make a throw-away root here: {error.strip()[-300:]}")

    def stop(self) -> None:
        """Kill whatever still runs in the root (only processes started in it are there), then the holder."""
        if self.holder is None:
            return
        namespace = _namespace(self.holder.pid)
        deadline = time.monotonic() + 30
        while namespace is not None and time.monotonic() < deadline:
            inside = [pid for pid in _pids() if pid != self.holder.pid and _namespace(pid) == namespace]
            if not inside:
                break
            for pid in inside:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)
        self.holder.kill()
        self.holder.communicate(timeout=30)
        self.holder = None

    # --- use --------------------------------------------------------------------------------------------

    def command(self, argv: list[str], cwd: str | os.PathLike[str] | None = None) -> list[str]:
        """``argv`` as it runs in the root, in ``cwd`` (default: the current folder; entering a mount
        namespace would otherwise start it in /)."""
        if self.holder is None:
            raise ThrowawayRootError("the throw-away root is not started")
        folder = os.fspath(cwd) if cwd is not None else os.getcwd()
        return [str(self._nsenter), f"--target={self.holder.pid}", "--mount", f"--wd={folder}", "--", *argv]

    def run(self, argv: list[str], *, cwd=None, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
        """``subprocess.run`` in the root; output is captured as text unless told otherwise."""
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        kwargs.setdefault("check", False)
        return subprocess.run(self.command(argv, cwd), timeout=timeout, **kwargs)

    def popen(self, argv: list[str], *, cwd=None, **kwargs) -> subprocess.Popen:
        """``subprocess.Popen`` in the root. nsenter execs the program itself (no fork for a mount
        namespace), so the process's pid is the program's."""
        return subprocess.Popen(self.command(argv, cwd), **kwargs)

    def path(self, path: str) -> Path:
        """Where the test reads (or writes) the root's ``path`` from outside: through the holder's
        ``/proc/<pid>/root``, which the kernel resolves in the root's mounts.

        Only for opening, listing and stat: ``os.path.realpath`` or ``Path.resolve`` turn the magic link
        into the text "/", which is the machine's own root. Never hand this path to code that resolves it.
        """
        if self.holder is None:
            raise ThrowawayRootError("the throw-away root is not started")
        return Path(f"/proc/{self.holder.pid}/root") / path.lstrip("/")

    def changes(self) -> dict[str, str]:
        """What the commands changed, by path: "deleted" (an overlay whiteout), "folder" or "file"."""
        found: dict[str, str] = {}
        for folder, directories, files in os.walk(self.upper):
            if folder == str(self.upper):
                continue  # the layers' own folders (usr, etc, var…), made before the first command
            for name in directories + files:
                full = os.path.join(folder, name)
                status = os.lstat(full)
                path = "/" + os.path.relpath(full, self.upper)
                if stat.S_ISCHR(status.st_mode) and status.st_rdev == 0:
                    found[path] = "deleted"
                elif stat.S_ISDIR(status.st_mode):
                    found[path] = "folder"
                else:
                    found[path] = "file"
        return found


def _namespace(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return None


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]

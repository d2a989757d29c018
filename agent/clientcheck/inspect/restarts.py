"""Updates installed but not yet in effect: programs still running an older version than the one installed,
and an operating system that needs a restart. An update that has not taken effect is still owed.

Programs (browsers and PDF viewers of the inventory):

- Linux, from ``/proc`` (``processes.ProcProcesses``): a process belongs to an installation when its program
  is the installation's program, lies in the application's own folder (``/usr/lib/firefox-esr``,
  ``/opt/google/chrome``: wrappers such as ``/usr/bin/firefox-esr`` start the real binary there), or, when
  its program was deleted, is a file of the installation's package (``/usr/bin/chromium`` is a shell script
  that starts ``/usr/lib/chromium/chromium``). It runs an older version when its program file was replaced
  on disk since it started (``/proc/<pid>/exe`` is "(deleted)", or is no longer the file at its path), or a
  library it mapped from the application's folder was (``libxul.so``). Snaps: the process runs from another
  revision than ``/snap/<name>/current``. Flatpaks: the sandbox's ``.flatpak-info`` names another commit
  than the installed one.
- Windows and macOS, through psutil: a process whose program lies in the installation's folder or app
  bundle. The Chromium browsers keep each version in a folder named after it, so the running version is
  read from the paths the process uses (Windows: its modules, ``Application\\131.0.6778.86\\chrome.dll``;
  macOS: ``… Framework.framework/Versions/131.0.6778.86/``, in helper programs' paths and open files) and
  compared with the installed one. Otherwise (Firefox, the PDF viewers) the only evidence is a program file
  created after the process started: Windows locks a running program, so its updaters replace it at the
  next start and usually nothing is pending at all.

Chrome and Chromium also name their running version in their crash handler's arguments
(``--annotation=ver=156.0.8078.108``: seen on Debian's chromium; the same crashpad handler runs on Windows
and macOS); that is used where it is found.

The operating system:

- Linux: ``/run/reboot-required``, which packages' install scripts create through update-notifier-common
  (Ubuntu; Debian where it is installed), with the packages of ``/run/reboot-required.pkgs``; a kernel of
  the running one's line newer than it, installed in ``/boot`` or ``/usr/lib/modules/<release>/vmlinuz``
  (and the running kernel's modules folder gone); the running kernel's own image replaced since boot
  (Debian can ship a new build under the same release name). Not in a container: its kernel is the host's.
  Fedora's ``needs-restarting -r`` is not run (no subprocess): the kernel check covers its main case.
- Windows: ``WindowsUpdate\\Auto Update\\RebootRequired`` and ``Component Based Servicing\\RebootPending``.
- macOS: nothing. An OS update is staged, not installed, until the restart applies it to the sealed system
  volume, so the system version on disk is always the one running; no file says reliably that a staged
  update waits (``/Library/Updates`` and the SoftwareUpdate preferences lag and linger).

With ``--root`` (a captured tree) or a registry export the processes are not this machine's, and the kernel
running on the captured machine is unknown: only what the captured files and registry say counts.
"""

from __future__ import annotations

import os
import posixpath

from clientcheck.model import PendingRestart
from clientcheck.version import Version

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from clientcheck.inspect.formats.kernelrelease import KernelRelease
    from clientcheck.inspect.fsroot import Root
    from clientcheck.inspect.packages import PackageDatabase
    from clientcheck.inspect.processes import ProcessSource, Program
    from clientcheck.inspect.registry import Registry
    from clientcheck.model import Installation, Inventory

REBOOT_REQUIRED = "/run/reboot-required"
REBOOT_PACKAGES = "/run/reboot-required.pkgs"
MODULE_DIRS = ("/usr/lib/modules", "/lib/modules")
KERNEL_IMAGES = ("vmlinuz", "vmlinux", "Image")  # Image: arm64 on openSUSE
# Files that say we run in a container (podman, docker, systemd-nspawn): the kernel is the host's.
CONTAINER_MARKERS = ("/run/.containerenv", "/.dockerenv", "/run/systemd/container")

WINDOWS_UPDATE_REBOOT = (
    "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired"
)
SERVICING_REBOOT = (
    "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending"
)
# Not read, on purpose:
# - Session Manager's PendingFileRenameOperations (HKLM\SYSTEM): any program may ask for a file to be moved
#   or deleted at the next boot, and installers, drivers and security tools leave entries there for weeks
#   (fleet tools' own forums name it the usual cause of machines stuck "pending restart"). It says nothing
#   about an update being owed, and would flag a large part of every fleet.
# - HKLM\SOFTWARE\Microsoft\Updates\UpdateExeVolatile: written by the update.exe installers of Windows XP and
#   Server 2003 days; no update of a supported Windows sets it, and a stale value outlives every restart.

# Folders shared by many packages: a program there says nothing about which application it belongs to.
SHARED_DIRS = frozenset(
    (
        "/",
        "/bin",
        "/sbin",
        "/lib",
        "/lib64",
        "/usr",
        "/usr/bin",
        "/usr/sbin",
        "/usr/games",
        "/usr/lib",
        "/usr/lib32",
        "/usr/lib64",
        "/usr/libexec",
        "/usr/local",
        "/usr/local/bin",
        "/usr/local/sbin",
        "/usr/local/games",
        "/usr/local/lib",
        "/opt",
        "/snap/bin",
    )
)
# Where a package manager puts programs: a deleted program elsewhere (a memfd, /tmp) is no package's file.
PACKAGE_PREFIXES = ("/usr/", "/opt/", "/bin/", "/sbin/", "/lib/", "/lib64/")
CHROMIUM_FAMILY = frozenset(("chrome", "chromium", "edge", "brave", "opera", "vivaldi"))
# Products whose crash handler names the version the user sees: Chrome's and Chromium's own crashpad
# handler (seen on Debian's chromium: --annotation=ver=156.0.8078.108). Edge, Brave, Opera and Vivaldi may
# put Chromium's number there rather than their own, so their annotation is not trusted.
ANNOTATED_VERSION = frozenset(("chrome", "chromium"))
VERSION_ANNOTATION = "--annotation=ver="
_DELETED = " (deleted)"


def pending_restarts(
    inventory: Inventory,
    platform: str,
    *,
    root: str | None,
    env: Mapping[str, str] | None = None,
    registry: Registry | None = None,
    processes: ProcessSource | None = None,
) -> tuple[PendingRestart, ...]:
    """What is owed a restart on the machine ``inventory`` describes: at most one ``system`` record (all the
    reasons the OS needs a restart, joined), then one ``program`` record per installation still running
    an older version, in the inventory's order.

    ``root`` is the ``--root`` tree, or None for the running machine. ``registry`` is the Windows registry
    (None: the live one, on Windows). ``processes`` replaces the running machine's processes (tests, a
    capture); they are never looked at for a ``--root`` tree or a registry export. ``env`` is the
    environment, as ``inspect_machine`` takes it (not read today). Never raises for what it finds on the
    machine: what cannot be read is not evidence of a pending restart.
    """
    from clientcheck.errors import UsageError
    from clientcheck.inspect import running_platform
    from clientcheck.inspect.fsroot import Root

    try:
        this_platform: str | None = running_platform()
    except UsageError:  # an OS we do not run on: only captured input can be judged
        this_platform = None
    exported = registry is not None and _is_export(registry)
    captured = root is not None or exported
    live = not captured and platform == this_platform
    files = Root(root if root is not None else "/") if platform != "windows" else None

    found: list[PendingRestart] = []
    system: PendingRestart | None = None
    if platform == "linux" and files is not None:
        kernel = inventory.os.kernel if live else None
        system = linux_system_restart(files, inventory.os.id, kernel, boot_time=_boot_time() if live else None)
    elif platform == "windows":
        if registry is None and live:
            from clientcheck.inspect.registry import open_registry

            registry = open_registry(None)
        system = windows_system_restart(registry) if registry is not None else None
    if system is not None:
        found.append(system)

    if root is None and not exported:
        source = processes if processes is not None else (_default_source(platform) if live else None)
        if source is not None:
            found += program_restarts(inventory.software, platform, source, files or Root("/"))
    return tuple(found)


def _is_export(registry: Registry) -> bool:
    # Imported only with a registry at hand: Linux and macOS runs need not load the module.
    from clientcheck.inspect.registry import ExportedRegistry

    return isinstance(registry, ExportedRegistry)


def _default_source(platform: str) -> ProcessSource | None:
    if platform == "linux":
        from clientcheck.inspect.processes import ProcProcesses

        return ProcProcesses()
    try:
        from clientcheck.inspect.processes_psutil import PsutilProcesses

        return PsutilProcesses()
    except ImportError:  # psutil missing from this install: the check is skipped, not the run
        return None


# The operating system ------------------------------------------------------------------------------------


def linux_system_restart(
    files: Root, os_id: str, kernel: str | None, *, boot_time: float | None = None
) -> PendingRestart | None:
    """Whether the Linux system at ``files`` needs a restart. ``kernel`` is the running kernel's release
    (None for a captured tree: only the files then count), ``boot_time`` when it started (epoch seconds)."""
    reasons: list[str] = []
    path: str | None = None
    if files.exists(REBOOT_REQUIRED):
        path = REBOOT_REQUIRED
        packages = _reboot_packages(files.read_text(REBOOT_PACKAGES, limit=1024 * 1024))
        reasons.append(f"the system needs a restart: {REBOOT_REQUIRED}" + (f" ({packages})" if packages else ""))
    if kernel is not None:
        found = kernel_restart(files, kernel, boot_time)
        if found is not None:
            reasons.append(found[0])
            path = path or found[1]
    if not reasons:
        return None
    return PendingRestart(os_id or "linux", "system", path, None, None, "; ".join(reasons))


def _reboot_packages(text: str | None, shown: int = 5) -> str:
    """The packages that asked for the restart, each once, in the file's order: "a, b and 3 more"."""
    from clientcheck.catalog import is_package_name

    names = list(dict.fromkeys(line.strip() for line in (text or "").splitlines() if is_package_name(line.strip())))
    if len(names) <= shown:
        return ", ".join(names)
    return f"{', '.join(names[:shown])} and {len(names) - shown} more"


def installed_kernels(files: Root) -> dict[str, str]:
    """Installed kernels: release -> the image that shows it. Only an image counts: a modules folder alone
    may be what an uninstall left behind (DKMS modules, generated files)."""
    found: dict[str, str] = {}
    for name in files.listdir("/boot"):
        for image in KERNEL_IMAGES:
            if name.startswith(image + "-") and len(name) > len(image) + 1:
                found.setdefault(name[len(image) + 1 :], f"/boot/{name}")
    for folder in MODULE_DIRS:
        for release in files.listdir(folder):
            for image in KERNEL_IMAGES:
                if release not in found and files.is_file(f"{folder}/{release}/{image}"):
                    found[release] = f"{folder}/{release}/{image}"
    return found


def kernel_restart(files: Root, running_text: str, boot_time: float | None) -> tuple[str, str] | None:
    """(reason, evidence path) when the running kernel is not the one the next boot starts."""
    if any(files.exists(marker) for marker in CONTAINER_MARKERS):
        return None  # the kernel is the host's (checked first: a container need not load the parser)
    installed = installed_kernels(files)
    if not installed:
        return None  # no image to compare with (a VM started with an outside kernel)
    from clientcheck.inspect.formats.kernelrelease import parse_release

    running = parse_release(running_text)
    if running is None:
        return None
    same_line: list[tuple[KernelRelease, str]] = []
    for text, path in installed.items():
        release = parse_release(text)
        if release is not None and release.same_line(running):
            same_line.append((release, path))
    newer = [item for item in same_line if item[0].newer_than(running)]
    if newer:
        release, path = max(newer, key=lambda item: item[0].key)
        return f"kernel {running.text} is running, {release.text} is installed", path
    modules = any(files.is_dir(f"{folder}/{running_text}") for folder in MODULE_DIRS)
    if not modules and running_text not in installed and same_line:
        # Removed without a newer one (a downgrade): the modules it would load are gone all the same.
        release, path = max(same_line, key=lambda item: item[0].key)
        return f"kernel {running.text} is running, its modules are gone ({release.text} is installed)", path
    image = installed.get(running_text)
    if image is not None and boot_time is not None:
        host = files.host_path(image)
        try:
            changed = os.stat(host).st_ctime if host is not None else None
        except OSError:
            changed = None
        # A package manager writes a new file and renames it over the old one: its change time is the
        # install's. Nothing else rewrites a kernel image.
        if changed is not None and changed > boot_time + 60:
            return f"kernel {running.text} was replaced on disk after the system started", image
    return None


def _boot_time() -> float | None:
    """When this machine started (the kernel's ``btime``), or None."""
    try:
        with open("/proc/stat", "rb") as stream:
            data = stream.read(1024 * 1024)
    except OSError:
        return None
    at = data.find(b"\nbtime ")
    if at == -1:
        return None
    value = data[at + 7 : data.find(b"\n", at + 1)].strip()
    return float(value) if value.isdigit() else None


def windows_system_restart(registry: Registry) -> PendingRestart | None:
    reasons: list[str] = []
    path: str | None = None
    updates = registry.values(WINDOWS_UPDATE_REBOOT)
    if updates is not None:
        # Its values name the updates waiting (update id = 1); the key itself is the signal.
        count = f" ({len(updates)} updates)" if len(updates) > 1 else ""
        reasons.append(f"Windows Update installed updates that take effect at the next restart{count}")
        path = WINDOWS_UPDATE_REBOOT
    if registry.values(SERVICING_REBOOT) is not None:
        reasons.append("Windows servicing has changes waiting for a restart")
        path = path or SERVICING_REBOOT
    if not reasons:
        return None
    return PendingRestart("windows", "system", path, None, None, "the system needs a restart: " + "; ".join(reasons))


# Programs --------------------------------------------------------------------------------------------------


class _Target:
    """One installation, and how to recognise its processes."""

    __slots__ = ("folders", "installation", "kind", "programs")

    def __init__(self, installation: Installation, kind: str, folders: tuple[str, ...]) -> None:
        self.installation = installation
        self.kind = kind  # "files" (Linux), "snap", "flatpak", "folder" (Windows, macOS)
        self.folders = folders  # the application's own folders (Windows: case-folded)
        self.programs: list[Program] = []


def program_restarts(
    software: Iterable[Installation], platform: str, source: ProcessSource, files: Root
) -> list[PendingRestart]:
    """One record per installation with a process still running an older version than installed."""
    targets = [target for item in software if (target := _target(item, platform)) is not None]
    if not targets:
        return []
    if platform == "linux":
        _match_linux(targets, source, files)
    else:
        _match_folders(targets, source, windows=platform == "windows")
    found: list[PendingRestart] = []
    for target in targets:
        if not target.programs:
            continue
        if target.kind == "snap":
            record = _judge_snap(target, files)
        elif target.kind == "flatpak":
            record = _judge_flatpak(target, source, files)
        elif target.kind == "files":
            record = _judge_files(target, source)
        else:
            record = _judge_folder(target, source, windows=platform == "windows")
        if record is not None:
            found.append(record)
    return found


def _target(installation: Installation, platform: str) -> _Target | None:
    path = installation.path
    if not path:
        return None
    if platform == "windows":
        return _Target(installation, "folder", (_windows_key(path),))
    if platform == "macos":
        return _Target(installation, "folder", (path.rstrip("/"),))
    if installation.source == "snap" and installation.package:
        return _Target(installation, "snap", ())
    if installation.source == "flatpak" and installation.package:
        return _Target(installation, "flatpak", (path.rstrip("/"),))
    if not path.startswith("/"):
        return None  # a program name that was not found on the machine
    folder = posixpath.dirname(path)
    return _Target(installation, "files", (folder,) if _own_folder(folder) else ())


def _own_folder(folder: str) -> bool:
    """Whether a program's folder is its application's own, not one shared by many (/usr/bin, /usr/lib,
    /usr/lib/x86_64-linux-gnu)."""
    return folder not in SHARED_DIRS and "-linux-" not in posixpath.basename(folder)


def _windows_key(path: str) -> str:
    """A Windows path as compared: backslashes, no trailing one, case-folded (Windows ignores case)."""
    return path.replace("/", "\\").rstrip("\\").casefold()


def _inside(path: str, folders: tuple[str, ...], separator: str = "/") -> bool:
    return any(path.startswith(folder + separator) for folder in folders)


def _match_linux(targets: list[_Target], source: ProcessSource, files: Root) -> None:
    by_program: dict[str, _Target] = {}
    by_folder: dict[str, _Target] = {}
    snaps: dict[str, _Target] = {}
    flatpaks = [target for target in targets if target.kind == "flatpak"]
    packaged: list[_Target] = []
    for candidate in targets:
        item = candidate.installation
        if candidate.kind == "snap" and item.package:
            snaps.setdefault(item.package, candidate)
        elif candidate.kind == "files" and item.path:
            by_program.setdefault(item.path, candidate)
            for folder in candidate.folders:
                by_folder.setdefault(folder, candidate)
            if item.package and item.source in ("dpkg", "rpm", "pacman"):
                packaged.append(candidate)
    leftovers: list[Program] = []
    # Most processes belong to no installation: one dictionary look-up and one prefix test (both in C) must
    # tell, as this runs for every process at every login.
    folder_prefixes = tuple(folder + "/" for folder in by_folder)
    for program in source.programs():
        exe = program.exe
        target = by_program.get(exe)
        if target is None:
            if exe.startswith("/snap/"):
                target = snaps.get(exe.split("/")[2])
            elif exe.startswith("/app/"):
                target = _flatpak_target(flatpaks, source.sandbox(program)) if flatpaks else None
            elif exe.startswith(folder_prefixes):
                target = _folder_target(by_folder, exe)
            elif program.deleted and packaged and exe.startswith(PACKAGE_PREFIXES):
                leftovers.append(program)
        if target is not None:
            target.programs.append(program)
    if not leftovers:
        return
    # Deleted programs the cheap tests did not place: only the package database can say whose they are. A
    # program found there also makes its folder the application's (/usr/lib/chromium for /usr/bin/chromium),
    # which places its siblings from other packages of the same application (chromium-common's crash handler).
    from clientcheck.inspect.packages import open_package_databases

    databases = open_package_databases(files)
    unplaced: list[Program] = []
    try:
        for program in leftovers:
            target = _package_target(packaged, databases, program.exe)
            if target is None:
                unplaced.append(program)
                continue
            target.programs.append(program)
            folder = posixpath.dirname(program.exe)
            if _own_folder(folder) and folder not in target.folders:
                target.folders += (folder,)
                by_folder.setdefault(folder, target)
    finally:
        for database in databases:
            database.close()
    for program in unplaced:
        target = _folder_target(by_folder, program.exe)
        if target is not None:
            target.programs.append(program)


def _folder_target(by_folder: dict[str, _Target], exe: str) -> _Target | None:
    """The installation whose own folder holds ``exe``, at any depth."""
    folder = posixpath.dirname(exe)
    while folder not in ("/", ""):
        target = by_folder.get(folder)
        if target is not None:
            return target
        folder = posixpath.dirname(folder)
    return None


def _package_target(packaged: list[_Target], databases: list[PackageDatabase], exe: str) -> _Target | None:
    for target in packaged:
        item = target.installation
        for database in databases:
            if database.manager != item.source or not item.package:
                continue
            owner = database.owner(exe, [item.package])
            if owner is not None and owner.package == item.package:
                return target
    return None


def _flatpak_target(flatpaks: list[_Target], info: dict[str, dict[str, str]] | None) -> _Target | None:
    if info is None:
        return None
    name = info.get("Application", {}).get("name")
    app_path = info.get("Instance", {}).get("app-path", "")
    for target in flatpaks:
        if target.installation.package == name and _inside(app_path, target.folders):
            return target
    return None


def _match_folders(targets: list[_Target], source: ProcessSource, *, windows: bool) -> None:
    ordered = sorted(targets, key=lambda target: -len(target.folders[0]))  # the deepest folder wins
    separator = "\\" if windows else "/"
    for program in source.programs():
        exe = _windows_key(program.exe) if windows else program.exe
        for target in ordered:
            if _inside(exe, target.folders, separator):
                target.programs.append(program)
                break


def _annotated_version(target: _Target, programs: Iterable[Program], source: ProcessSource) -> Version | None:
    """The oldest version Chrome's or Chromium's crash handlers say is running."""
    if target.installation.product not in ANNOTATED_VERSION:
        return None
    versions = []
    for program in programs:
        for argument in source.arguments(program):
            if argument.startswith(VERSION_ANNOTATION):
                version = Version.try_parse(argument[len(VERSION_ANNOTATION) :])
                if version is not None:
                    versions.append(version)
    return min(versions) if versions else None


def _judge_files(target: _Target, source: ProcessSource) -> PendingRestart | None:
    """Linux, installed from a package or a tarball: the program or a library replaced on disk."""
    replaced = False
    current: list[Program] = []  # processes that see this machine's files and run the file still there
    ours: list[Program] = []
    for program in sorted(target.programs, key=lambda program: program.pid):
        verdict = source.replaced(program)
        if verdict is None:
            continue  # another file system (a container, a chrooted sandbox), or gone
        ours.append(program)
        if verdict:
            replaced = True
        else:
            current.append(program)
    detail = None
    if not replaced and current and target.folders:
        # The program file itself may be unchanged while the application's libraries were replaced (a
        # tarball Firefox updated in place, a partial update). One process shows it: the lowest pid, usually the
        # parent.
        for path in source.loaded(current[0]):
            if path.endswith(_DELETED) and _inside(path[: -len(_DELETED)], target.folders):
                replaced = True
                detail = f"{posixpath.basename(path[: -len(_DELETED)])} was replaced"
                break
    if not ours:
        return None
    return _verdict(target.installation, replaced, _annotated_version(target, ours, source), detail)


def _judge_snap(target: _Target, files: Root) -> PendingRestart | None:
    instance = target.installation.package or ""
    current = files.resolve(f"/snap/{instance}/current")
    installed_revision = posixpath.basename(current) if current else None
    running_revisions = sorted({parts[3] for p in target.programs if len(parts := p.exe.split("/")) > 4})
    old = [revision for revision in running_revisions if revision != installed_revision]
    if installed_revision is None or not old:
        return None
    versions = [version for revision in old if (version := _snap_version(files, instance, revision)) is not None]
    detail = f"snap revision {', '.join(old)}; {installed_revision} is installed"
    return _verdict(target.installation, True, min(versions) if versions else None, detail)


def _snap_version(files: Root, instance: str, revision: str) -> Version | None:
    """The version of a revision still mounted (snapd keeps the previous ones)."""
    from clientcheck.inspect.formats.snap import top_level_scalars

    if not revision or revision in (".", ".."):
        return None
    text = files.read_text(f"/snap/{instance}/{revision}/meta/snap.yaml", limit=1024 * 1024)
    return Version.try_parse(top_level_scalars(text).get("version")) if text else None


def _judge_flatpak(target: _Target, source: ProcessSource, files: Root) -> PendingRestart | None:
    base = target.folders[0]
    old: dict[str, str] = {}  # running commit -> its deployment's files
    installed_commit = None
    for program in target.programs:
        info = source.sandbox(program) or {}
        instance = info.get("Instance", {})
        arch, branch = instance.get("arch", ""), instance.get("branch", "")
        app_path = instance.get("app-path", "")
        commit = instance.get("app-commit") or posixpath.basename(posixpath.dirname(app_path))
        if not (arch and branch and commit) or "/" in arch + branch or ".." in (arch, branch):
            continue
        active = files.resolve(f"{base}/{arch}/{branch}/active")
        installed_commit = posixpath.basename(active) if active else None
        if installed_commit and commit != installed_commit:
            old[commit] = app_path
    if not old or installed_commit is None:
        return None
    versions = [version for path in old.values() if (version := _flatpak_version(files, target, path)) is not None]
    commits = ", ".join(commit[:12] for commit in old)
    detail = f"flatpak commit {commits}; {installed_commit[:12]} is installed"
    return _verdict(target.installation, True, min(versions) if versions else None, detail)


def _flatpak_version(files: Root, target: _Target, app_path: str) -> Version | None:
    """The version of a deployment still on disk (flatpak removes an old one once nothing runs it)."""
    from clientcheck.inspect.formats.metainfo import MetainfoError, newest_release

    app_id = target.installation.package or ""
    if not _inside(app_path, target.folders):
        return None
    for name in (f"{app_id}.metainfo.xml", f"{app_id}.appdata.xml"):
        for folder in ("metainfo", "appdata"):
            text = files.read_text(f"{app_path}/share/{folder}/{name}", limit=4 * 1024 * 1024)
            if text is None:
                continue
            try:
                return Version.try_parse(newest_release(text))
            except MetainfoError:
                return None
    return None


def _judge_folder(target: _Target, source: ProcessSource, *, windows: bool) -> PendingRestart | None:
    """Windows and macOS: the version folder in use, else a program file created after the process."""
    item = target.installation
    programs = sorted(target.programs, key=lambda program: (program.started or 0.0, program.pid))
    versions: list[Version] = []
    if item.product in CHROMIUM_FAMILY:
        versions += [v for program in programs if (v := _folder_version(item, program.exe, target, windows))]
        annotated = _annotated_version(target, programs, source)
        if annotated is not None:
            versions.append(annotated)
        if not versions:
            # The costly look: the modules (Windows) or open files (macOS) of the oldest process.
            versions += [
                v for path in source.loaded(programs[0]) if (v := _folder_version(item, path, target, windows))
            ]
    replaced = any(source.replaced(program) for program in programs)
    return _verdict(item, replaced, min(versions) if versions else None, None)


def _folder_version(item: Installation, path: str, target: _Target, windows: bool) -> Version | None:
    """The version a Chromium browser's path names: the version folder beside chrome.exe (Windows), or the
    framework's version (macOS)."""
    if windows:
        key = _windows_key(path)
        folder = next((folder for folder in target.folders if key.startswith(folder + "\\")), None)
        if folder is None:
            return None
        name = key[len(folder) + 1 :].split("\\", 1)[0]
    else:
        if not _inside(path, target.folders):
            return None
        marker = ".framework/Versions/"
        at = path.find(marker)
        if at == -1:
            return None
        name = path[at + len(marker) :].split("/", 1)[0]
    if name.count(".") < 2:
        return None  # "A", "Current", "Installer", "chrome.dll": not a version folder
    version = Version.try_parse(name)
    if version is not None and item.product == "brave" and len(version.release) == 4 and version.release[0] >= 100:
        # Brave's folders put Chromium's major first ("131.1.73.97"); its own version is 1.73.97.
        version = Version(".".join(str(part) for part in version.release[1:]))
    return version


def _verdict(item: Installation, replaced: bool, running: Version | None, detail: str | None) -> PendingRestart | None:
    installed = item.version
    if running is not None and installed is not None:
        if running > installed:
            return None  # a downgrade waiting for a restart: no update is owed
        replaced = replaced or running < installed
    if not replaced:
        return None
    if running is not None and installed is not None and running < installed:
        reason = f"running {running} since before the update to {installed}"
    elif installed is not None:
        reason = f"running since before the update to {installed}"
    else:
        reason = "running since before its files were replaced"
    if detail:
        reason += f" ({detail})"
    return PendingRestart(item.product, "program", item.path, installed, running, reason)

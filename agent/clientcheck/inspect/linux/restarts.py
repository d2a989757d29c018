"""Linux: updates installed but not yet in effect (see ``inspect.restarts`` for what is shared).

Programs, from ``/proc`` (``processes.ProcProcesses``): a process belongs to an installation when its
program is the installation's program, lies in the application's own folder (``/usr/lib/firefox-esr``,
``/opt/google/chrome``: wrappers such as ``/usr/bin/firefox-esr`` start the real binary there), or, when its
program was deleted, is a file of the installation's package (``/usr/bin/chromium`` is a shell script that
starts ``/usr/lib/chromium/chromium``). It runs an older version when its program file was replaced on disk
since it started (``/proc/<pid>/exe`` is "(deleted)", or is no longer the file at its path), or a library it
mapped from the application's folder was (``libxul.so``). Snaps: the process runs from another revision than
``/snap/<name>/current``. Flatpaks: the sandbox's ``.flatpak-info`` names another commit than the installed
one.

The system: ``/run/reboot-required``, which packages' install scripts create through
update-notifier-common (Ubuntu; Debian where it is installed), with the packages of
``/run/reboot-required.pkgs``; a kernel of the running one's line newer than it, installed in ``/boot`` or
``/usr/lib/modules/<release>/vmlinuz`` (and the running kernel's modules folder gone); the running kernel's
own image replaced since boot (Debian can ship a new build under the same release name). Not in a
container: its kernel is the host's. Fedora's ``needs-restarting -r`` is not run (no subprocess): the kernel
check covers its main case.

On a ``--root`` tree the running kernel and the processes are unknown (the inspector passes None): only
``/run/reboot-required`` in the tree counts.
"""

from __future__ import annotations

import os
import posixpath

from clientcheck.inspect.restarts import Target, annotated_version, inside, verdict
from clientcheck.model import PendingRestart
from clientcheck.version import Version

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from clientcheck.inspect.formats.kernelrelease import KernelRelease
    from clientcheck.inspect.fsroot import Root
    from clientcheck.inspect.packages import PackageDatabase
    from clientcheck.inspect.processes import ProcessSource, Program, SandboxInfo
    from clientcheck.model import Installation

REBOOT_REQUIRED = "/run/reboot-required"
REBOOT_PACKAGES = "/run/reboot-required.pkgs"
MODULE_DIRS = ("/usr/lib/modules", "/lib/modules")
KERNEL_IMAGES = ("vmlinuz", "vmlinux", "Image")  # Image: arm64 on openSUSE
# Files that say we run in a container (podman, docker, systemd-nspawn): the kernel is the host's.
CONTAINER_MARKERS = ("/run/.containerenv", "/.dockerenv", "/run/systemd/container")

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
_DELETED = " (deleted)"


def pending_restarts(
    root: Root,
    os_id: str,
    software: Iterable[Installation],
    *,
    kernel: str | None,
    boot_time: float | None,
    processes: ProcessSource | None,
    databases: Callable[[], Sequence[PackageDatabase]] | None = None,
) -> tuple[PendingRestart, ...]:
    """What is owed a restart on the Linux machine at ``root``: at most one ``system`` record (all the
    reasons the OS needs a restart, joined), then one ``program`` record per installation of ``software``
    still running an older version, in its order.

    ``kernel`` is the running kernel's release and ``boot_time`` when it started, ``processes`` the running
    programs: None for a captured tree. ``databases`` gives the machine's package databases, already open
    (the inspector's). Never raises for what it finds: what cannot be read is not evidence of a restart.
    """
    system = system_restart(root, os_id, kernel, boot_time=boot_time)
    found = [system] if system is not None else []
    if processes is not None:
        found += program_restarts(software, processes, root, databases)
    return tuple(found)


# The operating system ------------------------------------------------------------------------------------


def system_restart(
    root: Root, os_id: str, kernel: str | None, *, boot_time: float | None = None
) -> PendingRestart | None:
    """Whether the Linux system at ``root`` needs a restart. ``kernel`` is the running kernel's release
    (None for a captured tree: only the files then count), ``boot_time`` when it started (epoch seconds)."""
    reasons: list[str] = []
    path: str | None = None
    if root.exists(REBOOT_REQUIRED):
        path = REBOOT_REQUIRED
        packages = _reboot_packages(root.read_text(REBOOT_PACKAGES, limit=1024 * 1024))
        reasons.append(f"the system needs a restart: {REBOOT_REQUIRED}" + (f" ({packages})" if packages else ""))
    if kernel is not None:
        found = kernel_restart(root, kernel, boot_time)
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


def installed_kernels(root: Root) -> dict[str, str]:
    """Installed kernels: release -> the image that shows it. Only an image counts: a modules folder alone
    may be what an uninstall left behind (DKMS modules, generated files)."""
    found: dict[str, str] = {}
    for name in root.listdir("/boot"):
        for image in KERNEL_IMAGES:
            if name.startswith(image + "-") and len(name) > len(image) + 1:
                found.setdefault(name[len(image) + 1 :], f"/boot/{name}")
    for folder in _module_dirs(root):
        for release in root.listdir(folder):
            for image in KERNEL_IMAGES:
                if release not in found and root.is_file(f"{folder}/{release}/{image}"):
                    found[release] = f"{folder}/{release}/{image}"
    return found


def _module_dirs(root: Root) -> list[str]:
    """The kernel modules folders, each once: on a merged /usr (Debian 12, Fedora, Arch), /lib/modules is
    /usr/lib/modules, and would be listed twice."""
    found: dict[str, str] = {}
    for folder in MODULE_DIRS:
        found.setdefault(root.resolve(folder) or folder, folder)
    return list(found.values())


def kernel_restart(root: Root, running_text: str, boot_time: float | None) -> tuple[str, str] | None:
    """(reason, evidence path) when the running kernel is not the one the next boot starts."""
    if any(root.exists(marker) for marker in CONTAINER_MARKERS):
        return None  # the kernel is the host's (checked first: a container need not load the parser)
    installed = installed_kernels(root)
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
    modules = any(root.is_dir(f"{folder}/{running_text}") for folder in MODULE_DIRS)
    if not modules and running_text not in installed and same_line:
        # Removed without a newer one (a downgrade): the modules it would load are gone all the same.
        release, path = max(same_line, key=lambda item: item[0].key)
        return f"kernel {running.text} is running, its modules are gone ({release.text} is installed)", path
    image = installed.get(running_text)
    if image is not None and boot_time is not None:
        host = root.host_path(image)
        try:
            changed = os.stat(host).st_ctime if host is not None else None
        except OSError:
            changed = None
        # A package manager writes a new file and renames it over the old one: its change time is the
        # install's. Nothing else rewrites a kernel image.
        if changed is not None and changed > boot_time + 60:
            return f"kernel {running.text} was replaced on disk after the system started", image
    return None


def boot_time(proc: str = "/proc") -> float | None:
    """When this machine started (the kernel's ``btime``), or None."""
    try:
        with open(f"{proc}/stat", "rb") as stream:
            data = stream.read(1024 * 1024)
    except OSError:
        return None
    at = data.find(b"\nbtime ")
    if at == -1:
        return None
    value = data[at + 7 : data.find(b"\n", at + 1)].strip()
    return float(value) if value.isdigit() else None


# Programs --------------------------------------------------------------------------------------------------


def program_restarts(
    software: Iterable[Installation],
    source: ProcessSource,
    root: Root,
    databases: Callable[[], Sequence[PackageDatabase]] | None = None,
) -> list[PendingRestart]:
    """One record per installation with a process still running an older version than installed.
    ``databases`` gives the machine's package databases, open; without it they are opened here, if needed."""
    targets = [target for item in software if (target := _target(item)) is not None]
    if not targets:
        return []
    sandboxes = _match(targets, source, root, databases)
    found: list[PendingRestart] = []
    for target in targets:
        if not target.programs:
            continue
        if target.kind == "snap":
            record = _judge_snap(target, root)
        elif target.kind == "flatpak":
            record = _judge_flatpak(target, sandboxes, root)
        else:
            record = _judge_files(target, source)
        if record is not None:
            found.append(record)
    return found


def _target(installation: Installation) -> Target | None:
    path = installation.path
    if not path:
        return None
    if installation.source == "snap" and installation.package:
        return Target(installation, "snap", ())
    if installation.source == "flatpak" and installation.package:
        return Target(installation, "flatpak", (path.rstrip("/"),))
    if not path.startswith("/"):
        return None  # a program name that was not found on the machine
    folder = posixpath.dirname(path)
    return Target(installation, "files", (folder,) if _own_folder(folder) else ())


def _own_folder(folder: str) -> bool:
    """Whether a program's folder is its application's own, not one shared by many (/usr/bin, /usr/lib,
    /usr/lib/x86_64-linux-gnu)."""
    return folder not in SHARED_DIRS and "-linux-" not in posixpath.basename(folder)


def _match(
    targets: list[Target],
    source: ProcessSource,
    root: Root,
    databases: Callable[[], Sequence[PackageDatabase]] | None,
) -> dict[int, SandboxInfo]:
    """Gives each target the processes that are its; returns the flatpak sandboxes read on the way (by
    pid), for the verdict to use without reading them again."""
    by_program: dict[str, Target] = {}
    by_folder: dict[str, Target] = {}
    snaps: dict[str, Target] = {}
    flatpaks = [target for target in targets if target.kind == "flatpak"]
    packaged: list[Target] = []
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
    sandboxes: dict[int, SandboxInfo] = {}
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
                info = source.sandbox(program) if flatpaks else None
                target = _flatpak_target(flatpaks, info)
                if target is not None and info is not None:
                    sandboxes[program.pid] = info
            elif exe.startswith(folder_prefixes):
                target = _folder_target(by_folder, exe)
            elif program.deleted and packaged and exe.startswith(PACKAGE_PREFIXES):
                leftovers.append(program)
        if target is not None:
            target.programs.append(program)
    if not leftovers:
        return sandboxes
    # Deleted programs the cheap tests did not place: only the package database can say whose they are. A
    # program found there also makes its folder the application's (/usr/lib/chromium for /usr/bin/chromium),
    # which places its siblings from other packages of the same application (chromium-common's crash handler).
    if databases is not None:
        unplaced = _place_by_package(leftovers, packaged, by_folder, databases())
    else:
        from clientcheck.inspect.packages import open_package_databases

        opened = open_package_databases(root)
        try:
            unplaced = _place_by_package(leftovers, packaged, by_folder, opened)
        finally:
            for database in opened:
                database.close()
    for program in unplaced:
        target = _folder_target(by_folder, program.exe)
        if target is not None:
            target.programs.append(program)
    return sandboxes


def _place_by_package(
    leftovers: list[Program],
    packaged: list[Target],
    by_folder: dict[str, Target],
    databases: Sequence[PackageDatabase],
) -> list[Program]:
    """Gives each deleted program to the installation whose package installed it; returns the others."""
    unplaced: list[Program] = []
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
    return unplaced


def _folder_target(by_folder: dict[str, Target], exe: str) -> Target | None:
    """The installation whose own folder holds ``exe``, at any depth."""
    folder = posixpath.dirname(exe)
    while folder not in ("/", ""):
        target = by_folder.get(folder)
        if target is not None:
            return target
        folder = posixpath.dirname(folder)
    return None


def _package_target(packaged: list[Target], databases: Sequence[PackageDatabase], exe: str) -> Target | None:
    for target in packaged:
        item = target.installation
        for database in databases:
            if database.manager != item.source or not item.package:
                continue
            owner = database.owner(exe, [item.package])
            if owner is not None and owner.package == item.package:
                return target
    return None


def _flatpak_target(flatpaks: list[Target], info: SandboxInfo | None) -> Target | None:
    if info is None:
        return None
    name = info.get("Application", {}).get("name")
    app_path = info.get("Instance", {}).get("app-path", "")
    for target in flatpaks:
        if target.installation.package == name and inside(app_path, target.folders):
            return target
    return None


def _judge_files(target: Target, source: ProcessSource) -> PendingRestart | None:
    """Installed from a package or a tarball: the program or a library replaced on disk."""
    replaced = False
    current: list[Program] = []  # processes that see this machine's files and run the file still there
    ours: list[Program] = []
    for program in sorted(target.programs, key=lambda program: program.pid):
        judged = source.replaced(program)
        if judged is None:
            continue  # another file system (a container, a chrooted sandbox), or gone
        ours.append(program)
        if judged:
            replaced = True
        else:
            current.append(program)
    detail = None
    if not replaced and current and target.folders:
        # The program file itself may be unchanged while the application's libraries were replaced (a
        # tarball Firefox updated in place, a partial update). One process shows it: the lowest pid, usually the
        # parent.
        for path in source.loaded(current[0]):
            if path.endswith(_DELETED) and inside(path[: -len(_DELETED)], target.folders):
                replaced = True
                detail = f"{posixpath.basename(path[: -len(_DELETED)])} was replaced"
                break
    if not ours:
        return None
    return verdict(target.installation, replaced, annotated_version(target, ours, source), detail)


def _judge_snap(target: Target, root: Root) -> PendingRestart | None:
    instance = target.installation.package or ""
    current = root.resolve(f"/snap/{instance}/current")
    installed_revision = posixpath.basename(current) if current else None
    running_revisions = sorted({parts[3] for p in target.programs if len(parts := p.exe.split("/")) > 4})
    old = [revision for revision in running_revisions if revision != installed_revision]
    if installed_revision is None or not old:
        return None
    versions = [version for revision in old if (version := _snap_version(root, instance, revision)) is not None]
    detail = f"snap revision {', '.join(old)}; {installed_revision} is installed"
    return verdict(target.installation, True, min(versions) if versions else None, detail)


def _snap_version(root: Root, instance: str, revision: str) -> Version | None:
    """The version of a revision still mounted (snapd keeps the previous ones)."""
    from clientcheck.inspect.formats.snap import top_level_scalars

    if not revision or revision in (".", ".."):
        return None
    text = root.read_text(f"/snap/{instance}/{revision}/meta/snap.yaml", limit=1024 * 1024)
    return Version.try_parse(top_level_scalars(text).get("version")) if text else None


def _judge_flatpak(target: Target, sandboxes: dict[int, SandboxInfo], root: Root) -> PendingRestart | None:
    base = target.folders[0]
    old: dict[str, str] = {}  # running commit -> its deployment's files
    installed_commit = None
    for program in target.programs:
        info = sandboxes.get(program.pid, {})
        instance = info.get("Instance", {})
        arch, branch = instance.get("arch", ""), instance.get("branch", "")
        app_path = instance.get("app-path", "")
        commit = instance.get("app-commit") or posixpath.basename(posixpath.dirname(app_path))
        if not (arch and branch and commit) or "/" in arch + branch or ".." in (arch, branch):
            continue
        active = root.resolve(f"{base}/{arch}/{branch}/active")
        installed_commit = posixpath.basename(active) if active else None
        if installed_commit and commit != installed_commit:
            old[commit] = app_path
    if not old or installed_commit is None:
        return None
    versions = [version for path in old.values() if (version := _flatpak_version(root, target, path)) is not None]
    commits = ", ".join(commit[:12] for commit in old)
    detail = f"flatpak commit {commits}; {installed_commit[:12]} is installed"
    return verdict(target.installation, True, min(versions) if versions else None, detail)


def _flatpak_version(root: Root, target: Target, app_path: str) -> Version | None:
    """The version of a deployment still on disk (flatpak removes an old one once nothing runs it), read
    as the installed one is."""
    from clientcheck.inspect.linux.versions import flatpak_release

    if not inside(app_path, target.folders):
        return None
    return Version.try_parse(flatpak_release(root, app_path, target.installation.package or "")[0])

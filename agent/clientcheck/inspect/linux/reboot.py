"""Linux: whether the system needs a restart (a reboot) for an update to take effect.

``/run/reboot-required``, which packages' install scripts create through update-notifier-common (Ubuntu;
Debian where it is installed), with the packages of ``/run/reboot-required.pkgs``; a kernel of the running
one's line newer than it, installed in ``/boot`` or ``/usr/lib/modules/<release>/vmlinuz`` (and the running
kernel's modules folder gone); the running kernel's own image replaced since boot (Debian can ship a new
build under the same release name). Not in a container: its kernel is the host's. Fedora's
``needs-restarting -r`` is not run (no subprocess): the kernel check covers its main case.
"""

from __future__ import annotations

import os

from clientcheck.model import PendingRestart

TYPE_CHECKING = False
if TYPE_CHECKING:
    from clientcheck.inspect.formats.kernelrelease import KernelRelease
    from clientcheck.inspect.fsroot import Root

REBOOT_REQUIRED = "/run/reboot-required"
REBOOT_PACKAGES = "/run/reboot-required.pkgs"
MODULE_DIRS = ("/usr/lib/modules", "/lib/modules")
KERNEL_IMAGES = ("vmlinuz", "vmlinux", "Image")  # Image: arm64 on openSUSE
# Files that say we run in a container (podman, docker, systemd-nspawn): the kernel is the host's.
CONTAINER_MARKERS = ("/run/.containerenv", "/.dockerenv", "/run/systemd/container")


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
    for folder in MODULE_DIRS:
        for release in root.listdir(folder):
            for image in KERNEL_IMAGES:
                if release not in found and root.is_file(f"{folder}/{release}/{image}"):
                    found[release] = f"{folder}/{release}/{image}"
    return found


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

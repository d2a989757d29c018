"""How to make an owed update on this machine, from where the installed version came from. Pure."""

from __future__ import annotations

from clientcheck.catalog import is_flatpak_id, is_package_name, is_snap_name
from clientcheck.model import Installation, OSInfo

_APT_LIKE = {"debian", "ubuntu", "linuxmint", "pop", "elementary", "zorin", "kali", "raspbian", "neon"}
_ZYPPER_LIKE = {"opensuse", "opensuse-leap", "opensuse-tumbleweed", "sles", "suse"}
_DNF_LIKE = {"fedora", "rhel", "centos", "rocky", "almalinux", "ol", "amzn"}


def _family(os_info: OSInfo) -> set[str]:
    return {os_info.id, *os_info.id_like}


def _package_manager_upgrade(os_info: OSInfo, package: str | None) -> str | None:
    family = _family(os_info)
    target = f" {package}" if package else ""
    if family & _APT_LIKE:
        return (
            f"sudo apt update && sudo apt install --only-upgrade{target}"
            if package
            else "sudo apt update && sudo apt full-upgrade"
        )
    if family & _ZYPPER_LIKE:
        return f"sudo zypper update{target}"
    if family & _DNF_LIKE:
        return f"sudo dnf upgrade{target}"
    if family & {"arch", "manjaro", "endeavouros"}:
        return "sudo pacman -Syu"  # Arch does not support partial upgrades
    return None


def remedy_for(installation: Installation | None, os_info: OSInfo, *, new_release: bool) -> str | None:
    """A command or short instruction for the person at the machine, or None when we cannot tell."""
    if installation is None:
        return _os_remedy(os_info, new_release=new_release)
    source = installation.source
    package = installation.package
    # Names come from the machine's files: a command is only ever built from one that is a valid name.
    if source == "snap":
        return f"sudo snap refresh {package}" if package and is_snap_name(package) else None
    if source == "flatpak":
        user = " --user" if installation.scope == "user" else ""
        return f"flatpak update{user} {package}" if package and is_flatpak_id(package) else None
    if source in ("dpkg", "rpm", "pacman"):
        return _package_manager_upgrade(os_info, package if package and is_package_name(package) else None)
    if installation.product == "firefox":
        return "Open Firefox, then Menu > Help > About Firefox to update it"
    if installation.category == "browser":
        return f"Open {installation.name} and check for updates in its About page"
    return None


def _os_remedy(os_info: OSInfo, *, new_release: bool) -> str | None:
    if os_info.platform == "windows":
        return "Settings > Windows Update" if not new_release else "Upgrade to a supported Windows release"
    if os_info.platform == "macos":
        return "System Settings > General > Software Update"
    if new_release:
        return f"Upgrade {os_info.name} to a supported release"
    return _package_manager_upgrade(os_info, None)

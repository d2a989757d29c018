"""How to make an owed update on this machine: the instruction (from where the installed version came from)
and the one-click action that starts it, where the OS allows one without privileges of ours. Pure.

The action is chosen by product and OS from the catalog (``catalog.json``: a product's ``update``, the
``systems`` and ``software_centers``), never from the rule file: a rule file only says what is owed.
"""

from __future__ import annotations

from clientcheck.catalog import is_flatpak_id, is_package_name, is_snap_name
from clientcheck.catalog import updater as catalog_updater
from clientcheck.i18n import ENGLISH, N_
from clientcheck.model import FixAction, Installation, OSInfo

TYPE_CHECKING = False
if TYPE_CHECKING:
    from clientcheck.catalog import Catalog
    from clientcheck.i18n import Translation

_APT_LIKE = {"debian", "ubuntu", "linuxmint", "pop", "elementary", "zorin", "kali", "raspbian", "neon"}
_ZYPPER_LIKE = {"opensuse", "opensuse-leap", "opensuse-tumbleweed", "sles", "suse"}
_DNF_LIKE = {"fedora", "rhel", "centos", "rocky", "almalinux", "ol", "amzn"}
_PACKAGED = ("dpkg", "rpm", "pacman", "snap", "flatpak")

# The actions' words (buttons): {name} is the OS's updater, a software center, or the product.
# Translators: a button; {name} is "Windows Update" or macOS's "Software Update".
OPEN_SETTINGS = N_("Open {name}")
# Translators: a button; {name} is a Linux software center: "Software" (GNOME) or "Discover" (KDE).
UPDATE_WITH = N_("Update with {name}")
# Translators: a button that opens a browser's own update page; {name} is the browser.
UPDATE_PAGE = N_("Update {name}")
# Translators: a link to the vendor's page on updating {name}.
HOW_TO_UPDATE = N_("How to update {name}")
# Translators: a link to the vendor's download page of {name}.
DOWNLOAD = N_("Download {name}")
# The names of the updaters people see in their desktop, as catalog.json names them (products keep theirs).
UPDATER_NAMES = (
    # Translators: Windows' own name for its updater, as Settings shows it.
    N_("Windows Update"),
    # Translators: macOS's own name for its updater, as System Settings shows it.
    N_("Software Update"),
    # Translators: GNOME Software's name in the applications menu (fr: Logiciels).
    N_("Software"),
    # Translators: KDE's software center.
    N_("Discover"),
)


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


def remedy_for(
    installation: Installation | None, os_info: OSInfo, *, new_release: bool, t: Translation = ENGLISH
) -> str | None:
    """A command or short instruction for the person at the machine, or None when we cannot tell."""
    if installation is None:
        return _os_remedy(os_info, new_release=new_release, t=t)
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
        return t.gettext("Open Firefox, then Menu > Help > About Firefox to update it")
    if installation.category == "browser":
        return t.gettext("Open {name} and check for updates in its About page", name=installation.name)
    return None


def _os_remedy(os_info: OSInfo, *, new_release: bool, t: Translation) -> str | None:
    if os_info.platform == "windows":
        if new_release:
            return t.gettext("Upgrade to a supported Windows release")
        return t.gettext("Settings > Windows Update")
    if os_info.platform == "macos":
        return t.gettext("System Settings > General > Software Update")
    if new_release:
        return t.gettext("Upgrade {system} to a supported release", system=os_info.name)
    return _package_manager_upgrade(os_info, None)


def fix_for(
    installation: Installation | None,
    os_info: OSInfo,
    catalog: Catalog,
    software_centers: tuple[str, ...] = (),
    *,
    new_release: bool = False,
) -> FixAction | None:
    """The action that starts the update of ``installation`` (None: the OS), or None where there is none.

    - The OS: Windows Update's settings page, or macOS's Software Update; on Linux the software center
      (GNOME Software, KDE Discover) when one is installed, for updates within the release (a new release
      is the administrator's work).
    - What the OS's own updater updates (Safari, Preview): the same as the OS.
    - On Linux, what a package manager, snap or flatpak installed: the software center, even out of support
      (the package moves to the next supported line).
    - A browser with an updater of its own (Windows, macOS, a Linux copy outside the package manager): on
      Linux, its own update page opened in it (a program started from the notification); elsewhere, and
      wherever the program cannot be started from a button, the vendor's page on updating it.
    - Out of support: the vendor's download page, where there is one.
    """
    platform = os_info.platform
    if installation is None:
        return _system_fix(platform, catalog, software_centers, new_release=new_release)
    product = catalog.products.get(installation.product)
    if product is None:
        return None
    updater = catalog_updater(product)
    if updater.system:
        return _system_fix(platform, catalog, software_centers, new_release=False)
    if platform == "linux" and installation.source in _PACKAGED:
        # Out of support too: the distribution's package moves to the next line (Debian's firefox-esr from
        # one ESR to the next), and a download would install a second copy beside the packaged one.
        return _center_fix(catalog, software_centers)
    if new_release:
        return FixAction(DOWNLOAD, installation.name, uri=updater.download) if updater.download else None
    if platform == "linux" and updater.page and installation.path and installation.path.startswith("/"):
        return FixAction(UPDATE_PAGE, installation.name, argv=(installation.path, updater.page))
    link = updater.help or updater.download
    return FixAction(HOW_TO_UPDATE, installation.name, uri=link) if link else None


def _system_fix(
    platform: str, catalog: Catalog, software_centers: tuple[str, ...], *, new_release: bool
) -> FixAction | None:
    if platform == "linux":
        return None if new_release else _center_fix(catalog, software_centers)
    system = catalog.systems.get(platform)
    return FixAction(OPEN_SETTINGS, system[0], uri=system[1]) if system else None


def _center_fix(catalog: Catalog, software_centers: tuple[str, ...]) -> FixAction | None:
    centers = {center.id: center for center in catalog.software_centers}
    for center_id in software_centers:
        center = centers.get(center_id)
        if center is not None:
            return FixAction(UPDATE_WITH, center.name, argv=(center.program, *center.arguments))
    return None

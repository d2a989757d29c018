"""Windows: the OS, browsers and PDF viewers from the registry (live, or a regedit export), and versions
from the install folders on disk where one is given. Importable on every OS: the live registry is reached
only through ``registry.LiveRegistry``, which imports ``winreg`` on Windows alone.

Pitfalls handled (see shared/reference/detection.md): ProductName says "Windows 10" on Windows 11 (the
build decides); Chrome's enterprise MSI registers a mangled DisplayVersion ("69.181.16525"), so MSI
entries of the Chromium family are not trusted for the version; an update can leave a stale Uninstall
entry beside the new one (the newest wins) or a leftover whose folder is gone, or that its updater no
longer registers. A leftover is left out only when the same product is installed elsewhere on the machine:
a missed browser is the worst error this tool can make, so an entry that may be a leftover but is the only
trace of its product is reported, with a warning saying why its version may be stale.

A captured disk (``--root``) is read through ``fsroot.Root``: every path, whatever its ``..`` components
and symlinks, resolves inside the capture, never to the folders of the machine running the check.
"""

from __future__ import annotations

import os
import sys

from clientcheck.catalog import acrobat_track
from clientcheck.inspect.fsroot import Root
from clientcheck.model import Installation, Inventory, OSInfo
from clientcheck.version import Version, VersionError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from clientcheck.catalog import Catalog, Product
    from clientcheck.inspect.registry import Registry
    from clientcheck.model import Scope

CURRENT_VERSION = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"
UNINSTALL = "Microsoft\\Windows\\CurrentVersion\\Uninstall"
MACHINE_SOFTWARE = ("HKEY_LOCAL_MACHINE\\SOFTWARE", "HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node")
PDF_CHOICE = "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\FileExts\\.pdf"
ACROBAT_ENTITLEMENT = "Software\\Adobe\\Adobe Acrobat\\DC\\AVEntitlement"
CHROMIUM_FAMILY = {"chrome", "chromium", "edge", "brave", "opera", "vivaldi"}
# Release channels that follow a product's name in its Uninstall DisplayName: a separate install, judged on
# its own track ("Google Chrome Beta", "Brave Nightly", "Opera GX Stable").
CHANNELS = {"beta", "dev", "canary", "nightly", "gx", "developer", "snapshot"}
EXCLUDED_NAMES = (
    "microsoft edge webview2",
    "microsoft edge update",
    "adobe acrobat customization wizard",
    "brave update",
    "google update",
)
UNIFIED_ACROBAT = "{AC76BA86-1033-1033-7760-BC15014EA700}"  # Adobe's unified Reader/Acrobat installer
WINDOWS_11_FIRST_BUILD = 22000
MAX_EXECUTABLE_BYTES = 1024 * 1024 * 1024  # mapped, not read: only the pages on the way are touched


def read_os(registry: Registry) -> OSInfo:
    key = CURRENT_VERSION
    server = "server" in (registry.string(key, "InstallationType") or "").lower()
    track = "server" if server else "client"  # known even when the build is not: the rules of the track judge
    build_text = registry.string(key, "CurrentBuild") or registry.string(key, "CurrentBuildNumber")
    build = _decimal(build_text)
    if build is None:
        shown = repr(build_text[:40]) + ("…" if len(build_text) > 40 else "") if build_text else repr(build_text)
        return _unread_os(track, f"{key}: CurrentBuild {shown} is not a build number")
    major = registry.integer(key, "CurrentMajorVersionNumber")
    minor = registry.integer(key, "CurrentMinorVersionNumber")
    if major is None:  # before Windows 10: "6.3"
        major_text, _, minor_text = (registry.string(key, "CurrentVersion") or "10.0").partition(".")
        major, minor = _decimal(major_text) or 10, _decimal(minor_text) or 0
    ubr = registry.integer(key, "UBR")
    version_text = f"{major}.{minor or 0}.{build}" + (f".{ubr}" if ubr is not None else "")
    try:
        version = Version(version_text)
    except VersionError:  # a QWORD of 20 digits for UBR or the major version: no version this type reads
        return _unread_os(track, f"{key}: {version_text[:60]!r} is not a Windows version")
    name = registry.string(key, "ProductName") or "Windows"
    if not server and build >= WINDOWS_11_FIRST_BUILD:
        name = name.replace("Windows 10", "Windows 11")  # ProductName was never updated for Windows 11
    release = registry.string(key, "DisplayVersion") or registry.string(key, "ReleaseId")
    return OSInfo(
        platform="windows",
        id="windows",
        name=name,
        version=version,
        pretty_name=f"{name} {release}" if release else name,
        track=track,
        codename=release,
        source=key,
    )


def _unread_os(track: str, problem: str) -> OSInfo:
    # Not ProductName: it says "Windows 10" on Windows 11, and only the build tells them apart.
    return OSInfo(platform="windows", id="windows", name="Windows", version=None, track=track, problem=problem)


class _Candidate:
    """One place that says a product is installed, before duplicates are merged."""

    __slots__ = ("gone", "location", "msi", "package", "product", "raw", "scope", "source", "track", "user")

    def __init__(
        self,
        product: Product,
        scope: Scope,
        user: str | None,
        raw: str | None,
        source: str,
        package: str | None,
        location: str | None,
        msi: bool,
        track: str | None,
    ) -> None:
        self.product, self.scope, self.user, self.raw, self.source = product, scope, user, raw, source
        self.package, self.location, self.msi, self.track = package, location, msi, track
        self.gone = False  # its folder is not on the disk


class WindowsDisk:
    """The machine's system drive: the running machine's own (paths are handed to Windows as they are), or
    a captured disk below a folder of this host. There a path is found as Windows would find it, without
    regard to case, and resolved inside the capture: ``..`` stops at the drive's root, and symlinks (a
    junction, as a Linux mount shows it) lead to the capture's own folders, never to this host's."""

    def __init__(self, base: str, drive: str, *, live: bool) -> None:
        self.drive = drive
        self.live = live
        self.root = None if live else Root(base, fold_case=True)

    def machine_path(self, windows_path: str) -> str | None:
        """The path below the drive's root, ``/``-separated (``/Program Files/Google``); None when it cannot
        be looked at: another drive or a network share, a relative path, an unexpanded ``%variable%``, or an
        8.3 short name (``PROGRA~1``), which a capture does not keep."""
        path = windows_path.strip().strip('"').replace("/", "\\")
        if path.startswith("\\\\?\\"):
            path = path[4:]  # the long-path prefix: \\?\C:\…
        if path.startswith("\\\\"):
            return None  # \\server\share: another machine
        drive, colon, rest = path.partition(":")
        if colon and drive.upper() != self.drive.upper():
            return None
        if not colon:
            rest = path
        if not rest.startswith("\\") or "~" in rest or "%" in rest:
            return None
        return "/" + "/".join(part for part in rest.split("\\") if part)

    def host_path(self, windows_path: str) -> str | None:
        """Where the Windows path is on this host; None when it cannot be looked at."""
        path = self.machine_path(windows_path)
        if path is None:
            return None
        if self.root is None:
            return os.path.join(f"{self.drive}:\\", *path.split("/"))
        return self.root.host_path(path)  # resolved inside the capture, component by component

    def is_dir(self, windows_path: str) -> bool | None:
        """Whether the folder is there; None when that cannot be known."""
        host = self.host_path(windows_path)
        return None if host is None else os.path.isdir(host)

    def listdir(self, windows_path: str) -> list[str]:
        """Names in the folder, sorted; empty when it is missing or cannot be looked at."""
        path = self.machine_path(windows_path)
        if path is None:
            return []
        if self.root is not None:
            return self.root.listdir(path)  # notes a folder that cannot be read in ``problems``
        try:
            return sorted(os.listdir(os.path.join(f"{self.drive}:\\", *path.split("/"))))
        except OSError:
            return []

    @property
    def problems(self) -> list[str]:
        return self.root.problems if self.root is not None else []


def _updater(product: Product) -> str:
    """The updater's name, from its registration's key: "Google\\Update\\Clients\\{…}" -> "Google Update"."""
    client = product.windows.update_clients[0] if product.windows.update_clients else "its updater"
    return " ".join(client.split("\\Clients\\", 1)[0].split("\\"))


def _brave_version(version: Version) -> Version:
    """Brave on Windows writes its version behind Chromium's major ("131.1.73.97"); its own is 1.73.97."""
    if len(version.release) == 4 and version.release[0] >= 100:
        return Version(".".join(str(part) for part in version.release[1:]))
    return version


def _decimal(value: str | None) -> int | None:
    """An ASCII decimal number of at most 9 digits ("26100"); None for anything else ("²²000" is a digit
    string to Python, and a build of 25 digits is no build)."""
    return int(value) if value and len(value) <= 9 and value.isascii() and value.isdigit() else None


class WindowsInspector:
    def __init__(self, registry: Registry, catalog: Catalog, disk: str | None, system_drive: str = "C") -> None:
        self.registry = registry
        self.catalog = catalog
        self.system_drive = system_drive.rstrip(":")
        # The machine's system drive, or None when files cannot be read (a registry export alone).
        live = disk is not None and sys.platform == "win32" and disk == f"{self.system_drive}:\\"
        self.disk = WindowsDisk(disk, self.system_drive, live=live) if disk is not None else None
        self.users = registry.user_roots()
        self.notes: list[str] = []  # warnings for the inventory: entries that may be leftovers
        self._prefixes = sorted(
            (
                (name.lower(), product)
                for product in catalog.products.values()
                for name in product.windows.display_names
            ),
            key=lambda pair: -len(pair[0]),
        )

    # Files on the disk -------------------------------------------------------------------------------------

    def version_folders(self, location: str) -> list[Version]:
        """Chromium-family installs keep a folder named after each installed version beside the program."""
        if self.disk is None:
            return []
        found = []
        for name in self.disk.listdir(location):
            if name[:1].isdigit() and self.disk.is_dir(f"{location}\\{name}"):
                version = Version.try_parse(name)
                if version is not None:
                    found.append(version)
        return sorted(found)

    def file_version(self, location: str, product: Product) -> Version | str | None:
        """The file version of the product's program in ``location``; a problem text when it is damaged."""
        if self.disk is None:
            return None
        for executable in product.windows.executables:
            host = self.disk.host_path(f"{location}\\{executable}")
            if host is None or not os.path.isfile(host):
                continue
            from clientcheck.inspect.formats.pe import PeError, read_file_version

            try:
                raw = read_file_version(host, MAX_EXECUTABLE_BYTES)
            except (OSError, PeError) as error:
                return f"{location}\\{executable}: {error}"
            return Version.try_parse(raw) if raw else None
        return None

    # The registry ------------------------------------------------------------------------------------------

    def product_for(self, display_name: str) -> tuple[Product, str | None] | None:
        """The product an Uninstall DisplayName names, and its channel ("Google Chrome Beta" -> beta).
        Helpers that share a browser's name (WebView2, the updaters) are not the browser."""
        lowered = display_name.lower()
        if any(lowered.startswith(excluded) for excluded in EXCLUDED_NAMES):
            return None
        for prefix, product in self._prefixes:
            if lowered.startswith(prefix) and lowered[len(prefix) : len(prefix) + 1] in ("", " ", "("):
                following = lowered[len(prefix) :].split()
                channel = following[0] if following and following[0] in CHANNELS else None
                return product, channel
        return None

    def uninstall_keys(self) -> list[tuple[str, Scope, str | None]]:
        keys: list[tuple[str, Scope, str | None]] = [
            (f"{software}\\{UNINSTALL}", "system", None) for software in MACHINE_SOFTWARE
        ]
        keys += [(f"{root}\\Software\\{UNINSTALL}", "user", label) for label, root in self.users]
        return keys

    def candidates(self) -> list[_Candidate]:
        found: list[_Candidate] = []
        for key, scope, user in self.uninstall_keys():
            for name in self.registry.subkeys(key):
                entry = f"{key}\\{name}"
                display_name = self.registry.string(entry, "DisplayName")
                if display_name is None or self.registry.string(entry, "ParentKeyName"):
                    continue  # not an application, or an update of one
                matched = self.product_for(display_name)
                if matched is None:
                    continue
                product, channel = matched
                lowered = display_name.lower()
                if product.id == "acrobat" and (
                    lowered.startswith(("adobe acrobat (", "adobe acrobat dc (")) or name.upper() == UNIFIED_ACROBAT
                ):
                    product = self._unified_acrobat()
                track = channel
                if product.id == "firefox":
                    track = "esr" if " esr" in lowered else "release"
                found.append(
                    _Candidate(
                        product,
                        scope,
                        user,
                        self.registry.string(entry, "DisplayVersion"),
                        "uninstall",
                        name,
                        self.registry.string(entry, "InstallLocation"),
                        self.registry.integer(entry, "WindowsInstaller") == 1,
                        track,
                    )
                )
        found += self._update_clients()
        return found

    def _unified_acrobat(self) -> Product:
        """Adobe's unified installer names itself "Adobe Acrobat (64-bit)" for Reader and Acrobat alike; the
        user's entitlement level tells them apart (300 Pro, 200 Standard; Reader has none)."""
        for _, root in self.users:
            level = self.registry.integer(f"{root}\\{ACROBAT_ENTITLEMENT}", "iEntitlementLevel")
            if level is not None and level >= 200:
                return self.catalog.products["acrobat"]
        return self.catalog.products["acrobat-reader"]

    def _update_clients(self) -> list[_Candidate]:
        """Google Update and EdgeUpdate register every browser they keep current, machine-wide or per user,
        with its installed version ("pv")."""
        found = []
        for product in self.catalog.products.values():
            for client in product.windows.update_clients:
                places: list[tuple[str, Scope, str | None]] = [
                    (software, "system", None) for software in MACHINE_SOFTWARE
                ]
                places += [(f"{root}\\Software", "user", label) for label, root in self.users]
                for software, scope, user in places:
                    raw = self.registry.string(f"{software}\\{client}", "pv")
                    if raw is not None:
                        found.append(
                            _Candidate(
                                product,
                                scope,
                                user,
                                raw,
                                "update client",
                                client.rsplit("\\", 1)[-1],
                                None,
                                False,
                                None,
                            )
                        )
        return found

    def _beacon(self, product: Product, user_root: str) -> str | None:
        for vendor in product.windows.beacons:
            raw = self.registry.string(f"{user_root}\\Software\\{vendor}\\BLBeacon", "version")
            if raw is not None:
                return raw
        return None

    # Putting it together ------------------------------------------------------------------------------------

    def software(self) -> list[Installation]:
        """The installations, each once. Warnings about entries that may be leftovers go to ``notes``."""
        groups: dict[tuple[str, str, str | None, str | None, str | None], list[_Candidate]] = {}
        for candidate in self.candidates():
            candidate.gone = self._folder_gone(candidate)
            # Separate installations: another track (Firefox and Firefox ESR side by side), another folder.
            location = None if candidate.product.id in CHROMIUM_FAMILY else (candidate.location or "").lower()
            key = (candidate.product.id, candidate.scope, candidate.user, candidate.track, location or None)
            groups.setdefault(key, []).append(candidate)
        judged: list[tuple[Installation, str | None]] = []  # each installation, and why it may be a leftover
        for group in groups.values():
            present = [candidate for candidate in group if not candidate.gone]
            doubt = None
            if not present:
                present = group
                doubt = f"its folder {group[0].location} is not on the disk"
            elif not self._registered(present):
                doubt = f"{_updater(group[0].product)} does not register it"
            judged.append((self._installation(present), doubt))
        confirmed = {(item.product, item.track) for item, doubt in judged if doubt is None}
        installations = []
        for item, doubt in judged:
            if doubt is not None:
                if (item.product, item.track) in confirmed:
                    continue  # a leftover beside the real installation, which is reported
                where = "machine-wide" if item.scope == "system" else "per-user"
                self.notes.append(
                    f"{item.name} ({where}, {item.version or 'version unknown'}): {doubt}, so it may be a "
                    "leftover of an earlier install; reported, but its version may be stale"
                )
            installations.append(item)
        # The live HKEY_CURRENT_USER is also one of HKEY_USERS' hives: the same per-user install seen twice.
        unique = {(item.product, item.scope, str(item.version), item.path): item for item in installations}
        return list(unique.values())

    def _folder_gone(self, candidate: _Candidate) -> bool:
        """Whether the entry's program folder is known to be gone: a sign of a leftover of an update or an
        uninstall. On the running machine that holds for every program; a captured disk may hold only some
        folders, so there only a Chromium browser (whose folder always holds its version folders) is judged.
        A folder that cannot be looked at (another drive, a network share) is not gone."""
        if self.disk is None or not candidate.location:
            return False
        if not self.disk.live and candidate.product.id not in CHROMIUM_FAMILY:
            return False
        return self.disk.is_dir(candidate.location) is False

    def _registered(self, group: list[_Candidate]) -> bool:
        """Whether a product's entries in one scope are registered with the updater that keeps it current,
        as a browser's real installation is: an Uninstall entry without that registration may be a
        leftover of an update (a machine-wide entry left behind when Chrome moved to a per-user install),
        or the export may just not hold the updater's keys."""
        if not group[0].product.windows.update_clients or self.disk is not None or group[0].track is not None:
            # With the disk at hand the version folders have decided; the catalog knows the updaters'
            # registrations of the stable channels only.
            return True
        return any(candidate.source == "update client" for candidate in group)

    def _installation(self, group: list[_Candidate]) -> Installation:
        product = group[0].product
        first = group[0]
        track = next((c.track for c in group if c.track), product.default_track)
        # (tier, version, candidate, source): the lowest tier that has a version decides, its newest wins.
        # 0: the disk (version folders, the program's file version), 1: the updater's registration,
        # 2: Uninstall DisplayVersion, 3: BLBeacon (the last version *run*, a fallback only).
        versions: list[tuple[int, Version, _Candidate, str]] = []
        problems: list[str] = []
        for candidate in group:
            if candidate.location and product.id in CHROMIUM_FAMILY:
                versions += [(0, v, candidate, "version folder") for v in self.version_folders(candidate.location)]
            if candidate.location and (product.id in CHROMIUM_FAMILY or not candidate.raw):
                found = self.file_version(candidate.location, product)
                if isinstance(found, Version):
                    versions.append((0, found, candidate, "file version"))
                elif found:
                    problems.append(found)
            if candidate.msi and product.id in CHROMIUM_FAMILY:
                problems.append(f"{candidate.package}: an MSI entry's DisplayVersion is not the browser's")
                continue
            if candidate.raw is None:
                continue
            try:
                tier = 1 if candidate.source == "update client" else 2
                versions.append((tier, Version(candidate.raw), candidate, candidate.source))
            except VersionError:
                problems.append(f"{candidate.package}: DisplayVersion {candidate.raw!r} is not a version")
        if first.scope == "user" and first.user is not None:
            root = next((root for label, root in self.users if label == first.user), None)
            beacon = self._beacon(product, root) if root else None
            if beacon is not None and (version := Version.try_parse(beacon)) is not None:
                versions.append((3, version, first, "BLBeacon"))
        if product.id == "brave":
            versions = [(tier, _brave_version(v), c, source) for tier, v, c, source in versions]
        best = None
        if versions:
            best_tier = min(item[0] for item in versions)
            best = max((item for item in versions if item[0] == best_tier), key=lambda item: item[1])
        if product.id in ("acrobat-reader", "acrobat") and best is not None:
            track = acrobat_track(best[1])
        chosen = best[2] if best else first
        return Installation(
            product=product.id,
            category=product.category,
            name=product.display_name(track),
            version=best[1] if best else None,
            track=track,
            scope=first.scope,
            source=f"registry ({best[3]})" if best else "registry",
            path=chosen.location,
            package=chosen.package,
            package_version=best[1].raw if best else first.raw,
            problem=None if best else ("; ".join(problems) or "no version in the registry"),
        )

    def default_pdf(self, installed: list[Installation]) -> tuple[str | None, str | None]:
        """The product whose ProgId opens .pdf for the user (UserChoiceLatest, UserChoice), else the
        machine's class default."""
        # Whose choice: the one real user's hive (what SYSTEM or an administrator sees), else the current
        # user's. Windows 11 24H2 keeps the newest choice in UserChoiceLatest\\ProgId.
        people = [root for label, root in self.users if label != "current user"]
        roots = people if len(people) == 1 else [root for label, root in self.users if label == "current user"]
        places = [
            (f"{root}\\{PDF_CHOICE}\\{choice}", "ProgId")
            for root in roots
            for choice in ("UserChoiceLatest\\ProgId", "UserChoice")
        ]
        places += [("HKEY_CLASSES_ROOT\\.pdf", ""), ("HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\.pdf", "")]
        for key, value in places:
            progid = self.registry.string(key, value)
            if progid:
                return self._product_for_progid(progid, installed), key
        return None, None

    def _product_for_progid(self, progid: str, installed: list[Installation]) -> str:
        lowered = progid.lower()
        matches = sorted(
            (
                (prefix.lower(), product)
                for product in self.catalog.products.values()
                for prefix in product.windows.progids
                if lowered.startswith(prefix.lower())
            ),
            key=lambda pair: -len(pair[0]),
        )
        if not matches:
            return progid
        product_id = matches[0][1].id
        present = {item.product for item in installed}
        if product_id == "acrobat-reader" and "acrobat-reader" not in present and "acrobat" in present:
            return "acrobat"  # Reader and Acrobat register the same ProgIds
        return product_id

    def inventory(self) -> Inventory:
        os_info = read_os(self.registry)
        software = sorted(self.software(), key=lambda item: (item.category, item.product, item.scope))
        default, source = self.default_pdf(software)
        # Once each: the live HKEY_CURRENT_USER is also one of HKEY_USERS' hives.
        warnings = tuple(dict.fromkeys(self.notes)) + tuple(self.disk.problems if self.disk is not None else ())
        return Inventory(
            os=os_info, software=tuple(software), default_pdf=default, default_pdf_source=source, warnings=warnings
        )


def inspect_windows(base: str | None, registry: Registry, *, live: bool) -> Inventory:
    from clientcheck.catalog import load_catalog

    drive = os.environ.get("SYSTEMDRIVE", "C:").rstrip(":\\") if live else "C"
    disk = base if base is not None else (f"{drive}:\\" if live and sys.platform == "win32" else None)
    return WindowsInspector(registry, load_catalog("windows"), disk, system_drive=drive).inventory()

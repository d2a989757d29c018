"""Windows: the OS, browsers and PDF viewers from the registry (live, or a regedit export), and versions
from the install folders on disk where one is given. Importable on every OS: the live registry is reached
only through ``registry.LiveRegistry``, which imports ``winreg`` on Windows alone, and psutil (for the
pending-restart check) is imported only on a live run.

One package, a module per job: ``osinfo`` (the OS from ``CurrentVersion``), ``entries`` (the registry's
entries that say a product is installed), ``disk`` (install folders, version folders, file versions),
``restarts`` (updates waiting for a restart); ``WindowsInspector`` here merges the entries of each
installation and decides its version.

Pitfalls handled (see shared/reference/detection.md): ProductName says "Windows 10" on Windows 11 (the
build decides); Chrome's enterprise MSI registers a mangled DisplayVersion ("69.181.16525"), so MSI
entries of the Chromium family are not trusted for the version; an update can leave a stale Uninstall
entry beside the new one (the newest wins) or a leftover whose folder is gone, or that its updater no
longer registers. A leftover is left out only when the same product is installed elsewhere on the machine:
a missed browser is the worst error this tool can make, so an entry that may be a leftover but is the only
trace of its product is reported, with a warning saying why its version may be stale.
"""

from __future__ import annotations

import sys

from clientcheck.catalog import acrobat_track
from clientcheck.inspect.windows.disk import WindowsDisk
from clientcheck.inspect.windows.entries import RegistryEntries
from clientcheck.inspect.windows.osinfo import read_os
from clientcheck.inspect.windows.restarts import pending_restarts
from clientcheck.model import Installation, Inventory
from clientcheck.version import Version, VersionError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from clientcheck.catalog import Catalog, Product
    from clientcheck.inspect.processes import ProcessSource
    from clientcheck.inspect.registry import Registry
    from clientcheck.inspect.windows.entries import Candidate

__all__ = ["WindowsInspector", "inspect_windows"]

PDF_CHOICE = "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\FileExts\\.pdf"
CHROMIUM_FAMILY = {"chrome", "chromium", "edge", "brave", "opera", "vivaldi"}


def _updater(product: Product) -> str:
    """The updater's name, from its registration's key: "Google\\Update\\Clients\\{…}" -> "Google Update"."""
    client = product.windows.update_clients[0] if product.windows.update_clients else "its updater"
    return " ".join(client.split("\\Clients\\", 1)[0].split("\\"))


def _brave_version(version: Version) -> Version:
    """Brave on Windows writes its version behind Chromium's major ("131.1.73.97"); its own is 1.73.97."""
    if len(version.release) == 4 and version.release[0] >= 100:
        return Version(".".join(str(part) for part in version.release[1:]))
    return version


class WindowsInspector:
    """The Windows machine ``registry`` describes (live, or an export), with its system drive at ``disk``
    (None: no files to read). ``processes`` are the running machine's programs, for the pending-restart
    check; None for an export, whose processes are unknown. Tests inject recorded processes here."""

    def __init__(
        self,
        registry: Registry,
        catalog: Catalog,
        disk: str | None,
        system_drive: str = "C",
        *,
        processes: ProcessSource | None = None,
    ) -> None:
        self.registry = registry
        self.catalog = catalog
        self.system_drive = system_drive.rstrip(":")
        # The machine's system drive, or None when files cannot be read (a registry export alone).
        live = disk is not None and sys.platform == "win32" and disk == f"{self.system_drive}:\\"
        self.disk = WindowsDisk(disk, self.system_drive, live=live) if disk is not None else None
        self.entries = RegistryEntries(registry, catalog)
        self.processes = processes
        self.notes: list[str] = []  # warnings for the inventory: entries that may be leftovers

    def software(self) -> list[Installation]:
        """The installations, each once. Warnings about entries that may be leftovers go to ``notes``."""
        groups: dict[tuple[str, str, str | None, str | None, str | None], list[Candidate]] = {}
        for candidate in self.entries.candidates():
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

    def _folder_gone(self, candidate: Candidate) -> bool:
        """Whether the entry's program folder is known to be gone: a sign of a leftover of an update or an
        uninstall. On the running machine that holds for every program; a captured disk may hold only some
        folders, so there only a Chromium browser (whose folder always holds its version folders) is judged.
        A folder that cannot be looked at (another drive, a network share) is not gone."""
        if self.disk is None or not candidate.location:
            return False
        if not self.disk.live and candidate.product.id not in CHROMIUM_FAMILY:
            return False
        return self.disk.is_dir(candidate.location) is False

    def _registered(self, group: list[Candidate]) -> bool:
        """Whether a product's entries in one scope are registered with the updater that keeps it current,
        as a browser's real installation is: an Uninstall entry without that registration may be a
        leftover of an update (a machine-wide entry left behind when Chrome moved to a per-user install),
        or the export may just not hold the updater's keys."""
        if not group[0].product.windows.update_clients or self.disk is not None or group[0].track is not None:
            # With the disk at hand the version folders have decided; the catalog knows the updaters'
            # registrations of the stable channels only.
            return True
        return any(candidate.source == "update client" for candidate in group)

    def _installation(self, group: list[Candidate]) -> Installation:
        product = group[0].product
        first = group[0]
        track = next((c.track for c in group if c.track), product.default_track)
        # (tier, version, candidate, source): the lowest tier that has a version decides, its newest wins.
        # 0: the disk (version folders, the program's file version), 1: the updater's registration,
        # 2: Uninstall DisplayVersion, 3: BLBeacon (the last version *run*, a fallback only).
        versions: list[tuple[int, Version, Candidate, str]] = []
        problems: list[str] = []
        disk = self.disk
        for candidate in group:
            if disk is not None and candidate.location and product.id in CHROMIUM_FAMILY:
                versions += [(0, v, candidate, "version folder") for v in disk.version_folders(candidate.location)]
            if disk is not None and candidate.location and (product.id in CHROMIUM_FAMILY or not candidate.raw):
                found = disk.file_version(candidate.location, product)
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
            root = next((root for label, root in self.entries.users if label == first.user), None)
            beacon = self.entries.beacon(product, root) if root else None
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

    def default_pdf(self, installed: Sequence[Installation]) -> tuple[str | None, str | None]:
        """The product whose ProgId opens .pdf for the user (UserChoiceLatest, UserChoice), else the
        machine's class default."""
        # Whose choice: the one real user's hive (what SYSTEM or an administrator sees), else the current
        # user's. Windows 11 24H2 keeps the newest choice in UserChoiceLatest\\ProgId.
        people = [root for label, root in self.entries.users if label != "current user"]
        roots = people if len(people) == 1 else [root for label, root in self.entries.users if label == "current user"]
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

    def _product_for_progid(self, progid: str, installed: Sequence[Installation]) -> str:
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
        software = tuple(sorted(self.software(), key=lambda item: (item.category, item.product, item.scope)))
        default, source = self.default_pdf(software)
        # Once each: the live HKEY_CURRENT_USER is also one of HKEY_USERS' hives.
        warnings = tuple(dict.fromkeys(self.notes)) + tuple(self.disk.problems if self.disk is not None else ())
        return Inventory(
            os=os_info,
            software=software,
            default_pdf=default,
            default_pdf_source=source,
            warnings=warnings,
            restarts=pending_restarts(self.registry, software, self.processes),
        )


def inspect_windows(base: str | None, registry: Registry, env: Mapping[str, str], *, live: bool) -> Inventory:
    """The Windows machine ``registry`` describes, with its disk at ``base`` (None: no disk, or the running
    machine's own when ``live``). ``env`` is the running machine's environment (its SYSTEMDRIVE). Only a
    live run looks at processes."""
    from clientcheck.catalog import load_catalog

    drive = env.get("SYSTEMDRIVE", "C:").rstrip(":\\") if live else "C"
    disk = base if base is not None else (f"{drive}:\\" if live and sys.platform == "win32" else None)
    processes = None
    if live:
        from clientcheck.inspect.processes_psutil import running_processes

        processes = running_processes()
    inspector = WindowsInspector(registry, load_catalog("windows"), disk, system_drive=drive, processes=processes)
    return inspector.inventory()

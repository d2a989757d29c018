"""Linux: the version of what a desktop entry starts, from the package that owns it (dpkg, rpm, pacman),
snap and flatpak metadata, or the application's own ``application.ini`` (Firefox)."""

from __future__ import annotations

import posixpath

from clientcheck.catalog import firefox_track, is_flatpak_id, is_snap_name
from clientcheck.inspect.formats.keyfile import parse_keyfile
from clientcheck.inspect.linux.desktop import SNAP_APPLICATIONS, exec_program
from clientcheck.inspect.packages import open_package_databases
from clientcheck.model import Installation
from clientcheck.version import Version, VersionError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from clientcheck.catalog import Product
    from clientcheck.inspect.fsroot import Root
    from clientcheck.inspect.linux.desktop import Entry
    from clientcheck.inspect.packages import Owner, PackageDatabase
    from clientcheck.model import Scope

    # Which installation an entry is: entries that start the same one are merged (a package, a snap).
    Key = tuple[str, ...]

BIN_DIRS = ("/usr/local/bin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/sbin", "/snap/bin")
METAINFO_LIMIT = 4 * 1024 * 1024


def flatpak_release(root: Root, files: str, app_id: str) -> tuple[str | None, str | None]:
    """The newest release an app's AppStream metainfo lists, from a deployment's ``files`` folder: (the
    version, or None; and what was wrong, or None). The files tried in turn are the current name and the
    older one (``.appdata.xml``), each in both folders."""
    from clientcheck.inspect.formats.metainfo import MetainfoError, newest_release

    problem = None
    for name in (f"{app_id}.metainfo.xml", f"{app_id}.appdata.xml"):
        for folder in ("metainfo", "appdata"):
            path = f"{files}/share/{folder}/{name}"
            text = root.read_text(path, limit=METAINFO_LIMIT)
            if text is None:
                continue
            try:
                raw = newest_release(text)
            except MetainfoError as error:
                problem = f"{path}: {error}"
                continue
            if raw:
                return raw, None
            problem = f"{path}: no <release> listed"
            break
    return None, problem


class Versions:
    """Reads installations' versions on the machine at ``root``. Its package databases are opened on first
    use and stay open, for the pending-restart check to ask them too, until ``close``."""

    def __init__(self, root: Root) -> None:
        self.root = root
        self._databases: list[PackageDatabase] | None = None

    def databases(self) -> list[PackageDatabase]:
        if self._databases is None:
            self._databases = open_package_databases(self.root)
        return self._databases

    def close(self) -> None:
        for database in self._databases or ():
            database.close()
        self._databases = None

    def resolve_program(self, program: str | None) -> str | None:
        if not program:
            return None
        if "/" not in program:
            for directory in BIN_DIRS:
                candidate = f"{directory}/{program}"
                if self.root.exists(candidate):
                    return self.root.resolve(candidate)
            return None
        return self.root.resolve(program) if self.root.exists(program) else None

    def firefox_ini(self, program_path: str | None, extra_dirs: tuple[str, ...]) -> tuple[str, dict[str, str]] | None:
        """Firefox's ``application.ini`` ([App] group) beside the program, or in a known install folder."""
        candidates = [posixpath.dirname(program_path)] if program_path else []
        candidates += list(extra_dirs)
        for directory in dict.fromkeys(candidates):
            path = f"{directory}/application.ini"
            text = self.root.read_text(path, limit=64 * 1024)
            if text is not None:
                app = parse_keyfile(text).get("App")
                if app is not None:
                    return path, app
        return None

    def installation(self, entry: Entry, product: Product) -> tuple[Key, Installation]:
        """The installation ``entry`` starts, and the key that tells it apart from others."""
        fields = entry.fields
        flatpak_id = fields.get("X-Flatpak") or (
            entry.desktop_id[: -len(".desktop")] if entry.app_dir.flatpak_base else None
        )
        # Names from a desktop file become paths and remedy commands: only well-formed ones are used.
        if entry.app_dir.flatpak_base and flatpak_id and is_flatpak_id(flatpak_id):
            return self._flatpak(entry, product, entry.app_dir.flatpak_base, flatpak_id)
        snap = fields.get("X-SnapInstanceName") or (
            entry.desktop_id.split("_")[0] if entry.app_dir.path == SNAP_APPLICATIONS else None
        )
        if snap and is_snap_name(snap):
            return self._snap(entry, product, snap)
        return self._packaged(entry, product)

    def _make(
        self,
        product: Product,
        entry: Entry,
        *,
        source: str | None,
        package: str | None = None,
        path: str | None = None,
        scope: Scope | None = None,
        track: str | None = None,
        raw_version: str | None = None,
        problem: str | None = None,
    ) -> Installation:
        version = None
        if raw_version is not None:
            try:
                version = Version(raw_version)
            except VersionError:
                if "snap" in raw_version and source == "dpkg":
                    # Ubuntu's firefox and chromium-browser debs (1:1snap1-0ubuntu5) only install the snap.
                    problem = problem or f"{package} {raw_version} is a transitional package for the snap"
                else:
                    problem = problem or f"{source}: {raw_version!r} is not a version"
        elif problem is None:
            problem = "no version found"
        if product.id == "firefox" and version is not None and version.is_esr:
            track = "esr"
        track = track or product.default_track
        return Installation(
            product=product.id,
            category=product.category,
            name=product.display_name(track),
            version=version,
            track=track,
            scope=scope or entry.app_dir.scope,
            source=source,
            path=path,
            package=package,
            package_version=raw_version,
            desktop_id=entry.desktop_id,
            problem=problem if version is None else None,
        )

    def _flatpak(self, entry: Entry, product: Product, base: str, app_id: str) -> tuple[Key, Installation]:
        active = f"{base}/app/{app_id}/current/active"
        key = ("flatpak", base, app_id)
        scope: Scope = entry.app_dir.scope
        track = product.linux.flatpaks.get(app_id)
        raw: str | None = None
        problem: str | None = None
        if self.root.is_dir(active):
            raw, problem = flatpak_release(self.root, f"{active}/files", app_id)
        else:
            problem = f"{active}: flatpak app folder missing"
        if product.id == "firefox":
            ini = self.firefox_ini(None, (f"{active}/files/lib/firefox",))
            track = firefox_track(ini[1] if ini else None, track)
            if raw is None and ini is not None:
                raw = ini[1].get("Version")
        return key, self._make(
            product,
            entry,
            source="flatpak",
            package=app_id,
            path=f"{base}/app/{app_id}",
            scope=scope,
            track=track,
            raw_version=raw,
            problem=problem or (None if raw else f"{active}: no metainfo with a release"),
        )

    def _snap(self, entry: Entry, product: Product, instance: str) -> tuple[Key, Installation]:
        from clientcheck.inspect.formats.snap import top_level_scalars

        snap_dir = f"/snap/{instance}/current"
        yaml_path = f"{snap_dir}/meta/snap.yaml"
        key = ("snap", instance)
        text = self.root.read_text(yaml_path, limit=1024 * 1024)
        track = product.linux.snaps.get(instance.split("_")[0])
        raw = top_level_scalars(text).get("version") if text is not None else None
        problem = None
        if text is None:
            problem = f"{yaml_path}: missing"
        elif raw is None:
            problem = f"{yaml_path}: no version"
        if product.id == "firefox":
            ini = self.firefox_ini(None, (f"{snap_dir}/usr/lib/firefox",))
            track = firefox_track(ini[1] if ini else None, track)
        return key, self._make(
            product,
            entry,
            source="snap",
            package=instance,
            path=f"/snap/bin/{instance}",
            scope="system",
            track=track,
            raw_version=raw,
            problem=problem,
        )

    def _owner(self, paths: list[str], product: Product) -> Owner | None:
        candidates = list(product.linux.packages)
        for database in self.databases():
            for path in paths:
                owner = database.owner(path, candidates)
                if owner is not None:
                    return owner
        return None

    def _packaged(self, entry: Entry, product: Product) -> tuple[Key, Installation]:
        program = exec_program(entry.fields.get("Exec", "")) if entry.fields else None
        program_path = self.resolve_program(program)
        owner = self._owner([entry.path] + ([program_path] if program_path else []), product)
        ini = None
        if product.id == "firefox":
            ini = self.firefox_ini(program_path, product.linux.app_dirs if owner else ())
        if owner is not None and owner.version is None and ini is not None and ini[1].get("Version"):
            # The package database lost the version (or cannot be read) but the app's own file has it.
            path, app = ini
            return (owner.manager, owner.package), self._make(
                product,
                entry,
                source="application.ini",
                package=owner.package,
                path=program_path,
                scope="system",
                track=firefox_track(app, product.linux.packages.get(owner.package)),
                raw_version=app.get("Version"),
            )
        if owner is not None:
            if product.linux.version_package and owner.package != product.linux.version_package:
                main = next(
                    (o for d in self.databases() if (o := d.package(product.linux.version_package)) is not None), None
                )
                owner = main or owner
            track = product.linux.packages.get(owner.package)
            if product.id == "firefox":
                track = firefox_track(ini[1] if ini else None, track)
            return (owner.manager, owner.package), self._make(
                product,
                entry,
                source=owner.manager,
                package=owner.package,
                path=program_path,
                scope="system",
                track=track,
                raw_version=owner.version,
                problem=owner.problem,
            )
        if ini is not None:
            path, app = ini
            return ("application.ini", path), self._make(
                product,
                entry,
                source="application.ini",
                path=program_path,
                track=firefox_track(app, None),
                raw_version=app.get("Version"),
                problem=None if app.get("Version") else f"{path}: no Version",
            )
        reason = entry.problem or f"{entry.path} belongs to no {product.name} package clientcheck knows"
        if program and not program_path:
            reason += f", and its program {program!r} was not found"
        return ("unowned", entry.path), self._make(
            product, entry, source=None, path=program_path or program, problem=reason
        )

"""Linux: the OS from os-release, browsers and PDF viewers from desktop entries, versions from the package
that owns them (dpkg, rpm, pacman), snap and flatpak metadata, or the application's own files. Reads
files only: no process is launched, so a ``--root`` tree is inspected exactly like the running machine."""

from __future__ import annotations

import os
import posixpath

from clientcheck.catalog import Catalog, Product, firefox_track, is_flatpak_id, is_snap_name
from clientcheck.inspect.formats.keyfile import group_section, key_values, parse_keyfile, split_list
from clientcheck.inspect.formats.osrelease import OsReleaseError, parse_os_release
from clientcheck.inspect.fsroot import Root
from clientcheck.inspect.mimeapps import default_application, mimeapps_files
from clientcheck.inspect.packages import Owner, PackageDatabase, open_package_databases
from clientcheck.model import Installation, Inventory, OSInfo
from clientcheck.record import Record
from clientcheck.version import Version, VersionError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from clientcheck.model import Scope

OS_RELEASE_FILES = ("/etc/os-release", "/usr/lib/os-release")
DEFAULT_DATA_DIRS = ("/usr/local/share", "/usr/share")
DEFAULT_CONFIG_DIRS = ("/etc/xdg",)
SNAP_APPLICATIONS = "/var/lib/snapd/desktop/applications"
PACKAGED_APPLICATIONS = "/usr/share/applications"
SYSTEM_FLATPAK = "/var/lib/flatpak"
BIN_DIRS = ("/usr/local/bin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/sbin", "/snap/bin")
PDF = "application/pdf"
# What an unreadable place may hide (see fsroot.Root.unreadable), as the reports say it.
HIDES_APPLICATIONS = "applications installed there"
HIDES_APPLICATION = "an application"
HIDES_HOMES = "applications installed for one user"
# The [Desktop Entry] keys we read; the rest (translations above all) are never parsed.
DESKTOP_KEYS = ("Type", "Hidden", "Categories", "MimeType", "Exec", "TryExec", "X-Flatpak", "X-SnapInstanceName")


class Home(Record):
    __slots__ = ("path", "data_home", "config_home")

    path: str
    data_home: str
    config_home: str

    def __init__(self, path: str, data_home: str, config_home: str) -> None:
        self._set(locals())


class _AppDir(Record):
    __slots__ = ("path", "scope", "flatpak_base")

    path: str  # a directory holding desktop entries
    scope: Scope
    flatpak_base: str | None  # the flatpak installation whose exports this is

    def __init__(self, path: str, scope: Scope, flatpak_base: str | None = None) -> None:
        self._set(locals())


class _Entry(Record):
    __slots__ = ("desktop_id", "path", "app_dir", "fields", "problem")

    desktop_id: str
    path: str
    app_dir: _AppDir
    fields: dict[str, str]  # the [Desktop Entry] group; empty when the file could not be parsed
    problem: str | None

    def __init__(
        self, desktop_id: str, path: str, app_dir: _AppDir, fields: dict[str, str], problem: str | None
    ) -> None:
        self._set(locals())


def read_os(root: Root, kernel: str | None) -> OSInfo:
    problems: list[str] = []
    for path in OS_RELEASE_FILES:
        text = root.read_text(path)
        if text is None:
            continue
        try:
            values = parse_os_release(text)
        except OsReleaseError as error:
            problems.append(f"{path}: {error}")
            continue
        return _os_from_release(root, path, values, kernel)
    problem = "; ".join(problems) if problems else "no /etc/os-release or /usr/lib/os-release"
    return OSInfo(platform="linux", id="linux", name="Linux", version=None, kernel=kernel, problem=problem)


def _os_from_release(root: Root, path: str, values: dict[str, str], kernel: str | None) -> OSInfo:
    os_id = values.get("ID", "linux").lower() or "linux"
    version_text = values.get("VERSION_ID")
    source = path
    if os_id == "debian" and version_text:
        # Debian's point release ("12.8") is only in /etc/debian_version (os-release says "12").
        point = (root.read_text("/etc/debian_version") or "").strip()
        if point.split(".")[0] == version_text and Version.try_parse(point) is not None:
            version_text, source = point, "/etc/debian_version"
    elif version_text and values.get("VERSION", "").startswith(version_text + "."):
        # Ubuntu: VERSION="24.04.1 LTS (Noble Numbat)" carries the point release VERSION_ID lacks.
        point = values["VERSION"].split()[0]
        if Version.try_parse(point) is not None:
            version_text = point
    version = None
    problem = None
    if version_text:
        try:
            version = Version(version_text)
        except VersionError:
            problem = f"{path}: VERSION_ID {version_text!r} is not a version"
    elif values.get("BUILD_ID") == "rolling" or os_id in ("arch", "opensuse-tumbleweed", "gentoo", "void"):
        problem = "a rolling release has no version number"
    else:
        problem = f"{path}: no VERSION_ID"
    return OSInfo(
        platform="linux",
        id=os_id,
        name=values.get("NAME") or os_id,
        version=version,
        pretty_name=values.get("PRETTY_NAME"),
        track=_os_track(os_id, values),
        codename=values.get("VERSION_CODENAME") or None,
        id_like=tuple(values.get("ID_LIKE", "").lower().split()),
        kernel=kernel,
        source=source,
        problem=problem,
    )


def _os_track(os_id: str, values: dict[str, str]) -> str | None:
    if os_id == "ubuntu":
        # Long-term-support and interim releases have different lifetimes, so rules judge them apart.
        return "lts" if "LTS" in values.get("VERSION", "") else "interim"
    return None


def _exec_tokens(exec_line: str) -> list[str]:
    """The words of an ``Exec=`` line: split at blanks, double quotes group, backslash escapes (the desktop
    entry spec's quoting rules, which are simpler than a shell's)."""
    tokens: list[str] = []
    current: list[str] = []
    quoted = started = False
    characters = iter(exec_line)
    for char in characters:
        if char == "\\":
            current.append(next(characters, ""))
            started = True
        elif char == '"':
            quoted = not quoted
            started = True
        elif char in " \t" and not quoted:
            if started:
                tokens.append("".join(current))
            current, started = [], False
        else:
            current.append(char)
            started = True
    if started:
        tokens.append("".join(current))
    return tokens


def _exec_program(exec_line: str) -> str | None:
    """The program an ``Exec=`` line starts, skipping ``env VAR=value`` prefixes."""
    tokens = _exec_tokens(exec_line)
    if tokens and posixpath.basename(tokens[0]) == "env":
        tokens = tokens[1:]
        while tokens and "=" in tokens[0] and not tokens[0].startswith("/"):
            tokens = tokens[1:]
    return tokens[0] if tokens else None


class LinuxInspector:
    def __init__(
        self,
        root: Root,
        catalog: Catalog,
        env: Mapping[str, str],
        *,
        homes: list[Home],
        kernel: str | None,
    ) -> None:
        self.root = root
        self.catalog = catalog
        self.env = env
        self.homes = homes
        self.kernel = kernel
        self.problems: list[str] = []
        self.desktop_ids: set[str] = set()
        self._databases: list[PackageDatabase] | None = None

    # Where desktop entries live -----------------------------------------------------------------------

    def data_dirs(self) -> list[str]:
        configured = self.env.get("XDG_DATA_DIRS", "")
        # Normalised: Ubuntu's sessions write "/usr/share/", which must still be recognised as /usr/share.
        dirs = [posixpath.normpath(d) for d in configured.split(":") if d.startswith("/")]
        return list(dict.fromkeys(dirs or DEFAULT_DATA_DIRS))

    def config_dirs(self) -> list[str]:
        configured = self.env.get("XDG_CONFIG_DIRS", "")
        dirs = [posixpath.normpath(d) for d in configured.split(":") if d.startswith("/")]
        return list(dict.fromkeys(dirs or DEFAULT_CONFIG_DIRS))

    def app_dirs(self) -> list[_AppDir]:
        dirs: list[_AppDir] = []
        for home in self.homes:
            dirs.append(_AppDir(f"{home.data_home}/applications", "user"))
            base = f"{home.data_home}/flatpak"
            dirs.append(_AppDir(f"{base}/exports/share/applications", "user", base))
        for data_dir in self.data_dirs():
            flatpak = data_dir.removesuffix("/exports/share") if data_dir.endswith("/exports/share") else None
            in_home = flatpak is not None and any(flatpak.startswith(h.path + "/") for h in self.homes)
            dirs.append(_AppDir(f"{data_dir}/applications", "user" if in_home else "system", flatpak))
        dirs.append(_AppDir(f"{SYSTEM_FLATPAK}/exports/share/applications", "system", SYSTEM_FLATPAK))
        dirs.append(_AppDir(SNAP_APPLICATIONS, "system"))
        unique: dict[str, _AppDir] = {}
        for app_dir in dirs:
            unique.setdefault(app_dir.path, app_dir)
        return list(unique.values())

    # Desktop entries -------------------------------------------------------------------------------------

    def entries(self) -> list[_Entry]:
        """The desktop entries of browsers and PDF viewers. Also fills ``self.desktop_ids`` with every
        desktop id present, for the default-application look-up."""
        known_ids = self.catalog.linux_desktop_ids
        found: list[_Entry] = []
        for app_dir in self.app_dirs():
            # The distribution's own folder holds hundreds of entries, all from packages whose desktop ids
            # the catalog lists: read only those there. Elsewhere (per-user, /usr/local, flatpak, snap)
            # an entry may be a browser the catalog knows only by its program, so read every one.
            catalog_only = app_dir.path == PACKAGED_APPLICATIONS
            for relative, path in self.root.walk_files(app_dir.path, ".desktop", hides=HIDES_APPLICATIONS):
                desktop_id = relative.replace("/", "-")
                self.desktop_ids.add(desktop_id)
                if catalog_only and desktop_id not in known_ids:
                    continue
                # An entry the catalog knows is reported unknown when it cannot be read; any other one
                # might be a browser known only by its program, so it is unreadable.
                hides = None if desktop_id in known_ids else HIDES_APPLICATION
                data = self.root.read_bytes(path, limit=1024 * 1024, hides=hides)
                if data is None:
                    if desktop_id in known_ids:
                        found.append(_Entry(desktop_id, path, app_dir, {}, f"{path}: cannot read"))
                    continue
                # Most entries are neither browsers nor PDF viewers: skip them before parsing.
                if desktop_id not in known_ids and b"WebBrowser" not in data and PDF.encode() not in data:
                    continue
                section = group_section(data.decode("utf-8", errors="replace"), "Desktop Entry")
                fields = key_values(section, DESKTOP_KEYS) if section is not None else None
                if fields is None:
                    if desktop_id in known_ids:
                        found.append(_Entry(desktop_id, path, app_dir, {}, f"{path}: not a desktop entry"))
                    else:
                        self.problems.append(f"{path}: not a desktop entry, skipped")
                    continue
                if fields.get("Hidden", "").lower() == "true" or fields.get("Type", "Application") != "Application":
                    continue
                relevant = "WebBrowser" in split_list(fields.get("Categories", "")) or PDF in split_list(
                    fields.get("MimeType", "")
                )
                if desktop_id in known_ids or relevant:
                    found.append(_Entry(desktop_id, path, app_dir, fields, None))
        return found

    def identify(self, entry: _Entry) -> Product | None:
        flatpak_id = entry.fields.get("X-Flatpak")
        if flatpak_id:
            product = self.catalog.by_flatpak(flatpak_id)
            if product is not None:
                return product
        snap = entry.fields.get("X-SnapInstanceName")
        if snap:
            product = self.catalog.by_snap(snap.split("_")[0])
            if product is not None:
                return product
        product = self.catalog.linux_desktop_ids.get(entry.desktop_id)
        if product is not None:
            return product
        program = _exec_program(entry.fields.get("Exec", ""))
        return self.catalog.by_executable(posixpath.basename(program)) if program else None

    # Versions ------------------------------------------------------------------------------------------------

    def databases(self) -> list[PackageDatabase]:
        if self._databases is None:
            self._databases = open_package_databases(self.root)
        return self._databases

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

    def installation(self, entry: _Entry, product: Product) -> tuple[tuple[str, ...], Installation]:
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
        entry: _Entry,
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

    def _flatpak(self, entry: _Entry, product: Product, base: str, app_id: str) -> tuple[tuple[str, ...], Installation]:
        from clientcheck.inspect.formats.metainfo import MetainfoError, newest_release

        active = f"{base}/app/{app_id}/current/active"
        key = ("flatpak", base, app_id)
        scope: Scope = entry.app_dir.scope
        track = product.linux.flatpaks.get(app_id)
        raw: str | None = None
        problem: str | None = None if self.root.is_dir(active) else f"{active}: flatpak app folder missing"
        for name in (f"{app_id}.metainfo.xml", f"{app_id}.appdata.xml") if problem is None else ():
            for folder in ("metainfo", "appdata"):
                path = f"{active}/files/share/{folder}/{name}"
                text = self.root.read_text(path, limit=4 * 1024 * 1024)
                if text is None:
                    continue
                try:
                    raw = newest_release(text)
                except MetainfoError as error:
                    problem = f"{path}: {error}"
                    continue
                problem = None if raw else f"{path}: no <release> listed"
                break
            if raw:
                break
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

    def _snap(self, entry: _Entry, product: Product, instance: str) -> tuple[tuple[str, ...], Installation]:
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

    def _packaged(self, entry: _Entry, product: Product) -> tuple[tuple[str, ...], Installation]:
        program = _exec_program(entry.fields.get("Exec", "")) if entry.fields else None
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

    # The whole machine -----------------------------------------------------------------------------------

    def software(self) -> tuple[list[Installation], dict[str, str]]:
        """Every installation, and which product each installed desktop id belongs to."""
        installations: dict[tuple[str, ...], Installation] = {}
        desktop_products: dict[str, str] = {}
        for entry in self.entries():
            product = self.identify(entry)
            if product is None:
                continue
            key, installation = self.installation(entry, product)
            desktop_products.setdefault(entry.desktop_id, product.id)
            previous = installations.get(key)
            # Of two entries for one installation keep the one that read a version.
            if previous is None or (previous.version is None and installation.version is not None):
                installations[key] = installation
        return list(installations.values()), desktop_products

    def default_pdf(self, installed: set[str]) -> tuple[str, str] | None:
        desktops = [d.lower() for d in self.env.get("XDG_CURRENT_DESKTOP", "").split(":") if d]
        home = self.homes[0] if len(self.homes) == 1 else None
        data_dirs = self.data_dirs()
        files = mimeapps_files(
            home.config_home if home else None,
            self.config_dirs(),
            home.data_home if home else None,
            data_dirs,
            desktops,
        )
        cache_dirs = ([home.data_home] if home else []) + data_dirs
        return default_application(self.root, PDF, files, cache_dirs, installed)

    def inventory(self) -> Inventory:
        os_info = read_os(self.root, self.kernel)
        try:
            software, desktop_products = self.software()
        finally:
            for database in self._databases or ():
                database.close()
            self._databases = None
        software.sort(key=lambda item: (item.category, item.product, item.scope, item.source or ""))
        default = self.default_pdf(self.desktop_ids)
        default_product = desktop_products.get(default[0], default[0]) if default else None
        return Inventory(
            os=os_info,
            software=tuple(software),
            default_pdf=default_product,
            default_pdf_source=default[1] if default else None,
            warnings=tuple(self.problems + self.root.problems),
            unreadable=tuple(self.root.unreadable),
        )


def homes_for(root: Root, env: Mapping[str, str], *, live: bool) -> list[Home]:
    """Whose per-user applications to look at: the current user on the running machine (every user when
    running as root, as fleet tools do); every user on a ``--root`` tree."""
    if live:
        home = env.get("HOME") or os.path.expanduser("~")
        own = Home(
            home, env.get("XDG_DATA_HOME") or f"{home}/.local/share", env.get("XDG_CONFIG_HOME") or f"{home}/.config"
        )
        if not (hasattr(os, "geteuid") and os.geteuid() == 0):
            return [own]  # other users' homes are out of this run's scope, not unreadable
        others = [_default_home(f"/home/{name}") for name in root.listdir("/home", hides=HIDES_HOMES)]
        return [own] + [h for h in others if h.path != home and root.is_dir(h.path)]
    homes = [_default_home(f"/home/{name}") for name in root.listdir("/home", hides=HIDES_HOMES)]
    homes = [home for home in homes if root.is_dir(home.path)]
    if root.is_dir("/root/.local/share") or root.is_dir("/root/.config"):
        homes.append(_default_home("/root"))
    return homes


def _default_home(path: str) -> Home:
    return Home(path, f"{path}/.local/share", f"{path}/.config")


def inspect_linux(base: str, env: Mapping[str, str], *, live: bool) -> Inventory:
    from clientcheck.catalog import load_catalog

    root = Root(base)
    kernel = os.uname().release if live and hasattr(os, "uname") else None
    inspector = LinuxInspector(root, load_catalog("linux"), env, homes=homes_for(root, env, live=live), kernel=kernel)
    return inspector.inventory()

"""Linux: the desktop's view of the machine. Desktop entries (per user, system-wide, flatpak and snap
exports) say which browsers and PDF viewers are installed, and which product each is; the mime-apps files
say which one opens PDFs (resolved as the freedesktop mime-apps spec and ``xdg-mime query default`` do it,
but by reading the files instead of launching anything)."""

from __future__ import annotations

import os
import posixpath

from clientcheck.inspect.formats.keyfile import group_section, key_value, key_values, split_list
from clientcheck.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Container, Mapping, Sequence

    from clientcheck.catalog import Catalog, Product
    from clientcheck.inspect.fsroot import Root
    from clientcheck.model import Scope

DEFAULT_DATA_DIRS = ("/usr/local/share", "/usr/share")
DEFAULT_CONFIG_DIRS = ("/etc/xdg",)
SNAP_APPLICATIONS = "/var/lib/snapd/desktop/applications"
PACKAGED_APPLICATIONS = "/usr/share/applications"
SYSTEM_FLATPAK = "/var/lib/flatpak"
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


class AppDir(Record):
    __slots__ = ("path", "scope", "flatpak_base")

    path: str  # a directory holding desktop entries
    scope: Scope
    flatpak_base: str | None  # the flatpak installation whose exports this is

    def __init__(self, path: str, scope: Scope, flatpak_base: str | None = None) -> None:
        self._set(locals())


class Entry(Record):
    __slots__ = ("desktop_id", "path", "app_dir", "fields", "problem")

    desktop_id: str
    path: str
    app_dir: AppDir
    fields: dict[str, str]  # the [Desktop Entry] group; empty when the file could not be parsed
    problem: str | None

    def __init__(
        self, desktop_id: str, path: str, app_dir: AppDir, fields: dict[str, str], problem: str | None
    ) -> None:
        self._set(locals())


def exec_tokens(exec_line: str) -> list[str]:
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


def exec_program(exec_line: str) -> str | None:
    """The program an ``Exec=`` line starts, skipping ``env VAR=value`` prefixes."""
    tokens = exec_tokens(exec_line)
    if tokens and posixpath.basename(tokens[0]) == "env":
        tokens = tokens[1:]
        while tokens and "=" in tokens[0] and not tokens[0].startswith("/"):
            tokens = tokens[1:]
    return tokens[0] if tokens else None


class Desktop:
    """The desktop entries of ``homes`` and the system, as the environment ``env`` (XDG_DATA_DIRS,
    XDG_CONFIG_DIRS, XDG_CURRENT_DESKTOP) lays them out."""

    def __init__(self, root: Root, catalog: Catalog, env: Mapping[str, str], homes: list[Home]) -> None:
        self.root = root
        self.catalog = catalog
        self.env = env
        self.homes = homes
        self.problems: list[str] = []
        self.desktop_ids: set[str] = set()

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

    def app_dirs(self) -> list[AppDir]:
        dirs: list[AppDir] = []
        for home in self.homes:
            dirs.append(AppDir(f"{home.data_home}/applications", "user"))
            base = f"{home.data_home}/flatpak"
            dirs.append(AppDir(f"{base}/exports/share/applications", "user", base))
        for data_dir in self.data_dirs():
            flatpak = data_dir.removesuffix("/exports/share") if data_dir.endswith("/exports/share") else None
            in_home = flatpak is not None and any(flatpak.startswith(h.path + "/") for h in self.homes)
            dirs.append(AppDir(f"{data_dir}/applications", "user" if in_home else "system", flatpak))
        dirs.append(AppDir(f"{SYSTEM_FLATPAK}/exports/share/applications", "system", SYSTEM_FLATPAK))
        dirs.append(AppDir(SNAP_APPLICATIONS, "system"))
        unique: dict[str, AppDir] = {}
        for app_dir in dirs:
            unique.setdefault(app_dir.path, app_dir)
        return list(unique.values())

    # Desktop entries -------------------------------------------------------------------------------------

    def entries(self) -> list[Entry]:
        """The desktop entries of browsers and PDF viewers. Also fills ``self.desktop_ids`` with every
        desktop id present, for the default-application look-up."""
        known_ids = self.catalog.linux_desktop_ids
        found: list[Entry] = []
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
                        found.append(Entry(desktop_id, path, app_dir, {}, f"{path}: cannot read"))
                    continue
                # Most entries are neither browsers nor PDF viewers: skip them before parsing.
                if desktop_id not in known_ids and b"WebBrowser" not in data and PDF.encode() not in data:
                    continue
                section = group_section(data.decode("utf-8", errors="replace"), "Desktop Entry")
                fields = key_values(section, DESKTOP_KEYS) if section is not None else None
                if fields is None:
                    if desktop_id in known_ids:
                        found.append(Entry(desktop_id, path, app_dir, {}, f"{path}: not a desktop entry"))
                    else:
                        self.problems.append(f"{path}: not a desktop entry, skipped")
                    continue
                if fields.get("Hidden", "").lower() == "true" or fields.get("Type", "Application") != "Application":
                    continue
                relevant = "WebBrowser" in split_list(fields.get("Categories", "")) or PDF in split_list(
                    fields.get("MimeType", "")
                )
                if desktop_id in known_ids or relevant:
                    found.append(Entry(desktop_id, path, app_dir, fields, None))
        return found

    def identify(self, entry: Entry) -> Product | None:
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
        program = exec_program(entry.fields.get("Exec", ""))
        return self.catalog.by_executable(posixpath.basename(program)) if program else None

    def software_centers(self) -> tuple[str, ...]:
        """The catalog's software centers whose desktop entry is installed (call ``entries`` first), the
        ones this desktop (XDG_CURRENT_DESKTOP) prefers first: where a person can install updates."""
        desktops = {d.upper() for d in self.env.get("XDG_CURRENT_DESKTOP", "").split(":") if d}
        found = [
            center
            for center in self.catalog.software_centers
            if any(desktop_id in self.desktop_ids for desktop_id in center.desktop_ids)
        ]
        found.sort(key=lambda center: not desktops & {d.upper() for d in center.desktops})
        return tuple(center.id for center in found)

    # The default PDF viewer ------------------------------------------------------------------------------

    def default_pdf(self) -> tuple[str, str] | None:
        """The desktop id that opens PDFs, of those installed (call ``entries`` first), and the file that
        says so."""
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
        return default_application(self.root, PDF, files, cache_dirs, self.desktop_ids)


# Default applications (the mime-apps spec) ------------------------------------------------------------------


def mimeapps_files(
    config_home: str | None,
    config_dirs: Sequence[str],
    data_home: str | None,
    data_dirs: Sequence[str],
    desktops: Sequence[str],
) -> list[str]:
    """The ``mimeapps.list`` files to consult, most important first (spec: "File name and location")."""
    files: list[str] = []

    def add(directory: str | None) -> None:
        if directory:
            files.extend(f"{directory}/{desktop}-mimeapps.list" for desktop in desktops)
            files.append(f"{directory}/mimeapps.list")

    add(config_home)
    for directory in config_dirs:
        add(directory)
    add(f"{data_home}/applications" if data_home else None)  # deprecated location, still honoured
    for directory in data_dirs:
        add(f"{directory}/applications")
    return files


def default_application(
    root: Root,
    mime_type: str,
    mimeapps: Sequence[str],
    data_dirs_for_cache: Sequence[str],
    installed: Container[str],
) -> tuple[str, str] | None:
    """(desktop id, file that decided it) of the default application for ``mime_type``, or None.

    ``installed`` holds the desktop ids present on the machine: a default naming an application that is
    not installed is skipped, as the spec requires.
    """
    texts = [(path, text) for path in mimeapps if (text := root.read_text(path)) is not None]
    for path, text in texts:
        for desktop_id in _listed(text, "Default Applications", mime_type):
            if desktop_id in installed:
                return desktop_id, path
    # No installed default: the associations users added, each file's removals hiding lower files' ones.
    removed: set[str] = set()
    for path, text in texts:
        for desktop_id in _listed(text, "Added Associations", mime_type):
            if desktop_id in installed and desktop_id not in removed:
                return desktop_id, path
        removed.update(_listed(text, "Removed Associations", mime_type))
    # No default set anywhere: GNOME's legacy defaults.list, then the most preferred application that
    # declares the type, in data-directory order (what mimeinfo.cache records).
    for cache_name, group in (("defaults.list", "Default Applications"), ("mimeinfo.cache", "MIME Cache")):
        for directory in data_dirs_for_cache:
            path = f"{directory}/applications/{cache_name}"
            text = root.read_text(path)
            if text is None:
                continue
            for desktop_id in _listed(text, group, mime_type):
                if desktop_id in installed and desktop_id not in removed:
                    return desktop_id, path
    return None


def _listed(text: str, group: str, mime_type: str) -> list[str]:
    section = group_section(text, group)
    value = key_value(section, mime_type) if section is not None else None
    return split_list(value) if value else []


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

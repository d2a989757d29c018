"""The product catalog: which products exist and where each is found. The data is ``data/catalog.json``."""

from __future__ import annotations

import os

from clientcheck import DATA_DIR
from clientcheck.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from clientcheck.model import Category
    from clientcheck.version import Version

_CATALOG_FILE = os.path.join(DATA_DIR, "catalog.json")


# What valid names look like. Names read from a machine (a desktop entry's X-SnapInstanceName, an rpm
# header's NAME) are checked before they are used as a path or shown in a command for a person to run, so a
# crafted file cannot smuggle shell text into "How: sudo snap refresh …".
_LOWER_DIGITS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_PACKAGE_CHARS = _LOWER_DIGITS | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ@._+-")
_FLATPAK_CHARS = _LOWER_DIGITS | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ_-")


def is_package_name(name: str) -> bool:
    """A dpkg, rpm or pacman package name: ``firefox-esr``, ``libstdc++6``, ``google-chrome-stable``."""
    return 0 < len(name) <= 128 and name[0].isascii() and name[0].isalnum() and set(name) <= _PACKAGE_CHARS


def is_snap_name(name: str) -> bool:
    """A snap instance name: ``firefox``, ``firefox_esr`` (name and optional instance key)."""
    snap, _, key = name.partition("_")
    return (
        0 < len(snap) <= 40
        and set(snap) <= _LOWER_DIGITS | {"-"}
        and snap[0] != "-"
        and (not key or (len(key) <= 10 and set(key) <= _LOWER_DIGITS))
        and not name.endswith("_")
    )


def is_flatpak_id(app_id: str) -> bool:
    """A flatpak application id: reverse DNS, three or more parts, none starting with a digit."""
    parts = app_id.split(".")
    return (
        len(app_id) <= 255
        and len(parts) >= 3
        and all(part and not part[0].isdigit() and set(part) <= _FLATPAK_CHARS for part in parts)
    )


def firefox_track(app: dict[str, str] | None, fallback: str | None) -> str | None:
    """Firefox's track from the [App] group of its application.ini: ESR shares Firefox's name, bundle id
    and (on macOS) version style, but not its RemotingName or source repository."""
    if app is None:
        return fallback
    if (
        app.get("RemotingName", "").endswith("-esr")
        or "mozilla-esr" in app.get("SourceRepository", "")
        or app.get("Version", "").endswith("esr")
    ):
        return "esr"
    return fallback or "release"


def acrobat_track(version: Version) -> str | None:
    """Acrobat's track from its version: Continuous builds look like 24.002.20933, Classic ones like
    20.005.30574 or 24.001.30429 (third field 2xxxx / 3xxxx; inferred from Adobe's published builds)."""
    if len(version.release) < 3 or len(str(version.release[2])) != 5:
        return None
    return {"2": "continuous", "3": "classic"}.get(str(version.release[2])[0])


class LinuxPlaces(Record):
    __slots__ = ("desktop_ids", "packages", "flatpaks", "snaps", "executables", "app_dirs", "version_package")

    desktop_ids: tuple[str, ...]
    packages: dict[str, str | None]  # package -> track it installs
    flatpaks: dict[str, str | None]  # app id -> track
    snaps: dict[str, str | None]  # snap name -> track
    executables: tuple[str, ...]
    app_dirs: tuple[str, ...]
    version_package: str | None  # whose version is the product's when a plugin package owns the entry

    def __init__(
        self,
        desktop_ids: tuple[str, ...],
        packages: dict[str, str | None],
        flatpaks: dict[str, str | None],
        snaps: dict[str, str | None],
        executables: tuple[str, ...],
        app_dirs: tuple[str, ...],
        version_package: str | None,
    ) -> None:
        self._set(locals())


class MacPlaces(Record):
    __slots__ = ("bundle_ids", "app_names", "version_key", "version_scheme")

    bundle_ids: tuple[str, ...]  # CFBundleIdentifier values
    app_names: tuple[str, ...]  # bundle folder names, to name an app whose Info.plist cannot be read
    version_key: str  # the Info.plist key holding the version
    version_scheme: str | None  # "brave" (CFBundleVersion encodes 1.75.181 as 175.181), "acrobat" (tracks)

    def __init__(
        self, bundle_ids: tuple[str, ...], app_names: tuple[str, ...], version_key: str, version_scheme: str | None
    ) -> None:
        self._set(locals())


class WindowsPlaces(Record):
    __slots__ = ("display_names", "beacons", "update_clients", "progids", "executables")

    display_names: tuple[str, ...]  # Uninstall DisplayName prefixes
    beacons: tuple[str, ...]  # Software\<vendor> keys whose BLBeacon holds the version (Chromium family)
    update_clients: tuple[str, ...]  # EdgeUpdate\Clients\{app id} keys with "pv"
    progids: tuple[str, ...]  # ProgId prefixes naming the product in a file association
    executables: tuple[str, ...]  # the program, relative to the install folder, whose file version counts

    def __init__(
        self,
        display_names: tuple[str, ...],
        beacons: tuple[str, ...],
        update_clients: tuple[str, ...],
        progids: tuple[str, ...],
        executables: tuple[str, ...],
    ) -> None:
        self._set(locals())


class Updater(Record):
    """How a person starts an update of a product themselves (``catalog.json``: ``update``)."""

    __slots__ = ("page", "help", "download", "system")

    page: str | None  # the browser's own update page, opened in that browser: chrome://settings/help
    help: str | None  # the vendor's page on updating it (https)
    download: str | None  # the vendor's download page (https)
    system: bool  # updated by the OS's own updater (Safari, Preview)

    def __init__(self, page: str | None, help: str | None, download: str | None, system: bool) -> None:
        self._set(locals())


class SoftwareCenter(Record):
    """A Linux program that installs updates for a person: GNOME Software, KDE Discover."""

    __slots__ = ("id", "name", "desktop_ids", "desktops", "program", "arguments")

    id: str
    name: str
    desktop_ids: tuple[str, ...]
    desktops: tuple[str, ...]  # XDG_CURRENT_DESKTOP names that prefer it
    program: str  # found on PATH when started
    arguments: tuple[str, ...]  # open its updates page

    def __init__(
        self,
        id: str,
        name: str,
        desktop_ids: tuple[str, ...],
        desktops: tuple[str, ...],
        program: str,
        arguments: tuple[str, ...],
    ) -> None:
        self._set(locals())


class Product(Record):
    __slots__ = ("id", "category", "name", "default_track", "track_names", "linux", "macos", "windows", "update")

    id: str
    category: Category
    name: str
    default_track: str | None
    track_names: dict[str, str]
    linux: LinuxPlaces
    macos: MacPlaces
    windows: WindowsPlaces
    update: dict[str, Any]  # catalog.json's "update": see ``updater``

    def __init__(
        self,
        id: str,
        category: Category,
        name: str,
        default_track: str | None,
        track_names: dict[str, str],
        linux: LinuxPlaces,
        macos: MacPlaces,
        windows: WindowsPlaces,
        update: dict[str, Any],
    ) -> None:
        self._set(locals())

    def display_name(self, track: str | None) -> str:
        return self.track_names.get(track or "", self.name)


class Catalog:
    def __init__(self, products: dict[str, Product], document: dict[str, Any] | None = None) -> None:
        self.products = products
        self._document = document or {}  # what only some runs need is read from it when asked for
        self.linux_desktop_ids = {d: p for p in products.values() for d in p.linux.desktop_ids}
        self._executables = {e: p for p in products.values() for e in p.linux.executables}
        self._flatpaks = {f: p for p in products.values() for f in p.linux.flatpaks}
        self._snaps = {s: p for p in products.values() for s in p.linux.snaps}
        # LaunchServices writes bundle ids in lower case: look them up without case.
        self._bundle_ids = {b.lower(): p for p in products.values() for b in p.macos.bundle_ids}
        self._app_names = {a: p for p in products.values() for a in p.macos.app_names}

    @property
    def systems(self) -> dict[str, tuple[str, str]]:
        """Platform -> (the OS updater's name, the URI that opens it)."""
        return {
            name: (entry["name"], entry["uri"])
            for name, entry in self._document.get("systems", {}).items()
            if name != "comment"
        }

    @property
    def software_centers(self) -> tuple[SoftwareCenter, ...]:
        return _centers(self._document.get("software_centers", {}))

    def by_executable(self, name: str) -> Product | None:
        return self._executables.get(name)

    def by_flatpak(self, app_id: str) -> Product | None:
        return self._flatpaks.get(app_id)

    def by_snap(self, snap: str) -> Product | None:
        return self._snaps.get(snap)

    def by_bundle_id(self, bundle_id: str) -> Product | None:
        return self._bundle_ids.get(bundle_id.lower())

    def by_app_name(self, name: str) -> Product | None:
        return self._app_names.get(name)


def _linux(raw: dict[str, Any]) -> LinuxPlaces:
    return LinuxPlaces(
        desktop_ids=tuple(raw.get("desktop_ids", ())),
        packages=dict(raw.get("packages", {})),
        flatpaks=dict(raw.get("flatpaks", {})),
        snaps=dict(raw.get("snaps", {})),
        executables=tuple(raw.get("executables", ())),
        app_dirs=tuple(raw.get("app_dirs", ())),
        version_package=raw.get("version_package"),
    )


def _macos(raw: dict[str, Any]) -> MacPlaces:
    return MacPlaces(
        bundle_ids=tuple(raw.get("bundle_ids", ())),
        app_names=tuple(raw.get("app_names", ())),
        version_key=raw.get("version_key", "CFBundleShortVersionString"),
        version_scheme=raw.get("version_scheme"),
    )


def _windows(raw: dict[str, Any]) -> WindowsPlaces:
    return WindowsPlaces(*(tuple(raw.get(key, ())) for key in WindowsPlaces.__slots__))


_NO_UPDATE: dict[str, Any] = {}


def updater(product: Product) -> Updater:
    """How a person starts an update of ``product`` themselves (read when something is owed, not before)."""
    raw = product.update
    return Updater(raw.get("page"), raw.get("help"), raw.get("download"), bool(raw.get("system", False)))


def _centers(raw: dict[str, Any]) -> tuple[SoftwareCenter, ...]:
    return tuple(
        SoftwareCenter(
            id=center_id,
            name=entry["name"],
            desktop_ids=tuple(entry["desktop_ids"]),
            desktops=tuple(entry.get("desktops", ())),
            program=entry["program"],
            arguments=tuple(entry.get("arguments", ())),
        )
        for center_id, entry in raw.items()
        if center_id != "comment"
    )


def parse_catalog(document: dict[str, Any], platform: str | None = None) -> Catalog:
    """The catalog; with ``platform``, only that platform's places are read (the others are left empty):
    an inspection needs one platform's, and building the rest would cost every login run for nothing."""

    empty_linux, empty_macos, empty_windows = _linux({}), _macos({}), _windows({})

    products = {
        product_id: Product(
            id=product_id,
            category=raw["category"],
            name=raw["name"],
            default_track=raw.get("default_track"),
            track_names=dict(raw.get("track_names", {})),
            linux=_linux(raw.get("linux", {})) if platform in (None, "linux") else empty_linux,
            macos=_macos(raw.get("macos", {})) if platform in (None, "macos") else empty_macos,
            windows=_windows(raw.get("windows", {})) if platform in (None, "windows") else empty_windows,
            update=raw.get("update") or _NO_UPDATE,
        )
        for product_id, raw in document["products"].items()
    }
    return Catalog(products, document)


_loaded: dict[str | None, Catalog] = {}  # a run may ask more than once; functools would cost an import


def load_catalog(platform: str | None = None) -> Catalog:
    catalog = _loaded.get(platform)
    if catalog is None:
        from clientcheck.cjson import loads

        with open(_CATALOG_FILE, "rb") as stream:
            catalog = _loaded[platform] = parse_catalog(loads(stream.read().decode("utf-8")), platform)
    return catalog

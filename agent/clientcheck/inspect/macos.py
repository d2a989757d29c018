"""macOS: the OS from SystemVersion.plist (with a Rapid Security Response from its cryptex copy), browsers
and PDF viewers from app bundles' Info.plist, the default PDF viewer from LaunchServices. Files only, no
``sw_vers``, ``mdfind`` or ``defaults``: the same code reads the running Mac and a ``--root`` tree.

Updates waiting for a restart (see ``inspect.restarts``), on the running Mac only: through psutil, a process
whose program lies in an installation's app bundle. A Chromium browser's running version is read from its
framework's version folder (``… Framework.framework/Versions/131.0.6778.86/``, in helper programs' paths and
open files) and compared with the installed one; otherwise the only evidence is a program file created
after the process started. The OS itself: nothing. An OS update is staged, not installed, until the restart
applies it to the sealed system volume, so the system version on disk is always the one running; no file
says reliably that a staged update waits (``/Library/Updates`` and the SoftwareUpdate preferences lag and
linger).

Importable on every OS: ``plistlib`` is the standard library's (it reads XML and binary plists alike), and
psutil is imported only on a live run.
"""

from __future__ import annotations

import os

from clientcheck.catalog import acrobat_track, firefox_track
from clientcheck.inspect.fsroot import Root
from clientcheck.inspect.restarts import folder_restarts
from clientcheck.model import Installation, Inventory, OSInfo
from clientcheck.version import Version, VersionError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

    from clientcheck.catalog import Catalog
    from clientcheck.inspect.processes import ProcessSource
    from clientcheck.model import PendingRestart, Scope

SYSTEM_VERSION = "/System/Library/CoreServices/SystemVersion.plist"
# Programs built with an old SDK are shown SystemVersionCompat.plist (10.16, or 16.0 on macOS 26) when they
# open SystemVersion.plist; this copy is never redirected, so it is read first where it exists.
PLATFORM_VERSION = "/System/Library/CoreServices/.SystemVersionPlatform.plist"
PREBOOT = "/System/Volumes/Preboot"
APP_FOLDERS = ("/Applications", "/System/Applications", "/System/Cryptexes/App/System/Applications")
LAUNCH_SERVICES = "Library/Preferences/com.apple.LaunchServices/com.apple.launchservices.secure.plist"
PDF_CONTENT_TYPE = "com.adobe.pdf"
FRAMEWORK_VERSIONS = ".framework/Versions/"  # a Chromium browser's framework keeps a folder per version
# What an unreadable place may hide (see fsroot.Root.unreadable), as the reports say it.
HIDES_APPLICATIONS = "applications installed there"
HIDES_APPLICATION = "an application"
HIDES_HOMES = "applications installed for one user"
# Marketing names by major version, for display only (comparisons use the numbers).
NAMES = {11: "Big Sur", 12: "Monterey", 13: "Ventura", 14: "Sonoma", 15: "Sequoia", 26: "Tahoe"}


class PlistError(ValueError):
    pass


def parse_plist(data: bytes) -> dict[str, Any]:
    """A plist's top-level dictionary, XML or binary."""
    import plistlib  # only on macOS inspections: it pulls in the XML parser

    try:
        value = plistlib.loads(data)
    except Exception as error:
        raise PlistError(f"not a property list ({type(error).__name__})") from None
    if not isinstance(value, dict):
        raise PlistError("not a dictionary")
    return value


def _read_plist(root: Root, path: str, hides: str | None = None) -> tuple[dict[str, Any] | None, str | None]:
    data = root.read_bytes(path, limit=8 * 1024 * 1024, hides=hides)
    if data is None:
        return None, f"{path}: missing"
    try:
        return parse_plist(data), None
    except PlistError as error:
        return None, f"{path}: {error}"


def _unread_os(kernel: str | None, source: str | None, problem: str) -> OSInfo:
    return OSInfo(
        platform="macos", id="macos", name="macOS", version=None, kernel=kernel, source=source, problem=problem
    )


def read_os(root: Root, kernel: str | None) -> OSInfo:
    plist, problem = _read_plist(root, PLATFORM_VERSION) if root.is_file(PLATFORM_VERSION) else (None, None)
    if plist is None or not isinstance(plist.get("ProductVersion"), str):
        plist, problem = _read_plist(root, SYSTEM_VERSION)
    version_text = plist.get("ProductVersion") if plist else None
    if not isinstance(version_text, str):
        return _unread_os(kernel, None, problem or f"{SYSTEM_VERSION}: no ProductVersion")
    assert plist is not None  # noqa: S101 - for mypy: version_text came from it
    build = plist.get("ProductBuildVersion")
    source = SYSTEM_VERSION
    # A Rapid Security Response does not touch SystemVersion.plist: its cryptex copy on the Preboot volume
    # carries the "(a)" and the new build.
    for volume in root.listdir(PREBOOT):
        path = f"{PREBOOT}/{volume}/cryptex1/current/SystemVersion.plist"
        rsr, _ = _read_plist(root, path)
        extra = rsr.get("ProductVersionExtra") if rsr else None
        if rsr and isinstance(extra, str) and extra and rsr.get("ProductVersion") == version_text:
            version_text = f"{version_text} {extra.strip()}"
            build = rsr.get("ProductBuildVersion", build)
            source = path
            break
    try:
        version = Version(version_text)
    except VersionError:
        return _unread_os(kernel, source, f"{source}: ProductVersion {version_text!r} is not a version")
    codename = NAMES.get(version.major)
    pretty = f"macOS {codename + ' ' if codename else ''}{version_text}" + (f" ({build})" if build else "")
    return OSInfo(
        platform="macos",
        id="macos",
        name="macOS",
        version=version,
        pretty_name=pretty,
        codename=codename,
        kernel=kernel,
        source=source,
    )


def _brave_version(bundle_version: str) -> str | None:
    """Brave writes 1.75.181 as CFBundleVersion "175.181" (100 * major + minor, then the build)."""
    head, _, build = bundle_version.partition(".")
    # ASCII digits, and few: "²" is a digit to str.isdigit, and int() refuses thousands of digits.
    if not (head + build).isascii() or not head.isdigit() or not build.isdigit() or len(head) > 9:
        return None
    return f"{int(head) // 100}.{int(head) % 100}.{build}"


class MacInspector:
    """The Mac at ``root``. ``processes`` are the running Mac's programs, for the pending-restart check; None
    for a captured tree, whose processes are unknown. Tests inject recorded processes here."""

    def __init__(
        self,
        root: Root,
        catalog: Catalog,
        homes: list[str],
        kernel: str | None,
        *,
        processes: ProcessSource | None = None,
    ) -> None:
        self.root = root
        self.catalog = catalog
        self.homes = homes
        self.kernel = kernel
        self.processes = processes

    def bundles(self) -> list[tuple[str, Scope]]:
        """App bundles: in the application folders and one level down (Acrobat's vendor folder)."""
        found: list[tuple[str, Scope]] = []
        folders: list[tuple[str, Scope]] = [(folder, "system") for folder in APP_FOLDERS]
        folders += [(f"{home}/Applications", "user") for home in self.homes]
        seen: set[str] = set()
        for folder, scope in folders:
            for name in self.root.listdir(folder, hides=HIDES_APPLICATIONS):
                path = f"{folder}/{name}"
                if name.endswith(".app"):
                    candidates = [path]
                elif self.root.is_dir(path):
                    inside = self.root.listdir(path, hides=HIDES_APPLICATIONS)  # a vendor's folder (Adobe)
                    candidates = [f"{path}/{inner}" for inner in inside if inner.endswith(".app")]
                else:
                    continue
                for bundle in candidates:
                    real = self.root.resolve(bundle) or bundle  # Safari.app is a symlink into a cryptex
                    if real not in seen:
                        seen.add(real)
                        found.append((bundle, scope))
        return found

    def installation(self, bundle: str, scope: Scope) -> Installation | None:
        name = bundle.rsplit("/", 1)[-1]
        # A bundle known by its name is reported unknown when its Info.plist cannot be read; any other one
        # might be a browser renamed, known only by its bundle id, so it is unreadable.
        known = self.catalog.by_app_name(name)
        info = f"{bundle}/Contents/Info.plist"
        plist, problem = _read_plist(self.root, info, hides=None if known else HIDES_APPLICATION)
        bundle_id = plist.get("CFBundleIdentifier") if plist else None
        product = self.catalog.by_bundle_id(bundle_id) if isinstance(bundle_id, str) else None
        if product is None:
            product = known
        if product is None:
            return None
        places = product.macos
        raw = plist.get(places.version_key) if plist else None
        if plist is not None and not isinstance(raw, str):
            problem = f"{bundle}/Contents/Info.plist: no {places.version_key}"
            raw = None
        if raw is not None and places.version_scheme == "brave":
            decoded = _brave_version(raw)
            if decoded is None:
                problem = f"{bundle}/Contents/Info.plist: CFBundleVersion {raw!r} is not Brave's encoding"
            raw = decoded
        version = None
        if raw is not None:
            try:
                version = Version(raw)
            except VersionError:
                problem = f"{bundle}/Contents/Info.plist: {raw!r} is not a version"
        track = product.default_track
        if product.id == "firefox":
            track = self._firefox_track(bundle)
        elif places.version_scheme == "acrobat" and version is not None:
            track = acrobat_track(version)
        return Installation(
            product=product.id,
            category=product.category,
            name=product.display_name(track),
            version=version,
            track=track,
            scope=scope,
            source="Info.plist",
            path=bundle,
            package=bundle_id if isinstance(bundle_id, str) else None,
            package_version=raw,
            problem=None if version is not None else problem or "no version found",
        )

    def _firefox_track(self, bundle: str) -> str | None:
        from clientcheck.inspect.formats.keyfile import parse_keyfile

        text = self.root.read_text(f"{bundle}/Contents/Resources/application.ini", limit=64 * 1024)
        return firefox_track(parse_keyfile(text).get("App") if text else None, "release")

    def _handler(self, home: str) -> tuple[str, str] | None:
        path = f"{home}/{LAUNCH_SERVICES}"
        plist, _ = _read_plist(self.root, path)
        handlers = plist.get("LSHandlers") if plist else None
        for handler in handlers if isinstance(handlers, list) else ():
            if not isinstance(handler, dict) or handler.get("LSHandlerContentType") != PDF_CONTENT_TYPE:
                continue
            bundle_id = handler.get("LSHandlerRoleAll") or handler.get("LSHandlerRoleViewer")
            if isinstance(bundle_id, str) and bundle_id != "-":
                product = self.catalog.by_bundle_id(bundle_id)
                return (product.id if product else bundle_id), path
        return None

    def default_pdf(self, installed: list[Installation]) -> tuple[str | None, str | None]:
        """The product (or bundle id) LaunchServices opens PDFs with; Preview when nobody chose another.
        On a disk with several users who chose differently there is no one answer: None."""
        choices = [choice for home in self.homes if (choice := self._handler(home)) is not None]
        if len({product for product, _ in choices}) == 1:
            return choices[0]
        if choices:
            return None, None
        if any(item.product == "preview" for item in installed):
            return "preview", None
        return None, None

    def inventory(self) -> Inventory:
        os_info = read_os(self.root, self.kernel)
        software = [item for bundle, scope in self.bundles() if (item := self.installation(bundle, scope))]
        software.sort(key=lambda item: (item.category, item.product, item.scope, item.path or ""))
        default, source = self.default_pdf(software)
        return Inventory(
            os=os_info,
            software=tuple(software),
            default_pdf=default,
            default_pdf_source=source,
            warnings=tuple(self.root.problems),
            restarts=tuple(program_restarts(software, self.processes)) if self.processes is not None else (),
            unreadable=tuple(self.root.unreadable),
        )


def program_restarts(software: Iterable[Installation], processes: ProcessSource) -> list[PendingRestart]:
    """One record per app with a process still running an older version than installed."""
    return folder_restarts(software, processes, separator="/", key=_bundle_key, version_folder=_version_folder)


def _bundle_key(path: str) -> str:
    return path.rstrip("/")


def _version_folder(relative: str) -> str | None:
    """The framework's version folder in a path inside an app bundle, or None."""
    at = relative.find(FRAMEWORK_VERSIONS)
    return relative[at + len(FRAMEWORK_VERSIONS) :].split("/", 1)[0] if at != -1 else None


def homes_for(root: Root, env: Mapping[str, str], *, live: bool) -> list[str]:
    """The current user's home on the running Mac; every user's on a ``--root`` tree."""
    if live:
        return [env.get("HOME") or os.path.expanduser("~")]
    return [
        f"/Users/{name}"
        for name in root.listdir("/Users", hides=HIDES_HOMES)
        if name != "Shared" and not name.startswith(".") and root.is_dir(f"/Users/{name}")
    ]


def inspect_macos(base: str, env: Mapping[str, str], *, live: bool) -> Inventory:
    """The Mac at ``base``: the running one when ``live`` (its processes are then looked at too), else a
    captured tree."""
    from clientcheck.catalog import load_catalog

    root = Root(base)
    kernel = os.uname().release if live and hasattr(os, "uname") else None
    processes = None
    if live:
        from clientcheck.inspect.processes_psutil import running_processes

        processes = running_processes()
    inspector = MacInspector(root, load_catalog("macos"), homes_for(root, env, live=live), kernel, processes=processes)
    return inspector.inventory()

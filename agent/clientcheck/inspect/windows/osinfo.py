"""Windows: the OS itself, from the registry's ``CurrentVersion`` key. ProductName says "Windows 10" on
Windows 11: the build decides."""

from __future__ import annotations

from clientcheck.model import OSInfo
from clientcheck.version import Version, VersionError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from clientcheck.inspect.registry import Registry

CURRENT_VERSION = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"
WINDOWS_11_FIRST_BUILD = 22000


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


def _decimal(value: str | None) -> int | None:
    """An ASCII decimal number of at most 9 digits ("26100"); None for anything else ("²²000" is a digit
    string to Python, and a build of 25 digits is no build)."""
    return int(value) if value and len(value) <= 9 and value.isascii() and value.isdigit() else None

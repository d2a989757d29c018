"""Linux: the OS itself, from os-release (with Debian's point release and Ubuntu's LTS track)."""

from __future__ import annotations

from clientcheck.inspect.formats.osrelease import OsReleaseError, parse_os_release
from clientcheck.model import OSInfo
from clientcheck.version import Version, VersionError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from clientcheck.inspect.fsroot import Root

OS_RELEASE_FILES = ("/etc/os-release", "/usr/lib/os-release")


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

"""Google's VersionHistory API: Chrome's fully rolled-out (``fraction`` 1) releases per platform and
channel."""

from __future__ import annotations

from clientcheck.rules.generate.feeds import Line, date_prefix, malformed, read_version

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEFAULT_URL = "https://versionhistory.googleapis.com/v1/chrome"
# VersionHistory's platform names for desktop Chrome, and the channels worth a floor (beta and dev are
# newer than stable, never a minimum).
PLATFORMS = ("win", "win64", "win_arm64", "mac", "mac_arm64", "linux")
CHANNELS = ("stable", "extended")


def chrome_urls(section: dict[str, Any], base: str) -> list[tuple[str, str, str]]:
    """(platform, channel, URL) of every release list the policy section asks for."""
    # filter=fraction=1 asks the API for full rollouts only; chrome_line checks the fraction again, as a
    # mirror may drop the query. Only the first page is read (nextPageToken is not followed): the API
    # lists the newest releases first, and the newest full rollout is among them.
    root = base.rstrip("/")
    return [
        (platform, channel, f"{root}/platforms/{platform}/channels/{channel}/versions/all/releases?filter=fraction=1")
        for channel in section["channels"]
        for platform in section["platforms"]
    ]


def chrome_line(data: Any, url: str, label: str) -> Line | None:
    """The newest release served to everyone (``fraction`` 1), or None when the channel lists none."""
    if not isinstance(data, dict):
        raise malformed(url, "not a JSON object")
    releases = data.get("releases", [])  # the API leaves out an empty list altogether: {}
    if not isinstance(releases, list):
        raise malformed(url, "'releases' is not a list")
    best: Line | None = None
    for index, release in enumerate(releases):
        if not isinstance(release, dict):
            raise malformed(url, f"releases[{index}] is not an object")
        fraction = release.get("fraction")
        # Only a full rollout counts: nobody is flagged for a version Google still holds back from them. A
        # missing fraction is proto3's default 0, not 1.
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or fraction < 1:
            continue
        version = read_version(release.get("version"), url, f"releases[{index}].version")
        if best is None or best.latest < version:
            serving = release.get("serving")
            started = date_prefix(serving.get("startTime")) if isinstance(serving, dict) else None
            best = Line(label, version, started, url)
    return best

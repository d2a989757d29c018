"""Microsoft's Edge release feed (``edgeupdates.microsoft.com/api/products``): the newest release per
channel and platform."""

from __future__ import annotations

from clientcheck.rules.generate.feeds import Line, date_prefix, malformed, read_version

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEFAULT_URL = "https://edgeupdates.microsoft.com/api/products"
PLATFORMS = ("Windows", "MacOS", "Linux")
CHANNELS = ("Stable", "Extended")


def edge_lines(data: Any, url: str, channels: list[str], platforms: list[str]) -> list[Line]:
    """The newest release per channel and platform of Microsoft's Edge feed."""
    if not isinstance(data, list):
        raise malformed(url, "not a JSON list of products")
    products: dict[str, Any] = {}
    for index, entry in enumerate(data):
        if not isinstance(entry, dict) or not isinstance(entry.get("Product"), str):
            raise malformed(url, f"[{index}] is not a product with a 'Product' name")
        products[entry["Product"]] = entry.get("Releases")
    lines: list[Line] = []
    for channel in channels:
        releases = products.get(channel)
        if releases is None:
            raise malformed(url, f"no {channel!r} product in the feed")
        if not isinstance(releases, list):
            raise malformed(url, f"{channel}.Releases is not a list")
        newest: dict[str, Line] = {}
        for index, release in enumerate(releases):
            if not isinstance(release, dict):
                raise malformed(url, f"{channel}.Releases[{index}] is not an object")
            platform = release.get("Platform")
            if platform not in platforms:
                continue
            version = read_version(release.get("ProductVersion"), url, f"{channel}.Releases[{index}].ProductVersion")
            if platform not in newest or newest[platform].latest < version:
                published = date_prefix(release.get("PublishedTime"))
                newest[platform] = Line(f"Edge {channel} {platform}", version, published, url)
        if not newest:
            raise malformed(url, f"no {channel} release for {', '.join(platforms)}")
        lines += [newest[platform] for platform in platforms if platform in newest]
    return lines

"""Mozilla's product-details ``firefox_versions.json``: the Firefox release line and the supported ESR lines
(``FIREFOX_ESR``, and ``FIREFOX_ESR_NEXT`` during an overlap)."""

from __future__ import annotations

from clientcheck.rules.generate.feeds import Line, date_prefix, malformed, read_version

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEFAULT_URL = "https://product-details.mozilla.org/1.0/firefox_versions.json"


def firefox_lines(data: Any, url: str, *, legacy_esr: bool) -> tuple[Line, list[Line], str | None]:
    """The release line, the supported ESR lines (oldest first), and the last release date."""
    if not isinstance(data, dict):
        raise malformed(url, "not a JSON object")
    released = date_prefix(data.get("LAST_RELEASE_DATE"))
    release = Line(
        "Firefox", read_version(data.get("LATEST_FIREFOX_VERSION"), url, "LATEST_FIREFOX_VERSION"), released, url
    )
    keys = ["FIREFOX_ESR"]
    if data.get("FIREFOX_ESR_NEXT"):  # "" outside an ESR overlap
        keys.append("FIREFOX_ESR_NEXT")
    if legacy_esr:
        # FIREFOX_ESR115 and the like: a line kept alive for old operating systems only.
        keys += sorted(key for key in data if key.startswith("FIREFOX_ESR") and key[11:].isdigit() and data[key])
    lines: dict[int, Line] = {}
    for key in keys:
        version = read_version(data.get(key), url, key)
        if version.major not in lines or lines[version.major].latest < version:
            lines[version.major] = Line("Firefox ESR", version, None, url)
    return release, [lines[major] for major in sorted(lines)], released

"""The vendors' feeds, one module each, read purely (parsed JSON in, supported release lines out): each
names its default address and the vocabulary a policy may use for it. What they share is here: a release
line, and how a feed's versions, dates and shape problems are read and reported."""

from __future__ import annotations

from clientcheck import dates as dt
from clientcheck.rules.generate.errors import FeedError
from clientcheck.version import Version, VersionError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Line:
    """One supported release line a feed reported: Chrome Stable on win64, Firefox ESR 153, Ubuntu 24.04."""

    __slots__ = ("label", "latest", "released", "url")

    def __init__(self, label: str, latest: Version, released: str | None, url: str) -> None:
        self.label, self.latest, self.released, self.url = label, latest, released, url

    def describe(self) -> str:
        when = f" ({self.released})" if self.released else ""
        return f"{self.label} {self.latest}{when}"


def malformed(url: str, what: str) -> FeedError:
    return FeedError(url, f"malformed feed: {what}")


def read_version(value: Any, url: str, what: str) -> Version:
    """A release version from a feed: a pre-release or anything unreadable is a malformed feed."""
    if not isinstance(value, str):
        raise malformed(url, f"{what} is not a version string")
    try:
        version = Version(value.strip())
    except VersionError:
        raise malformed(url, f"{what} {value!r} is not a version") from None
    if version.is_prerelease:
        raise malformed(url, f"{what} {value!r} is a pre-release")
    return version


def date_prefix(value: Any) -> str | None:
    """``2026-11-17`` from ``2026-11-17T18:04:11.000Z``; None when absent or unreadable."""
    if isinstance(value, str) and len(value) >= 10:
        try:
            return dt.date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            return None
    return None

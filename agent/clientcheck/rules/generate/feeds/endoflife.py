"""The endoflife.date API v1: which Windows, macOS, Debian, Ubuntu and Fedora releases are supported on a
given day, which have ended, and which are announced but not out yet."""

from __future__ import annotations

from clientcheck.rules.generate.feeds import date_prefix, malformed, read_version
from clientcheck.version import Version

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from clientcheck import dates as dt

DEFAULT_URL = "https://endoflife.date/api/v1/products/"
# endoflife.date products with an OS rule; the names are clientcheck's OS ids too.
PRODUCTS = ("windows", "macos", "debian", "ubuntu", "fedora")


def product_url(base: str, product: str) -> str:
    return f"{base.rstrip('/')}/{product}/"


class Cycle:
    """One endoflife.date release cycle, judged at a date: supported, ended, or announced (not out yet)."""

    __slots__ = ("announced", "end", "lts", "name", "supported", "version")

    def __init__(
        self, name: str, version: Version, lts: bool, supported: bool, end: str | None, announced: bool = False
    ) -> None:
        self.name, self.version, self.lts, self.supported, self.end = name, version, lts, supported, end
        self.announced = announced


def eol_cycles(data: Any, url: str, product: str, today: dt.date, *, extended: bool, edition: str) -> list[Cycle]:
    """The product's released cycles with their support status on ``today`` (endoflife.date API v1)."""
    result = data.get("result") if isinstance(data, dict) else None
    releases = result.get("releases") if isinstance(result, dict) else None
    if not isinstance(releases, list):
        raise malformed(url, "no result.releases list")
    cycles: list[Cycle] = []
    for index, release in enumerate(releases):
        where = f"result.releases[{index}]"
        if not isinstance(release, dict) or not isinstance(release.get("name"), str):
            raise malformed(url, f"{where} is not a release with a name")
        name = release["name"]
        released = date_prefix(release.get("releaseDate"))
        announced = released is not None and released > today.isoformat()
        if product == "windows":
            # Names like "11-24h2-e", "11-24h2-w", "11-24h2-e-lts", "10-22h2". LTSC and IoT releases are a
            # channel clientcheck cannot tell from the version; the edition is the policy's choice.
            tokens = name.lower().split("-")
            if "lts" in tokens or "iot" in tokens:
                continue
            wanted = "e" if edition == "enterprise" else "w"
            if ("e" in tokens or "w" in tokens) and wanted not in tokens:
                continue
            latest = release.get("latest")
            build = latest.get("name") if isinstance(latest, dict) else None
            version = read_version(build, url, f"{where}.latest.name")
            version = Version(".".join(str(part) for part in version.release[:3]))  # 10.0.26100, not the UBR
        else:
            version = read_version(name, url, f"{where}.name")
        # When support ends: its date if known, else the flag. "eolFrom" is the first day without support.
        end, over = release.get("eolFrom"), release.get("isEol")
        if extended and "eoesFrom" in release and release.get("isEoes") is not None:
            end, over = release.get("eoesFrom"), release.get("isEoes")
        end_date = date_prefix(end)
        if end_date is not None:
            supported = today.isoformat() < end_date
        elif isinstance(over, bool):
            supported = not over
        else:
            raise malformed(url, f"{where} has neither an end-of-life date nor an isEol flag")
        lts = release.get("isLts") is True
        cycles.append(Cycle(name, version, lts, supported and not announced, end_date, announced))
    return cycles

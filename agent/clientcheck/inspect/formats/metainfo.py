"""AppStream metainfo (``<id>.metainfo.xml``, formerly ``.appdata.xml``): the newest ``<release>``."""

from __future__ import annotations


class MetainfoError(ValueError):
    pass


def newest_release(xml_text: str) -> str | None:
    """The version of the newest listed release (AppStream lists them newest first), or None."""
    # Imported here: only machines with flatpaks pay for the XML parser.
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(xml_text)  # noqa: S314 - local file of an installed app, not network
    except ElementTree.ParseError as error:
        raise MetainfoError(f"not valid XML: {error}") from None
    releases = root.find("releases")
    if releases is None:
        return None
    for release in releases.findall("release"):
        version = release.get("version")
        if version:
            return version
    return None

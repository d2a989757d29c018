"""Which application opens a MIME type by default, resolved as the freedesktop mime-apps spec (and
``xdg-mime query default``) does it, but by reading the files instead of launching anything."""

from __future__ import annotations

from clientcheck.inspect.formats.keyfile import group_section, key_value, split_list
from clientcheck.inspect.fsroot import Root

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Container, Sequence


def mimeapps_files(
    config_home: str | None,
    config_dirs: Sequence[str],
    data_home: str | None,
    data_dirs: Sequence[str],
    desktops: Sequence[str],
) -> list[str]:
    """The ``mimeapps.list`` files to consult, most important first (spec: "File name and location")."""
    files: list[str] = []

    def add(directory: str | None) -> None:
        if directory:
            files.extend(f"{directory}/{desktop}-mimeapps.list" for desktop in desktops)
            files.append(f"{directory}/mimeapps.list")

    add(config_home)
    for directory in config_dirs:
        add(directory)
    add(f"{data_home}/applications" if data_home else None)  # deprecated location, still honoured
    for directory in data_dirs:
        add(f"{directory}/applications")
    return files


def default_application(
    root: Root,
    mime_type: str,
    mimeapps: Sequence[str],
    data_dirs_for_cache: Sequence[str],
    installed: Container[str],
) -> tuple[str, str] | None:
    """(desktop id, file that decided it) of the default application for ``mime_type``, or None.

    ``installed`` holds the desktop ids present on the machine: a default naming an application that is
    not installed is skipped, as the spec requires.
    """
    texts = [(path, text) for path in mimeapps if (text := root.read_text(path)) is not None]
    for path, text in texts:
        for desktop_id in _listed(text, "Default Applications", mime_type):
            if desktop_id in installed:
                return desktop_id, path
    # No installed default: the associations users added, each file's removals hiding lower files' ones.
    removed: set[str] = set()
    for path, text in texts:
        for desktop_id in _listed(text, "Added Associations", mime_type):
            if desktop_id in installed and desktop_id not in removed:
                return desktop_id, path
        removed.update(_listed(text, "Removed Associations", mime_type))
    # No default set anywhere: GNOME's legacy defaults.list, then the most preferred application that
    # declares the type, in data-directory order (what mimeinfo.cache records).
    for cache_name, group in (("defaults.list", "Default Applications"), ("mimeinfo.cache", "MIME Cache")):
        for directory in data_dirs_for_cache:
            path = f"{directory}/applications/{cache_name}"
            text = root.read_text(path)
            if text is None:
                continue
            for desktop_id in _listed(text, group, mime_type):
                if desktop_id in installed and desktop_id not in removed:
                    return desktop_id, path
    return None


def _listed(text: str, group: str, mime_type: str) -> list[str]:
    section = group_section(text, group)
    value = key_value(section, mime_type) if section is not None else None
    return split_list(value) if value else []

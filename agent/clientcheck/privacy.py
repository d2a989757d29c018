"""Keeping people out of reports: paths inside home folders, and the user names they carry.

A report is for an administrator: which product, which version, installed for one user or for all. Where
a per-user copy lives (``/home/alice/.local/share/flatpak/…``, ``C:\\Users\\alice\\AppData\\…``) names the
person, and so does the SID naming a user's registry hive. So by default (``privacy.home_paths = "hide"``)
such paths are left out, and a home folder named inside a message becomes ``~`` (a SID, ``<SID>``).
``"tilde"`` keeps the path but writes the home folder as ``~``; ``"show"`` keeps everything.

Pure functions of their input, applied to the ``Inventory`` (and ``Report``) before any format sees it, so
every format carries the same, already redacted, text.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from clientcheck.model import Finding, Installation, Inventory, Report, RulesInfo

# Where home folders live: a home is the marker plus one more path component (the user name), except
# /root, which is a home by itself. Windows markers are matched without regard to case.
_POSIX_MARKERS = ("/home/", "/Users/", "/var/home/", "/export/home/")
_WINDOWS_MARKERS = (":\\users\\", ":\\documents and settings\\", ":/users/")
# What may stand just before a path in a message: the path starts after the last of these.
_PATH_START = frozenset(" \t\n\"'`(<[{=,;")
# Where a Windows user name ends: it may hold spaces ("C:\\Users\\John Smith"), but none of these.
_WINDOWS_NAME_END = frozenset('\\/:*?"<>|\t\n\r')


class Redactor:
    def __init__(self, mode: str, env: Mapping[str, str]) -> None:
        self.mode = mode
        homes = [env.get(name, "").rstrip("/\\") for name in ("HOME", "USERPROFILE")]
        # A home outside the usual places (/srv/users/alice) is known from the environment.
        self.extra_homes = tuple(home for home in homes if len(home) > 1)

    def text(self, value: str | None) -> str | None:
        """A message with every home folder in it written as ``~`` (unless the mode is "show")."""
        if value is None or self.mode == "show":
            return value
        return _tilde(value, self.extra_homes)

    def path(self, value: str | None) -> str | None:
        """A path: None if it is inside a home folder ("hide"), with ``~`` for the home ("tilde")."""
        if value is None or self.mode == "show":
            return value
        redacted = _tilde(value, self.extra_homes)
        if redacted != value and self.mode == "hide":
            return None
        return redacted

    def installation(self, item: Installation) -> Installation:
        path, source, problem = self.path(item.path), self.text(item.source), self.text(item.problem)
        if path is item.path and source is item.source and problem is item.problem:
            return item  # the usual case: nothing names a person, and no copy is made
        return item.replace(path=path, source=source, problem=problem)

    def inventory(self, inventory: Inventory) -> Inventory:
        if self.mode == "show":
            return inventory
        return inventory.replace(
            software=tuple(self.installation(item) for item in inventory.software),
            default_pdf_source=self.text(inventory.default_pdf_source),
            warnings=tuple(self.text(line) or "" for line in inventory.warnings),
            restarts=tuple(
                restart.replace(path=self.path(restart.path), reason=self.text(restart.reason) or "")
                for restart in inventory.restarts
            ),
            # Kept with ~ for the home even when paths are hidden: where it could not read is the point.
            unreadable=tuple(
                item.replace(path=self.text(item.path) or "", problem=self.text(item.problem) or "")
                for item in inventory.unreadable
            ),
        )

    def finding(self, finding: Finding) -> Finding:
        path, remedy = self.path(finding.path), self.text(finding.remedy)
        message, restart = self.text(finding.message) or "", self.text(finding.restart)
        same = (path, remedy, message, restart) == (finding.path, finding.remedy, finding.message, finding.restart)
        if same:
            return finding
        return finding.replace(path=path, remedy=remedy, message=message, restart=restart)

    def rules(self, info: RulesInfo) -> RulesInfo:
        return info.replace(source=self.text(info.source) or "", fallback_reason=self.text(info.fallback_reason))

    def report(self, report: Report) -> Report:
        if self.mode == "show":
            return report
        return report.replace(
            inventory=self.inventory(report.inventory),
            findings=tuple(self.finding(finding) for finding in report.findings),
            rules=self.rules(report.rules),
        )


def _tilde(text: str, extra_homes: tuple[str, ...]) -> str:
    for home in extra_homes:
        text = _replace_home(text, home)
    text = _hide_sids(text)
    lowered = text.lower()
    if (
        not any(marker in text for marker in _POSIX_MARKERS)
        and "/root" not in text
        and not any(marker in lowered for marker in _WINDOWS_MARKERS)
    ):
        return text  # the usual case: nothing to do, and no copy made
    out: list[str] = []
    index = 0
    while index < len(text):
        found = _next_home(text, index)
        if found is None:
            break
        start, end = found
        out.append(text[index:start])
        out.append("~")
        index = end
    out.append(text[index:])
    return "".join(out)


def _hide_sids(text: str) -> str:
    """A user's registry hive is named by their account's SID (``HKEY_USERS\\S-1-5-21-…``): that identifies the
    person as well as a name does, so it becomes ``<SID>``."""
    marker = "hkey_users\\s-1-"
    at = text.lower().find(marker)
    while at >= 0:
        start = at + len("HKEY_USERS\\")
        end = start
        while end < len(text) and text[end] not in "\\" and text[end] not in _PATH_START:
            end += 1
        text = text[:start] + "<SID>" + text[end:]
        at = text.lower().find(marker, start)
    return text


def _replace_home(text: str, home: str) -> str:
    """``home`` (a folder from the environment) as ``~`` where it stands as a whole path component; a
    Windows home (``C:\\Users\\…``) without regard to case, as Windows compares paths."""
    windows = home[1:3] == ":\\"
    haystack, needle = (text.lower(), home.lower()) if windows else (text, home)
    start = haystack.find(needle)
    while start >= 0:
        end = start + len(home)
        if end == len(text) or text[end] in "/\\" or text[end] in _PATH_START:
            text = text[:start] + "~" + text[end:]
            haystack = text.lower() if windows else text
            start = haystack.find(needle, start + 1)
        else:
            start = haystack.find(needle, end)
    return text


def _next_home(text: str, index: int) -> tuple[int, int] | None:
    """The span of the first home folder at or after ``index``: from the start of its path to the end of the
    user name."""
    lowered = text.lower()
    best: tuple[int, int] | None = None
    for marker, haystack in [(marker, text) for marker in _POSIX_MARKERS] + [
        (marker, lowered) for marker in _WINDOWS_MARKERS
    ]:
        at = haystack.find(marker, index)
        if at < 0:
            continue
        name_start = at + len(marker)
        name_end = name_start
        windows = marker.startswith(":")
        while name_end < len(text) and (
            text[name_end] not in _WINDOWS_NAME_END
            if windows
            else (text[name_end] not in "/\\" and text[name_end] not in _PATH_START)
        ):
            name_end += 1
        if name_end == name_start:
            continue  # "/home/" alone names nobody
        start = at - 1 if marker.startswith(":") else at  # the drive letter
        if best is None or start < best[0]:
            best = (start, name_end)
    root = text.find("/root", index)
    while root >= 0:
        after = root + 5
        if after == len(text) or text[after] in "/\\" or text[after] in _PATH_START:
            if best is None or root < best[0]:
                best = (root, after)
            break
        root = text.find("/root", after)
    if best is None:
        return None
    start, end = best
    # A home inside a longer path (a --root tree: /mnt/disk/home/alice) hides that whole path's start too.
    while start > index and text[start - 1] not in _PATH_START:
        start -= 1
    return start, end

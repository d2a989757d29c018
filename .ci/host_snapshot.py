"""Is the machine as it was? A record of every place a test could damage, taken before the tests and compared
after them (.ci/run does both).

    python3 .ci/host_snapshot.py save FILE [--exclude PATH]...
    python3 .ci/host_snapshot.py compare FILE [--exclude PATH]...

compare prints what was added, removed or changed, and exits 1 if anything was.

What is compared. /etc, /var/lib (dpkg's database: /var/lib/dpkg/status and the info/ lists among it) and
/var/cache with file contents; without them, the user's home (but this checkout, where the venv, pytest's
and hypothesis' caches live), /usr, /opt and /bin, /sbin, /lib… where those are real folders: a package
installed or a file byte-compiled there shows. /tmp, /var/tmp and /run are scratch space and are not
compared. Each tree is walked without following links or descending into another file system mounted in it.

Per path: the type; for folders the mode and owner (their entries are paths of their own; a folder's own
times are not compared, so a file made and deleted again between the two snapshots is not seen); for
links the target, owner, inode and change time; for files the mode, owner, size, modification and change
times, inode (a file replaced by a rename has a new one) and, in the trees compared with contents, up to
64 KiB, a SHA-256 of the content (so the report can say "content"). The change time cannot be set back, so
a file rewritten and given its old times again still shows.

What is not compared, because it changes on its own on a CI machine while the tests run, and no test
touches it (none runs apt, a DHCP client, logrotate or a system timer): see EXCLUDED below, each with its
reason. Nothing a test could write to is excluded: package files, the dpkg database, /var/cache/clientcheck,
configuration, the home folder's dotfiles are all compared.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import stat
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

HASHED_UP_TO = 64 * 1024

# Compared with content: the places tests could write to.
CONTENT_TREES = ("/etc", "/var/lib", "/var/cache")
# Compared without content (large; a change of any file there changes its times and usually its inode).
PROGRAM_TREES = ("/usr", "/opt", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/srv")

# (path, why it changes on its own). A folder excludes everything below it.
EXCLUDED = (
    ("/var/lib/apt/lists", "apt's package lists: apt-daily refreshes them; no test runs apt"),
    ("/var/lib/apt/periodic", "apt-daily's time stamps"),
    ("/var/lib/apt/daily_lock", "apt-daily's lock"),
    ("/var/cache/apt", "apt's binary caches and downloads: apt-daily and apt-daily-upgrade fill them"),
    (
        "/var/cache/man",
        "man-db's index: its daily timer rebuilds it (a package a test installed would show in "
        "/usr and /var/lib/dpkg, which are compared)",
    ),
    ("/var/lib/systemd/timers", "the stamps of persistent system timers, touched each time one fires"),
    ("/var/lib/systemd/timesync", "systemd-timesyncd's clock file, touched at each synchronisation"),
    ("/var/lib/private/systemd/timesync", "the same, for a timesyncd with a dynamic user"),
    ("/var/lib/dhcp", "DHCP leases, rewritten at each renewal"),
    ("/var/lib/dhcpcd", "DHCP leases, rewritten at each renewal"),
    ("/var/lib/NetworkManager", "NetworkManager's leases and time stamps"),
    ("/var/lib/logrotate", "logrotate's state, written by its daily timer"),
)
# Compared by content only (type and SHA-256, or link target): rewritten with the same text on their own.
CONTENT_ONLY = (("/etc/resolv.conf", "a DHCP client rewrites it at each renewal, usually with the same text"),)


def _home_and_checkout() -> tuple[str | None, str]:
    checkout = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    home = os.environ.get("HOME", "")
    return (home if home.startswith("/") and home != "/" else None), checkout


def trees() -> list[tuple[str, bool]]:
    """(folder, with content) for each tree compared on this machine."""
    found = [(path, True) for path in CONTENT_TREES] + [(path, False) for path in PROGRAM_TREES]
    home, _checkout = _home_and_checkout()
    if home is not None and not any(home == path or home.startswith(path + "/") for path, _ in found):
        found.append((home, False))
    return [(path, content) for path, content in found if os.path.isdir(path) and not os.path.islink(path)]


def _record(path: str, status: os.stat_result, content: bool, content_only: bool) -> list[object]:
    mode = status.st_mode
    if stat.S_ISDIR(mode):
        return ["folder", stat.S_IMODE(mode), status.st_uid, status.st_gid]
    if stat.S_ISLNK(mode):
        target = os.readlink(path)
        if content_only:
            return ["link", target]
        return ["link", target, status.st_uid, status.st_gid, status.st_ino, status.st_ctime_ns]
    if stat.S_ISREG(mode):
        digest = None
        if (content or content_only) and status.st_size <= HASHED_UP_TO:
            digest = _sha256(path)
        if content_only:
            return ["file", digest]
        return [
            "file",
            stat.S_IMODE(mode),
            status.st_uid,
            status.st_gid,
            status.st_size,
            status.st_mtime_ns,
            status.st_ctime_ns,
            status.st_ino,
            digest,
        ]
    kind = stat.S_IFMT(mode)
    return ["other", kind, stat.S_IMODE(mode), status.st_uid, status.st_gid, status.st_rdev, status.st_ctime_ns]


def _sha256(path: str) -> str | None:
    try:
        with open(path, "rb") as stream:
            return hashlib.sha256(stream.read()).hexdigest()
    except OSError as error:
        return f"unreadable: {error.strerror}"


def _walk(top: str, content: bool, excluded: set[str]) -> Iterator[tuple[str, list[object]]]:
    content_only = {path for path, _why in CONTENT_ONLY}
    device = os.lstat(top).st_dev
    pending = [top]
    while pending:
        folder = pending.pop()
        try:
            names = sorted(os.listdir(folder))
        except OSError as error:
            yield folder + "/", ["unlistable", error.strerror]
            continue
        for name in names:
            path = os.path.join(folder, name)
            if path in excluded:
                continue
            try:
                status = os.lstat(path)
            except FileNotFoundError:
                continue  # gone between the listing and the look: the next snapshot will say so
            yield path, _record(path, status, content, path in content_only)
            if stat.S_ISDIR(status.st_mode) and status.st_dev == device:
                pending.append(path)


def snapshot(extra_excluded: list[str]) -> dict[str, list[object]]:
    _home, checkout = _home_and_checkout()
    excluded = {path for path, _why in EXCLUDED} | {checkout} | {os.path.abspath(p) for p in extra_excluded}
    found: dict[str, list[object]] = {}
    for top, content in trees():
        status = os.lstat(top)
        found[top] = _record(top, status, content, False)
        found.update(_walk(top, content, excluded))
    return found


_FIELDS = {
    "folder": ("mode", "owner", "group"),
    "link": ("target", "owner", "group", "inode (replaced)", "change time"),
    "file": ("mode", "owner", "group", "size", "modification time", "change time", "inode (replaced)", "content"),
    "other": ("type", "mode", "owner", "group", "device", "change time"),
}


def _what_changed(before: list[object], after: list[object]) -> str:
    if before[0] != after[0]:
        return f"was a {before[0]}, now a {after[0]}"
    if len(before) != len(after):  # a content-only record
        return "content"
    names = _FIELDS.get(str(before[0]), ())
    changed = [
        f"{name} {_show(name, old)} -> {_show(name, new)}" if name in ("mode", "owner", "group", "size") else name
        for name, old, new in zip(names, before[1:], after[1:], strict=True)
        if old != new
    ]
    return ", ".join(changed)


def _show(name: str, value: object) -> str:
    return f"{value:04o}" if name == "mode" and isinstance(value, int) else str(value)


def compare(before: dict[str, list[object]], after: dict[str, list[object]], limit: int = 200) -> list[str]:
    lines = []
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(path for path in set(before) & set(after) if before[path] != after[path])
    for title, paths, describe in (
        ("added", added, None),
        ("removed", removed, None),
        ("changed", changed, lambda path: _what_changed(before[path], after[path])),
    ):
        if not paths:
            continue
        lines.append(f"{len(paths)} {title}:")
        for path in paths[:limit]:
            lines.append(f"  {path}" + (f": {describe(path)}" if describe else ""))
        if len(paths) > limit:
            lines.append(f"  … and {len(paths) - limit} more")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Snapshot the places tests could damage; compare later.")
    parser.add_argument("action", choices=("save", "compare"))
    parser.add_argument("file", help="where the snapshot is kept (outside the compared trees: /tmp)")
    parser.add_argument("--exclude", action="append", default=[], help="a further path not to compare")
    args = parser.parse_args(argv)
    now = snapshot(args.exclude)
    if args.action == "save":
        with open(args.file, "w", encoding="utf-8") as stream:
            json.dump(now, stream, separators=(",", ":"))
        print(f"host snapshot: {len(now)} paths in {', '.join(top for top, _ in trees())}")
        return 0
    with open(args.file, encoding="utf-8") as stream:
        before = json.load(stream)
    differences = compare(before, now)
    if differences:
        print("host snapshot: the machine changed while the tests ran:", *differences, sep="\n")
        return 1
    print(f"host snapshot: unchanged ({len(now)} paths)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

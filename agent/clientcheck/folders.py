"""Following symbolic links as the kernel does, and the folders clientcheck keeps its own files in.

Two questions other code asks before it writes:

- Where does this path really lead? ``follow_links`` walks it one name at a time, as the kernel resolves a
  path, and shows each symbolic link to a check before following it: the output writer refuses the classic
  ``/tmp`` link attack there, the folder check refuses a link another user made.
- May we keep our own files in this folder? ``own_folder`` answers as OpenSSH does for ``~/.ssh``: a folder
  the user owns is used, after making it owner-only; one owned by someone else, or reached through a link
  someone else made, is refused. The login state folder, the rules cache and the rules state (the rollback
  floor) all go through it.

Windows has no owner and mode bits to check here (its folders are guarded by ACLs, inherited from the
user's profile or ProgramData): there the folder is only created.
"""

from __future__ import annotations

import os
import stat
import sys

from clientcheck.errors import OutputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import IO

MAX_LINKS = 40  # Linux's own limit (ELOOP after 40 links in one path)


class FolderError(OutputError):
    """A folder clientcheck will not keep its files in (it, or a link on the way, is another user's)."""


def follow_links(path: str, check: Callable[[str, os.stat_result, os.stat_result], None] | None = None) -> str:
    """``path`` (POSIX) with every symbolic link in it followed, one name at a time as the kernel resolves a path
    (so ``link/..`` is the parent of the link's target, not the folder holding the link). ``check(link,
    link_stat, folder_stat)`` sees each link before it is followed, and may raise to refuse it.

    A name that does not exist ends the walk: the rest is joined as written (writing there then fails, or
    creates it). A link under ``/proc/PID/fd`` is not followed when it is the last name (its text, like
    ``pipe:[123]``, is no path: such a path is written through the open file it stands for). OSError for
    a name that cannot be looked up (a file used as a folder, a folder we may not search, too many links).
    """
    resolved = "/" if path.startswith("/") else os.getcwd()
    pending = list(reversed(path.split("/")))
    links = 0
    while pending:
        name = pending.pop()
        if name in ("", "."):
            continue
        if name == "..":
            resolved = os.path.dirname(resolved)
            continue
        candidate = os.path.join(resolved, name)
        try:
            info = os.lstat(candidate)
        except FileNotFoundError:
            rest = [part for part in reversed(pending) if part not in ("", ".")]
            return os.path.join(candidate, *rest)
        if not stat.S_ISLNK(info.st_mode):
            resolved = candidate
            continue
        if not pending and descriptor_number(candidate) is not None:
            return candidate
        links += 1
        if links > MAX_LINKS:
            import errno

            raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)
        if check is not None:
            check(candidate, info, os.stat(resolved))
        target = os.readlink(candidate)
        if target.startswith("/"):
            resolved = "/"
        pending.extend(reversed(target.split("/")))
    return resolved


def descriptor_number(path: str) -> int | None:
    """N for ``/proc/PID/fd/N`` (or ``/proc/PID/task/TID/fd/N``), the links ``/dev/stdout`` and
    ``/dev/fd/N`` lead to; None for any other path."""
    folder, name = os.path.split(path)
    parts = folder.split("/")
    if not name.isdigit() or not name.isascii() or parts[-1:] != ["fd"] or parts[:2] != ["", "proc"]:
        return None
    middle = parts[2:-1]
    if len(middle) == 1 or (len(middle) == 3 and middle[1] == "task"):
        return int(name)
    return None


def descriptor_pid(path: str) -> int | None:
    """The process whose descriptor ``path`` names (``/proc/PID/fd/N``), if it is one. ``/proc/self`` is
    resolved on the way here, unless there is no /proc to resolve it in: it is then this process still."""
    parts = path.split("/")
    if descriptor_number(path) is None:
        return None
    if parts[2] in ("self", "thread-self"):
        return os.getpid()
    return int(parts[2]) if parts[2].isdigit() and parts[2].isascii() else None


# The files clientcheck makes in a state folder (login's, and the rollback floor), and in the rules cache.
# Only these are repaired or removed: on macOS and Windows the user's state folder is also the folder of
# their config.toml, and CLIENTCHECK_CACHE_DIR may name a folder that holds other files.
STATE_FILES = frozenset(
    {"last.json", "last.html", "last-complete", "login.lock", "history", "rules-floor.json", "notice.json"}
)


def hold_lock(path: str) -> IO[bytes] | None:
    """Hold an exclusive lock on the file at ``path`` (made owner-only if missing) for as long as the
    returned file is open; None when another process holds it. Raises ``OSError`` when the file cannot be
    opened. The operating system drops the lock when its holder exits, however it exits, so a crashed run
    cannot leave it stuck (unlike a lock file whose existence is the lock)."""
    # O_BINARY: the stream is binary ("r+b"), and so must its Windows descriptor be.
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    descriptor = os.open(path, flags, 0o600)
    stream = os.fdopen(descriptor, "r+b")
    try:
        if sys.platform == "win32":  # pragma: no cover - Windows only
            import msvcrt

            stream.seek(0)
            msvcrt.locking(stream.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        stream.close()
        return None
    return stream


def free_lock(path: str, notes: list[str]) -> None:
    """After ``own_folder`` repaired the folder of the lock file ``path`` (``notes`` says it did): others
    could reach the file before, and may hold it open still (a lock needs only a read), stopping every run
    for good. So it is removed, noted, and the next ``hold_lock`` makes a new one, which is free."""
    if not notes:
        return
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
    except OSError as error:
        raise OutputError(f"cannot replace {path}: {error.strerror or error}") from None
    notes.append(f"replaced {path}: others may have held it")


def state_file(name: str) -> bool:
    return name in STATE_FILES or _temporary(name)


def cache_file(name: str) -> bool:
    return (name.startswith("rules-") and name.endswith(".cache")) or _temporary(name)


def _temporary(name: str) -> bool:
    return name.startswith(".") and name.endswith(".tmp")  # what an interrupted write_atomic leaves


def own_folder(path: str, what: str, *, ours: Callable[[str], bool], subfolders: tuple[str, ...] = ()) -> list[str]:
    """Make sure ``path`` is a folder only this user can use, creating it owner-only (0700) when missing.

    An existing folder must belong to the user (as must every symbolic link on the way to it, unless root
    made it); it is then repaired: the folder (and each of ``subfolders``) made 0700, and of the entries
    ``ours`` names as clientcheck's (everything in the subfolders is), files others could read made 0600.
    What another user could have planted among those is not trusted, and removed: entries that belong to
    someone else, files others could write (they may hold them open), hard links (a repair must not change
    the mode of a file elsewhere). Other entries are left alone. Returns one note per repair, for the
    caller to show. Raises ``FolderError`` (one line, with a hint) for a folder that is not the user's.
    """
    if sys.platform == "win32":  # ACLs, not modes (see the module's note)
        try:
            os.makedirs(path, exist_ok=True)
            for name in subfolders:
                os.makedirs(os.path.join(path, name), exist_ok=True)
        except OSError as error:
            raise FolderError(f"cannot create the {what} {path}: {error.strerror or error}") from None
        return []
    user = os.geteuid()

    def refuse_foreign_link(link: str, info: os.stat_result, _folder: os.stat_result) -> None:
        if info.st_uid not in (user, 0):
            raise FolderError(
                f"the {what} {path} is reached through the symbolic link {link}, which belongs to another "
                f"user (uid {info.st_uid}): not used",
                hint="a link on the way to it must be yours (or root's); remove the link",
            )

    try:
        real = follow_links(path, refuse_foreign_link)
        try:
            info = os.lstat(real)
        except FileNotFoundError:
            os.makedirs(real, mode=0o700)  # the parents as the umask says, the folder itself owner-only
            info = os.lstat(real)
    except OSError as error:
        raise FolderError(f"cannot create the {what} {path}: {error.strerror or error}") from None
    notes: list[str] = []
    _check_folder(real, info, path, what, user, notes)
    _check_entries(real, path, what, user, notes, ours, subfolders)
    for name in subfolders:  # after the check: one of someone else's has just been removed
        inner = os.path.join(real, name)
        try:
            os.mkdir(inner, 0o700)
        except FileExistsError:
            pass
        except OSError as error:
            raise FolderError(f"cannot create {inner}: {error.strerror or error}") from None
    return notes


def _check_folder(real: str, info: os.stat_result, path: str, what: str, user: int, notes: list[str]) -> None:
    shown = path if real == path else f"{path} (that is {real})"
    if not stat.S_ISDIR(info.st_mode):
        raise FolderError(f"the {what} {shown} is not a folder", hint="remove it, and clientcheck makes the folder")
    if info.st_uid != user:
        raise FolderError(
            f"the {what} {shown} belongs to another user (uid {info.st_uid}), not to uid {user}: not used",
            hint="it must be yours alone, as ~/.ssh must be for OpenSSH; remove it, and clientcheck makes it anew",
        )
    if info.st_mode & 0o077:
        try:
            os.chmod(real, 0o700)
        except OSError as error:
            raise FolderError(f"cannot make the {what} {shown} owner-only: {error.strerror or error}") from None
        notes.append(f"the {what} {shown} was open to others (mode {stat.S_IMODE(info.st_mode):04o}): made owner-only")


def _check_entries(
    real: str,
    path: str,
    what: str,
    user: int,
    notes: list[str],
    ours: Callable[[str], bool],
    subfolders: tuple[str, ...] = (),
    depth: int = 0,
) -> None:
    try:
        entries = list(os.scandir(real))
    except OSError as error:
        raise FolderError(f"cannot read the {what} {path}: {error.strerror or error}") from None
    for entry in entries:
        if depth == 0 and not ours(entry.name) and entry.name not in subfolders:
            continue  # not clientcheck's: neither trusted nor touched
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue  # gone since the listing
        reason = _untrusted(info, user)
        if reason is not None:
            _remove(entry.path, info, what, path)
            notes.append(f"removed {entry.path} from the {what}: {reason}")
        elif stat.S_ISDIR(info.st_mode) and depth == 0 and entry.name in subfolders:
            _check_folder(entry.path, info, entry.path, what, user, notes)
            _check_entries(entry.path, path, what, user, notes, lambda _name: True, (), depth + 1)
        elif stat.S_ISREG(info.st_mode) and info.st_mode & 0o077:
            try:
                os.chmod(entry.path, 0o600)
            except OSError as error:
                raise FolderError(f"cannot make {entry.path} owner-only: {error.strerror or error}") from None
            notes.append(f"{entry.path} could be read by others: made owner-only")


def _untrusted(info: os.stat_result, user: int) -> str | None:
    """Why an entry of our folder cannot be trusted, or None."""
    if info.st_uid != user:
        return f"it belongs to another user (uid {info.st_uid})"
    if stat.S_ISREG(info.st_mode) and info.st_nlink > 1:
        return "a hard link to a file elsewhere"
    if stat.S_ISREG(info.st_mode) and info.st_mode & 0o022:
        return f"others could write it (mode {stat.S_IMODE(info.st_mode):04o}), and may still hold it open"
    return None


def _remove(entry: str, info: os.stat_result, what: str, path: str) -> None:
    try:
        if stat.S_ISDIR(info.st_mode):
            import shutil

            shutil.rmtree(entry)  # never follows a link inside (it removes the link)
        else:
            os.unlink(entry)
    except OSError as error:
        raise FolderError(
            f"cannot remove {entry}, which the {what} {path} must not hold: {error.strerror or error}"
        ) from None

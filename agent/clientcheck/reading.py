"""Reading the files a run is given or finds outside ``--root`` (rule files, configuration, keys, registry
exports, policies): only regular files, and never more than a cap.

Why it matters: such a path may name a FIFO (the open would block forever: a login that never ends), a
device (``/dev/zero`` reads until memory runs out; opening some devices has effects of its own) or a huge
file. So the path is looked at before it is opened, opened without blocking, looked at again through the
open descriptor (it may have been replaced in between), and read to at most ``limit + 1`` bytes.
Files below ``--root`` go through ``inspect.fsroot.Root``, which applies the same rule inside the tree.
"""

from __future__ import annotations

import os
import stat
import sys

_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO put in place after the check must not block the open
    | getattr(os, "O_NOCTTY", 0)  # nor a terminal become ours
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)  # Windows: no newline translation
)
_CHUNK = 1024 * 1024


class FileProblem(Exception):  # noqa: N818 - callers turn it into their own error, with its own wording
    """A file that is not read: ``reason`` is one line, without the path (callers name the file their way:
    ``--registry X: …``); ``missing`` when there is no such file (some files are optional)."""

    def __init__(self, path: str, reason: str, *, missing: bool = False) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
        self.missing = missing


def size_text(limit: int) -> str:
    """``1 MiB``, ``64 KiB``: how the caps are said in messages."""
    if limit >= 1024 * 1024 and limit % (1024 * 1024) == 0:
        return f"{limit // 1024 // 1024} MiB"
    if limit >= 1024 and limit % 1024 == 0:
        return f"{limit // 1024} KiB"
    return f"{limit} bytes"


def kind_of(mode: int) -> str | None:
    """What a file that is not a regular one is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _refuse(path: str, info: os.stat_result, limit: int) -> None:
    kind = kind_of(info.st_mode)
    if kind is not None:
        raise FileProblem(path, f"{kind}, not a regular file")
    if info.st_size > limit:
        raise FileProblem(path, f"larger than {size_text(limit)}")


def _refuseother_writers(path: str, info: os.stat_result) -> None:
    """A file that decides what a run trusts (settings: where the rules come from, which key signs them,
    where reports go; a CA bundle) must be changeable only by the user running clientcheck or by root: the
    file, and every folder above it (whoever may write a folder may rename another file into its place).
    Refused: an owner that is another user; writable by every user (a sticky folder, like /tmp, excepted:
    there only a file's owner may replace it); and, for a run as root, writable by a group other than
    root's. Group-writable is allowed otherwise (a umask of 002 gives every file of a user's own private
    group that). POSIX only: Windows keeps its permissions in ACLs, which st_mode does not show."""
    if sys.platform == "win32":
        return
    user = os.geteuid()
    problem = other_writers(info, user, folder=False)
    if problem:
        hint = " (chmod o-w it)" if problem == "writable by every user" else ""
        raise FileProblem(path, f"{problem}: not trusted as settings{hint}")
    folders = {os.path.dirname(os.path.abspath(path)), os.path.dirname(os.path.realpath(path))}
    for start in sorted(folders):
        folder = start
        while True:
            try:
                found = os.stat(folder)
            except OSError:
                break  # what cannot be looked at cannot be judged; the file itself was opened
            problem = other_writers(found, user, folder=True)
            if problem:
                raise FileProblem(path, f"its folder {folder} is {problem}: not trusted as settings")
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent


def other_writers(info: os.stat_result, user: int, *, folder: bool) -> str | None:
    """Who else than ``user`` and root may change what ``info`` describes, in words; None for nobody."""
    if info.st_uid not in (user, 0):
        return f"owned by another user (uid {info.st_uid})"
    sticky = folder and bool(info.st_mode & stat.S_ISVTX)
    if info.st_mode & stat.S_IWOTH and not sticky:
        return "writable by every user"
    if user == 0 and info.st_mode & stat.S_IWGRP and info.st_gid != 0 and not sticky:
        return f"writable by group {info.st_gid}"
    return None


def _failed(path: str, error: OSError) -> FileProblem:
    missing = isinstance(error, (FileNotFoundError, NotADirectoryError))
    return FileProblem(path, f"cannot read: {error.strerror or type(error).__name__}", missing=missing)


def open_regular(path: str, limit: int, *, settings: bool = False) -> int:
    """A read-only descriptor of the regular file at ``path``, no larger than ``limit`` (and, for a file
    of ``settings``, changeable only by the user or root). Raises ``FileProblem``. The caller closes it."""
    try:
        _refuse(path, os.stat(path), limit)  # before the open: opening a device can do things
        descriptor = os.open(path, _FLAGS)
    except OSError as error:
        raise _failed(path, error) from None
    try:
        opened = os.fstat(descriptor)  # what was opened, which may not be what was looked at
        _refuse(path, opened, limit)
        if settings:
            _refuseother_writers(path, opened)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def check_file(path: str, limit: int, *, settings: bool = False) -> None:
    """Raise ``FileProblem`` unless ``path`` is a regular file of at most ``limit`` bytes that can be
    opened (and, with ``settings``, that only the user or root could have written): for files another
    library opens itself (the CA bundle ``requests`` reads)."""
    os.close(open_regular(path, limit, settings=settings))


def read_file(path: str, limit: int, *, settings: bool = False) -> bytes:
    """The bytes of the regular file at ``path``. Raises ``FileProblem`` for a missing, unreadable or
    non-regular file, or one larger than ``limit`` bytes (also one that grows past it while read), and for
    a file of ``settings`` that another user could have written."""
    descriptor = open_regular(path, limit, settings=settings)
    try:
        # What the file says it holds, and one byte more to see whether it holds more: a file that grows
        # (or a file system that reports no size) is read in chunks up to the cap, never beyond it.
        size = os.fstat(descriptor).st_size
        chunks = [os.read(descriptor, size + 1)]
        total = len(chunks[0])
        while chunks[-1] and total <= limit and total != size:  # a regular file's short read is its end
            chunks.append(os.read(descriptor, min(_CHUNK, limit + 1 - total)))
            total += len(chunks[-1])
    except OSError as error:
        raise _failed(path, error) from None
    finally:
        os.close(descriptor)
    if total > limit:
        raise FileProblem(path, f"larger than {size_text(limit)}")
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def read_text(path: str, limit: int) -> str:
    """The file as UTF-8 text (a byte-order mark dropped). Raises ``FileProblem``, also for bytes that are
    not UTF-8."""
    data = read_file(path, limit)
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        raise FileProblem(path, f"not UTF-8 text (byte {error.start})") from None

"""Read files of a machine below an injectable root: ``/`` for the running machine, or a mounted disk or
captured tree for ``--root``. Absolute symlinks are followed *inside* the root, as the machine would see
them, never out into the machine running the check; so are ``..`` components, which stop at the root.

The same class serves Windows disks (``fold_case``): their paths are found without regard to case, as
Windows finds them, also in a capture kept on a case-sensitive file system."""

from __future__ import annotations

import os
import posixpath
import stat

from clientcheck.model import Unreadable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

MAX_TEXT_BYTES = 16 * 1024 * 1024
# O_BINARY: Windows (which may inspect a captured tree too) would otherwise translate line ends in what it
# reads from a descriptor.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_READ_STEP = 64 * 1024  # how much more to ask for at a time from a file that grew after it was opened
_MAX_LINKS = 40
_MAX_DEPTH = 8
_pread = getattr(os, "pread", None)  # not on Windows, which may inspect a Linux --root tree too


class OpenFile:
    """A regular file open for reading pieces of it at any offset: a package database is searched a few
    windows at a time, whatever its size, instead of being read whole."""

    __slots__ = ("size", "_descriptor")

    def __init__(self, descriptor: int, size: int) -> None:
        self._descriptor = descriptor
        self.size = size  # when opened: the file may shrink or grow while it is read

    def read_at(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes from ``offset``; fewer at the end of the file. Raises ``OSError``."""
        if _pread is not None:
            data: bytes = _pread(self._descriptor, size, offset)
            return data
        os.lseek(self._descriptor, offset, os.SEEK_SET)
        return os.read(self._descriptor, size)

    def close(self) -> None:
        if self._descriptor != -1:
            os.close(self._descriptor)
            self._descriptor = -1


class Root:
    def __init__(self, base: str, *, fold_case: bool = False) -> None:
        self.base = os.path.abspath(base)
        self.is_host = self.base == "/" and not fold_case
        self.fold_case = fold_case
        self.problems: list[str] = []  # files that exist but could not be read, one line each
        # Of those, the places whose contents decide what is installed (an applications folder, a package
        # database): what they hold may be missing, so the verdict cannot be "ok". A caller says so by
        # naming what a place ``hides`` when it reads it.
        self.unreadable: list[Unreadable] = []
        self._folded: dict[str, dict[str, str]] = {}  # folder on the host -> lower-cased name -> name
        self._real_folders: dict[str, str] = {}  # the running machine's folders, symlinks resolved

    def host_path(self, path: str) -> str | None:
        """Where the machine's absolute ``path`` is on this host, with its symlinks resolved in the root;
        None when they cannot be (a loop).

        On the running machine the kernel resolves symlinks itself, so nothing is done here: that is the
        path taken at every login, and it must stay cheap.
        """
        if self.is_host:
            return path
        resolved = self.resolve(path)
        return self.base + resolved if resolved is not None else None

    def resolve(self, path: str) -> str | None:
        """The machine's path with symlinks followed as the machine would follow them; None for a loop.

        Every component is resolved here, so the host is only ever handed a path without symlinks below the
        root: a link, however deep, can never lead out of the tree to the host's own files.
        """
        if self.is_host:
            return self._host_realpath(path)
        parts = [part for part in path.split("/") if part]
        resolved = "/"
        links = 0
        while parts:
            part = parts.pop(0)
            if part == ".":
                continue
            if part == "..":
                resolved = posixpath.dirname(resolved)
                continue
            candidate = posixpath.join(resolved, part)
            host = self.base + candidate
            if self.fold_case and not os.path.lexists(host):
                name = self._name_in(self.base + resolved, part)
                if name is not None:
                    candidate = posixpath.join(resolved, name)
                    host = self.base + candidate
            if os.path.islink(host):
                links += 1
                if links > _MAX_LINKS:
                    self.problems.append(f"{path}: too many levels of symbolic links, not read")
                    return None
                target = os.readlink(host)
                if target.startswith("/"):
                    resolved = "/"
                parts = [p for p in target.split("/") if p] + parts
            else:
                resolved = candidate
        return resolved

    def _host_realpath(self, path: str) -> str:
        """``os.path.realpath``, with each folder resolved once per run: a machine's programs lie in a few
        folders, and realpath would look at every component of /usr/bin again for each of them."""
        folder, name = posixpath.split(path)
        if not folder.startswith("/") or name in ("", ".", "..") or "//" in path or "/." in folder:
            return os.path.realpath(path)
        real = self._real_folders.get(folder)
        if real is None:
            real = self._real_folders[folder] = os.path.realpath(folder)
        candidate = posixpath.join(real, name)
        return os.path.realpath(candidate) if os.path.islink(candidate) else candidate

    def _name_in(self, folder: str, name: str) -> str | None:
        """The entry of the host's ``folder`` that is ``name`` without regard to case; None if none is."""
        names = self._folded.get(folder)
        if names is None:
            try:
                listed = os.listdir(folder)
            except OSError:
                listed = []
            names = self._folded[folder] = {}
            for entry in sorted(listed):  # two names that differ only in case: the first, as sorted, wins
                names.setdefault(entry.lower(), entry)
        return names.get(name.lower())

    def exists(self, path: str) -> bool:
        host = self.host_path(path)
        return host is not None and os.path.exists(host)

    def is_file(self, path: str) -> bool:
        host = self.host_path(path)
        return host is not None and os.path.isfile(host)

    def is_dir(self, path: str) -> bool:
        host = self.host_path(path)
        return host is not None and os.path.isdir(host)

    def listdir(self, path: str, hides: str | None = None) -> list[str]:
        """Names in a directory, sorted; empty when it is missing. Unreadable directories are noted (as
        ``unreadable`` when the caller names what they may hide)."""
        host = self.host_path(path)
        if host is None:
            return []
        try:
            return sorted(os.listdir(host))
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as error:
            self.note(path, error, hides)
            return []

    def walk_files(self, path: str, suffix: str, hides: str | None = None) -> Iterator[tuple[str, str]]:
        """(relative path, machine path) of files ending in ``suffix`` below ``path``, sorted, recursively.

        Symlinked folders are followed, but each folder is visited once and at most ``_MAX_DEPTH`` deep: a
        link back to its parent must not turn a login run into an endless one.
        """
        yield from self._walk(path, suffix, "", set(), 0, hides)

    def _walk(
        self, path: str, suffix: str, prefix: str, seen: set[tuple[int, int]], depth: int, hides: str | None
    ) -> Iterator[tuple[str, str]]:
        host = self.host_path(path)
        try:
            info = os.stat(host) if host is not None else None
        except (FileNotFoundError, NotADirectoryError):
            info = None
        except OSError as error:  # a folder on the way that may not be entered (another user's home)
            self.note(path, error, hides)
            info = None
        if info is None or (info.st_dev, info.st_ino) in seen or depth > _MAX_DEPTH:
            return
        seen.add((info.st_dev, info.st_ino))
        for name in self.listdir(path, hides):
            full = f"{path}/{name}"
            if name.endswith(suffix):
                yield prefix + name, full
            elif self.is_dir(full):
                yield from self._walk(full, suffix, f"{prefix}{name}/", seen, depth + 1, hides)

    def read_bytes(self, path: str, limit: int = MAX_TEXT_BYTES, hides: str | None = None) -> bytes | None:
        """The file's bytes, or None when it is missing (silently) or cannot be read (noted in ``problems``,
        or in ``unreadable`` when the caller names what it may hide).

        Only regular files are read: a FIFO or device in place of a file must not hang a login run, so the
        file is opened without blocking and checked before reading.
        """
        opened = self._open_regular(path, hides, limit)
        if opened is None:
            return None
        descriptor, size = opened
        try:
            data = _read_up_to(descriptor, size, limit)
        except OSError as error:
            self.note(path, error, hides)
            return None
        finally:
            os.close(descriptor)
        if len(data) > limit:  # it grew while we read it
            self.record(path, f"larger than {_size(limit)}, not read", hides)
            return None
        return data

    def open_file(self, path: str, hides: str | None = None) -> OpenFile | None:
        """The regular file at ``path``, open to be read in pieces at any size; None when it is missing
        (silently) or cannot be opened (noted in ``problems``, or in ``unreadable`` when the caller names
        what it may hide). Opened without blocking, as ``read_bytes`` opens, so a FIFO in its place cannot
        hang the run."""
        opened = self._open_regular(path, hides)
        return OpenFile(*opened) if opened is not None else None

    def _open_regular(self, path: str, hides: str | None, limit: int | None = None) -> tuple[int, int] | None:
        """(descriptor, size) of the regular file at ``path``, opened without blocking, no larger than
        ``limit``; None (and the problem noted) otherwise. The caller closes the descriptor."""
        host = self.host_path(path)
        if host is None:
            return None
        try:
            descriptor = os.open(host, _OPEN_FLAGS)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as error:
            self.note(path, error, hides)
            return None
        info = os.fstat(descriptor)
        if stat.S_ISREG(info.st_mode) and (limit is None or info.st_size <= limit):
            return descriptor, info.st_size
        os.close(descriptor)
        if stat.S_ISREG(info.st_mode):
            problem = f"larger than {_size(limit or 0)}"
        else:
            problem = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        self.record(path, f"{problem}, not read", hides)
        return None

    def read_text(self, path: str, limit: int = MAX_TEXT_BYTES, hides: str | None = None) -> str | None:
        data = self.read_bytes(path, limit, hides)
        if data is None:
            return None
        # Undecodable bytes are replaced, not fatal: one bad byte in a comment must not hide a package.
        return data.decode("utf-8", errors="replace")

    def note(self, path: str, error: OSError, hides: str | None = None) -> None:
        self.record(path, f"cannot read: {error.strerror or type(error).__name__}", hides)

    def record(self, path: str, problem: str, hides: str | None = None) -> None:
        """Note that ``path`` could not be read: a place that may hide an installation (``hides`` says
        what) is ``unreadable``; anything else is a warning."""
        if hides is None:
            self.problems.append(f"{path}: {problem}")
        else:
            self.unreadable.append(Unreadable(path, problem, hides))


def _read_up_to(descriptor: int, size: int, limit: int) -> bytes:
    """The bytes of the open file, at most ``limit + 1`` (one more than the limit tells a file that grew past
    it). Read straight from the descriptor: a buffered file object costs five more system calls per file,
    and a check reads dozens. ``size`` is the file's size when it was opened: one byte more is asked for,
    and a file that did not change answers with exactly ``size`` bytes, its end, in one call. A file that
    says it is empty (/proc, some FUSE file systems) or grew is read on to its end."""
    chunks: list[bytes] = []
    total = 0
    want = min(size, limit) + 1
    while total <= limit:
        chunk = os.read(descriptor, want)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total == size:  # a regular file's short read is its end
            break
        want = min(max(want, _READ_STEP), limit + 1 - total)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _size(limit: int) -> str:
    from clientcheck.reading import size_text  # only when a file is refused

    return size_text(limit)

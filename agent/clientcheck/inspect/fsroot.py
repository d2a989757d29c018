"""Read files of a machine below an injectable root: ``/`` for the running machine, or a mounted disk or
captured tree for ``--root``. Absolute symlinks are followed *inside* the root, as the machine would see
them, never out into the machine running the check."""

from __future__ import annotations

import os
import posixpath
import stat

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

MAX_TEXT_BYTES = 16 * 1024 * 1024
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_MAX_LINKS = 40


class Root:
    def __init__(self, base: str) -> None:
        self.base = os.path.abspath(base)
        self.is_host = self.base == "/"
        self.problems: list[str] = []  # files that exist but could not be read, one line each

    def host_path(self, path: str) -> str:
        """Where the machine's absolute ``path`` is on this host, with its symlinks resolved in the root.

        On the running machine the kernel resolves symlinks itself, so nothing is done here: that is the
        path taken at every login, and it must stay cheap.
        """
        if self.is_host:
            return path
        return self.base + self.resolve(path)

    def resolve(self, path: str) -> str:
        """The machine's path with symlinks followed as the machine would follow them."""
        if self.is_host:
            return os.path.realpath(path)
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
            if os.path.islink(host):
                links += 1
                if links > _MAX_LINKS:
                    return candidate  # a loop: stop where we are rather than spin
                target = os.readlink(host)
                if target.startswith("/"):
                    resolved = "/"
                parts = [p for p in target.split("/") if p] + parts
            else:
                resolved = candidate
        return resolved

    def exists(self, path: str) -> bool:
        return os.path.exists(self.host_path(path))

    def is_file(self, path: str) -> bool:
        return os.path.isfile(self.host_path(path))

    def is_dir(self, path: str) -> bool:
        return os.path.isdir(self.host_path(path))

    def listdir(self, path: str) -> list[str]:
        """Names in a directory, sorted; empty when it is missing. Unreadable directories are noted."""
        try:
            return sorted(os.listdir(self.host_path(path)))
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as error:
            self.note(path, error)
            return []

    def walk_files(self, path: str, suffix: str) -> Iterator[tuple[str, str]]:
        """(relative path, machine path) of files ending in ``suffix`` below ``path``, sorted, recursively."""
        for name in self.listdir(path):
            full = f"{path}/{name}"
            if name.endswith(suffix):
                yield name, full
            elif self.is_dir(full):
                for relative, nested in self.walk_files(full, suffix):
                    yield f"{name}/{relative}", nested

    def read_bytes(self, path: str, limit: int = MAX_TEXT_BYTES) -> bytes | None:
        """The file's bytes, or None when it is missing (silently) or cannot be read (noted in ``problems``).

        Only regular files are read: a FIFO or device in place of a file must not hang a login run, so the
        file is opened without blocking and checked before reading.
        """
        try:
            descriptor = os.open(self.host_path(path), _OPEN_FLAGS)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as error:
            self.note(path, error)
            return None
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            os.close(descriptor)
            if stat.S_ISREG(info.st_mode):
                problem = f"larger than {limit // 1024 // 1024} MiB"
            else:
                problem = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            self.problems.append(f"{path}: {problem}, not read")
            return None
        with os.fdopen(descriptor, "rb") as stream:
            # read() sizes its buffer from the file; read(limit + 1) would allocate the whole limit.
            try:
                data = stream.read()
            except OSError as error:
                self.note(path, error)
                return None
        if len(data) > limit:  # it grew while we read it
            self.problems.append(f"{path}: larger than {limit // 1024 // 1024} MiB, not read")
            return None
        return data

    def read_text(self, path: str, limit: int = MAX_TEXT_BYTES) -> str | None:
        data = self.read_bytes(path, limit)
        if data is None:
            return None
        # Undecodable bytes are replaced, not fatal: one bad byte in a comment must not hide a package.
        return data.decode("utf-8", errors="replace")

    def note(self, path: str, error: OSError) -> None:
        reason = error.strerror or type(error).__name__
        self.problems.append(f"{path}: cannot read: {reason}")

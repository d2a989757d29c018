"""Read files of a machine below an injectable root: ``/`` for the running machine, or a mounted disk or
captured tree for ``--root``. Absolute symlinks are followed *inside* the root, as the machine would see
them, never out into the machine running the check."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator

MAX_TEXT_BYTES = 16 * 1024 * 1024
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
        """The file's bytes, or None when it is missing (silently) or unreadable (noted)."""
        too_big = f"{path}: larger than {limit // 1024 // 1024} MiB, not read"
        try:
            with open(self.host_path(path), "rb") as stream:
                # Size first, then read(): read(limit + 1) would allocate the whole limit for every small file.
                if os.fstat(stream.fileno()).st_size > limit:
                    self.problems.append(too_big)
                    return None
                data = stream.read()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except OSError as error:
            self.note(path, error)
            return None
        if len(data) > limit:  # a file that grew while we read it
            self.problems.append(too_big)
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

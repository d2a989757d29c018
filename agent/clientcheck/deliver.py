"""Getting text where it should go: stdout, or a file written atomically."""

from __future__ import annotations

import os
import sys

from clientcheck.errors import OutputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO


def write_atomic(path: str, text: str | bytes, *, mode: int | None = None) -> None:
    """Write ``text`` (or bytes, kept byte for byte) to ``path`` so that readers see the old file or the
    new one, never a part.

    The temporary file sits in the same directory (a rename is atomic only within one file system) and is
    created owner-only; it then gets ``mode``, else the mode of the file it replaces, else what the umask
    allows a new file (a report may be read by a collector running as another user).
    """
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        raise OutputError(f"cannot write {path}: folder {directory} does not exist")
    if mode is None:
        try:
            mode = os.stat(path).st_mode & 0o777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        except OSError as error:
            raise OutputError(f"cannot write {path}: {error.strerror}") from None
    temp = os.path.join(directory, f".{os.path.basename(path)}.{os.urandom(6).hex()}.tmp")
    created = False
    try:
        descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        created = True
        # backslashreplace: a file name that is not UTF-8 (kept by Python as a surrogate escape) is written
        # as \udcff, not allowed to fail the whole report.
        data = text if isinstance(text, bytes) else text.encode("utf-8", errors="backslashreplace")
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            if os.chmod in os.supports_fd:
                os.chmod(stream.fileno(), mode)  # on the open file: a path could be swapped for a symlink
            else:
                os.chmod(temp, mode)  # Windows: no fchmod
            os.fsync(stream.fileno())
        os.replace(temp, path)
        created = False
        _sync_folder(directory)
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        if created:
            try:
                os.unlink(temp)
            except OSError:
                pass  # nothing more can be done; the error that brought us here is what matters


def _sync_folder(directory: str) -> None:
    """Make the rename itself durable (the new name reaches the disk), where the system allows it."""
    try:
        descriptor = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems cannot sync a folder; the file itself is already on disk
    finally:
        os.close(descriptor)


def write_stream(text: str, stream: TextIO | None = None) -> None:
    """Print to stdout (or ``stream``); quietly nothing when there is none (``pythonw``, a service).

    When the reader has gone (``clientcheck | head -1``), the rest is dropped quietly and the run keeps
    its own exit status. Any other failure to write (a full disk behind ``> file``) is an ``OutputError``.
    """
    target = stream if stream is not None else sys.stdout
    if target is None:
        return
    try:
        try:
            target.write(text)
        except UnicodeEncodeError:
            encoding = getattr(target, "encoding", None) or "ascii"
            target.write(text.encode(encoding, errors="backslashreplace").decode(encoding))
        target.flush()
    except BrokenPipeError:
        _discard_stdout(target)
    except OSError as error:
        raise OutputError(f"cannot write to standard output: {error.strerror or error}") from None


def _discard_stdout(target: TextIO) -> None:
    # Point the file descriptor at /dev/null so the interpreter's final flush cannot fail again.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, target.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass

"""Getting text where it should go: stdout, or a file written atomically."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Optional, TextIO

from clientcheck.errors import OutputError


def write_atomic(path: Path, text: str, *, mode: Optional[int] = None) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never a part.

    The temporary file sits in the same directory (a rename is atomic only within one file system) and is
    created owner-only; it then gets ``mode``, else the mode of the file it replaces, else what the umask
    allows a new file (a report may be read by a collector running as another user).
    """
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise OutputError(f"cannot write {path}: folder {directory} does not exist")
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        except OSError as error:
            raise OutputError(f"cannot write {path}: {error.strerror}") from None
    temp_name = None
    try:
        descriptor, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
        temp_name = None
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        if temp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)


def write_stream(text: str, stream: Optional[TextIO] = None) -> None:
    """Print to stdout (or ``stream``); quietly nothing when there is none (``pythonw``, a service)."""
    target = stream if stream is not None else sys.stdout
    if target is None:
        return
    try:
        target.write(text)
    except UnicodeEncodeError:
        encoding = getattr(target, "encoding", None) or "ascii"
        target.write(text.encode(encoding, errors="replace").decode(encoding))
    target.flush()

"""Getting text where it should go: stdout, or a file, written so that nothing already there is damaged.

``write_output`` is for every path a person or a configuration names (``-o``, ``report.sinks``, ``rules
generate -o``, ``rules export -o``, key files, signatures): what is at the path decides how it is written.
``write_atomic`` is the primitive beneath it, and the writer for files in clientcheck's own folders.
"""

from __future__ import annotations

import os
import stat
import sys

from clientcheck.errors import OutputError, said

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TextIO


def write_atomic(path: str, text: str | bytes, *, mode: int | None = None, durable: bool = True) -> None:
    """Write ``text`` (or bytes, kept byte for byte) to ``path`` so that readers see the old file or the
    new one, never a part. Whatever the name held (a file, a link) is replaced: for a path someone named,
    use ``write_output``, which looks first.

    ``durable`` files reach the disk before this returns (the file, then its folder: two fsyncs, each a
    wait for the disk). A file the next run makes again (the login's last report and its marks) passes
    False: a crash may then leave it empty, never a mixture, and its readers take it as missing.

    The temporary file sits in the same directory (a rename is atomic only within one file system) and is
    created owner-only; it then gets ``mode``, else the mode of the file it replaces when that file was
    the user's own, else what the umask allows a new file (a report may be read by a collector running as
    another user).
    """
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        raise OutputError(said("cannot write {path}: folder {folder} does not exist", path=path, folder=directory))
    if mode is None:
        try:
            replaced = os.stat(path)
        except FileNotFoundError:
            replaced = None
        except OSError as error:
            raise OutputError(f"cannot write {path}: {error.strerror}") from None
        user = effective_uid()
        if replaced is not None and (user is None or replaced.st_uid == user):
            mode = replaced.st_mode & 0o777
        else:
            # A new file, or one another user owned (its mode, say 0666 in /tmp, was theirs to choose).
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
    temp = os.path.join(directory, f".{os.path.basename(path)}.{os.urandom(6).hex()}.tmp")
    created = False
    try:
        # O_BINARY: Windows' os.write would otherwise turn every 0x0A into 0x0D 0x0A (a UTF-16 task XML or
        # .reg file, a .lnk: damaged). O_NOFOLLOW: never through a link planted at the temporary name.
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        descriptor = os.open(temp, flags, 0o600)
        created = True
        # backslashreplace: a file name that is not UTF-8 (kept by Python as a surrogate escape) is written
        # as \udcff, not allowed to fail the whole report.
        data = text if isinstance(text, bytes) else text.encode("utf-8", errors="backslashreplace")
        try:
            _write_all(descriptor, data)  # straight to the descriptor: a file object costs three more calls
            if os.chmod in os.supports_fd:
                os.chmod(descriptor, mode)  # on the open file: a path could be swapped for a symlink
            else:
                os.chmod(temp, mode)  # Windows: no fchmod
            if durable:
                os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temp, path)
        created = False
        if durable:
            _sync_folder(directory)
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        if created:
            try:
                os.unlink(temp)
            except OSError:
                pass  # nothing more can be done; the error that brought us here is what matters


def effective_uid() -> int | None:
    """The user this process acts as; None on Windows (no POSIX owners)."""
    if sys.platform == "win32":
        return None
    return os.geteuid()


def write_output(path: str, text: str | bytes, *, mode: int | None = None) -> None:
    """Write ``text`` to a path someone named, doing to what is there only what they can have meant:

    - nothing, or a regular file: the file is replaced atomically (``write_atomic``; ``mode``, else the
      replaced file's own mode);
    - a device (``/dev/null``), a FIFO, or an open descriptor (``/dev/stdout``, ``/dev/fd/N``): written in
      place, never replaced; a FIFO no program reads is an error, not a wait;
    - a symbolic link: never replaced by a file. What it finally leads to is written as above (a file's
      temporary copy sits beside that file). Refused where following it is the attack the kernel's
      ``fs.protected_symlinks`` blocks: a link in a world-writable sticky folder (``/tmp``) made by neither
      that folder's owner nor this user;
    - a folder, a socket: an error.
    """
    if not path:
        raise OutputError("cannot write: the file name is empty")
    data = text if isinstance(text, bytes) else text.encode("utf-8", errors="backslashreplace")
    if sys.platform == "win32":
        target = os.path.realpath(path) if os.path.islink(path) else path
    else:
        if path.endswith("/") and not os.path.isdir(path):
            raise OutputError(f"cannot write {path}: a name ending in / must be a folder")
        from clientcheck.folders import descriptor_number, descriptor_pid, follow_links

        try:
            target = follow_links(path, _refuse_planted_link(path))
        except OSError as error:
            raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
        number = descriptor_number(target)
        if number is not None and descriptor_pid(target) == os.getpid():
            _write_descriptor(number, data, path)
            return
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
    shown = path if target == path else f"{path} (that is {target})"
    if info is None or stat.S_ISREG(info.st_mode):
        write_atomic(target, data, mode=mode)
    elif stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) or stat.S_ISFIFO(info.st_mode):
        _write_in_place(target, data, shown, fifo=stat.S_ISFIFO(info.st_mode))
    elif stat.S_ISDIR(info.st_mode):
        raise OutputError(f"cannot write {shown}: it is a folder", hint="name a file in it")
    elif stat.S_ISSOCK(info.st_mode):
        raise OutputError(f"cannot write {shown}: it is a socket, not a file")
    else:
        raise OutputError(f"cannot write {shown}: it is not a file")


def _refuse_planted_link(path: str) -> Callable[[str, os.stat_result, os.stat_result], None]:
    user = effective_uid()

    def check(link: str, info: os.stat_result, folder: os.stat_result) -> None:
        # The kernel's rule (fs.protected_symlinks): in a sticky, world-writable folder, a link is followed
        # only by its owner, or when the folder's owner made it. Checked here too, as not every system
        # turns the protection on, and the temporary-file-and-rename write would not meet it anyway.
        sticky_public = folder.st_mode & stat.S_ISVTX and folder.st_mode & stat.S_IWOTH
        if sticky_public and info.st_uid not in (user, folder.st_uid):
            raise OutputError(
                f"cannot write {path}: {link} is a symbolic link another user (uid {info.st_uid}) made in "
                f"the shared folder {os.path.dirname(link)}: not followed",
                hint="the kernel's fs.protected_symlinks refuses the same; write to a path you own",
            )

    return check


FIFO_WAIT = 2.0  # seconds a FIFO may take to get its reader (started just after us, as `cmd & cat fifo`)


def _write_in_place(target: str, data: bytes, shown: str, *, fifo: bool) -> None:
    """Write to a device or FIFO without replacing it. Opened non-blocking, so a FIFO nobody reads is an
    error (ENXIO) after a short wait for its reader instead of a wait forever; then written blocking, at
    the reader's pace."""
    import errno

    flags = os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    waited = 0.0
    while True:
        try:
            descriptor = os.open(target, flags)
            break
        except OSError as error:
            if not (fifo and error.errno == errno.ENXIO):
                raise OutputError(f"cannot write {shown}: {error.strerror or error}") from None
        if waited >= FIFO_WAIT:
            raise OutputError(
                f"cannot write {shown}: no program is reading the FIFO", hint="start the reader first"
            ) from None
        import time

        time.sleep(0.05)
        waited += 0.05
    try:
        if stat.S_ISREG(os.fstat(descriptor).st_mode):
            # Swapped for a file between the look and the open: writing into it would leave a mix.
            raise OutputError(f"cannot write {shown}: it changed while being opened")
        if sys.platform != "win32":
            import fcntl

            fcntl.fcntl(descriptor, fcntl.F_SETFL, fcntl.fcntl(descriptor, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        _write_all(descriptor, data)
    except OSError as error:
        raise OutputError(f"cannot write {shown}: {error.strerror or error}") from None
    finally:
        os.close(descriptor)


def _write_descriptor(number: int, data: bytes, path: str) -> None:
    """``/dev/stdout``, ``/dev/fd/N``: our own open descriptor, written where it stands (appending, if the
    shell opened it with ``>>``), as the shell's own ``> /dev/stdout`` does."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            try:
                stream.flush()  # what was printed before comes first
            except (OSError, ValueError):
                pass
    try:
        _write_all(number, data)
    except BrokenPipeError:
        return  # the reader has gone (| head): as for standard output, the rest is dropped quietly
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(descriptor, view)
        view = view[written:]


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

"""Who this machine is, for the collector: its host name, the hashes of its machine identifiers (the
``hints`` a server uses to recognise a re-imaged machine and to flag clones), and an id of its current boot.

Read from files, the registry or a system call, never a subprocess, and only when a report is shipped or an
agent enrolls (never on a check's path):

- Linux: ``/etc/machine-id`` (or D-Bus's ``/var/lib/dbus/machine-id``), ``/proc/sys/kernel/random/boot_id``,
  the kernel's host name (``/proc/sys/kernel/hostname``), all below a root a test chooses;
- Windows: ``MachineGuid`` under ``HKLM\\SOFTWARE\\Microsoft\\Cryptography`` through the registry seam, and
  the boot's time from ``NtQuerySystemInformation`` (the kernel's own record, the same all through a boot);
- macOS: the hardware UUID (``IOPlatformUUID``) from ``gethostuuid(2)``, and ``kern.boottime`` from
  ``sysctlbyname(3)``.

A hint is the SHA-256 (lower-case hex) of the identifier's text as the OS stores it, stripped of surrounding
whitespace, in UTF-8 (docs/collector-protocol.md). An identifier that cannot be read is left out: a hint
only helps, and a machine with none is still a host.
"""

from __future__ import annotations

import hashlib
import os

from clientcheck import dates as dt
from clientcheck.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    import ctypes

    from clientcheck.inspect.registry import Registry

CRYPTOGRAPHY_KEY = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography"
_MAX_ID_BYTES = 4096
_MAX_HOSTNAME = 255
# systemd writes this into /etc/machine-id on an image that has not booted yet: the same on every copy.
_UNSET_MACHINE_IDS = frozenset({"", "uninitialized"})


class MachineIdentity(Record):
    __slots__ = ("hostname", "hints", "boot_id")

    hostname: str  # as the machine calls itself; "" when it cannot be told
    hints: tuple[str, ...]  # SHA-256 hex digests of its machine identifiers
    boot_id: str | None  # the same through a boot, another after the next; None when unknown

    def __init__(self, hostname: str, hints: tuple[str, ...], boot_id: str | None) -> None:
        self._set(locals())


def hint(identifier: str) -> str:
    """The hint of one machine identifier (its text as the OS stores it)."""
    return hashlib.sha256(identifier.strip().encode("utf-8")).hexdigest()


def machine_identity(
    platform: str,
    *,
    root: str = "/",
    registry: Registry | None = None,
    system: SystemCalls | None = None,
) -> MachineIdentity:
    """The running machine's identity (``root``, ``registry`` and ``system`` are the seams tests give)."""
    calls = system or SystemCalls()
    if platform == "linux":
        machine_id = _first_line(root, "/etc/machine-id") or _first_line(root, "/var/lib/dbus/machine-id")
        identifiers = [machine_id] if machine_id and machine_id.lower() not in _UNSET_MACHINE_IDS else []
        boot_id = _first_line(root, "/proc/sys/kernel/random/boot_id")
        name = _first_line(root, "/proc/sys/kernel/hostname") or _first_line(root, "/etc/hostname")
        return MachineIdentity(_name(name or calls.hostname()), _hints(identifiers), boot_id or None)
    if platform == "windows":
        if registry is None:
            from clientcheck.inspect.registry import LiveRegistry

            registry = LiveRegistry()
        guid = registry.string(CRYPTOGRAPHY_KEY, "MachineGuid")
        return MachineIdentity(_name(calls.hostname()), _hints([guid] if guid else []), _boot_text(calls.boot_time()))
    uuid = calls.hardware_uuid()
    return MachineIdentity(_name(calls.hostname()), _hints([uuid] if uuid else []), _boot_text(calls.boot_time()))


def _hints(identifiers: list[str]) -> tuple[str, ...]:
    return tuple(sorted({hint(identifier) for identifier in identifiers if identifier.strip()}))


def _first_line(root: str, path: str) -> str | None:
    """The first line of a small file below ``root``, stripped; None when it cannot be read."""
    from clientcheck.reading import FileProblem, read_file

    try:
        data = read_file(os.path.join(root, path.lstrip("/")), _MAX_ID_BYTES)
    except (FileProblem, OSError):
        return None
    text = data.decode("utf-8", errors="replace").strip()
    return text.splitlines()[0].strip() if text else None


def _name(name: str | None) -> str:
    """A host name as the collector takes one: no control characters, at most 255 characters."""
    cleaned = "".join(char for char in (name or "") if char.isprintable()).strip()
    return cleaned[:_MAX_HOSTNAME]


def _boot_text(boot: dt.datetime | None) -> str | None:
    """The protocol's boot id on Windows and macOS: the boot's time, to the second, in UTC."""
    if boot is None:
        return None
    return boot.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class SystemCalls:
    """What is asked of the running system itself, not of its files: the seam tests replace. Each answers
    None when the system cannot tell (a failing call, another OS)."""

    def hostname(self) -> str | None:
        import socket

        try:
            return socket.gethostname()
        except OSError:
            return None

    def boot_time(self) -> dt.datetime | None:
        import sys

        if sys.platform == "win32":
            return _windows_boot_time()
        if sys.platform == "darwin":
            return _macos_boot_time()
        return None

    def hardware_uuid(self) -> str | None:
        import sys

        return _macos_hardware_uuid() if sys.platform == "darwin" else None


def _windows_boot_time() -> dt.datetime | None:  # pragma: no cover - Windows only
    """The boot's time as the kernel keeps it (``SYSTEM_TIMEOFDAY_INFORMATION.BootTime``, a FILETIME): the
    same value all through a boot, unlike now minus the uptime, which wobbles by a tick."""
    import ctypes
    import sys

    if sys.platform != "win32":
        return None

    class TimeOfDay(ctypes.Structure):
        _fields_ = (
            ("boot_time", ctypes.c_int64),
            ("current_time", ctypes.c_int64),
            ("time_zone_bias", ctypes.c_int64),
            ("time_zone_id", ctypes.c_uint32),
            ("reserved", ctypes.c_uint32),
            ("boot_time_bias", ctypes.c_uint64),
            ("sleep_time_bias", ctypes.c_uint64),
        )

    information = TimeOfDay()
    returned = ctypes.c_ulong(0)
    system_time_of_day_information = 3
    try:
        status = ctypes.windll.ntdll.NtQuerySystemInformation(
            system_time_of_day_information,
            ctypes.byref(information),
            ctypes.sizeof(information),
            ctypes.byref(returned),
        )
    except OSError:
        return None
    if status != 0 or information.boot_time <= 0:
        return None
    return filetime(information.boot_time)


def filetime(value: int) -> dt.datetime:
    """A Windows FILETIME (100-nanosecond ticks since 1601-01-01 UTC) as a datetime, to the second."""
    return dt.datetime(1601, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=value // 10_000_000)


def _macos_boot_time() -> dt.datetime | None:  # pragma: no cover - macOS only
    import ctypes

    class TimeValue(ctypes.Structure):
        _fields_ = (("seconds", ctypes.c_long), ("microseconds", ctypes.c_int32))

    libc = _libc()
    if libc is None:
        return None
    value = TimeValue()
    size = ctypes.c_size_t(ctypes.sizeof(value))
    if libc.sysctlbyname(b"kern.boottime", ctypes.byref(value), ctypes.byref(size), None, ctypes.c_size_t(0)) != 0:
        return None
    if value.seconds <= 0:
        return None
    return dt.datetime.fromtimestamp(value.seconds, dt.timezone.utc)


def _macos_hardware_uuid() -> str | None:  # pragma: no cover - macOS only
    """``IOPlatformUUID`` as ``ioreg`` shows it (upper-case): ``gethostuuid(2)`` answers the same 16 bytes."""
    import ctypes

    libc = _libc()
    if libc is None:
        return None
    raw = (ctypes.c_ubyte * 16)()

    class TimeSpec(ctypes.Structure):
        _fields_ = (("seconds", ctypes.c_long), ("nanoseconds", ctypes.c_long))

    wait = TimeSpec(1, 0)
    if libc.gethostuuid(raw, ctypes.byref(wait)) != 0:
        return None
    return uuid_text(bytes(raw))


def uuid_text(raw: bytes) -> str | None:
    """16 bytes as an upper-case UUID (``ioreg``'s spelling of IOPlatformUUID); None for all zeros."""
    if len(raw) != 16 or not any(raw):
        return None
    text = raw.hex().upper()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _libc() -> ctypes.CDLL | None:  # pragma: no cover - macOS only
    import ctypes

    try:
        return ctypes.CDLL("/usr/lib/libSystem.B.dylib", use_errno=True)  # macOS's C library, always there
    except OSError:
        return None

"""Windows shortcut (.lnk) files, written from Microsoft's published formats without any Windows API.

A Start-menu shortcut carrying an AppUserModelID is what lets a desktop program raise toast notifications:
Windows looks the ID up among the shortcuts and shows nothing when none matches. The layout follows
[MS-SHLLINK] (ShellLinkHeader, LinkInfo, StringData, ExtraData) and, for the ID itself, [MS-PROPSTORE]
(a serialized property storage holding System.AppUserModel.ID as a VT_LPWSTR).

The target is located through LinkInfo (a local path on a fixed drive) rather than an ID list: an ID list
needs shell-item formats that are only partly documented, and Windows resolves a link from LinkInfo alone.
Times are left zero (the format allows it), so the same inputs always give the same bytes: that is what
lets ``autostart status`` tell an up-to-date shortcut from a stale one.
"""

from __future__ import annotations

import struct

_HEADER_SIZE = 0x4C
# CLSID 00021401-0000-0000-C000-000000000046, in the little-endian GUID layout of the file.
_LINK_CLSID = bytes.fromhex("0114020000000000c000000000000046")

# LinkFlags ([MS-SHLLINK] 2.1.1)
_HAS_LINK_INFO = 0x00000002
_HAS_NAME = 0x00000004
_HAS_WORKING_DIR = 0x00000010
_HAS_ARGUMENTS = 0x00000020
_HAS_ICON_LOCATION = 0x00000040
_IS_UNICODE = 0x00000080

_FILE_ATTRIBUTE_ARCHIVE = 0x20
_SW_SHOWNORMAL = 1

# LinkInfo ([MS-SHLLINK] 2.3)
_VOLUME_ID_AND_LOCAL_BASE_PATH = 0x1
_LINK_INFO_HEADER = 0x1C
_LINK_INFO_HEADER_UNICODE = 0x24  # adds the offsets of the Unicode copies of the paths
_DRIVE_FIXED = 3

_PROPERTY_STORE_SIGNATURE = 0xA0000009
_STORAGE_VERSION = b"1SPS"  # 0x53505331, little-endian
# System.AppUserModel.ID: FMTID {9F4C2855-9F79-4B39-A8D0-E1D42DE1D5F3}, PID 5 ([MS-PROPSTORE], propkey.h).
APP_USER_MODEL_FMTID = bytes.fromhex("55284c9f799f394ba8d0e1d42de1d5f3")
APP_USER_MODEL_ID_PID = 5
_VT_LPWSTR = 0x001F

MAX_STRING_CHARS = 0xFFFF  # StringData counts are 16-bit


class ShellLinkError(ValueError):
    """The inputs cannot be written as a shortcut (a target that is not a local drive path, a huge string)."""


def shell_link(
    target: str,
    *,
    arguments: str = "",
    working_dir: str = "",
    description: str = "",
    icon: str = "",
    app_user_model_id: str | None = None,
) -> bytes:
    """The bytes of a shortcut to ``target`` (an absolute path on a drive, like ``C:\\Python\\pythonw.exe``)."""
    if len(target) < 3 or not target[0].isascii() or not target[0].isalpha() or target[1:3] != ":\\":
        raise ShellLinkError(f"{target!r} is not a path on a local drive (like C:\\…)")
    flags = _HAS_LINK_INFO | _IS_UNICODE
    strings = b""
    # StringData comes in this fixed order: NAME, (RELATIVE_PATH), WORKING_DIR, ARGUMENTS, ICON_LOCATION.
    for flag, text in (
        (_HAS_NAME, description),
        (_HAS_WORKING_DIR, working_dir),
        (_HAS_ARGUMENTS, arguments),
        (_HAS_ICON_LOCATION, icon),
    ):
        if text:
            flags |= flag
            strings += _counted_string(text)
    extra = b""
    if app_user_model_id is not None:
        extra += _property_store_block(APP_USER_MODEL_FMTID, APP_USER_MODEL_ID_PID, app_user_model_id)
    extra += struct.pack("<I", 0)  # TerminalBlock
    header = struct.pack(
        "<I16sIIQQQIIIHHII",
        _HEADER_SIZE,
        _LINK_CLSID,
        flags,
        _FILE_ATTRIBUTE_ARCHIVE,
        0,  # CreationTime: zero means "not set", and keeps the bytes reproducible
        0,  # AccessTime
        0,  # WriteTime
        0,  # FileSize: unknown, and only a hint for a broken link
        0,  # IconIndex
        _SW_SHOWNORMAL,
        0,  # HotKey: none
        0,  # Reserved1
        0,  # Reserved2
        0,  # Reserved3
    )
    return header + _link_info(target) + strings + extra


def _counted_string(text: str) -> bytes:
    data = text.encode("utf-16-le")
    count = len(data) // 2  # UTF-16 code units, as the format counts them
    if count > MAX_STRING_CHARS:
        raise ShellLinkError(f"a shortcut string cannot be longer than {MAX_STRING_CHARS} characters")
    return struct.pack("<H", count) + data


def _link_info(target: str) -> bytes:
    """LinkInfo with a VolumeID (a fixed drive, serial and label unknown) and the path as LocalBasePath.

    The ANSI field is read in the target machine's code page, which we cannot know here: a path that is not
    plain ASCII is also given in the Unicode fields (the larger header), which readers prefer.
    """
    unicode_needed = not target.isascii()
    ansi = target.encode("cp1252", errors="replace")  # best effort for old readers; exact for ASCII
    header_size = _LINK_INFO_HEADER_UNICODE if unicode_needed else _LINK_INFO_HEADER
    # VolumeID: size, drive type, serial number (0: unknown), label offset (0x10, just after), empty label
    volume_id = struct.pack("<IIII", 0x11, _DRIVE_FIXED, 0, 0x10) + b"\0"
    local_base_path = ansi + b"\0"
    common_path_suffix = b"\0"  # the whole path is in LocalBasePath
    volume_offset = header_size
    base_offset = volume_offset + len(volume_id)
    suffix_offset = base_offset + len(local_base_path)
    body = volume_id + local_base_path + common_path_suffix
    offsets = [volume_offset, base_offset, 0, suffix_offset]  # 0: no CommonNetworkRelativeLink
    if unicode_needed:
        base_unicode_offset = suffix_offset + len(common_path_suffix)
        base_unicode = target.encode("utf-16-le") + b"\0\0"
        suffix_unicode_offset = base_unicode_offset + len(base_unicode)
        body += base_unicode + b"\0\0"
        offsets += [base_unicode_offset, suffix_unicode_offset]
    size = header_size + len(body)
    fixed = struct.pack("<III", size, header_size, _VOLUME_ID_AND_LOCAL_BASE_PATH)
    return fixed + struct.pack(f"<{len(offsets)}I", *offsets) + body


def _property_store_block(fmtid: bytes, pid: int, value: str) -> bytes:
    """A PropertyStoreDataBlock holding one serialized property storage with one string property."""
    characters = value.encode("utf-16-le") + b"\0\0"
    unicode_string = struct.pack("<I", len(characters) // 2) + characters  # length counts the terminating NUL
    unicode_string += b"\0" * (-len(unicode_string) % 4)  # padded to a multiple of 4 bytes
    typed_value = struct.pack("<HH", _VT_LPWSTR, 0) + unicode_string
    # Serialized Property Value (integer name): size (including itself), id, a reserved byte, the value.
    property_value = struct.pack("<IIB", 9 + len(typed_value), pid, 0) + typed_value
    values = property_value + struct.pack("<I", 0)  # a zero-size value ends the list
    storage = struct.pack("<I", 24 + len(values)) + _STORAGE_VERSION + fmtid + values
    store = storage + struct.pack("<I", 0)  # a zero-size storage ends the store
    return struct.pack("<II", 8 + len(store), _PROPERTY_STORE_SIGNATURE) + store

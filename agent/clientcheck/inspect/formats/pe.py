"""The file version of a Windows executable (its VERSIONINFO resource), read from the PE file itself: what
Explorer shows as "File version", without Windows APIs, so a ``--root`` tree of a Windows disk can be
read on any OS.

The path through the file: the DOS header points to the PE header; its resource data directory gives the
resource tree's address; the tree's RT_VERSION entry leads to a VS_VERSIONINFO block, whose
VS_FIXEDFILEINFO holds the version as four 16-bit numbers.
"""

from __future__ import annotations

import os
import struct

TYPE_CHECKING = False
if TYPE_CHECKING:
    import mmap

RT_VERSION = 16
_FIXED_FILE_INFO_SIGNATURE = 0xFEEF04BD
_KEY = "VS_VERSION_INFO".encode("utf-16-le")


class PeError(ValueError):
    pass


def _unpack(fmt: str, data: bytes | mmap.mmap, offset: int) -> tuple[int, ...]:
    if offset < 0 or offset + struct.calcsize(fmt) > len(data):
        raise PeError("truncated or damaged executable")
    return struct.unpack_from(fmt, data, offset)


def _sections(data: bytes | mmap.mmap, header: int) -> tuple[list[tuple[int, int, int]], int]:
    """(virtual address, virtual size, file offset) of each section, and the resource table's address."""
    (signature,) = _unpack("<I", data, header)
    if signature != 0x4550:  # "PE\0\0"
        raise PeError("not a PE executable")
    count, optional_size = _unpack("<H", data, header + 6)[0], _unpack("<H", data, header + 20)[0]
    optional = header + 24
    (magic,) = _unpack("<H", data, optional)
    directories = optional + {0x10B: 96, 0x20B: 112}.get(magic, -1_000_000)
    resource_rva, _ = _unpack("<II", data, directories + 2 * 8)  # data directory 2: resources
    table = optional + optional_size
    sections = []
    for index in range(count):
        _name, virtual_size, virtual_address, raw_size, raw_offset = _unpack("<8sIIII", data, table + 40 * index)
        sections.append((virtual_address, max(virtual_size, raw_size), raw_offset))
    return sections, resource_rva


def _offset(sections: list[tuple[int, int, int]], rva: int) -> int:
    for address, size, raw in sections:
        if address <= rva < address + size:
            return raw + rva - address
    raise PeError("resource address outside every section")


def _first_entry(data: bytes | mmap.mmap, directory: int, wanted_id: int | None) -> int | None:
    """The offset field of a resource directory's entry (the one with ``wanted_id``, else the first), or
    None when it has none."""
    named, numbered = _unpack("<HH", data, directory + 12)
    for index in range(named + numbered):
        name, offset = _unpack("<II", data, directory + 16 + 8 * index)
        if wanted_id is None or (not name & 0x80000000 and name == wanted_id):
            return int(offset)
    return None


def read_file_version(path: str, limit: int = 1024 * 1024 * 1024) -> str | None:
    """The file version of the executable at ``path``. The file is mapped, not read: executables are
    megabytes, and only the pages on the way to the resource are touched. Only a regular file of at most
    ``limit`` bytes is opened (a FIFO in its place must not block the run)."""
    import mmap

    from clientcheck.reading import FileProblem, open_regular

    try:
        descriptor = open_regular(path, limit)
    except FileProblem as problem:
        raise PeError(problem.reason) from None
    try:
        if os.fstat(descriptor).st_size == 0:
            raise PeError("empty file")
        with mmap.mmap(descriptor, 0, access=mmap.ACCESS_READ) as mapped:
            return file_version(mapped)
    finally:
        os.close(descriptor)


def file_version(data: bytes | mmap.mmap) -> str | None:
    """``"131.0.6778.86"`` from an executable's bytes; None when it has no version resource."""
    if data[:2] != b"MZ":
        raise PeError("not a Windows executable")
    (header,) = _unpack("<I", data, 0x3C)
    sections, resource_rva = _sections(data, header)
    if resource_rva == 0:
        return None
    root = _offset(sections, resource_rva)
    entry = _first_entry(data, root, RT_VERSION)
    if entry is None:
        return None  # an executable without a version resource
    # Three levels: type -> name -> language; high bit set means "another directory follows".
    for _level in range(2):
        if not entry & 0x80000000:
            raise PeError("damaged resource tree")
        entry = _first_entry(data, root + (entry & 0x7FFFFFFF), None)
        if entry is None:
            raise PeError("damaged resource tree")
    data_rva, size = _unpack("<II", data, root + entry)
    block = _offset(sections, data_rva)
    if data[block + 6 : block + 6 + len(_KEY)] != _KEY:
        raise PeError("damaged version resource")
    fixed = (block + 6 + len(_KEY) + 2 + 3) & ~3  # the key's terminating NUL, then 32-bit alignment
    if fixed + 52 > block + size:
        raise PeError("damaged version resource")
    signature, _struct_version, high, low = _unpack("<IIII", data, fixed)
    if signature != _FIXED_FILE_INFO_SIGNATURE:
        raise PeError("damaged version resource")
    return f"{high >> 16}.{high & 0xFFFF}.{low >> 16}.{low & 0xFFFF}"

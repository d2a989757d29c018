"""rpm package headers as rpm stores them in its database (the "header blob"), parsed without librpm.

A blob is: int32 index count ``il``, int32 data length ``dl`` (big-endian), ``il`` index entries of
16 bytes (tag, type, offset, count), then ``dl`` bytes of data. We read only the few tags we need.
"""

from __future__ import annotations

import struct

from clientcheck.record import Record

TAG_NAME = 1000
TAG_VERSION = 1001
TAG_RELEASE = 1002
TAG_EPOCH = 1003
TAG_DIRINDEXES = 1116
TAG_BASENAMES = 1117
TAG_DIRNAMES = 1118

_TYPE_INT32 = 4
_TYPE_STRING = 6
_TYPE_STRING_ARRAY = 8
_TYPE_I18NSTRING = 9
_MAX_ENTRIES = 1_000_000


class RpmHeaderError(ValueError):
    pass


class RpmPackage(Record):
    __slots__ = ("name", "epoch", "version", "release")

    name: str
    epoch: int | None
    version: str
    release: str

    def __init__(self, name: str, epoch: int | None, version: str, release: str) -> None:
        self._set(locals())

    @property
    def evr(self) -> str:
        epoch = f"{self.epoch}:" if self.epoch is not None else ""
        return f"{epoch}{self.version}-{self.release}"


class RpmHeader:
    def __init__(self, blob: bytes) -> None:
        if len(blob) < 8:
            raise RpmHeaderError("header blob shorter than 8 bytes")
        count, data_length = struct.unpack_from(">ii", blob, 0)
        data_start = 8 + 16 * count
        if not 0 < count <= _MAX_ENTRIES or data_length < 0 or data_start + data_length > len(blob):
            raise RpmHeaderError(f"header blob sizes do not fit: {count} entries, {data_length} data bytes")
        self._blob = blob
        self._data = blob[data_start : data_start + data_length]
        self._entries: dict[int, tuple[int, int, int]] = {}
        for index in range(count):
            tag, kind, offset, items = struct.unpack_from(">iiii", blob, 8 + 16 * index)
            if not 0 <= offset < data_length:
                continue  # the region trailer and damaged entries: not ours to read
            self._entries.setdefault(tag, (kind, offset, items))

    def _strings(self, tag: int) -> list[str] | None:
        entry = self._entries.get(tag)
        if entry is None:
            return None
        kind, offset, items = entry
        if items < 0 or items > len(self._data):
            raise RpmHeaderError(f"tag {tag}: impossible count {items}")
        if kind not in (_TYPE_STRING, _TYPE_STRING_ARRAY, _TYPE_I18NSTRING):
            raise RpmHeaderError(f"tag {tag} is not a string (type {kind})")
        values: list[str] = []
        position = offset
        for _ in range(1 if kind == _TYPE_STRING else items):
            end = self._data.find(b"\0", position)
            if end == -1:
                raise RpmHeaderError(f"tag {tag}: string runs past the end of the data")
            values.append(self._data[position:end].decode("utf-8", errors="replace"))
            position = end + 1
        return values

    def string(self, tag: int) -> str | None:
        values = self._strings(tag)
        return values[0] if values else None

    def string_array(self, tag: int) -> list[str]:
        return self._strings(tag) or []

    def int32_array(self, tag: int) -> list[int]:
        entry = self._entries.get(tag)
        if entry is None:
            return []
        kind, offset, items = entry
        if kind != _TYPE_INT32 or items < 0 or offset + 4 * items > len(self._data):
            raise RpmHeaderError(f"tag {tag} is not an int32 array that fits the data")
        return list(struct.unpack_from(f">{items}i", self._data, offset))

    def package(self) -> RpmPackage:
        name, version, release = (self.string(t) for t in (TAG_NAME, TAG_VERSION, TAG_RELEASE))
        if not name or not version or release is None:
            raise RpmHeaderError("header lacks a name, version or release")
        epochs = self.int32_array(TAG_EPOCH)
        return RpmPackage(name=name, epoch=epochs[0] if epochs else None, version=version, release=release)

    def file_path(self, index: int) -> str | None:
        """The full path of file number ``index`` (dirname + basename), or None when out of range."""
        basenames = self.string_array(TAG_BASENAMES)
        dirindexes = self.int32_array(TAG_DIRINDEXES)
        dirnames = self.string_array(TAG_DIRNAMES)
        if not 0 <= index < min(len(basenames), len(dirindexes)):
            return None
        directory = dirindexes[index]
        if not 0 <= directory < len(dirnames):
            return None
        return dirnames[directory] + basenames[index]

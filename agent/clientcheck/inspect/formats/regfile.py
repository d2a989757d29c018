"""Registry exports (``.reg`` files) as regedit and ``reg export`` write them: the way a Windows machine's
registry reaches us when it is not the running one (a support engineer's capture, a test fixture).

The format: a header line (``Windows Registry Editor Version 5.00``, UTF-16LE with a byte-order mark; or
the old ``REGEDIT4``, in the ANSI code page), then ``[KEY]`` headers each followed by ``"name"=data`` lines.
Data is ``"string"``, ``dword:0000001f`` or ``hex:``/``hex(N):`` comma-separated bytes, which regedit wraps
at 80 columns with a trailing ``\\`` and two leading spaces on the next line.

regedit's own import skips whatever it cannot read without a word; we refuse it instead, naming the line,
so that a damaged or truncated capture is reported as such rather than read as a machine with fewer
programs installed.
"""

from __future__ import annotations

REG_NONE, REG_SZ, REG_EXPAND_SZ, REG_BINARY, REG_DWORD, REG_MULTI_SZ, REG_QWORD = 0, 1, 2, 3, 4, 7, 11

RegValue = tuple[int, object]
RegKeys = dict[str, dict[str, RegValue]]

_HEADER_5 = "Windows Registry Editor Version 5.00"
_HEADER_4 = "REGEDIT4"
_HEX_DIGITS = "0123456789abcdefABCDEF"
_BLANKS = " \t"
_ROOTS = {
    "HKEY_LOCAL_MACHINE": "HKEY_LOCAL_MACHINE",
    "HKEY_CURRENT_USER": "HKEY_CURRENT_USER",
    "HKEY_USERS": "HKEY_USERS",
    "HKEY_CLASSES_ROOT": "HKEY_CLASSES_ROOT",
    "HKEY_CURRENT_CONFIG": "HKEY_CURRENT_CONFIG",
    "HKLM": "HKEY_LOCAL_MACHINE",
    "HKCU": "HKEY_CURRENT_USER",
    "HKU": "HKEY_USERS",
    "HKCR": "HKEY_CLASSES_ROOT",
    "HKCC": "HKEY_CURRENT_CONFIG",
}


class RegFileError(ValueError):
    """A file that is not a readable registry export; ``line`` is the 1-based line of the file at fault."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


def _decode(data: bytes) -> tuple[str, bool]:
    """The file's text, and whether it is a REGEDIT4 file (whose hex(2)/hex(7) strings are single-byte)."""
    if data.startswith(b"\xff\xfe"):
        body, encoding, label = data[2:], "utf-16-le", "UTF-16LE"
        head = body[:512].decode(encoding, "replace")
    else:
        body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
        head = body[:256].decode("latin-1")  # the header is ASCII in every encoding we accept
        encoding, label = "utf-8", "UTF-8"
    header = head.split("\n", 1)[0].strip(" \t\r")
    if header not in (_HEADER_5, _HEADER_4):
        raise RegFileError(1, f"not a registry export (no {_HEADER_5!r} header)")
    version4 = header == _HEADER_4
    if version4 and encoding == "utf-8" and not data.startswith(b"\xef\xbb\xbf"):
        # regedit /a writes the ANSI code page; cp1252 is the Western one, and the only one we can assume.
        encoding, label = "cp1252", "cp1252"
    try:
        return body.decode(encoding), version4
    except UnicodeDecodeError as error:
        line = body[: error.start].decode(encoding, "replace").count("\n") + 1
        raise RegFileError(line, f"bytes that are not {label} text") from None


def _is_hex(text: str) -> bool:
    # str.strip with a character set: cheaper than a regex or a loop, and int(text, 16) alone would also
    # take "0x1f", "1_f", " 1f" and non-ASCII digits.
    return bool(text) and not text.strip(_HEX_DIGITS)


def _quoted(line: str, start: int) -> tuple[str, int] | None:
    """The text of the quoted string whose opening quote is just before ``start``, with its ``\\\\`` and
    ``\\"`` escapes undone, and where the text after its closing quote starts; None when it does not close
    on this line. Any other backslash is kept as it is, as a hand-written file means it."""
    pieces: list[str] = []
    position = start
    while True:
        quote = line.find('"', position)
        if quote == -1:
            return None
        backslash = line.find("\\", position, quote)
        if backslash == -1:
            if not pieces:
                return line[position:quote], quote + 1  # the usual case: nothing escaped
            pieces.append(line[position:quote])
            return "".join(pieces), quote + 1
        pieces.append(line[position:backslash])
        escaped = line[backslash + 1]  # exists: the quote comes later
        pieces.append(escaped if escaped in '\\"' else "\\" + escaped)
        position = backslash + 2


def _rest_is_empty(text: str) -> bool:
    """Whether what follows a value is nothing but blanks or a ``;`` comment (regedit's import allows one)."""
    text = text.lstrip(" \t\r")
    return not text or text[0] == ";"


def _plain_hex(text: str) -> bytes | None:
    """The bytes of ``xx,xx,...,xx`` exactly as regedit writes them, or None for anything else (an empty
    list, blanks, a byte that is not two hex digits). Checked with whole-string operations, not byte by
    byte: a binary value can be kilobytes long."""
    size = (len(text) + 1) // 3
    if len(text) != 3 * size - 1 or text[2::3] != "," * (size - 1):
        return None
    try:
        raw = bytes.fromhex(text.replace(",", ""))
    except ValueError:
        return None
    return raw if len(raw) == size else None  # fewer bytes: fromhex skipped blanks


def _hex_bytes(segment: str, line: int) -> bytes:
    """The bytes of one line's part of a hex list, ``xx,xx,...,xx``."""
    raw = _plain_hex(segment)
    if raw is not None:
        return raw
    for item in segment.split(","):
        if len(item) != 2 or not _is_hex(item):
            raise RegFileError(line, f"bad hex byte {item[:20]!r}: two hex digits expected")
    raise RegFileError(line, "bad hex bytes")  # not reached: some item failed above


def _hex_data(segment: str, line: int, lines: list[str], position: int) -> tuple[bytes, int]:
    """The bytes of a ``hex:`` list that starts with ``segment`` (on line ``line``) and goes on over the
    following lines while a line ends with ``\\``; and the index in ``lines`` of the line after it."""
    if segment.endswith(",\\"):
        # As regedit wraps it: every line but the last ends with ",\\" and the next starts with two
        # spaces. Joined and read at once; anything else is read line by line below, to name the line.
        end, count = position, len(lines)
        while end < count and lines[end].endswith(",\\"):
            end += 1
        if end < count:
            raw = _plain_hex((segment + "".join(lines[position : end + 1])).replace(",\\  ", ","))
            if raw is not None:
                return raw, end + 1
    chunks: list[bytes] = []
    while True:
        if ";" in segment:
            segment = segment.partition(";")[0]
        segment = segment.strip(" \t\r")
        continued = segment.endswith("\\")
        if continued:
            segment = segment[:-1].rstrip(_BLANKS)
            if segment:
                if segment[-1] != ",":
                    raise RegFileError(line, "',' expected before the '\\' that continues the hex list")
                segment = segment[:-1]
        elif segment.endswith(","):
            raise RegFileError(line, "hex list ends with ','")
        if segment:
            chunks.append(_hex_bytes(segment, line))
        if not continued:
            return b"".join(chunks), position
        # Blank and comment lines inside a continued list are skipped, as regedit's import does.
        while True:
            if position >= len(lines):
                raise RegFileError(line, "truncated export: the file ends inside a hex value")
            segment = lines[position]
            position += 1
            stripped = segment.strip(" \t\r")
            if stripped and stripped[0] != ";":
                break
        line = position


def _string(raw: bytes, version4: bool) -> str:
    text = raw.decode("cp1252" if version4 else "utf-16-le", "replace")
    # Up to the first NUL: the string's terminator, after which the buffer may hold anything. That is
    # what reg.exe, regedit and Python's winreg (on a live registry) return, so captures read the same.
    end = text.find("\x00")
    return text if end == -1 else text[:end]


def _strings(raw: bytes, version4: bool) -> list[str]:
    """A REG_MULTI_SZ: NUL-terminated strings, the list ended by an empty one (as the Win32 documentation
    defines it: an empty string cannot be part of the list)."""
    strings: list[str] = []
    for text in raw.decode("cp1252" if version4 else "utf-16-le", "replace").split("\x00"):
        if not text:
            break
        strings.append(text)
    return strings


def _typed(kind: int, raw: bytes, version4: bool) -> RegValue:
    if kind in (REG_SZ, REG_EXPAND_SZ):
        return kind, _string(raw, version4)
    if kind == REG_MULTI_SZ:
        return kind, _strings(raw, version4)
    if kind == REG_DWORD:
        return kind, int.from_bytes(raw[:4], "little")
    if kind == REG_QWORD:
        return kind, int.from_bytes(raw[:8], "little")
    return kind, raw


def _value(text: str, line: int, version4: bool, lines: list[str], position: int) -> tuple[RegValue | None, int]:
    """The value whose data starts ``text`` (what follows ``=``), None for ``-`` (delete it); and the index
    of the line after it in ``lines``."""
    if text[:1] == '"':
        quoted = _quoted(text, 1)
        if quoted is None:
            raise RegFileError(line, "unterminated string")
        string, end = quoted
        if not _rest_is_empty(text[end:]):
            raise RegFileError(line, "unexpected text after the string")
        return (REG_SZ, string), position
    if text[:1] == "-" and _rest_is_empty(text[1:]):
        return None, position
    if text.startswith("dword:"):
        digits = text[6:].partition(";")[0].strip(" \t\r")
        if len(digits) > 8 or not _is_hex(digits):
            raise RegFileError(line, f"bad dword {digits[:20]!r}: 1 to 8 hex digits expected")
        return (REG_DWORD, int(digits, 16)), position
    if text.startswith("hex:"):
        kind, data = REG_BINARY, text[4:]
    elif text.startswith("hex("):
        close = text.find("):", 4)
        number = text[4:close]
        if close == -1 or len(number) > 8 or not _is_hex(number):
            raise RegFileError(line, f"bad value type {text[: close + 2 if close != -1 else 12]!r}")
        kind, data = int(number, 16), text[close + 2 :]
    elif not text.strip(" \t\r"):
        raise RegFileError(line, "no data after '='")
    else:
        raise RegFileError(line, f"unknown value type {text[:12]!r}")
    raw, position = _hex_data(data, line, lines, position)
    return _typed(kind, raw, version4), position


def _key_path(text: str, line: int) -> str:
    """The key path of a header's text (between ``[`` and ``]``), with its root spelt out in full."""
    root, separator, rest = text.partition("\\")
    # isascii: str.upper maps a few non-ASCII letters to ASCII ones (U+017F, the long s, to "S"); Windows
    # does not.
    full = _ROOTS.get(root.upper()) if root.isascii() else None
    if full is None:
        raise RegFileError(line, f"unknown root key {root[:40]!r}")
    return full + separator + rest


class _Node:
    """A key in the tree ``_Keys`` keeps once keys are deleted: its subkeys by lower-cased name, and its
    lower-cased path when the file opened it (an ancestor only named in a deeper key's path has none)."""

    __slots__ = ("children", "key")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.key: str | None = None


class _Keys:
    """The keys read so far. As in the registry, paths are compared without regard to case (the first
    spelling is kept), and so are value names within a key."""

    __slots__ = ("by_path", "_known", "_tree")

    def __init__(self) -> None:
        self.by_path: RegKeys = {}
        # By lower-cased path: the path as first written, its values, and their names by lower-cased name.
        self._known: dict[str, tuple[str, dict[str, RegValue], dict[str, str]]] = {}
        # The keys as a tree, made only once a key is deleted: deleting a key with its subkeys then costs
        # what they hold, and adding a key what its path holds, so a file of many deletions and keys takes
        # time in proportion to its size (a sorted list of paths took the square of it).
        self._tree: _Node | None = None

    def open(self, path: str) -> tuple[dict[str, RegValue], dict[str, str]]:
        lower = path.lower()
        entry = self._known.get(lower)
        if entry is not None:
            return entry[1], entry[2]
        values: dict[str, RegValue] = {}
        names: dict[str, str] = {}
        self.by_path[path] = values
        self._known[lower] = (path, values, names)
        if self._tree is not None:
            self._add(self._tree, lower)
        return values, names

    @staticmethod
    def _add(tree: _Node, lower: str) -> None:
        node = tree
        for name in lower.split("\\"):
            child = node.children.get(name)
            if child is None:
                child = node.children[name] = _Node()
            node = child
        node.key = lower

    def delete(self, path: str) -> None:
        """Delete the key ``path`` and every key below it."""
        if self._tree is None:
            self._tree = _Node()
            for lower in self._known:
                self._add(self._tree, lower)
        names = path.lower().split("\\")
        parent: _Node | None = self._tree
        for name in names[:-1]:
            parent = parent.children.get(name) if parent is not None else None
        doomed = parent.children.pop(names[-1], None) if parent is not None else None
        stack = [doomed] if doomed is not None else []
        while stack:  # a loop, not recursion: a key may be thousands of levels deep
            node = stack.pop()
            if node.key is not None:
                del self.by_path[self._known.pop(node.key)[0]]
            stack.extend(node.children.values())


def _whole_string(inner: str) -> str | None:
    """The text of a string value whose quotes enclose ``inner`` and nothing else on the line, escapes
    undone; None when ``inner`` holds a quote that is not escaped, or ends escaping the closing quote.

    Paths make most strings in an export hold backslashes; replacing pairs is much faster than walking
    the escapes one by one (which ``_quoted`` does for the rare other lines)."""
    if "\x00" in inner:
        return None  # the stand-in below must not occur in the text
    text = inner.replace("\\\\", "\x00")  # left to right, as the escapes pair up
    if text.endswith("\\") or text.count('"') != text.count('\\"'):
        return None
    return text.replace('\\"', '"').replace("\x00", "\\")


def _value_line(line: str, number: int, version4: bool, lines: list[str]) -> tuple[str, RegValue | None, int]:
    """The name and value of a ``"name"=data`` or ``@=data`` line (value None for ``=-``: delete it), and
    the index in ``lines`` of the line after it."""
    if line[0] == "@":
        name, rest = "", line[1:]
    else:
        quote = line.find('"', 1)
        if quote != -1 and line.find("\\", 1, quote) == -1:
            name, rest = line[1:quote], line[quote + 1 :]  # nothing escaped in the name
        else:
            quoted = _quoted(line, 1)
            if quoted is None:
                raise RegFileError(number, "unterminated value name")
            name, end = quoted
            rest = line[end:]
    rest = rest.lstrip(_BLANKS)
    if rest[:1] != "=":
        raise RegFileError(number, "'=' expected after the value name")
    data = rest[1:].lstrip(_BLANKS)
    if len(data) > 1 and data[0] == '"' and data[-1] == '"':
        text = _whole_string(data[1:-1])
        if text is not None:
            return name, (REG_SZ, text), number
    value, position = _value(data, number, version4, lines, number)
    return name, value, position


def _parse_lines(lines: list[str], version4: bool) -> RegKeys:
    keys = _Keys()
    values: dict[str, RegValue] | None = None
    names: dict[str, str] = {}
    position = 1  # the header, line 1, was checked by _decode
    count = len(lines)
    while position < count:
        line = lines[position]
        position += 1  # now the 1-based number of this line
        first = line[:1]
        if first not in ('"', "[", "@"):  # a blank line, a comment, or one with leading blanks
            line = line.rstrip("\r").lstrip(_BLANKS)
            if not line or line[0] == ";":
                continue
            first = line[0]
        if first == "[":
            line = line.rstrip("\r")
            end = line.rfind("]")  # the last one: a key name may contain ']'
            if end == -1:
                raise RegFileError(position, "key header without a closing ']'")
            if not _rest_is_empty(line[end + 1 :]):
                raise RegFileError(position, "text after the key header's ']'")
            if line[1:2] == "-":
                keys.delete(_key_path(line[2:end], position))
                values = None
            else:
                values, names = keys.open(_key_path(line[1:end], position))
            continue
        if first not in ('"', "@"):
            raise RegFileError(position, f"not a key, a value or a comment: {line[:40]!r}")
        if values is None:
            raise RegFileError(position, "value outside any key")
        value: RegValue | None = None
        parsed = False
        if first == '"':
            # The usual lines, "name"="text", "name"=dword:0000001f and "name"=hex:..., are read with one
            # split: a third of the time of the general path.
            parts = line.split('"')
            if len(parts) >= 5 and parts[2] == "=" and not parts[-1] and "\\" not in parts[1]:
                text: str | None = parts[3]
                if len(parts) > 5:  # escaped quotes: a quoted command line
                    text = _whole_string('"'.join(parts[3:-1]))
                elif "\\" in parts[3]:  # a path: every backslash doubled, unless hand-written
                    doubled = parts[3].count("\\") == 2 * parts[3].count("\\\\")
                    text = parts[3].replace("\\\\", "\\") if doubled else _whole_string(parts[3])
                if text is not None:
                    name, value, parsed = parts[1], (REG_SZ, text), True
            elif len(parts) == 3 and parts[2][:1] == "=" and "\\" not in parts[1]:
                name, data, parsed = parts[1], parts[2][1:], True
                if data.startswith("dword:") and len(data) == 14 and not data[6:].strip(_HEX_DIGITS):
                    value = REG_DWORD, int(data[6:], 16)
                else:
                    value, position = _value(data.lstrip(_BLANKS), position, version4, lines, position)
        if not parsed:
            name, value, position = _value_line(line, position, version4, lines)
        lower = name.lower()
        written = names.get(lower)
        if value is None:
            if written is not None:
                del values[written], names[lower]
        elif written is None:
            names[lower] = name
            values[name] = value
        else:
            values[written] = value
    return keys.by_path


def parse_reg(data: bytes) -> RegKeys:
    """Keys by full path as written (``HKEY_LOCAL_MACHINE\\SOFTWARE\\Mozilla``; an abbreviated root such as
    ``HKLM`` spelt out), each a dict of value name (``""`` for the default value ``@``) to ``(type, data)``.

    Data: REG_SZ and REG_EXPAND_SZ a str (up to the first NUL), REG_MULTI_SZ a list of str, REG_DWORD and
    REG_QWORD an int, anything else bytes. A key that appears twice is merged, and ``[-KEY]`` deletes
    the key and its subkeys seen so far; as in the registry, key paths and value names are compared
    without regard to case, and the first spelling is kept. Raises ``RegFileError`` naming the line.
    """
    text, version4 = _decode(data)
    # One replace over the whole text is cheaper than taking the CR off every line.
    lines = text.replace("\r\n", "\n").split("\n")
    # A last line with no line end may have been cut in the middle; a file cut after a complete line is
    # valid (regedit writes key by key, and an export can be interrupted).
    cut = lines[-1] not in ("", "\r")
    try:
        return _parse_lines(lines, version4)
    except RegFileError as error:
        if cut and error.line == len(lines) and "truncated" not in error.reason:
            reason = f"truncated export (the file ends inside this line): {error.reason}"
            raise RegFileError(error.line, reason) from None
        raise

"""A version value type for the strings vendors and distributions really write.

``packaging.version.Version`` follows PEP 440 and rejects most client software versions. This type reads
them instead: it drops what a distribution adds (Debian/RPM epochs and revisions, Alpine's ``-r0``,
FreeBSD's ``,1``, repack markers like ``+dfsg``), keeps ``esr`` as a track hint, compares numeric segments
as numbers (``24.002.20933`` < ``24.10.1``) and refuses what it cannot read rather than guessing.
"""

from __future__ import annotations

__all__ = ["Version", "VersionError"]

_MAX_LENGTH = 200

# The grammar, as a regular expression (tests/unit/test_version.py checks the scanner below against it):
#
#   \s* (?:(?P<epoch>\d{1,9}):)? [vV]?
#   (?P<release>\d{1,18}(?:\.\d{1,18}){0,15})
#   (?: (?P<esr>esr) | \.?(?P<pre>alpha|beta|pre|rc|a|b)\.?(?P<pre_n>\d{0,9}) )?
#   (?:~(?P<tilde>[0-9A-Za-z.]{1,40}))?            Debian pre-release marker inside upstream: 1.0~rc1
#   (?:\+[0-9A-Za-z.~+]{1,60})?                    repack or snapshot metadata: +dfsg, +ds2, +git2022…
#   (?:[-,_](?P<revision>[0-9A-Za-z.~+_]{1,60}))?  distribution revision: -1~deb12u1, -r0, ,1, -1.fc41
#   (?:\s+\((?P<paren>[0-9A-Za-z.]{1,40})\))?      "17.5 (19618.2.12.11.6)" build, "13.3.1 (a)" RSR
#   \s*                                            (ASCII only: fullwidth digits are refused)
#
# It is scanned by hand because compiling that expression took longer (1 ms) than every version of a
# run takes to parse, and the agent starts at every login.

_SPACE = frozenset(" \t\n\r\f\v")
_DIGITS = frozenset("0123456789")
_ALNUM_DOT = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.")
_PLUS_CHARS = _ALNUM_DOT | frozenset("~+")
_REVISION_CHARS = _PLUS_CHARS | frozenset("_")
_PRE_WORDS = ("alpha", "beta", "pre", "rc", "a", "b")  # longest first where one is a prefix of another


_PRE_RANK = {"~": 0, "alpha": 1, "a": 1, "beta": 2, "b": 2, "pre": 2, "rc": 3}


def _spelled_prerelease(tilde: str) -> tuple[str, str] | None:
    """``rc1`` -> (``rc``, ``1``) where a Debian ``~`` part spells a pre-release (alpha|beta|pre|rc|a|b,
    an optional dot, up to nine digits), else None."""
    for word in _PRE_WORDS:
        if tilde.startswith(word):
            rest = tilde[len(word) :]
            rest = rest[1:] if rest.startswith(".") else rest
            if len(rest) <= 9 and all(c in _DIGITS for c in rest):
                return word, rest
    return None


class _Parts:
    """What the scanner found: the grammar's groups, and where the vendor's own spelling ends."""

    __slots__ = ("epoch", "esr", "paren", "plus", "pre", "pre_n", "release", "revision", "tilde", "vendor_text")

    def __init__(self) -> None:
        self.epoch: str | None = None
        self.release = ""
        self.esr = False
        self.pre: str | None = None
        self.pre_n = ""
        self.tilde: str | None = None
        self.revision: str | None = None
        self.paren: str | None = None
        self.plus: str | None = None
        self.vendor_text = ""


def _run(text: str, start: int, allowed: frozenset[str]) -> int:
    """The end of the run of ``allowed`` characters starting at ``start``."""
    end = start
    while end < len(text) and text[end] in allowed:
        end += 1
    return end


def _scan(text: str) -> _Parts | None:
    parts = _Parts()
    end = len(text)
    while end > 0 and text[end - 1] in _SPACE:
        end -= 1
    position = _run(text, 0, _SPACE)
    text = text[:end]
    digits_end = _run(text, position, _DIGITS)
    if position < digits_end <= position + 9 and text[digits_end : digits_end + 1] == ":":
        parts.epoch = text[position:digits_end]
        position = digits_end + 1
    if text[position : position + 1] in ("v", "V"):
        position += 1
    release_start = position
    for segment in range(16):
        digits_end = _run(text, position, _DIGITS)
        if not position < digits_end <= position + 18:
            return None
        position = digits_end
        if segment == 15 or text[position : position + 1] != "." or text[position + 1 : position + 2] not in _DIGITS:
            break
        position += 1
    if text[position : position + 1] == "." and text[position + 1 : position + 2] in _DIGITS:
        return None  # a 17th segment
    parts.release = text[release_start:position]
    vendor_end = position
    if text.startswith("esr", position):
        parts.esr = True
        position += 3
        vendor_end = position
    else:
        probe = position + 1 if text[position : position + 1] == "." else position
        word = next((w for w in _PRE_WORDS if text.startswith(w, probe)), None)
        if word is not None:
            parts.pre = word
            probe += len(word)
            if text[probe : probe + 1] == ".":
                probe += 1
            digits_end = _run(text, probe, _DIGITS)
            if digits_end - probe > 9:
                return None
            parts.pre_n = text[probe:digits_end]
            position = vendor_end = digits_end
    if text[position : position + 1] == "~":
        run_end = _run(text, position + 1, _ALNUM_DOT)
        if not position + 1 < run_end <= position + 41:
            return None
        parts.tilde = text[position + 1 : run_end]
        position = vendor_end = run_end
    if text[position : position + 1] == "+":
        run_end = _run(text, position + 1, _PLUS_CHARS)
        if not position + 1 < run_end <= position + 61:
            return None
        parts.plus = text[position + 1 : run_end]
        position = run_end
    if text[position : position + 1] in ("-", ",", "_"):
        run_end = _run(text, position + 1, _REVISION_CHARS)
        if not position + 1 < run_end <= position + 61:
            return None
        parts.revision = text[position + 1 : run_end]
        position = run_end
    if position < len(text) and text[position] in _SPACE:
        position = _run(text, position, _SPACE)
        run_end = _run(text, position + 1, _ALNUM_DOT)
        if text[position : position + 1] != "(" or text[run_end : run_end + 1] != ")":
            return None
        if not position + 1 < run_end <= position + 41:
            return None
        parts.paren = text[position + 1 : run_end]
        position = run_end + 1
    parts.vendor_text = text[release_start:vendor_end]
    return parts if position == len(text) else None


def _plain(text: str) -> bool:
    """Only dot-separated ASCII digits: 1 to 16 segments of 1 to 18 digits."""
    if len(text) > _MAX_LENGTH or not text.isascii():
        return False
    segments = text.split(".")
    return len(segments) <= 16 and all(0 < len(part) <= 18 and part.isdigit() for part in segments)


class VersionError(ValueError):
    """A string that is not a version this type can read."""


_Key = tuple[tuple[int, ...], tuple[object, ...], str]


class Version:
    """A parsed version. ``str()`` gives the vendor version; ``raw`` keeps the input as written."""

    __slots__ = ("_key", "build", "epoch", "is_esr", "raw", "release", "revision", "vendor")

    raw: str
    vendor: str
    release: tuple[int, ...]
    epoch: int | None
    revision: str | None
    build: str | None
    is_esr: bool
    _key: _Key

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise VersionError(f"not a version: {text!r}")
        if _plain(text):
            # "153.6", "10.0.26100": most versions in rule files. The scanner would find exactly this; a
            # test holds the two paths to the same result.
            self.raw = self.vendor = text
            self.release = release = tuple(int(part) for part in text.split("."))
            self.epoch = self.revision = self.build = None
            self.is_esr = False
            end = len(release)
            while end > 1 and release[end - 1] == 0:
                end -= 1  # 12 == 12.0 == 12.0.0
            self._key = (release[:end], (1,), "")
            return
        if len(text) > _MAX_LENGTH:
            raise VersionError(f"not a version (longer than {_MAX_LENGTH} characters): {text[:40]!r}…")
        parts = _scan(text)
        if parts is None:
            raise VersionError(f"not a version: {text!r}")
        if parts.plus and parts.plus.startswith("really"):
            # Debian's "2.0+really1.9-1": a downgrade packaged under a higher number; 1.9 is what it is.
            real = _scan(parts.plus[len("really") :])
            if real is None:
                raise VersionError(f"not a version (unreadable after '+really'): {text!r}")
            real.epoch, real.revision = parts.epoch, parts.revision
            parts = real
        self.raw = text
        self.release = tuple(int(part) for part in parts.release.split("."))
        self.epoch = int(parts.epoch) if parts.epoch is not None else None
        self.revision = parts.revision
        self.is_esr = parts.esr

        pre_key: tuple[object, ...] = (1,)  # a final release sorts after all of its pre-releases
        if parts.pre:
            pre_key = (0, _PRE_RANK[parts.pre], int(parts.pre_n) if parts.pre_n else 0, "")
        tilde = parts.tilde
        if tilde is not None and pre_key == (1,):
            spelled = _spelled_prerelease(tilde)
            if spelled:
                pre_key = (0, _PRE_RANK[spelled[0]], int(spelled[1]) if spelled[1] else 0, "")
            else:
                pre_key = (0, _PRE_RANK["~"], 0, tilde)
        # The vendor's spelling runs from the first digit to the end of the pre-release or tilde part.
        vendor = parts.vendor_text

        paren = parts.paren
        rsr = ""
        self.build = None
        if paren is not None:
            if len(paren) == 1 and "a" <= paren <= "z":
                rsr = paren  # macOS Rapid Security Response: 13.3.1 (a) sits between 13.3.1 and 13.3.2
            elif paren[:1].isdigit():
                self.build = paren
            else:
                raise VersionError(f"not a version (unexpected {paren!r} in parentheses): {text!r}")
            vendor += f" ({paren})"
        self.vendor = vendor

        trimmed = list(self.release)
        while len(trimmed) > 1 and trimmed[-1] == 0:
            trimmed.pop()  # 12 == 12.0 == 12.0.0
        self._key = (tuple(trimmed), pre_key, rsr)

    # Construction helpers -------------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str) -> Version:
        return cls(text)

    @classmethod
    def try_parse(cls, text: str | None) -> Version | None:
        """The version, or None where ``text`` is missing or unreadable."""
        if text is None:
            return None
        try:
            return cls(text)
        except VersionError:
            return None

    # Value semantics --------------------------------------------------------------------------------------

    @property
    def major(self) -> int:
        return self.release[0]

    @property
    def is_prerelease(self) -> bool:
        return self._key[1][0] == 0

    def __str__(self) -> str:
        return self.vendor

    def __repr__(self) -> str:
        return f"Version({self.raw!r})"

    def __hash__(self) -> int:
        return hash(self._key)

    def _other_key(self, other: object) -> _Key | None:
        if isinstance(other, Version):
            return other._key
        return None

    def __eq__(self, other: object) -> bool:
        key = self._other_key(other)
        return NotImplemented if key is None else self._key == key

    def __lt__(self, other: Version) -> bool:
        key = self._other_key(other)
        return NotImplemented if key is None else _compare(self._key, key) < 0

    def __le__(self, other: Version) -> bool:
        key = self._other_key(other)
        return NotImplemented if key is None else _compare(self._key, key) <= 0

    def __gt__(self, other: Version) -> bool:
        key = self._other_key(other)
        return NotImplemented if key is None else _compare(self._key, key) > 0

    def __ge__(self, other: Version) -> bool:
        key = self._other_key(other)
        return NotImplemented if key is None else _compare(self._key, key) >= 0


def _compare(left: _Key, right: _Key) -> int:
    # Tuples of mixed int/str would not compare in Python; every position here holds one type, but
    # spelling the order out keeps it obviously total.
    for mine, theirs in zip(left, right, strict=True):
        if mine != theirs:
            return -1 if mine < theirs else 1  # type: ignore[operator]
    return 0

"""A version value type for the strings vendors and distributions really write.

``packaging.version.Version`` follows PEP 440 and rejects most client software versions. This type reads
them instead: it drops what a distribution adds (Debian/RPM epochs and revisions, Alpine's ``-r0``,
FreeBSD's ``,1``, repack markers like ``+dfsg``), keeps ``esr`` as a track hint, compares numeric segments
as numbers (``24.002.20933`` < ``24.10.1``) and refuses what it cannot read rather than guessing.
"""

from __future__ import annotations

import re

__all__ = ["Version", "VersionError"]

_MAX_LENGTH = 200

# One regular expression without nested quantifiers, so arbitrary input cannot make it backtrack badly.
# Segments are capped at 18 digits: they fit in a machine word and never hit int()'s digit limit.
_PATTERN = re.compile(
    r"""
    \s*
    (?:(?P<epoch>\d{1,9}):)?                       # Debian/RPM epoch: "4:" (a distribution's, dropped)
    [vV]?
    (?P<release>\d{1,18}(?:\.\d{1,18}){0,15})      # the numbers that are compared
    (?:
        (?P<esr>esr)                               # Firefox ESR: a track hint, not an ordering
      | \.?(?P<pre>alpha|beta|pre|rc|a|b)\.?(?P<pre_n>\d{0,9})   # 154.0b3, 2.0rc1, 1.0alpha2
    )?
    (?:~(?P<tilde>[0-9A-Za-z.]{1,40}))?            # Debian pre-release marker inside upstream: 1.0~rc1
    (?:\+[0-9A-Za-z.~+]{1,60})?                    # repack or snapshot metadata: +dfsg, +ds2, +git2022...
    (?:[-,_](?P<revision>[0-9A-Za-z.~+_]{1,60}))?  # distribution revision: -1~deb12u1, -r0, ,1, -1.fc41
    (?:\s+\((?P<paren>[0-9A-Za-z.]{1,40})\))?      # "17.5 (19618.2.12.11.6)" build, "13.3.1 (a)" RSR
    \s*
    """,
    re.VERBOSE | re.ASCII,  # ASCII only: fullwidth or Arabic-Indic digits are refused, not read as 0-9
)

_PRE_RANK = {"~": 0, "alpha": 1, "a": 1, "beta": 2, "b": 2, "pre": 2, "rc": 3}
_PRE_SPELLING = re.compile(r"(alpha|beta|pre|rc|a|b)\.?(\d{0,9})")
_RSR = re.compile(r"[a-z]")


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
        if len(text) > _MAX_LENGTH:
            raise VersionError(f"not a version (longer than {_MAX_LENGTH} characters): {text[:40]!r}…")
        match = _PATTERN.fullmatch(text)
        if match is None:
            raise VersionError(f"not a version: {text!r}")
        groups = match.groupdict()
        release_text: str = groups["release"]
        self.raw = text
        self.release = tuple(int(part) for part in release_text.split("."))
        self.epoch = int(groups["epoch"]) if groups["epoch"] is not None else None
        self.revision = groups["revision"]
        self.is_esr = groups["esr"] is not None

        pre_key: tuple[object, ...] = (1,)  # a final release sorts after all of its pre-releases
        if groups["pre"]:
            number = int(groups["pre_n"]) if groups["pre_n"] else 0
            pre_key = (0, _PRE_RANK[groups["pre"]], number, "")
        tilde = groups["tilde"]
        if tilde is not None and pre_key == (1,):
            spelled = _PRE_SPELLING.fullmatch(tilde)
            if spelled:
                number = int(spelled.group(2)) if spelled.group(2) else 0
                pre_key = (0, _PRE_RANK[spelled.group(1)], number, "")
            else:
                pre_key = (0, _PRE_RANK["~"], 0, tilde)
        # The vendor's spelling runs from the first digit to the end of the pre-release or tilde part.
        vendor_end = max(match.end(name) for name in ("release", "esr", "pre_n", "tilde"))
        vendor = text[match.start("release") : vendor_end]

        paren = groups["paren"]
        rsr = ""
        self.build = None
        if paren is not None:
            if _RSR.fullmatch(paren):
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


def as_version(value: Version | str) -> Version:
    return value if isinstance(value, Version) else Version(value)

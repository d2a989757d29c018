"""Linux kernel release strings (``uname -r``) as distributions write them, to tell whether a newer kernel of
the running one's line is installed.

Real examples: Debian ``6.1.0-27-amd64``, ``6.1.0-27-cloud-amd64``, ``6.12.38+deb13-amd64``,
``6.12.12+bpo-amd64``; Ubuntu ``6.8.0-45-generic``, ``6.8.0-1015-aws``; Fedora ``6.11.4-301.fc41.x86_64``;
RHEL ``5.14.0-427.13.1.el9_4.x86_64``; Arch ``6.11.5-arch1-1``, ``6.6.58-1-lts``, ``6.11.5-zen1-1-zen``;
openSUSE ``6.4.0-150600.23.25-default``; Raspberry Pi OS ``6.6.51+rpt-rpi-v8``.

A release is read as runs of numbers and of letters. The letter runs are its *flavour* (``amd64`` gives
"amd", ``cloud-amd64`` "cloud amd", ``fc41.x86_64`` "fc x"): a kernel supersedes only one of its own flavour
(a cloud kernel does not replace a generic one, a backports kernel not a stable one), while Fedora's ``fc41``
and ``fc42`` stay one line because the digits are not part of the flavour. The numbers between the letter
runs, group by group, order the releases of one flavour: ``6.1.0-27`` < ``6.1.0-28``, ``arch1-1`` <
``arch2-1``, ``427.13.1.el9_4`` < ``503.11.1.el9_5``.
"""

from __future__ import annotations

from clientcheck.record import Record

_MAX_LENGTH = 200
_DIGITS = frozenset("0123456789")
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_SEPARATORS = frozenset(".-+_~")  # what kernel builds put between the parts (a git build ends in "+")
_ALLOWED = _DIGITS | _LETTERS | _SEPARATORS


class KernelRelease(Record):
    __slots__ = ("text", "flavour", "key")

    text: str
    flavour: tuple[str, ...]  # the letter runs, lower case
    key: tuple[tuple[int, ...], ...]  # the numbers between them, one group per gap

    def __init__(self, text: str, flavour: tuple[str, ...], key: tuple[tuple[int, ...], ...]) -> None:
        self._set(locals())

    def same_line(self, other: KernelRelease) -> bool:
        return self.flavour == other.flavour

    def newer_than(self, other: KernelRelease) -> bool:
        """Whether this is a later release of the same line as ``other``."""
        return self.same_line(other) and self.key > other.key


def parse_release(text: str) -> KernelRelease | None:
    """The release, or None for text that is not one: it starts with a digit, is short, and holds only ASCII
    letters, digits and ``.-+_~`` (no blanks, no path separators).

    The separators only separate numbers: ``6.1.0-27`` and ``6_1_0+27`` read alike, which is harmless
    because both sides of a comparison come from the same distribution.
    """
    if not text or len(text) > _MAX_LENGTH or text[0] not in _DIGITS or not set(text) <= _ALLOWED:
        return None
    words: list[str] = []
    groups: list[tuple[int, ...]] = []
    numbers: list[int] = []
    position = 0
    while position < len(text):
        char = text[position]
        end = position + 1
        if char in _DIGITS:
            while end < len(text) and text[end] in _DIGITS:
                end += 1
            if end - position > 18:
                return None  # not a kernel's number; keeps comparisons on sane integers
            numbers.append(int(text[position:end]))
        elif char in _LETTERS:
            while end < len(text) and text[end] in _LETTERS:
                end += 1
            groups.append(tuple(numbers))
            numbers = []
            words.append(text[position:end].lower())
        position = end
    groups.append(tuple(numbers))
    return KernelRelease(text, tuple(words), tuple(groups))

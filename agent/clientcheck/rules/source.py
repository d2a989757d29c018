"""Where a rule file comes from, and what happens when the requested one cannot be used."""

from __future__ import annotations

import os
import stat

from clientcheck import dates as dt
from clientcheck.errors import RulesError
from clientcheck.model import RuleSet, RulesInfo
from clientcheck.record import Record
from clientcheck.rules.validate import InvalidRuleFileError, parse_rules

BUNDLED = "bundled"
MAX_RULE_FILE_BYTES = 4 * 1024 * 1024


class LoadedRules(Record):
    __slots__ = ("ruleset", "info", "warnings")

    ruleset: RuleSet
    info: RulesInfo
    warnings: tuple[str, ...]

    def __init__(self, ruleset: RuleSet, info: RulesInfo, warnings: tuple[str, ...] = ()) -> None:
        self._set(locals())


def bundled_rules_path() -> str:
    package_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    installed = os.path.join(package_dir, "data", "default-rules.json")
    if os.path.isfile(installed):
        return installed
    # Running from a source checkout (not an installed wheel): the file sits at the top of the repository.
    return os.path.join(os.path.dirname(os.path.dirname(package_dir)), "rules", "default.json")


def sha256_hex(data: bytes) -> str:
    # hashlib loads OpenSSL, a few milliseconds of every run; CPython's own SHA-256 module is built in.
    try:
        from _sha2 import sha256  # type: ignore[import-not-found,unused-ignore]  # CPython 3.12+
    except ImportError:
        try:
            from _sha256 import sha256  # type: ignore[import-not-found,no-redef,unused-ignore]  # CPython 3.11
        except ImportError:
            from hashlib import sha256  # type: ignore[assignment,unused-ignore]
    digest: str = sha256(data).hexdigest()
    return digest


def read_rule_file(path: str) -> tuple[RuleSet, bytes]:
    """Read and validate one rule file. Raises ``RulesError`` naming the file and every problem."""
    try:
        with open(path, "rb") as stream:
            # A regular file's size is known: read() it whole, as read(limit + 1) would allocate the limit.
            # A pipe (--rules <(…)) has no size: read at most the limit.
            regular = stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
            data = (
                stream.read()
                if regular and os.fstat(stream.fileno()).st_size <= MAX_RULE_FILE_BYTES
                else stream.read(MAX_RULE_FILE_BYTES + 1)
            )
    except OSError as error:
        raise RulesError(path, [f"cannot read: {error.strerror or error}"]) from None
    if len(data) > MAX_RULE_FILE_BYTES:
        raise RulesError(path, [f"larger than {MAX_RULE_FILE_BYTES // 1024 // 1024} MiB"])
    try:
        return parse_rules(data), data
    except InvalidRuleFileError as invalid:
        raise RulesError(path, invalid.problems) from None


def _info(ruleset: RuleSet, data: bytes, source: str, today: dt.date, fallback: str | None) -> RulesInfo:
    return RulesInfo(
        source=source,
        serial=ruleset.serial,
        sha256=sha256_hex(data),
        publisher=ruleset.publisher,
        published=ruleset.published,
        expires=ruleset.expires,
        stale=today > ruleset.expires,
        fallback_reason=fallback,
    )


def _local_path(requested: str) -> str:
    if "://" in requested:
        raise RulesError(requested, ["only a local file path is supported here, not a URL"])
    return requested


def load_rules(requested: str | None, today: dt.date) -> LoadedRules:
    """The rules to judge by: the requested file, else the bundled one, saying why in ``fallback_reason``.

    A run never fails because a requested rule file is bad: the report says which rules it used instead.
    Only when the bundled file itself is unusable does this raise ``RulesError``.
    """
    warnings: list[str] = []
    fallback: str | None = None
    if requested is not None and requested != BUNDLED:
        try:
            ruleset, data = read_rule_file(_local_path(requested))
            return LoadedRules(ruleset, _info(ruleset, data, requested, today, None))
        except RulesError as error:
            fallback = f"{error.message}; using the bundled rules instead"
            warnings.append(fallback)
    ruleset, data = read_rule_file(bundled_rules_path())
    return LoadedRules(ruleset, _info(ruleset, data, BUNDLED, today, fallback), tuple(warnings))

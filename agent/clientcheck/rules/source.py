"""Where a rule file comes from, and what happens when the requested one cannot be used."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from clientcheck.errors import RulesError
from clientcheck.model import RuleSet, RulesInfo
from clientcheck.rules.validate import InvalidRuleFileError, parse_rules

BUNDLED = "bundled"
MAX_RULE_FILE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class LoadedRules:
    ruleset: RuleSet
    info: RulesInfo
    warnings: tuple[str, ...] = ()


def bundled_rules_path() -> Path:
    package_dir = Path(__file__).resolve().parent.parent
    installed = package_dir / "data" / "default-rules.json"
    if installed.is_file():
        return installed
    # Running from a source checkout (not an installed wheel): the file sits at the top of the repository.
    return package_dir.parent.parent / "rules" / "default.json"


def read_rule_file(path: Path) -> tuple[RuleSet, bytes]:
    """Read and validate one rule file. Raises ``RulesError`` naming the file and every problem."""
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_RULE_FILE_BYTES + 1)
    except OSError as error:
        raise RulesError(str(path), [f"cannot read: {error.strerror or error}"]) from None
    if len(data) > MAX_RULE_FILE_BYTES:
        raise RulesError(str(path), [f"larger than {MAX_RULE_FILE_BYTES // 1024 // 1024} MiB"])
    try:
        return parse_rules(data), data
    except InvalidRuleFileError as invalid:
        raise RulesError(str(path), invalid.problems) from None


def _info(ruleset: RuleSet, data: bytes, source: str, today: dt.date, fallback: Optional[str]) -> RulesInfo:
    return RulesInfo(
        source=source,
        serial=ruleset.serial,
        sha256=hashlib.sha256(data).hexdigest(),
        publisher=ruleset.publisher,
        published=ruleset.published,
        expires=ruleset.expires,
        stale=today > ruleset.expires,
        fallback_reason=fallback,
    )


def _local_path(requested: str) -> Path:
    if "://" in requested:
        raise RulesError(requested, ["only a local file path is supported here, not a URL"])
    return Path(requested)


def load_rules(requested: Optional[str], today: dt.date) -> LoadedRules:
    """The rules to judge by: the requested file, else the bundled one, saying why in ``fallback_reason``.

    A run never fails because a requested rule file is bad: the report says which rules it used instead.
    Only when the bundled file itself is unusable does this raise ``RulesError``.
    """
    warnings: list[str] = []
    fallback: Optional[str] = None
    if requested is not None and requested != BUNDLED:
        try:
            ruleset, data = read_rule_file(_local_path(requested))
            return LoadedRules(ruleset, _info(ruleset, data, requested, today, None))
        except RulesError as error:
            fallback = f"{error.message}; using the bundled rules instead"
            warnings.append(fallback)
    ruleset, data = read_rule_file(bundled_rules_path())
    return LoadedRules(ruleset, _info(ruleset, data, BUNDLED, today, fallback), tuple(warnings))

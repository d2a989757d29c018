"""Rule files: find, read, verify and validate them into a ``RuleSet``."""

from clientcheck.rules.source import LoadedRules, bundled_rules_path, load_rules, read_rule_file
from clientcheck.rules.validate import SCHEMA_ID, InvalidRuleFileError, parse_rules

__all__ = [
    "SCHEMA_ID",
    "InvalidRuleFileError",
    "LoadedRules",
    "bundled_rules_path",
    "load_rules",
    "parse_rules",
    "read_rule_file",
]
